"""kdiff: the same packets through the kernel's conntrack and through ctdp.

    /usr/bin/python3 tests/kdiff.py [-q] [SEQUENCE...]

For each sequence of tests/kdiff_corpus.py (those whose names contain one
of the arguments; all without), every packet goes

  (a) through the kernel: a router namespace whose nftables forward chain
      counts packets by ct state and direction, drops ct state invalid and
      accepts the rest (tests/kernel_ct.py), with the sequence's zone set
      in prerouting and its mark set by the packet that creates a conn;
  (b) through ctdp: a ctdpd with two dummy ports (A's packets in on p1,
      B's on p2) and the equivalent flows: table 0 sends IP traffic to
      ct(table=1,zone=Z); table 1 has one flow per ct state and direction
      (its cookie names it), which commits new and established packets
      (setting the mark on new ones) and drops invalid ones, as the kernel
      confirms what it accepts.

A sequence's 'ctdp_setup' commands (ctdp-dpctl arguments, such as
ipf-set-min-frag) run on ctdpd before its first packet; its 'sysctls'
({name: value}, the kernel's conntrack knobs) are set in R and, with
ct-sysctl, in ctdpd, and R's are put back after it.

After each packet both sides give a verdict (new, est, est|rpl, rel,
rel|rpl, inv; "held" when no counter moved: a fragment held until its
datagram is whole, or on ctdp's side dropped before the tracker; the
verdicts of several fragments released at once are joined by commas).
After the last packet both tables are compared: how many conns each
lists and each tracker counts (conntrack -C, ct-get-nconns), conns by
original tuple and zone, then state, UNREPLIED/ASSURED, reply tuple,
mark, helper and timeout (within 2 s).

A sequence with a NAT rule ('nat', a kdiff_corpus.Nat) gets it on both
sides (an nft nat table in R; ct(nat) flows in ctdp, which then output
each packet to the other port), and each packet's forwarded bytes are
compared too: R's (read on the peer's end, TTL normalized: R routes,
ctdp does not) against ctdp's (its output port's pcap), field by field
and checksums checked; a port SNAT picked at random may differ if each
is in the range and the choice stays consistent, in the packets and the
reply tuple (NatCompare).

A sequence with a helper ('helper', a kdiff_corpus.Helper: ftp or tftp
on a port) gets it on both sides (an nft ct helper object and a
prerouting rule assigning it in R; the new conns to that port committed
with alg= in ctdp, whose flows then output each packet to the other
port); after every packet the expectation tables are compared
(/proc/net/nf_conntrack_expect against dump-conntrack-exp --format=proc:
tuple and helper, timeouts within 2 s), and the forwarded packets as for
NAT; a packet a side did not forward (a helper's drop) is "dropped".
tests/KDIFF.md has the details.

Every difference is printed with a key ("packet 3 verdict", "table state"
...) and the two sides' values.  A difference is explained only if the
sequence's 'explained' has its key with the same two values (timeouts
within 2 s): then it is shown with the reason.  An explanation whose
difference no longer occurs, or occurs with other values, counts as
unexplained, so the list stays true.  Exit status 1 if any difference is
unexplained, 0 otherwise.  Root only.
"""
import argparse
import ipaddress
import os
import pathlib
import re
import sys
import tempfile
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dp_helpers import Datapath  # noqa: E402
from kdiff_corpus import Via, ViaError, Wait, by_name  # noqa: E402
from kernel_ct import (TOLERANCE, KernelRouter, parse_conntrack,  # noqa
                       parse_expect)
from scapy.all import (ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach,  # noqa
                       ICMPv6EchoReply, ICMPv6EchoRequest, IPv6)
from scapy.layers.inet import in4_chksum  # noqa: E402
from scapy.layers.inet6 import in6_chksum  # noqa: E402
from scapy.utils import checksum  # noqa: E402


# ctdp's counting flows: cookie -> (verdict, ct_state match, commits).
CTDP_RULES = {
    0x10: ("inv", "+trk+inv", False),
    0x11: ("new", "+trk+new-rel-rpl", True),
    0x12: ("new|rpl", "+trk+new+rpl", True),
    0x13: ("est", "+trk+est-rpl", True),
    0x14: ("est|rpl", "+trk+est+rpl", True),
    0x15: ("rel", "+trk+rel-rpl", True),
    0x16: ("rel|rpl", "+trk+rel+rpl", True),
}
OTHER_COOKIE = 0x1f
MAC = {"A": "02:00:00:00:00:0a", "B": "02:00:00:00:00:0b"}


