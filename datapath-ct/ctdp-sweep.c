/* Walkers of the zone lists: the expiry sweep and flush.
 *
 * A walker reads its zone's list without a lock, inside its RCU read
 * section, and removes the conns it chooses with ctdp_conn_remove(), which
 * unlinks and frees them (ctdp-ct-private.h); conns already DYING belong
 * to the thread removing them and are passed by.  A walk is linear in the
 * conns it visits, whatever the other threads push or remove meanwhile:
 * pushes touch only the head, and a conn unlinked under the walker keeps
 * its link to the rest of the list. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>
#include "util.h"

/* What a walker does with one conn. */
enum walk_action {
    WALK_KEEP,
    WALK_REMOVE,                /* Remove (reporting DESTROY) and free. */
};

typedef enum walk_action walk_fn(struct ctdp_conn *, long long now,
                                 const void *aux);

/* Walks 'lane''s list from after 'start' (NULL: the head), applying 'fn'
 * to each conn still in the table.  Stops after '*budget' conns,
 * subtracting those it visited.  Returns the number 'fn' removed, leaving
 * '*finished' false if the walk stopped before the end.  With 'cursor',
 * each conn it keeps becomes the lane's sweep cursor as it goes (every
 * conn visited after it is gone, so a later walk goes on from there; an
 * unlink of it moves the cursor back to its predecessor). */
static size_t
walk_lane(struct ctdp_ct *ct, struct ctdp_zone_lane *lane,
          struct ctdp_conn *start, walk_fn *fn, const void *aux,
          long long now, size_t *budget, bool cursor, bool *finished)
{
    struct ctdp_conn *conn = start ? ctdp_zone_next(ct, start)
                                   : ctdp_zone_first(lane);
    size_t removed = 0;

    for (; conn && *budget > 0; --*budget) {
        if (ctdp_conn_status(conn) & CTDP_S_DYING) {
            /* Another thread is removing it. */
        } else if (fn(conn, now, aux) == WALK_REMOVE) {
            removed += ctdp_conn_remove(ct, conn, now);
        } else if (cursor) {
            ctdp_zone_set_cursor(lane, conn);
        }
        conn = ctdp_zone_next(ct, conn);
    }
    *finished = !conn;
    return removed;
}

static enum walk_action
expired(struct ctdp_conn *conn, long long now,
        const void *aux OVS_UNUSED)
{
    return ctdp_conn_is_live(conn, now) ? WALK_KEEP : WALK_REMOVE;
}

/* Sweeps 'zone''s lanes from 'ct->sweep_lane' on, going on in each from
 * its cursor, within '*budget', adding the conns it removes to
 * '*removed'.  Returns true if it finished the zone's last lane. */
static bool
sweep_lanes(struct ctdp_ct *ct, struct ctdp_zone *zone, long long now,
            size_t *budget, size_t *removed)
    OVS_REQUIRES(ct->sweep_mutex)
{
    for (; ct->sweep_lane < CTDP_ZONE_LANES; ct->sweep_lane++) {
        struct ctdp_zone_lane *lane = &zone->lanes[ct->sweep_lane];
        bool finished;

        *removed += walk_lane(ct, lane, ctdp_zone_cursor(lane), expired,
                              NULL, now, budget, true, &finished);
        if (!finished) {
            return false;
        }
        ctdp_zone_set_cursor(lane, NULL);
    }
    return true;
}

/* Removes expired conns, visiting at most 'budget' of them from where the
 * last sweep stopped, zone by zone and lane by lane.  Returns how many it
 * removed. */
size_t
ctdp_ct_sweep(struct ctdp_ct *ct, long long now, size_t budget)
{
    size_t removed = 0;

    /* A growth that inserts left half-done is finished here, so that
     * lookups do not read two arrays for long. */
    ctdp_table_move(&ct->table, budget);
    ovs_mutex_lock(&ct->sweep_mutex);
    for (uint32_t n = 0; n <= CTDP_N_ZONES && budget > 0; n++) {
        struct ctdp_zone *zone = ctdp_zone_find(ct, ct->sweep_zone);

        if (zone && !sweep_lanes(ct, zone, now, &budget, &removed)) {
            break;              /* Out of budget inside the zone. */
        }
        ct->sweep_zone = (ct->sweep_zone + 1) % CTDP_N_ZONES;
        ct->sweep_lane = 0;
    }
    ovs_mutex_unlock(&ct->sweep_mutex);
    if (ctdp_ct_n_expects(ct)) {
        ctdp_expect_sweep(ct, now);
    }
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
flush_matches(struct ctdp_conn *conn, long long now OVS_UNUSED,
              const void *f_)
{
    const struct ctdp_ct_flush_filter *f = f_;
    struct ctdp_tuple reply;
    ovs_u128 label;
    uint32_t mark;

    if (f->match_orig && !tuple_matches(&conn->key, &f->orig, &f->orig_mask)) {
        return WALK_KEEP;
    }
    ctdp_conn_reply_tuple(conn, &reply);
    if (f->match_reply && !tuple_matches(&reply, &f->reply, &f->reply_mask)) {
        return WALK_KEEP;
    }
    /* Mark and label change under the conn's lock. */
    ctdp_conn_lock(conn);
    mark = conn->mark;
    label = conn->label;
    ctdp_conn_unlock(conn);
    if (f->match_mark && (mark ^ f->mark) & f->mark_mask) {
        return WALK_KEEP;
    }
    if (f->match_label
        && ((label.u64.lo ^ f->label.u64.lo) & f->label_mask.u64.lo
            || (label.u64.hi ^ f->label.u64.hi) & f->label_mask.u64.hi)) {
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

    for (uint32_t z = first; z < end; z++) {
        struct ctdp_zone *zone = ctdp_zone_find(ct, z);

        for (size_t i = 0; zone && i < CTDP_ZONE_LANES; i++) {
            size_t budget = SIZE_MAX;
            bool finished;

            removed += walk_lane(ct, &zone->lanes[i], NULL, flush_matches, f,
                                 now, &budget, false, &finished);
        }
    }
    return removed;
}
