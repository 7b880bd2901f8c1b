/* Dumping the table while it changes.
 *
 * A dump visits the buckets in reverse-binary order of their index (the
 * cursor of Redis's dictScan()): when the table doubles, bucket i splits
 * into i and i + n, and this order has visited both halves of every bucket
 * it finished, so no conn that stays in the table is missed or returned
 * twice, however often the table grows between calls.  Each conn is
 * reported from its original-direction node only.  One chain is read at a
 * time, under the resize seqcount: if a resize ran meanwhile, the chain is
 * read again from the new table. */
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

/* Reads the chain of bucket 'dump->cursor' into 'dump->buf'. */
static void
read_chain(struct ctdp_ct_dump *dump, uint32_t mask)
{
    const struct ctdp_table *t = &dump->ct->table;
    struct ctdp_node *node = ctdp_table_chain(t, dump->cursor & mask);

    dump->n = dump->pos = 0;
    for (; node; node = ctdp_table_next(node)) {
        struct ctdp_conn *conn = ctdp_node_conn(node);

        if (ctdp_node_dir(node) != CTDP_DIR_ORIG
            || !ctdp_conn_is_live(conn, dump->now)
            || (dump->zone >= 0 && conn->key.zone != dump->zone)) {
            continue;
        }
        if (dump->n == dump->allocated) {
            dump->buf = x2nrealloc(dump->buf, &dump->allocated,
                                   sizeof *dump->buf);
        }
        ctdp_conn_to_entry(dump->ct, conn, &dump->buf[dump->n++]);
    }
}

/* Fills 'e' with the next conn; returns false at the end. */
bool
ctdp_ct_dump_next(struct ctdp_ct_dump *dump, struct ctdp_ct_entry *e)
{
    const struct ctdp_table *t = &dump->ct->table;

    while (dump->pos >= dump->n) {
        uint32_t seq, mask;

        if (dump->done) {
            return false;
        }
        do {
            seq = ctdp_table_seq(t);
            mask = ctdp_table_n_buckets(t) - 1;
            read_chain(dump, mask);
        } while (seq & 1 || seq != ctdp_table_seq(t));
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

/* Returns the number of nodes in each chain of the table (two per conn:
 * what a lookup walks), in a malloc'd array of '*n_buckets' counts.  A
 * snapshot: read again from the start if the table grew meanwhile. */
uint32_t *
ctdp_ct_chain_lengths(struct ctdp_ct *ct, uint32_t *n_buckets)
{
    const struct ctdp_table *t = &ct->table;

    for (;;) {
        uint32_t seq = ctdp_table_seq(t), n = ctdp_table_n_buckets(t);
        uint32_t *counts = xcalloc(n, sizeof *counts);

        for (uint32_t i = 0; i < n; i++) {
            for (struct ctdp_node *node = ctdp_table_chain(t, i); node;
                 node = ctdp_table_next(node)) {
                counts[i]++;
            }
        }
        if (!(seq & 1) && seq == ctdp_table_seq(t)) {
            *n_buckets = n;
            return counts;
        }
        free(counts);
    }
}
