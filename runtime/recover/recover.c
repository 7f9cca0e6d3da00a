/*
 * recover.c — turns a dead process's shared rings into normal chunks.
 *
 * Runs on whatever thread calls it: dasf_file_db_open (for its own trace
 * file) or `dasf-trace recover`.  Invariants:
 *   - never while the writer lives: its directory's `lock` is held LOCK_SH
 *     until it dies; we take LOCK_EX|LOCK_NB (which also excludes another
 *     recoverer) and check /proc/PID/stat's start time, not the pid alone;
 *   - never twice: a ring's records below its tail are in the file; the
 *     records of [tail, head) the writer appended just before dying (append
 *     done, tail not yet stored) are named by the "rings" ranges of the
 *     chunks it wrote, and so are the ones a recoverer wrote (same "src"),
 *     so we start at max(tail, the highest range end in the file);
 *   - only records below head (release-stored after the record) are read,
 *     each checked (size, bounds, payload, name); a bad one is dropped and
 *     counted ("torn"), the rest of that ring with it (its boundary is lost);
 *   - a ring file is removed only after its events are appended; the
 *     directory once it holds no ring;
 *   - the first append to the trace file cuts a torn last chunk (a writer
 *     killed inside its write; append/torn.c) under the file lock: its
 *     events are in no whole chunk, so they are recovered from the ring.
 * What the map and the trace file hold is read by recover_scan.c.
 */
#include "append.h"
#include "recover_scan.h"
#include "archive.h"
#include "ring.h"
#include "ring_decode.h"
#include "shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- one ring --------------------------------------------------------------- */
typedef struct rctx {
    const char *dir, *src;
    dasf_decode_ctx dc;
    void *scratch;
    dasf_recover_report *rep;
} rctx;

static const dasf_shm_ring_hdr *ring_hdr_ok(const mapped *m) {
    const dasf_shm_ring_hdr *h = m->p;
    if (m->n < DASF_SHM_BUF_OFF || memcmp(h->magic, DASF_SHM_MAGIC, 8) ||
        h->version != DASF_SHM_VERSION || h->ring_off != DASF_SHM_RING_OFF ||
        h->buf_off != DASF_SHM_BUF_OFF || h->head_off != offsetof(dasf_ring, head) ||
        h->tail_off != offsetof(dasf_ring, tail) || h->rec_size != DASF_REC_SIZE ||
        h->cap < 65536 || (h->cap & (h->cap - 1)) || m->n != DASF_SHM_BUF_OFF + h->cap ||
        h->layout != DASF_LAYOUT_ARCHIVE || h->level < 1 || h->level > 19 ||
        memchr(h->path, 0, sizeof h->path) == NULL || h->path[0] != '/' ||
        memchr(h->host, 0, sizeof h->host) == NULL)
        return NULL;
    return h;
}

static int flush_chunk(dasf_chunk_enc *enc, const dasf_shm_ring_hdr *h, const char *src,
                       dasf_ring_range *rg, uint64_t torn, dasf_append_fd *out,
                       dasf_recover_report *rep) {
    if (dasf_chunk_enc_count(enc) == 0) return DASF_OK;
    dasf_chunk_origin o = {.pid = h->pid,
                           .host = h->host,
                           .clock = "monotonic",
                           .realtime_offset_ns = dasf_realtime_offset_ns(),
                           .src = src,
                           .ranges = rg,
                           .n_ranges = 1,
                           .recovered = 1,
                           .torn = torn};
    uint64_t n = dasf_chunk_enc_count(enc);
    dasf_buf b = {0};
    int rc = dasf_chunk_enc_finish(enc, &o, &b);
    if (rc == DASF_OK)
        rc = dasf_file_append_cut(out, h->path, DASF_LAYOUT_ARCHIVE, b.data, b.len, 30.0, 1, 0,
                                  &rep->tail_cut);
    dasf_buf_free(&b);
    if (rc == DASF_OK) {
        rep->chunks++;
        rep->events += n;
    }
    return rc;
}

