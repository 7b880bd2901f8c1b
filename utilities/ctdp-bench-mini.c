/* The minimal tracker: a control for the lookups and their memory floor.
 *
 * For the packet of an established UDP conn it does what any tracker
 * must, and nothing else: reads and checks the headers as ctdp's plain
 * IPv4 reader does, hashes the tuple and zone with the keyed hash
 * (ctdp's SipHash, eight at a time), finds the conn, checks its expiry,
 * refreshes it, counts the packet and writes the packet's metadata.  It
 * takes no lock and runs no protocol tracker; it keeps no reply
 * direction, no label (no conn of the benchmark has one) and nothing a
 * conn needs beyond a lookup; it neither makes nor removes conns (a
 * packet that finds none is marked +new).  So it is a bound, not a
 * tracker: what a lookup could cost on this machine, with each layout of
 * the table, if the tracker's work were no more than this.  One thread
 * only: the records are written without atomics.
 *
 * A packet's work runs in three passes over the batch, as ctdp's do: read
 * and hash (prefetching what the hash points at), then find, then track.
 * The layouts (enum bench_mini_layout):
 *
 *   - BENCH_MINI_BUCKETS: ctdp's own buckets (struct ctdp_bucket: ten
 *     16-bit tags and ten refs, matched by ctdp_bucket_match()), four
 *     entries in use on average, then the conn's 64-byte record: two
 *     dependent lines, as ctdp's table (whose conn's first line holds
 *     all these lookups touch).
 *   - BENCH_MINI_SLOTS: the 64-byte records themselves in the slots of a
 *     table half full, open addressing with linear probing: one line,
 *     found from the hash alone, and the next when the probe goes on. */
#include <config.h>
#include "ctdp-bench.h"

#include <string.h>
#include "ctdp-csum.h"
#include "ctdp-prefetch.h"
#include "ctdp-siphash.h"
#include "ctdp-table.h"
#include "packets.h"
#include "random.h"
#include "util.h"

/* A conn's record: what a lookup reads and writes. */
struct mini_rec {
    uint64_t key[2];            /* Addresses; ports, protocol, zone. */
    long long expires;          /* 0: a free slot. */
    uint32_t assured;
    uint32_t mark;
    uint64_t packets;           /* Original direction: the only one here. */
    uint64_t bytes;
    uint8_t pad[16];
};
BUILD_ASSERT_DECL(sizeof(struct mini_rec) == 64);

#define MINI_UDP_TIMEOUT_MS 30000           /* nf_conntrack_udp_timeout. */
#define MINI_UDP_STREAM_TIMEOUT_MS 120000   /* ..._udp_timeout_stream. */

struct bench_mini {
    enum bench_mini_layout layout;
    struct ctdp_siphash_key hash_key;
    /* BENCH_MINI_BUCKETS only.  A slot's ref is its record's number
     * plus one, shifted left by one as ctdp's (0: a free slot). */
    struct ctdp_bucket *buckets;
    size_t n_buckets;
    struct mini_rec *recs;
    size_t n_recs;
    uint32_t n_conns;
};

/* A packet of the batch, between the passes. */
struct mini_work {
    uint64_t key[2];
    uint64_t hash;
    struct mini_rec *rec;
    uint16_t l3_size;
    bool ok;
};

static bool
is_slots(const struct bench_mini *m)
{
    return m->layout != BENCH_MINI_BUCKETS;
}

/* The hash's slot among 'n' (a multiply, not a mask: any 'n'). */
static size_t
hash_index(uint64_t hash, size_t n)
{
    return (unsigned __int128) hash * n >> 64;
}

/* The slot or bucket after 'i' of 'n', wrapping. */
static size_t
next_index(size_t i, size_t n)
{
    return i + 1 < n ? i + 1 : 0;
}

static bool
rec_matches(const struct mini_rec *r, const uint64_t key[2])
{
    return r->key[0] == key[0] && r->key[1] == key[1];
}

/* The slots of 'bk' whose tag is 'hash''s, as ctdp_bucket_match() gives
 * them.  The tag comes from the hash's low half (ctdp_table_tag()),
 * hash_index() takes its high bits. */
