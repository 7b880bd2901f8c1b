/* Reading IPv4 and IPv6 headers (ctdp-ip.h). */
#include <config.h>
#include "ctdp-ip.h"

#include <string.h>
#include "packets.h"

/* Reads the IPv4 header at 'ip' ('size' bytes available, at least
 * IP_HEADER_LEN). */
static enum ctdp_ip_result
read_ipv4(const struct ip_header *ip, size_t size, bool quoted,
          struct ctdp_ip_hdr *h)
{
    uint16_t frag_off = ntohs(ip->ip_frag_off);
    size_t tot_len = ntohs(ip->ip_tot_len);

    h->proto = ip->ip_proto;
    h->l4_ofs = IP_IHL(ip->ip_ihl_ver) * 4;
    h->len = tot_len;
    h->fragment = (frag_off & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) != 0;
    h->later = (frag_off & IP_FRAG_OFF_MASK) != 0;
    h->more = (frag_off & IP_MORE_FRAGMENTS) != 0;
    h->frag_ofs = (frag_off & IP_FRAG_OFF_MASK) * 8;
    h->frag_id = ntohs(ip->ip_id);
    if (h->l4_ofs < IP_HEADER_LEN || h->l4_ofs > size || tot_len < h->l4_ofs) {
        return CTDP_IP_BAD_HDR;
    }
    if (tot_len > size) {
        if (!quoted) {
            return CTDP_IP_TRUNCATED;
        }
        h->len = size;
    }
    return CTDP_IP_OK;
}

/* Is 'nh' an IPv6 extension header that the chain walk reads? */
static bool
ipv6_ext_hdr(uint8_t nh)
{
    return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING
           || nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH
           || nh == IPPROTO_FRAGMENT;
}

/* The length of the extension header 'nh' at 'p' (8 bytes readable). */
static size_t
ipv6_ext_len(uint8_t nh, const uint8_t *p)
{
    return (nh == IPPROTO_FRAGMENT ? 8
            : nh == IPPROTO_AH ? (p[1] + 2) * 4
            : (p[1] + 1) * 8);
}

/* Takes in the fragment header at 'ofs' of 'ip6', named by the byte at
 * 'prev'. */
static void
ipv6_frag(const uint8_t *ip6, size_t ofs, size_t prev, struct ctdp_ip_hdr *h)
{
    const struct ovs_16aligned_ip6_frag *fh = (const void *) (ip6 + ofs);
    uint16_t offlg = ntohs(fh->ip6f_offlg);

    if (!h->frag_hdr) {
        h->frag_hdr = ofs;
        h->frag_prev = prev;
        h->frag_ofs = offlg & 0xfff8;
        h->more = (offlg & 1) != 0;
        h->frag_id = ntohl(get_16aligned_be32(&fh->ip6f_ident));
    }
    h->fragment |= offlg != 0;
    h->later |= (offlg & 0xfff8) != 0;
}

/* Walks the extension headers of the IPv6 packet at 'ip6', within its
 * 'h->len' bytes, from 'h->l4_ofs' (the fixed header's end) and
 * 'h->proto' (its next header) on. */
static enum ctdp_ip_result
read_ipv6_chain(const uint8_t *ip6, struct ctdp_ip_hdr *h)
{
    size_t prev = offsetof(struct ovs_16aligned_ip6_hdr,
                           ip6_ctlun.ip6_un1.ip6_un1_nxt);

    while (!h->later && ipv6_ext_hdr(h->proto)) {
        const uint8_t *p = ip6 + h->l4_ofs;
        size_t left = h->len - h->l4_ofs, len;

        /* Every extension header is at least 8 bytes long. */
        if (left < 8) {
            return CTDP_IP_BAD_CHAIN;
        }
        len = ipv6_ext_len(h->proto, p);
        if (len > left) {
            return CTDP_IP_BAD_CHAIN;
        }
        if (h->proto == IPPROTO_FRAGMENT) {
            ipv6_frag(ip6, h->l4_ofs, prev, h);
        }
        prev = h->l4_ofs;
        h->proto = p[0];
        h->l4_ofs += len;
    }
    return CTDP_IP_OK;
}

/* Reads the IPv6 header at 'ip6' ('size' bytes available, at least
 * IPV6_HEADER_LEN) and its extension headers. */
static enum ctdp_ip_result
read_ipv6(const struct ovs_16aligned_ip6_hdr *ip6, size_t size, bool quoted,
          struct ctdp_ip_hdr *h)
{
    h->proto = ip6->ip6_ctlun.ip6_un1.ip6_un1_nxt;
    h->l4_ofs = IPV6_HEADER_LEN;
    h->len = IPV6_HEADER_LEN + ntohs(ip6->ip6_ctlun.ip6_un1.ip6_un1_plen);
    if (quoted) {
        h->len = size;
    } else if (h->len > size) {
        return CTDP_IP_TRUNCATED;       /* Or a jumbogram. */
    }
    return read_ipv6_chain((const uint8_t *) ip6, h);
}

enum ctdp_ip_result
ctdp_ip_read(const void *l3, size_t size, bool quoted, struct ctdp_ip_hdr *h)
{
    const uint8_t *p = l3;

    memset(h, 0, sizeof *h);
    if (size >= IP_HEADER_LEN && p[0] >> 4 == 4) {
        h->version = 4;
        return read_ipv4(l3, size, quoted, h);
    }
    if (size >= IPV6_HEADER_LEN && p[0] >> 4 == 6) {
        h->version = 6;
        return read_ipv6(l3, size, quoted, h);
    }
    return CTDP_IP_NOT_IP;
}
