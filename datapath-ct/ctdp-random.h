#ifndef CTDP_RANDOM_H
#define CTDP_RANDOM_H 1

/* Random bytes for hash keys and seeds.
 *
 * Every hash key and seed in ctdp comes from here, so that an outside party
 * who chooses packets cannot predict bucket placement.  The bytes come from
 * OpenSSL's CSPRNG (RAND_bytes), which draws on the system's entropy source.
 *
 * Thread-safety: every call is thread-safe (OpenSSL's default generator is).
 *
 * Errors: 0 on success, a negative errno value on failure; on failure the
 * buffer's contents are unspecified and must not be used. */

#include <stddef.h>
#include <stdint.h>

int ctdp_random_bytes(void *buf, size_t n);

#endif /* ctdp-random.h */
