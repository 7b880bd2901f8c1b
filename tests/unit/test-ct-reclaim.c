/* Reclaiming conns: whoever removes a conn frees it (after RCU), so memory
 * stays bounded by the table's limit under any removal rate; walkers stay
 * linear while other threads commit; nothing is freed while the table still
 * leads to it; small tables keep one lock per chain; a label is never seen
 * torn.  Each case is the regression test of a defect of the reliability
 * issue (13): it failed on the tracker before the fix. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "dp-packet.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "util.h"
#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer's allocator (sanitizer/allocator_interface.h, which
 * gcc does not install). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes the heap holds for the program, and 'ct''s pool for its conns,
 * after every postponed free ran. */
static size_t
heap_in_use(const struct ctdp_ct *ct)
{
    uint64_t mapped;
    size_t pool;

    ovsrcu_barrier();
    pool = ctdp_ct_memory(ct, &mapped);
#if defined(__SANITIZE_ADDRESS__)
    return pool + __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();

    return pool + mi.uordblks + mi.hblkhd;
#endif
}

#define FULL 4096               /* The table's limit in these tests. */
#define FLOOD (40 * FULL)       /* New flows against the full table. */

/* A random-source flood against a full table of unassured conns: each new
 * flow evicts one (early drop).  The heap must not keep the evicted conns:
 * before the fix each stayed allocated on its zone list until a sweep or a
 * flush walked there, and no walker runs here. */
static void
test_reclaim_early_drop_flood(void)
{
    struct ctdp_ct_params params = { .max_conns = FULL };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct ctdp_ct_stats s;
    size_t before, after, dropped = 0;

    for (uint32_t i = 0; i < FULL; i += 32) {
        tpkt_udp_batch(ct, 0x0a000000, i, 32, 0, true, 0);
    }
    CHECK_EQ(ctdp_ct_n_conns(ct), FULL);
    before = heap_in_use(ct);
    for (uint32_t i = 0; i < FLOOD; i += 32) {
        dropped += tpkt_udp_batch(ct, 0x0b000000, i, 32, 0, true,
                                  1 + i / 1024);
        ovsrcu_quiesce();
    }
    after = heap_in_use(ct);
    ctdp_ct_get_stats(ct, &s);
    printf("# %"PRIu64" early drops, %"PRIuSIZE" drops; heap %+lld bytes\n",
           s.early_drop, dropped, (long long) after - (long long) before);
    CHECK(ctdp_ct_n_conns(ct) <= FULL);
    CHECK_EQ(s.early_drop + dropped, FLOOD);
    CHECK(s.early_drop > FLOOD / 2);
    /* A conn is about 150 bytes: keeping a tenth of the evicted ones would
     * be 600 kB. */
    CHECK((long long) after - (long long) before < 256 * 1024);
    tpkt_ct_destroy(ct);
}

/* Conns that expire and are met again by lookups (which remove them, as
 * the kernel's) are freed without any sweep. */
static void
test_reclaim_expired_on_lookup(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    size_t before = 0, after;
    long long now = 0;

    for (int round = 0; round < 40; round++) {
        for (uint32_t i = 0; i < FULL; i += 32) {
            tpkt_udp_batch(ct, 0x0a000000, i, 32, 0, true, now);
        }
        if (round == 0) {
            before = heap_in_use(ct);
        }
        ovsrcu_quiesce();
        now += 31 * 1000;       /* Past UDP's 30 s. */
    }
    after = heap_in_use(ct);
    printf("# heap %+lld bytes over 39 rounds of %d expired conns\n",
           (long long) after - (long long) before, FULL);
    CHECK_EQ(ctdp_ct_n_conns(ct), FULL);
    CHECK((long long) after - (long long) before < 256 * 1024);
    tpkt_ct_destroy(ct);
}

/* ---- Flush while another thread commits -------------------------------- */

static double
seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct committer {
    struct ctdp_ct *ct;
    atomic_bool stop;
    atomic_bool started;        /* Has committed a batch. */
    double deadline;            /* Stops then at the latest. */
    uint32_t n;                 /* Conns committed, read after the join. */
};

