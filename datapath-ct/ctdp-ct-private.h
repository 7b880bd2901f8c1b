#ifndef CTDP_CT_PRIVATE_H
#define CTDP_CT_PRIVATE_H 1

/* The tracker's internal layout, shared by datapath-ct/'s files only.
 *
 * Memory: a conn is 120 bytes from the tracker's pool (ctdp-pool.h), plus
 * the protocol's tail (TCP's window state); the table
 * (ctdp-table.h) holds it in two 6-byte slots of 64-byte buckets, about
 * 20 bytes per conn at its usual load, so a UDP conn costs about 150
 * bytes.  To get there, the reply tuple is not stored: it is the original
 * inverted; a conn whose NAT binding changes a tuple (SRC_NAT or DST_NAT)
 * stores its own after the protocol's tail (struct ctdp_conn_ext), and
 * only such a conn pays for it.  The 64-bit id is a keyed hash of the
 * conn's address and start time rather than a field.
 *
 * Dependencies run one way: the packet path (ctdp-ct.c) -> conns
 * (ctdp-conn.c: lookup, matching, removal) -> the table and the pool,
 * which know conns only as pool objects.
 *
 * Locks, in the order they are taken:
 *   1. ct->sweep_mutex: one sweep at a time; guards ct->sweep_zone and
 *      ct->sweep_lane.
 *   2. the table's bucket locks, striped by hash (CTDP_N_LOCKS of them,
 *      'hash & (CTDP_N_LOCKS - 1)': a bucket's lock does not change when
 *      the table grows, and there are never fewer buckets than locks, so
 *      one lock guards each bucket).  Two are taken in index order.
 *   3. conn->lock: a byte spinlock over the conn's mutable state (status,
 *      expires, mark, label, counters, protocol state).
 *   a zone lane's lock (its list links and sweep cursor), the table's
 *   resize_mutex (starting a growth), the pool's locks, the backer's
 *   mutex (taken under the pool's) and the listener mutexes are leaves.
 *
 * A confirm links a conn into the table under its bucket locks; the call
 * that confirmed it puts it on its zone list when it ends, under the
 * lane's lock, unless it is DYING by then (ctdp_zone_settle()).  Removal
 * (ctdp_conn_remove()) is done whole by the one thread that marks a conn
 * DYING: it clears its table entries under its bucket locks, then unlinks
 * it from its zone list, if it is on it, under its lane's lock, and only
 * then postpones its free with ovsrcu_postpone(), whose grace period
 * also waits for the confirming call's end.  So a removed conn costs
 * memory for one RCU grace period, whoever removed it, and nothing is
 * freed while any bucket, list or pending push still leads to it.
 *
 * RCU: lookups read buckets, and walkers (sweep, flush) walk zone lists,
 * with no lock, inside the caller's RCU read section.  An unlinked conn
 * keeps its links, so a reader standing on it walks on. */

#include <netinet/in.h>
#include <stdarg.h>
#include "ctdp-ct.h"
#include "ctdp-prefetch.h"
#include "ctdp-siphash.h"
#include "ctdp-spin.h"
#include "ctdp-table.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"

/* ---- Conns ------------------------------------------------------------- */

/* The first line (64 bytes) holds everything a packet of an established
 * conn reads and writes: the tuple, 'expires' (which removal sets to
 * LLONG_MIN, so that liveness is one read), the zone list's forward link,
 * which the sweep walks with 'expires', the status, lock and protocol
 * state, and the counters' low parts.  The second holds what only some
 * packets touch: the start time (an unassured UDP conn's stream check,
 * dumps), the mark and label (read only by a conn with CTDP_S_MARKED),
 * the zone list's back link (insert and removal) and the counters' high
 * parts (written when a low part carries), and the protocol's tail
 * follows.  So a lookup of a UDP conn fetches one conn line, counting or
 * not: among 1M conns a second line cost a third of the rate
 * (docs/BENCHMARKS.md). */
struct ctdp_conn {
    struct ctdp_tuple key;          /* Original direction, with the zone. */
    ATOMIC(long long) expires;      /* 'now' of expiry, in ms. */
    /* Zone list (struct ctdp_zone), as pool refs (ctdp-pool.h: never 0
     * for a conn) of the next and previous conns, 0 for none: written
     * under the zone's lock; 'zone_next' is also read by walkers without
     * it.  'zone_prev' is CTDP_ZONE_OFF once the conn is off the list. */
    ATOMIC(uint32_t) zone_next;
    ATOMIC(uint16_t) status;        /* CTDP_S_*; written under 'lock'. */
    ATOMIC(uint8_t) lock;           /* Byte spinlock; see CTDP_CONN_LOCKED. */
    uint8_t l4_state;               /* The protocol tracker's state. */
    /* The counters (nf_conntrack_acct), by direction, under 'lock': see
     * ctdp_conn_count(). */
    uint32_t count_lo[2];
    /* Second line. */
    long long start;                /* 'now' of creation, in ms. */
    ovs_u128 label;                 /* Zero unless CTDP_S_MARKED. */
    uint32_t mark;                  /* Zero unless CTDP_S_MARKED. */
    uint32_t zone_prev;             /* The zone list's back link (above). */
    uint32_t count_hi[2][3];
    uint8_t l4[];                   /* Protocol tail (l4proto->tail_size). */
};
BUILD_ASSERT_DECL(offsetof(struct ctdp_conn, expires) == 40);
BUILD_ASSERT_DECL(offsetof(struct ctdp_conn, start) == 64);
BUILD_ASSERT_DECL(sizeof(struct ctdp_conn) == 120);

