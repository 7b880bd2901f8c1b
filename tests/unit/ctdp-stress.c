/* ctdp-stress: the tracker raced as the kernel's conntrack_resize.sh races
 * nf_conntrack, for a given time.
 *
 *     ctdp-stress [SECONDS]        (default 15; `make stress DURATION=N`)
 *
 * Rounds of a few seconds, each on a new tracker that starts with the
 * smallest table, so that it grows all the time.  In each round:
 *   - TRAFFIC threads each keep a set of established UDP flows in a zone of
 *     their own (refreshed, in both directions, so ASSURED), and commit
 *     churn: new flows in zone 1 (flushed), zone 2 (kept, growing the
 *     table until it is full: then each commit evicts an unassured conn,
 *     often one the other thread has just made) and zone 3 (made with a
 *     clock that lags 29.5 s, so that they expire at once and the sweep or
 *     a lookup removes them);
 *   - a DUMPER thread dumps the whole table again and again;
 *   - an EVENT thread drains a listener;
 *   - the main thread flushes zone 1 and sweeps.
 * Checked: every packet of an established flow comes out +est (no
 * established flow is lost); each dump reports every established flow
 * exactly once; at the end of the round, per zone and in total, the conn
 * counts equal the dump and NEW minus DESTROY events, and no event was
 * lost.  The sanitizer builds check memory and races on the way.
 *
 * Output is TAP: one test per round. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dp-packet.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "util.h"

#define N_TRAFFIC 2
#define N_EST 512               /* Established flows per traffic thread. */
#define EST_ZONE 10             /* Thread i's flows are in zone 10 + i. */
#define N_ZONES (EST_ZONE + N_TRAFFIC)
#define ROUND_SECONDS 5.0
#define MAX_CONNS 150000

struct round {
    struct ctdp_ct *ct;
    atomic_bool stop;
    ATOMIC(long long) now;      /* The shared clock, in ms. */
    /* Failures, counted by the threads and read after the joins. */
    atomic_ullong n_lost_est;   /* Established packets not +est. */
    atomic_ullong n_dumps, n_bad_dumps;
    atomic_ullong n_packets;
};

/* ctdp-pkt.c's checks report here as in ctdp-unit. */
bool
ctdp_unit_check(bool ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        printf("# %s:%d: check failed: %s\n", file, line, expr);
    }
    return ok;
}

static void
add(atomic_ullong *counter, unsigned long long n)
{
    unsigned long long orig;

    atomic_add(counter, n, &orig);
}

static double
seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long
round_now(struct round *r)
{
    long long now;

    atomic_read(&r->now, &now);
    return now;
}

static bool
round_stopped(struct round *r)
{
    bool stop;

    atomic_read(&r->stop, &stop);
    return stop;
}

/* Established flow 'k' of traffic thread 't': 10.(t+1).x.y:1000 > 20.0.0.1:53. */
static struct tpkt_ip
est_ip(int t, uint32_t k)
{
    return tpkt_ip4(0x0a000000 | (t + 1) << 16 | k, 0x14000001);
}

/* Runs one packet of established flow 'k' ('reply': from the server) and
 * returns its ct_state. */
static int
est_packet(struct round *r, int t, uint32_t k, bool reply, bool commit)
{
    struct tpkt_ip ip = est_ip(t, k);

    if (reply) {
        ip = tpkt_ip_swap(&ip);
        return tpkt_ct1(r->ct, tpkt_udp(&ip, 53, 1000, 4), EST_ZONE + t,
                        commit, round_now(r));
    }
    return tpkt_ct1(r->ct, tpkt_udp(&ip, 1000, 53, 4), EST_ZONE + t, commit,
                    round_now(r));
}

/* Commits 32 new flows in 'zone' at time 'now'. */
static void
churn(struct round *r, uint32_t net, uint32_t *seq, uint16_t zone,
      long long now)
{
    struct ctdp_ct_action a = tpkt_action(zone, true);
    struct dp_packet_batch batch;
    struct dp_packet *pkt;

    dp_packet_batch_init(&batch);
    for (int i = 0; i < 32; i++, ++*seq) {
        struct tpkt_ip ip = tpkt_ip4(net + *seq, 0x14000002);

        dp_packet_batch_add(&batch, tpkt_udp(&ip, 2000, 53, 0));
    }
    ctdp_ct_execute(r->ct, &batch, &a, now);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, &batch) {
        tpkt_free(r->ct, pkt);
    }
}

