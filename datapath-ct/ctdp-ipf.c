/* IP defragmentation: reassembly queues in front of the tracker.
 *
 * A fragment is parsed (frag_parse()), checked on its own (size, L4
 * header, datagram size), then against its queue (overlap, last fragment,
 * count), room is made for it under the total bounds, and it is inserted
 * in offset order.  A queue is complete when it has its first and last
 * fragments and as many data bytes as the last one's end: with overlaps
 * refused, that means no hole.  Then the datagram is rebuilt in a new
 * packet and handed back with the originals.
 *
 * Queues live in an hmap keyed by a hash with a random basis, and on an
 * age list (oldest first) that expiry and eviction walk from the head.
 * One mutex guards both and every counter; it is taken only for
 * fragments. */
#include <config.h>
#include "ctdp-ipf.h"

#include <errno.h>
#include <string.h>
#include "ctdp-csum.h"
#include "ctdp-ip.h"
#include "dp-packet.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "packets.h"
#include "random.h"
#include "util.h"

/* The queue key: compared and hashed as bytes, so no padding. */
struct ipf_key {
    union ctdp_addr src, dst;
    ovs_be32 id;                /* IPv4: the 16-bit id, widened. */
    uint16_t zone;
    uint8_t nw_proto;           /* IPv4 only: an IPv6 fragment's next
                                 * header may differ from the first's
                                 * (RFC 8200 4.5), which alone counts. */
    uint8_t version;            /* enum ctdp_ipf_version. */
};
BUILD_ASSERT_DECL(sizeof(struct ipf_key) == 40);

/* Where a fragment's parts are, in bytes from the frame's start, and
 * which part of the datagram's data it carries. */
struct frag_pos {
    uint16_t l3_ofs;
    uint16_t hdr_end;           /* End of the headers the whole datagram
                                 * keeps: IPv4 header; IPv6 header and the
                                 * extension headers before the fragment
                                 * header. */
    uint16_t data_ofs;          /* Start of the fragment's data. */
    uint16_t nexthdr_ofs;       /* IPv6: the byte naming the fragment
                                 * header. */
    uint8_t frag_nexthdr;       /* The protocol the IPv4 header or the IPv6
                                 * fragment header names. */
    uint32_t start, end;        /* Data bytes [start, end) of the datagram's
                                 * fragmentable part. */
};

struct frag_info {
    enum ctdp_ipf_version v;
    struct ipf_key key;
    struct frag_pos pos;
    uint16_t ip_len;            /* The fragment's IP total length. */
    bool more;                  /* Not the last fragment. */
    bool l4_held;               /* A first fragment: whether it holds the
                                 * datagram's whole L4 header. */
};

struct ipf_frag {
    struct dp_packet *pkt;
    struct frag_pos pos;
};

struct ipf_queue {
    struct hmap_node node;      /* In 'ipf->queues', by 'key''s hash. */
    struct ovs_list age_node;   /* In 'ipf->age', oldest first. */
    struct ipf_key key;
    long long expires;
    struct ipf_frag *frags;     /* 'n' of 'cap', by 'pos.start', never
                                 * overlapping. */
    size_t n, cap;
    uint32_t len;               /* The last fragment's end once it came,
                                 * before that the highest end. */
    uint32_t meat;              /* Data bytes held. */
    bool first_in, last_in;
    uint8_t nw_proto;           /* IPv6: as the first fragment names it. */
    size_t mem;                 /* Bytes accounted to this queue. */
};

struct ctdp_ipf {
    struct ovs_mutex mutex;
    struct hmap queues OVS_GUARDED;     /* Of struct ipf_queue. */
    struct ovs_list age OVS_GUARDED;    /* Of struct ipf_queue. */
    uint32_t basis;                     /* Hash basis, random. */
    uint32_t nfrag OVS_GUARDED;         /* Fragments held. */
    size_t mem OVS_GUARDED;             /* Bytes held. */
    uint64_t counters[CTDP_IPF_N_VERSIONS][CTDP_IPF_N_COUNTERS]
        OVS_GUARDED;

