/* ctdp-bench's workloads.
 *
 * A measurement is a "job": 'n_threads' threads made with
 * ovs_thread_create() each build their burst of packets, wait at a
 * barrier, then read the clock, do their share of the work and read the
 * clock again.  The job's time runs from the first thread's start to the
 * last thread's end.  (The main thread does not time it: it may wake from
 * the barrier after a short job is already over.)  Every thread
 * quiesces (ovsrcu_quiesce()) every BENCH_QUIESCE batches, as a PMD thread
 * does, so that RCU-postponed frees run during the measurement.  The
 * one-thread new-conns runs also time each of their batches, reading the
 * monotonic clock around every ct() call (see work_conns()).
 *
 * Time: each thread reads time_msec() once at the start of its share and
 * passes it as 'now' to either tracker, as Open vSwitch's own benchmark
 * does; it is fixed within a run and advances between runs.  No run is
 * long enough for a conn to expire (the shortest timeout is 30 s).
 *
 * Fairness: every workload that measures both trackers alternates them
 * run by run, in ABBA order (ctdp then Open vSwitch in even rounds, the
 * other way round in odd ones), so that a noisy neighbour or a change of
 * clock speed hits both alike.  A workload that builds a table and then
 * times runs on it builds both tables first and keeps them both.  Open
 * vSwitch's clean thread runs meanwhile, as it always does; ctdp's sweep
 * runs on a thread of its own around each of ctdp's timed runs
 * (bench_ct_sweep_start() in ctdp-bench-ct.c). */
#include <config.h>
#include "ctdp-bench.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "timeval.h"
#include "util.h"

#define BENCH_QUIESCE 16        /* Batches between quiescent points. */
#define BENCH_CACHE_LINE 64

/* ---- Runs -------------------------------------------------------------- */

void
bench_runs_add(struct bench_runs *runs, double value)
{
    if (runs->n < BENCH_MAX_RUNS) {
        runs->v[runs->n++] = value;
    }
}

