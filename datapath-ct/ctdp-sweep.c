/* Walkers of the zone lists: the expiry sweep, flush, and destroy.
 *
 * Every confirmed conn is on its zone's list until a walker frees it
 * (ctdp-ct-private.h).  Walkers hold ct->walker_mutex, so one walks at a
 * time and a conn a walker keeps a pointer to (the sweep's cursor) is not
 * freed under it.  A walker removes a conn from the table if it is still
 * there (ctdp_conn_remove()), unlinks it from the list and frees it after
 * the RCU grace period. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>
#include "util.h"

/* What a walker does with one conn. */
enum walk_action {
    WALK_KEEP,
    WALK_REMOVE,                /* Remove (reporting DESTROY) and free. */
};

typedef enum walk_action walk_fn(const struct ctdp_conn *, long long now,
                                 const void *aux);

static struct ctdp_conn *
zone_head(struct ctdp_zone *zone)
{
    struct ctdp_conn *head;

    /* Pairs with the release in ctdp_zone_push(). */
    atomic_read_explicit(&zone->head, &head, memory_order_acquire);
    return head;
}

/* Unlinks 'conn' from 'zone''s list; 'prev' is the conn before it, or NULL
 * if it was the head when the walker read it.  Pushers only ever change the
 * head, so if the head has moved on, 'conn' has a predecessor to find. */
static void
zone_unlink(struct ctdp_zone *zone, struct ctdp_conn *prev,
            struct ctdp_conn *conn)
{
    struct ctdp_conn *expected = conn;

    if (prev) {
        prev->zone_next = conn->zone_next;
    } else if (!atomic_compare_exchange_strong(&zone->head, &expected,
                                               conn->zone_next)) {
        for (prev = expected; prev->zone_next != conn;
             prev = prev->zone_next) {
            continue;
        }
        prev->zone_next = conn->zone_next;
    }
}

/* Walks 'zone''s list from after 'start' (NULL: the head), applying 'fn' to
 * each conn still in the table; conns already removed (DYING) are freed.
 * Stops after '*budget' conns, subtracting those it visited.  Returns the
 * number 'fn' removed.  If the walk stopped before the end, '*resume' is
 * where to go on from (the last conn kept, or NULL for the head) and the
 * function returns with '*finished' false. */
static size_t
walk_zone(struct ctdp_ct *ct, struct ctdp_zone *zone, struct ctdp_conn *start,
          walk_fn *fn, const void *aux, long long now, size_t *budget,
          struct ctdp_conn **resume, bool *finished)
    OVS_REQUIRES(ct->walker_mutex)
{
    struct ctdp_conn *prev = start;
    struct ctdp_conn *conn = start ? start->zone_next : zone_head(zone);
    size_t removed = 0;

    for (; conn && *budget > 0; --*budget) {
        struct ctdp_conn *next = conn->zone_next;
        bool dying = ctdp_conn_status(conn) & CTDP_S_DYING;

        if (dying || fn(conn, now, aux) == WALK_REMOVE) {
            removed += !dying && ctdp_conn_remove(ct, conn, now);
            zone_unlink(zone, prev, conn);
            ovsrcu_postpone(ctdp_conn_free, conn);
        } else {
            prev = conn;
        }
        conn = next;
    }
    *resume = prev;
    *finished = !conn;
    return removed;
}

static enum walk_action
expired(const struct ctdp_conn *conn, long long now,
        const void *aux OVS_UNUSED)
{
    return ctdp_conn_is_live(conn, now) ? WALK_KEEP : WALK_REMOVE;
}

size_t
ctdp_ct_sweep(struct ctdp_ct *ct, long long now, size_t budget)
{
    size_t removed = 0;

    ovs_mutex_lock(&ct->walker_mutex);
    for (uint32_t n = 0; n <= CTDP_N_ZONES && budget > 0; n++) {
        struct ctdp_zone *zone = ctdp_zone_find(ct, ct->sweep_zone);
        bool finished = true;

        if (zone) {
            removed += walk_zone(ct, zone, ct->sweep_cursor, expired, NULL,
                                 now, &budget, &ct->sweep_cursor, &finished);
        }
        if (finished) {
            ct->sweep_cursor = NULL;
            ct->sweep_zone = (ct->sweep_zone + 1) % CTDP_N_ZONES;
        }
    }
    ovs_mutex_unlock(&ct->walker_mutex);
    return removed;
}

