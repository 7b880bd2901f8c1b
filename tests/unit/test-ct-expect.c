/* Expectations (ctdp-expect.c), driven by the TFTP helper, whose one
 * request makes one expectation: the related conn's first packet, the
 * limits (one per master, the table's, another master's clash), expiry,
 * the master's death, zones, and the mark the related conn inherits. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <string.h>
#include "dp-packet.h"
#include "packets.h"

#define T0 1000000

static struct ctdp_ct_stats
stats_of(const struct ctdp_ct *ct)
{
    struct ctdp_ct_stats s;

    ctdp_ct_get_stats(ct, &s);
    return s;
}

/* A UDP datagram from 'ip' with 'payload' (no checksum). */
static struct dp_packet *
udp_with(const struct tpkt_ip *ip, uint16_t sport, uint16_t dport,
         const void *payload, size_t n)
{
    uint8_t l4[64];

    ovs_assert(8 + n <= sizeof l4);
    l4[0] = sport >> 8;
    l4[1] = sport;
    l4[2] = dport >> 8;
    l4[3] = dport;
    l4[4] = (8 + n) >> 8;
    l4[5] = 8 + n;
    memcpy(l4 + 8, payload, n);
    return tpkt_l4(ip, IPPROTO_UDP, l4, 8 + n);
}

static const uint8_t RRQ[] = "\x00\x01" "file\0octet";
static const uint8_t DATA[] = "\x00\x03\x00\x01" "data";

/* The label request() gives a conn it marks: its mark in both words. */
static ovs_u128
label_of_mark(uint32_t mark)
{
    return (ovs_u128) { .u64 = { .lo = mark, .hi = mark } };
}

/* The client's read request from 'cport' to the server's port 'sport' in
 * 'zone', committed with alg=tftp, mark 'mark' and, if 'mark' is not 0,
 * label label_of_mark('mark').  Returns its state. */
static int
request(struct ctdp_ct *ct, const struct tpkt_ip *c2s, uint16_t cport,
        uint16_t sport, uint16_t zone, uint32_t mark, long long now)
{
    struct ctdp_ct_action a = tpkt_action(zone, true);

    a.helper = "tftp";
    a.set_mark = mark != 0;
    a.mark = mark;
    a.mark_mask = UINT32_MAX;
    a.set_label = mark != 0;
    a.label = label_of_mark(mark);
    a.label_mask = (ovs_u128) {
        .u64 = { .lo = UINT64_MAX, .hi = UINT64_MAX },
    };
    return tpkt_ct1_action(ct, udp_with(c2s, cport, sport, RRQ,
                                        sizeof RRQ - 1), &a, now);
}

/* The server's answer from port 'from' to the client's 'cport'; runs
 * ct(commit) if 'commit'.  Returns its state; '*mark' gets its ct_mark,
 * and its ct_label must be label_of_mark() of it. */
static int
answer(struct ctdp_ct *ct, const struct tpkt_ip *s2c, uint16_t from,
       uint16_t cport, uint16_t zone, bool commit, uint32_t *mark,
       long long now)
{
    struct ctdp_ct_action a = tpkt_action(zone, commit);
    struct dp_packet *pkt = udp_with(s2c, from, cport, DATA,
                                     sizeof DATA - 1);
    int state = tpkt_ct(ct, pkt, &a, now);

    if (state != TPKT_DROPPED) {
        if (mark) {
            ovs_u128 label = label_of_mark(pkt->md.ct_mark);

            *mark = pkt->md.ct_mark;
            CHECK(ovs_u128_equals(pkt->md.ct_label, label));
        }
        tpkt_free(ct, pkt);
    }
    return state;
}

static size_t
n_expects(struct ctdp_ct *ct, int zone, long long now)
{
    struct ctdp_ct_expect_entry *e;
    size_t n = ctdp_ct_expect_dump(ct, zone, now, &e);

    free(e);
    return n;
}

