/* ctdpd: the ctdp daemon.
 *
 * Serves ctdp's control commands over OVS's unixctl protocol on a unix
 * socket, so that both ctdp-dpctl and `ovs-appctl -t SOCKET` talk to it. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "command-line.h"
#include "dirs.h"
#include "ctdp-command.h"
#include "daemon.h"
#include "fatal-signal.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdpd);

static char *parse_options(int argc, char *argv[]);
static void usage(void) OVS_NO_RETURN;
static void make_dir(const char *dir);
static unixctl_cb_func ctdpd_unixctl_exit;

int
main(int argc, char *argv[])
{
    struct unixctl_server *server;
    bool exiting = false;
    char *unixctl_path;
    int error;

    ovs_set_program_name(argv[0], CTDP_VERSION);
    ctdp_command_use_rundir();
    unixctl_path = parse_options(argc, argv);
    make_dir(ovs_rundir());
    fatal_ignore_sigpipe();

    daemonize_start(false);
    error = unixctl_server_create(unixctl_path, &server);
    if (error) {
        ovs_fatal(error, "cannot listen on %s", unixctl_path);
    }
    ctdp_command_register("exit", ctdpd_unixctl_exit, &exiting);
    daemonize_complete();
    VLOG_INFO("ctdpd %s serving %s", CTDP_VERSION, unixctl_path);

    while (!exiting) {
        unixctl_server_run(server);
        unixctl_server_wait(server);
        if (exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }
    VLOG_INFO("exiting");
    unixctl_server_destroy(server);
    free(unixctl_path);
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

/* Parses the command line and returns the socket path to serve (malloc'd). */
static char *
parse_options(int argc, char *argv[])
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);
    char *unixctl_path = NULL;

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_UNIXCTL:
            free(unixctl_path);
            unixctl_path = xstrdup(optarg);
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
    if (!unixctl_path) {
        unixctl_path = xstrdup(ctdp_command_default_socket());
    }
    return unixctl_path;
}

static void
usage(void)
{
    printf("%s: the ctdp userspace datapath daemon\n"
           "usage: %s [OPTIONS]\n"
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
