/* Checksum and segmentation offload (lib/ctdp-offload.c), on crafted
 * frames: a partial checksum as a Linux stack leaves it (the folded
 * pseudo-header sum, not inverted) is completed to what the test builders
 * compute for the whole packet, for TCP and UDP over IPv4 and IPv6 (odd
 * lengths, extension headers, a VLAN tag, UDP's 0 written as 0xffff) and
 * SCTP's CRC32c; a frame whose L4 header is not the flag's loses the flag
 * and keeps its bytes; a GSO frame gets its partial form back for a port
 * that segments (and completing that again gives the whole checksum, also
 * after NAT changed an address), and goes whole to one that does not; the
 * sender's segment size is read from the virtio-net header netdev-linux
 * leaves in the headroom, and a frame whose sender's segments are smaller
 * than the port would cut is cut in software, as the kernel cuts it; the
 * virtio-net header of a frame from ctdp's own ring is taken as
 * netdev-linux takes it. */
#include <config.h>
#include "ctdp-offload.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <string.h>
#include <linux/virtio_net.h>
#include "csum.h"
#include "dp-packet.h"
#include "packets.h"

static const char *const A = "10.0.0.1", *const B = "10.0.0.2";
static const char *const A6 = "fd00::1", *const B6 = "fd00::2";

#define TCP_CSUM 16
#define UDP_CSUM 6

static uint16_t
get_u16(const struct dp_packet *pkt, size_t ofs)
{
    const uint8_t *p = dp_packet_data(pkt);

    return p[ofs] << 8 | p[ofs + 1];
}

static void
put_u16(struct dp_packet *pkt, size_t ofs, uint16_t x)
{
    uint8_t *p = dp_packet_data(pkt);

    p[ofs] = x >> 8;
    p[ofs + 1] = x;
}

/* The offload flags of 'pkt' (a new packet's other bits are not set). */
static uint32_t
flags(const struct dp_packet *pkt)
{
    return *dp_packet_ol_flags_ptr(pkt) & DP_PACKET_OL_SUPPORTED_MASK;
}

static void
set_flags(struct dp_packet *pkt, uint32_t f)
{
    *dp_packet_ol_flags_ptr(pkt) |= f;
}

/* The folded sum of the pseudo-header of 'pkt', whose L3 header is at
 * 'l3' and L4 header at 'l4' up to the frame's end, from its own bytes. */
static uint16_t
pseudo(const struct dp_packet *pkt, size_t l3, size_t l4, uint8_t proto)
{
    const uint8_t *p = dp_packet_data(pkt);
    bool v6 = (p[l3] >> 4) == 6;
    ovs_be32 len = htonl(dp_packet_size(pkt) - l4), nxt = htonl(proto);
    uint32_t sum;

    sum = csum_continue(0, p + l3 + (v6 ? 8 : 12), v6 ? 32 : 8);
    sum = csum_continue(sum, &len, 4);
    sum = csum_continue(sum, &nxt, 4);
    return ntohs((OVS_FORCE ovs_be16) ~csum_finish(sum));
}

/* Makes the checksum of 'pkt' (L3 at 'l3', 'proto' at 'l4') partial, as
 * a stack leaves it, flags it, and returns the whole checksum it had. */
static uint16_t
make_partial(struct dp_packet *pkt, size_t l3, size_t l4, uint8_t proto)
{
    size_t ofs = l4 + (proto == IPPROTO_TCP ? TCP_CSUM : UDP_CSUM);
    uint16_t whole = get_u16(pkt, ofs);

    put_u16(pkt, ofs, pseudo(pkt, l3, l4, proto));
    set_flags(pkt, proto == IPPROTO_TCP ? DP_PACKET_OL_TX_TCP_CKSUM
                                        : DP_PACKET_OL_TX_UDP_CKSUM);
    return whole;
}

/* Completes the partial checksum of 'pkt' and checks that it is 'whole'
 * again, flagged good. */
static void
check_completed(struct dp_packet *pkt, size_t l4, uint8_t proto,
                uint16_t whole)
{
    size_t ofs = l4 + (proto == IPPROTO_TCP ? TCP_CSUM : UDP_CSUM);

    CHECK(ctdp_offload_rx(pkt));
    CHECK_EQ(get_u16(pkt, ofs), whole);
    CHECK(!dp_packet_hwol_l4_mask(pkt));
    CHECK(dp_packet_l4_checksum_valid(pkt));
}

