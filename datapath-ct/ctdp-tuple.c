#include <config.h>
#include "ctdp-tuple.h"
#include "ctdp-ct-private.h"

#include <string.h>
#include "ctdp-csum.h"
#include "ctdp-ip.h"
#include "dp-packet.h"
#include "packets.h"
#include <netinet/icmp6.h>

/* Reading headers: every reader takes the bytes available from its start
 * ('size') and refuses what does not fit, so that no truncated or lying
 * packet makes the tracker read past the frame. */

struct cursor {
    const uint8_t *p;
    size_t size;
    /* Verify the IPv4 header's and the L4 checksums, as IP input and
     * nf_conntrack (nf_conntrack_checksum, at PRE_ROUTING) do: only for
     * the outer headers, and not when the NIC vouched for them. */
    bool csum_l3, csum_l4;
};

static enum ctdp_parse extract_l3(struct cursor *, ovs_be16 dl_type,
                                  bool inner, struct ctdp_parsed *,
                                  struct ctdp_tuple *);

/* Writing the key: the packet path reads a key back as 64-bit words right
 * after it is extracted (to compare it with the packet before's, to hash
 * it and to invert it).  A load is served from the store buffer only if
 * one store holds all its bytes; a word written in pieces makes it wait
 * until the pieces reach the cache (about a seventh of the single-flow
 * path's time, before).  So every word of a key is written whole.
 *
 * KEY_FIELD() is field 'v', 'bits' wide, at byte 'byte' of a word: storing
 * the word lays it out as storing the field there would. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define KEY_FIELD(V, BYTE, BITS) ((uint64_t) (V) << (64 - (BITS) - 8 * (BYTE)))
#else
#define KEY_FIELD(V, BYTE, BITS) ((uint64_t) (V) << (8 * (BYTE)))
#endif

/* Sets an IPv4 address, and the twelve bytes after it to zero. */
static void
addr_set4(union ctdp_addr *a, ovs_be32 ip4)
{
    uint64_t *w = (uint64_t *) a;

    w[0] = KEY_FIELD(ip4, 0, 32);
    w[1] = 0;
}

/* Sets the key's last word: ports (or ICMP identifier, type and code),
 * zone, protocol and family. */
static void
key_set_tail(struct ctdp_tuple *key, ovs_be16 sport, ovs_be16 dport,
             uint16_t zone, uint8_t nw_proto, uint8_t l3)
{
    uint64_t *w = (uint64_t *) &key->sport;

    *w = (KEY_FIELD(sport, 0, 16) | KEY_FIELD(dport, 2, 16)
          | KEY_FIELD(zone, 4, 16) | KEY_FIELD(nw_proto, 6, 8)
          | KEY_FIELD(l3, 7, 8));
}

/* What a reader leaves in 'out' before it knows more, and after a failure
 * that came before the addresses: a key of 'zone' alone, no L4. */
static void
parsed_clear(struct ctdp_parsed *out, uint16_t zone)
{
    addr_set4(&out->key.src, 0);
    addr_set4(&out->key.dst, 0);
    key_set_tail(&out->key, 0, 0, zone, 0, 0);
    out->l4 = NULL;
    out->l4_size = 0;
    out->l3_size = 0;
}

bool
ctdp_tuple_has_ports(uint8_t nw_proto)
{
    return nw_proto == IPPROTO_TCP || nw_proto == IPPROTO_UDP
           || nw_proto == IPPROTO_UDPLITE || nw_proto == IPPROTO_SCTP
           || nw_proto == IPPROTO_DCCP;
}

/* Minimum L4 header bytes needed to read a protocol's identifiers (and, for
 * TCP and UDP, to check their length fields): what a first fragment must
 * hold too. */
size_t
ctdp_tuple_l4_min_size(uint8_t nw_proto)
{
    switch (nw_proto) {
    case IPPROTO_TCP:
        return TCP_HEADER_LEN;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        return 8;
    case IPPROTO_SCTP:
    case IPPROTO_DCCP:
        return 12;
    default:
        return 0;
    }
}

