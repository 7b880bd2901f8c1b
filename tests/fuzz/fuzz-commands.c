/* Fuzz target: control command lines through the command handlers.
 *
 * The daemon's handlers are unixctl callbacks, registered by
 * ctdp_command_register_all() and reached by OVS's unixctl server once it
 * has checked the argument count.  This target links with
 * unixctl_command_register(), unixctl_command_reply() and
 * unixctl_command_reply_error() wrapped (tests/fuzz/automake.mk), so that
 * registration fills a table here and replies land here, and calls the
 * handlers as the server would, without a socket.
 *
 * Each input gets a new datapath: two ports (1 and 2, pcap ports that
 * write to files in memory) under the default firewall flows.  Each line of the
 * input is a command line: a command as ctdp-dpctl names it (or its
 * unixctl name, such as dpctl/stream-read) and its arguments, separated
 * by tabs if the line has any, else by spaces.  Commands that reach
 * outside the process are not run: add-port (opens devices and files)
 * and add-flows (reads a file).
 *
 * Streams (ctdp-stream.h) outlive their command, as in the daemon, whose
 * main loop runs ctdp_stream_run(): a read waiting for output is answered
 * after CTDP_STREAM_POLL_MS, a stream nobody reads is closed after
 * CTDP_STREAM_IDLE_MS.  At the end of each input the target moves the
 * monotonic clock past both, twice (clock_gettime() is wrapped too), and
 * runs them, so that every stream is answered and gone before the
 * datapath whose tracker it dumps is destroyed.
 *
 * What must hold: every command that runs gets exactly one reply, its
 * own or, for a stream read, a late one. */
#include <config.h>

#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ctdp-command.h"
#include "ctdp-dp.h"
#include "ctdp-flows.h"
#include "ctdp-stream.h"
#include "fuzz-common.h"
#include "openvswitch/shash.h"
#include "ovs-rcu.h"
#include "unixctl.h"
#include "util.h"

#define MAX_ARGS 16
#define MAX_COMMANDS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void __wrap_unixctl_command_register(const char *name, const char *usage,
                                     int min_args, int max_args,
                                     unixctl_cb_func *cb, void *aux);
void __wrap_unixctl_command_reply(struct unixctl_conn *, const char *body);
void __wrap_unixctl_command_reply_error(struct unixctl_conn *,
                                        const char *error);
int __real_clock_gettime(clockid_t, struct timespec *);
int __wrap_clock_gettime(clockid_t, struct timespec *);

/* ---- The monotonic clock, moved forward by the target ------------------ */

static long long skipped_sec;   /* Added to CLOCK_MONOTONIC. */

int
__wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
    int retval = __real_clock_gettime(id, ts);

    if (!retval && id == CLOCK_MONOTONIC) {
        ts->tv_sec += __atomic_load_n(&skipped_sec, __ATOMIC_RELAXED);
    }
    return retval;
}

/* Lets the streams' timers expire, as the daemon's main loop would. */
static void
run_streams_later(void)
{
    long long skip = (CTDP_STREAM_POLL_MS + CTDP_STREAM_IDLE_MS) / 1000 + 1;

    for (int i = 0; i < 2; i++) {
        __atomic_add_fetch(&skipped_sec, skip, __ATOMIC_RELAXED);
        ctdp_stream_run();
    }
}

/* ---- unixctl, without a socket ----------------------------------------- */

struct command {
    int min_args, max_args;
    unixctl_cb_func *cb;
    void *aux;
};

static struct shash commands = SHASH_INITIALIZER(&commands);

/* One per command line of an input: the address is the "connection" the
 * handler replies to. */
struct conn {
    int n_replies;
};

static struct conn conns[MAX_COMMANDS];
static bool exiting;            /* What "exit" sets; nothing reads it. */
static char *port_specs[2];
static int port_fds[2];

void
__wrap_unixctl_command_register(const char *name, const char *usage OVS_UNUSED,
                                int min_args, int max_args,
                                unixctl_cb_func *cb, void *aux)
{
    struct command *c = shash_find_data(&commands, name);

    if (!c) {
        c = xmalloc(sizeof *c);
        shash_add(&commands, name, c);
    }
    *c = (struct command) { min_args, max_args, cb, aux };
}

