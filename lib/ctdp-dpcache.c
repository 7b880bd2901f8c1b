#include <config.h>
#include "ctdp-dpcache.h"

#include <string.h>
#include "ctdp-flows.h"
#include "hash.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "ovs-rcu.h"
#include "util.h"

/* The lookups of a partition between two sorts of its subtables. */
#define SORT_INTERVAL 4096

/* Entries of one mask.  A wildcarded flow matches only packets its
 * segment is right for, so two entries of two subtables that match one
 * packet hold the same segment, and any subtable may be tried first. */
struct dpc_subtable {
    struct cmap entries;        /* By hash of their key. */
    struct flow_wildcards wc;
    size_t n_words;             /* Words of the flow the mask has... */
    uint8_t words[FLOW_U64S];   /* ...their indexes... */
    uint64_t masks[FLOW_U64S];  /* ...and their masks. */
    uint64_t hits;              /* Since the last sort. */
};

/* A partition's subtables, as readers see them: replaced whole (RCU). */
struct dpc_subtables {
    size_t n;
    struct dpc_subtable *s[];
};

static struct dpc_subtables *
subtables_get(const struct dpc_partition *part)
{
    return ovsrcu_get(struct dpc_subtables *, &part->subtables);
}

/* Publishes a copy of the subtables of 'part', with 'add' appended if
 * nonnull. */
static void
subtables_publish(struct dpc_partition *part, struct dpc_subtable **s,
                  size_t n, struct dpc_subtable *add)
{
    struct dpc_subtables *new, *old = subtables_get(part);

    new = xmalloc(sizeof *new + (n + 1) * sizeof new->s[0]);
    if (n) {
        memcpy(new->s, s, n * sizeof new->s[0]);
    }
    if (add) {
        new->s[n++] = add;
    }
    new->n = n;
    ovsrcu_set(&part->subtables, new);
    if (old) {
        ovsrcu_postpone(free, old);
    }
}

static void
partition_init(struct dpc_partition *part)
{
    ovsrcu_init(&part->subtables, NULL);
    subtables_publish(part, NULL, 0, NULL);
    part->n_lookups = 0;
}

static void
dpflow_free(struct ctdp_dpflow *e)
{
    free(e->ops);
    free(e->rules);
    free(e);
}

/* Frees 's' and its entries, which no one can reach any more. */
static void
subtable_free(struct dpc_subtable *s)
{
    struct ctdp_dpflow *e;

    CMAP_FOR_EACH (e, node, &s->entries) {
        dpflow_free(e);
    }
    cmap_destroy(&s->entries);
    free(s);
}

/* Empties 'part': its subtables are freed after the grace period. */
static void
partition_clear(struct dpc_partition *part)
{
    struct dpc_subtables *st = subtables_get(part);

    for (size_t i = 0; i < st->n; i++) {
        ovsrcu_postpone(subtable_free, st->s[i]);
    }
    subtables_publish(part, NULL, 0, NULL);
}

static void
recirc_free(struct ctdp_recirc *r)
{
    free(ovsrcu_get_protected(struct dpc_subtables *, &r->part.subtables));
    free(r);
}

void
ctdp_dpcache_init(struct ctdp_dpcache *c)
{
    partition_init(&c->root);
    cmap_init(&c->recircs);
    c->next_id = 1;
    c->gen = 0;
    atomic_init(&c->n_entries, 0);
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    atomic_init(&c->flushes, 0);
}

/* Adds to a counter only its cache's thread writes (no atomic
 * read-modify-write needed: readers only need whole values). */
static void
counter_add(ATOMIC(uint64_t) *counter, uint64_t n)
{
    uint64_t v;

    atomic_read_relaxed(counter, &v);
    atomic_store_relaxed(counter, v + n);
}

/* Removes every entry and id; they are freed after the grace period.  Ids
 * are not reused, so that a packet still carrying one never meets another
 * continuation's entries. */
static void
flush(struct ctdp_dpcache *c)
{
    struct ctdp_recirc *r;

    partition_clear(&c->root);
    CMAP_FOR_EACH (r, node, &c->recircs) {
        partition_clear(&r->part);
        cmap_remove(&c->recircs, &r->node, r->hash);
        ovsrcu_postpone(recirc_free, r);
    }
    atomic_store_relaxed(&c->n_entries, 0);
}

void
ctdp_dpcache_destroy(struct ctdp_dpcache *c)
{
    flush(c);
    ovsrcu_postpone(free, subtables_get(&c->root));
    cmap_destroy(&c->recircs);
}

void
ctdp_dpcache_sync(struct ctdp_dpcache *c, const struct ctdp_flows *flows)
{
    uint64_t gen = ctdp_flows_gen(flows);
    uint64_t n;

    atomic_read_relaxed(&c->n_entries, &n);
    if (n && (gen != c->gen || n >= CTDP_DPCACHE_MAX)) {
        flush(c);
        counter_add(&c->flushes, 1);
    }
    c->gen = gen;
}

