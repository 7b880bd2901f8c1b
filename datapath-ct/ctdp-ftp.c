#include <config.h>
#include "ctdp-ftp.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

/* Every reader below takes a text 's' of 'n' bytes, which is not
 * NUL-terminated and may hold any byte, and never reads s[n] or beyond.
 * Each returns the length it read, 0 meaning "cannot be read", as the
 * kernel's getnum() functions do (a successful read is never empty).
 *
 * Characters are compared as bytes: a byte of 128 or more is never a digit,
 * a separator or a delimiter, as in the kernel (where 'char' is signed on
 * x86 and its isdigit() is ASCII only). */

/* What a reader found. */
struct ftp_read {
    union ctdp_addr addr;       /* In: the conn's address; out: named. */
    uint16_t port;
    size_t skipped;             /* Bytes before the numbers (227 only). */
};

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static unsigned char
ascii_tolower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Returns the value of hex digit 'c', or -1 if it is not one. */
static int
hex_value(unsigned char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

/* True if the first 'n' bytes of 's' are those of 'name', in any case (the
 * kernel's strncasecmp(): ASCII letters only fold; a NUL in 's' never
 * matches). */
static bool
prefix_matches(const char *s, const char *name, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ascii_tolower(s[i]) != ascii_tolower(name[i])) {
            return false;
        }
    }
    return true;
}

/* Reads 'count' (at least 2) decimal numbers separated by 'sep' into
 * 'nums', as the kernel's try_number(): the last one must be followed by
 * 'term', or by any byte but a digit or 'sep' if 'term' is 0; returns the
 * index of that byte, or 0.  A number may be empty (0) and is not bounded:
 * it is read mod 2^32 (uint32_t arithmetic, as the kernel's u32).  Running
 * out of text before the terminator is a failure (a missing terminator),
 * as is a 'count'-th separator. */
static size_t
read_numbers(const char *s, size_t n, uint32_t nums[], size_t count,
             char sep, char term)
{
    size_t i = 0, k = 0;

    memset(nums, 0, count * sizeof nums[0]);
    for (; i < n && k < count; i++) {
        unsigned char c = s[i];

        if (is_digit(c)) {
            nums[k] = nums[k] * 10 + (c - '0');
        } else if (c == (unsigned char) sep) {
            k++;
        } else {
            return ((c == (unsigned char) term || !term) && k == count - 1
                    ? i : 0);
        }
    }
    return 0;
}

/* PORT's "a,b,c,d,p1,p2" followed by 'term' (or, if 'term' is 0, by any
 * byte but a digit or ','), as the kernel's try_rfc959().
 *
 * Deliberately as the kernel, which does not range-check: the address is
 * (a << 24 | b << 16 | c << 8 | d) and the port (p1 << 8 | p2) mod 2^16,
 * in 32-bit arithmetic, so that a number above 255 is OR'ed into the bits
 * of the numbers before it (and beyond 32 bits is lost): "1,2,256,4,0,1"
 * is 1.3.0.4 port 1 and "0,0,0,0,2,300" port 512 | 300 = 812.  The helper
 * must expect what the kernel expects, bogus or not.
 *
 * Writes only the first 4 bytes of the address (addr.ip4), as the kernel
 * writes only u3.ip. */
static size_t
read_rfc959(const char *s, size_t n, char term, uint8_t l3 OVS_UNUSED,
            struct ftp_read *r)
{
    uint32_t v[6];
    size_t len = read_numbers(s, n, v, 6, ',', term);

    if (!len) {
        return 0;
    }
    r->addr.ip4 = htonl(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
    r->port = (v[4] << 8 | v[5]) & 0xffff;
    return len;
}

/* The 227 reply, as the kernel's try_rfc1123(): RFC 1123 says the reply's
 * format is loose and a client must scan it for the first digit, so the
 * numbers start at the first digit, and end at the first byte that is
 * neither a digit nor ',' ('term' is not used, as in the kernel). */
static size_t
read_rfc1123(const char *s, size_t n, char term OVS_UNUSED, uint8_t l3,
             struct ftp_read *r)
{
    size_t i = 0;

