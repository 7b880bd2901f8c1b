"""Real FTP and TFTP through conntrack helpers: namespaces joined through
ctdpd, after Open vSwitch's system-traffic FTP and TFTP tests.

The inside host (port 1) is the client, the outside host (port 2) the
server: Debian's pyftpdlib (python3-pyftpdlib) serving a directory that
holds a 1 MB random file, on port 21 and on port 2121, and tftpd-hpa's
in.tftpd serving the same directory; curl is the client for both
(ftp:// passive by default, -P for active; tftp://).  Every transfer is
checked whole, by its SHA-256.

- Under ctdpd's default firewall (tests/netns.py without flows), which
  gives FTP control conns to port 21 the FTP helper and commits related
  conns: active and passive FTP, the extended commands (EPRT/EPSV) and the
  classic ones (PORT/PASV), over IPv4 and IPv6; the control conn shows
  helper=ftp, the data conn EXPECTED, and the expectation is listed while
  a transfer is being set up.
- FTP on port 2121 needs a flow with alg=ftp for that port: with one,
  active FTP works; under the default firewall (helper on 21 only) its
  data connection is refused.  Without alg= at all, active FTP's data
  connection is refused on port 21 too, as the kernel's firewall without
  the helper; passive still works (the client opens the data connection).
- TFTP with alg=tftp: the server's answer (from a new port) is related
  and comes in; without alg= (the default firewall) it is dropped.
- FTP through --masquerade, passive (the 227/229 reply names the
  server's address) and active (the helper rewrites PORT/EPRT to name the
  NAT address, and the server's data connection is translated back).

tests/netns.py builds and removes the namespaces, also when a
test fails; every client has a short timeout.
"""
import hashlib
import os
import re
import subprocess

import pytest

from conftest import TOP, wait_until
from netns import network

INSIDE4, OUTSIDE4 = "198.18.0.1", "198.18.0.2"
INSIDE6, OUTSIDE6 = "2001:db8::1", "2001:db8::2"
SIZE = 1 << 20
TFTP_SIZE = 256 << 10           # Lock-step 512-byte blocks: kept small.

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="network namespaces need root")


def default_flows():
    """ctdpd's default firewall, as lib/ctdp-dp.c has it."""
    code = (TOP / "lib" / "ctdp-dp.c").read_text()
    literal = code.split("ctdp_dp_firewall_flows[] =")[1].split('";\n')[0]
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', literal + '"'))
    return [l for l in text.replace("\\n", "\n").splitlines()
            if l and not l.startswith("#")]


