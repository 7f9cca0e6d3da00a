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

/* Counts what was recorded and what failed, saying why on stderr. */
typedef struct tally {
    int recorded, failures;
} tally;

static void count(tally *t, const char *call, int rc, int is_record) {
    if (rc) {
        fprintf(stderr, "minimal: %s: %s\n", call, dasf_strerror(rc));
        t->failures++;
    } else if (is_record) {
        t->recorded++;
    }
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

    tally st = {0, 0};
    double t = dasf_now();

    /* record_complete_event(name, timestamp, duration, args={...}) */
    dasf_arg load_args[] = {DASF_ARG_STR("source", "disk"), DASF_ARG_I64("rows", 100000)};
    dasf_record_opts load = {.args = load_args, .n_args = 2};
    rc = dasf_profiler_record_complete_event(p, "load", t, 0.25, &load);
    count(&st, "record_complete_event", rc, 1);
    rc = dasf_profiler_record_complete_event(p, "fit", t + 0.25, 1.5, NULL);
    count(&st, "record_complete_event", rc, 1);

    /* record_instant_event(name, timestamp, scope="p") */
    dasf_record_opts proc = {.scope = DASF_SCOPE_PROCESS};
    rc = dasf_profiler_record_instant_event(p, "checkpoint", t + 1.0, &proc);
    count(&st, "record_instant_event", rc, 1);

    /* record_duration_begin_event / record_duration_end_event (phase E) */
    rc = dasf_profiler_record_duration_begin_event(p, "predict", t + 2.0, NULL);
    count(&st, "record_duration_begin_event", rc, 1);
    rc = dasf_profiler_record_duration_end_event(p, "predict", t + 2.5, NULL);
    count(&st, "record_duration_end_event", rc, 1);

    /* Any other phase, every field: a counter with a Python-style string process id. */
    dasf_arg depth[] = {DASF_ARG_I64("queue_depth", 7)};
    dasf_event ev = {.name = "workers",
                     .timestamp = t + 3.0,
                     .phase = DASF_PHASE_COUNTER,
                     .process_id = dasf_id_str("node-0"),
                     .args = depth,
                     .n_args = 1};
    count(&st, "record", dasf_profiler_record(p, &ev), 1);

    /* commit(), then get_traces(): what is in the file now. */
    count(&st, "commit", dasf_profiler_commit(p), 0);
    printf("minimal: %d events recorded into %s; read back:\n", st.recorded,
           dasf_profiler_output_file(p));
    readback rb = {0};
    count(&st, "get_traces", dasf_profiler_get_traces(p, show, &rb), 0);
    if (rb.n != st.recorded) {
        fprintf(stderr, "minimal: read back %d events, recorded %d\n", rb.n, st.recorded);
        st.failures++;
    }
    count(&st, "destroy", dasf_profiler_destroy(p), 0);
    return st.failures ? 1 : 0;
}
