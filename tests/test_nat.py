"""NAT through the datapath, on dummy ports: Open vSwitch's ct(nat) flow
syntax driving the kernel's nf_nat semantics (datapath-ct/ctdp-nat.c).

Port 1 is inside (10.0.0.0/24, fd00::/64), port 2 outside; the flows
below source-NAT inside conns to 192.0.2.100 (or [fd00:2::100]) and
de-NAT everything that comes back with a bare ct(nat).  Every packet that
leaves is checked against a full recomputation of its checksums.
"""
import re

import pytest
from scapy.all import (ICMP, IP, TCP, UDP, UDPerror, IPerror, Ether,
                       ICMPv6DestUnreach, ICMPv6EchoReply,
                       ICMPv6EchoRequest, IPv6, Raw, defragment, fragment)

from conftest import wait_until
from dp_helpers import (IP_IN, IP_OUT, MAC_IN, MAC_OUT, ROUTER, eth,
                        firewall, make_dp, one_error_line,  # noqa: F401
                        udp_out)
from test_stream import Monitor, monitor  # noqa: F401

NAT_IP = "192.0.2.100"
IP6_IN, IP6_OUT, NAT_IP6 = "fd00::1", "fd00:2::2", "fd00:2::100"


def snat_flows(nat="nat(src=192.0.2.100)", zone=1, extra="", family="ip"):
    """Inside conns ('family', ip or ipv6) are committed with 'nat'; what
    comes from outside is de-NATed and passes if established or related.
    Table 1 counts packets by their NAT bits."""
    return [
        "table=0,priority=100,arp,actions=drop",
        f"table=0,priority=10,{family},in_port=1,"
        f"actions=ct(commit,zone={zone},{nat}{extra}),output:2",
        f"table=0,priority=10,ip,in_port=2,actions=ct(zone={zone},nat,table=1)",
        f"table=0,priority=10,ipv6,in_port=2,"
        f"actions=ct(zone={zone},nat,table=1)",
        "table=1,priority=20,ct_state=+trk+est+dnat,actions=output:1",
        "table=1,priority=20,ct_state=+trk+rel+dnat,actions=output:1",
        "table=1,priority=10,ct_state=+trk,actions=drop",
    ]


def from_out(l4, dst=NAT_IP, src=IP_OUT):
    return eth(MAC_OUT, MAC_IN) / IP(src=src, dst=dst) / l4


def checksums_right(frame, l4=True):
    """'frame' (bytes) equals itself with every checksum recomputed (with
    'l4' false, only the IP header's: a fragment's L4 checksum covers the
    whole datagram)."""
    pkt = Ether(frame)
    layers = (IP, TCP, UDP, ICMP, IPerror, UDPerror, ICMPv6EchoRequest,
              ICMPv6EchoReply, ICMPv6DestUnreach) if l4 else (IP,)
    for layer in layers:
        if layer in pkt and hasattr(pkt[layer], "chksum") \
                and layer not in (IPerror, UDPerror):
            if layer is UDP and pkt[UDP].chksum == 0:
                continue
            del pkt[layer].chksum
        elif layer in pkt and hasattr(pkt[layer], "cksum"):
            del pkt[layer].cksum
    return bytes(Ether(bytes(pkt))) == frame


def sent(dp, port, n, l4=True):
    """The 'n' frames 'port' sent, each with its checksums right."""
    wait_until(lambda: len(dp.sent(port)) >= n, what=f"{n} frames on {port}")
    frames = dp.sent(port)
    assert len(frames) == n, [Ether(f).summary() for f in frames]
    for f in frames:
        assert checksums_right(f, l4), Ether(f).show2(dump=True)
    return [Ether(f) for f in frames]


def conns(dp, *args):
    return dp.ok("dump-conntrack", *args).splitlines()


def stat(dp, name):
    m = re.search(rf"\b{name}[=:] ?(\d+)", dp.ok("ct-stats-show"))
    return int(m[1]) if m else 0


