#include <config.h>
#include "ctdp-pkt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "csum.h"
#include "ctdp-unit.h"
#include "dp-packet.h"
#include "hash.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "util.h"

/* ---- Building packets -------------------------------------------------- */

/* Returns the addresses 'src' and 'dst', IPv6 if 'src' has a colon. */
struct tpkt_ip
tpkt_ip(const char *src, const char *dst)
{
    struct tpkt_ip ip;

    memset(&ip, 0, sizeof ip);
    ip.v6 = strchr(src, ':') != NULL;
    ovs_assert(inet_pton(ip.v6 ? AF_INET6 : AF_INET, src, &ip.src) == 1);
    ovs_assert(inet_pton(ip.v6 ? AF_INET6 : AF_INET, dst, &ip.dst) == 1);
    return ip;
}

/* Returns the IPv4 addresses 'src' and 'dst', given in host byte order. */
struct tpkt_ip
tpkt_ip4(uint32_t src, uint32_t dst)
{
    struct tpkt_ip ip;

    memset(&ip, 0, sizeof ip);
    ip.src.ip4 = htonl(src);
    ip.dst.ip4 = htonl(dst);
    return ip;
}

/* Returns 'ip' with source and destination exchanged. */
struct tpkt_ip
tpkt_ip_swap(const struct tpkt_ip *ip)
{
    struct tpkt_ip swapped = *ip;

    swapped.src = ip->dst;
    swapped.dst = ip->src;
    return swapped;
}

static size_t
l3_size(const struct tpkt_ip *ip)
{
    return ip->v6 ? IPV6_HEADER_LEN + 8 * ip->n_ext : IP_HEADER_LEN;
}

static void
put_ip4(uint8_t *p, const struct tpkt_ip *ip, uint8_t proto, size_t l4_size)
{
    uint16_t tot_len = IP_HEADER_LEN + l4_size;
    ovs_be16 sum;

    p[0] = 0x45;
    p[2] = tot_len >> 8;
    p[3] = tot_len;
    p[8] = 64;
    p[9] = proto;
    memcpy(p + 12, &ip->src.ip4, 4);
    memcpy(p + 16, &ip->dst.ip4, 4);
    sum = csum(p, IP_HEADER_LEN);
    memcpy(p + 10, &sum, 2);
}

/* Writes the IPv6 header and the extension headers; each extension header
 * is 8 bytes: next header, length 0, and a PadN option (or, for routing,
 * type 0 with no segments left). */
static void
put_ip6(uint8_t *p, const struct tpkt_ip *ip, uint8_t proto, size_t l4_size)
{
    uint16_t plen = 8 * ip->n_ext + l4_size;

    p[0] = 0x60;
    p[4] = plen >> 8;
    p[5] = plen;
    p[6] = ip->n_ext ? ip->ext[0] : proto;
    p[7] = 64;
    memcpy(p + 8, &ip->src.ip6, 16);
    memcpy(p + 24, &ip->dst.ip6, 16);
    for (size_t i = 0; i < ip->n_ext; i++) {
        uint8_t *ext = p + IPV6_HEADER_LEN + 8 * i;

        ext[0] = i + 1 < ip->n_ext ? ip->ext[i + 1] : proto;
        if (ip->ext[i] != IPPROTO_ROUTING) {
            ext[2] = 1;
            ext[3] = 4;
        }
    }
}

/* Returns the offset of the checksum in 'proto''s header, or 0 if it has
 * none that the builders fill in. */
static size_t
csum_ofs(uint8_t proto)
{
    switch (proto) {
    case IPPROTO_UDP:
        return 6;
    case IPPROTO_TCP:
        return 16;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        return 2;
    default:
        return 0;
    }
}

/* CRC32c (RFC 9260 appendix B), a bit at a time: written apart from the
 * tracker's table-driven ctdp_sctp_csum(), so that the tests check that
 * one against another reckoning. */
uint32_t
tpkt_crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffff;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1));
        }
    }
    return ~crc;
}

/* The CRC32c of the SCTP packet 'l4' (checksum field taken as zero), as
 * its checksum field holds it: least significant byte first. */
static void
put_sctp_csum(uint8_t *l4, size_t l4_size)
{
    uint32_t crc;

    memset(l4 + 8, 0, 4);
    crc = tpkt_crc32c(l4, l4_size);
    for (int i = 0; i < 4; i++) {
        l4[8 + i] = crc >> (8 * i);
    }
}

