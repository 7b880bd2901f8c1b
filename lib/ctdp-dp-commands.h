#ifndef CTDP_DP_COMMANDS_H
#define CTDP_DP_COMMANDS_H 1

/* The datapath's commands: show, add-port, del-port, add-flow, add-flows,
 * del-flows, dump-flows, dump-dp-flows and inject,
 * and the conntrack dumps
 * dump-conntrack, dump-conntrack-exp and flush-conntrack-exp (as
 * "dpctl/NAME").  unixctl callbacks whose 'aux' is the datapath
 * (struct ctdp_dp *), listed in the command table (ctdp-command.h), which
 * registers them.  Each one changes nothing when it fails, and says why in
 * one line.  Main thread only. */

#include "unixctl.h"

unixctl_cb_func ctdp_dp_cmd_show;
unixctl_cb_func ctdp_dp_cmd_add_port;
unixctl_cb_func ctdp_dp_cmd_del_port;
unixctl_cb_func ctdp_dp_cmd_add_flow;
unixctl_cb_func ctdp_dp_cmd_add_flows;
unixctl_cb_func ctdp_dp_cmd_del_flows;
unixctl_cb_func ctdp_dp_cmd_dump_flows;
unixctl_cb_func ctdp_dp_cmd_dump_dp_flows;
unixctl_cb_func ctdp_dp_cmd_inject;
unixctl_cb_func ctdp_dp_cmd_dump_conntrack;
unixctl_cb_func ctdp_dp_cmd_dump_conntrack_exp;
unixctl_cb_func ctdp_dp_cmd_flush_conntrack_exp;

#endif /* ctdp-dp-commands.h */
