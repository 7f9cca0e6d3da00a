/*
 * cmd_export.c — `dasf-trace export`: the events for trace viewers.
 *
 * --chrome (the default): the Trace Event Format JSON that Perfetto UI,
 * chrome://tracing, Chrome DevTools and speedscope open.  Object form
 * {"traceEvents":[...],"displayTimeUnit":"ns",...} by default (every parser
 * reads it), the bare array with --array (it loads even when truncated).
 * One event per line either way.  ts and dur are microseconds with
 * nanosecond decimals.  Viewers need integer pids and tids: ints that look
 * like Linux ids (0..4194304) are kept; strings, nil and other ints get
 * numbers above that range, plus process_name / thread_name metadata events
 * so the original names show.  No "args" key on events without args; X
 * events carry a "cat" (theirs, else "dasf", the flows' default) so
 * viewers bind flows to them.  "*.gz" output is gzip (outfile.c); past
 * 256 MB of JSON a warning points at --perfetto.
 *
 * --perfetto: Perfetto's native protobuf trace (perfetto.c).
 *
 * Both stream: memory holds the id mappings and caches, never the events.
 */
#include "args.h"
#include "filter.h"
#include "ids.h"
#include "infile.h"
#include "input.h"
#include "json.h"
#include "messages.h"
#include "outfile.h"
#include "output.h"
#include "perfetto.h"
#include "spans.h"
#include "strmap.h"
#include "verbs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char export_help[] =
    "usage: dasf-trace export [--chrome [--array] | --perfetto [--no-compress]]\n"
    "                         -o OUT [FILTERS] FILE...\n\n"
    "Writes the events for trace viewers.\n\n"
    "  --chrome        Trace Event Format JSON (the default) for ui.perfetto.dev,\n"
    "                  chrome://tracing, Chrome DevTools, speedscope: object form\n"
    "                  {\"traceEvents\":[...],\"displayTimeUnit\":\"ns\"}, one event per\n"
    "                  line; ts/dur in microseconds with nanosecond decimals.  String\n"
    "                  or nil process/thread ids become integers, named by\n"
    "                  process_name/thread_name metadata.  OUT ending in .gz: gzip.\n"
    "  --array         the bare JSON array instead (loads even when truncated)\n"
    "  --perfetto      Perfetto's native protobuf trace (OUT.pftrace) for\n"
    "                  ui.perfetto.dev and trace_processor: about 10x smaller than\n"
    "                  the JSON; packets deflate-compressed unless --no-compress\n"
    "  --no-compress   --perfetto: plain TracePackets (any protobuf decoder reads)\n"
    "  -o, --output F  the file to write ('-' for stdout)\n"
    "  --follow-symlinks  write through a symbolic link at F to its target\n\n";

enum { OPT_CHROME = DT_OPT_VERB, OPT_PERFETTO, OPT_ARRAY, OPT_NO_COMPRESS };

/* chrome://tracing fails past about 256 MB of JSON (V8 string limit). */
#define JSON_WARN_BYTES (256ull << 20)

typedef struct export_ctx {
    const char *out_path;
    dt_outfile out;
    dt_json j;
    bool chrome, perfetto, array, no_compress, warned;
    dt_strmap pids;    /* pid text -> output pid */
    dt_strmap threads; /* "pid\ttid" text -> output tid */
    int64_t next_synth;
    uint64_t events;
    bool first;
    dt_spans *spans;
    dt_filter after;  /* --name/--phase (B/E: the span's), after pairing */
    dt_filter window; /* only the time window */
} export_ctx;

static int export_option(void *vctx, int opt, const char *arg) {
    export_ctx *c = vctx;
    switch (opt) {
    case OPT_CHROME: c->chrome = true; return 1;
    case OPT_PERFETTO: c->perfetto = true; return 1;
    case OPT_ARRAY: c->array = true; return 1;
    case OPT_NO_COMPRESS: c->no_compress = true; return 1;
    }
    if (opt == 'o') {
        c->out_path = arg;
        return 1;
    }
    return 0;
}

