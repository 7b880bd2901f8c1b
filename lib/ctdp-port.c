#include <config.h>
#include "ctdp-port.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "ctdp-offload.h"
#include "ctdp-pcap.h"
#include "ctdp-ring.h"
#include "dp-packet.h"
#include "netdev.h"
#include "netdev-provider.h"    /* A netdev's 'ol_flags' (see tso_mtu()). */
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_port);

static const char *const port_types[] = { "system", "tap", "dummy", "pcap" };

struct ctdp_port {
    char *name;
    char *type;
    ofp_port_t ofport;
    /* A netdev port: 'netdev', and a way to receive: a system port its
     * ring, a tap or dummy port the netdev's rxq.  A pcap port: all NULL. */
    struct netdev *netdev;
    struct netdev_rxq *rxq;
    struct ctdp_ring *ring;
    /* A pcap port: its input and output captures, either may be NULL. */
    struct ctdp_pcap_reader *pcap_rx;
    struct ctdp_pcap_writer *pcap_tx;
    /* A pcap port with mode=poll: 'pcap_rx' belongs to the receive thread
     * that polls the port (pcap_poll_recv()), which publishes how far it
     * read for the main thread (ctdp_port_format()). */
    bool pcap_poll;
    atomic_uint64_t n_polled;   /* Records read so far. */
    atomic_bool poll_ended;     /* The capture is used up. */
    /* GSO frames sent whole, to a port that cannot segment them. */
    atomic_uint64_t n_gso_whole;
};

const char *
ctdp_port_name(const struct ctdp_port *port)
{
    return port->name;
}

const char *
ctdp_port_type(const struct ctdp_port *port)
{
    return port->type;
}

ofp_port_t
ctdp_port_ofport(const struct ctdp_port *port)
{
    return port->ofport;
}

bool
ctdp_port_is_live(const struct ctdp_port *port)
{
    return port->rxq || port->ring || port->pcap_poll;
}

struct ctdp_pcap_reader *
ctdp_port_pcap_input(const struct ctdp_port *port)
{
    return port->pcap_poll ? NULL : port->pcap_rx;
}

static void pcap_poll_wait(struct ctdp_port *);

void
ctdp_port_recv_wait(struct ctdp_port *port)
{
    if (port->pcap_poll) {
        pcap_poll_wait(port);
    } else if (port->ring) {
        ctdp_ring_recv_wait(port->ring);
    } else {
        netdev_rxq_wait(port->rxq);
    }
}

static bool
type_supported(const char *type)
{
    for (size_t i = 0; i < ARRAY_SIZE(port_types); i++) {
        if (!strcmp(type, port_types[i])) {
            return true;
        }
    }
    return false;
}

/* Reads "KEY=VALUE[,KEY=VALUE...]" into 'spec': "ofport" for the datapath,
 * the rest for the netdev. */
