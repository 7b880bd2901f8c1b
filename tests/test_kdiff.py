"""The kdiff corpus under pytest: one test per sequence of
tests/kdiff_corpus.py, each run through the kernel and through ctdp
(tests/kdiff.py); a test fails on any unexplained difference, and prints
the side-by-side verdicts and the tables."""

import pytest

from kdiff import (Diff, NatCompare, checksums_ok, compare_counts,
                   compare_expects, compare_tables, ctdp_flows, dropped,
                   helper_rule, judge, nat_rules, normalize, run_sequence)
from kdiff_corpus import (A4, B4, CORPUS, NAT4, Explained, Helper, Nat,
                          Sequence, Talk, Via, tcp, udp)
from scapy.all import IP, TCP, UDP
from kernel_ct import kernel_ready, parse_expect


needs_kernel = pytest.mark.skipif(kernel_ready() is not None,
                                  reason=str(kernel_ready()))


@needs_kernel
@pytest.mark.parametrize("seq", CORPUS, ids=lambda s: s.name)
def test_sequence(router, seq, tmp_path):
    lines = []
    bad = run_sequence(seq, router, tmp_path / "ctdp", lines.append)
    assert not bad, "\n".join(lines)


def test_corpus_covers_the_issue():
    """At least 25 sequences, unique names, a docstring each, and every
    area of the issues: TCP, UDP, ICMP, ICMPv6, zones, marks, fragments,
    SCTP, GRE, the sysctl knobs."""
    names = [s.name for s in CORPUS]
    assert len(names) >= 25
    assert len(set(names)) == len(names)
    assert all(s.doc for s in CORPUS)
    for prefix in ("tcp_", "udp_", "icmp_", "icmpv6_", "zone_", "mark_",
                   "frag_", "sctp_", "gre_", "knob_"):
        assert any(n.startswith(prefix) for n in names), prefix
    for s in CORPUS:
        for key, exp in s.explained.items():
            assert isinstance(exp, Explained) and exp.why, (s.name, key)


def test_corpus_covers_the_tcp_rules_mutants_broke():
    """The TCP rules the mutation check (tests/mutants/) broke unseen
    before have sequences of their own: a RST ending a train of data, and
    a FIN in SYN_RECV (never ASSURED)."""
    names = {s.name for s in CORPUS}
    assert {"tcp_rst_after_data", "tcp_fin_before_established"} <= names


def test_small_fragments_compare_their_table():
    """The small-fragment sequence lowers ctdp's minimum fragment size, so
    that both sides make the conn and its table is compared, with no
    table difference explained away."""
    seq = next(s for s in CORPUS if s.name == "frag_small_v4")
    assert ("ipf-set-min-frag", "v4", "400") in seq.ctdp_setup
    assert not [k for k in seq.explained if k.startswith("table")]


def conn(**kw):
    c = {"l3": "ipv4", "proto": "udp", "timeout": 30, "state": None,
         "orig": {"src": "10.0.0.1", "dst": "10.0.0.2", "sport": "1",
                  "dport": "2"},
         "reply": {"src": "10.0.0.2", "dst": "10.0.0.1", "sport": "2",
                   "dport": "1"},
         "flags": set(), "mark": 0, "zone": 0, "read": 100.0}
    c.update(kw)
    return c


@pytest.mark.parametrize("change,key", [
    ({"state": "ESTABLISHED"}, "table state"),
    ({"flags": {"ASSURED"}}, "table flags"),
    ({"mark": 3}, "table mark"),
    ({"timeout": 33}, "table timeout"),
    ({"reply": {"src": "10.0.0.9", "dst": "10.0.0.1", "sport": "2",
                "dport": "1"}}, "table reply"),
])
def test_compare_tables_reports_each_field(change, key):
    assert [d.key for d in compare_tables([conn()], [conn(**change)])] \
        == [key]


