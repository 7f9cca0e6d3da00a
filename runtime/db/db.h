/*
 * db.h — the built-in FileDatabase behind a dasf_db handle (db.c; not
 * installed).
 *
 * Called on app threads (profiler.c, the preload).
 */
#ifndef DASF_DB_H
#define DASF_DB_H

#include "rt.h"

/* ---- db.c ------------------------------------------------------------ */
/* 0 when path's directory exists and path can be created or written
 * there; else DASF_ENOENT (no such directory) or DASF_EIO, with the errno
 * in *err (and errno). */
DASF_HIDDEN int dasf_trace_path_writable(const char *path, int *err);
/* The FileDatabase of a handle, or NULL for a user database. */
DASF_HIDDEN dasf_filedb *dasf_db_filedb(dasf_db *db);

#endif
