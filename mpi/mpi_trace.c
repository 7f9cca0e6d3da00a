/*
 * mpi_trace.c — the state behind the PMPI wrappers: which profiler a rank
 * records into, the clock alignment against rank 0, the message flows.
 *
 * Thread: MPI_Init/Finalize run on the thread that calls them; everything
 * else on any thread calling MPI (the table and counters take dm_lock).
 * Invariants: nothing here runs before PMPI_Init has returned or after
 * PMPI_Finalize; the clock sync uses a private duplicate of
 * MPI_COMM_WORLD, so it can never match a message of the program.
 *
 * Clock alignment (docs/MPI.md, docs/FORMAT.md "dasf.clock_sync"): at
 * Init and Finalize (and every DASF_MPI_SYNC_INTERVAL seconds, checked at
 * MPI calls) each rank r > 0 does DASF_MPI_SYNC_ROUNDS ping-pongs with rank
 * 0 and keeps the one with the smallest round trip: offset = t0_ref -
 * (t_send + t_recv) / 2, uncertainty <= rtt / 2.  The samples go into the
 * trace as metadata events; the reader (dasf-trace) maps every event of
 * that process onto rank 0's clock, interpolating between samples.
 */
#include "mpi_trace.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

dasf_profiler *dm_prof;
static bool dm_own;             /* dm_prof was created here (destroyed at exit) */
static MPI_Comm dm_sync_comm = MPI_COMM_NULL;
static int dm_rank = -1, dm_size;
static double dm_sync_every, dm_next_sync; /* seconds; 0 = only at Init/Finalize */
static pthread_mutex_t dm_lock = PTHREAD_MUTEX_INITIALIZER;

static int env_int(const char *name, int def, int lo, int hi) {
    const char *s = getenv(name);
    if (!s || !*s) return def;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        fprintf(stderr, "dasf-profiler-mpi: %s=%s is not a number in %d..%d; using %d\n", name,
                s, lo, hi, def);
        return def;
    }
    return (int)v;
}

/* ---- which file a rank writes ------------------------------------------- */

/* The default keeps reruns apart (%n) and ranks apart (%r). */
static const char default_pattern[] = "dasf-mpi-%n-rank%r.msgpack.zst";

static bool per_process(const char *pattern) {
    for (const char *s = pattern; *s; s++)
        if (*s == '%' && s[1]) {
            if (s[1] == 'r' || s[1] == 'p' || s[1] == 'n') return true;
            s++;
        }
    return false;
}

static void at_exit_destroy(void) {
    if (!dm_own || !dm_prof) return;
    dasf_profiler *p = dm_prof;
    dm_prof = NULL;
    int rc = dasf_profiler_destroy(p);
    if (rc) fprintf(stderr, "dasf-profiler-mpi: rank %d: closing the trace: %s\n", dm_rank,
                    dasf_strerror(rc));
}

/* The process-wide default profiler when DASF_TRACE_FILE is set (e.g. by
 * `dasf-trace record`), else one on DASF_MPI_TRACE_FILE's pattern: one
 * file per rank (%r, %p or %n in it) or one shared file (appended to by
 * every rank under the FileDatabase's lock). */
static dasf_profiler *open_profiler(void) {
    dasf_profiler *p = dasf_default_profiler();
    if (p || getenv("DASF_TRACE_FILE")) return p; /* set but unusable: it said why */
    const char *pattern = getenv("DASF_MPI_TRACE_FILE");
    if (pattern && !strcmp(pattern, "off")) return NULL;
    if (!pattern || !*pattern) pattern = default_pattern;
    char path[4096];
    dasf_path_vars v = {(int64_t)getpid(), NULL, (int64_t)time(NULL), dm_rank};
    int rc = dasf_path_claim(path, sizeof path, pattern, &v,
                             per_process(pattern) ? 0 : DASF_PATH_APPEND);
    if (rc) {
        fprintf(stderr, "dasf-profiler-mpi: rank %d: DASF_MPI_TRACE_FILE=%s: %s; not tracing\n",
                dm_rank, pattern, rc == DASF_EIO ? strerror(errno) : dasf_strerror(rc));
        return NULL;
    }
    dasf_file_db_options o = dasf_file_db_options_default();
    rc = dasf_profiler_create(&p, path, &o, NULL);
    if (rc) {
        fprintf(stderr, "dasf-profiler-mpi: rank %d: %s: %s; not tracing\n", dm_rank, path,
                dasf_strerror(rc));
        return NULL;
    }
    dm_own = true;
    atexit(at_exit_destroy);
    /* A scheduler's SIGTERM (mpirun sends it to every rank when one dies)
     * commits what each rank recorded; DASF_COMMIT_SIGNALS=none opts out. */
    const char *sig = getenv("DASF_COMMIT_SIGNALS");
    if (!sig || strcmp(sig, "none")) {
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGXCPU};
        dasf_commit_on_signals(sigs, sizeof sigs / sizeof sigs[0], 10.0);
    }
    return p;
}

