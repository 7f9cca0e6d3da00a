/*
 * preload_facts.c — the process, thread and module facts libdasf-preload.so
 * records as metadata events: the process (argv, ppid, exe, image), each
 * thread's name (at its first record, and when pthread_setname_np/prctl
 * rename it), and the loaded modules (path, build-id, load address), each
 * reported once per process image.
 *
 * Threads: the constructor and fork child (record_process, record_modules),
 * any app thread (on_first_record through the runtime's first-record hook,
 * record_thread_name from the interposers, record_modules from dlopen).
 * Invariant: the module table (g_seen) is only touched under g_mod_lock;
 * the fork child re-initialises the lock after forget_modules.
 */
#include "preload_int.h"

static int record_meta(const char *name, int64_t tid, const dasf_arg *args, size_t n) {
    if (!g_prof) return 0;
    dasf_event ev;
    memset(&ev, 0, sizeof ev);
    ev.name = name;
    ev.timestamp = dasf_now();
    ev.phase = DASF_PHASE_METADATA;
    if (tid) ev.thread_id = dasf_id_int(tid);
    ev.args = args;
    ev.n_args = n;
    return dasf_profiler_record(g_prof, &ev);
}

void record_thread_name(int64_t tid, const char *name) {
    dasf_arg a = DASF_ARG_STR("name", name);
    record_meta("thread_name", tid, &a, 1);
}

static int64_t gettid_(void) {
    return (int64_t)syscall(SYS_gettid);
}

/* This thread's name as the kernel has it (comm). */
void self_comm(char out[32]) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%lld/comm", (long long)gettid_());
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, out, 31);
    close(fd);
    if (n <= 0) return;
    out[n] = 0;
    out[strcspn(out, "\n")] = 0;
}

void on_first_record(dasf_filedb *db) {
    if (!g_prof || db != g_fdb) return;
    char name[32];
    self_comm(name);
    if (name[0]) record_thread_name(0, name);
}

/* argv as one line (NULs become spaces), at most n - 1 bytes. */
static void read_cmdline(char *out, size_t n) {
    out[0] = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t k = read(fd, out, n - 1);
    close(fd);
    if (k <= 0) return;
    while (k > 0 && out[k - 1] == 0) k--;
    for (ssize_t i = 0; i < k; i++)
        if (out[i] == 0) out[i] = ' ';
    out[k] = 0;
}

void record_process(void) {
    char cmd[1024], exe[PATH_MAX];
    read_cmdline(cmd, sizeof cmd);
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[k > 0 ? k : 0] = 0;
    dasf_record_process_name(g_prof, cmd[0] ? cmd : exe);
    dasf_arg a[4] = {DASF_ARG_I64("ppid", getppid()), DASF_ARG_STR("argv", cmd),
                     DASF_ARG_STR("exe", exe), DASF_ARG_I64("image", g_image_ns)};
    record_meta("dasf.process", 0, a, 4);
}

/* Modules already reported by this process image (load address + name). */
typedef struct seen_mod {
    uintptr_t base;
    char *path;
} seen_mod;
static seen_mod *g_seen;
static size_t g_seen_n, g_seen_cap;
pthread_mutex_t g_mod_lock = PTHREAD_MUTEX_INITIALIZER;

static void build_id_hex(const struct dl_phdr_info *info, char *out, size_t n) {
    out[0] = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            size_t nsz = (nh->n_namesz + 3) & ~(size_t)3, dsz = (nh->n_descsz + 3) & ~(size_t)3;
            const uint8_t *name = p + sizeof *nh, *desc = name + nsz;
            if (desc + nh->n_descsz > end) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                size_t k = 0;
                for (size_t j = 0; j < nh->n_descsz && k + 3 <= n; j++, k += 2)
                    snprintf(out + k, 3, "%02x", desc[j]);
                return;
            }
            p = desc + dsz;
        }
    }
}

static int seen_before(uintptr_t base, const char *path) {
    for (size_t i = 0; i < g_seen_n; i++)
        if (g_seen[i].base == base && !strcmp(g_seen[i].path, path)) return 1;
    if (g_seen_n == g_seen_cap) {
        size_t cap = g_seen_cap ? g_seen_cap * 2 : 64;
        seen_mod *v = realloc(g_seen, cap * sizeof *v);
        if (!v) return 1;
        g_seen = v;
        g_seen_cap = cap;
    }
    char *copy = strdup(path);
    if (!copy) return 1;
    g_seen[g_seen_n].base = base;
    g_seen[g_seen_n].path = copy;
    g_seen_n++;
    return 0;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    (void)arg;
    char exe[PATH_MAX];
    const char *path = info->dlpi_name;
    if (!path || !*path) { /* the main program */
        if (info->dlpi_addr == 0 && info->dlpi_phnum == 0) return 0;
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k <= 0) return 0;
        exe[k] = 0;
        path = exe;
    }
    char abs[PATH_MAX];
    if (path[0] != '/') {
        /* dlopen("dir/lib.so") keeps the name as given (relative to the
         * working directory); linux-vdso.so.1 has no file at all. */
        if (!strchr(path, '/') || !realpath(path, abs)) return 0;
        path = abs;
    }
    if (seen_before((uintptr_t)info->dlpi_addr, path)) return 0;
    char bid[130];
    build_id_hex(info, bid, sizeof bid);
    dasf_arg a[4] = {DASF_ARG_STR("path", path), DASF_ARG_STR("build_id", bid),
                     DASF_ARG_U64("base", (uint64_t)info->dlpi_addr),
                     DASF_ARG_I64("image", g_image_ns)};
    record_meta("dasf.module", 0, a, 4);
    return 0;
}

void record_modules(void) {
    if (!g_prof) return;
    pthread_mutex_lock(&g_mod_lock);
    dl_iterate_phdr(module_cb, NULL);
    pthread_mutex_unlock(&g_mod_lock);
}

void forget_modules(void) {
    for (size_t i = 0; i < g_seen_n; i++) free(g_seen[i].path);
    g_seen_n = 0;
}
