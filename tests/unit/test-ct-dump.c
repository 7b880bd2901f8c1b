/* Reading and clearing the table from outside: events, flush by filter,
 * and dumps, including a dump racing a writer that grows the table. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dp-packet.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "util.h"

/* ---- Events ------------------------------------------------------------ */

static size_t
poll_all(struct ctdp_ct_listener *l, struct ctdp_ct_event *ev, size_t max)
{
    uint64_t lost = 0;
    size_t n = ctdp_ct_listener_poll(l, ev, max, &lost);

    CHECK_EQ(lost, 0);
    return n;
}

/* A conn's life as a listener of every zone sees it: nothing before the
 * commit, NEW at the commit, UPDATE for the reply, for ASSURED and for a
 * mark change (not for a plain refresh nor an unchanged mark), DESTROY
 * with the final counters and the sweep's time when it expires. */
static void
test_events_lifecycle(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l = ctdp_ct_listen(ct, 64, -1);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct ctdp_ct_action a = tpkt_action(0, true);
    struct ctdp_ct_event ev[8];
    struct ctdp_tuple t;
    struct dp_packet *pkt;

    tpkt_tuple(&t, &ab, IPPROTO_UDP, 1000, 53, 0);
    tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 0);
    CHECK_EQ(poll_all(l, ev, 8), 0);
    tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0);
    CHECK(poll_all(l, ev, 8) == 1 && ev[0].type == CTDP_EVENT_NEW
          && ctdp_tuple_equal(&ev[0].entry.orig, &t) && ev[0].entry.id);
    tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 100);
    CHECK(poll_all(l, ev, 8) == 1 && ev[0].type == CTDP_EVENT_UPDATE
          && ev[0].entry.status & CTDP_S_SEEN_REPLY);
    tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 2500);
    CHECK(poll_all(l, ev, 8) == 1 && ev[0].type == CTDP_EVENT_UPDATE
          && ev[0].entry.status & CTDP_S_ASSURED);
    tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 2600);
    CHECK_EQ(poll_all(l, ev, 8), 0);
    a.set_mark = true;
    a.mark = 5;
    a.mark_mask = UINT32_MAX;
    for (int i = 0; i < 2; i++) {
        pkt = tpkt_udp(&ab, 1000, 53, 0);
        CHECK_STATE(tpkt_ct(ct, pkt, &a, 2700 + 100 * i), TRK_EST);
        tpkt_free(ct, pkt);
        CHECK_EQ(poll_all(l, ev, 8), i == 0);
        CHECK(i || (ev[0].type == CTDP_EVENT_UPDATE && ev[0].entry.mark == 5));
    }
    CHECK_EQ(ctdp_ct_sweep(ct, 122799, SIZE_MAX), 0);
    CHECK_EQ(ctdp_ct_sweep(ct, 122800, SIZE_MAX), 1);
    CHECK(poll_all(l, ev, 8) == 1 && ev[0].type == CTDP_EVENT_DESTROY);
    CHECK_EQ(ev[0].time, 122800);
    CHECK(ctdp_tuple_equal(&ev[0].entry.orig, &t));
    CHECK_EQ(ev[0].entry.packets[CTDP_DIR_ORIG], 5);
    CHECK_EQ(ev[0].entry.packets[CTDP_DIR_REPLY], 1);
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* A commit that sets the mark and label reports them in its NEW event,
 * with no UPDATE (they were set before the conn was confirmed). */
