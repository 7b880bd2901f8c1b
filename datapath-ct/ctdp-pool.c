/* The tracker's memory pool (ctdp-pool.h). */
#include <config.h>
#include "ctdp-pool.h"

#include <string.h>
#include <sys/mman.h>
#include "ctdp-backer.h"
#include "ctdp-prefetch.h"
#include "ctdp-spin.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "util.h"

/* Under AddressSanitizer, a free object is poisoned until it is handed
 * out again, so that a use after free is still reported (as the malloc'd
 * conns were). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(P, SIZE) ASAN_POISON_MEMORY_REGION(P, SIZE)
#define UNPOISON(P, SIZE) ASAN_UNPOISON_MEMORY_REGION(P, SIZE)
#else
#define POISON(P, SIZE) ((void) (P), (void) (SIZE))
#define UNPOISON(P, SIZE) ((void) (P), (void) (SIZE))
#endif

#define CHUNK_SIZE (1u << CTDP_POOL_CHUNK_SHIFT)
#define REGION_SIZE ((size_t) 1 << CTDP_POOL_REGION_SHIFT)
#define CHUNKS_PER_REGION (1u << (CTDP_POOL_REGION_SHIFT \
                                  - CTDP_POOL_CHUNK_SHIFT))
#define UNIT (1u << CTDP_POOL_UNIT_SHIFT)
#define UNITS_PER_CHUNK (1u << CTDP_POOL_REF_UNIT_BITS)
#define N_CLASSES (CTDP_POOL_MAX_SIZE / UNIT + 1)   /* By size in units. */
#define HEADER_UNITS 4                  /* A chunk's first cache line. */
#define N_SHARDS 16
#define CACHE_MAX 64                    /* Free refs a shard keeps per class. */
#define BATCH (CACHE_MAX / 2)           /* Traded with the pool at once. */

/* The first line of every chunk. */
struct chunk_header {
    struct ctdp_pool *pool;
    uint32_t ref;                       /* Of the chunk's first unit. */
    uint32_t units;                     /* Object size, in units. */
};

/* One size class in a shard: free refs, a range of a chunk never handed
 * out, and the chunk claimed to follow it. */
struct class_cache {
    uint32_t n;
    uint32_t bump, bump_end;            /* Refs; empty when equal. */
    uint32_t next;                      /* Claimed chunk's index + 1, or 0. */
    uint32_t refs[CACHE_MAX];
};

struct pool_shard {
    struct ctdp_spin lock;
    int64_t in_use;                     /* Bytes allocated less freed here. */
    struct class_cache c[N_CLASSES];
} __attribute__((aligned(64)));

/* Free refs of one class that shards gave back, in batches. */
struct spare {
    uint32_t *refs;
    size_t allocated;
};

struct ctdp_pool {
    struct ctdp_pool_region region;     /* Written under 'mutex'. */
    struct ovs_mutex mutex;
    uint32_t n_chunks OVS_GUARDED;
    /* Chunks handed back (a retired bucket array's, a region's tail that
     * a span skipped), taken before fresh ones for objects. */
    uint32_t *free_chunks OVS_GUARDED;
    size_t n_free_chunks OVS_GUARDED, allocated_free_chunks OVS_GUARDED;
    struct spare spare[N_CLASSES] OVS_GUARDED;
    /* The refs in 'spare[i]': written under 'mutex', read without it, so
     * that a shard with no free refs of its own looks for spare ones
     * without taking the mutex when there are none. */
    ATOMIC(size_t) n_spare[N_CLASSES];
    struct pool_shard shards[N_SHARDS];
};

struct ctdp_pool *
ctdp_pool_create(void)
{
    struct ctdp_pool *pool = xzalloc_cacheline(sizeof *pool);

    ovs_mutex_init(&pool->mutex);
    for (size_t i = 0; i < N_SHARDS; i++) {
        ctdp_spin_init(&pool->shards[i].lock);
    }
    return pool;
}

