/* The GRE tracker (the kernel's nf_conntrack_proto_gre.c).
 *
 * GRE version 0 is tracked by its addresses alone (both keys 0), as the
 * generic tracker would; version 1, PPTP's enhanced GRE, by call id: the
 * tuple's destination key is the packet's call id and its source key 0
 * (the kernel would look up the other end's call id in the keymap its
 * PPTP helper fills; ctdp has no PPTP helper, so it finds none, as the
 * kernel does without one).  ctdp-tuple.c reads the keys into the
 * tuple's 'sport' and 'dport'.
 *
 * A conn gets its two timeouts when it is made (nf_conntrack_gre_timeout,
 * 30 s, and nf_conntrack_gre_timeout_stream, 180 s) and keeps them: it
 * waits the first until a reply is seen, then the second, and is ASSURED
 * from the first packet after the reply on. */
#include <config.h>
#include "ctdp-ct-private.h"

/* The conn's protocol tail. */
struct gre_conn {
    uint32_t timeout, stream_timeout;   /* Seconds. */
};

static struct gre_conn *
gre_of(const struct ctdp_conn *conn)
{
    return (struct gre_conn *) CONST_CAST(uint8_t *, conn->l4);
}

static bool
gre_new_ok(const struct ctdp_tuple *t OVS_UNUSED)
{
    return true;
}

static enum ctdp_verdict
gre_packet(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
           long long *timeout)
{
    struct gre_conn *g = gre_of(conn);
    uint16_t status = ctdp_conn_status(conn);

    if (!ctx->confirmed) {
        g->timeout = ctdp_timeout_ms(ctx, CTDP_TM_GRE_UNREPLIED) / 1000;
        g->stream_timeout = ctdp_timeout_ms(ctx, CTDP_TM_GRE_REPLIED) / 1000;
    }
    if (status & CTDP_S_SEEN_REPLY) {
        *timeout = g->stream_timeout * 1000LL;
        if (!(status & CTDP_S_ASSURED)) {
            ctdp_conn_set_status(conn, CTDP_S_ASSURED);
        }
    } else {
        *timeout = g->timeout * 1000LL;
    }
    return CTDP_ACCEPT;
}

static void
gre_describe(const struct ctdp_conn *conn, struct ctdp_ct_entry *e)
{
    const struct gre_conn *g = gre_of(conn);

    e->gre_timeout = g->timeout;
    e->gre_stream_timeout = g->stream_timeout;
}

const struct ctdp_l4proto ctdp_l4_gre = {
    .name = "gre",
    .allow_clash = true,
    .repeatable = true,
    .tail_size = sizeof(struct gre_conn),
    .new_ok = gre_new_ok,
    .packet = gre_packet,
    .describe = gre_describe,
};
