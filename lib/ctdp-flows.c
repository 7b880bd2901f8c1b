#include <config.h>
#include "ctdp-flows.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctdp-ct.h"
#include "flow.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofpbuf.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

/* Bounds on what a flow file can make the daemon hold: a file of at most
 * CTDP_FLOWS_FILE_MAX bytes, lines of at most CTDP_FLOWS_LINE_MAX bytes
 * (without the newline).  A flow of OVS syntax needs far less. */
#define CTDP_FLOWS_FILE_MAX (64 * 1024 * 1024)
#define CTDP_FLOWS_LINE_MAX (64 * 1024)

void
ctdp_flows_init(struct ctdp_flows *flows)
{
    /* As Open vSwitch's tables: lookups in stages (metadata, L2, L3, L4)
     * and prefix tries on the IPv4 addresses, so that a lookup depends on
     * as few bits of the flow as it can, which keeps the datapath flow
     * cache's entries wide (ctdp-dpcache.h). */
    static const enum mf_field_id prefix_fields[] = {
        MFF_IPV4_DST, MFF_IPV4_SRC,
    };

    for (size_t i = 0; i < CTDP_N_TABLES; i++) {
        classifier_init(&flows->tables[i], flow_segment_u64s);
        classifier_set_prefix_fields(&flows->tables[i], prefix_fields,
                                     ARRAY_SIZE(prefix_fields));
    }
    atomic_init(&flows->version, OVS_VERSION_MIN);
    atomic_init(&flows->gen, 0);
    ovs_mutex_init(&flows->mutex);
}

static void
rule_free(struct ctdp_rule *rule)
{
    cls_rule_destroy(&rule->cr);
    free(rule->ofpacts);
    free(rule);
}

static ovs_version_t
current_version(const struct ctdp_flows *flows)
{
    ovs_version_t version;

    atomic_read_relaxed(&CONST_CAST(struct ctdp_flows *, flows)->version,
                        &version);
    return version;
}

/* Tells the datapath's flow caches that the rules changed.  The caller
 * holds the mutex and has made the change visible to lookups. */
static void
bump_gen(struct ctdp_flows *flows)
    OVS_REQUIRES(flows->mutex)
{
    uint64_t gen;

    atomic_read_relaxed(&flows->gen, &gen);
    atomic_store_explicit(&flows->gen, gen + 1, memory_order_release);
}

uint64_t
ctdp_flows_gen(const struct ctdp_flows *flows)
{
    uint64_t gen;

    atomic_read_explicit(&CONST_CAST(struct ctdp_flows *, flows)->gen, &gen,
                         memory_order_acquire);
    return gen;
}

/* Removes every rule.  No lookup may run any more. */
void
ctdp_flows_destroy(struct ctdp_flows *flows)
{
    for (size_t i = 0; i < CTDP_N_TABLES; i++) {
        struct classifier *cls = &flows->tables[i];
        struct ctdp_rule *rule;

        CLS_FOR_EACH (rule, cr, cls) {
            classifier_remove_assert(cls, &rule->cr);
            ovsrcu_postpone(rule_free, rule);
        }
        classifier_destroy(cls);
    }
    ovs_mutex_destroy(&flows->mutex);
}

/* ---- What the pipeline can execute ------------------------------------ */

/* Fields that set_field, load and move may write: the pipeline's own
 * metadata, never packet headers (ctdp does not rewrite packets yet). */
static bool
field_writable(const struct mf_field *field)
{
    return (field->id >= MFF_REG0 && field->id < MFF_REG0 + FLOW_N_REGS)
           || (field->id >= MFF_XREG0 && field->id < MFF_XREG0 + FLOW_N_XREGS)
           || (field->id >= MFF_XXREG0
               && field->id < MFF_XXREG0 + FLOW_N_XXREGS)
           || field->id == MFF_METADATA || field->id == MFF_PKT_MARK;
}

/* Fills 'r' from Open vSwitch's nat(...) action: a missing maximum is the
 * minimum, and no address is no address mapping. */
