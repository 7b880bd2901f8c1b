/* The backer (ctdp-backer.h). */
#include <config.h>
#include "ctdp-backer.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "timeval.h"
#include "util.h"

/* Requests that wait at most; more are dropped (a request is a hint). */
#define RING 256

/* Bytes backed at once.  Backing 256 KiB in one madvise() lengthened the
 * tail of new conns' batches, in steps of 64 KiB it did not
 * (docs/BENCHMARKS.md); most likely because a populate holds the mmap
 * lock for reading while it runs, and a writer waiting for it (an unmap
 * from another thread) makes every page fault wait behind both. */
#define STEP (64u << 10)

/* Having backed its last range, the backer waits for the next in timed
 * waits for CTDP_BACKER_LINGER_MAX_MS, and only then sleeps until a
 * request wakes it: requests meanwhile that can wait ('wake' false)
 * spare their callers the wake, which cost a packet thread about 10 us on
 * the reference VM (the inter-processor interrupt; in new conns, one
 * batch in 64 took that much longer; docs/BENCHMARKS.md).  Each wait is
 * half the time between the last two such requests, within these bounds:
 * the backer finds a request well before the caller, asking at that pace
 * for pages it needs a step later, needs them, without looking more often
 * than that pace calls for (each look costs this thread 10 us of CPU or
 * more on the reference VM). */
#define LINGER_MIN_NS (25 * 1000LL)
#define LINGER_MAX_NS (1000 * 1000LL)

struct range {
    char *p;
    size_t size;
};

static struct ovs_mutex mutex = OVS_MUTEX_INITIALIZER;
static pthread_cond_t work_cond;     /* Made with the backer's thread. */
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static struct range ring[RING] OVS_GUARDED_BY(mutex);
static unsigned int head OVS_GUARDED_BY(mutex);  /* Next to take. */
static unsigned int tail OVS_GUARDED_BY(mutex);  /* Next to fill. */
static struct range busy OVS_GUARDED_BY(mutex);  /* Being backed now. */
/* In the timed waits: a request that can wait need not wake it. */
static bool lingering OVS_GUARDED_BY(mutex);
/* The monotonic time of the last request that can wait, and the time
 * between it and the one before, in ns; 0 if unknown. */
static long long unwoken_last OVS_GUARDED_BY(mutex);
static long long unwoken_gap OVS_GUARDED_BY(mutex);

static bool
overlaps(const struct range *r, const char *p, size_t size)
{
    return r->size && r->p < p + size && p < r->p + r->size;
}

/* Reads one word of each page of the 'size' bytes at 'p', from user
 * space: the access that makes the host back the page.  Not instrumented:
 * the word may be written by the thread the object was handed to, and a
 * read that changes nothing is no race of the program's. */
static void __attribute__((no_sanitize_address, no_sanitize_thread))
touch(const char *p, size_t size)
{
    size_t page = get_page_size();

    for (size_t off = 0; off < size; off += page) {
        (void) *(const volatile char *) (p + off);
    }
}

/* Backs 'r', STEP bytes at a time. */
static void
back(const struct range *r)
{
    for (size_t off = 0; off < r->size; off += STEP) {
        size_t size = MIN(STEP, r->size - off);

#ifdef MADV_POPULATE_WRITE
        madvise(r->p + off, size, MADV_POPULATE_WRITE);
#endif
        touch(r->p + off, size);
    }
}

