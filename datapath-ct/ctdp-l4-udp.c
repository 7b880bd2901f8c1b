/* The UDP and UDP-Lite tracker (the kernel's nf_conntrack_proto_udp.c).
 *
 * A conn waits 30 s for more packets until a reply is seen.  After a
 * reply, a packet more than 2 s after the conn was made marks it a stream:
 * ASSURED, with the 120 s timeout.  Replies in the first 2 s (a DNS query
 * and its answer) leave it unassured, so it can be evicted under pressure
 * and expires after 30 s. */
#include <config.h>
#include "ctdp-ct-private.h"

#define UDP_STREAM_AFTER_MS 2000

static bool
udp_new_ok(const struct ctdp_tuple *t OVS_UNUSED)
{
    return true;
}

static enum ctdp_verdict
udp_packet(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
           long long *timeout)
{
    uint16_t status = ctdp_conn_status(conn);
    /* An assured conn is a stream for good (a reply was seen, and time
     * only goes on): it need not read its start, on the conn's second
     * line. */
    bool stream = (status & CTDP_S_ASSURED
                   || (status & CTDP_S_SEEN_REPLY
                       && ctx->now > conn->start + UDP_STREAM_AFTER_MS));

    if (stream && !(status & CTDP_S_ASSURED)) {
        ctdp_conn_set_status(conn, CTDP_S_ASSURED);
    }
    *timeout = ctdp_timeout_ms(ctx, stream ? CTDP_TM_UDP_REPLIED
                                           : CTDP_TM_UDP_UNREPLIED);
    return CTDP_ACCEPT;
}

const struct ctdp_l4proto ctdp_l4_udp = {
    .name = "udp",
    .allow_clash = true,
    .repeatable = true,
    /* An assured conn is a stream for good (udp_packet()). */
    .steady = true,
    .steady_status = CTDP_S_ASSURED | CTDP_S_SEEN_REPLY,
    .steady_slot = CTDP_TM_UDP_REPLIED,
    .new_ok = udp_new_ok,
    .packet = udp_packet,
};
