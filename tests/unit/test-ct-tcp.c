/* The TCP tracker, written from the Linux kernel's nf_conntrack_proto_tcp.c
 * (6.12) as an independent specification: the tcp_conntracks state table,
 * tcp_valid_flags, tcp_new(), tcp_in_window(), nf_conntrack_tcp_packet()
 * (RST rules, reopening a closed conn, ignored packets, timeouts, ASSURED)
 * and nf_tcp_handle_invalid().
 *
 * Every test is a script: one row per packet, with the ct_state, the
 * kernel's state name and the timeout expected after it.  A is the client
 * (10.0.0.1:40000, the original direction), B the server (10.0.0.2:80); A's
 * initial sequence number is 1000, B's 5000.  Every packet is sent with
 * ct(commit) in zone 0, so that a conn exists from the first packet the
 * tracker accepts; each script runs on a tracker of its own, which then
 * holds at most one conn. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "dp-packet.h"
#include "packets.h"
#include "util.h"

static const char *const A = "10.0.0.1", *const B = "10.0.0.2";
#define PORT_A 40000
#define PORT_B 80
#define ISN_A 1000
#define ISN_B 5000

/* TCP flag classes, as the kernel's get_conntrack_index() sees them. */
#define F_SYN TCP_SYN
#define F_SA (TCP_SYN | TCP_ACK)
#define F_FA (TCP_FIN | TCP_ACK)
#define F_ACK TCP_ACK
#define F_RST TCP_RST
#define F_RA (TCP_RST | TCP_ACK)

/* The kernel's state names, as dump entries carry them. */
#define sSS "SYN_SENT"
#define sSR "SYN_RECV"
#define sES "ESTABLISHED"
#define sFW "FIN_WAIT"
#define sCW "CLOSE_WAIT"
#define sLA "LAST_ACK"
#define sTW "TIME_WAIT"
#define sCL "CLOSE"
#define sS2 "SYN_SENT2"
#define GONE NULL               /* No conn after the packet. */

/* Expected timeout: seconds after the packet, or one of these. */
#define TMO_ANY (-1)            /* Not checked. */
#define KEEP (-2)               /* Expiry time unchanged by the packet. */

/* Options a step's packet carries. */
enum {
    O_MSS = 1 << 0,
    O_SACKP = 1 << 1,
    O_WS = 1 << 2,              /* Window scale 'ws'. */
    O_SACK = 1 << 3,            /* One SACK block [sack_l, sack_r). */
};

#define WIN_ZERO (-1)           /* 'win' 0 in a step means 65535. */

enum { A2B, B2A };
enum assured { AS_ANY, AS_YES, AS_NO };

/* One packet of a script and what the tracker must make of it. */
struct step {
    int dir;                    /* A2B (original) or B2A (reply). */
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t len;               /* Bytes of data. */
    long long now;              /* ms. */
    int want;                   /* ct_state. */
    const char *state;          /* l4_state after it, or GONE. */
    int tmo;                    /* Seconds, TMO_ANY or KEEP. */
    enum assured assured;
    bool new_id;                /* A conn other than before the packet. */
    int win;                    /* 0: 65535; WIN_ZERO: 0. */
    uint8_t opt, ws;
    uint32_t sack_l, sack_r;
    uint8_t fl_set[2], fl_clear[2];     /* CTDP_TCP_F_* by direction. */
};

/* The common part of a step. */
#define P(DIR, FLAGS, SEQ, ACK, LEN, NOW, WANT, STATE, TMO)            \
    .dir = DIR, .flags = FLAGS, .seq = SEQ, .ack = ACK, .len = LEN,   \
    .now = NOW, .want = WANT, .state = STATE, .tmo = TMO

/* ---- The runner -------------------------------------------------------- */

static uint64_t
n_invalid(const struct ctdp_ct *ct)
{
    struct ctdp_ct_stats s;

    ctdp_ct_get_stats(ct, &s);
    return s.invalid;
}

/* Reports a failed check of packet 'i' of script 'name'. */
static void OVS_PRINTF_FORMAT(4, 5)
step_check(bool ok, const char *name, size_t i, const char *format, ...)
{
    char what[256], msg[384];
    va_list args;

    if (ok) {
        return;
    }
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    snprintf(msg, sizeof msg, "%s, packet %"PRIuSIZE": %s", name, i, what);
    ctdp_unit_check(false, msg, __FILE__, __LINE__);
}

/* Fetches the tracker's only conn at 'now' into 'e'; false if none. */
static bool
the_conn(struct ctdp_ct *ct, long long now, struct ctdp_ct_entry *e)
{
    size_t n = tpkt_dump(ct, 0, now, e, 1);

    CHECK(n <= 1);
    return n > 0;
}

static struct dp_packet *
step_packet(const struct step *s)
{
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    uint16_t win = !s->win ? 65535 : s->win == WIN_ZERO ? 0 : s->win;
    uint8_t opts[40];
    size_t n = 0;

    if (s->opt & O_MSS) {
        n += tpkt_tcp_opt_mss(opts + n, 1460);
    }
    if (s->opt & O_SACKP) {
        n += tpkt_tcp_opt_sack_perm(opts + n);
    }
    if (s->opt & O_WS) {
        n += tpkt_tcp_opt_wscale(opts + n, s->ws);
    }
    if (s->opt & O_SACK) {
        n += tpkt_tcp_opt_sack(opts + n, s->sack_l, s->sack_r);
    }
    if (s->dir == A2B) {
        return tpkt_tcp_seg(&ab, PORT_A, PORT_B, s->flags, s->seq, s->ack,
                            win, opts, n, s->len);
    }
    return tpkt_tcp_seg(&ba, PORT_B, PORT_A, s->flags, s->seq, s->ack, win,
                        opts, n, s->len);
}

