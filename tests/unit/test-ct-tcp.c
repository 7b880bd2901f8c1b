/* The TCP tracker, written from the Linux kernel's nf_conntrack_proto_tcp.c
 * (6.12) as an independent specification: the tcp_conntracks state table,
 * tcp_valid_flags, tcp_new(), tcp_in_window(), nf_conntrack_tcp_packet()
 * (RST rules, reopening a closed conn, ignored packets, timeouts, ASSURED)
 * and nf_tcp_handle_invalid().
 *
 * Every test is a script: one row per packet, with the ct_state, the
 * kernel's state name, the timeout and whether the conn is ASSURED after
 * it.  Every row states all four: the step macro P() takes them all (and
 * P_GONE(), for a packet after which no conn is left, says there is
 * nothing to check); a row that leaves the timeout or ASSURED unchecked
 * (TMO_ANY, ANY_ASSURED) must say why in 'why_any', or it fails, and so
 * does a row built without them (AS_UNSET).  A is the client
 * (10.0.0.1:40000, the original direction), B the server (10.0.0.2:80); A's
 * initial sequence number is 1000, B's 5000.  Every packet is sent with
 * ct(commit) in zone 0, so that a conn exists from the first packet the
 * tracker accepts; each script runs on a tracker of its own, which then
 * holds at most one conn.
 *
 * Every script is also data: `ctdp-unit --tcp-scripts` prints them all as
 * JSON lines (ct_tcp_print_scripts()), packets included, and
 * tests/test_kernel_tcp.py sends the ones marked 'kernel' through the
 * running kernel's conntrack (a router namespace, tests/kernel_ct.py) and
 * checks the same expectations there.  A script that the kernel cannot
 * replay says why in 'why_not'. */
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
#define TMO_ANY (-1)            /* Not checked: 'why_any' says why. */
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
/* Expected ASSURED.  AS_UNSET (a step that forgot it) fails the step. */
enum assured { AS_UNSET, AS_YES, AS_NO, AS_ANY };
#define ASSURED AS_YES
#define NOT_ASSURED AS_NO
#define ANY_ASSURED AS_ANY      /* Not checked: 'why_any' says why. */

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
    const char *why_any;        /* Why 'tmo' or 'assured' is not checked. */
    bool new_id;                /* A conn other than before the packet. */
    int win;                    /* 0: 65535; WIN_ZERO: 0. */
    uint8_t opt, ws;
    uint32_t sack_l, sack_r;
    uint8_t fl_set[2], fl_clear[2];     /* CTDP_TCP_F_* by direction. */
};

/* The common part of a step: the packet, and everything expected after
 * it. */
#define P(DIR, FLAGS, SEQ, ACK, LEN, NOW, WANT, STATE, TMO, ASSURED_)   \
    .dir = DIR, .flags = FLAGS, .seq = SEQ, .ack = ACK, .len = LEN,   \
    .now = NOW, .want = WANT, .state = STATE, .tmo = TMO,             \
    .assured = ASSURED_

/* A step after which there is no conn: nothing else to expect. */
#define NO_CONN "no conn after the packet"
#define P_GONE(DIR, FLAGS, SEQ, ACK, LEN, NOW, WANT)                    \
    P(DIR, FLAGS, SEQ, ACK, LEN, NOW, WANT, GONE, TMO_ANY, ANY_ASSURED), \
    .why_any = NO_CONN

/* Tracker settings of a script; the export names them as the kernel's
 * per-namespace sysctls do. */
struct knobs {
    bool loose_off;             /* nf_conntrack_tcp_loose=0. */
    bool be_liberal;            /* nf_conntrack_tcp_be_liberal=1. */
    bool seq_check_off;         /* OVS's tcp_seq_chk off: no kernel knob. */
    int retrans, unack;         /* Zone 0's policy timeouts (s) for
                                 * nf_conntrack_tcp_timeout_max_retrans and
                                 * _unacknowledged; 0: the default, 300. */
};

/* A named script.  'kernel' marks it confirmed against the running kernel
 * (tests/test_kernel_tcp.py replays it there on every run); otherwise
 * 'why_not' says why the kernel cannot replay it. */
struct script {
    const char *name;
    const struct step *steps;
    size_t n;
    struct knobs knobs;
    bool kernel;
    const char *why_not;
};

#define STEPS(ARRAY) .steps = ARRAY, .n = ARRAY_SIZE(ARRAY)
#define KERNEL .kernel = true
#define NOT_KERNEL(WHY) .why_not = WHY

/* Why scripts are not replayed through the kernel. */
#define NEEDS_TIME "needs time to pass: a conn expires between packets"
#define NO_SEQ_CHECK_KNOB "the kernel has no knob to turn sequence checks off"

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

/* Why step 's' checks less than it should, or NULL if it states every
 * expectation (or says why not). */
static const char *
step_incomplete(const struct step *s)
{
    if (s->assured == AS_UNSET) {
        return "states no ASSURED";
    }
    if ((s->assured == AS_ANY || s->tmo == TMO_ANY)
        && (!s->why_any || !s->why_any[0])) {
        return "leaves the timeout or ASSURED unchecked without a reason";
    }
    return NULL;
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

    step_check(!step_incomplete(s), name, i, "the step %s",
               step_incomplete(s));
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

static void
apply_knobs(struct ctdp_ct *ct, const struct knobs *k)
{
    if (k->retrans || k->unack) {
        struct ctdp_timeout_policy p;

        ctdp_timeout_policy_init(&p);
        if (k->retrans) {
            p.secs[CTDP_TM_TCP_RETRANSMIT] = k->retrans;
        }
        if (k->unack) {
            p.secs[CTDP_TM_TCP_UNACK] = k->unack;
        }
        ctdp_ct_set_timeout_policy(ct, 0, &p);
    }
    if (k->loose_off) {
        ctdp_ct_set_tcp_loose(ct, false);
    }
    if (k->be_liberal) {
        ctdp_ct_set_tcp_be_liberal(ct, true);
    }
    if (k->seq_check_off) {
        ctdp_ct_set_tcp_seq_check(ct, false);
    }
}

/* A new tracker with 'sc''s knobs. */
static struct ctdp_ct *
script_ct(const struct script *sc)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);

    apply_knobs(ct, &sc->knobs);
    return ct;
}

static const struct script *script(const char *name);

/* Runs script 'NAME' on a new tracker. */
#define RUN(NAME) run_script(script(#NAME))

/* Runs 'sc' on a new tracker. */
static void
run_script(const struct script *sc)
{
    struct ctdp_ct *ct = script_ct(sc);

    run_steps(ct, sc->name, sc->steps, sc->n);
    tpkt_ct_destroy(ct);
}

/* The zone policy that tells the two 300 s timeouts apart. */
#define R100_U200 .knobs = { .retrans = 100, .unack = 200 }

/* ---- Paths to every state ---------------------------------------------- */