void
ctdp_ct_set_sweep_interval(struct ctdp_ct *ct, unsigned int ms)
{
    atomic_store_relaxed(&ct->sweep_interval, ms);
}

unsigned int
ctdp_ct_get_sweep_interval(const struct ctdp_ct *ct)
{
    unsigned int ms;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->sweep_interval,
                        &ms);
    return ms;
}

void
ctdp_ct_flush_filter_init(struct ctdp_ct_flush_filter *f)
{
    memset(f, 0, sizeof *f);
    f->zone = -1;
}

static bool
tuple_matches(const struct ctdp_tuple *t, const struct ctdp_tuple *want,
              const struct ctdp_tuple *mask)
{
    const uint8_t *a = (const uint8_t *) t, *b = (const uint8_t *) want;
    const uint8_t *m = (const uint8_t *) mask;

    /* The zone is matched by the filter's 'zone', not here. */
    for (size_t i = 0; i < sizeof *t; i++) {
        if (i != offsetof(struct ctdp_tuple, zone)
            && i != offsetof(struct ctdp_tuple, zone) + 1
            && (a[i] ^ b[i]) & m[i]) {
            return false;
        }
    }
    return true;
}

static enum walk_action
flush_matches(const struct ctdp_conn *conn, long long now OVS_UNUSED,
              const void *f_)
{
    const struct ctdp_ct_flush_filter *f = f_;
    struct ctdp_tuple reply;

    if (f->match_orig && !tuple_matches(&conn->key, &f->orig, &f->orig_mask)) {
        return WALK_KEEP;
    }
    ctdp_conn_reply_tuple(conn, &reply);
    if (f->match_reply && !tuple_matches(&reply, &f->reply, &f->reply_mask)) {
        return WALK_KEEP;
    }
    if (f->match_mark && (conn->mark ^ f->mark) & f->mark_mask) {
        return WALK_KEEP;
    }
    if (f->match_label
        && ((conn->label.u64.lo ^ f->label.u64.lo) & f->label_mask.u64.lo
            || (conn->label.u64.hi ^ f->label.u64.hi) & f->label_mask.u64.hi)) {
        return WALK_KEEP;
    }
    return WALK_REMOVE;
}

/* Removes the conns 'f' matches; returns how many.  A zone filter walks
 * only that zone's conns. */
size_t
ctdp_ct_flush(struct ctdp_ct *ct, const struct ctdp_ct_flush_filter *f,
              long long now)
{
    uint32_t first = f->zone >= 0 ? f->zone : 0;
    uint32_t end = f->zone >= 0 ? first + 1 : CTDP_N_ZONES;
    size_t removed = 0;

    ovs_mutex_lock(&ct->walker_mutex);
    /* This walk may free the sweep's cursor: the sweep starts over. */
    ct->sweep_cursor = NULL;
    for (uint32_t z = first; z < end; z++) {
        struct ctdp_zone *zone = ctdp_zone_find(ct, z);
        size_t budget = SIZE_MAX;
        struct ctdp_conn *resume;
        bool finished;

        if (zone) {
            removed += walk_zone(ct, zone, NULL, flush_matches, f, now,
                                 &budget, &resume, &finished);
        }
    }
    ovs_mutex_unlock(&ct->walker_mutex);
    return removed;
}

/* Frees every conn at once, for ctdp_ct_destroy(): no thread uses the
 * tracker any more, so nothing waits for RCU and no event is reported. */
void
ctdp_sweep_destroy(struct ctdp_ct *ct)
{
    for (size_t z = 0; z < CTDP_N_ZONES; z++) {
        struct ctdp_zone *zone = ctdp_zone_find(ct, z);
        struct ctdp_conn *conn = zone ? zone_head(zone) : NULL;

        while (conn) {
            struct ctdp_conn *next = conn->zone_next;

            ctdp_conn_free(conn);
            conn = next;
        }
    }
}
