/* What bounds the table: clashes at confirm, the conn limit with early
 * drop, chain length, per-zone limits, and per-zone timeout policies. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-ct-private.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <malloc.h>
#include <string.h>
#include "dp-packet.h"
#include "ovs-thread.h"
#include "packets.h"

static struct ctdp_ct_stats
stats_of(const struct ctdp_ct *ct)
{
    struct ctdp_ct_stats s;

    ctdp_ct_get_stats(ct, &s);
    return s;
}

static uint32_t
constant_hash(const struct ctdp_tuple *t OVS_UNUSED)
{
    return 0x5eed;
}

/* Returns true if a dump at 'now' has the UDP conn 'ip':sport -> dport in
 * 'zone'. */
static bool
has_udp(struct ctdp_ct *ct, const struct tpkt_ip *ip, uint16_t sport,
        uint16_t dport, uint16_t zone, struct ctdp_ct_entry *entry,
        long long now)
{
    struct ctdp_ct_entry dummy;
    struct ctdp_tuple t;

    tpkt_tuple(&t, ip, IPPROTO_UDP, sport, dport, zone);
    return tpkt_find(ct, &t, now, entry ? entry : &dummy);
}

/* A refused commit either takes the packet out of the batch or marks it
 * invalid; both are accepted.  Frees 'pkt' if it is still the test's. */
static bool
refused(struct ctdp_ct *ct, struct dp_packet *pkt,
        const struct ctdp_ct_action *action, long long now)
{
    int state = tpkt_ct(ct, pkt, action, now);

    if (state == TPKT_DROPPED) {
        return true;
    }
    tpkt_free(ct, pkt);
    return state & CS_INVALID;
}

static bool
udp_refused(struct ctdp_ct *ct, const struct tpkt_ip *ip, uint16_t sport,
            uint16_t zone, long long now)
{
    struct ctdp_ct_action commit = tpkt_action(zone, true);

    return refused(ct, tpkt_udp(ip, sport, 53, 0), &commit, now);
}


/* Two packets of one new UDP flow tracked before either is committed: the
 * second commit finds the first's conn and is attached to it (the kernel's
 * clash resolution), with one conn left, its counters merged, no drop. */
static void
test_clash_udp_resolved(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct dp_packet *p1 = tpkt_udp(&ab, 1000, 53, 0);
    struct dp_packet *p2 = tpkt_udp(&ab, 1000, 53, 0);
    struct ctdp_ct_action look = tpkt_action(0, false);
    struct ctdp_ct_action commit = tpkt_action(0, true);
    struct ctdp_ct_entry e;
    struct ctdp_ct_stats s;

    CHECK_STATE(tpkt_ct(ct, p1, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p2, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p1, &commit, 10), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p2, &commit, 10), TRK_NEW);
    s = stats_of(ct);
    CHECK_EQ(s.clash_resolve, 1);
    CHECK_EQ(s.insert, 1);
    CHECK_EQ(s.drop, 0);
    CHECK_EQ(s.insert_failed, 0);
    tpkt_free(ct, p1);
    tpkt_free(ct, p2);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_EQ(tpkt_dump(ct, -1, 20, &e, 1), 1);
    /* As the kernel's nf_ct_acct_merge(): the loser's packet counts. */
    CHECK_EQ(e.packets[CTDP_DIR_ORIG], 2);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 20), TRK_EST_RPL);
    tpkt_ct_destroy(ct);
}

/* ICMP may not clash: the second commit of the same new echo flow fails,
 * counted in insert_failed and drop, and the first conn stays alone. */
