/*
 * percentile.h — exact percentiles of integer samples: numpy's default
 * (linear interpolation between the closest ranks) by quickselect, in
 * linear time and without sorting.  A leaf module: no other tool code.
 */
#ifndef DASF_TRACE_PERCENTILE_H
#define DASF_TRACE_PERCENTILE_H

#include <stddef.h>
#include <stdint.h>

/* The p-th quantile (0 <= p <= 1) of a[0..n), n >= 1; a is reordered. */
double dt_percentile(int64_t *a, size_t n, double p);

#endif
