/* test_ringenc.c — ring records straight into the chunk (encode/ring_enc.c)
 * give the very bytes of the generic path (record → dasf_enc_event →
 * dasf_chunk_enc_add), over random mixes of every record the public record
 * calls make.
 *
 * The records are real: the test thread records through the public API
 * into its own ring (a 64 MiB ring, commit_threshold and flush interval
 * out of reach, so the flusher leaves them alone), then the ring's bytes
 * are copied out and every record goes through both paths, into two
 * encoders, as if from one of several rings (each with its own memo, as
 * the flusher keeps them); chunks are finished at the same random points
 * with the same origin and must be equal byte for byte, and each record
 * must get the same status from both.  The direct path's chunks are then
 * read back: every event is there.  A third test garbles records (any
 * bytes but the size, as a signal handler recording over its own thread's
 * half-written record can): both paths must agree on those too, and read
 * nothing outside a record (the sanitizer builds check that). */
#include "helpers.h"
#include "ring.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}
static uint64_t rbelow(rng *r, uint64_t n) { return n ? rnext(r) % n : 0; }
static int rchance(rng *r, int percent) { return (int)rbelow(r, 100) < percent; }

/* Names: equal lengths with equal first/last bytes collide in the memo's
 * name slots; "" and long ones (str8 in msgpack) too. */
static const char *const k_names[] = {
    "compute", "halo", "io", "aaaa", "abca", "acca", "", "x",
    "a-name-that-is-longer-than-thirty-one-bytes-for-str8", "reduce", "checkpoint", "step"};
static const char *const k_keys[] = {"step", "block", "stex0", "step0", "", "k", "iter",
                                     "a-key-that-is-longer-than-thirty-one-bytes"};
#define NNAMES (sizeof k_names / sizeof *k_names)
#define NKEYS (sizeof k_keys / sizeof *k_keys)

static const uint8_t k_mp[] = {0x92, 0x01, 0xa3, 't', 'w', 'o'}; /* [1, "two"] */
static const uint8_t k_mp_map[] = {0x81, 0xa1, 'n', 0x05};        /* {"n": 5} */

typedef struct mix {
    rng r;
    dasf_name h[NNAMES];
    char name_buf[400];       /* reused for every copied name */
    char key_buf[12][48];     /* reused for the keys, per position */
    char str_buf[12][40];
    double t;                 /* seconds, mostly increasing */
    int64_t t_ns;
} mix;

static double rtime(mix *m) {
    switch (rbelow(&m->r, 8)) {
    case 0: m->t += (double)rbelow(&m->r, 1000) * 1e-9; break;              /* on the ns grid */
    case 1: m->t = (double)(int64_t)(m->t + 1); break;                      /* whole seconds */
    case 2: m->t += (double)rbelow(&m->r, 1u << 30) * 1e-9 * 1.0000001; break; /* off the grid */
    case 3: m->t -= (double)rbelow(&m->r, 100000) * 1e-9; break;            /* back */
    case 4: return (double)rbelow(&m->r, 1u << 20) * 1e-9 + 1e6 * (double)rbelow(&m->r, 4);
    default: m->t += (double)rbelow(&m->r, 50000) * 1e-9 + 1e-12; break;
    }
    return m->t;
}

static double rdur(mix *m) {
    switch (rbelow(&m->r, 5)) {
    case 0: return 0;
    case 1: return (double)rbelow(&m->r, 1000) * 1e-9;
    case 2: return (double)rbelow(&m->r, 1u << 24) * 1e-9 * 1.000001;
    case 3: return (double)rbelow(&m->r, 5);
    default: return 0.7107808589935303 * (double)rbelow(&m->r, 3);
    }
}

static const char *copied_name(mix *m) {
    const char *src = k_names[rbelow(&m->r, NNAMES)];
    if (rchance(&m->r, 5)) { /* a long one, up to 399 bytes */
        size_t n = (size_t)rbelow(&m->r, sizeof m->name_buf);
        memset(m->name_buf, 'a' + (int)rbelow(&m->r, 26), n);
        m->name_buf[n] = 0;
    } else {
        strcpy(m->name_buf, src);
    }
    return m->name_buf;
}

