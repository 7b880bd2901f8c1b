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
ipf-set-min-frag) run on ctdpd before its first packet.

After each packet both sides give a verdict (new, est, est|rpl, rel,
rel|rpl, inv; "held" when no counter moved: a fragment held until its
datagram is whole, or on ctdp's side dropped before the tracker; the
verdicts of several fragments released at once are joined by commas).
After the last packet both tables are compared: how many conns each
lists and each tracker counts (conntrack -C, ct-get-nconns), conns by
original tuple and zone, then state, UNREPLIED/ASSURED, reply tuple, mark
and timeout (within 2 s).

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
from kdiff_corpus import Wait, by_name  # noqa: E402
from kernel_ct import TOLERANCE, KernelRouter, parse_conntrack  # noqa: E402
from scapy.all import Ether  # noqa: E402


# ctdp's counting flows: cookie -> (verdict, ct_state match, commits).
CTDP_RULES = {
    0x10: ("inv", "+trk+inv", False),
    0x11: ("new", "+trk+new-rpl", True),
    0x12: ("new|rpl", "+trk+new+rpl", True),
    0x13: ("est", "+trk+est-rpl", True),
    0x14: ("est|rpl", "+trk+est+rpl", True),
    0x15: ("rel", "+trk+rel-rpl", True),
    0x16: ("rel|rpl", "+trk+rel+rpl", True),
}
OTHER_COOKIE = 0x1f
MAC = {"A": "02:00:00:00:00:0a", "B": "02:00:00:00:00:0b"}


def ctdp_flows(zone, mark):
    """The flow table equivalent to kernel_ct's rules."""
    z = f"zone={zone}"
    flows = ["table=0,priority=10,ip,actions=ct(table=1,%s)" % z,
             "table=0,priority=10,ipv6,actions=ct(table=1,%s)" % z,
             "table=0,priority=0,actions=drop"]
    for cookie, (name, state, commit) in CTDP_RULES.items():
        if not commit:
            action = "drop"
        elif name == "new" and mark:
            action = f"ct(commit,{z},exec(set_field:{mark}->ct_mark))"
        else:
            action = f"ct(commit,{z})"
        for l3 in ("ip", "ipv6"):
            flows.append(f"cookie={cookie:#x},table=1,priority=10,{l3},"
                         f"ct_state={state},actions={action}")
    flows.append(f"cookie={OTHER_COOKIE:#x},table=1,priority=0,"
                 "actions=drop")
    return flows


class Ctdp:
    """ctdpd with the counting flows; packets go in with 'inject'."""

    COOKIE_RE = re.compile(r"cookie=(0x[0-9a-f]+), .*n_packets=(\d+)")

    def __init__(self, workdir):
        self.dp = Datapath(pathlib.Path(workdir))
        self.dp.dir.mkdir(parents=True, exist_ok=True)
        self.last = {}

    def start(self, zone, mark, setup=()):
        self.dp.start(flows=ctdp_flows(zone, mark))
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

    def conns(self):
        out = self.dp.ok("dump-conntrack", "--format=proc")
        t = time.monotonic()
        conns = parse_conntrack(out)
        for c in conns:
            c["read"] = t
        return conns


def norm_tuple(t):
    """A tuple's fields with addresses in one spelling (ctdp's proc format
    writes IPv6 in full, conntrack -L shortened), without counters."""
    out = {}
    for k, v in t.items():
        if k in ("packets", "bytes"):
            continue
        if k in ("src", "dst"):
            v = ipaddress.ip_address(v).compressed
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
    if diff.key == "table timeout":
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


def compare_counts(kernel, ctdp):
    """The trackers' own conn counts (the kernel's nf_conntrack_count,
    ctdp's ct-get-nconns), as a list of at most one Diff."""
    if kernel == ctdp:
        return []
    return [Diff("count", kernel, ctdp,
                 f"conns counted: kernel {kernel}, ctdp {ctdp}")]


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
    router.configure(zone=seq.zone, mark=seq.mark)
    ctdp = Ctdp(workdir)
    diffs = []
    try:
        ctdp.start(seq.zone, seq.mark, seq.ctdp_setup)
        out(f"== {seq.name}: {seq.doc}")
        out(f"   {'#':>2} {'from':4} {'packet':44} {'kernel':10} ctdp")
        i = 0
        for step in seq.steps:
            if isinstance(step, Wait):
                time.sleep(step.seconds)
                out(f"   -- {step.seconds} s pass")
                continue
            side, pkt = step
            frag = pkt.version == 4 and (pkt.flags.MF or pkt.frag) or \
                pkt.version == 6 and pkt.nh == 44
            kv = router.send(side, bytes(pkt), may_hold=bool(frag),
                             timeout=0.8 if frag else 2.0)
            cv = ctdp.send(side, pkt)
            mark = "" if kv == cv else "  <>"
            out(f"   {i:>2} {side:4} {pkt.summary()[:44]:44} {kv:10} "
                f"{cv}{mark}")
            if kv != cv:
                diffs.append(Diff(f"packet {i} verdict", kv, cv,
                                  f"packet {i}: kernel {kv}, ctdp {cv}"))
            i += 1
        kconns, cconns = router.conns(), ctdp.conns()
        for c in kconns:
            out(f"   kernel: {c['timeout']}s {c['state'] or ''} "
                f"{fmt_conn(c)} {sorted(c['flags'])} mark={c['mark']}")
        for c in cconns:
            out(f"   ctdp:   {c['timeout']}s {c['state'] or ''} "
                f"{fmt_conn(c)} {sorted(c['flags'])} mark={c['mark']}")
        diffs += compare_tables(kconns, cconns)
        diffs += compare_counts(router_n_conns(router), ctdp.n_conns())
    finally:
        ctdp.stop()
    return judge(seq, diffs, out)


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
