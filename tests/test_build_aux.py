"""The build helpers of build-aux/ that need no Open vSwitch tree."""
import subprocess

from conftest import TOP


def test_built_sources_under_make(tmp_path):
    """build-aux/ovs-built-sources.sh prints only the tree's BUILT_SOURCES,
    also when it runs inside a make recipe that was given -C, as under
    `make -C _build/default bench-dp` (the list used to include make's
    "Entering directory" lines, the generated headers were never made,
    and the first build of Open vSwitch with DPDK failed)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Makefile").write_text("BUILT_SOURCES = a.h b/c.h\n")
    outer = tmp_path / "outer"
    outer.mkdir()
    helper = TOP / "build-aux" / "ovs-built-sources.sh"
    (outer / "Makefile").write_text(
        f"list:\n\tcd {tree} && {helper} > {tmp_path}/list.txt\n")
    subprocess.run(["make", "-j2", "-C", str(outer), "list"],
                   check=True, capture_output=True)
    assert (tmp_path / "list.txt").read_text() == "a.h b/c.h\n"
