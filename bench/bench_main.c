/*
 * bench_main.c — `dasf-bench`, our side of the benchmarks: one program,
 * one sub-command per measurement, one JSON line per run on stdout.
 *
 *   dasf-bench record --path h|zone|now|now_ns|args|copied --threads N --dir DIR
 *   dasf-bench clock                      (the cost of dasf_now_ns alone)
 *   dasf-bench clock-accuracy --seconds S --dir DIR   (dasf_now_ns against CLOCK_MONOTONIC)
 *   dasf-bench e2e --threads N --events TOTAL --dir DIR
 *   dasf-bench size --workload regular|random --level L --events N --dir DIR [--out F]
 *   dasf-bench burst --events N --dir DIR   (the everyday call: burst vs ring with room)
 *   dasf-bench flight --dir DIR   (the flight recorder's record cost against the floor)
 *
 * bench/run.py runs them interleaved with the peers and builds the table.
 * Each sub-command is a row (bench_cmd) defined by its own file; this file
 * only lists them.  A new measurement: a row in its file, its declaration
 * in bench_ours.h, one line below.
 */
#include "bench_ours.h"

static const bench_cmd *const cmds[] = {
    &bench_record_cmd, &bench_clock_cmd, &bench_clock_accuracy_cmd, &bench_e2e_cmd, &bench_size_cmd,
    &bench_burst_cmd, &bench_flight_cmd,
};

int main(int argc, char **argv) {
    return bench_dispatch("dasf-bench", cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
