#!/usr/bin/python3
"""The captures of the netdev benchmark (utilities/ctdp-bench-netdev.py).

Usage: ctdp-bench-pcaps.py DIR    writes every capture below into DIR

Workloads (a)-(c) are those of the Open vSwitch anchor
(/work/shared/bench/OVS-NETDEV.md, section 5), byte for byte the same
frames: 60-byte Ethernet/IPv4/UDP frames with valid IP and UDP checksums,
MACs 02:00:00:00:00:01 -> 02:00:00:00:00:02, flow i from
10.0.H/256.H%256 (H = i % 4096 + 1), sport 1024 + i // 4096, to
10.1.0.1:5001; a reply is the exact reverse, MACs swapped.

  a-1flow[-reply].pcap      1M x flow 0 / 1M x its reply
  b-100kx10[-reply].pcap    flows 0..99,999 x 10, random order (seed 12345)
                            / the replies, shuffled independently
  c-1Mx1[-reply].pcap       flows 0..999,999 once each / their replies

Each reply capture's timestamps start after its forward capture's end, so
that a merge by timestamp (ctdpd --replay) runs the forward phase first.

  b-100kx10-{1,2}of2[-reply].pcap, c-1Mx1-{1,2}of2[-reply].pcap
      (b) and (c) split in two by flow, for two datapath threads (ctdpd's
      pcap ports with mode=poll, ctdp-bench-netdev.py --threads): half 1
      holds the even flows, half 2 the odd ones, each in the order of the
      whole capture (and so each reply half answers its forward half).

  m-mixed-in.pcap, m-mixed-out.pcap
      ctdp's own datapath workload (utilities/ctdp-bench-dp.c): 30,000
      flows opened from inside (10.1.x.y, port 1024 + flow % 60000) to
      10.2.0.1, in 25 rounds, each round one packet of every flow: TCP to
      port 80 (flow % 3 == 0: SYN, SYN-ACK, ACK, then ACKs both ways), UDP
      to port 53 (== 1) and ICMP echo (== 2), requests from inside and
      replies from outside.  Unlike ctdp-bench-dp.c's frames, these carry
      valid checksums and TCP sequence numbers, acks and windows, so that
      Open vSwitch's conntrack (which checks checksums in software without
      rx offload, and TCP windows) tracks them too.  Round k is entirely
      inside (k even) or outside (k odd): the outside capture's packet j
      answers the inside capture's packet j, which is what lets Open
      vSwitch, which polls the two ports in turn rather than by timestamp,
      see every request before its reply.

Frames are built with struct, not scapy (1M frames would take minutes).
"""
import os
import random
import struct
import sys

N = 1_000_000
T0 = 1_700_000_000 * 1_000_000         # First timestamp, in microseconds.
MAC_IN = bytes.fromhex("020000000001")
MAC_OUT = bytes.fromhex("020000000002")
PAD = b"\0" * 18                        # UDP frames: 14 + 20 + 8 + 18 = 60.


