/* helpers.h — small utilities shared by the Criterion tests (not the library). */
#ifndef DASF_TEST_HELPERS_H
#define DASF_TEST_HELPERS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <dasf/profiler.h>

/* SANITIZED: 1 in an ASan or TSan build (gcc or clang), where sanitizers
 * report some crashes and exit(1) instead, and need their own limits. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* A fresh private directory under $TMPDIR (or /tmp); never NULL (aborts).
 * Removed with its contents when the process that made it exits, unless
 * DASF_KEEP_TEST_FILES is set.  The string belongs to the helpers. */
char *th_tmpdir(void);
/* name in a temp dir private to this process (made on first use); the
 * string belongs to the helpers (freed at exit). */
const char *th_tmp_file(const char *name);
/* dir + "/" + name; the string belongs to the helpers (freed at exit). */
char *th_path(const char *dir, const char *name);
/* Runs a shell command; returns its exit status (or -1).  When out is not
 * NULL, *out receives its stdout (malloc'ed, NUL-terminated). */
int th_run(const char *cmd, char **out);
/* Runs "dasf-trace ARGS" (ARGS from fmt) in dir; stdout to *out, stderr to
 * *err (either may be NULL; malloc'ed, NUL-terminated).  Returns the exit
 * status. */
#include <stdarg.h>
int th_cli(const char *dir, char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int th_cliv(const char *dir, char **out, char **err, const char *fmt, va_list ap);
/* Sorts the lines of text in place (each ends with '\n'; a last line
 * without one stays last): two outputs hold the same lines, in any order,
 * when their sorted texts are equal. */
void th_sort_lines(char *text);
/* Number of events the reader returns for path (negative dasf_status on error). */
long th_count_events(const char *path);
/* Reads a whole file (malloc'ed); *len set; NULL on error. */
uint8_t *th_read_file(const char *path, size_t *len);
/* Writes a whole file; 0 on success. */
int th_write_file(const char *path, const void *p, size_t n);
/* The dasf-trace binary (from $DASF_TRACE_BIN), or NULL. */
const char *th_dasf_trace(void);
/* Starts $DASF_TEST_WRITER (tests/writer_proc.c) with the given
 * arguments (NULL-terminated), in the current environment; returns its pid,
 * or -1 (message on stderr). */
#include <sys/types.h>
pid_t th_spawn_writer(const char *const *args);
/* The writer in its "crash PATH HOW N" mode (tests/writer_proc.c), its
 * stdout on a pipe: it reports its recorded count after each batch. */
#include <stdio.h>
typedef struct th_child {
    pid_t pid; /* -1: could not be started (message on stderr) */
    FILE *out; /* its stdout */
} th_child;
th_child th_start_crash_writer(const char *trace, const char *how, const char *n);
/* Reads reports until `reports` were read (0: until EOF); the last count. */
long th_read_reports(th_child *c, int reports);
/* waitpid, EINTR retried; the status. */
int th_wait_status(pid_t pid);
/* What a trace file holds of such a writer's events (seq 0, 1, ...: "p"
 * events by timestamp_ns, "a" events by their arg seq): below `reported`
 * the seqs seen 0 times (missing, the first in first_missing), seqs seen
 * more than once (dup), other events, damaged regions, the reader's
 * status (0: read to the end). */
typedef struct th_seq_check {
    long missing, first_missing, dup, other;
    uint64_t damaged;
    int read_rc;
} th_seq_check;
th_seq_check th_check_seqs(const char *trace, long reported);
/* A recording stream: n complete events named "t<k>" with arg seq = 0..n-1
 * and increasing timestamps, through dasf_record_complete_args. */
typedef struct th_job {
    struct dasf_profiler *p;
    int k;      /* stream number: name "t<k>" */
    long n;     /* events */
    long ok;    /* accepted */
    long drop;  /* DASF_EDROPPED */
    long other; /* any other error (last one in last_error) */
    int last_error;
    int started; /* set (release) once the first event is recorded */
} th_job;
/* Records j's stream (a pthread start routine too); returns NULL. */
void *th_record_job(void *j);
/* Debian's python3 with python3-msgpack. */
#define TH_PYTHON "/usr/bin/python3"

/* Appends a text form of v to the NUL-terminated string out (cap bytes in
 * all; truncated when full): a type letter and the value, each followed by
 * ',', maps and arrays flattened.  Equal values give equal texts, so two
 * read-back events can be compared as strings. */
void th_dump_value(char *out, size_t cap, const dasf_value *v);

/* dasf_value constructors for building reader-side events by hand. */
static inline dasf_value th_v_int(int64_t i) {
    dasf_value v = {.type = DASF_VAL_INT};
    v.v.i = i;
    return v;
}
static inline dasf_value th_v_str(const char *s) {
    dasf_value v = {.type = DASF_VAL_STR};
    v.v.str.ptr = s;
    v.v.str.len = (uint32_t)strlen(s);
    return v;
}
static inline dasf_value th_v_nil(void) {
    dasf_value v = {.type = DASF_VAL_NIL};
    return v;
}
static inline dasf_value th_v_map(dasf_kv *kv, uint32_t n) {
    dasf_value v = {.type = DASF_VAL_MAP};
    v.v.map.items = kv;
    v.v.map.n = n;
    return v;
}

#endif
