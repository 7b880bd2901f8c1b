/* Fuzz target: packets through the connection tracker.
 *
 * One tracker lives across inputs, as the daemon's does across packets,
 * so that an input meets conns that earlier ones made; its table is
 * bounded (MAX_CONNS) so that memory stays small however long the fuzzer
 * runs.  Its clock only moves forward, by what each record says.
 *
 * An input is a sequence of records.  A record is 8 bytes, then a frame:
 *
 *   flags   bit 0 commit, 1 force, 2 set ct_mark, 3 set ct_label,
 *           4 run ct() a second time on the survivors (the next table's
 *           ct(), commit flipped), 5 layer offsets from the flow parser
 *           (as the pipeline does; else the tracker finds the headers),
 *           6 same batch as the next record (up to MAX_BATCH), 7 control
 *           record: no frame, 'zone' picks an operation (control()).
 *   zone    the ct() zone.
 *   clock   what the clock advances first: under 128, that many 10 ms;
 *           else (clock - 127) times 30 s.
 *   mark    ct_mark value (mask: all bits if odd, else the low byte).
 *   label   ct_label value, in both halves (mask: all bits if odd).
 *   arg     for control records, their argument; for packets, NAT: bits
 *           0-1 none, bare nat, nat(src=RANGE), nat(dst=RANGE); bit 2
 *           an IPv6 range (else IPv4); bit 3 a port range; bits 4, 5, 6
 *           random, hash, persistent; bit 7 a helper with commit
 *           (alg=ftp, or alg=tftp if 'mark' is odd).  Every packet that
 *           leaves translated must still have right checksums.
 *   len     big-endian: bits 0-11 the frame's length, bit 15 keep the
 *           frame's checksums as they are (else fuzz_fix_checksums(),
 *           and fix_sctp_crc() for an SCTP packet's CRC32c, so that its
 *           chunks reach the SCTP tracker; GRE has no checksum to fix).
 *
 * A batch runs with the action of its first record. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctdp-ct.h"
#include "ctdp-ct-format.h"
#include "ctdp-ct-private.h"
#include "dp-packet.h"
#include "fuzz-common.h"
#include "openvswitch/dynamic-string.h"
#include "ovs-rcu.h"
#include "packets.h"

#define MAX_CONNS 256
#define MAX_BATCH 8
#define MAX_FRAME 4095

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctdp_ct *ct;
static struct ctdp_ct_listener *listener;
static long long now = 1000000;

enum {
    F_COMMIT = 1 << 0,
    F_FORCE = 1 << 1,
    F_MARK = 1 << 2,
    F_LABEL = 1 << 3,
    F_AGAIN = 1 << 4,
    F_EXTRACT = 1 << 5,
    F_BATCH = 1 << 6,
    F_CONTROL = 1 << 7,
};

struct record {
    uint8_t flags, zone, clock, mark, label, arg;
    uint16_t len;
};

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv OVS_UNUSED)
{
    struct ctdp_ct_params params = { .max_conns = MAX_CONNS };

    fuzz_init();
    ct = ctdp_ct_create(&params);
    ovs_assert(ct);
    listener = ctdp_ct_listen(ct, 64, -1);
    return 0;
}

static void
read_record(struct fuzz_input *in, struct record *r)
{
    r->flags = fuzz_take_u8(in);
    r->zone = fuzz_take_u8(in);
    r->clock = fuzz_take_u8(in);
    r->mark = fuzz_take_u8(in);
    r->label = fuzz_take_u8(in);
    r->arg = fuzz_take_u8(in);
    r->len = fuzz_take_be16(in);
}

/* The NAT part of the ct() action of 'r' (see 'arg' above): small ranges,
 * so that they fill up and the port search meets exhaustion. */
static void
make_nat(const struct record *r, struct ctdp_ct_action *a)
{
    struct ctdp_nat_range *n = &a->nat_range;
    int kind = r->arg & 3;

    a->nat = kind != 0;
    if (kind < 2) {
        return;
    }
    n->flags = ((kind == 2 ? CTDP_NAT_SRC : CTDP_NAT_DST)
                | (r->arg & 8 ? CTDP_NAT_PORTS : 0)
                | (r->arg & 16 ? CTDP_NAT_RANDOM
                   : r->arg & 32 ? CTDP_NAT_HASH : 0)
                | (r->arg & 64 ? CTDP_NAT_PERSISTENT : 0));
    if (r->arg & 4) {
        n->l3 = CTDP_L3_IPV6;
        n->min_addr.ip6.s6_addr[0] = n->max_addr.ip6.s6_addr[0] = 0xfd;
        n->min_addr.ip6.s6_addr[15] = 1;
        n->max_addr.ip6.s6_addr[15] = 1 + r->mark % 4;
    } else {
        n->l3 = CTDP_L3_IPV4;
        n->min_addr.ip4 = htonl(0xc0000264);
        n->max_addr.ip4 = htonl(0xc0000264 + r->mark % 4);
    }
    n->min_port = 1000 + r->label % 64;
    n->max_port = n->min_port + r->mark % 8;
}

