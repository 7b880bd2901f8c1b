#include <config.h>
#include "ctdp-pcap.h"

#include <pcap/pcap.h>
#include <string.h>
#include "dp-packet.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_pcap);

/* The largest frame a written capture says it may hold (libpcap's own
 * maximum); longer frames are cut to it, as a capture would. */
#define CTDP_PCAP_SNAPLEN 262144

struct ctdp_pcap_reader {
    char *file;
    pcap_t *pcap;               /* NULL once the capture has ended. */
    struct dp_packet *next;     /* Read ahead; NULL at the end. */
    long long next_usec;        /* Timestamp of 'next'. */
    uint64_t n_packets;         /* Taken by ctdp_pcap_reader_next(). */
    char *error;                /* Why the capture ended early, or NULL. */
};

struct ctdp_pcap_writer {
    char *file;
    struct ovs_mutex mutex;
    pcap_t *pcap;               /* A "dead" handle: link type, snaplen. */
    pcap_dumper_t *dumper OVS_GUARDED;
    uint64_t n_packets OVS_GUARDED;
};

/* Returns libpcap's message 'why' about 'file' prefixed with the file name,
 * unless libpcap already put it there. */
static char *
file_error(const char *file, const char *what, const char *why)
{
    size_t n = strlen(file);

    if (!strncmp(why, file, n) && why[n] == ':') {
        why += n + 1;
        why += strspn(why, " ");
    }
    return xasprintf("%s: %s%s", file, what, why);
}

/* ---- Reading ----------------------------------------------------------- */

/* Reads the next record into 'r->next', or closes the capture at its end
 * (remembering why if it ended early). */
static void
read_ahead(struct ctdp_pcap_reader *r)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int retval;

    r->next = NULL;
    if (!r->pcap) {
        return;
    }
    retval = pcap_next_ex(r->pcap, &hdr, &data);
    if (retval == 1) {
        r->next = dp_packet_clone_data(data, hdr->caplen);
        r->next_usec = (long long) hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
        return;
    }
    if (retval != PCAP_ERROR_BREAK) {
        r->error = file_error(r->file, "", pcap_geterr(r->pcap));
    }
    pcap_close(r->pcap);
    r->pcap = NULL;
}

char *
ctdp_pcap_reader_open(const char *file, struct ctdp_pcap_reader **readerp)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct ctdp_pcap_reader *r;
    pcap_t *pcap;
    int dlt;

    *readerp = NULL;
    pcap = pcap_open_offline_with_tstamp_precision(
        file, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!pcap) {
        return file_error(file, "cannot read capture: ", errbuf);
    }
    dlt = pcap_datalink(pcap);
    if (dlt != DLT_EN10MB) {
        const char *name = pcap_datalink_val_to_name(dlt);
        const char *description = pcap_datalink_val_to_description(dlt);

        pcap_close(pcap);
        return xasprintf("%s: link type %s (%s) is not Ethernet; only "
                         "Ethernet captures can be read", file,
                         name ? name : "unknown",
                         description ? description : "unknown");
    }
    r = xzalloc(sizeof *r);
    r->file = xstrdup(file);
    r->pcap = pcap;
    read_ahead(r);
    if (r->error) {
        /* Not even the first record is readable: refuse the file. */
        char *error = r->error;

        r->error = NULL;
        ctdp_pcap_reader_close(r);
        return error;
    }
    *readerp = r;
    return NULL;
}

void
ctdp_pcap_reader_close(struct ctdp_pcap_reader *r)
{
    if (r) {
        if (r->pcap) {
            pcap_close(r->pcap);
        }
        dp_packet_delete(r->next);
        free(r->error);
        free(r->file);
        free(r);
    }
}

bool
ctdp_pcap_reader_peek(const struct ctdp_pcap_reader *r, long long *usec)
{
    if (r->next) {
        *usec = r->next_usec;
        return true;
    }
    return false;
}

struct dp_packet *
ctdp_pcap_reader_next(struct ctdp_pcap_reader *r, long long *usec)
{
    struct dp_packet *pkt = r->next;

    if (pkt) {
        *usec = r->next_usec;
        r->n_packets++;
        read_ahead(r);
    }
    return pkt;
}

const char *
ctdp_pcap_reader_error(const struct ctdp_pcap_reader *r)
{
    return r->error;
}

const char *
ctdp_pcap_reader_file(const struct ctdp_pcap_reader *r)
{
    return r->file;
}

uint64_t
ctdp_pcap_reader_n_packets(const struct ctdp_pcap_reader *r)
{
    return r->n_packets;
}

/* ---- Writing ----------------------------------------------------------- */

char *
ctdp_pcap_writer_open(const char *file, struct ctdp_pcap_writer **writerp)
{
    struct ctdp_pcap_writer *w;
    pcap_dumper_t *dumper;
    pcap_t *pcap;

    *writerp = NULL;
    pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, CTDP_PCAP_SNAPLEN,
                                                PCAP_TSTAMP_PRECISION_MICRO);
    if (!pcap) {
        return xasprintf("%s: cannot write capture: out of memory", file);
    }
    dumper = pcap_dump_open(pcap, file);
    if (!dumper) {
        char *error = file_error(file, "cannot write capture: ",
                                 pcap_geterr(pcap));

        pcap_close(pcap);
        return error;
    }
    w = xzalloc(sizeof *w);
    w->file = xstrdup(file);
    ovs_mutex_init(&w->mutex);
    w->pcap = pcap;
    w->dumper = dumper;
    *writerp = w;
    return NULL;
}

void
ctdp_pcap_writer_close(struct ctdp_pcap_writer *w)
{
    if (w) {
        pcap_dump_close(w->dumper);
        pcap_close(w->pcap);
        ovs_mutex_destroy(&w->mutex);
        free(w->file);
        free(w);
    }
}

void
ctdp_pcap_writer_write(struct ctdp_pcap_writer *w,
                       const struct dp_packet_batch *batch, long long usec)
{
    struct pcap_pkthdr hdr = {
        .ts = { .tv_sec = usec / 1000000, .tv_usec = usec % 1000000 },
    };
    struct dp_packet *pkt;

    ovs_mutex_lock(&w->mutex);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        hdr.len = dp_packet_size(pkt);
        hdr.caplen = MIN(hdr.len, CTDP_PCAP_SNAPLEN);
        pcap_dump((u_char *) w->dumper, &hdr, dp_packet_data(pkt));
        w->n_packets++;
    }
    ovs_mutex_unlock(&w->mutex);
}

void
ctdp_pcap_writer_flush(struct ctdp_pcap_writer *w)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

    ovs_mutex_lock(&w->mutex);
    if (pcap_dump_flush(w->dumper)) {
        VLOG_WARN_RL(&rl, "%s: write failed", w->file);
    }
    ovs_mutex_unlock(&w->mutex);
}

const char *
ctdp_pcap_writer_file(const struct ctdp_pcap_writer *w)
{
    return w->file;
}

uint64_t
ctdp_pcap_writer_n_packets(struct ctdp_pcap_writer *w)
{
    uint64_t n;

    ovs_mutex_lock(&w->mutex);
    n = w->n_packets;
    ovs_mutex_unlock(&w->mutex);
    return n;
}
