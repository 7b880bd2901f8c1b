#ifndef CTDP_BACKER_H
#define CTDP_BACKER_H 1

/* The backer: backs the pool's and the table's pages with memory from a
 * thread of its own, ahead of the inserts that will write them.
 *
 * Why a thread: on the reference VM the first user access to a page costs
 * about 5 us even after madvise(MADV_POPULATE_WRITE) has faulted it in
 * (0.5-0.8 us): the host backs the page at that access, not at the
 * guest's fault.  A thread that populates a range and then reads one word
 * of each of its pages takes both costs off the packet path, on a CPU the
 * packet threads leave idle.
 *
 * A request is a hint: when the backer is behind, the pages fault in at
 * their first use, as without it.  A range must stay mapped while it may
 * be backed: whoever unmaps one calls ctdp_backer_forget() first.
 *
 * Thread safety: every call may be made from any thread at once. */

#include <stdbool.h>
#include <stddef.h>

/* How long the backer lingers after its last request (see
 * ctdp_backer_request()). */
#define CTDP_BACKER_LINGER_MAX_MS 10

/* Asks the backer to back the pages of 'size' bytes at 'p' (page
 * aligned).  Returns at once.  Unless 'wake', a backer that lingers is
 * left to find the request, up to half the time since the previous such
 * request later (within bounds that ctdp-backer.c sets): for requests
 * made at a steady pace, each for pages needed a step later. */
void ctdp_backer_request(void *, size_t size, bool wake);
void ctdp_backer_forget(const void *, size_t size);
void ctdp_backer_drain(void);

#endif /* ctdp-backer.h */
