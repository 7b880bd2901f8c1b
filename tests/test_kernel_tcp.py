"""The TCP tracker's scripts, replayed through the running kernel.

tests/unit/test-ct-tcp.c holds the TCP tracker's scripts: one row per
packet, with the ct_state, the kernel's state name and the timeout the
tracker must give it.  `ctdp-unit --tcp-scripts` prints them as JSON lines;
every script marked "kernel" there is sent here, packet by packet, through
the kernel's conntrack in a router namespace (tests/kernel_ct.py), and after
each packet the kernel must agree with the script:

- the verdict: the nft counter the packet moved (new, est, est|rpl, inv);
- the conn (conntrack -L -o extended,id): none when the script says the
  conn is gone, otherwise its state name, ASSURED or not as the script
  says, UNREPLIED until the conn has accepted a packet in the reply
  direction, a new id where the script expects a new conn (reuse), and the
  timeout within 2 s.

Every step states its ASSURED ("yes" or "no") and its timeout (seconds or
"keep"); a step that leaves either unchecked ("any") carries the reason in
"why_any" (so far only steps after which no conn is left).  The kernel's clock runs in real time while a script's 'now'
  jumps, so "tmo" is checked relative to when the packet was sent, and
  "keep" as the expiry the kernel showed before the packet.

A script that needs time to pass (a conn expiring between packets) cannot
be replayed without waiting, and is not marked; neither is one whose knob
the kernel lacks.  The mark's reason is in the C table.

Run it directly to replay every script, marked or not, and print every
disagreement (how the marks were decided):

    /usr/bin/python3 tests/test_kernel_tcp.py [--all] [NAME-SUBSTRING...]
"""
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import build_dir  # noqa: E402
from kernel_ct import (TOLERANCE, KernelRouter, kernel_ready,  # noqa: E402
                       same_conn)



def unit_binary():
    return build_dir() / "tests" / "unit" / "ctdp-unit"