static bool
icmp4_is_error(uint8_t type)
{
    return type == ICMP4_DST_UNREACH || type == ICMP4_SOURCEQUENCH
           || type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED
           || type == ICMP4_PARAM_PROB;
}

/* ICMPv6 errors are the types below 128 (RFC 4443). */
static bool
icmp6_is_error(uint8_t type)
{
    return type < 128;
}

/* Checks the outer L4 header's own length rules: TCP's data offset, UDP's
 * length field.  'size' is the L3 payload length. */
static bool
l4_lengths_ok(uint8_t nw_proto, const uint8_t *l4, size_t size)
{
    if (nw_proto == IPPROTO_TCP) {
        size_t hlen = (l4[12] >> 4) * 4;

        return hlen >= TCP_HEADER_LEN && hlen <= size;
    }
    if (nw_proto == IPPROTO_UDP) {
        size_t ulen = (l4[4] << 8) | l4[5];

        return ulen >= UDP_HEADER_LEN && ulen <= size;
    }
    return true;
}

/* Checks the L4 checksum of TCP, UDP (where 0 means none, for both IP
 * versions, as the kernel's udp_error()), ICMP and ICMPv6, over 'size'
 * bytes of 'l4' and, but for ICMP, the pseudo-header; and SCTP's CRC32c.
 * Other protocols pass: the kernel checks none. */
static bool
l4_checksum_ok(const struct ctdp_tuple *key, const uint8_t *l4, size_t size)
{
    uint8_t proto = key->nw_proto;
    uint64_t sum = 0;

    if (proto == IPPROTO_SCTP) {
        ovs_be32 crc;

        memcpy(&crc, l4 + 8, sizeof crc);
        return crc == ctdp_sctp_csum(l4, size);
    }
    if (proto == IPPROTO_UDP) {
        if (!l4[6] && !l4[7]) {
            return true;
        }
        size = (l4[4] << 8) | l4[5];    /* Checked against 'size' before. */
    } else if (proto != IPPROTO_TCP
               && !(proto == IPPROTO_ICMP && key->l3 == CTDP_L3_IPV4)
               && !(proto == IPPROTO_ICMPV6 && key->l3 == CTDP_L3_IPV6)) {
        /* Nor ICMP in IPv6, ICMPv6 in IPv4: the kernel checks neither. */
        return true;
    }
    if (proto != IPPROTO_ICMP) {
        sum = ctdp_csum_pseudo(sum, &key->src, &key->dst,
                               key->l3 == CTDP_L3_IPV4 ? 4 : 16, size, proto);
    }
    return !ctdp_csum_fold(ctdp_csum_add(sum, l4, size));
}

/* The outer L4 header's checks, in the kernel's order: its own length
 * rules, then (with 'csum') its checksum.  'key' has the addresses and
 * protocol; 'size' is the L3 payload length. */
static enum ctdp_parse
check_outer_l4(const struct ctdp_tuple *key, const uint8_t *l4, size_t size,
               bool csum)
{
    if (!l4_lengths_ok(key->nw_proto, l4, size)) {
        return CTDP_PARSE_MALFORMED;
    }
    if (csum && !l4_checksum_ok(key, l4, size)) {
        return CTDP_PARSE_BAD_CHECKSUM;
    }
    return CTDP_PARSE_OK;
}

/* GRE's keys (the kernel's gre_pkt_to_tuple()): version 1 (PPTP) is
 * tracked by call id, the destination key; its source key would come from
 * the PPTP helper's keymap, which ctdp does not have, so it is 0.  Other
 * versions, and a version 1 header too short for its call id, have keys 0
 * and are tracked by address.  A version 1 packet that does not carry PPP
 * has no tuple: false. */
