/*
 * _native.c — the CPython extension behind dasf_profiler: the record path,
 * the reader, and the interpreter-lock hooks, over the library's public API
 * (include/dasf/profiler.h) only.
 *
 * Runs on the calling Python thread with the GIL held, except where the C
 * side may wait: commit and close release it, and a record that has to wait
 * for ring space (BLOCK policy) releases it through dasf_set_wait_hooks().
 * Record path: the Python call's arguments are checked and turned into one
 * dasf_event (args as the runtime's typed list; nested values packed with
 * msgpack-c's packer, on the stack when small) and handed to dasf_db_record,
 * which copies it into this thread's ring — no dataclass, no Python allocation.
 * Invariants: a FileDB is closed at most once and never while one of its
 * records is in flight (close waits for them); every error is a Python
 * exception, never a crash; strings handed to the C side stay referenced
 * by the caller for the whole call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "dasf/profiler.h"

#include <math.h>
#include <msgpack.h>
#include <string.h>
#include <unistd.h>

/* ---- module globals (single-phase init; the GIL guards them) ------------------- */

static PyObject *g_classes[5]; /* X, I, B, E dataclasses, then the generic one */
static PyObject *g_empty_tuple;
static PyTypeObject *g_event_type; /* read_events' structseq */

enum { F_NAME, F_TIMESTAMP, F_DURATION, F_PHASE, F_SCOPE, F_PROCESS_ID, F_THREAD_ID, F_ARGS,
       F_CAT, F_ID, F_COUNT };
static const char *const g_field_names[F_COUNT] = {
    "name", "timestamp", "duration", "phase", "scope", "process_id", "thread_id", "args",
    "cat", "id"};
static PyObject *g_field[F_COUNT]; /* interned field-name strings */
static PyObject *g_phase_str[128]; /* one-letter phase / scope strings */

/* ---- errors -------------------------------------------------------------------- */

/* Maps a dasf_status onto the Python exception a user expects for it. */
static PyObject *raise_status(int rc, const char *what) {
    const char *msg = dasf_strerror(rc);
    switch (rc) {
    case DASF_ENOMEM:
        return PyErr_NoMemory();
    case DASF_ENOENT:
        PyErr_Format(PyExc_FileNotFoundError, "%s: %s", what, msg);
        break;
    case DASF_ELOCK_TIMEOUT:
        PyErr_Format(PyExc_TimeoutError, "%s: %s", what, msg);
        break;
    case DASF_EIO:
    case DASF_ENOSPC:
        PyErr_Format(PyExc_OSError, "%s: %s", what, msg);
        break;
    case DASF_ENOTSUP:
        PyErr_Format(PyExc_NotImplementedError, "%s: %s", what, msg);
        break;
    case DASF_ECLOSED:
        PyErr_Format(PyExc_ValueError, "%s: the database is closed", what);
        break;
    default: /* EINVAL, ECORRUPT, EFORMAT */
        PyErr_Format(PyExc_ValueError, "%s: %s", what, msg);
        break;
    }
    return NULL;
}

/* ---- the interpreter lock around a blocked record -------------------------------- */

/* Set while this thread is inside dasf_db_record on behalf of Python (it then
 * holds the GIL); other threads of the process (pure C) never touch the GIL. */
static __thread int t_in_record;
static __thread PyThreadState *t_released;

static void gil_before_wait(void) {
    if (t_in_record && !t_released) t_released = PyEval_SaveThread();
}

static void gil_after_wait(void) {
    PyThreadState *ts = t_released;
    if (ts) {
        t_released = NULL;
        PyEval_RestoreThread(ts);
    }
}

/* ---- args → msgpack (nested values; the whole map when typed args cannot) ----- */

typedef struct pbuf {
    char *p;
    size_t len, cap;
    char stack[512];
} pbuf;

static void pbuf_init(pbuf *b) {
    b->p = b->stack;
    b->len = 0;
    b->cap = sizeof b->stack;
}

static void pbuf_free(pbuf *b) {
    if (b->p != b->stack) PyMem_Free(b->p);
}

static int pbuf_write(void *data, const char *buf, size_t len) {
    pbuf *b = data;
    if (b->len + len > b->cap) {
        size_t cap = b->cap * 2;
        while (cap < b->len + len) cap *= 2;
        char *n = PyMem_Malloc(cap);
        if (!n) return -1;
        memcpy(n, b->p, b->len);
        pbuf_free(b);
        b->p = n;
        b->cap = cap;
    }
    memcpy(b->p + b->len, buf, len);
    b->len += len;
    return 0;
}

#define PACK_MAX_DEPTH 255

static int pack_obj(msgpack_packer *pk, PyObject *o, int depth);

static int pack_str(msgpack_packer *pk, PyObject *o) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (!s) return -1;
    if ((size_t)n > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "string too long for msgpack");
        return -1;
    }
    return msgpack_pack_str(pk, (size_t)n) || msgpack_pack_str_body(pk, s, (size_t)n) ? -2 : 0;
}

static int pack_int(msgpack_packer *pk, PyObject *o) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(o);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_SetString(PyExc_OverflowError, "args: int exceeds the 64-bit range of msgpack");
            return -1;
        }
        return msgpack_pack_uint64(pk, u) ? -2 : 0;
    }
    if (overflow < 0) {
        PyErr_SetString(PyExc_OverflowError, "args: int exceeds the 64-bit range of msgpack");
        return -1;
    }
    if (v == -1 && PyErr_Occurred()) return -1;
    return msgpack_pack_int64(pk, v) ? -2 : 0;
}

