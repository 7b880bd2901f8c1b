"""Defragmentation in the running daemon: the ipf-* dpctl commands (OVS's
wording and layout, every error refused without changing anything), and
fragmented datagrams through the default firewall: tracked once, the
original fragments out, one conn."""
import re

import pytest
from scapy.all import (IP, UDP, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, fragment, fragment6)

from conftest import wait_until
from dp_helpers import (IP_IN, IP_OUT, MAC_IN, MAC_OUT, arp_from, eth,
                        firewall, make_dp, ok,  # noqa: F401 (fixtures)
                        refused)

V6_IN, V6_OUT = "2001:db8::1", "2001:db8::2"

COUNTERS = ["accepted", "completed", "expired", "too small", "overlapped",
            "purged", "discarded", "first too short", "oversized",
            "duplicate last", "duplicate", "too many", "no room",
            "malformed"]


def status_text(v4=None, v6=None, **top):
    """ipf-get-status's output with the defaults, but for the settings in
    'top' and the counters in 'v4' and 'v6' (dicts by counter name)."""
    s = {"v4 enabled": 1, "v6 enabled": 1, "max num frags (v4/v6)": 1000,
         "num frag": 0, "max frags per datagram": 64,
         "pending datagrams": 0, "memory (bytes)": 0,
         "max memory (bytes)": 4194304, "timeout (ms)": 15000}
    s.update({k.replace("_", " "): v for k, v in top.items()})
    lines = ["Fragmentation Module Status", "---------------------------"]
    lines += [f"{k}: {v}" for k, v in s.items()]
    for name, counts, minimum in (("v4", v4 or {}, 1200),
                                  ("v6", v6 or {}, 1280)):
        lines.append(f"min {name} frag size: "
                     f"{counts.get('min', minimum)}")
        lines += [f"{name} frags {c}: {counts.get(c, 0)}" for c in COUNTERS]
    return "".join(f"        {line}\n" for line in lines)


def status(dp, *args):
    return ok(dp.dpctl("ipf-get-status", *args))


def without_memory(text):
    """The status without the memory line, which depends on allocation
    sizes."""
    return re.sub(r"        memory \(bytes\): \d+\n", "", text)


# ---- Commands ------------------------------------------------------------

def test_status_defaults(firewall):
    """ipf-get-status prints OVS's lines with the defaults (reassembly on,
    OVS's minimum sizes and fragment bound), then ctdp's counters; the same
    over ovs-appctl's dpctl/ipf-get-status."""
    assert status(firewall) == status_text()
    proc = firewall.appctl("dpctl/ipf-get-status")
    assert proc.returncode == 0 and proc.stdout == status_text()


def test_settings_round_trip(firewall):
    """Each setter answers as OVS does and shows in the status."""
    assert ok(firewall.dpctl("ipf-set-disabled", "v4")) == \
        "disabling fragmentation reassembly successful\n"
    assert ok(firewall.dpctl("ipf-set-disabled", "v6")) == \
        "disabling fragmentation reassembly successful\n"
    assert ok(firewall.dpctl("ipf-set-enabled", "v6")) == \
        "enabling fragmentation reassembly successful\n"
    assert ok(firewall.dpctl("ipf-set-min-frag", "v4", "400")) == \
        "setting minimum fragment size successful\n"
    assert ok(firewall.dpctl("ipf-set-min-frag", "v6", "1500")) == \
        "setting minimum fragment size successful\n"
    assert ok(firewall.dpctl("ipf-set-max-nfrags", "5000")) == \
        "setting maximum fragments successful\n"
    assert status(firewall) == status_text(
        v4={"min": 400}, v6={"min": 1500},
        **{"v4 enabled": 0, "max num frags (v4/v6)": 5000})


@pytest.mark.parametrize("args, message", [
    (["ipf-set-enabled", "v5"],
     "parameter missing: 'v4' for IPv4 or 'v6' for IPv6"),
    (["ipf-set-disabled", "4"],
     "parameter missing: 'v4' for IPv4 or 'v6' for IPv6"),
    (["ipf-set-min-frag", "v7", "1000"],
     "parameter missing: v4 for IPv4 or v6 for IPv6"),
    (["ipf-set-min-frag", "v4", "big"],
     "parameter missing for minimum fragment size"),
    (["ipf-set-min-frag", "v4", "-1"],
     "parameter missing for minimum fragment size"),
    (["ipf-set-min-frag", "v6", "399"],
     "requested minimum fragment size too small; see documentation"),
    (["ipf-set-max-nfrags", "many"],
     "parameter missing for maximum fragments"),
    (["ipf-set-max-nfrags", "5001"], "setting maximum fragments failed"),
    (["ipf-get-status", "-x"], "invalid argument -x"),
])
def test_errors_change_nothing(firewall, args, message):
    """A refused command prints OVS's message, exits 2, and leaves every
    setting as it was."""
    before = status(firewall)
    refused(firewall.dpctl(*args), message)
    assert status(firewall) == before


