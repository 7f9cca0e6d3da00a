/*
 * _native.h — private to the dasf_profiler._native extension: what its files
 * share (the module globals, the FileDB handle and the type objects, the
 * packer buffer, the argument checks, the event converters).  Not installed
 * and not part of any API; every symbol here stays inside the extension
 * (_native.map exports PyInit__native only).
 *
 * Thread/GIL: everything declared here is called, and every global read or
 * written, by a Python thread holding the GIL; the module globals are set by
 * PyInit__native (single-phase init) and set_event_classes only.
 * Files: _native.c (module, globals, errors), _native_args.c (args → msgpack,
 * argument checks), _native_filedb.c (FileDB lifecycle and barriers),
 * _native_record.c (record methods, GIL hooks), _native_events.c (values and
 * events to Python), _native_reader.c (Reader).  One header for these six small
 * files on purpose (they are one extension, built and shipped together):
 * check_modules: implemented by _native_*.c
 */
#ifndef DASF_PY_NATIVE_H
#define DASF_PY_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "dasf/profiler.h"

#include <math.h>
#include <msgpack.h>
#include <string.h>

/* ---- module globals (_native.c) ------------------------------------------------- */

extern PyObject *g_classes[5]; /* X, I, B, E dataclasses, then the generic one */
extern PyObject *g_empty_tuple;
extern PyTypeObject *g_event_type; /* read_events' structseq */

enum { F_NAME, F_TIMESTAMP, F_DURATION, F_PHASE, F_SCOPE, F_PROCESS_ID, F_THREAD_ID, F_ARGS,
       F_CAT, F_ID, F_COUNT };
extern const char *const g_field_names[F_COUNT];
extern PyObject *g_field[F_COUNT]; /* interned field-name strings */
extern PyObject *g_phase_str[128]; /* one-letter phase / scope strings */

/* Maps a dasf_status onto the Python exception a user expects for it; NULL. */
PyObject *raise_status(int rc, const char *what);

/* The module's init, the extension's only exported symbol (_native.map). */
PyMODINIT_FUNC PyInit__native(void);

/* ---- args → msgpack, argument checks (_native_args.c) ----------------------------- */

typedef struct pbuf {
    char *p;
    size_t len, cap;
    char stack[512];
} pbuf;

#define PACK_MAX_DEPTH 255

void pbuf_init(pbuf *b);
void pbuf_free(pbuf *b);
int pbuf_write(void *data, const char *buf, size_t len);
/* 0, -1 (Python error set) or -2 (out of memory in the buffer). */
int pack_obj(msgpack_packer *pk, PyObject *o, int depth);
/* Packs args (a dict, or None for none) into b; 0 or -1 with an exception. */
int pack_args(pbuf *b, PyObject *args);

int get_seconds(PyObject *o, const char *what, double *out);
/* A str without NUL bytes, as UTF-8 (valid while o lives). */
const char *get_cstr(PyObject *o, const char *what);
/* process_id / thread_id / id: int (64-bit), str or None. */
int get_id(PyObject *o, const char *what, dasf_id *out);
int get_phase(PyObject *o, const char *what, int *out);
int get_scope(PyObject *o, int *out);

/* ---- FileDB (_native_filedb.c; record methods in _native_record.c) ----------------- */

typedef struct FileDB {
    PyObject_HEAD
    dasf_db *db;
    PyObject *path; /* str */
    int closed;
    long inflight; /* records, commits, stats calls between start and return */
    PyObject *weakrefs;
} FileDB;

extern PyTypeObject FileDB_Type;

/* 0 when the handle is open, else -1 with RuntimeError / ValueError set. */
int filedb_ready(FileDB *self);

PyObject *FileDB_complete(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw);
PyObject *FileDB_instant(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw);
PyObject *FileDB_begin(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw);
PyObject *FileDB_end(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw);
PyObject *FileDB_record(FileDB *self, PyObject *event);

/* The wait hooks handed to dasf_set_wait_hooks (_native_record.c). */
void gil_before_wait(void);
void gil_after_wait(void);

/* ---- reading (_native_events.c, _native_reader.c) -------------------------------- */

PyObject *str_from(const char *p, size_t n);
PyObject *event_to_dataclass(const dasf_trace_event *ev);
PyObject *event_to_tuple(const dasf_trace_event *ev);
extern PyStructSequence_Desc g_event_desc;

extern PyTypeObject Reader_Type;

#endif
