"""pcap ports and the capture replay (docs/REPLAY.md).

Captures are built with scapy and read back byte for byte with its raw
reader.  Every scenario runs the default firewall: port 1 ("in") is inside,
port 2 ("out") outside.  Replays run `ctdpd --replay` with TZ=UTC, so that
the start times it prints do not depend on the machine's time zone.
"""
import errno
import os
import re
import struct
import subprocess
import time

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


def udp_capture(path, n):
    """Writes 'n' UDP frames of 1000 flows from inside to 'path' quickly
    (raw records, no scapy per frame), 1 us apart."""
    base = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                 / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(dport=53))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            sport = 1024 + i % 1000
            frame = base[:34] + struct.pack(">H", sport) + base[36:40] + \
                b"\0\0" + base[42:]
            f.write(struct.pack("<IIII", 1700000000, i % 1000000,
                                len(frame), len(frame)))
            f.write(frame)


def test_replay_shows_progress_on_a_terminal_only(tmp_path):
    """A replay long enough shows its progress (packets, rate, conns) on a
    terminal's stderr, and clears the line at the end; with stderr not a
    terminal it writes nothing there."""
    import pty
    cap = tmp_path / "big.pcap"
    udp_capture(cap, 2000000)
    args = [program("ctdpd"), "--replay", pcap_port("in", cap)]
    plain = run(args, timeout=120)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr

    pid, fd = pty.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.execv(args[0], args)
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    text = seen.decode()
    assert re.search(r"replay: \d+ packets, [\d.]+ Mpps, \d+ conns", text), text
    assert text.endswith("\r\033[K"), repr(text[-40:])


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
    ("in=pcap:rx=SAME,mode=fast", "bad pcap mode 'fast' (want replay or "
     "poll)"),
    ("in=pcap:rx=SAME,mode=poll", "port in: mode=poll is for a running "
     "daemon; --replay feeds captures in timestamp order"),
    ("in=pcap:rx=SAME --n-threads=4", "--replay feeds the captures from one "
     "thread: drop --n-threads"),
])
def test_bad_pcap_port_spec(tmp_path, spec, reason):
    """Pcap port options are checked: rx and/or tx, and mode replay or
    poll, nothing else, not the same file twice; --replay takes only pcap
    ports, only in replay mode, and feeds them from one thread."""
    same = write(tmp_path / "same.pcap", [udp(True, 1000, 53, 0)])
    proc = replay(*("--port=" + spec.replace("SAME", same)).split())
    one_line_error(proc, reason)
    assert frames_of(same) == stamped([udp(True, 1000, 53, 0)])


@pytest.mark.parametrize("first, second", [
    ("rx", "tx"),       # The second port would write what the first reads,
    ("tx", "rx"),       # or read what the first writes,
    ("tx", "tx"),       # or write where the first writes.
])
def test_ports_share_no_capture_that_one_writes(tmp_path, first, second):
    """A capture that one pcap port writes is no other port's: a port that
    reads another's output never comes to the end of its input, and two
    writers mix their records.  --replay refuses the second port with one
    line and leaves the capture as it was."""
    same = write(tmp_path / "same.pcap", [udp(True, 1000, 53, 0)])
    proc = run([program("ctdpd"), "--replay", f"--port=a=pcap:{first}={same}",
                f"--port=b=pcap:{second}={same}"], timeout=10)
    one_line_error(proc, "port b", same, "port a")
    assert frames_of(same) == stamped([udp(True, 1000, 53, 0)])


def test_replay_of_a_capture_older_than_the_clock_keeps_its_times(tmp_path):
    """A capture stamped before the clock's time (here 1000 s after the
    epoch, before this machine's uptime, which the clock starts from) is
    fed shifted forward, so that the clock never goes back; the conns'
    start= is still the capture's own time."""
    frame = udp(True, 1000, 53, 0)
    frame.time = 1000
    conns, _ = parse_replay(replay(pcap_port("in", write(tmp_path / "in.pcap",
                                                         [frame]))))
    assert len(conns) == 1 and ",start=1970-01-01T00:16:40.000," in conns[0]


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