static void begin_event(export_ctx *c) {
    if (c->first)
        c->first = false;
    else
        DT_JSON_LIT(&c->j, ",\n");
}

/* {"name":"process_name","ph":"M","pid":P,"tid":T,"args":{"name":NAME}} */
static void name_event(export_ctx *c, const char *what, int64_t pid, int64_t tid,
                       const char *name) {
    begin_event(c);
    DT_JSON_LIT(&c->j, "{\"name\":");
    dt_json_str(&c->j, what, strlen(what));
    DT_JSON_LIT(&c->j, ",\"ph\":\"M\",\"ts\":0.000,\"pid\":");
    dt_json_i64(&c->j, pid);
    DT_JSON_LIT(&c->j, ",\"tid\":");
    dt_json_i64(&c->j, tid);
    DT_JSON_LIT(&c->j, ",\"args\":{\"name\":");
    dt_json_str(&c->j, name, strlen(name));
    DT_JSON_LIT(&c->j, "}}");
}

/* Maps the event's ids to integers, announcing invented ones by name. */
static int map_ids(export_ctx *c, const dasf_trace_event *ev, int64_t *pid, int64_t *tid) {
    char key[2 * DT_ID_TEXT_MAX + 2];
    dt_id_text(&ev->process_id, key, DT_ID_TEXT_MAX);
    size_t plen = strlen(key);
    bool created;
    if (!dt_id_real(&ev->process_id, pid)) {
        dt_strent *e = dt_strmap_get(&c->pids, key, plen, &created);
        if (!e) return -1;
        if (created) {
            e->val = (size_t)c->next_synth++;
            name_event(c, "process_name", (int64_t)e->val, 0, key);
        }
        *pid = (int64_t)e->val;
    }
    if (dt_id_real(&ev->thread_id, tid)) return 0;
    key[plen] = '\t';
    char *tname = key + plen + 1;
    dt_id_text(&ev->thread_id, tname, DT_ID_TEXT_MAX);
    dt_strent *e = dt_strmap_get(&c->threads, key, strlen(key), &created);
    if (!e) return -1;
    if (created) {
        e->val = (size_t)c->next_synth++;
        name_event(c, "thread_name", *pid, (int64_t)e->val, tname);
    }
    *tid = (int64_t)e->val;
    return 0;
}

static void put_cat(export_ctx *c, const dasf_trace_event *ev) {
    DT_JSON_LIT(&c->j, ",\"cat\":");
    if (ev->cat)
        dt_json_str(&c->j, ev->cat, strlen(ev->cat));
    else
        DT_JSON_LIT(&c->j, "\"dasf\"");
}

static void put_id(export_ctx *c, const dasf_trace_event *ev) {
    DT_JSON_LIT(&c->j, ",\"id\":");
    if (!ev->has_id || ev->id.type == DASF_VAL_NIL) {
        DT_JSON_LIT(&c->j, "0");
    } else if (ev->id.type == DASF_VAL_INT || ev->id.type == DASF_VAL_UINT ||
               ev->id.type == DASF_VAL_STR) {
        dt_json_value(&c->j, &ev->id);
    } else {
        char b[DT_ID_TEXT_MAX];
        dt_id_text(&ev->id, b, sizeof b);
        dt_json_str(&c->j, b, strlen(b));
    }
}

/* Which events to write.  B/E go through the pairing (spans.h): a B is
 * written when its name passes and it starts in the window, its end (an E,
 * or a Python B read as the end, written as "E") exactly when its B was;
 * an E with no B is written when it passes the filters itself. */
