/* The conntrack commands of dpctl, as Open vSwitch's lib/dpctl.c names and
 * words them: ct-stats-show, flush-conntrack, ct-set-maxconns,
 * ct-get-maxconns, ct-get-nconns, ct-set-limits, ct-get-limits,
 * ct-del-limits, ct-set-sweep-interval, ct-get-sweep-interval, and the
 * timeout-policy commands ct-set/get/del-timeout-policy.
 *
 * Errors read as OVS's ("maxconns missing or malformed (Invalid
 * argument)"); a command that fails changes nothing. */
#include <config.h>
#include "ctdp-ct-commands.h"

#include <errno.h>
#include <string.h>
#include "ctdp-command.h"
#include "ctdp-ct.h"
#include "ctdp-ct-format.h"
#include "ctdp-dp.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-parse.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "unixctl.h"
#include "util.h"

/* ---- ct-stats-show ----------------------------------------------------- */

void
ctdp_ct_cmd_stats_show(struct unixctl_conn *conn, int argc, const char *argv[],
                       void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    static const struct { uint8_t proto; const char *name; } protos[] = {
        { IPPROTO_TCP, "TCP" }, { IPPROTO_UDP, "UDP" },
        { IPPROTO_UDPLITE, "UDPLITE" }, { IPPROTO_SCTP, "SCTP" },
        { IPPROTO_ICMP, "ICMP" }, { IPPROTO_DCCP, "DCCP" },
        { IPPROTO_IGMP, "IGMP" }, { IPPROTO_ICMPV6, "ICMPV6" },
    };
    size_t counts[ARRAY_SIZE(protos) + 1] = { 0 }, total = 0;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct shash tcp_states = SHASH_INITIALIZER(&tcp_states);
    bool verbose = false;
    struct ctdp_ct_stats stats;
    struct ctdp_ct_dump *dump;
    struct ctdp_ct_entry e;
    unsigned int zone;
    int z = -1;

    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "zone=", 5)) {
            if (!str_to_uint(argv[i] + 5, 10, &zone) || zone > UINT16_MAX) {
                ctdp_command_reply_error(conn, EINVAL, "invalid zone %s",
                                         argv[i] + 5);
                return;
            }
            z = zone;
        } else if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "verbose")) {
            verbose = true;
        } else {
            ctdp_command_reply_error(conn, EINVAL, "invalid argument %s",
                                     argv[i]);
            return;
        }
    }
    dump = ctdp_ct_dump_start(ct, z, ctdp_dp_now(dp, NULL));
    while (ctdp_ct_dump_next(dump, &e)) {
        size_t i;

        for (i = 0; i < ARRAY_SIZE(protos); i++) {
            if (protos[i].proto == e.orig.nw_proto) {
                break;
            }
        }
        counts[i]++;
        total++;
        if (e.orig.nw_proto == IPPROTO_TCP && e.l4_state) {
            size_t *n = shash_find_data(&tcp_states, e.l4_state);

            if (!n) {
                n = xzalloc(sizeof *n);
                shash_add(&tcp_states, e.l4_state, n);
            }
            ++*n;
        }
    }
    ctdp_ct_dump_done(dump);

    ds_put_format(&s, "Connections Stats:\n    Total: %zu\n", total);
    for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
        if (counts[i]) {
            ds_put_format(&s, "  %s: %zu\n", protos[i].name, counts[i]);
        }
        if (counts[i] && protos[i].proto == IPPROTO_TCP && verbose) {
            const struct shash_node **nodes = shash_sort(&tcp_states);

            /* As OVS's ct-stats-show -m. */
            ds_put_cstr(&s, "    Conn per TCP states:\n");
            for (size_t j = 0; j < shash_count(&tcp_states); j++) {
                ds_put_format(&s, "\t  [%s]=%zu\n", nodes[j]->name,
                              *(size_t *) nodes[j]->data);
            }
            free(nodes);
        }
    }
    shash_destroy_free_data(&tcp_states);
    if (counts[ARRAY_SIZE(protos)]) {
        ds_put_format(&s, "  Other: %zu\n", counts[ARRAY_SIZE(protos)]);
    }
    ctdp_ct_get_stats(ct, &stats);
    ds_put_cstr(&s, "Statistics:\n    ");
    ctdp_ct_format_stats(&s, &stats);
    ds_put_char(&s, '\n');
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ---- Max conns, conn count, sweep interval ----------------------------- */

