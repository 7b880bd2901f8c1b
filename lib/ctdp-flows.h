#ifndef CTDP_FLOWS_H
#define CTDP_FLOWS_H 1

/* Flow tables: OpenFlow-style rules in OVS flow syntax.
 *
 * Tables 0 to 254, each an OVS classifier.  Rules are parsed by OVS's own
 * parser (so a bad flow gets OVS's message), then checked against what
 * ctdp's pipeline can execute (ctdp_flows_check_actions()): output,
 * resubmit, goto_table, ct(...) with zone, commit, force, table=, alg=,
 * nat(...) and exec(set_field for ct_mark/ct_label), ct_clear,
 * set_field/load and move on registers and metadata, note.  Each ct() is
 * translated for the tracker (ctdp_flows_ct_action()) and must pass the
 * tracker's ctdp_ct_action_check() when the flow is added; the pipeline
 * does not check it again.  Anything else is refused with a clear message;
 * a refused flow changes nothing.
 *
 * Thread-safety: one writer at a time (the main thread); lookups from any
 * number of datapath threads at once, without a lock.  A rule returned by
 * ctdp_flows_lookup() stays valid until the caller quiesces (RCU). */

#include <stdint.h>
#include "classifier.h"
#include "openvswitch/dynamic-string.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"

struct ctdp_ct_action;
struct flow;
struct flow_wildcards;
struct ofpact;
struct ofpact_conntrack;

#define CTDP_N_TABLES 255

struct ctdp_rule {
    struct cls_rule cr;             /* In its table's classifier. */
    uint8_t table_id;
    ovs_be64 cookie;
    long long created;              /* time_msec() when added. */
    ATOMIC(uint64_t) n_packets;
    ATOMIC(uint64_t) n_bytes;
    struct ofpact *ofpacts;
    size_t ofpacts_len;
};

struct ctdp_flows {
    struct classifier tables[CTDP_N_TABLES];
    ATOMIC(ovs_version_t) version;  /* Rules visible to lookups. */
    ATOMIC(uint64_t) gen;           /* Changes with every add or delete. */
    struct ovs_mutex mutex;         /* One writer at a time. */
};

void ctdp_flows_init(struct ctdp_flows *);
void ctdp_flows_destroy(struct ctdp_flows *);

char *ctdp_flows_add(struct ctdp_flows *, const char *flow)
    OVS_WARN_UNUSED_RESULT;
char *ctdp_flows_add_file(struct ctdp_flows *, const char *file,
                          size_t *n_added) OVS_WARN_UNUSED_RESULT;
char *ctdp_flows_add_text(struct ctdp_flows *, const char *text,
                          const char *origin, size_t *n_added)
    OVS_WARN_UNUSED_RESULT;
char *ctdp_flows_del(struct ctdp_flows *, const char *match,
                     size_t *n_deleted) OVS_WARN_UNUSED_RESULT;
void ctdp_flows_dump(struct ctdp_flows *, int table, struct ds *);
size_t ctdp_flows_count(struct ctdp_flows *);

/* Returns the rule of 'table' that 'flow' matches, or NULL; with 'wc'
 * nonnull, also adds to it the bits of 'flow' the answer depended on. */
const struct ctdp_rule *ctdp_flows_lookup(const struct ctdp_flows *,
                                          uint8_t table, struct flow *,
                                          struct flow_wildcards *wc);
void ctdp_rule_account(const struct ctdp_rule *, uint64_t packets,
                       uint64_t bytes);

/* The rules' generation: it changes (release) whenever a rule is added,
 * replaced or deleted, after the change is visible to lookups, so that a
 * cache of what the rules decided (ctdp-dpcache.h) built at an older one
 * is stale. */
uint64_t ctdp_flows_gen(const struct ctdp_flows *);

char *ctdp_flows_check_actions(const struct ofpact *, size_t len)
    OVS_WARN_UNUSED_RESULT;
void ctdp_flows_ct_action(const struct ofpact_conntrack *, const struct flow *,
                          struct ctdp_ct_action *);

#endif /* ctdp-flows.h */
