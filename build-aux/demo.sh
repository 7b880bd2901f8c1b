#!/usr/bin/env bash
# The main job: a live stateful firewall.
#
# Two network namespaces, "inside" and "outside", are joined through ctdpd
# by veth pairs (system ports 1 and 2) running the default firewall flows.
# Real traffic from inside (ping, an HTTP fetch, a UDP exchange, a TCP
# connection held open) goes through; a connection attempt from outside is
# dropped.  A 1 MB file is fetched intact over FTP, passive and active,
# IPv4 and IPv6: the FTP helper of the default flows makes the data
# connections related (EXPECTED in the conntrack table) and lists an
# expectation while one is awaited.  Then the conntrack table, the flow
# counters and the datapath's state are printed.
#
# Then ctdpd is restarted with --masquerade: the same firewall, with the
# IPv4 conns from inside source-NATed to 198.19.0.100, an address of the
# outside network (whose host reaches it through a neighbour entry: ctdp
# bridges and answers no ARP).  An HTTP fetch, a UDP exchange and a
# passive FTP fetch from inside go through; the outside servers see only 198.19.0.100, and the
# conntrack table shows the NATed reply tuples.  Everything is removed at
# the end, whatever happened.
#
# Usage (as root): build-aux/demo.sh BUILDDIR
# Exits non-zero if any step did not behave as a firewall (or, in the
# second part, a masquerading firewall) should.
set -euo pipefail
build=${1:?usage: build-aux/demo.sh BUILDDIR}
id=$$
nsi=ctdp-in-$id nso=ctdp-out-$id      # namespaces
pi=ctdpi$id po=ctdpo$id               # host ends of the veth pairs
work=$(mktemp -d /tmp/ctdp-demo.XXXXXX)
dpctl() { "$build/utilities/ctdp-dpctl" --unixctl="$work/ctdpd.ctl" "$@"; }
failed=0

cleanup() {
    set +e
    [ -f "$work/ctdpd.pid" ] && kill "$(cat "$work/ctdpd.pid")" 2>/dev/null
    for ns in "$nsi" "$nso"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    ip link del "$pi" 2>/dev/null
    ip link del "$po" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
expect() {          # expect ok|fail DESCRIPTION COMMAND...
    local want=$1 what=$2 got
    shift 2
    if "$@" >"$work/out" 2>&1; then got=ok; else got=fail; fi
    if [ "$got" = "$want" ]; then
        printf '  %-58s %s\n' "$what" "$( [ "$want" = ok ] && echo passed || echo 'blocked, as it should be')"
    else
        printf '  %-58s UNEXPECTED (%s)\n' "$what" "$got"
        sed 's/^/    /' "$work/out"
        failed=1
    fi
}

# One namespace and its veth pair: NS HOSTEND ADDR4 ADDR6.
make_host() {
    ip netns add "$1"
    ip link add "$2" type veth peer name eth0 netns "$1"
    # The host end is only a port of ctdpd: the host must not answer ARP or
    # talk IPv6 on it, or traffic meant for the other namespace could reach
    # the host instead.
    sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
    sysctl -qw "net.ipv4.conf.$2.arp_ignore=8"
    ip link set "$2" up
    ip -n "$1" link set lo up
    ip -n "$1" link set eth0 up
    ip -n "$1" addr add "$3/24" dev eth0
    ip -n "$1" addr add "$4/64" dev eth0 nodad
}

say "building the network: $nsi (198.18.0.1) -- ctdpd -- $nso (198.18.0.2)"
make_host "$nsi" "$pi" 198.18.0.1 2001:db8::1
make_host "$nso" "$po" 198.18.0.2 2001:db8::2
start_ctdpd() {     # start_ctdpd [MORE CTDPD OPTIONS]
    "$build/utilities/ctdpd" --detach --no-chdir --pidfile="$work/ctdpd.pid" \
        --unixctl="$work/ctdpd.ctl" --log-file="$work/ctdpd.log" \
        --port="$pi=system" --port="$po=system" "$@"
}
start_ctdpd
dpctl show

say "servers: HTTP, UDP echo and TCP echo outside, HTTP inside"
ip netns exec "$nso" /usr/bin/python3 -m http.server 8080 --bind :: \
    >/dev/null 2>&1 &
ip netns exec "$nso" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 9999))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)' &
ip netns exec "$nso" /usr/bin/python3 -c '
import socket, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", 9998))
s.listen()
def echo(c):
    while True:
        data = c.recv(2048)
        if not data:
            return
        c.sendall(data)
while True:
    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()' &
ip netns exec "$nsi" /usr/bin/python3 -m http.server 8081 \
    --bind 198.18.0.1 >/dev/null 2>&1 &
