/* ctdpd: the ctdp daemon.
 *
 * Runs the datapath (ports from --port, flows from --flows or the default
 * firewall) and serves ctdp's control commands over OVS's unixctl protocol
 * on a unix socket, so that both ctdp-dpctl and `ovs-appctl -t SOCKET`
 * talk to it. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command-line.h"
#include "dirs.h"
#include "ctdp-command.h"
#include "ctdp-dp.h"
#include "ctdp-flows.h"
#include "dummy.h"
#include "daemon.h"
#include "fatal-signal.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdpd);

/* What the command line asks for. */
struct options {
    char *unixctl;              /* Socket to serve. */
    char **ports;               /* --port specs. */
    size_t n_ports;
    const char *flows;          /* --flows file, or NULL. */
};

static void parse_options(int argc, char *argv[], struct options *);
static void configure(struct ctdp_dp *, const struct options *);
static void usage(void) OVS_NO_RETURN;
static void make_dir(const char *dir);
static unixctl_cb_func ctdpd_unixctl_exit;

int
main(int argc, char *argv[])
{
    struct unixctl_server *server;
    struct options opts;
    bool exiting = false;
    struct ctdp_dp *dp;
    int error;

    ovs_set_program_name(argv[0], CTDP_VERSION);
    ctdp_command_use_rundir();
    parse_options(argc, argv, &opts);
    make_dir(ovs_rundir());
    fatal_ignore_sigpipe();
    /* Dummy ports, and OVS's time/stop and time/warp commands, which move
     * the tracker's clock (for tests). */
    netdev_dummy_register(DUMMY_OVERRIDE_NONE);
    timeval_dummy_register();

    daemonize_start(false);
    error = unixctl_server_create(opts.unixctl, &server);
    if (error) {
        ovs_fatal(error, "cannot listen on %s", opts.unixctl);
    }
    dp = ctdp_dp_create();
    configure(dp, &opts);
    ctdp_command_register("exit", ctdpd_unixctl_exit, &exiting);
    ctdp_dp_register_commands(dp);
    daemonize_complete();
    VLOG_INFO("ctdpd %s serving %s", CTDP_VERSION, opts.unixctl);

    while (!exiting) {
        unixctl_server_run(server);
        ctdp_dp_run(dp);
        unixctl_server_wait(server);
        ctdp_dp_wait(dp);
        if (exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }
    VLOG_INFO("exiting");
    ctdp_dp_destroy(dp);
    unixctl_server_destroy(server);
    free(opts.unixctl);
    free(opts.ports);
    return 0;
}

static void
ctdpd_unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;

    *exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* Makes sure the run directory exists, so that the default socket and
 * pidfile work on a machine that never ran ctdpd. */
static void
make_dir(const char *dir)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        ovs_fatal(errno, "cannot create directory %s", dir);
    }
}

/* Adds the ports and flows the command line asks for; any error is fatal,
 * before the daemon detaches, so that a bad --port or --flows is reported
 * to whoever started it. */
static void
configure(struct ctdp_dp *dp, const struct options *opts)
{
    size_t n;
    char *error;

    for (size_t i = 0; i < opts->n_ports; i++) {
        error = ctdp_dp_add_port(dp, opts->ports[i]);
        if (error) {
            ovs_fatal(0, "--port: %s", error);
        }
    }
    if (opts->flows) {
        error = ctdp_flows_add_file(ctdp_dp_flows(dp), opts->flows, &n);
    } else {
        error = ctdp_flows_add_text(ctdp_dp_flows(dp),
                                    ctdp_dp_firewall_flows,
                                    "default flows", &n);
    }
    if (error) {
        ovs_fatal(0, "--flows: %s", error);
    }
    VLOG_INFO("%zu flows from %s", n, opts->flows ? opts->flows
                                                  : "the default firewall");
}

/* Parses the command line into 'opts'. */
static void
parse_options(int argc, char *argv[], struct options *opts)
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        OPT_PORT,
        OPT_FLOWS,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"port", required_argument, NULL, OPT_PORT},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    memset(opts, 0, sizeof *opts);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_UNIXCTL:
            free(opts->unixctl);
            opts->unixctl = xstrdup(optarg);
            break;
        case OPT_PORT:
            opts->ports = xrealloc(opts->ports,
                                   (opts->n_ports + 1) * sizeof *opts->ports);
            opts->ports[opts->n_ports++] = optarg;
            break;
        case OPT_FLOWS:
            opts->flows = optarg;
            break;
        case 'h':
            usage();
        case 'V':
            ovs_print_version(0, 0);
            exit(EXIT_SUCCESS);
        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);
    if (optind != argc) {
        ovs_fatal(0, "unexpected argument '%s' (use --help for help)",
                  argv[optind]);
    }
    if (!opts->unixctl) {
        opts->unixctl = xstrdup(ctdp_command_default_socket());
    }
}

static void
usage(void)
{
    printf("%s: the ctdp userspace datapath daemon\n"
           "usage: %s [OPTIONS]\n"
           "\nDatapath options:\n"
           "  --port=NAME=TYPE[:OPTIONS]\n"
           "                     add a port (TYPE: system, tap, dummy;\n"
           "                     OPTIONS: ofport=N and the netdev's own);\n"
           "                     repeat for more ports, numbered from 1\n"
           "  --flows=FILE       flows in OVS syntax, one per line\n"
           "                     (default: a stateful firewall, port 1\n"
           "                     inside, port 2 outside)\n"
           "\nControl options:\n"
           "  --unixctl=SOCKET   serve control commands on SOCKET\n"
           "                     (default: %s)\n",
           program_name, program_name, ctdp_command_default_socket());
    daemon_usage();
    vlog_usage();
    printf("\nOther options:\n"
           "  -h, --help         display this help message\n"
           "  -V, --version      display version information\n");
    exit(EXIT_SUCCESS);
}
