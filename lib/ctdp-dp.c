#include <config.h>
#include "ctdp-dp.h"
#include "ctdp-dp-private.h"

#include <errno.h>
#include <string.h>
#include "ctdp-clock.h"
#include "ctdp-ct.h"
#include "ctdp-dpcache.h"
#include "ctdp-flows.h"
#include "ctdp-inject.h"
#include "ctdp-ipf.h"
#include "ctdp-pipeline.h"
#include "ctdp-port.h"
#include "ctdp-replay.h"
#include "dp-packet.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_dp);

const char ctdp_dp_firewall_flows[] =
    "# ctdp's default flows: a stateful firewall between port 1 (inside)\n"
    "# and port 2 (outside).  Inside may open connections; replies and\n"
    "# related packets come back: ICMP errors, and the data connections\n"
    "# of FTP control connections to port 21, which get the FTP helper\n"
    "# (alg=ftp); a related connection is committed.  Anything else from\n"
    "# outside, and anything the tracker calls invalid, is dropped.  ARP\n"
    "# and IPv6 neighbour discovery pass both ways, router solicitations\n"
    "# out and advertisements in, untracked.\n"
    "table=0,priority=100,arp,in_port=1,actions=output:2\n"
    "table=0,priority=100,arp,in_port=2,actions=output:1\n"
    "table=0,priority=100,icmp6,icmp_type=133,in_port=1,actions=output:2\n"
    "table=0,priority=100,icmp6,icmp_type=134,in_port=2,actions=output:1\n"
    "table=0,priority=90,icmp6,icmp_type=135,in_port=1,actions=output:2\n"
    "table=0,priority=90,icmp6,icmp_type=135,in_port=2,actions=output:1\n"
    "table=0,priority=90,icmp6,icmp_type=136,in_port=1,actions=output:2\n"
    "table=0,priority=90,icmp6,icmp_type=136,in_port=2,actions=output:1\n"
    "table=0,priority=10,ip,actions=ct(table=1)\n"
    "table=0,priority=10,ipv6,actions=ct(table=1)\n"
    "table=0,priority=0,actions=drop\n"
    "table=1,priority=100,ct_state=+trk+inv,actions=drop\n"
    "table=1,priority=60,ct_state=+trk+new-rel,tcp,in_port=1,tp_dst=21,"
    "actions=ct(commit,alg=ftp),output:2\n"
    "table=1,priority=60,ct_state=+trk+new-rel,tcp6,in_port=1,tp_dst=21,"
    "actions=ct(commit,alg=ftp),output:2\n"
    "table=1,priority=50,ct_state=+trk+new,ip,in_port=1,"
    "actions=ct(commit),output:2\n"
    "table=1,priority=50,ct_state=+trk+new,ipv6,in_port=1,"
    "actions=ct(commit),output:2\n"
    "table=1,priority=50,ct_state=+trk+est,in_port=1,actions=output:2\n"
    "table=1,priority=50,ct_state=+trk+est,in_port=2,actions=output:1\n"
    "table=1,priority=50,ct_state=+trk+rel-new,in_port=1,actions=output:2\n"
    "table=1,priority=50,ct_state=+trk+rel,ip,in_port=2,"
    "actions=ct(commit),output:1\n"
    "table=1,priority=50,ct_state=+trk+rel,ipv6,in_port=2,"
    "actions=ct(commit),output:1\n"
    "table=1,priority=0,actions=drop\n";

