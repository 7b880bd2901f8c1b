"""Conntrack helpers through the datapath, on dummy ports: ct(commit,
alg=ftp|tftp) attaches the kernel's FTP or TFTP helper, whose expectations
make the data connection +new+rel (datapath-ct/ctdp-helper-*.c,
ctdp-expect.c).

Port 1 is the client's side (10.0.0.1), port 2 the server's (192.0.2.2).
The flows are a firewall that lets the client open conns, and lets in a
new conn from the server only if it is related.
"""
import re

import pytest
from scapy.all import IP, TCP, UDP, Ether

from conftest import wait_until
from dp_helpers import (IP_IN, IP_OUT, MAC_IN, MAC_OUT, eth,  # noqa: F401
                        make_dp)

CLIENT_PORT, DATA_PORT = 5000, 40000


def firewall(alg=",alg=ftp", ftp_port=21, proto="tcp"):
    return [
        "table=0,priority=100,arp,actions=drop",
        "table=0,priority=10,ip,actions=ct(table=1)",
        f"table=1,priority=60,ct_state=+trk+new-rel,{proto},in_port=1,"
        f"tp_dst={ftp_port},actions=ct(commit{alg}),output:2",
        "table=1,priority=50,ct_state=+trk+new-rel,ip,in_port=1,"
        "actions=ct(commit),output:2",
        "table=1,priority=50,ct_state=+trk+rel,ip,in_port=2,"
        "actions=ct(commit),output:1",
        "table=1,priority=50,ct_state=+trk+rel,ip,in_port=1,"
        "actions=ct(commit),output:2",
        "table=1,priority=40,ct_state=+trk+est,in_port=1,actions=output:2",
        "table=1,priority=40,ct_state=+trk+est,in_port=2,actions=output:1",
        "table=1,priority=0,actions=drop",
    ]


class Ftp:
    """A scripted FTP control connection, client on port 1."""

    def __init__(self, dp, port=21):
        self.dp, self.port = dp, port
        self.cseq, self.sseq = 1000, 9000

    def client(self, data=b"", flags="PA"):
        p = (eth() / IP(src=IP_IN, dst=IP_OUT)
             / TCP(sport=CLIENT_PORT, dport=self.port, flags=flags,
                   seq=self.cseq, ack=self.sseq) / data)
        self.dp.inject(1, p)
        self.cseq = (self.cseq + len(data)
                     + (1 if "S" in flags or "F" in flags else 0)) % 2**32

    def server(self, data=b"", flags="PA"):
        p = (eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=IP_IN)
             / TCP(sport=self.port, dport=CLIENT_PORT, flags=flags,
                   seq=self.sseq, ack=self.cseq) / data)
        self.dp.inject(2, p)
        self.sseq += len(data) + (1 if "S" in flags or "F" in flags else 0)

    def login(self):
        """Handshake, banner and USER: the first line each way is never
        parsed (the kernel knows where lines start only after one)."""
        self.client(flags="S")
        self.sseq -= 0
        p = (eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=IP_IN)
             / TCP(sport=self.port, dport=CLIENT_PORT, flags="SA",
                   seq=self.sseq, ack=self.cseq))
        self.dp.inject(2, p)
        self.sseq += 1
        self.client(flags="A")
        self.server(b"220 ctdp test\r\n")
        self.client(b"USER anonymous\r\n")
        self.server(b"331 ok\r\n")


def data_syn(src, dst, sport, dport, in_port, dp):
    mac = (MAC_OUT, MAC_IN) if in_port == 2 else (MAC_IN, MAC_OUT)
    dp.inject(in_port, eth(*mac) / IP(src=src, dst=dst)
              / TCP(sport=sport, dport=dport, flags="S", seq=1))


def counts(dp, table=1):
    return {f["match"]: f["n_packets"] for f in dp.flows(table)}


def related_in(dp):
    return counts(dp)["priority=50,ct_state=+rel+trk,ip,in_port=2"]


def related_out(dp):
    return counts(dp)["priority=50,ct_state=+rel+trk,ip,in_port=1"]


def expectations(dp, *args):
    return dp.ok("dump-conntrack-exp", *args).splitlines()


def stat(dp, name):
    return int(re.search(rf"\b{name}=(\d+)", dp.ok("ct-stats-show"))[1])