static void
pool_release(struct ctdp_pool *pool)
{
    for (uint32_t r = 0; r < CTDP_POOL_MAX_REGIONS; r++) {
        if (pool->region.base[r]) {
            /* Only the chunks handed out were poisoned.  AddressSanitizer's
             * shadow outlives the mapping: the next mapping at that
             * address would read as poisoned. */
            uint32_t used = MIN(pool->n_chunks - r * CHUNKS_PER_REGION,
                                CHUNKS_PER_REGION);

            ctdp_backer_forget(pool->region.base[r], REGION_SIZE);
            UNPOISON(pool->region.base[r],
                     (size_t) used << CTDP_POOL_CHUNK_SHIFT);
            munmap(pool->region.base[r], REGION_SIZE);
        }
    }
    for (size_t i = 0; i < N_CLASSES; i++) {
        free(pool->spare[i].refs);
    }
    free(pool->free_chunks);
    ovs_mutex_destroy(&pool->mutex);
    free_cacheline(pool);
}

/* Frees the pool and every object in it, once the frees that threads have
 * postponed with ovsrcu_postpone() before this call have run: after
 * ovsrcu_synchronize() every thread has flushed its postponed callbacks,
 * and the release queued now runs after them. */
void
ctdp_pool_destroy(struct ctdp_pool *pool)
{
    if (pool) {
        ovsrcu_synchronize();
        ovsrcu_postpone(pool_release, pool);
    }
}

static struct chunk_header *
chunk_of(const void *p)
{
    return (struct chunk_header *) ((uintptr_t) p & ~(uintptr_t) (CHUNK_SIZE
                                                                  - 1));
}

const struct ctdp_pool_region *
ctdp_pool_region(const struct ctdp_pool *pool)
{
    return &pool->region;
}

uint32_t
ctdp_pool_ref(const void *p)
{
    const struct chunk_header *h = chunk_of(p);

    return h->ref + (uint32_t) (((const char *) p - (const char *) h)
                                >> CTDP_POOL_UNIT_SHIFT);
}

size_t
ctdp_pool_size(const void *p)
{
    return (size_t) chunk_of(p)->units << CTDP_POOL_UNIT_SHIFT;
}

/* Maps 'size' bytes of zeroed memory aligned to 2 MiB (a chunk's size, so
 * that an object's chunk header is found by masking its address), with
 * 'flags' added to mmap()'s.  Huge pages (MADV_HUGEPAGE) are not asked
 * for: measured, they speed lookups among 1M conns by 6%, but slow a new
 * table's conns by a tenth and put the 2 MiB pages' faults in the tail of
 * its batches (p99.99 3 to 50 times as long; docs/BENCHMARKS.md). */
static void *
map_aligned(size_t size, int flags)
{
    size_t align = CHUNK_SIZE;
    char *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    char *aligned;

    if (p == MAP_FAILED) {
        return NULL;
    }
    aligned = (char *) ROUND_UP((uintptr_t) p, align);
    if (aligned > p) {
        munmap(p, aligned - p);
    }
    munmap(aligned + size, p + size + align - (aligned + size));
    return aligned;
}

/* Backs 'size' bytes at 'p' (page aligned, inside a mapping) with pages
 * ahead of use, from the backer's thread (ctdp-backer.h). */
void
ctdp_pool_populate(void *p, size_t size)
{
    ctdp_backer_request(p, size, true);
}

/* Likewise for pages needed a window of objects later at the earliest
 * (CTDP_POOL_OBJ_WINDOW: 2048 UDP conns, 250 us at the fastest rate one
 * thread was measured to make them), more than a lingering backer takes
 * to find the request and back them: the request does not wake it
 * (ctdp_backer_request()). */
static void
populate_later(void *p, size_t size)
{
    ctdp_backer_request(p, size, false);
}

/* Makes sure that region 'r' is mapped. */
static void
map_region(struct ctdp_pool *pool, uint32_t r)
    OVS_REQUIRES(pool->mutex)
{
    if (r >= CTDP_POOL_MAX_REGIONS) {
        out_of_memory();
    }
    if (!pool->region.base[r]) {
        char *base = map_aligned(REGION_SIZE, MAP_NORESERVE);

        if (!base) {
            out_of_memory();
        }
        pool->region.base[r] = base;
    }
}