for i in $(seq 100); do
    ip netns exec "$nso" ss -ltn | grep -q ':8080 ' &&
        ip netns exec "$nso" ss -ltn | grep -q ':9998 ' &&
        ip netns exec "$nsi" ss -ltn | grep -q ':8081 ' && break
    sleep 0.05
done

say "traffic"
expect ok "ping from inside to outside" \
    ip netns exec "$nsi" ping -c 2 -i 0.2 -W 2 198.18.0.2
expect ok "ping6 from inside to outside" \
    ip netns exec "$nsi" ping -6 -c 2 -i 0.2 -W 2 2001:db8::2
expect ok "HTTP fetch from inside (IPv4)" \
    ip netns exec "$nsi" curl -sf --max-time 5 http://198.18.0.2:8080/
expect ok "HTTP fetch from inside (IPv6)" \
    ip netns exec "$nsi" curl -sf --max-time 5 'http://[2001:db8::2]:8080/'
expect ok "UDP request and reply from inside" \
    ip netns exec "$nsi" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"hello", ("198.18.0.2", 9999))
assert s.recvfrom(2048)[0] == b"hello"'
expect fail "HTTP connection from outside to inside" \
    ip netns exec "$nso" curl -sf --max-time 2 http://198.18.0.1:8081/
expect fail "ping from outside to inside" \
    ip netns exec "$nso" ping -c 1 -W 1 198.18.0.1

# A TCP connection held open (to the echo server) while the table is
# printed: it shows as ESTABLISHED.
ip netns exec "$nsi" /usr/bin/python3 -c '
import socket, time
s = socket.create_connection(("198.18.0.2", 9998), timeout=5)
s.sendall(b"hello")
assert s.recv(100) == b"hello"
time.sleep(10)' &
expect ok "TCP connection from inside, held open, is ESTABLISHED" \
    bash -c "for i in \$(seq 100); do
        $build/utilities/ctdp-dpctl --unixctl=$work/ctdpd.ctl dump-conntrack |
            grep -q 'dport=9998.*state=ESTABLISHED' && exit 0
        sleep 0.05
    done; exit 1"

say "FTP through the firewall (the default flows give port 21 the FTP helper)"
# An anonymous FTP server outside (Debian's python3-pyftpdlib) serving a
# 1 MB random file; curl inside fetches it passively (the client opens the
# data connection, to the port of the server's 227/229 reply) and actively
# (-P: the server opens it, to the port of the client's PORT/EPRT, which
# the firewall lets in only because the helper made it related).
mkdir "$work/ftp"
chmod 755 "$work" "$work/ftp"
head -c 1048576 /dev/urandom >"$work/ftp/file.bin"
sum=$(sha256sum <"$work/ftp/file.bin" | cut -d' ' -f1)
ip netns exec "$nso" /usr/bin/python3 -m pyftpdlib -i :: -p 21 \
    -d "$work/ftp" >/dev/null 2>&1 &
for i in $(seq 100); do
    ip netns exec "$nso" ss -ltn | grep -q ':21 ' && break
    sleep 0.05
done
ftp_fetch() {       # ftp_fetch URL [CURL OPTIONS]: the file arrives intact
    local url=$1
    shift
    ip netns exec "$nsi" curl -sS --max-time 10 "$@" "$url" |
        sha256sum | grep -q "^$sum "
}
expect ok "passive FTP (IPv4): 1 MB fetched intact" \
    ftp_fetch ftp://198.18.0.2/file.bin
expect ok "active FTP (IPv4, PORT): 1 MB fetched intact" \
    ftp_fetch ftp://198.18.0.2/file.bin -P - --disable-eprt
expect ok "passive FTP (IPv6): 1 MB fetched intact" \
    ftp_fetch 'ftp://[2001:db8::2]/file.bin'
expect ok "active FTP (IPv6, EPRT): 1 MB fetched intact" \
    ftp_fetch 'ftp://[2001:db8::2]/file.bin' -P -
expect ok "the control connections have the FTP helper" \
    bash -c "[ \$($build/utilities/ctdp-dpctl --unixctl=$work/ctdpd.ctl \
                 dump-conntrack | grep -c 'dport=21),.*helper=ftp') = 4 ]"
expect ok "the active data connections are related, opened from outside" \
    bash -c "$build/utilities/ctdp-dpctl --unixctl=$work/ctdpd.ctl \
                 dump-conntrack -m | grep EXPECTED |
             grep -q 'orig=(src=198.18.0.2,dst=198.18.0.1,'"
# A client that sends PASV and, before connecting, lists the expectation
# the 227 reply made (the unix socket is reachable from the namespace).
expect ok "PASV: dump-conntrack-exp lists the expectation" \
    ip netns exec "$nsi" /usr/bin/python3 -c '
