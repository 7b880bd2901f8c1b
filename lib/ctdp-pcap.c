#include <config.h>
#include "ctdp-pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "byte-order.h"
#include "dp-packet.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ctdp_pcap);

/* The largest frame a new capture says it may hold (libpcap's own
 * maximum); longer frames are cut to it, as a capture would.  A capture
 * appended to keeps its own snaplen. */
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
    pcap_t *pcap;               /* A "dead" handle: link type, snaplen,
                                 * time stamp precision. */
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

/* Opens 'file' as open(2) does with 'flags', refusing anything but a
 * regular file: the file is opened O_NONBLOCK, so that a FIFO cannot block
 * the caller until its other end is opened, checked with fstat() before
 * any byte moves, and only then made blocking.  Returns the fd, or a
 * negative errno and a message '"FILE: " what why' in '*errorp'. */
static int
open_regular(const char *file, int flags, const char *what, char **errorp)
{
    int fd = open(file, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
    const char *why = NULL;
    struct stat st;
    int error = 0;

    *errorp = NULL;
    if (fd < 0) {
        error = errno;
        why = error == EISDIR ? "not a regular file" : ovs_strerror(error);
    } else if (fstat(fd, &st)) {
        error = errno;
        why = ovs_strerror(error);
    } else if (!S_ISREG(st.st_mode)) {
        error = EINVAL;
        why = "not a regular file";
    } else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
        error = errno;
        why = ovs_strerror(error);
    }
    if (why) {
        *errorp = file_error(file, what, why);
        if (fd >= 0) {
            close(fd);
        }
        return -error;
    }
    return fd;
}

/* ---- Reading ----------------------------------------------------------- */

/* Returns a packet holding a copy of the 'size' bytes at 'data', in one
 * allocation with its struct (a stub the packet frees with itself; a
 * packet that must grow moves to a buffer of its own): one malloc and one
 * free per packet of a capture instead of two. */
