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
 *     directory once it holds no ring.
 */
#include "append.h"
#include "archive.h"
#include "byteorder.h"
#include "mp_cursor.h"
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct mapped {
    void *p;
    size_t n;
} mapped;

static int map_ro(const char *path, mapped *m) {
    m->p = NULL;
    m->n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return -1;
    m->p = p;
    m->n = (size_t)st.st_size;
    return 0;
}

static void unmap(mapped *m) {
    if (m->p) munmap(m->p, m->n);
    m->p = NULL;
}

/* ---- names ---------------------------------------------------------------- */
typedef struct names {
    const char **s;
    uint32_t *len;
    uint32_t n; /* handles 1..n-1 */
} names;

static const char *names_get(void *user, uint32_t h, uint32_t *len) {
    names *t = user;
    if (h == 0 || h >= t->n || !t->s[h]) return NULL;
    *len = t->len[h];
    return t->s[h];
}

static int names_load(const mapped *m, names *t) {
    memset(t, 0, sizeof *t);
    if (m->n < sizeof(dasf_shm_names)) return -1;
    const dasf_shm_names *hd = m->p;
    if (memcmp(hd->magic, DASF_SHM_MAGIC, 8) || hd->cap > m->n - sizeof *hd) return -1;
    uint64_t used = __atomic_load_n(&hd->used, __ATOMIC_ACQUIRE);
    if (used > hd->cap) return -1;
    const uint8_t *p = (const uint8_t *)(hd + 1), *end = p + used;
    uint32_t max = 0;
    for (const uint8_t *q = p; q + 8 <= end;) { /* pass 1: the largest handle */
        uint32_t h, l;
        memcpy(&h, q, 4);
        memcpy(&l, q + 4, 4);
        uint64_t need = (8 + (uint64_t)l + 1 + 7) & ~(uint64_t)7;
        if (need > (uint64_t)(end - q)) break;
        if (h > max && h < (1u << 28)) max = h;
        q += need;
    }
    t->n = max + 1;
    t->s = calloc(t->n, sizeof *t->s);
    t->len = calloc(t->n, sizeof *t->len);
    if (!t->s || !t->len) return -1;
    for (const uint8_t *q = p; q + 8 <= end;) {
        uint32_t h, l;
        memcpy(&h, q, 4);
        memcpy(&l, q + 4, 4);
        uint64_t need = (8 + (uint64_t)l + 1 + 7) & ~(uint64_t)7;
        if (need > (uint64_t)(end - q)) break;
        if (h && h < t->n && q[8 + l] == 0) {
            t->s[h] = (const char *)q + 8;
            t->len[h] = l;
        }
        q += need;
    }
    return 0;
}

static void names_free(names *t) {
    free(t->s);
    free(t->len);
}

/* ---- what the trace file already holds of a writer's rings ----------------- */
typedef struct done_ranges {
    uint64_t *to; /* by ring index */
    uint32_t n;
} done_ranges;

static int key_is(const dasf_mp_obj *k, const char *lit) {
    size_t n = strlen(lit);
    return k->type == DASF_VAL_STR && k->v.s.len == n && memcmp(k->v.s.ptr, lit, n) == 0;
}

/* One chunk's metadata: its data size, and when its "src" is ours and its
 * data is whole (data_end - data holds `stored` bytes with the metadata's
 * CRC-32C: a torn append is not "in the file"), the highest end of each
 * ring range. */
static int scan_meta(const uint8_t *p, size_t n, const uint8_t *data, size_t avail,
                     const char *src, done_ranges *d, uint64_t *stored) {
    dasf_mp c = {p, p + n};
    dasf_mp_obj o, k, v;
    if (dasf_mp_read(&c, &o) || o.type != DASF_VAL_MAP) return -1;
    int ours = 0;
    const uint8_t *rings = NULL;
    int64_t crc = -1;
    *stored = UINT64_MAX;
    for (uint32_t i = 0; i < o.v.n; i++) {
        if (dasf_mp_read(&c, &k)) return -1;
        const uint8_t *vs = c.p;
        if (key_is(&k, "rings")) rings = vs;
        if (dasf_mp_read(&c, &v)) return -1;
        if (v.type == DASF_VAL_ARRAY || v.type == DASF_VAL_MAP) {
            c.p = vs;
            if (dasf_mp_skip(&c)) return -1;
            continue;
        }
        if (key_is(&k, "stored_size") && v.type == DASF_VAL_INT && v.v.i >= 0)
            *stored = (uint64_t)v.v.i;
        if (key_is(&k, "crc32c") && v.type == DASF_VAL_INT && v.v.i >= 0) crc = v.v.i;
        if (key_is(&k, "src") && v.type == DASF_VAL_STR && v.v.s.len == strlen(src) &&
            memcmp(v.v.s.ptr, src, v.v.s.len) == 0)
            ours = 1;
    }
    if (*stored == UINT64_MAX || *stored > avail) return -1;
    if (!ours || !rings) return 0;
    if (crc < 0 || dasf_crc32c(0, data, (size_t)*stored) != (uint32_t)crc) return -1;
    dasf_mp r = {rings, p + n};
    if (dasf_mp_read(&r, &o) || o.type != DASF_VAL_ARRAY) return 0;
    for (uint32_t i = 0; i < o.v.n; i++) {
        dasf_mp_obj a, x[3];
        if (dasf_mp_read(&r, &a) || a.type != DASF_VAL_ARRAY || a.v.n != 3) return 0;
        for (int j = 0; j < 3; j++)
            if (dasf_mp_read(&r, &x[j]) || x[j].type != DASF_VAL_INT || x[j].v.i < 0) return 0;
        uint64_t idx = (uint64_t)x[0].v.i, to = (uint64_t)x[2].v.i;
        if (idx < d->n && to > d->to[idx]) d->to[idx] = to;
    }
    return 0;
}

