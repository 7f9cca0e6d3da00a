/*
 * evcopy.h — owned copies of events read back, in an arena.
 *
 * dasf_trace_next() hands out an event that lives only until the next
 * call; a verb that must hold events longer (merge keeps whole chunks to
 * put them in time order) copies them here.  A copy holds everything the
 * event points to (name, cat, ids, the args tree), in the store's arena,
 * and is valid until the store is freed.  Names and cats repeated from one
 * event to the next are stored once (a small cache checked by content, so
 * it is right whatever the reader does with its buffers).
 *
 * Memory: the dasf_trace_event itself (the caller's array) plus the
 * arena: the bytes of each new string and of the args / ids trees, 8-byte
 * aligned, in blocks of 64 KiB (a bigger value gets a block of its own).
 */
#ifndef DT_EVCOPY_H
#define DT_EVCOPY_H

#include <dasf/profiler.h>
#include <stddef.h>

typedef struct dt_arena_block dt_arena_block;

#define DT_EVCOPY_CACHE 64

typedef struct dt_evstore {
    dt_arena_block *blocks; /* newest first */
    size_t bytes;           /* allocated by the arena (blocks included) */
    struct {
        const char *copy;
        size_t len;
    } cache[DT_EVCOPY_CACHE];
} dt_evstore;

/* n bytes, 8-byte aligned, from the store's arena; NULL when out of memory. */
void *dt_evstore_alloc(dt_evstore *s, size_t n);
/* *dst = a copy of *src whose pointers all lead into s.  @return 0, or -1
 * out of memory (*dst is then unusable; the store stays freeable). */
int dt_evstore_copy(dt_evstore *s, dasf_trace_event *dst, const dasf_trace_event *src);
/* Frees every copy; the store can be used again. */
void dt_evstore_free(dt_evstore *s);

#endif