static int pack_seq(msgpack_packer *pk, PyObject *o, int depth) {
    PyObject *fast = PySequence_Fast(o, "args: not a sequence");
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    int rc = msgpack_pack_array(pk, (size_t)n) ? -2 : 0;
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        Py_INCREF(item);
        rc = pack_obj(pk, item, depth + 1);
        Py_DECREF(item);
    }
    Py_DECREF(fast);
    return rc;
}

/* A dict as a msgpack map with str keys (ormsgpack's rule). */
static int pack_dict(msgpack_packer *pk, PyObject *d, int depth) {
    Py_ssize_t n = PyDict_GET_SIZE(d), pos = 0, seen = 0;
    PyObject *k, *v;
    if (msgpack_pack_map(pk, (size_t)n)) return -2;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (!PyUnicode_Check(k)) {
            PyErr_Format(PyExc_TypeError, "args: dict keys must be str, not %.100s",
                         Py_TYPE(k)->tp_name);
            return -1;
        }
        Py_INCREF(k);
        Py_INCREF(v);
        int rc = pack_str(pk, k);
        if (rc == 0) rc = pack_obj(pk, v, depth + 1);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc) return rc;
        seen++;
    }
    if (seen != n || PyDict_GET_SIZE(d) != n) {
        PyErr_SetString(PyExc_RuntimeError, "args: dictionary changed size while packing");
        return -1;
    }
    return 0;
}

/* 0, -1 (Python error set) or -2 (out of memory in the buffer). */
static int pack_obj(msgpack_packer *pk, PyObject *o, int depth) {
    if (depth > PACK_MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "args: nested deeper than 255 levels");
        return -1;
    }
    if (PyUnicode_Check(o)) return pack_str(pk, o);
    if (PyFloat_Check(o)) return msgpack_pack_double(pk, PyFloat_AS_DOUBLE(o)) ? -2 : 0;
    if (PyBool_Check(o)) return (o == Py_True ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) ? -2 : 0;
    if (PyLong_Check(o)) return pack_int(pk, o);
    if (o == Py_None) return msgpack_pack_nil(pk) ? -2 : 0;
    if (PyDict_Check(o)) return pack_dict(pk, o, depth);
    if (PyList_Check(o) || PyTuple_Check(o)) return pack_seq(pk, o, depth);
    if (PyBytes_Check(o)) {
        size_t n = (size_t)PyBytes_GET_SIZE(o);
        return msgpack_pack_bin(pk, n) || msgpack_pack_bin_body(pk, PyBytes_AS_STRING(o), n) ? -2 : 0;
    }
    if (PyByteArray_Check(o) || PyMemoryView_Check(o)) {
        PyObject *b = PyBytes_FromObject(o);
        if (!b) return -1;
        int rc = pack_obj(pk, b, depth);
        Py_DECREF(b);
        return rc;
    }
    if (strcmp(Py_TYPE(o)->tp_name, "numpy.bool_") == 0) { /* before its __index__ */
        int t = PyObject_IsTrue(o);
        if (t < 0) return -1;
        return (t ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) ? -2 : 0;
    }
    if (PyIndex_Check(o)) { /* numpy integers and other int-like scalars */
        PyObject *i = PyNumber_Index(o);
        if (!i) return -1;
        int rc = pack_int(pk, i);
        Py_DECREF(i);
        return rc;
    }
    if (Py_TYPE(o)->tp_as_number && Py_TYPE(o)->tp_as_number->nb_float) { /* numpy floats */
        double d = PyFloat_AsDouble(o);
        if (d == -1.0 && PyErr_Occurred()) return -1;
        return msgpack_pack_double(pk, d) ? -2 : 0;
    }
    PyErr_Format(PyExc_TypeError, "args: a %.100s value cannot be recorded (msgpack types only)",
                 Py_TYPE(o)->tp_name);
    return -1;
}

/* Packs args (a dict, or None for none) into b; 0 or -1 with an exception. */
static int pack_args(pbuf *b, PyObject *args) {
    if (!args || args == Py_None) return 0;
    if (!PyDict_Check(args)) {
        PyErr_Format(PyExc_TypeError, "args must be a dict, not %.100s", Py_TYPE(args)->tp_name);
        return -1;
    }
    if (PyDict_GET_SIZE(args) == 0) return 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, pbuf_write);
    int rc = pack_dict(&pk, args, 0);
    if (rc == -2) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    return rc;
}

/* ---- argument checks ------------------------------------------------------------ */

static int get_seconds(PyObject *o, const char *what, double *out) {
    double d;
    if (PyFloat_CheckExact(o)) {
        d = PyFloat_AS_DOUBLE(o);
    } else {
        if (PyUnicode_Check(o) || PyBytes_Check(o) || o == Py_None) {
            PyErr_Format(PyExc_TypeError, "%s must be a number of seconds, not %.100s", what,
                         Py_TYPE(o)->tp_name);
            return -1;
        }
        d = PyFloat_AsDouble(o);
        if (d == -1.0 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "%s must be a number of seconds, not %.100s", what,
                             Py_TYPE(o)->tp_name);
            }
            return -1;
        }
    }
    if (!isfinite(d)) {
        PyErr_Format(PyExc_ValueError, "%s must be finite, got %R", what, o);
        return -1;
    }
    *out = d;
    return 0;
}

