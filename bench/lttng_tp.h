/*
 * lttng_tp.h — the LTTng-UST tracepoint provider the peer benchmark uses
 * (LTTng-UST 2.13 API).  Its payload is the one our profiler records:
 * name string, double timestamp, double duration, pid, tid — plus, for the
 * size workloads, the two integer args.  LTTng adds its own 64-bit clock
 * value to every event header, as it always does.
 *
 * Multi-read header by LTTng's design: lttng_tp.c includes it once with
 * LTTNG_UST_TRACEPOINT_CREATE_PROBES to build the probes.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER dasf_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./lttng_tp.h"

#if !defined(DASF_BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define DASF_BENCH_LTTNG_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(
    dasf_bench, complete,
    LTTNG_UST_TP_ARGS(const char *, name, double, ts, double, dur, int, pid, int, tid),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_string(name, name)
        lttng_ust_field_float(double, ts, ts)
        lttng_ust_field_float(double, dur, dur)
        lttng_ust_field_integer(int, pid, pid)
        lttng_ust_field_integer(int, tid, tid)))

LTTNG_UST_TRACEPOINT_EVENT(
    dasf_bench, complete_args,
    LTTNG_UST_TP_ARGS(const char *, name, double, ts, double, dur, int, pid, int, tid,
                      int64_t, step, int64_t, block),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_string(name, name)
        lttng_ust_field_float(double, ts, ts)
        lttng_ust_field_float(double, dur, dur)
        lttng_ust_field_integer(int, pid, pid)
        lttng_ust_field_integer(int, tid, tid)
        lttng_ust_field_integer(int64_t, step, step)
        lttng_ust_field_integer(int64_t, block, block)))

#endif

#include <lttng/tracepoint-event.h>
