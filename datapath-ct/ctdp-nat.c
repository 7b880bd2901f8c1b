/* NAT: bindings chosen as the kernel's nf_nat_core.c, packets rewritten
 * as nf_nat_proto.c.
 *
 * A binding is the conn's reply tuple.  It is chosen while the conn is
 * unconfirmed (only the packet that made it can see it) and fixed by the
 * confirm that inserts it: a conn whose binding changed a tuple has
 * CTDP_S_SRC_NAT or CTDP_S_DST_NAT and stores the reply tuple
 * (ctdp_conn_set_nat_reply()); SRC_NAT_DONE and DST_NAT_DONE say which
 * kinds were set up, changed or not (a "null binding").
 *
 * Writing 'T[d]' for the conn's tuple in direction d (T[ORIG] its key,
 * T[REPLY] its reply tuple), a packet going in direction d carries T[d]
 * and leaves as the inverse of T[!d].  An ICMP error going in direction
 * d quotes a packet that went the other way after translation (the
 * inverse of T[d]); the quote is put back to T[!d] and the outer header
 * translated as the kernel's nf_nat_icmp_reply_translation().
 *
 * Thread-safety: ctdp_nat_bind() runs on a conn its caller owns, looking
 * up the table as a reader; ctdp_nat_packet() reads only the conn's
 * tuples, which never change once it is confirmed. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <errno.h>
#include <string.h>
#include "csum.h"
#include "ctdp-csum.h"
#include "dp-packet.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "random.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_nat);

/* The kernel's NF_NAT_MAX_ATTEMPTS: a port search tries at most this
 * many ports from one offset, then half as many from another, and so on
 * down to 16 (at most 248 lookups in all), so that a full range costs a
 * bounded time, never a scan of 65,536 ports. */
#define NAT_MAX_ATTEMPTS 128

/* ---- Choosing a binding ------------------------------------------------ */

/* Is 't', a candidate original-direction tuple for 'conn' after NAT,
 * unusable because another live conn already has its inverse (the reply
 * tuple 't' would give) as a tuple?  As the kernel's
 * nf_conntrack_tuple_taken(): a conn with the same original tuple seen in
 * its reply direction is the same flow racing, which the clash
 * resolution at confirm takes care of. */
static bool
tuple_taken(struct ctdp_ct *ct, const struct ctdp_conn *conn,
            const struct ctdp_tuple *t, long long now)
{
    enum ctdp_ct_dir dir = CTDP_DIR_ORIG;
    struct ctdp_tuple reply;
    struct ctdp_conn *found;

    if (!ctdp_tuple_invert(t, &reply)) {
        return true;
    }
    found = ctdp_conn_lookup(ct, &reply, t,
                             ctdp_table_hash(&ct->table, &reply), now, &dir);
    return found && !(dir == CTDP_DIR_REPLY
                      && ctdp_tuple_equal(&found->key, &conn->key));
}

static bool
addr_in_range(const union ctdp_addr *a, const struct ctdp_nat_range *r)
{
    if (r->l3 == CTDP_L3_IPV4) {
        return ntohl(a->ip4) >= ntohl(r->min_addr.ip4)
               && ntohl(a->ip4) <= ntohl(r->max_addr.ip4);
    }
    return memcmp(a, &r->min_addr, 16) >= 0
           && memcmp(a, &r->max_addr, 16) <= 0;
}

static bool
is_icmp(const struct ctdp_tuple *t)
{
    return (t->nw_proto == IPPROTO_ICMP && t->l3 == CTDP_L3_IPV4)
           || (t->nw_proto == IPPROTO_ICMPV6 && t->l3 == CTDP_L3_IPV6);
}

/* The identifier a binding of this kind may vary in 't', or NULL: the
 * source or destination port, or the ICMP query id for either. */
static ovs_be16 *
manip_port(struct ctdp_tuple *t, bool src)
{
    if (is_icmp(t)) {
        return &t->sport;
    } else if (ctdp_tuple_has_ports(t->nw_proto)) {
        return src ? &t->sport : &t->dport;
    }
    return NULL;
}

