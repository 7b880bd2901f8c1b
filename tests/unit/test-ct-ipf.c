/* Defragmentation (ctdp-ipf.h): reassembly in any order for IPv4 and IPv6
 * (extension headers before and after the fragment header), expiry on
 * 'now', every kind of bad fragment dropped and counted, the bounds under
 * a flood, zones, and the tracker seeing one datagram. */
#include <config.h>
#include "ctdp-ipf.h"
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <errno.h>
#include <string.h>
#include "csum.h"
#include "dp-packet.h"
#include "ovs-thread.h"
#include "packets.h"

#define MAX_FRAGS 64

static struct ctdp_ipf_status
status_of(struct ctdp_ipf *ipf)
{
    struct ctdp_ipf_status s;

    ctdp_ipf_get_status(ipf, &s);
    return s;
}

static uint64_t
counter(struct ctdp_ipf *ipf, enum ctdp_ipf_version v,
        enum ctdp_ipf_counter c)
{
    return status_of(ipf).counters[v][c];
}

/* Every accepted fragment is completed, expired, purged, discarded or
 * still held. */
static void
check_balance(struct ctdp_ipf *ipf)
{
    struct ctdp_ipf_status s = status_of(ipf);
    uint64_t held = 0;

    for (int v = 0; v < CTDP_IPF_N_VERSIONS; v++) {
        const uint64_t *c = s.counters[v];

        held += c[CTDP_IPF_ACCEPTED] - c[CTDP_IPF_COMPLETED]
                - c[CTDP_IPF_EXPIRED] - c[CTDP_IPF_PURGED]
                - c[CTDP_IPF_DISCARDED];
    }
    CHECK_EQ(held, s.nfrag);
}

static void
free_frags(struct dp_packet **frags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dp_packet_delete(frags[i]);
    }
}

static void
dgram_free(struct ctdp_ipf_dgram *d)
{
    free_frags(d->frags, d->n_frags);
    dp_packet_delete(d->whole);
    ctdp_ipf_dgram_destroy(d);
}

/* Offers 'frags[order[i]]' in turn; all but the last must be held, the
 * last must complete the datagram into 'd'. */
static bool
gather_all(struct ctdp_ipf *ipf, struct dp_packet **frags, const size_t *order,
           size_t n, uint16_t zone, long long now, struct ctdp_ipf_dgram *d)
{
    bool ok = true;

    for (size_t i = 0; i < n; i++) {
        enum ctdp_ipf_result r = ctdp_ipf_gather(ipf, frags[order[i]], zone,
                                                 now, d);

        ok &= CHECK_EQ(r, i + 1 < n ? CTDP_IPF_HELD : CTDP_IPF_COMPLETE);
    }
    return ok;
}

/* Checks that 'd' is 'whole' rebuilt from 'frags' (in offset order). */
static void
check_dgram(const struct ctdp_ipf_dgram *d, const struct dp_packet *whole,
            struct dp_packet **frags, size_t n)
{
    const uint8_t *want, *got;
    size_t want_len, got_len;

    CHECK_EQ(d->n_frags, n);
    for (size_t i = 0; i < n && i < d->n_frags; i++) {
        CHECK(d->frags[i] == frags[i]);
    }
    want_len = tpkt_ip_bytes(whole, &want);
    got_len = tpkt_ip_bytes(d->whole, &got);
    CHECK_EQ(got_len, want_len);
    if (got_len != want_len) {
        return;
    }
    if ((want[0] >> 4) == 4) {
        /* The same but for the id, which the fragments set, and so the
         * header checksum, which must be right. */
        CHECK(!memcmp(got, want, 4));
        CHECK(!memcmp(got + 6, want + 6, 4));
        CHECK(!memcmp(got + 12, want + 12, want_len - 12));
        CHECK_EQ(csum(got, (got[0] & 0x0f) * 4), 0);
    } else {
        CHECK(!memcmp(got, want, want_len));
    }
    CHECK_EQ(dp_packet_size(d->whole), dp_packet_size(whole));
}

/* Fragments a UDP datagram of 'payload' bytes from 'ip' ('n_unfrag'
 * extension headers before the fragment header), offers the fragments in
 * 'order' ("in", "out", "rev"), checks the rebuilt datagram, and has the
 * tracker commit it: one conn, every fragment with its ct_state. */
