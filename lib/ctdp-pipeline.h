#ifndef CTDP_PIPELINE_H
#define CTDP_PIPELINE_H 1

/* The pipeline: a batch of received packets through the flow tables.
 *
 * A packet starts at table 0 with its in_port; the highest-priority
 * matching rule's actions run in order:
 *
 *   output:N       a copy of the packet leaves on port N (in_port: back
 *                  where it came from; output to the in_port by number is
 *                  dropped, as OpenFlow says);
 *   resubmit(,T), resubmit:P, goto_table:T
 *                  look up table T (or the current one, with in_port P) and
 *                  run that rule's actions; goto_table ends the list;
 *   ct(...)        the tracker's ct() on this packet (ctdp-ct.h) in the
 *                  zone given or read from a field (judged once, when its
 *                  flow was added: ctdp-flows.h); with table=T the packet
 *                  then continues at table T with its ct fields set, and
 *                  the rest of the list runs when that returns.  A
 *                  fragment goes through defragmentation first (ctdp-ipf.h):
 *                  until its datagram is complete it is held and its run
 *                  ends there; the fragment that completes it has the
 *                  reassembled datagram tracked once, and then every
 *                  original fragment, in offset order, goes on from this
 *                  ct() (table T, then the rest of the list) with the
 *                  datagram's ct fields, its own flow and the registers
 *                  and metadata of the completing run;
 *   ct_clear, set_field/load, move, note.
 *
 * No match is a drop.  When the pipeline is done, the packet's
 * uncommitted conn is freed; the last output of a packet whose walk ends
 * with it sends the packet itself, every other output a copy.  Every drop
 * has a named counter.
 *
 * How: the walk is translated once per kind of packet into segments that
 * end at a ct() (ctdp-xlate.h), kept in the calling thread's flow cache
 * (ctdp-dpcache.h).  A batch is looked up in the cache; the packets of
 * one entry run its actions together, and its ct() as one batch of the
 * tracker; those the tracker keeps are looked up again at the entry's
 * recirculation id, as Open vSwitch's datapath runs per-flow batches and
 * recirculates.  Packets of different entries may so leave in another
 * order than they came; packets of one flow keep theirs.  What each rule
 * matched is counted exactly, through the entries.
 *
 * Thread-safety: ctdp_pipeline_run() may run in any number of threads at
 * once, each with a flow cache of its own; each must quiesce (RCU)
 * between batches from time to time. */

#include <stdint.h>
#include "openvswitch/types.h"

struct ctdp_ct;
struct ctdp_dpcache;
struct ctdp_flows;
struct ctdp_ipf;
struct dp_packet;
struct dp_packet_batch;

#define CTDP_PIPELINE_STATS                                             \
    CTDP_PIPELINE_STAT(table_miss, "packets that matched no flow")     \
    CTDP_PIPELINE_STAT(ct_drop, "packets the tracker dropped")          \
    CTDP_PIPELINE_STAT(too_deep, "packets past 64 resubmits")           \
    CTDP_PIPELINE_STAT(no_port, "outputs to a port that does not exist")

struct ctdp_pipeline_stats {
#define CTDP_PIPELINE_STAT(NAME, HELP) uint64_t NAME;
    CTDP_PIPELINE_STATS
#undef CTDP_PIPELINE_STAT
};

/* What the pipeline runs against.  'output' receives each packet to send
 * and takes it over ('port' is an OpenFlow port number, 'idx' the index in
 * the received batch of the packet it comes from); it returns false,
 * keeping nothing, if there is no such port. */
struct ctdp_pipeline {
    const struct ctdp_flows *flows;
    struct ctdp_ct *ct;
    struct ctdp_ipf *ipf;       /* NULL: fragments are tracked as they are
                                 * (and so marked invalid). */
    struct ctdp_dpcache *cache; /* The calling thread's. */
    bool (*output)(void *aux, ofp_port_t port, struct dp_packet *,
                   size_t idx);
    void *aux;
};

/* Runs the packets of 'batch', received on 'in_port', through the tables
 * at time 'now'; takes them over and leaves 'batch' empty. */
void ctdp_pipeline_run(const struct ctdp_pipeline *, struct dp_packet_batch *,
                       ofp_port_t in_port, long long now,
                       struct ctdp_pipeline_stats *);

#endif /* ctdp-pipeline.h */
