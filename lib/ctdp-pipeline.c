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

/* One rule's action list while it runs.  Frames chain from the innermost
 * to the table the packet entered; a fragment released by a ct() resumes
 * from the chain of the run that completed its datagram (resume()). */
struct frame {
    const struct ofpact *ofpacts;   /* The rule's actions... */
    size_t len;                     /* ...and their length. */
    const struct ofpact *cur;       /* The action running now. */
    uint8_t table;                  /* The rule's table. */
    int depth;                      /* The run's depth inside this list. */
    ofp_port_t saved_in_port;       /* With a resubmit in 'cur': the flow's
                                     * in_port to restore after it... */
    bool saved_own_port;            /* ...which was the packet's own. */
    const struct frame *up;         /* The list that ran this table. */
};

/* One packet's trip through the tables. */
struct run {
    const struct ctdp_pipeline *p;
    struct dp_packet *pkt;          /* NULL once the tracker dropped it or
                                     * defragmentation took it. */
    struct flow flow;
    uint8_t table;                  /* The table being run. */
    ofp_port_t in_port;
    long long now;
    int depth;
    const struct frame *top;        /* The innermost list running. */
    struct ctdp_pipeline_stats *stats;
};

static void run_table(struct run *, uint8_t table);
static void run_actions(struct run *, struct frame *,
                        const struct ofpact *start);

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
do_output(struct run *r, ofp_port_t port)
{
    struct dp_packet *copy;

    if (port == OFPP_IN_PORT) {
        port = r->in_port;
    } else if (port == r->in_port) {
        return;                 /* OpenFlow: never back out by number. */
    }
    copy = dp_packet_clone(r->pkt);
    copy->md.conn = NULL;       /* The conn stays with the original. */
    if (!r->p->output(r->p->aux, port, copy)) {
        r->stats->no_port++;
    }
}

/* Fills 'r' from Open vSwitch's nat(...) action: a missing maximum is the
 * minimum, and no address is no address mapping. */
static void
nat_range_from_ofpact(const struct ofpact_nat *on, struct ctdp_nat_range *r)
{
    memset(r, 0, sizeof *r);
    r->flags = ((on->flags & NX_NAT_F_SRC ? CTDP_NAT_SRC : 0)
                | (on->flags & NX_NAT_F_DST ? CTDP_NAT_DST : 0)
                | (on->flags & NX_NAT_F_PERSISTENT ? CTDP_NAT_PERSISTENT : 0)
                | (on->flags & NX_NAT_F_PROTO_HASH ? CTDP_NAT_HASH : 0)
                | (on->flags & NX_NAT_F_PROTO_RANDOM ? CTDP_NAT_RANDOM : 0));
    if (on->range_af == AF_INET) {
        r->l3 = CTDP_L3_IPV4;
        r->min_addr.ip4 = on->range.addr.ipv4.min;
        r->max_addr.ip4 = (on->range.addr.ipv4.max
                           ? on->range.addr.ipv4.max
                           : on->range.addr.ipv4.min);
    } else if (on->range_af == AF_INET6) {
        r->l3 = CTDP_L3_IPV6;
        r->min_addr.ip6 = on->range.addr.ipv6.min;
        r->max_addr.ip6 = (ipv6_addr_is_set(&on->range.addr.ipv6.max)
                           ? on->range.addr.ipv6.max
                           : on->range.addr.ipv6.min);
    }
    if (on->range.proto.min) {
        r->flags |= CTDP_NAT_PORTS;
        r->min_port = on->range.proto.min;
        r->max_port = MAX(on->range.proto.max, on->range.proto.min);
    }
}