static void
push_free_chunk(struct ctdp_pool *pool, uint32_t index)
    OVS_REQUIRES(pool->mutex)
{
    if (pool->n_free_chunks == pool->allocated_free_chunks) {
        pool->free_chunks = x2nrealloc(pool->free_chunks,
                                       &pool->allocated_free_chunks,
                                       sizeof *pool->free_chunks);
    }
    pool->free_chunks[pool->n_free_chunks++] = index;
}

/* Takes a chunk for objects, unused yet or handed back, and returns its
 * index. */
static uint32_t
claim_chunk(struct ctdp_pool *pool)
    OVS_EXCLUDED(pool->mutex)
{
    uint32_t index;

    ovs_mutex_lock(&pool->mutex);
    if (pool->n_free_chunks) {
        index = pool->free_chunks[--pool->n_free_chunks];
    } else {
        index = pool->n_chunks++;
        map_region(pool, index / CHUNKS_PER_REGION);
    }
    ovs_mutex_unlock(&pool->mutex);
    return index;
}

/* The address of chunk 'index', claimed. */
static char *
chunk_base(const struct ctdp_pool *pool, uint32_t index)
{
    return ctdp_pool_ptr(&pool->region, index << CTDP_POOL_REF_UNIT_BITS);
}

/* The index of the chunk at 'p', the start of a chunk of the pool. */
static uint32_t
chunk_index(const struct ctdp_pool *pool, const void *p)
    OVS_REQUIRES(pool->mutex)
{
    uint32_t r = 0;

    while (!pool->region.base[r]
           || (const char *) p < pool->region.base[r]
           || (const char *) p >= pool->region.base[r] + REGION_SIZE) {
        r++;
        ovs_assert(r < CTDP_POOL_MAX_REGIONS);
    }
    return r * CHUNKS_PER_REGION
           + (((const char *) p - pool->region.base[r])
              >> CTDP_POOL_CHUNK_SHIFT);
}

/* Returns 'size' bytes of zeroed memory (a bucket array), aligned to 2
 * MiB, which take memory as their pages are touched or populated
 * (ctdp_pool_populate()): fresh chunks of one region, whole, unless
 * 'size' is more than a region, which gets a mapping of its own. */
void *
ctdp_pool_span(struct ctdp_pool *pool, size_t size)
{
    uint32_t n = DIV_ROUND_UP(size, CHUNK_SIZE);
    uint32_t index;
    void *p;

    if (size > REGION_SIZE) {
        p = map_aligned(size, 0);
        if (!p) {
            out_of_memory();
        }
        return p;
    }
    ovs_mutex_lock(&pool->mutex);
    /* A span does not cross regions: a region's tail too short for it
     * goes to objects. */
    while (pool->n_chunks % CHUNKS_PER_REGION + n > CHUNKS_PER_REGION) {
        push_free_chunk(pool, pool->n_chunks++);
    }
    index = pool->n_chunks;
    pool->n_chunks += n;
    map_region(pool, index / CHUNKS_PER_REGION);
    ovs_mutex_unlock(&pool->mutex);
    return chunk_base(pool, index);
}

/* Gives back what ctdp_pool_span() returned for 'size' bytes, once no one
 * can reach it: its chunks go to objects, backed as they are.  Nothing
 * is unmapped while the pool lives: an unmap's TLB shootdown stalls every
 * CPU the process runs on, the packet threads' too. */
void
ctdp_pool_span_free(struct ctdp_pool *pool, void *p, size_t size)
{
    uint32_t first;

    if (size > REGION_SIZE) {
        ctdp_backer_forget(p, size);
        munmap(p, size);
        return;
    }
    ovs_mutex_lock(&pool->mutex);
    first = chunk_index(pool, p);
    for (uint32_t i = 0; i < DIV_ROUND_UP(size, CHUNK_SIZE); i++) {
        push_free_chunk(pool, first + i);
    }
    ovs_mutex_unlock(&pool->mutex);
}