static void *
committer_main(void *c_)
{
    struct committer *c = c_;
    bool stop;

    do {
        tpkt_udp_batch(c->ct, 0x0d000000, c->n, 32, 7, true, 0);
        c->n += 32;
        atomic_store(&c->started, true);
        ovsrcu_quiesce();
        atomic_read(&c->stop, &stop);
    } while (!stop && seconds_now() < c->deadline);
    return NULL;
}

static void
fill_zone(struct ctdp_ct *ct, uint16_t zone, uint32_t n)
{
    for (uint32_t i = 0; i < n; i += 32) {
        tpkt_udp_batch(ct, 0x0a000000, i, 32, zone, true, 0);
        if (i % 4096 == 0) {
            ovsrcu_quiesce();
        }
    }
}

#define FLUSHED 200000

struct flusher {
    struct ctdp_ct *ct;
    const struct ctdp_ct_flush_filter *f;
    atomic_bool done;
    size_t removed;
};

static void *
flusher_main(void *fl_)
{
    struct flusher *fl = fl_;

    fl->removed = ctdp_ct_flush(fl->ct, fl->f, 0);
    atomic_store(&fl->done, true);
    return NULL;
}

/* Flushes with 'f' on another thread; returns how many it removed.  A
 * flush not done by 'deadline' (a quadratic one takes minutes) fails the
 * whole run here rather than hang it. */
static size_t
flush_or_give_up(struct ctdp_ct *ct, const struct ctdp_ct_flush_filter *f,
                 double deadline)
{
    struct flusher fl = { .ct = ct, .f = f };
    pthread_t thread;
    bool done;

    atomic_init(&fl.done, false);
    thread = ovs_thread_create("ct-flusher", flusher_main, &fl);
    for (;;) {
        atomic_read(&fl.done, &done);
        if (done) {
            break;
        }
        if (seconds_now() > deadline) {
            printf("# the flush did not end in time: giving up\n");
            fflush(stdout);
            _exit(1);
        }
        ovsrcu_quiesce();
        usleep(1000);
    }
    xpthread_join(thread, NULL);
    return fl.removed;
}

/* Flushing a large zone while another thread commits into it takes about
 * as long as an idle flush.  Before the fix, each unlink after a
 * concurrent push rescanned the list from its head: quadratic, minutes for
 * this size.  The committer stops at the deadline, so a slow flush still
 * ends, and fails the check. */
static void
test_reclaim_flush_under_commits(void)
{
    struct ctdp_ct_flush_filter f;
    struct committer c = { .n = 0 };
    struct ctdp_ct *ct;
    double idle, busy, t0;
    pthread_t thread;
    size_t removed;

    ctdp_ct_flush_filter_init(&f);
    f.zone = 7;

    ct = ctdp_ct_create(NULL);
    fill_zone(ct, 7, FLUSHED);
    t0 = seconds_now();
    CHECK_EQ(ctdp_ct_flush(ct, &f, 0), FLUSHED);
    idle = seconds_now() - t0;
    tpkt_ct_destroy(ct);

    ct = ctdp_ct_create(NULL);
    fill_zone(ct, 7, FLUSHED);
    c.ct = ct;
    c.deadline = seconds_now() + 10 * idle + 2.0;
    atomic_init(&c.stop, false);
    atomic_init(&c.started, false);
    thread = ovs_thread_create("ct-committer", committer_main, &c);
    for (bool started = false; !started; ) {
        sched_yield();
        atomic_read(&c.started, &started);
    }
    t0 = seconds_now();
    removed = flush_or_give_up(ct, &f, t0 + 10 * idle + 5.0);
    busy = seconds_now() - t0;
    atomic_store(&c.stop, true);
    xpthread_join(thread, NULL);
    printf("# flush of %d conns: %.3f s idle, %.3f s while %u conns were "
           "committed\n", FLUSHED, idle, busy, c.n);
    CHECK(removed >= FLUSHED);
    CHECK(busy < 10 * idle + 2.0);
    tpkt_ct_destroy(ct);
}

