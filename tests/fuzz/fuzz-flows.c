/* Fuzz target: OVS flow strings through the flow tables (lib/ctdp-flows.c).
 *
 * An input is text, as a flows file or a series of ctdp-dpctl commands.
 * Each input gets new, empty tables.  The whole input is first offered as
 * a flows file (ctdp_flows_add_text(), all or nothing); then each line is
 * a command:
 *
 *   -MATCH     del-flows MATCH ("-" alone deletes every flow)
 *   ?N         dump-flows table=N (an empty or bad N: every table)
 *   FLOW       add-flow FLOW
 *
 * Then every flow is dumped and the tables are looked up with a few
 * packets' flows.  What must hold: a refused add or file changes nothing,
 * and a dump shows one line per flow. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include "ctdp-flows.h"
#include "ctdp-xlate.h"
#include "flow.h"
#include "fuzz-common.h"
#include "openvswitch/dynamic-string.h"
#include "ovs-rcu.h"
#include "packets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctdp_flows flows;

static size_t
count_lines(const struct ds *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->length; i++) {
        n += s->string[i] == '\n';
    }
    return n;
}

/* Dumps table 'table' (< 0: all) and checks one line per flow. */
static void
dump(int table)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ctdp_flows_dump(&flows, table, &s);
    if (table < 0) {
        ovs_assert(count_lines(&s) == ctdp_flows_count(&flows));
    }
    ds_destroy(&s);
}

static void
run_line(const char *line)
{
    size_t before = ctdp_flows_count(&flows), n;
    char *error;

    if (line[0] == '-') {
        error = ctdp_flows_del(&flows, line[1] ? line + 1 : NULL, &n);
        ovs_assert(error ? n == 0 : n == before - ctdp_flows_count(&flows));
    } else if (line[0] == '?') {
        char *end;
        long t = strtol(line + 1, &end, 10);

        dump(*end || t < 0 || t >= CTDP_N_TABLES ? -1 : t);
        return;
    } else {
        error = ctdp_flows_add(&flows, line);
        ovs_assert(!error || ctdp_flows_count(&flows) == before);
    }
    free(error);
}

/* Looks up every table with the flows of a few kinds of packet (with
 * their wildcards), and translates each from table 0 as the datapath's
 * flow cache does (ctdp-xlate.h). */
static void
lookup_all(void)
{
    static const uint16_t types[] = { ETH_TYPE_IP, ETH_TYPE_IPV6,
                                      ETH_TYPE_ARP, 0x88cc };
    static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,
                                      IPPROTO_ICMP, IPPROTO_ICMPV6 };

    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        struct flow flow;

        memset(&flow, 0, sizeof flow);
        flow.in_port.ofp_port = u16_to_ofp(1 + i % 2);
        flow.dl_type = htons(types[i]);
        flow.nw_proto = protos[i];
        flow.ct_state = CS_TRACKED | (i % 2 ? CS_ESTABLISHED : CS_NEW);
        struct ctdp_xlate_out out;
        struct flow_wildcards wc;

        flow_wildcards_init_catchall(&wc);
        for (int t = 0; t < 4; t++) {
            const struct ctdp_rule *rule;

            rule = ctdp_flows_lookup(&flows, t, &flow, &wc);
            if (rule) {
                ctdp_rule_account(rule, 1, 60);
            }
        }
        ctdp_xlate_out_init(&out);
        ctdp_xlate(&flows, NULL, &flow, &out);
        ctdp_xlate_out_destroy(&out);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    char *text = xmemdup0((const char *) data, size), *line, *error;
    size_t n = 0;

    fuzz_init();
    ctdp_flows_init(&flows);
    error = ctdp_flows_add_text(&flows, text, "fuzz", &n);
    /* A flow may replace an earlier one of the same file. */
    ovs_assert(error ? !ctdp_flows_count(&flows)
               : ctdp_flows_count(&flows) <= n);
    free(error);
    free(text);
    while ((line = fuzz_take_line(&in, '\n'))) {
        run_line(line);
        free(line);
    }
    lookup_all();
    dump(-1);
    ctdp_flows_destroy(&flows);
    ovsrcu_quiesce();
    return 0;
}
