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
/* The caller's options (NULL: the defaults) as this library's struct:
 * fields beyond the caller's struct_size keep their defaults.
 * @return 0, DASF_EINVAL (struct_size smaller than the first published
 * struct: not initialised by dasf_file_db_options_init/_default) or
 * DASF_ENOTSUP (a later version's field this library does not know is set). */
DASF_HIDDEN int dasf_file_db_options_load(dasf_file_db_options *dst,
                                          const dasf_file_db_options *src);
/* What a FileDatabase or writer opens: the options loaded as above, *path
 * NULL replaced by their database_file, compression_level resolved by the
 * name (dasf_layout_level).  @return 0, the load's status, or DASF_EINVAL
 * (no path, an empty one). */
DASF_HIDDEN int dasf_file_db_target(dasf_file_db_options *dst, const dasf_file_db_options *src,
                                    const char **path);

#endif
