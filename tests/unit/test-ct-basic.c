/* The tracker's packet path, one protocol rule at a time, as the Linux
 * kernel's nf_conntrack applies them: UDP, ICMP and ICMPv6 echo, ICMP
 * errors, generic protocols, zones, mark and label, force, statistics. */
#include <config.h>
#include "ctdp-ct-private.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <string.h>
#include "dp-packet.h"
#include "packets.h"

#define UDP IPPROTO_UDP

static const char *const A = "10.0.0.1", *const B = "10.0.0.2";
static const char *const A6 = "fd00::1", *const B6 = "fd00::2";

static struct ctdp_ct_stats
stats_of(const struct ctdp_ct *ct)
{
    struct ctdp_ct_stats s;

    ctdp_ct_get_stats(ct, &s);
    return s;
}

/* Returns the conn A:sport -> B:dport of 'proto' in 'zone' from a dump at
 * 'now', or an entry with id 0 if there is none. */
static struct ctdp_ct_entry
entry_of(struct ctdp_ct *ct, const struct tpkt_ip *ip, uint8_t proto,
         uint16_t sport, uint16_t dport, uint16_t zone, long long now)
{
    struct ctdp_ct_entry entry;
    struct ctdp_tuple t;

    tpkt_tuple(&t, ip, proto, sport, dport, zone);
    if (!tpkt_find(ct, &t, now, &entry)) {
        memset(&entry, 0, sizeof entry);
    }
    return entry;
}

/* ct() without commit tracks a UDP packet as new and leaves no state once
 * the packet is done. */
static void
test_udp_uncommitted_leaves_nothing(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 1000), TRK_NEW);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    CHECK_EQ(tpkt_dump(ct, -1, 1001, NULL, 0), 0);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 1001), TRK_NEW);
    CHECK_EQ(stats_of(ct).insert, 0);
    CHECK_EQ(stats_of(ct).found, 0);
    tpkt_ct_destroy(ct);
}

/* Committing a UDP packet makes one conn: the packet's tuple as original,
 * its inverse as reply, CONFIRMED but not SEEN_REPLY, expiring 30 s after
 * the packet; the packet's metadata carries the zone. */
static void
test_udp_commit_creates_entry(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct dp_packet *pkt = tpkt_udp(&ab, 1000, 53, 10);
    struct ctdp_ct_action commit = tpkt_action(4, true);
    struct ctdp_ct_entry e;
    struct ctdp_tuple reply;

    CHECK_STATE(tpkt_ct(ct, pkt, &commit, 1000), TRK_NEW);
    CHECK_EQ(pkt->md.ct_zone, 4);
    tpkt_free(ct, pkt);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_EQ(tpkt_dump(ct, -1, 1000, &e, 1), 1);
    CHECK(e.id != 0);
    CHECK_EQ(entry_of(ct, &ab, UDP, 1000, 53, 4, 1000).id, e.id);
    tpkt_tuple(&reply, &ba, UDP, 53, 1000, 4);
    CHECK(ctdp_tuple_equal(&e.reply, &reply));
    CHECK(e.status & CTDP_S_CONFIRMED);
    CHECK(!(e.status & (CTDP_S_SEEN_REPLY | CTDP_S_ASSURED)));
    CHECK_EQ(e.start, 1000);
    CHECK_EQ(e.expires, 31000);
    CHECK_EQ(e.packets[CTDP_DIR_ORIG], 1);
    CHECK_EQ(e.packets[CTDP_DIR_REPLY], 0);
    CHECK(e.bytes[CTDP_DIR_ORIG] > 0);
    CHECK_EQ(stats_of(ct).insert, 1);
    tpkt_ct_destroy(ct);
}

/* Original-direction packets stay new until a reply; the reply is
 * est|rpl and sets SEEN_REPLY; later original packets are est. */
static void
test_udp_new_until_reply(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 100), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 200), TRK_NEW);
    CHECK(!(entry_of(ct, &ab, UDP, 1000, 53, 0, 200).status
            & CTDP_S_SEEN_REPLY));
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 300), TRK_EST_RPL);
    CHECK(entry_of(ct, &ab, UDP, 1000, 53, 0, 300).status & CTDP_S_SEEN_REPLY);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 400), TRK_EST);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, true, 500), TRK_EST_RPL);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 500);
    CHECK_EQ(e.packets[CTDP_DIR_ORIG], 4);
    CHECK_EQ(e.packets[CTDP_DIR_REPLY], 2);
    tpkt_ct_destroy(ct);
}

/* A sweep with a budget removes at most that many conns per call, goes
 * on where it stopped (across zones, up to 65535), removes only expired
 * conns, and removes them all in the end. */
