/* ctdp-bench: ctdp's connection tracker against Open vSwitch's userspace
 * conntrack, on identical packets in the same run.
 *
 * The workloads, in the order of the report (docs/BENCHMARKS.md says what
 * each measures and how):
 *   1. single-flow: Open vSwitch's `ovstest test-conntrack benchmark`;
 *   2. lookup: ct() without commit on established UDP conns, random order;
 *      also ctdp's with nf_conntrack_acct=0, which Open vSwitch matches;
 *   3. new-conns: UDP conns committed once each; TCP handshakes; on one
 *      thread, also the percentiles of the time per batch of conns; on
 *      fresh trackers, the process's CPU time per conn;
 *   4. threads: 1 and 2 threads for 1 to 3;
 *   5. memory: RSS growth per conn, in a child process per tracker;
 *   6. memory floor: random cache-line reads, the limit for lookups;
 *      the lookups' benchmark alone, with no tracker; and the lookups of
 *      a minimal tracker in two layouts of its table (a control);
 *   7. dump of every conn, flush of one zone;
 *   8. datapath: captures of mixed flows through `ctdpd --replay`;
 *   9. nat: new conns with source NAT (UDP, TCP handshakes) and lookups
 *      of SNATed conns in both directions, each beside its un-NATed
 *      baseline.
 *
 * Memory is measured first, because it forks and a child of a process
 * that already runs threads would have no RCU thread. */
#include <config.h>
#include "ctdp-bench.h"

#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"

static const unsigned int bench_threads[] = { 1, 2 };
#define N_THREADS ARRAY_SIZE(bench_threads)
#define MAX_SIZES 4

/* Everything measured, by tracker, thread count and size. */
struct bench_results {
    struct bench_runs flow[BENCH_N_IMPLS][N_THREADS];
    struct bench_runs lookup[BENCH_N_IMPLS][MAX_SIZES][N_THREADS];
    /* ctdp's lookups with nf_conntrack_acct=0, counting nothing per conn,
     * as Open vSwitch. */
    struct bench_runs uncounted[MAX_SIZES][N_THREADS];
    struct bench_runs floor[MAX_SIZES][N_THREADS];
    struct bench_runs harness[N_THREADS];   /* At the largest size. */
    /* The minimal tracker at the largest size, one thread. */
    struct bench_runs minimal[BENCH_N_MINIS];
    double minimal_bytes[BENCH_N_MINIS];    /* Its table, per conn. */
    /* New conns by warmth (0: fresh trackers), tracker, proto. */
    struct bench_runs conns[2][BENCH_N_IMPLS][2][N_THREADS];
    /* The fresh trackers' runs of new conns: the process's CPU time (every
     * thread) per conn, in ns; by tracker, proto. */
    struct bench_runs conn_cpu[BENCH_N_IMPLS][2][N_THREADS];
    struct bench_latency latency[BENCH_N_IMPLS][2];         /* 1 thread. */
    /* Batches of ctdp's UDP p50 (controls): arithmetic alone [0], and
     * with a batch of new conns' memory writes [1]. */
    struct bench_latency quiet[2];
    double clock_ns;            /* One read of the clock timing batches. */
    double transfer_ns;         /* A cache line between two threads. */
    double cpu_ghz;             /* The CPU's clock, measured. */
    struct bench_runs memory[BENCH_N_IMPLS][2];             /* By proto. */
    struct bench_runs dump[BENCH_N_IMPLS], flush[BENCH_N_IMPLS];
    struct bench_runs datapath;                             /* ctdp only. */
    /* NAT: new conns by proto, un-NATed (0) or SNATed (1); lookups by
     * kind at the largest lookup size. */
    struct bench_runs nat_conns[BENCH_N_IMPLS][2][2][N_THREADS];
    struct bench_runs nat_lookup[BENCH_N_NLS][BENCH_N_IMPLS][N_THREADS];
};

/* Flows in the datapath workload's captures. */
#define DP_FLOWS 30000

/* Workloads that --only selects. */
#define BENCH_WORKLOADS                 \
    BENCH_WORKLOAD(FLOW, "single-flow") \
    BENCH_WORKLOAD(LOOKUP, "lookup")    \
    BENCH_WORKLOAD(CONNS, "new-conns")  \
    BENCH_WORKLOAD(MEMORY, "memory")    \
    BENCH_WORKLOAD(DUMP, "dump")        \
    BENCH_WORKLOAD(DATAPATH, "datapath") \
    BENCH_WORKLOAD(NAT, "nat")

enum {
#define BENCH_WORKLOAD(ENUM, NAME) W_##ENUM##_BIT,
    BENCH_WORKLOADS
#undef BENCH_WORKLOAD
};
enum {
#define BENCH_WORKLOAD(ENUM, NAME) W_##ENUM = 1 << W_##ENUM##_BIT,
    BENCH_WORKLOADS
#undef BENCH_WORKLOAD
};

struct bench_options {
    struct bench_config cfg;
    unsigned int only;          /* W_* bits. */
    const char *markdown;
    const char *csv;
};

static void parse_options(int argc, char *argv[], struct bench_options *);
static void usage(void) OVS_NO_RETURN;

static void
progress(const char *what, enum bench_impl impl, unsigned int threads,
         uint32_t conns, const struct bench_runs *runs, const char *unit)
{
    fprintf(stderr, "ctdp-bench: %-12s %-4s %u thread(s) %8"PRIu32" conns: "
            "%.3f %s (min %.3f, max %.3f)%s\n", what, bench_impl_name(impl),
            threads, conns, bench_runs_median(runs), unit,
            bench_runs_min(runs), bench_runs_max(runs),
            runs->drops || runs->misses ? " [drops or misses]" : "");
}

static void
measure_memory(const struct bench_config *cfg, struct bench_results *res)
{
    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
            struct bench_runs *runs = &res->memory[impl][proto];

            bench_memory(impl, proto, cfg->big, runs);
            if (!runs->n) {
                ovs_fatal(0, "the memory child of %s failed",
                          bench_impl_name(impl));
            }
            progress(proto == BENCH_TCP ? "memory-tcp" : "memory-udp", impl,
                     1, cfg->big, runs, "B/conn");
        }
    }
}

/* Bytes per conn of ctdp's table, for the memory floor: as measured for
 * UDP (160, the target, if memory was not measured), bounded so that a
 * broken measurement cannot exhaust memory. */
static double
floor_bytes(const struct bench_results *res)
{
    const struct bench_runs *udp = &res->memory[BENCH_CTDP][BENCH_UDP];
    double bytes = udp->n ? bench_runs_median(udp) : 160;

    return MAX(64, MIN(bytes, 1024));
}

static void
measure_single_flow(const struct bench_config *cfg,
                    struct bench_results *res)
{
    for (size_t t = 0; t < N_THREADS; t++) {
        struct bench_runs *runs[BENCH_N_IMPLS] = {
            [BENCH_CTDP] = &res->flow[BENCH_CTDP][t],
            [BENCH_OVS] = &res->flow[BENCH_OVS][t],
        };

        bench_single_flow(cfg, bench_threads[t], runs);
        for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
            progress("single-flow", impl, bench_threads[t], 1, runs[impl],
                     "Mpps");
        }
    }
}