static void
replied(struct unixctl_conn *conn_, const char *text)
{
    struct conn *conn = (struct conn *) conn_;

    ovs_assert(conn >= conns && conn < &conns[MAX_COMMANDS]);
    conn->n_replies++;
    if (text) {
        ovs_assert(strlen(text) < 64 * 1024 * 1024);
    }
}

void
__wrap_unixctl_command_reply(struct unixctl_conn *conn, const char *body)
{
    replied(conn, body);
}

void
__wrap_unixctl_command_reply_error(struct unixctl_conn *conn,
                                   const char *error)
{
    ovs_assert(error);
    replied(conn, error);
}

/* ---- The target -------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv OVS_UNUSED)
{
    fuzz_init();
    for (int i = 0; i < 2; i++) {
        char *file = fuzz_memfile("fuzz-commands", &port_fds[i]);

        port_specs[i] = xasprintf("p%d=pcap:tx=%s", i + 1, file);
        free(file);
    }
    return 0;
}

static void
add_port(struct ctdp_dp *dp, const char *spec)
{
    char *error = ctdp_dp_add_port(dp, spec);

    if (error) {
        ovs_fatal(0, "%s", error);
    }
}

static struct ctdp_dp *
make_dp(void)
{
    struct ctdp_dp *dp = ctdp_dp_create(0);
    size_t n;

    for (int i = 0; i < 2; i++) {
        ovs_assert(!ftruncate(port_fds[i], 0));
    }
    add_port(dp, port_specs[0]);
    add_port(dp, port_specs[1]);
    ovs_assert(!ctdp_flows_add_text(ctdp_dp_flows(dp), ctdp_dp_firewall_flows,
                                    "firewall", &n));
    ctdp_command_register_all(dp, &exiting);
    return dp;
}

/* Splits 'line' in place into at most MAX_ARGS words. */
static int
split(char *line, const char *argv[])
{
    const char *sep = strchr(line, '\t') ? "\t" : " ";
    char *save = NULL;
    int argc = 0;

    for (char *w = strtok_r(line, sep, &save); w && argc < MAX_ARGS;
         w = strtok_r(NULL, sep, &save)) {
        argv[argc++] = w;
    }
    return argc;
}

static const struct command *
find(const char *name)
{
    const struct ctdp_command *row = ctdp_command_find(name);

    if (!row) {
        row = ctdp_command_find_unixctl(name);
    }
    if (!row || !strcmp(row->name, "add-port")
        || !strcmp(row->name, "add-flows")) {
        return NULL;
    }
    return shash_find_data(&commands, row->unixctl);
}

static void
run_line(char *line, struct conn *conn)
{
    const char *argv[MAX_ARGS + 1];
    const struct command *c;
    int argc = split(line, argv);

    if (!argc || !(c = find(argv[0]))) {
        return;
    }
    /* As OVS's unixctl server: a handler sees the name it was registered
     * under. */
    argv[0] = ctdp_command_find(argv[0]) ? ctdp_command_find(argv[0])->unixctl
                                         : argv[0];
    argv[argc] = NULL;
    if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
        return;                 /* The unixctl server refuses it. */
    }
    conn->n_replies = 0;
    c->cb((struct unixctl_conn *) conn, argc, argv, c->aux);
    ovs_assert(conn->n_replies <= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    struct ctdp_dp *dp = make_dp();
    size_t n = 0;
    char *line;

    memset(conns, 0, sizeof conns);
    for (n = 0; n < MAX_COMMANDS && (line = fuzz_take_line(&in, '\n'));
         n++) {
        conns[n].n_replies = -1;        /* Not run. */
        run_line(line, &conns[n]);
        ctdp_stream_run();
        free(line);
    }
    if (n % 2) {
        run_streams_later();
    } else {
        /* As the daemon does when it exits: every stream ended at once.
         * The next input opens streams again. */
        ctdp_stream_close_all();
    }
    for (size_t i = 0; i < n; i++) {
        ovs_assert(conns[i].n_replies == -1 || conns[i].n_replies == 1);
    }
    ctdp_dp_destroy(dp);
    ovsrcu_quiesce();
    return 0;
}
