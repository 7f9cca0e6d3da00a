/*
 * cmd_info.c — `dasf-trace info FILE...`: what is in a trace file.  Reads
 * every event once (through the public reader) and prints, per file: the
 * layout, chunks whole and damaged, runs (writer processes, runs.h),
 * processes and threads seen in the events, events by
 * phase, the time span, raw vs on-disk size, and dropped events (from the
 * chunk metadata and from "dasf.dropped" events).  Memory grows only with
 * the number of distinct runs, processes and threads.
 */
#include "align.h"
#include "args.h"
#include "array.h"
#include "filter.h"
#include "ids.h"
#include "infile.h"
#include "input.h"
#include "messages.h"
#include "numbers.h"
#include "proctree.h"
#include "runs.h"
#include "strmap.h"
#include "verbs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char info_help[] =
    "usage: dasf-trace info [FILTERS] FILE...\n\n"
    "Prints, for each file: layout, chunks (whole / damaged), the runs (writer\n"
    "processes: pid and host from the archive's chunk metadata, or the process\n"
    "id in the legacy layout; numbered as --run takes them), processes and\n"
    "threads seen, events by phase, time span, raw and on-disk size and their\n"
    "ratio, and dropped-event counts (chunk metadata and \"dasf.dropped\"\n"
    "events).  With filters, the event counts, span, processes and threads are\n"
    "of the selected events.  Exit status 1 when a file is damaged or cannot\n"
    "be read.\n\n";

#define LIST_MAX 16 /* writers / processes listed before "... and N more" */

typedef struct count_st {
    uint64_t events;
} count_st;

typedef struct info_ctx {
    uint64_t phases[DASF_PHASE_COUNT];
    uint64_t events, all_events;
    int64_t t_min, t_max;
    bool timed; /* t_min/t_max set */
    bool have_chunk;
    uint64_t chunk; /* index of the current chunk */
    uint64_t chunks_seen, raw, stored, dropped_meta, dropped_events;
    uint64_t recovered_chunks, recovered_events, torn; /* written by `recover` */
    uint64_t fallback_chunks, fallback_events;         /* rings not in shared memory */
    /* Flight-recorder snapshot chunks: how many, their events, what their
     * threads overwrote before a snapshot could write it; snapshots taken
     * ("pid\tn" keys: one per writer process and snapshot number). */
    uint64_t snap_chunks, snap_events, overwritten, overwritten_bytes;
    dt_strmap snaps_map;
    int level_min, level_max;
    int64_t realtime_offset;
    bool have_offset;
    dt_strmap procs_map, threads_map;
    uint64_t *procs; /* events per process, by procs_map index */
    size_t n_procs, cap_procs;
    size_t cur_writer;
    dt_proctree tree; /* "dasf.process" events (dasf-trace record) */
} info_ctx;

static int note_chunk(info_ctx *c, dasf_trace *t) {
    dasf_chunk_info ci;
    if (dasf_trace_chunk(t, &ci) != 0) return 0;
    c->chunks_seen++;
    c->raw += ci.raw_size;
    c->stored += ci.stored_size;
    c->dropped_meta += ci.dropped;
    if (ci.recovered) {
        c->recovered_chunks++;
        c->recovered_events += ci.n_events;
        c->torn += ci.torn;
    }
    if (ci.shm_fallback) {
        c->fallback_chunks++;
        c->fallback_events += ci.n_events;
    }
    if (ci.snapshot) {
        char key[48];
        bool created;
        int n = snprintf(key, sizeof key, "%" PRId64 "\t%" PRIu64, ci.writer_pid, ci.snapshot);
        if (!dt_strmap_get(&c->snaps_map, key, (size_t)n, &created)) return dt_oom();
        c->snap_chunks++;
        c->snap_events += ci.n_events;
        c->overwritten += ci.overwritten;
        c->overwritten_bytes += ci.overwritten_bytes;
    }
    if (c->chunks_seen == 1 || ci.compression_level < c->level_min)
        c->level_min = ci.compression_level;
    if (c->chunks_seen == 1 || ci.compression_level > c->level_max)
        c->level_max = ci.compression_level;
    if (!c->have_offset && ci.realtime_offset_ns) {
        c->realtime_offset = ci.realtime_offset_ns;
        c->have_offset = true;
    }
    return 0;
}

static uint64_t dropped_count(const dasf_trace_event *ev) {
    const dasf_value *v = dasf_value_map_get(&ev->args, "count");
    if (!v) return 0;
    if (v->type == DASF_VAL_UINT) return v->v.u;
    if (v->type == DASF_VAL_INT && v->v.i > 0) return (uint64_t)v->v.i;
    return 0;
}