static void
nat_range_from_ofpact(const struct ofpact_nat *on, struct ctdp_nat_range *r)
{
    memset(r, 0, sizeof *r);
    r->flags = ((on->flags & NX_NAT_F_SRC ? CTDP_NAT_SRC : 0)
                | (on->flags & NX_NAT_F_DST ? CTDP_NAT_DST : 0)
                | (on->flags & NX_NAT_F_PERSISTENT ? CTDP_NAT_PERSISTENT : 0)
                | (on->flags & NX_NAT_F_PROTO_HASH ? CTDP_NAT_HASH : 0)
                | (on->flags & NX_NAT_F_PROTO_RANDOM ? CTDP_NAT_RANDOM : 0));
    if (on->range_af == AF_INET) {
        r->l3 = CTDP_L3_IPV4;
        r->min_addr.ip4 = on->range.addr.ipv4.min;
        r->max_addr.ip4 = (on->range.addr.ipv4.max
                           ? on->range.addr.ipv4.max
                           : on->range.addr.ipv4.min);
    } else if (on->range_af == AF_INET6) {
        r->l3 = CTDP_L3_IPV6;
        r->min_addr.ip6 = on->range.addr.ipv6.min;
        r->max_addr.ip6 = (ipv6_addr_is_set(&on->range.addr.ipv6.max)
                           ? on->range.addr.ipv6.max
                           : on->range.addr.ipv6.min);
    }
    if (on->range.proto.min) {
        r->flags |= CTDP_NAT_PORTS;
        r->min_port = on->range.proto.min;
        r->max_port = MAX(on->range.proto.max, on->range.proto.min);
    }
}

/* Fills 'a' with the tracker's form of the ct() action 'oc' for a packet
 * whose flow is 'flow' (which gives the zone, when 'oc' reads it from a
 * field).  'oc' is one that ctdp_flows_check_actions() accepts. */
void
ctdp_flows_ct_action(const struct ofpact_conntrack *oc,
                     const struct flow *flow, struct ctdp_ct_action *a)
{
    const struct ofpact *exec;

    memset(a, 0, sizeof *a);
    a->zone = oc->zone_src.field ? mf_get_subfield(&oc->zone_src, flow)
                                 : oc->zone_imm;
    a->commit = (oc->flags & NX_CT_F_COMMIT) != 0;
    /* Open vSwitch's parser takes only these two (str_to_connhelper()). */
    a->helper = (oc->alg == IPPORT_FTP ? "ftp"
                 : oc->alg == IPPORT_TFTP ? "tftp" : NULL);
    a->force = (oc->flags & NX_CT_F_FORCE) != 0;
    OFPACT_FOR_EACH (exec, oc->actions, ofpact_ct_get_action_len(oc)) {
        if (exec->type == OFPACT_NAT) {
            a->nat = true;
            nat_range_from_ofpact(ofpact_get_NAT(exec), &a->nat_range);
            continue;
        }

        const struct ofpact_set_field *sf = ofpact_get_SET_FIELD(exec);
        const union mf_value *mask = ofpact_set_field_mask(sf);

        if (sf->field->id == MFF_CT_MARK) {
            a->set_mark = true;
            a->mark = ntohl(sf->value->be32);
            a->mark_mask = ntohl(mask->be32);
        } else {
            a->set_label = true;
            a->label = ntoh128(sf->value->be128);
            a->label_mask = ntoh128(mask->be128);
        }
    }
}

/* Returns NULL if the pipeline can run the ct() action 'ct', or a message
 * saying why not.  Its exec(...) may hold only nat and set_field on ct_mark
 * or ct_label, which is what ctdp_flows_ct_action() translates; the
 * translation must then pass the tracker's own check,
 * ctdp_ct_action_check(), the one place where a ct() action is judged.  The
 * zone does not take part in that check, so a zone read from a field is
 * judged as zone 0. */
