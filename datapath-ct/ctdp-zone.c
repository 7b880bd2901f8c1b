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
    for (size_t i = 0; i < CTDP_ZONE_LANES; i++) {
        struct ctdp_zone_lane *lane = &zone->lanes[i];

        ctdp_spin_init(&lane->lock);
        atomic_init(&lane->head, NULL);
        atomic_init(&lane->count, 0);
    }
    atomic_init(&zone->limited, 0);
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

/* The lane of the calling thread. */
static unsigned int
my_lane(void)
{
    return ovsthread_id_self() % CTDP_ZONE_LANES;
}

/* The lane that lists 'conn'. */
static struct ctdp_zone_lane *
conn_lane(struct ctdp_zone *zone, const struct ctdp_conn *conn)
{
    return &zone->lanes[ctdp_conn_lane(conn)];
}

/* The sum of the lanes' counts, modulo 2**32 as each of them. */
static uint32_t
lanes_count(const struct ctdp_zone *zone)
{
    uint32_t sum = 0;

    for (size_t i = 0; i < CTDP_ZONE_LANES; i++) {
        uint32_t count;

        atomic_read_relaxed(&CONST_CAST(struct ctdp_zone *, zone)
                            ->lanes[i].count, &count);
        sum += count;
    }
    return sum;
}

/* Counts unconfirmed 'conn' in 'zone' unless that would pass the zone's
 * limit, and gives it the calling thread's lane (recorded in its lock
 * byte), where ctdp_zone_push() will list it.  Returns false, counting
 * nothing, if the zone is full.
 *
 * Without a limit, the conn is counted in 'p', which ctdp_zone_settle()
 * adds to the thread's lane with the other conns of its call: one locked
 * add a call rather than one a conn.  So the zone's count lags by the
 * conns of the calls running; a limit set meanwhile can be passed by
 * those.  Under a limit the conn is counted in 'limited' at once, with a
 * compare-and-swap that checks it together with the lanes' counts, which
 * only fall while the limit stays set: so no two threads pass the limit
 * together. */
bool
ctdp_zone_reserve(struct ctdp_ct *ct, struct ctdp_zone *zone,
                  struct ctdp_conn *conn, struct ctdp_zone_pending *p)
{
    uint32_t limit = zone_limit(ct, zone);
    uint32_t count;

    if (p->zone != zone) {
        ctdp_zone_settle(p);
        p->zone = zone;
    }
    p->last_pending = !limit;
    if (!limit) {
        p->n_counted++;
    } else {
        uint32_t others = lanes_count(zone);

        atomic_read_relaxed(&zone->limited, &count);
        do {
            if (count + others >= limit) {
                return false;
            }
        } while (!atomic_compare_exchange_weak_relaxed(&zone->limited,
                                                       &count, count + 1));
    }
    ctdp_conn_set_lane(conn, my_lane());
    return true;
}

/* Uncounts the conn that ctdp_zone_reserve() counted last in 'p', which
 * will not be confirmed. */
void
ctdp_zone_cancel(struct ctdp_zone_pending *p)
{
    if (p->last_pending) {
        p->n_counted--;
    } else {
        ctdp_zone_unreserve(p->zone);
    }
}

/* Uncounts one conn of 'zone', in the calling thread's lane whichever
 * thread counted it (as the kernel's percpu_counter): a lane's count alone
 * means nothing, their sum with 'limited' is the zone's count. */
void
ctdp_zone_unreserve(struct ctdp_zone *zone)
{
    uint32_t old;

    atomic_sub_relaxed(&zone->lanes[my_lane()].count, 1, &old);
}

/* The conns counted in 'zone'. */
uint32_t
ctdp_zone_count(const struct ctdp_zone *zone)
{
    uint32_t limited;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_zone *, zone)->limited,
                        &limited);
    return limited + lanes_count(zone);
}

/* The conn 'ref' names, NULL for 0. */
static struct ctdp_conn *
conn_of(const struct ctdp_ct *ct, uint32_t ref)
{
    return ref ? ctdp_pool_ptr(ctdp_pool_region(ct->pool), ref) : NULL;
}

/* Puts confirmed 'conn', reserved in 'p', on its zone's list when
 * ctdp_zone_settle() settles 'p'. */
void
ctdp_zone_push(struct ctdp_zone_pending *p, struct ctdp_conn *conn)
{
    ovs_assert(p->n_conns < ARRAY_SIZE(p->conns));
    p->conns[p->n_conns++] = conn;
}

/* Pushes 'conn' at the head of 'lane''s list. */
static void
lane_push(struct ctdp_zone_lane *lane, struct ctdp_conn *conn)
    OVS_REQUIRES(lane->lock)
{
    struct ctdp_conn *head;
    uint32_t ref = ctdp_pool_ref(conn);

    atomic_read_relaxed(&lane->head, &head);
    atomic_init(&conn->zone_next, head ? ctdp_pool_ref(head) : 0);
    conn->zone_prev = 0;
    if (head) {
        head->zone_prev = ref;
    }
    /* Pairs with the acquire in ctdp_zone_first(). */
    atomic_store_explicit(&lane->head, conn, memory_order_release);
}

