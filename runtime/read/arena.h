/*
 * arena.h — the reader's bump allocator, reset per event / per chunk (not
 * installed).
 *
 * Owned by one reader (one thread).  A tree or table allocated here costs
 * no free(), and its memory is reused after the next reset.  An arena can
 * carry a limit on the memory it holds (the reader's bound, docs/FORMAT.md
 * section 6): passing it fails the allocation with arena->over set, which
 * the reader reports as damage, not as ENOMEM.
 */
#ifndef DASF_ARENA_H
#define DASF_ARENA_H

#include "internal.h"

typedef struct dasf_arena_block dasf_arena_block;
typedef struct dasf_arena {
    dasf_arena_block *head, *cur;
    dasf_arena_block *big; /* blocks of one large allocation each */
    size_t limit; /* bytes of blocks it may hold (0: no limit) */
    size_t held;  /* bytes of blocks it holds */
    int over;     /* an allocation failed because of limit (not malloc) */
} dasf_arena;

/* NULL on malloc failure or when the arena would pass its limit (then
 * a->over is set; dasf_arena_reset clears it). */
DASF_HIDDEN void *dasf_arena_alloc(dasf_arena *a, size_t n);
DASF_HIDDEN char *dasf_arena_strdup(dasf_arena *a, const void *p, size_t n);
DASF_HIDDEN void dasf_arena_reset(dasf_arena *a);
DASF_HIDDEN void dasf_arena_free(dasf_arena *a);

#endif
