#include <config.h>
#include "ctdp-offload.h"

#include <string.h>
#include <linux/virtio_net.h>
#include "crc32c.h"
#include "ctdp-csum.h"
#include "ctdp-ip.h"
#include "ctdp-tuple.h"
#include "dp-packet.h"
#include "packets.h"
#include "smap.h"
#include "userspace-tso.h"

void
ctdp_offload_enable(void)
{
    struct smap config = SMAP_INITIALIZER(&config);

    /* userspace_tso_init() turns it on once and for good; netdev-linux
     * reads it when it opens a device, an rxq and its one send socket. */
    smap_add(&config, "userspace-tso-enable", "true");
    userspace_tso_init(&config);
    smap_destroy(&config);
}

/* Headroom of a segment that ctdp_offload_segment() makes: room for the
 * virtio-net header that netdev-linux puts in front. */
#define SEG_HEADROOM 64

/* Where the L4 header of a packet is. */
struct l4_loc {
    uint8_t *l3;                /* The IP header. */
    uint8_t *l4;                /* The L4 header. */
    size_t l4_size;             /* From 'l4' to the IP packet's end (not the
                                 * frame's: link padding is no part of it). */
    struct ctdp_ip_hdr ip;
};

/* The bytes of 'proto''s header that must be there to complete or restore
 * its checksum. */
static size_t
l4_min_size(uint8_t proto)
{
    return (proto == IPPROTO_TCP ? TCP_HEADER_LEN
            : proto == IPPROTO_UDP ? UDP_HEADER_LEN
            : SCTP_HEADER_LEN);
}

/* Reads the IP header of 'pkt' (at its l3 offset if set, else past the
 * Ethernet header and any VLAN tags) into 'ip', its offset into '*l3', if
 * it is a whole IP packet (no fragment: a stack computes the checksum of a
 * datagram before cutting it).  Returns false if there is none. */
static bool
ip_locate(const struct dp_packet *pkt, size_t *l3, struct ctdp_ip_hdr *ip)
{
    const uint8_t *data = dp_packet_data(pkt);
    ovs_be16 dl_type;

    return (ctdp_tuple_find_l3(pkt, l3, &dl_type)
            && ctdp_ip_read(data + *l3, dp_packet_size(pkt) - *l3, false,
                            ip) == CTDP_IP_OK
            && ip->version == (dl_type == htons(ETH_TYPE_IP) ? 4
                               : dl_type == htons(ETH_TYPE_IPV6) ? 6 : 0)
            && !ip->fragment);
}

/* Finds the 'proto' header of 'pkt', a whole IP packet (ip_locate()).
 * Returns false if there is none. */
static bool
l4_locate(struct dp_packet *pkt, uint8_t proto, struct l4_loc *loc)
{
    size_t l3;

    if (!ip_locate(pkt, &l3, &loc->ip) || loc->ip.proto != proto
        || loc->ip.len - loc->ip.l4_ofs < l4_min_size(proto)) {
        return false;
    }
    loc->l3 = (uint8_t *) dp_packet_data(pkt) + l3;
    loc->l4 = loc->l3 + loc->ip.l4_ofs;
    loc->l4_size = loc->ip.len - loc->ip.l4_ofs;
    return true;
}

/* The TCP and UDP checksum field's offset in its header. */
static size_t
csum_field(uint8_t proto)
{
    return proto == IPPROTO_TCP ? offsetof(struct tcp_header, tcp_csum)
                                : offsetof(struct udp_header, udp_csum);
}

/* Completes the partial TCP or UDP checksum at 'loc' as a NIC does (and
 * the kernel's skb_checksum_help()): the sum from the L4 header to the
 * end, over a checksum field that holds the pseudo-header's sum, goes
 * into the field, 0 written as 0xffff. */
static void
complete_inet(const struct l4_loc *loc)
{
    ovs_be16 sum = ctdp_csum(loc->l4, loc->l4_size);

    if (!sum) {
        sum = htons(0xffff);
    }
    memcpy(loc->l4 + csum_field(loc->ip.proto), &sum, sizeof sum);
}

