/* The generic tracker (the kernel's nf_conntrack_proto_generic.c), for
 * every protocol without its own: conns by addresses (and ports, for
 * DCCP), 600 s, never assured. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <netinet/in.h>

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
    .new_ok = generic_new_ok,
    .packet = generic_packet,
};

/* Returns the tracker for tuple 't''s protocol. */
const struct ctdp_l4proto *
ctdp_l4proto_find(const struct ctdp_tuple *t)
{
    switch (t->nw_proto) {
    case IPPROTO_TCP:
        return &ctdp_l4_tcp;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
        return &ctdp_l4_udp;
    case IPPROTO_ICMP:
        return t->l3 == CTDP_L3_IPV4 ? &ctdp_l4_icmp
                                      : &ctdp_l4_icmp_wrong_family;
    case IPPROTO_ICMPV6:
        return t->l3 == CTDP_L3_IPV6 ? &ctdp_l4_icmp
                                      : &ctdp_l4_icmp_wrong_family;
    case IPPROTO_SCTP:
        return &ctdp_l4_sctp;
    case IPPROTO_GRE:
        return &ctdp_l4_gre;
    default:
        return &ctdp_l4_generic;
    }
}
