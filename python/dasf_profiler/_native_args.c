/*
 * _native_args.c — Python values into what the record path hands the runtime:
 * args packed as msgpack (nested values; the whole map when the typed list
 * cannot carry it) into a pbuf that lives on the stack while small, and the
 * argument checks of the record methods (str without NUL, finite seconds,
 * 64-bit / str / None ids, phase and scope letters).
 *
 * Thread: the calling Python thread, GIL held throughout (nothing here waits
 * or releases it).  Invariants: every failure leaves a Python exception set
 * (-1 / NULL) — the packer's -2 (buffer out of memory) is turned into
 * MemoryError by the callers; a UTF-8 pointer returned by get_cstr stays valid
 * while its str lives, so callers keep the object referenced for the call.
 */
#include "_native.h"

/* ---- args → msgpack (nested values; the whole map when typed args cannot) ----- */

void pbuf_init(pbuf *b) {
    b->p = b->stack;
    b->len = 0;
    b->cap = sizeof b->stack;
}

void pbuf_free(pbuf *b) {
    if (b->p != b->stack) PyMem_Free(b->p);
}

int pbuf_write(void *data, const char *buf, size_t len) {
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
int pack_obj(msgpack_packer *pk, PyObject *o, int depth) {
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
int pack_args(pbuf *b, PyObject *args) {
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

int get_seconds(PyObject *o, const char *what, double *out) {
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
const char *get_cstr(PyObject *o, const char *what) {
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
int get_id(PyObject *o, const char *what, dasf_id *out) {
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

int get_phase(PyObject *o, const char *what, int *out) {
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

int get_scope(PyObject *o, int *out) {
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