/* Completes the SCTP checksum at 'loc': a stack that leaves it to the
 * device leaves the field 0, and the CRC32c is computed over a zero
 * field anyway. */
static void
complete_sctp(const struct l4_loc *loc)
{
    struct sctp_header *sh = ALIGNED_CAST(struct sctp_header *, loc->l4);

    put_16aligned_be32(&sh->sctp_csum, 0);
    put_16aligned_be32(&sh->sctp_csum, crc32c(loc->l4, loc->l4_size));
}

/* The L4 protocol that an L4 checksum flag of 'pkt' names, 0 if none. */
static uint8_t
flagged_proto(const struct dp_packet *pkt)
{
    uint64_t mask = dp_packet_hwol_l4_mask(pkt);

    return (mask == DP_PACKET_OL_TX_TCP_CKSUM ? IPPROTO_TCP
            : mask == DP_PACKET_OL_TX_UDP_CKSUM ? IPPROTO_UDP
            : mask == DP_PACKET_OL_TX_SCTP_CKSUM ? IPPROTO_SCTP
            : 0);
}

/* Open vSwitch 3.1's netdev-linux reads the virtio-net header off the front
 * of a received frame (dp_packet_pull()) and keeps the GSO type, but not
 * the sender's segment size, 'gso_size'.  The header's bytes are still in
 * the headroom right before the frame, unless netdev-linux then pushed a
 * VLAN tag from the socket's auxdata over their end: so they are taken
 * only if they still describe this very frame, its TCP checksum to be
 * completed at this frame's L4 offset, for this IP version.  Returns the
 * segment size, or 0 if the header is not there (any more). */
static uint16_t
received_gso_size(const struct dp_packet *pkt, const struct l4_loc *loc)
{
    const uint8_t *data = dp_packet_data(pkt);
    struct virtio_net_hdr vnet;

    if (dp_packet_headroom(pkt) < sizeof vnet) {
        return 0;
    }
    memcpy(&vnet, data - sizeof vnet, sizeof vnet);
    return (vnet.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM
            && (vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN)
               == (loc->ip.version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
                                        : VIRTIO_NET_HDR_GSO_TCPV6)
            && vnet.csum_start == loc->l4 - data
            && vnet.csum_offset == csum_field(IPPROTO_TCP)
            ? vnet.gso_size : 0);
}

/* The sender's segment size of GSO frame 'pkt', kept since receive in its
 * flow mark (which nothing else in ctdp uses, and which clones copy), or 0
 * if unknown. */
static uint16_t
gso_size(const struct dp_packet *pkt)
{
    uint32_t mark;

    return dp_packet_has_flow_mark(pkt, &mark) ? mark : 0;
}

bool
ctdp_offload_rx(struct dp_packet *pkt)
{
    uint8_t proto = flagged_proto(pkt);
    struct l4_loc loc;
    bool ok;

    if (!dp_packet_hwol_l4_mask(pkt)) {
        return true;
    }
    ok = proto && l4_locate(pkt, proto, &loc);
    if (ok && dp_packet_hwol_is_tso(pkt) && proto == IPPROTO_TCP) {
        uint16_t size = received_gso_size(pkt, &loc);

        if (size) {
            dp_packet_set_flow_mark(pkt, size);
        }
    }
    if (ok) {
        if (proto == IPPROTO_SCTP) {
            complete_sctp(&loc);
        } else {
            complete_inet(&loc);
        }
    }
    *dp_packet_ol_flags_ptr(pkt) &= ~DP_PACKET_OL_TX_L4_MASK;
    if (ok) {
        *dp_packet_ol_flags_ptr(pkt) |= DP_PACKET_OL_RX_L4_CKSUM_GOOD;
    }
    return ok;
}

