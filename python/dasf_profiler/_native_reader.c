/*
 * _native_reader.c — Reader(path, tuples=False): a lazy iterator over a trace
 * file of either layout; opens the file on the first next(), yields each event
 * (dataclass or Event tuple, _native_events.c), warns once at the end when
 * damaged chunks were skipped, and reports the reader's counters (stats()).
 *
 * Thread: the Python thread iterating it, GIL held (reading does not release
 * it).  Invariants: the dasf_trace is opened at most once and closed in
 * dealloc; after the end or an error the iterator stays exhausted (done).
 */
#include "_native.h"

/* ---- Reader: a lazy iterator over a trace file ------------------------------------ */

typedef struct Reader {
    PyObject_HEAD
    PyObject *path;
    dasf_trace *r;
    int tuples; /* 0: dataclasses, 1: Event tuples */
    int done;
    int warned;
} Reader;

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

PyTypeObject Reader_Type = {
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