/* A direction's packet and byte counters are 64 bits each, split so that
 * counting a packet writes only the conn's first line: 'count_lo[dir]'
 * holds the packets' low 8 bits (its bits 24-31) and the bytes' low 24;
 * 'count_hi[dir]' the packets' high 56 bits and the bytes' high 40,
 * written only when a low part carries (once in 256 packets, or in 16 MiB,
 * at most).  The caller of each function holds the conn's lock or owns
 * the conn. */
#define CTDP_COUNT_LO_BYTES 0xffffff
#define CTDP_COUNT_LO_PACKETS 0xff

void ctdp_conn_count_add(struct ctdp_conn *, enum ctdp_ct_dir,
                         uint64_t packets, uint64_t bytes);
void ctdp_conn_counts(const struct ctdp_conn *, enum ctdp_ct_dir,
                      uint64_t *packets, uint64_t *bytes);

/* Adds 'packets' and 'bytes' to 'conn''s counters in 'dir': inline, as
 * every packet does it. */
static inline void
ctdp_conn_count(struct ctdp_conn *conn, enum ctdp_ct_dir dir,
                uint32_t packets, uint64_t bytes)
{
    uint32_t lo = conn->count_lo[dir];
    uint64_t p = (lo >> 24) + (uint64_t) packets;
    uint64_t b = (lo & CTDP_COUNT_LO_BYTES) + bytes;

    if (OVS_LIKELY(p <= CTDP_COUNT_LO_PACKETS && b <= CTDP_COUNT_LO_BYTES)) {
        conn->count_lo[dir] = p << 24 | b;
    } else {
        ctdp_conn_count_add(conn, dir, packets, bytes);
    }
}

/* A conn's 'zone_prev' once it is off its zone's list: no ref (refs have
 * 31 bits). */
#define CTDP_ZONE_OFF UINT32_MAX

/* A conn's 'lock' byte: bit 0 is the spinlock (ctdp_conn_lock()).  The
 * lane bits are set once, by ctdp_zone_reserve() before the conn is
 * confirmed, and never change after: they name the lane whose list holds
 * the conn (struct ctdp_zone_lane). */
#define CTDP_CONN_LOCKED 0x01   /* The bit ctdp_spin_lock_byte() takes. */
#define CTDP_CONN_LANE_SHIFT 1
#define CTDP_CONN_LANE_MASK 0x0e

static inline uint8_t
ctdp_conn_lock_byte(const struct ctdp_conn *conn)
{
    return __atomic_load_n((const uint8_t *) &conn->lock, __ATOMIC_RELAXED);
}

static inline unsigned int
ctdp_conn_lane(const struct ctdp_conn *conn)
{
    return (ctdp_conn_lock_byte(conn) & CTDP_CONN_LANE_MASK)
           >> CTDP_CONN_LANE_SHIFT;
}

/* Gives unconfirmed 'conn', which no other thread can reach yet, its
 * lane, keeping its lock bit. */
static inline void
ctdp_conn_set_lane(struct ctdp_conn *conn, unsigned int lane)
{
    __atomic_store_n((uint8_t *) &conn->lock,
                     (ctdp_conn_lock_byte(conn) & CTDP_CONN_LOCKED)
                     | lane << CTDP_CONN_LANE_SHIFT, __ATOMIC_RELAXED);
}

/* Takes 'conn''s lock, bit 0 of its lock byte (ctdp-spin.h): the lane
 * bits never change while other threads can reach the conn. */
static inline void
ctdp_conn_lock(struct ctdp_conn *conn)
{
    ctdp_spin_lock_byte((uint8_t *) &conn->lock);
}

static inline void
ctdp_conn_unlock(struct ctdp_conn *conn)
{
    ctdp_spin_unlock_byte((uint8_t *) &conn->lock);
}

/* Prefetches, for writing, the lines of 'conn' that hold its first
 * 'size' bytes: what a packet that finds it reads and writes. */
static inline void
ctdp_conn_prefetch(const void *conn, size_t size)
{
    const char *p = conn;

    for (size_t ofs = 0; ofs < size; ofs += CACHE_LINE_SIZE) {
        ctdp_prefetch_write(p + ofs);
    }
}

static inline uint16_t
ctdp_conn_status(const struct ctdp_conn *conn)
{
    uint16_t status;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_conn *, conn)->status,
                        &status);
    return status;
}

static inline long long
ctdp_conn_expires(const struct ctdp_conn *conn)
{
    long long expires;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_conn *, conn)->expires,
                        &expires);
    return expires;
}