static void
check_complete(struct dp_packet *pkt, uint8_t proto)
{
    size_t l4 = tpkt_l4_ofs(pkt);
    uint16_t whole = make_partial(pkt, TPKT_L3_OFS, l4, proto);

    CHECK(whole != get_u16(pkt, l4 + (proto == IPPROTO_TCP ? TCP_CSUM
                                                           : UDP_CSUM)));
    check_completed(pkt, l4, proto, whole);
    dp_packet_delete(pkt);
}

static struct dp_packet *
tcp_flags_seg(const struct tpkt_ip *ip, uint8_t flags, uint32_t seq,
              size_t payload)
{
    uint8_t opts[12];
    size_t n = tpkt_tcp_opt_sack(opts, 7, 9);

    return tpkt_tcp_seg(ip, 40000, 80, flags, seq, 2000, 512, opts, n,
                        payload);
}

static struct dp_packet *
tcp(const struct tpkt_ip *ip, size_t payload)
{
    return tcp_flags_seg(ip, TCP_ACK | TCP_PSH, 1000, payload);
}

static void
test_complete_tcp(void)
{
    struct tpkt_ip ip4 = tpkt_ip(A, B), ip6 = tpkt_ip(A6, B6);

    check_complete(tcp(&ip4, 1000), IPPROTO_TCP);
    check_complete(tcp(&ip4, 1001), IPPROTO_TCP);
    check_complete(tcp(&ip6, 1401), IPPROTO_TCP);
    check_complete(tcp(&ip6, 0), IPPROTO_TCP);
}

static void
test_complete_udp(void)
{
    struct tpkt_ip ip4 = tpkt_ip(A, B), ip6 = tpkt_ip(A6, B6);

    check_complete(tpkt_udp(&ip4, 1000, 53, 333), IPPROTO_UDP);
    check_complete(tpkt_udp(&ip6, 1000, 53, 0), IPPROTO_UDP);
    check_complete(tpkt_udp(&ip6, 1000, 53, 1200), IPPROTO_UDP);
}

/* A UDP datagram whose sum comes to 0 gets 0xffff: 0 means "none". */
static void
test_complete_udp_zero(void)
{
    struct tpkt_ip ip = tpkt_ip(A, B);
    struct dp_packet *pkt = tpkt_udp(&ip, 1000, 53, 2);
    size_t l4 = tpkt_l4_ofs(pkt);
    uint16_t c0 = get_u16(pkt, l4 + UDP_CSUM);
    uint32_t w = c0 + get_u16(pkt, l4 + UDP_HEADER_LEN);

    /* The sum is ~c0: adding c0 to the payload (ones' complement) makes
     * it 0xffff, whose checksum is 0. */
    CHECK(c0 != 0xffff);
    put_u16(pkt, l4 + UDP_HEADER_LEN, (w & 0xffff) + (w >> 16));
    make_partial(pkt, TPKT_L3_OFS, l4, IPPROTO_UDP);
    check_completed(pkt, l4, IPPROTO_UDP, 0xffff);
    dp_packet_delete(pkt);
}

static void
test_complete_vlan_and_ext_headers(void)
{
    struct tpkt_ip ip4 = tpkt_ip(A, B), ip6 = tpkt_ip(A6, B6);
    struct dp_packet *plain = tcp(&ip4, 700);
    struct dp_packet *tagged = tpkt_vlan(plain, 7);
    size_t l4 = tpkt_l4_ofs(plain) + 4;
    uint16_t whole = make_partial(tagged, TPKT_L3_OFS + 4, l4, IPPROTO_TCP);

    check_completed(tagged, l4, IPPROTO_TCP, whole);
    dp_packet_delete(plain);
    dp_packet_delete(tagged);

    ip6.ext[0] = IPPROTO_HOPOPTS;
    ip6.ext[1] = IPPROTO_DSTOPTS;
    ip6.n_ext = 2;
    check_complete(tcp(&ip6, 999), IPPROTO_TCP);
}