static void
test_clash_icmp_dropped(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct dp_packet *p1 = tpkt_echo(&ab, false, 5, 1);
    struct dp_packet *p2 = tpkt_echo(&ab, false, 5, 1);
    struct ctdp_ct_action look = tpkt_action(0, false);
    struct ctdp_ct_action commit = tpkt_action(0, true);
    struct ctdp_ct_stats s;

    CHECK_STATE(tpkt_ct(ct, p1, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p2, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p1, &commit, 10), TRK_NEW);
    tpkt_free(ct, p1);
    CHECK(refused(ct, p2, &commit, 10));
    s = stats_of(ct);
    CHECK_EQ(s.insert_failed, 1);
    CHECK_EQ(s.drop, 1);
    CHECK_EQ(s.clash_resolve, 0);
    CHECK_EQ(s.insert, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_EQ(tpkt_dump(ct, -1, 10, NULL, 0), 1);
    tpkt_ct_destroy(ct);
}

/* With the table full of unassured conns, a commit evicts one of them
 * (early drop, reported as DESTROY) and succeeds; once every conn is
 * ASSURED, a commit is dropped and the established conns keep working.
 * Every conn shares one chain, so that early drop's search always sees
 * them all. */
static void
test_max_conns_early_drop(void)
{
    struct ctdp_ct_params params = { .n_buckets = 1, .hash = constant_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct ctdp_ct_listener *l;
    struct ctdp_ct_event ev[4];
    struct ctdp_ct_entry e;
    uint64_t lost;
    uint16_t keep;

    ctdp_ct_set_max_conns(ct, 2);
    CHECK_EQ(ctdp_ct_get_max_conns(ct), 2);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1001, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1002, 53, 0, true, 0), TRK_NEW);
    l = ctdp_ct_listen(ct, 4, -1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 0, true, 100), TRK_NEW);
    CHECK_EQ(stats_of(ct).early_drop, 1);
    CHECK_EQ(ctdp_ct_listener_poll(l, ev, 4, &lost), 2);
    CHECK((ev[0].type == CTDP_EVENT_DESTROY && ev[0].time == 100)
          != (ev[1].type == CTDP_EVENT_DESTROY && ev[1].time == 100));
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    CHECK(has_udp(ct, &ab, 1003, 53, 0, NULL, 100));
    CHECK(has_udp(ct, &ab, 1001, 53, 0, NULL, 100)
          != has_udp(ct, &ab, 1002, 53, 0, NULL, 100));
    keep = has_udp(ct, &ab, 1001, 53, 0, NULL, 100) ? 1001 : 1002;

    /* Assure both: a reply, then a packet more than 2 s later. */
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, keep, 0, false, 200), TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1003, 0, false, 200), TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, keep, 53, 0, false, 3000), TRK_EST);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 0, false, 3000), TRK_EST);
    CHECK(has_udp(ct, &ab, keep, 53, 0, &e, 3000)
          && e.status & CTDP_S_ASSURED);
    CHECK(has_udp(ct, &ab, 1003, 53, 0, &e, 3000)
          && e.status & CTDP_S_ASSURED);

    CHECK(udp_refused(ct, &ab, 1004, 0, 3100));
    CHECK_EQ(stats_of(ct).drop, 1);
    CHECK_EQ(stats_of(ct).early_drop, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    CHECK(!has_udp(ct, &ab, 1004, 53, 0, NULL, 3100));
    /* Tracking without commit needs no room. */
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1005, 53, 0, false, 3150), TRK_NEW);
    CHECK_EQ(stats_of(ct).drop, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, keep, 53, 0, false, 3200), TRK_EST);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1003, 0, false, 3200), TRK_EST_RPL);
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* The most conns any confirm of a credit test saw counted. */
static uint32_t credit_seen;
static struct ctdp_ct *credit_ct;

static void
note_count(enum ctdp_test_point point)
{
    if (point == CTDP_TEST_CONFIRMED && credit_ct) {
        credit_seen = MAX(credit_seen, ctdp_ct_n_conns(credit_ct));
    }
}

/* A call counts its new conns against max_conns 32 at a time while the
 * table is far from full, and gives back what it did not use: between
 * calls the count is exact, within one it never passes the limit, and
 * near the limit (here from 808 conns below it) conns are counted one by
 * one, so the table fills to the limit exactly and then early-drops. */
static void
test_max_conns_batches(void)
{
    struct ctdp_ct_params params = { .max_conns = 9000,
                                     .test_delay = note_count };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    uint32_t count, n = 0;
    size_t dropped = 0;
    bool has_own;

    credit_ct = ct;
    credit_seen = 0;
    for (uint32_t i = 0; i < 9000 + 64; i += 32) {
        dropped += tpkt_udp_batch(ct, 0x0a000000, i, 32, 0, true, 0);
        n = MIN(i + 32, 9000);
        CHECK_EQ(ctdp_ct_n_conns(ct), n);
        ctdp_ct_get_zone_limit(ct, 0, &count, &has_own);
        CHECK_EQ(count, n);
    }
    CHECK_EQ(credit_seen, 9000);
    /* 9000 + 64 rounded up to whole batches: 9024 + 64 - 9000 more. */
    CHECK_EQ(stats_of(ct).early_drop + dropped, 9024 + 64 - 9000);
    credit_ct = NULL;
    tpkt_ct_destroy(ct);
}

/* The tracker whose next bulk count fills the table to one below its
 * limit, from inside it (a nested call, as other threads' confirms). */
