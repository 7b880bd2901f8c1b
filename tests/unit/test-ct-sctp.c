/* The SCTP and GRE trackers (ctdp-l4-sctp.c, ctdp-l4-gre.c), as the Linux
 * kernel's nf_conntrack_proto_sctp.c and nf_conntrack_proto_gre.c: an
 * association's states and their timeouts, ASSURED at ESTABLISHED, the
 * verification tag rules (RFC 9260 section 8.5.1), every rule of the
 * kernel's do_basic_checks(), out-of-the-blue packets, the conn a
 * HEARTBEAT opens and the heartbeat "vtag failed" path, packets that pass
 * without renewing their conn, the CRC32c (checked, counted, recomputed
 * by NAT: checked here with a CRC of the tests' own), GRE's keys and
 * fixed timeouts, and what a dump shows of both.
 *
 * A is the client (port 5000) and announces the Initiate Tag TAG_A; B the
 * server (port 6000), TAG_B.  So A's packets carry TAG_B and B's TAG_A,
 * and a conn expects TAG_B from the original direction and TAG_A from the
 * reply. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-ct-format.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <stdio.h>
#include <string.h>
#include "dp-packet.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "util.h"

#define SCTP IPPROTO_SCTP
#define GRE IPPROTO_GRE
#define TAG_A 0x0a0a0a0au
#define TAG_B 0x0b0b0b0bu
#define A_PORT 5000
#define B_PORT 6000
#define GRE_PPP 0x880b

static const char *const A = "10.0.0.1", *const B = "10.0.0.2";
static const char *const A6 = "fd00::1", *const B6 = "fd00::2";

/* Chunk types (RFC 9260). */
enum {
    DATA = 0, INIT = 1, INIT_ACK = 2, SACK = 3, HEARTBEAT = 4,
    HEARTBEAT_ACK = 5, ABORT = 6, SHUTDOWN = 7, SHUTDOWN_ACK = 8,
    ERROR = 9, COOKIE_ECHO = 10, COOKIE_ACK = 11, SHUTDOWN_COMPLETE = 14,
};
#define T_BIT 1

/* ---- Chunks and packets ------------------------------------------------ */

/* The chunks of one packet, written one after another. */
struct chunks {
    uint8_t buf[512];
    size_t len;
};

/* Appends a chunk of 'type' with 'flags' and a body of 'body_len' bytes
 * (zeros, but for INIT and INIT ACK, whose Initiate Tag is 'tag'); its
 * length field says 4 + 'body_len', or 'len' if nonzero-or-forced. */
static void
put_chunk_len(struct chunks *c, uint8_t type, uint8_t flags, uint32_t tag,
              size_t body_len, uint16_t len)
{
    uint8_t *p = c->buf + c->len;

    ovs_assert(c->len + 4 + ROUND_UP(body_len, 4) <= sizeof c->buf);
    memset(p, 0, 4 + ROUND_UP(body_len, 4));
    p[0] = type;
    p[1] = flags;
    p[2] = len >> 8;
    p[3] = len;
    if ((type == INIT || type == INIT_ACK) && body_len >= 16) {
        for (int i = 0; i < 4; i++) {
            p[4 + i] = tag >> (24 - 8 * i);
        }
        p[8] = 0xff;            /* a_rwnd 0xffff0000, one stream each way, */
        p[9] = 0xff;            /* initial TSN 1. */
        p[13] = 1;
        p[15] = 1;
        p[19] = 1;
    }
    c->len += 4 + ROUND_UP(body_len, 4);
}

/* Appends a chunk with its right length: 16 bytes of body for INIT and
 * INIT ACK (Initiate Tag 'tag'), 12 for DATA and SACK, 8 for HEARTBEAT
 * (and its ACK) and COOKIE ECHO, 4 for SHUTDOWN, none for the others. */
static void
put_chunk(struct chunks *c, uint8_t type, uint8_t flags, uint32_t tag)
{
    size_t body = type == INIT || type == INIT_ACK ? 16
                  : type == DATA || type == SACK ? 12
                  : type == HEARTBEAT || type == HEARTBEAT_ACK
                    || type == COOKIE_ECHO ? 8
                  : type == SHUTDOWN ? 4 : 0;

    put_chunk_len(c, type, flags, tag, body, 4 + body);
}

/* A packet from 'ip' with ports 'sport' and 'dport' and verification
 * tag 'vtag', holding one chunk (and a second one, 'type2', unless it is
 * -1). */
static struct dp_packet *
sctp_raw(const struct tpkt_ip *ip, uint16_t sport, uint16_t dport,
         uint32_t vtag, uint8_t type, uint8_t flags, uint32_t init_tag,
         int type2)
{
    struct chunks c = { .len = 0 };

    put_chunk(&c, type, flags, init_tag);
    if (type2 >= 0) {
        put_chunk(&c, type2, 0, init_tag);
    }
    return tpkt_sctp(ip, sport, dport, vtag, c.buf, c.len);
}

