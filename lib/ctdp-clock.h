#ifndef CTDP_CLOCK_H
#define CTDP_CLOCK_H 1

/* The tracker's clock ('now' in ms).
 *
 * It runs as time_msec() (plus an offset), so OVS's time/stop and
 * time/warp commands move it too (for tests), until pcap input is fed.
 * While it is, the clock is held at the timestamp of the packet being fed:
 * it jumps to the first packet's timestamp, then follows the captures,
 * never going back (a packet stamped earlier than one already fed is
 * processed at the later time, and a feed whose first packet is older than
 * the clock, a second capture recorded before the first ended, is shifted
 * to start at the clock's time).  A capture thus replays with the timeouts
 * it had, however fast it is fed; live ports see the same clock.  When
 * the feed ends, the clock runs on from the last timestamp at
 * time_msec()'s pace.
 *
 * Thread-safety: ctdp_clock_now() from any thread; the rest from the one
 * thread that feeds pcap input (the main thread). */

#include <stdbool.h>
#include "ovs-atomic.h"

struct ctdp_clock {
    /* Read by every thread: the held time, or CTDP_CLOCK_RUNNING and then
     * time_msec() + 'offset'. */
    ATOMIC(long long) held;
    ATOMIC(long long) offset;

    /* The feeder's. */
    bool feeding;               /* Held for pcap input. */
    long long held_ms;          /* The held time, while 'feeding'. */
    long long shift;            /* Added to this feed's timestamps. */
    bool followed_capture;      /* Has ever followed a capture. */
};

void ctdp_clock_init(struct ctdp_clock *);

/* The clock now. */
long long ctdp_clock_now(const struct ctdp_clock *);

/* Holds the clock at 'ms', the timestamp of the pcap packets about to be
 * fed, and returns the clock; '*started' tells whether this began a feed
 * (the clock jumped). */
long long ctdp_clock_hold(struct ctdp_clock *, long long ms, bool *started);

/* Ends a feed: the clock runs on from where it was held. */
void ctdp_clock_release(struct ctdp_clock *);

/* What to add to the clock to get wall-clock milliseconds.  Once it has
 * followed a capture, whose timestamps are wall-clock times, that is the
 * opposite of the last feed's shift: 0 unless the capture was older than
 * the clock. */
long long ctdp_clock_wall_offset(const struct ctdp_clock *);

#endif /* ctdp-clock.h */
