/* Expectations: conns that a helper expects, as the kernel's
 * nf_conntrack_expect.c.
 *
 * A helper (FTP, TFTP) that reads in a master conn's packets where its
 * data conn will come from creates an expectation: the data conn's
 * original tuple with any source port, in the master's zone, for the
 * helper's timeout.  A new conn whose tuple an expectation matches is
 * EXPECTED: its first packet is +new+rel (RELATED), it takes the master's
 * mark and label, and its confirm uses the expectation up.  Expectations
 * also go when they expire and when their master is removed.
 *
 * There are few (at most ct->expect_max, the kernel's
 * nf_conntrack_expect_max), made and used on the slow path: one mutex
 * guards them all, and the packet path takes it only while 'n_expects' is
 * not 0.  An expectation points to its master; ctdp_conn_remove() calls
 * ctdp_expect_master_gone() before the master's free is postponed, so a
 * master pointer found under the mutex is always a conn that RCU keeps.
 * Lock order: a conn's lock (a helper at work), then the mutex. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <errno.h>
#include <string.h>
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_expect);

/* The hash of an expectation's tuple, or of a new conn's: everything but
 * the source port, which an expectation leaves open. */
static uint32_t
expect_hash(const struct ctdp_ct *ct, const struct ctdp_tuple *t)
{
    struct ctdp_tuple k = *t;

    k.sport = 0;
    return ctdp_siphash_words((const uint64_t *) &k, sizeof k / 8,
                              &ct->id_key);
}

/* Does expectation 'e' match a conn whose original tuple is 't'? */
static bool
expect_matches(const struct ctdp_expect *e, const struct ctdp_tuple *t)
{
    struct ctdp_tuple k = *t;

    k.sport = 0;
    return ctdp_tuple_equal(&e->tuple, &k);
}

static void
count(struct ctdp_ct *ct, enum ctdp_stat stat)
{
    ctdp_stat_inc(ct, stat);
}

static void
expect_to_entry(const struct ctdp_expect *e, struct ctdp_ct_expect_entry *x)
{
    x->tuple = e->tuple;
    x->master = e->master->key;
    ctdp_conn_reply_tuple(e->master, &x->master_reply);
    x->helper = e->helper->name;
    x->expires = e->expires;
    x->id = e->id;
}

static void
report(struct ctdp_ct *ct, enum ctdp_ct_event_type type,
       const struct ctdp_expect *e, long long now)
{
    if (ctdp_events_wanted(ct)) {
        struct ctdp_ct_expect_entry x;

        expect_to_entry(e, &x);
        ctdp_event_emit_expect(ct, type, &x, now);
    }
}

/* Removes 'e' at 'now' and frees it. */
static void
expect_unlink(struct ctdp_ct *ct, struct ctdp_expect *e, long long now)
    OVS_REQUIRES(ct->expect_mutex)
{
    uint32_t old;

    report(ct, CTDP_EVENT_EXPECT_DESTROY, e, now);
    hmap_remove(&ct->expects, &e->node);
    ctdp_conn_ext(e->master)->n_expected--;
    atomic_sub_relaxed(&ct->n_expects, 1, &old);
    count(ct, CTDP_STAT_expect_delete);
    free(e);
}

static bool
expect_expired(const struct ctdp_expect *e, long long now)
{
    return now >= e->expires;
}

/* The oldest live expectation of 'master', or NULL. */
static struct ctdp_expect *
oldest_of(struct ctdp_ct *ct, const struct ctdp_conn *master)
    OVS_REQUIRES(ct->expect_mutex)
{
    struct ctdp_expect *e, *oldest = NULL;

    HMAP_FOR_EACH (e, node, &ct->expects) {
        if (e->master == master && (!oldest || e->id < oldest->id)) {
            oldest = e;
        }
    }
    return oldest;
}

/* Creates an expectation for a conn with original tuple 't' (its source
 * port is ignored), made by a packet of 'master', which must have a
 * helper, as the kernel's nf_ct_expect_related(): the same expectation
 * from the same master is renewed; one that overlaps another master's is
 * refused (EBUSY); past the helper's max_expected, the master's oldest
 * goes; past the table's limit, the new one is refused (EMFILE).  'nat',
 * if not NULL, is how a conn made from it is to be translated.  Returns 0
 * or one of those errors. */
