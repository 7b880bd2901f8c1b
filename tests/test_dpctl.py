"""The conntrack commands of ctdp-dpctl, on a table made by injected
traffic: exact output, OVS's error wording, and nothing changed on error;
then the files that add-flows and ctdpd --flows read, which must be
regular files of bounded size."""
import errno
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from conftest import Daemon, program, run, wait_until
from dp_helpers import ok, one_error_line, refused

# Serves the fixture 'firewall'.
pytest_plugins = ["dp_helpers"]


def udp(sport, src="10.0.0.1", dst="10.0.0.2", dport=53):
    """A UDP packet in the datapath flow syntax that `inject` takes."""
    return ("eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),"
            f"eth_type(0x0800),ipv4(src={src},dst={dst},proto=17,tos=0,"
            f"ttl=64,frag=no),udp(src={sport},dst={dport})")


@pytest.fixture
def dp(tmp_path):
    """A daemon with two dummy ports, the default firewall, and three UDP
    conns opened from inside (port 1)."""
    d = Daemon(tmp_path).start("--port=p1=dummy", "--port=p2=dummy")
    for sport in (1000, 1001, 1002):
        assert d.dpctl("inject", "p1", udp(sport)).returncode == 0
    yield d
    d.stop()


def conns(d):
    return ok(d.dpctl("dump-conntrack")).splitlines()


def test_dump_conntrack_format(dp):
    """dump-conntrack prints OVS's line format, one conn per line."""
    assert sorted(conns(dp)) == [
        f"udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport={p},dport=53),"
        f"reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport={p})"
        for p in (1000, 1001, 1002)]


def test_dump_conntrack_stats_and_verbose(dp):
    """-s adds counters, start and timeout; -m id and status flags."""
    line = ok(dp.dpctl("dump-conntrack", "-s", "-m")).splitlines()[0]
    assert ",packets=1,bytes=92)" in line
    assert ",status=CONFIRMED," in line
    assert ",timeout=30" in line and ",id=" in line and ",start=" in line


def test_dump_conntrack_bad_zone(dp):
    """A malformed zone is refused."""
    proc = dp.dpctl("dump-conntrack", "zone=x")
    assert proc.returncode == 2 and "invalid zone: x" in proc.stderr


def test_ct_stats_show(dp):
    """ct-stats-show counts conns per protocol as OVS does, then the
    kernel's statistics."""
    out = ok(dp.dpctl("ct-stats-show"))
    lines = out.splitlines()
    assert lines[:3] == ["Connections Stats:", "    Total: 3", "  UDP: 3"]
    assert lines[3] == "Statistics:"
    assert "insert=3 insert_failed=0 drop=0" in lines[4]


def test_maxconns_and_nconns(dp):
    """ct-set-maxconns / ct-get-maxconns round trip; ct-get-nconns counts."""
    assert ok(dp.dpctl("ct-get-nconns")) == "3\n"
    assert ok(dp.dpctl("ct-set-maxconns", "10")) == \
        "setting maxconns successful\n"
    assert ok(dp.dpctl("ct-get-maxconns")) == "10\n"
    refused(dp.dpctl("ct-set-maxconns", "ten"),
            "maxconns missing or malformed")
    assert ok(dp.dpctl("ct-get-maxconns")) == "10\n"


def test_limits(dp):
    """ct-set-limits, ct-get-limits and ct-del-limits in OVS's format, with
    per-zone counts."""
    ok(dp.dpctl("ct-set-limits", "default=10", "zone=5,limit=3"))
    assert ok(dp.dpctl("ct-get-limits")) == \
        "default limit=10\nzone=5,limit=3,count=0\n"
    assert ok(dp.dpctl("ct-get-limits", "zone=0")) == \
        "default limit=10\nzone=0,limit=10,count=3\n"
    ok(dp.dpctl("ct-del-limits", "zone=5"))
    ok(dp.dpctl("ct-del-limits", "default"))
    assert ok(dp.dpctl("ct-get-limits")) == "default limit=0\n"