/* n typed args in reused buffers; msgpack ones only when allowed. */
static size_t rargs(mix *m, dasf_arg *a, size_t max, int allow_mp) {
    size_t n = (size_t)rbelow(&m->r, max + 1);
    for (size_t i = 0; i < n; i++) {
        strcpy(m->key_buf[i], k_keys[rbelow(&m->r, NKEYS)]);
        const char *k = m->key_buf[i];
        switch (rbelow(&m->r, allow_mp ? 7 : 6)) {
        case 0: a[i] = (dasf_arg)DASF_ARG_I64(k, (int64_t)(rnext(&m->r) >> rbelow(&m->r, 64))); break;
        case 1: a[i] = (dasf_arg)DASF_ARG_I64(k, -(int64_t)rbelow(&m->r, 1u << 20)); break;
        case 2: a[i] = (dasf_arg)DASF_ARG_U64(k, rnext(&m->r)); break;
        case 3: a[i] = (dasf_arg)DASF_ARG_F64(k, (double)rnext(&m->r) / 7.0); break;
        case 4: a[i] = (dasf_arg)DASF_ARG_BOOL(k, rchance(&m->r, 50)); break;
        case 5:
            snprintf(m->str_buf[i], sizeof m->str_buf[i], "v%llu",
                     (unsigned long long)rbelow(&m->r, 1000));
            a[i] = (dasf_arg)DASF_ARG_STR(k, m->str_buf[i]);
            break;
        default: a[i] = (dasf_arg)DASF_ARG_MSGPACK(k, k_mp, sizeof k_mp); break;
        }
    }
    return n;
}

/* One random call of the public record API.  @return 1 if it recorded. */
static int record_one(dasf_profiler *p, mix *m) {
    dasf_arg args[12];
    dasf_name h = m->h[rbelow(&m->r, NNAMES)];
    double ts = rtime(m), dur = rdur(m);
    int rc;
    switch (rbelow(&m->r, 16)) {
    case 0:
    case 1:
    case 2: rc = dasf_record_complete_h(p, h, ts, dur); break;
    case 3: rc = dasf_record_instant_h(p, h, ts); break;
    case 4: rc = rchance(&m->r, 50) ? dasf_record_begin_h(p, h, ts) : dasf_record_end_h(p, h, ts); break;
    case 5:
        m->t_ns += (int64_t)rbelow(&m->r, 100000) - 1000;
        rc = dasf_record_complete_ns(p, h, rchance(&m->r, 3) ? INT64_MAX - (int64_t)rbelow(&m->r, 9)
                                                              : m->t_ns,
                                     (int64_t)rbelow(&m->r, 1u << 22));
        break;
    case 6:
        switch (rbelow(&m->r, 3)) {
        case 0: rc = dasf_record_instant_now(p, h); break;
        case 1: rc = dasf_record_begin_now(p, h); break;
        default: rc = dasf_record_end_now(p, h); break;
        }
        break;
    case 7: {
        DASF_ZONE(p, "ringenc_zone");
        rc = 0;
        break;
    }
    case 8:
    case 9:
    case 10: {
        size_t n = rargs(m, args, rchance(&m->r, 10) ? 12 : 3, rchance(&m->r, 20));
        rc = dasf_record_complete_args(p, copied_name(m), ts, dur, args, n);
        break;
    }
    case 11: {
        dasf_record_opts o = {0};
        o.n_args = rargs(m, args, 3, 1);
        o.args = args;
        if (rchance(&m->r, 15)) o.process_id = dasf_id_int((int64_t)rbelow(&m->r, 3));
        if (rchance(&m->r, 10)) o.thread_id = dasf_id_str("worker-0");
        if (rchance(&m->r, 10)) {
            o.args_msgpack = k_mp_map;
            o.args_msgpack_size = sizeof k_mp_map;
            o.n_args = 0;
            o.args = NULL;
        }
        rc = dasf_profiler_record_complete_event(p, copied_name(m), ts, dur,
                                                 rchance(&m->r, 30) ? NULL : &o);
        break;
    }
    case 12: {
        dasf_record_opts o = {0};
        o.scope = "gpt"[rbelow(&m->r, 3)];
        o.n_args = rargs(m, args, 2, 0);
        o.args = args;
        rc = dasf_profiler_record_instant_event(p, copied_name(m), ts,
                                                rchance(&m->r, 20) ? NULL : &o);
        break;
    }
    case 13:
        rc = rchance(&m->r, 50) ? dasf_profiler_record_duration_begin_event(p, copied_name(m), ts, NULL)
                                : dasf_profiler_record_duration_end_event(p, copied_name(m), ts, NULL);
        break;
    case 14: {
        size_t n = rargs(m, args, 2, 0);
        switch (rbelow(&m->r, 4)) {
        case 0: rc = dasf_record_counter(p, copied_name(m), ts, args, n); break;
        case 1: rc = dasf_record_async(p, DASF_PHASE_ASYNC_BEGIN, copied_name(m), "io", dasf_id_int(7), ts); break;
        case 2: rc = dasf_record_flow(p, DASF_PHASE_FLOW_BEGIN, copied_name(m), "net", dasf_id_str("f1"), ts); break;
        default: rc = dasf_record_thread_name(p, copied_name(m)); break;
        }
        break;
    }
    default: {
        dasf_event ev = {0};
        ev.name = copied_name(m);
        ev.timestamp = ts;
        ev.duration = dur;
        ev.phase = "XBEIC"[rbelow(&m->r, 5)];
        if (rchance(&m->r, 30)) ev.cat = "cat";
        if (rchance(&m->r, 20)) ev.id = dasf_id_int(3);
        ev.n_args = rargs(m, args, 4, 1);
        ev.args = args;
        rc = dasf_profiler_record(p, &ev);
        break;
    }
    }
    return rc == 0;
}

