/*
 * perfetto_tracks.c — processes, threads and lanes of a Perfetto export
 * (perfetto_tracks.h; the mapping is described in perfetto.c).
 */
#include "perfetto_tracks.h"

#include "array.h"
#include "ids.h"
#include "perfetto_packets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- processes and threads -------------------------------------------------- */

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* The output id for v: the real one when free in used, else synthetic. */
static int pick_id(pf_ctx *c, dt_strmap *used, const dasf_value *v, int32_t *out, bool *synth) {
    int64_t real;
    *synth = true;
    if (dt_id_real(v, &real)) {
        char k[24];
        int n = snprintf(k, sizeof k, "%" PRId64, real);
        bool created;
        if (!dt_strmap_get(used, k, (size_t)n, &created)) return -1;
        if (created) {
            *out = (int32_t)real;
            *synth = false;
            return 0;
        }
    }
    *out = (int32_t)c->next_synth++;
    return 0;
}

void dt_pf_update_host(pf_ctx *c, const dt_input *in, const dasf_trace_event *ev) {
    if (c->have_chunk && c->file == in->index && c->chunk == ev->chunk_index) return;
    char host[64] = "";
    dasf_chunk_info ci;
    if (in->layout == DASF_LAYOUT_ARCHIVE && dasf_trace_chunk(in->trace, &ci) == 0)
        snprintf(host, sizeof host, "%s", ci.host);
    if (!c->have_chunk || c->file != in->index || strcmp(host, c->host)) {
        memcpy(c->host, host, sizeof host);
        c->host_gen++;
    }
    c->have_chunk = true;
    c->file = in->index;
    c->chunk = ev->chunk_index;
}

/* The sequence of the event's process; SIZE_MAX when out of memory. */
size_t dt_pf_seq_of(pf_ctx *c, const dasf_trace_event *ev) {
    char key[64 + DT_ID_TEXT_MAX + 2];
    size_t hl = strlen(c->host);
    memcpy(key, c->host, hl);
    key[hl] = '\t';
    dt_id_text(&ev->process_id, key + hl + 1, DT_ID_TEXT_MAX);
    size_t klen = hl + 1 + strlen(key + hl + 1);
    bool created;
    dt_strent *e = dt_strmap_get(&c->seq_keys, key, klen, &created);
    if (!e) return SIZE_MAX;
    if (!created) return e->val;
    if (dt_grow((void **)&c->seqs, &c->cap_seqs, c->n_seqs, sizeof *c->seqs)) return SIZE_MAX;
    pf_seq *q = &c->seqs[c->n_seqs];
    memset(q, 0, sizeof *q);
    q->w.id = ++c->next_seq_id;
    q->uuid = ++c->next_uuid;
    bool synth;
    if (pick_id(c, &c->pids_used, &ev->process_id, &q->pid, &synth)) return SIZE_MAX;
    q->label = dup_str(key + hl + 1);
    if (!q->label) return SIZE_MAX;
    q->show_label = synth;
    e->val = c->n_seqs++;
    dt_pf_announce_process(c, q); /* the clocks come with its first timed event */
    return e->val;
}

/* The thread of the event (in sequence si); SIZE_MAX when out of memory. */
static size_t thread_of(pf_ctx *c, size_t si, const dasf_trace_event *ev) {
    char key[24 + DT_ID_TEXT_MAX + 2];
    int kl = snprintf(key, 24, "%zu\t", si);
    dt_id_text(&ev->thread_id, key + kl, DT_ID_TEXT_MAX);
    size_t klen = (size_t)kl + strlen(key + kl);
    bool created;
    dt_strent *e = dt_strmap_get(&c->thr_keys, key, klen, &created);
    if (!e) return SIZE_MAX;
    if (!created) return e->val;
    if (dt_grow((void **)&c->thr, &c->cap_thr, c->n_thr, sizeof *c->thr)) return SIZE_MAX;
    pf_thread *t = &c->thr[c->n_thr];
    memset(t, 0, sizeof *t);
    t->seq = si;
    t->uuid = ++c->next_uuid;
    t->w.id = ++c->next_seq_id;
    t->w.default_track = t->uuid;
    bool synth;
    if (pick_id(c, &c->tids_used, &ev->thread_id, &t->tid, &synth)) return SIZE_MAX;
    t->label = dup_str(key + kl);
    if (!t->label) return SIZE_MAX;
    t->show_label = synth;
    t->lanes = calloc(1, sizeof *t->lanes);
    if (!t->lanes) return SIZE_MAX;
    t->cap_lanes = t->n_lanes = 1;
    t->lanes[0].uuid = t->uuid;
    e->val = c->n_thr++;
    dt_pf_announce_thread(c, t);
    return e->val;
}