/* A conn is live until it expires or is removed.  Lookups, dumps and
 * clash checks see only live conns. */
static inline bool
ctdp_conn_is_live(const struct ctdp_conn *conn, long long now)
{
    return now < ctdp_conn_expires(conn);
}

/* A helper's per-conn state: FTP's sequence bookkeeping (ctdp-helper-ftp.c)
 * as the kernel's struct nf_ct_ftp_master: the sequence numbers just
 * after a newline, per direction, so that a command is parsed only at
 * the start of a line. */
#define CTDP_FTP_SEQS 2
struct ctdp_ftp_state {
    uint32_t seq_aft_nl[2][CTDP_FTP_SEQS];
    uint8_t n_seq_aft_nl[2];
};

/* Sequence adjustment after a NAT helper changed a payload's length (the
 * kernel's struct nf_ct_seqadj), for one direction: segments that start
 * after 'correction_pos' are shifted by 'offset_after', others by
 * 'offset_before'. */
struct ctdp_seqadj {
    uint32_t correction_pos;
    int32_t offset_before, offset_after;
};

/* What a conn with NAT or a helper keeps after its protocol's tail
 * (ctdp_conn_ext()): present from the time the conn got its binding or
 * helper, while it was unconfirmed (CTDP_S_EXT). */
struct ctdp_conn_ext {
    struct ctdp_conn *conn;         /* The conn this is the tail of. */
    /* NAT (ctdp-nat.c). */
    struct ctdp_tuple reply;        /* With CTDP_S_NAT: the reply tuple, not
                                     * the original inverted. */
    /* While the conn is confirmed and has SRC_NAT: in the list of its
     * source's group in ct->nat_by_src (ctdp-nat.c). */
    struct ovs_list by_src;
    void *by_src_group;
    /* Helpers (ctdp-helper.h).  'helper' is set before confirm and
     * constant after; the rest is under the conn's lock. */
    const struct ctdp_helper *helper;   /* NULL: none. */
    struct ctdp_ftp_state ftp;
    struct ctdp_seqadj seqadj[2];   /* By direction; SEQ_ADJUST. */
    uint32_t n_expected;            /* Live expectations it made; under
                                     * ct->expect_mutex. */
};
BUILD_ASSERT_DECL(sizeof(struct ctdp_conn_ext) == 128);

/* The status bits that say a conn stores its reply tuple. */
#define CTDP_S_NAT (CTDP_S_SRC_NAT | CTDP_S_DST_NAT)
/* ctdp's own status bits, never shown (the kernel's TEMPLATE, UNTRACKED
 * and OFFLOAD bits, which a ctdp conn never has):
 *   SRC_RANGE: the source binding came from a range, so a reply-tuple
 *     clash at confirm drops the packet, as the kernel's;
 *   REBOUND: the confirm gave the conn another source port because its
 *     reply tuple was taken (ctdp_nat_rebind_source()), so its packets are
 *     translated whether or not their ct() says 'nat';
 *   MARKED: the conn's mark or label was set nonzero once, so its
 *     packets copy both (without, they take zeros and leave the second
 *     line alone);
 *   EXT: the conn has a struct ctdp_conn_ext. */
#define CTDP_S_SRC_RANGE (1 << 11)
#define CTDP_S_MARKED (1 << 12)
#define CTDP_S_REBOUND (1 << 14)
#define CTDP_S_EXT (1 << 15)
#define CTDP_S_INTERNAL (CTDP_S_SRC_RANGE | CTDP_S_MARKED | CTDP_S_REBOUND \
                         | CTDP_S_EXT)

void ctdp_conn_set_status(struct ctdp_conn *, uint16_t bits);

static inline void
ctdp_conn_set_expires(struct ctdp_conn *conn, long long expires)
{
    atomic_store_relaxed(&conn->expires, expires);
}

/* TCP sequence-space order, wrapping at 2^32 (the kernel's before() and
 * after()). */
static inline bool
ctdp_seq_before(uint32_t a, uint32_t b)
{
    return (int32_t) (a - b) < 0;
}

static inline bool
ctdp_seq_after(uint32_t a, uint32_t b)
{
    return ctdp_seq_before(b, a);
}

/* ---- Protocol trackers ------------------------------------------------- */

enum ctdp_verdict {
    CTDP_ACCEPT,                    /* Tracked: refresh, count. */
    CTDP_IGNORE,                    /* Tracked, but the conn's timeout and
                                     * counters stay as they were. */
    CTDP_ACCEPT_KILL,               /* Tracked and counted; then the conn
                                     * is removed (TCP: a RST was the only
                                     * answer to a SYN). */
    CTDP_INVALID,                   /* Not a valid part of the conn. */
    CTDP_REPEAT,                    /* End the conn, track as a new one. */
};