static void
reassemble_case(const struct tpkt_ip *ip, size_t n_unfrag, size_t payload,
                const char *order)
{
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = tpkt_action(3, true);
    struct dp_packet *whole = tpkt_udp_big(ip, 1000, 2000, payload);
    struct dp_packet *frags[MAX_FRAGS];
    size_t idx[MAX_FRAGS], n;
    struct ctdp_ipf_dgram d;

    n = tpkt_fragment(whole, n_unfrag, 1448, 0x1234, frags, MAX_FRAGS);
    CHECK(n >= 3);
    for (size_t i = 0; i < n; i++) {
        idx[i] = !strcmp(order, "rev") ? n - 1 - i : i;
    }
    if (!strcmp(order, "out")) {
        /* 1, 3, ..., then 0, 2, ...: a permutation for odd and even n. */
        size_t k = 0;

        for (size_t i = 1; i < n; i += 2) {
            idx[k++] = i;
        }
        for (size_t i = 0; i < n; i += 2) {
            idx[k++] = i;
        }
    }
    if (gather_all(ipf, frags, idx, n, 3, 1000, &d)) {
        check_dgram(&d, whole, frags, n);
        CHECK_STATE(tpkt_ct(ct, d.whole, &a, 1000), TRK_NEW);
        for (size_t i = 0; i < d.n_frags; i++) {
            /* Nothing changed the datagram: its fragments stay as they
             * came. */
            struct dp_packet *copy = dp_packet_clone(d.frags[i]);

            ctdp_ipf_sync_fragment(copy, &d);
            CHECK_EQ(dp_packet_size(copy), dp_packet_size(d.frags[i]));
            CHECK(!memcmp(dp_packet_data(copy), dp_packet_data(d.frags[i]),
                          dp_packet_size(copy)));
            dp_packet_delete(copy);
        }
        CHECK_EQ(ctdp_ct_n_conns(ct), 1);
        ctdp_ct_packet_done(ct, d.whole);
        dgram_free(&d);
    }
    CHECK_EQ(counter(ipf, ip->v6, CTDP_IPF_ACCEPTED), n);
    CHECK_EQ(counter(ipf, ip->v6, CTDP_IPF_COMPLETED), n);
    CHECK_EQ(status_of(ipf).nfrag, 0);
    CHECK_EQ(status_of(ipf).memory, 0);
    check_balance(ipf);
    dp_packet_delete(whole);
    ctdp_ipf_destroy(ipf);
    tpkt_ct_destroy(ct);
}

static void
test_v4_in_order(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");

    reassemble_case(&ip, 0, 5000, "in");
}

static void
test_v4_out_of_order(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");

    reassemble_case(&ip, 0, 5000, "out");
    reassemble_case(&ip, 0, 7000, "out");
}

static void
test_v4_reverse(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");

    reassemble_case(&ip, 0, 5000, "rev");
}

static void
test_v4_large(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");

    reassemble_case(&ip, 0, 60000, "out");
}

static struct tpkt_ip
ip6_ext(void)
{
    struct tpkt_ip ip = tpkt_ip("2001:db8::1", "2001:db8::2");

    ip.ext[0] = IPPROTO_HOPOPTS;
    ip.ext[1] = IPPROTO_ROUTING;
    ip.ext[2] = IPPROTO_DSTOPTS;
    ip.n_ext = 3;
    return ip;
}

static void
test_v6_orders(void)
{
    struct tpkt_ip ip = tpkt_ip("2001:db8::1", "2001:db8::2");

    reassemble_case(&ip, 0, 5000, "in");
    reassemble_case(&ip, 0, 5000, "out");
    reassemble_case(&ip, 0, 5000, "rev");
}

static void
test_v6_ext_headers(void)
{
    struct tpkt_ip ip = ip6_ext();

    /* Hop-by-hop and routing before the fragment header, destination
     * options after it; then everything before, then everything after. */
    reassemble_case(&ip, 2, 5000, "in");
    reassemble_case(&ip, 2, 5000, "rev");
    reassemble_case(&ip, 3, 5000, "out");
    reassemble_case(&ip, 0, 5000, "out");
}

