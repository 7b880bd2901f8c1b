"""The running Linux kernel's conntrack as a reference tracker.

A router namespace R sits between two peer namespaces A and B, each joined
to R by a veth pair.  The peers have no IP addresses, so their own stacks
never answer what R forwards to them; R has IPv4 forwarding (and IPv6),
rp_filter off, host routes and permanent neighbour entries for the test
addresses behind its two interfaces (10.0.0.1 / 2001:db8::1 behind A,
10.0.0.2 / 2001:db8::2 behind B), and an nftables forward chain that counts
every packet by ct state and ct direction and drops ct state invalid:

    with KernelRouter() as r:
        r.set_sysctls({"nf_conntrack_tcp_loose": 1})
        v = r.send("A", ip_packet_bytes)    # "new", "est|rpl", "inv", ...
        conns = r.conns()                   # conntrack -L -o extended,id

send() writes the frame from the peer's end with the ingress interface's MAC
as destination (an AF_PACKET socket opened inside the peer namespace) and
returns the verdict of the counter that moved: new, est, est|rpl, rel,
rel|rpl, inv or untracked.  Every name includes the process id and a serial
number, and close() (or leaving the with block) deletes the namespaces, and
with them the veths, whatever happened.

Root only.  Programs run inside R are started with setns() in the child, so
that this process itself never changes namespace except for the instant it
opens a peer's socket.
"""
import ctypes
import ipaddress
import itertools
import json
import os
import re
import select
import shutil
import socket
import subprocess
import time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 3

# The test addresses behind each side of the router.
ADDR4 = {"A": "10.0.0.1", "B": "10.0.0.2"}
ADDR6 = {"A": "2001:db8::1", "B": "2001:db8::2"}
# A second inside host behind A (NAT sequences: two hosts behind one
# address), and R's own address on B's side, which masquerade takes (R
# has no other; no test packet is addressed to it).
ADDR4_A2 = "10.0.0.3"
MASQ4 = "10.0.0.253"

# The verdict each counting rule stands for, in rule order; nft matches the
# first.  "untracked" and "other" catch what conntrack left alone.
VERDICT_RULES = [
    ("inv", "ct state invalid", "drop"),
    ("new", "ct state new ct direction original", "accept"),
    ("new|rpl", "ct state new ct direction reply", "accept"),
    ("est", "ct state established ct direction original", "accept"),
    ("est|rpl", "ct state established ct direction reply", "accept"),
    ("rel", "ct state related ct direction original", "accept"),
    ("rel|rpl", "ct state related ct direction reply", "accept"),
    ("untracked", "ct state untracked", "accept"),
    ("other", "", "accept"),
]

_libc = ctypes.CDLL(None, use_errno=True)
_serial = itertools.count()


TOLERANCE = 2           # Seconds: kernel timeouts are read in real time.