/* What a protocol tracker is told about one packet. */
struct ctdp_l4_ctx {
    const struct ctdp_parsed *parsed;
    enum ctdp_ct_dir dir;
    bool confirmed;                 /* The conn is in the table. */
    long long now;
    const struct ctdp_timeout_policy *policy;   /* Zone's, or NULL. */
    const struct ctdp_timeout_policy *defaults; /* The tracker's. */
    bool tcp_loose;                 /* Pick up conns in the middle. */
    bool tcp_liberal;               /* Skip TCP window checks. */
    bool tcp_ignore_invalid_rst;    /* Let RSTs behind the window pass. */
    uint8_t tcp_max_retrans;        /* Retransmissions before the
                                     * "retransmit" timeout. */
    /* Where a tracker says why it finds a packet invalid
     * (ctdp_l4_why()): CTDP_WHY_SIZE bytes, or NULL when
     * nf_conntrack_log_invalid does not ask for this protocol. */
    char *why;
};

#define CTDP_WHY_SIZE 128

/* Records why the packet of 'ctx' is invalid, in the kernel's words (its
 * nf_ct_l4proto_log_invalid() messages), for the log that
 * nf_conntrack_log_invalid asks for; does nothing when it does not. */
void ctdp_l4_why(const struct ctdp_l4_ctx *, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);
void ctdp_l4_whyv(const struct ctdp_l4_ctx *, const char *format, va_list)
    OVS_PRINTF_FORMAT(2, 0);

/* One protocol's tracker.  packet() runs with the conn locked (or on an
 * unconfirmed conn that only this packet sees); it advances the conn's
 * state, sets status bits through ctdp_conn_set_status() and returns the
 * new timeout in ms through '*timeout'. */
struct ctdp_l4proto {
    const char *name;
    bool allow_clash;               /* Clashing entries may merge. */
    /* Does a packet that changed nothing in its conn (status, state)
     * leave the next packet of the same direction, at the same time,
     * nothing to change either?  True for protocols whose outcome is a
     * function of the status and the time: the packet path then counts
     * such a repeat without running the tracker (ctdp-ct.c). */
    bool repeatable;
    /* Does a packet of a confirmed conn whose status has all the bits of
     * 'steady_status' (and SEEN_REPLY, for a reply) change nothing in it
     * but its expiry, which becomes 'now' plus the timeout of
     * 'steady_slot'?  Such a protocol is also 'repeatable'.  The packet
     * path then tracks the packet without 'packet' (ctdp-ct.c); the unit
     * test ct-basic/steady_protocols holds the two to one outcome. */
    bool steady;
    uint16_t steady_status;
    enum ctdp_timeout_slot steady_slot;
    size_t tail_size;               /* Bytes of conn->l4[]. */
    /* May a packet with tuple 't' create a conn? */
    bool (*new_ok)(const struct ctdp_tuple *t);
    enum ctdp_verdict (*packet)(struct ctdp_conn *,
                                const struct ctdp_l4_ctx *,
                                long long *timeout);
    /* Fills the protocol's part of a dump entry (NULL: none).  Runs with
     * the conn locked. */
    void (*describe)(const struct ctdp_conn *, struct ctdp_ct_entry *);
    /* May early drop evict this conn although it is assured?  (NULL:
     * never.)  TCP says yes for closing states. */
    bool (*can_early_drop)(const struct ctdp_conn *);
};

extern const struct ctdp_l4proto ctdp_l4_tcp;
extern const struct ctdp_l4proto ctdp_l4_udp;
extern const struct ctdp_l4proto ctdp_l4_icmp;
extern const struct ctdp_l4proto ctdp_l4_icmp_wrong_family;
extern const struct ctdp_l4proto ctdp_l4_sctp;
extern const struct ctdp_l4proto ctdp_l4_gre;
extern const struct ctdp_l4proto ctdp_l4_generic;

ovs_be32 ctdp_sctp_csum(const uint8_t *l4, size_t size);

/* Returns the tracker for tuple 't''s protocol. */
static inline const struct ctdp_l4proto *
ctdp_l4proto_find(const struct ctdp_tuple *t)
{
    switch (t->nw_proto) {
    case IPPROTO_TCP:
        return &ctdp_l4_tcp;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
        return &ctdp_l4_udp;
    case IPPROTO_ICMP:
        return t->l3 == CTDP_L3_IPV4 ? &ctdp_l4_icmp
                                      : &ctdp_l4_icmp_wrong_family;
    case IPPROTO_ICMPV6:
        return t->l3 == CTDP_L3_IPV6 ? &ctdp_l4_icmp
                                      : &ctdp_l4_icmp_wrong_family;
    case IPPROTO_SCTP:
        return &ctdp_l4_sctp;
    case IPPROTO_GRE:
        return &ctdp_l4_gre;
    default:
        return &ctdp_l4_generic;
    }
}

/* Where a conn of protocol 'l4' keeps its struct ctdp_conn_ext, if it has
 * one: after the protocol's tail, 8-byte aligned. */
static inline size_t
ctdp_conn_ext_ofs(const struct ctdp_l4proto *l4)
{
    return sizeof(struct ctdp_conn) + ROUND_UP(l4->tail_size, 8);
}