static void
check_entry(const char *name, size_t i, const struct step *s,
            bool had, const struct ctdp_ct_entry *before,
            const struct ctdp_ct_entry *e)
{
    long long want_exp = s->tmo == KEEP ? before->expires
                         : s->now + 1000LL * s->tmo;

    step_check(!strcmp(e->l4_state ? e->l4_state : "(null)", s->state),
               name, i, "state %s, want %s", e->l4_state, s->state);
    if (s->tmo != TMO_ANY) {
        step_check(e->expires == want_exp, name, i,
                   "expires %lld (%+lld s), want %lld (%+lld s)",
                   e->expires, (e->expires - s->now) / 1000, want_exp,
                   (want_exp - s->now) / 1000);
    }
    if (s->assured != AS_ANY) {
        bool assured = e->status & CTDP_S_ASSURED;

        step_check(assured == (s->assured == AS_YES), name, i,
                   "ASSURED is %d", assured);
    }
    if (s->new_id || had) {
        step_check((e->id != before->id) == s->new_id, name, i,
                   "id %"PRIu64" after %"PRIu64"%s", e->id, before->id,
                   s->new_id ? ", want a new conn" : "");
    }
    for (int d = 0; d < 2; d++) {
        step_check((e->tcp_flags[d] & s->fl_set[d]) == s->fl_set[d]
                   && !(e->tcp_flags[d] & s->fl_clear[d]), name, i,
                   "tcp_flags[%d] %#x, want %#x set and %#x clear", d,
                   e->tcp_flags[d], s->fl_set[d], s->fl_clear[d]);
    }
}

/* Sends packet 'i' of script 'name' and checks the outcome. */
static void
run_step(struct ctdp_ct *ct, const char *name, size_t i, const struct step *s)
{
    struct ctdp_ct_entry before, after;
    uint64_t invalid = n_invalid(ct);
    char got_s[64], want_s[64];
    bool had, has;
    int got;

    memset(&before, 0, sizeof before);
    had = the_conn(ct, s->now, &before);
    got = tpkt_ct1(ct, step_packet(s), 0, true, s->now);
    step_check(got == s->want, name, i, "ct_state %s, want %s",
               tpkt_state_name(got, got_s, sizeof got_s),
               tpkt_state_name(s->want, want_s, sizeof want_s));
    step_check(n_invalid(ct) - invalid == (s->want == TRK_INV), name, i,
               "stats.invalid grew by %"PRIu64, n_invalid(ct) - invalid);
    has = the_conn(ct, s->now, &after);
    if (!s->state) {
        step_check(!has, name, i, "conn in %s, want none", after.l4_state);
    } else if (!has) {
        step_check(false, name, i, "no conn, want one in %s", s->state);
    } else {
        check_entry(name, i, s, had, &before, &after);
    }
}

static void
run_steps(struct ctdp_ct *ct, const char *name, const struct step *steps,
          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        run_step(ct, name, i, &steps[i]);
    }
}

/* Sends 'steps' without checking what the tracker makes of them. */
static void
replay(struct ctdp_ct *ct, const struct step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tpkt_ct1(ct, step_packet(&steps[i]), 0, true, steps[i].now);
    }
}

/* Runs 'STEPS' on a new tracker with the defaults. */
#define RUN(STEPS) run_script(#STEPS, STEPS, ARRAY_SIZE(STEPS), NULL)

/* Runs a script on a new tracker, with 'setup' (if nonnull) applied
 * first. */
static void
run_script(const char *name, const struct step *steps, size_t n,
           void (*setup)(struct ctdp_ct *))
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);

    if (setup) {
        setup(ct);
    }
    run_steps(ct, name, steps, n);
    tpkt_ct_destroy(ct);
}

/* The zone policy that tells the two 300 s timeouts apart. */
static void
retrans_100_unack_200(struct ctdp_ct *ct)
{
    struct ctdp_timeout_policy p;

    ctdp_timeout_policy_init(&p);
    p.secs[CTDP_TM_TCP_RETRANSMIT] = 100;
    p.secs[CTDP_TM_TCP_UNACK] = 200;
    ctdp_ct_set_timeout_policy(ct, 0, &p);
}

static void
loose_off(struct ctdp_ct *ct)
{
    ctdp_ct_set_tcp_loose(ct, false);
}

static void
be_liberal(struct ctdp_ct *ct)
{
    ctdp_ct_set_tcp_be_liberal(ct, true);
}

static void
seq_check_off(struct ctdp_ct *ct)
{
    ctdp_ct_set_tcp_seq_check(ct, false);
}

/* ---- Paths to every state ---------------------------------------------- */

/* The three-way handshake, data-less, then a close started by A. */
#define HANDSHAKE                                                       \
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120),                  \
      .assured = AS_NO },                                               \
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60),          \
      .assured = AS_NO },                                               \
    { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000),         \
      .assured = AS_YES }

/* The handshake under retrans_100_unack_200(): the kernel's last_win is 0
 * until the first ACK-class packet, so the SYN gets the RETRANS timeout
 * when that is shorter than SYN_SENT's. */
#define HANDSHAKE_R100                                                  \
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 100) },                \
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60) },        \
    { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000) }

static const struct step main_path[] = {
    HANDSHAKE,
    { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120),
      .fl_set = { CTDP_TCP_F_CLOSE_INIT, 0 },
      .fl_clear = { 0, CTDP_TCP_F_CLOSE_INIT } },
    { P(B2A, F_ACK, 5001, 1002, 0, 4000, TRK_EST_RPL, sCW, 60) },
    { P(B2A, F_FA, 5001, 1002, 0, 5000, TRK_EST_RPL, sLA, 30) },
    { P(A2B, F_ACK, 1002, 5002, 0, 6000, TRK_EST, sTW, 120) },
};

/* Simultaneous open: B's SYN crosses A's.  The kernel does not renew the
 * timeout of a SYN_SENT conn for a SYN before any reply. */
static const struct step s2_path[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120) },
    { P(B2A, F_SYN, 5000, 0, 0, 1000, TRK_EST_RPL, sS2, KEEP),
      .assured = AS_NO },
};

/* A resets an established conn with the exact sequence number. */
static const struct step close_path[] = {
    HANDSHAKE,
    { P(A2B, F_RST, 1001, 0, 0, 3000, TRK_EST, sCL, 10) },
};

/* ---- Every transition of tcp_conntracks -------------------------------- */

enum { C_SYN, C_SYNACK, C_FIN, C_ACK, C_RST, C_NONE, N_CLASSES };