/* Fills 'a' from the ct() action 'oc' for this packet. */
static void
ct_action_from_ofpact(const struct ofpact_conntrack *oc,
                      const struct flow *flow, struct ctdp_ct_action *a)
{
    const struct ofpact *exec;

    memset(a, 0, sizeof *a);
    a->zone = oc->zone_src.field ? mf_get_subfield(&oc->zone_src, flow)
                                 : oc->zone_imm;
    a->commit = (oc->flags & NX_CT_F_COMMIT) != 0;
    a->force = (oc->flags & NX_CT_F_FORCE) != 0;
    OFPACT_FOR_EACH (exec, oc->actions, ofpact_ct_get_action_len(oc)) {
        if (exec->type == OFPACT_NAT) {
            a->nat = true;
            nat_range_from_ofpact(ofpact_get_NAT(exec), &a->nat_range);
            continue;
        }

        const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(exec);
        const union mf_value *mask = ofpact_set_field_mask(sf);

        if (sf->field->id == MFF_CT_MARK) {
            a->set_mark = true;
            a->mark = ntohl(sf->value->be32);
            a->mark_mask = ntohl(mask->be32);
        } else {
            a->set_label = true;
            a->label = ntoh128(sf->value->be128);
            a->label_mask = ntoh128(mask->be128);
        }
    }
}

/* After ct(nat) rewrote the packet: its addresses and ports in the flow
 * that the tables match. */
static void
flow_set_nat(struct flow *flow, struct dp_packet *pkt)
{
    struct flow now;

    if (!(pkt->md.ct_state & (CS_SRC_NAT | CS_DST_NAT))) {
        return;
    }
    flow_extract(pkt, &now);
    flow->nw_src = now.nw_src;
    flow->nw_dst = now.nw_dst;
    flow->ipv6_src = now.ipv6_src;
    flow->ipv6_dst = now.ipv6_dst;
    flow->tp_src = now.tp_src;
    flow->tp_dst = now.tp_dst;
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
    flow_set_ct(&r->flow, &r->pkt->md);
    flow_set_nat(&r->flow, r->pkt);
    if (oc->recirc_table != NX_CT_RECIRC_NONE) {
        run_table(r, oc->recirc_table);
    }
}

/* Goes on, after the action that frame 'f' (and every frame above it) is
 * running, as the run that owned those frames would when that action
 * returned. */
static void
resume(struct run *r, const struct frame *f)
{
    for (; f && r->pkt; f = f->up) {
        struct frame copy = *f;

        if (f->cur->type == OFPACT_RESUBMIT) {
            /* A fragment that came in elsewhere gets its own port back,
             * unless an outer resubmit had set another. */
            r->flow.in_port.ofp_port = (f->saved_own_port ? r->in_port
                                        : f->saved_in_port);
        } else if (f->cur->type == OFPACT_GOTO_TABLE) {
            continue;           /* goto_table ended that list. */
        }
        r->table = f->table;
        r->depth = f->depth;
        r->top = &copy;
        run_actions(r, &copy, ofpact_next(f->cur));
    }
}

/* Sends fragment 'frag', released by the ct() 'oc' that 'r' ran, on
 * through the pipeline: its own flow, with the registers and metadata of
 * 'r', the recirculation table, then the rest of 'r''s actions. */
static void
continue_fragment(const struct run *r, const struct ofpact_conntrack *oc,
                  struct dp_packet *frag)
{
    ofp_port_t in_port = u16_to_ofp(odp_to_u32(frag->md.in_port.odp_port));
    struct run f = {
        .p = r->p, .pkt = frag, .in_port = in_port, .now = r->now,
        .table = r->table, .depth = r->depth, .top = r->top,
        .stats = r->stats,
    };

    flow_extract(frag, &f.flow);
    f.flow.in_port.ofp_port = in_port;
    memcpy(f.flow.regs, r->flow.regs, sizeof f.flow.regs);
    f.flow.metadata = r->flow.metadata;
    flow_set_ct(&f.flow, &frag->md);
    if (oc->recirc_table != NX_CT_RECIRC_NONE) {
        run_table(&f, oc->recirc_table);
    }
    resume(&f, r->top);
    if (f.pkt) {
        ctdp_ct_packet_done(r->p->ct, f.pkt);
        dp_packet_delete(f.pkt);
    }
}