bool
ctdp_offload_rx_vnet(struct dp_packet *pkt, const struct virtio_net_hdr *vnet)
{
    uint8_t gso_type = vnet->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    struct ctdp_ip_hdr ip;
    size_t l3;

    if (vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM
        && ip_locate(pkt, &l3, &ip)) {
        *dp_packet_ol_flags_ptr(pkt) |= (
            ip.proto == IPPROTO_TCP ? DP_PACKET_OL_TX_TCP_CKSUM
            : ip.proto == IPPROTO_UDP ? DP_PACKET_OL_TX_UDP_CKSUM
            : ip.proto == IPPROTO_SCTP ? DP_PACKET_OL_TX_SCTP_CKSUM
            : 0);
    }
    if (gso_type == VIRTIO_NET_HDR_GSO_TCPV4
        || gso_type == VIRTIO_NET_HDR_GSO_TCPV6) {
        *dp_packet_ol_flags_ptr(pkt) |= DP_PACKET_OL_TX_TCP_SEG;
        if (vnet->gso_size) {
            dp_packet_set_flow_mark(pkt, vnet->gso_size);
        }
    }
    return ctdp_offload_rx(pkt);
}

/* Puts the TCP checksum of GSO frame 'pkt', TCP at 'loc', back in the
 * partial form, the folded pseudo-header sum (not inverted) over the whole
 * L4 length, from which the kernel's tcp_gso_segment() makes each
 * segment's; sets the flags and offsets netdev-linux's virtio-net header
 * is written from. */
static void
restore_partial(struct dp_packet *pkt, const struct l4_loc *loc)
{
    uint32_t *flags = dp_packet_ol_flags_ptr(pkt);
    ovs_be16 sum;

    /* IPv6: the fixed header's addresses, as the stack's own GSO frames
     * have them. */
    sum = (OVS_FORCE ovs_be16) (uint16_t) ~ctdp_csum_fold(
        ctdp_csum_pseudo_ip(0, loc->l3, loc->ip.version == 6, loc->l4_size,
                            loc->ip.proto));
    memcpy(loc->l4 + csum_field(IPPROTO_TCP), &sum, sizeof sum);
    pkt->l3_ofs = loc->l3 - (uint8_t *) dp_packet_data(pkt);
    pkt->l4_ofs = loc->l4 - (uint8_t *) dp_packet_data(pkt);
    *flags &= ~(DP_PACKET_OL_TX_L4_MASK | DP_PACKET_OL_TX_IPV4
                | DP_PACKET_OL_TX_IPV6 | DP_PACKET_OL_FLOW_MARK);
    *flags |= (DP_PACKET_OL_TX_TCP_CKSUM
               | (loc->ip.version == 4 ? DP_PACKET_OL_TX_IPV4
                                       : DP_PACKET_OL_TX_IPV6));
}

/* True if a netdev that segments for 'mtu' would cut GSO frame 'pkt',
 * TCP at 'loc', into larger segments than its sender's: netdev-linux
 * gives the kernel a segment size of the MTU less the headers from the
 * Ethernet header to a TCP header without options. */
static bool
needs_smaller_segments(const struct dp_packet *pkt, const struct l4_loc *loc,
                       int mtu)
{
    long long netdev_size = (mtu - (loc->l4 - (uint8_t *) dp_packet_data(pkt))
                             - TCP_HEADER_LEN);

    return gso_size(pkt) && gso_size(pkt) < netdev_size;
}

enum ctdp_offload_tx
ctdp_offload_tx(struct dp_packet *pkt, int tso_mtu)
{
    enum ctdp_offload_tx what = CTDP_OFFLOAD_TX_PLAIN;
    struct l4_loc loc;

    if (dp_packet_hwol_is_tso(pkt)) {
        bool tcp = l4_locate(pkt, IPPROTO_TCP, &loc);

        if (tcp && tso_mtu > 0 && needs_smaller_segments(pkt, &loc,
                                                         tso_mtu)) {
            return CTDP_OFFLOAD_TX_SEGMENT;
        }
        if (tcp && tso_mtu > 0) {
            restore_partial(pkt, &loc);
            return CTDP_OFFLOAD_TX_GSO;
        }
        *dp_packet_ol_flags_ptr(pkt) &= ~(DP_PACKET_OL_TX_TCP_SEG
                                          | DP_PACKET_OL_FLOW_MARK);
        what = CTDP_OFFLOAD_TX_WHOLE;
    }
    ctdp_offload_rx(pkt);
    return what;
}

