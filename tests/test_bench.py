"""The tracker benchmark (utilities/ctdp-bench), in what needs no timing:
that its runs are independent, that it reports every row, and that both
trackers take its packets as it means them."""
import os
import re
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
    for row in ("new-conns UDP", "new-conns TCP",
                "new-conns UDP, warm", "new-conns TCP, warm"):
        # One and two threads.
        assert len(report_rows(out.stdout, row)) == 2, row
    check_cpu_per_conn(out.stdout)
    # The latency target's controls: batches of arithmetic alone, and of
    # a batch of new conns' memory writes with no tracker, as long as
    # ctdp's, timed the same way, beside the target's own figures.
    for control in ("arithmetic alone", "memory writes"):
        for pct in ("p50", "p99", "p99.99", "max"):
            row = f"{control}, batch latency {pct}"
            assert len(report_rows(out.stdout, row)) == 1, row
    assert "the machine alone, batches of arithmetic" in out.stdout
    assert "memory writes and no tracker" in out.stdout
    check_conn_calls(out.stdout)


def report_rows(stdout, workload):
    """The cells of the report's rows of 'workload', in their order: the
    workload, threads, size, unit, ctdp's median, Open vSwitch's..."""
    rows = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] == workload:
            rows.append(cells)
    return rows


def row_medians(stdout, workload, threads):
    """ctdp's and Open vSwitch's medians in the report's row of 'workload'
    on 'threads' threads."""
    for cells in report_rows(stdout, workload):
        if cells[1] == str(threads):
            return [float(cells[i].split()[0]) for i in (4, 5)]
    raise AssertionError(f"no row {workload!r} on {threads} thread(s)")


def check_cpu_per_conn(stdout):
    """The fresh trackers' runs report the process's CPU time per conn,
    and it agrees with their rate: times the rate, it is the CPUs the run
    kept busy, at least the one thread's own share of one and no more
    than the machine has; the targets on new conns carry the ceiling it
    sets."""
    n_cpus = os.cpu_count()
    for proto in ("UDP", "TCP"):
        for threads in (1, 2):
            rates = row_medians(stdout, f"new-conns {proto}", threads)
            cpus = row_medians(stdout, f"new-conns {proto}, CPU per conn",
                               threads)
            for rate, ns in zip(rates, cpus):
                busy = rate * ns / 1e3
                assert 0.5 <= busy <= n_cpus * 1.05, (proto, threads, busy)
    assert "allows at most UDP" in stdout
    assert "leaves any number of threads at most UDP" in stdout


def check_conn_calls(stdout):
    """The calls of a new conn (TCP: the SYN, the SYN-ACK, the ACK), timed
    in the same runs as its batches: per conn, their sum is a batch's mean
    time over 32, which lies between half the p50 batch and the slowest;
    the target on new conns carries the budget they leave at 4x, Open
    vSwitch's sum over 4, in cycles of the clock measured, and ctdp's
    sum."""
    m = re.search(r"cycles at the CPU's ([\d.]+) GHz", stdout)
    assert m, "no clock in the targets"
    ghz = float(m[1])
    assert 0.5 <= ghz <= 6, ghz
    for proto, calls, what in (("UDP", ("commit",), "a UDP conn"),
                               ("TCP", ("SYN", "SYN-ACK", "ACK"),
                                "a TCP handshake")):
        sums = [0.0, 0.0]
        for call in calls:
            row = f"new-conns {proto}, the {call}'s call, per conn"
            for i, ns in enumerate(row_medians(stdout, row, 1)):
                assert ns > 0, row
                sums[i] += ns
        for i in (0, 1):
            p50, top = (row_medians(
                stdout, f"new-conns {proto} batch latency {pct}", 1)[i]
                for pct in ("p50", "max"))
            assert p50 / 2 <= sums[i] * 32 / 1e3 <= top, (proto, i, sums)
        m = re.search(what + r" may spend (\d+) ns \((\d+) cycles\) and "
                      r"ctdp's took (\d+)", stdout)
        assert m, f"no budget of {what} in the targets"
        budget, cycles, took = (float(x) for x in m.groups())
        assert abs(budget - sums[1] / 4) <= 1, (m[0], sums)
        assert abs(took - sums[0]) <= 2, (m[0], sums)
        # Each figure printed rounded: the ns to 0.5, the GHz to 0.005.
        assert abs(cycles - budget * ghz) <= 0.5 * ghz + 0.005 * budget + 1, \
            (m[0], ghz)