void
ctdp_ct_cmd_set_maxconns(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[], void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    unsigned int n;

    if (!str_to_uint(argv[1], 10, &n)) {
        ctdp_command_reply_error(conn, EINVAL,
                                 "maxconns missing or malformed");
        return;
    }
    ctdp_ct_set_max_conns(ct, n);
    unixctl_command_reply(conn, "setting maxconns successful");
}

static void
reply_number(struct unixctl_conn *conn, unsigned int n)
{
    char *s = xasprintf("%u\n", n);

    unixctl_command_reply(conn, s);
    free(s);
}

void
ctdp_ct_cmd_get_maxconns(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[] OVS_UNUSED, void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    reply_number(conn, ctdp_ct_get_max_conns(ct));
}

void
ctdp_ct_cmd_get_nconns(struct unixctl_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    reply_number(conn, ctdp_ct_n_conns(ct));
}

void
ctdp_ct_cmd_set_sweep(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[], void *dp)
{
    unsigned int ms;

    if (!str_to_uint(argv[1], 10, &ms) || !ms) {
        ctdp_command_reply_error(conn, EINVAL,
                                 "sweep interval missing or malformed");
        return;
    }
    ctdp_dp_set_sweep_interval(dp, ms);
    unixctl_command_reply(conn, "setting sweep interval successful");
}

void
ctdp_ct_cmd_get_sweep(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    reply_number(conn, ctdp_ct_get_sweep_interval(ct));
}

/* ---- Zone limits ------------------------------------------------------- */

/* Parses "zone=N,limit=L" into 'zone' and 'limit' ('want_limit'), or
 * "zone=N" into 'zone'; returns a malloc'd error or NULL. */
static char *
parse_zone_limit(const char *arg, bool want_limit, uint16_t *zone,
                 uint32_t *limit)
{
    char *copy = xstrdup(arg), *pos = copy, *key, *value, *error = NULL;
    bool got_zone = false, got_limit = false;

    while (ofputil_parse_key_value(&pos, &key, &value)) {
        unsigned int n;

        if (!*value) {
            error = xasprintf("field %s missing value", key);
        } else if (!strcmp(key, "zone") && str_to_uint(value, 10, &n)
                   && n <= UINT16_MAX) {
            *zone = n;
            got_zone = true;
        } else if (want_limit && !strcmp(key, "limit")
                   && str_to_uint(value, 10, &n)) {
            *limit = n;
            got_limit = true;
        } else if (!strcmp(key, "zone") || !strcmp(key, "limit")) {
            error = xasprintf("failed to parse field %s", key);
        } else {
            error = xasprintf("invalid zone limit field: %s", key);
        }
        if (error) {
            break;
        }
    }
    if (!error && (!got_zone || (want_limit && !got_limit))) {
        error = xstrdup("failed to parse zone limit");
    }
    free(copy);
    return error;
}

void
ctdp_ct_cmd_set_limits(struct unixctl_conn *conn, int argc, const char *argv[],
                       void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    uint16_t zones[64];
    uint32_t limits[64], dflt = 0;
    bool set_default = false;
    size_t n = 0;

    for (int i = 1; i < argc; i++) {
        char *error;

        if (!strncmp(argv[i], "default=", 8)) {
            unsigned int d;

            if (!str_to_uint(argv[i] + 8, 10, &d)) {
                ctdp_command_reply_error(conn, EINVAL,
                                         "invalid default limit");
                return;
            }
            dflt = d;
            set_default = true;
            continue;
        }
        if (n == ARRAY_SIZE(zones)) {
            ctdp_command_reply_error(conn, E2BIG,
                                     "too many zones (at most %zu)",
                                     ARRAY_SIZE(zones));
            return;
        }
        error = parse_zone_limit(argv[i], true, &zones[n], &limits[n]);
        if (error) {
            ctdp_command_reply_error(conn, EINVAL, "%s", error);
            free(error);
            return;
        }
        n++;
    }
    /* Every argument parsed: now change the limits. */
    if (set_default) {
        ctdp_ct_set_default_zone_limit(ct, dflt);
    }
    for (size_t i = 0; i < n; i++) {
        ctdp_ct_set_zone_limit(ct, zones[i], limits[i]);
    }
    unixctl_command_reply(conn, NULL);
}

