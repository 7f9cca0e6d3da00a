/* fuzz_common.c — see fuzz_common.h. */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_dir(void);

void fz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz contract violated: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- the input as a file ----------------------------------------------------- */

static char g_dir[4096];

static void remove_dir(void) {
    if (g_dir[0]) nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmpfs when there is one: truncating and closing files on ext4 costs more
 * than a small input's whole run.  DASF_FUZZ_TMPDIR overrides. */
const char *fz_dir(void) {
    static char dir[4096];
    if (!dir[0]) {
        const char *t = getenv("DASF_FUZZ_TMPDIR");
        if (!t || !*t) t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/dasf-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) fz_fail("mkdtemp %s: %s", dir, strerror(errno));
        memcpy(g_dir, dir, sizeof g_dir);
        atexit(remove_dir);
    }
    return dir;
}

/* The input file is a memfd (a regular file in memory); the reader opens
 * it by its /proc/self/fd path, like any other path. */
void fz_file_init(fz_file *f, const char *name) {
    if (f->path[0]) return;
    f->fd = memfd_create(name, MFD_CLOEXEC);
    if (f->fd < 0) fz_fail("memfd_create: %s", strerror(errno));
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
}

void fz_file_set(fz_file *f, const void *p, size_t n) {
    if (ftruncate(f->fd, 0) != 0) fz_fail("ftruncate: %s", strerror(errno));
    const uint8_t *b = p;
    size_t off = 0;
    while (off < n) {
        ssize_t w = pwrite(f->fd, b + off, n - off, (off_t)off);
        if (w <= 0) fz_fail("pwrite: %s", strerror(errno));
        off += (size_t)w;
    }
}

/* ---- walking a trace ------------------------------------------------------------ */

static volatile uint64_t g_sink; /* keeps the touched bytes alive */

static void touch(const void *p, size_t n) {
    const volatile uint8_t *b = p;
    uint64_t h = g_sink;
    for (size_t i = 0; i < n; i++) h = h * 31 + b[i];
    g_sink = h;
}

void fz_walk_value(const dasf_value *v, int depth) {
    if (depth > 300) fz_fail("value tree deeper than the reader's limit");
    switch (v->type) {
    case DASF_VAL_NIL:
    case DASF_VAL_BOOL:
    case DASF_VAL_INT:
    case DASF_VAL_UINT:
    case DASF_VAL_FLOAT: touch(&v->v, sizeof v->v); return;
    case DASF_VAL_STR:
        if (!v->v.str.ptr) fz_fail("STR value with a NULL pointer");
        touch(v->v.str.ptr, (size_t)v->v.str.len + 1); /* NUL-terminated */
        if (v->v.str.ptr[v->v.str.len] != 0) fz_fail("STR value not NUL-terminated");
        return;
    case DASF_VAL_BIN:
        if (v->v.bin.len && !v->v.bin.ptr) fz_fail("BIN value with a NULL pointer");
        touch(v->v.bin.ptr, v->v.bin.len);
        return;
    case DASF_VAL_ARRAY:
        if (v->v.array.n && !v->v.array.items) fz_fail("ARRAY with NULL items");
        for (uint32_t i = 0; i < v->v.array.n; i++) fz_walk_value(&v->v.array.items[i], depth + 1);
        return;
    case DASF_VAL_MAP:
        if (v->v.map.n && !v->v.map.items) fz_fail("MAP with NULL items");
        for (uint32_t i = 0; i < v->v.map.n; i++) {
            fz_walk_value(&v->v.map.items[i].key, depth + 1);
            fz_walk_value(&v->v.map.items[i].val, depth + 1);
        }
        return;
    default: fz_fail("value of unknown type %d", (int)v->type);
    }
}

static void walk_id(const dasf_value *v, const char *what) {
    fz_walk_value(v, 0);
    (void)what;
}