/* Bump allocation in 'cc' has moved from unit 'from' to unit 'to' of a
 * chunk: if that crossed into a new CTDP_POOL_OBJ_WINDOW window, backs
 * the window after it with pages (ctdp_pool_populate()), ahead of the
 * inserts that will write there.  Past the chunk's last window, that is
 * the first window of the chunk that will follow, claimed now: a chunk's
 * start then finds its pages backed as any other window does.
 *
 * The windows are 256 KiB so that the backer, which a request wakes when
 * it sleeps, is woken once per 256 KiB: a wake cost the packet thread
 * about 10 us on the reference VM (the inter-processor interrupt), an
 * eighth of its time in cold new conns at one wake per 64 KiB
 * (docs/BENCHMARKS.md).  While inserts go on, the backer lingers and is
 * not woken at all (populate_later()). */
static void
populate_ahead(struct ctdp_pool *pool, struct class_cache *cc,
               uint32_t from, uint32_t to)
{
    uint32_t w = CTDP_POOL_OBJ_WINDOW >> CTDP_POOL_UNIT_SHIFT;

    if (from / w == to / w) {
        return;
    }
    if ((to % UNITS_PER_CHUNK) / w + 1 < UNITS_PER_CHUNK / w) {
        populate_later(ctdp_pool_ptr(&pool->region, to / w * w + w),
                       CTDP_POOL_OBJ_WINDOW);
    } else if (!cc->next) {
        cc->next = claim_chunk(pool) + 1;
        populate_later(chunk_base(pool, cc->next - 1),
                       CTDP_POOL_OBJ_WINDOW);
    }
}

/* Gives 'cc' a new chunk of objects of 'units' units to hand out: the one
 * claimed ahead, if any (its first window is being backed, see
 * populate_ahead()), else one claimed now. */
static void
new_chunk(struct ctdp_pool *pool, struct class_cache *cc, uint32_t units)
    OVS_EXCLUDED(pool->mutex)
{
    uint32_t index = cc->next ? cc->next - 1 : claim_chunk(pool);
    char *base = chunk_base(pool, index);
    struct chunk_header *h = (struct chunk_header *) base;

    if (!cc->next) {
        ctdp_pool_populate(base, CTDP_POOL_OBJ_WINDOW);
    }
    cc->next = 0;
    populate_later(base + CTDP_POOL_OBJ_WINDOW, CTDP_POOL_OBJ_WINDOW);
    h->pool = pool;
    h->ref = index << CTDP_POOL_REF_UNIT_BITS;
    h->units = units;
    POISON(base + HEADER_UNITS * UNIT, CHUNK_SIZE - HEADER_UNITS * UNIT);
    /* An object of whole lines starts on one. */
    BUILD_ASSERT(!(HEADER_UNITS % 4));
    cc->bump = index << CTDP_POOL_REF_UNIT_BITS | HEADER_UNITS;
    cc->bump_end = cc->bump
                   + (UNITS_PER_CHUNK - HEADER_UNITS) / units * units;
}

/* Refills the empty cache 'cc' from the pool's spare refs; false if there
 * are none. */
static bool
take_spare(struct ctdp_pool *pool, struct class_cache *cc, uint32_t units)
{
    size_t left, n;

    atomic_read_relaxed(&pool->n_spare[units], &left);
    if (!left) {
        return false;
    }
    ovs_mutex_lock(&pool->mutex);
    atomic_read_relaxed(&pool->n_spare[units], &left);
    n = MIN(left, BATCH);
    left -= n;
    memcpy(cc->refs, &pool->spare[units].refs[left], n * sizeof *cc->refs);
    atomic_store_relaxed(&pool->n_spare[units], left);
    cc->n = n;
    ovs_mutex_unlock(&pool->mutex);
    return n > 0;
}

/* Gives BATCH of the full cache 'cc''s refs back to the pool. */
static void
give_spare(struct ctdp_pool *pool, struct class_cache *cc, uint32_t units)
{
    struct spare *s;
    size_t n;

    ovs_mutex_lock(&pool->mutex);
    s = &pool->spare[units];
    atomic_read_relaxed(&pool->n_spare[units], &n);
    while (s->allocated - n < BATCH) {
        s->refs = x2nrealloc(s->refs, &s->allocated, sizeof *s->refs);
    }
    cc->n -= BATCH;
    memcpy(&s->refs[n], &cc->refs[cc->n], BATCH * sizeof *cc->refs);
    atomic_store_relaxed(&pool->n_spare[units], n + BATCH);
    ovs_mutex_unlock(&pool->mutex);
}

