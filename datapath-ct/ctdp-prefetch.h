#ifndef CTDP_PREFETCH_H
#define CTDP_PREFETCH_H 1

/* Prefetches of lines that the caller is about to write.
 *
 * GCC compiles a write prefetch (__builtin_prefetch(p, 1), Open vSwitch's
 * OVS_PREFETCH_WRITE) to a read prefetch unless the build targets
 * PREFETCHW (-mprfchw), which a generic x86-64 build does not.  The line
 * then comes in to be read, and the first store or locked instruction on
 * it waits again, to own it.  On the reference machine that wait, in the
 * conn lock's exchange, held a quarter of the samples of lookups among 1M
 * conns on two threads, which PREFETCHW made 1.19-1.34x faster
 * (docs/BENCHMARKS.md).  ctdp_prefetch_write()
 * issues PREFETCHW on CPUs that have it, found once at start, and the
 * compiler's write prefetch elsewhere. */

#include <stdbool.h>
#include "compiler.h"

extern bool ctdp_prefetchw_ok;

static inline void
ctdp_prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    if (OVS_LIKELY(ctdp_prefetchw_ok)) {
        __asm__ volatile("prefetchw %0" : : "m" (*(const char *) p));
        return;
    }
#endif
    __builtin_prefetch(p, 1);
}

#endif /* ctdp-prefetch.h */
