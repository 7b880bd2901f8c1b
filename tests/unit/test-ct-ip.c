/* The IP header reader (ctdp-ip.h) on headers written byte by byte: what
 * it accepts, where it says L4 starts, and each way a header can lie. */
#include <config.h>
#include "ctdp-ip.h"
#include "ctdp-csum.h"
#include "ctdp-unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "util.h"

/* Writes an IPv4 header with 'ihl' words (options zero) at 'p'. */
static void
put_ip4(uint8_t *p, uint8_t ihl, uint16_t tot_len, uint16_t frag_off,
        uint16_t id, uint8_t proto)
{
    memset(p, 0, 60);
    p[0] = 0x40 | ihl;
    p[2] = tot_len >> 8;
    p[3] = tot_len;
    p[4] = id >> 8;
    p[5] = id;
    p[6] = frag_off >> 8;
    p[7] = frag_off;
    p[8] = 64;
    p[9] = proto;
}

/* Writes an IPv6 fixed header at 'p'. */
static void
put_ip6(uint8_t *p, uint16_t plen, uint8_t next)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    p[4] = plen >> 8;
    p[5] = plen;
    p[6] = next;
    p[7] = 64;
}

/* Writes an extension header of 'len' bytes (a multiple of 8) at 'p'. */
static void
put_ext(uint8_t *p, uint8_t next, size_t len)
{
    memset(p, 0, len);
    p[0] = next;
    p[1] = len / 8 - 1;
}

/* Writes a fragment header at 'p'. */
static void
put_frag(uint8_t *p, uint8_t next, uint16_t offset, bool more, uint32_t id)
{
    uint16_t offlg = offset | more;

    memset(p, 0, 8);
    p[0] = next;
    p[2] = offlg >> 8;
    p[3] = offlg;
    p[4] = id >> 24;
    p[5] = id >> 16;
    p[6] = id >> 8;
    p[7] = id;
}

static void
test_v4(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[128];

    /* Options, and Ethernet padding after the total length. */
    put_ip4(p, 6, 24 + 8, 0, 7, IPPROTO_UDP);
    CHECK_EQ(ctdp_ip_read(p, 46, false, &h), CTDP_IP_OK);
    CHECK_EQ(h.version, 4);
    CHECK_EQ(h.proto, IPPROTO_UDP);
    CHECK_EQ(h.l4_ofs, 24);
    CHECK_EQ(h.len, 32);
    CHECK(!h.fragment && !h.later && !h.more);
    CHECK_EQ(h.frag_hdr, 0);
}

/* Every length short of the fixed header, and a version that is neither
 * 4 nor 6. */
static void
test_v4_truncated_header(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[64];

    put_ip4(p, 5, 28, 0, 0, IPPROTO_UDP);
    for (size_t n = 0; n < 20; n++) {
        CHECK_EQ(ctdp_ip_read(p, n, false, &h), CTDP_IP_NOT_IP);
        CHECK_EQ(ctdp_ip_read(p, n, true, &h), CTDP_IP_NOT_IP);
    }
    CHECK_EQ(ctdp_ip_read(p, 28, false, &h), CTDP_IP_OK);
    p[0] = 0x55;
    CHECK_EQ(ctdp_ip_read(p, 28, false, &h), CTDP_IP_NOT_IP);
    /* An IPv6 header needs its 40 bytes. */
    put_ip6(p, 0, IPPROTO_NONE);
    CHECK_EQ(ctdp_ip_read(p, 39, false, &h), CTDP_IP_NOT_IP);
}

/* An IHL below 5 or past the bytes, a total length below the IHL: the
 * fixed header's fields are still set, so that the caller can tell a
 * malformed fragment from a malformed packet. */
static void
test_v4_bad_lengths(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[64];

    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        put_ip4(p, ihl, 28, 0x2000, 9, IPPROTO_UDP);
        CHECK_EQ(ctdp_ip_read(p, 28, false, &h), CTDP_IP_BAD_HDR);
        CHECK_EQ(ctdp_ip_read(p, 28, true, &h), CTDP_IP_BAD_HDR);
        CHECK(h.fragment && h.more && !h.later);
        CHECK_EQ(h.frag_id, 9);
    }
    put_ip4(p, 15, 60, 0, 0, IPPROTO_UDP);      /* 60 bytes of header... */
    CHECK_EQ(ctdp_ip_read(p, 56, false, &h), CTDP_IP_BAD_HDR);
    CHECK_EQ(ctdp_ip_read(p, 56, true, &h), CTDP_IP_BAD_HDR);
    CHECK_EQ(ctdp_ip_read(p, 60, false, &h), CTDP_IP_OK);
    CHECK_EQ(h.l4_ofs, 60);
    put_ip4(p, 6, 20, 0, 0, IPPROTO_UDP);       /* Total length < IHL. */
    CHECK_EQ(ctdp_ip_read(p, 32, false, &h), CTDP_IP_BAD_HDR);
    CHECK_EQ(ctdp_ip_read(p, 32, true, &h), CTDP_IP_BAD_HDR);
}