static void
test_sweep_budget(void)
{
    static const uint16_t zones[] = { 0, 1, 7, 65535 };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    size_t removed = 0, n;

    for (int i = 0; i < 20; i++) {
        tpkt_udp_ct(ct, &ab, 1000 + i, 53, zones[i % 4], true, 0);
        tpkt_udp_ct(ct, &ab, 2000 + i, 53, zones[i % 4], true, 20000);
    }
    CHECK_EQ(tpkt_dump(ct, 65535, 0, NULL, 0), 10);
    for (int i = 0; i < 40; i++) {
        n = ctdp_ct_sweep(ct, 30000, 3);
        CHECK(n <= 3);
        removed += n;
    }
    CHECK_EQ(removed, 20);
    CHECK_EQ(ctdp_ct_n_conns(ct), 20);
    CHECK_EQ(tpkt_dump(ct, -1, 30000, NULL, 0), 20);
    CHECK_EQ(tpkt_dump(ct, 65535, 30000, NULL, 0), 5);
    CHECK_EQ(ctdp_ct_sweep(ct, 50000, SIZE_MAX), 20);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

/* A sweep goes on after the last conn it kept, also when the last one it
 * visited was removed: a zone listing (newest first) three live conns
 * then an expired one, ten times over, is swept clean in ten calls of
 * four.  (Going on from the head whenever the last conn visited was
 * removed revisits live conns and falls behind.) */
static void
test_sweep_resumes_after_removal(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    size_t removed = 0;

    /* The last committed is the head: commit from the tail. */
    for (int i = 39; i >= 0; i--) {
        bool expired = i % 4 == 3;

        tpkt_udp_ct(ct, &ab, 1000 + i, 53, 0, true, expired ? 0 : 20000);
    }
    for (int call = 0; call < 10; call++) {
        removed += ctdp_ct_sweep(ct, 30000, 4);
    }
    CHECK_EQ(removed, 10);
    CHECK_EQ(ctdp_ct_n_conns(ct), 30);
    tpkt_ct_destroy(ct);
}

/* An unreplied UDP conn lives 30 s after its last packet: found at
 * 29.999 s, invisible from 30 s on; a lookup that meets it then removes
 * it, and one that nothing meets is hidden until the sweep removes it. */
static void
test_udp_unreplied_expires(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    uint64_t found;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 1000), TRK_NEW);
    found = stats_of(ct).found;
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 30999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, found + 1);
    CHECK_EQ(entry_of(ct, &ab, UDP, 1000, 53, 0, 30999).expires, 60999);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 60999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, found + 1);
    /* The lookup that met the expired conn removed it. */
    CHECK_EQ(tpkt_dump(ct, -1, 60998, NULL, 0), 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);

    /* A conn no lookup meets is hidden from the dump once expired, and
     * the sweep removes it. */
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 70000), TRK_NEW);
    CHECK_EQ(tpkt_dump(ct, -1, 100000, NULL, 0), 0);
    CHECK_EQ(tpkt_dump(ct, -1, 99999, NULL, 0), 1);
    CHECK_EQ(ctdp_ct_sweep(ct, 100000, SIZE_MAX), 1);
    CHECK_EQ(tpkt_dump(ct, -1, 99999, NULL, 0), 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

/* A commit after the old conn expired, before any sweep, makes a fresh
 * conn rather than reviving the old one. */
static void
test_udp_expired_replaced_before_sweep(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 1000), TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 31000), TRK_NEW);
    CHECK_EQ(stats_of(ct).insert, 2);
    ctdp_ct_sweep(ct, 31000, SIZE_MAX);
    CHECK_EQ(tpkt_dump(ct, -1, 31000, &e, 1), 1);
    CHECK_EQ(e.start, 31000);
    CHECK(!(e.status & CTDP_S_SEEN_REPLY));
    CHECK_EQ(e.packets[CTDP_DIR_REPLY], 0);
    tpkt_ct_destroy(ct);
}

/* A lookup that meets an expired conn removes it, as the kernel's does, so
 * that a thread whose clock lags cannot revive it: once B->A at 30 s has
 * seen A->B's conn expire and started its own, a late A->B packet (its
 * clock at 29.999 s) belongs to the new conn, in the reply direction. */
static void
test_expired_removed_by_lookup(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, true, 30000), TRK_NEW);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 29999),
                TRK_EST_RPL);
    CHECK_EQ(tpkt_dump(ct, -1, 29999, &e, 1), 1);
    CHECK_EQ(e.start, 30000);
    tpkt_ct_destroy(ct);
}

/* After a reply the UDP timeout stays 30 s, and packets within 2 s of the
 * conn's creation do not assure it; the first packet more than 2 s after
 * creation (with a reply seen) makes it ASSURED with 120 s. */
static void
test_udp_assured_after_2s(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 1000), TRK_EST_RPL);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 1000);
    CHECK_EQ(e.expires, 31000);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 1500), TRK_EST);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 2000), TRK_EST_RPL);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 2000);
    CHECK(!(e.status & CTDP_S_ASSURED));
    CHECK_EQ(e.expires, 32000);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 2001), TRK_EST);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 2001);
    CHECK(e.status & CTDP_S_ASSURED);
    CHECK_EQ(e.expires - 2001, 120000);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 122000),
                TRK_EST_RPL);
    CHECK_EQ(entry_of(ct, &ab, UDP, 1000, 53, 0, 122000).expires, 242000);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 242000), TRK_NEW);
    tpkt_ct_destroy(ct);
}

/* The reply packet itself does not assure, even late: SEEN_REPLY is set
 * after it is tracked, as in the kernel. */
static void
test_udp_late_reply_not_assured(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 5000), TRK_EST_RPL);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 5000);
    CHECK(!(e.status & CTDP_S_ASSURED));
    CHECK_EQ(e.expires, 35000);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 6000), TRK_EST);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 6000);
    CHECK(e.status & CTDP_S_ASSURED);
    CHECK_EQ(e.expires, 126000);
    tpkt_ct_destroy(ct);
}

/* An echo request commits a new conn (id and type in the tuple, the reply
 * type in the reply tuple); the reply is est|rpl; 30 s timeout; never
 * ASSURED. */
static void
check_echo(bool v6)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = v6 ? tpkt_ip(A6, B6) : tpkt_ip(A, B);
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    uint8_t proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    uint16_t req = v6 ? 128 << 8 : 8 << 8, rep = v6 ? 129 << 8 : 0;
    struct ctdp_ct_entry e;
    struct ctdp_tuple t;

    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ab, false, 7, 1), 0, true, 0),
                TRK_NEW);
    e = entry_of(ct, &ab, proto, 7, req, 0, 0);
    CHECK(e.id != 0);
    tpkt_tuple(&t, &ba, proto, 7, rep, 0);
    CHECK(ctdp_tuple_equal(&e.reply, &t));
    CHECK_EQ(e.expires, 30000);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 7, 1), 0, false, 100),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ab, false, 7, 2), 0, false, 3000),
                TRK_EST);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 7, 2), 0, false, 3100),
                TRK_EST_RPL);
    e = entry_of(ct, &ab, proto, 7, req, 0, 3100);
    CHECK(e.status & CTDP_S_SEEN_REPLY);
    CHECK(!(e.status & CTDP_S_ASSURED));
    CHECK_EQ(e.expires, 33100);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ab, false, 7, 3), 0, false, 33100),
                TRK_NEW);
    tpkt_ct_destroy(ct);
}

