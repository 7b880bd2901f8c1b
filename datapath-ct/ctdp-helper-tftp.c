/* The TFTP helper, as the kernel's nf_conntrack_tftp.c: a read or write
 * request from the client makes an expectation for the server's answer,
 * which comes from another port (RFC 1350): from the server's address,
 * any port, to the client's address and port. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>

enum {
    TFTP_RRQ = 1,
    TFTP_WRQ = 2,
};

static bool
tftp_help(const struct ctdp_help_ctx *ctx)
{
    const struct ctdp_parsed *p = ctx->parsed;
    const uint8_t *l4 = p->l4;
    struct ctdp_tuple reply, expected;
    struct ctdp_expect_nat nat;
    uint16_t opcode;

    if (p->l4_size < 8 + 2) {
        return true;            /* No opcode. */
    }
    opcode = l4[8] << 8 | l4[9];
    if (opcode != TFTP_RRQ && opcode != TFTP_WRQ) {
        return true;
    }
    /* The answer goes as the conn's replies do, from a new server port;
     * through NAT (the kernel's nf_nat_tftp.c), it is translated back to
     * the client's own address and port, as the conn's replies are. */
    ctdp_conn_reply_tuple(ctx->conn, &reply);
    expected = reply;
    expected.sport = 0;
    nat = (struct ctdp_expect_nat) {
        .src = ctx->conn->key.dst, .dst = ctx->conn->key.src,
        .dport = ctx->conn->key.sport,
    };
    return !ctdp_expect_create(ctx->ct, ctx->conn, &expected,
                               (ctdp_conn_status(ctx->conn) & CTDP_S_NAT
                                ? &nat : NULL), ctx->now);
}

const struct ctdp_helper ctdp_helper_tftp = {
    .name = "tftp",
    .nw_proto = IPPROTO_UDP,
    .max_expected = 1,
    .expect_timeout = 5 * 60,
    .help = tftp_help,
};
