/*
 * timeline_svg.c — the timeline as SVG (timeline_svg.h).  Every name and
 * id goes through xml_text (escaped, ill-formed UTF-8 replaced, utf8.h),
 * so the picture always parses.  A name's colour depends on the name
 * alone, so zooming in does not repaint.
 */
#include "timeline_svg.h"

#include "messages.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A name's colour depends on the name alone (its hash: hue, and some
 * saturation and lightness so close hues still differ), so a name keeps
 * its colour in every view of every trace: zooming in does not repaint. */
static void color_of(const tl_ctx *c, uint32_t n, char out[24]) {
    uint64_t h = dt_hash(c->names[n].s, strlen(c->names[n].s));
    snprintf(out, 24, "hsl(%u,%u%%,%u%%)", (unsigned)(h % 360), 45 + (unsigned)((h >> 20) % 30),
             52 + (unsigned)((h >> 40) % 16));
}

/* Writes s escaped for XML text and attributes; drops characters XML 1.0
 * forbids and replaces invalid UTF-8 with U+FFFD. */
static void xml_text(FILE *o, const char *s, size_t max_chars) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0, len;
    for (size_t i = 0; i < n; i += len) {
        if (max_chars && chars == max_chars) {
            fputs("\xe2\x80\xa6", o); /* ellipsis */
            return;
        }
        chars++;
        unsigned ch = u[i];
        if (!dt_utf8_next(u + i, n - i, &len) ||
            (len == 3 && ch == 0xef && u[i + 1] == 0xbf && u[i + 2] >= 0xbe)) {
            fputs("\xef\xbf\xbd", o); /* ill-formed (utf8.h), or U+FFFE/U+FFFF: not XML */
        } else if (len > 1) {
            fwrite(u + i, 1, len, o);
        } else {
            switch (ch) {
            case '&': fputs("&amp;", o); break;
            case '<': fputs("&lt;", o); break;
            case '>': fputs("&gt;", o); break;
            case '"': fputs("&quot;", o); break;
            case '\'': fputs("&apos;", o); break;
            default:
                if (ch >= 0x20 || ch == '\t' || ch == '\n')
                    fputc((int)ch, o);
                else
                    fputc('?', o);
            }
        }
    }
}

/* The axis unit for times up to ns (ns, us, ms or s). */
static void axis_unit(double ns, double *unit, const char **uname) {
    if (ns < 2e3)
        *unit = 1, *uname = "ns";
    else if (ns < 2e6)
        *unit = 1e3, *uname = "\xc2\xb5s";
    else if (ns < 2e9)
        *unit = 1e6, *uname = "ms";
    else
        *unit = 1e9, *uname = "s";
}

