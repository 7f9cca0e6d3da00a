#!/usr/bin/python3
"""bench/run.py — runs every benchmark of bench/, interleaved with the peers,
and prints one summary table (also written, with all raw results, as JSON).

Called by bench/run.sh (`./build.sh bench`), which installs the peers, builds
bench/ in Release and starts a private lttng-sessiond.  Usage:

    run.py --bin BUILD/bench --out results/TS [--cli BUILD/tools/dasf-trace]
           [--reps 5] [--lttng "" | --no-lttng REASON] [--quick]

Method (also printed under the table):
  * record latency: batches of 1024 events timed with rdtsc (lfence on both
    sides), ticks -> ns with a TSC frequency calibrated against
    CLOCK_MONOTONIC_RAW; per run the median and p99 over all batches of all
    threads; 16 rounds x 128 batches per thread with untimed work between
    rounds (our commit; a 20 ms pause for LTTng's consumer).
  * every figure is the median over >= 5 repetitions, interleaved
    (ours, LTTng discard, LTTng blocking, mutex, ours, ...), with the
    spread [min..max] across repetitions.
Each program prints one JSON object per run; this script only aggregates.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

GOALS = {
    "record_h": 3.0,       # ns/event, caller ts + interned name
    "record_zone": 11.0,   # ns/event, own clock (DASF_ZONE)
    "record_args": 20.0,   # ns/event, copied name + 2 int args
    "lttng_ratio": 12.0,   # LTTng ns / ours ns, same payload
    "e2e_1t": 12e6,        # events/s, 1 thread, lossless
    "e2e_vs_floor": 0.4,   # copied names + 2 args end-to-end / zstd L1 alone (issue 14)
    "size_regular": 6.0,   # bytes/event
    "size_random": 14.0,   # bytes/event
    "py_args_ratio": 10.0,    # original (C packer) / dasf_profiler, DASF plugin args
    "py_noargs_ratio": 20.0,  # the same without args
    "py_read": 1e6,           # get_traces() into dataclasses, events/s
}

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import python_bench  # noqa: E402  (its summary and table, shared with standalone runs)

PATH_LABELS = {
    "h": "dasf_record_complete_h (interned name, caller ts)",
    "zone": "DASF_ZONE (own clock, 2 reads)",
    "now": "dasf_record_instant_now (own clock, 1 read)",
    "now_ns": "record_complete_ns(dasf_now_ns()) (caller reads)",
    "args": "dasf_record_complete_args (copied name + 2 int args)",
    "copied": "record_complete_event (copied name: peers' payload)",
    "h+drain": "complete_h, flusher draining meanwhile (thr. 64K)",
    "clock_dasf_now": "floor: dasf_now_ns() alone",
    "clock_rdtsc": "floor: rdtsc alone",
    "ring_store": "floor: bare 32-byte ring store + release (same loop)",
}
PEER_LABELS = {
    "lttng-discard": "LTTng-UST tracepoint, discard channel",
    "lttng-blocking": "LTTng-UST tracepoint, blocking channel",
    "mutex": "mutex-protected shared buffer (naive)",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, args):
        self.a = args
        self.raw = []
        self.rawf = open(os.path.join(args.out, "raw.jsonl"), "w")
        self.logf = open(os.path.join(args.out, "run.log"), "a")
        self.session_no = 0
        self.failures = []
        self.lttng_reason = args.no_lttng
        if not self.lttng_reason and not os.path.exists(self.bin("dasf-bench-lttng")):
            self.lttng_reason = "not built (lttng-ust not found)"
        self.python_reason = ""
        self.shm = tempfile.mkdtemp(prefix="dasf-bench-", dir="/dev/shm"
                                    if os.path.isdir("/dev/shm") else None)
        self.disk = tempfile.mkdtemp(prefix="dasf-bench-", dir=args.disk_dir)

    def bin(self, name):
        return os.path.join(self.a.bin, name)

    def cleanup(self):
        shutil.rmtree(self.shm, ignore_errors=True)
        shutil.rmtree(self.disk, ignore_errors=True)

    # ---- running programs ------------------------------------------------
    def run(self, argv, env=None, tag=None, check=True, keep=True):
        """Runs one bench program; returns its JSON objects (tagged).  With
        keep=False the caller completes them and passes them to add()."""
        e = dict(os.environ)
        if env:
            e.update(env)
        self.logf.write("$ %s\n" % " ".join(argv))
        self.logf.flush()
        p = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=self.logf,
                           text=True)
        out = []
        for line in p.stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            obj = json.loads(line)
            if tag:
                obj.update(tag)
            out.append(obj)
            if keep:
                self.add(obj)
        if check and p.returncode != 0:
            # One failed program is a failed row, not a failed suite.
            why = ("killed by signal %d" % -p.returncode if p.returncode < 0
                   else "exit status %d" % p.returncode)
            self.failures.append("%s: %s (see run.log)" % (
                " ".join(os.path.basename(x) if i == 0 else x
                         for i, x in enumerate(argv[:8])), why))
            log("bench: FAILED: %s" % self.failures[-1])
        return out

    def add(self, obj):
        self.raw.append(obj)
        self.rawf.write(json.dumps(obj) + "\n")
        self.rawf.flush()

    # ---- LTTng sessions --------------------------------------------------
    def lttng(self, *args, check=True):
        self.logf.write("$ lttng %s\n" % " ".join(args))
        p = subprocess.run(["lttng"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        self.logf.write(p.stdout)
        self.logf.flush()
        if check and p.returncode != 0:
            raise RuntimeError("lttng %s failed: %s" % (" ".join(args), p.stdout.strip()))
        return p.stdout

    def lttng_session(self, mode, outdir):
        """Creates and starts a userspace session; returns its name."""
        self.session_no += 1
        name = "dasfbench-%d-%d" % (os.getpid(), self.session_no)
        self.lttng("create", name, "--output=" + outdir)
        ch = ["enable-channel", "--userspace", "--session=" + name,
              "--subbuf-size=4M", "--num-subbuf=4"]
        if mode == "blocking":
            ch.append("--blocking-timeout=inf")
        self.lttng(*(ch + ["ch"]))
        self.lttng("enable-event", "--userspace", "--session=" + name, "--channel=ch",
                   "dasf_bench:*")
        self.lttng("start", name)
        return name

    def lttng_finish(self, name, stopped):
        """Stops (unless already stopped), reads the discarded count, destroys."""
        if not stopped:
            self.lttng("stop", name)
        discarded = 0
        for line in self.lttng("list", name).splitlines():
            s = line.strip()
            for key in ("Discarded events:", "Lost packets:"):
                if s.startswith(key):
                    discarded += int(s.split(":", 1)[1])
        self.lttng("destroy", name)
        return discarded

    def lttng_env(self, mode):
        return {"LTTNG_UST_ALLOW_BLOCKING": "1"} if mode == "blocking" else {}

    def run_lttng(self, mode, argv, tag, stop_inside):
        outdir = os.path.join(self.disk if tag.get("bench") == "e2e" else self.shm,
                              "lttng-%d" % (self.session_no + 1))
        name = self.lttng_session(mode, outdir)
        try:
            if stop_inside:
                argv = argv + ["--stop-cmd", "lttng stop %s >/dev/null" % name]
            res = self.run(argv, env=self.lttng_env(mode), tag=tag, keep=False)
        finally:
            discarded = self.lttng_finish(name, stopped=stop_inside)
        for r in res:
            r["discarded"] = discarded
        return res, outdir

    # ---- the benchmarks --------------------------------------------------
    def latency(self):
        reps, q = self.a.reps, self.a.quick
        rounds = ["--rounds", "4" if q else "16", "--batches", "128"]
        paths = ["h", "zone", "now", "now_ns", "args", "copied"]
        for rep in range(1, reps + 1):
            log("latency: repetition %d/%d" % (rep, reps))
            self.run([self.bin("dasf-bench"), "clock"], tag={"rep": rep})
            for th in (1, 2):
                tag = {"rep": rep}
                for path in paths:
                    self.run([self.bin("dasf-bench"), "record", "--path", path, "--threads",
                              str(th), "--dir", self.shm] + rounds, tag=tag)
                # the same fast path with the flusher draining concurrently
                self.run([self.bin("dasf-bench"), "record", "--path", "h", "--threshold",
                          "65536", "--threads", str(th), "--dir", self.shm] + rounds, tag=tag)
                if not self.lttng_reason:
                    for mode in ("discard", "blocking"):
                        label = "lttng-" + mode
                        res, outdir = self.run_lttng(
                            mode, [self.bin("dasf-bench-lttng"), "latency", "--threads",
                                   str(th), "--label", label] + rounds,
                            {"bench": "record", "rep": rep, "threads": th, "impl": label},
                            stop_inside=False)
                        for r in res:
                            self.add(r)
                        shutil.rmtree(outdir, ignore_errors=True)
                self.run([self.bin("dasf-bench-mutex"), "latency", "--threads", str(th)]
                         + rounds, tag=tag)

    def e2e(self):
        reps = self.a.reps
        n1 = 2000000 if self.a.quick else self.a.e2e_events
        for rep in range(1, reps + 1):
            log("end-to-end: repetition %d/%d" % (rep, reps))
            for th in (1, 2):
                tag = {"rep": rep}
                # Every end-to-end run starts with no dirty pages of a previous
                # run still being written back (LTTng's traces are ~0.9 GB).
                os.sync()
                self.run([self.bin("dasf-bench"), "e2e", "--threads", str(th), "--events",
                          str(n1), "--dir", self.disk], tag=tag)
                if th == 1:
                    os.sync()
                    self.run([self.bin("dasf-bench"), "e2e", "--threads", "1", "--events",
                              str(n1), "--dir", self.disk, "--flush", "0"], tag=tag)
                    # the same events with copied names + 2 int args
                    os.sync()
                    self.run([self.bin("dasf-bench"), "e2e", "--threads", "1", "--events",
                              str(n1), "--dir", self.disk, "--copied", "1"], tag=tag)
                if not self.lttng_reason:
                    for mode in ("blocking", "discard"):
                        label = "lttng-" + mode
                        res, outdir = self.run_lttng(
                            mode, [self.bin("dasf-bench-lttng"), "e2e", "--threads", str(th),
                                   "--events", str(n1), "--label", label],
                            {"bench": "e2e", "rep": rep, "threads": th, "impl": label},
                            stop_inside=True)
                        # babeltrace2 reads ~2 M events/s here: count once per row
                        counted = count_ctf_events(outdir) if rep == 1 else None
                        for r in res:
                            r["trace_bytes"] = dir_bytes(outdir)
                            r["counted"] = counted
                            self.add(r)
                        shutil.rmtree(outdir, ignore_errors=True)
                        os.sync()

    def size(self):
        n = 50000 if self.a.quick else self.a.size_events
        reps = self.a.size_reps
        for rep in range(1, reps + 1):
            log("size: repetition %d/%d" % (rep, reps))
            for wl in ("regular", "random"):
                for level in (1, 3, 9, 19, 0):
                    # caller-ns times (as LTTng's integer timestamps): the goal's
                    # setting; --clock double|tsc are measured by hand (FORMAT.md)
                    self.run([self.bin("dasf-bench"), "size", "--workload", wl, "--level",
                              str(level), "--events", str(n), "--dir", self.shm,
                              "--clock", "ns"],
                             tag={"rep": rep})
                if not self.lttng_reason:
                    res, outdir = self.run_lttng(
                        "blocking", [self.bin("dasf-bench-lttng"), "size", "--workload", wl,
                                     "--events", str(n)],
                        {"bench": "size", "rep": rep, "workload": wl, "impl": "lttng"},
                        stop_inside=True)
                    nbytes = dir_bytes(outdir)
                    counted = count_ctf_events(outdir) if rep == 1 else None
                    for r in res:
                        r["file_bytes"] = nbytes
                        r["bytes_per_event"] = nbytes / n
                        r["counted"] = counted
                        self.add(r)
                    shutil.rmtree(outdir, ignore_errors=True)

    def cli(self):
        cli = self.a.cli
        if not cli or not os.path.exists(cli):
            log("cli: dasf-trace not built, skipped")
            return
        n = 200000 if self.a.quick else self.a.cli_events
        arch = os.path.join(self.shm, "cli.msgpack.zst")
        self.run([self.bin("dasf-bench"), "size", "--workload", "regular", "--level", "1",
                  "--events", str(n), "--out", arch], tag={"purpose": "cli-input"})
        outdir = os.path.join(self.shm, "cli-out")
        os.makedirs(outdir, exist_ok=True)
        verbs = [
            ("info", [cli, "info", arch]),
            ("stats", [cli, "stats", arch]),
            ("cat", [cli, "cat", arch]),
            ("export --chrome", [cli, "export", "--chrome", "-o",
                                 os.path.join(outdir, "trace.json"), arch]),
            ("timeline", [cli, "timeline", "-o", os.path.join(outdir, "trace.svg"), arch]),
        ]
        for rep in range(1, self.a.cli_reps + 1):
            log("cli: repetition %d/%d" % (rep, self.a.cli_reps))
            for verb, argv in verbs:
                t0 = time.monotonic()
                with open(os.devnull, "w") as devnull:
                    p = subprocess.run(argv, stdout=devnull, stderr=subprocess.PIPE,
                                       text=True, cwd=outdir)
                dt = time.monotonic() - t0
                self.add({"bench": "cli", "verb": verb, "rep": rep, "events": n,
                          "seconds": dt, "status": p.returncode,
                          "stderr": p.stderr.strip()[:200]})
                for f in os.listdir(outdir):
                    os.unlink(os.path.join(outdir, f))

    def python(self):
        """bench/python_bench.py: dasf_profiler against the original module (issue 9)."""
        if not self.a.python_site:
            self.python_reason = "dasf_profiler not installed for the bench (see run.sh)"
            return
        if not self.a.peers or not os.path.isfile(os.path.join(self.a.peers, "profiler.py")):
            self.python_reason = "the original module (../shared/peers/dasf) is absent"
        log("python: dasf_profiler vs dasf.profile.profiler")
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "python_bench.py"),
                "--reps", str(self.a.reps), "--batches", "8" if self.a.quick else "20"]
        if self.a.peers:
            argv += ["--peers", self.a.peers]
        path = os.environ.get("PYTHONPATH")
        self.run(argv, env={"PYTHONPATH": self.a.python_site + (":" + path if path else "")})

    def codec(self):
        """bench_codec.c (the format helper's): medians of its own 5 runs."""
        prog = self.bin("dasf-bench-codec")
        if not os.path.exists(prog):
            return
        log("codec: dasf-bench-codec")
        self.run([prog], tag={"rep": 1})


def dir_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def count_ctf_events(d):
    """Events in a CTF trace, counted by babeltrace2's counter sink (None when
    babeltrace2 is not installed or cannot read the trace)."""
    tool = shutil.which("babeltrace2")
    if not tool:
        return None
    p = subprocess.run([tool, d, "--component=sink.utils.counter", "--params=step=+0"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if p.returncode != 0:
        return None
    n = None
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1:] == ["Event", "messages"]:
            n = int(parts[0])  # the last report is the total
    return n


# ---- aggregation -------------------------------------------------------------

def spread(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals)}


def select(raw, **kw):
    return [r for r in raw if all(r.get(k) == v for k, v in kw.items())]


def aggregate(raw):
    s = {"record": [], "e2e": [], "size": [], "reader": [], "cli": [], "codec": []}
    keys = []
    for r in select(raw, bench="record"):
        k = (r["impl"], r["path"], r["threads"])
        if k not in keys:
            keys.append(k)
    for impl, path, th in keys:
        rs = select(raw, bench="record", impl=impl, path=path, threads=th)
        s["record"].append({
            "impl": impl, "path": path, "threads": th,
            "median_ns": spread([r["median_ns"] for r in rs]),
            "p99_ns": spread([r["p99_ns"] for r in rs]),
            "events_per_rep": rs[0]["events"],
            "errors": sum(r.get("errors", 0) for r in rs),
            "dropped": sum(r.get("dropped", 0) for r in rs),
            "discarded": sum(r.get("discarded", 0) for r in rs),
        })
    keys = []
    for r in select(raw, bench="e2e"):
        k = (r["impl"], r["threads"])
        if k not in keys:
            keys.append(k)
    for impl, th in keys:
        rs = select(raw, bench="e2e", impl=impl, threads=th)
        s["e2e"].append({
            "impl": impl, "threads": th, "events": rs[0]["events"],
            "events_per_s": spread([r["events_per_s"] for r in rs]),
            "lost": sum(r.get("dropped", 0) + r.get("discarded", 0) for r in rs),
            "lost_max_per_rep": max(r.get("dropped", 0) + r.get("discarded", 0) for r in rs),
            "read_back_ok": all(r.get("read_back", r["events"]) == r["events"] for r in rs)
            if impl.startswith("dasf") else (
                None if all(r.get("counted") is None for r in rs) else
                all(r.get("counted") in (None, r["events"] - r.get("discarded", 0))
                    for r in rs)),
            "bytes_per_event": spread([r.get("bytes_per_event",
                                             r.get("trace_bytes", 0) / r["events"])
                                       for r in rs]),
            "flusher_cpu_ns": spread([r["flusher_cpu_ns_per_event"] for r in rs])
            if all("flusher_cpu_ns_per_event" in r for r in rs) else None,
            # codec floor (bench/codec_floor.c): zstd alone on the run's own
            # chunk payloads, and this run's events/s as a ratio of it
            "floor_events_per_s": spread([r.get("floor_events_per_s") for r in rs]),
            "vs_floor": spread([r.get("vs_floor") for r in rs]),
        })
    for th in sorted({r["threads"] for r in select(raw, bench="reader", impl="dasf")}):
        rs = select(raw, bench="reader", impl="dasf", threads=th)
        s["reader"].append({"impl": "dasf", "threads": th, "events": rs[0]["events"],
                            "events_per_s": spread([r["events_per_s"] for r in rs])})
    keys = []
    for r in select(raw, bench="size"):
        if r.get("purpose"):
            continue
        k = (r["impl"], r["workload"], r.get("level"))
        if k not in keys:
            keys.append(k)
    for impl, wl, level in keys:
        rs = [r for r in select(raw, bench="size", impl=impl, workload=wl)
              if r.get("level") == level and not r.get("purpose")]
        s["size"].append({
            "impl": impl, "workload": wl, "level": level, "events": rs[0]["events"],
            "bytes_per_event": spread([r["bytes_per_event"] for r in rs]),
            "counted": next((r.get("counted") for r in rs if r.get("counted") is not None),
                            None),
        })
    verbs = []
    for r in select(raw, bench="cli"):
        if r["verb"] not in verbs:
            verbs.append(r["verb"])
    for v in verbs:
        rs = select(raw, bench="cli", verb=v)
        ok = all(r["status"] == 0 for r in rs)
        s["cli"].append({"verb": v, "events": rs[0]["events"], "ok": ok,
                         "status": [r["status"] for r in rs],
                         "stderr": next((r["stderr"] for r in rs if r["status"]), ""),
                         "seconds": spread([r["seconds"] for r in rs]),
                         "events_per_s": spread([r["events"] / r["seconds"] for r in rs])})
    s["codec"] = [r for r in raw if r.get("bench") == "codec"]
    s["python"] = [r for r in raw if r.get("bench") == "python"]
    return s


# ---- the table ---------------------------------------------------------------

def fmt(x, unit=""):
    if x is None:
        return "-"
    if x >= 1e6 and unit == "/s":
        return "%.2f M/s" % (x / 1e6)
    if x >= 100:
        return "%.0f%s" % (x, unit)
    if x >= 10:
        return "%.1f%s" % (x, unit)
    return "%.2f%s" % (x, unit)


def fsp(sp, unit="", scale=1.0):
    if not sp:
        return "-"
    if unit == "/s":
        return "%.2f [%.2f..%.2f] M/s" % (sp["median"] / 1e6, sp["min"] / 1e6, sp["max"] / 1e6)
    if unit == "s":
        return "%.2f [%.2f..%.2f] s" % (sp["median"], sp["min"], sp["max"])
    return "%s [%s..%s]" % (fmt(sp["median"] * scale), fmt(sp["min"] * scale),
                            fmt(sp["max"] * scale))


def verdict(value, goal, higher_better=False):
    if value is None:
        return "n/a"
    ok = value >= goal if higher_better else value <= goal
    return "MET" if ok else "MISSED"


def find(rows, **kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def goal_rows(s, lttng_reason):
    """(label, value, goal, unit, higher_is_better) for each goal of issues 3 and 4."""
    def med(rows, **kw):
        r = find(rows, **kw)
        return r and r.get("median_ns", r.get("bytes_per_event", r.get("events_per_s")))

    def m(sp):
        return sp["median"] if sp else None

    out = []
    for path, g, label in [("h", "record_h", "record, caller ts + interned name (complete_h)"),
                           ("zone", "record_zone", "record, own clock: DASF_ZONE (2 reads)"),
                           ("now", "record_zone", "record, own clock: dasf_record_instant_now"),
                           ("args", "record_args", "record, copied name + 2 int args")]:
        out.append((label, m(med(s["record"], impl="dasf", path=path, threads=1)), GOALS[g],
                    " ns", False))
    for base, label in [("h", "LTTng-UST blocking / ours, interned name (x)"),
                        ("copied", "LTTng-UST blocking / ours, copied name (x)")]:
        lt = None if lttng_reason else m(med(s["record"], impl="lttng-blocking", threads=1))
        ours = m(med(s["record"], impl="dasf", path=base, threads=1))
        out.append((label, lt / ours if lt and ours else None, GOALS["lttng_ratio"], "x",
                    True))
    e = find(s["e2e"], impl="dasf", threads=1)
    v = e["events_per_s"]["median"] if e and not e["lost"] else (0.0 if e else None)
    out.append(("end-to-end, 1 thread, lossless (events/s)", v / 1e6 if v is not None else None,
                GOALS["e2e_1t"] / 1e6, " M/s", True))
    for wl in ("regular", "random"):
        r = find(s["size"], impl="dasf", workload=wl, level=1)
        out.append(("size on disk, %s workload, level 1 (B/event)" % wl,
                    r["bytes_per_event"]["median"] if r else None, GOALS["size_" + wl],
                    " B", False))
    py = python_bench.summarize(s.get("python", []))
    # CPU time of all threads per event: ours pays its flusher here, the original its
    # in-call commits; the caller-only ratios (larger) are in the Python table.
    for args, g, label in [("dasf", "py_args_ratio", "Python: orig. C packer / ours, CPU, args (x)"),
                           ("none", "py_noargs_ratio", "Python: orig. C packer / ours, CPU, no args (x)")]:
        a, b = py.get(("record", "ours-legacy", args)), py.get(("record", "orig-cpacker", args))
        out.append((label, b["cpu_ns"]["median"] / a["cpu_ns"]["median"] if a and b else None,
                    GOALS[g], "x", True))
    r = py.get(("read", "ours-legacy", ""))
    out.append(("Python: get_traces() into dataclasses, legacy (events/s)",
                r["events_per_s"]["median"] / 1e6 if r else None, GOALS["py_read"] / 1e6,
                " M/s", True))
    out.append(("Python: the same per CPU second (events/s)",
                r["events_per_cpu_s"]["median"] / 1e6 if r else None, GOALS["py_read"] / 1e6,
                " M/s", True))
    return out


def table(s, env, lttng_reason, reps, python_reason=""):
    L = []
    L.append("dasf-profiler benchmarks  %s" % env["date"])
    L.append("CPU: %s, %s CPUs%s, Linux %s" % (
        env["cpu"], env["cpus"],
        (" (%s guest)" % env["hypervisor"]) if env.get("hypervisor") else "", env["kernel"]))
    L.append("Clock: kernel clocksource %s, dasf_clock_source() %s, TSC %.3f GHz "
             "(calibrated against CLOCK_MONOTONIC_RAW)" % (
                 env["clocksource"], env.get("dasf_clock", "?"), (env.get("tsc_hz") or 0) / 1e9))
    L.append("Each figure: median over %d interleaved repetitions [min..max across "
             "repetitions].  Load average at start %s, at end %s." % (
                 reps, env.get("loadavg_start", "?"), env.get("loadavg_end", "?")))
    L.append("")
    L.append("RECORD LATENCY, ns/event (batches of 1024 timed with lfence+rdtsc; "
             "per run: median and p99 over all batches)")
    hdr = "  %-54s %3s  %-24s %-24s %-7s %s" % ("path", "thr", "median", "p99", "goal",
                                                "vs goal")
    L.append(hdr)
    goal_of = {"h": GOALS["record_h"], "zone": GOALS["record_zone"],
               "args": GOALS["record_args"], "now": GOALS["record_zone"],
               "now_ns": GOALS["record_zone"]}
    for r in s["record"]:
        if r["impl"] not in ("dasf", "floor"):
            continue
        g = goal_of.get(r["path"]) if r["impl"] == "dasf" else None
        med = r["median_ns"]["median"]
        extra = ""
        if r.get("dropped"):
            extra = "  DROPPED %d" % r["dropped"]
        if r.get("errors"):
            extra += "  ERRORS %d" % r["errors"]
        L.append("  %-54s %3d  %-24s %-24s %-7s %s%s" % (
            PATH_LABELS.get(r["path"], r["path"]), r["threads"], fsp(r["median_ns"]),
            fsp(r["p99_ns"]), ("<= %g" % g) if g else "", verdict(med, g) if g else "",
            extra))
    L.append("")
    L.append("PEERS, same payload (name string, double ts, double dur, pid, tid), same "
             "counts, same run")
    L.append("  %-54s %3s  %-24s %-24s %-12s %-12s %s" % (
        "peer", "thr", "median ns", "p99 ns", "/ours(h)", "/ours(copied)", "vs goal"))
    for impl in ("lttng-discard", "lttng-blocking", "mutex"):
        for th in (1, 2):
            r = find(s["record"], impl=impl, threads=th)
            label = PEER_LABELS[impl]
            if impl.startswith("lttng") and lttng_reason:
                L.append("  %-54s %3d  unavailable: %s" % (label, th, lttng_reason))
                continue
            if not r:
                continue
            oh = find(s["record"], impl="dasf", path="h", threads=th)
            oc = find(s["record"], impl="dasf", path="copied", threads=th)
            m = r["median_ns"]["median"]
            rh = m / oh["median_ns"]["median"] if oh else None
            rc = m / oc["median_ns"]["median"] if oc else None
            v = ""
            if impl.startswith("lttng"):
                v = "h %s, copied %s (>= %gx)" % (verdict(rh, GOALS["lttng_ratio"], True),
                                                  verdict(rc, GOALS["lttng_ratio"], True),
                                                  GOALS["lttng_ratio"])
            note = ("  discarded %d" % r["discarded"]) if r.get("discarded") else ""
            L.append("  %-54s %3d  %-24s %-24s %-12s %-12s %s%s" % (
                label, th, fsp(r["median_ns"]), fsp(r["p99_ns"]),
                ("%.1fx" % rh) if rh else "-", ("%.1fx" % rc) if rc else "-", v, note))
    L.append("")
    L.append("END-TO-END: record -> flusher -> zstd -> file, events/s until the last event "
             "is durable")
    L.append("  %-54s %3s  %-30s %-10s %-9s %-8s %-22s %s" % (
        "implementation", "thr", "events/s", "lost", "read-back", "B/event",
        "flusher CPU ns/event", "vs goal"))
    labels = {"dasf": "dasf (BLOCK, level 1, fsync per chunk)",
              "dasf-fsync-at-end": "dasf (same, flush=false + 1 fsync at the end)",
              "dasf-copied-args": "dasf (same as first, copied names + 2 int args)",
              "lttng-blocking": "LTTng-UST blocking channel (until lttng stop)",
              "lttng-discard": "LTTng-UST discard channel (until lttng stop)"}
    for impl in ("dasf", "dasf-fsync-at-end", "dasf-copied-args", "lttng-blocking",
                 "lttng-discard"):
        for th in (1, 2):
            if impl.startswith("lttng") and lttng_reason:
                if th == 1:
                    L.append("  %-54s %3s  unavailable: %s" % (labels[impl], "", lttng_reason))
                continue
            r = find(s["e2e"], impl=impl, threads=th)
            if not r:
                continue
            v = ""
            if impl == "dasf" and th == 1:
                v = verdict(r["events_per_s"]["median"], GOALS["e2e_1t"], True)
                if r["lost"]:
                    v = "MISSED (lossy)"
                v += " (>= 12 M/s, 0 lost)"
            rb = "-" if r["read_back_ok"] is None else ("ok" if r["read_back_ok"] else "SHORT")
            L.append("  %-54s %3d  %-30s %-10s %-9s %-8s %-22s %s" % (
                "%s, %dM ev" % (labels[impl], r["events"] // 1000000), th,
                fsp(r["events_per_s"], "/s"), str(r["lost"]), rb,
                fmt(r["bytes_per_event"]["median"]) if r["bytes_per_event"] else "-",
                fsp(r["flusher_cpu_ns"]) if r.get("flusher_cpu_ns") else "-", v))
    for impl in ("dasf", "dasf-copied-args"):
        r = find(s["e2e"], impl=impl, threads=1)
        if not r or not r.get("floor_events_per_s"):
            continue
        v = ""
        if impl == "dasf-copied-args":
            v = "%s (>= %gx floor)" % (verdict(r["vs_floor"]["median"], GOALS["e2e_vs_floor"],
                                               True), GOALS["e2e_vs_floor"])
        L.append("  %-54s %3d  %-30s" % (
            "codec floor: zstd L1 alone, %s chunks" % ("interned" if impl == "dasf"
                                                       else "copied + 2 args"),
            1, fsp(r["floor_events_per_s"], "/s")))
        L.append("  %-54s %3d  %-30s %s" % (
            "  that row's end-to-end / its floor (per run)", 1,
            "%.2fx [%.2f..%.2f]" % (r["vs_floor"]["median"], r["vs_floor"]["min"],
                                    r["vs_floor"]["max"]), v))
    for r in s["reader"]:
        L.append("  %-54s %3d  %-30s" % ("reader: dasf_trace_next over that archive",
                                         r["threads"], fsp(r["events_per_s"], "/s")))
    L.append("")
    L.append("SIZE ON DISK, bytes/event (same events for every format)")
    L.append("  %-54s %-9s %-22s %-9s %s" % ("format", "workload", "B/event", "goal",
                                               "vs goal"))
    for wl in ("regular", "random"):
        g = GOALS["size_" + wl]
        for impl, level, label in [("dasf", 1, "dasf archive, zstd level 1 (default)"),
                                   ("dasf", 3, "dasf archive, zstd level 3"),
                                   ("dasf", 9, "dasf archive, zstd level 9"),
                                   ("dasf", 19, "dasf archive, zstd level 19"),
                                   ("dasf-legacy", 0, "dasf legacy layout (level 0, Python)"),
                                   ("lttng", None, "LTTng-UST CTF trace (du of trace dir)")]:
            if impl == "lttng" and lttng_reason:
                L.append("  %-54s %-9s unavailable: %s" % (label, wl, lttng_reason))
                continue
            r = find(s["size"], impl=impl, workload=wl, level=level)
            if not r:
                continue
            bpe = r["bytes_per_event"]["median"]
            v = verdict(bpe, g) if (impl == "dasf" and level == 1) else ""
            note = ""
            if impl == "lttng" and r.get("counted") is not None:
                note = "  (babeltrace2 counted %d of %d)" % (r["counted"], r["events"])
            L.append("  %-54s %-9s %-22s %-9s %s%s" % (
                label, wl, fsp(r["bytes_per_event"]), ("<= %g" % g) if v else "", v, note))
    if s["cli"]:
        L.append("")
        L.append("CLI (dasf-trace) on a %d-event archive, wall time" % s["cli"][0]["events"])
        for r in s["cli"]:
            if not r["ok"]:
                L.append("  %-20s FAILED (exit %s): %s" % (r["verb"], r["status"], r["stderr"]))
                continue
            L.append("  %-20s %-28s %s" % (r["verb"], fsp(r["seconds"], "s"),
                                            fsp(r["events_per_s"], "/s")))
    if s["codec"]:
        L.append("")
        L.append("CODEC alone (bench/bench_codec.c: encode + zstd of 5000-event chunks, "
                 "median of its 5 runs [min])")
        L.append("  %-16s %-6s %-10s %s" % ("workload", "level", "B/event", "encode ns/event"))
        for r in s["codec"]:
            L.append("  %-16s %-6s %-10s %s [%s]" % (
                r.get("workload"), r.get("level"), fmt(r.get("bytes_per_event")),
                fmt(r.get("ns_per_event_median")), fmt(r.get("ns_per_event_min"))))
    if s.get("python"):
        L.append("")
        L.extend(python_bench.table(s["python"]).splitlines())
    elif python_reason:
        L.append("")
        L.append("PYTHON: not run (%s)" % python_reason)
    L.append("")
    L.append("GOALS (1 recording thread unless said; medians of the repetitions)")
    for label, value, goal, unit, hb in goal_rows(s, lttng_reason):
        if value is None:
            L.append("  %-58s %-14s %s" % (label, "-", "n/a"))
            continue
        L.append("  %-58s %-14s %-3s %-8s %s" % (label, fmt(value) + unit,
                                                 ">=" if hb else "<=", "%g%s" % (goal, unit),
                                                 verdict(value, goal, hb)))
    L.append("")
    L.append("Notes: record runs use 16 MiB rings, BLOCK, level 1, commit_threshold 2^20 "
             "(the flusher drains at the untimed commit")
    L.append("  between rounds of 128 x 1024 events/thread); LTTng: per-UID buffers, "
             "4 x 4 MiB sub-buffers, a 20 ms untimed pause between")
    L.append("  rounds; end-to-end: 16 MiB rings, commit_threshold 65536, fsync per chunk, "
             "files on %s (a disk), page cache synced" % env.get("disk_dir", "?"))
    L.append("  before each run; LTTng end-to-end stops the clock when `lttng stop` returns "
             "(trace written, not fsynced).  See docs/PERFORMANCE.md.")
    return "\n".join(line.rstrip() for line in L)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def environment():
    env = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    cpu = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("Hypervisor vendor:"):
                env["hypervisor"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    env["cpu"] = cpu
    env["cpus"] = os.cpu_count()
    try:
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            env["clocksource"] = f.read().strip()
    except OSError:
        env["clocksource"] = "?"
    env["kernel"] = platform.release()
    env["loadavg_start"] = loadavg()
    for tool in ("lttng", "gcc", "cc"):
        if shutil.which(tool):
            try:
                v = subprocess.run([tool, "--version"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True).stdout
                env[tool + "_version"] = v.splitlines()[0] if v else "?"
            except OSError:
                pass
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory of the bench programs")
    ap.add_argument("--out", required=True, help="results directory to create")
    ap.add_argument("--cli", help="path of dasf-trace")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--size-reps", type=int, default=5)
    ap.add_argument("--cli-reps", type=int, default=5)
    ap.add_argument("--e2e-events", type=int, default=20000000)
    ap.add_argument("--size-events", type=int, default=200000)
    ap.add_argument("--cli-events", type=int, default=5000000)
    ap.add_argument("--disk-dir", default="/tmp", help="where end-to-end files go (a disk)")
    ap.add_argument("--no-lttng", default="", metavar="REASON",
                    help="skip the LTTng-UST peer and say why in the table")
    ap.add_argument("--quick", action="store_true", help="small counts (smoke test)")
    ap.add_argument("--python-site", default="",
                    help="directory with the installed dasf_profiler package (run.sh)")
    ap.add_argument("--peers", default="", help="folder of the original DASF module")
    ap.add_argument("--only", default="latency,e2e,size,cli,codec,python")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    r = Runner(a)
    env = environment()
    env["disk_dir"] = a.disk_dir
    t0 = time.monotonic()
    failures = []
    try:
        for part in a.only.split(","):
            try:
                getattr(r, part)()
            except (RuntimeError, OSError, json.JSONDecodeError) as e:
                failures.append("%s: %s" % (part, e))
                log("bench: %s failed: %s" % (part, e))
    finally:
        r.cleanup()
    failures += r.failures
    rec = select(r.raw, bench="record", impl="dasf")
    if rec:
        env["dasf_clock"] = rec[0].get("clock_source")
        env["tsc_hz"] = rec[0].get("tsc_hz")
    env["lttng"] = r.lttng_reason or "available"
    env["seconds"] = round(time.monotonic() - t0, 1)
    env["loadavg_end"] = loadavg()
    s = aggregate(r.raw)
    text = table(s, env, r.lttng_reason, a.reps, r.python_reason)
    if failures:
        text += "\n\nFAILED RUNS (their rows are missing or partial):\n  " + "\n  ".join(failures)
    text += "\n\nRaw results: %s (run took %.0f s)\n" % (a.out, env["seconds"])
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({"environment": env, "goals": GOALS, "summary": s,
                   "failures": failures}, f, indent=1)
    with open(os.path.join(a.out, "table.txt"), "w") as f:
        f.write(text)
    print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
