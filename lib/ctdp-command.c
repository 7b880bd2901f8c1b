#include <config.h>
#include "ctdp-command.h"

#include <stdlib.h>
#include <string.h>
#include "ctdp-ct-commands.h"
#include "ctdp-dp-commands.h"
#include "ctdp-event-commands.h"
#include "ctdp-ipf-commands.h"
#include "ctdp-stream.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Rows in the order --help lists them.  "version" and "list-commands" are
 * served by OVS's unixctl server itself (no handler); the daemon registers
 * every other row's handler with ctdp_command_register_all(). */
static const struct ctdp_command commands[] = {
    { "version", "version", "", 0, 0,
      "print the daemon's version", false, NULL },
    { "list-commands", "list-commands", "", 0, 0,
      "list the commands the daemon serves", false, NULL },
    { "exit", "exit", "", 0, 0,
      "stop the daemon", false, ctdp_command_exit },
    { "show", "show", "", 0, 0,
      "show ports, flow and conn counts, and drops", false, ctdp_dp_cmd_show },
    { "add-port", "add-port", "NAME=TYPE[:OPTIONS]", 1, 1,
      "add a port (TYPE: system, tap, dummy or pcap)", false,
      ctdp_dp_cmd_add_port },
    { "del-port", "del-port", "NAME", 1, 1,
      "delete a port", false, ctdp_dp_cmd_del_port },
    { "add-flow", "add-flow", "FLOW", 1, 1,
      "add a flow in OVS syntax", false, ctdp_dp_cmd_add_flow },
    { "add-flows", "add-flows", "FILE", 1, 1,
      "add the flows in FILE, one per line (all or none)", false,
      ctdp_dp_cmd_add_flows },
    { "del-flows", "del-flows", "[MATCH]", 0, 1,
      "delete the flows MATCH matches (default: all)", false,
      ctdp_dp_cmd_del_flows },
    { "dump-flows", "dump-flows", "[table=N]", 0, 1,
      "print the flows with their counters", false, ctdp_dp_cmd_dump_flows },
    { "dump-dp-flows", "dump-dp-flows", "", 0, 0,
      "print the datapath flow cache's entries with their counters", false,
      ctdp_dp_cmd_dump_dp_flows },
    { "inject", "inject", "PORT PACKET", 2, 2,
      "run a packet (hex frame, or datapath flow syntax) in from PORT", false,
      ctdp_dp_cmd_inject },
    { "dump-conntrack", "dpctl/dump-conntrack",
      "[-m] [-s] [zone=N] [--format=ovs|proc]", 0, 4,
      "print the conntrack table (OVS's format, or the kernel's)", true,
      ctdp_dp_cmd_dump_conntrack },
    { "dump-conntrack-exp", "dpctl/dump-conntrack-exp",
      "[-s] [zone=N] [--format=ovs|proc]", 0, 3,
      "print the expectations helpers made (OVS's format, or the kernel's)",
      false, ctdp_dp_cmd_dump_conntrack_exp },
    { "flush-conntrack-exp", "dpctl/flush-conntrack-exp", "[zone=N]", 0, 1,
      "delete the expectations (of one zone)", false,
      ctdp_dp_cmd_flush_conntrack_exp },
    { "ct-events", "dpctl/ct-events", "[--zone=N] [--expect]", 0, 2,
      "print conn (or expectation) events as conntrack -E does, until "
      "interrupted", true, ctdp_event_cmd_events },
    { "monitor-conntrack", "dpctl/monitor-conntrack", "[--zone=N] [--expect]",
      0, 2,
      "the same as ct-events", true, ctdp_event_cmd_events },
    { "stream-read", "dpctl/stream-read", "ID", 1, 1,
      "read the next chunk of a --stream command's output", false,
      ctdp_stream_cmd_read },
    { "stream-close", "dpctl/stream-close", "ID", 1, 1,
      "end a --stream command's output early", false, ctdp_stream_cmd_close },
    { "flush-conntrack", "dpctl/flush-conntrack",
      "[zone=N] [mark=X[/M]] [labels=Y[/N]] [ct-orig-tuple [ct-reply-tuple]]",
      0, 5, "delete the conns that match (all by default)", false,
      ctdp_ct_cmd_flush },
    { "ct-stats-show", "dpctl/ct-stats-show", "[-m] [zone=N]", 0, 2,
      "conn counts per protocol, and the tracker's statistics", false,
      ctdp_ct_cmd_stats_show },
    { "ct-set-maxconns", "dpctl/ct-set-maxconns", "MAXCONNS", 1, 1,
      "set the maximum number of conns", false, ctdp_ct_cmd_set_maxconns },
    { "ct-get-maxconns", "dpctl/ct-get-maxconns", "", 0, 0,
      "print the maximum number of conns", false, ctdp_ct_cmd_get_maxconns },
    { "ct-get-nconns", "dpctl/ct-get-nconns", "", 0, 0,
      "print the number of conns", false, ctdp_ct_cmd_get_nconns },
    { "ct-set-limits", "dpctl/ct-set-limits",
      "[default=L] [zone=N,limit=L]...", 1, 65, "set per-zone conn limits", false,
      ctdp_ct_cmd_set_limits },
    { "ct-get-limits", "dpctl/ct-get-limits", "[zone=N[,zone=M]...]", 0, 1,
      "print per-zone limits and counts", false, ctdp_ct_cmd_get_limits },
    { "ct-del-limits", "dpctl/ct-del-limits", "[default] [zone=N[,zone=M]...]",
      1, 2, "remove per-zone limits (back to the default)",
      false, ctdp_ct_cmd_del_limits },
    { "ct-set-sweep-interval", "dpctl/ct-set-sweep-interval", "MS", 1, 1,
      "set how often expired conns are swept, in ms", false,
      ctdp_ct_cmd_set_sweep },
    { "ct-get-sweep-interval", "dpctl/ct-get-sweep-interval", "", 0, 0,
      "print the sweep interval in ms", false, ctdp_ct_cmd_get_sweep },
    { "ct-bkts", "dpctl/ct-bkts", "[gt=N]", 0, 1,
      "the hash table's buckets: chain lengths, and the busy ones", false,
      ctdp_ct_cmd_bkts },
    { "ct-enable-tcp-seq-chk", "dpctl/ct-enable-tcp-seq-chk", "", 0, 0,
      "check TCP sequence numbers and windows (the default)", false,
      ctdp_ct_cmd_enable_tcp_seq_chk },
    { "ct-disable-tcp-seq-chk", "dpctl/ct-disable-tcp-seq-chk", "", 0, 0,
      "accept TCP segments whatever their sequence numbers", false,
      ctdp_ct_cmd_disable_tcp_seq_chk },
    { "ct-set-ftp-loose", "dpctl/ct-set-ftp-loose", "0|1", 1, 1,
      "let FTP's PORT and 227 name another host (the kernel's loose)",
      false, ctdp_ct_cmd_set_ftp_loose },
    { "ct-get-ftp-loose", "dpctl/ct-get-ftp-loose", "", 0, 0,
      "print whether the FTP helper is loose", false,
      ctdp_ct_cmd_get_ftp_loose },
    { "ct-get-tcp-seq-chk", "dpctl/ct-get-tcp-seq-chk", "", 0, 0,
      "say whether TCP sequence numbers are checked", false,
      ctdp_ct_cmd_get_tcp_seq_chk },
    { "ct-set-tcp-loose", "dpctl/ct-set-tcp-loose", "0|1", 1, 1,
      "pick up TCP conns met in the middle (nf_conntrack_tcp_loose)", false,
      ctdp_ct_cmd_set_knob },
    { "ct-get-tcp-loose", "dpctl/ct-get-tcp-loose", "", 0, 0,
      "print nf_conntrack_tcp_loose", false, ctdp_ct_cmd_get_knob },
    { "ct-set-tcp-be-liberal", "dpctl/ct-set-tcp-be-liberal", "0|1", 1, 1,
      "accept out-of-window TCP segments (nf_conntrack_tcp_be_liberal)",
      false, ctdp_ct_cmd_set_knob },
    { "ct-get-tcp-be-liberal", "dpctl/ct-get-tcp-be-liberal", "", 0, 0,
      "print nf_conntrack_tcp_be_liberal", false, ctdp_ct_cmd_get_knob },
    { "ct-sysctl", "dpctl/ct-sysctl", "[NAME[=VALUE]]...", 0, 64,
      "list, print or set the kernel's conntrack knobs by sysctl name",
      false, ctdp_ct_cmd_sysctl },
    { "ct-set-timeout-policy", "dpctl/ct-set-timeout-policy",
      "zone=N NAME=SECS...", 2, 33,
      "set timeouts for a zone (tcp_*, udp_first, udp_multiple, icmp, ...)", false,
      ctdp_ct_cmd_set_tp },
    { "ct-get-timeout-policy", "dpctl/ct-get-timeout-policy", "zone=N", 1, 1,
      "print the timeouts in force in a zone", false, ctdp_ct_cmd_get_tp },
    { "ct-del-timeout-policy", "dpctl/ct-del-timeout-policy", "zone=N", 1, 1,
      "remove a zone's timeout policy (back to the defaults)", false,
      ctdp_ct_cmd_del_tp },
    { "ipf-set-enabled", "dpctl/ipf-set-enabled", "v4|v6", 1, 1,
      "turn IPv4 or IPv6 fragment reassembly on", false,
      ctdp_ipf_cmd_set_enabled },
    { "ipf-set-disabled", "dpctl/ipf-set-disabled", "v4|v6", 1, 1,
      "turn IPv4 or IPv6 fragment reassembly off", false,
      ctdp_ipf_cmd_set_disabled },
    { "ipf-set-min-frag", "dpctl/ipf-set-min-frag", "v4|v6 MINFRAG", 2, 2,
      "set the smallest fragment accepted but the last (bytes)", false,
      ctdp_ipf_cmd_set_min_frag },
    { "ipf-set-max-nfrags", "dpctl/ipf-set-max-nfrags", "MAXFRAGS", 1, 1,
      "set the most fragments held for reassembly", false,
      ctdp_ipf_cmd_set_max_nfrags },
    { "ipf-get-status", "dpctl/ipf-get-status", "[-m]", 0, 1,
      "reassembly settings and counters (-m: pending datagrams)", false,
      ctdp_ipf_cmd_get_status },
};

