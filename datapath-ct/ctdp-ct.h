#ifndef CTDP_CT_H
#define CTDP_CT_H 1

/* The connection tracker.
 *
 * ctdp's tracker follows the Linux kernel's nf_conntrack.  A datapath runs
 * the ct() action on a batch of packets with ctdp_ct_execute():
 *
 *   - each packet's tuple is read (ctdp-tuple.h) in the action's zone and
 *     looked up in both directions; a miss creates an *unconfirmed* conn
 *     attached to the packet;
 *   - the protocol's tracker (TCP, UDP, ICMP/ICMPv6, SCTP, GRE, generic)
 *     validates the packet, advances the conn's state and picks its
 *     timeout;
 *   - the results land in the packet's metadata (struct pkt_metadata):
 *     ct_state (CS_TRACKED with CS_NEW, CS_ESTABLISHED, CS_RELATED,
 *     CS_REPLY_DIR or CS_INVALID), ct_zone, ct_mark, ct_label, the
 *     original-direction tuple, and the conn itself in 'md.conn';
 *   - with 'commit', the conn is *confirmed*: both directions are inserted,
 *     a clash with an entry confirmed meanwhile is resolved as the kernel
 *     does, and the mark and label are applied.
 *
 * Only commit creates state.  A packet that leaves the pipeline must be
 * passed to ctdp_ct_packet_done(), which frees an unconfirmed conn attached
 * to it; ct_clear is ctdp_ct_clear().  A packet the tracker drops (a
 * failed confirm, a full table or zone) is removed from the batch and
 * freed by ctdp_ct_execute() itself, and counted in 'drop'.  A second
 * ct() in the same zone reuses the conn the packet carries instead of
 * tracking it again (the kernel's "already tracked" case, counted as
 * 'ignore').
 *
 * Time: every call that needs the time takes 'now' in milliseconds, from
 * any clock the caller likes (monotonic for a daemon, packet timestamps for
 * a capture replay, anything for a test); the tracker never reads a clock.
 *
 * Thread-safety: every function may be called from any number of threads
 * at once, except ctdp_ct_destroy().  Lookups take no lock; writers lock
 * only the hash buckets involved (docs/TRACKER.md has the lock order).
 * Conns are freed through Open vSwitch's RCU (ovs-rcu.h): every thread that
 * calls into the tracker must quiesce from time to time (ovsrcu_quiesce()),
 * and must not hold a packet's 'md.conn' across a quiescent point.  A
 * packet's unconfirmed conn belongs to that packet and to the thread that
 * processes it.
 *
 * Errors: functions that can fail return 0 or a positive errno value. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ctdp-tuple.h"
#include "openvswitch/types.h"

struct dp_packet;
struct dp_packet_batch;

/* ---- Creation ---------------------------------------------------------- */

/* Where ctdp_ct_params' 'test_delay' is called. */
enum ctdp_test_point {
    CTDP_TEST_REMOVE,         /* A removal marked a conn DYING and has not
                               * unlinked it yet. */
    CTDP_TEST_LOOKUP_DEAD,    /* A lookup stands on a conn with its tuple
                               * that is expired or DYING. */
    CTDP_TEST_CONFIRMED,      /* A confirm has put its conn in the table and
                               * released the bucket locks. */
    CTDP_TEST_RESERVE,        /* A confirm has read the table's count, far
                               * from the limit, and not yet added to it. */
};

