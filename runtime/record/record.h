/*
 * record.h — the FileDatabase's record paths with a payload (record.c; not
 * installed).
 *
 * Called on app threads by profiler.c and db.c; the plain-record fast
 * path is ring.h's.
 */
#ifndef DASF_RECORD_H
#define DASF_RECORD_H

#include "rt.h"

/* ---- record.c ------------------------------------------------------------ */
/* The file database's record paths (profiler.c and db.c call these). */
DASF_HIDDEN int dasf_filedb_record_event(dasf_filedb *db, const dasf_event *ev);
DASF_HIDDEN int dasf_filedb_record_plain(dasf_filedb *db, uint32_t name, unsigned phase,
                                         unsigned tskind, uint64_t ts, uint64_t dur);
/* Copied name + up to 8 typed args, automatic ids, one of X/i/B/E: the
 * light record path.  DASF_EINVAL means "not for this path" (bad input,
 * more args, raw msgpack args): the caller falls back to the generic path,
 * which decides. */
DASF_HIDDEN int dasf_record_named_db(dasf_filedb *db, uint64_t key, unsigned phase,
                                     unsigned scope, const char *name, double ts, double dur,
                                     const dasf_arg *args, size_t n_args);

#endif