struct traffic {
    struct round *r;
    int t;
    pthread_t thread;
};

static void *
traffic_main(void *tr_)
{
    struct traffic *tr = tr_;
    struct round *r = tr->r;
    uint32_t seq1 = 0, seq2 = 0, seq3 = 0, base = (uint32_t) tr->t << 22;
    unsigned long long lost = 0, n = 0;

    for (uint32_t i = 0; !round_stopped(r); i++) {
        uint32_t k = i % N_EST;

        lost += est_packet(r, tr->t, k, i & 1, false)
                != ((i & 1) ? TRK_EST_RPL : TRK_EST);
        n++;
        if (i % 8 == 0) {
            churn(r, 0x30000000 + base, &seq1, 1, round_now(r));
            churn(r, 0x40000000 + base, &seq2, 2, round_now(r));
            churn(r, 0x50000000 + base, &seq3, 3, round_now(r) - 29500);
            n += 96;
        }
        ovsrcu_quiesce();
    }
    add(&r->n_lost_est, lost);
    add(&r->n_packets, n);
    return NULL;
}

/* Dumps the table once; returns false if an established flow was missed
 * or reported twice.  'counts' gets the conns per zone. */
static bool
dump_once(struct round *r, uint32_t counts[N_ZONES], size_t *total)
{
    static uint8_t seen[N_TRAFFIC][N_EST];
    struct ctdp_ct_dump *dump = ctdp_ct_dump_start(r->ct, -1, round_now(r));
    struct ctdp_ct_entry e;
    bool ok = true;

    memset(seen, 0, sizeof seen);
    memset(counts, 0, N_ZONES * sizeof counts[0]);
    *total = 0;
    for (size_t n = 0; ctdp_ct_dump_next(dump, &e); n++) {
        uint16_t zone = e.orig.zone;

        ++*total;
        if (zone < N_ZONES) {
            counts[zone]++;
        }
        if (zone >= EST_ZONE && zone < N_ZONES) {
            uint32_t k = ntohl(e.orig.src.ip4) & 0xffff;

            if (k < N_EST && seen[zone - EST_ZONE][k]++) {
                ok = false;
            }
        }
        if (n % 64 == 0) {
            ovsrcu_quiesce();
        }
    }
    ctdp_ct_dump_done(dump);
    for (int t = 0; t < N_TRAFFIC; t++) {
        for (int k = 0; k < N_EST; k++) {
            if (seen[t][k] != 1 && ok) {
                printf("# a dump reported established flow %d of thread %d "
                       "%d times\n", k, t, seen[t][k]);
            }
            ok &= seen[t][k] == 1;
        }
    }
    return ok;
}

static void *
dumper_main(void *r_)
{
    struct round *r = r_;
    uint32_t counts[N_ZONES];
    size_t total;

    while (!round_stopped(r)) {
        bool ok = dump_once(r, counts, &total);

        add(&r->n_dumps, 1);
        add(&r->n_bad_dumps, !ok);
        ovsrcu_quiesce();
    }
    return NULL;
}

struct events {
    struct round *r;
    struct ctdp_ct_listener *l;
    long long n_new[N_ZONES + 1], n_destroy[N_ZONES + 1];
    uint64_t lost;
};

static void
drain(struct events *ev)
{
    static struct ctdp_ct_event buf[512];
    size_t n;

    do {
        n = ctdp_ct_listener_poll(ev->l, buf, ARRAY_SIZE(buf), &ev->lost);
        for (size_t i = 0; i < n; i++) {
            uint16_t zone = MIN(buf[i].entry.orig.zone, N_ZONES);

            ev->n_new[zone] += buf[i].type == CTDP_EVENT_NEW;
            ev->n_destroy[zone] += buf[i].type == CTDP_EVENT_DESTROY;
        }
    } while (n);
}

static void *
events_main(void *ev_)
{
    struct events *ev = ev_;

    while (!round_stopped(ev->r)) {
        drain(ev);
        ovsrcu_quiesce();
    }
    return NULL;
}

/* Checks the table at rest, once the expired conns are swept, against
 * the dump and the events. */
