"""pcap ports and the capture replay (docs/REPLAY.md).

Captures are built with scapy and read back byte for byte with its raw
reader.  Every scenario runs the default firewall: port 1 ("in") is inside,
port 2 ("out") outside.  Replays run `ctdpd --replay` with TZ=UTC, so that
the start times it prints do not depend on the machine's time zone.
"""
import os
import struct

import pytest
from scapy.all import IP, UDP, Ether, Raw, wrpcap
from scapy.utils import RawPcapReader

from conftest import Daemon, program, run, wait_until

T0 = 1700000000.0                   # 2023-11-14T22:13:20Z
T0_TEXT = "2023-11-14T22:13:20.000"
IN_MAC, OUT_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
IN_IP, OUT_IP = "10.0.0.1", "10.0.0.2"


def udp(outbound, sport, dport, at, payload=b"x"):
    """A UDP frame from inside (outbound) or outside, stamped T0 + 'at' s."""
    if outbound:
        eth, ip = Ether(src=IN_MAC, dst=OUT_MAC), IP(src=IN_IP, dst=OUT_IP)
    else:
        eth, ip = Ether(src=OUT_MAC, dst=IN_MAC), IP(src=OUT_IP, dst=IN_IP)
    frame = eth / ip / UDP(sport=sport, dport=dport) / Raw(payload)
    frame.time = T0 + at
    return frame


def write(path, frames):
    """Writes 'frames' as an Ethernet capture; returns its path as text."""
    wrpcap(str(path), frames, linktype=1)
    return str(path)


def frames_of(path):
    """The frames of a capture as (microseconds, bytes), exactly as
    stored."""
    return [(meta.sec * 1000000 + meta.usec, data)
            for data, meta in RawPcapReader(str(path))]


def stamped(frames):
    """What frames_of() should read back for scapy 'frames'."""
    return [(round(f.time * 1000000), bytes(f)) for f in frames]


def pcap_port(name, rx=None, tx=None):
    options = [f"rx={rx}"] if rx else []
    options += [f"tx={tx}"] if tx else []
    return f"--port={name}=pcap:" + ",".join(options)


def replay(*args):
    """Runs `ctdpd --replay ARGS`; returns the CompletedProcess."""
    return run([program("ctdpd"), "--replay", *args],
               env=dict(os.environ, TZ="UTC"))


def parse_replay(proc):
    """Splits a replay's output into its conn lines and its statistics."""
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    stats = dict(kv.split("=") for kv in lines[-1].split())
    return lines[:-1], {k: int(v) for k, v in stats.items()}


def one_line_error(proc, *fragments):
    """Checks that 'proc' failed with one line on stderr naming
    'fragments'."""
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture
def firewall_captures(tmp_path):
    """A request inside, its reply outside 10 ms later, and an unsolicited
    packet outside 20 ms later."""
    request = udp(True, 1000, 53, 0.000, b"query")
    reply = udp(False, 53, 1000, 0.010, b"answer")
    unsolicited = udp(False, 53, 2000, 0.020, b"intruder")
    return {
        "request": request, "reply": reply, "unsolicited": unsolicited,
        "in": write(tmp_path / "in.pcap", [request]),
        "out": write(tmp_path / "out.pcap", [reply, unsolicited]),
    }


def test_daemon_pcap_ports_forward_exact_frames(tmp_path, firewall_captures):
    """A daemon with two pcap ports feeds both captures through the default
    firewall and keeps running: each tx capture then holds exactly the
    frames forwarded to that port, byte for byte as they were read and
    stamped with their capture times; the unsolicited packet is not
    among them."""
    c = firewall_captures
    in_tx, out_tx = tmp_path / "in-tx.pcap", tmp_path / "out-tx.pcap"
    d = Daemon(tmp_path).start(pcap_port("in", c["in"], in_tx),
                               pcap_port("out", c["out"], out_tx))
    try:
        wait_until(lambda: "pcap input: 3 packets fed, ended"
                   in d.dpctl("show").stdout, what="the captures to end")
        assert frames_of(out_tx) == stamped([c["request"]])
        assert frames_of(in_tx) == stamped([c["reply"]])
        show = d.dpctl("show").stdout
        assert "rx=%s, 1 packets read, ended" % c["in"] in show
        assert "tx=%s, 1 packets written" % out_tx in show
    finally:
        d.stop()