static char *
check_ct(const struct ofpact_conntrack *ct)
{
    struct ctdp_ct_action action;
    const struct ofpact *a;
    struct flow flow;
    const char *why;

    if (ct->zone_src.field && ct->zone_src.n_bits != 16) {
        /* As Open vSwitch's decoding of the action: a zone is 16 bits. */
        return xasprintf("ct: zone n_bits %d not within valid range "
                         "[16..16]", ct->zone_src.n_bits);
    }
    OFPACT_FOR_EACH (a, ct->actions, ofpact_ct_get_action_len(ct)) {
        if (a->type == OFPACT_NAT) {
            continue;           /* Translated and judged below. */
        }
        if (a->type != OFPACT_SET_FIELD) {
            return xasprintf("ct: exec(%s) is not supported",
                             ofpact_name(a->type));
        }
        const struct mf_field *f = ofpact_get_SET_FIELD(a)->field;
        if (f->id != MFF_CT_MARK && f->id != MFF_CT_LABEL) {
            return xasprintf("ct: exec may set only ct_mark and ct_label, "
                             "not %s", f->name);
        }
    }
    memset(&flow, 0, sizeof flow);
    ctdp_flows_ct_action(ct, &flow, &action);
    why = ctdp_ct_action_check(&action);
    return why ? xasprintf("ct: %s", why) : NULL;
}

/* Returns NULL if the pipeline can execute every action in 'ofpacts'
 * ('len' bytes), or a malloc'd message naming the first one it cannot.
 * Every flow is checked so before it is added. */
char *
ctdp_flows_check_actions(const struct ofpact *ofpacts, size_t len)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts, len) {
        switch (a->type) {
        case OFPACT_OUTPUT: {
            ofp_port_t port = ofpact_get_OUTPUT(a)->port;

            if (ofp_to_u16(port) >= ofp_to_u16(OFPP_MAX)
                && port != OFPP_IN_PORT) {
                char name[OFP_MAX_PORT_NAME_LEN];

                ofputil_port_to_string(port, NULL, name, sizeof name);
                return xasprintf("output:%s is not supported by ctdp "
                                 "(ports by number, or in_port)", name);
            }
            break;
        }
        case OFPACT_RESUBMIT:
            if (ofpact_get_RESUBMIT(a)->with_ct_orig) {
                return xstrdup("resubmit with ct is not supported by ctdp");
            }
            break;
        case OFPACT_GOTO_TABLE:
        case OFPACT_CT_CLEAR:
        case OFPACT_NOTE:
            break;
        case OFPACT_CT: {
            char *error = check_ct(ofpact_get_CT(a));
            if (error) {
                return error;
            }
            break;
        }
        case OFPACT_SET_FIELD:
            if (!field_writable(ofpact_get_SET_FIELD(a)->field)) {
                return xasprintf("set_field: ctdp does not rewrite %s",
                                 ofpact_get_SET_FIELD(a)->field->name);
            }
            break;
        case OFPACT_REG_MOVE:
            if (!field_writable(ofpact_get_REG_MOVE(a)->dst.field)) {
                return xasprintf("move: ctdp does not rewrite %s",
                                 ofpact_get_REG_MOVE(a)->dst.field->name);
            }
            break;
        default:
            return xasprintf("action %s is not supported by ctdp",
                             ofpact_name(a->type));
        }
    }
    return NULL;
}

/* Returns NULL if the pipeline can give every field 'mm' matches, or a
 * message naming what it cannot: tunnel metadata (ctdp has no tunnel
 * ports).  Such a flow would load and never match. */
static char *
check_match(const struct minimatch *mm)
{
    struct flow_tnl zero;
    struct match match;

    minimatch_expand(mm, &match);
    memset(&zero, 0, sizeof zero);
    if (memcmp(&match.wc.masks.tunnel, &zero, sizeof zero)) {
        return xstrdup("tunnel fields are not supported by ctdp (it has no "
                       "tunnel ports)");
    }
    return NULL;
}

/* ---- Adding rules ------------------------------------------------------ */

