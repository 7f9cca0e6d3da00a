#!/usr/bin/python3
"""Decodes a `dasf-trace export --perfetto` file with an independent decoder
(Debian's protoc compiles tests/cli/perfetto_subset.proto, python3-protobuf
parses) and checks it against the source trace, given as `dasf-trace cat`
JSON lines.

Reading follows what Perfetto's trace processor does: compressed_packets
are inflated; each sequence has its interning tables (iids never redefined),
TracePacketDefaults (clock, default track) and clocks (64 incremental, others absolute, related to
BOOTTIME by the sequence's ClockSnapshot); track events are sorted by
(timestamp, file order) and slices are built per track with a stack (an
END closes the innermost open slice).  Checks: every packet decodes and
refers only to what was defined before it; slices nest on every track; the
slices are exactly the source's X events and B/E pairs (thread, name, ts,
dur, category, args), B's never closed are open slices; instants with
their scope's track; counters (track "name key" under the process, values
and times); async b/e/n on one track per (process, cat, id); flows s/t/f
share one flow id per (cat, id), f terminating; process and thread names
from M events.  Exit 0 when everything holds, else prints what differs.

--dump prints the decoded model (for debugging); --expect-lanes N checks
that the busiest thread has N tracks."""
import argparse
import collections
import decimal
import json
import os
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

ap = argparse.ArgumentParser()
ap.add_argument("pftrace")
ap.add_argument("source", help="dasf-trace cat output of the exported files")
ap.add_argument("--expect-lanes", type=int)
ap.add_argument("--expect-compressed", action="store_true")
ap.add_argument("--dump", action="store_true")
a = ap.parse_args()

tmp = tempfile.mkdtemp()
subprocess.run(["protoc", "-I", HERE, "--python_out", tmp, "perfetto_subset.proto"], check=True)
sys.path.insert(0, tmp)
import perfetto_subset_pb2 as pb  # noqa: E402

errors = []


def err(msg):
    errors.append(msg)


# ---- decoding ---------------------------------------------------------------

trace = pb.Trace()
trace.ParseFromString(open(a.pftrace, "rb").read())
packets = []
compressed = 0
for p in trace.packet:
    if p.HasField("compressed_packets"):
        compressed += 1
        inner = pb.Trace()
        inner.ParseFromString(zlib.decompress(p.compressed_packets))
        for q in inner.packet:
            if q.HasField("compressed_packets"):
                err("compressed_packets inside compressed_packets")
            packets.append(q)
    else:
        packets.append(p)
if a.expect_compressed and not compressed:
    err("no compressed_packets")

BOOTTIME = 6


class Seq:
    def __init__(self):
        self.valid = False
        self.tables = {"names": {}, "cats": {}, "anames": {}}
        self.ever = {"names": {}, "cats": {}, "anames": {}}
        self.default_clock = None
        self.default_track = None
        self.clock_off = {}  # clock id -> value to add to reach BOOTTIME
        self.incremental = set()
        self.last = {}


seqs = collections.defaultdict(Seq)
tracks = {}
events = []  # (ts, order, seq id, TrackEvent)


def intern(seq, table, entries):
    for e in entries:
        if e.iid == 0:
            err("iid 0 defined")
        old = seq.ever[table].get(e.iid)
        if old is not None and old != e.name:
            err("%s iid %d redefined (%r -> %r)" % (table, e.iid, old, e.name))
        seq.ever[table][e.iid] = e.name
        seq.tables[table][e.iid] = e.name


def resolve(seq, table, iid, what):
    v = seq.tables[table].get(iid)
    if v is None:
        err("%s iid %d used before it was defined (or after a reset)" % (what, iid))
    return v