static bool
gre_keys(const uint8_t *l4, size_t size, ovs_be16 *dport)
{
    enum { GRE_VERSION_1 = 1, GRE_PROTO_PPP = 0x880b };

    if (size < 4 || (l4[1] & 7) != GRE_VERSION_1 || size < 8) {
        return true;
    }
    if (((l4[2] << 8) | l4[3]) != GRE_PROTO_PPP) {
        return false;
    }
    memcpy(dport, l4 + 6, 2);
    return true;
}

/* Fills the L4 part of 'key' from 'c'.  An outer ICMP error continues into
 * the embedded packet, whose tuple goes to 'out->inner'.  'inner' is true
 * while reading an embedded packet: ICMP quotes only the first 8 bytes of
 * its L4 header, so length fields are not checked there. */
static enum ctdp_parse
extract_l4(struct cursor *c, bool inner, struct ctdp_parsed *out,
           struct ctdp_tuple *key)
{
    uint8_t proto = key->nw_proto;
    size_t need = ctdp_tuple_l4_min_size(proto);
    const uint8_t *l4 = c->p;
    ovs_be16 sport = 0, dport = 0;

    /* An ICMP error need quote only 8 bytes of the L4 header (RFC 792),
     * which hold every identifier the tuple needs. */
    if (c->size < (inner ? MIN(need, 8) : need)) {
        return CTDP_PARSE_MALFORMED;
    }
    if (inner) {
        out->inner_l4 = l4;
        out->inner_l4_size = c->size;
    } else {
        enum ctdp_parse r = check_outer_l4(key, l4, c->size, c->csum_l4);

        out->l4 = l4;
        out->l4_size = c->size;
        if (r != CTDP_PARSE_OK) {
            return r;
        }
    }
    if (ctdp_tuple_has_ports(proto)) {
        memcpy(&sport, l4, 2);
        memcpy(&dport, l4 + 2, 2);
    } else if (proto == IPPROTO_GRE) {
        if (!gre_keys(l4, c->size, &dport)) {
            return CTDP_PARSE_MALFORMED;
        }
    } else if ((proto == IPPROTO_ICMP && key->l3 == CTDP_L3_IPV4)
               || (proto == IPPROTO_ICMPV6 && key->l3 == CTDP_L3_IPV6)) {
        bool v4 = proto == IPPROTO_ICMP;

        memcpy(&dport, l4, 2);          /* Type and code. */
        if (v4 ? icmp4_is_error(l4[0]) : icmp6_is_error(l4[0])) {
            struct cursor ic = { l4 + 8, c->size - 8, false, false };

            if (inner) {
                /* An error quoting an error is never related to
                 * anything: the kernel does not track it either. */
                return CTDP_PARSE_MALFORMED;
            }
            key_set_tail(key, 0, dport, key->zone, proto, key->l3);
            memset(&out->inner, 0, sizeof out->inner);
            out->inner.zone = key->zone;
            enum ctdp_parse r = extract_l3(&ic, htons(v4 ? ETH_TYPE_IP
                                                         : ETH_TYPE_IPV6),
                                           true, out, &out->inner);
            return r == CTDP_PARSE_OK ? CTDP_PARSE_ICMP_ERROR
                                      : CTDP_PARSE_MALFORMED;
        }
        if (v4 && l4[0] > ICMP4_INFOREPLY + 2) {
            return CTDP_PARSE_MALFORMED;    /* No such ICMP type. */
        }
        memcpy(&sport, l4 + 4, 2);      /* Identifier. */
    }
    key_set_tail(key, sport, dport, key->zone, proto, key->l3);
    return CTDP_PARSE_OK;
}

/* Sets the addresses of 'key' from the IP header 'ip' of 'version'. */
static void
extract_addrs(const void *ip, uint8_t version, struct ctdp_tuple *key)
{
    if (version == 4) {
        const struct ip_header *ip4 = ip;

        key->l3 = CTDP_L3_IPV4;
        addr_set4(&key->src, get_16aligned_be32(&ip4->ip_src));
        addr_set4(&key->dst, get_16aligned_be32(&ip4->ip_dst));
    } else {
        const struct ovs_16aligned_ip6_hdr *ip6 = ip;

        key->l3 = CTDP_L3_IPV6;
        memcpy(&key->src.ip6, &ip6->ip6_src, sizeof key->src.ip6);
        memcpy(&key->dst.ip6, &ip6->ip6_dst, sizeof key->dst.ip6);
    }
}