size_t
ctdp_command_count(void)
{
    return ARRAY_SIZE(commands);
}

/* Returns row 'i', or NULL when 'i' is past the end. */
const struct ctdp_command *
ctdp_command_at(size_t i)
{
    return i < ARRAY_SIZE(commands) ? &commands[i] : NULL;
}

/* Returns the row whose command-line name is 'name', or NULL. */
const struct ctdp_command *
ctdp_command_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

/* Returns the row whose unixctl name is 'unixctl', or NULL. */
const struct ctdp_command *
ctdp_command_find_unixctl(const char *unixctl)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].unixctl, unixctl)) {
            return &commands[i];
        }
    }
    return NULL;
}

/* Returns NULL if 'n_args' arguments suit 'cmd', otherwise a malloc'd
 * message for the user (the caller frees it). */
char *
ctdp_command_check_args(const struct ctdp_command *cmd, int n_args)
{
    if (n_args >= cmd->min_args && n_args <= cmd->max_args) {
        return NULL;
    }
    if (cmd->max_args == 0) {
        return xasprintf("'%s' takes no arguments", cmd->name);
    }
    if (cmd->min_args == cmd->max_args) {
        return xasprintf("'%s' takes %d argument%s (usage: %s %s)",
                         cmd->name, cmd->min_args,
                         cmd->min_args == 1 ? "" : "s",
                         cmd->name, cmd->usage);
    }
    return xasprintf("'%s' takes %d to %d arguments (usage: %s %s)",
                     cmd->name, cmd->min_args, cmd->max_args,
                     cmd->name, cmd->usage);
}

