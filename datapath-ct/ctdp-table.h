#ifndef CTDP_TABLE_H
#define CTDP_TABLE_H 1

/* The conn hash table (ctdp-table.c): buckets of one cache line.
 *
 * A bucket holds up to CTDP_BUCKET_SLOTS entries, each a 32-bit pool ref
 * of an object (a conn) with one bit of direction, and a 16-bit tag of its
 * hash; a bucket that fills links an overflow bucket (from the pool).  A
 * lookup reads the bucket's line, compares tags, and dereferences only
 * the objects whose tag matches (one, nearly always): one line for the
 * bucket, one for the conn, both prefetchable a batch ahead.
 *
 * Readers take no lock (RCU).  Writers take the bucket lock of the hash
 * (1024 spinlocks, 'hash & 1023'), which a bucket keeps as the table
 * grows.  Growth does not stop the world: a new array of twice the
 * buckets is made (a little before the load calls for it, so that its
 * first pages are backed in time), and inserts move the old buckets'
 * entries to it, each insert claiming the next two old buckets (an atomic
 * counter of the array, so that no thread waits for another and a
 * preempted one holds up nothing but its own buckets), copying each one's
 * entries under its lock, in order into its two new buckets, which only
 * the move writes until then, and then marking it MOVED; readers that
 * meet a MOVED bucket go on to the new array.  An old bucket is never
 * changed after it moved, so a reader standing in it sees a consistent,
 * if stale, set of entries (stale ones are dead conns, which every caller
 * checks for).
 *
 * An object has an entry per direction, or one for both: the table hashes
 * a tuple and its swap alike (ctdp_table_hash()), so a conn whose reply
 * tuple is its original's swap (no NAT, not ICMP) has one entry, of the
 * original direction, and its users tell a hit's direction by its tuple.
 *
 * The table knows its entries only as pool objects, and their hashes
 * through the callback given at init (needed to split small tables only:
 * the tag holds the hash bits that split larger ones). */

#include <stdbool.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "ctdp-pool.h"
#include "ctdp-siphash.h"
#include "ctdp-spin.h"
#include "ctdp-tuple.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "util.h"

#define CTDP_BUCKET_SLOTS 10
#define CTDP_BUCKET_ALL ((1u << CTDP_BUCKET_SLOTS) - 1)   /* Slot mask. */
#define CTDP_N_LOCKS 1024

/* Tags are the hash's bits [CTDP_TAG_SHIFT, CTDP_TAG_SHIFT + 16): past the
 * index bits of the smallest table, and holding the bit that splits a
 * table of 2^CTDP_TAG_SHIFT to 2^(CTDP_TAG_SHIFT + 15) buckets, so that a
 * growth moves an entry by its tag alone.  Tables start at that smallest
 * size: from a smaller one, a growth would hash every entry's tuple again
 * (UDP batches of 50-110 us while a table of 2048 buckets grew, where the
 * median batch takes 3 us). */
#define CTDP_TAG_SHIFT 12
#define CTDP_MIN_BUCKETS (1u << CTDP_TAG_SHIFT)
/* No fewer buckets than locks: with fewer, two locks would guard one. */
BUILD_ASSERT_DECL(CTDP_MIN_BUCKETS >= CTDP_N_LOCKS);

struct ctdp_bucket {
    ATOMIC(uint32_t) ref[CTDP_BUCKET_SLOTS];    /* ref << 1 | dir; 0: free */
    ATOMIC(uint16_t) tag[CTDP_BUCKET_SLOTS];
    ATOMIC(uint32_t) link;          /* Overflow bucket's ref << 1 | MOVED. */
};
BUILD_ASSERT_DECL(sizeof(struct ctdp_bucket) == 64);

#define CTDP_BUCKET_MOVED 1u

struct ctdp_buckets {
    uint32_t mask;                  /* n_buckets - 1. */
    /* The array growth moves to, or NULL; set (release) before any
     * bucket is MOVED. */
    ATOMIC(struct ctdp_buckets *) next;
    ATOMIC(uint32_t) move_next;     /* Next bucket to claim for moving. */
    ATOMIC(uint32_t) move_done;     /* Buckets moved. */
    struct ctdp_bucket *b;          /* 64-byte aligned, mask + 1 of them. */
    const struct ctdp_pool_region *region;  /* Of the overflow buckets. */
    struct ctdp_pool *pool;         /* Of 'b' and the overflow buckets. */
};

struct ctdp_table {
    OVSRCU_TYPE(struct ctdp_buckets *) buckets;
    const struct ctdp_pool_region *region;
    struct ctdp_pool *pool;
    struct ctdp_spin locks[CTDP_N_LOCKS];
    struct ovs_mutex resize_mutex;  /* Starting a growth. */
    uint32_t max_chain;             /* 0: random per confirm. */
    struct ctdp_siphash_key hash_key;
    uint32_t (*test_hash)(const struct ctdp_tuple *);
};

/* Walks the entries of one hash's chain (its bucket and overflow), those
 * whose tag matches the hash's, or all.  Inside an RCU read section; under
 * the hash's bucket lock the chain is stable. */
