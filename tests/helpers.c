/* helpers.c — see helpers.h. */
#include "helpers.h"

#include "dasf/profiler.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Strings handed out by th_tmpdir/th_path belong to the helpers: they are
 * freed at exit (so LeakSanitizer stays quiet in tests and in forked
 * children that call exit()), and the directories are removed by the
 * process that made them unless DASF_KEEP_TEST_FILES is set. */
static char **g_owned;
static size_t g_nowned, g_capowned;
static char **g_dirs;
static size_t g_ndirs, g_capdirs;
static pid_t g_dirs_owner;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void cleanup_at_exit(void) {
    const char *keep = getenv("DASF_KEEP_TEST_FILES");
    if (getpid() == g_dirs_owner && !(keep && *keep))
        for (size_t i = 0; i < g_ndirs; i++) nftw(g_dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < g_nowned; i++) free(g_owned[i]);
    free(g_owned);
    free(g_dirs);
    g_owned = g_dirs = NULL;
    g_nowned = g_capowned = g_ndirs = g_capdirs = 0;
}

static void push(char ***v, size_t *n, size_t *cap, char *p) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *v = realloc(*v, *cap * sizeof **v);
        if (!*v) abort();
    }
    (*v)[(*n)++] = p;
}

static char *owned(char *p) {
    static int registered;
    if (!p) abort();
    if (!registered) {
        atexit(cleanup_at_exit);
        registered = 1;
    }
    push(&g_owned, &g_nowned, &g_capowned, p);
    return p;
}

char *th_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/dasf-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    char *dir = owned(strdup(tmpl));
    if (g_dirs_owner != getpid()) g_ndirs = 0; /* a forked child's own list */
    g_dirs_owner = getpid();
    push(&g_dirs, &g_ndirs, &g_capdirs, dir);
    return dir;
}

char *th_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = owned(malloc(n));
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

const char *th_tmp_file(const char *name) {
    static char *dir;
    static pid_t dir_pid;
    if (!dir || dir_pid != getpid()) { /* a forked child makes its own */
        dir = th_tmpdir();
        dir_pid = getpid();
    }
    return th_path(dir, name);
}

int th_run(const char *cmd, char **out) {
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
    }
    buf[len] = 0;
    int st = pclose(f);
    if (out)
        *out = buf;
    else
        free(buf);
    if (st == -1) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int th_cliv(const char *dir, char **out, char **err, const char *fmt, va_list ap) {
    char args[4096], cmd[8192];
    vsnprintf(args, sizeof args, fmt, ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>stderr.txt", dir, th_dasf_trace(), args);
    int st = th_run(cmd, out);
    if (err) {
        size_t n;
        *err = (char *)th_read_file(th_path(dir, "stderr.txt"), &n);
        if (*err) {
            *err = realloc(*err, n + 1);
            if (!*err) abort();
            (*err)[n] = 0;
        }
    }
    return st;
}

int th_cli(const char *dir, char **out, char **err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int st = th_cliv(dir, out, err, fmt, ap);
    va_end(ap);
    return st;
}

static int line_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void th_sort_lines(char *text) {
    size_t n = 0, len = strlen(text);
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    if (n < 2) return;
    char **lines = malloc(n * sizeof *lines), *copy = malloc(len + 1);
    if (!lines || !copy) abort();
    memcpy(copy, text, len + 1);
    size_t k = 0;
    for (char *p = copy; k < n; k++) {
        char *nl = strchr(p, '\n');
        *nl = 0;
        lines[k] = p;
        p = nl + 1;
    }
    qsort(lines, n, sizeof *lines, line_cmp);
    char *o = text;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(lines[i]);
        memcpy(o, lines[i], l);
        o[l] = '\n';
        o += l + 1;
    }
    free(lines);
    free(copy);
}

static int count_cb(const dasf_trace_event *ev, void *user) {
    (void)ev;
    ++*(long *)user;
    return 0;
}

long th_count_events(const char *path) {
    long n = 0;
    int rc = dasf_trace_read_file(path, count_cb, &n);
    return rc < 0 ? rc : n;
}

uint8_t *th_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) *len = (size_t)n;
    return p;
}

int th_write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

const char *th_dasf_trace(void) {
    const char *p = getenv("DASF_TRACE_BIN");
    return p && *p ? p : NULL;
}

extern char **environ;

pid_t th_spawn_writer(const char *const *args) {
    const char *exe = getenv("DASF_TEST_WRITER");
    if (!exe || !*exe) {
        fprintf(stderr, "DASF_TEST_WRITER is not set\n");
        return -1;
    }
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)exe;
    while (*args && n < 15) argv[n++] = (char *)*args++;
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, NULL, NULL, argv, environ);
    if (rc) {
        fprintf(stderr, "posix_spawn %s: %s\n", exe, strerror(rc));
        return -1;
    }
    return pid;
}

