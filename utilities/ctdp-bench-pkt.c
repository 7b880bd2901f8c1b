/* ctdp-bench's packets.
 *
 * Frames are built once as bytes (Ethernet, IPv4 10.1.1.1 <-> 10.1.1.2,
 * UDP or TCP), parsed once by flow_extract() so that their L3 and L4
 * offsets are set, as Open vSwitch's conntrack needs them, and then only
 * their ports (and, for TCP, flags, sequence numbers and checksum) are
 * rewritten in place to turn a slot into the packet of another conn.
 * Swapping the two addresses for a reply leaves the IPv4 checksum valid.
 *
 * The UDP frame is the one of Open vSwitch's `ovstest test-conntrack
 * benchmark`: 42 bytes, UDP checksum 0.  TCP frames carry a correct
 * checksum, since Open vSwitch's conntrack verifies it. */
#include <config.h>
#include "ctdp-bench.h"

#include <string.h>
#include "csum.h"
#include "flow.h"
#include "packets.h"
#include "util.h"

#define BENCH_CLIENT_ISN 1000
#define BENCH_SERVER_ISN 5000

static const uint8_t eth_header[ETH_HEADER_LEN] = {
    0x50, 0x54, 0x00, 0x00, 0x00, 0x0a,         /* Destination. */
    0x50, 0x54, 0x00, 0x00, 0x00, 0x09,         /* Source. */
    0x08, 0x00,                                 /* IPv4. */
};

/* Writes 'proto''s frame into 'frame' and returns its length. */
static size_t
build_frame(enum bench_proto proto, uint8_t *frame)
{
    size_t l4_len = proto == BENCH_TCP ? TCP_HEADER_LEN : UDP_HEADER_LEN;
    struct ip_header *ip = (struct ip_header *) (frame + ETH_HEADER_LEN);
    uint8_t *l4 = (uint8_t *) ip + IP_HEADER_LEN;

    memset(frame, 0, ETH_HEADER_LEN + IP_HEADER_LEN + l4_len);
    memcpy(frame, eth_header, sizeof eth_header);
    ip->ip_ihl_ver = IP_IHL_VER(5, IP_VERSION);
    ip->ip_tot_len = htons(IP_HEADER_LEN + l4_len);
    ip->ip_ttl = 64;
    ip->ip_proto = proto == BENCH_TCP ? IPPROTO_TCP : IPPROTO_UDP;
    put_16aligned_be32(&ip->ip_src, htonl(0x0a010101));
    put_16aligned_be32(&ip->ip_dst, htonl(0x0a010102));
    ip->ip_csum = csum(ip, IP_HEADER_LEN);

    if (proto == BENCH_TCP) {
        struct tcp_header *tcp = (struct tcp_header *) l4;

        tcp->tcp_src = htons(1);
        tcp->tcp_dst = htons(2);
        tcp->tcp_ctl = TCP_CTL(TCP_SYN, 5);
        tcp->tcp_winsz = htons(65535);
    } else {
        struct udp_header *udp = (struct udp_header *) l4;

        udp->udp_src = htons(1);
        udp->udp_dst = htons(2);
        udp->udp_len = htons(UDP_HEADER_LEN);
    }
    return ETH_HEADER_LEN + IP_HEADER_LEN + l4_len;
}

static struct dp_packet *
new_packet(enum bench_proto proto)
{
    uint8_t frame[ETH_HEADER_LEN + IP_HEADER_LEN + TCP_HEADER_LEN];
    size_t len = build_frame(proto, frame);
    struct dp_packet *pkt = dp_packet_new(len);
    struct flow flow;

    dp_packet_put(pkt, frame, len);
    flow_extract(pkt, &flow);           /* Sets the L3 and L4 offsets. */
    return pkt;
}

/* The IPv4 checksum of 'proto''s frame from 'src' to 'dst'. */
static ovs_be16
ip_csum(enum bench_proto proto, ovs_be32 src, ovs_be32 dst)
{
    uint8_t frame[ETH_HEADER_LEN + IP_HEADER_LEN + TCP_HEADER_LEN];
    struct ip_header *ip = (struct ip_header *) (frame + ETH_HEADER_LEN);

    build_frame(proto, frame);
    put_16aligned_be32(&ip->ip_src, src);
    put_16aligned_be32(&ip->ip_dst, dst);
    ip->ip_csum = 0;
    return csum(ip, IP_HEADER_LEN);
}