/* Appends the zones of "zone=N[,zone=M...]" to the '*n' zones already in
 * 'zones' (at most 'max' in all), for get and del: del takes several such
 * arguments. */
static char *
parse_zone_list(const char *arg, uint16_t *zones, size_t max, size_t *n)
{
    char *copy = xstrdup(arg), *pos = copy, *key, *value, *error = NULL;
    unsigned int z;

    while (!error && ofputil_parse_key_value(&pos, &key, &value)) {
        if (strcmp(key, "zone")) {
            error = xasprintf("invalid zone limit field: %s", key);
        } else if (!str_to_uint(value, 10, &z) || z > UINT16_MAX) {
            error = xasprintf("failed to parse field %s", key);
        } else if (*n == max) {
            error = xasprintf("too many zones (at most %zu)", max);
        } else {
            zones[(*n)++] = z;
        }
    }
    free(copy);
    return error;
}

void
ctdp_ct_cmd_get_limits(struct unixctl_conn *conn, int argc, const char *argv[],
                       void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    struct ds s = DS_EMPTY_INITIALIZER;
    uint16_t zones[64];
    size_t n = 0;

    if (argc > 1) {
        char *error = parse_zone_list(argv[1], zones, ARRAY_SIZE(zones), &n);

        if (error) {
            ctdp_command_reply_error(conn, EINVAL, "%s", error);
            free(error);
            return;
        }
    }
    ds_put_format(&s, "default limit=%"PRIu32,
                  ctdp_ct_get_default_zone_limit(ct));
    /* Asked for zones: each of them.  Otherwise: the zones with a limit of
     * their own, as OVS lists them. */
    for (uint32_t i = 0; argc > 1 ? i < n : i <= UINT16_MAX; i++) {
        uint16_t zone = argc > 1 ? zones[i] : i;
        uint32_t count, limit;
        bool own;

        limit = ctdp_ct_get_zone_limit(ct, zone, &count, &own);
        if (argc > 1 || own) {
            ds_put_format(&s, "\nzone=%u,limit=%"PRIu32",count=%"PRIu32,
                          zone, limit, count);
        }
    }
    ds_put_char(&s, '\n');
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

void
ctdp_ct_cmd_del_limits(struct unixctl_conn *conn, int argc, const char *argv[],
                       void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    bool del_default = false;
    uint16_t zones[64];
    size_t n = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "default")) {
            del_default = true;
        } else {
            char *error = parse_zone_list(argv[i], zones, ARRAY_SIZE(zones),
                                          &n);
            if (error) {
                ctdp_command_reply_error(conn, EINVAL, "%s", error);
                free(error);
                return;
            }
        }
    }
    if (del_default) {
        ctdp_ct_set_default_zone_limit(ct, 0);
    }
    for (size_t i = 0; i < n; i++) {
        ctdp_ct_del_zone_limit(ct, zones[i]);
    }
    unixctl_command_reply(conn, NULL);
}

/* ---- flush-conntrack --------------------------------------------------- */

/* Sets the bytes of one tuple field and its mask. */
static void
tuple_set(struct ctdp_tuple *t, struct ctdp_tuple *mask, size_t ofs,
          const void *value, size_t n)
{
    memcpy((char *) t + ofs, value, n);
    memset((char *) mask + ofs, 0xff, n);
}

/* Reads one "key=value" of a conntrack tuple (OVS's keys) into 't'/'mask'.
 * Returns a malloc'd error or NULL. */
