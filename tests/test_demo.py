"""``promotion-bot demo``: the whole story against the real sandbox and bot, and the step runner
on its own."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.catalog import builtin_policies
from bot.cli.demo import FAIL, PASS, STARTING, STOPPED, print_step, print_summary
from bot.core.config import parse_config
from bot.core.files.yamlscan import find_images
from bot.demo import content
from bot.demo.links import broken_links
from bot.demo.scene import Scene, Step, StepReport, Verdict, describe, play
from bot.demo.story import STEPS

DEMO_TIMEOUT_S = 90
DOC = Path(__file__).parent.parent / "docs" / "demo.md"


@pytest.mark.e2e
def test_demo_plays_every_step_and_exits_zero(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    # A settings file in the working directory must not reach the demo's bot.
    (tmp_path / ".env").write_text("PROMOTION_BOT_WEBHOOK_SECRET=changeme\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--no-wait"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for index, step in enumerate(STEPS, start=1):
        assert any(
            line.startswith(PASS) and line.endswith(f"{index}/{len(STEPS)} {step.name}")
            for line in lines
        ), done.stdout
    assert f"{PASS} all {len(STEPS)} steps happened" in done.stdout
    assert lines[0] == STARTING and lines[-1] == STOPPED  # said at once; says how to browse
    assert "/acme/environments/pull/3" in done.stdout  # the prod PR's page
    assert "Waiting: prod requires 24h in staging" in done.stdout
    # The compare and release-notes links of each promotion PR a line describes answer 200 (the
    # dev PRs of step 3, where the branch repository's is "too", staging, step 8's dev PRs), so
    # the app repository holds the tags and releases; step 7 passing says the prod PR's do.
    assert done.stdout.count("its 2 links answer 200") == 4, done.stdout
    assert "released as v1.3.0" in done.stdout


@pytest.mark.parametrize(
    ("body", "broken"),
    [
        ("no links at all", []),
        (
            "[compare](https://github.com/acme/api/compare/v1.3.0...v1.4.0)",
            ["https://github.com/acme/api/compare/v1.3.0...v1.4.0 outside http://127.0.0.1:1"],
        ),
        # Another port of the same host is another server.
        (
            "[x](http://127.0.0.1:10/acme/api)",
            ["http://127.0.0.1:10/acme/api outside http://127.0.0.1:1"],
        ),
    ],
)
def test_links_outside_the_sandbox_are_broken_unfollowed(body: str, broken: list[str]) -> None:
    assert broken_links(body, base_url="http://127.0.0.1:1") == broken


def test_demo_refuses_a_data_dir_in_use(tmp_path: Path) -> None:
    (tmp_path / "left-over").write_text("x", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--no-wait", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 2
    assert "--data must be a new or empty directory" in done.stderr


def _raise(scene: Scene) -> None:
    raise RuntimeError("sandbox unreachable") from OSError("connection refused")


def _quiet(scene: Scene) -> None:
    """An action with nothing to do."""


def _seen(scene: Scene) -> Verdict:
    return Verdict(True, "seen", ("http://127.0.0.1:1/acme/env/pull/1",))


def _never(scene: Scene) -> Verdict:
    return Verdict(False, "no PR yet")


def _broken(scene: Scene) -> Verdict:
    raise KeyError("number")


@pytest.mark.parametrize(
    ("steps", "passed", "last_detail"),
    [
        ([Step("a", _quiet, _seen), Step("b", _quiet, _seen)], [True, True], "seen"),
        (
            [Step("a", _raise, _seen), Step("b", _quiet, _seen)],
            [False],
            "action failed: RuntimeError: sandbox unreachable <- OSError: connection refused",
        ),
        (
            [Step("a", _quiet, _seen), Step("b", _quiet, _never, 0.2), Step("c", _quiet, _seen)],
            [True, False],
            "not seen within 0s: no PR yet",
        ),
        (
            [Step("a", _quiet, _broken, 0.2)],
            [False],
            "not seen within 0s: check failed: KeyError: 'number'",
        ),
    ],
)
def test_play_stops_at_the_first_failing_step(
    tmp_path: Path, steps: list[Step], passed: list[bool], last_detail: str
) -> None:
    reported: list[tuple[int, StepReport]] = []
    results = play(steps, Scene(tmp_path), lambda i, r: reported.append((i, r)))
    assert [r.passed for r in results] == passed
    assert results[-1].detail == last_detail
    assert [i for i, _ in reported] == list(range(1, len(passed) + 1))


def test_describe_follows_causes() -> None:
    try:
        _raise(Scene(Path(".")))
    except RuntimeError as err:
        assert describe(err) == "RuntimeError: sandbox unreachable <- OSError: connection refused"


@pytest.mark.parametrize(
    ("results", "expected", "ok"),
    [
        (
            [StepReport("a", True, 1.0, "d", ()), StepReport("b", True, 2.5, "d", ())],
            f"\n{PASS} all 2 steps happened in 2.5s\n",
            True,
        ),
        (
            [StepReport("a", True, 1.0, "d", ()), StepReport("b", False, 3.0, "x", ())],
            f"\n{FAIL} failed at step 2/2 (b) after 3.0s\n  state and log kept: demo.log\n",
            False,
        ),
    ],
)
def test_summary(results: list[StepReport], expected: str, ok: bool) -> None:
    out = io.StringIO()
    assert print_summary(results, 2, Path("demo.log"), out) is ok
    assert out.getvalue() == expected


def test_a_failed_summary_shows_the_last_problems_of_the_log(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    records = [
        {"level": "INFO", "logger": "bot.web", "msg": "worker started"},
        {"level": "WARNING", "logger": "bot.worker", "msg": "job waits: rate limited"},
        {"level": "ERROR", "logger": "bot.worker", "msg": "dead-lettered job: boom"},
    ]
    log.write_text("\n".join([*map(json.dumps, records), "not json"]) + "\n", encoding="utf-8")
    out = io.StringIO()
    print_summary([StepReport("b", False, 3.0, "x", ())], 2, log, out)
    assert out.getvalue().splitlines()[-2:] == [
        "  log: WARNING bot.worker: job waits: rate limited",
        "  log: ERROR bot.worker: dead-lettered job: boom",
    ]


def test_step_line_has_mark_time_name_detail_and_links() -> None:
    out = io.StringIO()
    print_step(3, 7, StepReport("merge", False, 12.34, "why", ("http://x/1", "http://x/2")), out)
    assert out.getvalue().splitlines() == [
        f"{FAIL}  12.3s  3/7 merge",
        "           why",
        "           http://x/1",
        "           http://x/2",
    ]


@pytest.mark.parametrize("text", [content.DIRECTORY_CONFIG, content.BRANCH_CONFIG])
def test_the_demo_configs_are_valid(text: str) -> None:
    config = parse_config(text, builtin=builtin_policies())
    assert [env.name for env in config.environments] == list(content.ENVIRONMENTS)
    assert config.policy_for(content.APP, "prod").soak is not None


def test_the_doc_shows_the_config_the_demo_uses() -> None:
    shown = re.search(r"```yaml config\n(.*?)```", DOC.read_text("utf-8"), re.DOTALL)
    assert shown is not None
    assert shown.group(1) == content.DIRECTORY_CONFIG


@pytest.mark.parametrize("env", content.ENVIRONMENTS)
def test_each_values_file_holds_the_image_once(env: str) -> None:
    found = find_images(content.values(env), file="values.yaml")
    assert [(i.repository, i.tag) for i in found] == [(content.IMAGE, content.RUNNING)]
