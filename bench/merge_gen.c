/*
 * merge_gen.c — writes R rank files shaped like libdasf-profiler-mpi's, for
 * bench/merge_scale.py (merge time and peak memory at 4, 16, 64 ranks).
 *
 *   dasf-bench-merge-gen DIR RANKS EVENTS_PER_RANK [SEED]
 *
 * Written through the public dasf_writer, not by running MPI: 64 ranks of
 * real traffic on this 2-core machine would measure the scheduler, and the
 * merge only sees files.  What makes them realistic for the merge is
 * copied from the runtime: each rank has its own clock (an offset of a few
 * ms to rank 0, with "dasf.clock_sync" samples at init and finalize as the
 * MPI library records them), a process_name and thread_name, two threads
 * (a main thread of step / MPI_Send / MPI_Recv / MPI_Allreduce spans with
 * the wrapper's args and s/f flows, and an I/O thread with spans of 50 us
 * to 3 ms and counters), and chunks cut the way the flusher cuts them: when
 * the main thread's ring reaches commit_threshold (5000 records) or after a
 * second, holding what each thread's ring got since the last cut, thread
 * after thread, each span recorded when
 * it ends (so chunks overlap in time, and an I/O span can start chunks
 * before the chunk it is in).  Hosts are node000.. with 16 ranks each.
 */
#include <dasf/profiler.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64 and the two dasf_value constructors below are also in the
 * tests (tests/test_merge.c's rnd, tests/helpers.h's th_v_int/th_v_str):
 * not shared, because the benchmarks build without the tests
 * (BUILD_TESTING=OFF, the release preset) and use the public API only,
 * which has no dasf_value constructors. */
static uint64_t rng;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static dasf_value vint(int64_t i) {
    dasf_value v = {.type = DASF_VAL_INT};
    v.v.i = i;
    return v;
}
static dasf_value vstr(const char *s) {
    dasf_value v = {.type = DASF_VAL_STR};
    v.v.str.ptr = s;
    v.v.str.len = (uint32_t)strlen(s);
    return v;
}

typedef struct gen_ev { /* one pending record of a thread */
    dasf_trace_event e;
    int64_t rec; /* when the thread records it (a span: its end) */
    dasf_kv kv[4];
} gen_ev;

typedef struct thread_gen {
    int64_t tid, t; /* the thread's next start, true time */
    gen_ev q[8];    /* one iteration's records, in record order */
    int n, next;
    uint64_t seq;
} thread_gen;

typedef struct rank_ctx {
    int rank, ranks;
    int64_t pid, off; /* local clock = true time + off */
    char host[16];
    dasf_writer *w;
    long written;
} rank_ctx;

static void base(gen_ev *g, const rank_ctx *rc, int64_t tid, const char *name, dasf_phase ph,
                 int64_t ts_true) {
    memset(g, 0, sizeof *g);
    g->e.name = name;
    g->e.phase = ph;
    g->e.timestamp_ns = ts_true + rc->off;
    g->e.timestamp = dasf_ns_to_seconds(g->e.timestamp_ns);
    g->e.process_id = vint(rc->pid);
    g->e.thread_id = vint(tid);
    g->e.args.type = DASF_VAL_MAP;
    g->rec = ts_true;
}

static void span(gen_ev *g, int64_t dur) {
    g->e.duration_ns = dur;
    g->e.duration = dasf_ns_to_seconds(dur);
    g->e.has_duration = true;
    g->rec += dur;
}

static void args(gen_ev *g, int n) {
    g->e.args.v.map.items = g->kv;
    g->e.args.v.map.n = (uint32_t)n;
}

/* The main thread's next iteration: step { MPI_Send, MPI_Recv } (+ an
 * MPI_Allreduce every 8th), with the message's flow. */
