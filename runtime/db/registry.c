/*
 * registry.c — process-wide bookkeeping of open FileDatabases.
 *
 * Called from open/close (any thread), atexit and fork.  It hands out the
 * unique keys that tie a thread's cached ring to one database lifetime,
 * commits every open database at exit (commit_on_close, as the seed's
 * atexit hook does), and gives a forked child a clean start: no copy of the
 * parent's rings, pending chunks, flusher or file descriptor — the child's
 * first record starts its own flusher.
 */
#include "registry.h"
#include "flusher.h"
#include "ring.h"
#include "shm.h"
#include "workers.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t g_dbs_lock = PTHREAD_MUTEX_INITIALIZER;
static CDS_LIST_HEAD(g_dbs);
/* Closed databases keep their small shell (see db.c); listing them keeps
 * them reachable, so leak checkers do not flag what is kept on purpose. */
static CDS_LIST_HEAD(g_closed);
static uint64_t g_next_key = 1;
static pthread_once_t g_hooks_once = PTHREAD_ONCE_INIT;

uint64_t dasf_registry_new_key(void) {
    return __atomic_fetch_add(&g_next_key, 1, __ATOMIC_RELAXED);
}

static void at_exit(void) {
    /* Finalise (commit + join the flusher) but do not free: the program
     * may still call close/destroy from a later atexit handler. */
    pthread_mutex_lock(&g_dbs_lock);
    dasf_filedb *db;
    int failed = 0;
    DASF_LIST_EACH(dasf_filedb, db, &g_dbs, all_node) {
        if (!db->finalized) {
            __atomic_store_n(&db->key, 0, __ATOMIC_RELEASE); /* later records: ECLOSED */
            if (dasf_flusher_stop(db, db->opts.commit_on_close)) failed = 1;
            db->finalized = 1;
        }
    }
    pthread_mutex_unlock(&g_dbs_lock);
    /* All committed: this process's maps are not needed.  When a commit
     * failed, the unwritten events stay in them for `dasf-trace recover`. */
    if (!failed) dasf_shm_at_exit();
}

static void fork_prepare(void) {
    pthread_mutex_lock(&g_dbs_lock);
    dasf_filedb *db;
    DASF_LIST_EACH(dasf_filedb, db, &g_dbs, all_node) {
        pthread_mutex_lock(&db->cycle_lock); /* the flusher is between cycles */
        dasf_pool_fork_prepare(db);          /* and its workers between jobs */
        pthread_mutex_lock(&db->reg_lock);
        pthread_mutex_lock(&db->commit_lock);
        /* A flusher still starting up may be inside the C library's thread
         * setup (which allocates): let it reach flusher_main first.  It
         * takes no lock before that point. */
        if (db->flusher_running && db->flusher_pid == getpid())
            while (!__atomic_load_n(&db->flusher_ready, __ATOMIC_ACQUIRE)) sched_yield();
    }
    call_rcu_before_fork();
    urcu_bp_before_fork();
}

static void fork_parent(void) {
    urcu_bp_after_fork_parent();
    call_rcu_after_fork_parent();
    dasf_filedb *db;
    DASF_LIST_EACH(dasf_filedb, db, &g_dbs, all_node) {
        pthread_mutex_unlock(&db->commit_lock);
        pthread_mutex_unlock(&db->reg_lock);
        dasf_pool_fork_parent(db);
        pthread_mutex_unlock(&db->cycle_lock);
    }
    pthread_mutex_unlock(&g_dbs_lock);
}

static void fork_child(void) {
    urcu_bp_after_fork_child();
    call_rcu_after_fork_child();
    dasf_shm_after_fork_child();
    dasf_ring_tls_reset_after_fork();
    dasf_filedb *db;
    DASF_LIST_EACH(dasf_filedb, db, &g_dbs, all_node) {
        /* The parent's rings hold the parent's events: release their
         * memory here and start with none. */
        dasf_ring *r;
        DASF_LIST_EACH_SAFE(dasf_ring, r, &db->rings, node) dasf_ring_forget_after_fork(r);
        CDS_INIT_LIST_HEAD(&db->rings);
        dasf_flusher_reset_after_fork(db);
        if (db->key) __atomic_store_n(&db->key, dasf_registry_new_key(), __ATOMIC_RELEASE);
        pthread_mutex_unlock(&db->commit_lock);
        pthread_mutex_unlock(&db->reg_lock);
        pthread_mutex_unlock(&db->cycle_lock);
    }
    pthread_mutex_unlock(&g_dbs_lock);
}

static void hooks_init(void) {
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    atexit(at_exit);
}

void dasf_registry_add_db(dasf_filedb *db) {
    pthread_once(&g_hooks_once, hooks_init);
    pthread_mutex_lock(&g_dbs_lock);
    cds_list_add(&db->all_node, &g_dbs);
    pthread_mutex_unlock(&g_dbs_lock);
}

void dasf_registry_remove_db(dasf_filedb *db) {
    pthread_mutex_lock(&g_dbs_lock);
    cds_list_del(&db->all_node);
    cds_list_add(&db->all_node, &g_closed);
    pthread_mutex_unlock(&g_dbs_lock);
}

int dasf_registry_commit_all(void) {
    int rc = DASF_OK;
    pthread_mutex_lock(&g_dbs_lock);
    dasf_filedb *db;
    DASF_LIST_EACH(dasf_filedb, db, &g_dbs, all_node) {
        if (db->finalized || !__atomic_load_n(&db->key, __ATOMIC_ACQUIRE)) continue;
        /* A flight recorder (OVERWRITE) writes its window: a snapshot.
         * Other policies: dasf_flusher_snapshot is their commit. */
        int r = dasf_flusher_snapshot(db);
        if (r && !rc) rc = r;
    }
    pthread_mutex_unlock(&g_dbs_lock);
    return rc;
}
