/* The conn hash table: chains of nodes, one node per direction per conn.
 *
 * Readers walk chains without locks (RCU).  Writers take the bucket locks
 * of the chains they change; the lock of a bucket is chosen by the low bits
 * of the hash, which a bucket's index keeps as the table grows, so a
 * writer's locks stay right across a resize.
 *
 * Growth doubles the bucket array while holding every bucket lock, moving
 * nodes to their new chains.  A reader that was walking a chain while its
 * nodes moved can be led to another chain and miss; the resize seqcount
 * tells it to look again (counted as search_restart).  A hit is always
 * right: it compares the whole tuple. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>
#include "ctdp-random.h"
#include "util.h"

/* More buckets than this are never made (2^27 pointers: 1 GiB). */
#define CTDP_MAX_BUCKETS (1u << 27)

static struct ctdp_buckets *
buckets_alloc(uint32_t n)
{
    struct ctdp_buckets *b = xzalloc(sizeof *b + n * sizeof b->heads[0]);

    b->mask = n - 1;
    return b;
}

static struct ctdp_buckets *
buckets_get(const struct ctdp_table *t)
{
    return ovsrcu_get(struct ctdp_buckets *, &t->buckets);
}

int
ctdp_table_init(struct ctdp_table *t, const struct ctdp_ct_params *p)
{
    uint32_t n = p->n_buckets ? p->n_buckets : 1024;
    int error;

    /* No fewer buckets than locks: with fewer, two locks would guard one
     * chain. */
    n = MIN(MAX(n, CTDP_N_LOCKS), CTDP_MAX_BUCKETS);
    n = 1u << log_2_ceil(n);
    error = ctdp_random_bytes(&t->hash_key, sizeof t->hash_key);
    if (error) {
        return -error;
    }
    ovsrcu_init(&t->buckets, buckets_alloc(n));
    atomic_init(&t->seq, 0);
    for (size_t i = 0; i < CTDP_N_LOCKS; i++) {
        ovs_spin_init(&t->locks[i]);
    }
    ovs_mutex_init(&t->resize_mutex);
    t->max_chain = p->max_chain;
    t->test_hash = p->hash;
    return 0;
}

/* Frees the bucket array.  The conns must be gone already. */
void
ctdp_table_destroy(struct ctdp_table *t)
{
    free(buckets_get(t));
    for (size_t i = 0; i < CTDP_N_LOCKS; i++) {
        ovs_spin_destroy(&t->locks[i]);
    }
    ovs_mutex_destroy(&t->resize_mutex);
}

/* Hashes a tuple under the table's key.  An IPv4 tuple is hashed as the
 * two words that hold its non-zero bytes (addresses; ports, zone,
 * protocol and family), an IPv6 tuple as all five: the family is in the
 * hashed words either way, so the two kinds cannot be made to collide. */
uint32_t
ctdp_table_hash(const struct ctdp_table *t, const struct ctdp_tuple *tuple)
{
    const uint64_t *w = (const uint64_t *) tuple;

    if (OVS_UNLIKELY(t->test_hash)) {
        return t->test_hash(tuple);
    }
    if (tuple->l3 == CTDP_L3_IPV4) {
        uint64_t v4[2] = {
            (uint64_t) tuple->src.ip4 << 32 | tuple->dst.ip4,
            w[4],
        };

        return ctdp_siphash_words(v4, 2, &t->hash_key);
    }
    return ctdp_siphash_words(w, sizeof *tuple / 8, &t->hash_key);
}

static ATOMIC(struct ctdp_node *) *
bucket_head(struct ctdp_buckets *b, uint32_t hash)
{
    return &b->heads[hash & b->mask];
}

static struct ctdp_node *
node_next(struct ctdp_node *node)
{
    struct ctdp_node *next;

    /* Pairs with the release in ctdp_table_insert_locked() and
     * move_chain(): the node we reach is initialised. */
    atomic_read_explicit(&node->next, &next, memory_order_acquire);
    return next;
}

void
ctdp_table_prefetch(const struct ctdp_table *t, uint32_t hash)
{
    OVS_PREFETCH(bucket_head(buckets_get(t), hash));
}

/* Prefetching a chain a step at a time, across a batch: '*cursor' starts
 * NULL; each call moves it one node along the chain of 'hash' (whose
 * previous node, or bucket, should have been prefetched a while before)
 * and prefetches that node's conn.  Running one step for every packet of
 * a batch before the next step overlaps the batch's memory latency. */