static uint32_t
tag_hits(const struct ctdp_bucket *bk, uint64_t hash)
{
    return ctdp_bucket_match(bk, ctdp_table_tag(hash));
}

/* The record in slot 't' of 'bk', or NULL if the slot is free (whose tag
 * may match all the same). */
static struct mini_rec *
bucket_rec(const struct bench_mini *m, const struct ctdp_bucket *bk, int t)
{
    uint32_t ref;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_bucket *, bk)->ref[t], &ref);
    return ref ? &m->recs[(ref >> 1) - 1] : NULL;
}

/* Reads the plain IPv4 UDP packet 'pkt' into 'w' (key and size) with the
 * checks of ctdp's plain reader: the Ethertype, no IP options, not a
 * fragment, the total length, the IPv4 header checksum and the UDP length
 * and checksum (if set) unless the offload flags say they are good. */
static bool
mini_read(const struct dp_packet *pkt, uint16_t zone, struct mini_work *w)
{
    const uint8_t *data = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt), ofs = pkt->l3_ofs;
    const struct ip_header *ip;
    const struct udp_header *udp;
    size_t tot_len, udp_len;

    if (ofs < 2 || ofs > size
        || size - ofs < IP_HEADER_LEN + UDP_HEADER_LEN
        || data[ofs - 2] != 0x08 || data[ofs - 1] != 0x00) {
        return false;
    }
    ip = (const void *) (data + ofs);
    udp = (const void *) (data + ofs + IP_HEADER_LEN);
    tot_len = ntohs(ip->ip_tot_len);
    if (ip->ip_ihl_ver != IP_IHL_VER(5, IP_VERSION)
        || ip->ip_frag_off & htons(IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)
        || ip->ip_proto != IPPROTO_UDP
        || tot_len > size - ofs || tot_len < IP_HEADER_LEN + UDP_HEADER_LEN
        || (!dp_packet_ip_checksum_valid(pkt)
            && ctdp_csum(ip, IP_HEADER_LEN))) {
        return false;
    }
    udp_len = ntohs(udp->udp_len);
    if (udp_len < UDP_HEADER_LEN || udp_len > tot_len - IP_HEADER_LEN
        || (udp->udp_csum && !dp_packet_l4_checksum_valid(pkt)
            && ctdp_csum_fold(ctdp_csum_add(
                   ctdp_csum_pseudo_ip(0, ip, false, udp_len, IPPROTO_UDP),
                   udp, udp_len)))) {
        return false;
    }
    w->key[0] = (uint64_t) get_16aligned_be32(&ip->ip_src) << 32
                | get_16aligned_be32(&ip->ip_dst);
    w->key[1] = (uint64_t) udp->udp_src << 48
                | (uint64_t) udp->udp_dst << 32 | IPPROTO_UDP << 16 | zone;
    w->l3_size = tot_len;
    return true;
}

/* The record of 'key' (hash 'hash'), or NULL.  Slots: the probe starts at
 * the hash's slot and ends at a free one.  Buckets: a bucket that is full
 * and does not hold the key sends the lookup on to the next. */
static struct mini_rec *
mini_find(const struct bench_mini *m, const uint64_t key[2], uint64_t hash)
{
    if (is_slots(m)) {
        for (size_t i = hash_index(hash, m->n_recs); ;
             i = next_index(i, m->n_recs)) {
            struct mini_rec *r = &m->recs[i];

            if (!r->expires) {
                return NULL;
            } else if (rec_matches(r, key)) {
                return r;
            }
        }
    }
    for (size_t b = hash_index(hash, m->n_buckets); ;
         b = next_index(b, m->n_buckets)) {
        const struct ctdp_bucket *bk = &m->buckets[b];

        for (uint32_t hits = tag_hits(bk, hash); hits; hits &= hits - 1) {
            struct mini_rec *r = bucket_rec(m, bk, __builtin_ctz(hits));

            if (r && rec_matches(r, key)) {
                return r;
            }
        }
        if (ctdp_bucket_free(bk)) {
            return NULL;
        }
    }
}