def test_limits_errors_change_nothing(dp):
    """A bad limit argument is refused with OVS's wording, and the limits
    set before are kept."""
    ok(dp.dpctl("ct-set-limits", "zone=5,limit=3"))
    refused(dp.dpctl("ct-set-limits", "default=x"), "invalid default limit")
    refused(dp.dpctl("ct-set-limits", "zone=6,limt=3"),
            "invalid zone limit field: limt")
    refused(dp.dpctl("ct-set-limits", "zone=6"), "failed to parse zone limit")
    refused(dp.dpctl("ct-set-limits", "zone=7,limit=1", "zone=x,limit=1"),
            "failed to parse field zone")
    assert ok(dp.dpctl("ct-get-limits")) == \
        "default limit=0\nzone=5,limit=3,count=0\n"


def test_del_limits_takes_every_zone_argument(dp):
    """ct-del-limits with several zone= arguments, and a list in one
    argument, deletes the limit of every zone it names."""
    ok(dp.dpctl("ct-set-limits", "zone=1,limit=3", "zone=2,limit=4",
                "zone=3,limit=5", "zone=4,limit=6"))
    ok(dp.dpctl("ct-del-limits", "zone=1", "zone=2"))
    assert ok(dp.dpctl("ct-get-limits")) == \
        "default limit=0\nzone=3,limit=5,count=0\nzone=4,limit=6,count=0\n"
    ok(dp.dpctl("ct-del-limits", "zone=3,zone=4"))
    assert ok(dp.dpctl("ct-get-limits")) == "default limit=0\n"


def test_del_limits_error_changes_nothing(dp):
    """ct-del-limits with a bad zone among good ones deletes nothing."""
    ok(dp.dpctl("ct-set-limits", "zone=1,limit=3", "zone=2,limit=4"))
    refused(dp.dpctl("ct-del-limits", "zone=1", "zone=x"),
            "failed to parse field zone")
    assert ok(dp.dpctl("ct-get-limits")) == \
        "default limit=0\nzone=1,limit=3,count=0\nzone=2,limit=4,count=0\n"


def test_zone_limit_refuses_new_conns(dp):
    """With a zone limit reached, a new conn in that zone is not made."""
    ok(dp.dpctl("ct-set-limits", "zone=0,limit=3"))
    ok(dp.dpctl("inject", "p1", udp(2000)))
    assert len(conns(dp)) == 3
    assert "zone_limit_drop=1" in ok(dp.dpctl("ct-stats-show"))


def test_flush_by_partial_tuple(dp):
    """flush-conntrack with a partial original tuple removes only the
    conns it matches."""
    ok(dp.dpctl("flush-conntrack", "ct_nw_src=10.0.0.1,ct_tp_src=1001"))
    assert not any("sport=1001" in c for c in conns(dp))
    assert len(conns(dp)) == 2


def test_flush_by_reply_tuple_and_zone(dp):
    """A reply tuple and a zone narrow the flush; another zone is left."""
    ok(dp.dpctl("flush-conntrack", "zone=7"))
    assert len(conns(dp)) == 3
    ok(dp.dpctl("flush-conntrack", "zone=0", "ct_nw_proto=17",
                "ct_tp_dst=1002"))
    assert len(conns(dp)) == 2


def test_flush_by_mark(dp):
    """flush-conntrack mark=X/M removes conns whose masked mark matches."""
    ok(dp.dpctl("flush-conntrack", "mark=0x1/0xf"))
    assert len(conns(dp)) == 3
    ok(dp.dpctl("flush-conntrack", "mark=0/0xf"))
    assert conns(dp) == []


def test_flush_all(dp):
    """flush-conntrack alone empties the table."""
    ok(dp.dpctl("flush-conntrack"))
    assert conns(dp) == [] and ok(dp.dpctl("ct-get-nconns")) == "0\n"


def test_flush_errors_change_nothing(dp):
    """Bad tuple fields get OVS's messages and flush nothing."""
    refused(dp.dpctl("flush-conntrack", "ct_nw_srx=10.0.0.1"),
            "invalid conntrack tuple field: ct_nw_srx")
    refused(dp.dpctl("flush-conntrack", "ct_nw_src=10.0.0"),
            "failed to parse field ct_nw_src")
    refused(dp.dpctl("flush-conntrack", "mark=x"), "failed to parse field mark")
    assert len(conns(dp)) == 3


