"""The tracker benchmark (utilities/ctdp-bench), in what needs no timing:
that its runs are independent, that it reports every row, and that both
trackers take its packets as it means them."""
import subprocess

from conftest import program


def test_new_conns_runs_start_cold():
    """Every new-conns run starts from memory that is not backed yet, so
    that no tracker's run reuses pages an earlier run left resident (the
    heap kept the malloc'd conns of Open vSwitch's runs, and its later
    runs were measured three times faster than its first); the bench
    checks it after every run and fails if a run left its conns behind.
    The warm runs, on trackers that held the conns before, are reported
    as rows of their own."""
    out = subprocess.run(
        [program("ctdp-bench"), "--quick", "--only=new-conns", "--runs=1"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "left" not in out.stderr
    # The TCP checksums are summed from a part computed ahead: wrong ones
    # would come back invalid, not +est.
    assert "drops or misses" not in out.stderr, out.stderr
    for row in ("new-conns UDP |", "new-conns TCP |",
                "new-conns UDP, warm |", "new-conns TCP, warm |"):
        lines = [l for l in out.stdout.splitlines() if l.startswith("| " + row)]
        assert len(lines) == 2, row     # One and two threads.