def ctdp_flows(zone, mark, nat=None, helper=None):
    """The flow table equivalent to kernel_ct's rules.  A new conn that an
    expectation matches (+new+rel) is the kernel's "related" (its ct
    state new does not match): the new flow leaves it to the rel one.
    With 'helper' (a kdiff_corpus.Helper) the new conns to its port are
    committed with alg= by a flow of their own, and every packet that is
    not dropped leaves by the other port, as with 'nat'.  With 'nat' (a
    kdiff_corpus.Nat) also the equivalent of R's nat table and routing:
    table 0's ct() translates by the conn's binding (bare nat: the
    packets of a conn that has one, replies de-NATed, ICMP errors with
    their quote), new conns are committed with a null binding ('nat'),
    or with the rule's range by a flow of their own, and every packet
    that is not dropped leaves by the other port (A's on p2, B's on
    p1), where kdiff reads it."""
    z = f"zone={zone}"
    tnat = ",nat" if nat else ""
    forward = bool(nat or helper)
    flows = ["table=0,priority=10,ip,actions=ct(table=1,%s%s)" % (z, tnat),
             "table=0,priority=10,ipv6,actions=ct(table=1,%s%s)" % (z, tnat),
             "table=0,priority=0,actions=drop"]
    exec_ = f",exec(set_field:{mark}->ct_mark)" if mark else ""
    for cookie, (name, state, commit) in CTDP_RULES.items():
        if not commit:
            action = "drop"
        elif name == "new":
            action = f"ct(commit,{z}{tnat}{exec_})"
        else:
            action = f"ct(commit,{z})"
        for l3 in ("ip", "ipv6"):
            if not forward:
                flows.append(f"cookie={cookie:#x},table=1,priority=10,{l3},"
                             f"ct_state={state},actions={action}")
                continue
            for inp, outp in ((1, 2), (2, 1)):
                out = f",output:{outp}" if commit else ""
                flows.append(f"cookie={cookie:#x},table=1,priority=10,{l3},"
                             f"in_port={inp},ct_state={state},"
                             f"actions={action}{out}")
    if nat:
        match, inp, outp, rng = nat_flow_parts(nat)
        flows.append(f"cookie=0x11,table=1,priority=20,{match},"
                     f"in_port={inp},ct_state=+trk+new-rpl,actions="
                     f"ct(commit,{z},nat({rng}){exec_}),output:{outp}")
    if helper:
        for inp, outp in ((1, 2), (2, 1)):
            for l3 in ("", "6"):
                flows.append(
                    f"cookie=0x11,table=1,priority=20,{helper.proto}{l3},"
                    f"tp_dst={helper.port},in_port={inp},"
                    f"ct_state=+trk+new-rel-rpl,actions=ct(commit,{z}{tnat},"
                    f"alg={helper.kind}{exec_}),output:{outp}")
    flows.append(f"cookie={OTHER_COOKIE:#x},table=1,priority=0,"
                 "actions=drop")
    return flows


# ---- NAT: R's rule and ctdp's flow for a kdiff_corpus.Nat ----------------

def _nat_addr(nat, bracket):
    lo, _, hi = nat.addr.partition("-")
    if nat.v6 and bracket:
        return f"[{lo}]" + (f"-[{hi}]" if hi else "")
    return nat.addr


def _nat_ports(nat):
    if not nat.ports:
        return ""
    lo, hi = nat.ports
    return f":{lo}" if lo == hi else f":{lo}-{hi}"


def nat_flow_parts(nat):
    """(match, in_port, output port, nat() argument) of the ctdp flow
    that stands for R's nat rule."""
    proto = nat.proto or ("ipv6" if nat.v6 else "ip")
    if nat.v6 and nat.proto:
        proto = {"icmp": "icmp6"}.get(nat.proto, nat.proto + "6")
    arg = _nat_addr(nat, bool(nat.ports)) + _nat_ports(nat)
    if nat.kind == "dnat":
        field = "ipv6_dst" if nat.v6 else "nw_dst"
        match = f"{proto},{field}={nat.match_dst}"
        if nat.match_dport:
            match += f",tp_dst={nat.match_dport}"
        return match, 2, 1, f"dst={arg}"
    return proto, 1, 2, f"src={arg}"


def helper_rule(helper):
    """R's ct helper object and rule for 'helper' (a kdiff_corpus.Helper),
    as KernelRouter.configure() takes them."""
    return (helper.name, helper.kind, helper.proto, helper.port)


def nat_rules(nat, rif):
    """R's nft rules for 'nat', by hook, as KernelRouter.configure() takes
    them; 'rif' names R's interface on each side."""
    fam = "ip6" if nat.v6 else "ip"
    l4 = f"meta l4proto {nat.proto} " if nat.proto else ""
    if nat.kind == "dnat":
        rule = (f'iifname "{rif["B"]}" {fam} daddr {nat.match_dst} {l4}'
                + (f"th dport {nat.match_dport} " if nat.match_dport else "")
                + f"dnat {fam} to {_nat_addr(nat, bool(nat.ports))}"
                + _nat_ports(nat))
        return {"prerouting": [rule], "postrouting": []}
    if nat.kind == "masquerade":
        to = f" to {_nat_ports(nat)}" if nat.ports else ""
        rule = f'oifname "{rif["B"]}" {l4}masquerade{to}'
    else:
        rule = (f'oifname "{rif["B"]}" {l4}snat {fam} to '
                f"{_nat_addr(nat, bool(nat.ports))}{_nat_ports(nat)}")
    return {"prerouting": [], "postrouting": [rule]}


