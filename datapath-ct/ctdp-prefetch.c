/* Whether the CPU has PREFETCHW (ctdp-prefetch.h). */
#include <config.h>
#include "ctdp-prefetch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

bool ctdp_prefetchw_ok;

OVS_CONSTRUCTOR(ctdp_prefetch_init)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned int eax, ebx, ecx, edx;

    ctdp_prefetchw_ok = (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx)
                         && ecx & bit_PRFCHW);
#endif
}
