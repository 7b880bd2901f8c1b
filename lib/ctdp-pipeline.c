#include <config.h>
#include "ctdp-pipeline.h"

#include <string.h>
#include "ctdp-ct.h"
#include "ctdp-dpcache.h"
#include "ctdp-flows.h"
#include "ctdp-ipf.h"
#include "ctdp-xlate.h"
#include "dp-packet.h"
#include "flow.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "packets.h"
#include "util.h"

/* One packet's trip through the tables. */
struct run {
    struct dp_packet *pkt;          /* NULL once it is sent, dropped, or
                                     * held by defragmentation. */
    /* With 'pkt' a datagram that defragmentation reassembled: its original
     * fragments, which an output sends in its place. */
    struct ctdp_ipf_dgram *dgram;
    const struct ctdp_recirc *recirc;   /* Where it goes on; NULL: table 0. */
    const struct ctdp_dpflow *entry;    /* This round's. */
    size_t idx;                     /* In the received batch. */
    struct flow flow;
};

/* One received batch. */
struct trip {
    const struct ctdp_pipeline *p;
    ofp_port_t in_port;
    long long now;
    struct ctdp_pipeline_stats *stats;
    struct run runs[NETDEV_MAX_BURST];
};

/* The packets of one round that share an entry, in arrival order. */
struct group {
    const struct ctdp_dpflow *entry;
    size_t n;
    struct run *runs[NETDEV_MAX_BURST];
};

/* Ends 'r': frees what it still holds. */
static void
run_finish(struct trip *t, struct run *r)
{
    if (r->pkt) {
        ctdp_ct_packet_done(t->p->ct, r->pkt);
        dp_packet_delete(r->pkt);
        r->pkt = NULL;
    }
    if (r->dgram) {
        for (size_t i = 0; i < r->dgram->n_frags; i++) {
            dp_packet_delete(r->dgram->frags[i]);
        }
        ctdp_ipf_dgram_destroy(r->dgram);
        free(r->dgram);
        r->dgram = NULL;
    }
}

static void
output_packet(struct trip *t, struct run *r, ofp_port_t port,
              struct dp_packet *pkt)
{
    pkt->md.conn = NULL;        /* A copy's conn stays with the original. */
    if (!t->p->output(t->p->aux, port, pkt, r->idx)) {
        t->stats->no_port++;
    }
}

/* Sends the packet, or a copy if it is not 'last', to 'port'; a
 * reassembled datagram leaves as copies of its original fragments, brought
 * up to date with it. */
static void
do_output(struct trip *t, struct run *r, ofp_port_t port, bool last)
{
    if (r->dgram) {
        for (size_t i = 0; i < r->dgram->n_frags; i++) {
            struct dp_packet *copy = dp_packet_clone(r->dgram->frags[i]);

            ctdp_ipf_sync_fragment(copy, r->dgram);
            output_packet(t, r, port, copy);
        }
    } else if (last) {
        struct dp_packet *pkt = r->pkt;

        ctdp_ct_packet_done(t->p->ct, pkt);
        r->pkt = NULL;
        output_packet(t, r, port, pkt);
    } else {
        output_packet(t, r, port, dp_packet_clone(r->pkt));
    }
}

/* Extracts the flow from the packet anew (after NAT rewrote it, or
 * reassembly replaced it), keeping what the pipeline set: the ingress
 * port, registers, metadata and packet mark. */
static void
flow_reextract(struct run *r)
{
    struct flow now;

    flow_extract(r->pkt, &now);
    now.in_port = r->flow.in_port;
    memcpy(now.regs, r->flow.regs, sizeof now.regs);
    now.metadata = r->flow.metadata;
    now.pkt_mark = r->flow.pkt_mark;
    r->flow = now;
}

/* Runs the entry's actions, but its ct(), on the packets of 'g'. */
static void
run_ops(struct trip *t, const struct group *g)
{
    const struct ctdp_dpflow *e = g->entry;

    for (size_t k = 0; k < e->n_ops; k++) {
        const struct ctdp_op *op = &e->ops[k];

        for (size_t i = 0; i < g->n; i++) {
            struct run *r = g->runs[i];

            switch (op->type) {
            case CTDP_OP_OUTPUT:
                do_output(t, r, op->port, k == e->last_output);
                break;
            case CTDP_OP_SET_FIELD:
                mf_set_flow_value_masked(op->sf->field, op->sf->value,
                                         ofpact_set_field_mask(op->sf),
                                         &r->flow);
                break;
            case CTDP_OP_REG_MOVE:
                mf_subfield_copy(&op->move->src, &op->move->dst, &r->flow,
                                 NULL);
                break;
            case CTDP_OP_CT_CLEAR:
                ctdp_ct_clear(t->p->ct, r->pkt);
                ctdp_xlate_flow_set_ct(&r->flow, &r->pkt->md);
                break;
            case CTDP_OP_TABLE_MISS:
                t->stats->table_miss++;
                break;
            case CTDP_OP_TOO_DEEP:
                t->stats->too_deep++;
                break;
            }
        }
    }
}

/* Before a ct(): a fragment goes to defragmentation, as the kernel's
 * defrag hook and Open vSwitch's ipf.  Returns false if it was held (its
 * run ends here); the fragment that completes a datagram hands its run
 * over to the whole datagram, as the kernel's datapath does: it is tracked
 * once, every table after sees its L4 header, and an output sends the
 * original fragments (do_output()). */
