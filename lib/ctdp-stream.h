#ifndef CTDP_STREAM_H
#define CTDP_STREAM_H 1

/* Streams: command output too long, or too lasting, for one reply.
 *
 * Open vSwitch's unixctl answers each request with one reply that the
 * daemon builds in memory.  A dump of a million conns would make that reply
 * hundreds of megabytes, and an event monitor never ends at all.  A stream
 * keeps its producer in the daemon instead and hands its output out in
 * chunks of at most CTDP_STREAM_CHUNK bytes:
 *
 *   dpctl/dump-conntrack --stream [ARG...]    replies with an id, "ID\n"
 *   dpctl/stream-read ID                      "more\n" then a chunk, or
 *                                             "end\n" then the last chunk
 *                                             (the stream is then gone)
 *   dpctl/stream-close ID                     ends the stream early
 *
 * A read of a stream that has nothing to say yet (an event monitor in a
 * quiet moment) is answered as soon as output comes, or after
 * CTDP_STREAM_POLL_MS with an empty "more", so a client always hears from
 * a live daemon.  A stream that nobody reads for CTDP_STREAM_IDLE_MS is
 * closed, so a client that dies leaks nothing.  ctdp-dpctl does all of this
 * for its user; with ovs-appctl, the user calls the commands above.
 *
 * A producer is a class with two callbacks over its own state.  Streams
 * live on the daemon's main thread: every function here, and the
 * callbacks, run there only. */

#include <stdbool.h>
#include <stddef.h>
#include "unixctl.h"

struct ds;

#define CTDP_STREAM_CHUNK (64 * 1024)
#define CTDP_STREAM_POLL_MS 500
#define CTDP_STREAM_IDLE_MS 10000

enum ctdp_stream_status {
    CTDP_STREAM_MORE,           /* More output may follow. */
    CTDP_STREAM_END,            /* The output is complete. */
};

struct ctdp_stream_class {
    /* Appends output to 'out' until it holds about 'max' bytes or the
     * producer has nothing more for now, and says whether more may come.
     * Nothing appended with CTDP_STREAM_MORE means "nothing yet". */
    enum ctdp_stream_status (*read)(void *state, struct ds *out, size_t max);
    void (*destroy)(void *state);
};

/* Says whether a unixctl callback's arguments ('argc' and 'argv', argv[0]
 * being the command) start with "--stream", and if so steps past it: the
 * arguments proper are then (*argv)[1] to (*argv)[*argc - 1].  The array
 * itself, which unixctl owns, is not changed. */
bool ctdp_stream_requested(int *argc, const char ***argv);

/* Opens a stream over 'state', which it takes over, and replies to 'conn'
 * with the stream's id. */
void ctdp_stream_open(struct unixctl_conn *, const struct ctdp_stream_class *,
                      void *state);

/* dpctl/stream-read and dpctl/stream-close, listed in the command table
 * (ctdp-command.h), which registers them; 'aux' is unused. */
unixctl_cb_func ctdp_stream_cmd_read;
unixctl_cb_func ctdp_stream_cmd_close;

void ctdp_stream_run(void);
void ctdp_stream_wait(void);
/* Ends every stream, answering pending reads; call before the unixctl
 * server is destroyed.  New streams may be opened afterwards. */
void ctdp_stream_close_all(void);

#endif /* ctdp-stream.h */