static struct ctdp_ct *fill_in_reserve;

static void
fill_before_add(enum ctdp_test_point point)
{
    struct ctdp_ct *ct = fill_in_reserve;

    if (point == CTDP_TEST_RESERVE && ct) {
        fill_in_reserve = NULL;
        for (uint32_t i = 0; i < 9000 - 1; i += 32) {
            CHECK_EQ(tpkt_udp_batch(ct, 0x0b000000, i,
                                    MIN(32, 9000 - 1 - i), 0, true, 0), 0);
        }
    }
}

/* A call that saw room for 32 conns while others filled the table to one
 * below the limit counts its conn alone, and it fits: the table fills to
 * the limit exactly, without an early drop.  Before the fix the count it
 * went by was one too high, and it evicted a conn it had room for. */
static void
test_max_conns_filled_meanwhile(void)
{
    struct ctdp_ct_params params = { .max_conns = 9000,
                                     .test_delay = fill_before_add };
    struct ctdp_ct *ct = ctdp_ct_create(&params);

    fill_in_reserve = ct;
    CHECK_EQ(tpkt_udp_batch(ct, 0x0a000000, 0, 1, 0, true, 0), 0);
    CHECK(!fill_in_reserve);
    CHECK_EQ(ctdp_ct_n_conns(ct), 9000);
    CHECK_EQ(stats_of(ct).early_drop, 0);
    tpkt_ct_destroy(ct);
}

/* ---- Early drop across buckets ----------------------------------------- */

/* Early drop looks at the 8 buckets from the new conn's own (the kernel's
 * NF_CT_EVICTION_RANGE, wrapping at the table's end) for a conn that is
 * expired, not ASSURED, or TCP and closing.  placed_hash() lets a test
 * choose buckets: A's port P >= PLACED_BASE puts a conn's original node in
 * bucket P - PLACED_BASE, and its reply node PLACED_REPLY buckets further
 * on, away from every bucket the tests search.  The table has the
 * fewest buckets and never grows here (a few conns). */
#define PLACED_BASE 10000
#define PLACED_REPLY 512
#define PLACED_BUCKETS CTDP_MIN_BUCKETS

static uint32_t
placed_hash(const struct ctdp_tuple *t)
{
    uint16_t sport = ntohs(t->sport), dport = ntohs(t->dport);

    return sport >= PLACED_BASE ? sport - PLACED_BASE
                                : PLACED_REPLY + dport - PLACED_BASE;
}

static struct ctdp_ct *
placed_ct(uint32_t max_conns)
{
    struct ctdp_ct_params params = {
        .max_conns = max_conns,
        .n_buckets = PLACED_BUCKETS,
        .hash = placed_hash,
    };

    return ctdp_ct_create(&params);
}

/* Every conn of these tests is between A and B. */
#define PLACED_A "10.0.0.1"
#define PLACED_B "10.0.0.2"

static bool
has_placed_udp(struct ctdp_ct *ct, uint32_t bucket, uint16_t dport,
               long long now)
{
    struct tpkt_ip ab = tpkt_ip(PLACED_A, PLACED_B);

    return has_udp(ct, &ab, PLACED_BASE + bucket, dport, 0, NULL, now);
}

/* Commits an unassured UDP conn from A's port for 'bucket' to B's 'dport'
 * at 'now'. */
static void
placed_udp(struct ctdp_ct *ct, uint32_t bucket, uint16_t dport,
           long long now)
{
    struct tpkt_ip ab = tpkt_ip(PLACED_A, PLACED_B);

    CHECK_STATE(tpkt_udp_ct(ct, &ab, PLACED_BASE + bucket, dport, 0, true,
                            now), TRK_NEW);
}

/* A UDP conn in 'bucket' made at 't0' and ASSURED at t0 + 2.5 s (a reply,
 * then a packet after 2 s): it expires at t0 + 122.5 s. */
static void
placed_assured_udp(struct ctdp_ct *ct, uint32_t bucket, long long t0)
{
    struct tpkt_ip ab = tpkt_ip(PLACED_A, PLACED_B);
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    uint16_t port = PLACED_BASE + bucket;
    struct ctdp_ct_entry e;

    placed_udp(ct, bucket, 53, t0);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, port, 0, true, t0 + 100),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, port, 53, 0, true, t0 + 2500),
                TRK_EST);
    CHECK(has_udp(ct, &ab, port, 53, 0, &e, t0 + 2500)
          && e.status & CTDP_S_ASSURED && e.expires == t0 + 122500);
}

