/*
 * stats_table.h — the `stats` table (stats_table.c): groups finished
 * (mean, exact percentiles, share; sorted by --sort), printed as aligned
 * text or CSV, and the note when the figures sum several runs.
 */
#ifndef DASF_TRACE_STATS_TABLE_H
#define DASF_TRACE_STATS_TABLE_H

#include "stats_model.h"

#include <stdio.h>

/* Drops the groups without spans, computes each one's figures, frees the
 * durations and sorts the groups. */
void dt_stats_finish(stats_ctx *c);
/* The first rows groups on stdout, as CSV (times in seconds) or a table. */
void dt_stats_print_csv(stats_ctx *c, size_t rows);
void dt_stats_print_table(stats_ctx *c, size_t rows);
/* Says on o when the table adds up several runs (writer processes). */
void dt_stats_report_runs(const stats_ctx *c, FILE *o, const char *prefix);

#endif
