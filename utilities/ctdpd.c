/* ctdpd: the ctdp daemon.
 *
 * Runs the datapath (ports from --port, flows from --flows or the default
 * firewall, which --masquerade makes source-NAT) and serves ctdp's control
 * commands over OVS's unixctl protocol on a unix socket, so that both
 * ctdp-dpctl and `ovs-appctl -t SOCKET` talk to it.
 *
 * With --replay it serves nothing: it feeds the pcap ports' captures
 * through the flows to their end, prints the conntrack table and the
 * tracker's statistics, and exits (docs/REPLAY.md). */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command-line.h"
#include "dirs.h"
#include "ctdp-command.h"
#include "ctdp-ct.h"
#include "ctdp-ct-format.h"
#include "ctdp-dp.h"
#include "ctdp-flows.h"
#include "ctdp-port.h"
#include "ctdp-stream.h"
#include "dummy.h"
#include "daemon.h"
#include "fatal-signal.h"
#include "netdev.h"
#include "packets.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdpd);

/* What the command line asks for. */
struct options {
    char *unixctl;              /* Socket to serve. */
    char **ports;               /* --port specs. */
    size_t n_ports;
    const char *flows;          /* --flows file, or NULL. */
    char *masquerade;           /* --masquerade's checked range, or NULL. */
    int n_threads;              /* --n-threads; 0: one per port. */
    unsigned int max_conns;     /* --max-conns; 0: the tracker's default. */
    bool replay;                /* --replay: replay the captures, print,
                                 * exit. */
};