def test_active_ftp_port_opens_the_data_connection(make_dp):
    """PORT from the client makes an expectation from the server (any
    port) to the address and port named; the server's data SYN is then
    +new+rel and passes; the conn dump shows helper=ftp."""
    dp = make_dp(flows=firewall())
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    assert expectations(dp) == [
        "tcp,orig=(src=192.0.2.2,dst=10.0.0.1,sport=0,dport=40000),"
        "reply=(src=10.0.0.1,dst=192.0.2.2,sport=40000,dport=0),helper=ftp,"
        "parent=(src=10.0.0.1,dst=192.0.2.2,sport=5000,dport=21)"]
    assert stat(dp, "expect_create") == 1
    data_syn(IP_OUT, IP_IN, 20, DATA_PORT, 2, dp)
    assert related_in(dp) == 1
    assert expectations(dp) == []               # Used up.
    assert stat(dp, "expect_new") == 1
    conns = dp.ok("dump-conntrack", "-m").splitlines()
    ctrl = [c for c in conns if "dport=21)" in c]
    data = [c for c in conns if "dport=40000)" in c]
    assert ctrl[0].endswith("helper=ftp")
    assert "EXPECTED" in data[0]


def test_passive_ftp_227_opens_the_data_connection(make_dp):
    """A 227 reply names the server's address and port: the client's data
    conn to it is related."""
    dp = make_dp(flows=firewall())
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PASV\r\n")
    ftp.server(b"227 Entering Passive Mode (192,0,2,2,117,48).\r\n")
    assert len(expectations(dp)) == 1
    data_syn(IP_IN, IP_OUT, 41000, 30000, 1, dp)
    assert related_out(dp) == 1


def test_epsv_229_and_eprt(make_dp):
    """EPSV's 229 reply (port only) and EPRT (address and port)."""
    dp = make_dp(flows=firewall())
    ftp = Ftp(dp)
    ftp.login()
    ftp.server(b"229 Entering Extended Passive Mode (|||31000|)\r\n")
    data_syn(IP_IN, IP_OUT, 41001, 31000, 1, dp)
    assert related_out(dp) == 1
    ftp.client(b"EPRT |1|10.0.0.1|40001|\r\n")
    data_syn(IP_OUT, IP_IN, 20, 40001, 2, dp)
    assert related_in(dp) == 1


def test_without_alg_the_data_connection_is_refused(make_dp):
    """As the kernel without a helper: the server's data SYN is a new conn
    from outside, and dropped."""
    dp = make_dp(flows=firewall(alg=""))
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    assert expectations(dp) == []
    data_syn(IP_OUT, IP_IN, 20, DATA_PORT, 2, dp)
    assert related_in(dp) == 0
    assert counts(dp)["priority=0"] == 1


def test_port_naming_another_host_makes_no_hole(make_dp):
    """A PORT naming an address other than the client's own makes no
    expectation (the kernel's check, 'loose' off)."""
    dp = make_dp(flows=firewall())
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PORT 10,0,0,99,156,64\r\n")
    assert expectations(dp) == []


def test_command_parsed_only_at_line_start_and_once(make_dp):
    """A PORT in the middle of a line is not a command; a retransmitted
    PORT renews the same expectation instead of making a second."""
    dp = make_dp(flows=firewall())
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"NOOP PORT 10,0,0,1,156,64\r\n")
    assert expectations(dp) == []
    seq = ftp.cseq
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    ftp.cseq = seq
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    assert len(expectations(dp)) == 1
    assert stat(dp, "expect_create") == 2 and stat(dp, "expect_delete") == 1


def test_partial_command_is_dropped(make_dp):
    """A payload that ends inside a PORT command is dropped by the ct()
    that tracks it, as the kernel does, and counted; the rest of the
    command, sent again whole, is read."""
    dp = make_dp(flows=firewall())
    ftp = Ftp(dp)
    ftp.login()
    sent = len(dp.sent("p2"))
    seq = ftp.cseq
    ftp.client(b"PORT 10,0,0,1,15")
    assert stat(dp, "helper_drop") == 1 and stat(dp, "drop") == 1
    assert len(dp.sent("p2")) == sent and expectations(dp) == []
    ftp.cseq = seq
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    assert len(expectations(dp)) == 1


