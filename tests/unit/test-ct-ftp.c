/* The FTP helper's parser (datapath-ct/ctdp-ftp.c): every command and
 * reply that opens a data connection, read as the Linux kernel's
 * nf_conntrack_ftp reads them (find_pattern() and its readers, in6_pton()),
 * and the text that nf_nat_ftp writes for NAT. */
#include <config.h>
#include "ctdp-ftp.h"
#include "ctdp-unit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIG CTDP_DIR_ORIG
#define REPLY CTDP_DIR_REPLY
#define V4 CTDP_L3_IPV4
#define V6 CTDP_L3_IPV6

/* The conn's source address in the payload's direction, as the helper
 * passes it in. */
static const char *const CONN4 = "192.0.2.1";
static const char *const CONN6 = "2001:db8::1";

static union ctdp_addr
addr_of(uint8_t l3, const char *s)
{
    union ctdp_addr a;

    memset(&a, 0, sizeof a);
    if (inet_pton(l3 == V4 ? AF_INET : AF_INET6, s, &a) != 1) {
        abort();
    }
    return a;
}

static struct ctdp_ftp_cmd
cmd_in(uint8_t l3)
{
    struct ctdp_ftp_cmd cmd;

    memset(&cmd, 0xa5, sizeof cmd);
    cmd.l3 = l3;
    cmd.addr = addr_of(l3, l3 == V4 ? CONN4 : CONN6);
    return cmd;
}

static void
print_payload(const char *p, size_t len)
{
    printf("#   payload \"");
    for (size_t i = 0; i < len && i < 120; i++) {
        unsigned char c = p[i];

        printf(c >= 32 && c < 127 && c != '"' ? "%c" : "\\x%02x", c);
    }
    printf("%s\" (%zu bytes)\n", len > 120 ? "..." : "", len);
}

/* Returns ctdp_ftp_find() on 'len' bytes of 'p' from a conn of family 'l3'
 * (with CONN4 or CONN6 as its address) and checks that it leaves 'cmd'
 * alone when it does not return 1. */
static int
find_n(const char *p, size_t len, enum ctdp_ct_dir dir, uint8_t l3,
       struct ctdp_ftp_cmd *cmd)
{
    struct ctdp_ftp_cmd before = cmd_in(l3);
    int ret;

    *cmd = before;
    ret = ctdp_ftp_find(p, len, dir, cmd);
    if (ret != 1 && memcmp(cmd, &before, sizeof before)) {
        printf("# ctdp_ftp_find() returned %d but changed 'cmd'\n", ret);
        print_payload(p, len);
        return 2;
    }
    return ret;
}

static int
find(const char *p, enum ctdp_ct_dir dir, uint8_t l3)
{
    struct ctdp_ftp_cmd cmd;

    return find_n(p, strlen(p), dir, l3, &cmd);
}

/* True if 'len' bytes of 'p' hold a command or reply of 'type' that names
 * 'addr' (in family 'l3'; NULL: the conn's own, CONN4 or CONN6) and 'port',
 * written as the 'text_len' bytes of 'text' at 'ofs'.  Prints what
 * differs. */
static bool
hit_n(const char *p, size_t len, enum ctdp_ct_dir dir, uint8_t l3,
      enum ctdp_ftp_type type, const char *addr, uint16_t port, size_t ofs,
      const char *text, size_t text_len)
{
    union ctdp_addr want = addr_of(l3, addr ? addr : l3 == V4 ? CONN4 : CONN6);
    struct ctdp_ftp_cmd cmd;
    int ret = find_n(p, len, dir, l3, &cmd);
    bool ok;

    if (ret != 1) {
        printf("# ctdp_ftp_find() returned %d, not 1\n", ret);
        print_payload(p, len);
        return false;
    }
    ok = (cmd.type == type && cmd.l3 == l3
          && !memcmp(&cmd.addr, &want, sizeof want) && cmd.port == port
          && cmd.match_ofs == ofs && cmd.match_len == text_len
          && cmd.match_ofs + cmd.match_len <= len
          && !memcmp(p + cmd.match_ofs, text, cmd.match_len));
    if (!ok) {
        char s[INET6_ADDRSTRLEN];

        inet_ntop(l3 == V4 ? AF_INET : AF_INET6, &cmd.addr, s, sizeof s);
        printf("# got type %d addr %s port %u at %zu+%zu; "
               "wanted type %d addr %s port %u at %zu+%zu\n",
               cmd.type, s, cmd.port, cmd.match_ofs, cmd.match_len,
               type, addr ? addr : "(conn's)", port, ofs, text_len);
        print_payload(p, len);
    }
    return ok;
}