static int
compare_doubles(const void *a_, const void *b_)
{
    const double *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

double
bench_runs_median(const struct bench_runs *runs)
{
    double v[BENCH_MAX_RUNS];

    if (!runs->n) {
        return 0;
    }
    memcpy(v, runs->v, runs->n * sizeof *v);
    qsort(v, runs->n, sizeof *v, compare_doubles);
    return runs->n % 2 ? v[runs->n / 2]
                       : (v[runs->n / 2 - 1] + v[runs->n / 2]) / 2;
}

double
bench_runs_min(const struct bench_runs *runs)
{
    double min = runs->n ? runs->v[0] : 0;

    for (size_t i = 1; i < runs->n; i++) {
        min = MIN(min, runs->v[i]);
    }
    return min;
}

double
bench_runs_max(const struct bench_runs *runs)
{
    double max = runs->n ? runs->v[0] : 0;

    for (size_t i = 1; i < runs->n; i++) {
        max = MAX(max, runs->v[i]);
    }
    return max;
}

/* ---- Jobs -------------------------------------------------------------- */

/* One packet of a conn's sequence, as one ct() call per batch. */
struct bench_stage {
    enum bench_step step;
    bool commit;
    bool expect_est;            /* Every packet should come back +est. */
    enum bench_nat nat;
};

struct bench_job;
struct bench_thread;
typedef void bench_work_func(struct bench_job *, struct bench_thread *);

struct bench_job {
    bench_work_func *work;
    struct bench_ct *ct;        /* NULL for the memory floor, the
                                 * benchmark alone (bench_harness()) and
                                 * the minimal tracker. */
    struct bench_mini *mini;    /* The minimal tracker, or NULL. */
    unsigned int n_threads;
    enum bench_proto proto;

    /* What the work function reads; see each function. */
    uint64_t n;                 /* Packets, conns or sequence entries. */
    uint32_t first;             /* First conn number. */
    uint16_t zone;
    const struct bench_stage *stages;
    size_t n_stages;
    const uint32_t *seq;        /* Conn or cache-line numbers. */
    const uint8_t *mem;         /* For the memory floor. */
    bool nat;                   /* Conns are NATed (BENCH_NAT_ADDR): build
                                 * packets with bench_burst_set_nat_conn()
                                 * and check their translation. */
    uint16_t *nat_ports;        /* NAT port of each conn number, or NULL:
                                 * written by work_conns() if nonnull, read
                                 * by work_lookup() if 'nat'. */
    long long age_ms;           /* work_conns(): its packets are sent at the
                                 * clock's time less this. */
    uint64_t *batch_ns;         /* Or NULL.  One thread only: work_conns()
                                 * writes the ns that batch i of conns
                                 * spent in ct() into 'batch_ns[i]'... */
    uint64_t stage_ns[BENCH_MAX_CALLS]; /* ...and sums here those of each
                                         * stage's calls. */

    struct ovs_barrier barrier;
    struct ovs_mutex mutex;
    uint64_t drops OVS_GUARDED; /* Summed over the threads at the end. */
    uint64_t misses OVS_GUARDED;
};

struct bench_thread {
    struct bench_job *job;
    unsigned int tid;
    pthread_t thread;
    struct bench_burst burst;
    uint16_t nat_port[BENCH_BATCH]; /* For work_conns() with 'job->nat'. */
    uint64_t misses;
    long long start, end;       /* Monotonic ns around the work. */
};

/* Clock 'id' now, in ns. */
static long long
clock_ns(clockid_t id)
{
    struct timespec ts;

    xclock_gettime(id, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long
monotonic_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* The part [*begin, *end) of [0, job->n) that thread 't' does. */
static void
thread_share(const struct bench_job *job, const struct bench_thread *t,
             uint64_t *begin, uint64_t *end)
{
    *begin = job->n * t->tid / job->n_threads;
    *end = job->n * (t->tid + 1) / job->n_threads;
}

static void
maybe_quiesce(uint64_t batch)
{
    if (batch % BENCH_QUIESCE == BENCH_QUIESCE - 1) {
        ovsrcu_quiesce();
    }
}

static void *
thread_main(void *t_)
{
    struct bench_thread *t = t_;
    struct bench_job *job = t->job;

    bench_burst_init(&t->burst, job->proto);
    ovs_barrier_block(&job->barrier);
    t->start = monotonic_ns();
    job->work(job, t);
    t->end = monotonic_ns();

    ovs_mutex_lock(&job->mutex);
    job->drops += t->burst.drops;
    job->misses += t->misses;
    ovs_mutex_unlock(&job->mutex);
    bench_burst_destroy(&t->burst);
    return NULL;
}

/* Runs 'job' and returns the seconds its threads took.  Adds the drops
 * and misses to 'runs', if nonnull. */
static double
job_run(struct bench_job *job, struct bench_runs *runs)
{
    struct bench_thread *threads = xcalloc(job->n_threads, sizeof *threads);
    long long start = LLONG_MAX, end = 0;

    ovs_barrier_init(&job->barrier, job->n_threads + 1);
    ovs_mutex_init(&job->mutex);
    job->drops = job->misses = 0;
    for (unsigned int i = 0; i < job->n_threads; i++) {
        threads[i].job = job;
        threads[i].tid = i;
        threads[i].thread = ovs_thread_create("bench", thread_main,
                                              &threads[i]);
    }
    ovs_barrier_block(&job->barrier);
    ovsrcu_quiesce_start();     /* Joining must not hold up RCU frees. */
    for (unsigned int i = 0; i < job->n_threads; i++) {
        xpthread_join(threads[i].thread, NULL);
        start = MIN(start, threads[i].start);
        end = MAX(end, threads[i].end);
    }
    ovsrcu_quiesce_end();
    if (runs) {
        runs->drops += job->drops;
        runs->misses += job->misses;
    }
    ovs_barrier_destroy(&job->barrier);
    ovs_mutex_destroy(&job->mutex);
    free(threads);
    return (end - start) / 1e9;
}

/* Runs 'stage' on the burst and counts the packets that should have come
 * back +est and did not. */
static void
run_stage(struct bench_job *job, struct bench_thread *t,
          const struct bench_stage *stage, long long now)
{
    uint64_t est = t->burst.est;

    if (job->mini) {
        bench_mini_execute(job->mini, &t->burst, job->zone, now);
    } else {
        bench_ct_execute(job->ct, &t->burst, job->zone, stage->commit,
                         stage->nat, now);
    }
    if (stage->expect_est) {
        t->misses += t->burst.n - (t->burst.est - est);
    }
}

/* ---- Work functions ---------------------------------------------------- */

/* Open vSwitch's benchmark: 'job->n' packets of one conn per thread, from
 * port 1 + thread number to port 2, committed every time. */
static void
work_single_flow(struct bench_job *job, struct bench_thread *t)
{
    long long now = time_msec();

    for (size_t i = 0; i < BENCH_BATCH; i++) {
        bench_burst_set_ports(&t->burst, i, 1 + t->tid, 2, BENCH_ORIG);
    }
    for (uint64_t i = 0; i < job->n; i += BENCH_BATCH) {
        bench_ct_execute(job->ct, &t->burst, 0, true, BENCH_NAT_NONE, now);
        maybe_quiesce(i / BENCH_BATCH);
    }
}

/* Counts the packets of 'burst' that the tracker did not translate as
 * it should have (see bench_burst_check_nat_conn()): 'conns[i]' is slot
 * i's conn, 'nat_ports[i]' its NAT port, 0 to learn it. */
static void
check_nat(struct bench_thread *t, const uint32_t conns[],
          uint16_t nat_ports[], enum bench_step step)
{
    for (size_t i = 0; i < t->burst.n; i++) {
        if (!bench_burst_check_nat_conn(&t->burst, i, conns[i],
                                        &nat_ports[i], step)) {
            t->misses++;
        }
    }
}

/* Conns 'job->first' to 'job->first + job->n - 1', each through
 * 'job->stages', a batch of up to 32 conns at a time.  NATed conns
 * ('job->nat'): the stage with BENCH_NAT_SRC learns each conn's NAT port
 * from its translated packet, the later stages' replies go to it, and
 * every stage checks the translation; the ports are saved in
 * 'job->nat_ports' if it is nonnull.  If 'job->batch_ns' is nonnull, each
 * batch's ct() calls are timed (the monotonic clock read right before and
 * after each call; the packet rewriting in between is not counted), their
 * sum is stored there and each call's time added to its stage's in
 * 'job->stage_ns'. */
static void
work_conns(struct bench_job *job, struct bench_thread *t)
{
    struct bench_burst *burst = &t->burst;
    long long now = time_msec() - job->age_ms;
    uint32_t conns[BENCH_BATCH];
    uint64_t begin, end;

    thread_share(job, t, &begin, &end);
    for (uint64_t c = begin; c < end; c += BENCH_BATCH) {
        long long batch_ns = 0;

        burst->n = MIN(BENCH_BATCH, end - c);
        for (size_t s = 0; s < job->n_stages; s++) {
            const struct bench_stage *stage = &job->stages[s];
            long long start;

            for (size_t i = 0; i < burst->n; i++) {
                conns[i] = job->first + c + i;
                if (!job->nat) {
                    bench_burst_set_conn(burst, i, conns[i], stage->step);
                    continue;
                }
                if (stage->nat == BENCH_NAT_SRC) {
                    t->nat_port[i] = 0;
                }
                bench_burst_set_nat_conn(burst, i, conns[i], t->nat_port[i],
                                         stage->step);
            }
            start = job->batch_ns ? monotonic_ns() : 0;
            run_stage(job, t, stage, now);
            if (job->batch_ns) {
                long long ns = monotonic_ns() - start;

                batch_ns += ns;
                job->stage_ns[s] += ns;
            }
            if (job->nat) {
                check_nat(t, conns, t->nat_port, stage->step);
            }
        }
        if (job->batch_ns) {
            job->batch_ns[(c - begin) / BENCH_BATCH] = batch_ns;
        }
        if (job->nat_ports) {
            for (size_t i = 0; i < burst->n; i++) {
                job->nat_ports[conns[i]] = t->nat_port[i];
            }
        }
        maybe_quiesce(c / BENCH_BATCH);
    }
    burst->n = BENCH_BATCH;
}

/* Looks up (ct() without commit) the conns 'job->seq[0..n-1]', each of
 * which exists and is established: in the original direction, or as
 * 'job->stages[0]' says if 'job->stages' is nonnull.  NATed conns
 * ('job->nat'): replies go to the conn's NAT port in 'job->nat_ports',
 * and every packet's translation is checked. */
static void
work_lookup(struct bench_job *job, struct bench_thread *t)
{
    static const struct bench_stage orig_lookup = {
        .step = BENCH_ORIG, .commit = false, .expect_est = true,
    };
    const struct bench_stage *lookup = job->stages ? job->stages
                                                   : &orig_lookup;
    struct bench_burst *burst = &t->burst;
    long long now = time_msec();
    uint16_t nat_ports[BENCH_BATCH];
    uint64_t begin, end;

    thread_share(job, t, &begin, &end);
    for (uint64_t k = begin; k < end; k += BENCH_BATCH) {
        const uint32_t *conns = &job->seq[k];

        burst->n = MIN(BENCH_BATCH, end - k);
        for (size_t i = 0; i < burst->n; i++) {
            if (job->nat) {
                nat_ports[i] = job->nat_ports[conns[i]];
                bench_burst_set_nat_conn(burst, i, conns[i], nat_ports[i],
                                         lookup->step);
            } else {
                bench_burst_set_conn(burst, i, conns[i], lookup->step);
            }
        }
        run_stage(job, t, lookup, now);
        if (job->nat) {
            check_nat(t, conns, nat_ports, lookup->step);
        }
        maybe_quiesce(k / BENCH_BATCH);
    }
    burst->n = BENCH_BATCH;
}

/* The memory floor: reads the cache lines 'job->seq[0..n-1]' of
 * 'job->mem', 32 at a time: prefetches the 32, then reads them. */
static void
work_floor(struct bench_job *job, struct bench_thread *t)
{
    const uint8_t *mem = job->mem;
    uint64_t begin, end, sum = 0;

    thread_share(job, t, &begin, &end);
    for (uint64_t k = begin; k < end; k += BENCH_BATCH) {
        size_t n = MIN(BENCH_BATCH, end - k);

        for (size_t i = 0; i < n; i++) {
            OVS_PREFETCH(mem + (size_t) job->seq[k + i] * BENCH_CACHE_LINE);
        }
        for (size_t i = 0; i < n; i++) {
            sum += *(const volatile uint64_t *)
                   (mem + (size_t) job->seq[k + i] * BENCH_CACHE_LINE);
        }
        maybe_quiesce(k / BENCH_BATCH);
    }
    t->misses += sum == UINT64_MAX;     /* Keeps 'sum' live. */
}

/* ---- Workloads --------------------------------------------------------- */

/* The tracker that goes 'k'th (0 or 1) in round 'r': ctdp first in even
 * rounds, Open vSwitch first in odd ones. */
static enum bench_impl
round_impl(unsigned int r, unsigned int k)
{
    return r % 2 ? BENCH_N_IMPLS - 1 - k : k;
}

static long
rss_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) {
        ovs_fatal(errno, "cannot read /proc/self/statm");
    }
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* Destroys 'ct' and waits until the frees it postponed have run (Open
 * vSwitch's conntrack frees its conns through RCU), so that they do not
 * land in the next run, which may be the other tracker's; then gives the
 * freed heap back to the system, so that every run starts from memory
 * that is not backed yet, as the first one does.  (Without the trim, the
 * malloc'd conns of one Open vSwitch run left pages that a later run
 * reused without faulting them in: its new conns went from 0.6 to 2.2
 * Mconn/s from the first run to the third, which measured the heap's
 * history rather than the tracker.) */
static void
destroy_tracker(struct bench_ct *ct)
{
    bench_ct_destroy(ct);
    ovsrcu_barrier();
    malloc_trim(0);
}

#ifdef __SANITIZE_ADDRESS__
#define ASAN_BUILD true
#else
#define ASAN_BUILD false
#endif

/* What a run may leave resident after destroy_tracker(), at most: the
 * stacks and arenas of its threads, and heap pages that a few live
 * objects keep, not its conns. */
#define RUN_RESIDUE (16 << 20)
#define RUN_RESIDUE_PART 8      /* 1/8 of what the run took. */

/* Checks that destroy_tracker() gave back what the run took: 'before' is
 * the RSS before its tracker was made, 'full' the RSS before it was
 * destroyed.  Not under AddressSanitizer, whose allocator keeps freed
 * memory in quarantine (and whose times measure the sanitizer). */
static void
check_cold(long before, long full)
{
    long left = rss_bytes() - before;

    if (!ASAN_BUILD
        && left > MAX(RUN_RESIDUE, (full - before) / RUN_RESIDUE_PART)) {
        ovs_fatal(0, "a run left %ld of the %ld MiB it took resident, "
                  "which the next run would reuse", left >> 20,
                  (full - before) >> 20);
    }
}

/* Runs 'job' as one timed run, with ctdp's sweep alongside; returns the
 * seconds it took.  Conns the sweep removed count as misses. */
static double
timed_run(struct bench_job *job, struct bench_runs *runs)
{
    double secs;

    bench_ct_sweep_start(job->ct);
    secs = job_run(job, runs);
    runs->misses += bench_ct_sweep_stop(job->ct);
    return secs;
}

static const struct bench_stage udp_commit[] = {
    { BENCH_ORIG, true, false, BENCH_NAT_NONE },
};
static const struct bench_stage udp_established[] = {
    { BENCH_ORIG, true, false, BENCH_NAT_NONE },
    { BENCH_REPLY, false, true, BENCH_NAT_NONE },
};
static const struct bench_stage tcp_handshake[] = {
    { BENCH_ORIG, true, false, BENCH_NAT_NONE },
    { BENCH_REPLY, false, false, BENCH_NAT_NONE },
    { BENCH_ACK, false, true, BENCH_NAT_NONE },
};
BUILD_ASSERT_DECL(ARRAY_SIZE(udp_commit) == BENCH_CONN_CALLS(BENCH_UDP));
BUILD_ASSERT_DECL(ARRAY_SIZE(tcp_handshake) == BENCH_CONN_CALLS(BENCH_TCP));

/* NAT: commit with nat(src=...), every later packet with a bare nat. */
static const struct bench_stage udp_snat[] = {
    { BENCH_ORIG, true, false, BENCH_NAT_SRC },
    { BENCH_REPLY, false, true, BENCH_NAT_BARE },
};
static const struct bench_stage tcp_snat[] = {
    { BENCH_ORIG, true, false, BENCH_NAT_SRC },
    { BENCH_REPLY, false, false, BENCH_NAT_BARE },
    { BENCH_ACK, false, true, BENCH_NAT_BARE },
};

/* Commits conns 'first'... 'first + n - 1' in 'zone' through 'stages' on
 * 'n_threads' threads; returns the seconds it took. */
static double
commit_conns(struct bench_ct *ct, enum bench_proto proto,
             const struct bench_stage *stages, size_t n_stages,
             uint32_t first, uint32_t n, uint16_t zone,
             unsigned int n_threads, struct bench_runs *runs)
{
    struct bench_job job = {
        .work = work_conns, .ct = ct, .n_threads = n_threads,
        .proto = proto, .n = n, .first = first, .zone = zone,
        .stages = stages, .n_stages = n_stages,
    };

    return job_run(&job, runs);
}

/* Likewise for NATed conns 'first'... in zone 0: 'stages' NAT them (see
 * work_conns()); saves each conn's NAT port in 'nat_ports' if nonnull. */
static double
commit_nat_conns(struct bench_ct *ct, enum bench_proto proto,
                 const struct bench_stage *stages, size_t n_stages,
                 uint32_t first, uint32_t n, uint16_t *nat_ports,
                 unsigned int n_threads, struct bench_runs *runs)
{
    struct bench_job job = {
        .work = work_conns, .ct = ct, .n_threads = n_threads,
        .proto = proto, .n = n, .first = first,
        .stages = stages, .n_stages = n_stages,
        .nat = true, .nat_ports = nat_ports,
    };

    return job_run(&job, runs);
}

void
bench_single_flow(const struct bench_config *cfg, unsigned int n_threads,
                  struct bench_runs *runs[BENCH_N_IMPLS])
{
    struct bench_job jobs[BENCH_N_IMPLS];

    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        jobs[impl] = (struct bench_job) {
            .work = work_single_flow, .ct = bench_ct_create(impl),
            .n_threads = n_threads, .proto = BENCH_UDP, .n = cfg->flow_pkts,
        };
    }
    for (unsigned int r = 0; r < cfg->runs; r++) {
        for (unsigned int k = 0; k < BENCH_N_IMPLS; k++) {
            enum bench_impl impl = round_impl(r, k);
            double secs = timed_run(&jobs[impl], runs[impl]);

            bench_runs_add(runs[impl],
                           cfg->flow_pkts * n_threads / secs / 1e6);
        }
    }
    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        destroy_tracker(jobs[impl].ct);
    }
}

/* The percentiles of enum bench_pct, in parts per 10,000. */
static const struct {
    const char *name;
    unsigned int per_10k;
} bench_pcts[BENCH_N_PCTS] = {
    [BENCH_P50] = { "p50", 5000 },
    [BENCH_P99] = { "p99", 9900 },
    [BENCH_P9999] = { "p99.99", 9999 },
    [BENCH_PMAX] = { "max", 10000 },
};

const char *
bench_pct_name(enum bench_pct p)
{
    return bench_pcts[p].name;
}

/* The average over 100,000 back-to-back reads. */
double
bench_clock_read_ns(void)
{
    enum { N_READS = 100000 };
    long long start = monotonic_ns();

    for (int i = 0; i < N_READS; i++) {
        monotonic_ns();
    }
    return (monotonic_ns() - start) / (double) N_READS;
}

/* A cache line that two threads pass back and forth: each waits for its
 * turn's value and writes the other's. */
struct ping_pong {
    PADDED_MEMBERS(CACHE_LINE_SIZE, ATOMIC(uint64_t) turn;);
    uint64_t n;
};

static void
ping_pong_play(struct ping_pong *pp, uint64_t mine)
{
    for (uint64_t i = 0; i < pp->n; i++) {
        uint64_t turn;

        do {
            atomic_read_explicit(&pp->turn, &turn, memory_order_acquire);
        } while (turn != 2 * i + mine);
        atomic_store_explicit(&pp->turn, turn + 1, memory_order_release);
    }
}

static void *
ping_pong_main(void *pp)
{
    ping_pong_play(pp, 1);
    return NULL;
}

/* The time a cache line written by one thread takes to reach another
 * that waits for it, one way: the median of 5 games of 100,000 round
 * trips.  What two threads pay per conn for each line they both write. */
double
bench_line_transfer_ns(void)
{
    struct bench_runs runs = { .n = 0 };

    for (int r = 0; r < 5; r++) {
        struct ping_pong pp = { .n = 100000 };
        long long start;
        pthread_t other;

        atomic_init(&pp.turn, 0);
        other = ovs_thread_create("bench_ping", ping_pong_main, &pp);
        start = monotonic_ns();
        ping_pong_play(&pp, 0);
        xpthread_join(other, NULL);
        bench_runs_add(&runs, (monotonic_ns() - start) / (2.0 * pp.n));
    }
    return bench_runs_median(&runs);
}

static int
compare_uint64s(const void *a_, const void *b_)
{
    const uint64_t *a = a_, *b = b_;

    return *a < *b ? -1 : *a > *b;
}

/* Sorts the 'n' (at least 1) batch times 'batch_ns' and adds their
 * percentiles to 'latency', in µs.  By nearest rank: percentile p is the
 * time of the batch of rank ceil(p * n) from the fastest, the shortest
 * time that at least a fraction p of the batches did not exceed. */
static void
latency_add(struct bench_latency *latency, uint64_t *batch_ns, size_t n)
{
    qsort(batch_ns, n, sizeof *batch_ns, compare_uint64s);
    for (int p = 0; p < BENCH_N_PCTS; p++) {
        size_t rank = (n * bench_pcts[p].per_10k + 9999) / 10000;

        bench_runs_add(&latency->pct[p], batch_ns[MAX(rank, 1) - 1] / 1e3);
    }
}

/* 'n' steps of a linear congruential generator from 'x': arithmetic
 * alone, one dependent multiply-add a step, no memory. */
static uint64_t
quiet_work(uint64_t x, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    }
    return x;
}

