#ifndef CTDP_BENCH_H
#define CTDP_BENCH_H 1

/* ctdp-bench: ctdp's tracker against Open vSwitch's userspace conntrack.
 *
 * The benchmark is split by concern:
 *
 *   ctdp-bench-pkt.c     frames built as bytes, and "bursts": the up to 32
 *                        packets one thread owns and hands to a tracker;
 *   ctdp-bench-ct.c      one interface over both trackers (create, ct(),
 *                        dump, flush, ctdp's sweep), so that every workload
 *                        runs the same code on identical packets for both;
 *   ctdp-bench-mini.c    the minimal tracker, a control for the lookups:
 *                        what a lookup could cost at best on this machine;
 *   ctdp-bench-work.c    the workloads, run on threads made with
 *                        ovs_thread_create(), timed between two barriers,
 *                        the two trackers' runs alternating;
 *   ctdp-bench-report.c  medians, the Markdown report and the CSV;
 *   ctdp-bench.c         options and the order of the workloads.
 *
 * Everything here is used from the main thread, except what the comments
 * say the workload threads call (bursts, bench_ct_execute() and
 * bench_mini_execute()). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dp-packet.h"
#include "openvswitch/types.h"

/* ---- Packets (ctdp-bench-pkt.c) ---------------------------------------- */

#define BENCH_BATCH 32          /* Packets per ct() call, as OVS's PMDs. */

enum bench_proto {
    BENCH_UDP,
    BENCH_TCP,
};

/* Which packet of a conn a slot carries.  UDP uses ORIG and REPLY; TCP
 * uses the three packets of its handshake. */
enum bench_step {
    BENCH_ORIG,                 /* UDP client->server, or TCP SYN. */
    BENCH_REPLY,                /* UDP server->client, or TCP SYN-ACK. */
    BENCH_ACK,                  /* TCP's third packet: client->server. */
    BENCH_N_STEPS
};

/* A thread's packets.  'pkts' is the benchmark's own array: before every
 * ct() call the batch is rebuilt from its first 'n' packets, and a packet
 * that the tracker dropped (and freed) is re-created in its slot. */
struct bench_burst {
    struct dp_packet *pkts[BENCH_BATCH];
    struct dp_packet_batch batch;
    size_t n;                   /* Slots in use; all BENCH_BATCH exist. */
    enum bench_proto proto;
    uint64_t drops;             /* Packets the tracker dropped. */
    uint64_t est;               /* Packets that came back +est. */
    ovs_be16 csum_orig;         /* IPv4 checksums of the NAT workloads'  */
    ovs_be16 csum_nat_reply;    /* client->server and server->NAT frames. */
    uint32_t tcp_sums[BENCH_N_STEPS];   /* See tcp_step_sums(). */
};

void bench_burst_init(struct bench_burst *, enum bench_proto);
void bench_burst_destroy(struct bench_burst *);
void bench_burst_replace(struct bench_burst *, size_t slot);
void bench_burst_load(struct bench_burst *);
void bench_burst_set_ports(struct bench_burst *, size_t slot,
                           uint16_t sport, uint16_t dport, enum bench_step);
void bench_burst_set_conn(struct bench_burst *, size_t slot, uint32_t conn,
                          enum bench_step);

/* NAT: every NATed conn is committed with nat(src=BENCH_NAT_ADDR:
 * BENCH_NAT_MIN_PORT-BENCH_NAT_MAX_PORT), so that its client 10.1.1.1:sport
 * appears as BENCH_NAT_ADDR:nat_port, the port the tracker's binding
 * chose.  Replies go from the server to BENCH_NAT_ADDR:nat_port. */
#define BENCH_NAT_ADDR 0x0a010201       /* 10.1.2.1, host byte order. */
#define BENCH_NAT_MIN_PORT 1024
#define BENCH_NAT_MAX_PORT 65535

void bench_burst_set_nat_conn(struct bench_burst *, size_t slot,
                              uint32_t conn, uint16_t nat_port,
                              enum bench_step);
