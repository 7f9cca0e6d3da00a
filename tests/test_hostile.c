/*
 * test_hostile.c — hostile and damaged input (issue 15): the reproductions
 * of ../shared/repro, copied into tests/data/repro/, read through the public
 * reader and through every dasf-trace verb ($DASF_TRACE_BIN).  Each test
 * states what a user relies on: no crash, a clear damage report, the whole
 * chunks around the damage still read, bounded work.  Under the asan preset
 * (ASan + UBSan, every error fatal) a sanitizer report also fails the test:
 * the verbs' stderr is checked for "runtime error" / "AddressSanitizer".
 */
#include "archive.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#define REPRO DASF_TEST_DATA "/repro/"

/* ---- helpers --------------------------------------------------------------- */

typedef struct read_result {
    long events;
    int status; /* last dasf_trace_next status (0 at a clean end) */
    dasf_trace_stats st;
    char names[4096]; /* event names, space separated */
} read_result;

static read_result read_all(const char *path) {
    read_result rr;
    memset(&rr, 0, sizeof rr);
    dasf_trace *t = NULL;
    int rc = dasf_trace_open(&t, path);
    cr_assert_eq(rc, 0, "open %s: %s", path, dasf_strerror(rc));
    const dasf_trace_event *ev;
    size_t used = 0;
    while ((rc = dasf_trace_next(t, &ev)) == 1) {
        rr.events++;
        int n = snprintf(rr.names + used, sizeof rr.names - used, "%s%s", used ? " " : "",
                         ev->name);
        if (n > 0 && (size_t)n < sizeof rr.names - used) used += (size_t)n;
    }
    rr.status = rc;
    dasf_trace_get_stats(t, &rr.st);
    dasf_trace_close(t);
    return rr;
}

