"""Real traffic through NAT: namespaces joined through ctdpd, after Open
vSwitch's system-traffic NAT tests.

The inside host (port 1) has two addresses on 198.18.0.0/24, the outside
host (port 2) is on 198.19.0.0/24 and routes to 198.19.7.0/24 behind it
(a veth pair of its own, MTU 1280), and the NAT address is 198.19.0.100.  ctdpd
only bridges: it neither answers ARP for the NAT address nor rewrites
Ethernet addresses, so the outside host has a permanent neighbour entry
for the NAT address with the inside host's MAC, as a router's upstream
would have for the router's address; the inside host reaches everything
through an on-link default route.

Most tests run under `ctdpd --masquerade` (the default firewall that
source-NATs IPv4 conns from inside); the port forward runs flows of its
own, and range exhaustion a masquerade to two ports.  Every server
reports the peer address it sees, so the tests check from the server's
side that only the NAT address arrives.  tests/netns.py builds and
removes the namespaces, also when a test fails.
"""
import os
import socket
import subprocess

import pytest

from conftest import program, run, wait_until
from netns import network

INSIDE_A, INSIDE_B = "198.18.0.1", "198.18.0.3"
INSIDE6, OUTSIDE6 = "2001:db8::1", "2001:db8::2"
OUTSIDE = "198.19.0.2"
NAT = "198.19.0.100"
FAR = "198.19.7.9"              # Behind the outside host, a router.
ROUTER_FAR = "198.19.7.1"

root = pytest.mark.skipif(os.geteuid() != 0,
                          reason="network namespaces need root")


def setup_addresses(net):
    """The routes, the second inside address, the outside host's neighbour
    entry for the NAT address and its router side (see the docstring)."""
    inside, outside = net.hosts
    inside.ok("ip", "addr", "add", f"{INSIDE_B}/24", "dev", "eth0")
    inside.ok("ip", "route", "add", "default", "dev", "eth0")
    inside.ok("ip", "route", "add", "198.19.7.0/24", "via", OUTSIDE,
              "dev", "eth0", "onlink")
    mac = inside.ok("cat", "/sys/class/net/eth0/address").strip()
    outside.ok("ip", "neigh", "replace", NAT, "lladdr", mac, "dev", "eth0",
               "nud", "permanent")
    outside.ok("ip", "route", "add", "198.18.0.0/16", "dev", "eth0")
    outside.ok("ip", "link", "add", "far0", "type", "veth", "peer", "name",
               "far1")
    outside.ok("ip", "link", "set", "far0", "up", "mtu", "1280")
    outside.ok("ip", "link", "set", "far1", "up")
    outside.ok("ip", "addr", "add", f"{ROUTER_FAR}/24", "dev", "far0")
    outside.ok("sysctl", "-qw", "net.ipv4.ip_forward=1")


@pytest.fixture(scope="module")
def masq(tmp_path_factory):
    """Inside and outside under `ctdpd --masquerade=NAT`."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    with network(tmp_path_factory.mktemp("masq"),
                 [(INSIDE_A, INSIDE6), (OUTSIDE, OUTSIDE6)],
                 daemon_args=[f"--masquerade={NAT}"]) as net:
        setup_addresses(net)
        yield net


def conntrack(net, *args):
    return net.dpctl("dump-conntrack", *args)


def conn_line(net, needle):
    lines = [l for l in conntrack(net, "-m").splitlines() if needle in l]
    assert len(lines) == 1, (needle, conntrack(net, "-m"))
    return lines[0]


def stat(net, name):
    out = net.dpctl("ct-stats-show")
    for word in out.split():
        if word.startswith(name + "="):
            return int(word.split("=")[1])
    raise AssertionError(f"no {name} in {out}")


# A UDP server that answers every datagram with "ADDR PORT LEN|" and the
# datagram: the peer as the server sees it.
UDP_PEER_ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)      # IP_MTU_DISCOVER: DONT (no DF)
s.bind(({addr!r}, {port}))
while True:
    d, peer = s.recvfrom(65535)
    s.sendto(("%s %d %d|" % (peer[0], peer[1], len(d))).encode() + d, peer)
"""

# A TCP server that answers every connection with "ADDR PORT" (its peer).
TCP_PEER_ECHO = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(({addr!r}, {port}))
s.listen(16)
while True:
    c, peer = s.accept()
    c.sendall(("%s %d" % peer).encode())
    c.close()