/* The ns a step of quiet_work() takes: the fastest of five timings of a
 * million. */
static double
quiet_step_ns(void)
{
    enum { N_STEPS = 1000000 };
    long long best = LLONG_MAX;
    volatile uint64_t sink;

    for (int i = 0; i < 5; i++) {
        long long start = monotonic_ns();

        sink = quiet_work(i, N_STEPS);
        best = MIN(best, monotonic_ns() - start);
    }
    (void) sink;
    return MAX(best, 1) / (double) N_STEPS;
}

double
bench_cpu_ghz(void)
{
    return 4 / quiet_step_ns();
}

/* The steps of quiet_work() that take 'us' microseconds. */
static uint64_t
quiet_steps(double us)
{
    return MAX(1, us * 1e3 / quiet_step_ns());
}

/* The memory a batch of the memory control writes (see
 * bench_quiet_latency()): BENCH_BATCH random lines of 'table', then the
 * next BENCH_BATCH objects of 'objs', each written whole. */
#define QUIET_TABLE (16u << 20)
#define QUIET_OBJ 128

struct quiet_mem {
    uint8_t *table;             /* QUIET_TABLE bytes. */
    uint8_t *objs;              /* 'n_objs' objects of QUIET_OBJ bytes. */
    size_t n_objs;
    uint64_t x;                 /* The random lines' xorshift state. */
};

