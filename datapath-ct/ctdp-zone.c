/* Zones: per-zone conn lists and counts, limits and timeout policies. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>
#include "util.h"

/* Returns zone 'id', or NULL if nothing has used it yet. */
struct ctdp_zone *
ctdp_zone_find(const struct ctdp_ct *ct, uint16_t id)
{
    struct ctdp_zone *zone;

    /* Pairs with the release in ctdp_zone_get(). */
    atomic_read_explicit(&CONST_CAST(struct ctdp_ct *, ct)->zones[id], &zone,
                         memory_order_acquire);
    return zone;
}

/* Returns zone 'id', making it on first use. */
struct ctdp_zone *
ctdp_zone_get(struct ctdp_ct *ct, uint16_t id)
{
    struct ctdp_zone *zone = ctdp_zone_find(ct, id), *expected = NULL;

    if (OVS_LIKELY(zone)) {
        return zone;
    }
    zone = xzalloc_cacheline(sizeof *zone);
    ovs_spin_init(&zone->lock);
    atomic_init(&zone->head, NULL);
    atomic_init(&zone->count, 0);
    atomic_init(&zone->limit, 0);
    atomic_init(&zone->has_limit, false);
    ovsrcu_init(&zone->policy, NULL);
    if (!atomic_compare_exchange_strong_explicit(&ct->zones[id], &expected,
                                                 zone, memory_order_release,
                                                 memory_order_acquire)) {
        free_cacheline(zone);   /* Another thread made it first. */
        zone = expected;
    }
    return zone;
}

static uint32_t
zone_limit(const struct ctdp_ct *ct, const struct ctdp_zone *zone)
{
    uint32_t limit;
    bool own;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_zone *, zone)->has_limit,
                        &own);
    if (own) {
        atomic_read_relaxed(&CONST_CAST(struct ctdp_zone *, zone)->limit,
                            &limit);
    } else {
        atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)
                            ->default_zone_limit, &limit);
    }
    return limit;
}

/* Counts one more conn in 'zone' unless that would pass its limit.
 * Returns false, counting nothing, if the zone is full. */
bool
ctdp_zone_reserve(struct ctdp_ct *ct, struct ctdp_zone *zone)
{
    uint32_t limit = zone_limit(ct, zone);
    uint32_t count;

    atomic_read_relaxed(&zone->count, &count);
    do {
        if (limit && count >= limit) {
            return false;
        }
    } while (!atomic_compare_exchange_weak_relaxed(&zone->count, &count,
                                                   count + 1));
    return true;
}

/* The conn 'ref' names, NULL for 0. */
static struct ctdp_conn *
conn_of(const struct ctdp_ct *ct, uint32_t ref)
{
    return ref ? ctdp_pool_ptr(ctdp_pool_region(ct->pool), ref) : NULL;
}

/* Pushes 'conn' at the head of its zone's list. */
void
ctdp_zone_push(struct ctdp_zone *zone, struct ctdp_conn *conn)
{
    struct ctdp_conn *head;
    uint32_t ref = ctdp_pool_ref(conn);

    ovs_spin_lock(&zone->lock);
    atomic_read_relaxed(&zone->head, &head);
    atomic_init(&conn->zone_next, head ? ctdp_pool_ref(head) : 0);
    conn->zone_prev = 0;
    if (head) {
        head->zone_prev = ref;
    }
    /* Pairs with the acquire in ctdp_zone_first(). */
    atomic_store_explicit(&zone->head, conn, memory_order_release);
    ovs_spin_unlock(&zone->lock);
}

/* Takes 'conn' off its zone's list, if it is on it.  It keeps its
 * 'zone_next', so a walker standing on it walks on. */
void
ctdp_zone_unlink(const struct ctdp_ct *ct, struct ctdp_zone *zone,
                 struct ctdp_conn *conn)
{
    struct ctdp_conn *prev, *next;
    uint32_t next_ref;

    ovs_spin_lock(&zone->lock);
    if (conn->zone_prev != CTDP_ZONE_OFF) {
        prev = conn_of(ct, conn->zone_prev);
        if (zone->sweep_cursor == conn) {
            zone->sweep_cursor = prev;
        }
        atomic_read_relaxed(&conn->zone_next, &next_ref);
        next = conn_of(ct, next_ref);
        /* Pairs with the acquire in ctdp_zone_first() and
         * ctdp_zone_next(). */
        if (prev) {
            atomic_store_explicit(&prev->zone_next, next_ref,
                                  memory_order_release);
        } else {
            atomic_store_explicit(&zone->head, next, memory_order_release);
        }
        if (next) {
            next->zone_prev = conn->zone_prev;
        }
        conn->zone_prev = CTDP_ZONE_OFF;
    }
    ovs_spin_unlock(&zone->lock);
}

/* Walking a zone's list without its lock, inside an RCU read section:
 * conns pushed meanwhile may be missed, conns unlinked meanwhile may still
 * be met (they are DYING). */
struct ctdp_conn *
ctdp_zone_first(struct ctdp_zone *zone)
{
    struct ctdp_conn *head;

    atomic_read_explicit(&zone->head, &head, memory_order_acquire);
    return head;
}

