"""Streams: ct-events (conntrack -E) and dump-conntrack in chunks.

ctdp-dpctl reads both a chunk at a time over unixctl (lib/ctdp-stream.h);
ovs-appctl reaches the same streams with --stream and dpctl/stream-read.
"""
import os
import re
import signal
import struct
import subprocess
import time

import pytest
from scapy.all import IP, TCP, UDP

from conftest import program, wait_until
from dp_helpers import eth, firewall, make_dp, one_error_line  # noqa: F401

A, B = "198.18.0.1", "198.18.0.2"
TUPLE = (f"src={A} dst={B} sport=40000 dport=80 "
         f"src={B} dst={A} sport=80 dport=40000")


def out(flags, seq, ack):
    return eth() / IP(src=A, dst=B) / TCP(sport=40000, dport=80,
                                           flags=flags, seq=seq, ack=ack)


def back(flags, seq, ack):
    return (eth("02:00:00:00:00:02", "02:00:00:00:00:01") / IP(src=B, dst=A)
            / TCP(sport=80, dport=40000, flags=flags, seq=seq, ack=ack))


# Events of the sentinel conns with which a Monitor makes sure its stream
# is open: their source ports are 60000 and up.
SENTINEL = re.compile(r" sport=6\d{4} dport=")


class Monitor:
    """ctdp-dpctl ct-events ARGS running in the background, on datapath
    'dp'.  It is ready once it has shown the NEW event of a sentinel UDP
    conn (A -> B, to 'dport', which must make the flows commit it in a
    zone the monitor sees); lines() leaves the sentinels' events out."""

    def __init__(self, dp, *args, dport=9):
        self.path = dp.dir / f"events{len(args)}.txt"
        self.file = open(self.path, "w")
        self.proc = subprocess.Popen(
            [program("ctdp-dpctl"), f"--unixctl={dp.socket}", "ct-events",
             *args], stdout=self.file, stderr=subprocess.PIPE, text=True)
        for k in range(100):
            dp.inject(1, eth() / IP(src=A, dst=B) / UDP(sport=60000 + k,
                                                        dport=dport))
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                if SENTINEL.search(self.path.read_text()):
                    return
                time.sleep(0.02)
        raise AssertionError("ct-events never showed its sentinel conn")

    def lines(self):
        return [line for line in self.path.read_text().splitlines()
                if not SENTINEL.search(line)]

    def wait_lines(self, n):
        wait_until(lambda: len(self.lines()) >= n, what=f"{n} event lines")
        return self.lines()

    def stop(self):
        """SIGINT, as a user's ^C: the client closes its stream and exits
        0 within the daemon's poll interval."""
        self.proc.send_signal(signal.SIGINT)
        status = self.proc.wait(timeout=5)
        self.file.close()
        return status


@pytest.fixture
def monitor():
    """Starts Monitors: monitor(dp, *args, dport=9); every one is killed
    when the test ends, whether it passed or not."""
    started = []

    def start(dp, *args, **kw):
        started.append(None)            # Killed even if __init__ fails.
        m = started[-1] = Monitor(dp, *args, **kw)
        return m

    yield start
    for m in filter(None, started):
        if m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait()
        m.file.close()


def test_events_follow_a_tcp_connection_life(firewall, monitor):
    """NEW, an UPDATE per state, then DESTROY with the counters, as
    conntrack -E prints them, for a handshake and a FIN close.  (The
    kernel printed exactly these lines for such a connection, but for a
    "[USERSPACE] portid=N" after the flush's DESTROY.)  The tracker's clock
    is stopped, so the seconds left are exact."""
    assert firewall.appctl("time/stop").returncode == 0
    m = monitor(firewall)
    firewall.inject(1, out("S", 1000, 0))
    firewall.inject(2, back("SA", 5000, 1001))
    firewall.inject(1, out("A", 1001, 5001), out("FA", 1001, 5001))
    firewall.inject(2, back("FA", 5001, 1002))
    firewall.inject(1, out("A", 1002, 5002))
    firewall.ok("flush-conntrack")
    unreplied = TUPLE.replace(" src=" + B, " [UNREPLIED] src=" + B)
    assert m.wait_lines(7) == [
        f"    [NEW] tcp      6 120 SYN_SENT {unreplied}",
        f" [UPDATE] tcp      6 60 SYN_RECV {TUPLE}",
        f" [UPDATE] tcp      6 432000 ESTABLISHED {TUPLE} [ASSURED]",
        f" [UPDATE] tcp      6 120 FIN_WAIT {TUPLE} [ASSURED]",
        f" [UPDATE] tcp      6 30 LAST_ACK {TUPLE} [ASSURED]",
        f" [UPDATE] tcp      6 120 TIME_WAIT {TUPLE} [ASSURED]",
        f"[DESTROY] tcp      6 120 TIME_WAIT src={A} dst={B} sport=40000 "
        f"dport=80 packets=4 bytes=160 src={B} dst={A} sport=80 "
        f"dport=40000 packets=2 bytes=80 [ASSURED]",
    ]
    assert m.stop() == 0
    assert m.proc.stderr.read() == ""


