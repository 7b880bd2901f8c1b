/* The ct() action: the kernel's nf_conntrack_in() and confirm, on a batch.
 *
 * For each packet, as the kernel does it:
 *   1. read the tuple (ctdp-tuple.c); a packet that cannot be tracked is
 *      INVALID, counted by why;
 *   2. an ICMP error is RELATED if the packet it quotes belongs to a conn;
 *   3. otherwise look the tuple up in both directions; on a miss, make an
 *      unconfirmed conn if the protocol lets this packet start one;
 *   4. the protocol tracker advances the conn's state and timeout;
 *   5. the packet's ct_state follows from the direction and the conn's
 *      status (NEW until a reply, then ESTABLISHED; REPLY_DIR for replies);
 *   6. with commit, confirm: insert both directions unless an entry was
 *      confirmed meanwhile (then merge with it if the protocol allows, else
 *      drop), subject to the table and zone limits.
 *
 * The batch goes through in passes, so that its packets' misses overlap:
 * the first reads every packet's tuple and, after each eight that look
 * up, hashes those eight and prefetches their buckets, back to back; the
 * second reads each bucket's tags for the conn that may match (the hint)
 * and prefetches it, then hashes a new conn's reply tuple and prefetches
 * its bucket; the third looks for the hints that were not in their home
 * buckets in the overflow buckets, and prefetches the overflow buckets a
 * confirm walks; the last tracks the packets, one by one, in order.
 *
 * On the reference machine a prefetch that misses the TLB holds up the
 * instructions after it until its page walk ends, so walks overlap only
 * when their prefetches are issued close together: spread between
 * packets' whole work, four apart, lookups among 1M conns ran at
 * 0.61-0.65 of the rate.  Eight buckets at once, with the reading of the
 * next packets filling their wait, and each hint as its bucket is read,
 * they run faster than a batch's buckets, then its hints, back to back,
 * with nothing to fill the wait for the first of each
 * (docs/BENCHMARKS.md).
 *
 * A burst of one flow is read and checked packet by packet, but hashed,
 * prefetched for and looked up once: the passes between the first and the
 * last go over the packets that look up or confirm.  And when a packet
 * changed nothing in its conn (a UDP stream's packet, say), the next one
 * of its tuple would not either, so it takes the same outcome without the
 * conn's lock (repeat_packet()). */
#include <config.h>
#include "ctdp-ct-private.h"

#include <errno.h>
#include <string.h>
#include "ctdp-random.h"
#include "dp-packet.h"
#include "packets.h"
#include "random.h"
#include "util.h"

/* Buckets early drop searches from the new conn's, as the kernel's
 * NF_CT_EVICTION_RANGE. */
#define CTDP_EVICTION_RANGE 8

enum work_kind {
    W_SKIP,                     /* Done in the first pass (invalid). */
    W_CACHED,                   /* Already tracked in this zone. */
    W_TRACK,                    /* Look up and track. */
    W_RELATED,                  /* An ICMP error: look up what it quotes. */
};

/* The bits of struct exec's 'inserted': about one in sixteen packets of
 * a batch of new conns finds the bit of its hash set by one before it. */
#define INSERTED_BITS 256

/* One ctdp_ct_execute() call: what every pass of the packet path needs.
 * Statistics are counted here and added to the tracker's once per batch,
 * sparing an atomic add per packet. */
struct exec {
    struct ctdp_ct *ct;
    const struct ctdp_ct_action *a;
    long long now;
    bool acct;                  /* nf_conntrack_acct, read once a call. */
    bool commit_marks;          /* The action commits a mark or label. */
    uint32_t stats[CTDP_N_STATS];
    /* Conns the call may still confirm that ct->n_conns already counts
     * (reserve_conn()), and the count as the call last saw it, with its
     * own conns since: what the table's growth goes by (reading the
     * shared count again would cost another transfer of its line). */
    uint32_t conn_credit;
    uint32_t n_conns;
    struct ctdp_zone_pending zone_pending;  /* The confirms' zone work. */
    /* The conn whose last packet, in direction 'steady_dir', changed
     * nothing in it (a repeatable protocol): the next packet of the same
     * tuple has that packet's outcome (repeat_packet()).  NULL if none. */
    struct ctdp_conn *steady;
    enum ctdp_ct_dir steady_dir;
    /* What the repeats counted for 'steady', added to it once, under its
     * lock, when the run ends (exec_settle()). */
    uint32_t acct_packets;
    uint64_t acct_bytes;
    /* The protocol trackers' settings for the action's zone, the zone of
     * every conn this call tracks, read once, at the first packet that
     * needs them (exec_l4_ctx()); the per-packet fields are set for each
     * packet. */
    struct ctdp_l4_ctx l4ctx;
    bool has_l4ctx;
    /* The timeout of slot 'steady_slot' in the action's zone, in ms, kept
     * for the steady packets of the call (track_steady()); CTDP_TM_N:
     * none yet. */
    enum ctdp_timeout_slot steady_slot;
    long long steady_ms;
    char why[CTDP_WHY_SIZE];    /* 'l4ctx.why', when one is wanted. */
    /* Bit 'hash % INSERTED_BITS' set for each hash this call inserted an
     * entry under: whether a packet's 'absent' still holds. */
    uint64_t inserted[INSERTED_BITS / 64];
};

#define COUNT(X, NAME) ((X)->stats[CTDP_STAT_##NAME]++)

static bool
inserted(const struct exec *x, uint32_t hash)
{
    uint32_t bit = hash % INSERTED_BITS;

    return x->inserted[bit / 64] & (UINT64_C(1) << (bit % 64));
}

static void
note_inserted(struct exec *x, uint32_t hash)
{
    uint32_t bit = hash % INSERTED_BITS;

    x->inserted[bit / 64] |= UINT64_C(1) << (bit % 64);
}

/* ctdp_ct_execute() lists packets by their index in a byte. */
BUILD_ASSERT_DECL(NETDEV_MAX_BURST <= UINT8_MAX + 1);
/* A call confirms at most one conn a packet: its zone pushes fit. */
BUILD_ASSERT_DECL(NETDEV_MAX_BURST
                  <= ARRAY_SIZE(((struct ctdp_zone_pending *) 0)->conns));

/* One packet's work between the passes. */
struct work {
    enum work_kind kind;
    struct ctdp_parsed parsed;
    /* The lookup key and its inverse ('l3' 0: none), pointing where they
     * already are rather than copied: the key at 'parsed.key' (which
     * ctdp-tuple.c writes in whole words, read back at once here), its
     * inverse at 'inv_buf'; for W_RELATED, at 'quoted' and
     * 'parsed.inner'.  A W_TRACK packet's inverse is made when first
     * needed (work_inv()): NULL until then.  A packet that finds its conn
     * in the original direction, or repeats the packet before, never
     * needs it.  W_CACHED: 'inv' is its conn's reply tuple, at 'inv_buf',
     * if 'has_inv_hash'. */
    const struct ctdp_tuple *key, *inv;
    struct ctdp_tuple inv_buf;
    struct ctdp_tuple quoted;   /* W_RELATED: the quoted tuple inverted
                                 * ('l3' 0: it has no inverse). */
    const struct ctdp_l4proto *l4;  /* The protocol of 'key': found with
                                     * the hash if 'looks_up', else when
                                     * first needed (work_l4()), which a
                                     * repeat never is; NULL until then. */
    uint32_t hash;              /* Of 'key'; W_CACHED: of its conn's original
                                 * tuple, if 'has_conn_hash'. */
    uint32_t inv_hash;          /* Of 'inv' (W_CACHED: of the conn's reply
                                 * tuple), if 'has_inv_hash'. */
    bool has_inv_hash;
    bool has_conn_hash;
    bool dup;                   /* Same tuple as the packet before. */
    bool looks_up;              /* Looks up the chain of 'hash': a W_TRACK
                                 * packet that is not a 'dup', or a
                                 * W_RELATED one whose quoted tuple has an
                                 * inverse. */
    /* The first conn whose tag matched in the second pass, if any, and
     * the direction of its entry (of a repeat's: the direction the packet
     * before found): a hint, checked in full before use. */
    struct ctdp_conn *hint;
    int hint_dir;
    /* The second pass found no entry of the hash's tag in its chain: the
     * table holds no conn of 'key', unless this call inserted one there
     * since (struct exec's 'inserted'), or another thread did, which is
     * the same as its doing it a little later. */
    bool absent;
};

/* The protocol of 'w''s key, found now if not yet. */
static inline const struct ctdp_l4proto *
work_l4(struct work *w)
{
    if (!w->l4) {
        w->l4 = ctdp_l4proto_find(w->key);
    }
    return w->l4;
}

/* 't' inverted, in 'buf', with 'l3' 0 if it has no inverse. */
static const struct ctdp_tuple *
inverse_of(const struct ctdp_tuple *t, struct ctdp_tuple *buf)
{
    if (!ctdp_tuple_invert(t, buf)) {
        buf->l3 = 0;
    }
    return buf;
}

/* The inverse of 'w''s key, made now if not yet. */
static const struct ctdp_tuple *
work_inv(struct work *w)
{
    if (!w->inv) {
        w->inv = inverse_of(w->key, &w->inv_buf);
    }
    return w->inv;
}

static struct ctdp_stat_shard *
stat_shard(struct ctdp_ct *ct)
{
    return &ct->stats[ovsthread_id_self() % CTDP_STAT_SHARDS];
}

