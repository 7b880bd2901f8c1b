#ifndef CTDP_IPF_H
#define CTDP_IPF_H 1

/* IP defragmentation in front of the tracker.
 *
 * As the kernel's nf_defrag_ipv4 / nf_conntrack_reasm do before
 * nf_conntrack_in(), fragments are gathered before tracking, so that a
 * fragmented datagram is tracked once, with its L4 header.  Unlike the
 * kernel, and as Open vSwitch's userspace datapath does, the fragments
 * themselves are kept: what leaves a port is what arrived.
 *
 *     switch (ctdp_ipf_gather(ipf, pkt, zone, now, &dgram)) {
 *     case CTDP_IPF_NOT_FRAGMENT: track 'pkt' as it is;
 *     case CTDP_IPF_HELD:         'pkt' now belongs to 'ipf'; stop here;
 *     case CTDP_IPF_DROPPED:      'pkt' was freed (and counted); stop;
 *     case CTDP_IPF_COMPLETE:
 *         track 'dgram.whole' (the reassembled datagram); then, for each
 *         of 'dgram.frags' in order, ctdp_ipf_copy_ct(frag, dgram.whole)
 *         and let the fragment go on; free 'dgram.whole';
 *         ctdp_ipf_dgram_destroy(&dgram).
 *     }
 *
 * Reassembly queues are keyed by IP version, source, destination, IP id
 * (IPv6: the fragment header's identification), protocol and zone.  The
 * IPv6 fragment header may follow any chain of hop-by-hop, routing,
 * destination-options and AH headers, and other extension headers may
 * follow it in the fragmentable part.  On completion, 'dgram.frags' holds
 * every original fragment, 'pkt' included, in offset order, and
 * 'dgram.whole' a new packet: the first fragment's link and network
 * headers (IPv6: without the fragment header), then the payloads.
 *
 * Policy, every drop counted by reason and IP version (CTDP_IPF_COUNTERS):
 *   - a queue expires 'timeout' ms (15 s) after its first fragment; its
 *     fragments are then freed (kernel behaviour: never tracked);
 *   - an IPv4 fragment's header checksum must be right (IP input checks
 *     it before the kernel's defrag hook);
 *   - a fragment other than the last must be at least the version's
 *     minimum size (IP total length; OVS's 1200 and 1280 by default) and
 *     carry a multiple of 8 bytes (the kernel trims it instead; OVS does
 *     not check; a sender never makes one);
 *   - the first fragment must hold the whole L4 header (RFC 1858, 7112);
 *   - a datagram may not exceed 65535 bytes (nor, with its link header,
 *     the 65535 bytes a dp_packet holds), nor have more than
 *     'max_dgram_frags' fragments;
 *   - as the kernel's inet_frag_queue_insert() (RFC 5722 with erratum
 *     3089): a fragment whose data is all held already is a duplicate,
 *     dropped alone (a second identical last fragment counts as
 *     "duplicate last"); one that overlaps held data in part is dropped,
 *     and so is its datagram; so is a datagram given an empty fragment,
 *     data past its last fragment, or a second last fragment that ends
 *     elsewhere;
 *   - at most 'nfrag_max' fragments and 'max_memory' bytes are held in
 *     total: a fragment that does not fit evicts the oldest queues, as
 *     the project's defrag issue asks (and the kernel did before 4.17;
 *     it now refuses new queues, as OVS refuses the fragment), so that a
 *     flood of datagrams that never complete cannot block new ones.
 *   An incomplete datagram never reaches the tracker, so never makes a
 *   conn.
 *
 * Time: every call takes 'now' in ms from the caller's clock; expiry is
 * tested by moving 'now' (ctdp_ipf_expire(), and in gather).
 *
 * Thread-safety: every function may be called from any number of threads
 * at once, except ctdp_ipf_destroy().  One mutex guards the queues (taken
 * only for fragments); ctdp_ipf_gather() on a packet that is not a
 * fragment only reads its IP header, and takes no lock.
 *
 * Errors: setters return 0 or a positive errno (EINVAL: out of range),
 * and change nothing on error. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ctdp-tuple.h"

struct dp_packet;

enum ctdp_ipf_version {
    CTDP_IPF_V4,
    CTDP_IPF_V6,
    CTDP_IPF_N_VERSIONS
};

/* Defaults and bounds, as Open vSwitch's lib/ipf.c (sizes) and the
 * kernel's ipfrag_high_thresh (memory). */