    /* Settings.  'enabled' is read without the mutex (the fast path);
     * the others are written and read under it. */
    atomic_bool enabled[CTDP_IPF_N_VERSIONS];
    uint32_t min_frag[CTDP_IPF_N_VERSIONS] OVS_GUARDED;
    uint32_t nfrag_max OVS_GUARDED;
    uint32_t max_dgram_frags OVS_GUARDED;
    size_t max_memory OVS_GUARDED;
    unsigned int timeout OVS_GUARDED;
};

static const char *const counter_names[] = {
#define CTDP_IPF_COUNTER(ENUM, NAME) NAME,
    CTDP_IPF_COUNTERS
#undef CTDP_IPF_COUNTER
};

const char *
ctdp_ipf_counter_name(enum ctdp_ipf_counter c)
{
    return c < CTDP_IPF_N_COUNTERS ? counter_names[c] : "?";
}

static void
count(struct ctdp_ipf *ipf, enum ctdp_ipf_version v, enum ctdp_ipf_counter c,
      uint64_t n)
    OVS_REQUIRES(ipf->mutex)
{
    ipf->counters[v][c] += n;
}

/* ---- Creation and settings --------------------------------------------- */

struct ctdp_ipf *
ctdp_ipf_create(void)
{
    struct ctdp_ipf *ipf = xzalloc(sizeof *ipf);

    ovs_mutex_init(&ipf->mutex);
    ovs_mutex_lock(&ipf->mutex);
    hmap_init(&ipf->queues);
    ovs_list_init(&ipf->age);
    ipf->basis = random_uint32();
    ipf->min_frag[CTDP_IPF_V4] = CTDP_IPF_DEFAULT_MIN_FRAG_V4;
    ipf->min_frag[CTDP_IPF_V6] = CTDP_IPF_DEFAULT_MIN_FRAG_V6;
    ipf->nfrag_max = CTDP_IPF_DEFAULT_NFRAG_MAX;
    ipf->max_dgram_frags = CTDP_IPF_DEFAULT_DGRAM_FRAGS;
    ipf->max_memory = CTDP_IPF_DEFAULT_MAX_MEMORY;
    ipf->timeout = CTDP_IPF_DEFAULT_TIMEOUT_MS;
    ovs_mutex_unlock(&ipf->mutex);
    atomic_init(&ipf->enabled[CTDP_IPF_V4], true);
    atomic_init(&ipf->enabled[CTDP_IPF_V6], true);
    return ipf;
}

static void
queue_free_frags(struct ipf_queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        dp_packet_delete(q->frags[i].pkt);
    }
}

/* Unlinks 'q' and frees it and its array, not its packets (which the
 * caller freed or took). */
static void
queue_remove(struct ctdp_ipf *ipf, struct ipf_queue *q)
    OVS_REQUIRES(ipf->mutex)
{
    hmap_remove(&ipf->queues, &q->node);
    ovs_list_remove(&q->age_node);
    ipf->nfrag -= q->n;
    ipf->mem -= q->mem;
    free(q->frags);
    free(q);
}

/* Frees 'q' with its fragments, counting them under 'why'. */
static void
queue_drop(struct ctdp_ipf *ipf, struct ipf_queue *q,
           enum ctdp_ipf_counter why)
    OVS_REQUIRES(ipf->mutex)
{
    count(ipf, q->key.version, why, q->n);
    queue_free_frags(q);
    queue_remove(ipf, q);
}

void
ctdp_ipf_destroy(struct ctdp_ipf *ipf)
{
    struct ipf_queue *q;

    if (!ipf) {
        return;
    }
    ovs_mutex_lock(&ipf->mutex);
    LIST_FOR_EACH_SAFE (q, age_node, &ipf->age) {
        queue_drop(ipf, q, CTDP_IPF_PURGED);
    }
    hmap_destroy(&ipf->queues);
    ovs_mutex_unlock(&ipf->mutex);
    ovs_mutex_destroy(&ipf->mutex);
    free(ipf);
}

void
ctdp_ipf_set_enabled(struct ctdp_ipf *ipf, enum ctdp_ipf_version v, bool on)
{
    atomic_store_relaxed(&ipf->enabled[v], on);
}

int
ctdp_ipf_set_min_frag(struct ctdp_ipf *ipf, enum ctdp_ipf_version v,
                      uint32_t size)
{
    if (size < CTDP_IPF_MIN_FRAG_LBOUND) {
        return EINVAL;
    }
    ovs_mutex_lock(&ipf->mutex);
    ipf->min_frag[v] = size;
    ovs_mutex_unlock(&ipf->mutex);
    return 0;
}