static bool
port_in_range(const struct ctdp_tuple *t, bool src,
              const struct ctdp_nat_range *r)
{
    ovs_be16 *port = manip_port(CONST_CAST(struct ctdp_tuple *, t), src);

    return !port || !(r->flags & CTDP_NAT_PORTS)
           || (ntohs(*port) >= r->min_port && ntohs(*port) <= r->max_port);
}

/* ---- The by-source index ---------------------------------------------- */

/* The hash of a tuple's source: zone, family, protocol, address and port
 * (or ICMP id), the kernel's hash_by_src(). */
static uint32_t
src_hash(const struct ctdp_ct *ct, const struct ctdp_tuple *t)
{
    uint64_t w[3];

    memcpy(w, &t->src, 16);
    w[2] = ((uint64_t) t->zone << 32 | (uint64_t) t->nw_proto << 24
            | (uint64_t) t->l3 << 16 | t->sport);
    return ctdp_siphash_words(w, 3, &ct->id_key);
}

static bool
same_src(const struct ctdp_tuple *a, const struct ctdp_tuple *b)
{
    return (a->zone == b->zone && a->l3 == b->l3
            && a->nw_proto == b->nw_proto && a->sport == b->sport
            && !memcmp(&a->src, &b->src, sizeof a->src));
}

/* The source-NATed conns of one source: the index holds one of these per
 * source, so that a source with many conns (a client talking to many
 * peers from one port) costs one hash entry, and a conn leaves its list in
 * O(1). */
struct src_group {
    struct hmap_node node;          /* In ct->nat_by_src. */
    struct ctdp_tuple src;          /* Compared by same_src(). */
    struct ovs_list conns;          /* struct ctdp_conn_ext's 'by_src'. */
};

static struct src_group *
find_group(const struct ctdp_ct *ct, const struct ctdp_tuple *t,
           uint32_t hash)
    OVS_REQUIRES(ct->nat_lock)
{
    struct src_group *g;

    HMAP_FOR_EACH_WITH_HASH (g, node, hash, &ct->nat_by_src) {
        if (same_src(&g->src, t)) {
            return g;
        }
    }
    return NULL;
}

/* Indexes a conn that its confirm just inserted, if it has a source NAT.
 * The caller holds the conn's bucket locks, so that a removal, which
 * takes them first, always finds it indexed. */
void
ctdp_nat_confirmed(struct ctdp_ct *ct, struct ctdp_conn *conn)
{
    if (ctdp_conn_status(conn) & CTDP_S_SRC_NAT) {
        struct ctdp_conn_ext *ext = ctdp_conn_ext(conn);
        uint32_t hash = src_hash(ct, &conn->key);
        struct src_group *g;

        ctdp_spin_lock(&ct->nat_lock);
        g = find_group(ct, &conn->key, hash);
        if (!g) {
            g = xmalloc(sizeof *g);
            g->src = conn->key;
            ovs_list_init(&g->conns);
            hmap_insert(&ct->nat_by_src, &g->node, hash);
        }
        ovs_list_push_back(&g->conns, &ext->by_src);
        ext->by_src_group = g;
        ctdp_spin_unlock(&ct->nat_lock);
    }
}

/* Takes a removed conn out of the index. */
void
ctdp_nat_removed(struct ctdp_ct *ct, struct ctdp_conn *conn)
{
    if (ctdp_conn_status(conn) & CTDP_S_SRC_NAT) {
        struct ctdp_conn_ext *ext = ctdp_conn_ext(conn);
        struct src_group *g = ext->by_src_group;

        ctdp_spin_lock(&ct->nat_lock);
        ovs_list_remove(&ext->by_src);
        if (ovs_list_is_empty(&g->conns)) {
            hmap_remove(&ct->nat_by_src, &g->node);
            free(g);
        }
        ctdp_spin_unlock(&ct->nat_lock);
    }
}