/* ---- clock alignment ---------------------------------------------------- */

#define SYNC_TAG 0x5a5a

static void record_sync(const char *when, int64_t offset, int64_t rtt, int64_t at) {
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    dasf_arg a[] = {
        DASF_ARG_I64("rank", dm_rank),    DASF_ARG_I64("size", dm_size),
        DASF_ARG_I64("ref_rank", 0),      DASF_ARG_I64("offset_ns", offset),
        DASF_ARG_I64("rtt_ns", rtt),      DASF_ARG_I64("at_ns", at),
        DASF_ARG_STR("when", when),       DASF_ARG_STR("host", host),
    };
    dasf_event ev = {0};
    ev.name = "dasf.clock_sync";
    ev.phase = DASF_PHASE_METADATA;
    ev.timestamp = dasf_ns_to_seconds(at);
    ev.args = a;
    ev.n_args = sizeof a / sizeof a[0];
    int rc = dasf_profiler_record(dm_prof, &ev);
    if (rc) fprintf(stderr, "dasf-profiler-mpi: rank %d: clock sync: %s\n", dm_rank,
                    dasf_strerror(rc));
}

/* Every rank > 0 in turn against rank 0, so rank 0 answers one at a time. */
static void clock_sync(const char *when) {
    if (dm_sync_comm == MPI_COMM_NULL) return;
    int rounds = env_int("DASF_MPI_SYNC_ROUNDS", 20, 1, 10000);
    if (dm_rank == 0) {
        for (int r = 1; r < dm_size; r++)
            for (int k = 0; k < rounds; k++) {
                int64_t ping, t;
                PMPI_Recv(&ping, 1, MPI_INT64_T, r, SYNC_TAG, dm_sync_comm, MPI_STATUS_IGNORE);
                t = dasf_now_ns();
                PMPI_Send(&t, 1, MPI_INT64_T, r, SYNC_TAG, dm_sync_comm);
            }
        record_sync(when, 0, 0, dasf_now_ns());
        return;
    }
    int64_t best_rtt = INT64_MAX, best_off = 0, best_at = 0;
    for (int k = 0; k < rounds; k++) {
        int64_t t0 = dasf_now_ns(), ref;
        PMPI_Send(&t0, 1, MPI_INT64_T, 0, SYNC_TAG, dm_sync_comm);
        PMPI_Recv(&ref, 1, MPI_INT64_T, 0, SYNC_TAG, dm_sync_comm, MPI_STATUS_IGNORE);
        int64_t t1 = dasf_now_ns(), rtt = t1 - t0, mid = t0 + rtt / 2;
        if (rtt < best_rtt) {
            best_rtt = rtt;
            best_off = ref - mid;
            best_at = mid;
        }
    }
    record_sync(when, best_off, best_rtt, best_at);
}

void dm_after_init(double t0, const char *name) {
    PMPI_Comm_rank(MPI_COMM_WORLD, &dm_rank);
    PMPI_Comm_size(MPI_COMM_WORLD, &dm_size);
    dm_prof = open_profiler();
    if (!dm_prof) return;
    char pname[96];
    char comm[64] = "";
    FILE *f = fopen("/proc/self/comm", "r");
    if (f) {
        if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0;
        fclose(f);
    }
    snprintf(pname, sizeof pname, "%s rank %d", comm[0] ? comm : "mpi", dm_rank);
    dasf_record_process_name(dm_prof, pname);
    if (PMPI_Comm_dup(MPI_COMM_WORLD, &dm_sync_comm) != MPI_SUCCESS) dm_sync_comm = MPI_COMM_NULL;
    clock_sync("init");
    dm_sync_every = env_int("DASF_MPI_SYNC_INTERVAL", 0, 0, 86400);
    dm_next_sync = dm_sync_every > 0 ? dasf_now() + dm_sync_every : 0;
    dm_coll_span(name, t0, -1, 0, MPI_COMM_WORLD);
}

