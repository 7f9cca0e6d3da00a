/*
 * minimal.c — the Python-style API in one page.
 *
 * The same calls a DASF user makes from Python with EventProfiler
 * (record_complete_event, record_instant_event, record_duration_begin_event /
 * record_duration_end_event, commit, get_traces), in C: record a handful of
 * events with args, commit them to a trace file, read them back and print
 * them.  Exits 0 only when every event recorded is read back.
 *
 *   minimal [FILE]     (no FILE: a fresh traces-XXXXXXXX.msgpack.zst)
 */
#include <dasf/profiler.h>

#include <inttypes.h>
#include <stdio.h>

typedef struct readback {
    int n;
} readback;

static void print_value(const dasf_value *v) {
    switch (v->type) {
    case DASF_VAL_INT: printf("%" PRId64, v->v.i); break;
    case DASF_VAL_UINT: printf("%" PRIu64, v->v.u); break;
    case DASF_VAL_FLOAT: printf("%g", v->v.f); break;
    case DASF_VAL_BOOL: printf("%s", v->v.b ? "true" : "false"); break;
    case DASF_VAL_STR: printf("\"%s\"", v->v.str.ptr); break;
    case DASF_VAL_NIL: printf("None"); break;
    default: printf("<%d>", (int)v->type); break;
    }
}

/* get_traces calls this for every committed event, in file order. */
static int show(const dasf_trace_event *ev, void *user) {
    readback *rb = user;
    rb->n++;
    printf("  %c %-12s ts=%.6f", (char)ev->phase, ev->name, ev->timestamp);
    if (ev->has_duration) printf(" dur=%.6f", ev->duration);
    printf(" pid=");
    print_value(&ev->process_id);
    for (uint32_t i = 0; i < ev->args.v.map.n; i++) {
        printf(" %s=", ev->args.v.map.items[i].key.v.str.ptr);
        print_value(&ev->args.v.map.items[i].val);
    }
    printf("\n");
    return 0;
}

static int check(const char *what, int rc, int *failures) {
    if (rc) {
        fprintf(stderr, "minimal: %s: %s\n", what, dasf_strerror(rc));
        ++*failures;
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc > 2) {
        fprintf(stderr, "usage: minimal [FILE]\n");
        return 2;
    }
    /* EventProfiler(database_file=FILE, database_creation_kwargs={...}):
     * the FileDatabase options keep the Python names and defaults. */
    dasf_file_db_options kwargs = dasf_file_db_options_default();
    kwargs.remove_old_output_file = true;
    dasf_profiler *p;
    int rc = dasf_profiler_create(&p, argc > 1 ? argv[1] : NULL, &kwargs, NULL);
    if (rc) {
        fprintf(stderr, "minimal: cannot create the profiler: %s\n", dasf_strerror(rc));
        return 1;
    }

    int failures = 0, recorded = 0;
    double t = dasf_now();

    /* record_complete_event(name, timestamp, duration, args={...}) */
    dasf_arg load_args[] = {DASF_ARG_STR("source", "disk"), DASF_ARG_I64("rows", 100000)};
    dasf_record_opts load = {.args = load_args, .n_args = 2};
    recorded += !check("complete", dasf_profiler_record_complete_event(p, "load", t, 0.25, &load),
                       &failures);
    recorded += !check("complete",
                       dasf_profiler_record_complete_event(p, "fit", t + 0.25, 1.5, NULL),
                       &failures);

    /* record_instant_event(name, timestamp, scope="p") */
    dasf_record_opts proc = {.scope = DASF_SCOPE_PROCESS};
    recorded += !check("instant",
                       dasf_profiler_record_instant_event(p, "checkpoint", t + 1.0, &proc),
                       &failures);

    /* record_duration_begin_event / record_duration_end_event (phase E) */
    recorded += !check("begin", dasf_profiler_record_duration_begin_event(p, "predict", t + 2, NULL),
                       &failures);
    recorded += !check("end", dasf_profiler_record_duration_end_event(p, "predict", t + 2.5, NULL),
                       &failures);

    /* Any other phase, every field: a counter with a Python-style string process id. */
    dasf_arg depth[] = {DASF_ARG_I64("queue_depth", 7)};
    dasf_event ev = {.name = "workers",
                     .timestamp = t + 3,
                     .phase = DASF_PHASE_COUNTER,
                     .process_id = dasf_id_str("node-0"),
                     .args = depth,
                     .n_args = 1};
    recorded += !check("record", dasf_profiler_record(p, &ev), &failures);

    /* commit(), then get_traces(): what is in the file now. */
    check("commit", dasf_profiler_commit(p), &failures);
    const char *file = dasf_profiler_output_file(p);
    printf("minimal: %d events recorded into %s; read back:\n", recorded, file);
    readback rb = {0};
    check("get_traces", dasf_profiler_get_traces(p, show, &rb), &failures);
    if (rb.n != recorded) {
        fprintf(stderr, "minimal: read back %d events, recorded %d\n", rb.n, recorded);
        failures++;
    }
    check("destroy", dasf_profiler_destroy(p), &failures);
    return failures ? 1 : 0;
}