#define UNCOUNTED_ROW "lookup, nf_conntrack_acct=0"
#define MINIMAL_PREFIX "lookup, minimal tracker: "
static const char *minimal_names[BENCH_N_MINIS] = {
    [BENCH_MINI_BUCKETS] = MINIMAL_PREFIX "buckets",
    [BENCH_MINI_SLOTS] = MINIMAL_PREFIX "slots",
};

/* Lookups at every size, with the memory floor of that size interleaved;
 * then the benchmark alone and the minimal tracker at the largest. */
static void
measure_lookups(const struct bench_config *cfg, struct bench_results *res)
{
    for (size_t s = 0; s < cfg->n_lookup_sizes; s++) {
        uint32_t size = cfg->lookup_sizes[s];

        struct bench_runs *runs[BENCH_N_IMPLS] = {
            [BENCH_CTDP] = res->lookup[BENCH_CTDP][s],
            [BENCH_OVS] = res->lookup[BENCH_OVS][s],
        };

        bench_lookups(cfg, size, bench_threads, N_THREADS, runs,
                      res->uncounted[s], floor_bytes(res) * size,
                      res->floor[s]);
        for (size_t t = 0; t < N_THREADS; t++) {
            for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
                progress("lookup", impl, bench_threads[t], size,
                         &runs[impl][t], "Mpps");
            }
            progress("lookup acct=0", BENCH_CTDP, bench_threads[t], size,
                     &res->uncounted[s][t], "Mpps");
            progress("floor", BENCH_CTDP, bench_threads[t], size,
                     &res->floor[s][t], "Mpps");
        }
    }
    for (size_t t = 0; t < N_THREADS; t++) {
        uint32_t size = cfg->lookup_sizes[cfg->n_lookup_sizes - 1];

        bench_harness(cfg, size, bench_threads[t], &res->harness[t]);
        progress("harness", BENCH_CTDP, bench_threads[t], size,
                 &res->harness[t], "Mpps");
    }
    for (int l = 0; l < BENCH_N_MINIS; l++) {
        uint32_t size = cfg->lookup_sizes[cfg->n_lookup_sizes - 1];

        bench_minimal(cfg, size, l, &res->minimal[l],
                      &res->minimal_bytes[l]);
        progress("minimal", BENCH_CTDP, 1, size, &res->minimal[l], "Mpps");
    }
}

/* The ct() calls of a new conn, by proto, as struct bench_latency's
 * 'call_ns' numbers them. */
static const char *conn_calls[2][BENCH_MAX_CALLS] = {
    [BENCH_UDP] = { "commit" },
    [BENCH_TCP] = { "SYN", "SYN-ACK", "ACK" },
};
static const char *proto_names[2] = { "UDP", "TCP" };
static const char *quiet_names[2] = { "arithmetic alone", "memory writes" };

static void
progress_latency(const char *what, const char *who, uint32_t conns,
                 enum bench_proto proto, const struct bench_latency *latency)
{
    fprintf(stderr, "ctdp-bench: %-12s %-4s 1 thread(s) %8"PRIu32" conns:",
            what, who, conns);
    for (int p = 0; p < BENCH_N_PCTS; p++) {
        fprintf(stderr, " %s %.1f", bench_pct_name(p),
                bench_runs_median(&latency->pct[p]));
    }
    fprintf(stderr, " µs");
    for (size_t i = 0; i < BENCH_CONN_CALLS(proto); i++) {
        if (latency->call_ns[i].n) {
            fprintf(stderr, "%s %s %.0f", i ? "," : ";",
                    conn_calls[proto][i],
                    bench_runs_median(&latency->call_ns[i]));
        }
    }
    fprintf(stderr, "%s\n", latency->call_ns[0].n ? " ns a conn" : "");
}

/* New conns of 'proto' on bench_threads[t] threads, on fresh trackers
 * (timing every batch on one thread) or on 'warm' ones. */
static void
measure_new_conns_case(const struct bench_config *cfg,
                       struct bench_results *res, int warm,
                       enum bench_proto proto, size_t t)
{
    static const char *names[2][2] = {
        { "new-udp", "new-tcp" }, { "new-udp-warm", "new-tcp-warm" },
    };
    bool timed = bench_threads[t] == 1 && !warm;
    struct bench_conns_out out[BENCH_N_IMPLS];

    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        out[impl] = (struct bench_conns_out) {
            .rate = &res->conns[warm][impl][proto][t],
            .cpu = warm ? NULL : &res->conn_cpu[impl][proto][t],
            .latency = timed ? &res->latency[impl][proto] : NULL,
        };
    }
    bench_new_conns(cfg, proto, bench_threads[t], warm, out);
    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        progress(names[warm][proto], impl, bench_threads[t], cfg->big,
                 out[impl].rate, "Mconn/s");
        if (out[impl].cpu) {
            progress("cpu per conn", impl, bench_threads[t], cfg->big,
                     out[impl].cpu, "ns");
        }
        if (out[impl].latency) {
            progress_latency(proto == BENCH_TCP ? "tcp-batch" : "udp-batch",
                             bench_impl_name(impl), cfg->big, proto,
                             out[impl].latency);
        }
    }
}

/* The controls for the batch latency: as many batches as a run of new
 * conns has, each as long as ctdp's UDP p50, of arithmetic alone and of
 * memory writes. */
static void
measure_quiet(const struct bench_config *cfg, struct bench_results *res)
{
    const struct bench_runs *p50
        = &res->latency[BENCH_CTDP][BENCH_UDP].pct[BENCH_P50];

    for (int memory = 0; p50->n && memory < 2; memory++) {
        bench_quiet_latency(bench_runs_median(p50),
                            DIV_ROUND_UP(cfg->big, BENCH_BATCH), cfg->runs,
                            memory, &res->quiet[memory]);
        progress_latency(memory ? "memory-batch" : "quiet-batch", "-",
                         cfg->big, BENCH_UDP, &res->quiet[memory]);
    }
}

/* New conns on 1 and 2 threads, on fresh trackers, then on warm ones. */
static void
measure_new_conns(const struct bench_config *cfg, struct bench_results *res)
{
    res->clock_ns = bench_clock_read_ns();
    res->transfer_ns = bench_line_transfer_ns();
    res->cpu_ghz = bench_cpu_ghz();
    for (int warm = 0; warm < 2; warm++) {
        for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
            for (size_t t = 0; t < N_THREADS; t++) {
                measure_new_conns_case(cfg, res, warm, proto, t);
            }
        }
    }
    measure_quiet(cfg, res);
}

