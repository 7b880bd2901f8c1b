/* NAT in the tracker (ctdp-nat.c), as the Linux kernel's nf_nat_core.c
 * binds and nf_nat_proto.c rewrites: port and address selection (kept
 * source, full range, exhausted range, bounded search, persistent, hash,
 * random), SNAT and DNAT over IPv4 and IPv6, replies translated back, the
 * ct_state NAT bits, checksums after every rewrite (checked against a full
 * recomputation, not against the tracker's own parser), ICMP errors both
 * ways, reply-tuple clashes (between hosts, with an un-NATed commit, and
 * between two threads racing to confirm), dumps and flushes.
 *
 * The addresses: inside hosts H (10.0.0.x), the SNAT address A
 * (192.0.2.1), servers S (198.51.100.x), a router R on the way
 * (203.0.113.1). */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-ct-private.h"
#include "ctdp-pkt.h"
#include "ctdp-tuple.h"
#include "ctdp-unit.h"

#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csum.h"
#include "dp-packet.h"
#include "hash.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "util.h"

#define UDP IPPROTO_UDP
#define TCP IPPROTO_TCP
#define ICMP IPPROTO_ICMP
#define ICMP6 IPPROTO_ICMPV6

/* ICMP tuples carry the type and code where the destination port goes:
 * the 'dport' of tpkt_tuple(). */
#define ECHO4_REQ (ICMP4_ECHO_REQUEST << 8)
#define ECHO4_REP (ICMP4_ECHO_REPLY << 8)
#define ECHO6_REQ (ICMP6_ECHO_REQUEST << 8)
#define ECHO6_REP (ICMP6_ECHO_REPLY << 8)

static const char *const H1 = "10.0.0.1", *const H2 = "10.0.0.2";
static const char *const A = "192.0.2.1";
static const char *const S = "198.51.100.7";
static const char *const R = "203.0.113.1";
static const char *const H6 = "fd00::1", *const S6 = "2001:db8:5::7";
static const char *const R6 = "2001:db8:99::1";

static struct ctdp_ct_stats
stats_of(const struct ctdp_ct *ct)
{
    struct ctdp_ct_stats s;

    ctdp_ct_get_stats(ct, &s);
    return s;
}

/* ---- Actions ----------------------------------------------------------- */

/* Returns ct(zone, [commit,] nat(src|dst=min[-max][:min_port[-max_port]]))
 * with 'flags' (CTDP_NAT_SRC or CTDP_NAT_DST, and RANDOM, HASH,
 * PERSISTENT); 'min' NULL leaves the addresses alone, 'min_port' 0 the
 * ports. */
static struct ctdp_ct_action
nat_action(bool commit, uint8_t flags, const char *min, const char *max,
           uint16_t min_port, uint16_t max_port)
{
    struct ctdp_ct_action a = tpkt_action(0, commit);
    struct ctdp_nat_range *r = &a.nat_range;

    a.nat = true;
    r->flags = flags;
    if (min) {
        struct tpkt_ip ip = tpkt_ip(min, max ? max : min);

        r->l3 = ip.v6 ? CTDP_L3_IPV6 : CTDP_L3_IPV4;
        r->min_addr = ip.src;
        r->max_addr = ip.dst;
    }
    if (min_port) {
        r->flags |= CTDP_NAT_PORTS;
        r->min_port = min_port;
        r->max_port = max_port ? max_port : min_port;
    }
    ovs_assert(!ctdp_ct_action_check(&a));
    return a;
}

/* ct(commit, nat(src=min[-max])). */
static struct ctdp_ct_action
snat(const char *min, const char *max)
{
    return nat_action(true, CTDP_NAT_SRC, min, max, 0, 0);
}

/* ct(nat): translates by the conn's binding, as for replies. */
static struct ctdp_ct_action
bare_nat(void)
{
    struct ctdp_ct_action a = tpkt_action(0, false);

    a.nat = true;
    return a;
}

/* ---- Reading and checking packets -------------------------------------- */

static union ctdp_addr
addr_of(const char *s)
{
    return tpkt_ip(s, s).src;
}

static const char *
tuple_str(const struct ctdp_tuple *t, char *buf, size_t size)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    int af = t->l3 == CTDP_L3_IPV6 ? AF_INET6 : AF_INET;

    inet_ntop(af, &t->src, src, sizeof src);
    inet_ntop(af, &t->dst, dst, sizeof dst);
    snprintf(buf, size, "proto %d %s:%u -> %s:%u zone %u", t->nw_proto,
             src, ntohs(t->sport), dst, ntohs(t->dport), t->zone);
    return buf;
}

static bool
tuple_is(const struct ctdp_tuple *got, const struct ctdp_tuple *want)
{
    char a[160], b[160];

    if (ctdp_tuple_equal(got, want)) {
        return true;
    }
    printf("# tuple %s, expected %s\n", tuple_str(got, a, sizeof a),
           tuple_str(want, b, sizeof b));
    return false;
}

/* Does 'pkt' (after ct(), in zone 0) carry the tuple src:sport -> dst:dport
 * of 'proto' (for ICMP, 'dport' is type << 8 | code), as the tracker's
 * parser reads it?  For an ICMP error, 'inner' says to compare its quoted
 * packet's tuple instead. */
static bool
pkt_tuple_is(const struct dp_packet *pkt, bool inner, const char *src,
             const char *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
    struct tpkt_ip ip = tpkt_ip(src, dst);
    struct ctdp_parsed p;
    struct ctdp_tuple want;
    enum ctdp_parse kind = ctdp_tuple_extract(pkt, 0, true, &p);

    if (kind != CTDP_PARSE_ICMP_ERROR && (inner || kind != CTDP_PARSE_OK)) {
        printf("# packet parses as %d\n", kind);
        return false;
    }
    tpkt_tuple(&want, &ip, proto, sport, dport, 0);
    return tuple_is(inner ? &p.inner : &p.key, &want);
}

#define CHECK_PKT(PKT, SRC, DST, PROTO, SPORT, DPORT) \
    CHECK(pkt_tuple_is(PKT, false, SRC, DST, PROTO, SPORT, DPORT))
#define CHECK_QUOTE(PKT, SRC, DST, PROTO, SPORT, DPORT) \
    CHECK(pkt_tuple_is(PKT, true, SRC, DST, PROTO, SPORT, DPORT))

/* The tuple of 'pkt' (its key; zone 0). */
static struct ctdp_tuple
pkt_tuple(const struct dp_packet *pkt)
{
    struct ctdp_parsed p;

    memset(&p, 0, sizeof p);
    ctdp_tuple_extract(pkt, 0, true, &p);
    return p.key;
}

static uint16_t
pkt_sport(const struct dp_packet *pkt)
{
    return ntohs(pkt_tuple(pkt).sport);
}

static uint16_t
get_be16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

/* The checksum of the L4 data 'l4' of 'n' bytes of an IP packet whose
 * header is 'l3', with the pseudo-header unless 'proto' is ICMP, summed
 * from scratch: 0 if the checksum field in 'l4' is right. */
static uint16_t
l4_sum(bool v6, const uint8_t *l3, uint8_t proto, const uint8_t *l4,
       size_t n)
{
    uint32_t partial = 0;

    if (proto != IPPROTO_ICMP) {
        ovs_be32 len = htonl(n), nxt = htonl(proto);

        partial = csum_continue(partial, l3 + (v6 ? 8 : 12), v6 ? 32 : 8);
        partial = csum_continue(partial, &len, 4);
        partial = csum_continue(partial, &nxt, 4);
    }
    return ntohs(csum_finish(csum_continue(partial, l4, n)));
}

static size_t
csum_field_ofs(uint8_t proto)
{
    return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

/* Checks the IP packet at 'l3' of 'size' bytes (the builders' layout: no
 * IPv4 options, no IPv6 extension headers): the IPv4 header checksum and,
 * if the whole L4 part is present, the TCP, UDP, ICMP or ICMPv6 checksum
 * (a UDP checksum of 0 is "none" and passes).  'what' names the packet in
 * diagnostics. */
static bool
ip_csums_ok(const uint8_t *l3, size_t size, const char *what)
{
    bool v6 = l3[0] >> 4 == 6;
    size_t hlen = v6 ? IPV6_HEADER_LEN : (l3[0] & 0x0f) * 4;
    uint8_t proto = v6 ? l3[6] : l3[9];
    size_t ip_len = v6 ? IPV6_HEADER_LEN + get_be16(l3 + 4)
                       : get_be16(l3 + 2);
    const uint8_t *l4 = l3 + hlen;
    bool ok = true;

    if (!v6 && ntohs(csum(l3, hlen))) {
        printf("# %s: wrong IPv4 header checksum\n", what);
        ok = false;
    }
    if (ip_len > size) {
        return ok;              /* A truncated quote: no L4 sum. */
    }
    if (proto == IPPROTO_UDP && !get_be16(l4 + 6)) {
        return ok;
    }
    if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP
         || proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
        && l4_sum(v6, l3, proto, l4, ip_len - hlen)) {
        printf("# %s: wrong L4 (proto %d) checksum %#06x\n", what, proto,
               get_be16(l4 + csum_field_ofs(proto)));
        ok = false;
    }
    return ok;
}