class Ctdp:
    """ctdpd with the counting flows; packets go in with 'inject'."""

    COOKIE_RE = re.compile(r"cookie=(0x[0-9a-f]+), .*n_packets=(\d+)")

    def __init__(self, workdir):
        self.dp = Datapath(pathlib.Path(workdir))
        self.dp.dir.mkdir(parents=True, exist_ok=True)
        self.last = {}

    def start(self, zone, mark, setup=(), nat=None, helper=None):
        if helper:
            flows = ctdp_flows(zone, mark, nat, helper)
        elif nat:
            flows = ctdp_flows(zone, mark, nat)
        else:
            flows = ctdp_flows(zone, mark)
        self.dp.start(flows=flows)
        for args in setup:
            self.dp.ok(*args)
        self.last = self.counters()
        return self

    def n_conns(self):
        return int(self.dp.ok("ct-get-nconns"))

    def stop(self):
        self.dp.stop()

    def counters(self):
        got = {}
        for line in self.dp.ok("dump-flows", "table=1").splitlines():
            m = self.COOKIE_RE.search(line)
            if m:
                c = int(m[1], 16)
                got[c] = got.get(c, 0) + int(m[2])
        return got

    def sent(self):
        """{side: frames sent to it so far}: p1 leads to A, p2 to B."""
        return {"A": self.dp.sent("p1"), "B": self.dp.sent("p2")}

    def forwarded(self, before, want=0, timeout=0.3):
        """The IP packets (bytes) sent to each side since 'before' (what
        sent() gave), waiting up to 'timeout' for 'want' of them."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.sent()
            got = {s: [f[14:] for f in now[s][len(before[s]):]]
                   for s in now}
            if sum(map(len, got.values())) >= want \
                    or time.monotonic() > deadline:
                return got
            time.sleep(0.01)

    def send(self, side, pkt):
        frame = Ether(src=MAC[side], dst=MAC["B" if side == "A" else "A"],
                      type=0x86dd if pkt.version == 6 else 0x800) / pkt
        self.dp.ok("inject", "p1" if side == "A" else "p2",
                   bytes(frame).hex())
        now = self.counters()
        moved = []
        for c, n in sorted(now.items()):
            name = CTDP_RULES[c][0] if c in CTDP_RULES else "other"
            moved += [name] * (n - self.last.get(c, 0))
        self.last = now
        return ",".join(moved) if moved else "held"

    def expectations(self):
        out = self.dp.ok("dump-conntrack-exp", "--format=proc")
        t = time.monotonic()
        exps = parse_expect(out)
        for e in exps:
            e["read"] = t
        return exps

    OVS_ORIG_RE = re.compile(r"^\w+,orig=\(([^)]*)\)")
    OVS_ZONE_RE = re.compile(r",zone=(\d+)")
    OVS_HELPER_RE = re.compile(r",helper=([\w-]+)$")

    def conns(self):
        out = self.dp.ok("dump-conntrack", "--format=proc")
        t = time.monotonic()
        conns = parse_conntrack(out)
        # The proc format has no helper (nor has the kernel's
        # /proc/net/nf_conntrack; conntrack -L shows it): from OVS's.
        helpers = {}
        for line in self.dp.ok("dump-conntrack").splitlines():
            line = line.strip()
            m, h = self.OVS_ORIG_RE.match(line), \
                self.OVS_HELPER_RE.search(line)
            if m and h:
                z = self.OVS_ZONE_RE.search(line)
                orig = dict(kv.split("=", 1) for kv in m[1].split(","))
                helpers[(norm_tuple(orig), int(z[1]) if z else 0)] = h[1]
        for c in conns:
            c["read"] = t
            c["helper"] = helpers.get((norm_tuple(c["orig"]), c["zone"]))
        return conns


def norm_tuple(t):
    """A tuple's fields with addresses in one spelling (ctdp's proc format
    writes IPv6 in full, conntrack -L shortened) and GRE's keys in one
    (0x..), without counters."""
    out = {}
    for k, v in t.items():
        if k in ("packets", "bytes"):
            continue
        if k in ("src", "dst"):
            v = ipaddress.ip_address(v).compressed
        elif k in ("srckey", "dstkey"):
            v = hex(int(v, 16))         # GRE's keys.
        out[k] = v
    return tuple(sorted(out.items()))


def conn_key(c):
    return (c["l3"], c["proto"], c["zone"], norm_tuple(c["orig"]))


def fmt_conn(c):
    t = " ".join(f"{k}={v}" for k, v in norm_tuple(c["orig"]))
    return f"{c['proto']} {t} zone={c['zone']}"


@dataclass
class Diff:
    """One difference: its key, each side's value, and how to print it."""
    key: str
    kernel: object
    ctdp: object
    text: str

    def __str__(self):
        return f"[{self.key}] {self.text}"


def explains(exp, diff):
    """True if 'exp' (an Explained) expects exactly 'diff''s values;
    timeouts within TOLERANCE, as compare_tables() compares them."""
    if diff.key.endswith("timeout"):
        return all(isinstance(e, (int, float)) and abs(e - g) <= TOLERANCE
                   for e, g in ((exp.kernel, diff.kernel),
                                (exp.ctdp, diff.ctdp)))
    return (exp.kernel, exp.ctdp) == (diff.kernel, diff.ctdp)


