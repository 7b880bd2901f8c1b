#include <config.h>
#include "ctdp-pipeline.h"

#include <string.h>
#include "ctdp-ct.h"
#include "ctdp-flows.h"
#include "ctdp-ipf.h"
#include "dp-packet.h"
#include "flow.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_pipeline);

/* As Open vSwitch's limit on resubmit depth. */
#define MAX_DEPTH 64

/* One packet's trip through the tables. */
struct run {
    const struct ctdp_pipeline *p;
    struct dp_packet *pkt;          /* NULL once the tracker dropped it or
                                     * defragmentation took it. */
    /* With 'pkt' a datagram that defragmentation reassembled: its original
     * fragments, which an output sends in its place. */
    struct ctdp_ipf_dgram *dgram;
    struct flow flow;
    uint8_t table;                  /* The table being run. */
    ofp_port_t in_port;
    long long now;
    int depth;
    struct ctdp_pipeline_stats *stats;
};

static void run_table(struct run *, uint8_t table);
static void run_actions(struct run *, const struct ofpact *, size_t len);

/* Copies the packet's ct metadata into the flow that the tables match,
 * as Open vSwitch's flow extraction does after a recirculation. */
static void
flow_set_ct(struct flow *flow, const struct pkt_metadata *md)
{
    flow->ct_state = md->ct_state;
    flow->ct_zone = md->ct_zone;
    flow->ct_mark = md->ct_mark;
    flow->ct_label = md->ct_label;
    flow->ct_nw_src = flow->ct_nw_dst = 0;
    memset(&flow->ct_ipv6_src, 0, sizeof flow->ct_ipv6_src);
    memset(&flow->ct_ipv6_dst, 0, sizeof flow->ct_ipv6_dst);
    flow->ct_nw_proto = 0;
    flow->ct_tp_src = flow->ct_tp_dst = 0;
    if (!md->ct_state || md->ct_state & CS_INVALID) {
        return;
    }
    if (md->ct_orig_tuple_ipv6) {
        const struct ovs_key_ct_tuple_ipv6 *t = &md->ct_orig_tuple.ipv6;

        flow->ct_ipv6_src = t->ipv6_src;
        flow->ct_ipv6_dst = t->ipv6_dst;
        flow->ct_nw_proto = t->ipv6_proto;
        flow->ct_tp_src = t->src_port;
        flow->ct_tp_dst = t->dst_port;
    } else {
        const struct ovs_key_ct_tuple_ipv4 *t = &md->ct_orig_tuple.ipv4;

        flow->ct_nw_src = t->ipv4_src;
        flow->ct_nw_dst = t->ipv4_dst;
        flow->ct_nw_proto = t->ipv4_proto;
        flow->ct_tp_src = t->src_port;
        flow->ct_tp_dst = t->dst_port;
    }
}

static void
output_copy(struct run *r, ofp_port_t port, struct dp_packet *copy)
{
    copy->md.conn = NULL;       /* The conn stays with the original. */
    if (!r->p->output(r->p->aux, port, copy)) {
        r->stats->no_port++;
    }
}

/* Sends a copy of the packet to 'port'; a reassembled datagram leaves as
 * its original fragments, brought up to date with it. */
