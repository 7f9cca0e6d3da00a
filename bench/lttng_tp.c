/*
 * lttng_tp.c — instantiates the probes of lttng_tp.h into the peer
 * benchmark program (statically linked provider, LTTng-UST 2.13).
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "lttng_tp.h"
