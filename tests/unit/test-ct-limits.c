/* What bounds the table: clashes at confirm, the conn limit with early
 * drop, chain length, per-zone limits, and per-zone timeout policies. */
#include <config.h>
#include "ctdp-ct.h"
#include "ctdp-pkt.h"
#include "ctdp-unit.h"

#include <string.h>
#include "dp-packet.h"
#include "packets.h"

static struct ctdp_ct_stats
stats_of(const struct ctdp_ct *ct)
{
    struct ctdp_ct_stats s;

    ctdp_ct_get_stats(ct, &s);
    return s;
}

static uint32_t
constant_hash(const struct ctdp_tuple *t OVS_UNUSED)
{
    return 0x5eed;
}

/* Returns true if a dump at 'now' has the UDP conn 'ip':sport -> dport in
 * 'zone'. */
static bool
has_udp(struct ctdp_ct *ct, const struct tpkt_ip *ip, uint16_t sport,
        uint16_t dport, uint16_t zone, struct ctdp_ct_entry *entry,
        long long now)
{
    struct ctdp_ct_entry dummy;
    struct ctdp_tuple t;

    tpkt_tuple(&t, ip, IPPROTO_UDP, sport, dport, zone);
    return tpkt_find(ct, &t, now, entry ? entry : &dummy);
}

/* A refused commit either takes the packet out of the batch or marks it
 * invalid; both are accepted.  Frees 'pkt' if it is still the test's. */
static bool
refused(struct ctdp_ct *ct, struct dp_packet *pkt,
        const struct ctdp_ct_action *action, long long now)
{
    int state = tpkt_ct(ct, pkt, action, now);

    if (state == TPKT_DROPPED) {
        return true;
    }
    tpkt_free(ct, pkt);
    return state & CS_INVALID;
}

static bool
udp_refused(struct ctdp_ct *ct, const struct tpkt_ip *ip, uint16_t sport,
            uint16_t zone, long long now)
{
    struct ctdp_ct_action commit = tpkt_action(zone, true);

    return refused(ct, tpkt_udp(ip, sport, 53, 0), &commit, now);
}

/* Two packets of one new UDP flow tracked before either is committed: the
 * second commit finds the first's conn and is attached to it (the kernel's
 * clash resolution), with one conn left, its counters merged, no drop. */
static void
test_clash_udp_resolved(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct dp_packet *p1 = tpkt_udp(&ab, 1000, 53, 0);
    struct dp_packet *p2 = tpkt_udp(&ab, 1000, 53, 0);
    struct ctdp_ct_action look = tpkt_action(0, false);
    struct ctdp_ct_action commit = tpkt_action(0, true);
    struct ctdp_ct_entry e;
    struct ctdp_ct_stats s;

    CHECK_STATE(tpkt_ct(ct, p1, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p2, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p1, &commit, 10), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p2, &commit, 10), TRK_NEW);
    s = stats_of(ct);
    CHECK_EQ(s.clash_resolve, 1);
    CHECK_EQ(s.insert, 1);
    CHECK_EQ(s.drop, 0);
    CHECK_EQ(s.insert_failed, 0);
    tpkt_free(ct, p1);
    tpkt_free(ct, p2);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_EQ(tpkt_dump(ct, -1, 20, &e, 1), 1);
    /* As the kernel's nf_ct_acct_merge(): the loser's packet counts. */
    CHECK_EQ(e.packets[CTDP_DIR_ORIG], 2);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 0, false, 20), TRK_EST_RPL);
    tpkt_ct_destroy(ct);
}

/* ICMP may not clash: the second commit of the same new echo flow fails,
 * counted in insert_failed and drop, and the first conn stays alone. */