def compare_tables(kernel, ctdp):
    """Differences between two lists of conns, as Diffs."""
    diffs = []
    kmap = {conn_key(c): c for c in kernel}
    cmap = {conn_key(c): c for c in ctdp}
    if len(kernel) != len(ctdp):
        diffs.append(Diff("table count", len(kernel), len(ctdp),
                          f"conns listed: kernel {len(kernel)}, ctdp "
                          f"{len(ctdp)}"))
    for k in kmap.keys() - cmap.keys():
        diffs.append(Diff("table only-kernel", fmt_conn(kmap[k]), None,
                          f"only in the kernel: {fmt_conn(kmap[k])}"))
    for k in cmap.keys() - kmap.keys():
        diffs.append(Diff("table only-ctdp", None, fmt_conn(cmap[k]),
                          f"only in ctdp: {fmt_conn(cmap[k])}"))
    for k in kmap.keys() & cmap.keys():
        diffs += compare_conns(kmap[k], cmap[k])
    return diffs


def compare_conns(a, b):
    """Differences between the kernel's conn 'a' and ctdp's 'b' (the same
    original tuple and zone)."""
    diffs = []
    name = fmt_conn(a)
    if a["state"] != b["state"]:
        diffs.append(Diff("table state", a["state"], b["state"],
                          f"{name}: state kernel {a['state']}, ctdp "
                          f"{b['state']}"))
    fa = sorted(a["flags"] & {"UNREPLIED", "ASSURED"})
    fb = sorted(b["flags"] & {"UNREPLIED", "ASSURED"})
    if fa != fb:
        diffs.append(Diff("table flags", fa, fb,
                          f"{name}: kernel {fa}, ctdp {fb}"))
    ra, rb = norm_tuple(a["reply"]), norm_tuple(b["reply"])
    if ra != rb:
        diffs.append(Diff("table reply", ra, rb, f"{name}: reply tuple "
                          f"kernel {ra}, ctdp {rb}"))
    if a.get("helper") != b.get("helper"):
        diffs.append(Diff("table helper", a.get("helper"), b.get("helper"),
                          f"{name}: helper kernel {a.get('helper')}, ctdp "
                          f"{b.get('helper')}"))
    if a["mark"] != b["mark"]:
        diffs.append(Diff("table mark", a["mark"], b["mark"],
                          f"{name}: mark kernel {a['mark']}, ctdp "
                          f"{b['mark']}"))
    ea, eb = a["read"] + a["timeout"], b["read"] + b["timeout"]
    if abs(ea - eb) > TOLERANCE:
        diffs.append(Diff("table timeout", a["timeout"], b["timeout"],
                          f"{name}: timeout kernel {a['timeout']} s, ctdp "
                          f"{b['timeout']} s"))
    return diffs


def fmt_expect(e):
    """An expectation as kdiff prints it: family, protocol, tuple and
    the words after it (the helper), without its timeout."""
    t = " ".join(f"{k}={v}" for k, v in sorted(e["tuple"].items()))
    return " ".join([f"l3proto={e['l3']} proto={e['proto']}", t]
                    + e["rest"])


def compare_expects(i, kernel, ctdp):
    """Differences between the two expectation tables after packet 'i':
    the expectations (family, protocol, tuple, helper) as sorted lists,
    then each one's timeout (within TOLERANCE)."""
    kmap = {fmt_expect(e): e for e in kernel}
    cmap = {fmt_expect(e): e for e in ctdp}
    ka = sorted(fmt_expect(e) for e in kernel)
    ca = sorted(fmt_expect(e) for e in ctdp)
    if ka != ca:
        return [Diff(f"packet {i} expect", ka, ca,
                     f"expectations after packet {i}: kernel {ka}, ctdp "
                     f"{ca}")]
    diffs = []
    for k in ka:
        a, b = kmap[k], cmap[k]
        if abs(a["read"] + a["timeout"] - b["read"] - b["timeout"]) \
                > TOLERANCE:
            diffs.append(Diff(f"packet {i} expect timeout", a["timeout"],
                              b["timeout"], f"{k}: timeout kernel "
                              f"{a['timeout']} s, ctdp {b['timeout']} s"))
    return diffs


def compare_counts(kernel, ctdp):
    """The trackers' own conn counts (the kernel's nf_conntrack_count,
    ctdp's ct-get-nconns), as a list of at most one Diff."""
    if kernel == ctdp:
        return []
    return [Diff("count", kernel, ctdp,
                 f"conns counted: kernel {kernel}, ctdp {ctdp}")]


# ---- NAT: the packets each side forwards -----------------------------------

def parse_ip(raw):
    """Scapy's parse of IP packet 'raw' (bytes)."""
    return (IPv6 if raw[0] >> 4 == 6 else IP)(raw)


