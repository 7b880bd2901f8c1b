#!/usr/bin/python3
"""ctdp's whole datapath side by side with Open vSwitch's netdev datapath.

Usage (as root; `make bench-dp` runs it from the build tree):

  ctdp-bench-netdev.py --ctdpd=PATH --ovs=DIR [--pcaps=DIR] [--runs=N]
                       [--workloads=a,b,c,m] [--veth] [--veth-only]
                       [--send=PATH] [--threads] [--threads-only]
                       [--threads-workloads=b,c] [--markdown=FILE]

  --ctdpd     ctdp's daemon (utilities/ctdpd of a build tree)
  --ovs       the cache directory build-aux/ovs-dpdk.sh prints
  --pcaps     where the captures are kept (default
              /var/cache/ctdp/bench-netdev/pcaps); made by
              utilities/ctdp-bench-pcaps.py when missing or stale
  --runs      runs of each switch per workload (default 3), interleaved
  --veth      also the system-port benchmark on veth pairs (needs --send,
              utilities/ctdp-bench-send); --veth-only runs only that
  --threads   also ctdp's two datapath threads against one (no OVS);
              --threads-only runs only that; --threads-workloads picks
              among b and c (default both)
  --markdown  replaces the block between the markers below in FILE

Method (after /work/shared/bench/OVS-NETDEV.md, the measured recipe this
follows; "recipe" below):

  Both switches run the same OpenFlow stateful firewall (FLOWS below) on
  one datapath thread, read the same captures from page cache and discard
  what they send:

  - Open vSwitch 3.1 (DPDK 22.11 build): p1 and p2 are DPDK net_pcap vdevs
    reading the captures (no tx_pcap: transmitted packets are freed), one
    PMD thread on core 1, everything else on core 0.  The start is the
    recipe's "isolation trick" (section 4): a net_null port pins the PMD,
    p1/p2 are pinned to core 0, which has no PMD, and re-pinning a port to
    core 1 starts the phase.  Mpps = packets / (first poll of
    `dpctl/show -s` that counts them all - last poll that counted none),
    polled every 0.5 ms over one unixctl connection (recipe section 6).

  - ctdp: `ctdpd` on core 1 (all its threads), with pcap ports, which the
    main thread reads and runs through the datapath; the phase starts when
    a pcap port is added (`add-port`) and ends when the input is used up.
    Both instants are lines of ctdpd's own log ("added port ... (pcap)",
    "pcap input ended"), with millisecond timestamps, so that timing does
    not interrupt the thread being timed (the runner, on core 0, only
    reads the log file).  The other port of a phase is a pcap port whose
    capture is empty and that has no tx capture: it frees what is sent to
    it, as the net_pcap vdevs do (a dummy port would take a mutex per
    packet).

  Workloads a, b, c (recipe section 5) have two phases, each measured on
  its own: the forward capture in on port 1 (every packet +trk+new in both
  switches, since a UDP conn stays new until a reply), then the reply
  capture in on port 2 (+trk+est).  Workload m (ctdp-bench-dp.c's mixed
  TCP/UDP/ICMP flows) is one phase with both captures at once: ctdpd takes
  them from the command line and merges them by timestamp (the phase
  starts at its "serving" log line), Open vSwitch re-pins both ports in one
  transaction and its PMD polls them in turn (every reply is checked to
  have found its conn: see the checks).

  Each run starts fresh daemons; the runs alternate ctdp and Open vSwitch
  (A B A B ...) and the report gives medians (min-max).

  --veth: a sender (ctdp-bench-send, sendmmsg on AF_PACKET) in a network
  namespace sends each forward capture into a veth pair whose other end is
  a `system` port of the switch; the switch forwards into a second veth
  pair whose far end, in a second namespace, drops the frames (wrong MAC).
  Open vSwitch runs its plain netdev datapath (no DPDK init; the main
  thread polls system ports), ctdpd one receive thread (--n-threads=1);
  each switch on core 1, the sender on core 0.  Mpps forwarded = frames
  out of the second pair / the time between the first and last change of
  that counter, polled every 2 ms (recipe section 8).

  --threads: ctdp alone, two datapath threads against one, on workloads
  (b) and (c) split in two by flow (the *-1of2 and *-2of2 captures of
  ctdp-bench-pcaps.py: even flows, odd flows).  Each half is a pcap port
  with mode=poll, read as fast as it can be by a receive thread (as a
  net_pcap port by a PMD thread): ports 1 and 3 take the forward halves,
  then ports 2 and 4 the reply halves (ports 3 and 4 are a second inside
  and outside port in THREAD_FLOWS).  The same two ports run on
  `--n-threads=2` with ctdpd on cores 0 and 1 (each port on a thread of
  its own) and on `--n-threads=1` with ctdpd on core 1; runs alternate
  between the two.  The forward ports are on the command line, so that
  both start within microseconds; the reply ports are added with two
  add-port calls.  A phase's time runs from its first port's "added port"
  log line to the last of its ports' "pcap input ended on port" lines;
  the checks are those of the other ctdp runs, and each port of a phase
  must have run on a thread of its own (on the same one, with one).  The
  runner also reads the receive threads' CPU time from /proc before and
  after each phase: CPU ns per packet, which other load on the machine
  changes less than the rate, tells what running on two threads costs.

Every failure is one line on stderr and exit status 1; every wait has a
timeout; daemons, namespaces and veths are removed on exit, failure or not.
"""
import argparse
import atexit
import hashlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN_MARK = "<!-- ctdp-bench-netdev results: begin -->"
END_MARK = "<!-- ctdp-bench-netdev results: end -->"
CMD_TIMEOUT = 60            # Seconds for any one command.
PHASE_TIMEOUT = 120         # Seconds for one phase.

# The recipe's flows-fw.txt (section 4), with its `arp,actions=NORMAL`
# written as two outputs: ctdp refuses the NORMAL action, and with two
# ports both mean the same.  No ARP is sent anyway.
FLOWS = """\
table=0,priority=100,ip,actions=ct(table=1,zone=1)
table=0,priority=10,arp,in_port=1,actions=output:2
table=0,priority=10,arp,in_port=2,actions=output:1
table=0,priority=0,actions=drop
table=1,priority=100,ct_state=+trk+new,ip,in_port=1,actions=ct(commit,zone=1),output:2
table=1,priority=100,ct_state=+trk+est,ip,in_port=1,actions=output:2
table=1,priority=100,ct_state=+trk+est,ip,in_port=2,actions=output:1
table=1,priority=90,ct_state=+trk+inv,ip,actions=drop
table=1,priority=0,actions=drop
"""