static void
measure_nat(const struct bench_config *cfg, struct bench_results *res)
{
    static const char *names[2][2] = {
        { "new-udp+reply", "new-udp-snat" },
        { "new-tcp", "new-tcp-snat" },
    };
    static const char *lookup_names[BENCH_N_NLS] = {
        [BENCH_NL_PLAIN_REPLY] = "lookup-reply",
        [BENCH_NL_NAT_ORIG] = "lookup-nat-orig",
        [BENCH_NL_NAT_REPLY] = "lookup-nat-reply",
    };
    uint32_t size = cfg->lookup_sizes[cfg->n_lookup_sizes - 1];
    struct bench_runs *lookups[BENCH_N_NLS][BENCH_N_IMPLS];

    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            /* Un-NATed first, then NATed: ABBA within each. */
            for (int nat = 0; nat < 2; nat++) {
                struct bench_runs *runs[BENCH_N_IMPLS] = {
                    [BENCH_CTDP] = &res->nat_conns[BENCH_CTDP][proto][nat][t],
                    [BENCH_OVS] = &res->nat_conns[BENCH_OVS][proto][nat][t],
                };

                bench_nat_new_conns(cfg, proto, nat, bench_threads[t], runs);
                for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
                    progress(names[proto][nat], impl, bench_threads[t],
                             cfg->big, runs[impl], "Mconn/s");
                }
            }
        }
    }

    for (int kind = 0; kind < BENCH_N_NLS; kind++) {
        for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
            lookups[kind][impl] = res->nat_lookup[kind][impl];
        }
    }
    bench_nat_lookups(cfg, size, bench_threads, N_THREADS, lookups);
    for (int kind = 0; kind < BENCH_N_NLS; kind++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
                progress(lookup_names[kind], impl, bench_threads[t], size,
                         &lookups[kind][impl][t], "Mpps");
            }
        }
    }
}

static void
measure_dump_flush(const struct bench_config *cfg, struct bench_results *res)
{
    struct bench_runs *dump[BENCH_N_IMPLS] = {
        [BENCH_CTDP] = &res->dump[BENCH_CTDP],
        [BENCH_OVS] = &res->dump[BENCH_OVS],
    };
    struct bench_runs *flush[BENCH_N_IMPLS] = {
        [BENCH_CTDP] = &res->flush[BENCH_CTDP],
        [BENCH_OVS] = &res->flush[BENCH_OVS],
    };

    bench_dump_flush(cfg, dump, flush);
    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        progress("dump", impl, 1, cfg->big, dump[impl], "ms");
        progress("flush", impl, 1, cfg->flush_zone, flush[impl], "ms");
    }
}

static double
ratio(const struct bench_runs *a, const struct bench_runs *b)
{
    double den = bench_runs_median(b);

    return den > 0 ? bench_runs_median(a) / den : 0;
}

static const char *nat_lookup_names[BENCH_N_NLS] = {
    [BENCH_NL_PLAIN_REPLY] = "NAT: lookup reply, no NAT",
    [BENCH_NL_NAT_ORIG] = "NAT: lookup SNAT orig",
    [BENCH_NL_NAT_REPLY] = "NAT: lookup SNAT reply",
};

/* The NAT rows, each un-NATed baseline before its NATed row. */
static void
report_nat_rows(struct bench_report *r, const struct bench_config *cfg,
                const struct bench_results *res)
{
    static const char *conn_names[2][2] = {
        { "NAT: new-conns UDP+reply, no NAT", "NAT: new-conns UDP SNAT" },
        { "NAT: new-conns TCP, no NAT", "NAT: new-conns TCP SNAT" },
    };
    uint32_t size = cfg->lookup_sizes[cfg->n_lookup_sizes - 1];

    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        for (int nat = 0; nat < 2; nat++) {
            for (size_t t = 0; t < N_THREADS; t++) {
                bench_report_row(r, conn_names[proto][nat], bench_threads[t],
                                 cfg->big, "Mconn/s", true,
                                 &res->nat_conns[BENCH_CTDP][proto][nat][t],
                                 &res->nat_conns[BENCH_OVS][proto][nat][t]);
            }
        }
    }
    for (int kind = 0; kind < BENCH_N_NLS; kind++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            bench_report_row(r, nat_lookup_names[kind], bench_threads[t],
                             size, "Mpps", true,
                             &res->nat_lookup[kind][BENCH_CTDP][t],
                             &res->nat_lookup[kind][BENCH_OVS][t]);
        }
    }
}

/* The batch latency of the one-thread new-conns runs: a row per
 * percentile and protocol. */
static void
report_latency_rows(struct bench_report *r, const struct bench_config *cfg,
                    const struct bench_results *res)
{
    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        for (int p = 0; p < BENCH_N_PCTS; p++) {
            char *name = xasprintf("new-conns %s batch latency %s",
                                   proto_names[proto], bench_pct_name(p));

            bench_report_row(r, name, 1, cfg->big, "µs", false,
                             &res->latency[BENCH_CTDP][proto].pct[p],
                             &res->latency[BENCH_OVS][proto].pct[p]);
            free(name);
        }
    }
    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        for (size_t i = 0; i < BENCH_CONN_CALLS(proto); i++) {
            char *name = xasprintf("new-conns %s, the %s's call, per conn",
                                   proto_names[proto],
                                   conn_calls[proto][i]);

            bench_report_row(r, name, 1, cfg->big, "ns", false,
                             &res->latency[BENCH_CTDP][proto].call_ns[i],
                             &res->latency[BENCH_OVS][proto].call_ns[i]);
            free(name);
        }
    }
    for (int memory = 0; memory < 2; memory++) {
        for (int p = 0; p < BENCH_N_PCTS; p++) {
            char *name = xasprintf("%s, batch latency %s",
                                   quiet_names[memory], bench_pct_name(p));

            bench_report_row(r, name, 1, cfg->big, "µs", false,
                             &res->quiet[memory].pct[p], NULL);
            free(name);
        }
    }
}