static void
put_l4_csum(const struct tpkt_ip *ip, uint8_t proto, uint8_t *l4,
            size_t l4_size)
{
    size_t ofs = csum_ofs(proto);
    uint32_t partial = 0;
    ovs_be16 sum;

    if (proto == IPPROTO_SCTP && l4_size >= 12) {
        put_sctp_csum(l4, l4_size);
        return;
    }
    if (!ofs || l4_size < ofs + 2) {
        return;
    }
    if (proto != IPPROTO_ICMP) {
        ovs_be32 len = htonl(l4_size), nxt = htonl(proto);

        partial = csum_continue(partial, &ip->src, ip->v6 ? 16 : 4);
        partial = csum_continue(partial, &ip->dst, ip->v6 ? 16 : 4);
        partial = csum_continue(partial, &len, 4);
        partial = csum_continue(partial, &nxt, 4);
    }
    sum = csum_finish(csum_continue(partial, l4, l4_size));
    if (proto == IPPROTO_UDP && !sum) {
        sum = htons(0xffff);
    }
    memcpy(l4 + ofs, &sum, 2);
}

/* Returns a new frame from 'ip' carrying 'l4_size' bytes of 'l4' as IP
 * protocol 'proto', with the L4 checksum (if any) filled in. */
struct dp_packet *
tpkt_l4(const struct tpkt_ip *ip, uint8_t proto, const void *l4,
        size_t l4_size)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
    size_t size = TPKT_L3_OFS + l3_size(ip) + l4_size;
    struct dp_packet *pkt = dp_packet_new(size);
    uint8_t *p = dp_packet_put_zeros(pkt, size);
    uint8_t *l3 = p + TPKT_L3_OFS;
    uint8_t *l4p = l3 + l3_size(ip);

    memcpy(p, macs, sizeof macs);
    p[12] = ip->v6 ? 0x86 : 0x08;
    p[13] = ip->v6 ? 0xdd : 0x00;
    if (ip->v6) {
        put_ip6(l3, ip, proto, l4_size);
    } else {
        put_ip4(l3, ip, proto, l4_size);
    }
    memcpy(l4p, l4, l4_size);
    memset(l4p + csum_ofs(proto), 0, csum_ofs(proto) ? 2 : 0);
    put_l4_csum(ip, proto, l4p, l4_size);
    return pkt;
}

static void
put_be16(uint8_t *p, uint16_t x)
{
    p[0] = x >> 8;
    p[1] = x;
}

/* Returns a UDP packet with 'payload' bytes of data. */
struct dp_packet *
tpkt_udp(const struct tpkt_ip *ip, uint16_t sport, uint16_t dport,
         size_t payload)
{
    uint8_t l4[UDP_HEADER_LEN + 1500];

    ovs_assert(payload <= 1500);
    memset(l4, 0xa5, sizeof l4);
    put_be16(l4, sport);
    put_be16(l4 + 2, dport);
    put_be16(l4 + 4, UDP_HEADER_LEN + payload);
    return tpkt_l4(ip, IPPROTO_UDP, l4, UDP_HEADER_LEN + payload);
}

/* Returns a TCP segment without data, with TCP flags 'flags' (TCP_SYN,
 * TCP_ACK, ...), sequence number 1000 and, with TCP_ACK, ack number 2000. */
struct dp_packet *
tpkt_tcp(const struct tpkt_ip *ip, uint16_t sport, uint16_t dport,
         uint8_t flags)
{
    uint8_t l4[TCP_HEADER_LEN];

    memset(l4, 0, sizeof l4);
    put_be16(l4, sport);
    put_be16(l4 + 2, dport);
    put_be16(l4 + 6, 1000);
    put_be16(l4 + 10, flags & TCP_ACK ? 2000 : 0);
    l4[12] = 5 << 4;
    l4[13] = flags;
    put_be16(l4 + 14, 65535);
    return tpkt_l4(ip, IPPROTO_TCP, l4, sizeof l4);
}

static void
put_be32(uint8_t *p, uint32_t x)
{
    put_be16(p, x >> 16);
    put_be16(p + 2, x);
}