# FLOWS with a second inside port (3, out of port 2) and a second outside
# port (4, out of port 1), for --threads.
THREAD_FLOWS = FLOWS + """\
table=1,priority=100,ct_state=+trk+new,ip,in_port=3,actions=ct(commit,zone=1),output:2
table=1,priority=100,ct_state=+trk+est,ip,in_port=3,actions=output:2
table=1,priority=100,ct_state=+trk+est,ip,in_port=4,actions=output:1
"""

# name: (description, phases); a phase is (label, [(ofport, capture)],
# packets).  Captures are those of ctdp-bench-pcaps.py.
WORKLOADS = {
    "a": ("1 UDP flow x 1M pkts", [
        ("forward", [(1, "a-1flow.pcap")], 1_000_000),
        ("replies", [(2, "a-1flow-reply.pcap")], 1_000_000)]),
    "b": ("100k UDP flows x 10 pkts, random order", [
        ("forward", [(1, "b-100kx10.pcap")], 1_000_000),
        ("replies", [(2, "b-100kx10-reply.pcap")], 1_000_000)]),
    "c": ("1M new UDP flows x 1 pkt", [
        ("forward", [(1, "c-1Mx1.pcap")], 1_000_000),
        ("replies", [(2, "c-1Mx1-reply.pcap")], 1_000_000)]),
    "m": ("ctdp's mixed TCP/UDP/ICMP capture (30k flows x 25 pkts)", [
        ("both ways", [(1, "m-mixed-in.pcap"), (2, "m-mixed-out.pcap")],
         750_000)]),
}
# Conns each workload leaves.
CONNS = {"a": 1, "b": 100_000, "c": 1_000_000, "m": 30_000}

# --threads: the workloads split in two by flow; a phase is (label,
# [(ofport, capture)] for its two polled ports, packets).
THREAD_WORKLOADS = {
    wl: [("forward", [(1, f"{name}-1of2.pcap"), (3, f"{name}-2of2.pcap")],
          1_000_000),
         ("replies", [(2, f"{name}-1of2-reply.pcap"),
                      (4, f"{name}-2of2-reply.pcap")], 1_000_000)]
    for wl, name in (("b", "b-100kx10"), ("c", "c-1Mx1"))}
# ctdpd's cores for each number of datapath threads.
THREAD_CPUS = {1: "1", 2: "0,1"}


class BenchError(Exception):
    """A failure: reported as one line, exit status 1."""


def run(cmd, env=None, timeout=CMD_TIMEOUT, check=True):
    """Runs 'cmd' (a list); returns its stdout.  Raises BenchError naming
    the command if it fails or times out."""
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"timed out after {timeout} s: {' '.join(cmd)}")
    except OSError as e:
        raise BenchError(f"{cmd[0]}: {e.strerror}")
    if check and r.returncode:
        err = (r.stderr.strip() or r.stdout.strip()).splitlines()
        raise BenchError(f"{' '.join(cmd)}: exit {r.returncode}"
                         + (f": {err[-1]}" if err else ""))
    return r.stdout


class Unixctl:
    """An Open vSwitch unixctl (JSON-RPC over a unix socket) client, for
    fast polling; ctdpd speaks the same protocol (recipe appendix D)."""

    def __init__(self, path, timeout=CMD_TIMEOUT):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        try:
            self.s.connect(path)
        except OSError as e:
            raise BenchError(f"{path}: {e.strerror}")
        self.id = 0
        self.buf = ""
        self.dec = json.JSONDecoder()

    def call(self, method, *params):
        self.id += 1
        self.s.sendall(json.dumps({"method": method, "params": list(params),
                                   "id": self.id}).encode())
        while True:
            try:
                obj, end = self.dec.raw_decode(self.buf.lstrip())
            except ValueError:
                try:
                    data = self.s.recv(1 << 20)
                except socket.timeout:
                    raise BenchError(f"no answer to {method}")
                if not data:
                    raise BenchError(f"connection closed during {method}")
                self.buf += data.decode()
                continue
            self.buf = self.buf.lstrip()[end:]
            if obj.get("id") != self.id:
                continue
            if obj.get("error"):
                raise BenchError(f"{method}: {obj['error'].strip()}")
            return obj["result"]

    def close(self):
        self.s.close()


def wait_until(what, cond, timeout, interval=0.01):
    """Polls cond() until it returns a true value, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def warm(paths):
    """Reads the captures once, so that both switches read page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 22):
                pass


# ---- Captures ----------------------------------------------------------------

