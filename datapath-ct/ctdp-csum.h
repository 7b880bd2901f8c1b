#ifndef CTDP_CSUM_H
#define CTDP_CSUM_H 1

/* The Internet checksum (RFC 1071), four bytes at a time.
 *
 * Open vSwitch's csum_continue() adds two bytes per step; the tracker
 * checks the IPv4 header and the L4 checksum of every packet that the NIC
 * did not vouch for, so it sums 32-bit words into a 64-bit accumulator
 * and folds once at the end.  Words are taken in memory order, as
 * csum_continue() takes them: since 2^16 = 1 modulo 2^16 - 1, a 16-bit
 * word counts the same in either half of a 32-bit one, and the folded sum
 * is the checksum's bytes as they lie in the packet.
 *
 *     if (ctdp_csum(ip, ihl * 4)) {
 *         the IPv4 header's checksum is wrong;
 *     }
 *
 * A sum of parts (a pseudo-header, then the L4 bytes) adds each in turn;
 * every part but the last must have an even length, as a part starts a
 * 16-bit word of the whole.  The accumulator cannot overflow under
 * 2^32 words, far beyond any packet. */

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "openvswitch/types.h"

/* Adds the 'n' bytes at 'p' (of any alignment) to 'sum'. */
static inline uint64_t
ctdp_csum_add(uint64_t sum, const void *p_, size_t n)
{
    const uint8_t *p = p_;
    uint32_t w32;
    uint16_t w16;

    /* Unrolled: an IPv4 header (20 bytes, whose length the caller often
     * knows) is summed with no loop at all. */
#pragma GCC unroll 8
    for (; n >= 4; p += 4, n -= 4) {
        memcpy(&w32, p, 4);
        sum += w32;
    }
    if (n >= 2) {
        memcpy(&w16, p, 2);
        sum += w16;
        p += 2;
        n -= 2;
    }
    if (n) {
        /* The odd last byte, padded with a zero byte after it. */
        uint8_t last[2] = { p[0], 0 };

        memcpy(&w16, last, 2);
        sum += w16;
    }
    return sum;
}

/* Adds the pseudo-header that TCP, UDP and ICMPv6 checksums cover: the
 * addresses 'src' and 'dst' ('alen' bytes each: 4 for IPv4, 16 for IPv6),
 * the L4 length 'len' and the protocol 'proto'.  IPv4's 16-bit length and
 * zero-padded protocol (RFC 793) and IPv6's 32-bit length and next header
 * (RFC 8200, 8.1) both sum as the two 32-bit words added here. */
static inline uint64_t
ctdp_csum_pseudo(uint64_t sum, const void *src, const void *dst, size_t alen,
                 uint32_t len, uint8_t proto)
{
    ovs_be32 len_proto[2] = { htonl(len), htonl(proto) };

    sum = ctdp_csum_add(sum, src, alen);
    sum = ctdp_csum_add(sum, dst, alen);
    return ctdp_csum_add(sum, len_proto, sizeof len_proto);
}

/* ctdp_csum_pseudo() with the addresses read from the IPv4 or IPv6 ('v6')
 * header at 'l3': IPv4's at byte 12, IPv6's (the fixed header's) at byte
 * 8, the destination right after the source. */
static inline uint64_t
ctdp_csum_pseudo_ip(uint64_t sum, const void *l3, bool v6, uint32_t len,
                    uint8_t proto)
{
    const uint8_t *src = (const uint8_t *) l3 + (v6 ? 8 : 12);
    size_t alen = v6 ? 16 : 4;

    return ctdp_csum_pseudo(sum, src, src + alen, alen, len, proto);
}

/* The checksum of what 'sum' added: its ones' complement sum, folded to
 * 16 bits and complemented.  0 if the bytes added held their own correct
 * checksum. */
static inline ovs_be16
ctdp_csum_fold(uint64_t sum)
{
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (OVS_FORCE ovs_be16) (uint16_t) ~sum;
}

/* The checksum of the 'n' bytes at 'p': 0 if they hold their own correct
 * checksum. */
static inline ovs_be16
ctdp_csum(const void *p, size_t n)
{
    return ctdp_csum_fold(ctdp_csum_add(0, p, n));
}

/* The checksum of the 'l4_size' bytes at 'l4', of protocol 'proto', with
 * the pseudo-header of the IPv4 or IPv6 ('v6') header at 'l3', computed
 * afresh: the checksum field must hold 0 meanwhile. */
static inline ovs_be16
ctdp_csum_l4(const void *l3, bool v6, uint8_t proto, const void *l4,
             size_t l4_size)
{
    uint64_t sum = ctdp_csum_pseudo_ip(0, l3, v6, l4_size, proto);

    return ctdp_csum_fold(ctdp_csum_add(sum, l4, l4_size));
}

#endif /* ctdp-csum.h */