def test_compare_tables_matches_by_tuple_and_zone():
    assert compare_tables([conn()], [conn()]) == []
    # A timeout within the tolerance, IPv6 spelled in full by ctdp.
    v6 = {"src": "2001:db8::1", "dst": "2001:db8::2", "sport": "1",
          "dport": "2"}
    full = {"src": "2001:0db8:0000:0000:0000:0000:0000:0001",
            "dst": "2001:0db8:0000:0000:0000:0000:0000:0002", "sport": "1",
            "dport": "2"}
    assert compare_tables([conn(orig=v6, timeout=30)],
                          [conn(orig=full, timeout=29)]) == []
    keys = sorted(d.key for d in compare_tables([conn()], [conn(zone=5)]))
    assert keys == ["table only-ctdp", "table only-kernel"]


def test_compare_tables_counts_conns():
    """A conn listed twice on one side shows as a count difference, though
    its tuple matches."""
    diffs = compare_tables([conn()], [conn(), conn()])
    assert [(d.key, d.kernel, d.ctdp) for d in diffs] == [
        ("table count", 1, 2)]
    assert compare_counts(3, 3) == []
    assert [(d.key, d.kernel, d.ctdp) for d in compare_counts(1, 2)] == [
        ("count", 1, 2)]


def test_explained_by_value():
    """An explanation explains a difference only with the same values
    (timeouts within the tolerance); with other values, or with nothing
    to explain, it counts as unexplained."""
    seq = Sequence("s", "doc", [], explained={
        "packet 1 verdict": Explained("new", "new,new", "fragments"),
        "table timeout": Explained(3, 600, "no SCTP")})
    verdict = Diff("packet 1 verdict", "new", "new,new", "")
    timeout = Diff("table timeout", 2, 599, "")
    assert judge(seq, [verdict, timeout], lambda line: None) == []
    bad = judge(seq, [Diff("packet 1 verdict", "new", "inv", ""), timeout],
                lambda line: None)
    assert len(bad) == 1 and "explained as kernel 'new', ctdp 'new,new'" \
        in bad[0], bad
    assert len(judge(seq, [verdict, Diff("table timeout", 3, 30, "")],
                     lambda line: None)) == 1
    assert judge(seq, [verdict], lambda line: None) == [
        "s: [table timeout] explained but not seen"]
    assert sorted(judge(seq, [Diff("table state", "CLOSE", "ESTABLISHED",
                                   "x")], lambda line: None)) == [
        "s: [packet 1 verdict] explained but not seen",
        "s: [table state] x",
        "s: [table timeout] explained but not seen"]


@needs_kernel
def test_stale_explanation_counts(router, tmp_path):
    """An explanation for a difference that does not occur is itself an
    unexplained difference."""
    seq = Sequence("stale", "An explained difference that never shows.",
                   [udp("A")], explained={
                       "packet 0 verdict": Explained("new", "inv", "none")})
    bad = run_sequence(seq, router, tmp_path / "ctdp", lambda line: None)
    assert bad == ["stale: [packet 0 verdict] explained but not seen"]


@needs_kernel
def test_difference_is_reported(router, tmp_path):
    """A sequence whose two sides see different rules (ctdp marks, the
    kernel does not) shows the difference."""
    import kdiff
    seq = Sequence("marked", "Mark 5 on ctdp's side only.", [udp("A")])
    real = kdiff.ctdp_flows
    kdiff.ctdp_flows = lambda zone, mark, *nat: real(zone, 5, *nat)
    try:
        bad = run_sequence(seq, router, tmp_path / "ctdp", lambda line: None)
    finally:
        kdiff.ctdp_flows = real
    assert len(bad) == 1 and "[table mark]" in bad[0], bad


def test_corpus_covers_nat():
    """The NAT sequences of the issue: SNAT keeping the port, TCP SNAT
    with a port range, masquerade, a DNAT port forward, ICMP echo and an
    ICMP error through SNAT, IPv6, two hosts on one port, exhaustion;
    none with an explained difference."""
    nat = {s.name: s for s in CORPUS if s.nat}
    assert {"nat_snat_udp_keep_port", "nat_snat_tcp_port_range",
            "nat_masquerade_udp", "nat_dnat_tcp_port_forward",
            "nat_snat_icmp_echo", "nat_snat_icmp_port_unreachable",
            "nat_snat_v6_tcp", "nat_snat_two_hosts_same_port",
            "nat_snat_range_exhausted"} <= set(nat)
    assert {s.nat.kind for s in nat.values()} == {"snat", "dnat",
                                                  "masquerade"}
    assert any(s.nat.v6 for s in nat.values())
    assert not [s.name for s in nat.values() if s.explained]