static bool
tuple_key_known(const char *key)
{
    static const char *const keys[] = {
        "ct_nw_src", "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst",
        "ct_nw_proto", "ct_tp_src", "ct_tp_dst", "icmp_type", "icmp_code",
        "icmp_id",
    };

    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!strcmp(key, keys[i])) {
            return true;
        }
    }
    return false;
}

static char *
parse_tuple_field(const char *key, const char *value, struct ctdp_tuple *t,
                  struct ctdp_tuple *mask)
{
    unsigned int n;
    uint8_t l3 = 0;

    if (!tuple_key_known(key)) {
        return xasprintf("invalid conntrack tuple field: %s", key);
    }
    if (!strcmp(key, "ct_nw_src") || !strcmp(key, "ct_nw_dst")) {
        ovs_be32 ip;

        if (!ip_parse(value, &ip)) {
            return xasprintf("failed to parse field %s", key);
        }
        tuple_set(t, mask, key[6] == 's' ? offsetof(struct ctdp_tuple, src)
                                         : offsetof(struct ctdp_tuple, dst),
                  &ip, sizeof ip);
        l3 = CTDP_L3_IPV4;
    } else if (!strcmp(key, "ct_ipv6_src") || !strcmp(key, "ct_ipv6_dst")) {
        struct in6_addr ip6;

        if (!ipv6_parse(value, &ip6)) {
            return xasprintf("failed to parse field %s", key);
        }
        tuple_set(t, mask, key[8] == 's' ? offsetof(struct ctdp_tuple, src)
                                         : offsetof(struct ctdp_tuple, dst),
                  &ip6, sizeof ip6);
        l3 = CTDP_L3_IPV6;
    } else if (!str_to_uint(value, 10, &n)) {
        return xasprintf("failed to parse field %s", key);
    } else if (!strcmp(key, "ct_nw_proto") && n <= UINT8_MAX) {
        uint8_t p = n;

        tuple_set(t, mask, offsetof(struct ctdp_tuple, nw_proto), &p, 1);
    } else if ((!strcmp(key, "ct_tp_src") || !strcmp(key, "icmp_id"))
               && n <= UINT16_MAX) {
        ovs_be16 port = htons(n);

        tuple_set(t, mask, offsetof(struct ctdp_tuple, sport), &port, 2);
    } else if (!strcmp(key, "ct_tp_dst") && n <= UINT16_MAX) {
        ovs_be16 port = htons(n);

        tuple_set(t, mask, offsetof(struct ctdp_tuple, dport), &port, 2);
    } else if ((!strcmp(key, "icmp_type") || !strcmp(key, "icmp_code"))
               && n <= UINT8_MAX) {
        uint8_t b = n;

        tuple_set(t, mask, offsetof(struct ctdp_tuple, dport)
                           + (key[5] == 'c'), &b, 1);
    } else {
        return xasprintf("failed to parse field %s", key);    /* Range. */
    }
    if (l3) {
        if (mask->l3 && t->l3 != l3) {
            return xstrdup("a tuple mixes IPv4 and IPv6 addresses");
        }
        tuple_set(t, mask, offsetof(struct ctdp_tuple, l3), &l3, 1);
    }
    return NULL;
}

static char *
parse_tuple(const char *arg, struct ctdp_tuple *t, struct ctdp_tuple *mask)
{
    char *copy = xstrdup(arg), *pos = copy, *key, *value, *error = NULL;

    memset(t, 0, sizeof *t);
    memset(mask, 0, sizeof *mask);
    while (!error && ofputil_parse_key_value(&pos, &key, &value)) {
        error = (*value ? parse_tuple_field(key, value, t, mask)
                 : xasprintf("field %s missing value", key));
    }
    free(copy);
    return error;
}

/* Reads VALUE[/MASK], decimal or 0x-hex, into 'width' big-endian bytes
 * each; no mask means all ones. */