def test_replay_prints_conntrack_and_stats(tmp_path, firewall_captures):
    """--replay prints the conntrack table as dump-conntrack -s does, at the
    last packet's time, then the tracker's statistics, and exits 0; its tx
    captures hold what was forwarded."""
    c = firewall_captures
    out_tx = tmp_path / "out-tx.pcap"
    conns, stats = parse_replay(replay(pcap_port("in", c["in"]),
                                       pcap_port("out", c["out"], out_tx)))
    assert conns == [
        "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=53,"
        "packets=1,bytes=33),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,"
        f"dport=1000,packets=1,bytes=34),start={T0_TEXT},timeout=30"]
    assert stats["insert"] == 1
    assert stats["found"] == 1
    assert frames_of(out_tx) == stamped([c["request"]])


def test_replay_output_is_sorted(tmp_path):
    """Conns are printed sorted, whatever order the table holds them in."""
    frames = [udp(True, sport, 53, i / 1000)
              for i, sport in enumerate(range(1050, 1000, -1))]
    conns, stats = parse_replay(replay(
        pcap_port("in", write(tmp_path / "in.pcap", frames))))
    assert len(conns) == 50 and stats["insert"] == 50
    assert conns == sorted(conns)


@pytest.mark.parametrize("gap, same_conn", [(29, True), (31, False)])
def test_tracker_clock_is_capture_time(tmp_path, gap, same_conn):
    """The tracker's clock is the capture's: an unreplied UDP conn lasts
    30 s, so a second packet 29 s of capture time after the first still
    finds the conn, while one 31 s later makes a new conn, although the
    replay itself takes milliseconds."""
    frames = [udp(True, 1000, 53, 0), udp(True, 1000, 53, gap)]
    conns, stats = parse_replay(replay(
        pcap_port("in", write(tmp_path / "in.pcap", frames))))
    assert stats["insert"] == (1 if same_conn else 2)
    assert len(conns) == 1
    start = T0_TEXT if same_conn else "2023-11-14T22:13:51.000"
    packets = 2 if same_conn else 1
    assert f"packets={packets},bytes={29 * packets})" in conns[0]
    assert f"start={start},timeout=30" in conns[0]


def test_two_sided_captures_merge_by_timestamp(tmp_path):
    """Packets of several captures are fed in timestamp order across the
    captures: a reply that is the first packet of the outside capture
    passes because its request, inside, came earlier; a reply-like packet
    stamped before its request is dropped as unsolicited.  Processing one
    capture before the other, either way, would get one of them wrong."""
    request_a = udp(True, 1000, 53, 0.000, b"a?")
    reply_a = udp(False, 53, 1000, 0.010, b"a!")
    early_b = udp(False, 53, 2000, 0.005, b"b!")
    request_b = udp(True, 2000, 53, 0.015, b"b?")
    in_tx, out_tx = tmp_path / "in-tx.pcap", tmp_path / "out-tx.pcap"
    conns, stats = parse_replay(replay(
        pcap_port("out", write(tmp_path / "out.pcap", [early_b, reply_a]),
                  out_tx) + ",ofport=2",
        pcap_port("in", write(tmp_path / "in.pcap", [request_a, request_b]),
                  in_tx) + ",ofport=1"))
    assert frames_of(in_tx) == stamped([reply_a])
    assert frames_of(out_tx) == stamped([request_a, request_b])
    assert stats["insert"] == 2
    assert [c.split(",")[3] for c in conns] == ["sport=1000", "sport=2000"]


def test_equal_timestamps_go_in_port_order(tmp_path):
    """Packets stamped the same go in port-number order: a reply stamped
    like its request passes when the request is on the lower port."""
    request = udp(True, 1000, 53, 0)
    reply = udp(False, 53, 1000, 0)
    in_tx = tmp_path / "in-tx.pcap"
    _, stats = parse_replay(replay(
        pcap_port("out", write(tmp_path / "out.pcap", [reply])) + ",ofport=2",
        pcap_port("in", write(tmp_path / "in.pcap", [request]), in_tx)
        + ",ofport=1"))
    assert stats["insert"] == 1 and stats["found"] == 1
    assert frames_of(in_tx) == stamped([reply])


def non_ethernet_capture(path):
    """A capture of link type LINUX_SLL (113) with one record."""
    record = bytes(16) + bytes(IP(src=IN_IP, dst=OUT_IP) / UDP())
    header = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 113)
    path.write_bytes(header + struct.pack("<IIII", 1, 0, len(record),
                                          len(record)) + record)
    return str(path)