/* Returns the id of continuation 'cont', giving it one if it has none. */
static struct ctdp_recirc *
recirc_intern(struct ctdp_dpcache *c, const struct ctdp_xlate_cont *cont)
{
    size_t size = ctdp_xlate_cont_size(cont);
    uint32_t hash = hash_bytes(cont, size, 0);
    struct ctdp_recirc *r;

    CMAP_FOR_EACH_WITH_HASH (r, node, hash, &c->recircs) {
        if (!memcmp(&r->cont, cont, size)) {
            return r;
        }
    }
    r = xmalloc(offsetof(struct ctdp_recirc, cont) + size);
    r->id = c->next_id++;
    r->hash = hash;
    partition_init(&r->part);
    memcpy(&r->cont, cont, size);
    cmap_insert(&c->recircs, &r->node, hash);
    return r;
}

/* The last output of a segment without ct(), unless a ct_clear, which
 * needs the packet, comes after it. */
static size_t
find_last_output(const struct ctdp_xlate_out *x)
{
    for (size_t i = x->n_ops; i-- > 0;) {
        if (x->ops[i].type == CTDP_OP_OUTPUT) {
            return i;
        } else if (x->ops[i].type == CTDP_OP_CT_CLEAR) {
            break;
        }
    }
    return SIZE_MAX;
}

/* Returns the hash of 'flow' masked by 's', and the masked words in
 * 'key'. */
static uint32_t
subtable_key(const struct dpc_subtable *s, const struct flow *flow,
             uint64_t *key)
{
    const uint64_t *f = (const uint64_t *) flow;
    uint32_t hash = 0;

    for (size_t i = 0; i < s->n_words; i++) {
        key[i] = f[s->words[i]] & s->masks[i];
        hash = hash_add64(hash, key[i]);
    }
    return hash_finish(hash, s->n_words * 8);
}

/* Does 'flow' match 'e'? */
static bool
dpflow_matches(const struct ctdp_dpflow *e, const struct flow *flow)
{
    const struct dpc_subtable *s = e->subtable;
    const uint64_t *f = (const uint64_t *) flow;

    for (size_t i = 0; i < s->n_words; i++) {
        if ((f[s->words[i]] & s->masks[i]) != e->key[i]) {
            return false;
        }
    }
    return true;
}

static struct ctdp_dpflow *
subtable_find(const struct dpc_subtable *s, const struct flow *flow)
{
    uint64_t key[FLOW_U64S];
    uint32_t hash = subtable_key(s, flow, key);
    struct ctdp_dpflow *e;

    CMAP_FOR_EACH_WITH_HASH (e, node, hash, &s->entries) {
        if (!memcmp(e->key, key, s->n_words * sizeof key[0])) {
            return e;
        }
    }
    return NULL;
}

static struct dpc_subtable *
subtable_create(const struct flow_wildcards *wc)
{
    struct dpc_subtable *s = xzalloc(sizeof *s);
    const uint64_t *m = (const uint64_t *) &wc->masks;

    cmap_init(&s->entries);
    s->wc = *wc;
    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (m[i]) {
            s->words[s->n_words] = i;
            s->masks[s->n_words++] = m[i];
        }
    }
    return s;
}

/* Returns the subtable of 'part' for mask 'wc', adding one if there is
 * none. */
static struct dpc_subtable *
subtable_for(struct dpc_partition *part, const struct flow_wildcards *wc)
{
    struct dpc_subtables *st = subtables_get(part);
    struct dpc_subtable *s;

    for (size_t i = 0; i < st->n; i++) {
        if (flow_wildcards_equal(&st->s[i]->wc, wc)) {
            return st->s[i];
        }
    }
    s = subtable_create(wc);
    subtables_publish(part, st->s, st->n, s);
    return s;
}

static int
compare_hits(const void *a_, const void *b_)
{
    const struct dpc_subtable *a = *(struct dpc_subtable *const *) a_;
    const struct dpc_subtable *b = *(struct dpc_subtable *const *) b_;

    return a->hits > b->hits ? -1 : a->hits < b->hits;
}

/* Puts the most hit subtables first, if they are not, and starts
 * counting anew. */
static void
subtables_sort(struct dpc_partition *part)
{
    struct dpc_subtables *st = subtables_get(part);
    bool sorted = true;

    for (size_t i = 1; i < st->n; i++) {
        sorted = sorted && st->s[i - 1]->hits >= st->s[i]->hits;
    }
    if (!sorted) {
        struct dpc_subtable *s[st->n];

        memcpy(s, st->s, st->n * sizeof s[0]);
        qsort(s, st->n, sizeof s[0], compare_hits);
        subtables_publish(part, s, st->n, NULL);
        st = subtables_get(part);
    }
    for (size_t i = 0; i < st->n; i++) {
        st->s[i]->hits = 0;
    }
    part->n_lookups = 0;
}

