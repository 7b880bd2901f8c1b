#ifndef CTDP_INJECT_H
#define CTDP_INJECT_H 1

/* Injection: the packets the inject command runs in from a port
 * (ctdp_dp_inject()), written as text.
 *
 * ctdp_inject_parse() makes a packet from 'text': an Ethernet frame in hex
 * (at least 14 bytes), or a packet described in the datapath flow syntax
 * that Open vSwitch's netdev-dummy/receive accepts, e.g.
 * "eth(src=...,dst=...),eth_type(0x0800),ipv4(src=...,dst=...,proto=17,
 * ttl=64),udp(src=1000,dst=53)", composed as flow_compose() does.  Returns
 * NULL and the packet in '*pktp', or a malloc'd one-line message. */

#include "compiler.h"

struct dp_packet;

char *ctdp_inject_parse(const char *text, struct dp_packet **pktp)
    OVS_WARN_UNUSED_RESULT;

#endif /* ctdp-inject.h */
