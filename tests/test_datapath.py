"""The datapath: ports, flow tables and ct() through ctdpd's commands.

Packets go in with 'ctdp-dpctl inject'; what the datapath sends comes back
from the dummy ports' pcap files; the tracker is observed through ct_state,
ct_zone, ct_mark and ct_label matches in the tests' own flows (their
n_packets in dump-flows) and through the conn count in 'show'.
"""
import pytest
from scapy.all import ICMP, IP, TCP, UDP, IPv6, Raw

from dp_helpers import (IP_IN, IP_OUT, MAC_IN, MAC_OUT,
                        ROUTER, arp_from, ctdpd_detached, eth,
                        one_error_line, udp_in, udp_out)

# Serves the fixtures 'firewall' and 'make_dp'.
pytest_plugins = ["dp_helpers"]

RECIRC = "table=0,priority=10,ip,actions=ct(table=1)"


# ---- The default firewall (port 1 inside, port 2 outside) ----------------

def test_firewall_forwards_udp_from_inside(firewall):
    """A UDP datagram from inside leaves on port 2, unchanged, and its conn
    is committed."""
    firewall.inject(1, udp_out())
    firewall.wait_sent("p2", [udp_out()])
    assert firewall.n_conns() == 1


def test_firewall_passes_udp_reply(firewall):
    """The outside host's reply to a UDP datagram from inside comes back out
    of port 1."""
    firewall.inject(1, udp_out())
    firewall.inject(2, udp_in())
    firewall.wait_sent("p1", [udp_in()])


def test_firewall_drops_new_udp_from_outside(firewall):
    """A UDP datagram from outside that answers nothing is dropped: the ARP
    barrier sent after it reaches port 1 alone, and no conn is made."""
    firewall.inject(2, udp_in(), arp_from(2))
    firewall.wait_sent("p1", [arp_from(2)])
    assert firewall.n_conns() == 0


def test_firewall_passes_icmp_echo_and_reply(firewall):
    """An ICMP echo request from inside goes out; the echo reply comes
    back in."""
    request = eth() / IP(src=IP_IN, dst=IP_OUT) / ICMP(type=8, id=7, seq=1)
    reply = (eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=IP_IN)
             / ICMP(type=0, id=7, seq=1))
    firewall.inject(1, request)
    firewall.wait_sent("p2", [request])
    firewall.inject(2, reply)
    firewall.wait_sent("p1", [reply])


def test_firewall_passes_related_port_unreachable(firewall):
    """An ICMP port unreachable from a router outside, quoting a UDP
    datagram the inside host sent, is related to that conn and comes in."""
    sent = udp_out(dport=9)
    error = (eth(MAC_OUT, MAC_IN) / IP(src=ROUTER, dst=IP_IN)
             / ICMP(type=3, code=3) / bytes(sent[IP]))
    firewall.inject(1, sent)
    firewall.inject(2, error)
    firewall.wait_sent("p1", [error])
    related = "priority=50,ct_state=+rel+trk,ip,in_port=2"
    assert firewall.n_packets(1, related) == 1


def test_firewall_drops_error_to_another_host(firewall):
    """An ICMP error quoting an inside conn but addressed to another host
    is not related (any host could otherwise send errors about any conn):
    it is invalid and dropped."""
    error = (eth(MAC_OUT, MAC_IN) / IP(src=ROUTER, dst="10.0.0.99")
             / ICMP(type=3, code=3) / bytes(udp_out()[IP]))
    firewall.inject(1, udp_out())
    firewall.inject(2, error, arp_from(2))
    firewall.wait_sent("p1", [arp_from(2)])
    assert firewall.n_packets(1, "priority=100,ct_state=+inv+trk") == 1


def test_firewall_passes_udp_over_ipv6(firewall):
    """IPv6 goes through the same stateful rules: a datagram out, its reply
    back in."""
    out = (eth() / IPv6(src="fd00::1", dst="2001:db8::2")
           / UDP(sport=40000, dport=7000) / b"v6")
    back = (eth(MAC_OUT, MAC_IN) / IPv6(src="2001:db8::2", dst="fd00::1")
            / UDP(sport=7000, dport=40000) / b"v6")
    firewall.inject(1, out)
    firewall.inject(2, back)
    firewall.wait_sent("p2", [out])
    firewall.wait_sent("p1", [back])