static const struct {
    uint16_t flags;
    uint32_t seq, ack;
} tcp_steps[] = {
    [BENCH_ORIG] = { TCP_SYN, BENCH_CLIENT_ISN, 0 },
    [BENCH_REPLY] = { TCP_SYN | TCP_ACK, BENCH_SERVER_ISN,
                      BENCH_CLIENT_ISN + 1 },
    [BENCH_ACK] = { TCP_ACK, BENCH_CLIENT_ISN + 1, BENCH_SERVER_ISN + 1 },
};

/* Writes the flags and sequence numbers of 'step' into 'tcp'. */
static void
put_tcp_step(struct tcp_header *tcp, enum bench_step step)
{
    tcp->tcp_ctl = TCP_CTL(tcp_steps[step].flags, 5);
    put_16aligned_be32(&tcp->tcp_seq, htonl(tcp_steps[step].seq));
    put_16aligned_be32(&tcp->tcp_ack, htonl(tcp_steps[step].ack));
}

/* Sets 'sums[step]' to the partial sum of the TCP checksum of each step's
 * segment but for its addresses and ports, which set_tcp() adds. */
static void
tcp_step_sums(uint32_t sums[BENCH_N_STEPS])
{
    uint8_t frame[ETH_HEADER_LEN + IP_HEADER_LEN + TCP_HEADER_LEN];
    struct ip_header *ip = (struct ip_header *) (frame + ETH_HEADER_LEN);
    struct tcp_header *tcp = (struct tcp_header *) (ip + 1);

    build_frame(BENCH_TCP, frame);
    put_16aligned_be32(&ip->ip_src, 0);
    put_16aligned_be32(&ip->ip_dst, 0);
    tcp->tcp_src = tcp->tcp_dst = 0;
    for (int step = 0; step < BENCH_N_STEPS; step++) {
        put_tcp_step(tcp, step);
        sums[step] = csum_continue(packet_csum_pseudoheader(ip), tcp,
                                   TCP_HEADER_LEN);
    }
}

/* Makes 'burst' hold BENCH_BATCH packets of 'proto', all of conn 0. */
void
bench_burst_init(struct bench_burst *burst, enum bench_proto proto)
{
    memset(burst, 0, sizeof *burst);
    burst->proto = proto;
    burst->n = BENCH_BATCH;
    for (size_t i = 0; i < BENCH_BATCH; i++) {
        burst->pkts[i] = new_packet(proto);
    }
    dp_packet_batch_init(&burst->batch);
    burst->csum_orig = ip_csum(proto, htonl(0x0a010101), htonl(0x0a010102));
    burst->csum_nat_reply = ip_csum(proto, htonl(0x0a010102),
                                    htonl(BENCH_NAT_ADDR));
    tcp_step_sums(burst->tcp_sums);
}

void
bench_burst_destroy(struct bench_burst *burst)
{
    for (size_t i = 0; i < BENCH_BATCH; i++) {
        dp_packet_delete(burst->pkts[i]);
    }
}

/* Loads the burst's packets into its batch, their metadata reset, as a
 * datapath hands a batch to ct(). */
void
bench_burst_load(struct bench_burst *burst)
{
    struct dp_packet_batch *batch = &burst->batch;

    dp_packet_batch_init(batch);
    for (size_t i = 0; i < burst->n; i++) {
        struct dp_packet *pkt = burst->pkts[i];

        pkt_metadata_init(&pkt->md, 0);
        batch->packets[i] = pkt;
    }
    batch->count = burst->n;
}

/* Re-creates the packet of 'slot', which a tracker freed.  The caller sets
 * its conn again before the next ct() call. */
void
bench_burst_replace(struct bench_burst *burst, size_t slot)
{
    burst->pkts[slot] = new_packet(burst->proto);
}

/* Makes 'tcp', from 'src' to 'dst' (its ports set), the segment of
 * 'step'.  Its checksum adds the addresses and ports to the step's sum of
 * the rest, which is all that changes from packet to packet. */
static void
set_tcp(const struct bench_burst *burst, ovs_be32 src, ovs_be32 dst,
        struct tcp_header *tcp, enum bench_step step)
{
    uint32_t sum = burst->tcp_sums[step];

    put_tcp_step(tcp, step);
    sum = csum_add32(sum, src);
    sum = csum_add32(sum, dst);
    sum = csum_add16(sum, tcp->tcp_src);
    sum = csum_add16(sum, tcp->tcp_dst);
    tcp->tcp_csum = csum_finish(sum);
}

/* Writes 'slot' as a packet from 'src':'src_port' to 'dst':'dst_port'
 * in TCP step 'step'. */
