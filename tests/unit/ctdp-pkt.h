#ifndef CTDP_PKT_H
#define CTDP_PKT_H 1

/* Test packets, and the ct() calls that the tracker's tests make on them.
 *
 * The builders return a new Ethernet frame in a struct dp_packet whose
 * metadata is initialized (pkt_metadata_init()) and whose layer offsets are
 * unset (l3_ofs == UINT16_MAX), so that the tracker finds the IP header
 * itself; tpkt_set_offsets() gives the variant where the datapath already
 * parsed the frame.  Every checksum is correct, so that a packet the tracker
 * refuses is refused for the reason the test means.
 *
 *     struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
 *     struct dp_packet *pkt = tpkt_udp(&ip, 1000, 53, 0);
 *     int state = tpkt_ct(ct, pkt, &action, now);
 *     ...
 *     tpkt_free(ct, pkt);
 *
 * The corruption helpers rewrite one field of a packet these builders made
 * (they know its layout) and leave every other byte alone.
 *
 * Thread-safety: every function may be called from any thread; a packet
 * belongs to one thread at a time. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ctdp-ct.h"
#include "ctdp-tuple.h"
#include "packets.h"

struct dp_packet;

/* ---- Building packets -------------------------------------------------- */

/* The network layer of a test packet.  IPv6 packets carry 'n_ext'
 * extension headers (IPPROTO_HOPOPTS, IPPROTO_DSTOPTS or IPPROTO_ROUTING,
 * 8 bytes each) between the fixed header and the L4 header. */
struct tpkt_ip {
    bool v6;
    union ctdp_addr src, dst;
    uint8_t ext[4];
    size_t n_ext;
};

struct tpkt_ip tpkt_ip(const char *src, const char *dst);
struct tpkt_ip tpkt_ip4(uint32_t src, uint32_t dst);
struct tpkt_ip tpkt_ip_swap(const struct tpkt_ip *);

struct dp_packet *tpkt_l4(const struct tpkt_ip *, uint8_t proto,
                          const void *l4, size_t l4_size);
struct dp_packet *tpkt_udp(const struct tpkt_ip *, uint16_t sport,
                           uint16_t dport, size_t payload);
struct dp_packet *tpkt_tcp(const struct tpkt_ip *, uint16_t sport,
                           uint16_t dport, uint8_t flags);
/* A full TCP segment: 'seq' and 'ack' are written as given (also without
 * TCP_ACK), 'opts_len' bytes of options 'opts' (at most 40) are padded
 * with zeros (end of options) to a multiple of 4 bytes and the data
 * offset set to match, and 'payload' bytes of data (at most 1460)
 * follow. */
struct dp_packet *tpkt_tcp_seg(const struct tpkt_ip *, uint16_t sport,
                               uint16_t dport, uint8_t flags, uint32_t seq,
                               uint32_t ack, uint16_t win,
                               const uint8_t *opts, size_t opts_len,
                               size_t payload);
/* TCP options for tpkt_tcp_seg(): each writes one option at 'p', padded
 * in front with NOPs to a multiple of 4 bytes as stacks send them, and
 * returns how many bytes it wrote. */
size_t tpkt_tcp_opt_mss(uint8_t *p, uint16_t mss);
size_t tpkt_tcp_opt_wscale(uint8_t *p, uint8_t shift);
size_t tpkt_tcp_opt_sack_perm(uint8_t *p);
size_t tpkt_tcp_opt_sack(uint8_t *p, uint32_t left, uint32_t right);
struct dp_packet *tpkt_echo(const struct tpkt_ip *, bool reply, uint16_t id,
                            uint16_t seq);
struct dp_packet *tpkt_icmp_error(const struct tpkt_ip *, uint8_t type,
                                  uint8_t code, const struct dp_packet *inner,
                                  size_t max_quote);
struct dp_packet *tpkt_proto(const struct tpkt_ip *, uint8_t proto,
                             size_t payload);
struct dp_packet *tpkt_arp(void);
/* SCTP: the common header and 'chunks' as given, the CRC32c right
 * (tpkt_l4() computes it for IPPROTO_SCTP too). */
struct dp_packet *tpkt_sctp(const struct tpkt_ip *, uint16_t sport,
                            uint16_t dport, uint32_t vtag,
                            const void *chunks, size_t chunks_len);
bool tpkt_sctp_csum_ok(const struct dp_packet *);
uint32_t tpkt_crc32c(const uint8_t *, size_t);
/* GRE version 0 or PPTP's version 1 (carrying 'proto', to 'call_id'). */
struct dp_packet *tpkt_gre(const struct tpkt_ip *, uint8_t version,
                           uint16_t proto, uint16_t call_id);

