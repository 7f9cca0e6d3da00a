/*
 * timeline_svg.h — writes the timeline's model (timeline_model.h) as one
 * SVG document: a header with the files and the view, the time axis,
 * lanes grouped by process with their counters, and the legend.
 */
#ifndef DASF_TRACE_TIMELINE_SVG_H
#define DASF_TRACE_TIMELINE_SVG_H

#include "timeline_model.h"

#include <stdio.h>

/* Lays the lanes out (sorted by process and thread) and writes the
 * picture to o.  0, or DT_FAIL out of memory (said on stderr). */
int dt_tl_write_svg(tl_ctx *c, FILE *o, char *const *files, int nfiles);

#endif
