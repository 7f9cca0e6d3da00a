/*
 * json.c — JSON output for cat and export.  Strings are escaped by jansson
 * (after invalid UTF-8 is replaced by U+FFFD, so the output always parses);
 * the encodings of short strings are cached because a trace repeats the
 * same few names millions of times.  Numbers are formatted here: doubles
 * in their shortest round-trip form, nanosecond times as exact decimals —
 * jansson's real formatting (fixed %.17g) would print 0.1 as
 * 0.10000000000000001 and cannot print integer nanoseconds as decimals.
 * The cache is bounded (DT_JSON_CACHE entries), so memory stays constant.
 */
#include "json.h"

#include "array.h"
#include "ids.h"
#include "numbers.h"
#include "outfile.h"
#include "strmap.h"
#include "utf8.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DT_JSON_CACHE 8192    /* strings cached at most */
#define DT_JSON_CACHE_LEN 256 /* longer strings are not cached */

int dt_json_init(dt_json *j, FILE *out) {
    memset(j, 0, sizeof *j);
    j->out = out;
    j->buf = malloc(DT_JSON_BUF);
    return j->buf ? 0 : -1;
}

int dt_json_init_sink(dt_json *j, struct dt_outfile *sink) {
    int rc = dt_json_init(j, NULL);
    j->sink = sink;
    return rc;
}

void dt_json_write_through(dt_json *j, const char *s, size_t n) {
    if (j->sink) {
        dt_outfile_write(j->sink, s, n);
        if (j->sink->failed) j->failed = true;
    } else if (fwrite(s, 1, n, j->out) != n) {
        j->failed = true;
    }
}

void dt_json_flush(dt_json *j) {
    if (j->len) dt_json_write_through(j, j->buf, j->len);
    j->len = 0;
}

static void u64_digits(dt_json *j, uint64_t v, bool neg) {
    char tmp[DT_U64_TEXT_MAX];
    const char *s = dt_format_u64(tmp, v, neg);
    dt_json_raw(j, s, (size_t)(tmp + sizeof tmp - s));
}

