/*
 * main.c — dasf-trace: the command-line tool for trace files.  Picks the
 * verb (verbs.h) and runs it; nothing else, so no module depends on this
 * one.  Exit statuses are the same for every verb (messages.h): 0 ok, 1 a
 * file was damaged or could not be read/written, 2 bad command line.
 */
#include "messages.h"
#include "verbs.h"

#include "dasf/profiler.h"

#include <stdio.h>
#include <string.h>

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
    {"recover", dt_cmd_recover, "write what killed processes left in shared memory"},
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
