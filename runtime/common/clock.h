/*
 * clock.h — the tick → nanosecond function of the process (clock.c; not
 * installed).
 *
 * Any thread reads and converts; the flusher recalibrates.  The public
 * side is dasf_now() & co. in include/dasf/profiler.h; docs/RUNTIME.md
 * "Clock" explains the table.
 */
#ifndef DASF_CLOCK_H
#define DASF_CLOCK_H

#include "internal.h"

/* ---- clock.c ------------------------------------------------------------- */
/* The tick → ns function: linear segments, segment k for ticks in
 * [tick0_k, tick0_k+1) (the first one also before its tick0, the last one
 * onwards): ns = ns0 + round((tick - tick0) * slope).  Each segment's ns0
 * is the previous segment's value at its tick0 (continuity).  A plain,
 * position-independent array: published segments never change, `n` is
 * stored with release after a segment is written and loaded with acquire. */
#define DASF_CLOCK_SEGS 4096
typedef struct dasf_clock_seg {
    uint64_t tick0;
    int64_t ns0;
    double slope; /* ns per tick, > 0 */
} dasf_clock_seg;
typedef struct dasf_clock_table {
    uint32_t n; /* published segments */
    dasf_clock_seg seg[DASF_CLOCK_SEGS];
} dasf_clock_table;
DASF_HIDDEN void dasf_clock_table_init(dasf_clock_table *tb, uint64_t tick0, int64_t ns0,
                                       double slope);
/* Appends a segment starting at tick (> the last segment's tick0) with this
 * slope; one writer at a time.  @return 0 or DASF_EINVAL (full, bad slope,
 * tick not after the last switch). */
DASF_HIDDEN int dasf_clock_table_add(dasf_clock_table *tb, uint64_t tick, double slope);
DASF_HIDDEN int64_t dasf_clock_table_ns(const dasf_clock_table *tb, uint64_t tick);

DASF_HIDDEN uint64_t dasf_clock_ticks(void);
/* The process's function (the same in every thread and in forked children). */
DASF_HIDDEN int64_t dasf_clock_ticks_to_ns(uint64_t ticks);
/* ns(start + dticks) - ns(start): a span measured in ticks. */
DASF_HIDDEN int64_t dasf_clock_span_to_ns(uint64_t start, uint64_t dticks);
/* Refits against CLOCK_MONOTONIC when due (the flusher calls it each cycle). */
DASF_HIDDEN void dasf_clock_recalibrate(void);
/* Test hook: a new segment DASF_CLOCK_MARGIN_NS ahead whose slope is the
 * current one times factor (clock_gettime mode too). */
DASF_HIDDEN void dasf_clock_test_switch(double factor);
DASF_HIDDEN const dasf_clock_table *dasf_clock_get_table(void);

/* The table's copy in shared memory (ring/shm.h's "clock" file, read by a
 * recoverer): kept in step by clock.c once set (under its recalibration
 * lock); forget: stop writing to it (fork child, unmapped). */
typedef struct dasf_shm_clock {
    char magic[8];
    int32_t identity; /* ticks are ns */
    int32_t pad_;
    dasf_clock_table tab;
} dasf_shm_clock;
DASF_HIDDEN void dasf_clock_set_mirror(dasf_shm_clock *m);
DASF_HIDDEN void dasf_clock_forget_mirror(void);
DASF_HIDDEN extern int dasf_clock_use_tsc;
/* CLOCK_MONOTONIC in ns (a tick when the TSC is not used). */
DASF_HIDDEN int64_t dasf_clock_mono_ns(void);
/* Raw ticks without initialising the clock (clock.c's own reading, inline):
 * before the first profiler exists this reads CLOCK_MONOTONIC. */
static inline uint64_t dasf_clock_raw_ticks(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (dasf_clock_use_tsc) return __builtin_ia32_rdtsc();
#endif
    return (uint64_t)dasf_clock_mono_ns();
}
/* Raw ticks, inlined: the clock is initialised when a database opens, so
 * any thread that records has seen dasf_clock_use_tsc set. */
static inline uint64_t dasf_ticks_inline(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (DASF_LIKELY(dasf_clock_use_tsc)) return __builtin_ia32_rdtsc();
#endif
    return dasf_clock_ticks();
}

#endif