/* ---- Frees only after the unlink --------------------------------------- */

/* Widens both sides of the race: a removal waits between marking its conn
 * DYING and unlinking it, and a lookup that meets that conn stands on it a
 * while. */
static void
slow_points(enum ctdp_test_point point)
{
    usleep(point == CTDP_TEST_REMOVE ? 2000 : 10000);
}

/* A thread sending one packet of each of 'n_flows' UDP flows (10.0.0.x
 * to 12.0.0.1) in turn, each a batch of its own, quiescing after each so
 * that it quiesces as soon as it can.  With 'commit', ct(commit).  Its
 * clock is 'now', plus 'now_step' after each round of the flows. */
struct racer {
    struct ctdp_ct *ct;
    atomic_bool stop;
    uint32_t n_flows;
    bool commit;
    long long now, now_step;
    bool slow_confirms;         /* For slow_confirm() below. */
};

static __thread bool slow_confirms;

static void *
racer_main(void *r_)
{
    struct racer *r = r_;
    long long now = r->now;
    bool stop;

    slow_confirms = r->slow_confirms;
    for (uint32_t i = 0; ; i = (i + 1) % r->n_flows) {
        tpkt_udp_batch(r->ct, 0x0a000000, i, 1, 0, r->commit, now);
        ovsrcu_quiesce();
        now += i == r->n_flows - 1 ? r->now_step : 0;
        atomic_read(&r->stop, &stop);
        if (stop) {
            return NULL;
        }
    }
}

/* Runs a racer for each of 'r[n]' while the main thread sweeps and walks
 * (a flush that matches nothing) until 'seconds' have passed. */
static void
race(struct ctdp_ct *ct, struct racer *r, size_t n, double seconds)
{
    struct ctdp_ct_flush_filter f;
    double end = seconds_now() + seconds;
    pthread_t threads[4];

    ovs_assert(n <= ARRAY_SIZE(threads));
    /* The walkers remove nothing themselves (no conn has mark 1, and none
     * has expired at time 0): they only pass the racers' removals. */
    ctdp_ct_flush_filter_init(&f);
    f.match_mark = true;
    f.mark = f.mark_mask = 1;
    for (size_t i = 0; i < n; i++) {
        r[i].ct = ct;
        atomic_init(&r[i].stop, false);
        threads[i] = ovs_thread_create("ct-racer", racer_main, &r[i]);
    }
    while (seconds_now() < end) {
        ctdp_ct_sweep(ct, 0, 64);
        ctdp_ct_flush(ct, &f, 0);
        ovsrcu_quiesce();
    }
    for (size_t i = 0; i < n; i++) {
        atomic_store(&r[i].stop, true);
        xpthread_join(threads[i], NULL);
    }
}

/* While removals are slow to unlink, a sweep and flushes walk the same
 * conns and readers stand on them.  Before the fix, a walker postponed the
 * free of any DYING conn it met, also one not yet unlinked: a reader that
 * reached it through its chain after quiescing read freed memory once the
 * remover unlinked it and quiesced (AddressSanitizer reports a
 * heap-use-after-free in the sanitizer build). */
static void
test_reclaim_no_free_before_unlink(void)
{
    struct ctdp_ct_params params = { .test_delay = slow_points };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    /* An expirer commits the flows anew 31 s later each round, so that
     * its lookups remove the expired ones (each removal slowed by
     * slow_points()); two readers look them up at time 0. */
    struct racer r[3] = {
        { .n_flows = 256, .commit = true, .now_step = 31 * 1000 },
        { .n_flows = 256 },
        { .n_flows = 256 },
    };

    race(ct, r, ARRAY_SIZE(r), 2.0);
    CHECK(ctdp_ct_n_conns(ct) <= 256);
    tpkt_ct_destroy(ct);
}

/* ---- A removed conn is never left on its zone list --------------------- */

static void
slow_confirm(enum ctdp_test_point point)
{
    if (point == CTDP_TEST_CONFIRMED && slow_confirms) {
        usleep(1000);
    }
}

