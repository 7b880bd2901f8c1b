"""Real traffic through system ports: two namespaces joined through ctdpd.

The fixture builds an "inside" and an "outside" network namespace, each
joined to ctdpd by a veth pair whose host end is a system port (1 inside,
2 outside), under the default firewall flows.  Names carry the pid, so two
runs cannot collide; everything is removed even when a test fails.  The
host ends neither answer ARP nor speak IPv6, so no test traffic reaches the
host.  Addresses are from the benchmarking range 198.18.0.0/15 and the
documentation range 2001:db8::/32.
"""
import os
import subprocess

import pytest

from conftest import Daemon, run, wait_until

INSIDE4, OUTSIDE4 = "198.18.0.1", "198.18.0.2"
INSIDE6, OUTSIDE6 = "2001:db8::1", "2001:db8::2"

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="network namespaces need root")


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


class Net:
    """The two namespaces, their veth pairs and the daemon between them."""

    def __init__(self, tmp, daemon_args):
        tag = os.getpid()
        self.nsi, self.nso = f"ctdp-ti-{tag}", f"ctdp-to-{tag}"
        self.pi, self.po = f"ctdpti{tag}", f"ctdpto{tag}"
        self.tmp = tmp
        self.daemon_args = daemon_args
        self.daemon = None
        self.procs = []

    def host(self, ns, hostend, addr4, addr6):
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", hostend, "type", "veth", "peer", "name",
           "eth0", "netns", ns)
        sh("sysctl", "-qw", f"net.ipv6.conf.{hostend}.disable_ipv6=1")
        sh("sysctl", "-qw", f"net.ipv4.conf.{hostend}.arp_ignore=8")
        sh("ip", "link", "set", hostend, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        # A frame that crosses a userspace datapath needs a full checksum.
        sh("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off")
        sh("ip", "-n", ns, "addr", "add", f"{addr4}/24", "dev", "eth0")
        sh("ip", "-n", ns, "addr", "add", f"{addr6}/64", "dev", "eth0",
           "nodad")

    def up(self):
        self.host(self.nsi, self.pi, INSIDE4, INSIDE6)
        self.host(self.nso, self.po, OUTSIDE4, OUTSIDE6)
        self.daemon = Daemon(self.tmp).start(f"--port={self.pi}=system",
                                             f"--port={self.po}=system",
                                             *self.daemon_args)
        return self

    def down(self):
        for p in self.procs:
            p.kill()
            p.wait()
        if self.daemon:
            self.daemon.stop()
        for ns in (self.nsi, self.nso):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for link in (self.pi, self.po):
            subprocess.run(["ip", "link", "del", link], capture_output=True)

    def exec(self, ns, *args, timeout=15):
        return run(["ip", "netns", "exec", ns, *args], timeout=timeout)

    def serve(self, ns, code):
        """Runs Python 'code' in the background in namespace 'ns'."""
        p = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3",
                              "-c", code])
        self.procs.append(p)
        return p

    def listening(self, ns, port, proto="t"):
        out = self.exec(ns, "ss", f"-l{proto}n").stdout
        return f":{port} " in out


@pytest.fixture(scope="module", params=[[], ["--n-threads=1"]],
                ids=["thread-per-port", "one-shared-thread"])
def net(request, tmp_path_factory):
    """The network, with a receive thread per port, then with one receive
    thread polling both ports (--n-threads=1)."""
    n = Net(tmp_path_factory.mktemp("live"), request.param)
    try:
        yield n.up()
    finally:
        n.down()


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


def test_ping_from_inside(net):
    """An ICMP echo from inside is tracked and its replies come back."""
    out = net.exec(net.nsi, "ping", "-c", "2", "-i", "0.2", "-W", "2",
                   OUTSIDE4)
    assert out.returncode == 0, out.stdout
    assert f"icmp,orig=(src={INSIDE4},dst={OUTSIDE4}" in conntrack(net)


def test_ping6_from_inside(net):
    """IPv6 works through the firewall: neighbour discovery passes and an
    ICMPv6 echo from inside gets its replies."""
    out = net.exec(net.nsi, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2",
                   OUTSIDE6)
    assert out.returncode == 0, out.stdout


def test_tcp_from_inside(net):
    """A TCP connection from inside completes, and its conn has counted
    packets in both directions."""
    net.serve(net.nso, TCP_ECHO.format(addr=OUTSIDE4, port=7001))
    wait_until(lambda: net.listening(net.nso, 7001), what="the server")
    out = net.exec(net.nsi, "/usr/bin/python3", "-c",
                   TCP_CLIENT.format(addr=OUTSIDE4, port=7001, timeout=5))
    assert out.returncode == 0, out.stderr
    line = next(l for l in conntrack(net).splitlines()
                if "dport=7001" in l)
    assert line.startswith(f"tcp,orig=(src={INSIDE4},dst={OUTSIDE4}")
    assert line.count("packets=") == 2, line


def test_udp_request_and_reply(net):
    """A UDP reply from outside reaches the inside client."""
    net.serve(net.nso, f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(({OUTSIDE4!r}, 7002))
while True:
    d, peer = s.recvfrom(100)
    s.sendto(d, peer)
""")
    wait_until(lambda: net.listening(net.nso, 7002, "u"), what="the server")
    out = net.exec(net.nsi, "/usr/bin/python3", "-c", f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"hi", ({OUTSIDE4!r}, 7002))
assert s.recvfrom(100)[0] == b"hi"
""")
    assert out.returncode == 0, out.stderr


def test_tcp_from_outside_is_dropped(net):
    """A connection attempt from outside to a listening inside server
    fails, and no conn is made for it."""
    net.serve(net.nsi, TCP_ECHO.format(addr=INSIDE4, port=7003))
    wait_until(lambda: net.listening(net.nsi, 7003), what="the server")
    out = net.exec(net.nso, "/usr/bin/python3", "-c",
                   TCP_CLIENT.format(addr=INSIDE4, port=7003, timeout=1))
    assert out.returncode != 0
    assert "dport=7003" not in conntrack(net)
