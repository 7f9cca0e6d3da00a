/* clockcost.c — the floor of function tracing on this machine: what one
 * clock read costs (the TSC, as the preload reads it, and clock_gettime, as
 * uftrace does); every traced call needs two.  Prints "rdtsc NS gettime NS". */
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double ns_between(struct timespec a, struct timespec b) {
    return (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
}

int main(void) {
    enum { N = 1000000 };
    struct timespec a, b, t;
    unsigned long long s = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < N; i++) s += __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double rd = ns_between(a, b) / N;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < N; i++) clock_gettime(CLOCK_MONOTONIC, &t);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("rdtsc %.2f gettime %.2f (%llu)\n", rd, ns_between(a, b) / N, s & 1);
    return 0;
}
