/* The conn hash table: see ctdp-table.h for its layout and contracts. */
#include <config.h>
#include "ctdp-table.h"

#include <string.h>
#include "ctdp-prefetch.h"
#include "ctdp-random.h"
#include "util.h"

/* More buckets than this are never made (2^25 lines: 2 GiB).  Every
 * growth's split bit is in the tags (CTDP_TAG_SHIFT). */
#define MAX_BUCKETS (1u << 25)
BUILD_ASSERT_DECL(MAX_BUCKETS <= 1u << (CTDP_TAG_SHIFT + 16));

/* Growth: the table doubles when its entries (one or two per conn) pass
 * this many per bucket on average, which keeps it at 4 to 8 of the 10
 * slots.  Each insert moves MOVE_STEP old buckets: the n buckets of an
 * array are moved within n / MOVE_STEP inserts, a small part of the 4n to
 * 8n that fill the new array to the next growth, and no insert pays for
 * more than a few buckets. */
#define GROW_LOAD 8
#define MOVE_STEP 2
#define MOVE_AHEAD (4 * MOVE_STEP)  /* Old buckets prefetched ahead. */

/* Buckets in a window of pages backed at once (ctdp_pool_populate()). */
#define WINDOW (CTDP_POOL_POPULATE / sizeof(struct ctdp_bucket))

/* Claims of MOVE_STEP buckets tile every array (of at least CTDP_N_LOCKS
 * buckets, a power of 2) and every window. */
BUILD_ASSERT_DECL(CTDP_N_LOCKS % MOVE_STEP == 0 && WINDOW % MOVE_STEP == 0);

/* A growth's new array is made this many entries before the load calls
 * for the moves, so that the backer (ctdp-backer.h) has backed the first
 * window of each half when they start, as later windows are backed a
 * window ahead of the moves (see move_buckets()). */
#define GROW_LEAD(N_BUCKETS) MIN(2 * WINDOW, (N_BUCKETS) / 8)

static size_t
array_size(uint32_t n)
{
    return ROUND_UP(n * sizeof(struct ctdp_bucket), get_page_size());
}

/* An array of 'n' empty buckets.  A span of the pool, not malloc'd:
 * zeroed pages that take memory as they are backed, a window at a time
 * ahead of the moves that fill them, so a new array costs little time up
 * front. */
static struct ctdp_buckets *
buckets_alloc(const struct ctdp_table *t, uint32_t n)
{
    struct ctdp_buckets *bs = xzalloc(sizeof *bs);

    bs->region = t->region;
    bs->pool = t->pool;
    atomic_init(&bs->next, NULL);
    atomic_init(&bs->move_next, 0);
    atomic_init(&bs->move_done, 0);
    bs->b = ctdp_pool_span(t->pool, array_size(n));
    /* The first window of each half: the moves of a growth start there
     * (see move_buckets()). */
    ctdp_pool_populate(bs->b, MIN(array_size(n), CTDP_POOL_POPULATE));
    if (n / 2 >= WINDOW) {
        ctdp_pool_populate(&bs->b[n / 2], CTDP_POOL_POPULATE);
    }
    bs->mask = n - 1;
    return bs;
}

static void
buckets_free(struct ctdp_buckets *bs)
{
    ctdp_pool_span_free(bs->pool, bs->b, array_size(bs->mask + 1));
    free(bs);
}

static struct ctdp_buckets *
buckets_get(const struct ctdp_table *t)
{
    return ovsrcu_get(struct ctdp_buckets *, &t->buckets);
}

int
ctdp_table_init(struct ctdp_table *t, uint32_t n, uint32_t max_chain,
                uint32_t (*test_hash)(const struct ctdp_tuple *),
                struct ctdp_pool *pool)
{
    int error;

    n = MIN(MAX(n, CTDP_MIN_BUCKETS), MAX_BUCKETS);
    n = 1u << log_2_ceil(n);
    error = ctdp_random_bytes(&t->hash_key, sizeof t->hash_key);
    if (error) {
        return -error;
    }
    t->pool = pool;
    t->region = ctdp_pool_region(pool);
    ovsrcu_init(&t->buckets, buckets_alloc(t, n));
    for (size_t i = 0; i < CTDP_N_LOCKS; i++) {
        ctdp_spin_init(&t->locks[i]);
    }
    ovs_mutex_init(&t->resize_mutex);
    t->max_chain = max_chain;
    t->test_hash = test_hash;
    return 0;
}

