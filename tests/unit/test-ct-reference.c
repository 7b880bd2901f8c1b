/* The tracker against a naive reference kept here: a plain array of conns
 * implementing the UDP, ICMP echo and generic rules (new until a reply,
 * est after, rpl for the reply direction; UDP 30 s, 120 s once assured;
 * ICMP 30 s; generic 600 s; only commit creates; expiry at the timeout).
 * Both see the same random packets; every ct_state and, every 1000
 * packets, the whole table must agree.  The run is repeated with every
 * conn in one hash chain.  The random source is a seeded xorshift, and a
 * mismatch prints the seed and packet index to replay it. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dp-packet.h"
#include "packets.h"
#include "util.h"

#define N_PACKETS 20000
#define CHECK_EVERY 1000
#define MAX_REF 4096

/* ---- The reference ----------------------------------------------------- */

struct ref_conn {
    struct ctdp_tuple orig, reply;
    bool seen_reply, assured;
    long long start, expires;
    uint64_t packets[2];
};

struct ref {
    struct ref_conn conns[MAX_REF];
    size_t n;
    size_t n_expired;           /* For the report: expiries seen. */
};

static void
ref_invert(const struct ctdp_tuple *t, struct ctdp_tuple *inv)
{
    *inv = *t;
    inv->src = t->dst;
    inv->dst = t->src;
    if (t->nw_proto == IPPROTO_UDP) {
        inv->sport = t->dport;
        inv->dport = t->sport;
    } else if (t->nw_proto == IPPROTO_ICMP) {
        inv->icmp.type = t->icmp.type == ICMP4_ECHO_REQUEST
                         ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST;
    }
}

/* Drops the conns expired at 'now' (invisible from then on). */
static void
ref_expire(struct ref *ref, long long now)
{
    size_t j = 0;

    for (size_t i = 0; i < ref->n; i++) {
        if (ref->conns[i].expires > now) {
            ref->conns[j++] = ref->conns[i];
        }
    }
    ref->n_expired += ref->n - j;
    ref->n = j;
}

static struct ref_conn *
ref_find(struct ref *ref, const struct ctdp_tuple *t, enum ctdp_ct_dir *dir)
{
    for (size_t i = 0; i < ref->n; i++) {
        struct ref_conn *c = &ref->conns[i];

        if (ctdp_tuple_equal(&c->orig, t) || ctdp_tuple_equal(&c->reply, t)) {
            *dir = ctdp_tuple_equal(&c->orig, t) ? CTDP_DIR_ORIG
                                                 : CTDP_DIR_REPLY;
            return c;
        }
    }
    return NULL;
}

/* The protocol rules: the timeout after a packet, and ASSURED. */
static void
ref_l4(struct ref_conn *c, long long now)
{
    long long timeout;

    if (c->orig.nw_proto == IPPROTO_UDP) {
        timeout = 30000;
        if (c->seen_reply && now > c->start + 2000) {
            timeout = 120000;
            c->assured = true;
        }
    } else if (c->orig.nw_proto == IPPROTO_ICMP) {
        timeout = 30000;
    } else {
        timeout = 600000;
    }
    c->expires = now + timeout;
}

/* Tracks tuple 't' (committed if 'commit') at 'now' and returns the
 * ct_state the tracker must give. */
static int
ref_packet(struct ref *ref, const struct ctdp_tuple *t, bool commit,
           long long now)
{
    enum ctdp_ct_dir dir;
    struct ref_conn *c;
    int state;

    ref_expire(ref, now);
    c = ref_find(ref, t, &dir);
    if (c) {
        state = dir == CTDP_DIR_REPLY ? TRK_EST_RPL
                : c->seen_reply ? TRK_EST : TRK_NEW;
        ref_l4(c, now);
        c->seen_reply |= dir == CTDP_DIR_REPLY;
        c->packets[dir]++;
        return state;
    }
    if (t->nw_proto == IPPROTO_ICMP && t->icmp.type != ICMP4_ECHO_REQUEST) {
        return TRK_INV;
    }
    if (commit) {
        ovs_assert(ref->n < MAX_REF);
        c = &ref->conns[ref->n++];
        memset(c, 0, sizeof *c);
        c->orig = *t;
        ref_invert(t, &c->reply);
        c->start = now;
        c->packets[CTDP_DIR_ORIG] = 1;
        ref_l4(c, now);
    }
    return TRK_NEW;
}

/* ---- Random packets ---------------------------------------------------- */

struct rng {
    uint64_t x;
};