def test_firewall_drops_tcp_syn_from_outside(firewall):
    """A TCP SYN from outside opens nothing and is dropped."""
    syn = (eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=IP_IN)
           / TCP(sport=50000, dport=22, flags="S"))
    firewall.inject(2, syn, arp_from(2))
    firewall.wait_sent("p1", [arp_from(2)])
    assert firewall.n_conns() == 0


def test_firewall_counts_every_flow(firewall):
    """n_packets and n_bytes of every default flow count exactly the frames
    that went through it: an ARP, a UDP datagram out, its reply, and a new
    datagram from outside (the last three through the ct() flow)."""
    arp, out = arp_from(1), udp_out(payload=b"x" * 10)
    reply, stray = udp_in(payload=b"y" * 100), udp_in(sport=1, payload=b"z")
    firewall.inject(1, arp, out)
    firewall.inject(2, reply, stray)
    size = {name: len(bytes(f)) for name, f in
            (("arp", arp), ("out", out), ("reply", reply), ("stray", stray))}
    expected = {
        (0, "priority=100,arp,in_port=1"): ["arp"],
        (0, "priority=10,ip"): ["out", "reply", "stray"],
        (1, "priority=50,ct_state=+new+trk,ip,in_port=1"): ["out"],
        (1, "priority=50,ct_state=+est+trk,in_port=2"): ["reply"],
        (1, "priority=0"): ["stray"],
    }
    flows = firewall.flows()
    assert len(flows) == 22
    for f in flows:
        names = expected.pop((f["table"], f["match"]), [])
        assert (f["n_packets"], f["n_bytes"]) == \
            (len(names), sum(size[n] for n in names)), f
    assert not expected, f"flows not found: {expected}"


# ---- ct() from flows -----------------------------------------------------

def test_recirculation_sees_trk_new(make_dp):
    """ct(table=1) continues the packet at table 1 with ct_state set: the
    first packet of a flow is +trk+new there."""
    dp = make_dp(flows=[
        RECIRC,
        "table=1,priority=20,ct_state=+trk+new,actions=output:2",
        "table=1,priority=10,ct_state=+trk,actions=drop",
        "table=1,priority=0,actions=drop",
    ])
    dp.inject(1, udp_out())
    dp.wait_sent("p2", [udp_out()])
    assert [f["n_packets"] for f in dp.flows(1)] == [1, 0, 0]


def test_recirculation_sees_original_tuple(make_dp):
    """After ct(table=1) the reply's ct_nw_src, ct_nw_dst, ct_nw_proto,
    ct_tp_src and ct_tp_dst are the conn's original direction."""
    dp = make_dp(flows=[
        "table=0,priority=10,in_port=1,ip,actions=ct(commit),output:2",
        "table=0,priority=10,in_port=2,ip,actions=ct(table=1)",
        f"table=1,priority=10,ct_state=+trk+est+rpl,ip,ct_nw_src={IP_IN},"
        f"ct_nw_dst={IP_OUT},ct_nw_proto=17,ct_tp_src=40000,ct_tp_dst=7000,"
        "actions=output:1",
        "table=1,priority=0,actions=drop",
    ])
    dp.inject(1, udp_out())
    dp.inject(2, udp_in())
    dp.wait_sent("p1", [udp_in()])


def test_zone_from_register(make_dp):
    """ct(zone=NXM_NX_REG0[0..15]) tracks in the zone the register holds:
    table 1 sees ct_zone=5."""
    dp = make_dp(flows=[
        "table=0,ip,actions=load:5->NXM_NX_REG0[0..15],"
        "ct(zone=NXM_NX_REG0[0..15],table=1)",
        "table=1,priority=10,ct_zone=5,ct_state=+trk+new,actions=output:2",
        "table=1,priority=0,actions=drop",
    ])
    dp.inject(1, udp_out())
    dp.wait_sent("p2", [udp_out()])
    assert [f["n_packets"] for f in dp.flows(1)] == [1, 0]


def test_zones_keep_conns_apart(make_dp):
    """A conn committed in zone 5 is invisible from zone 6: its reply is
    +est+rpl when tracked in zone 5 and +new in zone 6."""
    dp = make_dp(flows=[
        "table=0,in_port=1,ip,actions=ct(commit,zone=5),output:2",
        "table=0,in_port=2,ip,udp,tp_src=7000,actions=ct(zone=5,table=1)",
        "table=0,in_port=2,ip,udp,tp_src=7001,actions=ct(zone=6,table=1)",
        "table=1,priority=10,ct_state=+trk+est+rpl,actions=output:1",
        "table=1,priority=5,ct_state=+trk+new,actions=drop",
    ])
    dp.inject(1, udp_out(dport=7000), udp_out(dport=7001))
    dp.inject(2, udp_in(sport=7000), udp_in(sport=7001))
    dp.wait_sent("p1", [udp_in(sport=7000)])
    assert [f["n_packets"] for f in dp.flows(1)] == [1, 1]