static void
test_events_new_carries_mark(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l = ctdp_ct_listen(ct, 64, -1);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ct_action a = tpkt_action(0, true);
    struct ctdp_ct_event ev[8];

    a.set_mark = a.set_label = true;
    a.mark = 0x77;
    a.mark_mask = UINT32_MAX;
    a.label.u64.hi = 0x88;
    a.label_mask.u64.hi = UINT64_MAX;
    CHECK_STATE(tpkt_ct1_action(ct, tpkt_udp(&ab, 1000, 53, 0), &a, 0),
                TRK_NEW);
    CHECK(poll_all(l, ev, 8) == 1 && ev[0].type == CTDP_EVENT_NEW
          && ev[0].entry.mark == 0x77 && ev[0].entry.label.u64.hi == 0x88);
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* commit,force reports the old conn's DESTROY and the new conn's NEW. */
static void
test_events_force(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l = ctdp_ct_listen(ct, 64, -1);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct ctdp_ct_action force = tpkt_action(0, true);
    struct ctdp_ct_event ev[8];
    struct ctdp_tuple t_ab, t_ba;
    size_t n;

    tpkt_tuple(&t_ab, &ab, IPPROTO_UDP, 1000, 53, 0);
    tpkt_tuple(&t_ba, &ba, IPPROTO_UDP, 53, 1000, 0);
    tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0);
    CHECK_EQ(poll_all(l, ev, 8), 1);
    force.force = true;
    CHECK_STATE(tpkt_ct1_action(ct, tpkt_udp(&ba, 53, 1000, 0), &force, 50),
                TRK_NEW);
    n = poll_all(l, ev, 8);
    CHECK_EQ(n, 2);
    for (size_t i = 0; i < n && i < 8; i++) {
        bool destroy = ev[i].type == CTDP_EVENT_DESTROY;

        CHECK(destroy || ev[i].type == CTDP_EVENT_NEW);
        CHECK(ctdp_tuple_equal(&ev[i].entry.orig, destroy ? &t_ab : &t_ba));
        CHECK(!destroy || ev[i].time == 50);
    }
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* A flush reports each conn it removes as DESTROY at the flush's time. */
static void
test_events_flush(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l = ctdp_ct_listen(ct, 64, -1);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ct_flush_filter f;
    struct ctdp_ct_event ev[8];

    tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0);
    tpkt_udp_ct(ct, &ab, 1001, 53, 0, true, 0);
    CHECK_EQ(poll_all(l, ev, 8), 2);
    ctdp_ct_flush_filter_init(&f);
    CHECK_EQ(ctdp_ct_flush(ct, &f, 500), 2);
    CHECK_EQ(poll_all(l, ev, 8), 2);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(ev[i].type, CTDP_EVENT_DESTROY);
        CHECK_EQ(ev[i].time, 500);
        CHECK_EQ(ev[i].entry.packets[CTDP_DIR_ORIG], 1);
    }
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* A listener of zone 3 sees zone 3's conns and nothing of zone 0's. */
static void
test_events_zone_filter(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l = ctdp_ct_listen(ct, 64, 3);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct ctdp_ct_flush_filter f;
    struct ctdp_ct_event ev[8];

    tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0);
    tpkt_udp_ct(ct, &ba, 53, 1000, 0, true, 10);
    ctdp_ct_flush_filter_init(&f);
    ctdp_ct_flush(ct, &f, 20);
    CHECK_EQ(poll_all(l, ev, 8), 0);
    tpkt_udp_ct(ct, &ab, 1000, 53, 3, true, 30);
    CHECK(poll_all(l, ev, 8) == 1 && ev[0].type == CTDP_EVENT_NEW
          && ev[0].entry.orig.zone == 3);
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* A full queue counts the events it could not hold: capacity 2 and five
 * commits give two events and three lost. */
