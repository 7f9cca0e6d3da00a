/*
 * messages.c — the tool's messages on stderr and the final stdout check
 * (messages.h).
 */
#include "messages.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *dt_verb = NULL;

/* "dasf-trace" or "dasf-trace VERB" (messages and the --help hint). */
static void say_prog(void) {
    fprintf(stderr, "dasf-trace%s%s", dt_verb ? " " : "", dt_verb ? dt_verb : "");
}

void dt_err(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    say_prog();
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int dt_usage(const char *fmt, ...) {
    va_list ap;
    say_prog();
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '", stderr);
    say_prog();
    fputs(" --help'.\n", stderr);
    return DT_USAGE;
}

int dt_oom(void) {
    dt_err("out of memory");
    return DT_FAIL;
}

int dt_finish_stdout(int status) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        dt_err("writing the output failed: %s", strerror(errno));
        return DT_FAIL;
    }
    return status;
}