def ensure_pcaps(pdir):
    """Generates the captures into 'pdir' unless a stamp says that the
    current generator already did."""
    gen = os.path.join(HERE, "ctdp-bench-pcaps.py")
    with open(gen, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    stamp = os.path.join(pdir, ".generated")
    try:
        if open(stamp).read().strip() == digest:
            return
    except OSError:
        pass
    os.makedirs(pdir, exist_ok=True)
    print(f"generating the captures into {pdir}", flush=True)
    run(["/usr/bin/python3", gen, pdir], timeout=600)
    with open(stamp, "w") as f:
        f.write(digest + "\n")


# ---- Open vSwitch ------------------------------------------------------------

class Ovs:
    """A private Open vSwitch (the build of build-aux/ovs-dpdk.sh) under a
    scratch directory: nothing is written to system paths (recipe
    appendix A).  With 'dpdk', ovs-vswitchd initialises DPDK without
    hugepages in a private mount namespace whose /run is the scratch
    directory's, since EAL always creates /run/dpdk as root."""

    def __init__(self, cache, scratch, dpdk):
        self.b = os.path.join(cache, "openvswitch")
        lib = os.path.join(cache, "dpdkroot/usr/lib/x86_64-linux-gnu")
        self.scratch = scratch
        self.dpdk = dpdk
        self.rundir = os.path.join(scratch, "ovs-run")
        self.env = dict(os.environ, OVS_RUNDIR=self.rundir,
                        OVS_DBDIR=self.rundir, OVS_LOGDIR=self.rundir,
                        OVS_SYSCONFDIR=self.rundir, OVS_PKGDATADIR=self.b,
                        LD_LIBRARY_PATH=f"{lib}:{lib}/dpdk/pmds-23.0")
        self.ctl = None
        self.pids = {}

    def prog(self, rel):
        return os.path.join(self.b, rel)

    def vsctl(self, *args):
        return run([self.prog("utilities/ovs-vsctl"), "--timeout=30", *args],
                   env=self.env)

    def start(self, taskset):
        """Starts ovsdb-server and ovs-vswitchd ('taskset': its cpu list)."""
        os.makedirs(self.rundir, exist_ok=True)
        db = os.path.join(self.rundir, "conf.db")
        if os.path.exists(db):
            os.unlink(db)
        run([self.prog("ovsdb/ovsdb-tool"), "create", db,
             self.prog("vswitchd/vswitch.ovsschema")], env=self.env)
        run([self.prog("ovsdb/ovsdb-server"),
             f"--remote=punix:{self.rundir}/db.sock",
             f"--pidfile={self.rundir}/ovsdb-server.pid", "--detach",
             "--no-chdir", f"--log-file={self.rundir}/ovsdb-server.log", db],
            env=self.env)
        self.pids["ovsdb-server"] = self.read_pid("ovsdb-server")
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:pmd-cpu-mask=0x2")
        if self.dpdk:
            # Recipe appendix B: no hugepages (--legacy-mem keeps OVS from
            # adding --in-memory, which EAL refuses with --no-huge); the
            # drivers as sonames, found through LD_LIBRARY_PATH.
            self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                       "other_config:dpdk-init=true",
                       "other_config:dpdk-alloc-mem=1024",
                       'other_config:dpdk-extra="--no-huge --legacy-mem '
                       '--no-shconf --no-telemetry '
                       '-d librte_bus_vdev.so.23 -d librte_mempool_ring.so.23 '
                       '-d librte_net_pcap.so.23 -d librte_net_null.so.23"')
        cmd = ["taskset", "-c", taskset, self.prog("vswitchd/ovs-vswitchd"),
               f"--pidfile={self.rundir}/ovs-vswitchd.pid", "--detach",
               "--no-chdir", f"--log-file={self.rundir}/ovs-vswitchd.log",
               f"unix:{self.rundir}/db.sock"]
        if self.dpdk:
            fakerun = os.path.join(self.scratch, "fakerun")
            os.makedirs(fakerun, exist_ok=True)
            cmd = ["unshare", "-m", "sh", "-c",
                   'mount --bind "$0" /run && exec "$@"', fakerun, *cmd]
        run(cmd, env=self.env)
        self.pids["ovs-vswitchd"] = self.read_pid("ovs-vswitchd")
        pid = self.pids["ovs-vswitchd"]
        self.ctl = Unixctl(f"{self.rundir}/ovs-vswitchd.{pid}.ctl")

    def read_pid(self, name):
        return int(open(f"{self.rundir}/{name}.pid").read())

    def stop(self):
        """Stops both daemons; `exit --cleanup` also removes the netdev
        datapath's tap devices (recipe section 10, pitfall 6)."""
        if self.ctl:
            self.ctl.close()
            self.ctl = None
        for name in ("ovs-vswitchd", "ovsdb-server"):
            pid = self.pids.pop(name, None)
            if pid is None:
                continue
            args = ["exit", "--cleanup"] if name == "ovs-vswitchd" else ["exit"]
            run([self.prog("utilities/ovs-appctl"), "--timeout=10", "-t",
                 f"{self.rundir}/{name}.{pid}.ctl", *args], env=self.env,
                check=False)
            stop_pid(pid)

    def add_flows(self, flows_file):
        run([self.prog("utilities/ovs-ofctl"), "del-flows", "br0"],
            env=self.env)
        run([self.prog("utilities/ovs-ofctl"), "add-flows", "br0",
             flows_file], env=self.env)

    def port_stats(self):
        out = self.ctl.call("dpctl/show", "-s")
        return {m.group(1): (int(m.group(2)), int(m.group(3)))
                for m in re.finditer(r"port \d+: (\S+) .*?\n\s+RX packets:(\d+)"
                                     r".*?\n\s+TX packets:(\d+)", out, re.S)}

    def nconns(self):
        return int(self.ctl.call("dpctl/ct-get-nconns").strip())

    def of_counts(self):
        """n_packets of each OpenFlow flow, by its match (for the checks)."""
        out = run([self.prog("utilities/ovs-ofctl"), "dump-flows", "br0"],
                  env=self.env)
        return flow_counts(out)


def alive(pid):
    """Whether 'pid' runs: a detached daemon that exited is reparented to
    init and may stay a zombie for a while, which counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_pid(pid, grace=10):
    """Waits up to 'grace' seconds for 'pid' to exit, then kills it."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def flow_counts(dump):
    """{match: n_packets} from a dump-flows listing (OVS's or ctdp's)."""
    counts = {}
    for line in dump.splitlines():
        m = re.search(r"table=(\d+), n_packets=(\d+),.*? (priority=\S*)", line)
        if m:
            counts[f"table={m.group(1)},{m.group(3)}"] = int(m.group(2))
    return counts


def check_counts(who, counts):
    """Raises unless no packet hit a drop flow of table 1 (invalid, or a
    new conn from outside): every packet must have been tracked as the
    workload means."""
    drops = sum(n for k, n in counts.items()
                if k.startswith("table=1,") and ("+inv" in k or k.endswith("priority=0")))
    if drops:
        raise BenchError(f"{who}: {drops} packets dropped by the firewall "
                         f"(expected none): {counts}")


