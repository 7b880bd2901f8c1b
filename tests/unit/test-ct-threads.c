/* Several datapath threads sharing one tracker: each commits, looks up
 * and replies on a mix of shared and private UDP flows with its own clock,
 * while one of them also sweeps and flushes a zone.  Afterwards the table
 * must be consistent: every dumped conn is found from both directions, the
 * conn count matches the dump and the NEW minus DESTROY events, and
 * destroying the tracker frees everything (the sanitizer build checks). */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-spin.h"
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

#define N_THREADS 3
#define N_BATCHES 4000
#define BATCH 16
#define N_SHARED 16
#define N_PRIVATE 1024
#define EVENT_CAPACITY (1 << 17)
#define MAX_DUMP 4096

struct worker {
    struct ctdp_ct *ct;
    int index;
    atomic_int *n_running;
    /* Results, read by the main thread after the join. */
    long long now;
    int n_bad_state;            /* Tracked packets without trk, or inv. */
    int n_dropped;              /* Packets the tracker took out. */
};

/* The flow numbered 'k' of thread 'index' (or, for index < 0, of the
 * shared pool), in the direction 'reply'. */
static struct dp_packet *
flow_packet(int index, uint32_t k, bool reply, uint16_t *zone)
{
    uint32_t net = index < 0 ? 0x0a010000 : 0x0a020000 + (index << 12);
    struct tpkt_ip ip = tpkt_ip4(net + k % 16, net + 0x100 + k / 16);
    uint16_t sport = 1000 + k % 3, dport = 53;

    *zone = index < 0 ? k % 2 : 2;
    if (reply) {
        ip = tpkt_ip_swap(&ip);
        return tpkt_udp(&ip, dport, sport, 8);
    }
    return tpkt_udp(&ip, sport, dport, 8);
}

static uint32_t
xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Runs one batch of BATCH packets in one zone, drawn from the shared pool
 * (zones 0 and 1) or the thread's own (zone 2). */
static void
run_batch(struct worker *w, uint32_t *rng)
{
    bool shared = xorshift(rng) % 2;
    uint32_t pick = xorshift(rng);
    uint16_t zone = shared ? pick % 2 : 2;
    struct ctdp_ct_action a = tpkt_action(zone, xorshift(rng) % 2);
    struct dp_packet_batch batch;
    struct dp_packet *pkt;
    uint16_t pkt_zone;

    dp_packet_batch_init(&batch);
    for (int i = 0; i < BATCH; i++) {
        uint32_t k = xorshift(rng);

        k = shared ? (k % (N_SHARED / 2)) * 2 + zone : k % N_PRIVATE;
        dp_packet_batch_add(&batch, flow_packet(shared ? -1 : w->index, k,
                                                xorshift(rng) % 2,
                                                &pkt_zone));
    }
    ctdp_ct_execute(w->ct, &batch, &a, w->now);
    w->n_dropped += BATCH - dp_packet_batch_size(&batch);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, &batch) {
        uint8_t state = pkt->md.ct_state;

        w->n_bad_state += !(state & CS_TRACKED) || state & CS_INVALID
                          || pkt->md.ct_zone != zone;
        tpkt_free(w->ct, pkt);
    }
}

static void *
worker_main(void *w_)
{
    struct worker *w = w_;
    uint32_t rng = 0x9e3779b9u * (w->index + 1);
    struct ctdp_ct_flush_filter f;
    int orig;

    ctdp_ct_flush_filter_init(&f);
    f.zone = 1;
    for (int i = 0; i < N_BATCHES; i++) {
        w->now += xorshift(&rng) % 200;
        run_batch(w, &rng);
        if (w->index == 0 && i % 32 == 31) {
            ctdp_ct_sweep(w->ct, w->now, 128);
        }
        if (w->index == 0 && i % 500 == 499) {
            ctdp_ct_flush(w->ct, &f, w->now);
        }
        ovsrcu_quiesce();
    }
    atomic_sub(w->n_running, 1, &orig);
    return NULL;
}

/* Event tallies, kept by the main thread while the workers run. */
struct tally {
    uint64_t n_new, n_destroy, lost;
};

static void
tally_events(struct ctdp_ct_listener *l, struct tally *t)
{
    static struct ctdp_ct_event ev[256];
    uint64_t lost = 0;
    size_t n;

    do {
        n = ctdp_ct_listener_poll(l, ev, ARRAY_SIZE(ev), &lost);
        for (size_t i = 0; i < n; i++) {
            t->n_new += ev[i].type == CTDP_EVENT_NEW;
            t->n_destroy += ev[i].type == CTDP_EVENT_DESTROY;
        }
        t->lost += lost;        /* 'lost' counts since the last poll. */
    } while (n);
}

/* Sends one packet of 'entry''s conn, in the original direction unless
 * 'reply', and checks that the lookup found a conn.  For the private flows
 * (zone 2), each tracked by one thread on one clock, it must be this conn
 * in this direction.  The shared flows are tracked on several clocks: one
 * thread may commit the reverse of a conn that another thread's clock has
 * not expired yet, so two conns with inverse tuples may coexist and the
 * packet may find the other one. */
