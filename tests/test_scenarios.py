"""Real traffic through ctdpd: Open vSwitch's system-traffic conntrack
scenarios, with ctdp in the place of ovs-vswitchd.

Each test builds its own namespaces joined through a ctdpd by system ports
(tests/netns.py), loads the flows written out in the test, in OVS syntax as
OVS's tests/system-traffic.at writes them (with output:N where OVS uses
NORMAL), sends traffic with real clients (curl, ping, socat, Python's
http.server and sockets) and checks what got through, the flows' counters,
and the conntrack table as dump-conntrack prints it, compared exactly after
clearing what changes from run to run (ephemeral ports, ICMP ids, conn ids,
start times, timeouts), as OVS's FORMAT_CT does.

Hosts "a" and "b" are ports 1 and 2; with four hosts, "c" and "d" are ports
3 and 4.  Every wait polls; nothing sleeps for a fixed time.
"""
import contextlib
import os
import re
import subprocess
import textwrap
import time

import pytest

from conftest import wait_until
from netns import network

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="network namespaces need root")

A4, B4, C4, D4 = "10.1.1.1", "10.1.1.2", "10.1.1.3", "10.1.1.4"
A6, B6 = "2001:db8::1", "2001:db8::2"
PAIR4 = [(A4, None), (B4, None)]
PAIR = [(A4, A6), (B4, B6)]

# ARP between hosts a (port 1) and b (port 2), and c (3) and d (4).
ARP_AB = """
priority=10,arp,in_port=1,actions=output:2
priority=10,arp,in_port=2,actions=output:1
"""
ARP_CD = """
priority=10,arp,in_port=3,actions=output:4
priority=10,arp,in_port=4,actions=output:3
"""
# IPv6 neighbour discovery between a and b, ahead of any other ICMPv6 flow.
ND_AB = """
priority=110,icmp6,icmp_type=135,in_port=1,actions=output:2
priority=110,icmp6,icmp_type=135,in_port=2,actions=output:1
priority=110,icmp6,icmp_type=136,in_port=1,actions=output:2
priority=110,icmp6,icmp_type=136,in_port=2,actions=output:1
"""


@pytest.fixture
def make_net(tmp_path):
    """make_net(flows, hosts=PAIR4, daemon_args=()): a network that exists
    until the test ends, whatever its outcome.  Hosts without an IPv6
    address have IPv6 off."""
    with contextlib.ExitStack() as stack:
        count = 0

        def make(flows, hosts=PAIR4, daemon_args=()):
            nonlocal count
            tmp = tmp_path / f"net{count}"
            tmp.mkdir()
            count += 1
            text = textwrap.dedent(flows).strip() + "\n"
            return stack.enter_context(network(tmp, hosts, text, daemon_args))

        yield make


# --- Conntrack and flow tables, as the tests compare them. ---

def format_ct(dump, dst, keep=()):
    """OVS's FORMAT_CT: the conns of 'dump' whose original destination is
    'dst', with every port not in 'keep', ICMP ids and conn ids, start
    times and timeouts cleared; sorted, each once."""
    lines = set()
    for line in dump.splitlines():
        if not re.search(rf"orig=\(src=[^,]+,dst={re.escape(dst)},", line):
            continue
        line = re.sub(r"port=(\d+)",
                      lambda m: m[0] if int(m[1]) in keep
                      else "port=<cleared>", line)
        line = re.sub(r"\bid=\d+", "id=<cleared>", line)
        line = re.sub(r"start=[^,]+", "start=<cleared>", line)
        line = re.sub(r"timeout=\d+", "timeout=<cleared>", line)
        lines.add(line)
    return sorted(lines)