void
ctdp_stat_inc(struct ctdp_ct *ct, enum ctdp_stat stat)
{
    uint64_t old;

    atomic_add_relaxed(&stat_shard(ct)->n[stat], 1, &old);
}

/* Ends a call: what it counted and confirmed reaches the shared counts
 * and the zone lists. */
static void
exec_end(struct exec *x)
{
    struct ctdp_stat_shard *shard = stat_shard(x->ct);
    uint32_t old;

    if (x->conn_credit) {
        atomic_sub_relaxed(&x->ct->n_conns, x->conn_credit, &old);
    }
    ctdp_zone_settle(&x->zone_pending);

    for (size_t i = 0; i < CTDP_N_STATS; i++) {
        if (x->stats[i]) {
            uint64_t sum;

            atomic_add_relaxed(&shard->n[i], x->stats[i], &sum);
        }
    }
}

void
ctdp_ct_get_stats(const struct ctdp_ct *ct, struct ctdp_ct_stats *stats)
{
    uint64_t sum[CTDP_N_STATS] = { 0 };

    for (size_t s = 0; s < CTDP_STAT_SHARDS; s++) {
        for (size_t i = 0; i < CTDP_N_STATS; i++) {
            uint64_t v;

            atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)
                                ->stats[s].n[i], &v);
            sum[i] += v;
        }
    }
#define CTDP_STAT(NAME, HELP) stats->NAME = sum[CTDP_STAT_##NAME];
    CTDP_STATS
#undef CTDP_STAT
}

/* ---- Packet metadata --------------------------------------------------- */

/* The conn a packet carries.  OVS's pkt_metadata has a 'struct conn *'
 * slot for its own tracker; ctdp keeps its conn there, cast. */
static struct ctdp_conn *
md_conn(const struct dp_packet *pkt)
{
    return (struct ctdp_conn *) pkt->md.conn;
}

static void
md_set_tuple(struct pkt_metadata *md, const struct ctdp_tuple *t)
{
    bool icmp = t->nw_proto == IPPROTO_ICMP || t->nw_proto == IPPROTO_ICMPV6;
    ovs_be16 sport = icmp ? htons(t->icmp.type) : t->sport;
    ovs_be16 dport = icmp ? htons(t->icmp.code) : t->dport;

    md->ct_orig_tuple_ipv6 = t->l3 == CTDP_L3_IPV6;
    if (md->ct_orig_tuple_ipv6) {
        md->ct_orig_tuple.ipv6 = (struct ovs_key_ct_tuple_ipv6) {
            .ipv6_src = t->src.ip6, .ipv6_dst = t->dst.ip6,
            .src_port = sport, .dst_port = dport,
            .ipv6_proto = t->nw_proto,
        };
    } else {
        md->ct_orig_tuple.ipv4 = (struct ovs_key_ct_tuple_ipv4) {
            .ipv4_src = t->src.ip4, .ipv4_dst = t->dst.ip4,
            .src_port = sport, .dst_port = dport,
            .ipv4_proto = t->nw_proto,
        };
    }
}

/* Records in 'pkt''s metadata that it belongs to 'conn' with 'state'.
 * The conn's mark and label are the caller's to copy, under the conn's
 * lock (md_set_marks()): a label is two words, and another thread may be
 * committing a new one.  Inline for the steady packet (track_steady()),
 * a call (md_set_conn()) for the others. */
static inline void ALWAYS_INLINE
md_set_conn__(struct dp_packet *pkt, struct ctdp_conn *conn,
              enum ctdp_ct_dir dir, uint8_t state)
{
    struct pkt_metadata *md = &pkt->md;

    md->ct_state = state;
    md->ct_zone = conn->key.zone;
    md_set_tuple(md, &conn->key);
    md->conn = (struct conn *) conn;
    md->reply = dir == CTDP_DIR_REPLY;
    md->icmp_related = (state & CS_RELATED) != 0;
}

static void __attribute__((noinline))
md_set_conn(struct dp_packet *pkt, struct ctdp_conn *conn,
            enum ctdp_ct_dir dir, uint8_t state)
{
    md_set_conn__(pkt, conn, dir, state);
}

/* md_set_conn() for 'md', whose packet has the same conn and direction as
 * the packet of 'prev' (a repeat), with 'state': copies what the two
 * share, the conn's mark and label with them, as 'prev''s packet saw
 * them. */
static void
md_copy_conn(struct pkt_metadata *md, const struct pkt_metadata *prev,
             uint8_t state)
{
    md->ct_state = state;
    md->ct_zone = prev->ct_zone;
    md->ct_orig_tuple_ipv6 = prev->ct_orig_tuple_ipv6;
    md->ct_orig_tuple = prev->ct_orig_tuple;
    md->conn = prev->conn;
    md->reply = prev->reply;
    md->icmp_related = (state & CS_RELATED) != 0;
    md->ct_mark = prev->ct_mark;
    md->ct_label = prev->ct_label;
}

static void
md_set_invalid(struct dp_packet *pkt, uint16_t zone)
{
    struct pkt_metadata *md = &pkt->md;

    md->ct_state = CS_TRACKED | CS_INVALID;
    md->ct_zone = zone;
    md->ct_mark = 0;
    md->ct_label = OVS_U128_ZERO;
    md->ct_orig_tuple_ipv6 = false;
    memset(&md->ct_orig_tuple, 0, sizeof md->ct_orig_tuple);
    md->conn = NULL;
    md->reply = false;
    md->icmp_related = false;
}

/* Copies 'conn''s mark and label into 'md'.  The caller holds the conn's
 * lock, or owns the unconfirmed conn. */
static void
md_set_marks(struct pkt_metadata *md, const struct ctdp_conn *conn)
{
    if (ctdp_conn_status(conn) & CTDP_S_MARKED) {
        md->ct_mark = conn->mark;
        md->ct_label = conn->label;
    } else {
        md->ct_mark = 0;
        md->ct_label = OVS_U128_ZERO;
    }
}

static void
md_set_marks_locked(struct pkt_metadata *md, struct ctdp_conn *conn)
{
    ctdp_conn_lock(conn);
    md_set_marks(md, conn);
    ctdp_conn_unlock(conn);
}

/* Frees the unconfirmed conn 'pkt' carries, if any, and forgets it. */
void
ctdp_ct_packet_done(struct ctdp_ct *ct OVS_UNUSED, struct dp_packet *pkt)
{
    struct ctdp_conn *conn = md_conn(pkt);

    if (conn && !(ctdp_conn_status(conn) & CTDP_S_CONFIRMED)) {
        ctdp_conn_free(conn);
    }
    pkt->md.conn = NULL;
}

/* The ct_clear action. */
void
ctdp_ct_clear(struct ctdp_ct *ct, struct dp_packet *pkt)
{
    ctdp_ct_packet_done(ct, pkt);
    md_set_invalid(pkt, 0);
    pkt->md.ct_state = 0;
}

/* Returns NULL if the tracker can run 'action', else why not (a constant
 * string). */
const char *
ctdp_ct_action_check(const struct ctdp_ct_action *action)
{
    const struct ctdp_nat_range *r = &action->nat_range;

    if (action->force && !action->commit) {
        return "force needs commit";
    }
    if (r->flags && !action->nat) {
        return "a NAT range needs nat";
    }
    if (r->flags & CTDP_NAT_SRC && r->flags & CTDP_NAT_DST) {
        return "nat takes one of src and dst";
    }
    if ((r->flags & CTDP_NAT_PORTS && r->min_port > r->max_port)
        || (r->l3 == CTDP_L3_IPV4
            && ntohl(r->min_addr.ip4) > ntohl(r->max_addr.ip4))
        || (r->l3 == CTDP_L3_IPV6
            && memcmp(&r->min_addr, &r->max_addr, 16) > 0)) {
        return "a NAT range goes from low to high";
    }
    if (action->helper && !ctdp_helper_find(action->helper)) {
        return "alg must be ftp or tftp";
    }
    return NULL;
}

/* ---- Tracking ---------------------------------------------------------- */

static uint8_t
state_of(const struct ctdp_conn *conn, enum ctdp_ct_dir dir)
{
    uint16_t status = ctdp_conn_status(conn);

    if (dir == CTDP_DIR_REPLY) {
        return CS_TRACKED | CS_ESTABLISHED | CS_REPLY_DIR;
    } else if (status & CTDP_S_SEEN_REPLY) {
        return CS_TRACKED | CS_ESTABLISHED;
    } else if (status & CTDP_S_EXPECTED) {
        /* As Open vSwitch: an unconfirmed conn is also new. */
        return (CS_TRACKED | CS_RELATED
                | (status & CTDP_S_CONFIRMED ? 0 : CS_NEW));
    }
    return CS_TRACKED | CS_NEW;
}

/* Reads the protocol trackers' settings into 'x->l4ctx'. */
static void
exec_read_settings(struct exec *x)
{
    struct ctdp_ct *ct = x->ct;
    bool seq_check;

    atomic_read_relaxed(&ct->tcp_seq_check, &seq_check);
    x->l4ctx = (struct ctdp_l4_ctx) {
        .now = x->now,
        .policy = ctdp_zone_policy(ct, x->a->zone),
        .defaults = ovsrcu_get(struct ctdp_timeout_policy *, &ct->timeouts),
        .tcp_loose = ctdp_knob(ct, CTDP_K_TCP_LOOSE),
        .tcp_liberal = ctdp_knob(ct, CTDP_K_TCP_BE_LIBERAL) || !seq_check,
        .tcp_ignore_invalid_rst = ctdp_knob(ct,
                                            CTDP_K_TCP_IGNORE_INVALID_RST),
        .tcp_max_retrans = ctdp_knob(ct, CTDP_K_TCP_MAX_RETRANS),
    };
    x->has_l4ctx = true;
}

