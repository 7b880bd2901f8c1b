#ifndef CTDP_SPIN_H
#define CTDP_SPIN_H 1

/* A spinlock taken and released inline: the tracker's short critical
 * sections (a bucket's chain, a pool shard's free list, a zone lane's
 * list, the NAT bindings) on the packet path.
 *
 * Open vSwitch's ovs_spin is two calls deep (ovs_spin_lock_at(), then
 * libc's pthread_spin_lock()) and records the caller in the lock; a new
 * conn takes four such locks.  This one is the locked exchange and the
 * release store, with a read-only wait while another thread holds it,
 * as the conn's byte lock (ctdp_conn_lock()). */

#include <stdint.h>
#include "compiler.h"

struct OVS_LOCKABLE ctdp_spin {
    uint8_t locked;
};

/* Waits politely while another thread holds a lock. */
static inline void
ctdp_spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static inline void
ctdp_spin_init(struct ctdp_spin *s)
{
    __atomic_store_n(&s->locked, 0, __ATOMIC_RELAXED);
}

static inline void
ctdp_spin_lock(struct ctdp_spin *s)
    OVS_ACQUIRES(s)
{
    while (__atomic_exchange_n(&s->locked, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&s->locked, __ATOMIC_RELAXED)) {
            ctdp_spin_pause();
        }
    }
}

static inline void
ctdp_spin_unlock(struct ctdp_spin *s)
    OVS_RELEASES(s)
{
    __atomic_store_n(&s->locked, 0, __ATOMIC_RELEASE);
}

#endif /* ctdp-spin.h */