def wait_ct(net, dst, expected, keep=(), args=(), timeout=5.0):
    """Polls dump-conntrack ARGS until format_ct() of it is 'expected' (a
    list of lines); fails showing the last dump otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        got = format_ct(net.dpctl("dump-conntrack", *args), dst, keep)
        if got == expected:
            return
        if time.monotonic() > deadline:
            assert got == expected
        time.sleep(0.02)


def flow_stats(net):
    """dump-flows as OVS's ofctl_strip leaves it: ' n_packets=N,
    n_bytes=N, MATCH actions=ACTIONS' per flow of table 0 (other tables
    keep their ' table=N,')."""
    out = []
    for line in net.dpctl("dump-flows").splitlines():
        line = re.sub(r"^cookie=\S+ duration=\S+ ", "", line)
        line = re.sub(r"^table=0, ", "", line)
        out.append(" " + line)
    return out


def n_packets(net, match, table=0):
    """The packet count of the one flow whose printed match (priority
    first) is 'match'."""
    found = []
    for line in net.dpctl("dump-flows", f"table={table}").splitlines():
        m = re.search(r"n_packets=(\d+), n_bytes=\d+, (\S+) actions=", line)
        if m and m[2] == match:
            found.append(int(m[1]))
    assert len(found) == 1, (match, net.dpctl("dump-flows"))
    return found[0]


def ct_stats(net):
    """The tracker's statistics of ct-stats-show, as a dict."""
    out = net.dpctl("ct-stats-show")
    line = out.split("Statistics:")[1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def table_misses(net):
    """The datapath's table_miss drop counter (show)."""
    return int(re.search(r"table_miss=(\d+)", net.dpctl("show"))[1])


def conn_ids(net, *args):
    """Each conn's id (dump-conntrack -m ARGS), keyed by its line without
    the id."""
    ids = {}
    for line in net.dpctl("dump-conntrack", "-m", *args).splitlines():
        # The conn's id is the last id= (an ICMP tuple has its own).
        conn_id = re.findall(r",id=(\d+)", line)[-1]
        ids[line.replace(f",id={conn_id}", "")] = int(conn_id)
    return ids


# --- Clients and servers. ---

HTTP_PORT = 8080


def http_server(host, addr, port=HTTP_PORT):
    """Python's http.server on 'addr', serving an empty directory."""
    www = host.net.tmp / "www"
    www.mkdir(exist_ok=True)
    host.popen("/usr/bin/python3", "-m", "http.server", "--bind", addr,
               "--directory", str(www), str(port))
    host.wait_listening(port)


def curl(host, addr, port=HTTP_PORT, timeout=5):
    """curl from 'host' to http://ADDR:PORT/; returns the CompletedProcess
    (stdout: the HTTP status)."""
    url = f"http://[{addr}]:{port}/" if ":" in addr else \
        f"http://{addr}:{port}/"
    return host.exec("curl", "-g", "-s", "-o", "/dev/null", "-w",
                     "%{http_code}", "--connect-timeout", str(timeout),
                     "--max-time", str(timeout + 2), url,
                     timeout=timeout + 5)


def ping(host, addr, count=3, deadline=2):
    """ping from 'host'; returns (packets received, CompletedProcess)."""
    proc = host.exec("ping", "-6" if ":" in addr else "-4", "-q",
                     "-c", str(count), "-i", "0.1", "-w", str(deadline),
                     addr, timeout=deadline + 5)
    m = re.search(r"(\d+) received", proc.stdout)
    assert m, (proc.stdout, proc.stderr)
    return int(m[1]), proc


UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET6 if ':' in {addr!r} else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(({addr!r}, {port}))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
"""


def udp_echo_server(host, addr, port):
    host.python(UDP_ECHO.format(addr=addr, port=port))
    host.wait_listening(port, "u")


UDP_REQUEST = """
import socket
s = socket.socket(socket.AF_INET6 if ':' in {dst!r} else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.bind(({src!r}, {sport}))
s.settimeout({timeout})
s.sendto(b"x" * {size}, ({dst!r}, {dport}))
print(len(s.recvfrom(65535)[0]))
"""


def udp_request(host, src, sport, dst, dport, size=5, timeout=3):
    """One UDP datagram of 'size' bytes from SRC:SPORT and its echo; returns
    the CompletedProcess (stdout: the echo's length)."""
    return host.exec("/usr/bin/python3", "-c", UDP_REQUEST.format(
        src=src, sport=sport, dst=dst, dport=dport, size=size,
        timeout=timeout), timeout=timeout + 5)


def udp_send(host, sport, dst, dport, data="x\n"):
    """One datagram from port 'sport' to DST:DPORT, by socat, which does
    not wait for an answer (and shares the port with a server on it)."""
    host.ok("socat", "-u", "-t", "0", "-",
            f"UDP4-SENDTO:{dst}:{dport},sourceport={sport},reuseaddr",
            input=data)


def udp_sink(host, addr, port, path):
    """socat appending each datagram received on ADDR:PORT to 'path'."""
    host.popen("socat", "-u", f"UDP4-RECV:{port},bind={addr}",
               f"OPEN:{path},creat,append")
    host.wait_listening(port, "u")


TCP_ECHO_PORT = 7000


def tcp_echo_server(host, addr, port=TCP_ECHO_PORT):
    """socat echoing every TCP connection on ADDR:PORT."""
    host.popen("socat", f"TCP-LISTEN:{port},bind={addr},fork,reuseaddr",
               "EXEC:/bin/cat")
    host.wait_listening(port)


TCP_SESSION = """
import socket, sys
s = socket.create_connection(({dst!r}, {dport}), timeout={timeout})
for line in sys.stdin:
    s.sendall(line.encode())
    print(s.recv(100).decode().strip(), flush=True)
"""


class TcpSession:
    """One TCP connection held open from 'host': each ask() sends a line
    and returns the echo (or None if the connection failed)."""

    def __init__(self, host, dst, dport=TCP_ECHO_PORT, timeout=3):
        self.proc = host.python(
            TCP_SESSION.format(dst=dst, dport=dport, timeout=timeout),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        return line.strip() if line else None

    def ask(self, text):
        self.send(text)
        return self.receive()


# --- Scenarios. ---

HTTP_FLOWS = """
priority=1,actions=drop
priority=100,in_port=1,{tcp},actions=ct(commit),output:2
priority=100,in_port=2,ct_state=-trk,{tcp},actions=ct(table=0)
priority=100,in_port=2,ct_state=+trk+est,{tcp},actions=output:1
"""


def test_ipv4_http(make_net):
    """conntrack - IPv4 HTTP: a stateful firewall lets an HTTP connection
    from a to b through and back, committing one conn that ends in
    TIME_WAIT, and drops a connection attempt from b to a."""
    net = make_net(HTTP_FLOWS.format(tcp="tcp") + ARP_AB)
    a, b = net.hosts
    http_server(a, A4)
    http_server(b, B4)

    assert curl(a, B4).stdout == "200"
    wait_ct(net, B4, [
        f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=8080),"
        f"reply=(src={B4},dst={A4},sport=8080,dport=<cleared>),"
        "protoinfo=(state=TIME_WAIT)"], keep=(HTTP_PORT,))

    proc = curl(b, A4, timeout=1)
    assert proc.returncode == 28, (proc.returncode, proc.stdout)
    assert format_ct(net.dpctl("dump-conntrack"), A4) == []


def test_ipv6_http(make_net):
    """conntrack - IPv6 HTTP: the same over IPv6, with neighbour discovery
    passing outside the tracker."""
    net = make_net(HTTP_FLOWS.format(tcp="tcp6") + ND_AB, hosts=PAIR)
    a, b = net.hosts
    http_server(a, A6)
    http_server(b, B6)

    assert curl(a, B6).stdout == "200"
    wait_ct(net, B6, [
        f"tcp,orig=(src={A6},dst={B6},sport=<cleared>,dport=8080),"
        f"reply=(src={B6},dst={A6},sport=8080,dport=<cleared>),"
        "protoinfo=(state=TIME_WAIT)"], keep=(HTTP_PORT,))

    proc = curl(b, A6, timeout=1)
    assert proc.returncode == 28, (proc.returncode, proc.stdout)
    assert format_ct(net.dpctl("dump-conntrack"), A6) == []


def test_tcp_bulk_download(make_net):
    """An 8 MB download over HTTP through the firewall: the data arrives
    whole, and the TCP tracker calls none of its segments invalid (window
    tracking keeps up with a real sender's windows and SACKs)."""
    net = make_net(HTTP_FLOWS.format(tcp="tcp") + ARP_AB)
    a, b = net.hosts
    http_server(b, B4)
    (net.tmp / "www" / "blob").write_bytes(os.urandom(8 << 20))

    proc = a.exec("curl", "-s", "-o", "/dev/null", "-w", "%{size_download}",
                  "--max-time", "20", f"http://{B4}:{HTTP_PORT}/blob",
                  timeout=25)
    assert proc.stdout == str(8 << 20), (proc.returncode, proc.stdout)
    stats = ct_stats(net)
    assert (stats["invalid"], stats["error"]) == (0, 0), stats


def test_tcp_refused_by_reset(make_net):
    """A connection from a to a port of b where nothing listens: b's RST
    comes back through the firewall as +est, so the client is refused at
    once (not left to time out), and the conn, answered only by a RST, is
    gone."""
    net = make_net(HTTP_FLOWS.format(tcp="tcp") + ARP_AB)
    a, b = net.hosts

    proc = curl(a, B4, port=9, timeout=3)
    assert proc.returncode == 7, (proc.returncode, proc.stdout)
    est = "priority=100,ct_state=+est+trk,tcp,in_port=2"
    assert n_packets(net, est) == 1
    assert format_ct(net.dpctl("dump-conntrack"), B4) == []


def test_invalid_tcp_flags_dropped(make_net):
    """conntrack - invalid: crafted TCP segments with flags no stack sends
    (SYN+FIN, and none at all) are +inv, counted invalid, dropped by the
    +inv flow, and make no conn."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,ip,actions=ct(table=1)
        table=1,priority=100,ct_state=+trk+inv,actions=drop
        table=1,priority=50,ct_state=+trk+new,ip,in_port=1,actions=ct(commit),output:2
        table=1,priority=50,ct_state=+trk+est,ip,in_port=2,actions=output:1
        """ + ARP_AB)
    a, b = net.hosts
    mac = b.ok("cat", "/sys/class/net/eth0/address").strip()

    invalid = ct_stats(net)["invalid"]
    a.ok("/usr/bin/python3", "-c", f"""
from scapy.all import Ether, IP, TCP, sendp
for flags in ("SF", ""):
    sendp(Ether(dst={mac!r}) / IP(src={A4!r}, dst={B4!r})
          / TCP(sport=40000, dport=80, flags=flags), iface="eth0",
          verbose=False)
""", timeout=30)
    inv = "priority=100,ct_state=+inv+trk"
    wait_until(lambda: n_packets(net, inv, 1) == 2,
               what="two segments through the +inv flow")
    assert ct_stats(net)["invalid"] == invalid + 2
    assert n_packets(net, "priority=50,ct_state=+new+trk,ip,in_port=1",
                     1) == 0
    assert net.dpctl("dump-conntrack") == ""


@pytest.mark.parametrize("v", [4, 6])
def test_ping_reverse_blocked(make_net, v):
    """conntrack - IPv4 and IPv6 ping: echoes from a are committed and
    their replies come back (one conn, three packets each way, of 84 and
    104 bytes); after a flush, echoes from b get no reply and make no conn.
    IPv6's neighbour discovery passes outside the tracker."""
    icmp, neigh, hosts, a_addr, b_addr, name, types, size = {
        4: ("icmp", ARP_AB, PAIR4, A4, B4, "icmp", (8, 0), 84),
        6: ("icmp6", ND_AB, PAIR, A6, B6, "icmpv6", (128, 129), 104),
    }[v]
    net = make_net(f"""
        priority=1,actions=drop
        priority=100,in_port=1,{icmp},actions=ct(commit),output:2
        priority=100,in_port=2,{icmp},ct_state=-trk,actions=ct(table=0)
        priority=100,in_port=2,{icmp},ct_state=+trk+est,actions=output:1
        """ + neigh, hosts=hosts)
    a, b = net.hosts

    assert ping(a, b_addr)[0] == 3
    wait_ct(net, b_addr, [
        f"{name},orig=(src={a_addr},dst={b_addr},id=<cleared>,"
        f"type={types[0]},code=0,packets=3,bytes={3 * size}),"
        f"reply=(src={b_addr},dst={a_addr},id=<cleared>,type={types[1]},"
        f"code=0,packets=3,bytes={3 * size}),start=<cleared>,"
        "timeout=<cleared>"], args=["-s"])

    net.dpctl("flush-conntrack")
    assert ping(b, a_addr, deadline=1)[0] == 0
    if v == 4:
        assert net.dpctl("dump-conntrack") == ""
    else:
        # (a's own router solicitations and reports may be committed: only
        # conns towards a matter here.)
        assert format_ct(net.dpctl("dump-conntrack"), a_addr) == []


UDP_FLOWS = """
priority=1,actions=drop
priority=100,in_port=1,udp,actions=ct(commit),output:2
priority=100,in_port=2,ct_state=-trk,udp,actions=ct(table=0)
priority=100,in_port=2,ct_state=+trk+est,udp,actions=output:1
priority=100,in_port=2,ct_state=+trk+new,udp,actions=drop
"""
UDP_NEW_FROM_B = "priority=100,ct_state=+new+trk,udp,in_port=2"


def test_jumbo_frames_after_mtu_change(make_net):
    """Raising the MTU of the ports' interfaces (host ends and namespaces)
    to 9000 while ctdpd runs lets 8028-byte unfragmented pings through:
    a system port follows its interface's MTU, as Open vSwitch's do."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,icmp,actions=ct(commit),output:2
        priority=100,in_port=2,icmp,ct_state=-trk,actions=ct(table=0)
        priority=100,in_port=2,icmp,ct_state=+trk+est,actions=output:1
        """ + ARP_AB)
    a, b = net.hosts
    assert ping(a, B4, count=1)[0] == 1
    for host in net.hosts:
        subprocess.run(["ip", "link", "set", host.link, "mtu", "9000"],
                       check=True)
        host.ok("ip", "link", "set", "eth0", "mtu", "9000")

    proc = a.exec("ping", "-q", "-c", "2", "-i", "0.1", "-s", "8000",
                  "-M", "do", "-w", "2", B4, timeout=10)
    assert " 2 received" in proc.stdout, (proc.stdout, proc.stderr)


def test_udp_request_response(make_net):
    """A UDP request from a and b's answer make one conn that has seen its
    reply, one packet of 33 bytes each way; an unsolicited datagram from b
    to another of a's ports is dropped."""
    net = make_net(UDP_FLOWS + ARP_AB)
    a, b = net.hosts
    udp_echo_server(b, B4, 7000)

    proc = udp_request(a, A4, 40000, B4, 7000)
    assert proc.stdout == "5\n", proc.stderr
    wait_ct(net, B4, [
        f"udp,orig=(src={A4},dst={B4},sport=40000,dport=7000,packets=1,"
        f"bytes=33),reply=(src={B4},dst={A4},sport=7000,dport=40000,"
        "packets=1,bytes=33),start=<cleared>,id=<cleared>,"
        "status=SEEN_REPLY|CONFIRMED,timeout=<cleared>"],
        keep=(40000, 7000), args=["-s", "-m"])

    udp_send(b, 7000, A4, 40001)
    wait_until(lambda: n_packets(net, UDP_NEW_FROM_B) == 1,
               what="the unsolicited datagram to be dropped")
    assert format_ct(net.dpctl("dump-conntrack"), A4) == []


def test_udp_one_way_never_established(make_net):
    """A UDP flow that never gets an answer stays +new: every datagram
    goes through the +new flow (none through +est), its conn never shows
    SEEN_REPLY, and it keeps the unreplied timeout (30 s)."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,udp,actions=ct(table=1)
        priority=100,in_port=2,udp,actions=ct(table=1)
        table=1,priority=100,in_port=1,ct_state=+trk+new,udp,actions=ct(commit),output:2
        table=1,priority=100,in_port=1,ct_state=+trk+est,udp,actions=output:2
        table=1,priority=100,in_port=2,ct_state=+trk+est,udp,actions=output:1
        table=1,priority=1,actions=drop
        """ + ARP_AB)
    a, b = net.hosts
    sink = net.tmp / "received"
    udp_sink(b, B4, 7001, sink)

    for i in range(3):
        udp_send(a, 40001, B4, 7001, f"{i}\n")
    wait_until(lambda: sink.exists() and sink.read_text() == "0\n1\n2\n",
               what="three datagrams at b")

    new = "priority=100,ct_state=+new+trk,udp,in_port=1"
    est = "priority=100,ct_state=+est+trk,udp,in_port=1"
    assert (n_packets(net, new, 1), n_packets(net, est, 1)) == (3, 0)
    dump = net.dpctl("dump-conntrack", "-m", "-s")
    assert format_ct(dump, B4, keep=(40001, 7001)) == [
        f"udp,orig=(src={A4},dst={B4},sport=40001,dport=7001,packets=3,"
        f"bytes=90),reply=(src={B4},dst={A4},sport=7001,dport=40001),"
        "start=<cleared>,id=<cleared>,status=CONFIRMED,timeout=<cleared>"]
    assert 28 <= int(re.search(r"timeout=(\d+)", dump)[1]) <= 30