/* A conn that another thread removes right after its confirm released the
 * bucket locks is freed, and nothing leads to it any more.  Before the
 * fix the conn went on its zone list only after the bucket locks were
 * released: a remover found it on no list, and the confirm then pushed
 * the freed-to-be conn on it, where walkers read freed memory
 * (AddressSanitizer: heap-use-after-free in walk_zone()) and destroy
 * freed it twice.  Found by review.  (Since, the confirm's call lists its
 * conns when it ends, passing by those marked DYING: see
 * removed_before_listed.) */
static void
test_reclaim_confirm_window(void)
{
    struct ctdp_ct_params params = { .test_delay = slow_confirm };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    /* The committer commits 64 flows at time 0, each confirm slowed after
     * it released the bucket locks; the other racer sends the same flows
     * at time 40 s, so that its lookups find them expired and remove
     * them. */
    struct racer r[2] = {
        { .n_flows = 64, .commit = true, .slow_confirms = true },
        { .n_flows = 64, .now = 40000 },
    };
    struct ctdp_ct_flush_filter f;
    uint32_t n;

    race(ct, r, ARRAY_SIZE(r), 1.5);
    /* Every conn counted is on a list: a flush of all finds them all. */
    n = ctdp_ct_n_conns(ct);
    ctdp_ct_flush_filter_init(&f);
    CHECK_EQ(ctdp_ct_flush(ct, &f, 0), n);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

/* The tracker whose next confirm removes its own conn, by a lookup 40 s
 * later from inside the confirm (a nested call, as another thread's). */
static struct ctdp_ct *remove_in_confirm;

static void
lookup_in_confirm(enum ctdp_test_point point)
{
    struct ctdp_ct *ct = remove_in_confirm;

    if (point == CTDP_TEST_CONFIRMED && ct) {
        struct tpkt_ip ab = tpkt_ip("10.0.0.1", "12.0.0.1");

        remove_in_confirm = NULL;
        CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 40000),
                    TRK_NEW);
    }
}

/* A confirmed conn goes on its zone list when its call ends: one that
 * another call removed before that (here, a lookup that found it expired,
 * between the confirm and the end of its call) was on no list for the
 * remover to unlink, and must stay off it, as it is freed after the grace
 * period.  Listed, a walker after the free reads freed memory
 * (AddressSanitizer: use-after-poison in walk_lane()).  The counts must
 * come back to zero. */
static void
test_reclaim_removed_before_listed(void)
{
    struct ctdp_ct_params params = { .test_delay = lookup_in_confirm };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "12.0.0.1");
    struct ctdp_ct_flush_filter f;
    uint32_t count;
    bool has_own;

    remove_in_confirm = ct;
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 0), TRK_NEW);
    CHECK(!remove_in_confirm);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    ctdp_ct_get_zone_limit(ct, 0, &count, &has_own);
    CHECK_EQ(count, 0);
    ovsrcu_barrier();
    ctdp_ct_flush_filter_init(&f);
    CHECK_EQ(ctdp_ct_flush(ct, &f, 40000), 0);
    /* The list still works: a new conn is listed and flushed. */
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 40000), TRK_NEW);
    CHECK_EQ(ctdp_ct_flush(ct, &f, 40000), 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

/* ---- Small tables ------------------------------------------------------ */

struct small_writer {
    struct ctdp_ct *ct;
    uint32_t net;
};

static void *
small_writer_main(void *w_)
{
    struct small_writer *w = w_;

    for (int round = 0; round < 200; round++) {
        tpkt_udp_batch(w->ct, w->net, 0, 32, 0, true, round * 31 * 1000LL);
        ovsrcu_quiesce();
    }
    return NULL;
}

/* Two threads commit the same flows, each on its own clock, into a table
 * asked for 16 buckets, so that each removes the other's expired conns
 * through lookups.  Before the fix the bucket was 'hash & 15' and its lock
 * 'hash & 1023', so two writers could change one chain under two locks
 * ("assertion cur failed in unlink_node()", which ends the run). */
static void
test_reclaim_small_table(void)
{
    struct ctdp_ct_params params = { .n_buckets = 16 };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct small_writer w[2] = { { ct, 0x0a000000 }, { ct, 0x0a000000 } };
    pthread_t threads[2];
    uint32_t n_buckets;

    for (int i = 0; i < 2; i++) {
        threads[i] = ovs_thread_create("ct-small", small_writer_main, &w[i]);
    }
    for (int i = 0; i < 2; i++) {
        xpthread_join(threads[i], NULL);
    }
    free(ctdp_ct_chain_lengths(ct, &n_buckets));
    CHECK(n_buckets >= 1024);
    CHECK(ctdp_ct_n_conns(ct) <= 64);
    tpkt_ct_destroy(ct);
}

/* ---- Labels are read whole --------------------------------------------- */

/* Runs one packet of 10.0.0.1:1000 > 10.0.0.2:53 through ct() with 'a';
 * returns the label it came out with. */
static ovs_u128
label_run(struct ctdp_ct *ct, const struct ctdp_ct_action *a)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct dp_packet *pkt = tpkt_udp(&ip, 1000, 53, 0);
    ovs_u128 label;

    if (tpkt_ct(ct, pkt, a, 0) == TPKT_DROPPED) {
        return OVS_U128_ZERO;
    }
    label = pkt->md.ct_label;
    tpkt_free(ct, pkt);
    return label;
}