def test_expectations_go_with_their_master_and_by_flush(make_dp):
    """Flushing the control conn removes its expectation;
    flush-conntrack-exp removes them too; --format=proc prints the
    kernel's /proc/net/nf_conntrack_expect line."""
    dp = make_dp(flows=firewall())
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    line, = expectations(dp, "--format=proc")
    assert re.fullmatch(r"(299|300) l3proto = 2 proto=6 src=192\.0\.2\.2 "
                        r"dst=10\.0\.0\.1 sport=0 dport=40000 ftp", line), line
    dp.ok("flush-conntrack-exp")
    assert expectations(dp) == []
    ftp.client(b"PORT 10,0,0,1,156,65\r\n")
    assert len(expectations(dp)) == 1
    dp.ok("flush-conntrack", "ct_tp_dst=21")
    assert expectations(dp) == []


def test_tftp_read_request_opens_the_answer(make_dp):
    """A TFTP read request makes an expectation for the server's answer
    from another port to the client's."""
    dp = make_dp(flows=firewall(alg=",alg=tftp", ftp_port=69, proto="udp"))
    dp.inject(1, eth() / IP(src=IP_IN, dst=IP_OUT)
              / UDP(sport=CLIENT_PORT, dport=69)
              / b"\x00\x01file\x00octet\x00")
    assert expectations(dp) == [
        "udp,orig=(src=192.0.2.2,dst=10.0.0.1,sport=0,dport=5000),"
        "reply=(src=10.0.0.1,dst=192.0.2.2,sport=5000,dport=0),helper=tftp,"
        "parent=(src=10.0.0.1,dst=192.0.2.2,sport=5000,dport=69)"]
    dp.inject(2, eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=IP_IN)
              / UDP(sport=3333, dport=CLIENT_PORT) / b"\x00\x03\x00\x01data")
    assert related_in(dp) == 1


def test_expectation_expires(make_dp):
    """An expectation lasts the helper's 300 s, then goes."""
    dp = make_dp(flows=firewall())
    dp.ok("ct-set-sweep-interval", "100")
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    assert dp.appctl("time/stop").returncode == 0
    assert dp.appctl("time/warp", "301000").returncode == 0
    wait_until(lambda: expectations(dp) == [], what="the expiry")
    assert stat(dp, "expect_delete") == 1


def test_unknown_alg_is_refused(make_dp):
    """alg= takes ftp or tftp, with Open vSwitch's error."""
    dp = make_dp(flows=[])
    proc = dp.dpctl("add-flow", "tcp,actions=ct(commit,alg=sip)")
    assert proc.returncode == 2 and "sip" in proc.stderr


# ---- FTP through NAT -------------------------------------------------------

NAT_IP = "192.0.2.100"


def snat_ftp_flows():
    """The client's side is source-NATed to 192.0.2.100; related conns are
    committed with a bare nat, which translates them as their master."""
    return [
        "table=0,priority=100,arp,actions=drop",
        "table=0,priority=10,ip,actions=ct(table=1,nat)",
        "table=1,priority=60,ct_state=+trk+new-rel,tcp,in_port=1,tp_dst=21,"
        f"actions=ct(commit,alg=ftp,nat(src={NAT_IP})),output:2",
        "table=1,priority=50,ct_state=+trk+rel,ip,in_port=2,"
        "actions=ct(commit,nat),output:1",
        "table=1,priority=50,ct_state=+trk+rel,ip,in_port=1,"
        "actions=ct(commit,nat),output:2",
        "table=1,priority=40,ct_state=+trk+est,in_port=1,actions=output:2",
        "table=1,priority=40,ct_state=+trk+est,in_port=2,actions=output:1",
        "table=1,priority=0,actions=drop",
    ]


class NatFtp(Ftp):
    """The server sees the client as 192.0.2.100 (same port)."""

    def server(self, data=b"", flags="PA"):
        p = (eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=NAT_IP)
             / TCP(sport=self.port, dport=CLIENT_PORT, flags=flags,
                   seq=self.sseq, ack=(self.cseq + self.shift) % 2**32)
             / data)
        self.dp.inject(2, p)
        self.sseq += len(data) + (1 if "S" in flags or "F" in flags else 0)

    shift = 0

    def login(self):
        self.client(flags="S")
        self.dp.inject(2, eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=NAT_IP)
                       / TCP(sport=self.port, dport=CLIENT_PORT, flags="SA",
                             seq=self.sseq, ack=self.cseq))
        self.sseq += 1
        self.client(flags="A")
        self.server(b"220 ctdp test\r\n")
        self.client(b"USER anonymous\r\n")
        self.server(b"331 ok\r\n")