def test_icmp_port_unreachable_related(make_net):
    """conntrack - ICMP related: a UDP datagram to a closed port of b is
    committed with a mark; b's ICMP port unreachable comes back as +rel
    with the conn's mark, and reaches the client as "connection
    refused"."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,udp,actions=ct(commit,exec(set_field:1->ct_mark)),output:2
        priority=100,in_port=2,icmp,ct_state=-trk,actions=ct(table=0)
        priority=100,in_port=2,icmp,ct_state=+trk+rel,ct_mark=1,actions=output:1
        """ + ARP_AB)
    a, b = net.hosts

    proc = a.exec("socat", "-t", "2", "-", f"UDP4:{B4}:10000", input="a\n")
    assert proc.returncode != 0 and "Connection refused" in proc.stderr, \
        proc.stderr
    stats = [l for l in flow_stats(net) if "arp" not in l
             and "priority=1 " not in l]
    assert sorted(stats) == sorted([
        " n_packets=1, n_bytes=44, priority=100,udp,in_port=1 "
        "actions=ct(commit,exec(set_field:0x1->ct_mark)),output:2",
        " n_packets=1, n_bytes=72, priority=100,ct_state=+rel+trk,"
        "ct_mark=0x1,icmp,in_port=2 actions=output:1",
        " n_packets=1, n_bytes=72, priority=100,ct_state=-trk,icmp,"
        "in_port=2 actions=ct(table=0)"])


