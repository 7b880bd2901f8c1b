#include <config.h>
#include "ctdp-clock.h"

#include <limits.h>
#include "timeval.h"
#include "util.h"

/* 'held' when the clock is not held. */
#define CTDP_CLOCK_RUNNING LLONG_MIN

void
ctdp_clock_init(struct ctdp_clock *c)
{
    atomic_init(&c->held, CTDP_CLOCK_RUNNING);
    atomic_init(&c->offset, 0);
    c->feeding = false;
    c->held_ms = 0;
    c->shift = 0;
    c->followed_capture = false;
}

long long
ctdp_clock_now(const struct ctdp_clock *c_)
{
    struct ctdp_clock *c = CONST_CAST(struct ctdp_clock *, c_);
    long long held, offset;

    /* Pairs with the releases in ctdp_clock_hold() and
     * ctdp_clock_release(). */
    atomic_read_explicit(&c->held, &held, memory_order_acquire);
    if (held != CTDP_CLOCK_RUNNING) {
        return held;
    }
    atomic_read_relaxed(&c->offset, &offset);
    return time_msec() + offset;
}

long long
ctdp_clock_hold(struct ctdp_clock *c, long long ms, bool *started)
{
    *started = !c->feeding;
    if (!c->feeding) {
        long long now = ctdp_clock_now(c);

        c->shift = ms < now ? now - ms : 0;
        c->feeding = true;
        c->followed_capture = true;
        ms += c->shift;
    } else {
        ms = MAX(ms + c->shift, c->held_ms);
    }
    c->held_ms = ms;
    atomic_store_explicit(&c->held, ms, memory_order_release);
    return ms;
}

void
ctdp_clock_release(struct ctdp_clock *c)
{
    atomic_store_relaxed(&c->offset, c->held_ms - time_msec());
    atomic_store_explicit(&c->held, CTDP_CLOCK_RUNNING,
                          memory_order_release);
    c->feeding = false;
}

long long
ctdp_clock_wall_offset(const struct ctdp_clock *c)
{
    return c->followed_capture ? -c->shift : time_wall_msec() - time_msec();
}