struct dp_packet *
tpkt_tcp_seg(const struct tpkt_ip *ip, uint16_t sport, uint16_t dport,
             uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
             const uint8_t *opts, size_t opts_len, size_t payload)
{
    size_t hlen = TCP_HEADER_LEN + ROUND_UP(opts_len, 4);
    uint8_t l4[TCP_HEADER_LEN + 40 + 1460];

    ovs_assert(opts_len <= 40 && payload <= 1460);
    memset(l4, 0, hlen);
    memset(l4 + hlen, 0xc3, payload);
    put_be16(l4, sport);
    put_be16(l4 + 2, dport);
    put_be32(l4 + 4, seq);
    put_be32(l4 + 8, ack);
    l4[12] = (hlen / 4) << 4;
    l4[13] = flags;
    put_be16(l4 + 14, win);
    if (opts_len) {
        memcpy(l4 + TCP_HEADER_LEN, opts, opts_len);
    }
    return tpkt_l4(ip, IPPROTO_TCP, l4, hlen + payload);
}

/* Maximum segment size: kind 2, length 4. */
size_t
tpkt_tcp_opt_mss(uint8_t *p, uint16_t mss)
{
    p[0] = 2;
    p[1] = 4;
    put_be16(p + 2, mss);
    return 4;
}

/* NOP, then window scale: kind 3, length 3, the shift count. */
size_t
tpkt_tcp_opt_wscale(uint8_t *p, uint8_t shift)
{
    p[0] = 1;
    p[1] = 3;
    p[2] = 3;
    p[3] = shift;
    return 4;
}

/* Two NOPs, then SACK permitted: kind 4, length 2. */
size_t
tpkt_tcp_opt_sack_perm(uint8_t *p)
{
    p[0] = 1;
    p[1] = 1;
    p[2] = 4;
    p[3] = 2;
    return 4;
}

/* Two NOPs, then one SACK block [left, right): kind 5, length 10. */
size_t
tpkt_tcp_opt_sack(uint8_t *p, uint32_t left, uint32_t right)
{
    p[0] = 1;
    p[1] = 1;
    p[2] = 5;
    p[3] = 10;
    put_be32(p + 4, left);
    put_be32(p + 8, right);
    return 12;
}

/* Returns an echo request or reply: ICMP types 8/0 over IPv4, ICMPv6
 * types 128/129 over IPv6. */
struct dp_packet *
tpkt_echo(const struct tpkt_ip *ip, bool reply, uint16_t id, uint16_t seq)
{
    uint8_t l4[8 + 16];

    memset(l4, 0x5a, sizeof l4);
    if (ip->v6) {
        l4[0] = reply ? ICMP6_ECHO_REPLY : ICMP6_ECHO_REQUEST;
    } else {
        l4[0] = reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST;
    }
    l4[1] = 0;
    memset(l4 + 2, 0, 2);
    put_be16(l4 + 4, id);
    put_be16(l4 + 6, seq);
    return tpkt_l4(ip, ip->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4, sizeof l4);
}

/* Returns an ICMP (or, over IPv6, ICMPv6) error of 'type' and 'code' that
 * quotes 'inner' from its IP header on, at most 'max_quote' bytes of it
 * (0: all of it).  'inner' must be a frame these builders made. */
struct dp_packet *
tpkt_icmp_error(const struct tpkt_ip *ip, uint8_t type, uint8_t code,
                const struct dp_packet *inner, size_t max_quote)
{
    const uint8_t *quote = (const uint8_t *) dp_packet_data(inner)
                           + TPKT_L3_OFS;
    size_t n = dp_packet_size(inner) - TPKT_L3_OFS;
    uint8_t l4[8 + 1600];

    if (max_quote && n > max_quote) {
        n = max_quote;
    }
    ovs_assert(n <= 1600);
    memset(l4, 0, 8);
    l4[0] = type;
    l4[1] = code;
    memcpy(l4 + 8, quote, n);
    return tpkt_l4(ip, ip->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4, 8 + n);
}

/* Returns a packet of IP protocol 'proto' with 'payload' bytes after the IP
 * header (and IPv6 extension headers). */
struct dp_packet *
tpkt_proto(const struct tpkt_ip *ip, uint8_t proto, size_t payload)
{
    uint8_t l4[1500];

    ovs_assert(payload <= sizeof l4);
    memset(l4, 0x3c, sizeof l4);
    return tpkt_l4(ip, proto, l4, payload);
}