/* Chunk-level figures: every chunk, whatever the filters select. */
static int info_chunk(info_ctx *c, const dt_input *in, const dasf_trace_event *ev) {
    if (in->layout == DASF_LAYOUT_ARCHIVE && (!c->have_chunk || ev->chunk_index != c->chunk)) {
        c->have_chunk = true;
        c->chunk = ev->chunk_index;
        if (note_chunk(c, in->trace)) return DT_FAIL;
    }
    c->all_events++;
    return 0;
}

static int info_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    info_ctx *c = vctx;
    (void)in;
    int idx = dasf_phase_index(ev->phase);
    if (idx >= 0) c->phases[idx]++;
    /* Metadata (M) events carry no time (Python writes 0): not in the span. */
    if (ev->phase != DASF_PHASE_METADATA) {
        int64_t end = dt_add_ns(ev->timestamp_ns, ev->has_duration ? ev->duration_ns : 0);
        if (!c->timed || ev->timestamp_ns < c->t_min) c->t_min = ev->timestamp_ns;
        if (!c->timed || end > c->t_max) c->t_max = end;
        c->timed = true;
    }
    c->events++;
    if (ev->name && !strcmp(ev->name, "dasf.dropped")) c->dropped_events += dropped_count(ev);
    if (dt_proctree_add(&c->tree, ev)) return dt_oom();

    char key[2 * DT_ID_TEXT_MAX + 2];
    dt_id_text(&ev->process_id, key, DT_ID_TEXT_MAX);
    size_t plen = strlen(key);
    bool created;
    dt_strent *e = dt_strmap_get(&c->procs_map, key, plen, &created);
    if (!e) return dt_oom();
    if (created) {
        if (dt_grow((void **)&c->procs, &c->cap_procs, c->n_procs, sizeof *c->procs))
            return dt_oom();
        c->procs[c->n_procs] = 0;
        e->val = c->n_procs++;
    }
    c->procs[e->val]++;
    key[plen] = '\t';
    dt_id_text(&ev->thread_id, key + plen + 1, DT_ID_TEXT_MAX);
    if (!dt_strmap_get(&c->threads_map, key, strlen(key), NULL)) return dt_oom();
    return 0;
}

static void print_seconds(int64_t ns) {
    uint64_t a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
    printf("%s%" PRIu64 ".%09" PRIu64 " s", ns < 0 ? "-" : "", a / 1000000000u, a % 1000000000u);
}

static const char *layout_name(dasf_layout l) {
    return l == DASF_LAYOUT_ARCHIVE ? "archive" : l == DASF_LAYOUT_LEGACY ? "legacy" : "empty";
}

static int cmp_entries(const void *a, const void *b) {
    const dt_strent *x = *(dt_strent *const *)a, *y = *(dt_strent *const *)b;
    return strcmp(x->key, y->key);
}

static void print_processes(info_ctx *c) {
    printf("  processes   %zu, threads %zu\n", c->procs_map.len, c->threads_map.len);
    dt_strent **list = malloc((c->procs_map.len + 1) * sizeof *list);
    if (!list) return;
    size_t n = 0;
    for (size_t i = 0; i < c->procs_map.cap; i++)
        if (c->procs_map.slots[i].key) list[n++] = &c->procs_map.slots[i];
    qsort(list, n, sizeof *list, cmp_entries);
    for (size_t i = 0; i < n && i < LIST_MAX; i++)
        printf("    process %s: %" PRIu64 " events\n", list[i]->key, c->procs[list[i]->val]);
    if (n > LIST_MAX) printf("    ... and %zu more\n", n - LIST_MAX);
    free(list);
    dt_proctree_print(&c->tree);
}