/* sctp_raw() between A and B of 'ab', from A ('from_a') or B. */
static struct dp_packet *
sctp_pkt2(const struct tpkt_ip *ab, bool from_a, uint32_t vtag,
          uint8_t type, uint8_t flags, uint32_t init_tag, int type2)
{
    struct tpkt_ip ba = tpkt_ip_swap(ab);

    return sctp_raw(from_a ? ab : &ba, from_a ? A_PORT : B_PORT,
                    from_a ? B_PORT : A_PORT, vtag, type, flags, init_tag,
                    type2);
}

/* ct(commit) on a packet of one chunk; its ct_state. */
static int
sctp_ct(struct ctdp_ct *ct, const struct tpkt_ip *ab, bool from_a,
        uint32_t vtag, uint8_t type, uint8_t flags, uint32_t init_tag,
        long long now)
{
    return tpkt_ct1(ct, sctp_pkt2(ab, from_a, vtag, type, flags, init_tag,
                                  -1), 0, true, now);
}

/* Likewise for a packet of two chunks. */
static int
sctp_ct2(struct ctdp_ct *ct, const struct tpkt_ip *ab, bool from_a,
         uint32_t vtag, uint8_t type, uint8_t type2, long long now)
{
    return tpkt_ct1(ct, sctp_pkt2(ab, from_a, vtag, type, 0, TAG_A, type2),
                    0, true, now);
}

/* ct(commit) on a packet of the chunks 'c'. */
static int
sctp_ct_chunks(struct ctdp_ct *ct, const struct tpkt_ip *ab, bool from_a,
               uint32_t vtag, const struct chunks *c, long long now)
{
    struct tpkt_ip ba = tpkt_ip_swap(ab);

    return tpkt_ct1(ct, tpkt_sctp(from_a ? ab : &ba,
                                  from_a ? A_PORT : B_PORT,
                                  from_a ? B_PORT : A_PORT, vtag, c->buf,
                                  c->len), 0, true, now);
}

static struct ctdp_ct_stats
stats_of(const struct ctdp_ct *ct)
{
    struct ctdp_ct_stats s;

    ctdp_ct_get_stats(ct, &s);
    return s;
}

/* The conn A:5000 -> B:6000 at 'now' (an entry with id 0 if none). */
static struct ctdp_ct_entry
assoc(struct ctdp_ct *ct, const struct tpkt_ip *ab, long long now)
{
    struct ctdp_ct_entry e;
    struct ctdp_tuple t;

    tpkt_tuple(&t, ab, SCTP, A_PORT, B_PORT, 0);
    if (!tpkt_find(ct, &t, now, &e)) {
        memset(&e, 0, sizeof e);
    }
    return e;
}

/* Checks that the association of 'ab' is in 'state', expires at
 * 'expires', and is ASSURED or not as 'assured' says. */
#define CHECK_ASSOC(CT, AB, NOW, STATE, EXPIRES, ASSURED)               \
    do {                                                                \
        struct ctdp_ct_entry e_ = assoc(CT, AB, NOW);                   \
                                                                        \
        CHECK(e_.id != 0);                                              \
        CHECK(e_.l4_state && !strcmp(e_.l4_state, STATE));              \
        if (e_.l4_state && strcmp(e_.l4_state, STATE)) {                \
            printf("# state %s, expected %s\n", e_.l4_state, STATE);    \
        }                                                               \
        CHECK_EQ(e_.expires, EXPIRES);                                  \
        CHECK_EQ(!!(e_.status & CTDP_S_ASSURED), !!(ASSURED));          \
    } while (0)

/* INIT, INIT ACK, COOKIE ECHO, COOKIE ACK at 'now' (+0, +1, +2, +3 ms),
 * each checked for its ct_state. */
static void
handshake(struct ctdp_ct *ct, const struct tpkt_ip *ab, long long now)
{
    CHECK_STATE(sctp_ct(ct, ab, true, 0, INIT, 0, TAG_A, now), TRK_NEW);
    CHECK_STATE(sctp_ct(ct, ab, false, TAG_A, INIT_ACK, 0, TAG_B, now + 1),
                TRK_EST_RPL);
    CHECK_STATE(sctp_ct(ct, ab, true, TAG_B, COOKIE_ECHO, 0, 0, now + 2),
                TRK_EST);
    CHECK_STATE(sctp_ct(ct, ab, false, TAG_A, COOKIE_ACK, 0, 0, now + 3),
                TRK_EST_RPL);
}

/* ---- The association --------------------------------------------------- */

/* Each step of an association and its shutdown moves the conn to the
 * kernel's state with that state's timeout (CLOSED 10 s, COOKIE_WAIT and
 * COOKIE_ECHOED 3 s, ESTABLISHED 210 s, the SHUTDOWN states 3 s); the
 * conn is ASSURED from ESTABLISHED on, keeps it when closing, and goes
 * 10 s after SHUTDOWN COMPLETE. */