/* Frees the bucket arrays.  The objects, and the overflow buckets, go
 * with the pool. */
void
ctdp_table_destroy(struct ctdp_table *t)
{
    struct ctdp_buckets *bs = buckets_get(t);

    if (ctdp_buckets_next(bs)) {
        buckets_free(ctdp_buckets_next(bs));
    }
    buckets_free(bs);
    ovs_mutex_destroy(&t->resize_mutex);
}

/* A tuple is hashed with its ends in one order, the same for the tuple
 * and its swap, so that a conn whose reply tuple is its original's swap
 * (no NAT, not ICMP) needs one entry for both directions (see
 * ctdp-table.h).  Only which of the two orders is taken varies: every
 * other bit of the tuple is hashed, keyed, as it is.  Any fixed order of
 * ends serves, as long as a table hashes each tuple one way: IPv4 tuples
 * compare their ends as native numbers (ipv4_words()), all others here.
 *
 * Is 'tuple' hashed swapped?  When it inverts by swap and its source end,
 * address and then port, comes after its destination's. */
static bool
ends_swapped(const struct ctdp_tuple *tuple)
{
    int c = memcmp(&tuple->src, &tuple->dst, sizeof tuple->src);

    return (ctdp_tuple_inverts_by_swap(tuple)
            && (c > 0 || (!c && ntohs(tuple->sport) > ntohs(tuple->dport))));
}

/* The two words an IPv4 tuple is hashed as, the ones that hold its
 * non-zero bytes: its addresses, and its last word (ports, zone, protocol
 * and family), with its ends in order (above): each end an address and a
 * port as one number, as they lie in memory, without a branch (the order
 * is random).  An IPv6 tuple is hashed as all five words: the family is in
 * the hashed words either way, so the two kinds cannot be made to
 * collide. */
static inline void
ipv4_words(const struct ctdp_tuple *tuple, uint64_t *addrs, uint64_t *rest)
{
    uint64_t fwd = (uint64_t) tuple->src.ip4 << 32 | tuple->dst.ip4;
    uint64_t rev = fwd >> 32 | fwd << 32;
    uint64_t w = ((const uint64_t *) tuple)[4];
    bool swap = (ctdp_tuple_inverts_by_swap(tuple)
                 && ((uint64_t) tuple->src.ip4 << 16 | tuple->sport)
                    > ((uint64_t) tuple->dst.ip4 << 16 | tuple->dport));

    *addrs = swap ? rev : fwd;
    *rest = swap ? ctdp_tuple_ports_swapped(w) : w;
}

/* Hashes a tuple under the table's key: a tuple and its swap alike. */
uint32_t
ctdp_table_hash(const struct ctdp_table *t, const struct ctdp_tuple *tuple)
{
    struct ctdp_tuple swapped;

    if (tuple->l3 == CTDP_L3_IPV4 && OVS_LIKELY(!t->test_hash)) {
        uint64_t v4[2];

        ipv4_words(tuple, &v4[0], &v4[1]);
        return ctdp_siphash_words(v4, 2, &t->hash_key);
    }
    if (ends_swapped(tuple)) {
        ctdp_tuple_invert(tuple, &swapped);
        tuple = &swapped;
    }
    return (OVS_UNLIKELY(t->test_hash)
            ? t->test_hash(tuple)
            : ctdp_siphash_words((const uint64_t *) tuple,
                                 sizeof *tuple / 8, &t->hash_key));
}

/* Sets '*out[lane]' to the hash of the two words 'w[0][lane]' and
 * 'w[1][lane]' (an IPv4 tuple's), for 'n' lanes. */
static void
hash_ipv4_lanes(const struct ctdp_table *t,
                const uint64_t (*w)[CTDP_SIP_LANES], uint32_t *out[],
                size_t n)
{
    uint64_t hashes[CTDP_SIP_LANES];

    if (n == 1) {
        uint64_t words[2] = { w[0][0], w[1][0] };

        *out[0] = ctdp_siphash_words(words, 2, &t->hash_key);
        return;
    }
    ctdp_siphash_words_x8(w, 2, &t->hash_key, hashes);
    for (size_t lane = 0; lane < n; lane++) {
        *out[lane] = hashes[lane];
    }
}

/* Sets '*hashes[i]' to ctdp_table_hash() of 'tuples[i]', for 'n' tuples:
 * IPv4 tuples eight at a time (ctdp_siphash_words_x8()), the others one
 * by one. */