/* Returns an SCTP packet from 'sport' to 'dport' with verification tag
 * 'vtag' and the 'chunks_len' bytes of 'chunks' (at most 1460), its
 * CRC32c right. */
struct dp_packet *
tpkt_sctp(const struct tpkt_ip *ip, uint16_t sport, uint16_t dport,
          uint32_t vtag, const void *chunks, size_t chunks_len)
{
    uint8_t l4[12 + 1460];

    ovs_assert(chunks_len <= 1460);
    memset(l4, 0, 12);
    put_be16(l4, sport);
    put_be16(l4 + 2, dport);
    put_be32(l4 + 4, vtag);
    memcpy(l4 + 12, chunks, chunks_len);
    return tpkt_l4(ip, IPPROTO_SCTP, l4, 12 + chunks_len);
}

/* True if the SCTP packet in 'pkt' (as tpkt_l4_ofs() finds it, to the end
 * of the frame) has a right CRC32c. */
bool
tpkt_sctp_csum_ok(const struct dp_packet *pkt)
{
    size_t ofs = tpkt_l4_ofs(pkt), size = dp_packet_size(pkt) - ofs;
    uint8_t l4[12 + 1460];

    ovs_assert(size >= 12 && size <= sizeof l4);
    memcpy(l4, (const uint8_t *) dp_packet_data(pkt) + ofs, size);
    put_sctp_csum(l4, size);
    return !memcmp(l4 + 8, (const uint8_t *) dp_packet_data(pkt) + ofs + 8,
                   4);
}

/* Returns a GRE packet: version 0 ('version' 0: a 4-byte header and
 * 'proto') or PPTP's enhanced GRE (1: the key bit, 'proto', a payload
 * length of 4, 'call_id'), with 4 bytes of payload. */
struct dp_packet *
tpkt_gre(const struct tpkt_ip *ip, uint8_t version, uint16_t proto,
         uint16_t call_id)
{
    uint8_t l4[12];
    size_t n;

    memset(l4, 0x5a, sizeof l4);
    put_be16(l4 + 2, proto);
    if (version == 1) {
        l4[0] = 0x20;           /* Key present. */
        l4[1] = 1;
        put_be16(l4 + 4, 4);
        put_be16(l4 + 6, call_id);
        n = 12;
    } else {
        l4[0] = 0;
        l4[1] = version;
        n = 8;
    }
    return tpkt_l4(ip, IPPROTO_GRE, l4, n);
}

/* Returns an ARP request for 10.0.0.2 from 10.0.0.1. */
struct dp_packet *
tpkt_arp(void)
{
    static const uint8_t frame[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
        0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
    };
    struct dp_packet *pkt = dp_packet_new(sizeof frame);

    dp_packet_put(pkt, frame, sizeof frame);
    return pkt;
}

/* ---- Offsets and corruption -------------------------------------------- */

static uint8_t *
l3_of(struct dp_packet *pkt)
{
    return (uint8_t *) dp_packet_data(pkt) + TPKT_L3_OFS;
}

static bool
is_ip6(const struct dp_packet *pkt)
{
    return ((const uint8_t *) dp_packet_data(pkt))[12] == 0x86;
}

/* Returns the offset of the L4 header of 'pkt', a frame from a builder
 * whose headers were not corrupted yet. */
size_t
tpkt_l4_ofs(const struct dp_packet *pkt)
{
    const uint8_t *p = dp_packet_data(pkt);
    size_t ofs = TPKT_L3_OFS;
    uint8_t nxt;

    if (!is_ip6(pkt)) {
        return ofs + (p[ofs] & 0x0f) * 4;
    }
    nxt = p[ofs + 6];
    ofs += IPV6_HEADER_LEN;
    while (nxt == IPPROTO_HOPOPTS || nxt == IPPROTO_DSTOPTS
           || nxt == IPPROTO_ROUTING) {
        nxt = p[ofs];
        ofs += (p[ofs + 1] + 1) * 8;
    }
    return ofs;
}

/* Sets 'pkt''s L3 and L4 offsets, as a datapath that parsed it would. */
void
tpkt_set_offsets(struct dp_packet *pkt)
{
    pkt->l3_ofs = TPKT_L3_OFS;
    pkt->l4_ofs = tpkt_l4_ofs(pkt);
}