#define CTDP_IPF_DEFAULT_TIMEOUT_MS 15000
#define CTDP_IPF_DEFAULT_MIN_FRAG_V4 1200
#define CTDP_IPF_DEFAULT_MIN_FRAG_V6 1280
#define CTDP_IPF_MIN_FRAG_LBOUND 400
#define CTDP_IPF_DEFAULT_NFRAG_MAX 1000
#define CTDP_IPF_NFRAG_UBOUND 5000
#define CTDP_IPF_DEFAULT_DGRAM_FRAGS 64
#define CTDP_IPF_DEFAULT_MAX_MEMORY (4 * 1024 * 1024)

/* Fragment counters per IP version.  The first six are Open vSwitch's
 * (ipf-get-status names them so); the rest name ctdp's other reasons.
 * accepted = completed + expired + purged + discarded + still held. */
#define CTDP_IPF_COUNTERS                                               \
    CTDP_IPF_COUNTER(ACCEPTED, "accepted")     /* Held in a queue. */   \
    CTDP_IPF_COUNTER(COMPLETED, "completed")   /* Released, whole. */   \
    CTDP_IPF_COUNTER(EXPIRED, "expired")       /* Freed on timeout. */  \
    CTDP_IPF_COUNTER(TOO_SMALL, "too small")   /* Below min size. */    \
    CTDP_IPF_COUNTER(OVERLAP, "overlapped")    /* Overlapping. */       \
    CTDP_IPF_COUNTER(PURGED, "purged")         /* Evicted for room. */  \
    CTDP_IPF_COUNTER(DISCARDED, "discarded")   /* Held, then freed for  \
                                                * a bad later one. */   \
    CTDP_IPF_COUNTER(TOO_SHORT, "first too short") /* No L4 header. */  \
    CTDP_IPF_COUNTER(OVERSIZE, "oversized")    /* Past 65535 bytes. */  \
    CTDP_IPF_COUNTER(DUP_LAST, "duplicate last")                        \
    CTDP_IPF_COUNTER(DUPLICATE, "duplicate")   /* Data held already. */ \
    CTDP_IPF_COUNTER(TOO_MANY, "too many")     /* Per datagram. */      \
    CTDP_IPF_COUNTER(NO_ROOM, "no room")       /* Bigger than bounds. */\
    CTDP_IPF_COUNTER(MALFORMED, "malformed")   /* Bad headers. */

enum ctdp_ipf_counter {
#define CTDP_IPF_COUNTER(ENUM, NAME) CTDP_IPF_##ENUM,
    CTDP_IPF_COUNTERS
#undef CTDP_IPF_COUNTER
    CTDP_IPF_N_COUNTERS
};

const char *ctdp_ipf_counter_name(enum ctdp_ipf_counter);

/* ---- Creation and settings --------------------------------------------- */

struct ctdp_ipf *ctdp_ipf_create(void);
void ctdp_ipf_destroy(struct ctdp_ipf *);

/* Reassembly on or off per IP version (on by default).  With it off,
 * ctdp_ipf_gather() returns CTDP_IPF_NOT_FRAGMENT for that version's
 * fragments, which the tracker then marks invalid; queues already held
 * complete or expire as before. */
void ctdp_ipf_set_enabled(struct ctdp_ipf *, enum ctdp_ipf_version, bool);
/* The minimum IP total length of a fragment other than the last: EINVAL
 * below CTDP_IPF_MIN_FRAG_LBOUND. */
int ctdp_ipf_set_min_frag(struct ctdp_ipf *, enum ctdp_ipf_version,
                          uint32_t);
