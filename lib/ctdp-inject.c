#include <config.h>
#include "ctdp-inject.h"

#include <string.h>

#include "dp-packet.h"
#include "flow.h"
#include "odp-util.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "util.h"

char *
ctdp_inject_parse(const char *text, struct dp_packet **pktp)
{
    struct dp_packet *pkt = dp_packet_new(0);
    struct ofpbuf key;
    const char *end;
    struct flow flow;
    char *why = NULL;

    if (!text[strspn(text, " \t\n")]) {
        dp_packet_delete(pkt);
        return xstrdup("bad packet: empty");
    }
    end = dp_packet_put_hex(pkt, text, NULL);
    if (*end == '\0' && dp_packet_size(pkt) >= ETH_HEADER_LEN) {
        *pktp = pkt;
        return NULL;
    }
    dp_packet_delete(pkt);
    ofpbuf_init(&key, 0);
    if (odp_flow_from_string(text, NULL, &key, NULL, &why)
        || odp_flow_key_to_flow(key.data, key.size, &flow, &why)
           == ODP_FIT_ERROR) {
        char *error = xasprintf("bad packet: not a frame in hex (at least "
                                "%d bytes), nor a datapath flow (%s)",
                                ETH_HEADER_LEN, why ? why : "unparsable");

        free(why);
        ofpbuf_uninit(&key);
        return error;
    }
    ofpbuf_uninit(&key);
    pkt = dp_packet_new(0);
    flow_compose(pkt, &flow, NULL, 64);
    *pktp = pkt;
    return NULL;
}