static void
do_output(struct run *r, ofp_port_t port)
{
    if (port == OFPP_IN_PORT) {
        port = r->in_port;
    } else if (port == r->in_port) {
        return;                 /* OpenFlow: never back out by number. */
    }
    if (!r->dgram) {
        output_copy(r, port, dp_packet_clone(r->pkt));
        return;
    }
    for (size_t i = 0; i < r->dgram->n_frags; i++) {
        struct dp_packet *copy = dp_packet_clone(r->dgram->frags[i]);

        ctdp_ipf_sync_fragment(copy, r->dgram);
        output_copy(r, port, copy);
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

/* Runs the tracker on 'r''s packet with 'a', then the recirculation
 * table of 'oc'. */
static void
track(struct run *r, const struct ofpact_conntrack *oc,
      const struct ctdp_ct_action *a)
{
    struct dp_packet_batch batch;

    dp_packet_batch_init_packet(&batch, r->pkt);
    ctdp_ct_execute(r->p->ct, &batch, a, r->now);
    if (dp_packet_batch_is_empty(&batch)) {
        r->pkt = NULL;          /* Dropped and freed by the tracker. */
        r->stats->ct_drop++;
        return;
    }
    if (r->pkt->md.ct_state & (CS_SRC_NAT | CS_DST_NAT)) {
        flow_reextract(r);
    }
    flow_set_ct(&r->flow, &r->pkt->md);
    if (oc->recirc_table != NX_CT_RECIRC_NONE) {
        run_table(r, oc->recirc_table);
    }
}

/* ct() on a fragment: defragmentation first, as the kernel's defrag hook
 * and Open vSwitch's ipf.  An incomplete datagram's fragment is held (its
 * run ends here); the fragment that completes one hands its run over to
 * the whole datagram, as the kernel's datapath does: it is tracked once,
 * every table after sees its L4 header, and an output sends the original
 * fragments (do_output()). */
static void
defrag_then_track(struct run *r, const struct ofpact_conntrack *oc,
                  const struct ctdp_ct_action *a)
{
    struct ctdp_ipf_dgram d;

    ctdp_ct_packet_done(r->p->ct, r->pkt);
    switch (ctdp_ipf_gather(r->p->ipf, r->pkt, a->zone, r->now, &d)) {
    case CTDP_IPF_NOT_FRAGMENT:
        break;
    case CTDP_IPF_HELD:
    case CTDP_IPF_DROPPED:      /* Counted by ipf-get-status. */
        r->pkt = NULL;
        return;
    case CTDP_IPF_COMPLETE:
    default:
        ovs_assert(!r->dgram);  /* A whole datagram is no fragment. */
        r->pkt = d.whole;
        r->dgram = xmemdup(&d, sizeof d);
        flow_reextract(r);
        break;
    }
    track(r, oc, a);
}

static void
do_ct(struct run *r, const struct ofpact_conntrack *oc)
{
    struct ctdp_ct_action a;

    ctdp_flows_ct_action(oc, &r->flow, &a);
    if (r->p->ipf && r->flow.nw_frag & FLOW_NW_FRAG_ANY) {
        defrag_then_track(r, oc, &a);
    } else {
        track(r, oc, &a);
    }
}

static void
do_resubmit(struct run *r, const struct ofpact_resubmit *rs)
{
    uint8_t table = rs->table_id == 0xff ? r->table : rs->table_id;
    ofp_port_t saved_in_port = r->flow.in_port.ofp_port;

    if (rs->in_port != OFPP_IN_PORT) {
        r->flow.in_port.ofp_port = rs->in_port;
    }
    run_table(r, table);
    r->flow.in_port.ofp_port = saved_in_port;
}

/* Runs the actions 'ofpacts' ('len' bytes) in order, until the end, a
 * goto_table, or a drop. */
static void
run_actions(struct run *r, const struct ofpact *ofpacts, size_t len)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        if (!r->pkt) {
            return;
        }
        switch (a->type) {
        case OFPACT_OUTPUT:
            do_output(r, ofpact_get_OUTPUT(a)->port);
            break;
        case OFPACT_RESUBMIT:
            do_resubmit(r, ofpact_get_RESUBMIT(a));
            break;
        case OFPACT_GOTO_TABLE:
            run_table(r, ofpact_get_GOTO_TABLE(a)->table_id);
            return;
        case OFPACT_CT:
            do_ct(r, ofpact_get_CT(a));
            break;
        case OFPACT_CT_CLEAR:
            ctdp_ct_clear(r->p->ct, r->pkt);
            flow_set_ct(&r->flow, &r->pkt->md);
            break;
        case OFPACT_SET_FIELD: {
            const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);

            mf_set_flow_value_masked(sf->field, sf->value,
                                     ofpact_set_field_mask(sf), &r->flow);
            break;
        }
        case OFPACT_REG_MOVE: {
            const struct ofpact_reg_move *m = ofpact_get_REG_MOVE(a);

            mf_subfield_copy(&m->src, &m->dst, &r->flow, NULL);
            break;
        }
        default:
            /* ctdp_flows refuses every other action. */
            break;
        }
    }
}

static void
run_table(struct run *r, uint8_t table)
{
    const struct ctdp_rule *rule;
    uint8_t saved = r->table;

    if (++r->depth > MAX_DEPTH) {
        r->stats->too_deep++;
        r->depth--;
        return;
    }
    rule = ctdp_flows_lookup(r->p->flows, table, &r->flow);
    if (!rule) {
        r->stats->table_miss++;
    } else {
        ctdp_rule_account(rule, dp_packet_size(r->pkt));
        r->table = table;
        run_actions(r, rule->ofpacts, rule->ofpacts_len);
        r->table = saved;
    }
    r->depth--;
}

/* Runs 'pkt', received on 'in_port', through the tables at time 'now';
 * takes the packet over. */
void
ctdp_pipeline_run(const struct ctdp_pipeline *p, struct dp_packet *pkt,
                  ofp_port_t in_port, long long now,
                  struct ctdp_pipeline_stats *stats)
{
    struct run r = {
        .p = p, .pkt = pkt, .in_port = in_port, .now = now,
        .stats = stats,
    };

    pkt_metadata_init(&pkt->md, u32_to_odp(ofp_to_u16(in_port)));
    flow_extract(pkt, &r.flow);
    r.flow.in_port.ofp_port = in_port;
    run_table(&r, 0);
    if (r.pkt) {
        ctdp_ct_packet_done(p->ct, r.pkt);
        dp_packet_delete(r.pkt);
    }
    if (r.dgram) {
        for (size_t i = 0; i < r.dgram->n_frags; i++) {
            dp_packet_delete(r.dgram->frags[i]);
        }
        ctdp_ipf_dgram_destroy(r.dgram);
        free(r.dgram);
    }
}
