/* rb.c — the workload of bench/record.sh: dasf-trace record vs uftrace record
 * on the same -finstrument-functions binary, and vs the same code built
 * without instrumentation.  It times its own loop (CLOCK_MONOTONIC) and
 * prints "calls N ns T": N instrumented function calls in T ns.
 *   rb empty N        an empty function called N times from main (depth 1)
 *   rb tree DEPTH R   R times: build a binary tree of DEPTH levels, sum it
 *                     with a visitor, free it (a realistic call tree: small
 *                     functions of several kinds, depths 1..DEPTH+3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long g_calls;

__attribute__((noinline)) void empty(void);
__attribute__((noinline)) void empty(void) {
    __asm__ volatile("");
}

typedef struct node {
    struct node *l, *r;
    long v;
} node;

static node *make(long v) {
    g_calls++;
    node *n = malloc(sizeof *n);
    n->l = n->r = NULL;
    n->v = v;
    return n;
}

static node *build(int depth, long v) {
    g_calls++;
    node *n = make(v);
    if (depth > 1) {
        n->l = build(depth - 1, 2 * v);
        n->r = build(depth - 1, 2 * v + 1);
    }
    return n;
}

static long weight(long v) {
    g_calls++;
    return (v * 2654435761L) >> 7 & 1023;
}

static long visit(const node *n) {
    g_calls++;
    return weight(n->v) + (n->v & 1);
}

static long sum(const node *n) {
    g_calls++;
    if (!n) return 0;
    return visit(n) + sum(n->l) + sum(n->r);
}

static void drop(node *n) {
    g_calls++;
    if (!n) return;
    drop(n->l);
    drop(n->r);
    free(n);
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rb empty N | rb tree DEPTH REPS\n");
        return 2;
    }
    long t0 = now_ns(), check = 0;
    if (!strcmp(argv[1], "empty")) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++) empty();
        g_calls = n;
    } else {
        int depth = atoi(argv[2]);
        long reps = argc > 3 ? atol(argv[3]) : 1;
        for (long i = 0; i < reps; i++) {
            node *t = build(depth, 1);
            check += sum(t);
            drop(t);
        }
    }
    long t1 = now_ns();
    printf("calls %ld ns %ld check %ld\n", g_calls, t1 - t0, check);
    return 0;
}
