/*
 * phase.c — the event model's small facts: phases, status messages, and
 * the validation every record path runs before accepting an event.
 *
 * Pure functions, callable from any thread.  dasf_event_validate is the one
 * gate for bad input: whatever it accepts, every encoder must be able to
 * write without failing (so a bad event is refused at record time with a
 * clear error, never discovered later on the flusher thread).
 */
#include "archive.h"
#include "mp_cursor.h"

#include <math.h>
#include <string.h>

/* Index order = the enum's order in profiler.h (and the archive's code). */
static const char k_phases[DASF_PHASE_COUNT] = {'X', 'B', 'E', 'I', 'b', 'n', 'e', 's',
                                                't', 'f', 'C', 'N', 'O', 'D', 'M', 'R'};

/* letter → index + 1 (0 = not a phase); archive.h inlines lookups in it.
 * tests/test_format.c checks it against k_phases. */
const signed char dasf_phase_index1[128] = {
    ['X'] = 1, ['B'] = 2, ['E'] = 3,  ['I'] = 4,  ['b'] = 5,  ['n'] = 6,  ['e'] = 7,  ['s'] = 8,
    ['t'] = 9, ['f'] = 10, ['C'] = 11, ['N'] = 12, ['O'] = 13, ['D'] = 14, ['M'] = 15, ['R'] = 16};

int dasf_phase_index(int p) { return dasf_phase_fast_index(p); }

int dasf_phase_valid(int p) { return dasf_phase_index(p) >= 0; }

int dasf_phase_from_index(int idx) {
    return idx >= 0 && idx < DASF_PHASE_COUNT ? k_phases[idx] : 0;
}

const char *dasf_strerror(int status) {
    switch (status) {
    case DASF_OK: return "success";
    case DASF_EINVAL: return "invalid argument (NULL name, non-finite time, bad option or args)";
    case DASF_ENOMEM: return "out of memory";
    case DASF_EIO: return "input/output error on the trace file";
    case DASF_ELOCK_TIMEOUT: return "could not lock the trace file within lock_timeout";
    case DASF_ECORRUPT: return "damaged trace data (bad checksum or torn chunk)";
    case DASF_EFORMAT: return "not a trace file, or a file of the other layout";
    case DASF_ECLOSED: return "the object is closed or being destroyed";
    case DASF_ENOSPC: return "no space left on the device";
    case DASF_EDROPPED: return "event dropped: the ring was full (DROP policy)";
    case DASF_ENOTSUP: return "operation not supported";
    case DASF_ENOENT: return "no such file";
    case DASF_ENOTREG: return "not a regular file (a FIFO, device, socket or directory)";
    case DASF_ESYMLINK:
        return "the path is a symbolic link; refusing to follow it (follow_symlinks)";
    default: return "unknown dasf status";
    }
}

int dasf_msgpack_check(const void *p, size_t n, int map_only) {
    if (!p || n == 0) return DASF_EINVAL;
    dasf_mp c = {p, (const uint8_t *)p + n};
    if (map_only) {
        uint8_t b = *(const uint8_t *)p;
        if (!((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf)) return DASF_EINVAL;
    }
    if (dasf_mp_skip(&c) || c.p != c.end) return DASF_EINVAL;
    return DASF_OK;
}

static int id_ok(const dasf_id *id) {
    switch (id->kind) {
    case DASF_ID_AUTO:
    case DASF_ID_NIL:
    case DASF_ID_INT: return 1;
    case DASF_ID_STR: return id->s != NULL;
    default: return 0;
    }
}

static int arg_ok(const dasf_arg *a) {
    if (!a->key) return 0;
    switch (a->type) {
    case DASF_ARG_INT:
    case DASF_ARG_UINT:
    case DASF_ARG_DOUBLE:
    case DASF_ARG_BOOL: return 1;
    case DASF_ARG_STR: return a->v.s != NULL;
    case DASF_ARG_MSGPACK: return dasf_msgpack_check(a->v.raw.data, a->v.raw.size, 0) == 0;
    default: return 0;
    }
}

int dasf_event_validate(const dasf_event *ev) {
    if (!ev || !ev->name) return DASF_EINVAL;
    if (!dasf_phase_valid((int)ev->phase)) return DASF_EINVAL;
    if (!isfinite(ev->timestamp)) return DASF_EINVAL;
    if (ev->phase == DASF_PHASE_COMPLETE && (!isfinite(ev->duration) || ev->duration < 0))
        return DASF_EINVAL;
    if (ev->scope != 0 && ev->scope != DASF_SCOPE_GLOBAL && ev->scope != DASF_SCOPE_PROCESS &&
        ev->scope != DASF_SCOPE_THREAD)
        return DASF_EINVAL;
    if (!id_ok(&ev->process_id) || !id_ok(&ev->thread_id) || !id_ok(&ev->id))
        return DASF_EINVAL;
    if ((ev->n_args || ev->args) && ev->args_msgpack) return DASF_EINVAL;
    if (ev->n_args && !ev->args) return DASF_EINVAL;
    if (ev->args_msgpack_size && !ev->args_msgpack) return DASF_EINVAL;
    for (size_t i = 0; i < ev->n_args; i++)
        if (!arg_ok(&ev->args[i])) return DASF_EINVAL;
    if (ev->args_msgpack && dasf_msgpack_check(ev->args_msgpack, ev->args_msgpack_size, 1))
        return DASF_EINVAL;
    return DASF_OK;
}