static void
report_rows(struct bench_report *r, const struct bench_config *cfg,
            const struct bench_results *res)
{
    static const char *conn_names[2][2] = {     /* By warmth, proto. */
        { "new-conns UDP", "new-conns TCP" },
        { "new-conns UDP, warm", "new-conns TCP, warm" },
    };
    static const char *cpu_names[] = {
        "new-conns UDP, CPU per conn", "new-conns TCP, CPU per conn",
    };
    static const char *memory_names[] = {
        "memory UDP", "memory TCP",
    };
    size_t last = cfg->n_lookup_sizes - 1;

    for (size_t t = 0; t < N_THREADS; t++) {
        bench_report_row(r, "single-flow", bench_threads[t], 1, "Mpps", true,
                         &res->flow[BENCH_CTDP][t], &res->flow[BENCH_OVS][t]);
    }
    for (size_t s = 0; s < cfg->n_lookup_sizes; s++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            bench_report_row(r, "lookup", bench_threads[t],
                             cfg->lookup_sizes[s], "Mpps", true,
                             &res->lookup[BENCH_CTDP][s][t],
                             &res->lookup[BENCH_OVS][s][t]);
        }
    }
    for (size_t s = 0; s < cfg->n_lookup_sizes; s++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            bench_report_row(r, UNCOUNTED_ROW, bench_threads[t],
                             cfg->lookup_sizes[s], "Mpps", true,
                             &res->uncounted[s][t],
                             &res->lookup[BENCH_OVS][s][t]);
        }
    }
    for (int warm = 0; warm < 2; warm++) {
        for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
            for (size_t t = 0; t < N_THREADS; t++) {
                bench_report_row(r, conn_names[warm][proto], bench_threads[t],
                                 cfg->big, "Mconn/s", true,
                                 &res->conns[warm][BENCH_CTDP][proto][t],
                                 &res->conns[warm][BENCH_OVS][proto][t]);
            }
        }
    }
    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            bench_report_row(r, cpu_names[proto], bench_threads[t], cfg->big,
                             "ns", false, &res->conn_cpu[BENCH_CTDP][proto][t],
                             &res->conn_cpu[BENCH_OVS][proto][t]);
        }
    }
    report_latency_rows(r, cfg, res);
    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        bench_report_row(r, memory_names[proto], 1, cfg->big, "B/conn", false,
                         &res->memory[BENCH_CTDP][proto],
                         &res->memory[BENCH_OVS][proto]);
    }
    for (size_t s = 0; s < cfg->n_lookup_sizes; s++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            bench_report_row(r, "memory floor", bench_threads[t],
                             cfg->lookup_sizes[s], "Mpps", true,
                             &res->floor[s][t], NULL);
        }
    }
    for (size_t t = 0; t < N_THREADS; t++) {
        bench_report_row(r, "lookup, benchmark alone", bench_threads[t],
                         cfg->lookup_sizes[last], "Mpps", true,
                         &res->harness[t], NULL);
    }
    for (int l = 0; l < BENCH_N_MINIS; l++) {
        bench_report_row(r, minimal_names[l], 1, cfg->lookup_sizes[last],
                         "Mpps", true, &res->minimal[l], NULL);
    }
    for (size_t t = 0; t < N_THREADS; t++) {
        struct bench_runs frac[BENCH_N_IMPLS];

        for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
            memset(&frac[impl], 0, sizeof frac[impl]);
            if (res->floor[last][t].n) {
                bench_runs_add(&frac[impl],
                               ratio(&res->lookup[impl][last][t],
                                     &res->floor[last][t]));
            }
        }
        bench_report_row(r, "lookup / floor", bench_threads[t],
                         cfg->lookup_sizes[last], "fraction", true,
                         &frac[BENCH_CTDP], &frac[BENCH_OVS]);
    }
    bench_report_row(r, "dump all zones", 1, cfg->big, "ms", false,
                     &res->dump[BENCH_CTDP], &res->dump[BENCH_OVS]);
    bench_report_row(r, "flush one zone", 1, cfg->flush_zone, "ms", false,
                     &res->flush[BENCH_CTDP], &res->flush[BENCH_OVS]);
    bench_report_row(r, "datapath (ctdpd --replay)", 1, DP_FLOWS, "Mpps",
                     true, &res->datapath, NULL);
    report_nat_rows(r, cfg, res);
}

/* ---- Targets (issue 17) ----
 *
 * Each target is decided from this invocation's medians and reported only
 * if the workload it needs ran; with --quick, the sizes are smaller (see
 * parse_options()) and the targets set at 1M conns are judged at
 * 'cfg->big', except the lookup targets, which are set per table size. */

/* The index of lookup table size 'size' in 'cfg', or SIZE_MAX if this
 * invocation does not measure it. */
static size_t
lookup_size_index(const struct bench_config *cfg, uint32_t size)
{
    for (size_t s = 0; s < cfg->n_lookup_sizes; s++) {
        if (cfg->lookup_sizes[s] == size) {
            return s;
        }
    }
    return SIZE_MAX;
}

/* Appends "X× on 1 thread, Y× on 2 threads" for the ratios 'x[]' of each
 * thread count to 's'. */
static void
put_per_thread(struct ds *s, const double x[N_THREADS])
{
    for (size_t t = 0; t < N_THREADS; t++) {
        ds_put_format(s, "%s%.2f× on %u thread%s", t ? ", " : "", x[t],
                      bench_threads[t], bench_threads[t] > 1 ? "s" : "");
    }
}

/* The memory floor's rate at size index 's' over each layout's of the
 * minimal tracker, for those that ran at that size (the largest). */
static void
put_minimal(struct ds *text, const struct bench_results *res, size_t s)
{
    const char *sep = "; the minimal tracker's on 1 thread: ";

    for (int l = 0; l < BENCH_N_MINIS; l++) {
        if (res->minimal[l].n && res->floor[s][0].n) {
            ds_put_format(text, "%s%s %.2f× (%.0f B/conn of table)", sep,
                          minimal_names[l] + strlen(MINIMAL_PREFIX),
                          ratio(&res->floor[s][0], &res->minimal[l]),
                          res->minimal_bytes[l]);
            sep = ", ";
        }
    }
}

/* Reports 'target' (which it frees) on lookups at 'size' conns, on every
 * thread count: with 'floor', the memory floor's rate at most 'factor'×
 * ctdp's lookup rate; without, ctdp's at least 'factor'× OVS's. */
static void
target_lookup_ratio(struct bench_report *r, const struct bench_config *cfg,
                    const struct bench_results *res, uint32_t size,
                    char *target, bool floor, double factor)
{
    size_t s = lookup_size_index(cfg, size);

    if (s == SIZE_MAX) {
        bench_report_target_unmeasured(
            r, target, "this run's largest table has %"PRIu32" conns",
            cfg->lookup_sizes[cfg->n_lookup_sizes - 1]);
    } else {
        struct ds text = DS_EMPTY_INITIALIZER;
        double x[N_THREADS], y[N_THREADS];
        bool met = true;

        for (size_t t = 0; t < N_THREADS; t++) {
            const struct bench_runs *ctdp = &res->lookup[BENCH_CTDP][s][t];
            const struct bench_runs *bare = &res->uncounted[s][t];

            if (floor) {
                x[t] = ratio(&res->floor[s][t], ctdp);
                y[t] = ratio(&res->floor[s][t], bare);
                met = met && x[t] > 0 && x[t] <= factor;
            } else {
                x[t] = ratio(ctdp, &res->lookup[BENCH_OVS][s][t]);
                y[t] = ratio(bare, &res->lookup[BENCH_OVS][s][t]);
                met = met && x[t] >= factor;
            }
        }
        if (floor) {
            ds_put_cstr(&text, "the floor's rate over ctdp's lookup rate is ");
        }
        put_per_thread(&text, x);
        ds_put_cstr(&text, "; with nf_conntrack_acct=0, counting nothing "
                    "per conn as Open vSwitch: ");
        put_per_thread(&text, y);
        if (floor) {
            put_minimal(&text, res, s);
        }
        bench_report_target(r, target, met, "%s", ds_cstr(&text));
        ds_destroy(&text);
    }
    free(target);
}

/* Lookups: ctdp ≥ 'factor'× OVS at 'size' conns ('label'). */
static void
target_lookups(struct bench_report *r, const struct bench_config *cfg,
               const struct bench_results *res, uint32_t size,
               const char *label, double factor)
{
    target_lookup_ratio(r, cfg, res, size,
                        xasprintf("lookups ≥ %g× OVS at %s conns", factor,
                                  label), false, factor);
}