char *
ctdp_dp_masquerade_flows(const char *range)
{
    /* ctdp_dp_firewall_flows with its IPv4 ct() actions NATing: keep the
     * two in step (tests/test_man.py compares them). */
    return xasprintf(
        "# ctdp's default flows with masquerade (ctdpd --masquerade): the\n"
        "# stateful firewall between port 1 (inside) and port 2 (outside),\n"
        "# whose IPv4 conns from inside are source-NATed to %s.\n"
        "# Every IPv4 packet goes through ct(nat) first, so that replies\n"
        "# and related ICMP errors from outside are translated back before\n"
        "# they reach port 1.  IPv6 is not masqueraded: it passes as in the\n"
        "# plain firewall, untranslated.  The FTP helper rewrites PORT and\n"
        "# EPRT to name the NAT address, so active FTP works too.\n"
        "table=0,priority=100,arp,in_port=1,actions=output:2\n"
        "table=0,priority=100,arp,in_port=2,actions=output:1\n"
        "table=0,priority=100,icmp6,icmp_type=133,in_port=1,"
        "actions=output:2\n"
        "table=0,priority=100,icmp6,icmp_type=134,in_port=2,"
        "actions=output:1\n"
        "table=0,priority=90,icmp6,icmp_type=135,in_port=1,actions=output:2\n"
        "table=0,priority=90,icmp6,icmp_type=135,in_port=2,actions=output:1\n"
        "table=0,priority=90,icmp6,icmp_type=136,in_port=1,actions=output:2\n"
        "table=0,priority=90,icmp6,icmp_type=136,in_port=2,actions=output:1\n"
        "table=0,priority=10,ip,actions=ct(table=1,nat)\n"
        "table=0,priority=10,ipv6,actions=ct(table=1)\n"
        "table=0,priority=0,actions=drop\n"
        "table=1,priority=100,ct_state=+trk+inv,actions=drop\n"
        "table=1,priority=60,ct_state=+trk+new-rel,tcp,in_port=1,tp_dst=21,"
        "actions=ct(commit,alg=ftp,nat(src=%s)),output:2\n"
        "table=1,priority=60,ct_state=+trk+new-rel,tcp6,in_port=1,tp_dst=21,"
        "actions=ct(commit,alg=ftp),output:2\n"
        "table=1,priority=50,ct_state=+trk+new,ip,in_port=1,"
        "actions=ct(commit,nat(src=%s)),output:2\n"
        "table=1,priority=50,ct_state=+trk+new,ipv6,in_port=1,"
        "actions=ct(commit),output:2\n"
        "table=1,priority=50,ct_state=+trk+est,in_port=1,actions=output:2\n"
        "table=1,priority=50,ct_state=+trk+est,in_port=2,actions=output:1\n"
        "table=1,priority=50,ct_state=+trk+rel-new,in_port=1,"
        "actions=output:2\n"
        "table=1,priority=50,ct_state=+trk+rel,ip,in_port=2,"
        "actions=ct(commit),output:1\n"
        "table=1,priority=50,ct_state=+trk+rel,ipv6,in_port=2,"
        "actions=ct(commit),output:1\n"
        "table=1,priority=0,actions=drop\n",
        range, range, range);
}

/* Returns the tracker's time now, and in '*wall_offset' what to add to it
 * to get wall-clock milliseconds (0 once the clock has followed a capture,
 * whose timestamps are wall-clock times), as ctdp_ct_format_entry()
 * wants. */
long long
ctdp_dp_now(struct ctdp_dp *dp, long long *wall_offset)
{
    long long now = dp_now(dp);

    if (wall_offset) {
        *wall_offset = ctdp_clock_wall_offset(&dp->clock);
    }
    return now;
}

/* ---- Output ------------------------------------------------------------ */

/* The packets one thread has to send after a received batch, grouped by
 * port. */
#define TXQ_PORTS 8
struct txq {
    struct ctdp_dp *dp;
    const struct dp_when *when;
    size_t n;
    struct {
        ofp_port_t ofport;
        long long usec;         /* Of every packet in 'batch'. */
        struct dp_packet_batch batch;
    } q[TXQ_PORTS];
};

static void
txq_send(struct txq *t, size_t i)
{
    struct dp_port *dpp = port_get(t->dp, t->q[i].ofport);

    if (dpp) {
        ctdp_port_send(dpp->port, &t->q[i].batch, t->q[i].usec);
        if (t->when->flush) {
            ctdp_port_flush(dpp->port);
        }
    } else {
        dp_packet_delete_batch(&t->q[i].batch, true);
    }
}

