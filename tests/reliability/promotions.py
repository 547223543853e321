"""What the scenarios read back from the sandbox once the bot is done: each app's dev PRs, the
tag on its promotion branch and the commits that branch adds (``tests.e2e.burst``'s layout:
``envs/dev/<app>.yaml`` edited on ``promotion/<app>/dev``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.demo.harness import GitHubView, Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls


@dataclass(frozen=True)
class Promotions:
    """Per app: its dev PRs (open or closed), its branch's tag and the commits its PR adds."""

    pulls: dict[str, list[dict[str, Any]]]
    tags: dict[str, str]
    commits: dict[str, int]

    def duplicated(self) -> int:
        """PRs beyond one per app, and commits beyond one per PR."""
        extra_pulls = sum(max(len(found) - 1, 0) for found in self.pulls.values())
        return extra_pulls + sum(max(n - 1, 0) for n in self.commits.values())

    def lost(self, expected: Mapping[str, str]) -> int:
        """Apps of ``expected`` (app -> tag) without a PR proposing that tag."""
        return sum(1 for app, tag in expected.items() if self.tags.get(app) != tag)


def dev_pulls(view: GitHubView, repos: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for repo in repos:
        for pull in view.pulls(repo, "all"):
            app = pull["head"]["ref"].removeprefix("promotion/").removesuffix("/dev")
            found.setdefault(app, []).append(pull)
    return found


def read_promotions(view: GitHubView, repo_of: Mapping[str, str]) -> Promotions:
    """The promotions of every app of ``repo_of`` (app -> its environment repository)."""
    pulls = dev_pulls(view, set(repo_of.values()))
    tags, commits = {}, {}
    for app, found in pulls.items():
        repo = repo_of[app]
        text = view.file(repo, f"envs/dev/{app}.yaml", f"promotion/{app}/dev")
        tags[app] = text.rsplit("tag: ", 1)[1].strip()
        commits[app] = len(view.get(f"/repos/{repo}/pulls/{found[0]['number']}/commits"))
    return Promotions(pulls, tags, commits)


def settle(stack: Stack, timeout: float) -> None:
    """Every webhook delivered and the bot's queue empty, twice in a row (a job's PR sends a
    webhook the bot queues after the job is done)."""

    def idle() -> bool:  # the sandbox's deliveries all sent, then the bot's queue empty
        return stack.admin.run(calls.flush_deliveries()) and stack.bot.idle()

    wait_until(lambda: idle() and idle(), "the bot's queue to drain", timeout)