def last_tcp(dp, port):
    return Ether(dp.sent(port)[-1])


@pytest.mark.parametrize("isn", [1000, 0xfffffff8])
def test_active_ftp_through_snat_rewrites_port(make_dp, isn):
    """Through source NAT, a PORT naming the inside address is rewritten to
    name the NAT address (3 bytes longer), the expectation is for the NAT
    address, the server's data SYN to it reaches the inside client at the
    port it named, and the rest of the control conn has its sequence
    numbers (client's) and acknowledgements (server's) shifted by 3, with
    checksums right; SACK blocks are shifted too.  The second run starts
    the client's numbers just below 2^32, so the shift wraps."""
    dp = make_dp(flows=snat_ftp_flows())
    ftp = NatFtp(dp)
    ftp.cseq = isn
    ftp.login()
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    out = last_tcp(dp, "p2")
    assert bytes(out[TCP].payload) == b"PORT 192,0,2,100,156,64\r\n"
    assert out[IP].src == NAT_IP and out[IP].len == 40 + 25
    chk = out[TCP].chksum
    del out[TCP].chksum
    assert Ether(bytes(out))[TCP].chksum == chk
    assert "SEQ_ADJUST" in dp.ok("dump-conntrack", "-m")
    assert expectations(dp) == [
        "tcp,orig=(src=192.0.2.2,dst=192.0.2.100,sport=0,dport=40000),"
        "reply=(src=192.0.2.100,dst=192.0.2.2,sport=40000,dport=0),"
        "helper=ftp,parent=(src=10.0.0.1,dst=192.0.2.2,sport=5000,dport=21)"]
    # The server's data SYN to the NAT address reaches the client.
    data_syn(IP_OUT, NAT_IP, 20, DATA_PORT, 2, dp)
    syn = last_tcp(dp, "p1")
    assert (syn[IP].dst, syn[TCP].dport, syn[TCP].flags) == \
        (IP_IN, DATA_PORT, "S")
    # The server acknowledges 3 bytes more than the client sent: the
    # client sees its own numbers; the client's next segment is shifted.
    ftp.shift = 3
    ftp.server(b"200 ok\r\n")
    back = last_tcp(dp, "p1")
    assert back[TCP].ack == ftp.cseq
    seq = ftp.cseq
    ftp.client(b"LIST\r\n")
    out = last_tcp(dp, "p2")
    assert out[TCP].seq == (seq + 3) % 2**32
    # A SACK block for bytes the server holds, in its numbers.
    left, right = (seq + 3 + 10) % 2**32, (seq + 3 + 20) % 2**32
    dp.inject(2, eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=NAT_IP)
              / TCP(sport=21, dport=CLIENT_PORT, flags="A", seq=ftp.sseq,
                    ack=(seq + 3) % 2**32,
                    options=[("NOP", None), ("NOP", None),
                             ("SAck", (left, right))]))
    sack = last_tcp(dp, "p1")
    assert sack[TCP].ack == seq
    assert dict(sack[TCP].options)["SAck"] == ((seq + 10) % 2**32,
                                               (seq + 20) % 2**32)
    for frame in (back, out, sack):
        raw = bytes(frame)
        again = Ether(raw)
        del again[TCP].chksum
        assert bytes(Ether(bytes(again))) == raw


def test_passive_ftp_through_snat(make_dp):
    """Passive FTP through source NAT: the 227 names the server, which the
    rewrite keeps; the client's data conn is related and leaves from the
    NAT address."""
    dp = make_dp(flows=snat_ftp_flows())
    ftp = NatFtp(dp)
    ftp.login()
    ftp.client(b"PASV\r\n")
    ftp.server(b"227 Entering Passive Mode (192,0,2,2,117,48).\r\n")
    back = last_tcp(dp, "p1")
    assert bytes(back[TCP].payload) == \
        b"227 Entering Passive Mode (192,0,2,2,117,48).\r\n"
    data_syn(IP_IN, IP_OUT, 41000, 30000, 1, dp)
    syn = last_tcp(dp, "p2")
    assert (syn[IP].src, syn[IP].dst, syn[TCP].dport) == \
        (NAT_IP, IP_OUT, 30000)


