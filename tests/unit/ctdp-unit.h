#ifndef CTDP_UNIT_H
#define CTDP_UNIT_H 1

/* A small unit-test harness that speaks TAP, for automake's tap-driver.
 *
 * Each test file defines its cases and one suite:
 *
 *     static void test_foo(void) { CHECK(1 + 1 == 2); }
 *     const struct ctdp_unit_suite foo_suite = {
 *         "foo", (const struct ctdp_unit_case[]) {
 *             { "foo", test_foo }, { NULL, NULL } } };
 *
 * and tests/unit/ctdp-unit.c lists the suite.  A failed CHECK prints a TAP
 * diagnostic and marks the case failed; the case goes on, so that one run
 * shows every failed check. */

#include <stdbool.h>
#include <stdint.h>

struct ctdp_unit_case {
    const char *name;
    void (*run)(void);
};

struct ctdp_unit_suite {
    const char *name;
    const struct ctdp_unit_case *cases;     /* Ends with a NULL name. */
};

bool ctdp_unit_check(bool ok, const char *expr, const char *file, int line);

#define CHECK(EXPR) ctdp_unit_check((EXPR), #EXPR, __FILE__, __LINE__)

/* CHECK_EQ for integers: prints both values when they differ. */
#define CHECK_EQ(A, B) \
    ctdp_unit_check_eq((long long) (A), (long long) (B), #A, #B, \
                       __FILE__, __LINE__)
bool ctdp_unit_check_eq(long long a, long long b, const char *a_expr,
                        const char *b_expr, const char *file, int line);

/* test-ct-tcp.c: prints the TCP tracker's scripts as JSON lines
 * (`ctdp-unit --tcp-scripts`), for tests/test_kernel_tcp.py. */
#include <stdio.h>
void ct_tcp_print_scripts(FILE *);

#endif /* ctdp-unit.h */
