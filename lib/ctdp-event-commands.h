#ifndef CTDP_EVENT_COMMANDS_H
#define CTDP_EVENT_COMMANDS_H 1

/* ct-events and its alias monitor-conntrack: the tracker's events of a
 * datapath as a stream (ctdp-stream.h), served over unixctl as
 * "dpctl/NAME".  A unixctl callback whose 'aux' is the datapath
 * (struct ctdp_dp *), listed in the command table (ctdp-command.h), which
 * registers it.  Main thread only. */

#include "unixctl.h"

unixctl_cb_func ctdp_event_cmd_events;

#endif /* ctdp-event-commands.h */