void dm_before_finalize(void) {
    if (!dm_prof) return;
    clock_sync("finalize");
    if (dm_sync_comm != MPI_COMM_NULL) PMPI_Comm_free(&dm_sync_comm);
}

void dm_after_finalize(double t0) {
    if (!dm_prof) return;
    dm_plain_span("MPI_Finalize", t0, -1);
    int rc = dasf_profiler_commit(dm_prof);
    if (rc) fprintf(stderr, "dasf-profiler-mpi: rank %d: commit at MPI_Finalize: %s\n", dm_rank,
                    dasf_strerror(rc));
    if (!dm_own) return;
    /* Keep recording what the program does after MPI (it may record), and
     * close at exit; the wrappers stop here since MPI is gone. */
}

/* ---- spans --------------------------------------------------------------- */

int64_t dm_bytes(int count, MPI_Datatype t) {
    int s = 0;
    if (count <= 0 || t == MPI_DATATYPE_NULL || PMPI_Type_size(t, &s) != MPI_SUCCESS) return 0;
    return (int64_t)count * s;
}

static int comm_size(MPI_Comm c) {
    int n = 0;
    if (c == MPI_COMM_NULL || PMPI_Comm_size(c, &n) != MPI_SUCCESS) return 0;
    return n;
}

static void record_span(const char *name, double t0, const dasf_arg *a, size_t n) {
    dasf_record_complete_args(dm_prof, name, t0, dasf_now() - t0, a, n);
}

void dm_p2p_span(const char *name, double t0, int peer, int tag, int64_t bytes, MPI_Comm comm) {
    if (!dm_prof) return;
    dasf_arg a[] = {DASF_ARG_I64("peer", peer), DASF_ARG_I64("tag", tag),
                    DASF_ARG_I64("bytes", bytes), DASF_ARG_I64("comm_size", comm_size(comm))};
    record_span(name, t0, a, 4);
}

void dm_coll_span(const char *name, double t0, int root, int64_t bytes, MPI_Comm comm) {
    if (!dm_prof) return;
    dasf_arg a[] = {DASF_ARG_I64("root", root), DASF_ARG_I64("bytes", bytes),
                    DASF_ARG_I64("comm_size", comm_size(comm))};
    if (root < 0)
        record_span(name, t0, a + 1, 2);
    else
        record_span(name, t0, a, 3);
    if (dm_next_sync > 0 && dasf_now() >= dm_next_sync && comm == MPI_COMM_WORLD &&
        !strcmp(name, "MPI_Barrier")) {
        /* Periodic re-sync only at a world barrier: every rank is there. */
        clock_sync("periodic");
        dm_next_sync = dasf_now() + dm_sync_every;
    }
}

void dm_plain_span(const char *name, double t0, int n) {
    if (!dm_prof) return;
    dasf_arg a[] = {DASF_ARG_I64("count", n)};
    record_span(name, t0, a, n >= 0 ? 1 : 0);
}

/* ---- message flows --------------------------------------------------------
 * A message's flow id is computed on both sides from the same facts: the
 * communicator's group (its members' world ranks), the world ranks of
 * sender and receiver, the tag, and the message's sequence number among
 * the messages from that sender to that receiver with that tag on that
 * group — MPI's non-overtaking rule makes the n-th send match the n-th
 * receive.  Two communicators over the same group (MPI_Comm_dup) share
 * counters: their flows can pair wrongly when messages with one tag
 * interleave differently on the two (docs/MPI.md). */

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int dm_keyval = MPI_KEYVAL_INVALID;

static int fp_delete(MPI_Comm c, int key, void *val, void *extra) {
    (void)c, (void)key, (void)extra;
    free(val);
    return MPI_SUCCESS;
}

