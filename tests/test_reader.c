/* test_reader.c — the reader's promises: autodetection, damage skipped and
 * reported with resync on the next chunk/record, and dasf_writer's files. */
#include "archive.h"
#include "encode.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* n chunks of per events each; chunk c's events are named "c<c>". */
static dasf_buf make_chunks(int level, int n, int per, size_t *offsets) {
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, level, 8), 0);
    dasf_buf out = {0};
    for (int c = 0; c < n; c++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", c);
        if (offsets) offsets[c] = out.len;
        for (int i = 0; i < per; i++) {
            dasf_enc_event e = {.name = name, .phase = 'X', .ts_ns = c * 1000000 + i * 100,
                                .dur_ns = 50, .ts = c + i * 1e-4, .dur = 5e-5};
            e.pid = dasf_id_int(1);
            e.tid = dasf_id_int(2);
            cr_assert_eq(dasf_chunk_enc_add(enc, &e), 0);
        }
        cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, &out), 0);
    }
    if (offsets) offsets[n] = out.len;
    dasf_chunk_enc_destroy(enc);
    return out;
}

/* Counts events per chunk name c0..c9 into counts[]. */
static dasf_trace_stats read_counts(const char *path, int *counts) {
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    int rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) counts[atoi(ev->name + 1)]++;
    cr_assert_eq(rc, 0);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    dasf_trace_close(r);
    return st;
}

static const char *tmpfile_with(const void *p, size_t n, const char *name) {
    const char *path = th_tmp_file(name);
    cr_assert_eq(th_write_file(path, p, n), 0);
    return path;
}

/* close and get_stats have the shapes of every close and get_stats: an int status. */
Test(reader, close_and_get_stats_return_a_status) {
    size_t off[2];
    dasf_buf b = make_chunks(1, 1, 10, off);
    const char *path = tmpfile_with(b.data, b.len, "shapes.zst");
    dasf_buf_free(&b);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    dasf_trace_stats st;
    memset(&st, 0xff, sizeof st);
    cr_assert_eq(dasf_trace_get_stats(NULL, &st), DASF_EINVAL);
    cr_assert_eq(st.events, 0, "a NULL reader gives zeroed stats");
    cr_assert_eq(dasf_trace_get_stats(r, NULL), DASF_EINVAL);
    const dasf_trace_event *ev;
    while (dasf_trace_next(r, &ev) == 1) {
    }
    cr_assert_eq(dasf_trace_get_stats(r, &st), 0);
    cr_assert_eq(st.events, 10);
    cr_assert_eq(dasf_trace_close(r), 0);
    cr_assert_eq(dasf_trace_close(NULL), 0);
}

Test(reader, archive_truncated_tail_costs_only_that_chunk) {
    size_t off[5];
    dasf_buf b = make_chunks(1, 4, 100, off);
    size_t cut = off[3] + (off[4] - off[3]) / 2;
    const char *path = tmpfile_with(b.data, cut, "tail.zst");
    int counts[10] = {0};
    dasf_trace_stats st = read_counts(path, counts);
    cr_assert_eq(counts[0], 100);
    cr_assert_eq(counts[1], 100);
    cr_assert_eq(counts[2], 100);
    cr_assert_eq(counts[3], 0);
    cr_assert_eq(st.chunks_read, 3);
    cr_assert_eq(st.chunks_damaged, 1);
    cr_assert_eq(st.bytes_damaged, cut - off[3]);
    cr_assert_eq(st.first_damage_offset, off[3]);
    cr_assert(strstr(st.first_damage, "truncated") != NULL, "%s", st.first_damage);
    dasf_buf_free(&b);
}

