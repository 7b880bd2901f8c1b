#ifndef CTDP_CT_COMMANDS_H
#define CTDP_CT_COMMANDS_H 1

/* The conntrack commands of dpctl (ct-stats-show, flush-conntrack,
 * ct-set/get-maxconns, ct-get-nconns, ct-set/get/del-limits,
 * ct-set/get-sweep-interval, ct-set/get/del-timeout-policy, ct-bkts,
 * ct-enable/disable/get-tcp-seq-chk, ct-set/get-ftp-loose), served over
 * unixctl as "dpctl/NAME" for the tracker of a datapath, on the datapath's
 * clock.  unixctl callbacks whose 'aux' is the datapath (struct ctdp_dp *),
 * listed in the command table (ctdp-command.h), which registers them.  Main
 * thread only. */

#include "unixctl.h"

unixctl_cb_func ctdp_ct_cmd_stats_show;
unixctl_cb_func ctdp_ct_cmd_flush;
unixctl_cb_func ctdp_ct_cmd_set_maxconns;
unixctl_cb_func ctdp_ct_cmd_get_maxconns;
unixctl_cb_func ctdp_ct_cmd_get_nconns;
unixctl_cb_func ctdp_ct_cmd_set_limits;
unixctl_cb_func ctdp_ct_cmd_get_limits;
unixctl_cb_func ctdp_ct_cmd_del_limits;
unixctl_cb_func ctdp_ct_cmd_set_sweep;
unixctl_cb_func ctdp_ct_cmd_get_sweep;
unixctl_cb_func ctdp_ct_cmd_bkts;
unixctl_cb_func ctdp_ct_cmd_enable_tcp_seq_chk;
unixctl_cb_func ctdp_ct_cmd_disable_tcp_seq_chk;
unixctl_cb_func ctdp_ct_cmd_get_tcp_seq_chk;
unixctl_cb_func ctdp_ct_cmd_set_ftp_loose;
unixctl_cb_func ctdp_ct_cmd_get_ftp_loose;
unixctl_cb_func ctdp_ct_cmd_set_knob;
unixctl_cb_func ctdp_ct_cmd_get_knob;
unixctl_cb_func ctdp_ct_cmd_sysctl;
unixctl_cb_func ctdp_ct_cmd_set_tp;
unixctl_cb_func ctdp_ct_cmd_get_tp;
unixctl_cb_func ctdp_ct_cmd_del_tp;

#endif /* ctdp-ct-commands.h */