static void
set_packet(struct bench_burst *burst, size_t slot,
           ovs_be32 src_addr, uint16_t src_port,
           ovs_be32 dst_addr, uint16_t dst_port, enum bench_step step)
{
    struct dp_packet *pkt = burst->pkts[slot];
    struct ip_header *ip = dp_packet_l3(pkt);
    ovs_be16 src = htons(src_port);
    ovs_be16 dst = htons(dst_port);

    put_16aligned_be32(&ip->ip_src, src_addr);
    put_16aligned_be32(&ip->ip_dst, dst_addr);
    if (burst->proto == BENCH_TCP) {
        struct tcp_header *tcp = dp_packet_l4(pkt);

        tcp->tcp_src = src;
        tcp->tcp_dst = dst;
        set_tcp(burst, src_addr, dst_addr, tcp, step);
    } else {
        struct udp_header *udp = dp_packet_l4(pkt);

        udp->udp_src = src;
        udp->udp_dst = dst;
    }
}

/* Makes 'slot' a packet of the conn whose client port is 'sport' and
 * server port 'dport', in the direction and TCP step 'step'. */
void
bench_burst_set_ports(struct bench_burst *burst, size_t slot,
                      uint16_t sport, uint16_t dport, enum bench_step step)
{
    ovs_be32 client = htonl(0x0a010101), server = htonl(0x0a010102);

    if (step == BENCH_REPLY) {
        set_packet(burst, slot, server, dport, client, sport, step);
    } else {
        set_packet(burst, slot, client, sport, server, dport, step);
    }
}

/* Makes 'slot' a packet of conn number 'conn' (below 65535 * 65535): its
 * ports encode 'conn', and neither is ever 0, which Open vSwitch refuses. */
void
bench_burst_set_conn(struct bench_burst *burst, size_t slot, uint32_t conn,
                     enum bench_step step)
{
    bench_burst_set_ports(burst, slot, 1 + conn / 65535, 1 + conn % 65535,
                          step);
}

/* Makes 'slot' a packet of NATed conn number 'conn', as it arrives at the
 * tracker: from the client in steps BENCH_ORIG and BENCH_ACK; from the
 * server to BENCH_NAT_ADDR:'nat_port' in BENCH_REPLY.  The tracker's
 * translation of the slot's previous packet changed its IPv4 checksum:
 * it is written whole (a constant per direction). */
void
bench_burst_set_nat_conn(struct bench_burst *burst, size_t slot,
                         uint32_t conn, uint16_t nat_port,
                         enum bench_step step)
{
    struct ip_header *ip = dp_packet_l3(burst->pkts[slot]);
    uint16_t sport = 1 + conn / 65535, dport = 1 + conn % 65535;

    if (step == BENCH_REPLY) {
        ip->ip_csum = burst->csum_nat_reply;
        set_packet(burst, slot, htonl(0x0a010102), dport,
                   htonl(BENCH_NAT_ADDR), nat_port, step);
    } else {
        ip->ip_csum = burst->csum_orig;
        set_packet(burst, slot, htonl(0x0a010101), sport,
                   htonl(0x0a010102), dport, step);
    }
}

/* Is 'slot' the packet that bench_burst_set_nat_conn() made, translated as
 * it should have been?  From the client: from BENCH_NAT_ADDR, a port in
 * the range ('*nat_port' if nonzero; if zero, sets '*nat_port' to the port
 * the binding chose), to the server unchanged.  From the server: to the
 * client's own address and port.  A packet the tracker dropped (and the
 * benchmark re-created) fails. */
bool
bench_burst_check_nat_conn(const struct bench_burst *burst, size_t slot,
                           uint32_t conn, uint16_t *nat_port,
                           enum bench_step step)
{
    const struct dp_packet *pkt = burst->pkts[slot];
    const struct ip_header *ip = dp_packet_l3(pkt);
    const struct udp_header *l4 = dp_packet_l4(pkt);    /* Ports first. */
    uint32_t src = ntohl(get_16aligned_be32(&ip->ip_src));
    uint32_t dst = ntohl(get_16aligned_be32(&ip->ip_dst));
    uint16_t src_port = ntohs(l4->udp_src), dst_port = ntohs(l4->udp_dst);
    uint16_t sport = 1 + conn / 65535, dport = 1 + conn % 65535;

    if (step == BENCH_REPLY) {
        return (src == 0x0a010102 && src_port == dport
                && dst == 0x0a010101 && dst_port == sport);
    }
    if (src != BENCH_NAT_ADDR || dst != 0x0a010102 || dst_port != dport
        || src_port < BENCH_NAT_MIN_PORT
        || (*nat_port && src_port != *nat_port)) {
        return false;
    }
    *nat_port = src_port;
    return true;
}