static bool
check_balance(struct round *r, struct events *ev)
{
    uint32_t counts[N_ZONES];
    long long sum = 0;
    size_t total;
    bool ok;

    ctdp_ct_sweep(r->ct, round_now(r), SIZE_MAX);
    ok = dump_once(r, counts, &total);
    drain(ev);
    ok &= ev->lost == 0 && total == ctdp_ct_n_conns(r->ct);
    for (int z = 0; z < N_ZONES; z++) {
        uint32_t count;
        bool own;

        ctdp_ct_get_zone_limit(r->ct, z, &count, &own);
        ok &= count == counts[z];
        ok &= ev->n_new[z] - ev->n_destroy[z] == counts[z];
        sum += counts[z];
    }
    ok &= sum == (long long) total;
    if (!ok) {
        printf("# at rest: %"PRIuSIZE" dumped, %u counted, %"PRIu64
               " events lost\n", total, ctdp_ct_n_conns(r->ct), ev->lost);
    }
    return ok;
}

static bool
run_round(int n, double seconds)
{
    struct round r = { .ct = ctdp_ct_create(NULL) };
    struct events ev = { .r = &r };
    struct traffic tr[N_TRAFFIC];
    struct ctdp_ct_flush_filter f;
    pthread_t dumper, events;
    double start = seconds_now(), end = start + seconds;
    unsigned long long lost, dumps, bad, packets;
    uint32_t n_buckets;
    bool ok;

    atomic_init(&r.stop, false);
    ev.l = ctdp_ct_listen(r.ct, 1 << 20, -1);  /* Resident as used. */
    /* The churn grows the table to 256k buckets, then fills it: early
     * drop from then on. */
    ctdp_ct_set_max_conns(r.ct, MAX_CONNS);
    /* Made 3 s ago, so that their next packet makes them ASSURED, which
     * early drop spares. */
    atomic_init(&r.now, 1000000 - 3000);
    for (int t = 0; t < N_TRAFFIC; t++) {
        for (uint32_t k = 0; k < N_EST; k++) {
            est_packet(&r, t, k, false, true);
            est_packet(&r, t, k, true, false);
        }
    }
    atomic_store(&r.now, 1000000);
    for (int t = 0; t < N_TRAFFIC; t++) {
        tr[t] = (struct traffic) { .r = &r, .t = t };
        tr[t].thread = ovs_thread_create("stress-traffic", traffic_main,
                                         &tr[t]);
    }
    dumper = ovs_thread_create("stress-dump", dumper_main, &r);
    events = ovs_thread_create("stress-events", events_main, &ev);
    ctdp_ct_flush_filter_init(&f);
    f.zone = 1;
    for (int i = 0; seconds_now() < end; i++) {
        atomic_store(&r.now, 1000000 + (long long) ((seconds_now() - start)
                                                    * 1000));
        ctdp_ct_sweep(r.ct, round_now(&r), 4096);
        if (i % 16 == 0) {
            ctdp_ct_flush(r.ct, &f, round_now(&r));
        }
        ovsrcu_quiesce();
        xnanosleep(2 * 1000 * 1000);
    }
    atomic_store(&r.stop, true);
    for (int t = 0; t < N_TRAFFIC; t++) {
        xpthread_join(tr[t].thread, NULL);
    }
    xpthread_join(dumper, NULL);
    xpthread_join(events, NULL);

    atomic_read(&r.n_lost_est, &lost);
    atomic_read(&r.n_dumps, &dumps);
    atomic_read(&r.n_bad_dumps, &bad);
    atomic_read(&r.n_packets, &packets);
    ok = check_balance(&r, &ev);
    free(ctdp_ct_chain_lengths(r.ct, &n_buckets));
    printf("# round %d: %llu packets, %u conns and %u buckets at the end, "
           "%llu dumps (%llu wrong), %llu established packets lost\n", n,
           packets, ctdp_ct_n_conns(r.ct), n_buckets, dumps, bad, lost);
    ok &= !lost && !bad && dumps > 0 && ctdp_ct_n_conns(r.ct) <= MAX_CONNS;
    ctdp_ct_unlisten(ev.l);
    tpkt_ct_destroy(r.ct);
    return ok;
}

int
main(int argc, char *argv[])
{
    double duration = argc > 1 ? atof(argv[1]) : 15.0;
    int n_rounds = MAX(1, (int) (duration / ROUND_SECONDS + 0.5));
    int failed = 0;

    set_program_name(argv[0]);
    printf("1..%d\n", n_rounds);
    for (int i = 1; i <= n_rounds; i++) {
        bool ok = run_round(i, duration / n_rounds);

        printf("%s %d - stress round %d\n", ok ? "ok" : "not ok", i, i);
        fflush(stdout);
        failed += !ok;
    }
    return failed ? 1 : 0;
}