static bool
hit(const char *p, enum ctdp_ct_dir dir, uint8_t l3, enum ctdp_ftp_type type,
    const char *addr, uint16_t port, const char *text)
{
    const char *at = strstr(p, text);

    return hit_n(p, strlen(p), dir, l3, type, addr, port,
                 at ? at - p : (size_t) -1, text, strlen(text));
}

/* PORT a,b,c,d,p1,p2 in the original direction, either family (the kernel
 * does not look at the conn's family for PORT). */
static void
test_port(void)
{
    CHECK(hit("PORT 192,168,1,2,4,1\r\n", ORIG, V4, CTDP_FTP_PORT,
              "192.168.1.2", 1025, "192,168,1,2,4,1"));
    CHECK(hit_n("PORT 192,168,1,2,4,1\r\n", 22, ORIG, V4, CTDP_FTP_PORT,
                "192.168.1.2", 1025, 5, "192,168,1,2,4,1", 15));
    /* Only the terminator ends it: what follows does not matter. */
    CHECK(hit("PORT 10,0,0,1,0,21\rjunk", ORIG, V4, CTDP_FTP_PORT,
              "10.0.0.1", 21, "10,0,0,1,0,21"));
    /* The text starts after the first space, wherever it is. */
    CHECK(hit("PORTX 10,0,0,1,0,21\r\n", ORIG, V4, CTDP_FTP_PORT,
              "10.0.0.1", 21, "10,0,0,1,0,21"));
    /* Empty numbers are 0; port 0 is accepted (unlike EPRT's). */
    CHECK(hit("PORT 10,,0,1,0,\r\n", ORIG, V4, CTDP_FTP_PORT,
              "10.0.0.1", 0, "10,,0,1,0,"));
    CHECK(hit("PORT ,,,,,\r\n", ORIG, V4, CTDP_FTP_PORT, "0.0.0.0", 0,
              ",,,,,"));
    /* On an IPv6 conn, only the first 4 bytes of the address are written
     * (the kernel writes u3.ip): the result is the conn's address only if
     * those bytes are its own (2001:db8:: is 32,1,13,184). */
    CHECK(hit("PORT 32,1,13,184,0,20\r\n", ORIG, V6, CTDP_FTP_PORT,
              CONN6, 20, "32,1,13,184,0,20"));
    CHECK(hit("PORT 10,0,0,1,0,20\r\n", ORIG, V6, CTDP_FTP_PORT,
              "a00:1::1", 20, "10,0,0,1,0,20"));
}