static const uint8_t class_flags[N_CLASSES] = {
    F_SYN, F_SA, F_FA, F_ACK, F_RST, 0,
};
static const char *const class_names[N_CLASSES] = {
    "syn", "synack", "fin", "ack", "rst", "none",
};

enum outcome_type {
    GOTO,                       /* Accepted; the new state and timeout. */
    STAY,                       /* Accepted, new state, timeout not
                                 * renewed. */
    IGNORED,                    /* sIG: accepted, nothing changes. */
    INVALID,                    /* sIV: trk|inv, nothing changes. */
    KILLED,                     /* Accepted, then the conn is deleted. */
    REPEATED,                   /* The conn ends; the packet starts a new
                                 * one (SYN_SENT). */
};

struct outcome {
    enum outcome_type type;
    const char *state;
    int tmo;
};

#define TO(STATE, TMO) { GOTO, STATE, TMO }
#define NR(STATE) { STAY, STATE, KEEP }
#define IG { IGNORED, NULL, KEEP }
#define IV { INVALID, NULL, KEEP }
#define KL { KILLED, GONE, TMO_ANY }
#define RP { REPEATED, sSS, 120 }

/* A state reached by the first 'n_prefix' packets of 'prefix', the next
 * sequence number of each side there, and what each flag class does in
 * each direction: the kernel's table, [dir][class][state], with the
 * special cases of nf_conntrack_tcp_packet() applied (see the notes). */
struct transition {
    const char *state;
    const struct step *prefix;
    size_t n_prefix;
    bool seen_reply;
    uint32_t next[2];
    struct outcome out[2][N_CLASSES];
};

static const struct transition transitions[] = {
    /* SYN in SYN_SENT is a retransmission: timeout not renewed.  A RST
     * either way before any reply deletes the conn.  A reply ACK is
     * ignored (might be a half-open conn); a reply SYN is simultaneous
     * open, not renewed either (no reply seen yet). */
    { sSS, main_path, 1, false, { 1001, 5000 }, {
        /*         syn      synack      fin  ack  rst  none */
        /* A2B */ { NR(sSS), IV,         IV,  IV,  KL,  IV },
        /* B2A */ { NR(sS2), TO(sSR, 60), IV, IG,  KL,  IV } } },
    { sS2, s2_path, 2, true, { 1001, 5001 }, {
        { TO(sS2, 120), TO(sSR, 60), IV, IV, TO(sCL, 10), IV },
        { TO(sS2, 120), TO(sSR, 60), IV, IG, TO(sCL, 10), IV } } },
    /* An original SYN/ACK in SYN_RECV is a late retransmission of a
     * simultaneous open: accepted.  A reply ACK stays in SYN_RECV. */
    { sSR, main_path, 2, true, { 1001, 5001 }, {
        { IG, TO(sSR, 60), TO(sFW, 120), TO(sES, 432000), TO(sCL, 10), IV },
        { IV, IG, TO(sFW, 120), TO(sSR, 60), TO(sCL, 10), IV } } },
    /* RSTs with the exact sequence number close. */
    { sES, main_path, 3, true, { 1001, 5001 }, {
        { IG, IV, TO(sFW, 120), TO(sES, 432000), TO(sCL, 10), IV },
        { IV, IG, TO(sFW, 120), TO(sES, 432000), TO(sCL, 10), IV } } },
    /* A second FIN from either side means both closed. */
    { sFW, main_path, 4, true, { 1002, 5001 }, {
        { IG, IV, TO(sLA, 30), TO(sCW, 60), TO(sCL, 10), IV },
        { IV, IG, TO(sLA, 30), TO(sCW, 60), TO(sCL, 10), IV } } },
    { sCW, main_path, 5, true, { 1002, 5001 }, {
        { IG, IV, TO(sLA, 30), TO(sCW, 60), TO(sCL, 10), IV },
        { IV, IG, TO(sLA, 30), TO(sCW, 60), TO(sCL, 10), IV } } },
    { sLA, main_path, 6, true, { 1002, 5002 }, {
        { IG, IV, TO(sLA, 30), TO(sTW, 120), TO(sCL, 10), IV },
        { IV, IG, TO(sLA, 30), TO(sTW, 120), TO(sCL, 10), IV } } },
    /* A SYN either way reopens (CLOSE_INIT is set): the old conn ends
     * and the SYN starts a new one in its own direction (NF_REPEAT). */
    { sTW, main_path, 7, true, { 1002, 5002 }, {
        { RP, IV, TO(sTW, 120), TO(sTW, 120), TO(sCL, 10), IV },
        { RP, IG, TO(sTW, 120), TO(sTW, 120), TO(sCL, 10), IV } } },
    /* A reset, then A's SYN reopens: the last packet was A's RST. */
    { sCL, close_path, 4, true, { 1001, 5001 }, {
        { RP, IV, TO(sCL, 10), TO(sCL, 10), TO(sCL, 10), IV },
        { IV, IG, TO(sCL, 10), TO(sCL, 10), TO(sCL, 10), IV } } },
};

/* Builds the probe of 'class' in 'dir' after 't''s prefix. */
static struct step
probe_step(const struct transition *t, int dir, int class)
{
    const struct outcome *o = &t->out[dir][class];
    uint32_t isn = dir == A2B ? ISN_A : ISN_B;
    int accepted = dir == B2A ? TRK_EST_RPL
                   : t->seen_reply ? TRK_EST : TRK_NEW;
    struct step s;

    memset(&s, 0, sizeof s);
    s.dir = dir;
    s.flags = class_flags[class];
    s.seq = class == C_SYN || class == C_SYNACK ? isn : t->next[dir];
    if (o->type == REPEATED) {
        s.seq = isn + 100000;       /* A new incarnation's ISN. */
    }
    s.ack = s.flags & TCP_ACK ? t->next[!dir] : 0;
    s.now = t->prefix[t->n_prefix - 1].now + 1000;
    s.tmo = o->tmo;
    s.state = o->state;
    s.want = accepted;
    switch (o->type) {
    case GOTO:
    case STAY:
    case KILLED:
        break;
    case IGNORED:
        s.state = t->state;
        break;
    case INVALID:
        s.state = t->state;
        s.want = TRK_INV;
        break;
    case REPEATED:
        s.want = TRK_NEW;
        s.new_id = true;
        s.assured = AS_NO;
        break;
    }
    return s;
}