def test_events_of_one_zone(make_dp, monitor):
    """--zone=N shows that zone's events only; zone and mark are printed
    when they are not zero."""
    dp = make_dp(flows=[
        "table=0,priority=10,udp,tp_dst=53,"
        "actions=ct(commit,zone=5,exec(set_field:7->ct_mark))",
        "table=0,priority=10,udp,tp_dst=54,actions=ct(commit,zone=6)",
    ])
    m = monitor(dp, "--zone=5", dport=53)
    for sport in (1000, 1001):
        for dport in (54, 53):
            dp.inject(1, eth() / IP(src=A, dst=B) / UDP(sport=sport,
                                                        dport=dport))
    expected = [
        f"    [NEW] udp      17 30 src={A} dst={B} sport={sport} dport=53 "
        f"[UNREPLIED] src={B} dst={A} sport=53 dport={sport} mark=7 zone=5"
        for sport in (1000, 1001)]
    # Events come in order, so zone 6's would have come first.
    assert m.wait_lines(2) == expected
    assert m.stop() == 0
    assert m.lines() == expected


def test_events_expiry_destroys_without_timeout(firewall, monitor):
    """A conn that times out is destroyed with no seconds left, which the
    kernel's event then leaves out."""
    assert firewall.appctl("time/stop").returncode == 0
    m = monitor(firewall)
    firewall.inject(1, eth() / IP(src=A, dst=B) / UDP(sport=7, dport=9))
    assert firewall.appctl("time/warp", "31000").returncode == 0
    assert m.wait_lines(2)[1] == (
        f"[DESTROY] udp      17 src={A} dst={B} sport=7 dport=9 packets=1 "
        f"bytes=28 [UNREPLIED] src={B} dst={A} sport=9 dport=7 packets=0 "
        f"bytes=0")
    assert m.stop() == 0


@pytest.mark.parametrize("args, message", [
    (["--zone=65536"], "invalid argument --zone=65536 (want --zone=N with "
                       "N from 0 to 65535, or --expect)"),
    (["zone=1"], "invalid argument zone=1 (want --zone=N with N from 0 to "
                 "65535, or --expect)"),
])
def test_events_bad_arguments(firewall, args, message):
    for cmd in ("ct-events", "monitor-conntrack"):
        one_error_line(firewall.dpctl(cmd, *args),
                       f"ctdp-dpctl: {message}")


def test_stream_commands_over_ovs_appctl(firewall):
    """The stream protocol by hand: ct-events needs --stream; reads give
    "more" and then the events; close ends the stream; unknown ids are
    refused."""
    proc = firewall.appctl("dpctl/ct-events")
    assert proc.returncode == 2
    assert "ct-events never ends: use ctdp-dpctl ct-events, or --stream " \
           "and dpctl/stream-read" in proc.stderr
    proc = firewall.appctl("dpctl/ct-events", "--stream")
    assert proc.returncode == 0
    sid = proc.stdout.strip()
    firewall.inject(1, eth() / IP(src=A, dst=B) / UDP(sport=1, dport=2))
    read = firewall.appctl("dpctl/stream-read", sid)
    assert read.returncode == 0
    assert read.stdout.splitlines() == [
        "more",
        f"    [NEW] udp      17 30 src={A} dst={B} sport=1 dport=2 "
        f"[UNREPLIED] src={B} dst={A} sport=2 dport=1"]
    # Nothing new: the daemon answers an empty "more" after its poll time.
    start = time.monotonic()
    assert firewall.appctl("dpctl/stream-read", sid).stdout == "more\n"
    assert 0.4 < time.monotonic() - start < 5
    assert firewall.appctl("dpctl/stream-close", sid).returncode == 0
    for cmd in ("stream-read", "stream-close"):
        for bad in (sid, "x", "99"):
            proc = firewall.appctl(f"dpctl/{cmd}", bad)
            assert proc.returncode == 2
            assert f"no stream {bad}" in proc.stderr
    # dump-conntrack as a stream: one chunk holds this small table.
    proc = firewall.appctl("dpctl/dump-conntrack", "--stream")
    read = firewall.appctl("dpctl/stream-read", proc.stdout.strip())
    assert read.stdout == ("end\n" + firewall.ok("dump-conntrack"))


