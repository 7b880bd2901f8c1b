#ifndef CTDP_OFFLOAD_H
#define CTDP_OFFLOAD_H 1

/* Checksum and segmentation offload on system and tap ports.
 *
 * A Linux stack leaves the L4 checksum of what it sends over veth or tap
 * to the "hardware" (CHECKSUM_PARTIAL: the checksum field holds only the
 * pseudo-header's sum), and sends TCP as GSO super-frames of up to 64 KiB
 * that the device, or the stack where they are delivered, cuts into
 * segments.  ctdp takes both as the kernel's datapath does:
 *
 *   - ctdp_offload_enable() makes Open vSwitch's netdev-linux (its
 *     "userspace TSO") exchange a virtio-net header with every frame on
 *     system ports (PACKET_VNET_HDR) and tap ports (IFF_VNET_HDR,
 *     TUNSETOFFLOAD): a received frame says whether its checksum is
 *     partial (an L4 checksum flag, DP_PACKET_OL_TX_*_CKSUM) and whether
 *     it is a GSO frame (DP_PACKET_OL_TX_TCP_SEG), into a 64 KiB buffer.
 *     A system port's own receive ring (ctdp-ring.h) gets the same header
 *     and takes it with ctdp_offload_rx_vnet().
 *
 *   - ctdp_offload_rx(), on each received packet, completes a partial
 *     checksum in software and marks it good, as the kernel trusts
 *     CHECKSUM_PARTIAL: past the port every packet carries a whole
 *     checksum, so that the tracker, NAT, the helpers' payload rewriting
 *     and pcap outputs need nothing else.  A GSO frame stays one packet,
 *     tracked as one segment, as nf_conntrack sees a GSO skb.
 *
 *   - ctdp_offload_tx(), on each packet about to be sent, puts a GSO
 *     frame's checksum back in the partial form the kernel segments from,
 *     for a port that can take GSO frames (a netdev with TSO: system and
 *     tap); to any other port (dummy, pcap) the frame goes whole, with its
 *     whole checksum, as tcpdump would show it on the veth.
 *
 * The kernel cuts a GSO frame that netdev-linux sends into segments sized
 * for the output port's MTU, not the sender's segment size, which Open
 * vSwitch 3.1's netdev-linux does not keep.  A sender that chose smaller
 * segments (a smaller path MTU beyond, or its peer's MSS) must get them,
 * or a router beyond drops the larger ones: ctdp_offload_rx() recovers the
 * sender's size from the virtio-net header where it can, and
 * ctdp_offload_segment() cuts such a frame in software, to that size.
 *
 * Thread-safety: ctdp_offload_enable() may be called from any thread, any
 * number of times; the others work on a packet that belongs to the calling
 * thread. */

#include <stdbool.h>

struct dp_packet;
struct virtio_net_hdr;

/* Turns on the virtio-net header for system and tap ports opened from now
 * on (ports opened before keep what they had): call it before the first
 * port opens.  Dummy ports are not affected. */
void ctdp_offload_enable(void);

/* Completes the partial L4 checksum of 'pkt', as received, if its offload
 * flags say it has one (TCP, UDP: the Internet checksum; SCTP: CRC32c),
 * clears the flag and marks the L4 checksum good.  A packet whose L4
 * header cannot be found (not IP, a fragment, another protocol than the
 * flag's, truncated) keeps its bytes and loses the flag, so that the
 * tracker checks it and calls it invalid.  Returns false for such a
 * packet, true otherwise.  A TCP GSO frame also keeps its sender's segment
 * size, where netdev-linux left it readable (see above), for
 * ctdp_offload_tx(). */
bool ctdp_offload_rx(struct dp_packet *pkt);

/* Takes the virtio-net header 'vnet' that came with frame 'pkt' on a packet
 * socket of ctdp's own (ctdp-ring.h), as netdev-linux takes it: a checksum
 * the sender left partial flags the frame's L4 protocol, a TCP GSO type
 * flags a GSO frame and keeps its segment size; then does what
 * ctdp_offload_rx() does, and returns what it returns. */
bool ctdp_offload_rx_vnet(struct dp_packet *pkt,
                          const struct virtio_net_hdr *vnet);

/* What ctdp_offload_tx() did to a packet. */
enum ctdp_offload_tx {
    CTDP_OFFLOAD_TX_PLAIN,      /* Not a GSO frame: nothing. */
    CTDP_OFFLOAD_TX_GSO,        /* A GSO frame, prepared for segmentation by
                                 * the output netdev. */
    CTDP_OFFLOAD_TX_SEGMENT,    /* A GSO frame whose sender's segments are
                                 * smaller than the netdev would cut: for
                                 * ctdp_offload_segment(), unchanged. */
    CTDP_OFFLOAD_TX_WHOLE,      /* A GSO frame, to be sent whole: its flag
                                 * cleared. */
};

/* Prepares 'pkt', whose checksums are whole (ctdp_offload_rx()), to be sent
 * on a port that segments GSO frames for MTU 'tso_mtu' (a netdev with TSO)
 * or, with 'tso_mtu' 0, cannot.  A GSO frame for a port that can: if its
 * sender's segment size is known and smaller than the netdev's, it is
 * left for ctdp_offload_segment(); else its TCP checksum field gets the
 * pseudo-header's sum over its current addresses and length, its layer
 * offsets are set and its flags say "TCP checksum partial" and its IP
 * version, as netdev-linux wants them to write the virtio-net header.  For
 * a port that cannot (or a GSO frame that is no longer TCP in IP): the GSO
 * flag is cleared and the frame goes whole.  A partial checksum still
 * flagged on any other packet is completed as ctdp_offload_rx() does.  So no packet leaves with an
 * offload flag that its port lacks, which netdev_send() would drop. */
enum ctdp_offload_tx ctdp_offload_tx(struct dp_packet *pkt, int tso_mtu);

/* Cuts GSO frame 'pkt', for which ctdp_offload_tx() said
 * CTDP_OFFLOAD_TX_SEGMENT, into its sender's segments, as the kernel's TCP
 * segmentation does, and passes each, a new packet with whole checksums
 * and no offload flag, to 'emit' with 'aux', in order.  'pkt' is left as
 * it was, for the caller to delete. */
void ctdp_offload_segment(const struct dp_packet *pkt,
                          void (*emit)(void *aux, struct dp_packet *seg),
                          void *aux);

#endif /* ctdp-offload.h */