def test_nat_rule_and_flow_agree():
    """One Nat gives R's nft rule and ctdp's flow with the same range."""
    rif = {"A": "ra", "B": "rb"}
    snat = Nat("snat", NAT4, (10000, 10010), "tcp")
    assert nat_rules(snat, rif) == {"prerouting": [], "postrouting": [
        'oifname "rb" meta l4proto tcp snat ip to '
        '10.0.0.100:10000-10010']}
    flows = ctdp_flows(0, 0, snat)
    assert ("cookie=0x11,table=1,priority=20,tcp,in_port=1,"
            "ct_state=+trk+new-rpl,actions=ct(commit,zone=0,"
            "nat(src=10.0.0.100:10000-10010)),output:2") in flows
    assert "table=0,priority=10,ip,actions=ct(table=1,zone=0,nat)" in flows
    v6 = Nat("snat", "2001:db8::100", (1, 2), "udp", v6=True)
    assert nat_rules(v6, rif)["postrouting"] == [
        'oifname "rb" meta l4proto udp snat ip6 to [2001:db8::100]:1-2']
    assert "udp6,in_port=1" in ctdp_flows(0, 0, v6)[-2]
    assert "nat(src=[2001:db8::100]:1-2)" in ctdp_flows(0, 0, v6)[-2]
    dnat = Nat("dnat", A4, (80, 80), "tcp", match_dst=NAT4, match_dport=8080)
    assert nat_rules(dnat, rif)["prerouting"] == [
        'iifname "rb" ip daddr 10.0.0.100 meta l4proto tcp th dport 8080 '
        'dnat ip to 10.0.0.1:80']
    assert "tcp,nw_dst=10.0.0.100,tp_dst=8080,in_port=2" in \
        ctdp_flows(0, 0, dnat)[-2]
    masq = Nat("masquerade", "10.0.0.253", (20000, 20010), "udp")
    assert nat_rules(masq, rif)["postrouting"] == [
        'oifname "rb" meta l4proto udp masquerade to :20000-20010']
    # Without NAT the flows are as before: no output, no nat.
    assert not [f for f in ctdp_flows(0, 0) if "nat" in f or "output" in f]


def test_normalize_undoes_the_routers_ttl():
    """The kernel's forwarded packet is compared with its TTL (hop limit)
    one more and the IPv4 header checksum redone; checksums are checked."""
    sent = bytes(IP(src=A4, dst=B4, ttl=64) / UDP(sport=1, dport=2) / b"x")
    fwd = bytes(IP(src=A4, dst=B4, ttl=63) / UDP(sport=1, dport=2) / b"x")
    assert normalize(fwd) == sent
    assert checksums_ok(sent) == {"ip": True, "l4": True}
    bad = bytearray(sent)
    bad[-1] ^= 1
    assert checksums_ok(bytes(bad)) == {"ip": True, "l4": False}


def out_pkt(sport, ttl=64):
    return bytes(IP(src=NAT4, dst=B4, ttl=ttl)
                 / TCP(sport=sport, dport=80, flags="S", seq=1000))