def text_file(path):
    """A file that is not a capture."""
    path.write_text("hello\n")
    return str(path)


BAD_CAPTURES = {
    "missing": (lambda p: str(p / "missing.pcap"),
                "No such file or directory"),
    "not-pcap": (lambda p: text_file(p / "notes.txt"),
                 "unknown file format"),
    "not-ethernet": (lambda p: non_ethernet_capture(p / "sll.pcap"),
                     "is not Ethernet"),
}


@pytest.mark.parametrize("kind", sorted(BAD_CAPTURES))
def test_bad_capture_fails_replay(tmp_path, kind):
    """--replay with a missing file, a file that is not a capture, or a
    capture that is not Ethernet fails with one line naming the port, the
    file and the reason, and creates no tx file."""
    make, reason = BAD_CAPTURES[kind]
    path = make(tmp_path)
    proc = replay(pcap_port("in", path, tmp_path / "tx.pcap"))
    one_line_error(proc, "port in", path, reason)
    assert not (tmp_path / "tx.pcap").exists()


@pytest.mark.parametrize("kind", sorted(BAD_CAPTURES))
def test_bad_capture_refused_by_add_port(tmp_path, daemon, kind):
    """add-port refuses a bad capture with one clear line and changes
    nothing: no port, no tx file."""
    make, reason = BAD_CAPTURES[kind]
    path = make(tmp_path)
    before = daemon.dpctl("show").stdout
    proc = daemon.dpctl("add-port",
                        f"in=pcap:rx={path},tx={tmp_path / 'tx.pcap'}")
    assert proc.returncode != 0
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert path in proc.stderr and reason in proc.stderr
    assert daemon.dpctl("show").stdout == before
    assert not (tmp_path / "tx.pcap").exists()


def test_bad_capture_fails_daemon_start(tmp_path):
    """ctdpd with a bad --port capture exits non-zero with one line on
    stderr, before detaching."""
    proc = run([program("ctdpd"), "--detach", "--no-chdir",
                f"--unixctl={tmp_path / 'ctdpd.ctl'}",
                f"--pidfile={tmp_path / 'ctdpd.pid'}",
                pcap_port("in", tmp_path / "missing.pcap")])
    one_line_error(proc, "missing.pcap", "No such file or directory")


@pytest.mark.parametrize("spec, reason", [
    ("in=pcap", "wants rx=FILE, tx=FILE or both"),
    ("in=pcap:rx=a.pcap,speed=2", "unknown pcap option 'speed'"),
    ("in=pcap:rx=", "rx= wants a file name"),
    ("in=pcap:rx=SAME,tx=SAME", "rx and tx are the same file"),
    ("in=dummy", "--replay takes pcap ports only"),
])
def test_bad_pcap_port_spec(tmp_path, spec, reason):
    """Pcap port options are checked: rx and/or tx, nothing else, not the
    same file twice; --replay takes only pcap ports."""
    same = write(tmp_path / "same.pcap", [udp(True, 1000, 53, 0)])
    proc = replay("--port=" + spec.replace("SAME", same))
    one_line_error(proc, reason)
    assert frames_of(same) == stamped([udp(True, 1000, 53, 0)])


def test_truncated_capture_fails_replay(tmp_path):
    """A capture cut in the middle of a record is fed up to the cut, then
    --replay fails with one line saying where the capture broke."""
    path = write(tmp_path / "in.pcap", [udp(True, 1000, 53, 0),
                                        udp(True, 1001, 53, 1)])
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 5)
    one_line_error(replay(pcap_port("in", path)), "port in", path,
                   "truncated")


def test_replay_with_flows_file(tmp_path):
    """--replay runs the flows of --flows instead of the default firewall,
    and a bad flows file is one line and a non-zero exit."""
    flows = tmp_path / "flows.txt"
    flows.write_text("table=0,priority=10,ip,actions=ct(commit,zone=7),"
                     "output:2\n")
    conns, stats = parse_replay(replay(
        pcap_port("in", write(tmp_path / "in.pcap",
                              [udp(False, 53, 1000, 0)])),
        f"--flows={flows}"))
    assert stats["insert"] == 1
    assert ",zone=7," in conns[0]
    flows.write_text("table=0,actions=frobnicate\n")
    one_line_error(replay(f"--flows={flows}"), "--flows")