/* For every state reachable by a prefix, every flag class in each
 * direction gives the kernel's next state and timeout, or is ignored
 * (accepted, state and expiry unchanged), invalid (trk|inv, nothing
 * changes), kills the conn or reopens it. */
static void
test_transitions(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(transitions); i++) {
        const struct transition *t = &transitions[i];

        for (int dir = A2B; dir <= B2A; dir++) {
            for (int class = 0; class < N_CLASSES; class++) {
                struct ctdp_ct *ct = ctdp_ct_create(NULL);
                struct step probe = probe_step(t, dir, class);
                char name[64];

                if (dir == A2B && class == 0) {
                    snprintf(name, sizeof name, "%s prefix", t->state);
                    run_steps(ct, name, t->prefix, t->n_prefix);
                } else {
                    replay(ct, t->prefix, t->n_prefix);
                }
                snprintf(name, sizeof name, "%s + %s %s", t->state,
                         dir == A2B ? "orig" : "reply", class_names[class]);
                run_step(ct, name, 0, &probe);
                tpkt_ct_destroy(ct);
            }
        }
    }
}

/* ---- Opening and data -------------------------------------------------- */

/* Every original-direction packet is new until the first reply; the
 * handshake's last ACK makes the conn ESTABLISHED and ASSURED (not the
 * SYN/ACK); unacknowledged data in either direction caps the timeout at
 * 300 s until the peer acknowledges it. */
static void
test_handshake_and_data(void)
{
    static const struct step steps[] = {
        { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120), .opt = O_MSS },
        { P(A2B, F_SYN, 1000, 0, 0, 3000, TRK_NEW, sSS, KEEP),
          .opt = O_MSS, .assured = AS_NO },
        { P(B2A, F_SA, 5000, 1001, 0, 3100, TRK_EST_RPL, sSR, 60),
          .opt = O_MSS, .assured = AS_NO },
        { P(A2B, F_ACK, 1001, 5001, 0, 3200, TRK_EST, sES, 432000),
          .assured = AS_YES,
          .fl_set = { CTDP_TCP_F_MAXACK_SET, CTDP_TCP_F_MAXACK_SET },
          .fl_clear = { CTDP_TCP_F_DATA_UNACKNOWLEDGED,
                        CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
        { P(A2B, F_ACK | TCP_PSH, 1001, 5001, 100, 4000, TRK_EST, sES, 300),
          .fl_set = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
        { P(B2A, F_ACK, 5001, 1101, 0, 5000, TRK_EST_RPL, sES, 432000),
          .fl_clear = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
        { P(B2A, F_ACK | TCP_PSH, 5001, 1101, 1000, 6000, TRK_EST_RPL, sES,
            300), .fl_set = { 0, CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
        { P(A2B, F_ACK, 1101, 6001, 0, 7000, TRK_EST, sES, 432000),
          .fl_clear = { 0, CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
    };

    RUN(steps);
}

/* Simultaneous open: SYN_SENT2 on B's SYN, SYN_RECV on A's SYN/ACK, and
 * B's ACK establishes (the kernel's IP_CT_TCP_SIMULTANEOUS_OPEN rule). */
static void
test_simultaneous_open(void)
{
    static const struct step steps[] = {
        { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120) },
        { P(B2A, F_SYN, 5000, 0, 0, 1000, TRK_EST_RPL, sS2, KEEP) },
        { P(A2B, F_SA, 1000, 5001, 0, 2000, TRK_EST, sSR, 60),
          .assured = AS_NO },
        { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 432000),
          .assured = AS_YES },
        { P(A2B, F_ACK, 1001, 5001, 10, 4000, TRK_EST, sES, 300) },
    };

    RUN(steps);
}

/* ---- Closing ----------------------------------------------------------- */

/* B closes first: the same states, CLOSE_INIT on B's side; TIME_WAIT
 * lasts 120 s, then the conn is gone. */
static void
test_fin_close_by_server(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(B2A, F_FA, 5001, 1001, 0, 3000, TRK_EST_RPL, sFW, 120),
          .fl_set = { 0, CTDP_TCP_F_CLOSE_INIT },
          .fl_clear = { CTDP_TCP_F_CLOSE_INIT, 0 } },
        { P(A2B, F_ACK, 1001, 5002, 0, 4000, TRK_EST, sCW, 60) },
        { P(A2B, F_FA, 1001, 5002, 0, 5000, TRK_EST, sLA, 30) },
        { P(B2A, F_ACK, 5002, 1002, 0, 6000, TRK_EST_RPL, sTW, 120) },
        { P(B2A, F_ACK, 5002, 1002, 0, 7000, TRK_EST_RPL, sTW, 120) },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);

    run_steps(ct, "fin_close_by_server", steps, ARRAY_SIZE(steps));
    CHECK_EQ(tpkt_dump(ct, 0, 126999, NULL, 0), 1);
    CHECK_EQ(tpkt_dump(ct, 0, 127000, NULL, 0), 0);
    tpkt_ct_destroy(ct);
}

/* Both sides send FIN at once (neither FIN acknowledges the other):
 * FIN_WAIT, LAST_ACK, then TIME_WAIT on the first ACK. */
static void
test_fin_close_simultaneous(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120) },
        { P(B2A, F_FA, 5001, 1001, 0, 3001, TRK_EST_RPL, sLA, 30),
          .fl_set = { CTDP_TCP_F_CLOSE_INIT, 0 } },
        { P(A2B, F_ACK, 1002, 5002, 0, 4000, TRK_EST, sTW, 120) },
        { P(B2A, F_ACK, 5002, 1002, 0, 4001, TRK_EST_RPL, sTW, 120) },
    };

    RUN(steps);
}

/* B's FIN+ACK that also acknowledges A's FIN goes from FIN_WAIT straight
 * to LAST_ACK, skipping CLOSE_WAIT. */
static void
test_fin_ack_skips_close_wait(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120) },
        { P(B2A, F_FA, 5001, 1002, 0, 4000, TRK_EST_RPL, sLA, 30) },
        { P(A2B, F_ACK, 1002, 5002, 0, 5000, TRK_EST, sTW, 120) },
    };

    RUN(steps);
}