static void
quiet_mem_init(struct quiet_mem *m, size_t n_objs)
{
    m->table = xmalloc_cacheline(QUIET_TABLE);
    m->objs = xmalloc_cacheline(n_objs * QUIET_OBJ);
    m->n_objs = n_objs;
    m->x = 88172645463325252ULL;
    /* Backed before the runs, as ctdp's backer backs its pages ahead. */
    memset(m->table, 1, QUIET_TABLE);
    memset(m->objs, 1, n_objs * QUIET_OBJ);
}

static void
quiet_mem_destroy(struct quiet_mem *m)
{
    free_cacheline(m->table);
    free_cacheline(m->objs);
}

static uint64_t
xorshift(uint64_t x)
{
    x ^= x << 13;
    x ^= x >> 7;
    return x ^ (x << 17);
}

/* Batch 'i''s writes: prefetches its table lines, then adds one to a word
 * of each and writes each of its objects, as a batch of new conns writes
 * its bucket lines and its conns. */
static void
quiet_mem_batch(struct quiet_mem *m, size_t i)
{
    uint8_t *obj = m->objs + (i * BENCH_BATCH % m->n_objs) * QUIET_OBJ;
    uint64_t x = m->x;

    for (int k = 0; k < BENCH_BATCH; k++) {
        x = xorshift(x);
        OVS_PREFETCH(m->table + x % (QUIET_TABLE / 64) * 64);
    }
    for (int k = 0; k < BENCH_BATCH; k++) {
        m->x = xorshift(m->x);
        (*(volatile uint64_t *) (m->table
                                 + m->x % (QUIET_TABLE / 64) * 64))++;
        memset(obj + k * QUIET_OBJ, k, QUIET_OBJ);
    }
}

