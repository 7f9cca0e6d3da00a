/*
 * percentile.c — exact percentiles by quickselect (percentile.h).
 */
#include "percentile.h"

/* The k-th smallest of a[0..n) (a is reordered). */
static int64_t select_kth(int64_t *a, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* median of three as the pivot keeps sorted input linear */
        size_t mid = lo + (hi - lo) / 2;
        int64_t x = a[lo], y = a[mid], z = a[hi];
        int64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                int64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* numpy's default percentile: linear between the closest ranks. */
double dt_percentile(int64_t *a, size_t n, double p) {
    double pos = p * (double)(n - 1);
    size_t k = (size_t)pos;
    double frac = pos - (double)k;
    int64_t lo = select_kth(a, n, k);
    if (frac == 0 || k + 1 >= n) return (double)lo;
    int64_t hi = a[k + 1];
    for (size_t i = k + 2; i < n; i++) /* after selecting k, a[k+1..] are >= lo */
        if (a[i] < hi) hi = a[i];
    return (double)lo + frac * (double)(hi - lo);
}