static void
txq_flush(struct txq *t)
{
    for (size_t i = 0; i < t->n; i++) {
        txq_send(t, i);
    }
    t->n = 0;
}

/* The pipeline's output callback.  A pcap port's packets are written in
 * runs of one stamp: a packet stamped otherwise than those queued sends
 * them first. */
static bool
txq_output(void *t_, ofp_port_t ofport, struct dp_packet *pkt, size_t idx)
{
    struct txq *t = t_;
    long long usec = t->when->usecs ? t->when->usecs[idx] : t->when->usec;
    size_t i;

    if (!port_get(t->dp, ofport)) {
        dp_packet_delete(pkt);
        return false;
    }
    for (i = 0; i < t->n && t->q[i].ofport != ofport; i++) {
        continue;
    }
    if (i == TXQ_PORTS) {
        txq_flush(t);
        i = 0;
    }
    if (i == t->n) {
        t->q[i].ofport = ofport;
        dp_packet_batch_init(&t->q[i].batch);
        t->n++;
    }
    if (dp_packet_batch_is_full(&t->q[i].batch)
        || (!dp_packet_batch_is_empty(&t->q[i].batch)
            && t->q[i].usec != usec)) {
        txq_send(t, i);
    }
    t->q[i].usec = usec;
    dp_packet_batch_add(&t->q[i].batch, pkt);
    return true;
}

/* ---- Receiving --------------------------------------------------------- */

static void
add_stats(struct ctdp_dp *dp, const struct ctdp_pipeline_stats *s)
{
    uint64_t old;

#define CTDP_PIPELINE_STAT(NAME, HELP)                  \
    if (s->NAME) {                                      \
        atomic_add_relaxed(&dp->NAME, s->NAME, &old);   \
    }
    CTDP_PIPELINE_STATS
#undef CTDP_PIPELINE_STAT
}

/* Runs 'batch', received on 'in_port', through the pipeline at 'when'
 * with the calling thread's flow cache 'cache', and sends what it
 * outputs. */
void
ctdp_dp_process(struct ctdp_dp *dp, struct ctdp_dpcache *cache,
              struct dp_packet_batch *batch, ofp_port_t in_port,
              const struct dp_when *when)
{
    struct txq t = { .dp = dp, .when = when };
    struct ctdp_pipeline p = {
        .flows = &dp->flows, .ct = dp->ct, .ipf = dp->ipf, .cache = cache,
        .output = txq_output, .aux = &t,
    };
    struct ctdp_pipeline_stats stats = { 0 };

    ctdp_pipeline_run(&p, batch, in_port, when->now, &stats);
    txq_flush(&t);
    add_stats(dp, &stats);
}

/* Processes 'batch', received live on 'in_port', now. */
void
ctdp_dp_process_live(struct ctdp_dp *dp, struct ctdp_dpcache *cache,
             struct dp_packet_batch *batch, ofp_port_t in_port)
{
    struct dp_when when = {
        .now = dp_now(dp), .usec = time_wall_usec(), .flush = true,
    };

    ctdp_dp_process(dp, cache, batch, in_port, &when);
}

/* ---- Ports ------------------------------------------------------------- */

static struct dp_port *
port_by_name(const struct ctdp_dp *dp, const char *name)
{
    for (size_t i = 0; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *dpp = port_get(dp, u16_to_ofp(i));

        if (dpp && !strcmp(ctdp_port_name(dpp->port), name)) {
            return dpp;
        }
    }
    return NULL;
}

/* Checks that a port opened from 'spec' would share no file with a port
 * of 'dp' (ctdp_port_check_files()). */