/* The packets that take an assured TCP conn from ESTABLISHED to each of
 * the states in which the kernel's tcp_can_early_drop() lets it go. */
static const struct {
    const char *state;
    int n;
    struct { bool reply; uint8_t flags; uint32_t seq, ack; } pkts[3];
} closing_paths[] = {
    { "FIN_WAIT", 1, { { false, TCP_FIN | TCP_ACK, 1001, 5001 } } },
    { "CLOSE_WAIT", 2, { { false, TCP_FIN | TCP_ACK, 1001, 5001 },
                         { true, TCP_ACK, 5001, 1002 } } },
    { "LAST_ACK", 3, { { false, TCP_FIN | TCP_ACK, 1001, 5001 },
                       { true, TCP_ACK, 5001, 1002 },
                       { true, TCP_FIN | TCP_ACK, 5001, 1002 } } },
    { "TIME_WAIT", 3, { { false, TCP_FIN | TCP_ACK, 1001, 5001 },
                        { true, TCP_FIN | TCP_ACK, 5001, 1002 },
                        { false, TCP_ACK, 1002, 5002 } } },
    { "CLOSE", 1, { { false, TCP_RST, 1001, 0 } } },
};

static void
placed_tcp_seg(struct ctdp_ct *ct, uint32_t bucket, bool reply,
               uint8_t flags, uint32_t seq, uint32_t ack, long long now)
{
    struct tpkt_ip ab = tpkt_ip(PLACED_A, PLACED_B);
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    uint16_t port = PLACED_BASE + bucket;
    struct dp_packet *pkt
        = reply ? tpkt_tcp_seg(&ba, 80, port, flags, seq, ack, 65535, NULL,
                               0, 0)
                : tpkt_tcp_seg(&ab, port, 80, flags, seq, ack, 65535, NULL,
                               0, 0);

    CHECK(!(tpkt_ct1(ct, pkt, 0, true, now) & CS_INVALID));
}

/* An ASSURED TCP conn in 'bucket' (a handshake at 'now'), then taken to
 * closing_paths[path]'s state, or left ESTABLISHED if 'path' is -1. */
static void
placed_tcp(struct ctdp_ct *ct, uint32_t bucket, int path, long long now)
{
    const char *want = path < 0 ? "ESTABLISHED" : closing_paths[path].state;
    struct ctdp_ct_entry e;
    struct ctdp_tuple t;

    placed_tcp_seg(ct, bucket, false, TCP_SYN, 1000, 0, now);
    placed_tcp_seg(ct, bucket, true, TCP_SYN | TCP_ACK, 5000, 1001, now);
    placed_tcp_seg(ct, bucket, false, TCP_ACK, 1001, 5001, now);
    for (int i = 0; path >= 0 && i < closing_paths[path].n; i++) {
        placed_tcp_seg(ct, bucket, closing_paths[path].pkts[i].reply,
                       closing_paths[path].pkts[i].flags,
                       closing_paths[path].pkts[i].seq,
                       closing_paths[path].pkts[i].ack, now);
    }
    struct tpkt_ip ab = tpkt_ip(PLACED_A, PLACED_B);

    tpkt_tuple(&t, &ab, IPPROTO_TCP, PLACED_BASE + bucket, 80, 0);
    CHECK(tpkt_find(ct, &t, now, &e) && e.status & CTDP_S_ASSURED
          && e.l4_state && !strcmp(e.l4_state, want));
}

static bool
has_placed_tcp(struct ctdp_ct *ct, uint32_t bucket, long long now)
{
    struct ctdp_ct_entry e;
    struct ctdp_tuple t;

    struct tpkt_ip ab = tpkt_ip(PLACED_A, PLACED_B);

    tpkt_tuple(&t, &ab, IPPROTO_TCP, PLACED_BASE + bucket, 80, 0);
    return tpkt_find(ct, &t, now, &e);
}

/* Whether a commit of A's UDP 'sport' -> 'dport' in zone 0 is refused. */
static bool
placed_refused(struct ctdp_ct *ct, uint16_t sport, uint16_t dport,
               long long now)
{
    struct ctdp_ct_action commit = tpkt_action(0, true);
    struct tpkt_ip ab = tpkt_ip(PLACED_A, PLACED_B);

    return refused(ct, tpkt_udp(&ab, sport, dport, 0), &commit, now);
}