def test_icmp6_port_unreachable_related(make_net):
    """The same over IPv6: b's ICMPv6 port unreachable about a committed
    UDP datagram comes back as +rel with the conn's mark."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,udp6,actions=ct(commit,exec(set_field:1->ct_mark)),output:2
        priority=100,in_port=2,icmp6,ct_state=-trk,actions=ct(table=0)
        priority=100,in_port=2,icmp6,ct_state=+trk+rel,ct_mark=1,actions=output:1
        """ + ND_AB, hosts=PAIR)
    a, b = net.hosts

    proc = a.exec("socat", "-t", "2", "-", f"UDP6:[{B6}]:10000",
                  input="a\n")
    assert proc.returncode != 0 and "Connection refused" in proc.stderr, \
        proc.stderr
    # b's own ICMPv6 (reports, solicitations) goes through the -trk flow
    # too, to be dropped as +new: its counters are not the test's.
    stats = [l for l in flow_stats(net) if "priority=100," in l
             and "-trk" not in l]
    assert sorted(stats) == sorted([
        " n_packets=1, n_bytes=64, priority=100,udp6,in_port=1 "
        "actions=ct(commit,exec(set_field:0x1->ct_mark)),output:2",
        " n_packets=1, n_bytes=112, priority=100,ct_state=+rel+trk,"
        "ct_mark=0x1,icmp6,in_port=2 actions=output:1"])


def test_icmp_related_to_original_direction(make_net):
    """conntrack - ICMP related to original direction: b asks a over UDP
    and closes its socket; a's late second answer draws an ICMP port
    unreachable from b, which quotes a packet of the reply direction but
    travels in the original one: +rel, through two ct() in a row (zone 0,
    then zone 34673)."""
    net = make_net("""
        priority=100,ip,actions=ct(table=1)
        priority=1,actions=drop
        table=1,ip,actions=ct(zone=34673,table=2)
        table=2,in_port=2,udp,actions=ct(commit,zone=34673),output:1
        table=2,in_port=1,udp,actions=ct(commit,zone=34673),output:2
        table=2,in_port=2,ct_state=+rel,icmp,actions=output:1
        """ + ARP_AB)
    a, b = net.hosts
    udp_echo_server(a, A4, 7000)

    assert udp_request(b, B4, 40000, A4, 7000).stdout == "5\n"
    udp_send(a, 7000, B4, 40000)
    rel = "ct_state=+rel,icmp,in_port=2"
    wait_until(lambda: n_packets(net, rel, 2) == 1,
               what="b's port unreachable to pass as +rel")
    stats = [l for l in flow_stats(net) if "arp" not in l
             and "drop" not in l]
    assert stats == [
        " n_packets=4, n_bytes=210, priority=100,ip actions=ct(table=1)",
        " table=1, n_packets=4, n_bytes=210, ip "
        "actions=ct(table=2,zone=34673)",
        " table=2, n_packets=1, n_bytes=47, udp,in_port=2 "
        "actions=ct(commit,zone=34673),output:1",
        " table=2, n_packets=2, n_bytes=91, udp,in_port=1 "
        "actions=ct(commit,zone=34673),output:2",
        " table=2, n_packets=1, n_bytes=72, ct_state=+rel,icmp,in_port=2 "
        "actions=output:1"]
    assert format_ct(net.dpctl("dump-conntrack"), A4,
                     keep=(40000, 7000)) == [
        f"udp,orig=(src={B4},dst={A4},sport=40000,dport=7000),"
        f"reply=(src={A4},dst={B4},sport=7000,dport=40000),zone=34673"]


