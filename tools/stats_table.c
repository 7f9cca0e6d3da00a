/*
 * stats_table.c — the `stats` table (stats_table.h).  Percentiles are
 * exact (percentile.h).
 */
#include "stats_table.h"

#include "messages.h"
#include "numbers.h"
#include "percentile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_groups(const void *pa, const void *pb, void *vkey) {
    const group *a = pa, *b = pb;
    double x = 0, y = 0;
    switch (*(const int *)vkey) {
    case SORT_TOTAL: x = (double)a->total, y = (double)b->total; break;
    case SORT_COUNT: x = (double)a->n, y = (double)b->n; break;
    case SORT_MEAN: x = a->mean, y = b->mean; break;
    case SORT_P50: x = a->p50, y = b->p50; break;
    case SORT_P95: x = a->p95, y = b->p95; break;
    case SORT_MAX: x = (double)a->max, y = (double)b->max; break;
    case SORT_SELF: x = (double)a->self, y = (double)b->self; break;
    default: break;
    }
    if (x != y) return x < y ? 1 : -1;
    return strcmp(a->label, b->label);
}

void dt_stats_finish(stats_ctx *c) {
    size_t kept = 0;
    for (size_t i = 0; i < c->n_groups; i++) { /* a B that never closed has no row */
        if (c->groups[i].n)
            c->groups[kept++] = c->groups[i];
        else
            free(c->groups[i].d);
    }
    c->n_groups = kept;
    for (size_t i = 0; i < c->n_groups; i++) {
        group *g = &c->groups[i];
        g->mean = (double)g->total / (double)g->n;
        g->p50 = dt_percentile(g->d, g->n, 0.50);
        g->p95 = dt_percentile(g->d, g->n, 0.95);
        int64_t st = c->scope_total[g->scope];
        g->share = st > 0 ? 100.0 * (double)g->self / (double)st : 0;
        free(g->d);
        g->d = NULL;
    }
    if (c->n_groups > 1) qsort_r(c->groups, c->n_groups, sizeof *c->groups, cmp_groups, &c->sort);
}

/* Splits a label into its scope columns and the name (pointers into it). */
static void split_label(const stats_ctx *c, const group *g, char *cols[3]) {
    char *s = g->label;
    cols[0] = cols[1] = NULL;
    for (int i = 0; i < NSCOPE(c); i++) {
        cols[i] = s;
        s = strchr(s, '\t');
        *s++ = 0;
    }
    cols[2] = s;
}

static void csv_field(const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* The recorded name of the row's thread (--by thread) or process (--by
 * process), or NULL. */
static const char *scope_name(const stats_ctx *c, char *const cols[3]) {
    if (c->by == BY_THREAD) return dt_meta_thread_name(&c->meta, cols[0], cols[1]);
    if (c->by == BY_PROCESS) return dt_meta_process_name(&c->meta, cols[0]);
    return NULL;
}

void dt_stats_print_csv(stats_ctx *c, size_t rows) {
    if (c->by == BY_THREAD) fputs("process_id,thread_id,thread_name,", stdout);
    if (c->by == BY_PROCESS) fputs("process_id,process_name,", stdout);
    if (c->by == BY_RANK) fputs("rank,", stdout);
    puts("name,count,total_s,self_s,mean_s,p50_s,p95_s,max_s,share_percent");
    for (size_t i = 0; i < rows; i++) {
        group *g = &c->groups[i];
        char *cols[3];
        split_label(c, g, cols);
        for (int k = 0; k < 2; k++)
            if (cols[k]) {
                csv_field(cols[k]);
                putchar(',');
            }
        if (c->by == BY_THREAD || c->by == BY_PROCESS) {
            const char *n = scope_name(c, cols);
            csv_field(n ? n : "");
            putchar(',');
        }
        csv_field(cols[2]);
        printf(",%zu,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f,%.3f\n", g->n, (double)g->total / 1e9,
               (double)g->self / 1e9, g->mean / 1e9, g->p50 / 1e9, g->p95 / 1e9,
               (double)g->max / 1e9, g->share);
    }
}

#define NAME_MAX_WIDTH 60
#define SCOPE_MAX 96

void dt_stats_print_table(stats_ctx *c, size_t rows) {
    static const char *hdr[] = {"count", "total", "self", "mean", "p50", "p95", "max", "share"};
    int wscope[2] = {7, 6}, wname = 4;
    char *(*cols)[3] = malloc((rows ? rows : 1) * sizeof *cols);
    char(*shown)[2][SCOPE_MAX] = malloc((rows ? rows : 1) * sizeof *shown);
    if (!cols || !shown) {
        free(cols);
        free(shown);
        dt_oom();
        return;
    }
    int nscope = NSCOPE(c);
    for (size_t i = 0; i < rows; i++) {
        split_label(c, &c->groups[i], cols[i]);
        for (int k = 0; k < nscope; k++) { /* the id, with its recorded name: "main (1)" */
            const char *n = k == nscope - 1 ? scope_name(c, cols[i]) : NULL;
            if (n)
                snprintf(shown[i][k], SCOPE_MAX, "%s (%s)", n, cols[i][k]);
            else
                snprintf(shown[i][k], SCOPE_MAX, "%s", cols[i][k]);
            if ((int)strlen(shown[i][k]) > wscope[k]) wscope[k] = (int)strlen(shown[i][k]);
        }
        int l = (int)strlen(cols[i][2]);
        if (l > wname) wname = l > NAME_MAX_WIDTH ? NAME_MAX_WIDTH : l;
    }
    static const char *scope_hdr[] = {"process", "thread"};
    for (int k = 0; k < nscope; k++)
        printf("%-*s  ", wscope[k], c->by == BY_RANK ? "rank" : scope_hdr[k]);
    printf("%-*s %9s", wname, "name", hdr[0]);
    for (int k = 1; k < 7; k++)
        printf(" %12s", hdr[k]);
    printf(" %7s\n", hdr[7]);
    for (size_t i = 0; i < rows; i++) {
        group *g = &c->groups[i];
        char b[7][32];
        for (int k = 0; k < nscope; k++)
            printf("%-*s  ", wscope[k], shown[i][k]);
        const char *name = cols[i][2];
        if ((int)strlen(name) > wname)
            printf("%.*s...", wname - 3, name);
        else
            printf("%-*s", wname, name);
        printf(" %9zu %12s %12s %12s %12s %12s %12s %6.2f%%\n", g->n,
               dt_format_duration(b[1], 32, (double)g->total),
               dt_format_duration(b[6], 32, (double)g->self), dt_format_duration(b[2], 32, g->mean),
               dt_format_duration(b[3], 32, g->p50), dt_format_duration(b[4], 32, g->p95),
               dt_format_duration(b[5], 32, (double)g->max), g->share);
    }
    free(cols);
    free(shown);
}

/* Says when the table adds up several runs (writer processes). */
void dt_stats_report_runs(const stats_ctx *c, FILE *o, const char *prefix) {
    if (c->n_runs_used < 2) return;
    fprintf(o, "%sthese figures sum %zu runs:", prefix, c->n_runs_used);
    size_t shown = 0;
    for (size_t i = 0; i < c->cap_run_used && i < c->runs.n; i++) {
        if (!c->run_used[i]) continue;
        if (shown++ == 4) {
            fprintf(o, " ...");
            break;
        }
        char label[DT_ID_TEXT_MAX + 96];
        fprintf(o, "%s %zu (%s)", shown > 1 ? "," : "", i + 1,
                dt_run_label(&c->runs.v[i], label, sizeof label));
    }
    fprintf(o, "; one run: --run N ('dasf-trace info' lists them)\n");
}