/* Checks every checksum of 'pkt', a builder's frame after ct(): the IP
 * and L4 ones and, for an ICMP error, the quoted packet's IPv4 header and
 * (if quoted whole) L4 checksums. */
static bool
csums_ok(const struct dp_packet *pkt)
{
    const uint8_t *l3 = (const uint8_t *) dp_packet_data(pkt) + TPKT_L3_OFS;
    size_t size = dp_packet_size(pkt) - TPKT_L3_OFS;
    bool v6 = l3[0] >> 4 == 6;
    uint8_t proto = v6 ? l3[6] : l3[9];
    size_t hlen = v6 ? IPV6_HEADER_LEN : (l3[0] & 0x0f) * 4;
    const uint8_t *l4 = l3 + hlen;
    bool ok = ip_csums_ok(l3, size, "packet");

    if ((proto == IPPROTO_ICMP && (l4[0] == ICMP4_DST_UNREACH
                                   || l4[0] == ICMP4_TIME_EXCEEDED))
        || (proto == IPPROTO_ICMPV6 && l4[0] < 128)) {
        ok = ip_csums_ok(l4 + 8, size - hlen - 8, "quoted packet") && ok;
    }
    return ok;
}

#define CHECK_CSUMS(PKT) CHECK(csums_ok(PKT))

/* The UDP checksum field of 'pkt'. */
static uint16_t
udp_csum_field(const struct dp_packet *pkt)
{
    return get_be16((const uint8_t *) dp_packet_data(pkt)
                    + tpkt_l4_ofs(pkt) + 6);
}

/* Runs 'a' on 'pkt' at 'now', checks that it comes out with ct_state
 * 'state' and correct checksums, and returns it (the caller frees it with
 * tpkt_free()); NULL if the tracker dropped it. */
static struct dp_packet *
run(struct ctdp_ct *ct, struct dp_packet *pkt, const struct ctdp_ct_action *a,
    int state, long long now)
{
    int got = tpkt_ct(ct, pkt, a, now);

    CHECK_STATE(got, state);
    if (got == TPKT_DROPPED) {
        return NULL;
    }
    CHECK_CSUMS(pkt);
    return pkt;
}

/* Frees 'pkt' if not NULL. */
static void
done(struct ctdp_ct *ct, struct dp_packet *pkt)
{
    if (pkt) {
        tpkt_free(ct, pkt);
    }
}

/* Commits UDP h:sport -> dst:dport with 'a' at time 0 and returns the
 * source port it leaves with (0 if dropped), after checking that it
 * leaves from 'want_src' (if not NULL), as trk|new plus 'nat_bits'. */
static uint16_t
udp_out(struct ctdp_ct *ct, const char *h, uint16_t sport, const char *dst,
        uint16_t dport, const struct ctdp_ct_action *a, const char *want_src,
        int nat_bits)
{
    struct tpkt_ip ip = tpkt_ip(h, dst);
    struct dp_packet *pkt = tpkt_udp(&ip, sport, dport, 8);
    int state = tpkt_ct(ct, pkt, a, 0);
    uint16_t port;

    if (state == TPKT_DROPPED) {
        return 0;
    }
    CHECK_STATE(state, TRK_NEW | nat_bits);
    CHECK_CSUMS(pkt);
    port = pkt_sport(pkt);
    if (want_src) {
        CHECK_PKT(pkt, want_src, dst, UDP, port, dport);
    }
    tpkt_free(ct, pkt);
    return port;
}

/* Looks up the conn whose original tuple is UDP src:sport -> dst:dport in
 * zone 0 at time 0; an entry with id 0 if there is none. */
static struct ctdp_ct_entry
udp_entry(struct ctdp_ct *ct, const char *src, uint16_t sport,
          const char *dst, uint16_t dport)
{
    struct tpkt_ip ip = tpkt_ip(src, dst);
    struct ctdp_ct_entry e;
    struct ctdp_tuple t;

    tpkt_tuple(&t, &ip, UDP, sport, dport, 0);
    if (!tpkt_find(ct, &t, 0, &e)) {
        memset(&e, 0, sizeof e);
    }
    return e;
}

/* Checks that the 'n' entries have pairwise different reply tuples;
 * returns the number of pairs that share one. */
static int
count_reply_clashes(const struct ctdp_ct_entry *e, size_t n)
{
    int clashes = 0;

    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (ctdp_tuple_equal(&e[i].reply, &e[j].reply)) {
                char buf[160];

                printf("# two conns with reply tuple %s\n",
                       tuple_str(&e[i].reply, buf, sizeof buf));
                clashes++;
            }
        }
    }
    return clashes;
}

/* ---- Port selection ---------------------------------------------------- */

/* SNAT keeps what it can: a free source port is kept on the new address,
 * and a source already inside the range is left alone altogether (a null
 * binding: SRC_NAT_DONE without SRC_NAT, no snat bit, packet unchanged). */
static void
test_snat_keeps_free_port(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat(A, NULL);
    struct ctdp_ct_action in_range = snat("10.0.0.0", "10.0.0.255");
    struct tpkt_ip sa = tpkt_ip(S, A);
    struct ctdp_ct_entry e;
    struct ctdp_tuple reply;

    CHECK_EQ(udp_out(ct, H1, 5000, S, 53, &a, A, CS_SRC_NAT), 5000);
    e = udp_entry(ct, H1, 5000, S, 53);
    CHECK(e.id != 0);
    tpkt_tuple(&reply, &sa, UDP, 53, 5000, 0);
    CHECK(tuple_is(&e.reply, &reply));
    CHECK_EQ(e.status & (CTDP_S_SRC_NAT | CTDP_S_DST_NAT
                         | CTDP_S_SRC_NAT_DONE | CTDP_S_DST_NAT_DONE),
             CTDP_S_SRC_NAT | CTDP_S_SRC_NAT_DONE);

    CHECK_EQ(udp_out(ct, H2, 6000, S, 53, &in_range, H2, 0), 6000);
    e = udp_entry(ct, H2, 6000, S, 53);
    CHECK(e.status & CTDP_S_SRC_NAT_DONE);
    CHECK(!(e.status & (CTDP_S_SRC_NAT | CTDP_S_DST_NAT)));
    tpkt_ct_destroy(ct);
}

/* Without a port range, a taken source port is replaced from the kernel's
 * classes: >= 1024 from 1024-65535, 512-1023 from 600-1023, below 512
 * from 1-511.  Two inside hosts with the same source port behind one
 * address get different reply tuples, and each one's replies reach it. */
static void
test_snat_port_taken_full_range(void)
{
    static const struct {
        uint16_t sport, min, max;
    } cases[] = {
        { 5000, 1024, 65535 },
        { 700, 600, 1023 },
        { 80, 1, 511 },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat(A, NULL), rpl = bare_nat();

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint16_t sport = cases[i].sport;
        struct ctdp_ct_entry e[2];
        uint16_t p1, p2;

        p1 = udp_out(ct, H1, sport, S, 53, &a, A, CS_SRC_NAT);
        p2 = udp_out(ct, H2, sport, S, 53, &a, A, CS_SRC_NAT);
        CHECK_EQ(p1, sport);
        CHECK(p2 != sport);
        CHECK(p2 >= cases[i].min && p2 <= cases[i].max);
        e[0] = udp_entry(ct, H1, sport, S, 53);
        e[1] = udp_entry(ct, H2, sport, S, 53);
        CHECK_EQ(count_reply_clashes(e, 2), 0);
        CHECK_EQ(ntohs(e[1].reply.dport), p2);

        /* Replies to A:p1 and A:p2 reach H1 and H2. */
        for (int k = 0; k < 2; k++) {
            struct tpkt_ip sa = tpkt_ip(S, A);
            struct dp_packet *pkt;

            pkt = run(ct, tpkt_udp(&sa, 53, k ? p2 : p1, 8), &rpl,
                      TRK_EST_RPL | CS_DST_NAT, 100);
            if (pkt) {
                CHECK_PKT(pkt, S, k ? H2 : H1, UDP, 53, sport);
            }
            done(ct, pkt);
        }
    }
    CHECK_EQ(ctdp_ct_n_conns(ct), 6);
    tpkt_ct_destroy(ct);
}

