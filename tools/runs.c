/*
 * runs.c — runs (writer processes) of the traces being read; see runs.h.
 */
#include "runs.h"

#include "array.h"
#include "ids.h"
#include "infile.h"
#include "messages.h"
#include "numbers.h"
#include "strmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAME_DOMAIN_NS 1000000000LL /* rt_offset drift within one boot */

static size_t new_run(dt_runs *r, size_t file, bool legacy) {
    if (dt_grow((void **)&r->v, &r->cap, r->n, sizeof *r->v)) return SIZE_MAX;
    dt_run *run = &r->v[r->n];
    memset(run, 0, sizeof *run);
    run->file = file;
    run->legacy = legacy;
    return r->n++;
}

static bool same_domain(int64_t a, int64_t b) {
    if (!a || !b) return true; /* one writer did not say */
    int64_t d = a > b ? a - b : b - a;
    return d < SAME_DOMAIN_NS;
}

static size_t archive_run(dt_runs *r, const dt_input *in, const dasf_trace_event *ev) {
    if (r->have_cur && r->cur_file == in->index && r->cur_chunk == ev->chunk_index) return r->cur;
    dasf_chunk_info ci;
    if (dasf_trace_chunk(in->trace, &ci) != 0) memset(&ci, 0, sizeof ci);
    ci.host[sizeof ci.host - 1] = 0;
    size_t found = SIZE_MAX;
    for (size_t i = r->n; i-- > 0 && found == SIZE_MAX;) {
        const dt_run *run = &r->v[i];
        if (run->file != in->index) break; /* runs of one file are contiguous */
        if (!run->legacy && run->writer_pid == ci.writer_pid && !strcmp(run->host, ci.host) &&
            same_domain(run->rt_offset, ci.realtime_offset_ns))
            found = i;
    }
    if (found == SIZE_MAX) {
        found = new_run(r, in->index, false);
        if (found == SIZE_MAX) return SIZE_MAX;
        dt_run *run = &r->v[found];
        run->writer_pid = ci.writer_pid;
        memcpy(run->host, ci.host, sizeof run->host);
        run->rt_offset = ci.realtime_offset_ns;
    }
    if (!r->v[found].rt_offset) r->v[found].rt_offset = ci.realtime_offset_ns;
    r->v[found].chunks++;
    r->have_cur = true;
    r->cur_file = in->index;
    r->cur_chunk = ev->chunk_index;
    r->cur = found;
    return found;
}

static size_t legacy_run(dt_runs *r, const dt_input *in, const dasf_trace_event *ev) {
    char key[DT_ID_TEXT_MAX + 24];
    int fl = snprintf(key, sizeof key, "%zu\t", in->index);
    dt_id_text(&ev->process_id, key + fl, DT_ID_TEXT_MAX);
    bool created;
    dt_strent *e = dt_strmap_get(&r->legacy_map, key, strlen(key), &created);
    if (!e) return SIZE_MAX;
    if (created) {
        size_t i = new_run(r, in->index, true);
        if (i == SIZE_MAX) return SIZE_MAX;
        snprintf(r->v[i].pid_text, sizeof r->v[i].pid_text, "%s", key + fl);
        e->val = i;
    }
    return e->val;
}

size_t dt_runs_event(dt_runs *r, const dt_input *in, const dasf_trace_event *ev) {
    size_t i = in->layout == DASF_LAYOUT_ARCHIVE ? archive_run(r, in, ev) : legacy_run(r, in, ev);
    if (i == SIZE_MAX) {
        dt_err("out of memory");
        return SIZE_MAX;
    }
    dt_run *run = &r->v[i];
    run->events++;
    if (ev->phase != DASF_PHASE_METADATA) { /* M events carry no time */
        int64_t s = ev->timestamp_ns;
        int64_t e = dt_add_ns(s, ev->has_duration && ev->duration_ns > 0 ? ev->duration_ns : 0);
        if (!run->timed || s < run->first_ns) run->first_ns = s;
        if (!run->timed || e > run->last_ns) run->last_ns = e;
        run->timed = true;
    }
    return i;
}

void dt_runs_free(dt_runs *r) {
    free(r->v);
    dt_strmap_free(&r->legacy_map);
    memset(r, 0, sizeof *r);
}

const char *dt_run_label(const dt_run *run, char *buf, size_t n) {
    if (run->legacy)
        snprintf(buf, n, "process %s", run->pid_text);
    else
        snprintf(buf, n, "pid %" PRId64 " on %s", run->writer_pid,
                 run->host[0] ? run->host : "(unknown host)");
    return buf;
}