int
ctdp_ipf_set_max_nfrags(struct ctdp_ipf *ipf, uint32_t n)
{
    if (n > CTDP_IPF_NFRAG_UBOUND) {
        return EINVAL;
    }
    ovs_mutex_lock(&ipf->mutex);
    ipf->nfrag_max = n;
    ovs_mutex_unlock(&ipf->mutex);
    return 0;
}

int
ctdp_ipf_set_max_dgram_frags(struct ctdp_ipf *ipf, uint32_t n)
{
    if (!n || n > 65535 / 8) {
        return EINVAL;
    }
    ovs_mutex_lock(&ipf->mutex);
    ipf->max_dgram_frags = n;
    ovs_mutex_unlock(&ipf->mutex);
    return 0;
}

int
ctdp_ipf_set_max_memory(struct ctdp_ipf *ipf, size_t bytes)
{
    if (!bytes) {
        return EINVAL;
    }
    ovs_mutex_lock(&ipf->mutex);
    ipf->max_memory = bytes;
    ovs_mutex_unlock(&ipf->mutex);
    return 0;
}

/* ---- Parsing ----------------------------------------------------------- */

enum frag_parse {
    FP_NOT_FRAGMENT,
    FP_FRAGMENT,
    FP_MALFORMED,
};

/* Fills 'f' from the IPv4 fragment at 'l3' of 'frame', which 'h'
 * describes. */
static enum frag_parse
parse_ipv4(const uint8_t *frame, size_t l3, enum ctdp_ip_result r,
           const struct ctdp_ip_hdr *h, bool check_csum, struct frag_info *f)
{
    const struct ip_header *ip = (const void *) (frame + l3);

    if (!h->fragment) {
        return FP_NOT_FRAGMENT;
    }
    if (r != CTDP_IP_OK) {
        return FP_MALFORMED;
    }
    if (check_csum && ctdp_csum(ip, h->l4_ofs)) {
        return FP_MALFORMED;            /* IP input would drop it. */
    }
    f->key.src.ip4 = get_16aligned_be32(&ip->ip_src);
    f->key.dst.ip4 = get_16aligned_be32(&ip->ip_dst);
    f->key.nw_proto = h->proto;
    f->pos.hdr_end = f->pos.data_ofs = l3 + h->l4_ofs;
    f->pos.frag_nexthdr = h->proto;
    return FP_FRAGMENT;
}

/* Fills 'f' from the IPv6 packet at 'l3' of 'frame', which 'h'
 * describes. */
static enum frag_parse
parse_ipv6(const uint8_t *frame, size_t l3, const struct ctdp_ip_hdr *h,
           struct frag_info *f)
{
    const struct ovs_16aligned_ip6_hdr *ip6 = (const void *) (frame + l3);

    if (!h->frag_hdr) {
        /* The chain names no fragment header before it ends, or breaks
         * off (which the tracker calls malformed): not a fragment.  Or it
         * names one that the packet does not hold: a malformed one. */
        return h->proto == IPPROTO_FRAGMENT ? FP_MALFORMED : FP_NOT_FRAGMENT;
    }
    memcpy(&f->key.src.ip6, &ip6->ip6_src, sizeof f->key.src.ip6);
    memcpy(&f->key.dst.ip6, &ip6->ip6_dst, sizeof f->key.dst.ip6);
    f->pos.hdr_end = l3 + h->frag_hdr;
    f->pos.data_ofs = f->pos.hdr_end + sizeof(struct ovs_16aligned_ip6_frag);
    f->pos.nexthdr_ofs = l3 + h->frag_prev;
    f->pos.frag_nexthdr = frame[f->pos.hdr_end];
    return FP_FRAGMENT;
}

/* Does the first fragment that 'r' and 'h' describe hold its whole header
 * chain, up to and including the L4 header (RFC 1858, 7112)?  Its L4
 * header starts where the tracker will find it in the datagram. */
static bool
first_holds_l4(enum ctdp_ip_result r, const struct ctdp_ip_hdr *h)
{
    /* A chain that names a later fragment's header (one fragment header
     * inside another) leaves nothing to hold. */
    return r == CTDP_IP_OK
           && (h->later
               || h->len - h->l4_ofs >= ctdp_tuple_l4_min_size(h->proto));
}