/* Prints one line per command: name, usage and help. */
void
ctdp_command_print_help(FILE *stream)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        const struct ctdp_command *c = &commands[i];
        char *synopsis = xasprintf("%s%s%s", c->name, *c->usage ? " " : "",
                                   c->usage);

        fprintf(stream, "  %-40s %s\n", synopsis, c->help);
        free(synopsis);
    }
}

/* Registers the handler of every row that has one with the unixctl
 * server, under the row's unixctl name, with the row's usage text and
 * argument bounds (one more argument for a stream's "--stream").  Each
 * handler gets 'dp' as its 'aux', except ctdp_command_exit(), which gets
 * 'exiting'. */
void
ctdp_command_register_all(struct ctdp_dp *dp, bool *exiting)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        const struct ctdp_command *c = &commands[i];

        if (c->handler) {
            void *aux = c->handler == ctdp_command_exit ? (void *) exiting
                                                        : (void *) dp;

            unixctl_command_register(c->unixctl, c->usage, c->min_args,
                                     c->max_args + c->stream, c->handler,
                                     aux);
        }
    }
}

/* "exit": sets the daemon's flag 'exiting_' (a bool *), on which its main
 * loop ends, and answers. */
void
ctdp_command_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
                  const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;

    *exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* Replies to 'conn' with an error: 'format' and its arguments, followed,
 * if 'err' is nonzero, by ovs_strerror('err') in parentheses (Open
 * vSwitch's dpctl shape, "... (Invalid argument)"). */
void
ctdp_command_reply_error(struct unixctl_conn *conn, int err,
                         const char *format, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    va_start(args, format);
    ds_put_format_valist(&s, format, args);
    va_end(args);
    if (err) {
        ds_put_format(&s, " (%s)", ovs_strerror(err));
    }
    unixctl_command_reply_error(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* Returns ctdp's run directory: $CTDP_RUNDIR, or /run/ctdp. */
static const char *
ctdp_command_rundir(void)
{
    const char *rundir = getenv("CTDP_RUNDIR");

    return rundir && *rundir ? rundir : "/run/ctdp";
}

/* Points the Open vSwitch library's run directory at ctdp's (unless
 * OVS_RUNDIR is already set), so that a relative socket name and the
 * default pidfile resolve there, for the daemon and the client alike.
 * Call at the start of main(), before anything asks for ovs_rundir(). */
void
ctdp_command_use_rundir(void)
{
    setenv("OVS_RUNDIR", ctdp_command_rundir(), 0);
}

/* Returns the unixctl socket that ctdpd serves and ctdp-dpctl calls when
 * neither is told otherwise: "ctdpd.ctl" in ctdp's run directory. */
const char *
ctdp_command_default_socket(void)
{
    static char *path;

    if (!path) {
        path = xasprintf("%s/ctdpd.ctl", ctdp_command_rundir());
    }
    return path;
}