static void
test_clash_icmp_dropped(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct dp_packet *p1 = tpkt_echo(&ab, false, 5, 1);
    struct dp_packet *p2 = tpkt_echo(&ab, false, 5, 1);
    struct ctdp_ct_action look = tpkt_action(0, false);
    struct ctdp_ct_action commit = tpkt_action(0, true);
    struct ctdp_ct_stats s;

    CHECK_STATE(tpkt_ct(ct, p1, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p2, &look, 0), TRK_NEW);
    CHECK_STATE(tpkt_ct(ct, p1, &commit, 10), TRK_NEW);
    tpkt_free(ct, p1);
    CHECK(refused(ct, p2, &commit, 10));
    s = stats_of(ct);
    CHECK_EQ(s.insert_failed, 1);
    CHECK_EQ(s.drop, 1);
    CHECK_EQ(s.clash_resolve, 0);
    CHECK_EQ(s.insert, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 1);
    CHECK_EQ(tpkt_dump(ct, -1, 10, NULL, 0), 1);
    tpkt_ct_destroy(ct);
}

/* With the table full of unassured conns, a commit evicts one of them
 * (early drop, reported as DESTROY) and succeeds; once every conn is
 * ASSURED, a commit is dropped and the established conns keep working.
 * Every conn shares one chain, so that early drop's search always sees
 * them all. */
static void
test_max_conns_early_drop(void)
{
    struct ctdp_ct_params params = { .n_buckets = 1, .hash = constant_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct ctdp_ct_listener *l;
    struct ctdp_ct_event ev[4];
    struct ctdp_ct_entry e;
    uint64_t lost;
    uint16_t keep;

    ctdp_ct_set_max_conns(ct, 2);
    CHECK_EQ(ctdp_ct_get_max_conns(ct), 2);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1001, 53, 0, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1002, 53, 0, true, 0), TRK_NEW);
    l = ctdp_ct_listen(ct, 4, -1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 0, true, 100), TRK_NEW);
    CHECK_EQ(stats_of(ct).early_drop, 1);
    CHECK_EQ(ctdp_ct_listener_poll(l, ev, 4, &lost), 2);
    CHECK((ev[0].type == CTDP_EVENT_DESTROY && ev[0].time == 100)
          != (ev[1].type == CTDP_EVENT_DESTROY && ev[1].time == 100));
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    CHECK(has_udp(ct, &ab, 1003, 53, 0, NULL, 100));
    CHECK(has_udp(ct, &ab, 1001, 53, 0, NULL, 100)
          != has_udp(ct, &ab, 1002, 53, 0, NULL, 100));
    keep = has_udp(ct, &ab, 1001, 53, 0, NULL, 100) ? 1001 : 1002;

    /* Assure both: a reply, then a packet more than 2 s later. */
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, keep, 0, false, 200), TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1003, 0, false, 200), TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, keep, 53, 0, false, 3000), TRK_EST);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 0, false, 3000), TRK_EST);
    CHECK(has_udp(ct, &ab, keep, 53, 0, &e, 3000)
          && e.status & CTDP_S_ASSURED);
    CHECK(has_udp(ct, &ab, 1003, 53, 0, &e, 3000)
          && e.status & CTDP_S_ASSURED);

    CHECK(udp_refused(ct, &ab, 1004, 0, 3100));
    CHECK_EQ(stats_of(ct).drop, 1);
    CHECK_EQ(stats_of(ct).early_drop, 1);
    CHECK_EQ(ctdp_ct_n_conns(ct), 2);
    CHECK(!has_udp(ct, &ab, 1004, 53, 0, NULL, 3100));
    /* Tracking without commit needs no room. */
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1005, 53, 0, false, 3150), TRK_NEW);
    CHECK_EQ(stats_of(ct).drop, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, keep, 53, 0, false, 3200), TRK_EST);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1003, 0, false, 3200), TRK_EST_RPL);
    ctdp_ct_unlisten(l);
    tpkt_ct_destroy(ct);
}

/* A confirm that would make a chain longer than 'max_chain' is refused
 * and counted as chaintoolong and insert_failed. */
static void
test_max_chain(void)
{
    struct ctdp_ct_params params = { .max_chain = 2, .hash = constant_hash };
    struct ctdp_ct *ct = ctdp_ct_create(&params);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    int n_refused = 0;
    struct ctdp_ct_stats s;

    for (int i = 0; i < 20; i++) {
        n_refused += udp_refused(ct, &ab, 2000 + i, 0, i);
    }
    s = stats_of(ct);
    CHECK(n_refused > 0);
    CHECK_EQ(s.chaintoolong, n_refused);
    CHECK(s.insert_failed >= s.chaintoolong);
    CHECK_EQ(ctdp_ct_n_conns(ct), 20 - n_refused);
    CHECK(ctdp_ct_n_conns(ct) >= 1);
    CHECK(ctdp_ct_n_conns(ct) <= 8);
    tpkt_ct_destroy(ct);
}