/* check_echo() over IPv4: ICMP types 8 and 0. */
static void
test_icmp_echo(void)
{
    check_echo(false);
}

/* check_echo() over IPv6: ICMPv6 types 128 and 129. */
static void
test_icmp6_echo(void)
{
    check_echo(true);
}

/* An echo reply with no request seen cannot start a conn: trk|inv,
 * counted as invalid (not as error), nothing committed. */
static void
check_lone_echo_reply(bool v6)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ba = v6 ? tpkt_ip(B6, A6) : tpkt_ip(B, A);
    struct ctdp_ct_stats s;

    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 9, 1), 0, false, 0),
                TRK_INV);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 9, 1), 0, true, 10),
                TRK_INV);
    s = stats_of(ct);
    CHECK_EQ(s.invalid, 2);
    CHECK_EQ(s.error, 0);
    CHECK_EQ(s.insert, 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

/* check_lone_echo_reply() for an ICMP echo reply. */
static void
test_icmp_lone_reply(void)
{
    check_lone_echo_reply(false);
}

/* check_lone_echo_reply() for an ICMPv6 echo reply. */
static void
test_icmp6_lone_reply(void)
{
    check_lone_echo_reply(true);
}

/* An ICMP error quoting a packet of a committed conn is related (reply
 * direction when it quotes an original-direction packet), leaves the conn's
 * counters and state alone and creates nothing, even with commit; one that
 * quotes a packet of no conn is invalid and counted as error. */
static void
check_icmp_error(bool v6)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = v6 ? tpkt_ip(A6, B6) : tpkt_ip(A, B);
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct tpkt_ip ra = v6 ? tpkt_ip("fd00::fe", A6) : tpkt_ip("10.9.9.9", A);
    uint8_t type = v6 ? 1 : 3, code = v6 ? 4 : 3;
    struct dp_packet *inner = tpkt_udp(&ab, 1000, 53, 20);
    struct dp_packet *orphan = tpkt_udp(&ab, 1001, 53, 20);
    struct ctdp_ct_entry e;
    uint64_t error;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct1(ct, tpkt_icmp_error(&ba, type, code, inner, 0),
                         0, false, 100), TRK_REL_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_icmp_error(&ra, type, code, inner, 0),
                         0, true, 200), TRK_REL_RPL);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 200);
    CHECK_EQ(e.packets[CTDP_DIR_ORIG], 1);
    CHECK_EQ(e.packets[CTDP_DIR_REPLY], 0);
    CHECK(!(e.status & CTDP_S_SEEN_REPLY));
    CHECK_EQ(e.expires, 30000);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    error = stats_of(ct).error;
    CHECK_STATE(tpkt_ct1(ct, tpkt_icmp_error(&ba, type, code, orphan, 0),
                         0, true, 300), TRK_INV);
    CHECK_EQ(stats_of(ct).error, error + 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    dp_packet_delete(inner);
    dp_packet_delete(orphan);
    tpkt_ct_destroy(ct);
}

/* check_icmp_error() for ICMP port unreachable. */
static void
test_icmp_error_related(void)
{
    check_icmp_error(false);
}

/* check_icmp_error() for ICMPv6 destination unreachable. */
static void
test_icmp6_error_related(void)
{
    check_icmp_error(true);
}

/* An ICMP error quoting a reply-direction packet is related in the
 * original direction (rel without rpl). */
static void
test_icmp_error_related_orig_dir(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct dp_packet *inner = tpkt_udp(&ba, 53, 1000, 20);

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct1(ct, tpkt_icmp_error(&ab, 3, 3, inner, 0),
                         0, false, 100), TRK_REL);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    dp_packet_delete(inner);
    tpkt_ct_destroy(ct);
}

/* The packet's metadata carries the original-direction tuple, also for a
 * reply-direction packet (IPv4 and IPv6), as OVS's ct_nw_src etc. */