/* Parses 'str' into a new rule (not yet in a table). */
static char *
parse_rule(const char *str, struct ctdp_rule **rulep)
{
    enum ofputil_protocol usable;
    struct ofputil_flow_mod fm;
    struct ctdp_rule *rule;
    char *error;

    *rulep = NULL;
    error = parse_ofp_flow_mod_str(&fm, str, NULL, NULL, OFPFC_ADD, &usable);
    if (error) {
        return error;
    }
    error = check_match(&fm.match);
    if (!error) {
        error = ctdp_flows_check_actions(fm.ofpacts, fm.ofpacts_len);
    }
    if (error) {
        minimatch_destroy(&fm.match);
        free(fm.ofpacts);
        return error;
    }
    rule = xzalloc(sizeof *rule);
    cls_rule_init_from_minimatch(&rule->cr, &fm.match, fm.priority);
    rule->table_id = fm.table_id == 0xff ? 0 : fm.table_id;
    rule->cookie = fm.new_cookie == OVS_BE64_MAX ? 0 : fm.new_cookie;
    rule->created = time_msec();
    atomic_init(&rule->n_packets, 0);
    atomic_init(&rule->n_bytes, 0);
    rule->ofpacts = fm.ofpacts;
    rule->ofpacts_len = fm.ofpacts_len;
    minimatch_destroy(&fm.match);
    *rulep = rule;
    return NULL;
}

/* Puts 'rule' in its table, replacing a rule with the same match and
 * priority (as ovs-ofctl add-flow does).  The caller holds the mutex. */
static void
insert_rule(struct ctdp_flows *flows, struct ctdp_rule *rule)
    OVS_REQUIRES(flows->mutex)
{
    struct classifier *cls = &flows->tables[rule->table_id];
    ovs_version_t version = current_version(flows) + 1;
    const struct cls_rule *old;

    old = classifier_replace(cls, &rule->cr, version, NULL, 0);
    atomic_store_relaxed(&flows->version, version);
    bump_gen(flows);
    if (old) {
        ovsrcu_postpone(rule_free, CONTAINER_OF(old, struct ctdp_rule, cr));
    }
}

char *
ctdp_flows_add(struct ctdp_flows *flows, const char *str)
{
    struct ctdp_rule *rule;
    char *error = parse_rule(str, &rule);

    if (!error) {
        ovs_mutex_lock(&flows->mutex);
        insert_rule(flows, rule);
        ovs_mutex_unlock(&flows->mutex);
    }
    return error;
}

/* Adds the flows in 'text', one per line ('#' starts a comment).  All or
 * nothing: a line that does not parse is reported as ORIGIN:LINE and no
 * flow is added. */
char *
ctdp_flows_add_text(struct ctdp_flows *flows, const char *text,
                    const char *origin, size_t *n_added)
{
    struct ctdp_rule **rules = NULL;
    size_t n = 0, allocated = 0, line_no = 0;
    char *copy = xstrdup(text), *rest = copy, *error = NULL;

    /* strsep(), not strtok_r(): blank lines must count in line numbers. */
    for (char *line; (line = strsep(&rest, "\n")) != NULL;) {
        line_no++;
        if (strlen(line) > CTDP_FLOWS_LINE_MAX) {
            error = xasprintf("%s:%zu: line longer than %d KiB", origin,
                              line_no, CTDP_FLOWS_LINE_MAX / 1024);
            break;
        }
        line[strcspn(line, "#")] = '\0';
        if (line[strspn(line, " \t\r")] == '\0') {
            continue;
        }
        struct ctdp_rule *rule;
        char *why = parse_rule(line, &rule);
        if (why) {
            error = xasprintf("%s:%zu: %s", origin, line_no, why);
            free(why);
            break;
        }
        if (n == allocated) {
            rules = x2nrealloc(rules, &allocated, sizeof *rules);
        }
        rules[n++] = rule;
    }
    ovs_mutex_lock(&flows->mutex);
    for (size_t i = 0; i < n; i++) {
        if (error) {
            rule_free(rules[i]);
        } else {
            insert_rule(flows, rules[i]);
        }
    }
    ovs_mutex_unlock(&flows->mutex);
    *n_added = error ? 0 : n;
    free(rules);
    free(copy);
    return error;
}

