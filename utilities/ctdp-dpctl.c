/* ctdp-dpctl: the command-line client of ctdpd.
 *
 *   ctdp-dpctl [--unixctl=SOCKET] [--timeout=SECS] COMMAND [ARG...]
 *
 * Looks COMMAND up in the command table, checks its argument count, sends it
 * to the daemon over unixctl and prints the reply.  A command whose output
 * is a stream (dump-conntrack, ct-events) is read and printed a chunk at a
 * time (lib/ctdp-stream.h), until its end or until SIGINT or SIGTERM, which
 * close the stream and exit 0.  Every failure prints one line on stderr
 * and exits non-zero:
 *   1  the daemon could not be reached or the transaction failed;
 *   2  the command was refused (by this client or by the daemon). */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "command-line.h"
#include "ctdp-command.h"
#include "jsonrpc.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

enum {
    EXIT_UNREACHABLE = 1,
    EXIT_REFUSED = 2,
};

static void usage(void) OVS_NO_RETURN;
static void fail(int status, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3) OVS_NO_RETURN;

struct options {
    const char *unixctl;
    unsigned int timeout;
};

static int parse_options(int argc, char *argv[], struct options *);
static int run_command(const struct options *, const struct ctdp_command *,
                       int n_args, char *args[]);

int
main(int argc, char *argv[])
{
    const struct ctdp_command *cmd;
    struct options opts;
    char *error;
    int first;

    ovs_set_program_name(argv[0], CTDP_VERSION);
    ctdp_command_use_rundir();
    /* This program reports its own errors, one line each. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    first = parse_options(argc, argv, &opts);
    if (first >= argc) {
        fail(EXIT_REFUSED, "missing command (use --help for a list)");
    }
    cmd = ctdp_command_find(argv[first]);
    if (!cmd) {
        fail(EXIT_REFUSED, "unknown command '%s' (use --help for a list)",
             argv[first]);
    }
    error = ctdp_command_check_args(cmd, argc - first - 1);
    if (error) {
        fail(EXIT_REFUSED, "%s", error);
    }
    /* A command whose argument is FILE (add-flows) names a file that the
     * daemon reads, from its own directory: a relative name is made
     * absolute from this program's, as ovs-ofctl reads its files. */
    if (!strcmp(cmd->usage, "FILE") && argv[first + 1][0] != '/') {
        char *name = abs_file_name(NULL, argv[first + 1]);

        if (!name) {
            fail(EXIT_REFUSED, "%s: cannot tell the current directory",
                 argv[first + 1]);
        }
        argv[first + 1] = name;
    }
    return run_command(&opts, cmd, argc - first - 1, argv + first + 1);
}

/* Sends 'method' with its arguments on 'client' and returns the result;
 * prints the daemon's error (one line) or the failure and exits on
 * either. */
static char *
transact(struct jsonrpc *client, const struct options *opts,
         const char *method, int n_args, char *args[])
{
    char *result = NULL, *reply_error = NULL;
    int error;

    error = unixctl_client_transact(client, CONST_CAST(char *, method),
                                    n_args, args, &result, &reply_error);
    if (error) {
        fail(EXIT_UNREACHABLE, "%s: %s", opts->unixctl,
             error == EOF ? "connection closed by ctdpd"
                          : ovs_strerror(error));
    }
    if (reply_error) {
        /* The daemon's message may end in a newline; one line is printed. */
        reply_error[strcspn(reply_error, "\n")] = '\0';
        fail(EXIT_REFUSED, "%s", reply_error);
    }
    return result ? result : xstrdup("");
}

static volatile sig_atomic_t interrupted;

static void
interrupt(int sig OVS_UNUSED)
{
    interrupted = 1;
}

/* Prints stream 'id' chunk by chunk until its end, or until a signal asks
 * to stop: the daemon answers every read within CTDP_STREAM_POLL_MS, so a
 * signal is seen that soon, and the stream is then closed (a stream that
 * could not be closed is reaped by the daemon; stopping is still a
 * success). */
