/* Dumping the table while it changes.
 *
 * A dump visits the buckets in reverse-binary order of their index (the
 * cursor of Redis's dictScan()): when the table doubles, bucket i splits
 * into i and i + n, and this order has visited both halves of every bucket
 * it finished, so no conn that stays in the table is missed or returned
 * twice, however often the table grows between calls.  Each conn is
 * reported from its original-direction entry only.  One bucket is read at
 * a time (ctdp_table_visit(): where growth moved it, both of its new
 * buckets). */
#include <config.h>
#include "ctdp-ct-private.h"

#include "util.h"

struct ctdp_ct_dump {
    struct ctdp_ct *ct;
    int zone;                       /* < 0: every zone. */
    long long now;                  /* Conns expired by then are hidden. */
    uint64_t cursor;                /* Next bucket, bit-reversed order. */
    bool done;
    struct ctdp_ct_entry *buf;      /* Entries of the last chain read. */
    size_t n, pos, allocated;
};

struct ctdp_ct_dump *
ctdp_ct_dump_start(struct ctdp_ct *ct, int zone, long long now)
{
    struct ctdp_ct_dump *dump = xzalloc(sizeof *dump);

    dump->ct = ct;
    dump->zone = zone;
    dump->now = now;
    return dump;
}

static uint64_t
rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(v);
}

static bool
read_entry(void *conn_, int dir, void *dump_)
{
    struct ctdp_ct_dump *dump = dump_;
    struct ctdp_conn *conn = conn_;

    if (dir == CTDP_DIR_ORIG && ctdp_conn_is_live(conn, dump->now)
        && (dump->zone < 0 || conn->key.zone == dump->zone)) {
        if (dump->n == dump->allocated) {
            dump->buf = x2nrealloc(dump->buf, &dump->allocated,
                                   sizeof *dump->buf);
        }
        ctdp_conn_to_entry(dump->ct, conn, &dump->buf[dump->n++]);
    }
    return false;
}

/* Fills 'e' with the next conn; returns false at the end. */
bool
ctdp_ct_dump_next(struct ctdp_ct_dump *dump, struct ctdp_ct_entry *e)
{
    const struct ctdp_table *t = &dump->ct->table;

    while (dump->pos >= dump->n) {
        uint32_t mask;

        if (dump->done) {
            return false;
        }
        dump->n = dump->pos = 0;
        mask = ctdp_table_visit(t, dump->cursor, read_entry, dump);
        /* Next bucket in bit-reversed order. */
        dump->cursor |= ~(uint64_t) mask;
        dump->cursor = rev64(rev64(dump->cursor) + 1);
        dump->done = !dump->cursor;
    }
    *e = dump->buf[dump->pos++];
    return true;
}

void
ctdp_ct_dump_done(struct ctdp_ct_dump *dump)
{
    if (dump) {
        free(dump->buf);
        free(dump);
    }
}

static bool
count_entry(void *conn OVS_UNUSED, int dir OVS_UNUSED, void *count_)
{
    uint32_t *count = count_;

    ++*count;
    return false;
}

/* Returns the number of entries in each bucket of the table with its
 * overflow (one per conn, two for a NATed or ICMP one: what a lookup may
 * look at), in a malloc'd array of '*n_buckets' counts.  A snapshot, of
 * one size of the table. */
uint32_t *
ctdp_ct_chain_lengths(struct ctdp_ct *ct, uint32_t *n_buckets)
{
    const struct ctdp_table *t = &ct->table;
    uint32_t n = ctdp_table_n_buckets(t);
    uint32_t *counts = xcalloc(n, sizeof *counts);

    for (uint32_t i = 0; i < n; i++) {
        if (ctdp_table_visit(t, i, count_entry, &counts[i]) + 1 != n) {
            /* The table grew meanwhile: count again. */
            free(counts);
            return ctdp_ct_chain_lengths(ct, n_buckets);
        }
    }
    *n_buckets = n;
    return counts;
}
