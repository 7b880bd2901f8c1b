/* The datapath's receive threads (ctdp-dp-private.h). */
#include <config.h>
#include "ctdp-dp-private.h"

#include <errno.h>
#include <string.h>
#include "dp-packet.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_rx);

/* A busy receive thread runs this many rounds of receiving (a batch of
 * its port, or one of each of its pool's ports) between two looks at its
 * latches and two quiescent states, as an Open vSwitch PMD thread does:
 * looking at a latch is a system call, and ovsrcu_quiesce() takes the
 * process's one seq mutex twice and may wake the RCU thread.  Done every
 * round, they cost a busy thread 10 to 20% of its time, and more with two
 * threads than with one (ctdp-bench-netdev.py --threads).  64 rounds take
 * a few milliseconds at most. */
#define BUSY_ROUNDS 64

/* Receives up to BUSY_ROUNDS batches on 'dpp''s port and runs them through
 * the datapath.  Returns 0 if every round had packets, else what the
 * last receive returned. */
static int
port_run(struct dp_port *dpp)
{
    for (int i = 0; i < BUSY_ROUNDS; i++) {
        struct dp_packet_batch batch;
        int error;

        dp_packet_batch_init(&batch);
        error = ctdp_port_recv(dpp->port, &batch);
        if (error) {
            return error;
        }
        ctdp_dp_process_live(dpp->dp, &dpp->cache, &batch,
                             ctdp_port_ofport(dpp->port));
    }
    return 0;
}

static void *
port_main(void *dpp_)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct dp_port *dpp = dpp_;

    while (!latch_is_set(&dpp->exit)) {
        int error = port_run(dpp);

        ovsrcu_quiesce();
        if (!error) {
            continue;
        }
        if (error != EAGAIN && error != EOPNOTSUPP) {
            VLOG_WARN_RL(&rl, "%s: receive failed: %s",
                         ctdp_port_name(dpp->port), ovs_strerror(error));
        }
        ctdp_port_recv_wait(dpp->port);
        latch_wait(&dpp->exit);
        poll_block();
    }
    return NULL;
}

/* Receives on every live port assigned to pool thread 't'; returns true if
 * any had packets.  With 'wait', arranges to wake when any has. */
static bool
pool_poll(struct dp_thread *t, bool wait)
{
    struct ctdp_dp *dp = t->dp;
    bool busy = false;

    for (size_t i = 1; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *dpp = ovsrcu_get(struct dp_port *, &dp->ports[i]);
        struct dp_packet_batch batch;

        if (!dpp || !ctdp_port_is_live(dpp->port)
            || dpp->pool_thread != t->idx) {
            continue;
        }
        if (wait) {
            ctdp_port_recv_wait(dpp->port);
            continue;
        }
        dp_packet_batch_init(&batch);
        if (!ctdp_port_recv(dpp->port, &batch)) {
            ctdp_dp_process_live(dp, &t->cache, &batch,
                                 ctdp_port_ofport(dpp->port));
            busy = true;
        }
    }
    return busy;
}

static void *
pool_main(void *t_)
{
    struct dp_thread *t = t_;

    while (!latch_is_set(&t->exit)) {
        int n = 0;

        /* Drained before the rounds: a port set that changes after it is
         * read by the next round, or wakes the poll_block() below. */
        latch_poll(&t->wake);
        while (n < BUSY_ROUNDS && pool_poll(t, false)) {
            n++;
        }
        ovsrcu_quiesce();
        if (n == BUSY_ROUNDS) {
            continue;
        }
        pool_poll(t, true);
        latch_wait(&t->exit);
        latch_wait(&t->wake);
        poll_block();
    }
    return NULL;
}

/* Assigns 'dpp' to the pool thread with the fewest receiving ports. */
static void
pool_assign(struct ctdp_dp *dp, struct dp_port *dpp)
{
    int load[dp->n_pool], best = 0;

    memset(load, 0, sizeof load);
    for (size_t i = 1; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *other = port_get(dp, u16_to_ofp(i));

        if (other && ctdp_port_is_live(other->port) && other != dpp) {
            load[other->pool_thread]++;
        }
    }
    for (int i = 1; i < dp->n_pool; i++) {
        best = load[i] < load[best] ? i : best;
    }
    dpp->pool_thread = best;
}

void
ctdp_dp_rx_start(struct ctdp_dp *dp, int n_threads)
{
    if (n_threads <= 0) {
        return;
    }
    dp->n_pool = n_threads;
    dp->pool = xcalloc(n_threads, sizeof *dp->pool);
    for (int i = 0; i < n_threads; i++) {
        struct dp_thread *t = &dp->pool[i];

        t->dp = dp;
        t->idx = i;
        latch_init(&t->exit);
        latch_init(&t->wake);
        ctdp_dpcache_init(&t->cache);
        t->thread = ovs_thread_create("ctdp_rx", pool_main, t);
    }
}

void
ctdp_dp_rx_stop(struct ctdp_dp *dp)
{
    for (int i = 0; i < dp->n_pool; i++) {
        latch_set(&dp->pool[i].exit);
        xpthread_join(dp->pool[i].thread, NULL);
        ctdp_dpcache_destroy(&dp->pool[i].cache);
        latch_destroy(&dp->pool[i].exit);
        latch_destroy(&dp->pool[i].wake);
    }
    free(dp->pool);
}

void
ctdp_dp_rx_prepare(struct ctdp_dp *dp, struct dp_port *dpp)
{
    latch_init(&dpp->exit);
    if (ctdp_port_is_live(dpp->port) && dp->pool) {
        /* Before the port is published: a pool thread that sees it must
         * see its thread too, or two threads could poll it. */
        pool_assign(dp, dpp);
    }
}

void
ctdp_dp_rx_attach(struct ctdp_dp *dp, struct dp_port *dpp)
{
    if (!ctdp_port_is_live(dpp->port)) {
        return;
    }
    if (dp->pool) {
        latch_set(&dp->pool[dpp->pool_thread].wake);
    } else {
        ctdp_dpcache_init(&dpp->cache);
        dpp->thread = ovs_thread_create("ctdp_port", port_main, dpp);
    }
}

void
ctdp_dp_rx_detach(struct ctdp_dp *dp, struct dp_port *dpp)
{
    if (!ctdp_port_is_live(dpp->port)) {
        return;
    }
    if (dp->pool) {
        /* Its pool thread may be polling it: wake it to drop it. */
        latch_set(&dp->pool[dpp->pool_thread].wake);
    } else {
        latch_set(&dpp->exit);
        xpthread_join(dpp->thread, NULL);
        ctdp_dpcache_destroy(&dpp->cache);
    }
}
