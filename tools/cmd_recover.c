/*
 * cmd_recover.c — `dasf-trace recover [--list] [--shm-dir D] [TRACE|DIR]`:
 * appends the unwritten events a killed or crashed process left in its
 * shared rings to their trace files (dasf_recover_maps; docs/RUNTIME.md,
 * "Surviving the process"), or lists those stale maps.  Live processes'
 * maps are never touched.
 */
#include "args.h"
#include "messages.h"
#include "verbs.h"

#include "dasf/profiler.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char recover_help[] =
    "usage: dasf-trace recover [--list] [--shm-dir DIR] [TRACE|DIR]\n\n"
    "A process recording into an archive trace keeps its rings in shared memory\n"
    "(<shm-dir>/dasf-<uid>/<pid>-<starttime>/).  When it dies without writing\n"
    "them (SIGKILL, a crash, the OOM killer), this appends what they hold to\n"
    "their trace file as chunks marked \"recovered\" (dasf-trace info counts them)\n"
    "and removes the map.  Maps of running processes are left alone; an event\n"
    "is never written twice, also when several recoverers run at once.  The next\n"
    "profiler opening the same trace file does the same for that file.\n\n"
    "  TRACE            only the maps of this trace file\n"
    "  DIR              the shared-memory base directory (as --shm-dir)\n"
    "  --list           print the stale maps (directory, rings, unwritten bytes,\n"
    "                   trace file) and change nothing\n"
    "  --shm-dir DIR    base directory (default $DASF_SHM_DIR, else /dev/shm)\n\n"
    "Exit status 0: done (or nothing to do); 1: an append failed (the map is\n"
    "kept for another try); 2: bad command line.\n";

typedef struct recover_opts {
    bool list;
    const char *shm_dir;
} recover_opts;

static int recover_opt(void *ctx, int opt, const char *arg) {
    recover_opts *o = ctx;
    if (opt == 'l') o->list = true;
    else if (opt == 's') o->shm_dir = arg;
    else return 0;
    return 1;
}

int dt_cmd_recover(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'},
                                         {"list", 0, NULL, 'l'},
                                         {"shm-dir", 1, NULL, 's'},
                                         {0}};
    recover_opts o = {false, NULL};
    int first;
    int rc = dt_parse_args(argc, argv, "l", opts, recover_help, NULL, recover_opt, &o, 0, &first);
    if (rc >= 0) return rc;
    if (argc - first > 1) return dt_usage("at most one TRACE or DIR");
    const char *trace = NULL;
    if (first < argc) {
        struct stat st;
        if (stat(argv[first], &st) == 0 && S_ISDIR(st.st_mode))
            o.shm_dir = argv[first];
        else
            trace = argv[first];
    }
    dasf_recover_stats s;
    int r = dasf_recover_maps(o.shm_dir, trace, o.list, &s);
    if (!o.list)
        printf("recover: %" PRIu64 " stale maps recovered (%" PRIu64 " rings, %" PRIu64
               " events in %" PRIu64 " chunks, %" PRIu64 " torn records dropped, %" PRIu64
               " bytes of torn last chunks cut); %" PRIu64 " live and %" PRIu64
               " busy maps left alone\n",
               s.maps_recovered, s.rings, s.events, s.chunks, s.torn, s.tail_bytes_cut,
               s.maps_live, s.maps_busy);
    if (r) {
        fprintf(stderr, "dasf-trace recover: %s\n", dasf_strerror(r));
        return DT_FAIL;
    }
    return dt_finish_stdout(DT_OK);
}
