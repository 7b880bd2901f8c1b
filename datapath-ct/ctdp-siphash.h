#ifndef CTDP_SIPHASH_H
#define CTDP_SIPHASH_H 1

/* SipHash-1-3 over whole 64-bit words: the keyed hash of tuples.
 *
 * A keyed pseudo-random function, so that a party who does not know the
 * 128-bit key cannot choose tuples that share a bucket (the kernel hashes
 * its conntrack tuples with siphash for the same reason).  One compression
 * round per word and three finalisation rounds, as Rust's std HashMap. */

#include <stddef.h>
#include <stdint.h>

struct ctdp_siphash_key {
    uint64_t k[2];
};

/* The initial state's constants ("somepseudorandomlygeneratedbytes"). */
#define CTDP_SIP_C0 0x736f6d6570736575ULL
#define CTDP_SIP_C1 0x646f72616e646f6dULL
#define CTDP_SIP_C2 0x6c7967656e657261ULL
#define CTDP_SIP_C3 0x7465646279746573ULL

#define CTDP_SIP_ROTL(X, B) (((X) << (B)) | ((X) >> (64 - (B))))
#define CTDP_SIP_ROUND(V0, V1, V2, V3)                          \
    do {                                                        \
        V0 += V1; V1 = CTDP_SIP_ROTL(V1, 13); V1 ^= V0;         \
        V0 = CTDP_SIP_ROTL(V0, 32);                             \
        V2 += V3; V3 = CTDP_SIP_ROTL(V3, 16); V3 ^= V2;         \
        V0 += V3; V3 = CTDP_SIP_ROTL(V3, 21); V3 ^= V0;         \
        V2 += V1; V1 = CTDP_SIP_ROTL(V1, 17); V1 ^= V2;         \
        V2 = CTDP_SIP_ROTL(V2, 32);                             \
    } while (0)

/* Hashes 'n' words at 'w' under 'key'. */
static inline uint64_t
ctdp_siphash_words(const uint64_t *w, size_t n,
                   const struct ctdp_siphash_key *key)
{
    uint64_t v0 = key->k[0] ^ CTDP_SIP_C0;
    uint64_t v1 = key->k[1] ^ CTDP_SIP_C1;
    uint64_t v2 = key->k[0] ^ CTDP_SIP_C2;
    uint64_t v3 = key->k[1] ^ CTDP_SIP_C3;
    uint64_t b = (uint64_t) (n * 8) << 56;

    for (size_t i = 0; i < n; i++) {
        v3 ^= w[i];
        CTDP_SIP_ROUND(v0, v1, v2, v3);
        v0 ^= w[i];
    }
    v3 ^= b;
    CTDP_SIP_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    CTDP_SIP_ROUND(v0, v1, v2, v3);
    CTDP_SIP_ROUND(v0, v1, v2, v3);
    CTDP_SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ctdp_siphash_words_x8() hashes eight messages of up to five words. */
#define CTDP_SIP_LANES 8
#define CTDP_SIP_MAX_WORDS 5

/* Sets 'out[lane]' to ctdp_siphash_words() of the 'n' words 'w[0][lane]',
 * 'w[1][lane]', ... for each of the eight lanes: with AVX-512 where the
 * CPU has it, all eight in the time of about one. */
void ctdp_siphash_words_x8(const uint64_t (*w)[CTDP_SIP_LANES], size_t n,
                           const struct ctdp_siphash_key *,
                           uint64_t out[CTDP_SIP_LANES]);

#endif /* ctdp-siphash.h */
