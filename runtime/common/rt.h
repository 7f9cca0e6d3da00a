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
#include "encode.h"
#include "rcu.h"

#include <pthread.h>
#include <stdatomic.h>

#define DASF_CACHELINE 64
#define DASF_REC_SIZE 32u

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

    /* Consumer's line: only the flusher writes tail (release).  A ring in
     * shared memory (shm_index != 0) gets its space back only once the
     * chunk holding its records is in the file, so [tail, head) is exactly
     * what a recoverer must write if the process dies; `consumed` (flusher-private) is how far
     * the flusher has taken records: encoded them, or handed them to a
     * compression worker (workers.c), which gives the space back only once
     * their chunk is in the pending list.  Under DASF_OVERFLOW_OVERWRITE
     * (the flight recorder) nothing drains the ring and the producer owns
     * tail: the oldest record still in the ring (runtime/ring/ring.c). */
    _Alignas(DASF_CACHELINE) uint64_t tail;
    uint64_t dropped_seen; /* flusher's copy of `dropped` already reported */
    uint64_t consumed;
    /* OVERWRITE (runtime/flush/flight.c).  The producer, in make_room only:
     * ow_seq (odd while it moves tail), ow_events = records before tail
     * (PADs not counted), published as a seqlock with tail.  The flusher:
     * snap_pos = where the last snapshot of this ring ended, snap_recs =
     * records before it.  In the shared mapping like the rest of the
     * struct (recovery reads tail/head only). */
    uint32_t ow_seq;
    uint64_t ow_events;
    uint64_t snap_pos, snap_recs;

    /* Cold shared state. */
    _Alignas(DASF_CACHELINE) int dead; /* thread exited (release store) */
    int refs;                          /* thread + db references */
    int linked;                        /* on db->rings (flusher-owned) */
    int64_t pid, tid;
    uint64_t cap;
    struct cds_list_head node;
    struct rcu_head rcu;
    uint32_t shm_index; /* ring-N in the process's shm directory; 0: anonymous */
    size_t shm_len;     /* bytes of that mapping (header + struct + buffer) */
    int shm_fallback;   /* anonymous although shared memory was configured (full, absent,
                           DASF_SHM_MAX): chunk metadata "shm_fallback" says so */
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
    char *abs_path; /* the trace path made absolute (shm identity, recovery) */
    char *shm_base; /* shared-memory base directory; NULL: rings in anonymous memory */

    /* Registry. */
    pthread_mutex_t reg_lock; /* writers of `rings`; readers use RCU */
    struct cds_list_head rings;
    struct cds_list_head all_node; /* on the process-wide list of open dbs */

    /* Flusher. */
    /* Starts the flusher in this process if it does not run here yet
     * (reg_lock held): flush/flusher.c's dasf_flusher_start, set at open
     * (db.c).  ring.c calls it when it registers a ring, so the rings do
     * not include the flusher's header (the include DAG). */
    int (*start_flusher)(dasf_filedb *db);
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
    struct dasf_pool *pool; /* compression workers (workers.c); NULL: inline */
    dasf_chunk_enc *enc;
    dasf_buf chunk;
    dasf_pending *pending_head, *pending_tail;
    uint64_t pending_bytes; /* flusher writes (relaxed atomic stores), get_stats reads */
    dasf_append_fd out; /* the trace file (append.c); flusher thread */
    uint64_t dropped_unreported; /* dropped, not yet in st_dropped nor in a chunk */
    uint64_t drop_carry;  /* in st_dropped, not yet in a kept chunk (thrown chunks) */
    uint64_t enc_markers; /* dasf.dropped markers in the chunk being built */
    dasf_ring_range ranges[DASF_CHUNK_MAX_RANGES]; /* shared rings in that chunk */
    size_t n_ranges;
    uint32_t n_fallback; /* fallen-back rings (shm_fallback) in that chunk */
    /* Flight recorder (flush/flight.c): snapshot requests (like
     * commit_req/done, same lock and condvar), snapshots taken, and the
     * flusher-private copy of one ring's window (ring_cap bytes, mapped at
     * the first snapshot). */
    uint64_t snap_req, snap_done, snap_count;
    int snap_status;
    uint8_t *snap_buf;

    /* Statistics (relaxed atomics, read by dasf_db_get_stats). */
    uint64_t st_recorded, st_dropped, st_written, st_chunks, st_bytes, st_flushes;
    int st_last_error;
    int finalized; /* closed by atexit: flusher joined, events committed */
    dasf_db *handle; /* the public handle (kept with the shell) */
};

#endif
