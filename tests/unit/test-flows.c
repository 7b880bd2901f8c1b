/* The flow tables' check of ct() actions (ctdp-flows.h): a ct() is judged
 * once, when its flow is added, by the tracker's ctdp_ct_action_check().
 *
 * OVS's flow parser already refuses most bad ct() actions in text, so the
 * actions here are also built by hand, as a decoder of another syntax
 * would hand them over. */
#include <config.h>
#include "ctdp-flows.h"
#include "ctdp-unit.h"

#include <string.h>
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "util.h"

/* Starts ct('flags') in 'b'; add its exec actions, then end_ct(). */
static void
start_ct(struct ofpbuf *b, uint16_t flags)
{
    struct ofpact_conntrack *oc;

    ofpbuf_init(b, 64);
    oc = ofpact_put_CT(b);
    oc->flags = flags;
    oc->recirc_table = NX_CT_RECIRC_NONE;
}

static void
end_ct(struct ofpbuf *b)
{
    struct ofpact_conntrack *oc = b->data;

    b->header = oc;             /* ofpact_finish() wants the CT last put. */
    ofpact_finish_CT(b, &oc);
}

/* Appends nat('nat_flags') over the IPv4 range 'min' to 'max'. */
static void
put_nat(struct ofpbuf *b, uint16_t nat_flags, const char *min,
        const char *max)
{
    struct ofpact_nat *on = ofpact_put_NAT(b);

    on->flags = nat_flags;
    on->range_af = AF_INET;
    ovs_assert(ip_parse(min, &on->range.addr.ipv4.min));
    ovs_assert(ip_parse(max, &on->range.addr.ipv4.max));
}

/* The message ctdp_flows_check_actions() gives for 'b' ("" for none). */
static char *
check(struct ofpbuf *b)
{
    char *error = ctdp_flows_check_actions(b->data, b->size);

    ofpbuf_uninit(b);
    return error ? error : xstrdup("");
}

/* Is 'b' refused with the tracker's reason 'why'? */
static bool
refused_by_tracker(struct ofpbuf *b, const char *why)
{
    char *error = check(b), *want = xasprintf("ct: %s", why);
    bool refused = !strcmp(error, want);

    free(error);
    free(want);
    return refused;
}

static void
test_flows_ct_good_is_accepted(void)
{
    struct ofpbuf b;
    char *error;

    start_ct(&b, NX_CT_F_COMMIT | NX_CT_F_FORCE);
    put_nat(&b, NX_NAT_F_SRC, "10.0.0.1", "10.0.0.9");
    end_ct(&b);
    error = check(&b);
    CHECK(!strcmp(error, ""));
    free(error);
}

/* Each of these passes OVS's checks as hand-built ofpacts, and each is
 * refused by the tracker's check. */
static void
test_flows_ct_refused_by_tracker(void)
{
    static const struct {
        uint16_t ct_flags, nat_flags;   /* No nat() when 'nat_flags' is 0. */
        const char *min, *max;
        const char *why;
    } bad[] = {
        { NX_CT_F_FORCE, 0, NULL, NULL, "force needs commit" },
        { NX_CT_F_COMMIT, NX_NAT_F_SRC | NX_NAT_F_DST,
          "10.0.0.1", "10.0.0.1", "nat takes one of src and dst" },
        { NX_CT_F_COMMIT, NX_NAT_F_SRC,
          "10.0.0.9", "10.0.0.1", "a NAT range goes from low to high" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct ofpbuf b;

        start_ct(&b, bad[i].ct_flags);
        if (bad[i].nat_flags) {
            put_nat(&b, bad[i].nat_flags, bad[i].min, bad[i].max);
        }
        end_ct(&b);
        CHECK(refused_by_tracker(&b, bad[i].why));
    }
}

/* exec() may set ct_mark and ct_label only: what the tracker's action can
 * say (ctdp-flows.c keeps this check; the tracker never sees such a
 * set_field). */
static void
test_flows_ct_exec_other_field(void)
{
    struct ofpbuf b;
    char *error;

    start_ct(&b, NX_CT_F_COMMIT);
    ofpact_put_set_field(&b, mf_from_id(MFF_REG0), NULL, NULL);
    end_ct(&b);
    error = check(&b);
    CHECK(strstr(error, "ct: exec may set only ct_mark and ct_label"));
    free(error);
}

/* Through the parser: a bad ct() never enters a table, a zone read from a
 * field is fine (judged as zone 0 at add time). */
static void
test_flows_add_judges_ct(void)
{
    struct ctdp_flows flows;
    char *error;

    ctdp_flows_init(&flows);
    error = ctdp_flows_add(&flows, "ip,actions=ct(force)");
    CHECK(error && strstr(error, "requires"));
    free(error);
    CHECK_EQ(ctdp_flows_count(&flows), 0);
    error = ctdp_flows_add(&flows, "ip,actions=ct(commit,"
                           "zone=NXM_NX_REG0[0..15],nat(src=10.0.0.1))");
    CHECK(!error);
    free(error);
    CHECK_EQ(ctdp_flows_count(&flows), 1);
    ctdp_flows_destroy(&flows);
    ovsrcu_synchronize();
}

const struct ctdp_unit_suite flows_suite = {
    "flows", (const struct ctdp_unit_case[]) {
        { "ct_good_is_accepted", test_flows_ct_good_is_accepted },
        { "ct_refused_by_tracker", test_flows_ct_refused_by_tracker },
        { "ct_exec_other_field", test_flows_ct_exec_other_field },
        { "add_judges_ct", test_flows_add_judges_ct },
        { NULL, NULL },
    },
};
