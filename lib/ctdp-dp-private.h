#ifndef CTDP_DP_PRIVATE_H
#define CTDP_DP_PRIVATE_H 1

/* The datapath's parts (ctdp-dp.h), shared by its files:
 *
 *   ctdp-dp.c     the datapath: ports, output, create/destroy, show, run;
 *   ctdp-rx.c     the receive threads (one per live port, or a pool);
 *   ctdp-feed.c   the pcap feeder (the main thread) and the sweep.
 *
 * Not for use outside them. */

#include <pthread.h>
#include "ctdp-clock.h"
#include "ctdp-dpcache.h"
#include "ctdp-flows.h"
#include "ctdp-pipeline.h"
#include "ctdp-port.h"
#include "latch.h"
#include "openvswitch/types.h"
#include "ovs-rcu.h"

struct ctdp_dp;
struct ctdp_ipf;
struct ctdp_replay;
struct dp_packet_batch;

/* Indexed by port number, 0 unused. */
#define CTDP_MAX_PORTS (CTDP_PORT_MAX + 1)

/* Packets of pcap input fed per ctdp_dp_run() (about half a millisecond),
 * so that the main thread still serves commands during a long replay. */
#define FEED_SLICE 1024

/* A port and the thread that receives on it (live ports only). */
struct dp_port {
    struct ctdp_dp *dp;
    struct ctdp_port *port;
    pthread_t thread;           /* Its own receive thread (no pool). */
    struct latch exit;
    int pool_thread;            /* With a pool: the thread polling it. */
    struct ctdp_dpcache cache;  /* Its own thread's (no pool). */
};

/* With --n-threads, a fixed pool of receive threads, each polling the
 * ports assigned to it; without, every port has a thread of its own. */
struct dp_thread {
    struct ctdp_dp *dp;
    int idx;
    pthread_t thread;
    struct latch exit;
    struct latch wake;          /* Its set of ports changed. */
    struct ctdp_dpcache cache;
};

struct ctdp_dp {
    struct ctdp_flows flows;
    struct ctdp_ct *ct;
    struct ctdp_ipf *ipf;       /* Defragmentation in front of 'ct'. */
    OVSRCU_TYPE(struct dp_port *) ports[CTDP_MAX_PORTS];   /* By ofport. */
    long long next_sweep;       /* On the tracker's clock. */
    struct dp_thread *pool;     /* 'n_pool' threads; NULL: one per port. */
    int n_pool;

    struct ctdp_clock clock;    /* The tracker's (ctdp-clock.h). */

    /* The pcap feeder's state; the main thread's only. */
    struct ctdp_replay *replay;
    uint64_t n_fed;             /* Pcap packets fed, ever. */

    /* The flow cache of the main thread: pcap input and injection. */
    struct ctdp_dpcache main_cache;

#define CTDP_PIPELINE_STAT(NAME, HELP) ATOMIC(uint64_t) NAME;
    CTDP_PIPELINE_STATS
#undef CTDP_PIPELINE_STAT
};

static inline struct dp_port *
port_get(const struct ctdp_dp *dp, ofp_port_t ofport)
{
    uint16_t n = ofp_to_u16(ofport);

    return n < CTDP_MAX_PORTS
           ? ovsrcu_get(struct dp_port *, &dp->ports[n]) : NULL;
}

static inline long long
dp_now(const struct ctdp_dp *dp)
{
    return ctdp_clock_now(&dp->clock);
}

/* When a batch is processed. */
struct dp_when {
    long long now;              /* The tracker's time (ms). */
    long long usec;             /* Stamp for pcap outputs (us since the
                                 * epoch)... */
    const long long *usecs;     /* ...or, if nonnull, one per packet. */
    bool flush;                 /* Flush pcap outputs after each send (live
                                 * input); the feeder flushes them after
                                 * each slice instead. */
};

/* ctdp-dp.c: runs 'batch', received on 'in_port', through the pipeline at
 * 'when' with the calling thread's flow cache 'cache', and sends what it
 * outputs; ..._live() at the time now. */
void ctdp_dp_process(struct ctdp_dp *, struct ctdp_dpcache *cache,
                     struct dp_packet_batch *, ofp_port_t in_port,
                     const struct dp_when *);
void ctdp_dp_process_live(struct ctdp_dp *, struct ctdp_dpcache *cache,
                          struct dp_packet_batch *, ofp_port_t in_port);

/* ctdp-rx.c.  ..._start() starts the pool of 'n_threads' receive threads
 * (none for 0: every live port then gets a thread of its own) and
 * ..._stop() stops it.  A live port is prepared before it is published in
 * the datapath's ports, attached after, and detached after it was
 * unpublished (its own thread is then joined). */
void ctdp_dp_rx_start(struct ctdp_dp *, int n_threads);
void ctdp_dp_rx_stop(struct ctdp_dp *);
void ctdp_dp_rx_prepare(struct ctdp_dp *, struct dp_port *);
void ctdp_dp_rx_attach(struct ctdp_dp *, struct dp_port *);
void ctdp_dp_rx_detach(struct ctdp_dp *, struct dp_port *);

/* ctdp-feed.c.  Feeds up to 'budget' packets of pcap input and returns
 * true if input may remain; ..._pending() says whether input remains;
 * ctdp_dp_sweep_if_due() runs the tracker's and defragmentation's expiry
 * when it is due at 'now'. */
bool ctdp_dp_feed(struct ctdp_dp *, size_t budget, char **errorp);
bool ctdp_dp_feed_pending(const struct ctdp_dp *);
void ctdp_dp_sweep_if_due(struct ctdp_dp *, long long now);

#endif /* ctdp-dp-private.h */
