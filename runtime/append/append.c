/*
 * append.c — appending one chunk to a trace file, safely among many writers.
 *
 * Called by the flusher thread (and dasf_writer).  The protocol is the
 * Python FileDatabase's (portalocker = flock(LOCK_EX) on the data file), so
 * C and Python writers can share a file:
 *   open O_APPEND → flock(LOCK_EX|LOCK_NB) polled with backoff until
 *   lock_timeout → check the file is empty or of our layout → one write of
 *   the whole chunk → fsync if asked → unlock.
 * Invariants: a failed or short write is truncated back to the size the file
 * had under our lock, so readers never see a partial chunk we know about;
 * a partial chunk we could not know about (its writer was killed inside
 * its write) is cut under the lock before our append when it is the
 * file's last chunk: looked for at our first append after opening the
 * file, and at later ones when the file grew since ours (torn.c);
 * on any error the caller still owns its bytes and retries later.
 * Safe paths: we only ever write to a regular file.  A new file is created
 * with O_CREAT|O_EXCL|O_NOFOLLOW, an existing one opened with O_NOFOLLOW
 * and O_NONBLOCK (a FIFO never blocks the flusher) and checked with fstat,
 * so a symbolic link, FIFO or device planted at the trace path is refused
 * (DASF_ESYMLINK / DASF_ENOTREG) instead of redirecting the trace; only
 * follow_symlinks lets open(2) follow a link.
 */
#include "append.h"
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int status_from_errno(int e) {
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return DASF_ENOSPC;
    case ENOENT:
        return DASF_ENOENT;
    default:
        return DASF_EIO;
    }
}

static double mono_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Poll for the lock with exponential backoff (1 ms → 50 ms). */
static int lock_with_timeout(int fd, double timeout) {
    double deadline = mono_seconds() + (timeout > 0 ? timeout : 0);
    long sleep_us = 1000;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) return DASF_OK;
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) return DASF_EIO;
        double left = deadline - mono_seconds();
        if (left <= 0) return DASF_ELOCK_TIMEOUT;
        long us = sleep_us;
        if ((double)us > left * 1e6) us = (long)(left * 1e6) + 1;
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&ts, NULL);
        if (sleep_us < 50000) sleep_us *= 2;
    }
}

int dasf_trace_path_check(const char *path, int follow) {
    struct stat st;
    if (lstat(path, &st) != 0) return DASF_OK; /* nothing there yet (or: the append says) */
    if (S_ISLNK(st.st_mode)) {
        if (!follow) return DASF_ESYMLINK;
        if (stat(path, &st) != 0) return DASF_OK; /* dangling: created through the link */
    }
    return S_ISREG(st.st_mode) ? DASF_OK : DASF_ENOTREG;
}

int dasf_trace_path_remove(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? DASF_OK : status_from_errno(errno);
    /* A link is removed itself (never its target); a FIFO, device or
     * directory is not a trace file and is left alone. */
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return DASF_ENOTREG;
    if (unlink(path) != 0 && errno != ENOENT) return status_from_errno(errno);
    return DASF_OK;
}

/* Opens the trace file for appending: an existing regular file, or a new
 * one created exclusively; never through a symbolic link unless follow. */
static int open_trace_file(const char *path, int follow) {
    int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
    int fd = -1;
    for (int tries = 0; fd < 0; tries++) {
        fd = open(path, flags | (follow ? O_CREAT : 0), 0644);
        if (fd >= 0) break;
        if (errno == ELOOP && !follow) return DASF_ESYMLINK; /* the last component is a link */
        if (errno != ENOENT || follow) return status_from_errno(errno);
        fd = open(path, flags | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) break;
        /* EEXIST: another writer created it first (open it as existing), or
         * a dangling link appeared (the next open says ELOOP). */
        if (errno != EEXIST || tries >= 16) return status_from_errno(errno);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return status_from_errno(e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return DASF_ENOTREG;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        close(fd);
        return DASF_EIO;
    }
    return fd;
}

/* The cached fd may point at a file that was removed or replaced since we
 * opened it (another process' remove_old_output_file, log rotation, a link
 * put in its place): then appending to it would lose the data, so reopen. */
static int ensure_open(int *fdp, const char *path, int follow, int *fresh) {
    *fresh = 0;
    if (*fdp >= 0) {
        struct stat a, b;
        if (fstat(*fdp, &a) == 0 && (follow ? stat(path, &b) : lstat(path, &b)) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            return DASF_OK;
        close(*fdp);
        *fdp = -1;
    }
    int fd = open_trace_file(path, follow);
    if (fd < 0) return fd;
    *fdp = fd;
    *fresh = 1;
    return DASF_OK;
}

/* The first n (< 16) bytes of the file could be the start of a chunk or
 * record of `layout` torn by a writer that died: a prefix of the archive
 * magic, or of an 8-byte legacy length <= 2^28 (the default prefix size)
 * and its map marker. */
static int torn_start(const uint8_t *h, size_t n, int layout) {
    static const uint8_t magic[4] = DASF_CHUNK_MAGIC_LE;
    if (layout == DASF_LAYOUT_ARCHIVE) return n < 4 && memcmp(h, magic, n) == 0;
    if (n > 9) return 0;
    for (size_t i = 0; i < n && i < 4; i++)
        if (h[i]) return 0;
    if (n > 4 && h[4] > 0x10) return 0;
    return n < 9 || (h[8] >= 0x80 && h[8] <= 0x8f) || h[8] == 0xde || h[8] == 0xdf;
}

/* May a chunk of `layout` be appended to this file?  Empty, or of that
 * layout — also when its start is damaged: a torn first chunk or record
 * (a writer killed mid-append) must not block later appends, so a file
 * whose first bytes are not recognised is accepted when it is a torn
 * start, or when the reader finds whole chunks of the layout after the
 * damage.  Anything else (the other layout, not a trace) is refused. */
static int check_layout(int fd, const char *path, off_t size, int layout) {
    if (size == 0) return DASF_OK;
    uint8_t head[16];
    ssize_t n = pread(fd, head, sizeof head, 0);
    if (n <= 0) return DASF_EIO;
    int found = dasf_detect_layout(head, (size_t)n);
    if (found == layout) return DASF_OK;
    if (found != DASF_EFORMAT) return DASF_EFORMAT;
    if (size < (off_t)sizeof head) return torn_start(head, (size_t)n, layout) ? DASF_OK : DASF_EFORMAT;
    dasf_trace *t = NULL;
    if (dasf_trace_open(&t, path) != DASF_OK) return DASF_EFORMAT;
    dasf_trace_stats st;
    dasf_trace_get_stats(t, &st);
    dasf_trace_close(t);
    return (int)st.layout == layout ? DASF_OK : DASF_EFORMAT;
}

static int write_all(int fd, const uint8_t *p, size_t len) {
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return status_from_errno(errno);
        }
        if (w == 0) return DASF_ENOSPC;
        p += w;
        len -= (size_t)w;
    }
    return DASF_OK;
}

