"""Network namespaces joined through a running ctdpd, for real traffic.

A Net is N hosts, each a network namespace whose "eth0" is one end of a
veth pair; the other end, in the root namespace, is ctdpd's system port
(host i is port i + 1).  The daemon runs the flows the test gives (OVS
syntax, through --flows) or, without them, its default firewall.

Names carry the pid and a per-process sequence number, so two runs (or two
Nets of one run) cannot collide; 'network()' removes everything even when
the test fails.  Addresses live only inside the namespaces, so they cannot
meet another run's or the machine's.

Every veth keeps its default offloads: the hosts' stacks leave TCP and UDP
checksums to the device and send TCP as GSO frames, which ctdpd's system
ports take (lib/ctdp-offload.h); no ethtool step.

The host ends neither answer ARP (arp_ignore=8) nor speak IPv6: a host end
is an interface of the root namespace, and without that the root namespace
would answer the test hosts' neighbour queries for their own peers' addresses
and send its own router solicitations and reports through the datapath.
"""
import contextlib
import itertools
import os
import signal
import subprocess

from conftest import Daemon, wait_until

_SEQ = itertools.count()


def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        n, d = divmod(n, 36)
        text = digits[d] + text
        if not n:
            return text


def sh(*args):
    """Runs a setup command that must succeed; its stderr in the failure."""
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)}: {proc.stderr.strip()}")


class Host:
    """One namespace, 'ns', whose eth0 reaches ctdpd's port 'port' through
    the veth end 'link'."""

    def __init__(self, net, index, addr4=None, addr6=None):
        self.net = net
        self.port = index + 1
        self.ns = f"ctdp-{os.getpid()}-{net.seq}-{index}"
        # At most 15 characters: "ct" + pid in base 36 (<= 5) + seq + port.
        self.link = f"ct{_base36(os.getpid())}n{_base36(net.seq)}p{index}"
        self.addr4, self.addr6 = addr4, addr6

    def create(self):
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.link, "type", "veth", "peer", "name",
           "eth0", "netns", self.ns)
        sh("sysctl", "-qw", f"net.ipv6.conf.{self.link}.disable_ipv6=1")
        sh("sysctl", "-qw", f"net.ipv4.conf.{self.link}.arp_ignore=8")
        if not self.addr6:
            # No router solicitations or reports from a host that does
            # not use IPv6: the flows see only the test's traffic.
            sh("ip", "netns", "exec", self.ns, "sysctl", "-qw",
               "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "link", "set", self.link, "up")
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.ns, "link", "set", "eth0", "up")
        # veth keeps its default offloads: the hosts hand out partial
        # checksums and TCP GSO frames, which ctdpd must take.
        if self.addr4:
            sh("ip", "-n", self.ns, "addr", "add", f"{self.addr4}/24",
               "dev", "eth0")
        if self.addr6:
            sh("ip", "-n", self.ns, "addr", "add", f"{self.addr6}/64",
               "dev", "eth0", "nodad")


    def destroy(self):
        """Kills whatever still runs in the namespace (children of the
        test's servers too: socat's forks, say), then removes it."""
        pids = subprocess.run(["ip", "netns", "pids", self.ns],
                              capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.link], capture_output=True)

    def argv(self, *args):
        return ["ip", "netns", "exec", self.ns, *args]

    def exec(self, *args, timeout=15, input=None):
        """Runs a command in the namespace; returns the CompletedProcess."""
        return subprocess.run(self.argv(*args), capture_output=True,
                              text=True, timeout=timeout, input=input)

    def ok(self, *args, timeout=15, input=None):
        """Runs a command that must succeed; returns its stdout."""
        proc = self.exec(*args, timeout=timeout, input=input)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc.stdout

    def popen(self, *args, **kw):
        """Starts a background process in the namespace; it is killed when
        the Net goes down.  Keyword arguments go to subprocess.Popen."""
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        proc = subprocess.Popen(self.argv(*args), **kw)
        self.net.procs.append(proc)
        return proc

    def python(self, code, **kw):
        """Starts /usr/bin/python3 -c 'code' in the background."""
        return self.popen("/usr/bin/python3", "-c", code, **kw)

    def listening(self, port, proto="t"):
        out = self.exec("ss", f"-l{proto}nH").stdout
        return any(line.split()[3].endswith(f":{port}")
                   for line in out.splitlines() if len(line.split()) > 3)

    def wait_listening(self, port, proto="t"):
        wait_until(lambda: self.listening(port, proto),
                   what=f"a server on port {port} in {self.ns}")


class Net:
    """Hosts joined through one ctdpd.  'hosts' lists (addr4, addr6) pairs,
    either may be None; 'flows' is the flow table as text (None: the default
    firewall); 'daemon_args' are more ctdpd options."""

    def __init__(self, tmp, hosts, flows=None, daemon_args=()):
        self.seq = next(_SEQ)
        self.tmp = tmp
        self.hosts = [Host(self, i, *h) for i, h in enumerate(hosts)]
        self.flows = flows
        self.daemon_args = list(daemon_args)
        self.daemon = None
        self.procs = []

    def up(self):
        for host in self.hosts:
            host.create()
        self.start_daemon()
        return self

    def start_daemon(self):
        args = [f"--port={h.link}=system" for h in self.hosts]
        if self.flows is not None:
            path = self.tmp / "flows.txt"
            path.write_text(self.flows)
            args.append(f"--flows={path}")
        # Known before start(), so that down() stops a daemon that started
        # but then failed a check.
        self.daemon = Daemon(self.tmp)
        self.daemon.start(*args, *self.daemon_args)

    def stop_daemon(self):
        if self.daemon:
            self.daemon.stop()

    def restart_daemon(self):
        """Stops ctdpd and starts a new one on the same ports and flows."""
        self.stop_daemon()
        self.start_daemon()

    def down(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        try:
            self.stop_daemon()
        finally:
            for host in self.hosts:
                host.destroy()

    def dpctl(self, *args):
        """Runs a ctdp-dpctl command that must succeed; returns stdout."""
        proc = self.daemon.dpctl(*args)
        assert proc.returncode == 0, (args, proc.stderr)
        return proc.stdout

    def appctl(self, *args):
        """Runs an Open vSwitch library command (time/warp...) that must
        succeed; returns stdout."""
        proc = self.daemon.appctl(*args)
        assert proc.returncode == 0, (args, proc.stderr)
        return proc.stdout


@contextlib.contextmanager
def network(tmp, hosts, flows=None, daemon_args=()):
    """A Net that is up inside the 'with' and removed after it, whatever
    happened (including a failure half-way through setting it up)."""
    net = Net(tmp, hosts, flows, daemon_args)
    try:
        yield net.up()
    finally:
        net.down()