static int export_keep(export_ctx *c, const dt_input *in, const dasf_trace_event *ev, char *ph) {
    dt_span sp;
    int role = dt_filter_wants_pairs(&c->after) ? dt_spans_event(c->spans, in, ev, &sp) : 0;
    if (role < 0) return -1;
    switch (role) {
    case DT_SPAN_OPEN: {
        bool keep = dt_filter_match_span(&c->after, ev->name) && dt_filter_match(&c->window, ev);
        dt_spans_set_user(c->spans, keep);
        return keep;
    }
    case DT_SPAN_CLOSE:
        if (sp.bb) *ph = 'E';
        return sp.user != 0;
    case DT_SPAN_STRAY_E:
        return dt_filter_match_span(&c->after, ev->name) && dt_filter_match(&c->window, ev);
    default: return dt_filter_match(&c->after, ev) && dt_filter_match(&c->window, ev);
    }
}

static int export_event(void *vctx, const dt_input *in, const dasf_trace_event *ev) {
    export_ctx *c = vctx;
    char ph = (char)ev->phase;
    int keep = export_keep(c, in, ev, &ph);
    if (keep < 0) return DT_FAIL;
    if (!keep) return 0;
    dt_window_hit(&c->window);
    int64_t pid, tid;
    if (map_ids(c, ev, &pid, &tid)) goto oom;
    if (ph == 'I') ph = 'i'; /* 'I' is the format's deprecated spelling */
    begin_event(c);
    DT_JSON_LIT(&c->j, "{\"name\":");
    if (dt_json_str(&c->j, ev->name, ev->name ? strlen(ev->name) : 0)) goto oom;
    DT_JSON_LIT(&c->j, ",\"ph\":\"");
    dt_json_putc(&c->j, ph);
    DT_JSON_LIT(&c->j, "\",\"ts\":");
    dt_json_micros_ns(&c->j, ev->timestamp_ns);
    DT_JSON_LIT(&c->j, ",\"pid\":");
    dt_json_i64(&c->j, pid);
    DT_JSON_LIT(&c->j, ",\"tid\":");
    dt_json_i64(&c->j, tid);
    switch (ev->phase) {
    case DASF_PHASE_COMPLETE:
        DT_JSON_LIT(&c->j, ",\"dur\":");
        dt_json_micros_ns(&c->j, ev->duration_ns > 0 ? ev->duration_ns : 0);
        put_cat(c, ev); /* flows bind only to slices with a category */
        break;
    case DASF_PHASE_INSTANT:
        DT_JSON_LIT(&c->j, ",\"s\":\"");
        dt_json_putc(&c->j, ev->scope ? (char)ev->scope : 'g');
        dt_json_putc(&c->j, '"');
        break;
    case DASF_PHASE_ASYNC_BEGIN:
    case DASF_PHASE_ASYNC_INSTANT:
    case DASF_PHASE_ASYNC_END:
    case DASF_PHASE_FLOW_BEGIN:
    case DASF_PHASE_FLOW_STEP:
        put_cat(c, ev);
        put_id(c, ev);
        break;
    case DASF_PHASE_FLOW_END:
        put_cat(c, ev);
        put_id(c, ev);
        /* bind to the enclosing slice, where the flow's work happens */
        DT_JSON_LIT(&c->j, ",\"bp\":\"e\"");
        break;
    case DASF_PHASE_OBJECT_CREATED:
    case DASF_PHASE_OBJECT_SNAPSHOT:
    case DASF_PHASE_OBJECT_DESTROYED:
        if (ev->cat) put_cat(c, ev);
        put_id(c, ev);
        break;
    default:
        if (ev->cat) put_cat(c, ev);
        break;
    }
    /* no "args" key without args: speedscope names a frame after its args */
    if (ev->args.type == DASF_VAL_MAP && ev->args.v.map.n > 0) {
        DT_JSON_LIT(&c->j, ",\"args\":");
        if (dt_json_value(&c->j, &ev->args)) goto oom;
    }
    DT_JSON_LIT(&c->j, "}");
    c->events++;
    if (c->j.failed) return DT_FAIL; /* reported at close */
    if (!c->warned && c->out.bytes + c->j.len > JSON_WARN_BYTES) {
        c->warned = true;
        dt_err("%s: warning: the JSON passed 256 MB; chrome://tracing cannot load that much "
               "and ui.perfetto.dev may run out of memory: use 'dasf-trace export --perfetto' "
               "(about 10x smaller)",
               c->out_path);
    }
    return 0;
oom:
    dt_err("out of memory");
    return DT_FAIL;
}