long fz_walk(const char *path) {
    dasf_trace *t = NULL;
    int rc = dasf_trace_open(&t, path);
    if (rc) {
        if (rc > 0 || !strcmp(dasf_strerror(rc), "unknown dasf status"))
            fz_fail("dasf_trace_open returned %d", rc);
        if (t) fz_fail("dasf_trace_open failed but set *out");
        return rc;
    }
    dasf_trace_stats st0;
    dasf_trace_get_stats(t, &st0);
    long n = 0;
    const dasf_trace_event *ev;
    for (;;) {
        rc = dasf_trace_next(t, &ev);
        if (rc == 0) break;
        if (rc < 0) {
            if (!strcmp(dasf_strerror(rc), "unknown dasf status"))
                fz_fail("dasf_trace_next returned %d", rc);
            break;
        }
        if (rc != 1) fz_fail("dasf_trace_next returned %d", rc);
        n++;
        if (!ev || !ev->name) fz_fail("event %ld without a name", n);
        touch(ev->name, strlen(ev->name) + 1);
        if (!dasf_phase_valid((int)ev->phase)) fz_fail("event %ld: phase %d", n, (int)ev->phase);
        if (ev->has_duration && ev->phase != DASF_PHASE_COMPLETE)
            fz_fail("event %ld: a duration on phase %c", n, (char)ev->phase);
        if (ev->cat) touch(ev->cat, strlen(ev->cat) + 1);
        walk_id(&ev->process_id, "process_id");
        walk_id(&ev->thread_id, "thread_id");
        walk_id(&ev->id, "id");
        if (ev->args.type != DASF_VAL_MAP) fz_fail("event %ld: args are not a map", n);
        fz_walk_value(&ev->args, 0);
        touch(&ev->timestamp, sizeof ev->timestamp);
        touch(&ev->timestamp_ns, sizeof ev->timestamp_ns);
        dasf_chunk_info ci;
        int crc = dasf_trace_chunk(t, &ci);
        if (st0.layout == DASF_LAYOUT_ARCHIVE && crc != 0)
            fz_fail("event %ld: no chunk info in an archive (%d)", n, crc);
        if (crc == 0) {
            if (memchr(ci.host, 0, sizeof ci.host) == NULL) fz_fail("host not terminated");
            if (memchr(ci.clock, 0, sizeof ci.clock) == NULL) fz_fail("clock not terminated");
        }
    }
    dasf_trace_stats st;
    dasf_trace_get_stats(t, &st);
    if (rc == 0 && st.events != (uint64_t)n)
        fz_fail("stats say %llu events, the reader returned %ld", (unsigned long long)st.events, n);
    if (!memchr(st.first_damage, 0, sizeof st.first_damage)) fz_fail("first_damage not terminated");
    if (st.bytes_damaged > st.file_size) fz_fail("more bytes damaged than the file has");
    dasf_trace_close(t);
    return n;
}

/* ---- the byte consumer -------------------------------------------------------------- */

uint8_t fz_u8(fz_in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

uint64_t fz_bits(fz_in *in, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = v << 8 | fz_u8(in);
    return v;
}

static void **g_pool;
static size_t g_npool, g_cappool;

static void *pool_alloc(size_t n) {
    if (g_npool == g_cappool) {
        g_cappool = g_cappool ? 2 * g_cappool : 64;
        g_pool = realloc(g_pool, g_cappool * sizeof *g_pool);
        if (!g_pool) abort();
    }
    void *p = calloc(1, n ? n : 1);
    if (!p) abort();
    g_pool[g_npool++] = p;
    return p;
}

void fz_pool_reset(void) {
    for (size_t i = 0; i < g_npool; i++) free(g_pool[i]);
    g_npool = 0;
}

const char *fz_str(fz_in *in, size_t max) {
    size_t len = fz_u8(in) % (max + 1);
    if (len > in->n) len = in->n;
    char *s = pool_alloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = fz_u8(in);
        if (c) s[k++] = (char)c;
    }
    s[k] = 0;
    return s;
}

/* ---- msgpack values ------------------------------------------------------------------ */

/* A length byte (0..max), then that many bytes of the input into b; returns
 * the length.  Inlined into fz_pack_value's two cases, gcc 12 at -O3
 * (Release with tests) vectorised the copy loop and reported a 16-byte store
 * into the 15 bytes after b[0] (-Wstringop-overflow, a false positive:
 * n <= max); out of line it does not, and both cases share it. */
