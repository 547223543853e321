from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.files.yamledit import Change
from bot.core.files.yamlscan import ImageOccurrence
from bot.core.markup.markdown import Section, assemble, escape_md
from bot.core.markup.metadata import Meta, extract
from bot.core.promotion.model import Promotion, Snapshot
from bot.core.promotion.render import (
    compare_url,
    release_url,
    render_commit_message,
    render_promotion_body,
    render_promotion_title,
    render_pull_title,
)
from bot.core.review.comment import render_review_comment
from bot.core.review.diff import meaningful_diff
from bot.core.review.drift import DriftWarning

GOLDEN = Path(__file__).parent.parent / "data" / "render"
# UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing.
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

USER = Promotion(
    app="user-service",
    environment="staging",
    image="ghcr.io/acme/user-service",
    from_tag="1.3.0",
    to_tag="1.4.0",
    from_digest="sha256:" + "0a" * 32,
    to_digest="sha256:" + "1b" * 32,
    change_kind="minor",
    policy_name="semver-minor",
    reason="staging accepts minor and patch updates; 1.4.0 is the newest such tag",
    source_repo="acme/user-service",
    superseded=("1.3.1", "1.3.2"),
)
SIDECAR = Promotion(
    app="user-service",
    environment="staging",
    image="docker.io/envoyproxy/envoy",
    from_tag="v1.30.1",
    to_tag="v1.30.2",
    change_kind="patch",
    policy_name="semver-patch",
    reason="patch updates are always allowed",
    source_repo="envoyproxy/envoy",
)
HOSTILE = Promotion(
    app="evil|app`<img src=x>",
    environment="prod\n| injected | row |",
    image="ghcr.io/x/y<!--",
    from_tag="1.0.0",
    to_tag="1.0.1|@octocat-->",
    change_kind="patch<script>",
    policy_name="[click](https://evil.example)",
    reason="@acme/admins please look at **this** ``code`` <!-- hide -->",
    source_repo="x/y",
    superseded=("1.0.0-@everyone",),
)
CHANGES = (
    Change("apps/user-service/values.yaml", 12, "image.tag", "1.3.0", "1.4.0"),
    Change("apps/user-service/values.yaml", 13, "image.digest", "sha256:0a0a", "sha256:1b1b"),
    Change(
        "apps/user-service/envoy.yaml",
        40,
        "spec.containers[1].image",
        "envoy:v1.30.1",
        "envoy:v1.30.2",
    ),
)


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


BODIES = {
    "single.md": lambda: render_promotion_body(
        [USER], changes=CHANGES[:2], web_url="https://github.com", declined=["1.3.5"]
    ),
    "multi-ghes.md": lambda: render_promotion_body(
        [USER, SIDECAR], changes=CHANGES, web_url="https://ghe.example.com/", tag_prefix=""
    ),
    "first-deploy.md": lambda: render_promotion_body(
        [Promotion("api", "dev", "ghcr.io/acme/api", None, "0.1.0", change_kind="new")]
    ),
    "hostile.md": lambda: render_promotion_body(
        [HOSTILE],
        changes=[Change("a|b`.yaml", 1, "x.<b>", "1.0.0", "1.0.1|@octocat")],
        web_url="https://github.com",
    ),
    "truncated.md": lambda: render_promotion_body(
        [USER], changes=CHANGES * 30, web_url="https://github.com", limit=1500
    ),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_body_golden(name: str) -> None:
    _check_golden(name, BODIES[name]())


def test_review_comment_golden() -> None:
    before = Snapshot(
        {"values.yaml": "image:\n  tag: 1.3.0\nreplicas: 2\n", "old.yaml": "a: 1\n"},
        (
            ImageOccurrence(
                "values.yaml", 2, "helm-values", "ghcr.io/acme/api", "1.3.0", None, "image"
            ),
        ),
    )
    after = Snapshot(
        {"values.yaml": "image:\n  tag: 1.4.0 # new\nreplicas: 3\nextra: {debug: yes}\n"},
        (
            ImageOccurrence(
                "values.yaml", 2, "helm-values", "ghcr.io/acme/api", "1.4.0", None, "image"
            ),
        ),
    )
    warnings = [
        DriftWarning("downgrade", "ghcr.io/acme/api goes back from 2.0.0 to 1.4.0"),
        DriftWarning("branch-ahead", "prod has 2 commit(s) that staging lacks"),
    ]
    body = render_review_comment(
        app="api",
        environment="prod",
        diff=meaningful_diff(before, after),
        warnings=warnings,
        version="1.4.0",
    )
    _check_golden("review.md", body)
    assert extract(body) == Meta(
        kind="review-comment", app="api", environment="prod", version="1.4.0"
    )


def test_title() -> None:
    assert render_promotion_title(USER) == "Promote user-service 1.4.0 to staging"
    assert render_pull_title([USER]) == render_promotion_title(USER)
    assert render_pull_title([USER, SIDECAR]) == "Promote user-service to staging (2 images)"
    assert "\n" not in render_promotion_title(HOSTILE)


def test_body_needs_a_promotion() -> None:
    with pytest.raises(ValueError, match="promotions=0"):
        render_promotion_body([])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("https://github.com", "acme/api", "1.3.0", "1.4.0"),
            "https://github.com/acme/api/compare/v1.3.0...v1.4.0",
        ),
        (
            ("https://ghe.example.com/", "acme/api", "v1.3.0", "v1.4.0"),
            "https://ghe.example.com/acme/api/compare/v1.3.0...v1.4.0",
        ),
        (
            ("http://127.0.0.1:8080", "a b/c?d", "1.0", "1.0+b#x"),
            "http://127.0.0.1:8080/a%20b/c%3Fd/compare/v1.0...v1.0%2Bb%23x",
        ),
    ],
)
def test_compare_url(args: tuple[str, str, str, str], expected: str) -> None:
    assert compare_url(*args) == expected


