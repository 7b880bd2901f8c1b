/* The datapath's pcap feeder and the expiry sweep (ctdp-dp-private.h);
 * the main thread's. */
#include <config.h>
#include "ctdp-dp-private.h"

#include "ctdp-ct.h"
#include "ctdp-dp.h"
#include "ctdp-ipf.h"
#include "ctdp-pcap.h"
#include "ctdp-replay.h"
#include "dp-packet.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_feed);

/* Holds the clock for pcap packets stamped 'ms' (ctdp-clock.h); a feed
 * that begins moves the sweep's schedule to the capture's time. */
static long long
clock_hold(struct ctdp_dp *dp, long long ms)
{
    bool started;
    long long now = ctdp_clock_hold(&dp->clock, ms, &started);

    if (started) {
        dp->next_sweep = MAX(dp->next_sweep, now);
    }
    return now;
}

/* The time between two sweeps, each of a part of the table, for a sweep
 * interval of 'interval' ms. */
static long long
sweep_period(unsigned int interval)
{
    return MAX(interval / 10, 1);
}

void
ctdp_dp_sweep_if_due(struct ctdp_dp *dp, long long now)
{
    if (now >= dp->next_sweep) {
        unsigned int interval = ctdp_ct_get_sweep_interval(dp->ct);
        size_t budget = MAX(10000, ctdp_ct_n_conns(dp->ct) / 10);

        ctdp_ct_sweep(dp->ct, now, budget);
        ctdp_ipf_expire(dp->ipf, now);
        dp->next_sweep = now + sweep_period(interval);
    }
}

void
ctdp_dp_set_sweep_interval(struct ctdp_dp *dp, unsigned int ms)
{
    ctdp_ct_set_sweep_interval(dp->ct, ms);
    /* A sweep the old interval put far off comes at the new one's pace. */
    dp->next_sweep = MIN(dp->next_sweep, dp_now(dp) + sweep_period(ms));
}

static void
flush_pcaps(struct ctdp_dp *dp)
{
    for (size_t i = 0; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *dpp = port_get(dp, u16_to_ofp(i));

        if (dpp) {
            ctdp_port_flush(dpp->port);
        }
    }
}

/* Consecutive pcap packets of one port with one timestamp in ms, which
 * run through the pipeline as a batch (at the time of all of them). */
struct feed_batch {
    struct dp_packet_batch batch;
    ofp_port_t in_port;
    long long usecs[NETDEV_MAX_BURST];
};

static bool
feed_batch_takes(const struct feed_batch *fb, ofp_port_t in_port,
                 long long usec)
{
    size_t n = dp_packet_batch_size(&fb->batch);

    return !n || (n < NETDEV_MAX_BURST && in_port == fb->in_port
                  && usec / 1000 == fb->usecs[0] / 1000);
}

/* Runs the packets of 'fb' through the pipeline, at their timestamp. */
static void
feed_batch_run(struct ctdp_dp *dp, struct feed_batch *fb)
{
    size_t n = dp_packet_batch_size(&fb->batch);
    struct dp_when when = {
        .now = clock_hold(dp, fb->usecs[0] / 1000), .usecs = fb->usecs,
        .flush = false,
    };

    if (n) {
        ctdp_dp_process(dp, &dp->main_cache, &fb->batch, fb->in_port, &when);
        dp_packet_batch_init(&fb->batch);
        dp->n_fed += n;
        ctdp_dp_sweep_if_due(dp, when.now);
    }
}

/* The end of all pcap input: reports each capture that ended early, the
 * first into '*errorp' if 'errorp' is nonnull, the others to the log, and
 * lets the clock run. */
static void
feed_end(struct ctdp_dp *dp, char **errorp)
{
    for (size_t i = 0; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *dpp = port_get(dp, u16_to_ofp(i));
        const char *why;

        why = dpp && ctdp_port_pcap_input(dpp->port)
              ? ctdp_pcap_reader_error(ctdp_port_pcap_input(dpp->port)) : NULL;
        if (why && errorp && !*errorp) {
            *errorp = xasprintf("port %s: %s", ctdp_port_name(dpp->port), why);
        } else if (why) {
            VLOG_WARN("port %s: %s", ctdp_port_name(dpp->port), why);
        }
    }
    VLOG_INFO("pcap input ended: %"PRIu64" packets fed", dp->n_fed);
    ctdp_clock_release(&dp->clock);
}

/* Feeds up to 'budget' packets of pcap input, then flushes the tx
 * captures.  Returns true if input may remain. */
bool
ctdp_dp_feed(struct ctdp_dp *dp, size_t budget, char **errorp)
{
    struct dp_packet *pkt = NULL;
    struct feed_batch fb;

    dp_packet_batch_init(&fb.batch);
    for (size_t n = 0; n < budget; n++) {
        ofp_port_t in_port;
        long long usec;

        pkt = ctdp_replay_next(dp->replay, &in_port, &usec);
        if (!pkt) {
            break;
        }
        if (!feed_batch_takes(&fb, in_port, usec)) {
            feed_batch_run(dp, &fb);
        }
        fb.in_port = in_port;
        fb.usecs[dp_packet_batch_size(&fb.batch)] = usec;
        dp_packet_batch_add(&fb.batch, pkt);
    }
    feed_batch_run(dp, &fb);
    flush_pcaps(dp);
    if (!pkt && dp->clock.feeding) {
        feed_end(dp, errorp);
    }
    return pkt != NULL;
}

bool
ctdp_dp_feed_pending(const struct ctdp_dp *dp)
{
    return dp->clock.feeding || ctdp_replay_has_input(dp->replay);
}

/* See ctdp-dp.h; '*now' is the clock after the last packet, or now if
 * there was none. */
char *
ctdp_dp_replay(struct ctdp_dp *dp, long long *now,
               void (*progress)(void *aux, uint64_t n_fed), void *aux)
{
    char *error = NULL;

    while (ctdp_dp_feed(dp, FEED_SLICE, &error)) {
        ovsrcu_quiesce();
        if (progress) {
            progress(aux, dp->n_fed);
        }
    }
    *now = dp->n_fed ? dp->clock.held_ms : dp_now(dp);
    return error;
}