# ---- Files that are not captures to read or to write -----------------------

def special_file(tmp_path, kind):
    """A path that is not a regular file: a FIFO, a device, a directory."""
    if kind == "dev-zero":
        return "/dev/zero"
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    return str(path)


SPECIAL_FILES = ["fifo", "dev-zero", "directory"]


def fifo_of(kind, path):
    """'path' if it is a FIFO that a blocked daemon would hold, else
    None."""
    return path if kind == "fifo" else None


def release_fifo(path, flags):
    """Opens and closes the end of FIFO 'path' that 'flags' names
    (O_RDONLY or O_WRONLY), without blocking, so that a daemon blocked
    opening the other end (were it to open a FIFO) goes on.  Nothing to do
    if 'path' is None."""
    if path is None:
        return
    try:
        os.close(os.open(path, flags | os.O_NONBLOCK))
    except OSError as e:
        assert e.errno == errno.ENXIO       # No reader: nobody to release.


def add_port_bounded(daemon, spec, fifo=None, flags=os.O_RDONLY):
    """Runs add-port 'spec', giving up after 5 s, then releases the daemon
    if it blocked opening FIFO 'fifo'."""
    try:
        return daemon.dpctl("--timeout=5", "add-port", spec, timeout=30)
    finally:
        release_fifo(fifo, flags)