struct ctdp_ct_params {
    uint32_t max_conns;       /* 0: CTDP_CT_DEFAULT_MAX_CONNS. */
    uint32_t n_buckets;       /* Initial buckets, rounded up to a power of
                               * 2, at least 4096 (CTDP_MIN_BUCKETS; 0:
                               * 4096).  The table doubles whenever its
                               * entries (one or two a conn) pass eight
                               * per bucket (ctdp-table.c). */
    uint32_t max_chain;       /* Longest chain confirm accepts; 0: the
                               * kernel's bound, random in [50, 80). */
    /* Default timeouts: slots set here replace the kernel's for every
     * zone; a zone's own policy (ctdp_ct_set_timeout_policy()) replaces
     * these in turn.  NULL: the kernel's. */
    const struct ctdp_timeout_policy *timeouts;
    /* For tests only: replaces the keyed hash (e.g. with a constant, to
     * put every conn in one chain).  NULL in production. */
    uint32_t (*hash)(const struct ctdp_tuple *);
    /* For tests only: called at the points below, to widen race windows
     * (e.g. by sleeping).  NULL in production; the points are off the
     * fast path. */
    void (*test_delay)(enum ctdp_test_point);
};

#define CTDP_CT_DEFAULT_MAX_CONNS 3000000

struct ctdp_ct *ctdp_ct_create(const struct ctdp_ct_params *);
void ctdp_ct_destroy(struct ctdp_ct *);

/* ---- The ct() action --------------------------------------------------- */

/* A NAT range, as Open vSwitch's nat(src=...) and nat(dst=...) and the
 * kernel's struct nf_nat_range2.  Ports are in host byte order. */
enum ctdp_nat_flag {
    CTDP_NAT_SRC = 1 << 0,          /* Source NAT (else...) */
    CTDP_NAT_DST = 1 << 1,          /* ...destination NAT. */
    CTDP_NAT_PORTS = 1 << 2,        /* 'min_port'..'max_port' given. */
    CTDP_NAT_RANDOM = 1 << 3,       /* NF_NAT_RANGE_PROTO_RANDOM: never
                                     * keep the port, start at random. */
    CTDP_NAT_HASH = 1 << 4,         /* Start the port search at a hash of
                                     * the conn (Open vSwitch's 'hash'). */
    CTDP_NAT_PERSISTENT = 1 << 5,   /* NF_NAT_RANGE_PERSISTENT: the address
                                     * depends on the source only. */
};

struct ctdp_nat_range {
    uint8_t flags;                  /* CTDP_NAT_*; no SRC or DST: none. */
    uint8_t l3;                     /* enum ctdp_l3 of the addresses. */
    union ctdp_addr min_addr, max_addr;
    uint16_t min_port, max_port;
};

struct ctdp_ct_action {
    uint16_t zone;
    bool commit;
    bool force;               /* With commit: a conn found in the reply
                               * direction is ended and a new one made in
                               * this packet's direction. */
    bool set_mark;            /* With commit: mark = (mark & ~mask)
                               *                  | (value & mask). */
    uint32_t mark, mark_mask;
    bool set_label;           /* With commit: likewise for the label. */
    ovs_u128 label, label_mask;
    /* NAT (ctdp-nat.c).  'nat': translate the packet by its conn's binding
     * (Open vSwitch's bare 'nat').  With a range (CTDP_NAT_SRC or
     * CTDP_NAT_DST in 'nat_range.flags'), a conn not yet confirmed gets
     * its binding from the range first; a confirmed conn keeps the one it
     * has. */
    bool nat;
    struct ctdp_nat_range nat_range;
    const char *helper;       /* With commit: "ftp" or "tftp" (the
                               * kernel's helpers, ctdp-helper-*.c) for a
                               * conn not yet confirmed; NULL for none. */
};

const char *ctdp_ct_action_check(const struct ctdp_ct_action *);
void ctdp_ct_execute(struct ctdp_ct *, struct dp_packet_batch *,
                     const struct ctdp_ct_action *, long long now);
void ctdp_ct_packet_done(struct ctdp_ct *, struct dp_packet *);
void ctdp_ct_clear(struct ctdp_ct *, struct dp_packet *);

/* ---- Conns as seen from outside (dump, events) ------------------------- */