/* An RFC 5961 challenge ACK: a SYN in LAST_ACK is ignored, and B's ACK
 * answering it is not taken for the last ACK (state and expiry kept);
 * A's real last ACK then gives TIME_WAIT. */
static void
test_challenge_ack_in_last_ack(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120) },
        { P(B2A, F_ACK, 5001, 1002, 0, 4000, TRK_EST_RPL, sCW, 60) },
        { P(B2A, F_FA, 5001, 1002, 0, 5000, TRK_EST_RPL, sLA, 30) },
        { P(A2B, F_SYN, 70000, 0, 0, 6000, TRK_EST, sLA, KEEP) },
        { P(B2A, F_ACK, 5002, 1002, 0, 7000, TRK_EST_RPL, sLA, KEEP) },
        { P(A2B, F_ACK, 1002, 5002, 0, 8000, TRK_EST, sTW, 120) },
    };

    RUN(steps);
}

/* ---- Resets ------------------------------------------------------------ */

/* A RST with exactly the sequence number the peer acknowledged closes:
 * CLOSE for 10 s, then gone.  RST+ACK works the same way. */
static void
test_rst_exact(void)
{
    static const struct step by_server[] = {
        HANDSHAKE,
        { P(B2A, F_RST, 5001, 0, 0, 3000, TRK_EST_RPL, sCL, 10) },
        { P(A2B, F_ACK, 1001, 5001, 0, 12999, TRK_EST, sCL, 10) },
        { P(A2B, F_ACK, 1001, 5001, 0, 23000, TRK_NEW, sES, 300),
          .new_id = true, .assured = AS_NO },
    };
    static const struct step by_client_rst_ack[] = {
        HANDSHAKE,
        { P(A2B, F_RA, 1001, 5001, 0, 3000, TRK_EST, sCL, 10) },
    };

    RUN(by_server);
    RUN(by_client_rst_ack);
}

/* A RST inside the window but not at the exact sequence number, in an
 * established conn, keeps ESTABLISHED (for a challenge ACK) with the
 * UNACK timeout; the exact RST that follows closes. */
static void
test_rst_inexact(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(B2A, F_RST, 5101, 0, 0, 3000, TRK_EST_RPL, sES, 300) },
        { P(B2A, F_RST, 5001, 0, 0, 4000, TRK_EST_RPL, sCL, 10) },
    };
    static const struct step with_policy[] = {
        HANDSHAKE_R100,
        { P(B2A, F_RST, 5101, 0, 0, 3000, TRK_EST_RPL, sES, 200) },
    };

    RUN(steps);
    run_script("rst_inexact with_policy", with_policy,
               ARRAY_SIZE(with_policy), retrans_100_unack_200);
}

/* A RST with a sequence number below what the peer already acknowledged
 * (td_maxack) is invalid, in either direction; nothing changes. */
static void
test_rst_before_maxack(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(B2A, F_RST, 4000, 0, 0, 3000, TRK_INV, sES, KEEP) },
        { P(A2B, F_ACK, 1001, 5001, 100, 4000, TRK_EST, sES, 300) },
        { P(B2A, F_ACK, 5001, 1101, 0, 5000, TRK_EST_RPL, sES, 432000) },
        { P(A2B, F_RST, 1050, 0, 0, 6000, TRK_INV, sES, KEEP) },
        { P(A2B, F_RA, 1050, 5001, 0, 6000, TRK_INV, sES, KEEP) },
        { P(A2B, F_RST, 1101, 0, 0, 7000, TRK_EST, sCL, 10) },
    };

    RUN(steps);
}

/* A SYN answered only by a RST (with ACK, sequence 0, as Linux sends):
 * the RST is accepted as a reply, and the conn is deleted at once.  The
 * next SYN makes a new conn. */
static void
test_syn_answered_by_rst(void)
{
    static const struct step steps[] = {
        { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120) },
        { P(B2A, F_RA, 0, 1001, 0, 100, TRK_EST_RPL, GONE, TMO_ANY),
          .win = WIN_ZERO },
        { P(A2B, F_SYN, 1000, 0, 0, 1000, TRK_NEW, sSS, 120),
          .assured = AS_NO },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);

    run_steps(ct, "syn_answered_by_rst", steps, 2);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    run_steps(ct, "syn_answered_by_rst", steps + 2, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_ct_destroy(ct);
}

/* After the server's RST closed the conn, the client's SYN on the same
 * tuple is ignored (the RST was not the client's), and the server's
 * SYN/ACK acknowledging that SYN brings the tracker back in sync:
 * SYN_RECV, then ESTABLISHED, same conn. */
static void
test_rst_then_reconnect_resync(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(B2A, F_RST, 5001, 0, 0, 3000, TRK_EST_RPL, sCL, 10) },
        { P(A2B, F_SYN, 70000, 0, 0, 4000, TRK_EST, sCL, KEEP) },
        { P(B2A, F_SA, 90000, 70001, 0, 5000, TRK_EST_RPL, sSR, 60) },
        { P(A2B, F_ACK, 70001, 90001, 0, 6000, TRK_EST, sES, 432000) },
    };

    RUN(steps);
}

/* ---- Reopening --------------------------------------------------------- */

/* A new SYN on a TIME_WAIT tuple ends the old conn and starts a new one
 * with a new id (NF_REPEAT), which then opens normally. */
static void
test_port_reuse_after_time_wait(void)
{
    static const struct step reuse[] = {
        { P(A2B, F_SYN, 70000, 0, 0, 7000, TRK_NEW, sSS, 120),
          .new_id = true, .assured = AS_NO },
        { P(B2A, F_SA, 90000, 70001, 0, 8000, TRK_EST_RPL, sSR, 60) },
        { P(A2B, F_ACK, 70001, 90001, 0, 9000, TRK_EST, sES, 432000),
          .assured = AS_YES },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);

    run_steps(ct, "time_wait prefix", main_path, ARRAY_SIZE(main_path));
    run_steps(ct, "port_reuse", reuse, ARRAY_SIZE(reuse));
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_ct_destroy(ct);
}