/* Parses 'pkt' in 'zone' into 'f'. */
static enum frag_parse
frag_parse(const struct dp_packet *pkt, uint16_t zone, struct frag_info *f)
{
    const uint8_t *frame = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt);
    enum ctdp_ip_result r;
    enum frag_parse fp;
    struct ctdp_ip_hdr h;
    ovs_be16 dl_type;
    size_t l3;

    if (!ctdp_tuple_find_l3(pkt, &l3, &dl_type)) {
        return FP_NOT_FRAGMENT;
    }
    memset(f, 0, sizeof *f);
    f->key.zone = zone;
    f->pos.l3_ofs = l3;
    if (size > UINT16_MAX) {
        return FP_NOT_FRAGMENT;         /* No dp_packet is this long. */
    }
    if (dl_type == htons(ETH_TYPE_IPV6)) {
        f->v = CTDP_IPF_V6;
    } else if (dl_type != htons(ETH_TYPE_IP)) {
        return FP_NOT_FRAGMENT;
    }
    f->key.version = f->v;
    r = ctdp_ip_read(frame + l3, size - l3, false, &h);
    if (r == CTDP_IP_NOT_IP || h.version != (f->v == CTDP_IPF_V4 ? 4 : 6)) {
        return FP_NOT_FRAGMENT;         /* The tracker says why. */
    }
    fp = (f->v == CTDP_IPF_V4
          ? parse_ipv4(frame, l3, r, &h, !dp_packet_ip_checksum_valid(pkt), f)
          : parse_ipv6(frame, l3, &h, f));
    if (fp == FP_FRAGMENT) {
        f->key.id = htonl(h.frag_id);
        f->pos.start = h.frag_ofs;
        f->pos.end = f->pos.start + (l3 + h.len - f->pos.data_ofs);
        f->ip_len = h.len;
        f->more = h.more;
        f->l4_held = first_holds_l4(r, &h);
    }
    return fp;
}

/* ---- Queues ------------------------------------------------------------ */

static uint32_t
key_hash(const struct ctdp_ipf *ipf, const struct ipf_key *key)
{
    return hash_bytes(key, sizeof *key, ipf->basis);
}

static struct ipf_queue *
queue_find(struct ctdp_ipf *ipf, const struct ipf_key *key, uint32_t hash)
    OVS_REQUIRES(ipf->mutex)
{
    struct ipf_queue *q;

    HMAP_FOR_EACH_WITH_HASH (q, node, hash, &ipf->queues) {
        if (!memcmp(&q->key, key, sizeof *key)) {
            return q;
        }
    }
    return NULL;
}

static size_t
frag_mem(const struct dp_packet *pkt)
{
    return sizeof *pkt + dp_packet_get_allocated(pkt);
}

/* Frees the queues expired at 'now', oldest first; returns the fragments
 * freed.  A queue expires a fixed time after its creation, so the age list
 * is in expiry order. */
static size_t
expire_oldest(struct ctdp_ipf *ipf, long long now)
    OVS_REQUIRES(ipf->mutex)
{
    struct ipf_queue *q;
    size_t n = 0;

    LIST_FOR_EACH_SAFE (q, age_node, &ipf->age) {
        if (q->expires > now) {
            break;
        }
        n += q->n;
        queue_drop(ipf, q, CTDP_IPF_EXPIRED);
    }
    return n;
}

/* Evicts the oldest queues other than 'keep' until 'need' more bytes and
 * one more fragment fit the bounds.  Returns false, evicting nothing, if
 * even evicting every other queue would not do. */
static bool
make_room(struct ctdp_ipf *ipf, size_t need, const struct ipf_queue *keep)
    OVS_REQUIRES(ipf->mutex)
{
    struct ipf_queue *q;

    if ((keep ? keep->mem : 0) + need > ipf->max_memory
        || (keep ? keep->n : 0) >= ipf->nfrag_max) {
        return false;
    }
    LIST_FOR_EACH_SAFE (q, age_node, &ipf->age) {
        if (ipf->mem + need <= ipf->max_memory
            && ipf->nfrag < ipf->nfrag_max) {
            return true;
        }
        if (q != keep) {
            queue_drop(ipf, q, CTDP_IPF_PURGED);
        }
    }
    return ipf->mem + need <= ipf->max_memory
           && ipf->nfrag < ipf->nfrag_max;
}