/* The number of sources in the index, for tests. */
size_t
ctdp_nat_n_sources(struct ctdp_ct *ct)
{
    size_t n;

    ctdp_spin_lock(&ct->nat_lock);
    n = hmap_count(&ct->nat_by_src);
    ctdp_spin_unlock(&ct->nat_lock);
    return n;
}

void
ctdp_nat_destroy(struct ctdp_ct *ct)
{
    struct src_group *g;

    HMAP_FOR_EACH_POP (g, node, &ct->nat_by_src) {
        free(g);
    }
    hmap_destroy(&ct->nat_by_src);
}

/* Sets the source of 't' to the mapping that a live conn from the same
 * source has, as the kernel's find_appropriate_src(): a client keeps one
 * public address and port whoever it talks to.  Returns false if there
 * is none. */
static bool
find_src_mapping(struct ctdp_ct *ct, const struct ctdp_conn *conn,
                 struct ctdp_tuple *t, long long now)
{
    struct src_group *g;
    bool found = false;

    ctdp_spin_lock(&ct->nat_lock);
    g = find_group(ct, &conn->key, src_hash(ct, &conn->key));
    if (g) {
        struct ctdp_conn_ext *ext;

        LIST_FOR_EACH (ext, by_src, &g->conns) {
            if (ctdp_conn_is_live(ext->conn, now)) {
                struct ctdp_tuple mapped;

                ctdp_tuple_invert(&ext->reply, &mapped);
                t->src = mapped.src;
                t->sport = mapped.sport;
                found = true;
                break;
            }
        }
    }
    ctdp_spin_unlock(&ct->nat_lock);
    return found;
}

/* Picks the address of the range for 't', as the kernel's
 * find_best_ips_proto(): a hash of the source (and, unless 'persistent',
 * the destination) chooses it, so that a client keeps its address across
 * conns.  IPv6 ranges are walked a 32-bit word at a time as the kernel
 * does. */
static void
pick_addr(const struct ctdp_ct *ct, struct ctdp_tuple *t, bool src,
          const struct ctdp_nat_range *r)
{
    union ctdp_addr *a = src ? &t->src : &t->dst;
    bool persistent = r->flags & CTDP_NAT_PERSISTENT;
    int n_words = t->l3 == CTDP_L3_IPV4 ? 1 : 4;
    uint32_t min[4], max[4], dst[4], out[4];
    bool full = false;
    uint64_t w[5];
    uint32_t j;

    if (!memcmp(&r->min_addr, &r->max_addr, sizeof r->min_addr)) {
        *a = r->min_addr;
        return;
    }
    memcpy(min, &r->min_addr, sizeof min);
    memcpy(max, &r->max_addr, sizeof max);
    memcpy(dst, &t->dst, sizeof dst);
    memcpy(w, &t->src, 16);
    w[2] = persistent ? 0 : dst[n_words - 1] ^ t->zone;
    j = ctdp_siphash_words(w, 3, &ct->id_key);
    for (int i = 0; i < n_words; i++) {
        uint32_t lo = full ? 0 : ntohl(min[i]);
        uint32_t dist = full ? UINT32_MAX : ntohl(max[i]) - lo + 1;

        /* 'dist' 0 is the whole word (min 0, max all ones). */
        out[i] = htonl(lo + (dist ? (uint32_t) (((uint64_t) j * dist) >> 32)
                                  : j));
        full |= out[i] != max[i];
        if (!persistent) {
            j ^= dst[i];
        }
    }
    memcpy(a, out, n_words * 4);
}

/* Varies the port (or ICMP id) of 't' until its reply tuple is free, as
 * the kernel's nf_nat_l4proto_unique_tuple(), within the bounded number
 * of attempts.  Returns false if none was found. */