/* ct() on a fragment: defragmentation first, as the kernel's defrag hook
 * and Open vSwitch's ipf.  An incomplete datagram's fragment is held
 * (its run ends here); the fragment that completes one makes the whole
 * datagram tracked once, and then every original fragment, in offset
 * order, goes on with the datagram's ct results. */
static void
defrag_then_track(struct run *r, const struct ofpact_conntrack *oc,
                  const struct ctdp_ct_action *a)
{
    struct dp_packet_batch batch;
    struct ctdp_ipf_dgram d;

    ctdp_ct_packet_done(r->p->ct, r->pkt);
    switch (ctdp_ipf_gather(r->p->ipf, r->pkt, a->zone, r->now, &d)) {
    case CTDP_IPF_NOT_FRAGMENT:
        track(r, oc, a);
        return;
    case CTDP_IPF_HELD:
    case CTDP_IPF_DROPPED:      /* Counted by ipf-get-status. */
        r->pkt = NULL;
        return;
    case CTDP_IPF_COMPLETE:
    default:
        break;
    }
    r->pkt = NULL;              /* Goes on below, with the others. */
    dp_packet_batch_init_packet(&batch, d.whole);
    ctdp_ct_execute(r->p->ct, &batch, a, r->now);
    for (size_t i = 0; i < d.n_frags; i++) {
        if (dp_packet_batch_is_empty(&batch)) {
            r->stats->ct_drop++;
            dp_packet_delete(d.frags[i]);
        } else {
            ctdp_ipf_copy_ct(d.frags[i], d.whole);
            ctdp_ct_nat_fragment(d.frags[i], d.whole);
            continue_fragment(r, oc, d.frags[i]);
        }
    }
    if (!dp_packet_batch_is_empty(&batch)) {
        ctdp_ct_packet_done(r->p->ct, d.whole);
        dp_packet_delete(d.whole);
    }
    ctdp_ipf_dgram_destroy(&d);
}

static void
do_ct(struct run *r, const struct ofpact_conntrack *oc)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
    struct ctdp_ct_action a;

    if (oc->alg) {
        VLOG_WARN_RL(&rl, "ct(alg=...): helpers are not implemented yet; "
                     "tracking without one");
    }
    ct_action_from_ofpact(oc, &r->flow, &a);
    if (r->p->ipf && r->flow.nw_frag & FLOW_NW_FRAG_ANY) {
        defrag_then_track(r, oc, &a);
    } else {
        track(r, oc, &a);
    }
}

static void
do_resubmit(struct run *r, struct frame *f, const struct ofpact_resubmit *rs)
{
    uint8_t table = rs->table_id == 0xff ? r->table : rs->table_id;

    f->saved_in_port = r->flow.in_port.ofp_port;
    f->saved_own_port = f->saved_in_port == r->in_port;
    if (rs->in_port != OFPP_IN_PORT) {
        r->flow.in_port.ofp_port = rs->in_port;
    }
    run_table(r, table);
    r->flow.in_port.ofp_port = f->saved_in_port;
}

/* Runs frame 'f''s actions in order from 'start', until the end, a
 * goto_table, or a drop. */
static void
run_actions(struct run *r, struct frame *f, const struct ofpact *start)
{
    const struct ofpact *end = ofpact_end(f->ofpacts, f->len);

    for (const struct ofpact *a = start; a < end; a = ofpact_next(a)) {
        if (!r->pkt) {
            return;
        }
        f->cur = a;
        switch (a->type) {
        case OFPACT_OUTPUT:
            do_output(r, ofpact_get_OUTPUT(a)->port);
            break;
        case OFPACT_RESUBMIT:
            do_resubmit(r, f, ofpact_get_RESUBMIT(a));
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
        struct frame f = {
            .ofpacts = rule->ofpacts, .len = rule->ofpacts_len,
            .table = table, .depth = r->depth, .up = r->top,
        };
        const struct frame *saved_top = r->top;

        ctdp_rule_account(rule, dp_packet_size(r->pkt));
        r->table = table;
        r->top = &f;
        run_actions(r, &f, f.ofpacts);
        r->top = saved_top;
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
}
