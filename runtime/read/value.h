/*
 * value.h — msgpack bytes → dasf_value trees (not installed).
 *
 * Used by the reader on its thread; trees live in the caller's arena.
 */
#ifndef DASF_VALUE_H
#define DASF_VALUE_H

#include "arena.h"
#include "mp_cursor.h"

/* What the reader's parse steps return (value.c and read/; never returned
 * to a user): 0, or
 *   DASF_PARSE_BAD    malformed or damaged input (a cursor's -1; the
 *                     step's reason in *why where it has one),
 *   DASF_PARSE_NOMEM  an arena allocation failed: out of memory, or the
 *                     arena's limit (arena->over says which: a limit is
 *                     damage, not ENOMEM),
 *   DASF_PARSE_MORE   (legacy records) the bytes given are a plausible
 *                     start: parse the whole record.
 * Steps that also pass a dasf_status on (I/O, memory) say so; the values
 * keep -1 and -2 so a cursor's -1 is DASF_PARSE_BAD as it is. */
enum {
    DASF_PARSE_OK = 0,
    DASF_PARSE_BAD = -1,
    DASF_PARSE_NOMEM = -2,
    DASF_PARSE_MORE = -3,
};

/* Decodes one complete value into a tree allocated from a (strings
 * copied, NUL-terminated).  Depth is limited to 256.  @return 0,
 * DASF_PARSE_BAD or DASF_PARSE_NOMEM. */
DASF_HIDDEN int dasf_value_decode(dasf_mp *c, dasf_arena *a, dasf_value *out);

#endif