/* A str without NUL bytes, as UTF-8 (valid while o lives). */
static const char *get_cstr(PyObject *o, const char *what) {
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(o)->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s && (Py_ssize_t)strlen(s) != n) {
        PyErr_Format(PyExc_ValueError, "%s must not contain NUL characters", what);
        return NULL;
    }
    return s;
}

/* process_id / thread_id / id: int (64-bit), str or None. */
static int get_id(PyObject *o, const char *what, dasf_id *out) {
    if (o == Py_None) {
        *out = dasf_id_nil();
        return 0;
    }
    if (PyUnicode_Check(o)) {
        const char *s = get_cstr(o, what);
        if (!s) return -1;
        *out = dasf_id_str(s);
        return 0;
    }
    if (PyLong_Check(o) && !PyBool_Check(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow) {
            PyErr_Format(PyExc_OverflowError, "%s does not fit in 64 bits", what);
            return -1;
        }
        if (v == -1 && PyErr_Occurred()) return -1;
        *out = dasf_id_int(v);
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s must be int, str or None, not %.100s", what,
                 Py_TYPE(o)->tp_name);
    return -1;
}

static int get_phase(PyObject *o, const char *what, int *out) {
    if (PyUnicode_Check(o) && PyUnicode_GET_LENGTH(o) == 1) {
        Py_UCS4 c = PyUnicode_READ_CHAR(o, 0);
        if (c < 128 && dasf_phase_valid((int)c)) {
            *out = (int)c;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "%s must be one of the EventPhases letters, got %R", what, o);
    return -1;
}

static int get_scope(PyObject *o, int *out) {
    if (PyUnicode_Check(o) && PyUnicode_GET_LENGTH(o) == 1) {
        Py_UCS4 c = PyUnicode_READ_CHAR(o, 0);
        if (c == 'g' || c == 'p' || c == 't') {
            *out = (int)c;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "scope must be one of 'g', 'p', 't', got %R", o);
    return -1;
}

/* ---- FileDB: the FileDatabase handle --------------------------------------------- */

typedef struct FileDB {
    PyObject_HEAD
    dasf_db *db;
    PyObject *path; /* str */
    int closed;
    long inflight; /* records, commits, stats calls between start and return */
    PyObject *weakrefs;
} FileDB;

static PyTypeObject FileDB_Type;

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

static int filedb_ready(FileDB *self) {
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

/* Packs args (dict or None) into the event and hands it to the database; the
 * GIL may be released inside (wait hooks) when the ring is full. */
/* args as the runtime's typed list: str/int/float/bool values as such (the
 * runtime copies them, no encoding here), anything else (None, lists, tuples,
 * dicts, bytes, numpy scalars) as one msgpack value each, packed into b.  The
 * keys and values are referenced in keep[] until the record returns: the GIL
 * may be released inside it, and another thread could change the dict. */
#define TYPED_MAX 32
typedef struct typed {
    dasf_arg a[TYPED_MAX];
    size_t off[TYPED_MAX]; /* raw values: offset in b, fixed up at the end */
    PyObject *keep[2 * TYPED_MAX];
    size_t n, nkeep;
} typed;

static void typed_release(typed *t) {
    for (size_t i = 0; i < t->nkeep; i++) Py_DECREF(t->keep[i]);
    t->nkeep = 0;
}

/* 1: t filled; 0: use the whole-map form (a key with NUL, too many args);
 * -1: error (exception set). */
static int typed_args(PyObject *args, typed *t, pbuf *b) {
    Py_ssize_t n = PyDict_GET_SIZE(args), pos = 0;
    if (n > TYPED_MAX) return 0;
    PyObject *k, *v;
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, pbuf_write);
    t->n = t->nkeep = 0;
    while (PyDict_Next(args, &pos, &k, &v)) {
        if (!PyUnicode_Check(k)) {
            PyErr_Format(PyExc_TypeError, "args: dict keys must be str, not %.100s",
                         Py_TYPE(k)->tp_name);
            return -1;
        }
        Py_ssize_t klen;
        const char *key = PyUnicode_AsUTF8AndSize(k, &klen);
        if (!key) return -1;
        if ((Py_ssize_t)strlen(key) != klen || t->n == TYPED_MAX) return 0;
        t->keep[t->nkeep++] = Py_NewRef(k);
        t->keep[t->nkeep++] = Py_NewRef(v);
        dasf_arg *a = &t->a[t->n];
        a->key = key;
        if (PyUnicode_CheckExact(v)) {
            Py_ssize_t len;
            const char *sv = PyUnicode_AsUTF8AndSize(v, &len);
            if (!sv) return -1;
            if ((Py_ssize_t)strlen(sv) == len) {
                a->type = DASF_ARG_STR;
                a->v.s = sv;
                t->n++;
                continue;
            }
        } else if (PyFloat_CheckExact(v)) {
            a->type = DASF_ARG_DOUBLE;
            a->v.d = PyFloat_AS_DOUBLE(v);
            t->n++;
            continue;
        } else if (PyBool_Check(v)) {
            a->type = DASF_ARG_BOOL;
            a->v.b = v == Py_True;
            t->n++;
            continue;
        } else if (PyLong_CheckExact(v)) {
            int overflow = 0;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (!overflow) {
                if (x == -1 && PyErr_Occurred()) return -1;
                a->type = DASF_ARG_INT;
                a->v.i = x;
                t->n++;
                continue;
            }
        }
        size_t start = b->len;
        int rc = pack_obj(&pk, v, 1);
        if (rc) {
            if (rc == -2 && !PyErr_Occurred()) PyErr_NoMemory();
            return -1;
        }
        a->type = DASF_ARG_MSGPACK;
        t->off[t->n] = start;
        a->v.raw.size = b->len - start;
        t->n++;
    }
    if (PyDict_GET_SIZE(args) != n || (Py_ssize_t)t->n != n) {
        PyErr_SetString(PyExc_RuntimeError, "args: dictionary changed size while recording");
        return -1;
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->a[i].type == DASF_ARG_MSGPACK) t->a[i].v.raw.data = b->p + t->off[i];
    return 1;
}

/* Puts args (dict or None) into the event and hands it to the database; the
 * GIL may be released inside (wait hooks) when the ring is full. */
static PyObject *filedb_submit(FileDB *self, dasf_event *ev, PyObject *args) {
    pbuf b;
    pbuf_init(&b);
    typed t;
    t.nkeep = 0;
    int form = 0;
    if (args && args != Py_None) {
        if (!PyDict_Check(args)) {
            PyErr_Format(PyExc_TypeError, "args must be a dict, not %.100s",
                         Py_TYPE(args)->tp_name);
            return NULL;
        }
        form = typed_args(args, &t, &b);
        if (form == 0) { /* the whole map as one msgpack value */
            typed_release(&t);
            b.len = 0;
            if (pack_args(&b, args) == 0 && b.len) {
                ev->args_msgpack = b.p;
                ev->args_msgpack_size = b.len;
            } else if (PyErr_Occurred()) {
                form = -1;
            }
        } else if (form == 1 && t.n) {
            ev->args = t.a;
            ev->n_args = t.n;
        }
    }
    PyObject *r = NULL;
    if (form >= 0) {
        self->inflight++;
        t_in_record = 1;
        int rc = dasf_db_record(self->db, ev);
        t_in_record = 0;
        self->inflight--;
        r = (rc == 0 || rc == DASF_EDROPPED) ? Py_NewRef(Py_None) /* a drop is counted */
                                             : raise_status(rc, "record");
    }
    typed_release(&t);
    pbuf_free(&b);
    return r;
}

/* Which dataclass fields each record_* method takes (after its positionals). */
typedef struct kind {
    const char *method;
    int phase;
    int npos; /* name, timestamp[, duration] */
    unsigned fields; /* bit set of F_* accepted */
} kind;

#define BIT(f) (1u << (f))
#define KIND_FIELDS                                                                         \
    (BIT(F_NAME) | BIT(F_TIMESTAMP) | BIT(F_PHASE) | BIT(F_PROCESS_ID) | BIT(F_THREAD_ID) |    \
     BIT(F_ARGS))
static const kind K_COMPLETE = {"record_complete_event", 'X', 3, KIND_FIELDS | BIT(F_DURATION)};
static const kind K_INSTANT = {"record_instant_event", 'I', 2, KIND_FIELDS | BIT(F_SCOPE)};
static const kind K_BEGIN = {"record_duration_begin_event", 'B', 2, KIND_FIELDS};
static const kind K_END = {"record_duration_end_event", 'E', 2, KIND_FIELDS};

static int field_index(PyObject *key) {
    for (int f = 0; f < F_COUNT; f++)
        if (key == g_field[f]) return f;
    for (int f = 0; f < F_COUNT; f++)
        if (PyUnicode_Compare(key, g_field[f]) == 0) return f;
    if (PyErr_Occurred()) PyErr_Clear();
    return -1;
}

static PyObject *record_kind(FileDB *self, const kind *k, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames) {
    PyObject *v[F_COUNT] = {0};
    static const int pos_fields[3] = {F_NAME, F_TIMESTAMP, F_DURATION};
    if (nargs > k->npos) {
        PyErr_Format(PyExc_TypeError, "%s() takes %d positional arguments but %zd were given",
                     k->method, k->npos, nargs);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) v[pos_fields[i]] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        int f = field_index(key);
        if (f < 0 || !(k->fields & BIT(f))) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", k->method,
                         key);
            return NULL;
        }
        if (v[f]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument %R", k->method,
                         key);
            return NULL;
        }
        v[f] = args[nargs + i];
    }
    for (int i = 0; i < k->npos; i++)
        if (!v[pos_fields[i]]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", k->method,
                         g_field_names[pos_fields[i]]);
            return NULL;
        }
    if (filedb_ready(self)) return NULL;
    dasf_event ev;
    memset(&ev, 0, sizeof ev);
    ev.phase = (dasf_phase)k->phase;
    ev.process_id = dasf_id_int(0); /* the dataclasses' defaults */
    ev.thread_id = dasf_id_int(0);
    if (!(ev.name = get_cstr(v[F_NAME], "name"))) return NULL;
    if (get_seconds(v[F_TIMESTAMP], "timestamp", &ev.timestamp)) return NULL;
    if (v[F_DURATION]) {
        if (get_seconds(v[F_DURATION], "duration", &ev.duration)) return NULL;
        if (ev.duration < 0) {
            PyErr_Format(PyExc_ValueError, "duration must be >= 0, got %R", v[F_DURATION]);
            return NULL;
        }
    }
    if (v[F_PHASE]) {
        int ph;
        if (get_phase(v[F_PHASE], "phase", &ph)) return NULL;
        ev.phase = (dasf_phase)ph;
    }
    if (v[F_SCOPE]) {
        int sc;
        if (get_scope(v[F_SCOPE], &sc)) return NULL;
        ev.scope = (dasf_scope)sc;
    } else if (ev.phase == DASF_PHASE_INSTANT) {
        ev.scope = DASF_SCOPE_GLOBAL;
    }
    if (v[F_PROCESS_ID] && get_id(v[F_PROCESS_ID], "process_id", &ev.process_id)) return NULL;
    if (v[F_THREAD_ID] && get_id(v[F_THREAD_ID], "thread_id", &ev.thread_id)) return NULL;
    return filedb_submit(self, &ev, v[F_ARGS]);
}