static char *
parse_options(char *s, struct ctdp_port_spec *spec)
{
    char *save = NULL;

    for (char *kv = strtok_r(s, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *value = strchr(kv, '=');

        if (!value || value == kv) {
            return xasprintf("bad port option '%s' (want KEY=VALUE)", kv);
        }
        *value++ = '\0';
        if (!strcmp(kv, "ofport")) {
            unsigned int n;

            if (spec->ofport != OFPP_NONE) {
                return xasprintf("port option 'ofport' given twice");
            }
            if (!str_to_uint(value, 10, &n) || n < 1 || n > CTDP_PORT_MAX) {
                return xasprintf("bad ofport '%s' (want 1 to %d)", value,
                                 CTDP_PORT_MAX);
            }
            spec->ofport = u16_to_ofp(n);
        } else if (!smap_add_once(&spec->options, kv, value)) {
            return xasprintf("port option '%s' given twice", kv);
        }
    }
    return NULL;
}

/* Parses 'spec_' ("NAME=TYPE[:OPTIONS]") into 'spec'.  Returns NULL, or a
 * malloc'd message, in which case 'spec' holds nothing to destroy. */
char *
ctdp_port_parse(const char *spec_, struct ctdp_port_spec *spec)
{
    char *s = xstrdup(spec_), *type, *options, *error = NULL;

    memset(spec, 0, sizeof *spec);
    smap_init(&spec->options);
    spec->ofport = OFPP_NONE;
    type = strchr(s, '=');
    if (!type || type == s || !type[1]) {
        error = xasprintf("bad port '%s' (want NAME=TYPE[:OPTIONS])", spec_);
        goto out;
    }
    *type++ = '\0';
    options = strchr(type, ':');
    if (options) {
        *options++ = '\0';
    }
    if (!type_supported(type)) {
        error = xasprintf("port '%s': unknown type '%s' (system, tap, "
                          "dummy or pcap)", s, type);
        goto out;
    }
    spec->name = xstrdup(s);
    spec->type = xstrdup(type);
    if (options) {
        error = parse_options(options, spec);
    }
out:
    free(s);
    if (error) {
        ctdp_port_spec_destroy(spec);
    }
    return error;
}

void
ctdp_port_spec_destroy(struct ctdp_port_spec *spec)
{
    free(spec->name);
    free(spec->type);
    smap_destroy(&spec->options);
    spec->name = spec->type = NULL;
}

/* Opens the netdev of 'spec' into 'port'. */
static char *
open_netdev(const struct ctdp_port_spec *spec, struct ctdp_port *port)
{
    char *error = NULL;
    int err;

    /* Before the first system or tap device opens (see ctdp-offload.h). */
    ctdp_offload_enable();
    err = netdev_open(spec->name, spec->type, &port->netdev);
    if (err) {
        return xasprintf("port %s: cannot open %s device: %s", spec->name,
                         spec->type, ovs_strerror(err));
    }
    err = netdev_set_config(port->netdev, &spec->options, &error);
    if (err) {
        char *why = error;

        error = xasprintf("port %s: bad options: %s", spec->name,
                          why ? why : ovs_strerror(err));
        free(why);
        return error;
    }
    if (!strcmp(spec->type, "system")) {
        return ctdp_ring_open(spec->name, &port->ring);
    }
    err = netdev_rxq_open(port->netdev, &port->rxq, 0);
    if (err) {
        return xasprintf("port %s: cannot receive: %s", spec->name,
                         ovs_strerror(err));
    }
    return NULL;
}

/* Whether pcap port 'spec' has mode=poll (see ctdp-port.h). */
static bool
pcap_spec_polls(const struct ctdp_port_spec *spec)
{
    return !strcmp(smap_get_def(&spec->options, "mode", ""), "poll");
}

bool
ctdp_port_spec_is_live(const struct ctdp_port_spec *spec)
{
    return strcmp(spec->type, "pcap") || pcap_spec_polls(spec);
}

/* Checks a pcap port's mode: replay (the default) or poll, and poll only
 * with a capture to read. */
static char *
check_pcap_mode(const struct ctdp_port_spec *spec)
{
    const char *mode = smap_get(&spec->options, "mode");

    if (mode && strcmp(mode, "replay") && strcmp(mode, "poll")) {
        return xasprintf("port %s: bad pcap mode '%s' (want replay or poll)",
                         spec->name, mode);
    }
    if (pcap_spec_polls(spec) && !smap_get(&spec->options, "rx")) {
        return xasprintf("port %s: mode=poll wants rx=FILE, the capture to "
                         "poll", spec->name);
    }
    return NULL;
}

/* Are 'a' and 'b' names of one file (the same name, or one existing file
 * by two names)? */
static bool
same_file(const char *a, const char *b)
{
    struct stat a_st, b_st;

    return (!strcmp(a, b)
            || (!stat(a, &a_st) && !stat(b, &b_st)
                && a_st.st_dev == b_st.st_dev
                && a_st.st_ino == b_st.st_ino));
}

/* Checks a pcap port's options: rx, tx and mode only, at least one of rx
 * and tx, each with a file name, and not both the same file (the port
 * would read back what it writes). */
static char *
check_pcap_options(const struct ctdp_port_spec *spec)
{
    const char *rx = smap_get(&spec->options, "rx");
    const char *tx = smap_get(&spec->options, "tx");
    const struct smap_node *node;

    SMAP_FOR_EACH (node, &spec->options) {
        if (!strcmp(node->key, "mode")) {
            continue;
        }
        if (strcmp(node->key, "rx") && strcmp(node->key, "tx")) {
            return xasprintf("port %s: unknown pcap option '%s' (want "
                             "rx=FILE, tx=FILE, mode=replay|poll, ofport=N)",
                             spec->name, node->key);
        }
        if (!node->value[0]) {
            return xasprintf("port %s: %s= wants a file name", spec->name,
                             node->key);
        }
    }
    if (!rx && !tx) {
        return xasprintf("port %s: a pcap port wants rx=FILE, tx=FILE or "
                         "both", spec->name);
    }
    if (rx && tx && same_file(rx, tx)) {
        return xasprintf("port %s: rx and tx are the same file", spec->name);
    }
    return NULL;
}

char *
ctdp_port_check_files(const struct ctdp_port_spec *spec,
                      const struct ctdp_port *other)
{
    const char *rx = smap_get(&spec->options, "rx");
    const char *tx = smap_get(&spec->options, "tx");
    const char *other_rx = (other->pcap_rx
                            ? ctdp_pcap_reader_file(other->pcap_rx) : NULL);
    const char *other_tx = (other->pcap_tx
                            ? ctdp_pcap_writer_file(other->pcap_tx) : NULL);

    if (strcmp(spec->type, "pcap")) {
        return NULL;
    }
    if (tx && ((other_rx && same_file(tx, other_rx))
               || (other_tx && same_file(tx, other_tx)))) {
        return xasprintf("port %s: tx=%s is a file that port %s uses",
                         spec->name, tx, other->name);
    }
    if (rx && other_tx && same_file(rx, other_tx)) {
        return xasprintf("port %s: rx=%s is the file that port %s writes",
                         spec->name, rx, other->name);
    }
    return NULL;
}

/* Opens the captures of pcap port 'spec' into 'port': the input first, so
 * that a bad input creates no output file. */
static char *
open_pcap(const struct ctdp_port_spec *spec, struct ctdp_port *port)
{
    const char *rx = smap_get(&spec->options, "rx");
    const char *tx = smap_get(&spec->options, "tx");
    char *error = check_pcap_options(spec);

    if (!error) {
        error = check_pcap_mode(spec);
    }
    if (error) {
        return error;
    }
    port->pcap_poll = pcap_spec_polls(spec);
    if (rx) {
        error = ctdp_pcap_reader_open(rx, &port->pcap_rx);
    }
    if (!error && tx) {
        error = ctdp_pcap_writer_open(tx, &port->pcap_tx);
    }
    if (error) {
        char *why = error;

        error = xasprintf("port %s: %s", spec->name, why);
        free(why);
    }
    return error;
}

/* Opens 'spec' as port 'ofport'. */
char *
ctdp_port_open(const struct ctdp_port_spec *spec, ofp_port_t ofport,
               struct ctdp_port **portp)
{
    struct ctdp_port *port = xzalloc(sizeof *port);
    char *error;

    port->name = xstrdup(spec->name);
    port->type = xstrdup(spec->type);
    port->ofport = ofport;
    atomic_init(&port->n_gso_whole, 0);
    atomic_init(&port->n_polled, 0);
    atomic_init(&port->poll_ended, false);
    error = (!strcmp(spec->type, "pcap")
             ? open_pcap(spec, port)
             : open_netdev(spec, port));
    if (error) {
        ctdp_port_close(port);
        port = NULL;
    }
    *portp = port;
    return error;
}

void
ctdp_port_close(struct ctdp_port *port)
{
    if (port) {
        netdev_rxq_close(port->rxq);
        ctdp_ring_close(port->ring);
        netdev_close(port->netdev);
        ctdp_pcap_reader_close(port->pcap_rx);
        ctdp_pcap_writer_close(port->pcap_tx);
        free(port->name);
        free(port->type);
        free(port);
    }
}

/* ---- Pcap input polled by a receive thread (mode=poll) ---------------- */

/* Logs the end of polled pcap port 'port''s capture, once: the receive
 * thread finds it at the first receive after the last batch, so that the
 * line comes after the last packet went through the datapath, which lets
 * a benchmark time the whole input from the log. */
static void
pcap_poll_end(struct ctdp_port *port)
{
    uint64_t n = ctdp_pcap_reader_n_packets(port->pcap_rx);
    const char *why;
    bool ended;

    atomic_read_relaxed(&port->poll_ended, &ended);
    if (ended) {
        return;
    }
    why = ctdp_pcap_reader_error(port->pcap_rx);
    if (why) {
        VLOG_WARN("pcap input ended early on port %s: %"PRIu64" packets "
                  "read: %s", port->name, n, why);
    } else {
        VLOG_INFO("pcap input ended on port %s: %"PRIu64" packets read",
                  port->name, n);
    }
    /* Pairs with the acquire in format_pcap_rx(): the count and the
     * reader's error are final, and the main thread may read them. */
    atomic_store_explicit(&port->poll_ended, true, memory_order_release);
}

/* Receives up to a batch of records of polled pcap port 'port''s capture
 * into 'batch', as fast as they can be read; EAGAIN once it is used up. */
static int
pcap_poll_recv(struct ctdp_port *port, struct dp_packet_batch *batch)
{
    struct dp_packet *pkt;
    long long usec;

    while (!dp_packet_batch_is_full(batch)
           && (pkt = ctdp_pcap_reader_next(port->pcap_rx, &usec))) {
        dp_packet_batch_add(batch, pkt);
    }
    if (dp_packet_batch_is_empty(batch)) {
        pcap_poll_end(port);
        return EAGAIN;
    }
    atomic_store_relaxed(&port->n_polled,
                         ctdp_pcap_reader_n_packets(port->pcap_rx));
    return 0;
}

/* Wakes the poll loop at once while polled pcap port 'port' has records
 * left; never again once its capture is used up. */
static void
pcap_poll_wait(struct ctdp_port *port)
{
    long long usec;

    if (ctdp_pcap_reader_peek(port->pcap_rx, &usec)) {
        poll_immediate_wake();
    }
}

int
ctdp_port_recv(struct ctdp_port *port, struct dp_packet_batch *batch)
{
    struct dp_packet *pkt;
    int error;

    if (port->pcap_poll) {
        return pcap_poll_recv(port, batch);
    }
    if (port->ring) {
        return ctdp_ring_recv(port->ring, batch);
    }
    error = netdev_rxq_recv(port->rxq, batch, NULL);
    if (!error) {
        DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
            ctdp_offload_rx(pkt);
        }
    }
    return error;
}