/* A range of 8 ports takes 8 conns, each on its own port of the range;
 * the 9th is dropped and counted in nat_exhausted; once one conn is
 * flushed, a new conn gets the port it freed. */
static void
test_snat_port_range_exhausted(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_SRC, A, NULL,
                                         40000, 40007);
    struct ctdp_ct_flush_filter f;
    bool used[8] = { false };
    uint16_t port;
    char h[32];

    for (int i = 0; i < 8; i++) {
        snprintf(h, sizeof h, "10.0.1.%d", i + 1);
        port = udp_out(ct, h, 1234, S, 53, &a, A, CS_SRC_NAT);
        if (CHECK(port >= 40000 && port <= 40007)) {
            CHECK(!used[port - 40000]);
            used[port - 40000] = true;
        }
    }
    CHECK_EQ(stats_of(ct).nat_exhausted, 0);
    CHECK_EQ(udp_out(ct, "10.0.1.100", 1234, S, 53, &a, NULL, 0), 0);
    CHECK_EQ(stats_of(ct).nat_exhausted, 1);
    CHECK_EQ(stats_of(ct).drop, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 8);

    /* Free 40003 by flushing the conn whose reply goes to it. */
    ctdp_ct_flush_filter_init(&f);
    f.match_reply = true;
    f.reply.dst = addr_of(A);
    f.reply.dport = htons(40003);
    memset(&f.reply_mask.dst, 0xff, sizeof f.reply_mask.dst);
    f.reply_mask.dport = OVS_BE16_MAX;
    CHECK_EQ(ctdp_ct_flush(ct, &f, 0), 1);
    CHECK_EQ(udp_out(ct, "10.0.1.101", 1234, S, 53, &a, A, CS_SRC_NAT),
             40003);
    CHECK_EQ(stats_of(ct).nat_exhausted, 1);
    tpkt_ct_destroy(ct);
}

/* A range of a single port: the second conn cannot have it and must not
 * be let out with a port outside the range either.  (The kernel returns
 * the single port without looking, and the confirm's clash then drops the
 * packet.)  So: the packet is dropped and counted, and the only conn in
 * the table has the range's port.  Both with a source port outside the
 * range, and with the source port the range's own port (which the kernel
 * and ctdp take without a lookup, leaving the clash to the confirm). */
static void
test_snat_single_port_full(void)
{
    static const uint16_t sports[] = { 1234, 40000 };

    for (size_t i = 0; i < ARRAY_SIZE(sports); i++) {
        struct ctdp_ct *ct = ctdp_ct_create(NULL);
        struct ctdp_ct_action a = nat_action(true, CTDP_NAT_SRC, A, NULL,
                                             40000, 40000);
        struct ctdp_ct_entry e[4];
        uint16_t port;
        size_t n;

        printf("# source port %u\n", sports[i]);
        CHECK_EQ(udp_out(ct, H1, sports[i], S, 53, &a, A, CS_SRC_NAT), 40000);
        port = udp_out(ct, H2, sports[i], S, 53, &a, NULL, CS_SRC_NAT);
        if (!CHECK_EQ(port, 0)) {
            printf("# the second conn left with port %u\n", port);
        }
        CHECK_EQ(stats_of(ct).drop, 1);
        n = tpkt_dump(ct, -1, 0, e, ARRAY_SIZE(e));
        CHECK_EQ(n, 1);
        for (size_t j = 0; j < n && j < ARRAY_SIZE(e); j++) {
            CHECK_EQ(ntohs(e[j].reply.dport), 40000);
        }
        CHECK_EQ(count_reply_clashes(e, MIN(n, ARRAY_SIZE(e))), 0);
        tpkt_ct_destroy(ct);
    }
}

/* A 60000-port range that is full: the next conn is dropped and counted
 * after a bounded search (the kernel's 128 + 64 + 32 + 16 + 8 = 248
 * attempts, plus the lookups of the packet and of keeping its port), not
 * after a scan of 60000 ports. */
static void
test_snat_search_bounded(void)
{
    struct ctdp_ct_params params = {
        .n_buckets = 1 << 17,   /* No growth. */
        /* The bounded search, counted: the table hash runs once per
         * table lookup. */
        .hash = tpkt_counted_hash,
    };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_SRC, A, NULL,
                                         1024, 1024 + 59999);
    struct tpkt_ip ip = tpkt_ip(H1, S);
    int n_kept = 0;

    /* H1's ports 1024-61023 keep their ports and fill the range. */
    for (int i = 0; i < 60000; i++) {
        struct dp_packet *pkt = tpkt_udp(&ip, 1024 + i, 53, 0);

        if (tpkt_ct(ct, pkt, &a, 0) == (TRK_NEW | CS_SRC_NAT)) {
            n_kept += pkt_sport(pkt) == 1024 + i;
            tpkt_free(ct, pkt);
        }
    }
    CHECK_EQ(n_kept, 60000);
    CHECK_EQ(ctdp_ct_n_conns(ct), 60000);

    tpkt_n_hashes = 0;
    CHECK_EQ(udp_out(ct, H2, 2000, S, 53, &a, NULL, 0), 0);
    printf("# %lu table lookups for the full range\n", tpkt_n_hashes);
    CHECK(tpkt_n_hashes > 0);
    CHECK(tpkt_n_hashes <= 248 + 8);
    CHECK_EQ(stats_of(ct).nat_exhausted, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 60000);
    tpkt_ct_destroy(ct);
}

/* 'persistent': the address from a range depends on the source address
 * alone, so a host keeps one address across destinations and source
 * ports; without it, the destination takes part and a host's conns spread
 * over the range.  (Each conn has its own source port, so that the
 * mapping a source port already has, as the kernel's
 * find_appropriate_src(), plays no part.) */
static void
test_snat_persistent(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action pers = nat_action(true, CTDP_NAT_SRC
                                            | CTDP_NAT_PERSISTENT,
                                            "192.0.2.10", "192.0.2.50",
                                            0, 0);
    struct ctdp_ct_action plain = snat("192.0.2.10", "192.0.2.50");
    uint32_t first[2] = { 0, 0 }, lo = ntohl(addr_of("192.0.2.10").ip4);
    int n_same[2] = { 0, 0 };
    char dst[32];

    for (int i = 0; i < 20; i++) {
        snprintf(dst, sizeof dst, "198.51.100.%d", 10 + i);
        for (int k = 0; k < 2; k++) {
            struct tpkt_ip ip = tpkt_ip(k ? H2 : H1, dst);
            struct dp_packet *pkt;
            uint32_t got;

            /* k = 0: H1, persistent; k = 1: H2, not. */
            pkt = run(ct, tpkt_udp(&ip, 5000 + i, 53, 8), k ? &plain : &pers,
                      TRK_NEW | CS_SRC_NAT, 0);
            if (pkt) {
                got = ntohl(pkt_tuple(pkt).src.ip4);
                CHECK(got >= lo && got <= lo + 40);
                first[k] = i ? first[k] : got;
                n_same[k] += got == first[k];
            }
            done(ct, pkt);
        }
    }
    CHECK_EQ(n_same[0], 20);
    /* 19 draws from 41 addresses all equal to the first: (1/41)^19. */
    CHECK(n_same[1] < 20);
    tpkt_ct_destroy(ct);
}

/* A source that has a mapping keeps it for its other conns, as the
 * kernel's find_appropriate_src(): H1:5000, given a random port of a
 * 10000-port range on one address of a 41-address range for its first
 * server, gets the same address and port for two other servers. */
static void
test_snat_source_keeps_mapping(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_SRC, "192.0.2.10",
                                         "192.0.2.50", 20000, 29999);
    struct ctdp_tuple first;
    char dst[32];

    memset(&first, 0, sizeof first);
    for (int i = 0; i < 3; i++) {
        struct tpkt_ip ip;
        struct dp_packet *pkt;

        snprintf(dst, sizeof dst, "198.51.100.%d", 10 + i);
        ip = tpkt_ip(H1, dst);
        pkt = run(ct, tpkt_udp(&ip, 5000, 53, 8), &a, TRK_NEW | CS_SRC_NAT,
                  0);
        if (pkt) {
            struct ctdp_tuple t = pkt_tuple(pkt);

            CHECK(ntohs(t.sport) >= 20000 && ntohs(t.sport) <= 29999);
            if (!i) {
                first = t;
            } else {
                CHECK_EQ(ntohl(t.src.ip4), ntohl(first.src.ip4));
                CHECK_EQ(ntohs(t.sport), ntohs(first.sport));
            }
        }
        done(ct, pkt);
    }
    tpkt_ct_destroy(ct);
}

/* The by-source index holds one entry per source, however many conns the
 * source has (a client talking to many peers from one port), and loses it
 * with the last one: removing a conn from it costs O(1), not a walk of its
 * source's other conns (which made a flush of many conns from one source
 * quadratic). */