void
ctdp_table_hash_batch(const struct ctdp_table *t,
                      const struct ctdp_tuple *tuples[],
                      uint32_t *hashes[], size_t n)
{
    uint64_t w[2][CTDP_SIP_LANES];
    uint32_t *out[CTDP_SIP_LANES];
    size_t n_lanes = 0;

    for (size_t i = 0; i < n; i++) {
        const struct ctdp_tuple *tuple = tuples[i];

        if (tuple->l3 != CTDP_L3_IPV4 || OVS_UNLIKELY(t->test_hash)) {
            *hashes[i] = ctdp_table_hash(t, tuple);
            continue;
        }
        ipv4_words(tuple, &w[0][n_lanes], &w[1][n_lanes]);
        out[n_lanes++] = hashes[i];
        if (n_lanes == CTDP_SIP_LANES) {
            hash_ipv4_lanes(t, w, out, n_lanes);
            n_lanes = 0;
        }
    }
    if (n_lanes) {
        hash_ipv4_lanes(t, w, out, n_lanes);
    }
}

/* Prefetches the home bucket of 'hash'. */
void
ctdp_table_prefetch(const struct ctdp_table *t, uint32_t hash)
{
    const struct ctdp_buckets *bs = buckets_get(t);

    OVS_PREFETCH(&bs->b[hash & bs->mask]);
}

/* Prefetches the overflow bucket of 'b', if it has one; returns whether
 * it has. */
static bool
prefetch_overflow(const struct ctdp_table *t, const struct ctdp_bucket *b)
{
    uint32_t link = ctdp_bucket_link(b) >> 1;

    if (link) {
        OVS_PREFETCH(ctdp_pool_ptr(t->region, link));
    }
    return link;
}

/* Once the bucket of 'hash' is in cache (or on its way): prefetches its
 * overflow bucket, if any, for a caller that will walk the whole chain
 * (a confirm's clash check). */
void
ctdp_table_prefetch_overflow(const struct ctdp_table *t, uint32_t hash)
{
    prefetch_overflow(t, ctdp_table_bucket(t, hash));
}

/* The first object of 'b' whose tag is 'tag', with its direction in
 * '*dir', or NULL, with '*dir' -1 if no entry of the chain can have the
 * tag ('b' has no overflow bucket); prefetches the overflow bucket, if
 * any, where the lookup may go on. */
static void *
bucket_hint(const struct ctdp_table *t, const struct ctdp_bucket *b,
            uint16_t tag, int *dir)
{
    uint32_t m = ctdp_bucket_match(b, tag);

    *dir = prefetch_overflow(t, b) ? 0 : -1;
    for (; m; m &= m - 1) {
        uint32_t e;

        atomic_read_explicit(&CONST_CAST(struct ctdp_bucket *, b)
                             ->ref[__builtin_ctz(m)], &e,
                             memory_order_acquire);
        if (e) {
            *dir = e & 1;
            return ctdp_pool_ptr(t->region, e >> 1);
        }
    }
    return NULL;
}

/* Once the bucket of 'hash' is in cache (or on its way): the first object
 * of the bucket whose tag matches, with its direction in '*dir' (a hint,
 * which the caller checks in full), or NULL, with '*dir' -1 if the chain
 * holds no entry of the hash's tag (so none of the hash); prefetches the
 * overflow bucket, if any, where the lookup may go on. */
void *
ctdp_table_hint(const struct ctdp_table *t, uint32_t hash, int *dir)
{
    return bucket_hint(t, ctdp_table_bucket(t, hash), ctdp_table_tag(hash),
                       dir);
}

/* After ctdp_table_hint() found nothing in the bucket of 'hash' and
 * prefetched its overflow bucket: the hint from that overflow bucket, or
 * NULL if there is none.  At the load before a growth, one entry in
 * twenty lives in an overflow bucket. */
void *
ctdp_table_hint_overflow(const struct ctdp_table *t, uint32_t hash,
                         int *dir)
{
    uint32_t link = ctdp_bucket_link(ctdp_table_bucket(t, hash)) >> 1;

    return link ? bucket_hint(t, ctdp_pool_ptr(t->region, link),
                              ctdp_table_tag(hash), dir)
                : NULL;
}

