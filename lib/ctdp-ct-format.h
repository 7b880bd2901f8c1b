#ifndef CTDP_CT_FORMAT_H
#define CTDP_CT_FORMAT_H 1

/* Printing conns as operators already read them.
 *
 * ctdp_ct_format_entry() prints one conn in Open vSwitch's dump-conntrack
 * format, e.g.
 *
 *   udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=53),
 *   reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1000),zone=5,mark=42
 *
 * (one line), with "-s" adding per-direction packets and bytes, the start
 * time and the seconds left, and "-m" the id and the status flags.  Times
 * are the tracker's ('now' in ms); 'wall_offset' is what to add to one to
 * get wall-clock milliseconds (0 when the tracker's clock is the wall
 * clock, as in a capture replay).
 *
 * ctdp_ct_format_proc() prints one conn as a line of the kernel's
 * /proc/net/nf_conntrack, e.g.
 *
 *   ipv4     2 udp      17 28 src=10.0.0.1 dst=10.0.0.2 sport=1000
 *   dport=53 packets=1 bytes=28 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1
 *   sport=53 dport=1000 packets=0 bytes=0 mark=0 zone=0 use=1
 *
 * ctdp_ct_format_expect() and ctdp_ct_format_expect_proc() print an
 * expectation as Open vSwitch's dump-conntrack-exp and the kernel's
 * /proc/net/nf_conntrack_expect do, e.g.
 *
 *   tcp,orig=(src=10.0.0.2,dst=10.0.0.1,sport=0,dport=40123),
 *   reply=(src=10.0.0.1,dst=10.0.0.2,sport=40123,dport=0),helper=ftp,
 *   parent=(src=10.0.0.1,dst=10.0.0.2,sport=51000,dport=21)
 *   297 l3proto = 2 proto=6 src=10.0.0.2 dst=10.0.0.1 sport=0 dport=40123 ftp
 *
 * ctdp_ct_format_event() prints an event as `conntrack -E` does, e.g.
 *
 *      [NEW] udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=1000 dport=53
 *   [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=1000
 *
 * Thread-safety: pure functions. */

#include <stdbool.h>
#include "openvswitch/dynamic-string.h"

struct ctdp_ct_entry;
struct ctdp_ct_event;
struct ctdp_ct_expect_entry;
struct ctdp_ct_stats;

struct ctdp_ct_format {
    bool verbose;               /* -m: id and status flags. */
    bool stats;                 /* -s: counters, start, timeout. */
    long long now;              /* The tracker's time now. */
    long long wall_offset;      /* Tracker time + this = wall-clock ms. */
};

void ctdp_ct_format_entry(struct ds *, const struct ctdp_ct_entry *,
                          const struct ctdp_ct_format *);
void ctdp_ct_format_proc(struct ds *, const struct ctdp_ct_entry *,
                         long long now);
void ctdp_ct_format_event(struct ds *, const struct ctdp_ct_event *);
void ctdp_ct_format_expect(struct ds *, const struct ctdp_ct_expect_entry *,
                           const struct ctdp_ct_format *);
void ctdp_ct_format_expect_proc(struct ds *,
                                const struct ctdp_ct_expect_entry *,
                                long long now);
void ctdp_ct_format_stats(struct ds *, const struct ctdp_ct_stats *);

#endif /* ctdp-ct-format.h */
