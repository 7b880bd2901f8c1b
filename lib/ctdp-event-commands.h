#ifndef CTDP_EVENT_COMMANDS_H
#define CTDP_EVENT_COMMANDS_H 1

/* ct-events and its alias monitor-conntrack: the tracker's events of
 * datapath 'dp' as a stream (ctdp-stream.h), served over unixctl as
 * "dpctl/NAME".  Main thread only. */

struct ctdp_dp;

void ctdp_event_commands_register(struct ctdp_dp *);

#endif /* ctdp-event-commands.h */