/* Status bits, numbered as the kernel's IPS_* bits. */
#define CTDP_STATUS_BITS                                \
    CTDP_STATUS(EXPECTED, 0, "EXPECTED")                \
    CTDP_STATUS(SEEN_REPLY, 1, "SEEN_REPLY")            \
    CTDP_STATUS(ASSURED, 2, "ASSURED")                  \
    CTDP_STATUS(CONFIRMED, 3, "CONFIRMED")              \
    CTDP_STATUS(SRC_NAT, 4, "SRC_NAT")                  \
    CTDP_STATUS(DST_NAT, 5, "DST_NAT")                  \
    CTDP_STATUS(SEQ_ADJUST, 6, "SEQ_ADJUST")            \
    CTDP_STATUS(SRC_NAT_DONE, 7, "SRC_NAT_DONE")        \
    CTDP_STATUS(DST_NAT_DONE, 8, "DST_NAT_DONE")        \
    CTDP_STATUS(DYING, 9, "DYING")                      \
    CTDP_STATUS(FIXED_TIMEOUT, 10, "FIXED_TIMEOUT")

enum {
#define CTDP_STATUS(NAME, BIT, STR) CTDP_S_##NAME = 1 << BIT,
    CTDP_STATUS_BITS
#undef CTDP_STATUS
};

enum ctdp_ct_dir {
    CTDP_DIR_ORIG,
    CTDP_DIR_REPLY,
};

struct ctdp_ct_entry {
    struct ctdp_tuple orig;         /* 'orig.zone' is the conn's zone. */
    struct ctdp_tuple reply;
    uint64_t id;
    uint32_t status;                /* CTDP_S_*. */
    uint32_t mark;
    ovs_u128 label;
    uint64_t packets[2], bytes[2];  /* Indexed by enum ctdp_ct_dir; bytes
                                     * of IP packets (not frames), as the
                                     * kernel counts. */
    bool acct;                      /* 'packets' and 'bytes' are counted
                                     * (nf_conntrack_acct). */
    bool timestamp;                 /* 'start' is shown
                                     * (nf_conntrack_timestamp). */
    long long start;                /* 'now' when the conn was made. */
    long long expires;              /* 'now' at which it times out. */
    const char *l4_state;           /* Protocol state name, or NULL. */
    /* TCP only, by direction: window scale and CTDP_TCP_F_* flags. */
    uint8_t tcp_wscale[2];
    uint8_t tcp_flags[2];
    /* SCTP only, by direction: the verification tags, in host order. */
    uint32_t sctp_vtag[2];
    /* GRE only: the timeouts the conn got when it was made, in seconds,
     * before and after a reply (the kernel prints them). */
    uint32_t gre_timeout, gre_stream_timeout;
    const char *helper;             /* "ftp", "tftp", or NULL. */
};

/* An expectation as seen from outside: the conn a helper expects ('tuple',
 * with any source port: 'sport' 0), in its master's zone. */
struct ctdp_ct_expect_entry {
    struct ctdp_tuple tuple;
    struct ctdp_tuple master;       /* The master's original tuple... */
    struct ctdp_tuple master_reply; /* ...and its reply tuple. */
    const char *helper;
    long long expires;              /* 'now' at which it times out. */
    uint32_t id;
};

/* TCP per-direction flags, as the kernel's IP_CT_TCP_FLAG_*. */
#define CTDP_TCP_FLAGS                                          \
    CTDP_TCP_FLAG(WINDOW_SCALE, 0x01)                           \
    CTDP_TCP_FLAG(SACK_PERM, 0x02)                              \
    CTDP_TCP_FLAG(CLOSE_INIT, 0x04)                             \
    CTDP_TCP_FLAG(BE_LIBERAL, 0x08)                             \
    CTDP_TCP_FLAG(DATA_UNACKNOWLEDGED, 0x10)                    \
    CTDP_TCP_FLAG(MAXACK_SET, 0x20)

enum {
#define CTDP_TCP_FLAG(NAME, VALUE) CTDP_TCP_F_##NAME = VALUE,
    CTDP_TCP_FLAGS
#undef CTDP_TCP_FLAG
};

