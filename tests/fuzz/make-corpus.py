#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/TARGET/.

Each seed is a meaningful input in the target's format (see the comment at
the top of tests/fuzz/fuzz-TARGET.c): TCP, UDP, ICMP and IPv6 exchanges
for the tracker, fragment sequences for defragmentation, the default
firewall's flows, dpctl command lines, small captures, and FTP commands
and replies for the FTP parser.  Frames carry right checksums.  Run from
anywhere; rewrites the seeds it makes (and only those), so the output is
the same every time.  Needs only Python.
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


# ---- Frames ----------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def l4_csum(src, dst, proto, l4, ofs):
    pseudo = b"" if proto == 1 else src + dst + struct.pack("!IxxxB", len(l4), proto)
    s = csum(pseudo + l4)
    if proto == 17 and s == 0:
        s = 0xffff
    return l4[:ofs] + struct.pack("!H", s) + l4[ofs + 2:]


CSUM_OFS = {6: 16, 17: 6, 1: 2, 58: 2}
SCTP, GRE = 132, 47


def crc32c(data):
    """CRC32c (RFC 9260 appendix B), a bit at a time."""
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff


def sctp_csum(l4):
    """'l4' (an SCTP packet) with its CRC32c, least significant byte
    first as the field holds it."""
    l4 = l4[:8] + bytes(4) + l4[12:]
    return l4[:8] + struct.pack("<I", crc32c(l4)) + l4[12:]