@pytest.mark.parametrize("packet", ["", " "])
def test_inject_refuses_an_empty_packet(dp, packet):
    """inject with an empty packet is refused; nothing is tracked."""
    one_error_line(dp.dpctl("inject", "p1", packet), "bad packet: empty")
    assert len(conns(dp)) == 3


def test_sweep_interval(dp):
    """The sweep interval round-trips; zero or junk is refused."""
    assert ok(dp.dpctl("ct-set-sweep-interval", "500")) == \
        "setting sweep interval successful\n"
    assert ok(dp.dpctl("ct-get-sweep-interval")) == "500\n"
    refused(dp.dpctl("ct-set-sweep-interval", "0"),
            "sweep interval missing or malformed")


def test_sweep_interval_shortened_takes_effect_at_once(dp):
    """A sweep interval set shorter brings the next sweep forward: after a
    sweep at an interval of 49 days, setting 100 ms sweeps a conn that
    expires a second later, not 5 days after."""
    ok(dp.dpctl("ct-set-sweep-interval", "4294967295"))
    # The sweep that the default interval (20 s) put at most 2 s away runs,
    # and puts the next one 5 days away.
    time.sleep(2.5)
    ok(dp.dpctl("ct-set-sweep-interval", "100"))
    ok(dp.dpctl("ct-sysctl", "nf_conntrack_udp_timeout=1"))
    assert dp.dpctl("inject", "p1", udp(2000)).returncode == 0
    assert ok(dp.dpctl("ct-get-nconns")) == "4\n"
    wait_until(lambda: ok(dp.dpctl("ct-get-nconns")) == "3\n", timeout=10,
               what="the expired conn swept")


def test_ovs_appctl_drives_dpctl_commands(dp):
    """OVS's ovs-appctl reaches the same commands by their unixctl names."""
    out = dp.appctl("dpctl/ct-get-nconns")
    assert out.returncode == 0 and out.stdout == "3\n"
    out = dp.appctl("dpctl/dump-conntrack", "zone=0")
    assert out.stdout.count("udp,orig=") == 3


def test_dump_conntrack_proc_format(dp):
    """--format=proc prints the kernel's /proc/net/nf_conntrack lines, with
    accounting as nf_conntrack_acct=1 shows it."""
    lines = sorted(ok(dp.dpctl("dump-conntrack", "--format=proc"))
                   .splitlines())
    # The seconds left are floored, as the kernel does: 29 or 30 here.
    assert re.match(r"ipv4     2 udp      17 (29|30) ", lines[0]), lines[0]
    assert re.sub(r" (29|30) ", " T ", lines[0], count=1) == (
        "ipv4     2 udp      17 T src=10.0.0.1 dst=10.0.0.2 sport=1000 "
        "dport=53 packets=1 bytes=92 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 "
        "sport=53 dport=1000 packets=0 bytes=0 mark=0 zone=0 use=1")


def test_timeout_policy_round_trip(dp):
    """ct-set-timeout-policy takes the kernel's slot names and OVS's
    attribute names; ct-get shows what is in force; ct-del restores the
    defaults."""
    ok(dp.dpctl("ct-set-timeout-policy", "zone=5", "udp_first=5",
                "icmp_reply=7"))
    out = ok(dp.dpctl("ct-get-timeout-policy", "zone=5")).splitlines()
    assert out[0] == "zone=5"
    assert "    udp_unreplied=5" in out and "    icmp=7" in out
    assert "    udp_replied=120 (default)" in out
    ok(dp.dpctl("ct-del-timeout-policy", "zone=5"))
    assert "    udp_unreplied=30 (default)" in \
        ok(dp.dpctl("ct-get-timeout-policy", "zone=5")).splitlines()


def test_timeout_policy_errors_change_nothing(dp):
    """An unknown attribute or a bad value is refused, and the policy set
    before is kept."""
    ok(dp.dpctl("ct-set-timeout-policy", "zone=5", "udp_first=5"))
    refused(dp.dpctl("ct-set-timeout-policy", "zone=5", "udp_frist=9"),
            "unknown timeout attribute: udp_frist")
    refused(dp.dpctl("ct-set-timeout-policy", "zone=5", "udp_first=x"),
            "failed to parse field udp_first")
    assert "    udp_unreplied=5" in \
        ok(dp.dpctl("ct-get-timeout-policy", "zone=5")).splitlines()