/* The group fingerprint of c (0 for MPI_COMM_WORLD), cached on c. */
static uint64_t comm_fp(MPI_Comm c) {
    if (c == MPI_COMM_WORLD) return 0;
    if (dm_keyval == MPI_KEYVAL_INVALID &&
        PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, fp_delete, &dm_keyval, NULL) != MPI_SUCCESS)
        return 1;
    uint64_t *cached;
    int found = 0;
    if (PMPI_Comm_get_attr(c, dm_keyval, &cached, &found) == MPI_SUCCESS && found) return *cached;
    MPI_Group g, wg;
    int n = comm_size(c);
    uint64_t h = mix((uint64_t)n + 1);
    if (PMPI_Comm_group(c, &g) == MPI_SUCCESS) {
        PMPI_Comm_group(MPI_COMM_WORLD, &wg);
        for (int r = 0; r < n; r++) {
            int w = -1;
            PMPI_Group_translate_ranks(g, 1, &r, wg, &w);
            h = mix(h ^ (uint64_t)(w + 2));
        }
        PMPI_Group_free(&g);
        PMPI_Group_free(&wg);
    }
    uint64_t *v = malloc(sizeof *v);
    if (v) {
        *v = h | 1;
        if (PMPI_Comm_set_attr(c, dm_keyval, v) != MPI_SUCCESS) free(v);
    }
    return h | 1;
}

static int world_rank(MPI_Comm c, int r) {
    if (c == MPI_COMM_WORLD) return r;
    MPI_Group g, wg;
    int w = -1;
    if (PMPI_Comm_group(c, &g) != MPI_SUCCESS) return -1;
    PMPI_Comm_group(MPI_COMM_WORLD, &wg);
    PMPI_Group_translate_ranks(g, 1, &r, wg, &w);
    PMPI_Group_free(&g);
    PMPI_Group_free(&wg);
    return w;
}

/* Sequence counters, open addressing on (direction, fp, src, dst, tag). */
typedef struct seq_slot {
    uint64_t key; /* 0 = empty */
    uint64_t fp;
    int32_t src, dst, tag, dir;
    uint64_t next;
} seq_slot;
static seq_slot *seq_tab;
static size_t seq_cap, seq_n;

static uint64_t *seq_find(int dir, uint64_t fp, int src, int dst, int tag) {
    if (seq_n * 2 >= seq_cap) {
        size_t cap = seq_cap ? seq_cap * 2 : 256;
        seq_slot *t = calloc(cap, sizeof *t);
        if (!t) return NULL;
        for (size_t i = 0; i < seq_cap; i++) {
            if (!seq_tab[i].key) continue;
            size_t j = seq_tab[i].key & (cap - 1);
            while (t[j].key) j = (j + 1) & (cap - 1);
            t[j] = seq_tab[i];
        }
        free(seq_tab);
        seq_tab = t;
        seq_cap = cap;
    }
    uint64_t key = mix(fp ^ mix(((uint64_t)(uint32_t)src << 32 | (uint32_t)dst) ^
                                mix((uint64_t)(uint32_t)tag << 1 | (uint64_t)dir))) | 1;
    size_t j = key & (seq_cap - 1);
    for (;; j = (j + 1) & (seq_cap - 1)) {
        seq_slot *s = &seq_tab[j];
        if (!s->key) {
            *s = (seq_slot){key, fp, src, dst, tag, dir, 0};
            seq_n++;
            return &s->next;
        }
        if (s->key == key && s->fp == fp && s->src == src && s->dst == dst && s->tag == tag &&
            s->dir == dir)
            return &s->next;
    }
}

static int64_t flow_id(uint64_t fp, int src, int dst, int tag, uint64_t seq) {
    uint64_t h = mix(fp ^ mix((uint64_t)(uint32_t)src << 32 | (uint32_t)dst));
    h = mix(h ^ mix((uint64_t)(uint32_t)tag) ^ mix(seq + 0x9e3779b97f4a7c15ULL));
    return (int64_t)(h >> 1);
}

static void flow(int dir, MPI_Comm comm, int peer, int tag, double t) {
    if (!dm_prof || peer < 0 || comm == MPI_COMM_NULL) return; /* MPI_PROC_NULL, wildcards */
    int inter = 0;
    if (PMPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter) return;
    uint64_t fp = comm_fp(comm);
    int me, other = world_rank(comm, peer);
    PMPI_Comm_rank(MPI_COMM_WORLD, &me);
    if (other < 0) return;
    int src = dir == 0 ? me : other, dst = dir == 0 ? other : me;
    pthread_mutex_lock(&dm_lock);
    uint64_t *next = seq_find(dir, fp, src, dst, tag);
    uint64_t seq = next ? (*next)++ : 0;
    pthread_mutex_unlock(&dm_lock);
    if (!next) return;
    dasf_record_flow(dm_prof, dir == 0 ? DASF_PHASE_FLOW_BEGIN : DASF_PHASE_FLOW_END, "message",
                     "mpi", dasf_id_int(flow_id(fp, src, dst, tag, seq)), t);
}

