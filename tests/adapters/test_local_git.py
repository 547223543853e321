"""Reading a local clone with git: every planted difference is reported, and nothing else."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.local_git import (
    LocalClone,
    LocalGitError,
    remote_slug,
)
from bot.cli.drift import audit_clone
from bot.core.drift.history import promotion_pull
from bot.core.drift.model import DriftReport, PairDrift
from bot.core.files.bounds import LINK_REASON, NOT_TEXT_REASON
from tests.adapters import gitrepos

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def summary(pair: PairDrift) -> dict[str, list[str]]:
    """What a pair reports, as short strings; empty kinds left out."""
    found = {
        "behind": [f"{b.app} {b.running}->{b.version} {b.status}" for b in pair.behind],
        "ahead": [f"{b.app} {b.running}" for b in pair.ahead],
        "values": [f"{v.file}: {v.path} {v.old!r}->{v.new!r}" for v in pair.values],
        "only_upstream": list(pair.only_upstream),
        "only_here": list(pair.only_here),
        "text_differs": list(pair.text_differs),
        "commits_ahead": [c.sha for c in pair.commits_ahead],
        "commits_behind": [c.sha for c in pair.commits_behind],
        "direct": [c.sha for c in pair.direct],
    }
    return {kind: items for kind, items in found.items() if items}


def summaries(report: DriftReport) -> dict[str, dict[str, list[str]]]:
    return {f"{p.upstream}->{p.environment}": summary(p) for p in report.pairs}


def test_directories_of_one_branch(tmp_path: Path) -> None:
    planted = gitrepos.dirs_repo(tmp_path / "repo")
    report, web_url = audit_clone(tmp_path / "repo", now=NOW)
    assert summaries(report) == {
        "dev->staging": {},
        "staging->prod": {
            "behind": ["api 1.4.0->1.5.0 pending"],
            "values": ["web.yaml: replicas 2->5"],
            "only_here": ["extra.yaml"],
            "direct": [planted["hand"]],
        },
    }
    assert report.count == 4
    assert report.environments == ("dev", "staging", "prod")  # edge lives elsewhere
    assert report.running == {"api": {"dev": "1.5.0", "staging": "1.5.0", "prod": "1.4.0"}}
    assert report.skipped == {
        "edge: (environment)": "in another repository (acme/elsewhere), "
        "which a local clone does not hold",
        "prod: big.yaml": "2 MiB, over the 1 MiB the bot reads",
        "prod: blob.yaml": NOT_TEXT_REASON,
        "prod: bomb.yaml": "over 250,000 YAML nodes once its aliases are expanded",
        "prod: link.yaml": LINK_REASON,
    }
    assert web_url == "https://github.com"  # origin is a local path: github.com by default


def test_one_branch_per_environment_from_remote_tracking_branches(tmp_path: Path) -> None:
    clone, planted = gitrepos.branches_repo(tmp_path)
    assert gitrepos.git(clone, "branch", "--list") == "* main"  # no local env branch
    report, _ = audit_clone(clone, now=NOW)
    assert summaries(report) == {
        "dev->staging": {},
        "staging->prod": {
            "behind": ["api 1.4.0->1.5.0 pending"],
            "values": ["web.yaml: timeout ABSENT->30"],
            "commits_ahead": [planted["hotfix"]],  # a hotfix not brought back
            "direct": [planted["hotfix"]],  # and it came through no promotion PR
        },
    }
    assert report.skipped == {}
    (hotfix,) = report.pairs[1].commits_ahead
    assert (hotfix.author, hotfix.message, hotfix.promotion) == (
        "Alice",
        "hotfix: a timeout",
        False,
    )
    assert hotfix.at is not None and hotfix.at.tzinfo is not None


def test_a_local_branch_wins_over_its_remote_tracking_one(tmp_path: Path) -> None:
    clone, _ = gitrepos.branches_repo(tmp_path)
    # A local prod that has caught up with staging: in sync, save the hotfix still ahead.
    gitrepos.git(clone, "checkout", "-q", "-b", "prod", "origin/prod")
    gitrepos.commit(clone, "Promote api 1.5.0 to prod (#3)", {"api.yaml": gitrepos.api("1.5.0")})
    report, _ = audit_clone(clone, now=NOW)
    assert set(summaries(report)["staging->prod"]) == {"values", "commits_ahead", "direct"}


def test_an_environment_whose_branch_is_nowhere_is_skipped(tmp_path: Path) -> None:
    clone, _ = gitrepos.branches_repo(tmp_path)
    gitrepos.git(clone, "branch", "-r", "-d", "origin/prod")
    report, _ = audit_clone(clone, now=NOW)
    assert [f"{p.upstream}->{p.environment}" for p in report.pairs] == ["dev->staging"]
    assert "neither a local branch nor origin/prod" in report.skipped["prod: (environment)"]


def test_in_sync(tmp_path: Path) -> None:
    gitrepos.in_sync_repo(tmp_path / "repo")
    report, _ = audit_clone(tmp_path / "repo", now=NOW)
    assert report.count == 0
    assert report.skipped == {}


class Recording(LocalClone):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.read: list[str] = []

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        wanted = list(shas)
        self.read += wanted
        return super().read_blobs(wanted)


def test_a_file_too_big_is_never_read_and_one_git_process_reads_all_blobs(tmp_path: Path) -> None:
    from bot.adapters.catalog import builtin_policies  # noqa: PLC0415
    from bot.adapters.local_git import config_text, read_clone  # noqa: PLC0415
    from bot.core.config import parse_config  # noqa: PLC0415

    gitrepos.dirs_repo(tmp_path / "repo")
    clone = Recording(tmp_path / "repo")
    default = clone.default_branch()
    config = parse_config(config_text(clone, default[1]), builtin=builtin_policies())
    read_clone(clone, config, repo="acme/gitops", default=default, progress=lambda d, t: None)
    big = gitrepos.git(tmp_path / "repo", "rev-parse", "HEAD:envs/prod/big.yaml")
    link = gitrepos.git(tmp_path / "repo", "rev-parse", "HEAD:envs/prod/link.yaml")
    assert big not in clone.read and link not in clone.read
    assert len(clone.read) == len(set(clone.read))  # each distinct blob once


def test_progress_counts_every_file(tmp_path: Path) -> None:
    gitrepos.in_sync_repo(tmp_path / "repo")
    seen: list[tuple[int, int]] = []
    audit_clone(tmp_path / "repo", now=NOW, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(LocalGitError, match=r"not a git repository|rev-parse"):
        LocalClone(tmp_path).check()


def test_no_config_on_the_default_branch(tmp_path: Path) -> None:
    gitrepos.git(tmp_path, "init", "-q")
    gitrepos.commit(tmp_path, "first", {"x.yaml": "a: 1\n"})
    with pytest.raises(LocalGitError, match=r"no \.github/promotion\.yml"):
        audit_clone(tmp_path, now=NOW)


def test_the_default_branch_is_what_origin_head_names(tmp_path: Path) -> None:
    clone, _ = gitrepos.branches_repo(tmp_path)
    gitrepos.git(clone, "checkout", "-q", "-b", "elsewhere", "origin/dev")
    assert LocalClone(clone).default_branch() == ("main", "refs/heads/main")
    gitrepos.git(clone, "remote", "set-head", "origin", "-d")
    assert LocalClone(clone).default_branch() == ("elsewhere", "refs/heads/elsewhere")
    gitrepos.git(clone, "checkout", "-q", "--detach")
    assert LocalClone(clone).default_branch() == ("HEAD", "HEAD")


def test_git_missing() -> None:
    with pytest.raises(LocalGitError, match="running git failed"):
        LocalClone(Path("."), git="/nonexistent/git").run("status")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Merge pull request #12 from acme/promotion/api/prod", (12, True)),
        ("Merge pull request #12 from acme/promotion/my%2Fapp/prod", (12, True)),
        ("Merge pull request #13 from alice/hotfix", (13, False)),
        ("Merge pull request #14 from acme/promotion/api", (14, False)),
        ("Promote api 1.4.0 to prod (#15)", (15, True)),
        ("Promote api, web to prod (2 images) (#16)", (16, True)),
        ("Roll back api in prod to 1.3.0 (#17)", (17, True)),
        ("Bump replicas (#18)", (18, False)),
        ("Promote api 1.4.0 to prod", (None, False)),  # no PR: pushed by hand
        ("more replicas by hand", (None, False)),
    ],
)
def test_promotion_pull(subject: str, expected: tuple[int | None, bool]) -> None:
    assert promotion_pull(subject) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/env.git", ("https://github.com", "acme/env")),
        ("git@github.com:acme/env.git", ("https://github.com", "acme/env")),
        ("ssh://git@github.com:22/acme/env.git", ("https://github.com", "acme/env")),
        ("https://x-access-token:t@ghe.example/acme/env", ("https://ghe.example", "acme/env")),
        ("/srv/git/env", None),
        ("../env", None),
        ("file:///srv/git/acme/env", None),
        ("https://github.com/acme/env/extra", None),
    ],
)
def test_remote_slug(url: str, expected: tuple[str, str] | None) -> None:
    assert remote_slug(url) == expected


def test_the_repository_name_comes_from_origin(tmp_path: Path) -> None:
    gitrepos.dirs_repo(tmp_path / "repo")
    gitrepos.git(tmp_path / "repo", "remote", "add", "origin", "git@github.com:acme/elsewhere")
    report, web_url = audit_clone(tmp_path / "repo", now=NOW)
    # Now edge is in this repository (an empty envs/edge): read, not skipped.
    assert report.repo == "acme/elsewhere" and web_url == "https://github.com"
    assert "edge" in report.environments
    direct = report.pairs[1].direct[0]
    assert direct.url == f"https://github.com/acme/elsewhere/commit/{direct.sha}"


def test_git_runs_without_a_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands: list[list[str]] = []
    real = subprocess.run

    def spy(command: list[str], **kwargs: object) -> object:
        commands.append(command)
        assert "shell" not in kwargs
        return real(command, **kwargs)  # type: ignore[call-overload]

    gitrepos.in_sync_repo(tmp_path / "repo")
    monkeypatch.setattr(subprocess, "run", spy)
    audit_clone(tmp_path / "repo", now=NOW)
    verbs = [c[3] for c in commands]
    assert verbs.count("cat-file") == 2  # the config, then every environment's blobs at once
    assert verbs.count("ls-tree") == 1 + 4  # .github, then one per environment
