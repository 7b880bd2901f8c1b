/* Workload 8: the whole datapath.
 *
 * Two captures, one per side of the default firewall (port 1 inside, port 2
 * outside), hold interleaved flows of three kinds opened from inside: TCP
 * (handshake, then data and acks), UDP (requests and replies) and ICMP
 * (echo requests and replies), with timestamps 1 us apart.  `ctdpd
 * --replay` runs them through the flows, the tracker and the pipeline, from
 * one feeder thread, exactly as a daemon runs pcap ports.  The time from
 * start to exit, less that of replaying one packet (start-up, and printing
 * the table at the end), gives packets per second. */
#include <config.h>
#include "ctdp-bench.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "csum.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "util.h"

/* Packets of each flow after its first; the first of a TCP flow is its
 * SYN, then SYN-ACK and ACK, then data and acks alternate. */
#define DP_ROUNDS 24

struct capture {
    pcap_t *pcap;
    pcap_dumper_t *dumper;
};

static void
capture_open(struct capture *c, const char *path)
{
    c->pcap = pcap_open_dead(DLT_EN10MB, 65535);
    c->dumper = pcap_dump_open(c->pcap, path);
    if (!c->dumper) {
        ovs_fatal(0, "%s: %s", path, pcap_geterr(c->pcap));
    }
}

static void
capture_close(struct capture *c)
{
    pcap_dump_close(c->dumper);
    pcap_close(c->pcap);
}

/* Writes one IPv4 frame between an inside host, 10.1.x.y (x.y from
 * 'flow'), and the server 10.2.0.1: from the host, or back to it if
 * 'reply'; the L4 header and payload 'l4' get their checksum, as the IP
 * header does. */
static void
put_frame(struct capture *c, uint64_t usec, uint32_t flow, bool reply,
          uint8_t proto, uint8_t *l4, size_t l4_len)
{
    uint8_t f[14 + 20 + 64] = { 0 };
    ovs_be16 sum;
    uint8_t host[4] = { 10, 1, flow >> 8, flow };
    uint8_t server[4] = { 10, 2, 0, 1 };
    struct pcap_pkthdr h;
    size_t len = 14 + 20 + l4_len;

    f[5] = reply ? 1 : 2;                               /* Fake MACs. */
    f[11] = reply ? 2 : 1;
    f[12] = 0x08;                                       /* IPv4 */
    f[14] = 0x45;
    f[16] = (20 + l4_len) >> 8;
    f[17] = 20 + l4_len;
    f[22] = 64;
    f[23] = proto;
    memcpy(&f[26], reply ? server : host, 4);
    memcpy(&f[30], reply ? host : server, 4);
    sum = csum(&f[14], 20);
    memcpy(&f[24], &sum, 2);
    if (proto == 1) {
        sum = csum(l4, l4_len);
        memcpy(&l4[2], &sum, 2);
    } else if (proto == 6) {
        ovs_be32 src, dst;

        memcpy(&src, &f[26], 4);
        memcpy(&dst, &f[30], 4);
        sum = csum_finish(csum_continue(packet_csum_pseudoheader(
                              (const struct ip_header *) &f[14]), l4, l4_len));
        memcpy(&l4[16], &sum, 2);
    }
    memcpy(&f[34], l4, l4_len);
    h.ts.tv_sec = usec / 1000000;
    h.ts.tv_usec = usec % 1000000;
    h.caplen = h.len = len;
    pcap_dump((u_char *) c->dumper, &h, f);
}

/* Fills 'l4' with the L4 header (and a TCP segment's payload) of packet
 * 'k' of 'flow', checksum left 0; returns its length, with its protocol in
 * '*proto' and its direction in '*reply'.  A TCP flow is a handshake, then
 * 16-byte segments from the host, each acknowledged by the server, with
 * the sequence numbers a tracker checks (ISNs 1000 and 5000). */
static void
put_be32(uint8_t *p, uint32_t x)
{
    p[0] = x >> 24;
    p[1] = x >> 16;
    p[2] = x >> 8;
    p[3] = x;
}

static size_t
flow_packet(uint32_t flow, int k, uint8_t *proto, bool *reply, uint8_t *l4)
{
    uint16_t port = 1024 + (flow % 60000);
    int kind = flow % 3;
    bool rpl = kind == 0 ? k == 1 || (k > 2 && k % 2) : k % 2;

    *reply = rpl;
    memset(l4, 0, 20);
    if (kind == 2) {                            /* ICMP echo */
        *proto = 1;
        l4[0] = rpl ? 0 : 8;
        l4[4] = port >> 8;
        l4[5] = port;
        return 8;
    }
    /* TCP to port 80 or UDP to port 53, from 'port' inside. */
    l4[rpl ? 2 : 0] = port >> 8;
    l4[rpl ? 3 : 1] = port;
    l4[rpl ? 1 : 3] = kind == 0 ? 80 : 53;
    if (kind == 1) {
        *proto = 17;
        l4[5] = 8;
        return 8;
    }
    *proto = 6;
    uint32_t seq, ack, data = 0;

    if (!rpl) {
        data = k >= 4 ? 16 : 0;
        seq = k ? 1001 + 16 * (k >= 4 ? (k - 4) / 2 : 0) : 1000;
        ack = k ? 5001 : 0;
    } else {
        seq = k == 1 ? 5000 : 5001;
        ack = 1001 + 16 * (k >= 3 ? (k - 3) / 2 : 0);
    }
    put_be32(&l4[4], seq);
    put_be32(&l4[8], ack);
    l4[12] = 5 << 4;
    l4[13] = (k == 0 ? 0x02 : k == 1 ? 0x12                /* SYN, SYN-ACK */
              : data ? 0x18 : 0x10);                        /* PSH-ACK, ACK */
    l4[14] = 0xff;                                          /* Window. */
    l4[15] = 0xff;
    memset(&l4[20], 'x', data);
    return 20 + data;
}