static void
test_complete_sctp(void)
{
    static const uint8_t chunk[20] = { 0, 3, 0, 20, 1, 2, 3, 4 };
    struct tpkt_ip ip = tpkt_ip(A, B);
    struct dp_packet *pkt = tpkt_sctp(&ip, 5000, 6000, 0xabcd, chunk,
                                      sizeof chunk);
    uint8_t *crc = (uint8_t *) dp_packet_data(pkt) + tpkt_l4_ofs(pkt) + 8;

    memset(crc, 0, 4);
    set_flags(pkt, DP_PACKET_OL_TX_SCTP_CKSUM);
    CHECK(!tpkt_sctp_csum_ok(pkt));
    CHECK(ctdp_offload_rx(pkt));
    CHECK(tpkt_sctp_csum_ok(pkt));
    CHECK(!dp_packet_hwol_l4_mask(pkt));
    CHECK(dp_packet_l4_checksum_valid(pkt));
    dp_packet_delete(pkt);
}

/* Copies of 'pkt''s bytes, to compare. */
static bool
same_bytes(const struct dp_packet *a, const struct dp_packet *b)
{
    return dp_packet_size(a) == dp_packet_size(b)
           && !memcmp(dp_packet_data(a), dp_packet_data(b),
                      dp_packet_size(a));
}

/* A flag that names another protocol than the packet's, or a packet whose
 * L4 header is not there: the flag goes, the bytes stay, nothing is
 * vouched for. */
static void
test_rx_not_located(void)
{
    struct tpkt_ip ip = tpkt_ip(A, B);
    struct dp_packet *pkts[3], *copy;

    pkts[0] = tpkt_udp(&ip, 1000, 53, 100);
    set_flags(pkts[0], DP_PACKET_OL_TX_TCP_CKSUM);
    pkts[1] = tcp(&ip, 100);
    tpkt_truncate(pkts[1], TPKT_L3_OFS + 20 + 10);
    tpkt_set_ip_len(pkts[1], 30);
    set_flags(pkts[1], DP_PACKET_OL_TX_TCP_CKSUM);
    pkts[2] = tpkt_udp(&ip, 1000, 53, 100);
    tpkt_set_ip4_frag(pkts[2], true, 0);
    set_flags(pkts[2], DP_PACKET_OL_TX_UDP_CKSUM);
    for (size_t i = 0; i < ARRAY_SIZE(pkts); i++) {
        copy = dp_packet_clone(pkts[i]);
        CHECK(!ctdp_offload_rx(pkts[i]));
        CHECK(!dp_packet_hwol_l4_mask(pkts[i]));
        CHECK(!dp_packet_l4_checksum_valid(pkts[i]));
        CHECK(same_bytes(pkts[i], copy));
        dp_packet_delete(copy);
        dp_packet_delete(pkts[i]);
    }
}

static void
test_rx_no_flag(void)
{
    struct tpkt_ip ip = tpkt_ip(A, B);
    struct dp_packet *pkt = tcp(&ip, 10), *copy = dp_packet_clone(pkt);

    CHECK(ctdp_offload_rx(pkt));
    CHECK(same_bytes(pkt, copy));
    CHECK_EQ(flags(pkt), 0);
    dp_packet_delete(pkt);
    dp_packet_delete(copy);
}

/* A GSO frame for a port that segments: the pseudo-header sum over its
 * length in the field, offsets and flags for netdev-linux; a device that
 * completes it gets the whole checksum back. */
static void
check_restore(struct dp_packet *pkt, bool v6)
{
    size_t l4 = tpkt_l4_ofs(pkt);
    uint16_t whole = get_u16(pkt, l4 + TCP_CSUM);

    set_flags(pkt, DP_PACKET_OL_TX_TCP_SEG);
    CHECK_EQ(ctdp_offload_tx(pkt, 1500), CTDP_OFFLOAD_TX_GSO);
    CHECK_EQ(get_u16(pkt, l4 + TCP_CSUM),
             pseudo(pkt, TPKT_L3_OFS, l4, IPPROTO_TCP));
    CHECK(dp_packet_hwol_is_tso(pkt));
    CHECK(dp_packet_hwol_l4_is_tcp(pkt));
    CHECK_EQ(dp_packet_hwol_is_ipv4(pkt), !v6);
    CHECK_EQ(!!(flags(pkt) & DP_PACKET_OL_TX_IPV6), v6);
    CHECK_EQ(pkt->l3_ofs, TPKT_L3_OFS);
    CHECK_EQ(pkt->l4_ofs, l4);
    check_completed(pkt, l4, IPPROTO_TCP, whole);
    dp_packet_delete(pkt);
}

