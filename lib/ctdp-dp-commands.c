/* The datapath's unixctl commands: ports, flows, injection, and the
 * conntrack dump (ctdp-dp-commands.h). */
#include <config.h>
#include "ctdp-dp-commands.h"

#include <string.h>
#include "ctdp-command.h"
#include "ctdp-ct.h"
#include "ctdp-ct-format.h"
#include "ctdp-dp.h"
#include "ctdp-flows.h"
#include "ctdp-stream.h"
#include "unixctl.h"
#include "util.h"

/* Replies to 'conn' with 'error' (freeing it) or with 'ok'. */
static void
reply(struct unixctl_conn *conn, char *error, const char *ok)
{
    if (error) {
        ctdp_command_reply_error(conn, 0, "%s", error);
        free(error);
    } else {
        unixctl_command_reply(conn, ok);
    }
}

void
ctdp_dp_cmd_add_port(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *dp)
{
    reply(conn, ctdp_dp_add_port(dp, argv[1]), NULL);
}

void
ctdp_dp_cmd_del_port(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *dp)
{
    reply(conn, ctdp_dp_del_port(dp, argv[1]), NULL);
}

void
ctdp_dp_cmd_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *dp)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ctdp_dp_show(dp, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

void
ctdp_dp_cmd_dump_dp_flows(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *dp)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ctdp_dp_dump_dp_flows(dp, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

void
ctdp_dp_cmd_add_flow(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *dp)
{
    reply(conn, ctdp_flows_add(ctdp_dp_flows(dp), argv[1]), NULL);
}

void
ctdp_dp_cmd_add_flows(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[], void *dp)
{
    size_t n;

    reply(conn, ctdp_flows_add_file(ctdp_dp_flows(dp), argv[1], &n), NULL);
}

void
ctdp_dp_cmd_del_flows(struct unixctl_conn *conn, int argc, const char *argv[],
                      void *dp)
{
    size_t n;

    reply(conn, ctdp_flows_del(ctdp_dp_flows(dp), argc > 1 ? argv[1] : NULL,
                               &n), NULL);
}

void
ctdp_dp_cmd_dump_flows(struct unixctl_conn *conn, int argc, const char *argv[],
                       void *dp)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    unsigned int table;
    int n = -1;

    if (argc > 1) {
        if (strncmp(argv[1], "table=", 6)
            || !str_to_uint(argv[1] + 6, 10, &table) || table > 254) {
            ctdp_command_reply_error(conn, 0, "dump-flows: want table=N "
                                     "with N from 0 to 254");
            return;
        }
        n = table;
    }
    ctdp_flows_dump(ctdp_dp_flows(dp), n, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

void
ctdp_dp_cmd_inject(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[], void *dp)
{
    reply(conn, ctdp_dp_inject(dp, argv[1], argv[2]), NULL);
}

/* Reads dump-conntrack's arguments: -m, -s, zone=N and --format=ovs|proc,
 * in any order. */
static char *
parse_dump_args(int argc, const char *argv[], struct ctdp_ct_format *f,
                int *zone, bool *proc)
{
    *zone = -1;
    *proc = false;
    for (int i = 1; i < argc; i++) {
        unsigned int z;

        if (!strcmp(argv[i], "--format=proc")) {
            *proc = true;
        } else if (!strcmp(argv[i], "--format=ovs")) {
            *proc = false;
        } else if (!strcmp(argv[i], "-m")) {
            f->verbose = true;
        } else if (!strcmp(argv[i], "-s")) {
            f->stats = true;
        } else if (!strncmp(argv[i], "zone=", 5)) {
            if (!str_to_uint(argv[i] + 5, 10, &z) || z > UINT16_MAX) {
                return xasprintf("invalid zone: %s", argv[i] + 5);
            }
            *zone = z;
        } else {
            return xasprintf("unknown argument: %s (want -m, -s, zone=N, "
                             "--format=ovs|proc)", argv[i]);
        }
    }
    return NULL;
}

/* A dump in progress: the iterator and how to print. */
struct dump_stream {
    struct ctdp_ct_dump *dump;
    struct ctdp_ct_format format;
    bool proc;
};

static enum ctdp_stream_status
dump_stream_read(void *ds_, struct ds *out, size_t max)
{
    struct dump_stream *d = ds_;
    struct ctdp_ct_entry e;

    while (out->length < max) {
        if (!ctdp_ct_dump_next(d->dump, &e)) {
            return CTDP_STREAM_END;
        }
        if (d->proc) {
            ctdp_ct_format_proc(out, &e, d->format.now);
        } else {
            ctdp_ct_format_entry(out, &e, &d->format);
        }
        ds_put_char(out, '\n');
    }
    return CTDP_STREAM_MORE;
}

static void
dump_stream_destroy(void *d_)
{
    struct dump_stream *d = d_;

    ctdp_ct_dump_done(d->dump);
    free(d);
}

static const struct ctdp_stream_class dump_stream_class = {
    .read = dump_stream_read,
    .destroy = dump_stream_destroy,
};

/* dump-conntrack: as a stream when asked, otherwise as one reply (what
 * ovs-appctl can read), built by the same producer. */
void
ctdp_dp_cmd_dump_conntrack(struct unixctl_conn *conn, int argc,
                           const char *argv[], void *dp)
{
    struct dump_stream *d = xzalloc(sizeof *d);
    bool stream = ctdp_stream_requested(&argc, &argv);
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error;
    int zone;

    error = parse_dump_args(argc, argv, &d->format, &zone, &d->proc);
    if (error) {
        free(d);
        reply(conn, error, NULL);
        return;
    }
    d->format.now = ctdp_dp_now(dp, &d->format.wall_offset);
    d->dump = ctdp_ct_dump_start(ctdp_dp_ct(dp), zone, d->format.now);
    if (stream) {
        ctdp_stream_open(conn, &dump_stream_class, d);
        return;
    }
    dump_stream_read(d, &s, SIZE_MAX);
    dump_stream_destroy(d);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* dump-conntrack-exp: the expectations, few enough for one reply. */
void
ctdp_dp_cmd_dump_conntrack_exp(struct unixctl_conn *conn, int argc,
                               const char *argv[], void *dp)
{
    struct ctdp_ct_expect_entry *entries;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ctdp_ct_format f = { 0 };
    char *error;
    bool proc;
    size_t n;
    int zone;

    error = parse_dump_args(argc, argv, &f, &zone, &proc);
    if (error) {
        reply(conn, error, NULL);
        return;
    }
    f.now = ctdp_dp_now(dp, &f.wall_offset);
    n = ctdp_ct_expect_dump(ctdp_dp_ct(dp), zone, f.now, &entries);
    for (size_t i = 0; i < n; i++) {
        if (proc) {
            ctdp_ct_format_expect_proc(&s, &entries[i], f.now);
        } else {
            ctdp_ct_format_expect(&s, &entries[i], &f);
        }
        ds_put_char(&s, '\n');
    }
    free(entries);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* flush-conntrack-exp [zone=N]. */
void
ctdp_dp_cmd_flush_conntrack_exp(struct unixctl_conn *conn, int argc,
                                const char *argv[], void *dp)
{
    unsigned int z;
    int zone = -1;

    if (argc > 1) {
        if (strncmp(argv[1], "zone=", 5)
            || !str_to_uint(argv[1] + 5, 10, &z) || z > UINT16_MAX) {
            reply(conn, xasprintf("invalid zone: %s", argv[1]), NULL);
            return;
        }
        zone = z;
    }
    ctdp_ct_expect_flush(ctdp_dp_ct(dp), zone, ctdp_dp_now(dp, NULL));
    unixctl_command_reply(conn, NULL);
}