static void
test_snat_index_one_entry_per_source(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_SRC, "192.0.2.10",
                                         "192.0.2.10", 20000, 29999);
    struct ctdp_ct_flush_filter f;
    char dst[32];

    for (int i = 0; i < 200; i++) {
        struct tpkt_ip ip;

        snprintf(dst, sizeof dst, "198.51.%d.%d", 100 + i / 100, i % 100);
        ip = tpkt_ip(H1, dst);
        done(ct, run(ct, tpkt_udp(&ip, 5000, 53, 8), &a,
                     TRK_NEW | CS_SRC_NAT, 0));
    }
    CHECK_EQ(ctdp_ct_n_conns(ct), 200);
    CHECK_EQ(ctdp_nat_n_sources(ct), 1);
    ctdp_ct_flush_filter_init(&f);
    CHECK_EQ(ctdp_ct_flush(ct, &f, 0), 200);
    CHECK_EQ(ctdp_nat_n_sources(ct), 0);
    tpkt_ct_destroy(ct);
}

/* Commits UDP h:sport -> S:53 with 'a', flushes everything, and returns
 * the port the conn had. */
static uint16_t
port_then_flush(struct ctdp_ct *ct, const char *h, uint16_t sport,
                const struct ctdp_ct_action *a)
{
    struct ctdp_ct_flush_filter f;
    uint16_t port = udp_out(ct, h, sport, S, 53, a, A, CS_SRC_NAT);

    ctdp_ct_flush_filter_init(&f);
    CHECK_EQ(ctdp_ct_flush(ct, &f, 0), 1);
    return port;
}

/* 'hash': the port search starts at a hash of the conn (keyed per
 * tracker), so the same flow made again after its conn was flushed gets
 * the same port, while different flows spread over the range.  Without
 * 'hash' (control) the start is random and the port changes.  The source
 * port is outside the range, so that it cannot be kept. */
static void
test_snat_hash_stable(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action hashed = nat_action(true, CTDP_NAT_SRC
                                              | CTDP_NAT_HASH, A, NULL,
                                              20000, 29999);
    struct ctdp_ct_action plain = nat_action(true, CTDP_NAT_SRC, A, NULL,
                                             20000, 29999);
    uint16_t ports[16], first;
    int n_same = 0, n_distinct = 0;

    first = port_then_flush(ct, H1, 5000, &hashed);
    CHECK(first >= 20000 && first <= 29999);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(port_then_flush(ct, H1, 5000, &hashed), first);
    }
    for (int i = 0; i < ARRAY_SIZE(ports); i++) {
        ports[i] = port_then_flush(ct, H1, 5001 + i, &hashed);
        n_distinct++;
        for (int j = 0; j < i; j++) {
            if (ports[j] == ports[i]) {
                n_distinct--;
                break;
            }
        }
    }
    CHECK(n_distinct >= 12);

    /* Control: without 'hash', 6 re-creations all on one port would be
     * a 1 in 10^20 chance. */
    first = port_then_flush(ct, H1, 5000, &plain);
    for (int i = 0; i < 5; i++) {
        n_same += port_then_flush(ct, H1, 5000, &plain) == first;
    }
    CHECK(n_same < 5);
    tpkt_ct_destroy(ct);
}

/* 'random': the source port is never kept, even when free; the ports
 * chosen spread over the range.  Each conn goes to its own server, so
 * the original port is always free: without 'random' (control) all keep
 * it; with it, landing on it by chance twice among 100 is a 1 in 10^6
 * event, and 100 (or 50) draws spanning less than 30000 of the 64512
 * ports about 1 in 10^15. */
static void
test_snat_random(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action rnd = nat_action(true, CTDP_NAT_SRC
                                           | CTDP_NAT_RANDOM, A, NULL, 0, 0);
    struct ctdp_ct_action plain = snat(A, NULL);
    uint16_t min = UINT16_MAX, max = 0, ports[100];
    int n_kept = 0, n_kept_plain = 0, n_distinct = 0;
    char dst[32];

    for (int i = 0; i < 100; i++) {
        uint16_t port;

        snprintf(dst, sizeof dst, "198.51.%d.%d", 101 + i / 200, 1 + i % 200);
        port = udp_out(ct, H1, 5000, dst, 53, &rnd, A, CS_SRC_NAT);
        n_kept += port == 5000;
        CHECK(port >= 1024);
        min = MIN(min, port);
        max = MAX(max, port);
        ports[i] = port;
        n_distinct++;
        for (int j = 0; j < i; j++) {
            if (ports[j] == port) {
                n_distinct--;
                break;
            }
        }
        /* To port 54: a random conn to port 53 that landed on A:5000
         * (at most one, checked below) must not take the control's. */
        n_kept_plain += udp_out(ct, H2, 5000, dst, 54, &plain, A,
                                CS_SRC_NAT) == 5000;
    }
    CHECK_EQ(n_kept_plain, 100);
    CHECK(n_kept <= 1);
    CHECK(n_distinct >= 90);
    CHECK(max - min > 30000);

    /* Many conns from one source port to one server (from 50 hosts)
     * spread over the range as well. */
    min = UINT16_MAX;
    max = 0;
    for (int i = 0; i < 50; i++) {
        char h[32];
        uint16_t port;

        snprintf(h, sizeof h, "10.0.2.%d", i + 1);
        port = udp_out(ct, h, 7777, S, 53, &rnd, A, CS_SRC_NAT);
        CHECK(port >= 1024);
        min = MIN(min, port);
        max = MAX(max, port);
    }
    CHECK(max - min > 30000);
    tpkt_ct_destroy(ct);
}

/* ---- SNAT and DNAT ----------------------------------------------------- */

/* DNAT to an address and port over TCP: the SYN leaves to B:8080 with
 * dnat, the SYN-ACK from B:8080 comes back from the virtual address
 * VIP:80 with snat, and a later segment in each direction is translated
 * by the same binding; checksums are right every time. */
static void
test_dnat_addr_port(void)
{
    static const char *const C = "203.0.113.50", *const VIP = "192.0.2.80";
    static const char *const B = "10.0.0.80";
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_DST, B, NULL,
                                         8080, 8080);
    struct ctdp_ct_action rpl = bare_nat();
    struct tpkt_ip cv = tpkt_ip(C, VIP), bc = tpkt_ip(B, C);
    struct ctdp_ct_entry e;
    struct ctdp_tuple reply;
    struct dp_packet *pkt;

    pkt = run(ct, tpkt_tcp_seg(&cv, 40000, 80, TCP_SYN, 100, 0, 65535,
                               NULL, 0, 0),
              &a, TRK_NEW | CS_DST_NAT, 0);
    if (pkt) {
        CHECK_PKT(pkt, C, B, TCP, 40000, 8080);
    }
    done(ct, pkt);

    pkt = run(ct, tpkt_tcp_seg(&bc, 8080, 40000, TCP_SYN | TCP_ACK, 500, 101,
                               65535, NULL, 0, 0),
              &rpl, TRK_EST_RPL | CS_SRC_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, VIP, C, TCP, 80, 40000);
    }
    done(ct, pkt);

    pkt = run(ct, tpkt_tcp_seg(&cv, 40000, 80, TCP_ACK, 101, 501, 65535,
                               NULL, 0, 100),
              &a, TRK_EST | CS_DST_NAT, 20);
    if (pkt) {
        CHECK_PKT(pkt, C, B, TCP, 40000, 8080);
    }
    done(ct, pkt);

    pkt = run(ct, tpkt_tcp_seg(&bc, 8080, 40000, TCP_ACK, 501, 201, 65535,
                               NULL, 0, 50),
              &rpl, TRK_EST_RPL | CS_SRC_NAT, 30);
    if (pkt) {
        CHECK_PKT(pkt, VIP, C, TCP, 80, 40000);
    }
    done(ct, pkt);

    CHECK(tpkt_dump(ct, -1, 30, &e, 1) == 1);
    tpkt_tuple(&reply, &bc, TCP, 8080, 40000, 0);
    CHECK(tuple_is(&e.reply, &reply));
    CHECK_EQ(e.status & (CTDP_S_SRC_NAT | CTDP_S_DST_NAT
                         | CTDP_S_DST_NAT_DONE),
             CTDP_S_DST_NAT | CTDP_S_DST_NAT_DONE);
    tpkt_ct_destroy(ct);
}

/* DNAT without a port range to a server address: the destination port is
 * kept (a destination port is only changed to a given range). */