for order, p in enumerate(packets):
    sid = p.trusted_packet_sequence_id
    if not sid:
        err("packet %d without trusted_packet_sequence_id" % order)
    s = seqs[sid]
    if p.sequence_flags & 1:
        s.valid = True
        for t in s.tables.values():
            t.clear()
        s.default_clock = None
        s.default_track = None
    if p.sequence_flags & 2 and not s.valid:
        err("packet %d needs incremental state before it was cleared" % order)
    if p.HasField("trace_packet_defaults"):
        d = p.trace_packet_defaults
        s.default_clock = d.timestamp_clock_id
        if d.HasField("track_event_defaults") and d.track_event_defaults.HasField("track_uuid"):
            s.default_track = d.track_event_defaults.track_uuid
    if p.HasField("interned_data"):
        d = p.interned_data
        intern(s, "names", d.event_names)
        intern(s, "cats", d.event_categories)
        intern(s, "anames", d.debug_annotation_names)
    if p.HasField("clock_snapshot"):
        cl = {c.clock_id: c for c in p.clock_snapshot.clocks}
        if BOOTTIME not in cl:
            err("clock snapshot without BOOTTIME")
            continue
        boot = cl[BOOTTIME].timestamp
        for cid, c in cl.items():
            s.clock_off[cid] = boot - c.timestamp
            if c.is_incremental:
                s.incremental.add(cid)
                s.last[cid] = c.timestamp
    if p.HasField("track_descriptor"):
        td = p.track_descriptor
        kind = ("process" if td.HasField("process") else "thread" if td.HasField("thread")
                else "counter" if td.HasField("counter") else "plain")
        d = {"uuid": td.uuid, "parent": td.parent_uuid if td.HasField("parent_uuid") else None,
             "kind": kind, "name": td.name if td.HasField("name") else None}
        if kind == "process":
            d["pid"] = td.process.pid
            d["pname"] = td.process.process_name if td.process.HasField("process_name") else None
        if kind == "thread":
            d["pid"], d["tid"] = td.thread.pid, td.thread.tid
            d["tname"] = td.thread.thread_name if td.thread.HasField("thread_name") else None
        old = tracks.get(td.uuid)
        if old and (old["kind"], old["parent"]) != (kind, d["parent"]):
            err("track %d described twice differently" % td.uuid)
        if old:  # a later descriptor may add a name
            for k in ("pname", "tname"):
                if d.get(k) is None and old.get(k) is not None:
                    d[k] = old[k]
        tracks[td.uuid] = d
    if p.HasField("track_event"):
        te = p.track_event
        cid = p.timestamp_clock_id if p.HasField("timestamp_clock_id") else s.default_clock
        if cid is None:
            cid = BOOTTIME
        if not p.HasField("timestamp"):
            err("track event without timestamp")
        if cid != BOOTTIME and cid not in s.clock_off:
            err("clock %d used without a snapshot on sequence %d" % (cid, sid))
            continue
        v = p.timestamp
        if cid in s.incremental:
            s.last[cid] += v
            v = s.last[cid]
        ts = v + s.clock_off.get(cid, 0)
        track = te.track_uuid if te.HasField("track_uuid") else s.default_track
        if track is None:
            err("event without a track on a sequence without a default track")
        if track not in tracks:
            err("event on track %r before its descriptor" % track)
        ev = {"type": te.type, "track": track, "ts": ts,
              "name": resolve(s, "names", te.name_iid, "name") if te.HasField("name_iid") else None,
              "cats": [resolve(s, "cats", i, "category") for i in te.category_iids],
              "flow": list(te.flow_ids), "term": list(te.terminating_flow_ids), "args": {}}
        if te.HasField("counter_value"):
            ev["value"] = te.counter_value
        elif te.HasField("double_counter_value"):
            ev["value"] = te.double_counter_value
        for da in te.debug_annotations:
            k = (resolve(s, "anames", da.name_iid, "annotation name") if da.HasField("name_iid")
                 else da.name)
            w = da.WhichOneof("value")
            val = getattr(da, w) if w else None
            if w == "legacy_json_value":
                val = json.loads(val)
            ev["args"][k] = val
        events.append((ts, order, ev))

# ---- trace processor's slice building ---------------------------------------