static bool
defrag(struct trip *t, struct run *r, uint16_t zone)
{
    struct ctdp_ipf_dgram d;

    if (!t->p->ipf || !(r->flow.nw_frag & FLOW_NW_FRAG_ANY)) {
        return true;
    }
    ctdp_ct_packet_done(t->p->ct, r->pkt);
    switch (ctdp_ipf_gather(t->p->ipf, r->pkt, zone, t->now, &d)) {
    case CTDP_IPF_NOT_FRAGMENT:
        return true;
    case CTDP_IPF_HELD:
    case CTDP_IPF_DROPPED:      /* Counted by ipf-get-status. */
        r->pkt = NULL;
        return false;
    case CTDP_IPF_COMPLETE:
    default:
        ovs_assert(!r->dgram);  /* A whole datagram is no fragment. */
        r->pkt = d.whole;
        r->dgram = xmemdup(&d, sizeof d);
        flow_reextract(r);
        return true;
    }
}

/* Runs the entry's ct() on the packets of 'g' as one batch, and appends
 * those the tracker kept, with their ct fields set and the entry's
 * recirculation id, to 'next'; the others' runs end. */
static void
run_ct(struct trip *t, const struct group *g, struct run **next,
       size_t *n_next)
{
    const struct ctdp_dpflow *e = g->entry;
    struct run *tracked[NETDEV_MAX_BURST];
    struct dp_packet_batch batch;
    size_t n = 0, j = 0;

    dp_packet_batch_init(&batch);
    for (size_t i = 0; i < g->n; i++) {
        struct run *r = g->runs[i];

        if (defrag(t, r, e->ct_action.zone)) {
            dp_packet_batch_add(&batch, r->pkt);
            tracked[n++] = r;
        } else {
            run_finish(t, r);
        }
    }
    if (!n) {
        return;
    }
    ctdp_ct_execute(t->p->ct, &batch, &e->ct_action, t->now);

    /* The tracker keeps the packets it does not drop in order. */
    for (size_t i = 0; i < n; i++) {
        struct run *r = tracked[i];

        if (j < dp_packet_batch_size(&batch) && batch.packets[j] == r->pkt) {
            j++;
            if (r->pkt->md.ct_state & (CS_SRC_NAT | CS_DST_NAT)) {
                flow_reextract(r);
            }
            ctdp_xlate_flow_set_ct(&r->flow, &r->pkt->md);
            r->recirc = e->recirc;
            r->flow.recirc_id = e->recirc->id;
            next[(*n_next)++] = r;
        } else {
            r->pkt = NULL;      /* Freed by the tracker. */
            t->stats->ct_drop++;
            run_finish(t, r);
        }
    }
}

static void
run_group(struct trip *t, const struct group *g, struct run **next,
          size_t *n_next)
{
    uint64_t bytes = 0;

    for (size_t i = 0; i < g->n; i++) {
        bytes += dp_packet_size(g->runs[i]->pkt);
    }
    ctdp_dpflow_account(g->entry, g->n, bytes, t->now);
    run_ops(t, g);
    if (g->entry->ct) {
        run_ct(t, g, next, n_next);
    } else {
        for (size_t i = 0; i < g->n; i++) {
            run_finish(t, g->runs[i]);
        }
    }
}

/* Looks up the 'n' runs of 'active' and sorts them into 'groups' by
 * entry, in order of first arrival; returns the number of groups. */
static size_t
classify(struct trip *t, struct run **active, size_t n, struct group *groups)
{
    const struct ctdp_dpflow *hint = NULL;
    const struct ctdp_recirc *hint_recirc = NULL;
    size_t n_groups = 0;

    for (size_t i = 0; i < n; i++) {
        struct run *r = active[i];
        size_t k;

        r->entry = ctdp_dpcache_get(t->p->cache, t->p->flows, r->recirc,
                                    &r->flow,
                                    r->recirc == hint_recirc ? hint : NULL);
        hint = r->entry;
        hint_recirc = r->recirc;
        for (k = 0; k < n_groups && groups[k].entry != r->entry; k++) {
            continue;
        }
        if (k == n_groups) {
            groups[k].entry = r->entry;
            groups[k].n = 0;
            n_groups++;
        }
        groups[k].runs[groups[k].n++] = r;
    }
    return n_groups;
}

static void
run_start(struct trip *t, struct run *r, struct dp_packet *pkt, size_t idx)
{
    r->pkt = pkt;
    r->dgram = NULL;
    r->recirc = NULL;
    r->idx = idx;
    pkt_metadata_init(&pkt->md, u32_to_odp(ofp_to_u16(t->in_port)));
    flow_extract(pkt, &r->flow);
    r->flow.in_port.ofp_port = t->in_port;
}

void
ctdp_pipeline_run(const struct ctdp_pipeline *p, struct dp_packet_batch *batch,
                  ofp_port_t in_port, long long now,
                  struct ctdp_pipeline_stats *stats)
{
    struct group groups[NETDEV_MAX_BURST];
    struct run *active[NETDEV_MAX_BURST];
    struct dp_packet *pkt;
    size_t n = 0;
    struct trip t;              /* Not zeroed: 'runs' is 22 kB. */

    t.p = p;
    t.in_port = in_port;
    t.now = now;
    t.stats = stats;
    ctdp_dpcache_sync(p->cache, p->flows);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        run_start(&t, &t.runs[i], pkt, i);
        active[n++] = &t.runs[i];
    }
    dp_packet_batch_init(batch);

    /* A round per segment: each ct() sends the packets it keeps into the
     * next round. */
    while (n) {
        size_t n_groups = classify(&t, active, n, groups);

        n = 0;
        for (size_t k = 0; k < n_groups; k++) {
            run_group(&t, &groups[k], active, &n);
        }
    }
}