/* The rings the records are fed as if from: threads 11..13 of process 77
 * (the encoder reads only their pid and tid). */
static dasf_ring g_rings[3] = {{.pid = 77, .tid = 11}, {.pid = 77, .tid = 12},
                               {.pid = 77, .tid = 13}};

typedef struct side {
    dasf_chunk_enc *enc;
    dasf_enc_memo memo[3];
    dasf_buf out;
} side;

static void run_seed(uint64_t seed, int level, size_t n_calls, int garble) {
    const char *path = th_tmp_file(level ? "ringenc.zst" : "ringenc.msgpack");
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = level;
    o.ring_capacity = (size_t)64 << 20;
    o.commit_threshold = (int64_t)1 << 40; /* the wake-up is then at half the ring */
    o.flush_interval = 3600;
    o.commit_on_close = false;
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);

    mix m;
    memset(&m, 0, sizeof m);
    m.r.s = seed * 0x9E3779B97F4A7C15ull + 1;
    m.t = 1700000.0 + (double)rbelow(&m.r, 1000);
    m.t_ns = 1700000000000000000ll;
    for (size_t i = 0; i < NNAMES; i++) m.h[i] = dasf_intern(k_names[i]);
    /* A first record makes this thread's ring for p; the mix's records
     * start where it ends. */
    cr_assert_eq(dasf_record_instant_h(p, m.h[0], 1.0), 0);
    dasf_ring *r = dasf_tls.ring;
    cr_assert_not_null(r);
    uint64_t t0 = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    size_t recorded = 0;
    for (size_t i = 0; i < n_calls; i++) recorded += (size_t)record_one(p, &m);
    uint64_t hd = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    cr_assert_lt(hd - t0, r->cap / 2, "seed %llu: the mix does not fit the ring",
                 (unsigned long long)seed);
    /* Copied out in order (a PAD record fills the ring's end before a
     * record that would straddle it). */
    uint8_t *copy = malloc(hd - t0 + 1);
    cr_assert_not_null(copy);
    for (uint64_t pos = t0; pos < hd;) {
        const dasf_rec *rec = (const dasf_rec *)(r->buf + (pos & r->mask));
        memcpy(copy + (pos - t0), rec, rec->size);
        pos += rec->size;
    }
    hd -= t0;
    /* The profiler's part is done: stop its flusher before encoding.  The
     * flusher is what refits the clock (dasf_clock_recalibrate, 50 ms and
     * 200 ms after the clock's start, ...), and a garbled record can carry
     * a tick far ahead of now, whose conversion a refit between the two
     * paths' calls would change (a real tick converts the same before and
     * after a refit: the new segment starts ahead of now).  Under load the
     * comparison below used to cross a refit now and then. */
    cr_assert_eq(dasf_profiler_destroy(p), 0);

    side a = {0}, b = {0};
    cr_assert_eq(dasf_chunk_enc_create(&a.enc, level, 8), 0);
    cr_assert_eq(dasf_chunk_enc_create(&b.enc, level, 8), 0);
    dasf_chunk_origin org = {.pid = 4242, .host = "node1", .clock = "monotonic",
                             .realtime_offset_ns = 1700000000000000000ll};
    size_t n_rec = 0, n_ok = 0;
    for (uint64_t off = 0; off < hd;) {
        dasf_rec *rec = (dasf_rec *)(copy + off);
        cr_assert(rec->size >= DASF_REC_SIZE && off + rec->size <= hd, "record at %llu",
                  (unsigned long long)off);
        off += rec->size;
        if ((rec->word >> 40) & DASF_RF_PAD) continue;
        if (garble && rchance(&m.r, 30)) {
            /* A record garbled as by a signal handler recording over its own
             * thread's half-written one: any bytes but its size.  Both paths
             * must read only inside it and agree on what they make of it. */
            uint8_t *gb = (uint8_t *)rec;
            for (int k = (int)rbelow(&m.r, 4); k >= 0; k--) {
                size_t at = (size_t)rbelow(&m.r, rec->size - 8);
                gb[at < 24 ? at : at + 8] ^= (uint8_t)(1u << rbelow(&m.r, 8));
            }
        }
        /* As from one of three rings (threads 11..13 of process 77). */
        int src = (int)rbelow(&m.r, 3);
        if (rchance(&m.r, 70)) src = 0;
        /* Now and then another ring's memo: the flusher's memo table can
         * hand a slot to another ring, or keep one for a ring freed and
         * reallocated at its address (only misses may come of it). */
        int ms = rchance(&m.r, 5) ? (src + 1) % 3 : src;
        int ra = dasf_chunk_enc_add_rec(a.enc, &g_rings[src], rec, &a.memo[ms]);
        int rb = dasf_chunk_enc_add_rec_generic(b.enc, &g_rings[src], rec, &b.memo[ms]);
        cr_assert_eq(ra, rb, "seed %llu record %zu: status %d direct, %d generic",
                     (unsigned long long)seed, n_rec, ra, rb);
        n_rec++;
        n_ok += ra == 0;
        if (rchance(&m.r, 1) || dasf_chunk_enc_full(a.enc)) {
            cr_assert_eq(dasf_chunk_enc_finish(a.enc, &org, &a.out), 0);
            cr_assert_eq(dasf_chunk_enc_finish(b.enc, &org, &b.out), 0);
            cr_assert_eq(a.out.len, b.out.len, "seed %llu: chunk sizes differ before record %zu",
                         (unsigned long long)seed, n_rec);
            cr_assert(memcmp(a.out.data, b.out.data, a.out.len) == 0,
                      "seed %llu: chunk bytes differ before record %zu", (unsigned long long)seed,
                      n_rec);
        }
    }
    cr_assert_eq(dasf_chunk_enc_finish(a.enc, &org, &a.out), 0);
    cr_assert_eq(dasf_chunk_enc_finish(b.enc, &org, &b.out), 0);
    cr_assert_eq(a.out.len, b.out.len, "seed %llu level %d", (unsigned long long)seed, level);
    cr_assert(memcmp(a.out.data, b.out.data, a.out.len) == 0, "seed %llu level %d: bytes differ",
              (unsigned long long)seed, level);
    cr_assert_eq(n_rec, recorded, "seed %llu: %zu records for %zu recorded calls",
                 (unsigned long long)seed, n_rec, recorded);
    if (!garble) cr_assert_eq(n_ok, n_rec, "seed %llu: records refused", (unsigned long long)seed);
    else cr_assert(n_ok > 0 && n_ok < n_rec, "seed %llu: %zu of %zu garbled records taken",
                   (unsigned long long)seed, n_ok, n_rec);

    /* What the direct path wrote reads back whole. */
    const char *out = th_tmp_file(level ? "ringenc-direct.zst" : "ringenc-direct.msgpack");
    cr_assert_eq(th_write_file(out, a.out.data, a.out.len), 0);
    cr_assert_eq(th_count_events(out), (long)n_ok, "seed %llu", (unsigned long long)seed);

    dasf_buf_free(&a.out);
    dasf_buf_free(&b.out);
    dasf_chunk_enc_destroy(a.enc);
    dasf_chunk_enc_destroy(b.enc);
    free(copy);
}

Test(ringenc, direct_path_writes_the_generic_paths_bytes_archive, .timeout = 300) {
    for (uint64_t seed = 1; seed <= 12; seed++) run_seed(seed, 1, 30000, 0);
}

Test(ringenc, direct_path_writes_the_generic_paths_bytes_level_3_and_legacy, .timeout = 300) {
    run_seed(101, 3, 20000, 0);
    run_seed(102, 0, 20000, 0);
}

Test(ringenc, garbled_records_get_the_same_status_and_bytes_from_both_paths, .timeout = 300) {
    for (uint64_t seed = 201; seed <= 206; seed++) run_seed(seed, 1, 20000, 1);
}
