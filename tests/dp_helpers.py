"""Helpers for the datapath tests: a ctdpd with dummy ports, frames built
with scapy, captures read back from the ports' pcap files, and flow counters
read from dump-flows.

Every port is a netdev-dummy port whose tx_pcap option records each packet
the port sends.  'inject' runs a frame through the pipeline synchronously, so
when it returns every output is in the captures; the tests still poll for
the frames they expect (wait_sent), and prove that a packet was dropped by
sending a "barrier" frame after it on the same path and checking that the
barrier arrives alone.
"""
import pathlib
import re
import struct

import pytest
from scapy.all import ARP, IP, UDP, Ether

from conftest import Daemon, program, run, wait_until

# Two hosts on either side of the default firewall: port 1 is inside.
MAC_IN, MAC_OUT = "02:00:00:00:00:01", "02:00:00:00:00:02"
IP_IN, IP_OUT = "10.0.0.1", "192.0.2.2"
ROUTER = "192.0.2.254"          # Sends ICMP errors about the outside host.


def eth(src_mac=MAC_IN, dst_mac=MAC_OUT):
    return Ether(src=src_mac, dst=dst_mac)


def udp_out(sport=40000, dport=7000, payload=b"ctdp"):
    """A UDP datagram from the inside host to the outside one."""
    return (eth() / IP(src=IP_IN, dst=IP_OUT)
            / UDP(sport=sport, dport=dport) / payload)


def udp_in(sport=7000, dport=40000, payload=b"ctdp"):
    """A UDP datagram from the outside host to the inside one."""
    return (eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=IP_IN)
            / UDP(sport=sport, dport=dport) / payload)


def arp_from(port):
    """An ARP request: the default firewall floods it to the other port,
    which makes it a barrier for that port's capture."""
    src_mac, src_ip, dst_ip = ((MAC_IN, IP_IN, IP_OUT) if port == 1
                               else (MAC_OUT, IP_OUT, IP_IN))
    return (Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff")
            / ARP(op=1, hwsrc=src_mac, psrc=src_ip, pdst=dst_ip))


def read_pcap(path):
    """The frames in the pcap file at 'path', as bytes, ignoring a record
    that is still being written."""
    try:
        data = pathlib.Path(path).read_bytes()
    except FileNotFoundError:
        return []
    if len(data) < 24:
        return []
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    frames, offset = [], 24
    while offset + 16 <= len(data):
        caplen = struct.unpack_from(endian + "IIII", data, offset)[2]
        if offset + 16 + caplen > len(data):
            break
        frames.append(data[offset + 16:offset + 16 + caplen])
        offset += 16 + caplen
    return frames


# One flow in dump-flows: "cookie=0x0, duration=1.2s, table=1,
# n_packets=3, n_bytes=180, priority=50,ct_state=+new+trk,ip actions=...";
# a flow with the default priority and no match has no match part.
FLOW_RE = re.compile(r"cookie=\S+, duration=\S+, table=(\d+), "
                     r"n_packets=(\d+), n_bytes=(\d+), "
                     r"(?:(\S+) )?actions=(.*)$")


def parse_flow(line):
    m = FLOW_RE.match(line)
    assert m, f"unexpected dump-flows line: {line!r}"
    table, n_packets, n_bytes, match, actions = m.groups()
    return {"table": int(table), "match": match or "", "actions": actions,
            "n_packets": int(n_packets), "n_bytes": int(n_bytes)}


def dpctl_commands():
    """(name, usage) of every command `ctdp-dpctl --help` lists."""
    proc = run([program("ctdp-dpctl"), "--help"])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    block = out.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    commands = []
    for line in block.splitlines():
        words = line.split()
        # Usage words come before the help text, which starts with a
        # lower-case word that is not an argument.
        usage = [w for w in words[1:] if re.match(r"^[\[\-A-Z]", w)
                 or "=" in w]
        commands.append((words[0], usage))
    assert len(commands) >= 20, block
    return commands