def brief(raw):
    """One line about IP packet 'raw': addresses, ports or ICMP type and
    id, TTL, checksums; an ICMP error's quote in brackets."""
    pkt = parse_ip(raw)
    ttl = pkt.hlim if pkt.version == 6 else pkt.ttl
    text = []
    layer, l3 = pkt, pkt
    while layer and layer.name != "NoPayload":
        names = {f.name for f in layer.fields_desc}
        ck = layer.getfieldval("chksum") if "chksum" in names else \
            layer.getfieldval("cksum") if "cksum" in names else None
        ck = "-" if ck is None else f"{ck:#06x}"
        if {"src", "dst"} <= names and layer.name.startswith("IP"):
            l3 = layer
            text.append("[" if layer is not pkt else "")
        elif "sport" in names:
            text.append(f"{layer.name} {l3.src}:{layer.sport} > "
                        f"{l3.dst}:{layer.dport} csum={ck}")
        elif "type" in names and "code" in names:
            ident = f" id={layer.id}" if "id" in names and \
                layer.id is not None else ""
            text.append(f"{layer.name} {l3.src} > {l3.dst} type={layer.type}"
                        f" code={layer.code}{ident} csum={ck}")
        layer = layer.payload
    return f"ttl={ttl} " + " ".join(t for t in text if t) + \
        ("]" if "[" in text[1:] else "")


def checksums_ok(raw):
    """{"ip": ..., "l4": ...}: whether the IPv4 header checksum and the
    L4 checksum (TCP, UDP, ICMP, ICMPv6; over the pseudo-header where it
    has one) of IP packet 'raw' are right; None where there is none (IPv6
    has no header checksum; a UDP/IPv4 checksum of 0 is "none")."""
    if raw[0] >> 4 == 4:
        hl = (raw[0] & 15) * 4
        ok = {"ip": checksum(raw[:hl]) == 0}
        proto, l4 = raw[9], raw[hl:int.from_bytes(raw[2:4], "big")]
        ip = IP(raw)
        if proto == 1:
            ok["l4"] = checksum(l4) == 0
        elif proto in (6, 17):
            ok["l4"] = None if proto == 17 and l4[6:8] == b"\0\0" else \
                in4_chksum(proto, ip, l4) == 0
        return ok
    proto, l4 = raw[6], raw[40:40 + int.from_bytes(raw[4:6], "big")]
    ok = {"ip": None}
    if proto in (6, 17, 58):
        ok["l4"] = in6_chksum(proto, IPv6(raw), l4) == 0
    return ok


def normalize(raw):
    """The kernel's forwarded packet 'raw' as it was before R forwarded
    it: the TTL (hop limit) one more, as R decremented it (ctdp is no
    router and leaves it), and the IPv4 header checksum redone for it if
    it was right.  Every other byte is compared as the kernel sent it."""
    b = bytearray(raw)
    if b[0] >> 4 == 6:
        b[7] = (b[7] + 1) & 255
        return bytes(b)
    hl = (b[0] & 15) * 4
    good = checksum(bytes(b[:hl])) == 0
    b[8] = (b[8] + 1) & 255
    if good:
        b[10:12] = b"\0\0"
        b[10:12] = checksum(bytes(b[:hl])).to_bytes(2, "big")
    return bytes(b)


def fields(raw):
    """The fields of IP packet 'raw', as {"LAYER.field": value}; the
    layers of an ICMP error's quote are scapy's ...error ones."""
    got = {}
    layer = parse_ip(raw)
    while layer and layer.name != "NoPayload":
        for f in layer.fields_desc:
            v = layer.getfieldval(f.name)
            got[f"{layer.name}.{f.name}"] = f.i2repr(layer, v) \
                if f.name not in ("load",) else bytes(v)
        layer = layer.payload
    return got


def conn_id(pkt):
    """The conn an original-direction packet of A's (scapy) belongs to,
    as (proto, src, port or ICMP id, dst, dport), and the identifier
    SNAT may change: ("sport", port), ("id", ICMP id) or None."""
    l3 = pkt[IPv6] if IPv6 in pkt else pkt[IP]
    src = ipaddress.ip_address(l3.src).compressed
    dst = ipaddress.ip_address(l3.dst).compressed
    for cls in (TCP, UDP):
        if cls in pkt:
            p = pkt[cls]
            return (cls.__name__.lower(), src, p.sport, dst, p.dport), \
                "sport", p.sport
    for cls in (ICMP, ICMPv6EchoRequest, ICMPv6EchoReply):
        if cls in pkt and (cls is not ICMP or pkt[ICMP].type in (0, 8, 13,
                                                                   14)):
            proto = "icmp" if cls is ICMP else "icmpv6"
            return (proto, src, pkt[cls].id, dst, None), "id", pkt[cls].id
    return None, None, None


def set_ident(raw, kind, value):
    """'raw' with its source port (kind "sport") or ICMP id ("id") set to
    'value' and its L4 checksum computed again."""
    pkt = parse_ip(raw)
    for cls in (TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply):
        if cls in pkt:
            layer = pkt[cls]
            setattr(layer, kind, value)
            if cls is UDP and layer.chksum == 0:
                pass
            elif hasattr(layer, "cksum"):
                del layer.cksum
            else:
                del layer.chksum
            break
    return bytes(pkt)


