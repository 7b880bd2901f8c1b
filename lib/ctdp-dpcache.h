#ifndef CTDP_DPCACHE_H
#define CTDP_DPCACHE_H 1

/* The datapath flow cache: translated segments (ctdp-xlate.h) kept as
 * wildcarded flows, as Open vSwitch's datapath keeps the megaflows its
 * translation builds.
 *
 * Entries are partitioned by recirculation id (a packet carries its
 * continuation, so finds its partition at once); in a partition, entries
 * with one mask share a subtable, a hash map of the masked flows; a lookup
 * tries the subtables, most hit first (re-sorted from time to time, as
 * Open vSwitch's dpcls), each with one hash of the masked words of the
 * flow and one probe.
 *
 * An entry matches the flow bits its segment depended on (always the
 * recirc_id and the in_port) and holds the segment: its actions, the rules
 * to count, and a final ct() with the recirculation id of its
 * continuation.  Recirculation ids are the cache's own: 0 is table 0, and
 * each continuation a segment stopped at gets the next one, shared by
 * every segment that stops there.  A packet is looked up, its segment run,
 * then, after the ct(), looked up again with the recirc_id of the
 * continuation and its new ct fields, until a segment ends.
 *
 * Staleness: a cache remembers the rules' generation (ctdp_flows_gen()) it
 * was filled at; ctdp_dpcache_sync() empties it when that changed, so a
 * flow change takes effect for the next batch a thread receives.  A full
 * cache (CTDP_DPCACHE_MAX entries) is emptied there too, never within a
 * batch, so that the continuations its packets carry stay in it.
 *
 * Thread-safety: a cache belongs to one datapath thread, which alone looks
 * up, inserts and empties it; any other thread may read its counters and
 * format its entries (ctdp_dpcache_format()) while that goes on: entries
 * and ids are freed after an RCU grace period. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cmap.h"
#include "ctdp-xlate.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"

struct ctdp_flows;
struct dpc_subtable;
struct dpc_subtables;
struct ds;

#define CTDP_DPCACHE_MAX 65536

/* The entries of one recirculation id. */
struct dpc_partition {
    OVSRCU_TYPE(struct dpc_subtables *) subtables;  /* Most hit first. */
    uint64_t n_lookups;         /* Since the last sort. */
};

/* A continuation with its recirculation id and entries. */
struct ctdp_recirc {
    struct cmap_node node;      /* In the cache's 'recircs'. */
    uint32_t hash;              /* Of the continuation. */
    uint32_t id;
    struct dpc_partition part;
    struct ctdp_xlate_cont cont;    /* Only its frames in use are
                                     * allocated. */
};

/* An entry. */
struct ctdp_dpflow {
    struct cmap_node node;      /* In its subtable. */
    struct dpc_subtable *subtable;
    struct ctdp_op *ops;
    size_t n_ops;
    const struct ctdp_rule **rules;
    size_t n_rules;
    /* Without a final ct(), the index of the last output, which may send
     * the packet itself rather than a copy; SIZE_MAX: none. */
    size_t last_output;
    bool ct;                    /* Ends with the ct() below. */
    struct ctdp_ct_action ct_action;
    const struct ofpact_conntrack *oc;
    const struct ctdp_recirc *recirc;   /* With 'ct': where it goes on. */
    ATOMIC(uint64_t) n_packets;
    ATOMIC(uint64_t) n_bytes;
    ATOMIC(long long) used;     /* Tracker's time of its last packet. */
    uint64_t key[];             /* The flow's words its subtable's mask
                                 * has, masked. */
};

struct ctdp_dpcache {
    struct dpc_partition root;  /* recirc_id 0. */
    struct cmap recircs;        /* By hash of the continuation. */
    uint32_t next_id;           /* Never reused (wraps after 2**32). */
    uint64_t gen;               /* The rules' generation of the entries. */
    ATOMIC(uint64_t) n_entries;
    ATOMIC(uint64_t) hits;
    ATOMIC(uint64_t) misses;
    ATOMIC(uint64_t) flushes;   /* Emptied because the rules changed or
                                 * it was full. */
};

void ctdp_dpcache_init(struct ctdp_dpcache *);
void ctdp_dpcache_destroy(struct ctdp_dpcache *);

/* Empties 'c' if the rules of 'flows' changed since it was filled. */
void ctdp_dpcache_sync(struct ctdp_dpcache *, const struct ctdp_flows *);

/* Returns the entry 'flow' matches, translating it into a new entry if
 * none does.  'flow->recirc_id' must be 0 or an id of 'c', with
 * 'recirc' its continuation (NULL for 0).  'hint', if nonnull, is an
 * entry of the same partition to try first (the previous packet's: a
 * burst of one flow is then found without a hash lookup). */
const struct ctdp_dpflow *ctdp_dpcache_get(struct ctdp_dpcache *,
                                           const struct ctdp_flows *,
                                           const struct ctdp_recirc *recirc,
                                           const struct flow *flow,
                                           const struct ctdp_dpflow *hint);

/* Adds to the entry's counters, once for a group of packets. */
void ctdp_dpflow_account(const struct ctdp_dpflow *, uint64_t packets,
                         uint64_t bytes, long long now);

/* Appends one line per entry of 'c', in Open vSwitch's dpctl/dump-flows
 * style, 'now' being the tracker's time for "used". */
void ctdp_dpcache_format(const struct ctdp_dpcache *, long long now,
                         struct ds *);

#endif /* ctdp-dpcache.h */
