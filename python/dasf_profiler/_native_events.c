/*
 * _native_events.c — reading: trace values (dasf_value) as Python objects,
 * the cache of short decoded strings, and one trace event as the dataclass of
 * its phase (get_traces) or as an Event struct sequence (read_events).
 *
 * Thread: the Python thread iterating a Reader, GIL held (the string cache and
 * the module globals it reads are guarded by it).  Invariants: a cached string
 * is only returned when its length and bytes match the slot exactly; values
 * nest at most PACK_MAX_DEPTH + 1 deep (what the record side can write);
 * every failure returns NULL with an exception set and releases what it built.
 */
#include "_native.h"

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

PyObject *str_from(const char *p, size_t n) {
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
PyObject *event_to_dataclass(const dasf_trace_event *ev) {
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

PyStructSequence_Desc g_event_desc = {
    "dasf_profiler.Event", "One event of a trace file (read_events).", g_event_fields, 12};

PyObject *event_to_tuple(const dasf_trace_event *ev) {
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