/* Lists the conns pushed in 'p' and adds the conns it counted to the
 * zone's count, in the calling thread's lane, under one lock, and empties
 * 'p'.  A conn that a remover has marked DYING meanwhile is not listed:
 * the remover found it on no list and left it (ctdp_zone_unlink()); the
 * lane's lock orders the two, so one of them sees the other. */
void
ctdp_zone_settle(struct ctdp_zone_pending *p)
{
    struct ctdp_zone_lane *lane;
    uint32_t old;

    if (!p->zone) {
        return;
    }
    lane = &p->zone->lanes[my_lane()];
    if (p->n_conns) {
        ctdp_spin_lock(&lane->lock);
        for (size_t i = 0; i < p->n_conns; i++) {
            if (!(ctdp_conn_status(p->conns[i]) & CTDP_S_DYING)) {
                lane_push(lane, p->conns[i]);
            }
        }
        ctdp_spin_unlock(&lane->lock);
    }
    if (p->n_counted) {
        atomic_add_relaxed(&lane->count, p->n_counted, &old);
    }
    p->zone = NULL;
    p->n_counted = 0;
    p->n_conns = 0;
}

/* Takes 'conn' off its zone's list, if it is on it.  It keeps its
 * 'zone_next', so a walker standing on it walks on.  A conn whose
 * confirm's call has not settled yet is on no list: the caller has marked
 * it DYING, and ctdp_zone_settle() will not list it. */
void
ctdp_zone_unlink(const struct ctdp_ct *ct, struct ctdp_zone *zone,
                 struct ctdp_conn *conn)
{
    struct ctdp_zone_lane *lane = conn_lane(zone, conn);
    struct ctdp_conn *prev, *next;
    uint32_t next_ref;

    ctdp_spin_lock(&lane->lock);
    if (conn->zone_prev != CTDP_ZONE_OFF) {
        prev = conn_of(ct, conn->zone_prev);
        if (lane->sweep_cursor == conn) {
            lane->sweep_cursor = prev;
        }
        atomic_read_relaxed(&conn->zone_next, &next_ref);
        next = conn_of(ct, next_ref);
        /* Pairs with the acquire in ctdp_zone_first() and
         * ctdp_zone_next(). */
        if (prev) {
            atomic_store_explicit(&prev->zone_next, next_ref,
                                  memory_order_release);
        } else {
            atomic_store_explicit(&lane->head, next, memory_order_release);
        }
        if (next) {
            next->zone_prev = conn->zone_prev;
        }
        conn->zone_prev = CTDP_ZONE_OFF;
    }
    ctdp_spin_unlock(&lane->lock);
}

/* Walking a lane's list without its lock, inside an RCU read section:
 * conns pushed meanwhile may be missed, conns unlinked meanwhile may still
 * be met (they are DYING). */
struct ctdp_conn *
ctdp_zone_first(struct ctdp_zone_lane *lane)
{
    struct ctdp_conn *head;

    atomic_read_explicit(&lane->head, &head, memory_order_acquire);
    return head;
}

struct ctdp_conn *
ctdp_zone_next(const struct ctdp_ct *ct, struct ctdp_conn *conn)
{
    uint32_t next;

    atomic_read_explicit(&conn->zone_next, &next, memory_order_acquire);
    return conn_of(ct, next);
}

/* The conn after which the sweep goes on in 'lane', or NULL for the head.
 * It stays readable until the caller's next quiescent point. */
struct ctdp_conn *
ctdp_zone_cursor(struct ctdp_zone_lane *lane)
{
    struct ctdp_conn *cursor;

    ctdp_spin_lock(&lane->lock);
    cursor = lane->sweep_cursor;
    ctdp_spin_unlock(&lane->lock);
    return cursor;
}

/* Sets the sweep's cursor in 'lane' to 'conn' (NULL: the head).  A conn no
 * longer on the list leaves the cursor where it was. */
void
ctdp_zone_set_cursor(struct ctdp_zone_lane *lane, struct ctdp_conn *conn)
{
    ctdp_spin_lock(&lane->lock);
    if (!conn || conn->zone_prev != CTDP_ZONE_OFF) {
        lane->sweep_cursor = conn;
    }
    ctdp_spin_unlock(&lane->lock);
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
            ctdp_timeout_policy_free(
                ovsrcu_get(struct ctdp_timeout_policy *, &zone->policy));
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
    *count = ctdp_zone_count(zone);
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
        ovsrcu_postpone(ctdp_timeout_policy_free, old);
    }
}

void
ctdp_ct_set_timeout_policy(struct ctdp_ct *ct, uint16_t id,
                           const struct ctdp_timeout_policy *policy)
{
    set_policy(ct, id, ctdp_timeout_policy_clone(policy));
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