/* The three-way handshake, data-less. */
#define HANDSHAKE                                                       \
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED) },   \
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60,           \
        NOT_ASSURED) },                                                 \
    { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000, ASSURED) }

/* The handshake under R100_U200: the kernel's last_win is 0
 * until the first ACK-class packet, so the SYN gets the RETRANS timeout
 * when that is shorter than SYN_SENT's. */
#define HANDSHAKE_R100                                                  \
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 100, NOT_ASSURED) },   \
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60,           \
        NOT_ASSURED) },                                                 \
    { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000, ASSURED) }

/* The handshake, then a close started by A. */
#define MAIN_PATH                                                       \
    HANDSHAKE,                                                          \
    { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120, ASSURED),    \
      .fl_set = { CTDP_TCP_F_CLOSE_INIT, 0 },                           \
      .fl_clear = { 0, CTDP_TCP_F_CLOSE_INIT } },                       \
    { P(B2A, F_ACK, 5001, 1002, 0, 4000, TRK_EST_RPL, sCW, 60,          \
        ASSURED) },                                                     \
    { P(B2A, F_FA, 5001, 1002, 0, 5000, TRK_EST_RPL, sLA, 30,           \
        ASSURED) },                                                     \
    { P(A2B, F_ACK, 1002, 5002, 0, 6000, TRK_EST, sTW, 120, ASSURED) }

static const struct step main_path[] = {
    MAIN_PATH
};

/* Simultaneous open: B's SYN crosses A's.  The kernel does not renew the
 * timeout of a SYN_SENT conn for a SYN before any reply. */
static const struct step s2_path[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED) },
    { P(B2A, F_SYN, 5000, 0, 0, 1000, TRK_EST_RPL, sS2, KEEP, NOT_ASSURED) },
};

/* A resets an established conn with the exact sequence number. */
static const struct step close_path[] = {
    HANDSHAKE,
    { P(A2B, F_RST, 1001, 0, 0, 3000, TRK_EST, sCL, 10, ASSURED) },
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

/* ASSURED after an ignored or invalid probe is the prefix's (its last
 * step states it); after a reopening it is NO; GOTO and STAY state it. */
struct outcome {
    enum outcome_type type;
    const char *state;
    int tmo;
    enum assured assured;
};

#define TO(STATE, TMO, AS) { GOTO, STATE, TMO, AS_##AS }
#define NR(STATE, AS) { STAY, STATE, KEEP, AS_##AS }
#define IG { IGNORED, NULL, KEEP, AS_UNSET }
#define IV { INVALID, NULL, KEEP, AS_UNSET }
#define KL { KILLED, GONE, TMO_ANY, AS_ANY }
#define RP { REPEATED, sSS, 120, AS_NO }

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
    const char *why_not;        /* As in struct script; NULL: the probes
                                 * are confirmed against the kernel. */
};