static void main_iter(thread_gen *th, const rank_ctx *rc) {
    int64_t t = th->t, peer = (rc->rank + 1) % rc->ranks;
    int64_t peer_from = (rc->rank + rc->ranks - 1) % rc->ranks;
    gen_ev *q = th->q;
    int n = 0;
    uint64_t id = ((uint64_t)rc->rank << 40) | th->seq;
    base(&q[n], rc, th->tid, "message", DASF_PHASE_FLOW_BEGIN, t + 1000);
    q[n].e.cat = "mpi";
    q[n].e.id = vint((int64_t)id);
    q[n].e.has_id = true;
    n++;
    base(&q[n], rc, th->tid, "MPI_Send", DASF_PHASE_COMPLETE, t + 1000);
    span(&q[n], rnd_in(1500, 4000));
    q[n].kv[0] = (dasf_kv){vstr("peer"), vint(peer)};
    q[n].kv[1] = (dasf_kv){vstr("tag"), vint(7)};
    q[n].kv[2] = (dasf_kv){vstr("bytes"), vint(8192)};
    q[n].kv[3] = (dasf_kv){vstr("comm_size"), vint(rc->ranks)};
    args(&q[n], 4);
    int64_t recv_at = q[n].rec + 500;
    n++;
    base(&q[n], rc, th->tid, "MPI_Recv", DASF_PHASE_COMPLETE, recv_at);
    span(&q[n], rnd_in(2000, 9000));
    q[n].kv[0] = (dasf_kv){vstr("peer"), vint(peer_from)};
    q[n].kv[1] = (dasf_kv){vstr("tag"), vint(7)};
    q[n].kv[2] = (dasf_kv){vstr("bytes"), vint(8192)};
    q[n].kv[3] = (dasf_kv){vstr("comm_size"), vint(rc->ranks)};
    args(&q[n], 4);
    int64_t end = q[n].rec;
    n++;
    base(&q[n], rc, th->tid, "message", DASF_PHASE_FLOW_END, end);
    q[n].e.cat = "mpi";
    q[n].e.id = vint((int64_t)(((uint64_t)peer_from << 40) | th->seq)); /* its sender's */
    q[n].e.has_id = true;
    n++;
    if (th->seq % 8 == 7) {
        base(&q[n], rc, th->tid, "MPI_Allreduce", DASF_PHASE_COMPLETE, end + 300);
        span(&q[n], rnd_in(5000, 30000));
        q[n].kv[0] = (dasf_kv){vstr("bytes"), vint(64)};
        q[n].kv[1] = (dasf_kv){vstr("comm_size"), vint(rc->ranks)};
        args(&q[n], 2);
        end = q[n].rec;
        n++;
    }
    base(&q[n], rc, th->tid, "step", DASF_PHASE_COMPLETE, t);
    span(&q[n], end + 200 - t);
    n++;
    th->n = n;
    th->next = 0;
    th->seq++;
    th->t = end + rnd_in(5000, 20000); /* compute between steps */
}

/* The I/O thread: a write span of 50 us .. 3 ms, then a counter. */
static void io_iter(thread_gen *th, const rank_ctx *rc) {
    gen_ev *q = th->q;
    base(&q[0], rc, th->tid, "write", DASF_PHASE_COMPLETE, th->t);
    span(&q[0], rnd() % 16 ? rnd_in(50000, 400000) : rnd_in(1000000, 3000000));
    q[0].kv[0] = (dasf_kv){vstr("bytes"), vint(rnd_in(4096, 1 << 20))};
    args(&q[0], 1);
    base(&q[1], rc, th->tid, "queued", DASF_PHASE_COUNTER, q[0].rec);
    q[1].kv[0] = (dasf_kv){vstr("requests"), vint(rnd_in(0, 12))};
    args(&q[1], 1);
    th->n = 2;
    th->next = 0;
    th->t = q[0].rec + rnd_in(20000, 200000);
}

static int add(rank_ctx *rc, const dasf_trace_event *e) {
    int st = dasf_writer_add(rc->w, e);
    if (st) fprintf(stderr, "merge_gen: rank %d: %s\n", rc->rank, dasf_strerror(st));
    rc->written++;
    return st;
}

static int chunk_origin(rank_ctx *rc) {
    dasf_chunk_info ci;
    memset(&ci, 0, sizeof ci);
    ci.writer_pid = rc->pid;
    snprintf(ci.host, sizeof ci.host, "%s", rc->host);
    snprintf(ci.clock, sizeof ci.clock, "monotonic");
    ci.realtime_offset_ns = 1700000000000000000LL - rc->off;
    return dasf_writer_set_origin(rc->w, &ci);
}

static int meta(rank_ctx *rc, const char *name, int64_t tid, dasf_kv *kv, int n, int64_t ts) {
    dasf_trace_event e;
    memset(&e, 0, sizeof e);
    e.name = name;
    e.phase = DASF_PHASE_METADATA;
    e.timestamp_ns = ts;
    e.timestamp = dasf_ns_to_seconds(ts);
    e.process_id = vint(rc->pid);
    e.thread_id = vint(tid);
    e.args.type = DASF_VAL_MAP;
    e.args.v.map.items = kv;
    e.args.v.map.n = (uint32_t)n;
    return add(rc, &e);
}

