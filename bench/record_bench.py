#!/usr/bin/python3
"""record_bench.py — per-call cost of function tracing, in one run:
`dasf-trace record` vs `uftrace record` (Debian's uftrace) on the same
-finstrument-functions binary, vs the same code built without
instrumentation (bench/record/rb.c; docs/RECORD.md, docs/PERFORMANCE.md).

Workloads: an empty function called from main (depth 1), and a realistic
call tree (build / sum / free a binary tree: seven small functions, depths
1..19).  Each variant runs --reps times, interleaved (plain, no tracer,
ours, uftrace, plain, ...) so drift hits all alike.  The program times its
own loop, so the figure is the cost on the traced thread; the whole-run wall
time (start-up, writing the trace) is reported too.  Per-call cost =
(loop time - the uninstrumented loop time of the same repetition) / calls;
medians with min..max.  Ours runs lossless (--overflow block, the default)
and the bench checks that every call is in the trace; uftrace's own count
(uftrace report) is checked the same way when it can be read.

    /usr/bin/python3 bench/record_bench.py --tool build/bench/tools/dasf-trace \\
        [--reps 5] [--out DIR] [--quick]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def build(work):
    src = os.path.join(ROOT, "bench", "record", "rb.c")
    plain, instr = os.path.join(work, "rb-plain"), os.path.join(work, "rb-instr")
    sh(["cc", "-O2", "-g", src, "-o", plain])
    sh(["cc", "-O2", "-g", "-finstrument-functions", src, "-o", instr])
    clk = os.path.join(work, "clockcost")
    sh(["cc", "-O2", os.path.join(ROOT, "bench", "record", "clockcost.c"), "-o", clk])
    return plain, instr, clk


def clock_floor(clk):
    m = re.search(r"rdtsc ([\d.]+) gettime ([\d.]+)", sh([clk]).stdout)
    return float(m.group(1)), float(m.group(2))


def run(cmd):
    t0 = time.perf_counter_ns()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter_ns() - t0
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr[-500:]))
    m = re.search(r"calls (\d+) ns (\d+)", p.stdout)
    if not m:
        raise RuntimeError("%s: no timing in output: %r" % (" ".join(cmd), p.stdout))
    return int(m.group(1)), int(m.group(2)), wall


def count_ours(tool, trace, func):
    out = sh([tool, "stats", "--include", "^%s$" % re.escape(func), trace]).stdout
    for line in out.splitlines():
        if line.startswith(func + " "):
            return int(line.split()[1])
    return 0


def count_uftrace(d, func):
    try:
        out = sh(["uftrace", "report", "-d", d, "-f", "call", "--no-pager"], timeout=600).stdout
    except Exception:
        return None
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[-1] == func and parts[0].isdigit():
            total += int(parts[0])
    return total


def med(v):
    return statistics.median(v) if v else float("nan")


def measure(a, tools, title, args, check_fn, n_empty, work, have_uftrace, floors):
    """One workload, a.reps repetitions of: the plain build, the instrumented
    build without a tracer, ours (default and 128M ring), uftrace; appends
    each repetition's clock floor to floors.  @return the workload's row."""
    plain, instr, clk = tools
    rows = {"plain": [], "none": [], "ours": [], "ours_big": [], "uftrace": []}
    walls = {k: [] for k in rows}
    checks = {"ours": [], "ours_big": [], "uftrace": []}
    sizes = {"ours": [], "uftrace": []}
    calls = None
    for r in range(a.reps):
        c, t, w = run([plain] + args)
        rows["plain"].append(t)
        walls["plain"].append(w)
        calls = c
        c, t, w = run([instr] + args)
        rows["none"].append(t)
        walls["none"].append(w)
        trace = os.path.join(work, "ours-%d.msgpack.zst" % r)
        c, t, w = run([a.tool, "record", "-q", "-o", trace, "--", instr] + args)
        rows["ours"].append(t)
        walls["ours"].append(w)
        if r == 0:
            checks["ours"].append(count_ours(a.tool, trace, check_fn))
        sizes["ours"].append(os.path.getsize(trace))
        os.unlink(trace)
        # a ring that holds the whole burst: the producer never waits for the writer
        c, t, w = run([a.tool, "record", "-q", "--ring-size", "128M", "-o", trace, "--",
                       instr] + args)
        rows["ours_big"].append(t)
        walls["ours_big"].append(w)
        if r == 0:
            checks["ours_big"].append(count_ours(a.tool, trace, check_fn))
        os.unlink(trace)
        floors.append(clock_floor(clk))
        if have_uftrace:
            d = os.path.join(work, "uftrace-%d" % r)
            c, t, w = run(["uftrace", "record", "--no-libcall", "-d", d, instr] + args)
            rows["uftrace"].append(t)
            walls["uftrace"].append(w)
            if r == 0:
                checks["uftrace"].append(count_uftrace(d, check_fn))
            sizes["uftrace"].append(sum(os.path.getsize(os.path.join(dp, f))
                                        for dp, _, fs in os.walk(d) for f in fs))
            shutil.rmtree(d, ignore_errors=True)
    # per-call overhead against the plain run of the same repetition
    per_call = {}
    for k in ("none", "ours", "ours_big", "uftrace"):
        per_call[k] = [(t - p) / calls for t, p in zip(rows[k], rows["plain"])]
    # the expected count of the checked function
    expect = n_empty if check_fn == "empty" else None
    return {
        "workload": title, "calls": calls, "reps": a.reps,
        "loop_ns": rows, "wall_ns": walls, "per_call_ns": per_call,
        "check_function": check_fn, "recorded_calls": checks, "trace_bytes": sizes,
        "expected_calls": expect,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="dasf-trace binary (its preload next to it)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=None, help="directory for record.json")
    ap.add_argument("--quick", action="store_true", help="smaller workloads (smoke run)")
    a = ap.parse_args()
    have_uftrace = shutil.which("uftrace") is not None
    work = tempfile.mkdtemp(prefix="dasf-record-bench-")
    try:
        tools = build(work)
        floors = []
        n_empty = 200000 if a.quick else 2000000
        depth, reps_tree = (12, 2) if a.quick else (16, 6)
        loads = [
            ("empty function, depth 1", ["empty", str(n_empty)], "empty"),
            ("call tree (build/sum/free a tree)", ["tree", str(depth), str(reps_tree)], "weight"),
        ]
        results = [measure(a, tools, title, args, check_fn, n_empty, work, have_uftrace, floors)
                   for title, args, check_fn in loads]
        fl = (med([f[0] for f in floors]), med([f[1] for f in floors]))
        print_table(results, have_uftrace, fl)
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            with open(os.path.join(a.out, "record.json"), "w") as f:
                json.dump({"results": results, "clock_floor_ns": {"rdtsc": fl[0],
                           "clock_gettime": fl[1]}}, f, indent=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def span(v):
    return "%.1f..%.1f" % (min(v), max(v)) if v else "-"


def print_table(results, have_uftrace, fl):
    print("\nfunction tracing: per-call cost on the traced thread, ns "
          "(median over reps, min..max; minus the uninstrumented loop)")
    print("%-30s %8s %15s %19s %19s %19s %8s %8s" % (
        "workload", "calls", "hooks only", "ours (4M ring)", "ours (128M ring)",
        "uftrace record", "uft/ours", "uft/big"))
    for r in results:
        pc = r["per_call_ns"]
        ours, big, uft = med(pc["ours"]), med(pc["ours_big"]), med(pc["uftrace"])
        rat = lambda x: "%.2fx" % (uft / x) if have_uftrace and x > 0 else "n/a"
        print("%-30s %8d %6.1f %8s %7.1f %11s %7.1f %11s %7.1f %11s %8s %8s" % (
            r["workload"][:30], r["calls"], med(pc["none"]), span(pc["none"]), ours,
            span(pc["ours"]), big, span(pc["ours_big"]),
            uft if have_uftrace else float("nan"), span(pc["uftrace"]), rat(ours), rat(big)))
    print("\nclock floor on this machine (same run, median): rdtsc %.1f ns, clock_gettime %.1f ns;"
          " every traced call reads the clock twice" % fl)
    print("\nwhole run (start-up + loop + writing the trace), ms, median:")
    for r in results:
        w = {k: med(v) / 1e6 for k, v in r["wall_ns"].items()}
        print("  %-34s plain %.1f  no tracer %.1f  ours %.1f  ours/128M %.1f  uftrace %s" % (
            r["workload"], w["plain"], w["none"], w["ours"], w["ours_big"],
            "%.1f" % w["uftrace"] if have_uftrace else "n/a"))
    print("\ntrace size on disk, bytes per call, median:")
    for r in results:
        sz = r["trace_bytes"]
        print("  %-34s ours %.2f  uftrace %s" % (
            r["workload"], med(sz["ours"]) / r["calls"],
            "%.2f" % (med(sz["uftrace"]) / r["calls"]) if sz["uftrace"] else "n/a"))
    print("\nlossless check (first repetition, calls of the checked function in the trace):")
    for r in results:
        print("  %-34s %s: ours %s, ours/128M %s, uftrace %s%s" % (
            r["workload"], r["check_function"], r["recorded_calls"]["ours"],
            r["recorded_calls"]["ours_big"],
            r["recorded_calls"]["uftrace"] or "n/a",
            ", expected %d" % r["expected_calls"] if r["expected_calls"] else ""))


if __name__ == "__main__":
    sys.exit(main())