int dt_cmd_export(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'},
                                         {"chrome", 0, NULL, OPT_CHROME},
                                         {"perfetto", 0, NULL, OPT_PERFETTO},
                                         {"array", 0, NULL, OPT_ARRAY},
                                         {"no-compress", 0, NULL, OPT_NO_COMPRESS},
                                         {"output", 1, NULL, 'o'},
                                         DT_OUTPUT_LONGOPT,
                                         DT_FILTER_LONGOPTS,
                                         {0}};
    export_ctx c;
    memset(&c, 0, sizeof c);
    dt_filter f = {0};
    int first;
    int rc = dt_parse_args(argc, argv, "o:", opts, export_help, &f, export_option, &c, 1, &first);
    if (rc >= 0) return rc;
    if (c.chrome && c.perfetto) return dt_usage("--chrome and --perfetto: choose one format");
    if (c.array && c.perfetto) return dt_usage("--array is a --chrome option");
    if (c.no_compress && !c.perfetto) return dt_usage("--no-compress is a --perfetto option");
    if (!c.out_path)
        return dt_usage("no output file: give -o %s", c.perfetto ? "OUT.pftrace" : "OUT.json");
    if ((rc = dt_filter_resolve(&f, argv + first, argc - first)) != DT_OK) return rc;
    if (c.perfetto) {
        dt_perfetto_opts po = {.compress = !c.no_compress};
        int pst = dt_perfetto_export(c.out_path, argv + first, argc - first, &f, &po);
        if (dt_window_report(&f) != DT_OK) pst = DT_FAIL;
        return pst;
    }
    if (dt_outfile_open(&c.out, c.out_path, 6)) return DT_FAIL;
    if (dt_json_init_sink(&c.j, &c.out)) {
        dt_outfile_abort(&c.out);
        dt_err("out of memory");
        return DT_FAIL;
    }
    c.next_synth = DT_SYNTH_ID_BASE;
    c.first = true;
    dt_filter before;
    dt_filter_split(&f, &before, &c.after);
    memset(&c.window, 0, sizeof c.window);
    c.window.has_from = f.has_from, c.window.has_to = f.has_to;
    c.window.from_ns = f.from_ns, c.window.to_ns = f.to_ns;
    c.window.win = f.win;
    c.spans = dt_spans_new();
    if (!c.spans) {
        dt_outfile_abort(&c.out);
        dt_json_free(&c.j);
        dt_err("out of memory");
        return DT_FAIL;
    }
    if (c.array)
        DT_JSON_LIT(&c.j, "[\n");
    else
        DT_JSON_LIT(&c.j, "{\"traceEvents\":[\n");
    int st = dt_each_event(argv + first, argc - first, &before, export_event, NULL, &c);
    if (c.array)
        DT_JSON_LIT(&c.j, "\n]\n");
    else
        DT_JSON_LIT(&c.j, "\n],\n\"displayTimeUnit\":\"ns\",\n"
                          "\"otherData\":{\"generator\":\"dasf-trace export\"}}\n");
    dt_json_flush(&c.j);
    if (dt_outfile_close(&c.out)) st = DT_FAIL;
    dt_spans_finish(c.spans, NULL, NULL);
    dt_spans_report(c.spans, stderr, "dasf-trace export: ");
    if (dt_window_report(&f) != DT_OK) st = DT_FAIL;
    dt_spans_free(c.spans);
    dt_json_free(&c.j);
    dt_strmap_free(&c.pids);
    dt_strmap_free(&c.threads);
    return st;
}
