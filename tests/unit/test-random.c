#include <config.h>
#include "ctdp-random.h"
#include "ctdp-unit.h"

#include <string.h>

/* Two draws of a 32-byte key differ, and neither is all zeros: a constant
 * or unseeded source would fail this (with odds of 2^-256 of a false
 * failure for a real one). */
static void
test_random_keys_differ(void)
{
    uint8_t a[32], b[32], zero[32] = { 0 };

    CHECK_EQ(ctdp_random_bytes(a, sizeof a), 0);
    CHECK_EQ(ctdp_random_bytes(b, sizeof b), 0);
    CHECK(memcmp(a, b, sizeof a));
    CHECK(memcmp(a, zero, sizeof a));
}

/* Every byte of a buffer is written, including an odd-sized tail. */
static void
test_random_fills_whole_buffer(void)
{
    uint8_t buf[1001];
    int zeros = 0;

    memset(buf, 0, sizeof buf);
    CHECK_EQ(ctdp_random_bytes(buf, sizeof buf), 0);
    for (size_t i = 0; i < sizeof buf; i++) {
        zeros += !buf[i];
    }
    /* Expect about 4 zero bytes in 1001 random ones; 40 would mean a
     * region was left unwritten. */
    CHECK(zeros < 40);
    CHECK_EQ(ctdp_random_bytes(buf, 0), 0);
}

const struct ctdp_unit_suite random_suite = {
    "random", (const struct ctdp_unit_case[]) {
        { "keys_differ", test_random_keys_differ },
        { "fills_whole_buffer", test_random_fills_whole_buffer },
        { NULL, NULL },
    },
};