    while (i < n && !is_digit(s[i])) {
        i++;
    }
    if (i == n) {
        return 0;
    }
    r->skipped = i;
    return read_rfc959(s + i, n - i, 0, l3, r);
}

/* Reads a port from s[start] up to 'delim', as the kernel's get_port():
 * decimal digits only, in 16-bit arithmetic (so 65536 is 0 and 65537 is
 * 1, as in the kernel's u16); a port of 0 is refused.  Returns the index
 * just after 'delim', or 0.  'start' may be beyond 'n'. */
static size_t
read_port(const char *s, size_t start, size_t n, char delim, uint16_t *port)
{
    uint16_t p = 0;

    for (size_t i = start; i < n; i++) {
        unsigned char c = s[i];

        if (c == (unsigned char) delim) {
            if (!p) {
                return 0;
            }
            *port = p;
            return i + 1;
        } else if (is_digit(c)) {
            p = p * 10 + (c - '0');
        } else {
            return 0;
        }
    }
    return 0;
}

/* True if s[i] ends an address in the kernel's in4_pton() and in6_pton():
 * past the text, the delimiter, or a NUL (which those functions take for
 * the end of a string). */
static bool
at_end(const char *s, size_t n, size_t i, char delim)
{
    return i >= n || s[i] == delim || s[i] == '\0';
}

/* Reads a dotted quad "a.b.c.d" into 'out', as the kernel's in4_pton()
 * called from in6_pton() for an IPv6 address's IPv4 tail: four numbers of
 * 1 or more decimal digits (leading zeros allowed, however many), each at
 * most 255, separated by '.', ended by at_end() or by ':'.  Returns the
 * index of the byte that ends it, or 0. */
static size_t
read_dotted_quad(const char *s, size_t n, char delim, uint8_t out[4])
{
    size_t i = 0;

    for (int k = 0; k < 4; k++) {
        unsigned int v = 0;
        size_t start = i;

        while (!at_end(s, n, i, delim) && is_digit(s[i])) {
            v = v * 10 + (s[i] - '0');
            if (v > 255) {
                return 0;
            }
            i++;
        }
        if (i == start) {
            return 0;
        }
        out[k] = v;
        if (k < 3) {
            if (at_end(s, n, i, delim) || s[i] != '.') {
                return 0;
            }
            i++;
        } else if (!at_end(s, n, i, delim) && s[i] != ':') {
            return 0;
        }
    }
    return i;
}

/* Reads an IPv6 address into 'out', as the kernel's in6_pton() with
 * 'delim' (written from its rules, not its code):
 *
 *   - groups of hex digits, either case, each at most 0xffff, with any
 *     number of leading zeros ("00001" is 1), separated by ':';
 *   - at most one "::", standing for one or more zero groups: with it, at
 *     most 7 groups; without it, exactly 8;
 *   - the last two groups may be a dotted quad (read_dotted_quad()), after
 *     exactly 6 groups, or after "::" and at most 5 groups in all;
 *   - the address ends at at_end(), or after a dotted quad also at ':'.
 *
 * Returns the index of the byte that ends it (the caller takes that byte
 * for 'delim' without looking, as the kernel's try_eprt() does, so a NUL
 * or, after a dotted quad, a ':' stands in for the delimiter), or 0. */
static size_t
read_ipv6(const char *s, size_t n, char delim, struct in6_addr *out)
{
    /* The groups read; "::" is one zero group here, at 'gap', as the
     * kernel counts it (it stands for at least one). */
    uint16_t words[8];
    int n_words = 0;
    int gap = -1;
    size_t i = 0;

    /* (A delimiter that is ':' ends the address at its first ':'.) */
    if (!at_end(s, n, 0, delim) && s[0] == ':'
        && !at_end(s, n, 1, delim) && s[1] == ':') {
        gap = 0;
        words[n_words++] = 0;
        i = 2;
        if (at_end(s, n, i, delim)) {
            goto done;
        }
    }
    for (;;) {
        size_t start = i;
        unsigned int v = 0;

        while (!at_end(s, n, i, delim) && hex_value(s[i]) >= 0) {
            if (v > 0xfff) {
                return 0;
            }
            v = v * 16 + hex_value(s[i]);
            i++;
        }
        if (i == start || n_words >= 8) {
            return 0;
        }
        if (!at_end(s, n, i, delim) && s[i] == '.') {
            uint8_t q[4];
            size_t len;

            if (n_words > 6 || (gap < 0 && n_words != 6)) {
                return 0;
            }
            len = read_dotted_quad(s + start, n - start, delim, q);
            if (!len) {
                return 0;
            }
            words[n_words++] = q[0] << 8 | q[1];
            words[n_words++] = q[2] << 8 | q[3];
            i = start + len;
            break;
        }
        words[n_words++] = v;
        if (at_end(s, n, i, delim)) {
            if (gap < 0 && n_words != 8) {
                return 0;
            }
            break;
        }
        if (s[i] != ':' || n_words >= 8) {
            return 0;
        }
        i++;
        if (!at_end(s, n, i, delim) && s[i] == ':') {
            if (gap >= 0) {
                return 0;
            }
            gap = n_words;
            words[n_words++] = 0;
            i++;
            if (at_end(s, n, i, delim)) {
                break;
            }
        }
    }

done:
    memset(out, 0, sizeof *out);
    for (int k = 0; k < n_words; k++) {
        /* The groups after the gap go to the end. */
        int pos = gap >= 0 && k > gap ? 8 - (n_words - k) : k;

        out->s6_addr[2 * pos] = words[k] >> 8;
        out->s6_addr[2 * pos + 1] = words[k] & 0xff;
    }
    return i;
}

/* EPRT's "|1|a.b.c.d|port|" or "|2|ipv6|port|", as the kernel's try_eprt():
 * the first byte is the delimiter (33 to 126, not a digit), the family
 * ('1' or '2') must be the conn's ('l3'), then the address, the delimiter
 * and the port up to the delimiter.  The IPv4 address is read as the
 * numbers of PORT are (not range-checked, empty numbers are 0) and written
 * to the first 4 bytes only; the IPv6 address by read_ipv6(), on at most
 * 0xffff bytes, as the kernel's get_ipv6_addr().  Returns the length
 * through the last delimiter. */
static size_t
read_eprt(const char *s, size_t n, char term OVS_UNUSED, uint8_t l3,
          struct ftp_read *r)
{
    unsigned char delim;
    size_t len;

