#include <config.h>
#include "ctdp-replay.h"

#include <string.h>
#include "ctdp-pcap.h"
#include "flow.h"
#include "util.h"

struct replay_input {
    ofp_port_t ofport;
    struct ctdp_pcap_reader *reader;
};

struct ctdp_replay {
    struct replay_input *inputs;    /* Sorted by 'ofport'. */
    size_t n, allocated;
};

struct ctdp_replay *
ctdp_replay_create(void)
{
    return xzalloc(sizeof(struct ctdp_replay));
}

void
ctdp_replay_destroy(struct ctdp_replay *r)
{
    if (r) {
        free(r->inputs);
        free(r);
    }
}

/* Adds 'reader' as the input of port 'ofport', which must not have one
 * yet. */
void
ctdp_replay_add(struct ctdp_replay *r, ofp_port_t ofport,
                struct ctdp_pcap_reader *reader)
{
    size_t i;

    if (r->n >= r->allocated) {
        r->inputs = x2nrealloc(r->inputs, &r->allocated, sizeof *r->inputs);
    }
    for (i = r->n; i > 0 && ofp_to_u16(r->inputs[i - 1].ofport)
                            > ofp_to_u16(ofport); i--) {
        r->inputs[i] = r->inputs[i - 1];
    }
    r->inputs[i].ofport = ofport;
    r->inputs[i].reader = reader;
    r->n++;
}

/* Forgets the input of port 'ofport', if it has one. */
void
ctdp_replay_remove(struct ctdp_replay *r, ofp_port_t ofport)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->inputs[i].ofport == ofport) {
            r->n--;
            memmove(&r->inputs[i], &r->inputs[i + 1],
                    (r->n - i) * sizeof *r->inputs);
            return;
        }
    }
}

size_t
ctdp_replay_n_inputs(const struct ctdp_replay *r)
{
    return r->n;
}

/* Returns the input whose next packet comes first, or NULL.  Scanning in
 * port order and replacing only on a strictly earlier timestamp gives ties
 * to the lower port number. */
static struct replay_input *
first_input(const struct ctdp_replay *r)
{
    struct replay_input *first = NULL;
    long long first_usec = 0;

    for (size_t i = 0; i < r->n; i++) {
        long long usec;

        if (ctdp_pcap_reader_peek(r->inputs[i].reader, &usec)
            && (!first || usec < first_usec)) {
            first = &r->inputs[i];
            first_usec = usec;
        }
    }
    return first;
}

bool
ctdp_replay_has_input(const struct ctdp_replay *r)
{
    return first_input(r) != NULL;
}

struct dp_packet *
ctdp_replay_next(struct ctdp_replay *r, ofp_port_t *in_port, long long *usec)
{
    struct replay_input *in = first_input(r);

    if (!in) {
        return NULL;
    }
    *in_port = in->ofport;
    return ctdp_pcap_reader_next(in->reader, usec);
}
