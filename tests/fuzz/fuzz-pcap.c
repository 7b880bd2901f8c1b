/* Fuzz target: pcap files through the pcap port.
 *
 * The input is a capture file.  It is read twice: by a reader of its own
 * (ctdp-pcap.h), which must see the same timestamp when it peeks at a
 * packet as when it takes it, and as the rx capture of port 1 of a new
 * datapath under the default firewall flows, replayed to its end
 * (ctdp_dp_replay(), as `ctdpd --replay` does): every packet through the
 * pipeline and the tracker, on the capture's clock; port 2 writes a
 * capture of its own.
 *
 * Both captures live in files in memory (fuzz_memfile()), which the
 * ports open by their /proc/self/fd names, so that the fuzzer touches no
 * disk. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ctdp-dp.h"
#include "ctdp-flows.h"
#include "ctdp-pcap.h"
#include "dp-packet.h"
#include "fuzz-common.h"
#include "ovs-rcu.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1, tx_fd = -1;
static char *path, *tx_spec;

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv OVS_UNUSED)
{
    char *tx;

    fuzz_init();
    path = fuzz_memfile("fuzz-pcap-rx", &fd);
    tx = fuzz_memfile("fuzz-pcap-tx", &tx_fd);
    tx_spec = xasprintf("p2=pcap:tx=%s", tx);
    free(tx);
    return 0;
}

static void
write_capture(const uint8_t *data, size_t size)
{
    size_t done = 0;

    ovs_assert(!ftruncate(fd, 0));
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, done);

        ovs_assert(n > 0);
        done += n;
    }
}

/* Reads the capture to its end with a reader of its own. */
static void
read_all(void)
{
    struct ctdp_pcap_reader *r;
    struct dp_packet *pkt;
    long long peeked, usec;
    uint64_t n = 0;
    char *error;

    error = ctdp_pcap_reader_open(path, &r);
    if (error) {
        free(error);
        return;
    }
    while (ctdp_pcap_reader_peek(r, &peeked)) {
        pkt = ctdp_pcap_reader_next(r, &usec);
        ovs_assert(pkt && usec == peeked);
        dp_packet_delete(pkt);
        n++;
    }
    ovs_assert(!ctdp_pcap_reader_next(r, &usec));
    ovs_assert(ctdp_pcap_reader_n_packets(r) == n);
    ctdp_pcap_reader_error(r);
    ctdp_pcap_reader_close(r);
}

/* Replays the capture through a datapath, as `ctdpd --replay` does. */
static void
replay(void)
{
    struct ctdp_dp *dp = ctdp_dp_create(0);
    char *spec = xasprintf("p1=pcap:rx=%s", path);
    char *error = ctdp_dp_add_port(dp, spec);
    long long now;
    size_t n;

    free(spec);
    ovs_assert(!ftruncate(tx_fd, 0));
    if (!error) {
        error = ctdp_dp_add_port(dp, tx_spec);
        if (error) {
            ovs_fatal(0, "%s", error);
        }
        ovs_assert(!ctdp_flows_add_text(ctdp_dp_flows(dp),
                                        ctdp_dp_firewall_flows,
                                        "firewall", &n));
        error = ctdp_dp_replay(dp, &now, NULL, NULL);
    }
    free(error);
    ctdp_dp_destroy(dp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_capture(data, size);
    read_all();
    replay();
    ovsrcu_quiesce();
    return 0;
}
