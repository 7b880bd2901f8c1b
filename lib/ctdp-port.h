#ifndef CTDP_PORT_H
#define CTDP_PORT_H 1

/* Ports: where packets enter and leave the datapath.
 *
 * A port has an OpenFlow port number and is either
 *
 *   - an Open vSwitch netdev: "system" (a Linux interface such as one end
 *     of a veth pair), "tap", or "dummy" (fed by OVS's
 *     netdev-dummy/receive, for tests); the datapath receives on it with
 *     a receive thread (a system port through a ring of its own,
 *     ctdp-ring.h; the others through the netdev) and sends through the
 *     netdev; or
 *
 *   - "pcap": capture files (ctdp-pcap.h).  "rx=FILE" is read as the
 *     port's input; "tx=FILE" receives what the datapath sends on the
 *     port.  Either or both; Ethernet captures only.  "mode" says who
 *     reads the input:
 *
 *       "replay" (the default): the datapath's one pcap feeder (ctdp-dp.h),
 *       in timestamp order across every such port, with the tracker's
 *       clock following the captures; the port is not live and hands its
 *       reader to the feeder (ctdp_port_pcap_input()).
 *
 *       "poll": the port is live, like a DPDK net_pcap port that a PMD
 *       thread polls: a receive thread reads its capture as fast as it can
 *       (ctdp_port_recv()), at the datapath's clock, whatever the
 *       timestamps; at the end of the capture it logs one line naming the
 *       port and the records read, and receives nothing more.
 *
 * ctdp_port_parse() reads the spec that --port and add-port take:
 *
 *     NAME=TYPE[:KEY=VALUE[,KEY=VALUE...]]
 *
 * where the options are the netdev's own (passed to netdev_set_config())
 * or a pcap port's rx, tx and mode, plus "ofport=N" to choose the port
 * number.
 * A file name is relative to the daemon's working directory.
 *
 * System and tap ports exchange a virtio-net header with the kernel, so
 * that frames whose checksum the sender left to the device, and TCP GSO
 * frames of up to 64 KiB, come in whole (ctdp-offload.h): veth and tap
 * work with their default offloads.  ctdp_port_recv() hands out packets
 * whose checksums are complete; ctdp_port_send() has a system or tap port
 * segment GSO frames (or segments them itself, where the sender chose
 * smaller segments than the port would cut) and sends them whole on
 * other ports.
 *
 * Thread-safety: a port is opened and closed by the main thread; one
 * thread at a time may ctdp_port_recv() on it, and any thread may
 * ctdp_port_send() and ctdp_port_flush() on it, while it is open; its
 * pcap input belongs to the main thread (ctdp_port_pcap_input()), or with
 * mode=poll to the thread that receives on it.
 *
 * Errors: the functions that can fail return NULL or a malloc'd one-line
 * message, having changed nothing. */

#include <stdbool.h>
#include "openvswitch/types.h"
#include "ovs-atomic.h"
#include "smap.h"

struct ctdp_pcap_reader;
struct ctdp_pcap_writer;
struct dp_packet_batch;
struct ds;
struct netdev;
struct netdev_rxq;

/* Port numbers run from 1 to CTDP_PORT_MAX. */
#define CTDP_PORT_MAX 255

struct ctdp_port_spec {
    char *name;
    char *type;
    ofp_port_t ofport;          /* OFPP_NONE: the next free number. */
    struct smap options;        /* For the netdev, or rx, tx, mode. */
};

/* An open port (opaque). */
struct ctdp_port;


char *ctdp_port_parse(const char *spec, struct ctdp_port_spec *)
    OVS_WARN_UNUSED_RESULT;
void ctdp_port_spec_destroy(struct ctdp_port_spec *);
/* Whether a port opened from 'spec' would be live (ctdp_port_is_live()):
 * a netdev port, or a pcap port with mode=poll.  Looks at the type and
 * mode only; ctdp_port_open() checks the rest. */
bool ctdp_port_spec_is_live(const struct ctdp_port_spec *);

/* Returns an error if a pcap port opened from 'spec' would write a file
 * that port 'other' reads or writes, or read one that 'other' writes: a
 * port that reads another's output never comes to the end of its input,
 * and two writers mix their records.  NULL if not, or if 'spec' is not a
 * pcap port. */
char *ctdp_port_check_files(const struct ctdp_port_spec *,
                            const struct ctdp_port *other)
    OVS_WARN_UNUSED_RESULT;
char *ctdp_port_open(const struct ctdp_port_spec *, ofp_port_t ofport,
                     struct ctdp_port **) OVS_WARN_UNUSED_RESULT;
void ctdp_port_close(struct ctdp_port *);

const char *ctdp_port_name(const struct ctdp_port *);
const char *ctdp_port_type(const struct ctdp_port *);
ofp_port_t ctdp_port_ofport(const struct ctdp_port *);

/* Whether 'port' receives on its own (a netdev port, or a pcap port with
 * mode=poll), for a receive thread to poll with ctdp_port_recv() and
 * ctdp_port_recv_wait(). */
bool ctdp_port_is_live(const struct ctdp_port *);

/* A pcap port's input capture, for the datapath's feeder, or NULL (none,
 * or mode=poll). */
struct ctdp_pcap_reader *ctdp_port_pcap_input(const struct ctdp_port *);

/* Receives a batch of packets on live port 'port' into 'batch', as
 * netdev_rxq_recv() does (0, or a positive errno value: EAGAIN when there
 * were none), with each packet's checksums completed.  A pcap port with
 * mode=poll gives up to NETDEV_MAX_BURST records of its capture, EAGAIN
 * from its end on. */
int ctdp_port_recv(struct ctdp_port *, struct dp_packet_batch *);
/* Arranges for poll_block() to wake when live 'port' has packets (for a
 * pcap port with mode=poll: at once, until its capture is used up). */
void ctdp_port_recv_wait(struct ctdp_port *);

/* Sends the packets of 'batch' on 'port' and empties the batch.  A pcap
 * port writes them stamped 'usec' (microseconds since the epoch), maybe
 * buffered until ctdp_port_flush(); other ports ignore 'usec'. */
void ctdp_port_send(struct ctdp_port *, struct dp_packet_batch *,
                    long long usec);
/* Makes sure what a pcap port wrote reached its file; nothing for other
 * ports. */
void ctdp_port_flush(struct ctdp_port *);

/* Appends the port's type, a netdev port's drops once it has some, for a
 * pcap port its files, mode=poll if so, and counts, and the GSO frames it
 * sent whole ("gso_sent_whole=N") once there are some. */
void ctdp_port_format(const struct ctdp_port *, struct ds *);

#endif /* ctdp-port.h */