/* EPRT |1|a.b.c.d|port| and |2|ipv6|port|, family checked. */
static void
test_eprt(void)
{
    /* RFC 2428's examples. */
    CHECK(hit("EPRT |1|132.235.1.2|6275|\r\n", ORIG, V4, CTDP_FTP_EPRT,
              "132.235.1.2", 6275, "|1|132.235.1.2|6275|"));
    CHECK(hit("EPRT |2|1080::8:800:200C:417A|5282|\r\n", ORIG, V6,
              CTDP_FTP_EPRT, "1080::8:800:200c:417a", 5282,
              "|2|1080::8:800:200C:417A|5282|"));
    /* Any delimiter from 33 to 126 but a digit; the match ends with the
     * last delimiter, not with the line. */
    CHECK(hit("EPRT !1!10.1.2.3!80!\r\n", ORIG, V4, CTDP_FTP_EPRT,
              "10.1.2.3", 80, "!1!10.1.2.3!80!"));
    CHECK(hit("EPRT ~2~fd00::2~2121~ trailing\r\n", ORIG, V6, CTDP_FTP_EPRT,
              "fd00::2", 2121, "~2~fd00::2~2121~"));
    /* A delimiter that is a hex letter ends the IPv6 address. */
    CHECK(hit("EPRT a2a1::2a21a\r\n", ORIG, V6, CTDP_FTP_EPRT, "1::2", 21,
              "a2a1::2a21a"));
    /* A delimiter that is ':' or '.' ends the address there: an IPv6
     * address cannot be written with ':', an IPv4 one with '.'. */
    CHECK_EQ(find("EPRT :2:::1:21:\r\n", ORIG, V6), -1);
    CHECK_EQ(find("EPRT :2:1::21:\r\n", ORIG, V6), -1);
    CHECK_EQ(find("EPRT .1.1.2.3.4.21.\r\n", ORIG, V4), -1);
    CHECK(hit("EPRT .2.::1.21.\r\n", ORIG, V6, CTDP_FTP_EPRT, "::1", 21,
              ".2.::1.21."));
    /* The family must be the conn's. */
    CHECK_EQ(find("EPRT |2|fd00::2|21|\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT |1|10.0.0.1|21|\r\n", ORIG, V6), -1);
    CHECK_EQ(find("EPRT |3|10.0.0.1|21|\r\n", ORIG, V4), -1);
    /* Bad delimiters. */
    CHECK_EQ(find("EPRT 515.1.2.3.4525\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT  |1|1.2.3.4|21|\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT |1!1.2.3.4|21|\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT \x7f" "1\x7f" "1.2.3.4\x7f" "21\x7f\r\n", ORIG, V4),
             -1);
    CHECK_EQ(find("EPRT \xa6" "1\xa6" "1.2.3.4\xa6" "21\xa6\r\n", ORIG, V4),
             -1);
    /* IPv4 numbers are read as PORT's: not range-checked, empty is 0, and
     * exactly 4 of them. */
    CHECK(hit("EPRT |1|...|21|\r\n", ORIG, V4, CTDP_FTP_EPRT, "0.0.0.0", 21,
              "|1|...|21|"));
    CHECK(hit("EPRT |1|1.2.256.1|21|\r\n", ORIG, V4, CTDP_FTP_EPRT,
              "1.3.0.1", 21, "|1|1.2.256.1|21|"));
    CHECK_EQ(find("EPRT |1|1.2.3|21|\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT |1|1.2.3.4.5|21|\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT |1|1.2.3.x|21|\r\n", ORIG, V4), -1);
    /* The port: 1 to 65535 in 16-bit arithmetic, digits only, up to the
     * delimiter. */
    CHECK_EQ(find("EPRT |1|1.2.3.4|0|\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT |1|1.2.3.4||\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT |1|1.2.3.4|65536|\r\n", ORIG, V4), -1);
    CHECK(hit("EPRT |1|1.2.3.4|65537|\r\n", ORIG, V4, CTDP_FTP_EPRT,
              "1.2.3.4", 1, "|1|1.2.3.4|65537|"));
    CHECK(hit("EPRT |1|1.2.3.4|0021|\r\n", ORIG, V4, CTDP_FTP_EPRT,
              "1.2.3.4", 21, "|1|1.2.3.4|0021|"));
    CHECK_EQ(find("EPRT |1|1.2.3.4|2 1|\r\n", ORIG, V4), -1);
    CHECK_EQ(find("EPRT |1|1.2.3.4|21\r\n", ORIG, V4), -1);
}

