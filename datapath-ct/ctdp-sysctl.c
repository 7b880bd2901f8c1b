/* The kernel's conntrack knobs (its sysctls under /proc/sys/net/netfilter/),
 * by their names, read and set while traffic runs.
 *
 * Simple knobs live in ct->knobs[] (enum ctdp_knob) and are read on the
 * packet path with one relaxed load; nf_conntrack_max,
 * nf_conntrack_expect_max and nf_conntrack_count are the tracker's own
 * counters and limits; the timeout knobs are the slots of the tracker's
 * default timeout policy (ct->timeouts, replaced whole under RCU), which
 * a zone's own policy overrides slot by slot. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_conntrack);

enum sysctl_kind {
    S_KNOB,                     /* ct->knobs['knob']. */
    S_TIMEOUT,                  /* Default timeout policy slot 'slot'. */
    S_MAX,                      /* nf_conntrack_max. */
    S_EXPECT_MAX,               /* nf_conntrack_expect_max. */
    S_COUNT,                    /* nf_conntrack_count: read-only. */
};

struct sysctl {
    const char *name;
    enum sysctl_kind kind;
    int index;                  /* enum ctdp_knob or ctdp_timeout_slot. */
    uint64_t min, max;
};

/* The largest timeout the kernel takes (proc_dointvec_jiffies: INT_MAX
 * jiffies at HZ=1000). */
#define MAX_TIMEOUT (INT32_MAX / 1000)

#define KNOB(NAME, K, MIN, MAX) { NAME, S_KNOB, K, MIN, MAX }
#define TIMEOUT(NAME, SLOT) { NAME, S_TIMEOUT, SLOT, 0, MAX_TIMEOUT }

/* In the order `sysctl -a` lists the kernel's. */
static const struct sysctl sysctls[] = {
    KNOB("nf_conntrack_acct", CTDP_K_ACCT, 0, 1),
    KNOB("nf_conntrack_checksum", CTDP_K_CHECKSUM, 0, 1),
    { "nf_conntrack_count", S_COUNT, 0, 0, 0 },
    { "nf_conntrack_expect_max", S_EXPECT_MAX, 0, 1, INT32_MAX },
    TIMEOUT("nf_conntrack_generic_timeout", CTDP_TM_GENERIC),
    TIMEOUT("nf_conntrack_gre_timeout", CTDP_TM_GRE_UNREPLIED),
    TIMEOUT("nf_conntrack_gre_timeout_stream", CTDP_TM_GRE_REPLIED),
    TIMEOUT("nf_conntrack_icmp_timeout", CTDP_TM_ICMP),
    TIMEOUT("nf_conntrack_icmpv6_timeout", CTDP_TM_ICMPV6),
    KNOB("nf_conntrack_log_invalid", CTDP_K_LOG_INVALID, 0, 255),
    { "nf_conntrack_max", S_MAX, 0, 1, INT32_MAX },
    TIMEOUT("nf_conntrack_sctp_timeout_closed", CTDP_TM_SCTP_CLOSED),
    TIMEOUT("nf_conntrack_sctp_timeout_cookie_echoed",
            CTDP_TM_SCTP_COOKIE_ECHOED),
    TIMEOUT("nf_conntrack_sctp_timeout_cookie_wait",
            CTDP_TM_SCTP_COOKIE_WAIT),
    TIMEOUT("nf_conntrack_sctp_timeout_established",
            CTDP_TM_SCTP_ESTABLISHED),
    TIMEOUT("nf_conntrack_sctp_timeout_heartbeat_sent",
            CTDP_TM_SCTP_HEARTBEAT_SENT),
    TIMEOUT("nf_conntrack_sctp_timeout_shutdown_ack_sent",
            CTDP_TM_SCTP_SHUTDOWN_ACK_SENT),
    TIMEOUT("nf_conntrack_sctp_timeout_shutdown_recd",
            CTDP_TM_SCTP_SHUTDOWN_RECD),
    TIMEOUT("nf_conntrack_sctp_timeout_shutdown_sent",
            CTDP_TM_SCTP_SHUTDOWN_SENT),
    KNOB("nf_conntrack_tcp_be_liberal", CTDP_K_TCP_BE_LIBERAL, 0, 1),
    KNOB("nf_conntrack_tcp_ignore_invalid_rst",
         CTDP_K_TCP_IGNORE_INVALID_RST, 0, 1),
    KNOB("nf_conntrack_tcp_loose", CTDP_K_TCP_LOOSE, 0, 1),
    KNOB("nf_conntrack_tcp_max_retrans", CTDP_K_TCP_MAX_RETRANS, 0, 255),
    TIMEOUT("nf_conntrack_tcp_timeout_close", CTDP_TM_TCP_CLOSE),
    TIMEOUT("nf_conntrack_tcp_timeout_close_wait", CTDP_TM_TCP_CLOSE_WAIT),
    TIMEOUT("nf_conntrack_tcp_timeout_established",
            CTDP_TM_TCP_ESTABLISHED),
    TIMEOUT("nf_conntrack_tcp_timeout_fin_wait", CTDP_TM_TCP_FIN_WAIT),
    TIMEOUT("nf_conntrack_tcp_timeout_last_ack", CTDP_TM_TCP_LAST_ACK),
    TIMEOUT("nf_conntrack_tcp_timeout_max_retrans", CTDP_TM_TCP_RETRANSMIT),
    TIMEOUT("nf_conntrack_tcp_timeout_syn_recv", CTDP_TM_TCP_SYN_RECV),
    TIMEOUT("nf_conntrack_tcp_timeout_syn_sent", CTDP_TM_TCP_SYN_SENT),
    TIMEOUT("nf_conntrack_tcp_timeout_time_wait", CTDP_TM_TCP_TIME_WAIT),
    TIMEOUT("nf_conntrack_tcp_timeout_unacknowledged", CTDP_TM_TCP_UNACK),
    KNOB("nf_conntrack_timestamp", CTDP_K_TIMESTAMP, 0, 1),
    TIMEOUT("nf_conntrack_udp_timeout", CTDP_TM_UDP_UNREPLIED),
    TIMEOUT("nf_conntrack_udp_timeout_stream", CTDP_TM_UDP_REPLIED),
};