def ctdpd_foreground(tmp_path, *args, fifo=None, flags=os.O_RDONLY):
    """Runs ctdpd in the foreground with 'args', for a start that must fail
    at once: the test fails if it still runs after 10 s (killed then)."""
    try:
        return run([program("ctdpd"), "--no-chdir",
                    f"--unixctl={tmp_path / 'fg.ctl'}", *args], timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ctdpd {' '.join(args)} still running after 10 s")
    finally:
        release_fifo(fifo, flags)


@pytest.mark.parametrize("kind", SPECIAL_FILES)
def test_add_port_refuses_rx_not_regular(tmp_path, daemon, kind):
    """add-port with rx= a FIFO, a device or a directory fails at once with
    one line naming the file, and changes nothing: no port, no tx file,
    and the daemon goes on answering."""
    path = special_file(tmp_path, kind)
    before = daemon.dpctl("show").stdout
    proc = add_port_bounded(
        daemon, f"in=pcap:rx={path},tx={tmp_path / 'tx.pcap'}",
        fifo_of(kind, path), os.O_WRONLY)
    one_line_error(proc, "port in", path, "not a regular file")
    assert daemon.dpctl("show").stdout == before
    assert not (tmp_path / "tx.pcap").exists()


@pytest.mark.parametrize("kind", SPECIAL_FILES)
def test_ctdpd_refuses_rx_not_regular(tmp_path, kind):
    """ctdpd --port=NAME=pcap:rx= a FIFO, a device or a directory exits
    non-zero at once with one line naming the file."""
    path = special_file(tmp_path, kind)
    proc = ctdpd_foreground(tmp_path, pcap_port("in", path),
                            fifo=fifo_of(kind, path), flags=os.O_WRONLY)
    one_line_error(proc, "--port: port in", path, "not a regular file")


@pytest.mark.parametrize("kind", SPECIAL_FILES + ["dev-null"])
def test_add_port_refuses_tx_not_regular(tmp_path, daemon, kind):
    """add-port with tx= a FIFO, a device or a directory fails at once with
    one line naming the file, and changes nothing."""
    path = "/dev/null" if kind == "dev-null" else special_file(tmp_path, kind)
    before = daemon.dpctl("show").stdout
    proc = add_port_bounded(daemon, f"out=pcap:tx={path}",
                            fifo_of(kind, path), os.O_RDONLY)
    one_line_error(proc, "port out", path, "not a regular file")
    assert daemon.dpctl("show").stdout == before


def test_ctdpd_refuses_tx_fifo(tmp_path):
    """ctdpd --port=NAME=pcap:tx=FIFO exits non-zero at once with one line
    naming the file."""
    path = special_file(tmp_path, "fifo")
    proc = ctdpd_foreground(tmp_path, pcap_port("out", tx=path), fifo=path,
                            flags=os.O_RDONLY)
    one_line_error(proc, "--port: port out", path, "not a regular file")


def write_big_endian(path):
    """An Ethernet capture in big-endian byte order."""
    wrpcap(str(path), [udp(True, 1000, 53, 0)], linktype=1,
           endianness=">")
    return str(path)


NOT_CAPTURES = {
    "text": (lambda p: text_file(p / "notes.txt"),
             "not a pcap capture; will not overwrite it"),
    "not-ethernet": (lambda p: non_ethernet_capture(p / "sll.pcap"),
                     "is not Ethernet"),
    "big-endian": (lambda p: write_big_endian(p / "be.pcap"),
                   "byte order"),
}


@pytest.mark.parametrize("kind", sorted(NOT_CAPTURES))
def test_add_port_tx_keeps_file_it_cannot_extend(tmp_path, daemon, kind):
    """add-port with tx= an existing file that is not an Ethernet capture
    it can append to refuses it with one line, and leaves the file as it
    was: a tx file never clobbers one that is not a capture."""
    make, reason = NOT_CAPTURES[kind]
    path = make(tmp_path)
    content = open(path, "rb").read()
    before = daemon.dpctl("show").stdout
    proc = daemon.dpctl("--timeout=5", "add-port", f"out=pcap:tx={path}")
    one_line_error(proc, "port out", path, reason)
    assert open(path, "rb").read() == content
    assert daemon.dpctl("show").stdout == before


def test_ctdpd_tx_keeps_text_file(tmp_path):
    """ctdpd --port=NAME=pcap:tx=FILE with FILE a text file exits non-zero
    with one line, and leaves the file as it was."""
    path = text_file(tmp_path / "notes.txt")
    proc = ctdpd_foreground(tmp_path, pcap_port("out", tx=path))
    one_line_error(proc, "--port: port out", path, "not a pcap capture")
    assert open(path).read() == "hello\n"


@pytest.mark.parametrize("options", [{}, {"nano": True},
                                     {"snaplen": 1518}],
                         ids=["usec", "nsec", "snaplen-1518"])
def test_tx_appends_to_existing_capture(tmp_path, options):
    """A pcap port whose tx= capture exists appends to it, as Open
    vSwitch's dummy ports do: what the file held is kept, in its own
    format (microsecond or nanosecond stamps, its snaplen), and the frames
    the port sends come after it."""
    old = [udp(False, 53, 1000, 0, b"old"), udp(False, 53, 1001, 1, b"old")]
    path = tmp_path / "out.pcap"
    wrpcap(str(path), old, linktype=1, **options)
    check_append(tmp_path, path, old)


def test_tx_appends_whole_frames_to_a_capture_of_snaplen_0(tmp_path):
    """A capture whose header says snaplen 0 (no limit, as libpcap reads
    it) gets whole frames appended, not records cut to nothing."""
    path = tmp_path / "out.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 0, 1))
    check_append(tmp_path, path, [])


def check_append(tmp_path, path, old):
    """A port added with tx='path', a capture holding frames 'old', sends a
    frame: 'path' then holds 'old' and that frame, whole."""
    new = udp(True, 2000, 53, 0, b"new")
    d = Daemon(tmp_path).start("--port=p1=dummy")
    try:
        proc = d.dpctl("add-port", f"out=pcap:tx={path}")
        assert proc.returncode == 0, proc.stderr
        assert d.dpctl("inject", "p1", bytes(new).hex()).returncode == 0
        want = [bytes(f) for f in old + [new]]
        wait_until(lambda: [data for data, _ in RawPcapReader(str(path))]
                   == want, what="the new frame after the old ones")
    finally:
        d.stop()


# ---- Polled input (mode=poll) -----------------------------------------------

# Ports 1 and 3 inside, both committing new conns out of port 2.
POLL_FLOWS = """\
table=0,priority=10,ip,actions=ct(table=1)
table=0,priority=0,actions=drop
table=1,priority=50,ct_state=+trk+new,ip,in_port=1,actions=ct(commit),output:2
table=1,priority=50,ct_state=+trk+new,ip,in_port=3,actions=ct(commit),output:2
table=1,priority=50,ct_state=+trk+est,ip,actions=output:2
table=1,priority=0,actions=drop
"""


def flows_capture(path, src, n_flows, n):
    """Writes 'n' UDP frames from 'src' to 10.0.0.2:53, of 'n_flows' flows
    (source ports 1024 on) in turn, as raw records; returns the frames."""
    base = bytes(Ether(src=IN_MAC, dst=OUT_MAC) / IP(src=src, dst=OUT_IP)
                 / UDP(sport=1024, dport=53))
    frames = [base[:34] + struct.pack(">H", 1024 + i % n_flows) + base[36:40]
              + b"\0\0" + base[42:] for i in range(n)]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(frame),
                                len(frame)) + frame)
    return frames