Test(reader, archive_garbage_chunk_in_the_middle_is_skipped) {
    size_t off[5];
    dasf_buf b = make_chunks(1, 4, 100, off);
    /* Replace chunk 1 by garbage of the same size, and insert random bytes
     * (with a fake magic in them) between chunks 2 and 3. */
    uint8_t *f = malloc(b.len + 500);
    memcpy(f, b.data, off[1]);
    for (size_t i = off[1]; i < off[2]; i++) f[i] = (uint8_t)(i * 7919 >> 3);
    memcpy(f + off[2], b.data + off[2], off[3] - off[2]);
    uint8_t *g = f + off[3];
    for (int i = 0; i < 500; i++) g[i] = (uint8_t)(i * 31 + 5);
    dasf_store_le32(g + 100, DASF_CHUNK_MAGIC); /* a decoy header */
    dasf_store_le32(g + 104, 40);
    memcpy(f + off[3] + 500, b.data + off[3], off[4] - off[3]);
    const char *path = tmpfile_with(f, b.len + 500, "mid.zst");
    int counts[10] = {0};
    dasf_trace_stats st = read_counts(path, counts);
    cr_assert_eq(counts[0], 100);
    cr_assert_eq(counts[1], 0);
    cr_assert_eq(counts[2], 100);
    cr_assert_eq(counts[3], 100);
    cr_assert_eq(st.chunks_read, 3);
    cr_assert_eq(st.chunks_damaged, 2);
    cr_assert_eq(st.bytes_damaged, (off[2] - off[1]) + 500);
    cr_assert_eq(st.first_damage_offset, off[1]);
    free(f);
    dasf_buf_free(&b);
}

Test(reader, archive_bit_flip_fails_the_checksum) {
    size_t off[4];
    dasf_buf b = make_chunks(1, 3, 100, off);
    b.data[off[2] - 10] ^= 0x01; /* inside chunk 1's zstd frame */
    const char *path = tmpfile_with(b.data, b.len, "flip.zst");
    int counts[10] = {0};
    dasf_trace_stats st = read_counts(path, counts);
    cr_assert_eq(counts[0], 100);
    cr_assert_eq(counts[1], 0);
    cr_assert_eq(counts[2], 100);
    cr_assert_eq(st.chunks_damaged, 1);
    cr_assert(strstr(st.first_damage, "checksum") != NULL, "%s", st.first_damage);
    dasf_buf_free(&b);
}

Test(reader, archive_with_damaged_first_chunk_is_still_an_archive) {
    size_t off[4];
    dasf_buf b = make_chunks(1, 3, 10, off);
    memset(b.data, 0xee, 12);
    const char *path = tmpfile_with(b.data, b.len, "head.zst");
    int counts[10] = {0};
    dasf_trace_stats st = read_counts(path, counts);
    cr_assert_eq(st.layout, DASF_LAYOUT_ARCHIVE);
    cr_assert_eq(counts[0], 0);
    cr_assert_eq(counts[1], 10);
    cr_assert_eq(counts[2], 10);
    cr_assert_eq(st.chunks_damaged, 1);
    dasf_buf_free(&b);
}

Test(reader, legacy_truncated_tail_and_garbage_are_skipped) {
    size_t off[4];
    dasf_buf b = make_chunks(0, 3, 20, off); /* legacy: 60 records */
    size_t rec = (off[1] - off[0]) / 20;     /* records all have the same size */
    uint8_t *f = malloc(b.len + 64);
    size_t at = off[1] + 5 * rec; /* garbage instead of record 25 */
    memcpy(f, b.data, b.len);
    for (size_t i = 0; i < rec; i++) f[at + i] = (uint8_t)(0x5a ^ i);
    size_t len = b.len - rec / 2; /* torn last record */
    const char *path = tmpfile_with(f, len, "leg.msgpack");
    int counts[10] = {0};
    dasf_trace_stats st = read_counts(path, counts);
    cr_assert_eq(st.layout, DASF_LAYOUT_LEGACY);
    cr_assert_eq(counts[0], 20);
    cr_assert_eq(counts[1], 19);
    cr_assert_eq(counts[2], 19);
    cr_assert_eq(st.chunks_damaged, 2);
    cr_assert_eq(st.bytes_damaged, rec + (rec - rec / 2));
    cr_assert_eq(st.first_damage_offset, at);
    free(f);
    dasf_buf_free(&b);
}

Test(reader, empty_file_has_no_events) {
    const char *path = tmpfile_with("", 0, "empty");
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *ev;
    cr_assert_eq(dasf_trace_next(r, &ev), 0);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    cr_assert_eq(st.layout, DASF_LAYOUT_EMPTY);
    dasf_chunk_info ci;
    cr_assert_eq(dasf_trace_chunk(r, &ci), DASF_ENOTSUP);
    dasf_trace_close(r);
}