void
ctdp_table_prefetch_step(const struct ctdp_table *t, uint32_t hash,
                         struct ctdp_node **cursor)
{
    struct ctdp_node *node;

    /* Acquire, as every chain walk (free on x86): the next step reads the
     * node's own 'next', written before its release in push_node(). */
    if (*cursor) {
        node = node_next(*cursor);
    } else {
        atomic_read_explicit(bucket_head(buckets_get(t), hash), &node,
                             memory_order_acquire);
    }
    if (node) {
        ctdp_conn_prefetch(ctdp_node_conn(node));
        *cursor = node;
    }
}

/* Returns the node of a live conn whose tuple in the node's direction is
 * 'key' ('inv_key' is 'key' inverted: see ctdp_conn_matches()), or NULL.
 * Removes the expired conns with that tuple that it meets. */
struct ctdp_node *
ctdp_table_lookup(struct ctdp_ct *ct, const struct ctdp_tuple *key,
                  const struct ctdp_tuple *inv_key, uint32_t hash,
                  long long now)
{
    struct ctdp_table *t = &ct->table;

    for (;;) {
        uint32_t seq, seq2;
        struct ctdp_node *node;

        atomic_read_explicit(&t->seq, &seq, memory_order_acquire);
        atomic_read_explicit(bucket_head(buckets_get(t), hash), &node,
                             memory_order_acquire);
        for (; node; node = node_next(node)) {
            struct ctdp_conn *conn = ctdp_node_conn(node);

            if (ctdp_conn_matches(conn, ctdp_node_dir(node), key, inv_key)) {
                if (ctdp_conn_is_live(conn, now)) {
                    return node;
                }
                if (OVS_UNLIKELY(ct->test_delay)) {
                    ct->test_delay(CTDP_TEST_LOOKUP_DEAD);
                }
                /* Expired: remove it now, as the kernel's lookup does
                 * (nf_ct_gc_expired()), so that a thread whose clock lags
                 * cannot revive it once this one has seen it expire.  The
                 * node stays readable (RCU), so the walk goes on. */
                if (!(ctdp_conn_status(conn) & CTDP_S_DYING)) {
                    ctdp_conn_remove(ct, conn, now);
                }
            }
        }
        /* Pairs with the releases of 'seq' in ctdp_table_maybe_grow(). */
        atomic_thread_fence(memory_order_acquire);
        atomic_read_relaxed(&t->seq, &seq2);
        if (!(seq & 1) && seq == seq2) {
            return NULL;
        }
        ctdp_stat_inc(ct, CTDP_STAT_search_restart);
    }
}

void
ctdp_table_lock_pair(struct ctdp_table *t, uint32_t h1, uint32_t h2)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    uint32_t a = h1 & (CTDP_N_LOCKS - 1), b = h2 & (CTDP_N_LOCKS - 1);

    ovs_spin_lock(&t->locks[MIN(a, b)]);
    if (a != b) {
        ovs_spin_lock(&t->locks[MAX(a, b)]);
    }
}

void
ctdp_table_unlock_pair(struct ctdp_table *t, uint32_t h1, uint32_t h2)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    uint32_t a = h1 & (CTDP_N_LOCKS - 1), b = h2 & (CTDP_N_LOCKS - 1);

    if (a != b) {
        ovs_spin_unlock(&t->locks[MAX(a, b)]);
    }
    ovs_spin_unlock(&t->locks[MIN(a, b)]);
}

/* Returns the first node of the chain of 'hash' in the current table.
 * Under the chain's bucket lock, the chain is stable; without it (inside an
 * RCU read section), it is a snapshot that a resize may cut short. */
struct ctdp_node *
ctdp_table_chain(const struct ctdp_table *t, uint32_t hash)
{
    struct ctdp_node *node;

    atomic_read_explicit(bucket_head(buckets_get(t), hash), &node,
                         memory_order_acquire);
    return node;
}

/* Follows a chain: the node after 'node'. */
struct ctdp_node *
ctdp_table_next(struct ctdp_node *node)
{
    return node_next(node);
}

uint32_t
ctdp_table_n_buckets(const struct ctdp_table *t)
{
    return buckets_get(t)->mask + 1;
}

uint32_t
ctdp_table_seq(const struct ctdp_table *t)
{
    uint32_t seq;

    atomic_read_explicit(&CONST_CAST(struct ctdp_table *, t)->seq, &seq,
                         memory_order_acquire);
    return seq;
}

