/*
 * proctree.c — the process tree of a trace recorded by `dasf-trace record`:
 * each process image writes one "dasf.process" metadata event (args ppid,
 * argv, exe, image = when the image started), so fork gives a new pid whose
 * ppid is the parent, and exec a new image of the same pid.  `info` prints
 * the tree.  Memory grows with the number of process images only.
 */
#include "proctree.h"

#include "array.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t int_arg(const dasf_trace_event *ev, const char *key) {
    const dasf_value *v = dasf_value_map_get(&ev->args, key);
    if (!v) return 0;
    if (v->type == DASF_VAL_INT) return v->v.i;
    if (v->type == DASF_VAL_UINT) return (int64_t)v->v.u;
    return 0;
}

int dt_proctree_add(dt_proctree *t, const dasf_trace_event *ev) {
    if (ev->phase != DASF_PHASE_METADATA || strcmp(ev->name, "dasf.process")) return 0;
    if (ev->process_id.type != DASF_VAL_INT) return 0;
    const dasf_value *a = dasf_value_map_get(&ev->args, "argv");
    if (dt_grow((void **)&t->v, &t->cap, t->n, sizeof *t->v)) return -1;
    dt_proc_image *p = &t->v[t->n];
    p->pid = ev->process_id.v.i;
    p->ppid = int_arg(ev, "ppid");
    p->image = int_arg(ev, "image");
    p->argv = a && a->type == DASF_VAL_STR ? strndup(a->v.str.ptr, a->v.str.len) : strdup("");
    if (!p->argv) return -1;
    t->n++;
    return 0;
}

static int by_image(const void *a, const void *b) {
    const dt_proc_image *x = a, *y = b;
    if (x->image != y->image) return x->image < y->image ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static bool has_pid(const dt_proctree *t, int64_t pid) {
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].pid == pid) return true;
    return false;
}

/* Prints pid's images, then its children (depth-first, by start). */
static void print_pid(const dt_proctree *t, int64_t pid, int depth, bool *done) {
    bool first = true;
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].pid != pid || done[i]) continue;
        done[i] = true;
        printf("    %*s%" PRId64 "%s %s\n", 2 * depth, "", pid, first ? "" : " exec", t->v[i].argv);
        first = false;
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].ppid == pid && t->v[i].pid != pid && !done[i])
            print_pid(t, t->v[i].pid, depth + 1, done);
}

void dt_proctree_print(dt_proctree *t) {
    if (!t->n) return;
    qsort(t->v, t->n, sizeof *t->v, by_image);
    bool *done = calloc(t->n, sizeof *done);
    if (!done) return;
    printf("  process tree (pid, argv; recorded by dasf-trace record)\n");
    for (size_t i = 0; i < t->n; i++)
        if (!done[i] && !has_pid(t, t->v[i].ppid)) print_pid(t, t->v[i].pid, 0, done);
    for (size_t i = 0; i < t->n; i++) /* a cycle of reused pids: print the rest flat */
        if (!done[i]) print_pid(t, t->v[i].pid, 0, done);
    free(done);
}

void dt_proctree_free(dt_proctree *t) {
    for (size_t i = 0; i < t->n; i++) free(t->v[i].argv);
    free(t->v);
    memset(t, 0, sizeof *t);
}