def ovs_phase(ovs, ports, n_expect):
    """Re-pins 'ports' (names) to the PMD and times them until their rx
    counters add up to 'n_expect' (recipe section 6); returns seconds."""
    pin = []
    for p in ports:
        pin += ["--", "set", "interface", p, "other_config:pmd-rxq-affinity=0:1"]
    base = sum(ovs.port_stats()[p][0] for p in ports)
    proc = subprocess.Popen([ovs.prog("utilities/ovs-vsctl"), "--timeout=30",
                             *pin], env=ovs.env)
    t0 = t_prev = time.monotonic()
    t_start = None
    try:
        while True:
            st = ovs.port_stats()
            now = time.monotonic()
            rx = sum(st[p][0] for p in ports) - base
            if rx and t_start is None:
                t_start = t_prev        # The last poll that saw none.
            if rx >= n_expect:
                break
            if now - t0 > PHASE_TIMEOUT:
                raise BenchError(f"ovs: {ports}: {rx} of {n_expect} packets "
                                 f"after {PHASE_TIMEOUT} s")
            t_prev = now
            time.sleep(0.0005)
    finally:
        try:
            proc.wait(timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
    return now - t_start


def ovs_run(ctx, wl):
    """One run of workload 'wl' in Open vSwitch; returns a list of (label,
    packets, seconds) per phase."""
    pdir, flows_file = ctx["pcaps"], ctx["flows"]
    phases = WORKLOADS[wl][1]
    ovs = Ovs(ctx["ovs"], ctx["scratch"], dpdk=True)
    try:
        ovs.start(taskset="0")
        # The isolating port first, in its own transaction (recipe
        # section 4): it makes the PMD on core 1 isolated, so that p1 and
        # p2, pinned to core 0 (no PMD), are not polled until re-pinned.
        ovs.vsctl("add-br", "br0", "--", "set", "bridge", "br0",
                  "datapath_type=netdev", "--", "add-port", "br0", "p3", "--",
                  "set", "interface", "p3", "type=dpdk", "ofport_request=3",
                  'options:dpdk-devargs="net_null0,no-rx=1"',
                  "other_config:pmd-rxq-affinity=0:1")
        captures = dict(c for ph in phases for c in ph[1])
        args = []
        for ofport in (1, 2):
            devargs = f"net_pcap{ofport - 1}"
            if ofport in captures:
                devargs += f",rx_pcap={pdir}/{captures[ofport]}"
            else:                       # Never read: an empty capture.
                devargs += f",rx_pcap={ctx['empty']}"
            args += ["--", "add-port", "br0", f"p{ofport}", "--", "set",
                     "interface", f"p{ofport}", "type=dpdk",
                     f"ofport_request={ofport}",
                     f'options:dpdk-devargs="{devargs}"',
                     "other_config:pmd-rxq-affinity=0:0"]
        ovs.vsctl(*args)
        ovs.add_flows(flows_file)
        time.sleep(1.0)
        st = ovs.port_stats()
        if st.get("p1", (1,))[0] or st.get("p2", (1,))[0]:
            raise BenchError(f"ovs: ports read before the start: {st}")
        out = []
        for label, inputs, n in phases:
            secs = ovs_phase(ovs, [f"p{o}" for o, _ in inputs], n)
            out.append((label, n, secs))
        time.sleep(0.3)
        st = ovs.port_stats()
        sent = st["p1"][1] + st["p2"][1]
        total = sum(n for _, _, n in phases)
        if sent != total or ovs.nconns() != CONNS[wl]:
            raise BenchError(f"ovs: workload {wl}: {sent} of {total} packets "
                             f"sent, {ovs.nconns()} conns (expected "
                             f"{CONNS[wl]})")
        return out
    finally:
        ovs.stop()


# ---- ctdp --------------------------------------------------------------------

LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z\|\d+\|(\S+)\|\w+\|(.*)$")


def log_events(path, threads=False):
    """(seconds, message) of each line of a ctdpd log, in order; with
    'threads', (seconds, message, thread) ("main", or the thread's name
    that vlog puts after the module's)."""
    events = []
    with open(path) as f:
        for line in f:
            m = LOG_TIME.match(line.rstrip("\n"))
            if m:
                t = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
                ev = (t + int(m.group(1)[20:]) / 1000, m.group(3))
                if threads:
                    th = re.search(r"\((\w+)\)$", m.group(2))
                    ev += (th.group(1) if th else "main",)
                events.append(ev)
    return events


class Ctdp:
    """A ctdpd on core 1, with its socket, pidfile and log in the scratch
    directory."""

    def __init__(self, ctdpd, scratch):
        self.ctdpd = ctdpd
        self.dir = os.path.join(scratch, "ctdp-run")
        self.log = os.path.join(self.dir, "ctdpd.log")
        self.sock = os.path.join(self.dir, "ctdpd.ctl")
        # Named here, not after the program: a ctdpd by another name (a
        # copy of a build to compare) would otherwise write a pidfile the
        # runner does not find, and be left running.
        self.pidfile = os.path.join(self.dir, "ctdpd.pid")
        self.ctl = None
        self.pid = None

    def start(self, ports, flows_file, extra=(), cpus="1"):
        os.makedirs(self.dir, exist_ok=True)
        for f in (self.log,):
            if os.path.exists(f):
                os.unlink(f)
        env = dict(os.environ, CTDP_RUNDIR=self.dir, OVS_RUNDIR=self.dir,
                   TZ="UTC")
        run(["taskset", "-c", cpus, self.ctdpd, "--detach", "--no-chdir",
             f"--pidfile={self.pidfile}", f"--log-file={self.log}",
             f"--unixctl={self.sock}", f"--flows={flows_file}", *extra,
             *[f"--port={p}" for p in ports]], env=env)
        self.pid = int(open(self.pidfile).read())
        self.ctl = Unixctl(self.sock)

    def stop(self):
        if self.ctl:
            try:
                self.ctl.call("exit")
            except BenchError:
                pass
            self.ctl.close()
            self.ctl = None
        if self.pid:
            stop_pid(self.pid)
            self.pid = None

    def fed(self):
        m = re.search(r"pcap input: (\d+) packets fed",
                      self.ctl.call("show"))
        return int(m.group(1)) if m else 0

    def wait_ended(self, start_pat):
        """Waits until the log holds a "pcap input ended" line after the
        last line matching 'start_pat', reading the log file only (the
        daemon is not disturbed)."""
        return wait_until("ctdpd's pcap input to end",
                          lambda: phase_end(log_events(self.log), start_pat),
                          PHASE_TIMEOUT)


def phase_end(events, start_pat):
    """(start, end) times of the phase that the last log line matching
    'start_pat' began, or None if its input has not ended yet: the first
    "pcap input ended" line after it (an empty sink capture ends at once,
    before)."""
    lines = [(i, t) for i, (t, m) in enumerate(events)
             if re.search(start_pat, m)]
    if not lines:
        return None
    start_i, start = lines[-1]
    ends = [t for t, m in events[start_i + 1:]
            if m.startswith("pcap input ended:")]
    return (start, ends[0]) if ends else None


def ctdp_phase_time(events, start_pat):
    """Seconds from the last log line matching 'start_pat' to the first
    "pcap input ended" line after it."""
    span = phase_end(events, start_pat)
    if not span:
        raise BenchError("ctdpd's log lacks the phase's start or end")
    return span[1] - span[0]


def ctdp_run(ctx, wl):
    """One run of workload 'wl' in ctdpd; returns [(label, packets,
    seconds)] per phase, as ovs_run()."""
    pdir, phases = ctx["pcaps"], WORKLOADS[wl][1]
    d = Ctdp(ctx["ctdpd"], ctx["scratch"])
    out = []
    try:
        if len(phases[0][1]) > 1:
            # Both captures at once, merged by timestamp from the start.
            label, inputs, n = phases[0]
            d.start([f"p{o}=pcap:rx={pdir}/{c},ofport={o}" for o, c in inputs],
                    ctx["flows"])
            d.wait_ended(r"^ctdpd .* serving ")
            out.append((label, n, ctdp_phase_time(log_events(d.log),
                                                  r"^ctdpd .* serving ")))
        else:
            # Forward: port 1 reads, port 2 is a sink; then replies: port
            # 2 reads, port 1 is a sink.
            sink = f"pcap:rx={ctx['empty']}"
            d.start([f"out-sink={sink},ofport=2"], ctx["flows"],
                    ["--n-threads=1"])
            for i, (label, ((ofport, cap),), n) in enumerate(phases):
                if i:
                    d.ctl.call("del-port", "p1")
                    d.ctl.call("add-port", f"in-sink={sink},ofport=1")
                    d.ctl.call("del-port", "out-sink")
                start = rf"^added port p{ofport} \(pcap\)"
                d.ctl.call("add-port", f"p{ofport}=pcap:rx={pdir}/{cap},"
                           f"ofport={ofport}")
                d.wait_ended(start)
                out.append((label, n, ctdp_phase_time(log_events(d.log),
                                                      start)))
        fed = d.fed()
        total = sum(n for _, _, n in phases)
        show = d.ctl.call("show")
        nconns = int(re.search(r"conns: (\d+)", show).group(1))
        drops = re.search(r"drops: (.*)", show).group(1)
        if fed != total or nconns != CONNS[wl] or re.search(r"=[1-9]", drops):
            raise BenchError(f"ctdp: workload {wl}: {fed} of {total} packets "
                             f"fed, {nconns} conns (expected {CONNS[wl]}), "
                             f"drops {drops}")
        check_counts("ctdp", flow_counts(d.ctl.call("dump-flows")))
        return out
    finally:
        d.stop()


# ---- ctdp on two threads -----------------------------------------------------

POLL_END = re.compile(r"^pcap input ended (early )?on port (\S+): (\d+) "
                      r"packets read")


def polled_span(events, start_pat, ports):
    """(start, end, {port: thread}) of a phase of polled pcap ports: the
    time of the last log line matching 'start_pat', that of the last of
    'ports'' "pcap input ended on port" lines after it, and the thread
    that logged each; None until all of them have ended."""
    lines = [i for i, ev in enumerate(events) if re.search(start_pat, ev[1])]
    if not lines:
        return None
    ends, threads = {}, {}
    for t, m, thread in events[lines[-1] + 1:]:
        e = POLL_END.match(m)
        if e and e.group(2) in ports:
            if e.group(1):
                raise BenchError(f"ctdp: {m}")
            ends[e.group(2)], threads[e.group(2)] = t, thread
    if len(ends) < len(ports):
        return None
    return events[lines[-1]][0], max(ends.values()), threads


def polled_port(pdir, ofport, capture):
    return f"p{ofport}=pcap:rx={pdir}/{capture},mode=poll,ofport={ofport}"


def check_threads_run(d, wl, n_threads, spans):
    """Raises unless the run of 'wl' on 'n_threads' read every record of
    every half, left the workload's conns, dropped nothing, and ran the
    two ports of each phase on two threads, or with one on that one."""
    show = d.ctl.call("show")
    for label, inputs, n in THREAD_WORKLOADS[wl]:
        for ofport, _ in inputs:
            if not re.search(rf"p{ofport} \(pcap: rx=\S+, mode=poll, "
                             rf"{n // len(inputs)} packets read, ended\)",
                             show):
                raise BenchError(f"ctdp: workload {wl} {label}: port "
                                 f"p{ofport} did not read its half: {show}")
        n_used = len(set(spans[label].values()))
        if n_used != min(n_threads, len(inputs)):
            raise BenchError(f"ctdp: workload {wl} {label} on {n_threads} "
                             f"threads: its ports ran on {spans[label]}")
    nconns = int(re.search(r"conns: (\d+)", show).group(1))
    drops = re.search(r"drops: (.*)", show).group(1)
    if nconns != CONNS[wl] or re.search(r"=[1-9]", drops):
        raise BenchError(f"ctdp: workload {wl} on {n_threads} threads: "
                         f"{nconns} conns (expected {CONNS[wl]}), drops "
                         f"{drops}")
    check_counts("ctdp", flow_counts(d.ctl.call("dump-flows")))


def rx_cpu(pid):
    """Seconds of CPU that ctdpd 'pid''s receive threads ("ctdp_rx*") have
    used, from /proc (10 ms ticks)."""
    ticks = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError as e:
        raise BenchError(f"ctdpd {pid}: {e.strerror}")
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                stat = f.read()
        except OSError:
            continue                    # The thread has just gone.
        name, rest = stat[stat.index("(") + 1:].rsplit(")", 1)
        if name.startswith("ctdp_rx"):
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])     # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def ctdp_threads_run(ctx, wl, n_threads):
    """One run of workload 'wl''s halves in ctdpd on 'n_threads' datapath
    threads; returns [(label, packets, seconds, CPU seconds of the receive
    threads)] per phase."""
    pdir, phases = ctx["pcaps"], THREAD_WORKLOADS[wl]
    d = Ctdp(ctx["ctdpd"], ctx["scratch"])
    out, spans = [], {}
    cpu = 0.0                           # The threads start with the daemon.
    try:
        # The sink first: the polled ports send to it from the start.
        d.start([f"out-sink=pcap:rx={ctx['empty']},ofport=2"]
                + [polled_port(pdir, o, c) for o, c in phases[0][1]],
                ctx["thread_flows"], [f"--n-threads={n_threads}"],
                cpus=THREAD_CPUS[n_threads])
        for i, (label, inputs, n) in enumerate(phases):
            if i:
                # Replies go out of port 1, whose capture has ended.
                cpu = rx_cpu(d.pid)
                d.ctl.call("del-port", "out-sink")
                for o, c in inputs:
                    d.ctl.call("add-port", polled_port(pdir, o, c))
            start = rf"^added port p{inputs[0][0]} \(pcap\)"
            ports = [f"p{o}" for o, _ in inputs]
            t0, t1, spans[label] = wait_until(
                f"ctdpd's polled ports {ports} to end",
                lambda: polled_span(log_events(d.log, True), start, ports),
                PHASE_TIMEOUT, interval=0.05)
            out.append((label, n, t1 - t0, rx_cpu(d.pid) - cpu))
        check_threads_run(d, wl, n_threads, spans)
        return out
    finally:
        d.stop()


