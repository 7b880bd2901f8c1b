/* ctdp-bench's one interface over two trackers.
 *
 * Both trackers get the same treatment on every ct() call:
 *
 *   - the batch is rebuilt from the burst's own array of packets;
 *   - every packet's metadata is reset with pkt_metadata_init(), so that
 *     neither tracker takes its "already tracked" shortcut (ctdp's
 *     'md.conn' reuse, Open vSwitch's cached 'md.conn');
 *   - after the call, the packets that came back +est are counted.
 *
 * For ctdp, every packet is then passed to ctdp_ct_packet_done(), and a
 * packet that ctdp_ct_execute() dropped (it frees it and removes it from
 * the batch) is counted and re-created in its slot.  Open vSwitch's
 * conntrack never removes packets from a batch.
 *
 * Expiry: Open vSwitch's conntrack runs its clean thread from
 * conntrack_init() to conntrack_destroy(), also while its runs are timed.
 * ctdp's equivalent is ctdpd's sweep (sweep_if_due() in lib/ctdp-dp.c):
 * a tenth of the table, at least 10,000 conns, every tenth of the sweep
 * interval (20 s by default).  bench_ct_sweep_start() and
 * bench_ct_sweep_stop() run that schedule on a thread of its own around
 * each of ctdp's timed runs.  The schedule's clock runs only between the
 * two calls, so that ctdp is swept at ctdpd's rate per second of its own
 * timed work, however long Open vSwitch's runs in between take.  The
 * sweeper passes the tracker's creation time as 'now': every conn was
 * made or refreshed since, so none is expired, and the sweep walks the
 * table and removes nothing, as the clean thread does on live conns. */
#include <config.h>
#include "ctdp-bench.h"

#include <string.h>
#include "conntrack.h"
#include "ct-dpif.h"
#include "ctdp-ct.h"
#include "latch.h"
#include "openvswitch/poll-loop.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

/* Both trackers may hold this many conns: the default of each. */
#define BENCH_MAX_CONNS 3000000

/* ctdp's sweeper.  The main thread writes these before it creates the
 * thread and reads them after it joins it; in between only the thread
 * touches them, except 'exit'. */
struct bench_sweeper {
    pthread_t thread;
    bool running;
    struct latch exit;          /* Set by bench_ct_sweep_stop(). */
    long long birth;            /* time_msec() at creation: the 'now'. */
    long long next;             /* time_msec() of the next slice. */
    long long wait;             /* Between runs: ms left until the next. */
    uint64_t removed;           /* Conns removed since the last start:
                                 * none are expected. */
};

struct bench_ct {
    enum bench_impl impl;
    struct ctdp_ct *ctdp;       /* For BENCH_CTDP. */
    struct bench_sweeper sweeper;   /* For BENCH_CTDP. */
    struct conntrack *ovs;      /* For BENCH_OVS. */
};

const char *
bench_impl_name(enum bench_impl impl)
{
    return impl == BENCH_CTDP ? "ctdp" : "OVS";
}

/* ctdpd's time between two sweep slices. */
static long long
sweep_period(const struct ctdp_ct *ctdp)
{
    return MAX(ctdp_ct_get_sweep_interval(ctdp) / 10, 1);
}

struct bench_ct *
bench_ct_create(enum bench_impl impl)
{
    struct bench_ct *ct = xzalloc(sizeof *ct);

    ct->impl = impl;
    if (impl == BENCH_CTDP) {
        struct ctdp_ct_params params = { .max_conns = BENCH_MAX_CONNS };

        ct->ctdp = ctdp_ct_create(&params);
        if (!ct->ctdp) {
            ovs_fatal(0, "ctdp_ct_create() failed");
        }
        /* As if the empty table had just been swept, as ctdpd and Open
         * vSwitch's clean thread both do when they start. */
        ct->sweeper.birth = time_msec();
        ct->sweeper.wait = sweep_period(ct->ctdp);
    } else {
        ct->ovs = conntrack_init();
        conntrack_set_maxconns(ct->ovs, BENCH_MAX_CONNS);
    }
    return ct;
}