static void
test_dnat_keeps_port(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_DST, "10.0.0.80",
                                         "10.0.0.89", 0, 0);
    struct tpkt_ip ip = tpkt_ip("203.0.113.50", "192.0.2.80");
    struct dp_packet *pkt;

    pkt = run(ct, tpkt_udp(&ip, 40000, 53, 8), &a, TRK_NEW | CS_DST_NAT, 0);
    if (pkt) {
        struct ctdp_tuple t = pkt_tuple(pkt);
        uint32_t d = ntohl(t.dst.ip4);

        CHECK(d >= ntohl(addr_of("10.0.0.80").ip4)
              && d <= ntohl(addr_of("10.0.0.89").ip4));
        CHECK_EQ(ntohs(t.dport), 53);
        CHECK_EQ(ntohs(t.sport), 40000);
    }
    done(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* SNAT to an address range: every conn gets an address inside it, and 60
 * hosts do not all get the same one. */
static void
test_snat_addr_range(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat("192.0.2.10", "192.0.2.20");
    uint32_t lo = ntohl(addr_of("192.0.2.10").ip4);
    bool seen[11] = { false };
    int n_seen = 0;

    for (int i = 0; i < 60; i++) {
        struct tpkt_ip ip = tpkt_ip4(0x0a000100 + i, 0xc6336407);
        struct dp_packet *pkt;

        pkt = run(ct, tpkt_udp(&ip, 5000, 53, 8), &a, TRK_NEW | CS_SRC_NAT,
                  0);
        if (pkt) {
            uint32_t got = ntohl(pkt_tuple(pkt).src.ip4);

            if (CHECK(got >= lo && got <= lo + 10)) {
                n_seen += !seen[got - lo];
                seen[got - lo] = true;
            }
        }
        done(ct, pkt);
    }
    CHECK(n_seen > 1);
    tpkt_ct_destroy(ct);
}

/* IPv6 SNAT from an address range ("[min]-[max]") over UDP, both
 * directions, with the addresses inside the range and checksums right;
 * and ICMPv6 echo SNAT, whose identifier is changed when taken, with the
 * pseudo-header checksum right both ways. */
static void
test_snat_ipv6(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat("2001:db8::10", "2001:db8::1f");
    struct ctdp_ct_action one = snat("2001:db8::10", NULL);
    struct ctdp_ct_action rpl = bare_nat();
    union ctdp_addr lo = addr_of("2001:db8::10");
    union ctdp_addr hi = addr_of("2001:db8::1f");
    struct dp_packet *pkt;

    for (int i = 0; i < 20; i++) {
        char h[64];
        struct tpkt_ip ip, back;
        struct ctdp_tuple t;

        snprintf(h, sizeof h, "fd00::%x", 0x100 + i);
        ip = tpkt_ip(h, S6);
        pkt = run(ct, tpkt_udp(&ip, 5000, 53, 8), &a, TRK_NEW | CS_SRC_NAT,
                  0);
        if (!pkt) {
            continue;
        }
        t = pkt_tuple(pkt);
        CHECK(memcmp(&t.src, &lo, 16) >= 0 && memcmp(&t.src, &hi, 16) <= 0);
        done(ct, pkt);

        /* The reply to the chosen address and port reaches the host. */
        back.v6 = true;
        back.n_ext = 0;
        back.src = addr_of(S6);
        back.dst = t.src;
        pkt = run(ct, tpkt_udp(&back, 53, ntohs(t.sport), 8), &rpl,
                  TRK_EST_RPL | CS_DST_NAT, 10);
        if (pkt) {
            CHECK_PKT(pkt, S6, h, UDP, 53, 5000);
        }
        done(ct, pkt);
    }

    /* ICMPv6 echo: two hosts with id 7 behind one address. */
    {
        struct tpkt_ip h1 = tpkt_ip("fd00::a1", S6);
        struct tpkt_ip h2 = tpkt_ip("fd00::a2", S6);
        struct tpkt_ip sa = tpkt_ip(S6, "2001:db8::10");
        uint16_t id2 = 0;

        pkt = run(ct, tpkt_echo(&h1, false, 7, 1), &one,
                  TRK_NEW | CS_SRC_NAT, 0);
        if (pkt) {
            CHECK_PKT(pkt, "2001:db8::10", S6, ICMP6, 7, ECHO6_REQ);
        }
        done(ct, pkt);
        pkt = run(ct, tpkt_echo(&h2, false, 7, 1), &one,
                  TRK_NEW | CS_SRC_NAT, 0);
        if (pkt) {
            id2 = pkt_sport(pkt);
            CHECK(id2 != 7);
            CHECK_PKT(pkt, "2001:db8::10", S6, ICMP6, id2, ECHO6_REQ);
        }
        done(ct, pkt);
        pkt = run(ct, tpkt_echo(&sa, true, id2, 1), &rpl,
                  TRK_EST_RPL | CS_DST_NAT, 10);
        if (pkt) {
            CHECK_PKT(pkt, S6, "fd00::a2", ICMP6, 7, ECHO6_REP);
        }
        done(ct, pkt);
        pkt = run(ct, tpkt_echo(&sa, true, 7, 1), &rpl,
                  TRK_EST_RPL | CS_DST_NAT, 10);
        if (pkt) {
            CHECK_PKT(pkt, S6, "fd00::a1", ICMP6, 7, ECHO6_REP);
        }
        done(ct, pkt);
    }
    tpkt_ct_destroy(ct);
}

/* IPv6 DNAT to "[addr]:port" over TCP and UDP, both directions. */
static void
test_dnat_ipv6(void)
{
    static const char *const C6 = "2001:db8:c::1";
    static const char *const VIP6 = "2001:db8::80";
    static const char *const B6 = "fd00::80";
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_DST, B6, NULL,
                                         8080, 8080);
    struct ctdp_ct_action rpl = bare_nat();
    struct tpkt_ip cv = tpkt_ip(C6, VIP6), bc = tpkt_ip(B6, C6);
    struct dp_packet *pkt;

    pkt = run(ct, tpkt_tcp_seg(&cv, 40000, 80, TCP_SYN, 100, 0, 65535,
                               NULL, 0, 0),
              &a, TRK_NEW | CS_DST_NAT, 0);
    if (pkt) {
        CHECK_PKT(pkt, C6, B6, TCP, 40000, 8080);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_tcp_seg(&bc, 8080, 40000, TCP_SYN | TCP_ACK, 500, 101,
                               65535, NULL, 0, 0),
              &rpl, TRK_EST_RPL | CS_SRC_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, VIP6, C6, TCP, 80, 40000);
    }
    done(ct, pkt);

    pkt = run(ct, tpkt_udp(&cv, 40001, 53, 20), &a, TRK_NEW | CS_DST_NAT,
              20);
    if (pkt) {
        CHECK_PKT(pkt, C6, B6, UDP, 40001, 8080);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_udp(&bc, 8080, 40001, 20), &rpl,
              TRK_EST_RPL | CS_SRC_NAT, 30);
    if (pkt) {
        CHECK_PKT(pkt, VIP6, C6, UDP, 53, 40001);
    }
    done(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* ---- Checksums --------------------------------------------------------- */

/* A UDP datagram without a checksum (0) keeps 0 through SNAT of address
 * and port, both ways; an ICMP echo's identifier change keeps the ICMP
 * checksum right both ways. */
static void
test_csum_udp_zero_and_icmp_id(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat(A, NULL), rpl = bare_nat();
    struct tpkt_ip h1 = tpkt_ip(H1, S), h2 = tpkt_ip(H2, S);
    struct tpkt_ip sa = tpkt_ip(S, A);
    struct dp_packet *pkt;
    uint16_t port = 0, id = 0;
    uint8_t *l4;

    /* H1 takes A:5000, so H2's conn changes address and port. */
    CHECK_EQ(udp_out(ct, H1, 5000, S, 53, &a, A, CS_SRC_NAT), 5000);
    pkt = tpkt_udp(&h2, 5000, 53, 8);
    l4 = (uint8_t *) dp_packet_data(pkt) + tpkt_l4_ofs(pkt);
    l4[6] = l4[7] = 0;
    pkt = run(ct, pkt, &a, TRK_NEW | CS_SRC_NAT, 0);
    if (pkt) {
        port = pkt_sport(pkt);
        CHECK(port != 5000);
        CHECK_PKT(pkt, A, S, UDP, port, 53);
        CHECK_EQ(udp_csum_field(pkt), 0);
    }
    done(ct, pkt);
    pkt = tpkt_udp(&sa, 53, port, 8);
    l4 = (uint8_t *) dp_packet_data(pkt) + tpkt_l4_ofs(pkt);
    l4[6] = l4[7] = 0;
    pkt = run(ct, pkt, &rpl, TRK_EST_RPL | CS_DST_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, S, H2, UDP, 53, 5000);
        CHECK_EQ(udp_csum_field(pkt), 0);
    }
    done(ct, pkt);

    /* With a checksum, the same rewrite keeps it right (checked by run()),
     * and non-zero. */
    pkt = run(ct, tpkt_udp(&sa, 53, port, 8), &rpl,
              TRK_EST_RPL | CS_DST_NAT, 20);
    if (pkt) {
        CHECK(udp_csum_field(pkt) != 0);
    }
    done(ct, pkt);

    /* ICMP echo: H1 has id 9 on A; H2's id 9 must change. */
    pkt = run(ct, tpkt_echo(&h1, false, 9, 1), &a, TRK_NEW | CS_SRC_NAT, 0);
    if (pkt) {
        CHECK_PKT(pkt, A, S, ICMP, 9, ECHO4_REQ);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_echo(&h2, false, 9, 1), &a, TRK_NEW | CS_SRC_NAT, 0);
    if (pkt) {
        id = pkt_sport(pkt);
        CHECK(id != 9);
        CHECK_PKT(pkt, A, S, ICMP, id, ECHO4_REQ);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_echo(&sa, true, id, 1), &rpl,
              TRK_EST_RPL | CS_DST_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, S, H2, ICMP, 9, ECHO4_REP);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_echo(&sa, true, 9, 2), &rpl,
              TRK_EST_RPL | CS_DST_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, S, H1, ICMP, 9, ECHO4_REP);
    }
    done(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* A TCP conn SNATed with address and port changed: the SYN, SYN-ACK, and
 * data both ways have right IPv4 and TCP checksums and the right tuples. */
static void
test_csum_tcp_snat(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_SRC, A, NULL,
                                         30000, 30099);
    struct ctdp_ct_action rpl = bare_nat();
    struct tpkt_ip hs = tpkt_ip(H1, S), sa = tpkt_ip(S, A);
    struct dp_packet *pkt;
    uint16_t port = 0;

    pkt = run(ct, tpkt_tcp_seg(&hs, 4321, 443, TCP_SYN, 100, 0, 65535, NULL,
                               0, 0),
              &a, TRK_NEW | CS_SRC_NAT, 0);
    if (pkt) {
        port = pkt_sport(pkt);
        CHECK(port >= 30000 && port <= 30099);
        CHECK_PKT(pkt, A, S, TCP, port, 443);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_tcp_seg(&sa, 443, port, TCP_SYN | TCP_ACK, 500, 101,
                               65535, NULL, 0, 0),
              &rpl, TRK_EST_RPL | CS_DST_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, S, H1, TCP, 443, 4321);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_tcp_seg(&hs, 4321, 443, TCP_ACK, 101, 501, 65535,
                               NULL, 0, 333),
              &a, TRK_EST | CS_SRC_NAT, 20);
    if (pkt) {
        CHECK_PKT(pkt, A, S, TCP, port, 443);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_tcp_seg(&sa, 443, port, TCP_ACK, 501, 434, 65535,
                               NULL, 0, 77),
              &rpl, TRK_EST_RPL | CS_DST_NAT, 30);
    if (pkt) {
        CHECK_PKT(pkt, S, H1, TCP, 443, 4321);
    }
    done(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* ---- ICMP errors ------------------------------------------------------- */

/* Sets up, in 'ct', H's UDP conn H:5000 -> S:53 SNATed to A with its port
 * changed (another host holds A:5000 first); returns its port on A. */
static uint16_t
snat_conn_moved(struct ctdp_ct *ct, const char *h, const char *other,
                const char *s, const char *a_addr)
{
    struct ctdp_ct_action a = snat(a_addr, NULL);
    uint16_t port;

    CHECK_EQ(udp_out(ct, other, 5000, s, 53, &a, a_addr, CS_SRC_NAT), 5000);
    port = udp_out(ct, h, 5000, s, 53, &a, a_addr, CS_SRC_NAT);
    CHECK(port != 5000 && port != 0);
    return port;
}

/* An ICMP error about a SNATed packet, from a router outside to the NAT
 * address, reaches the inside host with the quote restored (address and
 * port), right ICMP, quoted IPv4 and quoted UDP checksums, as
 * rel|rpl|dnat; an error from the inside host about a reply it got goes
 * out from the NAT address quoting the reply as it was before
 * translation, as rel|snat.  Also with a quote cut after 8 bytes of
 * L4. */
/* One family's addresses and ICMP errors for icmp_errors(). */
struct icmp_family {
    const char *h, *h2, *s, *a, *r;     /* Hosts, server, NAT, router. */
    uint8_t proto;                      /* ICMP or ICMPv6. */
    uint8_t time_exceeded, unreach, port_unreach;
    size_t ip_len;                      /* The IP header's length. */
};

static void
icmp_errors(const struct icmp_family *f)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action rpl = bare_nat();
    uint16_t port = snat_conn_moved(ct, f->h, f->h2, f->s, f->a);
    struct tpkt_ip as = tpkt_ip(f->a, f->s), ra = tpkt_ip(f->r, f->a);
    struct tpkt_ip sh = tpkt_ip(f->s, f->h), hs = tpkt_ip(f->h, f->s);
    struct dp_packet *quoted, *pkt;

    for (int cut = 0; cut < 2; cut++) {
        /* From outside: R -> A, about A:port -> S:53. */
        quoted = tpkt_udp(&as, port, 53, 20);
        pkt = tpkt_icmp_error(&ra, f->time_exceeded, 0, quoted,
                              cut ? f->ip_len + 8 : 0);
        dp_packet_delete(quoted);
        pkt = run(ct, pkt, &rpl, TRK_REL_RPL | CS_DST_NAT, 10);
        if (pkt) {
            CHECK_PKT(pkt, f->r, f->h, f->proto, 0, f->time_exceeded << 8);
            CHECK_QUOTE(pkt, f->h, f->s, UDP, 5000, 53);
        }
        done(ct, pkt);

        /* From inside: H -> S, about S:53 -> H:5000. */
        quoted = tpkt_udp(&sh, 53, 5000, 20);
        pkt = tpkt_icmp_error(&hs, f->unreach, f->port_unreach, quoted,
                              cut ? f->ip_len + 8 : 0);
        dp_packet_delete(quoted);
        pkt = run(ct, pkt, &rpl, TRK_REL | CS_SRC_NAT, 20);
        if (pkt) {
            CHECK_PKT(pkt, f->a, f->s, f->proto, 0,
                      f->unreach << 8 | f->port_unreach);
            CHECK_QUOTE(pkt, f->s, f->a, UDP, 53, port);
        }
        done(ct, pkt);
    }
    tpkt_ct_destroy(ct);
}