/* Opens 'file' for reading, refusing anything but a regular file: it is
 * opened O_NONBLOCK, so that a FIFO cannot block the caller until someone
 * writes to it, then checked with fstat() before anything is read (a
 * device such as /dev/zero never ends). */
static char *
open_flow_file(const char *file, FILE **streamp)
{
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    char *error = NULL;

    *streamp = NULL;
    if (fd < 0) {
        return xasprintf("%s: %s", file, ovs_strerror(errno));
    }
    if (fstat(fd, &st)) {
        error = xasprintf("%s: %s", file, ovs_strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        error = xasprintf("%s: not a regular file", file);
    } else if (st.st_size > CTDP_FLOWS_FILE_MAX) {
        error = xasprintf("%s: larger than %d MiB", file,
                          CTDP_FLOWS_FILE_MAX / (1024 * 1024));
    } else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
               || !(*streamp = fdopen(fd, "r"))) {
        error = xasprintf("%s: %s", file, ovs_strerror(errno));
    }
    if (error) {
        close(fd);
    }
    return error;
}

/* Reads all of 'file' into 'text', at most CTDP_FLOWS_FILE_MAX bytes (the
 * file may grow after it was checked), refusing a NUL byte, which would
 * silently cut its line short. */
static char *
read_flow_file(const char *file, struct ds *text)
{
    char buf[65536];
    FILE *stream;
    char *error = open_flow_file(file, &stream);
    size_t n;

    if (error) {
        return error;
    }
    while (text->length <= CTDP_FLOWS_FILE_MAX
           && (n = fread(buf, 1, sizeof buf, stream)) > 0) {
        ds_put_buffer(text, buf, n);
    }
    if (ferror(stream)) {
        error = xasprintf("%s: %s", file, ovs_strerror(errno));
    } else if (text->length > CTDP_FLOWS_FILE_MAX) {
        error = xasprintf("%s: larger than %d MiB", file,
                          CTDP_FLOWS_FILE_MAX / (1024 * 1024));
    } else if (strlen(ds_cstr(text)) < text->length) {
        const char *nul = ds_cstr(text) + strlen(ds_cstr(text));
        size_t line_no = 1;

        for (const char *p = ds_cstr(text); p < nul; p++) {
            line_no += *p == '\n';
        }
        error = xasprintf("%s:%zu: NUL byte in a text file", file, line_no);
    }
    fclose(stream);
    return error;
}

/* Adds the flows of 'file' as ctdp_flows_add_text() does.  'file' must be
 * a regular file of at most 64 MiB, with lines of at most 64 KiB. */
char *
ctdp_flows_add_file(struct ctdp_flows *flows, const char *file,
                    size_t *n_added)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    char *error;

    *n_added = 0;
    error = read_flow_file(file, &text);
    if (!error) {
        error = ctdp_flows_add_text(flows, ds_cstr(&text), file, n_added);
    }
    ds_destroy(&text);
    return error;
}

/* ---- Deleting, dumping, looking up ------------------------------------ */

/* Deletes the flows that 'match_str' matches loosely (as ovs-ofctl
 * del-flows: every flow whose match is at least as specific), in the table
 * it names or in all; NULL or "" deletes every flow. */
char *
ctdp_flows_del(struct ctdp_flows *flows, const char *match_str,
               size_t *n_deleted)
{
    enum ofputil_protocol usable;
    struct ofputil_flow_mod fm;
    char *error;

    *n_deleted = 0;
    error = parse_ofp_flow_mod_str(&fm, match_str ? match_str : "", NULL,
                                   NULL, OFPFC_DELETE, &usable);
    if (error) {
        return error;
    }
    ovs_mutex_lock(&flows->mutex);
    for (size_t t = 0; t < CTDP_N_TABLES; t++) {
        struct classifier *cls = &flows->tables[t];
        struct ctdp_rule *rule;

        if (fm.table_id != 0xff && fm.table_id != t) {
            continue;
        }
        CLS_FOR_EACH (rule, cr, cls) {
            if (cls_rule_is_loose_match(&rule->cr, &fm.match)) {
                classifier_remove_assert(cls, &rule->cr);
                ovsrcu_postpone(rule_free, rule);
                ++*n_deleted;
            }
        }
    }
    if (*n_deleted) {
        bump_gen(flows);
    }
    ovs_mutex_unlock(&flows->mutex);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    return NULL;
}

