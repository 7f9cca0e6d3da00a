/*
 * hash.h — the runtime's string hash, for its in-process hash tables: the
 * archive chunk's string table (encode/strtab.c, on the encoding thread,
 * once per string not found by its caches) and the interned-name table
 * (intern.c, under its lock).  Any thread; no state.
 *
 * Word-at-a-time over 8-byte loads, the 1..7 tail bytes without a
 * variable-length copy: the encoder's keys are short names and arg keys.
 * Only the low bits index a table, so the value never leaves the process:
 * it may change with the encoder.  tools/strmap.c's dt_hash is a different
 * function on purpose: its values are part of the tools' output (timeline
 * colours, Perfetto track uuids and flow ids) and must stay as they are.
 */
#ifndef DASF_HASH_H
#define DASF_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t dasf_hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n) { /* 1..7 tail bytes without a variable-length copy */
        const uint8_t *u = (const uint8_t *)s;
        uint64_t w;
        if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, u, 4);
            memcpy(&b, u + n - 4, 4);
            w = (uint64_t)a << 32 | b;
        } else {
            w = (uint64_t)u[0] << 16 | (uint64_t)u[n >> 1] << 8 | u[n - 1];
        }
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    }
    h ^= h >> 32;
    return h;
}

#endif