static struct ipf_queue *
queue_create(struct ctdp_ipf *ipf, const struct ipf_key *key, uint32_t hash,
             long long now)
    OVS_REQUIRES(ipf->mutex)
{
    struct ipf_queue *q = xzalloc(sizeof *q);

    q->key = *key;
    q->expires = now + ipf->timeout;
    q->mem = sizeof *q;
    hmap_insert(&ipf->queues, &q->node, hash);
    ovs_list_push_back(&ipf->age, &q->age_node);
    ipf->mem += q->mem;
    return q;
}

#define SLOT_OVERLAP SIZE_MAX
#define SLOT_DUP (SIZE_MAX - 1)

/* Where 'f' goes in 'q' (the index of the first fragment starting after
 * it); SLOT_DUP if fragments held already cover it without a gap, the
 * kernel's IPFRAG_DUP; SLOT_OVERLAP if it overlaps held data in part. */
static size_t
queue_slot(const struct ipf_queue *q, const struct frag_info *f)
{
    size_t i = q->n, j;

    while (i > 0 && q->frags[i - 1].pos.start >= f->pos.end) {
        i--;
    }
    if (i == 0 || q->frags[i - 1].pos.end <= f->pos.start) {
        return i;
    }
    if (q->frags[i - 1].pos.end < f->pos.end) {
        return SLOT_OVERLAP;
    }
    for (j = i - 1; q->frags[j].pos.start > f->pos.start; j--) {
        if (!j || q->frags[j - 1].pos.end != q->frags[j].pos.start) {
            return SLOT_OVERLAP;
        }
    }
    return SLOT_DUP;
}

/* Inserts 'pkt' ('f') at 'slot' of 'q'; room was made already. */
static void
queue_insert(struct ctdp_ipf *ipf, struct ipf_queue *q, size_t slot,
             struct dp_packet *pkt, const struct frag_info *f)
    OVS_REQUIRES(ipf->mutex)
{
    size_t mem = frag_mem(pkt);

    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 4;

        q->frags = xrealloc(q->frags, cap * sizeof *q->frags);
        mem += (cap - q->cap) * sizeof *q->frags;
        q->cap = cap;
    }
    memmove(&q->frags[slot + 1], &q->frags[slot],
            (q->n - slot) * sizeof *q->frags);
    q->frags[slot] = (struct ipf_frag) { .pkt = pkt, .pos = f->pos };
    q->n++;
    q->meat += f->pos.end - f->pos.start;
    if (!f->more) {
        q->last_in = true;
        q->len = f->pos.end;
    } else if (f->pos.end > q->len) {
        q->len = f->pos.end;
    }
    if (f->pos.start == 0) {
        q->first_in = true;
        q->nw_proto = f->pos.frag_nexthdr;
    }
    q->mem += mem;
    ipf->mem += mem;
    ipf->nfrag++;
    count(ipf, f->v, CTDP_IPF_ACCEPTED, 1);
}

/* The bytes 'f' adds to 'q' (NULL: a new queue), arrays included. */
static size_t
room_needed(const struct ipf_queue *q, const struct dp_packet *pkt)
{
    size_t need = frag_mem(pkt);

    if (!q) {
        need += sizeof *q + 4 * sizeof *q->frags;
    } else if (q->n == q->cap) {
        need += q->cap * sizeof *q->frags;
    }
    return need;
}

/* ---- Reassembly -------------------------------------------------------- */

/* Builds the datagram of complete queue 'q' in a new packet, with the
 * metadata of 'last' (the completing fragment).  Returns NULL if it would
 * be too big. */
