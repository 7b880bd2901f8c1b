#ifndef CTDP_FUZZ_COMMON_H
#define CTDP_FUZZ_COMMON_H 1

/* What the libFuzzer targets of tests/fuzz/ share: reading an input as a
 * stream of fields, making frames of its bytes, and fixing their
 * checksums.
 *
 * Every target reads its input front to back with the fuzz_take_*()
 * calls, which never fail: past the end they return zeros and empty
 * slices, so that any input is a valid program of the target's little
 * language and a short input simply ends early.
 *
 * The tracker and defragmentation check every checksum (IPv4 header,
 * TCP, UDP, ICMP, ICMPv6) before anything else, as the kernel does; a
 * fuzzer that had to find them by mutation would spend its time on that
 * check alone.  fuzz_fix_checksums() writes the right ones into a frame
 * wherever its headers say they are, so that the targets reach the
 * trackers' state machines and can still send a bad checksum when the
 * input says so.
 *
 * Thread-safety: the targets run on one thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_packet;

/* An input being read. */
struct fuzz_input {
    const uint8_t *p;
    size_t n;
};

uint8_t fuzz_take_u8(struct fuzz_input *);
uint16_t fuzz_take_be16(struct fuzz_input *);
uint32_t fuzz_take_be32(struct fuzz_input *);
/* Takes up to 'max' bytes, stores their number in '*n', returns them. */
const uint8_t *fuzz_take_bytes(struct fuzz_input *, size_t max, size_t *n);
/* Takes the bytes up to the next 'delim' (which is skipped) or the end,
 * as a new NUL-terminated string; NULL once the input is used up. */
char *fuzz_take_line(struct fuzz_input *, char delim);

/* Returns the name (/proc/self/fd/N) of a new, empty file in memory
 * (memfd), a regular file that the pcap ports can read and write without
 * touching a disk, and stores its descriptor in '*fd' (to empty it with
 * ftruncate(), since a pcap port's tx= appends).  Aborts on failure. */
char *fuzz_memfile(const char *name, int *fd);

/* Prepares the process, once: silences the Open vSwitch library's logging
 * (a fuzzer sends it far too many bad packets) and installs its
 * fatal-signal handlers, all but SIGALRM's, which is libFuzzer's.  A
 * target that uses the library calls it before anything else (from
 * LLVMFuzzerInitialize(), or its first input). */
void fuzz_init(void);

/* Writes the IPv4 header checksum and the TCP, UDP, ICMP or ICMPv6
 * checksum of Ethernet frame 'frame' (with up to two VLAN tags) wherever
 * its headers put them and the frame holds them; leaves the rest alone. */
void fuzz_fix_checksums(uint8_t *frame, size_t size);

/* Returns a new packet holding 'size' bytes of 'frame', received on port
 * 'in_port', with its metadata initialized.  With 'extract', its layer
 * offsets are set by the Open vSwitch flow parser, as the datapath's
 * pipeline does; without, they are left unset, so that the tracker finds
 * the headers itself. */
struct dp_packet *fuzz_packet(const uint8_t *frame, size_t size,
                              uint32_t in_port, bool extract);

#endif /* fuzz-common.h */