static bool
pick_port(struct ctdp_ct *ct, const struct ctdp_conn *conn,
          struct ctdp_tuple *t, bool src, const struct ctdp_nat_range *r,
          long long now)
{
    ovs_be16 *port = manip_port(t, src);
    uint32_t min, range_size, off, attempts;

    if (!port) {
        return !tuple_taken(ct, conn, t, now);
    }
    if (r->flags & CTDP_NAT_PORTS) {
        min = r->min_port;
        range_size = r->max_port - min + 1;
    } else if (is_icmp(t)) {
        min = 0;
        range_size = 65536;
    } else if (!src) {
        /* A destination port is changed only to a given range. */
        return !tuple_taken(ct, conn, t, now);
    } else if (ntohs(*port) < 1024) {
        /* Keep privileged ports privileged, and below 512 if they were,
         * as the kernel does. */
        min = ntohs(*port) < 512 ? 1 : 600;
        range_size = ntohs(*port) < 512 ? 511 : 1023 - 600 + 1;
    } else {
        min = 1024;
        range_size = 65535 - 1024 + 1;
    }

    if (r->flags & CTDP_NAT_HASH) {
        uint64_t w[5];

        memcpy(w, &conn->key, sizeof w);
        off = ctdp_siphash_words(w, 5, &ct->id_key);
    } else if (r->flags & CTDP_NAT_RANDOM || src) {
        off = random_uint32();
    } else {
        off = 0;
    }
    attempts = MIN(range_size, NAT_MAX_ATTEMPTS);
    for (;;) {
        for (uint32_t i = 0; i < attempts; i++, off++) {
            *port = htons(min + off % range_size);
            if (!tuple_taken(ct, conn, t, now)) {
                return true;
            }
        }
        if (attempts >= range_size || attempts < 16) {
            return false;
        }
        attempts /= 2;
        off = random_uint32();
    }
}

/* Chooses the tuple 't' (the conn's original-direction tuple as it will
 * look after this binding) for a binding of kind 'src' from range 'r', as
 * the kernel's get_unique_tuple().  Returns false if the range has no
 * free tuple. */
static bool
choose_tuple(struct ctdp_ct *ct, const struct ctdp_conn *conn,
             struct ctdp_tuple *t, bool src, const struct ctdp_nat_range *r,
             long long now)
{
    static const union ctdp_addr zero;
    /* No address, or the all-zero one (Open vSwitch's nat(src=0.0.0.0)),
     * maps no address: only the port, if a range gives one. */
    bool map_addr = (r->l3 == t->l3
                     && memcmp(&r->max_addr, &zero, sizeof zero));
    bool random = r->flags & CTDP_NAT_RANDOM;

    /* A source that is already in the range stays as it is if it is
     * free: SNAT changes as little as it can.  Otherwise a source that
     * has a mapping in the range keeps it, if free. */
    if (src && !random) {
        struct ctdp_tuple mapped = *t;

        if ((!map_addr || addr_in_range(&t->src, r))
            && port_in_range(t, src, r)) {
            if (!tuple_taken(ct, conn, t, now)) {
                return true;
            }
        } else if (find_src_mapping(ct, conn, &mapped, now)
                   && (!map_addr || addr_in_range(&mapped.src, r))
                   && port_in_range(&mapped, src, r)
                   && !tuple_taken(ct, conn, &mapped, now)) {
            *t = mapped;
            return true;
        }
    }
    if (map_addr) {
        pick_addr(ct, t, src, r);
    }
    if (!random) {
        if (r->flags & CTDP_NAT_PORTS) {
            if (port_in_range(t, src, r)
                && (r->min_port == r->max_port
                    || !tuple_taken(ct, conn, t, now))) {
                return true;
            }
        } else if (!tuple_taken(ct, conn, t, now)) {
            return true;
        }
    }
    return pick_port(ct, conn, t, src, r, now);
}