def test_snat_udp_round_trip(make_dp):
    """The source is translated on the way out, the reply's destination
    back on the way in; the first keeps its port (free), the dump shows
    the NATed reply tuple and the status bits."""
    dp = make_dp(flows=snat_flows())
    dp.inject(1, udp_out())
    out, = sent(dp, "p2", 1)
    assert (out[IP].src, out[IP].dst, out[UDP].sport) == \
        (NAT_IP, IP_OUT, 40000)
    dp.inject(2, from_out(UDP(sport=7000, dport=40000) / b"back"))
    back, = sent(dp, "p1", 1)
    assert (back[IP].src, back[IP].dst, back[UDP].dport) == \
        (IP_OUT, IP_IN, 40000)
    assert conns(dp, "-m") == [
        "udp,orig=(src=10.0.0.1,dst=192.0.2.2,sport=40000,dport=7000),"
        "reply=(src=192.0.2.2,dst=192.0.2.100,sport=7000,dport=40000),"
        + re.search(r"id=\d+", conns(dp, "-m")[0])[0]
        + ",zone=1,status=SEEN_REPLY|CONFIRMED|SRC_NAT|SRC_NAT_DONE"]
    assert dp.n_packets(1, "priority=20,ct_state=+est+trk+dnat") == 1


def test_reply_to_untranslated_address_is_not_the_conn(make_dp):
    """A packet to the inside host's own address is not the NATed conn's
    reply: it is a new conn from outside, and dropped."""
    dp = make_dp(flows=snat_flows())
    dp.inject(1, udp_out())
    sent(dp, "p2", 1)
    dp.inject(2, from_out(UDP(sport=7000, dport=40000), dst=IP_IN))
    assert dp.n_packets(1, "priority=10,ct_state=+trk") == 1
    assert dp.sent("p1") == []


def test_snat_port_range_and_zero_udp_checksum(make_dp):
    """With a port range the source port moves into it; a UDP checksum of
    0 ("none") stays 0."""
    dp = make_dp(flows=snat_flows("nat(src=192.0.2.100:5000-5009)"))
    frame = udp_out()
    frame[UDP].chksum = 0
    dp.inject(1, Ether(bytes(frame)))
    out, = sent(dp, "p2", 1)
    assert 5000 <= out[UDP].sport <= 5009 and out[UDP].chksum == 0


def test_two_inside_hosts_same_port_get_two_reply_tuples(make_dp):
    """Two inside hosts using the same source port behind one address:
    the second conn gets another port, so replies reach the right host."""
    dp = make_dp(flows=snat_flows())
    dp.inject(1, udp_out())
    dp.inject(1, eth() / IP(src="10.0.0.7", dst=IP_OUT)
              / UDP(sport=40000, dport=7000) / b"ctdp")
    a, b = sent(dp, "p2", 2)
    assert a[UDP].sport == 40000 and b[UDP].sport != 40000
    assert b[UDP].sport >= 1024
    dp.inject(2, from_out(UDP(sport=7000, dport=b[UDP].sport)))
    back, = sent(dp, "p1", 1)
    assert back[IP].dst == "10.0.0.7" and back[UDP].dport == 40000


def test_range_exhaustion_drops_and_counts(make_dp):
    """A range of two ports serves two conns; the third is dropped,
    counted as nat_exhausted and logged."""
    dp = make_dp(flows=snat_flows("nat(src=192.0.2.100:5000-5001)"))
    for sport in (1111, 2222, 3333):
        dp.inject(1, udp_out(sport=sport))
    outs = sent(dp, "p2", 2)
    assert sorted(o[UDP].sport for o in outs) == [5000, 5001]
    assert len(conns(dp)) == 2
    assert stat(dp, "nat_exhausted") == 1
    wait_until(lambda: "no free tuple" in dp.logfile.read_text(),
               what="the exhaustion log line")


def test_dnat_tcp_port_forward(make_dp):
    """Outside reaches an inside server through a port forward: the
    destination and port are translated, the server's answers get the
    forwarded address back as their source."""
    dp = make_dp(flows=[
        "table=0,priority=10,tcp,in_port=2,nw_dst=192.0.2.100,tp_dst=8080,"
        "actions=ct(commit,zone=3,nat(dst=10.0.0.1:80)),output:1",
        "table=0,priority=10,ip,in_port=1,actions=ct(zone=3,nat,table=1)",
        "table=1,ct_state=+trk+est+snat,actions=output:2",
    ])
    syn = from_out(TCP(sport=33000, dport=8080, flags="S", seq=100))
    dp.inject(2, syn)
    fwd, = sent(dp, "p1", 1)
    assert (fwd[IP].dst, fwd[TCP].dport) == (IP_IN, 80)
    dp.inject(1, eth() / IP(src=IP_IN, dst=IP_OUT)
              / TCP(sport=80, dport=33000, flags="SA", seq=500, ack=101))
    back, = sent(dp, "p2", 1)
    assert (back[IP].src, back[TCP].sport) == (NAT_IP, 8080)
    assert conns(dp) == [
        "tcp,orig=(src=192.0.2.2,dst=192.0.2.100,sport=33000,dport=8080),"
        "reply=(src=10.0.0.1,dst=192.0.2.2,sport=80,dport=33000),zone=3,"
        "protoinfo=(state=SYN_RECV)"]


