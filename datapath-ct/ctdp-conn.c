/* Conns: allocation, the per-conn lock, lookup, matching and removal. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>
#include "util.h"

struct ctdp_conn *
ctdp_conn_alloc(struct ctdp_ct *ct, const struct ctdp_tuple *key,
                const struct ctdp_l4proto *l4, long long now)
{
    struct ctdp_conn *conn = ctdp_pool_alloc(ct->pool,
                                             sizeof *conn + l4->tail_size);

    memset(conn, 0, sizeof *conn + l4->tail_size);
    conn->key = *key;
    conn->start = now;
    conn->zone_prev = CTDP_ZONE_OFF;
    atomic_init(&conn->expires, now);
    atomic_init(&conn->status, 0);
    return conn;
}

/* 'conn''s counters in 'dir' (see ctdp_conn_count()). */
void
ctdp_conn_counts(const struct ctdp_conn *conn, enum ctdp_ct_dir dir,
                 uint64_t *packets, uint64_t *bytes)
{
    const uint32_t *hi = conn->count_hi[dir];
    uint64_t low64 = hi[0] | (uint64_t) hi[1] << 32;
    uint32_t lo = conn->count_lo[dir];

    *packets = (low64 << 8) | lo >> 24;
    *bytes = ((low64 >> 56 | (uint64_t) hi[2] << 8) << 24)
             | (lo & CTDP_COUNT_LO_BYTES);
}

/* Adds 'packets' and 'bytes' to 'conn''s counters in 'dir', carrying into
 * the high parts. */
void
ctdp_conn_count_add(struct ctdp_conn *conn, enum ctdp_ct_dir dir,
                    uint64_t packets, uint64_t bytes)
{
    uint32_t *hi = conn->count_hi[dir];
    uint64_t p, b, p_hi, b_hi;

    ctdp_conn_counts(conn, dir, &p, &b);
    p += packets;
    b += bytes;
    p_hi = p >> 8;
    b_hi = b >> 24;
    hi[0] = p_hi;
    hi[1] = (p_hi >> 32) | b_hi << 24;
    hi[2] = b_hi >> 8;
    conn->count_lo[dir] = (p & CTDP_COUNT_LO_PACKETS) << 24
                          | (b & CTDP_COUNT_LO_BYTES);
}

/* The extension of 'conn', which must have CTDP_S_EXT. */
struct ctdp_conn_ext *
ctdp_conn_ext(const struct ctdp_conn *conn)
{
    return (struct ctdp_conn_ext *)
           ((char *) conn + ctdp_conn_ext_ofs(ctdp_conn_l4proto(conn)));
}

/* Gives unconfirmed 'conn' an extension, zeroed, unless it has one; grows
 * the conn to hold it.  Returns the conn, which may have moved: the caller
 * owns it and must forget the old pointer. */
struct ctdp_conn *
ctdp_conn_add_ext(struct ctdp_conn *conn)
{
    size_t ofs = ctdp_conn_ext_ofs(ctdp_conn_l4proto(conn));
    struct ctdp_conn_ext *ext;

    ovs_assert(!(ctdp_conn_status(conn) & CTDP_S_CONFIRMED));
    if (ctdp_conn_status(conn) & CTDP_S_EXT) {
        return conn;
    }
    conn = ctdp_pool_realloc(conn, ofs + sizeof *ext);
    ext = (struct ctdp_conn_ext *) ((char *) conn + ofs);
    memset(ext, 0, sizeof *ext);
    ext->conn = conn;
    ctdp_conn_set_status(conn, CTDP_S_EXT);
    return conn;
}

/* Gives unconfirmed 'conn' the reply tuple 'reply', not the original's
 * inverse, and status 'nat_bits' (SRC_NAT, DST_NAT or both).  Returns the
 * conn, which may have moved (see ctdp_conn_add_ext()). */
struct ctdp_conn *
ctdp_conn_set_nat_reply(struct ctdp_conn *conn,
                        const struct ctdp_tuple *reply, uint16_t nat_bits)
{
    conn = ctdp_conn_add_ext(conn);
    ctdp_conn_ext(conn)->reply = *reply;
    ctdp_conn_set_status(conn, nat_bits);
    return conn;
}

void
ctdp_conn_free(struct ctdp_conn *conn)
{
    ctdp_pool_free(conn);
}

const struct ctdp_l4proto *
ctdp_conn_l4proto(const struct ctdp_conn *conn)
{
    return ctdp_l4proto_find(&conn->key);
}

/* Sets status 'bits'.  The caller holds the conn's lock, or owns the
 * unconfirmed conn. */
void
ctdp_conn_set_status(struct ctdp_conn *conn, uint16_t bits)
{
    atomic_store_relaxed(&conn->status, ctdp_conn_status(conn) | bits);
}

