#ifndef CTDP_PORT_H
#define CTDP_PORT_H 1

/* Ports: where packets enter and leave the datapath.
 *
 * A port is an Open vSwitch netdev ("system": a Linux interface such as one
 * end of a veth pair; "tap"; "dummy", fed by OVS's netdev-dummy/receive and
 * for tests) with an OpenFlow port number.  ctdp_port_parse() reads the
 * spec that --port and add-port take:
 *
 *     NAME=TYPE[:KEY=VALUE[,KEY=VALUE...]]
 *
 * where the options are the netdev's own (passed to netdev_set_config()),
 * plus "ofport=N" to choose the port number.
 *
 * Thread-safety: a port is opened and closed by the main thread; any
 * thread may ctdp_port_send() on it while it is open. */

#include <stdbool.h>
#include "openvswitch/types.h"
#include "smap.h"

struct dp_packet_batch;
struct netdev;
struct netdev_rxq;

struct ctdp_port_spec {
    char *name;
    char *type;
    ofp_port_t ofport;          /* OFPP_NONE: the next free number. */
    struct smap options;        /* For the netdev. */
};

struct ctdp_port {
    char *name;
    char *type;
    ofp_port_t ofport;
    struct netdev *netdev;
    struct netdev_rxq *rxq;
};

char *ctdp_port_parse(const char *spec, struct ctdp_port_spec *)
    OVS_WARN_UNUSED_RESULT;
void ctdp_port_spec_destroy(struct ctdp_port_spec *);

char *ctdp_port_open(const struct ctdp_port_spec *, ofp_port_t ofport,
                     struct ctdp_port **) OVS_WARN_UNUSED_RESULT;
void ctdp_port_close(struct ctdp_port *);
void ctdp_port_send(struct ctdp_port *, struct dp_packet_batch *);

#endif /* ctdp-port.h */