/* The MTU for which 'port' segments GSO frames, 0 if it cannot take them:
 * only a netdev with TSO (system and tap ports, with their virtio-net
 * header) can.  As netdev-linux, 1500 if the MTU cannot be read. */
static int
tso_mtu(const struct ctdp_port *port)
{
    int mtu;

    if (!port->netdev
        || !(port->netdev->ol_flags & NETDEV_TX_OFFLOAD_TCP_TSO)) {
        return 0;
    }
    return netdev_get_mtu(port->netdev, &mtu) ? ETH_PAYLOAD_MAX : mtu;
}

/* Packets on their way out of a port, in batches. */
struct port_out {
    struct ctdp_port *port;
    long long usec;
    struct dp_packet_batch batch;
};

/* Sends the packets gathered in 'out' and empties it. */
static void
out_flush(struct port_out *out)
{
    struct ctdp_port *port = out->port;

    if (dp_packet_batch_is_empty(&out->batch)) {
        return;
    }
    if (port->netdev) {
        netdev_send(port->netdev, 0, &out->batch, true);
    } else {
        if (port->pcap_tx) {
            ctdp_pcap_writer_write(port->pcap_tx, &out->batch, out->usec);
        }
        dp_packet_delete_batch(&out->batch, true);
    }
    dp_packet_batch_init(&out->batch);
}

