/* The SCTP tracker (the kernel's nf_conntrack_proto_sctp.c).
 *
 * An association is tracked by its ports and moved through a state table
 * by its control chunks, one chunk at a time, in both directions.  Every
 * packet's chunks are checked first: none of zero length, INIT, INIT ACK
 * and SHUTDOWN COMPLETE alone in their packet, COOKIE ECHO and COOKIE ACK
 * first.  The verification tags of both directions are learnt from INIT
 * and INIT ACK, and every packet must carry its direction's, but for the
 * chunks RFC 4960 section 8.5.1 exempts (ABORT and SHUTDOWN COMPLETE
 * carry either end's by their T bit).  A conn is ASSURED when it reaches
 * ESTABLISHED; each state has its own timeout (nf_conntrack_sctp_timeout_*).
 * A HEARTBEAT can open a conn of its own ("secondary path" of a multi-homed
 * association) whose tags are learnt from the heartbeat and its answer.
 *
 * The CRC32c checksum is checked when the tuple is read (ctdp-tuple.c),
 * with ctdp_sctp_csum(), which NAT also uses to rewrite it. */
#include <config.h>
#include "ctdp-ct-private.h"

#include <string.h>

enum sctp_state {
    sNO, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS,
    sIV = 10,                   /* Invalid: the kernel's SCTP_CONNTRACK_MAX
                                 * (9, HEARTBEAT_ACKED, is not used). */
};

static const char *const sctp_state_names[] = {
    [sNO] = "NONE", [sCL] = "CLOSED", [sCW] = "COOKIE_WAIT",
    [sCE] = "COOKIE_ECHOED", [sES] = "ESTABLISHED",
    [sSS] = "SHUTDOWN_SENT", [sSR] = "SHUTDOWN_RECD",
    [sSA] = "SHUTDOWN_ACK_SENT", [sHS] = "HEARTBEAT_SENT",
};

static const enum ctdp_timeout_slot sctp_state_slot[] = {
    [sNO] = CTDP_TM_SCTP_CLOSED,
    [sCL] = CTDP_TM_SCTP_CLOSED,
    [sCW] = CTDP_TM_SCTP_COOKIE_WAIT,
    [sCE] = CTDP_TM_SCTP_COOKIE_ECHOED,
    [sES] = CTDP_TM_SCTP_ESTABLISHED,
    [sSS] = CTDP_TM_SCTP_SHUTDOWN_SENT,
    [sSR] = CTDP_TM_SCTP_SHUTDOWN_RECD,
    [sSA] = CTDP_TM_SCTP_SHUTDOWN_ACK_SENT,
    [sHS] = CTDP_TM_SCTP_HEARTBEAT_SENT,
};

/* Chunk types (RFC 9260). */
enum {
    C_DATA = 0, C_INIT = 1, C_INIT_ACK = 2, C_HEARTBEAT = 4,
    C_HEARTBEAT_ACK = 5, C_ABORT = 6, C_SHUTDOWN = 7, C_SHUTDOWN_ACK = 8,
    C_ERROR = 9, C_COOKIE_ECHO = 10, C_COOKIE_ACK = 11,
    C_SHUTDOWN_COMPLETE = 14,
};
#define CHUNK_FLAG_T 0x01       /* ABORT, SHUTDOWN COMPLETE: the tag is
                                 * the sender's own, not the peer's. */
#define SCTP_HEADER_LEN 12
#define CHUNK_HEADER_LEN 4
#define INIT_HEADER_LEN 16      /* After the chunk header. */

/* The rows of the state table, by chunk type; -1: the chunk (DATA, SACK,
 * ...) leaves the state as it is. */
static int
chunk_row(uint8_t type)
{
    switch (type) {
    case C_INIT: return 0;
    case C_INIT_ACK: return 1;
    case C_ABORT: return 2;
    case C_SHUTDOWN: return 3;
    case C_SHUTDOWN_ACK: return 4;
    case C_ERROR: return 5;
    case C_COOKIE_ECHO: return 6;
    case C_COOKIE_ACK: return 7;
    case C_SHUTDOWN_COMPLETE: return 8;
    case C_HEARTBEAT: return 9;
    case C_HEARTBEAT_ACK: return 10;
    default: return -1;
    }
}