def test_ct_mark_and_label_set_at_commit(make_dp):
    """ct(commit,exec(set_field:...->ct_mark, ...->ct_label)) stores mark
    and label in the conn: the reply matches ct_mark=0x2a,ct_label=0x1."""
    dp = make_dp(flows=[
        RECIRC,
        "table=1,priority=10,ct_state=+trk+new,ip,in_port=1,actions=ct(commit,"
        "exec(set_field:0x2a->ct_mark,set_field:0x1->ct_label)),output:2",
        "table=1,priority=10,ct_state=+trk+est,ct_mark=0x2a,ct_label=0x1,"
        "in_port=2,actions=output:1",
        "table=1,priority=5,ct_state=+trk+est,actions=drop",
    ])
    dp.inject(1, udp_out())
    dp.inject(2, udp_in())
    dp.wait_sent("p1", [udp_in()])
    assert [f["n_packets"] for f in dp.flows(1)] == [1, 1, 0]


def test_ct_clear_untracks(make_dp):
    """After ct_clear a tracked packet is untracked again: a ct_state=-trk
    flow matches it."""
    dp = make_dp(flows=[
        RECIRC,
        "table=1,ct_state=+trk,actions=ct_clear,resubmit(,2)",
        "table=2,priority=10,ct_state=-trk,actions=output:2",
        "table=2,priority=0,actions=drop",
    ])
    dp.inject(1, udp_out())
    dp.wait_sent("p2", [udp_out()])
    assert [f["n_packets"] for f in dp.flows(2)] == [1, 0]


def test_force_commit_flips_direction(make_dp):
    """A conn committed A->B, then a B->A packet with ct(commit,force): the
    old conn ends and the packet's own makes a new one, so a later
    ct(table=1) sees +new (not +rpl), and the next A->B packet is the new
    conn's reply."""
    dp = make_dp(flows=[
        "table=0,in_port=1,ip,actions=ct(commit,table=1)",
        "table=0,in_port=2,ip,actions=ct(commit,force),ct(table=1)",
        "table=1,priority=20,ct_state=+trk+rpl,actions=drop",
        "table=1,priority=10,ct_state=+trk+new,actions=drop",
        "table=1,priority=5,ct_state=+trk+est,actions=drop",
    ])

    def rpl_new_est():
        return [f["n_packets"] for f in dp.flows(1)]

    dp.inject(1, udp_out())
    assert rpl_new_est() == [0, 1, 0]
    dp.inject(2, udp_in())
    assert rpl_new_est() == [0, 2, 0]
    dp.inject(1, udp_out())
    assert rpl_new_est() == [1, 2, 0]
    assert dp.n_conns() == 1


def test_force_commit_after_lookup_flips_direction(make_dp):
    """OVS's usual pattern: ct(table=1) first, then ct(commit,force) on the
    +rpl packet in table 1.  The conn is flipped: the next A->B packet is
    the new conn's reply (+est+rpl), not the old conn's original (+est)."""
    dp = make_dp(flows=[
        "table=0,priority=10,ip,actions=ct(table=1)",
        "table=1,priority=10,ip,in_port=1,ct_state=+trk+new,"
        "actions=ct(commit),resubmit(,2)",
        "table=1,priority=10,ip,in_port=2,ct_state=+trk+rpl,"
        "actions=ct(commit,force),resubmit(,2)",
        "table=1,priority=5,in_port=1,actions=resubmit(,2)",
        "table=2,priority=20,ct_state=+trk+rpl,actions=drop",
        "table=2,priority=10,ct_state=+trk+new,actions=drop",
        "table=2,priority=5,ct_state=+trk+est,actions=drop",
    ])
    dp.inject(1, udp_out())                 # A->B: committed, +new.
    dp.inject(2, udp_in())                  # B->A: +rpl, force commit.
    dp.inject(1, udp_out())                 # A->B again.
    rpl, new, est = [f["n_packets"] for f in dp.flows(2)]
    # After the force commit the B->A packet is +new in its own conn, and
    # A->B is that conn's reply.
    assert (rpl, new, est) == (1, 2, 0)


