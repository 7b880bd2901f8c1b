#ifndef CTDP_IPF_COMMANDS_H
#define CTDP_IPF_COMMANDS_H 1

/* The defragmentation commands of dpctl, as Open vSwitch's lib/dpctl.c
 * names and words them: ipf-set-enabled, ipf-set-disabled,
 * ipf-set-min-frag, ipf-set-max-nfrags and ipf-get-status, served over
 * unixctl as "dpctl/NAME" for the defragmenter of a datapath.  unixctl
 * callbacks whose 'aux' is the datapath (struct ctdp_dp *), listed in the
 * command table (ctdp-command.h), which registers them.  Main thread
 * only. */

#include "unixctl.h"

unixctl_cb_func ctdp_ipf_cmd_set_enabled;
unixctl_cb_func ctdp_ipf_cmd_set_disabled;
unixctl_cb_func ctdp_ipf_cmd_set_min_frag;
unixctl_cb_func ctdp_ipf_cmd_set_max_nfrags;
unixctl_cb_func ctdp_ipf_cmd_get_status;

#endif /* ctdp-ipf-commands.h */