static struct dp_packet *
reassemble(const struct ipf_queue *q, const struct dp_packet *last)
{
    const struct ipf_frag *first = &q->frags[0];
    const uint8_t *head = dp_packet_data(first->pkt);
    size_t hdr_end = first->pos.hdr_end, l3 = first->pos.l3_ofs;
    size_t ip_len = hdr_end - l3 + q->len;
    struct dp_packet *whole;

    if (hdr_end + q->len > UINT16_MAX
        || (q->key.version == CTDP_IPF_V4 ? ip_len
            : ip_len - IPV6_HEADER_LEN) > 65535) {
        return NULL;
    }
    whole = dp_packet_new(hdr_end + q->len);
    dp_packet_put(whole, head, hdr_end);
    for (size_t i = 0; i < q->n; i++) {
        const struct ipf_frag *f = &q->frags[i];

        dp_packet_put(whole,
                      (const uint8_t *) dp_packet_data(f->pkt)
                      + f->pos.data_ofs, f->pos.end - f->pos.start);
    }
    whole->md = last->md;
    whole->md.conn = NULL;
    dp_packet_reset_offsets(whole);
    whole->l3_ofs = l3;

    uint8_t *data = dp_packet_data(whole);
    if (q->key.version == CTDP_IPF_V4) {
        struct ip_header *ip = (void *) (data + l3);

        ip->ip_tot_len = htons(ip_len);
        ip->ip_frag_off &= htons(IP_DONT_FRAGMENT);
        ip->ip_csum = 0;
        ip->ip_csum = ctdp_csum(ip, hdr_end - l3);
    } else {
        struct ovs_16aligned_ip6_hdr *ip6 = (void *) (data + l3);

        ip6->ip6_ctlun.ip6_un1.ip6_un1_plen = htons(ip_len
                                                    - IPV6_HEADER_LEN);
        data[first->pos.nexthdr_ofs] = first->pos.frag_nexthdr;
    }
    return whole;
}

/* Hands complete queue 'q' over to the caller in 'dgram', or drops it if
 * the datagram is too big.  'q' is freed either way. */
static enum ctdp_ipf_result
complete(struct ctdp_ipf *ipf, struct ipf_queue *q,
         const struct dp_packet *last, struct ctdp_ipf_dgram *dgram)
    OVS_REQUIRES(ipf->mutex)
{
    struct dp_packet *whole = reassemble(q, last);
    enum ctdp_ipf_version v = q->key.version;

    if (!whole) {
        /* Every fragment was accepted, so every one is discarded; the
         * datagram counts as oversized once. */
        count(ipf, v, CTDP_IPF_OVERSIZE, 1);
        count(ipf, v, CTDP_IPF_DISCARDED, q->n);
        queue_free_frags(q);
        queue_remove(ipf, q);
        return CTDP_IPF_DROPPED;
    }
    dgram->whole = whole;
    dgram->data_ofs = q->frags[0].pos.hdr_end;
    dgram->n_frags = q->n;
    dgram->frags = xmalloc(q->n * sizeof *dgram->frags);
    for (size_t i = 0; i < q->n; i++) {
        dgram->frags[i] = q->frags[i].pkt;
    }
    count(ipf, v, CTDP_IPF_COMPLETED, q->n);
    queue_remove(ipf, q);
    return CTDP_IPF_COMPLETE;
}

/* ---- The packet path --------------------------------------------------- */

/* Checks 'f' on its own; returns the counter to drop it under, or
 * CTDP_IPF_N_COUNTERS if it may be queued. */
static enum ctdp_ipf_counter
check_alone(struct ctdp_ipf *ipf, const struct frag_info *f)
    OVS_REQUIRES(ipf->mutex)
{
    size_t hdrs = f->pos.hdr_end - f->pos.l3_ofs;
    size_t max = f->v == CTDP_IPF_V4 ? 65535 - hdrs
                                     : 65535 - (hdrs - IPV6_HEADER_LEN);

    if (f->more && (f->pos.end - f->pos.start) % 8) {
        return CTDP_IPF_MALFORMED;
    }
    if (f->pos.end > max) {
        return CTDP_IPF_OVERSIZE;
    }
    if (f->pos.start == 0 && !f->l4_held) {
        return CTDP_IPF_TOO_SHORT;
    }
    if (f->more && f->ip_len < ipf->min_frag[f->v]) {
        return CTDP_IPF_TOO_SMALL;
    }
    return CTDP_IPF_N_COUNTERS;
}

/* Checks 'f' against its queue 'q' (NULL: none yet); returns the counter
 * to drop it under, or CTDP_IPF_N_COUNTERS if it may be queued at
 * '*slot'.  '*kill' tells whether the whole datagram is bad. */
