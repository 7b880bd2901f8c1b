/* The table (ctdp-table.c) and the pool (ctdp-pool.c) seen through the
 * tracker: growth by steps keeps every conn reachable while the old and
 * the new bucket arrays both hold entries, a dump sees each conn once
 * then, chains that overflow their bucket line work and move whole, a
 * lookup finds its hint in the first overflow bucket, and the pool gives
 * memory back to new conns, before it backs more, backs a growth's array
 * and a chunk's start ahead of their use, and gives a retired array's
 * chunks to conns instead of unmapping them; the backer backs the pages
 * it is asked to, and never those of a range it was told to forget. */
#include <config.h>
#include "ctdp-backer.h"
#include "ctdp-ct-private.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "dp-packet.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "random.h"
#include "util.h"

static size_t resident_pages(void *, size_t size);

/* Commits conn 'i' (UDP from 10.(i)/16 port 1000 to 192.0.2.1:53). */
static void
commit_conn(struct ctdp_ct *ct, uint32_t i, long long now)
{
    struct tpkt_ip ip = tpkt_ip4(0x0a000000 + i, 0xc0000201);

    CHECK_EQ(tpkt_udp_ct(ct, &ip, 1000, 53, 0, true, now), TRK_NEW);
}

/* Is conn 'i' found, from its reply? */
static bool
reply_found(struct ctdp_ct *ct, uint32_t i, long long now)
{
    struct tpkt_ip ip = tpkt_ip4(0xc0000201, 0x0a000000 + i);

    return (tpkt_udp_ct(ct, &ip, 53, 1000, 0, false, now)
            == (TRK_EST | CS_REPLY_DIR));
}

static bool
growing(const struct ctdp_ct *ct)
{
    return ctdp_buckets_next(ovsrcu_get(struct ctdp_buckets *,
                                        &ct->table.buckets));
}

/* Old buckets a growth in progress has moved. */
static uint32_t
moved(const struct ctdp_ct *ct)
{
    struct ctdp_buckets *bs = ovsrcu_get(struct ctdp_buckets *,
                                         &ct->table.buckets);
    uint32_t done;

    atomic_read_relaxed(&bs->move_done, &done);
    return done;
}

/* Dumps every conn; checks each of the first 'n' once and nothing else. */
static void
check_dump(struct ctdp_ct *ct, uint32_t n, long long now)
{
    uint8_t *seen = xcalloc(n, 1);
    struct ctdp_ct_dump *dump = ctdp_ct_dump_start(ct, -1, now);
    struct ctdp_ct_entry e;
    uint32_t total = 0, twice = 0, stray = 0;

    while (ctdp_ct_dump_next(dump, &e)) {
        uint32_t i = ntohl(e.orig.src.ip4) - 0x0a000000;

        total++;
        if (i >= n) {
            stray++;
        } else if (seen[i]++) {
            twice++;
        }
    }
    ctdp_ct_dump_done(dump);
    CHECK_EQ(total, n);
    CHECK_EQ(twice, 0);
    CHECK_EQ(stray, 0);
    free(seen);
}

/* The first growth (4096 buckets, UDP conns past 32768) moves buckets a few at
 * a time, two per confirm: part-way, every conn is found in both
 * directions and dumped once, whether its bucket moved or not, and conns
 * removed meanwhile are gone from both arrays. */
