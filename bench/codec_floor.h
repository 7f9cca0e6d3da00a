/* codec_floor.h — zstd alone on an archive's chunk payloads (codec_floor.c). */
#ifndef DASF_BENCH_CODEC_FLOOR_H
#define DASF_BENCH_CODEC_FLOOR_H
#include <stddef.h>
#include <stdint.h>

typedef struct bench_floor {
    uint64_t events, raw_bytes, stored_bytes;
    size_t chunks;
    double seconds;      /* median over the passes: compressing every payload once */
    double events_per_s; /* events / seconds */
} bench_floor;

/* Decompresses every chunk of the archive `file` and times compressing the
 * payloads again at `level` (median of `passes`).  0, or -1 when the file
 * is not a readable archive. */
int bench_codec_floor(const char *file, int level, int passes, bench_floor *out);
#endif
