from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.markup.metadata import Meta, embed, extract

FULL = Meta(
    kind="promotion-pr",
    app="user-service",
    environment="prod",
    version="1.4.0",
    digest="sha256:" + "ab" * 32,
    from_="1.3.0",
    superseded=("1.3.1", "1.3.2"),
    policy="semver-minor",
    declined=("1.3.5",),
)


@pytest.mark.parametrize(
    "meta",
    [
        FULL,
        Meta(kind="review-comment", app="api", environment="staging"),
        Meta(kind="drift-report"),
        Meta(kind="config-error"),
        Meta(kind="gate-check", version="2.0.0"),
        Meta(kind="promotion-pr", app="x --> <!-- y", version="1.0&<>"),
    ],
)
def test_round_trip(meta: Meta) -> None:
    assert extract(embed(meta)) == meta


def test_marker_is_one_html_comment() -> None:
    text = embed(Meta(kind="promotion-pr", app="a-->b<!--c", policy="--!>"))
    assert text.startswith("<!-- promotion-bot:v1 {")
    assert text.endswith(" -->")
    assert text.count("-->") == 1
    assert text.count("<!--") == 1
    assert "\n" not in text


def test_embedded_json_names_fields_plainly() -> None:
    payload = json.loads(embed(FULL)[len("<!-- promotion-bot:v1 ") : -len(" -->")])
    assert payload["from"] == "1.3.0"
    assert payload["superseded"] == ["1.3.1", "1.3.2"]
    assert "from_" not in payload


def test_tolerates_surrounding_text() -> None:
    body = f"# Promote\n\nSome text.\n{embed(FULL)}\n\n---\nEdited by a human."
    assert extract(body) == FULL


def test_last_marker_wins() -> None:
    older = embed(Meta(kind="promotion-pr", version="1.0.0"))
    assert extract(f"{older}\n{embed(FULL)}") == FULL


def test_garbled_marker_after_a_good_one_is_skipped() -> None:
    body = embed(FULL) + "\n<!-- promotion-bot:v1 {not json} -->"
    assert extract(body) == FULL


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "no marker here",
        "<!-- promotion-bot:v1 -->",
        "<!-- promotion-bot:v1 {} -->",
        "<!-- promotion-bot:v1 {not json} -->",
        '<!-- promotion-bot:v1 {"kind": "promotion-pr"',
        '<!-- promotion-bot:v2 {"kind": "promotion-pr"} -->',
        '<!--promotion-bot:v1 {"kind": "promotion-pr"}-->',
        '<!-- promotion-bot:v1 {"kind": "unknown-kind"} -->',
        '<!-- promotion-bot:v1 {"kind": 1} -->',
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "app": 5} -->',
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "app": null} -->',
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "superseded": "1.0"} -->',
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "declined": [1]} -->',
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "app": "' + "a" * 400 + '"} -->',
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "declined": ['
        + ",".join(['"x"'] * 101)
        + "]} -->",
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "x": "' + "a" * 9000 + '"} -->',
        '<!-- promotion-bot:v1 {"kind": "promotion-pr", "n": ' + "[" * 5000 + "]" * 5000 + "} -->",
        '<!-- promotion-bot:v1 ["kind", "promotion-pr"] -->',
        "x" * 70_001 + embed(Meta(kind="promotion-pr")),
    ],
)
def test_refuses_forged_or_garbled(body: str | None) -> None:
    assert extract(body) is None


def test_unknown_fields_are_ignored() -> None:
    body = '<!-- promotion-bot:v1 {"kind": "drift-report", "app": "api", "future": 1} -->'
    assert extract(body) == Meta(kind="drift-report", app="api")


_TEXT = st.text(max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        Meta,
        kind=st.sampled_from(["promotion-pr", "review-comment", "drift-report", "config-error"]),
        app=_TEXT,
        environment=_TEXT,
        version=_TEXT,
        digest=_TEXT,
        from_=_TEXT,
        superseded=st.lists(_TEXT, max_size=5).map(tuple),
        policy=_TEXT,
        declined=st.lists(_TEXT, max_size=5).map(tuple),
    ),
    _TEXT,
)
def test_any_meta_round_trips_inside_any_text(meta: Meta, around: str) -> None:
    body = around.replace("promotion-bot:v1", "") + "\n" + embed(meta)
    assert extract(body) == meta