import ftplib, subprocess, sys
ftp = ftplib.FTP("198.18.0.2", timeout=5)
ftp.login()
host, port = ftp.makepasv()
out = subprocess.run(sys.argv[1:] + ["dump-conntrack-exp"],
                     capture_output=True, text=True).stdout
print(out, end="")
ftp.quit()
assert "dport=%d),reply=" % port in out and "helper=ftp" in out' \
        "$build/utilities/ctdp-dpctl" --unixctl="$work/ctdpd.ctl"
echo "  dump-conntrack-exp while PASV's data connection was awaited:"
sed 's/^/    /' "$work/out"
echo "  the FTP conns (dump-conntrack -m: control, then data ones EXPECTED):"
dpctl dump-conntrack -m | grep -E 'helper=ftp|EXPECTED' | sort |
    sed 's/,protoinfo=([^)]*)//; s/^/    /'

say "the conntrack table (ctdp-dpctl dump-conntrack -s)"
dpctl dump-conntrack -s | sort
say "the tracker's counts and statistics (ctdp-dpctl ct-stats-show)"
dpctl ct-stats-show
say "the flows (ctdp-dpctl dump-flows)"
dpctl dump-flows
say "the datapath (ctdp-dpctl show)"
dpctl show

say "part 2: masquerade (ctdpd --masquerade=198.19.0.100)"
pid=$(cat "$work/ctdpd.pid")
kill "$pid"
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
start_ctdpd --masquerade=198.19.0.100
# The outside network 198.19.0.0/24: the outside host's address there, and
# its neighbour entry for the NAT address, which sends the frames for it
# to the inside host's MAC through ctdpd (as an upstream router's entry
# for a masquerading router's address would).  Inside reaches it on link.
ip -n "$nso" addr add 198.19.0.2/24 dev eth0
ip -n "$nso" neigh replace 198.19.0.100 dev eth0 nud permanent \
    lladdr "$(ip netns exec "$nsi" cat /sys/class/net/eth0/address)"
ip -n "$nsi" route add 198.19.0.0/24 dev eth0
# An HTTP server that logs its clients, and a UDP server that answers
# with the address it sees.
ip netns exec "$nso" /usr/bin/python3 -m http.server 8082 \
    --bind 198.19.0.2 >/dev/null 2>"$work/http.log" &
ip netns exec "$nso" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.19.0.2", 9997))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(peer[0].encode(), peer)' &
for i in $(seq 100); do
    ip netns exec "$nso" ss -ltn | grep -q ':8082 ' && break
    sleep 0.05
done

expect ok "HTTP fetch from inside (198.18.0.1), masqueraded" \
    ip netns exec "$nsi" curl -sf --max-time 5 http://198.19.0.2:8082/
expect ok "the HTTP server's client was 198.19.0.100, not 198.18.0.1" \
    bash -c "grep -q '^198\.19\.0\.100 .*GET / ' $work/http.log &&
             ! grep -q '198\.18\.0\.1 ' $work/http.log"
expect ok "UDP from inside: the server saw 198.19.0.100" \
    ip netns exec "$nsi" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"who am I?", ("198.19.0.2", 9997))
assert s.recvfrom(2048)[0] == b"198.19.0.100"'
expect ok "ping from inside, masqueraded" \
    ip netns exec "$nsi" ping -c 2 -i 0.2 -W 2 198.19.0.2
expect ok "passive FTP from inside, masqueraded: 1 MB intact" \
    ftp_fetch ftp://198.19.0.2/file.bin
expect fail "HTTP connection from outside to the NAT address" \
    ip netns exec "$nso" curl -sf --max-time 2 http://198.19.0.100:8081/
expect ok "dump-conntrack: the fetch's reply tuple is NATed" \
    bash -c "$build/utilities/ctdp-dpctl --unixctl=$work/ctdpd.ctl \
                 dump-conntrack -m | grep 'dport=8082' |
             grep -q 'reply=(src=198.19.0.2,dst=198.19.0.100,sport=8082,.*SRC_NAT'"
echo "  the HTTP server's log:"
sed 's/^/    /' "$work/http.log"

say "the conntrack table with NAT (ctdp-dpctl dump-conntrack -m)"
dpctl dump-conntrack -m | sort
say "the tracker's statistics, nat_exhausted among them"
dpctl ct-stats-show | tail -n 1

if [ "$failed" != 0 ]; then
    echo; echo "demo: some traffic did not behave as it should (see above)"
    exit 1
fi
echo; echo "demo: the firewall let inside open connections and kept outside out,"
echo "      FTP's data connections came through as related;"
echo "      with --masquerade, outside saw only the NAT address"