def test_timeout_policy_bad_zone_reads_no_zone(tmp_path):
    """ct-set-timeout-policy with a malformed zone is refused before any
    zone is looked up: under valgrind, the command uses no uninitialised
    value (the zone it failed to parse)."""
    if not shutil.which("valgrind"):
        pytest.skip("valgrind is not installed")
    if b"__asan_init" in pathlib.Path(program("ctdpd")).read_bytes():
        pytest.skip("valgrind cannot run a sanitizer build")
    log, sock = tmp_path / "valgrind.log", tmp_path / "ctdpd.ctl"
    daemon = subprocess.Popen(
        ["valgrind", "-q", f"--log-file={log}", program("ctdpd"),
         "--no-chdir", f"--unixctl={sock}", "--port=p1=dummy"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(sock.exists, timeout=60, what="ctdpd under valgrind")
        d = Daemon(tmp_path)
        refused(d.dpctl("ct-set-timeout-policy", "zone=x", "udp_first=5"),
                "invalid zone x")
        ok(d.dpctl("exit"))
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert log.read_text() == ""


def test_timeout_policy_applies(tmp_path):
    """A zone's policy sets the timeout of new conns: with udp_first=2 in
    zone 0, a conn is gone 2 s later (OVS's time/warp moves the clock)."""
    d = Daemon(tmp_path).start("--port=p1=dummy", "--port=p2=dummy")
    try:
        assert d.appctl("time/stop").returncode == 0
        ok(d.dpctl("ct-set-timeout-policy", "zone=0", "udp_first=2"))
        ok(d.dpctl("inject", "p1", udp(1000)))
        assert ",timeout=2" in ok(d.dpctl("dump-conntrack", "-s"))
        assert d.appctl("time/warp", "2000").returncode == 0
        assert conns(d) == []
    finally:
        d.stop()


def test_tcp_seq_chk_switch(dp):
    """ct-disable/enable-tcp-seq-chk flip TCP sequence checking, worded as
    OVS's dpctl."""
    assert ok(dp.dpctl("ct-get-tcp-seq-chk")) == \
        "TCP sequence checking: enabled\n"
    assert ok(dp.dpctl("ct-disable-tcp-seq-chk")) == \
        "disabling TCP sequence checking successful\n"
    assert ok(dp.dpctl("ct-get-tcp-seq-chk")) == \
        "TCP sequence checking: disabled\n"
    assert ok(dp.dpctl("ct-enable-tcp-seq-chk")) == \
        "enabling TCP sequence checking successful\n"


def tcp(flags, seq, ack, sport=40000, src="10.0.0.1", dst="10.0.0.2",
        dport=80, reply=False):
    """A TCP segment as a hex frame for `inject` (scapy builds it)."""
    from scapy.all import Ether, IP, TCP
    if reply:
        src, dst, sport, dport = dst, src, dport, sport
    frame = (Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02")
             / IP(src=src, dst=dst)
             / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
                   window=1000))
    return bytes(frame).hex()


def invalid_count(d):
    stats = ok(d.dpctl("ct-stats-show")).splitlines()[-1]
    return int(re.search(r"\binvalid=(\d+)", stats).group(1))


def test_tcp_seq_chk_applies_at_run_time(dp):
    """With sequence checking on, a segment far outside the window of an
    established TCP conn is invalid; after ct-disable-tcp-seq-chk the same
    segment is accepted, without restarting anything."""
    ok(dp.dpctl("inject", "p1", tcp("S", 1000, 0)))
    ok(dp.dpctl("inject", "p2", tcp("SA", 5000, 1001, reply=True)))
    ok(dp.dpctl("inject", "p1", tcp("A", 1001, 5001)))
    assert "state=ESTABLISHED" in ok(dp.dpctl("dump-conntrack"))
    before = invalid_count(dp)
    ok(dp.dpctl("inject", "p1", tcp("A", 1001 + 10**9, 5001)))
    assert invalid_count(dp) == before + 1
    ok(dp.dpctl("ct-disable-tcp-seq-chk"))
    ok(dp.dpctl("inject", "p1", tcp("A", 1001 + 10**9, 5001)))
    assert invalid_count(dp) == before + 1


def test_dump_conntrack_tcp_protoinfo(dp):
    """TCP conns show their state; -m shows OVS's verbose protoinfo, with
    the window scale and flags the handshake negotiated."""
    from scapy.all import Ether, IP, TCP
    syn = (Ether() / IP(src="10.0.0.1", dst="10.0.0.2")
           / TCP(sport=40001, dport=80, flags="S", seq=1000, window=1000,
                 options=[("WScale", 7), ("SAckOK", b"")]))
    synack = (Ether() / IP(src="10.0.0.2", dst="10.0.0.1")
              / TCP(sport=80, dport=40001, flags="SA", seq=5000, ack=1001,
                    window=1000, options=[("WScale", 6), ("SAckOK", b"")]))
    ok(dp.dpctl("inject", "p1", bytes(syn).hex()))
    ok(dp.dpctl("inject", "p2", bytes(synack).hex()))
    ok(dp.dpctl("inject", "p1", tcp("A", 1001, 5001, sport=40001)))
    line = next(l for l in conns(dp) if "sport=40001" in l)
    assert line.endswith(",protoinfo=(state=ESTABLISHED)")
    verbose = next(l for l in ok(dp.dpctl("dump-conntrack", "-m"))
                   .splitlines() if "sport=40001" in l)
    assert verbose.endswith(
        ",protoinfo=(state_orig=ESTABLISHED,state_reply=ESTABLISHED,"
        "wscale_orig=7,wscale_reply=6,"
        "flags_orig=WINDOW_SCALE|SACK_PERM|MAXACK_SET,"
        "flags_reply=WINDOW_SCALE|SACK_PERM|MAXACK_SET)"), verbose


def test_shared_receive_threads(tmp_path):
    """With --n-threads=2, packets received on dummy ports go through the
    shared threads; a port can be deleted and the daemon exits cleanly."""
    d = Daemon(tmp_path).start("--n-threads=2", "--port=p1=dummy",
                               "--port=p2=dummy", "--port=p3=dummy")
    try:
        assert "receive threads: 2, shared by the ports" in \
            ok(d.dpctl("show"))
        from scapy.all import Ether, IP, UDP
        frame = (Ether() / IP(src="10.0.0.1", dst="10.0.0.2")
                 / UDP(sport=1000, dport=53))
        out = d.appctl("netdev-dummy/receive", "p1", bytes(frame).hex())
        assert out.returncode == 0, out.stderr
        wait_until(lambda: len(conns(d)) == 1, what="the conn")
        ok(d.dpctl("del-port", "p3"))
        assert "p3" not in ok(d.dpctl("show"))
        assert d.dpctl("exit").returncode == 0
        d.wait_exit()
    finally:
        d.stop()


def test_ct_bkts(dp):
    """ct-bkts shows the real table: its size, the conn count, a histogram
    of chain lengths that accounts for every node (one per UDP conn without
    NAT, for both directions), and the rows of busy buckets; gt=N hides
    buckets with N nodes or fewer."""
    out = ok(dp.dpctl("ct-bkts")).splitlines()
    n_buckets = int(out[0].split(": ")[1])
    assert out[0].startswith("Total Buckets: ") and n_buckets >= 1024
    assert out[1] == "Current Connections: 3"
    hist = {l.split(":")[0].strip(): int(l.split(": ")[1])
            for l in out[4:13]}
    assert sum(hist.values()) == n_buckets
    assert sum(int(k.rstrip("+")) * v for k, v in hist.items()) == 3
    cells = [c for l in out if "|" in l and ".." in l
             for c in l.split("|")[1].split() if c != "."]
    assert sum(map(int, cells)) == 3
    assert "|" not in ok(dp.dpctl("ct-bkts", "gt=8")).split("+\n")[-1]
    refused(dp.dpctl("ct-bkts", "gt=x"), "invalid argument gt=x (want gt=N)")


def test_ct_stats_show_tcp_states(dp):
    """ct-stats-show -m adds the conns per TCP state, as OVS's does."""
    ok(dp.dpctl("inject", "p1", tcp("S", 1000, 0, sport=40002)))
    out = ok(dp.dpctl("ct-stats-show", "-m")).splitlines()
    i = out.index("  TCP: 1")
    assert out[i + 1:i + 3] == ["    Conn per TCP states:",
                                "\t  [SYN_SENT]=1"]
    assert "    Conn per TCP states:" not in \
        ok(dp.dpctl("ct-stats-show")).splitlines()


# ---- Flow files -----------------------------------------------------------

FLOW_LINE_MAX = 64 * 1024               # Bytes in a line, without its \n.
FLOW_FILE_MAX = 64 * 1024 * 1024        # Bytes in a file.


def flow_line(length):
    """A good flow line of exactly 'length' bytes: a flow, then a comment
    that pads it."""
    flow = "table=7,priority=1,actions=drop #"
    return flow + "x" * (length - len(flow))


def bad_flow_file(tmp_path, kind):
    """A file that add-flows and --flows must refuse, and the error they
    must give: the flows of a good line never get in."""
    path = tmp_path / kind
    good = "table=7,priority=1,actions=drop\n"
    if kind == "dev-zero":
        return "/dev/zero", "/dev/zero: not a regular file"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "too-big":
        with open(path, "wb") as f:
            f.write(good.encode())
            f.truncate(FLOW_FILE_MAX + 1)
        return str(path), f"{path}: larger than 64 MiB"
    elif kind == "long-line":
        path.write_text(good + flow_line(FLOW_LINE_MAX + 1) + "\n")
        return str(path), f"{path}:2: line longer than 64 KiB"
    elif kind == "nul-byte":
        path.write_bytes(good.encode() + b"table=8,\0actions=drop\n")
        return str(path), f"{path}:2: NUL byte in a text file"
    return str(path), f"{path}: not a regular file"


BAD_FLOW_FILES = ["dev-zero", "fifo", "directory", "too-big", "long-line",
                  "nul-byte"]


def release_fifo(path):
    """Opens and closes the writing end of FIFO 'path', so that a reader
    blocked opening it (the daemon, were it to open a FIFO) gets end of
    file and goes on."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as e:
        assert e.errno == errno.ENXIO       # No reader: nobody to release.


@pytest.mark.parametrize("kind", BAD_FLOW_FILES)
def test_add_flows_refuses_bad_file(firewall, tmp_path, kind):
    """add-flows of a device, a FIFO, a directory, a file over 64 MiB, a
    line over 64 KiB or a NUL byte fails at once with one line naming the
    file; the flows loaded before are all still there and the daemon goes
    on answering."""
    path, message = bad_flow_file(tmp_path, kind)
    flows = firewall.flow_lines()
    try:
        proc = firewall.dpctl("--timeout=5", "add-flows", path, timeout=30)
    finally:
        if kind == "fifo":
            release_fifo(path)
    one_error_line(proc, message)
    assert firewall.flow_lines() == flows
    assert "flows: " in firewall.show()


def test_add_flows_reads_a_relative_name_from_the_callers_directory(
        firewall, tmp_path):
    """add-flows FILE with a relative name reads FILE in ctdp-dpctl's
    directory, as ovs-ofctl add-flows does, not in the daemon's."""
    (tmp_path / "fw.flows").write_text("table=7,priority=1,actions=drop\n")
    ok(firewall.dpctl("add-flows", "fw.flows", cwd=tmp_path))
    assert firewall.flow(7, "priority=1")["actions"] == "drop"


def test_add_flows_longest_line(firewall, tmp_path):
    """A line of exactly 64 KiB is read whole."""
    path = tmp_path / "long.flows"
    path.write_text(flow_line(FLOW_LINE_MAX) + "\n")
    firewall.ok("add-flows", str(path))
    assert firewall.flow(7, "priority=1")["actions"] == "drop"


@pytest.mark.parametrize("kind", BAD_FLOW_FILES)
def test_ctdpd_flows_refuses_bad_file(tmp_path, kind):
    """ctdpd --flows=FILE with a file add-flows refuses exits non-zero at
    once with one line naming the file."""
    path, message = bad_flow_file(tmp_path, kind)
    try:
        proc = run([program("ctdpd"), "--no-chdir",
                    f"--unixctl={tmp_path / 'ctdpd.ctl'}",
                    f"--flows={path}"], timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ctdpd --flows={path} still running after 10 s")
    finally:
        if kind == "fifo":
            release_fifo(path)
    assert proc.returncode != 0
    assert proc.stderr.splitlines() == [f"ctdpd: --flows: {message}"]