/* Appends the ring's unwritten records; @return 0 or the append error. */
static int recover_ring(rctx *x, const mapped *m, uint64_t start) {
    const dasf_shm_ring_hdr *h = m->p;
    const uint8_t *base = m->p;
    const dasf_ring *r = (const dasf_ring *)(base + DASF_SHM_RING_OFF);
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    if (start < tail) start = tail;
    const uint8_t *buf = base + DASF_SHM_BUF_OFF;
    uint64_t cap = h->cap, mask = cap - 1;
    if (head < start || head - start > cap) { /* indices not plausible: nothing to trust */
        x->rep->torn++;
        return DASF_OK;
    }
    dasf_chunk_enc *enc;
    int rc = dasf_chunk_enc_create(&enc, h->level, 8);
    if (rc) return rc;
    dasf_append_fd out = {-1, 0};
    uint64_t torn = 0;
    dasf_ring_range rg = {h->index, start, start};
    uint64_t t = start;
    while (t < head && rc == DASF_OK) {
        const dasf_rec *rec = (const dasf_rec *)(buf + (t & mask));
        uint64_t size = rec->size;
        if (size < DASF_REC_SIZE || (size & (DASF_REC_SIZE - 1)) || (t & mask) + size > cap ||
            size > head - t) {
            torn++; /* the boundary is lost: the rest of the ring cannot be read */
            t = head;
            break;
        }
        if (!((rec->word >> 40) & DASF_RF_PAD)) {
            dasf_enc_event e;
            if (dasf_decode_rec(&x->dc, h->pid, h->tid, rec, &e, &x->scratch) != 0 ||
                dasf_chunk_enc_add(enc, &e) != 0)
                torn++;
        }
        t += size;
        rg.to = t;
        if (dasf_chunk_enc_full(enc)) {
            rc = flush_chunk(enc, h, x->src, &rg, torn, &out, x->rep);
            x->rep->torn += torn;
            torn = 0;
            rg.from = t;
        }
    }
    rg.to = t;
    if (rc == DASF_OK) rc = flush_chunk(enc, h, x->src, &rg, torn, &out, x->rep);
    x->rep->torn += torn;
    dasf_chunk_enc_destroy(enc);
    if (out.fd >= 0) close(out.fd);
    return rc;
}

/* ---- one process directory --------------------------------------------------- */
static int list_dir(const char *dir, const char *src, FILE *out) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "ring-", 5)) continue;
        char p[PATH_MAX + 300];
        mapped m;
        if (dasf_shm_join(p, sizeof p, dir, e->d_name) || dasf_rcv_map_ro(p, &m)) continue;
        const dasf_shm_ring_hdr *h = ring_hdr_ok(&m);
        if (h) {
            const dasf_ring *r = (const dasf_ring *)((const uint8_t *)m.p + DASF_SHM_RING_OFF);
            fprintf(out, "%s\t%s\tpid %lld tid %lld\t%llu bytes unwritten\t%s\n", dir, e->d_name,
                    (long long)h->pid, (long long)h->tid,
                    (unsigned long long)(r->head - r->tail), h->path);
        } else {
            fprintf(out, "%s\t%s\t(not a ring of this version)\n", dir, e->d_name);
        }
        dasf_rcv_unmap(&m);
    }
    closedir(d);
    (void)src;
    return 0;
}

static uint32_t max_ring_index(const char *dir) {
    uint32_t max = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "ring-", 5)) continue;
        unsigned long v = strtoul(e->d_name + 5, NULL, 10);
        if (v > max && v < (1ul << 24)) max = (uint32_t)v;
    }
    if (d) closedir(d);
    return max;
}

static int recover_dir(const char *dir, const char *src, const char *only_path,
                       dasf_recover_report *rep) {
    int rc = DASF_OK;
    char p[PATH_MAX + 300];
    mapped nm = {0}, cm = {0};
    names nt;
    memset(&nt, 0, sizeof nt);
    int have_names = dasf_shm_join(p, sizeof p, dir, "names") == 0 && dasf_rcv_map_ro(p, &nm) == 0 &&
                     dasf_rcv_names_load(&nm, &nt) == 0;
    const dasf_shm_clock *ck = NULL;
    if (dasf_shm_join(p, sizeof p, dir, "clock") == 0 && dasf_rcv_map_ro(p, &cm) == 0 &&
        cm.n >= sizeof *ck) {
        ck = cm.p;
        uint32_t n = __atomic_load_n(&ck->tab.n, __ATOMIC_ACQUIRE);
        if (memcmp(ck->magic, DASF_SHM_MAGIC, 8) || n < 1 || n > DASF_CLOCK_SEGS) ck = NULL;
    }
    rctx x = {.dir = dir, .src = src, .rep = rep};
    x.dc.name = dasf_rcv_names_get;
    x.dc.user = &nt;
    x.dc.clock = ck ? &ck->tab : NULL;
    x.dc.identity = ck ? ck->identity : 1;
    int left = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    done_ranges dr = {NULL, 0};
    char scanned[DASF_SHM_PATH_MAX] = "";
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "ring-", 5)) continue;
        mapped m;
        if (dasf_shm_join(p, sizeof p, dir, e->d_name) || dasf_rcv_map_ro(p, &m)) continue;
        const dasf_shm_ring_hdr *h = ring_hdr_ok(&m);
        if (!h) { /* not ours to read: leave it (another version's tool may) */
            dasf_rcv_unmap(&m);
            left++;
            continue;
        }
        const dasf_ring *rr = (const dasf_ring *)((const uint8_t *)m.p + DASF_SHM_RING_OFF);
        if (__atomic_load_n(&rr->head, __ATOMIC_ACQUIRE) ==
            __atomic_load_n(&rr->tail, __ATOMIC_ACQUIRE)) {
            /* Everything it held is in its file (tail moves only after the
             * append): nothing to recover, whichever file it was for — a
             * process that committed and then died of a signal. */
            dasf_rcv_unmap(&m);
            unlink(p);
            rep->rings_empty++;
            continue;
        }
        if (only_path && strcmp(h->path, only_path)) {
            dasf_rcv_unmap(&m);
            left++;
            continue;
        }
        if (!have_names || !ck) { /* cannot decode names/ticks: keep it */
            dasf_rcv_unmap(&m);
            left++;
            rep->unknown_names++;
            continue;
        }
        if (strcmp(scanned, h->path)) { /* what this file already holds of ours */
            free(dr.to);
            dr.n = max_ring_index(dir) + 1;
            dr.to = calloc(dr.n, sizeof *dr.to);
            if (!dr.to) {
                dasf_rcv_unmap(&m);
                rc = DASF_ENOMEM;
                break;
            }
            dasf_rcv_scan_file(h->path, src, &dr);
            snprintf(scanned, sizeof scanned, "%s", h->path);
        }
        uint64_t start = h->index < dr.n ? dr.to[h->index] : 0;
        int r = recover_ring(&x, &m, start);
        dasf_rcv_unmap(&m);
        rep->rings++;
        if (r == DASF_OK) {
            unlink(p);
        } else {
            left++;
            if (!rc) rc = r;
        }
    }
    if (d) closedir(d);
    free(dr.to);
    dasf_decode_scratch_free(x.scratch);
    dasf_rcv_names_free(&nt);
    dasf_rcv_unmap(&nm);
    dasf_rcv_unmap(&cm);
    if (!left) {
        static const char *const files[] = {"names", "clock", "lock"};
        for (size_t i = 0; i < 3; i++) {
            if (dasf_shm_join(p, sizeof p, dir, files[i]) == 0) unlink(p);
        }
        if (rmdir(dir) == 0) rep->maps_recovered++;
    }
    return rc;
}