static void
test_md_orig_tuple(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct tpkt_ip ab6 = tpkt_ip(A6, B6), ba6 = tpkt_ip(B6, A6);
    struct dp_packet *pkt;

    tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0);
    pkt = tpkt_udp(&ba, 53, 1000, 0);
    CHECK_STATE(tpkt_ct(ct, pkt, &(struct ctdp_ct_action) { .zone = 0 }, 1),
                TRK_EST_RPL);
    CHECK(!pkt->md.ct_orig_tuple_ipv6);
    CHECK_EQ(ntohl(pkt->md.ct_orig_tuple.ipv4.ipv4_src), 0x0a000001);
    CHECK_EQ(ntohl(pkt->md.ct_orig_tuple.ipv4.ipv4_dst), 0x0a000002);
    CHECK_EQ(ntohs(pkt->md.ct_orig_tuple.ipv4.src_port), 1000);
    CHECK_EQ(ntohs(pkt->md.ct_orig_tuple.ipv4.dst_port), 53);
    CHECK_EQ(pkt->md.ct_orig_tuple.ipv4.ipv4_proto, IPPROTO_UDP);
    tpkt_free(ct, pkt);

    tpkt_udp_ct(ct, &ab6, 1000, 53, 0, true, 0);
    pkt = tpkt_udp(&ba6, 53, 1000, 0);
    CHECK_STATE(tpkt_ct(ct, pkt, &(struct ctdp_ct_action) { .zone = 0 }, 1),
                TRK_EST_RPL);
    CHECK(pkt->md.ct_orig_tuple_ipv6);
    CHECK(!memcmp(&pkt->md.ct_orig_tuple.ipv6.ipv6_src, &ab6.src.ip6, 16));
    CHECK(!memcmp(&pkt->md.ct_orig_tuple.ipv6.ipv6_dst, &ab6.dst.ip6, 16));
    CHECK_EQ(ntohs(pkt->md.ct_orig_tuple.ipv6.src_port), 1000);
    CHECK_EQ(pkt->md.ct_orig_tuple.ipv6.ipv6_proto, IPPROTO_UDP);
    tpkt_free(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* A related ICMP error carries its conn's zone and mark; an error in
 * another zone than its conn is an orphan. */
static void
test_icmp_error_related_md(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct dp_packet *inner = tpkt_udp(&ab, 1000, 53, 8);
    struct ctdp_ct_action a = tpkt_action(4, true);
    struct dp_packet *err;

    a.set_mark = true;
    a.mark = 0xfeed;
    a.mark_mask = UINT32_MAX;
    tpkt_ct1_action(ct, tpkt_udp(&ab, 1000, 53, 0), &a, 0);
    err = tpkt_icmp_error(&ba, 3, 3, inner, 0);
    a = tpkt_action(4, false);
    CHECK_STATE(tpkt_ct(ct, err, &a, 10), TRK_REL_RPL);
    CHECK_EQ(err->md.ct_zone, 4);
    CHECK_EQ(err->md.ct_mark, 0xfeed);
    tpkt_free(ct, err);
    CHECK_STATE(tpkt_ct1(ct, tpkt_icmp_error(&ba, 3, 3, inner, 0), 5, false,
                         20), TRK_INV);
    dp_packet_delete(inner);
    tpkt_ct_destroy(ct);
}

/* An ICMP time exceeded quoting an echo request is related to the echo
 * conn. */
static void
test_icmp_error_quoting_echo(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ra = tpkt_ip("10.9.9.9", A);
    struct dp_packet *echo = tpkt_echo(&ab, false, 77, 1);

    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ab, false, 77, 1), 0, true, 0),
                TRK_NEW);
    CHECK_STATE(tpkt_ct1(ct, tpkt_icmp_error(&ra, 11, 0, echo, 0), 0, false,
                         10), TRK_REL_RPL);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    dp_packet_delete(echo);
    tpkt_ct_destroy(ct);
}

/* Ethernet padding after the IP packet and 802.1Q tags before it do not
 * change how a packet is tracked. */
static void
test_padding_and_vlan(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct tpkt_ip ba6 = tpkt_ip(B6, A6);
    struct dp_packet *pkt = tpkt_udp(&ab, 1000, 53, 0);
    struct dp_packet *tagged;

    tpkt_pad(pkt, 18);
    CHECK_STATE(tpkt_ct1(ct, pkt, 0, true, 0), TRK_NEW);
    pkt = tpkt_udp(&ba, 53, 1000, 0);
    tagged = tpkt_vlan(pkt, 100);
    dp_packet_delete(pkt);
    CHECK_STATE(tpkt_ct1(ct, tagged, 0, false, 10), TRK_EST_RPL);
    pkt = tpkt_udp(&ba6, 53, 1000, 0);
    tpkt_pad(pkt, 7);
    CHECK_STATE(tpkt_ct1(ct, pkt, 0, false, 20), TRK_NEW);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_ct_destroy(ct);
}

/* A protocol without a tracker of its own is tracked by addresses only,
 * with the generic 600 s timeout, est once a reply was seen, and is never
 * ASSURED. */
static void
test_generic_protocol(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_ct1(ct, tpkt_proto(&ab, 99, 30), 0, true, 0), TRK_NEW);
    e = entry_of(ct, &ab, 99, 0, 0, 0, 0);
    CHECK(e.id != 0);
    CHECK_EQ(e.expires, 600000);
    CHECK_STATE(tpkt_ct1(ct, tpkt_proto(&ab, 99, 60), 0, false, 500),
                TRK_NEW);
    CHECK_STATE(tpkt_ct1(ct, tpkt_proto(&ba, 99, 10), 0, false, 1000),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_proto(&ab, 99, 10), 0, false, 5000),
                TRK_EST);
    e = entry_of(ct, &ab, 99, 0, 0, 0, 5000);
    CHECK(e.status & CTDP_S_SEEN_REPLY);
    CHECK(!(e.status & CTDP_S_ASSURED));
    CHECK_EQ(e.expires, 605000);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_STATE(tpkt_ct1(ct, tpkt_proto(&ba, 99, 10), 0, false, 605000),
                TRK_NEW);
    tpkt_ct_destroy(ct);
}

/* The same tuple in two zones is two conns, and a reply in one zone does
 * not touch the other zone's conn. */
static void
test_zones_separate(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 1, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 2, true, 0), TRK_NEW);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    CHECK_EQ(tpkt_dump(ct, 1, 0, NULL, 0), 1);
    CHECK_EQ(tpkt_dump(ct, 2, 0, NULL, 0), 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 2, false, 100), TRK_EST_RPL);
    CHECK(entry_of(ct, &ab, UDP, 1000, 53, 2, 100).status & CTDP_S_SEEN_REPLY);
    CHECK(!(entry_of(ct, &ab, UDP, 1000, 53, 1, 100).status
            & CTDP_S_SEEN_REPLY));
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 1, false, 200), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 2, false, 200), TRK_EST);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 3, false, 200), TRK_NEW);
    tpkt_ct_destroy(ct);
}