/* Sets 'reply' to the conn's reply-direction tuple. */
void
ctdp_conn_reply_tuple(const struct ctdp_conn *conn, struct ctdp_tuple *reply)
{
    if (ctdp_conn_status(conn) & CTDP_S_NAT) {
        *reply = ctdp_conn_ext(conn)->reply;
    } else if (!ctdp_tuple_invert(&conn->key, reply)) {
        /* A conn is made only from invertible tuples: see new_ok(). */
        OVS_NOT_REACHED();
    }
}

/* Sets 't' to 'conn''s tuple in direction 'dir'. */
void
ctdp_conn_tuple(const struct ctdp_conn *conn, enum ctdp_ct_dir dir,
                struct ctdp_tuple *t)
{
    if (dir == CTDP_DIR_ORIG) {
        *t = conn->key;
    } else {
        ctdp_conn_reply_tuple(conn, t);
    }
}

/* The hash of 'conn''s tuple in direction 'dir', in 'table'. */
uint32_t
ctdp_conn_hash(const struct ctdp_conn *conn, enum ctdp_ct_dir dir,
               const struct ctdp_table *table)
{
    struct ctdp_tuple tuple;

    ctdp_conn_tuple(conn, dir, &tuple);
    return ctdp_table_hash(table, &tuple);
}

/* The hash of 'conn''s reply entry: its original's ('orig_hash') if it
 * has one entry for both directions. */
uint32_t
ctdp_conn_reply_hash(const struct ctdp_table *t, const struct ctdp_conn *conn,
                     uint32_t orig_hash)
{
    return (ctdp_conn_one_entry(conn) ? orig_hash
            : ctdp_conn_hash(conn, CTDP_DIR_REPLY, t));
}

/* Puts 'conn''s entries in the table: the original direction's and,
 * unless it has one for both, the reply direction's, which
 * 'n_two_entries' counts.  The caller holds the bucket locks of both
 * hashes. */
void
ctdp_conn_insert_locked(struct ctdp_ct *ct, const struct ctdp_conn *conn,
                        uint32_t orig_hash, uint32_t reply_hash)
{
    uint32_t old;

    ctdp_table_insert_locked(&ct->table, conn, CTDP_DIR_ORIG, orig_hash);
    if (!ctdp_conn_one_entry(conn)) {
        ctdp_table_insert_locked(&ct->table, conn, CTDP_DIR_REPLY,
                                 reply_hash);
        atomic_add_relaxed(&ct->n_two_entries, 1, &old);
    }
}

/* Takes 'conn''s entries out of the table, under their bucket locks. */
static void
conn_unlink(struct ctdp_ct *ct, const struct ctdp_conn *conn)
{
    struct ctdp_table *t = &ct->table;
    uint32_t orig_hash = ctdp_conn_hash(conn, CTDP_DIR_ORIG, t);
    uint32_t reply_hash = ctdp_conn_reply_hash(t, conn, orig_hash);
    uint32_t old;

    ctdp_table_lock_pair(t, orig_hash, reply_hash);
    ctdp_table_remove_locked(t, conn, CTDP_DIR_ORIG, orig_hash);
    if (!ctdp_conn_one_entry(conn)) {
        ctdp_table_remove_locked(t, conn, CTDP_DIR_REPLY, reply_hash);
        atomic_sub_relaxed(&ct->n_two_entries, 1, &old);
    }
    ctdp_table_unlock_pair(t, orig_hash, reply_hash);
}

/* Returns the live conn that has 'key' in some direction, with that
 * direction in '*dir' ('inv_key' is 'key' inverted: see
 * ctdp_conn_match()), or NULL.  Removes the expired conns with that
 * tuple that it meets.  Inside an RCU read section. */
struct ctdp_conn *
ctdp_conn_lookup(struct ctdp_ct *ct, const struct ctdp_tuple *key,
                 const struct ctdp_tuple *inv_key, uint32_t hash,
                 long long now, enum ctdp_ct_dir *dirp)
{
    struct ctdp_table_cursor c;
    struct ctdp_conn *conn;
    int entry_dir;

    ctdp_table_cursor_init(&c, &ct->table, hash, false, false);
    while ((conn = ctdp_table_cursor_next(&c, &entry_dir))) {
        int dir = ctdp_conn_match(conn, entry_dir, key, inv_key);

        if (dir < 0) {
            continue;
        }
        if (ctdp_conn_is_live(conn, now)) {
            *dirp = dir;
            return conn;
        }
        if (OVS_UNLIKELY(ct->test_delay)) {
            ct->test_delay(CTDP_TEST_LOOKUP_DEAD);
        }
        /* Expired: remove it now, as the kernel's lookup does
         * (nf_ct_gc_expired()), so that a thread whose clock lags cannot
         * revive it once this one has seen it expire.  The conn stays
         * readable (RCU), so the walk goes on. */
        if (!(ctdp_conn_status(conn) & CTDP_S_DYING)) {
            ctdp_conn_remove(ct, conn, now);
        }
    }
    return NULL;
}