def poll_ended_lines(d):
    """The log's "pcap input ended on port" lines, as (thread, port, n)."""
    text = d.logfile.read_text() if d.logfile.exists() else ""
    return re.findall(r"\|ctdp_port\((\w+)\)\|INFO\|pcap input ended on "
                      r"port (\w+): (\d+) packets read", text)


def test_poll_ports_on_two_threads(tmp_path):
    """Two pcap ports with mode=poll on --n-threads=2 are read by two
    receive threads side by side: every packet of both captures is
    forwarded (the tx capture holds exactly their frames) and tracked
    (one conn per flow, none dropped), the feeder sees none of them, each
    port logs one "pcap input ended on port" line with its count, from a
    thread of its own, and show says mode=poll, the count and ended."""
    n, n_flows = 20000, 100
    a = flows_capture(tmp_path / "a.pcap", "10.0.0.1", n_flows, n)
    b = flows_capture(tmp_path / "b.pcap", "10.0.0.3", n_flows, n)
    flows = tmp_path / "flows.txt"
    flows.write_text(POLL_FLOWS)
    out_tx = tmp_path / "out-tx.pcap"
    d = Daemon(tmp_path).start(
        "--n-threads=2", f"--flows={flows}",
        f"--port=out=pcap:tx={out_tx},ofport=2",
        f"--port=p1=pcap:rx={tmp_path / 'a.pcap'},mode=poll,ofport=1",
        f"--port=p3=pcap:rx={tmp_path / 'b.pcap'},mode=poll,ofport=3")
    try:
        # show while the threads read: its counts are published ones.
        wait_until(lambda: d.dpctl("show").stdout.count(
            f"mode=poll, {n} packets read, ended") == 2, timeout=60,
            what="both polled captures to end")
        show = d.dpctl("show").stdout
        assert "receive threads: 2, shared by the ports" in show
        assert f"port 1: p1 (pcap: rx={tmp_path / 'a.pcap'}, mode=poll, " \
            f"{n} packets read, ended)" in show
        assert "pcap input:" not in show        # Nothing fed.
        assert re.search(r"drops: table_miss=0 ct_drop=0 too_deep=0 "
                         r"no_port=0$", show, re.M), show
        assert f"conns: {2 * n_flows}" in show
        lines = wait_until(lambda: len(poll_ended_lines(d)) == 2
                           and poll_ended_lines(d), what="the log lines")
        assert sorted((port, int(k)) for _, port, k in lines) == \
            [("p1", n), ("p3", n)]
        assert lines[0][0] != lines[1][0], lines      # Two threads.
        conns = d.dpctl("dump-conntrack", "-s").stdout.splitlines()
        assert len(conns) == 2 * n_flows
        assert all(re.search(rf"dport=53,packets={n // n_flows},", c)
                   for c in conns), conns[:3]
        wait_until(lambda: f"tx={out_tx}, {2 * n} packets written"
                   in d.dpctl("show").stdout, what="every frame out")
        assert sorted(data for _, data in frames_of(out_tx)) == sorted(a + b)
    finally:
        d.stop()