void
ctdp_table_lock_pair(struct ctdp_table *t, uint32_t h1, uint32_t h2)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    uint32_t a = h1 & (CTDP_N_LOCKS - 1), b = h2 & (CTDP_N_LOCKS - 1);

    ctdp_spin_lock(&t->locks[MIN(a, b)]);
    if (a != b) {
        ctdp_spin_lock(&t->locks[MAX(a, b)]);
    }
}

void
ctdp_table_unlock_pair(struct ctdp_table *t, uint32_t h1, uint32_t h2)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    uint32_t a = h1 & (CTDP_N_LOCKS - 1), b = h2 & (CTDP_N_LOCKS - 1);

    if (a != b) {
        ctdp_spin_unlock(&t->locks[MAX(a, b)]);
    }
    ctdp_spin_unlock(&t->locks[MIN(a, b)]);
}

/* Puts entry 'e' with 'tag' in the first free slot of the chain that
 * starts at 'b', linking an overflow bucket if the chain is full.  The
 * caller holds the chain's lock.  The tag is written before the entry, so
 * a reader that sees the entry sees its tag. */
static void
chain_put(struct ctdp_table *t, struct ctdp_bucket *b, uint32_t e,
          uint16_t tag)
{
    for (;;) {
        uint32_t free = ctdp_bucket_free(b);
        uint32_t link;

        if (free) {
            int i = raw_ctz(free);

            atomic_store_relaxed(&b->tag[i], tag);
            atomic_store_explicit(&b->ref[i], e, memory_order_release);
            return;
        }
        atomic_read_relaxed(&b->link, &link);
        if (!(link >> 1)) {
            struct ctdp_bucket *ovf = ctdp_pool_alloc(t->pool, sizeof *ovf);

            memset(ovf, 0, sizeof *ovf);
            link |= ctdp_pool_ref(ovf) << 1;
            atomic_store_explicit(&b->link, link, memory_order_release);
        }
        b = ctdp_pool_ptr(t->region, link >> 1);
    }
}

/* Clears entry 'e' from the chain that starts at 'b'.  The caller holds
 * the chain's lock.  The tag stays: a reader that matched it finds the
 * slot empty, or another entry, which it checks in full. */
static void
chain_clear(struct ctdp_table *t, struct ctdp_bucket *b, uint32_t e)
{
    for (;;) {
        uint32_t link;

        for (int i = 0; i < CTDP_BUCKET_SLOTS; i++) {
            uint32_t cur;

            atomic_read_relaxed(&b->ref[i], &cur);
            if (cur == e) {
                atomic_store_explicit(&b->ref[i], 0, memory_order_release);
                return;
            }
        }
        atomic_read_relaxed(&b->link, &link);
        ovs_assert(link >> 1);
        b = ctdp_pool_ptr(t->region, link >> 1);
    }
}

static struct ctdp_bucket *
bucket_locked(struct ctdp_table *t, uint32_t hash)
{
    return CONST_CAST(struct ctdp_bucket *, ctdp_table_bucket(t, hash));
}

static uint32_t
entry(const void *obj, int dir)
{
    return ctdp_pool_ref(obj) << 1 | dir;
}

/* Inserts the object's entry of direction 'dir', whose tuple hashes to
 * 'hash'.  The caller holds the hash's bucket lock. */
void
ctdp_table_insert_locked(struct ctdp_table *t, const void *obj, int dir,
                         uint32_t hash)
{
    chain_put(t, bucket_locked(t, hash), entry(obj, dir),
              ctdp_table_tag(hash));
}

/* Removes the object's entry of direction 'dir', whose tuple hashes to
 * 'hash'.  The caller holds the hash's bucket lock. */
void
ctdp_table_remove_locked(struct ctdp_table *t, const void *obj, int dir,
                         uint32_t hash)
{
    chain_clear(t, bucket_locked(t, hash), entry(obj, dir));
}

uint32_t
ctdp_table_n_buckets(const struct ctdp_table *t)
{
    return buckets_get(t)->mask + 1;
}

/* Bit 'k' of the hash whose tag is 'tag', for a table of 2^k buckets or
 * more (CTDP_MIN_BUCKETS). */
static uint32_t
hash_bit(uint16_t tag, int k)
{
    return (tag >> (k - CTDP_TAG_SHIFT)) & 1;
}

/* The two new buckets an old one moves to.  They are empty (new arrays
 * are zeroed) and no one else writes them before the old bucket is
 * MOVED, so the move fills their slots in order without reading their
 * lines, which are not in cache. */
