#ifndef CTDP_FTP_H
#define CTDP_FTP_H 1

/* The FTP helper's parser: the commands and replies that open a data
 * connection, as the Linux kernel's nf_conntrack_ftp reads them, and the
 * text that names an address and port in them, as nf_nat_ftp writes it.
 *
 * The helper looks at a TCP payload that starts just after a newline (the
 * helper tracks where lines start; this module does not) and asks
 * ctdp_ftp_find() whether it starts with one of:
 *
 *   original direction (client to server):
 *     PORT a,b,c,d,p1,p2\r          (RFC 959)
 *     EPRT |1|a.b.c.d|port|\r       (RFC 2428; any delimiter in
 *     EPRT |2|ipv6-address|port|\r   33..126 but a digit)
 *   reply direction (server to client):
 *     227 ...a,b,c,d,p1,p2...       (RFC 959's PASV reply, read as RFC
 *                                    1123 says: from the first digit)
 *     229 ...(|||port|)...          (RFC 2428's EPSV reply)
 *
 * in the kernel's order (PORT before EPRT, 227 before 229; the first that
 * is not "no match" decides), with the kernel's quirks, which the comments
 * in ctdp-ftp.c list: the command names match in any case, a payload that
 * ends inside a command is partial, numbers are not range-checked, and so
 * on.  ctdp_ftp_format() writes the text of a command with another address
 * or port, for NAT.
 *
 * Thread-safety: every function is pure (reentrant); nothing is kept
 * between calls, so a retransmitted payload gives the same answer. */

#include <stddef.h>
#include <stdint.h>
#include "ctdp-ct.h"
#include "ctdp-tuple.h"

/* As the kernel's enum nf_ct_ftp_type. */
enum ctdp_ftp_type {
    CTDP_FTP_PORT,              /* PORT command. */
    CTDP_FTP_PASV,              /* 227 reply to PASV. */
    CTDP_FTP_EPRT,              /* EPRT command. */
    CTDP_FTP_EPSV,              /* 229 reply to EPSV. */
};

/* A command or reply found by ctdp_ftp_find(), as the kernel's struct
 * nf_conntrack_man plus find_pattern()'s 'numoff' and 'numlen'. */
struct ctdp_ftp_cmd {
    enum ctdp_ftp_type type;    /* Out. */
    uint8_t l3;                 /* In: the conn's family, CTDP_L3_IPV4 or
                                 * CTDP_L3_IPV6 (EPRT must name it). */
    union ctdp_addr addr;       /* In: the conn's source address in the
                                 * payload's direction; out: the address
                                 * named (see below). */
    uint16_t port;              /* Out: the port named, host byte order. */
    size_t match_ofs;           /* Out: where the address/port text starts
                                 * in the payload... */
    size_t match_len;           /* ...and its length (within 'len'), the
                                 * text NAT replaces. */
};

/* Looks for a command or reply that can open a data connection at the start
 * of 'data', 'len' bytes of TCP payload travelling in direction 'dir' of
 * the conn, as the kernel's find_pattern() with its search[] table: PORT
 * and EPRT in CTDP_DIR_ORIG, 227 and 229 in CTDP_DIR_REPLY.
 *
 * 'cmd->l3' and 'cmd->addr' are inputs, as the kernel's help() sets them
 * up from the conn before parsing.  Returns:
 *
 *    1  found: every output of 'cmd' is set.  'addr' is the address named:
 *       PORT, 227 and EPRT |1| write only its first 4 bytes ('addr.ip4',
 *       as the kernel writes u3.ip) and keep the rest from the input, which
 *       is zero for an IPv4 conn (on an IPv6 conn, PORT and 227 thus give
 *       an address that equals the conn's only if those 4 bytes do, as in
 *       the kernel); EPRT |2| writes all 16; a 229 reply names none and
 *       keeps the input.  'port' may be 0 for PORT and 227 (the kernel
 *       accepts it); never for EPRT and 229.
 *    0  none: the payload does not start with one of those (in 'dir').
 *   -1  partial or malformed: it starts with one (or with a prefix of one,
 *       when 'len' is no longer than the name) but what follows cannot be
 *       read; the kernel drops such a packet.
 *
 * On 0 and -1, 'cmd' is left as it was.  A 'len' of 0 gives 0 (the kernel's
 * help() does not look at an empty payload). */
int ctdp_ftp_find(const char *data, size_t len, enum ctdp_ct_dir dir,
                  struct ctdp_ftp_cmd *cmd);

/* The longest text ctdp_ftp_format() writes, with its NUL:
 * "|2|" + 39 + "|65535|" + 1 = 50, rounded up. */
#define CTDP_FTP_MAX_TEXT 64

/* Writes into 'buf' (at least CTDP_FTP_MAX_TEXT bytes) the text that names
 * 'addr' (of family 'l3', CTDP_L3_IPV4 or CTDP_L3_IPV6) and 'port' (host
 * byte order) in a command or reply of 'type', as the kernel's
 * nf_nat_ftp_fmt_cmd(), NUL-terminated, and returns its length:
 *
 *   PORT, PASV   "a,b,c,d,p1,p2" from the first 4 bytes of 'addr'
 *   EPRT         "|1|a.b.c.d|port|" or "|2|x:x:x:x:x:x:x:x|port|", the
 *                latter with every group as 4 lowercase hex digits
 *                (the kernel's %pI6, never compressed)
 *   EPSV         "|||port|"
 *
 * The text is what ctdp_ftp_find() matches ('match_ofs', 'match_len') and
 * reads back as the same address and port (but EPRT and EPSV with port 0,
 * which the kernel's parser refuses). */
size_t ctdp_ftp_format(enum ctdp_ftp_type type, uint8_t l3,
                       const union ctdp_addr *addr, uint16_t port,
                       char *buf);

#endif /* ctdp-ftp.h */