__attribute__((noinline)) static size_t fz_bytes(fz_in *in, uint8_t *b, size_t max) {
    size_t n = fz_u8(in) % (max + 1);
    for (size_t i = 0; i < n; i++)
        b[i] = fz_u8(in);
    return n;
}

void fz_pack_value(fz_in *in, msgpack_packer *pk, int max_depth, bool str_keys) {
    uint8_t t = fz_u8(in);
    int kind = t % 16;
    if (max_depth <= 0 && kind >= 13) kind = 3;
    switch (kind) {
    case 0: msgpack_pack_nil(pk); return;
    case 1: msgpack_pack_true(pk); return;
    case 2: msgpack_pack_false(pk); return;
    case 3: msgpack_pack_int64(pk, (int64_t)fz_bits(in, 1 + t / 32)); return; /* 1..8 bytes */
    case 4: msgpack_pack_int64(pk, -(int64_t)fz_bits(in, 1 + t / 64)); return;
    case 5: msgpack_pack_uint64(pk, fz_bits(in, 8)); return;
    case 6: msgpack_pack_int64(pk, (int64_t)fz_bits(in, 8)); return;
    case 7: {
        uint64_t b = fz_bits(in, 8);
        double d;
        memcpy(&d, &b, sizeof d);
        msgpack_pack_double(pk, d);
        return;
    }
    case 8: {
        uint32_t b = (uint32_t)fz_bits(in, 4);
        float f;
        memcpy(&f, &b, sizeof f);
        msgpack_pack_float(pk, f);
        return;
    }
    case 9:
    case 10: {
        const char *s = fz_str(in, 40);
        size_t n = strlen(s);
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, s, n);
        return;
    }
    case 11: {
        uint8_t b[16];
        size_t n = fz_bytes(in, b, sizeof b);
        msgpack_pack_bin(pk, n);
        msgpack_pack_bin_body(pk, b, n);
        return;
    }
    case 12: {
        uint8_t b[16];
        size_t n = fz_bytes(in, b, sizeof b);
        msgpack_pack_ext(pk, n, (int8_t)fz_u8(in));
        msgpack_pack_ext_body(pk, b, n);
        return;
    }
    case 13:
    case 14: {
        size_t n = fz_u8(in) % 5;
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++) fz_pack_value(in, pk, max_depth - 1, str_keys);
        return;
    }
    default: {
        size_t n = fz_u8(in) % 5;
        msgpack_pack_map(pk, n);
        for (size_t i = 0; i < n; i++) {
            if (str_keys || fz_u8(in) % 4) {
                const char *k = fz_str(in, 12);
                msgpack_pack_str(pk, strlen(k));
                msgpack_pack_str_body(pk, k, strlen(k));
            } else {
                fz_pack_value(in, pk, 0, str_keys);
            }
            fz_pack_value(in, pk, max_depth - 1, str_keys);
        }
        return;
    }
    }
}

static bool same_double(double a, double b) {
    if (isnan(a) && isnan(b)) return true;
    return memcmp(&a, &b, sizeof a) == 0;
}