void
bench_ct_destroy(struct bench_ct *ct)
{
    if (ct) {
        ovs_assert(!ct->sweeper.running);
        if (ct->impl == BENCH_CTDP) {
            ctdp_ct_destroy(ct->ctdp);
        } else {
            conntrack_destroy(ct->ovs);
        }
        free(ct);
    }
}

enum bench_impl
bench_ct_impl(const struct bench_ct *ct)
{
    return ct->impl;
}

static bool
is_est(const struct dp_packet *pkt)
{
    return (pkt->md.ct_state & CS_ESTABLISHED) != 0;
}

/* ctdp_ct_execute() keeps the packets it does not drop in their order, so
 * walking the burst and the batch side by side finds the dropped ones. */
static void
ctdp_finish(struct ctdp_ct *ct, struct bench_burst *burst)
{
    const struct dp_packet_batch *batch = &burst->batch;
    size_t j = 0;

    for (size_t i = 0; i < burst->n; i++) {
        struct dp_packet *pkt = burst->pkts[i];

        if (j < batch->count && batch->packets[j] == pkt) {
            burst->est += is_est(pkt);
            ctdp_ct_packet_done(ct, pkt);
            j++;
        } else {
            burst->drops++;
            bench_burst_replace(burst, i);
        }
    }
}

/* Runs ct(zone='zone'[, commit][, nat...]) on 'burst''s packets at time
 * 'now'.  The NAT actions are the same for both trackers: Open vSwitch's
 * flow action ct(commit, nat(src=10.1.2.1:1024-65535)) reaches
 * conntrack_execute() as NAT_ACTION_SRC | NAT_ACTION_SRC_PORT with that
 * address and port range, and a bare ct(nat) as a nat_action_info_t with
 * no action (dpif-netdev passes one whenever the action has a nat). */
void
bench_ct_execute(struct bench_ct *ct, struct bench_burst *burst,
                 uint16_t zone, bool commit, enum bench_nat nat,
                 long long now)
{
    bench_burst_load(burst);
    if (!ct) {
        /* The benchmark alone (bench_harness()). */
        for (size_t i = 0; i < burst->n; i++) {
            burst->pkts[i]->md.ct_state = CS_TRACKED | CS_ESTABLISHED;
        }
        burst->est += burst->n;
    } else if (ct->impl == BENCH_CTDP) {
        struct ctdp_ct_action action = {
            .zone = zone, .commit = commit, .nat = nat != BENCH_NAT_NONE,
        };

        if (nat == BENCH_NAT_SRC) {
            action.nat_range = (struct ctdp_nat_range) {
                .flags = CTDP_NAT_SRC | CTDP_NAT_PORTS,
                .l3 = CTDP_L3_IPV4,
                .min_addr.ip4 = htonl(BENCH_NAT_ADDR),
                .max_addr.ip4 = htonl(BENCH_NAT_ADDR),
                .min_port = BENCH_NAT_MIN_PORT,
                .max_port = BENCH_NAT_MAX_PORT,
            };
        }
        ctdp_ct_execute(ct->ctdp, &burst->batch, &action, now);
        ctdp_finish(ct->ctdp, burst);
    } else {
        struct nat_action_info_t info;
        struct dp_packet *pkt;

        memset(&info, 0, sizeof info);
        if (nat == BENCH_NAT_SRC) {
            info.min_addr.ipv4 = htonl(BENCH_NAT_ADDR);
            info.max_addr.ipv4 = htonl(BENCH_NAT_ADDR);
            info.min_port = BENCH_NAT_MIN_PORT;
            info.max_port = BENCH_NAT_MAX_PORT;
            info.nat_action = NAT_ACTION_SRC | NAT_ACTION_SRC_PORT;
        }
        conntrack_execute(ct->ovs, &burst->batch, htons(ETH_TYPE_IP), false,
                          commit, zone, NULL, NULL, 0, 0, NULL,
                          nat != BENCH_NAT_NONE ? &info : NULL, now, 0);
        DP_PACKET_BATCH_FOR_EACH (i, pkt, &burst->batch) {
            burst->est += is_est(pkt);
        }
    }
}

