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
    } else if (ctdp_tuple_has_ports(t->nw_proto)
               || t->nw_proto == IPPROTO_GRE) {
        /* GRE's keys are ports to Open vSwitch, as the kernel's netlink
         * gives them. */
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

static void
format_tcp_flags(struct ds *s, const char *name, uint8_t flags)
{
    const char *sep = "";

    ds_put_format(s, ",%s=", name);
    if (!flags) {
        ds_put_char(s, '0');
    }
#define CTDP_TCP_FLAG(NAME, VALUE)              \
    if (flags & VALUE) {                        \
        ds_put_format(s, "%s" #NAME, sep);      \
        sep = "|";                              \
    }
    CTDP_TCP_FLAGS
#undef CTDP_TCP_FLAG
}

/* OVS's verbose TCP protoinfo.  The kernel and ctdp keep one state, so
 * both directions show it, as OVS shows the kernel's. */
static void
format_tcp_verbose(struct ds *s, const struct ctdp_ct_entry *e)
{
    ds_put_format(s, ",protoinfo=(state_orig=%s,state_reply=%s",
                  e->l4_state, e->l4_state);
    if (e->tcp_wscale[0] || e->tcp_wscale[1]) {
        ds_put_format(s, ",wscale_orig=%u,wscale_reply=%u",
                      e->tcp_wscale[0], e->tcp_wscale[1]);
    }
    format_tcp_flags(s, "flags_orig", e->tcp_flags[0]);
    format_tcp_flags(s, "flags_reply", e->tcp_flags[1]);
    ds_put_char(s, ')');
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
    }
    ds_put_char(s, ')');
    if (f->stats && e->timestamp) {
        ds_put_strftime_msec(s, ",start=%Y-%m-%dT%H:%M:%S.###",
                             e->start + f->wall_offset, false);
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
    if (e->l4_state && f->verbose && e->orig.nw_proto == IPPROTO_TCP) {
        format_tcp_verbose(s, e);
    } else if (e->l4_state && f->verbose
               && e->orig.nw_proto == IPPROTO_SCTP) {
        ds_put_format(s, ",protoinfo=(state=%s,vtag_orig=%"PRIu32
                      ",vtag_reply=%"PRIu32")", e->l4_state,
                      e->sctp_vtag[CTDP_DIR_ORIG],
                      e->sctp_vtag[CTDP_DIR_REPLY]);
    } else if (e->l4_state) {
        ds_put_format(s, ",protoinfo=(state=%s)", e->l4_state);
    }
    if (e->helper) {
        ds_put_format(s, ",helper=%s", e->helper);
    }
}

/* Prints an expectation as Open vSwitch's dpctl/dump-conntrack-exp: the
 * expected conn's tuples (source port 0: any) and its master's, as the
 * "parent". */
void
ctdp_ct_format_expect(struct ds *s, const struct ctdp_ct_expect_entry *x,
                      const struct ctdp_ct_format *f)
{
    struct ctdp_tuple reply;

    ctdp_tuple_invert(&x->tuple, &reply);
    format_proto(s, x->tuple.nw_proto);
    ds_put_cstr(s, ",orig=(");
    format_tuple(s, &x->tuple);
    ds_put_cstr(s, "),reply=(");
    format_tuple(s, &reply);
    ds_put_char(s, ')');
    if (x->tuple.zone) {
        ds_put_format(s, ",zone=%u", x->tuple.zone);
    }
    if (f->stats) {
        long long left = x->expires - f->now;

        ds_put_format(s, ",timeout=%lld", left > 0 ? (left + 999) / 1000 : 0);
    }
    ds_put_format(s, ",helper=%s,parent=(", x->helper);
    format_tuple(s, &x->master);
    ds_put_char(s, ')');
}

/* ---- The kernel's /proc/net/nf_conntrack format ----------------------- */

static const char *
proc_l4_name(uint8_t proto)
{
    switch (proto) {
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_DCCP: return "dccp";
    case IPPROTO_GRE: return "gre";
    case IPPROTO_SCTP: return "sctp";
    case IPPROTO_UDPLITE: return "udplite";
    case IPPROTO_ICMPV6: return "icmpv6";
    default: return "unknown";
    }
}

/* A tuple as the kernel's print_tuple() writes it, with IPv6 addresses in
 * full (%pI6) for /proc, or shortened (inet_ntop) as conntrack-tools
 * prints them. */
static void
proc_tuple(struct ds *s, const struct ctdp_tuple *t, bool full_ipv6)
{
    if (t->l3 == CTDP_L3_IPV4) {
        ds_put_format(s, "src="IP_FMT" dst="IP_FMT" ", IP_ARGS(t->src.ip4),
                      IP_ARGS(t->dst.ip4));
    } else {
        for (int i = 0; i < 2; i++) {
            const struct in6_addr *addr = i ? &t->dst.ip6 : &t->src.ip6;
            const uint8_t *a = addr->s6_addr;

            ds_put_cstr(s, i ? "dst=" : "src=");
            if (!full_ipv6) {
                ipv6_format_addr(addr, s);
                ds_put_char(s, ' ');
                continue;
            }
            for (int j = 0; j < 16; j += 2) {
                ds_put_format(s, "%02x%02x%s", a[j], a[j + 1],
                              j < 14 ? ":" : " ");
            }
        }
    }
    if ((t->nw_proto == IPPROTO_ICMP && t->l3 == CTDP_L3_IPV4)
        || (t->nw_proto == IPPROTO_ICMPV6 && t->l3 == CTDP_L3_IPV6)) {
        ds_put_format(s, "type=%u code=%u id=%u ", t->icmp.type,
                      t->icmp.code, ntohs(t->sport));
    } else if (ctdp_tuple_has_ports(t->nw_proto)) {
        ds_put_format(s, "sport=%u dport=%u ", ntohs(t->sport),
                      ntohs(t->dport));
    } else if (t->nw_proto == IPPROTO_GRE) {
        ds_put_format(s, "srckey=0x%x dstkey=0x%x ", ntohs(t->sport),
                      ntohs(t->dport));
    }
}

static long long
seconds_left(const struct ctdp_ct_entry *e, long long now)
{
    return e->expires > now ? (e->expires - now) / 1000 : 0;
}

/* The counters of one direction, when nf_conntrack_acct counts them. */
static void
proc_counters(struct ds *s, const struct ctdp_ct_entry *e,
              enum ctdp_ct_dir dir)
{
    if (e->acct) {
        ds_put_format(s, "packets=%"PRIu64" bytes=%"PRIu64" ",
                      e->packets[dir], e->bytes[dir]);
    }
}

/* Prints 'e' as a line of the kernel's /proc/net/nf_conntrack (counters as
 * `conntrack -L` shows them when nf_conntrack_acct is on).
 * 'use' is 1: the table's reference, the only one a ctdp conn has. */
void
ctdp_ct_format_proc(struct ds *s, const struct ctdp_ct_entry *e,
                    long long now)
{
    bool v4 = e->orig.l3 == CTDP_L3_IPV4;

    ds_put_format(s, "%-8s %u %-8s %u %lld ", v4 ? "ipv4" : "ipv6",
                  v4 ? 2 : 10, proc_l4_name(e->orig.nw_proto),
                  e->orig.nw_proto, seconds_left(e, now));
    if (e->l4_state) {
        ds_put_format(s, "%s ", e->l4_state);
    }
    if (e->orig.nw_proto == IPPROTO_GRE) {
        ds_put_format(s, "timeout=%"PRIu32", stream_timeout=%"PRIu32" ",
                      e->gre_timeout, e->gre_stream_timeout);
    }
    proc_tuple(s, &e->orig, true);
    proc_counters(s, e, CTDP_DIR_ORIG);
    if (!(e->status & CTDP_S_SEEN_REPLY)) {
        ds_put_cstr(s, "[UNREPLIED] ");
    }
    proc_tuple(s, &e->reply, true);
    proc_counters(s, e, CTDP_DIR_REPLY);
    if (e->status & CTDP_S_ASSURED) {
        ds_put_cstr(s, "[ASSURED] ");
    }
    ds_put_format(s, "mark=%"PRIu32" zone=%u use=1", e->mark, e->orig.zone);
}

/* Prints an expectation as a line of the kernel's
 * /proc/net/nf_conntrack_expect: seconds left, family and protocol, the
 * tuple, the helper. */
void
ctdp_ct_format_expect_proc(struct ds *s, const struct ctdp_ct_expect_entry *x,
                           long long now)
{
    long long left = x->expires - now;

    ds_put_format(s, "%lld l3proto = %u proto=%u ", left > 0 ? left / 1000 : 0,
                  x->tuple.l3 == CTDP_L3_IPV4 ? 2 : 10, x->tuple.nw_proto);
    proc_tuple(s, &x->tuple, false);
    ds_put_cstr(s, x->helper);
}

/* An expectation's event in `conntrack -E expect`'s layout: seconds left,
 * protocol, the expected tuple, its mask (any source port), the master's
 * tuple, the helper. */
static void
format_addr(struct ds *s, const char *name, const struct ctdp_tuple *t,
            const union ctdp_addr *a)
{
    ds_put_format(s, "%s=", name);
    if (t->l3 == CTDP_L3_IPV4) {
        ds_put_format(s, IP_FMT" ", IP_ARGS(a->ip4));
    } else {
        ipv6_format_addr(&a->ip6, s);
        ds_put_char(s, ' ');
    }
}

static void
format_expect_event(struct ds *s, const char *type,
                    const struct ctdp_ct_expect_entry *x, long long now)
{
    static const union ctdp_addr all_ones = {
        .ip6 = { .s6_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff } },
    };
    const struct ctdp_tuple *m = &x->master;
    long long left = x->expires - now;

    ds_put_format(s, "%9s %lld proto=%u ", type, left > 0 ? left / 1000 : 0,
                  x->tuple.nw_proto);
    proc_tuple(s, &x->tuple, false);
    format_addr(s, "mask-src", &x->tuple, &all_ones);
    format_addr(s, "mask-dst", &x->tuple, &all_ones);
    ds_put_cstr(s, "sport=0 dport=65535 ");
    format_addr(s, "master-src", m, &m->src);
    format_addr(s, "master-dst", m, &m->dst);
    ds_put_format(s, "sport=%u dport=%u class=0 helper=%s", ntohs(m->sport),
                  ntohs(m->dport), x->helper);
}

/* Prints 'ev' as `conntrack -E` does (libnetfilter_conntrack's default
 * output): the event type right-aligned in 9 columns, then the conn as
 * `conntrack -L` shows it.  Every event carries the seconds left at its
 * time, but DESTROY only when not 0 (an expired conn), and DESTROY adds
 * the final counters, as the kernel's events do with accounting on.
 * Mark and zone appear when they are not zero, as in the kernel's
 * events.  (The kernel adds "[USERSPACE] portid=N" to a destroy that a
 * netlink client asked for; ctdp has no such clients.) */
void
ctdp_ct_format_event(struct ds *s, const struct ctdp_ct_event *ev)
{
    static const char *const types[] = {
        [CTDP_EVENT_NEW] = "[NEW]",
        [CTDP_EVENT_UPDATE] = "[UPDATE]",
        [CTDP_EVENT_DESTROY] = "[DESTROY]",
        [CTDP_EVENT_EXPECT_NEW] = "[NEW]",
        [CTDP_EVENT_EXPECT_DESTROY] = "[DESTROY]",
    };
    const struct ctdp_ct_entry *e = &ev->entry;
    bool destroy = ev->type == CTDP_EVENT_DESTROY;
    long long left = seconds_left(e, ev->time);

    if (ev->type == CTDP_EVENT_EXPECT_NEW
        || ev->type == CTDP_EVENT_EXPECT_DESTROY) {
        format_expect_event(s, types[ev->type], &ev->expect, ev->time);
        return;
    }

    ds_put_format(s, "%9s %-8s %u ", types[ev->type],
                  proc_l4_name(e->orig.nw_proto), e->orig.nw_proto);
    if (!destroy || left) {
        ds_put_format(s, "%lld ", left);
    }
    if (e->l4_state) {
        ds_put_format(s, "%s ", e->l4_state);
    }
    proc_tuple(s, &e->orig, false);
    if (destroy) {
        proc_counters(s, e, CTDP_DIR_ORIG);
    }
    if (!(e->status & CTDP_S_SEEN_REPLY)) {
        ds_put_cstr(s, "[UNREPLIED] ");
    }
    proc_tuple(s, &e->reply, false);
    if (destroy) {
        proc_counters(s, e, CTDP_DIR_REPLY);
    }
    if (e->status & CTDP_S_ASSURED) {
        ds_put_cstr(s, "[ASSURED] ");
    }
    if (e->mark) {
        ds_put_format(s, "mark=%"PRIu32" ", e->mark);
    }
    if (e->orig.zone) {
        ds_put_format(s, "zone=%u ", e->orig.zone);
    }
    ds_chomp(s, ' ');
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