/* The most fragments held in total: EINVAL above CTDP_IPF_NFRAG_UBOUND. */
int ctdp_ipf_set_max_nfrags(struct ctdp_ipf *, uint32_t);
/* The most fragments per datagram: EINVAL for 0 or above 65535 / 8. */
int ctdp_ipf_set_max_dgram_frags(struct ctdp_ipf *, uint32_t);
/* The most bytes that held fragments and their queues may use: EINVAL
 * for 0. */
int ctdp_ipf_set_max_memory(struct ctdp_ipf *, size_t);

/* ---- The packet path --------------------------------------------------- */

enum ctdp_ipf_result {
    CTDP_IPF_NOT_FRAGMENT,      /* Not a fragment, or reassembly is off for
                                 * its IP version: track it as it is. */
    CTDP_IPF_HELD,              /* Queued: the packet belongs to 'ipf'. */
    CTDP_IPF_DROPPED,           /* Freed, and counted. */
    CTDP_IPF_COMPLETE,          /* Completed a datagram: see 'dgram'. */
};

/* A completed datagram.  The caller owns every packet in it. */
struct ctdp_ipf_dgram {
    struct dp_packet *whole;    /* Reassembled; metadata copied from the
                                 * completing fragment, 'md.conn' NULL. */
    struct dp_packet **frags;   /* The originals, in offset order. */
    size_t n_frags;
    size_t data_ofs;            /* Where the fragmentable part of the
                                 * datagram starts in 'whole'. */
};

/* Offers 'pkt' (an Ethernet frame; its L3 offset is used if set) to
 * reassembly in 'zone' at 'now'.  A conn 'pkt' carried must have been
 * released already (ctdp_ct_packet_done()): a held packet's 'md.conn' is
 * cleared. */
enum ctdp_ipf_result ctdp_ipf_gather(struct ctdp_ipf *, struct dp_packet *,
                                     uint16_t zone, long long now,
                                     struct ctdp_ipf_dgram *);
/* Frees 'dgram''s array (not its packets). */
void ctdp_ipf_dgram_destroy(struct ctdp_ipf_dgram *);
/* Brings 'frag', one of the original fragments of 'dgram' (or a copy of
 * one), up to date with 'dgram->whole' as the datapath has changed it
 * since (NAT): its addresses, with a new IPv4 header checksum, and the
 * bytes of the datagram it carries, so that the first fragment gets the
 * L4 header's ports and checksum.  So the fragments can be sent in place
 * of the datagram, as Open vSwitch's userspace datapath sends them. */
void ctdp_ipf_sync_fragment(struct dp_packet *frag,
                            const struct ctdp_ipf_dgram *dgram);

/* Frees the queues expired at 'now' and returns how many fragments that
 * freed. */
size_t ctdp_ipf_expire(struct ctdp_ipf *, long long now);

/* ---- Status ------------------------------------------------------------ */

struct ctdp_ipf_status {
    bool enabled[CTDP_IPF_N_VERSIONS];
    uint32_t min_frag[CTDP_IPF_N_VERSIONS];
    uint32_t nfrag_max;             /* Total bound on held fragments. */
    uint32_t nfrag;                 /* Fragments held now. */
    uint32_t max_dgram_frags;
    uint32_t n_queues;
    unsigned int timeout_ms;
    size_t memory, max_memory;      /* Bytes held now, and the bound. */
    uint64_t counters[CTDP_IPF_N_VERSIONS][CTDP_IPF_N_COUNTERS];
};

void ctdp_ipf_get_status(struct ctdp_ipf *, struct ctdp_ipf_status *);

/* One pending queue, for the verbose status. */
struct ctdp_ipf_queue_info {
    enum ctdp_ipf_version version;
    union ctdp_addr src, dst;
    uint32_t id;
    uint16_t zone;
    uint8_t nw_proto;               /* IPv6: 0 until the first fragment. */
    uint32_t n_frags;
    bool first_in, last_in;         /* Offset 0 / the last one arrived. */
    long long expires;
};

/* Returns a malloc'd snapshot of the pending queues, oldest first, and
 * stores their number in '*n'. */
struct ctdp_ipf_queue_info *ctdp_ipf_queues(struct ctdp_ipf *, size_t *n);

#endif /* ctdp-ipf.h */