BEGIN = "<!-- ctdp-bench results: begin -->"
END = "<!-- ctdp-bench results: end -->"


def run_markdown(path):
    return subprocess.run(
        [program("ctdp-bench"), "--quick", "--only=single-flow", "--runs=1",
         f"--markdown={path}"], capture_output=True, text=True, timeout=60)


def test_markdown_replaces_only_its_block(tmp_path):
    """With one pair of markers, the block between them is replaced and
    the prose around it kept."""
    path = tmp_path / "bench.md"
    path.write_text(f"before\n{BEGIN}\nold results\n{END}\nafter\n")
    out = run_markdown(path)
    assert out.returncode == 0, out.stderr
    text = path.read_text()
    assert text.startswith(f"before\n{BEGIN}\n")
    assert text.endswith(f"{END}\nafter\n")
    assert "old results" not in text and "| single-flow |" in text


def test_markdown_refuses_a_file_with_bad_markers(tmp_path):
    """A file whose markers are not one pair in order (two blocks, a lost
    end marker, an end before its begin) is refused before any run, in one
    line, and left as it was: with only a begin marker the whole file used
    to be overwritten by the block, and with two blocks the first one was
    rewritten, whichever held the results."""
    for text in (f"a\n{BEGIN}\nx\n{END}\nb\n{BEGIN}\ny\n{END}\nc\n",
                 f"prose\n{BEGIN}\nresults, end marker lost\n",
                 f"prose\n{END}\n{BEGIN}\n"):
        path = tmp_path / "bench.md"
        path.write_text(text)
        out = run_markdown(path)
        assert out.returncode != 0
        assert out.stdout == ""                 # No run was made.
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert str(path) in out.stderr and "marker" in out.stderr
        assert path.read_text() == text


def test_lookups_report_the_benchmark_alone_and_the_minimal_tracker():
    """The lookups come with ctdp's with nf_conntrack_acct=0 at every size
    and thread count, beside Open vSwitch's; with the benchmark's own time
    (the same packets with no tracker), on one and two threads, and with
    the minimal tracker's, a control, in each layout of its table on one
    thread; every packet +est (a conn the control's table lost, or a
    header it misread, would come back +new or +inv and count as a
    miss)."""
    out = subprocess.run(
        [program("ctdp-bench"), "--quick", "--only=lookup", "--runs=1"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "drops or misses" not in out.stderr, out.stderr
    rows = report_rows(out.stdout, "lookup, nf_conntrack_acct=0")
    assert [r[1:3] for r in rows] == [["1", "1k"], ["2", "1k"],
                                      ["1", "100k"], ["2", "100k"]], rows
    assert all(float(r[4]) > 0 and float(r[5]) > 0 for r in rows), rows
    assert all("[" not in c for r in rows for c in r), rows
    rows = report_rows(out.stdout, "lookup, benchmark alone")
    assert [r[1] for r in rows] == ["1", "2"], rows
    assert all("Mpps" in r[3] for r in rows), rows
    assert all("[" not in c for r in rows for c in r), rows
    for layout in ("buckets", "slots"):
        rows = report_rows(out.stdout, f"lookup, minimal tracker: {layout}")
        assert len(rows) == 1, (layout, out.stdout)
        cells = rows[0]
        assert cells[1:4] == ["1", "100k", "Mpps ↑"], cells
        assert float(cells[4]) > 0, cells
        assert all("[" not in c for c in cells), cells
