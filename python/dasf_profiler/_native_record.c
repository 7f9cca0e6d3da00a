/*
 * _native_record.c — FileDB's record methods (record_complete_event,
 * record_instant_event, record_duration_begin/end_event, record(event)): the
 * call's arguments checked and turned into one dasf_event, args as the
 * runtime's typed list (or one msgpack map), handed to dasf_db_record; and the
 * interpreter-lock hooks a record that waits for ring space goes through.
 *
 * Thread: the calling Python thread with the GIL held.  dasf_db_record may
 * block (overflow='block'): the runtime then calls gil_before_wait /
 * gil_after_wait, which release and retake the GIL only when this thread is
 * inside a record on behalf of Python (t_in_record); pure C threads of the
 * process never touch the GIL.  Invariants: the args' keys and values stay
 * referenced (typed.keep) until the record returns, since another thread may
 * change the dict while the GIL is released; `inflight` covers the record so
 * close waits for it; a drop (DASF_EDROPPED) is counted, not raised.
 */
#include "_native.h"

/* ---- the interpreter lock around a blocked record -------------------------------- */

/* Set while this thread is inside dasf_db_record on behalf of Python (it then
 * holds the GIL); other threads of the process (pure C) never touch the GIL. */
static __thread int t_in_record;
static __thread PyThreadState *t_released;

void gil_before_wait(void) {
    if (t_in_record && !t_released) t_released = PyEval_SaveThread();
}

void gil_after_wait(void) {
    PyThreadState *ts = t_released;
    if (ts) {
        t_released = NULL;
        PyEval_RestoreThread(ts);
    }
}

/* ---- FileDB: the record methods ------------------------------------------------- */

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

PyObject *FileDB_complete(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_COMPLETE, a, n, kw);
}
PyObject *FileDB_instant(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_INSTANT, a, n, kw);
}
PyObject *FileDB_begin(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_BEGIN, a, n, kw);
}
PyObject *FileDB_end(FileDB *self, PyObject *const *a, Py_ssize_t n, PyObject *kw) {
    return record_kind(self, &K_END, a, n, kw);
}

/* record(event): an event object with the dataclass fields (ours, the
 * original module's, or any object with those attributes). */
PyObject *FileDB_record(FileDB *self, PyObject *event) {
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
