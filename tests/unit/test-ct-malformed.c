/* Packets that lie: every truncation of every kind of frame, and corrupted
 * length fields.  Each must come out trk|inv, counted as error or invalid,
 * without creating a conn or touching the ones that exist; the sanitizer
 * build checks that none is read past its end. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-tuple.h"
#include "ctdp-unit.h"

#include <stdio.h>
#include <string.h>
#include "csum.h"
#include "dp-packet.h"
#include "packets.h"
#include "util.h"

static const char *const A = "10.0.0.1", *const B = "10.0.0.2";
static const char *const A6 = "fd00::1", *const B6 = "fd00::2";

/* The conn every test commits first: A:1000 -> B:53 (v4 and v6). */
static struct ctdp_ct *
setup(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ab6 = tpkt_ip(A6, B6);

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab6, 1000, 53, 0, true, 0), TRK_NEW);
    return ct;
}

/* Checks that the setup() conns are all there is, untouched. */
static void
check_untouched(struct ctdp_ct *ct)
{
    struct ctdp_ct_entry e[4];
    size_t n = tpkt_dump(ct, -1, 0, e, 4);
    struct ctdp_ct_stats s;

    CHECK_EQ(n, 2);
    for (size_t i = 0; i < n && i < 4; i++) {
        CHECK_EQ(e[i].packets[CTDP_DIR_ORIG], 1);
        CHECK_EQ(e[i].packets[CTDP_DIR_REPLY], 0);
        CHECK(!(e[i].status & CTDP_S_SEEN_REPLY));
    }
    ctdp_ct_get_stats(ct, &s);
    CHECK_EQ(s.insert, 2);
}

/* Runs ct(commit) on a copy of 'pkt', with the L3 offset set if
 * 'offsets', and returns true if the copy was trk|inv and bumped error or
 * invalid. */
static bool
is_refused(struct ctdp_ct *ct, const struct dp_packet *pkt, bool offsets)
{
    struct dp_packet *copy = dp_packet_clone(pkt);
    struct ctdp_ct_stats before, after;
    int state;

    if (offsets) {
        copy->l3_ofs = TPKT_L3_OFS;
    }
    ctdp_ct_get_stats(ct, &before);
    state = tpkt_ct1(ct, copy, 0, true, 100);
    ctdp_ct_get_stats(ct, &after);
    return state == TRK_INV
           && after.error + after.invalid > before.error + before.invalid;
}

/* Checks is_refused() on 'pkt' both with and without the L3 offset set,
 * printing 'what' and 'arg' on a failure. */
static void
check_refused(struct ctdp_ct *ct, const struct dp_packet *pkt,
              const char *what, int arg)
{
    for (int offsets = 0; offsets < 2; offsets++) {
        if (!is_refused(ct, pkt, offsets)) {
            printf("# %s %d (l3_ofs %s) was not refused\n",
                   what, arg, offsets ? "set" : "unset");
            CHECK(!"malformed packet refused");
        }
    }
}

/* The frames whose truncations are tried; each is valid as built, and
 * none but the ICMP errors (which relate to it) matches the setup() conn,
 * so that tracking them whole leaves it alone. */
enum frame {
    F_UDP4, F_TCP4, F_ECHO4, F_ICMPERR4, F_PROTO4,
    F_UDP6, F_TCP6, F_ECHO6, F_ICMPERR6, F_UDP6_EXT,
    N_FRAMES
};

static struct dp_packet *
build_frame(enum frame f)
{
    struct tpkt_ip ab = tpkt_ip(A, B), ab6 = tpkt_ip(A6, B6);
    struct tpkt_ip v4 = tpkt_ip(B, A), v6 = tpkt_ip(B6, A6);
    struct dp_packet *inner, *pkt;
    bool six = f >= F_UDP6;

    switch (f) {
    case F_UDP4: case F_UDP6:
        return tpkt_udp(six ? &v6 : &v4, 5353, 1000, 20);
    case F_TCP4: case F_TCP6:
        return tpkt_tcp(six ? &v6 : &v4, 80, 1000, TCP_SYN);
    case F_ECHO4: case F_ECHO6:
        return tpkt_echo(six ? &ab6 : &ab, false, 3, 1);
    case F_ICMPERR4: case F_ICMPERR6:
        inner = tpkt_udp(six ? &ab6 : &ab, 1000, 53, 20);
        pkt = tpkt_icmp_error(six ? &v6 : &v4, six ? 1 : 3, 3, inner, 0);
        dp_packet_delete(inner);
        return pkt;
    case F_PROTO4:
        return tpkt_proto(&v4, 99, 20);
    case F_UDP6_EXT:
        v6.ext[0] = IPPROTO_HOPOPTS;
        v6.ext[1] = IPPROTO_ROUTING;
        v6.ext[2] = IPPROTO_DSTOPTS;
        v6.n_ext = 3;
        return tpkt_udp(&v6, 5353, 1000, 20);
    case N_FRAMES:
    default:
        OVS_NOT_REACHED();
    }
}

