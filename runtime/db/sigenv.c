/*
 * sigenv.c — the signal machinery's configuration from text: signal names
 * and lists ("TERM,INT"), and the environment dasf_default_profiler() reads
 * (DASF_COMMIT_SIGNALS, DASF_SIGNAL_TIMEOUT, DASF_CRASH_HANDLER,
 * DASF_CRASH_TIMEOUT, DASF_SNAPSHOT_SIGNAL).  Split from signals.c (its
 * last section) to keep that file about the handlers.
 *
 * Threads: app threads only (profiler creation, dasf-trace record); never
 * in a signal handler.  Invariants: a bad value installs nothing and says
 * why on stderr (DASF_EINVAL).
 */
#include "signals.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- configuration from text ---------------------------------------------------- */

static int sig_by_name(const char *s, size_t n) {
    char b[16];
    if (n == 0 || n >= sizeof b) return 0;
    memcpy(b, s, n);
    b[n] = 0;
    char *end;
    long v = strtol(b, &end, 10);
    if (*end == 0) return dasf_sig_valid((int)v) ? (int)v : 0;
    const char *name = b;
    if (strncasecmp(name, "SIG", 3) == 0) name += 3;
    for (int sig = 1; sig < DASF_NSIG_MAX; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcasecmp(abbrev, name) == 0) return dasf_sig_valid(sig) ? sig : 0;
    }
    return 0;
}

int dasf_sig_parse_list(const char *s, uint64_t *set) {
    if (!s || !set) return DASF_EINVAL;
    if (!strcasecmp(s, "default") || !strcmp(s, "1")) {
        *set = DASF_SIG_DEFAULT_SET;
        return DASF_OK;
    }
    *set = 0;
    if (!*s || !strcasecmp(s, "none") || !strcmp(s, "0")) return DASF_OK;
    while (*s) {
        size_t n = strcspn(s, ", ");
        if (n) {
            int sig = sig_by_name(s, n);
            if (!sig) return DASF_EINVAL;
            *set |= UINT64_C(1) << sig;
        }
        s += n;
        s += strspn(s, ", ");
    }
    return DASF_OK;
}

/* "seconds" from the environment into *ns (unset: unchanged).  @return 0
 * or DASF_EINVAL after a message. */
static int env_seconds(const char *var, int64_t *ns) {
    const char *t = getenv(var);
    if (!t || !*t) return DASF_OK;
    char *end;
    double d = strtod(t, &end);
    if (*end || !(d >= 0) || d > 86400) {
        fprintf(stderr, "dasf-profiler: %s=%s is not seconds in [0, 86400]\n", var, t);
        return DASF_EINVAL;
    }
    *ns = (int64_t)(d * 1e9);
    return DASF_OK;
}

/* DASF_CRASH_HANDLER ("1" on, "0"/unset off) and DASF_CRASH_TIMEOUT. */
static int crash_from_env(void) {
    const char *on = getenv("DASF_CRASH_HANDLER");
    if (!on || !*on || !strcmp(on, "0")) return DASF_OK;
    if (strcmp(on, "1")) {
        fprintf(stderr, "dasf-profiler: DASF_CRASH_HANDLER=%s: expected 1 or 0\n", on);
        return DASF_EINVAL;
    }
    int64_t ns = DASF_CRASH_DEFAULT_TIMEOUT_NS;
    if (env_seconds("DASF_CRASH_TIMEOUT", &ns)) return DASF_EINVAL;
    int rc = dasf_sig_install_crash(ns);
    if (rc) fprintf(stderr, "dasf-profiler: cannot install the crash handler: %s\n",
                    dasf_strerror(rc));
    return rc;
}

/* DASF_SNAPSHOT_SIGNAL=USR2 (one name or number). */
static int snapshot_from_env(void) {
    const char *s = getenv("DASF_SNAPSHOT_SIGNAL");
    if (!s || !*s) return DASF_OK;
    int sig = sig_by_name(s, strlen(s));
    int rc = sig ? dasf_snapshot_on_signal(sig) : DASF_EINVAL;
    if (rc)
        fprintf(stderr, "dasf-profiler: DASF_SNAPSHOT_SIGNAL=%s: %s\n", s,
                sig ? dasf_strerror(rc) : "not a signal name or number (e.g. USR2)");
    return rc;
}

int dasf_sig_from_env(void) {
    int crc = crash_from_env();
    if (crc) return crc;
    int src = snapshot_from_env();
    if (src) return src;
    const char *list = getenv("DASF_COMMIT_SIGNALS");
    if (!list || !*list) return DASF_OK;
    uint64_t set;
    if (dasf_sig_parse_list(list, &set)) {
        fprintf(stderr,
                "dasf-profiler: DASF_COMMIT_SIGNALS=%s: not a list of signal names "
                "(e.g. TERM,INT,HUP,XCPU), 'default' or 'none'\n",
                list);
        return DASF_EINVAL;
    }
    int64_t ns = DASF_SIG_DEFAULT_TIMEOUT_NS;
    if (env_seconds("DASF_SIGNAL_TIMEOUT", &ns)) return DASF_EINVAL;
    for (int sig = 1; sig < DASF_NSIG_MAX; sig++) {
        if (!(set & (UINT64_C(1) << sig))) continue;
        int rc = dasf_sig_install(sig, ns);
        if (rc) {
            fprintf(stderr, "dasf-profiler: cannot catch signal %d: %s\n", sig, dasf_strerror(rc));
            return rc;
        }
    }
    return DASF_OK;
}
