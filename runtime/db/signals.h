/*
 * signals.h — commit-on-signal, the internal interface (not installed).
 *
 * The public entry is dasf_commit_on_signals() (profiler.h).  This header is
 * for code that shares the machinery: the LD_PRELOAD library (which routes
 * the program's sigaction()/signal() calls here so the program keeps its
 * own handlers), and any later handler that must commit before letting a
 * signal take its course (a crash handler for SIGSEGV etc. chains the same
 * way: dasf_sig_commit_bounded(), then dasf_sig_chain(); it is
 * dasf_sig_install_crash below).
 *
 * Design (async-signal-safe): the handler never calls a non-AS-safe
 * function.  It bumps a futex word and wakes a dedicated committer thread
 * (started at install time and again in fork children), which runs the
 * ordinary commit of every open FileDatabase; the handler waits for the
 * answer on a second futex word with a deadline (clock_gettime + FUTEX_WAIT,
 * both AS-safe).  Then the program's own disposition runs as if the library
 * were not there: its handler is called with the original siginfo, or the
 * default action is restored and the signal re-raised (same exit status,
 * same core dump).
 */
#ifndef DASF_SIGNALS_H
#define DASF_SIGNALS_H

#include "internal.h"

#include <signal.h>

/* The sigaction the machinery calls to change the kernel's disposition.
 * Defaults to the C library's; the preload, which interposes sigaction(),
 * sets it to the next definition (dlsym RTLD_NEXT) before installing. */
typedef int (*dasf_sigaction_fn)(int, const struct sigaction *, struct sigaction *);
DASF_HIDDEN void dasf_sig_set_real_sigaction(dasf_sigaction_fn fn);

/* Installs the commit handler on sig (1..63) with timeout_ns.  A signal the
 * process ignores (SIG_IGN, e.g. SIGHUP under nohup) is left alone.
 * Idempotent.  @return 0 or a dasf_status. */
DASF_HIDDEN int dasf_sig_install(int sig, int64_t timeout_ns);
/* 1 when sig currently runs the commit handler. */
DASF_HIDDEN int dasf_sig_managed(int sig);

/* The program's sigaction() on a managed signal: records the program's
 * disposition (returned in old as the program set it) and keeps ours in
 * the kernel, except SIG_IGN, which goes to the kernel as is (so an exec'd
 * child inherits it).  @return 1 handled, 0 not a managed signal (call the
 * real sigaction), -1 with errno set. */
DASF_HIDDEN int dasf_sig_app_sigaction(int sig, const struct sigaction *act,
                                       struct sigaction *old);

/* Async-signal-safe: asks the committer thread to commit every open
 * FileDatabase and waits at most timeout_ns.  @return DASF_SIG_COMMITTED
 * (the committer answered), DASF_SIG_NO_COMMITTER (none in this process:
 * nothing was asked) or DASF_SIG_TIMED_OUT. */
enum { DASF_SIG_COMMITTED = 0, DASF_SIG_NO_COMMITTER = -1, DASF_SIG_TIMED_OUT = -2 };
DASF_HIDDEN int dasf_sig_commit_bounded(int64_t timeout_ns);

/* Async-signal-safe: asks the committer thread for the same as above
 * without waiting (snapshot signals).  @return 0, -1 no committer. */
DASF_HIDDEN int dasf_sig_request_async(void);

/* Signals 1..DASF_NSIG_MAX-1 (a set is one uint64_t).  1 when sig is one
 * of them and neither SIGKILL nor SIGSTOP. */
#define DASF_NSIG_MAX 64
DASF_HIDDEN int dasf_sig_valid(int sig);

/* Async-signal-safe: runs the program's disposition of sig as if we were
 * not there (its handler; or the default action: restore SIG_DFL, raise,
 * unblock — the process dies here unless the action is stop/ignore, in
 * which case our handler is put back and this returns). */
DASF_HIDDEN void dasf_sig_chain(int sig, siginfo_t *si, void *uc);

/* The crash handler (dasf_commit_on_crash): on SIGSEGV, SIGBUS, SIGABRT,
 * SIGFPE, SIGILL, crash_actions() (signals.c: the one place for what the
 * library does on a crash — commit with a deadline, bounded) and then the
 * program's disposition, as above.  Idempotent.  @return 0 or a dasf_status. */
DASF_HIDDEN int dasf_sig_install_crash(int64_t timeout_ns);

/* Parses "TERM,INT,HUP,XCPU" / "SIGTERM 15" / "default" / "none" into a set
 * (bit sig).  @return 0 or DASF_EINVAL. */
DASF_HIDDEN int dasf_sig_parse_list(const char *s, uint64_t *set);

/* Reads DASF_COMMIT_SIGNALS and DASF_SIGNAL_TIMEOUT (seconds) and installs
 * (called by dasf_default_profiler()).  @return 0, or DASF_EINVAL after a
 * message on stderr. */
DASF_HIDDEN int dasf_sig_from_env(void);

#define DASF_SIG_DEFAULT_SET                                                                  \
    ((UINT64_C(1) << SIGTERM) | (UINT64_C(1) << SIGINT) | (UINT64_C(1) << SIGHUP) |           \
     (UINT64_C(1) << SIGXCPU))
#define DASF_SIG_DEFAULT_TIMEOUT_NS INT64_C(10000000000) /* 10 s */
/* A crashing program waits at most this for its commit (the shared rings
 * keep the rest): DASF_CRASH_TIMEOUT, dasf_commit_on_crash(). */
#define DASF_CRASH_DEFAULT_TIMEOUT_NS INT64_C(2000000000) /* 2 s */

#endif
