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
