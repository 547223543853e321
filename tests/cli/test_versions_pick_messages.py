"""``versions pick``: an unreadable ``--current`` or tag is a plain exit 2, and a pick that found
only pre-releases says so."""

from __future__ import annotations

import pytest

from bot.cli import main

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "current", ["", "1.0.0@sha256:zz", "1.0.0@", "\udcff", "1.0 0", "-1.0"], ids=repr
)
def test_an_unreadable_current_is_a_plain_usage_error(current, capsys):
    assert main(["versions", "pick", "--policy", "minor", "--current", current, "1.0.1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("promotion-bot versions pick: --current is not a Docker tag")
    assert repr(current) in err and "Traceback" not in err


def test_an_unreadable_tag_is_a_plain_usage_error(capsys):
    assert main(["versions", "pick", "--policy", "minor", "1.0.1", "bad\udcfftag"]) == 2
    assert "TAG is not a Docker tag" in capsys.readouterr().err


def test_a_current_outside_the_scheme_is_still_read(capsys):
    assert main(["versions", "pick", "--policy", "minor", "--current", "latest", "1.0.1"]) == 0
    assert capsys.readouterr().out == "1.0.1\n"
    assert (
        main(["versions", "pick", "--policy", "minor", "--current", f"1.0.0@{DIGEST}", "1.0.1"])
        == 0
    )


def test_only_pre_releases_says_pre_release(capsys):
    argv = [
        "versions",
        "pick",
        "--policy",
        "minor",
        "--current",
        "1.0.0",
        "1.1.0-rc.1",
        "2.0.0-beta.1",
    ]
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        "promotion-bot versions pick: no semver tag among 2 tags given; 2 are pre-releases "
        "(1.1.0-rc.1, 2.0.0-beta.1), which the policy does not accept (prerelease: false)\n"
    )


def test_a_constraint_refusing_a_pre_release_says_pre_release(capsys):
    assert main(["versions", "pick", "--policy", "stable", "--current", "1.0.0", "1.1.0-rc.1"]) == 1
    err = capsys.readouterr().err
    assert '"1.1.0-rc.1" is a pre-release version' in err and "prerelease version" not in err


def test_a_policy_that_takes_pre_releases_picks_them(capsys):
    assert main(["versions", "pick", "--policy", "prerelease", "1.0.0", "1.1.0-rc.1"]) == 0
    assert capsys.readouterr().out == "1.1.0-rc.1\n"