static const struct transition transitions[] = {
    /* SYN in SYN_SENT is a retransmission: timeout not renewed.  A RST
     * either way before any reply deletes the conn.  A reply ACK is
     * ignored (might be a half-open conn); a reply SYN is simultaneous
     * open, not renewed either (no reply seen yet).  Nothing before
     * ESTABLISHED is ASSURED. */
    { sSS, main_path, 1, false, { 1001, 5000 }, {
        /*         syn          synack          fin  ack  rst  none */
        /* A2B */ { NR(sSS, NO), IV,             IV,  IV,  KL,  IV },
        /* B2A */ { NR(sS2, NO), TO(sSR, 60, NO), IV, IG,  KL,  IV } },
      NULL },
    { sS2, s2_path, 2, true, { 1001, 5001 }, {
        { TO(sS2, 120, NO), TO(sSR, 60, NO), IV, IV, TO(sCL, 10, NO), IV },
        { TO(sS2, 120, NO), TO(sSR, 60, NO), IV, IG, TO(sCL, 10, NO),
          IV } }, NULL },
    /* An original SYN/ACK in SYN_RECV is a late retransmission of a
     * simultaneous open: accepted.  A reply ACK stays in SYN_RECV.  Only
     * the way to ESTABLISHED makes the conn ASSURED: not a FIN (the
     * kernel sets ASSURED for SYN_RECV or ESTABLISHED to ESTABLISHED). */
    { sSR, main_path, 2, true, { 1001, 5001 }, {
        { IG, TO(sSR, 60, NO), TO(sFW, 120, NO), TO(sES, 432000, YES),
          TO(sCL, 10, NO), IV },
        { IV, IG, TO(sFW, 120, NO), TO(sSR, 60, NO), TO(sCL, 10, NO),
          IV } }, NULL },
    /* RSTs with the exact sequence number close.  From here on the conn
     * is ASSURED, and stays so until it ends. */
    { sES, main_path, 3, true, { 1001, 5001 }, {
        { IG, IV, TO(sFW, 120, YES), TO(sES, 432000, YES), TO(sCL, 10, YES),
          IV },
        { IV, IG, TO(sFW, 120, YES), TO(sES, 432000, YES), TO(sCL, 10, YES),
          IV } }, NULL },
    /* A second FIN from either side means both closed. */
    { sFW, main_path, 4, true, { 1002, 5001 }, {
        { IG, IV, TO(sLA, 30, YES), TO(sCW, 60, YES), TO(sCL, 10, YES), IV },
        { IV, IG, TO(sLA, 30, YES), TO(sCW, 60, YES), TO(sCL, 10, YES),
          IV } }, NULL },
    { sCW, main_path, 5, true, { 1002, 5001 }, {
        { IG, IV, TO(sLA, 30, YES), TO(sCW, 60, YES), TO(sCL, 10, YES), IV },
        { IV, IG, TO(sLA, 30, YES), TO(sCW, 60, YES), TO(sCL, 10, YES),
          IV } }, NULL },
    { sLA, main_path, 6, true, { 1002, 5002 }, {
        { IG, IV, TO(sLA, 30, YES), TO(sTW, 120, YES), TO(sCL, 10, YES),
          IV },
        { IV, IG, TO(sLA, 30, YES), TO(sTW, 120, YES), TO(sCL, 10, YES),
          IV } }, NULL },
    /* A SYN either way reopens (CLOSE_INIT is set): the old conn ends
     * and the SYN starts a new one in its own direction (NF_REPEAT). */
    { sTW, main_path, 7, true, { 1002, 5002 }, {
        { RP, IV, TO(sTW, 120, YES), TO(sTW, 120, YES), TO(sCL, 10, YES),
          IV },
        { RP, IG, TO(sTW, 120, YES), TO(sTW, 120, YES), TO(sCL, 10, YES),
          IV } }, NULL },
    /* A reset, then A's SYN reopens: the last packet was A's RST. */
    { sCL, close_path, 4, true, { 1001, 5001 }, {
        { RP, IV, TO(sCL, 10, YES), TO(sCL, 10, YES), TO(sCL, 10, YES), IV },
        { IV, IG, TO(sCL, 10, YES), TO(sCL, 10, YES), TO(sCL, 10, YES),
          IV } }, NULL },
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
    s.assured = o->assured;
    s.want = accepted;
    switch (o->type) {
    case GOTO:
    case STAY:
        break;
    case KILLED:
        s.why_any = NO_CONN;
        break;
    case IGNORED:
        s.state = t->state;
        s.assured = t->prefix[t->n_prefix - 1].assured;
        break;
    case INVALID:
        s.state = t->state;
        s.assured = t->prefix[t->n_prefix - 1].assured;
        s.want = TRK_INV;
        break;
    case REPEATED:
        s.want = TRK_NEW;
        s.new_id = true;
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
static const struct step handshake_and_data[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED),
        .opt = O_MSS },
    { P(A2B, F_SYN, 1000, 0, 0, 3000, TRK_NEW, sSS, KEEP, NOT_ASSURED),
      .opt = O_MSS },
    { P(B2A, F_SA, 5000, 1001, 0, 3100, TRK_EST_RPL, sSR, 60, NOT_ASSURED),
      .opt = O_MSS },
    { P(A2B, F_ACK, 1001, 5001, 0, 3200, TRK_EST, sES, 432000, ASSURED),
      .fl_set = { CTDP_TCP_F_MAXACK_SET, CTDP_TCP_F_MAXACK_SET },
      .fl_clear = { CTDP_TCP_F_DATA_UNACKNOWLEDGED,
                    CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
    { P(A2B, F_ACK | TCP_PSH, 1001, 5001, 100, 4000, TRK_EST, sES, 300,
        ASSURED),
      .fl_set = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
    { P(B2A, F_ACK, 5001, 1101, 0, 5000, TRK_EST_RPL, sES, 432000, ASSURED),
      .fl_clear = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
    { P(B2A, F_ACK | TCP_PSH, 5001, 1101, 1000, 6000, TRK_EST_RPL, sES,
        300, ASSURED), .fl_set = { 0, CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
    { P(A2B, F_ACK, 1101, 6001, 0, 7000, TRK_EST, sES, 432000, ASSURED),
      .fl_clear = { 0, CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
};


static void
test_handshake_and_data(void)
{
    RUN(handshake_and_data);
}

/* Simultaneous open: SYN_SENT2 on B's SYN, SYN_RECV on A's SYN/ACK, and
 * B's ACK establishes (the kernel's IP_CT_TCP_SIMULTANEOUS_OPEN rule). */
static const struct step simultaneous_open[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED) },
    { P(B2A, F_SYN, 5000, 0, 0, 1000, TRK_EST_RPL, sS2, KEEP, NOT_ASSURED) },
    { P(A2B, F_SA, 1000, 5001, 0, 2000, TRK_EST, sSR, 60, NOT_ASSURED) },
    { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 432000, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 10, 4000, TRK_EST, sES, 300, ASSURED) },
};


static void
test_simultaneous_open(void)
{
    RUN(simultaneous_open);
}

/* ---- Closing ----------------------------------------------------------- */

/* B closes first: the same states, CLOSE_INIT on B's side; TIME_WAIT
 * lasts 120 s, then the conn is gone. */
static const struct step fin_close_by_server[] = {
    HANDSHAKE,
    { P(B2A, F_FA, 5001, 1001, 0, 3000, TRK_EST_RPL, sFW, 120, ASSURED),
      .fl_set = { 0, CTDP_TCP_F_CLOSE_INIT },
      .fl_clear = { CTDP_TCP_F_CLOSE_INIT, 0 } },
    { P(A2B, F_ACK, 1001, 5002, 0, 4000, TRK_EST, sCW, 60, ASSURED) },
    { P(A2B, F_FA, 1001, 5002, 0, 5000, TRK_EST, sLA, 30, ASSURED) },
    { P(B2A, F_ACK, 5002, 1002, 0, 6000, TRK_EST_RPL, sTW, 120, ASSURED) },
    { P(B2A, F_ACK, 5002, 1002, 0, 7000, TRK_EST_RPL, sTW, 120, ASSURED) },
};


static void
test_fin_close_by_server(void)
{
    const struct script *sc = script("fin_close_by_server");
    struct ctdp_ct *ct = script_ct(sc);

    run_steps(ct, sc->name, sc->steps, sc->n);
    CHECK_EQ(tpkt_dump(ct, 0, 126999, NULL, 0), 1);
    CHECK_EQ(tpkt_dump(ct, 0, 127000, NULL, 0), 0);
    tpkt_ct_destroy(ct);
}

/* Both sides send FIN at once (neither FIN acknowledges the other):
 * FIN_WAIT, LAST_ACK, then TIME_WAIT on the first ACK. */
static const struct step fin_close_simultaneous[] = {
    HANDSHAKE,
    { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120, ASSURED) },
    { P(B2A, F_FA, 5001, 1001, 0, 3001, TRK_EST_RPL, sLA, 30, ASSURED),
      .fl_set = { CTDP_TCP_F_CLOSE_INIT, 0 } },
    { P(A2B, F_ACK, 1002, 5002, 0, 4000, TRK_EST, sTW, 120, ASSURED) },
    { P(B2A, F_ACK, 5002, 1002, 0, 4001, TRK_EST_RPL, sTW, 120, ASSURED) },
};


static void
test_fin_close_simultaneous(void)
{
    RUN(fin_close_simultaneous);
}

/* B's FIN+ACK that also acknowledges A's FIN goes from FIN_WAIT straight
 * to LAST_ACK, skipping CLOSE_WAIT. */
static const struct step fin_ack_skips_close_wait[] = {
    HANDSHAKE,
    { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120, ASSURED) },
    { P(B2A, F_FA, 5001, 1002, 0, 4000, TRK_EST_RPL, sLA, 30, ASSURED) },
    { P(A2B, F_ACK, 1002, 5002, 0, 5000, TRK_EST, sTW, 120, ASSURED) },
};


static void
test_fin_ack_skips_close_wait(void)
{
    RUN(fin_ack_skips_close_wait);
}

/* A closes before the handshake completed (FIN in SYN_RECV): the conn
 * goes through the closing states and is never ASSURED, since only the
 * way from SYN_RECV or ESTABLISHED to ESTABLISHED assures it. */
static const struct step fin_before_established[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED) },
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60,
        NOT_ASSURED) },
    { P(A2B, F_FA, 1001, 5001, 0, 2000, TRK_EST, sFW, 120, NOT_ASSURED) },
    { P(B2A, F_ACK, 5001, 1002, 0, 3000, TRK_EST_RPL, sCW, 60,
        NOT_ASSURED) },
    { P(B2A, F_FA, 5001, 1002, 0, 4000, TRK_EST_RPL, sLA, 30,
        NOT_ASSURED) },
    { P(A2B, F_ACK, 1002, 5002, 0, 5000, TRK_EST, sTW, 120, NOT_ASSURED) },
};