def bench_threads(ctx, workloads, runs):
    """Runs each workload's halves 'runs' times on one and on two threads,
    alternating; returns rows (workload, phase, {1: Mpps list, 2: Mpps
    list}, {1: CPU ns per packet list, 2: ...})."""
    res = {}
    for r in range(runs):
        for wl in workloads:
            warm(f"{ctx['pcaps']}/{c}" for ph in THREAD_WORKLOADS[wl]
                 for _, c in ph[1])
            for n_threads in (1, 2):
                for label, n, secs, cpu in ctdp_threads_run(ctx, wl,
                                                            n_threads):
                    mpps = n / secs / 1e6
                    v = res.setdefault((wl, label), ({1: [], 2: []},
                                                     {1: [], 2: []}))
                    v[0][n_threads].append(mpps)
                    v[1][n_threads].append(cpu / n * 1e9)
                    print(f"  run {r + 1} {wl} {label}: ctdp {n_threads} "
                          f"thread{'s' if n_threads > 1 else ''} "
                          f"{mpps:.3f} Mpps ({n} packets in "
                          f"{secs * 1e3:.0f} ms; receive threads' CPU "
                          f"{cpu * 1e3:.0f} ms)", flush=True)
    return [(wl, label, mpps, cpu) for (wl, label), (mpps, cpu)
            in res.items()]