extern char **environ;

th_child th_start_crash_writer(const char *trace, const char *how, const char *n) {
    th_child c = {-1, NULL};
    const char *exe = getenv("DASF_TEST_WRITER");
    int fds[2];
    if (!exe || !*exe || pipe(fds) != 0) {
        fprintf(stderr, "th_start_crash_writer: DASF_TEST_WRITER unset or no pipe\n");
        return c;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char *argv[] = {(char *)exe, "crash", (char *)trace, (char *)how, (char *)n, NULL};
    fflush(NULL);
    int rc = posix_spawn(&c.pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "spawn %s: %s\n", exe, strerror(rc));
        close(fds[0]);
        c.pid = -1;
        return c;
    }
    c.out = fdopen(fds[0], "r");
    return c;
}

long th_read_reports(th_child *c, int reports) {
    long last = 0, v;
    for (int i = 0; reports == 0 || i < reports; i++) {
        if (fscanf(c->out, "%ld", &v) != 1) break;
        last = v;
    }
    return last;
}

int th_wait_status(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return st;
}

th_seq_check th_check_seqs(const char *trace, long reported) {
    th_seq_check r = {0, -1, 0, 0, 0, 0};
    long cap = 4 << 20;
    unsigned char *n = calloc((size_t)cap, 1);
    dasf_trace *t;
    if (!n || (r.read_rc = dasf_trace_open(&t, trace)) != 0) {
        if (!n) r.read_rc = DASF_ENOMEM;
        free(n);
        return r;
    }
    const dasf_trace_event *ev;
    while ((r.read_rc = dasf_trace_next(t, &ev)) == 1) {
        long seq = -1;
        if (ev->name && !strcmp(ev->name, "p")) {
            seq = (long)ev->timestamp_ns;
        } else if (ev->name && !strcmp(ev->name, "a")) {
            const dasf_value *v = dasf_value_map_get(&ev->args, "seq");
            if (v && v->type == DASF_VAL_INT) seq = (long)v->v.i;
        }
        if (seq < 0 || seq >= cap)
            r.other++;
        else if (n[seq]++)
            r.dup++;
    }
    dasf_trace_stats st;
    dasf_trace_get_stats(t, &st);
    dasf_trace_close(t);
    r.damaged = st.chunks_damaged;
    for (long i = 0; i < reported && i < cap; i++) {
        if (n[i]) continue;
        if (!r.missing++) r.first_missing = i;
    }
    free(n);
    return r;
}

void *th_record_job(void *arg) {
    th_job *j = arg;
    char name[16];
    snprintf(name, sizeof name, "t%d", j->k);
    for (long i = 0; i < j->n; i++) {
        dasf_arg a = DASF_ARG_I64("seq", i);
        int rc = dasf_record_complete_args(j->p, name, 1.0 + (double)i * 1e-6, 1e-7, &a, 1);
        if (rc == 0) {
            j->ok++;
        } else if (rc == DASF_EDROPPED) {
            j->drop++;
        } else {
            j->other++;
            j->last_error = rc;
        }
        if (i == 0) __atomic_store_n(&j->started, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

void th_dump_value(char *out, size_t cap, const dasf_value *v) {
    size_t len = strlen(out);
    if (len + 1 >= cap) return;
    switch (v->type) {
    case DASF_VAL_INT:
        snprintf(out + len, cap - len, "i%lld,", (long long)v->v.i);
        break;
    case DASF_VAL_UINT:
        snprintf(out + len, cap - len, "u%llu,", (unsigned long long)v->v.u);
        break;
    case DASF_VAL_FLOAT:
        snprintf(out + len, cap - len, "f%a,", v->v.f);
        break;
    case DASF_VAL_BOOL:
        snprintf(out + len, cap - len, "b%d,", (int)v->v.b);
        break;
    case DASF_VAL_STR:
        snprintf(out + len, cap - len, "s%.*s,", (int)v->v.str.len, v->v.str.ptr);
        break;
    case DASF_VAL_ARRAY:
        snprintf(out + len, cap - len, "a%u,", (unsigned)v->v.array.n);
        for (uint32_t i = 0; i < v->v.array.n; i++) th_dump_value(out, cap, &v->v.array.items[i]);
        break;
    case DASF_VAL_MAP:
        snprintf(out + len, cap - len, "m%u,", (unsigned)v->v.map.n);
        for (uint32_t i = 0; i < v->v.map.n; i++) {
            th_dump_value(out, cap, &v->v.map.items[i].key);
            th_dump_value(out, cap, &v->v.map.items[i].val);
        }
        break;
    default:
        snprintf(out + len, cap - len, "t%d,", (int)v->type);
        break;
    }
}