static void
test_fin_before_established(void)
{
    RUN(fin_before_established);
}

/* An RFC 5961 challenge ACK: a SYN in LAST_ACK is ignored, and B's ACK
 * answering it is not taken for the last ACK (state and expiry kept);
 * A's real last ACK then gives TIME_WAIT. */
static const struct step challenge_ack_in_last_ack[] = {
    HANDSHAKE,
    { P(A2B, F_FA, 1001, 5001, 0, 3000, TRK_EST, sFW, 120, ASSURED) },
    { P(B2A, F_ACK, 5001, 1002, 0, 4000, TRK_EST_RPL, sCW, 60, ASSURED) },
    { P(B2A, F_FA, 5001, 1002, 0, 5000, TRK_EST_RPL, sLA, 30, ASSURED) },
    { P(A2B, F_SYN, 70000, 0, 0, 6000, TRK_EST, sLA, KEEP, ASSURED) },
    { P(B2A, F_ACK, 5002, 1002, 0, 7000, TRK_EST_RPL, sLA, KEEP, ASSURED) },
    { P(A2B, F_ACK, 1002, 5002, 0, 8000, TRK_EST, sTW, 120, ASSURED) },
};


static void
test_challenge_ack_in_last_ack(void)
{
    RUN(challenge_ack_in_last_ack);
}

/* ---- Resets ------------------------------------------------------------ */

/* A RST with exactly the sequence number the peer acknowledged closes:
 * CLOSE for 10 s, then gone.  RST+ACK works the same way. */
static const struct step rst_exact_by_server[] = {
    HANDSHAKE,
    { P(B2A, F_RST, 5001, 0, 0, 3000, TRK_EST_RPL, sCL, 10, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 0, 12999, TRK_EST, sCL, 10, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 0, 23000, TRK_NEW, sES, 300, NOT_ASSURED),
      .new_id = true },
};

static const struct step rst_exact_by_client_rst_ack[] = {
    HANDSHAKE,
    { P(A2B, F_RA, 1001, 5001, 0, 3000, TRK_EST, sCL, 10, ASSURED) },
};


static void
test_rst_exact(void)
{
    RUN(rst_exact_by_server);
    RUN(rst_exact_by_client_rst_ack);
}

/* A RST inside the window but not at the exact sequence number, in an
 * established conn, keeps ESTABLISHED (for a challenge ACK) with CLOSE's
 * timeout (the running 6.18 kernel; 6.12's source gave UNACK's); the
 * exact RST that follows closes. */
static const struct step rst_inexact[] = {
    HANDSHAKE,
    { P(B2A, F_RST, 5101, 0, 0, 3000, TRK_EST_RPL, sES, 10, ASSURED) },
    { P(B2A, F_RST, 5001, 0, 0, 4000, TRK_EST_RPL, sCL, 10, ASSURED) },
};

static const struct step rst_inexact_with_policy[] = {
    HANDSHAKE_R100,
    { P(B2A, F_RST, 5101, 0, 0, 3000, TRK_EST_RPL, sES, 10, ASSURED) },
};


static void
test_rst_inexact(void)
{
    RUN(rst_inexact);
    RUN(rst_inexact_with_policy);
}

/* A RST that ends a train of data (the same side's last packet was data
 * ending at the RST's sequence number) closes, though the peer has not
 * acknowledged the data: the kernel's "rst is part of train" rule.  After
 * the peer's data instead, the same RST is only inexact: ESTABLISHED,
 * with CLOSE's timeout. */
static const struct step rst_after_data[] = {
    HANDSHAKE,
    { P(B2A, F_ACK | TCP_PSH, 5001, 1001, 100, 3000, TRK_EST_RPL, sES, 300,
        ASSURED) },
    { P(B2A, F_RST, 5101, 0, 0, 4000, TRK_EST_RPL, sCL, 10, ASSURED) },
};

static const struct step rst_after_peer_data[] = {
    HANDSHAKE,
    { P(B2A, F_ACK | TCP_PSH, 5001, 1001, 100, 3000, TRK_EST_RPL, sES, 300,
        ASSURED) },
    { P(A2B, F_ACK | TCP_PSH, 1001, 5001, 100, 4000, TRK_EST, sES, 300,
        ASSURED) },
    { P(B2A, F_RST, 5101, 0, 0, 5000, TRK_EST_RPL, sES, 10, ASSURED) },
};


static void
test_rst_after_data(void)
{
    RUN(rst_after_data);
    RUN(rst_after_peer_data);
}

/* A RST with a sequence number below what the peer already acknowledged
 * (td_maxack) is invalid, in either direction; nothing changes. */
static const struct step rst_before_maxack[] = {
    HANDSHAKE,
    { P(B2A, F_RST, 4000, 0, 0, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 100, 4000, TRK_EST, sES, 300, ASSURED) },
    { P(B2A, F_ACK, 5001, 1101, 0, 5000, TRK_EST_RPL, sES, 432000, ASSURED) },
    { P(A2B, F_RST, 1050, 0, 0, 6000, TRK_INV, sES, KEEP, ASSURED) },
    { P(A2B, F_RA, 1050, 5001, 0, 6000, TRK_INV, sES, KEEP, ASSURED) },
    { P(A2B, F_RST, 1101, 0, 0, 7000, TRK_EST, sCL, 10, ASSURED) },
};


static void
test_rst_before_maxack(void)
{
    RUN(rst_before_maxack);
}

/* A SYN answered only by a RST (with ACK, sequence 0, as Linux sends):
 * the RST is accepted as a reply, and the conn is deleted at once.  The
 * next SYN makes a new conn. */
static const struct step syn_answered_by_rst[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED) },
    { P_GONE(B2A, F_RA, 0, 1001, 0, 100, TRK_EST_RPL),
      .win = WIN_ZERO },
    { P(A2B, F_SYN, 1000, 0, 0, 1000, TRK_NEW, sSS, 120, NOT_ASSURED) },
};


