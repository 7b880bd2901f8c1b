"""The datapath flow cache and the batch pipeline (lib/ctdp-dpcache.h,
lib/ctdp-xlate.h): segments cut at ct(), their continuations, what
dump-dp-flows and show say of them, and that a flow change takes effect for
the next packet with every rule's counters exact.

Packets go in with 'ctdp-dpctl inject' (a batch of one) or from pcap ports
(batches of up to 32 of one port and millisecond)."""
import re

from scapy.all import IP, UDP, Ether, wrpcap

from dp_helpers import (IP_IN, IP_OUT, MAC_IN, MAC_OUT, read_pcap, udp_in,
                        udp_out, wait_until)

pytest_plugins = ["dp_helpers"]


def cache_counters(dp):
    m = re.search(r"flow cache: entries:(\d+) hits:(\d+) misses:(\d+) "
                  r"flushes:(\d+)", dp.show())
    assert m, dp.show()
    return tuple(int(x) for x in m.groups())


def dp_flows(dp):
    """dump-dp-flows as (match, packets, actions), sorted."""
    out = []
    for line in dp.ok("dump-dp-flows").splitlines():
        m = re.fullmatch(r"(.*), packets:(\d+), bytes:\d+, "
                         r"used:(?:[\d.]+s|never), actions:(.*)", line)
        assert m, line
        out.append((m[1], int(m[2]), m[3]))
    return sorted(out)


def test_firewall_segments_in_dpctl_style(firewall):
    """A datagram out and its reply through the default firewall make the
    datapath flows Open vSwitch would show: table 0's ct() with a
    recirculation, the new conn's commit, the established reply."""
    firewall.inject(1, udp_out())
    firewall.inject(2, udp_in())
    firewall.wait_sent("p1", [udp_in()])
    base = "packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no)"
    new = "ct_state(+new-rel-inv+trk)"
    est = "ct_state(-new+est-rel-inv+trk)"
    flows = dp_flows(firewall)
    # The ids are the cache's own, given in the order segments stop at a
    # ct(): port 1's first, then its commit's, then port 2's.
    assert flows == sorted([
        (f"recirc_id(0),in_port(1),{base}", 1, "ct,recirc(0x1)"),
        (f"{new},recirc_id(0x1),in_port(1),{base.replace('ipv4(', 'ipv4(proto=17,')}",
         1, "ct(commit),recirc(0x2)"),
        (f"recirc_id(0x2),in_port(1),{base}", 1, "2"),
        (f"recirc_id(0),in_port(2),{base}", 1, "ct,recirc(0x3)"),
        (f"{est},recirc_id(0x3),in_port(2),{base}", 1, "1"),
    ]), flows
    assert cache_counters(firewall) == (5, 0, 5, 0)


def test_cache_hits_count_and_keep_rule_counters(firewall):
    """Later datagrams of the flow hit the cache, and dump-flows still counts
    every packet on every rule it went through."""
    for _ in range(3):
        firewall.inject(1, udp_out())
    firewall.wait_sent("p2", [udp_out()] * 3)
    # The first datagram is translated into three segments (table 0's
    # ct(), the commit, the output after it); a conn that has seen no reply
    # is still +new (as in the kernel), so the next two take the same ones.
    assert cache_counters(firewall) == (3, 6, 3, 0)
    assert firewall.n_packets(0, "priority=10,ip") == 3
    assert firewall.n_packets(1, "priority=50,ct_state=+new+trk,ip,"
                                 "in_port=1") == 3
    assert firewall.n_packets(1, "priority=50,ct_state=+est+trk,"
                                 "in_port=1") == 0


def test_flow_change_takes_effect_for_next_packet(make_dp):
    """A flow added or deleted empties the cache: the next packet goes by
    the new rules, and the old rule counts only what it decided."""
    dp = make_dp(flows=["table=0,priority=10,ip,actions=output:2"])
    dp.inject(1, udp_out())
    dp.wait_sent("p2", [udp_out()])
    dp.ok("add-flow", "table=0,priority=20,udp,actions=drop")
    dp.inject(1, udp_out())
    dp.ok("del-flows", "table=0,udp")
    dp.inject(1, udp_out())
    dp.wait_sent("p2", [udp_out()] * 2)
    assert dp.n_packets(0, "priority=10,ip") == 2
    entries, hits, misses, flushes = cache_counters(dp)
    assert (hits, misses, flushes) == (0, 3, 2)


def test_rest_of_list_runs_after_ct_table(make_dp):
    """ct(table=2) inside a resubmit: table 2 runs with the ct fields, then
    the rest of the ct()'s list, then the rest of the resubmitting list
    with its in_port put back; outputs leave in that order."""
    dp = make_dp(n_ports=5, flows=[
        "table=0,priority=10,ip,in_port=1,"
        "actions=resubmit(3,1),resubmit(,3),output:5",
        "table=1,priority=10,ip,in_port=3,actions=ct(table=2),output:3",
        "table=2,priority=10,ct_state=+trk+new,actions=output:2",
        "table=3,priority=10,in_port=1,actions=output:4",
    ])
    for _ in range(2):
        dp.inject(1, udp_out())
    for port in ("p2", "p3", "p4", "p5"):
        dp.wait_sent(port, [udp_out()] * 2)
    assert [f["n_packets"] for f in dp.flows()] == [2, 2, 2, 2]


