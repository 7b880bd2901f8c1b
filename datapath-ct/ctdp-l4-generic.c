/* The generic tracker (the kernel's nf_conntrack_proto_generic.c), for
 * every protocol without its own: conns by addresses (and ports, for
 * DCCP), 600 s, never assured. */
#include <config.h>
#include "ctdp-ct-private.h"

static bool
generic_new_ok(const struct ctdp_tuple *t OVS_UNUSED)
{
    return true;
}

static enum ctdp_verdict
generic_packet(struct ctdp_conn *conn OVS_UNUSED,
               const struct ctdp_l4_ctx *ctx, long long *timeout)
{
    *timeout = ctdp_timeout_ms(ctx, CTDP_TM_GENERIC);
    return CTDP_ACCEPT;
}

const struct ctdp_l4proto ctdp_l4_generic = {
    .name = "generic",
    .allow_clash = true,
    .repeatable = true,
    .steady = true,
    .steady_slot = CTDP_TM_GENERIC,
    .new_ok = generic_new_ok,
    .packet = generic_packet,
};
