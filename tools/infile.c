/*
 * infile.c — opening a trace file with a clear message, and saying what
 * of it was damaged (infile.h).
 */
#include "infile.h"

#include "messages.h"

#include <inttypes.h>
#include <stdbool.h>
#include <sys/stat.h>

int dt_open(const char *path, dasf_trace **out) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        dt_err("%s: is a directory, not a trace file", path);
        *out = NULL;
        return DT_FAIL;
    }
    int rc = dasf_trace_open(out, path);
    if (rc == 0) return DT_OK;
    if (rc == DASF_ENOTREG)
        dt_err("%s: not a regular file (a FIFO, device or socket); refusing to read it", path);
    else if (rc == DASF_EFORMAT)
        dt_err("%s: not a dasf trace file (neither the archive nor the legacy layout)", path);
    else
        dt_err("%s: %s", path, dasf_strerror(rc));
    *out = NULL;
    return DT_FAIL;
}

int dt_report_damage(const char *path, const dasf_trace *t) {
    dasf_trace_stats st;
    dasf_trace_get_stats(t, &st);
    if (st.chunks_damaged == 0 && st.bytes_damaged == 0) return DT_OK;
    dt_err("%s: damaged: %" PRIu64 " %s (%" PRIu64 " bytes) skipped; first at byte %" PRIu64 "%s%s",
           path, st.chunks_damaged, st.layout == DASF_LAYOUT_LEGACY ? "record(s)" : "chunk(s)",
           st.bytes_damaged, st.first_damage_offset, st.first_damage[0] ? ": " : "",
           st.first_damage);
    return DT_FAIL;
}

int dt_first_time(char *const *files, int n, int64_t *start) {
    bool any = false;
    for (int i = 0; i < n; i++) {
        dasf_trace *t;
        if (dasf_trace_open(&t, files[i]) != 0) continue; /* the verb's pass says why */
        const dasf_trace_event *ev;
        while (dasf_trace_next(t, &ev) > 0) {
            if (ev->phase == DASF_PHASE_METADATA) continue;
            if (!any || ev->timestamp_ns < *start) *start = ev->timestamp_ns;
            any = true;
        }
        dasf_trace_close(t);
    }
    return any ? 0 : -1;
}