def test_icmp_echo_and_port_unreachable_through_snat(make_dp):
    """A ping's id is kept (free) and its reply de-NATed; a port
    unreachable about a NATed UDP datagram reaches the inside host with
    the quoted packet translated back and its checksum right."""
    dp = make_dp(flows=snat_flows())
    dp.inject(1, eth() / IP(src=IP_IN, dst=IP_OUT) / ICMP(id=77, seq=1))
    ping, = sent(dp, "p2", 1)
    assert ping[IP].src == NAT_IP and ping[ICMP].id == 77
    dp.inject(2, from_out(ICMP(type=0, id=77, seq=1)))
    pong, = sent(dp, "p1", 1)
    assert pong[IP].dst == IP_IN

    dp.inject(1, udp_out(sport=40001))
    out = sent(dp, "p2", 2)[1]
    err = from_out(ICMP(type=3, code=3) / bytes(out[IP])[:28], src=ROUTER)
    dp.inject(2, err)
    back = sent(dp, "p1", 2)[1]
    assert back[IP].src == ROUTER and back[IP].dst == IP_IN
    assert back[IPerror].src == IP_IN and back[IPerror].dst == IP_OUT
    assert back[UDPerror].sport == 40001
    assert dp.n_packets(1, "priority=20,ct_state=+rel+trk+dnat") == 1


def test_icmp_error_from_inside_about_a_dnat_reply(make_dp):
    """The other way: the inside server's host answers a forwarded UDP
    datagram with port unreachable; the outside client sees it come from
    the forwarded address, quoting what it sent."""
    dp = make_dp(flows=[
        "table=0,priority=10,udp,in_port=2,"
        "actions=ct(commit,zone=3,nat(dst=10.0.0.1:53)),output:1",
        "table=0,priority=10,ip,in_port=1,actions=ct(zone=3,nat,table=1)",
        "table=1,ct_state=+trk+rel,actions=output:2",
    ])
    dp.inject(2, from_out(UDP(sport=5353, dport=5300) / b"q"))
    fwd, = sent(dp, "p1", 1)
    dp.inject(1, eth() / IP(src=IP_IN, dst=IP_OUT)
              / ICMP(type=3, code=3) / bytes(fwd[IP])[:28])
    err, = sent(dp, "p2", 1)
    assert err[IP].src == NAT_IP and err[IP].dst == IP_OUT
    assert err[IPerror].dst == NAT_IP and err[UDPerror].dport == 5300


def test_ipv6_snat_echo_and_error(make_dp):
    """IPv6: ICMPv6 echo through SNAT (the checksum covers the addresses)
    and an ICMPv6 error quoting a NATed UDP datagram."""
    dp = make_dp(flows=snat_flows("nat(src=fd00:2::100)", family="ipv6"))
    e6 = eth()
    dp.inject(1, e6 / IPv6(src=IP6_IN, dst=IP6_OUT)
              / ICMPv6EchoRequest(id=5, seq=1))
    ping, = sent(dp, "p2", 1)
    assert ping[IPv6].src == NAT_IP6
    dp.inject(2, eth(MAC_OUT, MAC_IN) / IPv6(src=IP6_OUT, dst=NAT_IP6)
              / ICMPv6EchoReply(id=5, seq=1))
    pong, = sent(dp, "p1", 1)
    assert pong[IPv6].dst == IP6_IN

    dp.inject(1, e6 / IPv6(src=IP6_IN, dst=IP6_OUT)
              / UDP(sport=41000, dport=53) / b"q")
    out = sent(dp, "p2", 2)[1]
    assert out[IPv6].src == NAT_IP6
    dp.inject(2, eth(MAC_OUT, MAC_IN) / IPv6(src=IP6_OUT, dst=NAT_IP6)
              / ICMPv6DestUnreach(code=4) / bytes(out[IPv6]))
    err = sent(dp, "p1", 2)[1]
    assert err[IPv6].dst == IP6_IN
    quoted = IPv6(bytes(err[ICMPv6DestUnreach].payload))
    assert quoted.src == IP6_IN and quoted[UDP].sport == 41000