/* Sets up a binding of the kind range 'r' names (CTDP_NAT_SRC or
 * CTDP_NAT_DST; neither: a null binding of both kinds) on the unconfirmed
 * conn '*connp', unless one of that kind is set up already.  May move the
 * conn (see ctdp_conn_set_nat_reply()).  Returns 0, or ENOSPC if a
 * source NAT's range has no free tuple: the caller drops the packet and
 * counts it. */
int
ctdp_nat_bind(struct ctdp_ct *ct, struct ctdp_conn **connp,
              const struct ctdp_nat_range *r, long long now)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct ctdp_conn *conn = *connp;
    bool src = r->flags & CTDP_NAT_SRC;
    uint16_t done = src ? CTDP_S_SRC_NAT_DONE : CTDP_S_DST_NAT_DONE;
    struct ctdp_tuple reply, cur, t;

    if (!(r->flags & (CTDP_NAT_SRC | CTDP_NAT_DST))) {
        ctdp_conn_set_status(conn, CTDP_S_SRC_NAT_DONE | CTDP_S_DST_NAT_DONE);
        return 0;
    }
    if (ctdp_conn_status(conn) & done) {
        return 0;
    }
    /* Start from the tuple as an earlier binding of the other kind left
     * it. */
    ctdp_conn_reply_tuple(conn, &reply);
    ctdp_tuple_invert(&reply, &cur);
    t = cur;
    /* A destination NAT that found no free tuple keeps the last one it
     * tried, as the kernel does: its confirm then finds the reply tuple
     * taken and moves the source port instead (ctdp_nat_rebind_source()).
     * A source NAT has nothing left to move. */
    if (!choose_tuple(ct, conn, &t, src, r, now) && src) {
        VLOG_WARN_RL(&rl, "%s NAT: no free tuple in the range for a new "
                     "conn in zone %"PRIu16"; packet dropped",
                     src ? "source" : "destination", conn->key.zone);
        return ENOSPC;
    }
    ctdp_conn_set_status(conn, done | (src ? CTDP_S_SRC_RANGE : 0));
    if (!ctdp_tuple_equal(&t, &cur)) {
        ctdp_tuple_invert(&t, &reply);
        *connp = ctdp_conn_set_nat_reply(conn, &reply,
                                         src ? CTDP_S_SRC_NAT
                                             : CTDP_S_DST_NAT);
    }
    return 0;
}

/* Moves the unconfirmed conn '*connp', whose reply tuple another conn
 * has, to another source port (or ICMP id), as the kernel's null binding
 * does when it finds the tuple taken: so two conns never share a reply
 * tuple.  Returns 0 or ENOSPC. */
int
ctdp_nat_rebind_source(struct ctdp_ct *ct, struct ctdp_conn **connp,
                       long long now)
{
    static const struct ctdp_nat_range null_src = {
        .flags = CTDP_NAT_SRC,
    };
    struct ctdp_conn *conn = *connp;
    struct ctdp_tuple reply, t;

    ctdp_conn_reply_tuple(conn, &reply);
    ctdp_tuple_invert(&reply, &t);
    if (!pick_port(ct, conn, &t, true, &null_src, now)) {
        return ENOSPC;
    }
    ctdp_tuple_invert(&t, &reply);
    *connp = ctdp_conn_set_nat_reply(conn, &reply, CTDP_S_SRC_NAT);
    ctdp_conn_set_status(*connp, CTDP_S_SRC_NAT_DONE | CTDP_S_REBOUND);
    return 0;
}

/* ---- Rewriting packets ------------------------------------------------- */

/* One IP packet's headers to rewrite: 'l3' the IP header, 'l4' the L4
 * header with 'l4_size' bytes present (NULL for a later fragment), and
 * the L4 checksum if present. */
struct headers {
    uint8_t *l3;
    uint8_t *l4;
    size_t l4_size;
    uint8_t l3_kind;                /* enum ctdp_l3. */
    uint8_t proto;
};

/* The L4 checksum field in 'h', or NULL if absent or not covering a
 * pseudo-header ('pseudo') or zero for UDP ("no checksum", which stays
 * so). */
