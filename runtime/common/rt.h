/*
 * rt.h — the recording runtime's shared structures (not installed).
 *
 * A FileDatabase (struct dasf_filedb) owns: one SPSC ring per recording
 * thread (struct dasf_ring, registered in an RCU list), one flusher thread,
 * and the file.  App threads only ever write into their own ring through
 * ring.h's inline fast path; everything else is the flusher's.
 *
 * Lifetimes: a ring has two references, its thread's and its database's.
 * The thread drops its reference at thread exit (pthread key destructor),
 * the database when it unlinks the ring (after draining it) or at close.
 * Whoever drops the last one frees the ring (through call_rcu when the ring
 * was on the RCU list), so neither side can see freed memory.
 */
#ifndef DASF_RT_H
#define DASF_RT_H

#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <urcu-bp.h>
#include <urcu/list.h>
#include <urcu/rculist.h>

#define DASF_CACHELINE 64
#define DASF_REC_SIZE 32u

/* ---- RCU, as ThreadSanitizer can see it ------------------------------------
 * liburcu publishes list pointers with compiler barriers and plain stores,
 * and orders grace periods inside the (uninstrumented) library, so TSan
 * sees neither.  The ring list is therefore updated (under reg_lock) and
 * walked with C11-style atomics, and under TSan the grace period is made
 * visible: readers release a token when they leave the read side, and
 * call_rcu callbacks acquire it (and the object) before freeing. */
#if defined(__SANITIZE_THREAD__)
#define DASF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DASF_TSAN 1
#endif
#endif
#ifdef DASF_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char dasf_rcu_hb_token;
#define dasf_tsan_acquire(p) __tsan_acquire((void *)(p))
#define dasf_tsan_release(p) __tsan_release((void *)(p))
#else
#define dasf_tsan_acquire(p) ((void)(p))
#define dasf_tsan_release(p) ((void)(p))
#endif

static inline void dasf_rcu_read_lock(void) {
    rcu_read_lock();
}
static inline void dasf_rcu_read_unlock(void) {
#ifdef DASF_TSAN
    dasf_tsan_release(&dasf_rcu_hb_token);
#endif
    rcu_read_unlock();
}
/* Called first thing in a call_rcu callback on obj. */
static inline void dasf_rcu_callback_begin(void *obj) {
#ifdef DASF_TSAN
    dasf_tsan_acquire(&dasf_rcu_hb_token);
#endif
    dasf_tsan_acquire(obj);
}
static inline void dasf_call_rcu(struct rcu_head *h, void (*fn)(struct rcu_head *), void *obj) {
    dasf_tsan_release(obj);
    call_rcu(h, fn);
}
static inline struct cds_list_head *dasf_rcu_next(struct cds_list_head *n) {
    return __atomic_load_n(&n->next, __ATOMIC_ACQUIRE);
}
/* Writers hold the list's lock. */
static inline void dasf_rcu_list_add_tail(struct cds_list_head *n, struct cds_list_head *head) {
    n->next = head;
    n->prev = head->prev;
    __atomic_store_n(&head->prev->next, n, __ATOMIC_RELEASE);
    head->prev = n;
}
static inline void dasf_rcu_list_del(struct cds_list_head *n) {
    n->next->prev = n->prev;
    __atomic_store_n(&n->prev->next, n->next, __ATOMIC_RELEASE);
    /* n->next stays valid for readers standing on n. */
}

/* ---- list iteration -------------------------------------------------------
 * dasf_ring and dasf_filedb are cache-line aligned.  liburcu's
 * cds_list_for_each_entry* macros test for the end by forming a pointer to
 * the containing struct from the list head itself, which is not inside such
 * a struct: a misaligned member access (UB, reported by UBSan).  These walk
 * the nodes and form the containing pointer only for real elements.
 *   DASF_LIST_EACH       plain walk (caller holds the list's lock)
 *   DASF_LIST_EACH_RCU   under rcu_read_lock(), concurrent with list updates
 *   DASF_LIST_EACH_SAFE  the body may unlink (and free) the current element */