def test_zones_isolate_identical_tuples(make_net):
    """Two pairs of namespaces with the same addresses, each pair in its
    own zone: the same tuple makes two conns, one per zone; a "reply" in
    zone 2 is dropped while only zone 1 has the conn it would answer; a
    flush of zone 1 leaves zone 2's conn."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,udp,actions=ct(commit,zone=1),output:2
        priority=100,in_port=2,ct_state=-trk,udp,actions=ct(table=0,zone=1)
        priority=100,in_port=2,ct_state=+trk+est,ct_zone=1,udp,actions=output:1
        priority=100,in_port=3,udp,actions=ct(commit,zone=2),output:4
        priority=100,in_port=4,ct_state=-trk,udp,actions=ct(table=0,zone=2)
        priority=100,in_port=4,ct_state=+trk+est,ct_zone=2,udp,actions=output:3
        priority=90,in_port=4,ct_state=+trk,udp,actions=drop
        """ + ARP_AB + ARP_CD, hosts=PAIR4 * 2)
    a, b, c, d = net.hosts
    udp_echo_server(b, B4, 7000)
    udp_echo_server(d, B4, 7000)

    assert udp_request(a, A4, 40000, B4, 7000).stdout == "5\n"
    udp_send(d, 7000, A4, 40000)
    unsolicited = "priority=90,ct_state=+trk,udp,in_port=4"
    wait_until(lambda: n_packets(net, unsolicited) == 1,
               what="d's unsolicited datagram to be dropped")
    assert udp_request(c, A4, 40000, B4, 7000).stdout == "5\n"

    tuple_ = (f"udp,orig=(src={A4},dst={B4},sport=40000,dport=7000),"
              f"reply=(src={B4},dst={A4},sport=7000,dport=40000)")
    wait_ct(net, B4, [f"{tuple_},zone=1", f"{tuple_},zone=2"],
            keep=(40000, 7000))
    assert n_packets(net, unsolicited) == 1
    net.dpctl("flush-conntrack", "zone=1")
    assert format_ct(net.dpctl("dump-conntrack"), B4, keep=(40000, 7000)) \
        == [f"{tuple_},zone=2"]


def test_zone_from_register(make_net):
    """conntrack - zones from field: ct(zone=NXM_NX_REG0[0..15]) tracks in
    the zone a register holds (0x1001 for a-b, 0x1002 for c-d); b's replies
    match ct_zone=0x1001 and pass, d's are in 0x1002 and are dropped."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,tcp,actions=load:0x1001->NXM_NX_REG0[0..15],ct(commit,zone=NXM_NX_REG0[0..15]),output:2
        priority=100,in_port=2,ct_state=-trk,tcp,actions=load:0x1001->NXM_NX_REG0[0..15],ct(table=0,zone=NXM_NX_REG0[0..15])
        priority=100,in_port=2,ct_state=+trk,ct_zone=0x1001,tcp,actions=output:1
        priority=100,in_port=3,tcp,actions=load:0x1002->NXM_NX_REG0[0..15],ct(commit,zone=NXM_NX_REG0[0..15]),output:4
        priority=100,in_port=4,ct_state=-trk,tcp,actions=load:0x1002->NXM_NX_REG0[0..15],ct(table=0,zone=NXM_NX_REG0[0..15])
        priority=100,in_port=4,ct_state=+trk,ct_zone=0x1001,tcp,actions=output:3
        """ + ARP_AB + ARP_CD,
        hosts=[(A4, None), (B4, None), (C4, None), (D4, None)])
    a, b, c, d = net.hosts
    http_server(b, B4)
    http_server(d, D4)

    assert curl(a, B4).stdout == "200"
    wait_ct(net, B4, [
        f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=8080),"
        f"reply=(src={B4},dst={A4},sport=8080,dport=<cleared>),"
        "zone=4097,protoinfo=(state=TIME_WAIT)"], keep=(HTTP_PORT,))

    assert curl(c, D4, timeout=1).returncode == 28
    wait_ct(net, D4, [
        f"tcp,orig=(src={C4},dst={D4},sport=<cleared>,dport=8080),"
        f"reply=(src={D4},dst={C4},sport=8080,dport=<cleared>),"
        "zone=4098,protoinfo=(state=SYN_RECV)"], keep=(HTTP_PORT,))


def test_ct_mark_and_label(make_net):
    """conntrack - ct_mark / ct_label: a commit sets the conn's mark and
    label; b's replies pass only if both match what was set (port 8080's
    conns) and are dropped otherwise (port 8081's, mark 2 and label 2)."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,tcp,tp_dst=8080,actions=ct(commit,exec(set_field:1->ct_mark,set_field:0x0a000d000005000001->ct_label)),output:2
        priority=100,in_port=1,tcp,tp_dst=8081,actions=ct(commit,exec(set_field:2->ct_mark,set_field:0x2->ct_label)),output:2
        priority=100,in_port=2,ct_state=-trk,tcp,actions=ct(table=0)
        priority=100,in_port=2,ct_state=+trk,ct_mark=1,ct_label=0x0a000d000005000001,tcp,actions=output:1
        """ + ARP_AB)
    a, b = net.hosts
    http_server(b, B4, 8080)
    http_server(b, B4, 8081)

    assert curl(a, B4, 8080).stdout == "200"
    assert curl(a, B4, 8081, timeout=1).returncode == 28
    wait_ct(net, B4, [
        f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=8080),"
        f"reply=(src={B4},dst={A4},sport=8080,dport=<cleared>),mark=1,"
        "labels=0xa000d000005000001,protoinfo=(state=TIME_WAIT)",
        f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=8081),"
        f"reply=(src={B4},dst={A4},sport=8081,dport=<cleared>),mark=2,"
        "labels=0x2,protoinfo=(state=SYN_RECV)"], keep=(8080, 8081))


def test_force_commit(make_net):
    """conntrack - force commit: a packet that meets a conn in its reply
    direction, committed with force, ends that conn and starts one in its
    own direction; the next packet from a flips it back."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,udp,actions=ct(force,commit),output:2
        priority=100,in_port=2,ct_state=-trk,udp,actions=ct(table=0)
        priority=100,in_port=2,ct_state=+trk+est,udp,actions=ct(force,commit,table=1)
        table=1,in_port=2,ct_state=+trk,udp,actions=output:1
        priority=90,in_port=2,ct_state=+trk,udp,actions=drop
        """ + ARP_AB)
    a, b = net.hosts
    from_a = (f"udp,orig=(src={A4},dst={B4},sport=1,dport=2),"
              f"reply=(src={B4},dst={A4},sport=2,dport=1)")
    from_b = (f"udp,orig=(src={B4},dst={A4},sport=2,dport=1),"
              f"reply=(src={A4},dst={B4},sport=1,dport=2)")

    def conns():
        return sorted(l for l in net.dpctl("dump-conntrack").splitlines()
                      if "sport=1," in l or "sport=2," in l)

    # An unsolicited reply from b: +new, not +est, so dropped.
    udp_send(b, 2, A4, 1)
    wait_until(lambda: n_packets(net, "priority=90,ct_state=+trk,udp,"
                                 "in_port=2") == 1,
               what="b's datagram to be dropped")
    assert conns() == []

    udp_send(a, 1, B4, 2)
    wait_until(lambda: conns() == [from_a], what=f"{from_a}")
    udp_send(b, 2, A4, 1)
    wait_until(lambda: conns() == [from_b], what=f"{from_b}")
    assert n_packets(net, "ct_state=+trk,udp,in_port=2", table=1) == 1
    udp_send(a, 1, B4, 2)
    wait_until(lambda: conns() == [from_a], what=f"{from_a} again")