def test_random_ports_compared_by_range_and_consistency():
    """Two different ports in the range are one (an alias), in later
    packets and in the reply tuple; a port outside the range, or a port
    that changes within a conn, is a difference."""
    c = NatCompare(Nat("snat", NAT4, (10000, 10010), "tcp"))
    syn = tcp("A", "S", 1000)[1]
    _, diffs = c.compare(0, "A", syn, {"B": [out_pkt(10003, 63)]},
                         {"B": [out_pkt(10007)]})
    assert diffs == []
    # B's answer to each side's own port.
    assert c.build(Via(tcp("B", "SA", 5000, 1001), 0), "ctdp")[TCP].dport \
        == 10007
    _, diffs = c.compare(1, "A", syn, {"B": [out_pkt(10003, 63)]},
                         {"B": [out_pkt(10008)]})
    assert [d.key for d in diffs] == ["packet 1 nat sport", "packet 1 out"]
    conn = {"proto": "tcp", "orig": {"src": A4, "dst": B4, "sport": "40000",
                                     "dport": "80"},
            "reply": {"src": B4, "dst": NAT4, "sport": "80",
                      "dport": "10007"}}
    assert c.check_bindings("ctdp", [conn]) == []
    assert c.fix_conns([conn])[0]["reply"]["dport"] == "10003"
    c2 = NatCompare(Nat("snat", NAT4, (10000, 10010), "tcp"))
    _, diffs = c2.compare(0, "A", syn, {"B": [out_pkt(10003, 63)]},
                          {"B": [out_pkt(9999)]})
    assert [d.key for d in diffs] == ["packet 0 nat sport", "packet 0 out"]


@needs_kernel
def test_nat_difference_is_reported(router, tmp_path):
    """ctdp NATing to another address than the kernel shows in the
    packets and in the reply tuple."""
    import kdiff
    seq = Sequence("other_address", "ctdp SNATs to 10.0.0.101.",
                   [udp("A"), Via(udp("B"), 0)], nat=Nat("snat", NAT4))
    real = kdiff.ctdp_flows
    kdiff.ctdp_flows = lambda zone, mark, *nat: real(
        zone, mark, Nat("snat", "10.0.0.101"))
    try:
        bad = run_sequence(seq, router, tmp_path / "ctdp", lambda line: None)
    finally:
        kdiff.ctdp_flows = real
    assert any("[packet 0 out]" in b and "10.0.0.101" in b for b in bad), bad
    assert any("[table reply]" in b for b in bad), bad


def test_corpus_covers_helpers():
    """The helper sequences of the issue: active FTP (PORT, EPRT), passive
    (227, 229), IPv6 (EPRT |2|, EPSV), PORT on the first line, mid-line,
    retransmitted, naming another host, cut short; FTP on another port;
    TFTP; the data conn without a helper.  None explains a difference."""
    helped = {s.name: s for s in CORPUS if s.helper}
    assert {"ftp_active_port", "ftp_passive_pasv", "ftp_passive_epsv",
            "ftp_active_eprt", "ftp_v6_eprt", "ftp_v6_epsv",
            "ftp_port_first_line", "ftp_port_mid_line",
            "ftp_port_retransmitted", "ftp_port_other_host",
            "ftp_port_partial", "ftp_nonstandard_port", "tftp_rrq",
            "tftp_wrq_v6"} <= set(helped)
    assert {s.helper.kind for s in helped.values()} == {"ftp", "tftp"}
    assert any(s.helper.kind == "ftp" and s.helper.port != 21
               for s in helped.values())
    names = {s.name: s for s in CORPUS}
    assert names["ftp_without_helper"].helper is None
    assert not [s.name for s in CORPUS
                if s.name.startswith(("ftp_", "tftp_")) and s.explained]


def test_helper_rule_and_flow_agree():
    """One Helper gives R's ct helper object and rule, and ctdp's flows
    committing the new conns to its port with alg=; a new conn an
    expectation matches (+new+rel) is left to the rel flow, as the
    kernel's ct state new does not match a related conn."""
    ftp = Helper("ftp", 2121)
    assert helper_rule(ftp) == ("ftp-2121", "ftp", "tcp", 2121)
    flows = ctdp_flows(3, 5, None, ftp)
    assert ("cookie=0x11,table=1,priority=20,tcp,tp_dst=2121,in_port=1,"
            "ct_state=+trk+new-rel-rpl,actions=ct(commit,zone=3,alg=ftp,"
            "exec(set_field:5->ct_mark)),output:2") in flows
    assert any(f.startswith("cookie=0x11,table=1,priority=20,tcp6,") for f
               in flows)
    assert ("cookie=0x15,table=1,priority=10,ip,in_port=2,"
            "ct_state=+trk+rel-rpl,actions=ct(commit,zone=3),output:1") \
        in flows
    assert "table=0,priority=10,ip,actions=ct(table=1,zone=3)" in flows
    tftp = ctdp_flows(0, 0, None, Helper("tftp", 69))
    assert any("udp6,tp_dst=69,in_port=2" in f and "alg=tftp" in f
               for f in tftp)
    assert not [f for f in ctdp_flows(0, 0) if "alg=" in f]