/* TCP tracking knobs, as the kernel's sysctls: 'loose' picks up
 * connections met in the middle (nf_conntrack_tcp_loose, on by default),
 * 'be_liberal' accepts out-of-window segments (nf_conntrack_tcp_be_liberal,
 * off), and 'seq_check' off (Open vSwitch's ct-disable-tcp-seq-chk) skips
 * sequence and window checks altogether. */
void ctdp_ct_set_tcp_loose(struct ctdp_ct *, bool);
/* The FTP helper's 'loose' (the kernel's nf_conntrack_ftp module
 * parameter, off by default): with it, a PORT or 227 naming another
 * address than the sender's still opens the data connection, to that
 * address. */
void ctdp_ct_set_ftp_loose(struct ctdp_ct *, bool);
bool ctdp_ct_get_ftp_loose(const struct ctdp_ct *);
void ctdp_ct_set_tcp_be_liberal(struct ctdp_ct *, bool);
void ctdp_ct_set_tcp_seq_check(struct ctdp_ct *, bool);
bool ctdp_ct_get_tcp_seq_check(const struct ctdp_ct *);

/* ---- Events ------------------------------------------------------------ */

enum ctdp_ct_event_type {
    CTDP_EVENT_NEW,                 /* Confirmed. */
    CTDP_EVENT_UPDATE,              /* Reply seen, assured, protocol state,
                                     * mark or label changed. */
    CTDP_EVENT_DESTROY,             /* Removed: expired, flushed, ended. */
    /* Expectations, for listeners made by ctdp_ct_listen_expect(). */
    CTDP_EVENT_EXPECT_NEW,          /* A helper made one. */
    CTDP_EVENT_EXPECT_DESTROY,      /* Used up, expired, replaced, or gone
                                     * with its master. */
};

struct ctdp_ct_event {
    enum ctdp_ct_event_type type;
    struct ctdp_ct_entry entry;     /* For DESTROY: the final counters. */
    struct ctdp_ct_expect_entry expect;     /* For EXPECT_* events. */
    long long time;                 /* 'now' when it happened (for DESTROY,
                                     * the removal). */
};

/* A listener receives events into a bounded queue that the datapath never
 * waits on: events that do not fit are counted as lost.  One made by
 * ctdp_ct_listen() gets the conns' events, one made by
 * ctdp_ct_listen_expect() the expectations' (as `conntrack -E` and
 * `conntrack -E expect`).  'zone' < 0
 * listens to every zone.  Listening costs the packet path nothing while no
 * listener exists; each listener costs it a copy of every event, so there
 * are at most CTDP_CT_MAX_LISTENERS: beyond, ctdp_ct_listen() returns
 * NULL. */
#define CTDP_CT_MAX_LISTENERS 16
struct ctdp_ct_listener *ctdp_ct_listen(struct ctdp_ct *, size_t capacity,
                                        int zone);
struct ctdp_ct_listener *ctdp_ct_listen_expect(struct ctdp_ct *,
                                               size_t capacity, int zone);
size_t ctdp_ct_n_listeners(const struct ctdp_ct *);
/* Moves up to 'max' queued events, oldest first, to the array and returns
 * how many; adds to '*lost' the events dropped since the previous poll. */
size_t ctdp_ct_listener_poll(struct ctdp_ct_listener *,
                             struct ctdp_ct_event *, size_t max,
                             uint64_t *lost);
void ctdp_ct_unlisten(struct ctdp_ct_listener *);

/* ---- Dump and flush ---------------------------------------------------- */

/* A dump visits every conn that is in the table for the whole dump exactly
 * once, in no particular order, while the table changes and grows
 * concurrently; a conn inserted or removed during the dump may or may not
 * be seen.  Conns expired at 'now' are not shown, swept or not.  'zone' < 0
 * dumps every zone.  The dumping thread may quiesce between calls to
 * ctdp_ct_dump_next(). */