def kernel_ready():
    """None if this machine can run the kernel side, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("nft", "conntrack", "ip"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    return None


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _sh(*args, input=None):
    p = subprocess.run(args, capture_output=True, text=True, input=input,
                       timeout=30)
    if p.returncode:
        raise RuntimeError(f"{' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


class KernelRouter:
    """Three namespaces and the kernel's conntrack in the middle one."""

    def __init__(self):
        tag = f"{os.getpid()}{next(_serial)}"
        self.ns = {"R": f"kct-r-{tag}", "A": f"kct-a-{tag}",
                   "B": f"kct-b-{tag}"}
        # Interface names: at most 15 characters.
        self.rif = {"A": f"kr{tag}a"[:15], "B": f"kr{tag}b"[:15]}
        self.pif = {"A": f"kp{tag}a"[:15], "B": f"kp{tag}b"[:15]}
        self.mac = {}           # Interface name -> MAC.
        self.socks = {}
        self.rsocks = {}        # Receiving sockets: what R sends the peers.
        self._r_fd = None
        self._last = None
        self._nat = False       # The nat table is loaded.

    # ---- Setting up and tearing down ------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        for ns in self.ns.values():
            _sh("ip", "netns", "add", ns)
        self._r_fd = os.open(f"/run/netns/{self.ns['R']}", os.O_RDONLY)
        r = self.ns["R"]
        for side in ("A", "B"):
            _sh("ip", "-n", r, "link", "add", self.rif[side], "type", "veth",
                "peer", "name", self.pif[side], "netns", self.ns[side])
            peer = self.ns[side]
            _sh("ip", "netns", "exec", peer, "sysctl", "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1")
            _sh("ip", "-n", peer, "link", "set", self.pif[side], "up")
            _sh("ip", "-n", r, "link", "set", self.rif[side], "up")
            self.mac[self.rif[side]] = self._mac(r, self.rif[side])
            self.mac[self.pif[side]] = self._mac(peer, self.pif[side])
        self.run_r("sysctl", "-qw", "net.ipv4.ip_forward=1",
                   "net.ipv4.conf.all.rp_filter=0",
                   "net.ipv4.conf.default.rp_filter=0",
                   f"net.ipv4.conf.{self.rif['A']}.rp_filter=0",
                   f"net.ipv4.conf.{self.rif['B']}.rp_filter=0",
                   "net.ipv4.conf.all.send_redirects=0",
                   "net.ipv6.conf.all.forwarding=1",
                   "net.ipv6.conf.all.accept_dad=0",
                   # Packet counts per conn tell a new conn from an old
                   # one: the kernel's id is a hash of the conn's address,
                   # so a conn made right after one was freed often gets
                   # its id.
                   "net.netfilter.nf_conntrack_acct=1")
        for side in ("A", "B"):
            lladdr = self.mac[self.pif[side]]
            for addr, plen in ((ADDR4[side], 32), (ADDR6[side], 128)):
                _sh("ip", "-n", r, "route", "add", f"{addr}/{plen}", "dev",
                    self.rif[side])
                _sh("ip", "-n", r, "neigh", "replace", addr, "lladdr",
                    lladdr, "dev", self.rif[side], "nud", "permanent")
        _sh("ip", "-n", r, "route", "add", f"{ADDR4_A2}/32", "dev",
            self.rif["A"])
        # R's own address, for masquerade: there from the start, as
        # deleting a device's last address would flush its routes.
        _sh("ip", "-n", r, "addr", "add", f"{MASQ4}/32", "dev",
            self.rif["B"])
        _sh("ip", "-n", r, "neigh", "replace", ADDR4_A2, "lladdr",
            self.mac[self.pif["A"]], "dev", self.rif["A"], "nud", "permanent")
        self._load_rules()
        for side in ("A", "B"):
            self.socks[side] = self._peer_socket(side)
            self.rsocks[side] = self._peer_socket(side, ETH_P_ALL)
        self._last = self.counters()

    def close(self):
        for s in list(self.socks.values()) + list(self.rsocks.values()):
            s.close()
        self.socks = {}
        self.rsocks = {}
        if self._r_fd is not None:
            os.close(self._r_fd)
            self._r_fd = None
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    @staticmethod
    def _mac(ns, ifname):
        out = _sh("ip", "-n", ns, "-j", "link", "show", ifname)
        return json.loads(out)[0]["address"]

    def _load_rules(self, zone=0, mark=0, helper=None):
        lines = ["table inet kct {"]
        if helper:
            # The helper is assigned to a new conn before its confirm (in
            # postrouting, where the kernel's helpers run): in prerouting,
            # after conntrack (-200).
            name, type_, proto, port = helper
            lines += [f'  ct helper {name} {{ type "{type_}" protocol '
                      f"{proto}; }}",
                      "  chain helper {",
                      "    type filter hook prerouting priority filter;",
                      f'    {proto} dport {port} ct helper set "{name}"',
                      "  }"]
        if zone:
            # Before conntrack's own prerouting hook (priority -200).
            lines += ["  chain zone {",
                      "    type filter hook prerouting priority -300;",
                      f"    ct zone set {zone}",
                      "  }"]
        lines += ["  chain counted {",
                  "    type filter hook forward priority 0; policy accept;"]
        for name, match, verdict in VERDICT_RULES:
            setmark = f" ct mark set {mark}" if mark and name == "new" else ""
            lines.append(f'    {match} counter{setmark} {verdict} '
                         f'comment "{name}"')
        lines += ["  }", "}"]
        self.run_r("nft", "-f", "-", input="\n".join(lines) + "\n")

    def configure(self, zone=0, mark=0, nat=None, helper=None):
        """Reloads the rules: conntrack in 'zone', and 'mark' set on the
        conn by the packet that creates it (ct state new).  With 'helper'
        ((object name, helper type, protocol, port): "ftp-std", "ftp",
        "tcp", 21), an nft ct helper object of that type and a prerouting
        rule that assigns it to new conns to that port.  With 'nat'
        ({"prerouting": [rule, ...], "postrouting": [...]}, nft rule
        texts), also a table inet kctnat with a nat chain on each hook
        holding those rules (both chains always, so every conn gets its
        null binding as behind any NAT).  Flushes the conns; the counters
        start again from zero."""
        self.run_r("nft", "delete", "table", "inet", "kct")
        if self._nat:
            self.run_r("nft", "delete", "table", "inet", "kctnat")
            self._nat = False
        self._load_rules(zone, mark, helper)
        if nat is not None:
            lines = ["table inet kctnat {"]
            for hook, prio in (("prerouting", "dstnat"),
                               ("postrouting", "srcnat")):
                lines += [f"  chain {hook} {{",
                          f"    type nat hook {hook} priority {prio}; "
                          "policy accept;"]
                lines += [f"    {rule}" for rule in nat.get(hook, [])]
                lines.append("  }")
            lines.append("}")
            self.run_r("nft", "-f", "-", input="\n".join(lines) + "\n")
            self._nat = True
        self.flush()
        self._last = self.counters()

    def _peer_socket(self, side, proto=0):
        """An AF_PACKET socket on the peer's interface, opened inside the
        peer's namespace (a socket keeps the namespace it was made in);
        with 'proto' 0 it only sends, with ETH_P_ALL it also receives."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        peer = os.open(f"/run/netns/{self.ns[side]}", os.O_RDONLY)
        try:
            _setns(peer)
            try:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(proto))
                s.bind((self.pif[side], proto))
            finally:
                _setns(home)
        finally:
            os.close(peer)
            os.close(home)
        return s

    # ---- Running things in R --------------------------------------------

    def run_r(self, *args, input=None, check=True):
        """Runs a program in the router namespace; returns its stdout."""
        fd = self._r_fd
        p = subprocess.run(args, capture_output=True, text=True, input=input,
                           timeout=30, preexec_fn=lambda: _setns(fd))
        if check and p.returncode:
            raise RuntimeError(f"in R: {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def set_sysctls(self, values):
        """Sets net.netfilter.NAME=VALUE in R for each item of 'values'
        (conntrack's sysctls are per namespace)."""
        args = [f"net.netfilter.{k}={v}" for k, v in values.items()]
        if args:
            self.run_r("sysctl", "-qw", *args)

    def sysctl(self, name):
        return self.run_r("sysctl", "-n", f"net.netfilter.{name}").strip()

    def flush(self):
        """Deletes every conn in R, and every expectation."""
        self.run_r("conntrack", "-F")
        self.run_r("conntrack", "-F", "expect", check=False)

    # ---- Packets and verdicts -------------------------------------------

    def counters(self):
        """{verdict name: packets} of the forward chain's rules."""
        out = json.loads(self.run_r("nft", "-j", "list", "chain", "inet",
                                    "kct", "counted"))
        got = {}
        for item in out["nftables"]:
            rule = item.get("rule")
            if not rule:
                continue
            for e in rule["expr"]:
                if "counter" in e:
                    got[rule.get("comment")] = e["counter"]["packets"]
        return got

    def frame(self, side, ip_packet):
        """The Ethernet frame that carries 'ip_packet' (bytes of an IPv4 or
        IPv6 packet) from 'side''s peer to the router."""
        v6 = ip_packet[0] >> 4 == 6
        dst = bytes.fromhex(self.mac[self.rif[side]].replace(":", ""))
        src = bytes.fromhex(self.mac[self.pif[side]].replace(":", ""))
        return dst + src + (b"\x86\xdd" if v6 else b"\x08\x00") + ip_packet

    # ---- What R forwards ---------------------------------------------------

    def drain(self):
        """Forgets every frame the peers' sockets have received."""
        for s in self.rsocks.values():
            while True:
                try:
                    s.recv(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break

    def forwarded(self, side, timeout=0.5):
        """The IP packets (bytes, from the IP header) that R sent to peer
        'side' since the last drain(), waiting up to 'timeout' for the
        first.  Only frames from R's interface carrying IPv4 or IPv6 to a
        unicast address count: R's own IPv6 chatter (MLD, neighbour
        discovery to multicast) is left out."""
        s = self.rsocks[side]
        rmac = bytes.fromhex(self.mac[self.rif[side]].replace(":", ""))
        got = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if got:
                left = 0.05 if left > 0.05 else left
            r, _, _ = select.select([s], [], [], max(left, 0))
            if not r:
                break
            frame = s.recv(65535)
            if frame[6:12] != rmac:
                continue
            etype, ip = frame[12:14], frame[14:]
            if etype == b"\x08\x00" and len(ip) >= 20 and ip[16] < 224:
                got.append(ip)
            elif etype == b"\x86\xdd" and len(ip) >= 40 and ip[24] != 0xff \
                    and ip[8:10] != b"\xfe\x80":
                got.append(ip)
        return got

    def send(self, side, ip_packet, timeout=2.0, may_hold=False):
        """Sends 'ip_packet' from peer 'side' ("A" or "B") and returns the
        verdict whose counter it moved.  Raises if no counter moved (the
        router never forwarded the packet) or more than one did; with
        'may_hold' (a fragment, which the kernel holds until its datagram
        is whole) returns "held" when none moved within 'timeout'."""
        self.socks[side].send(self.frame(side, ip_packet))
        deadline = time.monotonic() + timeout
        while True:
            now = self.counters()
            moved = {k: now[k] - self._last.get(k, 0) for k in now
                     if now[k] != self._last.get(k, 0)}
            if moved or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        self._last = now
        if not moved and may_hold:
            return "held"
        if len(moved) != 1 or list(moved.values())[0] != 1:
            raise RuntimeError(f"counters after one packet from {side}: "
                               f"{moved or 'none moved'}")
        return next(iter(moved))

    # ---- The conntrack table --------------------------------------------

    def conns(self):
        """R's conns, as parse_conntrack() gives them; each also has "read",
        the monotonic time of the listing."""
        out = self.run_r("conntrack", "-L", "-o", "extended,id")
        t = time.monotonic()
        conns = parse_conntrack(out)
        for c in conns:
            c["read"] = t
        return conns

    def expectations(self):
        """R's expectations, as parse_expect() gives them, from
        /proc/net/nf_conntrack_expect (the namespace's own); each also has
        "read", the monotonic time of the listing."""
        out = self.run_r("cat", "/proc/net/nf_conntrack_expect")
        t = time.monotonic()
        exps = parse_expect(out)
        for e in exps:
            e["read"] = t
        return exps


def parse_expect(text):
    """Parses /proc/net/nf_conntrack_expect lines ("297 l3proto = 2
    proto=6 src=10.0.0.2 dst=10.0.0.1 sport=0 dport=2000 ftp") into
    dicts: timeout (s), l3 (2 or 10), proto, tuple (the key=value fields,
    addresses in one spelling), and rest (the words after the tuple:
    flags such as PERMANENT, the helper's name)."""
    exps = []
    for line in text.splitlines():
        tok = line.split()
        if len(tok) < 5 or tok[1:3] != ["l3proto", "="]:
            continue
        e = {"timeout": int(tok[0]), "l3": int(tok[3]), "proto": None,
             "tuple": {}, "rest": []}
        for t in tok[4:]:
            m = _KV.match(t)
            if m and m[1] == "proto":
                e["proto"] = int(m[2])
            elif m:
                k, v = m.groups()
                if k in ("src", "dst"):
                    v = ipaddress.ip_address(v).compressed
                e["tuple"][k] = v
            else:
                e["rest"].append(t)
        exps.append(e)
    return exps


_KV = re.compile(r"^([a-z_0-9]+)=(.*)$")


def parse_conntrack(text):
    """Parses `conntrack -L -o extended,id` lines (or /proc/net/nf_conntrack
    ones, whose GRE conns also have "timeout=30, stream_timeout=180 "
    before the tuple: left out) into dicts: l3, proto, timeout (s), state
    (TCP, SCTP and DCCP, else None), orig and reply (dicts of the tuple's
    key=value fields: ports, ICMP type, code and id, GRE's srckey and
    dstkey, counters), flags (the
    bracketed words: UNREPLIED, ASSURED...), mark, zone, id, use and
    packets (both directions, when accounting is on); helper, the
    helper's name, if the conn has one (conntrack -L's "helper=ftp")."""
    conns = []
    for line in text.splitlines():
        tok = line.split()
        if len(tok) < 5 or tok[0] not in ("ipv4", "ipv6"):
            continue
        c = {"l3": tok[0], "proto": tok[2], "timeout": int(tok[4]),
             "state": None, "orig": {}, "reply": {}, "flags": set(),
             "mark": 0, "zone": 0, "id": None, "helper": None}
        rest = tok[5:]
        if rest and not _KV.match(rest[0]) and not rest[0].startswith("["):
            c["state"] = rest.pop(0)
        tuple_ = c["orig"]
        tail = False        # Past the tuples: "id" is the conn's.
        for t in rest:
            if t.startswith("["):
                c["flags"].add(t.strip("[]"))
                continue
            m = _KV.match(t)
            if not m:
                continue
            k, v = m.groups()
            if k in ("timeout", "stream_timeout") and not c["orig"]:
                continue    # The proc format's GRE timeouts ("timeout=30,").
            if k in ("mark", "zone", "use"):
                c[k] = int(v)
                tail = True
            elif k == "helper":
                c["helper"] = v
            elif k == "id" and tail:
                c["id"] = v
            elif k in tuple_ and tuple_ is c["orig"]:
                tuple_ = c["reply"]
                tuple_[k] = v
            else:
                tuple_[k] = v
        c["packets"] = sum(int(t.get("packets", 0))
                           for t in (c["orig"], c["reply"]))
        conns.append(c)
    return conns


def same_conn(before, after):
    """Whether listing 'after' shows the conn that 'before' showed: the
    same id, and no fewer packets (counts only grow in a conn).  The id
    alone is not enough: the kernel derives it from the conn's address,
    which a new conn often reuses right after the old one is freed."""
    return before["id"] == after["id"] and \
        after["packets"] >= before["packets"]
