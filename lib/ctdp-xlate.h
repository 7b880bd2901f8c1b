#ifndef CTDP_XLATE_H
#define CTDP_XLATE_H 1

/* Translation: what the flow tables do with a packet, worked out once for
 * every packet like it.
 *
 * The OpenFlow tables are walked (as ctdp-pipeline.h describes: table 0,
 * resubmit, goto_table, the actions in order) with a flow, not a packet,
 * until the walk ends or reaches a ct() action.  What the walk decided is
 * a "segment": the actions that touch the packet or its flow, in order
 * (output, set_field/load, move, ct_clear, and the counts of table misses
 * and too deep resubmits), the rules it went through (to count what each
 * matched), the bits of the flow the decisions depended on (the segment's
 * wildcards), and, if it stopped at a ct(), that ct() and the walk's
 * continuation after it: the table the ct() names, if any, and the rest of
 * every action list still being run, outermost last.  A continuation is
 * where the next segment of the packet starts once the tracker has run;
 * the flow cache (ctdp-dpcache.h) gives each one a recirculation id, the
 * flow's recirc_id, as Open vSwitch's translation freezes a packet at a
 * recirculation.
 *
 * A ct() always ends a segment, with or without table=: what follows it
 * may match the ct fields the tracker sets.
 *
 * Thread-safety: ctdp_xlate() may run in any number of threads at once;
 * a segment refers to rules, which stay valid until its thread quiesces
 * (RCU), and is stale once the rules' generation changes. */

#include <stdbool.h>
#include <stddef.h>
#include "ctdp-ct.h"
#include "flow.h"
#include "openvswitch/types.h"

struct ctdp_flows;
struct ctdp_rule;
struct ofpact;
struct ofpact_conntrack;
struct ofpact_reg_move;
struct ofpact_set_field;

/* An action list part-way through: its actions still to run, the table
 * its rule is in (for resubmit's "this table"), and the in_port to put
 * back once the resubmit it is running returns (OFPP_NONE: none). */
struct ctdp_xlate_frame {
    const struct ofpact *next;
    const struct ofpact *end;
    uint16_t table;
    ofp_port_t restore_in_port;
    uint32_t zero;              /* 0: no padding, so that continuations
                                 * compare and hash as bytes. */
};

/* Where a walk goes on after a ct(): the packet's ingress port (whose
 * number an output skips and in_port means), the table to walk first
 * (CTDP_XLATE_NO_TABLE: none, a ct() without table=), then the frames,
 * innermost last. */
#define CTDP_XLATE_NO_TABLE (-1)
#define CTDP_XLATE_MAX_DEPTH 64     /* As Open vSwitch's resubmit limit. */
struct ctdp_xlate_cont {
    int table;
    ofp_port_t in_port;
    uint16_t zero;              /* As in a frame. */
    size_t n_frames;
    struct ctdp_xlate_frame frames[CTDP_XLATE_MAX_DEPTH];
};

/* Bytes of 'cont' that identify it (its frames in use). */
size_t ctdp_xlate_cont_size(const struct ctdp_xlate_cont *);

enum ctdp_op_type {
    CTDP_OP_OUTPUT,             /* 'port': a copy leaves on it. */
    CTDP_OP_SET_FIELD,          /* 'sf' on the flow. */
    CTDP_OP_REG_MOVE,           /* 'move' on the flow. */
    CTDP_OP_CT_CLEAR,           /* The packet leaves its conn. */
    CTDP_OP_TABLE_MISS,         /* Counts a packet that matched no rule. */
    CTDP_OP_TOO_DEEP,           /* Counts a resubmit past the limit. */
};

struct ctdp_op {
    enum ctdp_op_type type;
    union {
        ofp_port_t port;
        const struct ofpact_set_field *sf;
        const struct ofpact_reg_move *move;
    };
};

/* A segment (see above). */
struct ctdp_xlate_out {
    struct ctdp_op *ops;
    size_t n_ops, allocated_ops;
    const struct ctdp_rule **rules;
    size_t n_rules, allocated_rules;
    struct flow_wildcards wc;

    /* Whether the walk stopped at a ct(), and then that ct() as the tracker
     * takes it (the zone read from the flow, whose bits are in 'wc'), the
     * action itself (to show), and the continuation. */
    bool ct;
    struct ctdp_ct_action ct_action;
    const struct ofpact_conntrack *oc;
    struct ctdp_xlate_cont cont;
};

void ctdp_xlate_out_init(struct ctdp_xlate_out *);
void ctdp_xlate_out_destroy(struct ctdp_xlate_out *);

/* Walks the tables of 'flows' with 'flow' (changed by the walk's
 * set_field and move actions), starting at table 0 with 'start' NULL, else
 * at the continuation 'start', into 'out', which must be initialized. */
void ctdp_xlate(const struct ctdp_flows *, const struct ctdp_xlate_cont *start,
                struct flow *flow, struct ctdp_xlate_out *out);

/* Copies the packet's ct metadata into the flow that the tables match,
 * as Open vSwitch's flow extraction does after a recirculation. */
void ctdp_xlate_flow_set_ct(struct flow *, const struct pkt_metadata *);

#endif /* ctdp-xlate.h */