def flows_with(ftp_port=21, alg=True, tftp=False):
    """ctdpd's default firewall with the FTP helper on 'ftp_port' instead
    of 21 (alg=False: no helper at all) and, with 'tftp', the TFTP helper
    on UDP port 69 as well."""
    flows = []
    for flow in default_flows():
        if "alg=ftp" in flow:
            flow = flow.replace("tp_dst=21,", f"tp_dst={ftp_port},")
            if not alg:
                flow = flow.replace(",alg=ftp", "")
        flows.append(flow)
    assert sum("alg=" in f for f in flows) == (2 if alg else 0), flows
    if tftp:
        for ip in ("udp", "udp6"):
            flows.insert(-1, f"table=1,priority=60,ct_state=+trk+new-rel,"
                         f"{ip},in_port=1,tp_dst=69,"
                         "actions=ct(commit,alg=tftp),output:2")
    return "\n".join(flows) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The servers' directory: 'data.bin' (1 MB) and 'small.bin' (for
    TFTP), random; their SHA-256 digests by name."""
    root = tmp_path_factory.mktemp("ftproot")
    digests = {}
    for name, size in (("data.bin", SIZE), ("small.bin", TFTP_SIZE)):
        data = os.urandom(size)
        (root / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    os.chmod(root, 0o755)
    return root, digests


def start_servers(net, root, tftp=False):
    """pyftpdlib on ports 21 and 2121 of every address of the outside
    host, anonymous and read-only, and with 'tftp' in.tftpd on port 69."""
    outside = net.hosts[1]
    for port in (21, 2121):
        outside.popen("/usr/bin/python3", "-m", "pyftpdlib", "-i", "::",
                      "-p", str(port), "-d", str(root))
        outside.wait_listening(port)
    if tftp:
        outside.popen("/usr/sbin/in.tftpd", "--foreground", "--listen",
                      "--address", ":69", "--user", "root", "--secure",
                      str(root))
        outside.wait_listening(69, "u")


def host_url(addr):
    return f"[{addr}]" if ":" in addr else addr


def fetch(host, url, *curl_args, timeout=10):
    """Fetches 'url' with curl (at most 'timeout' s) in 'host'; returns
    (curl's exit status, SHA-256 of what came, curl's stderr)."""
    proc = host.exec("bash", "-o", "pipefail", "-c",
                     'curl -sS "$@" | sha256sum', "fetch",
                     "--max-time", str(timeout), *curl_args, url,
                     timeout=timeout + 10)
    digest = proc.stdout.split()[0] if proc.stdout else ""
    return proc.returncode, digest, proc.stderr


MODES = {
    # curl's options for each way of opening the data connection.
    "passive-epsv": [],
    "passive-pasv": ["--disable-epsv"],
    "active-eprt": ["-P", "-"],
    "active-port": ["-P", "-", "--disable-eprt"],
}


def conns(net):
    return net.dpctl("dump-conntrack", "-m").splitlines()


def flow_packets(net, table, match):
    """n_packets of the flow of 'table' whose match (as dump-flows prints
    it) is 'match'."""
    for line in net.dpctl("dump-flows", f"table={table}").splitlines():
        head = line.split(" actions=")[0]
        if head.split()[-1] == match:
            return int(re.search(r"n_packets=(\d+)", head)[1])
    raise AssertionError(f"no flow {match} in table {table}")


def data_conns(net, ctrl_port):
    """(control conn line, EXPECTED conn lines) of the dump."""
    lines = conns(net)
    ctrl = [l for l in lines if f"dport={ctrl_port})," in l
            and "EXPECTED" not in l]
    data = [l for l in lines if "EXPECTED" in l]
    return ctrl, data


@pytest.fixture(scope="module")
def fw(tmp_path_factory, files):
    """Inside and outside under ctdpd's default firewall, with the FTP
    servers on the outside host."""
    with network(tmp_path_factory.mktemp("ftpfw"),
                 [(INSIDE4, INSIDE6), (OUTSIDE4, OUTSIDE6)]) as net:
        start_servers(net, files[0])
        yield net


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_ftp_through_default_firewall(fw, files, family, mode):
    """A whole file arrives intact, actively or passively, through the
    default firewall; the control conn has the FTP helper and the data
    conn is EXPECTED, opened by the server (active) or by the client
    (passive)."""
    inside = fw.hosts[0]
    client, server = (INSIDE4, OUTSIDE4) if family == "ipv4" else (
        INSIDE6, OUTSIDE6)
    fw.dpctl("flush-conntrack")
    rc, digest, err = fetch(inside, f"ftp://{host_url(server)}/data.bin",
                            *MODES[mode])
    assert rc == 0, err
    assert digest == files[1]["data.bin"]

    ctrl, data = data_conns(fw, 21)
    assert len(ctrl) == 1 and ctrl[0].endswith(",helper=ftp"), ctrl
    assert ctrl[0].startswith(f"tcp,orig=(src={client},dst={server},")
    assert "ASSURED" in ctrl[0]
    assert len(data) == 1, conns(fw)
    opener = server if mode.startswith("active") else client
    assert data[0].startswith(f"tcp,orig=(src={opener},"), data
    assert "SEEN_REPLY" in data[0] and "helper=" not in data[0]
    assert fw.dpctl("dump-conntrack-exp") == ""


def test_related_flow_counts_active_data_connections(fw, files):
    """The active data connection's SYN is what the related flow from
    outside commits (its first packet is +new+rel); a passive one's goes
    out through the flow for new conns from inside."""
    inside = fw.hosts[0]
    rel_in = "priority=50,ct_state=+rel+trk,ip,in_port=2"
    before = flow_packets(fw, 1, rel_in)
    rc, digest, err = fetch(inside, f"ftp://{OUTSIDE4}/data.bin",
                            *MODES["active-port"])
    assert rc == 0 and digest == files[1]["data.bin"], err
    assert flow_packets(fw, 1, rel_in) == before + 1
    rc, digest, err = fetch(inside, f"ftp://{OUTSIDE4}/data.bin")
    assert rc == 0 and digest == files[1]["data.bin"], err
    assert flow_packets(fw, 1, rel_in) == before + 1


# An ftplib client that sends PORT (active) or PASV, prints the data port
# the expectation should name, waits for a line on stdin, then fetches the
# file and prints its SHA-256.
FTPLIB_CLIENT = """
import ftplib, hashlib, socket, sys
ftp = ftplib.FTP()
ftp.connect({server!r}, {port}, timeout=5)
ftp.login()
ftp.sendcmd("TYPE I")
if {active}:
    listener = ftp.makeport()
    print(listener.getsockname()[1], flush=True)
else:
    host, port = ftp.makepasv()
    print(port, flush=True)
sys.stdin.readline()
h = hashlib.sha256()
if {active}:
    ftp.sendcmd("RETR data.bin")
    conn, _ = listener.accept()
