#ifndef CTDP_IP_H
#define CTDP_IP_H 1

/* Reading IPv4 and IPv6 headers: one definition of where L4 starts.
 *
 * ctdp_ip_read() reads the IP header at the start of some bytes and, for
 * IPv6, the chain of extension headers after it, and says what the tuple
 * extractor (ctdp-tuple.c) and defragmentation (ctdp-ipf.c) both need: the
 * version, where the L4 header starts and its protocol, which of the bytes
 * belong to the packet, and the fragment fields.
 *
 *     struct ctdp_ip_hdr h;
 *
 *     if (ctdp_ip_read(l3, size, false, &h) == CTDP_IP_OK && !h.later) {
 *         the L4 header of protocol 'h.proto' is at l3 + h.l4_ofs, and
 *         h.len - h.l4_ofs bytes of the packet follow from there;
 *     }
 *
 * IPv6 extension headers: hop-by-hop options, routing, destination
 * options, AH and fragment headers are walked, as Open vSwitch's
 * parse_ipv6_ext_hdrs() and the kernel's ipv6_skip_exthdr() walk them; any
 * other next header (ESP and "no next header" included) is the L4
 * protocol.  Every extension header must lie within the packet's length.
 * A fragment header with offset 0 is walked past (a first fragment holds
 * the L4 header); one with another offset ends the walk, since what
 * follows it is not the datagram's L4 header.
 *
 * Neither the IPv4 header checksum nor anything past the L4 protocol is
 * checked: the callers do that as their own rules say.
 *
 * Thread-safety: ctdp_ip_read() is pure (reentrant). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What ctdp_ip_read() found, from the best case to the worst.  Every
 * result but CTDP_IP_NOT_IP sets 'version' and what the fixed header says
 * of the fragment, so that a caller can tell a malformed fragment from
 * another malformed packet; 'proto', 'l4_ofs' and 'len' are then as far
 * as the reader got: what the fixed header says, and past it for
 * CTDP_IP_BAD_CHAIN.  Only CTDP_IP_OK vouches for them. */
enum ctdp_ip_result {
    CTDP_IP_OK,
    CTDP_IP_BAD_CHAIN,      /* IPv6: an extension header runs past the
                             * packet's length; 'proto' and 'l4_ofs' name
                             * the header that does not fit. */
    CTDP_IP_TRUNCATED,      /* The packet's length (IPv4 total length,
                             * IPv6 payload length) runs past 'size';
                             * never for a quoted packet.  The IPv6 chain
                             * was not read. */
    CTDP_IP_BAD_HDR,        /* IPv4: IHL below 5, past 'size', or above
                             * the total length. */
    CTDP_IP_NOT_IP,         /* Shorter than the fixed header, or a version
                             * other than 4 or 6.  Nothing is set. */
};

struct ctdp_ip_hdr {
    uint8_t version;        /* 4 or 6 (the values of enum ctdp_l3). */
    uint8_t proto;          /* The L4 protocol: the IPv4 protocol, or the
                             * next header after the IPv6 chain. */
    size_t l4_ofs;          /* Where the L4 header starts: after the IPv4
                             * header's options, or the IPv6 chain. */
    size_t len;             /* The bytes from the start that are the
                             * packet's, as its length field says: what
                             * follows is link padding.  For a quoted
                             * packet, at most 'size' (see ctdp_ip_read()). */

    /* Fragments.  IPv6: of the first fragment header, whose offset is
     * that of the datagram's reassembly. */
    bool fragment;          /* A fragment: IPv4 MF or an offset; IPv6 a
                             * fragment header whose offset or flags are
                             * not all 0 (not an atomic fragment). */
    bool later;             /* Not the first fragment: the bytes at
                             * 'l4_ofs' are the fragment's data, and
                             * 'proto' the protocol the IP header or the
                             * fragment header names. */
    bool more;              /* The more-fragments flag. */
    uint16_t frag_ofs;      /* Offset of the fragment's data, in bytes. */
    uint32_t frag_id;       /* IPv4: the 16-bit id; IPv6: the fragment
                             * header's identification. */
    size_t frag_hdr;        /* IPv6: where the fragment header starts, 0
                             * if there is none (atomic fragments too). */
    size_t frag_prev;       /* IPv6: where the byte that names the
                             * fragment header is: 6 (in the fixed header),
                             * or the start of the extension header before
                             * it. */
};

/* Reads the IPv4 or IPv6 packet at 'l3', of which 'size' bytes are
 * available, into '*h', and returns what it found (see above).  The
 * version comes from the header's first nibble; the caller checks that it
 * matches the Ethertype.
 *
 * 'quoted' is for the packet an ICMP error quotes, which may be cut short:
 * its length field may run past 'size', and then 'h->len' is 'size'.  An
 * IPv6 quote's payload length is not read at all ('h->len' is 'size'), as
 * the kernel reads an ICMPv6 error's quote up to its end; an IPv4 quote
 * still ends at its total length if that comes first. */
enum ctdp_ip_result ctdp_ip_read(const void *l3, size_t size, bool quoted,
                                 struct ctdp_ip_hdr *h);

#endif /* ctdp-ip.h */