/* A zone with its own limit of 1 takes one conn and refuses the next
 * (zone_limit_drop); other zones are unaffected; the count is reported;
 * existing conns keep working. */
static void
test_zone_limit(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    uint32_t count = 99;
    bool own = false;

    ctdp_ct_set_zone_limit(ct, 5, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1001, 53, 5, true, 0), TRK_NEW);
    CHECK(udp_refused(ct, &ab, 1002, 5, 0));
    CHECK_EQ(stats_of(ct).zone_limit_drop, 1);
    CHECK_EQ(stats_of(ct).drop, 1);
    CHECK(!has_udp(ct, &ab, 1002, 53, 5, NULL, 0));
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1002, 53, 6, true, 0), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 6, true, 0), TRK_NEW);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 5, &count, &own), 1);
    CHECK_EQ(count, 1);
    CHECK(own);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 6, &count, &own), 0);
    CHECK_EQ(count, 2);
    CHECK(!own);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1001, 5, true, 10), TRK_EST_RPL);
    CHECK_EQ(stats_of(ct).zone_limit_drop, 1);
    tpkt_ct_destroy(ct);
}

/* The default limit applies to zones without their own; deleting a zone's
 * own limit returns it to the default; swept conns stop counting. */
static void
test_zone_limit_default(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    uint32_t count;
    bool own;

    ctdp_ct_set_default_zone_limit(ct, 2);
    CHECK_EQ(ctdp_ct_get_default_zone_limit(ct), 2);
    ctdp_ct_set_zone_limit(ct, 5, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000 + i, 53, 5, true, 0), TRK_NEW);
        CHECK_EQ(udp_refused(ct, &ab, 1000 + i, 7, 0), i == 2);
    }
    CHECK(udp_refused(ct, &ab, 1003, 5, 0));
    CHECK_EQ(stats_of(ct).zone_limit_drop, 2);
    ctdp_ct_del_zone_limit(ct, 5);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 5, &count, &own), 2);
    CHECK(!own);
    CHECK_EQ(count, 3);
    ctdp_ct_set_default_zone_limit(ct, 0);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1003, 53, 7, true, 0), TRK_NEW);
    ctdp_ct_set_default_zone_limit(ct, 1);
    CHECK(udp_refused(ct, &ab, 1004, 5, 20000));
    CHECK_EQ(ctdp_ct_sweep(ct, 40000, SIZE_MAX), 6);
    CHECK_EQ(ctdp_ct_get_zone_limit(ct, 5, &count, &own), 1);
    CHECK_EQ(count, 0);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1004, 53, 5, true, 40000), TRK_NEW);
    tpkt_ct_destroy(ct);
}

/* A policy for zone 7 that sets udp_unreplied to 5 s: zone 7's UDP conns
 * expire after 5 s, zone 0's after 30 s. */
static void
test_timeout_policy(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_timeout_policy p, got;
    struct ctdp_ct_entry e;

    ctdp_timeout_policy_init(&p);
    CHECK_EQ(p.secs[CTDP_TM_UDP_UNREPLIED], -1);
    p.secs[CTDP_TM_UDP_UNREPLIED] = 5;
    ctdp_ct_set_timeout_policy(ct, 7, &p);
    CHECK(ctdp_ct_get_timeout_policy(ct, 7, &got));
    CHECK_EQ(got.secs[CTDP_TM_UDP_UNREPLIED], 5);
    CHECK_EQ(got.secs[CTDP_TM_ICMP], -1);
    CHECK(!ctdp_ct_get_timeout_policy(ct, 0, &got));

    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 7, true, 1000), TRK_NEW);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, true, 1000), TRK_NEW);
    CHECK(has_udp(ct, &ab, 1000, 53, 7, &e, 1000) && e.expires == 6000);
    CHECK(has_udp(ct, &ab, 1000, 53, 0, &e, 1000) && e.expires == 31000);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 7, false, 5999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 7, false, 10999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, 1);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 0, false, 10999), TRK_NEW);
    CHECK_EQ(stats_of(ct).found, 2);

    ctdp_ct_del_timeout_policy(ct, 7);
    CHECK(!ctdp_ct_get_timeout_policy(ct, 7, &got));
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1001, 53, 7, true, 20000), TRK_NEW);
    CHECK(has_udp(ct, &ab, 1001, 53, 7, &e, 20000) && e.expires == 50000);
    tpkt_ct_destroy(ct);
}