/* The protocol trackers' settings for the action's zone, read at the
 * call's first packet that needs them; the per-packet fields are not
 * set. */
static inline struct ctdp_l4_ctx *
exec_settings(struct exec *x)
{
    if (!x->has_l4ctx) {
        exec_read_settings(x);
    }
    return &x->l4ctx;
}

/* The protocol trackers' context for one packet of 'x': the settings and
 * the packet's own fields, with an empty reason if
 * nf_conntrack_log_invalid asks for the packet's. */
static struct ctdp_l4_ctx *
exec_l4_ctx(struct exec *x, const struct ctdp_parsed *parsed,
            enum ctdp_ct_dir dir, bool confirmed)
{
    struct ctdp_l4_ctx *ctx = exec_settings(x);
    struct ctdp_ct *ct = x->ct;

    ctx->parsed = parsed;
    ctx->dir = dir;
    ctx->confirmed = confirmed;
    ctx->why = NULL;
    if (ctdp_log_invalid_wanted(ct, parsed->key.nw_proto)) {
        x->why[0] = '\0';
        ctx->why = x->why;
    }
    return ctx;
}

/* For a packet that the protocol of 'conn' accepted in 'dir': the conn's
 * expiry becomes 'expires', unless its 'status' (read under the lock the
 * caller holds, or on the caller's own conn) fixes it or says the conn is
 * dying (a conn another thread removed since the lookup keeps the expiry
 * that hides it from lookups still standing on it), and the packet is
 * counted. */
static inline void ALWAYS_INLINE
conn_accept(const struct exec *x, struct ctdp_conn *conn, uint16_t status,
            enum ctdp_ct_dir dir, long long expires,
            const struct ctdp_parsed *parsed)
{
    if (!(status & (CTDP_S_FIXED_TIMEOUT | CTDP_S_DYING))) {
        ctdp_conn_set_expires(conn, expires);
    }
    if (x->acct) {
        ctdp_conn_count(conn, dir, 1, parsed->l3_size);
    }
}

/* Runs protocol tracker 'l4' on 'conn', of the action's zone, for one
 * packet and, if it accepts, refreshes the timeout and counts the packet;
 * copies the conn's mark and label into 'md' meanwhile.  Sets '*changedp'
 * if the conn's status or protocol state changed, and then reports UPDATE
 * for a confirmed conn. */
static enum ctdp_verdict
run_l4(struct exec *x, const struct ctdp_l4proto *l4,
       struct ctdp_conn *conn, const struct ctdp_parsed *parsed,
       enum ctdp_ct_dir dir, struct pkt_metadata *md, bool *changedp)
{
    bool confirmed = ctdp_conn_status(conn) & CTDP_S_CONFIRMED;
    struct ctdp_l4_ctx *ctx = exec_l4_ctx(x, parsed, dir, confirmed);
    struct ctdp_ct *ct = x->ct;
    long long now = x->now;
    enum ctdp_verdict verdict;
    uint16_t status_before;
    uint8_t state_before;
    long long timeout;
    bool changed;

    if (confirmed) {
        ctdp_conn_lock(conn);
    }
    status_before = ctdp_conn_status(conn);
    state_before = conn->l4_state;
    verdict = l4->packet(conn, ctx, &timeout);
    if (verdict == CTDP_ACCEPT || verdict == CTDP_ACCEPT_KILL) {
        conn_accept(x, conn, status_before, dir, now + timeout, parsed);
    }
    if (dir == CTDP_DIR_REPLY
        && verdict != CTDP_INVALID && verdict != CTDP_REPEAT) {
        /* As the kernel's nf_conntrack_in(), after any accepted packet. */
        ctdp_conn_set_status(conn, CTDP_S_SEEN_REPLY);
    }
    changed = ctdp_conn_status(conn) != status_before
              || conn->l4_state != state_before;
    md_set_marks(md, conn);
    if (confirmed) {
        ctdp_conn_unlock(conn);
        if (changed && ctdp_events_wanted(ct)) {
            ctdp_event_emit(ct, CTDP_EVENT_UPDATE, conn, now);
        }
    }
    if (ctx->why && ctx->why[0]) {
        ctdp_log_invalid(conn->key.nw_proto, parsed, ctx->why);
    }
    *changedp = changed;
    return verdict;
}

/* For a packet that found confirmed 'conn' of protocol 'l4' in 'dir':
 * if the conn's status makes the packet steady (struct ctdp_l4proto),
 * tracks it as run_l4() and the protocol would, without them: the packet
 * refreshes the expiry and counts, and the conn stays as it was (the
 * next packet of the tuple repeats it).  Returns false if the packet is
 * not steady.  The status bits it checks are never cleared, so they are
 * read before the lock; the lock guards the rest, as in run_l4(). */
static inline bool
track_steady(struct exec *x, struct dp_packet *pkt, const struct work *w,
             const struct ctdp_l4proto *l4, struct ctdp_conn *conn,
             enum ctdp_ct_dir dir)
{
    uint16_t need = (CTDP_S_CONFIRMED | l4->steady_status
                     | (dir == CTDP_DIR_REPLY ? CTDP_S_SEEN_REPLY : 0));

    if (!l4->steady || (ctdp_conn_status(conn) & need) != need) {
        return false;
    }
    if (x->steady_slot != l4->steady_slot) {
        x->steady_slot = l4->steady_slot;
        x->steady_ms = ctdp_timeout_ms(exec_settings(x), x->steady_slot);
    }
    ctdp_conn_lock(conn);
    conn_accept(x, conn, ctdp_conn_status(conn), dir, x->now + x->steady_ms,
                &w->parsed);
    md_set_marks(&pkt->md, conn);
    ctdp_conn_unlock(conn);
    x->steady = conn;
    x->steady_dir = dir;
    md_set_conn__(pkt, conn, dir, state_of(conn, dir));
    return true;
}

/* Logs a packet that could not be read (a bad L4 checksum, or a short or
 * malformed header), as the kernel's protocols' error() hooks do, if
 * nf_conntrack_log_invalid asks for it. */
static void
log_parse_error(const struct ctdp_ct *ct, const struct ctdp_parsed *p,
                bool bad_checksum)
{
    /* The kernel's words, by protocol: a bad checksum, a short header. */
    static const struct {
        uint8_t proto;
        const char *why[2];
    } reasons[] = {
        { IPPROTO_ICMP, { "short packet", "bad hw icmp checksum" } },
        { IPPROTO_ICMPV6, { "short packet", "ICMPv6 checksum failed" } },
        { IPPROTO_SCTP, { "nf_ct_sctp: short packet",
                          "nf_ct_sctp: bad CRC" } },
        { IPPROTO_TCP, { "truncated packet", "bad checksum" } },
        { 0, { "truncated/malformed packet", "bad checksum" } },
    };
    uint8_t proto = p->key.nw_proto;
    size_t i;

    if (!p->key.l3 || !ctdp_log_invalid_wanted(ct, proto)) {
        return;
    }
    for (i = 0; reasons[i].proto && reasons[i].proto != proto; i++) {
        continue;
    }
    ctdp_log_invalid(proto, p, reasons[i].why[bad_checksum]);
}

/* Evicts one conn near bucket 'hash' to make room, as the kernel's
 * early_drop(): an expired one, or one that is not assured. */
static bool
early_drop(struct ctdp_ct *ct, uint32_t hash, long long now)
{
    for (uint32_t i = 0; i < CTDP_EVICTION_RANGE; i++) {
        struct ctdp_table_cursor c;
        struct ctdp_conn *conn;
        int dir;

        ctdp_table_cursor_init(&c, &ct->table, hash + i, true, false);
        while ((conn = ctdp_table_cursor_next(&c, &dir))) {
            const struct ctdp_l4proto *l4 = ctdp_conn_l4proto(conn);
            uint16_t status = ctdp_conn_status(conn);

            if (!(status & CTDP_S_DYING)
                && (!(status & CTDP_S_ASSURED)
                    || !ctdp_conn_is_live(conn, now)
                    || (l4->can_early_drop && l4->can_early_drop(conn)))
                && ctdp_conn_remove(ct, conn, now)) {
                return true;
            }
        }
    }
    return false;
}

/* A call counts its conns against the table's limit CONN_CREDIT at a
 * time, with one locked add, while the table has room for CONN_ROOM more
 * (CONN_CREDIT for each of 256 threads), and gives back what it did not
 * use when it ends (exec_end()): so the shared count can pass the
 * conns by up to CONN_CREDIT a running call, never the limit.  Nearer the
 * limit, one by one, exactly. */
#define CONN_CREDIT 32
#define CONN_ROOM (CONN_CREDIT * 256)

/* Counts one more conn against the table's limit, making room by early
 * drop if the table is full.  Returns false if there is no room, else
 * true with 'x->n_conns' the count with this one. */
