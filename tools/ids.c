/*
 * ids.c — ids as text (ids.h).  Runs once per event in stats and the
 * filters, so integers skip snprintf.
 */
#include "ids.h"

#include "numbers.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *dt_id_text(const dasf_value *v, char *buf, size_t n) {
    switch (v->type) {
    case DASF_VAL_INT:
        if (n >= DT_U64_TEXT_MAX) {
            char tmp[DT_U64_TEXT_MAX];
            uint64_t a = v->v.i < 0 ? -(uint64_t)v->v.i : (uint64_t)v->v.i;
            char *s = dt_format_u64(tmp, a, v->v.i < 0);
            size_t len = (size_t)(tmp + sizeof tmp - s);
            memcpy(buf, s, len);
            buf[len] = 0;
            break;
        }
        snprintf(buf, n, "%" PRId64, v->v.i);
        break;
    case DASF_VAL_UINT: snprintf(buf, n, "%" PRIu64, v->v.u); break;
    case DASF_VAL_STR: snprintf(buf, n, "%.*s", (int)v->v.str.len, v->v.str.ptr); break;
    case DASF_VAL_NIL: snprintf(buf, n, "null"); break;
    case DASF_VAL_BOOL: snprintf(buf, n, "%s", v->v.b ? "true" : "false"); break;
    case DASF_VAL_FLOAT: dt_format_double(buf, n, v->v.f); break;
    default: snprintf(buf, n, "?"); break;
    }
    return buf;
}

bool dt_id_real(const dasf_value *v, int64_t *out) {
    if (v->type == DASF_VAL_INT && v->v.i >= 0 && v->v.i <= DT_REAL_ID_MAX) {
        *out = v->v.i;
        return true;
    }
    if (v->type == DASF_VAL_UINT && v->v.u <= DT_REAL_ID_MAX) {
        *out = (int64_t)v->v.u;
        return true;
    }
    return false;
}