/* An incomplete datagram expires 15 s after its first fragment, on 'now'
 * alone; it never reaches the tracker. */
static void
test_expiry(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *whole = tpkt_udp_big(&ip, 1, 2, 4000);
    struct dp_packet *frags[8];
    struct ctdp_ipf_dgram d;
    size_t n = tpkt_fragment(whole, 0, 1448, 7, frags, 8);

    CHECK_EQ(n, 3);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[0], 0, 1000, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[2], 0, 5000, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_expire(ipf, 1000 + CTDP_IPF_DEFAULT_TIMEOUT_MS - 1), 0);
    CHECK_EQ(status_of(ipf).nfrag, 2);
    CHECK_EQ(ctdp_ipf_expire(ipf, 1000 + CTDP_IPF_DEFAULT_TIMEOUT_MS), 2);
    CHECK_EQ(status_of(ipf).nfrag, 0);
    CHECK_EQ(status_of(ipf).memory, 0);
    CHECK_EQ(counter(ipf, CTDP_IPF_V4, CTDP_IPF_EXPIRED), 2);

    /* The missing fragment, late, starts a queue of its own... */
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[1], 0, 17000, &d), CTDP_IPF_HELD);
    /* ...which expires lazily, when the next fragment comes too late. */
    n = tpkt_fragment(whole, 0, 1448, 7, frags, 8);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[0], 0, 40000, &d), CTDP_IPF_HELD);
    CHECK_EQ(counter(ipf, CTDP_IPF_V4, CTDP_IPF_EXPIRED), 3);
    CHECK_EQ(status_of(ipf).nfrag, 1);
    free_frags(frags + 1, 2);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(whole);
}

/* Offers 'frag' and checks that it is dropped under 'why'. */
static void
check_dropped(struct ctdp_ipf *ipf, struct dp_packet *frag, bool v6,
              enum ctdp_ipf_counter why, long long now)
{
    uint64_t before = counter(ipf, v6, why);
    struct ctdp_ipf_dgram d;

    CHECK_EQ(ctdp_ipf_gather(ipf, frag, 0, now, &d), CTDP_IPF_DROPPED);
    CHECK_EQ(counter(ipf, v6, why), before + 1);
}

/* As the kernel's inet_frag_queue_insert() (RFC 5722, erratum 3089): a
 * fragment overlapping held data in part is dropped, and its datagram with
 * it; one whose data is all held already (an exact duplicate, or one
 * inside a run of held fragments) is dropped alone. */
static void
test_overlap(void)
{
    struct tpkt_ip ips[2] = { tpkt_ip("10.0.0.1", "10.0.0.2"),
                              tpkt_ip("2001:db8::1", "2001:db8::2") };

    for (int v = 0; v < 2; v++) {
        struct ctdp_ipf *ipf = ctdp_ipf_create();
        struct dp_packet *whole = tpkt_udp_big(&ips[v], 1, 2, 6000);
        struct ctdp_ipf_dgram d;

        CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 0, 1448, true, 9),
                                 0, 0, &d), CTDP_IPF_HELD);
        CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 2896, 1448, true,
                                                9), 0, 0, &d), CTDP_IPF_HELD);
        check_dropped(ipf, tpkt_frag(whole, 0, 1440, 1448, true, 9), v,
                      CTDP_IPF_OVERLAP, 0);
        CHECK_EQ(counter(ipf, v, CTDP_IPF_DISCARDED), 2);
        CHECK_EQ(status_of(ipf).n_queues, 0);

        /* Duplicates: the same fragment, then one inside the run of the
         * two held fragments [0, 2896). */
        CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 0, 1448, true,
                                                10), 0, 0, &d), CTDP_IPF_HELD);
        CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 1448, 1448, true,
                                                10), 0, 0, &d), CTDP_IPF_HELD);
        check_dropped(ipf, tpkt_frag(whole, 0, 0, 1448, true, 10), v,
                      CTDP_IPF_DUPLICATE, 0);
        check_dropped(ipf, tpkt_frag(whole, 0, 720, 1448, true, 10), v,
                      CTDP_IPF_DUPLICATE, 0);
        CHECK_EQ(status_of(ipf).nfrag, 2);
        /* Past the run's end, it overlaps in part. */
        check_dropped(ipf, tpkt_frag(whole, 0, 2000, 1448, true, 10), v,
                      CTDP_IPF_OVERLAP, 0);
        CHECK_EQ(status_of(ipf).nfrag, 0);
        check_balance(ipf);
        ctdp_ipf_destroy(ipf);
        dp_packet_delete(whole);
    }
}

