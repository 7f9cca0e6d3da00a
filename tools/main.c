/*
 * main.c — dasf-trace: the command-line tool for trace files.  Picks the
 * verb, and holds the few helpers every verb uses for messages and number
 * parsing.  Exit statuses are the same for every verb: 0 ok, 1 a file was
 * damaged or could not be read/written, 2 bad command line.
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *dt_verb = NULL;

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"info", dt_cmd_info, "layout, chunks, runs (writer processes), events by phase, time span, sizes, drops"},
    {"cat", dt_cmd_cat, "events as JSON lines"},
    {"stats", dt_cmd_stats, "per-name duration table (count, total, self, mean, p50, p95, max, share)"},
    {"export", dt_cmd_export, "Perfetto native trace or Trace Event Format JSON for viewers"},
    {"timeline", dt_cmd_timeline, "an SVG picture: one lane per thread"},
    {"merge", dt_cmd_merge, "one archive from many files"},
    {"convert", dt_cmd_convert, "archive <-> legacy (the Python layout)"},
    {"verify", dt_cmd_verify, "check a file is whole (exit 0) or damaged (exit 1)"},
    {"record", dt_cmd_record, "run a program unchanged and trace it (docs/RECORD.md)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: dasf-trace VERB [OPTIONS] FILE...\n\n"
               "Look at, convert and check dasf-profiler trace files (both layouts).\n\n"
               "verbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n'dasf-trace VERB --help' describes a verb.  Exit status: 0 ok, 1 a file\n"
               "was damaged or could not be read or written, 2 bad command line.\n");
}

void dt_err(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "dasf-trace%s%s: ", dt_verb ? " " : "", dt_verb ? dt_verb : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int dt_usage(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "dasf-trace%s%s: ", dt_verb ? " " : "", dt_verb ? dt_verb : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'dasf-trace%s%s --help'.\n", dt_verb ? " " : "", dt_verb ? dt_verb : "");
    return DT_USAGE;
}

bool dt_parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || d != d) return false;
    *out = d;
    return true;
}

bool dt_parse_long(const char *s, long long min, long long max, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < min || v > max) return false;
    *out = v;
    return true;
}

int dt_parse_args(int argc, char **argv, const char *shortopts, const struct option *longopts,
                  const char *help, dt_filter *f, dt_opt_fn fn, void *ctx, int min_files,
                  int *first_file) {
    char optstring[64];
    snprintf(optstring, sizeof optstring, ":h%s", shortopts ? shortopts : "");
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        const char *opt = argv[optind - 1];
        if (c == 'h') {
            printf("%s%s", help, f ? dt_filter_help : "");
            return dt_finish_stdout(DT_OK);
        }
        if (c == ':') return dt_usage("option '%s' needs a value", opt);
        if (c == '?') {
            if (optopt && optopt < 0x100) return dt_usage("unknown option '-%c'", optopt);
            return dt_usage("unknown option '%s'", opt);
        }
        if (c == DT_OPT_FOLLOW_SYMLINKS) { /* every verb that writes a file takes it */
            dt_follow_symlinks = true;
            continue;
        }
        int rc = f ? dt_filter_option(f, c, optarg) : 0;
        if (rc == 0 && fn) rc = fn(ctx, c, optarg);
        if (rc == DT_USAGE) return rc;
        if (rc == 0) return dt_usage("unknown option '%s'", opt);
    }
    if (argc - optind < min_files)
        return dt_usage(min_files == 1 ? "no trace file given" : "missing file arguments");
    *first_file = optind;
    return -1;
}

int dt_finish_stdout(int status) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        dt_err("writing the output failed: %s", strerror(errno));
        return DT_FAIL;
    }
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return DT_USAGE;
    }
    const char *v = argv[1];
    if (!strcmp(v, "--help") || !strcmp(v, "-h") || !strcmp(v, "help")) {
        usage(stdout);
        return dt_finish_stdout(DT_OK);
    }
    if (!strcmp(v, "--version")) {
        printf("dasf-trace %s\n", DASF_VERSION_STRING);
        return dt_finish_stdout(DT_OK);
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (!strcmp(v, verbs[i].name)) {
            dt_verb = verbs[i].name;
            return verbs[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "dasf-trace: unknown verb '%s'\n\n", v);
    usage(stderr);
    return DT_USAGE;
}