def test_uncommitted_conn_stays_new(make_dp):
    """A one-way UDP flow that is never committed makes no conn: every
    packet is +new, none +est, and show counts 0 conns."""
    dp = make_dp(flows=[
        RECIRC,
        "table=1,priority=10,ct_state=+trk+new,actions=output:2",
        "table=1,priority=10,ct_state=+trk+est,actions=output:2",
        "table=1,priority=0,actions=drop",
    ])
    dp.inject(1, *[udp_out()] * 3)
    dp.wait_sent("p2", [udp_out()] * 3)
    new = dp.n_packets(1, "priority=10,ct_state=+new+trk")
    est = dp.n_packets(1, "priority=10,ct_state=+est+trk")
    assert (new, est) == (3, 0)
    assert dp.n_conns() == 0


INVALID = {
    "truncated-udp": eth() / IP(src=IP_IN, dst=IP_OUT, proto=17)
    / Raw(b"\x9c\x40\x1b"),
    "orphan-echo-reply": eth() / IP(src=IP_IN, dst=IP_OUT)
    / ICMP(type=0, id=9, seq=1),
}


@pytest.mark.parametrize("kind", sorted(INVALID))
def test_tracker_marks_invalid(make_dp, kind):
    """A packet the tracker cannot take (a UDP header cut short, an ICMP
    echo reply without a request) is +trk+inv, and ct(commit) makes no conn
    of it."""
    dp = make_dp(flows=[
        "table=0,priority=10,ip,actions=ct(commit,table=1)",
        "table=1,priority=100,ct_state=+trk+inv,actions=output:2",
        "table=1,priority=10,ct_state=+trk,actions=drop",
        "table=1,priority=0,actions=drop",
    ])
    dp.inject(1, INVALID[kind])
    dp.wait_sent("p2", [INVALID[kind]])
    assert [f["n_packets"] for f in dp.flows(1)] == [1, 0, 0]
    assert dp.n_conns() == 0


def test_conn_expires_after_udp_unreplied_timeout(firewall):
    """With the clock stopped and warped past the kernel's 30 s udp
    unreplied timeout, the conn is gone: the late reply is dropped."""
    assert firewall.appctl("time/stop").returncode == 0
    firewall.inject(1, udp_out())
    assert firewall.appctl("time/warp", "31000").returncode == 0
    firewall.inject(2, udp_in(), arp_from(2))
    firewall.wait_sent("p1", [arp_from(2)])


def test_output_to_missing_port_is_counted(make_dp):
    """An output to a port that does not exist sends nothing and is counted
    as no_port in show."""
    dp = make_dp(flows=["table=0,actions=output:9"])
    dp.inject(1, udp_out())
    assert "no_port=1" in dp.show()


def test_resubmit_loop_is_cut(make_dp):
    """A flow that resubmits to itself stops after 64 levels, as in Open
    vSwitch, and the packet is counted as too_deep."""
    dp = make_dp(flows=["table=0,actions=resubmit(,0)"])
    dp.inject(1, udp_out())
    assert "too_deep=1" in dp.show()
    assert dp.flows()[0]["n_packets"] == 64


# ---- Refused flows and ports change nothing ------------------------------

BAD_FLOWS = {
    "unparsable": ("table=0,foo=1,actions=drop", "unknown keyword foo"),
    "no-actions": ("garbage", "must specify an action"),
    "mod_nw_src": ("ip,actions=mod_nw_src:1.2.3.4",
                   "action mod_nw_src is not supported by ctdp"),
    "output-normal": ("actions=output:NORMAL",
                      "output:NORMAL is not supported by ctdp"),
    "force-without-commit": ("ip,actions=ct(force)", "requires"),
    # Bad ct() actions are refused when added, never at packet time: OVS's
    # parser words these; ctdp's own check, the tracker's
    # ctdp_ct_action_check(), stands behind it (tests/unit/test-flows.c).
    "ct-nat-src-and-dst": ("ip,actions=ct(commit,nat(src=10.0.0.1,"
                           "dst=10.0.0.2))", 'one of "src" or "dst"'),
    "ct-nat-range-reversed": ("ip,actions=ct(commit,nat(src=10.0.0.9-"
                              "10.0.0.1))", "invalid nat range"),
    "ct-nat-ports-reversed": ("ip,actions=ct(commit,nat(src=10.0.0.1:90-80))",
                              "invalid nat range"),
    "ct-nat-flags-alone": ("ip,actions=ct(nat(hash))",
                           'Flags allowed only with "src" or "dst"'),
    "ct-zone-field-32-bits": ("ip,actions=ct(commit,zone=NXM_NX_REG0[0..31])",
                              "zone n_bits 32 not within valid range"),
    "ct-zone-field-8-bits": ("ip,actions=ct(commit,zone=NXM_NX_REG0[0..7])",
                             "zone n_bits 8 not within valid range"),
    "ct-unknown-alg": ("tcp,actions=ct(commit,alg=sip)",
                       'invalid conntrack helper "sip"'),
    "ct-exec-other-field": ("ip,actions=ct(commit,exec(set_field:1->reg0))",
                            "nested modification of reg0"),
    "set-packet-field": ("ip,actions=set_field:10.9.9.9->ip_dst,output:2",
                         "ctdp does not rewrite"),
}


