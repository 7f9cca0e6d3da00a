/*
 * _native_filedb.c — FileDB, the FileDatabase handle: its lifecycle (options
 * parsed into dasf_file_db_options, open, close at most once, dealloc), the
 * calls that wait on the C side (commit, snapshot, close, stats) and the type
 * object.  The record methods are in _native_record.c.
 *
 * Thread: the calling Python thread with the GIL held; open, commit, snapshot,
 * stats and close run with the GIL released (Py_BEGIN_ALLOW_THREADS), so
 * another Python thread may run meanwhile.  Invariants: `inflight` counts the
 * records, commits, snapshots and stats calls between their start and return;
 * close sets `closed` first (no new call starts) and then waits, the GIL
 * released, until inflight is 0 before dasf_db_close — so the C database is
 * closed once and never under a call in flight.
 */
#include "_native.h"

#include <unistd.h>

/* ---- FileDB: the FileDatabase handle --------------------------------------------- */

static int FileDB_init(FileDB *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"database_file",   "commit_threshold", "remove_old_output_file",
                             "commit_on_close", "lock_timeout",     "default_byte_size",
                             "flush",           "compression_level", "overflow",
                             "ring_capacity",   "flush_interval",   "max_pending_bytes",
                             "compression_workers", NULL};
    PyObject *path;
    long long threshold = 5000;
    int remove_old = 0, commit_on_close = 1, flush = 1, level = 0;
    double lock_timeout = 30.0, flush_interval = 1.0;
    int byte_size = 8, workers = DASF_COMPRESSION_WORKERS_DEFAULT;
    const char *overflow = "block";
    Py_ssize_t ring = (Py_ssize_t)DASF_DEFAULT_RING_CAPACITY, pending = 64 << 20;
    if (self->db) {
        PyErr_SetString(PyExc_RuntimeError, "FileDB already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kw, "U|Lppdipisndni", kwlist, &path, &threshold,
                                     &remove_old, &commit_on_close, &lock_timeout, &byte_size,
                                     &flush, &level, &overflow, &ring, &flush_interval, &pending,
                                     &workers))
        return -1;
    const char *cpath = get_cstr(path, "database_file");
    if (!cpath) return -1;
    dasf_file_db_options o = dasf_file_db_options_default();
    o.database_file = cpath;
    o.commit_threshold = threshold;
    o.remove_old_output_file = remove_old;
    o.commit_on_close = commit_on_close;
    o.lock_timeout = lock_timeout;
    o.default_byte_size = byte_size;
    o.flush = flush;
    /* The Python side resolves None by file name: a negative level here is
     * a caller's bad value, not the C API's DASF_COMPRESSION_AUTO. */
    o.compression_level = level < 0 ? -2 : level;
    if (strcmp(overflow, "block") == 0) {
        o.overflow = DASF_OVERFLOW_BLOCK;
    } else if (strcmp(overflow, "drop") == 0) {
        o.overflow = DASF_OVERFLOW_DROP;
    } else if (strcmp(overflow, "overwrite") == 0) {
        o.overflow = DASF_OVERFLOW_OVERWRITE;
    } else {
        PyErr_Format(PyExc_ValueError, "overflow must be 'block', 'drop' or 'overwrite', got '%s'",
                     overflow);
        return -1;
    }
    if (ring < 0 || pending <= 0) {
        PyErr_SetString(PyExc_ValueError, "ring_capacity and max_pending_bytes must be positive");
        return -1;
    }
    o.ring_capacity = (size_t)ring;
    o.flush_interval = flush_interval;
    o.max_pending_bytes = (size_t)pending;
    o.compression_workers = workers;
    dasf_db *db = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = dasf_file_db_open(&db, cpath, &o);
    Py_END_ALLOW_THREADS
    if (rc) {
        raise_status(rc, "FileDatabase");
        if (rc == DASF_EINVAL)
            PyErr_Format(PyExc_ValueError,
                         "FileDatabase(%R): invalid option (commit_threshold >= 1, "
                         "lock_timeout >= 0, default_byte_size 1..8, compression_level 0..19, "
                         "ring_capacity a power of two in 64 KiB..1 GiB, "
                         "0 < flush_interval <= 3600, compression_workers -1 (auto) or 0..%d, "
                         "overflow 'overwrite' only with the archive layout: not .msgpack)",
                         path, DASF_MAX_COMPRESSION_WORKERS);
        return -1;
    }
    self->db = db;
    Py_INCREF(path);
    self->path = path;
    return 0;
}

/* Closes the C database (commit_on_close honoured) once no record, commit or
 * stats call is in flight on another thread (they may have released the GIL);
 * the GIL is released while it waits and while it closes. */
static int filedb_close(FileDB *self) {
    if (self->closed || !self->db) return 0;
    self->closed = 1;
    while (self->inflight > 0) {
        Py_BEGIN_ALLOW_THREADS
        usleep(1000);
        Py_END_ALLOW_THREADS
    }
    dasf_db *db = self->db;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = dasf_db_close(db);
    Py_END_ALLOW_THREADS
    return rc;
}