long long ctdp_timeout_ms(const struct ctdp_l4_ctx *, enum ctdp_timeout_slot);
struct ctdp_timeout_policy *ctdp_timeout_policy_clone(
    const struct ctdp_timeout_policy *);
void ctdp_timeout_policy_free(void *);

/* ---- Helpers and expectations ------------------------------------------ */

/* What a helper is told about one packet of a conn that has it. */
struct ctdp_help_ctx {
    struct ctdp_ct *ct;
    struct ctdp_conn *conn;
    struct dp_packet *pkt;
    const struct ctdp_parsed *parsed;
    enum ctdp_ct_dir dir;
    bool established;               /* The kernel's ctinfo ESTABLISHED or
                                     * ESTABLISHED_REPLY: a reply was seen
                                     * and this is not a RELATED packet. */
    long long now;
};

/* One helper, as the kernel's struct nf_conntrack_helper with its
 * expectation policy.  help() runs on every packet of a conn that has
 * the helper, after the protocol tracker (and NAT); it returns false if
 * the packet must be dropped (as the kernel's NF_DROP from a helper). */
struct ctdp_helper {
    const char *name;
    uint8_t nw_proto;               /* IPPROTO_TCP or IPPROTO_UDP. */
    uint32_t max_expected;          /* Live expectations per master. */
    uint32_t expect_timeout;        /* Seconds. */
    bool (*help)(const struct ctdp_help_ctx *);
};

extern const struct ctdp_helper ctdp_helper_ftp;
extern const struct ctdp_helper ctdp_helper_tftp;

const struct ctdp_helper *ctdp_helper_find(const char *name);
bool ctdp_helper_run(struct ctdp_ct *, struct ctdp_conn *, enum ctdp_ct_dir,
                     struct dp_packet *, const struct ctdp_parsed *,
                     long long now);

/* An expectation (ctdp-expect.c): a conn that a helper expects, with its
 * original tuple ('sport' is a wildcard: any source port, the only mask
 * FTP and TFTP need), in its master's zone. */
/* How a NAT helper wants the expected conn translated, as its master is
 * (the kernel's nf_nat_follow_master()): its source to 'src', its
 * destination to 'dst' and 'dport'. */
struct ctdp_expect_nat {
    union ctdp_addr src, dst;
    ovs_be16 dport;
};

struct ctdp_expect {
    struct hmap_node node;          /* In ct->expects. */
    struct ctdp_tuple tuple;        /* 'sport' 0. */
    bool has_nat;
    struct ctdp_expect_nat nat;     /* If 'has_nat'. */
    struct ctdp_conn *master;       /* Removing the master removes this. */
    const struct ctdp_helper *helper;   /* The master's. */
    long long expires;
    uint32_t id;
};

/* The kernel's nf_conntrack_expect_max on this kind of machine. */
#define CTDP_DEFAULT_EXPECT_MAX 4096

/* ---- Zones ------------------------------------------------------------- */

/* Per-zone state.  Every confirmed conn is on one of its zone's lists
 * from the end of the call that confirmed it (ctdp_zone_settle()) until
 * its removal (ctdp_conn_remove()): doubly linked
 * lists, pushed at the head and unlinked anywhere under their lane's
 * 'lock', walked without it.  So a flush of one zone or a sweep walks only
 * that zone's conns, and a removal is O(1) whoever does it.
 *
 * A zone has CTDP_ZONE_LANES lists and counts, each on a cache line of its
 * own: a thread confirms into and counts in the lane its id names, so that
 * threads of different lanes write different lines (a conn remembers its
 * lane in its lock byte).  The zone's count is the sum of the lanes'
 * counts and 'limited' (ctdp_zone_reserve()). */
#define CTDP_ZONE_LANES 8
BUILD_ASSERT_DECL((CTDP_ZONE_LANES - 1) << CTDP_CONN_LANE_SHIFT
                  == CTDP_CONN_LANE_MASK);

struct ctdp_zone_lane {
    PADDED_MEMBERS(CACHE_LINE_SIZE,
        struct ctdp_spin lock;
        /* Written under 'lock' (clang's guarded_by cannot name a sibling
         * member in C: OVS_GUARDED, as Open vSwitch's own structs). */
        ATOMIC(struct ctdp_conn *) head OVS_GUARDED;
        /* The conn after which the sweep goes on (NULL: from the head).
         * An unlink of this conn moves it back to its predecessor, so it
         * always points at a conn on the list. */
        struct ctdp_conn *sweep_cursor OVS_GUARDED;
        ATOMIC(uint32_t) count;     /* Added here less removed here. */
    );
};

struct ctdp_zone {
    /* Read by every packet (the policy) and every new conn (the limit),
     * rarely written: a cache line apart from what new conns write, so
     * that threads read it from their own caches. */
    PADDED_MEMBERS(CACHE_LINE_SIZE,
        ATOMIC(uint32_t) limit;     /* Own limit; see 'has_limit'. */
        ATOMIC(bool) has_limit;
        OVSRCU_TYPE(struct ctdp_timeout_policy *) policy;
    );
    PADDED_MEMBERS(CACHE_LINE_SIZE,
        ATOMIC(uint32_t) limited;   /* Conns counted under a limit. */
    );
    struct ctdp_zone_lane lanes[CTDP_ZONE_LANES];
};

