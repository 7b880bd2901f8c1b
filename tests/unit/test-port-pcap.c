/* Pcap ports (lib/ctdp-port.c) with mode=poll, without a datapath: the
 * port is live and hands the feeder nothing; ctdp_port_recv() gives its
 * capture's records in file order, NETDEV_MAX_BURST at a time, then
 * EAGAIN from the end on; ctdp_port_format() says mode=poll, the count and
 * whether it ended; mode=replay, the default, stays a fed port; a bad mode
 * is refused.  The captures are written with the port's own writer
 * (ctdp-pcap.h) into a temporary directory. */
#include <config.h>
#include "ctdp-pcap.h"
#include "ctdp-pkt.h"
#include "ctdp-port.h"
#include "ctdp-unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dp-packet.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Records in the test capture: two full batches and a part. */
#define N_RECORDS (2 * NETDEV_MAX_BURST + 6)

/* A temporary directory and a capture in it of N_RECORDS UDP frames whose
 * source ports count from 1000, in file order. */
struct capture {
    char dir[64];
    char *file;
};

static void
capture_create(struct capture *c)
{
    struct tpkt_ip ip = tpkt_ip("10.0.0.1", "10.0.0.2");
    struct ctdp_pcap_writer *w;
    char *error;

    strcpy(c->dir, "/tmp/ctdp-unit-port-XXXXXX");
    CHECK(mkdtemp(c->dir) != NULL);
    c->file = xasprintf("%s/in.pcap", c->dir);
    error = ctdp_pcap_writer_open(c->file, &w);
    CHECK(!error);
    free(error);
    for (int i = 0; i < N_RECORDS; i++) {
        struct dp_packet_batch batch;

        dp_packet_batch_init_packet(&batch, tpkt_udp(&ip, 1000 + i, 53, 0));
        ctdp_pcap_writer_write(w, &batch, 1700000000000000LL + i);
        dp_packet_delete_batch(&batch, true);
    }
    ctdp_pcap_writer_close(w);
}

static void
capture_destroy(struct capture *c)
{
    unlink(c->file);
    rmdir(c->dir);
    free(c->file);
}

/* Opens "p=pcap:rx=FILE" plus 'options' as port 1; NULL and the error in
 * '*errorp' if it fails. */
static struct ctdp_port *
port_open(const struct capture *c, const char *options, char **errorp)
{
    char *text = xasprintf("p=pcap:rx=%s%s", c->file, options);
    struct ctdp_port_spec spec;
    struct ctdp_port *port = NULL;
    char *error = ctdp_port_parse(text, &spec);

    if (!error) {
        error = ctdp_port_open(&spec, u16_to_ofp(1), &port);
        ctdp_port_spec_destroy(&spec);
    }
    free(text);
    *errorp = error;
    return port;
}

/* The UDP source port of 'pkt', a frame of capture_create(). */
static int
sport(const struct dp_packet *pkt)
{
    const uint8_t *p = dp_packet_data(pkt);

    return p[34] << 8 | p[35];
}

/* Whether what ctdp_port_format() writes for 'port' contains 'want'
 * ('contains') or not; prints it if not as expected. */
static bool
format_has(const struct ctdp_port *port, const char *want, bool contains)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    bool ok;

    ctdp_port_format(port, &s);
    ok = (strstr(ds_cstr(&s), want) != NULL) == contains;
    if (!ok) {
        printf("# format: %s\n# %s: %s\n", ds_cstr(&s),
               contains ? "wanted" : "not wanted", want);
    }
    ds_destroy(&s);
    return ok;
}

static void
test_poll_batches_then_eagain(void)
{
    struct capture c;
    struct ctdp_port *port;
    int next = 1000, sizes[3] = { 0 };
    char *error;

    capture_create(&c);
    port = port_open(&c, ",mode=poll", &error);
    CHECK(!error);
    if (!port) {
        free(error);
        capture_destroy(&c);
        return;
    }
    CHECK(ctdp_port_is_live(port));
    CHECK(ctdp_port_pcap_input(port) == NULL);
    CHECK(format_has(port, "mode=poll, 0 packets read, reading", true));
    for (int i = 0; i < 3; i++) {
        struct dp_packet_batch batch;
        struct dp_packet *pkt;

        dp_packet_batch_init(&batch);
        CHECK_EQ(ctdp_port_recv(port, &batch), 0);
        sizes[i] = dp_packet_batch_size(&batch);
        DP_PACKET_BATCH_FOR_EACH (j, pkt, &batch) {
            CHECK_EQ(sport(pkt), next++);
        }
        dp_packet_delete_batch(&batch, true);
    }
    CHECK_EQ(sizes[0], NETDEV_MAX_BURST);
    CHECK_EQ(sizes[1], NETDEV_MAX_BURST);
    CHECK_EQ(sizes[2], 6);
    CHECK(format_has(port, "mode=poll, 70 packets read, reading", true));
    for (int i = 0; i < 2; i++) {
        struct dp_packet_batch batch;

        dp_packet_batch_init(&batch);
        CHECK_EQ(ctdp_port_recv(port, &batch), EAGAIN);
        CHECK(dp_packet_batch_is_empty(&batch));
    }
    CHECK(format_has(port, "mode=poll, 70 packets read, ended", true));
    ctdp_port_close(port);
    capture_destroy(&c);
}

static void
test_replay_mode_is_fed(void)
{
    static const char *const options[] = { "", ",mode=replay" };
    struct capture c;

    capture_create(&c);
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        char *error;
        struct ctdp_port *port = port_open(&c, options[i], &error);

        CHECK(!error);
        if (port) {
            CHECK(!ctdp_port_is_live(port));
            CHECK(ctdp_port_pcap_input(port) != NULL);
            CHECK(format_has(port, "70 packets read, reading", false));
            CHECK(format_has(port, "0 packets read, reading", true));
            CHECK(format_has(port, "mode=poll", false));
            ctdp_port_close(port);
        }
        free(error);
    }
    capture_destroy(&c);
}

static void
test_bad_mode(void)
{
    struct capture c;
    char *error;

    capture_create(&c);
    CHECK(port_open(&c, ",mode=fast", &error) == NULL);
    CHECK(error && strstr(error, "bad pcap mode 'fast'"));
    free(error);
    capture_destroy(&c);
}

static void
test_spec_is_live(void)
{
    static const struct {
        const char *spec;
        bool live;
    } cases[] = {
        { "p=system", true },
        { "p=dummy", true },
        { "p=pcap:rx=x.pcap", false },
        { "p=pcap:rx=x.pcap,mode=replay", false },
        { "p=pcap:rx=x.pcap,mode=poll", true },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ctdp_port_spec spec;
        char *error = ctdp_port_parse(cases[i].spec, &spec);

        CHECK(!error);
        if (!error) {
            CHECK_EQ(ctdp_port_spec_is_live(&spec), cases[i].live);
            ctdp_port_spec_destroy(&spec);
        }
        free(error);
    }
}

const struct ctdp_unit_suite port_pcap_suite = {
    "port-pcap", (const struct ctdp_unit_case[]) {
        { "poll_batches_then_eagain", test_poll_batches_then_eagain },
        { "replay_mode_is_fed", test_replay_mode_is_fed },
        { "bad_mode", test_bad_mode },
        { "spec_is_live", test_spec_is_live },
        { NULL, NULL } } };