static void FileDB_dealloc(FileDB *self) {
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) PyObject_ClearWeakRefs((PyObject *)self);
    if (!self->closed && self->db) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        int rc = filedb_close(self);
        if (rc) {
            raise_status(rc, "FileDatabase close (at garbage collection)");
            PyErr_WriteUnraisable((PyObject *)self);
        }
        PyErr_Restore(et, ev, tb);
    }
    Py_CLEAR(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int FileDB_traverse(FileDB *self, visitproc visit, void *arg) {
    Py_VISIT(self->path);
    return 0;
}

int filedb_ready(FileDB *self) {
    if (!self->db) {
        PyErr_SetString(PyExc_RuntimeError, "FileDB not initialised");
        return -1;
    }
    if (self->closed) {
        PyErr_Format(PyExc_ValueError, "record on a closed FileDatabase (%U)", self->path);
        return -1;
    }
    return 0;
}

/* commit() and snapshot(): the call without the GIL, close waiting for it. */
static PyObject *filedb_barrier(FileDB *self, int (*fn)(dasf_db *), const char *what) {
    if (!self->db) return raise_status(DASF_EINVAL, what);
    if (self->closed) return raise_status(DASF_ECLOSED, what);
    dasf_db *db = self->db;
    int rc;
    self->inflight++; /* close waits for it */
    Py_BEGIN_ALLOW_THREADS
    rc = fn(db);
    Py_END_ALLOW_THREADS
    self->inflight--;
    if (rc) return raise_status(rc, what);
    Py_RETURN_NONE;
}

static PyObject *FileDB_commit(FileDB *self, PyObject *unused) {
    return filedb_barrier(self, dasf_db_commit, "commit");
}

static PyObject *FileDB_snapshot(FileDB *self, PyObject *unused) {
    return filedb_barrier(self, dasf_db_snapshot, "snapshot");
}

static PyObject *FileDB_close(FileDB *self, PyObject *unused) {
    int rc = filedb_close(self);
    if (rc) return raise_status(rc, "close");
    Py_RETURN_NONE;
}

static PyObject *FileDB_stats(FileDB *self, PyObject *unused) {
    if (!self->db || self->closed) return raise_status(DASF_ECLOSED, "stats");
    dasf_db_stats st;
    dasf_db *db = self->db;
    int rc;
    self->inflight++;
    Py_BEGIN_ALLOW_THREADS
    rc = dasf_db_get_stats(db, &st);
    Py_END_ALLOW_THREADS
    self->inflight--;
    if (rc) return raise_status(rc, "stats");
    return Py_BuildValue("{sKsKsKsKsKsKsKsi}", "recorded", (unsigned long long)st.recorded,
                         "dropped", (unsigned long long)st.dropped, "written",
                         (unsigned long long)st.written, "chunks_written",
                         (unsigned long long)st.chunks_written, "bytes_written",
                         (unsigned long long)st.bytes_written, "pending_bytes",
                         (unsigned long long)st.pending_bytes, "flushes",
                         (unsigned long long)st.flushes, "last_error", st.last_error);
}

static PyObject *FileDB_get_closed(FileDB *self, void *unused) {
    return PyBool_FromLong(self->closed);
}

static PyMethodDef FileDB_methods[] = {
    {"record_complete_event", (PyCFunction)(void (*)(void))FileDB_complete,
     METH_FASTCALL | METH_KEYWORDS, "record_complete_event(name, timestamp, duration, **kwargs)"},
    {"record_instant_event", (PyCFunction)(void (*)(void))FileDB_instant,
     METH_FASTCALL | METH_KEYWORDS, "record_instant_event(name, timestamp, **kwargs)"},
    {"record_duration_begin_event", (PyCFunction)(void (*)(void))FileDB_begin,
     METH_FASTCALL | METH_KEYWORDS, "record_duration_begin_event(name, timestamp, **kwargs)"},
    {"record_duration_end_event", (PyCFunction)(void (*)(void))FileDB_end,
     METH_FASTCALL | METH_KEYWORDS, "record_duration_end_event(name, timestamp, **kwargs)"},
    {"record", (PyCFunction)FileDB_record, METH_O, "record(event): records an event object"},
    {"commit", (PyCFunction)FileDB_commit, METH_NOARGS, "commit(): every event so far to disk"},
    {"snapshot", (PyCFunction)FileDB_snapshot, METH_NOARGS,
     "snapshot(): overflow='overwrite': each thread's window to disk, once"},
    {"close", (PyCFunction)FileDB_close, METH_NOARGS, "close(): commit (commit_on_close), stop"},
    {"stats", (PyCFunction)FileDB_stats, METH_NOARGS, "stats(): the database's counters"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef FileDB_getset[] = {
    {"closed", (getter)FileDB_get_closed, NULL, "True once closed", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject FileDB_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dasf_profiler._native.FileDB",
    .tp_basicsize = sizeof(FileDB),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A FileDatabase of the C runtime (use dasf_profiler.profiler.FileDatabase).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)FileDB_init,
    .tp_dealloc = (destructor)FileDB_dealloc,
    .tp_traverse = (traverseproc)FileDB_traverse,
    .tp_methods = FileDB_methods,
    .tp_getset = FileDB_getset,
    .tp_weaklistoffset = offsetof(FileDB, weakrefs),
};