static char *
parse_masked(const char *name, const char *arg, void *value, void *mask,
             int width)
{
    char *copy = xstrdup(arg), *slash = strchr(copy, '/'), *tail;
    char *error = NULL;

    if (slash) {
        *slash++ = '\0';
    }
    memset(mask, 0xff, width);
    if (!*copy || parse_int_string(copy, value, width, &tail) || *tail
        || (slash && (parse_int_string(slash, mask, width, &tail)
                      || *tail))) {
        error = xasprintf("failed to parse field %s", name);
    }
    free(copy);
    return error;
}

static char *
parse_flush_arg(const char *arg, struct ctdp_ct_flush_filter *f,
                int *n_tuples)
{
    ovs_be128 label, label_mask;
    ovs_be32 mark, mark_mask;
    unsigned int z;
    char *error;

    if (!strncmp(arg, "zone=", 5)) {
        if (!str_to_uint(arg + 5, 10, &z) || z > UINT16_MAX) {
            return xasprintf("invalid zone %s", arg + 5);
        }
        f->zone = z;
    } else if (!strncmp(arg, "mark=", 5)) {
        error = parse_masked("mark", arg + 5, &mark, &mark_mask, 4);
        if (error) {
            return error;
        }
        f->match_mark = true;
        f->mark = ntohl(mark);
        f->mark_mask = ntohl(mark_mask);
    } else if (!strncmp(arg, "labels=", 7)) {
        error = parse_masked("labels", arg + 7, &label, &label_mask, 16);
        if (error) {
            return error;
        }
        f->match_label = true;
        f->label = ntoh128(label);
        f->label_mask = ntoh128(label_mask);
    } else if (*n_tuples < 2) {
        bool orig = (*n_tuples)++ == 0;

        error = parse_tuple(arg, orig ? &f->orig : &f->reply,
                            orig ? &f->orig_mask : &f->reply_mask);
        if (error) {
            return error;
        }
        *(orig ? &f->match_orig : &f->match_reply) = true;
    } else {
        return xasprintf("invalid argument %s", arg);
    }
    return NULL;
}

void
ctdp_ct_cmd_flush(struct unixctl_conn *conn, int argc,
                  const char *argv[], void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);

    struct ctdp_ct_flush_filter f;
    int n_tuples = 0;

    ctdp_ct_flush_filter_init(&f);
    for (int i = 1; i < argc; i++) {
        char *error = parse_flush_arg(argv[i], &f, &n_tuples);

        if (error) {
            ctdp_command_reply_error(conn, EINVAL, "%s", error);
            free(error);
            return;
        }
    }
    ctdp_ct_flush(ct, &f, ctdp_dp_now(dp, NULL));
    unixctl_command_reply(conn, NULL);
}

/* ---- Timeout policies -------------------------------------------------- */

/* Open vSwitch's timeout-policy attribute names, where the kernel's slots
 * that ctdp uses have other names: OVS splits UDP and ICMP by first,
 * single and multiple packets; the kernel (and ctdp) by replied or not. */
static const struct {
    const char *name;
    enum ctdp_timeout_slot slot;
} tp_aliases[] = {
    { "udp_first", CTDP_TM_UDP_UNREPLIED },
    { "udp_single", CTDP_TM_UDP_UNREPLIED },
    { "udp_multiple", CTDP_TM_UDP_REPLIED },
    { "icmp_first", CTDP_TM_ICMP },
    { "icmp_first", CTDP_TM_ICMPV6 },
    { "icmp_reply", CTDP_TM_ICMP },
    { "icmp_reply", CTDP_TM_ICMPV6 },
};

/* Sets the slots timeout attribute 'name' names in 'policy' to 'secs':
 * a kernel slot's name, or an Open vSwitch alias for one or two slots.
 * Returns false if the name is unknown. */
