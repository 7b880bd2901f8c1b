#ifndef CTDP_COMMAND_H
#define CTDP_COMMAND_H 1

/* The table of control commands.
 *
 * One row per command that ctdpd serves over unixctl (OVS's JSON-RPC over a
 * unix socket).  The same rows drive both ends:
 *
 *   - ctdp-dpctl finds a row by the name the user typed, checks the argument
 *     count, and sends the row's unixctl name, so that a typo or a wrong
 *     count is refused before any daemon is contacted;
 *   - ctdpd registers every row's handler with ctdp_command_register_all(),
 *     with the usage text and argument bounds of its row, so that
 *     `ovs-appctl -t SOCKET list-commands` and `ctdp-dpctl --help` say the
 *     same thing.
 *
 * The handlers live with what they command: ctdp-dp-commands.h (ports,
 * flows, inject, the conntrack dumps), ctdp-ct-commands.h (the tracker's
 * settings and statistics), ctdp-event-commands.h (ct-events),
 * ctdp-ipf-commands.h (defragmentation) and ctdp-stream.h (reading
 * streams); "exit" is ctdp_command_exit(), below.
 *
 * Names follow Open vSwitch: dpctl commands are "dpctl/NAME" over unixctl
 * and "NAME" on ctdp-dpctl's command line; daemon commands ("version",
 * "exit", "list-commands") have one name.
 *
 * Both ends default to the same socket, ctdp_command_default_socket():
 * "ctdpd.ctl" in the run directory, which is $CTDP_RUNDIR or /run/ctdp.
 * ctdp_command_use_rundir() makes that directory the OVS library's too.
 *
 * Every handler refuses a command with ctdp_command_reply_error(), one line
 * that ctdp-dpctl prints as it is: the message, then, for the errors that
 * Open vSwitch's dpctl words with an errno, that errno's text in
 * parentheses ("maxconns missing or malformed (Invalid argument)").
 *
 * Thread-safety: the table is constant.  ctdp_command_register_all() calls
 * unixctl_command_register() and so must run on the daemon's main thread,
 * as must ctdp_command_reply_error(), like every unixctl reply. */

#include <stdbool.h>
#include <stdio.h>
#include "openvswitch/compiler.h"
#include "unixctl.h"

struct ctdp_command {
    const char *name;       /* Name on ctdp-dpctl's command line. */
    const char *unixctl;    /* Name over unixctl. */
    const char *usage;      /* Argument synopsis, "" for none. */
    int min_args, max_args; /* Bounds on the argument count. */
    const char *help;       /* One line for --help. */
    bool stream;            /* Output comes as a stream (ctdp-stream.h):
                             * the daemon also takes a leading "--stream",
                             * which ctdp-dpctl always sends. */
    unixctl_cb_func *handler;   /* The daemon's; NULL for the commands OVS's
                                 * unixctl server serves itself ("version",
                                 * "list-commands"). */
};

struct ctdp_dp;

const struct ctdp_command *ctdp_command_find(const char *name);
const struct ctdp_command *ctdp_command_find_unixctl(const char *unixctl);
const struct ctdp_command *ctdp_command_at(size_t i);
size_t ctdp_command_count(void);

char *ctdp_command_check_args(const struct ctdp_command *, int n_args);
void ctdp_command_print_help(FILE *);
void ctdp_command_register_all(struct ctdp_dp *, bool *exiting);
unixctl_cb_func ctdp_command_exit;
void ctdp_command_reply_error(struct unixctl_conn *, int err,
                              const char *format, ...)
    OVS_PRINTF_FORMAT(3, 4);

void ctdp_command_use_rundir(void);
const char *ctdp_command_default_socket(void);

#endif /* ctdp-command.h */