static char *
check_port_files(const struct ctdp_dp *dp, const struct ctdp_port_spec *spec)
{
    for (size_t i = 0; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *dpp = port_get(dp, u16_to_ofp(i));
        char *error = dpp ? ctdp_port_check_files(spec, dpp->port) : NULL;

        if (error) {
            return error;
        }
    }
    return NULL;
}

/* Chooses the port number for 'spec': its own, or the lowest free one. */
static char *
choose_ofport(const struct ctdp_dp *dp, const struct ctdp_port_spec *spec,
              ofp_port_t *ofport)
{
    if (spec->ofport != OFPP_NONE) {
        /* ctdp_port_parse() keeps it within CTDP_PORT_MAX. */
        if (port_get(dp, spec->ofport)) {
            return xasprintf("ofport %u is taken",
                             ofp_to_u16(spec->ofport));
        }
        *ofport = spec->ofport;
        return NULL;
    }
    for (size_t i = 1; i < CTDP_MAX_PORTS; i++) {
        if (!port_get(dp, u16_to_ofp(i))) {
            *ofport = u16_to_ofp(i);
            return NULL;
        }
    }
    return xasprintf("no free port number (at most %d ports)",
                     CTDP_MAX_PORTS - 1);
}

char *
ctdp_dp_add_port(struct ctdp_dp *dp, const char *spec_)
{
    ofp_port_t ofport = OFPP_NONE;
    struct ctdp_port_spec spec;
    struct ctdp_port *port;
    struct dp_port *dpp;
    char *error;

    error = ctdp_port_parse(spec_, &spec);
    if (error) {
        return error;
    }
    if (port_by_name(dp, spec.name)) {
        error = xasprintf("port %s exists already", spec.name);
    } else {
        error = check_port_files(dp, &spec);
    }
    if (!error) {
        error = choose_ofport(dp, &spec, &ofport);
    }
    if (!error) {
        error = ctdp_port_open(&spec, ofport, &port);
    }
    ctdp_port_spec_destroy(&spec);
    if (error) {
        return error;
    }
    dpp = xzalloc(sizeof *dpp);
    dpp->dp = dp;
    dpp->port = port;
    ctdp_dp_rx_prepare(dp, dpp);
    ovsrcu_set(&dp->ports[ofp_to_u16(ofport)], dpp);
    ctdp_dp_rx_attach(dp, dpp);
    if (ctdp_port_pcap_input(port)) {
        ctdp_replay_add(dp->replay, ofport, ctdp_port_pcap_input(port));
    }
    VLOG_INFO("added port %s (%s) as port %u", ctdp_port_name(port),
              ctdp_port_type(port), ofp_to_u16(ofport));
    return NULL;
}

static void
dp_port_free(struct dp_port *dpp)
{
    ctdp_port_close(dpp->port);
    latch_destroy(&dpp->exit);
    free(dpp);
}

static void
remove_port(struct ctdp_dp *dp, struct dp_port *dpp)
{
    ovsrcu_set(&dp->ports[ofp_to_u16(ctdp_port_ofport(dpp->port))], NULL);
    if (ctdp_port_pcap_input(dpp->port)) {
        ctdp_replay_remove(dp->replay, ctdp_port_ofport(dpp->port));
    }
    ctdp_dp_rx_detach(dp, dpp);
    /* Other threads may still be sending on it until they quiesce. */
    ovsrcu_postpone(dp_port_free, dpp);
}

char *
ctdp_dp_del_port(struct ctdp_dp *dp, const char *name)
{
    struct dp_port *dpp = port_by_name(dp, name);

    if (!dpp) {
        return xasprintf("no port named %s", name);
    }
    VLOG_INFO("deleting port %s", name);
    remove_port(dp, dpp);
    return NULL;
}

/* ---- Injecting --------------------------------------------------------- */

/* Runs a packet through the pipeline as if received on 'port_name' (a name
 * or a number). */
