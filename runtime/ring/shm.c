/*
 * shm.c — this process's directory of shared mappings (see shm.h).
 *
 * Runs on app threads (ring creation, cold), under intern.c's and clock.c's
 * locks (the mirrors), at exit and in a fork child.  Invariants: the
 * directory is created once per process (the fork child makes its own), the
 * `lock` file is held LOCK_SH for the process's life, a ring file is removed
 * only when everything it held has been written (ring freed) or the process
 * exits cleanly (atexit, after the final commit).  Any failure (no /dev/shm,
 * full, path too long) falls back to anonymous memory with one warning.
 */
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

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t g_pid;          /* the process the state below belongs to (0: none) */
static int g_state;          /* 0 not tried, 1 ready, -1 failed (anonymous memory) */
static char g_dir[PATH_MAX]; /* <base>/dasf-<uid>/<pid>-<starttime> */
static char g_src[64];
static int g_lock_fd = -1;
static uint32_t g_next_ring;
static dasf_shm_names *g_names;
static dasf_shm_clock *g_clock;
static uint64_t g_starttime;
static uint64_t g_used;       /* bytes mapped in g_dir (names, clock, rings) */
static uint64_t g_cap;        /* DASF_SHM_MAX, else DASF_SHM_DEFAULT_MAX */
static int g_warned;          /* the one fallback warning of this process */

uint64_t dasf_shm_max_bytes(void) {
    const char *s = getenv("DASF_SHM_MAX");
    if (!s || !*s) return DASF_SHM_DEFAULT_MAX;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    default: break;
    }
    if (errno || *end || s[0] == '-' || v > UINT64_MAX / mul) {
        fprintf(stderr, "dasf-profiler: DASF_SHM_MAX=%s is not a size (bytes, or with K/M/G); "
                        "using the default\n", s);
        return DASF_SHM_DEFAULT_MAX;
    }
    return v * mul;
}

const char *dasf_shm_base(const char *opt) {
    const char *b = opt ? opt : getenv("DASF_SHM_DIR");
    if (!b) b = "/dev/shm";
    return *b ? b : NULL; /* "" turns shared memory off */
}

uint64_t dasf_shm_proc_starttime(int64_t pid) {
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%lld/stat", (long long)pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *s = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!s) return 0;
    s++;
    for (int field = 3; field < 22; field++) { /* skip to field 22 */
        s = strchr(s + 1, ' ');
        if (!s) return 0;
    }
    return strtoull(s + 1, NULL, 10);
}

int dasf_shm_join(char *out, size_t n, const char *a, const char *b) {
    int k = snprintf(out, n, "%s/%s", a, b);
    if (k < 0 || (size_t)k >= n) {
        if (n) out[0] = 0;
        return -1;
    }
    return 0;
}

const char *dasf_shm_src(void) {
    return g_pid == getpid() && g_state == 1 ? g_src : "";
}

/* Once per process: the first ring that could not be in shared memory. */
static void warn_fallback(const char *what, int err) {
    if (__atomic_exchange_n(&g_warned, 1, __ATOMIC_RELAXED)) return;
    fprintf(stderr,
            "dasf-profiler: shared memory for the rings unavailable (%s: %s); using "
            "anonymous memory: events not yet written are lost if the process is killed "
            "(`dasf-trace info` counts them as unrecoverable)\n",
            what, err ? strerror(err) : "limit reached");
}

/* A file of `size` bytes in g_dir, space reserved (a full tmpfs must fail
 * here, not with SIGBUS on the hot path), mapped shared. */
static void *map_new(const char *name, size_t size, int *err) {
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    int e = posix_fallocate(fd, 0, (off_t)size);
    void *m = MAP_FAILED;
    if (e == 0) {
        m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
        if (m == MAP_FAILED) e = errno;
    }
    close(fd);
    if (m == MAP_FAILED) {
        unlink(p);
        *err = e;
        return NULL;
    }
    return m;
}