static bool
tp_set(struct ctdp_timeout_policy *policy, const char *name, int64_t secs)
{
    bool found = false;

    for (int i = 0; i < CTDP_TM_N; i++) {
        if (!strcmp(name, ctdp_timeout_slot_name(i))) {
            policy->secs[i] = secs;
            found = true;
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(tp_aliases); i++) {
        if (!strcmp(name, tp_aliases[i].name)) {
            policy->secs[tp_aliases[i].slot] = secs;
            found = true;
        }
    }
    return found;
}

/* Reads "zone=N" from 'arg'. */
static char *
parse_zone_arg(const char *arg, uint16_t *zone)
{
    unsigned int z;

    if (strncmp(arg, "zone=", 5)) {
        return xasprintf("invalid argument %s (want zone=N first)", arg);
    }
    if (!str_to_uint(arg + 5, 10, &z) || z > UINT16_MAX) {
        return xasprintf("invalid zone %s", arg + 5);
    }
    *zone = z;
    return NULL;
}

void
ctdp_ct_cmd_set_tp(struct unixctl_conn *conn, int argc,
                   const char *argv[], void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);
    struct ctdp_timeout_policy policy;
    uint16_t zone;
    char *error = parse_zone_arg(argv[1], &zone);

    if (!error && !ctdp_ct_get_timeout_policy(ct, zone, &policy)) {
        ctdp_timeout_policy_init(&policy);
    }
    for (int i = 2; !error && i < argc; i++) {
        char *copy = xstrdup(argv[i]), *value = strchr(copy, '=');
        unsigned int secs;
        bool parsed;

        if (value) {
            *value++ = '\0';
        }
        parsed = value && str_to_uint(value, 10, &secs);
        if (!value || !tp_set(&policy, copy, parsed ? secs : -1)) {
            error = xasprintf("unknown timeout attribute: %s", copy);
        } else if (!parsed) {
            error = xasprintf("failed to parse field %s", copy);
        }
        free(copy);
    }
    if (error) {
        ctdp_command_reply_error(conn, EINVAL, "%s", error);
        free(error);
        return;
    }
    ctdp_ct_set_timeout_policy(ct, zone, &policy);
    unixctl_command_reply(conn, NULL);
}

/* Prints the timeouts in force in a zone, one "name=secs" per line,
 * marking those that are the defaults. */
