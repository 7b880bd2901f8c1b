"""The kernel's conntrack knobs at run time: ct-sysctl, ct-set/get-tcp-loose,
ct-set/get-tcp-be-liberal.  (tests/kdiff_corpus.py checks their effects on
packets against the running kernel.)"""

import re

import pytest

from conftest import Daemon
from dp_helpers import ok, refused
from test_dpctl import invalid_count, tcp, udp

# Serves the fixture 'firewall'.
pytest_plugins = ["dp_helpers"]

# The kernel's names, in `sysctl -a`'s order, with ctdp's defaults.
DEFAULTS = {
    "nf_conntrack_acct": 1,
    "nf_conntrack_checksum": 1,
    "nf_conntrack_count": 0,
    "nf_conntrack_expect_max": 4096,
    "nf_conntrack_generic_timeout": 600,
    "nf_conntrack_gre_timeout": 30,
    "nf_conntrack_gre_timeout_stream": 180,
    "nf_conntrack_icmp_timeout": 30,
    "nf_conntrack_icmpv6_timeout": 30,
    "nf_conntrack_log_invalid": 0,
    "nf_conntrack_max": 3000000,
    "nf_conntrack_sctp_timeout_closed": 10,
    "nf_conntrack_sctp_timeout_cookie_echoed": 3,
    "nf_conntrack_sctp_timeout_cookie_wait": 3,
    "nf_conntrack_sctp_timeout_established": 210,
    "nf_conntrack_sctp_timeout_heartbeat_sent": 30,
    "nf_conntrack_sctp_timeout_shutdown_ack_sent": 3,
    "nf_conntrack_sctp_timeout_shutdown_recd": 3,
    "nf_conntrack_sctp_timeout_shutdown_sent": 3,
    "nf_conntrack_tcp_be_liberal": 0,
    "nf_conntrack_tcp_ignore_invalid_rst": 0,
    "nf_conntrack_tcp_loose": 1,
    "nf_conntrack_tcp_max_retrans": 3,
    "nf_conntrack_tcp_timeout_close": 10,
    "nf_conntrack_tcp_timeout_close_wait": 60,
    "nf_conntrack_tcp_timeout_established": 432000,
    "nf_conntrack_tcp_timeout_fin_wait": 120,
    "nf_conntrack_tcp_timeout_last_ack": 30,
    "nf_conntrack_tcp_timeout_max_retrans": 300,
    "nf_conntrack_tcp_timeout_syn_recv": 60,
    "nf_conntrack_tcp_timeout_syn_sent": 120,
    "nf_conntrack_tcp_timeout_time_wait": 120,
    "nf_conntrack_tcp_timeout_unacknowledged": 300,
    "nf_conntrack_timestamp": 1,
    "nf_conntrack_udp_timeout": 30,
    "nf_conntrack_udp_timeout_stream": 120,
}


@pytest.fixture
def d(tmp_path):
    daemon = Daemon(tmp_path).start("--port=p1=dummy", "--port=p2=dummy")
    yield daemon
    daemon.stop()


def sysctl(d, *args):
    """{name: value} of ct-sysctl's `net.netfilter.NAME = VALUE` lines."""
    out = {}
    for line in ok(d.dpctl("ct-sysctl", *args)).splitlines():
        m = re.fullmatch(r"net\.netfilter\.(\w+) = (\d+)", line)
        assert m, line
        out[m.group(1)] = int(m.group(2))
    return out


def test_lists_every_knob_as_sysctl_a(d):
    """Without arguments, every knob in `sysctl -a`'s format and order, with
    the kernel's defaults (but max: OVS userspace's; acct, timestamp: on)."""
    listed = sysctl(d)
    assert list(listed) == sorted(DEFAULTS)
    assert listed == DEFAULTS