def test_expectation_events(make_dp):
    """ct-events --expect streams the expectations' NEW and DESTROY in
    `conntrack -E expect`'s layout; a conn listener does not get them."""
    dp = make_dp(flows=firewall())
    exp = dp.appctl("dpctl/ct-events", "--stream", "--expect")
    conns = dp.appctl("dpctl/ct-events", "--stream")
    assert exp.returncode == 0 and conns.returncode == 0
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PORT 10,0,0,1,156,64\r\n")
    dp.ok("flush-conntrack-exp")
    out = dp.appctl("dpctl/stream-read", exp.stdout.strip()).stdout
    # The first line is the stream's status ("more").
    lines = [l for l in out.splitlines()[1:] if l.strip()]
    assert len(lines) == 2, out
    assert re.fullmatch(
        r"    \[NEW\] (299|300) proto=6 src=192\.0\.2\.2 dst=10\.0\.0\.1 "
        r"sport=0 dport=40000 mask-src=255\.255\.255\.255 "
        r"mask-dst=255\.255\.255\.255 sport=0 dport=65535 "
        r"master-src=10\.0\.0\.1 master-dst=192\.0\.2\.2 sport=5000 "
        r"dport=21 class=0 helper=ftp", lines[0]), lines[0]
    assert lines[1].startswith("[DESTROY] ")
    assert "proto=" not in dp.appctl("dpctl/stream-read",
                                     conns.stdout.strip()).stdout


def test_tftp_through_snat(make_dp):
    """Through source NAT the server answers the NAT address from a new
    port; the answer is related and reaches the client at its own address
    and port (the kernel's nf_nat_tftp)."""
    dp = make_dp(flows=[
        "table=0,priority=100,arp,actions=drop",
        "table=0,priority=10,ip,actions=ct(table=1,nat)",
        "table=1,priority=60,ct_state=+trk+new-rel,udp,in_port=1,tp_dst=69,"
        f"actions=ct(commit,alg=tftp,nat(src={NAT_IP}:6000)),output:2",
        "table=1,priority=50,ct_state=+trk+rel,ip,in_port=2,"
        "actions=ct(commit,nat),output:1",
        "table=1,priority=0,actions=drop",
    ])
    dp.inject(1, eth() / IP(src=IP_IN, dst=IP_OUT)
              / UDP(sport=CLIENT_PORT, dport=69) / b"\x00\x01f\x00octet\x00")
    req = last_tcp(dp, "p2")
    assert (req[IP].src, req[UDP].sport) == (NAT_IP, 6000)
    dp.inject(2, eth(MAC_OUT, MAC_IN) / IP(src=IP_OUT, dst=NAT_IP)
              / UDP(sport=3333, dport=6000) / b"\x00\x03\x00\x01data")
    ans = last_tcp(dp, "p1")
    assert (ans[IP].src, ans[UDP].sport, ans[IP].dst, ans[UDP].dport) == \
        (IP_OUT, 3333, IP_IN, CLIENT_PORT)


def test_loose_lets_port_name_another_host(make_dp):
    """With ct-set-ftp-loose 1 (the kernel's loose), a PORT naming another
    host is expected, to that host; 0 is the default; a bad value is
    refused."""
    dp = make_dp(flows=firewall())
    assert dp.ok("ct-get-ftp-loose") == "0\n"
    proc = dp.dpctl("ct-set-ftp-loose", "yes")
    assert proc.returncode == 2 and "invalid value yes" in proc.stderr
    dp.ok("ct-set-ftp-loose", "1")
    assert dp.ok("ct-get-ftp-loose") == "1\n"
    ftp = Ftp(dp)
    ftp.login()
    ftp.client(b"PORT 10,0,0,99,156,64\r\n")
    assert expectations(dp) == [
        "tcp,orig=(src=192.0.2.2,dst=10.0.0.99,sport=0,dport=40000),"
        "reply=(src=10.0.0.99,dst=192.0.2.2,sport=40000,dport=0),helper=ftp,"
        "parent=(src=10.0.0.1,dst=192.0.2.2,sport=5000,dport=21)"]