static void
test_syn_answered_by_rst(void)
{
    const struct script *sc = script("syn_answered_by_rst");
    struct ctdp_ct *ct = script_ct(sc);

    run_steps(ct, sc->name, sc->steps, 2);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    run_steps(ct, sc->name, sc->steps + 2, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    tpkt_ct_destroy(ct);
}

/* After the server's RST closed the conn, the client's SYN on the same
 * tuple is ignored (the RST was not the client's), and the server's
 * SYN/ACK acknowledging that SYN brings the tracker back in sync:
 * SYN_RECV, then ESTABLISHED, same conn. */
static const struct step rst_then_reconnect_resync[] = {
    HANDSHAKE,
    { P(B2A, F_RST, 5001, 0, 0, 3000, TRK_EST_RPL, sCL, 10, ASSURED) },
    { P(A2B, F_SYN, 70000, 0, 0, 4000, TRK_EST, sCL, KEEP, ASSURED) },
    { P(B2A, F_SA, 90000, 70001, 0, 5000, TRK_EST_RPL, sSR, 60, ASSURED) },
    { P(A2B, F_ACK, 70001, 90001, 0, 6000, TRK_EST, sES, 432000, ASSURED) },
};


static void
test_rst_then_reconnect_resync(void)
{
    RUN(rst_then_reconnect_resync);
}

/* ---- Reopening --------------------------------------------------------- */

/* A new SYN on a TIME_WAIT tuple ends the old conn and starts a new one
 * with a new id (NF_REPEAT), which then opens normally. */
static const struct step port_reuse_after_time_wait[] = {
    MAIN_PATH,
    { P(A2B, F_SYN, 70000, 0, 0, 7000, TRK_NEW, sSS, 120, NOT_ASSURED),
      .new_id = true },
    { P(B2A, F_SA, 90000, 70001, 0, 8000, TRK_EST_RPL, sSR, 60, NOT_ASSURED) },
    { P(A2B, F_ACK, 70001, 90001, 0, 9000, TRK_EST, sES, 432000, ASSURED) },
};


static void
test_port_reuse_after_time_wait(void)
{
    const struct script *sc = script("port_reuse_after_time_wait");
    struct ctdp_ct *ct = script_ct(sc);

    run_steps(ct, sc->name, sc->steps, sc->n);
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
static const struct step loose_pickup[] = {
    { P(A2B, F_ACK, 1000, 2000, 0, 0, TRK_NEW, sES, 300, NOT_ASSURED),
      .fl_set = { CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_SACK_PERM,
                  CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_SACK_PERM } },
    { P(A2B, F_ACK, 1000, 2000, 0, 1000, TRK_NEW, sES, 300, NOT_ASSURED) },
    { P(B2A, F_ACK, 2000, 1000, 0, 2000, TRK_EST_RPL, sES, 300, NOT_ASSURED) },
    { P(A2B, F_ACK, 1000, 2000, 0, 3000, TRK_EST, sES, 432000, ASSURED) },
};


static void
test_loose_pickup(void)
{
    const struct script *sc = script("loose_pickup");
    struct ctdp_ct *ct = script_ct(sc);
    struct ctdp_ct_entry e;

    run_steps(ct, sc->name, sc->steps, 1);
    CHECK(the_conn(ct, 0, &e));
    CHECK(!(e.status & CTDP_S_SEEN_REPLY));
    run_steps(ct, sc->name, sc->steps + 1, sc->n - 1);
    CHECK(the_conn(ct, 3000, &e));
    CHECK(e.status & CTDP_S_SEEN_REPLY);
    tpkt_ct_destroy(ct);
}

/* With loose off, a lone ACK is invalid and creates nothing; a SYN still
 * opens a conn. */
static const struct step loose_off[] = {
    { P_GONE(A2B, F_ACK, 1000, 2000, 0, 0, TRK_INV) },
    { P_GONE(B2A, F_ACK, 2000, 1000, 0, 0, TRK_INV) },
    { P_GONE(A2B, F_ACK | TCP_PSH, 1000, 2000, 10, 0, TRK_INV) },
    { P(A2B, F_SYN, 1000, 0, 0, 1000, TRK_NEW, sSS, 120, NOT_ASSURED) },
};


static void
test_loose_off(void)
{
    RUN(loose_off);
}

/* ---- Flags ------------------------------------------------------------- */

/* Flag combinations outside tcp_valid_flags, and valid ones whose class
 * cannot start a conn (tcp_new: sNO -> sIV for SYN/ACK, FIN, RST), are
 * invalid as a first packet and create nothing; PSH, ECE and CWR are
 * always allowed.  first_packet(i, ...) makes the i-th one-packet script
 * of these; false when there are no more. */
static bool
first_packet(size_t i, struct step *s, char *name, size_t name_size)
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
    /* A SYN gives SYN_SENT's 120 s; an ACK picks the conn up in the
     * middle, capped at UNACK's 300 s until B answers. */
    static const struct {
        uint8_t flags;
        const char *state;
        int tmo;
    } good[] = {
        { TCP_SYN | TCP_ECE | TCP_CWR, sSS, 120 },
        { TCP_SYN | TCP_URG, sSS, 120 },
        { TCP_SYN | TCP_PSH, sSS, 120 },
        { TCP_ACK | TCP_PSH | TCP_ECE, sES, 300 },
        { TCP_ACK | TCP_URG, sES, 300 },
    };

    if (i < ARRAY_SIZE(bad)) {
        *s = (struct step) { P_GONE(A2B, bad[i], 1000, 2000, 0, 0,
                                    TRK_INV) };
    } else if (i - ARRAY_SIZE(bad) < ARRAY_SIZE(good)) {
        i -= ARRAY_SIZE(bad);
        *s = (struct step) { P(A2B, good[i].flags, 1000,
                               good[i].flags & TCP_ACK ? 2000 : 0, 0, 0,
                               TRK_NEW, good[i].state, good[i].tmo,
                               NOT_ASSURED) };
    } else {
        return false;
    }
    snprintf(name, name_size, "first packet flags %#x", s->flags);
    return true;
}

static void
test_invalid_first_packets(void)
{
    struct step s;
    char name[64];

    for (size_t i = 0; first_packet(i, &s, name, sizeof name); i++) {
        struct ctdp_ct *ct = ctdp_ct_create(NULL);

        run_step(ct, name, 0, &s);
        CHECK_EQ(ctdp_ct_n_conns(ct), s.state ? 1 : 0);
        tpkt_ct_destroy(ct);
    }
}

/* Invalid flag combinations on an established conn are invalid and
 * change nothing. */
static const struct step invalid_flags_established[] = {
    HANDSHAKE,
    { P(A2B, TCP_SYN | TCP_FIN, 1001, 5001, 0, 3000, TRK_INV, sES,
        KEEP, ASSURED) },
    { P(B2A, TCP_SYN | TCP_RST, 5001, 1001, 0, 3000, TRK_INV, sES,
        KEEP, ASSURED) },
    { P(A2B, 0, 1001, 5001, 0, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(B2A, TCP_FIN, 5001, 1001, 0, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(A2B, TCP_FIN | TCP_RST | TCP_ACK, 1001, 5001, 0, 3000, TRK_INV,
        sES, KEEP, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 0, 4000, TRK_EST, sES, 432000, ASSURED) },
};


static void
test_invalid_flags_established(void)
{
    RUN(invalid_flags_established);
}

/* ---- Windows ----------------------------------------------------------- */

/* Out-of-window segments: data beyond what the receiver's window allows,
 * either way, and an ACK of data never sent are invalid and change
 * nothing; data far behind and ACKs far behind are ignored (accepted, no
 * refresh). */
static const struct step out_of_window[] = {
    HANDSHAKE,
    { P(A2B, F_ACK, 201001, 5001, 100, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(B2A, F_ACK, 205001, 1001, 100, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(A2B, F_ACK, 1001, 6001, 0, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(B2A, F_ACK, 5001, 1101, 0, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(A2B, F_ACK, 1001u - 100000u, 5001, 100, 4000, TRK_EST, sES, KEEP,
        ASSURED) },
    { P(B2A, F_ACK, 5001, 1001u - 100000u, 0, 4000, TRK_EST_RPL, sES, KEEP,
        ASSURED) },
};

static void
test_out_of_window(void)
{
    RUN(out_of_window);
}

/* With be_liberal the same segments are accepted and refresh the conn; so
 * they are with sequence checks off. */
static const struct step out_of_window_liberal[] = {
    HANDSHAKE,
    { P(A2B, F_ACK, 201001, 5001, 100, 3000, TRK_EST, sES, 432000, ASSURED) },
    { P(B2A, F_ACK, 205001, 1001, 100, 3000, TRK_EST_RPL, sES, 432000,
        ASSURED) },
    { P(A2B, F_ACK, 1001, 6001, 0, 3000, TRK_EST, sES, 432000, ASSURED) },
    { P(B2A, F_ACK, 5001, 1101, 0, 3000, TRK_EST_RPL, sES, 432000, ASSURED) },
};

/* Sequence checks off is ctdp's own knob (OVS's tcp_seq_chk), with no
 * kernel to compare with: these timeouts are ctdp's, the same as with
 * be_liberal. */
static const struct step seq_check_off[] = {
    HANDSHAKE,
    { P(A2B, F_ACK, 201001, 5001, 100, 3000, TRK_EST, sES, 432000, ASSURED) },
    { P(B2A, F_ACK, 205001, 1001, 100, 3000, TRK_EST_RPL, sES,
        432000, ASSURED) },
    { P(A2B, F_ACK, 1001, 6001, 0, 3000, TRK_EST, sES, 432000, ASSURED) },
    { P(B2A, F_ACK, 5001, 1101, 0, 3000, TRK_EST_RPL, sES, 432000, ASSURED) },
};


static void
test_out_of_window_liberal(void)
{
    RUN(out_of_window_liberal);
    RUN(seq_check_off);
}

/* A segment that overshoots the receiver's window by less than a window
 * is ignored (accepted, not refreshed) but advances the sender's end, so
 * that the peer's ACK of it is accepted rather than "ACK over upper
 * bound". */
static const struct step overshot[] = {
    HANDSHAKE,
    { P(A2B, F_ACK, 66537, 5001, 100, 3000, TRK_EST, sES, KEEP, ASSURED),
      .fl_set = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
    { P(B2A, F_ACK, 5001, 66637, 0, 4000, TRK_EST_RPL, sES, 432000, ASSURED),
      .fl_clear = { CTDP_TCP_F_DATA_UNACKNOWLEDGED, 0 } },
};


static void
test_overshot(void)
{
    RUN(overshot);
}

/* Two out-of-window FIN/RST in opposite directions on an assured conn are
 * invalid, and the second one lowers the timeout to UNACK
 * (nf_tcp_handle_invalid). */
static const struct step invalid_fin_rst_lower_timeout[] = {
    HANDSHAKE_R100,
    { P(A2B, F_FA, 201001, 5001, 0, 3000, TRK_INV, sES, KEEP, ASSURED) },
    { P(B2A, F_RST, 205001, 0, 0, 4000, TRK_INV, sES, 200, ASSURED) },
};


static void
test_invalid_fin_rst_lower_timeout(void)
{
    RUN(invalid_fin_rst_lower_timeout);
}

/* With window scaling on both sides, the scaled windows bound the data:
 * segments far beyond 65535 bytes ahead are accepted.  The entry shows
 * the scales and the per-direction flags. */
static const struct step window_scale_both[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED),
      .opt = O_MSS | O_SACKP | O_WS, .ws = 7 },
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60, NOT_ASSURED),
      .opt = O_MSS | O_SACKP | O_WS, .ws = 7 },
    { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000, ASSURED),
      .win = 1000 },
    { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 432000, ASSURED) },
    { P(B2A, F_ACK, 105001, 1001, 100, 4000, TRK_EST_RPL, sES, 300, ASSURED),
      .fl_set = { 0, CTDP_TCP_F_DATA_UNACKNOWLEDGED } },
    { P(A2B, F_ACK, 1001001, 5001, 100, 5000, TRK_EST, sES, 300, ASSURED),
      .win = 1000,
      .fl_set = { CTDP_TCP_F_WINDOW_SCALE | CTDP_TCP_F_SACK_PERM
                  | CTDP_TCP_F_MAXACK_SET
                  | CTDP_TCP_F_DATA_UNACKNOWLEDGED,
                  CTDP_TCP_F_WINDOW_SCALE | CTDP_TCP_F_SACK_PERM
                  | CTDP_TCP_F_MAXACK_SET },
      .fl_clear = { CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_CLOSE_INIT,
                    CTDP_TCP_F_BE_LIBERAL | CTDP_TCP_F_CLOSE_INIT } },
};


static void
test_window_scale_both(void)
{
    const struct script *sc = script("window_scale_both");
    struct ctdp_ct *ct = script_ct(sc);
    struct ctdp_ct_entry e;

    run_steps(ct, sc->name, sc->steps, sc->n);
    CHECK(the_conn(ct, 5000, &e));
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_ORIG], 7);
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_REPLY], 7);
    tpkt_ct_destroy(ct);
}