static void
test_icmp_error_v4(void)
{
    icmp_errors(&(struct icmp_family) {
        .h = H1, .h2 = H2, .s = S, .a = A, .r = R, .proto = ICMP,
        .time_exceeded = ICMP4_TIME_EXCEEDED, .unreach = ICMP4_DST_UNREACH,
        .port_unreach = 3, .ip_len = IP_HEADER_LEN,
    });
}

/* The same with ICMPv6 errors (time exceeded, port unreachable), whose
 * checksum covers the pseudo-header. */
static void
test_icmp_error_v6(void)
{
    icmp_errors(&(struct icmp_family) {
        .h = H6, .h2 = "fd00::2", .s = S6, .a = "2001:db8::10", .r = R6,
        .proto = ICMP6, .time_exceeded = ICMP6_TIME_EXCEEDED,
        .unreach = ICMP6_DST_UNREACH, .port_unreach = 4,
        .ip_len = IPV6_HEADER_LEN,
    });
}

/* An ICMP error about a DNATed conn: a router next to the server B says
 * "host unreachable" to the client C about the translated request
 * C:40000 -> B:8080.  C gets it with the quote restored to C:40000 ->
 * VIP:80 and, as the kernel's nf_nat_icmp_reply_translation() makes the
 * outer header look like a reply of the conn, from VIP; rel|rpl|snat. */
