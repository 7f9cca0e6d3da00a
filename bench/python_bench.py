#!/usr/bin/python3
"""bench/python_bench.py — dasf_profiler against the original dasf.profile.profiler, in
one process, interleaved, repeated (run by bench/run.py in `./build.sh bench`; standalone:
`PYTHONPATH=... bench/python_bench.py --peers ../shared/peers/dasf [--reps 7]`).

Implementations (all through EventProfiler, DASF's defaults: commit_threshold 1000,
flush=True, one legacy ``.msgpack`` file; ours also on a ``.zst`` archive; files on
/dev/shm unless --dir says otherwise, so fsync costs next to nothing for everybody):
  ours-legacy, ours-archive   dasf_profiler.profiler (the C extension)
  orig-standin                the original module with its ormsgpack stand-in (pure Python
                              conversion, then python3-msgpack's C packer)
  orig-cpacker                the original module with ormsgpack.packb replaced by
                              python3-msgpack's C packer,
                              msgpack.packb(dataclasses.asdict(event)) (the peers'
                              README's C-packer variant; the issue's goals are against it)
  orig-cpacker-vars           the same packing the instance dict without asdict's deep
                              copy, msgpack.packb(vars(event)): the same bytes for these
                              dataclasses, the fastest the original module gets
Workloads: record_complete_event as DASF's WorkerTaskPlugin calls it (host-name
process_id, worker thread_id), with its args dict (key, name, state, size, shape tuple,
dtype, type, dependency lists) or without args.

Figures per (impl, workload), each the median over repetitions with [min..max]:
  call_ns   caller cost per call: batches of 1000 calls timed with perf_counter_ns, each
            batch followed by an untimed commit() (the original commits -- packs, writes,
            fsyncs -- inside the 1000th call of each batch, so its figure includes that;
            ours leaves that work to the runtime's flusher thread);
  cpu_ns    process CPU time (all threads, flusher included) per event over the batches;
  e2e_ns    wall time per event for 20000 calls back to back plus the final commit().
Reading: get_traces() into dataclasses, events/s of wall time and of process CPU time
(the same on a quiet machine; the CPU figure is what a loaded machine still measures),
ours (both layouts) and the original's reader (legacy), on files of the with-args
workload (21000+ events each).
Each measurement prints one JSON line; --table prints a summary too.
"""
import argparse
import atexit
import dataclasses
import importlib.util
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import types

from aggregate import spread  # the same {median, min, max, n} as run.py's table