Test(reader, not_a_trace_is_a_format_error) {
    const char *text = "hello, this is a text file and not a trace at all\n";
    const char *path = tmpfile_with(text, strlen(text), "text.txt");
    dasf_trace *r = NULL;
    cr_assert_eq(dasf_trace_open(&r, path), DASF_EFORMAT);
    cr_assert_eq(dasf_trace_open(&r, "/nonexistent/dir/file"), DASF_ENOENT);
    cr_assert_eq(dasf_trace_open(&r, th_tmp_file(".")), DASF_ENOTREG); /* a directory */
    uint8_t zeros[64] = {0};
    path = tmpfile_with(zeros, sizeof zeros, "zeros");
    cr_assert_eq(dasf_trace_open(&r, path), DASF_EFORMAT);
    cr_assert_eq(th_count_events(path), DASF_EFORMAT);
}

Test(reader, detect_layout_cases) {
    uint8_t arch[8];
    dasf_store_le32(arch, DASF_CHUNK_MAGIC);
    dasf_store_le32(arch + 4, 100);
    cr_assert_eq(dasf_detect_layout(arch, 8), DASF_LAYOUT_ARCHIVE);
    cr_assert_eq(dasf_detect_layout(arch, 4), DASF_LAYOUT_ARCHIVE);
    cr_assert_eq(dasf_detect_layout(arch, 0), DASF_LAYOUT_EMPTY);
    const uint8_t leg8[] = {0, 0, 0, 0, 0, 0, 0, 93, 0x87, 0xa4, 'n', 'a', 'm', 'e'};
    cr_assert_eq(dasf_detect_layout(leg8, sizeof leg8), DASF_LAYOUT_LEGACY);
    const uint8_t leg4[] = {0, 0, 0, 93, 0x87, 0xa4, 'n', 'a', 'm', 'e', 0, 0, 0, 0, 0, 0};
    cr_assert_eq(dasf_detect_layout(leg4, sizeof leg4), DASF_LAYOUT_LEGACY);
    const uint8_t zst[] = {0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(dasf_detect_layout(zst, sizeof zst), DASF_EFORMAT); /* plain zstd */
    const uint8_t txt[] = "just some text";
    cr_assert_eq(dasf_detect_layout(txt, sizeof txt - 1), DASF_EFORMAT);
}

static void fill_event(dasf_trace_event *ev, int i) {
    memset(ev, 0, sizeof *ev);
    ev->name = i % 2 ? "odd" : "even";
    ev->phase = DASF_PHASE_COMPLETE;
    ev->timestamp_ns = 5000000000ll + i * 1000;
    ev->timestamp = (double)ev->timestamp_ns / 1e9;
    ev->duration_ns = 10;
    ev->duration = 1e-8;
    ev->has_duration = true;
    ev->process_id.type = DASF_VAL_STR;
    ev->process_id.v.str.ptr = "host";
    ev->process_id.v.str.len = 4;
    ev->thread_id.type = DASF_VAL_INT;
    ev->thread_id.v.i = i % 3;
    ev->args.type = DASF_VAL_MAP;
}

Test(reader, writer_chunks_origin_and_layout_guard) {
    const char *path = th_tmp_file("w.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.commit_threshold = 7;
    o.compression_level = 3;
    o.flush = false;
    dasf_writer *w;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    dasf_trace_event ev;
    for (int i = 0; i < 20; i++) {
        fill_event(&ev, i);
        cr_assert_eq(dasf_writer_add(w, &ev), 0);
    }
    dasf_chunk_info origin = {.writer_pid = 31337, .realtime_offset_ns = 42, .dropped = 5};
    strcpy(origin.host, "elsewhere");
    strcpy(origin.clock, "monotonic");
    cr_assert_eq(dasf_writer_set_origin(w, &origin), 0);
    fill_event(&ev, 20);
    cr_assert_eq(dasf_writer_add(w, &ev), 0);
    cr_assert_eq(dasf_writer_close(w), 0);

    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *e;
    dasf_chunk_info ci;
    int n = 0;
    while (dasf_trace_next(r, &e) == 1) {
        cr_assert_eq(e->timestamp_ns, 5000000000ll + n * 1000);
        cr_assert_eq(dasf_trace_chunk(r, &ci), 0);
        cr_assert_eq(ci.index, n < 20 ? (uint64_t)n / 7 : 3); /* set_origin cut chunk 2 */
        if (n < 20) {
            cr_assert_eq(ci.writer_pid, getpid());
        } else {
            cr_assert_eq(ci.writer_pid, 31337);
            cr_assert_str_eq(ci.host, "elsewhere");
            cr_assert_eq(ci.dropped, 5);
            cr_assert_eq(ci.realtime_offset_ns, 42);
        }
        n++;
    }
    cr_assert_eq(n, 21);
    dasf_trace_close(r);

    /* Appending the other layout is refused; remove_old_output_file starts over. */
    o.compression_level = 0;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    cr_assert_eq(dasf_writer_add(w, &ev), 0);
    cr_assert_eq(dasf_writer_close(w), DASF_EFORMAT);
    cr_assert_eq(th_count_events(path), 21);
    o.remove_old_output_file = true;
    o.default_byte_size = 4;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    cr_assert_eq(th_count_events(path), DASF_ENOENT);
    for (int i = 0; i < 3; i++) cr_assert_eq(dasf_writer_add(w, &ev), 0);
    cr_assert_eq(dasf_writer_close(w), 0);
    cr_assert_eq(th_count_events(path), 3);
}

Test(reader, writer_rejects_bad_input) {
    dasf_writer *w;
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = 20;
    cr_assert_eq(dasf_writer_open(&w, "/tmp/x", &o), DASF_EINVAL);
    o.compression_level = 1;
    o.default_byte_size = 0;
    cr_assert_eq(dasf_writer_open(&w, "/tmp/x", &o), DASF_EINVAL);
    o = dasf_file_db_options_default();
    const char *path = th_tmp_file("bad.zst");
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    dasf_trace_event ev;
    fill_event(&ev, 0);
    ev.name = NULL;
    cr_assert_eq(dasf_writer_add(w, &ev), DASF_EINVAL);
    fill_event(&ev, 0);
    ev.process_id.type = DASF_VAL_FLOAT; /* ids are int, string or nil */
    cr_assert_eq(dasf_writer_add(w, &ev), DASF_EINVAL);
    fill_event(&ev, 0);
    ev.args.type = DASF_VAL_ARRAY;
    cr_assert_eq(dasf_writer_add(w, &ev), DASF_EINVAL);
    cr_assert_eq(dasf_writer_close(w), 0);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "nothing was written");
}

/* A chunk that cannot be appended (lock held elsewhere) stays pending and
 * lands exactly once after the lock is released. */
Test(reader, writer_keeps_a_chunk_through_a_lock_timeout) {
    const char *path = th_tmp_file("lock.zst");
    cr_assert_eq(th_write_file(path, "", 0), 0);
    int holder = open(path, O_RDWR);
    cr_assert_geq(holder, 0);
    cr_assert_eq(flock(holder, LOCK_EX), 0);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.lock_timeout = 0.05;
    o.flush = false;
    dasf_writer *w;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    dasf_trace_event ev;
    for (int i = 0; i < 10; i++) {
        fill_event(&ev, i);
        cr_assert_eq(dasf_writer_add(w, &ev), 0);
    }
    cr_assert_eq(dasf_writer_flush(w), DASF_ELOCK_TIMEOUT);
    cr_assert_eq(th_count_events(path), 0);
    flock(holder, LOCK_UN);
    close(holder);
    for (int i = 10; i < 15; i++) {
        fill_event(&ev, i);
        cr_assert_eq(dasf_writer_add(w, &ev), 0);
    }
    cr_assert_eq(dasf_writer_close(w), 0);
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0);
    const dasf_trace_event *e;
    int n = 0;
    while (dasf_trace_next(r, &e) == 1) {
        cr_assert_eq(e->timestamp_ns, 5000000000ll + n * 1000, "event %d once, in order", n);
        n++;
    }
    cr_assert_eq(n, 15);
    dasf_trace_close(r);
}

