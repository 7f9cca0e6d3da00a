/*
 * copy.h — the copy engine of `merge` and `convert`: every event of some
 * files, through the public writer, into one new output file (archive or
 * legacy), each source archive chunk keeping its writer metadata.
 * Its options (--to --level --byte-size --force) are parsed here too, so
 * both verbs spell them the same way.
 */
#ifndef DASF_TRACE_COPY_H
#define DASF_TRACE_COPY_H

#include "args.h"
#include "filter.h"
#include "output.h"

#include <stdbool.h>

typedef struct dt_copy_opts {
    dasf_layout layout; /* DASF_LAYOUT_ARCHIVE or _LEGACY (EMPTY: not chosen yet) */
    int level;          /* archive zstd level 1..19; 0 = the default */
    int byte_size;      /* legacy length prefix 1..8; 0 = 8 */
    bool force;         /* replace an existing output file */
} dt_copy_opts;
/* Parses --to/--level/--byte-size/--force into o (a dt_opt_fn). */
int dt_copy_option(void *o, int opt, const char *arg);
#define DT_OPT_TO_LAYOUT (DT_OPT_VERB + 50)
#define DT_OPT_LEVEL (DT_OPT_VERB + 51)
#define DT_OPT_BYTE_SIZE (DT_OPT_VERB + 52)
#define DT_OPT_FORCE (DT_OPT_VERB + 53)
#define DT_COPY_LONGOPTS                                                                           \
    {"to", 1, NULL, DT_OPT_TO_LAYOUT}, {"level", 1, NULL, DT_OPT_LEVEL},                           \
        {"byte-size", 1, NULL, DT_OPT_BYTE_SIZE}, {"force", 0, NULL, DT_OPT_FORCE},                \
        DT_OUTPUT_LONGOPT
extern const char dt_copy_help[];
/* Writes every event of files passing f to out, keeping each archive
 * chunk's writer metadata.  Refuses an existing out (unless force) and an
 * out that is one of the inputs.  @return DT_OK, DT_FAIL, DT_USAGE. */
int dt_copy(const char *out, char *const *files, int n, const dt_filter *f, const dt_copy_opts *o);

/* The output side alone, for a verb that feeds the writer itself (merge):
 * begin checks OUT against the inputs, opens the temporary and a writer on
 * it (o's layout and level); end closes the writer and renames the
 * temporary into place, or removes it when anything failed. */
typedef struct dt_copy_sink {
    const char *out;
    dt_out dst;
    dasf_writer *w;
    bool archive;
    dasf_chunk_info self; /* this process as the writer, for legacy inputs */
} dt_copy_sink;
/* @return DT_OK, DT_FAIL or DT_USAGE (said on stderr). */
int dt_copy_begin(dt_copy_sink *s, const char *out, char *const *files, int n,
                  const dt_copy_opts *o);
/* status: the verb's so far; write_failed: a writer call failed.  @return
 * the final status (DT_FAIL when nothing was committed). */
int dt_copy_end(dt_copy_sink *s, int status, bool write_failed);

#endif
