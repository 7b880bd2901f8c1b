/* The batch pipeline and its flow cache (ctdp-pipeline.h, ctdp-dpcache.h)
 * driven directly: which packet objects leave, and how a batch of several
 * flows is classified into the cache's entries. */
#include <config.h>
#include "ctdp-pipeline.h"
#include "ctdp-unit.h"

#include "ctdp-ct.h"
#include "ctdp-dpcache.h"
#include "ctdp-flows.h"
#include "ctdp-pkt.h"
#include "dp-packet.h"
#include "ovs-rcu.h"
#include "util.h"

/* What the pipeline sent, in order. */
struct sent {
    size_t n;
    ofp_port_t port[64];
    struct dp_packet *pkt[64];
    size_t idx[64];
};

static bool
record(void *sent_, ofp_port_t port, struct dp_packet *pkt, size_t idx)
{
    struct sent *s = sent_;

    ovs_assert(s->n < ARRAY_SIZE(s->pkt));
    s->port[s->n] = port;
    s->pkt[s->n] = pkt;
    s->idx[s->n++] = idx;
    return true;
}

struct rig {
    struct ctdp_flows flows;
    struct ctdp_ct *ct;
    struct ctdp_dpcache cache;
    struct sent sent;
    struct ctdp_pipeline p;
    struct ctdp_pipeline_stats stats;
};

static void
rig_init(struct rig *r, const char *const *flows)
{
    memset(r, 0, sizeof *r);
    ctdp_flows_init(&r->flows);
    for (; *flows; flows++) {
        char *error = ctdp_flows_add(&r->flows, *flows);

        ovs_assert(!error);
    }
    r->ct = ctdp_ct_create(NULL);
    ctdp_dpcache_init(&r->cache);
    r->p = (struct ctdp_pipeline) {
        .flows = &r->flows, .ct = r->ct, .cache = &r->cache,
        .output = record, .aux = &r->sent,
    };
}

static void
rig_destroy(struct rig *r)
{
    for (size_t i = 0; i < r->sent.n; i++) {
        dp_packet_delete(r->sent.pkt[i]);
    }
    ctdp_dpcache_destroy(&r->cache);
    ctdp_ct_destroy(r->ct);
    ctdp_flows_destroy(&r->flows);
    ovsrcu_synchronize();
}

static struct dp_packet *
udp(uint16_t sport)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");

    return tpkt_udp(&ip, sport, 53, 0);
}

/* A packet's last output is the packet itself; an earlier one is a copy;
 * and that holds after a ct() too. */
static void
test_pipeline_last_output_sends_the_packet(void)
{
    static const char *const flows[] = {
        "table=0,ip,actions=output:2,ct(commit,table=1)",
        "table=1,ip,actions=output:3,output:4",
        NULL,
    };
    struct dp_packet_batch batch;
    struct dp_packet *pkt = udp(1000);
    struct rig r;

    rig_init(&r, flows);
    dp_packet_batch_init_packet(&batch, pkt);
    ctdp_pipeline_run(&r.p, &batch, u16_to_ofp(1), 0, &r.stats);
    CHECK(dp_packet_batch_is_empty(&batch));
    CHECK_EQ(r.sent.n, 3);
    CHECK_EQ(ofp_to_u16(r.sent.port[0]), 2);
    CHECK_EQ(ofp_to_u16(r.sent.port[1]), 3);
    CHECK_EQ(ofp_to_u16(r.sent.port[2]), 4);
    CHECK(r.sent.pkt[0] != pkt && r.sent.pkt[1] != pkt);
    CHECK(r.sent.pkt[2] == pkt);
    CHECK_EQ(ctdp_ct_n_conns(r.ct), 1);
    rig_destroy(&r);
}

/* A batch of three flows, interleaved: one entry per segment kind, every
 * packet out with the index it came in at, each flow's packets in their
 * order; the second batch only hits. */
static void
test_pipeline_batch_groups_by_entry(void)
{
    static const char *const flows[] = {
        "table=0,priority=10,udp,tp_src=1000,actions=output:2",
        "table=0,priority=10,udp,tp_src=1001,actions=ct(table=1)",
        "table=0,priority=5,ip,actions=output:4",
        "table=1,ct_state=+trk+new,actions=output:3",
        NULL,
    };
    static const uint16_t sports[] = { 1000, 1001, 1002, 1000, 1001, 1002 };
    struct dp_packet_batch batch;
    uint64_t hits, misses, entries;
    struct rig r;

    rig_init(&r, flows);
    for (int round = 0; round < 2; round++) {
        dp_packet_batch_init(&batch);
        for (size_t i = 0; i < ARRAY_SIZE(sports); i++) {
            dp_packet_batch_add(&batch, udp(sports[i]));
        }
        ctdp_pipeline_run(&r.p, &batch, u16_to_ofp(1), 0, &r.stats);
    }
    CHECK_EQ(r.sent.n, 12);
    for (size_t i = 0; i < r.sent.n; i++) {
        uint16_t port = ofp_to_u16(r.sent.port[i]);
        uint16_t sport = sports[r.sent.idx[i]];

        CHECK_EQ(port, sport == 1000 ? 2 : sport == 1001 ? 3 : 4);
        /* Within a batch (6 outputs each), a flow's packets leave in the
         * order they came. */
        for (size_t j = i / 6 * 6; j < i; j++) {
            if (r.sent.port[j] == r.sent.port[i]) {
                CHECK(r.sent.idx[j] < r.sent.idx[i]);
            }
        }
    }
    atomic_read_relaxed(&r.cache.hits, &hits);
    atomic_read_relaxed(&r.cache.misses, &misses);
    atomic_read_relaxed(&r.cache.n_entries, &entries);
    /* Segments: 1000's, 1002's, 1001's table 0 and its table 1. */
    CHECK_EQ(entries, 4);
    CHECK_EQ(misses, 4);
    CHECK_EQ(hits, 2 * 8 - 4);
    CHECK_EQ(r.stats.table_miss, 0);
    rig_destroy(&r);
}

/* A rule added between two batches decides the second: the cache built
 * at the first is emptied. */
static void
test_pipeline_flow_change_empties_cache(void)
{
    static const char *const flows[] = {
        "table=0,priority=10,ip,actions=output:2",
        NULL,
    };
    struct dp_packet_batch batch;
    uint64_t flushes;
    struct rig r;
    char *error;

    rig_init(&r, flows);
    dp_packet_batch_init_packet(&batch, udp(1));
    ctdp_pipeline_run(&r.p, &batch, u16_to_ofp(1), 0, &r.stats);
    error = ctdp_flows_add(&r.flows, "table=0,priority=20,ip,"
                           "actions=output:3");
    CHECK(!error);
    dp_packet_batch_init_packet(&batch, udp(1));
    ctdp_pipeline_run(&r.p, &batch, u16_to_ofp(1), 0, &r.stats);
    CHECK_EQ(r.sent.n, 2);
    CHECK_EQ(ofp_to_u16(r.sent.port[0]), 2);
    CHECK_EQ(ofp_to_u16(r.sent.port[1]), 3);
    atomic_read_relaxed(&r.cache.flushes, &flushes);
    CHECK_EQ(flushes, 1);
    rig_destroy(&r);
}

const struct ctdp_unit_suite pipeline_suite = {
    "pipeline", (const struct ctdp_unit_case[]) {
        { "last_output_sends_the_packet",
          test_pipeline_last_output_sends_the_packet },
        { "batch_groups_by_entry", test_pipeline_batch_groups_by_entry },
        { "flow_change_empties_cache",
          test_pipeline_flow_change_empties_cache },
        { NULL, NULL },
    },
};
