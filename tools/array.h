/*
 * array.h — the growable arrays of the tool (runs, spans, names, modules,
 * ...): one doubling helper, so every array grows the same way.  A leaf
 * module, header only.
 */
#ifndef DASF_TRACE_ARRAY_H
#define DASF_TRACE_ARRAY_H

#include <stddef.h>
#include <stdlib.h>

/* Ensures room for one more element of size sz in *arr (len used, *cap
 * allocated; 16, then doubling).  @return 0, or -1 out of memory (*arr is
 * then unchanged). */
static inline int dt_grow(void **arr, size_t *cap, size_t len, size_t sz) {
    if (len < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * sz);
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

#endif