/* A policy's udp_replied and icmp slots apply too; unset slots keep the
 * kernel's defaults. */
static void
test_timeout_policy_slots(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct tpkt_ip ab = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct tpkt_ip ba = tpkt_ip_swap(&ab);
    struct ctdp_timeout_policy p;
    struct ctdp_ct_entry e;

    ctdp_timeout_policy_init(&p);
    p.secs[CTDP_TM_UDP_REPLIED] = 50;
    p.secs[CTDP_TM_ICMP] = 3;
    ctdp_ct_set_timeout_policy(ct, 8, &p);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 8, true, 0), TRK_NEW);
    CHECK(has_udp(ct, &ab, 1000, 53, 8, &e, 0) && e.expires == 30000);
    CHECK_STATE(tpkt_udp_ct(ct, &ba, 53, 1000, 8, false, 100), TRK_EST_RPL);
    CHECK_STATE(tpkt_udp_ct(ct, &ab, 1000, 53, 8, false, 2500), TRK_EST);
    CHECK(has_udp(ct, &ab, 1000, 53, 8, &e, 2500) && e.expires == 52500);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ab, false, 1, 1), 8, true, 0),
                TRK_NEW);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 1, 1), 8, false, 2999),
                TRK_EST_RPL);
    CHECK_STATE(tpkt_ct1(ct, tpkt_echo(&ba, true, 1, 1), 8, false, 5999),
                TRK_INV);
    tpkt_ct_destroy(ct);
}

/* The timeout slots have the kernel's names and defaults. */
static void
test_timeout_defaults(void)
{
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_UDP_UNREPLIED), 30);
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_UDP_REPLIED), 120);
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_ICMP), 30);
    CHECK_EQ(ctdp_timeout_default(CTDP_TM_GENERIC), 600);
    CHECK(!strcmp(ctdp_timeout_slot_name(CTDP_TM_UDP_REPLIED),
                  "udp_replied"));
    CHECK(!strcmp(ctdp_timeout_slot_name(CTDP_TM_TCP_ESTABLISHED),
                  "tcp_established"));
}

/* The sweep interval reads back as set; a helper is refused by the action
 * check, a plain ct() accepted. */
static void
test_settings_roundtrip(void)
{
    struct ctdp_ct *ct = ctdp_ct_create(NULL);
    struct ctdp_ct_action a = tpkt_action(0, true);

    ctdp_ct_set_sweep_interval(ct, 1234);
    CHECK_EQ(ctdp_ct_get_sweep_interval(ct), 1234);
    CHECK_EQ(ctdp_ct_get_max_conns(ct), CTDP_CT_DEFAULT_MAX_CONNS);
    CHECK_EQ(ctdp_ct_action_check(&a), 0);
    a.helper = "ftp";
    CHECK(ctdp_ct_action_check(&a) != 0);
    tpkt_ct_destroy(ct);
}

const struct ctdp_unit_suite ct_limits_suite = {
    "ct-limits", (const struct ctdp_unit_case[]) {
        { "clash_udp_resolved", test_clash_udp_resolved },
        { "clash_icmp_dropped", test_clash_icmp_dropped },
        { "max_conns_early_drop", test_max_conns_early_drop },
        { "max_chain", test_max_chain },
        { "zone_limit", test_zone_limit },
        { "zone_limit_default", test_zone_limit_default },
        { "timeout_policy", test_timeout_policy },
        { "timeout_policy_slots", test_timeout_policy_slots },
        { "timeout_defaults", test_timeout_defaults },
        { "settings_roundtrip", test_settings_roundtrip },
        { NULL, NULL },
    },
};
