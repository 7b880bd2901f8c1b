/* The ipf-* commands of dpctl (ctdp-ipf-commands.h).
 *
 * Replies and errors read as Open vSwitch's dpctl.c words them
 * ("setting maximum fragments successful", "parameter missing: 'v4' for
 * IPv4 or 'v6' for IPv6 (Invalid argument)"); a command that fails
 * changes nothing.  ipf-get-status prints OVS's lines in OVS's order, with
 * ctdp's other bounds after OVS's settings ("num frag"), each version's
 * other counters after OVS's counters of that version, and with -m the
 * pending queues in OVS's shape, less the recirc_id that ctdp does not
 * have. */
#include <config.h>
#include "ctdp-ipf-commands.h"

#include <errno.h>
#include <string.h>
#include "ctdp-command.h"
#include "ctdp-dp.h"
#include "ctdp-ipf.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "unixctl.h"
#include "util.h"

/* Parses "v4" or "v6". */
static bool
parse_version(const char *arg, enum ctdp_ipf_version *v)
{
    if (!strcmp(arg, "v4")) {
        *v = CTDP_IPF_V4;
    } else if (!strcmp(arg, "v6")) {
        *v = CTDP_IPF_V6;
    } else {
        return false;
    }
    return true;
}

static void
set_enabled(struct unixctl_conn *conn, const char *arg, struct ctdp_dp *dp,
            bool on)
{
    enum ctdp_ipf_version v;

    if (!parse_version(arg, &v)) {
        ctdp_command_reply_error(conn, EINVAL, "parameter missing: 'v4' for "
                                 "IPv4 or 'v6' for IPv6");
        return;
    }
    ctdp_ipf_set_enabled(ctdp_dp_ipf(dp), v, on);
    unixctl_command_reply(conn, on
                          ? "enabling fragmentation reassembly successful"
                          : "disabling fragmentation reassembly successful");
}

void
ctdp_ipf_cmd_set_enabled(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[], void *dp)
{
    set_enabled(conn, argv[1], dp, true);
}

void
ctdp_ipf_cmd_set_disabled(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[], void *dp)
{
    set_enabled(conn, argv[1], dp, false);
}

void
ctdp_ipf_cmd_set_min_frag(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[], void *dp)
{
    enum ctdp_ipf_version v;
    unsigned int size;
    int error;

    if (!parse_version(argv[1], &v)) {
        ctdp_command_reply_error(conn, EINVAL, "parameter missing: v4 for "
                                 "IPv4 or v6 for IPv6");
        return;
    }
    if (!str_to_uint(argv[2], 10, &size)) {
        ctdp_command_reply_error(conn, EINVAL, "parameter missing for "
                                 "minimum fragment size");
        return;
    }
    error = ctdp_ipf_set_min_frag(ctdp_dp_ipf(dp), v, size);
    if (error) {
        ctdp_command_reply_error(conn, error, "requested minimum fragment "
                                 "size too small; see documentation");
        return;
    }
    unixctl_command_reply(conn, "setting minimum fragment size successful");
}

void
ctdp_ipf_cmd_set_max_nfrags(struct unixctl_conn *conn, int argc OVS_UNUSED,
                            const char *argv[], void *dp)
{
    unsigned int n;
    int error;

    if (!str_to_uint(argv[1], 10, &n)) {
        ctdp_command_reply_error(conn, EINVAL, "parameter missing for "
                                 "maximum fragments");
        return;
    }
    error = ctdp_ipf_set_max_nfrags(ctdp_dp_ipf(dp), n);
    if (error) {
        ctdp_command_reply_error(conn, error,
                                 "setting maximum fragments failed");
        return;
    }
    unixctl_command_reply(conn, "setting maximum fragments successful");
}

/* ---- ipf-get-status ---------------------------------------------------- */

static void
format_version(struct ds *s, const struct ctdp_ipf_status *st,
               enum ctdp_ipf_version v)
{
    const char *name = v == CTDP_IPF_V4 ? "v4" : "v6";

    ds_put_format(s, "        min %s frag size: %"PRIu32"\n", name,
                  st->min_frag[v]);
    for (int c = 0; c < CTDP_IPF_N_COUNTERS; c++) {
        ds_put_format(s, "        %s frags %s: %"PRIu64"\n", name,
                      ctdp_ipf_counter_name(c), st->counters[v][c]);
    }
}

static const char *
queue_state(const struct ctdp_ipf_queue_info *q)
{
    return (q->first_in && q->last_in ? "first/last frag"
            : q->first_in ? "first frag"
            : q->last_in ? "last frag"
            : "other frag");
}

/* The pending queues, as OVS's ipf_dump_create() shows them. */
static void
format_queues(struct ds *s, struct ctdp_ipf *ipf)
{
    struct ctdp_ipf_queue_info *qs;
    size_t n;

    qs = ctdp_ipf_queues(ipf, &n);
    ds_put_cstr(s, "\n        Fragment Lists:\n\n");
    for (size_t i = 0; i < n; i++) {
        const struct ctdp_ipf_queue_info *q = &qs[i];
        bool v4 = q->version == CTDP_IPF_V4;

        ds_put_cstr(s, "(src=");
        if (v4) {
            ds_put_format(s, IP_FMT",dst="IP_FMT, IP_ARGS(q->src.ip4),
                          IP_ARGS(q->dst.ip4));
        } else {
            ipv6_format_addr(&q->src.ip6, s);
            ds_put_cstr(s, ",dst=");
            ipv6_format_addr(&q->dst.ip6, s);
        }
        ds_put_format(s, ",ip_id=%"PRIu32",dl_type=0x%x,zone=%"PRIu16
                      ",nw_proto=%"PRIu8",num_fragments=%"PRIu32
                      ",state=%s)\n", q->id, v4 ? ETH_TYPE_IP : ETH_TYPE_IPV6,
                      q->zone, q->nw_proto, q->n_frags, queue_state(q));
    }
    free(qs);
}

void
ctdp_ipf_cmd_get_status(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *dp)
{
    struct ctdp_ipf *ipf = ctdp_dp_ipf(dp);
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ctdp_ipf_status st;
    bool verbose = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m")) {
            ctdp_command_reply_error(conn, EINVAL, "invalid argument %s",
                                     argv[i]);
            return;
        }
        verbose = true;
    }
    ctdp_ipf_get_status(ipf, &st);
    ds_put_cstr(&s, "        Fragmentation Module Status\n"
                "        ---------------------------\n");
    ds_put_format(&s, "        v4 enabled: %d\n", st.enabled[CTDP_IPF_V4]);
    ds_put_format(&s, "        v6 enabled: %d\n", st.enabled[CTDP_IPF_V6]);
    ds_put_format(&s, "        max num frags (v4/v6): %"PRIu32"\n",
                  st.nfrag_max);
    ds_put_format(&s, "        num frag: %"PRIu32"\n", st.nfrag);
    ds_put_format(&s, "        max frags per datagram: %"PRIu32"\n",
                  st.max_dgram_frags);
    ds_put_format(&s, "        pending datagrams: %"PRIu32"\n", st.n_queues);
    ds_put_format(&s, "        memory (bytes): %"PRIuSIZE"\n", st.memory);
    ds_put_format(&s, "        max memory (bytes): %"PRIuSIZE"\n",
                  st.max_memory);
    ds_put_format(&s, "        timeout (ms): %u\n", st.timeout_ms);
    format_version(&s, &st, CTDP_IPF_V4);
    format_version(&s, &st, CTDP_IPF_V6);
    if (verbose) {
        format_queues(&s, ipf);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}