static void
test_events_overflow(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l = ctdp_ct_listen(ct, 2, -1);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_ct_event ev[8];
    uint64_t lost = 0;

    for (int i = 0; i < 5; i++) {
        tpkt_udp_ct(ct, &ab, 1000 + i, 53, 0, true, i);
    }
    CHECK_EQ(ctdp_ct_listener_poll(l, ev, 8, &lost), 2);
    CHECK_EQ(lost, 3);
    CHECK(ev[0].type == CTDP_EVENT_NEW && ev[1].type == CTDP_EVENT_NEW);
    CHECK_EQ(ntohs(ev[0].entry.orig.sport), 1000);
    CHECK_EQ(ntohs(ev[1].entry.orig.sport), 1001);
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* Listeners are capped: each one costs every event a copy on the packet
 * path.  The one past the cap is refused; unlistening makes room. */
static void
test_events_listener_cap(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l[CTDP_CT_MAX_LISTENERS];

    for (int i = 0; i < CTDP_CT_MAX_LISTENERS; i++) {
        l[i] = ctdp_ct_listen(ct, 4, -1);
        CHECK(l[i] != NULL);
    }
    CHECK(ctdp_ct_listen(ct, 4, -1) == NULL);
    ctdp_ct_unlisten(l[0]);
    l[0] = ctdp_ct_listen(ct, 4, 3);
    CHECK(l[0] != NULL);
    for (int i = 0; i < CTDP_CT_MAX_LISTENERS; i++) {
        ctdp_ct_unlisten(l[i]);
    }
    tpkt_ct_destroy(ct);
}

/* ---- Flush ------------------------------------------------------------- */

/* The conns every flush test starts from. */
static const struct flush_conn {
    uint16_t zone;
    const char *src, *dst;
    uint16_t sport, dport;
    uint32_t mark;
    uint64_t label_lo, label_hi;
} flush_conns[] = {
    { 0, "10.0.0.1", "10.0.0.2", 1000, 53, 0x01, 0x10, 0 },   /* c0 */
    { 0, "10.0.0.1", "10.0.0.3", 1001, 53, 0x02, 0x20, 0 },   /* c1 */
    { 1, "10.0.0.4", "10.0.0.2", 1000, 53, 0x11, 0x11, 0 },   /* c2 */
    { 1, "10.0.0.1", "10.0.0.2", 1000, 80, 0x00, 0x00, 0 },   /* c3 */
    { 2, "10.0.0.5", "10.0.0.6", 1000, 53, 0x21, 0x00, 1 },   /* c4 */
};
#define N_FLUSH_CONNS ARRAY_SIZE(flush_conns)

static struct ctdp_ct *
flush_setup(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);

    for (size_t i = 0; i < N_FLUSH_CONNS; i++) {
        const struct flush_conn *c = &flush_conns[i];
        struct tpkt_ip ip = tpkt_ip(c->src, c->dst);
        struct ctdp_ct_action a = tpkt_action(c->zone, true);

        a.set_mark = a.set_label = true;
        a.mark = c->mark;
        a.mark_mask = UINT32_MAX;
        a.label.u64.lo = c->label_lo;
        a.label.u64.hi = c->label_hi;
        a.label_mask.u64.lo = a.label_mask.u64.hi = UINT64_MAX;
        CHECK_STATE(tpkt_ct1_action(ct, tpkt_udp(&ip, c->sport, c->dport, 0),
                                    &a, 0), TRK_NEW);
    }
    CHECK_EQ(ctdp_ct_n_conns(ct), N_FLUSH_CONNS);
    return ct;
}

/* Returns a bitmap of which of flush_conns[] remain. */
static unsigned int
flush_remaining(struct ctdp_ct *ct)
{
    unsigned int bits = 0;

    for (size_t i = 0; i < N_FLUSH_CONNS; i++) {
        const struct flush_conn *c = &flush_conns[i];
        struct tpkt_ip ip = tpkt_ip(c->src, c->dst);
        struct ctdp_ct_entry e;
        struct ctdp_tuple t;

        tpkt_tuple(&t, &ip, IPPROTO_UDP, c->sport, c->dport, c->zone);
        bits |= tpkt_find(ct, &t, 1000, &e) << i;
    }
    CHECK_EQ(tpkt_dump(ct, -1, 1000, NULL, 0), count_1bits(bits));
    CHECK_EQ(ctdp_ct_n_conns(ct), count_1bits(bits));
    return bits;
}

/* Runs 'f' on a fresh set of flush_conns[] and checks that it removes the
 * conns in bitmap 'removed' and reports their number. */
static void
check_flush(const struct ctdp_ct_flush_filter *f, unsigned int removed)
{
    struct ctdp_ct *ct = flush_setup();
    unsigned int all = (1u << N_FLUSH_CONNS) - 1;

    CHECK_EQ(ctdp_ct_flush(ct, f, 1000), count_1bits(removed));
    CHECK_EQ(flush_remaining(ct), all & ~removed);
    tpkt_ct_destroy(ct);
}

/* An empty filter flushes everything; a zone filter only that zone. */
static void
test_flush_all_and_zone(void)
{
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    check_flush(&f, 0x1f);
    f.zone = 1;
    check_flush(&f, 0x0c);
    f.zone = 3;
    check_flush(&f, 0);
}

/* A partial original tuple: only the source address, in every zone, then
 * in zone 0 only; then source address and destination port. */
static void
test_flush_orig_tuple(void)
{
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    f.match_orig = true;
    f.orig.src.ip4 = htonl(0x0a000001);
    f.orig_mask.src.ip4 = OVS_BE32_MAX;
    check_flush(&f, 0x0b);
    f.zone = 0;
    check_flush(&f, 0x03);
    f.zone = -1;
    f.orig.dport = htons(80);
    f.orig_mask.dport = OVS_BE16_MAX;
    check_flush(&f, 0x08);
}

