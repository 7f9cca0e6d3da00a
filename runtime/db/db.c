/*
 * db.c — the EventDatabase interface and the built-in FileDatabase.
 *
 * Called from app threads (open, record, commit, get_traces, close).  A
 * dasf_db is a vtable + self; the FileDatabase's vtable routes record into
 * this thread's ring (record.c) and commit into the flusher's barrier.
 * Invariant: a closed FileDatabase keeps its small handle (key = 0), so a
 * stale handle or profiler gets DASF_ECLOSED instead of touching freed
 * memory; rings, buffers, the encoder and the thread are freed at close.
 */
#include "db.h"
#include "append.h"
#include "clock.h"
#include "flusher.h"
#include "record.h"
#include "registry.h"
#include "ring.h"
#include "shm.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_MAGIC 0x64617366u /* "dasf" */

struct dasf_db {
    uint32_t magic;
    const dasf_db_ops *ops;
    void *self;
    dasf_filedb *file; /* non-NULL for the built-in FileDatabase */
    int closed;
};

/* The end of the last field of the first published dasf_file_db_options
 * (with struct_size; compression_workers came in the same release): a
 * smaller struct_size is not an initialised struct.
 * Fields added later start at or after sizeof of the version before
 * (profiler.h), so every struct_size a program can have is >= this. */
#define OPTS_V1_END (offsetof(dasf_file_db_options, compression_workers) + sizeof(int))

static dasf_file_db_options options_default(void) {
    dasf_file_db_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.database_file = "traces.msgpack";
    o.commit_threshold = 5000;
    o.remove_old_output_file = false;
    o.commit_on_close = true;
    o.lock_timeout = 30.0;
    o.default_byte_size = 8;
    o.flush = true;
    o.compression_level = DASF_COMPRESSION_AUTO;
    o.overflow = DASF_OVERFLOW_BLOCK;
    o.ring_capacity = DASF_DEFAULT_RING_CAPACITY;
    o.flush_interval = 1.0;
    o.max_pending_bytes = (size_t)64 << 20;
    o.compression_workers = DASF_COMPRESSION_WORKERS_DEFAULT;
    return o;
}

int dasf_file_db_options_init(dasf_file_db_options *o, size_t struct_size) {
    if (!o || struct_size < OPTS_V1_END) return DASF_EINVAL;
    dasf_file_db_options d = options_default();
    /* A program built against a later header has a larger struct: its
     * fields this library does not know stay 0, their "unset". */
    memset(o, 0, struct_size);
    memcpy(o, &d, struct_size < sizeof d ? struct_size : sizeof d);
    o->struct_size = struct_size;
    return DASF_OK;
}

int dasf_file_db_options_load(dasf_file_db_options *dst, const dasf_file_db_options *src) {
    *dst = options_default();
    if (!src) return DASF_OK;
    size_t n = src->struct_size;
    if (n < OPTS_V1_END) return DASF_EINVAL;
    if (n > sizeof *dst) {
        const unsigned char *tail = (const unsigned char *)src;
        for (size_t i = sizeof *dst; i < n; i++)
            if (tail[i]) return DASF_ENOTSUP;
        n = sizeof *dst;
    }
    memcpy(dst, src, n);
    dst->struct_size = sizeof *dst;
    return DASF_OK;
}

