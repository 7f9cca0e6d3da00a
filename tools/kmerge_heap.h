/*
 * kmerge_heap.h — the binary heaps of the k-way merge (kmerge.c): an array
 * of pointers kept in the order of `less`, smallest on top.  Inline: the
 * merge sifts the run heap once per written event.
 */
#ifndef DT_KMERGE_HEAP_H
#define DT_KMERGE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

typedef struct km_heap {
    void **v;
    size_t n, cap;
    bool (*less)(const void *a, const void *b);
} km_heap;

/* Adds x; -1 when out of memory (the heap unchanged). */
static inline int km_heap_push(km_heap *h, void *x) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        void **nv = realloc(h->v, cap * sizeof *nv);
        if (!nv) return -1;
        h->v = nv;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!h->less(x, h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = x;
    return 0;
}

/* Restores the order after the top's key grew (or after removing it). */
static inline void km_heap_sift_top(km_heap *h) {
    if (!h->n) return;
    void *x = h->v[0];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        void *mv = x;
        if (l < h->n && h->less(h->v[l], mv)) m = l, mv = h->v[l];
        if (r < h->n && h->less(h->v[r], mv)) m = r;
        if (m == i) break;
        h->v[i] = h->v[m];
        i = m;
    }
    h->v[i] = x;
}

static inline void km_heap_pop(km_heap *h) {
    if (!h->n) return;
    h->v[0] = h->v[--h->n];
    km_heap_sift_top(h);
}

#endif