"""

# Sends one UDP datagram (of 'size' bytes, DF off) from each of 'sources'
# ((addr, port) pairs, all bound at once) to 'dst' and prints each reply.
UDP_CLIENT = """
import socket, sys
socks = []
for src in {sources!r}:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 0)
    s.settimeout(3)
    s.bind(src)
    socks.append(s)
for i, s in enumerate(socks):
    s.sendto(bytes([65 + i]) * {size}, {dst!r})
for i, s in enumerate(socks):
    reply = s.recv(65535)
    head, data = reply.split(b"|", 1)
    assert data == bytes([65 + i]) * {size}, (i, head, len(data))
    print(head.decode())
"""

# Connects from each of 'sources' at once (all connections open together)
# to 'dst' and prints what each server end said.
TCP_CLIENT = """
import socket
socks = [socket.create_connection({dst!r}, timeout=3, source_address=src)
         for src in {sources!r}]
for s in socks:
    print(s.recv(100).decode())
"""

# Sends one UDP datagram of 'size' bytes with TTL 'ttl' (and DF set with
# 'df') from (addr, port) to 'dst' on a connected socket with IP_RECVERR
# and prints the ICMP error that comes back as "ERRNO TYPE CODE OFFENDER
# INFO" (INFO: the MTU of a fragmentation needed).  The kernel matched the
# error's quote to this socket, so it reached the right inside host and
# port.
RECVERR_CLIENT = """
import socket, struct
IP_RECVERR, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, IP_PMTUDISC_PROBE = 11, 10, 0, 3
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
s.setsockopt(socket.SOL_IP, socket.IP_TTL, {ttl})
s.setsockopt(socket.SOL_IP, IP_MTU_DISCOVER,
             IP_PMTUDISC_PROBE if {df} else IP_PMTUDISC_DONT)
s.settimeout(3)
s.bind({src!r})
s.connect({dst!r})
s.send(b"x" * {size})
_, anc, _, _ = s.recvmsg(100, 512, socket.MSG_ERRQUEUE)
for level, kind, data in anc:
    if level == socket.SOL_IP and kind == IP_RECVERR:
        err, origin, etype, code, _, info = struct.unpack("=IBBBBI",
                                                          data[:12])
        print(err, etype, code, socket.inet_ntoa(data[20:24]), info)
"""


def recverr(host, src, dst, ttl=64, size=1, df=False):
    """RECVERR_CLIENT's output, split."""
    return host.ok("/usr/bin/python3", "-c", RECVERR_CLIENT.format(
        ttl=ttl, src=src, dst=dst, size=size, df=df)).split()


def udp_server(host, addr, port):
    host.python(UDP_PEER_ECHO.format(addr=addr, port=port))
    host.wait_listening(port, "u")


def tcp_server(host, addr, port):
    host.python(TCP_PEER_ECHO.format(addr=addr, port=port))
    host.wait_listening(port)


def udp_exchange(host, sources, dst, size=2):
    return host.ok("/usr/bin/python3", "-c",
                   UDP_CLIENT.format(sources=sources, dst=dst, size=size))


# ---- Masquerade -----------------------------------------------------------

@root
def test_ping_is_masqueraded(masq):
    """An ICMP echo from inside leaves with the NAT address, and its
    replies come back to the inside host."""
    inside, _ = masq.hosts
    out = inside.exec("ping", "-c", "2", "-i", "0.2", "-W", "2", "-I",
                      INSIDE_A, OUTSIDE)
    assert out.returncode == 0, out.stdout
    line = conn_line(masq, f"icmp,orig=(src={INSIDE_A},dst={OUTSIDE}")
    assert f"reply=(src={OUTSIDE},dst={NAT}," in line
    assert "SRC_NAT|SRC_NAT_DONE" in line


