#ifndef CTDP_RING_H
#define CTDP_RING_H 1

/* A system port's receive ring: a Linux packet socket bound to one
 * interface, with a memory-mapped TPACKET_V3 receive ring.
 *
 * Open vSwitch 3.1's netdev-linux receives with recvmmsg(): per batch a
 * system call, and per packet the kernel queues the skb on the socket, then
 * copies it out and frees it in the receiving thread.  With a ring, the
 * kernel writes each frame into memory shared with ctdp as it delivers it
 * (in the softirq of the CPU that received it, often the sender's), and
 * the receive thread reads blocks of frames with no system call while
 * blocks are ready; poll() is needed only when the ring is empty.
 *
 * Layout: RING_BLOCKS blocks (ctdp-ring.c); the kernel fills one at a time
 * with frames of any size up to a block (so a 64 KiB GSO frame fits) and
 * hands it over when it is full or after 1 ms, the latency bound of a
 * lightly loaded port.  ctdp_ring_recv() copies each frame into a packet
 * of its own (so the block goes back at once, whatever the datapath does
 * with the packets), puts back the VLAN tag that the kernel took out, and
 * takes the virtio-net header in front of each frame as netdev-linux does
 * (ctdp_offload_rx_vnet()): partial checksums completed, GSO frames kept
 * whole with their segment size.
 *
 * The socket ignores the frames the host sends on the interface
 * (PACKET_IGNORE_OUTGOING), as netdev-linux's filter does.  Sending stays
 * netdev-linux's (sendmmsg): see docs/DATAPATH.md, "Ports".
 *
 * Counters: frames the kernel could not put in the ring (it was full) and
 * frames ctdp dropped (truncated to a block, shorter than an Ethernet
 * header) are both receive drops, ctdp_ring_rx_dropped().
 *
 * Thread-safety: one thread at a time may ctdp_ring_recv() and
 * ctdp_ring_recv_wait(); ctdp_ring_rx_dropped() may be called from any
 * thread. */

#include <stdint.h>
#include "openvswitch/compiler.h"

struct ctdp_ring;
struct dp_packet_batch;

/* Opens a receive ring on the interface named 'devname'.  Returns NULL, or
 * a malloc'd one-line message. */
char *ctdp_ring_open(const char *devname, struct ctdp_ring **)
    OVS_WARN_UNUSED_RESULT;
void ctdp_ring_close(struct ctdp_ring *);

/* Adds up to a batch of received packets to the empty 'batch'.  Returns 0,
 * or EAGAIN if there were none. */
int ctdp_ring_recv(struct ctdp_ring *, struct dp_packet_batch *);
/* Arranges for poll_block() to wake when the ring has packets. */
void ctdp_ring_recv_wait(struct ctdp_ring *);

/* Receive drops so far (see above). */
uint64_t ctdp_ring_rx_dropped(struct ctdp_ring *);

#endif /* ctdp-ring.h */