def eth(payload, ethertype, src=MAC_A, dst=MAC_B):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, l4, ident=1, mf=False, frag_ofs=0, whole=True):
    src, dst = ip4(src), ip4(dst)
    if whole and proto in CSUM_OFS:
        l4 = l4_csum(src, dst, proto, l4, CSUM_OFS[proto])
    elif whole and proto == SCTP:
        l4 = sctp_csum(l4)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident,
                      (0x2000 if mf else 0) | (frag_ofs // 8), 64, proto, 0,
                      src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return eth(hdr + l4, 0x0800)


def ipv6(src, dst, proto, l4, ext=(), whole=True):
    """'ext': (next-header value, 8-byte body without its first 2 bytes)."""
    src, dst = ip6(src), ip6(dst)
    if whole and proto in CSUM_OFS:
        l4 = l4_csum(src, dst, proto, l4, CSUM_OFS[proto])
    elif whole and proto == SCTP:
        l4 = sctp_csum(l4)
    chain = [e[0] for e in ext] + [proto]
    exts = b"".join(bytes([chain[i + 1], 0]) + body
                    for i, (_, body) in enumerate(ext))
    hdr = struct.pack("!IHBB16s16s", 0x60000000, len(exts) + len(l4),
                      chain[0], 64, src, dst)
    return eth(hdr + exts + l4, 0x86dd)


def tcp(sport, dport, flags, seq=1000, ack=0, win=65535, opts=b"", data=b""):
    opts += b"\0" * (-len(opts) % 4)
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack,
                       (5 + len(opts) // 4) << 4, flags, win, 0, 0) + opts + data


def udp(sport, dport, data=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(typ, code, rest, data=b""):
    return struct.pack("!BBH", typ, code, 0) + rest + data


# SCTP chunk types (RFC 9260) and the Initiate Tags of A and B.
(S_DATA, S_INIT, S_INIT_ACK, S_SACK, S_HEARTBEAT, S_HEARTBEAT_ACK, S_ABORT,
 S_SHUTDOWN, S_SHUTDOWN_ACK) = range(9)
S_COOKIE_ECHO, S_COOKIE_ACK, S_SHUTDOWN_COMPLETE = 10, 11, 14
TAG_A, TAG_B = 0x0a0a0a0a, 0x0b0b0b0b


def chunk(typ, body=b"", flags=0, length=None):
    """An SCTP chunk, padded to 4 bytes; 'length' overrides its length
    field (0: the invalid zero-length chunk)."""
    n = 4 + len(body) if length is None else length
    return struct.pack("!BBH", typ, flags, n) + body + bytes(-len(body) % 4)


def init_chunk(typ, tag):
    return chunk(typ, struct.pack("!IIHHI", tag, 65535, 1, 1, 1))


def sctp(sport, dport, vtag, *chunks):
    """An SCTP packet (its CRC32c is written by ipv4() / ipv6())."""
    return struct.pack("!HHII", sport, dport, vtag, 0) + b"".join(chunks)


def sctp_exchange(v6=False, heartbeat=False, end="shutdown"):
    """An association between A:5000 and B:6000 as (frame, from_a) pairs:
    the handshake (or, with 'heartbeat', a HEARTBEAT-made conn), DATA and
    SACK, then 'end': "shutdown", "abort" (with and without the T bit),
    or "invalid" (a wrong tag, an INIT bundled, a zero-length chunk)."""
    a, b = ("2001:db8::1", "2001:db8::2") if v6 else ("10.0.0.1", "10.0.0.2")
    ip = ipv6 if v6 else ipv4

    def pkt(from_a, *chunks, tag=None):
        s, d = (a, b) if from_a else (b, a)
        ps, pd = (5000, 6000) if from_a else (6000, 5000)
        if tag is None:
            tag = TAG_B if from_a else TAG_A
        return ip(s, d, SCTP, sctp(ps, pd, tag, *chunks)), from_a

    hb = chunk(S_HEARTBEAT, struct.pack("!HH", 1, 12) + b"path-two")
    hb_ack = chunk(S_HEARTBEAT_ACK, struct.pack("!HH", 1, 12) + b"path-two")
    if heartbeat:
        frames = [pkt(True, hb), pkt(False, hb_ack)]
    else:
        frames = [pkt(True, init_chunk(S_INIT, TAG_A), tag=0),
                  pkt(False, init_chunk(S_INIT_ACK, TAG_B)),
                  pkt(True, chunk(S_COOKIE_ECHO, b"cookie!!")),
                  pkt(False, chunk(S_COOKIE_ACK))]
    frames += [pkt(True, chunk(S_DATA, struct.pack("!IHHI", 1, 0, 0, 0)
                               + b"hello", flags=3)),
               pkt(False, chunk(S_SACK, struct.pack("!IIHH", 1, 65535, 0,
                                                    0)))]
    if end == "shutdown":
        frames += [pkt(True, chunk(S_SHUTDOWN, struct.pack("!I", 0))),
                   pkt(False, chunk(S_SHUTDOWN_ACK)),
                   pkt(True, chunk(S_SHUTDOWN_COMPLETE))]
    elif end == "abort":
        frames += [pkt(True, hb, tag=0x1111),
                   pkt(False, hb_ack, tag=0x2222),
                   pkt(True, chunk(S_ABORT, flags=1), tag=TAG_A),
                   pkt(True, chunk(S_ABORT))]
    else:
        frames += [pkt(True, chunk(S_DATA, bytes(16)), tag=0xdead),
                   pkt(True, init_chunk(S_INIT, TAG_A),
                       chunk(S_DATA, bytes(16)), tag=0),
                   pkt(True, chunk(S_DATA, bytes(16)),
                       chunk(S_SACK, length=0)),
                   pkt(False, chunk(S_SACK, bytes(12)),
                       chunk(S_COOKIE_ACK))]
    return frames


def gre_exchange():
    """GRE version 0 both ways, then PPTP's version 1 (call ids 0x1234
    and 0x5678), and a version 1 packet that does not carry PPP."""
    a, b = "10.0.0.1", "10.0.0.2"
    inner = ipv4("192.168.0.1", "192.168.0.2", 17, udp(1, 2, b"in"))[14:]
    v0 = struct.pack("!HH", 0, 0x0800) + inner
    keyed = struct.pack("!HHI", 0x2000, 0x0800, 77) + inner

    def pptp(call_id, proto=0x880b):
        return struct.pack("!BBHHHI", 0x30, 1, proto, len(inner) + 2,
                           call_id, 1) + b"\xff\x03\x00\x21" + inner

    return [(ipv4(a, b, GRE, v0), True), (ipv4(b, a, GRE, keyed), False),
            (ipv4(a, b, GRE, v0), True),
            (ipv6("2001:db8::1", "2001:db8::2", GRE, v0), True),
            (ipv4(a, b, GRE, pptp(0x1234)), True),
            (ipv4(b, a, GRE, pptp(0x5678)), False),
            (ipv4(a, b, GRE, pptp(0)), True),
            (ipv4(b, a, GRE, pptp(0)), False),
            (ipv4(a, b, GRE, pptp(0x1234, 0x0800)), True)]


SYN, FIN, RST, PSH, ACK = 2, 1, 4, 8, 16
MSS = bytes([2, 4, 5, 180])
WSCALE = bytes([1, 3, 3, 7])
SACKOK = bytes([1, 1, 4, 2])


def tcp_exchange(v6=False, sport=40000, dport=80):
    """A whole connection: (frame, from_a) pairs."""
    a, b = ("2001:db8::1", "2001:db8::2") if v6 else ("10.0.0.1", "10.0.0.2")
    ip = ipv6 if v6 else ipv4

    def seg(from_a, flags, seq, ack, data=b"", opts=b""):
        s, d = (a, b) if from_a else (b, a)
        ps, pd = (sport, dport) if from_a else (dport, sport)
        return ip(s, d, 6, tcp(ps, pd, flags, seq, ack, opts=opts, data=data)), from_a

    return [
        seg(True, SYN, 1000, 0, opts=MSS + WSCALE + SACKOK),
        seg(False, SYN | ACK, 5000, 1001, opts=MSS + WSCALE + SACKOK),
        seg(True, ACK, 1001, 5001),
        seg(True, PSH | ACK, 1001, 5001, b"GET / HTTP/1.0\r\n\r\n"),
        seg(False, ACK, 5001, 1019),
        seg(False, PSH | ACK, 5001, 1019, b"HTTP/1.0 200 OK\r\n\r\n"),
        seg(True, FIN | ACK, 1019, 5020),
        seg(False, FIN | ACK, 5020, 1020),
        seg(True, ACK, 1020, 5021),
    ]


def udp_pair(v6=False):
    a, b = ("2001:db8::1", "2001:db8::2") if v6 else ("10.0.0.1", "10.0.0.2")
    ip = ipv6 if v6 else ipv4
    return [(ip(a, b, 17, udp(5353, 53, b"query")), True),
            (ip(b, a, 17, udp(53, 5353, b"answer")), False)]


def icmp_frames():
    req = ipv4("10.0.0.1", "10.0.0.2", 1, icmp(8, 0, struct.pack("!HH", 7, 1), b"ping" * 8))
    rep = ipv4("10.0.0.2", "10.0.0.1", 1, icmp(0, 0, struct.pack("!HH", 7, 1), b"ping" * 8))
    udp_out = ipv4("10.0.0.1", "10.0.0.2", 17, udp(6000, 7000, b"x" * 8))
    # Port unreachable from B, quoting A's UDP packet: RELATED.
    quoted = udp_out[14:14 + 28]
    unreach = ipv4("10.0.0.2", "10.0.0.1", 1, icmp(3, 3, b"\0" * 4, quoted))
    req6 = ipv6("2001:db8::1", "2001:db8::2", 58, icmp(128, 0, struct.pack("!HH", 9, 1), b"ping6"))
    rep6 = ipv6("2001:db8::2", "2001:db8::1", 58, icmp(129, 0, struct.pack("!HH", 9, 1), b"ping6"))
    return req, rep, udp_out, unreach, req6, rep6


def fragments(whole_l4, proto, size, v6=False, ident=0x1234, order=None):
    """Fragments of one datagram carrying 'whole_l4' (L4 checksum already
    right), 'size' bytes of payload each (a multiple of 8)."""
    pieces = [(o, whole_l4[o:o + size]) for o in range(0, len(whole_l4), size)]
    frames = []
    for i, (o, data) in enumerate(pieces):
        mf = i + 1 < len(pieces)
        if v6:
            body = struct.pack("!BxHI", proto, o | int(mf), ident)
            src, dst = ip6("2001:db8::1"), ip6("2001:db8::2")
            hdr = struct.pack("!IHBB16s16s", 0x60000000, 8 + len(data), 44, 64, src, dst)
            frames.append(eth(hdr + body + data, 0x86dd))
        else:
            frames.append(ipv4("10.0.0.1", "10.0.0.2", proto, data, ident=ident,
                               mf=mf, frag_ofs=o, whole=False))
    if order:
        frames = [frames[i] for i in order]
    return frames


def udp_datagram(n, v6=False):
    """A UDP header and payload of 'n' bytes with the right checksum."""
    l4 = udp(1111, 2222, bytes(range(256)) * (n // 256) + bytes(n % 256))
    if v6:
        return l4_csum(ip6("2001:db8::1"), ip6("2001:db8::2"), 17, l4, 6)
    return l4_csum(ip4("10.0.0.1"), ip4("10.0.0.2"), 17, l4, 6)


# ---- Seeds, by target ------------------------------------------------------

def packets_record(frame, flags=0, zone=0, clock=1, mark=0, label=0, arg=0,
                   keep=False):
    return struct.pack("!BBBBBBH", flags, zone, clock, mark, label, arg,
                       len(frame) | (0x8000 if keep else 0)) + frame


def packets_control(op, arg=0, mark=0, label=0, clock=0):
    return struct.pack("!BBBBBBH", 0x80, op, clock, mark, label, arg, 0)


COMMIT, FORCE, MARK, LABEL, AGAIN, EXTRACT, BATCH = 1, 2, 4, 8, 16, 32, 64


def packets_seeds():
    s = {}
    s["tcp-handshake"] = b"".join(
        packets_record(f, COMMIT | EXTRACT, clock=2) for f, _ in tcp_exchange())
    s["tcp6-handshake"] = b"".join(
        packets_record(f, COMMIT, clock=2) for f, _ in tcp_exchange(v6=True))
    s["udp-expire"] = (b"".join(packets_record(f, COMMIT, zone=3) for f, _ in udp_pair())
                       + packets_control(0, arg=255, clock=200)
                       + b"".join(packets_record(f, 0, zone=3) for f, _ in udp_pair()))
    req, rep, udp_out, unreach, req6, rep6 = icmp_frames()
    s["icmp-related"] = b"".join(packets_record(f, COMMIT | EXTRACT) for f in
                                 (req, rep, udp_out, unreach, req6, rep6))
    s["zones-marks"] = b"".join(
        packets_record(f, COMMIT | MARK | LABEL | AGAIN, zone=z, mark=0x21, label=0x42)
        for z in (1, 2) for f, _ in udp_pair(v6=z == 2)) + packets_control(3)
    s["force"] = b"".join(packets_record(f, COMMIT | (0 if a else FORCE), zone=7)
                          for f, a in udp_pair()) + packets_control(3)
    s["batch"] = b"".join(packets_record(f, COMMIT | BATCH, clock=0)
                          for f, _ in tcp_exchange()[:3] + udp_pair())
    s["controls"] = (packets_control(5, arg=4, label=1)
                     + packets_control(6, arg=4, mark=12, label=5)
                     + b"".join(packets_record(f, COMMIT, zone=4) for f, _ in udp_pair())
                     + packets_control(4, arg=2) + packets_control(2, mark=0, arg=0)
                     + packets_control(1, arg=1, label=4) + packets_control(7, arg=3)
                     + packets_control(3))
    # NAT (the 'arg' byte, see fuzz-packets.c): SNAT with a port range, the
    # replies and a related error de-NATed by bare nat; DNAT over IPv6.
    SNAT_PORTS, BARE, DNAT6 = 2 | 8, 1, 3 | 4
    s["nat-snat"] = b"".join(
        packets_record(f, COMMIT, zone=5, mark=3, arg=SNAT_PORTS if a else BARE)
        for f, a in tcp_exchange()[:3] + udp_pair()) + b"".join(
        packets_record(f, COMMIT | EXTRACT, zone=5, arg=SNAT_PORTS if i % 2 == 0
                       else BARE) for i, f in enumerate((req, rep, udp_out,
                                                         unreach))) \
        + packets_control(3)
    s["nat-dnat6"] = b"".join(
        packets_record(f, COMMIT, zone=6, mark=1, arg=DNAT6 if a else BARE)
        for f, a in tcp_exchange(v6=True)[:3] + udp_pair(v6=True))
    # Helpers (arg bit 7): an FTP control conn with a PORT, the server's
    # data SYN; the same through source NAT (arg 0x80 | SNAT with ports).
    HELPER = 0x80
    a, b = "10.0.0.1", "10.0.0.2"
    ftp = [
        ipv4(a, b, 6, tcp(40000, 21, SYN, 1000, 0)),
        ipv4(b, a, 6, tcp(21, 40000, SYN | ACK, 5000, 1001)),
        ipv4(a, b, 6, tcp(40000, 21, ACK, 1001, 5001)),
        ipv4(b, a, 6, tcp(21, 40000, PSH | ACK, 5001, 1001, data=b"220 hi\r\n")),
        ipv4(a, b, 6, tcp(40000, 21, PSH | ACK, 1001, 5009, data=b"USER a\r\n")),
        ipv4(a, b, 6, tcp(40000, 21, PSH | ACK, 1009, 5009,
                          data=b"PORT 10,0,0,1,156,64\r\n")),
        ipv4(b, a, 6, tcp(20, 40000, SYN, 7000, 0)),
    ]
    s["helper-ftp"] = b"".join(packets_record(f, COMMIT, zone=8, arg=HELPER)
                               for f in ftp) + packets_control(3)
    s["helper-ftp-snat"] = b"".join(
        packets_record(f, COMMIT, zone=9, mark=2, arg=HELPER | SNAT_PORTS)
        for f in ftp) + packets_control(3)
    frag = fragments(udp_datagram(1200), 17, 600)[0]
    arp = eth(bytes.fromhex("0001080006040001") + MAC_A + ip4("10.0.0.1")
              + bytes(6) + ip4("10.0.0.2"), 0x0806)
    vlan = udp_pair()[0][0]
    vlan = vlan[:12] + bytes.fromhex("81000005") + vlan[12:]
    bad = bytearray(udp_pair()[0][0])
    bad[-1] ^= 0xff
    s["odd-frames"] = b"".join(packets_record(f, COMMIT) for f in (frag, arp, vlan)) \
        + packets_record(bytes(bad), COMMIT, keep=True)
    # SCTP: an association and its shutdown (IPv4, and IPv6 through SNAT
    # with ports and back), one that a HEARTBEAT made and an ABORT ends
    # after the heartbeat "vtag failed" path, invalid chunk sequences, and
    # a bad CRC kept as it is; GRE version 0 and PPTP.
    s["sctp-association"] = b"".join(
        packets_record(f, COMMIT, zone=10, clock=2) for f, _ in sctp_exchange()) \
        + packets_control(3)
    s["sctp6-association-nat"] = b"".join(
        packets_record(f, COMMIT, zone=11, mark=3, arg=(2 | 4 | 8) if a else BARE)
        for f, a in sctp_exchange(v6=True)) + packets_control(3)
    s["sctp-heartbeat-abort"] = b"".join(
        packets_record(f, COMMIT | EXTRACT, zone=12)
        for f, _ in sctp_exchange(heartbeat=True, end="abort"))
    s["sctp-invalid"] = b"".join(
        packets_record(f, COMMIT, zone=13) for f, _ in sctp_exchange(end="invalid"))
    init = bytearray(sctp_exchange()[0][0])
    init[-1] ^= 0xff
    s["sctp-bad-crc"] = packets_record(bytes(init), COMMIT, keep=True) \
        + packets_record(bytes(init), COMMIT)
    s["gre"] = b"".join(packets_record(f, COMMIT, zone=14, arg=SNAT_PORTS if i == 0
                                       else BARE) for i, (f, _) in
                        enumerate(gre_exchange())) + packets_control(3)
    return s


def fragments_record(frame, clock=1, zone=0, flags=0):
    return struct.pack("!BBBH", clock, zone, flags, len(frame)) + frame


SETTINGS = bytes([0, 0, 63, 63, 255, 0])


def fragments_seeds():
    s = {}
    v4 = fragments(udp_datagram(1400), 17, 496)
    v6 = fragments(udp_datagram(1400, v6=True), 17, 496, v6=True)
    s["v4-in-order"] = SETTINGS + b"".join(fragments_record(f, zone=4) for f in v4)
    s["v4-reversed"] = SETTINGS + b"".join(fragments_record(f) for f in reversed(v4))
    s["v6-in-order"] = SETTINGS + b"".join(fragments_record(f, flags=2) for f in v6)
    s["v4-duplicate"] = SETTINGS + b"".join(fragments_record(f) for f in v4[:2] + v4)
    overlap = fragments(udp_datagram(1400), 17, 496)
    shifted = fragments(udp_datagram(1400), 17, 248)[1]
    s["v4-overlap"] = SETTINGS + b"".join(fragments_record(f) for f in (overlap[0], shifted, overlap[1], overlap[2]))
    s["v4-expire"] = SETTINGS + fragments_record(v4[0]) + fragments_record(v4[1], clock=160, flags=4) \
        + fragments_record(v4[2])
    tiny = bytes([0, 0, 1, 1, 0, 0])
    s["v4-small-bounds"] = tiny + b"".join(fragments_record(f) for f in v4 + v6)
    s["v4-v6-interleaved"] = SETTINGS + b"".join(
        fragments_record(f, zone=i % 2) for i, f in enumerate(x for p in zip(v4, v6) for x in p))
    return s


def firewall_flows():
    src = open(os.path.join(TOP, "lib", "ctdp-dp.c")).read()
    m = re.search(r"ctdp_dp_firewall_flows\[\] =\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+);", src)
    return "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1))).replace("\\n", "\n")


def flows_seeds():
    fw = firewall_flows()
    return {
        "firewall": fw,
        "firewall-del-dump": fw + "-table=1,in_port=2\n?1\n-\n?\n",
        "zones-marks": ("table=0,priority=10,ip,actions=ct(table=1,zone=5)\n"
                        "table=1,ct_state=+trk+new,ip,actions=ct(commit,zone=5,"
                        "exec(set_field:0x1/0xff->ct_mark,set_field:0x2->ct_label)),output:2\n"
                        "table=1,ct_state=+trk+est,ct_mark=0x1/0xff,actions=resubmit(,2)\n"
                        "table=2,actions=load:0x5->NXM_NX_REG0[],move:NXM_NX_REG0[]->NXM_NX_REG1[],"
                        "goto_table:3\n"
                        "table=3,reg1=5,actions=ct_clear,note:00.01,output:1\n"
                        "table=3,priority=0,actions=drop\n"),
        "refused": ("table=0,ip,actions=ct(commit,nat(src=10.0.0.1))\n"
                    "table=0,ip,actions=mod_nw_src:10.0.0.9,output:2\n"
                    "table=0,ip,actions=ct(commit,force,alg=ftp),output:2\n"
                    "table=300,actions=drop\n"),
        "ipv6-icmp": ("table=0,ipv6,ct_state=-trk,actions=ct(table=1,zone=1)\n"
                      "table=1,ct_state=+trk+rel,icmp6,actions=output:1\n"
                      "table=1,ct_state=+trk+est+rpl,ipv6,ipv6_src=2001:db8::/64,"
                      "tcp6,tp_dst=80,actions=output:1\n"
                      "-table=1,icmp6\n?1\n"),
    }


def hexframe(frame):
    return frame.hex()


def commands_seeds():
    syn = tcp_exchange()[0][0]
    synack = tcp_exchange()[1][0]
    return {
        "conntrack": ("inject 1 " + hexframe(syn) + "\n"
                      "inject 2 " + hexframe(synack) + "\n"
                      "dump-conntrack -s -m\n"
                      "dump-conntrack --format=proc zone=0\n"
                      "ct-stats-show -m\n"
                      "ct-bkts gt=0\n"
                      "flush-conntrack zone=0 ct_nw_src=10.0.0.1,ct_nw_proto=6\n"
                      "ct-get-nconns\n"),
        "inject-odp": ("inject 1 eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),"
                       "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,"
                       "tos=0,ttl=64,frag=no),udp(src=1000,dst=53)\n"
                       "dump-conntrack\n"
                       "inject p2 eth(src=00:00:00:00:00:02,dst=00:00:00:00:00:01),"
                       "eth_type(0x86dd),ipv6(src=2001:db8::2,dst=2001:db8::1,proto=58,"
                       "tclass=0,hlimit=64,frag=no),icmpv6(type=128,code=0)\n"
                       "show\n"),
        "limits": ("ct-set-limits default=10 zone=5,limit=3 zone=7,limit=0\n"
                   "ct-get-limits zone=5,zone=7\n"
                   "ct-del-limits default zone=5\n"
                   "ct-set-maxconns 100\n"
                   "ct-get-maxconns\n"
                   "ct-set-sweep-interval 1000\n"
                   "ct-get-sweep-interval\n"),
        "timeouts": ("ct-set-timeout-policy zone=3 tcp_established=10 udp_first=5 icmp=1\n"
                     "ct-get-timeout-policy zone=3\n"
                     "ct-del-timeout-policy zone=3\n"
                     "ct-disable-tcp-seq-chk\n"
                     "ct-get-tcp-seq-chk\n"
                     "ct-enable-tcp-seq-chk\n"),
        "sysctls": ("ct-sysctl\n"
                    "ct-sysctl nf_conntrack_udp_timeout=5 "
                    "net.netfilter.nf_conntrack_tcp_loose=0\n"
                    "ct-sysctl nf_conntrack_count=1\n"
                    "ct-sysctl nf_conntrack_log_invalid=255 "
                    "nf_conntrack_checksum=0 nf_conntrack_acct=0\n"
                    "ct-set-tcp-be-liberal 1\n"
                    "ct-get-tcp-be-liberal\n"
                    "ct-set-tcp-loose 1\n"
                    "ct-get-tcp-loose\n"),
        "streams": ("dump-conntrack --stream -s\n"
                    "stream-read 1\n"
                    "stream-read 1\n"
                    "ct-events --stream --zone=5\n"
                    "dpctl/stream-read 2\n"
                    "stream-close 2\n"
                    "stream-close 9\n"),
        "flows-ipf": ("add-flow\ttable=0,priority=200,udp,actions=ct(commit,zone=9),output:2\n"
                      "dump-flows table=0\n"
                      "del-flows table=1,in_port=2\n"
                      "ipf-set-min-frag v4 400\n"
                      "ipf-set-max-nfrags 10\n"
                      "ipf-set-disabled v6\n"
                      "ipf-get-status -m\n"
                      "del-port p2\n"
                      "show\n"),
    }


def pcap(frames, nsec=False, t0=1700000000):
    magic = 0xa1b23c4d if nsec else 0xa1b2c3d4
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, 1)
    for i, f in enumerate(frames):
        sec, frac = t0 + i // 4, (i % 4) * (250000000 if nsec else 250000)
        out += struct.pack("<IIII", sec, frac, len(f), len(f)) + f
    return out


def pcap_seeds():
    conn = [f for f, _ in tcp_exchange()]
    req, rep, udp_out, unreach, req6, rep6 = icmp_frames()
    mixed = [req, udp_out, req6] + [f for f, _ in udp_pair(v6=True)]
    frags = fragments(udp_datagram(1400), 17, 496)
    return {
        "tcp": pcap(conn),
        "mixed-nsec": pcap(mixed, nsec=True),
        "fragments": pcap(frags),
        "truncated": pcap(conn)[:-10],
        "empty": pcap([]),
        "big-endian": struct.pack(">IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
        + struct.pack(">IIII", 1, 2, len(req), len(req)) + req,
    }


def ftp_seeds():
    """fuzz-ftp: a settings byte (bit 0: reply direction, bit 1: IPv6
    conn), then the payload."""
    ORIG4, REPLY4, ORIG6, REPLY6 = 0, 1, 2, 3
    seeds = {
        "port": (ORIG4, b"PORT 192,168,1,2,4,1\r\n"),
        "port-lower": (ORIG4, b"port 10,0,0,1,0,21\r\n"),
        "port-ipv6-conn": (ORIG6, b"PORT 32,1,13,184,0,20\r\n"),
        "port-bogus": (ORIG4, b"PORT 1,2,256,4,300,4294967297\r\n"),
        "port-partial": (ORIG4, b"PORT 192,168,1"),
        "eprt-v4": (ORIG4, b"EPRT |1|132.235.1.2|6275|\r\n"),
        "eprt-v6": (ORIG6, b"EPRT |2|1080::8:800:200C:417A|5282|\r\n"),
        "eprt-v6-full": (ORIG6, b"EPRT !2!2001:0db8:0000:0000:0000:0000:000a:0001!21!\r\n"),
        "eprt-v6-mapped": (ORIG6, b"EPRT |2|::ffff:10.0.0.1|21|\r\n"),
        "eprt-v6-quad": (ORIG6, b"EPRT |2|1:2:3:4:5::1.2.3.4:21|\r\n"),
        "eprt-v6-nul": (ORIG6, b"EPRT |2|1:2:3:4:5:6:7::\x0021|\r\n"),
        "eprt-wrong-family": (ORIG4, b"EPRT |2|::1|21|\r\n"),
        "pasv": (REPLY4, b"227 Entering Passive Mode (192,168,1,2,19,137).\r\n"),
        "pasv-bare": (REPLY6, b"227 =10,0,0,2,0,20\r\n"),
        "epsv": (REPLY4, b"229 Entering Extended Passive Mode (|||6446|)\r\n"),
        "epsv-v6": (REPLY6, b"229 (!!!65535!)\r\n"),
        "other": (ORIG4, b"USER anonymous\r\n"),
    }
    return {name: bytes([flags]) + payload
            for name, (flags, payload) in seeds.items()}


def main():
    targets = {
        "fuzz-packets": packets_seeds(),
        "fuzz-fragments": fragments_seeds(),
        "fuzz-flows": flows_seeds(),
        "fuzz-commands": commands_seeds(),
        "fuzz-pcap": pcap_seeds(),
        "fuzz-ftp": ftp_seeds(),
    }
    for target, seeds in targets.items():
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            if isinstance(data, str):
                data = data.encode()
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds)} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