int
ctdp_expect_create(struct ctdp_ct *ct, struct ctdp_conn *master,
                   const struct ctdp_tuple *t,
                   const struct ctdp_expect_nat *nat, long long now)
{
    struct ctdp_conn_ext *ext = ctdp_conn_ext(master);
    const struct ctdp_helper *helper = ext->helper;
    uint32_t hash = expect_hash(ct, t), max, n;
    struct ctdp_expect *e, *next;
    int error = 0;

    ovs_mutex_lock(&ct->expect_mutex);
    /* Expired ones go as the kernel's __nf_ct_expect_check() meets them;
     * the table is small, and this is the slow path. */
    HMAP_FOR_EACH_SAFE (e, next, node, &ct->expects) {
        if (expect_expired(e, now)) {
            expect_unlink(ct, e, now);
        } else if (e->node.hash == hash && expect_matches(e, t)) {
            if (e->master != master) {
                error = EBUSY;
                goto out;
            }
            expect_unlink(ct, e, now);
        }
    }
    if (ext->n_expected >= helper->max_expected) {
        e = oldest_of(ct, master);
        if (e) {
            expect_unlink(ct, e, now);
        }
    }
    atomic_read_relaxed(&ct->n_expects, &n);
    atomic_read_relaxed(&ct->expect_max, &max);
    if (n >= max) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "expectation table full (%"PRIu32")", max);
        error = EMFILE;
        goto out;
    }
    e = xzalloc(sizeof *e);
    e->tuple = *t;
    e->tuple.sport = 0;
    e->master = master;
    e->helper = helper;
    if (nat) {
        e->has_nat = true;
        e->nat = *nat;
    }
    e->expires = now + helper->expect_timeout * 1000LL;
    e->id = ++ct->next_expect_id;
    hmap_insert(&ct->expects, &e->node, hash);
    report(ct, CTDP_EVENT_EXPECT_NEW, e, now);
    ext->n_expected++;
    atomic_add_relaxed(&ct->n_expects, 1, &n);
    count(ct, CTDP_STAT_expect_create);
out:
    ovs_mutex_unlock(&ct->expect_mutex);
    return error;
}

/* Looks for a live expectation that a new conn with original tuple 'key'
 * fulfils, whose master is still live; if there is one, sets '*mark' and
 * '*label' to the master's, '*has_nat' and '*nat' to how to translate the
 * new conn, and returns true.  The expectation stays until
 * the new conn is confirmed (ctdp_expect_consume()): a packet that is
 * only tracked, not committed, may be followed by one that is. */
bool
ctdp_expect_find(struct ctdp_ct *ct, const struct ctdp_tuple *key,
                 long long now, uint32_t *mark, ovs_u128 *label,
                 struct ctdp_expect_nat *nat, bool *has_nat)
{
    uint32_t hash = expect_hash(ct, key);
    struct ctdp_conn *master = NULL;
    struct ctdp_expect *e;

    ovs_mutex_lock(&ct->expect_mutex);
    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &ct->expects) {
        if (!expect_expired(e, now) && expect_matches(e, key)
            && ctdp_conn_is_live(e->master, now)) {
            master = e->master;
            *has_nat = e->has_nat;
            *nat = e->nat;
            break;
        }
    }
    ovs_mutex_unlock(&ct->expect_mutex);
    if (master) {
        /* Not under the mutex: a helper makes expectations under its
         * conn's lock.  RCU keeps the master. */
        ctdp_conn_lock(master);
        *mark = master->mark;
        *label = master->label;
        ctdp_conn_unlock(master);
    }
    return master != NULL;
}

/* An EXPECTED conn with original tuple 'key' was confirmed: its
 * expectation is used up. */
void
ctdp_expect_consume(struct ctdp_ct *ct, const struct ctdp_tuple *key,
                    long long now)
{
    uint32_t hash = expect_hash(ct, key);
    struct ctdp_expect *e;

    ovs_mutex_lock(&ct->expect_mutex);
    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &ct->expects) {
        if (!expect_expired(e, now) && expect_matches(e, key)) {
            expect_unlink(ct, e, now);
            count(ct, CTDP_STAT_expect_new);
            break;
        }
    }
    ovs_mutex_unlock(&ct->expect_mutex);
}