def snat_range(nat, kind, orig):
    """The identifiers SNAT may choose for a conn whose own is 'orig':
    the rule's ports, else the kernel's (nf_nat_l4proto_unique_tuple):
    any ICMP id, a port of the same class (1-511, 600-1023,
    1024-65535)."""
    if nat.ports:
        return nat.ports
    if kind == "id":
        return (0, 65535)
    if orig < 512:
        return (1, 511)
    if orig < 1024:
        return (600, 1023)
    return (1024, 65535)


class NatCompare:
    """Compares, packet by packet, what the two sides forwarded for a
    sequence with a NAT rule, and learns each side's bindings.

    SNAT picks a port (or ICMP id) at random, on both sides, when the
    conn's own is outside the range or taken: when the two sides chose
    different ones, each within the range and neither the conn's own,
    ctdp's is taken as standing for the kernel's (an alias) in this
    conn's later packets and in its reply tuple; each side's choice must
    stay the same for all the conn's packets and be its reply tuple's
    destination ("consistent between forward and reply")."""

    def __init__(self, nat):
        self.nat = nat
        self.out = {"kernel": {}, "ctdp": {}}   # packet -> normalized out
        self.bound = {"kernel": {}, "ctdp": {}}  # conn -> (addr, ident)
        self.alias = {}                          # conn -> (ctdp, kernel)

    def build(self, step, who):
        """The packet of step 'step' (a Via or ViaError) as 'who' ("kernel"
        or "ctdp") sends it, built from what that side forwarded."""
        raw = self.out[who].get(step.ref)
        if isinstance(step, Via):
            pkt = step.pair[1].copy()
            if raw is None:
                return pkt
            got = parse_ip(raw)
            _, kind, ident = conn_id(got)
            l3 = pkt[IPv6] if IPv6 in pkt else pkt[IP]
            l3.dst = got.src
            for cls in (TCP, UDP):
                if cls in pkt:
                    pkt[cls].dport = ident
                    del pkt[cls].chksum
            for cls in (ICMP, ICMPv6EchoRequest, ICMPv6EchoReply):
                if cls in pkt:
                    pkt[cls].id = ident
                    if cls is ICMP:
                        del pkt[cls].chksum
                    else:
                        del pkt[cls].cksum
            if IP in pkt:
                del pkt[IP].chksum
            return parse_ip(bytes(pkt))
        if raw is None:
            raise RuntimeError(f"{who} forwarded nothing for packet "
                               f"{step.ref}, which an error must quote")
        got = parse_ip(raw)
        if got.version == 6:
            return IPv6(src=step.src or got.dst, dst=got.src) \
                / ICMPv6DestUnreach(code=4) / raw
        return IP(src=step.src or got.dst, dst=got.src) \
            / ICMP(type=step.type_, code=step.code) / raw[:28]

    def compare(self, i, side, pkt, kout, cout):
        """Differences between what the kernel ('kout') and ctdp ('cout')
        sent ({side: [IP packet bytes]}) for packet 'i' from 'side' (the
        kernel's version 'pkt'); lines to print and Diffs."""
        diffs, lines = [], []
        kall = [(d, normalize(r)) for d in "AB" for r in kout.get(d, [])]
        call = [(d, r) for d in "AB" for r in cout.get(d, [])]
        for who, got in (("kernel", kall), ("ctdp", call)):
            for d, r in got:
                lines.append(f"      {who + ' -> ' + d:12} {brief(r)}")
        for who, got in (("kernel", kall), ("ctdp", call)):
            far = [r for d, r in got if d != side]
            if far:
                self.out[who][i] = far[0]
        kdesc = [f"{d}: {len(r)} bytes" for d, r in kall]
        cdesc = [f"{d}: {len(r)} bytes" for d, r in call]
        if [d for d, _ in kall] != [d for d, _ in call]:
            diffs.append(Diff(f"packet {i} out", kdesc or "none",
                              cdesc or "none",
                              f"packet {i} left: kernel {kdesc or 'none'}, "
                              f"ctdp {cdesc or 'none'}"))
            return lines, diffs
        for (d, k), (_, c) in zip(kall, call):
            for who, raw in (("kernel", k), ("ctdp", c)):
                bad = sorted(f for f, v in checksums_ok(raw).items()
                             if v is False)
                if bad:
                    diffs.append(Diff(f"packet {i} checksum",
                                      bad if who == "kernel" else [],
                                      bad if who == "ctdp" else [],
                                      f"packet {i}: {who}'s "
                                      f"{'/'.join(bad)} checksum is wrong"))
            if self.nat and side == "A" and d == "B" and \
                    self.nat.kind != "dnat":
                c, more = self._snat_ident(i, pkt, k, c)
                lines += more[0]
                diffs += more[1]
            kf, cf = fields(k), fields(c)
            keys = [f for f in kf if kf.get(f) != cf.get(f)] + \
                [f for f in cf if f not in kf]
            if keys:
                kv = " ".join(f"{f}={kf.get(f)}" for f in keys)
                cv = " ".join(f"{f}={cf.get(f)}" for f in keys)
                diffs.append(Diff(f"packet {i} out", kv, cv,
                                  f"packet {i} as sent to {d}: kernel {kv}, "
                                  f"ctdp {cv}"))
        return lines, diffs

    def _snat_ident(self, i, pkt, k, c):
        """Checks the identifier SNAT gave A's packet 'pkt' on each side
        (k, c: what they sent, the kernel's normalized); returns ctdp's
        packet with an alias applied, and (lines, diffs)."""
        lines, diffs = [], []
        conn, kind, orig = conn_id(pkt)
        if conn is None:
            return c, (lines, diffs)
        lo, hi = snat_range(self.nat, kind, orig)
        got = {}
        for who, raw in (("kernel", k), ("ctdp", c)):
            p = parse_ip(raw)
            _, _, ident = conn_id(p)
            got[who] = ident
            before = self.bound[who].get(conn)
            if before is None:
                self.bound[who][conn] = (ipaddress.ip_address(
                    p.src).compressed, ident)
            elif before[1] != ident:
                diffs.append(Diff(f"packet {i} nat {kind}",
                                  f"{before[1]}->{ident}"
                                  if who == "kernel" else None,
                                  f"{before[1]}->{ident}"
                                  if who == "ctdp" else None,
                                  f"packet {i}: {who} changed the conn's "
                                  f"{kind} from {before[1]} to {ident}"))
            if ident != orig and not lo <= ident <= hi:
                diffs.append(Diff(f"packet {i} nat {kind}",
                                  ident if who == "kernel" else None,
                                  ident if who == "ctdp" else None,
                                  f"packet {i}: {who}'s {kind} {ident} is "
                                  f"outside {lo}-{hi}"))
        kid, cid = got["kernel"], got["ctdp"]
        if conn in self.alias:
            a_c, a_k = self.alias[conn]
            if cid == a_c:
                c = set_ident(c, kind, a_k)
        elif kid != cid and orig not in (kid, cid) and lo <= kid <= hi \
                and lo <= cid <= hi:
            self.alias[conn] = (cid, kid)
            c = set_ident(c, kind, kid)
            lines.append(f"      random {kind} in {lo}-{hi}: kernel {kid}, "
                         f"ctdp {cid} (compared as {kid} from now on)")
        return c, (lines, diffs)

    def fix_conns(self, cconns):
        """ctdp's conns with each alias applied to the reply tuple."""
        for c in cconns:
            key = table_conn_id(c)
            if key in self.alias:
                a_c, a_k = self.alias[key]
                r = c["reply"]
                field_ = "id" if "id" in r else "dport"
                if r.get(field_) == str(a_c):
                    r[field_] = str(a_k)
        return cconns

    def check_bindings(self, who, conns):
        """Each conn's reply tuple against what 'who' sent: the address and
        identifier its packets left with.  Diffs."""
        diffs = []
        for c in conns:
            key = table_conn_id(c)
            if key not in self.bound[who]:
                continue
            addr, ident = self.bound[who][key]
            r = c["reply"]
            got = (ipaddress.ip_address(r["dst"]).compressed,
                   int(r.get("id", r.get("dport", -1))))
            if got != (addr, ident):
                v = f"{fmt_conn(c)}: reply to {got}, packets from " \
                    f"{(addr, ident)}"
                diffs.append(Diff("table binding",
                                  v if who == "kernel" else None,
                                  v if who == "ctdp" else None,
                                  f"{who}: {v}"))
        return diffs