def test_ipv6_snat_port_with_brackets(make_dp):
    """nat(src=[ADDR]:PORT-PORT) for IPv6."""
    dp = make_dp(flows=snat_flows("nat(src=[fd00:2::100]:6000-6000)",
                                 family="ipv6"))
    dp.inject(1, eth() / IPv6(src=IP6_IN, dst=IP6_OUT)
              / UDP(sport=41000, dport=53) / b"q")
    out, = sent(dp, "p2", 1)
    assert out[IPv6].src == NAT_IP6 and out[UDP].sport == 6000


def test_null_binding_moves_a_clashing_reply_tuple(make_dp):
    """A conn committed without nat whose reply tuple an SNATed conn has
    already (the router's own 192.0.2.100:40000, in on port 3) gets
    another source port, as the kernel's null binding, instead of being
    dropped: its reply would otherwise reach the inside host."""
    dp = make_dp(n_ports=3, flows=snat_flows() + [
        "table=0,priority=20,ip,in_port=3,"
        "actions=ct(commit,zone=1),output:2",
    ])
    dp.inject(1, udp_out())
    first, = sent(dp, "p2", 1)
    assert first[UDP].sport == 40000
    dp.inject(3, eth() / IP(src=NAT_IP, dst=IP_OUT)
              / UDP(sport=40000, dport=7000) / b"own")
    own = sent(dp, "p2", 2)[1]
    assert own[IP].src == NAT_IP and own[UDP].sport != 40000
    lines = conns(dp, "-m")
    assert len(lines) == 2
    assert any("sport=40000,dport=7000),reply=(src=192.0.2.2,"
               f"dst=192.0.2.100,sport=7000,dport={own[UDP].sport})" in line
               and "SRC_NAT" in line for line in lines), lines


def test_proc_format_flush_by_reply_and_events(make_dp, monitor):
    """--format=proc shows the NATed reply tuple as /proc/net/nf_conntrack
    does; ct-events' NEW carries it; a flush by reply tuple removes the
    NATed conn."""
    dp = make_dp(flows=snat_flows(extra=",exec(set_field:7->ct_mark)"))
    mon = monitor(dp, "--zone=1")
    dp.inject(1, udp_out(sport=40123))
    wait_until(lambda: any(Ether(f)[UDP].sport == 40123
                           for f in dp.sent("p2")), what="the NATed frame")
    line, = [l for l in dp.ok("dump-conntrack", "--format=proc")
             .splitlines() if "sport=40123" in l]
    assert ("src=10.0.0.1 dst=192.0.2.2 sport=40123 dport=7000 "
            "packets=1 bytes=32 [UNREPLIED] src=192.0.2.2 dst=192.0.2.100 "
            "sport=7000 dport=40123 packets=0 bytes=0 mark=7 zone=1") in line
    new, = [l for l in mon.wait_lines(1) if "sport=40123" in l]
    assert "src=192.0.2.2 dst=192.0.2.100 sport=7000 dport=40123" in new
    dp.ok("flush-conntrack", "zone=1", "ct_nw_proto=17",
          "ct_nw_dst=192.0.2.100,ct_tp_dst=40123")
    assert not any("sport=40123" in l for l in conns(dp))


def test_fragments_leave_translated(make_dp):
    """A fragmented datagram is tracked once (whole) and its fragments
    leave translated: the address in every one, the port in the first,
    and the receiver reassembles a datagram whose checksum is right."""
    dp = make_dp(flows=snat_flows("nat(src=192.0.2.100:7777)"))
    dgram = (IP(src=IP_IN, dst=IP_OUT, id=99)
             / UDP(sport=40000, dport=7000) / (b"x" * 4000))
    frags = fragment(dgram, fragsize=1480)
    dp.inject(1, *[eth() / f for f in frags])
    outs = sent(dp, "p2", len(frags), l4=False)
    assert all(o[IP].src == NAT_IP for o in outs)
    whole = defragment([o[IP] for o in outs])[0]
    whole = IP(bytes(whole))
    assert whole[UDP].sport == 7777 and len(whole[Raw].load) == 4000
    chk = whole[UDP].chksum
    del whole[UDP].chksum
    assert IP(bytes(whole))[UDP].chksum == chk