/* The state after a chunk, by direction, row (chunk_row()) and current
 * state: the kernel's table. */
static const uint8_t sctp_conntracks[2][11][9] = {
    {
/* Original:          sNO  sCL  sCW  sCE  sES  sSS  sSR  sSA  sHS */
/* init          */ { sCL, sCL, sCW, sCE, sES, sCL, sCL, sSA, sCW },
/* init_ack      */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sCL },
/* abort         */ { sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/* shutdown      */ { sCL, sCL, sCW, sCE, sSS, sSS, sSR, sSA, sCL },
/* shutdown_ack  */ { sSA, sCL, sCW, sCE, sES, sSA, sSA, sSA, sSA },
/* error         */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sCL },
/* cookie_echo   */ { sCL, sCL, sCE, sCE, sES, sSS, sSR, sSA, sCL },
/* cookie_ack    */ { sCL, sCL, sCW, sES, sES, sSS, sSR, sSA, sCL },
/* shutdown_comp */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sCL, sCL },
/* heartbeat     */ { sHS, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS },
/* heartbeat_ack */ { sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS },
    },
    {
/* Reply:             sNO  sCL  sCW  sCE  sES  sSS  sSR  sSA  sHS */
/* init          */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sIV },
/* init_ack      */ { sIV, sCW, sCW, sCE, sES, sSS, sSR, sSA, sIV },
/* abort         */ { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sIV },
/* shutdown      */ { sIV, sCL, sCW, sCE, sSR, sSS, sSR, sSA, sIV },
/* shutdown_ack  */ { sIV, sCL, sCW, sCE, sES, sSA, sSA, sSA, sIV },
/* error         */ { sIV, sCL, sCW, sCL, sES, sSS, sSR, sSA, sIV },
/* cookie_echo   */ { sIV, sCL, sCE, sCE, sES, sSS, sSR, sSA, sIV },
/* cookie_ack    */ { sIV, sCL, sCW, sES, sES, sSS, sSR, sSA, sIV },
/* shutdown_comp */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sCL, sIV },
/* heartbeat     */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS },
/* heartbeat_ack */ { sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sES },
    },
};

static enum sctp_state
next_state(enum ctdp_ct_dir dir, enum sctp_state state, uint8_t type)
{
    int row = chunk_row(type);

    return row < 0 ? state : sctp_conntracks[dir][row][state];
}

/* The conn's protocol tail; its state is conn->l4_state. */
struct sctp_conn {
    ovs_be32 vtag[2];           /* Verification tag expected, by
                                 * direction (0: not learnt). */
    uint8_t init[2];            /* An INIT was seen from that direction. */
    uint8_t last_dir;           /* Of the heartbeat whose tag failed. */
    uint8_t flags;              /* SCTP_HEARTBEAT_VTAG_FAILED. */
};
#define SCTP_HEARTBEAT_VTAG_FAILED 1

static struct sctp_conn *
sctp_of(const struct ctdp_conn *conn)
{
    return (struct sctp_conn *) CONST_CAST(uint8_t *, conn->l4);
}

/* ---- Chunks ------------------------------------------------------------ */

struct chunk {
    uint8_t type, flags;
    uint16_t len;
    size_t ofs;                 /* From the SCTP header. */
};

/* Steps to the chunk at '*ofs' of the 'size' bytes of 'l4' and past it,
 * as the kernel's for_each_sctp_chunk(): false when no whole chunk
 * header is left. */
static bool
next_chunk(const uint8_t *l4, size_t size, size_t *ofs, struct chunk *c)
{
    if (*ofs + CHUNK_HEADER_LEN > size) {
        return false;
    }
    c->ofs = *ofs;
    c->type = l4[*ofs];
    c->flags = l4[*ofs + 1];
    c->len = (l4[*ofs + 2] << 8) | l4[*ofs + 3];
    *ofs += (c->len + 3u) & ~3u;
    return true;
}

#define FOR_EACH_CHUNK(C, OFS, L4, SIZE)                        \
    for ((OFS) = SCTP_HEADER_LEN; next_chunk(L4, SIZE, &(OFS), &(C)); )

/* Which chunk types a packet holds: a 256-bit set. */
struct chunk_map {
    uint64_t bits[4];
};

static bool
map_has(const struct chunk_map *map, uint8_t type)
{
    return map->bits[type / 64] >> (type % 64) & 1;
}