static int
compare_rules(const void *a_, const void *b_)
{
    const struct ctdp_rule *a = *(const struct ctdp_rule *const *) a_;
    const struct ctdp_rule *b = *(const struct ctdp_rule *const *) b_;

    if (a->table_id != b->table_id) {
        return a->table_id < b->table_id ? -1 : 1;
    }
    return a->cr.priority > b->cr.priority ? -1
           : a->cr.priority < b->cr.priority;
}

static void
format_rule(const struct ctdp_rule *rule, long long now, struct ds *s)
{
    struct ofputil_flow_stats fs;
    long long age = now - rule->created;

    memset(&fs, 0, sizeof fs);
    minimatch_expand(&rule->cr.match, &fs.match);
    fs.cookie = rule->cookie;
    fs.table_id = rule->table_id;
    fs.priority = rule->cr.priority;
    fs.duration_sec = age / 1000;
    fs.duration_nsec = (age % 1000) * 1000000;
    fs.idle_age = fs.hard_age = -1;
    atomic_read_relaxed(&CONST_CAST(struct ctdp_rule *, rule)->n_packets,
                        &fs.packet_count);
    atomic_read_relaxed(&CONST_CAST(struct ctdp_rule *, rule)->n_bytes,
                        &fs.byte_count);
    fs.ofpacts = rule->ofpacts;
    fs.ofpacts_len = rule->ofpacts_len;
    ofputil_flow_stats_format(s, &fs, NULL, NULL, true);
    ds_put_char(s, '\n');
}

/* Prints the flows of 'table' (< 0: every table) as ovs-ofctl dump-flows
 * does, by table and then priority, highest first. */
void
ctdp_flows_dump(struct ctdp_flows *flows, int table, struct ds *s)
{
    struct ctdp_rule **rules = NULL;
    size_t n = 0, allocated = 0;
    long long now = time_msec();

    ovs_mutex_lock(&flows->mutex);
    for (size_t t = 0; t < CTDP_N_TABLES; t++) {
        struct ctdp_rule *rule;

        if (table >= 0 && t != table) {
            continue;
        }
        CLS_FOR_EACH (rule, cr, &flows->tables[t]) {
            if (n == allocated) {
                rules = x2nrealloc(rules, &allocated, sizeof *rules);
            }
            rules[n++] = rule;
        }
    }
    if (n) {
        qsort(rules, n, sizeof *rules, compare_rules);
    }
    for (size_t i = 0; i < n; i++) {
        format_rule(rules[i], now, s);
    }
    ovs_mutex_unlock(&flows->mutex);
    free(rules);
}

size_t
ctdp_flows_count(struct ctdp_flows *flows)
{
    size_t n = 0;

    for (size_t t = 0; t < CTDP_N_TABLES; t++) {
        n += classifier_count(&flows->tables[t]);
    }
    return n;
}

const struct ctdp_rule *
ctdp_flows_lookup(const struct ctdp_flows *flows, uint8_t table,
                  struct flow *flow, struct flow_wildcards *wc)
{
    const struct cls_rule *cr;

    if (table >= CTDP_N_TABLES) {
        return NULL;
    }
    cr = classifier_lookup(&flows->tables[table], current_version(flows),
                           flow, wc);
    return cr ? CONTAINER_OF(cr, struct ctdp_rule, cr) : NULL;
}

void
ctdp_rule_account(const struct ctdp_rule *rule_, uint64_t packets,
                  uint64_t bytes)
{
    struct ctdp_rule *rule = CONST_CAST(struct ctdp_rule *, rule_);
    uint64_t old;

    atomic_add_relaxed(&rule->n_packets, packets, &old);
    atomic_add_relaxed(&rule->n_bytes, bytes, &old);
}