/* The IPv6 addresses of EPRT, as the kernel's in6_pton() reads them. */
static void
test_eprt_ipv6_forms(void)
{
    static const struct {
        const char *text;       /* Between "|2|" and "|21|". */
        const char *addr;       /* NULL: refused. */
    } cases[] = {
        { "::", "::" },
        { "::1", "::1" },
        { "1::", "1::" },
        { "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
        { "FFFF:ffff:0:0:0:0:0:1", "ffff:ffff::1" },
        { "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0" },
        { "::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8" },
        { "1::8", "1::8" },
        { "0001:00002::", "1:2::" },      /* Leading zeros, any number. */
        { "::ffff:1.2.3.4", "::ffff:1.2.3.4" },
        { "::1.2.3.4", "::1.2.3.4" },
        { "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304" },
        { "1:2:3:4:5::1.2.3.4", "1:2:3:4:5:0:102:304" },
        { "::ffff:001.002.003.004", "::ffff:1.2.3.4" },
        { "1:2:3:4:5:6:7", NULL },        /* 7 groups and no "::". */
        { "1:2:3:4:5:6:7:8:9", NULL },
        { "1:2:3:4:5:6:7:8::", NULL },
        { "::1:2:3:4:5:6:7:8", NULL },
        { "1::2::3", NULL },
        { ":::", NULL },
        { ":1::", NULL },
        { "1:", NULL },
        { "", NULL },
        { "10000::", NULL },              /* A group above 0xffff. */
        { "g::", NULL },
        { "::1.2.3", NULL },
        { "::1.2.3.256", NULL },
        { "::1.2.3.4.5", NULL },
        { "::1..3.4", NULL },
        { "::a.2.3.4", NULL },
        { "1:2:3:4:5:6:7:1.2.3.4", NULL },
        { "1:2:3:4:5:6::1.2.3.4", NULL },
        { "1:2:3:4:5:1.2.3.4", NULL },    /* Quad after 5 groups, no "::". */
        { "1.2.3.4", NULL },
        { "::1 ", NULL },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char p[160], text[128];

        snprintf(text, sizeof text, "|2|%s|21|", cases[i].text);
        snprintf(p, sizeof p, "EPRT %s\r\n", text);
        if (cases[i].addr) {
            CHECK(hit(p, ORIG, V6, CTDP_FTP_EPRT, cases[i].addr, 21, text));
        } else if (!CHECK_EQ(find(p, ORIG, V6), -1)) {
            printf("#   %s\n", p);
        }
    }

    /* The kernel takes the byte that ends the address for the delimiter
     * without looking at it: a NUL (the end of a string for in6_pton())
     * or, after a dotted quad, a ':' does. */
    static const char nul[] = "EPRT |2|::1\0" "21|\r\n";
    CHECK(hit_n(nul, sizeof nul - 1, ORIG, V6, CTDP_FTP_EPRT, "::1", 21, 5,
                "|2|::1\0" "21|", 10));
    CHECK(hit("EPRT |2|::ffff:1.2.3.4:21|\r\n", ORIG, V6, CTDP_FTP_EPRT,
              "::ffff:1.2.3.4", 21, "|2|::ffff:1.2.3.4:21|"));
}

/* The 227 reply: the numbers from its first digit, with or without
 * parentheses. */
static void
test_pasv(void)
{
    CHECK(hit("227 Entering Passive Mode (192,168,1,2,19,137).\r\n", REPLY,
              V4, CTDP_FTP_PASV, "192.168.1.2", 5001, "192,168,1,2,19,137"));
    CHECK(hit_n("227 Entering Passive Mode (192,168,1,2,19,137).\r\n", 49,
                REPLY, V4, CTDP_FTP_PASV, "192.168.1.2", 5001, 27,
                "192,168,1,2,19,137", 18));
    CHECK(hit("227 Entering Passive Mode 192,168,1,2,19,137\r\n", REPLY, V4,
              CTDP_FTP_PASV, "192.168.1.2", 5001, "192,168,1,2,19,137"));
    CHECK(hit("227 =10,0,0,2,0,20\r\n", REPLY, V4, CTDP_FTP_PASV,
              "10.0.0.2", 20, "10,0,0,2,0,20"));
    /* Any byte but a digit or ',' ends it, a NUL too. */
    static const char nul[] = "227 (10,0,0,2,0,20\0";
    CHECK(hit_n(nul, sizeof nul - 1, REPLY, V4, CTDP_FTP_PASV, "10.0.0.2",
                20, 5, "10,0,0,2,0,20", 13));
    /* Port 0 is accepted, as for PORT. */
    CHECK(hit("227 (10,0,0,2,0,0)\r\n", REPLY, V4, CTDP_FTP_PASV,
              "10.0.0.2", 0, "10,0,0,2,0,0"));
    /* The first digit may be in the text: then the numbers are wrong. */
    CHECK_EQ(find("227 Entering Passive Mode 2 (10,0,0,2,0,20)\r\n", REPLY,
                  V4), -1);
    /* No digit, or a payload that ends with the numbers. */
    CHECK_EQ(find("227 Entering Passive Mode\r\n", REPLY, V4), -1);
    CHECK_EQ(find("227 (10,0,0,2,0,20", REPLY, V4), -1);
    CHECK_EQ(find("227 (10,0,0,2,0)\r\n", REPLY, V4), -1);
    /* "227" must be followed by a space. */
    CHECK_EQ(find("227-Entering Passive Mode (10,0,0,2,0,20)\r\n", REPLY,
                  V4), 0);
}

/* The 229 reply: (|||port|), the address is the conn's. */
static void
test_epsv(void)
{
    CHECK(hit("229 Entering Extended Passive Mode (|||6446|)\r\n", REPLY, V4,
              CTDP_FTP_EPSV, NULL, 6446, "|||6446|"));
    CHECK(hit_n("229 Entering Extended Passive Mode (|||6446|)\r\n", 47,
                REPLY, V4, CTDP_FTP_EPSV, NULL, 6446, 36, "|||6446|", 8));
    CHECK(hit("229 Entering Extended Passive Mode (|||6446|)\r\n", REPLY, V6,
              CTDP_FTP_EPSV, NULL, 6446, "|||6446|"));
    CHECK(hit("229 (!!!21!)", REPLY, V4, CTDP_FTP_EPSV, NULL, 21,
              "!!!21!"));
    /* The ')' is not needed. */
    CHECK(hit("229 (|||21|", REPLY, V4, CTDP_FTP_EPSV, NULL, 21, "|||21|"));
    CHECK_EQ(find("229 (|||0|)\r\n", REPLY, V4), -1);
    CHECK_EQ(find("229 (|||65536|)\r\n", REPLY, V4), -1);
    CHECK_EQ(find("229 (||21|)\r\n", REPLY, V4), -1);
    CHECK_EQ(find("229 (|1|21|)\r\n", REPLY, V4), -1);
    CHECK_EQ(find("229 (111211)\r\n", REPLY, V4), -1);
    CHECK_EQ(find("229 (   21 )\r\n", REPLY, V4), -1);
    CHECK_EQ(find("229 (|||21)\r\n", REPLY, V4), -1);
    /* No '(' before the payload ends. */
    CHECK_EQ(find("229 Entering Extended Passive Mode |||21|\r\n", REPLY,
                  V4), -1);
    /* The '(' may be anywhere after "229 ". */
    CHECK(hit("229 x\r\ny (|||21|)", REPLY, V4, CTDP_FTP_EPSV, NULL, 21,
              "|||21|"));
}

/* Names in any case; each direction has its own; anything else is no
 * match. */
static void
test_case_and_direction(void)
{
    CHECK(hit("port 10,0,0,1,0,21\r\n", ORIG, V4, CTDP_FTP_PORT,
              "10.0.0.1", 21, "10,0,0,1,0,21"));
    CHECK(hit("PoRt 10,0,0,1,0,21\r\n", ORIG, V4, CTDP_FTP_PORT,
              "10.0.0.1", 21, "10,0,0,1,0,21"));
    CHECK(hit("eprt |1|10.0.0.1|21|\r\n", ORIG, V4, CTDP_FTP_EPRT,
              "10.0.0.1", 21, "|1|10.0.0.1|21|"));
    CHECK(hit("EpRt |2|::1|21|\r\n", ORIG, V6, CTDP_FTP_EPRT,
              "::1", 21, "|2|::1|21|"));

    /* Commands are looked for in the original direction only, replies in
     * the reply direction only. */
    CHECK_EQ(find("PORT 10,0,0,1,0,21\r\n", REPLY, V4), 0);
    CHECK_EQ(find("EPRT |1|10.0.0.1|21|\r\n", REPLY, V4), 0);
    CHECK_EQ(find("227 (10,0,0,1,0,21)\r\n", ORIG, V4), 0);
    CHECK_EQ(find("229 (|||21|)\r\n", ORIG, V4), 0);

    /* Not at the start, other commands, bytes that only look alike. */
    CHECK_EQ(find(" PORT 10,0,0,1,0,21\r\n", ORIG, V4), 0);
    CHECK_EQ(find("USER anonymous\r\n", ORIG, V4), 0);
    CHECK_EQ(find("PASV\r\n", ORIG, V4), 0);
    CHECK_EQ(find("EPSV\r\n", ORIG, V4), 0);
    CHECK_EQ(find("220 Welcome\r\n", REPLY, V4), 0);
    CHECK_EQ(find("228 (10,0,0,1,0,21)\r\n", REPLY, V4), 0);
    CHECK_EQ(find("\xd0ORT 10,0,0,1,0,21\r\n", ORIG, V4), 0);
    CHECK_EQ(find("P\xcfRT 10,0,0,1,0,21\r\n", ORIG, V4), 0);
    static const char nul[] = "P\0RT";
    struct ctdp_ftp_cmd cmd;
    CHECK_EQ(find_n(nul, 4, ORIG, V4, &cmd), 0);
    CHECK_EQ(find_n("", 0, ORIG, V4, &cmd), 0);
    CHECK_EQ(find_n("", 0, REPLY, V4, &cmd), 0);
}

/* A payload that ends inside a name, or with a name, or before its text
 * is complete: partial (-1), which the kernel drops. */
static void
test_partial(void)
{
    static const char *const orig[] = {
        "P", "p", "PO", "POR", "PORT", "E", "EP", "EPR", "eprt",
        "PORT ", "PORT 10", "PORT 10,0,0,1,0,21", "PORT 10,0,0,1,0,21\n",
        "PORTABLE", "EPRT |1|10.0.0.1|21", "EPRT |1|10.0.0.1|",
        "EPRT |1|", "EPRT |1", "EPRT ", "EPRT",
    };
    static const char *const reply[] = {
        "2", "22", "227", "227 ", "229", "229 ", "229 Entering (",
        "229 (|||", "229 (|||21", "227 (10,0,0,1", "227 (10,0,0,1,0,21",
    };
    struct ctdp_ftp_cmd cmd;

    for (size_t i = 0; i < ARRAY_SIZE(orig); i++) {
        if (!CHECK_EQ(find(orig[i], ORIG, V4), -1)) {
            printf("#   \"%s\"\n", orig[i]);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(reply); i++) {
        if (!CHECK_EQ(find(reply[i], REPLY, V4), -1)) {
            printf("#   \"%s\"\n", reply[i]);
        }
    }

    /* A command split over two segments: each part alone is partial or
     * nothing (the helper looks only at a segment that starts a line). */
    static const char full[] = "PORT 192,168,1,2,4,1\r\n";
    size_t cr = strchr(full, '\r') - full;
    for (size_t i = 1; i < sizeof full - 1; i++) {
        int ret = find_n(full, i, ORIG, V4, &cmd);

        /* Without the '\r', partial; with it, complete. */
        if (!CHECK_EQ(ret, i <= cr ? -1 : 1)) {
            printf("#   first %zu bytes\n", i);
        }
        if (!CHECK_EQ(find_n(full + i, sizeof full - 1 - i, ORIG, V4, &cmd),
                      0)) {
            printf("#   from byte %zu\n", i);
        }
    }
    /* A name that matches in its first bytes only is no match. */
    CHECK_EQ(find("PX", ORIG, V4), 0);
    CHECK_EQ(find("EX", ORIG, V4), 0);
    CHECK_EQ(find("23", REPLY, V4), 0);
    /* The kernel's order: PORT is tried first, so "P" is partial; a
     * partial PORT stops the search. */
    CHECK_EQ(find("PORT |1|10.0.0.1|21|\r\n", ORIG, V4), -1);
}

/* Numbers that are out of range or too long: the kernel's arithmetic (see
 * read_rfc959() in ctdp-ftp.c), and lines of any length. */
static void
test_bogus_and_long(void)
{
    /* A byte above 255 is OR'ed into the bytes before it. */
    CHECK(hit("PORT 1,2,256,4,0,1\r\n", ORIG, V4, CTDP_FTP_PORT,
              "1.3.0.4", 1, "1,2,256,4,0,1"));
    CHECK(hit("PORT 1,256,0,0,0,1\r\n", ORIG, V4, CTDP_FTP_PORT,
              "1.0.0.0", 1, "1,256,0,0,0,1"));
    CHECK(hit("PORT 0,0,0,0,2,300\r\n", ORIG, V4, CTDP_FTP_PORT,
              "0.0.0.0", 512 | 300, "0,0,0,0,2,300"));
    CHECK(hit("PORT 0,0,0,0,300,0\r\n", ORIG, V4, CTDP_FTP_PORT,
              "0.0.0.0", (300 << 8) & 0xffff, "0,0,0,0,300,0"));
    /* Numbers are read mod 2^32: 4294967297 is 1. */
    CHECK(hit("PORT 4294967297,2,3,4,0,21\r\n", ORIG, V4, CTDP_FTP_PORT,
              "1.2.3.4", 21, "4294967297,2,3,4,0,21"));
    CHECK(hit("PORT 10,0,0,1,0,4294967317\r\n", ORIG, V4, CTDP_FTP_PORT,
              "10.0.0.1", 21, "10,0,0,1,0,4294967317"));
    /* Too few or too many numbers, other separators or bytes. */
    CHECK_EQ(find("PORT 10,0,0,1,0\r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT 10,0,0,1,0,21,5\r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT 10.0.0.1.0.21\r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT 10,0,0,1,0,21 \r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT  10,0,0,1,0,21\r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT -10,0,0,1,0,21\r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT 10,0,0,1,0,2a\r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT\r\n", ORIG, V4), -1);
    CHECK_EQ(find("PORT\r\n10,0,0,1,0,21\r\n", ORIG, V4), -1);

    /* Long lines: no limit but the payload's. */
    size_t n = 5000;
    char *p = xmalloc(n + 64);

    /* Leading zeros by the thousand. */
    memcpy(p, "PORT ", 5);
    memset(p + 5, '0', n);
    strcpy(p + 5 + n, "10,0,0,1,0,21\r\n");
    {
        struct ctdp_ftp_cmd cmd;

        CHECK_EQ(find_n(p, strlen(p), ORIG, V4, &cmd), 1);
        CHECK_EQ(cmd.match_ofs, 5);
        CHECK_EQ(cmd.match_len, n + 13);
        CHECK_EQ(cmd.port, 21);
    }
    /* A long text before the 227's first digit. */
    memcpy(p, "227 ", 4);
    memset(p + 4, 'x', n);
    strcpy(p + 4 + n, "(10,0,0,1,0,21)\r\n");
    CHECK(hit_n(p, strlen(p), REPLY, V4, CTDP_FTP_PASV, "10.0.0.1", 21,
                4 + n + 1, "10,0,0,1,0,21", 13));
    /* A long 229 with no '(', a long PORT with no terminator, a long
     * EPRT IPv6 address. */
    memcpy(p, "229 ", 4);
    memset(p + 4, 'x', n);
    strcpy(p + 4 + n, "|||21|\r\n");
    CHECK_EQ(find(p, REPLY, V4), -1);
    memcpy(p, "PORT ", 5);
    memset(p + 5, ',', 5);
    memset(p + 10, '9', n);
    p[10 + n] = '\0';
    CHECK_EQ(find(p, ORIG, V4), -1);
    memcpy(p, "EPRT |2|", 8);
    memset(p + 8, '0', n);
    strcpy(p + 8 + n, "1::|21|\r\n");
    {
        struct ctdp_ftp_cmd cmd;
        union ctdp_addr want = addr_of(V6, "1::");

        CHECK_EQ(find_n(p, strlen(p), ORIG, V6, &cmd), 1);
        CHECK(!memcmp(&cmd.addr, &want, sizeof want));
        CHECK_EQ(cmd.match_ofs, 5);
        CHECK_EQ(cmd.match_len, n + 10);
    }
    free(p);
}

/* The parser keeps nothing: the same payload always gives the same answer
 * (a retransmission is read as the original was), whatever came before,
 * and the payload is not written. */
static void
test_pure(void)
{
    static const char *const payloads[] = {
        "PORT 192,168,1,2,4,1\r\n", "EPRT |1|10.0.0.1|21|\r\n",
        "PORT 192,168,1", "PO", "USER x\r\n",
    };

    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < ARRAY_SIZE(payloads); i++) {
            char copy[64];
            struct ctdp_ftp_cmd a, b;
            int ra, rb;

            snprintf(copy, sizeof copy, "%s", payloads[i]);
            ra = find_n(copy, strlen(copy), ORIG, V4, &a);
            /* Something else in between. */
            find("229 (|||21|)", REPLY, V4);
            rb = find_n(copy, strlen(copy), ORIG, V4, &b);
            CHECK_EQ(ra, rb);
            CHECK(!memcmp(&a, &b, sizeof a));
            CHECK(!strcmp(copy, payloads[i]));
        }
    }
}