    if (n <= 3) {
        return 0;
    }
    delim = s[0];
    if (is_digit(delim) || delim < 33 || delim > 126 || s[2] != s[0]) {
        return 0;
    }
    if (l3 == CTDP_L3_IPV4 ? s[1] != '1'
        : l3 == CTDP_L3_IPV6 ? s[1] != '2'
        : true) {
        return 0;
    }

    if (s[1] == '1') {
        uint32_t v[4];

        len = read_numbers(s + 3, n - 3, v, 4, '.', delim);
        if (!len) {
            return 0;
        }
        r->addr.ip4 = htonl(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
    } else {
        len = read_ipv6(s + 3, MIN(n - 3, 0xffff), delim, &r->addr.ip6);
        if (!len) {
            return 0;
        }
    }
    return read_port(s, 3 + len + 1, n, delim, &r->port);
}

/* The 229 reply's "|||port|", as the kernel's try_epsv_response(): three
 * delimiters (33 to 126, not a digit), then the port up to the delimiter.
 * The address is not named. */
static size_t
read_epsv(const char *s, size_t n, char term OVS_UNUSED, uint8_t l3 OVS_UNUSED,
          struct ftp_read *r)
{
    unsigned char delim;

    if (n <= 3) {
        return 0;
    }
    delim = s[0];
    if (is_digit(delim) || delim < 33 || delim > 126
        || s[1] != s[0] || s[2] != s[0]) {
        return 0;
    }
    return read_port(s, 3, n, delim, &r->port);
}

/* A command or reply to look for, as an entry of the kernel's search[]. */
struct ftp_pattern {
    const char *name;           /* At the start of the payload, any case. */
    char skip;                  /* If nonzero, the text starts after the
                                 * first 'skip' at or after the name. */
    char term;                  /* For the reader. */
    enum ctdp_ftp_type type;
    size_t (*read)(const char *, size_t, char term, uint8_t l3,
                   struct ftp_read *);
};

static const struct ftp_pattern patterns[2][2] = {
    [CTDP_DIR_ORIG] = {
        { "PORT", ' ', '\r', CTDP_FTP_PORT, read_rfc959 },
        { "EPRT", ' ', '\r', CTDP_FTP_EPRT, read_eprt },
    },
    [CTDP_DIR_REPLY] = {
        { "227 ", 0, 0, CTDP_FTP_PASV, read_rfc1123 },
        { "229 ", '(', ')', CTDP_FTP_EPSV, read_epsv },
    },
};

/* Looks for 'p' at the start of 'data', as the kernel's find_pattern(),
 * and returns as ctdp_ftp_find() does. */
static int
find_pattern(const struct ftp_pattern *p, const char *data, size_t len,
             struct ctdp_ftp_cmd *cmd)
{
    size_t plen = strlen(p->name);
    struct ftp_read r;
    size_t i, n;