/* Reads the IP header of 'version' (4 or 6) at 'c' (ctdp_ip_read()) and
 * goes on to the L4 header.  An outer packet ends at its length field
 * (what follows is Ethernet padding) and must not be cut short; an
 * embedded one ('inner') may be, as ICMP quotes only its start. */
static enum ctdp_parse
extract_ip(struct cursor *c, uint8_t version, bool inner,
           struct ctdp_parsed *out, struct ctdp_tuple *key)
{
    enum ctdp_ip_result r;
    struct ctdp_ip_hdr h;

    r = ctdp_ip_read(c->p, c->size, inner, &h);
    if (r == CTDP_IP_NOT_IP || h.version != version) {
        return CTDP_PARSE_MALFORMED;
    }
    if (inner) {
        out->inner_l3 = c->p;
    }
    if (r == CTDP_IP_BAD_HDR) {
        return CTDP_PARSE_MALFORMED;
    }
    /* Even a truncated packet's header checksum is checked first, as IP
     * input checks it before the length. */
    if (version == 4 && c->csum_l3 && ctdp_csum(c->p, h.l4_ofs)) {
        return CTDP_PARSE_BAD_CHECKSUM;
    }
    if (r != CTDP_IP_OK) {
        return CTDP_PARSE_MALFORMED;
    }
    if (!inner) {
        out->l3_size = h.len;
    }
    /* Inside an ICMP error, a first fragment still names its conn. */
    if (h.later || (!inner && h.fragment)) {
        return inner ? CTDP_PARSE_MALFORMED : CTDP_PARSE_FRAGMENT;
    }
    extract_addrs(c->p, version, key);
    key->nw_proto = h.proto;
    c->p += h.l4_ofs;
    c->size = h.len - h.l4_ofs;
    return extract_l4(c, inner, out, key);
}

static enum ctdp_parse
extract_l3(struct cursor *c, ovs_be16 dl_type, bool inner,
           struct ctdp_parsed *out, struct ctdp_tuple *key)
{
    if (dl_type == htons(ETH_TYPE_IP)) {
        return extract_ip(c, 4, inner, out, key);
    } else if (dl_type == htons(ETH_TYPE_IPV6)) {
        return extract_ip(c, 6, inner, out, key);
    }
    return CTDP_PARSE_NOT_IP;
}

/* Finds the L3 header: at the packet's L3 offset if the datapath set one,
 * otherwise after the Ethernet header and any VLAN tags.  Stores its offset
 * in '*ofs' and the Ethertype before it in '*dl_type'; false if the frame
 * is too short. */
static inline bool
find_l3(const struct dp_packet *pkt, size_t *ofs, ovs_be16 *dl_type)
{
    const uint8_t *data = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt), o;

    if (pkt->l3_ofs != UINT16_MAX) {
        if (pkt->l3_ofs > size || pkt->l3_ofs < 2) {
            return false;
        }
        o = pkt->l3_ofs;
    } else {
        for (o = 12; ; o += 4) {
            if (o + 2 > size) {
                return false;
            }
            ovs_be16 type = htons((data[o] << 8) | data[o + 1]);
            if (!eth_type_vlan(type)) {
                break;
            }
        }
        o += 2;
    }
    *dl_type = htons((data[o - 2] << 8) | data[o - 1]);
    *ofs = o;
    return true;
}

/* find_l3() for defragmentation and the offload flags; the extractor
 * has it inline. */
bool
ctdp_tuple_find_l3(const struct dp_packet *pkt, size_t *ofs,
                   ovs_be16 *dl_type)
{
    return find_l3(pkt, ofs, dl_type);
}