static struct ctdp_dpflow *
lookup(struct dpc_partition *part, const struct flow *flow)
{
    struct dpc_subtables *st = subtables_get(part);

    if (++part->n_lookups >= SORT_INTERVAL) {
        subtables_sort(part);
        st = subtables_get(part);
    }
    for (size_t i = 0; i < st->n; i++) {
        struct ctdp_dpflow *e = subtable_find(st->s[i], flow);

        if (e) {
            st->s[i]->hits++;
            return e;
        }
    }
    return NULL;
}

/* Makes an entry of the segment 'x' translated from 'flow', taking over
 * its arrays, and puts it in its subtable of 'part'. */
static struct ctdp_dpflow *
dpflow_create(struct ctdp_dpcache *c, struct dpc_partition *part,
              const struct flow *flow, struct ctdp_xlate_out *x)
{
    struct dpc_subtable *s = subtable_for(part, &x->wc);
    struct ctdp_dpflow *e = xzalloc(sizeof *e + s->n_words * sizeof e->key[0]);
    uint32_t hash = subtable_key(s, flow, e->key);

    e->subtable = s;
    e->ct = x->ct;
    if (e->ct) {
        e->ct_action = x->ct_action;
        e->oc = x->oc;
        e->recirc = recirc_intern(c, &x->cont);
        e->last_output = SIZE_MAX;
    } else {
        e->last_output = find_last_output(x);
    }
    e->ops = x->ops;
    e->n_ops = x->n_ops;
    e->rules = x->rules;
    e->n_rules = x->n_rules;
    x->ops = NULL;
    x->rules = NULL;
    atomic_init(&e->n_packets, 0);
    atomic_init(&e->n_bytes, 0);
    atomic_init(&e->used, 0);
    cmap_insert(&s->entries, &e->node, hash);
    return e;
}

const struct ctdp_dpflow *
ctdp_dpcache_get(struct ctdp_dpcache *c, const struct ctdp_flows *flows,
                 const struct ctdp_recirc *recirc, const struct flow *flow,
                 const struct ctdp_dpflow *hint)
{
    struct dpc_partition *part = (recirc
                                  ? &CONST_CAST(struct ctdp_recirc *,
                                                recirc)->part
                                  : &c->root);
    struct ctdp_xlate_out x;
    struct ctdp_dpflow *e;
    struct flow walked;
    uint64_t n;

    if (hint && dpflow_matches(hint, flow)) {
        counter_add(&c->hits, 1);
        return hint;
    }
    e = lookup(part, flow);
    if (e) {
        counter_add(&c->hits, 1);
        return e;
    }
    counter_add(&c->misses, 1);

    ctdp_xlate_out_init(&x);
    walked = *flow;
    ctdp_xlate(flows, recirc ? &recirc->cont : NULL, &walked, &x);
    e = dpflow_create(c, part, flow, &x);
    ctdp_xlate_out_destroy(&x);
    atomic_read_relaxed(&c->n_entries, &n);
    atomic_store_relaxed(&c->n_entries, n + 1);
    return e;
}

void
ctdp_dpflow_account(const struct ctdp_dpflow *e_, uint64_t packets,
                    uint64_t bytes, long long now)
{
    struct ctdp_dpflow *e = CONST_CAST(struct ctdp_dpflow *, e_);

    counter_add(&e->n_packets, packets);
    counter_add(&e->n_bytes, bytes);
    atomic_store_relaxed(&e->used, now);
    for (size_t i = 0; i < e->n_rules; i++) {
        ctdp_rule_account(e->rules[i], packets, bytes);
    }
}

/* ---- Formatting -------------------------------------------------------- */

static void
format_match(const struct ctdp_dpflow *e, struct ds *s)
{
    struct odp_flow_key_parms parms = {
        .support = {
            .recirc = true, .ct_state = true, .ct_zone = true,
            .ct_mark = true, .ct_label = true, .ct_state_nat = true,
            .ct_orig_tuple = true, .ct_orig_tuple6 = true,
            .max_vlan_headers = 2,
        },
    };
    const struct dpc_subtable *st = e->subtable;
    struct ofpbuf key, mask;
    struct flow flow;

    memset(&flow, 0, sizeof flow);
    for (size_t i = 0; i < st->n_words; i++) {
        ((uint64_t *) &flow)[st->words[i]] = e->key[i];
    }
    parms.flow = &flow;
    parms.mask = &st->wc.masks;
    ofpbuf_init(&key, 0);
    ofpbuf_init(&mask, 0);
    odp_flow_key_from_flow(&parms, &key);
    parms.key_buf = &key;
    odp_flow_key_from_mask(&parms, &mask);
    odp_flow_format(key.data, key.size, mask.data, mask.size, NULL, s,
                    false);
    ofpbuf_uninit(&key);
    ofpbuf_uninit(&mask);
}