/* A fragment with a wrong IPv4 header checksum is refused, as IP input
 * refuses it before the kernel's defrag hook; an IPv6 fragment after the
 * first may name another next header (RFC 8200 4.5): the first's counts. */
static void
test_header_checks(void)
{
    struct tpkt_ip ip4 = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ip6 = tpkt_ip("2001:db8::1", "2001:db8::2");
    struct dp_packet *whole4 = tpkt_udp_big(&ip4, 1, 2, 3000);
    struct dp_packet *whole6 = tpkt_udp_big(&ip6, 1, 2, 3000);
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *frag, *frags[4];
    struct ctdp_ipf_dgram d;
    size_t n;

    frag = tpkt_frag(whole4, 0, 0, 1448, true, 5);
    ((uint8_t *) dp_packet_data(frag))[TPKT_L3_OFS + 8] ^= 1;     /* TTL. */
    check_dropped(ipf, frag, false, CTDP_IPF_MALFORMED, 0);
    CHECK_EQ(status_of(ipf).nfrag, 0);

    n = tpkt_fragment(whole6, 0, 1448, 6, frags, 4);
    CHECK_EQ(n, 3);
    /* The fragment header follows the fixed header: its first byte. */
    ((uint8_t *) dp_packet_data(frags[2]))[TPKT_L3_OFS + IPV6_HEADER_LEN]
        = IPPROTO_TCP;
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[2], 0, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[0], 0, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[1], 0, 0, &d), CTDP_IPF_COMPLETE);
    CHECK_EQ(d.n_frags, 3);
    dgram_free(&d);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(whole4);
    dp_packet_delete(whole6);
}

/* The first fragment must hold the L4 header (RFC 1858, RFC 7112): a TCP
 * header cut at 8 bytes, and an IPv6 header chain cut inside the
 * extension headers after the fragment header. */
static void
test_first_too_short(void)
{
    struct tpkt_ip ip4 = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ip6 = ip6_ext();
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *tcp = tpkt_tcp_seg(&ip4, 1, 2, TCP_ACK, 1, 1, 100,
                                         NULL, 0, 1400);
    struct dp_packet *udp6 = tpkt_udp_big(&ip6, 1, 2, 3000);

    check_dropped(ipf, tpkt_frag(tcp, 0, 0, 8, true, 1), false,
                  CTDP_IPF_TOO_SHORT, 0);
    /* Two extension headers after the fragment header, 8 bytes held. */
    check_dropped(ipf, tpkt_frag(udp6, 1, 0, 8, true, 1), true,
                  CTDP_IPF_TOO_SHORT, 0);
    /* All three there, but not the UDP header. */
    check_dropped(ipf, tpkt_frag(udp6, 0, 0, 24, true, 1), true,
                  CTDP_IPF_TOO_SHORT, 0);
    CHECK_EQ(status_of(ipf).nfrag, 0);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(tcp);
    dp_packet_delete(udp6);
}

/* A fragment other than the last below the minimum size; a fragment
 * whose data is not a multiple of 8 bytes. */
static void
test_too_small_and_malformed(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *whole = tpkt_udp_big(&ip, 1, 2, 3000);
    struct ctdp_ipf_dgram d;

    check_dropped(ipf, tpkt_frag(whole, 0, 0, 1000, true, 1), false,
                  CTDP_IPF_TOO_SMALL, 0);
    check_dropped(ipf, tpkt_frag(whole, 0, 1448, 1444, true, 1), false,
                  CTDP_IPF_MALFORMED, 0);
    /* With the minimum lowered, the small one is accepted. */
    CHECK_EQ(ctdp_ipf_set_min_frag(ipf, CTDP_IPF_V4, 399), EINVAL);
    CHECK_EQ(status_of(ipf).min_frag[CTDP_IPF_V4], 1200);
    CHECK_EQ(ctdp_ipf_set_min_frag(ipf, CTDP_IPF_V4, 400), 0);
    CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 0, 1000, true, 1),
                             0, 0, &d), CTDP_IPF_HELD);
    /* The last fragment may be small. */
    CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 1000, 2008, false, 1),
                             0, 0, &d), CTDP_IPF_COMPLETE);
    CHECK_EQ(d.n_frags, 2);
    dgram_free(&d);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(whole);
}

