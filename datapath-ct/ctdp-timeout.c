/* Timeouts: the kernel's defaults and per-zone policies over them. */
#include <config.h>
#include "ctdp-ct-private.h"

static const struct {
    const char *name;
    uint32_t secs;
} slots[CTDP_TM_N] = {
#define CTDP_TIMEOUT(ENUM, NAME, SECS) [CTDP_TM_##ENUM] = { NAME, SECS },
    CTDP_TIMEOUTS
#undef CTDP_TIMEOUT
};

const char *
ctdp_timeout_slot_name(enum ctdp_timeout_slot slot)
{
    return slot < CTDP_TM_N ? slots[slot].name : NULL;
}

uint32_t
ctdp_timeout_default(enum ctdp_timeout_slot slot)
{
    return slots[slot].secs;
}

/* Makes 'policy' keep every default. */
void
ctdp_timeout_policy_init(struct ctdp_timeout_policy *policy)
{
    for (size_t i = 0; i < CTDP_TM_N; i++) {
        policy->secs[i] = -1;
    }
}

/* Returns a copy of 'policy', or of the kernel's defaults if it is NULL,
 * on cache lines of its own: every packet reads the policy it is tracked
 * by, and a line it shared with something another thread writes would
 * miss at every read.  Freed with ctdp_timeout_policy_free(). */
struct ctdp_timeout_policy *
ctdp_timeout_policy_clone(const struct ctdp_timeout_policy *policy)
{
    struct ctdp_timeout_policy *copy
        = xmalloc_cacheline(ROUND_UP(sizeof *copy, CACHE_LINE_SIZE));

    if (policy) {
        *copy = *policy;
    } else {
        ctdp_timeout_policy_init(copy);
    }
    return copy;
}

void
ctdp_timeout_policy_free(void *policy)
{
    free_cacheline(policy);
}

/* Returns the timeout of 'slot' in ms for the packet of 'ctx': its zone's
 * policy's, else the tracker's default policy's, else the kernel's. */
long long
ctdp_timeout_ms(const struct ctdp_l4_ctx *ctx, enum ctdp_timeout_slot slot)
{
    int64_t secs = ctx->policy ? ctx->policy->secs[slot] : -1;

    if (secs < 0) {
        secs = ctx->defaults->secs[slot];
    }
    return (secs >= 0 ? secs : slots[slot].secs) * 1000LL;
}