static void
test_table_growth_in_steps(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_flush_filter f;
    uint32_t n = 0, missing = 0;

    CHECK_EQ(ctdp_table_n_buckets(&ct->table), CTDP_MIN_BUCKETS);
    while (!moved(ct)) {
        commit_conn(ct, n++, 0);
    }
    /* 400 confirms: a fifth of the array moved. */
    for (int k = 0; k < 400; k++) {
        commit_conn(ct, n++, 0);
    }
    CHECK(growing(ct));
    for (uint32_t i = 0; i < n; i++) {
        missing += !reply_found(ct, i, 1);
    }
    CHECK_EQ(missing, 0);
    check_dump(ct, n, 1);

    /* Remove the last 100 mid-growth: their entries are in moved and in
     * unmoved buckets alike. */
    ctdp_ct_flush_filter_init(&f);
    f.match_orig = true;
    for (uint32_t i = n - 100; i < n; i++) {
        struct tpkt_ip ip = tpkt_ip4(0x0a000000 + i, 0xc0000201);

        tpkt_tuple(&f.orig, &ip, IPPROTO_UDP, 1000, 53, 0);
        memset(&f.orig_mask, 0xff, sizeof f.orig_mask);
        CHECK_EQ(ctdp_ct_flush(ct, &f, 1), 1);
    }
    n -= 100;
    check_dump(ct, n, 1);
    CHECK(!reply_found(ct, n, 1));

    while (growing(ct)) {
        commit_conn(ct, n++, 1);
    }
    CHECK_EQ(ctdp_table_n_buckets(&ct->table), 2 * CTDP_MIN_BUCKETS);
    missing = 0;
    for (uint32_t i = 0; i < n; i++) {
        missing += !reply_found(ct, i, 2);
    }
    CHECK_EQ(missing, 0);
    check_dump(ct, n, 2);
    tpkt_ct_destroy(ct);
}

/* A growth's new array is made ahead of the moves (512 entries ahead for
 * 4096 buckets), which start once the load passes 8 entries a bucket
 * (32768 UDP conns, of one entry each), so that the backer backs its first
 * pages before they are written.  When the moves began at once, the first
 * inserts of every growth faulted those pages in themselves, the slowest
 * batches of ctdp-bench's new-conns runs. */
static void
test_table_growth_array_ahead(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_buckets *next;
    uint32_t n = 0;

    while (!growing(ct)) {
        commit_conn(ct, n++, 0);
    }
    CHECK_EQ(n, 32768 - 512 + 1);
    next = ctdp_buckets_next(ovsrcu_get(struct ctdp_buckets *,
                                        &ct->table.buckets));
    ctdp_backer_drain();
    CHECK_EQ(resident_pages(next->b, CTDP_POOL_POPULATE),
             CTDP_POOL_POPULATE / get_page_size());
    while (n < 32768) {
        commit_conn(ct, n++, 0);
        CHECK_EQ(moved(ct), 0);
    }
    commit_conn(ct, n++, 0);
    CHECK_EQ(moved(ct), 2);
    tpkt_ct_destroy(ct);
}

/* A bucket array that growth retired stays mapped, and its chunk goes to
 * objects: an array used to be unmapped, and the unmap's TLB shootdown
 * stalled the packet threads' CPUs (150-500 us batches in ctdp-bench's
 * new-conns runs). */
static void
test_table_growth_keeps_retired_array(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    char *old = (char *) ovsrcu_get(struct ctdp_buckets *,
                                    &ct->table.buckets)->b;
    unsigned char vec[1];
    uint32_t n = 0;
    void *obj;

    while (ctdp_table_n_buckets(&ct->table) == CTDP_MIN_BUCKETS
           || growing(ct)) {
        commit_conn(ct, n++, 0);
    }
    ovsrcu_synchronize();
    ovsrcu_barrier();           /* Runs the retire. */
    CHECK(!mincore(old, get_page_size(), vec));
    /* A size no conn has: its class's first chunk is the array's. */
    obj = ctdp_pool_alloc(ct->pool, 512);
    CHECK((char *) obj == old + 64);
    ctdp_pool_free(obj);
    tpkt_ct_destroy(ct);
}

/* A growth moves each entry by its tag, without hashing its tuple again:
 * no confirm hashes more while the table grows than before.  Tables of
 * 1024 and 2048 buckets, too small for the tags to hold their split bit,
 * used to hash every moved entry (16 per confirm), and their growths made
 * UDP batches of ctdp-bench 20-40 times the median. */
static void
test_table_growth_without_hashing(void)
{
    struct ctdp_ct_params p = { .hash = tpkt_counted_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&p);
    unsigned long most = 0, most_growing = 0;
    uint32_t n = 0;

    CHECK_EQ(ctdp_table_n_buckets(&ct->table), CTDP_MIN_BUCKETS);
    while (ctdp_table_n_buckets(&ct->table) == CTDP_MIN_BUCKETS
           || growing(ct)) {
        unsigned long before = tpkt_n_hashes;
        bool moving = moved(ct) > 0;

        commit_conn(ct, n++, 0);
        if (moving) {
            most_growing = MAX(most_growing, tpkt_n_hashes - before);
        } else {
            most = MAX(most, tpkt_n_hashes - before);
        }
    }
    CHECK(most > 0);
    CHECK(most_growing <= most);
    tpkt_ct_destroy(ct);
}