static void
test_tx_restore(void)
{
    struct tpkt_ip ip4 = tpkt_ip(A, B), ip6 = tpkt_ip(A6, B6);

    check_restore(tcp(&ip4, 1400), false);
    check_restore(tcp(&ip4, 1), false);
    check_restore(tcp(&ip6, 1400), true);
}

/* Rewrites the IPv4 source address of 'pkt' to that of 'to', updating
 * the IP and TCP checksums as NAT does. */
static void
nat_source(struct dp_packet *pkt, const struct tpkt_ip *to)
{
    uint8_t *l3 = (uint8_t *) dp_packet_data(pkt) + TPKT_L3_OFS;
    uint8_t *l4 = (uint8_t *) dp_packet_data(pkt) + tpkt_l4_ofs(pkt);
    ovs_be32 old, new = to->src.ip4;
    ovs_be16 sum;

    memcpy(&old, l3 + 12, 4);
    memcpy(l3 + 12, &new, 4);
    memcpy(&sum, l3 + 10, 2);
    sum = recalc_csum32(sum, old, new);
    memcpy(l3 + 10, &sum, 2);
    memcpy(&sum, l4 + TCP_CSUM, 2);
    sum = recalc_csum32(sum, old, new);
    memcpy(l4 + TCP_CSUM, &sum, 2);
}

/* NAT rewrote the source address after the checksum was completed: the
 * restored partial sum is over the new address, and completing it gives
 * the checksum of a frame built with that address. */
static void
test_tx_restore_after_nat(void)
{
    struct tpkt_ip ip = tpkt_ip(A, B), nat = tpkt_ip("192.0.2.7", B);
    struct dp_packet *pkt = tcp(&ip, 1200), *want = tcp(&nat, 1200);

    nat_source(pkt, &nat);
    CHECK(same_bytes(pkt, want));
    check_restore(pkt, false);
    dp_packet_delete(want);
}

static void
test_tx_whole_and_plain(void)
{
    struct tpkt_ip ip = tpkt_ip(A, B);
    struct dp_packet *gso = tcp(&ip, 1400), *plain = tcp(&ip, 10);
    struct dp_packet *udp = tpkt_udp(&ip, 1000, 53, 100);
    struct dp_packet *gso_copy = dp_packet_clone(gso);
    struct dp_packet *plain_copy = dp_packet_clone(plain);
    struct dp_packet *udp_copy = dp_packet_clone(udp);
    size_t l4 = tpkt_l4_ofs(udp);

    /* To a port that cannot segment: whole, unchanged, no flag. */
    set_flags(gso, DP_PACKET_OL_TX_TCP_SEG);
    CHECK_EQ(ctdp_offload_tx(gso, 0), CTDP_OFFLOAD_TX_WHOLE);
    CHECK(same_bytes(gso, gso_copy));
    CHECK_EQ(flags(gso), 0);

    /* Not a GSO frame: nothing, to either kind of port. */
    CHECK_EQ(ctdp_offload_tx(plain, 1500), CTDP_OFFLOAD_TX_PLAIN);
    CHECK_EQ(ctdp_offload_tx(plain, 0), CTDP_OFFLOAD_TX_PLAIN);
    CHECK(same_bytes(plain, plain_copy));
    CHECK_EQ(flags(plain), 0);

    /* A GSO flag on what is not TCP: whole; a partial checksum still
     * flagged is completed, not left to a port that would drop it. */
    make_partial(udp, TPKT_L3_OFS, l4, IPPROTO_UDP);
    set_flags(udp, DP_PACKET_OL_TX_TCP_SEG);
    CHECK_EQ(ctdp_offload_tx(udp, 1500), CTDP_OFFLOAD_TX_WHOLE);
    CHECK(same_bytes(udp, udp_copy));
    CHECK(!dp_packet_hwol_is_tso(udp));
    CHECK(!dp_packet_hwol_l4_mask(udp));

    dp_packet_delete(gso);
    dp_packet_delete(plain);
    dp_packet_delete(udp);
    dp_packet_delete(gso_copy);
    dp_packet_delete(plain_copy);
    dp_packet_delete(udp_copy);
}