def test_flush_while_traffic_continues(make_net):
    """conntrack - ct flush, with traffic: flushing by zone, by zone and
    a partial original tuple, then by a partial reply tuple, while pings
    (zone 1) and UDP requests (zone 2) keep flowing: only the matching conn
    is removed (the other keeps its id), the traffic re-creates it, and
    both keep getting answers."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,icmp,actions=ct(commit,zone=1),output:2
        priority=100,in_port=2,icmp,ct_state=-trk,actions=ct(table=0,zone=1)
        priority=100,in_port=2,icmp,ct_state=+trk+est,actions=output:1
        priority=100,in_port=1,udp,actions=ct(commit,zone=2),output:2
        priority=100,in_port=2,udp,ct_state=-trk,actions=ct(table=0,zone=2)
        priority=100,in_port=2,udp,ct_state=+trk+est,actions=output:1
        """ + ARP_AB)
    a, b = net.hosts
    udp_echo_server(b, B4, 7000)
    log = net.tmp / "replies"
    a.python(f"""
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(({A4!r}, 40000))
s.settimeout(0.05)
with open({str(log)!r}, "a", buffering=1) as log:
    while True:
        s.sendto(b"x", ({B4!r}, 7000))
        try:
            s.recv(10)
            log.write("udp\\n")
        except socket.timeout:
            pass
        time.sleep(0.02)
""")
    a.popen("ping", "-q", "-i", "0.02", B4)
    echo_rpl = "priority=100,ct_state=+est+trk,icmp,in_port=2"

    def udp_replies():
        return log.read_text().count("udp\n") if log.exists() else 0

    def both_flowing():
        # Answers to both kinds after this call: +est ICMP counted, UDP
        # replies logged.
        pings, udps = n_packets(net, echo_rpl), udp_replies()
        wait_until(lambda: n_packets(net, echo_rpl) > pings + 2
                   and udp_replies() > udps + 2, what="pings and UDP answers")

    def ids():
        # ICMP's conn id, UDP's conn id (None while there is none).
        conns = conn_ids(net)
        by_zone = {("zone=1" in k): v for k, v in conns.items()}
        assert len(by_zone) == len(conns), conns
        return by_zone.get(True), by_zone.get(False)

    def flush_replaces(which, *args):
        # Flushes; waits until the traffic has made conn 'which' (0: ICMP,
        # 1: UDP) again, with a new id; the other conn must be untouched.
        before = ids()
        net.dpctl("flush-conntrack", *args)
        wait_until(lambda: ids()[which] not in (None, before[which]),
                   what=f"flush-conntrack {' '.join(args)} to replace a conn")
        assert ids()[1 - which] == before[1 - which]
        both_flowing()

    both_flowing()
    assert None not in ids(), net.dpctl("dump-conntrack")
    flush_replaces(0, "zone=1")
    flush_replaces(1, "zone=2",
                   f"ct_nw_src={A4},ct_nw_proto=17,ct_tp_dst=7000")
    # An empty original tuple, then a reply tuple: b's answers to pings.
    flush_replaces(0, "", f"ct_nw_src={B4},ct_nw_proto=1,icmp_type=0")


def test_maxconns_full_table(make_net):
    """conntrack - get_nconns and get/set_maxconns: with the table full
    (maxconns = its one established, assured TCP conn), new connections
    are dropped at commit (counted 'drop') while the established one keeps
    working; raising the limit lets new connections through again."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,tcp,actions=ct(commit),output:2
        priority=100,in_port=2,ct_state=-trk,tcp,actions=ct(table=0)
        priority=100,in_port=2,ct_state=+trk+est,tcp,actions=output:1
        """ + ARP_AB)
    a, b = net.hosts
    tcp_echo_server(b, B4)
    http_server(b, B4)

    session = TcpSession(a, B4)
    assert session.ask("one") == "one"
    assert session.ask("two") == "two"
    wait_ct(net, B4, [
        f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=7000),"
        f"reply=(src={B4},dst={A4},sport=7000,dport=<cleared>),"
        "protoinfo=(state=ESTABLISHED)"], keep=(7000,))
    assert "status=SEEN_REPLY|ASSURED|CONFIRMED," in \
        net.dpctl("dump-conntrack", "-m")
    assert net.dpctl("ct-get-nconns") == "1\n"
    assert net.dpctl("ct-set-maxconns", "1") == \
        "setting maxconns successful\n"
    assert net.dpctl("ct-get-maxconns") == "1\n"

    drops = ct_stats(net)["drop"]
    assert curl(a, B4, timeout=1).returncode == 28
    assert ct_stats(net)["drop"] > drops
    assert net.dpctl("ct-get-nconns") == "1\n"
    assert session.ask("three") == "three"

    net.dpctl("ct-set-maxconns", "10")
    assert curl(a, B4).stdout == "200"
    assert net.dpctl("ct-get-nconns") == "2\n"


def test_zone_limits(make_net):
    """conntrack - limit by zone: zone 3 limited to 2 conns commits the
    first two UDP flows and drops the third's packets (zone_limit_drop),
    while zone 0, without a limit, takes all three; once one of zone 3's
    conns is flushed, the third flow gets through."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,udp,tp_dst=7000,actions=ct(commit,zone=3),output:2
        priority=100,in_port=1,udp,tp_dst=7001,actions=ct(commit),output:2
        """ + ARP_AB)
    a, b = net.hosts
    net.dpctl("ct-set-limits", "default=0", "zone=3,limit=2")
    assert net.dpctl("ct-get-limits", "zone=0,zone=3") == \
        "default limit=0\nzone=0,limit=0,count=0\nzone=3,limit=2,count=0\n"
    got3, got0 = net.tmp / "zone3", net.tmp / "zone0"
    udp_sink(b, B4, 7000, got3)
    udp_sink(b, B4, 7001, got0)

    for sport in (40001, 40002, 40003):
        udp_send(a, sport, B4, 7000, f"{sport}\n")
        udp_send(a, sport, B4, 7001, f"{sport}\n")
    wait_until(lambda: got0.exists()
               and got0.read_text() == "40001\n40002\n40003\n",
               what="three datagrams in zone 0")
    wait_until(lambda: ct_stats(net)["zone_limit_drop"] == 1,
               what="one zone_limit_drop")
    assert got3.read_text() == "40001\n40002\n"
    assert net.dpctl("ct-get-limits", "zone=0,zone=3") == \
        "default limit=0\nzone=0,limit=0,count=3\nzone=3,limit=2,count=2\n"
    assert format_ct(net.dpctl("dump-conntrack", "zone=3"), B4,
                     keep=(40001, 40002, 7000)) == [
        f"udp,orig=(src={A4},dst={B4},sport={p},dport=7000),"
        f"reply=(src={B4},dst={A4},sport=7000,dport={p}),zone=3"
        for p in (40001, 40002)]

    # Room again in zone 3: the third flow is committed now.
    net.dpctl("flush-conntrack", "zone=3", "ct_nw_proto=17,ct_tp_src=40001")
    udp_send(a, 40003, B4, 7000, "40003\n")
    wait_until(lambda: got3.read_text() == "40001\n40002\n40003\n",
               what="the third datagram in zone 3")
    assert net.dpctl("ct-get-limits", "zone=3") == \
        "default limit=0\nzone=3,limit=2,count=2\n"