#define CTDP_N_ZONES 65536

/* What one ctdp_ct_execute() call's confirms leave to do in their zone,
 * done together when the call ends (ctdp_zone_settle()): the conns to put
 * on its list, under one lock, and the conns counted without a limit, in
 * one locked add. */
struct ctdp_zone_pending {
    struct ctdp_zone *zone;         /* NULL: nothing pending. */
    uint32_t n_counted;             /* Counted here, not yet in a lane. */
    bool last_pending;              /* The last reserve counted here. */
    size_t n_conns;
    /* Confirmed, not yet listed: a batch's worth (NETDEV_MAX_BURST, one
     * confirm a packet; ctdp-ct.c checks). */
    struct ctdp_conn *conns[32];
};

/* ---- Statistics -------------------------------------------------------- */

enum ctdp_stat {
#define CTDP_STAT(NAME, HELP) CTDP_STAT_##NAME,
    CTDP_STATS
#undef CTDP_STAT
    CTDP_N_STATS
};

/* Statistics are sharded by thread so that two datapath threads do not
 * bounce one cache line. */
#define CTDP_STAT_SHARDS 16
struct ctdp_stat_shard {
    ATOMIC(uint64_t) n[CTDP_N_STATS];
} __attribute__((aligned(64)));

/* ---- Events ------------------------------------------------------------ */

/* A listener's ring; everything but 'ct' and 'zone' is guarded by
 * ct->listeners_mutex. */
struct ctdp_ct_listener {
    struct ovs_list node;           /* In ct->listeners. */
    struct ctdp_ct *ct;
    int zone;                       /* < 0: every zone. */
    bool expect;                    /* Expectations' events, not conns'. */
    struct ctdp_ct_event *ring;
    size_t capacity, head, n;
    uint64_t lost;
};

/* ---- Knobs (ctdp-sysctl.c) --------------------------------------------- */

/* The kernel's conntrack sysctls that are plain values. */
enum ctdp_knob {
    CTDP_K_ACCT,                    /* Count packets and bytes per conn. */
    CTDP_K_CHECKSUM,                /* Verify L4 checksums. */
    CTDP_K_LOG_INVALID,             /* Log invalid packets of this IP
                                     * protocol (255: all, 0: none). */
    CTDP_K_TCP_BE_LIBERAL,
    CTDP_K_TCP_IGNORE_INVALID_RST,
    CTDP_K_TCP_LOOSE,
    CTDP_K_TCP_MAX_RETRANS,
    CTDP_K_TIMESTAMP,               /* Show conns' start times. */
    CTDP_K_N
};

/* ---- The tracker ------------------------------------------------------- */

struct ctdp_ct {
    struct ctdp_table table;
    struct ctdp_pool *pool;         /* Conns and the table's overflow. */
    ATOMIC(struct ctdp_zone *) zones[CTDP_N_ZONES];   /* Made on demand. */

    /* Written by every confirm and removal: a cache line of its own, apart
     * from the limits every confirm reads. */
    ATOMIC(uint32_t) n_conns __attribute__((aligned(CACHE_LINE_SIZE)));
    ATOMIC(uint32_t) n_two_entries; /* Conns with an entry per direction:
                                     * the table's growth counts them. */
    ATOMIC(uint32_t) max_conns __attribute__((aligned(CACHE_LINE_SIZE)));
    ATOMIC(uint32_t) default_zone_limit;

    struct ovs_mutex sweep_mutex;
    uint32_t sweep_zone OVS_GUARDED;        /* By 'sweep_mutex'. */
    unsigned int sweep_lane OVS_GUARDED;    /* In 'sweep_zone'. */
    ATOMIC(unsigned int) sweep_interval;

    struct ovs_mutex listeners_mutex;
    struct ovs_list listeners OVS_GUARDED;  /* By 'listeners_mutex'. */
    ATOMIC(size_t) n_listeners;     /* Read on the packet path. */

    /* Source-NATed conns by original source (zone, family, protocol,
     * address, port), one entry per source, as the kernel's
     * nf_nat_bysource: a new conn from a source that has a mapping gets
     * the same one (ctdp-nat.c).  Taken under the bucket locks by confirm
     * and removal: a leaf. */
    struct ctdp_spin nat_lock;
    struct hmap nat_by_src OVS_GUARDED;

    /* Expectations: a few, on the slow path; the packet path looks only
     * when 'n_expects' is not 0. */
    struct ovs_mutex expect_mutex;
    struct hmap expects OVS_GUARDED;
    uint32_t next_expect_id OVS_GUARDED;
    ATOMIC(uint32_t) n_expects;
    ATOMIC(uint32_t) expect_max;

