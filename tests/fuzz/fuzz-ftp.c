/* Fuzz target: the FTP helper's parser (datapath-ct/ctdp-ftp.c).
 *
 * An input is one byte of settings, then a TCP payload (the rest of the
 * input, any bytes):
 *
 *   bit 0   direction: 0 original (PORT, EPRT), 1 reply (227, 229)
 *   bit 1   the conn's family: 0 IPv4 (address 192.0.2.1), 1 IPv6
 *           (2001:db8::1)
 *   others  unused
 *
 * The payload goes to ctdp_ftp_find() in a buffer of its exact size, so
 * that a read past it is caught.  What must hold:
 *
 *   - the answer is 1, 0 or -1, and 'cmd' is left alone unless it is 1;
 *   - the same payload gives the same answer again (nothing is kept);
 *   - on 1: the type is one of the direction's, the match lies within the
 *     payload and is not empty, EPRT and 229 never give port 0, a 229
 *     keeps the conn's address and PORT, 227 and EPRT |1| keep all but its
 *     first 4 bytes;
 *   - on 1, round trips: ctdp_ftp_format() of what was found, in a plain
 *     command or reply, reads back as the same address and port with the
 *     match exactly on the text written; and the matched text alone, in a
 *     plain command or reply, reads back the same. */
#include <config.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "ctdp-ftp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A plain command or reply of each type: what goes before and after the
 * text that names the address and port. */
static const struct {
    const char *before, *after;
    enum ctdp_ct_dir dir;
} plain[] = {
    [CTDP_FTP_PORT] = { "PORT ", "\r\n", CTDP_DIR_ORIG },
    [CTDP_FTP_PASV] = { "227 Entering Passive Mode (", ").\r\n",
                        CTDP_DIR_REPLY },
    [CTDP_FTP_EPRT] = { "EPRT ", "\r\n", CTDP_DIR_ORIG },
    [CTDP_FTP_EPSV] = { "229 Entering Extended Passive Mode (", ")\r\n",
                        CTDP_DIR_REPLY },
};

static struct ctdp_ftp_cmd
conn_cmd(uint8_t l3)
{
    struct ctdp_ftp_cmd cmd;

    /* Not zero, so that an output left unset is seen. */
    memset(&cmd, 0x5a, sizeof cmd);
    cmd.l3 = l3;
    memset(&cmd.addr, 0, sizeof cmd.addr);
    ovs_assert(inet_pton(l3 == CTDP_L3_IPV4 ? AF_INET : AF_INET6,
                         l3 == CTDP_L3_IPV4 ? "192.0.2.1" : "2001:db8::1",
                         &cmd.addr) == 1);
    return cmd;
}

/* Puts 'text_len' bytes of 'text' into the plain command or reply of
 * 'found->type', reads it from a conn of the same family and address, and
 * checks that it gives what 'found' says, with the match on 'text'. */
static void
check_reads_back(const struct ctdp_ftp_cmd *found, const char *text,
                 size_t text_len)
{
    const char *before = plain[found->type].before;
    const char *after = plain[found->type].after;
    size_t n_before = strlen(before), n_after = strlen(after);
    size_t len = n_before + text_len + n_after;
    struct ctdp_ftp_cmd cmd = conn_cmd(found->l3);
    char *p = xmalloc(len);

    memcpy(p, before, n_before);
    memcpy(p + n_before, text, text_len);
    memcpy(p + n_before + text_len, after, n_after);
    ovs_assert(ctdp_ftp_find(p, len, plain[found->type].dir, &cmd) == 1);
    ovs_assert(cmd.type == found->type);
    ovs_assert(!memcmp(&cmd.addr, &found->addr, sizeof cmd.addr));
    ovs_assert(cmd.port == found->port);
    ovs_assert(cmd.match_ofs == n_before);
    ovs_assert(cmd.match_len == text_len);
    free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctdp_ftp_cmd in, cmd, again;
    enum ctdp_ct_dir dir;
    char text[CTDP_FTP_MAX_TEXT];
    uint8_t l3;
    size_t len;
    char *p;
    int ret;

    if (!size) {
        return 0;
    }
    dir = data[0] & 1 ? CTDP_DIR_REPLY : CTDP_DIR_ORIG;
    l3 = data[0] & 2 ? CTDP_L3_IPV6 : CTDP_L3_IPV4;
    len = size - 1;
    p = xmalloc(len ? len : 1);
    memcpy(p, data + 1, len);

    in = cmd = again = conn_cmd(l3);
    ret = ctdp_ftp_find(p, len, dir, &cmd);
    ovs_assert(ret == 1 || ret == 0 || ret == -1);
    ovs_assert(ctdp_ftp_find(p, len, dir, &again) == ret);
    ovs_assert(!memcmp(&cmd, &again, sizeof cmd));
    ovs_assert(!memcmp(p, data + 1, len));
    if (ret != 1) {
        ovs_assert(!memcmp(&cmd, &in, sizeof cmd));
        free(p);
        return 0;
    }

    ovs_assert(dir == CTDP_DIR_ORIG
               ? cmd.type == CTDP_FTP_PORT || cmd.type == CTDP_FTP_EPRT
               : cmd.type == CTDP_FTP_PASV || cmd.type == CTDP_FTP_EPSV);
    ovs_assert(cmd.l3 == l3);
    ovs_assert(cmd.match_len > 0);
    ovs_assert(cmd.match_ofs <= len && cmd.match_len <= len - cmd.match_ofs);
    if (cmd.type == CTDP_FTP_EPRT || cmd.type == CTDP_FTP_EPSV) {
        ovs_assert(cmd.port != 0);
    }
    if (cmd.type == CTDP_FTP_EPSV) {
        ovs_assert(!memcmp(&cmd.addr, &in.addr, sizeof cmd.addr));
    } else if (cmd.type != CTDP_FTP_EPRT || l3 == CTDP_L3_IPV4) {
        ovs_assert(!memcmp((char *) &cmd.addr + 4, (char *) &in.addr + 4,
                           sizeof cmd.addr - 4));
    }

    /* NAT's text for what was found reads back as it. */
    len = ctdp_ftp_format(cmd.type, l3, &cmd.addr, cmd.port, text);
    ovs_assert(len > 0 && len < CTDP_FTP_MAX_TEXT && len == strlen(text));
    check_reads_back(&cmd, text, len);

    /* So does the matched text itself. */
    check_reads_back(&cmd, p + cmd.match_ofs, cmd.match_len);

    free(p);
    return 0;
}