/* Growth goes on while a thread that would start one holds the resize
 * mutex (or is preempted with it): moves are claimed bucket by bucket,
 * not under that mutex.  When they were done under it, inserts that found
 * it taken skipped their move, and a stalled holder let a table of 1024
 * buckets take tens of thousands of conns, until confirms failed their
 * chain bound (seen in ctdp-bench's 2-thread new-conns). */
static void
test_table_growth_without_mutex(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_stats s;
    uint32_t n = 0;

    while (!growing(ct)) {
        commit_conn(ct, n++, 0);
    }
    ovs_mutex_lock(&ct->table.resize_mutex);
    for (int k = 0; k < 3000; k++) {
        commit_conn(ct, n++, 0);
    }
    CHECK(!growing(ct));
    CHECK_EQ(ctdp_table_n_buckets(&ct->table), 2 * CTDP_MIN_BUCKETS);
    ovs_mutex_unlock(&ct->table.resize_mutex);
    ctdp_ct_get_stats(ct, &s);
    CHECK_EQ(s.insert, n);
    CHECK_EQ(s.drop, 0);
    tpkt_ct_destroy(ct);
}

static uint32_t
same_hash(const struct ctdp_tuple *t OVS_UNUSED)
{
    return 7;
}

/* With every tuple hashed alike, one chain holds all entries across
 * overflow buckets up to the chain bound, which refuses the next. */
static void
test_table_overflow_chain(void)
{
    struct ctdp_ct_params p = { .hash = same_hash, .max_chain = 63 };
    struct ctdp_ct *ct = ctdp_ct_create(&p);
    struct tpkt_ip ip = tpkt_ip4(0x0a000000 + 64, 0xc0000201);
    struct ctdp_ct_stats s;
    uint32_t missing = 0;

    /* 64 UDP conns: 64 entries (one each, for both directions), in 7
     * buckets of 10 (the 64th found 63, within the bound); the 65th would
     * find 64. */
    for (uint32_t i = 0; i < 64; i++) {
        commit_conn(ct, i, 0);
    }
    for (uint32_t i = 0; i < 64; i++) {
        missing += !reply_found(ct, i, 1);
    }
    CHECK_EQ(missing, 0);
    check_dump(ct, 64, 1);
    CHECK_EQ(tpkt_udp_ct(ct, &ip, 1000, 53, 0, true, 1), TPKT_DROPPED);
    ctdp_ct_get_stats(ct, &s);
    CHECK_EQ(s.chaintoolong, 1);
    tpkt_ct_destroy(ct);
}

/* Every tuple in bucket 7 of any array, a tuple and its swap alike, each
 * conn with a tag of its own. */
static uint32_t
one_bucket_hash(const struct ctdp_tuple *t)
{
    return 7 | ((ntohl(t->src.ip4) ^ ntohl(t->dst.ip4)) & 0xffff) << 16;
}

/* A growth moves a chain of thousands of entries, every one to the same
 * new bucket: the move fills that bucket's slots, then its overflow
 * buckets, and every conn is found and dumped once after. */
static void
test_table_growth_long_chain(void)
{
    struct ctdp_ct_params p = { .hash = one_bucket_hash,
                                .max_chain = 1u << 20 };
    struct ctdp_ct *ct = ctdp_ct_create(&p);
    uint32_t n = 0, missing = 0;

    while (ctdp_table_n_buckets(&ct->table) == CTDP_MIN_BUCKETS
           || growing(ct)) {
        commit_conn(ct, n++, 0);
    }
    CHECK(n > 8 * CTDP_MIN_BUCKETS);
    for (uint32_t i = 0; i < n; i++) {
        missing += !reply_found(ct, i, 1);
    }
    CHECK_EQ(missing, 0);
    check_dump(ct, n, 1);
    tpkt_ct_destroy(ct);
}

