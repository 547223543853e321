"""``promotion-bot versions match|pick`` run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


def test_match_prints_one_verdict_per_version(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["versions", "match", "~1.4", "1.4.2", "1.5", "junk", "v1.4", "1.4.3-rc.1"])
    out = capsys.readouterr().out
    assert code == 0
    assert out == "1.4.2\ttrue\n1.5\tfalse\njunk\tinvalid\nv1.4\ttrue\n1.4.3-rc.1\tfalse\n"


def test_match_prerelease_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["versions", "match", "--prerelease", "~1.4", "1.4.3-rc.1"]) == 0
    assert capsys.readouterr().out == "1.4.3-rc.1\ttrue\n"


def test_match_invalid_constraint_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["versions", "match", ">= bar", "1.0.0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "constraint='>= bar'" in captured.err


def test_pick_with_a_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text('scheme: semver\nconstraint: "^1"\nprerelease: false\n', encoding="utf-8")
    code = main(
        ["versions", "pick", "--policy", str(policy), "1.2.0", "1.9.1", "2.0.0", "1.10.0-rc.1"]
    )
    assert code == 0
    assert capsys.readouterr().out == "1.9.1\n"


def test_pick_with_a_builtin_policy_and_current(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["versions", "pick", "--policy", "patch", "--current", "1.4.2", "1.4.3", "1.5.0"])
    assert (code, capsys.readouterr().out) == (0, "1.4.3\n")


def test_pick_prints_the_digest_when_given(capsys: pytest.CaptureFixture[str]) -> None:
    digest = "sha256:" + "0" * 64
    assert main(["versions", "pick", "--policy", "auto", f"1.0.0@{digest}", "0.9.0"]) == 0
    assert capsys.readouterr().out == f"1.0.0@{digest}\n"


def test_pick_nothing_qualifies_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["versions", "pick", "--policy", "patch", "--current", "1.4.2", "1.5.0"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert "no semver tag is newer than 1.4.2 within a patch update" in captured.err


@pytest.mark.parametrize(
    "content",
    [
        'constraint: ">= bar"\n',
        "scheme: numerical\nconstraint: '^1'\n",
        "pattern: '^test-(.*'\n",
        "colour: blue\n",
    ],
)
def test_pick_bad_policy_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    policy = tmp_path / "bad.yml"
    policy.write_text(content, encoding="utf-8")
    assert main(["versions", "pick", "--policy", str(policy), "1.0.0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("promotion-bot versions pick: policy=")


def test_pick_unknown_policy_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["versions", "pick", "--policy", "no-such-policy", "1.0.0"]) == 2
    assert "no-such-policy" in capsys.readouterr().err