/* The time of 'clock', in ns. */
static long long
clock_ns(clockid_t clock)
{
    struct timespec ts;

    xclock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Waits on 'work_cond' until the monotonic clock reads 'until' ns at
 * most. */
static void
timed_wait(long long until)
    OVS_REQUIRES(mutex)
{
    struct timespec ts;
    int error;

    nsec_to_timespec(until, &ts);
    error = pthread_cond_timedwait(&work_cond, &mutex.lock, &ts);

    if (error && error != ETIMEDOUT) {
        ovs_abort(error, "pthread_cond_timedwait failed");
    }
}

/* Whether the process kept all but a quarter of a CPU of those it may run
 * on busy over the last CROWD_NS or more (looked at no more often; the
 * process's CPU time counts other threads' running time at the
 * scheduler's ticks, 4 ms apart here): then the backer does not linger,
 * whose looks would take their time from the threads that ask it for
 * pages, on a machine with no CPU to spare.  Measured, two packet threads
 * on the reference VM's two CPUs made 4-15% fewer TCP conns with the
 * backer lingering.  Only the backer's thread calls it. */
#define CROWD_NS (20 * 1000 * 1000LL)

static bool
cpus_crowded(long long now)
{
    static long long last_now, last_cpu;
    static bool crowded;
    static int n_cpus;

    if (!n_cpus) {
        n_cpus = MAX(count_cpu_cores(), 1);
    }
    if (now - last_now >= CROWD_NS) {
        long long cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);

        crowded = last_now && cpu - last_cpu > (now - last_now) * (n_cpus
                                                                   - 0.25);
        last_now = now;
        last_cpu = cpu;
    }
    return crowded;
}

/* Returns once there is a request: lingers, then sleeps (see
 * LINGER_MIN_NS). */
static void
wait_for_work(void)
    OVS_REQUIRES(mutex)
{
    long long idle_since = clock_ns(CLOCK_MONOTONIC);

    while (head == tail) {
        long long now = clock_ns(CLOCK_MONOTONIC);

        if (now - idle_since < CTDP_BACKER_LINGER_MAX_MS * 1000000LL
            && !cpus_crowded(now)) {
            lingering = true;
            timed_wait(now + MIN(MAX(unwoken_gap / 2, LINGER_MIN_NS),
                                 LINGER_MAX_NS));
        } else {
            lingering = false;
            ovs_mutex_cond_wait(&work_cond, &mutex);
            idle_since = clock_ns(CLOCK_MONOTONIC);
        }
    }
    lingering = false;
}

static void *
backer_main(void *aux OVS_UNUSED)
{
    /* This thread reads nothing that RCU protects. */
    ovsrcu_quiesce_start();
    /* Its timed waits end when asked, not up to 50 us later. */
    prctl(PR_SET_TIMERSLACK, 1000UL);
    ovs_mutex_lock(&mutex);
    for (;;) {
        struct range r;

        wait_for_work();
        r = busy = ring[head++ % RING];
        ovs_mutex_unlock(&mutex);
        back(&r);
        ovs_mutex_lock(&mutex);
        busy.size = 0;
        xpthread_cond_broadcast(&idle_cond);
    }
    return NULL;
}

void
ctdp_backer_request(void *p, size_t size, bool wake)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        pthread_condattr_t attr;

        /* timed_wait() counts on the monotonic clock. */
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        xpthread_cond_init(&work_cond, &attr);
        pthread_condattr_destroy(&attr);
        ovs_thread_create("ctdp_backer", backer_main, NULL);
        ovsthread_once_done(&once);
    }
    ovs_mutex_lock(&mutex);
    if (!wake) {
        long long now = clock_ns(CLOCK_MONOTONIC);

        unwoken_gap = unwoken_last ? now - unwoken_last : 0;
        unwoken_last = now;
    }
    if (tail - head < RING) {
        ring[tail++ % RING] = (struct range) { p, size };
        if (wake || !lingering) {
            xpthread_cond_signal(&work_cond);
        }
    }
    ovs_mutex_unlock(&mutex);
}

/* Makes sure that no byte of the 'size' bytes at 'p' is backed once this
 * returns: drops the requests that overlap them and waits for the one
 * being backed, if it does. */
void
ctdp_backer_forget(const void *p_, size_t size)
{
    const char *p = p_;

    ovs_mutex_lock(&mutex);
    for (unsigned int i = head; i != tail; i++) {
        struct range *r = &ring[i % RING];

        if (overlaps(r, p, size)) {
            r->size = 0;
        }
    }
    while (overlaps(&busy, p, size)) {
        ovs_mutex_cond_wait(&idle_cond, &mutex);
    }
    ovs_mutex_unlock(&mutex);
}

/* Waits until every request made before the call has been backed (for
 * tests and measurements). */
void
ctdp_backer_drain(void)
{
    ovs_mutex_lock(&mutex);
    while (head != tail || busy.size) {
        ovs_mutex_cond_wait(&idle_cond, &mutex);
    }
    ovs_mutex_unlock(&mutex);
}
