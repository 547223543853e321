"""bot.core.versions.selection: every Flux ImagePolicy vector, then Keel and bot-specific rules."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.core.versions.policy import TagPolicy
from bot.core.versions.selection import Pick, change_kind, is_newer, pick_tag
from bot.core.versions.tagfilters import expand, filter_tags, glob_match
from bot.core.versions.tagschemes import TagPolicyError, compile_plan
from tests.core.semver_tables import load, row_id

FLUX_ROWS = load("flux-policies.tsv")
# Rows whose upstream test needs a live registry or a Kubernetes ACL; the note in the row says
# what the policy alone must do, and these stand-ins check exactly that.
PODINFO = ["6.6.0", "6.7.0", "6.7.1", "6.8.0", "6.7.1.sig", "latest"]
STAND_INS = {
    "revision lifecycle (live registry)": (PODINFO, "6.7.1"),
    "cross-namespace ACL test (registry)": (["1.0.1", "1.0.2", "1.1.0-alpha"], "1.0.2"),
}


def flux_policy(row: dict[str, str]) -> TagPolicy:
    key, _, value = row["policy_params"].partition("=")
    fields: dict[str, object] = {"scheme": row["policy"]}
    if key == "range":
        fields["constraint"] = value
    if key == "order" and value in ("asc", "desc", "invalid"):
        fields["order"] = value
    if row["filter_pattern"]:
        fields["pattern"] = row["filter_pattern"]
    if row["filter_extract"]:
        fields["extract"] = row["filter_extract"]
    return TagPolicy.model_validate(fields)


def flux_tags(row: dict[str, str]) -> list[str]:
    return row["tags"].split(",") if row["tags"] else []


def check_filter_row(row: dict[str, str], listed: list[str]) -> None:
    expected = sorted(listed)  # upstream's own sort order is not byte order; compare as sets
    if row["policy"] == "filter-only":
        found = filter_tags(flux_tags(row), row["filter_pattern"], row["filter_extract"])
        assert sorted(found) == expected
        return
    pattern = row["policy_params"].partition("=")[2]
    patterns = [pattern] if not pattern.startswith("(default") else None
    policy = TagPolicy(scheme="alphabetical", exclude=None if patterns is None else tuple(patterns))
    assert sorted(pick_tag(policy, flux_tags(row)).candidates) == expected


def outcome(row: dict[str, str]) -> Pick | None:
    """The pick, or None when the policy itself is rejected (Flux: constructor error)."""
    try:
        policy = flux_policy(row)
        compile_plan(policy)
    except (TagPolicyError, ValidationError):
        return None
    tags, _ = STAND_INS.get(row["case"], (flux_tags(row), ""))
    return pick_tag(policy, tags)


@pytest.mark.parametrize(
    "row",
    FLUX_ROWS,
    ids=[row_id(i, r["case"], r["policy_params"]) for i, r in enumerate(FLUX_ROWS)],
)
def test_flux_policy_vectors(row: dict[str, str]) -> None:
    expected = row["expected"]
    if expected.startswith("LIST:"):
        check_filter_row(row, expected.removeprefix("LIST:").split(","))
        return
    pick = outcome(row)
    if expected in ("VALID", "VALID_RANGE"):
        assert pick is not None
    elif expected == "ERROR":
        assert pick is None or pick.tag is None
    else:
        assert pick is not None
        assert pick.tag == STAND_INS.get(row["case"], ([], expected))[1], pick.reason


def test_flux_lifecycle_exclusion_moves_selection_down() -> None:
    policy = TagPolicy(constraint="6.7.x", pattern=r"^6\.7\.\d+$", exclude=(r"^6\.7\.1$",))
    assert pick_tag(policy, PODINFO).tag == "6.7.0"


def test_flux_digest_reflection_carries_the_digest() -> None:
    digest = "sha256:" + "ab" * 32
    tags = ["v1.0.0", "v1.1.0", f"v1.1.1@{digest}", "v2.0.0"]
    pick = pick_tag(TagPolicy(constraint="v1.x", digest=True), tags)
    assert (pick.tag, pick.digest) == ("v1.1.1", digest)


@pytest.mark.parametrize(
    ("policy", "tags", "current", "expected"),
    [
        # variant suffixes stay put and never fall back to plain or pre-release tags
        (
            TagPolicy(),
            ["1.2.4", "1.2.4-alpine", "1.2.5-rc.1-alpine"],
            "1.2.3-alpine",
            "1.2.4-alpine",
        ),
        (TagPolicy(prerelease=True), ["1.2.4-alpine", "1.2.5-rc.1"], "1.2.3", "1.2.5-rc.1"),
        (TagPolicy(), ["1.2.4-alpine", "1.3.0-slim"], "1.2.3", None),
        (
            TagPolicy(),
            ["1.2.4-alpine3.19", "1.2.5-alpine3.20"],
            "1.2.3-alpine3.19",
            "1.2.4-alpine3.19",
        ),
        (
            TagPolicy(constraint="~1.2"),
            ["1.2.9-alpine", "1.3.0-alpine"],
            "1.2.3-alpine",
            "1.2.9-alpine",
        ),
        (
            TagPolicy(variant=False, prerelease=True),
            ["1.2.3", "1.2.4-alpine"],
            "1.2.3-alpine",
            "1.2.4-alpine",
        ),
        (TagPolicy(), ["1.2.3", "1.2.4-rc.1"], "1.2.3-rc.1", "1.2.3"),
        # Keel level relative to current
        (TagPolicy(level="patch"), ["1.2.9", "1.3.0", "2.0.0"], "1.2.3", "1.2.9"),
        (TagPolicy(level="minor"), ["1.2.9", "1.3.0", "2.0.0"], "1.2.3", "1.3.0"),
        (TagPolicy(level="major"), ["1.2.9", "1.3.0", "2.0.0"], "1.2.3", "2.0.0"),
        (TagPolicy(level="patch"), ["1.3.0", "2.0.0"], "1.2.3", None),
        (TagPolicy(level="patch"), ["1.3.0", "2.0.0"], None, "2.0.0"),
        # never lower than current, unless the constraint has moved away from it
        (TagPolicy(), ["1.0.0", "1.1.0"], "1.2.0", None),
        (TagPolicy(constraint="~2.0"), ["1.0.0", "2.0.5", "3.1.0"], "3.0.0", "2.0.5"),
        (TagPolicy(constraint="^1.2"), ["1.2.5", "1.2.9"], "1.3.0-rc.1", None),
        (TagPolicy(), ["1.2.3", "2.0.0"], "latest", "2.0.0"),
        # Keel match filter
        (TagPolicy(match="glob:1.*"), ["1.9.0", "2.0.0"], None, "1.9.0"),
        (TagPolicy(match="regexp:^v1\\."), ["v1.9.0", "v2.0.0", "1.10.0"], None, "v1.9.0"),
        # PEP 440
        (
            TagPolicy(scheme="pep440", constraint=">=1.0,<2"),
            ["1.0", "1.9rc1", "1.5.post1", "2.0"],
            None,
            "1.5.post1",
        ),
        (TagPolicy(scheme="pep440", prerelease=True), ["1.0", "1.9rc1"], None, "1.9rc1"),
        (TagPolicy(scheme="pep440", constraint=">=2.0rc1"), ["1.0", "2.0rc2"], None, "2.0rc2"),
        (TagPolicy(scheme="pep440", level="minor"), ["1.4.0", "1.5.0", "2.0.0"], "1.4", "1.5.0"),
        # ties and spellings: the original spelling comes back
        (TagPolicy(), ["v1.2.3", "1.2.2", "x" * 200], None, "v1.2.3"),
        (TagPolicy(scheme="alphabetical", order="desc"), ["b", "a", "c"], "b", "a"),
        (TagPolicy(scheme="numerical"), ["1", "10", "9"], "10", None),
    ],
)
def test_pick(
    policy: TagPolicy, tags: list[str], current: str | None, expected: str | None
) -> None:
    pick = pick_tag(policy, tags, current)
    assert pick.tag == expected, pick.reason
    assert (pick.tag is None) == (pick.candidates == ())
    if pick.tag is not None:
        assert pick.candidates[0] == pick.tag


@pytest.mark.parametrize(
    ("policy", "tags", "current", "reason"),
    [
        (
            TagPolicy(constraint="~1.4"),
            ["1.4.0", "1.4.2", "1.5.0", "x"],
            None,
            "1.4.2 is the highest of 2 tags matching '~1.4'",
        ),
        (
            TagPolicy(constraint="^1.4"),
            ["1.4.0", "1.4.2"],
            "1.4.2",
            "no tag matching '^1.4' is newer than 1.4.2",
        ),
        (TagPolicy(), ["a", "b"], None, "no semver tag among 2 tags given"),
        (
            TagPolicy(scheme="numerical"),
            ["1", "b"],
            None,
            "tag 'b' is not a number; the numerical scheme needs every tag to be one "
            "(narrow the tags with pattern)",
        ),
        (
            TagPolicy(level="patch"),
            ["1.2.4"],
            "1.2.3@sha256:" + "0" * 64,
            "1.2.4 is the highest of 1 semver tag newer than 1.2.3 within a patch update",
        ),
        (
            TagPolicy(constraint="~2.0"),
            ["2.0.1"],
            "3.0.0",
            "2.0.1 is the highest of 1 tag matching '~2.0'; "
            "current 3.0.0 does not satisfy '~2.0', so any allowed tag may replace it",
        ),
        (
            TagPolicy(),
            ["1.2.4-alpine"],
            "1.2.3-alpine",
            "1.2.4-alpine is the highest of 1 semver tag with suffix '-alpine' "
            "newer than 1.2.3-alpine",
        ),
        (
            TagPolicy(scheme="alphabetical"),
            ["a", "b"],
            None,
            "b is the alphabetically last of 2 tags",
        ),
    ],
)
def test_reasons_read_as_sentences(
    policy: TagPolicy, tags: list[str], current: str | None, reason: str
) -> None:
    assert pick_tag(policy, tags, current).reason == reason


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"scheme": "numerical", "constraint": "^1"},
            "constraint and level need scheme semver or pep440",
        ),
        (
            {"scheme": "alphabetical", "level": "patch"},
            "constraint and level need scheme semver or pep440",
        ),
        ({"extract": "$1"}, "no pattern"),
        ({"constraint": ""}, "leave it out instead"),
        ({"constraint": ">= bar"}, "constraint='>= bar'"),
        ({"scheme": "pep440", "constraint": "^1"}, "not a PEP 440 specifier set"),
        ({"pattern": "^test-(.*"}, "missing )"),
        ({"pattern": "(a)\\1"}, "invalid escape sequence"),
        ({"pattern": "x" * 2000}, "longer than 1024"),
        ({"match": "wild:1.*"}, "expected glob:... or regexp:..."),
        ({"match": "regexp:(?=a)"}, "compiling match failed"),
        ({"exclude": ["[z-a]"]}, "compiling exclude failed"),
    ],
)
def test_bad_policies_are_rejected_with_a_clear_message(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(TagPolicyError, match="checking tag policy failed") as info:
        pick_tag(TagPolicy.model_validate(fields), ["1.0.0"])
    assert message in str(info.value)


def test_hostile_patterns_and_tags_stay_fast() -> None:
    tags = ["a" * 127 + "!", "a" * 128, "a" * 5000, "1.0.0@not-a-digest", "", "\x00\n"]
    started = time.perf_counter()
    pick = pick_tag(TagPolicy(scheme="alphabetical", pattern="^(a+)+$"), tags * 50)
    assert time.perf_counter() - started < 1.0
    assert pick.tag == "a" * 128


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$1", "12"),
        ("${1}x", "12x"),
        ("$1x", ""),
        ("$num-$word", "12-ab"),
        ("${num}${word}", "12ab"),
        ("$$num", "$num"),
        ("$", "$"),
        ("${num", "${num"),
        ("$9", ""),
        ("$01", ""),
        ("$-", "$-"),
    ],
)
def test_extract_expands_like_go(template: str, expected: str) -> None:
    assert expand(template, ("ver12ab", "12", "ab"), {"num": 1, "word": 2}) == expected


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("1.*", "1.2.3", True),
        ("1.*", "2.1.3", False),
        ("*-alpine", "1.2-alpine", True),
        ("*", "", True),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "acb", False),
        ("ab*ba", "aba", False),
        ("1.2.?", "1.2.3", False),
        ("exact", "exact", True),
    ],
)
def test_keel_glob(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("1.2.3", "2.0.0", "major"),
        ("1.2.3", "1.3.0", "minor"),
        ("v1.2.3", "1.2.4", "patch"),
        ("1.2.3-rc.1", "1.2.3", "prerelease"),
        ("1.2.3-rc.1", "1.2.3-rc.2", "prerelease"),
        ("1.2.3", "1.2.2", "downgrade"),
        ("1.2.3", "1.2.3", "other"),
        ("1.2.3-alpine", "1.2.4-alpine", "patch"),
        ("1.2.3@sha256:" + "0" * 64, "1.3.0", "minor"),
        ("1.4", "1.4.1", "patch"),
        ("1.2.3.post1", "1.2.4", "patch"),
        ("2024.1.0.1", "2023.9.0", "downgrade"),
        ("latest", "1.2.3", "other"),
    ],
)
def test_change_kind(old: str, new: str, kind: str) -> None:
    assert change_kind(old, new) == kind


@pytest.mark.parametrize(
    ("policy", "candidate", "than", "expected"),
    [
        (TagPolicy(), "1.2.4", "1.2.3", True),
        (TagPolicy(), "1.2.3", "v1.2.3", False),
        (TagPolicy(), "1.2.4-alpine", "1.2.3", False),
        (TagPolicy(), "1.2.4-alpine", "1.2.3-alpine", True),
        (TagPolicy(scheme="numerical"), "10", "9", True),
        (TagPolicy(scheme="alphabetical"), "10", "9", False),
        (TagPolicy(scheme="alphabetical", order="desc"), "a", "b", True),
        (TagPolicy(scheme="pep440"), "1.0.post1", "1.0", True),
        (
            TagPolicy(pattern=r"^build-(?P<n>\d+)$", extract="$n", scheme="numerical"),
            "build-10",
            "build-9",
            True,
        ),
        (TagPolicy(), "latest", "1.0.0", False),
    ],
)
def test_is_newer(policy: TagPolicy, candidate: str, than: str, expected: bool) -> None:
    assert is_newer(policy, candidate, than) is expected


semver_tags = st.builds(
    lambda prefix, core, pre: prefix + ".".join(map(str, core)) + pre,
    st.sampled_from(["", "v"]),
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    st.sampled_from(["", "", "-rc.1", "-alpine", "-beta.2"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(semver_tags, st.text(max_size=6)), max_size=12),
    semver_tags,
    st.sampled_from([None, "~1.2", "^1", ">=0.1.0-0"]),
    st.sampled_from([None, "patch", "minor"]),
    st.booleans(),
)
def test_pick_only_goes_down_when_current_is_outside_the_policy(
    tags: list[str], current: str, constraint: str | None, level: str | None, pre: bool
) -> None:
    policy = TagPolicy.model_validate({"constraint": constraint, "level": level, "prerelease": pre})
    pick = pick_tag(policy, tags, current)
    if pick.tag is not None:
        assert pick.tag in tags
        assert set(pick.candidates) <= set(tags)
        if not is_newer(policy, pick.tag, current):
            assert pick.reason.endswith("so any allowed tag may replace it"), pick.reason


@pytest.mark.parametrize(
    ("constraint", "tag", "reason"),
    [
        (">=1.0 <2.0", "2.0.0", '"2.0.0" is greater than or equal to "2.0"'),
        (">=1.0 <2.0", "v0.9.0", '"0.9.0" is less than "1.0"'),
        ("~1.4", "1.5.0", '"1.5.0" does not have same major and minor version as "1.4"'),
    ],
)
def test_a_refused_single_tag_names_the_rule(constraint: str, tag: str, reason: str) -> None:
    pick = pick_tag(TagPolicy(constraint=constraint), [tag])
    assert pick.tag is None and pick.reason.endswith(": " + reason)