/* Adds the record of 'key' for conn number 'conn'. */
static void
mini_insert(struct bench_mini *m, const uint64_t key[2], uint32_t conn,
            long long now)
{
    uint64_t hash = ctdp_siphash_words(key, 2, &m->hash_key);
    struct mini_rec *r = NULL;

    if (is_slots(m)) {
        size_t i = hash_index(hash, m->n_recs);

        while (m->recs[i].expires) {
            i = next_index(i, m->n_recs);
        }
        r = &m->recs[i];
    } else {
        size_t b = hash_index(hash, m->n_buckets);
        uint32_t free_slots;
        int t;

        while (!(free_slots = ctdp_bucket_free(&m->buckets[b]))) {
            b = next_index(b, m->n_buckets);
        }
        t = __builtin_ctz(free_slots);
        atomic_store_relaxed(&m->buckets[b].tag[t], ctdp_table_tag(hash));
        atomic_store_relaxed(&m->buckets[b].ref[t], (conn + 1) << 1);
        r = &m->recs[conn];
    }
    memcpy(r->key, key, sizeof r->key);
    r->expires = now + MINI_UDP_STREAM_TIMEOUT_MS;
    r->assured = true;
}

/* A minimal tracker in 'layout' holding conns 0 to 'n_conns' - 1 (as
 * bench_burst_set_conn() makes them) in zone 0, established and assured,
 * none expiring before 'now' + 120 s. */
struct bench_mini *
bench_mini_create(enum bench_mini_layout layout, uint32_t n_conns,
                  long long now)
{
    struct bench_mini *m = xzalloc(sizeof *m);
    struct bench_burst burst;
    size_t bytes;

    m->layout = layout;
    m->n_conns = n_conns;
    m->hash_key = (struct ctdp_siphash_key) {
        { random_uint64(), random_uint64() },
    };
    m->n_recs = is_slots(m) ? 2 * (size_t) n_conns : n_conns;
    bytes = m->n_recs * sizeof *m->recs;
    m->recs = xmalloc_cacheline(bytes);
    memset(m->recs, 0, bytes);
    if (!is_slots(m)) {
        m->n_buckets = MAX(1, n_conns / 4);
        m->buckets = xmalloc_cacheline(m->n_buckets * sizeof *m->buckets);
        memset(m->buckets, 0, m->n_buckets * sizeof *m->buckets);
    }
    bench_burst_init(&burst, BENCH_UDP);
    for (uint32_t c = 0; c < n_conns; c++) {
        struct mini_work w;

        bench_burst_set_conn(&burst, 0, c, BENCH_ORIG);
        ovs_assert(mini_read(burst.pkts[0], 0, &w));
        mini_insert(m, w.key, c, now);
    }
    bench_burst_destroy(&burst);
    return m;
}

/* The table's bytes per conn. */
double
bench_mini_bytes_per_conn(const struct bench_mini *m)
{
    return (double) (m->n_recs * sizeof *m->recs
                     + m->n_buckets * sizeof *m->buckets) / m->n_conns;
}

void
bench_mini_destroy(struct bench_mini *m)
{
    if (m) {
        free_cacheline(m->recs);
        free_cacheline(m->buckets);
        free(m);
    }
}

/* Prefetches what 'hash' points at: the record's line, to be written, or
 * the bucket's, to be read. */
static void
prefetch_target(const struct bench_mini *m, uint64_t hash)
{
    if (is_slots(m)) {
        ctdp_prefetch_write(&m->recs[hash_index(hash, m->n_recs)]);
    } else {
        OVS_PREFETCH(&m->buckets[hash_index(hash, m->n_buckets)]);
    }
}

/* Pass 1: reads the packets, hashes them eight at a time and prefetches
 * what each hash points at. */