static enum ctdp_ipf_counter
check_queue(struct ctdp_ipf *ipf, const struct ipf_queue *q,
            const struct frag_info *f, size_t *slot, bool *kill)
    OVS_REQUIRES(ipf->mutex)
{
    /* In the order of the kernel's ip_frag_queue(). */
    *kill = q != NULL;
    *slot = 0;
    if (q && (!f->more ? (f->pos.end < q->len
                          || (q->last_in && f->pos.end != q->len))
                       : q->last_in && f->pos.end > q->len)) {
        return CTDP_IPF_MALFORMED;      /* Data past the datagram's end. */
    }
    if (f->pos.end == f->pos.start) {
        return CTDP_IPF_MALFORMED;      /* An empty fragment. */
    }
    if (!q) {
        return CTDP_IPF_N_COUNTERS;
    }
    *slot = queue_slot(q, f);
    if (*slot == SLOT_DUP) {
        *kill = false;
        return f->more ? CTDP_IPF_DUPLICATE : CTDP_IPF_DUP_LAST;
    }
    if (*slot == SLOT_OVERLAP) {
        return CTDP_IPF_OVERLAP;
    }
    if (q->n >= ipf->max_dgram_frags) {
        *kill = true;
        return CTDP_IPF_TOO_MANY;
    }
    return CTDP_IPF_N_COUNTERS;
}

/* Queues fragment 'pkt' ('f'), and completes its datagram if it can. */
static enum ctdp_ipf_result
gather_locked(struct ctdp_ipf *ipf, struct dp_packet *pkt,
              const struct frag_info *f, long long now,
              struct ctdp_ipf_dgram *dgram)
    OVS_REQUIRES(ipf->mutex)
{
    uint32_t hash = key_hash(ipf, &f->key);
    enum ctdp_ipf_counter why;
    struct ipf_queue *q;
    size_t slot;
    bool kill;

    expire_oldest(ipf, now);
    q = queue_find(ipf, &f->key, hash);
    why = check_alone(ipf, f);
    if (why == CTDP_IPF_N_COUNTERS) {
        why = check_queue(ipf, q, f, &slot, &kill);
    } else {
        kill = why == CTDP_IPF_OVERSIZE;
    }
    if (why == CTDP_IPF_N_COUNTERS
        && !make_room(ipf, room_needed(q, pkt), q)) {
        why = CTDP_IPF_NO_ROOM;
    }
    if (why != CTDP_IPF_N_COUNTERS) {
        count(ipf, f->v, why, 1);
        if (kill && q) {
            queue_drop(ipf, q, CTDP_IPF_DISCARDED);
        }
        dp_packet_delete(pkt);
        return CTDP_IPF_DROPPED;
    }
    if (!q) {
        q = queue_create(ipf, &f->key, hash, now);
    }
    queue_insert(ipf, q, slot, pkt, f);
    if (q->first_in && q->last_in && q->meat == q->len) {
        return complete(ipf, q, pkt, dgram);
    }
    return CTDP_IPF_HELD;
}

enum ctdp_ipf_result
ctdp_ipf_gather(struct ctdp_ipf *ipf, struct dp_packet *pkt, uint16_t zone,
                long long now, struct ctdp_ipf_dgram *dgram)
{
    enum ctdp_ipf_result result;
    struct frag_info f;
    bool on;

    memset(dgram, 0, sizeof *dgram);
    switch (frag_parse(pkt, zone, &f)) {
    case FP_NOT_FRAGMENT:
        return CTDP_IPF_NOT_FRAGMENT;
    case FP_MALFORMED:
        /* Its version is unknown only if it is not IP at all, and then
         * it is not a fragment. */
        atomic_read_relaxed(&ipf->enabled[f.v], &on);
        if (!on) {
            return CTDP_IPF_NOT_FRAGMENT;
        }
        ovs_mutex_lock(&ipf->mutex);
        count(ipf, f.v, CTDP_IPF_MALFORMED, 1);
        ovs_mutex_unlock(&ipf->mutex);
        dp_packet_delete(pkt);
        return CTDP_IPF_DROPPED;
    case FP_FRAGMENT:
    default:
        break;
    }
    atomic_read_relaxed(&ipf->enabled[f.v], &on);
    if (!on) {
        return CTDP_IPF_NOT_FRAGMENT;
    }
    /* A held fragment must not keep a conn past its pipeline run. */
    pkt->md.conn = NULL;
    ovs_mutex_lock(&ipf->mutex);
    result = gather_locked(ipf, pkt, &f, now, dgram);
    ovs_mutex_unlock(&ipf->mutex);
    return result;
}