static void
run_association(const char *a, const char *b)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(a, b);

    CHECK_STATE(sctp_ct(ct, &ab, true, 0, INIT, 0, TAG_A, 1000), TRK_NEW);
    CHECK_ASSOC(ct, &ab, 1000, "CLOSED", 11000, false);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, INIT_ACK, 0, TAG_B, 2000),
                TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 2000, "COOKIE_WAIT", 5000, false);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, COOKIE_ECHO, 0, 0, 3000),
                TRK_EST);
    CHECK_ASSOC(ct, &ab, 3000, "COOKIE_ECHOED", 6000, false);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, COOKIE_ACK, 0, 0, 4000),
                TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 4000, "ESTABLISHED", 214000, true);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, DATA, 0, 0, 5000), TRK_EST);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, SACK, 0, 0, 6000),
                TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 6000, "ESTABLISHED", 216000, true);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, SHUTDOWN, 0, 0, 7000),
                TRK_EST);
    CHECK_ASSOC(ct, &ab, 7000, "SHUTDOWN_SENT", 10000, true);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, SHUTDOWN_ACK, 0, 0, 8000),
                TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 8000, "SHUTDOWN_ACK_SENT", 11000, true);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, SHUTDOWN_COMPLETE, 0, 0, 9000),
                TRK_EST);
    CHECK_ASSOC(ct, &ab, 9000, "CLOSED", 19000, true);
    CHECK_EQ(tpkt_dump(ct, -1, 19001, NULL, 0), 0);
    CHECK_EQ(ctdp_ct_sweep(ct, 19001, 100), 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

static void
test_sctp_association(void)
{
    run_association(A, B);
}

static void
test_sctp_association_v6(void)
{
    run_association(A6, B6);
}

/* B's SHUTDOWN makes SHUTDOWN_RECD (3 s); A's SHUTDOWN ACK then
 * SHUTDOWN_ACK_SENT. */
static void
test_sctp_shutdown_received(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    handshake(ct, &ab, 1000);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, SHUTDOWN, 0, 0, 2000),
                TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 2000, "SHUTDOWN_RECD", 5000, true);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, SHUTDOWN_ACK, 0, 0, 2100),
                TRK_EST);
    CHECK_ASSOC(ct, &ab, 2100, "SHUTDOWN_ACK_SENT", 5100, true);
    tpkt_ct_destroy(ct);
}

/* ---- Verification tags ------------------------------------------------- */

/* DATA and SACK must carry their direction's tag, learnt from the INIT
 * ACK and the INIT: another is invalid and changes nothing. */
static void
test_sctp_wrong_vtag(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct ctdp_ct_entry e;
    uint64_t invalid;

    handshake(ct, &ab, 1000);
    invalid = stats_of(ct).invalid;
    CHECK_STATE(sctp_ct(ct, &ab, true, 0xdead, DATA, 0, 0, 2000), TRK_INV);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_A, DATA, 0, 0, 2000), TRK_INV);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_B, SACK, 0, 0, 2000), TRK_INV);
    CHECK_EQ(stats_of(ct).invalid, invalid + 3);
    e = assoc(ct, &ab, 2000);
    CHECK_EQ(e.expires, 1003 + 210000);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_ORIG], TAG_B);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_REPLY], TAG_A);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, DATA, 0, 0, 2000), TRK_EST);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, SACK, 0, 0, 2000),
                TRK_EST_RPL);
    tpkt_ct_destroy(ct);
}

/* An INIT must carry tag 0 (section 8.5.1 (A)): with another it makes no
 * conn, and on a conn it is invalid. */
static void
test_sctp_init_nonzero_vtag(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    CHECK_STATE(sctp_ct(ct, &ab, true, 1234, INIT, 0, TAG_A, 1000), TRK_INV);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    handshake(ct, &ab, 1000);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, INIT, 0, TAG_A, 2000),
                TRK_INV);
    CHECK_ASSOC(ct, &ab, 2000, "ESTABLISHED", 211003, true);
    tpkt_ct_destroy(ct);
}

/* COOKIE ECHO must carry the tag the INIT ACK gave (section 8.5.1 (D)). */
static void
test_sctp_cookie_echo_vtag(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    CHECK_STATE(sctp_ct(ct, &ab, true, 0, INIT, 0, TAG_A, 1000), TRK_NEW);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, INIT_ACK, 0, TAG_B, 1000),
                TRK_EST_RPL);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B + 1, COOKIE_ECHO, 0, 0, 1000),
                TRK_INV);
    CHECK_ASSOC(ct, &ab, 1000, "COOKIE_WAIT", 4000, false);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, COOKIE_ECHO, 0, 0, 1000),
                TRK_EST);
    tpkt_ct_destroy(ct);
}

/* An INIT ACK must answer the INIT: to another tag it is invalid. */
static void
test_sctp_init_ack_wrong_tag(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    CHECK_STATE(sctp_ct(ct, &ab, true, 0, INIT, 0, TAG_A, 1000), TRK_NEW);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A + 1, INIT_ACK, 0, TAG_B, 1000),
                TRK_INV);
    CHECK_ASSOC(ct, &ab, 1000, "CLOSED", 11000, false);
    tpkt_ct_destroy(ct);
}

/* ABORT carries the peer's tag with the T bit clear, its sender's own
 * with it set (section 8.5.1 (B)); either closes the association (10 s),
 * the other tag is invalid. */