/* Without commit, the reopening SYN still ends the old conn, and the new
 * one is not kept. */
static void
test_port_reuse_without_commit(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct dp_packet *syn = tpkt_tcp_seg(&ab, PORT_A, PORT_B, F_SYN, 70000,
                                         0, 65535, NULL, 0, 0);

    run_steps(ct, "time_wait prefix", main_path, ARRAY_SIZE(main_path));
    CHECK_STATE(tpkt_ct1(ct, syn, 0, false, 7000), TRK_NEW);
    CHECK_EQ(tpkt_dump(ct, 0, 7000, NULL, 0), 0);
    tpkt_ct_destroy(ct);
}

/* ---- Picking up conns in the middle ------------------------------------ */

/* With loose on (the default), a lone ACK makes an ESTABLISHED conn that
 * has seen no reply, with the timeout capped at 300 s; original packets
 * stay new until B answers; the first reply is still capped (SEEN_REPLY
 * is set after it), and the next original packet makes the conn
 * ASSURED. */
static void
test_loose_pickup(void)
{
    static const struct step steps[] = {
        { P(A2B, F_ACK, 1000, 2000, 0, 0, TRK_NEW, sES, 300),
          .assured = AS_NO,
          .fl_set = { CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_SACK_PERM,
                      CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_SACK_PERM } },
        { P(A2B, F_ACK, 1000, 2000, 0, 1000, TRK_NEW, sES, 300),
          .assured = AS_NO },
        { P(B2A, F_ACK, 2000, 1000, 0, 2000, TRK_EST_RPL, sES, 300),
          .assured = AS_NO },
        { P(A2B, F_ACK, 1000, 2000, 0, 3000, TRK_EST, sES, 432000),
          .assured = AS_YES },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_entry e;

    run_steps(ct, "loose_pickup", steps, 1);
    CHECK(the_conn(ct, 0, &e));
    CHECK(!(e.status & CTDP_S_SEEN_REPLY));
    run_steps(ct, "loose_pickup", steps + 1, ARRAY_SIZE(steps) - 1);
    CHECK(the_conn(ct, 3000, &e));
    CHECK(e.status & CTDP_S_SEEN_REPLY);
    tpkt_ct_destroy(ct);
}

/* With loose off, a lone ACK is invalid and creates nothing; a SYN still
 * opens a conn. */
static void
test_loose_off(void)
{
    static const struct step steps[] = {
        { P(A2B, F_ACK, 1000, 2000, 0, 0, TRK_INV, GONE, TMO_ANY) },
        { P(B2A, F_ACK, 2000, 1000, 0, 0, TRK_INV, GONE, TMO_ANY) },
        { P(A2B, F_ACK | TCP_PSH, 1000, 2000, 10, 0, TRK_INV, GONE,
            TMO_ANY) },
        { P(A2B, F_SYN, 1000, 0, 0, 1000, TRK_NEW, sSS, 120) },
    };

    run_script("loose_off", steps, ARRAY_SIZE(steps), loose_off);
}

/* ---- Flags ------------------------------------------------------------- */

/* Flag combinations outside tcp_valid_flags, and valid ones whose class
 * cannot start a conn (tcp_new: sNO -> sIV for SYN/ACK, FIN, RST), are
 * invalid as a first packet and create nothing; PSH, ECE and CWR are
 * always allowed. */
static void
test_invalid_first_packets(void)
{
    static const uint8_t bad[] = {
        TCP_SYN | TCP_FIN, TCP_SYN | TCP_RST, 0, TCP_FIN, TCP_PSH, TCP_URG,
        TCP_FIN | TCP_PSH, TCP_FIN | TCP_URG, TCP_RST | TCP_FIN,
        TCP_SYN | TCP_FIN | TCP_ACK, TCP_SYN | TCP_RST | TCP_ACK,
        TCP_RST | TCP_FIN | TCP_ACK, TCP_SYN | TCP_ACK | TCP_URG,
        TCP_RST | TCP_URG, TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK | TCP_URG,
        /* Valid flags, but no conn can start with them. */
        F_SA, F_FA, F_FA | TCP_PSH, F_RST, F_RA, TCP_FIN | TCP_ACK | TCP_URG,
    };
    static const struct {
        uint8_t flags;
        const char *state;
    } good[] = {
        { TCP_SYN | TCP_ECE | TCP_CWR, sSS },
        { TCP_SYN | TCP_URG, sSS },
        { TCP_SYN | TCP_PSH, sSS },
        { TCP_ACK | TCP_PSH | TCP_ECE, sES },
        { TCP_ACK | TCP_URG, sES },
    };
    char name[64];

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct step s = { P(A2B, bad[i], 1000, 2000, 0, 0, TRK_INV, GONE,
                            TMO_ANY) };
        struct ctdp_ct *ct = ctdp_ct_create(NULL);

        snprintf(name, sizeof name, "first packet flags %#x", bad[i]);
        run_step(ct, name, 0, &s);
        CHECK_EQ(ctdp_ct_n_conns(ct), 0);
        tpkt_ct_destroy(ct);
    }
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct step s = { P(A2B, good[i].flags, 1000,
                            good[i].flags & TCP_ACK ? 2000 : 0, 0, 0,
                            TRK_NEW, good[i].state, TMO_ANY) };
        struct ctdp_ct *ct = ctdp_ct_create(NULL);

        snprintf(name, sizeof name, "first packet flags %#x", good[i].flags);
        run_step(ct, name, 0, &s);
        tpkt_ct_destroy(ct);
    }
}

/* Invalid flag combinations on an established conn are invalid and
 * change nothing. */
static void
test_invalid_flags_established(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(A2B, TCP_SYN | TCP_FIN, 1001, 5001, 0, 3000, TRK_INV, sES,
            KEEP) },
        { P(B2A, TCP_SYN | TCP_RST, 5001, 1001, 0, 3000, TRK_INV, sES,
            KEEP) },
        { P(A2B, 0, 1001, 5001, 0, 3000, TRK_INV, sES, KEEP) },
        { P(B2A, TCP_FIN, 5001, 1001, 0, 3000, TRK_INV, sES, KEEP) },
        { P(A2B, TCP_FIN | TCP_RST | TCP_ACK, 1001, 5001, 0, 3000, TRK_INV,
            sES, KEEP) },
        { P(A2B, F_ACK, 1001, 5001, 0, 4000, TRK_EST, sES, 432000) },
    };

    RUN(steps);
}

