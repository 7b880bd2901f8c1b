#include <config.h>
#include "ctdp-ring.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ctdp-offload.h"
#include "dp-packet.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "packets.h"
#include "socket-util.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_ring);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

/* The ring: RING_BLOCKS blocks of RING_BLOCK_SIZE bytes (4 MiB), each
 * holding any frame up to 64 KiB of GSO frame and its headers.  At 1 Mpps
 * of small frames a block holds about a millisecond. */
#define RING_BLOCK_SIZE (256 * 1024)
#define RING_BLOCKS 16
/* Only sets how many frames the kernel thinks there are: with TPACKET_V3
 * frames are as long as they are. */
#define RING_FRAME_SIZE 2048
/* A block that is not full goes to ctdp after this many ms. */
#define RING_BLOCK_TOV 1

/* Room in front of a received frame: its virtio-net header (taken off, but
 * kept there for ctdp_offload_rx()) and a VLAN tag put back, then 2 bytes
 * so that the IP header is 4-byte aligned, as netdev-linux's
 * DP_NETDEV_HEADROOM does. */
#define RX_HEADROOM (2 + VLAN_HEADER_LEN)

struct ctdp_ring {
    char *name;                 /* The interface's. */
    int fd;
    uint8_t *map;               /* RING_BLOCKS * RING_BLOCK_SIZE bytes. */

    /* The receiving thread's. */
    unsigned int block;         /* The next block to read, or being read. */
    uint32_t n_left;            /* Frames of 'block' not read yet, 0 if it
                                 * is not open. */
    const struct tpacket3_hdr *frame;   /* The next frame of 'block'. */

    atomic_uint64_t n_dropped;          /* By ctdp (see ctdp-ring.h). */
    atomic_uint64_t n_kernel_dropped;   /* By the kernel, read so far. */
};

static struct tpacket_block_desc *
block_desc(const struct ctdp_ring *r, unsigned int i)
{
    return ALIGNED_CAST(struct tpacket_block_desc *,
                        r->map + (size_t) i * RING_BLOCK_SIZE);
}

static char *
setup_error(const char *devname, const char *what, int error)
{
    return xasprintf("port %s: cannot set up its receive ring (%s): %s",
                     devname, what, ovs_strerror(error));
}

static int
set_int(int fd, int option, int value)
{
    return setsockopt(fd, SOL_PACKET, option, &value, sizeof value) ? errno
                                                                    : 0;
}

/* Sets the socket options of 'fd' and maps its ring into 'r'. */
static char *
setup(struct ctdp_ring *r, const char *devname, int ifindex)
{
    struct tpacket_req3 req = {
        .tp_block_size = RING_BLOCK_SIZE,
        .tp_block_nr = RING_BLOCKS,
        .tp_frame_size = RING_FRAME_SIZE,
        .tp_frame_nr = RING_BLOCK_SIZE / RING_FRAME_SIZE * RING_BLOCKS,
        .tp_retire_blk_tov = RING_BLOCK_TOV,
    };
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = ifindex,
    };
    int error;

    /* The options before the ring, the ring before bind(): frames come in
     * from bind() on. */
    if ((error = set_int(r->fd, PACKET_VERSION, TPACKET_V3))) {
        return setup_error(devname, "TPACKET_V3", error);
    }
    if ((error = set_int(r->fd, PACKET_VNET_HDR, 1))) {
        return setup_error(devname, "PACKET_VNET_HDR", error);
    }
    if ((error = set_int(r->fd, PACKET_IGNORE_OUTGOING, 1))) {
        return setup_error(devname, "PACKET_IGNORE_OUTGOING", error);
    }
    if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
        return setup_error(devname, "PACKET_RX_RING", errno);
    }
    r->map = mmap(NULL, (size_t) RING_BLOCKS * RING_BLOCK_SIZE,
                  PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        return setup_error(devname, "mmap", errno);
    }
    if ((error = set_nonblocking(r->fd))) {
        return setup_error(devname, "O_NONBLOCK", error);
    }
    if (bind(r->fd, (struct sockaddr *) &sll, sizeof sll)) {
        return setup_error(devname, "bind", errno);
    }
    return NULL;
}

char *
ctdp_ring_open(const char *devname, struct ctdp_ring **rp)
{
    struct ctdp_ring *r = xzalloc(sizeof *r);
    unsigned int ifindex = if_nametoindex(devname);
    char *error;

    r->name = xstrdup(devname);
    atomic_init(&r->n_dropped, 0);
    atomic_init(&r->n_kernel_dropped, 0);
    r->fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (r->fd < 0) {
        error = setup_error(devname, "socket", errno);
    } else if (!ifindex) {
        error = setup_error(devname, "interface index", errno);
    } else {
        error = setup(r, devname, ifindex);
    }
    if (error) {
        ctdp_ring_close(r);
        r = NULL;
    }
    *rp = r;
    return error;
}