static void names_add(uint32_t h, const char *s, uint32_t len) {
    dasf_shm_names *n = g_names;
    if (!n) return;
    uint64_t need = (8 + (uint64_t)len + 1 + 7) & ~(uint64_t)7;
    uint64_t used = n->used;
    if (used + need > n->cap) {
        n->lost++;
        return;
    }
    uint8_t *e = (uint8_t *)(n + 1) + used;
    memcpy(e, &h, 4);
    memcpy(e + 4, &len, 4);
    memcpy(e + 8, s, len);
    e[8 + len] = 0;
    __atomic_store_n(&n->used, used + need, __ATOMIC_RELEASE);
}

static int mkdir_p(const char *d) {
    return mkdir(d, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static void remove_dir(void) {
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char p[PATH_MAX + 300];
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(g_dir);
}

/* Called with g_lock held. */
static int dir_init(const char *base) {
    int err = 0, made = 0;
    const char *what = base;
    pid_t me = getpid();
    g_starttime = dasf_shm_proc_starttime(me);
    snprintf(g_src, sizeof g_src, "%d-%llu", (int)me, (unsigned long long)g_starttime);
    char top[PATH_MAX];
    if (snprintf(top, sizeof top, "%s/dasf-%u", base, (unsigned)getuid()) >= (int)sizeof top ||
        snprintf(g_dir, sizeof g_dir, "%s/%s", top, g_src) >= (int)sizeof g_dir) {
        err = ENAMETOOLONG;
        goto fail;
    }
    struct stat st;
    if (mkdir_p(top) || lstat(top, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
        err = errno ? errno : EPERM;
        what = top;
        goto fail;
    }
    if (mkdir(g_dir, 0700) != 0) {
        err = errno;
        what = g_dir;
        goto fail;
    }
    made = 1;
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/lock", g_dir);
    g_lock_fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (g_lock_fd < 0 || flock(g_lock_fd, LOCK_SH) != 0) {
        err = errno;
        what = p;
        goto fail;
    }
    g_cap = dasf_shm_max_bytes();
    g_used = 0;
    if (g_cap < DASF_SHM_FIXED_BYTES) {
        what = "DASF_SHM_MAX";
        goto fail;
    }
    g_names = map_new("names", sizeof(dasf_shm_names) + DASF_SHM_NAMES_BYTES, &err);
    if (!g_names) goto fail;
    memcpy(g_names->magic, DASF_SHM_MAGIC, 8);
    g_names->cap = DASF_SHM_NAMES_BYTES;
    g_clock = map_new("clock", sizeof(dasf_shm_clock), &err);
    if (!g_clock) goto fail;
    memcpy(g_clock->magic, DASF_SHM_MAGIC, 8);
    dasf_clock_set_mirror(g_clock);
    dasf_intern_set_mirror(names_add);
    g_used = DASF_SHM_FIXED_BYTES;
    return 0;
fail:
    warn_fallback(what, err);
    /* Nothing half made stays behind for a recoverer to puzzle over. */
    if (g_names) munmap(g_names, sizeof(dasf_shm_names) + DASF_SHM_NAMES_BYTES);
    if (g_clock) munmap(g_clock, sizeof(dasf_shm_clock));
    g_names = NULL;
    g_clock = NULL;
    if (g_lock_fd >= 0) close(g_lock_fd);
    g_lock_fd = -1;
    if (made) remove_dir();
    return -1;
}

dasf_ring *dasf_shm_ring_create(dasf_filedb *db) {
    if (db->layout != DASF_LAYOUT_ARCHIVE || !db->shm_base) return NULL;
    _Static_assert(sizeof(dasf_shm_ring_hdr) <= DASF_SHM_HDR, "ring header fits its page");
    _Static_assert(sizeof(dasf_ring) <= DASF_SHM_BUF_OFF - DASF_SHM_RING_OFF, "ring fits");
    pthread_mutex_lock(&g_lock);
    if (g_pid != getpid()) {
        g_pid = getpid();
        g_state = 0;
    }
    if (g_state == 0) g_state = dir_init(db->shm_base) == 0 ? 1 : -1;
    if (g_state != 1) {
        pthread_mutex_unlock(&g_lock);
        return NULL;
    }
    size_t len = DASF_SHM_BUF_OFF + db->ring_cap;
    if (g_used + len > g_cap) { /* the process's bound (DASF_SHM_MAX) */
        pthread_mutex_unlock(&g_lock);
        warn_fallback("DASF_SHM_MAX", 0);
        return NULL;
    }
    g_used += len;
    uint32_t idx = ++g_next_ring;
    pthread_mutex_unlock(&g_lock);
    char name[32];
    snprintf(name, sizeof name, "ring-%u", idx);
    int err = 0;
    uint8_t *m = map_new(name, len, &err);
    if (!m) { /* full (posix_fallocate said so, not SIGBUS later) */
        pthread_mutex_lock(&g_lock);
        g_used -= len;
        pthread_mutex_unlock(&g_lock);
        warn_fallback(name, err);
        return NULL;
    }
    dasf_shm_ring_hdr *h = (dasf_shm_ring_hdr *)m;
    memcpy(h->magic, DASF_SHM_MAGIC, 8);
    h->version = DASF_SHM_VERSION;
    h->index = idx;
    h->ring_off = DASF_SHM_RING_OFF;
    h->buf_off = DASF_SHM_BUF_OFF;
    h->head_off = (uint32_t)offsetof(dasf_ring, head);
    h->tail_off = (uint32_t)offsetof(dasf_ring, tail);
    h->rec_size = DASF_REC_SIZE;
    h->layout = (uint32_t)db->layout;
    h->level = db->opts.compression_level;
    h->pid = getpid();
    h->starttime = g_starttime;
    h->cap = db->ring_cap;
    snprintf(h->host, sizeof h->host, "%s", dasf_hostname());
    snprintf(h->path, sizeof h->path, "%s", db->abs_path);
    dasf_ring *r = (dasf_ring *)(m + DASF_SHM_RING_OFF);
    r->buf = m + DASF_SHM_BUF_OFF;
    r->shm_index = idx;
    r->shm_len = len;
    h->tid = 0; /* set by ring.c with the rest of the identity */
    return r;
}

void dasf_shm_ring_free(dasf_ring *r, int unlink_file) {
    uint32_t idx = r->shm_index;
    size_t len = r->shm_len;
    uint8_t *base = (uint8_t *)r - DASF_SHM_RING_OFF;
    if (unlink_file) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/ring-%u", g_dir, idx);
        unlink(p);
    }
    munmap(base, len);
    pthread_mutex_lock(&g_lock);
    if (g_pid == getpid() && g_used >= len) g_used -= len;
    pthread_mutex_unlock(&g_lock);
}

void dasf_shm_at_exit(void) {
    pthread_mutex_lock(&g_lock);
    if (g_pid == getpid() && g_state == 1) {
        /* Everything was committed (or thrown away by commit_on_close
         * false): nothing in here is needed any more.  The mappings stay
         * until exit, so a late record still has memory to write to. */
        remove_dir();
        g_state = -1;
    }
    pthread_mutex_unlock(&g_lock);
}

void dasf_shm_after_fork_child(void) {
    /* Single-threaded here: no lock.  The parent's files are the parent's. */
    dasf_intern_forget_mirror();
    dasf_clock_forget_mirror();
    if (g_lock_fd >= 0) close(g_lock_fd); /* the parent keeps its own lock */
    g_lock_fd = -1;
    if (g_names) munmap(g_names, sizeof(dasf_shm_names) + DASF_SHM_NAMES_BYTES);
    if (g_clock) munmap(g_clock, sizeof(dasf_shm_clock));
    g_names = NULL;
    g_clock = NULL;
    g_pid = 0;
    g_state = 0;
    g_next_ring = 0;
    g_used = 0;
    pthread_mutex_init(&g_lock, NULL);
}