def write_udp_pcap(path, n):
    """'n' UDP packets from n different sources, stamped now, written
    directly (scapy would take a minute for 100k)."""
    now = time.time()
    sec, usec = int(now), int((now % 1) * 1e6)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            src = bytes([10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff])
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0,
                                       64, 17, 0, src, bytes([10, 255, 0,
                                                              1])))
            s = sum(struct.unpack("!10H", ip))
            s = (s & 0xffff) + (s >> 16)
            s = (s & 0xffff) + (s >> 16)
            ip[10:12] = struct.pack("!H", ~s & 0xffff)
            frame = (bytes.fromhex("0200000000020200000000010800") + ip
                     + struct.pack("!HHHH", 1000, 53, 8, 0))
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def memory_kb(pid, key):
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M)[1])


def peak_growth_kb(pid, action):
    """How far the daemon's peak RSS rises above its RSS while 'action'
    runs (the peak is reset first, /proc/PID/clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")
    before = memory_kb(pid, "VmRSS")
    action()
    return memory_kb(pid, "VmHWM") - before


N_BIG = 100_000


def test_a_big_dump_streams_with_bounded_daemon_memory(make_dp, tmp_path,
                                                       monkeypatch):
    """A 100k-conn dump reaches ctdp-dpctl whole and in order of nothing
    in particular, while the daemon's memory grows by a bounded amount,
    far less than ovs-appctl's one-reply dump makes it grow.  A stream
    reader too slow for 100k NEW events is told how many it lost."""
    if "ASAN_OPTIONS" in os.environ:
        # AddressSanitizer keeps freed memory in quarantine, so RSS would
        # count every chunk ever sent; without it, freed chunks are reused
        # as with the normal allocator.
        monkeypatch.setenv("ASAN_OPTIONS", os.environ["ASAN_OPTIONS"]
                           + ":quarantine_size_mb=0"
                           ":thread_local_quarantine_size_kb=0")
    dp = make_dp(flows=["table=0,priority=1,ip,actions=ct(commit)"])
    pcap = tmp_path / "many.pcap"
    write_udp_pcap(pcap, N_BIG)
    events = dp.appctl("dpctl/ct-events", "--stream").stdout.strip()
    dp.ok("add-port", f"p3=pcap:rx={pcap}")
    wait_until(lambda: dp.ok("ct-get-nconns").strip() == str(N_BIG),
               timeout=60, what=f"{N_BIG} conns")

    first = dp.appctl("dpctl/stream-read", events).stdout.splitlines()
    assert first[0] == "more"
    assert first[1:].count(f"WARNING: {N_BIG - 8192} events lost: the "
                           f"reader was too slow (queue of 8192 events)") == 1
    dp.appctl("dpctl/stream-close", events)

    dumped = tmp_path / "dump.txt"

    def stream_dump():
        with open(dumped, "w") as f:
            proc = subprocess.run([program("ctdp-dpctl"),
                                   f"--unixctl={dp.socket}",
                                   "dump-conntrack"], stdout=f, timeout=120)
        assert proc.returncode == 0

    def appctl_dump():
        proc = dp.appctl("dpctl/dump-conntrack")
        assert proc.stdout.count("\n") == N_BIG

    stream_kb = peak_growth_kb(dp.pid, stream_dump)
    lines = dumped.read_text().splitlines()
    assert len(lines) == N_BIG == len(set(lines))
    assert lines[0].startswith("udp,orig=(src=10.")
    appctl_kb = peak_growth_kb(dp.pid, appctl_dump)
    print(f"peak RSS growth: stream {stream_kb} kB, one reply {appctl_kb} kB")
    assert stream_kb < 8 * 1024
    assert stream_kb * 4 < appctl_kb