struct ctdp_ct_dump *ctdp_ct_dump_start(struct ctdp_ct *, int zone,
                                        long long now);
bool ctdp_ct_dump_next(struct ctdp_ct_dump *, struct ctdp_ct_entry *);
void ctdp_ct_dump_done(struct ctdp_ct_dump *);

/* Bytes of conns (and the table's overflow buckets) allocated from the
 * tracker's pool and not yet freed; '*mapped' gets the bytes of chunks the
 * pool has taken (address space, backed as it is used), the bucket
 * arrays' included, which it keeps until the tracker is destroyed.  The
 * bucket arrays are not counted in the bytes allocated. */
uint64_t ctdp_ct_memory(const struct ctdp_ct *, uint64_t *mapped);

/* The table's chain lengths, for ct-bkts: see ctdp-dump.c. */
uint32_t *ctdp_ct_chain_lengths(struct ctdp_ct *, uint32_t *n_buckets);

/* Which conns a flush removes.  Every part that is set must match. */
struct ctdp_ct_flush_filter {
    int zone;                       /* < 0: every zone. */
    /* Partial tuples: a field that is zero in 'orig_mask' (or
     * 'reply_mask') is not compared.  Zones are matched by 'zone'. */
    bool match_orig, match_reply;
    struct ctdp_tuple orig, orig_mask;
    struct ctdp_tuple reply, reply_mask;
    bool match_mark;
    uint32_t mark, mark_mask;
    bool match_label;
    ovs_u128 label, label_mask;
};

void ctdp_ct_flush_filter_init(struct ctdp_ct_flush_filter *);
size_t ctdp_ct_flush(struct ctdp_ct *, const struct ctdp_ct_flush_filter *,
                     long long now);

/* ---- Expectations ------------------------------------------------------ */

/* Sets '*entries' to a new array (free() it) of the live expectations of
 * 'zone' (< 0: every zone) and returns how many. */
size_t ctdp_ct_expect_dump(struct ctdp_ct *, int zone, long long now,
                           struct ctdp_ct_expect_entry **entries);
size_t ctdp_ct_expect_flush(struct ctdp_ct *, int zone, long long now);
uint32_t ctdp_ct_n_expects(const struct ctdp_ct *);
/* The kernel's nf_conntrack_expect_max: at most this many expectations;
 * a helper's new one beyond is refused (its packet dropped). */
void ctdp_ct_set_expect_max(struct ctdp_ct *, uint32_t);
uint32_t ctdp_ct_get_expect_max(const struct ctdp_ct *);

/* ---- Expiry ------------------------------------------------------------ */

/* Removes expired conns, visiting at most 'budget' conns from where the
 * previous call stopped, so that a table of millions is swept a slice at a
 * time.  Returns the number removed.  An expired conn is invisible to
 * lookups from the moment it expires, whether or not it was swept yet. */
size_t ctdp_ct_sweep(struct ctdp_ct *, long long now, size_t budget);
void ctdp_ct_set_sweep_interval(struct ctdp_ct *, unsigned int ms);
unsigned int ctdp_ct_get_sweep_interval(const struct ctdp_ct *);

/* ---- Limits ------------------------------------------------------------ */

uint32_t ctdp_ct_n_conns(const struct ctdp_ct *);
void ctdp_ct_set_max_conns(struct ctdp_ct *, uint32_t);
uint32_t ctdp_ct_get_max_conns(const struct ctdp_ct *);

/* Per-zone limits: a zone without its own limit has the default limit;
 * 0 means unlimited. */
void ctdp_ct_set_default_zone_limit(struct ctdp_ct *, uint32_t limit);
uint32_t ctdp_ct_get_default_zone_limit(const struct ctdp_ct *);
void ctdp_ct_set_zone_limit(struct ctdp_ct *, uint16_t zone, uint32_t limit);
void ctdp_ct_del_zone_limit(struct ctdp_ct *, uint16_t zone);
/* Returns the zone's limit (its own or the default) and its conn count;
 * 'has_own' tells whether the zone has its own limit. */