def table_conn_id(c):
    """conn_id() of a conn as a table lists it."""
    o = c["orig"]
    src = ipaddress.ip_address(o["src"]).compressed
    dst = ipaddress.ip_address(o["dst"]).compressed
    if "id" in o:
        return (c["proto"], src, int(o["id"]), dst, None)
    if "sport" in o:
        return (c["proto"], src, int(o["sport"]), dst, int(o["dport"]))
    return None


def judge(seq, diffs, out):
    """Prints 'diffs' against 'seq''s explanations; returns the
    unexplained ones (strings), stale explanations included."""
    unexplained = []
    seen = set()
    for d in diffs:
        exp = seq.explained.get(d.key)
        if exp is not None and explains(exp, d):
            seen.add(d.key)
            out(f"   explained {d}: {exp.why}")
        elif exp is not None:
            out(f"   DIFFERENCE {d} (explained as kernel {exp.kernel!r}, "
                f"ctdp {exp.ctdp!r})")
            unexplained.append(f"{seq.name}: {d}, but explained as kernel "
                               f"{exp.kernel!r}, ctdp {exp.ctdp!r}")
        else:
            out(f"   DIFFERENCE {d}")
            unexplained.append(f"{seq.name}: {d}")
    for key in seq.explained.keys() - seen - {d.key for d in diffs}:
        out(f"   STALE explanation [{key}]: no such difference now")
        unexplained.append(f"{seq.name}: [{key}] explained but not seen")
    return unexplained


