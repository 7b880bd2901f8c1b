#include <config.h>
#include "fuzz-common.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "csum.h"
#include "dp-packet.h"
#include "fatal-signal.h"
#include "flow.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "signals.h"
#include "util.h"

/* ---- Reading an input -------------------------------------------------- */

uint8_t
fuzz_take_u8(struct fuzz_input *in)
{
    if (!in->n) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

uint16_t
fuzz_take_be16(struct fuzz_input *in)
{
    uint16_t hi = fuzz_take_u8(in);

    return (hi << 8) | fuzz_take_u8(in);
}

uint32_t
fuzz_take_be32(struct fuzz_input *in)
{
    uint32_t hi = fuzz_take_be16(in);

    return (hi << 16) | fuzz_take_be16(in);
}

const uint8_t *
fuzz_take_bytes(struct fuzz_input *in, size_t max, size_t *n)
{
    const uint8_t *p = in->p;

    *n = MIN(max, in->n);
    in->p += *n;
    in->n -= *n;
    return p;
}

char *
fuzz_take_line(struct fuzz_input *in, char delim)
{
    const uint8_t *end;
    size_t len;
    char *line;

    if (!in->n) {
        return NULL;
    }
    end = memchr(in->p, delim, in->n);
    len = end ? end - in->p : in->n;
    line = xmemdup0((const char *) in->p, len);
    in->p += len + (end != NULL);
    in->n -= len + (end != NULL);
    return line;
}

char *
fuzz_memfile(const char *name, int *fd)
{
    *fd = memfd_create(name, 0);
    if (*fd < 0) {
        ovs_fatal(errno, "memfd_create");
    }
    return xasprintf("/proc/self/fd/%d", *fd);
}

void
fuzz_init(void)
{
    static bool done;

    if (!done) {
        struct sigaction alarm;

        done = true;
        vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
        /* SIGALRM is libFuzzer's (its per-input timeout), installed before
         * or after this call, in the latter case only where no handler is.
         * A tracker starts a thread (the backer), which starts Open
         * vSwitch's RCU thread, whose poll loop installs Open vSwitch's
         * fatal-signal handlers, SIGALRM's among them: the target then
         * died at its first alarm.  So they are installed now, and
         * SIGALRM's disposition is put back as it was. */
        xsigaction(SIGALRM, NULL, &alarm);
        fatal_signal_init();
        xsigaction(SIGALRM, &alarm, NULL);
    }
}

/* ---- Checksums --------------------------------------------------------- */

/* Writes the L4 checksum of the 'size' bytes at 'l4' for protocol
 * 'proto', with the pseudo-header of 'src' and 'dst' ('alen' bytes each)
 * unless 'proto' is ICMP. */
static void
fix_l4(uint8_t proto, const void *src, const void *dst, size_t alen,
       uint8_t *l4, size_t size)
{
    size_t ofs = (proto == IPPROTO_TCP ? 16
                  : proto == IPPROTO_UDP ? 6
                  : proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? 2
                  : 0);
    uint32_t partial = 0;
    ovs_be16 sum;

    if (!ofs || size < ofs + 2) {
        return;
    }
    memset(l4 + ofs, 0, 2);
    if (proto != IPPROTO_ICMP) {
        ovs_be32 len = htonl(size), nxt = htonl(proto);

        partial = csum_continue(partial, src, alen);
        partial = csum_continue(partial, dst, alen);
        partial = csum_continue(partial, &len, 4);
        partial = csum_continue(partial, &nxt, 4);
    }
    sum = csum_finish(csum_continue(partial, l4, size));
    if (proto == IPPROTO_UDP && !sum) {
        sum = htons(0xffff);
    }
    memcpy(l4 + ofs, &sum, 2);
}

static void
fix_ip4(uint8_t *ip, size_t size)
{
    size_t ihl = (ip[0] & 0xf) * 4, tot_len;
    ovs_be16 sum;

    if (size < IP_HEADER_LEN || ihl < IP_HEADER_LEN || ihl > size) {
        return;
    }
    memset(ip + 10, 0, 2);
    sum = csum(ip, ihl);
    memcpy(ip + 10, &sum, 2);
    tot_len = (ip[2] << 8) | ip[3];
    if ((ip[6] & 0x3f) || ip[7] || tot_len < ihl) {
        return;                 /* A fragment: L4 is checked whole. */
    }
    fix_l4(ip[9], ip + 12, ip + 16, 4, ip + ihl, MIN(tot_len, size) - ihl);
}

static void
fix_ip6(uint8_t *ip, size_t size)
{
    size_t ofs = IPV6_HEADER_LEN, end;
    uint8_t nh;

    if (size < IPV6_HEADER_LEN) {
        return;
    }
    nh = ip[6];
    end = MIN(size, IPV6_HEADER_LEN + ((ip[4] << 8) | ip[5]));
    while ((nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING
            || nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH)
           && ofs + 8 <= end) {
        size_t len = (nh == IPPROTO_AH ? (ip[ofs + 1] + 2) * 4
                      : (ip[ofs + 1] + 1) * 8);

        nh = ip[ofs];
        ofs += len;
    }
    if (ofs <= end) {
        fix_l4(nh, ip + 8, ip + 24, 16, ip + ofs, end - ofs);
    }
}

void
fuzz_fix_checksums(uint8_t *frame, size_t size)
{
    size_t ofs = 12;
    uint16_t type;

    for (int i = 0; i < 3 && ofs + 2 <= size; i++) {
        type = (frame[ofs] << 8) | frame[ofs + 1];
        ofs += 2;
        if (type == ETH_TYPE_IP) {
            fix_ip4(frame + ofs, size - ofs);
        } else if (type == ETH_TYPE_IPV6) {
            fix_ip6(frame + ofs, size - ofs);
        } else if (type == ETH_TYPE_VLAN_8021Q
                   || type == ETH_TYPE_VLAN_8021AD) {
            ofs += 2;
            continue;
        }
        return;
    }
}

/* ---- Packets ----------------------------------------------------------- */

struct dp_packet *
fuzz_packet(const uint8_t *frame, size_t size, uint32_t in_port,
            bool extract)
{
    struct dp_packet *pkt = dp_packet_new(size);

    dp_packet_put(pkt, frame, size);
    pkt_metadata_init(&pkt->md, u32_to_odp(in_port));
    if (extract) {
        struct flow flow;

        flow_extract(pkt, &flow);
    }
    return pkt;
}
