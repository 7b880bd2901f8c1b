#ifndef CTDP_IPF_COMMANDS_H
#define CTDP_IPF_COMMANDS_H 1

/* The defragmentation commands of dpctl, as Open vSwitch's lib/dpctl.c
 * names and words them: ipf-set-enabled, ipf-set-disabled,
 * ipf-set-min-frag, ipf-set-max-nfrags and ipf-get-status, served over
 * unixctl as "dpctl/NAME" for the defragmenter of datapath 'dp'.  Main
 * thread only. */

struct ctdp_dp;

void ctdp_ipf_commands_register(struct ctdp_dp *);

#endif /* ctdp-ipf-commands.h */