def test_expectations_parsed_and_compared():
    """/proc/net/nf_conntrack_expect lines (the kernel's IPv6 in full,
    ctdp's shortened) compare by tuple and helper, timeouts within the
    tolerance."""
    k = parse_expect(
        "297 l3proto = 10 proto=6 src=2001:0db8:0000:0000:0000:0000:0000:"
        "0002 dst=2001:0db8:0000:0000:0000:0000:0000:0001 sport=0 "
        "dport=2001 ftp\n")
    c = parse_expect("296 l3proto = 10 proto=6 src=2001:db8::2 "
                     "dst=2001:db8::1 sport=0 dport=2001 ftp\n")
    assert k[0]["tuple"] == c[0]["tuple"] and k[0]["rest"] == ["ftp"]
    for e in k + c:
        e["read"] = 100.0
    assert compare_expects(3, k, c) == []
    c[0]["timeout"] = 250
    assert [d.key for d in compare_expects(3, k, c)] == [
        "packet 3 expect timeout"]
    tftp = parse_expect("299 l3proto = 10 proto=6 src=2001:db8::2 "
                        "dst=2001:db8::1 sport=0 dport=2001 tftp\n")
    tftp[0]["read"] = 100.0
    d, = compare_expects(4, k, tftp)
    assert d.key == "packet 4 expect" and d.ctdp[0].endswith("tftp")
    assert [x.key for x in compare_expects(5, k, [])] == ["packet 5 expect"]


def test_dropped_packets_are_one_verdict():
    """A packet a side did not forward is "dropped", whatever its counter
    said (the kernel's helper drops after the forward chain counted it,
    ctdp's before table 1); invalid ones stay "inv"."""
    assert dropped("est", []) == "dropped"
    assert dropped("held", None) == "dropped"
    assert dropped("inv", []) == "inv"
    assert dropped("est", [b"x"]) == "est"


def test_talk_keeps_sequence_numbers():
    """Talk's segments carry each side's next sequence number and
    acknowledge the other's; again() repeats the last one as it was."""
    t = Talk(40000, 21)
    syn, synack, ack = (p for _, p in t.handshake())
    assert (syn[TCP].seq, synack[TCP].seq, synack[TCP].ack) == (1000, 5000,
                                                                1001)
    _, line = t.say("A", "USER x\r\n")
    assert (line[TCP].seq, line[TCP].ack) == (1001, 5001)
    assert t.again()[1][TCP].seq == 1001 and t.next["A"] == 1009


@needs_kernel
def test_helper_difference_is_reported(router, tmp_path):
    """ctdp without the helper on the control conn (no alg=) shows: no
    expectation where the kernel has one, the data SYN new, not rel, the
    conn's helper."""
    import kdiff
    seq = next(s for s in CORPUS if s.name == "tftp_rrq")
    real = kdiff.ctdp_flows
    kdiff.ctdp_flows = lambda zone, mark, nat=None, helper=None: real(
        zone, mark, nat, Helper("tftp", 70))
    try:
        bad = run_sequence(seq, router, tmp_path / "ctdp", lambda line: None)
    finally:
        kdiff.ctdp_flows = real
    assert any("[packet 0 expect]" in b for b in bad), bad
    assert any("[packet 1 verdict]" in b and "ctdp new" in b for b in bad), \
        bad
    assert any("[table helper]" in b for b in bad), bad
