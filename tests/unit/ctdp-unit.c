/* The unit-test runner: runs every suite's cases (or those whose
 * "suite/case" name contains argv[1]) and reports them in TAP.
 * `ctdp-unit --tcp-scripts` prints the TCP tracker's scripts as JSON lines
 * instead (tests/test_kernel_tcp.py replays them through the kernel). */
#include <config.h>
#include "ctdp-unit.h"

#include <stdio.h>
#include <string.h>

extern const struct ctdp_unit_suite command_suite;
extern const struct ctdp_unit_suite flows_suite;
extern const struct ctdp_unit_suite pipeline_suite;
extern const struct ctdp_unit_suite random_suite;
extern const struct ctdp_unit_suite ct_basic_suite;
extern const struct ctdp_unit_suite ct_limits_suite;
extern const struct ctdp_unit_suite ct_expect_suite;
extern const struct ctdp_unit_suite ct_dump_suite;
extern const struct ctdp_unit_suite ct_malformed_suite;
extern const struct ctdp_unit_suite ct_reference_suite;
extern const struct ctdp_unit_suite ct_threads_suite;
extern const struct ctdp_unit_suite ct_tcp_suite;
extern const struct ctdp_unit_suite ct_ip_suite;
extern const struct ctdp_unit_suite ct_ipf_suite;
extern const struct ctdp_unit_suite ct_reclaim_suite;
extern const struct ctdp_unit_suite ct_nat_suite;
extern const struct ctdp_unit_suite ct_ftp_suite;
extern const struct ctdp_unit_suite ct_sctp_suite;
extern const struct ctdp_unit_suite ct_table_suite;
extern const struct ctdp_unit_suite offload_suite;
extern const struct ctdp_unit_suite port_pcap_suite;

static const struct ctdp_unit_suite *const suites[] = {
    &command_suite,
    &flows_suite,
    &pipeline_suite,
    &random_suite,
    &ct_basic_suite,
    &ct_limits_suite,
    &ct_expect_suite,
    &ct_dump_suite,
    &ct_table_suite,
    &ct_malformed_suite,
    &ct_reference_suite,
    &ct_threads_suite,
    &ct_tcp_suite,
    &ct_ip_suite,
    &ct_ipf_suite,
    &ct_reclaim_suite,
    &ct_nat_suite,
    &ct_ftp_suite,
    &ct_sctp_suite,
    &offload_suite,
    &port_pcap_suite,
};

static int n_failed_checks;

bool
ctdp_unit_check(bool ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        printf("# %s:%d: check failed: %s\n", file, line, expr);
        n_failed_checks++;
    }
    return ok;
}

bool
ctdp_unit_check_eq(long long a, long long b, const char *a_expr,
                   const char *b_expr, const char *file, int line)
{
    if (a != b) {
        printf("# %s:%d: check failed: %s == %s (%lld != %lld)\n",
               file, line, a_expr, b_expr, a, b);
        n_failed_checks++;
    }
    return a == b;
}

static bool
selected(const char *suite, const char *name, const char *filter)
{
    char full[256];

    snprintf(full, sizeof full, "%s/%s", suite, name);
    return !filter || strstr(full, filter);
}

int
main(int argc, char *argv[])
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int n_tests = 0, n_failed = 0, n = 0;

    if (filter && !strcmp(filter, "--tcp-scripts")) {
        ct_tcp_print_scripts(stdout);
        return 0;
    }

    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++) {
        for (const struct ctdp_unit_case *c = suites[i]->cases; c->name; c++) {
            n_tests += selected(suites[i]->name, c->name, filter);
        }
    }
    printf("1..%d\n", n_tests);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof suites / sizeof *suites; i++) {
        for (const struct ctdp_unit_case *c = suites[i]->cases; c->name; c++) {
            if (!selected(suites[i]->name, c->name, filter)) {
                continue;
            }
            int before = n_failed_checks;

            c->run();
            bool ok = n_failed_checks == before;
            printf("%s %d - %s/%s\n", ok ? "ok" : "not ok", ++n,
                   suites[i]->name, c->name);
            n_failed += !ok;
        }
    }
    return n_failed ? 1 : 0;
}
