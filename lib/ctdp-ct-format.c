#include <config.h>
#include "ctdp-ct-format.h"

#include <netinet/in.h>
#include "ctdp-ct.h"
#include "packets.h"
#include "util.h"

/* Protocol names as Open vSwitch prints them; others as numbers. */
static void
format_proto(struct ds *s, uint8_t proto)
{
    const char *name = (proto == IPPROTO_ICMP ? "icmp"
                        : proto == IPPROTO_ICMPV6 ? "icmpv6"
                        : proto == IPPROTO_TCP ? "tcp"
                        : proto == IPPROTO_UDP ? "udp"
                        : proto == IPPROTO_SCTP ? "sctp"
                        : proto == IPPROTO_UDPLITE ? "udplite"
                        : proto == IPPROTO_DCCP ? "dccp"
                        : proto == IPPROTO_IGMP ? "igmp"
                        : NULL);

    if (name) {
        ds_put_cstr(s, name);
    } else {
        ds_put_format(s, "%u", proto);
    }
}

static void
format_tuple(struct ds *s, const struct ctdp_tuple *t)
{
    if (t->l3 == CTDP_L3_IPV4) {
        ds_put_format(s, "src="IP_FMT",dst="IP_FMT, IP_ARGS(t->src.ip4),
                      IP_ARGS(t->dst.ip4));
    } else {
        ds_put_cstr(s, "src=");
        ipv6_format_addr(&t->src.ip6, s);
        ds_put_cstr(s, ",dst=");
        ipv6_format_addr(&t->dst.ip6, s);
    }
    if ((t->nw_proto == IPPROTO_ICMP && t->l3 == CTDP_L3_IPV4)
        || (t->nw_proto == IPPROTO_ICMPV6 && t->l3 == CTDP_L3_IPV6)) {
        ds_put_format(s, ",id=%u,type=%u,code=%u", ntohs(t->sport),
                      t->icmp.type, t->icmp.code);
    } else if (ctdp_tuple_has_ports(t->nw_proto)) {
        ds_put_format(s, ",sport=%u,dport=%u", ntohs(t->sport),
                      ntohs(t->dport));
    }
}

static void
format_counters(struct ds *s, uint64_t packets, uint64_t bytes)
{
    if (packets || bytes) {
        ds_put_format(s, ",packets=%"PRIu64",bytes=%"PRIu64, packets, bytes);
    }
}

static void
format_status(struct ds *s, uint32_t status)
{
    const char *sep = "";

    ds_put_cstr(s, ",status=");
#define CTDP_STATUS(NAME, BIT, STR)             \
    if (status & CTDP_S_##NAME) {               \
        ds_put_format(s, "%s%s", sep, STR);     \
        sep = "|";                              \
    }
    CTDP_STATUS_BITS
#undef CTDP_STATUS
}

void
ctdp_ct_format_entry(struct ds *s, const struct ctdp_ct_entry *e,
                     const struct ctdp_ct_format *f)
{
    format_proto(s, e->orig.nw_proto);
    ds_put_cstr(s, ",orig=(");
    format_tuple(s, &e->orig);
    if (f->stats) {
        format_counters(s, e->packets[CTDP_DIR_ORIG], e->bytes[CTDP_DIR_ORIG]);
    }
    ds_put_cstr(s, "),reply=(");
    format_tuple(s, &e->reply);
    if (f->stats) {
        format_counters(s, e->packets[CTDP_DIR_REPLY],
                        e->bytes[CTDP_DIR_REPLY]);
        ds_put_strftime_msec(s, "),start=%Y-%m-%dT%H:%M:%S.###",
                             e->start + f->wall_offset, false);
    } else {
        ds_put_char(s, ')');
    }
    if (f->verbose) {
        ds_put_format(s, ",id=%"PRIu64, e->id);
    }
    if (e->orig.zone) {
        ds_put_format(s, ",zone=%u", e->orig.zone);
    }
    if (f->verbose) {
        format_status(s, e->status);
    }
    if (f->stats) {
        long long left = e->expires - f->now;

        ds_put_format(s, ",timeout=%lld", left > 0 ? (left + 999) / 1000 : 0);
    }
    if (e->mark) {
        ds_put_format(s, ",mark=%"PRIu32, e->mark);
    }
    if (!ovs_u128_is_zero(e->label)) {
        ovs_be128 value = hton128(e->label);

        ds_put_cstr(s, ",labels=");
        ds_put_hex(s, &value, sizeof value);
    }
    if (e->l4_state) {
        ds_put_format(s, ",protoinfo=(state=%s)", e->l4_state);
    }
}

/* Prints the statistics as `conntrack -S` does, on one line. */
void
ctdp_ct_format_stats(struct ds *s, const struct ctdp_ct_stats *st)
{
#define CTDP_STAT(NAME, HELP) ds_put_format(s, #NAME"=%"PRIu64" ", st->NAME);
    CTDP_STATS
#undef CTDP_STAT
    ds_chomp(s, ' ');
}
