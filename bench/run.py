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
Each program prints one JSON object per run.  This script is the entry point
only; the work is in three modules beside it:
  runner.py     runs the programs (and the LTTng sessions), collects their objects
  aggregate.py  raw objects -> one row per measured thing, spreads over repetitions
  report.py     the goals, the labels and the table, section by section
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aggregate import aggregate, select  # noqa: E402  (modules beside this script)
from report import GOALS, table  # noqa: E402
from runner import Runner, environment, loadavg, log  # noqa: E402


def parse_args():
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
    ap.add_argument("--only", default="latency,flight,e2e,burst,size,cli,codec,python")
    return ap.parse_args()


def run_parts(r, parts):
    """Runs each part (a Runner method); a part that fails is listed, the
    others still run.  @return the failures, the parts' and the programs'."""
    failures = []
    try:
        for part in parts:
            try:
                getattr(r, part)()
            except (RuntimeError, OSError, json.JSONDecodeError) as e:
                failures.append("%s: %s" % (part, e))
                log("bench: %s failed: %s" % (part, e))
    finally:
        r.cleanup()
    return failures + r.failures


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    r = Runner(a)
    env = environment()
    env["disk_dir"] = a.disk_dir
    t0 = time.monotonic()
    failures = run_parts(r, a.only.split(","))
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