/* Cuts 'pkt' to its first 'size' bytes. */
void
tpkt_truncate(struct dp_packet *pkt, size_t size)
{
    ovs_assert(size <= dp_packet_size(pkt));
    dp_packet_set_size(pkt, size);
}

/* Appends 'n' zero bytes after the IP packet, as Ethernet padding. */
void
tpkt_pad(struct dp_packet *pkt, size_t n)
{
    dp_packet_put_zeros(pkt, n);
}

/* Returns a copy of 'pkt' with an 802.1Q tag of VLAN 'vid' after the MAC
 * addresses. */
struct dp_packet *
tpkt_vlan(const struct dp_packet *pkt, uint16_t vid)
{
    const uint8_t *p = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt);
    struct dp_packet *tagged = dp_packet_new(size + 4);
    uint8_t tag[4] = { 0x81, 0x00, vid >> 8 & 0x0f, vid };

    dp_packet_put(tagged, p, 12);
    dp_packet_put(tagged, tag, sizeof tag);
    dp_packet_put(tagged, p + 12, size - 12);
    return tagged;
}

static void
fix_ip4_csum(struct dp_packet *pkt)
{
    uint8_t *l3 = l3_of(pkt);
    uint8_t hdr[IP_HEADER_LEN];
    ovs_be16 sum;

    memcpy(hdr, l3, sizeof hdr);
    hdr[10] = hdr[11] = 0;
    sum = csum(hdr, sizeof hdr);
    put_be16(l3 + 10, ntohs(sum));
}

/* Sets the IPv4 total length, or the IPv6 payload length, to 'len'. */
void
tpkt_set_ip_len(struct dp_packet *pkt, uint16_t len)
{
    if (is_ip6(pkt)) {
        put_be16(l3_of(pkt) + 4, len);
    } else {
        put_be16(l3_of(pkt) + 2, len);
        fix_ip4_csum(pkt);
    }
}

/* Sets the IPv4 header length field to 'ihl' (in 32-bit words). */
void
tpkt_set_ihl(struct dp_packet *pkt, uint8_t ihl)
{
    uint8_t *l3 = l3_of(pkt);

    l3[0] = 0x40 | (ihl & 0x0f);
    fix_ip4_csum(pkt);
}

/* Makes IPv4 'pkt' a fragment at 'offset' (in 8-byte units), with the
 * more-fragments flag if 'more'. */
void
tpkt_set_ip4_frag(struct dp_packet *pkt, bool more, uint16_t offset)
{
    put_be16(l3_of(pkt) + 6, (more ? 0x2000 : 0) | (offset & 0x1fff));
    fix_ip4_csum(pkt);
}

/* Sets the UDP length field to 'len'. */
void
tpkt_set_udp_len(struct dp_packet *pkt, uint16_t len)
{
    put_be16((uint8_t *) dp_packet_data(pkt) + tpkt_l4_ofs(pkt) + 4, len);
}

/* Sets the TCP data offset to 'doff' (in 32-bit words). */
void
tpkt_set_tcp_doff(struct dp_packet *pkt, uint8_t doff)
{
    uint8_t *tcp = (uint8_t *) dp_packet_data(pkt) + tpkt_l4_ofs(pkt);

    tcp[12] = (doff & 0x0f) << 4;
}

/* ---- Driving ct() ------------------------------------------------------ */

/* Returns ct(zone='zone') with 'commit' and nothing else. */
struct ctdp_ct_action
tpkt_action(uint16_t zone, bool commit)
{
    struct ctdp_ct_action action;

    memset(&action, 0, sizeof action);
    action.zone = zone;
    action.commit = commit;
    return action;
}

/* Runs 'action' on a batch of 'pkt' alone and returns its ct_state, or
 * TPKT_DROPPED if the tracker took it out of the batch (the tracker then
 * owns it, as every OVS action that drops a packet does).  Otherwise the
 * caller keeps 'pkt' and must pass it to tpkt_free(). */
int
tpkt_ct(struct ctdp_ct *ct, struct dp_packet *pkt,
        const struct ctdp_ct_action *action, long long now)
{
    struct dp_packet_batch batch;

    dp_packet_batch_init(&batch);
    dp_packet_batch_add(&batch, pkt);
    ctdp_ct_execute(ct, &batch, action, now);
    if (dp_packet_batch_size(&batch) != 1 || batch.packets[0] != pkt) {
        return TPKT_DROPPED;
    }
    return pkt->md.ct_state;
}