/* The knobs' defaults: the kernel's, but for nf_conntrack_acct and
 * nf_conntrack_timestamp, which are on so that dump-conntrack -s shows
 * counters and start times (the kernel's are off; Open vSwitch's
 * userspace tracker keeps neither). */
static const uint8_t knob_defaults[CTDP_K_N] = {
    [CTDP_K_ACCT] = 1,
    [CTDP_K_CHECKSUM] = 1,
    [CTDP_K_LOG_INVALID] = 0,
    [CTDP_K_TCP_BE_LIBERAL] = 0,
    [CTDP_K_TCP_IGNORE_INVALID_RST] = 0,
    [CTDP_K_TCP_LOOSE] = 1,
    [CTDP_K_TCP_MAX_RETRANS] = 3,
    [CTDP_K_TIMESTAMP] = 1,
};

void
ctdp_sysctl_init(struct ctdp_ct *ct, const struct ctdp_timeout_policy *tp)
{
    for (size_t i = 0; i < CTDP_K_N; i++) {
        atomic_init(&ct->knobs[i], knob_defaults[i]);
    }
    ovsrcu_set_hidden(&ct->timeouts, ctdp_timeout_policy_clone(tp));
    ovs_mutex_init(&ct->timeouts_mutex);
}

void
ctdp_sysctl_destroy(struct ctdp_ct *ct)
{
    ctdp_timeout_policy_free(
        ovsrcu_get_protected(struct ctdp_timeout_policy *, &ct->timeouts));
    ovs_mutex_destroy(&ct->timeouts_mutex);
}

size_t
ctdp_ct_sysctl_count(void)
{
    return ARRAY_SIZE(sysctls);
}

const char *
ctdp_ct_sysctl_name(size_t i)
{
    return sysctls[i].name;
}

/* Finds knob 'name', with or without the "net.netfilter." that sysctl(8)
 * puts before it. */
bool
ctdp_ct_sysctl_find(const char *name, size_t *i)
{
    static const char prefix[] = "net.netfilter.";

    if (!strncmp(name, prefix, strlen(prefix))) {
        name += strlen(prefix);
    }
    for (*i = 0; *i < ARRAY_SIZE(sysctls); ++*i) {
        if (!strcmp(name, sysctls[*i].name)) {
            return true;
        }
    }
    return false;
}

/* The default timeout of 'slot' in seconds: the tracker's (as set by the
 * knobs or the creation parameters), else the kernel's. */
uint32_t
ctdp_ct_get_default_timeout(const struct ctdp_ct *ct,
                            enum ctdp_timeout_slot slot)
{
    const struct ctdp_timeout_policy *tp = ovsrcu_get(
        struct ctdp_timeout_policy *, &ct->timeouts);
    int64_t secs = tp->secs[slot];

    return secs >= 0 ? secs : ctdp_timeout_default(slot);
}

