"""bot.core.versions.semver against the Masterminds and Flux vectors, plus order properties."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.versions.semver import Version, VersionError, parse_version
from tests.core.semver_tables import load, row_id

PARSERS: dict[str, dict[str, Any]] = {
    "strict": {"loose": False, "allow_v": False},
    "loose(CoerceNewVersion=true, default)": {"loose": True},
    "loose(CoerceNewVersion=false)": {"loose": True, "coerce": False},
    "flux version.ParseVersion (StrictNewVersion after trimming one leading v)": {},
}
VERSION_ROWS = load("masterminds-versions.tsv")
COMPARE_ROWS = load("masterminds-compare.tsv")


@pytest.mark.parametrize(
    "row",
    VERSION_ROWS,
    ids=[row_id(i, r["parser"].split(" ")[0], r["version"]) for i, r in enumerate(VERSION_ROWS)],
)
def test_version_parsing_matches_upstream(row: dict[str, str]) -> None:
    options = PARSERS[row["parser"]]
    if row["valid"] == "false":
        with pytest.raises(VersionError):
            parse_version(row["version"], **options)
        return
    version = parse_version(row["version"], **options)
    if row["normalized"]:
        assert str(version) == row["normalized"]


@pytest.mark.parametrize(
    "row",
    COMPARE_ROWS,
    ids=[row_id(i, r["v1"], r["op"], r["v2"]) for i, r in enumerate(COMPARE_ROWS)],
)
def test_comparison_matches_upstream(row: dict[str, str]) -> None:
    a = parse_version(row["v1"], loose=True)
    b = parse_version(row["v2"], loose=True)
    results = {
        "compare": str(a.compare(b)),
        "lt": str(a < b).lower(),
        "lte": str(a <= b).lower(),
        "gt": str(a > b).lower(),
        "gte": str(a >= b).lower(),
    }
    assert results[row["op"]] == row["expected"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", Version(1, 2, 3)),
        ("v1.2.3-rc.1+b.5", Version(1, 2, 3, ("rc", "1"), ("b", "5"))),
        ("18446744073709551615.0.0", Version(2**64 - 1, 0, 0)),
    ],
)
def test_strict_parse_accepts_one_leading_v(text: str, expected: Version) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "vv1.2.3", "18446744073709551616.0.0", "1.2.3\n", " 1.2.3", "１.2.3", "1.2.3-", "1.2.3+"],
)
def test_strict_parse_rejects(text: str) -> None:
    with pytest.raises(VersionError, match="version="):
        parse_version(text)


def test_build_metadata_counts_for_equality_but_not_precedence() -> None:
    a, b = parse_version("1.2.3+a"), parse_version("1.2.3+b")
    assert a != b
    assert a.compare(b) == 0
    assert a <= b
    assert b <= a


def test_semver_org_precedence_example() -> None:
    chain = "1.0.0-alpha 1.0.0-alpha.1 1.0.0-alpha.beta 1.0.0-beta 1.0.0-beta.2 1.0.0-beta.11"
    versions = [parse_version(t) for t in (chain + " 1.0.0-rc.1 1.0.0").split()]
    assert all(a < b for a, b in pairwise(versions))


identifiers = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.text("abcXYZ-", min_size=1, max_size=4),
    st.from_regex(r"[0-9][a-z][0-9a-z]{0,2}", fullmatch=True),
)
versions = st.builds(
    Version,
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 4),
    st.lists(identifiers, max_size=3).map(tuple),
    st.lists(st.text("abc12", min_size=1, max_size=3), max_size=2).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(versions)
def test_parse_of_str_round_trips(version: Version) -> None:
    assert parse_version(str(version)) == version
    assert parse_version(str(version), loose=True) == version


@settings(max_examples=300, deadline=None)
@given(versions, versions, versions)
def test_order_is_total_and_consistent(a: Version, b: Version, c: Version) -> None:
    assert (a < b) + (a.compare(b) == 0) + (a > b) == 1
    assert a.compare(b) == -b.compare(a)
    if a <= b and b <= a:
        assert a.compare(b) == 0
        assert (a.core, a.prerelease) == (b.core, b.prerelease)
    if a <= b and b <= c:
        assert a <= c
    if a.is_prerelease and a.core == b.core and not b.is_prerelease:
        assert a < b