def test_goto_table_after_ct_ends_the_list(make_dp):
    """ct(table=1),goto_table:2: table 1 runs, then table 2, and nothing
    after the goto_table."""
    dp = make_dp(n_ports=3, flows=[
        "table=0,priority=10,ip,actions=ct(table=1),goto_table:2",
        "table=1,priority=10,ct_state=+trk,actions=output:2",
        "table=2,priority=10,ct_state=+trk,actions=output:3",
    ])
    dp.inject(1, udp_out())
    dp.wait_sent("p2", [udp_out()])
    dp.wait_sent("p3", [udp_out()])


def test_ct_without_table_goes_on_with_ct_fields(make_dp):
    """ct() without table= ends a segment too: the rest of the list, and
    a resubmit in it, see the ct fields."""
    dp = make_dp(n_ports=3, flows=[
        "table=0,priority=10,ip,actions=ct(),resubmit(,1)",
        "table=1,priority=10,ct_state=+trk+new,actions=output:2",
        "table=1,priority=5,actions=output:3",
    ])
    dp.inject(1, udp_out())
    dp.wait_sent("p2", [udp_out()])
    assert dp.sent("p3") == []


def test_pcap_batches_of_many_flows(make_dp, tmp_path):
    """Pcap input runs in batches: 64 datagrams of 8 flows, one timestamp,
    then the 64 replies; every flow is committed and every reply passes,
    each flow's packets in order."""
    def frame(i, k, reply):
        ip = (IP(src=IP_OUT, dst=IP_IN) if reply
              else IP(src=IP_IN, dst=IP_OUT))
        sport, dport = (7000, 40000 + i) if reply else (40000 + i, 7000)
        return (Ether(src=MAC_OUT if reply else MAC_IN,
                      dst=MAC_IN if reply else MAC_OUT)
                / ip / UDP(sport=sport, dport=dport)
                / (bytes([k]) * 4))

    out = [frame(k % 8, k, False) for k in range(64)]
    back = [frame(k % 8, k, True) for k in range(64)]
    for f in out:
        f.time = 1700000000.0
    for f in back:
        f.time = 1700000001.0
    wrpcap(str(tmp_path / "out.pcap"), out)
    wrpcap(str(tmp_path / "back.pcap"), back)
    # Both ports from the start, so that the captures are fed together.
    dp = make_dp(n_ports=0, extra=[
        f"--port=in=pcap:rx={tmp_path}/out.pcap,tx={tmp_path}/in-tx.pcap",
        f"--port=out=pcap:rx={tmp_path}/back.pcap,tx={tmp_path}/out-tx.pcap",
    ])
    wait_until(lambda: "ended" in dp.show(), what="the captures fed")
    wait_until(lambda: len(read_pcap(tmp_path / "in-tx.pcap")) == 64,
               what="64 replies")
    assert dp.n_conns() == 8
    sent_out = read_pcap(tmp_path / "out-tx.pcap")
    sent_back = read_pcap(tmp_path / "in-tx.pcap")
    for i in range(8):
        assert [bytes(f) for f in out if f[UDP].sport == 40000 + i] == \
            [f for f in sent_out if f[34:36] == (40000 + i).to_bytes(2, "big")]
        assert [bytes(f) for f in back if f[UDP].dport == 40000 + i] == \
            [f for f in sent_back if f[36:38] == (40000 + i).to_bytes(2, "big")]


def test_caches_read_while_receive_threads_run(tmp_path):
    """Two receive threads fill their caches while the main thread dumps
    them, shows their counters and changes flows (which makes the threads
    empty their caches): nothing is lost, dump-flows counts every frame.
    Run under ThreadSanitizer too (quickstart's tsan flavour)."""
    from conftest import Daemon
    from scapy.all import Ether
    d = Daemon(tmp_path).start("--n-threads=2", "--port=p1=dummy",
                               "--port=p2=dummy")
    try:
        frames = [bytes(Ether(src=MAC_IN, dst=MAC_OUT)
                        / IP(src=IP_IN, dst=IP_OUT)
                        / UDP(sport=20000 + i, dport=53)).hex()
                  for i in range(40)]
        sent = 0
        for round in range(12):
            proc = d.appctl("netdev-dummy/receive", "p1", *frames)
            assert proc.returncode == 0, proc.stderr
            sent += len(frames)
            for cmd in ("dump-dp-flows", "show"):
                assert d.dpctl(cmd).returncode == 0
            if round % 4 == 3:
                assert d.dpctl("add-flow", f"table=9,priority={round},"
                               "actions=drop").returncode == 0

        def counted():
            out = d.dpctl("dump-flows", "table=0").stdout
            m = re.search(r"n_packets=(\d+),.*priority=10,ip actions", out)
            return m and int(m[1]) == sent
        wait_until(counted, what=f"{sent} frames counted")
        flushes = int(re.search(r"flushes:(\d+)", d.dpctl("show").stdout)[1])
        assert flushes >= 1
    finally:
        d.stop()