static void
out_add(void *out_, struct dp_packet *pkt)
{
    struct port_out *out = out_;

    if (dp_packet_batch_is_full(&out->batch)) {
        out_flush(out);
    }
    dp_packet_batch_add(&out->batch, pkt);
}

/* Sends the packets of 'batch' on 'port', each prepared for the port's
 * offloads (ctdp_offload_tx()): GSO frames cut in software into their
 * sender's segments where the port would cut them larger, GSO frames
 * that the port cannot segment sent whole and counted. */
void
ctdp_port_send(struct ctdp_port *port, struct dp_packet_batch *batch,
               long long usec)
{
    struct port_out out = { .port = port, .usec = usec };
    int mtu = tso_mtu(port);
    struct dp_packet *pkt;
    uint64_t n_whole = 0, old;

    dp_packet_batch_init(&out.batch);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        switch (ctdp_offload_tx(pkt, mtu)) {
        case CTDP_OFFLOAD_TX_SEGMENT:
            ctdp_offload_segment(pkt, out_add, &out);
            dp_packet_delete(pkt);
            continue;
        case CTDP_OFFLOAD_TX_WHOLE:
            n_whole++;
            break;
        case CTDP_OFFLOAD_TX_PLAIN:
        case CTDP_OFFLOAD_TX_GSO:
            break;
        }
        out_add(&out, pkt);
    }
    out_flush(&out);
    dp_packet_batch_init(batch);
    if (n_whole) {
        atomic_add_relaxed(&port->n_gso_whole, n_whole, &old);
    }
}