/* Checks the chunks of a packet as the kernel's do_basic_checks(), and
 * fills 'map'.  False if the packet is invalid. */
static bool
basic_checks(const struct ctdp_l4_ctx *ctx, const uint8_t *l4, size_t size,
             struct chunk_map *map)
{
    unsigned int count = 0;
    bool alone = false;
    struct chunk c;
    size_t ofs;

    memset(map, 0, sizeof *map);
    FOR_EACH_CHUNK (c, ofs, l4, size) {
        if (c.type == C_INIT || c.type == C_INIT_ACK
            || c.type == C_SHUTDOWN_COMPLETE) {
            alone = true;
        }
        if (((c.type == C_COOKIE_ACK || c.type == C_COOKIE_ECHO || alone)
             && count) || !c.len) {
            ctdp_l4_why(ctx, "do_basic_checks failed. chunk num %u, type %u,"
                        " len %u flag %d", count, c.type, c.len, alone);
            return false;
        }
        map->bits[c.type / 64] |= UINT64_C(1) << (c.type % 64);
        count++;
    }
    if (!count) {
        ctdp_l4_why(ctx, "do_basic_checks failed: no chunk");
    }
    return count > 0;
}

static ovs_be32
get_tag(const uint8_t *p)
{
    ovs_be32 tag;

    memcpy(&tag, p, sizeof tag);
    return tag;
}

/* The Initiate Tag of the INIT or INIT ACK chunk 'c', into '*tag'; false
 * if the chunk is too short to hold it. */
static bool
init_tag(const uint8_t *l4, size_t size, const struct chunk *c,
         ovs_be32 *tag)
{
    if (c->ofs + CHUNK_HEADER_LEN + INIT_HEADER_LEN > size) {
        return false;
    }
    *tag = get_tag(l4 + c->ofs + CHUNK_HEADER_LEN);
    return true;
}

/* A packet without a conn: the kernel's sctp_new().  Learns the tags the
 * first chunks give and leaves the state at NONE for the main walk. */
static bool
sctp_new(struct ctdp_conn *conn, const uint8_t *l4, size_t size,
         ovs_be32 vtag)
{
    struct sctp_conn *s = sctp_of(conn);
    struct chunk c;
    size_t ofs;

    memset(s, 0, sizeof *s);
    FOR_EACH_CHUNK (c, ofs, l4, size) {
        enum sctp_state state = next_state(CTDP_DIR_ORIG, sNO, c.type);

        if (state == sNO || state == sIV) {
            return false;
        }
        if (c.type == C_INIT) {
            if (vtag || !init_tag(l4, size, &c, &s->vtag[CTDP_DIR_REPLY])) {
                return false;   /* Section 8.5.1 (A): INIT's tag is 0. */
            }
        } else if (c.type == C_HEARTBEAT) {
            s->vtag[CTDP_DIR_ORIG] = vtag;
        } else if (c.type == C_SHUTDOWN_ACK) {
            /* An out-of-the-blue SHUTDOWN ACK: expect a SHUTDOWN COMPLETE
             * or an ABORT back (sections 8.4 (5) and (8)). */
            s->vtag[CTDP_DIR_REPLY] = vtag;
        }
        conn->l4_state = sNO;
    }
    return true;
}

/* The tag checks of one chunk of a conn's packet (RFC 4960 section 8.5.1
 * and the kernel's heartbeat rules).  Returns CTDP_ACCEPT to apply the
 * chunk to the state, CTDP_IGNORE to skip it (and not refresh the conn),
 * CTDP_INVALID to refuse the packet. */
