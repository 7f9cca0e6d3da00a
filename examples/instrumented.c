/* instrumented.c — an ordinary program that knows nothing about
 * dasf-profiler: two named worker threads sort arrays (recursive quicksort
 * with static helpers) and count primes.  Built with -finstrument-functions,
 * it is traced unchanged by `dasf-trace record` in the demo (./build.sh
 * demo), which then shows each function's calls and times by name. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void swap(int *a, int *b) {
    int t = *a;
    *a = *b;
    *b = t;
}

static int partition(int *v, int lo, int hi) {
    int pivot = v[hi], i = lo;
    for (int j = lo; j < hi; j++)
        if (v[j] < pivot) swap(&v[i++], &v[j]);
    swap(&v[i], &v[hi]);
    return i;
}

static void quicksort(int *v, int lo, int hi) {
    if (lo >= hi) return;
    int p = partition(v, lo, hi);
    quicksort(v, lo, p - 1);
    quicksort(v, p + 1, hi);
}

static int is_prime(int n) {
    if (n < 2) return 0;
    for (int d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

static long count_primes(int below) {
    long c = 0;
    for (int n = 0; n < below; n++) c += is_prime(n);
    return c;
}

static void *worker(void *arg) {
    long id = (long)arg;
    char name[16];
    snprintf(name, sizeof name, "worker-%ld", id);
    pthread_setname_np(pthread_self(), name);
    unsigned seed = (unsigned)id;
    int n = 4000;
    int *v = malloc(sizeof *v * (size_t)n);
    long primes = 0;
    for (int round = 0; round < 3 && v; round++) {
        for (int i = 0; i < n; i++) v[i] = rand_r(&seed);
        quicksort(v, 0, n - 1);
        primes += count_primes(10000);
    }
    free(v);
    return (void *)primes;
}

int main(void) {
    pthread_t t[2];
    for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    long total = 0;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (long)r;
    }
    printf("instrumented: %ld primes counted\n", total);
    return 0;
}
