/*
 * layout.c — which layout a trace file has, from its first bytes.
 *
 * Pure function, any thread: the appender checks a file before writing to
 * it (append.c), the reader picks its decoder (reader.c).  An archive
 * starts with the chunk magic; a legacy file with a big-endian length
 * prefix of 1..8 bytes and a msgpack map whose first key is a string.
 */
#include "archive.h"

static int is_map_marker(uint8_t b) { return (b >= 0x81 && b <= 0x8f) || b == 0xde || b == 0xdf; }

int dasf_detect_layout(const uint8_t *head, size_t n) {
    if (!head || n == 0) return DASF_LAYOUT_EMPTY;
    if (n >= 4 && dasf_load_le32(head) == DASF_CHUNK_MAGIC) return DASF_LAYOUT_ARCHIVE;
    /* Legacy: a big-endian length of k bytes (k = default_byte_size, 1..8,
     * 8 tried first), then a non-empty map whose first key is a string. */
    for (size_t k = 8; k >= 1; k--) {
        if (n < k + 2) continue;
        uint64_t len = dasf_load_be(head, k);
        if (len < 2 || len > DASF_MAX_LEGACY_RECORD) continue;
        if (!is_map_marker(head[k])) continue;
        size_t key = head[k] <= 0x8f ? k + 1 : head[k] == 0xde ? k + 3 : k + 5;
        if (key < n && !((head[key] >= 0xa1 && head[key] <= 0xbf) || head[key] == 0xd9))
            continue;
        return DASF_LAYOUT_LEGACY;
    }
    return DASF_EFORMAT;
}