static int clock_sample(rank_ctx *rc, const char *when, int64_t at_true, int64_t drift) {
    int64_t at = at_true + rc->off + drift;
    dasf_kv kv[8] = {
        {vstr("rank"), vint(rc->rank)},
        {vstr("size"), vint(rc->ranks)},
        {vstr("ref_rank"), vint(0)},
        {vstr("offset_ns"), vint(-(rc->off + drift))},
        {vstr("rtt_ns"), vint(rc->rank ? 4200 : 0)},
        {vstr("at_ns"), vint(at)},
        {vstr("when"), vstr(when)},
        {vstr("host"), vstr(rc->host)},
    };
    return meta(rc, "dasf.clock_sync", rc->pid, kv, 8, at);
}

static int write_rank(const char *dir, int rank, int ranks, long events) {
    rank_ctx rc = {.rank = rank, .ranks = ranks, .pid = 20000 + rank};
    rc.off = rank ? rnd_in(-5000000, 5000000) + rank * 1234567LL : 0;
    snprintf(rc.host, sizeof rc.host, "node%03d", rank / 16);
    char path[4096];
    snprintf(path, sizeof path, "%s/rank%05d.zst", dir, rank);
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = DASF_DEFAULT_COMPRESSION_LEVEL;
    o.flush = false;
    o.commit_threshold = 1 << 20; /* chunks are cut below, as the flusher would */
    int st = dasf_writer_open(&rc.w, path, &o);
    if (st) {
        fprintf(stderr, "merge_gen: %s: %s\n", path, dasf_strerror(st));
        return 1;
    }
    const int64_t t0 = 1000000000LL, flush_every = 1000000000;
    char pname[32];
    snprintf(pname, sizeof pname, "app rank %d", rank);
    dasf_kv pk = {vstr("name"), vstr(pname)}, t1 = {vstr("name"), vstr("main")},
            t2 = {vstr("name"), vstr("io")};
    st = chunk_origin(&rc) || meta(&rc, "process_name", rc.pid, &pk, 1, 0) ||
         meta(&rc, "thread_name", rc.pid, &t1, 1, 0) || meta(&rc, "thread_name", rc.pid + 1, &t2, 1, 0) ||
         clock_sample(&rc, "init", t0, 0);
    thread_gen th[2] = {{.tid = rc.pid, .t = t0 + 100000}, {.tid = rc.pid + 1, .t = t0 + 150000}};
    main_iter(&th[0], &rc);
    io_iter(&th[1], &rc);
    int64_t last_cut = t0;
    while (!st && rc.written < events) {
        /* One flush: woken when the main thread's ring holds 5000 records
         * (commit_threshold) or after a second; each ring drained in turn,
         * the I/O thread's up to the moment of the wake-up. */
        int64_t cut = last_cut + flush_every;
        for (long k = 0; !st && k < 5000 && th[0].q[th[0].next].rec < cut; k++) {
            thread_gen *g = &th[0];
            st = add(&rc, &g->q[g->next].e);
            if (k == 4999) cut = g->q[g->next].rec + 1;
            if (++g->next == g->n) main_iter(g, &rc);
        }
        while (!st && th[1].q[th[1].next].rec < cut) {
            thread_gen *g = &th[1];
            st = add(&rc, &g->q[g->next].e);
            if (++g->next == g->n) io_iter(g, &rc);
        }
        if (!st) st = chunk_origin(&rc); /* ends the chunk */
        last_cut = cut;
    }
    if (!st) st = clock_sample(&rc, "finalize", th[0].t, rnd_in(-3000, 3000));
    int cst = dasf_writer_close(rc.w);
    if (st || cst) {
        fprintf(stderr, "merge_gen: %s: %s\n", path, dasf_strerror(st ? st : cst));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR RANKS EVENTS_PER_RANK [SEED]\n", argv[0]);
        return 2;
    }
    int ranks = atoi(argv[2]);
    long events = atol(argv[3]);
    rng = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    if (ranks < 1 || events < 1) {
        fprintf(stderr, "merge_gen: RANKS and EVENTS_PER_RANK must be positive\n");
        return 2;
    }
    for (int r = 0; r < ranks; r++)
        if (write_rank(argv[1], r, ranks, events)) return 1;
    return 0;
}
