#include <config.h>
#include "ctdp-xlate.h"

#include <string.h>
#include "ctdp-flows.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "util.h"

/* One walk.  The frames of the action lists being run are kept on an
 * explicit stack, so that a ct() can take the whole stack as its
 * continuation and a later walk can go on from it. */
struct walk {
    const struct ctdp_flows *flows;
    struct flow *flow;
    struct ctdp_xlate_out *out;
    ofp_port_t in_port;             /* Where the packet came in. */
    bool stopped;                   /* At a ct(): unwind. */
    size_t n_frames;
    struct ctdp_xlate_frame frames[CTDP_XLATE_MAX_DEPTH];
};

static void walk_table(struct walk *, uint8_t table);

size_t
ctdp_xlate_cont_size(const struct ctdp_xlate_cont *cont)
{
    return offsetof(struct ctdp_xlate_cont, frames)
           + cont->n_frames * sizeof cont->frames[0];
}

void
ctdp_xlate_out_init(struct ctdp_xlate_out *out)
{
    memset(out, 0, offsetof(struct ctdp_xlate_out, cont));
    flow_wildcards_init_catchall(&out->wc);
}

void
ctdp_xlate_out_destroy(struct ctdp_xlate_out *out)
{
    free(out->ops);
    free(out->rules);
}

static struct ctdp_op *
add_op(struct walk *w, enum ctdp_op_type type)
{
    struct ctdp_xlate_out *out = w->out;
    struct ctdp_op *op;

    if (out->n_ops == out->allocated_ops) {
        out->ops = x2nrealloc(out->ops, &out->allocated_ops, sizeof *op);
    }
    op = &out->ops[out->n_ops++];
    op->type = type;
    return op;
}

static void
add_rule(struct walk *w, const struct ctdp_rule *rule)
{
    struct ctdp_xlate_out *out = w->out;

    if (out->n_rules == out->allocated_rules) {
        out->rules = x2nrealloc(out->rules, &out->allocated_rules,
                                sizeof *out->rules);
    }
    out->rules[out->n_rules++] = rule;
}

void
ctdp_xlate_flow_set_ct(struct flow *flow, const struct pkt_metadata *md)
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
walk_output(struct walk *w, ofp_port_t port)
{
    if (port == OFPP_IN_PORT) {
        port = w->in_port;
    } else if (port == w->in_port) {
        return;                 /* OpenFlow: never back out by number. */
    }
    add_op(w, CTDP_OP_OUTPUT)->port = port;
}

/* Ends the walk at ct() 'oc': the segment's last action, with the walk's
 * stack (every frame already past the ct()) as its continuation. */
static void
walk_ct(struct walk *w, const struct ofpact_conntrack *oc)
{
    struct ctdp_xlate_out *out = w->out;

    if (oc->zone_src.field) {
        mf_mask_field(oc->zone_src.field, &out->wc);
    }
    out->ct = true;
    out->oc = oc;
    ctdp_flows_ct_action(oc, w->flow, &out->ct_action);
    out->cont.in_port = w->in_port;
    out->cont.zero = 0;
    out->cont.table = (oc->recirc_table == NX_CT_RECIRC_NONE
                       ? CTDP_XLATE_NO_TABLE : oc->recirc_table);
    out->cont.n_frames = w->n_frames;
    memcpy(out->cont.frames, w->frames, w->n_frames * sizeof w->frames[0]);
    w->stopped = true;
}

/* What a ct_clear does to the flow. */
static void
flow_clear_ct(struct flow *flow)
{
    struct pkt_metadata md;

    memset(&md, 0, sizeof md);
    ctdp_xlate_flow_set_ct(flow, &md);
}

