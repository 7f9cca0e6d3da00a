/*
 * shm.h — rings, names and the clock table in file-backed shared memory,
 * so that what a process recorded survives its death (docs/RUNTIME.md,
 * "Surviving the process").
 *
 * Layout (one directory per process, <base>/dasf-<uid>/<pid>-<starttime>/):
 *   lock       held LOCK_SH by the live process (released by the kernel
 *              when it dies); a recoverer takes LOCK_EX|LOCK_NB
 *   names      the interned names: {u32 handle, u32 len, bytes, NUL} padded
 *              to 8 bytes, published by a release store of `used`
 *   clock      a copy of the tick -> ns table (published segments never
 *              change; a new one is copied before its switch tick)
 *   ring-N     one per (thread, database): a 4 KiB header (identity, offsets),
 *              the dasf_ring struct itself (so head/tail are the very words
 *              the hot path and the flusher use), then the record buffer
 */
#ifndef DASF_SHM_H
#define DASF_SHM_H

#include "clock.h"
#include "rt.h"

#define DASF_SHM_MAGIC "DASFSHM1"
#define DASF_SHM_VERSION 1u
#define DASF_SHM_HDR 4096u      /* ring file: header page */
#define DASF_SHM_RING_OFF 4096u /* the dasf_ring struct */
#define DASF_SHM_BUF_OFF 8192u  /* the record buffer */
#define DASF_SHM_NAMES_BYTES ((size_t)1 << 20)
#define DASF_SHM_PATH_MAX 3072u
/* Bound of one process's map (DASF_SHM_MAX overrides): names + clock
 * (DASF_SHM_FIXED_BYTES) + (DASF_SHM_BUF_OFF + ring capacity) per ring.
 * Rings beyond it are anonymous (one warning; info says "unrecoverable"). */
#define DASF_SHM_DEFAULT_MAX ((uint64_t)1 << 30)
#define DASF_SHM_FIXED_BYTES                                                                   \
    ((uint64_t)sizeof(dasf_shm_names) + DASF_SHM_NAMES_BYTES + (uint64_t)sizeof(dasf_shm_clock))

typedef struct dasf_shm_ring_hdr {
    char magic[8];
    uint32_t version, index;
    uint32_t ring_off, buf_off;
    uint32_t head_off, tail_off; /* offsetof(dasf_ring, head / tail) */
    uint32_t rec_size, layout;
    int32_t level, pad_;
    int64_t pid, tid;
    uint64_t starttime; /* field 22 of /proc/PID/stat */
    uint64_t cap;
    char host[64];
    char path[DASF_SHM_PATH_MAX]; /* the trace file, absolute */
} dasf_shm_ring_hdr;

typedef struct dasf_shm_names {
    char magic[8];
    uint64_t cap;  /* bytes of entries after this header */
    uint64_t used; /* release store after an entry is complete */
    uint64_t lost; /* names that did not fit (their events are dropped on recovery) */
} dasf_shm_names;

/* A ring in a shared file mapping for db (archive layout only), or NULL:
 * shared memory is off, or could not be had (warned once; the caller then
 * uses anonymous memory).  The returned struct is zeroed except buf/cap/
 * mask/shm fields. */
DASF_HIDDEN dasf_ring *dasf_shm_ring_create(dasf_filedb *db);
/* Unmaps the ring; unlink: also remove its file (all it held is written). */
DASF_HIDDEN void dasf_shm_ring_free(dasf_ring *r, int unlink_file);
/* atexit, after every database is finalised: remove this process's directory. */
DASF_HIDDEN void dasf_shm_at_exit(void);
/* Fork child: forget the parent's directory and mappings (not removing them). */
DASF_HIDDEN void dasf_shm_after_fork_child(void);
/* "<pid>-<starttime>" of this process's directory ("" without one). */
DASF_HIDDEN const char *dasf_shm_src(void);
/* Start time of pid from /proc (0 if unknown: no such process). */
DASF_HIDDEN uint64_t dasf_shm_proc_starttime(int64_t pid);
/* out = "a/b"; -1 when it does not fit (nothing usable written). */
DASF_HIDDEN int dasf_shm_join(char *out, size_t n, const char *a, const char *b);
/* DASF_SHM_MAX in bytes (K/M/G suffixes), else DASF_SHM_DEFAULT_MAX. */
DASF_HIDDEN uint64_t dasf_shm_max_bytes(void);
/* The base directory in effect for these options (NULL: shared memory off). */
DASF_HIDDEN const char *dasf_shm_base(const char *opt);

/* The names and clock files are filled by their owners' mirrors:
 * dasf_intern_set_mirror (internal.h), dasf_clock_set_mirror (clock.h). */


/* db.c: path with its directory made absolute (malloc'd; NULL: no memory). */
DASF_HIDDEN char *dasf_abs_path(const char *path);

/* recover.c */
typedef struct dasf_recover_report {
    uint64_t maps_seen, maps_live, maps_busy, maps_recovered;
    uint64_t rings, events, chunks, torn, unknown_names;
    uint64_t rings_empty; /* held nothing unwritten: removed */
    uint64_t tail_cut;    /* bytes of torn last chunks cut from trace files (append/torn.c) */
} dasf_recover_report;
/* Recovers the maps of dead processes under base (NULL: default).  only_path:
 * only rings for this trace file (absolute), else all.  list: print the stale
 * maps to out instead.  @return 0 or the first append error. */
DASF_HIDDEN int dasf_recover(const char *base, const char *only_path, int list, FILE *out,
                             dasf_recover_report *rep);

#endif