static PyObject *FileDB_complete(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_COMPLETE, a, n, kw);
}
static PyObject *FileDB_instant(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_INSTANT, a, n, kw);
}
static PyObject *FileDB_begin(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_BEGIN, a, n, kw);
}
static PyObject *FileDB_end(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_END, a, n, kw);
}

/* record(event): an event object with the dataclass fields (ours, the
 * original module's, or any object with those attributes). */
static PyObject *FileDB_record(FileDB *self, PyObject *event) {
    PyObject *v[F_COUNT] = {0};
    PyObject *r = NULL;
    for (int f = 0; f < F_COUNT; f++) {
        v[f] = PyObject_GetAttr(event, g_field[f]);
        if (!v[f]) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) goto out;
            PyErr_Clear();
        }
    }
    if (!v[F_NAME] || !v[F_TIMESTAMP] || !v[F_PHASE]) {
        PyErr_Format(PyExc_TypeError,
                     "record() needs an event with name, timestamp and phase (one of the "
                     "event dataclasses), not %.100s",
                     Py_TYPE(event)->tp_name);
        goto out;
    }
    if (filedb_ready(self)) goto out;
    dasf_event ev;
    memset(&ev, 0, sizeof ev);
    int ph;
    if (get_phase(v[F_PHASE], "phase", &ph)) goto out;
    ev.phase = (dasf_phase)ph;
    ev.process_id = dasf_id_int(0);
    ev.thread_id = dasf_id_int(0);
    if (!(ev.name = get_cstr(v[F_NAME], "name"))) goto out;
    if (get_seconds(v[F_TIMESTAMP], "timestamp", &ev.timestamp)) goto out;
    if (ev.phase == DASF_PHASE_COMPLETE) {
        if (!v[F_DURATION]) {
            PyErr_SetString(PyExc_TypeError, "record(): a complete event needs a duration");
            goto out;
        }
        if (get_seconds(v[F_DURATION], "duration", &ev.duration)) goto out;
        if (ev.duration < 0) {
            PyErr_Format(PyExc_ValueError, "duration must be >= 0, got %R", v[F_DURATION]);
            goto out;
        }
    }
    if (ev.phase == DASF_PHASE_INSTANT) {
        int sc = 'g';
        if (v[F_SCOPE] && v[F_SCOPE] != Py_None && get_scope(v[F_SCOPE], &sc)) goto out;
        ev.scope = (dasf_scope)sc;
    }
    if (v[F_PROCESS_ID] && get_id(v[F_PROCESS_ID], "process_id", &ev.process_id)) goto out;
    if (v[F_THREAD_ID] && get_id(v[F_THREAD_ID], "thread_id", &ev.thread_id)) goto out;
    if (v[F_CAT] && v[F_CAT] != Py_None && !(ev.cat = get_cstr(v[F_CAT], "cat"))) goto out;
    if (v[F_ID] && v[F_ID] != Py_None && get_id(v[F_ID], "id", &ev.id)) goto out;
    r = filedb_submit(self, &ev, v[F_ARGS]);