static ovs_be16 *
l4_csum(const struct headers *h, bool pseudo)
{
    size_t ofs;

    if (!h->l4) {
        return NULL;
    }
    switch (h->proto) {
    case IPPROTO_TCP:
        ofs = 16;
        break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
        ofs = 6;
        break;
    case IPPROTO_ICMP:
        if (pseudo) {
            return NULL;
        }
        ofs = 2;
        break;
    case IPPROTO_ICMPV6:
        ofs = 2;
        break;
    default:
        return NULL;
    }
    if (h->l4_size < ofs + 2) {
        return NULL;
    }
    ovs_be16 *csum = (ovs_be16 *) (h->l4 + ofs);
    if (h->proto == IPPROTO_UDP && !*csum) {
        return NULL;
    }
    return csum;
}

static void
fix_udp_zero(const struct headers *h, ovs_be16 *csum)
{
    /* A computed 0 is sent as all ones: 0 means "no checksum". */
    if (csum && h->proto == IPPROTO_UDP && !*csum) {
        *csum = htons(0xffff);
    }
}

static void
set_addr(const struct headers *h, bool src, const union ctdp_addr *new)
{
    ovs_be16 *csum = l4_csum(h, true);

    if (h->l3_kind == CTDP_L3_IPV4) {
        struct ip_header *ip = (struct ip_header *) h->l3;
        ovs_16aligned_be32 *field = src ? &ip->ip_src : &ip->ip_dst;
        ovs_be32 old = get_16aligned_be32(field);

        if (old == new->ip4) {
            return;
        }
        ip->ip_csum = recalc_csum32(ip->ip_csum, old, new->ip4);
        if (csum) {
            *csum = recalc_csum32(*csum, old, new->ip4);
            fix_udp_zero(h, csum);
        }
        put_16aligned_be32(field, new->ip4);
    } else {
        struct ovs_16aligned_ip6_hdr *ip6 = (void *) h->l3;
        union ovs_16aligned_in6_addr *field = src ? &ip6->ip6_src
                                                  : &ip6->ip6_dst;

        if (!memcmp(field, &new->ip6, 16)) {
            return;
        }
        if (csum) {
            *csum = recalc_csum128(*csum, field->be32,
                                   (void *) &new->ip6);
            fix_udp_zero(h, csum);
        }
        memcpy(field, &new->ip6, 16);
    }
}

/* Sets the 16-bit identifier at 'ofs' of the L4 header (a port, an ICMP
 * id) to 'new'. */
static void
set_l4_u16(const struct headers *h, size_t ofs, ovs_be16 new)
{
    ovs_be16 *field, *csum = l4_csum(h, false);

    if (!h->l4 || h->l4_size < ofs + 2) {
        return;
    }
    field = (ovs_be16 *) (h->l4 + ofs);
    if (*field == new) {
        return;
    }
    if (csum) {
        *csum = recalc_csum16(*csum, *field, new);
        fix_udp_zero(h, csum);
    }
    *field = new;
}

/* Rewrites the packet 'h' from tuple 'old' to tuple 'new'. */
static void
rewrite(const struct headers *h, const struct ctdp_tuple *old,
        const struct ctdp_tuple *new)
{
    if (memcmp(&old->src, &new->src, sizeof old->src)) {
        set_addr(h, true, &new->src);
    }
    if (memcmp(&old->dst, &new->dst, sizeof old->dst)) {
        set_addr(h, false, &new->dst);
    }
    if (is_icmp(new)) {
        set_l4_u16(h, 4, new->sport);
    } else if (ctdp_tuple_has_ports(new->nw_proto)) {
        set_l4_u16(h, 0, new->sport);
        set_l4_u16(h, 2, new->dport);
    }
    if (h->proto == IPPROTO_SCTP && h->l4_size >= 12) {
        /* SCTP's CRC32c covers no pseudo-header: recomputed whole, as the
         * kernel's sctp_manip_pkt() does (for a quote, only if it holds
         * the whole header). */
        ovs_be32 sum = ctdp_sctp_csum(h->l4, h->l4_size);

        memcpy(h->l4 + 8, &sum, sizeof sum);
    }
}