/* Every frame is accepted whole (so that refusals below are about the
 * damage), and refused when cut to any shorter length, from 0 bytes (no
 * Ethernet header) on. */
static void
test_truncations(void)
{
    struct ctdp_ct *ct = setup();

    for (enum frame f = 0; f < N_FRAMES; f++) {
        struct dp_packet *full = build_frame(f);
        size_t size = dp_packet_size(full);
        struct dp_packet *copy = dp_packet_clone(full);
        int state = tpkt_ct1(ct, copy, 0, false, 100);

        if (state & CS_INVALID || !(state & CS_TRACKED)) {
            printf("# frame %d whole was refused\n", f);
            CHECK(!"whole frame accepted");
        }
        for (size_t len = 0; len < size; len++) {
            struct dp_packet *cut = dp_packet_clone(full);

            tpkt_truncate(cut, len);
            check_refused(ct, cut, "frame cut at", f * 10000 + len);
            dp_packet_delete(cut);
        }
        dp_packet_delete(full);
    }
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* An ICMP error whose quote ends before the embedded L4 identifiers is
 * refused; one that quotes the IP header and 8 bytes relates to the conn
 * (the positive control). */
static void
check_short_quotes(bool v6)
{
    struct ctdp_ct *ct = setup();
    struct tpkt_ip ab = v6 ? tpkt_ip(A6, B6) : tpkt_ip(A, B);
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct dp_packet *inner = tpkt_udp(&ab, 1000, 53, 20);
    size_t enough = (v6 ? IPV6_HEADER_LEN : IP_HEADER_LEN) + 8;
    struct dp_packet *err;

    for (size_t quote = 1; quote < enough; quote++) {
        err = tpkt_icmp_error(&ba, v6 ? 1 : 3, 3, inner, quote);
        check_refused(ct, err, "quote of", quote);
        dp_packet_delete(err);
    }
    err = tpkt_icmp_error(&ba, v6 ? 1 : 3, 3, inner, enough);
    CHECK_STATE(tpkt_ct1(ct, err, 0, false, 100), TRK_REL_RPL);
    dp_packet_delete(inner);
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* check_short_quotes() for ICMP errors over IPv4. */
static void
test_icmp_error_short_quote(void)
{
    check_short_quotes(false);
}

/* check_short_quotes() for ICMPv6 errors. */
static void
test_icmp6_error_short_quote(void)
{
    check_short_quotes(true);
}

/* IPv4 total length beyond the frame or below the header, and a header
 * length below 5 words or beyond the packet, are refused. */
static void
test_ipv4_length_fields(void)
{
    static const uint16_t tot_lens[] = { 0, 1, 19, 49, 1500, 65535 };
    static const uint8_t ihls[] = { 0, 1, 4, 13, 15 };
    struct ctdp_ct *ct = setup();
    struct tpkt_ip ba = tpkt_ip(B, A);
    struct dp_packet *pkt;

    /* The frame's IP packet is 20 + 8 + 20 = 48 bytes. */
    for (size_t i = 0; i < ARRAY_SIZE(tot_lens); i++) {
        pkt = tpkt_udp(&ba, 53, 1000, 20);
        tpkt_set_ip_len(pkt, tot_lens[i]);
        check_refused(ct, pkt, "IPv4 total length", tot_lens[i]);
        dp_packet_delete(pkt);
    }
    for (size_t i = 0; i < ARRAY_SIZE(ihls); i++) {
        pkt = tpkt_udp(&ba, 53, 1000, 20);
        tpkt_set_ihl(pkt, ihls[i]);
        check_refused(ct, pkt, "IPv4 IHL", ihls[i]);
        dp_packet_delete(pkt);
    }
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* IPv6 payload length beyond the frame, and an extension header whose
 * length runs past the packet, are refused. */
static void
test_ipv6_length_fields(void)
{
    static const uint16_t plens[] = { 29, 100, 65535 };
    struct ctdp_ct *ct = setup();
    struct tpkt_ip ba = tpkt_ip(B6, A6);
    struct dp_packet *pkt;
    uint8_t *ext;

    for (size_t i = 0; i < ARRAY_SIZE(plens); i++) {
        pkt = tpkt_udp(&ba, 53, 1000, 20);
        tpkt_set_ip_len(pkt, plens[i]);
        check_refused(ct, pkt, "IPv6 payload length", plens[i]);
        dp_packet_delete(pkt);
    }
    ba.ext[0] = IPPROTO_DSTOPTS;
    ba.n_ext = 1;
    pkt = tpkt_udp(&ba, 53, 1000, 20);
    ext = (uint8_t *) dp_packet_data(pkt) + TPKT_L3_OFS + IPV6_HEADER_LEN;
    ext[1] = 4;
    check_refused(ct, pkt, "IPv6 extension length", 4);
    dp_packet_delete(pkt);
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* A UDP length beyond the IP payload or below the header is refused. */
static void
test_udp_length_field(void)
{
    static const uint16_t lens[] = { 0, 1, 7, 29, 1000, 65535 };
    struct ctdp_ct *ct = setup();

    for (int v6 = 0; v6 < 2; v6++) {
        struct tpkt_ip ba = v6 ? tpkt_ip(B6, A6) : tpkt_ip(B, A);

        /* The UDP datagram is 8 + 20 = 28 bytes. */
        for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
            struct dp_packet *pkt = tpkt_udp(&ba, 53, 1000, 20);

            tpkt_set_udp_len(pkt, lens[i]);
            check_refused(ct, pkt, "UDP length", lens[i]);
            dp_packet_delete(pkt);
        }
    }
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* A TCP data offset below 5 words or beyond the segment is refused. */
static void
test_tcp_data_offset(void)
{
    static const uint8_t doffs[] = { 0, 1, 4, 6, 15 };
    struct ctdp_ct *ct = setup();

    for (int v6 = 0; v6 < 2; v6++) {
        struct tpkt_ip ab = v6 ? tpkt_ip(A6, B6) : tpkt_ip(A, B);

        for (size_t i = 0; i < ARRAY_SIZE(doffs); i++) {
            struct dp_packet *pkt = tpkt_tcp(&ab, 1000, 80, TCP_SYN);

            tpkt_set_tcp_doff(pkt, doffs[i]);
            check_refused(ct, pkt, "TCP data offset", doffs[i]);
            dp_packet_delete(pkt);
        }
    }
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* An ICMP error whose embedded IPv4 header has IHL below 5 is refused. */
static void
test_icmp_error_bad_inner(void)
{
    struct ctdp_ct *ct = setup();
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct dp_packet *inner = tpkt_udp(&ab, 1000, 53, 20);
    struct dp_packet *err;

    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        tpkt_set_ihl(inner, ihl);
        err = tpkt_icmp_error(&ba, 3, 3, inner, 0);
        check_refused(ct, err, "inner IHL", ihl);
        dp_packet_delete(err);
    }
    dp_packet_delete(inner);
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* Random bytes written over the headers of every frame never crash the
 * tracker, and every packet comes out tracked. */
/* Flips a bit of the byte 'ofs' bytes into the L4 header (from the IP
 * header with 'l3'), which breaks the checksum over it. */
static void
damage(struct dp_packet *pkt, size_t ofs, bool l3)
{
    uint8_t *p = dp_packet_data(pkt);

    p[(l3 ? TPKT_L3_OFS : tpkt_l4_ofs(pkt)) + ofs] ^= 0x10;
}

/* Whether ct(commit) on 'pkt' comes out trk|inv as a bad checksum, with
 * no conn made.  'nic_good' sets the flags of a NIC that verified the
 * checksums, which the tracker then trusts. */
static bool
bad_checksum_refused(struct ctdp_ct *ct, struct dp_packet *pkt,
                     bool nic_good)
{
    uint32_t n_conns = ctdp_ct_n_conns(ct);
    struct ctdp_ct_stats before, after;
    int state;

    if (nic_good) {
        *dp_packet_ol_flags_ptr(pkt) |= DP_PACKET_OL_RX_IP_CKSUM_GOOD
                                        | DP_PACKET_OL_RX_L4_CKSUM_GOOD;
    }
    ctdp_ct_get_stats(ct, &before);
    state = tpkt_ct1(ct, pkt, 0, true, 100);     /* Frees 'pkt'. */
    ctdp_ct_get_stats(ct, &after);
    return state == TRK_INV && after.bad_checksum == before.bad_checksum + 1
           && after.invalid == before.invalid + 1
           && ctdp_ct_n_conns(ct) == n_conns;
}

/* As the kernel (IP input for the IPv4 header, nf_conntrack_checksum for
 * TCP, UDP, ICMP and ICMPv6): a wrong checksum makes the packet invalid
 * and creates nothing; a UDP checksum of 0 means none, in IPv6 too; a
 * checksum the NIC vouched for is not checked again. */
static void
test_bad_checksums(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);

    for (int v6 = 0; v6 < 2; v6++) {
        struct tpkt_ip ab = v6 ? tpkt_ip(A6, B6) : tpkt_ip(A, B);
        struct dp_packet *pkt;

        pkt = tpkt_tcp(&ab, 1000, 80, TCP_SYN);
        damage(pkt, 4, false);              /* Sequence number. */
        CHECK(bad_checksum_refused(ct, pkt, false));
        pkt = tpkt_udp(&ab, 1000, 53, 10);
        damage(pkt, 8, false);              /* Payload. */
        CHECK(bad_checksum_refused(ct, pkt, false));
        pkt = tpkt_echo(&ab, false, 7, 1);
        damage(pkt, 6, false);              /* Echo sequence number. */
        CHECK(bad_checksum_refused(ct, pkt, false));

        /* No UDP checksum: tracked. */
        pkt = tpkt_udp(&ab, 1000, 53, 10);
        memset((uint8_t *) dp_packet_data(pkt) + tpkt_l4_ofs(pkt) + 6, 0, 2);
        CHECK_STATE(tpkt_ct1(ct, pkt, 0, false, 100), TRK_NEW);
        /* Vouched for by the NIC: tracked. */
        pkt = tpkt_tcp(&ab, 1000, 80, TCP_SYN);
        damage(pkt, 4, false);
        CHECK(!bad_checksum_refused(ct, pkt, true));
    }
    /* The IPv4 header's own checksum. */
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct dp_packet *pkt = tpkt_udp(&ab, 1000, 53, 10);

    damage(pkt, 8, true);                   /* TTL. */
    CHECK(bad_checksum_refused(ct, pkt, false));
    tpkt_ct_destroy(ct);
}

static void
test_random_damage(void)
{
    struct ctdp_ct *ct = setup();
    uint32_t x = 0x9e3779b9;
    int n_untracked = 0;

    for (enum frame f = 0; f < N_FRAMES; f++) {
        struct dp_packet *full = build_frame(f);

        for (int i = 0; i < 2000; i++) {
            struct dp_packet *pkt = dp_packet_clone(full);
            uint8_t *p = dp_packet_data(pkt);
            size_t size = dp_packet_size(pkt);

            for (int k = 0; k < 3; k++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                p[12 + x % (MIN(size, 90) - 12)] = x >> 24;
            }
            n_untracked += !(tpkt_ct1(ct, pkt, i % 3, i & 1, 100)
                             & CS_TRACKED);
        }
        dp_packet_delete(full);
    }
    CHECK_EQ(n_untracked, 0);
    tpkt_ct_destroy(ct);
}

/* ICMP carried in IPv6 and ICMPv6 in IPv4, an echo request and its reply
 * each: invalid, counted only as invalid (no checksum is checked, as the
 * kernel's nf_conntrack_icmp_packet() refuses the family before anything
 * else), and no conn (kdiff sequences icmp_in_ipv6, icmpv6_in_ipv4). */
static void
test_icmp_wrong_family(void)
{
    static const uint8_t request[8] = { 8, 0, 0, 0, 0, 7, 0, 1 };
    static const uint8_t reply[8] = { 0, 0, 0, 0, 0, 7, 0, 1 };
    static const uint8_t request6[8] = { 128, 0, 0, 0, 0, 7, 0, 1 };
    static const uint8_t reply6[8] = { 129, 0, 0, 0, 0, 7, 0, 1 };
    struct ctdp_ct *ct = setup();
    struct tpkt_ip ab = tpkt_ip(A, B), ab6 = tpkt_ip(A6, B6);
    struct tpkt_ip ba = tpkt_ip_swap(&ab), ba6 = tpkt_ip_swap(&ab6);
    struct dp_packet *pkts[] = {
        tpkt_l4(&ab6, IPPROTO_ICMP, request, sizeof request),
        tpkt_l4(&ba6, IPPROTO_ICMP, reply, sizeof reply),
        tpkt_l4(&ab, IPPROTO_ICMPV6, request6, sizeof request6),
        tpkt_l4(&ba, IPPROTO_ICMPV6, reply6, sizeof reply6),
    };
    struct ctdp_ct_stats before, after;

    ctdp_ct_get_stats(ct, &before);
    for (size_t i = 0; i < ARRAY_SIZE(pkts); i++) {
        CHECK_STATE(tpkt_ct1(ct, pkts[i], 0, true, 100), TRK_INV);
    }
    ctdp_ct_get_stats(ct, &after);
    CHECK_EQ(after.invalid - before.invalid, ARRAY_SIZE(pkts));
    CHECK_EQ(after.error + after.bad_checksum,
             before.error + before.bad_checksum);
    check_untouched(ct);
    tpkt_ct_destroy(ct);
}

/* ---- The plain IPv4 reader against the general one ---------------------
 *
 * ctdp_tuple_extract() reads a plain IPv4 TCP or UDP packet by a shortcut
 * and everything else by the general reader.  Every variant of such
 * packets below, plain or not after the change, must come out of both
 * with the same result, key, offsets and lengths. */

/* Counts of compare_readers() over a test. */
struct reader_counts {
    unsigned int n, ok, differ;
};

static bool
same_parse(enum ctdp_parse ra, const struct ctdp_parsed *a,
           enum ctdp_parse rb, const struct ctdp_parsed *b)
{
    return (ra == rb && !memcmp(&a->key, &b->key, sizeof a->key)
            && a->l3 == b->l3 && a->l4 == b->l4 && a->l4_size == b->l4_size
            && a->l3_size == b->l3_size);
}

/* Reads 'pkt' both ways, with and without the L3 offset set and the NIC's
 * checksum flags, with and without L4 checksums, and counts. */
static void
compare_readers(const struct dp_packet *pkt, struct reader_counts *c)
{
    for (int v = 0; v < 8; v++) {
        struct dp_packet *copy = dp_packet_clone(pkt);
        struct ctdp_parsed a, b;
        enum ctdp_parse ra, rb;

        copy->l3_ofs = v & 1 ? TPKT_L3_OFS : UINT16_MAX;
        if (v & 2) {
            *dp_packet_ol_flags_ptr(copy) |= DP_PACKET_OL_RX_IP_CKSUM_GOOD
                                             | DP_PACKET_OL_RX_L4_CKSUM_GOOD;
        }
        memset(&a, 0xa5, sizeof a);
        memset(&b, 0xa5, sizeof b);
        ra = ctdp_tuple_extract(copy, 7, v & 4, &a);
        rb = ctdp_tuple_extract_general(copy, 7, v & 4, &b);
        c->n++;
        c->ok += ra == CTDP_PARSE_OK;
        if (!same_parse(ra, &a, rb, &b)) {
            if (c->differ++ < 5) {
                printf("# readers differ (%d and %d) on:", ra, rb);
                for (size_t i = 0; i < MIN(dp_packet_size(copy), 64); i++) {
                    printf(" %02x", ((uint8_t *) dp_packet_data(copy))[i]);
                }
                printf("\n");
            }
        }
        dp_packet_delete(copy);
    }
}

/* Sets the IPv4 header checksum of 'pkt' right. */
static void
fix_ip_csum(struct dp_packet *pkt)
{
    struct ip_header *ip = (void *) ((uint8_t *) dp_packet_data(pkt)
                                     + TPKT_L3_OFS);
    size_t ihl = IP_IHL(ip->ip_ihl_ver) * 4;

    if (ihl >= IP_HEADER_LEN && TPKT_L3_OFS + ihl <= dp_packet_size(pkt)) {
        ip->ip_csum = 0;
        ip->ip_csum = csum(ip, ihl);
    }
}

/* Compares the readers on 'pkt' with byte 'ofs' from the IP header set to
 * 'value', with the IP header checksum left as it was and set right. */
static void
compare_with_byte(const struct dp_packet *pkt, size_t ofs, uint8_t value,
                  struct reader_counts *c)
{
    struct dp_packet *copy = dp_packet_clone(pkt);

    ((uint8_t *) dp_packet_data(copy))[TPKT_L3_OFS + ofs] = value;
    compare_readers(copy, c);
    fix_ip_csum(copy);
    compare_readers(copy, c);
    dp_packet_delete(copy);
}

static void
test_plain_ipv4_reader(void)
{
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct dp_packet *frames[] = {
        tpkt_udp(&ab, 1000, 53, 0),
        tpkt_udp(&ab, 1000, 53, 21),
        tpkt_tcp(&ab, 1000, 80, TCP_SYN),
        tpkt_tcp_seg(&ab, 1000, 80, TCP_ACK | TCP_PSH, 1, 1, 100,
                     NULL, 0, 33),
        tpkt_echo(&ab, false, 3, 1),
    };
    struct reader_counts c = { 0, 0, 0 };
    uint32_t x = 0x2545f491;

    /* UDP without a checksum. */
    memset((uint8_t *) dp_packet_data(frames[1]) + tpkt_l4_ofs(frames[1])
           + 6, 0, 2);
    for (size_t f = 0; f < ARRAY_SIZE(frames); f++) {
        struct dp_packet *pkt = frames[f];
        size_t size = dp_packet_size(pkt);

        compare_readers(pkt, &c);
        /* Every value of the version and IHL, the total length's bytes,
         * the flags and fragment offset, the protocol, and of the first
         * 8 bytes of the L4 header (ports, UDP length, TCP sequence). */
        static const size_t bytes[] = { 0, 2, 3, 6, 7, 9, 20, 21, 22, 23,
                                         24, 25, 26, 27, 32 };
        for (size_t i = 0; i < ARRAY_SIZE(bytes); i++) {
            if (TPKT_L3_OFS + bytes[i] < size) {
                for (int v = 0; v < 256; v++) {
                    compare_with_byte(pkt, bytes[i], v, &c);
                }
            }
        }
        /* Every truncation. */
        for (size_t n = 0; n < size; n++) {
            struct dp_packet *copy = dp_packet_clone(pkt);

            tpkt_truncate(copy, n);
            compare_readers(copy, &c);
            dp_packet_delete(copy);
        }
        /* Random bytes over the first 64 of the frame. */
        for (int i = 0; i < 3000; i++) {
            struct dp_packet *copy = dp_packet_clone(pkt);
            uint8_t *p = dp_packet_data(copy);

            for (int k = 0; k < 2; k++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                p[12 + x % (MIN(size, 64) - 12)] = x >> 24;
            }
            if (i & 1) {
                fix_ip_csum(copy);
            }
            compare_readers(copy, &c);
            dp_packet_delete(copy);
        }
        dp_packet_delete(pkt);
    }
    printf("# %u reads, %u of them OK\n", c.n, c.ok);
    CHECK(c.ok > c.n / 8);
    CHECK_EQ(c.differ, 0);
}

const struct ctdp_unit_suite ct_malformed_suite = {
    "ct-malformed", (const struct ctdp_unit_case[]) {
        { "truncations", test_truncations },
        { "icmp_error_short_quote", test_icmp_error_short_quote },
        { "icmp6_error_short_quote", test_icmp6_error_short_quote },
        { "ipv4_length_fields", test_ipv4_length_fields },
        { "ipv6_length_fields", test_ipv6_length_fields },
        { "udp_length_field", test_udp_length_field },
        { "tcp_data_offset", test_tcp_data_offset },
        { "icmp_error_bad_inner", test_icmp_error_bad_inner },
        { "bad_checksums", test_bad_checksums },
        { "random_damage", test_random_damage },
        { "icmp_wrong_family", test_icmp_wrong_family },
        { "plain_ipv4_reader", test_plain_ipv4_reader },
        { NULL, NULL },
    },
};