/* Random damage (flipped bytes, cuts, splices) never crashes the reader and
 * never yields more events than were written; in an archive, every event it
 * yields is one that was written. */
Test(reader, random_damage_is_survived) {
    uint64_t rng = 0x243F6A8885A308D3ull;
    for (int level = 0; level <= 1; level++) {
        size_t off[6];
        dasf_buf b = make_chunks(level, 5, 40, off);
        uint8_t *f = malloc(b.len);
        const char *path = th_tmp_file("fuzz");
        for (int iter = 0; iter < 150; iter++) {
            memcpy(f, b.data, b.len);
            size_t len = b.len;
            int hits = 1 + iter % 4;
            for (int h = 0; h < hits; h++) {
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                size_t at = (size_t)(rng % len);
                switch (rng >> 60 & 3) {
                case 0: f[at] ^= (uint8_t)(1u << (rng >> 56 & 7)); break;
                case 1: len = at + 1; break; /* cut */
                case 2: memset(f + at, (int)(rng >> 40 & 0xff), len - at < 16 ? len - at : 16); break;
                default: memmove(f + at, f + (rng >> 20) % len, len - at < 64 ? len - at : 1);
                }
            }
            cr_assert_eq(th_write_file(path, f, len), 0);
            dasf_trace *r;
            int rc = dasf_trace_open(&r, path);
            if (rc) {
                cr_assert(rc == DASF_EFORMAT, "open: %d", rc);
                continue;
            }
            const dasf_trace_event *ev;
            int n = 0;
            while ((rc = dasf_trace_next(r, &ev)) == 1) {
                /* Legacy records carry no checksum: a flipped bit in a
                 * string is a different valid record.  Archive chunks do. */
                cr_assert_not_null(ev->name);
                if (level)
                    cr_assert(ev->name[0] == 'c' && ev->name[1] >= '0' && ev->name[1] <= '4');
                n++;
            }
            cr_assert_eq(rc, 0);
            cr_assert_leq(n, 200);
            dasf_trace_close(r);
        }
        free(f);
        dasf_buf_free(&b);
    }
}

