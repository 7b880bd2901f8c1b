#ifndef CTDP_PCAP_H
#define CTDP_PCAP_H 1

/* Pcap files: the capture a "pcap" port reads and the one it writes.
 *
 * Both go through libpcap and take Ethernet captures only (link type
 * DLT_EN10MB): a capture of another link type is refused when it is
 * opened, so that a bad file is one clear error and never a stream of
 * unparsable packets.  Timestamps are microseconds since the epoch, as
 * the file stores them (nanosecond captures are read at microsecond
 * precision).
 *
 * A reader reads one packet ahead: ctdp_pcap_reader_peek() tells the
 * next packet's timestamp without taking it, which is what a merge of
 * several captures by timestamp needs (ctdp-replay.h).  A capture that
 * ends in the middle of a record ends there; ctdp_pcap_reader_error()
 * then says why.
 *
 * Thread-safety: a reader belongs to one thread at a time.  A writer may
 * be written to and flushed from any number of threads at once (it has
 * its own mutex).
 *
 * Errors: the open functions return NULL or a malloc'd one-line message
 * naming the file; nothing is left open on error. */

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/compiler.h"

struct dp_packet;
struct dp_packet_batch;
struct ctdp_pcap_reader;
struct ctdp_pcap_writer;

/* ---- Reading ----------------------------------------------------------- */

char *ctdp_pcap_reader_open(const char *file, struct ctdp_pcap_reader **)
    OVS_WARN_UNUSED_RESULT;
void ctdp_pcap_reader_close(struct ctdp_pcap_reader *);

/* Returns true and the next packet's timestamp in '*usec', or false at the
 * end of the capture. */
bool ctdp_pcap_reader_peek(const struct ctdp_pcap_reader *, long long *usec);
/* Returns the next packet, which the caller then owns, and its timestamp
 * in '*usec'; NULL at the end of the capture. */
struct dp_packet *ctdp_pcap_reader_next(struct ctdp_pcap_reader *,
                                        long long *usec);
/* Why the capture ended early (a truncated or corrupt file), or NULL if it
 * did not. */
const char *ctdp_pcap_reader_error(const struct ctdp_pcap_reader *);
const char *ctdp_pcap_reader_file(const struct ctdp_pcap_reader *);
uint64_t ctdp_pcap_reader_n_packets(const struct ctdp_pcap_reader *);

/* ---- Writing ----------------------------------------------------------- */

/* Opens 'file' for writing an Ethernet capture: a new (or empty) file gets
 * a capture header, an existing Ethernet capture in this machine's byte
 * order is appended to, and any other file, or one that is not regular, is
 * refused and left as it was. */
char *ctdp_pcap_writer_open(const char *file, struct ctdp_pcap_writer **)
    OVS_WARN_UNUSED_RESULT;
/* Flushes and closes the file. */
void ctdp_pcap_writer_close(struct ctdp_pcap_writer *);

/* Appends the packets of 'batch', each stamped 'usec', without taking
 * them.  Written records may stay buffered until ctdp_pcap_writer_flush()
 * or close. */
void ctdp_pcap_writer_write(struct ctdp_pcap_writer *,
                            const struct dp_packet_batch *, long long usec);
void ctdp_pcap_writer_flush(struct ctdp_pcap_writer *);
const char *ctdp_pcap_writer_file(const struct ctdp_pcap_writer *);
uint64_t ctdp_pcap_writer_n_packets(struct ctdp_pcap_writer *);

#endif /* ctdp-pcap.h */