/* Runs 'action' on one batch of the 'n' packets 'pkts' and returns how
 * many the tracker kept in it (as tpkt_ct(), it owns the others).  The
 * caller checks and frees the kept ones (tpkt_free()). */
size_t
tpkt_ct_batch(struct ctdp_ct *ct, struct dp_packet **pkts, size_t n,
              const struct ctdp_ct_action *action, long long now)
{
    struct dp_packet_batch batch;

    dp_packet_batch_init(&batch);
    for (size_t i = 0; i < n; i++) {
        dp_packet_batch_add(&batch, pkts[i]);
    }
    ctdp_ct_execute(ct, &batch, action, now);
    return dp_packet_batch_size(&batch);
}

/* Runs one batch of 'n' UDP packets, from sources 'net' + 'first'... (one
 * packet each, source ports 1000 to 1006) to 12.0.0.1:53, through ct()
 * in 'zone', with commit if 'commit'; frees them and returns how many the
 * tracker dropped. */
size_t
tpkt_udp_batch(struct ctdp_ct *ct, uint32_t net, uint32_t first, size_t n,
               uint16_t zone, bool commit, long long now)
{
    struct ctdp_ct_action a = tpkt_action(zone, commit);
    struct dp_packet_batch batch;
    struct dp_packet *pkt;
    size_t dropped;

    dp_packet_batch_init(&batch);
    for (size_t i = 0; i < n; i++) {
        struct tpkt_ip ip = tpkt_ip4(net + first + i, 0x0c000001);

        dp_packet_batch_add(&batch, tpkt_udp(&ip, 1000 + (first + i) % 7,
                                             53, 0));
    }
    ctdp_ct_execute(ct, &batch, &a, now);
    dropped = n - dp_packet_batch_size(&batch);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, &batch) {
        tpkt_free(ct, pkt);
    }
    return dropped;
}

/* Runs 'action' on 'pkt', which then leaves the pipeline and is freed.
 * Returns its ct_state, as tpkt_ct(). */
int
tpkt_ct1_action(struct ctdp_ct *ct, struct dp_packet *pkt,
                const struct ctdp_ct_action *action, long long now)
{
    int state = tpkt_ct(ct, pkt, action, now);

    if (state != TPKT_DROPPED) {
        tpkt_free(ct, pkt);
    }
    return state;
}

/* Runs ct(zone='zone', commit if 'commit') on 'pkt', which then leaves the
 * pipeline and is freed.  Returns its ct_state, as tpkt_ct(). */
int
tpkt_ct1(struct ctdp_ct *ct, struct dp_packet *pkt, uint16_t zone,
         bool commit, long long now)
{
    struct ctdp_ct_action action = tpkt_action(zone, commit);

    return tpkt_ct1_action(ct, pkt, &action, now);
}

/* Runs ct(zone='zone', commit if 'commit') on a new UDP packet without
 * payload, which then leaves the pipeline.  Returns its ct_state. */
int
tpkt_udp_ct(struct ctdp_ct *ct, const struct tpkt_ip *ip, uint16_t sport,
            uint16_t dport, uint16_t zone, bool commit, long long now)
{
    return tpkt_ct1(ct, tpkt_udp(ip, sport, dport, 0), zone, commit, now);
}

/* Waits for RCU readers, then destroys 'ct'. */
void
tpkt_ct_destroy(struct ctdp_ct *ct)
{
    ovsrcu_synchronize();
    ctdp_ct_destroy(ct);
}

/* Tells the tracker that 'pkt' left the pipeline, and frees it. */
void
tpkt_free(struct ctdp_ct *ct, struct dp_packet *pkt)
{
    ctdp_ct_packet_done(ct, pkt);
    dp_packet_delete(pkt);
}

/* Fills 't' with the tuple of a packet from 'ip' of 'proto' with L4
 * identifiers 'sport' and 'dport' (for ICMP: the identifier and the
 * type << 8 | code), in 'zone'. */