static enum ctdp_verdict
check_chunk_tag(struct sctp_conn *s, enum ctdp_ct_dir dir,
                const struct chunk *c, ovs_be32 vtag,
                const struct chunk_map *map, bool ignore)
{
    switch (c->type) {
    case C_INIT:
        return vtag ? CTDP_INVALID : CTDP_ACCEPT;
    case C_ABORT:
    case C_SHUTDOWN_COMPLETE:
        return vtag == s->vtag[c->flags & CHUNK_FLAG_T ? !dir : dir]
               ? CTDP_ACCEPT : CTDP_INVALID;
    case C_COOKIE_ECHO:
        return vtag == s->vtag[dir] ? CTDP_ACCEPT : CTDP_INVALID;
    case C_COOKIE_ACK:
        s->init[dir] = s->init[!dir] = 0;
        return CTDP_ACCEPT;
    case C_HEARTBEAT:
        if (!s->vtag[dir]) {
            s->vtag[dir] = vtag;
        } else if (vtag != s->vtag[dir]) {
            if (map_has(map, C_DATA) || ignore) {
                return CTDP_INVALID;
            }
            s->flags |= SCTP_HEARTBEAT_VTAG_FAILED;
            s->last_dir = dir;
            return CTDP_IGNORE;
        } else {
            s->flags &= ~SCTP_HEARTBEAT_VTAG_FAILED;
        }
        return CTDP_ACCEPT;
    case C_HEARTBEAT_ACK:
        if (!s->vtag[dir]) {
            s->vtag[dir] = vtag;
        } else if (vtag != s->vtag[dir]) {
            if (map_has(map, C_DATA) || ignore
                || !(s->flags & SCTP_HEARTBEAT_VTAG_FAILED)
                || s->last_dir == dir) {
                return CTDP_INVALID;
            }
            /* The peer answered a heartbeat on a new path: take its
             * tag, and learn the other direction's again. */
            s->flags &= ~SCTP_HEARTBEAT_VTAG_FAILED;
            s->vtag[dir] = vtag;
            s->vtag[!dir] = 0;
        } else {
            s->flags &= ~SCTP_HEARTBEAT_VTAG_FAILED;
        }
        return CTDP_ACCEPT;
    default:
        return CTDP_ACCEPT;
    }
}

/* Learns the tag an INIT or INIT ACK chunk announces for the other
 * direction.  Returns false if the packet is invalid; sets '*ignore' for
 * an INIT retransmitted on a closed conn, which must not keep it alive. */
static bool
learn_init(const struct ctdp_l4_ctx *ctx, struct sctp_conn *s,
           const uint8_t *l4, size_t size, const struct chunk *c,
           enum sctp_state old, enum sctp_state new, bool *ignore)
{
    enum ctdp_ct_dir dir = ctx->dir;
    ovs_be32 tag;

    if (!init_tag(l4, size, c, &tag)) {
        return false;
    }
    if (c->type == C_INIT) {
        /* An INIT repeating the peer's tag is stale or retransmitted. */
        if (old == sNO || s->vtag[!dir] != tag) {
            if (s->init[dir] && s->init[!dir]) {
                s->init[!dir] = 0;
            }
            s->init[dir] = 1;
        }
        s->vtag[!dir] = tag;
        if (new == sCL && old == sCL && ctx->confirmed) {
            *ignore = true;
        }
    } else {
        ovs_be32 vtag = s->vtag[!dir];

        if ((!s->init[!dir] && vtag && vtag != tag)
            || (s->init[dir] && s->init[!dir] && vtag != tag)) {
            return false;       /* Not the INIT's answer, or a collision. */
        }
        s->vtag[!dir] = tag;
    }
    return true;
}

static bool
tag_check_exempt(const struct chunk_map *map)
{
    static const uint8_t exempt[] = {
        C_INIT, C_SHUTDOWN_COMPLETE, C_COOKIE_ECHO, C_ABORT, C_SHUTDOWN_ACK,
        C_HEARTBEAT, C_HEARTBEAT_ACK,
    };

    for (size_t i = 0; i < ARRAY_SIZE(exempt); i++) {
        if (map_has(map, exempt[i])) {
            return true;
        }
    }
    return false;
}