/* ---- version 2 compact events: every malformed case is damage ------------------ */

#include <msgpack.h>
#include <zstd.h>

/* One archive chunk around a hand-made data frame content (header map +
 * event arrays, packed by the caller into raw), metadata version `ver`. */
static const char *craft_chunk(const msgpack_sbuffer *raw, int ver, uint64_t events,
                               const char *name) {
    size_t bound = ZSTD_compressBound(raw->size);
    uint8_t *z = malloc(bound);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
    size_t zn = ZSTD_compress2(cc, z, bound, raw->data, raw->size);
    cr_assert(!ZSTD_isError(zn));
    ZSTD_freeCCtx(cc);
    msgpack_sbuffer meta;
    msgpack_sbuffer_init(&meta);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &meta, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    msgpack_pack_str_with_body(&pk, "dasf", 4), msgpack_pack_int(&pk, ver);
    msgpack_pack_str_with_body(&pk, "events", 6), msgpack_pack_uint64(&pk, events);
    msgpack_pack_str_with_body(&pk, "raw_size", 8), msgpack_pack_uint64(&pk, raw->size);
    msgpack_pack_str_with_body(&pk, "stored_size", 11), msgpack_pack_uint64(&pk, zn);
    msgpack_pack_str_with_body(&pk, "crc32c", 6), msgpack_pack_uint32(&pk, dasf_crc32c(0, z, zn));
    dasf_buf out = {0};
    uint8_t hdr[8];
    dasf_store_le32(hdr, DASF_CHUNK_MAGIC);
    dasf_store_le32(hdr + 4, (uint32_t)meta.size);
    dasf_buf_append(&out, hdr, 8);
    dasf_buf_append(&out, meta.data, meta.size);
    dasf_buf_append(&out, z, zn);
    const char *path = tmpfile_with(out.data, out.len, name);
    dasf_buf_free(&out);
    msgpack_sbuffer_destroy(&meta);
    free(z);
    return path;
}

/* Header {dasf, events, strings [k, n, m], streams [[1, 2, 1000]], (schemas
 * {0: [1, 2]})} then the events given as int arrays (a 99 element ends one). */