/* A lookup whose entry lies in its bucket's first overflow bucket finds
 * its hint there, after the bucket itself gave none: conns 10 to 19 of
 * one chain (entries 10 to 19, one per conn).  Deeper entries give no
 * hint, and the full lookup finds them.  The hint is the conn's one
 * entry, of the original direction, for the reply's tuple too. */
static void
test_table_hint_overflow(void)
{
    struct ctdp_ct_params p = { .hash = one_bucket_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&p);

    for (uint32_t i = 0; i < 25; i++) {
        commit_conn(ct, i, 0);
    }
    for (uint32_t i = 0; i < 25; i++) {
        struct tpkt_ip ip = tpkt_ip4(0x0a000000 + i, 0xc0000201);
        struct ctdp_tuple key, inv;
        enum ctdp_ct_dir dir;
        int hint_dir = -1;
        uint32_t hash;
        void *home, *ovf, *conn;

        tpkt_tuple(&key, &ip, IPPROTO_UDP, 1000, 53, 0);
        CHECK(ctdp_tuple_invert(&key, &inv));
        hash = ctdp_table_hash(&ct->table, &key);
        CHECK_EQ(ctdp_table_hash(&ct->table, &inv), hash);
        conn = ctdp_conn_lookup(ct, &key, &inv, hash, 1, &dir);
        CHECK(conn != NULL);
        CHECK_EQ(dir, CTDP_DIR_ORIG);
        CHECK(ctdp_conn_lookup(ct, &inv, &key, hash, 1, &dir) == conn);
        CHECK_EQ(dir, CTDP_DIR_REPLY);
        home = ctdp_table_hint(&ct->table, hash, &hint_dir);
        ovf = ctdp_table_hint_overflow(&ct->table, hash, &hint_dir);
        CHECK(home == (i < 10 ? conn : NULL));
        CHECK(ovf == (i >= 10 && i < 20 ? conn : NULL));
        if (home || ovf) {
            CHECK_EQ(hint_dir, CTDP_DIR_ORIG);
        }
    }
    tpkt_ct_destroy(ct);
}

/* Freed conns go back to the pool and serve new ones: churning through
 * 20 times the table's conns leaves the pool's memory where it was. */
static void
test_table_pool_reuse(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    uint64_t mapped, mapped_after, in_use;
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    for (uint32_t i = 0; i < 2000; i++) {
        commit_conn(ct, i, 0);
    }
    in_use = ctdp_ct_memory(ct, &mapped);
    CHECK(in_use >= 2000 * sizeof(struct ctdp_conn));
    for (int round = 0; round < 20; round++) {
        ctdp_ct_flush(ct, &f, 0);
        ovsrcu_synchronize();
        ovsrcu_barrier();
        for (uint32_t i = 0; i < 2000; i++) {
            commit_conn(ct, i, 0);
        }
    }
    CHECK(ctdp_ct_memory(ct, &mapped_after) <= in_use + 64 * 64);
    CHECK_EQ(mapped_after, mapped);
    tpkt_ct_destroy(ct);
}

static void *
free_objects(void *objs_)
{
    void **objs = objs_;

    for (size_t i = 0; objs[i]; i++) {
        ctdp_pool_free(objs[i]);
    }
    return NULL;
}

/* Objects that another thread freed are given out again before memory of
 * a chunk never used: the overflow buckets of an array that growth
 * retired (freed from the RCU thread) used to stay resident while a
 * shard went on backing fresh memory for new ones. */
static void
test_table_pool_spares_first(void)
{
    enum { N = 1024 };
    struct ctdp_pool *pool = ctdp_pool_create();
    void **objs = xcalloc(N + 1, sizeof *objs);
    char *last = NULL;
    size_t reused = 0;

    for (size_t i = 0; i < N; i++) {
        objs[i] = ctdp_pool_alloc(pool, 64);
        last = MAX(last, (char *) objs[i]);
    }
    xpthread_join(ovs_thread_create("pool-free", free_objects, objs), NULL);
    for (size_t i = 0; i < N; i++) {
        reused += (char *) ctdp_pool_alloc(pool, 64) <= last;
    }
    /* The freeing thread's shard keeps up to 64 for itself. */
    CHECK(reused >= N - 64);
    ctdp_pool_destroy(pool);
    free(objs);
}

