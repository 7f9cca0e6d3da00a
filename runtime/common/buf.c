/*
 * buf.c — a growable byte buffer.
 *
 * Used by the flusher (chunk bytes, pending chunks) and the reader.  Owned
 * by one thread at a time.  Growth is geometric so appends are amortised
 * O(1); a failed growth leaves the buffer as it was (no data lost).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int dasf_buf_reserve(dasf_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return DASF_OK;
    size_t need = b->len + extra;
    if (need < b->len) return DASF_ENOMEM; /* overflow */
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return DASF_ENOMEM;
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) return DASF_ENOMEM;
    b->data = p;
    b->cap = cap;
    return DASF_OK;
}

int dasf_buf_append(dasf_buf *b, const void *p, size_t n) {
    int rc = dasf_buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return DASF_OK;
}

void dasf_buf_free(dasf_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
