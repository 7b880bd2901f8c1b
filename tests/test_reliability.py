"""Reliability of the daemon under operators and attackers: the tracker's
clock across replays, the cap on event listeners, and floods against a
full table through the datapath (memory bounded, established flows still
passing, every refused packet counted)."""
import re
import subprocess

from scapy.all import IP, UDP, Ether, Raw, wrpcap

from conftest import Daemon, program, wait_until

T0 = 1700000000.0
IN_MAC, OUT_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"


def udp_frame(sport, at):
    frame = (Ether(src=IN_MAC, dst=OUT_MAC)
             / IP(src="10.0.0.1", dst="10.0.0.2")
             / UDP(sport=sport, dport=53) / Raw(b"q"))
    frame.time = T0 + at
    return frame


def feed(d, tmp_path, name, frames, n_total):
    """Adds a pcap port that feeds 'frames'; waits until the daemon has fed
    'n_total' pcap packets in all."""
    path = tmp_path / f"{name}.pcap"
    wrpcap(str(path), frames, linktype=1)
    assert d.dpctl("add-port", f"{name}=pcap:rx={path}").returncode == 0
    wait_until(lambda: f"pcap input: {n_total} packets fed, ended"
               in d.dpctl("show").stdout, what=f"{name}.pcap to be fed")


def timeouts(d):
    out = d.dpctl("dump-conntrack", "-s").stdout
    return [int(t) for t in re.findall(r"timeout=(\d+)", out)]


def test_replay_clock_never_runs_backwards(tmp_path):
    """A second capture added to a running daemon, recorded 100 s before
    the first one ended, does not take the tracker's clock back: the first
    capture's unreplied UDP conn keeps at most its 30 s (before the fix the
    clock went back 100 s and the conn had 130 s left), and the second
    capture's conn is made too."""
    flows = tmp_path / "commit.flows"
    flows.write_text("ip,actions=ct(commit)\n")
    d = Daemon(tmp_path).start(f"--flows={flows}")
    try:
        feed(d, tmp_path, "late", [udp_frame(1000, 100)], 1)
        feed(d, tmp_path, "early", [udp_frame(2000, 0)], 2)
        left = timeouts(d)
        assert len(left) == 2, d.dpctl("dump-conntrack", "-s").stdout
        assert all(t <= 30 for t in left), left
    finally:
        d.stop()


def test_event_listeners_are_capped(tmp_path):
    """ct-events streams are capped at 16 (each costs the packet path a copy
    of every event): the 17th is refused with one error line and exit 2,
    and ending one stream makes room for another."""
    d = Daemon(tmp_path).start()
    listeners = []
    try:
        for _ in range(16):
            listeners.append(subprocess.Popen(
                [program("ctdp-dpctl"), f"--unixctl={d.socket}", "ct-events"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))

        # The 16 connect in their own time: poll until the cap bites.
        err = wait_until(lambda: try_listener(d),
                         what="a 17th listener to be refused")
        assert len(err.splitlines()) == 1, err
        assert err.startswith("ctdp-dpctl: too many event listeners "
                              "(at most 16): stop one first"), err
        listeners.pop().terminate()
        wait_until(lambda: try_listener(d) is None,
                   what="room for a new listener")
    finally:
        for p in listeners:
            p.kill()
            p.wait()
        d.stop()


def try_listener(d):
    """Starts a ct-events stream.  If it is refused within 0.5 s, returns
    its stderr after checking its exit status (2); otherwise stops it and
    returns None."""
    p = subprocess.Popen([program("ctdp-dpctl"), f"--unixctl={d.socket}",
                          "ct-events"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=0.5)
    except subprocess.TimeoutExpired:
        p.terminate()
        p.communicate()
        return None
    assert p.returncode == 2, err
    return err