/* A total length past the bytes: refused, but for a quote, which ends at
 * the bytes there are, or at its total length if that comes first. */
static void
test_v4_cut(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[64];

    put_ip4(p, 5, 48, 0, 0, IPPROTO_TCP);
    CHECK_EQ(ctdp_ip_read(p, 47, false, &h), CTDP_IP_TRUNCATED);
    CHECK_EQ(h.l4_ofs, 20);
    CHECK_EQ(ctdp_ip_read(p, 28, true, &h), CTDP_IP_OK);
    CHECK_EQ(h.len, 28);
    CHECK_EQ(ctdp_ip_read(p, 64, true, &h), CTDP_IP_OK);
    CHECK_EQ(h.len, 48);
}

static void
test_v4_fragments(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[64];

    /* The first: MF, offset 0; L4 is here. */
    put_ip4(p, 5, 36, 0x2000, 0xbeef, IPPROTO_UDP);
    CHECK_EQ(ctdp_ip_read(p, 36, false, &h), CTDP_IP_OK);
    CHECK(h.fragment && h.more && !h.later);
    CHECK_EQ(h.frag_ofs, 0);
    CHECK_EQ(h.frag_id, 0xbeef);
    CHECK_EQ(h.l4_ofs, 20);

    /* A later one, the last (offset 185 * 8, DF ignored): its data. */
    put_ip4(p, 5, 36, 0x4000 | 185, 0xbeef, IPPROTO_UDP);
    CHECK_EQ(ctdp_ip_read(p, 36, false, &h), CTDP_IP_OK);
    CHECK(h.fragment && h.later && !h.more);
    CHECK_EQ(h.frag_ofs, 1480);
    CHECK_EQ(h.proto, IPPROTO_UDP);
    CHECK_EQ(h.l4_ofs, 20);
    CHECK_EQ(h.len - h.l4_ofs, 16);

    /* DF alone is no fragment. */
    put_ip4(p, 5, 36, 0x4000, 1, IPPROTO_UDP);
    CHECK_EQ(ctdp_ip_read(p, 36, false, &h), CTDP_IP_OK);
    CHECK(!h.fragment && !h.later);
}

/* Hop-by-hop (16 bytes), routing (8) and fragment headers before UDP; the
 * chain ends at the payload length, not at the padding after it. */
static void
test_v6_chain(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[128];

    put_ip6(p, 16 + 8 + 8 + 8, IPPROTO_HOPOPTS);
    put_ext(p + 40, IPPROTO_ROUTING, 16);
    put_ext(p + 56, IPPROTO_FRAGMENT, 8);
    put_frag(p + 64, IPPROTO_UDP, 0, true, 0x12345678);
    memset(p + 72, 0xab, 8);
    CHECK_EQ(ctdp_ip_read(p, 100, false, &h), CTDP_IP_OK);
    CHECK_EQ(h.version, 6);
    CHECK_EQ(h.proto, IPPROTO_UDP);
    CHECK_EQ(h.l4_ofs, 72);
    CHECK_EQ(h.len, 80);
    CHECK(h.fragment && h.more && !h.later);
    CHECK_EQ(h.frag_hdr, 64);
    CHECK_EQ(h.frag_prev, 56);
    CHECK_EQ(h.frag_ofs, 0);
    CHECK_EQ(h.frag_id, 0x12345678);

    /* A fragment header straight after the fixed header is named in it;
     * an atomic fragment (offset 0, no MF) is no fragment, but its header
     * is reported. */
    put_ip6(p, 8 + 8, IPPROTO_FRAGMENT);
    put_frag(p + 40, IPPROTO_UDP, 0, false, 1);
    CHECK_EQ(ctdp_ip_read(p, 56, false, &h), CTDP_IP_OK);
    CHECK_EQ(h.frag_hdr, 40);
    CHECK_EQ(h.frag_prev, 6);
    CHECK(!h.fragment && !h.later);
    CHECK_EQ(h.l4_ofs, 48);

    /* AH counts its length in 4-byte words, less 2. */
    put_ip6(p, 12 + 8, IPPROTO_AH);
    p[40] = IPPROTO_UDP;
    p[41] = 1;
    CHECK_EQ(ctdp_ip_read(p, 60, false, &h), CTDP_IP_OK);
    CHECK_EQ(h.l4_ofs, 52);
    CHECK_EQ(h.proto, IPPROTO_UDP);

    /* ESP, and no next header, end the chain. */
    put_ip6(p, 8, IPPROTO_ESP);
    CHECK_EQ(ctdp_ip_read(p, 48, false, &h), CTDP_IP_OK);
    CHECK_EQ(h.proto, IPPROTO_ESP);
    CHECK_EQ(h.l4_ofs, 40);
}