/* Pages of the 'size' bytes at 'p' that are resident. */
static size_t
resident_pages(void *p, size_t size)
{
    size_t n = size / get_page_size(), resident = 0;
    unsigned char *vec = xmalloc(n);

    CHECK(!mincore(p, size, vec));
    for (size_t i = 0; i < n; i++) {
        resident += vec[i] & 1;
    }
    free(vec);
    return resident;
}

/* 'size' bytes of fresh anonymous memory. */
static char *
map_fresh(size_t size)
{
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    CHECK(p != MAP_FAILED);
    return p;
}

/* Unmaps what map_fresh() returned, which the backer may be asked for. */
static void
unmap_fresh(char *p, size_t size)
{
    ctdp_backer_forget(p, size);
    munmap(p, size);
}

/* A range the backer was asked for is resident once it has drained. */
static void
test_table_backer_backs(void)
{
    size_t size = 1 << 20;
    char *p = map_fresh(size);

    CHECK_EQ(resident_pages(p, size), 0);
    ctdp_backer_request(p, size / 2, true);
    ctdp_backer_request(p + size / 2, size / 2, true);
    ctdp_backer_drain();
    CHECK_EQ(resident_pages(p, size), size / get_page_size());
    unmap_fresh(p, size);
}

/* Waits up to 2 s for all of the 'size' bytes at 'p' to be resident;
 * returns whether they became so. */
static bool
becomes_resident(void *p, size_t size)
{
    for (int i = 0; i < 2000; i++) {
        if (resident_pages(p, size) == size / get_page_size()) {
            return true;
        }
        xnanosleep(1000 * 1000);
    }
    return false;
}

/* A request that does not wake the backer is backed all the same: found
 * by a backer that lingers after its last range, and waking one that
 * has stopped lingering. */
static void
test_table_backer_backs_unwoken(void)
{
    size_t size = 256 << 10;
    char *p = map_fresh(3 * size);

    ctdp_backer_request(p, size, true);
    ctdp_backer_drain();
    ctdp_backer_request(p + size, size, false);     /* It lingers. */
    CHECK(becomes_resident(p + size, size));
    xnanosleep((CTDP_BACKER_LINGER_MAX_MS + 20) * 1000LL * 1000);
    ctdp_backer_request(p + 2 * size, size, false); /* It sleeps. */
    CHECK(becomes_resident(p + 2 * size, size));
    unmap_fresh(p, 3 * size);
}

/* Once a size class's bump allocation is in its chunk's last window, the
 * chunk that will follow is claimed and its first window backed: a
 * chunk's start faulted its pages in on the insert path, one of the
 * slowest batches of ctdp-bench's new-conns runs.  Objects' windows are
 * CTDP_POOL_OBJ_WINDOW bytes. */
static void
test_table_pool_next_chunk_ahead(void)
{
    /* 64-byte objects: a 2 MiB chunk holds 32767, its last 256 KiB window
     * starts 28671 objects in. */
    enum { N = 32000 };
    struct ctdp_pool *pool = ctdp_pool_create();
    uint64_t mapped;
    char *first = NULL, *next;

    for (size_t i = 0; i < N; i++) {
        char *p = ctdp_pool_alloc(pool, 64);

        first = first ? MIN(first, p) : p;
    }
    ctdp_pool_in_use(pool, &mapped);
    CHECK_EQ(mapped, 2 * (2 << 20));       /* Its chunk and the next. */
    next = (char *) ROUND_DOWN((uintptr_t) first, 2 << 20) + (2 << 20);
    ctdp_backer_drain();
    CHECK_EQ(resident_pages(next, CTDP_POOL_OBJ_WINDOW),
             CTDP_POOL_OBJ_WINDOW / get_page_size());
    /* The next object after the chunk's last is the claimed chunk's. */
    for (size_t i = N; i < 32767; i++) {
        ctdp_pool_alloc(pool, 64);
    }
    CHECK((char *) ctdp_pool_alloc(pool, 64) == next + 64);
    ctdp_pool_in_use(pool, &mapped);
    CHECK_EQ(mapped, 2 * (2 << 20));       /* No third chunk. */
    ctdp_pool_destroy(pool);
}

