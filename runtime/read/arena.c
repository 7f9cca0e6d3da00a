/*
 * arena.c — the reader's bump allocator (arena.h).
 *
 * Runs on the reader's thread.  Blocks grow geometrically and are kept
 * across resets (up to the limit); an allocation larger than a block gets
 * a block of its own, freed at the next reset.  A failed allocation leaves
 * the arena usable.
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct dasf_arena_block {
    dasf_arena_block *next;
    size_t used, cap;
    _Alignas(16) uint8_t data[];
};

/* Frees the blocks after b (unused since the last reset), or all when b
 * is NULL. */
static void free_after(dasf_arena *a, dasf_arena_block *b) {
    dasf_arena_block *x = b ? b->next : a->head;
    while (x) {
        dasf_arena_block *n = x->next;
        a->held -= x->cap;
        free(x);
        x = n;
    }
    if (b)
        b->next = NULL;
    else
        a->head = NULL;
}

static void free_big(dasf_arena *a) {
    while (a->big) {
        dasf_arena_block *n = a->big->next;
        a->held -= a->big->cap;
        free(a->big);
        a->big = n;
    }
}

static int within_limit(dasf_arena *a, size_t cap) {
    if (!a->limit || (cap <= a->limit && a->held + cap <= a->limit)) return 1;
    a->over = 1;
    return 0;
}

#define BIG ((size_t)64 << 10)
#define BLOCK_MAX ((size_t)1 << 20)

/* n bytes at the given alignment (1 or 16).  Requests of BIG or more get
 * a block of their own size; smaller ones are cut from blocks that double
 * up to BLOCK_MAX, so a block wastes less than BIG at its end and the
 * memory held stays within a few percent of what is used (the reader's
 * limits count held memory). */
static void *arena_take(dasf_arena *a, size_t n, size_t align) {
    if (n >= BIG) {
        size_t cap = (n + 15) & ~(size_t)15;
        if (cap < n || !within_limit(a, cap)) return NULL;
        dasf_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->cap = nb->used = cap;
        nb->next = a->big;
        a->big = nb;
        a->held += cap;
        return nb->data;
    }
    for (;;) {
        dasf_arena_block *b = a->cur;
        if (b) {
            size_t at = (b->used + align - 1) & ~(align - 1);
            if (at <= b->cap && b->cap - at >= n) {
                b->used = at + n;
                return b->data + at;
            }
        }
        if (b && b->next) { /* reuse a block kept from before the reset */
            a->cur = b->next;
            a->cur->used = 0;
            continue;
        }
        size_t cap = b ? (b->cap < BLOCK_MAX ? b->cap * 2 : BLOCK_MAX) : 4096;
        if (!within_limit(a, cap)) return NULL;
        dasf_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = NULL;
        nb->used = 0;
        nb->cap = cap;
        a->held += cap;
        if (b)
            b->next = nb;
        else
            a->head = nb;
        a->cur = nb;
    }
}

void *dasf_arena_alloc(dasf_arena *a, size_t n) {
    return arena_take(a, n ? n : 1, 16);
}

/* Strings are byte-aligned: a table of short strings costs its bytes, not
 * 16 per string. */
char *dasf_arena_strdup(dasf_arena *a, const void *p, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *s = arena_take(a, n + 1, 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

void dasf_arena_reset(dasf_arena *a) {
    free_big(a);
    a->cur = a->head;
    if (a->head) a->head->used = 0;
    a->over = 0;
    /* Under a limit, blocks kept from a big chunk or event must not count
     * against the next one: keep the first block only (the common small
     * event never gets past it). */
    if (a->limit && a->held > BLOCK_MAX && a->head) free_after(a, a->head);
}

void dasf_arena_free(dasf_arena *a) {
    free_big(a);
    free_after(a, NULL);
    a->cur = NULL;
    a->held = 0;
}