def load_scripts():
    """Every script of `ctdp-unit --tcp-scripts`, in order."""
    p = subprocess.run([str(unit_binary()), "--tcp-scripts"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode:
        raise RuntimeError(f"ctdp-unit --tcp-scripts: {p.stderr.strip()}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def needs_time(script):
    """The first step at which, by the script's own timeouts, the conn has
    expired since the step before; None if there is none."""
    expiry = None
    for i, st in enumerate(script["steps"]):
        if expiry is not None and st["now"] >= expiry:
            return i
        if st["state"] is None:
            expiry = None
        elif isinstance(st["tmo"], int):
            expiry = st["now"] + 1000 * st["tmo"]
    return None


def replay(router, script):
    """Sends 'script''s packets through 'router''s kernel; returns a list of
    (step index, what differs) and the lines of a per-step trace."""
    diffs, trace = [], []
    router.flush()
    router.set_sysctls(script["sysctl"])
    conn = None             # The kernel's conn after the last packet.
    seen_reply = False
    for i, st in enumerate(script["steps"]):
        side = "A" if st["dir"] == "A2B" else "B"
        sent = time.monotonic()
        try:
            verdict = router.send(side, bytes.fromhex(st["packet"]))
        except RuntimeError as e:
            diffs.append((i, str(e)))
            break
        conns = [c for c in router.conns() if c["proto"] == "tcp"]
        got = conns[0] if len(conns) == 1 else None
        trace.append(f"  {i}: {st['dir']} flags={st['flags']:#04x} "
                     f"seq={st['seq']} ack={st['ack']} len={st['len']}: "
                     f"kernel {verdict} "
                     + (f"{got['state']} {got['timeout']}s "
                        f"{sorted(got['flags'])} id={got['id']}" if got
                        else f"{len(conns)} conns")
                     + f"; script {st['want']} {st['state']} {st['tmo']}")

        def diff(what):
            diffs.append((i, what))

        if verdict != st["want"]:
            diff(f"verdict {verdict}, script {st['want']}")
        if len(conns) > 1:
            diff(f"{len(conns)} conns")
        if st["state"] is None:
            if got:
                diff(f"conn in {got['state']}, script: none")
            conn, seen_reply = None, False
            continue
        if not got:
            diff(f"no conn, script: {st['state']}")
            conn = None
            continue
        new = conn is None or not same_conn(conn, got)
        if conn is not None and new != st["new_id"]:
            diff(f"id {got['id']} after {conn['id']}, script "
                 f"{'a new' if st['new_id'] else 'the same'} conn")
        if new:
            seen_reply = False
        if verdict in ("est|rpl", "rel|rpl"):
            seen_reply = True
        if got["state"] != st["state"]:
            diff(f"state {got['state']}, script {st['state']}")
        if unchecked(st):
            diff(f"the script leaves {unchecked(st)}")
        if st["assured"] != "any" and \
                ("ASSURED" in got["flags"]) != (st["assured"] == "yes"):
            diff(f"flags {sorted(got['flags'])}, script assured "
                 f"{st['assured']}")
        if ("UNREPLIED" in got["flags"]) == seen_reply:
            diff(f"flags {sorted(got['flags'])} after "
                 f"{'a' if seen_reply else 'no'} reply")
        expiry = got["read"] + got["timeout"]
        want = None
        if isinstance(st["tmo"], int):
            want = sent + st["tmo"]
        elif st["tmo"] == "keep" and conn is not None and not new:
            want = conn["read"] + conn["timeout"]
        if want is not None and abs(expiry - want) > TOLERANCE:
            diff(f"timeout {got['timeout']} s, script "
                 f"{round(want - got['read'])} s ({st['tmo']})")
        conn = got
    return diffs, trace


def marked_scripts():
    if not os.access(unit_binary(), os.X_OK):
        return []
    return [s for s in load_scripts() if s["kernel"]]


pytestmark = pytest.mark.skipif(kernel_ready() is not None,
                                reason=str(kernel_ready()))


def unchecked(step):
    """What 'step' leaves unchecked without saying why, or None."""
    if step["assured"] not in ("yes", "no", "any"):
        return f"assured {step['assured']!r}"
    if "any" in (step["assured"], step["tmo"]) and not step.get("why_any"):
        return "an 'any' without why_any"
    return None


def test_scripts_exported():
    assert os.access(unit_binary(), os.X_OK), f"{unit_binary()} not built"
    scripts = load_scripts()
    assert len(scripts) > 100
    for s in scripts:
        assert s["kernel"] or s["why_not"], s["name"]


def test_every_step_states_assured_and_timeout():
    """No step leaves ASSURED or the timeout to chance: each states both,
    or says why not."""
    bad = [f"{s['name']} step {i}: {unchecked(st)}"
           for s in load_scripts() for i, st in enumerate(s["steps"])
           if unchecked(st)]
    assert not bad, "\n".join(bad)


def test_unchecked_needs_a_reason():
    step = {"assured": "any", "tmo": 10}
    assert unchecked(step)
    assert not unchecked(dict(step, why_any="no conn after the packet"))
    assert unchecked({"assured": "unset", "tmo": 10})
    assert unchecked({"assured": "no", "tmo": "any"})
    assert not unchecked({"assured": "no", "tmo": "keep"})


@pytest.mark.parametrize("script", marked_scripts(),
                         ids=lambda s: s["name"])
def test_kernel_agrees(router, script):
    step = needs_time(script)
    assert step is None, (f"marked kernel, but the conn expires before "
                          f"packet {step}")
    diffs, trace = replay(router, script)
    assert not diffs, "\n".join([f"{script['name']}:"] + trace + [
        f"  packet {i}: {what}" for i, what in diffs])


def main(argv):
    everything = "--all" in argv
    names = [a for a in argv if not a.startswith("--")]
    scripts = [s for s in load_scripts()
               if (everything or s["kernel"])
               and (not names or any(n in s["name"] for n in names))]
    n_bad = 0
    with KernelRouter() as r:
        for s in scripts:
            diffs, trace = replay(r, s)
            mark = "kernel" if s["kernel"] else f"unmarked: {s['why_not']}"
            if diffs:
                n_bad += 1
                print(f"DIFFERS {s['name']} ({mark})")
                print("\n".join(trace))
                for i, what in diffs:
                    print(f"  packet {i}: {what}")
            else:
                print(f"agrees  {s['name']} ({mark})")
    print(f"{len(scripts) - n_bad} of {len(scripts)} scripts agree")
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