void
ctdp_ipf_dgram_destroy(struct ctdp_ipf_dgram *dgram)
{
    free(dgram->frags);
    dgram->frags = NULL;
    dgram->n_frags = 0;
}

void
ctdp_ipf_sync_fragment(struct dp_packet *frag,
                       const struct ctdp_ipf_dgram *dgram)
{
    const uint8_t *w = dp_packet_data(dgram->whole);
    uint8_t *data = dp_packet_data(frag);
    size_t w_l3 = dgram->whole->l3_ofs;
    struct frag_info f;

    if (frag_parse(frag, 0, &f) != FP_FRAGMENT
        || dgram->data_ofs + f.pos.end > dp_packet_size(dgram->whole)) {
        return;                 /* It was one when it was gathered. */
    }
    if (f.key.version == CTDP_IPF_V4) {
        struct ip_header *ip = (void *) (data + f.pos.l3_ofs);
        const struct ip_header *wip = (const void *) (w + w_l3);

        ip->ip_src = wip->ip_src;
        ip->ip_dst = wip->ip_dst;
        ip->ip_csum = 0;
        ip->ip_csum = ctdp_csum(ip, IP_IHL(ip->ip_ihl_ver) * 4);
    } else {
        /* Source and destination: the last 32 of the 40 bytes. */
        memcpy(data + f.pos.l3_ofs + 8, w + w_l3 + 8, 32);
    }
    memcpy(data + f.pos.data_ofs, w + dgram->data_ofs + f.pos.start,
           f.pos.end - f.pos.start);
}

size_t
ctdp_ipf_expire(struct ctdp_ipf *ipf, long long now)
{
    size_t n;

    ovs_mutex_lock(&ipf->mutex);
    n = expire_oldest(ipf, now);
    ovs_mutex_unlock(&ipf->mutex);
    return n;
}

/* ---- Status ------------------------------------------------------------ */

void
ctdp_ipf_get_status(struct ctdp_ipf *ipf, struct ctdp_ipf_status *s)
{
    memset(s, 0, sizeof *s);
    for (int v = 0; v < CTDP_IPF_N_VERSIONS; v++) {
        atomic_read_relaxed(&ipf->enabled[v], &s->enabled[v]);
    }
    ovs_mutex_lock(&ipf->mutex);
    memcpy(s->min_frag, ipf->min_frag, sizeof s->min_frag);
    s->nfrag_max = ipf->nfrag_max;
    s->nfrag = ipf->nfrag;
    s->max_dgram_frags = ipf->max_dgram_frags;
    s->n_queues = hmap_count(&ipf->queues);
    s->timeout_ms = ipf->timeout;
    s->memory = ipf->mem;
    s->max_memory = ipf->max_memory;
    memcpy(s->counters, ipf->counters, sizeof s->counters);
    ovs_mutex_unlock(&ipf->mutex);
}

struct ctdp_ipf_queue_info *
ctdp_ipf_queues(struct ctdp_ipf *ipf, size_t *n)
{
    struct ctdp_ipf_queue_info *infos;
    const struct ipf_queue *q;
    size_t i = 0;

    ovs_mutex_lock(&ipf->mutex);
    infos = xcalloc(hmap_count(&ipf->queues) + 1, sizeof *infos);
    LIST_FOR_EACH (q, age_node, &ipf->age) {
        struct ctdp_ipf_queue_info *info = &infos[i++];

        info->version = q->key.version;
        info->src = q->key.src;
        info->dst = q->key.dst;
        info->id = ntohl(q->key.id);
        info->zone = q->key.zone;
        info->nw_proto = (q->key.version == CTDP_IPF_V4 ? q->key.nw_proto
                          : q->nw_proto);
        info->n_frags = q->n;
        info->first_in = q->first_in;
        info->last_in = q->last_in;
        info->expires = q->expires;
    }
    ovs_mutex_unlock(&ipf->mutex);
    *n = i;
    return infos;
}