    struct ctdp_siphash_key id_key;
    /* Default timeouts (the timeout knobs), replaced whole under
     * 'timeouts_mutex'. */
    OVSRCU_TYPE(struct ctdp_timeout_policy *) timeouts;
    struct ovs_mutex timeouts_mutex;
    ATOMIC(uint8_t) knobs[CTDP_K_N];        /* See ctdp_knob(). */
    ATOMIC(bool) tcp_seq_check;
    ATOMIC(bool) ftp_loose;
    void (*test_delay)(enum ctdp_test_point);   /* See ctdp_ct_params. */
    struct ctdp_stat_shard stats[CTDP_STAT_SHARDS];
};

void ctdp_stat_inc(struct ctdp_ct *, enum ctdp_stat);

static inline uint8_t
ctdp_knob(const struct ctdp_ct *ct, enum ctdp_knob knob)
{
    uint8_t v;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->knobs[knob], &v);
    return v;
}

/* ctdp-sysctl.c */
void ctdp_sysctl_init(struct ctdp_ct *, const struct ctdp_timeout_policy *);
void ctdp_sysctl_destroy(struct ctdp_ct *);

/* Should an invalid packet of IP protocol 'proto' be logged? */
static inline bool
ctdp_log_invalid_wanted(const struct ctdp_ct *ct, uint8_t proto)
{
    uint8_t want = ctdp_knob(ct, CTDP_K_LOG_INVALID);

    return want && (want == proto || want == IPPROTO_RAW);
}

void ctdp_log_invalid(uint8_t proto, const struct ctdp_parsed *,
                      const char *why);

/* ctdp-conn.c */
struct ctdp_conn *ctdp_conn_alloc(struct ctdp_ct *,
                                  const struct ctdp_tuple *,
                                  const struct ctdp_l4proto *, long long now);
struct ctdp_conn *ctdp_conn_add_ext(struct ctdp_conn *);
struct ctdp_conn *ctdp_conn_set_nat_reply(struct ctdp_conn *,
                                          const struct ctdp_tuple *reply,
                                          uint16_t nat_bits);
struct ctdp_conn_ext *ctdp_conn_ext(const struct ctdp_conn *);
void ctdp_conn_free(struct ctdp_conn *);
const struct ctdp_l4proto *ctdp_conn_l4proto(const struct ctdp_conn *);
void ctdp_conn_reply_tuple(const struct ctdp_conn *, struct ctdp_tuple *);
void ctdp_conn_tuple(const struct ctdp_conn *, enum ctdp_ct_dir,
                     struct ctdp_tuple *);

/* Does 'conn' have one table entry for both directions?  So it has when
 * its reply tuple is its original's swap: no NAT gave it its own, and its
 * protocol inverts by swap (see ctdp-table.h).  Fixed once confirmed. */
static inline bool
ctdp_conn_one_entry(const struct ctdp_conn *conn)
{
    return (!(ctdp_conn_status(conn) & CTDP_S_NAT)
            && ctdp_tuple_inverts_by_swap(&conn->key));
}

/* The direction in which 'conn', reached by its table entry of direction
 * 'entry_dir', has tuple 'key', or -1 if it has it in none.  'inv_key' is
 * 'key' inverted (its 'l3' is 0 when 'key' has no inverse), read only for
 * a reply entry of a conn without NAT (an ICMP conn's): its reply tuple is
 * the original inverted, and inversion is its own inverse, so the reply
 * tuple equals 'key' exactly when the original equals 'inv_key'.  Inline
 * always: it is the lookup's inner step, which GCC left out of line. */
static inline int ALWAYS_INLINE
ctdp_conn_match(const struct ctdp_conn *conn, int entry_dir,
                const struct ctdp_tuple *key,
                const struct ctdp_tuple *inv_key)
{
    if (entry_dir == CTDP_DIR_ORIG) {
        if (ctdp_tuple_equal(&conn->key, key)) {
            return CTDP_DIR_ORIG;
        }
        return (ctdp_conn_one_entry(conn)
                && ctdp_tuple_equal_swapped(&conn->key, key)
                ? CTDP_DIR_REPLY : -1);
    } else if (OVS_UNLIKELY(ctdp_conn_status(conn) & CTDP_S_NAT)) {
        return (ctdp_tuple_equal(&ctdp_conn_ext(conn)->reply, key)
                ? CTDP_DIR_REPLY : -1);
    }
    return ctdp_tuple_equal(&conn->key, inv_key) ? CTDP_DIR_REPLY : -1;
}

uint32_t ctdp_conn_hash(const struct ctdp_conn *, enum ctdp_ct_dir,
                        const struct ctdp_table *);
uint32_t ctdp_conn_reply_hash(const struct ctdp_table *,
                              const struct ctdp_conn *, uint32_t orig_hash);
void ctdp_conn_insert_locked(struct ctdp_ct *, const struct ctdp_conn *,
                             uint32_t orig_hash, uint32_t reply_hash);
struct ctdp_conn *ctdp_conn_lookup(struct ctdp_ct *,
                                   const struct ctdp_tuple *key,
                                   const struct ctdp_tuple *inv_key,
                                   uint32_t hash, long long now,
                                   enum ctdp_ct_dir *);
