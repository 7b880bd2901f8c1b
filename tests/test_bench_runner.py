"""The side-by-side benchmark's runner (utilities/ctdp-bench-netdev.py), in
what needs neither Open vSwitch nor timing: how it starts and stops
ctdpd, and where it writes its results."""
import importlib.util
import shutil
import struct

import pytest

from conftest import TOP, pid_alive, program


def load_runner():
    spec = importlib.util.spec_from_file_location(
        "bench_netdev", TOP / "utilities" / "ctdp-bench-netdev.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    return runner


def test_ctdpd_by_another_name_is_stopped(tmp_path):
    """A ctdpd copied under another name, as when two builds are compared,
    writes its pidfile where the runner reads it, and the runner stops it
    (it named no pidfile, so such a ctdpd wrote one after its own name,
    the runner failed to read it and left the daemon running)."""
    runner = load_runner()
    ctdpd = tmp_path / "ctdpd-other"
    shutil.copy(program("ctdpd"), ctdpd)
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0,
                                  65535, 1))
    flows = tmp_path / "flows.txt"
    flows.write_text(runner.FLOWS)
    d = runner.Ctdp(str(ctdpd), str(tmp_path))
    try:
        d.start([f"sink=pcap:rx={empty}"], str(flows), cpus="0")
        pid = d.pid
        assert pid_alive(pid)
    finally:
        d.stop()
    assert not pid_alive(pid)


def test_markdown_with_two_result_blocks_is_refused(tmp_path):
    """A file with two results blocks is refused, unchanged, with one
    error (the runner used to rewrite the first, and docs/BENCHMARKS.md
    carried a stale copy of the results under the other tracker's
    section); a file with one block has it replaced."""
    runner = load_runner()
    block = f"{runner.BEGIN_MARK}\nold\n{runner.END_MARK}\n"
    doc = tmp_path / "doc.md"
    doc.write_text(f"# a\n{block}# b\n{block}")
    before = doc.read_text()
    with pytest.raises(runner.BenchError, match="2 begin and 2 end"):
        runner.write_markdown(str(doc), "new\n")
    assert doc.read_text() == before
    doc.write_text(f"# a\n{block}# b\n")
    runner.write_markdown(str(doc), f"{runner.BEGIN_MARK}\nnew\n"
                                    f"{runner.END_MARK}\n")
    assert doc.read_text() == (f"# a\n{runner.BEGIN_MARK}\nnew\n"
                               f"{runner.END_MARK}\n# b\n")