/* The median us that 'n' batches of quiet_mem_batch() take, on the
 * objects past those of the first 'skip' batches (which the runs write). */
static double
quiet_mem_us(struct quiet_mem *m, size_t skip, size_t n)
{
    uint64_t *ns = xcalloc(n, sizeof *ns);
    double us;

    for (size_t i = 0; i < n; i++) {
        long long start = monotonic_ns();

        quiet_mem_batch(m, skip + i);
        ns[i] = monotonic_ns() - start;
    }
    qsort(ns, n, sizeof *ns, compare_uint64s);
    us = ns[n / 2] / 1e3;
    free(ns);
    return us;
}

void
bench_quiet_latency(double batch_us, size_t n_batches, unsigned int runs,
                    bool memory, struct bench_latency *latency)
{
    uint64_t *batch_ns = xcalloc(n_batches, sizeof *batch_ns);
    enum { CALIBRATE = 1000 };
    struct quiet_mem m;
    uint64_t steps;
    volatile uint64_t sink = 1;

    if (memory) {
        /* The arithmetic fills what the memory leaves of 'batch_us'. */
        quiet_mem_init(&m, (n_batches + CALIBRATE) * BENCH_BATCH);
        batch_us -= MIN(quiet_mem_us(&m, n_batches, CALIBRATE), batch_us);
    }
    steps = quiet_steps(batch_us);
    for (unsigned int r = 0; r < runs; r++) {
        for (size_t i = 0; i < n_batches; i++) {
            long long start = monotonic_ns();

            if (memory) {
                quiet_mem_batch(&m, i);
            }
            sink = quiet_work(sink, steps);
            batch_ns[i] = monotonic_ns() - start;
        }
        latency_add(latency, batch_ns, n_batches);
    }
    if (memory) {
        quiet_mem_destroy(&m);
    }
    free(batch_ns);
}

/* One run of new-conns on a fresh 'impl' tracker; if 'warm', one that held
 * the same conns before, flushed (untimed); into 'out'.  With a latency
 * (one thread only), every batch of the run is timed too.  The times go
 * into an array allocated and written before the run starts, so that
 * neither its allocation nor its page faults are timed. */
static void
new_conns_run(const struct bench_config *cfg, enum bench_impl impl,
              enum bench_proto proto, unsigned int n_threads, bool warm,
              const struct bench_conns_out *out)
{
    struct bench_runs *runs = out->rate;
    struct bench_latency *latency = out->latency;
    size_t n_batches = DIV_ROUND_UP(cfg->big, BENCH_BATCH);
    bool tcp = proto == BENCH_TCP;
    long rss_before = rss_bytes(), rss_full;
    struct bench_job job = {
        .work = work_conns, .ct = bench_ct_create(impl),
        .n_threads = n_threads, .proto = proto, .n = cfg->big,
        .stages = tcp ? tcp_handshake : udp_commit,
        .n_stages = tcp ? ARRAY_SIZE(tcp_handshake) : ARRAY_SIZE(udp_commit),
    };
    long long cpu_ns;
    double secs;

    if (latency) {
        ovs_assert(n_threads == 1 && !warm);
        job.batch_ns = xmalloc(n_batches * sizeof *job.batch_ns);
        memset(job.batch_ns, 0, n_batches * sizeof *job.batch_ns);
    }
    if (warm) {
        job_run(&job, runs);
        bench_ct_flush_zone(job.ct, job.zone, time_msec());
        ovsrcu_barrier();       /* Runs the postponed frees. */
    }
    /* Every thread of the process: see bench_conns_out. */
    cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    secs = timed_run(&job, runs);
    cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_ns;
    bench_runs_add(runs, cfg->big / secs / 1e6);
    if (out->cpu) {
        bench_runs_add(out->cpu, cpu_ns / (double) cfg->big);
    }
    runs->misses += cfg->big - MIN(cfg->big, bench_ct_n_conns(job.ct));
    if (latency) {
        latency_add(latency, job.batch_ns, n_batches);
        free(job.batch_ns);
        for (size_t s = 0; s < job.n_stages; s++) {
            bench_runs_add(&latency->call_ns[s],
                           job.stage_ns[s] / (double) cfg->big);
        }
    }
    rss_full = rss_bytes();
    destroy_tracker(job.ct);
    check_cold(rss_before, rss_full);
}

void
bench_new_conns(const struct bench_config *cfg, enum bench_proto proto,
                unsigned int n_threads, bool warm,
                const struct bench_conns_out out[BENCH_N_IMPLS])
{
    for (unsigned int r = 0; r < cfg->runs; r++) {
        for (unsigned int k = 0; k < BENCH_N_IMPLS; k++) {
            enum bench_impl impl = round_impl(r, k);

            new_conns_run(cfg, impl, proto, n_threads, warm, &out[impl]);
        }
    }
}

/* A fixed pseudo-random sequence of 'n' numbers below 'bound' (splitmix64
 * from a fixed seed), the same for both trackers. */