static void
format_ct(const struct ctdp_dpflow *e, struct ds *s)
{
    const struct ctdp_ct_action *a = &e->ct_action;
    const struct ofpact *exec;
    size_t start = s->length;

    ds_put_cstr(s, "ct(");
    if (a->commit) {
        ds_put_cstr(s, "commit,");
    }
    if (a->force) {
        ds_put_cstr(s, "force,");
    }
    if (a->zone) {
        ds_put_format(s, "zone=%"PRIu16",", a->zone);
    }
    if (a->set_mark) {
        ds_put_format(s, "mark=%#"PRIx32"/%#"PRIx32",", a->mark,
                      a->mark_mask);
    }
    if (a->set_label) {
        ds_put_cstr(s, "label=");
        ds_put_hex(s, &a->label, sizeof a->label);
        ds_put_char(s, '/');
        ds_put_hex(s, &a->label_mask, sizeof a->label_mask);
        ds_put_char(s, ',');
    }
    if (a->helper) {
        ds_put_format(s, "helper=%s,", a->helper);
    }
    OFPACT_FOR_EACH (exec, e->oc->actions, ofpact_ct_get_action_len(e->oc)) {
        if (exec->type == OFPACT_NAT) {
            struct ofpact_format_params fp = { .s = s };

            ofpacts_format(exec, exec->len, &fp);
            ds_put_char(s, ',');
        }
    }
    ds_chomp(s, ',');         /* Only if there is one. */
    ds_put_char(s, ')');
    if (s->length == start + 4) {
        ds_truncate(s, start);
        ds_put_cstr(s, "ct");
    }
    ds_put_format(s, ",recirc(%#"PRIx32")", e->recirc->id);
}

static void
format_actions(const struct ctdp_dpflow *e, struct ds *s)
{
    size_t start = s->length;

    for (size_t i = 0; i < e->n_ops; i++) {
        const struct ctdp_op *op = &e->ops[i];
        struct ofpact_format_params fp = { .s = s };

        switch (op->type) {
        case CTDP_OP_OUTPUT:
            ds_put_format(s, "%"PRIu16",", ofp_to_u16(op->port));
            break;
        case CTDP_OP_SET_FIELD:
            ofpacts_format(&op->sf->ofpact, op->sf->ofpact.len, &fp);
            ds_put_char(s, ',');
            break;
        case CTDP_OP_REG_MOVE:
            ofpacts_format(&op->move->ofpact, op->move->ofpact.len, &fp);
            ds_put_char(s, ',');
            break;
        case CTDP_OP_CT_CLEAR:
            ds_put_cstr(s, "ct_clear,");
            break;
        case CTDP_OP_TABLE_MISS:
        case CTDP_OP_TOO_DEEP:
            break;
        }
    }
    if (e->ct) {
        format_ct(e, s);
    } else if (s->length == start) {
        ds_put_cstr(s, "drop");
    } else {
        ds_chomp(s, ',');
    }
}

static void
format_entry(const struct ctdp_dpflow *e_, long long now, struct ds *s)
{
    struct ctdp_dpflow *e = CONST_CAST(struct ctdp_dpflow *, e_);
    uint64_t packets, bytes;
    long long used;

    atomic_read_relaxed(&e->n_packets, &packets);
    atomic_read_relaxed(&e->n_bytes, &bytes);
    atomic_read_relaxed(&e->used, &used);
    format_match(e, s);
    ds_put_format(s, ", packets:%"PRIu64", bytes:%"PRIu64", used:",
                  packets, bytes);
    if (packets) {
        ds_put_format(s, "%.3fs", MAX(0, now - used) / 1000.0);
    } else {
        ds_put_cstr(s, "never");
    }
    ds_put_cstr(s, ", actions:");
    format_actions(e, s);
    ds_put_char(s, '\n');
}

static void
format_partition(const struct dpc_partition *part, long long now,
                 struct ds *s)
{
    const struct dpc_subtables *st = subtables_get(part);

    for (size_t i = 0; i < st->n; i++) {
        const struct ctdp_dpflow *e;

        CMAP_FOR_EACH (e, node, &st->s[i]->entries) {
            format_entry(e, now, s);
        }
    }
}

void
ctdp_dpcache_format(const struct ctdp_dpcache *c, long long now,
                    struct ds *s)
{
    const struct ctdp_recirc *r;

    format_partition(&c->root, now, s);
    CMAP_FOR_EACH (r, node, &c->recircs) {
        format_partition(&r->part, now, s);
    }
}