/* The runs of file (global numbers, as --run takes them). */
static void print_runs(const dt_runs *runs, size_t file) {
    size_t n = 0, shown = 0;
    bool legacy = false;
    for (size_t i = 0; i < runs->n; i++)
        if (runs->v[i].file == file) n++, legacy = runs->v[i].legacy;
    printf("  runs        %zu%s\n", n,
           !n       ? ""
           : legacy ? " (legacy layout: no writer metadata; a run is one process id)"
                    : " (writer processes, from the chunk metadata)");
    for (size_t i = 0; i < runs->n; i++) {
        const dt_run *r = &runs->v[i];
        if (r->file != file) continue;
        if (shown++ == LIST_MAX) {
            printf("    ... and %zu more\n", n - LIST_MAX);
            break;
        }
        char label[DT_ID_TEXT_MAX + 96], b[32];
        printf("    run %zu: %s", i + 1, dt_run_label(r, label, sizeof label));
        if (r->timed) {
            printf(", from ");
            print_seconds(r->first_ns);
            if (r->rt_offset) {
                time_t wall = (time_t)((r->first_ns + r->rt_offset) / 1000000000);
                struct tm tm;
                char when[64];
                gmtime_r(&wall, &tm);
                strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
                printf(" (%s)", when);
            }
            printf(", %s", dt_format_duration(b, sizeof b, dt_span_ns(r->first_ns, r->last_ns)));
        }
        printf(", %" PRIu64 " events", r->events);
        if (!r->legacy) printf(" in %" PRIu64 " chunk%s", r->chunks, r->chunks == 1 ? "" : "s");
        printf("\n");
    }
}