static void parse_options(int argc, char *argv[], struct options *);
static char *parse_masquerade(const char *arg);
static void configure(struct ctdp_dp *, const struct options *);
static size_t configure_flows(struct ctdp_dp *, const struct options *);
static int replay(const struct options *);
static void usage(void) OVS_NO_RETURN;
static void make_dir(const char *dir);

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
    /* netdev-linux probes for OVS's kernel datapath, which ctdp never
     * uses, and says at INFO that it is missing; -v can still raise it. */
    vlog_set_levels(vlog_module_from_name("dpif_netlink"),
                    VLF_ANY_DESTINATION, VLL_WARN);
    parse_options(argc, argv, &opts);
    if (opts.replay) {
        return replay(&opts);
    }
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
    dp = ctdp_dp_create(opts.n_threads);
    configure(dp, &opts);
    ctdp_command_register_all(dp, &exiting);
    daemonize_complete();
    VLOG_INFO("ctdpd %s serving %s", CTDP_VERSION, opts.unixctl);

    while (!exiting) {
        unixctl_server_run(server);
        ctdp_stream_run();
        ctdp_dp_run(dp);
        netdev_run();           /* Notices MTU and link changes. */
        unixctl_server_wait(server);
        ctdp_stream_wait();
        ctdp_dp_wait(dp);
        netdev_wait();
        if (exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }
    VLOG_INFO("exiting");
    ctdp_stream_close_all();    /* Streams hold dumps and listeners. */
    ctdp_dp_destroy(dp);
    unixctl_server_destroy(server);
    free(opts.unixctl);
    free(opts.ports);
    free(opts.masquerade);
    return 0;
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

/* Adds the flows and ports the command line asks for; any error is fatal,
 * before the daemon detaches, so that a bad --port or --flows is reported
 * to whoever started it. */
static void
configure(struct ctdp_dp *dp, const struct options *opts)
{
    size_t n;

    /* Before the ports, so that no packet meets another limit, or no
     * flows: a live port receives as soon as it is added. */
    if (opts->max_conns) {
        ctdp_ct_set_max_conns(ctdp_dp_ct(dp), opts->max_conns);
    }
    n = configure_flows(dp, opts);
    for (size_t i = 0; i < opts->n_ports; i++) {
        char *error = ctdp_dp_add_port(dp, opts->ports[i]);

        if (error) {
            ovs_fatal(0, "--port: %s", error);
        }
    }
    /* Once the ports are good: a bad one is then the only line. */
    if (opts->masquerade) {
        VLOG_INFO("%zu flows from the default firewall, masquerading IPv4 "
                  "as %s", n, opts->masquerade);
    } else {
        VLOG_INFO("%zu flows from %s", n, opts->flows
                                          ? opts->flows
                                          : "the default firewall");
    }
}

/* Loads the flows of --flows, or the default firewall, with or without
 * --masquerade; returns how many. */
static size_t
configure_flows(struct ctdp_dp *dp, const struct options *opts)
{
    size_t n;
    char *error;

    if (opts->flows) {
        error = ctdp_flows_add_file(ctdp_dp_flows(dp), opts->flows, &n);
    } else if (opts->masquerade) {
        char *text = ctdp_dp_masquerade_flows(opts->masquerade);

        error = ctdp_flows_add_text(ctdp_dp_flows(dp), text,
                                    "masquerade flows", &n);
        free(text);
        if (error) {
            ovs_fatal(0, "--masquerade: %s", error);
        }
    } else {
        error = ctdp_flows_add_text(ctdp_dp_flows(dp),
                                    ctdp_dp_firewall_flows,
                                    "default flows", &n);
    }
    if (error) {
        ovs_fatal(0, "--flows: %s", error);
    }
    return n;
}

/* --replay accepts pcap ports in replay mode only: live ports, pcap ports
 * with mode=poll among them, would make a replay depend on what happens
 * to arrive, or on which thread is faster, while it runs. */
static void
check_replay_ports(const struct options *opts)
{
    for (size_t i = 0; i < opts->n_ports; i++) {
        struct ctdp_port_spec spec;
        char *error = ctdp_port_parse(opts->ports[i], &spec);

        if (error) {
            ovs_fatal(0, "--port: %s", error);
        }
        if (strcmp(spec.type, "pcap")) {
            ovs_fatal(0, "--port: port %s: --replay takes pcap ports only, "
                      "not %s", spec.name, spec.type);
        }
        if (ctdp_port_spec_is_live(&spec)) {
            ovs_fatal(0, "--port: port %s: mode=poll is for a running "
                      "daemon; --replay feeds captures in timestamp order",
                      spec.name);
        }
        ctdp_port_spec_destroy(&spec);
    }
}

/* Prints every conn, as dump-conntrack -s does but sorted, then the
 * tracker's statistics, at 'now' (the last packet's time on the tracker's
 * clock, which followed the captures: their times, unless they were older
 * than the clock and shifted, which the wall offset undoes). */
static void
print_conntrack(struct ctdp_dp *dp, long long now)
{
    struct ctdp_ct_format f = { .stats = true, .now = now };
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ctdp_ct_stats stats;
    struct ctdp_ct_dump *dump;
    struct ctdp_ct_entry e;
    const char *line;
    size_t i;

    ctdp_dp_now(dp, &f.wall_offset);
    dump = ctdp_ct_dump_start(ctdp_dp_ct(dp), -1, now);
    while (ctdp_ct_dump_next(dump, &e)) {
        ds_clear(&s);
        ctdp_ct_format_entry(&s, &e, &f);
        svec_add(&lines, ds_cstr(&s));
    }
    ctdp_ct_dump_done(dump);
    svec_sort(&lines);
    SVEC_FOR_EACH (i, line, &lines) {
        puts(line);
    }
    ds_clear(&s);
    ctdp_ct_get_stats(ctdp_dp_ct(dp), &stats);
    ctdp_ct_format_stats(&s, &stats);
    puts(ds_cstr(&s));
    svec_destroy(&lines);
    ds_destroy(&s);
}

/* What --replay shows on a terminal while it runs. */
struct progress {
    struct ctdp_dp *dp;
    struct timespec start, last;
    bool shown;
};

static double
seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Rewrites the progress line (packets fed, their rate, conns) at most five
 * times a second. */
static void
show_progress(void *p_, uint64_t n_fed)
{
    struct progress *p = p_;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds_between(&p->last, &now) < 0.2) {
        return;
    }
    p->last = now;
    p->shown = true;
    fprintf(stderr, "\r\033[Kreplay: %"PRIu64" packets, %.2f Mpps, %u conns",
            n_fed, n_fed / seconds_between(&p->start, &now) / 1e6,
            ctdp_ct_n_conns(ctdp_dp_ct(p->dp)));
}