static uint32_t *
random_sequence(size_t n, uint64_t bound)
{
    uint32_t *seq = xmalloc(n * sizeof *seq);
    uint64_t x = 0x2545f4914f6cdd1dULL;

    for (size_t i = 0; i < n; i++) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        seq[i] = ((z >> 32) * bound) >> 32;
    }
    return seq;
}

/* The memory floor's lines, and the order its runs read them in. */
struct floor_mem {
    uint8_t *mem;
    uint32_t *seq;
};

static void
floor_mem_init(struct floor_mem *f, const struct bench_config *cfg,
               size_t bytes)
{
    size_t n_lines = MAX(1, bytes / BENCH_CACHE_LINE);

    f->mem = xmalloc_cacheline(n_lines * BENCH_CACHE_LINE);
    f->seq = random_sequence(cfg->lookups, n_lines);
    memset(f->mem, 1, n_lines * BENCH_CACHE_LINE);
}

static void
floor_mem_destroy(struct floor_mem *f)
{
    free_cacheline(f->mem);
    free(f->seq);
}

/* A lookup run's turn in a round of lookup_runs(). */
enum lookup_slot {
    SLOT_CTDP = BENCH_CTDP,
    SLOT_OVS = BENCH_OVS,
    SLOT_UNCOUNTED,             /* ctdp with nf_conntrack_acct=0. */
    SLOT_FLOOR,                 /* The memory floor. */
    N_SLOTS
};

/* The runs of the lookups on 'n_threads' threads, on both tables, on
 * ctdp's with nf_conntrack_acct=0 ('uncounted'), and of the memory floor
 * on 'floor' ('floor_runs'), in an order that turns with each round: the
 * floor's runs meet the same phases of the host as the lookups they are
 * set against. */
static void
lookup_runs(const struct bench_config *cfg, struct bench_ct *cts[],
            const uint32_t *seq, unsigned int n_threads,
            struct bench_runs *runs[BENCH_N_IMPLS],
            struct bench_runs *uncounted,
            const struct floor_mem *floor, struct bench_runs *floor_runs)
{
    struct bench_job jobs[N_SLOTS];
    struct bench_runs *into[N_SLOTS] = {
        [SLOT_CTDP] = runs[BENCH_CTDP], [SLOT_OVS] = runs[BENCH_OVS],
        [SLOT_UNCOUNTED] = uncounted, [SLOT_FLOOR] = floor_runs,
    };

    for (int s = 0; s < SLOT_FLOOR; s++) {
        jobs[s] = (struct bench_job) {
            .work = work_lookup, .n_threads = n_threads,
            .proto = BENCH_UDP, .n = cfg->lookups, .seq = seq,
            .ct = cts[s == SLOT_OVS ? BENCH_OVS : BENCH_CTDP],
        };
    }
    jobs[SLOT_FLOOR] = (struct bench_job) {
        .work = work_floor, .n_threads = n_threads, .proto = BENCH_UDP,
        .n = cfg->lookups, .seq = floor->seq, .mem = floor->mem,
    };
    for (unsigned int r = 0; r < cfg->runs; r++) {
        for (unsigned int k = 0; k < N_SLOTS; k++) {
            enum lookup_slot slot = (r + k) % N_SLOTS;
            double secs;

            if (slot == SLOT_UNCOUNTED) {
                bench_ct_set_acct(cts[BENCH_CTDP], false);
            }
            secs = (slot == SLOT_FLOOR ? job_run(&jobs[slot], NULL)
                    : timed_run(&jobs[slot], into[slot]));
            if (slot == SLOT_UNCOUNTED) {
                bench_ct_set_acct(cts[BENCH_CTDP], true);
            }
            bench_runs_add(into[slot], cfg->lookups / secs / 1e6);
        }
    }
}

/* How long before the lookups their conns are made: past the 2 s after
 * which the UDP tracker takes a replied conn for a stream and assures it,
 * as most conns a switch looks up are. */
#define LOOKUP_CONN_AGE_MS 3000

/* Makes conns 0...'n_conns' - 1 established UDP conns of 'ct' as they are
 * LOOKUP_CONN_AGE_MS after their reply: committed and answered that long
 * before the clock, then each looked up once, which assures a ctdp conn
 * (untimed).  'all' lists the conns' numbers. */
static void
make_lookup_table(struct bench_ct *ct, uint32_t n_conns,
                  const uint32_t *all, struct bench_runs *runs)
{
    struct bench_job conns = {
        .work = work_conns, .ct = ct, .n_threads = 1,
        .proto = BENCH_UDP, .n = n_conns, .stages = udp_established,
        .n_stages = ARRAY_SIZE(udp_established),
        .age_ms = LOOKUP_CONN_AGE_MS,
    };
    struct bench_job lookups = {
        .work = work_lookup, .ct = ct, .n_threads = 1,
        .proto = BENCH_UDP, .n = n_conns, .seq = all,
    };

    job_run(&conns, runs);
    job_run(&lookups, runs);
}

void
bench_lookups(const struct bench_config *cfg, uint32_t n_conns,
              const unsigned int threads[], size_t n_threads,
              struct bench_runs *results[BENCH_N_IMPLS],
              struct bench_runs uncounted[],
              size_t floor_bytes, struct bench_runs floor[])
{
    uint32_t *seq = random_sequence(cfg->lookups, n_conns);
    uint32_t *all = xmalloc(n_conns * sizeof *all);
    struct bench_ct *cts[BENCH_N_IMPLS];
    struct bench_runs setup[BENCH_N_IMPLS];
    struct floor_mem floor_mem;

    for (uint32_t c = 0; c < n_conns; c++) {
        all[c] = c;
    }
    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        cts[impl] = bench_ct_create(impl);
        memset(&setup[impl], 0, sizeof setup[impl]);
        make_lookup_table(cts[impl], n_conns, all, &setup[impl]);
    }
    free(all);
    floor_mem_init(&floor_mem, cfg, floor_bytes);
    for (size_t i = 0; i < n_threads; i++) {
        struct bench_runs *runs[BENCH_N_IMPLS];

        for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
            runs[impl] = &results[impl][i];
            runs[impl]->drops += setup[impl].drops;
            runs[impl]->misses += setup[impl].misses;
        }
        uncounted[i].drops += setup[BENCH_CTDP].drops;
        uncounted[i].misses += setup[BENCH_CTDP].misses;
        lookup_runs(cfg, cts, seq, threads[i], runs, &uncounted[i],
                    &floor_mem, &floor[i]);
    }
    floor_mem_destroy(&floor_mem);
    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        destroy_tracker(cts[impl]);
    }
    free(seq);
}

