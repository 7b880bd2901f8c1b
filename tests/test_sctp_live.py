"""Real SCTP and GRE traffic through ctdpd: two namespaces joined through
its system ports under the default firewall (tests/netns.py; inside on
port 1, outside on port 2).

This machine's kernel (and many a container's) has neither SCTP
(CONFIG_IP_SCTP, the sctp module) nor GRE tunnels (ip_gre), so the tests
make the traffic with raw IP sockets (protocol 132 or 47) opened inside
each namespace, which any kernel has: each end sends what an SCTP
endpoint (or a GRE peer) would, packet by packet, each packet crossing
ctdpd as real traffic, so the conn can be read in `dump-conntrack` after
every step.  A raw socket also keeps the receiving kernel quiet: a
packet of a protocol it has no handler for is not answered with an ICMP
protocol unreachable when a raw socket took it.
"""
import ctypes
import os
import re
import socket

import pytest
from scapy.all import (GRE, GRE_PPTP, IP, PPP, SCTP, UDP, Raw,
                       SCTPChunkAbort, SCTPChunkCookieAck,
                       SCTPChunkCookieEcho, SCTPChunkData, SCTPChunkInit,
                       SCTPChunkInitAck, SCTPChunkSACK, SCTPChunkShutdown,
                       SCTPChunkShutdownAck, SCTPChunkShutdownComplete)

from conftest import wait_until
from netns import network