# ---- The pcap benchmark ------------------------------------------------------

def fmt(v):
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def summary(xs):
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}-{fmt(max(xs))})"


def bench_pcap(ctx, workloads, runs):
    """Runs each workload 'runs' times in each switch, alternating; returns
    rows (workload, phase, ctdp Mpps list, ovs Mpps list)."""
    res = {}
    for r in range(runs):
        for wl in workloads:
            warm(f"{ctx['pcaps']}/{c}" for ph in WORKLOADS[wl][1]
                 for _, c in ph[1])
            for who, fn in (("ctdp", ctdp_run), ("ovs", ovs_run)):
                for label, n, secs in fn(ctx, wl):
                    mpps = n / secs / 1e6
                    res.setdefault((wl, label), {"ctdp": [], "ovs": []})[who].append(mpps)
                    print(f"  run {r + 1} {wl} {label}: {who} {mpps:.3f} Mpps "
                          f"({n} packets in {secs * 1e3:.0f} ms)", flush=True)
    return [(wl, label, v["ctdp"], v["ovs"]) for (wl, label), v in res.items()]


# ---- The system-port (veth) benchmark -----------------------------------------

VETH = ("ctdpb-v1", "ctdpb-v2")       # Switch ends; peers get an "n".


class Veths:
    """Two network namespaces, held by `unshare -n sleep` processes (so
    nothing is written to /run/netns), and two veth pairs: VETH[0] (the
    switch's port 1) to its peer in namespace 1, where the sender runs;
    VETH[1] (port 2) to its peer in namespace 2, whose MAC the forwarded
    frames do not carry, so that they are dropped on arrival (recipe
    section 8).  IPv6 is off on all four ends: no neighbour discovery
    noise."""

    def __init__(self):
        self.holders = []
        self.links = []

    def setup(self):
        for _ in range(2):
            p = subprocess.Popen(["unshare", "-n", "sleep", "100000"])
            self.holders.append(p)
        time.sleep(0.2)
        for i, (dev, p) in enumerate(zip(VETH, self.holders)):
            peer = dev + "n"
            run(["ip", "link", "add", dev, "type", "veth", "peer", "name",
                 peer])
            self.links.append(dev)
            run(["sysctl", "-q", "-w", f"net.ipv6.conf.{dev}.disable_ipv6=1"])
            run(["ip", "link", "set", peer, "netns", str(p.pid)])
            mac = "02:00:00:00:00:01" if i == 0 else "02:00:00:00:00:22"
            run(["nsenter", "-t", str(p.pid), "-n", "sh", "-c",
                 f"sysctl -q -w net.ipv6.conf.{peer}.disable_ipv6=1 && "
                 f"ip link set lo up && ip link set {peer} address {mac} up"])
            run(["ip", "link", "set", dev, "up"])

    def cleanup(self):
        for dev in self.links:
            run(["ip", "link", "del", dev], check=False)
        self.links = []
        for p in self.holders:
            p.kill()
            p.wait()
        self.holders = []


def sysfs(dev, what):
    with open(f"/sys/class/net/{dev}/statistics/{what}") as f:
        return int(f.read())