/* If only one side sends the window scale option, scaling is off both
 * ways (RFC 1323): the same far segment is invalid. */
static const struct step window_scale_one_side[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED),
      .opt = O_MSS | O_WS, .ws = 7 },
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60, NOT_ASSURED),
      .opt = O_MSS },
    { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000, ASSURED),
      .win = 1000 },
    { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 432000, ASSURED),
      .fl_set = { CTDP_TCP_F_WINDOW_SCALE, 0 },
      .fl_clear = { CTDP_TCP_F_SACK_PERM,
                    CTDP_TCP_F_WINDOW_SCALE | CTDP_TCP_F_SACK_PERM } },
    { P(A2B, F_ACK, 1001001, 5001, 100, 4000, TRK_INV, sES, KEEP, ASSURED),
      .win = 1000 },
};


static void
test_window_scale_one_side(void)
{
    const struct script *sc = script("window_scale_one_side");
    struct ctdp_ct *ct = script_ct(sc);
    struct ctdp_ct_entry e;

    run_steps(ct, sc->name, sc->steps, sc->n);
    CHECK(the_conn(ct, 4000, &e));
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_ORIG], 0);
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_REPLY], 0);
    tpkt_ct_destroy(ct);
}

/* A window scale above 14 counts as 14 (TCP_MAX_WSCALE). */
static const struct step window_scale_clamped[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED),
      .opt = O_WS, .ws = 15 },
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60, NOT_ASSURED),
      .opt = O_WS, .ws = 14 },
};