uint32_t ctdp_ct_get_zone_limit(const struct ctdp_ct *, uint16_t zone,
                                uint32_t *count, bool *has_own);

/* ---- Timeouts ---------------------------------------------------------- */

/* Timeout slots, with the kernel's defaults in seconds.  A timeout policy
 * gives some slots other values for one zone. */
#define CTDP_TIMEOUTS                                           \
    CTDP_TIMEOUT(TCP_SYN_SENT, "tcp_syn_sent", 120)             \
    CTDP_TIMEOUT(TCP_SYN_RECV, "tcp_syn_recv", 60)              \
    CTDP_TIMEOUT(TCP_ESTABLISHED, "tcp_established", 432000)    \
    CTDP_TIMEOUT(TCP_FIN_WAIT, "tcp_fin_wait", 120)             \
    CTDP_TIMEOUT(TCP_CLOSE_WAIT, "tcp_close_wait", 60)          \
    CTDP_TIMEOUT(TCP_LAST_ACK, "tcp_last_ack", 30)              \
    CTDP_TIMEOUT(TCP_TIME_WAIT, "tcp_time_wait", 120)           \
    CTDP_TIMEOUT(TCP_CLOSE, "tcp_close", 10)                    \
    CTDP_TIMEOUT(TCP_SYN_SENT2, "tcp_syn_sent2", 120)           \
    CTDP_TIMEOUT(TCP_RETRANSMIT, "tcp_retransmit", 300)         \
    CTDP_TIMEOUT(TCP_UNACK, "tcp_unack", 300)                   \
    CTDP_TIMEOUT(UDP_UNREPLIED, "udp_unreplied", 30)            \
    CTDP_TIMEOUT(UDP_REPLIED, "udp_replied", 120)               \
    CTDP_TIMEOUT(ICMP, "icmp", 30)                              \
    CTDP_TIMEOUT(ICMPV6, "icmpv6", 30)                          \
    CTDP_TIMEOUT(GENERIC, "generic", 600)                       \
    CTDP_TIMEOUT(SCTP_CLOSED, "sctp_closed", 10)                \
    CTDP_TIMEOUT(SCTP_COOKIE_WAIT, "sctp_cookie_wait", 3)       \
    CTDP_TIMEOUT(SCTP_COOKIE_ECHOED, "sctp_cookie_echoed", 3)   \
    CTDP_TIMEOUT(SCTP_ESTABLISHED, "sctp_established", 210)     \
    CTDP_TIMEOUT(SCTP_SHUTDOWN_SENT, "sctp_shutdown_sent", 3)   \
    CTDP_TIMEOUT(SCTP_SHUTDOWN_RECD, "sctp_shutdown_recd", 3)   \
    CTDP_TIMEOUT(SCTP_SHUTDOWN_ACK_SENT, "sctp_shutdown_ack_sent", 3) \
    CTDP_TIMEOUT(SCTP_HEARTBEAT_SENT, "sctp_heartbeat_sent", 30) \
    CTDP_TIMEOUT(GRE_UNREPLIED, "gre_unreplied", 30)            \
    CTDP_TIMEOUT(GRE_REPLIED, "gre_replied", 180)

enum ctdp_timeout_slot {
#define CTDP_TIMEOUT(ENUM, NAME, SECS) CTDP_TM_##ENUM,
    CTDP_TIMEOUTS
#undef CTDP_TIMEOUT
    CTDP_TM_N
};

/* A policy: 'secs[i]' for slot i, or -1 to keep the default.  Setting or
 * deleting a zone's policy applies from each conn's next packet on: a
 * conn's current expiry time is not recomputed. */
struct ctdp_timeout_policy {
    int64_t secs[CTDP_TM_N];
};