/* Recomputes an ICMP or ICMPv6 error's checksum, after its quote
 * changed, as the kernel does for errors. */
static void
icmp_error_csum(const struct headers *h)
{
    ovs_be16 zero = 0, c;

    memcpy(h->l4 + 2, &zero, 2);
    c = (h->l3_kind == CTDP_L3_IPV6
         ? ctdp_csum_l4(h->l3, true, IPPROTO_ICMPV6, h->l4, h->l4_size)
         : ctdp_csum(h->l4, h->l4_size));
    memcpy(h->l4 + 2, &c, 2);
}

/* The ct_state bits a packet in direction 'dir' of 'conn' gets from its
 * translation: a source NAT conn's replies have their destination
 * translated, and the other way round. */
static uint8_t
nat_state(uint16_t status, enum ctdp_ct_dir dir)
{
    bool s = status & CTDP_S_SRC_NAT, d = status & CTDP_S_DST_NAT;

    if (dir == CTDP_DIR_REPLY) {
        bool tmp = s;

        s = d;
        d = tmp;
    }
    return (s ? CS_SRC_NAT : 0) | (d ? CS_DST_NAT : 0);
}

/* For a packet in direction 'dir' of 'conn': the tuple it carries
 * ('here', the conn's tuple of 'dir'), the other direction's ('there'),
 * and the tuple it leaves with ('target', the inverse of 'there'). */
static void
translation(const struct ctdp_conn *conn, enum ctdp_ct_dir dir,
            struct ctdp_tuple *here, struct ctdp_tuple *there,
            struct ctdp_tuple *target)
{
    ctdp_conn_tuple(conn, dir, here);
    ctdp_conn_tuple(conn, !dir, there);
    ctdp_tuple_invert(there, target);
}

static struct headers
headers_of(const void *l3, const void *l4, size_t l4_size,
           const struct ctdp_tuple *t)
{
    return (struct headers) {
        .l3 = CONST_CAST(void *, l3), .l4 = CONST_CAST(void *, l4),
        .l4_size = l4_size, .l3_kind = t->l3, .proto = t->nw_proto,
    };
}

/* Translates the packet whose headers 'parsed' describes, as a packet in
 * direction 'dir' of 'conn' ('related': an ICMP error quoting one).
 * Returns the ct_state bits the translation gives it (CS_SRC_NAT,
 * CS_DST_NAT), 0 if the conn has no binding that changes anything. */
uint8_t
ctdp_nat_packet(const struct ctdp_conn *conn, enum ctdp_ct_dir dir,
                bool related, const struct ctdp_parsed *parsed)
{
    uint16_t status = ctdp_conn_status(conn);
    struct headers h = headers_of(parsed->l3, parsed->l4, parsed->l4_size,
                                  &parsed->key);
    struct ctdp_tuple here, there, target;
    uint8_t bits;

    if (!(status & CTDP_S_NAT)) {
        return 0;
    }
    translation(conn, dir, &here, &there, &target);
    bits = nat_state(status, dir);
    if (!related) {
        rewrite(&h, &here, &target);
    } else {
        struct headers quote = headers_of(parsed->inner_l3, parsed->inner_l4,
                                          parsed->inner_l4_size,
                                          &parsed->inner);

        /* The quote went the other way, translated: back to 'there'.  The
         * outer header is translated as a packet of this direction would
         * be, and the checksum covers the quote. */
        rewrite(&quote, &parsed->inner, &there);
        if (bits & CS_SRC_NAT) {
            set_addr(&h, true, &target.src);
        }
        if (bits & CS_DST_NAT) {
            set_addr(&h, false, &target.dst);
        }
        icmp_error_csum(&h);
    }
    return bits;
}