static void
check_found(struct ctdp_ct *ct, const struct ctdp_ct_entry *e, bool reply,
            long long now)
{
    const struct ctdp_tuple *t = reply ? &e->reply : &e->orig;
    struct tpkt_ip ip = tpkt_ip4(ntohl(t->src.ip4), ntohl(t->dst.ip4));
    struct ctdp_ct_stats before, after;
    int want = reply ? TRK_EST_RPL
               : e->status & CTDP_S_SEEN_REPLY ? TRK_EST : TRK_NEW;
    int got;

    ctdp_ct_get_stats(ct, &before);
    got = tpkt_udp_ct(ct, &ip, ntohs(t->sport), ntohs(t->dport), t->zone,
                      false, now);
    ctdp_ct_get_stats(ct, &after);
    CHECK_EQ(after.found, before.found + 1);
    if (t->zone == 2) {
        CHECK_STATE(got, want);
    } else {
        CHECK(got == TRK_NEW || got == TRK_EST || got == TRK_EST_RPL);
    }
}

/* Checks the table after the workers stopped: swept at 'now', the dump's
 * size equals the conn count and the events' NEW minus DESTROY, and every
 * dumped conn is found from both directions. */
static void
check_final_table(struct ctdp_ct *ct, struct ctdp_ct_listener *l,
                  struct tally *t, long long now)
{
    struct ctdp_ct_entry *entries = xmalloc(MAX_DUMP * sizeof *entries);
    struct ctdp_ct_stats s;
    size_t n;

    ctdp_ct_sweep(ct, now, SIZE_MAX);
    tally_events(l, t);
    n = tpkt_dump(ct, -1, now, entries, MAX_DUMP);
    ctdp_ct_get_stats(ct, &s);
    printf("# %"PRIuSIZE" conns at the end; %"PRIu64" inserted, %"PRIu64
           " destroyed, %"PRIu64" clashes resolved, %"PRIu64" dropped, %"
           PRIu64" failed inserts, %"PRIu64" too long chains\n", n,
           t->n_new, t->n_destroy, s.clash_resolve, s.drop,
           s.insert_failed, s.chaintoolong);
    CHECK(n <= MAX_DUMP);
    CHECK(n > 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), n);
    CHECK_EQ(t->lost, 0);
    CHECK_EQ(t->n_new - t->n_destroy, n);
    CHECK_EQ(s.insert, t->n_new);
    for (size_t i = 0; i < n && i < MAX_DUMP; i++) {
        check_found(ct, &entries[i], false, now);
        check_found(ct, &entries[i], true, now);
    }
    free(entries);
}

/* N_THREADS workers share one tracker for N_BATCHES batches each; every
 * packet comes out tracked and valid (or is dropped and counted), and the
 * table is consistent afterwards. */
static void
test_threads_stress(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_listener *l = ctdp_ct_listen(ct, EVENT_CAPACITY, -1);
    struct worker workers[N_THREADS];
    pthread_t threads[N_THREADS];
    struct tally t = { 0, 0, 0 };
    int n_bad = 0, n_dropped = 0, running;
    atomic_int n_running;
    long long now = 0;
    struct ctdp_ct_stats s;

    atomic_init(&n_running, N_THREADS);
    for (int i = 0; i < N_THREADS; i++) {
        workers[i] = (struct worker) { .ct = ct, .index = i,
                                       .n_running = &n_running };
        threads[i] = ovs_thread_create("ct-worker", worker_main, &workers[i]);
    }
    do {
        atomic_read(&n_running, &running);
        tally_events(l, &t);
        ovsrcu_quiesce();
    } while (running);
    for (int i = 0; i < N_THREADS; i++) {
        xpthread_join(threads[i], NULL);
        n_bad += workers[i].n_bad_state;
        n_dropped += workers[i].n_dropped;
        now = MAX(now, workers[i].now);
    }
    CHECK_EQ(n_bad, 0);
    ctdp_ct_get_stats(ct, &s);
    CHECK_EQ(s.drop, n_dropped);
    check_final_table(ct, l, &t, now);
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* ctdp_spin (ctdp-spin.h) excludes: threads that start together and add
 * to a plain counter under it lose no addition.  A lock that did not
 * exclude (a store in place of the exchange) loses some of them on two
 * CPUs. */
#define SPIN_THREADS 2
#define SPIN_ADDS 5000000

struct spin_shared {
    struct ctdp_spin lock;
    uint64_t count OVS_GUARDED;
    atomic_int n_ready;
};

static void *
spin_main(void *shared_)
{
    struct spin_shared *shared = shared_;
    int ready;

    atomic_add(&shared->n_ready, 1, &ready);
    do {
        atomic_read(&shared->n_ready, &ready);
    } while (ready < SPIN_THREADS);
    for (int i = 0; i < SPIN_ADDS; i++) {
        ctdp_spin_lock(&shared->lock);
        shared->count++;
        ctdp_spin_unlock(&shared->lock);
    }
    return NULL;
}

static void
test_spin_excludes(void)
{
    struct spin_shared shared;
    pthread_t threads[SPIN_THREADS];

    ctdp_spin_init(&shared.lock);
    shared.count = 0;
    atomic_init(&shared.n_ready, 0);
    for (int i = 0; i < SPIN_THREADS; i++) {
        threads[i] = ovs_thread_create("ct-spin", spin_main, &shared);
    }
    for (int i = 0; i < SPIN_THREADS; i++) {
        xpthread_join(threads[i], NULL);
    }
    CHECK_EQ(shared.count, (uint64_t) SPIN_THREADS * SPIN_ADDS);
}

const struct ctdp_unit_suite ct_threads_suite = {
    "ct-threads", (const struct ctdp_unit_case[]) {
        { "stress", test_threads_stress },
        { "spin_excludes", test_spin_excludes },
        { NULL, NULL },
    },
};