uint64_t
ctdp_ct_sysctl_get(const struct ctdp_ct *ct, size_t i)
{
    const struct sysctl *s = &sysctls[i];

    switch (s->kind) {
    case S_KNOB:
        return ctdp_knob(ct, s->index);
    case S_TIMEOUT:
        return ctdp_ct_get_default_timeout(ct, s->index);
    case S_MAX:
        return ctdp_ct_get_max_conns(ct);
    case S_EXPECT_MAX:
        return ctdp_ct_get_expect_max(ct);
    case S_COUNT:
        return ctdp_ct_n_conns(ct);
    }
    OVS_NOT_REACHED();
}

/* Parses 'value' for knob 'i' into '*v'.  Returns NULL, or an error
 * message (free() it). */
char *
ctdp_ct_sysctl_parse(size_t i, const char *value, uint64_t *v)
{
    const struct sysctl *s = &sysctls[i];
    unsigned long long n;
    char *end;

    if (s->kind == S_COUNT) {
        return xasprintf("%s is read-only", s->name);
    }
    errno = 0;
    n = strtoull(value, &end, 10);
    if (!*value || *end || errno || value[0] == '-' || n < s->min
        || n > s->max) {
        return xasprintf("invalid value %s for %s (want %"PRIu64
                         " to %"PRIu64")", value, s->name, s->min, s->max);
    }
    *v = n;
    return NULL;
}

static void
set_default_timeout(struct ctdp_ct *ct, enum ctdp_timeout_slot slot,
                    int64_t secs)
{
    struct ctdp_timeout_policy *old, *new;

    ovs_mutex_lock(&ct->timeouts_mutex);
    old = ovsrcu_get_protected(struct ctdp_timeout_policy *, &ct->timeouts);
    new = ctdp_timeout_policy_clone(old);
    new->secs[slot] = secs;
    ovsrcu_set(&ct->timeouts, new);
    ovs_mutex_unlock(&ct->timeouts_mutex);
    ovsrcu_postpone(ctdp_timeout_policy_free, old);
}

/* Sets knob 'i' to 'v', which ctdp_ct_sysctl_parse() accepted.  Takes
 * effect from each conn's next packet on, as the kernel's: a conn's
 * current expiry time is not recomputed. */
void
ctdp_ct_sysctl_set(struct ctdp_ct *ct, size_t i, uint64_t v)
{
    const struct sysctl *s = &sysctls[i];

    switch (s->kind) {
    case S_KNOB:
        atomic_store_relaxed(&ct->knobs[s->index], v);
        break;
    case S_TIMEOUT:
        set_default_timeout(ct, s->index, v);
        break;
    case S_MAX:
        ctdp_ct_set_max_conns(ct, v);
        break;
    case S_EXPECT_MAX:
        ctdp_ct_set_expect_max(ct, v);
        break;
    case S_COUNT:
        OVS_NOT_REACHED();
    }
}

/* ---- nf_conntrack_log_invalid ------------------------------------------ */

void
ctdp_l4_whyv(const struct ctdp_l4_ctx *ctx, const char *format,
             va_list args)
{
    if (ctx->why) {
        vsnprintf(ctx->why, CTDP_WHY_SIZE, format, args);
    }
}

void
ctdp_l4_why(const struct ctdp_l4_ctx *ctx, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    ctdp_l4_whyv(ctx, format, args);
    va_end(args);
}

/* Logs an invalid packet, rate-limited, as the kernel's nf_log line:
 * "nf_ct_proto_P: WHY SRC=... DST=... LEN=... PROTO=... SPT=... DPT=...". */
void
ctdp_log_invalid(uint8_t proto, const struct ctdp_parsed *p, const char *why)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 10);
    const struct ctdp_tuple *t = &p->key;
    struct ds s = DS_EMPTY_INITIALIZER;

    if (VLOG_DROP_INFO(&rl)) {
        return;
    }
    ds_put_format(&s, "nf_ct_proto_%u: %s SRC=", proto, why);
    if (t->l3 == CTDP_L3_IPV4) {
        ds_put_format(&s, IP_FMT" DST="IP_FMT, IP_ARGS(t->src.ip4),
                      IP_ARGS(t->dst.ip4));
    } else {
        ipv6_format_addr(&t->src.ip6, &s);
        ds_put_cstr(&s, " DST=");
        ipv6_format_addr(&t->dst.ip6, &s);
    }
    ds_put_format(&s, " LEN=%"PRIuSIZE" PROTO=%u", p->l3_size, t->nw_proto);
    if (ctdp_tuple_has_ports(t->nw_proto) && p->l4 && p->l4_size >= 4) {
        /* From the header: the tuple has none if the packet was refused
         * before they were read. */
        const uint8_t *l4 = p->l4;

        ds_put_format(&s, " SPT=%u DPT=%u", (l4[0] << 8) | l4[1],
                      (l4[2] << 8) | l4[3]);
    }
    VLOG_INFO("%s", ds_cstr(&s));
    ds_destroy(&s);
}
