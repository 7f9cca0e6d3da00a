/* sigprog.c — a program that links the library and asks for commit-on-signal
 * through the environment only (tests/test_signals.c starts it with
 * DASF_TRACE_FILE and DASF_COMMIT_SIGNALS set): records N events into the
 * default profiler, never commits, then sends itself SIGTERM.  Without the
 * commit-on-signal path none of the events would reach the file. */
#include "dasf/profiler.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100;
    dasf_profiler *p = dasf_default_profiler();
    if (!p) return 10;
    dasf_name h = dasf_intern("work");
    for (long i = 0; i < n; i++)
        if (dasf_record_complete_h(p, h, (double)i * 1e-6, 1e-7)) return 11;
    kill(getpid(), SIGTERM);
    /* Not reached: SIGTERM's default action ends the process (under
     * ThreadSanitizer, which defers signals to its next intercepted call,
     * it ends in this sleep). */
    sleep(5);
    return 12;
}