out:
    for (int f = 0; f < F_COUNT; f++) Py_XDECREF(v[f]);
    return r;
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

static PyTypeObject FileDB_Type = {
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

/* ---- reading: values, cached strings, events -------------------------------------- */

/* Short strings repeat (names, arg keys, host names, dtypes): one PyUnicode
 * each, found again by a cheap hash of their first and last 8 bytes and checked
 * against the bytes kept beside it.  Longer strings (task keys) are mostly
 * unique and are decoded every time. */
#define SCACHE_SIZE 4096
#define SCACHE_MAX_LEN 32
static struct {
    uint32_t len;
    char bytes[SCACHE_MAX_LEN];
    PyObject *s;
} g_scache[SCACHE_SIZE];

static inline uint64_t load_tail8(const char *p, size_t n, int last) {
    uint64_t v = 0;
    if (n >= 8)
        memcpy(&v, last ? p + n - 8 : p, 8);
    else
        memcpy(&v, p, n);
    return v;
}

static PyObject *str_from(const char *p, size_t n) {
    if (n > SCACHE_MAX_LEN) return PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, "strict");
    uint64_t h = (load_tail8(p, n, 0) * 0x9E3779B97F4A7C15ull) ^
                 (load_tail8(p, n, 1) * 0xC2B2AE3D27D4EB4Full) ^ (n * 0x165667B19E3779F9ull);
    size_t slot = (size_t)(h >> 52); /* top 12 bits: SCACHE_SIZE slots */
    if (g_scache[slot].s && g_scache[slot].len == n && memcmp(g_scache[slot].bytes, p, n) == 0)
        return Py_NewRef(g_scache[slot].s);
    PyObject *s = PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, "strict");
    if (!s) return NULL;
    Py_XSETREF(g_scache[slot].s, Py_NewRef(s));
    g_scache[slot].len = (uint32_t)n;
    memcpy(g_scache[slot].bytes, p, n);
    return s;
}

