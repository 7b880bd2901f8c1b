"""veth and tap with their default offloads, through ctdpd.

A Linux stack sending over veth or tap leaves the TCP and UDP checksums
to the device (CHECKSUM_PARTIAL) and hands out TCP as GSO frames of up to
64 KiB.  ctdpd's system and tap ports read the virtio-net header that says
so (lib/ctdp-offload.h): partial checksums are completed at receive, GSO
frames are tracked as one segment and segmented by the output port, or
sent whole to a port that cannot segment them (counted gso_sent_whole).
Nothing here runs ethtool: every veth keeps its defaults.

Bulk TCP both ways (large enough for GSO frames) and UDP, over IPv4 and
IPv6, through the default firewall and the masquerade; to a host behind a
link of smaller MTU, whose sender's smaller segments ctdpd keeps; a GSO
frame seen whole in a pcap port's capture; a tap port as a host's
interface.
"""
import hashlib
import os
import struct
import subprocess

import pytest

from conftest import run, wait_until
from netns import network, sh

IN4, OUT4, NAT = "198.18.0.1", "198.19.0.2", "198.19.0.100"
IN6, OUT6 = "2001:db8::1", "2001:db8::2"
BULK = 4 << 20                  # Bytes: many GSO frames' worth.

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="network namespaces need root")

# Deterministic data, so that both ends know its hash without sending it.
DATA_CODE = """
import hashlib, socket, sys
def data(n):
    block = bytes(range(256)) * 256
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])
"""

# Two servers on 'addr': 'port' reads to the end and answers the length
# and SHA-256 of what it read (uploads); 'port' + 1 sends BULK bytes of
# data() and closes (downloads).
SERVERS = DATA_CODE + """
import threading
def serve(port, handle):
    s = socket.socket(socket.AF_INET6 if ':' in {addr!r} else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(({addr!r}, port))
    s.listen(4)
    while True:
        c, _ = s.accept()
        handle(c)
        c.close()
def sink(c):
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.sendall(("%d %s" % (n, h.hexdigest())).encode())
def source(c):
    c.sendall(data({bulk}))
threading.Thread(target=serve, args=({port}, sink), daemon=True).start()
serve({port} + 1, source)
"""

# Uploads BULK bytes to 'port' and downloads them from 'port' + 1; checks
# both arrived whole.
CLIENT = DATA_CODE + """
af = socket.AF_INET6 if ':' in {addr!r} else socket.AF_INET
want = hashlib.sha256(data({bulk})).hexdigest()
s = socket.create_connection(({addr!r}, {port}), timeout=10)
s.sendall(data({bulk}))
s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    b = s.recv(100)
    if not b:
        break
    reply += b
assert reply.decode() == "%d %s" % ({bulk}, want), ("upload", reply)
s = socket.create_connection(({addr!r}, {port} + 1), timeout=10)
h, n = hashlib.sha256(), 0
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
assert (n, h.hexdigest()) == ({bulk}, want), ("download", n)
"""

UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET6 if ':' in {addr!r} else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.bind(({addr!r}, {port}))
while True:
    d, peer = s.recvfrom(65535)
    s.sendto(d, peer)
"""

# Datagrams of one frame and of several fragments, each echoed back.
UDP_CLIENT = """
import socket
s = socket.socket(socket.AF_INET6 if ':' in {addr!r} else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.settimeout(3)
for size in (1, 1000, 1400, 5000):
    d = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    s.sendto(d, ({addr!r}, {port}))
    assert s.recvfrom(65535)[0] == d, size
"""


def masquerade_routes(net):
    """The inside host routes everything out of eth0; the outside host
    reaches the NAT address at the inside host's MAC (ctdpd answers no
    ARP), as a router's upstream would."""
    inside, outside = net.hosts
    inside.ok("ip", "route", "add", "default", "dev", "eth0")
    mac = inside.ok("cat", "/sys/class/net/eth0/address").strip()
    outside.ok("ip", "neigh", "replace", NAT, "lladdr", mac, "dev", "eth0",
               "nud", "permanent")
    outside.ok("ip", "route", "add", "198.18.0.0/16", "dev", "eth0")