/* Lookups at 'size' conns ('label') within 'factor'× of the memory
 * floor. */
static void
target_floor(struct bench_report *r, const struct bench_config *cfg,
             const struct bench_results *res, uint32_t size,
             const char *label, double factor)
{
    target_lookup_ratio(r, cfg, res, size,
                        xasprintf("lookups at %s conns within %g× of the "
                                  "memory floor", label, factor),
                        true, factor);
}

static void
target_single_flow(struct bench_report *r, const struct bench_results *res)
{
    const struct bench_runs *ctdp = res->flow[BENCH_CTDP];
    const struct bench_runs *ovs = res->flow[BENCH_OVS];
    double x = ratio(&ctdp[0], &ovs[0]);

    bench_report_target(r, "single-flow ≥ 3× OVS", x >= 3,
                        "%.2f× on 1 thread (2 threads: %.2f×)", x,
                        ratio(&ctdp[1], &ovs[1]));
}

/* The CPUs a run of new conns kept busy: its CPU time per conn ('cpu',
 * ns, every thread of the process) times its rate ('rate', Mconn/s),
 * medians; 0 if either was not measured. */
static double
cpus_busy(const struct bench_runs *cpu, const struct bench_runs *rate)
{
    return (cpu->n && rate->n
            ? bench_runs_median(cpu) * bench_runs_median(rate) / 1e3 : 0);
}

/* 'n' over 'busy', or 0 if 'busy' is 0. */
static double
over(double n, double busy)
{
    return busy > 0 ? n / busy : 0;
}

/* The sum of the medians of 'latency''s calls 'from' to 'to' - 1, in ns
 * per conn. */
static double
calls_ns(const struct bench_latency *latency, size_t from, size_t to)
{
    double ns = 0;

    for (size_t i = from; i < to; i++) {
        ns += bench_runs_median(&latency->call_ns[i]);
    }
    return ns;
}

/* The budget of a new conn at 4× OVS, from the one-thread runs' timed
 * calls, into 's': what OVS's time in ct() over 4 leaves a UDP conn and a
 * TCP handshake, and what ctdp's took; for TCP, apart, its lookups of the
 * conn (the SYN-ACK's and the ACK's calls) and its SYN. */
static void
put_conn_budget(struct ds *s, const struct bench_results *res)
{
    const struct bench_latency *ctdp = res->latency[BENCH_CTDP];
    const struct bench_latency *ovs = res->latency[BENCH_OVS];
    size_t n = BENCH_CONN_CALLS(BENCH_TCP);

    if (!ctdp[BENCH_TCP].call_ns[n - 1].n || !ovs[BENCH_TCP].call_ns[0].n
        || !ctdp[BENCH_UDP].call_ns[0].n || !ovs[BENCH_UDP].call_ns[0].n) {
        return;
    }
    ds_put_format(s, "; at 4× (OVS's time in ct() a conn over 4, in the "
                  "one-thread runs; cycles at the CPU's %.2f GHz, "
                  "measured)", res->cpu_ghz);
    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        double budget = calls_ns(&ovs[proto], 0,
                                 BENCH_CONN_CALLS(proto)) / 4;

        ds_put_format(s, "%s %s may spend %.0f ns (%.0f cycles) and ctdp's "
                      "took %.0f", proto ? ";" : "",
                      proto ? "a TCP handshake" : "a UDP conn", budget,
                      budget * res->cpu_ghz,
                      calls_ns(&ctdp[proto], 0, BENCH_CONN_CALLS(proto)));
    }
    ds_put_format(s, ", of which its SYN-ACK and ACK %.0f (OVS's %.0f), its "
                  "SYN %.0f (OVS's %.0f)", calls_ns(&ctdp[BENCH_TCP], 1, n),
                  calls_ns(&ovs[BENCH_TCP], 1, n),
                  calls_ns(&ctdp[BENCH_TCP], 0, 1),
                  calls_ns(&ovs[BENCH_TCP], 0, 1));
}

/* New conns, UDP and TCP: ≥ 4× OVS on one thread, and ctdp's two threads
 * ≥ 1.8× its one; each with its ceiling in this run: the machine's CPUs
 * over those that ctdp's one thread kept busy is the most that any number
 * of threads could make of its one-thread rate with the same work per
 * conn; and the budget 4× leaves (put_conn_budget()). */
static void
target_new_conns(struct bench_report *r, const struct bench_results *res)
{
    const struct bench_runs (*ctdp)[N_THREADS] = res->conns[0][BENCH_CTDP];
    const struct bench_runs (*ovs)[N_THREADS] = res->conns[0][BENCH_OVS];
    const struct bench_runs (*cpu)[N_THREADS] = res->conn_cpu[BENCH_CTDP];
    long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double busy_udp = cpus_busy(&cpu[BENCH_UDP][0], &ctdp[BENCH_UDP][0]);
    double busy_tcp = cpus_busy(&cpu[BENCH_TCP][0], &ctdp[BENCH_TCP][0]);
    double udp = ratio(&ctdp[BENCH_UDP][0], &ovs[BENCH_UDP][0]);
    double tcp = ratio(&ctdp[BENCH_TCP][0], &ovs[BENCH_TCP][0]);
    struct ds budget = DS_EMPTY_INITIALIZER;

    put_conn_budget(&budget, res);
    bench_report_target(r, "new connections ≥ 4× OVS on one thread, UDP "
                        "and TCP", udp >= 4 && tcp >= 4,
                        "UDP %.2f×, TCP %.2f×; ctdp's CPU time per conn "
                        "(UDP %.0f ns, TCP %.0f ns, every thread of the "
                        "process) allows at most UDP %.2f×, TCP %.2f× on "
                        "this machine's %ld CPUs%s", udp, tcp,
                        bench_runs_median(&cpu[BENCH_UDP][0]),
                        bench_runs_median(&cpu[BENCH_TCP][0]),
                        udp * over(n_cpus, busy_udp),
                        tcp * over(n_cpus, busy_tcp), n_cpus,
                        ds_cstr(&budget));
    ds_destroy(&budget);
    udp = ratio(&ctdp[BENCH_UDP][1], &ctdp[BENCH_UDP][0]);
    tcp = ratio(&ctdp[BENCH_TCP][1], &ctdp[BENCH_TCP][0]);
    bench_report_target(r, "new connections: 2 threads ≥ 1.8× one thread, "
                        "UDP and TCP", udp >= 1.8 && tcp >= 1.8,
                        "ctdp UDP %.2f×, TCP %.2f× (OVS: UDP %.2f×, TCP "
                        "%.2f×); one thread kept UDP %.2f, TCP %.2f of the "
                        "%ld CPUs busy, which at that CPU time per conn "
                        "leaves any number of threads at most UDP %.2f×, "
                        "TCP %.2f× one", udp, tcp,
                        ratio(&ovs[BENCH_UDP][1], &ovs[BENCH_UDP][0]),
                        ratio(&ovs[BENCH_TCP][1], &ovs[BENCH_TCP][0]),
                        busy_udp, busy_tcp, n_cpus,
                        over(n_cpus, busy_udp), over(n_cpus, busy_tcp));
}