void
ctdp_ring_close(struct ctdp_ring *r)
{
    if (r) {
        if (r->map) {
            munmap(r->map, (size_t) RING_BLOCKS * RING_BLOCK_SIZE);
        }
        if (r->fd >= 0) {
            close(r->fd);
        }
        free(r->name);
        free(r);
    }
}

static void
count_drop(struct ctdp_ring *r)
{
    uint64_t old;

    atomic_add_relaxed(&r->n_dropped, 1, &old);
}

/* Opens the block at 'r->block' if the kernel has handed it over. */
static bool
block_open(struct ctdp_ring *r)
{
    struct tpacket_block_desc *bd = block_desc(r, r->block);

    /* Pairs with the kernel's barrier before it writes TP_STATUS_USER
     * (prb_close_block()): the frames are there once the status says so. */
    if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE)
          & TP_STATUS_USER)) {
        return false;
    }
    r->n_left = bd->hdr.bh1.num_pkts;
    r->frame = ALIGNED_CAST(const struct tpacket3_hdr *,
                            (uint8_t *) bd + bd->hdr.bh1.offset_to_first_pkt);
    return true;
}

/* Hands the open block back to the kernel and moves to the next. */
static void
block_close(struct ctdp_ring *r)
{
    struct tpacket_block_desc *bd = block_desc(r, r->block);

    /* Pairs with the kernel's read of the status when it opens the block
     * (prb_dispatch_next_block()): everything read from the block before
     * it is the kernel's again. */
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                     __ATOMIC_RELEASE);
    r->block = (r->block + 1) % RING_BLOCKS;
    r->n_left = 0;
}

/* The packet of ring frame 'h' (with its virtio-net header in front), or
 * NULL if it must be dropped. */
static struct dp_packet *
frame_packet(const struct tpacket3_hdr *h)
{
    const uint8_t *frame = (const uint8_t *) h + h->tp_mac;
    size_t vnet_size = sizeof(struct virtio_net_hdr);
    struct virtio_net_hdr vnet;
    struct dp_packet *pkt;

    if (h->tp_snaplen < h->tp_len || h->tp_snaplen < ETH_HEADER_LEN) {
        return NULL;
    }
    pkt = dp_packet_new_with_headroom(vnet_size + h->tp_snaplen,
                                      RX_HEADROOM);
    dp_packet_put(pkt, frame - vnet_size, vnet_size + h->tp_snaplen);
    memcpy(&vnet, dp_packet_pull(pkt, vnet_size), vnet_size);
    if (h->tp_status & TP_STATUS_VLAN_VALID) {
        eth_push_vlan(pkt, (h->tp_status & TP_STATUS_VLAN_TPID_VALID
                            ? htons(h->hv1.tp_vlan_tpid)
                            : htons(ETH_TYPE_VLAN_8021Q)),
                      htons(h->hv1.tp_vlan_tci));
    }
    ctdp_offload_rx_vnet(pkt, &vnet);
    return pkt;
}

int
ctdp_ring_recv(struct ctdp_ring *r, struct dp_packet_batch *batch)
{
    while (!dp_packet_batch_is_full(batch)
           && (r->n_left || block_open(r))) {
        const struct tpacket3_hdr *h = r->frame;
        struct dp_packet *pkt;

        /* An empty block is not handed over, but do not count on it. */
        if (r->n_left) {
            pkt = frame_packet(h);
            if (pkt) {
                dp_packet_batch_add(batch, pkt);
            } else {
                count_drop(r);
            }
            r->frame = ALIGNED_CAST(const struct tpacket3_hdr *,
                                    (const uint8_t *) h + h->tp_next_offset);
            r->n_left--;
        }
        if (!r->n_left) {
            block_close(r);
        }
    }
    return dp_packet_batch_is_empty(batch) ? EAGAIN : 0;
}

void
ctdp_ring_recv_wait(struct ctdp_ring *r)
{
    int error;
    socklen_t len = sizeof error;

    /* The kernel reports a link that went down (or away) as a socket error,
     * which makes poll() return at once until it is read, and nothing here
     * reads the socket: read it before each sleep, or the thread would
     * spin from then on. */
    if (!getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &error, &len) && error) {
        VLOG_INFO_RL(&rl, "%s: %s", r->name, ovs_strerror(error));
    }
    poll_fd_wait(r->fd, POLLIN);
}

uint64_t
ctdp_ring_rx_dropped(struct ctdp_ring *r)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    uint64_t own, kernel, old;

    /* Reading the kernel's counters resets them: add them up here. */
    if (!getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        atomic_add_relaxed(&r->n_kernel_dropped, st.tp_drops, &old);
    }
    atomic_read_relaxed(&r->n_dropped, &own);
    atomic_read_relaxed(&r->n_kernel_dropped, &kernel);
    return own + kernel;
}