static uint32_t
rng_next(struct rng *r)
{
    r->x ^= r->x << 13;
    r->x ^= r->x >> 7;
    r->x ^= r->x << 17;
    return r->x >> 32;
}

static uint32_t
rng_below(struct rng *r, uint32_t n)
{
    return rng_next(r) % n;
}

struct gen {
    struct tpkt_ip ip;
    struct ctdp_tuple t;
    bool commit;
};

/* Draws a packet from a small pool (3 hosts, 2 ports, 2 ICMP ids, zones
 * 0-2) so that flows repeat in both directions. */
static void
gen_packet(struct rng *r, struct gen *g)
{
    static const uint16_t ports[] = { 53, 1000 };
    uint32_t src = rng_below(r, 3), dst = (src + 1 + rng_below(r, 2)) % 3;
    uint32_t kind = rng_below(r, 20);
    uint16_t zone = rng_below(r, 3);

    g->ip = tpkt_ip4(0x0a000001 + src, 0x0a000001 + dst);
    g->commit = rng_below(r, 2);
    if (kind < 12) {
        tpkt_tuple(&g->t, &g->ip, IPPROTO_UDP, ports[rng_below(r, 2)],
                   ports[rng_below(r, 2)], zone);
    } else if (kind < 18) {
        uint8_t type = rng_below(r, 2) ? ICMP4_ECHO_REQUEST
                                       : ICMP4_ECHO_REPLY;

        tpkt_tuple(&g->t, &g->ip, IPPROTO_ICMP, 1 + rng_below(r, 2),
                   type << 8, zone);
    } else {
        tpkt_tuple(&g->t, &g->ip, 99, 0, 0, zone);
    }
}

static struct dp_packet *
gen_build(const struct gen *g)
{
    const struct ctdp_tuple *t = &g->t;

    if (t->nw_proto == IPPROTO_UDP) {
        return tpkt_udp(&g->ip, ntohs(t->sport), ntohs(t->dport), 4);
    } else if (t->nw_proto == IPPROTO_ICMP) {
        return tpkt_echo(&g->ip, t->icmp.type == ICMP4_ECHO_REPLY,
                         ntohs(t->sport), 1);
    }
    return tpkt_proto(&g->ip, t->nw_proto, 12);
}

/* ---- Comparing --------------------------------------------------------- */

static int
compare_entries(const void *a_, const void *b_)
{
    const struct ctdp_ct_entry *a = a_, *b = b_;

    return memcmp(&a->orig, &b->orig, sizeof a->orig);
}

static bool
entry_matches(const struct ctdp_ct_entry *e, const struct ref_conn *c)
{
    return ctdp_tuple_equal(&e->orig, &c->orig)
           && ctdp_tuple_equal(&e->reply, &c->reply)
           && !(e->status & CTDP_S_SEEN_REPLY) == !c->seen_reply
           && !(e->status & CTDP_S_ASSURED) == !c->assured
           && e->status & CTDP_S_CONFIRMED
           && e->start == c->start && e->expires == c->expires
           && e->packets[0] == c->packets[0]
           && e->packets[1] == c->packets[1];
}

/* Compares the whole table at 'now' with the reference's; prints the
 * first difference. */
static bool
tables_agree(struct ctdp_ct *ct, struct ref *ref, long long now)
{
    static struct ctdp_ct_entry got[MAX_REF], want[MAX_REF];
    size_t n = tpkt_dump(ct, -1, now, got, MAX_REF);

    ref_expire(ref, now);
    for (size_t i = 0; i < ref->n; i++) {
        want[i].orig = ref->conns[i].orig;
        want[i].id = i;
    }
    if (n != ref->n) {
        printf("# table has %"PRIuSIZE" conns, reference %"PRIuSIZE"\n",
               n, ref->n);
        return false;
    }
    qsort(got, n, sizeof *got, compare_entries);
    qsort(want, n, sizeof *want, compare_entries);
    for (size_t i = 0; i < n; i++) {
        const struct ref_conn *c = &ref->conns[want[i].id];

        if (!entry_matches(&got[i], c)) {
            printf("# conn %"PRIuSIZE" (zone %d proto %d) differs: status "
                   "%#x expires %lld start %lld packets %"PRIu64"/%"PRIu64
                   "; reference seen_reply %d assured %d expires %lld "
                   "start %lld packets %"PRIu64"/%"PRIu64"\n", i,
                   got[i].orig.zone, got[i].orig.nw_proto, got[i].status,
                   got[i].expires, got[i].start, got[i].packets[0],
                   got[i].packets[1], c->seen_reply, c->assured, c->expires,
                   c->start, c->packets[0], c->packets[1]);
            return false;
        }
    }
    return true;
}