/* Commits a new UDP conn in 'bucket' to B's port 54 at 'now' on a full
 * table; true if it got in by early drop, false if it was refused.
 * Checks the counters and the conn count either way. */
static bool
placed_commit(struct ctdp_ct *ct, uint32_t bucket, long long now)
{
    struct ctdp_ct_stats before = stats_of(ct), after;
    uint32_t n = ctdp_ct_n_conns(ct);
    bool in;

    in = !placed_refused(ct, PLACED_BASE + bucket, 54, now);
    after = stats_of(ct);
    CHECK_EQ(after.early_drop - before.early_drop, in);
    CHECK_EQ(after.drop - before.drop, !in);
    CHECK_EQ(ctdp_ct_n_conns(ct), n);
    CHECK_EQ(has_placed_udp(ct, bucket, 54, now), in);
    return in;
}

/* An unassured conn 0 to 7 buckets after the new conn's is evicted; one 8
 * buckets after, or one bucket before, is not, and the commit is
 * refused.  The other conn (assured, far away) stays either way. */
static void
test_early_drop_range(void)
{
    for (int off = -1; off <= 9; off++) {
        struct ctdp_ct *ct = placed_ct(2);
        bool in_range = off >= 0 && off < 8;

        placed_assured_udp(ct, 300, 0);
        placed_udp(ct, 100 + off, 53, 3000);
        CHECK_EQ(placed_commit(ct, 100, 4000), in_range);
        CHECK_EQ(has_placed_udp(ct, 100 + off, 53, 4000), !in_range);
        CHECK(has_placed_udp(ct, 300, 53, 4000));
        tpkt_ct_destroy(ct);
    }
}

/* The range wraps at the end of the table: from bucket 4092, bucket 3 is
 * the 8th bucket searched and bucket 4 is out of reach. */
static void
test_early_drop_range_wraps(void)
{
    for (int b = 3; b <= 4; b++) {
        struct ctdp_ct *ct = placed_ct(2);

        placed_assured_udp(ct, 300, 0);
        placed_udp(ct, b, 53, 3000);
        CHECK_EQ(placed_commit(ct, PLACED_BUCKETS - 4, 4000), b == 3);
        tpkt_ct_destroy(ct);
    }
}

/* An ASSURED conn whose time is up but which no sweep has removed yet is
 * evicted; the same conn a moment before it expires is not, nor are live
 * ASSURED conns in the range. */
static void
test_early_drop_expired(void)
{
    struct ctdp_ct *ct = placed_ct(4);

    placed_assured_udp(ct, 105, 0);             /* Expires at 122.5 s. */
    placed_assured_udp(ct, 101, 100000);        /* Live: until 222.5 s. */
    placed_tcp(ct, 102, -1, 100000);            /* ESTABLISHED. */
    placed_assured_udp(ct, 300, 100000);
    CHECK(!placed_commit(ct, 100, 122499));
    CHECK(placed_commit(ct, 100, 122500));
    CHECK(!has_placed_udp(ct, 105, 53, 0));
    CHECK(has_placed_udp(ct, 101, 53, 122500));
    CHECK(has_placed_tcp(ct, 102, 122500));
    tpkt_ct_destroy(ct);
}

/* An ASSURED TCP conn in any closing state (FIN_WAIT to CLOSE) is evicted;
 * an ASSURED ESTABLISHED one is not. */
static void
test_early_drop_closing_tcp(void)
{
    for (int path = -1; path < (int) ARRAY_SIZE(closing_paths); path++) {
        struct ctdp_ct *ct = placed_ct(2);

        placed_assured_udp(ct, 300, 0);
        placed_tcp(ct, 106, path, 3000);
        CHECK_EQ(placed_commit(ct, 100, 4000), path >= 0);
        CHECK_EQ(has_placed_tcp(ct, 106, 4000), path < 0);
        tpkt_ct_destroy(ct);
    }
}

/* A confirm that would make a chain longer than 'max_chain' is refused
 * and counted as chaintoolong and insert_failed. */