static bool
reserve_conn(struct exec *x, uint32_t hash)
{
    struct ctdp_ct *ct = x->ct;
    uint32_t n, max, take, old;

    if (x->conn_credit) {
        x->conn_credit--;
        x->n_conns++;
        return true;
    }
    atomic_read_relaxed(&ct->max_conns, &max);
    atomic_read_relaxed(&ct->n_conns, &n);
    take = n < max && max - n > CONN_ROOM ? CONN_CREDIT : 1;
    if (OVS_UNLIKELY(ct->test_delay) && take > 1) {
        ct->test_delay(CTDP_TEST_RESERVE);
    }
    atomic_add_relaxed(&ct->n_conns, take, &n);
    if (OVS_UNLIKELY(take > 1 && (uint64_t) n + take > max)) {
        /* Others filled the room meanwhile: count this one alone. */
        atomic_sub_relaxed(&ct->n_conns, take - 1, &old);
        take = 1;
    }
    x->n_conns = n + 1;
    if (n < max) {
        x->conn_credit = take - 1;
        return true;
    }
    if (early_drop(ct, hash, x->now)) {
        COUNT(x, early_drop);
        return true;
    }
    atomic_sub_relaxed(&ct->n_conns, 1, &n);
    return false;
}

/* Uncounts a conn that reserve_conn() and ctdp_zone_reserve() counted and
 * that will not be confirmed. */
static void
unreserve(struct exec *x)
{
    x->conn_credit++;
    x->n_conns--;
    ctdp_zone_cancel(&x->zone_pending);
}

/* Looks in the chain of 'hash' for a live conn that has 'tuple' in some
 * direction ('inv' is 'tuple' inverted) or else, if 'reply' is not NULL,
 * one that has 'reply' ('reply_inv' inverted), whose entries are in the
 * same chain; sets '*reply_side' if it found only the second kind, and
 * '*len' to the entries in the buckets it read.  The caller holds the
 * chain's lock. */
static struct ctdp_conn *
find_clash(const struct ctdp_table *t, uint32_t hash,
           const struct ctdp_tuple *tuple, const struct ctdp_tuple *inv,
           const struct ctdp_tuple *reply, const struct ctdp_tuple *reply_inv,
           long long now, bool *reply_side, uint32_t *len)
{
    struct ctdp_conn *conn, *reply_clash = NULL;
    struct ctdp_table_cursor c;
    int dir;

    ctdp_table_cursor_init(&c, t, hash, false, true);
    while ((conn = ctdp_table_cursor_next(&c, &dir))) {
        if (!ctdp_conn_is_live(conn, now)) {
            continue;
        }
        if (ctdp_conn_match(conn, dir, tuple, inv) >= 0) {
            break;
        }
        if (reply && !reply_clash
            && ctdp_conn_match(conn, dir, reply, reply_inv) >= 0) {
            reply_clash = conn;
        }
    }
    *reply_side = !conn && reply_clash;
    *len = c.len;
    return conn ? conn : reply_clash;
}

static void
drop_conn(struct exec *x, struct ctdp_conn *conn)
{
    COUNT(x, drop);
    ctdp_conn_free(conn);
}

/* Are 'a' and 'b' the same flow, seen from either end? */
static bool
same_flow(const struct ctdp_conn *a, const struct ctdp_conn *b)
{
    struct ctdp_tuple a_reply;

    ctdp_conn_reply_tuple(a, &a_reply);
    return ctdp_tuple_equal(&a->key, &b->key)
           || ctdp_tuple_equal(&a_reply, &b->key);
}

/* Resolves a clash between 'loser', which this packet was about to
 * confirm, and 'winner', confirmed meanwhile, as the kernel's
 * nf_ct_resolve_clash(): when the protocol allows and the two are the same
 * conn seen from either end, the packet joins the winner. */
static struct ctdp_conn *
resolve_clash(struct exec *x, struct ctdp_conn *loser,
              struct ctdp_conn *winner)
{
    struct ctdp_conn *result = NULL;

    unreserve(x);
    if (ctdp_conn_l4proto(loser)->allow_clash && same_flow(winner, loser)) {
        enum ctdp_ct_dir d = ctdp_tuple_equal(&winner->key, &loser->key)
                             ? CTDP_DIR_ORIG : CTDP_DIR_REPLY;
        uint64_t packets, bytes;

        ctdp_conn_counts(loser, CTDP_DIR_ORIG, &packets, &bytes);
        ctdp_conn_lock(winner);
        ctdp_conn_count_add(winner, d, packets, bytes);
        ctdp_conn_unlock(winner);
        COUNT(x, clash_resolve);
        result = winner;
        ctdp_conn_free(loser);
    } else {
        COUNT(x, insert_failed);
        drop_conn(x, loser);
    }
    return result;
}

/* The kernel's bound on the chains a confirm walks (MIN_CHAINLEN,
 * MAX_CHAINLEN): drawn anew for every confirm in [50, 80), so that an
 * attacker cannot learn it, unless the table has a fixed one (tests). */
#define CHAIN_MIN 50
#define CHAIN_SPAN 30

struct chain_bound {
    uint32_t max;               /* The table's fixed bound, or the one
                                 * drawn; 0: none drawn yet. */
};

/* Is a chain of 'len' entries longer than the confirm's bound 'b'?  The
 * bound is drawn only when a chain could pass it: the chains of almost
 * every confirm are far shorter than CHAIN_MIN, and cost no draw. */
static bool
chain_too_long(struct chain_bound *b, uint32_t len)
{
    if (!b->max) {
        if (len <= CHAIN_MIN) {
            return false;
        }
        b->max = CHAIN_MIN + random_range(CHAIN_SPAN);
    }
    return len > b->max;
}

/* Looks for a live conn that has either tuple of unconfirmed 'conn' (its
 * reply tuple 'reply') in either direction, in their chains, the reply
 * tuple's only if the original's chain is within 'bound'; sets
 * '*reply_side' if the clash is on the reply tuple, '*len' as
 * find_clash() for the last chain read.  Unless NAT gave 'conn' its reply
 * tuple, each tuple is the other inverted, and is not inverted again. */
static struct ctdp_conn *
find_clashes(const struct ctdp_table *t, const struct ctdp_conn *conn,
             const struct ctdp_tuple *reply, uint32_t orig_hash,
             uint32_t reply_hash, long long now, struct chain_bound *bound,
             bool *reply_side, uint32_t *len)
{
    const struct ctdp_tuple *orig_inv = reply, *reply_inv = &conn->key;
    struct ctdp_tuple bufs[2];
    struct ctdp_conn *clash;

    if (ctdp_conn_status(conn) & CTDP_S_NAT) {
        orig_inv = inverse_of(&conn->key, &bufs[0]);
        reply_inv = inverse_of(reply, &bufs[1]);
    }
    if (orig_hash == reply_hash) {
        /* One chain holds both: a conn with one entry, or a hash's
         * chance. */
        return find_clash(t, orig_hash, &conn->key, orig_inv, reply,
                          reply_inv, now, reply_side, len);
    }
    clash = find_clash(t, orig_hash, &conn->key, orig_inv, NULL, NULL, now,
                       reply_side, len);
    if (!clash && !chain_too_long(bound, *len)) {
        clash = find_clash(t, reply_hash, reply, reply_inv, NULL, NULL, now,
                           reply_side, len);
        *reply_side = clash != NULL;
    }
    return clash;
}

/* Confirms 'conn', made by this packet and not yet in the table (the
 * kernel's __nf_conntrack_confirm()).  Returns the conn the packet now
 * belongs to ('conn', possibly moved, or the winner of a clash), or NULL
 * if the packet must be dropped; in both of the last cases 'conn' is
 * freed.
 *
 * A conn whose reply tuple another conn has (say, a masqueraded conn from
 * inside and one of the router's own, with the same source port) is not
 * the same flow: unless a source NAT range chose its source, it moves to
 * another source port, once, and tries again, as the kernel's null
 * binding would have.
 *
 * 'inv', if not NULL, is the conn's reply tuple as the packet's work found
 * it (the packet's tuple inverted, or hash_confirm()'s), and '*inv_hash'
 * its hash: they hold unless NAT has given the conn its own since. */
static struct ctdp_conn *
confirm(struct exec *x, struct ctdp_conn *conn, uint32_t orig_hash,
        const struct ctdp_tuple *inv, const uint32_t *inv_hash)
{
    struct ctdp_ct *ct = x->ct;
    long long now = x->now;
    struct ctdp_zone *zone = ctdp_zone_get(ct, conn->key.zone);
    struct ctdp_table *t = &ct->table;
    struct chain_bound bound = { t->max_chain };
    uint32_t reply_hash, len, n_two;
    struct ctdp_conn *clash;
    struct ctdp_tuple reply_buf;

    if (!ctdp_zone_reserve(ct, zone, conn, &x->zone_pending)) {
        COUNT(x, zone_limit_drop);
        drop_conn(x, conn);
        return NULL;
    }
    if (!reserve_conn(x, orig_hash)) {
        ctdp_zone_cancel(&x->zone_pending);
        drop_conn(x, conn);
        return NULL;
    }

    for (bool rebound = false; ; rebound = true) {
        const struct ctdp_tuple *reply = inv;
        bool reply_side;

        if (inv && !(ctdp_conn_status(conn) & CTDP_S_NAT)) {
            reply_hash = *inv_hash;
        } else {
            ctdp_conn_reply_tuple(conn, &reply_buf);
            reply = &reply_buf;
            reply_hash = ctdp_conn_reply_hash(t, conn, orig_hash);
        }
        ctdp_table_lock_pair(t, orig_hash, reply_hash);
        clash = find_clashes(t, conn, reply, orig_hash, reply_hash, now,
                             &bound, &reply_side, &len);
        if (!clash) {
            break;
        }
        ctdp_table_unlock_pair(t, orig_hash, reply_hash);
        if (!reply_side || rebound
            || ctdp_conn_status(conn) & CTDP_S_SRC_RANGE
            || same_flow(clash, conn)
            || ctdp_nat_rebind_source(ct, &conn, now)) {
            return resolve_clash(x, conn, clash);
        }
    }
    if (chain_too_long(&bound, len)) {
        ctdp_table_unlock_pair(t, orig_hash, reply_hash);
        unreserve(x);
        COUNT(x, chaintoolong);
        COUNT(x, insert_failed);
        drop_conn(x, conn);
        return NULL;
    }
    ctdp_conn_set_status(conn, CTDP_S_CONFIRMED);
    ctdp_conn_insert_locked(ct, conn, orig_hash, reply_hash);
    note_inserted(x, orig_hash);
    note_inserted(x, reply_hash);
    ctdp_nat_confirmed(ct, conn);
    ctdp_table_unlock_pair(t, orig_hash, reply_hash);
    if (OVS_UNLIKELY(ct->test_delay)) {
        ct->test_delay(CTDP_TEST_CONFIRMED);
    }

    COUNT(x, insert);
    /* On its zone list when the call ends, unless removed by then. */
    ctdp_zone_push(&x->zone_pending, conn);
    if (ctdp_conn_status(conn) & CTDP_S_EXPECTED) {
        ctdp_expect_consume(ct, &conn->key, now);
    }
    if (ctdp_events_wanted(ct)) {
        ctdp_event_emit(ct, CTDP_EVENT_NEW, conn, now);
    }
    atomic_read_relaxed(&ct->n_two_entries, &n_two);
    ctdp_table_grow_step(t, x->n_conns + n_two);
    return conn;
}