void dm_flow_send(MPI_Comm comm, int dest, int tag, double t) { flow(0, comm, dest, tag, t); }
void dm_flow_recv(MPI_Comm comm, int source, int tag, double t) { flow(1, comm, source, tag, t); }

/* ---- posted requests -----------------------------------------------------
 * Open addressing with tombstones: a slot is empty, used or deleted; a
 * table rebuilt on growth drops the deleted ones. */

enum { SLOT_EMPTY = 0, SLOT_USED = 1, SLOT_DELETED = 2 };
typedef struct req_slot {
    int state;
    MPI_Request req;
    MPI_Comm comm;
    int kind, peer, tag;
} req_slot;
static req_slot *req_tab;
static size_t req_cap, req_fill, req_live; /* fill counts used + deleted */

static size_t req_hash(MPI_Request r) { return (size_t)mix((uint64_t)(uintptr_t)r); }

static int req_grow(void) {
    size_t cap = req_cap ? (req_live * 4 > req_cap ? req_cap * 2 : req_cap) : 256;
    req_slot *t = calloc(cap, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < req_cap; i++) {
        if (req_tab[i].state != SLOT_USED) continue;
        size_t j = req_hash(req_tab[i].req) & (cap - 1);
        while (t[j].state == SLOT_USED) j = (j + 1) & (cap - 1);
        t[j] = req_tab[i];
    }
    free(req_tab);
    req_tab = t;
    req_cap = cap;
    req_fill = req_live;
    return 0;
}

void dm_req_post(MPI_Request req, int kind, MPI_Comm comm, int peer, int tag) {
    if (!dm_prof || req == MPI_REQUEST_NULL || kind != DM_REQ_RECV) return;
    pthread_mutex_lock(&dm_lock);
    if ((req_fill + 1) * 2 > req_cap && req_grow()) {
        pthread_mutex_unlock(&dm_lock);
        return; /* out of memory: this receive gets no flow end */
    }
    size_t j = req_hash(req) & (req_cap - 1), free_at = SIZE_MAX;
    for (; req_tab[j].state != SLOT_EMPTY; j = (j + 1) & (req_cap - 1)) {
        if (req_tab[j].state == SLOT_DELETED && free_at == SIZE_MAX) free_at = j;
        if (req_tab[j].state == SLOT_USED && req_tab[j].req == req) break; /* reused handle */
    }
    if (req_tab[j].state != SLOT_USED) {
        if (free_at != SIZE_MAX) j = free_at;
        else req_fill++;
        __atomic_store_n(&req_live, req_live + 1, __ATOMIC_RELAXED);
    }
    req_tab[j] = (req_slot){SLOT_USED, req, comm, kind, peer, tag};
    pthread_mutex_unlock(&dm_lock);
}

/* Removes req from the table (caller holds dm_lock); 1 and *out when it was there. */
static int req_take(MPI_Request req, req_slot *out) {
    if (!req_cap || req == MPI_REQUEST_NULL) return 0;
    size_t j = req_hash(req) & (req_cap - 1);
    for (; req_tab[j].state != SLOT_EMPTY; j = (j + 1) & (req_cap - 1)) {
        if (req_tab[j].state != SLOT_USED || req_tab[j].req != req) continue;
        *out = req_tab[j];
        req_tab[j].state = SLOT_DELETED;
        __atomic_store_n(&req_live, req_live - 1, __ATOMIC_RELAXED);
        return 1;
    }
    return 0;
}

void dm_req_done(const MPI_Request *before, const MPI_Request *after, const MPI_Status *st,
                 int n, double t) {
    if (!dm_prof || !__atomic_load_n(&req_live, __ATOMIC_RELAXED)) return;
    for (int i = 0; i < n; i++) {
        /* Completed: a non-persistent request is freed (MPI_REQUEST_NULL). */
        if (before[i] == MPI_REQUEST_NULL || after[i] != MPI_REQUEST_NULL) continue;
        req_slot s;
        pthread_mutex_lock(&dm_lock);
        int had = req_take(before[i], &s);
        pthread_mutex_unlock(&dm_lock);
        if (!had || s.kind != DM_REQ_RECV) continue;
        int cancelled = 0;
        if (st) MPI_Test_cancelled(&st[i], &cancelled);
        if (cancelled) continue;
        int src = st ? st[i].MPI_SOURCE : s.peer, tag = st ? st[i].MPI_TAG : s.tag;
        dm_flow_recv(s.comm, src, tag, t);
    }
}
