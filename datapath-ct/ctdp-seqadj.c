/* Sequence adjustment, as the kernel's nf_conntrack_seqadj.c.
 *
 * When a NAT helper changes the length of a TCP payload (an FTP PORT
 * whose address text grew), the sender's later bytes sit at other
 * sequence numbers than the sender thinks: every later segment of that
 * direction has its sequence number shifted, and every segment of the
 * other direction its acknowledgement (and SACK blocks) shifted back, so
 * that each end sees the numbers it expects.  The protocol tracker sees
 * segments as they arrive (before their shift) and takes the peer's shift
 * off their acknowledgements (ctdp_seqadj_offset()).
 *
 * State is per direction in the conn's extension, under the conn's
 * lock. */
#include <config.h>
#include "ctdp-ct-private.h"

#include "csum.h"
#include "dp-packet.h"
#include "packets.h"

/* Records that a segment of 'dir' starting at 'seq' grew by 'off' bytes
 * (the kernel's nf_ct_seqadj_set()): a later change only moves the
 * correction point forward. */
void
ctdp_seqadj_set(struct ctdp_conn *conn, enum ctdp_ct_dir dir, uint32_t seq,
                int32_t off)
{
    struct ctdp_seqadj *w = &ctdp_conn_ext(conn)->seqadj[dir];

    if (!off) {
        return;
    }
    ctdp_conn_set_status(conn, CTDP_S_SEQ_ADJUST);
    if (w->offset_before == w->offset_after
        || ctdp_seq_after(seq, w->correction_pos)) {
        w->correction_pos = seq;
        w->offset_before = w->offset_after;
        w->offset_after += off;
    }
}

/* The shift of sequence number 'seq' under adjustment 'w'. */
static int32_t
way_offset(const struct ctdp_seqadj *w, uint32_t seq)
{
    return (ctdp_seq_after(seq, w->correction_pos) ? w->offset_after
                                                   : w->offset_before);
}

/* The shift of sequence number 'seq' in direction 'dir' (the kernel's
 * nf_ct_seq_offset()). */
int32_t
ctdp_seqadj_offset(const struct ctdp_conn *conn, enum ctdp_ct_dir dir,
                   uint32_t seq)
{
    return (ctdp_conn_status(conn) & CTDP_S_SEQ_ADJUST
            ? way_offset(&ctdp_conn_ext(conn)->seqadj[dir], seq) : 0);
}

static void
put_be32_csum(uint8_t *p, uint32_t new, ovs_be16 *csum)
{
    ovs_be32 old, nbe = htonl(new);

    memcpy(&old, p, 4);
    *csum = recalc_csum32(*csum, old, nbe);
    memcpy(p, &nbe, 4);
}

static uint32_t
get_be32_at(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Shifts the SACK blocks of 'th' (a TCP header of 'hlen' bytes) back by
 * 'w', the other direction's adjustment (the kernel's
 * nf_ct_sack_adjust()). */
static void
sack_adjust(uint8_t *th, size_t hlen, const struct ctdp_seqadj *w,
            ovs_be16 *csum)
{
    size_t i = 20;

    while (i < hlen) {
        uint8_t kind = th[i], len;

        if (kind == 0) {
            break;
        } else if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= hlen || (len = th[i + 1]) < 2 || i + len > hlen) {
            break;
        }
        if (kind == 5 && len >= 10 && (len - 2) % 8 == 0) {
            for (size_t b = i + 2; b + 4 <= i + len; b += 4) {
                uint32_t v = get_be32_at(th + b);

                put_be32_csum(th + b, v - way_offset(w, v - w->offset_before),
                              csum);
            }
        }
        i += len;
    }
}

/* Shifts the sequence number (and, for a segment with an ACK, the
 * acknowledgement and SACK blocks) of 'pkt', a segment of 'dir' of
 * 'conn', which has SEQ_ADJUST (the kernel's nf_ct_seq_adjust()).  Returns
 * false if the segment cannot be read. */
bool
ctdp_seqadj_packet(struct ctdp_conn *conn, enum ctdp_ct_dir dir,
                   struct dp_packet *pkt)
{
    struct ctdp_conn_ext *ext = ctdp_conn_ext(conn);
    const struct ctdp_seqadj *this_way = &ext->seqadj[dir];
    const struct ctdp_seqadj *other_way = &ext->seqadj[!dir];
    struct ctdp_parsed p;
    ovs_be16 *csum;
    uint8_t *th;
    uint32_t seq, ack;
    size_t hlen;

    /* Only the headers' places matter: the tracker judged the packet. */
    if (ctdp_tuple_extract(pkt, conn->key.zone, false, &p) != CTDP_PARSE_OK
        || p.key.nw_proto != IPPROTO_TCP || p.l4_size < TCP_HEADER_LEN) {
        return false;
    }
    th = CONST_CAST(uint8_t *, p.l4);
    hlen = (th[12] >> 4) * 4;
    csum = (ovs_be16 *) (th + 16);
    ctdp_conn_lock(conn);
    seq = get_be32_at(th + 4);
    put_be32_csum(th + 4, seq + way_offset(this_way, seq), csum);
    if (th[13] & TCP_ACK) {
        ack = get_be32_at(th + 8);
        put_be32_csum(th + 8,
                      ack - way_offset(other_way,
                                       ack - other_way->offset_before),
                      csum);
        sack_adjust(th, MIN(hlen, p.l4_size), other_way, csum);
    }
    ctdp_conn_unlock(conn);
    return true;
}