/* Runs `dasf-trace ARGS` (stdout and stderr together in *out). */
static int run_verb(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run_verb(char **out, const char *fmt, ...) {
    const char *bin = th_dasf_trace();
    cr_assert(bin, "DASF_TRACE_BIN is not set");
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    return th_run(cmd, out);
}

static void assert_no_sanitizer_report(const char *out, const char *what) {
    cr_assert_null(strstr(out, "runtime error"), "%s: UBSan report:\n%s", what, out);
    cr_assert_null(strstr(out, "AddressSanitizer"), "%s: ASan report:\n%s", what, out);
    cr_assert_null(strstr(out, "LeakSanitizer"), "%s: leak report:\n%s", what, out);
}

#define N_VERBS 9

/* Every reading verb on path: exit status 0 or 1 (never a crash or a
 * sanitizer report); returns how many verbs said the file is damaged. */
static int every_verb(const char *path) {
    const char *out_svg = th_tmp_file("every.svg");
    const char *out_json = th_tmp_file("every.json");
    const char *out_pf = th_tmp_file("every.pftrace");
    const char *out_arch = th_tmp_file("every-conv.zst");
    char verbs[N_VERBS][1200];
    snprintf(verbs[0], sizeof verbs[0], "cat '%s'", path);
    snprintf(verbs[1], sizeof verbs[1], "info '%s'", path);
    snprintf(verbs[2], sizeof verbs[2], "verify '%s'", path);
    snprintf(verbs[3], sizeof verbs[3], "stats '%s'", path);
    snprintf(verbs[4], sizeof verbs[4], "timeline -o '%s' '%s'", out_svg, path);
    snprintf(verbs[5], sizeof verbs[5], "export --chrome -o '%s' '%s'", out_json, path);
    snprintf(verbs[6], sizeof verbs[6], "convert --force --to archive '%s' '%s'", path, out_arch);
    snprintf(verbs[7], sizeof verbs[7], "merge --force -o '%s' '%s'", out_arch, path);
    snprintf(verbs[8], sizeof verbs[8], "export --perfetto -o '%s' '%s'", out_pf, path);
    int damaged = 0;
    for (int i = 0; i < N_VERBS; i++) {
        char *out = NULL;
        int st = run_verb(&out, "%s", verbs[i]);
        assert_no_sanitizer_report(out, verbs[i]);
        cr_assert(st == 0 || st == 1, "%s: exit status %d\n%s", verbs[i], st, out);
        damaged += st == 1;
        free(out);
    }
    return damaged;
}

/* An instant event named name with args kv[0..n) (int pid/tid 0, no id). */
static dasf_trace_event instant_event(const char *name, dasf_kv *kv, uint32_t n) {
    dasf_trace_event e;
    memset(&e, 0, sizeof e);
    e.name = name;
    e.phase = DASF_PHASE_INSTANT;
    e.process_id.type = DASF_VAL_INT;
    e.thread_id.type = DASF_VAL_INT;
    e.id.type = DASF_VAL_NIL;
    e.args.type = DASF_VAL_MAP;
    e.args.v.map.items = kv;
    e.args.v.map.n = n;
    return e;
}

/* ---- 1. every index is checked against its own table --------------------- */

Test(hostile, schema_keys_checked_against_the_table_they_index) {
    /* A chunk header with a second "strings" table after "schemas": the
     * schema's key index 4 was valid for nothing but was checked against
     * the first table; cat and export dereferenced past the second one. */
    read_result rr = read_all(REPRO "schema_stale_strings.zst");
    cr_assert_eq(rr.status, 0);
    cr_assert_eq(rr.events, 0, "no event of that chunk can be trusted");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    cr_assert_eq(rr.st.chunks_read, 0);
    cr_assert(strstr(rr.st.first_damage, "repeats a table"), "%s", rr.st.first_damage);
    /* verify, info and stats used to say ok; every verb now says damaged. */
    cr_assert_eq(every_verb(REPRO "schema_stale_strings.zst"), N_VERBS);
}

/* ---- 2. tools: non-string map keys, spans wider than int64 ----------------- */

Test(hostile, non_string_arg_keys_print_their_value) {
    /* An args map with int and nil keys (a Python dict can have them): cat
     * prints the key's text, which json.c used to measure before writing it. */
    const char *path = th_tmp_file("intkeys.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    dasf_writer *w = NULL;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    dasf_kv kv[2];
    memset(kv, 0, sizeof kv);
    kv[0].key.type = DASF_VAL_INT;
    kv[0].key.v.i = -1234567;
    kv[0].val.type = DASF_VAL_INT;
    kv[0].val.v.i = 1;
    kv[1].key.type = DASF_VAL_NIL;
    kv[1].val.type = DASF_VAL_BOOL;
    kv[1].val.v.b = true;
    dasf_trace_event e = instant_event("k", kv, 2);
    e.timestamp = 1.0;
    e.timestamp_ns = 1000000000;
    cr_assert_eq(dasf_writer_add(w, &e), 0);
    cr_assert_eq(dasf_writer_close(w), 0);
    char *out = NULL;
    int st = run_verb(&out, "cat '%s'", path);
    cr_assert_eq(st, 0, "%s", out);
    cr_assert(strstr(out, "\"args\":{\"-1234567\":1,\"null\":true}"), "%s", out);
    free(out);
}

Test(hostile, time_spans_wider_than_int64) {
    /* Starts near -9e18 ns and ends near +9e18 ns: the span does not fit
     * int64 (info and timeline overflowed, undefined behaviour). */
    const char *path = REPRO "ubsan_info_span_overflow.zst";
    char *out = NULL;
    int st = run_verb(&out, "info '%s'", path);
    assert_no_sanitizer_report(out, "info");
    cr_assert_eq(st, 1, "the chunk has a malformed event: damaged\n%s", out);
    cr_assert(strstr(out, "time span   -8999999995.766445573 s .. 9000000000.000000005 s "
                          "(17999999995.766 s)"),
              "%s", out);
    cr_assert(strstr(out, "dropped"), "info printed to the end\n%s", out);
    free(out);
    const char *svg = th_tmp_file("span.svg");
    st = run_verb(&out, "timeline -o '%s' '%s'", svg, path);
    assert_no_sanitizer_report(out, "timeline");
    cr_assert_eq(st, 1, "%s", out);
    free(out);
    size_t n = 0;
    char *text = (char *)th_read_file(svg, &n);
    cr_assert(text && n > 6, "timeline wrote its picture");
    cr_assert(memmem(text, n, "</svg>", 6), "a whole SVG document");
    free(text);
    cr_assert_eq(every_verb(path), N_VERBS);
}

/* ---- 5 (reader side). a chunk with malformed events is damaged, not whole ---- */

Test(hostile, malformed_events_count_as_damaged_only) {
    /* ubsan_info_span_overflow.zst: one chunk, checksums valid, 17 events
     * then a malformed array.  h4: a chunk claiming 2^40 events (3 real)
     * then a whole chunk. */
    read_result rr = read_all(REPRO "ubsan_info_span_overflow.zst");
    cr_assert_eq(rr.events, 17);
    cr_assert_eq(rr.st.chunks_read, 0);
    cr_assert_eq(rr.st.chunks_damaged, 1);
    cr_assert_eq(rr.st.last_damage_index, 0);
    rr = read_all(REPRO "h4_events_2p40.zst");
    cr_assert_eq(rr.events, 4);
    cr_assert_eq(rr.st.chunks_read, 1);
    cr_assert_eq(rr.st.chunks_damaged, 1);
    char *out = NULL;
    int st = run_verb(&out, "verify '%s'", REPRO "h4_events_2p40.zst");
    cr_assert_eq(st, 1);
    cr_assert(strstr(out, "damaged: chunk 0 at byte 0, 146 bytes skipped: chunk at byte 0: "
                          "malformed event array"),
              "verify names the chunk the bad array is in\n%s", out);
    cr_assert(strstr(out, "DAMAGED: archive, 1 whole chunks (4 events), 1 damaged"), "%s", out);
    free(out);
    st = run_verb(&out, "info '%s'", REPRO "h4_events_2p40.zst");
    cr_assert(strstr(out, "chunks      1 whole, 1 damaged"), "%s", out);
    free(out);
}

Test(hostile, verify_names_each_damaged_region) {
    /* whole, torn copy, whole, garbage, whole: verify names chunks 1 and 3
     * at their offsets (it used to guess the index from whole chunks only
     * and had no offset after the first damage in legacy files). */
    const char *good = th_tmp_file("good.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.commit_threshold = 1;
    dasf_writer *w = NULL;
    cr_assert_eq(dasf_writer_open(&w, good, &o), 0);
    dasf_trace_event e = instant_event("x", NULL, 0);
    cr_assert_eq(dasf_writer_add(w, &e), 0);
    cr_assert_eq(dasf_writer_close(w), 0);
    size_t n = 0;
    uint8_t *c = th_read_file(good, &n);
    cr_assert(c && n > 20);
    size_t torn = n - 7;
    const char garbage[] = "not a chunk at all, just some bytes";
    size_t total = n + torn + n + (sizeof garbage - 1) + n;
    uint8_t *f = malloc(total), *p = f;
    memcpy(p, c, n), p += n;
    memcpy(p, c, torn), p += torn;
    memcpy(p, c, n), p += n;
    memcpy(p, garbage, sizeof garbage - 1), p += sizeof garbage - 1;
    memcpy(p, c, n);
    const char *path = th_tmp_file("regions.zst");
    cr_assert_eq(th_write_file(path, f, total), 0);
    char *out = NULL;
    int st = run_verb(&out, "verify '%s'", path);
    cr_assert_eq(st, 1, "%s", out);
    char want[256];
    snprintf(want, sizeof want, "damaged: chunk 1 at byte %zu, %zu bytes skipped", n, torn);
    cr_assert(strstr(out, want), "want '%s' in\n%s", want, out);
    snprintf(want, sizeof want, "damaged: chunk 3 at byte %zu, %zu bytes skipped", 2 * n + torn,
             sizeof garbage - 1);
    cr_assert(strstr(out, want), "want '%s' in\n%s", want, out);
    cr_assert(strstr(out, "DAMAGED: archive, 3 whole chunks (3 events), 2 damaged"), "%s", out);
    free(out);
    free(f);
    free(c);
}

/* ---- inputs handled well before: keep them so --------------------------------- */

Test(hostile, kept_regression_inputs) {
    read_result rr = read_all(REPRO "h1b_legacy_len2p62_between.msgpack");
    cr_assert_eq(rr.events, 2);
    cr_assert_str_eq(rr.names, "a c");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    rr = read_all(REPRO "h3b_archive_nested100k.zst");
    cr_assert_str_eq(rr.names, "ok", "the chunk after the 100 000-deep args reads");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    rr = read_all(REPRO "h4_events_2p40.zst");
    cr_assert_str_eq(rr.names, "ok ok ok ok");
    cr_assert_eq(every_verb(REPRO "h1b_legacy_len2p62_between.msgpack"), N_VERBS);
    cr_assert_eq(every_verb(REPRO "h3b_archive_nested100k.zst"), N_VERBS);
    cr_assert_eq(every_verb(REPRO "h4_events_2p40.zst"), N_VERBS);
}

/* ---- 3. bounded memory on any input ------------------------------------------- */

/* Peak resident memory (KiB) of `dasf-trace verb path`, run as a child;
 * its exit status in *status. */
static long verb_peak_rss_kb(const char *verb, const char *path, int *status) {
    const char *bin = th_dasf_trace();
    cr_assert(bin, "DASF_TRACE_BIN is not set");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1), dup2(devnull, 2);
        execl(bin, bin, verb, path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return ru.ru_maxrss;
}

/* Generous: the bound is 64 MiB + the chunk (FORMAT.md section 6); ASan's
 * shadow memory and quarantine come on top.  The inputs below took 1.9 to
 * 8 GB before (or failed to allocate). */
#define RSS_CEILING_KB (400L << 10)

static void assert_bounded(const char *path) {
    static const char *const verbs[] = {"verify", "cat", "info", "stats"};
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
        int st = 0;
        long kb = verb_peak_rss_kb(verbs[i], path, &st);
        cr_assert_eq(st, 1, "%s %s: damaged input, exit 1 (got %d)", verbs[i], path, st);
        cr_assert_lt(kb, RSS_CEILING_KB, "%s %s: peak RSS %ld KiB", verbs[i], path, kb);
    }
}

/* Chunk metadata {dasf: 2, events, raw_size, stored_size, crc32c} (every
 * value a uint64, 0xcf) behind the skippable-frame header, appended to out. */
static void put_meta(dasf_buf *out, uint64_t events, uint64_t raw, uint64_t stored, uint64_t crc) {
    uint8_t meta[128], *m = meta;
    *m++ = 0x85;
    const char *keys[5] = {"dasf", "events", "raw_size", "stored_size", "crc32c"};
    uint64_t vals[5] = {2, events, raw, stored, crc};
    for (int i = 0; i < 5; i++) {
        size_t kl = strlen(keys[i]);
        *m++ = (uint8_t)(0xa0 | kl);
        memcpy(m, keys[i], kl), m += kl;
        *m++ = 0xcf;
        for (int b = 7; b >= 0; b--) *m++ = (uint8_t)(vals[i] >> (8 * b));
    }
    uint8_t hdr[8];
    dasf_store_le32(hdr, DASF_CHUNK_MAGIC);
    dasf_store_le32(hdr + 4, (uint32_t)(m - meta));
    dasf_buf_append(out, hdr, 8);
    dasf_buf_append(out, meta, (size_t)(m - meta));
}

/* One archive chunk around content `raw` (header map + events, packed by
 * the caller) appended to out; metadata states `events`. */
static void put_chunk(dasf_buf *out, const void *raw, size_t rn, uint64_t events) {
    size_t bound = ZSTD_compressBound(rn);
    uint8_t *z = malloc(bound);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
    size_t zn = ZSTD_compress2(cc, z, bound, raw, rn);
    cr_assert(!ZSTD_isError(zn));
    ZSTD_freeCCtx(cc);
    put_meta(out, events, rn, zn, dasf_crc32c(0, z, zn));
    dasf_buf_append(out, z, zn);
    free(z);
}

static void put_str(dasf_buf *b, const char *s) {
    uint8_t h = (uint8_t)(0xa0 | strlen(s));
    dasf_buf_append(b, &h, 1);
    dasf_buf_append(b, s, strlen(s));
}

/* Header {dasf: 2, events: 1, strings: <table>, streams: [[1, 2, 0]]}: the
 * caller appends the strings array (header and items) through `table`. */
static void put_header(dasf_buf *raw, const void *table, size_t tn) {
    static const uint8_t h1[] = {0x84, 0xa4, 'd', 'a', 's', 'f', 0x02, 0xa6, 'e', 'v',
                                 'e', 'n', 't', 's', 0x01, 0xa7, 's', 't', 'r', 'i',
                                 'n', 'g', 's'};
    dasf_buf_append(raw, h1, sizeof h1);
    dasf_buf_append(raw, table, tn);
    put_str(raw, "streams");
    static const uint8_t st[] = {0x91, 0x93, 0x01, 0x02, 0x00};
    dasf_buf_append(raw, st, sizeof st);
}

/* A whole chunk of one X event named `name`. */
static void put_good(dasf_buf *out, const char *name) {
    dasf_buf raw = {0};
    uint8_t t = 0x91;
    dasf_buf tab = {0};
    dasf_buf_append(&tab, &t, 1);
    put_str(&tab, name);
    put_header(&raw, tab.data, tab.len);
    static const uint8_t ev[] = {0x94, 0x00, 0x00, 0x00, 0x05};
    dasf_buf_append(&raw, ev, sizeof ev);
    put_chunk(out, raw.data, raw.len, 1);
    dasf_buf_free(&raw);
    dasf_buf_free(&tab);
}

Test(hostile, zstd_frame_claiming_4GiB) {
    /* 1 243 bytes whose frame header and metadata claim 4 GiB of content:
     * the reader reserved 8 GiB; the next chunk was never read under a
     * memory limit. */
    read_result rr = read_all(REPRO "h2a_zstd_claims_4GiB.zst");
    cr_assert_str_eq(rr.names, "ok", "the chunk after it reads");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    assert_bounded(REPRO "h2a_zstd_claims_4GiB.zst");
}

Test(hostile, zstd_frame_claiming_more_than_its_blocks_hold) {
    /* Under the 64 MiB cap, but one 1 KiB raw block cannot hold the 48 MiB
     * the frame header (and the metadata, and a valid CRC) state. */
    enum { CONTENT = 1024 };
    const uint64_t claim = (uint64_t)48 << 20;
    dasf_buf z = {0};
    uint8_t fh[] = {0x28, 0xb5, 0x2f, 0xfd, (2 << 6) | (1 << 2), (20 - 10) << 3, 0, 0, 0, 0};
    dasf_store_le32(fh + 6, (uint32_t)claim);
    dasf_buf_append(&z, fh, sizeof fh);
    uint32_t bh = (CONTENT << 3) | 1; /* raw block, last */
    uint8_t bhb[3] = {(uint8_t)bh, (uint8_t)(bh >> 8), (uint8_t)(bh >> 16)};
    dasf_buf_append(&z, bhb, 3);
    uint8_t content[CONTENT];
    memset(content, 0x90, sizeof content);
    dasf_buf_append(&z, content, sizeof content);
    uint8_t xxh[4] = {0};
    dasf_buf_append(&z, xxh, 4);
    dasf_buf f = {0};
    put_meta(&f, 1, claim, z.len, dasf_crc32c(0, z.data, z.len));
    dasf_buf_append(&f, z.data, z.len);
    put_good(&f, "after");
    const char *path = th_tmp_file("claim48.zst");
    cr_assert_eq(th_write_file(path, f.data, f.len), 0);
    read_result rr = read_all(path);
    cr_assert_str_eq(rr.names, "after");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    cr_assert(strstr(rr.st.first_damage, "more content than its blocks can hold"), "%s",
              rr.st.first_damage);
    dasf_buf_free(&z);
    dasf_buf_free(&f);
}

Test(hostile, string_tables_of_millions_of_empty_strings) {
    /* h5c / h5d: 2^26 / 2^28 real empty strings (1.9 / 7.6 GB resident
     * before, verify said ok): past the raw cap.  And 2^22 of them (4 MiB,
     * under the cap): past the table budget. */
    read_result rr = read_all(REPRO "h5c_strtab_2p26_real.zst");
    cr_assert_str_eq(rr.names, "ok");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    rr = read_all(REPRO "h5d_strtab_2p28_real.zst");
    cr_assert_str_eq(rr.names, "ok");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    assert_bounded(REPRO "h5c_strtab_2p26_real.zst");
    assert_bounded(REPRO "h5d_strtab_2p28_real.zst");

    enum { N = 1 << 22 };
    dasf_buf tab = {0}, raw = {0}, f = {0};
    uint8_t th[5] = {0xdd, (uint8_t)(N >> 24), (uint8_t)(N >> 16), (uint8_t)(N >> 8), (uint8_t)N};
    dasf_buf_append(&tab, th, 5);
    cr_assert_eq(dasf_buf_reserve(&tab, N), 0);
    memset(tab.data + tab.len, 0xa0, N);
    tab.len += N;
    put_header(&raw, tab.data, tab.len);
    static const uint8_t ev[] = {0x94, 0x00, 0x00, 0x00, 0x05};
    dasf_buf_append(&raw, ev, sizeof ev);
    put_chunk(&f, raw.data, raw.len, 1);
    put_good(&f, "after");
    const char *path = th_tmp_file("strtab2p22.zst");
    cr_assert_eq(th_write_file(path, f.data, f.len), 0);
    rr = read_all(path);
    cr_assert_str_eq(rr.names, "after");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    cr_assert(strstr(rr.st.first_damage, "more memory than the reader's bound"), "%s",
              rr.st.first_damage);
    assert_bounded(path);
    dasf_buf_free(&tab);
    dasf_buf_free(&raw);
    dasf_buf_free(&f);
}

/* A legacy record (8-byte length) {name, timestamp, phase, args: {a: value}}
 * with the value's msgpack given. */
static void put_legacy(dasf_buf *f, const char *name, const void *val, size_t vn) {
    dasf_buf b = {0};
    uint8_t m = 0x84;
    dasf_buf_append(&b, &m, 1);
    put_str(&b, "name");
    put_str(&b, name);
    put_str(&b, "timestamp");
    uint8_t ts[9] = {0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}; /* 1.5 */
    dasf_buf_append(&b, ts, 9);
    put_str(&b, "phase");
    put_str(&b, "X");
    put_str(&b, "args");
    uint8_t am = 0x81;
    dasf_buf_append(&b, &am, 1);
    put_str(&b, "a");
    dasf_buf_append(&b, val, vn);
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)b.len >> (8 * (7 - i)));
    dasf_buf_append(f, len, 8);
    dasf_buf_append(f, b.data, b.len);
    dasf_buf_free(&b);
}