static struct dp_packet *
packet_from_record(const void *data, size_t size)
{
    struct dp_packet *pkt = xmalloc(sizeof *pkt + size);

    dp_packet_use_stub(pkt, pkt + 1, size);
    dp_packet_put(pkt, data, size);
    return pkt;
}

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
        r->next = packet_from_record(data, hdr->caplen);
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
    static const char what[] = "cannot read capture: ";
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct ctdp_pcap_reader *r;
    FILE *stream;
    pcap_t *pcap;
    char *error;
    int dlt, fd;

    *readerp = NULL;
    fd = open_regular(file, O_RDONLY, what, &error);
    if (fd < 0) {
        return error;
    }
    stream = fdopen(fd, "rb");
    if (!stream) {
        error = file_error(file, what, ovs_strerror(errno));
        close(fd);
        return error;
    }
    /* libpcap reads a record at a time through 'stream': a large buffer
     * makes that a read(2) per MiB rather than per 4 KiB. */
    setvbuf(stream, NULL, _IOFBF, 1 << 20);
    /* On success the handle owns 'stream'; on failure the caller does. */
    pcap = pcap_fopen_offline_with_tstamp_precision(
        stream, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!pcap) {
        fclose(stream);
        return file_error(file, what, errbuf);
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
        error = r->error;
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

/* The magic numbers of pcap files (microsecond and nanosecond stamps),
 * as this host reads them in a file of its own byte order. */
#define PCAP_MAGIC_USEC 0xa1b2c3d4
#define PCAP_MAGIC_NSEC 0xa1b23c4d

/* Checks that the 'n' bytes of header 'ph' that an existing 'file' starts
 * with belong to a capture that the writer can append to: an Ethernet
 * capture in this host's byte order.  Sets '*precision' to its time stamp
 * precision. */
static char *
check_append(const char *file, const struct pcap_file_header *ph, size_t n,
             int *precision)
{
    static const char what[] = "cannot write capture: ";

    if (n == sizeof *ph && (ph->magic == PCAP_MAGIC_USEC
                            || ph->magic == PCAP_MAGIC_NSEC)) {
        *precision = (ph->magic == PCAP_MAGIC_NSEC
                      ? PCAP_TSTAMP_PRECISION_NANO
                      : PCAP_TSTAMP_PRECISION_MICRO);
        if (ph->linktype == DLT_EN10MB) {
            return NULL;
        }
        const char *name = pcap_datalink_val_to_name(ph->linktype);
        const char *description
            = pcap_datalink_val_to_description(ph->linktype);

        return xasprintf("%s: link type %s (%s) is not Ethernet; cannot "
                         "append to it", file, name ? name : "unknown",
                         description ? description : "unknown");
    }
    if (n == sizeof *ph && (ph->magic == uint32_byteswap(PCAP_MAGIC_USEC)
                            || ph->magic
                               == uint32_byteswap(PCAP_MAGIC_NSEC))) {
        return file_error(file, what, "a capture in the other byte order; "
                          "cannot append to it");
    }
    return file_error(file, what, "not a pcap capture; will not overwrite "
                      "it");
}

/* Starts a new capture in 'fd', an empty file: a header, then records.
 * Closes 'fd' on error. */
static char *
start_capture(const char *file, int fd, pcap_t **pcapp,
              pcap_dumper_t **dumperp)
{
    pcap_t *pcap = pcap_open_dead_with_tstamp_precision(
        DLT_EN10MB, CTDP_PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
    FILE *stream = pcap ? fdopen(fd, "wb") : NULL;
    char *error;

    if (!stream) {
        error = xasprintf("%s: cannot write capture: %s", file,
                          pcap ? ovs_strerror(errno) : "out of memory");
        close(fd);
        if (pcap) {
            pcap_close(pcap);
        }
        return error;
    }
    /* pcap_dump_fopen() closes 'stream' if it fails. */
    *dumperp = pcap_dump_fopen(pcap, stream);
    if (!*dumperp) {
        error = file_error(file, "cannot write capture: ", pcap_geterr(pcap));
        pcap_close(pcap);
        return error;
    }
    *pcapp = pcap;
    return NULL;
}

/* Appends to the existing capture 'file', open as 'fd', whose header is
 * 'ph' (its 'n' first bytes), as Open vSwitch's dummy ports do: records go
 * after those already there, in the file's own time stamp precision and
 * snaplen.  Closes 'fd'. */
static char *
append_capture(const char *file, int fd, const struct pcap_file_header *ph,
               size_t n, pcap_t **pcapp, pcap_dumper_t **dumperp)
{
    struct stat st, dumper_st;
    pcap_dumper_t *dumper;
    int precision = PCAP_TSTAMP_PRECISION_MICRO;
    char *error;
    pcap_t *pcap;

    error = check_append(file, ph, n, &precision);
    if (error || fstat(fd, &st)) {
        close(fd);
        return error ? error : file_error(file, "cannot write capture: ",
                                          ovs_strerror(errno));
    }
    close(fd);
    pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, ph->snaplen,
                                                precision);
    if (!pcap) {
        return xasprintf("%s: cannot write capture: out of memory", file);
    }
    /* libpcap appends only to a file it opens itself: make sure it is the
     * file checked above, not one put in its place since. */
    dumper = pcap_dump_open_append(pcap, file);
    if (!dumper) {
        error = file_error(file, "cannot write capture: ", pcap_geterr(pcap));
    } else if (fstat(fileno(pcap_dump_file(dumper)), &dumper_st)
               || dumper_st.st_dev != st.st_dev
               || dumper_st.st_ino != st.st_ino) {
        error = file_error(file, "cannot write capture: ", "replaced while "
                           "it was opened");
        pcap_dump_close(dumper);
    }
    if (error) {
        pcap_close(pcap);
        return error;
    }
    *pcapp = pcap;
    *dumperp = dumper;
    return NULL;
}

char *
ctdp_pcap_writer_open(const char *file, struct ctdp_pcap_writer **writerp)
{
    static const char what[] = "cannot write capture: ";
    struct pcap_file_header ph;
    struct ctdp_pcap_writer *w;
    pcap_dumper_t *dumper = NULL;
    bool created = false;
    pcap_t *pcap = NULL;
    char *error;
    ssize_t n;
    int fd;

    *writerp = NULL;
    fd = open_regular(file, O_RDWR, what, &error);
    if (fd == -ENOENT) {
        free(error);
        fd = open_regular(file, O_RDWR | O_CREAT | O_EXCL, what, &error);
        created = fd >= 0;
    }
    if (fd < 0) {
        return error;
    }
    n = read(fd, &ph, sizeof ph);
    if (n < 0) {
        error = file_error(file, what, ovs_strerror(errno));
        close(fd);
    } else if (n == 0) {
        error = start_capture(file, fd, &pcap, &dumper);
    } else {
        error = append_capture(file, fd, &ph, n, &pcap, &dumper);
    }
    if (error) {
        if (created) {
            unlink(file);
        }
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
    bool nsec = (pcap_get_tstamp_precision(w->pcap)
                 == PCAP_TSTAMP_PRECISION_NANO);
    /* A capture's snaplen of 0 is no limit, as libpcap reads it (one made
     * elsewhere, appended to): records cut to it would hold nothing. */
    uint32_t snaplen = pcap_snapshot(w->pcap) ? pcap_snapshot(w->pcap)
                                              : UINT32_MAX;
    /* pcap_dump() writes 'tv_usec' as it is: nanoseconds for a capture
     * with nanosecond stamps. */
    struct pcap_pkthdr hdr = {
        .ts = { .tv_sec = usec / 1000000,
                .tv_usec = usec % 1000000 * (nsec ? 1000 : 1) },
    };
    struct dp_packet *pkt;

    ovs_mutex_lock(&w->mutex);
    DP_PACKET_BATCH_FOR_EACH (i, pkt, batch) {
        hdr.len = dp_packet_size(pkt);
        hdr.caplen = MIN(hdr.len, snaplen);
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