def test_nat_keeps_zones_marks_and_limits(make_dp):
    """Zone limits count NATed conns; marks set at commit stay."""
    dp = make_dp(flows=snat_flows(zone=9, extra=",exec(set_field:3->ct_mark)"))
    dp.ok("ct-set-limits", "zone=9,limit=1")
    dp.inject(1, udp_out(sport=1), udp_out(sport=2))
    sent(dp, "p2", 1)
    line, = conns(dp)
    assert "mark=3" in line and "zone=9" in line


BAD_NAT = {
    "both-src-and-dst": ("ip,actions=ct(commit,nat(src=10.1.1.1,dst=10.1.1.2))",
                         "May only specify one of"),
    "reversed-range": ("ip,actions=ct(commit,nat(src=10.1.1.9-10.1.1.1))",
                       "invalid"),
    "unknown-option": ("ip,actions=ct(commit,nat(src=10.1.1.1,fast))",
                       "invalid key"),
    "family-mismatch": ("ip,actions=ct(commit,nat(src=fd00::1))",
                        "OFPBAC_MATCH_INCONSISTENT"),
    "random-and-hash": ("ip,actions=ct(commit,nat(src=10.1.1.1,random,hash))",
                        "Both"),
}


@pytest.mark.parametrize("name", sorted(BAD_NAT))
def test_bad_nat_action_is_refused(firewall, name):
    """A bad nat(...) gets Open vSwitch's parse error and changes
    nothing."""
    flow, message = BAD_NAT[name]
    before = firewall.flow_lines()
    one_error_line(firewall.dpctl("add-flow", flow), message)
    assert firewall.flow_lines() == before


def test_dnat_to_one_server_from_one_client_port_twice(make_dp):
    """One client port reaches two forwarded addresses that lead to the
    same server port: the second conn's reply tuple would be the first's,
    so its source port moves (the kernel's null binding after DNAT), and
    each client conn gets its own answers."""
    dp = make_dp(flows=[
        "table=0,priority=10,tcp,in_port=2,"
        "actions=ct(commit,zone=3,nat(dst=10.0.0.1:80)),output:1",
        "table=0,priority=10,ip,in_port=1,actions=ct(zone=3,nat,table=1)",
        "table=1,ct_state=+trk+est,actions=output:2",
    ])
    for vip in (NAT_IP, "192.0.2.101"):
        dp.inject(2, from_out(TCP(sport=33000, dport=8080, flags="S"),
                              dst=vip))
    a, b = sent(dp, "p1", 2)
    assert a[TCP].sport == 33000 and b[TCP].sport != 33000
    assert b[IP].src == IP_OUT and b[TCP].dport == 80
    dp.inject(1, eth() / IP(src=IP_IN, dst=IP_OUT)
              / TCP(sport=80, dport=b[TCP].sport, flags="SA", ack=1))
    back, = sent(dp, "p2", 1)
    assert (back[IP].src, back[TCP].sport, back[TCP].dport) == \
        ("192.0.2.101", 8080, 33000)


def test_a_source_keeps_its_mapping_across_destinations(make_dp):
    """A source NATed into a port range keeps the address and port it got
    for its next conns to other destinations, as the kernel's
    find_appropriate_src() (endpoint-independent mapping); another source
    gets another port."""
    dp = make_dp(flows=snat_flows("nat(src=192.0.2.100-192.0.2.103:"
                                  "20000-29999)"))
    for dst in ("192.0.2.2", "192.0.2.3", "192.0.2.4"):
        dp.inject(1, eth() / IP(src=IP_IN, dst=dst)
                  / UDP(sport=40000, dport=7000) / b"x")
    dp.inject(1, eth() / IP(src="10.0.0.9", dst="192.0.2.2")
              / UDP(sport=40000, dport=7000) / b"x")
    outs = sent(dp, "p2", 4)
    mapped = {(o[IP].src, o[UDP].sport) for o in outs[:3]}
    assert len(mapped) == 1
    src, port = mapped.pop()
    assert 20000 <= port <= 29999
    assert (outs[3][IP].src, outs[3][UDP].sport) != (src, port)
