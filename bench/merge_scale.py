#!/usr/bin/env python3
"""bench/merge_scale.py: `dasf-trace merge` time and peak memory at 4, 16 and 64 rank files.

Run by bench/run.sh (./build.sh bench) after run.py; alone:

    /usr/bin/python3 bench/merge_scale.py --gen build/bench/bench/dasf-bench-merge-gen \\
        --tool build/bench/tools/dasf-trace [--out DIR] [--quick] [--reps 3]

The rank files come from dasf-bench-merge-gen (bench/merge_gen.c says how they are
shaped like libdasf-profiler-mpi's: per-rank clocks with clock samples, two threads,
flusher-cut overlapping chunks).  For each rank count R, the median over --reps runs of:

  merge     `dasf-trace merge -o OUT rank*.zst`: CPU seconds (user + system; the
            wall time is reported too, but on a shared machine it mostly measures
            waiting for a core) and peak RSS (/usr/bin/time's %M, KiB)
  floor     the same events copied without ordering, the same run: `dasf-trace
            convert --to archive` of each file in turn (the copy engine merge
            had before the k-way merge): merge / floor is what the ordering costs

and, to show memory does not follow the input size, R = 4 with ten times the events per
rank.  Prints a table and writes merge_scale.json (one object per row) into --out.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd):
    """(CPU seconds (user + system), peak RSS KiB, stderr, wall seconds) of cmd under
    /usr/bin/time.  CPU time is what the rows compare: on this shared machine the wall
    time mostly measures waiting for a core."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", tf.name] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd[:3]), p.returncode, p.stderr))
        rss, user, sys_ = tf.read().strip().splitlines()[-1].split()
        return float(user) + float(sys_), int(rss), p.stderr, wall


def row(args, ranks, events, work):
    d = os.path.join(work, "r%d-e%d" % (ranks, events))
    os.makedirs(d, exist_ok=True)
    subprocess.run([args.gen, d, str(ranks), str(events)], check=True)
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".zst"))
    in_bytes = sum(os.path.getsize(f) for f in files)
    out = os.path.join(work, "merged.zst")
    cpus, walls, rsss, floors, late = [], [], [], [], ""
    for _ in range(args.reps):
        c, r, err, w = timed([args.tool, "merge", "--force", "-o", out] + files)
        cpus.append(c)
        walls.append(w)
        rsss.append(r)
        late = err.strip()
        f0 = 0.0
        for f in files:
            fc, _, _, _ = timed([args.tool, "convert", "--force", "--to", "archive", f, out + ".copy"])
            f0 += fc
        floors.append(f0)
    info = subprocess.run([args.tool, "info", out], capture_output=True, text=True).stdout
    n_events = next((int(l.split()[1].rstrip(":")) for l in info.splitlines()
                     if l.strip().startswith("events")), 0)
    for f in files:
        os.unlink(f)
    for f in (out, out + ".copy"):
        if os.path.exists(f):
            os.unlink(f)
    os.rmdir(d)
    merge_s, floor_s = statistics.median(cpus), statistics.median(floors)
    return {
        "bench": "merge_scale", "ranks": ranks, "events_per_rank": events,
        "events": n_events, "input_bytes": in_bytes, "reps": args.reps,
        "merge_cpu_s": round(merge_s, 3), "merge_wall_s": round(statistics.median(walls), 3),
        "merge_peak_rss_kib": int(statistics.median(rsss)),
        # /usr/bin/time counts CPU in 10 ms steps: --quick's small copies can
        # read 0, and then the ratio is unknown (None), not a division by zero.
        "floor_copy_cpu_s": round(floor_s, 3),
        "merge_vs_floor": round(merge_s / floor_s, 2) if floor_s > 0 else None,
        "ns_per_event": round(merge_s * 1e9 / max(n_events, 1), 1),
        "stderr": late,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gen", required=True, help="dasf-bench-merge-gen")
    ap.add_argument("--tool", required=True, help="dasf-trace (a release build)")
    ap.add_argument("--out", default=".")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--events", type=int, default=100000, help="events per rank")
    ap.add_argument("--quick", action="store_true", help="1 rep, 20 000 events per rank")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.events = 1, 20000
    rows = []
    with tempfile.TemporaryDirectory(prefix="dasf-merge-scale-") as work:
        for ranks, events in ((4, args.events), (16, args.events), (64, args.events),
                              (4, 10 * args.events)):
            r = row(args, ranks, events, work)
            rows.append(r)
            ratio = "unknown" if r["merge_vs_floor"] is None else "%.2f" % r["merge_vs_floor"]
            print("merge_scale: %2d ranks x %7d events: merge %.3f s CPU (%.0f ns/event; wall %.3f s), "
                  "peak RSS %.1f MiB; copy floor %.3f s CPU, merge/floor %s%s" % (
                      ranks, events, r["merge_cpu_s"], r["ns_per_event"], r["merge_wall_s"],
                      r["merge_peak_rss_kib"] / 1024, r["floor_copy_cpu_s"], ratio,
                      ("; " + r["stderr"]) if r["stderr"] else ""), flush=True)
    with open(os.path.join(args.out, "merge_scale.json"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