def test_release_url_without_prefix() -> None:
    assert (
        release_url("https://github.com", "acme/api", "2.0.0", tag_prefix="")
        == "https://github.com/acme/api/releases/tag/2.0.0"
    )


def test_commit_message() -> None:
    message = render_commit_message([USER], CHANGES[:1])
    assert message == (
        "Promote user-service 1.4.0 to staging\n"
        "\n"
        "semver-minor: staging accepts minor and patch updates; 1.4.0 is the newest such tag\n"
        "- apps/user-service/values.yaml:12 image.tag: 1.3.0 -> 1.4.0\n"
    )
    assert render_commit_message([HOSTILE], []).count("\n") == 3


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("1.4.0", "1.4.0"),
        ("a|b", "a\\|b"),
        ("`x`", "\\`x\\`"),
        ("<!-- x -->", "&lt;\\!-- x --&gt;"),
        ("@octocat", "@&#8203;octocat"),
        ("a\nb\r\nc", "a b c"),
        ("[x](y)", "\\[x\\]\\(y\\)"),
        ("**b** _i_", "\\*\\*b\\*\\* \\_i\\_"),
        ("https://x.io", "https:&#8203;//x.io"),
        ("&amp;", "&amp;amp;"),
        ("x" * 300, "x" * 199 + "…"),
    ],
)
def test_escape_md(raw: str, escaped: str) -> None:
    assert escape_md(raw) == escaped


def test_assemble_drops_lowest_priority_first_and_says_so() -> None:
    sections = [Section("top", 9), Section("x" * 50, 1), Section("mid", 5), Section("y" * 50, 2)]
    text = assemble(sections, footer="<!-- m -->", limit=100)
    assert (
        text
        == "top\n\nmid\n\n_2 sections omitted to stay under GitHub's size limit._\n\n<!-- m -->\n"
    )


_HOSTILE_TEXT = st.text(alphabet=st.sampled_from("a1.|`<>@!-_[]()*\\\n\r&#:/ "), max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    app=_HOSTILE_TEXT,
    tag=_HOSTILE_TEXT,
    path=_HOSTILE_TEXT,
    count=st.integers(min_value=0, max_value=400),
    limit=st.integers(min_value=800, max_value=65_000),
)
def test_body_is_bounded_and_tables_stay_whole(
    app: str, tag: str, path: str, count: int, limit: int
) -> None:
    promotion = Promotion(app, "prod", "img", tag, tag + "1", reason=tag, source_repo="a/b")
    changes = [Change(path, i, path, tag, tag) for i in range(count)]
    body = render_promotion_body([promotion], changes=changes, web_url="https://x", limit=limit)
    assert len(body) <= limit
    assert extract(body) is not None
    table = [line for line in body.splitlines() if line.startswith("| ")]
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 7 for row in table)
    visible = body[: body.rindex("<!-- promotion-bot:v1")]
    assert "<" not in visible
    assert re.search(r"@(?!&#8203;)", visible) is None
    full = render_promotion_body([promotion], changes=changes, web_url="https://x", limit=10**9)
    full_lines = set(full.splitlines())
    assert all(line in full_lines or "omitted" in line for line in body.splitlines())
