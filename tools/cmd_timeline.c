/*
 * cmd_timeline.c — `dasf-trace timeline -o OUT.svg FILE...`: a picture of
 * a trace that opens in any browser.  One lane per (process, thread) with
 * its label; complete (X) and B/E spans as boxes nested by depth, coloured
 * by name (legend below); instants as ticks; counters as lines in their own
 * tracks; a time axis with units picked by the span.
 *
 * It must stay readable, and small, at 10 M events: memory and output do
 * not grow with the event count (timeline_model.h says how).  This file is
 * the verb: options, the two reading passes, the output file; the model is
 * timeline_model.c, the picture timeline_svg.c.
 */
#include "args.h"
#include "filter.h"
#include "input.h"
#include "messages.h"
#include "numbers.h"
#include "output.h"
#include "spans.h"
#include "timeline_model.h"
#include "timeline_svg.h"
#include "verbs.h"

#include <stdio.h>
#include <string.h>

static const char timeline_help[] =
    "usage: dasf-trace timeline -o OUT.svg [--width PX] [FILTERS] FILE...\n\n"
    "Draws the trace as an SVG: one lane per (process, thread), complete and\n"
    "B/E spans as boxes nested by depth and coloured by name (the colour\n"
    "depends on the name only; legend at the bottom), instants as ticks,\n"
    "counters as lines, a time axis counted from the trace start (also when\n"
    "zoomed, so its times can be typed as --from/--to).  Spans narrower than\n"
    "a pixel are merged into shaded boxes (hover for counts), so huge traces\n"
    "stay readable.  Use --from and --to to zoom: spans crossing the window\n"
    "are clipped to it and keep their nesting.\n\n"
    "  -o, --output F  the SVG file to write ('-' for stdout)\n"
    "  --width PX      picture width in pixels (default 1600, 600..20000)\n"
    "  --follow-symlinks  write through a symbolic link at F to its target\n\n";

enum { OPT_WIDTH = DT_OPT_VERB };

static int timeline_option(void *vctx, int opt, const char *arg) {
    tl_ctx *c = vctx;
    if (opt == 'o') {
        c->out_path = arg;
        return 1;
    }
    if (opt == OPT_WIDTH) {
        if (!dt_parse_long(arg, 600, 20000, &c->width))
            return dt_usage("--width wants 600..20000 pixels, got '%s'", arg);
        return 1;
    }
    return 0;
}

int dt_cmd_timeline(int argc, char **argv) {
    static const struct option opts[] = {{"help", 0, NULL, 'h'}, {"output", 1, NULL, 'o'},
                                         DT_OUTPUT_LONGOPT,      {"width", 1, NULL, OPT_WIDTH},
                                         DT_FILTER_LONGOPTS,     {0}};
    tl_ctx c;
    memset(&c, 0, sizeof c);
    c.width = 1600;
    int first;
    int rc =
        dt_parse_args(argc, argv, "o:", opts, timeline_help, &c.f, timeline_option, &c, 1, &first);
    if (rc >= 0) return rc;
    if (!c.out_path) return dt_usage("no output file: give -o OUT.svg");
    c.plot_w = (int)c.width - LABEL_W - RIGHT_PAD;
    /* The window and --name apply to whole spans, not to B and E separately. */
    c.given = c.f;
    dt_filter_split(&c.given, &c.f, &c.after);
    c.spans = dt_spans_new();
    if (!c.spans) return dt_oom();
    int files = argc - first;
    /* Pass 1, over every event: the trace start (t0, which the axis and
     * --from/--to count from) and the extent of what the filters keep. */
    int st = dt_each_event_runs(argv + first, files, NULL, dt_tl_span_event, NULL, &c, &c.runs);
    if ((rc = dt_filter_set_start(&c.given, c.have_t0 ? c.t0 : 0)) != DT_OK) {
        dt_tl_free(&c);
        return rc;
    }
    dt_tl_set_view(&c);
    int st2 = dt_each_event(argv + first, files, &c.f, dt_tl_collect_event, NULL, &c);
    if (st2 != DT_OK) st = st2;
    if (dt_spans_finish(c.spans, dt_tl_add_paired, &c)) st = dt_oom(); /* never closed: to the end */
    if (st == DT_FAIL && c.events == 0 && !c.pass1_any) {
        dt_tl_free(&c);
        return DT_FAIL; /* nothing readable: no picture */
    }
    dt_out out;
    if (dt_out_open(&out, c.out_path, 0) != DT_OK) {
        dt_tl_free(&c);
        return DT_FAIL;
    }
    if (dt_tl_write_svg(&c, out.f, argv + first, files)) {
        dt_out_abort(&out); /* never a half-written picture in place of the old one */
        st = DT_FAIL;
    } else if (dt_out_commit(&out) != DT_OK) {
        st = DT_FAIL;
    }
    fflush(stdout);
    dt_spans_report(c.spans, stderr, "dasf-trace timeline: ");
    if (dt_window_report(&c.given) != DT_OK) st = DT_FAIL;
    dt_tl_free(&c);
    return st;
}