@pytest.mark.parametrize("name", sorted(BAD_FLOWS))
def test_bad_flow_is_refused(firewall, name):
    """A flow ctdp cannot parse or execute: one error line, exit 2, and
    the flows and ports are as before."""
    flow, message = BAD_FLOWS[name]
    flows, show = firewall.flow_lines(), firewall.show()
    one_error_line(firewall.dpctl("add-flow", flow), message)
    assert firewall.flow_lines() == flows
    assert firewall.show() == show


BAD_PORTS = {
    "no-type": ("p3", "bad port 'p3' (want NAME=TYPE[:OPTIONS])"),
    "empty-type": ("p3=", "bad port 'p3='"),
    "unknown-type": ("p3=foo", "unknown type 'foo'"),
    "ofport-zero": ("p3=dummy:ofport=0", "bad ofport '0'"),
    "ofport-text": ("p3=dummy:ofport=x", "bad ofport 'x'"),
    "ofport-too-large": ("p3=dummy:ofport=300", "bad ofport '300' (want 1 to 255)"),
    "ofport-taken": ("p3=dummy:ofport=1", "ofport 1 is taken"),
    "ofport-twice": ("p3=dummy:ofport=3,ofport=4",
                     "port option 'ofport' given twice"),
    "duplicate-name": ("p1=dummy", "port p1 exists already"),
}


@pytest.mark.parametrize("name", sorted(BAD_PORTS))
def test_bad_port_is_refused(firewall, name):
    """A port spec that cannot be added: one error line, exit 2, and the
    ports and flows are as before."""
    spec, message = BAD_PORTS[name]
    flows, show = firewall.flow_lines(), firewall.show()
    one_error_line(firewall.dpctl("add-port", spec), message)
    assert firewall.show() == show
    assert firewall.flow_lines() == flows


def test_ctdpd_refuses_bad_port_option(tmp_path):
    """ctdpd --port=bad exits non-zero naming the spec, before detaching,
    and leaves no socket behind."""
    proc = ctdpd_detached(tmp_path, "--port=bad")
    assert proc.returncode != 0
    assert "--port: bad port 'bad'" in proc.stderr
    assert not (tmp_path / "s.ctl").exists()




def flows_file(tmp_path, text):
    path = tmp_path / "x.flows"
    path.write_text(text)
    return path


def test_ctdpd_flows_file_bad_line(tmp_path):
    """ctdpd --flows=FILE with a bad line exits non-zero, names FILE:LINE
    and leaves no socket behind."""
    path = flows_file(tmp_path, "# comment\ntable=0,ip,actions=drop\n"
                                "table=0,foo=1,actions=drop\n")
    proc = ctdpd_detached(tmp_path, f"--flows={path}")
    assert proc.returncode != 0
    assert f"--flows: {path}:3: unknown keyword foo" in proc.stderr
    assert not (tmp_path / "s.ctl").exists()


def test_flows_file_line_numbers_count_blank_lines(firewall, tmp_path):
    """The FILE:LINE of a bad line counts every line of the file, blank
    ones included, so that an editor finds it."""
    path = flows_file(tmp_path, "\n\ntable=5,priority=1,actions=drop\n\n"
                                "table=5,foo=1,actions=drop\n")
    one_error_line(firewall.dpctl("add-flows", str(path)),
                   f"{path}:5: unknown keyword foo")