struct ctdp_conn *
ctdp_zone_next(const struct ctdp_ct *ct, struct ctdp_conn *conn)
{
    uint32_t next;

    atomic_read_explicit(&conn->zone_next, &next, memory_order_acquire);
    return conn_of(ct, next);
}

/* The conn after which the sweep goes on in 'zone', or NULL for the head.
 * It stays readable until the caller's next quiescent point. */
struct ctdp_conn *
ctdp_zone_cursor(struct ctdp_zone *zone)
{
    struct ctdp_conn *cursor;

    ovs_spin_lock(&zone->lock);
    cursor = zone->sweep_cursor;
    ovs_spin_unlock(&zone->lock);
    return cursor;
}

/* Sets the sweep's cursor to 'conn' (NULL: the head).  A conn no longer
 * on the list leaves the cursor where it was. */
void
ctdp_zone_set_cursor(struct ctdp_zone *zone, struct ctdp_conn *conn)
{
    ovs_spin_lock(&zone->lock);
    if (!conn || conn->zone_prev != CTDP_ZONE_OFF) {
        zone->sweep_cursor = conn;
    }
    ovs_spin_unlock(&zone->lock);
}

const struct ctdp_timeout_policy *
ctdp_zone_policy(const struct ctdp_ct *ct, uint16_t id)
{
    const struct ctdp_zone *zone = ctdp_zone_find(ct, id);

    return zone ? ovsrcu_get(struct ctdp_timeout_policy *, &zone->policy)
                : NULL;
}

/* Frees every zone.  Their conns must be freed already. */
void
ctdp_zones_destroy(struct ctdp_ct *ct)
{
    for (size_t i = 0; i < CTDP_N_ZONES; i++) {
        struct ctdp_zone *zone = ctdp_zone_find(ct, i);

        if (zone) {
            free(ovsrcu_get(struct ctdp_timeout_policy *, &zone->policy));
            ovs_spin_destroy(&zone->lock);
            free_cacheline(zone);
        }
    }
}

void
ctdp_ct_set_default_zone_limit(struct ctdp_ct *ct, uint32_t limit)
{
    atomic_store_relaxed(&ct->default_zone_limit, limit);
}

uint32_t
ctdp_ct_get_default_zone_limit(const struct ctdp_ct *ct)
{
    uint32_t limit;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->default_zone_limit,
                        &limit);
    return limit;
}

void
ctdp_ct_set_zone_limit(struct ctdp_ct *ct, uint16_t id, uint32_t limit)
{
    struct ctdp_zone *zone = ctdp_zone_get(ct, id);

    atomic_store_relaxed(&zone->limit, limit);
    atomic_store_relaxed(&zone->has_limit, true);
}

void
ctdp_ct_del_zone_limit(struct ctdp_ct *ct, uint16_t id)
{
    struct ctdp_zone *zone = ctdp_zone_find(ct, id);

    if (zone) {
        atomic_store_relaxed(&zone->has_limit, false);
    }
}

uint32_t
ctdp_ct_get_zone_limit(const struct ctdp_ct *ct, uint16_t id,
                       uint32_t *count, bool *has_own)
{
    const struct ctdp_zone *zone = ctdp_zone_find(ct, id);

    *count = 0;
    *has_own = false;
    if (!zone) {
        return ctdp_ct_get_default_zone_limit(ct);
    }
    atomic_read_relaxed(&CONST_CAST(struct ctdp_zone *, zone)->count, count);
    atomic_read_relaxed(&CONST_CAST(struct ctdp_zone *, zone)->has_limit,
                        has_own);
    return zone_limit(ct, zone);
}

/* Timeout policies are replaced whole, RCU-style, so that the packet path
 * reads one without a lock; 'policy_mutex' orders the writers. */
static struct ovs_mutex policy_mutex = OVS_MUTEX_INITIALIZER;

static void
set_policy(struct ctdp_ct *ct, uint16_t id, struct ctdp_timeout_policy *new)
{
    struct ctdp_zone *zone = ctdp_zone_get(ct, id);
    struct ctdp_timeout_policy *old;

    ovs_mutex_lock(&policy_mutex);
    old = ovsrcu_get_protected(struct ctdp_timeout_policy *, &zone->policy);
    ovsrcu_set(&zone->policy, new);
    ovs_mutex_unlock(&policy_mutex);
    if (old) {
        ovsrcu_postpone(free, old);
    }
}

void
ctdp_ct_set_timeout_policy(struct ctdp_ct *ct, uint16_t id,
                           const struct ctdp_timeout_policy *policy)
{
    set_policy(ct, id, xmemdup(policy, sizeof *policy));
}

bool
ctdp_ct_get_timeout_policy(const struct ctdp_ct *ct, uint16_t id,
                           struct ctdp_timeout_policy *policy)
{
    const struct ctdp_timeout_policy *p = ctdp_zone_policy(ct, id);

    if (p) {
        *policy = *p;
    }
    return p != NULL;
}

void
ctdp_ct_del_timeout_policy(struct ctdp_ct *ct, uint16_t id)
{
    if (ctdp_zone_find(ct, id)) {
        set_policy(ct, id, NULL);
    }
}