/* Sets CTDP_S_MARKED if 'conn''s mark or label, just written, is
 * nonzero.  The caller holds the conn's lock or owns the conn. */
static void
conn_note_marks(struct ctdp_conn *conn)
{
    if (conn->mark || !ovs_u128_is_zero(conn->label)) {
        ctdp_conn_set_status(conn, CTDP_S_MARKED);
    }
}

/* Applies the action's mark and label to 'conn'; returns true if either
 * changed.  The caller holds the conn's lock or owns the conn. */
static bool
apply_mark_label(struct ctdp_conn *conn, const struct ctdp_ct_action *a)
{
    uint32_t mark = conn->mark;
    ovs_u128 label = conn->label;

    if (a->set_mark) {
        conn->mark = (conn->mark & ~a->mark_mask) | (a->mark & a->mark_mask);
    }
    if (a->set_label) {
        conn->label.u64.lo = (conn->label.u64.lo & ~a->label_mask.u64.lo)
                             | (a->label.u64.lo & a->label_mask.u64.lo);
        conn->label.u64.hi = (conn->label.u64.hi & ~a->label_mask.u64.hi)
                             | (a->label.u64.hi & a->label_mask.u64.hi);
    }
    conn_note_marks(conn);
    return mark != conn->mark || !ovs_u128_equals(label, conn->label);
}

static void
update_mark_label(struct ctdp_ct *ct, struct ctdp_conn *conn,
                  const struct ctdp_ct_action *a, long long now)
{
    bool changed;

    if (!a->set_mark && !a->set_label) {
        return;
    }
    ctdp_conn_lock(conn);
    changed = apply_mark_label(conn, a);
    ctdp_conn_unlock(conn);
    if (changed && ctdp_events_wanted(ct)) {
        ctdp_event_emit(ct, CTDP_EVENT_UPDATE, conn, now);
    }
}

/* Gives unconfirmed 'conn' the helper that ct(commit,alg=...) names, if
 * it is for the conn's protocol and the conn has none; returns the conn,
 * which may have moved (ctdp_conn_add_ext()). */
static struct ctdp_conn *
attach_helper(struct ctdp_conn *conn, const struct ctdp_ct_action *a)
{
    const struct ctdp_helper *helper = a->helper ? ctdp_helper_find(a->helper)
                                                 : NULL;

    if (helper && helper->nw_proto == conn->key.nw_proto
        && !(ctdp_conn_status(conn) & CTDP_S_EXT
             && ctdp_conn_ext(conn)->helper)) {
        conn = ctdp_conn_add_ext(conn);
        ctdp_conn_ext(conn)->helper = helper;
    }
    return conn;
}

/* The commit part of ct(commit): confirms the packet's conn if needed and
 * applies mark and label ('inv' and 'inv_hash' as for confirm()).  Returns
 * false if the packet must be dropped. */
static bool
commit(struct exec *x, struct dp_packet *pkt, uint32_t orig_hash,
       const struct ctdp_tuple *inv, const uint32_t *inv_hash)
{
    struct ctdp_conn *conn = md_conn(pkt), *result;
    const struct ctdp_ct_action *a = x->a;

    if (!conn) {
        return true;            /* Invalid: nothing to commit. */
    }
    if (ctdp_conn_status(conn) & CTDP_S_CONFIRMED) {
        /* Unless this changes them, the packet has the marks that
         * tracking copied. */
        if (x->commit_marks) {
            update_mark_label(x->ct, conn, a, x->now);
            md_set_marks_locked(&pkt->md, conn);
        }
        return true;
    }
    if (x->commit_marks) {
        apply_mark_label(conn, a);
    }
    conn = attach_helper(conn, a);
    /* Copied while the conn is still this packet's own. */
    md_set_marks(&pkt->md, conn);
    result = confirm(x, conn, orig_hash, inv, inv_hash);
    pkt->md.conn = (struct conn *) result;
    if (!result) {
        return false;
    }
    if (result != conn) {
        update_mark_label(x->ct, result, a, x->now);
        md_set_marks_locked(&pkt->md, result);
    }
    return true;
}

/* Makes an unconfirmed conn for 'w''s tuple: EXPECTED, with its master's
 * mark and label, and translated as a NAT helper asked, if a helper
 * expects it (the kernel's init_conntrack()). */
static struct ctdp_conn *
new_conn(struct exec *x, struct work *w)
{
    struct ctdp_conn *conn = ctdp_conn_alloc(x->ct, w->key, work_l4(w),
                                             x->now);
    struct ctdp_expect_nat nat;
    bool has_nat;

    if (ctdp_ct_n_expects(x->ct)
        && ctdp_expect_find(x->ct, w->key, x->now, &conn->mark,
                            &conn->label, &nat, &has_nat)) {
        ctdp_conn_set_status(conn, CTDP_S_EXPECTED);
        conn_note_marks(conn);
        if (has_nat) {
            /* The source binding maps to one address, the conn's own or
             * its master's; only a full port space could refuse it, and
             * then the confirm finds the clash and drops the packet. */
            ctdp_nat_follow_master(x->ct, &conn, &nat, x->now);
        }
    }
    return conn;
}

/* Looks up 'w''s tuple: the second pass's hint, if it is the conn, else
 * nothing if the second pass found the chain without the tuple, else the
 * table. */
static inline struct ctdp_conn * ALWAYS_INLINE
lookup(struct exec *x, struct work *w, enum ctdp_ct_dir *dir)
{
    struct ctdp_conn *conn = w->hint;

    w->hint = NULL;
    if (conn) {
        int hit = ctdp_conn_match(conn, w->hint_dir, w->key,
                                  w->hint_dir == CTDP_DIR_ORIG ? NULL
                                                               : work_inv(w));

        if (hit >= 0 && ctdp_conn_is_live(conn, x->now)) {
            *dir = hit;
            return conn;
        }
    } else if (w->absent && !inserted(x, w->hash)) {
        /* A new conn's packet, nearly always.  The call's inserts only
         * set bits: once this packet's is set, its lookups (again after
         * CTDP_REPEAT) all walk the chain. */
        return NULL;
    }
    return ctdp_conn_lookup(x->ct, w->key, work_inv(w), w->hash, x->now,
                            dir);
}

/* Looks up 'w''s tuple and tracks the packet (steps 3 to 5 above). */
static void
track(struct exec *x, struct dp_packet *pkt, struct work *w)
{
    const struct ctdp_l4proto *l4 = work_l4(w);
    const struct ctdp_ct_action *a = x->a;
    struct ctdp_ct *ct = x->ct;
    long long now = x->now;

    for (int tries = 0; tries < 2; tries++) {
        enum ctdp_ct_dir dir = CTDP_DIR_ORIG;
        struct ctdp_conn *conn = lookup(x, w, &dir);
        bool found = conn != NULL;

        if (found) {
            COUNT(x, found);
            if (a->commit && a->force && dir == CTDP_DIR_REPLY) {
                ctdp_conn_remove(ct, conn, now);
                found = false;
                dir = CTDP_DIR_ORIG;
            } else if (track_steady(x, pkt, w, l4, conn, dir)) {
                return;
            }
        }
        if (!found) {
            if (!work_inv(w)->l3 || !l4->new_ok(w->key)) {
                break;
            }
            conn = new_conn(x, w);
        }
        bool changed;

        switch (run_l4(x, l4, conn, &w->parsed, dir, &pkt->md,
                       &changed)) {
        case CTDP_ACCEPT:
            if (found && !changed && l4->repeatable) {
                x->steady = conn;
                x->steady_dir = dir;
            }
            /* Fall through. */
        case CTDP_IGNORE:
            md_set_conn(pkt, conn, dir, state_of(conn, dir));
            return;
        case CTDP_ACCEPT_KILL:
            md_set_conn(pkt, conn, dir, state_of(conn, dir));
            if (found) {
                /* The packet keeps its conn (RCU) for the rest of the
                 * pipeline, as the kernel's skb keeps a killed ct. */
                ctdp_conn_remove(ct, conn, now);
            }
            return;
        case CTDP_REPEAT:
            /* The protocol ended the conn (e.g. a SYN on a closed TCP
             * conn): track the packet again as the start of a new one.  A
             * new conn cannot be ended before it began. */
            if (found) {
                ctdp_conn_remove(ct, conn, now);
                continue;
            }
            ctdp_conn_free(conn);
            break;
        case CTDP_INVALID:
        default:
            if (!found) {
                ctdp_conn_free(conn);
            }
            break;
        }
        break;
    }
    COUNT(x, invalid);
    md_set_invalid(pkt, w->key->zone);
}

