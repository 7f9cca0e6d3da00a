/*
 * outfile.c — see outfile.h.  gzip goes through zlib's gzdopen/gzwrite: the
 * format is zlib's own, and every gunzip, Python's gzip module and
 * Perfetto's trace processor read it; writing deflate blocks by hand would
 * only repeat zlib.  The file itself is created by output.c (dt_out).
 */
#include "outfile.h"

#include "messages.h"
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

bool dt_outfile_is_gz(const char *path) {
    size_t n = strlen(path);
    return n > 3 && !strcmp(path + n - 3, ".gz");
}

int dt_outfile_open(dt_outfile *o, const char *path, int gz_level) {
    memset(o, 0, sizeof *o);
    o->path = path;
    o->is_stdout = !strcmp(path, "-");
    bool gz = !o->is_stdout && dt_outfile_is_gz(path);
    if (dt_out_open(&o->out, path, gz ? DT_OUT_FD_ONLY : 0) != DT_OK) return DT_FAIL;
    if (gz) {
        /* gzclose closes the descriptor it was given; dt_out closes its own */
        int fd = dup(o->out.fd);
        char mode[8];
        snprintf(mode, sizeof mode, "wb%d", gz_level > 0 && gz_level <= 9 ? gz_level : 6);
        o->gz = fd >= 0 ? gzdopen(fd, mode) : NULL;
        if (!o->gz) {
            if (fd >= 0) close(fd);
            dt_err("%s: cannot start gzip output: %s", path, fd < 0 ? strerror(errno) : "out of memory");
            dt_out_abort(&o->out);
            return DT_FAIL;
        }
        gzbuffer(o->gz, 1 << 17);
        return DT_OK;
    }
    o->f = o->out.f;
    if (!o->is_stdout) setvbuf(o->f, NULL, _IOFBF, 1 << 16);
    return DT_OK;
}

void dt_outfile_write(dt_outfile *o, const void *p, size_t n) {
    if (n == 0 || o->failed) return;
    o->bytes += n;
    if (o->gz) {
        const char *s = p;
        while (n) {
            unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
            if (gzwrite(o->gz, s, chunk) != (int)chunk) {
                int zerr;
                gzerror(o->gz, &zerr);
                o->err = zerr == Z_ERRNO ? errno : EIO;
                o->failed = true;
                return;
            }
            s += chunk;
            n -= chunk;
        }
        return;
    }
    if (fwrite(p, 1, n, o->f) != n) {
        o->err = errno ? errno : EIO;
        o->failed = true;
    }
}

void dt_outfile_abort(dt_outfile *o) {
    if (o->gz) gzclose(o->gz);
    o->gz = NULL;
    o->f = NULL;
    dt_out_abort(&o->out);
}

int dt_outfile_close(dt_outfile *o) {
    if (o->gz) {
        int rc = gzclose(o->gz);
        o->gz = NULL;
        if (rc != Z_OK && !o->failed) {
            o->err = rc == Z_ERRNO ? errno : EIO;
            o->failed = true;
        }
    }
    if (o->failed) {
        dt_err("%s: write failed: %s", o->path, strerror(o->err));
        o->f = NULL;
        dt_out_abort(&o->out);
        return DT_FAIL;
    }
    o->f = NULL;
    return dt_out_commit(&o->out) == DT_OK ? DT_OK : DT_FAIL;
}