static struct pool_shard *
my_shard(struct ctdp_pool *pool)
{
    return &pool->shards[ovsthread_id_self() % N_SHARDS];
}

/* Returns 'size' bytes (at most CTDP_POOL_MAX_SIZE), 16-byte aligned, not
 * zeroed. */
void *
ctdp_pool_alloc(struct ctdp_pool *pool, size_t size)
{
    uint32_t units = DIV_ROUND_UP(size, UNIT);
    struct pool_shard *shard = my_shard(pool);
    struct class_cache *cc = &shard->c[units];
    uint32_t ref;

    ovs_assert(units > 0 && units < N_CLASSES);
    ctdp_spin_lock(&shard->lock);
    /* Freed objects first, this shard's then other threads', before a
     * chunk's fresh memory: memory that is freed (conns that expired, the
     * overflow buckets of an array that growth retired) is resident, and
     * is reused before more is backed. */
    if (!cc->n && !take_spare(pool, cc, units)
        && cc->bump == cc->bump_end) {
        new_chunk(pool, cc, units);
    }
    if (cc->n) {
        ref = cc->refs[--cc->n];
    } else {
        ref = cc->bump;
        cc->bump += units;
        populate_ahead(pool, cc, ref, cc->bump);
    }
    shard->in_use += units * UNIT;
    /* This thread's next object of the class, for writing: a new conn
     * is written whole at once, and its lines are cold. */
    if (cc->n || cc->bump != cc->bump_end) {
        const char *next = ctdp_pool_ptr(&pool->region,
                                         cc->n ? cc->refs[cc->n - 1]
                                               : cc->bump);

        ctdp_prefetch_write(next);
        ctdp_prefetch_write(next + units * UNIT - 1);
    }
    ctdp_spin_unlock(&shard->lock);
    UNPOISON(ctdp_pool_ptr(&pool->region, ref), units * UNIT);
    return ctdp_pool_ptr(&pool->region, ref);
}

/* Frees 'p', from ctdp_pool_alloc(), at once: the caller makes sure that
 * no one can reach it any more (or postpones this with RCU). */
void
ctdp_pool_free(void *p)
{
    struct chunk_header *h = chunk_of(p);
    struct ctdp_pool *pool = h->pool;
    struct pool_shard *shard = my_shard(pool);
    struct class_cache *cc = &shard->c[h->units];

    POISON(p, h->units * UNIT);
    ctdp_spin_lock(&shard->lock);
    if (cc->n == CACHE_MAX) {
        give_spare(pool, cc, h->units);
    }
    cc->refs[cc->n++] = ctdp_pool_ref(p);
    shard->in_use -= h->units * UNIT;
    ctdp_spin_unlock(&shard->lock);
}

/* Bytes of objects allocated and not freed; sets '*mapped' to the bytes of
 * chunks the pool holds. */
uint64_t
ctdp_pool_in_use(struct ctdp_pool *pool, uint64_t *mapped)
{
    int64_t sum = 0;

    for (size_t i = 0; i < N_SHARDS; i++) {
        ctdp_spin_lock(&pool->shards[i].lock);
        sum += pool->shards[i].in_use;
        ctdp_spin_unlock(&pool->shards[i].lock);
    }
    ovs_mutex_lock(&pool->mutex);
    *mapped = (uint64_t) pool->n_chunks << CTDP_POOL_CHUNK_SHIFT;
    ovs_mutex_unlock(&pool->mutex);
    return MAX(sum, 0);
}

/* Moves 'p' to an object of 'size' bytes of the same pool, copying what
 * fits; 'p' is freed at once, so it must be the caller's alone. */
void *
ctdp_pool_realloc(void *p, size_t size)
{
    void *q = ctdp_pool_alloc(chunk_of(p)->pool, size);

    memcpy(q, p, MIN(size, ctdp_pool_size(p)));
    ctdp_pool_free(p);
    return q;
}
