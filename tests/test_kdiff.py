"""The kdiff corpus under pytest: one test per sequence of
tests/kdiff_corpus.py, each run through the kernel and through ctdp
(tests/kdiff.py); a test fails on any unexplained difference, and prints
the side-by-side verdicts and the tables."""

import pytest

from kdiff import Diff, compare_counts, compare_tables, judge, run_sequence
from kdiff_corpus import CORPUS, Explained, Sequence, udp
from kernel_ct import kernel_ready


needs_kernel = pytest.mark.skipif(kernel_ready() is not None,
                                  reason=str(kernel_ready()))


@needs_kernel
@pytest.mark.parametrize("seq", CORPUS, ids=lambda s: s.name)
def test_sequence(router, seq, tmp_path):
    lines = []
    bad = run_sequence(seq, router, tmp_path / "ctdp", lines.append)
    assert not bad, "\n".join(lines)


def test_corpus_covers_the_issue():
    """At least 25 sequences, unique names, a docstring each, and every
    area of the issue: TCP, UDP, ICMP, ICMPv6, zones, marks, fragments."""
    names = [s.name for s in CORPUS]
    assert len(names) >= 25
    assert len(set(names)) == len(names)
    assert all(s.doc for s in CORPUS)
    for prefix in ("tcp_", "udp_", "icmp_", "icmpv6_", "zone_", "mark_",
                   "frag_"):
        assert any(n.startswith(prefix) for n in names), prefix
    for s in CORPUS:
        for key, exp in s.explained.items():
            assert isinstance(exp, Explained) and exp.why, (s.name, key)


def test_corpus_covers_the_tcp_rules_mutants_broke():
    """The TCP rules the mutation check (tests/mutants/) broke unseen
    before have sequences of their own: a RST ending a train of data, and
    a FIN in SYN_RECV (never ASSURED)."""
    names = {s.name for s in CORPUS}
    assert {"tcp_rst_after_data", "tcp_fin_before_established"} <= names


def test_small_fragments_compare_their_table():
    """The small-fragment sequence lowers ctdp's minimum fragment size, so
    that both sides make the conn and its table is compared, with no
    table difference explained away."""
    seq = next(s for s in CORPUS if s.name == "frag_small_v4")
    assert ("ipf-set-min-frag", "v4", "400") in seq.ctdp_setup
    assert not [k for k in seq.explained if k.startswith("table")]


def conn(**kw):
    c = {"l3": "ipv4", "proto": "udp", "timeout": 30, "state": None,
         "orig": {"src": "10.0.0.1", "dst": "10.0.0.2", "sport": "1",
                  "dport": "2"},
         "reply": {"src": "10.0.0.2", "dst": "10.0.0.1", "sport": "2",
                   "dport": "1"},
         "flags": set(), "mark": 0, "zone": 0, "read": 100.0}
    c.update(kw)
    return c


@pytest.mark.parametrize("change,key", [
    ({"state": "ESTABLISHED"}, "table state"),
    ({"flags": {"ASSURED"}}, "table flags"),
    ({"mark": 3}, "table mark"),
    ({"timeout": 33}, "table timeout"),
    ({"reply": {"src": "10.0.0.9", "dst": "10.0.0.1", "sport": "2",
                "dport": "1"}}, "table reply"),
])
def test_compare_tables_reports_each_field(change, key):
    assert [d.key for d in compare_tables([conn()], [conn(**change)])] \
        == [key]


def test_compare_tables_matches_by_tuple_and_zone():
    assert compare_tables([conn()], [conn()]) == []
    # A timeout within the tolerance, IPv6 spelled in full by ctdp.
    v6 = {"src": "2001:db8::1", "dst": "2001:db8::2", "sport": "1",
          "dport": "2"}
    full = {"src": "2001:0db8:0000:0000:0000:0000:0000:0001",
            "dst": "2001:0db8:0000:0000:0000:0000:0000:0002", "sport": "1",
            "dport": "2"}
    assert compare_tables([conn(orig=v6, timeout=30)],
                          [conn(orig=full, timeout=29)]) == []
    keys = sorted(d.key for d in compare_tables([conn()], [conn(zone=5)]))
    assert keys == ["table only-ctdp", "table only-kernel"]


def test_compare_tables_counts_conns():
    """A conn listed twice on one side shows as a count difference, though
    its tuple matches."""
    diffs = compare_tables([conn()], [conn(), conn()])
    assert [(d.key, d.kernel, d.ctdp) for d in diffs] == [
        ("table count", 1, 2)]
    assert compare_counts(3, 3) == []
    assert [(d.key, d.kernel, d.ctdp) for d in compare_counts(1, 2)] == [
        ("count", 1, 2)]


def test_explained_by_value():
    """An explanation explains a difference only with the same values
    (timeouts within the tolerance); with other values, or with nothing
    to explain, it counts as unexplained."""
    seq = Sequence("s", "doc", [], explained={
        "packet 1 verdict": Explained("new", "new,new", "fragments"),
        "table timeout": Explained(3, 600, "no SCTP")})
    verdict = Diff("packet 1 verdict", "new", "new,new", "")
    timeout = Diff("table timeout", 2, 599, "")
    assert judge(seq, [verdict, timeout], lambda line: None) == []
    bad = judge(seq, [Diff("packet 1 verdict", "new", "inv", ""), timeout],
                lambda line: None)
    assert len(bad) == 1 and "explained as kernel 'new', ctdp 'new,new'" \
        in bad[0], bad
    assert len(judge(seq, [verdict, Diff("table timeout", 3, 30, "")],
                     lambda line: None)) == 1
    assert judge(seq, [verdict], lambda line: None) == [
        "s: [table timeout] explained but not seen"]
    assert sorted(judge(seq, [Diff("table state", "CLOSE", "ESTABLISHED",
                                   "x")], lambda line: None)) == [
        "s: [packet 1 verdict] explained but not seen",
        "s: [table state] x",
        "s: [table timeout] explained but not seen"]


@needs_kernel
def test_stale_explanation_counts(router, tmp_path):
    """An explanation for a difference that does not occur is itself an
    unexplained difference."""
    seq = Sequence("stale", "An explained difference that never shows.",
                   [udp("A")], explained={
                       "packet 0 verdict": Explained("new", "inv", "none")})
    bad = run_sequence(seq, router, tmp_path / "ctdp", lambda line: None)
    assert bad == ["stale: [packet 0 verdict] explained but not seen"]


@needs_kernel
def test_difference_is_reported(router, tmp_path):
    """A sequence whose two sides see different rules (ctdp marks, the
    kernel does not) shows the difference."""
    import kdiff
    seq = Sequence("marked", "Mark 5 on ctdp's side only.", [udp("A")])
    real = kdiff.ctdp_flows
    kdiff.ctdp_flows = lambda zone, mark: real(zone, 5)
    try:
        bad = run_sequence(seq, router, tmp_path / "ctdp", lambda line: None)
    finally:
        kdiff.ctdp_flows = real
    assert len(bad) == 1 and "[table mark]" in bad[0], bad
