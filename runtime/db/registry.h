/*
 * registry.h — the process-wide list of open FileDatabases (registry.c; not
 * installed).
 *
 * Called from open/close on any thread; registry.c also owns atexit and
 * fork.
 */
#ifndef DASF_REGISTRY_H
#define DASF_REGISTRY_H

#include "rt.h"

/* ---- registry.c ---------------------------------------------------------- */
DASF_HIDDEN void dasf_registry_add_db(dasf_filedb *db);
DASF_HIDDEN void dasf_registry_remove_db(dasf_filedb *db);
DASF_HIDDEN uint64_t dasf_registry_new_key(void);
/* Commits every open FileDatabase (signals.c's committer thread). */
DASF_HIDDEN int dasf_registry_commit_all(void);

#endif