static void
test_window_scale_clamped(void)
{
    const struct script *sc = script("window_scale_clamped");
    struct ctdp_ct *ct = script_ct(sc);
    struct ctdp_ct_entry e;

    run_steps(ct, sc->name, sc->steps, sc->n);
    CHECK(the_conn(ct, 1000, &e));
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_ORIG], 14);
    CHECK_EQ(e.tcp_wscale[CTDP_DIR_REPLY], 14);
    tpkt_ct_destroy(ct);
}

/* With SACK permitted, an ACK's SACK blocks count as acknowledgements: a
 * block beyond the plain ACK, within what A sent, is accepted; a block
 * beyond what A sent is invalid.  Without SACK_PERM the blocks are not
 * read. */
static const struct step sack_perm[] = {
    { P(A2B, F_SYN, 1000, 0, 0, 0, TRK_NEW, sSS, 120, NOT_ASSURED),
      .opt = O_MSS | O_SACKP },
    { P(B2A, F_SA, 5000, 1001, 0, 1000, TRK_EST_RPL, sSR, 60, NOT_ASSURED),
      .opt = O_MSS | O_SACKP },
    { P(A2B, F_ACK, 1001, 5001, 0, 2000, TRK_EST, sES, 432000, ASSURED),
      .fl_set = { CTDP_TCP_F_SACK_PERM, CTDP_TCP_F_SACK_PERM } },
    { P(A2B, F_ACK, 1101, 5001, 100, 3000, TRK_EST, sES, 300, ASSURED) },
    { P(B2A, F_ACK, 5001, 1001, 0, 4000, TRK_EST_RPL, sES, 300, ASSURED),
      .opt = O_SACK, .sack_l = 1101, .sack_r = 1201 },
    { P(B2A, F_ACK, 5001, 1001, 0, 5000, TRK_INV, sES, KEEP, ASSURED),
      .opt = O_SACK, .sack_l = 1101, .sack_r = 1301 },
};

static const struct step sack_no_perm[] = {
    HANDSHAKE,
    { P(A2B, F_ACK, 1101, 5001, 100, 3000, TRK_EST, sES, 300, ASSURED) },
    { P(B2A, F_ACK, 5001, 1001, 0, 4000, TRK_EST_RPL, sES, 300, ASSURED),
      .opt = O_SACK, .sack_l = 1101, .sack_r = 1301 },
};


static void
test_sack(void)
{
    RUN(sack_perm);
    RUN(sack_no_perm);
}

/* ---- Retransmissions --------------------------------------------------- */

/* Unacknowledged data gives the UNACK timeout; the third identical
 * retransmission (same direction, seq, ack, end and window) gives the
 * RETRANS timeout; the ACK of the data restores ESTABLISHED's. */
static const struct step retransmissions[] = {
    HANDSHAKE_R100,
    { P(A2B, F_ACK, 1001, 5001, 100, 3000, TRK_EST, sES, 200, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 100, 4000, TRK_EST, sES, 200, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 100, 5000, TRK_EST, sES, 200, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 100, 6000, TRK_EST, sES, 100, ASSURED) },
    { P(A2B, F_ACK, 1001, 5001, 100, 7000, TRK_EST, sES, 100, ASSURED) },
    { P(B2A, F_ACK, 5001, 1101, 0, 8000, TRK_EST_RPL, sES, 432000, ASSURED) },
};


static void
test_retransmissions(void)
{
    RUN(retransmissions);
}

/* An ACK that advertises a zero window gives the RETRANS timeout until an
 * ACK opens the window again. */
static const struct step zero_window[] = {
    HANDSHAKE_R100,
    { P(B2A, F_ACK, 5001, 1001, 0, 3000, TRK_EST_RPL, sES, 100, ASSURED),
      .win = WIN_ZERO },
    { P(B2A, F_ACK, 5001, 1001, 0, 4000, TRK_EST_RPL, sES, 432000, ASSURED) },
};


static void
test_zero_window(void)
{
    RUN(zero_window);
}

/* ---- The scripts, and their export -------------------------------------- */

static const struct script scripts[] = {
    { "handshake_and_data", STEPS(handshake_and_data), KERNEL },
    { "simultaneous_open", STEPS(simultaneous_open), KERNEL },
    { "fin_close_by_server", STEPS(fin_close_by_server), KERNEL },
    { "fin_close_simultaneous", STEPS(fin_close_simultaneous), KERNEL },
    { "fin_ack_skips_close_wait", STEPS(fin_ack_skips_close_wait), KERNEL },
    { "challenge_ack_in_last_ack", STEPS(challenge_ack_in_last_ack),
      KERNEL },
    /* Packet 3 comes 10 s after the RST, when CLOSE has expired. */
    { "rst_exact_by_server", STEPS(rst_exact_by_server),
      NOT_KERNEL(NEEDS_TIME) },
    { "rst_exact_by_client_rst_ack", STEPS(rst_exact_by_client_rst_ack),
      KERNEL },
    { "rst_inexact", STEPS(rst_inexact), KERNEL },
    { "rst_inexact_with_policy", STEPS(rst_inexact_with_policy), R100_U200,
      KERNEL },
    { "rst_after_data", STEPS(rst_after_data), KERNEL },
    { "rst_after_peer_data", STEPS(rst_after_peer_data), KERNEL },
    { "fin_before_established", STEPS(fin_before_established), KERNEL },
    { "rst_before_maxack", STEPS(rst_before_maxack), KERNEL },
    { "syn_answered_by_rst", STEPS(syn_answered_by_rst), KERNEL },
    { "rst_then_reconnect_resync", STEPS(rst_then_reconnect_resync),
      KERNEL },
    { "port_reuse_after_time_wait", STEPS(port_reuse_after_time_wait),
      KERNEL },
    { "loose_pickup", STEPS(loose_pickup), KERNEL },
    { "loose_off", STEPS(loose_off), .knobs = { .loose_off = true },
      KERNEL },
    { "invalid_flags_established", STEPS(invalid_flags_established),
      KERNEL },
    { "out_of_window", STEPS(out_of_window), KERNEL },
    { "out_of_window_liberal", STEPS(out_of_window_liberal),
      .knobs = { .be_liberal = true }, KERNEL },
    { "seq_check_off", STEPS(seq_check_off),
      .knobs = { .seq_check_off = true }, NOT_KERNEL(NO_SEQ_CHECK_KNOB) },
    { "overshot", STEPS(overshot), KERNEL },
    { "invalid_fin_rst_lower_timeout", STEPS(invalid_fin_rst_lower_timeout),
      R100_U200, KERNEL },
    { "window_scale_both", STEPS(window_scale_both), KERNEL },
    { "window_scale_one_side", STEPS(window_scale_one_side), KERNEL },
    { "window_scale_clamped", STEPS(window_scale_clamped), KERNEL },
    { "sack_perm", STEPS(sack_perm), KERNEL },
    { "sack_no_perm", STEPS(sack_no_perm), KERNEL },
    { "retransmissions", STEPS(retransmissions), R100_U200, KERNEL },
    { "zero_window", STEPS(zero_window), R100_U200, KERNEL },
};

