/*
 * cmd_cat.c — `dasf-trace cat`: every event as one JSON object per line,
 * with the keys and key order of the Python module's event dataclasses
 * (name, timestamp, duration for X, phase, scope for I, process_id,
 * thread_id, args) plus cat and id when the event has them.  Times are
 * seconds at full precision: the writer's double for legacy files (as
 * Python's json would print it), exact nanoseconds for archives.
 */
#include "args.h"
#include "filter.h"
#include "infile.h"
#include "input.h"
#include "json.h"
#include "messages.h"
#include "verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cat_help[] =
    "usage: dasf-trace cat [FILTERS] FILE...\n\n"
    "Prints every event as one JSON object per line, keys as in the Python\n"
    "events: name, timestamp, duration (X only), phase, scope (I only),\n"
    "process_id, thread_id, args, then cat and id when present.  Timestamps\n"
    "and durations are seconds at full precision.  Files are read in order.\n\n";

typedef struct cat_ctx {
    dt_json j;
} cat_ctx;

static void put_time(dt_json *j, const dt_input *in, double s, int64_t ns) {
    if (in->layout == DASF_LAYOUT_LEGACY)
        dt_json_double(j, s);
    else
        dt_json_seconds_ns(j, ns);
}

static int cat_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    cat_ctx *c = vctx;
    dt_json *j = &c->j;
    char ph[2] = {(char)ev->phase, 0};
    DT_JSON_LIT(j, "{\"name\":");
    if (dt_json_str(j, ev->name, ev->name ? strlen(ev->name) : 0)) goto oom;
    DT_JSON_LIT(j, ",\"timestamp\":");
    put_time(j, in, ev->timestamp, ev->timestamp_ns);
    if (ev->phase == DASF_PHASE_COMPLETE) {
        DT_JSON_LIT(j, ",\"duration\":");
        put_time(j, in, ev->duration, ev->duration_ns);
    }
    DT_JSON_LIT(j, ",\"phase\":");
    dt_json_str(j, ph, 1);
    if (ev->phase == DASF_PHASE_INSTANT) {
        char sc[2] = {ev->scope ? (char)ev->scope : 'g', 0};
        DT_JSON_LIT(j, ",\"scope\":");
        dt_json_str(j, sc, 1);
    }
    DT_JSON_LIT(j, ",\"process_id\":");
    if (dt_json_value(j, &ev->process_id)) goto oom;
    DT_JSON_LIT(j, ",\"thread_id\":");
    if (dt_json_value(j, &ev->thread_id)) goto oom;
    DT_JSON_LIT(j, ",\"args\":");
    if (ev->args.type == DASF_VAL_MAP) {
        if (dt_json_value(j, &ev->args)) goto oom;
    } else {
        DT_JSON_LIT(j, "{}");
    }
    if (ev->cat) {
        DT_JSON_LIT(j, ",\"cat\":");
        if (dt_json_str(j, ev->cat, strlen(ev->cat))) goto oom;
    }
    if (ev->has_id) {
        DT_JSON_LIT(j, ",\"id\":");
        if (dt_json_value(j, &ev->id)) goto oom;
    }
    DT_JSON_LIT(j, "}\n");
    if (j->failed) {
        dt_err("writing the output failed");
        return DT_FAIL;
    }
    return 0;
oom:
    dt_err("out of memory");
    return DT_FAIL;
}

int dt_cmd_cat(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'}, DT_FILTER_LONGOPTS, {0}};
    dt_filter f = {0};
    int first;
    int rc = dt_parse_args(argc, argv, "", opts, cat_help, &f, NULL, NULL, 1, &first);
    if (rc >= 0) return rc;
    if ((rc = dt_filter_resolve(&f, argv + first, argc - first)) != DT_OK) return rc;
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    cat_ctx ctx;
    if (dt_json_init(&ctx.j, stdout)) {
        dt_err("out of memory");
        return DT_FAIL;
    }
    int st = dt_each_event(argv + first, argc - first, &f, cat_event, NULL, &ctx);
    dt_json_free(&ctx.j);
    fflush(stdout);
    if (dt_window_report(&f) != DT_OK) st = DT_FAIL;
    return dt_finish_stdout(st);
}