/* An ICMP error is RELATED to the conn of the packet it quotes, in that
 * conn's direction toward the error's destination (the kernel's
 * nf_conntrack_inet_error()).  The conn itself is not changed. */
static void
track_related(struct exec *x, struct dp_packet *pkt, struct work *w)
{
    enum ctdp_ct_dir dir = CTDP_DIR_ORIG;
    struct ctdp_conn *conn = NULL;

    if (w->key->l3) {
        conn = lookup(x, w, &dir);
    }
    if (conn) {
        struct ctdp_tuple t;

        ctdp_conn_tuple(conn, dir, &t);
        /* The conn's destination in that direction must be where the
         * error goes, or any host could relate errors to any conn. */
        if (!memcmp(&t.dst, &w->parsed.key.dst, sizeof t.dst)) {
            COUNT(x, found);
            md_set_conn(pkt, conn, dir,
                        CS_TRACKED | CS_RELATED
                        | (dir == CTDP_DIR_REPLY ? CS_REPLY_DIR : 0));
            md_set_marks_locked(&pkt->md, conn);
            return;
        }
    }
    COUNT(x, error);
    COUNT(x, invalid);
    md_set_invalid(pkt, w->parsed.key.zone);
}

/* For a packet that brings its unconfirmed conn to a ct(commit) (tracked
 * by an earlier ct() of its pipeline): hashes the conn's two tuples (one
 * hash, unless it has an entry per direction), whose buckets the confirm
 * locks and searches, and keeps its reply tuple. */
static void
hash_confirm(struct exec *x, const struct ctdp_conn *conn, struct work *w)
{
    struct ctdp_table *t = &x->ct->table;

    w->hash = ctdp_table_hash(t, &conn->key);
    w->has_conn_hash = true;
    if (!(ctdp_conn_status(conn) & CTDP_S_NAT)) {
        ctdp_conn_reply_tuple(conn, &w->inv_buf);
        w->inv = &w->inv_buf;
        w->inv_hash = ctdp_conn_reply_hash(t, conn, w->hash);
        w->has_inv_hash = true;
    }
}

/* First pass, for one packet: decides its kind of work and reads its
 * tuple ('prev' is the previous packet's work, or NULL: a burst of one
 * flow is looked up once). */
static void
prepare(struct exec *x, struct dp_packet *pkt, struct work *w,
        const struct work *prev)
{
    struct ctdp_conn *conn = md_conn(pkt);
    uint16_t zone = x->a->zone;
    struct ctdp_ct *ct = x->ct;

    w->hint = NULL;
    w->absent = false;
    w->l4 = NULL;
    w->dup = false;
    w->looks_up = false;
    w->has_inv_hash = false;
    w->has_conn_hash = false;
    /* Already tracked in this zone: keep the conn, unless a force commit
     * must end it because the packet goes in its reply direction (the
     * kernel's skb_nfct_cached() does the same). */
    if (conn && pkt->md.ct_state & CS_TRACKED && pkt->md.ct_zone == zone
        && !(x->a->force && x->a->commit && pkt->md.reply)) {
        COUNT(x, ignore);
        w->kind = W_CACHED;
        if (x->a->commit && !(ctdp_conn_status(conn) & CTDP_S_CONFIRMED)) {
            hash_confirm(x, conn, w);
        }
        return;
    }
    /* Tracked in another zone before: that was another conn. */
    ctdp_ct_packet_done(ct, pkt);

    w->kind = W_SKIP;
    switch (ctdp_tuple_extract(pkt, zone, ctdp_knob(ct, CTDP_K_CHECKSUM),
                               &w->parsed)) {
    case CTDP_PARSE_OK:
        w->kind = W_TRACK;
        w->key = &w->parsed.key;
        break;
    case CTDP_PARSE_ICMP_ERROR:
        /* Look up the quoted packet's tuple inverted: the direction the
         * quoted packet would have been answered in. */
        w->kind = W_RELATED;
        w->key = &w->quoted;
        w->inv = &w->parsed.inner;
        inverse_of(&w->parsed.inner, &w->quoted);
        w->looks_up = w->quoted.l3 != 0;
        return;
    case CTDP_PARSE_NOT_IP:
        COUNT(x, not_ip);
        break;
    case CTDP_PARSE_FRAGMENT:
        /* Only with defragmentation (ctdp-ipf.h) off for the packet's IP
         * version, or not in front at all: without its datagram's L4
         * header a fragment cannot be tracked. */
        COUNT(x, fragment);
        break;
    case CTDP_PARSE_BAD_CHECKSUM:
        COUNT(x, bad_checksum);
        log_parse_error(ct, &w->parsed, true);
        break;
    case CTDP_PARSE_MALFORMED:
    default:
        COUNT(x, error);
        log_parse_error(ct, &w->parsed, false);
        break;
    }
    if (w->kind == W_SKIP) {
        COUNT(x, invalid);
        md_set_invalid(pkt, zone);
        return;
    }
    w->inv = NULL;
    w->dup = (prev && prev->kind == W_TRACK
              && ctdp_tuple_equal_rare(prev->key, w->key));
    w->looks_up = !w->dup;
}

/* ct(nat(...)): gives the packet's unconfirmed conn its binding from the
 * action's range; with commit and no range, a null binding.  Returns
 * false if the range is exhausted and the packet must be dropped. */
static bool
nat_bind_packet(struct exec *x, struct dp_packet *pkt)
{
    struct ctdp_conn *conn = md_conn(pkt);
    const struct ctdp_ct_action *a = x->a;

    if (!conn || ctdp_conn_status(conn) & CTDP_S_CONFIRMED
        || (!a->commit
            && !(a->nat_range.flags & (CTDP_NAT_SRC | CTDP_NAT_DST)))) {
        return true;
    }
    if (ctdp_nat_bind(x->ct, &conn, &a->nat_range, x->now)) {
        COUNT(x, nat_exhausted);
        COUNT(x, drop);
        return false;
    }
    pkt->md.conn = (struct conn *) conn;
    return true;
}

/* Translates 'pkt' by its conn's binding, once per conn: a packet that
 * an earlier ct(nat) of this zone translated keeps its CS_*_NAT bits. */
static void
nat_translate(struct exec *x, struct dp_packet *pkt, const struct work *w)
{
    struct ctdp_conn *conn = md_conn(pkt);
    struct pkt_metadata *md = &pkt->md;
    const struct ctdp_parsed *parsed = &w->parsed;
    struct ctdp_parsed reparsed;
    enum ctdp_parse kind;

    if (!conn || md->ct_state & (CS_SRC_NAT | CS_DST_NAT)
        || !(ctdp_conn_status(conn) & CTDP_S_NAT)
        || !(x->a->nat || ctdp_conn_status(conn) & CTDP_S_REBOUND)) {
        return;
    }
    if (w->kind == W_TRACK || w->kind == W_RELATED) {
        kind = w->kind == W_RELATED ? CTDP_PARSE_ICMP_ERROR : CTDP_PARSE_OK;
    } else {
        /* Tracked by an earlier ct(), which judged it: its headers are
         * as they were. */
        kind = ctdp_tuple_extract(pkt, md->ct_zone, false, &reparsed);
        parsed = &reparsed;
        if (kind != CTDP_PARSE_OK && kind != CTDP_PARSE_ICMP_ERROR) {
            return;
        }
    }
    md->ct_state |= ctdp_nat_packet(conn, md->reply ? CTDP_DIR_REPLY
                                                    : CTDP_DIR_ORIG,
                                    kind == CTDP_PARSE_ICMP_ERROR, parsed);
}

/* Runs the helper of 'pkt''s conn, if it has one, as Open vSwitch does:
 * on a confirmed conn's packet when this ct() tracked it (not when an
 * earlier one did), on an unconfirmed conn's when this ct() commits it.
 * ICMP errors related to the conn are not the helper's.  Returns false if
 * the packet must be dropped. */
static bool
help_packet(struct exec *x, struct dp_packet *pkt, const struct work *w,
            bool was_confirmed)
{
    struct ctdp_conn *conn = md_conn(pkt);
    const struct ctdp_parsed *parsed = &w->parsed;
    enum ctdp_ct_dir dir = pkt->md.reply ? CTDP_DIR_REPLY : CTDP_DIR_ORIG;
    struct ctdp_parsed reparsed;

    if (!conn || !(ctdp_conn_status(conn) & CTDP_S_EXT)
        || !ctdp_conn_ext(conn)->helper || w->kind == W_RELATED
        || (was_confirmed ? w->kind != W_TRACK : !x->a->commit)) {
        return true;
    }
    if (w->kind != W_TRACK) {
        if (ctdp_tuple_extract(pkt, pkt->md.ct_zone, false, &reparsed)
            != CTDP_PARSE_OK) {
            return true;
        }
        parsed = &reparsed;
    }
    if (!ctdp_helper_run(x->ct, conn, dir, pkt, parsed, x->now)) {
        COUNT(x, helper_drop);
        COUNT(x, drop);
        return false;
    }
    /* Once per packet, as the kernel's confirm hook: after the helper,
     * which may have set it up. */
    if (ctdp_conn_status(conn) & CTDP_S_SEQ_ADJUST
        && !ctdp_seqadj_packet(conn, dir, pkt)) {
        COUNT(x, error);
        COUNT(x, drop);
        return false;
    }
    return true;
}