void dt_json_i64(dt_json *j, int64_t v) {
    u64_digits(j, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

void dt_json_u64(dt_json *j, uint64_t v) {
    u64_digits(j, v, false);
}

void dt_json_free(dt_json *j) {
    dt_json_flush(j);
    free(j->buf);
    for (size_t i = 0; i < j->n_enc; i++)
        free(j->enc[i].s);
    free(j->enc);
    free(j->scratch);
    dt_strmap_free(&j->cache);
    memset(j, 0, sizeof *j);
}

static int reserve(char **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    char *q = realloc(*p, nc);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* s with ill-formed UTF-8 replaced by U+FFFD (utf8.h), into *buf. */
static int sanitize(const char *s, size_t n, char **buf, size_t *cap, size_t *out_len) {
    if (reserve(buf, cap, n * 3 + 1)) return -1;
    *out_len = dt_utf8_sanitize(s, n, *buf);
    return 0;
}

/* The JSON encoding of s (quotes included) into a fresh malloc'ed buffer. */
static char *encode(dt_json *j, const char *s, size_t n, size_t *len) {
    /* The tool's one UTF-8 check decides (jansson would refuse the same
     * strings; its replacement is ours, the same as the timeline's). */
    json_t *js;
    if (dt_utf8_valid(s, n)) {
        js = json_stringn(s, n);
    } else {
        size_t m;
        if (sanitize(s, n, &j->scratch, &j->scratch_cap, &m)) return NULL;
        js = json_stringn(j->scratch, m);
    }
    if (!js) return NULL;
    size_t need = json_dumpb(js, NULL, 0, JSON_ENCODE_ANY);
    char *out = need ? malloc(need) : NULL;
    if (out && json_dumpb(js, out, need, JSON_ENCODE_ANY) != need) {
        free(out);
        out = NULL;
    }
    json_decref(js);
    *len = need;
    return out;
}

int dt_json_str(dt_json *j, const char *s, size_t n) {
    if (!s) s = "", n = 0;
    bool cacheable = n <= DT_JSON_CACHE_LEN;
    if (cacheable) {
        dt_strent *e = dt_strmap_find(&j->cache, s, n);
        if (e) {
            dt_json_raw(j, j->enc[e->val].s, j->enc[e->val].len);
            return 0;
        }
    }
    size_t len;
    char *enc = encode(j, s, n, &len);
    if (!enc) return -1;
    dt_json_raw(j, enc, len);
    if (!cacheable || j->n_enc >= DT_JSON_CACHE) {
        free(enc);
        return 0;
    }
    if (dt_grow((void **)&j->enc, &j->cap_enc, j->n_enc, sizeof *j->enc)) {
        free(enc);
        return 0; /* not cached; the output is still right */
    }
    dt_strent *e = dt_strmap_get(&j->cache, s, n, NULL);
    if (!e) {
        free(enc);
        return 0;
    }
    e->val = j->n_enc;
    j->enc[j->n_enc].s = enc;
    j->enc[j->n_enc].len = len;
    j->n_enc++;
    return 0;
}

void dt_json_double(dt_json *j, double d) {
    char buf[40];
    if (!isfinite(d)) {
        DT_JSON_LIT(j, "null");
        return;
    }
    int len = dt_format_double(buf, sizeof buf, d);
    dt_json_raw(j, buf, (size_t)len);
}

/* a / 10^digits "." a % 10^digits, the fraction zero-padded. */
static void fixed_point(dt_json *j, int64_t v, unsigned digits, bool trim) {
    uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v, scale = 1;
    for (unsigned i = 0; i < digits; i++)
        scale *= 10;
    u64_digits(j, a / scale, v < 0);
    char frac[24];
    uint64_t f = a % scale;
    for (unsigned i = digits; i > 0; i--) {
        frac[i] = (char)('0' + f % 10);
        f /= 10;
    }
    frac[0] = '.';
    size_t n = digits + 1;
    while (trim && n > 2 && frac[n - 1] == '0')
        n--;
    dt_json_raw(j, frac, n);
}

void dt_json_seconds_ns(dt_json *j, int64_t ns) {
    fixed_point(j, ns, 9, true);
}

void dt_json_micros_ns(dt_json *j, int64_t ns) {
    fixed_point(j, ns, 3, false);
}

int dt_json_value(dt_json *j, const dasf_value *v) {
    char buf[DT_ID_TEXT_MAX];
    switch (v->type) {
    case DASF_VAL_NIL: DT_JSON_LIT(j, "null"); return 0;
    case DASF_VAL_BOOL:
        if (v->v.b)
            DT_JSON_LIT(j, "true");
        else
            DT_JSON_LIT(j, "false");
        return 0;
    case DASF_VAL_INT: dt_json_i64(j, v->v.i); return 0;
    case DASF_VAL_UINT: dt_json_u64(j, v->v.u); return 0;
    case DASF_VAL_FLOAT: dt_json_double(j, v->v.f); return 0;
    case DASF_VAL_STR: return dt_json_str(j, v->v.str.ptr, v->v.str.len);
    case DASF_VAL_BIN:
        dt_json_putc(j, '"');
        for (uint32_t i = 0; i < v->v.bin.len; i++) {
            unsigned char b = (unsigned char)v->v.bin.ptr[i];
            dt_json_putc(j, "0123456789abcdef"[b >> 4]);
            dt_json_putc(j, "0123456789abcdef"[b & 15]);
        }
        dt_json_putc(j, '"');
        return 0;
    case DASF_VAL_ARRAY:
        dt_json_putc(j, '[');
        for (uint32_t i = 0; i < v->v.array.n; i++) {
            if (i) dt_json_putc(j, ',');
            if (dt_json_value(j, &v->v.array.items[i])) return -1;
        }
        dt_json_putc(j, ']');
        return 0;
    case DASF_VAL_MAP:
        dt_json_putc(j, '{');
        for (uint32_t i = 0; i < v->v.map.n; i++) {
            const dasf_kv *kv = &v->v.map.items[i];
            if (i) dt_json_putc(j, ',');
            int rc;
            if (kv->key.type == DASF_VAL_STR) {
                rc = dt_json_str(j, kv->key.v.str.ptr, kv->key.v.str.len);
            } else {
                /* Fill buf first: an argument list is evaluated in no set
                 * order, so strlen(buf) beside the call would read it unfilled. */
                const char *text = dt_id_text(&kv->key, buf, sizeof buf);
                rc = dt_json_str(j, text, strlen(text));
            }
            if (rc) return -1;
            dt_json_putc(j, ':');
            if (dt_json_value(j, &kv->val)) return -1;
        }
        dt_json_putc(j, '}');
        return 0;
    }
    DT_JSON_LIT(j, "null");
    return 0;
}