/* ctdp_ftp_format() writes the kernel's text exactly. */
static void
test_format(void)
{
    union ctdp_addr a4 = addr_of(V4, "192.168.1.2");
    union ctdp_addr a6 = addr_of(V6, "2001:db8::a:1");
    char buf[CTDP_FTP_MAX_TEXT];

    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_PORT, V4, &a4, 1025, buf), 15);
    CHECK(!strcmp(buf, "192,168,1,2,4,1"));
    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_PASV, V4, &a4, 65535, buf), 19);
    CHECK(!strcmp(buf, "192,168,1,2,255,255"));
    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_EPRT, V4, &a4, 6275, buf), 20);
    CHECK(!strcmp(buf, "|1|192.168.1.2|6275|"));
    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_EPRT, V6, &a6, 21, buf), 46);
    CHECK(!strcmp(buf, "|2|2001:0db8:0000:0000:0000:0000:000a:0001|21|"));
    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_EPSV, V4, &a4, 6446, buf), 8);
    CHECK(!strcmp(buf, "|||6446|"));
    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_EPSV, V6, &a6, 1, buf), 5);
    CHECK(!strcmp(buf, "|||1|"));
    /* The longest. */
    memset(&a6, 0xff, sizeof a6);
    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_EPRT, V6, &a6, 65535, buf), 49);
    CHECK(strlen(buf) < CTDP_FTP_MAX_TEXT);
    CHECK_EQ(ctdp_ftp_format(CTDP_FTP_PORT, V4, &a6, 65535, buf), 23);
}