void
ctdp_ct_cmd_get_tp(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[], void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);
    struct ctdp_timeout_policy policy;
    struct ds s = DS_EMPTY_INITIALIZER;
    uint16_t zone;
    char *error = parse_zone_arg(argv[1], &zone);

    if (error) {
        ctdp_command_reply_error(conn, EINVAL, "%s", error);
        free(error);
        return;
    }
    if (!ctdp_ct_get_timeout_policy(ct, zone, &policy)) {
        ctdp_timeout_policy_init(&policy);
    }
    ds_put_format(&s, "zone=%u\n", zone);
    for (int i = 0; i < CTDP_TM_N; i++) {
        bool dflt = policy.secs[i] < 0;

        ds_put_format(&s, "    %s=%"PRId64"%s\n", ctdp_timeout_slot_name(i),
                      dflt ? (int64_t) ctdp_ct_get_default_timeout(ct, i)
                           : policy.secs[i], dflt ? " (default)" : "");
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

void
ctdp_ct_cmd_del_tp(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[], void *dp)
{
    uint16_t zone;
    char *error = parse_zone_arg(argv[1], &zone);

    if (error) {
        ctdp_command_reply_error(conn, EINVAL, "%s", error);
        free(error);
        return;
    }
    ctdp_ct_del_timeout_policy(ctdp_dp_ct(dp), zone);
    unixctl_command_reply(conn, NULL);
}

/* ---- ct-bkts ----------------------------------------------------------- */

#define BKTS_PER_ROW 8

/* Prints OVS's ct-bkts table, but only the rows that hold a bucket with
 * more than 'gt' nodes: ctdp's tables have up to millions of buckets. */
static void
format_bkts_rows(struct ds *s, const uint32_t *counts, uint32_t n,
                 unsigned int gt)
{
    ds_put_cstr(s, "+-----------+-----------------------------------------+\n"
                   "|  Buckets  |         Nodes per bucket (2 a conn)     |\n"
                   "+-----------+-----------------------------------------+\n");
    for (uint32_t row = 0; row < n; row += BKTS_PER_ROW) {
        bool show = false;

        for (uint32_t i = row; i < MIN(n, row + BKTS_PER_ROW); i++) {
            show |= counts[i] > gt;
        }
        if (!show) {
            continue;
        }
        ds_put_format(s, " %3"PRIu32"..%3"PRIu32"   | ", row,
                      row + BKTS_PER_ROW - 1);
        for (uint32_t i = row; i < MIN(n, row + BKTS_PER_ROW); i++) {
            if (counts[i] > gt) {
                ds_put_format(s, "%5"PRIu32, counts[i]);
            } else {
                ds_put_format(s, "%5s", ".");
            }
        }
        ds_put_char(s, '\n');
    }
}

void
ctdp_ct_cmd_bkts(struct unixctl_conn *conn, int argc,
                 const char *argv[], void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);
    struct ds s = DS_EMPTY_INITIALIZER;
    uint32_t n, *counts, hist[9] = { 0 };
    unsigned int gt = 0;

    if (argc > 1 && (strncmp(argv[1], "gt=", 3)
                     || !str_to_uint(argv[1] + 3, 10, &gt))) {
        ctdp_command_reply_error(conn, EINVAL,
                                 "invalid argument %s (want gt=N)",
                                 argv[1]);
        return;
    }
    counts = ctdp_ct_chain_lengths(ct, &n);
    for (uint32_t i = 0; i < n; i++) {
        hist[MIN(counts[i], 8)]++;
    }
    ds_put_format(&s, "Total Buckets: %"PRIu32"\n", n);
    ds_put_format(&s, "Current Connections: %"PRIu32"\n\n",
                  ctdp_ct_n_conns(ct));
    ds_put_cstr(&s, "Chain length: buckets\n");
    for (int len = 0; len < 9; len++) {
        ds_put_format(&s, "  %d%s: %"PRIu32"\n", len, len == 8 ? "+" : "",
                      hist[len]);
    }
    ds_put_char(&s, '\n');
    format_bkts_rows(&s, counts, n, gt);
    free(counts);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ---- TCP sequence checking -------------------------------------------- */

static void
set_tcp_seq_chk(struct unixctl_conn *conn, bool on, void *dp)
{
    ctdp_ct_set_tcp_seq_check(ctdp_dp_ct(dp), on);
    unixctl_command_reply(conn, on ? "enabling TCP sequence checking "
                                     "successful"
                                   : "disabling TCP sequence checking "
                                     "successful");
}

void
ctdp_ct_cmd_enable_tcp_seq_chk(struct unixctl_conn *conn, int argc OVS_UNUSED,
                               const char *argv[] OVS_UNUSED, void *dp)
{
    set_tcp_seq_chk(conn, true, dp);
}

void
ctdp_ct_cmd_disable_tcp_seq_chk(struct unixctl_conn *conn, int argc OVS_UNUSED,
                                const char *argv[] OVS_UNUSED, void *dp)
{
    set_tcp_seq_chk(conn, false, dp);
}

/* As OVS's dpctl/ct-get-tcp-seq-chk: "TCP sequence checking: enabled". */
void
ctdp_ct_cmd_get_tcp_seq_chk(struct unixctl_conn *conn, int argc OVS_UNUSED,
                            const char *argv[] OVS_UNUSED, void *dp)
{
    unixctl_command_reply(conn,
                          ctdp_ct_get_tcp_seq_check(ctdp_dp_ct(dp))
                          ? "TCP sequence checking: enabled\n"
                          : "TCP sequence checking: disabled\n");
}

/* ---- The kernel's conntrack knobs --------------------------------------- */

/* The knobs with commands of their own, "ct-set-NAME" and "ct-get-NAME"
 * for nf_conntrack_NAME (with '-' for '_'), as 0 or 1: the knob's index
 * for the command named 'command' (argv[0]: the unixctl name the server
 * was asked for). */
static size_t
knob_of_command(const char *command)
{
    static const struct {
        const char *suffix, *knob;
    } knobs[] = {
        { "-tcp-loose", "nf_conntrack_tcp_loose" },
        { "-tcp-be-liberal", "nf_conntrack_tcp_be_liberal" },
    };
    size_t len = strlen(command), i;

    for (size_t k = 0; k < ARRAY_SIZE(knobs); k++) {
        size_t n = strlen(knobs[k].suffix);

        if (len >= n && !strcmp(command + len - n, knobs[k].suffix)) {
            ovs_assert(ctdp_ct_sysctl_find(knobs[k].knob, &i));
            return i;
        }
    }
    OVS_NOT_REACHED();
}

void
ctdp_ct_cmd_set_knob(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *dp)
{
    size_t i = knob_of_command(argv[0]);

    if (strcmp(argv[1], "0") && strcmp(argv[1], "1")) {
        ctdp_command_reply_error(conn, EINVAL,
                                 "invalid value %s (want 0 or 1)", argv[1]);
        return;
    }
    ctdp_ct_sysctl_set(ctdp_dp_ct(dp), i, argv[1][0] == '1');
    unixctl_command_reply(conn, NULL);
}

void
ctdp_ct_cmd_get_knob(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *dp)
{
    size_t i = knob_of_command(argv[0]);

    unixctl_command_reply(conn, ctdp_ct_sysctl_get(ctdp_dp_ct(dp), i)
                                ? "1\n" : "0\n");
}

static void
put_sysctl(struct ds *s, const struct ctdp_ct *ct, size_t i)
{
    ds_put_format(s, "net.netfilter.%s = %"PRIu64"\n",
                  ctdp_ct_sysctl_name(i), ctdp_ct_sysctl_get(ct, i));
}

/* ct-sysctl [NAME[=VALUE]]...: as sysctl(8) for the knobs ctdp honours.
 * Every argument is checked before any knob is set, so that a bad one
 * changes nothing. */
void
ctdp_ct_cmd_sysctl(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *dp)
{
    struct ctdp_ct *ct = ctdp_dp_ct(dp);
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t knob[64];
    uint64_t value[64];
    bool set[64];
    char *error = NULL;

    ovs_assert(argc - 1 <= ARRAY_SIZE(knob));
    for (int a = 1; !error && a < argc; a++) {
        char *name = xstrdup(argv[a]), *eq = strchr(name, '=');

        set[a - 1] = eq != NULL;
        if (eq) {
            *eq = '\0';
        }
        if (!ctdp_ct_sysctl_find(name, &knob[a - 1])) {
            error = xasprintf("unknown conntrack knob %s", name);
        } else if (eq) {
            error = ctdp_ct_sysctl_parse(knob[a - 1], eq + 1, &value[a - 1]);
        }
        free(name);
    }
    if (error) {
        ctdp_command_reply_error(conn, EINVAL, "%s", error);
        free(error);
        return;
    }
    if (argc == 1) {
        for (size_t i = 0; i < ctdp_ct_sysctl_count(); i++) {
            put_sysctl(&s, ct, i);
        }
    }
    for (int a = 1; a < argc; a++) {
        if (set[a - 1]) {
            ctdp_ct_sysctl_set(ct, knob[a - 1], value[a - 1]);
        }
        put_sysctl(&s, ct, knob[a - 1]);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* ---- The FTP helper's loose mode ---------------------------------------- */

void
ctdp_ct_cmd_set_ftp_loose(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[], void *dp)
{
    if (strcmp(argv[1], "0") && strcmp(argv[1], "1")) {
        ctdp_command_reply_error(conn, EINVAL,
                                 "invalid value %s (want 0 or 1)", argv[1]);
        return;
    }
    ctdp_ct_set_ftp_loose(ctdp_dp_ct(dp), argv[1][0] == '1');
    unixctl_command_reply(conn, NULL);
}

void
ctdp_ct_cmd_get_ftp_loose(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *dp)
{
    unixctl_command_reply(conn, ctdp_ct_get_ftp_loose(ctdp_dp_ct(dp))
                                ? "1\n" : "0\n");
}