/* Bucket arrays' spans: a span does not cross regions (1 GiB, 512
 * chunks), the region's tail it skips goes to objects, and a span over a
 * region is a mapping of its own, unmapped when freed. */
static void
test_table_pool_spans(void)
{
    const size_t chunk = 2 << 20, region = (size_t) 1 << 30;
    struct ctdp_pool *pool = ctdp_pool_create();
    char *a = ctdp_pool_span(pool, 300 * chunk);
    char *b = ctdp_pool_span(pool, 300 * chunk);
    char *big = ctdp_pool_span(pool, region + chunk);
    unsigned char vec[1];
    uint64_t mapped;
    void *obj;

    ctdp_pool_in_use(pool, &mapped);
    CHECK_EQ(mapped, (512 + 300) * chunk);
    CHECK(b < a || b >= a + region);
    /* The skipped tail's last chunk is the first an object class gets. */
    obj = ctdp_pool_alloc(pool, 64);
    CHECK((char *) obj == a + 511 * chunk + 64);
    ctdp_pool_free(obj);

    CHECK(!((uintptr_t) big % chunk));
    big[0] = big[region + chunk - 1] = 1;
    ctdp_pool_in_use(pool, &mapped);
    CHECK_EQ(mapped, (512 + 300) * chunk);
    ctdp_pool_span_free(pool, big, region + chunk);
    CHECK(mincore(big, get_page_size(), vec) && errno == ENOMEM);
    ctdp_pool_span_free(pool, b, 300 * chunk);
    ctdp_pool_span_free(pool, a, 300 * chunk);
    ctdp_pool_destroy(pool);
}

/* After ctdp_backer_forget(), the backer touches no page of the range:
 * pages made inaccessible right after it would fault the backer's
 * thread (and the test with it) if a request for them were still
 * waiting or being worked on. */
static void
test_table_backer_forget(void)
{
    enum { N = 64 };
    size_t size = 64 << 10;
    char *p = map_fresh(N * size);

    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < N; i++) {
            ctdp_backer_request(p + i * size, size, true);
        }
        ctdp_backer_forget(p, N * size);
        CHECK(!mprotect(p, N * size, PROT_NONE));
        ctdp_backer_drain();
        CHECK(!mprotect(p, N * size, PROT_READ | PROT_WRITE));
        CHECK(!madvise(p, N * size, MADV_DONTNEED));
    }
    unmap_fresh(p, N * size);
}

/* ctdp_bucket_match() against the slot-by-slot compare, on buckets whose
 * tags are drawn from a few values (so that some match, and tags that
 * differ only in a lane's top bit, or are 0 or all ones, meet), with
 * link words of every kind after the tags (a link whose halves equal
 * the tag, too).  A word-wise compare that lets a lane's borrow or carry
 * spill into the next, or reads lanes in the wrong order, or a vector
 * compare that lets the link's lanes through, fails here. */
static void
test_table_bucket_match(void)
{
    static const uint16_t values[] = {
        0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0xfffe, 0x1234,
    };
    uint32_t x = 0x6d2b79f5;
    int n_matched = 0;

    for (int round = 0; round < 200000; round++) {
        struct ctdp_bucket b;
        uint16_t tag;
        uint32_t want = 0, link;

        memset(&b, 0, sizeof b);
        for (int i = 0; i < CTDP_BUCKET_SLOTS; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            atomic_init(&b.tag[i], values[x % ARRAY_SIZE(values)]);
        }
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        tag = values[x % ARRAY_SIZE(values)];
        link = (x & 1) ? x : ((uint32_t) tag << 16 | tag);
        atomic_init(&b.link, link);
        for (int i = 0; i < CTDP_BUCKET_SLOTS; i++) {
            uint16_t t;

            atomic_read_relaxed(&b.tag[i], &t);
            want |= (uint32_t) (t == tag) << i;
        }
        n_matched += want != 0;
        if (ctdp_bucket_match(&b, tag) != want) {
            printf("# tag %#x: %#x, want %#x\n", tag,
                   ctdp_bucket_match(&b, tag), want);
            CHECK(!"bucket match");
            break;
        }
    }
    CHECK(n_matched > 1000);
}

/* ctdp_bucket_free() against the slot-by-slot test, on buckets of every
 * mask of free slots, with nonzero tags and link behind the refs (which
 * the vector read must not take for refs) and refs that are zero only in
 * some of their bytes. */