#define DASF_LIST_EACH(T, pos, head, member)                                     \
    for (struct cds_list_head *pos##_n_ = (head)->next;                          \
         pos##_n_ != (head) && ((pos) = caa_container_of(pos##_n_, T, member), 1); \
         pos##_n_ = pos##_n_->next)
#define DASF_LIST_EACH_RCU(T, pos, head, member)                                 \
    for (struct cds_list_head *pos##_n_ = dasf_rcu_next(head);                   \
         pos##_n_ != (head) && ((pos) = caa_container_of(pos##_n_, T, member), 1); \
         pos##_n_ = dasf_rcu_next(pos##_n_))
#define DASF_LIST_EACH_SAFE(T, pos, head, member)                                \
    for (struct cds_list_head *pos##_n_ = (head)->next, *pos##_x_ = pos##_n_->next; \
         pos##_n_ != (head) && ((pos) = caa_container_of(pos##_n_, T, member), 1); \
         pos##_n_ = pos##_x_, pos##_x_ = pos##_n_->next)

/* ---- records in the ring ------------------------------------------------
 * Every record starts with this 32-byte header and is a multiple of 32
 * bytes long; the ring capacity is a power of two >= 64 KiB, so a plain
 * record never straddles the end.  A record with a payload that would
 * straddle it is preceded by a PAD record filling the rest of the ring. */
enum {
    DASF_TS_DOUBLE = 0, /* ts/dur are the caller's double bits (seconds) */
    DASF_TS_NS = 1,     /* ts/dur are int64 nanoseconds */
    DASF_TS_TICKS = 2,  /* ts is raw clock ticks, dur a tick difference */
};
enum {
    DASF_RF_TSKIND = 0x03, /* one of DASF_TS_* */
    DASF_RF_PAYLOAD = 0x04,
    DASF_RF_PAD = 0x08,
};

typedef struct dasf_rec {
    uint64_t ts;
    uint64_t dur;
    /* name handle (0: copied name in the payload) | phase << 32 |
     * flags << 40 | scope << 48 */
    uint64_t word;
    uint64_t size; /* bytes of this record, header included */
} dasf_rec;

/* Checks on the bits of a double (integer compares, no FP constants):
 * finite (exponent not all ones); finite and >= +0 (sign clear — -0.0 is
 * refused here, so fast paths send it to the generic path, which accepts it). */
static inline int dasf_finite_bits(uint64_t b) {
    return (b << 1) < (UINT64_C(0x7ff) << 53);
}
static inline int dasf_nonneg_finite_bits(uint64_t b) {
    return b < UINT64_C(0x7ff0000000000000);
}

static inline uint64_t dasf_rec_word(uint32_t name, unsigned phase, unsigned flags,
                                     unsigned scope) {
    return (uint64_t)name | (uint64_t)(phase & 0xff) << 32 | (uint64_t)(flags & 0xff) << 40 |
           (uint64_t)(scope & 0xff) << 48;
}

/* Payload items (binary, unaligned, decoded by the flusher). */
enum {
    DASF_PT_END = 0,
    DASF_PT_NAME = 1,     /* u32 len, bytes */
    DASF_PT_PID = 2,      /* u8 kind, then i64 | (u32 len, bytes) | nothing */
    DASF_PT_TID = 3,
    DASF_PT_ID = 4,
    DASF_PT_CAT = 5,      /* u32 len, bytes */
    DASF_PT_ARG = 6,      /* u32 keylen, key, u8 type, value */
    DASF_PT_ARGS_MP = 7,  /* u32 len, one msgpack map */
};

/* ---- the ring ------------------------------------------------------------ */
typedef struct dasf_filedb dasf_filedb;

typedef struct dasf_ring {
    /* Producer's line: only the owning thread writes these (head is also
     * read by the flusher, with acquire). */
    _Alignas(DASF_CACHELINE) uint64_t head;
    uint64_t limit;       /* fast path stays below: min(tail + cap, wake_at) */
    uint64_t cached_tail; /* producer's last view of tail */
    uint64_t wake_at;     /* head position of the next flusher wake-up */
    uint8_t *buf;
    uint64_t mask;
    dasf_filedb *db;
    uint64_t dropped; /* written by producer only (relaxed), read by flusher */

    /* Consumer's line: only the flusher writes tail (release). */
    _Alignas(DASF_CACHELINE) uint64_t tail;
    uint64_t dropped_seen; /* flusher's copy of `dropped` already reported */

    /* Cold shared state. */
    _Alignas(DASF_CACHELINE) int dead; /* thread exited (release store) */
    int refs;                          /* thread + db references */
    int linked;                        /* on db->rings (flusher-owned) */
    int64_t pid, tid;
    uint64_t cap;
    struct cds_list_head node;
    struct rcu_head rcu;
} dasf_ring;

/* ---- the FileDatabase ---------------------------------------------------- */
typedef struct dasf_pending {
    struct dasf_pending *next;
    dasf_buf bytes;
    uint64_t events;
} dasf_pending;

struct dasf_filedb {
    /* Read by every producer on the fast path: keep it on its own line. */
    _Alignas(DASF_CACHELINE) uint64_t key; /* unique id while open, 0 once closed */
    uint64_t thresh_bytes;
    uint64_t ring_cap;
    int overflow;

    /* Options and identity. */
    _Alignas(DASF_CACHELINE) char *path;
    dasf_file_db_options opts;
    int layout; /* DASF_LAYOUT_LEGACY or DASF_LAYOUT_ARCHIVE */

    /* Registry. */
    pthread_mutex_t reg_lock; /* writers of `rings`; readers use RCU */
    struct cds_list_head rings;
    struct cds_list_head all_node; /* on the process-wide list of open dbs */

    /* Flusher. */
    pthread_t flusher;
    int flusher_running;
    int flusher_ready; /* the thread is running flusher_main (fork waits for it) */
    pid_t flusher_pid;
    uint32_t wake_seq;  /* futex: producers / commit wake the flusher */
    uint32_t drain_seq; /* futex: the flusher wakes blocked producers */
    int stopping;
    int64_t closer_tid; /* thread closing the database (set before stopping = 1) */
    /* Held by the flusher for each whole cycle (never while it sleeps).
     * fork() takes it first (registry.c), so a child never inherits a half
     * done cycle, nor a lock the flusher held inside malloc or zstd. */
    pthread_mutex_t cycle_lock;

    /* Commit barrier (mutex + condvar: commit is not a hot path). */
    pthread_mutex_t commit_lock;
    pthread_cond_t commit_cond;
    uint64_t commit_req;  /* commits requested */
    uint64_t commit_done; /* highest request a finished cycle covered */
    int commit_status;    /* status of that cycle */

    /* Flusher-private state. */
    dasf_chunk_enc *enc;
    dasf_buf chunk;
    dasf_pending *pending_head, *pending_tail;
    uint64_t pending_bytes; /* flusher writes (relaxed atomic stores), get_stats reads */
    int fd;
    uint64_t dropped_unreported; /* dropped, not yet in st_dropped nor in a chunk */
    uint64_t drop_carry;  /* in st_dropped, not yet in a kept chunk (thrown chunks) */
    uint64_t enc_markers; /* dasf.dropped markers in the chunk being built */

    /* Statistics (relaxed atomics, read by dasf_db_get_stats). */
    uint64_t st_recorded, st_dropped, st_written, st_chunks, st_bytes, st_flushes;
    int st_last_error;
    int finalized; /* closed by atexit: flusher joined, events committed */
    dasf_db *handle; /* the public handle (kept with the shell) */
};

/* ---- ring.c -------------------------------------------------------------- */
/* This thread's ring for db (creates and registers it on first use).
 * NULL with *rc set on failure (closed db, out of memory). */
DASF_HIDDEN dasf_ring *dasf_ring_get_slow(dasf_filedb *db, int *rc);
/* Makes room for `size` bytes (wakes the flusher, applies the overflow
 * policy).  @return 0 (room made; r->limit updated) or DASF_EDROPPED /
 * DASF_ECLOSED. */
DASF_HIDDEN int dasf_ring_make_room(dasf_ring *r, uint64_t size);
/* Drops one reference; frees the ring on the last one. */
DASF_HIDDEN void dasf_ring_unref(dasf_ring *r);
DASF_HIDDEN void dasf_ring_free_rcu(struct rcu_head *h);
/* Forgets the calling thread's rings (fork child). */
DASF_HIDDEN void dasf_ring_tls_reset_after_fork(void);

/* ---- registry.c ---------------------------------------------------------- */
DASF_HIDDEN void dasf_registry_add_db(dasf_filedb *db);
DASF_HIDDEN void dasf_registry_remove_db(dasf_filedb *db);
DASF_HIDDEN uint64_t dasf_registry_new_key(void);

/* ---- flusher.c ----------------------------------------------------------- */
DASF_HIDDEN int dasf_flusher_start(dasf_filedb *db);
DASF_HIDDEN void dasf_flusher_wake(dasf_filedb *db);
/* Synchronous barrier (see dasf_profiler_commit). */
DASF_HIDDEN int dasf_flusher_commit(dasf_filedb *db);
/* Stops the flusher; commit_on_close → final drain + append. */
DASF_HIDDEN int dasf_flusher_stop(dasf_filedb *db, int commit);
/* Child side of fork: forget the parent's flusher-private state. */
DASF_HIDDEN void dasf_flusher_reset_after_fork(dasf_filedb *db);
/* Frees the flusher's private state (encoder, chunk buffer, unwritten
 * chunks, file descriptor); the flusher must not be running. */
DASF_HIDDEN void dasf_flusher_free_state(dasf_filedb *db);

/* ---- clock.c ------------------------------------------------------------- */
/* The tick → ns function: linear segments, segment k for ticks in
 * [tick0_k, tick0_k+1) (the first one also before its tick0, the last one
 * onwards): ns = ns0 + round((tick - tick0) * slope).  Each segment's ns0
 * is the previous segment's value at its tick0 (continuity).  A plain,
 * position-independent array: published segments never change, `n` is
 * stored with release after a segment is written and loaded with acquire. */
#define DASF_CLOCK_SEGS 4096
typedef struct dasf_clock_seg {
    uint64_t tick0;
    int64_t ns0;
    double slope; /* ns per tick, > 0 */
} dasf_clock_seg;
typedef struct dasf_clock_table {
    uint32_t n; /* published segments */
    dasf_clock_seg seg[DASF_CLOCK_SEGS];
} dasf_clock_table;
DASF_HIDDEN void dasf_clock_table_init(dasf_clock_table *tb, uint64_t tick0, int64_t ns0,
                                       double slope);
/* Appends a segment starting at tick (> the last segment's tick0) with this
 * slope; one writer at a time.  @return 0 or DASF_EINVAL (full, bad slope,
 * tick not after the last switch). */
DASF_HIDDEN int dasf_clock_table_add(dasf_clock_table *tb, uint64_t tick, double slope);
DASF_HIDDEN int64_t dasf_clock_table_ns(const dasf_clock_table *tb, uint64_t tick);

DASF_HIDDEN uint64_t dasf_clock_ticks(void);
/* The process's function (the same in every thread and in forked children). */
DASF_HIDDEN int64_t dasf_clock_ticks_to_ns(uint64_t ticks);
/* ns(start + dticks) - ns(start): a span measured in ticks. */
DASF_HIDDEN int64_t dasf_clock_span_to_ns(uint64_t start, uint64_t dticks);
/* Refits against CLOCK_MONOTONIC when due (the flusher calls it each cycle). */
DASF_HIDDEN void dasf_clock_recalibrate(void);
/* Test hook: a new segment DASF_CLOCK_MARGIN_NS ahead whose slope is the
 * current one times factor (clock_gettime mode too). */
DASF_HIDDEN void dasf_clock_test_switch(double factor);
DASF_HIDDEN const dasf_clock_table *dasf_clock_get_table(void);
DASF_HIDDEN extern int dasf_clock_use_tsc;
/* Raw ticks, inlined: the clock is initialised when a database opens, so
 * any thread that records has seen dasf_clock_use_tsc set. */
static inline uint64_t dasf_ticks_inline(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (DASF_LIKELY(dasf_clock_use_tsc)) return __builtin_ia32_rdtsc();
#endif
    return dasf_clock_ticks();
}

/* ---- intern.c ------------------------------------------------------------ */
DASF_HIDDEN const char *dasf_intern_lookup(dasf_name h, uint32_t *len);

/* ---- record.c ------------------------------------------------------------ */
/* The file database's record paths (profiler.c and db.c call these). */
DASF_HIDDEN int dasf_filedb_record_event(dasf_filedb *db, const dasf_event *ev);
DASF_HIDDEN int dasf_filedb_record_plain(dasf_filedb *db, uint32_t name, unsigned phase,
                                         unsigned tskind, uint64_t ts, uint64_t dur);
/* Copied name + up to 8 typed args, automatic ids, one of X/i/B/E: the
 * light record path.  DASF_EINVAL means "not for this path" (bad input,
 * more args, raw msgpack args): the caller falls back to the generic path,
 * which decides. */
DASF_HIDDEN int dasf_record_named_db(dasf_filedb *db, uint64_t key, unsigned phase,
                                     unsigned scope, const char *name, double ts, double dur,
                                     const dasf_arg *args, size_t n_args);
DASF_HIDDEN dasf_filedb *dasf_db_filedb(dasf_db *db);

/* futex helpers (flusher.c) */
DASF_HIDDEN void dasf_futex_wake(uint32_t *addr, int n);
DASF_HIDDEN void dasf_futex_wait(uint32_t *addr, uint32_t val, double timeout_s);

#endif