events.sort(key=lambda x: (x[0], x[1]))
slices, instants, counters = [], [], collections.defaultdict(list)
stacks = collections.defaultdict(list)
for ts, _, ev in events:
    tr = ev["track"]
    st = stacks[tr]
    if ev["type"] == 1:
        sl = dict(ev, depth=len(st), end=None, parent=st[-1] if st else None)
        st.append(sl)
        slices.append(sl)
    elif ev["type"] == 2:
        if not st:
            err("END at %d on track %d with no open slice" % (ts, tr))
            continue
        sl = st.pop()
        sl["end"] = ts
        sl["args"].update(ev["args"])
        par = sl["parent"]
        if par is not None and par["end"] is not None:
            err("misnested: %s closed after its parent %s" % (sl["name"], par["name"]))
    elif ev["type"] == 3:
        instants.append(dict(ev, depth=len(st)))
    elif ev["type"] == 4:
        if tracks.get(tr, {}).get("kind") != "counter":
            err("counter value on a non-counter track")
        counters[tr].append((ts, ev["value"]))
    else:
        err("event of type %r" % ev["type"])
for sl in slices:  # a child must not outlive its parent
    par = sl["parent"]
    if par is not None and par["end"] is not None and (sl["end"] is None or sl["end"] > par["end"]):
        err("misnested: %s [%d..%s] outlives its parent %s [%d..%d]" % (
            sl["name"], sl["ts"], sl["end"], par["name"], par["ts"], par["end"]))


def thread_of(uuid):
    """(pid, tid) of a thread track or of a lane under it."""
    seen = set()
    while uuid in tracks and uuid not in seen:
        seen.add(uuid)
        t = tracks[uuid]
        if t["kind"] == "thread":
            return (t["pid"], t["tid"])
        uuid = t["parent"]
    return None


def process_of(uuid):
    seen = set()
    while uuid in tracks and uuid not in seen:
        seen.add(uuid)
        t = tracks[uuid]
        if t["kind"] in ("process", "thread"):
            return t["pid"]
        uuid = t["parent"]
    return None


if a.dump:
    for t in tracks.values():
        print("track", t)
    for s in slices:
        print("slice", {k: s[k] for k in ("name", "track", "ts", "end", "depth", "cats", "args")})
    for i in instants:
        print("instant", {k: i[k] for k in ("name", "track", "ts", "flow", "term", "args")})
    for tr, vals in counters.items():
        print("counter", tracks[tr]["name"], vals)

# ---- the source -------------------------------------------------------------

src = [json.loads(line, parse_float=decimal.Decimal) for line in open(a.source) if line.strip()]


def ns(x):
    return int((decimal.Decimal(x) * 1000000000).to_integral_value(decimal.ROUND_HALF_EVEN))


def idtext(v):
    return "null" if v is None else str(v)


# the ids the exporter gives: ints 0..4194304 kept (first come), others
# synthetic; identify threads by names instead where the ids are synthetic
thread_tracks = {t["uuid"]: t for t in tracks.values() if t["kind"] == "thread"}
proc_tracks = {t["uuid"]: t for t in tracks.values() if t["kind"] == "process"}


def out_pid(pid):
    if isinstance(pid, int) and not isinstance(pid, bool) and 0 <= pid <= 4194304:
        return pid
    for t in proc_tracks.values():
        if t.get("pname") == idtext(pid) and t["pid"] > 4194304:
            return t["pid"]
    return None


pnames, tnames = {}, {}
for e in src:
    if e["phase"] == "M" and e["name"] in ("process_name", "thread_name"):
        (pnames if e["name"] == "process_name" else tnames)[
            (idtext(e["process_id"]), idtext(e["thread_id"]))] = e["args"]["name"]


def out_thread(pid, tid):
    """The exported (pid, tid): a small int tid is kept unless another
    process took it first; then (and for other ids) a synthetic tid named
    after the thread (its M name, else the id text)."""
    p = out_pid(pid)
    real = isinstance(tid, int) and not isinstance(tid, bool) and 0 <= tid <= 4194304
    if real and any(t["pid"] == p and t["tid"] == tid for t in thread_tracks.values()):
        return (p, tid)
    want = tnames.get((idtext(pid), idtext(tid)), idtext(tid))
    hits = [t["tid"] for t in thread_tracks.values()
            if t["pid"] == p and t["tid"] > 4194304 and t.get("tname") == want]
    return (p, hits[0] if len(hits) == 1 else None)


def norm_args(args):
    return json.loads(json.dumps(args, default=float)) if args else {}


def key_of(name, ts, dur, thread, cat, args):
    return (name, ts, dur, thread, cat, json.dumps(norm_args(args), sort_keys=True))


