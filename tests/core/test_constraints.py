"""bot.core.versions.constraints against every Masterminds constraint vector."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.core.versions.constraints import ConstraintError, parse_constraint
from bot.core.versions.semver import parse_version
from tests.core.semver_tables import load, load_json, row_id

CHECK_ROWS = load("masterminds.tsv")
MESSAGE_ROWS = load("masterminds-validate-messages.tsv")
PARSE_ROWS = load("masterminds-constraint-parse.tsv")
EXTRA = load_json("masterminds_constraints.json")


@pytest.mark.parametrize(
    "row",
    CHECK_ROWS,
    ids=[
        row_id(i, r["constraint"], r["version"], f"pre={r['include_prerelease']}")
        for i, r in enumerate(CHECK_ROWS)
    ],
)
def test_check_matches_upstream(row: dict[str, str]) -> None:
    text = row["constraint"]
    if row["source_test"] == "TestConstraintCheck" and text == "":
        # That test calls the single-term parser, which reads "" as *; NewConstraint rejects "".
        text = "*"
    constraint = parse_constraint(text)
    version = parse_version(row["version"], loose=True)
    include = row["include_prerelease"] == "true"
    assert constraint.check(version, include_prerelease=include) is (row["expected"] == "true")
    # Validate and Check agree, as upstream's tests assert for both.
    assert (not constraint.reasons(version, include_prerelease=include)) is (
        row["expected"] == "true"
    )


@pytest.mark.parametrize(
    "row",
    MESSAGE_ROWS,
    ids=[
        row_id(i, r["constraint"], r["version"], f"pre={r['include_prerelease']}")
        for i, r in enumerate(MESSAGE_ROWS)
    ],
)
def test_validate_messages_match_upstream(row: dict[str, str]) -> None:
    constraint = parse_constraint(row["constraint"])
    version = parse_version(row["version"], allow_v=False)
    include = row["include_prerelease"] == "true"
    expected = row["first_error_message"].split(" | ")
    reasons = constraint.reasons(version, include_prerelease=include)
    assert reasons[0] == expected[0]
    if len(expected) > 1:
        assert reasons == expected


@pytest.mark.parametrize(
    "row",
    PARSE_ROWS,
    ids=[row_id(i, r["constraint"], r["source_test"]) for i, r in enumerate(PARSE_ROWS)],
)
def test_parse_matches_upstream(row: dict[str, str]) -> None:
    if row["valid"] == "false":
        with pytest.raises(ConstraintError, match="constraint="):
            parse_constraint(row["constraint"])
        return
    constraint = parse_constraint(row["constraint"])
    if row["or_groups"]:
        assert len(constraint.groups) == int(row["or_groups"])
        assert len(constraint.groups[0].comparators) == int(row["and_count_first_group"])
    if row["source_test"] == "TestParseConstraint":
        assert str(constraint.groups[0].comparators[0].version) == row["normalized"]
    elif row["normalized"]:
        assert str(constraint) == row["normalized"]


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("1.0 - 2.0 || ^3", ">=1.0 <=2.0 || ^3"),
        ("=> 1.2, =< 1.4", "=>1.2 =<1.4"),
        ("~> 1.2", "~>1.2"),
    ],
)
def test_normalised_form(text: str, normalised: str) -> None:
    assert str(parse_constraint(text)) == normalised


@pytest.mark.parametrize(
    "text",
    ["", "   ", "1.2,", ",1.2", "1.2,,1.3", ">= 1.2 ||", "> = 1.2", "==1.2", "1|2", "1.2>=1", "x1"],
)
def test_improper_constraints_are_rejected(text: str) -> None:
    with pytest.raises(ConstraintError, match="parsing version constraint failed"):
        parse_constraint(text)


@pytest.mark.parametrize(
    "row",
    EXTRA["parse"],
    ids=[row_id(i, r["constraint"], r["source_test"]) for i, r in enumerate(EXTRA["parse"])],
)
def test_grammar_edge_cases(row: dict[str, Any]) -> None:
    if not row["valid"]:
        with pytest.raises(ConstraintError, match="parsing version constraint failed"):
            parse_constraint(row["constraint"])
        return
    constraint = parse_constraint(row["constraint"])
    assert len(constraint.groups) == row["groups"]
    assert len(constraint.groups[0].comparators) == row["terms"]
    assert str(constraint) == row["normalized"]


@pytest.mark.parametrize("row", EXTRA["rewrite"], ids=[r["constraint"] for r in EXTRA["rewrite"]])
def test_hyphen_ranges_read_as_upstream_rewrites_them(row: dict[str, str]) -> None:
    rewritten = parse_constraint(row["rewritten"])
    assert parse_constraint(row["constraint"]) == rewritten


@pytest.mark.parametrize("row", EXTRA["wildcard"], ids=[r["text"] for r in EXTRA["wildcard"]])
def test_wildcards_are_x_upper_x_and_star(row: dict[str, Any]) -> None:
    if not row["is_wildcard"]:
        with pytest.raises(ConstraintError):
            parse_constraint(row["text"])
        return
    for text in (row["text"], f"{row['text']}.{row['text']}.{row['text']}", f"1.{row['text']}"):
        constraint = parse_constraint(text)
        assert constraint.check("1.0.0")
        assert constraint.check("1.9.9")
    assert parse_constraint(row["text"]).check("0.0.0")
    assert not parse_constraint(f"1.{row['text']}").check("2.0.0")


@pytest.mark.parametrize(
    "row",
    EXTRA["check"],
    ids=[
        row_id(i, r["constraint"], r["version"], f"pre={r['include_prerelease']}")
        for i, r in enumerate(EXTRA["check"])
    ],
)
def test_edge_case_checks(row: dict[str, Any]) -> None:
    constraint = parse_constraint(row["constraint"])
    include = row["include_prerelease"]
    assert constraint.check(row["version"], include_prerelease=include) is row["expected"]
    assert (not constraint.reasons(row["version"], include_prerelease=include)) is row["expected"]


def test_empty_constraint_says_to_leave_it_out() -> None:
    with pytest.raises(ConstraintError, match="empty"):
        parse_constraint("")


def test_string_versions_are_parsed_loosely() -> None:
    assert parse_constraint("~1.4").check("v1.4")
    assert parse_constraint(">=1.2.3-0").reasons("1.2.2") == ['"1.2.2" is less than "1.2.3-0"']


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 400 + "!",
        "1.2.3 " + " " * 900 + "- ",
        ",".join(["1"] * 300) + "||",
        "1.1 - " * 150,
    ],
)
def test_hostile_constraints_fail_fast(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ConstraintError):
        parse_constraint(text)
    assert time.perf_counter() - started < 0.5


def test_overlong_constraint_is_rejected() -> None:
    with pytest.raises(ConstraintError, match="longer than 1024"):
        parse_constraint(">=1 " * 300)
