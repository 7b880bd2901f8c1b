#ifndef CTDP_SPIN_H
#define CTDP_SPIN_H 1

/* A spinlock taken and released inline: the tracker's short critical
 * sections (a bucket's chain, a pool shard's free list, a zone lane's
 * list, the NAT bindings) on the packet path.
 *
 * Open vSwitch's ovs_spin is two calls deep (ovs_spin_lock_at(), then
 * libc's pthread_spin_lock()) and records the caller in the lock; a new
 * conn takes four such locks.  This one is the locked exchange and the
 * release store, with a read-only wait while another thread holds it.
 * The byte lock under it also serves the conn's lock byte, whose other
 * bits hold the conn's lane (ctdp_conn_lock()). */

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

/* Takes the lock in bit 0 of '*byte'.  The byte's other bits must not
 * change while other threads can take it: the exchange writes them back
 * as they are. */
static inline void
ctdp_spin_lock_byte(uint8_t *byte)
{
    uint8_t locked = __atomic_load_n(byte, __ATOMIC_RELAXED) | 1;

    while (__atomic_exchange_n(byte, locked, __ATOMIC_ACQUIRE) & 1) {
        while (__atomic_load_n(byte, __ATOMIC_RELAXED) & 1) {
            ctdp_spin_pause();
        }
    }
}

static inline void
ctdp_spin_unlock_byte(uint8_t *byte)
{
    __atomic_store_n(byte, __atomic_load_n(byte, __ATOMIC_RELAXED) & ~1,
                     __ATOMIC_RELEASE);
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
    ctdp_spin_lock_byte(&s->locked);
}

static inline void
ctdp_spin_unlock(struct ctdp_spin *s)
    OVS_RELEASES(s)
{
    ctdp_spin_unlock_byte(&s->locked);
}

#endif /* ctdp-spin.h */