/* A read request expects the answer from any server port to the client's
 * port; the answer is +new+rel until committed, and its commit uses the
 * expectation up; the related conn has the master's mark and label, also
 * once confirmed. */
static void
test_expect_related_answer(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip s2c = tpkt_ip_swap(&c2s);
    struct ctdp_ct_expect_entry *e;
    uint32_t mark = 0;

    CHECK_STATE(request(ct, &c2s, 5000, 69, 0, 7, T0), TRK_NEW);
    CHECK_EQ(ctdp_ct_expect_dump(ct, -1, T0, &e), 1);
    CHECK_EQ(e[0].tuple.nw_proto, IPPROTO_UDP);
    CHECK_EQ(e[0].tuple.sport, 0);
    CHECK_EQ(ntohs(e[0].tuple.dport), 5000);
    CHECK(!memcmp(&e[0].tuple.src, &s2c.src, sizeof s2c.src));
    CHECK_EQ(ntohs(e[0].master.dport), 69);
    CHECK(!strcmp(e[0].helper, "tftp"));
    CHECK_EQ(e[0].expires, T0 + 300 * 1000);
    free(e);
    CHECK_EQ(stats_of(ct).expect_create, 1);

    /* Tracked only: related, and still expected. */
    CHECK_STATE(answer(ct, &s2c, 3333, 5000, 0, false, &mark, T0),
                TRK_NEW | CS_RELATED);
    CHECK_EQ(mark, 7);
    CHECK_EQ(n_expects(ct, -1, T0), 1);
    /* Committed: used up. */
    CHECK_STATE(answer(ct, &s2c, 3333, 5000, 0, true, NULL, T0),
                TRK_NEW | CS_RELATED);
    CHECK_EQ(n_expects(ct, -1, T0), 0);
    CHECK_EQ(stats_of(ct).expect_new, 1);
    CHECK_EQ(stats_of(ct).expect_delete, 1);
    /* Its next packet before a reply: related, no longer new. */
    mark = 0;
    CHECK_STATE(answer(ct, &s2c, 3333, 5000, 0, false, &mark, T0),
                TRK_REL);
    CHECK_EQ(mark, 7);
    tpkt_ct_destroy(ct);
}

/* Without a helper nothing is expected: the answer is a new conn. */
static void
test_expect_needs_helper(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip s2c = tpkt_ip_swap(&c2s);

    CHECK_STATE(tpkt_ct1(ct, udp_with(&c2s, 5000, 69, RRQ, sizeof RRQ - 1),
                         0, true, T0), TRK_NEW);
    CHECK_EQ(ctdp_ct_n_expects(ct), 0);
    CHECK_STATE(answer(ct, &s2c, 3333, 5000, 0, false, NULL, T0), TRK_NEW);
    tpkt_ct_destroy(ct);
}

/* One live expectation per master (the helper's max_expected): a second
 * request on the same conn renews the same one. */
static void
test_expect_one_per_master(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");

    request(ct, &c2s, 5000, 69, 0, 0, T0);
    request(ct, &c2s, 5000, 69, 0, 0, T0 + 1000);
    CHECK_EQ(n_expects(ct, -1, T0 + 1000), 1);
    CHECK_EQ(stats_of(ct).expect_create, 2);
    CHECK_EQ(stats_of(ct).expect_delete, 1);
    tpkt_ct_destroy(ct);
}

/* Another master's expectation of the same conn refuses a new one: the
 * request is dropped and counted. */
static void
test_expect_clash_between_masters(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");

    CHECK_STATE(request(ct, &c2s, 5000, 69, 0, 0, T0), TRK_NEW);
    /* The same client port to another server port: the same answer. */
    CHECK_EQ(request(ct, &c2s, 5000, 1069, 0, 0, T0), TPKT_DROPPED);
    CHECK_EQ(stats_of(ct).helper_drop, 1);
    CHECK_EQ(n_expects(ct, -1, T0), 1);
    tpkt_ct_destroy(ct);
}