struct labeller {
    struct ctdp_ct *ct;
    atomic_bool stop;
};

/* Commits the conn with labels all ones and all zeros in turn. */
static void *
labeller_main(void *l_)
{
    struct labeller *l = l_;
    struct ctdp_ct_action a = tpkt_action(0, true);
    bool stop;

    a.set_label = true;
    a.label_mask.u64.lo = a.label_mask.u64.hi = UINT64_MAX;
    for (uint64_t i = 0; ; i++) {
        a.label.u64.lo = a.label.u64.hi = i & 1 ? UINT64_MAX : 0;
        label_run(l->ct, &a);
        if (i % 64 == 0) {
            ovsrcu_quiesce();
            atomic_read(&l->stop, &stop);
            if (stop) {
                return NULL;
            }
        }
    }
}

/* While one thread commits new labels, packets of the conn come out with
 * one label or the other, never half of each.  (The label is two words;
 * packets used to copy it without the conn's lock.) */
static void
test_reclaim_label_whole(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action track = tpkt_action(0, false);
    struct labeller l = { .ct = ct };
    double end;
    pthread_t thread;
    long n = 0, torn = 0;

    label_run(ct, &(struct ctdp_ct_action) { .commit = true });
    atomic_init(&l.stop, false);
    thread = ovs_thread_create("ct-labeller", labeller_main, &l);
    end = seconds_now() + 0.5;
    while (seconds_now() < end) {
        for (int i = 0; i < 256; i++, n++) {
            ovs_u128 label = label_run(ct, &track);

            torn += label.u64.lo != label.u64.hi;
        }
        ovsrcu_quiesce();
    }
    atomic_store(&l.stop, true);
    xpthread_join(thread, NULL);
    printf("# %ld packets, %ld torn labels\n", n, torn);
    CHECK_EQ(torn, 0);
    tpkt_ct_destroy(ct);
}

const struct ctdp_unit_suite ct_reclaim_suite = {
    "ct-reclaim", (const struct ctdp_unit_case[]) {
        { "early_drop_flood", test_reclaim_early_drop_flood },
        { "expired_on_lookup", test_reclaim_expired_on_lookup },
        { "flush_under_commits", test_reclaim_flush_under_commits },
        { "no_free_before_unlink", test_reclaim_no_free_before_unlink },
        { "confirm_window", test_reclaim_confirm_window },
        { "removed_before_listed", test_reclaim_removed_before_listed },
        { "small_table", test_reclaim_small_table },
        { "label_whole", test_reclaim_label_whole },
        { NULL, NULL },
    },
};