static struct ctdp_ct_action
mark_action(uint32_t mark, uint32_t mask, ovs_u128 label, ovs_u128 lmask)
{
    struct ctdp_ct_action a = tpkt_action(0, true);

    a.set_mark = true;
    a.mark = mark;
    a.mark_mask = mask;
    a.set_label = true;
    a.label = label;
    a.label_mask = lmask;
    return a;
}

/* A commit sets the mark and label under their masks, in the packet's
 * metadata and in the conn; later packets see them; a second commit with a
 * partial mask changes only the masked bits. */
static void
test_mark_and_label(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    ovs_u128 l1 = { .u64 = { .lo = 0x1122334455667788ULL, .hi = 0xabcd } };
    ovs_u128 all = { .u64 = { .lo = UINT64_MAX, .hi = UINT64_MAX } };
    ovs_u128 l2 = { .u64 = { .lo = 0xff, .hi = 0 } };
    ovs_u128 m2 = { .u64 = { .lo = 0xffff, .hi = 0 } };
    struct ctdp_ct_action a = mark_action(0x12345678, UINT32_MAX, l1, all);
    struct dp_packet *pkt = tpkt_udp(&ab, 1000, 53, 0);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_ct(ct, pkt, &a, 0), TRK_NEW);
    CHECK_EQ(pkt->md.ct_mark, 0x12345678);
    CHECK(ovs_u128_equals(pkt->md.ct_label, l1));
    tpkt_free(ct, pkt);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 0);
    CHECK_EQ(e.mark, 0x12345678);
    CHECK(ovs_u128_equals(e.label, l1));

    pkt = tpkt_udp(&ba, 53, 1000, 0);
    CHECK_STATE(tpkt_ct(ct, pkt, &(struct ctdp_ct_action) { .zone = 0 }, 10),
                TRK_EST_RPL);
    CHECK_EQ(pkt->md.ct_mark, 0x12345678);
    CHECK(ovs_u128_equals(pkt->md.ct_label, l1));
    tpkt_free(ct, pkt);

    a = mark_action(0xab00, 0xff00, l2, m2);
    CHECK_STATE(tpkt_ct1(ct, tpkt_udp(&ab, 1000, 53, 0), 0, false, 20),
                TRK_EST);
    pkt = tpkt_udp(&ab, 1000, 53, 0);
    CHECK_STATE(tpkt_ct(ct, pkt, &a, 30), TRK_EST);
    CHECK_EQ(pkt->md.ct_mark, 0x1234ab78);
    tpkt_free(ct, pkt);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 30);
    CHECK_EQ(e.mark, 0x1234ab78);
    CHECK_EQ(e.label.u64.lo, 0x11223344556600ffULL);
    CHECK_EQ(e.label.u64.hi, 0xabcd);
    tpkt_ct_destroy(ct);
}

/* commit,force on a reply-direction packet ends the old conn and makes a
 * new one in the packet's direction; the packet is new, not rpl. */
static void
test_force_recreates(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_action force = tpkt_action(0, true);
    struct dp_packet *pkt = tpkt_udp(&ba, 53, 1000, 0);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    force.force = true;
    CHECK_STATE(tpkt_ct(ct, pkt, &force, 100), TRK_NEW);
    tpkt_free(ct, pkt);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_EQ(tpkt_dump(ct, -1, 100, &e, 1), 1);
    CHECK_EQ(entry_of(ct, &ba, UDP, 53, 1000, 0, 100).id, e.id);
    CHECK_EQ(entry_of(ct, &ab, UDP, 1000, 53, 0, 100).id, 0);
    CHECK(!(e.status & CTDP_S_SEEN_REPLY));
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 200), TRK_EST_RPL);

    /* Force on an original-direction packet changes nothing. */
    pkt = tpkt_udp(&ba, 53, 1000, 0);
    CHECK_STATE(tpkt_ct(ct, pkt, &force, 300), TRK_EST);
    tpkt_free(ct, pkt);
    CHECK_EQ(entry_of(ct, &ba, UDP, 53, 1000, 0, 300).id, e.id);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_ct_destroy(ct);
}

/* 'found' counts lookups that found a conn, 'insert' counts confirms, not
 * commits of conns already confirmed. */
static void
test_stats_found_insert(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_stats s;

    tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0);
    s = stats_of(ct);
    CHECK_EQ(s.found, 0);
    CHECK_EQ(s.insert, 1);
    tpkt_udp_ct(ct, &ba, 53, 1000, 0, true, 10);
    tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 20);
    tpkt_udp_ct(ct, &ab, 2000, 53, 0, false, 30);
    s = stats_of(ct);
    CHECK_EQ(s.found, 2);
    CHECK_EQ(s.insert, 1);
    CHECK_EQ(s.invalid, 0);
    tpkt_ct_destroy(ct);
}

/* A second ct() in the same zone on the same packet reuses its conn and
 * counts 'ignore': ct(table) then ct(commit) commits that conn once.  A
 * ct() in another zone tracks the packet afresh. */