def test_read_set_and_prefix(d):
    """NAME prints one knob, NAME=VALUE sets it, with or without
    sysctl(8)'s "net.netfilter." before the name."""
    assert sysctl(d, "nf_conntrack_udp_timeout") == {
        "nf_conntrack_udp_timeout": 30}
    assert sysctl(d, "net.netfilter.nf_conntrack_udp_timeout=7",
                  "nf_conntrack_max=10") == {
        "nf_conntrack_udp_timeout": 7, "nf_conntrack_max": 10}
    assert ok(d.dpctl("ct-get-maxconns")).strip() == "10"
    assert sysctl(d)["nf_conntrack_udp_timeout"] == 7


@pytest.mark.parametrize("args,message", [
    (["nf_conntrack_tcp_los=0"], "unknown conntrack knob nf_conntrack_tcp_los"),
    (["nf_conntrack_tcp_loose=2"],
     "invalid value 2 for nf_conntrack_tcp_loose (want 0 to 1)"),
    (["nf_conntrack_udp_timeout=-1"],
     "invalid value -1 for nf_conntrack_udp_timeout (want 0 to 2147483)"),
    (["nf_conntrack_udp_timeout="],
     "invalid value  for nf_conntrack_udp_timeout (want 0 to 2147483)"),
    (["nf_conntrack_max=0"],
     "invalid value 0 for nf_conntrack_max (want 1 to 2147483647)"),
    (["nf_conntrack_count=5"], "nf_conntrack_count is read-only"),
    (["nf_conntrack_udp_timeout=5", "nf_conntrack_log_invalid=256"],
     "invalid value 256 for nf_conntrack_log_invalid (want 0 to 255)"),
])
def test_errors_change_nothing(d, args, message):
    """A bad name or value is one error line, and no knob changes, not even
    one named before the bad one."""
    refused(d.dpctl("ct-sysctl", *args), message)
    assert sysctl(d) == DEFAULTS


def test_tcp_loose_and_be_liberal_commands(d):
    """ct-set/get-tcp-loose and -be-liberal are the two sysctls."""
    assert ok(d.dpctl("ct-get-tcp-loose")) == "1\n"
    ok(d.dpctl("ct-set-tcp-loose", "0"))
    assert ok(d.dpctl("ct-get-tcp-loose")) == "0\n"
    assert sysctl(d, "nf_conntrack_tcp_loose") == {"nf_conntrack_tcp_loose": 0}
    ok(d.dpctl("ct-set-tcp-be-liberal", "1"))
    assert ok(d.dpctl("ct-get-tcp-be-liberal")) == "1\n"
    assert sysctl(d, "nf_conntrack_tcp_be_liberal") == {
        "nf_conntrack_tcp_be_liberal": 1}
    refused(d.dpctl("ct-set-tcp-loose", "yes"), "invalid value yes (want 0 or 1)")


def test_tcp_loose_applies_at_run_time(d):
    """With nf_conntrack_tcp_loose=0 a mid-stream ACK makes no conn and is
    invalid; set back to 1, the same ACK is picked up."""
    ok(d.dpctl("ct-sysctl", "nf_conntrack_tcp_loose=0"))
    before = invalid_count(d)
    ok(d.dpctl("inject", "p1", tcp("A", 1000, 5000)))
    assert invalid_count(d) == before + 1
    assert "tcp," not in ok(d.dpctl("dump-conntrack"))
    ok(d.dpctl("ct-sysctl", "nf_conntrack_tcp_loose=1"))
    ok(d.dpctl("inject", "p1", tcp("A", 1000, 5000)))
    assert "state=ESTABLISHED" in ok(d.dpctl("dump-conntrack"))