@pytest.fixture(scope="module", params=["firewall", "masquerade"])
def net(request, tmp_path_factory):
    """Inside (port 1) and outside (port 2) under the default firewall,
    then under the masquerade (IPv6 passes it unNATed)."""
    masq = request.param == "masquerade"
    out4 = OUT4 if masq else "198.18.0.2"
    with network(tmp_path_factory.mktemp(request.param),
                 [(IN4, IN6), (out4, OUT6)],
                 daemon_args=[f"--masquerade={NAT}"] if masq else []) as n:
        if masq:
            masquerade_routes(n)
        n.out4 = out4
        n.masq = masq
        yield n


def conn_lines(net, port):
    return [l for l in net.dpctl("dump-conntrack").splitlines()
            if f"dport={port})" in l]


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_tcp_bulk(net, v6):
    """4 MiB each way over one TCP connection from inside: GSO frames with
    partial checksums both ways, through the tracker (and NAT) whole."""
    inside, outside = net.hosts
    addr, port = (OUT6, 7110) if v6 else (net.out4, 7100)
    outside.python(SERVERS.format(addr=addr, port=port, bulk=BULK))
    outside.wait_listening(port + 1)
    inside.ok("/usr/bin/python3", "-c",
              CLIENT.format(addr=addr, port=port, bulk=BULK), timeout=60)
    lines = conn_lines(net, port)
    assert len(lines) == 1, lines
    if net.masq and not v6:
        assert f"dst={NAT}" in lines[0], lines[0]
    assert net.dpctl("ct-stats-show").count("bad_checksum=0") == 1


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_udp(net, v6):
    """UDP datagrams with partial checksums, from one frame to several
    fragments, to outside and back."""
    inside, outside = net.hosts
    addr, port = (OUT6, 7130) if v6 else (net.out4, 7120)
    outside.python(UDP_ECHO.format(addr=addr, port=port))
    outside.wait_listening(port, "u")
    inside.ok("/usr/bin/python3", "-c", UDP_CLIENT.format(addr=addr,
                                                          port=port))
    assert len(conn_lines(net, port)) == 1


# ---- A smaller MTU beyond ---------------------------------------------------

FAR, ROUTER_FAR = "198.19.7.9", "198.19.7.1"


def test_tcp_bulk_behind_smaller_mtu(tmp_path):
    """4 MiB each way through the masquerade to a host behind the outside
    host, a router whose link to it has MTU 1280: the inside host learns
    the path MTU from the router's ICMP error and sends GSO frames of
    smaller segments, which ctdpd must not cut to its port's MTU of 1500
    (netdev-linux would: ctdpd cuts them itself, to the sender's size)."""
    with network(tmp_path, [(IN4, None), (OUT4, None)],
                 daemon_args=[f"--masquerade={NAT}"]) as net:
        masquerade_routes(net)
        inside, outside = net.hosts
        inside.ok("ip", "route", "add", "198.19.7.0/24", "via", OUT4, "dev",
                  "eth0", "onlink")
        far = f"{outside.ns}-far"
        try:
            sh("ip", "netns", "add", far)
            outside.ok("ip", "link", "add", "far0", "mtu", "1280", "type",
                       "veth", "peer", "name", "far1", "mtu", "1280",
                       "netns", far)
            outside.ok("ip", "link", "set", "far0", "up")
            outside.ok("ip", "addr", "add", f"{ROUTER_FAR}/24", "dev",
                       "far0")
            outside.ok("sysctl", "-qw", "net.ipv4.ip_forward=1")
            for args in (("link", "set", "lo", "up"),
                         ("link", "set", "far1", "up"),
                         ("addr", "add", f"{FAR}/24", "dev", "far1"),
                         ("route", "add", "default", "via", ROUTER_FAR)):
                sh("ip", "-n", far, *args)
            server = subprocess.Popen(
                ["ip", "netns", "exec", far, "/usr/bin/python3", "-c",
                 SERVERS.format(addr=FAR, port=7170, bulk=BULK)])
            net.procs.append(server)
            wait_until(lambda: ":7171 " in run(
                ["ip", "netns", "exec", far, "ss", "-ltnH"]).stdout,
                what="the server behind the router")
            inside.ok("/usr/bin/python3", "-c", CLIENT.format(
                addr=FAR, port=7170, bulk=BULK), timeout=60)
        finally:
            run(["ip", "netns", "del", far])