def test_timeout_policy_expiry(make_net):
    """conntrack - zone-based timeout policy: with 4 s UDP and ICMP
    timeouts in zone 5, the conns of a ping and a UDP exchange vanish
    within seconds (the defaults are 30 s), and b's late answer on the UDP
    tuple is dropped; zone 0's conn, under the defaults, stays."""
    net = make_net("""
        priority=1,actions=drop
        priority=100,in_port=1,ip,actions=ct(zone=5,table=1)
        priority=100,in_port=2,ip,actions=ct(zone=5,table=1)
        table=1,in_port=2,ip,ct_state=+trk+est,actions=output:1
        table=1,in_port=1,ip,ct_state=+trk+new,udp,tp_dst=7001,actions=ct(commit),output:2
        table=1,in_port=1,ip,ct_state=+trk+new,actions=ct(commit,zone=5),output:2
        table=1,in_port=1,ip,ct_state=+trk+est,actions=output:2
        """ + ARP_AB)
    a, b = net.hosts
    # 4 s: long enough for the first check to see all three conns on a
    # slow (sanitizer) build, short enough to wait out.
    net.dpctl("ct-set-timeout-policy", "zone=5", "udp_first=4",
              "udp_single=4", "udp_multiple=4", "icmp_first=4",
              "icmp_reply=4")
    udp_echo_server(b, B4, 7000)

    assert udp_request(a, A4, 40000, B4, 7000).stdout == "5\n"
    assert ping(a, B4, count=1)[0] == 1
    udp_send(a, 40001, B4, 7001)
    wait_ct(net, B4, [
        f"icmp,orig=(src={A4},dst={B4},id=<cleared>,type=8,code=0),"
        f"reply=(src={B4},dst={A4},id=<cleared>,type=0,code=0),zone=5",
        f"udp,orig=(src={A4},dst={B4},sport=40000,dport=7000),"
        f"reply=(src={B4},dst={A4},sport=7000,dport=40000),zone=5",
        f"udp,orig=(src={A4},dst={B4},sport=40001,dport=7001),"
        f"reply=(src={B4},dst={A4},sport=7001,dport=40001)"],
        keep=(40000, 40001, 7000, 7001), timeout=2)

    wait_ct(net, B4, [
        f"udp,orig=(src={A4},dst={B4},sport=40001,dport=7001),"
        f"reply=(src={B4},dst={A4},sport=7001,dport=40001)"],
        keep=(40001, 7001), timeout=8)

    est = "ct_state=+est+trk,ip,in_port=2"
    answered, missed = n_packets(net, est, 1), table_misses(net)
    udp_send(b, 7000, A4, 40000)
    wait_until(lambda: table_misses(net) > missed,
               what="b's late answer to miss every flow")
    assert n_packets(net, est, 1) == answered


def test_time_warp_expiry(make_net):
    """Default timeouts, driven by OVS's time/warp rather than waiting:
    the conn of a UDP exchange is there 29 s later and gone 31 s later;
    then b's answer on its tuple is dropped as +new."""
    net = make_net(UDP_FLOWS + ARP_AB)
    a, b = net.hosts
    udp_echo_server(b, B4, 7000)
    assert udp_request(a, A4, 40000, B4, 7000).stdout == "5\n"
    line = (f"udp,orig=(src={A4},dst={B4},sport=40000,dport=7000),"
            f"reply=(src={B4},dst={A4},sport=7000,dport=40000)")
    wait_ct(net, B4, [line], keep=(40000, 7000))

    net.appctl("time/stop")
    net.appctl("time/warp", "29000")
    assert format_ct(net.dpctl("dump-conntrack"), B4,
                     keep=(40000, 7000)) == [line]
    net.appctl("time/warp", "2000")
    assert net.dpctl("dump-conntrack") == ""

    udp_send(b, 7000, A4, 40000)
    wait_until(lambda: n_packets(net, UDP_NEW_FROM_B) == 1,
               what="b's answer to be dropped")
    assert n_packets(net, "priority=100,ct_state=+est+trk,udp,in_port=2") \
        == 1


def test_udp_stream_assured(make_net):
    """A UDP flow that has seen its reply and is still active more than
    2 s after it began (time/warp) becomes ASSURED with the replied
    timeout (120 s); before that its timeout stays 30 s."""
    net = make_net(UDP_FLOWS + ARP_AB)
    a, b = net.hosts
    udp_echo_server(b, B4, 7000)

    def conn():
        line = net.dpctl("dump-conntrack", "-m", "-s")
        status = re.search(r"status=([A-Z_|]+)", line)[1]
        return status, int(re.search(r"timeout=(\d+)", line)[1])

    net.appctl("time/stop")
    assert udp_request(a, A4, 40000, B4, 7000).stdout == "5\n"
    net.appctl("time/warp", "1000")
    assert udp_request(a, A4, 40000, B4, 7000).stdout == "5\n"
    assert conn() == ("SEEN_REPLY|CONFIRMED", 30)
    net.appctl("time/warp", "1500")
    assert udp_request(a, A4, 40000, B4, 7000).stdout == "5\n"
    assert conn() == ("SEEN_REPLY|ASSURED|CONFIRMED", 120)


def test_tcp_expired_then_picked_up(make_net):
    """An idle TCP connection whose conn expired (zone 0's tcp_established
    cut to 1 s) is picked up again from a's next segment, as a loose
    kernel does, and carries on."""
    net = make_net(HTTP_FLOWS.format(tcp="tcp") + ARP_AB)
    a, b = net.hosts
    tcp_echo_server(b, B4)
    session = TcpSession(a, B4, timeout=5)
    assert session.ask("before") == "before"
    line = (f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=7000),"
            f"reply=(src={B4},dst={A4},sport=7000,dport=<cleared>),"
            "protoinfo=(state=ESTABLISHED)")
    wait_ct(net, B4, [line], keep=(7000,))

    net.dpctl("ct-set-timeout-policy", "zone=0", "tcp_established=1")
    assert session.ask("refresh") == "refresh"
    wait_until(lambda: net.dpctl("dump-conntrack") == "", timeout=4,
               what="the idle conn to expire")
    inserts = ct_stats(net)["insert"]
    assert session.ask("after") == "after"
    wait_ct(net, B4, [line], keep=(7000,))
    assert ct_stats(net)["insert"] == inserts + 1


# OVS's flows for its fragmentation tests.  IPv6 matches "ipv6", not
# "icmp6": a later IPv6 fragment's nw_proto is the fragment header's (44),
# as in Open vSwitch's flow extraction.
FRAG_FLOWS = """
priority=1,actions=drop
priority=100,in_port=1,{proto},actions=ct(commit,zone=9),output:2
priority=100,in_port=2,ct_state=-trk,{proto},actions=ct(table=0,zone=9)
priority=100,in_port=2,ct_state=+trk+est-new,{proto},actions=output:1
"""