want_slices = collections.Counter()
open_b = collections.defaultdict(list)
# B/E pairing (docs/CLI.md): an E closes the most recent open B of its
# thread; on a thread with B's and no E at all (the Python module writes its
# end events with phase B) a B named like the most recent open B closes it.
has_e = {out_thread(e["process_id"], e["thread_id"]) for e in src if e["phase"] == "E"}
for e in src:
    th = out_thread(e["process_id"], e["thread_id"])
    if e["phase"] == "X":
        want_slices[key_of(e["name"], ns(e["timestamp"]), ns(e["duration"]), th, e.get("cat"),
                           e["args"])] += 1
    elif e["phase"] == "B" and th not in has_e and open_b[th] and \
            open_b[th][-1]["name"] == e["name"]:
        b = open_b[th].pop()
        args = dict(b["args"])
        args.update(e["args"])
        want_slices[key_of(b["name"], ns(b["timestamp"]), ns(e["timestamp"]) -
                           ns(b["timestamp"]), th, b.get("cat"), args)] += 1
    elif e["phase"] == "B":
        open_b[th].append(e)
    elif e["phase"] == "E":
        if open_b[th]:
            b = open_b[th].pop()
            args = dict(b["args"])
            args.update(e["args"])
            want_slices[key_of(b["name"], ns(b["timestamp"]), ns(e["timestamp"]) -
                               ns(b["timestamp"]), th, b.get("cat"), args)] += 1
for th, bs in open_b.items():
    for b in bs:
        want_slices[key_of(b["name"], ns(b["timestamp"]), None, th, b.get("cat"), b["args"])] += 1

got_slices = collections.Counter()
async_got = collections.Counter()
for s in slices:
    th = thread_of(s["track"])
    dur = None if s["end"] is None else s["end"] - s["ts"]
    k = key_of(s["name"], s["ts"], dur, th, s["cats"][0] if s["cats"] else None, s["args"])
    if th is None:
        async_got[(s["track"],) + k[:3] + k[4:]] += 1
    else:
        got_slices[k] += 1
if got_slices != want_slices:
    missing = want_slices - got_slices
    extra = got_slices - want_slices
    for k in list(missing)[:10]:
        err("slice missing: %r" % (k,))
    for k in list(extra)[:10]:
        err("slice not in the source: %r" % (k,))

# async: per (pid, cat, id) one track, b/e as slices, n as instants
async_tracks = {}
want_async = collections.Counter()
stack = collections.defaultdict(list)
for e in src:
    if e["phase"] in "ben":
        key = (out_pid(e["process_id"]), e.get("cat"), idtext(e.get("id")))
        if e["phase"] == "b":
            stack[key].append(e)
        elif e["phase"] == "e" and stack[key]:
            b = stack[key].pop()
            args = dict(b["args"])
            args.update(e["args"])
            want_async[(key, b["name"], ns(b["timestamp"]), ns(e["timestamp"]) -
                        ns(b["timestamp"]), b.get("cat"), json.dumps(norm_args(args),
                                                                     sort_keys=True))] += 1
got_async = collections.Counter()
track_key = {}
for k, n in async_got.items():
    tr = k[0]
    if tracks[tr]["kind"] != "plain" or process_of(tr) is None:
        err("async slice %r not on a process child track" % (k,))
    got_async[(tr,) + k[1:]] += n
# map each async track to the source key through its slices
for (key, name, ts, dur, cat, args), n in want_async.items():
    hits = [k for k in got_async if k[1:] == (name, ts, dur, cat, args)]
    if not hits:
        err("async slice missing: %r" % ((key, name, ts, dur),))
        continue
    tr = hits[0][0]
    if track_key.setdefault(tr, key) != key:
        err("one async track holds two (process, cat, id): %r %r" % (track_key[tr], key))
    if process_of(tr) != key[0]:
        err("async track under the wrong process")
    got_async[hits[0]] -= n
if sum(got_async.values()) != 0:
    err("async slices not in the source: %r" % [k for k, v in got_async.items() if v])