/* The common packet in one piece: an outer IPv4 header without options,
 * not a fragment, and a whole TCP or UDP header after it.  Fills 'out'
 * and '*r' as the general reader would and returns true; for any other
 * packet returns false, and the general reader reads it.  It writes
 * every word of the key itself, so the general reader's clearing is not
 * done for it.  The general path, for all its generality, was two
 * fifths of the single flow's time (see docs/BENCHMARKS.md); the unit
 * test ct-malformed/plain_ipv4_reader holds the two to the same
 * results. */
static bool
extract_plain_ipv4(const struct dp_packet *pkt, uint16_t zone,
                   bool verify_l4, struct ctdp_parsed *out,
                   enum ctdp_parse *r)
{
    size_t size = dp_packet_size(pkt), ofs;
    struct ctdp_tuple *key = &out->key;
    const struct ip_header *ip;
    const uint8_t *l4;
    ovs_be16 dl_type, ports[2];
    size_t tot_len;
    uint8_t proto;

    if (!find_l3(pkt, &ofs, &dl_type) || dl_type != htons(ETH_TYPE_IP)
        || size - ofs < IP_HEADER_LEN + UDP_HEADER_LEN) {
        return false;
    }
    ip = (const void *) ((const uint8_t *) dp_packet_data(pkt) + ofs);
    l4 = (const uint8_t *) ip + IP_HEADER_LEN;
    if (ip->ip_ihl_ver != IP_IHL_VER(5, IP_VERSION)
        || ip->ip_frag_off & htons(IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) {
        return false;
    }
    proto = ip->ip_proto;
    tot_len = ntohs(ip->ip_tot_len);
    if ((proto != IPPROTO_UDP && proto != IPPROTO_TCP)
        || tot_len > size - ofs
        || tot_len < IP_HEADER_LEN + ctdp_tuple_l4_min_size(proto)) {
        return false;
    }
    out->l3 = ip;
    if (!dp_packet_ip_checksum_valid(pkt) && ctdp_csum(ip, IP_HEADER_LEN)) {
        /* As the general reader leaves it: no addresses, no L4. */
        parsed_clear(out, zone);
        *r = CTDP_PARSE_BAD_CHECKSUM;
        return true;
    }
    /* The ports are there (the length checked above): the key's last
     * word is written once, with them, unless the L4 checks fail. */
    memcpy(ports, l4, sizeof ports);
    addr_set4(&key->src, get_16aligned_be32(&ip->ip_src));
    addr_set4(&key->dst, get_16aligned_be32(&ip->ip_dst));
    key_set_tail(key, ports[0], ports[1], zone, proto, CTDP_L3_IPV4);
    out->l3_size = tot_len;
    out->l4 = l4;
    out->l4_size = tot_len - IP_HEADER_LEN;
    *r = check_outer_l4(key, l4, out->l4_size,
                        verify_l4 && !dp_packet_l4_checksum_valid(pkt));
    if (OVS_UNLIKELY(*r != CTDP_PARSE_OK)) {
        /* As the general reader leaves it: no ports. */
        key_set_tail(key, 0, 0, zone, proto, CTDP_L3_IPV4);
    }
    return true;
}

/* Not inline: the general reader's frame would cost every plain packet's
 * entry into ctdp_tuple_extract(). */
enum ctdp_parse __attribute__((noinline))
ctdp_tuple_extract_general(const struct dp_packet *pkt, uint16_t zone,
                           bool verify_l4, struct ctdp_parsed *out)
{
    struct cursor c;
    ovs_be16 dl_type;
    size_t ofs;

    parsed_clear(out, zone);
    if (!find_l3(pkt, &ofs, &dl_type)) {
        return CTDP_PARSE_MALFORMED;
    }
    c.p = (const uint8_t *) dp_packet_data(pkt) + ofs;
    out->l3 = c.p;
    c.size = dp_packet_size(pkt) - ofs;
    c.csum_l3 = !dp_packet_ip_checksum_valid(pkt);
    c.csum_l4 = verify_l4 && !dp_packet_l4_checksum_valid(pkt);
    return extract_l3(&c, dl_type, false, out, &out->key);
}

/* Reads the tuple of 'pkt' in 'zone' into 'out->key' (and, for an ICMP
 * error, the embedded packet's tuple into 'out->inner').  With
 * 'verify_l4' (nf_conntrack_checksum), a wrong L4 checksum that the NIC
 * did not vouch for makes CTDP_PARSE_BAD_CHECKSUM. */
enum ctdp_parse
ctdp_tuple_extract(const struct dp_packet *pkt, uint16_t zone,
                   bool verify_l4, struct ctdp_parsed *out)
{
    enum ctdp_parse r;

    if (extract_plain_ipv4(pkt, zone, verify_l4, out, &r)) {
        return r;
    }
    return ctdp_tuple_extract_general(pkt, zone, verify_l4, out);
}

/* The ICMP query types that have an answer, as type pairs; an entry maps
 * a type to its partner + 1, so that 0 means "none" (the kernel's invmap). */
static const uint8_t icmp4_partner[] = {
    [ICMP4_ECHO_REQUEST] = ICMP4_ECHO_REPLY + 1,
    [ICMP4_ECHO_REPLY] = ICMP4_ECHO_REQUEST + 1,
    [ICMP4_TIMESTAMP] = ICMP4_TIMESTAMPREPLY + 1,
    [ICMP4_TIMESTAMPREPLY] = ICMP4_TIMESTAMP + 1,
    [ICMP4_INFOREQUEST] = ICMP4_INFOREPLY + 1,
    [ICMP4_INFOREPLY] = ICMP4_INFOREQUEST + 1,
    [17] = 18 + 1,              /* Address mask request and reply. */
    [18] = 17 + 1,
};

/* ICMPv6 pairs: echo (128, 129) and node information (139, 140). */
static uint8_t
icmp6_partner(uint8_t type)
{
    switch (type) {
    case ICMP6_ECHO_REQUEST: return ICMP6_ECHO_REPLY;
    case ICMP6_ECHO_REPLY: return ICMP6_ECHO_REQUEST;
    case 139: return 140;
    case 140: return 139;
    default: return 0;
    }
}

/* Sets 'inv' to the tuple of the other direction of 't' (which may be
 * 'inv' itself), word by word.  Returns false for an ICMP type that has no
 * answer (such a packet cannot belong to a two-way conn). */
bool
ctdp_tuple_invert(const struct ctdp_tuple *t, struct ctdp_tuple *inv)
{
    const uint64_t *in = (const uint64_t *) t;
    uint64_t *out = (uint64_t *) inv;
    uint64_t src[2] = { in[0], in[1] }, dst[2] = { in[2], in[3] };
    uint16_t zone = t->zone;
    uint8_t proto = t->nw_proto, l3 = t->l3;
    ovs_be16 sport = t->dport, dport = t->sport;    /* Ports, GRE keys, or
                                                     * zeros. */
    bool ok = true;

    if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
        /* The identifier stays; in its own family, the type becomes its
         * answer's. */
        uint8_t type = t->icmp.type;

        sport = t->sport;
        dport = t->dport;
        if (proto == IPPROTO_ICMP && l3 == CTDP_L3_IPV4) {
            ok = type < ARRAY_SIZE(icmp4_partner) && icmp4_partner[type];
            type = ok ? icmp4_partner[type] - 1 : type;
            dport = htons(type << 8 | t->icmp.code);
        } else if (proto == IPPROTO_ICMPV6 && l3 == CTDP_L3_IPV6) {
            type = icmp6_partner(type);
            ok = type != 0;
            dport = htons(type << 8 | t->icmp.code);
        }
    }
    out[0] = dst[0];
    out[1] = dst[1];
    out[2] = src[0];
    out[3] = src[1];
    key_set_tail(inv, sport, dport, zone, proto, l3);
    return ok;
}
