"""The sequences tests/kdiff.py runs through the kernel and through ctdp.

Each sequence is a Sequence: a name, a docstring, the steps (a packet from
A, the client at 10.0.0.1 / 2001:db8::1, or from B, the server at 10.0.0.2 /
2001:db8::2, as a scapy L3 packet; or a wait in seconds, spent in real time
by both sides), the zone and ct mark the rules give new conns, and
'explained': the differences that ctdp keeps on purpose, by the key kdiff
prints ("packet 3 verdict", "table timeout", ...), each an Explained: the
kernel's value, ctdp's value and the reason; and 'ctdp_setup', ctdp-dpctl
commands run before the first packet; 'nat', a NAT rule for both sides
(Nat), whose sequences also compare the bytes each side forwards: there a
step may be a Via or ViaError, built on each side from what that side
forwarded.  tests/KDIFF.md says how to add one.
"""
import socket
import struct
from dataclasses import dataclass, field

from scapy.all import (GRE, GRE_PPTP, ICMP, IP, PPP, SCTP, TCP, UDP,
                       ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6PacketTooBig, IPv6, IPv6ExtHdrFragment, Raw,
                       SCTPChunkAbort, SCTPChunkCookieAck, SCTPChunkCookieEcho,
                       SCTPChunkData, SCTPChunkHeartbeatAck,
                       SCTPChunkHeartbeatReq, SCTPChunkInit, SCTPChunkInitAck,
                       SCTPChunkParamHeartbeatInfo, SCTPChunkSACK,
                       SCTPChunkShutdown, SCTPChunkShutdownAck,
                       SCTPChunkShutdownComplete, fragment, fragment6)
from scapy.utils import checksum

A4, B4 = "10.0.0.1", "10.0.0.2"
A6, B6 = "2001:db8::1", "2001:db8::2"
GW4, GW6 = "10.0.0.254", "2001:db8::fe"     # A router behind B.
A3 = "10.0.0.3"                 # A second inside host, behind A.
NAT4, NAT4B, NAT6 = "10.0.0.100", "10.0.0.101", "2001:db8::100"
MASQ4 = "10.0.0.253"            # The router's own address on B's side.


@dataclass
class Wait:
    seconds: float


@dataclass
class Explained:
    """A difference ctdp keeps on purpose: the value kdiff shows for each
    side (a verdict, a state, a sorted list of flags, a timeout in s, a
    conn as kdiff prints it, a count; None for the side without the conn)
    and why."""
    kernel: object
    ctdp: object
    why: str


@dataclass
class Nat:
    """One NAT rule for a sequence's new conns, A on the inside and B
    outside: 'snat' or 'masquerade' (A's new conns leaving toward B get
    their source from 'addr', "X" or "X-Y", or R's own address MASQ4 for
    masquerade, and 'ports', (min, max) or None), or 'dnat' (B's new
    conns to 'match_dst':'match_dport' go to 'addr':'ports').  'proto'
    ("tcp", "udp", "icmp"...) limits the rule to one protocol (nft wants
    one for ports).  kdiff makes it an nft rule in R (postrouting for
    snat and masquerade, prerouting for dnat) and the equivalent ctdp flow
    (ct(commit,nat(src=...)) or nat(dst=...)); every other conn gets a
    null binding on both sides."""
    kind: str
    addr: str = ""
    ports: tuple = None
    proto: str = None
    v6: bool = False
    match_dst: str = None
    match_dport: int = None


@dataclass
class Helper:
    """A conntrack helper for a sequence's new conns to 'port': 'kind'
    "ftp" (TCP) or "tftp" (UDP).  kdiff makes it an nft ct helper object
    in R, of that type, with a prerouting rule ('proto' dport 'port' ct
    helper set), and the equivalent ctdp flow (the new conn to that port
    committed with alg=ftp / alg=tftp); expectations are then compared
    after every packet (/proc/net/nf_conntrack_expect against
    dump-conntrack-exp --format=proc), and the bytes each side forwards,
    as for NAT."""
    kind: str
    port: int

    @property
    def proto(self):
        return "udp" if self.kind == "tftp" else "tcp"

    @property
    def name(self):
        return f"{self.kind}-{self.port}"


@dataclass
class Via:
    """A packet from B answering what B received of packet 'ref' (its
    number in the sequence): 'pair' is built as if there were no NAT
    (B to A's own address and port) and, on each side, gets as its
    destination address and port (ICMP: id) the source of what that side
    forwarded of packet 'ref', whose port the two sides may choose
    differently."""
    pair: tuple
    ref: int


@dataclass
class ViaError:
    """An ICMP error from 'side' (from 'src' if given, else from the
    quoted packet's destination) quoting what each side forwarded of
    packet 'ref', the TTL as its sender set it."""
    side: str
    ref: int
    type_: int = 3
    code: int = 3
    src: str = None


@dataclass
class Sequence:
    name: str
    doc: str
    steps: list
    zone: int = 0
    mark: int = 0
    explained: dict = field(default_factory=dict)   # key -> Explained
    ctdp_setup: list = field(default_factory=list)  # ctdp-dpctl argv's
    # The kernel's conntrack sysctls for this sequence, {name: value}: set
    # in R (and put back after) and in ctdp with ct-sysctl.
    sysctls: dict = field(default_factory=dict)
    nat: Nat = None
    helper: Helper = None


# ---- Packet builders -------------------------------------------------------

def tcp(side, flags, seq, ack=0, data=b"", win=65535, v6=False, **kw):
    """A TCP segment between A:40000 and B:80, from 'side'."""
    if v6:
        ip = IPv6(src=A6, dst=B6) if side == "A" else IPv6(src=B6, dst=A6)
    else:
        ip = IP(src=A4, dst=B4) if side == "A" else IP(src=B4, dst=A4)
    ports = (40000, 80) if side == "A" else (80, 40000)
    seg = ip / TCP(sport=ports[0], dport=ports[1], flags=flags, seq=seq,
                   ack=ack, window=win, **kw)
    return (side, seg / Raw(data) if data else seg)


def udp(side, data=b"ctdp", v6=False, sport=5000, dport=53, inside=None):
    """A datagram between A (or the inside host 'inside') and B."""
    if v6:
        ip = IPv6(src=A6, dst=B6) if side == "A" else IPv6(src=B6, dst=A6)
    else:
        a = inside or A4
        ip = IP(src=a, dst=B4) if side == "A" else IP(src=B4, dst=a)
    ports = (sport, dport) if side == "A" else (dport, sport)
    return (side, ip / UDP(sport=ports[0], dport=ports[1]) / Raw(data))


def echo(side, reply=False, v6=False, ident=7, seq=1, inside=None):
    if v6:
        ip = IPv6(src=A6, dst=B6) if side == "A" else IPv6(src=B6, dst=A6)
        msg = (ICMPv6EchoReply if reply else ICMPv6EchoRequest)(
            id=ident, seq=seq, data=b"ping")
        return (side, ip / msg)
    a = inside or A4
    ip = IP(src=a, dst=B4) if side == "A" else IP(src=B4, dst=a)
    return (side, ip / ICMP(type=0 if reply else 8, id=ident, seq=seq)
            / Raw(b"ping"))


def icmp_error(side, quoted, src=None, v6=False, type_=3, code=3):
    """An ICMP error from 'side' (or from 'src', a router on that side)
    quoting 'quoted' (a (side, packet) pair as the builders return)."""
    inner = quoted[1]
    if v6:
        ip = IPv6(src=src or inner.dst, dst=inner.src)
        return (side, ip / ICMPv6DestUnreach(code=4) / inner)
    ip = IP(src=src or inner.dst, dst=inner.src)
    return (side, ip / ICMP(type=type_, code=code) / bytes(inner)[:28])


def icmpv6_in_ipv4(side, type_):
    """An ICMPv6 echo (request 128, reply 129) in IPv4, its checksum over
    an IPv4 pseudo-header (as a stack that mixed them up would send it)."""
    src, dst = (A4, B4) if side == "A" else (B4, A4)
    body = bytes([type_, 0, 0, 0, 0, 7, 0, 1]) + b"ping"
    pseudo = (socket.inet_aton(src) + socket.inet_aton(dst)
              + struct.pack("!HH", 58, len(body)))
    c = checksum(pseudo + body)
    return (side, IP(src=src, dst=dst, proto=58)
            / Raw(body[:2] + struct.pack("!H", c) + body[4:]))


