/*
 * output.c — creating the files the verbs write (export, timeline, merge,
 * convert) without being redirected.
 *
 * Single-threaded, like the tool.  An output is never written in place: the
 * verb writes a new temporary file in the destination's directory, created
 * with O_CREAT|O_EXCL|O_NOFOLLOW (so nothing planted at that name is
 * followed or reused), and dt_out_commit renames it over the destination
 * only when everything was written.  Invariants:
 *   - a symbolic link at the output path (dangling or not) is refused unless
 *     --follow-symlinks; with it, the link's existing target is replaced
 *     (resolved with realpath; a dangling link is still refused);
 *   - a FIFO, device, socket or directory at the output path is refused
 *     (use "-" for standard output): rename would replace it;
 *   - an existing regular file keeps its permission bits; a new one gets
 *     0666 minus the umask, as fopen(path, "w") did;
 *   - a failed write leaves the destination as it was and removes the
 *     temporary.
 */
#include "output.h"

#include "messages.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool dt_follow_symlinks = false;

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Where the output really goes, after the checks above.  NULL on refusal
 * (message printed). */
static char *destination(const char *path, struct stat *st, bool *exists) {
    *exists = false;
    if (lstat(path, st) != 0) {
        if (errno == ENOENT) return strdup(path);
        dt_err("%s: %s", path, strerror(errno));
        return NULL;
    }
    char *dest = NULL;
    if (S_ISLNK(st->st_mode)) {
        if (!dt_follow_symlinks) {
            dt_err("%s: is a symbolic link; refusing to write through it "
                   "(--follow-symlinks writes to its target)",
                   path);
            return NULL;
        }
        dest = realpath(path, NULL);
        if (!dest) {
            dt_err("%s: symbolic link whose target cannot be resolved: %s", path,
                   strerror(errno));
            return NULL;
        }
        if (stat(dest, st) != 0) {
            dt_err("%s: %s", dest, strerror(errno));
            free(dest);
            return NULL;
        }
    }
    if (!S_ISREG(st->st_mode)) {
        dt_err("%s: not a regular file (a FIFO, device, socket or directory); refusing to "
               "replace it (use '-' for standard output)",
               dest ? dest : path);
        free(dest);
        return NULL;
    }
    *exists = true;
    return dest ? dest : strdup(path);
}

int dt_out_open(dt_out *o, const char *path, unsigned flags) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->path = path;
    o->flags = flags;
    if (!(flags & DT_OUT_NO_STDOUT) && !strcmp(path, "-")) {
        o->f = stdout;
        o->fd = STDOUT_FILENO;
        return DT_OK;
    }
    struct stat st;
    bool exists;
    o->dest = destination(path, &st, &exists);
    if (!o->dest) return DT_FAIL;
    if (exists && (flags & DT_OUT_NOREPLACE)) {
        dt_err("%s exists; use --force to replace it", path);
        goto fail;
    }
    char *dir = dir_of(o->dest);
    const char *base = strrchr(o->dest, '/');
    base = base ? base + 1 : o->dest;
    if (!dir) goto oom;
    static unsigned counter;
    for (int tries = 0; tries < 100; tries++) {
        free(o->tmp);
        o->tmp = NULL;
        if (asprintf(&o->tmp, "%s/.%s.tmp-%ld-%u", dir, base, (long)getpid(), counter++) < 0) {
            o->tmp = NULL;
            free(dir);
            goto oom;
        }
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (o->fd >= 0 || errno != EEXIST) break;
    }
    free(dir);
    if (o->fd < 0) {
        dt_err("%s: cannot create a file in its directory: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        goto fail;
    }
    if (exists && fchmod(o->fd, st.st_mode & 07777) != 0) {
        dt_err("%s: %s", o->tmp, strerror(errno));
        dt_out_abort(o);
        return DT_FAIL;
    }
    if (!(flags & DT_OUT_FD_ONLY)) {
        o->f = fdopen(o->fd, "w");
        if (!o->f) {
            dt_err("%s: %s", path, strerror(errno));
            dt_out_abort(o);
            return DT_FAIL;
        }
    }
    return DT_OK;
oom:
    dt_err("out of memory");
fail:
    free(o->dest);
    o->dest = NULL;
    return DT_FAIL;
}

int dt_out_commit(dt_out *o) {
    if (o->f == stdout) {
        o->f = NULL;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            dt_err("%s: write failed: %s", o->path, strerror(errno));
            return DT_FAIL;
        }
        return DT_OK;
    }
    int rc = DT_OK;
    if (o->f) {
        if (fflush(o->f) != 0 || ferror(o->f)) rc = DT_FAIL;
    }
    if (rc == DT_OK && o->fd >= 0 && (o->flags & DT_OUT_FSYNC) && fsync(o->fd) != 0)
        rc = DT_FAIL;
    if (rc != DT_OK) {
        dt_err("%s: write failed: %s", o->path, strerror(errno));
        dt_out_abort(o);
        return DT_FAIL;
    }
    int e = 0;
    if (o->f) {
        if (fclose(o->f) != 0) e = errno;
        o->f = NULL;
        o->fd = -1;
    } else if (o->fd >= 0) {
        if (close(o->fd) != 0) e = errno;
        o->fd = -1;
    }
    if (e) {
        dt_err("%s: write failed: %s", o->path, strerror(e));
        dt_out_abort(o);
        return DT_FAIL;
    }
    if (o->flags & DT_OUT_NOREPLACE) {
        /* Never replace a file that appeared meanwhile. */
        if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->dest, RENAME_NOREPLACE) != 0) {
            if (errno == EEXIST) {
                dt_err("%s exists; use --force to replace it", o->path);
                dt_out_abort(o);
                return DT_FAIL;
            }
            /* A file system without RENAME_NOREPLACE: link() is exclusive too. */
            if (errno != EINVAL && errno != ENOSYS) goto fail;
            if (link(o->tmp, o->dest) != 0) goto fail;
            unlink(o->tmp);
        }
    } else if (rename(o->tmp, o->dest) != 0) {
        goto fail;
    }
    free(o->tmp);
    o->tmp = NULL;
    free(o->dest);
    o->dest = NULL;
    return DT_OK;
fail:
    dt_err("%s: %s", o->path, strerror(errno));
    dt_out_abort(o);
    return DT_FAIL;
}

void dt_out_abort(dt_out *o) {
    if (o->f && o->f != stdout) fclose(o->f);
    else if (!o->f && o->fd >= 0 && o->fd != STDOUT_FILENO) close(o->fd);
    o->f = NULL;
    o->fd = -1;
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    free(o->dest);
    o->dest = NULL;
}