/* The conn's id: a keyed hash of its address and start time, the way the
 * kernel derives its ids, so that no field is spent on it.  Two live conns
 * never share an address, and a conn made at the same address later has
 * another start time or, at worst, the same id as a conn that is gone. */
static uint64_t
conn_id(const struct ctdp_ct *ct, const struct ctdp_conn *conn)
{
    uint64_t w[2] = { (uintptr_t) conn, (uint64_t) conn->start };
    uint64_t id = ctdp_siphash_words(w, 2, &ct->id_key);

    return id ? id : 1;
}

/* Fills 'e' with a consistent snapshot of 'conn'. */
void
ctdp_conn_to_entry(const struct ctdp_ct *ct, struct ctdp_conn *conn,
                   struct ctdp_ct_entry *e)
{
    const struct ctdp_l4proto *l4 = ctdp_conn_l4proto(conn);

    e->orig = conn->key;
    ctdp_conn_reply_tuple(conn, &e->reply);
    e->id = conn_id(ct, conn);
    e->start = conn->start;
    e->acct = ctdp_knob(ct, CTDP_K_ACCT);
    e->timestamp = ctdp_knob(ct, CTDP_K_TIMESTAMP);
    ctdp_conn_lock(conn);
    e->status = ctdp_conn_status(conn) & ~CTDP_S_INTERNAL;
    e->expires = ctdp_conn_expires(conn);
    e->mark = conn->mark;
    e->label = conn->label;
    for (int dir = 0; dir < 2; dir++) {
        ctdp_conn_counts(conn, dir, &e->packets[dir], &e->bytes[dir]);
    }
    e->l4_state = NULL;
    memset(e->tcp_wscale, 0, sizeof e->tcp_wscale);
    memset(e->tcp_flags, 0, sizeof e->tcp_flags);
    memset(e->sctp_vtag, 0, sizeof e->sctp_vtag);
    e->gre_timeout = e->gre_stream_timeout = 0;
    if (l4->describe) {
        l4->describe(conn, e);
    }
    e->helper = (ctdp_conn_status(conn) & CTDP_S_EXT
                 && ctdp_conn_ext(conn)->helper
                 ? ctdp_conn_ext(conn)->helper->name : NULL);
    ctdp_conn_unlock(conn);
}

/* Takes a confirmed conn out of the tracker: marks it DYING, unlinks it
 * from the table and from its zone list, uncounts it, reports DESTROY and
 * postpones its free past the RCU grace period (the two-phase delete of
 * ctdp-ct-private.h: only the thread that marked it DYING does all this,
 * so nothing is freed while a chain or list leads to it).  The caller's
 * pointer stays valid until its next quiescent point.  Returns false if
 * someone else removed it first. */
bool
ctdp_conn_remove(struct ctdp_ct *ct, struct ctdp_conn *conn, long long now)
{
    struct ctdp_zone *zone;
    uint32_t old;
    long long expires;
    uint16_t status;

    ctdp_conn_lock(conn);
    status = ctdp_conn_status(conn);
    expires = ctdp_conn_expires(conn);
    if (!(status & CTDP_S_DYING)) {
        ctdp_conn_set_status(conn, CTDP_S_DYING);
        /* Invisible from now on: see ctdp_conn_is_live(). */
        ctdp_conn_set_expires(conn, LLONG_MIN);
    }
    ctdp_conn_unlock(conn);
    if (status & CTDP_S_DYING) {
        return false;
    }
    if (OVS_UNLIKELY(ct->test_delay)) {
        ct->test_delay(CTDP_TEST_REMOVE);
    }

    conn_unlink(ct, conn);

    ctdp_nat_removed(ct, conn);
    if (status & CTDP_S_EXT && ctdp_conn_ext(conn)->helper) {
        ctdp_expect_master_gone(ct, conn, now);
    }
    zone = ctdp_zone_find(ct, conn->key.zone);
    ctdp_zone_unlink(ct, zone, conn);
    ctdp_zone_unreserve(zone);
    atomic_sub_relaxed(&ct->n_conns, 1, &old);
    if (ctdp_events_wanted(ct)) {
        ctdp_event_emit_destroy(ct, conn, expires, now);
    }
    ovsrcu_postpone(ctdp_conn_free, conn);
    return true;
}
