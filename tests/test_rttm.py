"""RTTM / UEM parsing and writing: the fixture, strict errors with line numbers, round trips."""

from __future__ import annotations

import pytest
from _data import AMI_DEBUG
from hypothesis import given, settings
from hypothesis import strategies as st

from vfreport.data.rttm import Segment, check_segments, format_rttm, format_uem, parse_rttm, parse_uem
from vfreport.errors import AnnotationError

FIXTURE = AMI_DEBUG


def test_parse_fixture():
    segs = parse_rttm((FIXTURE / "debug.development.rttm").read_text(), "debug.development.rttm")
    assert list(segs) == ["dev00", "dev01"]
    assert len(segs["dev00"]) == 9 and len(segs["dev01"]) == 8
    first = segs["dev00"][0]
    assert first == Segment("dev00", 1.44, 11.872, "MEE009")
    assert first.end == pytest.approx(13.312)
    assert {s.speaker for s in segs["dev01"]} == {"MEE009", "MEE012"}
    uem = parse_uem((FIXTURE / "debug.development.uem").read_text(), "debug.development.uem")
    assert uem == {"dev00": [(0.0, 30.0)], "dev01": [(0.0, 30.0)]}


def test_comments_blank_lines_and_non_ascii():
    text = (
        "\ufeff# a comment\n"
        "\n"
        "SPEAKER réunion_1 1 0.5 1.25 <NA> <NA> José <NA> <NA>\n"
        ";; another comment\n"
        "SPEAKER réunion_1 1 2.0 0.5 <NA> <NA> 话者 <NA> <NA>\n"
    )
    segs = parse_rttm(text, "x.rttm")
    assert segs == {
        "réunion_1": [Segment("réunion_1", 0.5, 1.25, "José"), Segment("réunion_1", 2.0, 0.5, "话者")]
    }
    assert parse_rttm(format_rttm(segs["réunion_1"]), "y.rttm") == segs


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("SPEAKER a 1 0.5 1.0 <NA> <NA> spk <NA>", "expected 10 fields"),
        ("SPEAKER a 1 0.5 1.0 <NA> <NA> spk <NA> <NA> extra", "expected 10 fields"),
        ("SPEAKER a 1 zero 1.0 <NA> <NA> spk <NA> <NA>", "onset 'zero' is not a number"),
        ("SPEAKER a 1 0.5 abc <NA> <NA> spk <NA> <NA>", "duration 'abc' is not a number"),
        ("SPEAKER a 1 -0.5 1.0 <NA> <NA> spk <NA> <NA>", "negative onset"),
        ("SPEAKER a 1 0.5 0 <NA> <NA> spk <NA> <NA>", "duration must be > 0"),
        ("SPEAKER a 1 0.5 -1 <NA> <NA> spk <NA> <NA>", "duration must be > 0"),
        ("SPEAKER a 1 0.5 nan <NA> <NA> spk <NA> <NA>", "not a finite number"),
        ("LEXEME a 1 0.5 1.0 <NA> <NA> spk <NA> <NA>", "expected record type 'SPEAKER'"),
    ],
)
def test_rttm_errors_name_file_and_line(line, problem):
    good = "SPEAKER a 1 0.0 1.0 <NA> <NA> spk <NA> <NA>\n"
    text = good + "# comment\n" + line + "\n"
    with pytest.raises(AnnotationError) as err:
        parse_rttm(text, "meeting.rttm")
    assert "meeting.rttm:3:" in str(err.value)
    assert problem in str(err.value)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("a NA 0.0", "expected 4 fields"),
        ("a NA x 2.0", "start 'x' is not a number"),
        ("a NA 3.0 2.0", "must be after start"),
        ("a NA -1 2.0", "negative start"),
        ("a NA 5.0 12.0", "overlaps"),
    ],
)
def test_uem_errors_name_file_and_line(line, problem):
    text = "a NA 0.0 10.0\n" + line + "\n"
    with pytest.raises(AnnotationError) as err:
        parse_uem(text, "meeting.uem")
    assert "meeting.uem:2:" in str(err.value)
    assert problem in str(err.value)


def test_uem_sorted_regions_and_round_trip():
    uem = parse_uem("a NA 20 30\na NA 0 10\nb NA 1.5 2.5\n", "u.uem")
    assert uem == {"a": [(0.0, 10.0), (20.0, 30.0)], "b": [(1.5, 2.5)]}
    assert parse_uem(format_uem(uem), "v.uem") == uem


def test_format_rttm_rejects_unwritable_segments():
    with pytest.raises(AnnotationError, match="whitespace"):
        format_rttm([Segment("a", 0.0, 1.0, "two words")])
    with pytest.raises(AnnotationError, match="non-positive duration"):
        format_rttm([Segment("a", 0.0, 0.0001, "spk")])


def test_check_segments():
    segs = {"a": [Segment("a", 0.0, 5.0, "x")], "b": [Segment("b", 1.0, 1.0, "y")]}
    check_segments(segs, {"a": 5.0, "b": 10.0}, "s.rttm")
    with pytest.raises(AnnotationError, match=r"s\.rttm: unknown recording 'b'"):
        check_segments(segs, {"a": 5.0}, "s.rttm")
    with pytest.raises(AnnotationError, match=r"ends at 5\.000 s, after the end of the audio \(4\.000 s\)"):
        check_segments(segs, {"a": 4.0, "b": 10.0}, "s.rttm")


label = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=8
).filter(lambda s: not any(c.isspace() for c in s) and not s.startswith(("#", ";;")))


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(label, st.integers(0, 10_000_000), st.integers(1, 1_000_000), label),
        min_size=0,
        max_size=12,
    )
)
def test_rttm_round_trip_property(rows):
    segs = [Segment(uri, start / 1000, dur / 1000, spk) for uri, start, dur, spk in rows]
    parsed = parse_rttm(format_rttm(segs), "prop.rttm")
    expected: dict[str, list[Segment]] = {}
    for s in segs:
        expected.setdefault(s.uri, []).append(s)
    assert list(parsed) == list(expected)
    for uri, got in parsed.items():
        want = expected[uri]
        assert [g.speaker for g in got] == [w.speaker for w in want]
        assert [g.start for g in got] == pytest.approx([w.start for w in want], abs=5e-4)
        assert [g.duration for g in got] == pytest.approx([w.duration for w in want], abs=5e-4)