/* Writes the two captures; returns the number of packets. */
static uint64_t
write_captures(const char *in, const char *out, uint32_t n_flows, int rounds)
{
    struct capture cin, cout;
    uint64_t usec = 1700000000ULL * 1000000, n = 0;

    capture_open(&cin, in);
    capture_open(&cout, out);
    for (int k = 0; k < rounds; k++) {
        for (uint32_t flow = 0; flow < n_flows; flow++) {
            uint8_t l4[40], proto;
            bool reply;
            size_t len = flow_packet(flow, k, &proto, &reply, l4);

            put_frame(reply ? &cout : &cin, usec++, flow, reply, proto, l4,
                      len);
            n++;
        }
    }
    capture_close(&cin);
    capture_close(&cout);
    return n;
}

/* Returns the path of ctdpd beside this program. */
static char *
ctdpd_path(void)
{
    char self[4096], *dir, *path;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (n <= 0) {
        ovs_fatal(errno, "cannot find this program's directory");
    }
    self[n] = '\0';
    dir = dir_name(self);
    path = xasprintf("%s/ctdpd", dir);
    free(dir);
    return path;
}

/* Returns the tracker's "invalid" count from `ctdpd --replay`'s output in
 * 'path', or -1 if it has none. */
static long long
read_invalid(const char *path)
{
    char buf[65536], *p;
    long long n = -1;
    FILE *f = fopen(path, "r");

    if (f) {
        size_t len;

        /* The statistics come last, after the table. */
        if (fseek(f, -(long) (sizeof buf - 1), SEEK_END)) {
            rewind(f);
        }
        len = fread(buf, 1, sizeof buf - 1, f);

        buf[len] = '\0';
        p = strstr(buf, " invalid=");
        if (p) {
            n = strtoll(p + strlen(" invalid="), NULL, 10);
        }
        fclose(f);
    }
    return n;
}

/* Runs `ctdpd --replay` on the captures, its output to 'log', and returns
 * its wall time in seconds, or a negative value if it failed or the
 * tracker found a packet invalid (every packet of the captures is
 * valid). */
static double
replay(const char *ctdpd, const char *in, const char *out, const char *log)
{
    char *port_in = xasprintf("--port=in=pcap:rx=%s", in);
    char *port_out = xasprintf("--port=out=pcap:rx=%s", out);
    struct timespec t0, t1;
    int status;
    pid_t pid;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid < 0) {
        ovs_fatal(errno, "fork");
    } else if (!pid) {
        int null = open("/dev/null", O_WRONLY);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(fd, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execl(ctdpd, "ctdpd", "--replay", port_in, port_out, (char *) NULL);
        _exit(127);
    }
    ovsrcu_quiesce_start();     /* Waiting must not hold up RCU frees. */
    waitpid(pid, &status, 0);
    ovsrcu_quiesce_end();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(port_in);
    free(port_out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) || read_invalid(log)) {
        return -1;
    }
    return (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

void
bench_datapath(const struct bench_config *cfg, uint32_t n_flows,
               struct bench_runs *runs)
{
    char dir[] = "/tmp/ctdp-bench-XXXXXX";
    char *ctdpd = ctdpd_path(), *files[5];
    uint64_t n;

    if (!mkdtemp(dir)) {
        ovs_fatal(errno, "mkdtemp");
    }
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        files[i] = xasprintf("%s/%zu.pcap", dir, i);
    }
    /* files[0..1]: the workload; files[2..3]: one packet, the baseline;
     * files[4]: ctdpd's output. */
    n = write_captures(files[0], files[1], n_flows, DP_ROUNDS + 1);
    write_captures(files[2], files[3], 1, 1);
    for (unsigned int r = 0; r < cfg->heavy_runs; r++) {
        double t = replay(ctdpd, files[0], files[1], files[4]);
        double t0 = replay(ctdpd, files[2], files[3], files[4]);

        if (t < 0 || t0 < 0 || t <= t0) {
            runs->misses++;
            continue;
        }
        bench_runs_add(runs, n / (t - t0) / 1e6);
    }
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        unlink(files[i]);
        free(files[i]);
    }
    rmdir(dir);
    free(ctdpd);
}
