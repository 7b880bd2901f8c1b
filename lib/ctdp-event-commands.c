/* ct-events (and its alias monitor-conntrack): the tracker's events as a
 * stream (ctdp-stream.h), printed as `conntrack -E` prints them.
 *
 * Each stream listens with a queue of its own (ctdp_ct_listen()); the
 * datapath never waits for it.  Events that found the queue full are
 * reported in the stream as a WARNING line with their number, as
 * conntrack -E warns when its socket buffer overflows. */
#include <config.h>
#include "ctdp-event-commands.h"

#include <string.h>
#include "ctdp-ct.h"
#include "ctdp-ct-format.h"
#include "ctdp-command.h"
#include "ctdp-dp.h"
#include "ctdp-stream.h"
#include "openvswitch/dynamic-string.h"
#include "unixctl.h"
#include "util.h"

/* Events a listener holds between two reads: at 500 ms between reads,
 * some 16,000 conn changes per second before any is lost. */
#define EVENTS_QUEUE 8192

static enum ctdp_stream_status
events_read(void *l_, struct ds *out, size_t max)
{
    struct ctdp_ct_listener *l = l_;
    struct ctdp_ct_event ev[64];
    uint64_t lost = 0;
    size_t n;

    do {
        n = ctdp_ct_listener_poll(l, ev, ARRAY_SIZE(ev), &lost);
        for (size_t i = 0; i < n; i++) {
            ctdp_ct_format_event(out, &ev[i]);
            ds_put_char(out, '\n');
        }
    } while (n == ARRAY_SIZE(ev) && out->length < max);
    if (lost) {
        ds_put_format(out, "WARNING: %"PRIu64" events lost: the reader "
                      "was too slow (queue of %d events)\n", lost,
                      EVENTS_QUEUE);
    }
    return CTDP_STREAM_MORE;
}

static void
events_destroy(void *l)
{
    ctdp_ct_unlisten(l);
}

static const struct ctdp_stream_class events_class = {
    .read = events_read,
    .destroy = events_destroy,
};

/* dpctl/ct-events [--stream] [--zone=N] [--expect]: only as a stream,
 * since it never ends; with --expect, the expectations' events, as
 * `conntrack -E expect`. */
void
ctdp_event_cmd_events(struct unixctl_conn *conn, int argc, const char *argv[],
                      void *dp)
{
    bool stream = ctdp_stream_requested(&argc, &argv);
    struct ctdp_ct_listener *l;
    bool expect = false;
    unsigned int zone;
    int z = -1;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect")) {
            expect = true;
        } else if (strncmp(argv[i], "--zone=", 7)
                   || !str_to_uint(argv[i] + 7, 10, &zone)
                   || zone > UINT16_MAX) {
            ctdp_command_reply_error(conn, 0, "invalid argument %s (want "
                                     "--zone=N with N from 0 to 65535, or "
                                     "--expect)", argv[i]);
            return;
        } else {
            z = zone;
        }
    }
    if (!stream) {
        ctdp_command_reply_error(conn, 0, "ct-events never ends: use "
                                 "ctdp-dpctl ct-events, or --stream and "
                                 "dpctl/stream-read");
        return;
    }
    l = (expect ? ctdp_ct_listen_expect : ctdp_ct_listen)(ctdp_dp_ct(dp),
                                                          EVENTS_QUEUE, z);
    if (!l) {
        ctdp_command_reply_error(conn, 0, "too many event listeners (at "
                                 "most %d): stop one first",
                                 CTDP_CT_MAX_LISTENERS);
        return;
    }
    ctdp_stream_open(conn, &events_class, l);
}