/* A datagram past 65535 bytes is dropped, with what was held of it. */
static void
test_oversize(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ip6 = tpkt_ip("2001:db8::1", "2001:db8::2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *whole = tpkt_udp_big(&ip, 1, 2, 3000);
    struct dp_packet *whole6 = tpkt_udp_big(&ip6, 1, 2, 3000);
    struct dp_packet *last;
    struct ctdp_ipf_dgram d;
    uint8_t *fh;

    CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 0, 1448, true, 5), 0,
                             0, &d), CTDP_IPF_HELD);
    /* Offset 65528 with 16 bytes: past 65535 with the 20-byte header. */
    last = tpkt_frag(whole, 0, 0, 16, false, 5);
    tpkt_set_ip4_frag(last, false, 8191);
    check_dropped(ipf, last, false, CTDP_IPF_OVERSIZE, 0);
    CHECK_EQ(counter(ipf, CTDP_IPF_V4, CTDP_IPF_DISCARDED), 1);

    last = tpkt_frag(whole6, 0, 0, 16, false, 5);
    fh = (uint8_t *) dp_packet_data(last) + TPKT_L3_OFS + IPV6_HEADER_LEN;
    fh[2] = 0xff;
    fh[3] = 0xf8;                       /* Offset 65528. */
    check_dropped(ipf, last, true, CTDP_IPF_OVERSIZE, 0);
    CHECK_EQ(status_of(ipf).nfrag, 0);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(whole);
    dp_packet_delete(whole6);
}

/* A second last fragment is dropped alone; the datagram still completes.
 * A last fragment ending elsewhere, or an empty one, condemns the
 * datagram, as the kernel's ip_frag_queue() does. */
static void
test_duplicate_last(void)
{
    struct tpkt_ip ip = tpkt_ip("2001:db8::1", "2001:db8::2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *whole = tpkt_udp_big(&ip, 1, 2, 3000);
    struct dp_packet *frags[4];
    struct ctdp_ipf_dgram d;
    size_t n = tpkt_fragment(whole, 0, 1448, 77, frags, 4);

    CHECK_EQ(n, 3);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[2], 0, 0, &d), CTDP_IPF_HELD);
    check_dropped(ipf, tpkt_frag(whole, 0, 2896, 3008 - 2896, false, 77),
                  true, CTDP_IPF_DUP_LAST, 0);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[0], 0, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[1], 0, 0, &d), CTDP_IPF_COMPLETE);
    check_dgram(&d, whole, frags, n);
    dgram_free(&d);

    CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 2896, 3008 - 2896,
                                            false, 78), 0, 0, &d),
             CTDP_IPF_HELD);
    check_dropped(ipf, tpkt_frag(whole, 0, 2896, 16, false, 78), true,
                  CTDP_IPF_MALFORMED, 0);
    CHECK_EQ(status_of(ipf).n_queues, 0);
    CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 0, 1448, true, 79),
                             0, 0, &d), CTDP_IPF_HELD);
    check_dropped(ipf, tpkt_frag(whole, 0, 1448, 0, false, 79), true,
                  CTDP_IPF_MALFORMED, 0);
    CHECK_EQ(status_of(ipf).n_queues, 0);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(whole);
}

/* More fragments than a datagram may have: it is dropped. */
static void
test_too_many(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *whole = tpkt_udp_big(&ip, 1, 2, 5000);
    struct dp_packet *frags[8];
    struct ctdp_ipf_dgram d;
    size_t n = tpkt_fragment(whole, 0, 1448, 3, frags, 8);

    CHECK_EQ(n, 4);
    CHECK_EQ(ctdp_ipf_set_max_dgram_frags(ipf, 0), EINVAL);
    CHECK_EQ(ctdp_ipf_set_max_dgram_frags(ipf, 2), 0);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[0], 0, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, frags[1], 0, 0, &d), CTDP_IPF_HELD);
    check_dropped(ipf, frags[2], false, CTDP_IPF_TOO_MANY, 0);
    CHECK_EQ(counter(ipf, CTDP_IPF_V4, CTDP_IPF_DISCARDED), 2);
    CHECK_EQ(status_of(ipf).nfrag, 0);
    dp_packet_delete(frags[3]);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(whole);
}

