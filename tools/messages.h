/*
 * messages.h — what every verb says and how it ends: the exit statuses,
 * "dasf-trace VERB: ..." messages on stderr, the usage error, and the
 * check that standard output was written.  A leaf module: no other tool
 * code.  Single-threaded, like the whole tool.
 */
#ifndef DASF_TRACE_MESSAGES_H
#define DASF_TRACE_MESSAGES_H

/* Exit statuses of every verb. */
enum {
    DT_OK = 0,    /* everything read and written */
    DT_FAIL = 1,  /* a file was damaged, missing or could not be written */
    DT_USAGE = 2, /* bad command line */
};

#define DT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* The verb being run ("cat", ...), for messages; NULL before one is chosen. */
extern const char *dt_verb;
/* "dasf-trace VERB: message" on stderr (stdout flushed first, so the two
 * interleave in order). */
void dt_err(const char *fmt, ...) DT_PRINTF(1, 2);
/* The message, then "Try 'dasf-trace VERB --help'."; returns DT_USAGE. */
int dt_usage(const char *fmt, ...) DT_PRINTF(1, 2);
/* Says "out of memory"; returns DT_FAIL. */
int dt_oom(void);
/* Flushes stdout; on a write error says so and returns DT_FAIL, else status. */
int dt_finish_stdout(int status);

#endif
