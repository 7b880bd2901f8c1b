/* The FTP helper, as the kernel's nf_conntrack_ftp.c.
 *
 * Once a control conn has seen traffic both ways, every payload that
 * starts a line is offered to the parser (ctdp-ftp.h): PORT and EPRT from
 * the client, 227 and 229 from the server.  One that names a data
 * connection makes an expectation: from the other side's address, any
 * port, to the address and port named.  Where lines start is tracked per
 * direction by the sequence number just after each newline (two kept, as
 * the kernel), so a command is parsed once, at the start of its line, and
 * a retransmission of a line already seen parses as before (the
 * expectation is the same one, renewed).
 *
 * The address named must be the sender's own: otherwise no expectation is
 * made, as the kernel, so a host cannot open holes to a third one, unless
 * 'loose' (ctdp_ct_set_ftp_loose(), the kernel's module parameter) says
 * the address named is to be expected.  A partial
 * command, or one that cannot be expected (another master's expectation
 * has the tuple, the table is full), drops the packet, as the kernel.
 *
 * On a NATed control conn, as the kernel's nf_nat_ftp.c: the address and
 * port named are rewritten to the ones the peer must use (the conn's
 * address on the peer's side, and a port free for the expectation, the
 * one named if possible), the expectation is for those, and the conn made
 * from it is translated back to what the payload named
 * (ctdp_nat_follow_master()).  A rewrite that changes the payload's length
 * shifts the sequence numbers of the rest of the conn (ctdp-seqadj.c). */
#include <config.h>
#include "ctdp-ct-private.h"

#include <errno.h>
#include <string.h>
#include "ctdp-ftp.h"
#include "packets.h"
#include "random.h"

static bool
at_line_start(const struct ctdp_ftp_state *st, enum ctdp_ct_dir dir,
              uint32_t seq)
{
    for (int i = 0; i < st->n_seq_aft_nl[dir]; i++) {
        if (st->seq_aft_nl[dir][i] == seq) {
            return true;
        }
    }
    return false;
}

/* Remembers that a line starts at 'seq' in 'dir', keeping the newest two
 * (the kernel's update_nl_seq()). */
static void
line_starts_at(struct ctdp_ftp_state *st, enum ctdp_ct_dir dir,
               uint32_t seq)
{
    uint32_t *s = st->seq_aft_nl[dir];
    int oldest;

    if (at_line_start(st, dir, seq)) {
        return;
    }
    if (st->n_seq_aft_nl[dir] < CTDP_FTP_SEQS) {
        s[st->n_seq_aft_nl[dir]++] = seq;
        return;
    }
    oldest = ctdp_seq_before(s[0], s[1]) ? 0 : 1;
    if (ctdp_seq_before(s[oldest], seq)) {
        s[oldest] = seq;
    }
}

/* What parsing a line that starts a payload leads to. */
enum line_verdict {
    LINE_ACCEPT,
    LINE_PARTIAL,               /* Drop; the line is not over. */
    LINE_UNEXPECTABLE,          /* Drop; the line was read. */
};

/* The kernel's nf_nat_ftp(): expects the data conn at the address the
 * peer sees ('expected->dst') and a free port, the one named if it can,
 * then rewrites the command to name them. */
static enum line_verdict
nat_ftp(const struct ctdp_help_ctx *ctx, const struct ctdp_ftp_cmd *cmd,
        const struct ctdp_tuple *here, struct ctdp_tuple *expected,
        uint32_t seq)
{
    struct ctdp_expect_nat nat = {
        .src = here->dst, .dst = here->src, .dport = htons(cmd->port),
    };
    uint32_t range = 65535 - cmd->port, attempts = MIN(range, 128);
    char text[CTDP_FTP_MAX_TEXT];
    uint16_t port = cmd->port;
    size_t n;

    for (;;) {
        int error;

        expected->dport = htons(port);
        error = ctdp_expect_create(ctx->ct, ctx->conn, expected, &nat,
                                   ctx->now);
        if (!error) {
            break;
        } else if (error != EBUSY || !attempts--) {
            return LINE_UNEXPECTABLE;
        }
        port = cmd->port + random_range(range);
    }
    n = ctdp_ftp_format(cmd->type, here->l3, &expected->dst, port, text);
    if (!ctdp_nat_mangle_tcp(ctx->pkt, ctx->parsed, cmd->match_ofs,
                             cmd->match_len, text, n)) {
        ctdp_expect_remove(ctx->ct, ctx->conn, expected, ctx->now);
        return LINE_UNEXPECTABLE;
    }
    ctdp_seqadj_set(ctx->conn, ctx->dir, seq,
                    (int32_t) n - (int32_t) cmd->match_len);
    return LINE_ACCEPT;
}