/* Removes 'master''s expectation of 't', if any (a NAT helper that could
 * not rewrite the packet that announced it). */
void
ctdp_expect_remove(struct ctdp_ct *ct, const struct ctdp_conn *master,
                   const struct ctdp_tuple *t, long long now)
{
    uint32_t hash = expect_hash(ct, t);
    struct ctdp_expect *e;

    ovs_mutex_lock(&ct->expect_mutex);
    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &ct->expects) {
        if (e->master == master && expect_matches(e, t)) {
            expect_unlink(ct, e, now);
            break;
        }
    }
    ovs_mutex_unlock(&ct->expect_mutex);
}

/* Removes every expectation of 'master', which is being removed. */
void
ctdp_expect_master_gone(struct ctdp_ct *ct, struct ctdp_conn *master,
                        long long now)
{
    struct ctdp_expect *e, *next;

    ovs_mutex_lock(&ct->expect_mutex);
    HMAP_FOR_EACH_SAFE (e, next, node, &ct->expects) {
        if (e->master == master) {
            expect_unlink(ct, e, now);
        }
    }
    ovs_mutex_unlock(&ct->expect_mutex);
}

/* Removes the expectations expired at 'now'; returns how many. */
size_t
ctdp_expect_sweep(struct ctdp_ct *ct, long long now)
{
    struct ctdp_expect *e, *next;
    size_t n = 0;

    ovs_mutex_lock(&ct->expect_mutex);
    HMAP_FOR_EACH_SAFE (e, next, node, &ct->expects) {
        if (expect_expired(e, now)) {
            expect_unlink(ct, e, now);
            n++;
        }
    }
    ovs_mutex_unlock(&ct->expect_mutex);
    return n;
}

void
ctdp_expect_destroy(struct ctdp_ct *ct)
{
    struct ctdp_expect *e;

    HMAP_FOR_EACH_POP (e, node, &ct->expects) {
        free(e);
    }
    hmap_destroy(&ct->expects);
    ovs_mutex_destroy(&ct->expect_mutex);
}

/* ---- Dump and flush ---------------------------------------------------- */

size_t
ctdp_ct_expect_dump(struct ctdp_ct *ct, int zone, long long now,
                    struct ctdp_ct_expect_entry **entriesp)
{
    struct ctdp_ct_expect_entry *entries;
    struct ctdp_expect *e;
    size_t n = 0;

    ovs_mutex_lock(&ct->expect_mutex);
    entries = xcalloc(hmap_count(&ct->expects) + 1, sizeof *entries);
    HMAP_FOR_EACH (e, node, &ct->expects) {
        struct ctdp_ct_expect_entry *x = &entries[n];

        if (expect_expired(e, now) || (zone >= 0 && e->tuple.zone != zone)) {
            continue;
        }
        expect_to_entry(e, x);
        n++;
    }
    ovs_mutex_unlock(&ct->expect_mutex);
    *entriesp = entries;
    return n;
}

size_t
ctdp_ct_expect_flush(struct ctdp_ct *ct, int zone, long long now)
{
    struct ctdp_expect *e, *next;
    size_t n = 0;

    ovs_mutex_lock(&ct->expect_mutex);
    HMAP_FOR_EACH_SAFE (e, next, node, &ct->expects) {
        if (zone < 0 || e->tuple.zone == zone) {
            expect_unlink(ct, e, now);
            n++;
        }
    }
    ovs_mutex_unlock(&ct->expect_mutex);
    return n;
}

void
ctdp_ct_set_expect_max(struct ctdp_ct *ct, uint32_t max)
{
    atomic_store_relaxed(&ct->expect_max, max);
}

uint32_t
ctdp_ct_get_expect_max(const struct ctdp_ct *ct)
{
    uint32_t max;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->expect_max, &max);
    return max;
}

uint32_t
ctdp_ct_n_expects(const struct ctdp_ct *ct)
{
    uint32_t n;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->n_expects, &n);
    return n;
}