static void
test_stats_ignore(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct dp_packet *pkt = tpkt_udp(&ab, 1000, 53, 0);
    struct ctdp_ct_action look = tpkt_action(0, false);
    struct ctdp_ct_action commit = tpkt_action(0, true);
    struct ctdp_ct_action other = tpkt_action(1, true);

    CHECK_STATE(tpkt_ct(ct, pkt, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, pkt, &commit, 0), TRK_NEW);
    CHECK_EQ(stats_of(ct).ignore, 1);
    CHECK_EQ(stats_of(ct).insert, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_STATE(tpkt_ct(ct, pkt, &other, 0), TRK_NEW);
    CHECK_EQ(pkt->md.ct_zone, 1);
    CHECK_EQ(stats_of(ct).ignore, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    tpkt_free(ct, pkt);
    CHECK_EQ(entry_of(ct, &ab, UDP, 1000, 53, 0, 0).packets[CTDP_DIR_ORIG], 1);
    tpkt_ct_destroy(ct);
}

/* ct_clear detaches the packet from its conn and clears its ct fields
 * (freeing an unconfirmed conn); the next ct() in the same zone tracks it
 * afresh instead of being ignored. */
static void
test_ct_clear(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct dp_packet *pkt = tpkt_udp(&ab, 1000, 53, 0);
    struct ctdp_ct_action look = tpkt_action(3, false);
    struct ctdp_ct_action commit = tpkt_action(3, true);

    CHECK_STATE(tpkt_ct(ct, pkt, &look, 0), TRK_NEW);
    ctdp_ct_clear(ct, pkt);
    CHECK_EQ(pkt->md.ct_state, 0);
    CHECK_EQ(pkt->md.ct_zone, 0);
    CHECK(pkt->md.conn == NULL);
    CHECK_STATE(tpkt_ct(ct, pkt, &commit, 10), TRK_NEW);
    ctdp_ct_clear(ct, pkt);
    CHECK_STATE(tpkt_ct(ct, pkt, &look, 20), TRK_NEW);
    CHECK_EQ(stats_of(ct).ignore, 0);
    CHECK_EQ(stats_of(ct).found, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_free(ct, pkt);
    tpkt_ct_destroy(ct);
}

/* A non-IP frame is trk|inv and counted as not_ip; an IPv4 fragment is
 * trk|inv and counted as fragment; neither creates a conn. */
static void
test_stats_not_ip_fragment(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct dp_packet *frag = tpkt_udp(&ab, 1000, 53, 100);
    struct dp_packet *later = tpkt_udp(&ab, 1000, 53, 100);

    CHECK_STATE(tpkt_ct1(ct, tpkt_arp(), 0, true, 0), TRK_INV);
    CHECK_EQ(stats_of(ct).not_ip, 1);
    tpkt_set_ip4_frag(frag, true, 0);
    CHECK_STATE(tpkt_ct1(ct, frag, 0, true, 0), TRK_INV);
    tpkt_set_ip4_frag(later, false, 64);
    CHECK_STATE(tpkt_ct1(ct, later, 0, true, 0), TRK_INV);
    CHECK_EQ(stats_of(ct).fragment, 2);
    CHECK_EQ(stats_of(ct).insert, 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

/* IPv6 extension headers (hop-by-hop, destination options, routing) are
 * skipped: the UDP ports behind them make the tuple. */
static void
test_ipv6_ext_headers(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A6, B6), ba = tpkt_ip(B6, A6);

    ab.ext[0] = IPPROTO_HOPOPTS;
    ab.ext[1] = IPPROTO_DSTOPTS;
    ab.ext[2] = IPPROTO_ROUTING;
    ab.ext[3] = IPPROTO_DSTOPTS;
    ab.n_ext = 4;
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK(entry_of(ct, &ab, UDP, 1000, 53, 0, 0).id != 0);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 10), TRK_EST_RPL);
    ab.n_ext = 1;
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 20), TRK_EST);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_ct_destroy(ct);
}

/* A packet whose L3 offset the datapath already set is tracked as the
 * same packet without it. */
static void
test_l3_ofs_set(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct dp_packet *pkt = tpkt_udp(&ba, 53, 1000, 0);

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    tpkt_set_offsets(pkt);
    CHECK_STATE(tpkt_ct1(ct, pkt, 0, false, 10), TRK_EST_RPL);
    pkt = tpkt_echo(&ab, false, 1, 1);
    tpkt_set_offsets(pkt);
    CHECK_STATE(tpkt_ct1(ct, pkt, 0, true, 20), TRK_NEW);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    tpkt_ct_destroy(ct);
}

/* Runs ct() 'a' at 'now' on one batch of 'n' packets and checks that it
 * keeps them all, each with state 'want[i]' and mark 'mark'; frees them. */
static void
run_batch(struct ctdp_ct *ct, struct dp_packet **pkts, const int *want,
          size_t n, const struct ctdp_ct_action *a, uint32_t mark,
          long long now)
{
    CHECK_EQ(tpkt_ct_batch(ct, pkts, n, a, now), n);
    for (size_t i = 0; i < n; i++) {
        CHECK_STATE(pkts[i]->md.ct_state, want[i]);
        CHECK_EQ(pkts[i]->md.ct_mark, mark);
        tpkt_free(ct, pkts[i]);
    }
}

/* A batch of several packets is tracked packet by packet, in order: the
 * reply later in the same batch sees the conn committed earlier in it. */