def test_ctdpd_flows_file_replaces_default_flows(make_dp, tmp_path):
    """ctdpd --flows=FILE starts with exactly the flows in FILE."""
    path = flows_file(tmp_path, "table=0,priority=5,ip,actions=drop\n"
                                "table=1,priority=7,actions=drop\n")
    dp = make_dp(extra=[f"--flows={path}"])
    assert [(f["table"], f["match"]) for f in dp.flows()] == \
        [(0, "priority=5,ip"), (1, "priority=7")]


def test_add_flows_file_adds_every_line(firewall, tmp_path):
    """add-flows FILE adds every flow in FILE ('#' comments ignored)."""
    path = flows_file(tmp_path, "# two flows\ntable=5,priority=1,"
                                "actions=drop\ntable=6,priority=2,ip,"
                                "actions=drop  # a comment\n")
    firewall.ok("add-flows", str(path))
    assert [(f["table"], f["match"]) for f in firewall.flows()][-2:] == \
        [(5, "priority=1"), (6, "priority=2,ip")]


def test_add_flows_file_is_all_or_nothing(firewall, tmp_path):
    """add-flows FILE with one bad line among good ones adds nothing and
    names FILE:LINE in one error line."""
    path = flows_file(tmp_path, "table=5,priority=1,actions=drop\n"
                                "table=5,priority=2,actions=mod_nw_src:"
                                "1.2.3.4\ntable=5,priority=3,actions=drop\n")
    flows = firewall.flow_lines()
    one_error_line(firewall.dpctl("add-flows", str(path)),
                   f"{path}:2: action mod_nw_src is not supported")
    assert firewall.flow_lines() == flows


def test_add_flows_missing_file(firewall, tmp_path):
    """add-flows of a file that does not exist: one line naming the file,
    flows unchanged."""
    flows = firewall.flow_lines()
    one_error_line(firewall.dpctl("add-flows", str(tmp_path / "none")),
                   f"{tmp_path / 'none'}: No such file or directory")
    assert firewall.flow_lines() == flows


# ---- Flow and port management ---------------------------------------------

def test_del_flows_with_match_deletes_only_matching(firewall):
    """del-flows in_port=2 deletes the flows whose match includes
    in_port=2 (as ovs-ofctl's loose match) and keeps every other flow."""
    before = firewall.flows()
    firewall.ok("del-flows", "in_port=2")
    after = firewall.flows()
    kept = [(f["table"], f["match"]) for f in before
            if "in_port=2" not in f["match"]]
    assert [(f["table"], f["match"]) for f in after] == kept
    assert len(before) - len(after) == 7
    assert "flows: 15" in firewall.show()


def test_del_flows_in_one_table(firewall):
    """del-flows table=1 empties table 1 and keeps table 0."""
    table0 = firewall.flows(0)
    firewall.ok("del-flows", "table=1")
    assert firewall.flows(1) == []
    assert [f["match"] for f in firewall.flows()] == \
        [f["match"] for f in table0]


def test_del_flows_alone_deletes_all(firewall):
    """del-flows with no match deletes every flow: dump-flows is empty and
    every packet then misses."""
    firewall.ok("del-flows")
    assert firewall.ok("dump-flows") == ""
    assert "flows: 0" in firewall.show()
    firewall.inject(1, udp_out())
    assert "table_miss=1" in firewall.show()


def test_add_and_del_port_at_run_time(firewall):
    """add-port adds a dummy port that show lists and that flows can send
    to; del-port removes it from show."""
    firewall.ok("add-port", firewall.port_spec("p3"))
    assert "  port 3: p3 (dummy)\n" in firewall.show()
    firewall.ok("add-flow", "table=0,priority=200,udp,in_port=1,"
                            "actions=output:3")
    firewall.inject(1, udp_out())
    firewall.wait_sent("p3", [udp_out()])
    firewall.ok("del-port", "p3")
    assert "p3" not in firewall.show()


def test_port_name_reusable_after_del_port(firewall):
    """A port deleted at run time can be added again under the same name."""
    firewall.ok("add-port", "p3=dummy")
    firewall.ok("del-port", "p3")
    firewall.ok("add-port", "p3=dummy")
    assert "  port 3: p3 (dummy)\n" in firewall.show()


def test_del_port_unknown(firewall):
    """del-port of a port that does not exist: one error line, ports as
    before."""
    show = firewall.show()
    one_error_line(firewall.dpctl("del-port", "p9"), "no port named p9")
    assert firewall.show() == show