static void
test_max_chain(void)
{
    struct ctdp_ct_params params = { .max_chain = 2, .hash = constant_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    int n_refused = 0;
    struct ctdp_ct_stats s;

    for (int i = 0; i < 20; i++) {
        n_refused += udp_refused(ct, &ab, 2000 + i, 0, i);
    }
    s = stats_of(ct);
    CHECK(n_refused > 0);
    CHECK_EQ(s.chaintoolong, n_refused);
    CHECK(s.insert_failed >= s.chaintoolong);
    CHECK_EQ(ctdp_ct_n_conns(ct), 20 - n_refused);
    CHECK(ctdp_ct_n_conns(ct) >= 1);
    CHECK(ctdp_ct_n_conns(ct) <= 8);
    tpkt_ct_destroy(ct);
}

/* Without a fixed bound, each confirm draws the kernel's, in [50, 80):
 * on one chain (every tuple hashes alike), where UDP conns' one entry
 * each make it n long with n conns, the first 51 conns always go in, the
 * 81st never, and repeated tries draw bounds that let more than 51 in. */
static void
test_max_chain_drawn(void)
{
    struct ctdp_ct_params params = { .hash = constant_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    int n_refused = 0;

    for (int i = 0; i < 51; i++) {
        CHECK(!udp_refused(ct, &ab, 2000 + i, 0, i));
    }
    for (int i = 51; i < 300; i++) {
        n_refused += udp_refused(ct, &ab, 2000 + i, 0, i);
    }
    CHECK_EQ(stats_of(ct).chaintoolong, n_refused);
    CHECK(ctdp_ct_n_conns(ct) > 51);
    CHECK(ctdp_ct_n_conns(ct) <= 80);
    tpkt_ct_destroy(ct);
}

/* A zone with its own limit of 1 takes one conn and refuses the next
 * (zone_limit_drop); other zones are unaffected; the count is reported;
 * existing conns keep working. */
static void
test_zone_limit(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    uint32_t count = 99;
    bool own = false;

    ctdp_ct_set_zone_limit(ct, 5, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1001, 53, 5, true, 0), TRK_NEW);
    CHECK(udp_refused(ct, &ab, 1002, 5, 0));
    CHECK_EQ(stats_of(ct).zone_limit_drop, 1);
    CHECK_EQ(stats_of(ct).drop, 1);
    CHECK(!has_udp(ct, &ab, 1002, 53, 5, NULL, 0));
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1002, 53, 6, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 6, true, 0), TRK_NEW);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 5, &count, &own), 1);
    CHECK_EQ(count, 1);
    CHECK(own);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 6, &count, &own), 0);
    CHECK_EQ(count, 2);
    CHECK(!own);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1001, 5, true, 10), TRK_EST_RPL);
    CHECK_EQ(stats_of(ct).zone_limit_drop, 1);
    tpkt_ct_destroy(ct);
}

/* Commits of UDP conns from 10.0.0.1 ports 'first'.. into zone 5, made
 * by a thread of its own unless its zone lane, 'lane', is 'avoid'. */
struct lane_job {
    struct ctdp_ct *ct;
    uint16_t first;
    int n, n_new;
    unsigned int avoid, lane;
};

static void *
lane_main(void *job_)
{
    struct lane_job *job = job_;
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");

    job->lane = ovsthread_id_self() % CTDP_ZONE_LANES;
    for (int i = 0; job->lane != job->avoid && i < job->n; i++) {
        job->n_new += tpkt_udp_ct(job->ct, &ab, job->first + i, 53, 5, true,
                                  0) == TRK_NEW;
    }
    return NULL;
}

/* The conns on zone 5's list in 'lane'. */
static int
lane_length(struct ctdp_ct *ct, unsigned int lane)
{
    struct ctdp_conn *conn = ctdp_zone_first(&ctdp_zone_find(ct, 5)
                                             ->lanes[lane]);
    int n = 0;

    for (; conn; conn = ctdp_zone_next(ct, conn)) {
        n++;
    }
    return n;
}

/* Threads of two lanes confirm into their own lists; a limit set later
 * holds exactly over both (conns counted in a lane before it count
 * against it); a sweep with a small budget goes on lane by lane until
 * every expired conn is gone, and the zone's count, whatever lanes the
 * removals were counted in, comes back to 0, so the limit has its whole
 * room back. */