def ok(proc):
    """'proc' succeeded; returns its stdout."""
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def refused(proc, message):
    """One line on stderr with OVS's wording, exit 2, nothing on stdout."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout)
    assert proc.stderr == f"ctdp-dpctl: {message} (Invalid argument)\n"
    assert proc.stdout == ""


def one_error_line(proc, text, status=2):
    """'proc' failed with 'status' and printed one line naming 'text'."""
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ctdp-dpctl: ") and text in lines[0], lines[0]
    assert proc.stdout == ""


class Datapath(Daemon):
    """A ctdpd with dummy ports p1, p2, ... (ofports 1, 2, ...) whose
    transmitted packets land in DIR/pN.pcap."""

    def __init__(self, workdir, n_ports=2):
        super().__init__(workdir)
        self.ports = [f"p{i}" for i in range(1, n_ports + 1)]

    def pcap(self, name):
        return self.dir / f"{name}.pcap"

    def port_spec(self, name):
        return f"{name}=dummy:tx_pcap={self.pcap(name)}"

    def start(self, *extra, flows=None):
        """Starts ctdpd with the default firewall, then replaces its flows
        with 'flows' (a list of flow strings) unless that is None.  Flows
        go in one add-flow at a time, so that the tests of the tracker do
        not depend on --flows (which has its own tests)."""
        super().start(*[f"--port={self.port_spec(p)}" for p in self.ports],
                      *extra)
        if flows is not None:
            self.ok("del-flows")
            for flow in flows:
                self.ok("add-flow", flow)
        return self

    def ok(self, *args):
        """Runs a ctdp-dpctl command that must succeed; returns stdout."""
        proc = self.dpctl(*args)
        assert proc.returncode == 0, (args, proc.stderr)
        return proc.stdout

    def inject(self, port, *frames):
        for frame in frames:
            self.ok("inject", str(port), bytes(frame).hex())

    def sent(self, name):
        return read_pcap(self.pcap(name))

    def wait_sent(self, name, expected):
        """Waits until port 'name' has sent as many frames as 'expected'
        (scapy packets or bytes), then checks that they are exactly those,
        in order."""
        want = [bytes(f) for f in expected]
        wait_until(lambda: len(self.sent(name)) >= len(want),
                   what=f"{len(want)} frames out of {name}")
        assert self.sent(name) == want

    def flows(self, table=None):
        args = ["dump-flows"] + ([f"table={table}"] if table is not None
                                 else [])
        return [parse_flow(line) for line in self.ok(*args).splitlines()]

    def flow(self, table, match):
        """The one flow in 'table' whose match is 'match', as dump-flows
        prints it (priority first)."""
        found = [f for f in self.flows(table) if f["match"] == match]
        assert len(found) == 1, (match, self.flows(table))
        return found[0]

    def n_packets(self, table, match):
        return self.flow(table, match)["n_packets"]

    def flow_lines(self):
        """dump-flows without the durations, which change as time passes."""
        return re.sub(r"duration=[^,]*, ", "", self.ok("dump-flows"))

    def show(self):
        return self.ok("show")

    def n_conns(self):
        return int(re.search(r"^  conns: (\d+)$", self.show(), re.M)[1])


@pytest.fixture
def make_dp(tmp_path):
    """Starts datapaths on demand: make_dp(flows=[...], n_ports=2,
    extra=[ctdpd options]); every one is stopped (killed if need be) when
    the test ends, whether it passed or not."""
    started = []

    def make(flows=None, n_ports=2, extra=()):
        d = Datapath(tmp_path / f"dp{len(started)}", n_ports)
        d.dir.mkdir()
        started.append(d)
        return d.start(*extra, flows=flows)

    yield make
    for d in started:
        d.stop()


@pytest.fixture
def firewall(make_dp):
    """A ctdpd with the default two-port firewall."""
    return make_dp()


def ctdpd_detached(workdir, *args):
    """Runs 'ctdpd --detach' in 'workdir' (socket s.ctl, pidfile pid) with
    'args', for a test that expects it to refuse to start.  Returns the
    CompletedProcess; a daemon that started after all is stopped."""
    d = Datapath(workdir, n_ports=0)
    d.socket, d.pidfile = workdir / "s.ctl", workdir / "pid"
    proc = run([program("ctdpd"), "--detach", "--no-chdir",
                f"--pidfile={d.pidfile}", f"--unixctl={d.socket}",
                f"--log-file={workdir}/log", *args], timeout=10)
    if proc.returncode == 0:
        d.stop()
    return proc
