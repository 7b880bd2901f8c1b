/* Helpers: the kernel's helper hook (the seed's ipv4_helper()) and the
 * table of helpers that ct(commit,alg=NAME) may attach. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>
#include "util.h"

static const struct ctdp_helper *const helpers[] = {
    &ctdp_helper_ftp,
    &ctdp_helper_tftp,
};

const struct ctdp_helper *
ctdp_helper_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(helpers); i++) {
        if (!strcmp(helpers[i]->name, name)) {
            return helpers[i];
        }
    }
    return NULL;
}

/* Runs 'conn''s helper on one of its packets, going in direction 'dir',
 * whose headers 'parsed' describes.  Returns false if the packet must be
 * dropped.  The helper's state is under the conn's lock; expectations
 * take their own. */
bool
ctdp_helper_run(struct ctdp_ct *ct, struct ctdp_conn *conn,
                enum ctdp_ct_dir dir, struct dp_packet *pkt,
                const struct ctdp_parsed *parsed, long long now)
{
    uint16_t status = ctdp_conn_status(conn);
    struct ctdp_help_ctx ctx = {
        .ct = ct, .conn = conn, .pkt = pkt, .parsed = parsed, .dir = dir,
        .established = (dir == CTDP_DIR_REPLY
                        || status & CTDP_S_SEEN_REPLY),
        .now = now,
    };

    return ctdp_conn_ext(conn)->helper->help(&ctx);
}