/* The lookups of bench_lookups() among 'n_conns' conns on 'n_threads'
 * threads, on no tracker or the minimal tracker 'mini'. */
static void
control_runs(const struct bench_config *cfg, uint32_t n_conns,
             struct bench_mini *mini, unsigned int n_threads,
             struct bench_runs *runs)
{
    uint32_t *seq = random_sequence(cfg->lookups, n_conns);
    struct bench_job job = {
        .work = work_lookup, .mini = mini, .n_threads = n_threads,
        .proto = BENCH_UDP, .n = cfg->lookups, .seq = seq,
    };

    for (unsigned int r = 0; r < cfg->runs; r++) {
        double secs = job_run(&job, runs);

        bench_runs_add(runs, cfg->lookups / secs / 1e6);
    }
    free(seq);
}

void
bench_harness(const struct bench_config *cfg, uint32_t n_conns,
              unsigned int n_threads, struct bench_runs *runs)
{
    control_runs(cfg, n_conns, NULL, n_threads, runs);
}

void
bench_minimal(const struct bench_config *cfg, uint32_t n_conns,
              enum bench_mini_layout layout, struct bench_runs *runs,
              double *bytes_per_conn)
{
    struct bench_mini *mini = bench_mini_create(layout, n_conns,
                                                time_msec());

    control_runs(cfg, n_conns, mini, 1, runs);
    *bytes_per_conn = bench_mini_bytes_per_conn(mini);
    bench_mini_destroy(mini);
}

/* 'big' conns: 'flush_zone' of them in zone 1, the others in zones 2, 3,
 * ..., 'flush_zone' per zone, on a fresh 'impl' tracker.  Times a dump of
 * all, then a flush of zone 1, in milliseconds. */
static void
dump_flush_run(const struct bench_config *cfg, enum bench_impl impl,
               struct bench_runs *dump, struct bench_runs *flush)
{
    struct bench_ct *ct = bench_ct_create(impl);
    uint16_t zone = 1;
    long long start;
    size_t n;

    for (uint32_t c = 0; c < cfg->big; c += cfg->flush_zone) {
        commit_conns(ct, BENCH_UDP, udp_commit, ARRAY_SIZE(udp_commit),
                     c, MIN(cfg->flush_zone, cfg->big - c), zone++, 2, dump);
    }
    ovsrcu_synchronize();
    bench_ct_sweep_start(ct);

    start = monotonic_ns();
    n = bench_ct_dump(ct, time_msec());
    bench_runs_add(dump, (monotonic_ns() - start) / 1e6);
    dump->misses += n != cfg->big;

    start = monotonic_ns();
    bench_ct_flush_zone(ct, 1, time_msec());
    bench_runs_add(flush, (monotonic_ns() - start) / 1e6);

    flush->misses += bench_ct_sweep_stop(ct);
    flush->misses += bench_ct_n_conns(ct) != cfg->big - cfg->flush_zone;
    ovsrcu_synchronize();
    destroy_tracker(ct);
}

void
bench_dump_flush(const struct bench_config *cfg,
                 struct bench_runs *dump[BENCH_N_IMPLS],
                 struct bench_runs *flush[BENCH_N_IMPLS])
{
    for (unsigned int r = 0; r < cfg->heavy_runs; r++) {
        for (unsigned int k = 0; k < BENCH_N_IMPLS; k++) {
            enum bench_impl impl = round_impl(r, k);

            dump_flush_run(cfg, impl, dump[impl], flush[impl]);
        }
    }
}

/* ---- NAT --------------------------------------------------------------- */

/* One run of NAT new-conns on a fresh 'impl' tracker: 'cfg->big' conns
 * through 'stages' (NATed if 'nat'). */
static void
nat_new_conns_run(const struct bench_config *cfg, enum bench_impl impl,
                  enum bench_proto proto, bool nat,
                  const struct bench_stage *stages, size_t n_stages,
                  unsigned int n_threads, struct bench_runs *runs)
{
    struct bench_ct *ct = bench_ct_create(impl);
    double secs;

    bench_ct_sweep_start(ct);
    secs = (nat
            ? commit_nat_conns(ct, proto, stages, n_stages, 0, cfg->big,
                               NULL, n_threads, runs)
            : commit_conns(ct, proto, stages, n_stages, 0, cfg->big, 0,
                           n_threads, runs));
    runs->misses += bench_ct_sweep_stop(ct);
    bench_runs_add(runs, cfg->big / secs / 1e6);
    runs->misses += cfg->big - MIN(cfg->big, bench_ct_n_conns(ct));
    destroy_tracker(ct);
}

void
bench_nat_new_conns(const struct bench_config *cfg, enum bench_proto proto,
                    bool nat, unsigned int n_threads,
                    struct bench_runs *runs[BENCH_N_IMPLS])
{
    const struct bench_stage *stages;
    size_t n_stages;

    if (proto == BENCH_TCP) {
        stages = nat ? tcp_snat : tcp_handshake;
        n_stages = ARRAY_SIZE(tcp_handshake);
    } else {
        stages = nat ? udp_snat : udp_established;
        n_stages = ARRAY_SIZE(udp_established);
    }
    for (unsigned int r = 0; r < cfg->runs; r++) {
        for (unsigned int k = 0; k < BENCH_N_IMPLS; k++) {
            enum bench_impl impl = round_impl(r, k);

            nat_new_conns_run(cfg, impl, proto, nat, stages, n_stages,
                              n_threads, runs[impl]);
        }
    }
}

/* The lookup of each kind of NAT lookup: reply direction of un-NATed
 * conns (no nat in the action: nothing to translate), and both directions
 * of NATed conns with a bare nat. */
static const struct bench_stage nat_lookup_stages[BENCH_N_NLS] = {
    [BENCH_NL_PLAIN_REPLY] = { BENCH_REPLY, false, true, BENCH_NAT_NONE },
    [BENCH_NL_NAT_ORIG] = { BENCH_ORIG, false, true, BENCH_NAT_BARE },
    [BENCH_NL_NAT_REPLY] = { BENCH_REPLY, false, true, BENCH_NAT_BARE },
};

/* The lookups of 'kinds' (all on the same table) on a table of 'n_conns'
 * established UDP conns per tracker, built first (not timed; committed by
 * their first packet, answered once), NATed if 'nat': committed with
 * nat(src=...), the replies sent to the NAT port the binding chose, read
 * back from the translated first packet, per tracker, since the two
 * trackers' bindings differ.  Then, for every thread count and kind, the
 * runs of both trackers alternating, on 'seq'.  The table is built right
 * before its runs, which keep refreshing its conns: a conn left alone for
 * 30 s (UDP's timeout) would expire and show as a miss. */
