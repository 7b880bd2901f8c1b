#include <config.h>
#include "ctdp-port.h"

#include <errno.h>
#include <string.h>
#include "dp-packet.h"
#include "netdev.h"
#include "openvswitch/ofp-port.h"
#include "util.h"

static const char *const port_types[] = { "system", "tap", "dummy" };

static bool
type_supported(const char *type)
{
    for (size_t i = 0; i < ARRAY_SIZE(port_types); i++) {
        if (!strcmp(type, port_types[i])) {
            return true;
        }
    }
    return false;
}

/* Reads "KEY=VALUE[,KEY=VALUE...]" into 'spec': "ofport" for the datapath,
 * the rest for the netdev. */
static char *
parse_options(char *s, struct ctdp_port_spec *spec)
{
    char *save = NULL;

    for (char *kv = strtok_r(s, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *value = strchr(kv, '=');

        if (!value || value == kv) {
            return xasprintf("bad port option '%s' (want KEY=VALUE)", kv);
        }
        *value++ = '\0';
        if (!strcmp(kv, "ofport")) {
            unsigned int n;

            if (!str_to_uint(value, 10, &n) || n < 1 || n >= ofp_to_u16(OFPP_MAX)) {
                return xasprintf("bad ofport '%s' (want 1 to %d)", value,
                                 ofp_to_u16(OFPP_MAX) - 1);
            }
            spec->ofport = u16_to_ofp(n);
        } else if (!smap_add_once(&spec->options, kv, value)) {
            return xasprintf("port option '%s' given twice", kv);
        }
    }
    return NULL;
}

/* Parses 'spec_' ("NAME=TYPE[:OPTIONS]") into 'spec'.  Returns NULL, or a
 * malloc'd message, in which case 'spec' holds nothing to destroy. */
char *
ctdp_port_parse(const char *spec_, struct ctdp_port_spec *spec)
{
    char *s = xstrdup(spec_), *type, *options, *error = NULL;

    memset(spec, 0, sizeof *spec);
    smap_init(&spec->options);
    spec->ofport = OFPP_NONE;
    type = strchr(s, '=');
    if (!type || type == s || !type[1]) {
        error = xasprintf("bad port '%s' (want NAME=TYPE[:OPTIONS])", spec_);
        goto out;
    }
    *type++ = '\0';
    options = strchr(type, ':');
    if (options) {
        *options++ = '\0';
    }
    if (!type_supported(type)) {
        error = xasprintf("port '%s': unknown type '%s' (system, tap or "
                          "dummy)", s, type);
        goto out;
    }
    spec->name = xstrdup(s);
    spec->type = xstrdup(type);
    if (options) {
        error = parse_options(options, spec);
    }
out:
    free(s);
    if (error) {
        ctdp_port_spec_destroy(spec);
    }
    return error;
}

void
ctdp_port_spec_destroy(struct ctdp_port_spec *spec)
{
    free(spec->name);
    free(spec->type);
    smap_destroy(&spec->options);
    spec->name = spec->type = NULL;
}

/* Opens the netdev of 'spec' as port 'ofport'. */
char *
ctdp_port_open(const struct ctdp_port_spec *spec, ofp_port_t ofport,
               struct ctdp_port **portp)
{
    struct ctdp_port *port = xzalloc(sizeof *port);
    char *error = NULL;
    int err;

    port->name = xstrdup(spec->name);
    port->type = xstrdup(spec->type);
    port->ofport = ofport;
    err = netdev_open(spec->name, spec->type, &port->netdev);
    if (err) {
        error = xasprintf("port %s: cannot open %s device: %s", spec->name,
                          spec->type, ovs_strerror(err));
        goto fail;
    }
    err = netdev_set_config(port->netdev, &spec->options, &error);
    if (err) {
        char *why = error;

        error = xasprintf("port %s: bad options: %s", spec->name,
                          why ? why : ovs_strerror(err));
        free(why);
        goto fail;
    }
    err = netdev_rxq_open(port->netdev, &port->rxq, 0);
    if (err) {
        error = xasprintf("port %s: cannot receive: %s", spec->name,
                          ovs_strerror(err));
        goto fail;
    }
    *portp = port;
    return NULL;

fail:
    ctdp_port_close(port);
    *portp = NULL;
    return error;
}

void
ctdp_port_close(struct ctdp_port *port)
{
    if (port) {
        netdev_rxq_close(port->rxq);
        netdev_close(port->netdev);
        free(port->name);
        free(port->type);
        free(port);
    }
}

/* Sends 'batch' on 'port' and empties it (the netdev takes the packets). */
void
ctdp_port_send(struct ctdp_port *port, struct dp_packet_batch *batch)
{
    if (!dp_packet_batch_is_empty(batch)) {
        netdev_send(port->netdev, 0, batch, true);
        dp_packet_batch_init(batch);
    }
}
