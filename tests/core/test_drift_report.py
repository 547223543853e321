"""The drift report: the living issue, the ticks read back, the terminal table and JSON."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.drift.export import report_json
from bot.core.drift.model import Behind, Commit, DriftReport, PairDrift
from bot.core.drift.report import ISSUE_LIMIT, render_issue
from bot.core.drift.text import render_text
from bot.core.drift.ticks import box_keys, ticked_keys, untick
from bot.core.drift.words import HIDDEN, summary_line
from bot.core.markup.metadata import Meta, extract
from bot.core.promotion.holds import Hold
from bot.core.review.diff import ABSENT, ValueDelta

GOLDEN = Path(__file__).parent.parent / "data" / "drift"
# UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing.
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
WEB = "https://github.com"
T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SHA_A = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SHA_B = "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"

SECRETS = (
    "ghp_Q7rT9vX2mK4pL8sW1nB6yZ3cD5fH0jG2aE4u",
    "Zq8#Lm3!vRt6Wp",
    "glpat-Xw9Kv2Lr7Tq4Mn8Pz",
    "-----BEGIN OPENSSH PRIVATE KEY-----b3BlbnNzaC1rZXktdjE",
)


def _behind(app: str, up: str, env: str, version: str, running: str | None, **kw: object) -> Behind:
    fields: dict[str, object] = {
        "image": f"ghcr.io/acme/{app}",
        "kind": "minor",
        "since": T0,
        "status": "pending",
        "detail": "",
    }
    fields.update(kw)
    return Behind(app, upstream=up, environment=env, version=version, running=running, **fields)  # type: ignore[arg-type]


def _commit(sha: str, author: str, message: str, **kw: object) -> Commit:
    return Commit(sha, author, T0 + timedelta(hours=1), message, **kw)  # type: ignore[arg-type]


STAGING = PairDrift(
    upstream="dev",
    environment="staging",
    behind=(
        _behind(
            "web", "dev", "staging", "2.1.0", "2.0.3", status="proposed", detail="#41", pull=41
        ),
    ),
)
PROD = PairDrift(
    upstream="staging",
    environment="prod",
    behind=(
        _behind("api", "staging", "prod", "1.4.0", "1.3.2"),
        _behind(
            "web",
            "staging",
            "prod",
            "2.0.3",
            "1.9.0",
            kind="major",
            status="held",
            detail="held by @alice: incident 42",
        ),
        _behind(
            "worker",
            "staging",
            "prod",
            "0.9.1",
            "0.9.0",
            kind="patch",
            status="waiting",
            detail="soak time: 24h in staging, 3h so far",
            since=None,
        ),
        _behind(
            "cron",
            "staging",
            "prod",
            "3.0.0",
            None,
            status="declined",
            detail="#12 was closed without merging",
            pull=12,
        ),
    ),
    ahead=(_behind("auth", "staging", "prod", "5.0.0", "5.0.1", kind="patch"),),
    values=(
        ValueDelta("values.yaml", "", "replicas", 2, 3),
        ValueDelta("values.yaml", "Deployment/api", "spec.template.env[0].value", "info", ABSENT),
        ValueDelta("secrets.yaml", "", "db.password", SECRETS[1], SECRETS[0], sensitive=True),
        ValueDelta(
            "values.yaml",
            "",
            "feature.flags",
            {"beta": True},
            {"beta": False, "at": date(2026, 11, 1)},
        ),
    ),
    only_upstream=("canary.yaml",),
    only_here=("pdb.yaml",),
    text_differs=("README.txt",),
    commits_ahead=(_commit(SHA_A, "bob", "hotfix: raise timeout\n\nlong body"),),
    commits_behind=(_commit(SHA_B, "carol", "tune cache", pull=40, promotion=True),),
    direct=(
        _commit(
            SHA_A, "bob", "hotfix: raise timeout", url=f"https://github.com/acme/env/commit/{SHA_A}"
        ),
    ),
)
REPORT = DriftReport(
    repo="acme/gitops",
    environments=("dev", "staging", "prod"),
    running={
        "api": {"dev": "1.5.0-rc.1", "staging": "1.4.0", "prod": "1.3.2"},
        "web": {"dev": "2.1.0", "staging": "2.0.3", "prod": "1.9.0"},
        "worker": {"dev": "0.9.1", "staging": "0.9.1", "prod": "0.9.0"},
        "cron": {"dev": "3.0.0", "staging": "3.0.0", "prod": None},
        "auth": {"dev": "5.0.0", "staging": "5.0.0", "prod": "5.0.1"},
    },
    pairs=(STAGING, PROD),
    holds=(Hold("prod", "web", "alice", T0, "incident 42", number=7),),
    skipped={"prod: big.yaml": "larger than 1 MiB", "staging: run.sh": "not YAML or HCL"},
)
HOSTILE_NAME = '<!-- x --> `@team` [a](b) | "]\n```\n e0-->e1 <script>'
HOSTILE = DriftReport(
    repo="acme/gitops",
    environments=("dev", HOSTILE_NAME),
    running={HOSTILE_NAME: {"dev": "1.0.0 | <b>", HOSTILE_NAME: "0.9 -->"}},
    pairs=(
        PairDrift(
            "dev",
            HOSTILE_NAME,
            behind=(
                _behind(
                    HOSTILE_NAME,
                    "dev",
                    HOSTILE_NAME,
                    "1.0.0 --> <!--",
                    "0.9 -->",
                    detail="@everyone <img src=x>",
                ),
            ),
            values=(ValueDelta("<x>.yaml", "", "a|b", "@here", "[x](javascript:alert(1))"),),
        ),
    ),
    skipped={f"dev: {HOSTILE_NAME}": "<b>why</b> @someone"},
)
EMPTY = DriftReport(
    "acme/gitops",
    ("dev", "prod"),
    {"api": {"dev": "1.0", "prod": "1.0"}},
    (PairDrift("dev", "prod"),),
)


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _report_json_text(report: DriftReport) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@pytest.mark.parametrize(
    ("name", "render"),
    [
        (
            "issue.md",
            lambda: render_issue(REPORT, web_url=WEB, ticked=frozenset({"sync:worker:prod:0.9.1"})),
        ),
        ("hostile.md", lambda: render_issue(HOSTILE, web_url=WEB)),
        ("empty.md", lambda: render_issue(EMPTY, web_url=WEB)),
        ("report.txt", lambda: render_text(REPORT)),
        ("hostile.txt", lambda: render_text(HOSTILE, width=60)),
        ("report.json", lambda: _report_json_text(REPORT)),
    ],
)
def test_golden(name: str, render: object) -> None:
    assert callable(render)
    _check_golden(name, render())


def test_issue_is_found_again_by_its_marker() -> None:
    body = render_issue(REPORT, web_url=WEB)
    assert extract(body) == Meta(kind="drift-report", repo="acme/gitops")
    assert body.rstrip().endswith("-->")


def test_summary_line() -> None:
    assert summary_line(EMPTY) == "No drift"
    assert summary_line(REPORT) == "15 differences between 2 environment pairs"
    assert "No drift" in render_issue(EMPTY, web_url=WEB)


def test_checkboxes_offer_what_a_sync_can_fix() -> None:
    body = render_issue(REPORT, web_url=WEB)
    boxes = [line for line in body.splitlines() if line.startswith(("- [ ]", "- [x]"))]
    assert boxes == [
        "- [ ] open a sync PR staging -> prod for api 1.4.0 (pending) <!-- sync:api:prod:1.4.0 -->",
        "- [ ] open a sync PR staging -> prod for worker 0.9.1 "
        "(waiting: soak time: 24h in staging, 3h so far) <!-- sync:worker:prod:0.9.1 -->",
        "- [ ] open a sync PR staging -> prod for cron 3.0.0 "
        "(declined: \\#12 was closed without merging) <!-- sync:cron:prod:3.0.0 -->",
    ]


def test_ticks_survive_a_rerender() -> None:
    keys = frozenset(item.key for item in REPORT.syncs())
    body = render_issue(REPORT, web_url=WEB)
    assert ticked_keys(body) == frozenset()
    edited = body.replace("- [ ] open a sync PR staging -> prod for api", "- [x] open a sync PR")
    assert ticked_keys(edited) == {"sync:api:prod:1.4.0"}
    assert ticked_keys(render_issue(REPORT, web_url=WEB, ticked=keys)) == keys
    assert ticked_keys(body.replace("- [ ]", "- [X]")) == keys


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("- [x] anything <!-- sync:api:prod:1.4.0 -->", {"sync:api:prod:1.4.0"}),
        ("  * [X] reworded by a person <!--sync:api:prod:1.4.0-->  ", {"sync:api:prod:1.4.0"}),
        ("+ [x]\tx <!-- sync:a%20b:prod:1%3E -->", {"sync:a b:prod:1>"}),
        ("- [ ] not ticked <!-- sync:api:prod:1.4.0 -->", set()),
        ("- [x] not the bot's comment <!-- promotion-bot:v1 {} -->", set()),
        ("- [x] sync:api:prod:1.4.0", set()),
        ("- [x] comment not at the end <!-- sync:api:prod:1.4.0 --> trailing", set()),
        ("[x] no list marker <!-- sync:api:prod:1.4.0 -->", set()),
        ("- [x] spaces in the key <!-- sync:a b -->", set()),
        ("- [x]<!-- sync:api:prod:1.4.0 -->", set()),
        ("- [x] <!-->", set()),
        ("- [x] " + "<!-- sync:" + "a" * 9000 + " -->", set()),
        ("- [xx] <!-- sync:api:prod:1.4.0 -->", set()),
        ("", set()),
    ],
)
def test_ticked_keys(line: str, expected: set[str]) -> None:
    assert ticked_keys(f"intro\n{line}\noutro") == expected


@pytest.mark.parametrize(
    "body",
    [
        "- [x] " + "<!--" * 16_000 + "-->",
        ("- [x] " + "<!-- sync:" * 5_000) + "-->",
        "- [x] " * 10_000 + " -->",
        "\n" * 65_536,
        "- [x] <!-- sync:a -->\n" * 3_000,
    ],
)
def test_ticked_keys_is_bounded(body: str) -> None:
    start = time.perf_counter()
    ticked_keys(body[:65_536])
    ticked_keys(body * 20)  # past GitHub's limit: cut, not scanned
    assert time.perf_counter() - start < 1.0


names = st.text(min_size=1, max_size=40)


LONG_ONCE_ENCODED = "000;;;" + "\x80" * 11 + "\U00010000" * 10  # a key past 600 encoded


@settings(max_examples=150, deadline=None)
@given(app=names, env=names, version=names, tick=st.booleans())
@example(app=LONG_ONCE_ENCODED, env=LONG_ONCE_ENCODED, version=LONG_ONCE_ENCODED, tick=True)
def test_any_names_round_trip_and_inject_nothing(
    app: str, env: str, version: str, tick: bool
) -> None:
    item = _behind(app, "dev", env, version, None, detail=f"{app} {version}")
    report = DriftReport(
        "acme/gitops",
        ("dev", env),
        {app: {"dev": version, env: None}},
        (PairDrift("dev", env, behind=(item,)),),
    )
    body = render_issue(report, web_url=WEB, ticked=frozenset({item.key}) if tick else frozenset())
    assert ticked_keys(body) == ({item.key} if tick else set())
    assert extract(body) == Meta(kind="drift-report", repo="acme/gitops")
    assert body.count("<!--") == 2  # the checkbox's key and the marker, nothing a name opened
    assert body.count("-->") == 2 + (env != "dev")  # the Mermaid edge
    assert body.count("<details>") == body.count("</details>") == 1
    assert body.count("```") == 2
    (summary,) = re.findall(r"<summary>(.*)</summary>", body)
    assert re.fullmatch(r"[^<>\"'`\[\]|]*", summary)


@settings(max_examples=100, deadline=None)
@given(env=names)
def test_mermaid_labels_stay_inside_quotes(env: str) -> None:
    body = render_issue(DriftReport("o/r", ("dev", env), {}, (PairDrift("dev", env),)), web_url=WEB)
    block = body.split("```mermaid\n", 1)[1].split("```", 1)[0]
    for line in block.splitlines()[1:]:
        assert re.fullmatch(r'  e\d+\["[A-Za-z0-9 ._/:#;-]*"\]|  e\d+ --> e\d+', line), line


def _big(apps: int) -> DriftReport:
    envs = ("dev", "staging", "prod")
    running = {
        f"app-{i:04d}": {"dev": "2.0.0", "staging": "1.5.0", "prod": "1.0.0"} for i in range(apps)
    }
    pairs = tuple(
        PairDrift(
            up,
            env,
            behind=tuple(_behind(f"app-{i:04d}", up, env, "2.0.0", "1.0.0") for i in range(apps)),
            values=tuple(
                ValueDelta(f"app-{i:04d}/values.yaml", "", "replicas", 1, 2) for i in range(apps)
            ),
        )
        for up, env in (("dev", "staging"), ("staging", "prod"))
    )
    return DriftReport("acme/gitops", envs, running, pairs)


def test_two_thousand_apps_drop_to_summary_lines_and_the_json_link() -> None:
    report = _big(2_000)
    body = render_issue(report, web_url=WEB, json_url="https://example.com/drift.json")
    assert len(body) <= ISSUE_LIMIT
    assert extract(body) == Meta(kind="drift-report", repo="acme/gitops")
    assert "[the whole report as JSON](https://example.com/drift.json)" in body
    assert "8000 differences between 2 environment pairs" in body
    assert "- dev → staging: 2000 behind, 2000 values differ" in body
    assert "<details>" not in body
    assert len(render_text(report)) > ISSUE_LIMIT  # the terminal shows everything
    assert len(report_json(report)["pairs"][1]["behind"]) == 2_000


def test_a_middling_report_collapses_its_details_first() -> None:
    report = _big(200)
    full = render_issue(report, web_url=WEB, limit=10**9)
    assert "<details>" in full and len(full) > ISSUE_LIMIT
    body = render_issue(report, web_url=WEB, json_url="https://example.com/d.json")
    assert len(body) <= ISSUE_LIMIT
    assert "<details>" not in body
    assert "- dev → staging: 200 behind, 200 values differ" in body
    assert "- [ ] open a sync PR staging -> prod for app-0199 2.0.0" in body  # ticks still work
    assert "the whole report as JSON" in body


@pytest.mark.parametrize("limit", [0, 1, 40, 80, 200, 500, 1_000, 3_000, 20_000, ISSUE_LIMIT])
@pytest.mark.parametrize("apps", [1, 300])
def test_never_over_the_limit(limit: int, apps: int) -> None:
    body = render_issue(_big(apps), web_url=WEB, json_url="https://example.com/x.json", limit=limit)
    assert len(body) <= limit


def test_links_need_a_web_host() -> None:
    body = render_issue(REPORT, web_url="https://ghe.example.com/")
    assert "[#7](https://ghe.example.com/acme/gitops/issues/7)" in body
    assert "[#12](https://ghe.example.com/acme/gitops/pull/12)" in body
    assert f"[`0f1e2d3`](https://ghe.example.com/acme/gitops/commit/{SHA_B})" in body
    plain = render_issue(REPORT, web_url="javascript:alert(1)")
    assert "javascript" not in plain
    assert plain.count("](") == 1  # only the commit whose own url the audit gave


def _outputs(report: DriftReport) -> list[str]:
    return [
        render_issue(report, web_url=WEB),
        render_issue(report, web_url=WEB, limit=3_000),
        render_text(report),
        render_text(report, width=400),
        json.dumps(report_json(report)),
        json.dumps(report_json(report), ensure_ascii=False),
    ]


@pytest.mark.parametrize("secret", SECRETS)
def test_hidden_values_never_leave(secret: str) -> None:
    planted = PairDrift(
        "staging",
        "prod",
        values=(
            ValueDelta("secrets.yaml", "", "db.password", secret, SECRETS[0], sensitive=True),
            ValueDelta(
                "secrets.yaml",
                "Secret/api",
                "stringData",
                {"token": secret},
                ABSENT,
                sensitive=True,
            ),
            ValueDelta("values.yaml", "", "env", [secret, "x"], ["y"], sensitive=True),
        ),
    )
    report = DriftReport("acme/gitops", ("staging", "prod"), {}, (planted, *PROD_ONLY_SECRETS))
    windows = {secret[i : i + 6] for i in range(len(secret) - 5)}
    for output in _outputs(report) + _outputs(REPORT):
        leaked = [w for w in windows if w in output]
        assert not leaked, leaked
    assert HIDDEN in render_text(report)
    assert report_json(report)["pairs"][0]["values"][0]["old"] == {"hidden": True}


PROD_ONLY_SECRETS = (
    PairDrift(
        "dev",
        "staging",
        values=tuple(
            ValueDelta("s.yaml", "", f"k{i}", s, s, sensitive=True) for i, s in enumerate(SECRETS)
        ),
    ),
)


def test_text_is_plain_and_fits_the_width() -> None:
    report = DriftReport(
        "acme/gitops",
        ("dev", "prod"),
        {"a\x1b[31mred\x1b[0m": {"dev": "1\r\n2", "prod": "x" * 300}},
        (PairDrift("dev", "prod", only_here=("\x1b]0;title\x07evil.yaml",)),),
    )
    text = render_text(report, width=40)
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert all(len(line) <= 40 for line in text.splitlines())
    assert text.startswith("Drift in acme/gitops: 1 difference betw…\n")


def test_json_is_json_with_utc_times() -> None:
    east = timezone(timedelta(hours=2))
    pair = PairDrift(
        "dev",
        "prod",
        behind=(
            _behind(
                "api", "dev", "prod", "2", "1", since=datetime(2026, 11, 20, 11, 30, tzinfo=east)
            ),
        ),
        values=(
            ValueDelta("v.yaml", "", "a", float("nan"), float("inf")),
            ValueDelta("v.yaml", "", "b", datetime(2026, 1, 1, 12), ABSENT),
            ValueDelta("v.yaml", "", "c", {1: b"raw"}, [None, True, 1.5]),
        ),
        commits_ahead=(Commit("abc", "bob", datetime(2026, 11, 20, 9, 30), "x"),),
    )
    data = report_json(
        DriftReport("o/r", ("dev", "prod"), {"api": {"prod": "1", "dev": "2", "qa": "3"}}, (pair,))
    )
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert list(data) == [
        "repo",
        "environments",
        "count",
        "summary",
        "running",
        "holds",
        "pairs",
        "syncs",
        "skipped",
    ]
    assert list(data["running"]["api"]) == ["dev", "prod", "qa"]
    (out,) = data["pairs"]
    assert out["behind"][0]["since"] == "2026-11-20T09:30:00Z"
    assert out["commits_ahead"][0]["at"] == "2026-11-20T09:30:00Z"
    assert [v["old"] for v in out["values"]] == ["nan", "2026-01-01T12:00:00Z", {"1": "b'raw'"}]
    assert [v["new"] for v in out["values"]] == ["inf", {"absent": True}, [None, True, 1.5]]
    assert data["syncs"] == ["sync:api:prod:2"]


def test_links_go_to_the_environments_own_repository() -> None:
    report = replace(REPORT, repos={"staging": "acme/staging-env"})
    body = render_issue(report, web_url=WEB)
    assert f"{WEB}/acme/staging-env/pull/41" in body


def test_box_keys_and_untick() -> None:
    body = render_issue(REPORT, web_url=WEB, ticked=frozenset({"sync:api:prod:1.4.0"}))
    assert box_keys(body) == {"sync:api:prod:1.4.0": True} | {
        k: False for k in box_keys(body) if k != "sync:api:prod:1.4.0"
    }
    assert ticked_keys(untick(body, frozenset({"sync:api:prod:1.4.0"}))) == frozenset()
    assert untick(body, frozenset({"sync:other:prod:1"})) == body