/* ---- Offsets and corruption -------------------------------------------- */

#define TPKT_L3_OFS 14          /* Every builder's frame is untagged;
                                 * tpkt_vlan() makes a tagged copy, which
                                 * the corruption helpers do not handle. */

void tpkt_set_offsets(struct dp_packet *);
size_t tpkt_l4_ofs(const struct dp_packet *);
void tpkt_truncate(struct dp_packet *, size_t size);
void tpkt_pad(struct dp_packet *, size_t n);
struct dp_packet *tpkt_vlan(const struct dp_packet *, uint16_t vid);
void tpkt_set_ip_len(struct dp_packet *, uint16_t len);
void tpkt_set_ihl(struct dp_packet *, uint8_t ihl);
void tpkt_set_ip4_frag(struct dp_packet *, bool more, uint16_t offset);
void tpkt_set_udp_len(struct dp_packet *, uint16_t len);
void tpkt_set_tcp_doff(struct dp_packet *, uint8_t doff);

/* ---- Fragments --------------------------------------------------------- */

struct dp_packet *tpkt_udp_big(const struct tpkt_ip *, uint16_t sport,
                               uint16_t dport, size_t payload);
struct dp_packet *tpkt_frag(const struct dp_packet *whole, size_t n_unfrag,
                            uint32_t start, uint32_t len, bool more,
                            uint32_t id);
size_t tpkt_fragment(const struct dp_packet *whole, size_t n_unfrag,
                     uint32_t size, uint32_t id, struct dp_packet **out,
                     size_t max);
size_t tpkt_ip_bytes(const struct dp_packet *, const uint8_t **bytes);

/* ---- Driving ct() ------------------------------------------------------ */

/* tpkt_ct()'s result when the tracker took the packet out of its batch. */
#define TPKT_DROPPED 0x100

/* The ct_state values the tests expect. */
#define TRK_NEW (CS_TRACKED | CS_NEW)
#define TRK_EST (CS_TRACKED | CS_ESTABLISHED)
#define TRK_EST_RPL (CS_TRACKED | CS_ESTABLISHED | CS_REPLY_DIR)
#define TRK_REL (CS_TRACKED | CS_RELATED)
#define TRK_REL_RPL (CS_TRACKED | CS_RELATED | CS_REPLY_DIR)
#define TRK_INV (CS_TRACKED | CS_INVALID)

/* CHECK_STATE(got, want): like CHECK_EQ for ct_state values, printing them
 * as OVS does ("trk|new").  Main thread only, as every CHECK. */
#define CHECK_STATE(GOT, WANT) \
    tpkt_check_state((GOT), (WANT), #GOT, __FILE__, __LINE__)
bool tpkt_check_state(int got, int want, const char *expr, const char *file,
                      int line);

struct ctdp_ct_action tpkt_action(uint16_t zone, bool commit);
int tpkt_ct(struct ctdp_ct *, struct dp_packet *,
            const struct ctdp_ct_action *, long long now);
size_t tpkt_ct_batch(struct ctdp_ct *, struct dp_packet **, size_t n,
                     const struct ctdp_ct_action *, long long now);
int tpkt_ct1(struct ctdp_ct *, struct dp_packet *, uint16_t zone,
             bool commit, long long now);
int tpkt_ct1_action(struct ctdp_ct *, struct dp_packet *,
                    const struct ctdp_ct_action *, long long now);
int tpkt_udp_ct(struct ctdp_ct *, const struct tpkt_ip *, uint16_t sport,
                uint16_t dport, uint16_t zone, bool commit, long long now);
size_t tpkt_udp_batch(struct ctdp_ct *, uint32_t net, uint32_t first,
                      size_t n, uint16_t zone, bool commit, long long now);
void tpkt_ct_destroy(struct ctdp_ct *);
void tpkt_free(struct ctdp_ct *, struct dp_packet *);

void tpkt_tuple(struct ctdp_tuple *, const struct tpkt_ip *, uint8_t proto,
                uint16_t sport, uint16_t dport, uint16_t zone);
size_t tpkt_dump(struct ctdp_ct *, int zone, long long now,
                 struct ctdp_ct_entry *, size_t max);
bool tpkt_find(struct ctdp_ct *, const struct ctdp_tuple *orig, long long now,
               struct ctdp_ct_entry *);
const char *tpkt_state_name(int state, char *buf, size_t size);

/* A table hash for struct ctdp_ct_params' 'hash' (hash_bytes() of the
 * tuple) that counts its calls in 'tpkt_n_hashes': for tests of how often
 * the tracker hashes, on one thread. */
extern unsigned long tpkt_n_hashes;
uint32_t tpkt_counted_hash(const struct ctdp_tuple *);

#endif /* ctdp-pkt.h */
