/*
 * strmap.h — a small open-addressing hash map from strings to indexes
 * (strmap.c), used to group events by name, thread or process and to cache
 * JSON encodings.  A leaf module: no other tool code.
 */
#ifndef DASF_TRACE_STRMAP_H
#define DASF_TRACE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dt_strent {
    char *key; /* NUL-terminated copy; NULL = empty slot */
    size_t klen;
    uint64_t hash;
    size_t val;
} dt_strent;

typedef struct dt_strmap {
    dt_strent *slots;
    size_t cap, len;
} dt_strmap;

uint64_t dt_hash(const void *p, size_t n);
/* The entry for key (inserted with val = SIZE_MAX when new, *created set).
 * NULL when out of memory.  Entry pointers are valid until the next insert. */
dt_strent *dt_strmap_get(dt_strmap *m, const char *key, size_t klen, bool *created);
/* The entry or NULL, never inserts. */
dt_strent *dt_strmap_find(const dt_strmap *m, const char *key, size_t klen);
void dt_strmap_free(dt_strmap *m);

#endif
