#ifndef CTDP_REPLAY_H
#define CTDP_REPLAY_H 1

/* Replay order: the pcap inputs of several ports merged by timestamp.
 *
 * A replay holds one capture reader (ctdp-pcap.h) per pcap input port and
 * hands out their packets one at a time, in timestamp order across all of
 * them; packets with the same timestamp go in port-number order, and
 * packets of one capture in their file order.  Captures taken on each
 * side of a firewall thus replay in the order in which the packets
 * happened: a reply captured outside after a request captured inside
 * comes after it, even though it is the first packet in its own file.
 *
 * Each call to ctdp_replay_next() looks at the next packet of every input
 * (the readers read one ahead), so it costs O(inputs); a datapath has a
 * handful.
 *
 * The replay does not own the readers: the caller adds a port's reader
 * when it opens the port and removes it before closing the port.
 *
 * Thread-safety: a replay and its readers belong to one thread (the
 * datapath's feeder, its main thread). */

#include <stdbool.h>
#include <stddef.h>
#include "openvswitch/types.h"

struct ctdp_pcap_reader;
struct dp_packet;

struct ctdp_replay *ctdp_replay_create(void);
void ctdp_replay_destroy(struct ctdp_replay *);

void ctdp_replay_add(struct ctdp_replay *, ofp_port_t,
                     struct ctdp_pcap_reader *);
void ctdp_replay_remove(struct ctdp_replay *, ofp_port_t);
size_t ctdp_replay_n_inputs(const struct ctdp_replay *);

/* Returns true if some input has packets left. */
bool ctdp_replay_has_input(const struct ctdp_replay *);
/* Returns the next packet in replay order, which the caller then owns,
 * with its port in '*in_port' and its timestamp (microseconds) in
 * '*usec'; NULL when every input has ended. */
struct dp_packet *ctdp_replay_next(struct ctdp_replay *, ofp_port_t *in_port,
                                   long long *usec);

#endif /* ctdp-replay.h */