static void
test_sctp_abort(void)
{
    for (int t = 0; t < 2; t++) {
        struct ctdp_ct *ct = ctdp_ct_create(NULL);
        struct tpkt_ip ab = tpkt_ip(A, B);
        uint32_t right = t ? TAG_A : TAG_B, wrong = t ? TAG_B : TAG_A;

        handshake(ct, &ab, 1000);
        CHECK_STATE(sctp_ct(ct, &ab, true, wrong, ABORT, t, 0, 2000),
                    TRK_INV);
        CHECK_ASSOC(ct, &ab, 2000, "ESTABLISHED", 211003, true);
        CHECK_STATE(sctp_ct(ct, &ab, true, right, ABORT, t, 0, 2000),
                    TRK_EST);
        CHECK_ASSOC(ct, &ab, 2000, "CLOSED", 12000, true);
        tpkt_ct_destroy(ct);
    }
}

/* SHUTDOWN COMPLETE follows the same rule (section 8.5.1 (C)). */
static void
test_sctp_shutdown_complete_t_bit(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    handshake(ct, &ab, 1000);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, SHUTDOWN, 0, 0, 2000),
                TRK_EST_RPL);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, SHUTDOWN_ACK, 0, 0, 2000),
                TRK_EST);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, SHUTDOWN_COMPLETE, T_BIT, 0,
                        2000), TRK_INV);
    CHECK_ASSOC(ct, &ab, 2000, "SHUTDOWN_ACK_SENT", 5000, true);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_B, SHUTDOWN_COMPLETE, T_BIT, 0,
                        2000), TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 2000, "CLOSED", 12000, true);
    tpkt_ct_destroy(ct);
}

/* ---- do_basic_checks() ------------------------------------------------- */

/* Every rule of the kernel's do_basic_checks(), on an association in
 * COOKIE_WAIT: INIT, INIT ACK and SHUTDOWN COMPLETE alone, COOKIE ECHO
 * and COOKIE ACK first, no chunk of length 0, at least one chunk.  Each
 * refused packet changes nothing; COOKIE ECHO first, with DATA after it,
 * passes. */
static void
test_sctp_basic_checks(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct chunks c;

    CHECK_STATE(sctp_ct(ct, &ab, true, 0, INIT, 0, TAG_A, 1000), TRK_NEW);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, INIT_ACK, 0, TAG_B, 1000),
                TRK_EST_RPL);
    CHECK_STATE(sctp_ct2(ct, &ab, true, 0, INIT, DATA, 1000), TRK_INV);
    CHECK_STATE(sctp_ct2(ct, &ab, true, TAG_B, DATA, INIT, 1000), TRK_INV);
    CHECK_STATE(sctp_ct2(ct, &ab, false, TAG_A, INIT_ACK, DATA, 1000),
                TRK_INV);
    CHECK_STATE(sctp_ct2(ct, &ab, true, TAG_B, SHUTDOWN_COMPLETE, DATA,
                         1000), TRK_INV);
    CHECK_STATE(sctp_ct2(ct, &ab, true, TAG_B, DATA, SHUTDOWN_COMPLETE,
                         1000), TRK_INV);
    CHECK_STATE(sctp_ct2(ct, &ab, true, TAG_B, DATA, COOKIE_ECHO, 1000),
                TRK_INV);
    CHECK_STATE(sctp_ct2(ct, &ab, false, TAG_A, SACK, COOKIE_ACK, 1000),
                TRK_INV);

    c.len = 0;
    put_chunk(&c, DATA, 0, 0);
    put_chunk_len(&c, SACK, 0, 0, 0, 0);
    CHECK_STATE(sctp_ct_chunks(ct, &ab, true, TAG_B, &c, 1000), TRK_INV);
    c.len = 0;
    CHECK_STATE(sctp_ct_chunks(ct, &ab, true, TAG_B, &c, 1000), TRK_INV);
    CHECK_ASSOC(ct, &ab, 1000, "COOKIE_WAIT", 4000, false);

    CHECK_STATE(sctp_ct2(ct, &ab, true, TAG_B, COOKIE_ECHO, DATA, 2000),
                TRK_EST);
    CHECK_ASSOC(ct, &ab, 2000, "COOKIE_ECHOED", 5000, false);
    CHECK_STATE(sctp_ct2(ct, &ab, false, TAG_A, COOKIE_ACK, SACK, 2000),
                TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 2000, "ESTABLISHED", 212000, true);
    tpkt_ct_destroy(ct);
}

/* A packet whose first chunk has length 0 makes no conn; nor does a
 * header without chunks, nor an INIT too short for its Initiate Tag. */
static void
test_sctp_malformed_new(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct chunks c = { .len = 0 };

    put_chunk_len(&c, INIT, 0, TAG_A, 16, 0);
    CHECK_STATE(sctp_ct_chunks(ct, &ab, true, 0, &c, 1000), TRK_INV);
    c.len = 0;
    CHECK_STATE(sctp_ct_chunks(ct, &ab, true, 0, &c, 1000), TRK_INV);
    c.len = 0;
    put_chunk_len(&c, INIT, 0, TAG_A, 0, 4);
    CHECK_STATE(sctp_ct_chunks(ct, &ab, true, 0, &c, 1000), TRK_INV);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    tpkt_ct_destroy(ct);
}

