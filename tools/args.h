/*
 * args.h — the command line of a verb: getopt_long with --help, the
 * shared options (filters, --follow-symlinks) and the verb's own, and the
 * option codes' ranges.  Depends on messages, filter and output (the
 * shared options it hands to them).
 */
#ifndef DASF_TRACE_ARGS_H
#define DASF_TRACE_ARGS_H

#include "filter.h"

#include <getopt.h>

/* Long-option codes: 0x100 up to DT_OPT_VERB are the shared options
 * (filter.h, output.h); each verb numbers its own from DT_OPT_VERB. */
#define DT_OPT_VERB 0x200

/* Verb-specific option handler: 1 handled, 0 not an option of the verb,
 * DT_USAGE after reporting a bad value. */
typedef int (*dt_opt_fn)(void *ctx, int opt, const char *arg);
/* Parses argv with getopt_long (options may follow the files).  --help
 * (-h) prints help (then dt_filter_help when f is not NULL).  Filter
 * options go to f, others to fn.  @return DT_ARGS_GO_ON to go on
 * (*first_file set, at least min_files files present), else the exit
 * status to return. */
#define DT_ARGS_GO_ON (-1)
int dt_parse_args(int argc, char **argv, const char *shortopts, const struct option *longopts,
                  const char *help, dt_filter *f, dt_opt_fn fn, void *ctx, int min_files,
                  int *first_file);

#endif