/* The script called 'name'; aborts if there is none (a typo in a test). */
static const struct script *
script(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
        if (!strcmp(scripts[i].name, name)) {
            return &scripts[i];
        }
    }
    ovs_abort(0, "no TCP script %s", name);
}

/* Every script is either confirmed against the kernel or says why not;
 * so is every row of transitions[]. */
static void
test_scripts_marked(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
        CHECK(scripts[i].kernel != !!scripts[i].why_not);
    }
}

static void
check_complete(const char *name, const struct step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        step_check(!step_incomplete(&steps[i]), name, i, "the step %s",
                   step_incomplete(&steps[i]));
    }
}

/* Every step of every script, transition probe and first packet states
 * its ASSURED and timeout, or says why it does not (what the kernel
 * replay reads from the export, even for steps the unit tests only
 * replay). */
static void
test_scripts_complete(void)
{
    struct step s;
    char name[64];

    for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
        check_complete(scripts[i].name, scripts[i].steps, scripts[i].n);
    }
    for (size_t i = 0; i < ARRAY_SIZE(transitions); i++) {
        const struct transition *t = &transitions[i];

        check_complete(t->state, t->prefix, t->n_prefix);
        for (int dir = A2B; dir <= B2A; dir++) {
            for (int class = 0; class < N_CLASSES; class++) {
                s = probe_step(t, dir, class);
                check_complete(t->state, &s, 1);
            }
        }
    }
    for (size_t i = 0; first_packet(i, &s, name, sizeof name); i++) {
        check_complete(name, &s, 1);
    }
}

static const char *
want_name(int want)
{
    static char buf[64];

    switch (want) {
    case TRK_NEW:
        return "new";
    case TRK_EST:
        return "est";
    case TRK_EST_RPL:
        return "est|rpl";
    case TRK_REL:
        return "rel";
    case TRK_REL_RPL:
        return "rel|rpl";
    case TRK_INV:
        return "inv";
    default:
        return tpkt_state_name(want, buf, sizeof buf);
    }
}

static void
print_step(FILE *f, const struct step *s)
{
    static const char *const assured[] = {
        [AS_UNSET] = "unset", [AS_YES] = "yes", [AS_NO] = "no",
        [AS_ANY] = "any",
    };
    struct dp_packet *pkt = step_packet(s);
    const uint8_t *ip = (const uint8_t *) dp_packet_data(pkt) + TPKT_L3_OFS;
    size_t n = dp_packet_size(pkt) - TPKT_L3_OFS;

    fprintf(f, "{\"dir\": \"%s\", \"flags\": %d, \"seq\": %"PRIu32", "
            "\"ack\": %"PRIu32", \"len\": %d, \"now\": %lld, "
            "\"want\": \"%s\", ", s->dir == A2B ? "A2B" : "B2A", s->flags,
            s->seq, s->ack, s->len, s->now, want_name(s->want));
    if (s->state) {
        fprintf(f, "\"state\": \"%s\", ", s->state);
    } else {
        fprintf(f, "\"state\": null, ");
    }
    if (s->tmo == TMO_ANY) {
        fprintf(f, "\"tmo\": \"any\", ");
    } else if (s->tmo == KEEP) {
        fprintf(f, "\"tmo\": \"keep\", ");
    } else {
        fprintf(f, "\"tmo\": %d, ", s->tmo);
    }
    fprintf(f, "\"assured\": \"%s\", ", assured[s->assured]);
    if (s->why_any) {
        fprintf(f, "\"why_any\": \"%s\", ", s->why_any);
    }
    fprintf(f, "\"new_id\": %s, \"packet\": \"",
            s->new_id ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%02x", ip[i]);
    }
    fprintf(f, "\"}");
    dp_packet_delete(pkt);
}

/* Prints one script as a JSON line. */
static void
print_script(FILE *f, const char *name, const struct step *steps, size_t n,
             const struct knobs *k, bool kernel, const char *why_not)
{
    fprintf(f, "{\"name\": \"%s\", \"kernel\": %s, ", name,
            kernel ? "true" : "false");
    if (why_not) {
        fprintf(f, "\"why_not\": \"%s\", ", why_not);
    }
    fprintf(f, "\"sysctl\": {\"nf_conntrack_tcp_loose\": %d, "
            "\"nf_conntrack_tcp_be_liberal\": %d, "
            "\"nf_conntrack_tcp_timeout_max_retrans\": %d, "
            "\"nf_conntrack_tcp_timeout_unacknowledged\": %d}, "
            "\"seq_check\": %s, \"steps\": [", !k->loose_off, k->be_liberal,
            k->retrans ? k->retrans : 300, k->unack ? k->unack : 300,
            k->seq_check_off ? "false" : "true");
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        print_step(f, &steps[i]);
    }
    fprintf(f, "]}\n");
}

/* Prints every script as one JSON line each (`ctdp-unit --tcp-scripts`):
 * the named scripts, one per transition probe (its prefix, then the
 * probe) and one per first-packet flag combination.  Each line has the
 * name, "kernel" (confirmed against the running kernel), "why_not" when
 * not, the kernel sysctls equivalent to the script's knobs, and the steps:
 * direction, TCP fields, the IP packet in hex, and the expectations
 * ("want" ct_state, "state", "tmo" in s, "keep" or "any", "assured"
 * "yes", "no" or "any", "why_any" when "tmo" or "assured" is "any",
 * "new_id"). */
void
ct_tcp_print_scripts(FILE *f)
{
    static const struct knobs defaults;
    struct step steps[16], s;
    char name[64];

    for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
        const struct script *sc = &scripts[i];

        print_script(f, sc->name, sc->steps, sc->n, &sc->knobs, sc->kernel,
                     sc->why_not);
    }
    for (size_t i = 0; i < ARRAY_SIZE(transitions); i++) {
        const struct transition *t = &transitions[i];

        ovs_assert(t->n_prefix < ARRAY_SIZE(steps));
        memcpy(steps, t->prefix, t->n_prefix * sizeof *steps);
        for (int dir = A2B; dir <= B2A; dir++) {
            for (int class = 0; class < N_CLASSES; class++) {
                steps[t->n_prefix] = probe_step(t, dir, class);
                snprintf(name, sizeof name, "%s + %s %s", t->state,
                         dir == A2B ? "orig" : "reply", class_names[class]);
                print_script(f, name, steps, t->n_prefix + 1, &defaults,
                             !t->why_not, t->why_not);
            }
        }
    }
    for (size_t i = 0; first_packet(i, &s, name, sizeof name); i++) {
        print_script(f, name, &s, 1, &defaults, true, NULL);
    }
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
        { "rst_after_data", test_rst_after_data },
        { "fin_before_established", test_fin_before_established },
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
        { "scripts_marked", test_scripts_marked },
        { "scripts_complete", test_scripts_complete },
        { NULL, NULL },
    },
};