def ipf_counters(net, version):
    """The fragments 'version' (v4 or v6) accepted and completed, and the
    fragments held, from ipf-get-status."""
    out = net.dpctl("ipf-get-status")

    def count(name):
        return int(re.search(rf"^\s*{name}: (\d+)$", out, re.M)[1])

    return (count(f"{version} frags accepted"),
            count(f"{version} frags completed"), count("num frag"))


def test_ipv4_fragmented_ping(make_net):
    """conntrack - IPv4 fragmentation: 3200-byte pings, three fragments
    each way, are reassembled before tracking (18 fragments accepted and
    completed, none left), cross the firewall, and make one ICMP conn."""
    net = make_net(FRAG_FLOWS.format(proto="icmp") + ARP_AB)
    a, b = net.hosts
    proc = a.exec("ping", "-q", "-c", "3", "-i", "0.1", "-s", "3200", "-w",
                  "2", B4, timeout=10)
    assert " 3 received" in proc.stdout, proc.stdout
    wait_ct(net, B4, [
        f"icmp,orig=(src={A4},dst={B4},id=<cleared>,type=8,code=0),"
        f"reply=(src={B4},dst={A4},id=<cleared>,type=0,code=0),zone=9"])
    assert ipf_counters(net, "v4") == (18, 18, 0)


def test_ipv6_fragmented_ping(make_net):
    """conntrack - IPv6 fragmentation: the same with 3200-byte ICMPv6
    echoes, neighbour discovery passing outside the tracker."""
    net = make_net(FRAG_FLOWS.format(proto="ipv6") + ND_AB, hosts=PAIR)
    a, b = net.hosts
    proc = a.exec("ping", "-6", "-q", "-c", "3", "-i", "0.1", "-s", "3200",
                  "-w", "2", B6, timeout=10)
    assert " 3 received" in proc.stdout, proc.stdout
    wait_ct(net, B6, [
        f"icmpv6,orig=(src={A6},dst={B6},id=<cleared>,type=128,code=0),"
        f"reply=(src={B6},dst={A6},id=<cleared>,type=129,code=0),zone=9"])
    assert ipf_counters(net, "v6") == (18, 18, 0)


def test_fragmented_udp(make_net):
    """A 4000-byte UDP datagram and its echo, three fragments each, cross
    the firewall; the conn counts one (reassembled) packet each way, as
    the kernel does."""
    net = make_net(FRAG_FLOWS.format(proto="udp") + ARP_AB)
    a, b = net.hosts
    udp_echo_server(b, B4, 7000)
    assert udp_request(a, A4, 40000, B4, 7000, size=4000).stdout == "4000\n"
    wait_ct(net, B4, [
        f"udp,orig=(src={A4},dst={B4},sport=40000,dport=7000,packets=1,"
        f"bytes=4028),reply=(src={B4},dst={A4},sport=7000,dport=40000,"
        "packets=1,bytes=4028),start=<cleared>,zone=9,timeout=<cleared>"],
        keep=(40000, 7000), args=["-s"])
    assert ipf_counters(net, "v4") == (6, 6, 0)


def test_ipv6_fragmented_udp(make_net):
    """The same over IPv6: the conn counts one reassembled packet each way,
    its length without the fragment header (40 + 8 + 4000 bytes)."""
    net = make_net(FRAG_FLOWS.format(proto="ipv6") + ND_AB, hosts=PAIR)
    a, b = net.hosts
    udp_echo_server(b, B6, 7000)
    assert udp_request(a, A6, 40000, B6, 7000, size=4000).stdout == "4000\n"
    wait_ct(net, B6, [
        f"udp,orig=(src={A6},dst={B6},sport=40000,dport=7000,packets=1,"
        f"bytes=4048),reply=(src={B6},dst={A6},sport=7000,dport=40000,"
        "packets=1,bytes=4048),start=<cleared>,zone=9,timeout=<cleared>"],
        keep=(40000, 7000), args=["-s"])
    assert ipf_counters(net, "v6") == (6, 6, 0)


def test_port_readded_keeps_conns(make_net):
    """Deleting b's port (del-port) and adding it back (add-port) while a
    TCP connection is open: a's segment to the missing port counts as
    no_port, the conn stays in the table, and a's retransmission and the
    rest of the connection go through once the port is back."""
    net = make_net(HTTP_FLOWS.format(tcp="tcp") + ARP_AB)
    a, b = net.hosts
    tcp_echo_server(b, B4)
    session = TcpSession(a, B4, timeout=5)
    assert session.ask("before") == "before"

    net.dpctl("del-port", b.link)
    session.send("during")
    wait_until(lambda: re.search(r"no_port=[1-9]", net.dpctl("show")),
               what="a's segment to meet the missing port")
    net.dpctl("add-port", f"{b.link}=system:ofport=2")
    assert session.receive() == "during"     # a's retransmission
    assert session.ask("after") == "after"
    wait_ct(net, B4, [
        f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=7000),"
        f"reply=(src={B4},dst={A4},sport=7000,dport=<cleared>),"
        "protoinfo=(state=ESTABLISHED)"], keep=(7000,))


def test_tcp_pickup_after_restart(make_net):
    """A TCP connection open across a daemon restart: the new ctdpd has an
    empty table, picks the connection up from a's next segment (loose
    pick-up, the default) under the default firewall, commits it, and the
    echo comes back; the conn is ESTABLISHED."""
    net = make_net("""
        table=0,priority=100,arp,in_port=1,actions=output:2
        table=0,priority=100,arp,in_port=2,actions=output:1
        table=0,priority=10,ip,actions=ct(table=1)
        table=0,priority=0,actions=drop
        table=1,priority=100,ct_state=+trk+inv,actions=drop
        table=1,priority=50,ct_state=+trk+new,ip,in_port=1,actions=ct(commit),output:2
        table=1,priority=50,ct_state=+trk+est,in_port=1,actions=output:2
        table=1,priority=50,ct_state=+trk+est,in_port=2,actions=output:1
        table=1,priority=0,actions=drop
        """)
    a, b = net.hosts
    tcp_echo_server(b, B4)
    session = TcpSession(a, B4, timeout=5)
    assert session.ask("before") == "before"

    net.restart_daemon()
    assert net.dpctl("dump-conntrack") == ""
    assert session.ask("after") == "after"
    wait_ct(net, B4, [
        f"tcp,orig=(src={A4},dst={B4},sport=<cleared>,dport=7000),"
        f"reply=(src={B4},dst={A4},sport=7000,dport=<cleared>),"
        "protoinfo=(state=ESTABLISHED)"], keep=(7000,))