/* Out-of-the-blue ABORT, SHUTDOWN COMPLETE and COOKIE ACK make no conn
 * (section 8.4), nor do chunks that leave the state at NONE (DATA,
 * SACK).  An out-of-the-blue
 * SHUTDOWN ACK makes one in SHUTDOWN_ACK_SENT that expects its own tag
 * back, in a SHUTDOWN COMPLETE without the T bit. */
static void
test_sctp_out_of_the_blue(void)
{
    static const uint8_t refused[] = {
        ABORT, SHUTDOWN_COMPLETE, COOKIE_ACK, DATA, SACK,
    };
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct ctdp_ct_entry e;

    for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
        CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, refused[i], 0, 0, 1000),
                    TRK_INV);
    }
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, SHUTDOWN_ACK, 0, 0, 1000),
                TRK_NEW);
    CHECK_ASSOC(ct, &ab, 1000, "SHUTDOWN_ACK_SENT", 4000, false);
    e = assoc(ct, &ab, 1000);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_ORIG], 0);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_REPLY], TAG_B);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_B, SHUTDOWN_COMPLETE, T_BIT, 0,
                        1000), TRK_INV);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_B, SHUTDOWN_COMPLETE, 0, 0,
                        1000), TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 1000, "CLOSED", 11000, false);
    tpkt_ct_destroy(ct);
}

/* An out-of-the-blue COOKIE ECHO makes a conn in CLOSED (the table's
 * NONE row), as in the kernel. */
static void
test_sctp_cookie_echo_new(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    CHECK_STATE(sctp_ct(ct, &ab, true, 0, COOKIE_ECHO, 0, 0, 1000), TRK_NEW);
    CHECK_ASSOC(ct, &ab, 1000, "CLOSED", 11000, false);
    tpkt_ct_destroy(ct);
}

/* ---- Heartbeats -------------------------------------------------------- */

/* A HEARTBEAT with no conn (a secondary path of a multi-homed
 * association) makes one in HEARTBEAT_SENT (30 s) that learns the
 * heartbeat's tag; the HEARTBEAT ACK makes it ESTABLISHED and ASSURED and
 * gives the reply's tag; DATA then needs both. */
static void
test_sctp_heartbeat_conn(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct ctdp_ct_entry e;

    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, HEARTBEAT, 0, 0, 1000),
                TRK_NEW);
    CHECK_ASSOC(ct, &ab, 1000, "HEARTBEAT_SENT", 31000, false);
    e = assoc(ct, &ab, 1000);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_ORIG], TAG_B);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_REPLY], 0);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, HEARTBEAT_ACK, 0, 0, 2000),
                TRK_EST_RPL);
    CHECK_ASSOC(ct, &ab, 2000, "ESTABLISHED", 212000, true);
    CHECK_EQ(assoc(ct, &ab, 2000).sctp_vtag[CTDP_DIR_REPLY], TAG_A);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_A, DATA, 0, 0, 3000), TRK_INV);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, DATA, 0, 0, 3000), TRK_EST);
    CHECK_STATE(sctp_ct(ct, &ab, false, TAG_A, SACK, 0, 0, 3000),
                TRK_EST_RPL);
    tpkt_ct_destroy(ct);
}

/* A HEARTBEAT with another tag than its direction's passes but is not
 * applied (the conn not renewed) and marks the conn "vtag failed"; a
 * HEARTBEAT ACK with another tag is then taken only from the other
 * direction, and makes the tags be learnt again: its own, and the other
 * direction's from its next HEARTBEAT.  Without a failed HEARTBEAT
 * before it, or with DATA beside, a wrong-tag heartbeat is invalid. */
