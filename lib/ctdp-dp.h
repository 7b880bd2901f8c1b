#ifndef CTDP_DP_H
#define CTDP_DP_H 1

/* The datapath: ports, flow tables and one connection tracker.
 *
 * The tracker has IP defragmentation in front of it (ctdp-ipf.h), whose
 * expired queues are freed with the tracker's sweep.
 *
 * Each live port (a netdev port, or a pcap port with mode=poll:
 * ctdp-port.h) has a receive thread (or, with a pool, shares one:
 * ctdp-rx.c) that runs each batch of up to 32 received packets through
 * the pipeline as a batch (ctdp-pipeline.h), with a datapath flow cache of
 * its own (ctdp-dpcache.h); outputs are batched per port.  All threads
 * share the flow tables and the tracker.
 * The main thread changes ports and flows (through the unixctl commands
 * of ctdp-dp-commands.h), feeds the pcap input and runs
 * the tracker's expiry sweep (ctdp_dp_run()), and may inject packets.
 *
 * Pcap input: the rx captures of all pcap ports in replay mode
 * (ctdp-port.h) are fed by one feeder, the main thread, a slice of packets
 * per ctdp_dp_run(), in timestamp order across all of them with ties in
 * port-number order (ctdp-replay.h), consecutive packets of one port and
 * millisecond as a batch through the same pipeline as a received one
 * (ctdp-feed.c); a pcap port with mode=poll is live instead, its capture
 * read by its receive thread.  What the datapath sends on a pcap port goes
 * to its tx capture, stamped with the time of the packet that caused it:
 * its capture time for fed pcap input, the wall clock for live input
 * (polled pcap input too).  Tx captures are flushed
 * after every slice, after every live batch, and when the input ends;
 * the datapath keeps running after that.
 *
 * Time: the tracker's clock ('now' in ms, ctdp_dp_now()) is the
 * datapath's ctdp-clock.h: time_msec() until pcap input is fed, then held
 * at the timestamps of the packets being fed, running on from the last
 * one when the input ends.
 *
 * Thread-safety: every function is for the main thread. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/dynamic-string.h"

struct ctdp_ct;
struct ctdp_dp;
struct ctdp_flows;
struct ctdp_ipf;

/* The flows of the default two-port stateful firewall: port 1 is inside,
 * port 2 outside. */
extern const char ctdp_dp_firewall_flows[];

/* The default firewall that also masquerades (ctdpd --masquerade): IPv4
 * conns from port 1 are source-NATed to 'range', the inside of an Open
 * vSwitch nat(src=...) such as "192.0.2.1" or "192.0.2.1:32768-60999",
 * and everything IPv4 goes through ct(nat), so that replies and related
 * ICMP errors are translated back.  IPv6 is not translated.  Returns the
 * flows as text, which the caller must free. */
char *ctdp_dp_masquerade_flows(const char *range);

/* Creates a datapath.  'n_threads' > 0: that many receive threads share
 * the ports (each port polled by one, spread evenly); 0: every port gets a
 * receive thread of its own. */
struct ctdp_dp *ctdp_dp_create(int n_threads);
void ctdp_dp_destroy(struct ctdp_dp *);

char *ctdp_dp_add_port(struct ctdp_dp *, const char *spec)
    OVS_WARN_UNUSED_RESULT;
char *ctdp_dp_del_port(struct ctdp_dp *, const char *name)
    OVS_WARN_UNUSED_RESULT;
char *ctdp_dp_inject(struct ctdp_dp *, const char *port, const char *packet)
    OVS_WARN_UNUSED_RESULT;
void ctdp_dp_show(struct ctdp_dp *, struct ds *);

/* Appends the entries of every thread's flow cache (ctdp-dpcache.h), one
 * line each, in Open vSwitch's dpctl/dump-flows style. */
void ctdp_dp_dump_dp_flows(struct ctdp_dp *, struct ds *);

struct ctdp_flows *ctdp_dp_flows(struct ctdp_dp *);
struct ctdp_ct *ctdp_dp_ct(struct ctdp_dp *);
/* Sets the tracker's sweep interval (ctdp_ct_set_sweep_interval()), and
 * brings the next sweep forward to the new interval's pace. */
void ctdp_dp_set_sweep_interval(struct ctdp_dp *, unsigned int ms);
struct ctdp_ipf *ctdp_dp_ipf(struct ctdp_dp *);

/* Returns the tracker's clock now (see "Time" above) and, if
 * 'wall_offset' is nonnull, stores there what to add to it to get
 * wall-clock milliseconds. */
long long ctdp_dp_now(struct ctdp_dp *, long long *wall_offset);
/* Feeds all pcap input to its end at once, as a capture replay does,
 * calling 'progress' (if nonnull) with 'aux' and the packets fed so far
 * after every slice of it.  Returns NULL, and in '*now' the tracker's time
 * after the last packet, or a malloc'd message naming a capture that
 * ended early; everything was fed either way. */
char *ctdp_dp_replay(struct ctdp_dp *, long long *now,
                     void (*progress)(void *aux, uint64_t n_fed), void *aux)
    OVS_WARN_UNUSED_RESULT;

void ctdp_dp_run(struct ctdp_dp *);
void ctdp_dp_wait(struct ctdp_dp *);

#endif /* ctdp-dp.h */