void
bench_ct_set_acct(struct bench_ct *ct, bool on)
{
    size_t i;

    ovs_assert(ct->impl == BENCH_CTDP
               && ctdp_ct_sysctl_find("nf_conntrack_acct", &i));
    ctdp_ct_sysctl_set(ct->ctdp, i, on);
}

uint32_t
bench_ct_n_conns(struct bench_ct *ct)
{
    uint32_t n = 0;

    if (ct->impl == BENCH_CTDP) {
        n = ctdp_ct_n_conns(ct->ctdp);
    } else {
        conntrack_get_nconns(ct->ovs, &n);
    }
    return n;
}

/* Visits every conn of every zone; returns how many it saw. */
size_t
bench_ct_dump(struct bench_ct *ct, long long now)
{
    size_t n = 0;

    if (ct->impl == BENCH_CTDP) {
        struct ctdp_ct_dump *dump = ctdp_ct_dump_start(ct->ctdp, -1, now);
        struct ctdp_ct_entry entry;

        while (ctdp_ct_dump_next(dump, &entry)) {
            n++;
        }
        ctdp_ct_dump_done(dump);
    } else {
        struct conntrack_dump dump;
        struct ct_dpif_entry entry;
        int n_buckets;

        conntrack_dump_start(ct->ovs, &dump, NULL, &n_buckets);
        while (!conntrack_dump_next(&dump, &entry)) {
            ct_dpif_entry_uninit(&entry);
            n++;
        }
        conntrack_dump_done(&dump);
    }
    return n;
}

void
bench_ct_flush_zone(struct bench_ct *ct, uint16_t zone, long long now)
{
    if (ct->impl == BENCH_CTDP) {
        struct ctdp_ct_flush_filter filter;

        ctdp_ct_flush_filter_init(&filter);
        filter.zone = zone;
        ctdp_ct_flush(ct->ctdp, &filter, now);
    } else {
        conntrack_flush(ct->ovs, &zone);
    }
}

/* ---- ctdp's sweeper ---------------------------------------------------- */

/* Sweeps as ctdpd's sweep_if_due() does, until told to stop.  Like Open
 * vSwitch's clean_thread_main(), it waits in poll_block(), which quiesces
 * while it waits. */
static void *
sweeper_main(void *ct_)
{
    struct bench_ct *ct = ct_;
    struct bench_sweeper *sw = &ct->sweeper;

    while (!latch_is_set(&sw->exit)) {
        long long now = time_msec();

        if (now >= sw->next) {
            size_t budget = MAX(10000, ctdp_ct_n_conns(ct->ctdp) / 10);

            sw->removed += ctdp_ct_sweep(ct->ctdp, sw->birth, budget);
            sw->next = now + sweep_period(ct->ctdp);
        }
        poll_timer_wait_until(sw->next);
        latch_wait(&sw->exit);
        poll_block();
    }
    return NULL;
}

/* Starts sweeping 'ct' (ctdp only: Open vSwitch's clean thread needs no
 * help), picking up the schedule where bench_ct_sweep_stop() left it. */
void
bench_ct_sweep_start(struct bench_ct *ct)
{
    struct bench_sweeper *sw = &ct->sweeper;

    if (ct->impl == BENCH_CTDP) {
        ovs_assert(!sw->running);
        latch_init(&sw->exit);
        sw->removed = 0;
        sw->next = time_msec() + sw->wait;
        sw->running = true;
        sw->thread = ovs_thread_create("bench_sweep", sweeper_main, ct);
    }
}

/* Stops the sweeper that bench_ct_sweep_start() started, if any, and
 * returns the conns it removed since then (none are expected: see the top
 * of this file). */
uint64_t
bench_ct_sweep_stop(struct bench_ct *ct)
{
    struct bench_sweeper *sw = &ct->sweeper;

    if (!sw->running) {
        return 0;
    }
    latch_set(&sw->exit);
    ovsrcu_quiesce_start();     /* Joining must not hold up RCU frees. */
    xpthread_join(sw->thread, NULL);
    ovsrcu_quiesce_end();
    latch_destroy(&sw->exit);
    sw->running = false;
    sw->wait = MAX(0, sw->next - time_msec());
    return sw->removed;
}
