/*
 * replay.c — runs a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: dasf-fuzz-replay-TARGET FILE|DIR...
 *
 * Built with every preset (gcc, ASan+UBSan, TSan, clang), so the seed corpus
 * and every input fuzzing ever found (tests/fuzz/regress/TARGET/) are
 * regression tests in ctest (fuzz_replay_*), not only in ./build.sh fuzz.
 * A crash, sanitizer report or contract violation aborts; exit 0 after all
 * files, 2 on a usage or I/O error.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long g_files;

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    size_t cap = 1 << 16, len = 0, got;
    uint8_t *b = malloc(cap);
    while (b && (got = fread(b + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    if (!b) return 2;
    /* libFuzzer hands the target an exact-size copy: so do we (ASan then
     * sees a read past the input). */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) return 2;
    memcpy(exact, b, len);
    free(b);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    g_files++;
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 2;
    }
    if (!S_ISDIR(st.st_mode)) return run_file(path);
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return 2;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) names = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names); /* a stable order for reports */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        rc = run_path(p);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        int rc = run_path(argv[i]);
        if (rc) return rc;
    }
    printf("%s: %ld inputs, no crash\n", argv[0], g_files);
    return 0;
}