bool bench_burst_check_nat_conn(const struct bench_burst *, size_t slot,
                                uint32_t conn, uint16_t *nat_port,
                                enum bench_step);

/* ---- Trackers (ctdp-bench-ct.c) ---------------------------------------- */

enum bench_impl {
    BENCH_CTDP,
    BENCH_OVS,
    BENCH_N_IMPLS,
};

struct bench_ct;

const char *bench_impl_name(enum bench_impl);
struct bench_ct *bench_ct_create(enum bench_impl);
void bench_ct_destroy(struct bench_ct *);
enum bench_impl bench_ct_impl(const struct bench_ct *);

/* The NAT part of a ct() action. */
enum bench_nat {
    BENCH_NAT_NONE,             /* No nat. */
    BENCH_NAT_SRC,              /* nat(src=BENCH_NAT_ADDR:1024-65535). */
    BENCH_NAT_BARE,             /* nat: translate by the conn's binding. */
};

/* Thread-safe: called by the workload threads.  With a null tracker,
 * only marks the packets +est (bench_harness()). */
void bench_ct_execute(struct bench_ct *, struct bench_burst *, uint16_t zone,
                      bool commit, enum bench_nat, long long now);

/* The minimal tracker (ctdp-bench-mini.c), in one of two layouts of its
 * table: buckets of tags, then the conn's record (two dependent lines);
 * the records in the slots of a half-full table (one line). */
enum bench_mini_layout {
    BENCH_MINI_BUCKETS,
    BENCH_MINI_SLOTS,
    BENCH_N_MINIS,
};

struct bench_mini;
struct bench_mini *bench_mini_create(enum bench_mini_layout,
                                     uint32_t n_conns, long long now);
void bench_mini_destroy(struct bench_mini *);
double bench_mini_bytes_per_conn(const struct bench_mini *);

/* Called by one workload thread at a time: the records are written
 * without atomics. */
void bench_mini_execute(struct bench_mini *, struct bench_burst *,
                        uint16_t zone, long long now);

/* ctdp's expiry sweep, on a thread of its own, on ctdpd's schedule;
 * nothing for Open vSwitch, whose clean thread always runs.  Around each
 * timed run; stop returns the conns the sweep removed (none expected). */
void bench_ct_sweep_start(struct bench_ct *);
uint64_t bench_ct_sweep_stop(struct bench_ct *);

/* ctdp's nf_conntrack_acct, on by default (ctdp's default): Open
 * vSwitch's userspace tracker keeps no counters per conn. */
void bench_ct_set_acct(struct bench_ct *, bool on);

uint32_t bench_ct_n_conns(struct bench_ct *);
size_t bench_ct_dump(struct bench_ct *, long long now);
void bench_ct_flush_zone(struct bench_ct *, uint16_t zone, long long now);

/* ---- Workloads (ctdp-bench-work.c) ------------------------------------- */

/* The results of the runs of one measurement, in its unit. */
#define BENCH_MAX_RUNS 64
struct bench_runs {
    double v[BENCH_MAX_RUNS];
    size_t n;
    uint64_t drops;             /* Packets dropped by the tracker. */
    uint64_t misses;            /* Packets that did not find their conn
                                 * where they should have. */
};

void bench_runs_add(struct bench_runs *, double);
double bench_runs_median(const struct bench_runs *);
double bench_runs_min(const struct bench_runs *);
double bench_runs_max(const struct bench_runs *);

struct bench_config {
    unsigned int runs;          /* Runs of each measurement. */
    unsigned int heavy_runs;    /* Runs of the 1M table rebuilds. */
    uint64_t flow_pkts;         /* Single-flow packets per thread. */
    uint64_t lookups;           /* Lookups per run, over all threads. */
    uint32_t big;               /* The "1M" of new-conns, memory, dump. */
    uint32_t flush_zone;        /* Conns in the flushed zone. */
    uint32_t lookup_sizes[4];   /* Table sizes of the lookup workload. */
    size_t n_lookup_sizes;
};

/* The workloads that measure both trackers add tracker 'impl''s runs to
 * 'runs[impl]', alternating the trackers run by run. */
