/*
 * test_utf8.c — the tool's one UTF-8 check (tools/utf8.c): the byte
 * sequences JSON (cat, export) and XML (timeline) used to disagree on
 * (overlong forms, surrogates, code points above U+10FFFF), their maximal
 * subparts, and a property test against Python's decoder (bytes.decode
 * with errors="replace" implements the same Unicode §3.9 practice).
 */
#include "../tools/utf8.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct seq_case {
    const char *in;
    const char *out; /* after replacement; FFFD = "\xef\xbf\xbd" */
} seq_case;

#define R "\xef\xbf\xbd"

static const seq_case cases[] = {
    /* well-formed boundaries stay */
    {"\xc2\x80", "\xc2\x80"},                 /* U+0080 */
    {"\xdf\xbf", "\xdf\xbf"},                 /* U+07FF */
    {"\xe0\xa0\x80", "\xe0\xa0\x80"},         /* U+0800 */
    {"\xed\x9f\xbf", "\xed\x9f\xbf"},         /* U+D7FF */
    {"\xee\x80\x80", "\xee\x80\x80"},         /* U+E000 */
    {"\xef\xbf\xbf", "\xef\xbf\xbf"},         /* U+FFFF */
    {"\xf0\x90\x80\x80", "\xf0\x90\x80\x80"}, /* U+10000 */
    {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* U+10FFFF */
    /* overlong forms */
    {"\xc0\xaf", R R}, /* '/' in 2 bytes: C0 is never valid */
    {"\xc1\xbf", R R},
    {"\xe0\x80\xaf", R R R},       /* '/' in 3 bytes: E0 needs A0..BF next */
    {"\xe0\x9f\xbf", R R R},       /* U+07FF in 3 bytes */
    {"\xf0\x80\x80\xaf", R R R R}, /* '/' in 4 bytes */
    {"\xf0\x8f\xbf\xbf", R R R R}, /* U+FFFF in 4 bytes */
    /* surrogates */
    {"\xed\xa0\x80", R R R},                   /* U+D800 */
    {"\xed\xbf\xbf", R R R},                   /* U+DFFF */
    {"\xed\xa0\x80\xed\xb0\x80", R R R R R R}, /* a CESU-8 pair */
    /* above U+10FFFF */
    {"\xf4\x90\x80\x80", R R R R}, /* U+110000 */
    {"\xf5\x80\x80\x80", R R R R},
    {"\xf7\xbf\xbf\xbf", R R R R},
    {"\xf8\x88\x80\x80\x80", R R R R R}, /* the old 5-byte form */
    {"\xfe\xff", R R},
    /* truncated and stray: the maximal subpart is one U+FFFD */
    {"\xe2\x82", R}, /* the euro sign's first two bytes, at the end */
    {"\xe2\x82"
     "a",
     R "a"}, /* ... then an ASCII byte */
    {"\xf0\x9f\x98"
     "!",
     R "!"},
    {"\x80", R},
    {"a\xbf"
     "b",
     "a" R "b"},
    {"\xe2\x82\xac", "\xe2\x82\xac"}, /* and the whole euro sign is fine */
};

Test(utf8, sequences_json_and_xml_disagreed_on) {
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].in);
        size_t m = dt_utf8_sanitize(cases[i].in, n, out);
        out[m] = 0;
        cr_assert_str_eq(out, cases[i].out, "case %zu", i);
        cr_assert_eq(dt_utf8_valid(cases[i].in, n), !strcmp(cases[i].in, cases[i].out), "case %zu",
                     i);
    }
}

Test(utf8, next_reports_lengths) {
    size_t l;
    cr_assert(dt_utf8_next((const unsigned char *)"\xf0\x9f\x98\x80", 4, &l) && l == 4);
    cr_assert(!dt_utf8_next((const unsigned char *)"\xf0\x9f\x98\x80", 3, &l) && l == 3);
    cr_assert(!dt_utf8_next((const unsigned char *)"\xed\xa0\x80", 3, &l) && l == 1);
    cr_assert(dt_utf8_next((const unsigned char *)"A", 1, &l) && l == 1);
    cr_assert(dt_utf8_next((const unsigned char *)"", 1, &l) && l == 1); /* NUL is a character */
}

/* Property: for random byte strings (biased to lead and continuation bytes
 * so every case occurs), the replacement equals Python's
 * bytes.decode("utf-8", "replace").encode(). */
Test(utf8, matches_python_decoder_on_random_bytes) {
    enum { N = 3000 };
    const char *in = th_tmp_file("utf8-in.txt"), *want = th_tmp_file("utf8-want.txt");
    FILE *f = fopen(in, "w");
    cr_assert_not_null(f);
    static unsigned char strs[N][24];
    static size_t lens[N];
    unsigned seed = 12345;
    static const unsigned char pool[] = {'a',  0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                                         0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef,
                                         0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff};
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        lens[i] = 1 + (seed >> 16) % 23;
        for (size_t k = 0; k < lens[i]; k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            strs[i][k] = r % 3 ? pool[r % sizeof pool] : (unsigned char)(r >> 3);
            fprintf(f, "%02x", strs[i][k]);
        }
        fputc('\n', f);
    }
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -c 'import sys\n"
             "for l in open(sys.argv[1]):\n"
             "    print(bytes.fromhex(l.strip()).decode(\"utf-8\", \"replace\").encode().hex())' "
             "'%s' > '%s'",
             TH_PYTHON, in, want);
    cr_assert_eq(th_run(cmd, NULL), 0);
    f = fopen(want, "r");
    cr_assert_not_null(f);
    char line[256], got[256];
    for (int i = 0; i < N; i++) {
        cr_assert_not_null(fgets(line, sizeof line, f));
        line[strcspn(line, "\n")] = 0;
        char out[80];
        size_t m = dt_utf8_sanitize((const char *)strs[i], lens[i], out);
        for (size_t k = 0; k < m; k++)
            snprintf(got + 2 * k, 3, "%02x", (unsigned char)out[k]);
        got[2 * m] = 0;
        cr_assert_str_eq(got, line, "string %d", i);
    }
    fclose(f);
}