/* ---- Windows ----------------------------------------------------------- */

/* Out-of-window segments: data beyond what the receiver's window allows,
 * either way, and an ACK of data never sent are invalid and change
 * nothing; data far behind and ACKs far behind are ignored (accepted, no
 * refresh). */
static const struct step out_of_window[] = {
    HANDSHAKE,
    { P(A2B, F_ACK, 201001, 5001, 100, 3000, TRK_INV, sES, KEEP) },
    { P(B2A, F_ACK, 205001, 1001, 100, 3000, TRK_INV, sES, KEEP) },
    { P(A2B, F_ACK, 1001, 6001, 0, 3000, TRK_INV, sES, KEEP) },
    { P(B2A, F_ACK, 5001, 1101, 0, 3000, TRK_INV, sES, KEEP) },
    { P(A2B, F_ACK, 1001u - 100000u, 5001, 100, 4000, TRK_EST, sES, KEEP) },
    { P(B2A, F_ACK, 5001, 1001u - 100000u, 0, 4000, TRK_EST_RPL, sES, KEEP) },
};

static void
test_out_of_window(void)
{
    RUN(out_of_window);
}

/* With be_liberal the same segments are accepted and refresh the conn; so
 * they are with sequence checks off. */
static void
test_out_of_window_liberal(void)
{
    static const struct step liberal[] = {
        HANDSHAKE,
        { P(A2B, F_ACK, 201001, 5001, 100, 3000, TRK_EST, sES, 432000) },
        { P(B2A, F_ACK, 205001, 1001, 100, 3000, TRK_EST_RPL, sES, 432000) },
        { P(A2B, F_ACK, 1001, 6001, 0, 3000, TRK_EST, sES, 432000) },
        { P(B2A, F_ACK, 5001, 1101, 0, 3000, TRK_EST_RPL, sES, 432000) },
    };
    static const struct step unchecked[] = {
        HANDSHAKE,
        { P(A2B, F_ACK, 201001, 5001, 100, 3000, TRK_EST, sES, TMO_ANY) },
        { P(B2A, F_ACK, 205001, 1001, 100, 3000, TRK_EST_RPL, sES,
            TMO_ANY) },
        { P(A2B, F_ACK, 1001, 6001, 0, 3000, TRK_EST, sES, TMO_ANY) },
        { P(B2A, F_ACK, 5001, 1101, 0, 3000, TRK_EST_RPL, sES, TMO_ANY) },
    };

    run_script("liberal", liberal, ARRAY_SIZE(liberal), be_liberal);
    run_script("seq_check_off", unchecked, ARRAY_SIZE(unchecked),
               seq_check_off);
}

/* A segment that overshoots the receiver's window by less than a window
 * is ignored (accepted, not refreshed) but advances the sender's end, so
 * that the peer's ACK of it is accepted rather than "ACK over upper
 * bound". */
static void
test_overshot(void)
{
    static const struct step steps[] = {
        HANDSHAKE,
        { P(A2B, F_ACK, 66537, 5001, 100, 3000, TRK_EST, sES, KEEP),
          .fl_set = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
        { P(B2A, F_ACK, 5001, 66637, 0, 4000, TRK_EST_RPL, sES, 432000),
          .fl_clear = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
    };

    RUN(steps);
}

/* Two out-of-window FIN/RST in opposite directions on an assured conn are
 * invalid, and the second one lowers the timeout to UNACK
 * (nf_tcp_handle_invalid). */
static void
test_invalid_fin_rst_lower_timeout(void)
{
    static const struct step steps[] = {
        HANDSHAKE_R100,
        { P(A2B, F_FA, 201001, 5001, 0, 3000, TRK_INV, sES, KEEP) },
        { P(B2A, F_RST, 205001, 0, 0, 4000, TRK_INV, sES, 200) },
    };

    run_script("invalid_fin_rst", steps, ARRAY_SIZE(steps),
               retrans_100_unack_200);
}

/* With window scaling on both sides, the scaled windows bound the data:
 * segments far beyond 65535 bytes ahead are accepted.  The entry shows
 * the scales and the per-direction flags. */
static void
test_window_scale_both(void)
{
    static const struct step steps[] = {
        { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120),
          .opt = O_MSS | O_SACKP | O_WS, .ws = 7 },
        { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60),
          .opt = O_MSS | O_SACKP | O_WS, .ws = 7 },
        { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000),
          .win = 1000 },
        { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 432000) },
        { P(B2A, F_ACK, 105001, 1001, 100, 4000, TRK_EST_RPL, sES, 300),
          .fl_set = { 0, CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
        { P(A2B, F_ACK, 1001001, 5001, 100, 5000, TRK_EST, sES, 300),
          .win = 1000,
          .fl_set = { CTDP_TCP_F_WINDOW_SCALE | CTDP_TCP_F_SACK_PERM
                      | CTDP_TCP_F_MAXACK_SET
                      | CTDP_TCP_F_DATA_UNACKNOWLEDGED,
                      CTDP_TCP_F_WINDOW_SCALE | CTDP_TCP_F_SACK_PERM
                      | CTDP_TCP_F_MAXACK_SET },
          .fl_clear = { CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_CLOSE_INIT,
                        CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_CLOSE_INIT } },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_entry e;

    run_steps(ct, "window_scale_both", steps, ARRAY_SIZE(steps));
    CHECK(the_conn(ct, 5000, &e));
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_ORIG], 7);
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_REPLY], 7);
    tpkt_ct_destroy(ct);
}

/* If only one side sends the window scale option, scaling is off both
 * ways (RFC 1323): the same far segment is invalid. */
