/*
 * test_hostile.c — hostile and damaged input (issue 15): the reproductions
 * of ../shared/repro, copied into tests/data/repro/, read through the public
 * reader and through every dasf-trace verb ($DASF_TRACE_BIN).  Each test
 * states what a user relies on: no crash, a clear damage report, the whole
 * chunks around the damage still read, bounded work.  Under the asan preset
 * (ASan + UBSan, every error fatal) a sanitizer report also fails the test:
 * the verbs' stderr is checked for "runtime error" / "AddressSanitizer".
 */
#include "dasf/profiler.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    dasf_trace_event e;
    memset(&e, 0, sizeof e);
    e.name = "k";
    e.phase = DASF_PHASE_INSTANT;
    e.timestamp = 1.0;
    e.timestamp_ns = 1000000000;
    e.process_id.type = DASF_VAL_INT;
    e.thread_id.type = DASF_VAL_INT;
    e.id.type = DASF_VAL_NIL;
    e.args.type = DASF_VAL_MAP;
    e.args.v.map.items = kv;
    e.args.v.map.n = 2;
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
    dasf_trace_event e;
    memset(&e, 0, sizeof e);
    e.name = "x";
    e.phase = DASF_PHASE_INSTANT;
    e.process_id.type = DASF_VAL_INT;
    e.thread_id.type = DASF_VAL_INT;
    e.id.type = DASF_VAL_NIL;
    e.args.type = DASF_VAL_MAP;
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
