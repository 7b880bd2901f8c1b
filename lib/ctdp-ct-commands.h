#ifndef CTDP_CT_COMMANDS_H
#define CTDP_CT_COMMANDS_H 1

/* The conntrack commands of dpctl (ct-stats-show, flush-conntrack,
 * ct-set/get-maxconns, ct-get-nconns, ct-set/get/del-limits,
 * ct-set/get-sweep-interval, ct-set/get/del-timeout-policy), served over
 * unixctl as "dpctl/NAME" for
 * the tracker of datapath 'dp', on the datapath's clock.  Main thread
 * only. */

struct ctdp_dp;

void ctdp_ct_commands_register(struct ctdp_dp *);

#endif /* ctdp-ct-commands.h */