static void
test_sctp_heartbeat_vtag_failed(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct ctdp_ct_entry e;

    handshake(ct, &ab, 1000);
    CHECK_STATE(sctp_ct(ct, &ab, false, 0x2222, HEARTBEAT_ACK, 0, 0, 2000),
                TRK_INV);
    CHECK_STATE(sctp_ct2(ct, &ab, true, 0x1111, HEARTBEAT, DATA, 2000),
                TRK_INV);
    CHECK_STATE(sctp_ct(ct, &ab, true, 0x1111, HEARTBEAT, 0, 0, 5000),
                TRK_EST);
    CHECK_ASSOC(ct, &ab, 5000, "ESTABLISHED", 211003, true);
    /* The ACK must come from the other direction than the heartbeat. */
    CHECK_STATE(sctp_ct(ct, &ab, true, 0x1111, HEARTBEAT_ACK, 0, 0, 5000),
                TRK_INV);
    CHECK_STATE(sctp_ct(ct, &ab, false, 0x2222, HEARTBEAT_ACK, 0, 0, 6000),
                TRK_EST_RPL);
    e = assoc(ct, &ab, 6000);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_ORIG], 0);
    CHECK_EQ(e.sctp_vtag[CTDP_DIR_REPLY], 0x2222);
    CHECK_EQ(e.expires, 216000);
    CHECK_STATE(sctp_ct(ct, &ab, true, TAG_B, DATA, 0, 0, 7000), TRK_INV);
    CHECK_STATE(sctp_ct(ct, &ab, true, 0x1111, HEARTBEAT, 0, 0, 7000),
                TRK_EST);
    CHECK_EQ(assoc(ct, &ab, 7000).sctp_vtag[CTDP_DIR_ORIG], 0x1111);
    CHECK_STATE(sctp_ct(ct, &ab, true, 0x1111, DATA, 0, 0, 7000), TRK_EST);
    CHECK_STATE(sctp_ct(ct, &ab, false, 0x2222, SACK, 0, 0, 7000),
                TRK_EST_RPL);
    /* The flag was cleared: another wrong ACK is invalid. */
    CHECK_STATE(sctp_ct(ct, &ab, false, 0x3333, HEARTBEAT_ACK, 0, 0, 7000),
                TRK_INV);
    tpkt_ct_destroy(ct);
}

/* An INIT retransmitted on an unanswered conn (CLOSED to CLOSED) passes
 * without renewing it, so that port reuse cannot keep it alive. */
static void
test_sctp_init_retransmit_not_renewed(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);

    CHECK_STATE(sctp_ct(ct, &ab, true, 0, INIT, 0, TAG_A, 1000), TRK_NEW);
    CHECK_STATE(sctp_ct(ct, &ab, true, 0, INIT, 0, TAG_A, 4000), TRK_NEW);
    CHECK_ASSOC(ct, &ab, 4000, "CLOSED", 11000, false);
    CHECK_EQ(tpkt_dump(ct, -1, 11001, NULL, 0), 0);
    tpkt_ct_destroy(ct);
}

/* ---- The checksum ------------------------------------------------------ */

/* A wrong CRC32c makes the packet invalid, before any tracking (no conn;
 * an association's state and timeout untouched), counted in
 * bad_checksum; with nf_conntrack_checksum off it is not checked. */
static void
test_sctp_bad_crc(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct dp_packet *pkt;
    size_t knob;

    pkt = sctp_pkt2(&ab, true, 0, INIT, 0, TAG_A, -1);
    CHECK(tpkt_sctp_csum_ok(pkt));
    ((uint8_t *) dp_packet_data(pkt))[tpkt_l4_ofs(pkt) + 8] ^= 1;
    CHECK(!tpkt_sctp_csum_ok(pkt));
    CHECK_STATE(tpkt_ct1(ct, pkt, 0, true, 1000), TRK_INV);
    CHECK_EQ(stats_of(ct).bad_checksum, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 0);

    handshake(ct, &ab, 1000);
    pkt = sctp_pkt2(&ab, true, TAG_B, SHUTDOWN, 0, 0, -1);
    ((uint8_t *) dp_packet_data(pkt))[dp_packet_size(pkt) - 1] ^= 0x40;
    CHECK_STATE(tpkt_ct1(ct, pkt, 0, true, 2000), TRK_INV);
    CHECK_EQ(stats_of(ct).bad_checksum, 2);
    CHECK_ASSOC(ct, &ab, 2000, "ESTABLISHED", 211003, true);

    CHECK(ctdp_ct_sysctl_find("nf_conntrack_checksum", &knob));
    ctdp_ct_sysctl_set(ct, knob, 0);
    pkt = sctp_pkt2(&ab, true, TAG_B, DATA, 0, 0, -1);
    ((uint8_t *) dp_packet_data(pkt))[tpkt_l4_ofs(pkt) + 8] ^= 1;
    CHECK_STATE(tpkt_ct1(ct, pkt, 0, true, 3000), TRK_EST);
    CHECK_EQ(stats_of(ct).bad_checksum, 2);
    tpkt_ct_destroy(ct);
}

/* Checks the ports of the SCTP packet 'pkt' and its CRC32c. */
static void
check_ports_crc(const struct dp_packet *pkt, uint16_t sport, uint16_t dport)
{
    const uint8_t *l4 = (const uint8_t *) dp_packet_data(pkt)
                        + tpkt_l4_ofs(pkt);

    CHECK_EQ((l4[0] << 8) | l4[1], sport);
    CHECK_EQ((l4[2] << 8) | l4[3], dport);
    CHECK(tpkt_sctp_csum_ok(pkt));
}

/* Source NAT of an association to 192.0.2.1:7000 rewrites the source
 * port of A's packets, and the destination port of B's back to 5000, and
 * computes the CRC32c again (it covers no pseudo-header, but the ports);
 * the association is tracked through it as without NAT. */