static void
target_memory(struct bench_report *r, const struct bench_config *cfg,
              const struct bench_results *res)
{
    const struct bench_runs *ctdp = res->memory[BENCH_CTDP];
    const struct bench_runs *ovs = res->memory[BENCH_OVS];
    double udp = bench_runs_median(&ctdp[BENCH_UDP]);
    double tcp = bench_runs_median(&ctdp[BENCH_TCP]);

    bench_report_target(r, "memory ≤ 160 B per UDP conn and ≤ 200 B per "
                        "TCP conn", udp <= 160 && tcp <= 200,
                        "UDP %.0f B, TCP %.0f B at %"PRIu32" conns (OVS: "
                        "UDP %.0f B, TCP %.0f B)", udp, tcp, cfg->big,
                        bench_runs_median(&ovs[BENCH_UDP]),
                        bench_runs_median(&ovs[BENCH_TCP]));
}

/* p99.99 over p50 of the batch time of 'latency' (medians over runs), or
 * 0 if it was not measured. */
static double
cliff(const struct bench_latency *latency)
{
    return ratio(&latency->pct[BENCH_P9999], &latency->pct[BENCH_P50]);
}

/* No latency cliff: while the table grows, new-conns UDP's slowest
 * batches (p99.99) take at most 20× its median batch (p50). */
static void
target_latency(struct bench_report *r, const struct bench_config *cfg,
               const struct bench_results *res)
{
    const struct bench_latency *ctdp = res->latency[BENCH_CTDP];
    const struct bench_latency *ovs = res->latency[BENCH_OVS];
    const struct bench_latency *udp = &ctdp[BENCH_UDP];
    double x = cliff(udp);

    bench_report_target(r, "no latency cliff: p99.99 batch time of "
                        "new-conns UDP ≤ 20× its p50", x > 0 && x <= 20,
                        "p99.99 %.0f µs, %.0f× the p50 of %.1f µs, 1 "
                        "thread, the table growing from 0 to %"PRIu32
                        " conns (TCP: %.0f×; OVS: UDP %.0f×, TCP %.0f×); "
                        "the machine alone, batches of arithmetic with a "
                        "p50 of %.1f µs: p99.99 %.0f µs, %.0f×; with a "
                        "batch of new conns' memory writes and no "
                        "tracker, p50 %.1f µs: p99.99 %.0f µs, %.0f×",
                        bench_runs_median(&udp->pct[BENCH_P9999]), x,
                        bench_runs_median(&udp->pct[BENCH_P50]), cfg->big,
                        cliff(&ctdp[BENCH_TCP]), cliff(&ovs[BENCH_UDP]),
                        cliff(&ovs[BENCH_TCP]),
                        bench_runs_median(&res->quiet[0].pct[BENCH_P50]),
                        bench_runs_median(&res->quiet[0].pct[BENCH_P9999]),
                        cliff(&res->quiet[0]),
                        bench_runs_median(&res->quiet[1].pct[BENCH_P50]),
                        bench_runs_median(&res->quiet[1].pct[BENCH_P9999]),
                        cliff(&res->quiet[1]));
}

/* The targets of issue 17, each reported if what it needs was measured. */
static void
report_targets(struct bench_report *r, const struct bench_config *cfg,
               const struct bench_results *res)
{
    if (res->lookup[BENCH_CTDP][0][0].n) {
        target_lookups(r, cfg, res, 1000000, "1M", 6);
        target_lookups(r, cfg, res, 100000, "100k", 4);
        target_floor(r, cfg, res, 1000000, "1M", 5);
    }
    if (res->flow[BENCH_CTDP][0].n) {
        target_single_flow(r, res);
    }
    if (res->conns[0][BENCH_CTDP][BENCH_UDP][0].n) {
        target_new_conns(r, res);
    }
    if (res->memory[BENCH_CTDP][BENCH_UDP].n) {
        target_memory(r, cfg, res);
    }
    if (res->latency[BENCH_CTDP][BENCH_UDP].pct[BENCH_P50].n) {
        target_latency(r, cfg, res);
    }
}

/* What timing every batch of new conns costs: the clock's reads, as a
 * share of the p50 batch time of ctdp and OVS. */
static void
report_clock_note(struct bench_report *r, const struct bench_results *res)
{
    struct ds text = DS_EMPTY_INITIALIZER;

    for (int proto = BENCH_UDP; proto <= BENCH_TCP; proto++) {
        double reads_ns = 2 * BENCH_CONN_CALLS(proto) * res->clock_ns;

        ds_put_format(&text, "%s%s %d reads a batch, %.2f%% and %.2f%% of "
                      "ctdp's and OVS's p50", proto ? "; " : "",
                      proto == BENCH_TCP ? "TCP" : "UDP",
                      2 * BENCH_CONN_CALLS(proto),
                      100 * reads_ns / 1e3 / bench_runs_median(
                          &res->latency[BENCH_CTDP][proto].pct[BENCH_P50]),
                      100 * reads_ns / 1e3 / bench_runs_median(
                          &res->latency[BENCH_OVS][proto].pct[BENCH_P50]));
    }
    bench_report_note(r, "Timing the batches: one read of the clock took "
                      "%.0f ns here (the average of 100,000); %s.",
                      res->clock_ns, ds_cstr(&text));
    ds_destroy(&text);
}