def load_original(peers, packing):
    """The original module under its own name, with the stand-in ("standin") or a C-packer
    variant ("asdict", "vars")."""
    if peers not in sys.path:
        sys.path.insert(0, peers)
    import ormsgpack  # the stand-in in peers/
    spec = importlib.util.spec_from_file_location("dasf_original_" + packing,
                                                  os.path.join(peers, "profiler.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if packing != "standin":
        import msgpack
        packer = msgpack.Packer(use_bin_type=True)
        if packing == "asdict":
            def packb(ev):
                return packer.pack(dataclasses.asdict(ev))
        else:
            def packb(ev):
                return packer.pack(vars(ev))
        mod.ormsgpack = types.SimpleNamespace(packb=packb, unpackb=ormsgpack.unpackb)
    return mod


HOST = socket.gethostname()
ARGS = {"key": "('getitem-8f3a4c2e1d0b9a87f6e5d4c3b2a19080', 3, 1)", "name": "getitem",
        "state": "memory", "size": 8000000, "shape": (1000, 1000), "dtype": "float64",
        "type": "numpy.ndarray",
        "dependencies": ["('array-1b2c3d4e5f60718293a4b5c6d7e8f901', 3, 1)",
                         "('rechunk-merge-0a1b2c3d4e5f60718293a4b5c6d7e8f9', 3, 0)"],
        "dependents": ["('sum-aggregate-9f8e7d6c5b4a39281706f5e4d3c2b1a0', 3)"]}


def make_call(prof, with_args):
    rec = prof.record_complete_event
    tid = "worker-%s-0" % HOST
    if with_args:
        return lambda ts: rec("Compute", ts, 0.001, process_id=HOST, thread_id=tid, args=ARGS)
    return lambda ts: rec("Compute", ts, 0.001, process_id=HOST, thread_id=tid)


def measure_record(mod, path, with_args, batches, batch=1000, e2e_n=20000):
    prof = mod.EventProfiler(database_file=path)  # DASF's defaults
    call = make_call(prof, with_args)
    ts = 1.0
    for _ in range(200):  # warm-up: first ring, first file append
        call(ts)
    prof.commit()
    per_call = []
    cpu = 0
    n = 0
    for _ in range(batches):
        c0 = time.process_time_ns()
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            call(ts)
            ts += 0.25
        t1 = time.perf_counter_ns()
        prof.commit()
        cpu += time.process_time_ns() - c0
        per_call.append((t1 - t0) / batch)
        n += batch
    t0 = time.perf_counter_ns()
    for _ in range(e2e_n):
        call(ts)
        ts += 0.25
    prof.commit()
    e2e = (time.perf_counter_ns() - t0) / e2e_n
    db = prof.database
    db.close()
    atexit.unregister(db.close)  # the original registers it; its file is gone by then
    return {"call_ns": statistics.median(per_call), "cpu_ns": cpu / n, "e2e_ns": e2e,
            "bytes_per_event": os.path.getsize(path) / (n + e2e_n + 200)}


def measure_read(mod, path):
    db = mod.FileDatabase(path)
    c0 = time.process_time()
    t0 = time.perf_counter()
    n = 0
    for _ in db.get_traces():
        n += 1
    dt = time.perf_counter() - t0
    dc = time.process_time() - c0
    atexit.unregister(db.close)  # the original registers a commit at exit; not wanted here
    return {"events": n, "events_per_s": n / dt, "events_per_cpu_s": n / dc}


def run(a):
    ours = None
    impls = {}
    if not a.no_ours:
        from dasf_profiler import profiler as ours
        impls["ours-legacy"] = (ours, ".msgpack")
        impls["ours-archive"] = (ours, ".msgpack.zst")
    if a.peers and os.path.isfile(os.path.join(a.peers, "profiler.py")):
        impls["orig-standin"] = (load_original(a.peers, "standin"), ".msgpack")
        impls["orig-cpacker"] = (load_original(a.peers, "asdict"), ".msgpack")
        impls["orig-cpacker-vars"] = (load_original(a.peers, "vars"), ".msgpack")
    out = []
    d = tempfile.mkdtemp(prefix="dasf-pybench-", dir=a.dir)
    try:
        for rep in range(1, a.reps + 1):
            for with_args in (True, False):
                for impl, (mod, ext) in impls.items():
                    # the original is ~100x slower: fewer batches keep the run short
                    batches = a.batches if impl.startswith("ours") else max(3, a.batches // 4)
                    path = os.path.join(d, "%s-%d-%d%s" % (impl, rep, with_args, ext))
                    r = measure_record(mod, path, with_args, batches)
                    r.update(bench="python", kind="record", impl=impl, rep=rep,
                             args="dasf" if with_args else "none")
                    print(json.dumps(r), flush=True)
                    out.append(r)
                    if with_args and impl in ("ours-legacy", "ours-archive", "orig-standin"):
                        rd = measure_read(mod, path)
                        rd.update(bench="python", kind="read", impl=impl, rep=rep)
                        print(json.dumps(rd), flush=True)
                        out.append(rd)
                    os.unlink(path)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return out


def summarize(rows):
    """{(kind, impl, args): {metric: spread}} over the repetitions."""
    groups = {}
    for r in rows:
        key = (r["kind"], r["impl"], r.get("args", ""))
        groups.setdefault(key, []).append(r)
    s = {}
    for key, rs in groups.items():
        metrics = [k for k in rs[0] if k.endswith("_ns") or k in (
            "events_per_s", "events_per_cpu_s", "bytes_per_event")]
        s[key] = {m: spread([r[m] for r in rs]) for m in metrics}
    return s


def table(rows):
    s = summarize(rows)
    L = ["PYTHON: dasf_profiler vs dasf.profile.profiler (record_complete_event, DASF's "
         "EventProfiler defaults; median [min..max] over repetitions)"]
    L.append("  %-17s %-5s %-26s %-26s %-24s %s" % ("impl", "args", "caller ns/call",
                                                   "CPU ns/event (all thr.)",
                                                   "e2e ns/event (+commit)", "B/event"))
    for (kind, impl, args), m in sorted(s.items()):
        if kind != "record":
            continue
        def f(x):
            return "%.0f [%.0f..%.0f]" % (x["median"], x["min"], x["max"])
        L.append("  %-17s %-5s %-26s %-26s %-24s %.0f" % (
            impl, args, f(m["call_ns"]), f(m["cpu_ns"]), f(m["e2e_ns"]),
            m["bytes_per_event"]["median"]))
    for args in ("dasf", "none"):
        for peer in ("orig-cpacker", "orig-cpacker-vars", "orig-standin"):
            for impl in ("ours-legacy", "ours-archive"):
                a, b = s.get(("record", impl, args)), s.get(("record", peer, args))
                if a and b:
                    L.append("  ratio %-17s / %-12s args %-4s: caller %5.1fx, CPU %5.1fx, "
                             "e2e %5.1fx" % (
                        peer, impl, args, b["call_ns"]["median"] / a["call_ns"]["median"],
                        b["cpu_ns"]["median"] / a["cpu_ns"]["median"],
                        b["e2e_ns"]["median"] / a["e2e_ns"]["median"]))
    for (kind, impl, args), m in sorted(s.items()):
        if kind == "read":
            x, c = m["events_per_s"], m["events_per_cpu_s"]
            L.append("  get_traces() into dataclasses, %-13s %.2f M events/s [%.2f..%.2f] "
                     "wall, %.2f M/s [%.2f..%.2f] per CPU second" % (
                         impl, x["median"] / 1e6, x["min"] / 1e6, x["max"] / 1e6,
                         c["median"] / 1e6, c["min"] / 1e6, c["max"] / 1e6))
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", help="the folder with the original profiler.py + ormsgpack.py")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batches", type=int, default=20, help="batches of 1000 calls (ours)")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
                    help="where the trace files go (default /dev/shm: the record path, "
                         "not the disk's fsync, is measured)")
    ap.add_argument("--table", action="store_true", help="print a summary table at the end")
    ap.add_argument("--no-ours", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    rows = run(a)
    if a.table:
        print(table(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
