#include <config.h>
#include "ctdp-offload.h"

#include <string.h>
#include "crc32c.h"
#include "csum.h"
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

/* Finds the 'proto' header of 'pkt' (its l3 offset if set, else past the
 * Ethernet header and any VLAN tags), in an IP packet that is whole (no
 * fragment: a stack computes the checksum of a datagram before cutting
 * it).  Returns false if there is none. */
static bool
l4_locate(struct dp_packet *pkt, uint8_t proto, struct l4_loc *loc)
{
    uint8_t *data = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt), l3;
    ovs_be16 dl_type;

    if (!ctdp_tuple_find_l3(pkt, &l3, &dl_type)
        || ctdp_ip_read(data + l3, size - l3, false, &loc->ip) != CTDP_IP_OK
        || loc->ip.version != (dl_type == htons(ETH_TYPE_IP) ? 4
                               : dl_type == htons(ETH_TYPE_IPV6) ? 6 : 0)
        || loc->ip.fragment || loc->ip.proto != proto
        || loc->ip.len - loc->ip.l4_ofs < l4_min_size(proto)) {
        return false;
    }
    loc->l3 = data + l3;
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
    ovs_be16 sum = csum_finish(csum_continue(0, loc->l4, loc->l4_size));

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

/* The sum of the pseudo-header of the L4 packet at 'loc': its addresses
 * (IPv6: the fixed header's, as the stack's own GSO frames have them), its
 * length and protocol. */
static uint32_t
pseudo_sum(const struct l4_loc *loc)
{
    ovs_be32 len_proto[2] = { htonl(loc->l4_size), htonl(loc->ip.proto) };
    uint32_t sum;

    sum = (loc->ip.version == 4
           ? csum_continue(0, loc->l3 + offsetof(struct ip_header, ip_src),
                           2 * sizeof(ovs_be32))
           : csum_continue(0, loc->l3 + offsetof(struct ovs_16aligned_ip6_hdr,
                                                 ip6_src),
                           2 * sizeof(struct in6_addr)));
    return csum_continue(sum, len_proto, sizeof len_proto);
}

/* Puts the TCP checksum of GSO frame 'pkt' back in the partial form, the
 * folded pseudo-header sum (not inverted) over the whole L4 length, from
 * which the kernel's tcp_gso_segment() makes each segment's; sets the
 * flags and offsets netdev-linux's virtio-net header is written from.
 * Returns false if 'pkt' is not TCP in IP (any more). */
static bool
restore_partial(struct dp_packet *pkt)
{
    uint32_t *flags = dp_packet_ol_flags_ptr(pkt);
    struct l4_loc loc;
    ovs_be16 sum;

    if (!l4_locate(pkt, IPPROTO_TCP, &loc)) {
        return false;
    }
    sum = (OVS_FORCE ovs_be16) ~csum_finish(pseudo_sum(&loc));
    memcpy(loc.l4 + csum_field(IPPROTO_TCP), &sum, sizeof sum);
    pkt->l3_ofs = loc.l3 - (uint8_t *) dp_packet_data(pkt);
    pkt->l4_ofs = loc.l4 - (uint8_t *) dp_packet_data(pkt);
    *flags &= ~(DP_PACKET_OL_TX_L4_MASK | DP_PACKET_OL_TX_IPV4
                | DP_PACKET_OL_TX_IPV6);
    *flags |= (DP_PACKET_OL_TX_TCP_CKSUM
               | (loc.ip.version == 4 ? DP_PACKET_OL_TX_IPV4
                                      : DP_PACKET_OL_TX_IPV6));
    return true;
}

enum ctdp_offload_tx
ctdp_offload_tx(struct dp_packet *pkt, bool can_tso)
{
    enum ctdp_offload_tx what = CTDP_OFFLOAD_TX_PLAIN;

    if (dp_packet_hwol_is_tso(pkt)) {
        if (can_tso && restore_partial(pkt)) {
            return CTDP_OFFLOAD_TX_GSO;
        }
        *dp_packet_ol_flags_ptr(pkt) &= ~DP_PACKET_OL_TX_TCP_SEG;
        what = CTDP_OFFLOAD_TX_WHOLE;
    }
    ctdp_offload_rx(pkt);
    return what;
}