# ---- A port that cannot segment ------------------------------------------

PCAP_FLOWS = """
priority=100,arp,in_port=1,actions=output:2
priority=100,arp,in_port=2,actions=output:1
priority=10,ip,in_port=1,actions=ct(commit),output:2,output:3
priority=10,ip,in_port=2,actions=ct(commit),output:1
priority=0,actions=drop
"""


def pcap_frame_sizes(path):
    """The original lengths of the frames of a pcap file."""
    raw = path.read_bytes()
    magic = struct.unpack("<I", raw[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
    sizes, ofs = [], 24
    while ofs + 16 <= len(raw):
        incl, orig = struct.unpack("<II", raw[ofs + 8:ofs + 16])
        sizes.append(orig)
        ofs += 16 + incl
    return sizes


def test_gso_frames_go_whole_to_a_pcap_port(tmp_path):
    """A copy of an upload to a pcap port (which cannot segment) holds GSO
    frames whole, longer than the MTU, and the port counts them; the
    system port still delivers the upload."""
    cap = tmp_path / "out.pcap"
    with network(tmp_path, [(IN4, None), ("198.18.0.2", None)],
                 flows=PCAP_FLOWS) as net:
        net.dpctl("add-port", f"cap=pcap:tx={cap},ofport=3")
        inside, outside = net.hosts
        outside.python(SERVERS.format(addr="198.18.0.2", port=7140,
                                      bulk=BULK))
        outside.wait_listening(7141)
        inside.ok("/usr/bin/python3", "-c", CLIENT.format(
            addr="198.18.0.2", port=7140, bulk=BULK), timeout=60)
        show = net.dpctl("show")
        line = next(l for l in show.splitlines() if "(pcap" in l)
        n = int(line.split("gso_sent_whole=")[1].rstrip(")"))
        net.dpctl("del-port", "cap")
    sizes = pcap_frame_sizes(cap)
    big = [s for s in sizes if s > 1514]
    assert len(big) == n > 0, (n, len(big), max(sizes))
    assert max(sizes) <= 65535


# ---- A tap port ------------------------------------------------------------

def test_tap_port(tmp_path):
    """A tap port that ctdpd creates, moved into the outside host's
    namespace as its interface: TCP bulk and UDP to it from a veth host,
    both with their default offloads (the tap's set by ctdpd)."""
    with network(tmp_path, [(IN4, None)],
                 flows=PCAP_FLOWS.replace(",output:3", "")) as net:
        inside = net.hosts[0]
        tap = f"{inside.link[:-2]}tp"
        ns = f"{inside.ns}-tap"
        try:
            sh("ip", "netns", "add", ns)
            net.dpctl("add-port", f"{tap}=tap:ofport=2")
            sh("ip", "link", "set", tap, "netns", ns)
            for args in (("link", "set", "lo", "up"),
                         ("link", "set", tap, "up"),
                         ("addr", "add", "198.18.0.2/24", "dev", tap)):
                sh("ip", "-n", ns, *args)
            argv = ["ip", "netns", "exec", ns, "/usr/bin/python3", "-c"]
            server = subprocess.Popen(
                argv + [SERVERS.format(addr="198.18.0.2", port=7150,
                                       bulk=BULK)])
            net.procs.append(server)
            server_udp = subprocess.Popen(
                argv + [UDP_ECHO.format(addr="198.18.0.2", port=7160)])
            net.procs.append(server_udp)
            wait_until(lambda: ":7151 " in run(
                ["ip", "netns", "exec", ns, "ss", "-ltnH"]).stdout,
                what="the server in the tap's namespace")
            inside.ok("/usr/bin/python3", "-c", CLIENT.format(
                addr="198.18.0.2", port=7150, bulk=BULK), timeout=60)
            inside.ok("/usr/bin/python3", "-c", UDP_CLIENT.format(
                addr="198.18.0.2", port=7160))
        finally:
            run(["ip", "netns", "del", ns])
