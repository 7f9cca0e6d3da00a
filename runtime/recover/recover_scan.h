/*
 * recover_scan.h — what a dead writer left, read for its recoverer
 * (recover_scan.c; not installed).  Recoverer's thread only.
 */
#ifndef DASF_RECOVER_SCAN_H
#define DASF_RECOVER_SCAN_H

#include "internal.h"

/* A file of a map, mapped read-only (private). */
typedef struct mapped {
    void *p;
    size_t n;
} mapped;
/* @return 0 (m->p, m->n set) or -1: not a regular non-empty file. */
DASF_HIDDEN int dasf_rcv_map_ro(const char *path, mapped *m);
DASF_HIDDEN void dasf_rcv_unmap(mapped *m);

/* The dead writer's interned names (its `names` arena), by handle. */
typedef struct names {
    const char **s;
    uint32_t *len;
    uint32_t n; /* handles 1..n-1 */
} names;
/* dasf_decode_ctx.name for a names table (user). */
DASF_HIDDEN const char *dasf_rcv_names_get(void *user, uint32_t h, uint32_t *len);
/* @return 0, or -1 (not a names arena of this version, no memory). */
DASF_HIDDEN int dasf_rcv_names_load(const mapped *m, names *t);
DASF_HIDDEN void dasf_rcv_names_free(names *t);

/* How far the trace file holds each ring of a writer: by ring index, the
 * highest range end among the chunks of that "src" whose data is whole. */
typedef struct done_ranges {
    uint64_t *to; /* by ring index */
    uint32_t n;
} done_ranges;
/* Fills d from the chunks of the file at path (none: nothing written). */
DASF_HIDDEN void dasf_rcv_scan_file(const char *path, const char *src, done_ranges *d);

#endif
