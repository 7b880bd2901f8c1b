/* Fuzz target: fragment sequences through IP defragmentation.
 *
 * Each input gets a new reassembler with small bounds, so that eviction,
 * the per-datagram limit and the memory bound are reached by short
 * inputs, and runs a sequence of frames through ctdp_ipf_gather() as the
 * pipeline's ct() does (lib/ctdp-pipeline.c, defrag_then_track()): a
 * completed datagram is tracked whole by a tracker that lives across
 * inputs, its results copied to every fragment, and everything freed.
 * Expiry runs when a record asks and as the clock moves.  At the end the
 * counters must add up as ctdp-ipf.h says (accepted = completed + expired
 * + purged + discarded + still held) and the bounds must hold; then the
 * reassembler is destroyed with whatever it still holds.
 *
 * An input is 6 bytes of settings, then records:
 *
 *   settings  min_frag v4, min_frag v6 (400 + 16 * byte % 64), the most
 *             fragments held (1 + byte % 64), per datagram (1 + byte %
 *             64), memory (2 KB * (1 + byte)), and bits 0-1 turning
 *             reassembly off for IPv4 or IPv6 when both bits 7 and 6 are
 *             also set (so that it is mostly on);
 *   record    clock (advance by that many 100 ms first), zone (0-3 from
 *             bits 0-1; bit 2: ct() with commit), flags (bit 0 keep the
 *             frame's checksum as it is, bit 1 layer offsets from the flow
 *             parser, bit 2 expire before), then a big-endian length
 *             (12 bits) and the frame. */
#include <config.h>

#include <string.h>
#include "ctdp-ct.h"
#include "ctdp-ipf.h"
#include "dp-packet.h"
#include "fuzz-common.h"
#include "ovs-rcu.h"

#define MAX_FRAME 4095

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctdp_ct *ct;
static long long now = 1000000;

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv OVS_UNUSED)
{
    struct ctdp_ct_params params = { .max_conns = 64 };

    fuzz_init();
    ct = ctdp_ct_create(&params);
    ovs_assert(ct);
    return 0;
}

static struct ctdp_ipf *
make_ipf(struct fuzz_input *in)
{
    struct ctdp_ipf *ipf = ctdp_ipf_create();
    uint8_t s[6];

    for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
        s[i] = fuzz_take_u8(in);
    }
    ovs_assert(!ctdp_ipf_set_min_frag(ipf, CTDP_IPF_V4, 400 + 16 * (s[0] % 64)));
    ovs_assert(!ctdp_ipf_set_min_frag(ipf, CTDP_IPF_V6, 400 + 16 * (s[1] % 64)));
    ovs_assert(!ctdp_ipf_set_max_nfrags(ipf, 1 + s[2] % 64));
    ovs_assert(!ctdp_ipf_set_max_dgram_frags(ipf, 1 + s[3] % 64));
    ovs_assert(!ctdp_ipf_set_max_memory(ipf, 2048 * (1 + (size_t) s[4])));
    if ((s[5] & 0xc0) == 0xc0) {
        ctdp_ipf_set_enabled(ipf, CTDP_IPF_V4, !(s[5] & 1));
        ctdp_ipf_set_enabled(ipf, CTDP_IPF_V6, !(s[5] & 2));
    }
    return ipf;
}

/* Runs ct() on 'pkt', which then leaves the pipeline. */
static void
track_and_free(struct dp_packet *pkt, uint16_t zone, bool commit)
{
    struct ctdp_ct_action a = { .zone = zone, .commit = commit };
    struct dp_packet_batch batch;

    dp_packet_batch_init_packet(&batch, pkt);
    ctdp_ct_execute(ct, &batch, &a, now);
    if (!dp_packet_batch_is_empty(&batch)) {
        ctdp_ct_packet_done(ct, pkt);
        dp_packet_delete(pkt);
    }
}

/* What the pipeline does with a completed datagram: tracks it once, then
 * sends its fragments brought up to date with it. */