static enum ctdp_verdict
sctp_packet(struct ctdp_conn *conn, const struct ctdp_l4_ctx *ctx,
            long long *timeout)
{
    const uint8_t *l4 = ctx->parsed->l4;
    size_t size = ctx->parsed->l4_size;
    struct sctp_conn *s = sctp_of(conn);
    enum ctdp_ct_dir dir = ctx->dir;
    enum sctp_state old = sNO, new = sNO;
    ovs_be32 vtag = get_tag(l4 + 4);
    struct chunk_map map;
    bool ignore = false;
    struct chunk c;
    size_t ofs;

    if (!basic_checks(ctx, l4, size, &map)) {
        return CTDP_INVALID;
    }
    if (!ctx->confirmed) {
        /* Out-of-the-blue packets with these chunks make no conn
         * (section 8.4). */
        if (map_has(&map, C_ABORT) || map_has(&map, C_SHUTDOWN_COMPLETE)
            || map_has(&map, C_COOKIE_ACK) || !sctp_new(conn, l4, size, vtag)) {
            return CTDP_INVALID;
        }
    }
    if (!tag_check_exempt(&map) && vtag != s->vtag[dir]) {
        ctdp_l4_why(ctx, "verification tag check failed %x vs %x for dir %d",
                    vtag, s->vtag[dir], dir);
        return CTDP_INVALID;
    }
    FOR_EACH_CHUNK (c, ofs, l4, size) {
        enum ctdp_verdict v = check_chunk_tag(s, dir, &c, vtag, &map, ignore);

        if (v == CTDP_INVALID) {
            return CTDP_INVALID;
        } else if (v == CTDP_IGNORE) {
            ignore = true;
            continue;
        }
        old = conn->l4_state;
        new = next_state(dir, old, c.type);
        if (new == sIV) {
            ctdp_l4_why(ctx, "Invalid, old_state %d, dir %d, type %d",
                        old, dir, c.type);
            return CTDP_INVALID;
        }
        if ((c.type == C_INIT || c.type == C_INIT_ACK)
            && !learn_init(ctx, s, l4, size, &c, old, new, &ignore)) {
            return CTDP_INVALID;
        }
        conn->l4_state = new;
        if (old != new && new == sES
            && !(ctdp_conn_status(conn) & CTDP_S_ASSURED)) {
            ctdp_conn_set_status(conn, CTDP_S_ASSURED);
        }
    }
    if (ignore) {
        return CTDP_IGNORE;     /* Allowed, but the conn is not renewed. */
    }
    *timeout = ctdp_timeout_ms(ctx, sctp_state_slot[new]);
    return CTDP_ACCEPT;
}

static bool
sctp_new_ok(const struct ctdp_tuple *t OVS_UNUSED)
{
    return true;                /* sctp_packet() decides, on the chunks. */
}

static void
sctp_describe(const struct ctdp_conn *conn, struct ctdp_ct_entry *e)
{
    const struct sctp_conn *s = sctp_of(conn);

    e->l4_state = sctp_state_names[conn->l4_state];
    for (int d = 0; d < 2; d++) {
        e->sctp_vtag[d] = ntohl(s->vtag[d]);
    }
}

/* Closing associations may be evicted although assured, as the kernel's
 * sctp_can_early_drop(). */
static bool
sctp_can_early_drop(const struct ctdp_conn *conn)
{
    return conn->l4_state == sSS || conn->l4_state == sSR
           || conn->l4_state == sSA;
}

const struct ctdp_l4proto ctdp_l4_sctp = {
    .name = "sctp",
    .allow_clash = false,
    .tail_size = sizeof(struct sctp_conn),
    .new_ok = sctp_new_ok,
    .packet = sctp_packet,
    .describe = sctp_describe,
    .can_early_drop = sctp_can_early_drop,
};

/* ---- The checksum ------------------------------------------------------ */

/* CRC32c (Castagnoli, reflected polynomial 0x82f63b78), a byte at a time
 * through a table made on first use. */
static uint32_t crc32c_table[256];

static void
crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t crc = i;

        for (int k = 0; k < 8; k++) {
            crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
        }
        crc32c_table[i] = crc;
    }
}

static uint32_t
crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n--) {
        crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

/* Returns the CRC32c checksum of the 'size' bytes of the SCTP packet at
 * 'l4' (at least its 12-byte common header), computed with its checksum
 * field as zero, in the byte order the field holds it. */
ovs_be32
ctdp_sctp_csum(const uint8_t *l4, size_t size)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static const uint8_t zero[4];
    uint32_t crc = 0xffffffff;

    pthread_once(&once, crc32c_init);
    crc = crc32c_update(crc, l4, 8);
    crc = crc32c_update(crc, zero, sizeof zero);
    crc = crc32c_update(crc, l4 + SCTP_HEADER_LEN, size - SCTP_HEADER_LEN);
    crc = ~crc;
    /* The CRC goes on the wire least significant byte first. */
    uint8_t wire[4] = { crc, crc >> 8, crc >> 16, crc >> 24 };
    return get_tag(wire);
}
