/* Streams of command output in chunks: see ctdp-stream.h for the
 * protocol. */
#include <config.h>
#include "ctdp-stream.h"

#include <string.h>
#include <time.h>
#include "ctdp-command.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "unixctl.h"
#include "util.h"

struct stream {
    struct hmap_node node;      /* In 'streams', by hash of 'id'. */
    unsigned int id;
    const struct ctdp_stream_class *class;
    void *state;
    struct unixctl_conn *reader;        /* A read waiting for output. */
    long long read_at;          /* stream_clock() of the last read. */
};

/* Real time in ms.  Not time_msec(): OVS's time/stop and time/warp, which
 * tests use on the tracker's clock, must not stop the streams' timers. */
static long long
stream_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Main thread only, as every unixctl callback. */
static struct hmap streams = HMAP_INITIALIZER(&streams);
static unsigned int next_id = 1;

bool
ctdp_stream_requested(int *argc, const char ***argv)
{
    if (*argc < 2 || strcmp((*argv)[1], "--stream")) {
        return false;
    }
    ++*argv;
    --*argc;
    return true;
}

void
ctdp_stream_open(struct unixctl_conn *conn,
                 const struct ctdp_stream_class *class, void *state)
{
    struct stream *s = xzalloc(sizeof *s);
    char reply[16];

    s->id = next_id++;
    s->class = class;
    s->state = state;
    s->read_at = stream_clock();
    hmap_insert(&streams, &s->node, hash_int(s->id, 0));
    snprintf(reply, sizeof reply, "%u\n", s->id);
    unixctl_command_reply(conn, reply);
}

static void
stream_destroy(struct stream *s)
{
    hmap_remove(&streams, &s->node);
    s->class->destroy(s->state);
    free(s);
}

/* Reads a chunk and answers 'conn' with it, or, if the producer has nothing
 * yet and 'may_wait', keeps 'conn' waiting ('read_at' is then when the
 * wait began).  Destroys 's' at its end. */
static void
stream_answer(struct stream *s, struct unixctl_conn *conn, bool may_wait)
{
    struct ds body = DS_EMPTY_INITIALIZER, reply = DS_EMPTY_INITIALIZER;
    enum ctdp_stream_status status;

    status = s->class->read(s->state, &body, CTDP_STREAM_CHUNK);
    if (status == CTDP_STREAM_MORE && !body.length && may_wait) {
        s->reader = conn;
        ds_destroy(&body);
        return;
    }
    ds_put_cstr(&reply, status == CTDP_STREAM_END ? "end\n" : "more\n");
    ds_put_buffer(&reply, body.string, body.length);
    ds_destroy(&body);
    s->reader = NULL;
    s->read_at = stream_clock();
    unixctl_command_reply(conn, ds_cstr(&reply));
    ds_destroy(&reply);
    if (status == CTDP_STREAM_END) {
        stream_destroy(s);
    }
}

/* Finds the stream named by 'arg', or replies with an error. */
static struct stream *
stream_find(struct unixctl_conn *conn, const char *arg)
{
    unsigned int id;
    struct stream *s;

    if (str_to_uint(arg, 10, &id)) {
        HMAP_FOR_EACH_WITH_HASH (s, node, hash_int(id, 0), &streams) {
            if (s->id == id) {
                if (!s->reader) {
                    return s;
                }
                ctdp_command_reply_error(conn, 0, "stream is being read "
                                         "by another request");
                return NULL;
            }
        }
    }
    ctdp_command_reply_error(conn, 0, "no stream %s", arg);
    return NULL;
}

void
ctdp_stream_cmd_read(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[], void *aux OVS_UNUSED)
{
    struct stream *s = stream_find(conn, argv[1]);

    if (s) {
        s->read_at = stream_clock();
        stream_answer(s, conn, true);
    }
}

void
ctdp_stream_cmd_close(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[], void *aux OVS_UNUSED)
{
    struct stream *s = stream_find(conn, argv[1]);

    if (s) {
        stream_destroy(s);
        unixctl_command_reply(conn, NULL);
    }
}

/* Answers waiting reads that have output or have waited long enough, and
 * closes streams that nobody reads. */
void
ctdp_stream_run(void)
{
    long long now = stream_clock();
    struct stream *s;

    HMAP_FOR_EACH_SAFE (s, node, &streams) {
        if (s->reader) {
            stream_answer(s, s->reader, now - s->read_at
                                        < CTDP_STREAM_POLL_MS);
        } else if (now - s->read_at >= CTDP_STREAM_IDLE_MS) {
            stream_destroy(s);
        }
    }
}

void
ctdp_stream_wait(void)
{
    long long now = stream_clock();
    struct stream *s;

    HMAP_FOR_EACH (s, node, &streams) {
        if (s->reader) {
            /* Producers have no way to wake the main thread; a waiting
             * read looks for output this often. */
            poll_timer_wait(20);
        } else {
            poll_timer_wait(s->read_at + CTDP_STREAM_IDLE_MS - now);
        }
    }
}

void
ctdp_stream_close_all(void)
{
    struct stream *s;

    HMAP_FOR_EACH_SAFE (s, node, &streams) {
        if (s->reader) {
            unixctl_command_reply(s->reader, "end\n");
        }
        stream_destroy(s);
    }
    /* Empty and usable again, not just freed: streams may open after. */
    hmap_destroy(&streams);
    hmap_init(&streams);
}
