#ifndef CTDP_POOL_H
#define CTDP_POOL_H 1

/* The tracker's memory pool: conns and overflow buckets, named by 32-bit
 * refs so that a hash-table slot holds a conn in four bytes, and the
 * table's bucket arrays.
 *
 * The pool reserves address space 1 GiB at a time (MAP_NORESERVE: only
 * pages touched take memory; one system call per 1 GiB of objects) and
 * carves it into 2 MiB chunks, one size class (in 16-byte units) per
 * chunk.  Objects of up to CTDP_POOL_MAX_SIZE bytes are 16-byte aligned;
 * one whose size is a multiple of 64 sits on whole cache lines.  A ref is
 * the object's region and its offset there in 16-byte units (never 0:
 * unit 0 of every chunk is in its header), so ref -> pointer is a load
 * from a small array, a shift and an add, and pointer -> ref a load from
 * the chunk's header.
 *
 * Allocation and free go through per-thread shards (a free list and a
 * bump range per class, behind an uncontended spinlock), which trade
 * objects with a pool-wide list in batches: the packet path neither calls
 * malloc nor touches a line another thread writes.  A bucket array is a
 * span of whole fresh chunks (ctdp_pool_span()); when growth retires it,
 * its chunks, backed already, go to objects.  Memory goes back to the
 * system only when the pool is destroyed: an unmap would stall every CPU
 * of the process in a TLB shootdown.
 *
 * Thread safety: any thread may allocate and free at once; ctdp_pool_ptr()
 * is lock-free for any ref the caller got through an acquire of the
 * slot or pointer that published it. */

#include <stddef.h>
#include <stdint.h>

#define CTDP_POOL_MAX_SIZE 512

struct ctdp_pool;

struct ctdp_pool *ctdp_pool_create(void);
void ctdp_pool_destroy(struct ctdp_pool *);

void *ctdp_pool_alloc(struct ctdp_pool *, size_t size);
void ctdp_pool_free(void *);
void *ctdp_pool_realloc(void *, size_t size);

void *ctdp_pool_span(struct ctdp_pool *, size_t size);
void ctdp_pool_span_free(struct ctdp_pool *, void *, size_t size);
void ctdp_pool_populate(void *, size_t size);
size_t ctdp_pool_size(const void *);
uint64_t ctdp_pool_in_use(struct ctdp_pool *, uint64_t *mapped);

/* Chunks of 2^CTDP_POOL_CHUNK_SHIFT bytes in regions of
 * 2^CTDP_POOL_REGION_SHIFT; refs of 31 bits (a bucket slot keeps one bit
 * for the direction) in 16-byte units: 32 regions, 32 GiB at most. */
#define CTDP_POOL_CHUNK_SHIFT 21
#define CTDP_POOL_REGION_SHIFT 30
#define CTDP_POOL_UNIT_SHIFT 4
#define CTDP_POOL_REF_UNIT_BITS (CTDP_POOL_CHUNK_SHIFT - CTDP_POOL_UNIT_SHIFT)
#define CTDP_POOL_REGION_UNIT_BITS \
    (CTDP_POOL_REGION_SHIFT - CTDP_POOL_UNIT_SHIFT)
#define CTDP_POOL_MAX_REGIONS (1u << (31 - CTDP_POOL_REGION_UNIT_BITS))
/* What is backed with pages at once ahead of use (ctdp_pool_populate()):
 * a window of a bucket array, and of objects four windows, a quarter of
 * the backer's wakes (see ctdp-pool.c). */
#define CTDP_POOL_POPULATE (64u << 10)
#define CTDP_POOL_OBJ_WINDOW (4 * CTDP_POOL_POPULATE)

/* The pool's regions; an entry is written once, before any ref into its
 * region exists. */
struct ctdp_pool_region {
    char *base[CTDP_POOL_MAX_REGIONS];
};

/* The object 'ref' names in the pool whose regions are 'region'. */
static inline void *
ctdp_pool_ptr(const struct ctdp_pool_region *region, uint32_t ref)
{
    return region->base[ref >> CTDP_POOL_REGION_UNIT_BITS]
           + ((size_t) (ref & ((1u << CTDP_POOL_REGION_UNIT_BITS) - 1))
              << CTDP_POOL_UNIT_SHIFT);
}

const struct ctdp_pool_region *ctdp_pool_region(const struct ctdp_pool *);
uint32_t ctdp_pool_ref(const void *);

#endif /* ctdp-pool.h */