static void
test_window_scale_one_side(void)
{
    static const struct step steps[] = {
        { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120),
          .opt = O_MSS | O_WS, .ws = 7 },
        { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60),
          .opt = O_MSS },
        { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000),
          .win = 1000 },
        { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 432000),
          .fl_set = { CTDP_TCP_F_WINDOW_SCALE, 0 },
          .fl_clear = { CTDP_TCP_F_SACK_PERM,
                        CTDP_TCP_F_WINDOW_SCALE | CTDP_TCP_F_SACK_PERM } },
        { P(A2B, F_ACK, 1001001, 5001, 100, 4000, TRK_INV, sES, KEEP),
          .win = 1000 },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_entry e;

    run_steps(ct, "window_scale_one_side", steps, ARRAY_SIZE(steps));
    CHECK(the_conn(ct, 4000, &e));
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_ORIG], 0);
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_REPLY], 0);
    tpkt_ct_destroy(ct);
}

/* A window scale above 14 counts as 14 (TCP_MAX_WSCALE). */
static void
test_window_scale_clamped(void)
{
    static const struct step steps[] = {
        { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120),
          .opt = O_WS, .ws = 15 },
        { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60),
          .opt = O_WS, .ws = 14 },
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_entry e;

    run_steps(ct, "window_scale_clamped", steps, ARRAY_SIZE(steps));
    CHECK(the_conn(ct, 1000, &e));
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_ORIG], 14);
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_REPLY], 14);
    tpkt_ct_destroy(ct);
}

/* With SACK permitted, an ACK's SACK blocks count as acknowledgements: a
 * block beyond the plain ACK, within what A sent, is accepted; a block
 * beyond what A sent is invalid.  Without SACK_PERM the blocks are not
 * read. */
static void
test_sack(void)
{
    static const struct step perm[] = {
        { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120),
          .opt = O_MSS | O_SACKP },
        { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60),
          .opt = O_MSS | O_SACKP },
        { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000),
          .fl_set = { CTDP_TCP_F_SACK_PERM, CTDP_TCP_F_SACK_PERM } },
        { P(A2B, F_ACK, 1101, 5001, 100, 3000, TRK_EST, sES, 300) },
        { P(B2A, F_ACK, 5001, 1001, 0, 4000, TRK_EST_RPL, sES, 300),
          .opt = O_SACK, .sack_l = 1101, .sack_r = 1201 },
        { P(B2A, F_ACK, 5001, 1001, 0, 5000, TRK_INV, sES, KEEP),
          .opt = O_SACK, .sack_l = 1101, .sack_r = 1301 },
    };
    static const struct step no_perm[] = {
        HANDSHAKE,
        { P(A2B, F_ACK, 1101, 5001, 100, 3000, TRK_EST, sES, 300) },
        { P(B2A, F_ACK, 5001, 1001, 0, 4000, TRK_EST_RPL, sES, 300),
          .opt = O_SACK, .sack_l = 1101, .sack_r = 1301 },
    };

    RUN(perm);
    RUN(no_perm);
}

/* ---- Retransmissions --------------------------------------------------- */

/* Unacknowledged data gives the UNACK timeout; the third identical
 * retransmission (same direction, seq, ack, end and window) gives the
 * RETRANS timeout; the ACK of the data restores ESTABLISHED's. */
static void
test_retransmissions(void)
{
    static const struct step steps[] = {
        HANDSHAKE_R100,
        { P(A2B, F_ACK, 1001, 5001, 100, 3000, TRK_EST, sES, 200) },
        { P(A2B, F_ACK, 1001, 5001, 100, 4000, TRK_EST, sES, 200) },
        { P(A2B, F_ACK, 1001, 5001, 100, 5000, TRK_EST, sES, 200) },
        { P(A2B, F_ACK, 1001, 5001, 100, 6000, TRK_EST, sES, 100) },
        { P(A2B, F_ACK, 1001, 5001, 100, 7000, TRK_EST, sES, 100) },
        { P(B2A, F_ACK, 5001, 1101, 0, 8000, TRK_EST_RPL, sES, 432000) },
    };

    run_script("retransmissions", steps, ARRAY_SIZE(steps),
               retrans_100_unack_200);
}

/* An ACK that advertises a zero window gives the RETRANS timeout until an
 * ACK opens the window again. */
static void
test_zero_window(void)
{
    static const struct step steps[] = {
        HANDSHAKE_R100,
        { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 100),
          .win = WIN_ZERO },
        { P(B2A, F_ACK, 5001, 1001, 0, 4000, TRK_EST_RPL, sES, 432000) },
    };

    run_script("zero_window", steps, ARRAY_SIZE(steps),
               retrans_100_unack_200);
}

const struct ctdp_unit_suite ct_tcp_suite = {
    "ct-tcp", (const struct ctdp_unit_case[]) {
        { "transitions", test_transitions },
        { "handshake_and_data", test_handshake_and_data },
        { "simultaneous_open", test_simultaneous_open },
        { "fin_close_by_server", test_fin_close_by_server },
        { "fin_close_simultaneous", test_fin_close_simultaneous },
        { "fin_ack_skips_close_wait", test_fin_ack_skips_close_wait },
        { "challenge_ack_in_last_ack", test_challenge_ack_in_last_ack },
        { "rst_exact", test_rst_exact },
        { "rst_inexact", test_rst_inexact },
        { "rst_before_maxack", test_rst_before_maxack },
        { "syn_answered_by_rst", test_syn_answered_by_rst },
        { "rst_then_reconnect_resync", test_rst_then_reconnect_resync },
        { "port_reuse_after_time_wait", test_port_reuse_after_time_wait },
        { "port_reuse_without_commit", test_port_reuse_without_commit },
        { "loose_pickup", test_loose_pickup },
        { "loose_off", test_loose_off },
        { "invalid_first_packets", test_invalid_first_packets },
        { "invalid_flags_established", test_invalid_flags_established },
        { "out_of_window", test_out_of_window },
        { "out_of_window_liberal", test_out_of_window_liberal },
        { "overshot", test_overshot },
        { "invalid_fin_rst_lower_timeout",
          test_invalid_fin_rst_lower_timeout },
        { "window_scale_both", test_window_scale_both },
        { "window_scale_one_side", test_window_scale_one_side },
        { "window_scale_clamped", test_window_scale_clamped },
        { "sack", test_sack },
        { "retransmissions", test_retransmissions },
        { "zero_window", test_zero_window },
        { NULL, NULL },
    },
};