def frags(pair, size):
    """'pair''s IPv4 packet in fragments of 'size' bytes of payload."""
    side, pkt = pair
    return [(side, f) for f in fragment(pkt, fragsize=size)]


def frags6(pair, size):
    """'pair''s IPv6 packet in fragments of at most 'size' bytes."""
    side, pkt = pair
    whole = IPv6(src=pkt.src, dst=pkt.dst) / IPv6ExtHdrFragment(id=0x1234) \
        / pkt.payload
    return [(side, f) for f in fragment6(whole, size)]


# The kernel reassembles in prerouting and tracks the datagram once: its
# held fragments move no counter and the last one moves one.  ctdp does
# the same since its pipeline sends the reassembled datagram on whole
# through the tables (docs/TRACKER.md, "Defragmentation"): the fragment
# sequences have no explained verdicts any more.


def handshake(v6=False):
    return [tcp("A", "S", 1000, v6=v6), tcp("B", "SA", 5000, 1001, v6=v6),
            tcp("A", "A", 1001, 5001, v6=v6)]


def snat_tcp_session(v6=False):
    """Handshake, data both ways, A's FIN, B's FIN, A's last ACK; B's
    segments go to what B saw of A's SYN (packet 0)."""
    def b(*args):
        return Via(tcp("B", *args, v6=v6), 0)
    return [tcp("A", "S", 1000, v6=v6), b("SA", 5000, 1001),
            tcp("A", "A", 1001, 5001, v6=v6),
            tcp("A", "PA", 1001, 5001, b"x" * 100, v6=v6),
            b("PA", 5001, 1101, b"y" * 200),
            tcp("A", "A", 1101, 5201, v6=v6),
            tcp("A", "FA", 1101, 5201, v6=v6), b("FA", 5201, 1102),
            tcp("A", "A", 1102, 5202, v6=v6)]


def dnat_tcp(side, flags, seq, ack=0, data=b""):
    """A TCP segment between B:40000 and the public NAT4:8080 that R
    forwards to A:80 (B's side), or between A:80 and B:40000 (A's)."""
    ip = IP(src=B4, dst=NAT4) if side == "B" else IP(src=A4, dst=B4)
    ports = (40000, 8080) if side == "B" else (80, 40000)
    seg = ip / TCP(sport=ports[0], dport=ports[1], flags=flags, seq=seq,
                   ack=ack, window=65535)
    return (side, seg / Raw(data) if data else seg)


# ---- The corpus ------------------------------------------------------------