def csum16(data):
    """The Internet checksum of 'data'."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, l4):
    """An IPv4 header (DF, TTL 64, id 0) with its checksum, then 'l4'."""
    h = bytearray(struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(l4), 0, 0x4000,
                              64, proto, 0, src, dst))
    struct.pack_into("!H", h, 10, csum16(bytes(h)))
    return bytes(h) + l4


def l4_csum(src, dst, proto, l4, off):
    """'l4' with its TCP or UDP checksum (at 'off') filled in."""
    b = bytearray(l4)
    c = csum16(struct.pack("!IIBBH", src, dst, 0, proto, len(b)) + bytes(b))
    if proto == 17 and c == 0:
        c = 0xFFFF
    struct.pack_into("!H", b, off, c)
    return bytes(b)


def eth(reply, payload):
    dst, src = (MAC_IN, MAC_OUT) if reply else (MAC_OUT, MAC_IN)
    return dst + src + b"\x08\x00" + payload


def udp_frame(src, dst, sport, dport, reply, pad=PAD):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(pad), 0) + pad
    return eth(reply, ipv4(src, dst, 17, l4_csum(src, dst, 17, udp, 6)))


# ---- Workloads (a)-(c): the OVS anchor's UDP flows ----------------------

DIP, DPORT = (10 << 24) | (1 << 16) | 1, 5001


def anchor_frame(i, reply=False):
    h = i % 4096 + 1
    sip, sport = (10 << 24) | h, 1024 + i // 4096
    if reply:
        return udp_frame(DIP, sip, DPORT, sport, True)
    return udp_frame(sip, DIP, sport, DPORT, False)


def write_pcap(path, frames, t0=T0):
    """Writes 'frames' (an iterable) 1 us apart from 't0'; returns the
    timestamp after the last.  Written to a temporary name and renamed, so
    that a capture that exists is complete."""
    t = t0
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000,
                                len(fr), len(fr)))
            f.write(fr)
            t += 1
    os.rename(path + ".tmp", path)
    return t


def write_pair(out, name, fwd, rev):
    """Writes NAME.pcap from 'fwd' and NAME-reply.pcap from 'rev', the
    replies timestamped after the last forward packet (plus 1 ms)."""
    t = write_pcap(f"{out}/{name}.pcap", fwd)
    write_pcap(f"{out}/{name}-reply.pcap", rev, t + 1000)


def write_halves(out, name, fwd, rev, order_fwd, order_rev):
    """Writes NAME-1of2[-reply].pcap and NAME-2of2[-reply].pcap: the
    frames fwd[i] and rev[i] for i in 'order_fwd' and 'order_rev' (flow
    numbers), split by flow, even flows in half 1 and odd ones in half
    2."""
    for h in range(2):
        write_pair(out, f"{name}-{h + 1}of2",
                   (fwd[i] for i in order_fwd if i % 2 == h),
                   (rev[i] for i in order_rev if i % 2 == h))


class Anchor:
    """anchor_frame(i, reply) as a sequence indexed by flow i."""

    def __init__(self, reply):
        self.reply = reply

    def __getitem__(self, i):
        return anchor_frame(i, self.reply)


def gen_anchor(out):
    rnd = random.Random(12345)
    f, r = anchor_frame(0), anchor_frame(0, True)
    write_pair(out, "a-1flow", (f for _ in range(N)), (r for _ in range(N)))

    flows = 100_000
    fwd = [anchor_frame(i) for i in range(flows)]
    rev = [anchor_frame(i, True) for i in range(flows)]
    o1 = [i for i in range(flows) for _ in range(N // flows)]
    o2 = list(o1)
    rnd.shuffle(o1)
    rnd.shuffle(o2)
    write_pair(out, "b-100kx10", (fwd[i] for i in o1), (rev[i] for i in o2))
    write_halves(out, "b-100kx10", fwd, rev, o1, o2)

    write_pair(out, "c-1Mx1", (anchor_frame(i) for i in range(N)),
               (anchor_frame(i, True) for i in range(N)))
    write_halves(out, "c-1Mx1", Anchor(False), Anchor(True), range(N),
                 range(N))


# ---- Workload (m): ctdp-bench-dp.c's mixed flows ---------------------------

M_FLOWS, M_ROUNDS = 30_000, 25
SERVER = (10 << 24) | (2 << 16) | 1
ISN_C, ISN_S = 1000, 5000               # Client's and server's first seq.


def mixed_frame(flow, k):
    """Packet 'k' of 'flow', and whether it is a reply (from outside)."""
    host = (10 << 24) | (1 << 16) | (flow & 0xFFFF)
    port = 1024 + flow % 60000
    kind = flow % 3
    reply = bool(k % 2)
    src, dst = (SERVER, host) if reply else (host, SERVER)
    if kind == 1:
        sp, dp = (53, port) if reply else (port, 53)
        return udp_frame(src, dst, sp, dp, reply, b""), reply
    if kind == 2:
        icmp = bytearray(struct.pack("!BBHHH", 0 if reply else 8, 0, 0,
                                     port, k // 2))
        struct.pack_into("!H", icmp, 2, csum16(bytes(icmp)))
        return eth(reply, ipv4(src, dst, 1, bytes(icmp))), reply
    # TCP: SYN, SYN-ACK, ACK, then pure ACKs both ways.
    flags = 0x02 if k == 0 else 0x12 if k == 1 else 0x10
    if reply:
        seq, ack, sp, dp = ISN_S + (k > 1), ISN_C + 1, 80, port
    else:
        seq, ack, sp, dp = ISN_C + (k > 0), ISN_S + 1 if k else 0, port, 80
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535,
                      0, 0)
    return eth(reply, ipv4(src, dst, 6, l4_csum(src, dst, 6, tcp, 16))), reply


def gen_mixed(out):
    """Both captures, timestamps 1 us apart across them in round order."""
    t = T0
    with open(f"{out}/m-mixed-in.pcap.tmp", "wb") as fin, \
            open(f"{out}/m-mixed-out.pcap.tmp", "wb") as fout:
        for f in (fin, fout):
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for k in range(M_ROUNDS):
            for flow in range(M_FLOWS):
                fr, reply = mixed_frame(flow, k)
                (fout if reply else fin).write(
                    struct.pack("<IIII", t // 1_000_000, t % 1_000_000,
                                len(fr), len(fr)) + fr)
                t += 1
    for n in ("in", "out"):
        os.rename(f"{out}/m-mixed-{n}.pcap.tmp", f"{out}/m-mixed-{n}.pcap")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ctdp-bench-pcaps.py DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    gen_anchor(sys.argv[1])
    gen_mixed(sys.argv[1])


if __name__ == "__main__":
    main()
