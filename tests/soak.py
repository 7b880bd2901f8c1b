#!/usr/bin/python3
"""A soak of ctdpd with real traffic, run by hand (not part of the test
command):

    /usr/bin/python3 tests/soak.py [--minutes=30] [--out=DIR]
    make -C _build/default soak MINUTES=30

Two namespaces, "inside" and "outside", joined through ctdpd's default
firewall by veth pairs.  Traffic, all the time: a TCP connection held open
that echoes a line every round (the established flow that must never be
lost), HTTP requests in a loop, pings, and UDP from random source ports
(new conns all the time, unreplied, each expiring after 30 s).  Every few
seconds the operator side does one of: a streamed dump, a flush of the UDP
conns, a per-zone limit change, a maxconns change that makes early drop
run, and back.  Checked every round: the daemon answers, the held TCP
connection echoes, the conn count stays within maxconns (or, after
maxconns was lowered below it, does not grow: lowering evicts nothing, as
the kernel), a dump agrees with the count (within the conns made or
removed meanwhile).  The RSS of
ctdpd is sampled every round into DIR/soak.csv and plotted in
DIR/soak-rss.png; the run fails if RSS after the first tenth of the run
grows by more than a quarter.
"""
import argparse
import csv
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from netns import network  # noqa: E402

IN4, OUT4 = "10.98.0.1", "10.98.0.2"
# Conns the UDP churn (some 500 a second) may make or remove while one
# command is on its way.
SLACK = 200

ECHO_SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(1)
c, _ = s.accept()
while True:
    data = c.recv(100)
    if not data:
        break
    c.sendall(data)
"""

UDP_CHURN = f"""
import random, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", random.randint(20000, 60000)))
        try:
            u.sendto(b"churn", ("{OUT4}", 9999))
        except OSError:
            pass
        u.close()
    time.sleep(0.05)
"""

HTTP_LOOP = f"""
import time, urllib.request
while True:
    try:
        urllib.request.urlopen("http://{OUT4}:8080/", timeout=2).read()
    except OSError:
        pass
    time.sleep(0.1)
"""


def rss_kb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def nconns(net):
    return int(net.dpctl("ct-get-nconns").strip())


class Echo:
    """The held TCP connection, from inside to outside's echo server."""

    def __init__(self, net):
        inside, outside = net.hosts
        outside.python(ECHO_SERVER)
        outside.wait_listening(7000)
        self.proc = inside.popen("socat", "-", f"TCP:{OUT4}:7000",
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True,
                                 bufsize=1)

    def check(self, n):
        line = f"round {n}\n"
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        return self.proc.stdout.readline() == line


OPERATIONS = [
    ("dump", lambda net: None),
    ("flush udp", lambda net: net.dpctl("flush-conntrack", "zone=0",
                                        "ct_nw_proto=17")),
    ("limit zone 0 to 2000", lambda net: net.dpctl("ct-set-limits",
                                                    "zone=0,limit=2000")),
    ("limits back", lambda net: net.dpctl("ct-del-limits", "zone=0")),
    ("maxconns 1500", lambda net: net.dpctl("ct-set-maxconns", "1500")),
    ("maxconns back", lambda net: net.dpctl("ct-set-maxconns", "3000000")),
]


def soak(minutes, out):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="ctdp-soak-"))
    rows, failures = [], []
    with network(tmp, [(IN4, None), (OUT4, None)]) as net:
        inside, outside = net.hosts
        outside.popen("/usr/bin/python3", "-m", "http.server", "8080",
                      "--bind", OUT4)
        outside.wait_listening(8080)
        echo = Echo(net)
        inside.python(HTTP_LOOP)
        inside.python(UDP_CHURN)
        inside.popen("ping", "-i", "0.2", OUT4)
        start = time.monotonic()
        end = start + minutes * 60
        n = 0
        cap = 3000000           # Conns may not grow past this.
        while time.monotonic() < end:
            name, op = OPERATIONS[n % len(OPERATIONS)]
            before = nconns(net)
            op(net)
            dumped = len(net.dpctl("dump-conntrack").splitlines())
            after = nconns(net)
            maxconns = int(net.dpctl("ct-get-maxconns").strip())
            # Lowering maxconns evicts nothing, as the kernel: the table
            # may not grow past its size then (early drop makes room), give
            # or take the conns made while the command was on its way.
            cap = (maxconns if maxconns >= cap
                   else max(maxconns, before + SLACK))
            ok_echo = echo.check(n)
            rss = rss_kb(net.daemon.pid)
            elapsed = time.monotonic() - start
            rows.append((round(elapsed, 1), rss, after, name))
            problems = []
            if not ok_echo:
                problems.append("the held TCP connection did not echo")
            if after > cap:
                problems.append(f"{after} conns, over {cap} (maxconns "
                                f"{maxconns})")
            if name == "dump" and not (min(before, after) - SLACK <= dumped
                                       <= max(before, after) + SLACK):
                problems.append(f"dump of {dumped} conns between counts "
                                f"{before} and {after}")
            for p in problems:
                failures.append(f"{elapsed:.0f} s ({name}): {p}")
            print(f"{elapsed:7.1f} s  rss {rss} kB  conns {after:6d}  {name}"
                  f"{'  ' + '; '.join(problems) if problems else ''}",
                  flush=True)
            n += 1
            time.sleep(5)
        stats = net.dpctl("ct-stats-show")
    write_results(out, rows, stats)
    tenth = [r[1] for r in rows if r[0] >= minutes * 6]
    if tenth and max(tenth) > 1.25 * tenth[0] + 2048:
        failures.append(f"RSS grew from {tenth[0]} kB to {max(tenth)} kB")
    return failures


def write_results(out, rows, stats):
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "soak.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seconds", "rss_kb", "conns", "operation"])
        w.writerows(rows)
    (out / "soak-stats.txt").write_text(stats)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([r[0] / 60 for r in rows], [r[1] / 1024 for r in rows],
            label="ctdpd RSS (MiB)")
    ax2 = ax.twinx()
    ax2.plot([r[0] / 60 for r in rows], [r[2] for r in rows], color="grey",
             alpha=0.5, label="conns")
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS (MiB)")
    ax2.set_ylabel("conns")
    ax.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    ax.set_title("ctdpd soak: RSS and conns over time")
    fig.tight_layout()
    fig.savefig(out / "soak-rss.png", dpi=80)


def main():
    # SIGTERM unwinds like Ctrl-C, so the namespaces are removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args()
    failures = soak(args.minutes, args.out)
    for f in failures:
        print(f"FAIL: {f}")
    print(f"soak: {len(failures)} failures in {args.minutes} minutes")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