@root
def test_http_server_sees_nat_address(masq, tmp_path):
    """An HTTP fetch from inside (curl against python's http.server)
    works; the server's log names the NAT address as its client, never
    the inside address; the conn's reply tuple is the NATed one."""
    inside, outside = masq.hosts
    docroot = tmp_path / "www"
    docroot.mkdir()
    (docroot / "hello.txt").write_text("hello through NAT\n")
    log = tmp_path / "http.log"
    with open(log, "w") as f:
        outside.popen("/usr/bin/python3", "-m", "http.server", "--bind",
                      OUTSIDE, "--directory", str(docroot), "8080",
                      stderr=f)
    outside.wait_listening(8080)
    body = inside.ok("curl", "-sS", "--max-time", "5", "--interface",
                     INSIDE_A, f"http://{OUTSIDE}:8080/hello.txt")
    assert body == "hello through NAT\n"
    wait_until(lambda: "GET /hello.txt" in log.read_text(),
               what="the server's log line")
    text = log.read_text()
    assert f"{NAT} - - " in text, text
    assert INSIDE_A not in text, text
    line = conn_line(masq, "dport=8080")
    assert line.startswith(f"tcp,orig=(src={INSIDE_A},dst={OUTSIDE},")
    assert f"reply=(src={OUTSIDE},dst={NAT},sport=8080," in line
    assert "ASSURED" in line and "SRC_NAT|SRC_NAT_DONE" in line, line


@root
def test_udp_server_sees_nat_address(masq):
    """A UDP exchange from inside: the server sees the NAT address and
    its answer comes back to the inside socket."""
    inside, outside = masq.hosts
    udp_server(outside, OUTSIDE, 7002)
    peer = udp_exchange(inside, [(INSIDE_A, 0)], (OUTSIDE, 7002))
    assert peer.split()[0] == NAT, peer


@root
def test_same_source_port_from_two_inside_hosts(masq):
    """Two inside addresses use the same source port at once, over UDP
    and TCP: both get their answers, and the server sees two distinct
    ports on the NAT address (one conn kept port 40000, the other was
    moved)."""
    inside, outside = masq.hosts
    udp_server(outside, OUTSIDE, 7003)
    tcp_server(outside, OUTSIDE, 7004)
    sources = [(INSIDE_A, 40000), (INSIDE_B, 40000)]
    for out in (udp_exchange(inside, sources, (OUTSIDE, 7003)),
                inside.ok("/usr/bin/python3", "-c", TCP_CLIENT.format(
                    sources=sources, dst=(OUTSIDE, 7004)))):
        peers = [l.split()[:2] for l in out.splitlines()]
        assert [p[0] for p in peers] == [NAT, NAT], out
        ports = {int(p[1]) for p in peers}
        assert len(ports) == 2 and 40000 in ports, out
    for proto, dport in (("udp", 7003), ("tcp", 7004)):
        for src in (INSIDE_A, INSIDE_B):
            line = conn_line(masq, f"{proto},orig=(src={src},dst={OUTSIDE},"
                                   f"sport=40000,dport={dport})")
            assert f"dst={NAT}" in line, line


@root
def test_port_unreachable_reaches_the_right_inside_host(masq):
    """UDP to a closed outside port, from both inside addresses with the
    same source port: each socket gets its own port unreachable (errno
    ECONNREFUSED, ICMP 3/3 from the outside host), translated back
    through the NAT, the second one from the port its conn was moved
    to."""
    inside, _ = masq.hosts
    nat_ports = []
    for src in (INSIDE_A, INSIDE_B):
        out = recverr(inside, (src, 40010), (OUTSIDE, 9))
        assert out[:4] == ["111", "3", "3", OUTSIDE], (src, out)
        line = conn_line(masq, f"udp,orig=(src={src},dst={OUTSIDE},"
                               "sport=40010")
        assert f"reply=(src={OUTSIDE},dst={NAT},sport=9," in line, line
        nat_ports.append(line.split("reply=(")[1].split("dport=")[1]
                         .split(")")[0])
    assert nat_ports[0] == "40010" and nat_ports[1] != "40010", nat_ports


@root
def test_ttl_exceeded_from_router(masq):
    """A datagram with TTL 1 to a host behind the outside router: the
    router's time exceeded comes back through the NAT to the inside
    socket (errno EHOSTUNREACH, ICMP 11/0 from the router); ping -t 1
    sees it too."""
    inside, _ = masq.hosts
    out = recverr(inside, (INSIDE_A, 40020), (FAR, 33434), ttl=1)
    assert out[:4] == ["113", "11", "0", OUTSIDE], out
    ping = inside.exec("ping", "-c", "1", "-t", "1", "-W", "2", "-I",
                       INSIDE_A, FAR)
    assert f"From {OUTSIDE} icmp_seq=1 Time to live exceeded" in ping.stdout, \
        ping.stdout