static PyObject *value_to_py(const dasf_value *v, int depth);

static PyObject *map_to_dict(const dasf_value *v, int depth) {
#if PY_VERSION_HEX < 0x030D0000
    PyObject *d = _PyDict_NewPresized(v->v.map.n); /* CPython's own presizing */
#else
    PyObject *d = PyDict_New(); /* 3.13 made the presizing call internal */
#endif
    if (!d) return NULL;
    for (uint32_t i = 0; i < v->v.map.n; i++) {
        PyObject *k = value_to_py(&v->v.map.items[i].key, depth + 1);
        PyObject *x = k ? value_to_py(&v->v.map.items[i].val, depth + 1) : NULL;
        if (!x || PyDict_SetItem(d, k, x)) {
            Py_XDECREF(k);
            Py_XDECREF(x);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(k);
        Py_DECREF(x);
    }
    return d;
}

static PyObject *value_to_py(const dasf_value *v, int depth) {
    if (depth > PACK_MAX_DEPTH + 1) {
        PyErr_SetString(PyExc_ValueError, "trace value nested too deeply");
        return NULL;
    }
    switch (v->type) {
    case DASF_VAL_NIL:
        Py_RETURN_NONE;
    case DASF_VAL_BOOL:
        return PyBool_FromLong(v->v.b);
    case DASF_VAL_INT:
        return PyLong_FromLongLong(v->v.i);
    case DASF_VAL_UINT:
        return PyLong_FromUnsignedLongLong(v->v.u);
    case DASF_VAL_FLOAT:
        return PyFloat_FromDouble(v->v.f);
    case DASF_VAL_STR:
        return str_from(v->v.str.ptr, v->v.str.len);
    case DASF_VAL_BIN:
        return PyBytes_FromStringAndSize(v->v.bin.ptr, v->v.bin.len);
    case DASF_VAL_ARRAY: {
        PyObject *l = PyList_New(v->v.array.n);
        if (!l) return NULL;
        for (uint32_t i = 0; i < v->v.array.n; i++) {
            PyObject *x = value_to_py(&v->v.array.items[i], depth + 1);
            if (!x) {
                Py_DECREF(l);
                return NULL;
            }
            PyList_SET_ITEM(l, i, x);
        }
        return l;
    }
    case DASF_VAL_MAP:
        return map_to_dict(v, depth);
    }
    PyErr_SetString(PyExc_ValueError, "unknown value type in trace");
    return NULL;
}

static PyObject *args_to_py(const dasf_trace_event *ev) {
    if (ev->args_nil) Py_RETURN_NONE; /* written as None (by DASF's module) */
    if (ev->args.type == DASF_VAL_MAP) return map_to_dict(&ev->args, 0);
    return PyDict_New();
}

/* A time as the file held it: a Python int when it was written as one (DASF's
 * module writes int timestamps as msgpack ints), else the double. */
static PyObject *seconds_to_py(double v, bool is_int) {
    if (is_int) return PyLong_FromDouble(v);
    return PyFloat_FromDouble(v);
}

static PyObject *phase_str(int c) {
    PyObject *s = (c > 0 && c < 128) ? g_phase_str[c] : NULL;
    if (!s) s = Py_None;
    Py_INCREF(s);
    return s;
}

/* obj.field = val (stealing val); -1 on error (val released).  The instance's
 * attributes go into its own storage (3.11+: the class's shared-key values), as
 * the dataclass __init__ would store them. */
static int put(PyObject *obj, int f, PyObject *val) {
    if (!val) return -1;
    int rc = PyObject_GenericSetAttr(obj, g_field[f], val);
    Py_DECREF(val);
    return rc;
}

/* One event as the dataclass of its phase, fields set in declaration order,
 * without running __init__ (the values were checked when they were written). */
static PyObject *event_to_dataclass(const dasf_trace_event *ev) {
    int which;
    switch (ev->phase) {
    case DASF_PHASE_COMPLETE: which = 0; break;
    case DASF_PHASE_INSTANT: which = 1; break;
    case DASF_PHASE_DURATION_BEGIN: which = 2; break;
    case DASF_PHASE_DURATION_END: which = 3; break;
    default: which = 4; break;
    }
    PyTypeObject *cls = (PyTypeObject *)g_classes[which];
    if (!cls) {
        PyErr_SetString(PyExc_RuntimeError, "dasf_profiler: event classes not registered");
        return NULL;
    }
    PyObject *d = cls->tp_new(cls, g_empty_tuple, NULL);
    if (!d) return NULL;
    int bad = put(d, F_NAME, str_from(ev->name, strlen(ev->name))) ||
              put(d, F_TIMESTAMP, seconds_to_py(ev->timestamp, ev->timestamp_is_int));
    if (!bad && which == 0)
        bad = put(d, F_DURATION, seconds_to_py(ev->duration, ev->duration_is_int));
    if (!bad) bad = put(d, F_PHASE, phase_str(ev->phase));
    if (!bad && which == 1) bad = put(d, F_SCOPE, phase_str(ev->scope ? ev->scope : 'g'));
    if (!bad) bad = put(d, F_PROCESS_ID, value_to_py(&ev->process_id, 0)) ||
                    put(d, F_THREAD_ID, value_to_py(&ev->thread_id, 0)) ||
                    put(d, F_ARGS, args_to_py(ev));
    if (!bad && which == 4) {
        PyObject *dur = ev->has_duration ? seconds_to_py(ev->duration, ev->duration_is_int)
                                         : Py_NewRef(Py_None);
        PyObject *scope = ev->scope ? phase_str(ev->scope) : Py_NewRef(Py_None);
        PyObject *cat = ev->cat ? str_from(ev->cat, strlen(ev->cat)) : Py_NewRef(Py_None);
        PyObject *id = ev->has_id ? value_to_py(&ev->id, 0) : Py_NewRef(Py_None);
        bad = put(d, F_DURATION, dur) || put(d, F_SCOPE, scope) || put(d, F_CAT, cat) ||
              put(d, F_ID, id);
    }
    if (bad) Py_CLEAR(d);
    return d;
}

static PyStructSequence_Field g_event_fields[] = {
    {"name", "event name (str)"},
    {"phase", "phase letter (str)"},
    {"timestamp", "start, seconds (float)"},
    {"duration", "seconds (float) for phase X, else None"},
    {"process_id", "int, str or None, as written"},
    {"thread_id", "int, str or None, as written"},
    {"args", "dict"},
    {"scope", "phase I: 'g', 'p' or 't'; else None"},
    {"cat", "category (str) or None"},
    {"id", "async/flow/object id or None"},
    {"timestamp_ns", "start, integer nanoseconds"},
    {"duration_ns", "duration, integer nanoseconds (0 unless phase X)"},
    {NULL, NULL}};

static PyStructSequence_Desc g_event_desc = {
    "dasf_profiler.Event", "One event of a trace file (read_events).", g_event_fields, 12};

static PyObject *event_to_tuple(const dasf_trace_event *ev) {
    PyObject *t = PyStructSequence_New(g_event_type);
    if (!t) return NULL;
    PyObject *items[12] = {
        str_from(ev->name, strlen(ev->name)),
        phase_str(ev->phase),
        seconds_to_py(ev->timestamp, ev->timestamp_is_int),
        ev->has_duration ? seconds_to_py(ev->duration, ev->duration_is_int) : Py_NewRef(Py_None),
        value_to_py(&ev->process_id, 0),
        value_to_py(&ev->thread_id, 0),
        args_to_py(ev),
        ev->scope ? phase_str(ev->scope) : Py_NewRef(Py_None),
        ev->cat ? str_from(ev->cat, strlen(ev->cat)) : Py_NewRef(Py_None),
        ev->has_id ? value_to_py(&ev->id, 0) : Py_NewRef(Py_None),
        PyLong_FromLongLong(ev->timestamp_ns),
        PyLong_FromLongLong(ev->duration_ns),
    };
    int bad = 0;
    for (int i = 0; i < 12; i++) {
        if (!items[i]) bad = 1;
        PyStructSequence_SET_ITEM(t, i, items[i] ? items[i] : Py_NewRef(Py_None));
    }
    if (bad) Py_CLEAR(t);
    return t;
}

/* ---- Reader: a lazy iterator over a trace file ------------------------------------ */

typedef struct Reader {
    PyObject_HEAD
    PyObject *path;
    dasf_trace *r;
    int tuples; /* 0: dataclasses, 1: Event tuples */
    int done;
    int warned;
} Reader;

static PyTypeObject Reader_Type;

static PyObject *Reader_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"path", "tuples", NULL};
    PyObject *path;
    int tuples = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|p", kwlist, PyUnicode_FSDecoder, &path,
                                     &tuples))
        return NULL;
    Reader *self = (Reader *)type->tp_alloc(type, 0);
    if (!self) {
        Py_DECREF(path);
        return NULL;
    }
    self->path = path;
    self->tuples = tuples;
    return (PyObject *)self;
}