/* The ct() action of 'r', as a flow could say it: force, mark and label
 * only with commit. */
static struct ctdp_ct_action
make_action(const struct record *r)
{
    bool commit = r->flags & F_COMMIT;
    struct ctdp_ct_action a = {
        .zone = r->zone,
        .commit = commit,
        .force = commit && r->flags & F_FORCE,
        .set_mark = commit && r->flags & F_MARK,
        .mark = r->mark,
        .mark_mask = r->mark & 1 ? UINT32_MAX : 0xff,
        .set_label = commit && r->flags & F_LABEL,
        .label = { .u64 = { .lo = r->label, .hi = (uint64_t) r->label << 56 } },
        .label_mask = { .u64 = { .lo = UINT64_MAX,
                                 .hi = r->label & 1 ? UINT64_MAX : 0 } },
    };

    make_nat(r, &a);
    if (commit && r->arg & 0x80) {
        a.helper = r->mark & 1 ? "tftp" : "ftp";
    }
    ovs_assert(!ctdp_ct_action_check(&a));
    return a;
}

/* Dumps and prints every conn, in both formats, and the statistics. */
static void
dump_all(void)
{
    struct ctdp_ct_format fmt = { .verbose = true, .stats = true,
                                  .now = now };
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ctdp_ct_dump *dump = ctdp_ct_dump_start(ct, -1, now);
    struct ctdp_ct_stats stats;
    struct ctdp_ct_entry e;
    uint32_t n_buckets;

    while (ctdp_ct_dump_next(dump, &e)) {
        ctdp_ct_format_entry(&s, &e, &fmt);
        ctdp_ct_format_proc(&s, &e, now);
    }
    ctdp_ct_dump_done(dump);
    ctdp_ct_get_stats(ct, &stats);
    ctdp_ct_format_stats(&s, &stats);
    free(ctdp_ct_chain_lengths(ct, &n_buckets));
    ds_destroy(&s);
}

static void
flush_by_mark(const struct record *r)
{
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    f.match_mark = true;
    f.mark = r->mark;
    f.mark_mask = r->arg;
    ctdp_ct_flush(ct, &f, now);
}

static void
flush_zone(int zone)
{
    struct ctdp_ct_flush_filter f;

    ctdp_ct_flush_filter_init(&f);
    f.zone = zone;
    ctdp_ct_flush(ct, &f, now);
}

static void
set_timeout_policy(const struct record *r)
{
    struct ctdp_timeout_policy tp;

    if (r->mark & 1) {
        ctdp_ct_del_timeout_policy(ct, r->arg);
        return;
    }
    ctdp_timeout_policy_init(&tp);
    tp.secs[r->mark % CTDP_TM_N] = r->label;
    ctdp_ct_set_timeout_policy(ct, r->arg, &tp);
}

/* Sets the conntrack knob 'r->mark' picks to 'r->label', as ct-sysctl
 * would (a value the knob refuses changes nothing). */
static void
set_knob(const struct record *r)
{
    size_t i = r->mark % ctdp_ct_sysctl_count();
    char value[8], *error;
    uint64_t v;

    snprintf(value, sizeof value, "%u", r->label);
    error = ctdp_ct_sysctl_parse(i, value, &v);
    if (!error) {
        ctdp_ct_sysctl_set(ct, i, v);
    }
    free(error);
}

static bool
checksums_checked(void)
{
    size_t i;

    ovs_assert(ctdp_ct_sysctl_find("nf_conntrack_checksum", &i));
    return ctdp_ct_sysctl_get(ct, i);
}

/* A control record: the operations a daemon's main thread and its
 * operators run between packets. */
static void
control(const struct record *r)
{
    switch (r->zone % 8) {
    case 0:
        ctdp_ct_sweep(ct, now, r->arg + 1);
        break;
    case 1:
        flush_zone(r->arg & 1 ? r->label : -1);
        break;
    case 2:
        flush_by_mark(r);
        break;
    case 3:
        dump_all();
        break;
    case 4:
        ctdp_ct_set_tcp_loose(ct, r->arg & 1);
        ctdp_ct_set_tcp_be_liberal(ct, r->arg & 2);
        ctdp_ct_set_tcp_seq_check(ct, !(r->arg & 4));
        set_knob(r);
        break;
    case 5:
        if (r->mark & 1) {
            ctdp_ct_set_default_zone_limit(ct, r->label % 8);
        } else if (r->mark & 2) {
            ctdp_ct_del_zone_limit(ct, r->arg);
        } else {
            ctdp_ct_set_zone_limit(ct, r->arg, r->label % 8);
        }
        break;
    case 6:
        set_timeout_policy(r);
        break;
    default:
        ctdp_ct_set_max_conns(ct, 1 + r->arg % MAX_CONNS);
        break;
    }
}