else:
    conn = socket.create_connection((host, port), timeout=5)
    ftp.sendcmd("RETR data.bin")
conn.settimeout(5)
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    h.update(chunk)
conn.close()
ftp.voidresp()
ftp.quit()
print(h.hexdigest(), flush=True)
"""


@pytest.mark.parametrize("active", [True, False], ids=["active", "passive"])
def test_expectation_while_transfer_is_set_up(fw, files, active):
    """PASV's 227 makes an expectation from the client (any port) to the
    server's port, parented by the control conn, which dump-conntrack-exp
    lists until the client connects and uses it up.  pyftpdlib connects
    for PORT as soon as it gets it, so for PORT the data conn is there,
    EXPECTED and opened by the server, by the time the client has the
    200 reply (the expectation is already used up)."""
    inside = fw.hosts[0]
    fw.dpctl("flush-conntrack")
    proc = inside.popen("/usr/bin/python3", "-c", FTPLIB_CLIENT.format(
        server=OUTSIDE4, port=21, active=active), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    if active:
        wait_until(lambda: [l for l in conns(fw) if "EXPECTED" in l],
                   what="the active data conn")
        data = [l for l in conns(fw) if "EXPECTED" in l]
        assert data[0].startswith(
            f"tcp,orig=(src={OUTSIDE4},dst={INSIDE4},"), data
        assert f",dport={port})," in data[0]
        assert fw.dpctl("dump-conntrack-exp") == ""
    else:
        exp = fw.dpctl("dump-conntrack-exp").splitlines()
        assert exp == [
            f"tcp,orig=(src={INSIDE4},dst={OUTSIDE4},sport=0,dport={port}),"
            f"reply=(src={OUTSIDE4},dst={INSIDE4},sport={port},dport=0),"
            f"helper=ftp,parent=(src={INSIDE4},dst={OUTSIDE4},"
            + exp[0].split(",parent=(", 1)[1].split(f"dst={OUTSIDE4},")[1]]
        assert exp[0].endswith(",dport=21)"), exp
        proc_exp = fw.dpctl("dump-conntrack-exp", "--format=proc")
        assert f"dport={port}" in proc_exp and "ftp" in proc_exp, proc_exp
    proc.stdin.write("\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert out.strip() == files[1]["data.bin"]
    assert fw.dpctl("dump-conntrack-exp") == ""
    data = [l for l in conns(fw) if "EXPECTED" in l]
    assert len(data) == 1 and f"dport={port})," in data[0], data


def test_nonstandard_port_without_its_helper_is_refused(fw, files):
    """The default firewall gives only port 21 the helper: on port 2121,
    active FTP's data connection is dropped (passive still works: the
    client opens it)."""
    inside = fw.hosts[0]
    fw.dpctl("flush-conntrack")
    rc, _, _ = fetch(inside, f"ftp://{OUTSIDE4}:2121/data.bin",
                     *MODES["active-port"], timeout=3)
    assert rc != 0
    assert fw.dpctl("dump-conntrack-exp") == ""
    assert not [l for l in conns(fw) if "EXPECTED" in l]
    assert not [l for l in conns(fw) if "helper=" in l]
    rc, digest, err = fetch(inside, f"ftp://{OUTSIDE4}:2121/data.bin")
    assert rc == 0 and digest == files[1]["data.bin"], err


def test_ftp_on_nonstandard_port_with_alg(tmp_path, files):
    """A flow with alg=ftp for port 2121: active and passive FTP on that
    port work, with the helper on the control conn."""
    with network(tmp_path, [(INSIDE4, INSIDE6), (OUTSIDE4, OUTSIDE6)],
                 flows=flows_with(ftp_port=2121)) as net:
        start_servers(net, files[0])
        inside = net.hosts[0]
        for mode in ("active-port", "active-eprt", "passive-pasv"):
            for server in (OUTSIDE4, OUTSIDE6):
                rc, digest, err = fetch(
                    inside, f"ftp://{host_url(server)}:2121/data.bin",
                    *MODES[mode])
                assert rc == 0 and digest == files[1]["data.bin"], (mode,
                                                                   err)
        ctrl, data = data_conns(net, 2121)
        assert len(ctrl) == 6 and all(l.endswith(",helper=ftp")
                                      for l in ctrl), ctrl
        assert len(data) == 6, data


def test_active_ftp_without_alg_is_refused(tmp_path, files):
    """The same firewall without alg=: active FTP's data connection from
    the server is a new conn from outside and is dropped, as in the
    kernel without the helper; passive FTP is unaffected."""
    with network(tmp_path, [(INSIDE4, INSIDE6), (OUTSIDE4, OUTSIDE6)],
                 flows=flows_with(alg=False)) as net:
        start_servers(net, files[0])
        inside = net.hosts[0]
        for server in (OUTSIDE4, OUTSIDE6):
            dropped = flow_packets(net, 1, "priority=0")
            rc, _, _ = fetch(inside, f"ftp://{host_url(server)}/data.bin",
                             *MODES["active-eprt"], timeout=3)
            assert rc != 0, server
            # The server's SYN (and its retransmissions) hit the drop.
            assert flow_packets(net, 1, "priority=0") > dropped
        assert net.dpctl("dump-conntrack-exp") == ""
        assert not [l for l in conns(net) if "EXPECTED" in l
                    or "helper=" in l]
        rc, digest, err = fetch(inside, f"ftp://{OUTSIDE4}/data.bin")
        assert rc == 0 and digest == files[1]["data.bin"], err


@pytest.mark.parametrize("server", [OUTSIDE4, OUTSIDE6],
                         ids=["ipv4", "ipv6"])
def test_tftp_with_alg(tmp_path, files, server):
    """A TFTP read through a firewall with alg=tftp: the server answers
    from a new port, which the request's expectation makes related; the
    file arrives intact."""
    with network(tmp_path, [(INSIDE4, INSIDE6), (OUTSIDE4, OUTSIDE6)],
                 flows=flows_with(tftp=True)) as net:
        start_servers(net, files[0], tftp=True)
        inside = net.hosts[0]
        rc, digest, err = fetch(inside,
                                f"tftp://{host_url(server)}/small.bin")
        assert rc == 0 and digest == files[1]["small.bin"], err
        lines = conns(net)
        req = [l for l in lines if "dport=69)," in l]
        assert len(req) == 1 and req[0].endswith(",helper=tftp"), lines
        data = [l for l in lines if "EXPECTED" in l]
        assert len(data) == 1, lines
        assert data[0].startswith(f"udp,orig=(src={server},"), data
        assert "SEEN_REPLY" in data[0]


@pytest.mark.parametrize("server", [OUTSIDE4, OUTSIDE6],
                         ids=["ipv4", "ipv6"])
def test_tftp_without_alg_is_refused(tmp_path, files, server):
    """Under the default firewall (no TFTP helper) the server's answer
    comes from a new port, is a new conn from outside, and is dropped:
    the read fails."""
    with network(tmp_path, [(INSIDE4, INSIDE6),
                            (OUTSIDE4, OUTSIDE6)]) as net:
        start_servers(net, files[0], tftp=True)
        inside = net.hosts[0]
        rc, _, _ = fetch(inside, f"tftp://{host_url(server)}/small.bin",
                         timeout=3)
        assert rc != 0
        assert flow_packets(net, 1, "priority=0") > 0
        assert not [l for l in conns(net) if "EXPECTED" in l]


NAT = "198.19.0.100"


def test_ftp_through_masquerade(tmp_path, files):
    """--masquerade: passive FTP (the 227 and 229 replies name the
    server's address and port, which need no translation) and active FTP
    (the helper rewrites PORT and EPRT to name the NAT address, and the
    server's data conn to it is translated back to the client), a whole
    file each; the control conns have the helper and are source-NATed, and
    so are the data conns."""
    from test_nat_live import INSIDE_A, OUTSIDE, setup_addresses
    with network(tmp_path, [(INSIDE_A, INSIDE6), (OUTSIDE, OUTSIDE6)],
                 daemon_args=[f"--masquerade={NAT}"]) as net:
        setup_addresses(net)
        start_servers(net, files[0])
        inside = net.hosts[0]
        for mode in ("passive-epsv", "passive-pasv", "active-eprt",
                     "active-port"):
            rc, digest, err = fetch(inside, f"ftp://{OUTSIDE}/data.bin",
                                    *MODES[mode])
            assert rc == 0 and digest == files[1]["data.bin"], (mode, err)
        lines = conns(net)
        ctrl = [l for l in lines if "dport=21)," in l]
        assert len(ctrl) == 4, lines
        for line in ctrl:
            assert line.endswith(",helper=ftp")
            assert f"reply=(src={OUTSIDE},dst={NAT}," in line
        data = [l for l in lines if "EXPECTED" in l]
        assert len(data) == 4, lines
        passive = [l for l in data
                   if l.startswith(f"tcp,orig=(src={INSIDE_A},")]
        active = [l for l in data
                  if l.startswith(f"tcp,orig=(src={OUTSIDE},dst={NAT},")]
        assert len(passive) == 2 and len(active) == 2, data
        for line in passive:
            assert f",dst={NAT}," in line
        for line in active:
            assert f"reply=(src={INSIDE_A},dst={OUTSIDE}," in line