static void
test_batch_in_order(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_action commit = tpkt_action(0, true);
    static const int want[] = { TRK_NEW, TRK_NEW, TRK_EST_RPL, TRK_EST };
    struct dp_packet *pkts[4];

    pkts[0] = tpkt_udp(&ab, 1000, 53, 0);
    pkts[1] = tpkt_udp(&ab, 1001, 53, 0);
    pkts[2] = tpkt_udp(&ba, 53, 1000, 0);
    pkts[3] = tpkt_udp(&ab, 1000, 53, 0);
    run_batch(ct, pkts, want, 4, &commit, 0, 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    tpkt_ct_destroy(ct);
}

/* Packets of one flow that follow each other in a batch are tracked as
 * if one by one: a packet whose predecessor changed the conn (the first
 * reply sets SEEN_REPLY, the next one ASSURED and the stream's timeout)
 * runs the tracker again, and the counters hold every packet, also of a
 * run that ends the batch or is broken by another flow. */
static void
test_batch_repeats(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_action a = tpkt_action(0, true);
    static const int replies[] = { TRK_EST_RPL, TRK_EST_RPL, TRK_EST_RPL };
    static const int origs[] = { TRK_EST, TRK_EST, TRK_NEW, TRK_EST,
                                 TRK_EST };
    struct dp_packet *pkts[5];
    struct ctdp_ct_entry e;
    uint64_t size;

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    size = entry_of(ct, &ab, UDP, 1000, 53, 0, 0).bytes[CTDP_DIR_ORIG];
    CHECK(size > 0);

    /* 3 s after the first packet, three replies in one batch. */
    a.set_mark = true;
    a.mark = 7;
    a.mark_mask = UINT32_MAX;
    for (int i = 0; i < 3; i++) {
        pkts[i] = tpkt_udp(&ba, 53, 1000, 0);
    }
    run_batch(ct, pkts, replies, 3, &a, 7, 3000);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 3000);
    CHECK(e.status & CTDP_S_SEEN_REPLY);
    CHECK(e.status & CTDP_S_ASSURED);
    CHECK_EQ(e.expires, 3000 + 120000);
    CHECK_EQ(e.packets[CTDP_DIR_REPLY], 3);
    CHECK_EQ(e.bytes[CTDP_DIR_REPLY], 3 * size);

    /* A run of two, another flow, and a run that ends the batch. */
    pkts[0] = tpkt_udp(&ab, 1000, 53, 0);
    pkts[1] = tpkt_udp(&ab, 1000, 53, 0);
    pkts[2] = tpkt_udp(&ab, 1001, 53, 0);
    pkts[3] = tpkt_udp(&ab, 1000, 53, 0);
    pkts[4] = tpkt_udp(&ab, 1000, 53, 0);
    a.mark = 8;
    run_batch(ct, pkts, origs, 5, &a, 8, 4000);
    e = entry_of(ct, &ab, UDP, 1000, 53, 0, 4000);
    CHECK_EQ(e.expires, 4000 + 120000);
    CHECK_EQ(e.mark, 8);
    CHECK_EQ(e.packets[CTDP_DIR_ORIG], 5);
    CHECK_EQ(e.packets[CTDP_DIR_REPLY], 3);
    CHECK_EQ(e.bytes[CTDP_DIR_ORIG], 5 * size);
    CHECK_EQ(stats_of(ct).found, 7);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    tpkt_ct_destroy(ct);
}

/* Runs 'l4''s own function on a packet of 'p' for confirmed 'conn' in
 * 'dir' with 'policy' (NULL: none) at 'now', and checks that it does what
 * the packet path's steady step does instead (track_steady() in
 * ctdp-ct.c): accepts, asks for the timeout of the steady slot, and
 * leaves the status and the protocol's state and tail as they were. */
static void
check_steady(struct ctdp_ct *ct, const struct ctdp_l4proto *l4,
             struct ctdp_conn *conn, const struct ctdp_parsed *p,
             enum ctdp_ct_dir dir, const struct ctdp_timeout_policy *policy,
             long long now)
{
    struct ctdp_l4_ctx ctx = {
        .parsed = p, .dir = dir, .confirmed = true, .now = now,
        .policy = policy,
        .defaults = ovsrcu_get(struct ctdp_timeout_policy *, &ct->timeouts),
    };
    uint16_t status = ctdp_conn_status(conn);
    uint8_t state = conn->l4_state, tail[64];
    long long timeout = -1;

    CHECK(l4->tail_size <= sizeof tail);
    memcpy(tail, conn->l4, l4->tail_size);
    CHECK_EQ(l4->packet(conn, &ctx, &timeout), CTDP_ACCEPT);
    CHECK_EQ(timeout, ctdp_timeout_ms(&ctx, l4->steady_slot));
    CHECK_EQ(ctdp_conn_status(conn), status);
    CHECK_EQ(conn->l4_state, state);
    CHECK(!memcmp(tail, conn->l4, l4->tail_size));
}

/* A protocol that says a conn with its steady status changes nothing
 * but its expiry (struct ctdp_l4proto's 'steady') does so, in both
 * directions, at any age, with and without a zone's timeout policy: the
 * packet path tracks such packets without the protocol's function. */
static void
test_steady_protocols(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    static const uint8_t data_chunk[20] = { 0, 3, 0, 20, 1, 2, 3, 4 };
    struct tpkt_ip ab = tpkt_ip(A, B), ab6 = tpkt_ip(A6, B6);
    struct dp_packet *pkts[] = {
        tpkt_udp(&ab, 1000, 53, 10), tpkt_udp(&ab6, 1000, 53, 10),
        tpkt_tcp(&ab, 1000, 80, TCP_ACK),
        tpkt_echo(&ab, false, 7, 1), tpkt_echo(&ab6, false, 7, 1),
        tpkt_sctp(&ab, 1000, 80, 1, data_chunk, sizeof data_chunk),
        tpkt_gre(&ab, 0, 0x800, 0),
        tpkt_proto(&ab, 99, 30), tpkt_proto(&ab6, 99, 30),
    };
    struct ctdp_timeout_policy policy;
    size_t n_steady = 0;

    for (size_t i = 0; i < CTDP_TM_N; i++) {
        policy.secs[i] = 77 + i;
    }
    for (size_t i = 0; i < ARRAY_SIZE(pkts); i++) {
        struct ctdp_parsed p;
        const struct ctdp_l4proto *l4;
        struct ctdp_conn *conn;

        CHECK_EQ(ctdp_tuple_extract(pkts[i], 0, true, &p), CTDP_PARSE_OK);
        l4 = ctdp_l4proto_find(&p.key);
        if (l4->steady) {
            CHECK(l4->repeatable);
            n_steady++;
            for (int dir = 0; dir < 2; dir++) {
                conn = ctdp_conn_alloc(ct, &p.key, l4, 0);
                ctdp_conn_set_status(conn, (CTDP_S_CONFIRMED
                                            | l4->steady_status
                                            | (dir ? CTDP_S_SEEN_REPLY
                                                   : 0)));
                for (long long now = 0; now <= 600000; now += 150000) {
                    check_steady(ct, l4, conn, &p, dir, NULL, now);
                    check_steady(ct, l4, conn, &p, dir, &policy, now);
                }
                ctdp_conn_free(conn);
            }
        }
        dp_packet_delete(pkts[i]);
    }
    /* UDP and generic, over IPv4 and IPv6. */
    CHECK_EQ(n_steady, 4);
    tpkt_ct_destroy(ct);
}