static const char *compact_case(int ver, int with_schemas, int schemas_first,
                                const int64_t ev[][8], int nev, const char *name) {
    msgpack_sbuffer raw;
    msgpack_sbuffer_init(&raw);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &raw, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, with_schemas ? 5 : 4);
    msgpack_pack_str_with_body(&pk, "dasf", 4), msgpack_pack_int(&pk, ver);
    msgpack_pack_str_with_body(&pk, "events", 6), msgpack_pack_int(&pk, nev);
    if (with_schemas && schemas_first) {
        msgpack_pack_str_with_body(&pk, "schemas", 7), msgpack_pack_map(&pk, 1);
        msgpack_pack_int(&pk, 0), msgpack_pack_array(&pk, 2);
        msgpack_pack_int(&pk, 1), msgpack_pack_int(&pk, 2);
    }
    msgpack_pack_str_with_body(&pk, "strings", 7), msgpack_pack_array(&pk, 3);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_str_with_body(&pk, "m", 1);
    msgpack_pack_str_with_body(&pk, "streams", 7), msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 3), msgpack_pack_int(&pk, 1), msgpack_pack_int(&pk, 2);
    msgpack_pack_int(&pk, 1000);
    if (with_schemas && !schemas_first) {
        msgpack_pack_str_with_body(&pk, "schemas", 7), msgpack_pack_map(&pk, 1);
        msgpack_pack_int(&pk, 0), msgpack_pack_array(&pk, 2);
        msgpack_pack_int(&pk, 1), msgpack_pack_int(&pk, 2);
    }
    for (int i = 0; i < nev; i++) {
        int n = 0;
        while (n < 8 && ev[i][n] != 99) n++;
        msgpack_pack_array(&pk, (size_t)n);
        for (int j = 0; j < n; j++) msgpack_pack_int64(&pk, ev[i][j]);
    }
    const char *path = craft_chunk(&raw, ver, (uint64_t)nev, name);
    msgpack_sbuffer_destroy(&raw);
    return path;
}

static void expect_damaged(const char *path, const char *what) {
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, path), 0, "%s", what);
    const dasf_trace_event *ev;
    int rc;
    while ((rc = dasf_trace_next(r, &ev)) == 1) {
    }
    cr_assert_eq(rc, 0, "%s", what);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    dasf_trace_close(r);
    cr_assert_eq(st.chunks_damaged, 1, "%s: reported as damage", what);
}