void
tpkt_tuple(struct ctdp_tuple *t, const struct tpkt_ip *ip, uint8_t proto,
           uint16_t sport, uint16_t dport, uint16_t zone)
{
    memset(t, 0, sizeof *t);
    t->src = ip->src;
    t->dst = ip->dst;
    t->sport = htons(sport);
    t->dport = htons(dport);
    if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
        t->icmp.type = dport >> 8;
        t->icmp.code = dport;
    }
    t->zone = zone;
    t->nw_proto = proto;
    t->l3 = ip->v6 ? CTDP_L3_IPV6 : CTDP_L3_IPV4;
}

/* Dumps 'zone' (< 0: all) at 'now' into 'entries', at most 'max' of them,
 * and returns how many conns the dump returned (which may exceed 'max'). */
size_t
tpkt_dump(struct ctdp_ct *ct, int zone, long long now,
          struct ctdp_ct_entry *entries, size_t max)
{
    struct ctdp_ct_dump *dump = ctdp_ct_dump_start(ct, zone, now);
    struct ctdp_ct_entry entry;
    size_t n = 0;

    while (ctdp_ct_dump_next(dump, &entry)) {
        if (n < max) {
            entries[n] = entry;
        }
        n++;
    }
    ctdp_ct_dump_done(dump);
    return n;
}

/* Looks in a dump at 'now' for the conn whose original tuple is 'orig'. */
bool
tpkt_find(struct ctdp_ct *ct, const struct ctdp_tuple *orig, long long now,
          struct ctdp_ct_entry *entry)
{
    struct ctdp_ct_dump *dump = ctdp_ct_dump_start(ct, orig->zone, now);
    bool found = false;

    while (!found && ctdp_ct_dump_next(dump, entry)) {
        found = ctdp_tuple_equal(&entry->orig, orig);
    }
    ctdp_ct_dump_done(dump);
    return found;
}

/* Formats ct_state 'state' as OVS does ("trk|new|rpl") into 'buf'. */
const char *
tpkt_state_name(int state, char *buf, size_t size)
{
    static const char *names[] = {
        "new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat",
    };
    size_t n = 0;

    buf[0] = '\0';
    if (state == TPKT_DROPPED) {
        snprintf(buf, size, "dropped");
        return buf;
    }
    for (int i = 0; i < 8; i++) {
        if (state & (1 << i) && n < size) {
            n += snprintf(buf + n, size - n, "%s%s", n ? "|" : "", names[i]);
        }
    }
    return buf;
}

bool
tpkt_check_state(int got, int want, const char *expr, const char *file,
                 int line)
{
    char got_s[64], want_s[64], msg[256];

    snprintf(msg, sizeof msg, "%s == %s (got %s)", expr,
             tpkt_state_name(want, want_s, sizeof want_s),
             tpkt_state_name(got, got_s, sizeof got_s));
    return ctdp_unit_check(got == want, msg, file, line);
}

/* ---- Fragments --------------------------------------------------------- */

/* Returns a UDP datagram with 'payload' bytes of data (up to 65507), its
 * bytes a pattern of their offsets, so that misplaced data shows. */
struct dp_packet *
tpkt_udp_big(const struct tpkt_ip *ip, uint16_t sport, uint16_t dport,
             size_t payload)
{
    size_t size = UDP_HEADER_LEN + payload;
    uint8_t *l4 = xmalloc(size);
    struct dp_packet *pkt;

    ovs_assert(payload <= 65507);
    for (size_t i = 0; i < size; i++) {
        l4[i] = i * 7 + (i >> 8);
    }
    put_be16(l4, sport);
    put_be16(l4 + 2, dport);
    put_be16(l4 + 4, size <= 0xffff ? size : 0);
    pkt = tpkt_l4(ip, IPPROTO_UDP, l4, size);
    free(l4);
    return pkt;
}

/* The layout of a builder's IP packet 'pkt': where its fragmentable part
 * starts (after 'n_unfrag' IPv6 extension headers) and which byte names
 * the first header of that part. */
static void
frag_layout(const struct dp_packet *pkt, size_t n_unfrag, size_t *unfrag_end,
            size_t *nexthdr_ofs, size_t *ip_end)
{
    const uint8_t *p = dp_packet_data(pkt);
    const uint8_t *l3 = p + TPKT_L3_OFS;

    if (!is_ip6(pkt)) {
        *unfrag_end = TPKT_L3_OFS + (l3[0] & 0x0f) * 4;
        *nexthdr_ofs = 0;
        *ip_end = TPKT_L3_OFS + (l3[2] << 8 | l3[3]);
        return;
    }
    *unfrag_end = TPKT_L3_OFS + IPV6_HEADER_LEN + 8 * n_unfrag;
    *nexthdr_ofs = n_unfrag ? *unfrag_end - 8 : TPKT_L3_OFS + 6;
    *ip_end = TPKT_L3_OFS + IPV6_HEADER_LEN + (l3[4] << 8 | l3[5]);
}

