/*
 * symbols.h — read-time symbolization of `dasf-trace record` traces
 * (symbols.c says how: libdwfl, __cxa_demangle, build-id checks).
 */
#ifndef DASF_TRACE_SYMBOLS_H
#define DASF_TRACE_SYMBOLS_H

#include "dasf/profiler.h"

#include <stdbool.h>
#include <stddef.h>

/* Function-call events of `dasf-trace record` are named by address
 * ("0x55d0c0de1234"); dt_each_event renames them with these (unless
 * --no-symbols), from the trace's "dasf.module" events and the binaries. */
typedef struct dt_resolved {
    char *name;      /* demangled function name, or "module+0xoffset" */
    char *src;       /* "file:line" or NULL */
    dasf_value args; /* {"src": src} (empty map without src) */
    dasf_kv kv;
} dt_resolved;
typedef struct dt_symbols dt_symbols;
int dt_symbols_create(dt_symbols **out);
/* Takes a "dasf.module" metadata event (others are ignored).  -1: no memory. */
int dt_symbols_add_module(dt_symbols *s, const dasf_trace_event *ev);
size_t dt_symbols_modules(const dt_symbols *s);
/* True for "0x" + lower-case hex digits: what the preload names calls. */
bool dt_symbols_is_address(const char *name);
/* The name of ev's address in its process image, or NULL (unknown). */
const dt_resolved *dt_symbols_lookup(dt_symbols *s, const dasf_trace_event *ev);
void dt_symbols_free(dt_symbols *s);

#endif
