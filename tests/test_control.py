"""The control path: ctdpd serving unixctl, ctdp-dpctl and ovs-appctl."""
import os
import signal
import socket

from conftest import Daemon, program, run, wait_until
from dp_helpers import dpctl_commands, one_error_line


def test_version_through_both_clients(daemon):
    """ctdp-dpctl and OVS's own ovs-appctl both get ctdpd's version."""
    for proc in (daemon.dpctl("version"), daemon.appctl("version")):
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[0] == "ctdpd 0.1.0"


def test_list_commands_serves_exactly_the_table(daemon):
    """The daemon serves exactly the rows of the command table, the
    commands ctdp-dpctl --help offers, each with the usage --help shows:
    dpctl ones as "dpctl/NAME" (as in OVS), the others by their name,
    beside the OVS library's own, which all have a namespace of their own
    (vlog/, coverage/, time/, netdev-dummy/...)."""
    served = {}
    for line in daemon.dpctl("list-commands").stdout.splitlines()[1:]:
        name, _, usage = line.strip().partition(" ")
        served[name] = usage.strip()
    ours = sorted(n for n in served if "/" not in n or n.startswith("dpctl/"))
    helped = help_lines()
    assert sorted(n.removeprefix("dpctl/") for n in ours) == sorted(helped)
    for name in ours:
        synopsis = helped[name.removeprefix("dpctl/")]
        assert synopsis.startswith(served[name]), (name, served[name])


def help_lines():
    """{name: the rest of its line} for each command of ctdp-dpctl --help."""
    out = run([program("ctdp-dpctl"), "--help"], check=True).stdout
    block = out.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.split(None, 1) for line in block.splitlines())


def test_exit_stops_daemon_and_removes_files(daemon):
    """'exit' answers, then the daemon ends and removes socket and pidfile."""
    proc = daemon.dpctl("exit")
    assert proc.returncode == 0, proc.stderr
    daemon.wait_exit()
    assert not daemon.socket.exists()
    assert not daemon.pidfile.exists()


def test_sigterm_removes_socket_and_pidfile(daemon):
    """SIGTERM stops the daemon cleanly: no socket or pidfile left behind."""
    os.kill(daemon.pid, signal.SIGTERM)
    daemon.wait_exit()
    assert not daemon.socket.exists()
    assert not daemon.pidfile.exists()
    assert "terminating with signal 15" in daemon.logfile.read_text()


def test_default_socket_is_in_ctdp_rundir(tmp_path):
    """Without --unixctl, daemon and client meet at $CTDP_RUNDIR/ctdpd.ctl."""
    env = dict(os.environ, CTDP_RUNDIR=str(tmp_path))
    proc = run([program("ctdpd"), "--detach", "--pidfile",
                f"--log-file={tmp_path}/log"], env=env)
    assert proc.returncode == 0, proc.stderr
    pid = int((tmp_path / "ctdpd.pid").read_text())
    try:
        assert (tmp_path / "ctdpd.ctl").exists()
        out = run([program("ctdp-dpctl"), "version"], env=env)
        assert out.returncode == 0 and out.stdout.startswith("ctdpd 0.1.0")
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not (tmp_path / "ctdpd.ctl").exists(),
               what="the socket to go")


def test_unknown_command_is_refused_before_connecting(tmp_path):
    """An unknown command is refused without contacting any daemon."""
    proc = run([program("ctdp-dpctl"), f"--unixctl={tmp_path}/none",
                "no-such-command"])
    one_error_line(proc, "unknown command 'no-such-command'")


def test_unknown_command_with_daemon_running(daemon):
    """An unknown command gets the same single line while ctdpd runs, and
    the daemon keeps serving."""
    one_error_line(daemon.dpctl("no-such-command"), "unknown command")
    assert daemon.dpctl("version").returncode == 0


def test_daemon_not_running(tmp_path):
    """A socket path with nothing behind it: one line, exit 1."""
    proc = run([program("ctdp-dpctl"), "--unixctl=/nonexistent", "version"])
    one_error_line(proc, "cannot connect to /nonexistent", status=1)


def test_stale_socket_file(tmp_path):
    """A socket file left behind by a dead daemon refuses the connection:
    one line, exit 1, no hang."""
    path = tmp_path / "stale.ctl"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    proc = run([program("ctdp-dpctl"), f"--unixctl={path}", "version"],
               timeout=10)
    one_error_line(proc, "Connection refused", status=1)


def test_wrong_argument_count(daemon):
    """Too many arguments: refused by the client with the command's name."""
    one_error_line(daemon.dpctl("version", "extra"),
                   "'version' takes no arguments")


def test_missing_command_and_bad_option():
    """No command, or an unknown option: one line each, exit 2."""
    one_error_line(run([program("ctdp-dpctl")]), "missing command")
    one_error_line(run([program("ctdp-dpctl"), "--bogus", "version"]),
                   "'--bogus'")
    one_error_line(run([program("ctdp-dpctl"), "--timeout=x", "version"]),
                   "--timeout")