static void
test_zone_lanes(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    unsigned int mine = ovsthread_id_self() % CTDP_ZONE_LANES;
    struct lane_job job;
    uint32_t count;
    bool own;
    int sweeps;

    for (int i = 0; i < 6; i++) {
        CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000 + i, 53, 5, true, 0), TRK_NEW);
    }
    ctdp_ct_set_zone_limit(ct, 5, 10);
    do {
        job = (struct lane_job) {
            .ct = ct, .first = 2000, .n = 6, .avoid = mine,
        };
        xpthread_join(ovs_thread_create("lane", lane_main, &job), NULL);
    } while (job.lane == mine);
    CHECK_EQ(job.n_new, 4);
    CHECK_EQ(stats_of(ct).zone_limit_drop, 2);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 5, &count, &own), 10);
    CHECK_EQ(count, 10);
    CHECK_EQ(lane_length(ct, mine), 6);
    CHECK_EQ(lane_length(ct, job.lane), 4);

    for (sweeps = 0; ctdp_ct_n_conns(ct) && sweeps < 10; sweeps++) {
        ctdp_ct_sweep(ct, 3600 * 1000, 3);
    }
    CHECK_EQ(sweeps, 4);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    ctdp_ct_get_zone_limit(ct, 5, &count, &own);
    CHECK_EQ(count, 0);
    for (int i = 0; i < 11; i++) {
        CHECK_EQ(udp_refused(ct, &ab, 3000 + i, 5, 3600 * 1000), i == 10);
    }
    tpkt_ct_destroy(ct);
}

/* The default limit applies to zones without their own; deleting a zone's
 * own limit returns it to the default; swept conns stop counting. */
static void
test_zone_limit_default(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    uint32_t count;
    bool own;

    ctdp_ct_set_default_zone_limit(ct, 2);
    CHECK_EQ(ctdp_ct_get_default_zone_limit(ct), 2);
    ctdp_ct_set_zone_limit(ct, 5, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000 + i, 53, 5, true, 0), TRK_NEW);
        CHECK_EQ(udp_refused(ct, &ab, 1000 + i, 7, 0), i == 2);
    }
    CHECK(udp_refused(ct, &ab, 1003, 5, 0));
    CHECK_EQ(stats_of(ct).zone_limit_drop, 2);
    ctdp_ct_del_zone_limit(ct, 5);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 5, &count, &own), 2);
    CHECK(!own);
    CHECK_EQ(count, 3);
    ctdp_ct_set_default_zone_limit(ct, 0);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 7, true, 0), TRK_NEW);
    ctdp_ct_set_default_zone_limit(ct, 1);
    CHECK(udp_refused(ct, &ab, 1004, 5, 20000));
    CHECK_EQ(ctdp_ct_sweep(ct, 40000, SIZE_MAX), 6);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 5, &count, &own), 1);
    CHECK_EQ(count, 0);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1004, 53, 5, true, 40000), TRK_NEW);
    tpkt_ct_destroy(ct);
}

/* A policy for zone 7 that sets udp_unreplied to 5 s: zone 7's UDP conns
 * expire after 5 s, zone 0's after 30 s. */
static void
test_timeout_policy(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_timeout_policy p, got;
    struct ctdp_ct_entry e;

    ctdp_timeout_policy_init(&p);
    CHECK_EQ(p.secs[CTDP_TM_UDP_UNREPLIED], -1);
    p.secs[CTDP_TM_UDP_UNREPLIED] = 5;
    ctdp_ct_set_timeout_policy(ct, 7, &p);
    CHECK(ctdp_ct_get_timeout_policy(ct, 7, &got));
    CHECK_EQ(got.secs[CTDP_TM_UDP_UNREPLIED], 5);
    CHECK_EQ(got.secs[CTDP_TM_ICMP], -1);
    CHECK(!ctdp_ct_get_timeout_policy(ct, 0, &got));

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 7, true, 1000), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 1000), TRK_NEW);
    CHECK(has_udp(ct, &ab, 1000, 53, 7, &e, 1000) && e.expires == 6000);
    CHECK(has_udp(ct, &ab, 1000, 53, 0, &e, 1000) && e.expires == 31000);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 7, false, 5999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 7, false, 10999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 10999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, 2);

    ctdp_ct_del_timeout_policy(ct, 7);
    CHECK(!ctdp_ct_get_timeout_policy(ct, 7, &got));
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1001, 53, 7, true, 20000), TRK_NEW);
    CHECK(has_udp(ct, &ab, 1001, 53, 7, &e, 20000) && e.expires == 50000);
    tpkt_ct_destroy(ct);
}

/* A policy's udp_replied and icmp slots apply too; unset slots keep the
 * kernel's defaults. */
static void
test_timeout_policy_slots(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct ctdp_timeout_policy p;
    struct ctdp_ct_entry e;

    ctdp_timeout_policy_init(&p);
    p.secs[CTDP_TM_UDP_REPLIED] = 50;
    p.secs[CTDP_TM_ICMP] = 3;
    ctdp_ct_set_timeout_policy(ct, 8, &p);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 8, true, 0), TRK_NEW);
    CHECK(has_udp(ct, &ab, 1000, 53, 8, &e, 0) && e.expires == 30000);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 8, false, 100), TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 8, false, 2500), TRK_EST);
    CHECK(has_udp(ct, &ab, 1000, 53, 8, &e, 2500) && e.expires == 52500);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ab, false, 1, 1), 8, true, 0),
                TRK_NEW);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 1, 1), 8, false, 2999),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 1, 1), 8, false, 5999),
                TRK_INV);
    tpkt_ct_destroy(ct);
}