@root
def test_fragmentation_needed_from_router(masq):
    """A 1400-byte datagram with DF set to a host behind the outside
    router, whose link there has an MTU of 1280: the router's
    fragmentation needed comes back through the NAT to the inside socket
    (errno EMSGSIZE, ICMP 3/4 from the router, MTU 1280)."""
    inside, _ = masq.hosts
    out = recverr(inside, (INSIDE_A, 40025), (FAR, 33434), size=1400,
                  df=True)
    assert out == ["90", "3", "4", OUTSIDE, "1280"], out


@root
def test_fragments_through_nat(masq):
    """A 4000-byte UDP datagram with DF off crosses the 1500-byte MTU as
    fragments: the server reassembles all of it from the NAT address, and
    its fragmented 4000-byte answer is reassembled inside; the tracker
    saw each datagram whole."""
    inside, outside = masq.hosts
    udp_server(outside, OUTSIDE, 7005)
    out = udp_exchange(inside, [(INSIDE_A, 40030)], (OUTSIDE, 7005),
                       size=4000)
    addr, _, length = out.split()
    assert (addr, length) == (NAT, "4000"), out
    line = next(l for l in conntrack(masq, "-s").splitlines()
                if "sport=40030" in l)
    assert "packets=1,bytes=4028)" in line, line


@root
def test_ipv6_is_not_masqueraded(masq):
    """IPv6 passes the firewall as without --masquerade, untranslated."""
    inside, _ = masq.hosts
    out = inside.exec("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2",
                      OUTSIDE6)
    assert out.returncode == 0, out.stdout
    line = conn_line(masq, f"icmpv6,orig=(src={INSIDE6},dst={OUTSIDE6}")
    assert f"reply=(src={OUTSIDE6},dst={INSIDE6}," in line
    assert "NAT" not in line


@root
def test_outside_cannot_open_conns_to_nat_address(masq):
    """The NAT address forwards nothing: a connection from outside to it
    fails and makes no conn."""
    inside, outside = masq.hosts
    tcp_server(inside, INSIDE_A, 7006)
    out = outside.exec("/usr/bin/python3", "-c", TCP_CLIENT.format(
        sources=[("0.0.0.0", 0)], dst=(NAT, 7006)).replace(
            "timeout=3", "timeout=1"))
    assert out.returncode != 0
    assert "dport=7006" not in conntrack(masq)


# ---- Port forward (DNAT) --------------------------------------------------

FORWARD_FLOWS = f"""\
table=0,priority=100,arp,in_port=1,actions=output:2
table=0,priority=100,arp,in_port=2,actions=output:1
table=0,priority=10,ip,actions=ct(table=1,nat)
table=0,priority=0,actions=drop
table=1,priority=100,ct_state=+trk+inv,actions=drop
table=1,priority=50,ct_state=+trk+new,ip,in_port=1,\
actions=ct(commit,nat(src={NAT})),output:2
table=1,priority=50,ct_state=+trk+new,tcp,in_port=2,nw_dst={NAT},tp_dst=8080,\
actions=ct(commit,nat(dst={INSIDE_A}:8000)),output:1
table=1,priority=50,ct_state=+trk+new,udp,in_port=2,nw_dst={NAT},tp_dst=5353,\
actions=ct(commit,nat(dst={INSIDE_B}:53)),output:1
table=1,priority=50,ct_state=+trk+new,udp,in_port=2,nw_dst={NAT},tp_dst=5354,\
actions=ct(commit,nat(dst={INSIDE_B}:54)),output:1
table=1,priority=50,ct_state=+trk+est,in_port=1,actions=output:2
table=1,priority=50,ct_state=+trk+est,in_port=2,actions=output:1
table=1,priority=50,ct_state=+trk+rel,in_port=1,actions=output:2
table=1,priority=50,ct_state=+trk+rel,in_port=2,actions=output:1
table=1,priority=0,actions=drop
"""