void bench_single_flow(const struct bench_config *, unsigned int n_threads,
                       struct bench_runs *runs[BENCH_N_IMPLS]);

/* The percentiles of batch time that new-conns reports. */
enum bench_pct {
    BENCH_P50,
    BENCH_P99,
    BENCH_P9999,
    BENCH_PMAX,                 /* The slowest batch. */
    BENCH_N_PCTS,
};

/* The ct() calls per batch of new conns: UDP's commit; TCP's SYN, SYN-ACK
 * and ACK.  Each timed call reads the clock twice. */
#define BENCH_CONN_CALLS(PROTO) ((PROTO) == BENCH_TCP ? 3 : 1)
#define BENCH_MAX_CALLS BENCH_CONN_CALLS(BENCH_TCP)

/* Batch latency of new-conns: the time each batch of BENCH_BATCH conns
 * spends in ct() (UDP: its one call; TCP: the sum of the handshake's
 * three), every batch of a run timed.  'pct[p]' holds one value per run,
 * in µs: that run's percentile 'p' of its batches' times; 'call_ns[i]'
 * one per run, in ns per conn: the time of the batches' call i (TCP: 0
 * the SYN, 1 the SYN-ACK, 2 the ACK). */
struct bench_latency {
    struct bench_runs pct[BENCH_N_PCTS];
    struct bench_runs call_ns[BENCH_MAX_CALLS];
};

const char *bench_pct_name(enum bench_pct);

/* The machine's own batch latency: 'n_batches' batches of arithmetic
 * alone (a dependent multiply-add chain: no memory, no system call), each
 * sized to last about 'batch_us', timed as new-conns times its batches;
 * each of 'runs' runs adds its percentiles to 'latency'.  What the host
 * and the kernel (interrupts, the hypervisor, other guests) put into any
 * batch of that length, whatever it does: a floor for new-conns's tail.
 * With 'memory', each batch also writes what a batch of new conns must
 * (BENCH_BATCH random lines of a 16 MiB table, BENCH_BATCH fresh objects
 * of 128 bytes, all backed before the runs), the arithmetic filling the
 * rest of 'batch_us': what the machine puts into such a batch with no
 * tracker at all. */
void bench_quiet_latency(double batch_us, size_t n_batches,
                         unsigned int runs, bool memory,
                         struct bench_latency *);

/* The ns that one read of the clock that times batches costs. */
double bench_clock_read_ns(void);
/* The clock rate the CPU runs at now, in GHz: measured by a chain of
 * dependent 64-bit multiply-adds, 4 cycles a step (a multiply's latency
 * of 3 and an add's of 1 on x86-64 cores since 2008). */
double bench_cpu_ghz(void);
/* The ns that a cache line takes from one thread to another, one way. */
double bench_line_transfer_ns(void);

/* Where new-conns runs of one tracker go: the rate in Mconn/s; if
 * nonnull, the CPU time of the whole process (every thread) during each
 * timed run, in ns per conn; if nonnull (one thread only), the times of
 * every batch of the same runs. */
struct bench_conns_out {
    struct bench_runs *rate;
    struct bench_runs *cpu;
    struct bench_latency *latency;
};

/* New conns: 'cfg->big' conns on a fresh tracker per run, into
 * 'out[impl]'.  If 'warm', the tracker has held the same conns before the
 * timed run, and they were flushed (its memory is backed, its table
 * grown); warm runs time no batch. */
void bench_new_conns(const struct bench_config *, enum bench_proto,
                     unsigned int n_threads, bool warm,
                     const struct bench_conns_out out[BENCH_N_IMPLS]);

/* Lookups: one table of 'n_conns' per tracker, shared by the runs of
 * every thread count in 'threads' ('results[impl][i]' for 'threads[i]');
 * 'uncounted[i]' gets ctdp's with nf_conntrack_acct=0, and 'floor[i]'
 * the memory floor, random cache-line reads from 'floor_bytes' of
 * memory, both interleaved with them. */