/* A conn's counters stay exact past the carries of their low parts,
 * which live on the conn's first line (ctdp_conn_count(): 256 packets,
 * 16 MiB), counted packet by packet and in runs of repeats; a mark
 * committed without a label reaches later packets (mark and label live on
 * the second line, read only by a conn with CTDP_S_MARKED). */
static void
test_counters_carry_and_mark(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_action mark = tpkt_action(0, true);
    struct ctdp_ct_action plain = tpkt_action(0, false);
    int want[NETDEV_MAX_BURST];
    struct dp_packet *pkts[NETDEV_MAX_BURST];
    struct dp_packet *pkt;
    struct ctdp_ct_entry e;
    uint64_t size, n = 1;

    mark.set_mark = true;
    mark.mark = 0x5a;
    mark.mark_mask = UINT32_MAX;
    pkt = tpkt_udp_big(&ab, 1000, 53, 60000);
    CHECK_STATE(tpkt_ct(ct, pkt, &mark, 0), TRK_NEW);
    tpkt_free(ct, pkt);
    size = entry_of(ct, &ab, UDP, 1000, 53, 0, 0).bytes[CTDP_DIR_ORIG];
    CHECK_EQ(size, 20 + 8 + 60000);

    pkt = tpkt_udp(&ba, 53, 1000, 0);
    CHECK_STATE(tpkt_ct(ct, pkt, &plain, 10), TRK_EST_RPL);
    CHECK_EQ(pkt->md.ct_mark, 0x5a);
    CHECK(ovs_u128_is_zero(pkt->md.ct_label));
    tpkt_free(ct, pkt);

    for (int i = 0; i < NETDEV_MAX_BURST; i++) {
        want[i] = TRK_EST;
    }
    for (int round = 0; round < 10; round++) {
        /* A run of repeats, then a packet alone. */
        for (int i = 0; i < NETDEV_MAX_BURST; i++) {
            pkts[i] = tpkt_udp_big(&ab, 1000, 53, 60000);
        }
        run_batch(ct, pkts, want, NETDEV_MAX_BURST, &plain, 0x5a, 20);
        pkts[0] = tpkt_udp_big(&ab, 1000, 53, 60000);
        run_batch(ct, pkts, want, 1, &plain, 0x5a, 20);
        n += NETDEV_MAX_BURST + 1;
        e = entry_of(ct, &ab, UDP, 1000, 53, 0, 20);
        CHECK_EQ(e.packets[CTDP_DIR_ORIG], n);
        CHECK_EQ(e.bytes[CTDP_DIR_ORIG], n * size);
    }
    CHECK(n > 256 && n * size > 16 << 20);
    CHECK_EQ(e.packets[CTDP_DIR_REPLY], 1);
    CHECK_EQ(e.mark, 0x5a);
    tpkt_ct_destroy(ct);
}

const struct ctdp_unit_suite ct_basic_suite = {
    "ct-basic", (const struct ctdp_unit_case[]) {
        { "udp_uncommitted_leaves_nothing",
          test_udp_uncommitted_leaves_nothing },
        { "udp_commit_creates_entry", test_udp_commit_creates_entry },
        { "udp_new_until_reply", test_udp_new_until_reply },
        { "udp_unreplied_expires", test_udp_unreplied_expires },
        { "sweep_budget", test_sweep_budget },
        { "sweep_resumes_after_removal", test_sweep_resumes_after_removal },
        { "udp_expired_replaced_before_sweep",
          test_udp_expired_replaced_before_sweep },
        { "expired_removed_by_lookup", test_expired_removed_by_lookup },
        { "udp_assured_after_2s", test_udp_assured_after_2s },
        { "udp_late_reply_not_assured", test_udp_late_reply_not_assured },
        { "icmp_echo", test_icmp_echo },
        { "icmp6_echo", test_icmp6_echo },
        { "icmp_lone_reply", test_icmp_lone_reply },
        { "icmp6_lone_reply", test_icmp6_lone_reply },
        { "icmp_error_related", test_icmp_error_related },
        { "icmp6_error_related", test_icmp6_error_related },
        { "icmp_error_related_orig_dir",
          test_icmp_error_related_orig_dir },
        { "icmp_error_related_md", test_icmp_error_related_md },
        { "icmp_error_quoting_echo", test_icmp_error_quoting_echo },
        { "md_orig_tuple", test_md_orig_tuple },
        { "padding_and_vlan", test_padding_and_vlan },
        { "generic_protocol", test_generic_protocol },
        { "zones_separate", test_zones_separate },
        { "mark_and_label", test_mark_and_label },
        { "force_recreates", test_force_recreates },
        { "stats_found_insert", test_stats_found_insert },
        { "stats_ignore", test_stats_ignore },
        { "ct_clear", test_ct_clear },
        { "stats_not_ip_fragment", test_stats_not_ip_fragment },
        { "ipv6_ext_headers", test_ipv6_ext_headers },
        { "l3_ofs_set", test_l3_ofs_set },
        { "batch_in_order", test_batch_in_order },
        { "batch_repeats", test_batch_repeats },
        { "counters_carry_and_mark", test_counters_carry_and_mark },
        { "steady_protocols", test_steady_protocols },
        { NULL, NULL },
    },
};
