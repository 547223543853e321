"""Fuzzing the three parsers that read what users write, with inputs built to break them rather
than to follow the grammar (the grammar's own properties are in ``tests/core``):

- a comment is always Run, Reply or Ignore; a Run prints back to itself; nothing quoted, fenced
  or inside an HTML comment runs;
- a version or constraint either parses, and then prints back to what it parsed, or is refused
  with the parser's own error, never another exception;
- an edit of a YAML file is byte-exact or refused: the lines stay, the data is the same but for
  the image's tag, and setting the same tag again changes nothing.

Every input that once found a bug stays as an ``@example``."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.files.yamledit import YamlEditError, set_image
from bot.core.inputs.commands import Ignore, Reply, Run, parse_comment
from bot.core.versions.constraints import ConstraintError, parse_constraint
from bot.core.versions.semver import VersionError, parse_version

FUZZ = settings(max_examples=300, deadline=None)

# Pieces users (and attackers) put in comments.
WORDS = st.sampled_from(
    [
        "/promote", "/hold", "/unhold", "/rollback", "/drift", "/help", "/promotion-bot",
        "/assign", "/PROMOTE", "to", "in", "prod", "api", "1.4.0", "v2", "user-service",
        "<b>x</b>", "@admin", "`code`", "$(rm -rf /)", "';--", "{{x}}", "*bold*", "[l](u)",
        "\u200d", "\u202e", "\x00", "\x1b[31m", "é", "🚀", "-" * 200, "1" * 130, "a.b_c-d",
    ]
)  # fmt: skip
SPACES = st.sampled_from([" ", "  ", "\t", "\u00a0", "\u3000"])
LINE = st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=8).flatmap(
    lambda parts: SPACES.map(lambda space: space.join(parts))
)
INDENT = st.sampled_from(["", " ", "   ", "    ", "> ", ">> "])
NEWLINE = st.sampled_from(["\n", "\r\n", "\r"])
FENCE = st.sampled_from(["```", "~~~", "````"])


@st.composite
def comments(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.tuples(INDENT, LINE).map("".join), min_size=1, max_size=6))
    return draw(NEWLINE).join(lines)


@FUZZ
@given(comments())
def test_a_comment_is_run_reply_or_ignore_and_a_run_prints_back(body: str) -> None:
    outcome = parse_comment(body)
    assert isinstance(outcome, Run | Reply | Ignore)
    if isinstance(outcome, Run):
        assert parse_comment(str(outcome.command)) == outcome


@FUZZ
@given(comments(), FENCE, st.booleans())
def test_nothing_fenced_or_in_an_html_comment_runs(body: str, fence: str, html: bool) -> None:
    # Closing markers inside the body would end the block early: keep them out.
    inner = body.replace("`", "").replace("~", "").replace("-->", "")
    wrapped = f"<!--\n{inner}\n-->" if html else f"{fence}\n{inner}\n{fence}"
    assert isinstance(parse_comment(wrapped), Ignore)


VERSIONISH = st.text(alphabet="0123456789.vV-+xX*abrc ", max_size=20)
CONSTRAINTISH = st.text(alphabet="0123456789.vxX*^~=<>!|, -abrc", max_size=30)


@FUZZ
@given(st.one_of(VERSIONISH, st.text(max_size=20)), st.booleans())
def test_a_version_parses_and_prints_back_or_is_refused(text: str, loose: bool) -> None:
    try:
        version = parse_version(text, loose=loose)
    except VersionError:
        return
    assert parse_version(str(version)) == version


@FUZZ
@given(st.one_of(CONSTRAINTISH, st.text(max_size=30)), VERSIONISH)
def test_a_constraint_parses_and_prints_back_or_is_refused(text: str, candidate: str) -> None:
    try:
        constraint = parse_constraint(text)
    except ConstraintError:
        return
    assert str(parse_constraint(str(constraint))) == str(constraint)
    try:
        version = parse_version(candidate, loose=True)
    except VersionError:
        return
    assert constraint.check(version) == (not constraint.reasons(version))


IMAGE = "ghcr.io/acme/api"
# Lines of a values file: the image in every shape the scanner knows, and YAML built to confuse.
YAML_LINES = st.sampled_from(
    [
        "image:", "  repository: ghcr.io/acme/api", "  tag: 1.0.0", "  tag: '1.0.0'",
        '  tag: "1.0.0"', "  tag: 1.0.0 # pinned", "  tag: &t 1.0.0", "  other: *t",
        "image: ghcr.io/acme/api:1.0.0", "image: 'ghcr.io/acme/api:1.0.0'",
        "images: [ghcr.io/acme/api:1.0.0, nginx:1.0]", "- image: ghcr.io/acme/api:1.0.0",
        "  newTag: 1.0.0", "- name: ghcr.io/acme/api", "base: &b {repository: ghcr.io/acme/api}",
        "over: {<<: *b, tag: 1.0.0}", "note: |", "  image: ghcr.io/acme/api:1.0.0", "---",
        "# image: ghcr.io/acme/api:1.0.0", "key: [unclosed", "\t tab: 1", "? complex", ": value",
        "tag: !!str 1.0.0", "x: {a: 1, b: [2, 3]}", "é: 'ünïcode'", "",
    ]
)  # fmt: skip
TAGS = st.sampled_from(["1.0.1", "2.0.0", "v1.2.3-rc.1", "1.0", "0123", "true", "1e3", "latest"])


def _same_but_tags(old: Any, new: Any) -> bool:
    """Equal data, but for strings where the tag changed (an image reference or a tag)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same_but_tags(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(map(_same_but_tags, old, new))
    return old == new or "1.0.0" in str(old)


@FUZZ
@given(st.lists(YAML_LINES, min_size=1, max_size=10), NEWLINE, TAGS)
# A multi-document file whose first document does not parse: the others are still edited
# (``yamlnodes.compose_roots``), so the data of the whole file cannot be compared.
@example(
    ["  repository: ghcr.io/acme/api", "image:", "---", "image: ghcr.io/acme/api:1.0.0"],
    "\n",
    "1.0.1",
)
def test_a_yaml_edit_is_byte_exact_or_refused(lines: list[str], newline: str, tag: str) -> None:
    text = newline.join(lines) + newline
    try:
        result = set_image(text, image=IMAGE, tag=tag)
    except YamlEditError:
        return
    before, after = text.splitlines(), result.text.splitlines()
    assert len(before) == len(after)
    changed = {n for n, (old, new) in enumerate(zip(before, after, strict=True), 1) if old != new}
    assert changed == {change.line for change in result.changes}
    if (documents := _documents(text)) is not None:
        assert _same_but_tags(documents, _documents(result.text))
    assert set_image(result.text, image=IMAGE, tag=tag).text == result.text


def _documents(text: str) -> list[Any] | None:
    """The file's data, or None when YAML cannot read all of it."""
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return None