/* The table's limit (nf_conntrack_expect_max). */
static void
test_expect_table_limit(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");

    CHECK_EQ(ctdp_ct_get_expect_max(ct), 4096);
    ctdp_ct_set_expect_max(ct, 2);
    CHECK_STATE(request(ct, &c2s, 5000, 69, 0, 0, T0), TRK_NEW);
    CHECK_STATE(request(ct, &c2s, 5001, 69, 0, 0, T0), TRK_NEW);
    CHECK_EQ(request(ct, &c2s, 5002, 69, 0, 0, T0), TPKT_DROPPED);
    CHECK_EQ(ctdp_ct_n_expects(ct), 2);
    CHECK_EQ(stats_of(ct).helper_drop, 1);
    tpkt_ct_destroy(ct);
}

/* An expectation lasts 300 s: after, the sweep removes it and the answer
 * is a new conn. */
static void
test_expect_expires(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip s2c = tpkt_ip_swap(&c2s);
    long long later = T0 + 300 * 1000;
    struct ctdp_timeout_policy tp;

    /* The master outlives its expectation. */
    ctdp_timeout_policy_init(&tp);
    tp.secs[CTDP_TM_UDP_UNREPLIED] = 1000;
    ctdp_ct_set_timeout_policy(ct, 0, &tp);
    request(ct, &c2s, 5000, 69, 0, 0, T0);
    CHECK_EQ(n_expects(ct, -1, later - 1), 1);
    CHECK_EQ(n_expects(ct, -1, later), 0);
    CHECK_STATE(answer(ct, &s2c, 3333, 5000, 0, false, NULL, later),
                TRK_NEW);
    ctdp_ct_sweep(ct, later, 100);
    CHECK_EQ(ctdp_ct_n_expects(ct), 0);
    CHECK_EQ(stats_of(ct).expect_delete, 1);
    tpkt_ct_destroy(ct);
}

/* Removing the master removes its expectations. */
static void
test_expect_goes_with_master(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ct_flush_filter f;

    request(ct, &c2s, 5000, 69, 0, 0, T0);
    CHECK_EQ(ctdp_ct_n_expects(ct), 1);
    ctdp_ct_flush_filter_init(&f);
    CHECK_EQ(ctdp_ct_flush(ct, &f, T0), 1);
    CHECK_EQ(ctdp_ct_n_expects(ct), 0);
    tpkt_ct_destroy(ct);
}

/* An expectation lives in its master's zone: an answer in another zone is
 * not related; flush-conntrack-exp of a zone removes only that zone's. */
static void
test_expect_zones(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip c2s = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip s2c = tpkt_ip_swap(&c2s);

    request(ct, &c2s, 5000, 69, 3, 0, T0);
    request(ct, &c2s, 5000, 69, 4, 0, T0);
    CHECK_EQ(n_expects(ct, 3, T0), 1);
    CHECK_STATE(answer(ct, &s2c, 3333, 5000, 5, false, NULL, T0), TRK_NEW);
    CHECK_STATE(answer(ct, &s2c, 3333, 5000, 4, false, NULL, T0),
                TRK_NEW | CS_RELATED);
    CHECK_EQ(ctdp_ct_expect_flush(ct, 3, T0), 1);
    CHECK_EQ(n_expects(ct, -1, T0), 1);
    CHECK_EQ(n_expects(ct, 4, T0), 1);
    tpkt_ct_destroy(ct);
}

const struct ctdp_unit_suite ct_expect_suite = {
    "ct-expect", (const struct ctdp_unit_case[]) {
        { "related-answer", test_expect_related_answer },
        { "needs-helper", test_expect_needs_helper },
        { "one-per-master", test_expect_one_per_master },
        { "clash-between-masters", test_expect_clash_between_masters },
        { "table-limit", test_expect_table_limit },
        { "expires", test_expect_expires },
        { "goes-with-master", test_expect_goes_with_master },
        { "zones", test_expect_zones },
        { NULL, NULL },
    },
};
