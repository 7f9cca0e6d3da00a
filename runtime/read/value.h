/*
 * value.h — msgpack bytes → dasf_value trees (not installed).
 *
 * Used by the reader on its thread; trees live in the caller's arena.
 */
#ifndef DASF_VALUE_H
#define DASF_VALUE_H

#include "arena.h"
#include "mp_cursor.h"

/* Decodes one complete value into a tree allocated from a (strings
 * copied, NUL-terminated).  Depth is limited to 256. */
DASF_HIDDEN int dasf_value_decode(dasf_mp *c, dasf_arena *a, dasf_value *out);

#endif