Test(reader, compact_events_read_and_malformed_ones_are_damage) {
    /* well formed: schema values, mode 2, explicit pairs, a full-form event */
    static const int64_t good[][8] = {{-9, 0, 0, 70000, 1, 9, 99},
                                      {-13, 0, 30000, 200000, 2, 7, 99},
                                      {-3, 0, 5, 10, 2, 4, 1, 5},
                                      {0, 0, 1, 2, 99}};
    dasf_trace *r;
    cr_assert_eq(dasf_trace_open(&r, compact_case(2, 1, 0, good, 4, "good.zst")), 0);
    const dasf_trace_event *ev;
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(ev->timestamp_ns, 1000);
    cr_assert_eq(ev->duration_ns, 70000);
    cr_assert_eq(ev->args.v.map.n, 2);
    cr_assert_str_eq(ev->args.v.map.items[0].key.v.str.ptr, "n");
    cr_assert_eq(ev->args.v.map.items[0].val.v.i, 1);
    cr_assert_str_eq(ev->args.v.map.items[1].key.v.str.ptr, "m");
    cr_assert_eq(ev->args.v.map.items[1].val.v.i, 9);
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(ev->timestamp_ns, 31000, "mode 2: prev_start + tv");
    cr_assert_eq(ev->args.v.map.items[1].val.v.i, 7);
    cr_assert_eq(dasf_trace_next(r, &ev), 1); /* c = 2: mode 1, pairs */
    cr_assert_eq(ev->timestamp_ns + ev->duration_ns, 231000 + 5, "mode 1: prev_end + tv");
    cr_assert_eq(ev->args.v.map.n, 2);
    cr_assert_str_eq(ev->args.v.map.items[0].key.v.str.ptr, "m");
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(ev->timestamp_ns, 231005 + 1, "full form after compact ones");
    cr_assert_eq(dasf_trace_next(r, &ev), 0);
    dasf_trace_stats st;
    dasf_trace_get_stats(r, &st);
    cr_assert_eq(st.chunks_damaged, 0);
    dasf_trace_close(r);

    /* a version 1 chunk (full-form events only) still reads */
    static const int64_t v1good[][8] = {{0, 0, 5, 10, 1, 3, 99}, {0x20, 0, 7, 4, 99}};
    cr_assert_eq(dasf_trace_open(&r, compact_case(1, 0, 0, v1good, 2, "v1good.zst")), 0);
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(ev->timestamp_ns, 1005);
    cr_assert_eq(ev->duration_ns, 10);
    cr_assert_str_eq(ev->args.v.map.items[0].key.v.str.ptr, "n");
    cr_assert_eq(ev->args.v.map.items[0].val.v.i, 3);
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(ev->timestamp_ns + ev->duration_ns, 1015 + 7, "TSEND: end = prev_end + tv");
    cr_assert_eq(dasf_trace_next(r, &ev), 0);
    dasf_trace_get_stats(r, &st);
    cr_assert_eq(st.chunks_damaged, 0);
    dasf_trace_close(r);

    static const int64_t reserved[][8] = {{-17, 0, 0, 1, 99}};
    expect_damaged(compact_case(2, 1, 0, reserved, 1, "r.zst"), "reserved bit");
    static const int64_t mode3[][8] = {{-7, 0, 0, 1, 99}};
    expect_damaged(compact_case(2, 1, 0, mode3, 1, "m3.zst"), "time mode 3");
    static const int64_t below[][8] = {{-33, 0, 0, 1, 99}};
    expect_damaged(compact_case(2, 1, 0, below, 1, "b.zst"), "code below -32");
    static const int64_t noschema[][8] = {{-9, 0, 0, 1, 5, 6, 99}};
    expect_damaged(compact_case(2, 0, 0, noschema, 1, "ns.zst"), "SCHEMA without schemas");
    static const int64_t count[][8] = {{-9, 0, 0, 1, 5, 99}};
    expect_damaged(compact_case(2, 1, 0, count, 1, "c.zst"), "wrong number of values");
    static const int64_t nodur[][8] = {{-1, 0, 0, 99}};
    expect_damaged(compact_case(2, 1, 0, nodur, 1, "nd.zst"), "compact event without dur");
    static const int64_t v1[][8] = {{-1, 0, 0, 1, 99}};
    expect_damaged(compact_case(1, 0, 0, v1, 1, "v1.zst"), "negative code in version 1");
    static const int64_t ok1[][8] = {{0, 0, 0, 1, 99}};
    expect_damaged(compact_case(2, 1, 1, ok1, 1, "sf.zst"), "schemas before strings");
    expect_damaged(compact_case(4, 0, 0, ok1, 1, "v4.zst"), "unknown version 4");
    /* version 3 ext flags are damage in a version 2 chunk */
    static const int64_t fix[][8] = {{0x40, 0, 1000000000, 3, 0x40 | 0x80 | 0x400, 5, -2, 99}};
    expect_damaged(compact_case(2, 0, 0, fix, 1, "fix2.zst"), "version 3 flags in version 2");
    /* ... and read in version 3: the exact doubles, nil args */
    cr_assert_eq(dasf_trace_open(&r, compact_case(3, 0, 0, fix, 1, "fix3.zst")), 0);
    cr_assert_eq(dasf_trace_next(r, &ev), 1);
    cr_assert_eq(ev->timestamp_ns, 1000001000);
    double t = dasf_ns_to_seconds(1000001000), d = dasf_ns_to_seconds(3);
    uint64_t tb, db;
    memcpy(&tb, &t, 8), memcpy(&db, &d, 8);
    tb += 5, db -= 2;
    cr_assert_eq(memcmp(&ev->timestamp, &tb, 8), 0, "timestamp: ns_to_seconds + 5 ulps");
    cr_assert_eq(memcmp(&ev->duration, &db, 8), 0, "duration: ns_to_seconds - 2 ulps");
    cr_assert(ev->args_nil);
    cr_assert_eq(ev->args.v.map.n, 0);
    cr_assert_eq(dasf_trace_next(r, &ev), 0);
    dasf_trace_close(r);
    static const int64_t nilpairs[][8] = {{0x40, 0, 1, 3, 0x400, 0, 7, 99}};
    expect_damaged(compact_case(3, 0, 0, nilpairs, 1, "np3.zst"), "ARGS_NIL with pairs");
    static const int64_t zerofix[][8] = {{0x40, 0, 1, 3, 0x40, 0, 99}};
    expect_damaged(compact_case(3, 0, 0, zerofix, 1, "zf3.zst"), "a zero fix");
}