def test_timeout_knob_is_the_zones_default(d):
    """A timeout knob sets the default that new conns get and that
    ct-get-timeout-policy shows; a zone's own policy still overrides it."""
    ok(d.dpctl("ct-sysctl", "nf_conntrack_udp_timeout=9"))
    ok(d.dpctl("inject", "p1", udp(1000)))
    assert ",timeout=9" in ok(d.dpctl("dump-conntrack", "-s"))
    assert "    udp_unreplied=9 (default)" in \
        ok(d.dpctl("ct-get-timeout-policy", "zone=0")).splitlines()
    ok(d.dpctl("ct-set-timeout-policy", "zone=0", "udp_first=4"))
    ok(d.dpctl("inject", "p1", udp(1001)))
    lines = [l for l in ok(d.dpctl("dump-conntrack", "-s")).splitlines()
             if "sport=1001" in l]
    assert len(lines) == 1 and ",timeout=4" in lines[0]


def test_acct_and_timestamp_off(d):
    """nf_conntrack_acct=0 stops counting (no counters in dumps) and
    nf_conntrack_timestamp=0 leaves the start time out, as the kernel's
    dumps do without them."""
    ok(d.dpctl("ct-sysctl", "nf_conntrack_acct=0", "nf_conntrack_timestamp=0"))
    ok(d.dpctl("inject", "p1", udp(1000)))
    line = ok(d.dpctl("dump-conntrack", "-s"))
    assert "packets=" not in line and "start=" not in line, line
    proc = ok(d.dpctl("dump-conntrack", "--format=proc"))
    assert "packets=" not in proc, proc
    ok(d.dpctl("ct-sysctl", "nf_conntrack_acct=1", "nf_conntrack_timestamp=1"))
    ok(d.dpctl("inject", "p1", udp(1000)))
    line = ok(d.dpctl("dump-conntrack", "-s"))
    assert "packets=1," in line and ",start=" in line, line


def test_checksum_off_accepts_bad_checksums(d):
    """nf_conntrack_checksum=0: a UDP packet with a wrong checksum is
    tracked instead of counted as bad_checksum."""
    from scapy.all import Ether, IP, UDP
    frame = (Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02")
             / IP(src="10.0.0.1", dst="10.0.0.2")
             / UDP(sport=1000, dport=53, chksum=0x1234) / b"data")
    ok(d.dpctl("inject", "p1", bytes(frame).hex()))
    assert "udp," not in ok(d.dpctl("dump-conntrack"))
    ok(d.dpctl("ct-sysctl", "nf_conntrack_checksum=0"))
    ok(d.dpctl("inject", "p1", bytes(frame).hex()))
    assert "sport=1000" in ok(d.dpctl("dump-conntrack"))


def test_log_invalid_logs_the_reason(d):
    """nf_conntrack_log_invalid=6 logs invalid TCP packets with the
    kernel's reason; other protocols and 0 log nothing."""
    ok(d.dpctl("ct-sysctl", "nf_conntrack_tcp_loose=0",
               "nf_conntrack_log_invalid=17"))
    ok(d.dpctl("inject", "p1", tcp("A", 1000, 5000)))
    ok(d.dpctl("ct-sysctl", "nf_conntrack_log_invalid=6"))
    ok(d.dpctl("inject", "p1", tcp("SF", 1000, 0, sport=40001)))
    log = d.logfile.read_text()
    assert "nf_ct_proto_6: invalid tcp flag combination SRC=10.0.0.1 " \
        "DST=10.0.0.2 LEN=40 PROTO=6 SPT=40001 DPT=80" in log, log
    assert "SPT=40000" not in log


def test_log_invalid_parse_errors(d):
    """A packet that cannot be read is logged with the kernel's reason for
    its protocol (255: every protocol)."""
    from scapy.all import Ether, IP, UDP
    frame = (Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02")
             / IP(src="10.0.0.1", dst="10.0.0.2")
             / UDP(sport=1000, dport=53, chksum=0x1234) / b"data")
    ok(d.dpctl("ct-sysctl", "nf_conntrack_log_invalid=255"))
    ok(d.dpctl("inject", "p1", bytes(frame).hex()))
    assert "nf_ct_proto_17: bad checksum SRC=10.0.0.1 DST=10.0.0.2 LEN=32 " \
        "PROTO=17 SPT=1000 DPT=53" in d.logfile.read_text()