/* Sequence and thread of ev: the last pair again when both ids are the
 * same ints from the same file and host. */
int dt_pf_lookup(pf_ctx *c, const dt_input *in, const dasf_trace_event *ev, size_t *si,
                 size_t *ti) {
    bool ints = ev->process_id.type == DASF_VAL_INT && ev->thread_id.type == DASF_VAL_INT;
    if (ints && c->cache_ok && c->cache_file == in->index && c->cache_gen == c->host_gen &&
        c->cache_pid == ev->process_id.v.i && c->cache_tid == ev->thread_id.v.i) {
        *si = c->cache_seq;
        *ti = c->cache_thr;
        return 0;
    }
    *si = dt_pf_seq_of(c, ev);
    if (*si == SIZE_MAX) return -1;
    *ti = thread_of(c, *si, ev);
    if (*ti == SIZE_MAX) return -1;
    c->cache_ok = ints;
    c->cache_file = in->index;
    c->cache_gen = c->host_gen;
    c->cache_pid = ints ? ev->process_id.v.i : 0;
    c->cache_tid = ints ? ev->thread_id.v.i : 0;
    c->cache_seq = *si;
    c->cache_thr = *ti;
    return 0;
}

/* ---- lanes: where a span nests -------------------------------------------------- */

/* Places [s, e] on lane L when it nests with the lane's spans (spans arrive
 * in end order; see the file comment).  @return true when placed. */
static bool lane_take(pf_lane *L, int64_t s, int64_t e) {
    size_t n = L->n;
    if (n && e < L->roots[n - 1].e) return false; /* ends before a written span ends */
    size_t k = n;
    while (k && L->roots[k - 1].s >= s)
        k--;                                       /* roots k..n-1 become its children */
    if (k < n && L->roots[k].s == s) return false; /* a child begins at the same ns */
    if (k && L->roots[k - 1].e > s) return false;  /* partial overlap */
    bool absorbs_lost = false;
    if (k == 0 && L->lost) {
        if (s < L->lost_first)
            absorbs_lost = true;
        else if (s < L->lost_end)
            return false; /* might straddle a forgotten span: play safe */
    }
    if (absorbs_lost) L->lost = false;
    L->n = k;
    if (L->n == L->cap) {
        if (L->cap < PF_MAX_ROOTS) {
            if (dt_grow((void **)&L->roots, &L->cap, L->n, sizeof *L->roots)) return false;
        } else { /* forget the older half, remembering the range it covered */
            size_t half = L->n / 2;
            if (!L->lost) L->lost_first = L->roots[0].s;
            L->lost = true;
            L->lost_end = L->roots[half - 1].e;
            memmove(L->roots, L->roots + half, (L->n - half) * sizeof *L->roots);
            L->n -= half;
        }
    }
    L->roots[L->n].s = s;
    L->roots[L->n].e = e;
    L->n++;
    return true;
}

/* The track uuid the span goes to (announcing a new lane when needed). */
uint64_t dt_pf_lane_for(pf_ctx *c, pf_thread *t, int64_t s, int64_t e) {
    for (size_t i = 0; i < t->n_lanes; i++)
        if (lane_take(&t->lanes[i], s, e)) return t->lanes[i].uuid;
    if (t->n_lanes >= PF_MAX_LANES) {
        c->lane_overflow++;
        return t->lanes[t->n_lanes - 1].uuid;
    }
    if (dt_grow((void **)&t->lanes, &t->cap_lanes, t->n_lanes, sizeof *t->lanes)) {
        c->pk.oom = true;
        return t->uuid;
    }
    pf_lane *L = &t->lanes[t->n_lanes++];
    memset(L, 0, sizeof *L);
    L->uuid = ++c->next_uuid;
    char name[DT_ID_TEXT_MAX + 32];
    int n = snprintf(name, sizeof name, "%s (%zu)", t->label, t->n_lanes);
    dt_pf_announce_track(c, t->w.id, L->uuid, t->uuid, name, (size_t)n, false);
    if (!lane_take(L, s, e)) c->pk.oom = true; /* an empty lane takes any span */
    return L->uuid;
}