/* A later fragment ends the walk at its fragment header: what follows is
 * data, even if it looks like another extension header. */
static void
test_v6_later_fragment(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[128];

    put_ip6(p, 8 + 8 + 16, IPPROTO_DSTOPTS);
    put_ext(p + 40, IPPROTO_FRAGMENT, 8);
    put_frag(p + 48, IPPROTO_HOPOPTS, 1232, false, 77);
    memset(p + 56, 0xff, 16);
    CHECK_EQ(ctdp_ip_read(p, 72, false, &h), CTDP_IP_OK);
    CHECK(h.fragment && h.later && !h.more);
    CHECK_EQ(h.frag_ofs, 1232);
    CHECK_EQ(h.frag_id, 77);
    CHECK_EQ(h.frag_hdr, 48);
    CHECK_EQ(h.frag_prev, 40);
    CHECK_EQ(h.proto, IPPROTO_HOPOPTS);
    CHECK_EQ(h.l4_ofs, 56);
    CHECK_EQ(h.len - h.l4_ofs, 16);
}

/* Extension headers that run past the packet: past the bytes, or past
 * the payload length into padding.  The reader says which header does not
 * fit. */
static void
test_v6_chain_past_end(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[128];

    /* A 24-byte routing header in a 16-byte payload. */
    put_ip6(p, 8 + 16, IPPROTO_HOPOPTS);
    put_ext(p + 40, IPPROTO_ROUTING, 8);
    put_ext(p + 48, IPPROTO_TCP, 24);
    CHECK_EQ(ctdp_ip_read(p, 64, false, &h), CTDP_IP_BAD_CHAIN);
    CHECK_EQ(h.proto, IPPROTO_ROUTING);
    CHECK_EQ(h.l4_ofs, 48);
    /* The bytes are there, as padding: still past the packet. */
    CHECK_EQ(ctdp_ip_read(p, 100, false, &h), CTDP_IP_BAD_CHAIN);
    /* Quoted, the payload length is not read: the chain fits. */
    CHECK_EQ(ctdp_ip_read(p, 100, true, &h), CTDP_IP_OK);
    CHECK_EQ(h.l4_ofs, 72);
    CHECK_EQ(h.proto, IPPROTO_TCP);
    CHECK_EQ(ctdp_ip_read(p, 71, true, &h), CTDP_IP_BAD_CHAIN);

    /* Fewer than 8 bytes left for a header. */
    put_ip6(p, 4, IPPROTO_DSTOPTS);
    CHECK_EQ(ctdp_ip_read(p, 44, false, &h), CTDP_IP_BAD_CHAIN);
    CHECK_EQ(h.l4_ofs, 40);

    /* A fragment header that the packet does not hold: not reported. */
    put_ip6(p, 8 + 4, IPPROTO_HOPOPTS);
    put_ext(p + 40, IPPROTO_FRAGMENT, 8);
    CHECK_EQ(ctdp_ip_read(p, 52, false, &h), CTDP_IP_BAD_CHAIN);
    CHECK_EQ(h.proto, IPPROTO_FRAGMENT);
    CHECK_EQ(h.frag_hdr, 0);

    /* After a first fragment's header: it is reported. */
    put_ip6(p, 8 + 8, IPPROTO_FRAGMENT);
    put_frag(p + 40, IPPROTO_DSTOPTS, 0, true, 5);
    p[49] = 1;                  /* 16 bytes of options in 8. */
    CHECK_EQ(ctdp_ip_read(p, 56, false, &h), CTDP_IP_BAD_CHAIN);
    CHECK_EQ(h.frag_hdr, 40);
    CHECK(h.fragment && !h.later);
}

