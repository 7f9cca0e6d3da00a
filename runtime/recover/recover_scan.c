/*
 * recover_scan.c — what a dead writer left, read for its recoverer
 * (recover.c): its map's files mapped read-only, its interned names, and
 * how far its trace file already holds each of its rings.
 *
 * Runs on the recoverer's thread, with the dead writer's map locked
 * (LOCK_EX on its `lock`).  Invariants: nothing here writes; a ring range
 * counts as in the file only when its chunk's data is whole (its CRC-32C
 * matches): a torn append is not in the file.
 */
#include "recover_scan.h"
#include "archive.h"
#include "byteorder.h"
#include "mp_cursor.h"
#include "shm.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int dasf_rcv_map_ro(const char *path, mapped *m) {
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

void dasf_rcv_unmap(mapped *m) {
    if (m->p) munmap(m->p, m->n);
    m->p = NULL;
}

/* ---- names ---------------------------------------------------------------- */

const char *dasf_rcv_names_get(void *user, uint32_t h, uint32_t *len) {
    names *t = user;
    if (h == 0 || h >= t->n || !t->s[h]) return NULL;
    *len = t->len[h];
    return t->s[h];
}

int dasf_rcv_names_load(const mapped *m, names *t) {
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

void dasf_rcv_names_free(names *t) {
    free(t->s);
    free(t->len);
}

/* ---- what the trace file already holds of a writer's rings ----------------- */

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

void dasf_rcv_scan_file(const char *path, const char *src, done_ranges *d) {
    mapped m;
    if (dasf_rcv_map_ro(path, &m)) return; /* no file yet: nothing written */
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
    dasf_rcv_unmap(&m);
}