def veth_send(ctx, veths, capture):
    """Sends 'capture' from namespace 1 (core 0) while polling VETH[1]'s
    tx counter every 2 ms; returns (frames forwarded, seconds between the
    first and last change, the sender's line)."""
    samples = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            samples.append((time.monotonic(), sysfs(VETH[1], "tx_packets")))
            time.sleep(0.002)

    base = sysfs(VETH[1], "tx_packets")
    th = threading.Thread(target=poll)
    th.start()
    try:
        line = run(["nsenter", "-t", str(veths.holders[0].pid), "-n",
                    "taskset", "-c", "0", ctx["send"], VETH[0] + "n",
                    capture], timeout=PHASE_TIMEOUT).strip()
        # Until the switch's output stops moving.
        prev = None
        deadline = time.monotonic() + PHASE_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(0.05)
            cur = sysfs(VETH[1], "tx_packets")
            if cur == prev:
                break
            prev = cur
    finally:
        stop.set()
        th.join()
    moved = [t for (t, v), (_, pv) in zip(samples[1:], samples[:-1]) if v != pv]
    fwd = samples[-1][1] - base
    if len(moved) < 2 or not fwd:
        raise BenchError(f"nothing forwarded from {capture} ({line})")
    return fwd, moved[-1] - moved[0], line


def veth_run(ctx, veths, who, wl):
    """One veth run of workload 'wl''s forward capture through 'who';
    returns (Mpps forwarded, frames forwarded, the sender's line)."""
    capture = f"{ctx['pcaps']}/{WORKLOADS[wl][1][0][1][0][1]}"
    if who == "ctdp":
        d = Ctdp(ctx["ctdpd"], ctx["scratch"])
        try:
            d.start([f"{VETH[0]}=system:ofport=1",
                     f"{VETH[1]}=system:ofport=2"], ctx["flows"],
                    ["--n-threads=1"])
            time.sleep(0.5)
            fwd, secs, line = veth_send(ctx, veths, capture)
        finally:
            d.stop()
    else:
        ovs = Ovs(ctx["ovs"], ctx["scratch"], dpdk=False)
        try:
            ovs.start(taskset="1")
            ovs.vsctl("add-br", "br0", "--", "set", "bridge", "br0",
                      "datapath_type=netdev",
                      "--", "add-port", "br0", VETH[0], "--", "set",
                      "interface", VETH[0], "ofport_request=1",
                      "--", "add-port", "br0", VETH[1], "--", "set",
                      "interface", VETH[1], "ofport_request=2")
            ovs.add_flows(ctx["flows"])
            time.sleep(1.0)
            fwd, secs, line = veth_send(ctx, veths, capture)
        finally:
            ovs.stop()
    return fwd / secs / 1e6, fwd, line


def bench_veth(ctx, workloads, runs):
    veths = Veths()
    ctx["cleanups"].append(veths.cleanup)
    veths.setup()
    res = {}
    for r in range(runs):
        for wl in workloads:
            warm([f"{ctx['pcaps']}/{WORKLOADS[wl][1][0][1][0][1]}"])
            for who in ("ctdp", "ovs"):
                mpps, fwd, line = veth_run(ctx, veths, who, wl)
                res.setdefault(wl, {"ctdp": [], "ovs": []})[who].append(mpps)
                print(f"  run {r + 1} {wl} veth: {who} {mpps:.3f} Mpps "
                      f"({fwd} forwarded; sender: {line})", flush=True)
    veths.cleanup()
    return [(wl, "forward, veth", v["ctdp"], v["ovs"]) for wl, v in res.items()]


# ---- Report ------------------------------------------------------------------

def report(rows, thread_rows, args, started):
    """The results block (Markdown), also printed."""
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    out = [BEGIN_MARK, "### Run", "",
           f"- Command: `{' '.join(sys.argv)}`",
           f"- Date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime(started))}"
           f"-{time.strftime('%H:%M UTC', time.gmtime())}",
           f"- CPU: {cpu}, {os.cpu_count()} online CPUs; load average before "
           f"the run: {args.loadavg}",
           f"- Kernel: {' '.join(os.uname()[2:4])}"]
    if rows:
        out.append(f"- Runs: {args.runs} per switch and workload, "
                   "interleaved (ctdp, OVS, ctdp, OVS, ...); median "
                   "(min-max)")
    if thread_rows:
        out.append(f"- Threads: {args.runs} runs per thread count and "
                   "workload, interleaved (1, 2, 1, 2, ...); median "
                   "(min-max); ctdpd on core 1 with one thread, on cores 0 "
                   "and 1 with two")
    out += ["", "### Results", ""]
    if rows:
        out += ["| Workload | Phase | ctdp Mpps | OVS Mpps | ctdp/OVS |",
                "|---|---|---|---|---:|"]
    for wl, label, c, o in rows:
        ratio = statistics.median(c) / statistics.median(o)
        out.append(f"| {wl}: {WORKLOADS[wl][0]} | {label} | {summary(c)} | "
                   f"{summary(o)} | {ratio:.2f}× |")
    if thread_rows:
        out += ([""] if rows else []) + [
            "Two datapath threads against one (ctdp alone; each workload "
            "split in two by flow, two pcap ports with mode=poll; CPU: the "
            "receive threads' CPU time per packet, from /proc):", "",
            "| Workload | Phase | 1 thread Mpps | 2 threads Mpps "
            "| 2 threads/1 | CPU ns/packet, 1 thread | 2 threads |",
            "|---|---|---|---|---:|---|---|"]
    for wl, label, mpps, cpu in thread_rows:
        ratio = statistics.median(mpps[2]) / statistics.median(mpps[1])
        out.append(f"| {wl}: {WORKLOADS[wl][0]} | {label} "
                   f"| {summary(mpps[1])} | {summary(mpps[2])} "
                   f"| {ratio:.2f}× | {summary(cpu[1])} "
                   f"| {summary(cpu[2])} |")
    out += ["", END_MARK, ""]
    return "\n".join(out)


def read_markdown(path):
    """The contents of 'path' ("" if it does not exist) and the span of
    its results block: (begin, end) of its markers, or None if it has
    none.  Raises BenchError unless it has one pair, in order, or none:
    of two blocks, which one holds the results is anyone's guess."""
    text = open(path).read() if os.path.exists(path) else ""
    n_begin, n_end = text.count(BEGIN_MARK), text.count(END_MARK)
    if (n_begin, n_end) == (0, 0):
        return text, None
    b, e = text.find(BEGIN_MARK), text.find(END_MARK)
    if (n_begin, n_end) != (1, 1) or e < b:
        raise BenchError(f"{path}: needs one pair of result markers, in "
                         f"order; has {n_begin} begin and {n_end} end")
    return text, (b, e)