def test_daemon_refuses_bad_arguments(tmp_path):
    """ctdpd with an unknown option or a stray argument exits non-zero with
    one line and leaves no socket."""
    for args in (["--bogus"], ["stray"]):
        proc = run([program("ctdpd"), f"--unixctl={tmp_path}/s.ctl", *args])
        assert proc.returncode != 0
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
        assert not (tmp_path / "s.ctl").exists()


def test_ovs_appctl_unknown_command_is_an_error(daemon):
    """ovs-appctl gets the daemon's own error for an unknown command."""
    proc = daemon.appctl("no-such-command")
    assert proc.returncode != 0
    assert "is not a valid command" in proc.stderr


def test_no_open_vswitch_conntrack_linked():
    """ctdp's tracker is its own: none of OVS's conntrack is in ctdpd."""
    symbols = run(["nm", program("ctdpd")], check=True).stdout
    for name in ("conntrack_execute", "conntrack_init", "ipf_init"):
        assert f" {name}\n" not in symbols, name


# Every command of the table, as ovs-appctl sends it: unixctl name and
# arguments ("{NAME}" is what command NAME printed: a stream id, or the
# flows file).  "==" marks the ones whose output ctdp-dpctl must match
# byte for byte (same state, nothing time-dependent).
UDP = ("eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),"
       "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),"
       "udp(src=1000,dst=53)")
APPCTL_CALLS = [
    ("version", [], "=="),
    ("list-commands", [], "=="),
    ("show", [], "=="),
    ("add-port", ["p3=dummy"], ""),
    ("del-port", ["p3"], ""),
    ("add-flow", ["table=5,priority=1,actions=drop"], ""),
    ("add-flows", ["{flows-file}"], ""),
    ("del-flows", ["table=5"], ""),
    ("dump-flows", ["table=1"], ""),
    ("dump-dp-flows", [], ""),
    ("inject", ["p1", UDP], ""),
    ("dump-conntrack", ["zone=0"], "=="),
    ("dump-conntrack-exp", ["zone=0"], "=="),
    ("flush-conntrack-exp", ["zone=0"], ""),
    ("ct-events", ["--stream"], ""),
    ("monitor-conntrack", ["--stream", "--zone=3"], ""),
    ("stream-read", ["{ct-events}"], ""),
    ("stream-close", ["{monitor-conntrack}"], ""),
    ("ct-stats-show", ["-m"], "=="),
    ("ct-bkts", ["gt=0"], "=="),
    ("ct-set-maxconns", ["1000"], ""),
    ("ct-get-maxconns", [], "=="),
    ("ct-get-nconns", [], "=="),
    ("ct-set-limits", ["default=10", "zone=3,limit=5"], ""),
    ("ct-get-limits", [], "=="),
    ("ct-del-limits", ["zone=3"], ""),
    ("ct-set-sweep-interval", ["500"], ""),
    ("ct-get-sweep-interval", [], "=="),
    ("ct-disable-tcp-seq-chk", [], ""),
    ("ct-get-tcp-seq-chk", [], "=="),
    ("ct-set-ftp-loose", ["1"], ""),
    ("ct-get-ftp-loose", [], "=="),
    ("ct-set-tcp-loose", ["1"], ""),
    ("ct-get-tcp-loose", [], "=="),
    ("ct-set-tcp-be-liberal", ["0"], ""),
    ("ct-get-tcp-be-liberal", [], "=="),
    ("ct-sysctl", ["nf_conntrack_udp_timeout=30"], "=="),
    ("ct-enable-tcp-seq-chk", [], ""),
    ("ct-set-timeout-policy", ["zone=3", "udp_first=10"], ""),
    ("ct-get-timeout-policy", ["zone=3"], "=="),
    ("ct-del-timeout-policy", ["zone=3"], ""),
    ("ipf-set-disabled", ["v6"], ""),
    ("ipf-set-enabled", ["v6"], ""),
    ("ipf-set-min-frag", ["v4", "1000"], ""),
    ("ipf-set-max-nfrags", ["2000"], ""),
    ("ipf-get-status", ["-m"], "=="),
    ("flush-conntrack", ["zone=0"], ""),
    ("exit", [], ""),
]


def test_every_command_over_ovs_appctl(tmp_path):
    """OVS's own ovs-appctl drives every command of the table by its
    unixctl name, and reads what ctdp-dpctl reads."""
    flows = tmp_path / "f.flows"
    flows.write_text("table=6,priority=1,actions=drop\n")
    d = Daemon(tmp_path).start("--port=p1=dummy", "--port=p2=dummy")
    try:
        offered = [name for name, _ in dpctl_commands()]
        assert sorted(offered) == sorted(c for c, _, _ in APPCTL_CALLS)
        served = d.dpctl("list-commands").stdout.split()
        printed = {"flows-file": str(flows)}
        for name, args, same in APPCTL_CALLS:
            args = [a.format(**printed) for a in args]
            method = name if name in served else f"dpctl/{name}"
            proc = d.appctl(method, *args)
            assert proc.returncode == 0, (name, proc.stderr)
            printed[name] = proc.stdout.strip()
            if same:
                mine = d.dpctl(name, *args)
                assert mine.returncode == 0, (name, mine.stderr)
                assert proc.stdout == mine.stdout, name
        d.wait_exit()
    finally:
        d.stop()
