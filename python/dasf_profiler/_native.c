/*
 * _native.c — the CPython extension behind dasf_profiler: the record path,
 * the reader, and the interpreter-lock hooks, over the library's public API
 * (include/dasf/profiler.h) only.  This file: the module — its globals, the
 * dasf_status → exception mapping, the module functions and PyInit__native.
 * The rest, one job per file (shared declarations in _native.h):
 *   _native_args.c    Python args → msgpack; argument checks (str, seconds, ids)
 *   _native_filedb.c  FileDB: lifecycle, options, commit / snapshot / close / stats
 *   _native_record.c  FileDB's record methods; the GIL around a blocked record
 *   _native_events.c  reading: trace values, cached strings, events as Python objects
 *   _native_reader.c  Reader: the lazy iterator over a trace file
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
 * by the caller for the whole call.  The module globals below are set once by
 * PyInit__native / set_event_classes (single-phase init) and guarded by the GIL.
 */
#include "_native.h"

/* ---- module globals (single-phase init; the GIL guards them) ------------------- */

PyObject *g_classes[5]; /* X, I, B, E dataclasses, then the generic one */
PyObject *g_empty_tuple;
PyTypeObject *g_event_type; /* read_events' structseq */

const char *const g_field_names[F_COUNT] = {
    "name", "timestamp", "duration", "phase", "scope", "process_id", "thread_id", "args",
    "cat", "id"};
PyObject *g_field[F_COUNT]; /* interned field-name strings */
PyObject *g_phase_str[128]; /* one-letter phase / scope strings */

/* ---- errors -------------------------------------------------------------------- */

/* Maps a dasf_status onto the Python exception a user expects for it. */
PyObject *raise_status(int rc, const char *what) {
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