static void print_info(const char *path, info_ctx *c, const dasf_trace_stats *st,
                       const dt_runs *runs, size_t file, bool filtered) {
    printf("%s\n", path);
    printf("  layout      %s", layout_name(st->layout));
    if (st->layout == DASF_LAYOUT_ARCHIVE && c->chunks_seen) {
        if (c->level_min == c->level_max)
            printf(" (zstd level %d)", c->level_min);
        else
            printf(" (zstd levels %d..%d)", c->level_min, c->level_max);
    }
    printf("\n");
    const char *unit = st->layout == DASF_LAYOUT_LEGACY ? "records" : "chunks";
    printf("  %-11s %" PRIu64 " whole, %" PRIu64 " damaged", unit, st->chunks_read,
           st->chunks_damaged);
    if (st->chunks_damaged || st->bytes_damaged)
        printf(" (%" PRIu64 " bytes skipped, first at byte %" PRIu64 ": %s)", st->bytes_damaged,
               st->first_damage_offset, st->first_damage);
    printf("\n");
    if (filtered)
        printf("  selected    %" PRIu64 " of %" PRIu64 " events\n", c->events, c->all_events);
    printf("  events      %" PRIu64, c->events);
    const char *sep = ": ";
    for (int i = 0; i < DASF_PHASE_COUNT; i++)
        if (c->phases[i]) {
            printf("%s%c %" PRIu64, sep, dasf_phase_from_index(i), c->phases[i]);
            sep = ", ";
        }
    printf("\n");
    if (c->timed) {
        char b[32];
        printf("  time span   ");
        print_seconds(c->t_min);
        printf(" .. ");
        print_seconds(c->t_max);
        printf(" (%s)\n", dt_format_duration(b, sizeof b, dt_span_ns(c->t_min, c->t_max)));
        if (c->have_offset) {
            time_t wall = (time_t)(dt_add_ns(c->t_min, c->realtime_offset) / 1000000000);
            struct tm tm;
            char when[64];
            gmtime_r(&wall, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
            printf("  started     %s (wall clock)\n", when);
        }
    }
    if (st->layout == DASF_LAYOUT_ARCHIVE) {
        printf("  size        %" PRIu64 " bytes on disk, %" PRIu64 " bytes raw", st->file_size,
               c->raw);
        if (c->stored) printf(" (ratio %.2f)", (double)c->raw / (double)c->stored);
    } else {
        printf("  size        %" PRIu64 " bytes on disk (not compressed)", st->file_size);
    }
    if (c->events) printf(", %.2f bytes/event", (double)st->file_size / (double)c->events);
    printf("\n");
    print_runs(runs, file);
    print_processes(c);
    printf("  dropped     %" PRIu64 " (chunk metadata), %" PRIu64 " (\"dasf.dropped\" events)\n",
           c->dropped_meta, c->dropped_events);
    if (c->recovered_chunks)
        printf("  recovered   %" PRIu64 " chunks, %" PRIu64 " events (from the shared memory of "
               "killed writers), %" PRIu64 " torn records dropped\n",
               c->recovered_chunks, c->recovered_events, c->torn);
    if (c->fallback_chunks)
        printf("  unrecoverable %" PRIu64 " chunks, %" PRIu64 " events: written from rings in "
               "anonymous memory (the writer's shared memory was full or absent), which a kill "
               "would have lost\n",
               c->fallback_chunks, c->fallback_events);
    if (c->snap_chunks)
        printf("  snapshots   %zu (flight recorder): %" PRIu64 " chunks, %" PRIu64
               " events; overwritten before a snapshot: %" PRIu64 " events (%" PRIu64
               " bytes)\n",
               c->snaps_map.len, c->snap_chunks, c->snap_events, c->overwritten,
               c->overwritten_bytes);
}

/* The MPI ranks of the file, from its clock samples (align.h): each rank's
 * offset to rank 0 and its uncertainty (half the kept round trip). */
static int print_ranks(char *path) {
    dt_align *a;
    if (dt_align_create(&a, &path, 1)) return DT_FAIL;
    size_t n;
    const dt_sync_proc *p = dt_align_procs(a, &n);
    if (!n) return DT_OK;
    printf("  ranks       %zu of %lld (MPI; clock offsets to rank 0, +- rtt/2)\n", n,
           (long long)p[n - 1].size);
    for (size_t i = 0; i < n; i++) {
        printf("    rank %lld: pid %lld on %s, offset", (long long)p[i].rank, (long long)p[i].pid,
               p[i].host[0] ? p[i].host : "?");
        for (size_t k = 0; k < p[i].n; k++) {
            char u[32];
            printf("%s %+.9f s +- %s", k ? "," : "", (double)p[i].pts[k].offset_ns / 1e9,
                   dt_format_duration(u, sizeof u, (double)p[i].pts[k].rtt_ns / 2));
        }
        printf("\n");
    }
    dt_align_free(a);
    return DT_OK;
}

static void free_ctx(info_ctx *c) {
    dt_strmap_free(&c->procs_map);
    dt_strmap_free(&c->snaps_map);
    dt_strmap_free(&c->threads_map);
    free(c->procs);
    dt_proctree_free(&c->tree);
}

int dt_cmd_info(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'}, DT_FILTER_LONGOPTS, {0}};
    int first;
    dt_filter f = {0};
    int rc = dt_parse_args(argc, argv, "", opts, info_help, &f, NULL, NULL, 1, &first);
    if (rc >= 0) return rc;
    if ((rc = dt_filter_resolve(&f, argv + first, argc - first)) != DT_OK) return rc;
    int status = DT_OK;
    bool filtering = dt_filter_active(&f);
    dt_runs runs;
    memset(&runs, 0, sizeof runs);
    for (int i = first; i < argc; i++) {
        info_ctx c;
        memset(&c, 0, sizeof c);
        dasf_trace *t;
        if (dt_open(argv[i], &t) != DT_OK) {
            status = DT_FAIL;
            continue;
        }
        dt_input in = {argv[i], (size_t)(i - first), t, DASF_LAYOUT_EMPTY, SIZE_MAX};
        const dasf_trace_event *ev;
        int got;
        dasf_trace_stats st;
        while ((got = dasf_trace_next(t, &ev)) > 0) {
            if (in.layout == DASF_LAYOUT_EMPTY) {
                dasf_trace_get_stats(t, &st);
                in.layout = st.layout;
            }
            in.run = dt_runs_event(&runs, &in, ev);
            if (in.run == SIZE_MAX || info_chunk(&c, &in, ev)) {
                status = DT_FAIL;
                break;
            }
            if (f.win && ev->phase != DASF_PHASE_METADATA) dt_window_seen(&f, ev);
            bool keep = !filtering || (dt_filter_run_wanted(&f, in.run) && dt_filter_match(&f, ev));
            if (keep && (f.has_from || f.has_to)) dt_window_hit(&f);
            if (keep && info_event(&c, &in, ev)) {
                status = DT_FAIL;
                break;
            }
        }
        if (got < 0) {
            dt_err("%s: %s", argv[i], dasf_strerror(got));
            status = DT_FAIL;
        }
        dasf_trace_get_stats(t, &st);
        if (i > first) printf("\n");
        print_info(argv[i], &c, &st, &runs, (size_t)(i - first), filtering);
        if (print_ranks(argv[i]) != DT_OK) status = DT_FAIL;
        if (st.chunks_damaged || st.bytes_damaged) status = DT_FAIL;
        dasf_trace_close(t);
        free_ctx(&c);
    }
    for (size_t k = 0; k < f.n_runs; k++)
        if (f.runs[k] >= runs.n) {
            dt_err("no run %zu: the input has %zu run(s)", f.runs[k] + 1, runs.n);
            status = DT_FAIL;
        }
    dt_runs_free(&runs);
    fflush(stdout);
    if (dt_window_report(&f) != DT_OK) status = DT_FAIL;
    return dt_finish_stdout(status);
}
