#ifndef CTDP_DP_H
#define CTDP_DP_H 1

/* The datapath: ports, flow tables and one connection tracker.
 *
 * Each port has a thread that receives batches of up to 32 packets and
 * runs each through the pipeline (ctdp-pipeline.h); outputs are batched
 * per port.  All threads share the flow tables and the tracker.  The main
 * thread changes ports and flows (through the unixctl commands that
 * ctdp_dp_register_commands() adds), runs the tracker's expiry sweep
 * (ctdp_dp_run()), and may inject packets.
 *
 * Time: the datapath gives the tracker time_msec(), so OVS's time/stop and
 * time/warp commands move the tracker's clock too (for tests).
 *
 * Thread-safety: every function is for the main thread. */

#include <stdbool.h>
#include "openvswitch/dynamic-string.h"

struct ctdp_ct;
struct ctdp_dp;
struct ctdp_flows;

/* The flows of the default two-port stateful firewall: port 1 is inside,
 * port 2 outside. */
extern const char ctdp_dp_firewall_flows[];

struct ctdp_dp *ctdp_dp_create(void);
void ctdp_dp_destroy(struct ctdp_dp *);

char *ctdp_dp_add_port(struct ctdp_dp *, const char *spec)
    OVS_WARN_UNUSED_RESULT;
char *ctdp_dp_del_port(struct ctdp_dp *, const char *name)
    OVS_WARN_UNUSED_RESULT;
char *ctdp_dp_inject(struct ctdp_dp *, const char *port, const char *packet)
    OVS_WARN_UNUSED_RESULT;
void ctdp_dp_show(struct ctdp_dp *, struct ds *);

struct ctdp_flows *ctdp_dp_flows(struct ctdp_dp *);
struct ctdp_ct *ctdp_dp_ct(struct ctdp_dp *);

void ctdp_dp_run(struct ctdp_dp *);
void ctdp_dp_wait(struct ctdp_dp *);
void ctdp_dp_register_commands(struct ctdp_dp *);

#endif /* ctdp-dp.h */