/* Runs one action of the frame on top of the stack. */
static void
walk_action(struct walk *w, const struct ofpact *a)
{
    struct ctdp_xlate_frame *f = &w->frames[w->n_frames - 1];

    switch (a->type) {
    case OFPACT_OUTPUT:
        walk_output(w, ofpact_get_OUTPUT(a)->port);
        break;
    case OFPACT_RESUBMIT: {
        const struct ofpact_resubmit *rs = ofpact_get_RESUBMIT(a);
        uint8_t table = rs->table_id == 0xff ? f->table : rs->table_id;
        ofp_port_t saved = w->flow->in_port.ofp_port;

        if (rs->in_port != OFPP_IN_PORT) {
            w->flow->in_port.ofp_port = rs->in_port;
        }
        f->restore_in_port = saved;
        walk_table(w, table);
        if (!w->stopped) {
            f = &w->frames[w->n_frames - 1];
            w->flow->in_port.ofp_port = f->restore_in_port;
            f->restore_in_port = OFPP_NONE;
        }
        break;
    }
    case OFPACT_GOTO_TABLE:
        f->next = f->end;       /* goto_table ends the list. */
        walk_table(w, ofpact_get_GOTO_TABLE(a)->table_id);
        break;
    case OFPACT_CT:
        walk_ct(w, ofpact_get_CT(a));
        break;
    case OFPACT_CT_CLEAR:
        add_op(w, CTDP_OP_CT_CLEAR);
        flow_clear_ct(w->flow);
        break;
    case OFPACT_SET_FIELD: {
        const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(a);

        mf_set_flow_value_masked(sf->field, sf->value,
                                 ofpact_set_field_mask(sf), w->flow);
        add_op(w, CTDP_OP_SET_FIELD)->sf = sf;
        break;
    }
    case OFPACT_REG_MOVE: {
        const struct ofpact_reg_move *m = ofpact_get_REG_MOVE(a);

        mf_mask_field(m->src.field, &w->out->wc);
        mf_subfield_copy(&m->src, &m->dst, w->flow, NULL);
        add_op(w, CTDP_OP_REG_MOVE)->move = m;
        break;
    }
    default:
        /* ctdp_flows refuses every other action. */
        break;
    }
}

/* Runs the rest of the frame on top of the stack, then pops it unless the
 * walk stopped. */
static void
walk_frame(struct walk *w)
{
    for (;;) {
        struct ctdp_xlate_frame *f = &w->frames[w->n_frames - 1];
        const struct ofpact *a = f->next;

        if (a >= f->end) {
            break;
        }
        f->next = ofpact_next(a);
        walk_action(w, a);
        if (w->stopped) {
            return;
        }
    }
    w->n_frames--;
}

static void
walk_table(struct walk *w, uint8_t table)
{
    const struct ctdp_rule *rule;

    if (w->n_frames >= CTDP_XLATE_MAX_DEPTH) {
        add_op(w, CTDP_OP_TOO_DEEP);
        return;
    }
    rule = ctdp_flows_lookup(w->flows, table, w->flow, &w->out->wc);
    if (!rule) {
        add_op(w, CTDP_OP_TABLE_MISS);
        return;
    }
    add_rule(w, rule);
    w->frames[w->n_frames++] = (struct ctdp_xlate_frame) {
        .next = rule->ofpacts,
        .end = ofpact_end(rule->ofpacts, rule->ofpacts_len),
        .table = table,
        .restore_in_port = OFPP_NONE,
    };
    walk_frame(w);
}

/* Goes on from 'cont': its table, then the rest of each of its frames,
 * innermost first, putting back the in_port a resubmit changed as each
 * one returns. */
static void
walk_cont(struct walk *w, const struct ctdp_xlate_cont *cont)
{
    w->n_frames = cont->n_frames;
    memcpy(w->frames, cont->frames, cont->n_frames * sizeof w->frames[0]);
    if (cont->table != CTDP_XLATE_NO_TABLE) {
        walk_table(w, cont->table);
    }
    while (!w->stopped && w->n_frames) {
        struct ctdp_xlate_frame *f = &w->frames[w->n_frames - 1];

        if (f->restore_in_port != OFPP_NONE) {
            w->flow->in_port.ofp_port = f->restore_in_port;
            f->restore_in_port = OFPP_NONE;
        }
        walk_frame(w);
    }
}

void
ctdp_xlate(const struct ctdp_flows *flows, const struct ctdp_xlate_cont *start,
           struct flow *flow, struct ctdp_xlate_out *out)
{
    struct walk w = {
        .flows = flows, .flow = flow, .out = out,
        .in_port = start ? start->in_port : flow->in_port.ofp_port,
    };

    /* Every segment depends on where it starts and on the ingress port;
     * like Open vSwitch's datapath flows, it also always matches the
     * packet type, the Ethernet type and an IP packet's fragment bits. */
    WC_MASK_FIELD(&out->wc, recirc_id);
    WC_MASK_FIELD(&out->wc, in_port);
    WC_MASK_FIELD(&out->wc, packet_type);
    WC_MASK_FIELD(&out->wc, dl_type);
    if (is_ip_any(flow)) {
        WC_MASK_FIELD_MASK(&out->wc, nw_frag, FLOW_NW_FRAG_MASK);
    }
    if (start) {
        walk_cont(&w, start);
    } else {
        walk_table(&w, 0);
    }
}