char *
ctdp_dp_inject(struct ctdp_dp *dp, const char *port_name, const char *text)
{
    struct dp_port *dpp = port_by_name(dp, port_name);
    struct dp_packet_batch batch;
    struct dp_packet *pkt = NULL;
    unsigned int n;
    char *error;

    if (!dpp && str_to_uint(port_name, 10, &n) && n < CTDP_MAX_PORTS) {
        dpp = port_get(dp, u16_to_ofp(n));
    }
    if (!dpp) {
        return xasprintf("no port %s", port_name);
    }
    error = ctdp_inject_parse(text, &pkt);
    if (error) {
        return error;
    }
    dp_packet_batch_init_packet(&batch, pkt);
    ctdp_dp_process_live(dp, &dp->main_cache, &batch,
                         ctdp_port_ofport(dpp->port));
    return NULL;
}

/* ---- The datapath ------------------------------------------------------ */

struct ctdp_dp *
ctdp_dp_create(int n_threads)
{
    struct ctdp_dp *dp = xzalloc(sizeof *dp);

    dp->ct = ctdp_ct_create(NULL);
    if (!dp->ct) {
        ovs_fatal(0, "cannot create the connection tracker (no random "
                  "bytes from OpenSSL)");
    }
    dp->ipf = ctdp_ipf_create();
    ctdp_flows_init(&dp->flows);
    for (size_t i = 0; i < CTDP_MAX_PORTS; i++) {
        ovsrcu_init(&dp->ports[i], NULL);
    }
#define CTDP_PIPELINE_STAT(NAME, HELP) atomic_init(&dp->NAME, 0);
    CTDP_PIPELINE_STATS
#undef CTDP_PIPELINE_STAT
    ctdp_clock_init(&dp->clock);
    dp->replay = ctdp_replay_create();
    ctdp_dpcache_init(&dp->main_cache);
    dp->next_sweep = time_msec();
    ctdp_dp_rx_start(dp, n_threads);
    return dp;
}

void
ctdp_dp_destroy(struct ctdp_dp *dp)
{
    if (!dp) {
        return;
    }
    for (size_t i = 0; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *dpp = port_get(dp, u16_to_ofp(i));

        if (dpp) {
            remove_port(dp, dpp);
        }
    }
    ctdp_dp_rx_stop(dp);
    ctdp_dpcache_destroy(&dp->main_cache);
    ovsrcu_synchronize();
    ctdp_replay_destroy(dp->replay);
    ctdp_flows_destroy(&dp->flows);
    ctdp_ipf_destroy(dp->ipf);
    ctdp_ct_destroy(dp->ct);
    free(dp);
}

struct ctdp_flows *
ctdp_dp_flows(struct ctdp_dp *dp)
{
    return &dp->flows;
}

struct ctdp_ct *
ctdp_dp_ct(struct ctdp_dp *dp)
{
    return dp->ct;
}

struct ctdp_ipf *
ctdp_dp_ipf(struct ctdp_dp *dp)
{
    return dp->ipf;
}

/* At most one flow cache per thread that runs the pipeline. */
#define DP_MAX_CACHES(DP) (1 + (DP)->n_pool + CTDP_MAX_PORTS)

/* Fills 'caches' (DP_MAX_CACHES) with the datapath's flow caches: the main
 * thread's first, then the receive threads' in port or pool order.
 * Returns how many. */
static size_t
dp_caches(struct ctdp_dp *dp, struct ctdp_dpcache **caches)
{
    size_t n = 0;

    caches[n++] = &dp->main_cache;
    for (int i = 0; i < dp->n_pool; i++) {
        caches[n++] = &dp->pool[i].cache;
    }
    for (size_t i = 0; i < CTDP_MAX_PORTS && !dp->pool; i++) {
        struct dp_port *dpp = port_get(dp, u16_to_ofp(i));

        if (dpp && ctdp_port_is_live(dpp->port)) {
            caches[n++] = &dpp->cache;
        }
    }
    return n;
}