static void
test_table_bucket_free(void)
{
    uint32_t x = 0x2f6b1a3d;

    for (uint32_t mask = 0; mask < 1u << CTDP_BUCKET_SLOTS; mask++) {
        struct ctdp_bucket b;
        uint32_t got;

        memset(&b, 0xff, sizeof b);
        for (int i = 0; i < CTDP_BUCKET_SLOTS; i++) {
            uint32_t e = x & 0xff000000 ? x & 0xff000000 : 1;

            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            atomic_init(&b.ref[i], mask & (1u << i) ? 0 : e);
        }
        got = ctdp_bucket_free(&b);
        if (got != mask) {
            printf("# free %#x, want %#x\n", got, mask);
            CHECK(!"bucket free");
            break;
        }
    }
}

/* A random tuple: IPv4, IPv6, or either ('l3' 0). */
static void
random_tuple(struct ctdp_tuple *t, uint8_t l3)
{
    memset(t, 0, sizeof *t);
    t->l3 = l3 ? l3 : random_range(2) ? CTDP_L3_IPV4 : CTDP_L3_IPV6;
    if (t->l3 == CTDP_L3_IPV4) {
        t->src.ip4 = random_uint32();
        t->dst.ip4 = random_uint32();
    } else {
        random_bytes(&t->src, sizeof t->src);
        random_bytes(&t->dst, sizeof t->dst);
    }
    t->sport = random_uint32();
    t->dport = random_uint32();
    t->zone = random_uint32();
    t->nw_proto = random_uint32();
}

/* Eight messages hashed at once hash as each alone, for every length. */
static void
test_table_siphash_x8(void)
{
    struct ctdp_siphash_key key = {{ random_uint64(), random_uint64() }};

    for (size_t n = 1; n <= CTDP_SIP_MAX_WORDS; n++) {
        uint64_t w[CTDP_SIP_MAX_WORDS][CTDP_SIP_LANES];
        uint64_t out[CTDP_SIP_LANES];

        random_bytes(w, sizeof w);
        ctdp_siphash_words_x8(w, n, &key, out);
        for (size_t lane = 0; lane < CTDP_SIP_LANES; lane++) {
            uint64_t m[CTDP_SIP_MAX_WORDS];

            for (size_t i = 0; i < n; i++) {
                m[i] = w[i][lane];
            }
            CHECK_EQ(out[lane], ctdp_siphash_words(m, n, &key));
        }
    }
}

/* A batch's tuples, IPv4, IPv6 or both, any number up to a batch's,
 * hash as each alone. */
static void
test_table_hash_batch(void)
{
    static const uint8_t kinds[] = { CTDP_L3_IPV4, CTDP_L3_IPV6, 0 };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    /* Out here, not in the loop's body: there GCC 12.2 at -O2 gave
     * 'hashes' and 'tuples' the same stack slot (seen in its code). */
    struct ctdp_tuple tuples[NETDEV_MAX_BURST];
    const struct ctdp_tuple *ptrs[NETDEV_MAX_BURST];
    uint32_t hashes[NETDEV_MAX_BURST];
    uint32_t *outs[NETDEV_MAX_BURST];
    uint32_t wrong = 0;

    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        for (size_t n = 0; n <= NETDEV_MAX_BURST; n++) {
            for (size_t i = 0; i < n; i++) {
                random_tuple(&tuples[i], kinds[k]);
                ptrs[i] = &tuples[i];
                outs[i] = &hashes[i];
            }
            ctdp_table_hash_batch(&ct->table, ptrs, outs, n);
            for (size_t i = 0; i < n; i++) {
                wrong += hashes[i] != ctdp_table_hash(&ct->table,
                                                      &tuples[i]);
            }

        }
    }
    CHECK_EQ(wrong, 0);
    tpkt_ct_destroy(ct);
}

/* 't' with its ends (addresses, ports) exchanged. */
static struct ctdp_tuple
swapped(const struct ctdp_tuple *t)
{
    struct ctdp_tuple s = *t;

    s.src = t->dst;
    s.dst = t->src;
    s.sport = t->dport;
    s.dport = t->sport;
    return s;
}