struct ctdp_table_cursor {
    const struct ctdp_pool_region *region;
    const struct ctdp_bucket *b;
    uint32_t pending;               /* Slots of 'b' still to look at. */
    uint32_t len;                   /* Entries in the buckets entered, if
                                     * 'count' (the chain bound's check). */
    uint16_t tag;
    bool all;
    bool count;
};

static inline uint16_t
ctdp_table_tag(uint32_t hash)
{
    return hash >> CTDP_TAG_SHIFT;
}

static inline uint32_t
ctdp_bucket_link(const struct ctdp_bucket *b)
{
    uint32_t link;

    atomic_read_explicit(&CONST_CAST(struct ctdp_bucket *, b)->link, &link,
                         memory_order_acquire);
    return link;
}

/* The lanes of 'w', four 16-bit tags in memory order, that equal 'tag',
 * as bits 0-3.  Exact: a lane's bit 15 is clear after the sum only if the
 * lane is zero, and no lane's sum carries into the next. */
static inline uint32_t
ctdp_tag_lanes(uint64_t w, uint16_t tag)
{
    const uint64_t low15 = 0x7fff7fff7fff7fffULL;
    uint64_t x = w ^ (tag * 0x0001000100010001ULL);
    uint64_t zero = ~(((x & low15) + low15) | x | low15) >> 15;

    return (zero | zero >> 15 | zero >> 30 | zero >> 45) & 0xf;
}

/* The slots of 'b' whose tag is 'tag', as a bit mask.  With SSE2 (every
 * x86-64 CPU), the ten tags are read as two vectors (the second holds two
 * tags and the link) and compared eight at a time; elsewhere, as three
 * words compared four at a time.  The vector loads are not atomic reads
 * of the tags, which ThreadSanitizer would report: its builds read the
 * words.  A tag is only a hint, which the caller checks in full. */
static inline uint32_t
ctdp_bucket_match(const struct ctdp_bucket *b, uint16_t tag)
{
#if defined(__SSE2__) && !defined(__SANITIZE_THREAD__)
    const __m128i want = _mm_set1_epi16(tag);
    __m128i lo = _mm_loadu_si128((const __m128i_u *) &b->tag[0]);
    __m128i hi = _mm_loadl_epi64((const __m128i_u *) &b->tag[8]);
    __m128i eq = _mm_packs_epi16(_mm_cmpeq_epi16(lo, want),
                                 _mm_cmpeq_epi16(hi, want));

    BUILD_ASSERT(CTDP_BUCKET_SLOTS == 10);
    return _mm_movemask_epi8(eq) & CTDP_BUCKET_ALL;
#elif __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    typedef uint64_t __attribute__((may_alias)) word;
    const word *w = (const word *) &b->tag[0];

    BUILD_ASSERT(CTDP_BUCKET_SLOTS == 10);
    BUILD_ASSERT(offsetof(struct ctdp_bucket, tag) % 8 == 0);
    return (ctdp_tag_lanes(__atomic_load_n(&w[0], __ATOMIC_RELAXED), tag)
            | ctdp_tag_lanes(__atomic_load_n(&w[1], __ATOMIC_RELAXED),
                             tag) << 4
            | (ctdp_tag_lanes(__atomic_load_n(&w[2], __ATOMIC_RELAXED),
                              tag) & 3) << 8);
#else
    uint32_t m = 0;

    for (int i = 0; i < CTDP_BUCKET_SLOTS; i++) {
        uint16_t t;

        atomic_read_relaxed(&CONST_CAST(struct ctdp_bucket *, b)->tag[i], &t);
        m |= (uint32_t) (t == tag) << i;
    }
    return m;
#endif
}

/* The slots of 'b' that hold no entry, as a bit mask: read without a
 * branch per slot, as a free slot's place is random.  With SSE2, the ten
 * refs are read as three vectors (the third holds two) and compared four
 * at a time: a confirm reads four buckets' masks (the clash checks' and
 * the inserts'), and slot by slot they cost a new UDP conn a sixth of its
 * instructions.  As ctdp_bucket_match(), ThreadSanitizer's builds read
 * the words. */
static inline uint32_t
ctdp_bucket_free(const struct ctdp_bucket *b)
{
#if defined(__SSE2__) && !defined(__SANITIZE_THREAD__)
    const __m128i zero = _mm_setzero_si128();
    const __m128i_u *v = (const __m128i_u *) &b->ref[0];
    __m128i lo = _mm_cmpeq_epi32(_mm_loadu_si128(&v[0]), zero);
    __m128i mid = _mm_cmpeq_epi32(_mm_loadu_si128(&v[1]), zero);
    __m128i hi = _mm_cmpeq_epi32(_mm_loadl_epi64(&v[2]), zero);

    BUILD_ASSERT(CTDP_BUCKET_SLOTS == 10);
    return (_mm_movemask_ps(_mm_castsi128_ps(lo))
            | _mm_movemask_ps(_mm_castsi128_ps(mid)) << 4
            | (_mm_movemask_ps(_mm_castsi128_ps(hi)) & 3) << 8);
#else
    uint32_t m = 0;

    for (int i = 0; i < CTDP_BUCKET_SLOTS; i++) {
        uint32_t e;

        atomic_read_relaxed(&CONST_CAST(struct ctdp_bucket *, b)->ref[i], &e);
        m |= (uint32_t) !e << i;
    }
    return m;
#endif
}

