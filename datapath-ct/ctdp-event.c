/* Events: NEW, UPDATE and DESTROY for listeners, in bounded queues.
 *
 * The packet path checks 'n_listeners' (one relaxed read) and does nothing
 * more while nobody listens.  With listeners, an event is snapshotted once
 * and copied into each matching listener's ring under 'listeners_mutex';
 * a full ring drops the event and counts it lost, so a slow reader never
 * makes the datapath wait for it. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>
#include "util.h"

static struct ctdp_ct_listener *
make_listener(struct ctdp_ct *ct, size_t capacity, int zone, bool expect)
{
    struct ctdp_ct_listener *l = NULL;
    size_t n;

    ovs_mutex_lock(&ct->listeners_mutex);
    atomic_read_relaxed(&ct->n_listeners, &n);
    if (n < CTDP_CT_MAX_LISTENERS) {
        l = xzalloc(sizeof *l);
        l->ct = ct;
        l->zone = zone;
        l->expect = expect;
        l->capacity = MAX(capacity, 1);
        l->ring = xcalloc(l->capacity, sizeof *l->ring);
        ovs_list_push_back(&ct->listeners, &l->node);
        atomic_store_relaxed(&ct->n_listeners, n + 1);
    }
    ovs_mutex_unlock(&ct->listeners_mutex);
    return l;
}

struct ctdp_ct_listener *
ctdp_ct_listen(struct ctdp_ct *ct, size_t capacity, int zone)
{
    return make_listener(ct, capacity, zone, false);
}

struct ctdp_ct_listener *
ctdp_ct_listen_expect(struct ctdp_ct *ct, size_t capacity, int zone)
{
    return make_listener(ct, capacity, zone, true);
}

/* How many listeners there are now. */
size_t
ctdp_ct_n_listeners(const struct ctdp_ct *ct)
{
    size_t n;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->n_listeners, &n);
    return n;
}

/* Moves up to 'max' queued events to 'events' and returns how many; adds
 * the number of events lost since the last poll to '*lost'. */
size_t
ctdp_ct_listener_poll(struct ctdp_ct_listener *l,
                      struct ctdp_ct_event *events, size_t max,
                      uint64_t *lost)
{
    struct ctdp_ct *ct = l->ct;
    size_t n = 0;

    ovs_mutex_lock(&ct->listeners_mutex);
    for (; n < max && l->n > 0; n++) {
        events[n] = l->ring[l->head];
        l->head = (l->head + 1) % l->capacity;
        l->n--;
    }
    *lost += l->lost;
    l->lost = 0;
    ovs_mutex_unlock(&ct->listeners_mutex);
    return n;
}

void
ctdp_ct_unlisten(struct ctdp_ct_listener *l)
{
    struct ctdp_ct *ct;
    size_t old;

    if (!l) {
        return;
    }
    ct = l->ct;
    ovs_mutex_lock(&ct->listeners_mutex);
    ovs_list_remove(&l->node);
    atomic_sub_relaxed(&ct->n_listeners, 1, &old);
    ovs_mutex_unlock(&ct->listeners_mutex);
    free(l->ring);
    free(l);
}

/* Copies 'ev' into the ring of every listener of its kind and zone. */
static void
emit(struct ctdp_ct *ct, const struct ctdp_ct_event *ev)
{
    struct ctdp_ct_listener *l;

    ovs_mutex_lock(&ct->listeners_mutex);
    bool expect = (ev->type == CTDP_EVENT_EXPECT_NEW
                   || ev->type == CTDP_EVENT_EXPECT_DESTROY);
    int zone = expect ? ev->expect.tuple.zone : ev->entry.orig.zone;

    LIST_FOR_EACH (l, node, &ct->listeners) {
        if (l->expect != expect || (l->zone >= 0 && l->zone != zone)) {
            continue;
        }
        if (l->n == l->capacity) {
            l->lost++;
        } else {
            l->ring[(l->head + l->n) % l->capacity] = *ev;
            l->n++;
        }
    }
    ovs_mutex_unlock(&ct->listeners_mutex);
}

/* Reports 'type' for 'conn' to every listener of its zone. */
void
ctdp_event_emit(struct ctdp_ct *ct, enum ctdp_ct_event_type type,
                struct ctdp_conn *conn, long long now)
{
    struct ctdp_ct_event ev;

    ev.type = type;
    ev.time = now;
    ctdp_conn_to_entry(ct, conn, &ev.entry);
    emit(ct, &ev);
}

/* Reports DESTROY for 'conn', which ctdp_conn_remove() has just made
 * invisible: 'expires' is the expiry time it had until then. */
void
ctdp_event_emit_destroy(struct ctdp_ct *ct, struct ctdp_conn *conn,
                        long long expires, long long now)
{
    struct ctdp_ct_event ev;

    ev.type = CTDP_EVENT_DESTROY;
    ev.time = now;
    ctdp_conn_to_entry(ct, conn, &ev.entry);
    ev.entry.expires = expires;
    emit(ct, &ev);
}

/* Frees listeners that were never unlistened. */
void
ctdp_events_destroy(struct ctdp_ct *ct)
{
    struct ctdp_ct_listener *l;

    LIST_FOR_EACH_POP (l, node, &ct->listeners) {
        free(l->ring);
        free(l);
    }
}

/* Reports an expectation's NEW or DESTROY to its listeners. */
void
ctdp_event_emit_expect(struct ctdp_ct *ct, enum ctdp_ct_event_type type,
                       const struct ctdp_ct_expect_entry *x, long long now)
{
    struct ctdp_ct_event ev;

    memset(&ev.entry, 0, sizeof ev.entry);
    ev.type = type;
    ev.time = now;
    ev.expect = *x;
    emit(ct, &ev);
}
