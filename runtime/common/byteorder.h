/*
 * byteorder.h — loads and stores of the fixed byte orders the formats use
 * (not installed): little-endian zstd magics and metadata sizes, big-endian
 * legacy length prefixes and msgpack integers.  Pure, any thread.
 */
#ifndef DASF_BYTEORDER_H
#define DASF_BYTEORDER_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t dasf_load_be(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}
static inline uint32_t dasf_load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void dasf_store_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