static inline struct ctdp_buckets *
ctdp_buckets_next(const struct ctdp_buckets *bs)
{
    struct ctdp_buckets *next;

    atomic_read_explicit(&CONST_CAST(struct ctdp_buckets *, bs)->next,
                         &next, memory_order_acquire);
    return next;
}

/* The bucket that holds 'hash''s entries now: its home bucket in the
 * current array, or where growth moved it. */
static inline const struct ctdp_bucket *
ctdp_table_bucket(const struct ctdp_table *t, uint32_t hash)
{
    const struct ctdp_buckets *bs = ovsrcu_get(struct ctdp_buckets *,
                                               &t->buckets);
    const struct ctdp_bucket *b = &bs->b[hash & bs->mask];

    while (OVS_UNLIKELY(ctdp_bucket_link(b) & CTDP_BUCKET_MOVED)) {
        bs = ctdp_buckets_next(bs);
        b = &bs->b[hash & bs->mask];
    }
    return b;
}

static inline void
ctdp_table_cursor_enter(struct ctdp_table_cursor *c,
                        const struct ctdp_bucket *b)
{
    c->b = b;
    c->pending = c->all ? CTDP_BUCKET_ALL
                        : ctdp_bucket_match(b, c->tag);
    if (c->count) {
        c->len += CTDP_BUCKET_SLOTS - count_1bits(ctdp_bucket_free(b));
    }
}

/* Starts a walk of the chain of 'hash': of every entry if 'all', else of
 * those whose tag matches; counting the entries of the buckets it enters
 * into 'len' if 'count'. */
static inline void
ctdp_table_cursor_init(struct ctdp_table_cursor *c,
                       const struct ctdp_table *t, uint32_t hash, bool all,
                       bool count)
{
    c->region = t->region;
    c->tag = ctdp_table_tag(hash);
    c->all = all;
    c->count = count;
    c->len = 0;
    ctdp_table_cursor_enter(c, ctdp_table_bucket(t, hash));
}

/* The next entry's object, with its direction in '*dir'; NULL at the end
 * of the chain. */
static inline void *
ctdp_table_cursor_next(struct ctdp_table_cursor *c, int *dir)
{
    for (;;) {
        uint32_t link;

        while (c->pending) {
            int i = __builtin_ctz(c->pending);
            uint32_t e;

            c->pending &= c->pending - 1;
            atomic_read_explicit(&CONST_CAST(struct ctdp_bucket *, c->b)
                                 ->ref[i], &e, memory_order_acquire);
            if (e) {
                *dir = e & 1;
                return ctdp_pool_ptr(c->region, e >> 1);
            }
        }
        link = ctdp_bucket_link(c->b) >> 1;
        if (!link) {
            return NULL;
        }
        ctdp_table_cursor_enter(c, ctdp_pool_ptr(c->region, link));
    }
}

int ctdp_table_init(struct ctdp_table *, uint32_t n_buckets,
                    uint32_t max_chain,
                    uint32_t (*test_hash)(const struct ctdp_tuple *),
                    struct ctdp_pool *);
void ctdp_table_destroy(struct ctdp_table *);
uint32_t ctdp_table_hash(const struct ctdp_table *,
                         const struct ctdp_tuple *);
void ctdp_table_hash_batch(const struct ctdp_table *,
                           const struct ctdp_tuple *tuples[],
                           uint32_t *hashes[], size_t n);
void ctdp_table_prefetch(const struct ctdp_table *, uint32_t hash);
void ctdp_table_prefetch_overflow(const struct ctdp_table *, uint32_t hash);
void *ctdp_table_hint(const struct ctdp_table *, uint32_t hash, int *dir);
void *ctdp_table_hint_overflow(const struct ctdp_table *, uint32_t hash,
                               int *dir);
void ctdp_table_lock_pair(struct ctdp_table *, uint32_t h1, uint32_t h2);
void ctdp_table_unlock_pair(struct ctdp_table *, uint32_t h1, uint32_t h2);
void ctdp_table_insert_locked(struct ctdp_table *, const void *obj,
                              int dir, uint32_t hash);
void ctdp_table_remove_locked(struct ctdp_table *, const void *obj,
                              int dir, uint32_t hash);
uint32_t ctdp_table_n_buckets(const struct ctdp_table *);
void ctdp_table_grow_step(struct ctdp_table *, uint32_t n_entries);
void ctdp_table_move(struct ctdp_table *, size_t max);
uint32_t ctdp_table_visit(const struct ctdp_table *, uint64_t cursor,
                          bool (*visit)(void *obj, int dir, void *aux),
                          void *aux);

#endif /* ctdp-table.h */
