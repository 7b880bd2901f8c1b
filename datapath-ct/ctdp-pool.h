#ifndef CTDP_POOL_H
#define CTDP_POOL_H 1

/* The tracker's memory pool: conns and overflow buckets, named by 32-bit
 * refs so that a hash-table slot holds a conn in four bytes.
 *
 * Objects of up to CTDP_POOL_MAX_SIZE bytes are carved from 2 MiB chunks,
 * one size class (in 16-byte units) per chunk, 16-byte aligned; an object
 * whose size is a multiple of 64 sits on whole cache lines.  A ref is the
 * object's chunk number and unit within the chunk (never 0: unit 0 of
 * every chunk is its header), so ref -> pointer is one load from the chunk
 * array and pointer -> ref one from the chunk's header.
 *
 * Allocation and free go through per-thread shards (a free list and a
 * bump range per class, behind an uncontended spinlock), which trade
 * objects with a pool-wide list in batches: the packet path neither calls
 * malloc nor touches a line another thread writes.  Memory goes back to
 * the system only when the pool is destroyed.
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

void *ctdp_pool_map(size_t size);
void ctdp_pool_unmap(void *, size_t size);
size_t ctdp_pool_size(const void *);
uint64_t ctdp_pool_in_use(struct ctdp_pool *, uint64_t *mapped);

/* Chunks: 2^CTDP_POOL_CHUNK_SHIFT bytes, 2^14 of them at most (32 GiB). */
#define CTDP_POOL_CHUNK_SHIFT 21
#define CTDP_POOL_UNIT_SHIFT 4
#define CTDP_POOL_REF_UNIT_BITS (CTDP_POOL_CHUNK_SHIFT - CTDP_POOL_UNIT_SHIFT)
#define CTDP_POOL_MAX_CHUNKS (1u << 14)

struct ctdp_pool_chunks {
    char *base[CTDP_POOL_MAX_CHUNKS];
};

/* The object 'ref' names in the pool whose chunk array is 'chunks'. */
static inline void *
ctdp_pool_ptr(const struct ctdp_pool_chunks *chunks, uint32_t ref)
{
    return chunks->base[ref >> CTDP_POOL_REF_UNIT_BITS]
           + ((size_t) (ref & ((1u << CTDP_POOL_REF_UNIT_BITS) - 1))
              << CTDP_POOL_UNIT_SHIFT);
}

const struct ctdp_pool_chunks *ctdp_pool_chunks(const struct ctdp_pool *);
uint32_t ctdp_pool_ref(const void *);

#endif /* ctdp-pool.h */