/* A partial reply tuple: reply source 10.0.0.2, port 53 (the server side
 * of c0 and c2). */
static void
test_flush_reply_tuple(void)
{
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    f.match_reply = true;
    f.reply.src.ip4 = htonl(0x0a000002);
    f.reply_mask.src.ip4 = OVS_BE32_MAX;
    f.reply.sport = htons(53);
    f.reply_mask.sport = OVS_BE16_MAX;
    check_flush(&f, 0x05);
}

/* Mark and label under a mask: mark 0x1/0xf matches 0x01, 0x11, 0x21;
 * label 0x10/0xf0 matches 0x10 and 0x11; both must match together. */
static void
test_flush_mark_label(void)
{
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    f.match_mark = true;
    f.mark = 0x1;
    f.mark_mask = 0xf;
    check_flush(&f, 0x15);
    ctdp_ct_flush_filter_init(&f);
    f.match_label = true;
    f.label.u64.lo = 0x10;
    f.label_mask.u64.lo = 0xf0;
    check_flush(&f, 0x05);
    f.label.u64.lo = 0;
    f.label.u64.hi = 1;
    f.label_mask.u64.lo = 0;
    f.label_mask.u64.hi = 1;
    check_flush(&f, 0x10);
    f.match_mark = true;
    f.mark = 0x2;
    f.mark_mask = UINT32_MAX;
    check_flush(&f, 0);
}

/* ---- Dump -------------------------------------------------------------- */

static int
compare_u64(const void *a_, const void *b_)
{
    const uint64_t *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

/* A zone dump returns that zone's conns only; ids are non-zero, unique,
 * and the same from one dump to the next. */
static void
test_dump_zones_ids(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    static struct ctdp_ct_entry e1[300], e2[300];
    uint64_t ids[300];
    size_t n;

    for (int i = 0; i < 300; i++) {
        tpkt_udp_ct(ct, &ab, 1000 + i, 53, i % 3, true, 0);
    }
    CHECK_EQ(tpkt_dump(ct, 3, 0, NULL, 0), 0);
    for (int zone = 0; zone < 3; zone++) {
        n = tpkt_dump(ct, zone, 0, e1, 300);
        CHECK_EQ(n, 100);
        for (size_t i = 0; i < n && i < 300; i++) {
            CHECK_EQ(e1[i].orig.zone, zone);
            CHECK_EQ((ntohs(e1[i].orig.sport) - 1000) % 3, zone);
        }
    }
    CHECK_EQ(tpkt_dump(ct, -1, 0, e1, 300), 300);
    CHECK_EQ(tpkt_dump(ct, -1, 0, e2, 300), 300);
    for (size_t i = 0; i < 300; i++) {
        CHECK(e1[i].id != 0);
        ids[i] = e1[i].id;
        for (size_t j = 0; j < 300; j++) {
            if (ctdp_tuple_equal(&e2[j].orig, &e1[i].orig)) {
                CHECK_EQ(e2[j].id, e1[i].id);
            }
        }
    }
    qsort(ids, 300, sizeof *ids, compare_u64);
    for (size_t i = 1; i < 300; i++) {
        CHECK(ids[i] != ids[i - 1]);
    }
    tpkt_ct_destroy(ct);
}

/* ---- A dump racing a writer -------------------------------------------- */

#define N_STABLE 64
#define N_CHURN 6144
#define CHURN_BATCH 32
#define MAX_DUMPED (N_STABLE + 2 * N_CHURN)

struct dump_writer {
    struct ctdp_ct *ct;
    atomic_bool done;
};

/* Commits 'n' UDP conns in 'zone', numbered from 'first' (each number is
 * a distinct source address in 'net'), as one batch. */
static void
commit_batch(struct ctdp_ct *ct, uint32_t net, uint32_t first, size_t n,
             uint16_t zone, long long now)
{
    struct ctdp_ct_action commit = tpkt_action(zone, true);
    struct dp_packet_batch batch;
    struct dp_packet *pkt;

    dp_packet_batch_init(&batch);
    for (size_t i = 0; i < n; i++) {
        struct tpkt_ip ip = tpkt_ip4(net + first + i, 0x0c000001);

        dp_packet_batch_add(&batch, tpkt_udp(&ip, 1000, 53, 0));
    }
    ctdp_ct_execute(ct, &batch, &commit, now);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, &batch) {
        tpkt_free(ct, pkt);
    }
}