static void
complete(struct ctdp_ipf_dgram *d, uint16_t zone, bool commit)
{
    struct ctdp_ct_action a = { .zone = zone, .commit = commit };
    struct dp_packet_batch batch;

    ovs_assert(d->whole && d->n_frags > 0);
    dp_packet_batch_init_packet(&batch, d->whole);
    ctdp_ct_execute(ct, &batch, &a, now);
    for (size_t i = 0; i < d->n_frags; i++) {
        if (!dp_packet_batch_is_empty(&batch)) {
            /* ct() changed nothing in the datagram: a fragment brought up
             * to date with it is as it came. */
            struct dp_packet *copy = dp_packet_clone(d->frags[i]);

            ctdp_ipf_sync_fragment(copy, d);
            ovs_assert(dp_packet_size(copy) == dp_packet_size(d->frags[i]));
            ovs_assert(!memcmp(dp_packet_data(copy),
                               dp_packet_data(d->frags[i]),
                               dp_packet_size(copy)));
            dp_packet_delete(copy);
        }
        ctdp_ct_packet_done(ct, d->frags[i]);
        dp_packet_delete(d->frags[i]);
    }
    if (!dp_packet_batch_is_empty(&batch)) {
        ctdp_ct_packet_done(ct, d->whole);
        dp_packet_delete(d->whole);
    }
    ctdp_ipf_dgram_destroy(d);
}

static void
gather(struct ctdp_ipf *ipf, struct fuzz_input *in)
{
    uint8_t clock = fuzz_take_u8(in), zone = fuzz_take_u8(in);
    uint8_t flags = fuzz_take_u8(in);
    size_t len = fuzz_take_be16(in) & MAX_FRAME, n;
    const uint8_t *bytes = fuzz_take_bytes(in, len, &n);
    uint8_t frame[MAX_FRAME];
    struct ctdp_ipf_dgram d;
    struct dp_packet *pkt;

    now += clock * 100;
    if (flags & 4) {
        ctdp_ipf_expire(ipf, now);
    }
    memcpy(frame, bytes, n);
    if (!(flags & 1)) {
        fuzz_fix_checksums(frame, n);
    }
    pkt = fuzz_packet(frame, n, 1, flags & 2);
    switch (ctdp_ipf_gather(ipf, pkt, zone & 3, now, &d)) {
    case CTDP_IPF_NOT_FRAGMENT:
        track_and_free(pkt, zone & 3, zone & 4);
        break;
    case CTDP_IPF_HELD:
    case CTDP_IPF_DROPPED:
        break;
    case CTDP_IPF_COMPLETE:
    default:
        complete(&d, zone & 3, zone & 4);
        break;
    }
}

/* The counters add up, and the bounds hold. */
static void
check_status(struct ctdp_ipf *ipf)
{
    struct ctdp_ipf_queue_info *queues;
    struct ctdp_ipf_status s;
    uint64_t in = 0, out = 0;
    size_t n_queues, held = 0;

    ctdp_ipf_get_status(ipf, &s);
    queues = ctdp_ipf_queues(ipf, &n_queues);
    for (size_t i = 0; i < n_queues; i++) {
        held += queues[i].n_frags;
    }
    free(queues);
    for (int v = 0; v < CTDP_IPF_N_VERSIONS; v++) {
        const uint64_t *c = s.counters[v];

        in += c[CTDP_IPF_ACCEPTED];
        out += (c[CTDP_IPF_COMPLETED] + c[CTDP_IPF_EXPIRED]
                + c[CTDP_IPF_PURGED] + c[CTDP_IPF_DISCARDED]);
    }
    ovs_assert(n_queues == s.n_queues);
    ovs_assert(held == s.nfrag);
    ovs_assert(in == out + s.nfrag);
    ovs_assert(s.nfrag <= s.nfrag_max);
    ovs_assert(s.memory <= s.max_memory);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    struct ctdp_ipf *ipf = make_ipf(&in);

    while (in.n) {
        gather(ipf, &in);
    }
    check_status(ipf);
    now += CTDP_IPF_DEFAULT_TIMEOUT_MS;
    ctdp_ipf_expire(ipf, now);
    check_status(ipf);
    ctdp_ipf_destroy(ipf);
    ovsrcu_quiesce();
    return 0;
}
