/* traced.c — a program that knows nothing about dasf-profiler, built with
 * -finstrument-functions; tests/test_record.c traces it with `dasf-trace
 * record`.  Modes:
 *   calls N LIB     c_static_leaf N times, geo::Square::area N times (C++),
 *                   lib_scale N times from LIB (dlopen)
 *   spin COUNTFILE [handler]   tick() forever; after each call the count of
 *                   finished calls is written to COUNTFILE (so it survives the
 *                   process); with "handler" a SIGTERM handler prints
 *                   "count N" and exits 3
 *   fork N SELF LIB a child runs c_static_leaf N times, then execs
 *                   SELF calls N LIB; the parent runs c_static_leaf N times
 *   threads         two threads named "worker-a" (by itself) and "worker-b"
 *                   (by main), each calls c_global 10 times
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

double cpp_shapes(int n);
int c_global(int x);

static volatile long *g_count;

static int c_static_leaf(int x) {
    return x ^ 0x5a;
}

int c_global(int x) {
    return c_static_leaf(x) + 1;
}

static void tick(void) {
    __asm__ volatile("" ::: "memory");
}

static void on_term(int sig) {
    (void)sig;
    char b[64];
    int n = snprintf(b, sizeof b, "count %ld\n", *g_count);
    if (write(1, b, (size_t)n) < 0) _exit(4);
    _exit(3);
}

static int run_calls(int n, const char *lib) {
    long s = 0;
    for (int i = 0; i < n; i++) s += c_static_leaf(i);
    s += (long)cpp_shapes(n);
    void *h = dlopen(lib, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", lib, dlerror());
        return 1;
    }
    int (*scale)(int) = (int (*)(int))dlsym(h, "lib_scale");
    if (!scale) return 1;
    for (int i = 0; i < n; i++) s += scale(i);
    printf("calls %d (%ld)\n", n, s);
    return 0;
}

static int run_spin(const char *file, int handler) {
    static long count;
    int fd = open(file, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return 1;
    g_count = &count;
    if (handler) {
        struct sigaction a;
        memset(&a, 0, sizeof a);
        a.sa_handler = on_term;
        sigaction(SIGTERM, &a, NULL);
    }
    /* The count goes to the file with a system call after every call: it
     * survives the process, and a ThreadSanitizer build (which delivers
     * signals only inside intercepted calls) gets its SIGTERM too. */
    for (;;) {
        tick();
        count++;
        if (pwrite(fd, &count, sizeof count, 0) != (ssize_t)sizeof count) return 1;
    }
}

static int run_fork(int n, const char *self, const char *lib) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        for (int i = 0; i < n; i++) c_static_leaf(i);
        char arg[16];
        snprintf(arg, sizeof arg, "%d", n);
        execl(self, self, "calls", arg, lib, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < n; i++) c_static_leaf(i);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return 1;
    return WEXITSTATUS(st);
}

static pthread_mutex_t g_named_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_named = PTHREAD_COND_INITIALIZER;
static int g_b_named;

static void *worker(void *arg) {
    if (arg) {
        pthread_setname_np(pthread_self(), "worker-a");
    } else { /* wait until main has named this thread */
        pthread_mutex_lock(&g_named_lock);
        while (!g_b_named) pthread_cond_wait(&g_named, &g_named_lock);
        pthread_mutex_unlock(&g_named_lock);
    }
    for (int i = 0; i < 10; i++) c_global(i);
    return NULL;
}

static int run_threads(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, worker, (void *)1);
    pthread_create(&b, NULL, worker, NULL);
    pthread_setname_np(b, "worker-b");
    pthread_mutex_lock(&g_named_lock);
    g_b_named = 1;
    pthread_cond_signal(&g_named);
    pthread_mutex_unlock(&g_named_lock);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "calls")) return run_calls(atoi(argv[2]), argv[3]);
    if (argc >= 3 && !strcmp(argv[1], "spin"))
        return run_spin(argv[2], argc >= 4 && !strcmp(argv[3], "handler"));
    if (argc >= 5 && !strcmp(argv[1], "fork")) return run_fork(atoi(argv[2]), argv[3], argv[4]);
    if (argc >= 2 && !strcmp(argv[1], "threads")) return run_threads();
    fprintf(stderr, "usage: traced calls N LIB | spin FILE [handler] | fork N SELF LIB | threads\n");
    return 2;
}