static void
test_sctp_nat(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), xb = tpkt_ip("192.0.2.1", B), bx;
    struct ctdp_ct_action a = tpkt_action(0, true), back = a;
    struct dp_packet *pkt;

    a.nat = back.nat = true;
    a.nat_range.flags = CTDP_NAT_SRC | CTDP_NAT_PORTS;
    a.nat_range.l3 = CTDP_L3_IPV4;
    a.nat_range.min_addr = a.nat_range.max_addr = xb.src;
    a.nat_range.min_port = a.nat_range.max_port = 7000;
    ovs_assert(!ctdp_ct_action_check(&a));

    pkt = sctp_pkt2(&ab, true, 0, INIT, 0, TAG_A, -1);
    CHECK_STATE(tpkt_ct(ct, pkt, &a, 1000), TRK_NEW | CS_SRC_NAT);
    check_ports_crc(pkt, 7000, B_PORT);
    tpkt_free(ct, pkt);

    bx = tpkt_ip_swap(&xb);
    pkt = sctp_raw(&bx, B_PORT, 7000, TAG_A, INIT_ACK, 0, TAG_B, -1);
    CHECK_STATE(tpkt_ct(ct, pkt, &back, 1001), TRK_EST_RPL | CS_DST_NAT);
    check_ports_crc(pkt, B_PORT, A_PORT);
    tpkt_free(ct, pkt);
    CHECK_ASSOC(ct, &ab, 1001, "COOKIE_WAIT", 4001, false);
    tpkt_ct_destroy(ct);
}

/* ---- GRE --------------------------------------------------------------- */

/* The GRE conn 'ab' with keys 'srckey', 'dstkey' at 'now'. */
static struct ctdp_ct_entry
gre_conn(struct ctdp_ct *ct, const struct tpkt_ip *ab, uint16_t srckey,
         uint16_t dstkey, long long now)
{
    struct ctdp_ct_entry e;
    struct ctdp_tuple t;

    tpkt_tuple(&t, ab, GRE, srckey, dstkey, 0);
    if (!tpkt_find(ct, &t, now, &e)) {
        memset(&e, 0, sizeof e);
    }
    return e;
}

/* GRE version 0, tracked by address (keys 0): 30 s until a reply; the
 * reply itself still waits 30 s; the packet after it makes the conn
 * ASSURED, 180 s.  The conn's two timeouts are shown in a dump. */
static void
test_gre_v0(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;

    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 0, 0x0800, 0), 0, true, 1000),
                TRK_NEW);
    e = gre_conn(ct, &ab, 0, 0, 1000);
    CHECK(e.id != 0);
    CHECK_EQ(e.expires, 31000);
    CHECK_EQ(e.gre_timeout, 30);
    CHECK_EQ(e.gre_stream_timeout, 180);
    CHECK(e.l4_state == NULL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ba, 0, 0x0800, 0), 0, true, 2000),
                TRK_EST_RPL);
    e = gre_conn(ct, &ab, 0, 0, 2000);
    CHECK_EQ(e.expires, 32000);
    CHECK(e.status & CTDP_S_SEEN_REPLY);
    CHECK(!(e.status & CTDP_S_ASSURED));
    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 0, 0x0800, 0), 0, true, 3000),
                TRK_EST);
    e = gre_conn(ct, &ab, 0, 0, 3000);
    CHECK_EQ(e.expires, 183000);
    CHECK(e.status & CTDP_S_ASSURED);
    tpkt_ct_destroy(ct);
}

/* A conn keeps the timeouts it got when it was made: a new default
 * (nf_conntrack_gre_timeout_stream) applies to new conns only. */
static void
test_gre_timeouts_fixed(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct tpkt_ip ab6 = tpkt_ip(A6, B6);
    struct ctdp_ct_entry e;
    size_t knob;

    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 0, 0x0800, 0), 0, true, 1000),
                TRK_NEW);
    CHECK(ctdp_ct_sysctl_find("nf_conntrack_gre_timeout_stream", &knob));
    ctdp_ct_sysctl_set(ct, knob, 60);
    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ba, 0, 0x0800, 0), 0, true, 2000),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 0, 0x0800, 0), 0, true, 3000),
                TRK_EST);
    e = gre_conn(ct, &ab, 0, 0, 3000);
    CHECK_EQ(e.expires, 183000);
    CHECK_EQ(e.gre_stream_timeout, 180);
    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab6, 0, 0x0800, 0), 0, true, 3000),
                TRK_NEW);
    CHECK_EQ(gre_conn(ct, &ab6, 0, 0, 3000).gre_stream_timeout, 60);
    tpkt_ct_destroy(ct);
}

/* PPTP's GRE (version 1) is tracked by call id: the destination key is
 * the packet's call id, the source key 0 (no PPTP helper fills the
 * keymap).  So the other end's packets, to its peer's call id, make a
 * conn of their own; only call id 0 both ways is one conn.  A version 1
 * packet that does not carry PPP has no tuple: invalid; GRE version 0
 * never reads a key. */