/* Fragments of the same id, addresses and protocol in two zones are two
 * datagrams. */
static void
test_zones(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *a = tpkt_udp_big(&ip, 1, 2, 3000);
    struct dp_packet *b = tpkt_udp_big(&ip, 1, 2, 3000);
    struct dp_packet *fa[4], *fb[4];
    struct ctdp_ipf_dgram d;

    /* Different contents, so a mix-up shows. */
    ((uint8_t *) dp_packet_data(b))[dp_packet_size(b) - 1] ^= 0xff;
    CHECK_EQ(tpkt_fragment(a, 0, 1448, 42, fa, 4), 3);
    CHECK_EQ(tpkt_fragment(b, 0, 1448, 42, fb, 4), 3);
    CHECK_EQ(ctdp_ipf_gather(ipf, fa[0], 1, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, fb[2], 2, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, fb[0], 2, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(ctdp_ipf_gather(ipf, fa[2], 1, 0, &d), CTDP_IPF_HELD);
    CHECK_EQ(status_of(ipf).n_queues, 2);
    CHECK_EQ(ctdp_ipf_gather(ipf, fb[1], 2, 0, &d), CTDP_IPF_COMPLETE);
    check_dgram(&d, b, fb, 3);
    dgram_free(&d);
    CHECK_EQ(ctdp_ipf_gather(ipf, fa[1], 1, 0, &d), CTDP_IPF_COMPLETE);
    check_dgram(&d, a, fa, 3);
    dgram_free(&d);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(a);
    dp_packet_delete(b);
}

/* A flood of first fragments that never complete: memory stays under the
 * bound at every step (the oldest queues are evicted), the fragment
 * count under its own, and unfragmented traffic is tracked throughout; a
 * datagram sent in the middle of the flood still completes. */
static void
test_flood(void)
{
    enum { BOUND = 64 * 1024, N = 3000 };
    struct tpkt_ip ip = tpkt_ip("198.18.0.1", "198.18.0.2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct dp_packet *whole = tpkt_udp_big(&ip, 7, 7, 3000);
    struct ctdp_ipf_dgram d;
    size_t max_mem = 0, n_tracked = 0;
    bool all_held = true;

    CHECK_EQ(ctdp_ipf_set_max_memory(ipf, 0), EINVAL);
    CHECK_EQ(ctdp_ipf_set_max_memory(ipf, BOUND), 0);
    CHECK_EQ(ctdp_ipf_set_max_nfrags(ipf, 5001), EINVAL);
    CHECK_EQ(ctdp_ipf_set_max_nfrags(ipf, 5000), 0);
    for (uint32_t i = 0; i < N; i++) {
        struct dp_packet *f = tpkt_frag(whole, 0, 0, 1448, true, i);
        struct ctdp_ipf_status s;

        all_held &= ctdp_ipf_gather(ipf, f, 0, i, &d) == CTDP_IPF_HELD;
        s = status_of(ipf);
        max_mem = MAX(max_mem, s.memory);
        if (i % 100 == 0) {
            struct tpkt_ip other = tpkt_ip4(0xc6120100 + i / 100, 0xc6120002);
            struct dp_packet *pkt = tpkt_udp(&other, 5, 6, 100);

            CHECK_EQ(ctdp_ipf_gather(ipf, pkt, 0, i, &d),
                     CTDP_IPF_NOT_FRAGMENT);
            n_tracked += tpkt_ct1(ct, pkt, 0, true, i) == TRK_NEW;
        }
        if (i == N / 2) {
            struct dp_packet *frags[4];
            size_t order[3] = { 0, 1, 2 };

            CHECK_EQ(tpkt_fragment(whole, 0, 1448, 0xfff0, frags, 4), 3);
            if (gather_all(ipf, frags, order, 3, 0, i, &d)) {
                check_dgram(&d, whole, frags, 3);
                dgram_free(&d);
            }
        }
    }
    CHECK(all_held);
    CHECK(max_mem <= BOUND);
    CHECK(max_mem > BOUND / 2);
    CHECK(counter(ipf, CTDP_IPF_V4, CTDP_IPF_PURGED) > N / 2);
    CHECK_EQ(n_tracked, N / 100);
    CHECK_EQ(ctdp_ct_n_conns(ct), N / 100);
    check_balance(ipf);

    /* The fragment count bound evicts the same way. */
    CHECK_EQ(ctdp_ipf_set_max_memory(ipf, CTDP_IPF_DEFAULT_MAX_MEMORY), 0);
    CHECK_EQ(ctdp_ipf_set_max_nfrags(ipf, 10), 0);
    for (uint32_t i = 0; i < 100; i++) {
        ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 0, 1448, true, N + i), 0,
                        N, &d);
        CHECK(status_of(ipf).nfrag <= 10);
    }
    /* No room at all: the fragment is dropped and counted, and nothing is
     * evicted in vain. */
    CHECK_EQ(ctdp_ipf_set_max_nfrags(ipf, 0), 0);
    check_dropped(ipf, tpkt_frag(whole, 0, 0, 1448, true, 1), false,
                  CTDP_IPF_NO_ROOM, N);
    CHECK_EQ(status_of(ipf).nfrag, 10);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    tpkt_ct_destroy(ct);
    dp_packet_delete(whole);
}

/* With reassembly off for a version, its fragments pass as they are and
 * the tracker marks them invalid (its 'fragment' statistic); the other
 * version is unaffected. */
static void
test_disabled(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ip6 = tpkt_ip("2001:db8::1", "2001:db8::2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct dp_packet *whole = tpkt_udp_big(&ip, 1, 2, 3000);
    struct dp_packet *whole6 = tpkt_udp_big(&ip6, 1, 2, 3000);
    struct dp_packet *f = tpkt_frag(whole, 0, 0, 1448, true, 1);
    struct ctdp_ipf_dgram d;
    struct ctdp_ct_stats st;

    ctdp_ipf_set_enabled(ipf, CTDP_IPF_V4, false);
    CHECK(!status_of(ipf).enabled[CTDP_IPF_V4]);
    CHECK(status_of(ipf).enabled[CTDP_IPF_V6]);
    CHECK_EQ(ctdp_ipf_gather(ipf, f, 0, 0, &d), CTDP_IPF_NOT_FRAGMENT);
    CHECK_STATE(tpkt_ct1(ct, f, 0, true, 0), TRK_INV);
    ctdp_ct_get_stats(ct, &st);
    CHECK_EQ(st.fragment, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole6, 0, 0, 1448, true, 1), 0,
                             0, &d), CTDP_IPF_HELD);
    ctdp_ipf_set_enabled(ipf, CTDP_IPF_V4, true);
    CHECK_EQ(ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 0, 1448, true, 1), 0,
                             0, &d), CTDP_IPF_HELD);
    CHECK_EQ(status_of(ipf).n_queues, 2);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
    tpkt_ct_destroy(ct);
    dp_packet_delete(whole);
    dp_packet_delete(whole6);
}

