/* SipHash-1-3 eight at a time: the hashes of a batch's tuples. */
#include <config.h>
#include "ctdp-siphash.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CTDP_SIP_AVX512 1
#endif

#ifdef CTDP_SIP_AVX512
#define X8_ROTL(X, B) _mm512_rol_epi64(X, B)
#define X8_ADD(A, B) ((A) = _mm512_add_epi64(A, B))
#define X8_XOR(A, B) ((A) = _mm512_xor_si512(A, B))
#define X8_ROUND(V0, V1, V2, V3)                                        \
    do {                                                                \
        X8_ADD(V0, V1); V1 = X8_ROTL(V1, 13); X8_XOR(V1, V0);           \
        V0 = X8_ROTL(V0, 32);                                           \
        X8_ADD(V2, V3); V3 = X8_ROTL(V3, 16); X8_XOR(V3, V2);           \
        X8_ADD(V0, V3); V3 = X8_ROTL(V3, 21); X8_XOR(V3, V0);           \
        X8_ADD(V2, V1); V1 = X8_ROTL(V1, 17); X8_XOR(V1, V2);           \
        V2 = X8_ROTL(V2, 32);                                           \
    } while (0)

/* ctdp_siphash_words() in the eight 64-bit lanes of AVX-512 registers,
 * one message per lane: the same rounds, on eight messages for about the
 * price of one. */
__attribute__((target("avx512f")))
static void
siphash_x8_avx512(const uint64_t (*w)[CTDP_SIP_LANES], size_t n,
                  const struct ctdp_siphash_key *key,
                  uint64_t out[CTDP_SIP_LANES])
{
    __m512i k0 = _mm512_set1_epi64(key->k[0]);
    __m512i k1 = _mm512_set1_epi64(key->k[1]);
    __m512i v0 = _mm512_xor_si512(k0, _mm512_set1_epi64(CTDP_SIP_C0));
    __m512i v1 = _mm512_xor_si512(k1, _mm512_set1_epi64(CTDP_SIP_C1));
    __m512i v2 = _mm512_xor_si512(k0, _mm512_set1_epi64(CTDP_SIP_C2));
    __m512i v3 = _mm512_xor_si512(k1, _mm512_set1_epi64(CTDP_SIP_C3));
    __m512i b = _mm512_set1_epi64((uint64_t) (n * 8) << 56);

    for (size_t i = 0; i < n; i++) {
        __m512i m = _mm512_loadu_si512(w[i]);

        X8_XOR(v3, m);
        X8_ROUND(v0, v1, v2, v3);
        X8_XOR(v0, m);
    }
    X8_XOR(v3, b);
    X8_ROUND(v0, v1, v2, v3);
    X8_XOR(v0, b);
    X8_XOR(v2, _mm512_set1_epi64(0xff));
    X8_ROUND(v0, v1, v2, v3);
    X8_ROUND(v0, v1, v2, v3);
    X8_ROUND(v0, v1, v2, v3);
    _mm512_storeu_si512(out, _mm512_xor_si512(_mm512_xor_si512(v0, v1),
                                              _mm512_xor_si512(v2, v3)));
}
#endif

void
ctdp_siphash_words_x8(const uint64_t (*w)[CTDP_SIP_LANES], size_t n,
                      const struct ctdp_siphash_key *key,
                      uint64_t out[CTDP_SIP_LANES])
{
#ifdef CTDP_SIP_AVX512
    if (__builtin_cpu_supports("avx512f")) {
        siphash_x8_avx512(w, n, key, out);
        return;
    }
#endif
    for (size_t lane = 0; lane < CTDP_SIP_LANES; lane++) {
        uint64_t m[CTDP_SIP_MAX_WORDS];

        for (size_t i = 0; i < n; i++) {
            m[i] = w[i][lane];
        }
        out[lane] = ctdp_siphash_words(m, n, key);
    }
}
