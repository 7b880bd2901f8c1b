/* The ICMP and ICMPv6 query tracker (the kernel's
 * nf_conntrack_proto_icmp.c and _icmpv6.c).
 *
 * Only a request (echo, timestamp, information, address mask; ICMPv6 echo
 * and node information) makes a conn; its answer is the reply direction.
 * Conns time out after 30 s (nf_conntrack_icmp_timeout,
 * nf_conntrack_icmpv6_timeout) and are never assured.  ICMP errors are not
 * tracked here: ctdp-ct.c relates them to the conn of the packet they
 * quote. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <netinet/icmp6.h>
#include "packets.h"

static bool
icmp_new_ok(const struct ctdp_tuple *t)
{
    if (t->l3 == CTDP_L3_IPV4) {
        return t->icmp.type == ICMP4_ECHO_REQUEST
               || t->icmp.type == ICMP4_TIMESTAMP
               || t->icmp.type == ICMP4_INFOREQUEST
               || t->icmp.type == 17;           /* Address mask request. */
    }
    return t->icmp.type == ICMP6_ECHO_REQUEST
           || t->icmp.type == 139;              /* Node information query. */
}

static enum ctdp_verdict
icmp_packet(struct ctdp_conn *conn,
            const struct ctdp_l4_ctx *ctx, long long *timeout)
{
    *timeout = ctdp_timeout_ms(ctx, conn->key.l3 == CTDP_L3_IPV4
                                    ? CTDP_TM_ICMP : CTDP_TM_ICMPV6);
    return CTDP_ACCEPT;
}

const struct ctdp_l4proto ctdp_l4_icmp = {
    .name = "icmp",
    .allow_clash = false,
    .repeatable = true,
    .new_ok = icmp_new_ok,
    .packet = icmp_packet,
};

/* ICMP carried in IPv6, or ICMPv6 in IPv4: the kernel's
 * nf_conntrack_icmp_packet() (and _icmpv6_) refuse the other family, so
 * such a packet is invalid and makes no conn.  (It is not checksummed
 * either: ctdp-tuple.c checks ICMP in IPv4 and ICMPv6 in IPv6 only.) */
static bool
wrong_family_new_ok(const struct ctdp_tuple *t OVS_UNUSED)
{
    return false;
}

static enum ctdp_verdict
wrong_family_packet(struct ctdp_conn *conn OVS_UNUSED,
                    const struct ctdp_l4_ctx *ctx OVS_UNUSED,
                    long long *timeout OVS_UNUSED)
{
    return CTDP_INVALID;
}

const struct ctdp_l4proto ctdp_l4_icmp_wrong_family = {
    .name = "icmp",
    .allow_clash = false,
    .new_ok = wrong_family_new_ok,
    .packet = wrong_family_packet,
};