struct move_dst {
    struct ctdp_bucket *b[2];       /* In the new array. */
    int n[2];                       /* Entries put in each. */
};

static void
move_dst_put(struct ctdp_table *t, struct move_dst *d, int side, uint32_t e,
             uint16_t tag)
{
    struct ctdp_bucket *b = d->b[side];
    int n = d->n[side]++;

    if (n < CTDP_BUCKET_SLOTS) {
        atomic_store_relaxed(&b->tag[n], tag);
        atomic_store_relaxed(&b->ref[n], e);
    } else {
        chain_put(t, b, e, tag);
    }
}

/* Moves old bucket 'i' of 'old' to its two buckets in 'old->next', under
 * its lock: copies its entries, then marks it MOVED. */
static void
move_bucket(struct ctdp_table *t, struct ctdp_buckets *old, uint32_t i)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    struct ctdp_bucket *b = &old->b[i];
    struct ctdp_buckets *new = ctdp_buckets_next(old);
    int k = log_2_floor(old->mask + 1);
    struct move_dst d = {
        .b = { &new->b[i], &new->b[i + old->mask + 1] },
    };
    uint32_t link;

    ctdp_spin_lock(&t->locks[i & (CTDP_N_LOCKS - 1)]);
    for (const struct ctdp_bucket *src = b; ; ) {
        /* The slots in use, without a branch per slot. */
        uint32_t used = ~ctdp_bucket_free(src) & CTDP_BUCKET_ALL;

        for (; used; used &= used - 1) {
            int s = raw_ctz(used);
            uint32_t e;
            uint16_t tag;

            atomic_read_relaxed(&CONST_CAST(struct ctdp_bucket *, src)
                                ->ref[s], &e);
            atomic_read_relaxed(&CONST_CAST(struct ctdp_bucket *, src)
                                ->tag[s], &tag);
            move_dst_put(t, &d, hash_bit(tag, k), e, tag);
        }
        link = ctdp_bucket_link(src) >> 1;
        if (!link) {
            break;
        }
        src = ctdp_pool_ptr(t->region, link);
    }
    atomic_read_relaxed(&b->link, &link);
    atomic_store_explicit(&b->link, link | CTDP_BUCKET_MOVED,
                          memory_order_release);
    ctdp_spin_unlock(&t->locks[i & (CTDP_N_LOCKS - 1)]);
}

/* Frees an array whose buckets all moved, with its overflow buckets (the
 * new array has its own), once the grace period has passed: from the
 * RCU thread, so that no packet waits for the walk. */
static void
retire(struct ctdp_buckets *old)
{
    for (uint32_t i = 0; i <= old->mask; i++) {
        uint32_t link = ctdp_bucket_link(&old->b[i]) >> 1;

        while (link) {
            struct ctdp_bucket *ovf = ctdp_pool_ptr(old->region, link);

            link = ctdp_bucket_link(ovf) >> 1;
            ctdp_pool_free(ovf);
        }
    }
    buckets_free(old);
}

/* Prefetches the lines that moving old bucket 'i' of 'bs' writes: the
 * old bucket and its two new ones.  Claims go in order, so 'i' is a few
 * buckets ahead of the move; the overflow bucket of the one half as far
 * ahead, whose line came in then, is prefetched too. */
static void
prefetch_move(const struct ctdp_table *t, const struct ctdp_buckets *bs,
              uint32_t i)
{
    const struct ctdp_buckets *new = ctdp_buckets_next(bs);
    uint32_t link = ctdp_bucket_link(&bs->b[i - MOVE_AHEAD / 2]) >> 1;

    ctdp_prefetch_write(&bs->b[i]);
    ctdp_prefetch_write(&new->b[i]);
    ctdp_prefetch_write(&new->b[i + bs->mask + 1]);
    if (link) {
        OVS_PREFETCH(ctdp_pool_ptr(t->region, link));
    }
}

/* Moves up to 'max' buckets of the growth of 'bs', if it has one,
 * claimed MOVE_STEP at a time from the array's counter; the thread that
 * moves the last one makes the new array the table's and retires the old
 * one. */
