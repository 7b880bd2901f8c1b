"""Real traffic through system ports: two namespaces joined through ctdpd.

The fixture builds an "inside" and an "outside" network namespace, each
joined to ctdpd by a veth pair whose host end is a system port (1 inside,
2 outside), under the default firewall flows (tests/netns.py: names that
cannot collide, everything removed even when a test fails, host ends that
neither answer ARP nor speak IPv6, so no test traffic reaches the host).
Addresses are from the benchmarking range 198.18.0.0/15 and the
documentation range 2001:db8::/32.
"""
import os
import time

import pytest

from conftest import wait_until
from netns import network, sh

INSIDE4, OUTSIDE4 = "198.18.0.1", "198.18.0.2"
INSIDE6, OUTSIDE6 = "2001:db8::1", "2001:db8::2"

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="network namespaces need root")


@pytest.fixture(scope="module", params=[[], ["--n-threads=1"]],
                ids=["thread-per-port", "one-shared-thread"])
def net(request, tmp_path_factory):
    """The network, with a receive thread per port, then with one receive
    thread polling both ports (--n-threads=1)."""
    with network(tmp_path_factory.mktemp("live"),
                 [(INSIDE4, INSIDE6), (OUTSIDE4, OUTSIDE6)],
                 daemon_args=request.param) as n:
        yield n


@pytest.fixture
def inside(net):
    return net.hosts[0]


@pytest.fixture
def outside(net):
    return net.hosts[1]


TCP_ECHO = """
import socket
s = socket.socket(socket.AF_INET6 if ':' in {addr!r} else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(({addr!r}, {port}))
s.listen()
while True:
    c, _ = s.accept()
    c.sendall(c.recv(100))
    c.close()
"""

TCP_CLIENT = """
import socket
s = socket.create_connection(({addr!r}, {port}), timeout={timeout})
s.sendall(b"ping")
assert s.recv(100) == b"ping"
"""


def conntrack(net):
    return net.daemon.dpctl("dump-conntrack", "-s").stdout


def test_ping_from_inside(net, inside):
    """An ICMP echo from inside is tracked and its replies come back."""
    out = inside.exec("ping", "-c", "2", "-i", "0.2", "-W", "2", OUTSIDE4)
    assert out.returncode == 0, out.stdout
    assert f"icmp,orig=(src={INSIDE4},dst={OUTSIDE4}" in conntrack(net)


VLAN_FLOWS = """\
in_port=1,dl_vlan=100,actions=output:2
priority=0,actions=drop
"""

SEND_TAGGED = """
from scapy.all import Dot1Q, Ether, IP, UDP, sendp
sendp(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
      / Dot1Q(vlan=100, prio=5) / IP(src="198.18.0.1", dst="198.18.0.2")
      / UDP(sport=1000, dport=2000) / b"tagged", iface="eth0", verbose=0)
"""


def test_vlan_tag_kept(tmp_path):
    """A VLAN tag comes through a system port: the kernel hands the port
    its frames with the tag taken out (into the skb's metadata), and the
    port puts it back, so a flow matches the VLAN and the frame leaves
    with its tag, priority and all."""
    cap = tmp_path / "out.pcap"
    with network(tmp_path, [(INSIDE4, None)], flows=VLAN_FLOWS) as net:
        net.dpctl("add-port", f"cap=pcap:tx={cap},ofport=2")
        net.hosts[0].ok("/usr/bin/python3", "-c", SEND_TAGGED)
        wait_until(lambda: "1 packets written" in net.dpctl("show"),
                   what="the tagged frame in the capture")
        net.dpctl("del-port", "cap")
    frame = cap.read_bytes()[24 + 16:]
    assert frame[12:16] == bytes([0x81, 0x00, 0xa0, 0x64]), frame[:20].hex()
    assert frame.endswith(b"tagged")


def cpu_ticks(pid):
    """User and system clock ticks process 'pid' has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_link_down_and_up(tmp_path):
    """A system port whose link goes down and up again: the kernel reports
    it to the port's socket as an error, which poll() returns until it is
    read; the port reads it before it sleeps, so its thread does not spin
    (it did, at 100% of a CPU, from the first link down on), and traffic
    passes again once the link is up."""
    with network(tmp_path, [(INSIDE4, None), (OUTSIDE4, None)]) as net:
        inside, pid = net.hosts[0], net.daemon.pid
        sh("ip", "link", "set", inside.link, "down")
        before = cpu_ticks(pid)
        time.sleep(1)
        idle_ticks = cpu_ticks(pid) - before
        sh("ip", "link", "set", inside.link, "up")
        out = inside.exec("ping", "-c", "2", "-i", "0.2", "-W", "2",
                          OUTSIDE4)
        assert out.returncode == 0, out.stdout
        # A spinning thread takes a whole second; an idle daemon nearly none.
        assert idle_ticks < os.sysconf("SC_CLK_TCK") // 4, idle_ticks


def test_ping6_from_inside(inside):
    """IPv6 works through the firewall: neighbour discovery passes and an
    ICMPv6 echo from inside gets its replies."""
    out = inside.exec("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2",
                      OUTSIDE6)
    assert out.returncode == 0, out.stdout


def test_tcp_from_inside(net, inside, outside):
    """A TCP connection from inside completes, and its conn has counted
    packets in both directions."""
    outside.python(TCP_ECHO.format(addr=OUTSIDE4, port=7001))
    outside.wait_listening(7001)
    out = inside.exec("/usr/bin/python3", "-c",
                      TCP_CLIENT.format(addr=OUTSIDE4, port=7001, timeout=5))
    assert out.returncode == 0, out.stderr
    line = next(l for l in conntrack(net).splitlines()
                if "dport=7001" in l)
    assert line.startswith(f"tcp,orig=(src={INSIDE4},dst={OUTSIDE4}")
    assert line.count("packets=") == 2, line


def test_udp_request_and_reply(inside, outside):
    """A UDP reply from outside reaches the inside client."""
    outside.python(f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(({OUTSIDE4!r}, 7002))
while True:
    d, peer = s.recvfrom(100)
    s.sendto(d, peer)
""")
    outside.wait_listening(7002, "u")
    out = inside.exec("/usr/bin/python3", "-c", f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"hi", ({OUTSIDE4!r}, 7002))
assert s.recvfrom(100)[0] == b"hi"
""")
    assert out.returncode == 0, out.stderr


def test_tcp_from_outside_is_dropped(net, inside, outside):
    """A connection attempt from outside to a listening inside server
    fails, and no conn is made for it."""
    inside.python(TCP_ECHO.format(addr=INSIDE4, port=7003))
    inside.wait_listening(7003)
    out = outside.exec("/usr/bin/python3", "-c",
                       TCP_CLIENT.format(addr=INSIDE4, port=7003, timeout=1))
    assert out.returncode != 0
    assert "dport=7003" not in conntrack(net)