/* ---- The run ----------------------------------------------------------- */

static uint32_t
constant_hash(const struct ctdp_tuple *t OVS_UNUSED)
{
    return 42;
}

/* Returns the next time step: mostly short, sometimes up to 5 s, so that
 * flows both repeat within their timeouts and expire. */
static long long
time_step(struct rng *r)
{
    return rng_below(r, 16) ? rng_below(r, 50) : rng_below(r, 5001);
}

/* What a run saw, for its report line. */
struct run_report {
    int n_state[4];             /* new, est, est|rpl, inv. */
    size_t max_conns;
};

/* Draws packet 'i' of the run from 'seed' at '*now', feeds it to 'ct' and
 * 'ref', and returns false (after printing why) if they disagree. */
static bool
step(struct ctdp_ct *ct, struct ref *ref, struct rng *r, long long *now,
     int i, uint64_t seed, struct run_report *rep)
{
    char a[64], b[64];
    struct gen g;
    int want, got;

    *now += time_step(r);
    gen_packet(r, &g);
    want = ref_packet(ref, &g.t, g.commit, *now);
    got = tpkt_ct1(ct, gen_build(&g), g.t.zone, g.commit, *now);
    if (got != want) {
        printf("# seed %#"PRIx64" packet %d (proto %d zone %d commit %d "
               "now %lld): want %s, got %s\n", seed, i, g.t.nw_proto,
               g.t.zone, g.commit, *now, tpkt_state_name(want, a, sizeof a),
               tpkt_state_name(got, b, sizeof b));
        return false;
    }
    rep->n_state[want == TRK_NEW ? 0 : want == TRK_EST ? 1
                 : want == TRK_EST_RPL ? 2 : 3]++;
    rep->max_conns = MAX(rep->max_conns, ref->n);
    if (!rng_below(r, 200)) {
        ctdp_ct_sweep(ct, *now, 1 + rng_below(r, 64));
    }
    if ((i + 1) % CHECK_EVERY == 0 && !tables_agree(ct, ref, *now)) {
        printf("# seed %#"PRIx64" packet %d: tables differ\n", seed, i);
        return false;
    }
    return true;
}

/* Feeds N_PACKETS packets from 'seed' to a tracker made with 'params' and
 * to the reference; stops at the first disagreement. */
static void
run_differential(const struct ctdp_ct_params *params, uint64_t seed)
{
    static struct ref ref;
    struct ctdp_ct *ct = ctdp_ct_create(params);
    struct run_report rep = { { 0, 0, 0, 0 }, 0 };
    struct rng r = { seed };
    long long now = 1000;
    bool ok = true;

    ref.n = ref.n_expired = 0;
    for (int i = 0; ok && i < N_PACKETS; i++) {
        ok = step(ct, &ref, &r, &now, i, seed, &rep);
    }
    CHECK(ok);
    printf("# seed %#"PRIx64": %d new, %d est, %d est|rpl, %d inv; "
           "up to %"PRIuSIZE" conns, %"PRIuSIZE" expired\n", seed,
           rep.n_state[0], rep.n_state[1], rep.n_state[2], rep.n_state[3],
           rep.max_conns, ref.n_expired);
    ctdp_ct_sweep(ct, now, SIZE_MAX);
    ref_expire(&ref, now);
    CHECK_EQ(ctdp_ct_n_conns(ct), ref.n);
    tpkt_ct_destroy(ct);
}

/* The tracker with its own hash agrees with the reference. */
static void
test_reference_keyed_hash(void)
{
    run_differential(NULL, 0x243f6a8885a308d3ULL);
    run_differential(NULL, 0x13198a2e03707344ULL);
}

/* The tracker agrees with the reference when every conn shares one chain
 * (a constant hash and no chain bound). */
static void
test_reference_one_chain(void)
{
    struct ctdp_ct_params params = {
        .hash = constant_hash,
        .max_chain = 1000000,
    };

    run_differential(&params, 0x243f6a8885a308d3ULL);
    run_differential(&params, 0xa4093822299f31d0ULL);
}

const struct ctdp_unit_suite ct_reference_suite = {
    "ct-reference", (const struct ctdp_unit_case[]) {
        { "keyed_hash", test_reference_keyed_hash },
        { "one_chain", test_reference_one_chain },
        { NULL, NULL },
    },
};
