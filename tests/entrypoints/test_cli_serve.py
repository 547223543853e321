"""``promotion-bot replay`` and ``serve`` (its refusal path) and the JSON log lines."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pytest

from bot.cli.serve import register
from bot.logs import JsonFormatter
from bot.settings import get_settings
from tests.entrypoints.payloads import DATA


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_replay_prints_the_events(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "api.github.com/pull_request/closed.payload.json"
    assert run(["replay", "pull_request", str(path)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    event = json.loads(line)
    assert (event["event"], event["repo"], event["number"], event["merged"]) == (
        "PullClosed",
        "Codertocat/Hello-World",
        2,
        False,
    )
    assert event["serial_key"] == "installation:1"  # the installation the delivery names


def test_replay_of_an_ignored_event(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["replay", "ping", str(DATA / "api.github.com/ping/payload.json")]) == 0
    assert capsys.readouterr().out.strip() == "no events: event=ping is ignored"


def test_replay_of_a_wrong_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"action": "closed", "pull_request": {}}')
    assert run(["replay", "pull_request", str(path)]) == 1
    assert "payload of the wrong shape" in capsys.readouterr().err


def test_replay_of_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["replay", "push", str(tmp_path / "none.json")]) == 2
    assert "cannot read file=" in capsys.readouterr().err


def test_serve_refuses_placeholder_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROMOTION_BOT_WEBHOOK_SECRET", "changeme")
    get_settings.cache_clear()
    try:
        assert run(["serve", "--port", "0"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "PROMOTION_BOT_WEBHOOK_SECRET is a placeholder" in err and "changeme" not in err


def test_json_log_line_has_the_context_fields() -> None:
    record = logging.LogRecord(
        "bot.intake", logging.INFO, __file__, 1, "accepted x=%s", ("y",), None
    )
    record.delivery_id, record.installation_id, record.job_id = "d-1", 5, 3
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "accepted x=y" and line["level"] == "INFO"
    assert (line["delivery_id"], line["installation_id"], line["job_id"]) == ("d-1", 5, 3)
    assert "repo" not in line and line["ts"].endswith("+00:00")