static void
report_notes(struct bench_report *r, const struct bench_config *cfg,
             const struct bench_results *res)
{
    bench_report_note(r, "Runs: %u per measurement (dump and flush: %u); "
                      "single-flow: %"PRIu64" packets per thread per run; "
                      "lookup and floor: %"PRIu64" lookups per run, split "
                      "over the threads.", cfg->runs, cfg->heavy_runs,
                      cfg->flow_pkts, cfg->lookups);
    bench_report_note(r, "↑: higher is better, ↓: lower is better; the "
                      "last column is always ctdp's median over OVS's.");
    bench_report_note(r, "[N drops]: packets a tracker dropped; [N misses]: "
                      "lookups or handshakes that did not come back +est, "
                      "or conns missing after a commit, dump or flush.  "
                      "None are expected.");
    bench_report_note(r, "new-conns TCP: both trackers run their full TCP "
                      "state machine and window tracking.");
    bench_report_note(r, "new-conns: each run on a fresh tracker, the heap "
                      "trimmed after the one before (malloc_trim()), so "
                      "that every run starts from memory that is not "
                      "backed yet; \"warm\": the tracker held the same "
                      "conns before, flushed untimed, so its memory is "
                      "backed and its table grown (a tracker's steady "
                      "state); both trackers alike.");
    bench_report_note(r, "new-conns CPU per conn: the CPU time of the "
                      "whole process during each fresh tracker's timed run "
                      "(every thread: the packet threads and, for ctdp, its "
                      "backer, which backs the pool's and the table's fresh "
                      "pages, and its sweep; for Open vSwitch its clean "
                      "thread; the RCU thread), over the run's conns.  "
                      "Times the rate, it is the CPUs the run kept busy; "
                      "the machine's CPUs over it, the most conns per "
                      "second that any number of threads could make with "
                      "that work per conn.");
    bench_report_note(r, "new-conns batch latency: the one-thread "
                      "new-conns runs (the same runs as the rate) read the "
                      "monotonic clock right before and after every ct() "
                      "call.  A batch is %u conns; its time is the sum of "
                      "its calls (UDP: the commit; TCP: SYN, SYN-ACK and "
                      "ACK), without the packet rewriting between them.  "
                      "Percentiles by nearest rank over each run's %"PRIu32
                      " batches (max: the slowest), the table growing from "
                      "0 to %"PRIu32" conns; the rows show their median "
                      "(min-max) over the runs, and the latency target the "
                      "p99.99 median over the p50 median.  The rows of "
                      "each call (TCP: the SYN's, the SYN-ACK's, the "
                      "ACK's) add up its times over a run, per conn: "
                      "where a conn's time goes; the new-conns target "
                      "sets them against the budget that 4× OVS leaves, "
                      "in ns and in cycles of the CPU's clock, measured "
                      "right before the runs (a chain of dependent 64-bit "
                      "multiply-adds, 4 cycles a step).", BENCH_BATCH,
                      DIV_ROUND_UP(cfg->big, BENCH_BATCH), cfg->big);
    bench_report_note(r, "arithmetic alone, batch latency: a control, run "
                      "right after the new-conns runs: as many batches as "
                      "one of their runs has, each a chain of dependent "
                      "multiply-adds (no memory, no system call) sized to "
                      "last ctdp's new-conns UDP p50, timed the same way: "
                      "what the machine itself (interrupts, the "
                      "hypervisor, other guests) puts into the slowest "
                      "batches of that length, whatever they do.");
    bench_report_note(r, "memory writes, batch latency: a second control, "
                      "run right after the first, the same but that each "
                      "batch also writes what a batch of %u new conns "
                      "must: one word of each of %u random lines of a 16 "
                      "MiB table (prefetched first) and %u fresh objects "
                      "of 128 bytes, the next of an array backed before "
                      "the runs (as ctdp's backer backs its pages ahead), "
                      "the arithmetic filling the rest of the p50: what "
                      "the machine puts into such batches with no tracker "
                      "at all.", BENCH_BATCH, BENCH_BATCH, BENCH_BATCH);
    if (res->latency[BENCH_CTDP][BENCH_UDP].pct[BENCH_P50].n) {
        report_clock_note(r, res);
        bench_report_note(r, "Two threads: a cache line that one thread "
                          "wrote reached the other, waiting for it, in "
                          "%.0f ns here (one way; median of 5 games of "
                          "100,000 round trips, before the new-conns "
                          "runs): the price, per conn, of each line that "
                          "two threads both write.",
                          res->transfer_ns);
    }
    bench_report_note(r, "The memory floor reads one random cache line "
                      "per packet, prefetched %u at a time, from an array "
                      "of ctdp's measured bytes per UDP conn times the "
                      "conns; its runs take turns with the lookups' of "
                      "that size.", BENCH_BATCH);
    bench_report_note(r, "lookup, benchmark alone: the lookups' packets "
                      "built and loaded into batches as for a tracker, "
                      "then only marked +est: the benchmark's own time, "
                      "which every lookup rate includes.");
    bench_report_note(r, UNCOUNTED_ROW ": ctdp's lookups of the same "
                      "table, taking turns with the others, with per-conn "
                      "counting off (ctdp's default is on; Open vSwitch's "
                      "userspace tracker keeps no counters): what "
                      "counting costs ctdp, whose packets count on the "
                      "conn's first cache line, which they write anyway.");
    bench_report_note(r, "lookup, minimal tracker: a control, not a "
                      "tracker (utilities/ctdp-bench-mini.c): the same "
                      "lookups, on one thread, by a tracker that only "
                      "reads and checks the headers as ctdp's plain IPv4 "
                      "reader, hashes the tuple with ctdp's keyed hash, "
                      "finds the conn, checks, refreshes and counts it and "
                      "writes the packet's metadata; no lock, no protocol "
                      "tracker, no reply direction.  Its table: "
                      "\"buckets\", 64-byte buckets of ten tags, then the "
                      "conn's 64-byte record (two dependent lines, as "
                      "ctdp's table, whose conn's first line holds all "
                      "these lookups touch); "
                      "\"slots\", the records themselves in a half-full "
                      "table, found from the hash alone (one line, and the "
                      "next when the probe goes on).");
    bench_report_note(r, "datapath: `ctdpd --replay` of two captures "
                      "(inside, outside) of %d interleaved TCP, UDP and "
                      "ICMP flows opened from inside, 25 packets each, "
                      "through the default firewall, fed by one thread; "
                      "wall time less that of replaying one packet.  ctdp "
                      "only: OVS has no equivalent to run.", DP_FLOWS);
    bench_report_note(r, "NAT: SNAT conns are committed with "
                      "ct(commit, nat(src=10.1.2.1:%d-%d)) (OVS: "
                      "NAT_ACTION_SRC | NAT_ACTION_SRC_PORT, same range); "
                      "the client ports are below 1024, outside the range, "
                      "so every binding maps the address and the port "
                      "(ctdp, as the kernel, gives a conn from a source "
                      "that already has a mapping the same one); every "
                      "later packet has a bare nat.  Replies go to the NAT "
                      "port each tracker's binding chose, read back from the "
                      "translated first packet; every packet's translation "
                      "is checked (a wrong one counts as a miss).  New "
                      "conns: UDP commit and one reply; TCP the whole "
                      "handshake.  Lookups: %"PRIu64" per run, established "
                      "UDP conns, the same random order as lookup.  Each "
                      "NAT row is measured right after its un-NATed "
                      "baseline.", BENCH_NAT_MIN_PORT, BENCH_NAT_MAX_PORT,
                      cfg->lookups);
}

static void
report_csv(struct bench_report *r, const struct bench_config *cfg,
           const struct bench_results *res)
{
    for (size_t s = 0; s < cfg->n_lookup_sizes; s++) {
        for (size_t t = 0; t < N_THREADS; t++) {
            uint32_t size = cfg->lookup_sizes[s];

            bench_report_csv(r, "ctdp", bench_threads[t], size,
                             &res->lookup[BENCH_CTDP][s][t]);
            bench_report_csv(r, "ctdp-acct0", bench_threads[t], size,
                             &res->uncounted[s][t]);
            bench_report_csv(r, "OVS", bench_threads[t], size,
                             &res->lookup[BENCH_OVS][s][t]);
            bench_report_csv(r, "floor", bench_threads[t], size,
                             &res->floor[s][t]);
        }
    }
}

