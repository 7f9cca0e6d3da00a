/*
 * copy.c — the copy engine `merge` and `convert` share (copy.h).  Events
 * are copied through the public writer; each source archive chunk becomes
 * its own output chunk carrying the source's writer metadata (pid, host,
 * clock, drop count), so `info` on the result still shows who wrote what.
 * Events of a legacy input are attributed to this process.  Memory is one
 * chunk at a time.  The output is a temporary renamed into place once
 * whole (output.c), so a failed copy leaves OUT as it was.
 */
#include "copy.h"

#include "filter.h"
#include "infile.h"
#include "input.h"
#include "messages.h"
#include "numbers.h"
#include "output.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char dt_copy_help[] =
    "  --level N         zstd level of the archive, 1..19 (default 1)\n"
    "  --force           replace OUT when it exists\n"
    "  --follow-symlinks write through a symbolic link at OUT to its target\n";

int dt_copy_option(void *vo, int opt, const char *arg) {
    dt_copy_opts *o = vo;
    long long v;
    switch (opt) {
    case DT_OPT_TO_LAYOUT:
        if (!strcmp(arg, "legacy")) {
            o->layout = DASF_LAYOUT_LEGACY;
        } else if (!strcmp(arg, "archive")) {
            o->layout = DASF_LAYOUT_ARCHIVE;
        } else {
            return dt_usage("--to wants 'legacy' or 'archive', got '%s'", arg);
        }
        return 1;
    case DT_OPT_LEVEL:
        if (!dt_parse_long(arg, 1, 19, &v))
            return dt_usage("--level wants a zstd level 1..19, got '%s'", arg);
        o->level = (int)v;
        return 1;
    case DT_OPT_BYTE_SIZE:
        if (!dt_parse_long(arg, 1, 8, &v)) return dt_usage("--byte-size wants 1..8, got '%s'", arg);
        o->byte_size = (int)v;
        return 1;
    case DT_OPT_FORCE: o->force = true; return 1;
    default: return 0;
    }
}

typedef struct copy_ctx {
    dasf_writer *w;
    const char *out;
    size_t file;    /* input index of the last event */
    uint64_t chunk; /* its chunk index */
    bool started;
    bool keep_origin;
    bool write_failed;
    dasf_chunk_info self; /* this process as the writer, for legacy inputs */
} copy_ctx;

static int writer_failed(copy_ctx *c, int rc) {
    dt_err("%s: %s", c->out, dasf_strerror(rc));
    c->write_failed = true;
    return DT_FAIL;
}

static int copy_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    copy_ctx *c = vctx;
    /* Legacy files number each record as a chunk but carry no writer
     * metadata: keep their events together, one origin per file. */
    bool new_chunk = !c->started || in->index != c->file ||
                     (in->layout == DASF_LAYOUT_ARCHIVE && ev->chunk_index != c->chunk);
    if (new_chunk && c->keep_origin) {
        dasf_chunk_info ci;
        const dasf_chunk_info *origin = &c->self;
        if (in->layout == DASF_LAYOUT_ARCHIVE && dasf_trace_chunk(in->trace, &ci) == 0)
            origin = &ci;
        int rc = c->started ? dasf_writer_flush(c->w) : 0;
        if (rc == 0) rc = dasf_writer_set_origin(c->w, origin);
        if (rc < 0) return writer_failed(c, rc);
    }
    c->started = true;
    c->file = in->index;
    c->chunk = ev->chunk_index;
    int rc = dasf_writer_add(c->w, ev);
    return rc < 0 ? writer_failed(c, rc) : 0;
}

static bool same_file(const struct stat *a, const char *path) {
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

int dt_copy_begin(dt_copy_sink *s, const char *out, char *const *files, int n,
                  const dt_copy_opts *o) {
    memset(s, 0, sizeof *s);
    s->out = out;
    struct stat st;
    if (stat(out, &st) == 0) {
        for (int i = 0; i < n; i++)
            if (same_file(&st, files[i])) return dt_usage("the output %s is also an input", out);
    }
    /* The copy is written to a new temporary beside OUT and renamed over it
     * once whole (output.c): a failure leaves OUT as it was, and a link or
     * FIFO at OUT is refused, never followed. */
    unsigned oflags = DT_OUT_NO_STDOUT | DT_OUT_FD_ONLY | DT_OUT_FSYNC;
    if (!o->force) oflags |= DT_OUT_NOREPLACE;
    if (dt_out_open(&s->dst, out, oflags) != DT_OK) return DT_FAIL;
    dasf_file_db_options fo = dasf_file_db_options_default();
    s->archive = o->layout != DASF_LAYOUT_LEGACY;
    fo.compression_level = !s->archive ? 0 : o->level ? o->level : DASF_DEFAULT_COMPRESSION_LEVEL;
    fo.default_byte_size = o->byte_size ? o->byte_size : 8;
    fo.flush = false;            /* no fsync per chunk: one at the end (dt_out_commit) */
    fo.commit_threshold = 65536; /* big chunks compress better; still decodable alone */
    s->self.writer_pid = (int64_t)getpid();
    gethostname(s->self.host, sizeof s->self.host - 1);
    snprintf(s->self.clock, sizeof s->self.clock, "monotonic");
    int rc = dasf_writer_open(&s->w, s->dst.tmp, &fo);
    if (rc < 0) {
        dt_err("%s: %s", out, dasf_strerror(rc));
        dt_out_abort(&s->dst);
        return DT_FAIL;
    }
    return DT_OK;
}

int dt_copy_end(dt_copy_sink *s, int status, bool write_failed) {
    int rc = dasf_writer_close(s->w);
    if (rc < 0) {
        dt_err("%s: %s", s->out, dasf_strerror(rc));
        status = DT_FAIL;
    }
    if (rc < 0 || write_failed) {
        dt_out_abort(&s->dst); /* never leave a half-written copy */
        return DT_FAIL;
    }
    /* No events to copy: the temporary stays empty, the empty trace. */
    if (dt_out_commit(&s->dst) != DT_OK) status = DT_FAIL;
    return status;
}

int dt_copy(const char *out, char *const *files, int n, const dt_filter *f, const dt_copy_opts *o) {
    dt_copy_sink s;
    int rc = dt_copy_begin(&s, out, files, n, o);
    if (rc != DT_OK) return rc;
    copy_ctx c = {.w = s.w, .out = out, .keep_origin = s.archive, .self = s.self};
    /* A copy keeps the recorded function addresses (and their module
     * events): symbolization is for reading, not for rewriting a trace. */
    dt_filter raw;
    if (f)
        raw = *f;
    else
        memset(&raw, 0, sizeof raw);
    raw.no_symbols = true;
    raw.no_align = true; /* the samples travel with the events: readers align */
    int status = dt_each_event(files, n, &raw, copy_event, NULL, &c);
    return dt_copy_end(&s, status, c.write_failed);
}
