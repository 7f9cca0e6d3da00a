/*
 * criterion-tsan-preload.c — lets Criterion 2.4 run under ThreadSanitizer.
 *
 * Criterion's runner (BoxFort) maps an "inheritable arena" with MAP_FIXED at
 * a random address between 0x2000'0000'0000 and 0x6000'0000'0000, picked as
 * 0x2000'0000'0000 + (rand_r() & 0x3fffff) * 16 MiB, and gives up after three
 * addresses that are taken.  Under TSan almost all of that range is TSan's
 * shadow and reserved gaps, so the runner aborts with "Could not initialize
 * inheritable arena" (Criterion issue #274).  Preloaded into a gcc TSan test
 * run (LD_PRELOAD; build.sh does it), this rand_r() answers calls that come
 * from libcriterion only with values whose arena address falls in TSan's
 * application range for PIE programs, [0x5500'0000'0000, 0x5680'0000'0000).
 * Every other caller gets the C library's rand_r() unchanged.  Test code and
 * the library under test are untouched, so TSan still sees all of them.
 */
#define _GNU_SOURCE /* dladdr, RTLD_NEXT */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef int (*rand_r_fn)(unsigned *);

int rand_r(unsigned *seed);

static int called_from_criterion(const void *ret) {
    Dl_info info;
    return dladdr(ret, &info) && info.dli_fname && strstr(info.dli_fname, "libcriterion");
}

int rand_r(unsigned *seed) {
    static rand_r_fn real;
    if (!real) real = (rand_r_fn)dlsym(RTLD_NEXT, "rand_r");
    if (!called_from_criterion(__builtin_return_address(0))) return real(seed);
    /* (0x5500'0000'0000 - 0x2000'0000'0000) / 16 MiB = 0x350000; 1.5 TiB wide. */
    for (;;) {
        int v = real(seed);
        unsigned slot = (unsigned)v & 0x3fffffu;
        if (slot >= 0x350000u && slot < 0x368000u) return v;
    }
}