    if (len <= plen) {
        /* The payload ends inside the name (or with it): partial. */
        return prefix_matches(data, p->name, len) ? -1 : 0;
    }
    if (!prefix_matches(data, p->name, plen)) {
        return 0;
    }

    /* Skip to just after the 'skip' byte, which must be there. */
    i = plen;
    if (p->skip) {
        while (data[i] != p->skip) {
            if (i == len - 1) {
                return -1;
            }
            i++;
        }
        i++;
    }

    memset(&r, 0, sizeof r);
    r.addr = cmd->addr;
    n = p->read(data + i, len - i, p->term, cmd->l3, &r);
    if (!n) {
        return -1;
    }

    cmd->type = p->type;
    cmd->addr = r.addr;
    cmd->port = r.port;
    cmd->match_ofs = i + r.skipped;
    cmd->match_len = n;
    return 1;
}

int
ctdp_ftp_find(const char *data, size_t len, enum ctdp_ct_dir dir,
              struct ctdp_ftp_cmd *cmd)
{
    const struct ftp_pattern *p = patterns[dir == CTDP_DIR_REPLY];

    if (!len) {
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(patterns[0]); i++) {
        int found = find_pattern(&p[i], data, len, cmd);

        if (found) {
            return found;
        }
    }
    return 0;
}

size_t
ctdp_ftp_format(enum ctdp_ftp_type type, uint8_t l3,
                const union ctdp_addr *addr, uint16_t port, char *buf)
{
    const uint8_t *a4 = (const uint8_t *) &addr->ip4;
    const uint8_t *a6 = addr->ip6.s6_addr;
    int n;

    switch (type) {
    case CTDP_FTP_PORT:
    case CTDP_FTP_PASV:
        n = snprintf(buf, CTDP_FTP_MAX_TEXT, "%u,%u,%u,%u,%u,%u",
                     a4[0], a4[1], a4[2], a4[3], port >> 8, port & 0xff);
        break;
    case CTDP_FTP_EPRT:
        /* As the kernel, by the conn's family: anything but IPv4 is 6. */
        if (l3 == CTDP_L3_IPV4) {
            n = snprintf(buf, CTDP_FTP_MAX_TEXT, "|1|%u.%u.%u.%u|%u|",
                         a4[0], a4[1], a4[2], a4[3], port);
        } else {
            /* %pI6: every group as 4 lowercase hex digits. */
            n = snprintf(buf, CTDP_FTP_MAX_TEXT,
                         "|2|%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
                         "%02x%02x:%02x%02x:%02x%02x:%02x%02x|%u|",
                         a6[0], a6[1], a6[2], a6[3], a6[4], a6[5], a6[6],
                         a6[7], a6[8], a6[9], a6[10], a6[11], a6[12],
                         a6[13], a6[14], a6[15], port);
        }
        break;
    case CTDP_FTP_EPSV:
        n = snprintf(buf, CTDP_FTP_MAX_TEXT, "|||%u|", port);
        break;
    default:
        buf[0] = '\0';
        n = 0;
        break;
    }
    return n;
}
