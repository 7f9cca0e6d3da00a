/*
 * cmd_verify.c — `dasf-trace verify FILE...`: reads every chunk of each
 * file (checksums included) and says whether it is whole.  For each damaged
 * region it prints where it is (chunk index, byte offset, bytes skipped)
 * and why, as far as the reader can tell.  Exit 0 when every file is whole,
 * 1 when one is damaged or unreadable.
 */
#include "args.h"
#include "infile.h"
#include "messages.h"
#include "verbs.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char verify_help[] =
    "usage: dasf-trace verify [-q] FILE...\n\n"
    "Reads every chunk of each file and checks it (zstd and data checksums,\n"
    "lengths, event encoding).  Prints one line per whole file, and one line\n"
    "per damaged region: chunk index, byte offset, bytes skipped and the\n"
    "reason.  Exit status 0: every file is whole; 1: a file is damaged or\n"
    "cannot be read; 2: bad command line.\n\n"
    "  -q, --quiet   print nothing, only set the exit status\n";

static int quiet_opt(void *ctx, int opt, const char *arg) {
    (void)arg;
    if (opt != 'q') return 0;
    *(bool *)ctx = true;
    return 1;
}

static const char *layout_name(dasf_layout l) {
    return l == DASF_LAYOUT_ARCHIVE ? "archive" : l == DASF_LAYOUT_LEGACY ? "legacy" : "empty";
}

/* The damaged regions the reader met since the previous read (one or
 * more, consecutive in the file: nothing whole lies between them). */
static void print_damage(const char *path, const dasf_trace_stats *prev,
                         const dasf_trace_stats *now, bool quiet) {
    uint64_t dc = now->chunks_damaged - prev->chunks_damaged;
    uint64_t db = now->bytes_damaged - prev->bytes_damaged;
    /* The reader numbers chunks and damaged regions in file order, so the
     * first region of the batch is dc - 1 before the last one. */
    uint64_t index = now->last_damage_index - (dc - 1);
    uint64_t off = now->last_damage_offset + now->last_damage_bytes - db;
    const char *why = "torn or corrupt data";
    if (prev->chunks_damaged == 0 && prev->bytes_damaged == 0)
        why = now->first_damage[0] ? now->first_damage : "damaged data";
    if (quiet) return;
    const char *unit = now->layout == DASF_LAYOUT_LEGACY ? "record" : "chunk";
    printf("%s: damaged: %s %" PRIu64, path, unit, index);
    if (dc > 1) printf(" (and %" PRIu64 " more)", dc - 1);
    printf(" at byte %" PRIu64 ", %" PRIu64 " bytes skipped: %s\n", off, db, why);
}

static int verify_file(const char *path, bool quiet) {
    dasf_trace *t;
    if (dt_open(path, &t) != DT_OK) return DT_FAIL;
    dasf_trace_stats prev, now;
    dasf_trace_get_stats(t, &prev);
    int status = DT_OK;
    const dasf_trace_event *ev;
    for (;;) {
        int got = dasf_trace_next(t, &ev);
        dasf_trace_get_stats(t, &now);
        if (now.chunks_damaged != prev.chunks_damaged || now.bytes_damaged != prev.bytes_damaged) {
            print_damage(path, &prev, &now, quiet);
            status = DT_FAIL;
        }
        prev = now;
        if (got < 0) {
            if (!quiet) printf("%s: read error: %s\n", path, dasf_strerror(got));
            status = DT_FAIL;
            break;
        }
        if (got == 0) break;
    }
    if (!quiet) {
        const char *unit = now.layout == DASF_LAYOUT_LEGACY ? "records" : "chunks";
        if (status == DT_OK)
            printf("%s: ok: %s, %" PRIu64 " %s, %" PRIu64 " events, %" PRIu64 " bytes\n", path,
                   layout_name(now.layout), now.chunks_read, unit, now.events, now.file_size);
        else
            printf("%s: DAMAGED: %s, %" PRIu64 " whole %s (%" PRIu64 " events), %" PRIu64
                   " damaged (%" PRIu64 " of %" PRIu64 " bytes skipped)\n",
                   path, layout_name(now.layout), now.chunks_read, unit, now.events,
                   now.chunks_damaged, now.bytes_damaged, now.file_size);
    }
    dasf_trace_close(t);
    return status;
}

int dt_cmd_verify(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'}, {"quiet", 0, NULL, 'q'}, {0}};
    bool quiet = false;
    int first;
    int rc = dt_parse_args(argc, argv, "q", opts, verify_help, NULL, quiet_opt, &quiet, 1, &first);
    if (rc >= 0) return rc;
    int status = DT_OK;
    for (int i = first; i < argc; i++)
        if (verify_file(argv[i], quiet) != DT_OK) status = DT_FAIL;
    return dt_finish_stdout(status);
}