/* A tuple and its swap hash alike, so that one entry serves both of a
 * conn's directions (ctdp-table.h), whichever end comes first, also for
 * ends of one address; ICMP and ICMPv6 tuples, whose inverse is not
 * their swap, are hashed as they are. */
static void
test_table_hash_swap(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    uint32_t wrong = 0, icmp_alike = 0, n_icmp = 0;

    for (int i = 0; i < 20000; i++) {
        struct ctdp_tuple t, s;

        random_tuple(&t, 0);
        if (i % 4 == 1) {
            t.dst = t.src;
        } else if (i % 4 == 2) {
            t.nw_proto = t.l3 == CTDP_L3_IPV4 ? IPPROTO_ICMP
                                              : IPPROTO_ICMPV6;
        }
        s = swapped(&t);
        if (ctdp_tuple_inverts_by_swap(&t)) {
            wrong += (ctdp_table_hash(&ct->table, &t)
                      != ctdp_table_hash(&ct->table, &s));
        } else {
            n_icmp++;
            icmp_alike += (ctdp_table_hash(&ct->table, &t)
                           == ctdp_table_hash(&ct->table, &s));
        }
    }
    CHECK_EQ(wrong, 0);
    CHECK(n_icmp > 4000);
    CHECK(icmp_alike < 10);
    tpkt_ct_destroy(ct);
}

/* A conn's counters, split between its two lines (ctdp_conn_count()),
 * read back as the 64-bit sums of what was added, modulo 2^64: by packets
 * and runs that carry or not, and by adds as large as a clash's merge,
 * past 2^32 and around 2^64; the two directions apart. */
static void
test_table_conn_counters(void)
{
    struct ctdp_conn *conn = xzalloc(sizeof *conn);
    uint64_t want_p[2] = { 0, 0 }, want_b[2] = { 0, 0 };

    for (int i = 0; i < 200000; i++) {
        enum ctdp_ct_dir dir = random_range(2);
        uint64_t p, b, bytes;
        uint32_t packets;

        if (i % 1000 == 999) {
            /* As a clash's merge: any 64-bit amounts. */
            p = random_uint64() >> random_range(64);
            b = random_uint64() >> random_range(64);
            ctdp_conn_count_add(conn, dir, p, b);
        } else {
            packets = random_range(4) ? 1 : 1 + random_range(32);
            bytes = packets * (uint64_t) random_range(65536);
            ctdp_conn_count(conn, dir, packets, bytes);
            p = packets;
            b = bytes;
        }
        want_p[dir] += p;
        want_b[dir] += b;
        for (int d = 0; d < 2; d++) {
            ctdp_conn_counts(conn, d, &p, &b);
            CHECK_EQ(p, want_p[d]);
            CHECK_EQ(b, want_b[d]);
        }
    }
    free(conn);
}

const struct ctdp_unit_suite ct_table_suite = {
    "ct-table", (const struct ctdp_unit_case[]) {
        { "backer_backs", test_table_backer_backs },
        { "backer_backs_unwoken", test_table_backer_backs_unwoken },
        { "backer_forget", test_table_backer_forget },
        { "bucket_match", test_table_bucket_match },
        { "bucket_free", test_table_bucket_free },
        { "conn_counters", test_table_conn_counters },
        { "growth_array_ahead", test_table_growth_array_ahead },
        { "hash_batch", test_table_hash_batch },
        { "hash_swap", test_table_hash_swap },
        { "growth_in_steps", test_table_growth_in_steps },
        { "growth_keeps_retired_array",
          test_table_growth_keeps_retired_array },
        { "growth_without_mutex", test_table_growth_without_mutex },
        { "growth_without_hashing", test_table_growth_without_hashing },
        { "overflow_chain", test_table_overflow_chain },
        { "growth_long_chain", test_table_growth_long_chain },
        { "hint_overflow", test_table_hint_overflow },
        { "pool_next_chunk_ahead", test_table_pool_next_chunk_ahead },
        { "pool_reuse", test_table_pool_reuse },
        { "pool_spans", test_table_pool_spans },
        { "pool_spares_first", test_table_pool_spares_first },
        { "siphash_x8", test_table_siphash_x8 },
        { NULL, NULL },
    },
};