void
ctdp_port_flush(struct ctdp_port *port)
{
    if (port->pcap_tx) {
        ctdp_pcap_writer_flush(port->pcap_tx);
    }
}

/* Appends the GSO frames 'port' sent whole once there are some, after what
 * ctdp_port_format() wrote from 'start' on. */
static void
format_gso_whole(const struct ctdp_port *port, struct ds *s, size_t start)
{
    uint64_t n;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_port *, port)->n_gso_whole,
                        &n);
    if (n) {
        ds_put_format(s, "%s gso_sent_whole=%"PRIu64,
                      s->length > start + strlen(port->type) ? ";" : ":", n);
    }
}

/* Appends how far pcap port 'port' has read its input capture.  A polled
 * port's reader belongs to its receive thread: what it published is read
 * instead. */
static void
format_pcap_rx(const struct ctdp_port *port_, struct ds *s)
{
    struct ctdp_port *port = CONST_CAST(struct ctdp_port *, port_);
    long long usec;
    bool ended;
    uint64_t n;

    if (port->pcap_poll) {
        /* Pairs with the release in pcap_poll_end(): once it ended, the
         * count read after is the final one. */
        atomic_read_explicit(&port->poll_ended, &ended,
                             memory_order_acquire);
        atomic_read_relaxed(&port->n_polled, &n);
    } else {
        n = ctdp_pcap_reader_n_packets(port->pcap_rx);
        ended = !ctdp_pcap_reader_peek(port->pcap_rx, &usec);
    }
    ds_put_format(s, ": rx=%s, %s%"PRIu64" packets read, %s",
                  ctdp_pcap_reader_file(port->pcap_rx),
                  port->pcap_poll ? "mode=poll, " : "", n,
                  (!ended ? "reading"
                   : ctdp_pcap_reader_error(port->pcap_rx) ? "ended early"
                   : "ended"));
}

void
ctdp_port_format(const struct ctdp_port *port, struct ds *s)
{
    size_t start = s->length;
    struct netdev_stats st;

    ds_put_cstr(s, port->type);
    /* Drops inside the netdev layer (a frame longer than the MTU, a full
     * socket buffer): shown once there are some.  UINT64_MAX means the
     * netdev does not count them. */
    if (port->netdev && !netdev_get_stats(port->netdev, &st)) {
        uint64_t rx = ((st.rx_dropped == UINT64_MAX ? 0 : st.rx_dropped)
                       + (port->ring ? ctdp_ring_rx_dropped(port->ring) : 0));
        uint64_t tx = st.tx_dropped == UINT64_MAX ? 0 : st.tx_dropped;

        if (rx || tx) {
            ds_put_format(s, ": rx_dropped=%"PRIu64", tx_dropped=%"PRIu64,
                          rx, tx);
        }
    }
    if (port->pcap_rx) {
        format_pcap_rx(port, s);
    }
    if (port->pcap_tx) {
        ds_put_format(s, "%s tx=%s, %"PRIu64" packets written",
                      port->pcap_rx ? ";" : ":",
                      ctdp_pcap_writer_file(port->pcap_tx),
                      ctdp_pcap_writer_n_packets(port->pcap_tx));
    }
    format_gso_whole(port, s, start);
}