static enum line_verdict
parse_line(const struct ctdp_help_ctx *ctx, const char *data, size_t len,
           uint32_t seq)
{
    struct ctdp_tuple here, there, expected;
    struct ctdp_ftp_cmd cmd;

    ctdp_conn_tuple(ctx->conn, ctx->dir, &here);
    ctdp_conn_tuple(ctx->conn, !ctx->dir, &there);
    memset(&cmd, 0, sizeof cmd);
    cmd.l3 = here.l3;
    cmd.addr = here.src;
    switch (ctdp_ftp_find(data, len, ctx->dir, &cmd)) {
    case 0:
        return LINE_ACCEPT;
    case 1:
        break;
    default:
        return LINE_PARTIAL;
    }
    /* The data conn comes the other way: from the peer, to the sender's
     * address as the peer sees it. */
    memset(&expected, 0, sizeof expected);
    expected.src = there.src;
    expected.dst = there.dst;
    if (cmd.l3 == here.l3 && memcmp(&cmd.addr, &here.src, sizeof cmd.addr)) {
        /* Not the sender's own address: no hole to a third host, unless
         * 'loose' (the kernel's Enrico Scholz case: a server behind a
         * partial NAT naming where it really listens). */
        if (!ctdp_ct_get_ftp_loose(ctx->ct)) {
            return LINE_ACCEPT;
        }
        expected.dst = cmd.addr;
    }
    expected.dport = htons(cmd.port);
    expected.zone = here.zone;
    expected.nw_proto = IPPROTO_TCP;
    expected.l3 = here.l3;
    if (ctdp_conn_status(ctx->conn) & CTDP_S_NAT) {
        return nat_ftp(ctx, &cmd, &here, &expected, seq);
    }
    return (ctdp_expect_create(ctx->ct, ctx->conn, &expected, NULL,
                               ctx->now)
            ? LINE_UNEXPECTABLE : LINE_ACCEPT);
}

static bool
ftp_help(const struct ctdp_help_ctx *ctx)
{
    const struct ctdp_parsed *p = ctx->parsed;
    const uint8_t *l4 = p->l4;
    struct ctdp_ftp_state *st = &ctdp_conn_ext(ctx->conn)->ftp;
    size_t doff, len;
    const char *data;
    enum line_verdict verdict = LINE_ACCEPT;
    bool ends_in_nl;
    uint32_t seq;

    /* Until there has been traffic both ways, payloads are not read. */
    if (!ctx->established || p->l4_size < TCP_HEADER_LEN) {
        return true;
    }
    doff = (l4[12] >> 4) * 4;
    if (doff >= p->l4_size) {
        return true;            /* No payload. */
    }
    data = (const char *) l4 + doff;
    len = p->l4_size - doff;
    seq = ntohl(get_16aligned_be32(&((const struct tcp_header *) l4)
                                   ->tcp_seq));

    /* Read before NAT may rewrite (and move) the payload. */
    ends_in_nl = data[len - 1] == '\n';
    ctdp_conn_lock(ctx->conn);
    if (at_line_start(st, ctx->dir, seq)) {
        verdict = parse_line(ctx, data, len, seq);
    }
    /* As the kernel: a partial command leaves the next payload at the
     * start of the same line.  Sequence numbers here are the sender's,
     * before any adjustment. */
    if (verdict != LINE_PARTIAL && ends_in_nl) {
        line_starts_at(st, ctx->dir, seq + len);
    }
    ctdp_conn_unlock(ctx->conn);
    return verdict == LINE_ACCEPT;
}

const struct ctdp_helper ctdp_helper_ftp = {
    .name = "ftp",
    .nw_proto = IPPROTO_TCP,
    .max_expected = 1,
    .expect_timeout = 5 * 60,
    .help = ftp_help,
};
