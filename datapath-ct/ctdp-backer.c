/* The backer (ctdp-backer.h). */
#include <config.h>
#include "ctdp-backer.h"

#include <sys/mman.h>
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "util.h"

/* Requests that wait at most; more are dropped (a request is a hint). */
#define RING 256

/* Bytes backed at once.  Backing 256 KiB in one madvise() lengthened the
 * tail of new conns' batches, in steps of 64 KiB it did not
 * (docs/BENCHMARKS.md); most likely because a populate holds the mmap
 * lock for reading while it runs, and a writer waiting for it (an unmap
 * from another thread) makes every page fault wait behind both. */
#define STEP (64u << 10)

struct range {
    char *p;
    size_t size;
};

static struct ovs_mutex mutex = OVS_MUTEX_INITIALIZER;
static pthread_cond_t work_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static struct range ring[RING] OVS_GUARDED_BY(mutex);
static unsigned int head OVS_GUARDED_BY(mutex);  /* Next to take. */
static unsigned int tail OVS_GUARDED_BY(mutex);  /* Next to fill. */
static struct range busy OVS_GUARDED_BY(mutex);  /* Being backed now. */

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

static void *
backer_main(void *aux OVS_UNUSED)
{
    /* This thread reads nothing that RCU protects. */
    ovsrcu_quiesce_start();
    ovs_mutex_lock(&mutex);
    for (;;) {
        struct range r;

        while (head == tail) {
            ovs_mutex_cond_wait(&work_cond, &mutex);
        }
        r = busy = ring[head++ % RING];
        ovs_mutex_unlock(&mutex);
        back(&r);
        ovs_mutex_lock(&mutex);
        busy.size = 0;
        xpthread_cond_broadcast(&idle_cond);
    }
    return NULL;
}

/* Asks the backer to back the pages of 'size' bytes at 'p' (page
 * aligned).  Returns at once. */
void
ctdp_backer_request(void *p, size_t size)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        ovs_thread_create("ctdp_backer", backer_main, NULL);
        ovsthread_once_done(&once);
    }
    ovs_mutex_lock(&mutex);
    if (tail - head < RING) {
        ring[tail++ % RING] = (struct range) { p, size };
        xpthread_cond_signal(&work_cond);
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