static void
move_buckets(struct ctdp_table *t, struct ctdp_buckets *bs, size_t max)
{
    /* No claim before the new array exists: a claim is a bucket moved. */
    if (!ctdp_buckets_next(bs)) {
        return;
    }
    for (size_t k = 0; k < max; k += MOVE_STEP) {
        uint32_t i, done;

        atomic_add_relaxed(&bs->move_next, MOVE_STEP, &i);
        if (i > bs->mask) {
            return;
        }
        if (!(i % WINDOW) && i + WINDOW <= bs->mask) {
            /* The moves write the new array at i and i + n, in order:
             * back the next window of each with pages, ahead of them. */
            struct ctdp_buckets *new = ctdp_buckets_next(bs);

            ctdp_pool_populate(&new->b[i + WINDOW], CTDP_POOL_POPULATE);
            ctdp_pool_populate(&new->b[i + WINDOW + bs->mask + 1],
                               CTDP_POOL_POPULATE);
        }
        for (uint32_t j = i; j < i + MOVE_STEP; j++) {
            if (j + MOVE_AHEAD <= bs->mask) {
                prefetch_move(t, bs, j + MOVE_AHEAD);
            }
            move_bucket(t, bs, j);
        }
        atomic_add(&bs->move_done, MOVE_STEP, &done);
        if (done + MOVE_STEP > bs->mask) {
            ovsrcu_set(&t->buckets, ctdp_buckets_next(bs));
            ovsrcu_postpone(retire, bs);
            return;
        }
    }
}

/* Called after each insert, with the number of entries now in the table:
 * makes a growth's new array GROW_LEAD entries before the load calls for
 * the growth, and then moves MOVE_STEP old buckets of the growth per
 * insert. */
void
ctdp_table_grow_step(struct ctdp_table *t, uint32_t n_entries)
{
    struct ctdp_buckets *bs = buckets_get(t);
    uint64_t n_buckets = bs->mask + 1;

    if (ctdp_buckets_next(bs)) {
        if (n_entries > GROW_LOAD * n_buckets) {
            move_buckets(t, bs, MOVE_STEP);
        }
    } else if (n_entries + GROW_LEAD(n_buckets) > GROW_LOAD * n_buckets
               && n_buckets < MAX_BUCKETS
               && !ovs_mutex_trylock(&t->resize_mutex)) {
        /* A thread that finds another one starting it leaves it that. */
        bs = buckets_get(t);
        if (!ctdp_buckets_next(bs)) {
            atomic_store_explicit(&bs->next,
                                  buckets_alloc(t, 2 * (bs->mask + 1)),
                                  memory_order_release);
        }
        ovs_mutex_unlock(&t->resize_mutex);
    }
}

/* Moves up to 'max' buckets of a growth in progress, for the sweep, which
 * finishes a growth that inserts left half-done. */
void
ctdp_table_move(struct ctdp_table *t, size_t max)
{
    move_buckets(t, buckets_get(t), max);
}

static bool
visit_chain(const struct ctdp_table *t, const struct ctdp_bucket *b,
            bool (*visit)(void *obj, int dir, void *aux), void *aux)
{
    struct ctdp_table_cursor c = { .region = t->region, .all = true };
    void *obj;
    int dir;

    ctdp_table_cursor_enter(&c, b);
    while ((obj = ctdp_table_cursor_next(&c, &dir))) {
        if (visit(obj, dir, aux)) {
            return true;
        }
    }
    return false;
}

static bool
visit_bucket(const struct ctdp_table *t, const struct ctdp_buckets *bs,
             uint32_t i, bool (*visit)(void *obj, int dir, void *aux),
             void *aux)
{
    const struct ctdp_bucket *b = &bs->b[i];

    if (ctdp_bucket_link(b) & CTDP_BUCKET_MOVED) {
        const struct ctdp_buckets *next = ctdp_buckets_next(bs);

        return (visit_bucket(t, next, i, visit, aux)
                || visit_bucket(t, next, i + bs->mask + 1, visit, aux));
    }
    return visit_chain(t, b, visit, aux);
}

/* Calls 'visit' on every entry whose hash has the low bits of 'cursor'
 * that the current array's mask keeps, until it returns true; returns
 * that mask.  Where growth moved the bucket, both of its new buckets are
 * read, so the set is the same whichever array holds it (the contract of
 * the dump's bit-reversed cursor, ctdp-dump.c).  Inside an RCU read
 * section. */
uint32_t
ctdp_table_visit(const struct ctdp_table *t, uint64_t cursor,
                 bool (*visit)(void *obj, int dir, void *aux), void *aux)
{
    const struct ctdp_buckets *bs = buckets_get(t);

    visit_bucket(t, bs, cursor & bs->mask, visit, aux);
    return bs->mask;
}
