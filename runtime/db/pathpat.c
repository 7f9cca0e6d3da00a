/*
 * pathpat.c — output-path patterns: %p %h %t %n %r %% (dasf_path_expand,
 * dasf_path_claim).
 *
 * Called from any thread, and from fork children before exec (`dasf-trace
 * record` claims the root process's file there; the preload claims a
 * child's own file in its atfork handler), so it allocates nothing and
 * takes no lock: it formats into the caller's buffer and creates the file
 * with open(O_CREAT|O_EXCL).  Invariant: a claimed name was created by this
 * call (or, with DASF_PATH_APPEND, is an existing regular file), so two
 * processes or two runs never write into one file without asking to.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Appends s to out[*len..n); -1 when it does not fit. */
static int put(char *out, size_t n, size_t *len, const char *s, size_t sl) {
    if (*len + sl >= n) return -1;
    memcpy(out + *len, s, sl);
    *len += sl;
    out[*len] = 0;
    return 0;
}

static int put_i64(char *out, size_t n, size_t *len, int64_t v) {
    char b[24];
    int k = snprintf(b, sizeof b, "%lld", (long long)v);
    return put(out, n, len, b, (size_t)k);
}

static size_t short_host(const char *h, char *b, size_t n) {
    size_t k = 0;
    /* Only characters that are safe in a file name. */
    for (; h && h[k] && h[k] != '.' && k + 1 < n; k++)
        b[k] = (h[k] == '/' || h[k] == ' ') ? '_' : h[k];
    b[k] = 0;
    return k;
}

int dasf_path_has_counter(const char *pattern) {
    for (const char *s = pattern; s && *s; s++) {
        if (*s != '%') continue;
        if (s[1] == 'n') return 1;
        if (s[1]) s++;
    }
    return 0;
}

int dasf_path_expand(char *out, size_t n, const char *pattern, const dasf_path_vars *v,
                     int64_t counter) {
    if (!out || n == 0 || !pattern || !*pattern || !v) return DASF_EINVAL;
    size_t len = 0;
    out[0] = 0;
    for (const char *s = pattern; *s; s++) {
        int r = 0;
        if (*s != '%') {
            r = put(out, n, &len, s, 1);
        } else {
            char b[64];
            switch (*++s) {
            case 'p': r = put_i64(out, n, &len, v->pid); break;
            case 'n': r = put_i64(out, n, &len, counter); break;
            case 'r':
                if (v->rank < 0) return DASF_EINVAL; /* no rank known here */
                r = put_i64(out, n, &len, v->rank);
                break;
            case 'h': {
                size_t k = short_host(v->host ? v->host : dasf_hostname(), b, sizeof b);
                r = put(out, n, &len, b, k);
                break;
            }
            case 't': {
                time_t t = (time_t)v->start_time;
                struct tm tm;
                if (!localtime_r(&t, &tm)) return DASF_EINVAL;
                size_t k = strftime(b, sizeof b, "%Y%m%d-%H%M%S", &tm);
                r = put(out, n, &len, b, k);
                break;
            }
            case '%': r = put(out, n, &len, "%", 1); break;
            default: return DASF_EINVAL; /* unknown escape, or a lone % at the end */
            }
        }
        if (r) return DASF_EINVAL; /* too long for out */
    }
    return (int)len;
}

int dasf_path_claim(char *out, size_t n, const char *pattern, const dasf_path_vars *v,
                    int flags) {
    int counted = dasf_path_has_counter(pattern);
    for (int64_t c = 1; c <= 1000000; c++) {
        int rc = dasf_path_expand(out, n, pattern, v, c);
        if (rc < 0) return rc;
        int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0) {
            close(fd);
            return DASF_OK;
        }
        if (errno == EEXIST && counted) continue;
        if (errno == EEXIST && (flags & DASF_PATH_APPEND)) {
            struct stat st;
            if (lstat(out, &st) != 0) return DASF_EIO;
            if (!S_ISREG(st.st_mode)) {
                errno = EEXIST; /* a directory, FIFO or link is never appended to */
                return DASF_EIO;
            }
            return access(out, W_OK) == 0 ? DASF_OK : DASF_EIO;
        }
        return errno == ENOSPC ? DASF_ENOSPC : DASF_EIO; /* errno says why */
    }
    errno = EEXIST;
    return DASF_EIO;
}