/* A "nice" tick step (1, 2, 5 x 10^k) for about ten ticks over span_ns. */
static double axis_step(double span_ns) {
    double raw = span_ns / 10;
    double p = pow(10, floor(log10(raw > 0 ? raw : 1)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void fmt_num(char *b, size_t n, double v) {
    snprintf(b, n, "%.6g", v);
}

/* Ticks at round times from the trace start (t0), labelled with them, so
 * a zoomed view shows the times to type for --from/--to.  The label unit
 * follows the largest time shown (800.1 ms, not 800100 us), with the
 * decimals the step needs. */
static void draw_axis(tl_ctx *c, FILE *o, int top, int bottom) {
    double span = dt_span_ns(c->from, c->to), step = axis_step(span), unit;
    const char *uname;
    double lo = dt_span_ns(c->t0, c->from); /* the window, in ns from t0 */
    double far = fabs(lo) > fabs(lo + span) ? fabs(lo) : fabs(lo + span);
    axis_unit(far > span ? far : span, &unit, &uname);
    int decimals = 0;
    while (decimals < 9 && step / unit * pow(10, decimals) < 0.999)
        decimals++;
    double first = ceil(lo / step - 1e-9) * step;
    fprintf(o, "<g class=\"axis\">\n");
    fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", LABEL_W, top,
            LABEL_W + c->plot_w, top);
    for (double t = first; t <= lo + span + step * 1e-9; t += step) {
        double x = LABEL_W + (t - lo) / c->ns_per_px;
        double v = t / unit;
        if (fabs(v) < 0.5 * pow(10, -decimals)) v = 0; /* no "-0.0" */
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>"
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f %s</text>\n",
                x, top, x, bottom, x, top - 4, x, top, x, top - 7, decimals, v, uname);
    }
    fprintf(o, "</g>\n");
}

/* One box per run of columns with the same row and dominant name. */
static void draw_narrow_level(tl_ctx *c, FILE *o, lane *l, const int *base, int r) {
    const column *cols = l->cols + (size_t)r * (size_t)c->plot_w;
    char col[24];
    for (int k = 0; k < c->plot_w;) {
        if (!cols[k].count && cols[k].busy <= 0) {
            k++;
            continue;
        }
        int a = k;
        double busy = 0;
        uint64_t cnt = 0;
        while (k < c->plot_w && (cols[k].count || cols[k].busy > 0) &&
               cols[k].cand == cols[a].cand && base[k] == base[a]) {
            busy += cols[k].busy;
            cnt += cols[k].count;
            k++;
        }
        double frac = busy / (c->ns_per_px * (k - a));
        if (frac > 1) frac = 1;
        color_of(c, cols[a].cand, col);
        fprintf(o,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                "fill-opacity=\"%.2f\"><title>%" PRIu64 " short spans (mostly ",
                LABEL_W + a, l->y + (base[a] + r) * ROW_H + 1, k - a, ROW_H - 2, col,
                0.35 + 0.65 * frac, cnt);
        xml_text(o, c->names[cols[a].cand].s, 0);
        fprintf(o, "), busy %.0f%%</title></rect>\n", frac * 100);
    }
}

static void draw_lane(tl_ctx *c, FILE *o, lane *l, const int *base) {
    int y = l->y, h = l->rows * ROW_H;
    char col[24], b1[32], b2[32];
    fprintf(o, "<g class=\"lane\" data-pid=\"");
    xml_text(o, l->pid, 0);
    fprintf(o, "\" data-tid=\"");
    xml_text(o, l->tid, 0);
    fprintf(o, "\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f7f7f7\"/>\n",
            LABEL_W, y, c->plot_w, h);
    fprintf(o, "<text x=\"%d\" y=\"%d\" class=\"label\">", 14, y + 12);
    const char *tname = dt_meta_thread_name(&c->meta, l->pid, l->tid);
    if (tname) {
        xml_text(o, tname, 18);
        fprintf(o, " (");
        xml_text(o, l->tid, 10);
        fprintf(o, ")");
    } else {
        fprintf(o, "thread ");
        xml_text(o, l->tid, 20);
    }
    fprintf(o, "</text>\n");
    for (size_t i = 0; i < l->n_spans; i++) {
        wide_span *sp = &l->spans[i];
        double x = LABEL_W + px_of(c, sp->s), w = dt_span_ns(sp->s, sp->e) / c->ns_per_px;
        color_of(c, sp->name, col);
        fprintf(o, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"%s><title>",
                x, y + (int)sp->depth * ROW_H + 1, w, ROW_H - 2, col,
                sp->open ? " stroke=\"#c00\" stroke-dasharray=\"3,2\"" : "");
        xml_text(o, c->names[sp->name].s, 0);
        /* its own duration and start (from the trace start), even when cut */
        double at = dt_span_ns(c->t0, sp->os);
        fprintf(o, " \xe2\x80\x94 %s at %s%s%s</title></rect>\n",
                dt_format_duration(b1, sizeof b1, dt_span_ns(sp->os, sp->oe)), at < 0 ? "-" : "+",
                dt_format_duration(b2, sizeof b2, fabs(at)), sp->open ? " (never closed)" : "");
        if (w > 40) { /* the name fits inside: say it */
            fprintf(o, "<text x=\"%.2f\" y=\"%d\" class=\"in\">", x + 3,
                    y + (int)sp->depth * ROW_H + 12);
            xml_text(o, c->names[sp->name].s, (size_t)((w - 6) / 6.5));
            fprintf(o, "</text>\n");
        }
    }
    for (int r = 0; l->cols && r < NARROW_LEVELS; r++) /* aggregated narrow spans */
        draw_narrow_level(c, o, l, base, r);
    if (l->ticks) {
        int marked = 0;
        for (int k = 0; k < c->plot_w; k++)
            marked += l->ticks[k] != 0;
        /* Lines through the lane only while they are sparse enough to read. */
        if (marked * 8 < c->plot_w) {
            fprintf(o, "<path class=\"tick\" d=\"");
            for (int k = 0; k < c->plot_w; k++)
                if (l->ticks[k]) fprintf(o, "M%d.5 %dv%d", LABEL_W + k, y, h);
            fprintf(o, "\"/>\n");
        }
        fprintf(o, "<path class=\"mark\" d=\"");
        for (int k = 0; k < c->plot_w; k++) /* a small triangle above each instant */
            if (l->ticks[k]) fprintf(o, "M%d.5 %dl-3.5 -5h7z", LABEL_W + k, y);
        fprintf(o, "\"/>\n");
    }
    fprintf(o, "</g>\n");
}

static void draw_counter(tl_ctx *c, FILE *o, counter *k) {
    int y = k->y;
    if (k->has_pre) {
        if (!k->has || k->pre < k->min) k->min = k->pre;
        if (!k->has || k->pre > k->max) k->max = k->pre;
    }
    double lo = k->min, hi = k->max;
    if (hi == lo) hi = lo + 1;
    fprintf(o,
            "<g class=\"counter\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "fill=\"#fbfbf5\"/>\n<text x=\"14\" y=\"%d\" class=\"label\">",
            LABEL_W, y, c->plot_w, COUNTER_H, y + 12);
    xml_text(o, k->label, 26);
    char b1[32], b2[32];
    fmt_num(b1, sizeof b1, k->min);
    fmt_num(b2, sizeof b2, k->max);
    fprintf(o, "</text>\n<text x=\"14\" y=\"%d\" class=\"small\">%s .. %s</text>\n", y + 26, b1,
            b2);
    fprintf(o, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.2\" points=\"");
    double span = COUNTER_H - 6;
#define CY(v) (y + 3 + span - ((v)-lo) / (hi - lo) * span)
    /* A counter is a step function: it holds each value until the next. */
    bool have = k->has_pre;
    double prev = k->pre;
    if (have) fprintf(o, "%d,%.1f ", LABEL_W, CY(prev));
    for (int i = 0; i < c->plot_w; i++) {
        cpoint *p = &k->pts[i];
        if (!p->has) continue;
        double x = LABEL_W + i + 0.5;
        if (have) fprintf(o, "%.1f,%.1f ", x, CY(prev));
        fprintf(o, "%.1f,%.1f ", x, CY(p->first));
        if (p->min != p->max) fprintf(o, "%.1f,%.1f %.1f,%.1f ", x, CY(p->min), x, CY(p->max));
        fprintf(o, "%.1f,%.1f ", x, CY(p->last));
        prev = p->last;
        have = true;
    }
    if (have) fprintf(o, "%d,%.1f", LABEL_W + c->plot_w, CY(prev));
#undef CY
    fprintf(o, "\"/>\n</g>\n");
}

static int cmp_name_total(const void *a, const void *b, void *vctx) {
    const tl_ctx *c = vctx;
    double x = c->names[*(const uint32_t *)a].total, y = c->names[*(const uint32_t *)b].total;
    if (x != y) return x > y ? -1 : 1;
    return strcmp(c->names[*(const uint32_t *)a].s, c->names[*(const uint32_t *)b].s);
}

/* Text sort of ids that puts numbers in numeric order. */
static int cmp_idtext(const char *a, const char *b) {
    char *ea, *eb;
    long long x = strtoll(a, &ea, 10), y = strtoll(b, &eb, 10);
    bool na = *a && !*ea, nb = *b && !*eb;
    if (na && nb) return x < y ? -1 : x > y;
    if (na != nb) return na ? -1 : 1;
    return strcmp(a, b);
}

static int cmp_lane(const void *pa, const void *pb) {
    const lane *a = pa, *b = pb;
    int r = cmp_idtext(a->pid, b->pid);
    return r ? r : cmp_idtext(a->tid, b->tid);
}

/* The page's vertical layout: header, axis, then per process its label
 * (pid_y[i] set at its first lane i), its counters and its lanes; the
 * counters of processes without lanes; the legend below.  @return the
 * bottom of the lanes (where the legend starts). */
static int layout_page(tl_ctx *c, int *pid_y) {
    int y = 62;
    const char *cur_pid = NULL;
    for (size_t i = 0; i < c->n_lanes; i++) {
        lane *l = &c->lanes[i];
        if (!cur_pid || strcmp(cur_pid, l->pid)) {
            cur_pid = l->pid;
            pid_y[i] = y + 12;
            y += 18;
            for (size_t k = 0; k < c->n_counters; k++) /* this process's counters */
                if (!strcmp(c->counters[k].pid, l->pid)) {
                    c->counters[k].y = y;
                    y += COUNTER_H + LANE_GAP;
                }
        }
        l->y = y;
        y += l->rows * ROW_H + LANE_GAP;
    }
    for (size_t k = 0; k < c->n_counters; k++) /* counters of processes without lanes */
        if (!c->counters[k].y) {
            c->counters[k].y = y;
            y += COUNTER_H + LANE_GAP;
        }
    return y;
}

/* The document's start, and its title: the files, the view (from the
 * trace start t0, and t0 on the trace clock), what was aggregated. */
static void write_header(tl_ctx *c, FILE *o, char *const *files, int nfiles, int width,
                         int height) {
    fprintf(o,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
            "font-size=\"11\">\n",
            width, height, width, height);
    fprintf(
        o, "<style>.label{font-size:11px;fill:#222}.proc{font-size:12px;font-weight:bold;"
           "fill:#111}.small{font-size:9px;fill:#666}.in{font-size:10px;fill:#111;"
           "pointer-events:none}.tick{stroke:#000;stroke-opacity:.3;stroke-width:1}.mark{fill:#222}"
           ".lane rect:hover{stroke:#000;stroke-width:1}</style>\n");
    fprintf(o, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", width, height);
    fprintf(o, "<text x=\"14\" y=\"20\" font-size=\"14\" font-weight=\"bold\">");
    for (int i = 0; i < nfiles && i < 3; i++) {
        if (i) fprintf(o, ", ");
        xml_text(o, files[i], 60);
    }
    if (nfiles > 3) fprintf(o, " and %d more", nfiles - 3);
    char b1[32];
    char b2[32], b3[32];
    double wa = dt_span_ns(c->t0, c->from), wb = dt_span_ns(c->t0, c->to);
    fprintf(o,
            "</text>\n<text x=\"14\" y=\"36\" class=\"small\">%" PRIu64
            " events, %zu lanes; %s%s .. %s%s (%s) from the trace start t0 = @",
            c->events, c->n_lanes, wa < 0 ? "-" : "", dt_format_duration(b2, sizeof b2, fabs(wa)),
            wb < 0 ? "-" : "", dt_format_duration(b3, sizeof b3, fabs(wb)),
            dt_format_duration(b1, sizeof b1, dt_span_ns(c->from, c->to)));
    uint64_t a = c->t0 < 0 ? -(uint64_t)c->t0 : (uint64_t)c->t0;
    fprintf(o, "%s%" PRIu64 ".%09" PRIu64 " s (trace clock)", c->t0 < 0 ? "-" : "", a / 1000000000u,
            a % 1000000000u);
    if (c->aggregated)
        fprintf(o, "; %" PRIu64 " spans narrower than a pixel drawn as shaded boxes",
                c->aggregated);
    fprintf(o, "</text>\n");
}

/* A process's label, above its first lane: its recorded name, else its id. */
static void draw_process_label(tl_ctx *c, FILE *o, const char *pid, int y) {
    const char *pn = dt_meta_process_name(&c->meta, pid);
    fprintf(o, "<text x=\"6\" y=\"%d\" class=\"proc\">", y);
    if (pn) {
        xml_text(o, pn, 20);
        fprintf(o, " (");
        xml_text(o, pid, 12);
        fprintf(o, ")");
    } else {
        fprintf(o, "process ");
        xml_text(o, pid, 24);
    }
    fprintf(o, "</text>\n");
}

/* The first legend_n names by total time (order), four to a row from ly. */
static void draw_legend(tl_ctx *c, FILE *o, const uint32_t *order, size_t legend_n, int ly,
                        int width) {
    char b1[32];
    int legend_rows = (int)((legend_n + 3) / 4);
    fprintf(o,
            "<g class=\"legend\">\n<text x=\"14\" y=\"%d\" class=\"proc\">names by total "
            "time</text>\n",
            ly);
    for (size_t i = 0; i < legend_n; i++) {
        int lx = 160 + (int)(i % 4) * ((width - 180) / 4), yy = ly + (int)(i / 4) * 18;
        char col[24];
        color_of(c, order[i], col);
        fprintf(o,
                "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\">",
                lx, yy - 10, col, lx + 16, yy);
        xml_text(o, c->names[order[i]].s, 28);
        fprintf(o, " (%s, %" PRIu64 ")</text>\n",
                dt_format_duration(b1, sizeof b1, c->names[order[i]].total),
                c->names[order[i]].count);
    }
    if (c->n_names > legend_n)
        fprintf(o, "<text x=\"160\" y=\"%d\" class=\"small\">and %zu more names</text>\n",
                ly + legend_rows * 18, c->n_names - legend_n);
    fprintf(o, "</g>\n");
}

int dt_tl_write_svg(tl_ctx *c, FILE *o, char *const *files, int nfiles) {
    uint32_t *order = malloc((c->n_names + 1) * sizeof *order);
    int **bases = calloc(c->n_lanes + 1, sizeof *bases);
    int *pid_y = calloc(c->n_lanes + 1, sizeof *pid_y);
    int rc = !order || !bases || !pid_y;
    if (c->n_lanes > 1) qsort(c->lanes, c->n_lanes, sizeof *c->lanes, cmp_lane);
    for (size_t i = 0; i < c->n_lanes && !rc; i++)
        rc = dt_tl_layout_lane(c, &c->lanes[i], &bases[i]);
    if (rc) {
        for (size_t i = 0; bases && i < c->n_lanes; i++)
            free(bases[i]);
        free(bases);
        free(order);
        free(pid_y);
        return dt_oom();
    }
    for (uint32_t i = 0; i < c->n_names; i++)
        order[i] = i;
    qsort_r(order, c->n_names, sizeof *order, cmp_name_total, c);

    int top = 56, bottom = layout_page(c, pid_y);
    size_t legend_n = c->n_names < LEGEND_MAX ? c->n_names : LEGEND_MAX;
    int legend_rows = (int)((legend_n + 3) / 4);
    int height = bottom + 30 + legend_rows * 18 + (c->n_names > legend_n ? 18 : 0) + 16;
    int width = LABEL_W + c->plot_w + RIGHT_PAD;
    write_header(c, o, files, nfiles, width, height);
    draw_axis(c, o, top, bottom);
    for (size_t i = 0; i < c->n_lanes; i++) {
        if (pid_y[i]) draw_process_label(c, o, c->lanes[i].pid, pid_y[i]);
        draw_lane(c, o, &c->lanes[i], bases[i]);
    }
    for (size_t k = 0; k < c->n_counters; k++)
        draw_counter(c, o, &c->counters[k]);
    draw_legend(c, o, order, legend_n, bottom + 24, width);
    fprintf(o, "</svg>\n");
    for (size_t i = 0; i < c->n_lanes; i++)
        free(bases[i]);
    free(bases);
    free(order);
    free(pid_y);
    return 0;
}