void bench_lookups(const struct bench_config *, uint32_t n_conns,
                   const unsigned int threads[], size_t n_threads,
                   struct bench_runs *results[BENCH_N_IMPLS],
                   struct bench_runs uncounted[],
                   size_t floor_bytes, struct bench_runs floor[]);

/* NAT (see BENCH_NAT_ADDR): new conns, each committed with source NAT
 * and answered (TCP: the whole handshake), the replies de-NATed by a bare
 * nat; and the same without NAT, as the baseline ('nat' false). */
void bench_nat_new_conns(const struct bench_config *, enum bench_proto,
                         bool nat, unsigned int n_threads,
                         struct bench_runs *runs[BENCH_N_IMPLS]);

/* NAT lookups on tables of 'n_conns' established UDP conns: */
enum bench_nat_lookup {
    BENCH_NL_PLAIN_REPLY,       /* Un-NATed conns, reply direction. */
    BENCH_NL_NAT_ORIG,          /* SNATed conns, original direction. */
    BENCH_NL_NAT_REPLY,         /* SNATed conns, reply direction. */
    BENCH_N_NLS,
};
void bench_nat_lookups(const struct bench_config *, uint32_t n_conns,
                       const unsigned int threads[], size_t n_threads,
                       struct bench_runs *results[BENCH_N_NLS][BENCH_N_IMPLS]);

/* Bytes of RSS per conn after committing 'n_conns', in a child process. */
void bench_memory(enum bench_impl, enum bench_proto, uint32_t n_conns,
                  struct bench_runs *);

/* The lookups of bench_lookups() among 'n_conns' conns with no tracker:
 * each batch's packets are built and loaded as for a tracker, then marked
 * +est.  The benchmark's own part of every lookup, in Mpps. */
void bench_harness(const struct bench_config *, uint32_t n_conns,
                   unsigned int n_threads, struct bench_runs *);

/* The lookups of bench_lookups() among 'n_conns' conns on one thread,
 * tracked by the minimal tracker in 'layout', in Mpps.  Sets
 * '*bytes_per_conn' to its table's. */
void bench_minimal(const struct bench_config *, uint32_t n_conns,
                   enum bench_mini_layout, struct bench_runs *,
                   double *bytes_per_conn);

/* Dump of 'cfg->big' conns and flush of a zone of 'cfg->flush_zone'. */
void bench_dump_flush(const struct bench_config *,
                      struct bench_runs *dump[BENCH_N_IMPLS],
                      struct bench_runs *flush[BENCH_N_IMPLS]);

/* The whole datapath: `ctdpd --replay` of captures of 'n_flows' mixed
 * TCP, UDP and ICMP flows through the default firewall, in Mpps
 * (ctdp-bench-dp.c). */
void bench_datapath(const struct bench_config *, uint32_t n_flows,
                    struct bench_runs *);

/* ---- Report (ctdp-bench-report.c) -------------------------------------- */

struct bench_report;

struct bench_report *bench_report_create(int argc, char *argv[]);
void bench_report_row(struct bench_report *, const char *workload,
                      unsigned int threads, uint32_t conns, const char *unit,
                      bool higher_is_better, const struct bench_runs *ctdp,
                      const struct bench_runs *ovs);
void bench_report_note(struct bench_report *, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);
void bench_report_target(struct bench_report *, const char *target,
                         bool met, const char *format, ...)
    OVS_PRINTF_FORMAT(4, 5);
void bench_report_target_unmeasured(struct bench_report *,
                                    const char *target,
                                    const char *format, ...)
    OVS_PRINTF_FORMAT(3, 4);
void bench_report_csv(struct bench_report *, const char *series,
                      unsigned int threads, uint32_t conns,
                      const struct bench_runs *);
/* Returns 0 if 'file' (missing, or with no markers, or one pair in order)
 * can take the report; else prints why and returns EINVAL. */
int bench_report_check_markdown(const char *file);
int bench_report_finish(struct bench_report *, const char *markdown_file,
                        const char *csv_file);
void bench_report_destroy(struct bench_report *);

#endif /* ctdp-bench.h */