/* ---- The sender's segment size ---------------------------------------- */

/* Makes 'pkt' a received TCP GSO frame: its checksum partial, flagged, and
 * before it in the headroom the virtio-net header that netdev-linux read
 * and pulled off, with 'gso_size' and a checksum start at 'csum_start'. */
static void
make_received_gso(struct dp_packet *pkt, uint16_t gso_size, bool v6,
                  size_t csum_start)
{
    size_t l4 = tpkt_l4_ofs(pkt);
    struct virtio_net_hdr vnet = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = l4 + TCP_HEADER_LEN,
        .gso_size = gso_size,
        .csum_start = csum_start,
        .csum_offset = TCP_CSUM,
    };

    make_partial(pkt, TPKT_L3_OFS, l4, IPPROTO_TCP);
    set_flags(pkt, DP_PACKET_OL_TX_TCP_SEG);
    memcpy(dp_packet_push_uninit(pkt, sizeof vnet), &vnet, sizeof vnet);
    dp_packet_pull(pkt, sizeof vnet);
}

/* What ctdp_offload_segment() emits, gathered. */
struct segs {
    struct dp_packet *p[8];
    size_t n;
};

static void
gather(void *segs_, struct dp_packet *seg)
{
    struct segs *segs = segs_;

    ovs_assert(segs->n < ARRAY_SIZE(segs->p));
    segs->p[segs->n++] = seg;
}

/* The segment the kernel would make: built whole, IPv4 id 'id'. */
static struct dp_packet *
expected_segment(const struct tpkt_ip *ip, uint8_t flags, uint32_t seq,
                 size_t payload, uint16_t id)
{
    struct dp_packet *pkt = tcp_flags_seg(ip, flags, seq, payload);

    if (!ip->v6) {
        uint8_t *l3 = (uint8_t *) dp_packet_data(pkt) + TPKT_L3_OFS;
        ovs_be16 sum;

        put_u16(pkt, TPKT_L3_OFS + 4, id);
        memset(l3 + 10, 0, 2);
        sum = csum(l3, IP_HEADER_LEN);
        memcpy(l3 + 10, &sum, 2);
    }
    return pkt;
}

/* A 1460-byte GSO frame whose sender cut 500-byte segments: to a port
 * with MTU 1500 it is cut in software into 500, 500 and 460 bytes, CWR on
 * the first only, FIN and PSH on the last only, each with its sequence
 * number, length, IPv4 id and checksums. */
static void
check_segmented(const struct tpkt_ip *ip)
{
    const uint8_t all = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR;
    struct dp_packet *pkt = tcp_flags_seg(ip, all, 1000, 1460);
    struct dp_packet *copy;
    struct segs segs = { .n = 0 };
    static const struct {
        uint8_t flags;
        uint32_t seq;
        size_t payload;
    } want[] = {
        { TCP_ACK | TCP_CWR, 1000, 500 },
        { TCP_ACK, 1500, 500 },
        { TCP_ACK | TCP_PSH | TCP_FIN, 2000, 460 },
    };

    make_received_gso(pkt, 500, ip->v6, tpkt_l4_ofs(pkt));
    CHECK(ctdp_offload_rx(pkt));
    copy = dp_packet_clone(pkt);
    CHECK_EQ(ctdp_offload_tx(copy, 1500), CTDP_OFFLOAD_TX_SEGMENT);
    ctdp_offload_segment(copy, gather, &segs);
    CHECK_EQ(segs.n, ARRAY_SIZE(want));
    for (size_t i = 0; i < MIN(segs.n, ARRAY_SIZE(want)); i++) {
        struct dp_packet *exp = expected_segment(ip, want[i].flags,
                                                 want[i].seq,
                                                 want[i].payload, i);

        CHECK(same_bytes(segs.p[i], exp));
        CHECK_EQ(flags(segs.p[i]), 0);
        dp_packet_delete(exp);
    }
    for (size_t i = 0; i < segs.n; i++) {
        dp_packet_delete(segs.p[i]);
    }
    dp_packet_delete(copy);
    dp_packet_delete(pkt);
}

static void
test_segment(void)
{
    struct tpkt_ip ip4 = tpkt_ip(A, B), ip6 = tpkt_ip(A6, B6);

    check_segmented(&ip4);
    check_segmented(&ip6);
}