static uint64_t
read_counter(ATOMIC(uint64_t) *counter)
{
    uint64_t v;

    atomic_read_relaxed(counter, &v);
    return v;
}

static void
show_caches(struct ctdp_dp *dp, struct ds *s)
{
    struct ctdp_dpcache *caches[DP_MAX_CACHES(dp)];
    size_t n = dp_caches(dp, caches);
    uint64_t entries = 0, hits = 0, misses = 0, flushes = 0;

    for (size_t i = 0; i < n; i++) {
        entries += read_counter(&caches[i]->n_entries);
        hits += read_counter(&caches[i]->hits);
        misses += read_counter(&caches[i]->misses);
        flushes += read_counter(&caches[i]->flushes);
    }
    ds_put_format(s, "  flow cache: entries:%"PRIu64" hits:%"PRIu64
                  " misses:%"PRIu64" flushes:%"PRIu64"\n",
                  entries, hits, misses, flushes);
}

void
ctdp_dp_dump_dp_flows(struct ctdp_dp *dp, struct ds *s)
{
    struct ctdp_dpcache *caches[DP_MAX_CACHES(dp)];
    size_t n = dp_caches(dp, caches);
    long long now = dp_now(dp);

    for (size_t i = 0; i < n; i++) {
        ctdp_dpcache_format(caches[i], now, s);
    }
}

void
ctdp_dp_show(struct ctdp_dp *dp, struct ds *s)
{
    ds_put_format(s, "ctdp:\n  flows: %zu\n  conns: %u\n",
                  ctdp_flows_count(&dp->flows), ctdp_ct_n_conns(dp->ct));
    if (dp->pool) {
        ds_put_format(s, "  receive threads: %d, shared by the ports\n",
                      dp->n_pool);
    } else {
        ds_put_cstr(s, "  receive threads: one per port\n");
    }
    ds_put_format(s, "  event listeners: %zu (at most %d)\n",
                  ctdp_ct_n_listeners(dp->ct), CTDP_CT_MAX_LISTENERS);
    show_caches(dp, s);
    for (size_t i = 0; i < CTDP_MAX_PORTS; i++) {
        struct dp_port *dpp = port_get(dp, u16_to_ofp(i));

        if (dpp) {
            ds_put_format(s, "  port %zu: %s (", i, ctdp_port_name(dpp->port));
            ctdp_port_format(dpp->port, s);
            ds_put_cstr(s, ")\n");
        }
    }
    if (dp->n_fed || ctdp_replay_n_inputs(dp->replay)) {
        ds_put_format(s, "  pcap input: %"PRIu64" packets fed, %s\n",
                      dp->n_fed,
                      ctdp_dp_feed_pending(dp) ? "feeding" : "ended");
    }
    ds_put_cstr(s, "  drops:");
#define CTDP_PIPELINE_STAT(NAME, HELP)                          \
    {                                                           \
        uint64_t v;                                             \
        atomic_read_relaxed(&dp->NAME, &v);                     \
        ds_put_format(s, " " #NAME "=%"PRIu64, v);              \
    }
    CTDP_PIPELINE_STATS
#undef CTDP_PIPELINE_STAT
    ds_put_char(s, '\n');
}

/* Feeds a slice of pcap input, and sweeps a tenth of the table every
 * tenth of the sweep interval, so that every conn is looked at once per
 * interval without one long pass. */
void
ctdp_dp_run(struct ctdp_dp *dp)
{
    if (ctdp_dp_feed_pending(dp)) {
        ctdp_dp_feed(dp, FEED_SLICE, NULL);
    }
    ctdp_dp_sweep_if_due(dp, dp_now(dp));
}

void
ctdp_dp_wait(struct ctdp_dp *dp)
{
    if (ctdp_dp_feed_pending(dp)) {
        poll_immediate_wake();
    } else {
        poll_timer_wait_until(time_msec()
                              + MAX(0, dp->next_sweep - dp_now(dp)));
    }
}