@pytest.mark.parametrize("args", [
    ["ipf-set-enabled"], ["ipf-set-enabled", "v4", "v6"],
    ["ipf-set-min-frag", "v4"], ["ipf-set-max-nfrags"],
    ["ipf-get-status", "-m", "-m"],
])
def test_wrong_argument_counts(firewall, args):
    """A wrong number of arguments is refused by ctdp-dpctl itself, in one
    line, with a non-zero status."""
    before = status(firewall)
    proc = firewall.dpctl(*args)
    assert proc.returncode != 0 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert status(firewall) == before


# ---- Fragments through the pipeline ---------------------------------------

def frags4(src=IP_IN, dst=IP_OUT, sport=40000, dport=7000, size=3000,
           ip_id=4321, mac=(MAC_IN, MAC_OUT)):
    """A UDP datagram of 'size' bytes fragmented at 1480 bytes of data, as
    Ethernet frames."""
    pkt = IP(src=src, dst=dst, id=ip_id) / UDP(sport=sport, dport=dport) \
        / (b"f" * size)
    return [eth(*mac) / f for f in fragment(pkt, fragsize=1480)]


def frags6(size=3000, ext_before=True, ext_after=True, mac=(MAC_IN, MAC_OUT),
           src=V6_IN, dst=V6_OUT, sport=40000, dport=7000):
    """A fragmented UDP datagram over IPv6, with a hop-by-hop header before
    the fragment header and a destination-options header after it."""
    pkt = IPv6(src=src, dst=dst)
    if ext_before:
        pkt = pkt / IPv6ExtHdrHopByHop()
    pkt = pkt / IPv6ExtHdrFragment(id=777)
    if ext_after:
        pkt = pkt / IPv6ExtHdrDestOpt()
    pkt = pkt / UDP(sport=sport, dport=dport) / (b"s" * size)
    return [eth(*mac) / f for f in fragment6(pkt, 1500)]


def conntrack(dp):
    return ok(dp.dpctl("dump-conntrack")).splitlines()


def counters(dp, version):
    """ipf-get-status's counters for 'version' ("v4", "v6") by name."""
    return {m[1]: int(m[2]) for m in re.finditer(
        rf"^        {version} frags ([a-z ]+): (\d+)$", status(dp), re.M)}


def cross_both_ways(dp, out, back, inside, outside, version):
    """Sends fragments 'out' in from port 1 and 'back' from port 2, and
    checks that each leaves on the other port as sent, that they make one
    UDP conn between 'inside' and 'outside' (ports 40000 and 7000), and
    that 'version' counts six fragments accepted and completed: each is
    gathered once, by the first ct() it meets; the firewall's second ct()
    (commit) sees the whole datagram."""
    dp.inject(1, *out)
    dp.wait_sent("p2", out)
    dp.inject(2, *back)
    dp.wait_sent("p1", back)
    assert conntrack(dp) == [
        f"udp,orig=(src={inside},dst={outside},sport=40000,dport=7000),"
        f"reply=(src={outside},dst={inside},sport=7000,dport=40000)"]
    c = counters(dp, version)
    assert c["accepted"] == 6 and c["completed"] == 6


def test_v4_fragments_cross_as_sent(firewall):
    """A fragmented UDP datagram from inside leaves on the outside port as
    the same fragments, in order; the reply, fragmented too, comes back;
    dump-conntrack shows one conn."""
    out = frags4()
    assert len(out) == 3
    back = frags4(src=IP_OUT, dst=IP_IN, sport=7000, dport=40000,
                  mac=(MAC_OUT, MAC_IN))
    cross_both_ways(firewall, out, back, IP_IN, IP_OUT, "v4")
    assert status(firewall).count(": 0\n") >= 20
    assert "num frag: 0\n" in status(firewall)