/* Formatting then parsing gives back the address and port, for every type
 * and family, with the match exactly on the text written. */
static void
test_format_round_trip(void)
{
    static const char *const addrs4[] = {
        "0.0.0.0", "10.0.0.1", "192.0.2.1", "255.255.255.255",
    };
    static const char *const addrs6[] = {
        "::", "::1", "2001:db8::1", "fe80::1:2:3:4", "::ffff:10.0.0.1",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    };
    static const uint16_t ports[] = { 0, 1, 20, 255, 256, 1025, 65535 };
    static const struct {
        enum ctdp_ftp_type type;
        enum ctdp_ct_dir dir;
        const char *before, *after;
    } forms[] = {
        { CTDP_FTP_PORT, ORIG, "PORT ", "\r\n" },
        { CTDP_FTP_PASV, REPLY, "227 Entering Passive Mode (", ").\r\n" },
        { CTDP_FTP_PASV, REPLY, "227 Entering Passive Mode ", "\r\n" },
        { CTDP_FTP_EPRT, ORIG, "EPRT ", "\r\n" },
        { CTDP_FTP_EPSV, REPLY, "229 Entering Extended Passive Mode (",
          ")\r\n" },
    };

    for (int f = 0; f < 2; f++) {
        uint8_t l3 = f ? V6 : V4;
        const char *const *addrs = f ? addrs6 : addrs4;
        size_t n_addrs = f ? ARRAY_SIZE(addrs6) : ARRAY_SIZE(addrs4);

        for (size_t k = 0; k < ARRAY_SIZE(forms); k++) {
            for (size_t a = 0; a < n_addrs; a++) {
                for (size_t p = 0; p < ARRAY_SIZE(ports); p++) {
                    enum ctdp_ftp_type type = forms[k].type;
                    union ctdp_addr addr = addr_of(l3, addrs[a]);
                    struct ctdp_ftp_cmd cmd, want = cmd_in(l3);
                    char text[CTDP_FTP_MAX_TEXT], payload[256];
                    size_t len;
                    int ret;

                    len = ctdp_ftp_format(type, l3, &addr, ports[p], text);
                    CHECK_EQ(len, strlen(text));
                    snprintf(payload, sizeof payload, "%s%s%s",
                             forms[k].before, text, forms[k].after);
                    ret = find_n(payload, strlen(payload), forms[k].dir, l3,
                                 &cmd);

                    /* What the parser should give: PORT and 227 write the
                     * first 4 bytes, EPRT the address, EPSV none. */
                    if (type == CTDP_FTP_PORT || type == CTDP_FTP_PASV) {
                        memcpy(&want.addr, &addr, 4);
                    } else if (type == CTDP_FTP_EPRT) {
                        want.addr = addr;
                    }
                    if ((type == CTDP_FTP_EPRT || type == CTDP_FTP_EPSV)
                        && !ports[p]) {
                        /* The kernel refuses port 0 there. */
                        CHECK_EQ(ret, -1);
                        continue;
                    }
                    if (!CHECK_EQ(ret, 1)
                        || !CHECK_EQ(cmd.type, type)
                        || !CHECK(!memcmp(&cmd.addr, &want.addr,
                                          sizeof want.addr))
                        || !CHECK_EQ(cmd.port, ports[p])
                        || !CHECK_EQ(cmd.match_ofs, strlen(forms[k].before))
                        || !CHECK_EQ(cmd.match_len, len)) {
                        printf("#   %s\n", payload);
                    }
                }
            }
        }
    }
}

const struct ctdp_unit_suite ct_ftp_suite = {
    "ct-ftp", (const struct ctdp_unit_case[]) {
        { "port", test_port },
        { "eprt", test_eprt },
        { "eprt-ipv6-forms", test_eprt_ipv6_forms },
        { "pasv", test_pasv },
        { "epsv", test_epsv },
        { "case-and-direction", test_case_and_direction },
        { "partial", test_partial },
        { "bogus-and-long", test_bogus_and_long },
        { "pure", test_pure },
        { "format", test_format },
        { "format-round-trip", test_format_round_trip },
        { NULL, NULL },
    },
};
