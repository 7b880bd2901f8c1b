#ifndef CTDP_TUPLE_H
#define CTDP_TUPLE_H 1

/* Tuples: a connection's identity in one direction.
 *
 * A tuple holds the addresses, the L4 identifiers, the IP protocol and the
 * zone.  It is 40 bytes with no padding, so that it can be hashed and
 * compared as bytes; IPv4 addresses use the first 4 bytes of each address
 * and the other 12 are zero.  The L4 identifiers are, by protocol:
 *
 *   TCP, UDP, UDP-Lite, SCTP, DCCP   source and destination ports;
 *   ICMP, ICMPv6 queries             'sport' = the identifier,
 *                                    'icmp.type' and 'icmp.code';
 *   GRE                              the source and destination keys
 *                                    (version 1: 0 and the call id;
 *                                    else 0 and 0);
 *   any other protocol               zero (addresses and protocol only).
 *
 * ctdp_tuple_extract() reads a packet's tuple; for an ICMP or ICMPv6 error
 * it also reads the tuple of the packet embedded in the error, for the
 * RELATED lookup.  ctdp_tuple_invert() gives the tuple of the other
 * direction.
 *
 * Thread-safety: every function is pure (reentrant). */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/types.h"
#include "util.h"

struct dp_packet;

enum ctdp_l3 {
    CTDP_L3_IPV4 = 4,
    CTDP_L3_IPV6 = 6,
};

union ctdp_addr {
    ovs_be32 ip4;
    struct in6_addr ip6;
};

struct ctdp_tuple {
    union ctdp_addr src;
    union ctdp_addr dst;
    ovs_be16 sport;             /* Port, or ICMP identifier. */
    union {
        ovs_be16 dport;         /* Port. */
        struct {
            uint8_t type;       /* ICMP/ICMPv6 type... */
            uint8_t code;       /* ...and code. */
        } icmp;
    };
    uint16_t zone;
    uint8_t nw_proto;           /* IPPROTO_*. */
    uint8_t l3;                 /* enum ctdp_l3. */
} __attribute__((aligned(8)));  /* Compared as words. */
BUILD_ASSERT_DECL(sizeof(struct ctdp_tuple) == 40);
/* The hash of an IPv4 tuple reads its last word as ports, zone, proto, l3. */
BUILD_ASSERT_DECL(offsetof(struct ctdp_tuple, sport) == 32);

/* What ctdp_tuple_extract() found in a packet. */
enum ctdp_parse {
    CTDP_PARSE_OK,              /* 'key' is the packet's tuple. */
    CTDP_PARSE_ICMP_ERROR,      /* 'key' is the error's tuple and 'inner'
                                 * the embedded packet's. */
    CTDP_PARSE_NOT_IP,          /* Not IPv4 or IPv6: nothing to track. */
    CTDP_PARSE_FRAGMENT,        /* A fragment: defragment first. */
    CTDP_PARSE_MALFORMED,       /* Truncated or inconsistent headers. */
    CTDP_PARSE_BAD_CHECKSUM,    /* A wrong IPv4 header or L4 checksum. */
};

struct ctdp_parsed {
    struct ctdp_tuple key;
    struct ctdp_tuple inner;    /* For CTDP_PARSE_ICMP_ERROR. */
    const void *l3;             /* The IP header. */
    const void *l4;             /* The L4 header. */
    size_t l4_size;             /* Bytes from 'l4' to the end of the L3
                                 * payload (not of the frame). */
    size_t l3_size;             /* Bytes of the IP packet (what the kernel
                                 * counts per conn). */
    /* For CTDP_PARSE_ICMP_ERROR: the embedded packet's IP and L4 headers,
     * and the bytes quoted from the L4 header on. */
    const void *inner_l3, *inner_l4;
    size_t inner_l4_size;
};

bool ctdp_tuple_find_l3(const struct dp_packet *, size_t *ofs,
                        ovs_be16 *dl_type);
enum ctdp_parse ctdp_tuple_extract(const struct dp_packet *, uint16_t zone,
                                   bool verify_l4, struct ctdp_parsed *);
/* ctdp_tuple_extract() without its shortcut for the plain IPv4 packet
 * (no options, not a fragment, TCP or UDP): the general reader alone,
 * which ctdp_tuple_extract() calls for every other packet, and the unit
 * test ct-malformed/plain_ipv4_reader holds to the same results. */
enum ctdp_parse ctdp_tuple_extract_general(const struct dp_packet *,
                                           uint16_t zone, bool verify_l4,
                                           struct ctdp_parsed *);
bool ctdp_tuple_invert(const struct ctdp_tuple *, struct ctdp_tuple *inv);

/* Compares two tuples as five 64-bit words: inline, because it is the
 * lookup's inner loop. */
static inline bool
ctdp_tuple_equal(const struct ctdp_tuple *a, const struct ctdp_tuple *b)
{
    const uint64_t *x = (const uint64_t *) a, *y = (const uint64_t *) b;

    return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])
             | (x[4] ^ y[4]));
}

/* ctdp_tuple_equal() where the two mostly differ: the last word (ports,
 * zone, protocol, family), which differs between most flows, first,
 * sparing the loads of the others. */
static inline bool
ctdp_tuple_equal_rare(const struct ctdp_tuple *a, const struct ctdp_tuple *b)
{
    const uint64_t *x = (const uint64_t *) a, *y = (const uint64_t *) b;

    return x[4] == y[4] && ctdp_tuple_equal(a, b);
}

/* Is 't''s inverse its swap, the two ends (address, and port or key)
 * exchanged?  So it is for every protocol but ICMP and ICMPv6, whose
 * inverse also changes the type. */
static inline bool
ctdp_tuple_inverts_by_swap(const struct ctdp_tuple *t)
{
    return t->nw_proto != IPPROTO_ICMP && t->nw_proto != IPPROTO_ICMPV6;
}

/* A tuple's last word ('sport' to 'l3') with 'sport' and 'dport'
 * exchanged. */
static inline uint64_t
ctdp_tuple_ports_swapped(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (w & ~0xffffffffULL) | (w & 0xffff) << 16 | (w >> 16 & 0xffff);
#else
    return ((w & 0xffffffffULL) | (w >> 48) << 32
            | (w >> 32 & 0xffff) << 48);
#endif
}

/* Does 'a' equal 'b' with its ends swapped (for a tuple that inverts by
 * swap: its inverse)?  As ctdp_tuple_equal(), five words. */
static inline bool
ctdp_tuple_equal_swapped(const struct ctdp_tuple *a,
                         const struct ctdp_tuple *b)
{
    const uint64_t *x = (const uint64_t *) a, *y = (const uint64_t *) b;

    return !((x[0] ^ y[2]) | (x[1] ^ y[3]) | (x[2] ^ y[0]) | (x[3] ^ y[1])
             | (x[4] ^ ctdp_tuple_ports_swapped(y[4])));
}

bool ctdp_tuple_has_ports(uint8_t nw_proto);
size_t ctdp_tuple_l4_min_size(uint8_t nw_proto);

#endif /* ctdp-tuple.h */