def test_out_of_order_fragments_leave_in_order(firewall):
    """Fragments sent last first leave in offset order, all of them, once
    the datagram is complete; one conn."""
    out = frags4(size=5000)
    firewall.inject(1, *reversed(out))
    firewall.wait_sent("p2", out)
    assert len(conntrack(firewall)) == 1


def test_v6_fragments_with_extension_headers(firewall):
    """IPv6 fragments with extension headers before and after the
    fragment header cross as sent, both ways; one conn."""
    out = frags6()
    assert len(out) == 3
    back = frags6(src=V6_OUT, dst=V6_IN, sport=7000, dport=40000,
                  mac=(MAC_OUT, MAC_IN), ext_before=False)
    cross_both_ways(firewall, out, back, V6_IN, V6_OUT, "v6")


def test_incomplete_datagram_is_held_then_expires(firewall):
    """Without its last fragment, a datagram sends nothing and makes no
    conn; ipf-get-status -m lists its queue; 15 s later (OVS's time/warp)
    the queue has expired."""
    out = frags4()
    assert firewall.appctl("time/stop").returncode == 0
    firewall.inject(1, out[0], out[1], arp_from(1))
    firewall.wait_sent("p2", [arp_from(1)])
    assert conntrack(firewall) == []
    text = status(firewall, "-m")
    assert "        num frag: 2\n" in text
    assert text.endswith(
        "\n        Fragment Lists:\n\n"
        f"(src={IP_IN},dst={IP_OUT},ip_id=4321,dl_type=0x800,zone=0,"
        "nw_proto=17,num_fragments=2,state=first frag)\n")
    assert firewall.appctl("time/warp", "16000").returncode == 0
    wait_until(lambda: counters(firewall, "v4")["expired"] == 2,
               what="the queue to expire")
    assert without_memory(status(firewall)) == without_memory(status_text(
        v4={"accepted": 2, "expired": 2}))
    assert status(firewall, "-m").endswith("Fragment Lists:\n\n")
    assert conntrack(firewall) == []


def test_overlapping_fragment_is_dropped(firewall):
    """A fragment that overlaps one held drops the datagram: nothing goes
    out, no conn, and the status says why."""
    out = frags4()
    bad = out[1].copy()
    bad[IP].frag = out[1][IP].frag - 1
    firewall.inject(1, out[0], bad, out[1], out[2], arp_from(1))
    firewall.wait_sent("p2", [arp_from(1)])
    c = counters(firewall, "v4")
    assert c["overlapped"] == 1 and c["discarded"] == 1
    assert conntrack(firewall) == []


def test_disabled_fragments_are_invalid(firewall):
    """With v4 reassembly off, fragments reach the tracker as they are:
    invalid, so the firewall drops them (the tracker counts 'fragment');
    whole datagrams pass as before."""
    ok(firewall.dpctl("ipf-set-disabled", "v4"))
    firewall.inject(1, *frags4(), arp_from(1))
    firewall.wait_sent("p2", [arp_from(1)])
    assert conntrack(firewall) == []
    assert re.search(r"\bfragment=3\b", ok(firewall.dpctl("ct-stats-show")))
    assert counters(firewall, "v4")["accepted"] == 0


def test_fragments_resume_the_action_list(make_dp):
    """The datagram goes on from the ct() that completed it, whole, as in
    the kernel's datapath: its table (matching a register set before it,
    once for the datagram), then the rest of the action list (output:3);
    a second ct() (commit) commits one conn; every output sends the
    original fragments."""
    dp = make_dp(n_ports=3, flows=[
        "table=0,priority=10,ip,in_port=1,"
        "actions=set_field:5->reg0,ct(zone=7,table=1),output:3",
        "table=0,priority=0,actions=drop",
        "table=1,priority=10,reg0=5,ct_state=+trk+new,ip,"
        "actions=ct(commit,zone=7),output:2",
        "table=1,priority=0,actions=drop",
    ])
    out = frags4(size=4000)
    dp.inject(1, *out)
    dp.wait_sent("p2", out)
    dp.wait_sent("p3", out)
    assert conntrack(dp) == [
        f"udp,orig=(src={IP_IN},dst={IP_OUT},sport=40000,dport=7000),"
        f"reply=(src={IP_OUT},dst={IP_IN},sport=7000,dport=40000),zone=7"]
    assert [f["n_packets"] for f in dp.flows(1)] == [1, 0]
