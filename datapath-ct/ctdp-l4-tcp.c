/* The TCP tracker: the kernel's nf_conntrack_proto_tcp.c, as behaviour.
 *
 * A conn's TCP state moves by the table below, indexed by direction, the
 * packet's flag class and the current state.  Within a state, every
 * segment must fall in the window that each side has advertised and must
 * not acknowledge what the other side never sent (Guido van Rooij's "Real
 * Stateful TCP Packet Filtering in IP Filter", with the kernel's changes):
 * tcp_in_window() keeps, per direction, the highest sequence sent
 * ('td_end'), the highest the receiver allows ('td_maxend'), the largest
 * window seen ('td_maxwin') and the window scale.  The special cases the
 * kernel handles, and this file the same way: a SYN on a TIME_WAIT or
 * CLOSE tuple reopens it as a new conn (CTDP_REPEAT); packets the table
 * calls IGNORE are let through without changing the conn, and a SYN/ACK
 * that answers an ignored SYN resynchronises; RSTs are checked against the
 * peer's highest ack; a RST as the only answer to a SYN ends the conn at
 * once; loose pick-up of conns met in the middle.
 *
 * Timeouts: the state's, capped at "unack" (300 s) while data is
 * unacknowledged and at "retransmit" (300 s) after three identical
 * retransmissions. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <stdarg.h>

#include <string.h>
#include "util.h"

/* States, as the kernel's enum tcp_conntrack; IV and IG are outcomes. */
enum tcp_state {
    sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2,
    sIV,                        /* Invalid: TCP_CONNTRACK_MAX. */
    sIG,                        /* Ignore: TCP_CONNTRACK_IGNORE. */
};

static const char *const tcp_state_names[] = {
    "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
    "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
};

static const enum ctdp_timeout_slot tcp_state_slot[] = {
    [sSS] = CTDP_TM_TCP_SYN_SENT, [sSR] = CTDP_TM_TCP_SYN_RECV,
    [sES] = CTDP_TM_TCP_ESTABLISHED, [sFW] = CTDP_TM_TCP_FIN_WAIT,
    [sCW] = CTDP_TM_TCP_CLOSE_WAIT, [sLA] = CTDP_TM_TCP_LAST_ACK,
    [sTW] = CTDP_TM_TCP_TIME_WAIT, [sCL] = CTDP_TM_TCP_CLOSE,
    [sS2] = CTDP_TM_TCP_SYN_SENT2,
};

/* Flag classes, in the order of the table's rows. */
enum tcp_index { I_SYN, I_SYNACK, I_FIN, I_ACK, I_RST, I_NONE };

/* tcp_conntracks[dir][index][state], the kernel's table.  Notes:
 *   original syn:    NO->SS new conn; SS->SS retransmitted SYN; TW, CL->SS
 *                    reopened (RFC 1122); S2->S2; others ignored.
 *   original synack: only SR and S2 (simultaneous open) move to SR.
 *   fin:             SR, ES->FW; FW, CW, LA->LA; TW->TW; CL->CL.
 *   original ack:    NO->ES loose pick-up; SR->ES; FW, CW->CW; LA, TW->TW.
 *   rst:             any state but NO -> CL.
 *   reply syn:       SS->S2 simultaneous open; TW->SS; S2->S2.
 *   reply synack:    SS, S2->SR; established states ignore it.
 *   reply ack:       SS, S2 ignored (no SYN/ACK yet); SR->SR; ES->ES. */