static void
drain_stream(struct jsonrpc *client, const struct options *opts, char *id)
{
    char *result = NULL, *error = NULL;

    while (!interrupted) {
        char *chunk = transact(client, opts, "dpctl/stream-read", 1, &id);
        const char *nl = strchr(chunk, '\n');
        bool end = !strncmp(chunk, "end\n", 4);

        fputs(nl ? nl + 1 : "", stdout);
        fflush(stdout);
        free(chunk);
        if (end) {
            return;
        }
    }
    unixctl_client_transact(client, CONST_CAST(char *, "dpctl/stream-close"),
                            1, &id, &result, &error);
    free(result);
    free(error);
}

/* Sends 'cmd' with its arguments and prints the reply: the result on stdout,
 * or the daemon's error on stderr as one line. */
static int
run_command(const struct options *opts, const struct ctdp_command *cmd,
            int n_args, char *args[])
{
    struct jsonrpc *client;
    char *result;
    int error;

    ctl_timeout_setup(opts->timeout);
    error = unixctl_client_create(opts->unixctl, &client);
    if (error) {
        fail(EXIT_UNREACHABLE, "cannot connect to %s: %s (is ctdpd running?)",
             opts->unixctl, ovs_strerror(error));
    }
    if (cmd->stream) {
        char **stream_args = xmalloc((n_args + 1) * sizeof *stream_args);
        struct sigaction sa = { .sa_handler = interrupt };

        /* Before the stream opens, so that no signal leaves it unread. */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        stream_args[0] = "--stream";
        memcpy(&stream_args[1], args, n_args * sizeof *args);
        result = transact(client, opts, cmd->unixctl, n_args + 1,
                          stream_args);
        free(stream_args);
        result[strcspn(result, "\n")] = '\0';
        drain_stream(client, opts, result);
    } else {
        result = transact(client, opts, cmd->unixctl, n_args, args);
        fputs(result, stdout);
    }
    free(result);
    jsonrpc_close(client);
    return 0;
}

/* Parses options into 'opts' and returns the index of the command word. */
static int
parse_options(int argc, char *argv[], struct options *opts)
{
    static const struct option long_options[] = {
        {"unixctl", required_argument, NULL, 'u'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };

    opts->unixctl = ctdp_command_default_socket();
    opts->timeout = 0;
    opterr = 0;                 /* Errors are reported by fail(), below. */
    for (;;) {
        /* '+': stop at the command word, so its arguments may start with
         * '-' (e.g. "dump-conntrack -m"). */
        int c = getopt_long(argc, argv, "+u:T:hV", long_options, NULL);

        if (c == -1) {
            return optind;
        }
        switch (c) {
        case 'u':
            opts->unixctl = optarg;
            break;
        case 'T':
            if (!str_to_uint(optarg, 10, &opts->timeout) || !opts->timeout) {
                fail(EXIT_REFUSED, "--timeout needs a positive number of "
                     "seconds, not '%s'", optarg);
            }
            break;
        case 'h':
            usage();
        case 'V':
            ovs_print_version(0, 0);
            exit(EXIT_SUCCESS);
        case '?':
            fail(EXIT_REFUSED, "unrecognized or incomplete option '%s' "
                 "(use --help for help)", argv[optind - 1]);
        default:
            OVS_NOT_REACHED();
        }
    }
}

static void
fail(int status, const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s: ", program_name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(status);
}

static void
usage(void)
{
    printf("%s: the ctdp command-line client\n"
           "usage: %s [OPTIONS] COMMAND [ARG...]\n"
           "\nCommands:\n", program_name, program_name);
    ctdp_command_print_help(stdout);
    printf("\nOptions:\n"
           "  -u, --unixctl=SOCKET  ctdpd's control socket (default: %s)\n"
           "  -T, --timeout=SECS    give up after SECS seconds\n"
           "  -h, --help            display this help message\n"
           "  -V, --version         display version information\n",
           ctdp_command_default_socket());
    exit(EXIT_SUCCESS);
}