static void scan_file(const char *path, const char *src, done_ranges *d) {
    mapped m;
    if (map_ro(path, &m)) return; /* no file yet: nothing written */
    const uint8_t *p = m.p;
    size_t off = 0;
    while (off + 8 <= m.n) {
        uint32_t magic = dasf_load_le32(p + off), ml = dasf_load_le32(p + off + 4);
        uint64_t stored;
        if (magic == DASF_CHUNK_MAGIC && ml <= DASF_MAX_META_SIZE && off + 8 + ml <= m.n &&
            scan_meta(p + off + 8, ml, p + off + 8 + ml, m.n - off - 8 - ml, src, d,
                      &stored) == 0) {
            off += 8 + ml + stored;
        } else {
            off++; /* damage, or bytes of another kind: resynchronise */
        }
    }
    unmap(&m);
}

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
                       dasf_ring_range *rg, uint64_t torn, int *fd, dasf_recover_report *rep) {
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
        rc = dasf_file_append(fd, h->path, DASF_LAYOUT_ARCHIVE, b.data, b.len, 30.0, 1, 0);
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
    int fd = -1;
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
            rc = flush_chunk(enc, h, x->src, &rg, torn, &fd, x->rep);
            x->rep->torn += torn;
            torn = 0;
            rg.from = t;
        }
    }
    rg.to = t;
    if (rc == DASF_OK) rc = flush_chunk(enc, h, x->src, &rg, torn, &fd, x->rep);
    x->rep->torn += torn;
    dasf_chunk_enc_destroy(enc);
    if (fd >= 0) close(fd);
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
        if (dasf_shm_join(p, sizeof p, dir, e->d_name) || map_ro(p, &m)) continue;
        const dasf_shm_ring_hdr *h = ring_hdr_ok(&m);
        if (h) {
            const dasf_ring *r = (const dasf_ring *)((const uint8_t *)m.p + DASF_SHM_RING_OFF);
            fprintf(out, "%s\t%s\tpid %lld tid %lld\t%llu bytes unwritten\t%s\n", dir, e->d_name,
                    (long long)h->pid, (long long)h->tid,
                    (unsigned long long)(r->head - r->tail), h->path);
        } else {
            fprintf(out, "%s\t%s\t(not a ring of this version)\n", dir, e->d_name);
        }
        unmap(&m);
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
    int have_names = dasf_shm_join(p, sizeof p, dir, "names") == 0 && map_ro(p, &nm) == 0 &&
                     names_load(&nm, &nt) == 0;
    const dasf_shm_clock *ck = NULL;
    if (dasf_shm_join(p, sizeof p, dir, "clock") == 0 && map_ro(p, &cm) == 0 &&
        cm.n >= sizeof *ck) {
        ck = cm.p;
        uint32_t n = __atomic_load_n(&ck->tab.n, __ATOMIC_ACQUIRE);
        if (memcmp(ck->magic, DASF_SHM_MAGIC, 8) || n < 1 || n > DASF_CLOCK_SEGS) ck = NULL;
    }
    rctx x = {.dir = dir, .src = src, .rep = rep};
    x.dc.name = names_get;
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
        if (dasf_shm_join(p, sizeof p, dir, e->d_name) || map_ro(p, &m)) continue;
        const dasf_shm_ring_hdr *h = ring_hdr_ok(&m);
        if (!h) { /* not ours to read: leave it (another version's tool may) */
            unmap(&m);
            left++;
            continue;
        }
        const dasf_ring *rr = (const dasf_ring *)((const uint8_t *)m.p + DASF_SHM_RING_OFF);
        if (__atomic_load_n(&rr->head, __ATOMIC_ACQUIRE) ==
            __atomic_load_n(&rr->tail, __ATOMIC_ACQUIRE)) {
            /* Everything it held is in its file (tail moves only after the
             * append): nothing to recover, whichever file it was for — a
             * process that committed and then died of a signal. */
            unmap(&m);
            unlink(p);
            rep->rings_empty++;
            continue;
        }
        if (only_path && strcmp(h->path, only_path)) {
            unmap(&m);
            left++;
            continue;
        }
        if (!have_names || !ck) { /* cannot decode names/ticks: keep it */
            unmap(&m);
            left++;
            rep->unknown_names++;
            continue;
        }
        if (strcmp(scanned, h->path)) { /* what this file already holds of ours */
            free(dr.to);
            dr.n = max_ring_index(dir) + 1;
            dr.to = calloc(dr.n, sizeof *dr.to);
            if (!dr.to) {
                unmap(&m);
                rc = DASF_ENOMEM;
                break;
            }
            scan_file(h->path, src, &dr);
            snprintf(scanned, sizeof scanned, "%s", h->path);
        }
        uint64_t start = h->index < dr.n ? dr.to[h->index] : 0;
        int r = recover_ring(&x, &m, start);
        unmap(&m);
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
    names_free(&nt);
    unmap(&nm);
    unmap(&cm);
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
    }
    return rc;
}