static void
read_and_hash(const struct bench_mini *m, struct bench_burst *burst,
              uint16_t zone, struct mini_work w[])
{
    for (size_t i = 0; i < burst->n; i += CTDP_SIP_LANES) {
        uint64_t words[2][CTDP_SIP_LANES], hashes[CTDP_SIP_LANES];
        size_t n = MIN(CTDP_SIP_LANES, burst->n - i);

        memset(words, 0, sizeof words);
        for (size_t j = 0; j < n; j++) {
            struct mini_work *x = &w[i + j];

            x->ok = mini_read(burst->pkts[i + j], zone, x);
            if (x->ok) {
                words[0][j] = x->key[0];
                words[1][j] = x->key[1];
            }
        }
        ctdp_siphash_words_x8(words, 2, &m->hash_key, hashes);
        for (size_t j = 0; j < n; j++) {
            w[i + j].hash = hashes[j];
            prefetch_target(m, hashes[j]);
        }
    }
}

/* Pass 2 for one packet: with slots, its record (the line pass 1
 * prefetched); with buckets, the record of the first tag that matches in
 * its bucket (that line), prefetched, for pass 3 to check. */
static struct mini_rec *
find_hint(const struct bench_mini *m, const struct mini_work *w)
{
    const struct ctdp_bucket *bk;
    struct mini_rec *r;
    uint32_t hits;

    if (!w->ok) {
        return NULL;
    } else if (is_slots(m)) {
        return mini_find(m, w->key, w->hash);
    }
    bk = &m->buckets[hash_index(w->hash, m->n_buckets)];
    hits = tag_hits(bk, w->hash);
    r = hits ? bucket_rec(m, bk, __builtin_ctz(hits)) : NULL;
    if (r) {
        ctdp_prefetch_write(r);
    }
    return r;
}

/* Pass 3 for one packet: 'w''s conn, if live, refreshed and counted, and
 * the packet's metadata written as a tracker writes it. */
static void
track(struct mini_work *w, struct dp_packet *pkt, uint16_t zone,
      long long now, struct bench_burst *burst)
{
    struct mini_rec *r = w->rec;
    struct pkt_metadata *md = &pkt->md;

    if (OVS_UNLIKELY(!w->ok)) {
        md->ct_state = CS_TRACKED | CS_INVALID;
        return;
    } else if (OVS_UNLIKELY(!r || r->expires <= now)) {
        md->ct_state = CS_TRACKED | CS_NEW;
        return;
    }
    r->expires = now + (r->assured ? MINI_UDP_STREAM_TIMEOUT_MS
                                   : MINI_UDP_TIMEOUT_MS);
    r->packets++;
    r->bytes += w->l3_size;
    md->ct_state = CS_TRACKED | CS_ESTABLISHED;
    md->ct_zone = zone;
    md->ct_mark = r->mark;
    md->ct_label = OVS_U128_ZERO;
    md->ct_orig_tuple_ipv6 = false;
    md->ct_orig_tuple.ipv4 = (struct ovs_key_ct_tuple_ipv4) {
        .ipv4_src = htonl(r->key[0] >> 32),
        .ipv4_dst = htonl(r->key[0]),
        .src_port = r->key[1] >> 48,
        .dst_port = r->key[1] >> 32,
        .ipv4_proto = IPPROTO_UDP,
    };
    md->conn = (struct conn *) r;
    burst->est++;
}

/* ct(zone='zone') of the minimal tracker 'm' on 'burst' at time 'now':
 * every packet +trk, and +est if it finds its live conn. */
void
bench_mini_execute(struct bench_mini *m, struct bench_burst *burst,
                   uint16_t zone, long long now)
{
    struct mini_work w[BENCH_BATCH];

    bench_burst_load(burst);
    read_and_hash(m, burst, zone, w);
    for (size_t i = 0; i < burst->n; i++) {
        w[i].rec = find_hint(m, &w[i]);
    }
    for (size_t i = 0; i < burst->n; i++) {
        struct mini_rec *r = w[i].rec;

        if (w[i].ok && !is_slots(m) && (!r || !rec_matches(r, w[i].key))) {
            /* Not the bucket's first match: a tag's false match, a later
             * slot, or the next bucket. */
            w[i].rec = mini_find(m, w[i].key, w[i].hash);
        }
        track(&w[i], burst->pkts[i], zone, now, burst);
    }
}