const char *ctdp_timeout_slot_name(enum ctdp_timeout_slot);
uint32_t ctdp_timeout_default(enum ctdp_timeout_slot);
void ctdp_timeout_policy_init(struct ctdp_timeout_policy *);
void ctdp_ct_set_timeout_policy(struct ctdp_ct *, uint16_t zone,
                                const struct ctdp_timeout_policy *);
bool ctdp_ct_get_timeout_policy(const struct ctdp_ct *, uint16_t zone,
                                struct ctdp_timeout_policy *);
void ctdp_ct_del_timeout_policy(struct ctdp_ct *, uint16_t zone);

/* ---- Knobs ------------------------------------------------------------- */

/* The kernel's conntrack sysctls that ctdp honours, by the names they have
 * under /proc/sys/net/netfilter/ (ctdp-sysctl.c lists them): knob i is
 * read with ctdp_ct_sysctl_get() and set, while traffic runs, with
 * ctdp_ct_sysctl_parse() and ctdp_ct_sysctl_set().  The timeout knobs set
 * the tracker's default timeouts, which a zone's policy overrides. */
size_t ctdp_ct_sysctl_count(void);
const char *ctdp_ct_sysctl_name(size_t i);
bool ctdp_ct_sysctl_find(const char *name, size_t *i);
uint64_t ctdp_ct_sysctl_get(const struct ctdp_ct *, size_t i);
char *ctdp_ct_sysctl_parse(size_t i, const char *value, uint64_t *);
void ctdp_ct_sysctl_set(struct ctdp_ct *, size_t i, uint64_t);
uint32_t ctdp_ct_get_default_timeout(const struct ctdp_ct *,
                                     enum ctdp_timeout_slot);

/* ---- Statistics -------------------------------------------------------- */

/* The kernel's conntrack statistics (`conntrack -S`), plus ctdp's own
 * reasons for dropping, so that every drop has a named counter. */
#define CTDP_STATS                                                      \
    CTDP_STAT(found, "lookups that found a conn")                       \
    CTDP_STAT(invalid, "packets that could not be tracked")             \
    CTDP_STAT(ignore, "packets already tracked in this zone")           \
    CTDP_STAT(insert, "conns confirmed")                                \
    CTDP_STAT(insert_failed, "confirms that failed (clash, chain)")     \
    CTDP_STAT(drop, "packets dropped: table full, clash, zone limit")   \
    CTDP_STAT(early_drop, "unassured conns evicted for room")           \
    CTDP_STAT(error, "malformed packets and orphan ICMP errors")        \
    CTDP_STAT(search_restart, "lookups restarted (kept for the kernel's " \
              "format: ctdp's never restart)")                          \
    CTDP_STAT(clash_resolve, "clashes resolved by reusing the winner")  \
    CTDP_STAT(chaintoolong, "confirms refused for a too long chain")    \
    CTDP_STAT(zone_limit_drop, "commits refused by a zone limit")       \
    CTDP_STAT(not_ip, "non-IP packets sent to ct()")                    \
    CTDP_STAT(fragment, "fragments met with defragmentation off")      \
    CTDP_STAT(bad_checksum, "packets with a wrong IPv4 or L4 checksum") \
    CTDP_STAT(nat_exhausted, "new conns dropped: no free tuple in the "  \
              "NAT range")                                              \
    CTDP_STAT(expect_new, "conns that used up an expectation")           \
    CTDP_STAT(expect_create, "expectations created")                    \
    CTDP_STAT(expect_delete, "expectations removed")                    \
    CTDP_STAT(helper_drop, "packets a helper dropped (a partial or "     \
              "unexpectable command)")

struct ctdp_ct_stats {
#define CTDP_STAT(NAME, HELP) uint64_t NAME;
    CTDP_STATS
#undef CTDP_STAT
};

void ctdp_ct_get_stats(const struct ctdp_ct *, struct ctdp_ct_stats *);

#endif /* ctdp-ct.h */