/* msgpack array of n nils (the shape that decodes to the most memory per
 * byte: 24 bytes of tree per byte of input). */
static dasf_buf nil_array(size_t n) {
    dasf_buf v = {0};
    uint8_t h[5] = {0xdd, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    dasf_buf_append(&v, h, 5);
    cr_assert_eq(dasf_buf_reserve(&v, n), 0);
    memset(v.data + v.len, 0xc0, n);
    v.len += n;
    return v;
}

Test(hostile, event_tree_past_the_budget_is_damage) {
    /* A 2 MiB legacy record of nils decodes to 48 MiB of tree: damaged (not
     * ENOMEM, not a crash), and the next record still reads. */
    dasf_buf f = {0}, v = nil_array((size_t)2 << 20);
    put_legacy(&f, "big", v.data, v.len);
    uint8_t one = 0x01;
    put_legacy(&f, "after", &one, 1);
    const char *path = th_tmp_file("bigtree.msgpack");
    cr_assert_eq(th_write_file(path, f.data, f.len), 0);
    read_result rr = read_all(path);
    cr_assert_eq(rr.status, 0);
    cr_assert_str_eq(rr.names, "after");
    cr_assert_eq(rr.st.chunks_damaged, 1);
    dasf_buf_free(&f);
    dasf_buf_free(&v);
}

/* A map {"a": array of n nils} as raw msgpack args. */
static dasf_buf args_nils(size_t n) {
    dasf_buf m = {0}, v = nil_array(n);
    uint8_t h = 0x81;
    dasf_buf_append(&m, &h, 1);
    put_str(&m, "a");
    dasf_buf_append(&m, v.data, v.len);
    dasf_buf_free(&v);
    return m;
}

static long array_len_of_a(const char *path, long *events) {
    dasf_trace *t;
    cr_assert_eq(dasf_trace_open(&t, path), 0);
    const dasf_trace_event *ev;
    long len = -1;
    *events = 0;
    int rc;
    while ((rc = dasf_trace_next(t, &ev)) == 1) {
        ++*events;
        const dasf_value *a = dasf_value_map_get(&ev->args, "a");
        if (a && a->type == DASF_VAL_ARRAY) len = a->v.array.n;
    }
    cr_assert_eq(rc, 0);
    dasf_trace_stats st;
    dasf_trace_get_stats(t, &st);
    cr_assert_eq(st.chunks_damaged, 0, "%s", st.first_damage);
    dasf_trace_close(t);
    return len;
}

Test(hostile, the_largest_event_a_writer_accepts_reads_back) {
    /* The writers refuse an event past DASF_MAX_EVENT_BYTES (1 MiB), and
     * the worst-shaped event just under it (all nils) reads back within
     * the reader's event budget: no file we write is one we cannot read. */
    const char *path = th_tmp_file("bigevent.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.ring_capacity = (size_t)16 << 20; /* a quarter of it would allow 4 MiB */
    for (int level = 1; level >= 0; level--) {
        o.compression_level = level;
        o.remove_old_output_file = true;
        dasf_profiler *p;
        cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
        size_t fit = DASF_MAX_EVENT_BYTES - 1024, over = DASF_MAX_EVENT_BYTES + 16;
        dasf_buf ok = args_nils(fit), big = args_nils(over);
        dasf_event e;
        memset(&e, 0, sizeof e);
        e.name = "big";
        e.phase = DASF_PHASE_COMPLETE;
        e.timestamp = 1.0;
        e.duration = 0.5;
        /* ids zero: automatic */
        e.args_msgpack = ok.data;
        e.args_msgpack_size = ok.len;
        cr_assert_eq(dasf_profiler_record(p, &e), 0);
        e.args_msgpack = big.data;
        e.args_msgpack_size = big.len;
        cr_assert_eq(dasf_profiler_record(p, &e), DASF_EINVAL, "past the event limit");
        cr_assert_eq(dasf_profiler_destroy(p), 0);
        long events = 0;
        cr_assert_eq(array_len_of_a(path, &events), (long)fit, "level %d", level);
        cr_assert_eq(events, 1);
        dasf_buf_free(&ok);
        dasf_buf_free(&big);
    }
    /* dasf_writer (convert, merge): the same limit on an args tree. */
    const char *wpath = th_tmp_file("bigevent-w.zst");
    dasf_writer *w;
    o.compression_level = 1;
    cr_assert_eq(dasf_writer_open(&w, wpath, &o), 0);
    size_t fit = DASF_MAX_EVENT_BYTES - 1024;
    dasf_value *items = calloc(fit + 32, sizeof *items);
    dasf_kv kv;
    memset(&kv, 0, sizeof kv);
    kv.key.type = DASF_VAL_STR;
    kv.key.v.str.ptr = "a";
    kv.key.v.str.len = 1;
    kv.val.type = DASF_VAL_ARRAY;
    kv.val.v.array.items = items;
    kv.val.v.array.n = (uint32_t)fit;
    dasf_trace_event te = instant_event("big", &kv, 1);
    cr_assert_eq(dasf_writer_add(w, &te), 0);
    kv.val.v.array.n = (uint32_t)(DASF_MAX_EVENT_BYTES + 16);
    items = realloc(items, (DASF_MAX_EVENT_BYTES + 16) * sizeof *items);
    memset(items, 0, (DASF_MAX_EVENT_BYTES + 16) * sizeof *items);
    kv.val.v.array.items = items;
    cr_assert_eq(dasf_writer_add(w, &te), DASF_EINVAL);
    cr_assert_eq(dasf_writer_close(w), 0);
    long events = 0;
    cr_assert_eq(array_len_of_a(wpath, &events), (long)fit);
    cr_assert_eq(events, 1);
    free(items);
}

Test(hostile, writers_cut_chunks_within_the_bounds) {
    /* One commit of ~20 MiB of events: several chunks, each at most the
     * target + one event (the reader's raw cap is far above). */
    const char *path = th_tmp_file("cut.zst");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.flush = false;
    o.commit_threshold = 1 << 30; /* never by count */
    dasf_writer *w;
    cr_assert_eq(dasf_writer_open(&w, path, &o), 0);
    char text[501];
    memset(text, 'x', 500);
    text[500] = 0;
    dasf_kv kv;
    memset(&kv, 0, sizeof kv);
    kv.key.type = DASF_VAL_STR;
    kv.key.v.str.ptr = "t";
    kv.key.v.str.len = 1;
    kv.val.type = DASF_VAL_STR;
    kv.val.v.str.ptr = text;
    kv.val.v.str.len = 500;
    dasf_trace_event te = instant_event("e", &kv, 1);
    enum { N = 40000 };
    for (int i = 0; i < N; i++) {
        te.timestamp_ns = i;
        cr_assert_eq(dasf_writer_add(w, &te), 0);
    }
    cr_assert_eq(dasf_writer_close(w), 0);
    dasf_trace *t;
    cr_assert_eq(dasf_trace_open(&t, path), 0);
    const dasf_trace_event *ev;
    long n = 0;
    uint64_t last = UINT64_MAX, chunks = 0, max_raw = 0;
    while (dasf_trace_next(t, &ev) == 1) {
        n++;
        dasf_chunk_info ci;
        cr_assert_eq(dasf_trace_chunk(t, &ci), 0);
        if (ci.index != last) chunks++, last = ci.index;
        if (ci.raw_size > max_raw) max_raw = ci.raw_size;
    }
    dasf_trace_close(t);
    cr_assert_eq(n, N);
    cr_assert_geq(chunks, 2, "about 20 MiB raw: cut in at least two chunks");
    cr_assert_leq(max_raw, DASF_CHUNK_TARGET_BYTES + DASF_MAX_EVENT_BYTES, "largest chunk %" PRIu64,
                  max_raw);
}

/* ---- 4. resynchronisation is linear --------------------------------------------- */

Test(hostile, archive_resync_over_fake_frames_and_garbage) {
    /* The shape of mk2.py's h8 at a small size: 2000 fake metadata frames
     * claiming large data frames that are present, then zeros, then fake
     * chunks whose header is valid but CRC wrong, then a whole chunk.
     * Only correctness is asserted; bench-like timing is in the note. */
    dasf_buf f = {0};
    put_good(&f, "first");
    size_t good = f.len;
    for (int i = 0; i < 2000; i++) {
        put_meta(&f, 1, 100, (uint64_t)4 << 20, 0);
        uint8_t zm[4];
        dasf_store_le32(zm, DASF_ZSTD_MAGIC);
        dasf_buf_append(&f, zm, 4);
    }
    size_t zeros = (size_t)6 << 20;
    cr_assert_eq(dasf_buf_reserve(&f, zeros), 0);
    memset(f.data + f.len, 0, zeros);
    f.len += zeros;
    for (int i = 0; i < 50; i++) { /* valid frame headers, wrong CRC */
        size_t at = f.len;
        put_good(&f, "fake");
        f.data[at + f.len - at - 5] ^= 0x55; /* inside the zstd frame */
    }
    put_good(&f, "final"); /* as long as "first" */
    const char *path = th_tmp_file("resync.zst");
    cr_assert_eq(th_write_file(path, f.data, f.len), 0);
    read_result rr = read_all(path);
    cr_assert_eq(rr.status, 0);
    cr_assert_str_eq(rr.names, "first final");
    cr_assert_eq(rr.st.chunks_read, 2);
    cr_assert_eq(rr.st.bytes_damaged, f.len - 2 * good, "everything between is skipped");
    dasf_buf_free(&f);
}

Test(hostile, legacy_resync_over_records_claiming_256MiB) {
    /* mk2.py's h7 at a small size: a record, then 64 KiB where every 9th
     * offset looks like a record of 2^28 - 1 bytes (the bytes exist), then
     * a record, zeros, and a last record. */
    dasf_buf f = {0};
    uint8_t one = 0x01;
    put_legacy(&f, "a", &one, 1);
    static const uint8_t pat[9] = {0, 0, 0, 0, 0x0f, 0xff, 0xff, 0xff, 0x80};
    for (int i = 0; i < 65536 / 9; i++) dasf_buf_append(&f, pat, 9);
    put_legacy(&f, "after", &one, 1);
    size_t zeros = ((size_t)1 << 28) + ((size_t)1 << 20); /* the claimed bodies are there */
    const char *path = th_tmp_file("resync.msgpack");
    cr_assert_eq(th_write_file(path, f.data, f.len), 0);
    /* sparse zeros, then the last record */
    dasf_buf tail = {0};
    put_legacy(&tail, "end", &one, 1);
    FILE *fp = fopen(path, "r+b");
    cr_assert(fp);
    cr_assert_eq(fseeko(fp, (off_t)(f.len + zeros), SEEK_SET), 0);
    cr_assert_eq(fwrite(tail.data, 1, tail.len, fp), tail.len);
    cr_assert_eq(fclose(fp), 0);
    read_result rr = read_all(path);
    cr_assert_eq(rr.status, 0);
    cr_assert_str_eq(rr.names, "a after end");
    cr_assert_eq(rr.st.chunks_read, 3);
    cr_assert_eq(rr.st.chunks_damaged, 2);
    assert_bounded(path);
    dasf_buf_free(&f);
    dasf_buf_free(&tail);
}