CORPUS = [
    Sequence("tcp_handshake_data",
             "Three-way handshake, data both ways, each acknowledged.",
             handshake() + [
                 tcp("A", "PA", 1001, 5001, b"x" * 100),
                 tcp("B", "A", 5001, 1101),
                 tcp("B", "PA", 5001, 1101, b"y" * 200),
                 tcp("A", "A", 1101, 5201)]),
    Sequence("tcp_close_by_client",
             "A closes: FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT.",
             handshake() + [
                 tcp("A", "FA", 1001, 5001), tcp("B", "A", 5001, 1002),
                 tcp("B", "FA", 5001, 1002), tcp("A", "A", 1002, 5002)]),
    Sequence("tcp_close_by_server",
             "B closes first; A's last ACK ends in TIME_WAIT.",
             handshake() + [
                 tcp("B", "FA", 5001, 1001), tcp("A", "A", 1001, 5002),
                 tcp("A", "FA", 1001, 5002), tcp("B", "A", 5002, 1002)]),
    Sequence("tcp_close_simultaneous",
             "Both FINs cross; the ACKs give TIME_WAIT.",
             handshake() + [
                 tcp("A", "FA", 1001, 5001), tcp("B", "FA", 5001, 1001),
                 tcp("A", "A", 1002, 5002), tcp("B", "A", 5002, 1002)]),
    Sequence("tcp_rst_exact",
             "A resets an established conn with the exact sequence "
             "number: CLOSE.",
             handshake() + [tcp("A", "R", 1001)]),
    Sequence("tcp_rst_answers_syn",
             "B answers the SYN with RST+ACK (seq 0): the conn is deleted; "
             "a new SYN makes a new one.",
             [tcp("A", "S", 1000), tcp("B", "RA", 0, 1001, win=0),
              tcp("A", "S", 1000)]),
    Sequence("tcp_rst_out_of_window",
             "A RST below what the peer acknowledged is invalid.",
             handshake() + [tcp("B", "R", 4000), tcp("A", "A", 1001, 5001)]),
    Sequence("tcp_simultaneous_open",
             "The SYNs cross: SYN_SENT2, then SYN_RECV, then ESTABLISHED.",
             [tcp("A", "S", 1000), tcp("B", "S", 5000),
              tcp("A", "SA", 1000, 5001), tcp("B", "A", 5001, 1001)]),
    Sequence("tcp_loose_pickup",
             "A conn picked up in the middle (loose): ESTABLISHED, new "
             "until B answers, ASSURED after.",
             [tcp("A", "A", 1000, 2000), tcp("B", "A", 2000, 1000),
              tcp("A", "PA", 1000, 2000, b"z" * 10)]),
    Sequence("tcp_out_of_window",
             "Data far beyond the window and an ACK of unsent data are "
             "invalid; the conn goes on.",
             handshake() + [
                 tcp("A", "PA", 201001, 5001, b"x" * 100),
                 tcp("B", "A", 5001, 1101),
                 tcp("A", "PA", 1001, 5001, b"x" * 100)]),
    Sequence("tcp_retransmissions",
             "The same data four times: retransmissions are accepted; the "
             "ACK restores the ESTABLISHED timeout.",
             handshake() + [tcp("A", "PA", 1001, 5001, b"r" * 50)] * 4
             + [tcp("B", "A", 5001, 1051)]),
    Sequence("tcp_reuse_after_time_wait",
             "A new SYN on a TIME_WAIT tuple starts a new conn.",
             handshake() + [
                 tcp("A", "FA", 1001, 5001), tcp("B", "FA", 5001, 1002),
                 tcp("A", "A", 1002, 5002),
                 tcp("A", "S", 90000), tcp("B", "SA", 70000, 90001),
                 tcp("A", "A", 90001, 70001)]),
    Sequence("tcp_invalid_flags",
             "SYN+FIN and no-flag segments are invalid, first or on an "
             "established conn; a SYN/ACK cannot start a conn.",
             [tcp("A", "SF", 1000), tcp("A", "", 1000), tcp("A", "SA", 1000,
                                                            1)]
             + handshake() + [tcp("A", "SF", 1001, 5001),
                              tcp("B", "FR", 5001, 1001)]),
    Sequence("tcp_v6_handshake_close",
             "The handshake and a close over IPv6.",
             handshake(True) + [
                 tcp("A", "FA", 1001, 5001, v6=True),
                 tcp("B", "FA", 5001, 1002, v6=True),
                 tcp("A", "A", 1002, 5002, v6=True)]),
    Sequence("udp_unreplied",
             "Two datagrams, no answer: UNREPLIED, 30 s.",
             [udp("A"), udp("A")]),
    Sequence("udp_replied",
             "Request and answer within 2 s: replied, not ASSURED.",
             [udp("A"), udp("B"), udp("A")]),
    Sequence("udp_assured_after_2s",
             "Traffic still flowing 2 s after the conn began: ASSURED, "
             "the stream timeout.",
             [udp("A"), udp("B"), Wait(2.3), udp("A")]),
    Sequence("udp_v6_replied",
             "UDP over IPv6, answered.",
             [udp("A", v6=True), udp("B", v6=True)]),
    Sequence("icmp_echo",
             "Echo request and reply.",
             [echo("A"), echo("B", reply=True)]),
    Sequence("icmp_echo_unreplied",
             "Two echo requests, no reply.",
             [echo("A"), echo("A", seq=2)]),
    Sequence("icmp_related_port_unreachable",
             "B answers a UDP datagram with port unreachable: related, "
             "reply direction.",
             [udp("A"), icmp_error("B", udp("A"))]),
    Sequence("icmp_related_from_router",
             "A router behind B sends time exceeded about A's TCP SYN: "
             "related.",
             [tcp("A", "S", 1000),
              icmp_error("B", tcp("A", "S", 1000), src=GW4, type_=11,
                         code=0)]),
    Sequence("icmp_orphan_error",
             "Port unreachable about a datagram never seen: invalid.",
             [icmp_error("B", udp("A", sport=6000))]),
    Sequence("icmpv6_echo",
             "ICMPv6 echo request and reply.",
             [echo("A", v6=True), echo("B", reply=True, v6=True)]),
    Sequence("icmpv6_related_unreachable",
             "ICMPv6 port unreachable about A's datagram: related.",
             [udp("A", v6=True), icmp_error("B", udp("A", v6=True), v6=True)]),
    Sequence("icmpv6_orphan_error",
             "ICMPv6 port unreachable about a datagram never seen: "
             "invalid.",
             [icmp_error("B", udp("A", v6=True, sport=6000), v6=True)]),
    Sequence("zone_tcp_handshake",
             "The handshake with conntrack in zone 7.",
             handshake() + [tcp("A", "FA", 1001, 5001)], zone=7),
    Sequence("zone_udp_replied",
             "UDP in zone 5.",
             [udp("A"), udp("B")], zone=5),
    Sequence("mark_tcp",
             "The conn's mark is set by the packet that makes it.",
             handshake(), mark=42),
    Sequence("mark_zone_icmp",
             "Echo in zone 3 with mark 9.",
             [echo("A"), echo("B", reply=True)], zone=3, mark=9),
    Sequence("tcp_rst_inexact",
             "A RST inside the window but not at the exact sequence number "
             "keeps ESTABLISHED (for a challenge ACK), with CLOSE's 10 s.",
             handshake() + [tcp("B", "R", 5101)]),
    Sequence("tcp_rst_after_data",
             "B's RST right after its own data, at the data's end, closes "
             "though A has not acknowledged the data (a RST ending a "
             "train): CLOSE, not an inexact RST.",
             handshake() + [tcp("B", "PA", 5001, 1001, b"d" * 100),
                            tcp("B", "R", 5101)]),
    Sequence("tcp_fin_before_established",
             "A closes in SYN_RECV, before its ACK completes the "
             "handshake: the conn goes through FIN_WAIT to TIME_WAIT and "
             "is never ASSURED.",
             [tcp("A", "S", 1000), tcp("B", "SA", 5000, 1001),
              tcp("A", "FA", 1001, 5001), tcp("B", "A", 5001, 1002),
              tcp("B", "FA", 5001, 1002), tcp("A", "A", 1002, 5002)]),
    Sequence("tcp_challenge_ack_in_last_ack",
             "A SYN in LAST_ACK is ignored, and the peer's challenge ACK "
             "is not taken for the last ACK.",
             handshake() + [
                 tcp("A", "FA", 1001, 5001), tcp("B", "A", 5001, 1002),
                 tcp("B", "FA", 5001, 1002), tcp("A", "S", 70000),
                 tcp("B", "A", 5002, 1002), tcp("A", "A", 1002, 5002)]),
    Sequence("tcp_rst_then_resync",
             "After B's RST, A's new SYN is ignored and B's SYN/ACK to it "
             "brings the conn back: SYN_RECV, then ESTABLISHED.",
             handshake() + [
                 tcp("B", "R", 5001), tcp("A", "S", 70000),
                 tcp("B", "SA", 90000, 70001), tcp("A", "A", 70001, 90001)]),
    Sequence("tcp_window_scale_sack",
             "Window scale and SACK on both sides: data far beyond 64 KiB "
             "is in the window; a SACK block beyond the data is invalid.",
             [tcp("A", "S", 1000, options=[("MSS", 1460), ("SAckOK", b""),
                                          ("WScale", 7)]),
              tcp("B", "SA", 5000, 1001, options=[
                  ("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]),
              tcp("A", "A", 1001, 5001, win=1000),
              tcp("B", "PA", 105001, 1001, b"w" * 100),
              tcp("A", "A", 1001, 5001, win=1000,
                  options=[("SAck", (105001, 105101))]),
              tcp("A", "A", 1001, 5001, win=1000,
                  options=[("SAck", (105001, 205101))])]),
    Sequence("tcp_zero_window",
             "B advertises a zero window, then opens it again.",
             handshake() + [tcp("B", "A", 5001, 1001, win=0),
                            tcp("B", "A", 5001, 1001)]),
    Sequence("tcp_bad_checksum",
             "A segment with a wrong TCP checksum is invalid.",
             handshake() + [tcp("A", "PA", 1001, 5001, b"c" * 10,
                                chksum=0x1234)]),
    Sequence("udp_bad_checksum",
             "A datagram with a wrong UDP checksum is invalid; one without "
             "a checksum (0, IPv4) is not.",
             [("A", IP(src=A4, dst=B4) / UDP(sport=5000, dport=53,
                                             chksum=0x1234) / Raw(b"u")),
              ("A", IP(src=A4, dst=B4) / UDP(sport=5001, dport=53,
                                             chksum=0) / Raw(b"u"))]),
    Sequence("icmp_bad_checksum",
             "An echo request with a wrong ICMP checksum is invalid.",
             [("A", IP(src=A4, dst=B4) / ICMP(id=7, chksum=0x1234))]),
    Sequence("udp6_bad_checksum",
             "IPv6 as IPv4: a wrong UDP checksum is invalid, none (0) is "
             "accepted; a wrong ICMPv6 checksum is invalid.",
             [("A", IPv6(src=A6, dst=B6) / UDP(sport=5000, dport=53,
                                               chksum=0x1234) / Raw(b"u")),
              ("A", IPv6(src=A6, dst=B6) / UDP(sport=5001, dport=53,
                                               chksum=0) / Raw(b"u")),
              ("A", IPv6(src=A6, dst=B6) / ICMPv6EchoRequest(id=7,
                                                             cksum=0x1234))]),
    Sequence("icmp_orphan_reply",
             "An echo reply that answers nothing is invalid.",
             [echo("B", reply=True)]),
    Sequence("icmp_timestamp",
             "Timestamp request and reply: tracked like echo.",
             [("A", IP(src=A4, dst=B4) / ICMP(type=13, id=9)),
              ("B", IP(src=B4, dst=A4) / ICMP(type=14, id=9))]),
    Sequence("icmp_in_ipv6",
             "ICMP (protocol 1) carried in IPv6, an echo request and its "
             "reply, and a port unreachable: the kernel's ICMP tracker "
             "refuses IPv6, so each is invalid and no conn is made.",
             [("A", IPv6(src=A6, dst=B6, nh=1) / ICMP(type=8, id=7)
               / Raw(b"ping")),
              ("B", IPv6(src=B6, dst=A6, nh=1) / ICMP(type=0, id=7)
               / Raw(b"ping")),
              ("B", IPv6(src=B6, dst=A6, nh=1) / ICMP(type=3, code=3)
               / Raw(bytes(28)))]),
    Sequence("icmpv6_in_ipv4",
             "ICMPv6 (protocol 58) carried in IPv4, an echo request and "
             "its reply, checksummed over an IPv4 pseudo-header: invalid, "
             "no conn, as the kernel.",
             [icmpv6_in_ipv4("A", 128), icmpv6_in_ipv4("B", 129)]),
    Sequence("icmp_error_about_icmp",
             "Port unreachable about A's echo request: related to the echo "
             "conn.",
             [echo("A"), icmp_error("B", echo("A"))]),
    Sequence("icmp_related_original",
             "A's datagram, B's answer, then A's port unreachable about "
             "the answer: related, original direction.",
             [udp("A"), udp("B"), icmp_error("A", udp("B"))]),
    Sequence("icmpv6_too_big",
             "ICMPv6 packet too big about A's TCP segment: related.",
             handshake(True) + [
                 ("B", IPv6(src=GW6, dst=A6) / ICMPv6PacketTooBig(mtu=1280)
                  / tcp("A", "PA", 1001, 5001, b"b" * 20, v6=True)[1])]),
    Sequence("generic_proto",
             "A protocol with no tracker of its own (253): the generic "
             "tracker, both ways.",
             [("A", IP(src=A4, dst=B4, proto=253) / Raw(b"g" * 8)),
              ("B", IP(src=B4, dst=A4, proto=253) / Raw(b"g" * 8))]),
    Sequence("frag_icmp_echo",
             "An echo request in two IPv4 fragments, and its reply.",
             frags(("A", IP(src=A4, dst=B4) / ICMP(id=11)
                    / Raw(b"e" * 2000)), 1400)
             + [("B", IP(src=B4, dst=A4) / ICMP(type=0, id=11)
                 / Raw(b"e" * 10))]),
    Sequence("frag_udp_v4",
             "A's datagram in three IPv4 fragments, B's reply whole: the "
             "conn is made when the datagram is whole.",
             frags(udp("A", b"f" * 2800), 1400) + [udp("B")]),
    Sequence("frag_udp_v4_out_of_order",
             "The same fragments, last first.",
             frags(udp("A", b"o" * 2800), 1400)[::-1] + [udp("B")]),
    Sequence("frag_udp_v6",
             "A's datagram in three IPv6 fragments, B's reply whole.",
             frags6(udp("A", b"s" * 2800, v6=True), 1400)
             + [udp("B", v6=True)]),
    Sequence("frag_small_v4",
             "Fragments of 532 bytes, with ctdp's minimum fragment size "
             "lowered to 400 (OVS's default, 1200, would drop them; the "
             "kernel has no minimum): both reassemble them and make one "
             "conn, which B's reply answers.",
             frags(udp("A", b"m" * 1000), 512) + [udp("B")],
             ctdp_setup=[("ipf-set-min-frag", "v4", "400")]),
]


# ---- NAT -------------------------------------------------------------------
# A is inside, B outside.  kdiff compares, besides verdicts and tables,
# the packet each side forwards (see tests/KDIFF.md).

CORPUS += [
    Sequence("nat_snat_udp_keep_port",
             "UDP SNAT to one address: the source port is free, so it is "
             "kept; B's answer goes back to A.",
             [udp("A"), Via(udp("B"), 0), udp("A", b"again")],
             nat=Nat("snat", NAT4)),
    Sequence("nat_snat_tcp_port_range",
             "TCP through SNAT to NAT4:10000-10010: the port is chosen in "
             "the range (at random, so it may differ between the sides); "
             "handshake, data both ways, close.",
             snat_tcp_session(),
             nat=Nat("snat", NAT4, (10000, 10010), "tcp")),
    Sequence("nat_masquerade_udp",
             "Masquerade to ports 20000-20010: the source becomes R's "
             "own address on B's side (ctdp: nat(src=) of that address).",
             [udp("A"), Via(udp("B"), 0), udp("A", b"again"),
              Via(udp("B", b"more"), 0)],
             nat=Nat("masquerade", MASQ4, (20000, 20010), "udp")),
    Sequence("nat_dnat_tcp_port_forward",
             "DNAT port forward: B connects to NAT4:8080, which A serves "
             "on port 80; handshake, data, close; A's answers leave from "
             "NAT4:8080.",
             [dnat_tcp("B", "S", 1000), dnat_tcp("A", "SA", 5000, 1001),
              dnat_tcp("B", "A", 1001, 5001),
              dnat_tcp("B", "PA", 1001, 5001, b"g" * 50),
              dnat_tcp("A", "PA", 5001, 1051, b"h" * 300),
              dnat_tcp("B", "FA", 1051, 5301),
              dnat_tcp("A", "FA", 5301, 1052),
              dnat_tcp("B", "A", 1052, 5302)],
             nat=Nat("dnat", A4, (80, 80), "tcp", match_dst=NAT4,
                     match_dport=8080)),
    Sequence("nat_snat_icmp_echo",
             "Echo through SNAT to one address: the id is free, so kept; "
             "the reply comes back to A.",
             [echo("A"), Via(echo("B", reply=True), 0), echo("A", seq=2),
              Via(echo("B", reply=True, seq=2), 2)],
             nat=Nat("snat", NAT4)),
    Sequence("nat_snat_icmp_echo_id_taken",
             "Two inside hosts ping B with the same id through one "
             "address: the second gets another id (at random), and its "
             "reply goes back to it, with its own id.",
             [echo("A"), echo("A", inside=A3),
              Via(echo("B", reply=True), 0),
              Via(echo("B", reply=True, inside=A3), 1)],
             nat=Nat("snat", NAT4)),
    Sequence("nat_snat_icmp_port_unreachable",
             "A's datagram leaves through SNAT to NAT4:10000-10010; B "
             "answers with port unreachable quoting what it received: A "
             "gets it with its own address and port back in the quote.",
             [udp("A"), ViaError("B", 0)],
             nat=Nat("snat", NAT4, (10000, 10010), "udp")),
    Sequence("nat_snat_icmp_error_from_router",
             "A router behind B sends time exceeded about A's TCP SYN as "
             "it left SNAT: related, translated back to A.",
             [tcp("A", "S", 1000), ViaError("B", 0, 11, 0, src=GW4)],
             nat=Nat("snat", NAT4, (10000, 10010), "tcp")),
    Sequence("nat_snat_v6_tcp",
             "IPv6 TCP through SNAT to [2001:db8::100]:10000-10010: "
             "handshake, data, close.",
             snat_tcp_session(v6=True),
             nat=Nat("snat", NAT6, (10000, 10010), "tcp", v6=True)),
    Sequence("nat_snat_v6_udp_unreachable",
             "IPv6 UDP through SNAT to one address, port kept; B answers "
             "once, then an ICMPv6 port unreachable quoting A's next "
             "datagram comes back to A.",
             [udp("A", v6=True), Via(udp("B", v6=True), 0),
              udp("A", b"again", v6=True), ViaError("B", 2)],
             nat=Nat("snat", NAT6, v6=True)),
    Sequence("nat_snat_two_hosts_same_port",
             "Two inside hosts send from port 5000 to the same server "
             "through one address: the first keeps 5000, the second gets "
             "another port (at random, 1024-65535); each answer finds its "
             "host.",
             [udp("A"), udp("A", inside=A3), Via(udp("B"), 0),
              Via(udp("B", inside=A3), 1)],
             nat=Nat("snat", NAT4)),
    Sequence("nat_snat_range_exhausted",
             "SNAT to NAT4:10000-10001: two SYNs take both ports, the "
             "third finds none and is dropped on both sides; the first "
             "conn goes on.",
             [tcp("A", "S", 1000),
              ("A", IP(src=A4, dst=B4) / TCP(sport=40001, dport=80,
                                             flags="S", seq=2000)),
              ("A", IP(src=A4, dst=B4) / TCP(sport=40002, dport=80,
                                             flags="S", seq=3000)),
              Via(tcp("B", "SA", 5000, 1001), 0)],
             nat=Nat("snat", NAT4, (10000, 10001), "tcp")),
    Sequence("nat_snat_range_exhausted_udp",
             "The same with UDP, whose clashes the kernel can sometimes "
             "resolve: the third datagram is dropped too, and B's answer "
             "to the first still reaches A.",
             [udp("A", sport=5000), udp("A", sport=5001),
              udp("A", sport=5002), Via(udp("B", sport=5000), 0)],
             nat=Nat("snat", NAT4, (10000, 10001), "udp")),
]


# ---- Helpers and expectations -----------------------------------------------
# A (10.0.0.1 / 2001:db8::1) is the FTP or TFTP client, B the server.
# kdiff compares, besides verdicts and tables, the expectation tables
# after every packet, and the packets each side forwards: a packet that a
# helper drops (a partial command) is "dropped" on both sides.

class Talk:
    """A TCP conn between A:'aport' and B:'bport' whose segments keep
    their sequence numbers: seg(side, flags, data) sends at the side's
    next sequence number and acknowledges all the other's (again(), the
    same bytes at the same number: a retransmission)."""

    def __init__(self, aport, bport, v6=False, aseq=1000, bseq=5000,
                 a=None, b=None):
        self.v6 = v6
        self.addr = {"A": a or (A6 if v6 else A4), "B": b or (B6 if v6
                                                               else B4)}
        self.port = {"A": aport, "B": bport}
        self.next = {"A": aseq, "B": bseq}
        self.last = None

    def seg(self, side, flags, data=b"", seq=None):
        other = "B" if side == "A" else "A"
        ip = (IPv6 if self.v6 else IP)(src=self.addr[side],
                                       dst=self.addr[other])
        s = self.next[side] if seq is None else seq
        ack = self.next[other] if "A" in flags else 0
        pkt = ip / TCP(sport=self.port[side], dport=self.port[other],
                       flags=flags, seq=s, ack=ack, window=65535)
        if data:
            pkt = pkt / Raw(data)
        adv = len(data) + ("S" in flags) + ("F" in flags)
        self.next[side] = max(self.next[side], s + adv)
        self.last = (side, pkt)
        return (side, pkt)

    def again(self):
        """The last segment once more, as it was."""
        side, pkt = self.last
        return (side, pkt.copy())

    def handshake(self, client="A"):
        server = "B" if client == "A" else "A"
        return [self.seg(client, "S"), self.seg(server, "SA"),
                self.seg(client, "A")]

    def say(self, side, line):
        """'line' (str or bytes) as one segment from 'side', PSH+ACK."""
        return self.seg(side, "PA", line.encode() if isinstance(line, str)
                        else line)


def ftp_login(ctl):
    """The handshake of control conn 'ctl', the banner, USER, 331, PASS,
    230: the first line each way (never parsed) and one more."""
    return ctl.handshake() + [
        ctl.say("B", "220 ctdp FTP ready\r\n"),
        ctl.say("A", "USER anonymous\r\n"),
        ctl.say("B", "331 Password please\r\n"),
        ctl.say("A", "PASS x\r\n"),
        ctl.say("B", "230 Logged in\r\n")]


def data_conn(client, server, v6=False):
    """The data conn's handshake, 'client' ((side, port)) connecting to
    'server' ((side, port))."""
    (cs, cp), (_, sp) = client, server
    d = Talk(cp, sp, v6=v6, aseq=70000, bseq=90000) if cs == "A" else         Talk(sp, cp, v6=v6, aseq=90000, bseq=70000)
    return d.handshake(client=cs)


def tftp(side, payload, sport=5000, dport=69, v6=False):
    """A TFTP datagram from 'side' between A:'sport' and B:'dport'."""
    if v6:
        ip = IPv6(src=A6, dst=B6) if side == "A" else IPv6(src=B6, dst=A6)
    else:
        ip = IP(src=A4, dst=B4) if side == "A" else IP(src=B4, dst=A4)
    ports = (sport, dport) if side == "A" else (dport, sport)
    return (side, ip / UDP(sport=ports[0], dport=ports[1]) / Raw(payload))


RRQ = b"\x00\x01ctdp.bin\x00octet\x00"
WRQ = b"\x00\x02ctdp.bin\x00octet\x00"


def tftp_data(block, data=b"d" * 16):
    return struct.pack("!HH", 3, block) + data


def tftp_ack(block):
    return struct.pack("!HH", 4, block)


FTP = Helper("ftp", 21)
TFTP = Helper("tftp", 69)


def _ftp_active():
    c = Talk(40000, 21)
    return ftp_login(c) + [
        c.say("A", "PORT 10,0,0,1,7,208\r\n"),          # 2000
        c.say("B", "200 PORT command successful\r\n"),
        c.say("A", "RETR ctdp.bin\r\n")] + \
        data_conn(("B", 20), ("A", 2000)) + [
        c.say("B", "150 Opening data connection\r\n")]


def _ftp_pasv(v6=False, line="227 Entering Passive Mode "
              "(10,0,0,2,195,80).\r\n", cmd="PASV", port=50000,
              ctl_port=21):
    c = Talk(40000, ctl_port, v6=v6)
    return ftp_login(c) + [
        c.say("A", cmd + "\r\n"), c.say("B", line),
        c.say("A", "LIST\r\n")] + \
        data_conn(("A", 40001), ("B", port), v6=v6) + [
        c.say("B", "150 Here comes the listing\r\n")]


def _ftp_eprt(v6=False):
    c = Talk(40000, 21, v6=v6)
    arg = "|2|2001:db8::1|2001|" if v6 else "|1|10.0.0.1|2001|"
    return ftp_login(c) + [
        c.say("A", f"EPRT {arg}\r\n"),
        c.say("B", "200 EPRT command successful\r\n"),
        c.say("A", "STOR ctdp.bin\r\n")] + \
        data_conn(("B", 20), ("A", 2001), v6=v6)


def _ftp_port_first_line():
    c = Talk(40000, 21)
    return c.handshake() + [
        c.say("B", "220 ctdp FTP ready\r\n"),
        c.say("A", "PORT 10,0,0,1,7,208\r\n"),
        c.say("B", "530 Please login\r\n")] + \
        data_conn(("B", 20), ("A", 2000))


def _ftp_port_mid_line():
    c = Talk(40000, 21)
    return ftp_login(c) + [
        c.say("A", "SITE "),                             # No newline.
        c.say("A", "PORT 10,0,0,1,7,208\r\n"),          # Mid-line.
        c.say("B", "500 What\r\n"),
        c.say("A", "NOOP\r\nPORT 10,0,0,1,7,209\r\n"),  # Second line.
        c.say("B", "200 NOOP ok\r\n200 PORT ok\r\n"),
        c.say("A", "PORT 10,0,0,1,7,210\r\n"),          # 2002: a line.
        c.say("B", "200 PORT ok\r\n")] + \
        data_conn(("B", 20), ("A", 2002))


def _ftp_port_retransmitted():
    c = Talk(40000, 21)
    steps = ftp_login(c)
    port = c.say("A", "PORT 10,0,0,1,7,208\r\n")
    return steps + [
        port, c.again(), Wait(3),
        c.say("B", "200 PORT command successful\r\n"), c.again(),
        (port[0], port[1].copy())] + \
        data_conn(("B", 20), ("A", 2000))


def _ftp_port_other_host():
    c = Talk(40000, 21)
    return ftp_login(c) + [
        c.say("A", "PORT 10,0,0,3,7,208\r\n"),          # Not A's.
        c.say("B", "200 PORT command successful\r\n"),
        ("B", IP(src=B4, dst=A3) / TCP(sport=20, dport=2000,
                                              flags="S", seq=90000))] + \
        data_conn(("B", 20), ("A", 2000))


def _ftp_port_partial():
    c = Talk(40000, 21)
    steps = ftp_login(c)
    start = c.next["A"]
    steps += [c.say("A", "PORT 10,0,0,1,7")]          # Ends mid-command.
    c.next["A"] = start                                # Never acknowledged.
    steps += [c.say("A", "PORT 10,0,0,1,7,208\r\n"),  # Whole, at its seq.
              c.say("B", "200 PORT command successful\r\n")]
    steps += data_conn(("B", 20), ("A", 2000))
    start = c.next["B"]
    steps += [c.say("B", "22")]                        # A 227's start.
    c.next["B"] = start
    return steps + [c.say("B", "226 Transfer complete\r\n")]


def _ftp_without_helper():
    c = Talk(40000, 21)
    return ftp_login(c) + [
        c.say("A", "PORT 10,0,0,1,7,208\r\n"),
        c.say("B", "200 PORT command successful\r\n")] + \
        data_conn(("B", 20), ("A", 2000))


def _tftp(first, v6=False):
    return [tftp("A", first, v6=v6),
            # The server answers from a new port: the expected conn.
            tftp("B", tftp_data(1) if first == RRQ else tftp_ack(0),
                 dport=50000, v6=v6),
            tftp("A", tftp_ack(1) if first == RRQ else tftp_data(1),
                 dport=50000, v6=v6),
            tftp("B", tftp_data(2, b"end") if first == RRQ else tftp_ack(1),
                 dport=50000, v6=v6)]


CORPUS += [
    Sequence("ftp_active_port",
             "Active FTP: after the login, PORT 10,0,0,1,7,208 expects B "
             "(any port) to A:2000; B's data SYN from port 20 is related "
             "and uses the expectation up; the data conn goes on.",
             _ftp_active(), helper=FTP),
    Sequence("ftp_passive_pasv",
             "Passive FTP: the server's 227 (10,0,0,2,195,80) expects A "
             "(any port) to B:50000; A's data SYN is related and inherits "
             "the control conn's mark.",
             _ftp_pasv(), helper=FTP, mark=5),
    Sequence("ftp_passive_epsv",
             "Extended passive FTP, in zone 7: the server's 229 "
             "(|||50001|) expects A to B:50001; the data SYN is related.",
             _ftp_pasv(line="229 Entering Extended Passive Mode "
                       "(|||50001|)\r\n", cmd="EPSV", port=50001),
             helper=FTP, zone=7),
    Sequence("ftp_active_eprt",
             "EPRT |1|10.0.0.1|2001|: B to A:2001 expected; B's data SYN "
             "is related.",
             _ftp_eprt(), helper=FTP),
    Sequence("ftp_v6_eprt",
             "IPv6 active FTP: EPRT |2|2001:db8::1|2001| expects B to "
             "[2001:db8::1]:2001; B's data SYN is related.",
             _ftp_eprt(v6=True), helper=FTP),
    Sequence("ftp_v6_epsv",
             "IPv6 extended passive FTP: 229 (|||50002|) expects A to "
             "[2001:db8::2]:50002; A's data SYN is related.",
             _ftp_pasv(v6=True, line="229 Entering Extended Passive Mode "
                       "(|||50002|)\r\n", cmd="EPSV", port=50002),
             helper=FTP),
    Sequence("ftp_port_first_line",
             "PORT as the client's very first payload: the first line "
             "each way is never parsed, so no expectation; B's data SYN "
             "is a new conn.",
             _ftp_port_first_line(), helper=FTP),
    Sequence("ftp_port_mid_line",
             "PORT where no line starts: after a segment without newline "
             "(SITE ), and second in a segment after NOOP: neither "
             "expected; the next PORT, at a line start, is (A:2002).",
             _ftp_port_mid_line(), helper=FTP),
    Sequence("ftp_port_retransmitted",
             "PORT sent twice at the same sequence number: one "
             "expectation; 3 s later, after the server's answer (itself "
             "sent twice), once more: still one, renewed (its timeout "
             "300 s again); B's data SYN is related.",
             _ftp_port_retransmitted(), helper=FTP),
    Sequence("ftp_port_other_host",
             "PORT naming another host (A3, 10.0.0.3, behind A too): no "
             "expectation (no hole to a third host); B's SYNs to it and to A:2000 are "
             "new conns.",
             _ftp_port_other_host(), helper=FTP),
    Sequence("ftp_port_partial",
             "A PORT cut mid-command is dropped by the helper (on both "
             "sides); sent whole at the same sequence number it is "
             "expected; a server payload '22' (a 227 cut short) is "
             "dropped too.",
             _ftp_port_partial(), helper=FTP),
    Sequence("ftp_nonstandard_port",
             "FTP on port 2121, the helper assigned there: 227 expects A "
             "to B:50000; the data SYN is related.",
             _ftp_pasv(ctl_port=2121), helper=Helper("ftp", 2121)),
    Sequence("ftp_without_helper",
             "The same active FTP with no helper on the control conn: no "
             "expectation, B's data SYN is a new conn (which the "
             "forward chain accepts).",
             _ftp_without_helper()),
    Sequence("tftp_rrq",
             "TFTP read request: the server's answer is expected from B "
             "(any port) to A:5000; its DATA from port 50000 is related, "
             "A's ACK the reply; the request's conn stays unreplied.",
             _tftp(RRQ), helper=TFTP),
    Sequence("tftp_wrq_v6",
             "IPv6 TFTP write request: the server's ACK 0 from port 50000 "
             "is related, then DATA and ACK.",
             _tftp(WRQ, v6=True), helper=TFTP),
]


# ---- SCTP and GRE ----------------------------------------------------------

# The Initiate Tags A and B announce: B's packets carry TAG_A as their
# verification tag, A's TAG_B (RFC 9260 section 8.5).
TAG_A, TAG_B = 0x0a0a0a0a, 0x0b0b0b0b


def sctp(side, tag, *chunks, v6=False, chksum=None):
    """An SCTP packet between A:5000 and B:6000 from 'side', verification
    tag 'tag', holding 'chunks' (scapy chunk layers or raw bytes) in that
    order; scapy computes the CRC32c unless 'chksum' is given."""
    if v6:
        ip = IPv6(src=A6, dst=B6) if side == "A" else IPv6(src=B6, dst=A6)
    else:
        ip = IP(src=A4, dst=B4) if side == "A" else IP(src=B4, dst=A4)
    ports = (5000, 6000) if side == "A" else (6000, 5000)
    pkt = SCTP(sport=ports[0], dport=ports[1], tag=tag, chksum=chksum)
    for c in chunks:
        pkt = pkt / (Raw(c) if isinstance(c, bytes) else c)
    return (side, ip / pkt)


def s_init(tag):
    return SCTPChunkInit(init_tag=tag, a_rwnd=65535, n_out_streams=1,
                         n_in_streams=1, init_tsn=1)


def s_init_ack(tag):
    return SCTPChunkInitAck(init_tag=tag, a_rwnd=65535, n_out_streams=1,
                            n_in_streams=1, init_tsn=1)


def s_data(tsn=1, data=b"sctp"):
    return SCTPChunkData(tsn=tsn, stream_id=0, stream_seq=tsn - 1,
                         proto_id=0, beginning=1, ending=1, data=data)


def s_sack(tsn=1):
    return SCTPChunkSACK(cumul_tsn_ack=tsn, a_rwnd=65535, n_gap_ack=0,
                         n_dup_tsn=0)


def s_heartbeat(ack=False):
    cls = SCTPChunkHeartbeatAck if ack else SCTPChunkHeartbeatReq
    return cls(params=[SCTPChunkParamHeartbeatInfo(data=b"path-two")])


S_COOKIE_ECHO = SCTPChunkCookieEcho(cookie=b"cookie!!")


def sctp_handshake(v6=False):
    """INIT (tag 0), INIT ACK, COOKIE ECHO, COOKIE ACK: ESTABLISHED."""
    return [sctp("A", 0, s_init(TAG_A), v6=v6),
            sctp("B", TAG_A, s_init_ack(TAG_B), v6=v6),
            sctp("A", TAG_B, S_COOKIE_ECHO, v6=v6),
            sctp("B", TAG_A, SCTPChunkCookieAck(), v6=v6)]


def sctp_session(v6=False):
    """The handshake, DATA and its SACK, and the graceful shutdown."""
    return sctp_handshake(v6) + [
        sctp("A", TAG_B, s_data(), v6=v6),
        sctp("B", TAG_A, s_sack(), v6=v6),
        sctp("A", TAG_B, SCTPChunkShutdown(cumul_tsn_ack=0), v6=v6),
        sctp("B", TAG_A, SCTPChunkShutdownAck(), v6=v6),
        sctp("A", TAG_B, SCTPChunkShutdownComplete(), v6=v6)]


def gre(side, v6=False, key=None):
    """A GRE (version 0) packet carrying an IPv4 datagram, between A and
    B; with 'key', the key field present and set."""
    if v6:
        ip = IPv6(src=A6, dst=B6) if side == "A" else IPv6(src=B6, dst=A6)
    else:
        ip = IP(src=A4, dst=B4) if side == "A" else IP(src=B4, dst=A4)
    hdr = GRE(proto=0x0800) if key is None else \
        GRE(proto=0x0800, key_present=1, key=key)
    return (side, ip / hdr / IP(src="192.168.0.1", dst="192.168.0.2")
            / UDP() / Raw(b"in"))


def pptp(side, call_id, proto=0x880b):
    """A PPTP enhanced GRE (version 1) packet, to the peer's 'call_id',
    carrying PPP (or 'proto')."""
    ip = IP(src=A4, dst=B4) if side == "A" else IP(src=B4, dst=A4)
    return (side, ip / GRE_PPTP(call_id=call_id, proto=proto,
                                seqnum_present=1, sequence_number=1)
            / PPP(proto=0x21) / IP(src="192.168.1.1", dst="192.168.1.2")
            / UDP() / Raw(b"ppp"))


CORPUS += [
    Sequence("sctp_established",
             "An SCTP association's four-way handshake and a DATA / SACK: "
             "CLOSED, COOKIE_WAIT, COOKIE_ECHOED, ESTABLISHED (ASSURED, "
             "210 s).",
             sctp_handshake() + [sctp("A", TAG_B, s_data()),
                                 sctp("B", TAG_A, s_sack())]),
    Sequence("sctp_session",
             "The association, DATA, SACK, then SHUTDOWN, SHUTDOWN ACK, "
             "SHUTDOWN COMPLETE: SHUTDOWN_SENT, SHUTDOWN_ACK_SENT, CLOSED "
             "(10 s), still ASSURED.",
             sctp_session()),
    Sequence("sctp_session_v6",
             "The same association over IPv6.",
             sctp_session(v6=True)),
    Sequence("sctp_cookie_wait",
             "INIT and INIT ACK alone: COOKIE_WAIT, 3 s; a second INIT "
             "with the same tag (a retransmission) stays in COOKIE_WAIT.",
             sctp_handshake()[:2] + [sctp("A", 0, s_init(TAG_A))]),
    Sequence("sctp_abort",
             "An established association that A aborts (T bit clear: B's "
             "tag): CLOSED.",
             sctp_handshake() + [sctp("A", TAG_B, SCTPChunkAbort())]),
    Sequence("sctp_abort_t_bit",
             "ABORT with the T bit set carries the sender's own tag: with "
             "the peer's it is invalid, with A's own it closes.",
             sctp_handshake() + [
                 sctp("A", TAG_B, SCTPChunkAbort(TCB=1)),
                 sctp("A", TAG_A, SCTPChunkAbort(TCB=1))]),
    Sequence("sctp_shutdown_complete_t_bit",
             "SHUTDOWN COMPLETE with the T bit (the sender's own tag) "
             "after B's SHUTDOWN and A's SHUTDOWN ACK: CLOSED; B's "
             "SHUTDOWN makes SHUTDOWN_RECD.",
             sctp_handshake() + [
                 sctp("B", TAG_A, SCTPChunkShutdown(cumul_tsn_ack=0)),
                 sctp("A", TAG_B, SCTPChunkShutdownAck()),
                 sctp("B", TAG_A, SCTPChunkShutdownComplete(TCB=1)),
                 sctp("B", TAG_B, SCTPChunkShutdownComplete(TCB=1))]),
    Sequence("sctp_wrong_vtag",
             "DATA with a verification tag that is neither end's: "
             "invalid, both ways; with the right ones it passes.",
             sctp_handshake() + [
                 sctp("A", 0xdead, s_data()),
                 sctp("B", TAG_B, s_sack()),
                 sctp("A", TAG_B, s_data()),
                 sctp("B", TAG_A, s_sack())]),
    Sequence("sctp_init_nonzero_vtag",
             "An INIT whose verification tag is not 0 makes no conn "
             "(section 8.5.1 (A)); with 0 it does.",
             [sctp("A", 1234, s_init(TAG_A)), sctp("A", 0, s_init(TAG_A))]),
    Sequence("sctp_init_with_data",
             "An INIT bundled with DATA (INIT must be alone): invalid, no "
             "conn; an INIT ACK bundled with DATA on a conn: invalid.",
             [sctp("A", 0, s_init(TAG_A), s_data()),
              sctp("A", 0, s_init(TAG_A)),
              sctp("B", TAG_A, s_init_ack(TAG_B), s_data())]),
    Sequence("sctp_zero_length_chunk",
             "A chunk of length 0, on a new packet and on an association: "
             "invalid.",
             [sctp("A", 0, b"\x01\x00\x00\x00")] + sctp_handshake() + [
                 sctp("A", TAG_B, s_data(), b"\x00\x00\x00\x00"),
                 sctp("B", TAG_A, b"\x03\x00\x00\x00")]),
    Sequence("sctp_no_chunk",
             "An SCTP common header with no chunk: invalid.",
             [sctp("A", 0)]),
    Sequence("sctp_cookie_echo_not_first",
             "COOKIE ECHO after a DATA chunk (it must come first): "
             "invalid; first, bundled with DATA, it passes; COOKIE ACK "
             "not first: invalid.",
             sctp_handshake()[:2] + [
                 sctp("A", TAG_B, s_data(), S_COOKIE_ECHO),
                 sctp("A", TAG_B, S_COOKIE_ECHO, s_data()),
                 sctp("B", TAG_A, s_sack(), SCTPChunkCookieAck()),
                 sctp("B", TAG_A, SCTPChunkCookieAck(), s_sack())]),
    Sequence("sctp_cookie_echo_wrong_vtag",
             "COOKIE ECHO must carry the tag of B's INIT ACK: with "
             "another, invalid.",
             sctp_handshake()[:2] + [
                 sctp("A", TAG_B + 1, S_COOKIE_ECHO)] + sctp_handshake()[2:]),
    Sequence("sctp_heartbeat",
             "A HEARTBEAT with no conn (a secondary path of an "
             "association): a conn in HEARTBEAT_SENT (30 s) that learns "
             "A's tag; B's HEARTBEAT ACK makes it ESTABLISHED and "
             "ASSURED; then DATA both ways.",
             [sctp("A", TAG_B, s_heartbeat()),
              sctp("B", TAG_A, s_heartbeat(ack=True)),
              sctp("A", TAG_B, s_data()),
              sctp("B", TAG_A, s_sack())]),
    Sequence("sctp_heartbeat_only",
             "A lone HEARTBEAT: HEARTBEAT_SENT, 30 s, unreplied.",
             [sctp("A", TAG_B, s_heartbeat())]),
    Sequence("sctp_heartbeat_new_tags",
             "On an association, A's HEARTBEAT with another tag is let "
             "through but ignored (the conn not renewed); B's HEARTBEAT "
             "ACK with another tag of its own is then taken, and A's "
             "tag is learnt again from its next HEARTBEAT; DATA with "
             "the old tags is invalid; a second HEARTBEAT ACK with yet "
             "another tag is invalid.",
             sctp_handshake() + [
                 sctp("A", 0x1111, s_heartbeat()),
                 sctp("B", 0x2222, s_heartbeat(ack=True)),
                 sctp("A", TAG_B, s_data()),
                 sctp("A", 0x1111, s_heartbeat()),
                 sctp("A", 0x1111, s_data()),
                 sctp("B", 0x2222, s_sack()),
                 sctp("B", 0x3333, s_heartbeat(ack=True))]),
    Sequence("sctp_heartbeat_ignored_not_renewed",
             "An ignored HEARTBEAT (another tag) 3 s into ESTABLISHED "
             "passes but does not renew the conn: 207 s left, not 210.",
             sctp_handshake() + [Wait(3), sctp("A", 0x1111, s_heartbeat())]),
    Sequence("sctp_init_retransmit_not_renewed",
             "An INIT retransmitted 3 s later on the unanswered (CLOSED) "
             "conn passes but does not renew it (port reuse must not keep "
             "it alive): 7 s left, not 10.",
             [sctp("A", 0, s_init(TAG_A)), Wait(3),
              sctp("A", 0, s_init(TAG_A))]),
    Sequence("sctp_heartbeat_ack_unasked",
             "A HEARTBEAT ACK with a wrong tag that no failed HEARTBEAT "
             "asked for: invalid; a HEARTBEAT with a wrong tag bundled "
             "with DATA: invalid.",
             sctp_handshake() + [
                 sctp("B", 0x2222, s_heartbeat(ack=True)),
                 sctp("A", 0x1111, s_heartbeat(), s_data())]),
    Sequence("sctp_bad_crc",
             "A packet with a wrong CRC32c is invalid: an INIT (no conn), "
             "and DATA on an association.",
             [sctp("A", 0, s_init(TAG_A), chksum=0x12345678)]
             + sctp_handshake()
             + [sctp("A", TAG_B, s_data(), chksum=0x12345678),
                sctp("A", TAG_B, s_data())]),
    Sequence("sctp_out_of_the_blue",
             "Out-of-the-blue ABORT, COOKIE ACK and SHUTDOWN COMPLETE make "
             "no conn (section 8.4): invalid; an out-of-the-blue "
             "SHUTDOWN ACK does (SHUTDOWN_ACK_SENT, 3 s), and learns its "
             "own tag as the reply's: B's SHUTDOWN COMPLETE with that "
             "tag and the T bit is invalid (the kernel's check takes the "
             "T bit as 'the other direction's tag', unknown here), "
             "without it closes (CLOSED).",
             [sctp("A", TAG_B, SCTPChunkAbort()),
              sctp("B", TAG_A, SCTPChunkCookieAck()),
              sctp("A", TAG_B, SCTPChunkShutdownComplete()),
              sctp("A", TAG_B, SCTPChunkShutdownAck()),
              sctp("B", TAG_B, SCTPChunkShutdownComplete(TCB=1)),
              sctp("B", TAG_B, SCTPChunkShutdownComplete())]),
    Sequence("sctp_ootb_shutdown_ack",
             "An out-of-the-blue SHUTDOWN ACK alone: SHUTDOWN_ACK_SENT, "
             "3 s, unreplied.",
             [sctp("A", TAG_B, SCTPChunkShutdownAck())]),
    Sequence("sctp_data_first",
             "DATA with no conn: no state would follow from NONE: "
             "invalid.",
             [sctp("A", TAG_B, s_data())]),
    Sequence("sctp_init_ack_wrong_tag",
             "An INIT ACK to the wrong tag (not the INIT's): invalid.",
             [sctp("A", 0, s_init(TAG_A)),
              sctp("B", TAG_A + 1, s_init_ack(TAG_B)),
              sctp("B", TAG_A, s_init_ack(TAG_B))]),
    Sequence("sctp_icmp_error",
             "B's port unreachable quoting A's INIT: related to the conn "
             "(SCTP's ports are in the quote's first 8 bytes).",
             [sctp("A", 0, s_init(TAG_A)),
              icmp_error("B", sctp("A", 0, s_init(TAG_A)))]),
    Sequence("sctp_init_collision",
             "Both ends send INIT at once (RFC 9260 section 5.2.1), then "
             "each its INIT ACK with its own tag again: COOKIE_WAIT; the "
             "COOKIE ECHO / COOKIE ACK establish it.",
             [sctp("A", 0, s_init(TAG_A)), sctp("B", 0, s_init(TAG_B)),
              sctp("A", TAG_B, s_init_ack(TAG_A)),
              sctp("B", TAG_A, s_init_ack(TAG_B)),
              sctp("A", TAG_B, S_COOKIE_ECHO),
              sctp("B", TAG_A, SCTPChunkCookieAck())]),
    Sequence("sctp_restart",
             "A restarts an established association with a new INIT "
             "(tag 0, a new Initiate Tag): it stays ESTABLISHED and "
             "learns the new tag, which B's packets then need.",
             sctp_handshake() + [
                 sctp("A", 0, s_init(0x0c0c0c0c)),
                 sctp("B", TAG_A, s_sack()),
                 sctp("B", 0x0c0c0c0c, s_sack())]),
    Sequence("gre_icmp_error",
             "B's protocol unreachable quoting A's GRE packet: related.",
             [gre("A"), icmp_error("B", gre("A"), code=2)]),
    Sequence("gre_pptp_icmp_error",
             "B's protocol unreachable quoting A's PPTP packet (its 8 "
             "quoted GRE bytes hold the call id): related to that call's "
             "conn; quoting a packet to another call id, it matches no "
             "conn: invalid.",
             [pptp("A", 0x1234), icmp_error("B", pptp("A", 0x1234), code=2),
              icmp_error("B", pptp("A", 0x9999), code=2)]),
    Sequence("gre_short_headers",
             "GRE shorter than its 4-byte header, and a version 1 header "
             "too short for its call id: both tracked by address (keys "
             "0), one conn.",
             [("A", IP(src=A4, dst=B4, proto=47) / Raw(b"\x00\x00")),
              ("B", IP(src=B4, dst=A4, proto=47)
               / Raw(b"\x20\x01\x88\x0b"))]),
    Sequence("gre_v0",
             "GRE version 0 one way (UNREPLIED, 30 s), the reply, then "
             "A again: ASSURED, 180 s.  Keys 0: tracked by address, a "
             "version 0 key (B's reply has one) is not read.",
             [gre("A"), gre("B", key=77), gre("A")]),
    Sequence("gre_v0_v6",
             "The same over IPv6.",
             [gre("A", v6=True), gre("B", v6=True), gre("A", v6=True)]),
    Sequence("gre_v0_unreplied",
             "GRE one way only: UNREPLIED, 30 s.",
             [gre("A"), gre("A")]),
    Sequence("gre_pptp",
             "PPTP's GRE (version 1) by call id: A's packets to B's call "
             "id 0x1234 make a conn (dstkey 0x1234; srckey 0, as no PPTP "
             "helper filled the keymap); B's to A's call id 0x5678 make "
             "another (its tuple, srckey 0, is not the first's reply "
             "tuple, srckey 0x1234), both UNREPLIED (30 s): without the "
             "helper the two directions never meet.",
             [pptp("A", 0x1234), pptp("B", 0x5678), pptp("A", 0x1234),
              pptp("B", 0x5678)]),
    Sequence("gre_pptp_call_id_0",
             "Only call id 0 both ways inverts: A's packet to call id 0 "
             "and B's to call id 0 are one conn, replied, then ASSURED "
             "(180 s).",
             [pptp("A", 0), pptp("B", 0), pptp("A", 0)]),
    Sequence("gre_v1_not_ppp",
             "A version 1 GRE packet that does not carry PPP has no "
             "tuple: invalid, no conn.",
             [pptp("A", 0x1234, proto=0x0800)]),
]


def by_name(names):
    """The sequences whose names contain one of 'names' (all if empty)."""
    return [s for s in CORPUS if not names or any(n in s.name
                                                  for n in names)]


# ---- The kernel's conntrack knobs --------------------------------------------

def proto253(side):
    """A packet of an IP protocol no tracker knows: the generic one's."""
    a, b = (A4, B4) if side == "A" else (B4, A4)
    return (side, IP(src=a, dst=b, proto=253) / Raw(b"generic"))


CORPUS += [
    Sequence("knob_tcp_loose_off",
             "nf_conntrack_tcp_loose=0: a conn met in the middle is not "
             "picked up (invalid both ways); a handshake still makes one.",
             [tcp("A", "A", 1000, 2000), tcp("B", "A", 2000, 1000)]
             + handshake(),
             sysctls={"nf_conntrack_tcp_loose": 0}),
    Sequence("knob_tcp_be_liberal",
             "nf_conntrack_tcp_be_liberal=1: data far beyond the window is "
             "accepted, and so is what follows.",
             handshake() + [
                 tcp("A", "PA", 201001, 5001, b"x" * 100),
                 tcp("B", "A", 5001, 1101),
                 tcp("A", "PA", 1001, 5001, b"x" * 100)],
             sysctls={"nf_conntrack_tcp_be_liberal": 1}),
    Sequence("knob_tcp_ignore_invalid_rst",
             "nf_conntrack_tcp_ignore_invalid_rst=1: a RST below what the "
             "peer acknowledged is not refused as an invalid RST.",
             handshake() + [tcp("B", "R", 4000), tcp("A", "A", 1001, 5001)],
             sysctls={"nf_conntrack_tcp_ignore_invalid_rst": 1}),
    Sequence("knob_tcp_max_retrans",
             "nf_conntrack_tcp_max_retrans=1 and a shorter "
             "nf_conntrack_tcp_timeout_max_retrans: the second identical "
             "ACK retransmission already gets that timeout.",
             handshake() + [tcp("A", "PA", 1001, 5001, b"r" * 50),
                            tcp("B", "A", 5001, 1051),
                            tcp("B", "A", 5001, 1051),
                            tcp("B", "A", 5001, 1051)],
             sysctls={"nf_conntrack_tcp_max_retrans": 1,
                      "nf_conntrack_tcp_timeout_max_retrans": 77}),
    Sequence("knob_checksum_off",
             "nf_conntrack_checksum=0: wrong TCP, UDP and ICMP checksums "
             "are not checked, so the packets make conns.",
             handshake() + [
                 tcp("A", "PA", 1001, 5001, b"c" * 10, chksum=0x1234),
                 ("A", IP(src=A4, dst=B4) / UDP(sport=5000, dport=53,
                                                chksum=0x1234) / Raw(b"u")),
                 ("A", IP(src=A4, dst=B4) / ICMP(id=7, chksum=0x1234))],
             sysctls={"nf_conntrack_checksum": 0}),
    Sequence("knob_checksum_off_sctp",
             "nf_conntrack_checksum=0: an INIT with a wrong CRC32c makes a "
             "conn.",
             [sctp("A", 0, s_init(TAG_A), chksum=0x12345678)],
             sysctls={"nf_conntrack_checksum": 0}),
    Sequence("knob_timeouts",
             "The timeout sysctls set the timeouts new conns get: UDP "
             "(unreplied and stream), ICMP, ICMPv6, a SYN, the generic "
             "tracker's.",
             [udp("A"), echo("A"), echo("A", v6=True), tcp("A", "S", 1000),
              proto253("A")],
             sysctls={"nf_conntrack_udp_timeout": 7,
                      "nf_conntrack_icmp_timeout": 9,
                      "nf_conntrack_icmpv6_timeout": 11,
                      "nf_conntrack_tcp_timeout_syn_sent": 33,
                      "nf_conntrack_generic_timeout": 44}),
    Sequence("knob_timeouts_stream",
             "nf_conntrack_udp_timeout_stream: a UDP conn that saw a reply "
             "and a packet 2 s later is a stream with this timeout.",
             [udp("A"), udp("B"), Wait(2.3), udp("A")],
             sysctls={"nf_conntrack_udp_timeout_stream": 50}),
    Sequence("knob_timeouts_sctp_gre",
             "The SCTP and GRE timeout sysctls: an INIT gets "
             "nf_conntrack_sctp_timeout_closed, a GRE packet "
             "nf_conntrack_gre_timeout, its answer's conn the stream one.",
             [sctp_handshake()[0], gre("A"), gre("B"), gre("A")],
             sysctls={"nf_conntrack_sctp_timeout_closed": 13,
                      "nf_conntrack_gre_timeout": 12,
                      "nf_conntrack_gre_timeout_stream": 66}),
]