def write_markdown(path, block):
    """Replaces the text between the markers of 'path' with 'block', or
    appends 'block' if 'path' has no markers."""
    text, span = read_markdown(path)
    if span:
        b, e = span
        e += len(END_MARK)
        e += text[e:e + 1] == "\n"
        text = text[:b] + block + text[e:]
    else:
        text += ("\n" if text else "") + block
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ctdpd", required=True)
    p.add_argument("--ovs", required=True,
                   help="the directory build-aux/ovs-dpdk.sh prints")
    p.add_argument("--pcaps", default="/var/cache/ctdp/bench-netdev/pcaps")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workloads", default="a,b,c,m")
    p.add_argument("--veth", action="store_true")
    p.add_argument("--veth-only", action="store_true")
    p.add_argument("--veth-workloads", default="a,b,c")
    p.add_argument("--send", help="utilities/ctdp-bench-send (for --veth)")
    p.add_argument("--threads", action="store_true")
    p.add_argument("--threads-only", action="store_true")
    p.add_argument("--threads-workloads", default="b,c")
    p.add_argument("--markdown")
    args = p.parse_args()
    args.workloads = [w for w in args.workloads.split(",") if w]
    args.veth_workloads = [w for w in args.veth_workloads.split(",") if w]
    args.threads_workloads = [w for w in args.threads_workloads.split(",")
                              if w]
    for w in args.threads_workloads:
        if w not in THREAD_WORKLOADS:
            p.error(f"unknown --threads workload {w} (b or c)")
    for w in args.workloads + args.veth_workloads:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w} (a, b, c or m)")
    if (args.veth or args.veth_only) and "m" in args.veth_workloads:
        p.error("the veth benchmark runs a, b and c only")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


def preflight(args):
    """Checks what the runs need, so that a missing piece is one line."""
    if os.geteuid():
        raise BenchError("must run as root (network namespaces, DPDK)")
    if not os.access(args.ctdpd, os.X_OK):
        raise BenchError(f"{args.ctdpd}: not an executable ctdpd")
    for rel in ("openvswitch/vswitchd/ovs-vswitchd",
                "openvswitch/utilities/ovs-vsctl"):
        if args.threads_only and not args.veth_only:
            break                       # ctdp alone.
        if not os.access(os.path.join(args.ovs, rel), os.X_OK):
            raise BenchError(f"{args.ovs}/{rel} is missing: run "
                             "build-aux/ovs-dpdk.sh")
    if (args.veth or args.veth_only) and not (
            args.send and os.access(args.send, os.X_OK)):
        raise BenchError("--veth needs --send=utilities/ctdp-bench-send")
    if os.cpu_count() < 2:
        raise BenchError("needs two CPUs (switch on core 1, driver on 0)")
    if args.markdown:
        read_markdown(args.markdown)    # Before the runs, not after.


def main():
    args = parse_args()
    started = time.time()
    args.loadavg = " ".join(open("/proc/loadavg").read().split()[:3])
    ctx = {"cleanups": []}

    def cleanup():
        for f in reversed(ctx["cleanups"]):
            f()
        ctx["cleanups"] = []
    atexit.register(cleanup)
    def terminated(signum, _frame):
        # SystemExit unwinds the runs' finally clauses (daemons stopped),
        # then atexit removes the namespaces, veths and scratch files.
        print(f"ctdp-bench-netdev: {signal.Signals(signum).name}",
              file=sys.stderr)
        sys.exit(1)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, terminated)
    try:
        preflight(args)
        os.sched_setaffinity(0, {0})        # The driver on core 0.
        scratch = tempfile.mkdtemp(prefix="ctdp-bench-netdev-")
        ctx["cleanups"].append(lambda: run(["rm", "-rf", scratch],
                                           check=False))
        ensure_pcaps(args.pcaps)
        flows = os.path.join(scratch, "flows-fw.txt")
        with open(flows, "w") as f:
            f.write(FLOWS)
        empty = os.path.join(scratch, "empty.pcap")
        with open(empty, "wb") as f:
            f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        thread_flows = os.path.join(scratch, "flows-fw-threads.txt")
        with open(thread_flows, "w") as f:
            f.write(THREAD_FLOWS)
        ctx.update(ctdpd=os.path.abspath(args.ctdpd), ovs=args.ovs,
                   pcaps=args.pcaps, flows=flows, empty=empty,
                   thread_flows=thread_flows, scratch=scratch,
                   send=args.send)
        # Each --*-only runs its part and the other --*-only parts only.
        only = args.veth_only or args.threads_only
        rows, thread_rows = [], []
        if not only:
            rows += bench_pcap(ctx, args.workloads, args.runs)
        if args.veth_only or (args.veth and not only):
            rows += bench_veth(ctx, args.veth_workloads, args.runs)
        if args.threads_only or (args.threads and not only):
            thread_rows = bench_threads(ctx, args.threads_workloads,
                                        args.runs)
    except BenchError as e:
        print(f"ctdp-bench-netdev: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("ctdp-bench-netdev: interrupted", file=sys.stderr)
        sys.exit(1)
    print()
    for wl, label, c, o in rows:
        print(f"{wl} {label}: ctdp {statistics.median(c):.3f} Mpps  "
              f"ovs {statistics.median(o):.3f} Mpps  ratio "
              f"{statistics.median(c) / statistics.median(o):.2f}×")
    for wl, label, mpps, cpu in thread_rows:
        one, two = statistics.median(mpps[1]), statistics.median(mpps[2])
        print(f"{wl} {label}: ctdp 1 thread {one:.3f} Mpps  2 threads "
              f"{two:.3f} Mpps  ratio {two / one:.2f}×  CPU/packet "
              f"{statistics.median(cpu[1]):.0f} / "
              f"{statistics.median(cpu[2]):.0f} ns")
    print(f"(command: {' '.join(sys.argv)})\n")
    block = report(rows, thread_rows, args, started)
    print(block)
    if args.markdown:
        try:
            write_markdown(args.markdown, block)
        except BenchError as e:         # The file changed during the runs.
            print(f"ctdp-bench-netdev: {e}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