void ctdp_conn_to_entry(const struct ctdp_ct *, struct ctdp_conn *,
                        struct ctdp_ct_entry *);
bool ctdp_conn_remove(struct ctdp_ct *, struct ctdp_conn *, long long now);

/* ctdp-nat.c */
struct ctdp_tuple;
int ctdp_nat_bind(struct ctdp_ct *, struct ctdp_conn **,
                  const struct ctdp_nat_range *, long long now);
int ctdp_nat_rebind_source(struct ctdp_ct *, struct ctdp_conn **,
                           long long now);
uint8_t ctdp_nat_packet(const struct ctdp_conn *, enum ctdp_ct_dir,
                        bool related,
                        const struct ctdp_parsed *);
bool ctdp_nat_mangle_tcp(struct dp_packet *, const struct ctdp_parsed *,
                         size_t ofs, size_t len, const char *text,
                         size_t text_len);
int ctdp_nat_follow_master(struct ctdp_ct *, struct ctdp_conn **,
                           const struct ctdp_expect_nat *, long long now);
void ctdp_nat_confirmed(struct ctdp_ct *, struct ctdp_conn *);
void ctdp_nat_removed(struct ctdp_ct *, struct ctdp_conn *);
size_t ctdp_nat_n_sources(struct ctdp_ct *);
void ctdp_nat_destroy(struct ctdp_ct *);

/* ctdp-expect.c */
int ctdp_expect_create(struct ctdp_ct *, struct ctdp_conn *master,
                       const struct ctdp_tuple *,
                       const struct ctdp_expect_nat *, long long now);
void ctdp_expect_remove(struct ctdp_ct *, const struct ctdp_conn *master,
                        const struct ctdp_tuple *, long long now);
bool ctdp_expect_find(struct ctdp_ct *, const struct ctdp_tuple *key,
                      long long now, uint32_t *mark, ovs_u128 *label,
                      struct ctdp_expect_nat *, bool *has_nat);
void ctdp_expect_consume(struct ctdp_ct *, const struct ctdp_tuple *key,
                         long long now);
void ctdp_expect_master_gone(struct ctdp_ct *, struct ctdp_conn *master,
                             long long now);
size_t ctdp_expect_sweep(struct ctdp_ct *, long long now);
void ctdp_expect_destroy(struct ctdp_ct *);

/* ctdp-seqadj.c */
void ctdp_seqadj_set(struct ctdp_conn *, enum ctdp_ct_dir, uint32_t seq,
                     int32_t off);
int32_t ctdp_seqadj_offset(const struct ctdp_conn *, enum ctdp_ct_dir,
                           uint32_t seq);
bool ctdp_seqadj_packet(struct ctdp_conn *, enum ctdp_ct_dir,
                        struct dp_packet *);

/* ctdp-zone.c */
struct ctdp_zone *ctdp_zone_get(struct ctdp_ct *, uint16_t zone);
struct ctdp_zone *ctdp_zone_find(const struct ctdp_ct *, uint16_t zone);
bool ctdp_zone_reserve(struct ctdp_ct *, struct ctdp_zone *,
                       struct ctdp_conn *, struct ctdp_zone_pending *);
void ctdp_zone_cancel(struct ctdp_zone_pending *);
void ctdp_zone_unreserve(struct ctdp_zone *);
uint32_t ctdp_zone_count(const struct ctdp_zone *);
void ctdp_zone_push(struct ctdp_zone_pending *, struct ctdp_conn *);
void ctdp_zone_settle(struct ctdp_zone_pending *);
void ctdp_zone_unlink(const struct ctdp_ct *, struct ctdp_zone *,
                      struct ctdp_conn *);
struct ctdp_conn *ctdp_zone_first(struct ctdp_zone_lane *);
struct ctdp_conn *ctdp_zone_next(const struct ctdp_ct *, struct ctdp_conn *);
struct ctdp_conn *ctdp_zone_cursor(struct ctdp_zone_lane *);
void ctdp_zone_set_cursor(struct ctdp_zone_lane *, struct ctdp_conn *);
const struct ctdp_timeout_policy *ctdp_zone_policy(const struct ctdp_ct *,
                                                   uint16_t zone);
void ctdp_zones_destroy(struct ctdp_ct *);

/* ctdp-event.c */
void ctdp_event_emit(struct ctdp_ct *, enum ctdp_ct_event_type,
                     struct ctdp_conn *, long long now);
void ctdp_event_emit_destroy(struct ctdp_ct *, struct ctdp_conn *,
                             long long expires, long long now);
void ctdp_event_emit_expect(struct ctdp_ct *, enum ctdp_ct_event_type,
                            const struct ctdp_ct_expect_entry *,
                            long long now);
void ctdp_events_destroy(struct ctdp_ct *);

static inline bool
ctdp_events_wanted(const struct ctdp_ct *ct)
{
    size_t n;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_ct *, ct)->n_listeners, &n);
    return n > 0;
}

#endif /* ctdp-ct-private.h */