static const uint8_t tcp_conntracks[2][6][10] = {
    {
/*            sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
/* syn    */ { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },
/* synack */ { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },
/* fin    */ { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/* ack    */ { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },
/* rst    */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/* none   */ { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
    }, {
/*            sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
/* syn    */ { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },
/* synack */ { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },
/* fin    */ { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/* ack    */ { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },
/* rst    */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/* none   */ { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
    },
};

/* TCP header flags. */
enum {
    TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08,
    TH_ACK = 0x10, TH_URG = 0x20, TH_ECE = 0x40, TH_CWR = 0x80,
};

/* Private flags in 'last_flags', beside the CTDP_TCP_F_* ones. */
#define TCP_EXP_CHALLENGE_ACK 0x40
#define TCP_SIMULTANEOUS_OPEN 0x80

#define TCP_MAX_WSCALE 14
#define MAXACKWINCONST 66000

/* One direction's window tracking (the kernel's ip_ct_tcp_state).  Packed:
 * the two directions' 2 bytes of padding are what puts a TCP conn in the
 * pool's 176-byte class rather than its 192-byte one. */
OVS_PACKED(
struct tcp_dir {
    uint32_t td_end;            /* Highest seq + len sent. */
    uint32_t td_maxend;         /* Highest td_end the receiver allows. */
    uint32_t td_maxwin;         /* Largest window seen. */
    uint32_t td_maxack;         /* Highest ack sent. */
    uint8_t td_scale;           /* Window scale. */
    uint8_t flags;              /* CTDP_TCP_F_*. */
});
BUILD_ASSERT_DECL(sizeof(struct tcp_dir) == 18);

/* The conn's protocol tail; its state is conn->l4_state. */
struct tcp_conn {
    struct tcp_dir seen[2];
    uint32_t last_seq, last_ack, last_end;
    uint16_t last_win;
    uint8_t last_dir, last_index, last_wscale, last_flags;
    uint8_t retrans;
};
BUILD_ASSERT_DECL(sizeof(struct ctdp_conn) + sizeof(struct tcp_conn) <= 176);

/* One segment as the tracker reads it. */
struct tcp_seg {
    const uint8_t *th;
    size_t hlen;                /* Header with options. */
    uint8_t flags;
    uint32_t seq, ack, end;     /* 'end': seq + data + SYN + FIN. */
    uint16_t win;
};

static struct tcp_conn *
tcp_of(const struct ctdp_conn *conn)
{
    return (struct tcp_conn *) CONST_CAST(uint8_t *, conn->l4);
}

static uint32_t
get_be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static enum tcp_index
tcp_index(uint8_t flags)
{
    return (flags & TH_RST ? I_RST
            : flags & TH_SYN ? (flags & TH_ACK ? I_SYNACK : I_SYN)
            : flags & TH_FIN ? I_FIN
            : flags & TH_ACK ? I_ACK
            : I_NONE);
}

/* The flag combinations the kernel accepts (tcp_valid_flags); PSH, ECE
 * and CWR never matter. */
static bool
tcp_flags_valid(uint8_t flags)
{
    switch (flags & ~(TH_PSH | TH_ECE | TH_CWR)) {
    case TH_SYN: case TH_SYN | TH_URG: case TH_SYN | TH_ACK:
    case TH_RST: case TH_RST | TH_ACK:
    case TH_FIN | TH_ACK: case TH_FIN | TH_ACK | TH_URG:
    case TH_ACK: case TH_ACK | TH_URG:
        return true;
    default:
        return false;
    }
}

static void
tcp_read(const struct ctdp_parsed *p, struct tcp_seg *s)
{
    const uint8_t *th = p->l4;

    s->th = th;
    s->hlen = (th[12] >> 4) * 4;
    s->flags = th[13];
    s->seq = get_be32(th + 4);
    s->ack = get_be32(th + 8);
    s->win = th[14] << 8 | th[15];
    s->end = (s->seq + (p->l4_size - s->hlen) + !!(s->flags & TH_SYN)
              + !!(s->flags & TH_FIN));
}

/* Walks the options of 's', calling 'fn' on each (kind, data, len);
 * stops at the end, EOL or a malformed option, as the kernel does. */
static void
tcp_options_walk(const struct tcp_seg *s,
                 void (*fn)(uint8_t kind, const uint8_t *d, int len,
                            void *aux),
                 void *aux)
{
    const uint8_t *p = s->th + 20;
    int length = s->hlen - 20;

    while (length > 0) {
        uint8_t kind = *p++;
        int size;

        if (kind == 0) {                    /* EOL */
            return;
        } else if (kind == 1) {             /* NOP */
            length--;
            continue;
        }
        if (length < 2 || (size = *p++) < 2 || size > length) {
            return;
        }
        fn(kind, p, size - 2, aux);
        p += size - 2;
        length -= size;
    }
}

static void
option_scale_sack(uint8_t kind, const uint8_t *d, int len, void *dir_)
{
    struct tcp_dir *dir = dir_;

    if (kind == 4 && len == 0) {                /* SACK permitted */
        dir->flags |= CTDP_TCP_F_SACK_PERM;
    } else if (kind == 3 && len == 1) {         /* Window scale */
        dir->td_scale = MIN(d[0], TCP_MAX_WSCALE);
        dir->flags |= CTDP_TCP_F_WINDOW_SCALE;
    }
}

/* Reads window scale and SACK permission into 'dir' (tcp_options()). */
static void
tcp_options(const struct tcp_seg *s, struct tcp_dir *dir)
{
    if (s->hlen > 20) {
        dir->td_scale = 0;
        dir->flags &= CTDP_TCP_F_BE_LIBERAL;
        tcp_options_walk(s, option_scale_sack, dir);
    }
}

static void
option_sack(uint8_t kind, const uint8_t *d, int len, void *sack_)
{
    uint32_t *sack = sack_;

    if (kind == 5 && len >= 8 && len % 8 == 0) {
        for (int i = 0; i < len; i += 8) {
            uint32_t right = get_be32(d + i + 4);

            if (ctdp_seq_after(right, *sack)) {
                *sack = right;
            }
        }
    }
}

static void
tcp_init_sender(struct tcp_dir *sender, struct tcp_dir *receiver,
                const struct tcp_seg *s, enum ctdp_ct_dir dir)
{
    sender->td_end = sender->td_maxend = s->end;
    sender->td_maxwin = s->win ? s->win : 1;
    tcp_options(s, sender);
    /* RFC 1323: scaling only if both sides offer it. */
    if (dir == CTDP_DIR_REPLY
        && !(sender->flags & CTDP_TCP_F_WINDOW_SCALE
             && receiver->flags & CTDP_TCP_F_WINDOW_SCALE)) {
        sender->td_scale = receiver->td_scale = 0;
    }
}

enum window_verdict { W_ACCEPT, W_IGNORE, W_INVALID };

/* A segment outside the window: 'v', with the kernel's reason for the
 * invalid log, unless the conn is liberal, which accepts it. */
static enum window_verdict OVS_PRINTF_FORMAT(4, 5)
refuse(const struct ctdp_l4_ctx *ctx, bool liberal, enum window_verdict v,
       const char *format, ...)
{
    va_list args;

    if (liberal) {
        return W_ACCEPT;
    }
    va_start(args, format);
    ctdp_l4_whyv(ctx, format, args);
    va_end(args);
    return v;
}

static uint32_t
maxackwindow(const struct tcp_dir *sender)
{
    return MAX(sender->td_maxwin, MAXACKWINCONST);
}

/* Sets up a direction seen for the first time without its SYN. */
static void
tcp_init_midstream(struct tcp_dir *sender, struct tcp_dir *receiver,
                   const struct tcp_seg *s, uint32_t sack)
{
    uint32_t swin = (uint32_t) s->win << sender->td_scale;

    sender->td_end = s->end;
    sender->td_maxwin = swin ? swin : 1;
    sender->td_maxend = s->end + sender->td_maxwin;
    if (!receiver->td_maxwin) {
        receiver->td_end = receiver->td_maxend = sack;
    } else if (sack == receiver->td_end + 1) {
        receiver->td_end++;         /* A reply to a keepalive. */
    }
}

/* The sequence and acknowledgement checks of the kernel's tcp_in_window(),
 * which also update the window tracking of an acceptable segment. */
static enum window_verdict
tcp_in_window(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
              enum tcp_index index, const struct tcp_seg *s)
{
    struct tcp_conn *t = tcp_of(conn);
    struct tcp_dir *sender = &t->seen[ctx->dir];
    struct tcp_dir *receiver = &t->seen[!ctx->dir];
    uint32_t seq = s->seq, ack = s->ack, sack = s->ack, end = s->end;
    uint32_t win = s->win, swin;
    bool liberal = ctx->tcp_liberal || sender->flags & CTDP_TCP_F_BE_LIBERAL;
    int32_t receiver_offset;

    if (receiver->flags & CTDP_TCP_F_SACK_PERM && s->hlen > 20) {
        tcp_options_walk(s, option_sack, &sack);
    }
    /* The peer acknowledges the bytes a NAT helper's rewrite shifted: in
     * the sender's numbers, as the window tracks them. */
    receiver_offset = ctdp_seqadj_offset(conn, !ctx->dir, ack - 1);
    ack -= receiver_offset;
    sack -= receiver_offset;
    if (!sender->td_maxwin) {
        if (s->flags & TH_SYN) {
            tcp_init_sender(sender, receiver, s, ctx->dir);
            if (!(s->flags & TH_ACK)) {
                return W_ACCEPT;            /* Simultaneous open. */
            }
        } else {
            tcp_init_midstream(sender, receiver, s, sack);
        }
    } else if (s->flags & TH_SYN && ctdp_seq_after(end, sender->td_end)
               && (conn->l4_state == sSS || conn->l4_state == sSR)) {
        /* A reinitialised SYN or SYN/ACK (RFC 793). */
        tcp_init_sender(sender, receiver, s, ctx->dir);
        if (ctx->dir == CTDP_DIR_REPLY && !(s->flags & TH_ACK)) {
            return W_ACCEPT;
        }
    }
    if (!(s->flags & TH_ACK)
        || ((s->flags & (TH_ACK | TH_RST)) == (TH_ACK | TH_RST) && !ack)) {
        ack = sack = receiver->td_end;      /* No ack, or a broken one. */
    }
    if (s->flags & TH_RST && !seq && conn->l4_state == sSS) {
        seq = end = sender->td_end;         /* RST answering a SYN. */
    }

    if (!ctdp_seq_before(seq, sender->td_maxend + 1)) {
        uint32_t overshot = end - sender->td_maxend + 1;
        bool in_recv_win = (receiver->td_maxwin
                            && ctdp_seq_after(end, sender->td_end
                                          - receiver->td_maxwin - 1));

        if (in_recv_win
            && ctdp_seq_after(sack,
                              receiver->td_end - maxackwindow(sender) - 1)
            && overshot <= receiver->td_maxwin
            && ctdp_seq_before(sack, receiver->td_end + 1)) {
            /* More than the window allows: let the peer's ack of it
             * update the state, but call this one invalid. */
            sender->td_end = end;
            sender->flags |= CTDP_TCP_F_DATA_UNACKNOWLEDGED;
            return refuse(ctx, liberal, W_IGNORE,
                          "%u bytes more than expected", overshot);
        }
        return refuse(ctx, liberal, W_INVALID, "SEQ is over upper bound %u "
                      "(over the window of the receiver)",
                      sender->td_maxend + 1);
    }
    if (!ctdp_seq_before(sack, receiver->td_end + 1)) {
        return refuse(ctx, liberal, W_INVALID, "ACK is over upper bound %u "
                      "(ACKed data not seen yet)", receiver->td_end + 1);
    }
    if (receiver->td_maxwin
        && !ctdp_seq_after(end, sender->td_end - receiver->td_maxwin - 1)) {
        return refuse(ctx, liberal, W_IGNORE, "SEQ is under lower bound %u "
                      "(already ACKed data retransmitted)",
                      sender->td_end - receiver->td_maxwin);
    }
    if (!ctdp_seq_after(sack, receiver->td_end - maxackwindow(sender) - 1)) {
        return refuse(ctx, liberal, W_IGNORE, "ignored ACK under lower "
                      "bound %u (possible overly delayed)",
                      receiver->td_end - maxackwindow(sender));
    }

    /* Update the sender. */
    if (!(s->flags & TH_SYN)) {
        win <<= sender->td_scale;
    }
    swin = win + (sack - ack);
    sender->td_maxwin = MAX(sender->td_maxwin, swin);
    if (ctdp_seq_after(end, sender->td_end)) {
        sender->td_end = end;
        sender->flags |= CTDP_TCP_F_DATA_UNACKNOWLEDGED;
    }
    if (s->flags & TH_ACK) {
        if (!(sender->flags & CTDP_TCP_F_MAXACK_SET)) {
            sender->td_maxack = ack;
            sender->flags |= CTDP_TCP_F_MAXACK_SET;
        } else if (ctdp_seq_after(ack, sender->td_maxack)) {
            sender->td_maxack = ack;
        }
    }

    /* Update the receiver. */
    if (receiver->td_maxwin && ctdp_seq_after(end, sender->td_maxend)) {
        receiver->td_maxwin += end - sender->td_maxend;
    }
    if (ctdp_seq_after(sack + win, receiver->td_maxend - 1)) {
        receiver->td_maxend = sack + win + !win;
    }
    if (ack == receiver->td_end) {
        receiver->flags &= ~CTDP_TCP_F_DATA_UNACKNOWLEDGED;
    }

    /* Count identical retransmissions of the same ack. */
    if (index == I_ACK) {
        if (t->last_dir == ctx->dir && t->last_seq == seq
            && t->last_ack == ack && t->last_end == end
            && t->last_win == s->win) {
            t->retrans++;
        } else {
            t->last_dir = ctx->dir;
            t->last_seq = seq;
            t->last_ack = ack;
            t->last_end = end;
            t->last_win = s->win;
            t->retrans = 0;
        }
    }
    return W_ACCEPT;
}

/* The first packet of a conn: a SYN, or with loose pick-up any packet the
 * table lets start one (the kernel's tcp_new()). */
static bool
tcp_new(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
        const struct tcp_seg *s)
{
    enum tcp_state state = tcp_conntracks[0][tcp_index(s->flags)][sNO];
    struct tcp_conn *t = tcp_of(conn);
    struct tcp_dir *d = &t->seen[0];

    if (state >= sIV || (state != sSS && !ctx->tcp_loose)) {
        return false;
    }
    memset(t, 0, sizeof *t);
    d->td_end = s->end;
    d->td_maxwin = s->win ? s->win : 1;
    if (state == sSS) {
        d->td_maxend = d->td_end;
        tcp_options(s, d);
    } else {
        /* Met in the middle: its history is lost, so assume SACK and be
         * liberal, to cope with window scaling we never saw. */
        d->td_maxend = d->td_end + d->td_maxwin;
        t->seen[0].flags = t->seen[1].flags
            = CTDP_TCP_F_SACK_PERM | CTDP_TCP_F_BE_LIBERAL;
    }
    t->last_index = I_NONE;
    return true;
}

/* A segment the table ignores, or a SYN on an old conn: let it pass, but
 * remember it so that the answer can resynchronise us.  Returns true if
 * it did: a SYN/ACK answering a SYN we ignored. */
static bool
tcp_ignore(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
           enum tcp_index index, const struct tcp_seg *s,
           enum tcp_state old_state)
{
    struct tcp_conn *t = tcp_of(conn);
    enum ctdp_ct_dir dir = ctx->dir;

    if (index == I_SYNACK && t->last_index == I_SYN && t->last_dir != dir
        && s->ack == t->last_end) {
        struct tcp_dir *d = &t->seen[t->last_dir];

        d->td_end = d->td_maxend = t->last_end;
        d->td_maxwin = t->last_win ? t->last_win : 1;
        d->td_scale = t->last_wscale;
        t->last_flags &= ~TCP_EXP_CHALLENGE_ACK;
        d->flags = t->last_flags;
        t->seen[dir] = (struct tcp_dir) {
            .flags = t->seen[dir].flags & CTDP_TCP_F_BE_LIBERAL,
        };
        return true;
    }
    t->last_index = index;
    t->last_dir = dir;
    t->last_seq = s->seq;
    t->last_end = s->end;
    t->last_win = s->win;
    if (index == I_SYN && dir == CTDP_DIR_ORIG) {
        struct tcp_dir seen = { .td_scale = 0 };

        tcp_options(s, &seen);
        t->last_flags = seen.flags
                        & (CTDP_TCP_F_WINDOW_SCALE | CTDP_TCP_F_SACK_PERM);
        t->last_wscale = seen.flags & CTDP_TCP_F_WINDOW_SCALE
                         ? seen.td_scale : 0;
        if (old_state == sLA) {
            t->last_flags |= TCP_EXP_CHALLENGE_ACK;
        }
    }
    if (old_state == sSS && index == I_ACK && dir == CTDP_DIR_REPLY) {
        t->last_ack = s->ack;       /* A possible challenge ACK. */
    }
    return false;
}

static bool
tcp_established(const struct ctdp_conn *conn)
{
    return conn->l4_state == sES;
}

/* A RST that the table would move to CLOSE (the kernel's checks). Returns
 * CTDP_ACCEPT to go on with the window check, CTDP_IGNORE to skip it,
 * CTDP_INVALID to refuse; may set '*new_state' back to the old one. */
static enum ctdp_verdict
tcp_check_rst(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
              const struct tcp_seg *s, enum tcp_state *new_state)
{
    struct tcp_conn *t = tcp_of(conn);
    const struct tcp_dir *peer = &t->seen[!ctx->dir];
    uint16_t status = ctdp_conn_status(conn);

    if (conn->l4_state >= sFW && conn->l4_state <= sCL) {
        return CTDP_IGNORE;     /* Closing: the tuple may be reused. */
    }
    if (peer->flags & CTDP_TCP_F_MAXACK_SET && t->last_index != I_SYN) {
        if (!s->seq && !tcp_established(conn)) {
            return CTDP_ACCEPT;
        }
        if (ctdp_seq_before(s->seq, peer->td_maxack)
            && !ctx->tcp_ignore_invalid_rst) {
            ctdp_l4_why(ctx, "invalid rst");
            return CTDP_INVALID;            /* Behind the peer's ack. */
        }
        if (!tcp_established(conn) || s->seq == peer->td_maxack) {
            return CTDP_ACCEPT;
        }
        if (t->last_index == I_ACK && t->last_dir == ctx->dir
            && s->seq == t->last_end) {
            return CTDP_ACCEPT;             /* Ends a train of data. */
        }
        *new_state = conn->l4_state;        /* Inexact: allow a challenge
                                             * ACK, keep the state. */
    }
    if (((status & CTDP_S_SEEN_REPLY && t->last_index == I_SYN
          && t->last_dir != ctx->dir)
         || (!(status & CTDP_S_ASSURED) && t->last_index == I_ACK))
        && s->ack == t->last_end) {
        return CTDP_IGNORE;     /* Answers a SYN or ACK we let through. */
    }
    if (conn->l4_state == sSS && t->last_index == I_ACK
        && t->last_dir == CTDP_DIR_REPLY && s->seq == t->last_ack) {
        return CTDP_IGNORE;     /* Answers a challenge ACK. */
    }
    return CTDP_ACCEPT;
}

/* An out-of-window FIN or RST on an assured conn cuts a long timeout to
 * "unack", so that a conn out of sync does not linger for days (the
 * kernel's nf_tcp_handle_invalid()). */
static void
tcp_handle_invalid(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
                   enum tcp_index index)
{
    struct tcp_conn *t = tcp_of(conn);
    uint16_t status = ctdp_conn_status(conn);
    long long left, unack;

    if (!(status & CTDP_S_ASSURED) || status & CTDP_S_FIXED_TIMEOUT
        || (index != I_RST && index != I_FIN)) {
        return;
    }
    if (t->last_dir != ctx->dir
        && (t->last_index == I_FIN || t->last_index == I_RST)) {
        left = ctdp_conn_expires(conn) - ctx->now;
        unack = ctdp_timeout_ms(ctx, CTDP_TM_TCP_UNACK);
        if (left >= 120 * 1000 && left > unack) {
            ctdp_conn_set_expires(conn, ctx->now + unack);
        }
    } else {
        t->last_index = index;
        t->last_dir = ctx->dir;
    }
}

/* Lowers '*timeout' to the timeout of 'slot' if that is shorter; returns
 * true if it did. */
static bool
tcp_cap_timeout(const struct ctdp_l4_ctx *ctx, enum ctdp_timeout_slot slot,
                long long *timeout)
{
    long long cap = ctdp_timeout_ms(ctx, slot);

    if (*timeout > cap) {
        *timeout = cap;
        return true;
    }
    return false;
}

/* The timeout of a packet that leaves the conn in 'state', the first of
 * the kernel's shorter ones that applies; each is read only when its case
 * comes up, most packets reading the state's alone. */
static long long
tcp_timeout(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
            enum tcp_index index, enum tcp_state state)
{
    const struct tcp_conn *t = tcp_of(conn);
    long long timeout = ctdp_timeout_ms(ctx, tcp_state_slot[state]);

    if (t->retrans >= ctx->tcp_max_retrans
        && tcp_cap_timeout(ctx, CTDP_TM_TCP_RETRANSMIT, &timeout)) {
        return timeout;
    }
    /* An in-window RST that kept ESTABLISHED for a challenge ACK gets
     * CLOSE's timeout, as the running (6.18) kernel does and the project's
     * TCP issue asks; 6.12's source gave UNACK's here. */
    if (index == I_RST && state == sES
        && tcp_cap_timeout(ctx, CTDP_TM_TCP_CLOSE, &timeout)) {
        return timeout;
    }
    if ((t->seen[0].flags | t->seen[1].flags) & CTDP_TCP_F_DATA_UNACKNOWLEDGED
        && tcp_cap_timeout(ctx, CTDP_TM_TCP_UNACK, &timeout)) {
        return timeout;
    }
    if (t->last_win == 0) {
        tcp_cap_timeout(ctx, CTDP_TM_TCP_RETRANSMIT, &timeout);
    }
    return timeout;
}

/* Handles the special cases of the new state; returns CTDP_ACCEPT to go
 * on (with '*skip_window' set to skip the window check). */
static enum ctdp_verdict
tcp_transition(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
               enum tcp_index index, const struct tcp_seg *s,
               enum tcp_state *new_state, bool *skip_window)
{
    struct tcp_conn *t = tcp_of(conn);
    enum tcp_state old = conn->l4_state;
    enum ctdp_ct_dir dir = ctx->dir;

    switch (*new_state) {
    case sSS:
        if (old < sTW) {
            break;
        }
        if ((t->seen[dir].flags | t->seen[!dir].flags) & CTDP_TCP_F_CLOSE_INIT
            || (t->last_dir == dir && t->last_index == I_RST)) {
            return CTDP_REPEAT;     /* Reopening a closed conn. */
        }
        /* fall through */
    case sIG:
        if (!tcp_ignore(conn, ctx, index, s, old)) {
            return CTDP_IGNORE;
        }
        *new_state = sSR;           /* Resynchronised on a SYN/ACK. */
        break;
    case sIV:
        ctdp_l4_why(ctx, "packet (index %d) in dir %d invalid, state %s",
                    index, dir, tcp_state_names[old]);
        return CTDP_INVALID;
    case sTW:
        if (old == sLA && index == I_ACK && t->last_dir != dir
            && t->last_index == I_SYN
            && t->last_flags & TCP_EXP_CHALLENGE_ACK) {
            t->last_flags &= ~TCP_EXP_CHALLENGE_ACK;
            return CTDP_IGNORE;     /* An RFC 5961 challenge ACK. */
        }
        break;
    case sS2:
        t->last_flags |= TCP_SIMULTANEOUS_OPEN;
        break;
    case sSR:
        if (dir == CTDP_DIR_REPLY && index == I_ACK
            && t->last_flags & TCP_SIMULTANEOUS_OPEN) {
            *new_state = sES;
        }
        break;
    case sCL:
        if (index == I_RST) {
            enum ctdp_verdict v = tcp_check_rst(conn, ctx, s, new_state);

            if (v == CTDP_IGNORE) {
                *skip_window = true;
            } else if (v == CTDP_INVALID) {
                return v;
            }
        }
        break;
    default:
        break;
    }
    return CTDP_ACCEPT;
}

static enum ctdp_verdict
tcp_packet(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
           long long *timeout)
{
    struct tcp_conn *t = tcp_of(conn);
    enum tcp_state old, new;
    enum ctdp_verdict verdict;
    bool skip_window = false;
    enum tcp_index index;
    struct tcp_seg s;

    tcp_read(ctx->parsed, &s);
    if (!tcp_flags_valid(s.flags)) {
        ctdp_l4_why(ctx, "invalid tcp flag combination");
        return CTDP_INVALID;
    }
    if (!ctx->confirmed && !tcp_new(conn, ctx, &s)) {
        return CTDP_INVALID;
    }
    old = conn->l4_state;
    index = tcp_index(s.flags);
    new = tcp_conntracks[ctx->dir][index][old];
    verdict = tcp_transition(conn, ctx, index, &s, &new, &skip_window);
    if (verdict != CTDP_ACCEPT) {
        return verdict;
    }
    if (!skip_window) {
        switch (tcp_in_window(conn, ctx, index, &s)) {
        case W_IGNORE:
            return CTDP_IGNORE;
        case W_INVALID:
            tcp_handle_invalid(conn, ctx, index);
            return CTDP_INVALID;
        case W_ACCEPT:
            break;
        }
    }

    t->last_index = index;
    t->last_dir = ctx->dir;
    conn->l4_state = new;
    if (old != new && new == sFW) {
        t->seen[ctx->dir].flags |= CTDP_TCP_F_CLOSE_INIT;
    }
    *timeout = tcp_timeout(conn, ctx, index, new);

    if (!(ctdp_conn_status(conn) & CTDP_S_SEEN_REPLY)) {
        if (s.flags & TH_RST) {
            return CTDP_ACCEPT_KILL;    /* A RST the only answer. */
        }
        if (index == I_SYN && old == sSS) {
            return CTDP_IGNORE;         /* A SYN retransmit renews
                                         * nothing. */
        }
        if (new == sES) {
            /* Picked up in the middle, unanswered yet. */
            *timeout = MIN(*timeout, ctdp_timeout_ms(ctx, CTDP_TM_TCP_UNACK));
        }
    } else if (!(ctdp_conn_status(conn) & CTDP_S_ASSURED)
               && (old == sSR || old == sES) && new == sES) {
        ctdp_conn_set_status(conn, CTDP_S_ASSURED);
    }
    return CTDP_ACCEPT;
}

static bool
tcp_new_ok(const struct ctdp_tuple *t OVS_UNUSED)
{
    return true;                /* tcp_new() decides, on the packet. */
}

static void
tcp_describe(const struct ctdp_conn *conn, struct ctdp_ct_entry *e)
{
    const struct tcp_conn *t = tcp_of(conn);

    e->l4_state = tcp_state_names[conn->l4_state];
    for (int d = 0; d < 2; d++) {
        e->tcp_wscale[d] = t->seen[d].td_scale;
        e->tcp_flags[d] = t->seen[d].flags;
    }
}

static bool
tcp_can_early_drop(const struct ctdp_conn *conn)
{
    return conn->l4_state >= sFW && conn->l4_state <= sCL;
}

const struct ctdp_l4proto ctdp_l4_tcp = {
    .name = "tcp",
    .allow_clash = false,
    .tail_size = sizeof(struct tcp_conn),
    .new_ok = tcp_new_ok,
    .packet = tcp_packet,
    .describe = tcp_describe,
    .can_early_drop = tcp_can_early_drop,
};