/* A verbose status lists each pending queue with its key. */
static void
test_queue_list(void)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ip6 = tpkt_ip("2001:db8::1", "2001:db8::2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct dp_packet *whole = tpkt_udp_big(&ip, 1, 2, 3000);
    struct dp_packet *whole6 = tpkt_udp_big(&ip6, 1, 2, 3000);
    struct ctdp_ipf_queue_info *qs;
    struct ctdp_ipf_dgram d;
    size_t n;

    ctdp_ipf_gather(ipf, tpkt_frag(whole, 0, 2896, 112, false, 300), 4, 0,
                    &d);
    ctdp_ipf_gather(ipf, tpkt_frag(whole6, 0, 0, 1448, true, 70000), 5, 0,
                    &d);
    qs = ctdp_ipf_queues(ipf, &n);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_EQ(qs[0].version, CTDP_IPF_V4);
        CHECK_EQ(qs[0].id, 300);
        CHECK_EQ(qs[0].zone, 4);
        CHECK_EQ(qs[0].nw_proto, IPPROTO_UDP);
        CHECK(qs[0].last_in && !qs[0].first_in);
        CHECK_EQ(qs[0].expires, CTDP_IPF_DEFAULT_TIMEOUT_MS);
        CHECK_EQ(qs[1].version, CTDP_IPF_V6);
        CHECK_EQ(qs[1].id, 70000);
        CHECK(qs[1].first_in && !qs[1].last_in);
        CHECK_EQ(qs[1].n_frags, 1);
    }
    free(qs);
    ctdp_ipf_destroy(ipf);
    dp_packet_delete(whole);
    dp_packet_delete(whole6);
}