/* Inserts N_CHURN conns in zone 2, which grows the table from one bucket
 * to thousands, while inserting conns in zone 3 and flushing that zone. */
static void *
dump_writer_main(void *w_)
{
    struct dump_writer *w = w_;
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    f.zone = 3;
    for (uint32_t i = 0; i < N_CHURN; i += CHURN_BATCH) {
        long long now = i / CHURN_BATCH;

        commit_batch(w->ct, 0x0b000000, i, CHURN_BATCH, 2, now);
        commit_batch(w->ct, 0x0d000000, i, CHURN_BATCH / 4, 3, now);
        if (i % (4 * CHURN_BATCH) == 0) {
            ctdp_ct_flush(w->ct, &f, now);
        }
        ovsrcu_quiesce();
    }
    atomic_store(&w->done, true);
    return NULL;
}

static int
compare_tuples(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct ctdp_tuple));
}

/* Dumps every zone, quiescing between entries, and checks that no conn
 * comes twice and that every stable conn (zone 1, numbered 0 to
 * N_STABLE - 1) comes. */
static void
check_racing_dump(struct ctdp_ct *ct, struct ctdp_tuple *seen)
{
    struct ctdp_ct_dump *dump = ctdp_ct_dump_start(ct, -1, 0);
    struct ctdp_ct_entry e;
    size_t n = 0, dups = 0, stable = 0;

    while (ctdp_ct_dump_next(dump, &e)) {
        if (n < MAX_DUMPED) {
            seen[n] = e.orig;
        }
        n++;
        if (n % 16 == 0) {
            ovsrcu_quiesce();
        }
    }
    ctdp_ct_dump_done(dump);
    CHECK(n <= MAX_DUMPED);
    n = MIN(n, MAX_DUMPED);
    qsort(seen, n, sizeof *seen, compare_tuples);
    for (size_t i = 0; i < n; i++) {
        dups += i && !compare_tuples(&seen[i], &seen[i - 1]);
        stable += seen[i].zone == 1;
    }
    CHECK_EQ(dups, 0);
    CHECK_EQ(stable, N_STABLE);
}

/* A dump while another thread inserts (growing the table from one bucket
 * to thousands) and deletes never returns a conn twice and returns every
 * conn that was in the table for the whole dump. */
static void
test_dump_racing_writer(void)
{
    struct ctdp_tuple *seen = xmalloc(MAX_DUMPED * sizeof *seen);

    for (int round = 0; round < 3; round++) {
        struct ctdp_ct_params params = { .n_buckets = 1 };
        struct dump_writer w = { .ct = ctdp_ct_create(&params) };
        int n_dumps = 0;
        pthread_t thread;
        bool done;

        for (uint32_t i = 0; i < N_STABLE; i += 16) {
            commit_batch(w.ct, 0x0a000000, i, 16, 1, 0);
        }
        atomic_init(&w.done, false);
        thread = ovs_thread_create("ct-dump-writer", dump_writer_main, &w);
        do {
            atomic_read(&w.done, &done);
            check_racing_dump(w.ct, seen);
            n_dumps++;
        } while (!done);
        xpthread_join(thread, NULL);
        check_racing_dump(w.ct, seen);
        printf("# round %d: %d dumps raced the writer\n", round, n_dumps);
        tpkt_ct_destroy(w.ct);
    }
    free(seen);
}

const struct ctdp_unit_suite ct_dump_suite = {
    "ct-dump", (const struct ctdp_unit_case[]) {
        { "events_lifecycle", test_events_lifecycle },
        { "events_flush", test_events_flush },
        { "events_new_carries_mark", test_events_new_carries_mark },
        { "events_force", test_events_force },
        { "events_zone_filter", test_events_zone_filter },
        { "events_overflow", test_events_overflow },
        { "events_listener_cap", test_events_listener_cap },
        { "flush_all_and_zone", test_flush_all_and_zone },
        { "flush_orig_tuple", test_flush_orig_tuple },
        { "flush_reply_tuple", test_flush_reply_tuple },
        { "flush_mark_label", test_flush_mark_label },
        { "dump_zones_ids", test_dump_zones_ids },
        { "dump_racing_writer", test_dump_racing_writer },
        { NULL, NULL },
    },
};