/* ---- every process directory -------------------------------------------------- */
int dasf_recover(const char *base, const char *only_path, int list, FILE *out,
                 dasf_recover_report *rep) {
    memset(rep, 0, sizeof *rep);
    if (!base) base = dasf_shm_base(NULL);
    if (!base) return DASF_OK;
    char top[PATH_MAX], uidname[32];
    snprintf(uidname, sizeof uidname, "dasf-%u", (unsigned)getuid());
    if (dasf_shm_join(top, sizeof top, base, uidname)) return DASF_OK; /* none made there */
    DIR *d = opendir(top);
    if (!d) return DASF_OK; /* nothing was ever mapped here */
    int rc = DASF_OK;
    pid_t me = getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        long long pid;
        unsigned long long st;
        char tailc;
        if (sscanf(e->d_name, "%lld-%llu%c", &pid, &st, &tailc) != 2 || pid <= 0) continue;
        if (pid == me) continue; /* our own (a forked child's parent has another pid) */
        char dir[PATH_MAX + 300], p[PATH_MAX + 320];
        if (dasf_shm_join(dir, sizeof dir, top, e->d_name)) continue;
        rep->maps_seen++;
        /* Alive: same pid and same start time (a reused pid has another). */
        if (dasf_shm_proc_starttime(pid) == st) {
            rep->maps_live++;
            continue;
        }
        dasf_shm_join(p, sizeof p, dir, "lock"); /* fits: p is larger than dir */
        int fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
            /* Held: the writer (its lock outlives a starttime we misread)
             * or another recoverer at work. */
            close(fd);
            rep->maps_busy++;
            continue;
        }
        if (dasf_shm_proc_starttime(pid) == st) { /* started after our first look */
            if (fd >= 0) close(fd);
            rep->maps_live++;
            continue;
        }
        if (list) {
            fprintf(out, "%s\tstale (pid %lld not running)\n", dir, pid);
            list_dir(dir, e->d_name, out);
        } else {
            int r = recover_dir(dir, e->d_name, only_path, rep);
            if (r && !rc) rc = r;
        }
        if (fd >= 0) close(fd);
    }
    closedir(d);
    return rc;
}

int dasf_recover_maps(const char *shm_dir, const char *trace_path, int list,
                      dasf_recover_stats *out) {
    dasf_recover_report rep;
    char *abs = trace_path ? dasf_abs_path(trace_path) : NULL;
    if (trace_path && !abs) return DASF_ENOMEM;
    int rc = dasf_recover(dasf_shm_base(shm_dir), abs, list, stdout, &rep);
    free(abs);
    if (out) {
        memset(out, 0, sizeof *out);
        out->maps_seen = rep.maps_seen;
        out->maps_live = rep.maps_live;
        out->maps_busy = rep.maps_busy;
        out->maps_recovered = rep.maps_recovered;
        out->rings = rep.rings;
        out->events = rep.events;
        out->chunks = rep.chunks;
        out->torn = rep.torn;
        out->undecodable_maps = rep.unknown_names;
        out->tail_bytes_cut = rep.tail_cut;
    }
    return rc;
}