/* Does policy 'p' start a cache line and own the rest of its last? */
static bool
on_own_lines(const struct ctdp_timeout_policy *p)
{
    return ((uintptr_t) p % CACHE_LINE_SIZE == 0
            && malloc_usable_size(CONST_CAST(struct ctdp_timeout_policy *, p))
               >= ROUND_UP(sizeof *p, CACHE_LINE_SIZE));
}

/* The policies every packet reads, the tracker's defaults (as made and
 * as a timeout knob replaces them) and a zone's, are on cache lines of
 * their own: on a line shared with other heap objects, which other
 * threads write, the read missed in new-conns' TCP packets. */
static void
test_timeout_policy_lines(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_timeout_policy p;
    size_t knob;

    CHECK(on_own_lines(ovsrcu_get(struct ctdp_timeout_policy *,
                                  &ct->timeouts)));
    CHECK(ctdp_ct_sysctl_find("nf_conntrack_udp_timeout", &knob));
    ctdp_ct_sysctl_set(ct, knob, 10);
    CHECK(on_own_lines(ovsrcu_get(struct ctdp_timeout_policy *,
                                  &ct->timeouts)));
    ctdp_timeout_policy_init(&p);
    ctdp_ct_set_timeout_policy(ct, 7, &p);
    CHECK(on_own_lines(ctdp_zone_policy(ct, 7)));
    tpkt_ct_destroy(ct);
}

/* The timeout slots have the kernel's names and defaults. */
static void
test_timeout_defaults(void)
{
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_UDP_UNREPLIED), 30);
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_UDP_REPLIED), 120);
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_ICMP), 30);
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_GENERIC), 600);
    CHECK(!strcmp(ctdp_timeout_slot_name(CTDP_TM_UDP_REPLIED),
                  "udp_replied"));
    CHECK(!strcmp(ctdp_timeout_slot_name(CTDP_TM_TCP_ESTABLISHED),
                  "tcp_established"));
}

/* The sweep interval reads back as set; the action check takes the
 * kernel's helpers by name and refuses others. */
static void
test_settings_roundtrip(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = tpkt_action(0, true);

    ctdp_ct_set_sweep_interval(ct, 1234);
    CHECK_EQ(ctdp_ct_get_sweep_interval(ct), 1234);
    CHECK_EQ(ctdp_ct_get_max_conns(ct), CTDP_CT_DEFAULT_MAX_CONNS);
    CHECK(!ctdp_ct_action_check(&a));
    a.helper = "ftp";
    CHECK(!ctdp_ct_action_check(&a));
    a.helper = "tftp";
    CHECK(!ctdp_ct_action_check(&a));
    a.helper = "sip";
    CHECK(ctdp_ct_action_check(&a) != NULL);
    tpkt_ct_destroy(ct);
}

const struct ctdp_unit_suite ct_limits_suite = {
    "ct-limits", (const struct ctdp_unit_case[]) {
        { "clash_udp_resolved", test_clash_udp_resolved },
        { "clash_icmp_dropped", test_clash_icmp_dropped },
        { "max_conns_early_drop", test_max_conns_early_drop },
        { "max_conns_batches", test_max_conns_batches },
        { "max_conns_filled_meanwhile", test_max_conns_filled_meanwhile },
        { "early_drop_range", test_early_drop_range },
        { "early_drop_range_wraps", test_early_drop_range_wraps },
        { "early_drop_expired", test_early_drop_expired },
        { "early_drop_closing_tcp", test_early_drop_closing_tcp },
        { "max_chain", test_max_chain },
        { "max_chain_drawn", test_max_chain_drawn },
        { "zone_limit", test_zone_limit },
        { "zone_limit_default", test_zone_limit_default },
        { "zone_lanes", test_zone_lanes },
        { "timeout_policy", test_timeout_policy },
        { "timeout_policy_slots", test_timeout_policy_slots },
        { "timeout_policy_lines", test_timeout_policy_lines },
        { "timeout_defaults", test_timeout_defaults },
        { "settings_roundtrip", test_settings_roundtrip },
        { NULL, NULL },
    },
};
