/*
 * bench_mutex.c — the naive baseline: every thread appends its event
 * (name string copied, double ts, double dur, pid, tid) to one shared
 * buffer under a pthread mutex.  What a tracer looks like before anyone
 * optimises it; the buffer wraps instead of being written out, so the
 * figure is the recording cost alone, a lower bound for such a design.
 *
 *   dasf-bench-mutex latency --threads N --rounds R --batches B
 */
#include "bench_util.h"
#include "workload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MUTEX_BUF_SIZE ((size_t)64 << 20)

typedef struct mutex_buf {
    pthread_mutex_t lock;
    unsigned char *data;
    size_t pos;
    int pid;
    const char *names[16];
} mutex_buf;

static inline void mutex_record(mutex_buf *m, const char *name, double ts, double dur, int tid) {
    size_t n = strlen(name);
    size_t need = 2 + n + 2 * sizeof(double) + 2 * sizeof(int);
    pthread_mutex_lock(&m->lock);
    if (m->pos + need > MUTEX_BUF_SIZE) m->pos = 0;
    unsigned char *d = m->data + m->pos;
    uint16_t len = (uint16_t)n;
    memcpy(d, &len, 2);
    memcpy(d + 2, name, n);
    d += 2 + n;
    memcpy(d, &ts, sizeof ts);
    memcpy(d + 8, &dur, sizeof dur);
    memcpy(d + 16, &m->pid, sizeof m->pid);
    memcpy(d + 20, &tid, sizeof tid);
    m->pos += need;
    pthread_mutex_unlock(&m->lock);
}

static uint64_t mutex_batch(void *ctx, int t, uint64_t first, unsigned n) {
    mutex_buf *m = ctx;
    (void)t;
    int tid = bench_gettid();
    for (unsigned i = 0; i < n; i++) {
        uint64_t k = first + i;
        mutex_record(m, m->names[k & 15], (double)k * 1e-7, 5e-8, tid);
    }
    return 0;
}

static int cmd_latency(int argc, char **argv) {
    mutex_buf m = {.pid = (int)getpid()};
    pthread_mutex_init(&m.lock, NULL);
    m.data = malloc(MUTEX_BUF_SIZE);
    if (!m.data) bench_die("out of memory");
    memset(m.data, 0, MUTEX_BUF_SIZE); /* pre-fault, like our rings */
    for (unsigned i = 0; i < 16; i++)
        m.names[i] = wl_name(WL_REGULAR, i);
    bench_lat_cfg cfg = bench_lat_cfg_parse(argc, argv);
    bench_impl impl = {.ctx = &m, .run_batch = mutex_batch, .between_rounds = NULL};
    bench_lat_result r;
    if (bench_lat_run(&impl, &cfg, &r) != 0) bench_die("latency run failed");
    bench_json j;
    bench_json_record(&j, "mutex", "peer", cfg.threads, &r);
    bench_json_end(&j, stdout);
    free(m.data);
    pthread_mutex_destroy(&m.lock);
    return 0;
}

int main(int argc, char **argv) {
    static const bench_cmd latency = {"latency", "[--threads N --rounds R --batches B]",
                                      cmd_latency};
    static const bench_cmd *const cmds[] = {&latency};
    return bench_dispatch("dasf-bench-mutex", cmds, 1, argc, argv);
}
