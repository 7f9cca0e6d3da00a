#!/usr/bin/env python3
"""bench/mpi_overhead.py: what a libdasf-profiler-mpi wrapper adds to an MPI call.

Run by bench/run.sh (./build.sh bench) when MPI was found; alone:

    /usr/bin/python3 bench/mpi_overhead.py --bin build/bench/bench/dasf-bench-mpi-overhead \\
        --lib build/bench/mpi/libdasf-profiler-mpi.so [--out DIR] [--reps 5] [--quick]

dasf-bench-mpi-overhead (bench/mpi_overhead.c) is an MPI program built without the
library.  Each repetition runs it twice under `mpirun -np 2`: plain, and with the
wrappers preloaded (LD_PRELOAD, what `dasf-trace record --mpi` does; each rank traces
into its own file in a temporary directory), in alternating order.  Per call kind
(Send/Recv ping-pong of 8 bytes, Allreduce of one double, Barrier) it reports the median
over repetitions of rank 0's ns per call, traced and plain, their difference (the
wrapper's cost per call) and ratio.  The same again with -np 1, where no call waits for
another rank: the difference is the wrapper alone, without two ranks polling on shared
cores (and the traced ranks' flusher threads competing with them for the cores).  Prints a table and writes mpi_overhead.json.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def run(args, np, traced, trace_dir):
    cmd = [args.mpirun, "--allow-run-as-root", "--oversubscribe", "-np", str(np)]
    if traced:
        cmd += ["-x", "LD_PRELOAD=" + args.lib,
                "-x", "DASF_MPI_TRACE_FILE=" + os.path.join(trace_dir, "ov-%n-rank%r.zst")]
    cmd += [args.bin, str(args.iterations)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("mpirun exit %d: %s" % (p.returncode, p.stderr[-2000:]))
    got = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            got[r["call"]] = r["ns_per_call"]
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--lib", required=True, help="libdasf-profiler-mpi.so")
    ap.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    ap.add_argument("--out", default=".")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=2000, help="per block (9 blocks a run)")
    ap.add_argument("--quick", action="store_true", help="3 reps")
    args = ap.parse_args()
    if args.quick:
        args.reps = 3
    rows = []
    for np in (2, 1):
        plain, traced = {}, {}
        trace_dir = tempfile.mkdtemp(prefix="dasf-mpi-overhead-")
        files = 0
        try:
            for rep in range(args.reps):
                order = (False, True) if rep % 2 == 0 else (True, False)
                for t in order:
                    got = run(args, np, t, trace_dir)
                    for k, v in got.items():
                        (traced if t else plain).setdefault(k, []).append(v)
                for f in os.listdir(trace_dir):  # traces are checked, then dropped
                    files += os.path.getsize(os.path.join(trace_dir, f)) > 0
                    os.unlink(os.path.join(trace_dir, f))
        finally:
            shutil.rmtree(trace_dir, ignore_errors=True)
        if files < np * args.reps:
            print("mpi_overhead: the traced runs wrote no trace files: the wrappers were not loaded",
                  file=sys.stderr)
            return 1
        for call in ("sendrecv", "allreduce", "barrier"):
            p, t = statistics.median(plain[call]), statistics.median(traced[call])
            r = {"bench": "mpi_overhead", "call": call, "ranks": np, "reps": args.reps,
                 "iterations": args.iterations, "plain_ns": round(p, 1), "traced_ns": round(t, 1),
                 "overhead_ns": round(t - p, 1), "ratio": round(t / p, 2)}
            rows.append(r)
            print("mpi_overhead: -np %d %-9s plain %8.1f ns/call, traced %8.1f ns/call: %+.1f ns "
                  "(x%.2f), median of %d" % (np, call, p, t, t - p, t / p, args.reps), flush=True)
    with open(os.path.join(args.out, "mpi_overhead.json"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