static bool commit_packet(struct exec *, struct dp_packet *,
                          const struct work *);

/* After tracking: NAT binding, commit, translation and the helper, in
 * that order.  Returns false if the packet must be dropped. */
static bool
finish_packet(struct exec *x, struct dp_packet *pkt, struct work *w)
{
    const struct ctdp_ct_action *a = x->a;
    bool was_confirmed = (md_conn(pkt)
                          && ctdp_conn_status(md_conn(pkt))
                             & CTDP_S_CONFIRMED);

    if ((a->nat && !nat_bind_packet(x, pkt))
        || (a->commit && !commit_packet(x, pkt, w))) {
        return false;
    }
    nat_translate(x, pkt, w);
    return help_packet(x, pkt, w, was_confirmed);
}

/* Commits the conn of packet 'pkt', whose work is 'w'.  Returns false if
 * the packet must be dropped. */
static bool
commit_packet(struct exec *x, struct dp_packet *pkt, const struct work *w)
{
    struct ctdp_conn *conn = md_conn(pkt);
    uint32_t hash = w->hash;

    if (conn && w->kind != W_TRACK && !w->has_conn_hash) {
        /* Only a packet that made its conn, or brought it unconfirmed
         * (hash_confirm()), was hashed by that conn's original
         * tuple. */
        hash = ctdp_table_hash(&x->ct->table, &conn->key);
    }
    /* A W_TRACK packet's inverted tuple is its new conn's reply tuple
     * unless NAT changed it (which confirm() checks), as is the one
     * hash_confirm() kept. */
    return commit(x, pkt, hash, w->has_inv_hash ? w->inv : NULL,
                  &w->inv_hash);
}

/* Is finish_packet() sure to do nothing for 'pkt'?  So it is for a
 * confirmed conn that has no NAT binding and no helper, unless this ct()
 * commits new marks: the common packet, which then skips the call. */
static bool
nothing_to_finish(const struct exec *x, const struct dp_packet *pkt)
{
    const struct ctdp_conn *conn = md_conn(pkt);

    return (conn
            && ((ctdp_conn_status(conn)
                 & (CTDP_S_CONFIRMED | CTDP_S_NAT | CTDP_S_EXT))
                == CTDP_S_CONFIRMED)
            && !x->commit_marks);
}

/* A batch's tuples to hash all at once (ctdp_table_hash_batch()), and
 * where each one's hash goes.  Only 'n' needs setting before use: the
 * arrays are written as far as they are read, and zeroing them would
 * cost every batch. */
struct hash_list {
    const struct ctdp_tuple *tuples[NETDEV_MAX_BURST];
    uint32_t *hashes[NETDEV_MAX_BURST];
    size_t n;
};

static void
hash_list_add(struct hash_list *l, const struct ctdp_tuple *tuple,
              uint32_t *hash)
{
    l->tuples[l->n] = tuple;
    l->hashes[l->n++] = hash;
}

/* The first pass's queue of keys to hash: the packets that look up,
 * hashed eight at a time (the hash's lanes), and the buckets of the
 * packets in 'todo' (the batch's, as the pass fills it) prefetched then,
 * from 'n_fetched' on, their page walks together, while the pass reads
 * the next packets. */
struct key_queue {
    struct hash_list l;
    struct work *work;
    const uint8_t *todo;
    size_t n_fetched;
};

static void
key_queue_init(struct key_queue *q, struct work work[],
               const uint8_t todo[])
{
    q->l.n = 0;
    q->work = work;
    q->todo = todo;
    q->n_fetched = 0;
}

/* Hashes the queued keys and prefetches the buckets of the first 'n_todo'
 * packets of 'todo' not yet fetched: those they look up or confirm
 * into. */
static void
key_queue_flush(struct exec *x, struct key_queue *q, size_t n_todo)
{
    struct ctdp_table *t = &x->ct->table;

    ctdp_table_hash_batch(t, q->l.tuples, q->l.hashes, q->l.n);
    q->l.n = 0;
    for (; q->n_fetched < n_todo; q->n_fetched++) {
        const struct work *w = &q->work[q->todo[q->n_fetched]];

        ctdp_table_prefetch(t, w->hash);
        if (w->has_inv_hash) {
            ctdp_table_prefetch(t, w->inv_hash);
        }
    }
}

/* First pass, after preparing 'w', with 'n_todo' packets in 'todo' (the
 * last of them 'w' if it is there): queues its key if it looks up, with
 * its protocol, which the prefetches need (a packet of the same tuple as
 * the one before takes that one's hash in the last pass, the first that
 * needs it); flushes the queue when it is full. */
static void
key_queue_add(struct exec *x, struct key_queue *q, struct work *w,
              size_t n_todo)
{
    if (w->looks_up) {
        hash_list_add(&q->l, w->key, &w->hash);
        work_l4(w);
        if (q->l.n == CTDP_SIP_LANES) {
            key_queue_flush(x, q, n_todo);
        }
    }
}

/* The bytes at the start of a conn of 'w''s protocol that a packet
 * which finds it reads and writes, unless it has a mark or label: the
 * first line, and the protocol's tail; with ct(nat), which mostly finds
 * NATed conns, also the reply tuple in the extension, which such a conn's
 * packets read (to match, to translate).  The conn's status, which tells,
 * is not read yet. */
static size_t
conn_touched(const struct exec *x, const struct work *w)
{
    const struct ctdp_l4proto *l4 = w->l4;

    return (x->a->nat ? (ctdp_conn_ext_ofs(l4)
                         + offsetof(struct ctdp_conn_ext, by_src))
            : l4->tail_size ? sizeof(struct ctdp_conn) + l4->tail_size
            : offsetof(struct ctdp_conn, start));
}

/* For the second pass: finds the packet's hint in its bucket (and
 * prefetches the bucket's overflow).  Returns true if, with commit and no
 * hint, the packet likely makes a conn that this ct() confirms: its reply
 * tuple, whose bucket the confirm searches, wants hashing. */
static bool
find_hint(struct exec *x, struct work *w)
{
    if (!w->looks_up) {
        return false;
    }
    w->hint = ctdp_table_hint(&x->ct->table, w->hash, &w->hint_dir);
    w->absent = w->hint_dir < 0;
    return (!w->hint && w->kind == W_TRACK && x->a->commit
            && work_inv(w)->l3);
}

/* Second pass: finds the hints of the packets in 'todo' and prefetches
 * each as it is found, the next buckets' reads filling the wait; then
 * hashes the reply tuples of those that will likely confirm a conn, all
 * at once, and prefetches their buckets (an ICMP tuple's: every other
 * tuple hashes as its inverse).  Returns false if the third pass
 * has nothing to do: every packet found a hint and none confirms (a batch
 * of lookups of established conns). */
static bool
find_hints(struct exec *x, struct work work[], const uint8_t todo[],
           size_t n_todo)
{
    struct ctdp_table *t = &x->ct->table;
    bool late = false;
    struct hash_list l;

    l.n = 0;
    for (size_t k = 0; k < n_todo; k++) {
        struct work *w = &work[todo[k]];

        if (find_hint(x, w)) {
            if (ctdp_tuple_inverts_by_swap(w->key)) {
                w->inv_hash = w->hash;
            } else {
                hash_list_add(&l, w->inv, &w->inv_hash);
            }
            w->has_inv_hash = true;
        }
        if (w->hint) {
            ctdp_conn_prefetch(w->hint, conn_touched(x, w));
        }
        late |= !w->hint || w->has_inv_hash || w->has_conn_hash;
    }
    ctdp_table_hash_batch(t, l.tuples, l.hashes, l.n);
    for (size_t i = 0; i < l.n; i++) {
        ctdp_table_prefetch(t, *l.hashes[i]);
    }
    return late;
}

/* Third pass: for a packet whose home bucket held no hint, the hint
 * from the bucket's overflow, which the second pass prefetched, and its
 * conn prefetched, unless the packet will likely confirm a conn (whose
 * tuple is then most likely in no bucket); for a packet that will
 * confirm a conn, prefetches the overflow buckets of its two chains,
 * which the confirm's clash check walks and no other pass brings in. */
static void
prefetch_overflows(struct exec *x, struct work *w)
{
    struct ctdp_table *t = &x->ct->table;

    if (!w->hint && w->looks_up && !w->has_inv_hash) {
        w->hint = ctdp_table_hint_overflow(t, w->hash, &w->hint_dir);
        if (w->hint) {
            ctdp_conn_prefetch(w->hint, conn_touched(x, w));
        }
    }
    /* The home bucket's overflow, the second pass's ctdp_table_hint()
     * prefetched already. */
    if (w->has_inv_hash && w->inv_hash != w->hash) {
        ctdp_table_prefetch_overflow(t, w->inv_hash);
    }
    if (w->has_conn_hash) {
        ctdp_table_prefetch_overflow(t, w->hash);
    }
}

/* Adds what a run of repeats counted to their conn ('x->steady'). */
static void
exec_count_repeats(struct exec *x)
{
    struct ctdp_conn *conn = x->steady;

    ctdp_conn_lock(conn);
    ctdp_conn_count(conn, x->steady_dir, x->acct_packets, x->acct_bytes);
    ctdp_conn_unlock(conn);
    x->acct_packets = 0;
    x->acct_bytes = 0;
}