@root
def test_port_forward(tmp_path):
    """DNAT: outside reaches the inside TCP server at NAT:8080 and the
    UDP server at NAT:5353 (then fragmented datagrams both ways); the inside
    servers see the outside host's own address; the outside client sees
    its answers from NAT; conns show the forwarded reply tuple and
    DST_NAT; a port unreachable from inside comes back as from NAT.
    Another port of NAT stays closed."""
    with network(tmp_path, [(INSIDE_A, None), (OUTSIDE, None)],
                 flows=FORWARD_FLOWS) as net:
        setup_addresses(net)
        inside, outside = net.hosts
        tcp_server(inside, INSIDE_A, 8000)
        udp_server(inside, INSIDE_B, 53)
        out = outside.ok("/usr/bin/python3", "-c", TCP_CLIENT.format(
            sources=[(OUTSIDE, 0)], dst=(NAT, 8080)))
        assert out.split()[0] == OUTSIDE, out
        out = udp_exchange(outside, [(OUTSIDE, 40040)], (NAT, 5353))
        assert out.split()[:2] == [OUTSIDE, "40040"], out
        # The client's socket is connected to NAT:5353 in effect: a reply
        # from anywhere else would not have been taken by recv() through
        # connect(); check that too.
        out = outside.ok("/usr/bin/python3", "-c", f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(({NAT!r}, 5353))
s.send(b"q")
print(s.recv(100).decode())
""")
        assert out.startswith(f"{OUTSIDE} "), out
        line = conn_line(net, "dport=8080")
        assert line.startswith(f"tcp,orig=(src={OUTSIDE},dst={NAT},")
        assert f"reply=(src={INSIDE_A},dst={OUTSIDE},sport=8000," in line
        assert "DST_NAT|" in line and "SRC_NAT|" not in line, line
        line = conn_line(net, "sport=40040,dport=5353")
        assert f"reply=(src={INSIDE_B},dst={OUTSIDE},sport=53," in line
        # A 4000-byte datagram each way, fragmented, on the forwarded
        # conn once it is established.
        out = udp_exchange(outside, [(OUTSIDE, 40040)], (NAT, 5353),
                           size=4000)
        assert out.split() == [OUTSIDE, "40040", "4000"], out
        # NAT:5354 is forwarded to a closed port: the inside host's port
        # unreachable reaches the outside socket from NAT, its quote
        # translated back to the datagram the socket sent.
        out = recverr(outside, (OUTSIDE, 40042), (NAT, 5354))
        assert out[:4] == ["111", "3", "3", NAT], out
        closed = outside.exec("/usr/bin/python3", "-c", TCP_CLIENT.format(
            sources=[(OUTSIDE, 0)], dst=(NAT, 8000)).replace(
                "timeout=3", "timeout=1"))
        assert closed.returncode != 0


@root
def test_fragmented_first_datagram_through_port_forward(tmp_path):
    """A forwarded conn whose first datagram is fragmented (4000 bytes,
    DF off): the flow that forwards it matches the UDP port, as a port
    forward must, and the inside server still gets the whole datagram
    and its answer goes back, as through the kernel's datapath, where
    the tables see the reassembled datagram."""
    with network(tmp_path, [(INSIDE_A, None), (OUTSIDE, None)],
                 flows=FORWARD_FLOWS) as net:
        setup_addresses(net)
        inside, outside = net.hosts
        udp_server(inside, INSIDE_B, 53)
        out = outside.exec("/usr/bin/python3", "-c", UDP_CLIENT.format(
            sources=[(OUTSIDE, 40050)], dst=(NAT, 5353), size=4000))
        assert out.returncode == 0, (
            out.stderr[-100:], net.dpctl("dump-flows", "table=1"),
            net.dpctl("ipf-get-status"))
        assert out.stdout.split() == [OUTSIDE, "40050", "4000"], out.stdout


# ---- Exhaustion -----------------------------------------------------------

@root
def test_snat_range_exhaustion(tmp_path):
    """--masquerade to two ports: two conns from inside get them, a third
    (while both are held) is dropped, counted as nat_exhausted and logged
    once; the held conns still work."""
    with network(tmp_path, [(INSIDE_A, None), (OUTSIDE, None)],
                 daemon_args=[f"--masquerade={NAT}:5000-5001"]) as net:
        setup_addresses(net)
        inside, outside = net.hosts
        udp_server(outside, OUTSIDE, 7007)
        ports = set()
        for sport in (41000, 41001):
            out = udp_exchange(inside, [(INSIDE_A, sport)], (OUTSIDE, 7007))
            assert out.split()[0] == NAT, out
            ports.add(int(out.split()[1]))
        assert ports == {5000, 5001}
        assert stat(net, "nat_exhausted") == 0
        third = inside.exec("/usr/bin/python3", "-c", UDP_CLIENT.format(
            sources=[(INSIDE_A, 41002)], dst=(OUTSIDE, 7007), size=2))
        assert third.returncode != 0 and "timed out" in third.stderr, third
        assert stat(net, "nat_exhausted") >= 1
        assert "sport=41002" not in conntrack(net)
        wait_until(lambda: "no free tuple in the range" in
                   net.daemon.logfile.read_text(), what="the log line")
        # The conns that have the ports keep them.
        out = udp_exchange(inside, [(INSIDE_A, 41000)], (OUTSIDE, 7007))
        assert out.split()[0] == NAT and int(out.split()[1]) in ports


# ---- veth's default offloads ---------------------------------------------

@root
def test_default_veth_offloads(tmp_path):
    """UDP and TCP through the masquerade with veth's default offloads,
    no ethtool step: the hosts' stacks hand out frames whose L4 checksum
    is left to the "hardware" (CHECKSUM_PARTIAL).  ctdp copes with them as
    the kernel's datapath does (tests/test_offload_live.py has more)."""
    with network(tmp_path, [(INSIDE_A, None), (OUTSIDE, None)],
                 daemon_args=[f"--masquerade={NAT}"]) as net:
        setup_addresses(net)
        inside, outside = net.hosts
        udp_server(outside, OUTSIDE, 7008)
        tcp_server(outside, OUTSIDE, 7009)
        udp = inside.exec("/usr/bin/python3", "-c", UDP_CLIENT.format(
            sources=[(INSIDE_A, 0)], dst=(OUTSIDE, 7008), size=2))
        tcp = inside.exec("/usr/bin/python3", "-c", TCP_CLIENT.format(
            sources=[(INSIDE_A, 0)], dst=(OUTSIDE, 7009)))
        stats = net.dpctl("ct-stats-show").strip().splitlines()[-1]
        assert udp.returncode == 0 and tcp.returncode == 0, \
            (udp.stderr[-200:], tcp.stderr[-200:], stats)


# ---- The option ------------------------------------------------------------

@pytest.mark.parametrize("arg,message", [
    ("", "is not ADDR[-ADDR][:PORT[-PORT]]"),
    ("198.19.0", "is not ADDR[-ADDR][:PORT[-PORT]]"),
    ("224.0.0.1", "with unicast IPv4 addresses"),
    ("198.19.0.100:0", "ports must be numbers from 1 to 65535"),
    ("198.19.0.100:70000", "ports must be numbers from 1 to 65535"),
    ("198.19.0.100:9-8", "the port range ends before it starts"),
    ("198.19.0.9-198.19.0.1", "the address range ends before it starts"),
    ("2001:db8::1", "only IPv4 is masqueraded"),
    ("[2001:db8::1]:80", "only IPv4 is masqueraded"),
])
def test_bad_masquerade(tmp_path, arg, message):
    """A bad --masquerade: one line on stderr, exit status 1, no daemon."""
    proc = run([program("ctdpd"), f"--masquerade={arg}",
                f"--unixctl={tmp_path}/ctl"])
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, \
        proc.stderr
    assert proc.stderr.startswith("ctdpd: --masquerade: ")


def test_masquerade_with_flows(tmp_path):
    """--masquerade changes the default firewall: not with --flows."""
    flows = tmp_path / "flows"
    flows.write_text("actions=drop\n")
    proc = run([program("ctdpd"), f"--masquerade={NAT}", f"--flows={flows}",
                f"--unixctl={tmp_path}/ctl"])
    assert proc.returncode == 1
    assert "cannot go with --flows" in proc.stderr


def test_masquerade_replays(tmp_path):
    """--masquerade loads: a replay of nothing prints an empty table with
    the flows in place (a cheap check that its flow text parses)."""
    proc = run([program("ctdpd"), "--replay", f"--masquerade={NAT}:1024-2047",
                f"--unixctl={tmp_path}/ctl"])
    assert proc.returncode == 0, proc.stderr
    assert "nat_exhausted=0" in proc.stdout