static void
nat_lookup_table(const struct bench_config *cfg, uint32_t n_conns,
                 bool nat, const uint32_t *seq,
                 const enum bench_nat_lookup kinds[], size_t n_kinds,
                 const unsigned int threads[], size_t n_threads,
                 struct bench_runs *results[BENCH_N_NLS][BENCH_N_IMPLS])
{
    struct bench_ct *cts[BENCH_N_IMPLS];
    uint16_t *nat_ports[BENCH_N_IMPLS];
    struct bench_runs setup[BENCH_N_IMPLS];

    memset(setup, 0, sizeof setup);
    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        cts[impl] = bench_ct_create(impl);
        nat_ports[impl] = NULL;
        if (nat) {
            nat_ports[impl] = xcalloc(n_conns, sizeof *nat_ports[impl]);
            commit_nat_conns(cts[impl], BENCH_UDP, udp_snat,
                             ARRAY_SIZE(udp_snat), 0, n_conns,
                             nat_ports[impl], 1, &setup[impl]);
        } else {
            commit_conns(cts[impl], BENCH_UDP, udp_established,
                         ARRAY_SIZE(udp_established), 0, n_conns, 0, 1,
                         &setup[impl]);
        }
    }
    for (size_t i = 0; i < n_threads; i++) {
        for (size_t j = 0; j < n_kinds; j++) {
            enum bench_nat_lookup kind = kinds[j];
            struct bench_job jobs[BENCH_N_IMPLS];

            for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
                struct bench_runs *runs = &results[kind][impl][i];

                runs->drops += setup[impl].drops;
                runs->misses += setup[impl].misses;
                jobs[impl] = (struct bench_job) {
                    .work = work_lookup, .ct = cts[impl],
                    .n_threads = threads[i], .proto = BENCH_UDP,
                    .n = cfg->lookups, .seq = seq,
                    .stages = &nat_lookup_stages[kind], .n_stages = 1,
                    .nat = nat, .nat_ports = nat_ports[impl],
                };
            }
            for (unsigned int r = 0; r < cfg->runs; r++) {
                for (unsigned int k = 0; k < BENCH_N_IMPLS; k++) {
                    enum bench_impl impl = round_impl(r, k);
                    struct bench_runs *runs = &results[kind][impl][i];
                    double secs = timed_run(&jobs[impl], runs);

                    bench_runs_add(runs, cfg->lookups / secs / 1e6);
                }
            }
        }
    }
    for (int impl = 0; impl < BENCH_N_IMPLS; impl++) {
        destroy_tracker(cts[impl]);
        free(nat_ports[impl]);
    }
}

/* The NAT lookups: reply direction on a table of un-NATed conns, then
 * both directions on a table of SNATed conns, the same random sequence of
 * conns as the other lookups. */
void
bench_nat_lookups(const struct bench_config *cfg, uint32_t n_conns,
                  const unsigned int threads[], size_t n_threads,
                  struct bench_runs *results[BENCH_N_NLS][BENCH_N_IMPLS])
{
    static const enum bench_nat_lookup plain[] = { BENCH_NL_PLAIN_REPLY };
    static const enum bench_nat_lookup natted[] = {
        BENCH_NL_NAT_ORIG, BENCH_NL_NAT_REPLY,
    };
    uint32_t *seq = random_sequence(cfg->lookups, n_conns);

    nat_lookup_table(cfg, n_conns, false, seq, plain, ARRAY_SIZE(plain),
                     threads, n_threads, results);
    nat_lookup_table(cfg, n_conns, true, seq, natted, ARRAY_SIZE(natted),
                     threads, n_threads, results);
    free(seq);
}

/* ---- Memory ------------------------------------------------------------ */

/* What a memory child reports. */
struct memory_result {
    double per_conn;            /* RSS growth / 'n_conns'. */
    uint32_t n_conns;           /* Conns in the table at the end. */
};

static void memory_child(int fd, enum bench_impl, enum bench_proto,
                         uint32_t n_conns) OVS_NO_RETURN;

/* In the child: commits 'n_conns' conns and writes a struct memory_result
 * to 'fd'. */
static void
memory_child(int fd, enum bench_impl impl, enum bench_proto proto,
             uint32_t n_conns)
{
    long before = rss_bytes();
    struct bench_ct *ct = bench_ct_create(impl);
    struct memory_result result;

    if (proto == BENCH_TCP) {
        commit_conns(ct, proto, tcp_handshake, ARRAY_SIZE(tcp_handshake),
                     0, n_conns, 0, 1, NULL);
    } else {
        commit_conns(ct, proto, udp_commit, ARRAY_SIZE(udp_commit),
                     0, n_conns, 0, 1, NULL);
    }
    ovsrcu_synchronize();
    ovsrcu_barrier();           /* Runs the postponed frees. */
    result.n_conns = bench_ct_n_conns(ct);
    result.per_conn = (double) (rss_bytes() - before) / MAX(1, result.n_conns);
    if (write(fd, &result, sizeof result) != sizeof result) {
        _exit(1);
    }
    _exit(0);
}

/* Measures the RSS growth per conn after committing 'n_conns' conns, in a
 * child process forked for the purpose, so that the RSS is not polluted by
 * earlier workloads.  Adds it to 'runs', with the conns that are missing
 * at the end as misses; a child that fails adds nothing.  Must be called
 * before the process makes any thread: a child forked from a threaded
 * process would have no RCU thread. */
void
bench_memory(enum bench_impl impl, enum bench_proto proto, uint32_t n_conns,
             struct bench_runs *runs)
{
    struct memory_result result;
    int fds[2], status;
    bool ok;
    pid_t pid;

    if (pipe(fds)) {
        ovs_fatal(errno, "pipe");
    }
    pid = fork();
    if (pid < 0) {
        ovs_fatal(errno, "fork");
    } else if (!pid) {
        close(fds[0]);
        memory_child(fds[1], impl, proto, n_conns);
    }
    close(fds[1]);
    ok = read(fds[0], &result, sizeof result) == sizeof result;
    close(fds[0]);
    ok = waitpid(pid, &status, 0) == pid && WIFEXITED(status)
         && !WEXITSTATUS(status) && ok;
    if (ok) {
        bench_runs_add(runs, result.per_conn);
        runs->misses += n_conns - MIN(n_conns, result.n_conns);
    }
}