static void
test_gre_pptp_keys(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B), ba = tpkt_ip(B, A);
    struct ctdp_ct_entry e;
    struct ctdp_tuple reply;

    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 1, GRE_PPP, 0x1234), 0, true,
                         1000), TRK_NEW);
    e = gre_conn(ct, &ab, 0, 0x1234, 1000);
    CHECK(e.id != 0);
    tpkt_tuple(&reply, &ba, GRE, 0x1234, 0, 0);
    CHECK(ctdp_tuple_equal(&e.reply, &reply));
    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ba, 1, GRE_PPP, 0x5678), 0, true,
                         1000), TRK_NEW);
    CHECK(gre_conn(ct, &ba, 0, 0x5678, 1000).id != 0);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);

    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 1, GRE_PPP, 0), 0, true, 1000),
                TRK_NEW);
    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ba, 1, GRE_PPP, 0), 0, true, 1000),
                TRK_EST_RPL);
    CHECK_EQ(ctdp_ct_n_conns(ct), 3);

    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 1, 0x0800, 0x1234), 0, true,
                         1000), TRK_INV);
    CHECK_EQ(ctdp_ct_n_conns(ct), 3);
    tpkt_ct_destroy(ct);
}

/* ---- Dumps ------------------------------------------------------------- */

/* The state and the tags in both formats: OVS's protoinfo=(state=...),
 * with -m the tags too, and the kernel's proc line with the state after
 * the timeout; GRE's proc line has the conn's timeouts before the tuple
 * and its keys in the tuples. */
static void
test_sctp_gre_dump_format(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip(A, B);
    struct ctdp_ct_format plain = { .now = 2000 }, verbose = plain;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ctdp_ct_entry e;

    verbose.verbose = true;
    handshake(ct, &ab, 1000);
    e = assoc(ct, &ab, 2000);
    ctdp_ct_format_entry(&s, &e, &plain);
    CHECK(strstr(ds_cstr(&s), ",protoinfo=(state=ESTABLISHED)") != NULL);
    ds_clear(&s);
    ctdp_ct_format_entry(&s, &e, &verbose);
    CHECK(strstr(ds_cstr(&s), ",protoinfo=(state=ESTABLISHED,vtag_orig="
                 "185273099,vtag_reply=168430090)") != NULL);
    ds_clear(&s);
    ctdp_ct_format_proc(&s, &e, 2000);
    CHECK(strstr(ds_cstr(&s), "sctp     132 209 ESTABLISHED src=10.0.0.1 "
                 "dst=10.0.0.2 sport=5000 dport=6000 ") != NULL);
    ds_clear(&s);

    CHECK_STATE(tpkt_ct1(ct, tpkt_gre(&ab, 1, GRE_PPP, 0x1234), 0, true,
                         1000), TRK_NEW);
    e = gre_conn(ct, &ab, 0, 0x1234, 1000);
    ctdp_ct_format_proc(&s, &e, 1000);
    CHECK(strstr(ds_cstr(&s), "gre      47 30 timeout=30, stream_timeout="
                 "180 src=10.0.0.1 dst=10.0.0.2 srckey=0x0 dstkey=0x1234 ")
          != NULL);
    CHECK(strstr(ds_cstr(&s), "[UNREPLIED] src=10.0.0.2 dst=10.0.0.1 "
                 "srckey=0x1234 dstkey=0x0 ") != NULL);
    ds_clear(&s);
    ctdp_ct_format_entry(&s, &e, &plain);
    CHECK(strstr(ds_cstr(&s), "orig=(src=10.0.0.1,dst=10.0.0.2,sport=0,"
                 "dport=4660),reply=(src=10.0.0.2,dst=10.0.0.1,sport=4660,"
                 "dport=0)") != NULL);
    ds_destroy(&s);
    tpkt_ct_destroy(ct);
}

const struct ctdp_unit_suite ct_sctp_suite = {
    "ct-sctp", (const struct ctdp_unit_case[]) {
        { "association", test_sctp_association },
        { "association-v6", test_sctp_association_v6 },
        { "shutdown-received", test_sctp_shutdown_received },
        { "wrong-vtag", test_sctp_wrong_vtag },
        { "init-nonzero-vtag", test_sctp_init_nonzero_vtag },
        { "cookie-echo-vtag", test_sctp_cookie_echo_vtag },
        { "init-ack-wrong-tag", test_sctp_init_ack_wrong_tag },
        { "abort", test_sctp_abort },
        { "shutdown-complete-t-bit", test_sctp_shutdown_complete_t_bit },
        { "basic-checks", test_sctp_basic_checks },
        { "malformed-new", test_sctp_malformed_new },
        { "out-of-the-blue", test_sctp_out_of_the_blue },
        { "cookie-echo-new", test_sctp_cookie_echo_new },
        { "heartbeat-conn", test_sctp_heartbeat_conn },
        { "heartbeat-vtag-failed", test_sctp_heartbeat_vtag_failed },
        { "init-retransmit-not-renewed",
          test_sctp_init_retransmit_not_renewed },
        { "bad-crc", test_sctp_bad_crc },
        { "nat", test_sctp_nat },
        { "gre-v0", test_gre_v0 },
        { "gre-timeouts-fixed", test_gre_timeouts_fixed },
        { "gre-pptp-keys", test_gre_pptp_keys },
        { "dump-format", test_sctp_gre_dump_format },
        { NULL, NULL } } };