def test_explicit_replay_mode_is_the_default(tmp_path, firewall_captures):
    """mode=replay is what a pcap port does without a mode: --replay gives
    the same conns and statistics either way."""
    c = firewall_captures
    plain = replay(pcap_port("in", c["in"]), pcap_port("out", c["out"]))
    explicit = replay(pcap_port("in", c["in"]) + ",mode=replay",
                      pcap_port("out", c["out"]) + ",mode=replay")
    assert parse_replay(explicit) == parse_replay(plain)


BAD_MODES = {
    "fast": ("rx=IN,mode=fast", "bad pcap mode 'fast' (want replay or poll)"),
    "empty": ("rx=IN,mode=", "bad pcap mode '' (want replay or poll)"),
    "no-rx": ("tx=OUT,mode=poll", "mode=poll wants rx=FILE"),
}


@pytest.mark.parametrize("kind", sorted(BAD_MODES))
def test_bad_pcap_mode_fails_daemon_start(tmp_path, kind):
    """ctdpd with a bad pcap mode, or mode=poll with nothing to read, exits
    non-zero at once with one line naming the port and the reason, and
    creates no tx file."""
    options, reason = BAD_MODES[kind]
    cap = write(tmp_path / "in.pcap", [udp(True, 1000, 53, 0)])
    options = options.replace("IN", cap).replace("OUT",
                                                 str(tmp_path / "out.pcap"))
    proc = ctdpd_foreground(tmp_path, f"--port=in=pcap:{options}")
    one_line_error(proc, "--port: port in", reason)
    assert not (tmp_path / "out.pcap").exists()


@pytest.mark.parametrize("kind", sorted(BAD_MODES))
def test_bad_pcap_mode_refused_by_add_port(tmp_path, daemon, kind):
    """add-port with a bad pcap mode fails with one line and changes
    nothing."""
    options, reason = BAD_MODES[kind]
    cap = write(tmp_path / "in.pcap", [udp(True, 1000, 53, 0)])
    options = options.replace("IN", cap).replace("OUT",
                                                 str(tmp_path / "out.pcap"))
    before = daemon.dpctl("show").stdout
    one_line_error(daemon.dpctl("add-port", f"in=pcap:{options}"),
                   "port in", reason)
    assert daemon.dpctl("show").stdout == before
    assert not (tmp_path / "out.pcap").exists()


def cpu_seconds(pid):
    """User and system CPU time 'pid' has used, in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("threads", [[], ["--n-threads=2"]],
                         ids=["thread-per-port", "pool"])
def test_polled_port_idles_once_read(tmp_path, threads):
    """Once its capture is used up, a polled port's thread waits instead of
    polling it again and again: the daemon then uses next to no CPU, with a
    thread of the port's own or in a pool."""
    flows_capture(tmp_path / "a.pcap", "10.0.0.1", 10, 1000)
    d = Daemon(tmp_path).start(
        *threads, f"--port=out=pcap:tx={tmp_path / 'out.pcap'},ofport=2",
        f"--port=in=pcap:rx={tmp_path / 'a.pcap'},mode=poll,ofport=1")
    try:
        wait_until(lambda: "1000 packets read, ended"
                   in d.dpctl("show").stdout, what="the capture to end")
        before = cpu_seconds(d.pid)
        time.sleep(1)
        assert cpu_seconds(d.pid) - before < 0.2
    finally:
        d.stop()


def test_polled_port_added_later_ends_early(tmp_path, daemon):
    """A polled port added to a running daemon starts reading at once; a
    capture that breaks off in a record is read up to there, show says
    "ended early", and the log warns with the port, the count and the
    reason."""
    path = write(tmp_path / "in.pcap", [udp(True, 1000, 53, 0),
                                        udp(True, 1001, 53, 1)])
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 5)
    proc = daemon.dpctl("add-port", f"in=pcap:rx={path},mode=poll")
    assert proc.returncode == 0, proc.stderr
    wait_until(lambda: f"rx={path}, mode=poll, 1 packets read, ended early"
               in daemon.dpctl("show").stdout, what="the capture to end")
    log = wait_until(lambda: re.search(
        r"WARN\|pcap input ended early on port in: 1 packets read: .*"
        r"truncated", daemon.logfile.read_text()), what="the warning")
    assert path in log.group(0)