/* Where to look for a torn tail before this append (UINT64_MAX: nowhere):
 * from the start at the first append after opening, from our last end when
 * the file grew since (another writer appended, perhaps dying inside its
 * write), from the start again when it shrank below it (cut outside the
 * protocol).  Archive files only. */
static uint64_t walk_from(const dasf_append_fd *af, const struct stat *st, int fresh,
                          int layout) {
    uint64_t size = (uint64_t)st->st_size;
    if (layout != DASF_LAYOUT_ARCHIVE || size == 0) return UINT64_MAX;
    if (fresh) return 0; /* af->end is not set yet */
    return size == af->end ? UINT64_MAX : size > af->end ? af->end : 0;
}

/* Before appending: a torn last chunk (a writer killed inside its write)
 * is cut, so that our chunk does not follow damage.  Said once on stderr
 * per cut; *size is the size after it. */
static int cut_torn(int fd, const char *path, uint64_t from, off_t *size, uint64_t *cut) {
    int64_t c = dasf_cut_torn_tail(fd, from, (uint64_t)*size);
    if (c <= 0) return (int)c;
    *size -= (off_t)c;
    if (cut) *cut += (uint64_t)c;
    fprintf(stderr,
            "dasf-profiler: %s: cut a torn last chunk (%lld bytes at byte %lld) that a "
            "writer killed inside its append left\n",
            path, (long long)c, (long long)*size);
    return DASF_OK;
}

int dasf_file_append_cut(dasf_append_fd *af, const char *path, int layout, const void *buf,
                         size_t len, double lock_timeout, int flush, int follow, uint64_t *cut) {
    if (!path || (!buf && len)) return DASF_EINVAL;
    int fresh;
    int rc = ensure_open(&af->fd, path, follow, &fresh);
    if (rc) return rc;
    int fd = af->fd;
    rc = lock_with_timeout(fd, lock_timeout);
    if (rc) goto unchecked;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = status_from_errno(errno);
        goto out;
    }
    rc = check_layout(fd, path, st.st_size, layout);
    uint64_t from = walk_from(af, &st, fresh, layout);
    if (rc == DASF_OK && from != UINT64_MAX) rc = cut_torn(fd, path, from, &st.st_size, cut);
    if (rc) goto out;
    fresh = 0; /* checked */
    rc = write_all(fd, buf, len);
    if (rc == DASF_OK && flush && fsync(fd) != 0) rc = status_from_errno(errno);
    if (rc != DASF_OK) {
        /* Take back whatever part of the chunk reached the file. */
        if (ftruncate(fd, st.st_size) != 0) rc = DASF_EIO;
    }
    /* Our chunk's end (or the size it was taken back to) is where the
     * next append's look starts. */
    if (rc != DASF_EIO) af->end = (uint64_t)st.st_size + (rc == DASF_OK ? len : 0);
out:
    flock(fd, LOCK_UN);
unchecked:
    if (fresh) { /* the tail was not checked yet: open (and check) again next time */
        close(fd);
        af->fd = -1;
    }
    return rc;
}

int dasf_file_append(dasf_append_fd *af, const char *path, int layout, const void *buf,
                     size_t len, double lock_timeout, int flush, int follow) {
    return dasf_file_append_cut(af, path, layout, buf, len, lock_timeout, flush, follow, NULL);
}