/* Threads gathering at once: each thread's datagrams (the same ids in
 * every thread, told apart by zone) all complete, whole and right, while
 * the others' interleave with them. */
struct gatherer {
    struct ctdp_ipf *ipf;
    struct dp_packet *whole;
    uint16_t zone;
    int n_ok;
};

static void *
gatherer_main(void *g_)
{
    struct gatherer *g = g_;

    for (uint32_t id = 0; id < 300; id++) {
        struct dp_packet *frags[4];
        size_t n = tpkt_fragment(g->whole, 0, 1448, id, frags, 4);
        struct ctdp_ipf_dgram d;
        bool ok = n == 3;

        for (size_t i = 0; ok && i < n; i++) {
            /* Last first, so that every datagram waits a little. */
            enum ctdp_ipf_result r = ctdp_ipf_gather(g->ipf,
                                                     frags[n - 1 - i],
                                                     g->zone, 0, &d);

            ok = r == (i + 1 < n ? CTDP_IPF_HELD : CTDP_IPF_COMPLETE);
        }
        if (ok) {
            const uint8_t *a, *b;
            size_t la = tpkt_ip_bytes(d.whole, &a);
            size_t lb = tpkt_ip_bytes(g->whole, &b);

            ok = d.n_frags == 3 && la == lb
                 && !memcmp(a + 20, b + 20, la - 20)
                 && d.whole->md.in_port.odp_port == u32_to_odp(g->zone);
            dgram_free(&d);
        }
        g->n_ok += ok;
    }
    return NULL;
}

static void
test_threads(void)
{
    enum { N = 4 };
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    struct gatherer g[N];
    pthread_t threads[N];

    for (int i = 0; i < N; i++) {
        g[i] = (struct gatherer) {
            .ipf = ipf, .whole = tpkt_udp_big(&ip, 1, 2, 3000 + 8 * i),
            .zone = i,
        };
        g[i].whole->md.in_port.odp_port = u32_to_odp(i);
        threads[i] = ovs_thread_create("ipf-gatherer", gatherer_main, &g[i]);
    }
    for (int i = 0; i < N; i++) {
        xpthread_join(threads[i], NULL);
        CHECK_EQ(g[i].n_ok, 300);
        dp_packet_delete(g[i].whole);
    }
    CHECK_EQ(status_of(ipf).nfrag, 0);
    CHECK_EQ(counter(ipf, CTDP_IPF_V4, CTDP_IPF_COMPLETED), N * 300 * 3);
    check_balance(ipf);
    ctdp_ipf_destroy(ipf);
}

const struct ctdp_unit_suite ct_ipf_suite = {
    "ct-ipf", (const struct ctdp_unit_case[]) {
        { "v4-in-order", test_v4_in_order },
        { "v4-out-of-order", test_v4_out_of_order },
        { "v4-reverse", test_v4_reverse },
        { "v4-large", test_v4_large },
        { "v6-orders", test_v6_orders },
        { "v6-ext-headers", test_v6_ext_headers },
        { "expiry", test_expiry },
        { "overlap", test_overlap },
        { "header-checks", test_header_checks },
        { "first-too-short", test_first_too_short },
        { "too-small-malformed", test_too_small_and_malformed },
        { "oversize", test_oversize },
        { "duplicate-last", test_duplicate_last },
        { "too-many", test_too_many },
        { "zones", test_zones },
        { "flood", test_flood },
        { "disabled", test_disabled },
        { "queue-list", test_queue_list },
        { "threads", test_threads },
        { NULL, NULL } } };