/* Ends a run of repeats.  Inline: every packet that is not a repeat ends
 * one, most of them a run of none. */
static inline void
exec_settle(struct exec *x)
{
    if (x->acct_packets) {
        exec_count_repeats(x);
    }
    x->steady = NULL;
}

/* For a packet with the same tuple as 'prev', the packet before it, whose
 * conn 'prev' left unchanged ('x->steady'): the tracker, at the same time,
 * would reach the same outcome and change nothing again, so the packet
 * takes that outcome, and the conn's marks as 'prev' left them, without
 * the conn's lock; its packet and bytes are added when the run ends.  A
 * conn removed meanwhile is not live and sends the packet the whole way.
 * Returns false if the packet is not such a repeat. */
static bool
repeat_packet(struct exec *x, struct dp_packet *pkt, const struct work *w,
              const struct dp_packet *prev)
{
    struct ctdp_conn *conn = x->steady;
    enum ctdp_ct_dir dir = x->steady_dir;

    if (!w->dup || !prev || md_conn(prev) != conn
        || !ctdp_conn_is_live(conn, x->now)) {
        return false;
    }
    COUNT(x, found);
    md_copy_conn(&pkt->md, &prev->md, state_of(conn, dir));
    if (x->acct) {
        x->acct_packets++;
        x->acct_bytes += w->parsed.l3_size;
    }
    return true;
}

/* Tracks a packet that is not a repeat: ends the run of repeats before
 * it; a packet of the same flow as 'prev' finds its conn there (checked
 * in full). */
static void
track_packet(struct exec *x, struct dp_packet *pkt, struct work *w,
             const struct dp_packet *prev)
{
    struct ctdp_conn *prev_conn = prev ? md_conn(prev) : NULL;

    exec_settle(x);
    if (w->dup && prev_conn
        && ctdp_conn_status(prev_conn) & CTDP_S_CONFIRMED) {
        w->hint = prev_conn;
        w->hint_dir = prev->md.reply;
    }
    if (w->kind == W_TRACK) {
        track(x, pkt, w);
    } else if (w->kind == W_RELATED) {
        track_related(x, pkt, w);
    }
}

/* Last pass: tracks the packet, or repeats the outcome of 'prev' (the
 * packet before, if it was kept), and finishes ct() on it; returns false
 * if it must be dropped. */
static bool
run_packet(struct exec *x, struct dp_packet *pkt, struct work *w,
           const struct dp_packet *prev)
{
    if (!x->steady || !repeat_packet(x, pkt, w, prev)) {
        track_packet(x, pkt, w, prev);
    }
    return nothing_to_finish(x, pkt) || finish_packet(x, pkt, w);
}

/* Runs ct() with action 'a' on every packet of 'batch' at time 'now'.
 * Each packet is tracked and committed before the next is looked up, as if
 * they came one by one, so a batch holding two packets of a new flow makes
 * one conn.  Packets the tracker drops (a failed confirm, a full table or
 * zone) are removed from the batch and freed, each counted in 'drop'. */
void
ctdp_ct_execute(struct ctdp_ct *ct, struct dp_packet_batch *batch,
                const struct ctdp_ct_action *a, long long now)
{
    struct exec x = {
        .ct = ct, .a = a, .now = now, .acct = ctdp_knob(ct, CTDP_K_ACCT),
        .commit_marks = a->commit && (a->set_mark || a->set_label),
        .steady_slot = CTDP_TM_N,
    };
    struct work work[NETDEV_MAX_BURST];
    size_t n = dp_packet_batch_size(batch);
    struct dp_packet *prev = NULL;
    /* The packets that look up or confirm, which the passes between the
     * first and the last serve (a burst of one flow has one). */
    uint8_t todo[NETDEV_MAX_BURST];
    size_t n_todo = 0;

    struct key_queue q;

    key_queue_init(&q, work, todo);
    /* Kept packets are written back from the start of the batch, never
     * past the one read last (as DP_PACKET_BATCH_REFILL_FOR_EACH). */
    dp_packet_batch_refill_init(batch);
    for (size_t i = 0; i < n; i++) {
        prepare(&x, batch->packets[i], &work[i], i ? &work[i - 1] : NULL);
        if (work[i].looks_up || work[i].has_conn_hash) {
            todo[n_todo++] = i;
        }
        key_queue_add(&x, &q, &work[i], n_todo);
    }
    key_queue_flush(&x, &q, n_todo);
    bool late = find_hints(&x, work, todo, n_todo);

    for (size_t k = 0; late && k < n_todo; k++) {
        prefetch_overflows(&x, &work[todo[k]]);
    }
    for (size_t i = 0; i < n; i++) {
        struct dp_packet *pkt = batch->packets[i];

        if (work[i].dup) {
            work[i].hash = work[i - 1].hash;
        }
        if (run_packet(&x, pkt, &work[i], prev)) {
            dp_packet_batch_refill(batch, pkt, i);
            prev = pkt;
        } else {
            ctdp_ct_packet_done(ct, pkt);
            dp_packet_delete(pkt);
            prev = NULL;
        }
    }
    exec_settle(&x);
    exec_end(&x);
}

/* ---- Creation ---------------------------------------------------------- */

struct ctdp_ct *
ctdp_ct_create(const struct ctdp_ct_params *params)
{
    static const struct ctdp_ct_params defaults;
    const struct ctdp_ct_params *p = params ? params : &defaults;
    struct ctdp_ct *ct = xzalloc_cacheline(sizeof *ct);

    ct->pool = ctdp_pool_create();
    if (ctdp_table_init(&ct->table, p->n_buckets, p->max_chain, p->hash,
                        ct->pool)
        || ctdp_random_bytes(&ct->id_key, sizeof ct->id_key)) {
        ctdp_pool_destroy(ct->pool);
        free_cacheline(ct);
        return NULL;
    }
    ctdp_sysctl_init(ct, p->timeouts);
    ct->test_delay = p->test_delay;
    atomic_init(&ct->tcp_seq_check, true);
    atomic_init(&ct->ftp_loose, false);
    atomic_init(&ct->n_conns, 0);
    atomic_init(&ct->n_two_entries, 0);
    atomic_init(&ct->max_conns,
                p->max_conns ? p->max_conns : CTDP_CT_DEFAULT_MAX_CONNS);
    atomic_init(&ct->default_zone_limit, 0);
    atomic_init(&ct->sweep_interval, 20000);
    atomic_init(&ct->n_listeners, 0);
    ovs_mutex_init(&ct->sweep_mutex);
    ovs_mutex_init(&ct->listeners_mutex);
    ctdp_spin_init(&ct->nat_lock);
    hmap_init(&ct->nat_by_src);
    ovs_mutex_init(&ct->expect_mutex);
    hmap_init(&ct->expects);
    atomic_init(&ct->n_expects, 0);
    atomic_init(&ct->expect_max, CTDP_DEFAULT_EXPECT_MAX);
    ovs_list_init(&ct->listeners);
    return ct;
}

uint32_t
ctdp_ct_n_conns(const struct ctdp_ct *ct)
{
    uint32_t n;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->n_conns, &n);
    return n;
}

uint64_t
ctdp_ct_memory(const struct ctdp_ct *ct, uint64_t *mapped)
{
    return ctdp_pool_in_use(ct->pool, mapped);
}

void
ctdp_ct_set_max_conns(struct ctdp_ct *ct, uint32_t max)
{
    atomic_store_relaxed(&ct->max_conns, max);
}

uint32_t
ctdp_ct_get_max_conns(const struct ctdp_ct *ct)
{
    uint32_t max;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->max_conns, &max);
    return max;
}

/* Frees the tracker and every conn.  No other thread may use it any more;
 * listeners not yet unlistened are freed too. */
void
ctdp_ct_destroy(struct ctdp_ct *ct)
{
    if (!ct) {
        return;
    }
    ctdp_events_destroy(ct);
    ctdp_zones_destroy(ct);
    ctdp_nat_destroy(ct);
    ctdp_expect_destroy(ct);
    ctdp_table_destroy(&ct->table);
    /* Every conn, once the frees postponed before have run. */
    ctdp_pool_destroy(ct->pool);
    ctdp_sysctl_destroy(ct);
    ovs_mutex_destroy(&ct->sweep_mutex);
    ovs_mutex_destroy(&ct->listeners_mutex);
    free_cacheline(ct);
}

void
ctdp_ct_set_tcp_loose(struct ctdp_ct *ct, bool on)
{
    atomic_store_relaxed(&ct->knobs[CTDP_K_TCP_LOOSE], on);
}

void
ctdp_ct_set_tcp_be_liberal(struct ctdp_ct *ct, bool on)
{
    atomic_store_relaxed(&ct->knobs[CTDP_K_TCP_BE_LIBERAL], on);
}

void
ctdp_ct_set_tcp_seq_check(struct ctdp_ct *ct, bool on)
{
    atomic_store_relaxed(&ct->tcp_seq_check, on);
}

void
ctdp_ct_set_ftp_loose(struct ctdp_ct *ct, bool on)
{
    atomic_store_relaxed(&ct->ftp_loose, on);
}

bool
ctdp_ct_get_ftp_loose(const struct ctdp_ct *ct)
{
    bool on;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->ftp_loose, &on);
    return on;
}

bool
ctdp_ct_get_tcp_seq_check(const struct ctdp_ct *ct)
{
    bool on;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->tcp_seq_check,
                        &on);
    return on;
}
