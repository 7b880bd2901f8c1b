"""The man pages utilities/ctdpd.8 and utilities/ctdp-dpctl.8.

They render without warnings, they cannot fall behind the programs (every
command of `ctdp-dpctl --help`, with its option-like arguments, and every
long option of `ctdpd --help` must be in them), and `make install` installs
them into $(mandir)/man8.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import TOP, build_dir, program, run
from dp_helpers import dpctl_commands

PAGES = {
    "ctdpd": TOP / "utilities" / "ctdpd.8",
    "ctdp-dpctl": TOP / "utilities" / "ctdp-dpctl.8",
}


def render(page):
    """The page as man shows it, as plain text (no bold, no hyphenation
    artefacts), with runs of whitespace squeezed to one space."""
    env = dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING="")
    proc = run(["groff", "-man", "-Tutf8", "-P-cbou", "-rHY=0",
                "-rLL=200n", str(page)], env=env)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.replace("\u2010", "-").replace("\u2212", "-")
    return re.sub(r"\s+", " ", text)


def source(page):
    """The page's source with the escapes for '-' undone and fonts
    dropped, for looking up names as they are written."""
    text = page.read_text()
    text = text.replace("\\-", "-")
    return re.sub(r"\\f[BIRP]|\\f\(..|\\&", "", text)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_renders_without_warnings(name):
    page = PAGES[name]
    assert shutil.which("groff"), "groff is missing (apt-get install groff-base)"
    proc = run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    if shutil.which("man"):
        env = dict(os.environ, MANWIDTH="80")
        proc = run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8",
                    str(page)], env=env)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.parametrize("name", sorted(PAGES))
def test_required_sections(name):
    text = PAGES[name].read_text()
    sections = {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS",
                "FILES", "ENVIRONMENT", "SEE ALSO"}
    if name == "ctdp-dpctl":
        sections.add("COMMANDS")
    else:
        sections.add("LIMITATIONS")
    present = set(re.findall(r'^\.SH "?([^"\n]+)"?$', text, re.M))
    assert sections <= present, sections - present
    for ref in ("ovs-appctl", "ovs-fields", "ovs-actions", "conntrack"):
        assert re.search(rf"^\.BR {re.escape(ref)}".replace("-", r"\\-"),
                         text, re.M), ref
    assert "/run/ctdp/ctdpd.ctl" in text and "CTDP_RUNDIR" in text


def test_every_dpctl_command_documented():
    src = source(PAGES["ctdp-dpctl"])
    text = render(PAGES["ctdp-dpctl"])
    # One entry (a .TP heading, or .TQ for an alias) per command.
    headings = set(re.findall(r"^\.T[PQ]\n(\S+)", src, re.M))
    missing = []
    for name, usage in dpctl_commands():
        if name not in headings:
            missing.append(name)
        # Option-like arguments (-m, -s, --format=...) must be there too.
        for word in usage:
            for opt in re.findall(r"-{1,2}[a-z][\w=|-]*", word):
                if opt not in text:
                    missing.append(f"{name} {opt}")
    assert not missing, f"not in ctdp-dpctl.8: {missing}"


def test_every_dpctl_option_documented():
    proc = run([program("ctdp-dpctl"), "--help"])
    text = render(PAGES["ctdp-dpctl"])
    options = set(re.findall(r"--[a-z][a-z-]*", proc.stdout.split(
        "\nOptions:\n", 1)[1]))
    assert options, proc.stdout
    assert not [o for o in options if o not in text]


def test_every_ctdpd_option_documented():
    proc = run([program("ctdpd"), "--help"])
    assert proc.returncode == 0, proc.stderr
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", proc.stdout))
    assert {"--port", "--flows", "--replay", "--unixctl",
            "--detach"} <= options, options
    text = render(PAGES["ctdpd"])
    missing = sorted(o for o in options if o not in text)
    assert not missing, f"not in ctdpd.8: {missing}"


def test_make_install_installs_pages(tmp_path):
    if not (build_dir() / "Makefile").exists():
        pytest.skip(f"no Makefile in {build_dir()}")
    destdir = tmp_path / "dest"
    proc = subprocess.run(["make", "-C", str(build_dir()), "install",
                           f"DESTDIR={destdir}"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    found = {p.name: p for p in destdir.rglob("*.8")}
    for name, page in PAGES.items():
        installed = found.get(f"{name}.8")
        assert installed, f"{name}.8 not installed: {sorted(found)}"
        assert installed.parent.name == "man8", installed
        assert installed.read_bytes() == page.read_bytes()


def c_flows(code, start, end):
    """The flows of the C string literals between 'start' and 'end' in
    lib/ctdp-dp.c ('end' may cut the last one before its closing quote),
    comments dropped."""
    literal = code.split(start)[1].split(end)[0] + '"'
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', literal))
    text = text.replace("\\n", "\n")
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def test_default_flows_match_the_code():
    """The DEFAULT FLOWS section of ctdpd.8 lists exactly the flows of the
    firewall that lib/ctdp-dp.c loads, in the same order; the masquerading
    firewall's are the same but for the three IPv4 ct() actions, which the
    section shows after them (the FTP helper's flow and the flow for new
    conns from inside)."""
    code = (TOP / "lib" / "ctdp-dp.c").read_text()
    flows = c_flows(code, "ctdp_dp_firewall_flows[] =", "\";\n")
    page = (TOP / "utilities" / "ctdpd.8").read_text()
    section = page.split(".SH DEFAULT FLOWS")[1].split("\n.SH ")[0]
    blocks = re.findall(r"^\.nf\n(.*?)^\.fi", section, re.M | re.S)
    # A minus is written \- (so that it renders as one, not a hyphen).
    listed = [[l.replace("\\-", "-") for l in b.splitlines()
               if l.startswith("table=")]
              for b in blocks]
    assert listed[0] == flows

    masq = c_flows(code, "ctdp_dp_masquerade_flows(const char *range)",
                   "range, range);")
    changed = {
        "table=0,priority=10,ip,actions=ct(table=1)":
            "table=0,priority=10,ip,actions=ct(table=1,nat)",
        "table=1,priority=60,ct_state=+trk+new-rel,tcp,in_port=1,tp_dst=21,"
        "actions=ct(commit,alg=ftp),output:2":
            "table=1,priority=60,ct_state=+trk+new-rel,tcp,in_port=1,"
            "tp_dst=21,actions=ct(commit,alg=ftp,nat(src=%s)),output:2",
        "table=1,priority=50,ct_state=+trk+new,ip,in_port=1,"
        "actions=ct(commit),output:2":
            "table=1,priority=50,ct_state=+trk+new,ip,in_port=1,"
            "actions=ct(commit,nat(src=%s)),output:2",
    }
    assert masq == [changed.get(f, f) for f in flows]
    assert listed[1] == [f.replace("%s", "\\fIRANGE\\fP")
                         for f in changed.values()]


def test_readme_lists_every_command_with_an_example():
    """README.md's command reference has a row for every command of
    `ctdp-dpctl --help`, with an example that runs it."""
    readme = (TOP / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| `([^`]+)` \|", readme, re.M))
    missing = [name for name, _ in dpctl_commands()
               if not re.search(rf"(ctdp-dpctl |dpctl/){name}\b",
                                rows.get(name, ""))]
    assert not missing, f"not in README.md's command table: {missing}"