/* Makes 'seg', a copy of the headers of GSO frame 'pkt' (TCP at 'loc')
 * followed by some of its payload from 'ofs' on, the 'i'th of its
 * segments, as the kernel's tcp_gso_segment() and inet_gso_segment() make
 * them: its IP length, IPv4 id (one more per segment) and header checksum,
 * TCP sequence number, flags (CWR on the first only, FIN and PSH on the
 * last only) and checksum. */
static void
finish_segment(struct dp_packet *seg, const struct dp_packet *pkt,
               const struct l4_loc *loc, size_t ofs, size_t i, bool last)
{
    size_t l3_ofs = loc->l3 - (const uint8_t *) dp_packet_data(pkt);
    size_t l4_ofs = loc->l4 - (const uint8_t *) dp_packet_data(pkt);
    struct l4_loc seg_loc = {
        .l3 = (uint8_t *) dp_packet_data(seg) + l3_ofs,
        .l4 = (uint8_t *) dp_packet_data(seg) + l4_ofs,
        .l4_size = dp_packet_size(seg) - l4_ofs,
        .ip = loc->ip,
    };
    struct tcp_header *th = ALIGNED_CAST(struct tcp_header *, seg_loc.l4);
    uint16_t flags = TCP_FLAGS(th->tcp_ctl);
    ovs_be16 sum = 0;

    if (loc->ip.version == 4) {
        struct ip_header *ip = ALIGNED_CAST(struct ip_header *, seg_loc.l3);

        ip->ip_tot_len = htons(dp_packet_size(seg) - l3_ofs);
        ip->ip_id = htons(ntohs(ip->ip_id) + i);
        ip->ip_csum = 0;
        ip->ip_csum = ctdp_csum(ip, loc->ip.l4_ofs);
    } else {
        struct ovs_16aligned_ip6_hdr *ip6 = ALIGNED_CAST(
            struct ovs_16aligned_ip6_hdr *, seg_loc.l3);

        ip6->ip6_ctlun.ip6_un1.ip6_un1_plen
            = htons(dp_packet_size(seg) - l3_ofs - IPV6_HEADER_LEN);
    }
    put_16aligned_be32(&th->tcp_seq,
                       htonl(ntohl(get_16aligned_be32(&th->tcp_seq)) + ofs));
    flags &= ~((i ? TCP_CWR : 0) | (last ? 0 : TCP_FIN | TCP_PSH));
    th->tcp_ctl = TCP_CTL(flags, TCP_OFFSET(th->tcp_ctl));
    memcpy(seg_loc.l4 + csum_field(IPPROTO_TCP), &sum, sizeof sum);
    sum = ctdp_csum_l4(seg_loc.l3, loc->ip.version == 6, loc->ip.proto,
                       seg_loc.l4, seg_loc.l4_size);
    memcpy(seg_loc.l4 + csum_field(IPPROTO_TCP), &sum, sizeof sum);
}

void
ctdp_offload_segment(const struct dp_packet *pkt,
                     void (*emit)(void *aux, struct dp_packet *seg),
                     void *aux)
{
    const uint8_t *data = dp_packet_data(pkt);
    size_t hdr, payload, mss = gso_size(pkt);
    struct l4_loc loc;

    /* ctdp_offload_tx() said CTDP_OFFLOAD_TX_SEGMENT: both hold. */
    ovs_assert(mss && l4_locate(CONST_CAST(struct dp_packet *, pkt),
                                IPPROTO_TCP, &loc));
    hdr = (loc.l4 - data) + TCP_OFFSET(((const struct tcp_header *)
                                        loc.l4)->tcp_ctl) * 4;
    payload = loc.l4_size - (hdr - (loc.l4 - data));
    /* A frame without payload still makes one segment. */
    for (size_t ofs = 0, i = 0; !i || ofs < payload; ofs += mss, i++) {
        size_t n = MIN(mss, payload - ofs);
        struct dp_packet *seg = dp_packet_new_with_headroom(hdr + n,
                                                            SEG_HEADROOM);

        dp_packet_put(seg, data, hdr);
        dp_packet_put(seg, data + hdr + ofs, n);
        finish_segment(seg, pkt, &loc, ofs, i, ofs + n >= payload);
        emit(aux, seg);
    }
}