static void
run_batch(struct dp_packet_batch *batch, const struct record *first)
{
    struct ctdp_ct_action a = make_action(first);
    struct dp_packet *pkt;

    ctdp_ct_execute(ct, batch, &a, now);
    if (first->flags & F_AGAIN) {
        struct record again = *first;

        again.flags ^= F_COMMIT;
        a = make_action(&again);
        ctdp_ct_execute(ct, batch, &a, now);
    }
    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        struct ctdp_parsed parsed;

        /* Tracked with nf_conntrack_checksum on, so its checksums were
         * right; translated, they must still be. */
        if (pkt->md.ct_state & (CS_SRC_NAT | CS_DST_NAT)
            && checksums_checked()) {
            ovs_assert(ctdp_tuple_extract(pkt, pkt->md.ct_zone, true, &parsed)
                       != CTDP_PARSE_BAD_CHECKSUM);
        }
        ctdp_ct_packet_done(ct, pkt);
        dp_packet_delete(pkt);
    }
    dp_packet_batch_init(batch);
}

/* Writes the right CRC32c into the SCTP packet that 'frame' (untagged
 * Ethernet, 'n' bytes) carries right after its IPv4 or IPv6 header, if it
 * carries one whole (not a fragment, no IPv6 extension header). */
static void
fix_sctp_crc(uint8_t *frame, size_t n)
{
    size_t l3 = ETH_HEADER_LEN, ofs, end;
    uint8_t *ip = frame + l3;
    ovs_be32 crc;

    if (n < l3 + IP_HEADER_LEN) {
        return;
    }
    if (frame[12] == 0x08 && frame[13] == 0x00 && ip[0] >> 4 == 4) {
        if (ip[9] != IPPROTO_SCTP || (ip[6] & 0x3f) || ip[7]) {
            return;             /* Not SCTP, or a fragment. */
        }
        ofs = l3 + (ip[0] & 15) * 4;
        end = l3 + ((ip[2] << 8) | ip[3]);
    } else if (frame[12] == 0x86 && frame[13] == 0xdd
               && n >= l3 + IPV6_HEADER_LEN && ip[6] == IPPROTO_SCTP) {
        ofs = l3 + IPV6_HEADER_LEN;
        end = ofs + ((ip[4] << 8) | ip[5]);
    } else {
        return;
    }
    end = MIN(end, n);
    if (ofs + 12 <= end) {
        crc = ctdp_sctp_csum(frame + ofs, end - ofs);
        memcpy(frame + ofs + 8, &crc, sizeof crc);
    }
}

static void
add_frame(struct fuzz_input *in, const struct record *r,
          struct dp_packet_batch *batch)
{
    uint8_t frame[MAX_FRAME];
    const uint8_t *bytes;
    size_t n;

    bytes = fuzz_take_bytes(in, r->len & MAX_FRAME, &n);
    memcpy(frame, bytes, n);
    if (!(r->len & 0x8000)) {
        fuzz_fix_checksums(frame, n);
        fix_sctp_crc(frame, n);
    }
    dp_packet_batch_add(batch, fuzz_packet(frame, n, 1 + r->zone % 4,
                                           r->flags & F_EXTRACT));
}

static void
drain_events(void)
{
    struct ctdp_ct_event ev[16];
    struct ds s = DS_EMPTY_INITIALIZER;
    uint64_t lost = 0;
    size_t n;

    while ((n = ctdp_ct_listener_poll(listener, ev, ARRAY_SIZE(ev),
                                      &lost))) {
        for (size_t i = 0; i < n; i++) {
            ctdp_ct_format_event(&s, &ev[i]);
        }
        ds_clear(&s);
    }
    ds_destroy(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    struct dp_packet_batch batch;
    struct record first = { 0 };

    dp_packet_batch_init(&batch);
    while (in.n) {
        struct record r;

        read_record(&in, &r);
        now += r.clock < 128 ? r.clock * 10 : (r.clock - 127) * 30000LL;
        if (r.flags & F_CONTROL) {
            control(&r);
            continue;
        }
        if (dp_packet_batch_is_empty(&batch)) {
            first = r;
        }
        add_frame(&in, &r, &batch);
        if (!(r.flags & F_BATCH)
            || dp_packet_batch_size(&batch) >= MAX_BATCH) {
            run_batch(&batch, &first);
        }
    }
    if (!dp_packet_batch_is_empty(&batch)) {
        run_batch(&batch, &first);
    }
    drain_events();
    ovsrcu_quiesce();
    return 0;
}