static void Reader_dealloc(Reader *self) {
    dasf_trace_close(self->r);
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static void reader_finish(Reader *self) {
    if (self->r && !self->warned) {
        dasf_trace_stats st;
        dasf_trace_get_stats(self->r, &st);
        self->warned = 1;
        if (st.chunks_damaged)
            PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                             "%U: %llu damaged chunk(s) skipped (%llu bytes; first at offset "
                             "%llu: %s)",
                             self->path, (unsigned long long)st.chunks_damaged,
                             (unsigned long long)st.bytes_damaged,
                             (unsigned long long)st.first_damage_offset, st.first_damage);
    }
    self->done = 1;
}

static PyObject *Reader_next(Reader *self) {
    if (self->done) return NULL;
    if (!self->r) {
        PyObject *b = PyUnicode_EncodeFSDefault(self->path);
        if (!b) return NULL;
        int rc = dasf_trace_open(&self->r, PyBytes_AS_STRING(b));
        Py_DECREF(b);
        if (rc) {
            self->done = 1;
            self->r = NULL;
            if (rc == DASF_ENOENT)
                return PyErr_Format(PyExc_FileNotFoundError, "%U: no such trace file",
                                    self->path);
            return PyErr_Format(rc == DASF_EFORMAT ? PyExc_ValueError : PyExc_OSError,
                                "%U: %s", self->path, dasf_strerror(rc));
        }
    }
    const dasf_trace_event *ev;
    int rc = dasf_trace_next(self->r, &ev);
    if (rc == 1) return self->tuples ? event_to_tuple(ev) : event_to_dataclass(ev);
    reader_finish(self);
    if (rc < 0) return PyErr_Format(PyExc_OSError, "%U: %s", self->path, dasf_strerror(rc));
    return NULL; /* StopIteration */
}