INSIDE4, OUTSIDE4 = "198.18.0.1", "198.18.0.2"
TAG_IN, TAG_OUT = 0x1a2b3c4d, 0x5e6f7081    # Each end's Initiate Tag.
CLIENT, SERVER = 5000, 6000                 # SCTP ports.

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="network namespaces need root")

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def ns_socket(host, family, type_, proto):
    """A socket made inside 'host''s namespace (a socket keeps the
    namespace it was made in); this thread returns to its own at once."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{host.ns}", os.O_RDONLY)
    try:
        _setns(there)
        try:
            return socket.socket(family, type_, proto)
        finally:
            _setns(home)
    finally:
        os.close(there)
        os.close(home)


@pytest.fixture
def net(tmp_path):
    """A network of its own for each test (one stops the daemon's clock),
    IPv4 only: no IPv6 chatter from the hosts reaches the counters."""
    with network(tmp_path, [(INSIDE4, None), (OUTSIDE4, None)]) as n:
        yield n


class RawPeer:
    """One end: a raw IP socket of protocol 'proto' in 'host''s namespace
    that sends L4 payloads to 'peer' and receives what arrives from it."""

    def __init__(self, host, peer, proto):
        self.v6 = ":" in peer
        self.peer = peer
        family = socket.AF_INET6 if self.v6 else socket.AF_INET
        self.sock = ns_socket(host, family, socket.SOCK_RAW, proto)
        self.sock.settimeout(3)

    def close(self):
        self.sock.close()

    def send(self, l4):
        self.sock.sendto(bytes(l4), (self.peer, 0))

    def recv(self, timeout=3):
        """The next L4 payload (bytes) from the peer, or None if none came
        within 'timeout' seconds."""
        self.sock.settimeout(timeout)
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            if addr[0] != self.peer:
                continue
            # An IPv4 raw socket gets the IP header too, an IPv6 one not.
            return data if self.v6 else data[(data[0] & 15) * 4:]


def sctp_recv(end):
    """The first chunk of the next SCTP packet 'end' receives, and the
    packet's verification tag; (None, None) if none came."""
    data = end.recv()
    if data is None:
        return None, None
    pkt = SCTP(data)
    return pkt.payload, pkt.tag


def conn_lines(net, proto):
    """dump-conntrack -m lines of 'proto' ("sctp", or "47" for GRE, whose
    name Open vSwitch's format does not know)."""
    out = net.dpctl("dump-conntrack", "-m")
    return [l.strip() for l in out.splitlines()
            if l.strip().startswith(proto + ",")]


def one_conn(net, proto):
    lines = conn_lines(net, proto)
    assert len(lines) == 1, lines
    return lines[0]


def state_of(line):
    m = re.search(r"protoinfo=\(state=(\w+)", line)
    return m and m[1]


def status_of(line):
    m = re.search(r",status=([\w|]+)", line)
    return set(m[1].split("|")) if m else set()


def stat(net, name):
    for word in net.dpctl("ct-stats-show").split():
        if word.startswith(name + "="):
            return int(word.split("=")[1])
    raise AssertionError(f"no {name} in ct-stats-show")


@pytest.fixture
def sctp_ends(net):
    """(client inside, server outside): raw SCTP ends over IPv4."""
    inside, outside = net.hosts
    c = RawPeer(inside, OUTSIDE4, socket.IPPROTO_SCTP)
    s = RawPeer(outside, INSIDE4, socket.IPPROTO_SCTP)
    yield c, s
    c.close()
    s.close()


def client_sends(c, s, tag, chunk):
    """The client sends 'chunk' with 'tag'; the server must receive it.
    Returns the chunk as received."""
    c.send(SCTP(sport=CLIENT, dport=SERVER, tag=tag) / chunk)
    got, got_tag = sctp_recv(s)
    assert got is not None, f"{chunk.name} did not cross ctdpd"
    assert (got.type, got_tag) == (chunk.type, tag)
    return got


def server_sends(c, s, tag, chunk):
    s.send(SCTP(sport=SERVER, dport=CLIENT, tag=tag) / chunk)
    got, got_tag = sctp_recv(c)
    assert got is not None, f"{chunk.name} did not cross ctdpd"
    assert (got.type, got_tag) == (chunk.type, tag)
    return got


def test_sctp_association(net, sctp_ends):
    """An SCTP association from inside, made packet by packet by two raw
    sockets: each step crosses ctdpd and moves the conn through CLOSED,
    COOKIE_WAIT, COOKIE_ECHOED to ESTABLISHED (ASSURED), DATA and SACK
    keep it there, and the shutdown ends it in CLOSED, which is gone 10 s
    later (OVS's time/warp)."""
    c, s = sctp_ends
    init = client_sends(c, s, 0, SCTPChunkInit(
        init_tag=TAG_IN, a_rwnd=65535, n_out_streams=1, n_in_streams=1,
        init_tsn=1))
    line = one_conn(net, "sctp")
    assert line.startswith(f"sctp,orig=(src={INSIDE4},dst={OUTSIDE4},"
                           f"sport={CLIENT},dport={SERVER})"), line
    assert state_of(line) == "CLOSED"
    server_sends(c, s, init.init_tag, SCTPChunkInitAck(
        init_tag=TAG_OUT, a_rwnd=65535, n_out_streams=1, n_in_streams=1,
        init_tsn=1))
    assert state_of(one_conn(net, "sctp")) == "COOKIE_WAIT"
    client_sends(c, s, TAG_OUT, SCTPChunkCookieEcho(cookie=b"cookie!!"))
    assert state_of(one_conn(net, "sctp")) == "COOKIE_ECHOED"
    server_sends(c, s, TAG_IN, SCTPChunkCookieAck())
    line = one_conn(net, "sctp")
    assert state_of(line) == "ESTABLISHED"
    assert "ASSURED" in status_of(line)
    assert f"vtag_orig={TAG_OUT},vtag_reply={TAG_IN}" in line
    client_sends(c, s, TAG_OUT, SCTPChunkData(
        tsn=1, stream_id=0, stream_seq=0, proto_id=0, beginning=1,
        ending=1, data=b"hello"))
    server_sends(c, s, TAG_IN, SCTPChunkSACK(
        cumul_tsn_ack=1, a_rwnd=65535, n_gap_ack=0, n_dup_tsn=0))
    assert state_of(one_conn(net, "sctp")) == "ESTABLISHED"

    client_sends(c, s, TAG_OUT, SCTPChunkShutdown(cumul_tsn_ack=0))
    assert state_of(one_conn(net, "sctp")) == "SHUTDOWN_SENT"
    server_sends(c, s, TAG_IN, SCTPChunkShutdownAck())
    assert state_of(one_conn(net, "sctp")) == "SHUTDOWN_ACK_SENT"
    client_sends(c, s, TAG_OUT, SCTPChunkShutdownComplete())
    line = one_conn(net, "sctp")
    assert state_of(line) == "CLOSED"
    assert "ASSURED" in status_of(line)

    net.appctl("time/stop")
    net.appctl("time/warp", "11000")
    wait_until(lambda: not conn_lines(net, "sctp"),
               what="the closed association to expire")


def test_sctp_wrong_vtag_dropped(net, sctp_ends):
    """On an established association, DATA with a verification tag that
    is not the server's is invalid: ctdpd drops it (the server receives
    nothing) and counts it; with the right tag it passes."""
    c, s = sctp_ends
    client_sends(c, s, 0, SCTPChunkInit(
        init_tag=TAG_IN, a_rwnd=65535, n_out_streams=1, n_in_streams=1,
        init_tsn=1))
    server_sends(c, s, TAG_IN, SCTPChunkInitAck(
        init_tag=TAG_OUT, a_rwnd=65535, n_out_streams=1, n_in_streams=1,
        init_tsn=1))
    client_sends(c, s, TAG_OUT, SCTPChunkCookieEcho(cookie=b"cookie!!"))
    server_sends(c, s, TAG_IN, SCTPChunkCookieAck())
    invalid = stat(net, "invalid")
    data = SCTPChunkData(tsn=1, stream_id=0, stream_seq=0, proto_id=0,
                         beginning=1, ending=1, data=b"hello")
    c.send(SCTP(sport=CLIENT, dport=SERVER, tag=TAG_OUT ^ 1) / data)
    assert s.recv(timeout=0.5) is None
    assert stat(net, "invalid") == invalid + 1
    client_sends(c, s, TAG_OUT, data)


def test_sctp_bad_crc_dropped(net, sctp_ends):
    """An INIT with a wrong CRC32c is dropped by ctdpd and makes no conn;
    counted in bad_checksum."""
    c, s = sctp_ends
    bad = stat(net, "bad_checksum")
    c.send(SCTP(sport=CLIENT, dport=SERVER, tag=0, chksum=0x12345678)
           / SCTPChunkInit(init_tag=TAG_IN, a_rwnd=65535, n_out_streams=1,
                           n_in_streams=1, init_tsn=1))
    assert s.recv(timeout=0.5) is None
    assert stat(net, "bad_checksum") == bad + 1
    assert not conn_lines(net, "sctp")


def test_sctp_out_of_the_blue_abort_dropped(net, sctp_ends):
    """An ABORT with no association makes no conn (RFC 9260 section 8.4):
    invalid, dropped."""
    c, s = sctp_ends
    c.send(SCTP(sport=CLIENT, dport=SERVER, tag=TAG_OUT) / SCTPChunkAbort())
    assert s.recv(timeout=0.5) is None
    assert not conn_lines(net, "sctp")


# ---- GRE ---------------------------------------------------------------


@pytest.fixture
def gre_ends(net):
    inside, outside = net.hosts
    c = RawPeer(inside, OUTSIDE4, socket.IPPROTO_GRE)
    s = RawPeer(outside, INSIDE4, socket.IPPROTO_GRE)
    yield c, s
    c.close()
    s.close()


def gre_v0():
    return GRE(proto=0x0800) / IP(src="192.168.0.1", dst="192.168.0.2") \
        / UDP(sport=1, dport=2) / Raw(b"tunnelled")


def pptp(call_id):
    return GRE_PPTP(call_id=call_id, seqnum_present=1, sequence_number=1) \
        / PPP(proto=0x21) / IP(src="192.168.1.1", dst="192.168.1.2") \
        / UDP(sport=1, dport=2) / Raw(b"ppp")


def test_gre_v0_both_ways(net, gre_ends):
    """GRE version 0 from inside makes a conn by address (keys 0),
    UNREPLIED with 30 s; the outside's answer crosses ctdpd as its reply,
    and the next packet makes the conn ASSURED with 180 s."""
    c, s = gre_ends
    c.send(gre_v0())
    assert s.recv() is not None
    line = one_conn(net, "47")
    assert line.startswith(f"47,orig=(src={INSIDE4},dst={OUTSIDE4},sport=0,"
                           f"dport=0),reply=(src={OUTSIDE4},dst={INSIDE4},"
                           f"sport=0,dport=0)"), line
    assert "SEEN_REPLY" not in status_of(line)
    s.send(gre_v0())
    assert c.recv() is not None
    c.send(gre_v0())
    assert s.recv() is not None
    line = one_conn(net, "47")
    assert "ASSURED" in status_of(line)
    timeout = int(re.search(r",timeout=(\d+)", net.dpctl(
        "dump-conntrack", "-s")).group(1))
    assert 175 <= timeout <= 180


def test_gre_pptp_without_helper(net, gre_ends):
    """PPTP's GRE by call id without a PPTP helper (as the kernel without
    nf_conntrack_pptp): the inside's packets to call id 0x1234 make a conn
    (dport=0x1234); the outside's to the inside's call id 0x5678 are not
    its reply but a new conn from outside, which the firewall drops."""
    c, s = gre_ends
    c.send(pptp(0x1234))
    assert s.recv() is not None
    line = one_conn(net, "47")
    assert f"sport=0,dport={0x1234})" in line, line
    s.send(pptp(0x5678))
    assert c.recv(timeout=0.5) is None
    assert len(conn_lines(net, "47")) == 1