def run_sequence(seq, router, workdir, out=print):
    """Runs 'seq' on both sides; prints the side-by-side verdicts and every
    difference; returns the list of unexplained ones (strings)."""
    nat, helper = seq.nat, seq.helper
    router.configure(zone=seq.zone, mark=seq.mark,
                     nat=nat_rules(nat, router.rif) if nat else None,
                     helper=helper_rule(helper) if helper else None)
    knobs = {k: router.sysctl(k) for k in seq.sysctls}
    router.set_sysctls(seq.sysctls)
    setup = list(seq.ctdp_setup)
    if seq.sysctls:
        setup.append(("ct-sysctl", *(f"{k}={v}"
                                     for k, v in seq.sysctls.items())))
    ctdp = Ctdp(workdir)
    # Helper sequences compare the forwarded packets as NAT ones do.
    cmp = NatCompare(nat) if nat or helper else None
    diffs = []
    try:
        ctdp.start(seq.zone, seq.mark, setup, nat, helper)
        out(f"== {seq.name}: {seq.doc}")
        out(f"   {'#':>2} {'from':4} {'packet':44} {'kernel':10} ctdp")
        i = 0
        for step in seq.steps:
            if isinstance(step, Wait):
                time.sleep(step.seconds)
                out(f"   -- {step.seconds} s pass")
                continue
            if isinstance(step, (Via, ViaError)):
                side = "B" if isinstance(step, Via) else step.side
                pkt, cpkt = cmp.build(step, "kernel"), cmp.build(step, "ctdp")
            else:
                side, pkt = step
                cpkt = pkt
            frag = pkt.version == 4 and (pkt.flags.MF or pkt.frag) or \
                pkt.version == 6 and pkt.nh == 44
            if cmp:
                router.drain()
                before = ctdp.sent()
            kv = router.send(side, bytes(pkt), may_hold=bool(frag),
                             timeout=0.8 if frag else 2.0)
            cv = ctdp.send(side, cpkt)
            lines = []
            if cmp:
                far = "B" if side == "A" else "A"
                kout = {far: router.forwarded(far), side:
                        router.forwarded(side, timeout=0)}
                cout = ctdp.forwarded(before, sum(map(len, kout.values())))
                lines, more = cmp.compare(i, side, pkt, kout, cout)
                diffs += more
                if helper and not frag:
                    kv = dropped(kv, kout.get(far))
                    cv = dropped(cv, cout.get(far))
            mark = "" if kv == cv else "  <>"
            out(f"   {i:>2} {side:4} {pkt.summary()[:44]:44} {kv:10} "
                f"{cv}{mark}")
            for line in lines:
                out(line)
            if kv != cv:
                diffs.append(Diff(f"packet {i} verdict", kv, cv,
                                  f"packet {i}: kernel {kv}, ctdp {cv}"))
            if helper:
                kexp, cexp = router.expectations(), ctdp.expectations()
                for who, exps in (("kernel", kexp), ("ctdp", cexp)):
                    for e in exps:
                        out(f"      {who + ' expects':14} {e['timeout']}s "
                            f"{fmt_expect(e)}")
                diffs += compare_expects(i, kexp, cexp)
            i += 1
        kconns, cconns = router.conns(), ctdp.conns()
        for who, conns in (("kernel", kconns), ("ctdp", cconns)):
            for c in conns:
                reply = ""
                if cmp:
                    reply = " reply " + " ".join(
                        f"{k}={v}" for k, v in norm_tuple(c["reply"]))
                helper = f" helper={c['helper']}" if c.get("helper") \
                    else ""
                out(f"   {who + ':':7} {c['timeout']}s {c['state'] or ''} "
                    f"{fmt_conn(c)} {sorted(c['flags'])} mark={c['mark']}"
                    f"{helper}{reply}")
        if cmp:
            diffs += cmp.check_bindings("kernel", kconns)
            diffs += cmp.check_bindings("ctdp", cconns)
            cconns = cmp.fix_conns(cconns)
        diffs += compare_tables(kconns, cconns)
        diffs += compare_counts(router_n_conns(router), ctdp.n_conns())
    finally:
        ctdp.stop()
        router.set_sysctls(knobs)
    return judge(seq, diffs, out)


def dropped(verdict, sent):
    """A helper sequence's verdict for a packet that was not forwarded
    ('sent' empty) and not dropped as invalid: "dropped".  The kernel's
    helper runs at confirm, after the forward chain counted the packet
    (est); ctdp's, as Open vSwitch's, in the ct() that tracks a confirmed
    conn, before table 1 counts it (held), or in the ct(commit) of a new
    one: a drop, wherever it happened."""
    if sent or verdict == "inv":
        return verdict
    return "dropped"


def router_n_conns(router):
    """The kernel's count of conns in the router namespace."""
    out = router.run_r("conntrack", "-C")
    return int(out.split()[0])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="print only the differences and the summary")
    ap.add_argument("sequences", nargs="*")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("kdiff: needs root (network namespaces)", file=sys.stderr)
        return 2
    seqs = by_name(args.sequences)
    if not seqs:
        print(f"kdiff: no sequence matches {args.sequences}", file=sys.stderr)
        return 2

    def out(line):
        if not args.quiet or "DIFFERENCE" in line or "STALE" in line:
            print(line, flush=True)

    bad = []
    with tempfile.TemporaryDirectory(prefix="kdiff") as tmp, \
            KernelRouter() as router:
        for n, seq in enumerate(seqs):
            bad += run_sequence(seq, router, f"{tmp}/{n}", out)
    print(f"kdiff: {len(seqs)} sequences, {len(bad)} unexplained "
          f"differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
