/*
 * kmerge_stats.h — what one k-way merge reports (dt_kmerge, kmerge.h):
 * a leaf of its own so the merge's parts can count into it without
 * including the merge's interface (which would make an include cycle).
 */
#ifndef DT_KMERGE_STATS_H
#define DT_KMERGE_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct dt_kmerge_stats {
    uint64_t events;      /* written (metadata included) */
    uint64_t late;        /* written after an event that starts later */
    int64_t max_late_ns;  /* by how much, at most */
    uint64_t groups;      /* output groups */
    uint64_t chunks;      /* output chunks (before the writer's own cuts) */
    size_t peak_held;     /* most decoded events held at once */
} dt_kmerge_stats;

#endif
