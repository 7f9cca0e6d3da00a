/*
 * common.h — TRANSITIONAL, to be removed: every tools/ module has its own
 * header now (issue 8), and tools/ code includes the headers of the modules
 * it uses.  This umbrella only keeps work in flight compiling while it is
 * rebased; nothing in tools/ includes it.
 */
#ifndef DASF_TRACE_COMMON_H
#define DASF_TRACE_COMMON_H

#include "args.h"
#include "array.h"
#include "filter.h"
#include "ids.h"
#include "infile.h"
#include "input.h"
#include "json.h"
#include "messages.h"
#include "numbers.h"
#include "output.h"
#include "proctree.h"
#include "strmap.h"
#include "symbols.h"
#include "verbs.h"

#endif