int
main(int argc, char *argv[])
{
    struct bench_options opts;
    struct bench_results *res;
    struct bench_report *report;
    int error;

    ovs_set_program_name(argv[0], CTDP_VERSION);
    /* Busy threads make the poll loop log its CPU usage, and the main
     * thread's long waits make timeval warn and log coverage counters:
     * none of it is news here.  Other warnings still show. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    vlog_set_levels(vlog_module_from_name("poll_loop"), VLF_ANY_DESTINATION,
                    VLL_ERR);
    vlog_set_levels(vlog_module_from_name("timeval"), VLF_ANY_DESTINATION,
                    VLL_ERR);
    /* glibc's own thresholds, fixed: set, they no longer rise as large
     * blocks are freed.  Risen (to 64 MiB at most), they let a thread's
     * arena keep its top free chunk resident, which malloc_trim() does not
     * give back: an Open vSwitch run then left 30-60 MiB backed for the
     * next run, and the check that every run starts cold stopped the
     * bench (check_cold()). */
    mallopt(M_MMAP_THRESHOLD, 128 << 10);
    mallopt(M_TRIM_THRESHOLD, 128 << 10);
    report = bench_report_create(argc, argv);
    parse_options(argc, argv, &opts);
    if (opts.markdown && bench_report_check_markdown(opts.markdown)) {
        bench_report_destroy(report);
        return EXIT_FAILURE;
    }
    fatal_signal_init();
    res = xzalloc(sizeof *res);

    /* Memory first: see the comment at the top. */
    if (opts.only & W_MEMORY) {
        measure_memory(&opts.cfg, res);
    }
    if (opts.only & W_FLOW) {
        measure_single_flow(&opts.cfg, res);
    }
    if (opts.only & W_LOOKUP) {
        measure_lookups(&opts.cfg, res);
    }
    if (opts.only & W_CONNS) {
        measure_new_conns(&opts.cfg, res);
    }
    if (opts.only & W_DUMP) {
        measure_dump_flush(&opts.cfg, res);
    }
    if (opts.only & W_DATAPATH) {
        bench_datapath(&opts.cfg, DP_FLOWS, &res->datapath);
        progress("datapath", BENCH_CTDP, 1, DP_FLOWS, &res->datapath,
                 "Mpps");
    }
    if (opts.only & W_NAT) {
        measure_nat(&opts.cfg, res);
    }

    report_rows(report, &opts.cfg, res);
    report_targets(report, &opts.cfg, res);
    report_notes(report, &opts.cfg, res);
    report_csv(report, &opts.cfg, res);
    error = bench_report_finish(report, opts.markdown, opts.csv);
    free(res);
    return error ? EXIT_FAILURE : EXIT_SUCCESS;
}

static unsigned int
parse_uint(const char *name, const char *s, unsigned int max)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (!*s || *end || !v || v > max) {
        ovs_fatal(0, "--%s needs a number from 1 to %u, not \"%s\"", name,
                  max, s);
    }
    return v;
}

/* Parses a comma-separated list of workload names into W_* bits. */
static unsigned int
parse_only(const char *list)
{
    static const char *names[] = {
#define BENCH_WORKLOAD(ENUM, NAME) NAME,
        BENCH_WORKLOADS
#undef BENCH_WORKLOAD
    };
    char *copy = xstrdup(list), *save = NULL;
    unsigned int bits = 0;

    for (char *name = strtok_r(copy, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        size_t i;

        for (i = 0; i < ARRAY_SIZE(names) && strcmp(name, names[i]); i++) {
            continue;
        }
        if (i == ARRAY_SIZE(names)) {
            ovs_fatal(0, "--only: unknown workload \"%s\" (try --help)",
                      name);
        }
        bits |= 1u << i;
    }
    free(copy);
    return bits;
}

static void
parse_options(int argc, char *argv[], struct bench_options *opts)
{
    enum { OPT_RUNS = UCHAR_MAX + 1, OPT_HEAVY_RUNS, OPT_QUICK,
           OPT_MARKDOWN, OPT_CSV, OPT_ONLY };
    static const struct option long_options[] = {
        {"runs", required_argument, NULL, OPT_RUNS},
        {"heavy-runs", required_argument, NULL, OPT_HEAVY_RUNS},
        {"quick", no_argument, NULL, OPT_QUICK},
        {"markdown", required_argument, NULL, OPT_MARKDOWN},
        {"csv", required_argument, NULL, OPT_CSV},
        {"only", required_argument, NULL, OPT_ONLY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct bench_config full = {
        .runs = 5, .flow_pkts = 4000000, .lookups = 4000000,
        .big = 1000000, .flush_zone = 100000,
        .lookup_sizes = { 1000, 100000, 1000000 }, .n_lookup_sizes = 3,
    };
    static const struct bench_config quick = {
        .runs = 2, .flow_pkts = 1000000, .lookups = 1000000,
        .big = 100000, .flush_zone = 10000,
        .lookup_sizes = { 1000, 100000 }, .n_lookup_sizes = 2,
    };
    unsigned int runs = 0, heavy_runs = 0;
    bool is_quick = false;

    memset(opts, 0, sizeof *opts);
    for (;;) {
        int c = getopt_long(argc, argv, "h", long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_RUNS:
            runs = parse_uint("runs", optarg, BENCH_MAX_RUNS);
            break;
        case OPT_HEAVY_RUNS:
            heavy_runs = parse_uint("heavy-runs", optarg, BENCH_MAX_RUNS);
            break;
        case OPT_QUICK:
            is_quick = true;
            break;
        case OPT_MARKDOWN:
            opts->markdown = optarg;
            break;
        case OPT_CSV:
            opts->csv = optarg;
            break;
        case OPT_ONLY:
            opts->only = parse_only(optarg);
            break;
        case 'h':
            usage();
        case '?':
        default:
            exit(EXIT_FAILURE);
        }
    }
    if (optind < argc) {
        ovs_fatal(0, "unexpected argument \"%s\" (try --help)", argv[optind]);
    }
    opts->only = opts->only ? opts->only : UINT_MAX;
    opts->cfg = is_quick ? quick : full;
    opts->cfg.runs = runs ? runs : opts->cfg.runs;
    opts->cfg.heavy_runs = heavy_runs ? heavy_runs : opts->cfg.runs;
}

static void
usage(void)
{
    printf("%s: ctdp's connection tracker against Open vSwitch's\n"
           "usage: %s [OPTIONS]\n"
           "\n"
           "  --runs=N         runs of each measurement (default 5)\n"
           "  --heavy-runs=N   runs of dump and flush, which rebuild a\n"
           "                   table of 1M conns each time (default: runs)\n"
           "  --quick          small sizes (100k instead of 1M), 2 runs\n"
           "  --markdown=FILE  also write the report into FILE, between its\n"
           "                   result markers if it has them\n"
           "  --csv=FILE       write the lookup series (for the plot)\n"
           "  --only=LIST      run only these workloads, comma-separated:\n"
           "                   single-flow, lookup (also ctdp's with\n"
           "                   nf_conntrack_acct=0; with the memory floor\n"
           "                   and the minimal tracker, a control),\n"
           "                   new-conns (on fresh and on warm trackers,\n"
           "                   with the batch latency of one thread),\n"
           "                   memory, dump (with flush),\n"
           "                   datapath (ctdpd --replay of captures),\n"
           "                   nat (new conns with source NAT, lookups\n"
           "                   of NATed conns, and their baselines)\n"
           "  -h, --help       this help\n",
           program_name, program_name);
    exit(EXIT_SUCCESS);
}