/* The netdev's segments are no larger than the sender's, or the header
 * does not describe the frame (a VLAN tag pushed over it, say): the
 * netdev segments it. */
static void
test_segment_not_needed(void)
{
    struct tpkt_ip ip = tpkt_ip(A, B);
    struct dp_packet *big = tcp(&ip, 1460), *stale = tcp(&ip, 1460);

    make_received_gso(big, 1446, false, tpkt_l4_ofs(big));
    CHECK(ctdp_offload_rx(big));
    CHECK_EQ(ctdp_offload_tx(big, 1500), CTDP_OFFLOAD_TX_GSO);
    CHECK(!(flags(big) & DP_PACKET_OL_FLOW_MARK));

    make_received_gso(stale, 500, false, tpkt_l4_ofs(stale) - 4);
    CHECK(ctdp_offload_rx(stale));
    CHECK_EQ(ctdp_offload_tx(stale, 1500), CTDP_OFFLOAD_TX_GSO);
    dp_packet_delete(big);
    dp_packet_delete(stale);
}

/* The virtio-net header of a frame from ctdp's own ring: a partial
 * checksum is flagged by the frame's protocol and completed; a TCP GSO
 * frame is flagged and keeps its sender's segment size; a header without
 * flags leaves the frame as it came. */
static void
test_rx_vnet(void)
{
    struct tpkt_ip ip4 = tpkt_ip(A, B), ip6 = tpkt_ip(A6, B6);
    struct virtio_net_hdr vnet = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
    struct dp_packet *pkt = tpkt_udp(&ip4, 1000, 53, 333);
    size_t l4 = tpkt_l4_ofs(pkt);
    uint16_t whole = make_partial(pkt, TPKT_L3_OFS, l4, IPPROTO_UDP);
    uint32_t mark;

    *dp_packet_ol_flags_ptr(pkt) &= ~DP_PACKET_OL_TX_L4_MASK;
    CHECK(ctdp_offload_rx_vnet(pkt, &vnet));
    CHECK_EQ(get_u16(pkt, l4 + UDP_CSUM), whole);
    CHECK(dp_packet_l4_checksum_valid(pkt));
    dp_packet_delete(pkt);

    pkt = tcp(&ip6, 1400);
    l4 = tpkt_l4_ofs(pkt);
    whole = make_partial(pkt, TPKT_L3_OFS, l4, IPPROTO_TCP);
    *dp_packet_ol_flags_ptr(pkt) &= ~DP_PACKET_OL_TX_L4_MASK;
    vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    vnet.gso_size = 1200;
    CHECK(ctdp_offload_rx_vnet(pkt, &vnet));
    CHECK_EQ(get_u16(pkt, l4 + TCP_CSUM), whole);
    CHECK(dp_packet_hwol_is_tso(pkt));
    CHECK(dp_packet_has_flow_mark(pkt, &mark) && mark == 1200);
    dp_packet_delete(pkt);

    pkt = tcp(&ip4, 100);
    memset(&vnet, 0, sizeof vnet);
    whole = get_u16(pkt, tpkt_l4_ofs(pkt) + TCP_CSUM);
    CHECK(ctdp_offload_rx_vnet(pkt, &vnet));
    CHECK_EQ(get_u16(pkt, tpkt_l4_ofs(pkt) + TCP_CSUM), whole);
    CHECK(!flags(pkt));
    dp_packet_delete(pkt);
}

const struct ctdp_unit_suite offload_suite = {
    "offload", (const struct ctdp_unit_case[]) {
        { "complete_tcp", test_complete_tcp },
        { "complete_udp", test_complete_udp },
        { "complete_udp_zero", test_complete_udp_zero },
        { "complete_vlan_and_ext_headers",
          test_complete_vlan_and_ext_headers },
        { "complete_sctp", test_complete_sctp },
        { "rx_not_located", test_rx_not_located },
        { "rx_no_flag", test_rx_no_flag },
        { "rx_vnet", test_rx_vnet },
        { "tx_restore", test_tx_restore },
        { "tx_restore_after_nat", test_tx_restore_after_nat },
        { "tx_whole_and_plain", test_tx_whole_and_plain },
        { "segment", test_segment },
        { "segment_not_needed", test_segment_not_needed },
        { NULL, NULL } } };
