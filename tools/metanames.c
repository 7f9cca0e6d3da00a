/*
 * metanames.c — process/thread names from M events (see metanames.h).
 */
#include "metanames.h"

#include "array.h"
#include "ids.h"
#include "strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_name(dt_meta_names *m, const char *key, const char *name, size_t len) {
    bool created;
    dt_strent *e = dt_strmap_get(&m->map, key, strlen(key), &created);
    if (!e) return -1;
    if (created) {
        if (dt_grow((void **)&m->v, &m->cap, m->n, sizeof *m->v)) return -1;
        m->v[m->n] = NULL;
        e->val = m->n++;
    }
    free(m->v[e->val]);
    m->v[e->val] = strndup(name, len);
    return m->v[e->val] ? 0 : -1;
}

int dt_meta_names_event(dt_meta_names *m, const dasf_trace_event *ev) {
    if (ev->phase != DASF_PHASE_METADATA || !ev->name) return 0;
    const dasf_value *v = dasf_value_map_get(&ev->args, "name");
    if (!v || v->type != DASF_VAL_STR) return 0;
    bool thread = !strcmp(ev->name, "thread_name");
    if (!thread && strcmp(ev->name, "process_name")) return 0;
    char key[2 * DT_ID_TEXT_MAX + 4];
    key[0] = thread ? 'T' : 'P';
    key[1] = '\t';
    dt_id_text(&ev->process_id, key + 2, DT_ID_TEXT_MAX);
    if (thread) {
        size_t n = strlen(key);
        key[n] = '\t';
        dt_id_text(&ev->thread_id, key + n + 1, DT_ID_TEXT_MAX);
    }
    return set_name(m, key, v->v.str.ptr, v->v.str.len);
}

static const char *lookup(const dt_meta_names *m, char kind, const char *pid, const char *tid) {
    char key[2 * DT_ID_TEXT_MAX + 4];
    snprintf(key, sizeof key, "%c\t%s%s%s", kind, pid, tid ? "\t" : "", tid ? tid : "");
    dt_strent *e = dt_strmap_find(&m->map, key, strlen(key));
    return e ? m->v[e->val] : NULL;
}

const char *dt_meta_process_name(const dt_meta_names *m, const char *pid) {
    return lookup(m, 'P', pid, NULL);
}

const char *dt_meta_thread_name(const dt_meta_names *m, const char *pid, const char *tid) {
    return lookup(m, 'T', pid, tid);
}

void dt_meta_names_free(dt_meta_names *m) {
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i]);
    free(m->v);
    dt_strmap_free(&m->map);
    memset(m, 0, sizeof *m);
}