/* A payload length past the bytes: refused before the chain is read, but
 * for a quote. */
static void
test_v6_cut(void)
{
    struct ctdp_ip_hdr h;
    uint8_t p[64];

    put_ip6(p, 20, IPPROTO_FRAGMENT);
    CHECK_EQ(ctdp_ip_read(p, 59, false, &h), CTDP_IP_TRUNCATED);
    CHECK_EQ(h.proto, IPPROTO_FRAGMENT);
    CHECK_EQ(h.l4_ofs, 40);
    CHECK_EQ(h.frag_hdr, 0);
    put_frag(p + 40, IPPROTO_UDP, 0, true, 1);
    CHECK_EQ(ctdp_ip_read(p, 52, true, &h), CTDP_IP_OK);
    CHECK_EQ(h.len, 52);
    CHECK_EQ(h.l4_ofs, 48);
    CHECK(h.fragment && !h.later);
}

/* RFC 1071's sum, two bytes at a time in network order: the reference
 * ctdp_csum_add() and ctdp_csum_fold() must agree with. */
static uint16_t
reference_csum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;

    for (size_t i = 0; i < n; i += 2) {
        sum += p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

/* RFC 1071's fold of a wide sum, 16 bits at a time. */
static uint16_t
reference_fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

/* The checksum of every length to 80 bytes at every alignment, whole and
 * in two parts split at an even offset, against the reference; RFC 1071's
 * example; the fold of sums that carry; and a header that holds its own
 * checksum sums to 0. */
static void
test_csum(void)
{
    static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03,
                                   0xf4, 0xf5, 0xf6, 0xf7 };
    uint8_t buf[96], hdr[60];
    uint32_t x = 12345;

    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245 + 12345;
        buf[i] = x >> 16;
    }
    buf[7] = buf[8] = 0xff;     /* Sums that carry out of 16 bits. */
    for (size_t align = 0; align < 4; align++) {
        for (size_t n = 0; n <= 80; n++) {
            const uint8_t *p = buf + align;
            uint16_t want = reference_csum(p, n);

            CHECK_EQ(ntohs(ctdp_csum(p, n)), want);
            for (size_t cut = 0; cut <= n; cut += 2) {
                uint64_t sum = ctdp_csum_add(0, p, cut);

                sum = ctdp_csum_add(sum, p + cut, n - cut);
                CHECK_EQ(ntohs(ctdp_csum_fold(sum)), want);
            }
        }
    }
    CHECK_EQ(ntohs(ctdp_csum(rfc, sizeof rfc)),
             (uint16_t) ~0xddf2);

    /* Sums whose halves carry as they fold, to 32 bits and to 16. */
    static const uint64_t sums[] = {
        0, 0xffff, 0x10000, 0xffffffff, 0x100000000ULL, 0x1fffffffeULL,
        0x8fffffffaULL, 0xffffffff00000001ULL, 0xfffeffff0001ffffULL,
        UINT64_MAX,
    };
    for (size_t i = 0; i < ARRAY_SIZE(sums); i++) {
        CHECK_EQ((OVS_FORCE uint16_t) ctdp_csum_fold(sums[i]),
                 reference_fold(sums[i]));
    }
    memset(buf, 0xff, sizeof buf);
    CHECK_EQ(ntohs(ctdp_csum(buf, 80)), reference_csum(buf, 80));

    put_ip4(hdr, 5, 20, 0, 7, IPPROTO_UDP);
    hdr[12] = hdr[16] = 10;
    hdr[15] = 1;
    hdr[19] = 2;
    hdr[10] = reference_csum(hdr, 20) >> 8;
    hdr[11] = reference_csum(hdr, 20);
    CHECK_EQ(ctdp_csum(hdr, 20), 0);
    hdr[19] ^= 1;
    CHECK(ctdp_csum(hdr, 20) != 0);
}

const struct ctdp_unit_suite ct_ip_suite = {
    "ct-ip", (const struct ctdp_unit_case[]) {
        { "v4", test_v4 },
        { "v4-truncated-header", test_v4_truncated_header },
        { "v4-bad-lengths", test_v4_bad_lengths },
        { "v4-cut", test_v4_cut },
        { "v4-fragments", test_v4_fragments },
        { "v6-chain", test_v6_chain },
        { "v6-later-fragment", test_v6_later_fragment },
        { "v6-chain-past-end", test_v6_chain_past_end },
        { "v6-cut", test_v6_cut },
        { "csum", test_csum },
        { NULL, NULL } } };