static void
push_node(ATOMIC(struct ctdp_node *) *head, struct ctdp_node *node)
{
    struct ctdp_node *first;

    atomic_read_relaxed(head, &first);
    atomic_init(&node->next, first);
    /* Pairs with the acquire in node_next() and ctdp_table_lookup(). */
    atomic_store_explicit(head, node, memory_order_release);
}

/* Inserts both of 'conn''s nodes.  The caller holds both bucket locks. */
void
ctdp_table_insert_locked(struct ctdp_table *t, struct ctdp_conn *conn,
                         uint32_t orig_hash, uint32_t reply_hash)
{
    struct ctdp_buckets *b = buckets_get(t);

    push_node(bucket_head(b, orig_hash), &conn->node[CTDP_DIR_ORIG]);
    push_node(bucket_head(b, reply_hash), &conn->node[CTDP_DIR_REPLY]);
}

static void
unlink_node(struct ctdp_buckets *b, uint32_t hash, struct ctdp_node *node)
{
    ATOMIC(struct ctdp_node *) *pprev = bucket_head(b, hash);

    for (;;) {
        struct ctdp_node *cur;

        atomic_read_relaxed(pprev, &cur);
        ovs_assert(cur);
        if (cur == node) {
            /* The unlinked node keeps its 'next', so a reader standing on
             * it walks on. */
            atomic_store_explicit(pprev, node_next(node),
                                  memory_order_release);
            return;
        }
        pprev = &cur->next;
    }
}

/* Removes both of 'conn''s nodes.  The caller holds both bucket locks. */
void
ctdp_table_unlink_locked(struct ctdp_table *t, struct ctdp_conn *conn,
                         uint32_t orig_hash, uint32_t reply_hash)
{
    struct ctdp_buckets *b = buckets_get(t);

    unlink_node(b, orig_hash, &conn->node[CTDP_DIR_ORIG]);
    unlink_node(b, reply_hash, &conn->node[CTDP_DIR_REPLY]);
}

/* Moves every node of 'old''s chain 'i' to its chain in 'new'. */
static void
move_chain(struct ctdp_table *t, struct ctdp_buckets *old, uint32_t i,
           struct ctdp_buckets *new)
{
    struct ctdp_node *node;

    atomic_read_relaxed(&old->heads[i], &node);
    while (node) {
        struct ctdp_node *next = node_next(node);
        uint32_t hash = ctdp_conn_node_hash(t, ctdp_node_conn(node),
                                            ctdp_node_dir(node));

        push_node(bucket_head(new, hash), node);
        node = next;
    }
}

static void
lock_all(struct ctdp_table *t) OVS_NO_THREAD_SAFETY_ANALYSIS
{
    for (size_t i = 0; i < CTDP_N_LOCKS; i++) {
        ovs_spin_lock(&t->locks[i]);
    }
}

static void
unlock_all(struct ctdp_table *t) OVS_NO_THREAD_SAFETY_ANALYSIS
{
    for (size_t i = CTDP_N_LOCKS; i-- > 0;) {
        ovs_spin_unlock(&t->locks[i]);
    }
}

static void
seq_bump(struct ctdp_table *t)
{
    uint32_t seq;

    atomic_read_relaxed(&t->seq, &seq);
    atomic_store_explicit(&t->seq, seq + 1, memory_order_release);
}

/* Doubles the table if 'n_conns' outnumber its buckets.  Called after an
 * insert; a thread that finds another one resizing leaves it the work. */
void
ctdp_table_maybe_grow(struct ctdp_table *t, uint32_t n_conns)
{
    struct ctdp_buckets *old = buckets_get(t), *new;

    if (n_conns <= old->mask + 1 || old->mask + 1 >= CTDP_MAX_BUCKETS
        || ovs_mutex_trylock(&t->resize_mutex)) {
        return;
    }
    old = buckets_get(t);
    if (n_conns > old->mask + 1) {
        new = buckets_alloc(2 * (old->mask + 1));
        lock_all(t);
        seq_bump(t);                /* Odd: nodes are moving. */
        atomic_thread_fence(memory_order_release);
        for (uint32_t i = 0; i <= old->mask; i++) {
            move_chain(t, old, i, new);
        }
        ovsrcu_set(&t->buckets, new);
        seq_bump(t);                /* Even: done. */
        unlock_all(t);
        ovsrcu_postpone(free, old);
    }
    ovs_mutex_unlock(&t->resize_mutex);
}