/* ---- NAT helpers ------------------------------------------------------- */

/* Replaces the 'len' bytes at 'ofs' of the TCP payload of 'pkt' (whose
 * headers 'parsed' describes, before the change) by 'text', as the
 * kernel's nf_nat_mangle_tcp_packet(): the IP length and checksums follow,
 * Ethernet padding goes.  'parsed' no longer describes the packet after.
 * Returns false if the payload would exceed 65535 bytes. */
bool
ctdp_nat_mangle_tcp(struct dp_packet *pkt, const struct ctdp_parsed *parsed,
                    size_t ofs, size_t len, const char *text, size_t text_len)
{
    const uint8_t *base = dp_packet_data(pkt);
    size_t l3_ofs = (const uint8_t *) parsed->l3 - base;
    size_t l4_ofs = (const uint8_t *) parsed->l4 - base;
    size_t doff = (((const uint8_t *) parsed->l4)[12] >> 4) * 4;
    size_t at = l4_ofs + doff + ofs;
    size_t end = l4_ofs + parsed->l4_size;      /* End of the IP packet. */
    size_t new_l3_size = parsed->l3_size - len + text_len;
    size_t tail = end - (at + len);
    uint8_t *data, *l3, *l4;
    ovs_be16 zero = 0, c;
    size_t l4_size;

    if (new_l3_size > UINT16_MAX) {
        return false;
    }
    dp_packet_set_size(pkt, end);               /* No padding. */
    if (text_len > len) {
        dp_packet_put_uninit(pkt, text_len - len);
    }
    data = dp_packet_data(pkt);
    memmove(data + at + text_len, data + at + len, tail);
    memcpy(data + at, text, text_len);
    dp_packet_set_size(pkt, end - len + text_len);

    l3 = data + l3_ofs;
    l4 = data + l4_ofs;
    l4_size = parsed->l4_size - len + text_len;
    if (parsed->key.l3 == CTDP_L3_IPV4) {
        struct ip_header *ip = (struct ip_header *) l3;

        ip->ip_tot_len = htons(new_l3_size);
        ip->ip_csum = 0;
        ip->ip_csum = ctdp_csum(ip, IP_IHL(ip->ip_ihl_ver) * 4);
    } else {
        struct ovs_16aligned_ip6_hdr *ip6 = (void *) l3;

        ip6->ip6_ctlun.ip6_un1.ip6_un1_plen = htons(l4_ofs - l3_ofs
                                                    - IPV6_HEADER_LEN
                                                    + l4_size);
    }
    memcpy(l4 + 16, &zero, 2);
    c = ctdp_csum_l4(l3, parsed->key.l3 == CTDP_L3_IPV6, IPPROTO_TCP, l4,
                     l4_size);
    memcpy(l4 + 16, &c, 2);
    return true;
}

/* Gives 'conn', unconfirmed and EXPECTED by a NAT helper, the binding
 * that expectation asked for (the kernel's nf_nat_follow_master()): its
 * source and destination as its master's, the destination port the one
 * the payload named before NAT changed it.  May move the conn.  Returns 0
 * or ENOSPC, as ctdp_nat_bind(). */
int
ctdp_nat_follow_master(struct ctdp_ct *ct, struct ctdp_conn **connp,
                       const struct ctdp_expect_nat *nat, long long now)
{
    struct ctdp_nat_range src = {
        .flags = CTDP_NAT_SRC, .l3 = (*connp)->key.l3,
        .min_addr = nat->src, .max_addr = nat->src,
    };
    struct ctdp_nat_range dst = {
        .flags = CTDP_NAT_DST | CTDP_NAT_PORTS, .l3 = (*connp)->key.l3,
        .min_addr = nat->dst, .max_addr = nat->dst,
        .min_port = ntohs(nat->dport), .max_port = ntohs(nat->dport),
    };

    return (ctdp_nat_bind(ct, connp, &src, now)
            || ctdp_nat_bind(ct, connp, &dst, now));
}