static void
test_icmp_error_dnat(void)
{
    static const char *const C = "203.0.113.50", *const VIP = "192.0.2.80";
    static const char *const B = "10.0.0.80", *const RB = "10.0.0.254";
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_DST, B, NULL,
                                         8080, 8080);
    struct ctdp_ct_action rpl = bare_nat();
    struct tpkt_ip cv = tpkt_ip(C, VIP), cb = tpkt_ip(C, B);
    struct tpkt_ip rc = tpkt_ip(RB, C);
    struct dp_packet *quoted, *pkt;

    pkt = run(ct, tpkt_udp(&cv, 40000, 80, 8), &a, TRK_NEW | CS_DST_NAT, 0);
    done(ct, pkt);

    /* A router next to B: "B unreachable" about C:40000 -> B:8080. */
    quoted = tpkt_udp(&cb, 40000, 8080, 8);
    pkt = tpkt_icmp_error(&rc, ICMP4_DST_UNREACH, 1, quoted, 0);
    dp_packet_delete(quoted);
    pkt = run(ct, pkt, &rpl, TRK_REL_RPL | CS_SRC_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, VIP, C, ICMP, 0, ICMP4_DST_UNREACH << 8 | 1);
        CHECK_QUOTE(pkt, C, VIP, UDP, 40000, 80);
    }
    done(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* ---- Clashes ----------------------------------------------------------- */

/* A conn committed without NAT whose reply tuple is an existing SNATed
 * conn's reply (the NAT box's own A:5000 -> S:53, after H1:5000 was
 * SNATed to A:5000) is not dropped: its source port is moved (SRC_NAT,
 * the packet leaves rewritten, with snat), and replies to each port reach
 * their own conn, also through a ct() without 'nat'. */
static void
test_rebind_unnatted_commit(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat(A, NULL), plain = tpkt_action(0, true);
    struct ctdp_ct_action lookup = tpkt_action(0, false);
    struct ctdp_ct_action nat_only = bare_nat();
    struct ctdp_ct_entry e[2];
    struct tpkt_ip sa = tpkt_ip(S, A);
    struct dp_packet *pkt;
    uint16_t port = 0;

    CHECK_EQ(udp_out(ct, H1, 5000, S, 53, &a, A, CS_SRC_NAT), 5000);
    port = udp_out(ct, A, 5000, S, 53, &plain, A, CS_SRC_NAT);
    CHECK(port != 5000 && port != 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    CHECK_EQ(stats_of(ct).drop, 0);
    e[0] = udp_entry(ct, H1, 5000, S, 53);
    e[1] = udp_entry(ct, A, 5000, S, 53);
    CHECK(e[1].status & CTDP_S_SRC_NAT);
    CHECK_EQ(ntohs(e[1].reply.dport), port);
    CHECK_EQ(count_reply_clashes(e, 2), 0);

    pkt = run(ct, tpkt_udp(&sa, 53, port, 8), &lookup,
              TRK_EST_RPL | CS_DST_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, S, A, UDP, 53, 5000);
    }
    done(ct, pkt);
    pkt = run(ct, tpkt_udp(&sa, 53, 5000, 8), &lookup, TRK_EST_RPL, 10);
    done(ct, pkt);
    pkt = run(ct, tpkt_udp(&sa, 53, 5000, 8), &nat_only,
              TRK_EST_RPL | CS_DST_NAT, 10);
    if (pkt) {
        CHECK_PKT(pkt, S, H1, UDP, 53, 5000);
    }
    done(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* Two threads commit SNAT conns at once into a range of 16 ports, each
 * from its own hosts with a source port outside the range, 12 conns a
 * round each (so the range runs out every round and the two often pick
 * the same free port before either confirms).  After each round the main
 * thread dumps the table and flushes it. */
#define CLASH_THREADS 2
#define CLASH_ROUNDS 150
#define CLASH_PER_ROUND 12
#define CLASH_MIN_PORT 30000
#define CLASH_MAX_PORT 30015

struct clash_worker {
    struct ctdp_ct *ct;
    struct ovs_barrier *barrier;
    int index;
    int n_committed, n_dropped;     /* Read by the main thread after the
                                     * join. */
};

/* The table hash of the racing test: yields the CPU at every lookup, so
 * that one thread's lookups run between the other's choice of a port and
 * its confirm. */
static uint32_t
yielding_hash(const struct ctdp_tuple *t)
{
    sched_yield();
    return hash_bytes(t, sizeof *t, 0);
}

static void *
clash_worker_main(void *w_)
{
    struct clash_worker *w = w_;
    struct ctdp_ct_action a = nat_action(true, CTDP_NAT_SRC, A, NULL,
                                         CLASH_MIN_PORT, CLASH_MAX_PORT);

    for (int r = 0; r < CLASH_ROUNDS; r++) {
        ovs_barrier_block(w->barrier);
        for (int i = 0; i < CLASH_PER_ROUND; i++) {
            struct tpkt_ip ip = tpkt_ip4(0x0a000000 | (w->index + 1) << 16
                                         | r << 4 | i, 0xc6336407);
            int state = tpkt_ct1_action(w->ct, tpkt_udp(&ip, 1234, 53, 0),
                                        &a, 0);

            w->n_dropped += state == TPKT_DROPPED;
            w->n_committed += state == (TRK_NEW | CS_SRC_NAT);
        }
        ovsrcu_quiesce();
        ovs_barrier_block(w->barrier);
    }
    return NULL;
}

/* Runs the racing rounds; counts the pairs of conns that share a reply
 * tuple into '*n_clashes' and the conns whose NAT port is outside the
 * range into '*n_outside'. */
static void
run_clash_threads(int *n_clashes, int *n_outside)
{
    struct ctdp_ct_params params = { .hash = yielding_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct clash_worker workers[CLASH_THREADS];
    pthread_t threads[CLASH_THREADS];
    struct ctdp_ct_entry e[CLASH_THREADS * CLASH_PER_ROUND + 1];
    struct ovs_barrier barrier;
    struct ctdp_ct_flush_filter f;
    int n_committed = 0, n_dropped = 0, n_conns = 0;
    struct ctdp_ct_stats s;

    *n_clashes = *n_outside = 0;
    ctdp_ct_flush_filter_init(&f);
    ovs_barrier_init(&barrier, CLASH_THREADS + 1);
    for (int i = 0; i < CLASH_THREADS; i++) {
        workers[i] = (struct clash_worker) {
            .ct = ct, .barrier = &barrier, .index = i,
        };
        threads[i] = ovs_thread_create("nat-clash", clash_worker_main,
                                       &workers[i]);
    }
    for (int r = 0; r < CLASH_ROUNDS; r++) {
        size_t n;

        ovs_barrier_block(&barrier);        /* Go. */
        ovs_barrier_block(&barrier);        /* Done. */
        n = tpkt_dump(ct, -1, 0, e, ARRAY_SIZE(e));
        n = MIN(n, ARRAY_SIZE(e));
        n_conns += n;
        *n_clashes += count_reply_clashes(e, n);
        for (size_t i = 0; i < n; i++) {
            uint16_t port = ntohs(e[i].reply.dport);

            if (port < CLASH_MIN_PORT || port > CLASH_MAX_PORT) {
                if (!*n_outside) {
                    char buf[160];

                    printf("# a conn with reply %s, outside the range\n",
                           tuple_str(&e[i].reply, buf, sizeof buf));
                }
                (*n_outside)++;
            }
        }
        ctdp_ct_flush(ct, &f, 0);
        ovsrcu_quiesce();
    }
    for (int i = 0; i < CLASH_THREADS; i++) {
        xpthread_join(threads[i], NULL);
        n_committed += workers[i].n_committed;
        n_dropped += workers[i].n_dropped;
    }
    ovs_barrier_destroy(&barrier);
    ctdp_ct_get_stats(ct, &s);
    printf("# %d committed, %d dropped (%"PRIu64" exhausted, %"PRIu64
           " failed inserts), %d conns dumped, %d outside the range\n",
           n_committed, n_dropped, s.nat_exhausted, s.insert_failed,
           n_conns, *n_outside);
    CHECK_EQ(n_committed + n_dropped,
             CLASH_THREADS * CLASH_ROUNDS * CLASH_PER_ROUND);
    CHECK_EQ(n_committed, n_conns);
    tpkt_ct_destroy(ct);
}

/* Racing threads never leave two conns with one reply tuple. */
static void
test_clash_threads_unique(void)
{
    int n_clashes, n_outside;

    run_clash_threads(&n_clashes, &n_outside);
    CHECK_EQ(n_clashes, 0);
}

/* Racing threads never leave a conn outside its SNAT port range: the
 * loser of a race for a port is dropped (or gets another port of the
 * range), as in the kernel, whose confirm drops it. */
static void
test_clash_threads_in_range(void)
{
    int n_clashes, n_outside;

    run_clash_threads(&n_clashes, &n_outside);
    CHECK_EQ(n_outside, 0);
}

/* ---- Dump and flush ---------------------------------------------------- */

/* The entries of the whole table, over every bucket's chain. */
static uint32_t
n_entries(struct ctdp_ct *ct)
{
    uint32_t n_buckets, n = 0;
    uint32_t *counts = ctdp_ct_chain_lengths(ct, &n_buckets);

    for (uint32_t i = 0; i < n_buckets; i++) {
        n += counts[i];
    }
    free(counts);
    return n;
}

/* A conn whose reply tuple is its original swapped has one table entry,
 * for both directions (UDP, TCP); an ICMP conn, whose reply also changes
 * the type, and a NATed one have one per direction.  Each is found from
 * both ends, and its entries go with it. */
static void
test_table_entries(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat(A, NULL), rpl = bare_nat();
    struct tpkt_ip out = tpkt_ip(H1, S), back = tpkt_ip_swap(&out);
    struct tpkt_ip h2 = tpkt_ip(H2, S), to_a = tpkt_ip(S, A);
    struct ctdp_ct_flush_filter all;

    CHECK_STATE(tpkt_udp_ct(ct, &out, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_EQ(n_entries(ct), 1);
    CHECK_STATE(tpkt_udp_ct(ct, &back, 53, 1000, 0, false, 0),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_tcp_seg(&out, 2000, 80, TCP_SYN, 100, 0,
                                          65535, NULL, 0, 0),
                         0, true, 0),
                TRK_NEW);
    CHECK_EQ(n_entries(ct), 2);
    CHECK_STATE(tpkt_ct1(ct, tpkt_tcp_seg(&back, 80, 2000, TCP_SYN | TCP_ACK,
                                          500, 101, 65535, NULL, 0, 0),
                         0, false, 0),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&out, false, 7, 1), 0, true, 0),
                TRK_NEW);
    CHECK_EQ(n_entries(ct), 4);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&back, true, 7, 1), 0, false, 0),
                TRK_EST_RPL);
    CHECK_EQ(udp_out(ct, H2, 5000, S, 53, &a, A, CS_SRC_NAT), 5000);
    CHECK_EQ(n_entries(ct), 6);
    CHECK_STATE(tpkt_ct1_action(ct, tpkt_udp(&to_a, 53, 5000, 8), &rpl, 0),
                TRK_EST_RPL | CS_DST_NAT);
    CHECK_STATE(tpkt_udp_ct(ct, &h2, 5000, 53, 0, false, 0), TRK_EST);

    ctdp_ct_flush_filter_init(&all);
    CHECK_EQ(ctdp_ct_flush(ct, &all, 0), 4);
    CHECK_EQ(n_entries(ct), 0);
    tpkt_ct_destroy(ct);
}