# instants
want_inst = collections.Counter()
for e in src:
    ph = e["phase"]
    if ph in "IRNOD" or ph in "stf" or ph == "n":
        if ph == "I":
            scope = e.get("scope") or "t"
        elif ph == "n":
            scope = "async"
        else:
            scope = "t"
        want_inst[(e["name"], ns(e["timestamp"]), scope,
                   out_thread(e["process_id"], e["thread_id"]) if scope == "t"
                   else out_pid(e["process_id"]) if scope in ("p", "async") else None)] += 1
got_inst = collections.Counter()
for i in instants:
    t = tracks[i["track"]]
    if t["kind"] == "thread":
        scope, where = "t", (t["pid"], t["tid"])
    elif t["kind"] == "process":
        scope, where = "p", t["pid"]
    elif t["parent"] is None:
        scope, where = "g", None
    elif thread_of(i["track"]) is not None:
        scope, where = "t", thread_of(i["track"])
    else:
        scope, where = "async", process_of(i["track"])
    got_inst[(i["name"], i["ts"], scope, where)] += 1
if got_inst != want_inst:
    err("instants differ: missing %r, extra %r" % (list((want_inst - got_inst).items())[:5],
                                                   list((got_inst - want_inst).items())[:5]))

# flows: one id per (cat, id), shared by its s/t/f, f terminating
flow_of = {}
flow_events = [i for i in instants if i["flow"] or i["term"]]
src_flows = [e for e in src if e["phase"] in "stf"]
if len(flow_events) != len(src_flows):
    err("%d flow events, source has %d" % (len(flow_events), len(src_flows)))
by_time = collections.defaultdict(list)
for i in flow_events:
    by_time[(i["name"], i["ts"])].append(i)
for e in src_flows:
    cands = by_time.get((e["name"], ns(e["timestamp"])), [])
    if not cands:
        err("flow event %s at %s missing" % (e["name"], e["timestamp"]))
        continue
    i = cands.pop(0)
    fid = (i["term"] or i["flow"])[0]
    if (e["phase"] == "f") != bool(i["term"]):
        err("flow %s: terminating_flow_ids iff phase f" % e["name"])
    key = (e.get("cat"), idtext(e.get("id")))
    if flow_of.setdefault(key, fid) != fid:
        err("flow %r has two ids" % (key,))
if len(set(flow_of.values())) != len(flow_of):
    err("two flows share an id")

# counters
want_c = collections.defaultdict(list)
for e in src:
    if e["phase"] == "C":
        for k, v in e["args"].items():
            if isinstance(v, (int, float, decimal.Decimal)):
                nm = (e["name"] + " " + k) if e["name"] else k
                want_c[(out_pid(e["process_id"]), nm)].append((ns(e["timestamp"]), float(v)))
got_c = collections.defaultdict(list)
for tr, vals in counters.items():
    t = tracks[tr]
    if tracks.get(t["parent"], {}).get("kind") != "process":
        err("counter track %r not under a process track" % t["name"])
    got_c[(process_of(tr), t["name"])] += [(ts, float(v)) for ts, v in vals]
for k in set(want_c) | set(got_c):
    if sorted(want_c.get(k, [])) != sorted(got_c.get(k, [])):
        err("counter %r: %r != %r" % (k, sorted(got_c.get(k, []))[:5],
                                      sorted(want_c.get(k, []))[:5]))

# names
for (pid, _), name in pnames.items():
    p = out_pid(int(pid) if pid.isdigit() else pid)
    if not any(t["pid"] == p and t.get("pname") == name for t in proc_tracks.values()):
        err("process %s not named %r" % (pid, name))
for (pid, tid), name in tnames.items():
    if not any(t.get("tname") == name for t in thread_tracks.values()):
        err("no thread named %r (%s/%s)" % (name, pid, tid))

if a.expect_lanes is not None:
    lanes = collections.Counter(thread_of(t["uuid"]) for t in tracks.values()
                                if thread_of(t["uuid"]) is not None)
    if max(lanes.values()) != a.expect_lanes:
        err("busiest thread has %d tracks, expected %d" % (max(lanes.values()), a.expect_lanes))

if errors:
    print("\n".join(errors[:60]))
    sys.exit(1)
print("ok: %d packets (%d compressed), %d slices, %d instants, %d counter values, %d tracks"
      % (len(packets), compressed, len(slices), len(instants),
         sum(len(v) for v in counters.values()), len(tracks)))