/* Returns the fragment of 'whole' (a builder's packet, unfragmented)
 * that carries its fragmentable part's bytes [start, start + len), with
 * the more-fragments flag if 'more' and identification 'id'.  IPv4 keeps
 * the header; IPv6 puts the fragment header after the first 'n_unfrag'
 * extension headers, and the others go in the fragmentable part.  'start'
 * and 'len' need not be multiples of 8 (to build bad fragments). */
struct dp_packet *
tpkt_frag(const struct dp_packet *whole, size_t n_unfrag, uint32_t start,
          uint32_t len, bool more, uint32_t id)
{
    const uint8_t *p = dp_packet_data(whole);
    size_t unfrag_end, nexthdr_ofs, ip_end;
    struct dp_packet *frag;
    uint8_t *f;

    frag_layout(whole, n_unfrag, &unfrag_end, &nexthdr_ofs, &ip_end);
    ovs_assert(unfrag_end + start + len <= ip_end
               || unfrag_end + start + len <= dp_packet_size(whole));
    frag = dp_packet_new(unfrag_end + 8 + len);
    dp_packet_put(frag, p, unfrag_end);
    if (is_ip6(whole)) {
        uint8_t fh[8] = {
            p[nexthdr_ofs], 0, (start >> 8) & 0xff,
            (start & 0xf8) | (more ? 1 : 0),
            id >> 24, id >> 16, id >> 8, id,
        };

        dp_packet_put(frag, fh, sizeof fh);
    }
    dp_packet_put(frag, p + unfrag_end + start, len);
    frag->md = whole->md;
    f = dp_packet_data(frag);
    if (is_ip6(whole)) {
        put_be16(f + TPKT_L3_OFS + 4,
                 unfrag_end - TPKT_L3_OFS - IPV6_HEADER_LEN + 8 + len);
        f[nexthdr_ofs] = IPPROTO_FRAGMENT;
    } else {
        put_be16(f + TPKT_L3_OFS + 2, unfrag_end - TPKT_L3_OFS + len);
        put_be16(f + TPKT_L3_OFS + 4, id);
        tpkt_set_ip4_frag(frag, more, start / 8);
    }
    return frag;
}

/* Splits 'whole' into fragments of 'size' data bytes (a multiple of 8;
 * the last one takes the rest) with identification 'id', as tpkt_frag().
 * Stores up to 'max' of them in 'out' and returns how many there are. */
size_t
tpkt_fragment(const struct dp_packet *whole, size_t n_unfrag, uint32_t size,
              uint32_t id, struct dp_packet **out, size_t max)
{
    size_t unfrag_end, nexthdr_ofs, ip_end, n = 0;
    uint32_t total;

    frag_layout(whole, n_unfrag, &unfrag_end, &nexthdr_ofs, &ip_end);
    total = ip_end - unfrag_end;
    for (uint32_t start = 0; start < total; start += size, n++) {
        uint32_t len = MIN(size, total - start);

        if (n < max) {
            out[n] = tpkt_frag(whole, n_unfrag, start, len,
                               start + len < total, id);
        }
    }
    return n;
}

/* Returns 'whole''s IP packet bytes: what reassembly must rebuild. */
size_t
tpkt_ip_bytes(const struct dp_packet *pkt, const uint8_t **bytes)
{
    size_t unfrag_end, nexthdr_ofs, ip_end;

    frag_layout(pkt, 0, &unfrag_end, &nexthdr_ofs, &ip_end);
    *bytes = (const uint8_t *) dp_packet_data(pkt) + TPKT_L3_OFS;
    return ip_end - TPKT_L3_OFS;
}

unsigned long tpkt_n_hashes;

uint32_t
tpkt_counted_hash(const struct ctdp_tuple *t)
{
    tpkt_n_hashes++;
    return hash_bytes(t, sizeof *t, 0);
}