int dasf_file_db_target(dasf_file_db_options *dst, const dasf_file_db_options *src,
                        const char **path) {
    int rc = dasf_file_db_options_load(dst, src);
    if (rc) return rc;
    if (!*path) *path = dst->database_file;
    if (!*path || !**path) return DASF_EINVAL;
    dst->compression_level = dasf_layout_level(*path, dst->compression_level);
    return DASF_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

int dasf_layout_level(const char *path, int level) {
    if (level != DASF_COMPRESSION_AUTO) return level;
    return path && ends_with(path, ".msgpack") ? 0 : DASF_DEFAULT_COMPRESSION_LEVEL;
}

int dasf_compression_workers(int n) {
    if (n != DASF_COMPRESSION_WORKERS_AUTO) return n;
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                           : (int)sysconf(_SC_NPROCESSORS_ONLN);
    int w = cpus / 8;
    return w > 8 ? 8 : w;
}

int dasf_trace_path_writable(const char *path, int *err) {
    /* The directory part ("." for a bare name) must be a directory we can
     * create files in, or the file must exist and be writable. */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return DASF_ENOMEM;
    struct stat st;
    int rc = DASF_OK;
    *err = 0;
    if (stat(dir, &st) != 0) {
        *err = errno;
        rc = *err == ENOENT || *err == ENOTDIR ? DASF_ENOENT : DASF_EIO;
    } else if (!S_ISDIR(st.st_mode)) {
        *err = ENOTDIR;
        rc = DASF_ENOENT;
    } else if (access(path, F_OK) == 0 ? access(path, W_OK) != 0 : access(dir, W_OK | X_OK) != 0) {
        *err = errno;
        rc = DASF_EIO;
    }
    free(dir);
    if (rc) errno = *err;
    return rc;
}

char *dasf_abs_path(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return NULL;
    char *rdir = realpath(dir, NULL);
    free(dir);
    const char *name = slash ? slash + 1 : path;
    char *out = NULL;
    if (!rdir) return strdup(path); /* the open fails later with a clear error */
    size_t n = strlen(rdir) + strlen(name) + 2;
    out = malloc(n);
    if (out) snprintf(out, n, "%s%s%s", rdir, strcmp(rdir, "/") ? "/" : "", name);
    free(rdir);
    return out;
}

static int options_valid(const dasf_file_db_options *o) {
    if (o->commit_threshold < 1) return 0;
    if (!isfinite(o->lock_timeout) || o->lock_timeout < 0) return 0;
    if (o->default_byte_size < 1 || o->default_byte_size > 8) return 0;
    if (o->compression_level < DASF_COMPRESSION_AUTO || o->compression_level > 19) return 0;
    if (o->overflow != DASF_OVERFLOW_BLOCK && o->overflow != DASF_OVERFLOW_DROP &&
        o->overflow != DASF_OVERFLOW_OVERWRITE)
        return 0;
    if (o->ring_capacity < ((size_t)64 << 10) || o->ring_capacity > ((size_t)1 << 30) ||
        (o->ring_capacity & (o->ring_capacity - 1)))
        return 0;
    if (!isfinite(o->flush_interval) || o->flush_interval <= 0 || o->flush_interval > 3600)
        return 0;
    if (o->max_pending_bytes == 0) return 0;
    if (o->compression_workers < DASF_COMPRESSION_WORKERS_AUTO ||
        o->compression_workers > DASF_MAX_COMPRESSION_WORKERS)
        return 0;
    return 1;
}

/* ---- the generic interface -------------------------------------------------- */

int dasf_db_create(dasf_db **out, const dasf_db_ops *ops, void *self) {
    if (!out || !ops || !ops->record || !ops->commit || !ops->get_traces) return DASF_EINVAL;
    dasf_db *db = calloc(1, sizeof *db);
    if (!db) return DASF_ENOMEM;
    db->magic = DB_MAGIC;
    db->ops = ops;
    db->self = self;
    *out = db;
    return DASF_OK;
}

static int db_ok(const dasf_db *db) {
    if (!db || db->magic != DB_MAGIC) return DASF_EINVAL;
    return db->closed ? DASF_ECLOSED : DASF_OK;
}

int dasf_db_record(dasf_db *db, const dasf_event *ev) {
    int rc = db_ok(db);
    if (rc) return rc;
    if (db->file) return dasf_filedb_record_event(db->file, ev); /* validates */
    rc = dasf_event_validate(ev);
    return rc ? rc : db->ops->record(db->self, ev);
}

int dasf_db_commit(dasf_db *db) {
    int rc = db_ok(db);
    return rc ? rc : db->ops->commit(db->self);
}

int dasf_db_get_traces(dasf_db *db, dasf_trace_visit visit, void *user) {
    int rc = db_ok(db);
    if (rc) return rc;
    if (!visit) return DASF_EINVAL;
    return db->ops->get_traces(db->self, visit, user);
}

int dasf_db_close(dasf_db *db) {
    int rc = db_ok(db);
    if (rc) return rc;
    db->closed = 1;
    rc = db->ops->close ? db->ops->close(db->self) : DASF_OK;
    if (!db->file) free(db); /* user databases: the handle goes too */
    return rc;
}

dasf_filedb *dasf_db_filedb(dasf_db *db) {
    return db && db->magic == DB_MAGIC && !db->closed ? db->file : NULL;
}

int dasf_db_get_stats(dasf_db *db, dasf_db_stats *out) {
    if (!db || db->magic != DB_MAGIC || !out) return DASF_EINVAL;
    memset(out, 0, sizeof *out);
    dasf_filedb *f = db->file;
    if (!f) return DASF_OK;
    /* While the flusher is between cycles (cycle_lock), its drop count and
     * the rings' not-yet-seen drops add up exactly: in mid-cycle a ring's
     * drops may be moved from one to the other between our two reads. */
    int open = !db->closed;
    if (open) pthread_mutex_lock(&f->cycle_lock);
    out->recorded = __atomic_load_n(&f->st_recorded, __ATOMIC_RELAXED);
    out->dropped = __atomic_load_n(&f->st_dropped, __ATOMIC_RELAXED);
    out->written = __atomic_load_n(&f->st_written, __ATOMIC_RELAXED);
    out->chunks_written = __atomic_load_n(&f->st_chunks, __ATOMIC_RELAXED);
    out->bytes_written = __atomic_load_n(&f->st_bytes, __ATOMIC_RELAXED);
    out->flushes = __atomic_load_n(&f->st_flushes, __ATOMIC_RELAXED);
    out->pending_bytes = __atomic_load_n(&f->pending_bytes, __ATOMIC_RELAXED);
    out->last_error = __atomic_load_n(&f->st_last_error, __ATOMIC_RELAXED);
    if (open) {
        /* Drops not yet seen by the flusher are counted too. */
        uint64_t unseen = 0;
        dasf_rcu_read_lock();
        dasf_ring *r;
        DASF_LIST_EACH_RCU(dasf_ring, r, &f->rings, node) {
            uint64_t d = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
            uint64_t seen = __atomic_load_n(&r->dropped_seen, __ATOMIC_RELAXED);
            if (d > seen) unseen += d - seen;
        }
        dasf_rcu_read_unlock();
        out->dropped += unseen;
        pthread_mutex_unlock(&f->cycle_lock);
    }
    return DASF_OK;
}

/* ---- the FileDatabase --------------------------------------------------------- */

static int fdb_record(void *self, const dasf_event *ev) {
    return dasf_filedb_record_event(self, ev);
}

static int fdb_commit(void *self) {
    dasf_filedb *f = self;
    if (!__atomic_load_n(&f->key, __ATOMIC_ACQUIRE)) return DASF_ECLOSED;
    return dasf_flusher_commit(f);
}

int dasf_db_snapshot(dasf_db *db) {
    if (!db || db->magic != DB_MAGIC) return DASF_EINVAL;
    if (db->closed) return DASF_ECLOSED;
    dasf_filedb *f = db->file;
    if (!f) return DASF_ENOTSUP; /* a user database: no rings of ours */
    if (!__atomic_load_n(&f->key, __ATOMIC_ACQUIRE)) return DASF_ECLOSED;
    return dasf_flusher_snapshot(f);
}

static int fdb_get_traces(void *self, dasf_trace_visit visit, void *user) {
    dasf_filedb *f = self;
    if (access(f->path, F_OK) != 0) return DASF_OK; /* nothing committed yet */
    return dasf_trace_read_file(f->path, visit, user);
}

static void fdb_free_rings(dasf_filedb *f) {
    /* The flusher is joined: no reader of the list remains but RCU
     * stragglers of get_stats, hence call_rcu. */
    dasf_ring *r;
    pthread_mutex_lock(&f->reg_lock);
    DASF_LIST_EACH_SAFE(dasf_ring, r, &f->rings, node) {
        dasf_rcu_list_del(&r->node);
        __atomic_store_n(&r->linked, 2, __ATOMIC_RELEASE); /* orphaned */
        dasf_call_rcu(&r->rcu, dasf_ring_free_rcu, r);
    }
    pthread_mutex_unlock(&f->reg_lock);
}

static int fdb_close(void *self) {
    dasf_filedb *f = self;
    /* Refuse new records first: threads that miss their cached ring see
     * key 0 and return DASF_ECLOSED. */
    __atomic_store_n(&f->key, 0, __ATOMIC_RELEASE);
    int rc = DASF_OK;
    if (!f->finalized) rc = dasf_flusher_stop(f, f->opts.commit_on_close);
    f->finalized = 1;
    dasf_registry_remove_db(f);
    fdb_free_rings(f);
    dasf_flusher_free_state(f);
    free(f->path);
    f->path = NULL;
    free(f->abs_path);
    f->abs_path = NULL;
    free(f->shm_base);
    f->shm_base = NULL;
    return rc;
}

static const dasf_db_ops file_db_ops = {fdb_record, fdb_commit, fdb_get_traces, fdb_close};

int dasf_file_db_open(dasf_db **out, const char *path, const dasf_file_db_options *opts) {
    if (!out) return DASF_EINVAL;
    dasf_file_db_options o;
    int trc = dasf_file_db_target(&o, opts, &path);
    if (trc) return trc;
    if (!options_valid(&o)) return DASF_EINVAL;
    /* The flight recorder marks its chunks (snapshot, overwritten): the
     * legacy layout has no chunk metadata to say so. */
    if (o.overflow == DASF_OVERFLOW_OVERWRITE && o.compression_level == 0) return DASF_EINVAL;
    o.compression_workers = dasf_compression_workers(o.compression_workers);
    dasf_filedb *f = aligned_alloc(DASF_CACHELINE, sizeof *f);
    if (!f) return DASF_ENOMEM;
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) {
        free(f);
        return DASF_ENOMEM;
    }
    f->opts = o;
    f->opts.database_file = f->path;
    f->layout = o.compression_level == 0 ? DASF_LAYOUT_LEGACY : DASF_LAYOUT_ARCHIVE;
    f->ring_cap = o.ring_capacity;
    /* commit_threshold in 32-byte record slots, at most half a ring so a
     * full ring always has a wake-up pending. */
    uint64_t thresh = (uint64_t)o.commit_threshold * DASF_REC_SIZE;
    f->thresh_bytes = thresh < f->ring_cap / 2 ? thresh : f->ring_cap / 2;
    f->overflow = o.overflow;
    f->out.fd = -1;
    f->start_flusher = dasf_flusher_start; /* for ring.c (rt.h) */
    pthread_mutex_init(&f->reg_lock, NULL);
    pthread_mutex_init(&f->cycle_lock, NULL);
    pthread_mutex_init(&f->commit_lock, NULL);
    pthread_cond_init(&f->commit_cond, NULL);
    CDS_INIT_LIST_HEAD(&f->rings);
    /* Safe paths (filedb.c): refuse a link or a non-regular file now, not
     * at the first commit; the append checks again. */
    int prc = o.remove_old_output_file ? dasf_trace_path_remove(path) : DASF_OK;
    if (prc == DASF_OK) prc = dasf_trace_path_check(path, o.follow_symlinks);
    if (prc) {
        free(f->path);
        free(f);
        return prc;
    }
    /* Shared-memory rings: identity = the absolute trace path (the
     * directory resolved, the name as given: the file may not exist yet). */
    const char *base = f->layout == DASF_LAYOUT_ARCHIVE ? dasf_shm_base(o.shm_dir) : NULL;
    f->abs_path = dasf_abs_path(path);
    if (base && f->abs_path && strlen(f->abs_path) < DASF_SHM_PATH_MAX) f->shm_base = strdup(base);
    f->opts.shm_dir = f->shm_base ? f->shm_base : "";
    /* A flight recorder drains nothing: its snapshots are encoded by the
     * flusher itself, one ring per chunk (flush/flight.c), so no workers. */
    if (o.overflow == DASF_OVERFLOW_OVERWRITE) f->opts.compression_workers = 0;
    dasf_db *db;
    int rc = f->abs_path ? dasf_db_create(&db, &file_db_ops, f) : DASF_ENOMEM;
    if (rc) {
        free(f->shm_base);
        free(f->abs_path);
        free(f->path);
        free(f);
        return rc;
    }
    /* A dead writer's unwritten events into this file first (docs/RUNTIME.md). */
    if (f->shm_base) {
        dasf_recover_report rep;
        dasf_recover(f->shm_base, f->abs_path, 0, NULL, &rep);
    }
    db->file = f;
    f->handle = db;
    dasf_clock_ticks(); /* calibrate the clock now, not on a hot path */
    f->key = dasf_registry_new_key();
    dasf_registry_add_db(f);
    *out = db;
    return DASF_OK;
}