/* In one batch, a reply after the packet that committed its SNATed conn
 * finds the conn by its translated reply tuple, in a chain that the
 * batch's earlier lookups read before the conn was there. */
static void
test_snat_reply_in_batch(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = snat(A, NULL);
    struct tpkt_ip out = tpkt_ip(H1, S), back = tpkt_ip(S, A);
    struct dp_packet *pkts[2] = {
        tpkt_udp(&out, 5000, 53, 8), tpkt_udp(&back, 53, 5000, 8),
    };

    CHECK_EQ(tpkt_ct_batch(ct, pkts, 2, &a, 0), 2);
    CHECK_STATE(pkts[0]->md.ct_state, TRK_NEW | CS_SRC_NAT);
    CHECK_PKT(pkts[0], A, S, UDP, 5000, 53);
    CHECK_STATE(pkts[1]->md.ct_state, TRK_EST_RPL | CS_DST_NAT);
    CHECK_PKT(pkts[1], S, H1, UDP, 53, 5000);
    for (int i = 0; i < 2; i++) {
        tpkt_free(ct, pkts[i]);
    }
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_ct_destroy(ct);
}

/* The dump shows a SNATed conn's translated reply tuple and NAT status;
 * a flush by that reply tuple removes it, while a flush by the
 * untranslated inverse (S:53 -> H1:5000) does not match it. */
static void
test_dump_flush_reply(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    uint16_t port = snat_conn_moved(ct, H1, H2, S, A);
    struct tpkt_ip sa = tpkt_ip(S, A), sh = tpkt_ip(S, H1);
    struct ctdp_ct_flush_filter f;
    struct ctdp_ct_entry e;
    struct ctdp_tuple reply;

    e = udp_entry(ct, H1, 5000, S, 53);
    CHECK(e.id != 0);
    tpkt_tuple(&reply, &sa, UDP, 53, port, 0);
    CHECK(tuple_is(&e.reply, &reply));
    CHECK(e.status & CTDP_S_SRC_NAT && e.status & CTDP_S_SRC_NAT_DONE);

    ctdp_ct_flush_filter_init(&f);
    f.match_reply = true;
    tpkt_tuple(&f.reply, &sh, UDP, 53, 5000, 0);
    memset(&f.reply_mask, 0xff, sizeof f.reply_mask);
    CHECK_EQ(ctdp_ct_flush(ct, &f, 0), 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);

    f.reply = reply;
    CHECK_EQ(ctdp_ct_flush(ct, &f, 0), 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_EQ(udp_entry(ct, H1, 5000, S, 53).id, 0);
    CHECK(udp_entry(ct, H2, 5000, S, 53).id != 0);
    tpkt_ct_destroy(ct);
}

/* ---- FTP payload rewrites --------------------------------------------- */

/* ctdp_nat_mangle_tcp() on a segment of 'ip''s family, with Ethernet
 * padding after it: the text replaces the bytes, the padding goes, and
 * the IP length and every checksum are right (summed from scratch by
 * csums_ok(), not by the tracker's code), for text longer, shorter and as
 * long as what it replaces. */
static void
mangle_family(const struct tpkt_ip *ip)
{
    static const char *const texts[] = {
        "227 Entering Passive Mode (10,0,0,9,4,1).", "x", "abcde",
    };

    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        struct dp_packet *pkt = tpkt_tcp_seg(ip, 21, 1000, TCP_ACK | TCP_PSH,
                                             7, 9, 100, NULL, 0, 31);
        size_t len = strlen(texts[i]), l4_ofs = tpkt_l4_ofs(pkt);
        struct ctdp_parsed p;
        const uint8_t *data;

        tpkt_pad(pkt, 9);
        CHECK_EQ(ctdp_tuple_extract(pkt, 0, true, &p), CTDP_PARSE_OK);
        CHECK(ctdp_nat_mangle_tcp(pkt, &p, 3, 5, texts[i], len));
        data = dp_packet_data(pkt);
        CHECK_EQ(dp_packet_size(pkt), l4_ofs + TCP_HEADER_LEN + 31 - 5 + len);
        CHECK(!memcmp(data + l4_ofs + TCP_HEADER_LEN + 3, texts[i], len));
        CHECK_EQ(data[l4_ofs + TCP_HEADER_LEN + 2], 0xc3);
        CHECK_EQ(data[l4_ofs + TCP_HEADER_LEN + 3 + len], 0xc3);
        CHECK_CSUMS(pkt);
        CHECK_EQ(ctdp_tuple_extract(pkt, 0, true, &p), CTDP_PARSE_OK);
        dp_packet_delete(pkt);
    }
}

static void
test_ftp_mangle(void)
{
    struct tpkt_ip v4 = tpkt_ip(S, H1), v6 = tpkt_ip(S6, H6);

    mangle_family(&v4);
    mangle_family(&v6);
}

const struct ctdp_unit_suite ct_nat_suite = {
    "ct-nat", (const struct ctdp_unit_case[]) {
        { "snat-keeps-free-port", test_snat_keeps_free_port },
        { "snat-port-taken-full-range", test_snat_port_taken_full_range },
        { "snat-port-range-exhausted", test_snat_port_range_exhausted },
        { "snat-single-port-full", test_snat_single_port_full },
        { "snat-search-bounded", test_snat_search_bounded },
        { "snat-persistent", test_snat_persistent },
        { "snat-source-keeps-mapping", test_snat_source_keeps_mapping },
        { "snat-index-one-entry-per-source",
          test_snat_index_one_entry_per_source },
        { "snat-hash-stable", test_snat_hash_stable },
        { "snat-random", test_snat_random },
        { "dnat-addr-port", test_dnat_addr_port },
        { "dnat-keeps-port", test_dnat_keeps_port },
        { "snat-addr-range", test_snat_addr_range },
        { "snat-ipv6", test_snat_ipv6 },
        { "dnat-ipv6", test_dnat_ipv6 },
        { "csum-udp-zero-icmp-id", test_csum_udp_zero_and_icmp_id },
        { "csum-tcp-snat", test_csum_tcp_snat },
        { "icmp-error-v4", test_icmp_error_v4 },
        { "icmp-error-v6", test_icmp_error_v6 },
        { "icmp-error-dnat", test_icmp_error_dnat },
        { "rebind-unnatted-commit", test_rebind_unnatted_commit },
        { "clash-threads-unique", test_clash_threads_unique },
        { "clash-threads-in-range", test_clash_threads_in_range },
        { "dump-flush-reply", test_dump_flush_reply },
        { "table-entries", test_table_entries },
        { "snat-reply-in-batch", test_snat_reply_in_batch },
        { "ftp-mangle", test_ftp_mangle },
        { NULL, NULL },
    },
};