/* The --replay mode: no socket, no detaching; any error is one line on
 * stderr and exit status 1.  On a terminal, stderr shows the progress of a
 * replay that takes long enough, and the line is cleared at the end. */
static int
replay(const struct options *opts)
{
    struct progress progress = { .shown = false };
    bool tty = isatty(STDERR_FILENO);
    struct ctdp_dp *dp;
    long long now;
    char *error;

    if (get_detach()) {
        ovs_fatal(0, "--replay runs in the foreground: drop --detach");
    }
    if (opts->n_threads) {
        ovs_fatal(0, "--replay feeds the captures from one thread: drop "
                  "--n-threads");
    }
    check_replay_ports(opts);
    dp = ctdp_dp_create(0);
    configure(dp, opts);
    progress.dp = dp;
    clock_gettime(CLOCK_MONOTONIC, &progress.start);
    progress.last = progress.start;
    error = ctdp_dp_replay(dp, &now, tty ? show_progress : NULL, &progress);
    if (progress.shown) {
        fputs("\r\033[K", stderr);
    }
    if (error) {
        ovs_fatal(0, "--replay: %s", error);
    }
    print_conntrack(dp, now);
    ctdp_dp_destroy(dp);
    free(opts->unixctl);
    free(opts->ports);
    free(opts->masquerade);
    return fflush(stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Parses the command line into 'opts'. */
static void
parse_options(int argc, char *argv[], struct options *opts)
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        OPT_PORT,
        OPT_FLOWS,
        OPT_N_THREADS,
        OPT_MAX_CONNS,
        OPT_REPLAY,
        OPT_MASQUERADE,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"port", required_argument, NULL, OPT_PORT},
        {"flows", required_argument, NULL, OPT_FLOWS},
        {"n-threads", required_argument, NULL, OPT_N_THREADS},
        {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
        {"replay", no_argument, NULL, OPT_REPLAY},
        {"masquerade", required_argument, NULL, OPT_MASQUERADE},
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
        case OPT_N_THREADS: {
            unsigned int n;

            if (!str_to_uint(optarg, 10, &n) || n < 1 || n > 64) {
                ovs_fatal(0, "--n-threads wants a number from 1 to 64, "
                          "not '%s'", optarg);
            }
            opts->n_threads = n;
            break;
        }
        case OPT_MAX_CONNS:
            if (!str_to_uint(optarg, 10, &opts->max_conns)
                || !opts->max_conns) {
                ovs_fatal(0, "--max-conns wants a number from 1 to %u, "
                          "not '%s'", UINT_MAX, optarg);
            }
            break;
        case OPT_FLOWS:
            opts->flows = optarg;
            break;
        case OPT_MASQUERADE:
            free(opts->masquerade);
            opts->masquerade = parse_masquerade(optarg);
            break;
        case OPT_REPLAY:
            /* Keep stdout and stderr for the result and errors; a -v after
             * --replay still turns logging back on. */
            opts->replay = true;
            vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
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
    if (opts->masquerade && opts->flows) {
        ovs_fatal(0, "--masquerade changes the default firewall: it cannot "
                  "go with --flows (write the nat() actions in the flows "
                  "instead)");
    }
    if (!opts->unixctl) {
        opts->unixctl = xstrdup(ctdp_command_default_socket());
    }
}

/* Parses the IPv4 address 'text' (without its end at 'end' if nonnull)
 * into '*ip'; false if it is none or no unicast address. */
static bool
parse_masquerade_addr(const char *text, const char *end, ovs_be32 *ip)
{
    char *s = end ? xmemdup0(text, end - text) : xstrdup(text);
    bool ok = ip_parse(s, ip) && *ip && !ip_is_multicast(*ip)
              && *ip != htonl(UINT32_MAX);

    free(s);
    return ok;
}

/* Parses a port of --masquerade's range, from 1 to 65535. */
static bool
parse_masquerade_port(const char *text, const char *end, unsigned int *port)
{
    char *s = end ? xmemdup0(text, end - text) : xstrdup(text);
    bool ok = str_to_uint(s, 10, port) && *port >= 1 && *port <= 65535;

    free(s);
    return ok;
}

/* Checks --masquerade's argument, ADDR[-ADDR][:PORT[-PORT]] with IPv4
 * addresses, and returns a copy of it for nat(src=...); any error is
 * fatal, one line. */
static char *
parse_masquerade(const char *arg)
{
    const char *colon = strchr(arg, ':');
    const char *addrs_end = colon ? colon : arg + strlen(arg);
    const char *dash = memchr(arg, '-', addrs_end - arg);
    ovs_be32 min_ip, max_ip;

    if (strchr(arg, '[') || (colon && strchr(colon + 1, ':'))) {
        ovs_fatal(0, "--masquerade: '%s': only IPv4 is masqueraded "
                  "(ADDR[-ADDR][:PORT[-PORT]])", arg);
    }
    if (!parse_masquerade_addr(arg, dash ? dash : addrs_end, &min_ip)
        || (dash && !parse_masquerade_addr(dash + 1, addrs_end, &max_ip))) {
        ovs_fatal(0, "--masquerade: '%s' is not ADDR[-ADDR][:PORT[-PORT]] "
                  "with unicast IPv4 addresses", arg);
    }
    if (dash && ntohl(max_ip) < ntohl(min_ip)) {
        ovs_fatal(0, "--masquerade: '%s': the address range ends before it "
                  "starts", arg);
    }
    if (colon) {
        const char *ports = colon + 1;
        const char *pdash = strchr(ports, '-');
        unsigned int min_port, max_port;

        if (!parse_masquerade_port(ports, pdash, &min_port)
            || (pdash && !parse_masquerade_port(pdash + 1, NULL,
                                                &max_port))) {
            ovs_fatal(0, "--masquerade: '%s': ports must be numbers from 1 "
                      "to 65535 (ADDR[-ADDR][:PORT[-PORT]])", arg);
        }
        if (pdash && max_port < min_port) {
            ovs_fatal(0, "--masquerade: '%s': the port range ends before it "
                      "starts", arg);
        }
    }
    return xstrdup(arg);
}

static void
usage(void)
{
    printf("%s: the ctdp userspace datapath daemon\n"
           "usage: %s [OPTIONS]\n"
           "\nDatapath options:\n"
           "  --port=NAME=TYPE[:OPTIONS]\n"
           "                     add a port (TYPE: system, tap, dummy,\n"
           "                     pcap; OPTIONS: ofport=N and the netdev's\n"
           "                     own, or for pcap rx=IN.pcap,tx=OUT.pcap,\n"
           "                     mode=replay|poll);\n"
           "                     repeat for more ports, numbered from 1\n"
           "  --n-threads=N      N receive threads shared by the ports\n"
           "                     (default: one thread per port)\n"
           "  --max-conns=N      the conntrack table's limit from the\n"
           "                     start (as ct-set-maxconns)\n"
           "  --flows=FILE       flows in OVS syntax, one per line\n"
           "                     (default: a stateful firewall, port 1\n"
           "                     inside, port 2 outside)\n"
           "  --masquerade=ADDR[-ADDR][:PORT[-PORT]]\n"
           "                     the default firewall, with the IPv4\n"
           "                     conns from inside source-NATed to ADDR\n"
           "                     (IPv6 is not translated)\n"
           "  --replay           feed the pcap ports' captures to their\n"
           "                     end, print the conntrack table and the\n"
           "                     tracker's statistics, and exit\n"
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