bool fz_value_eq(const dasf_value *v, const msgpack_object *o, const char **why) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        *why = "nil";
        return v->type == DASF_VAL_NIL;
    case MSGPACK_OBJECT_BOOLEAN:
        *why = "bool";
        return v->type == DASF_VAL_BOOL && v->v.b == o->via.boolean;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *why = "positive int";
        if (v->type == DASF_VAL_UINT) return v->v.u == o->via.u64;
        return v->type == DASF_VAL_INT && v->v.i >= 0 && (uint64_t)v->v.i == o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *why = "negative int";
        return v->type == DASF_VAL_INT && v->v.i == o->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *why = "float";
        return v->type == DASF_VAL_FLOAT && same_double(v->v.f, o->via.f64);
    case MSGPACK_OBJECT_STR:
        *why = "str";
        return v->type == DASF_VAL_STR && v->v.str.len == o->via.str.size &&
               (o->via.str.size == 0 || !memcmp(v->v.str.ptr, o->via.str.ptr, o->via.str.size));
    case MSGPACK_OBJECT_BIN:
        *why = "bin";
        return v->type == DASF_VAL_BIN && v->v.bin.len == o->via.bin.size &&
               (o->via.bin.size == 0 || !memcmp(v->v.bin.ptr, o->via.bin.ptr, o->via.bin.size));
    case MSGPACK_OBJECT_EXT:
        *why = "ext (read as bin)";
        return v->type == DASF_VAL_BIN && v->v.bin.len == o->via.ext.size &&
               (o->via.ext.size == 0 || !memcmp(v->v.bin.ptr, o->via.ext.ptr, o->via.ext.size));
    case MSGPACK_OBJECT_ARRAY:
        *why = "array size";
        if (v->type != DASF_VAL_ARRAY || v->v.array.n != o->via.array.size) return false;
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (!fz_value_eq(&v->v.array.items[i], &o->via.array.ptr[i], why)) return false;
        return true;
    case MSGPACK_OBJECT_MAP:
        *why = "map size";
        if (v->type != DASF_VAL_MAP || v->v.map.n != o->via.map.size) return false;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            if (!fz_value_eq(&v->v.map.items[i].key, &o->via.map.ptr[i].key, why)) return false;
            if (!fz_value_eq(&v->v.map.items[i].val, &o->via.map.ptr[i].val, why)) return false;
        }
        return true;
    }
    *why = "unknown msgpack type";
    return false;
}

dasf_value fz_value_from(const msgpack_object *o) {
    dasf_value v;
    memset(&v, 0, sizeof v);
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: v.type = DASF_VAL_NIL; break;
    case MSGPACK_OBJECT_BOOLEAN:
        v.type = DASF_VAL_BOOL;
        v.v.b = o->via.boolean;
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 <= INT64_MAX) {
            v.type = DASF_VAL_INT;
            v.v.i = (int64_t)o->via.u64;
        } else {
            v.type = DASF_VAL_UINT;
            v.v.u = o->via.u64;
        }
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        v.type = DASF_VAL_INT;
        v.v.i = o->via.i64;
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        v.type = DASF_VAL_FLOAT;
        v.v.f = o->via.f64;
        break;
    case MSGPACK_OBJECT_STR: {
        char *s = pool_alloc(o->via.str.size + 1);
        if (o->via.str.size) memcpy(s, o->via.str.ptr, o->via.str.size);
        v.type = DASF_VAL_STR;
        v.v.str.ptr = s;
        v.v.str.len = o->via.str.size;
        break;
    }
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT: {
        uint32_t n = o->type == MSGPACK_OBJECT_BIN ? o->via.bin.size : o->via.ext.size;
        const char *src = o->type == MSGPACK_OBJECT_BIN ? o->via.bin.ptr : o->via.ext.ptr;
        char *s = pool_alloc(n);
        if (n) memcpy(s, src, n);
        v.type = DASF_VAL_BIN;
        v.v.bin.ptr = s;
        v.v.bin.len = n;
        break;
    }
    case MSGPACK_OBJECT_ARRAY: {
        v.type = DASF_VAL_ARRAY;
        v.v.array.n = o->via.array.size;
        v.v.array.items = pool_alloc(o->via.array.size * sizeof(dasf_value));
        for (uint32_t i = 0; i < o->via.array.size; i++)
            v.v.array.items[i] = fz_value_from(&o->via.array.ptr[i]);
        break;
    }
    case MSGPACK_OBJECT_MAP: {
        v.type = DASF_VAL_MAP;
        v.v.map.n = o->via.map.size;
        v.v.map.items = pool_alloc(o->via.map.size * sizeof(dasf_kv));
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            v.v.map.items[i].key = fz_value_from(&o->via.map.ptr[i].key);
            v.v.map.items[i].val = fz_value_from(&o->via.map.ptr[i].val);
        }
        break;
    }
    }
    return v;
}
