/* ctdp-bench-send: sends the frames of a capture out of one interface, for
 * the system-port benchmark (utilities/ctdp-bench-netdev.py --veth).
 *
 *   ctdp-bench-send IFNAME FILE.pcap [BATCH]
 *
 * Loads the whole capture first (a little-endian microsecond libpcap file),
 * then sends every frame once with sendmmsg() in batches of BATCH (default
 * 64) on an AF_PACKET socket that bypasses the qdisc.  ENOBUFS and EAGAIN
 * are retried, so it never drops a frame on purpose; what the receiver
 * cannot take is dropped at the receiver.  Prints one line: frames sent,
 * seconds and Mpps.  Exits 1 with one line on stderr on any error.
 *
 * After the sender of the Open vSwitch anchor
 * (/work/shared/bench/OVS-NETDEV.md, appendix G), so that both switches
 * see the same offered load. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16

struct frames {
    unsigned char *buf;         /* The whole file. */
    struct iovec *iov;          /* One per frame, into 'buf'. */
    size_t n;
};

static void
fail(const char *what)
{
    fprintf(stderr, "ctdp-bench-send: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads 'path' into 'f', one iovec per frame. */
static void
load(const char *path, struct frames *f)
{
    FILE *file = fopen(path, "rb");
    size_t cap = 1 << 20;
    long size;

    if (!file || fseek(file, 0, SEEK_END) || (size = ftell(file)) < 0
        || fseek(file, 0, SEEK_SET)) {
        fail(path);
    }
    f->buf = malloc(size);
    f->iov = malloc(cap * sizeof *f->iov);
    if (!f->buf || !f->iov) {
        fail("malloc");
    }
    if (fread(f->buf, 1, size, file) != (size_t) size) {
        fail(path);
    }
    fclose(file);
    if (size < PCAP_FILE_HDR || *(uint32_t *) f->buf != PCAP_MAGIC_USEC) {
        fprintf(stderr, "ctdp-bench-send: %s: not a little-endian "
                "microsecond pcap file\n", path);
        exit(1);
    }
    f->n = 0;
    for (long off = PCAP_FILE_HDR; off + PCAP_REC_HDR <= size;) {
        uint32_t caplen = *(uint32_t *) (f->buf + off + 8);

        if (off + PCAP_REC_HDR + caplen > (unsigned long) size) {
            fprintf(stderr, "ctdp-bench-send: %s: truncated\n", path);
            exit(1);
        }
        if (f->n == cap) {
            cap *= 2;
            f->iov = realloc(f->iov, cap * sizeof *f->iov);
            if (!f->iov) {
                fail("realloc");
            }
        }
        f->iov[f->n].iov_base = f->buf + off + PCAP_REC_HDR;
        f->iov[f->n].iov_len = caplen;
        f->n++;
        off += PCAP_REC_HDR + caplen;
    }
}

/* Returns an AF_PACKET socket bound to 'ifname'. */
static int
open_socket(const char *ifname)
{
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = if_nametoindex(ifname),
    };
    int sndbuf = 4 << 20, one = 1;
    int fd;

    if (!sll.sll_ifindex) {
        fail(ifname);
    }
    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        fail("socket");
    }
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one)
        || setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
                      sizeof sndbuf)) {
        fail("setsockopt");
    }
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        fail("bind");
    }
    return fd;
}

int
main(int argc, char *argv[])
{
    struct frames f;
    struct mmsghdr *mm;
    size_t sent = 0, retries = 0;
    int batch, fd;
    double t0, t1;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s IFNAME FILE.pcap [BATCH]\n", argv[0]);
        return 2;
    }
    batch = argc > 3 ? atoi(argv[3]) : 64;
    if (batch < 1 || batch > 1024) {
        fprintf(stderr, "ctdp-bench-send: BATCH must be 1 to 1024\n");
        return 2;
    }
    load(argv[2], &f);
    fd = open_socket(argv[1]);
    mm = calloc(batch, sizeof *mm);
    if (!mm) {
        fail("calloc");
    }

    t0 = now();
    while (sent < f.n) {
        int k = f.n - sent < (size_t) batch ? (int) (f.n - sent) : batch;
        int r;

        for (int i = 0; i < k; i++) {
            memset(&mm[i], 0, sizeof mm[i]);
            mm[i].msg_hdr.msg_iov = &f.iov[sent + i];
            mm[i].msg_hdr.msg_iovlen = 1;
        }
        r = sendmmsg(fd, mm, k, 0);
        if (r < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
                retries++;
                continue;
            }
            fail("sendmmsg");
        }
        sent += r;
    }
    t1 = now();
    printf("sent %zu frames in %.6f s = %.3f Mpps (retries %zu, batch %d)\n",
           sent, t1 - t0, sent / (t1 - t0) / 1e6, retries, batch);
    return 0;
}