static PyObject *Reader_stats(Reader *self, PyObject *unused) {
    if (!self->r) Py_RETURN_NONE;
    dasf_trace_stats st;
    dasf_trace_get_stats(self->r, &st);
    const char *layout = st.layout == DASF_LAYOUT_LEGACY    ? "legacy"
                         : st.layout == DASF_LAYOUT_ARCHIVE ? "archive"
                                                            : "empty";
    return Py_BuildValue("{sssKsKsKsKsKss}", "layout", layout, "chunks_read",
                         (unsigned long long)st.chunks_read, "chunks_damaged",
                         (unsigned long long)st.chunks_damaged, "events",
                         (unsigned long long)st.events, "bytes_damaged",
                         (unsigned long long)st.bytes_damaged, "file_size",
                         (unsigned long long)st.file_size, "first_damage", st.first_damage);
}

static PyMethodDef Reader_methods[] = {
    {"stats", (PyCFunction)Reader_stats, METH_NOARGS,
     "stats(): layout, chunks read / damaged, events so far (None before the first next())"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject Reader_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dasf_profiler._native.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Reader(path, tuples=False): iterates over a trace file of either layout.",
    .tp_new = Reader_new,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Reader_next,
    .tp_methods = Reader_methods,
};

/* ---- module -------------------------------------------------------------------- */

static PyObject *set_event_classes(PyObject *mod, PyObject *args) {
    PyObject *c[5];
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!:set_event_classes", &PyType_Type, &c[0],
                          &PyType_Type, &c[1], &PyType_Type, &c[2], &PyType_Type, &c[3],
                          &PyType_Type, &c[4]))
        return NULL;
    for (int i = 0; i < 5; i++) {
        Py_INCREF(c[i]);
        Py_XSETREF(g_classes[i], c[i]);
    }
    Py_RETURN_NONE;
}

/* layout_level(path): the compression level the C rule gives a file name when
 * compression_level is not set (dasf_layout_level with DASF_COMPRESSION_AUTO). */
static PyObject *mod_layout_level(PyObject *mod, PyObject *arg) {
    const char *p = get_cstr(arg, "database_file");
    if (!p) return NULL;
    int level = dasf_layout_level(p, DASF_COMPRESSION_AUTO);
    if (level < 0) return raise_status(level, "layout_level");
    return PyLong_FromLong(level);
}

static PyObject *mod_now(PyObject *mod, PyObject *unused) {
    return PyFloat_FromDouble(dasf_now());
}

static PyMethodDef module_methods[] = {
    {"set_event_classes", set_event_classes, METH_VARARGS,
     "set_event_classes(complete, instant, begin, end, other): the classes get_traces builds"},
    {"now", mod_now, METH_NOARGS, "now(): dasf_now(), seconds on time.monotonic()'s line"},
    {"layout_level", mod_layout_level, METH_O,
     "layout_level(path): the compression level the file name gives (0 = legacy)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_native",
                                        "The C side of dasf_profiler (see docs/PYTHON.md).", -1,
                                        module_methods};

PyMODINIT_FUNC PyInit__native(void);
PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&FileDB_Type) || PyType_Ready(&Reader_Type)) return NULL;
    for (int f = 0; f < F_COUNT; f++)
        if (!g_field[f] && !(g_field[f] = PyUnicode_InternFromString(g_field_names[f])))
            return NULL;
    for (int c = 1; c < 128; c++)
        if (dasf_phase_valid(c) || c == 'g' || c == 'p' || c == 't') {
            char s[2] = {(char)c, 0};
            if (!(g_phase_str[c] = PyUnicode_InternFromString(s))) return NULL;
        }
    if (!g_empty_tuple && !(g_empty_tuple = PyTuple_New(0))) return NULL;
    if (!g_event_type && !(g_event_type = PyStructSequence_NewType(&g_event_desc))) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "FileDB", (PyObject *)&FileDB_Type) ||
        PyModule_AddObjectRef(m, "Reader", (PyObject *)&Reader_Type) ||
        PyModule_AddObjectRef(m, "Event", (PyObject *)g_event_type) ||
        PyModule_AddStringConstant(m, "LIBRARY_VERSION", DASF_VERSION_STRING) ||
        PyModule_AddIntConstant(m, "DEFAULT_COMPRESSION_LEVEL", DASF_DEFAULT_COMPRESSION_LEVEL) ||
        PyModule_AddIntConstant(m, "DEFAULT_RING_CAPACITY", (long)DASF_DEFAULT_RING_CAPACITY)) {
        Py_DECREF(m);
        return NULL;
    }
    dasf_set_wait_hooks(gil_before_wait, gil_after_wait);
    return m;
}
