"""The demo's story as data: each step is a name, an action (what a person or CI does) and a
check (what the bot must have done), polled until it holds or its deadline passes.

``play(steps, scene, report)`` runs them in order and stops at the first step that fails: later
steps build on earlier ones. The checks read the sandbox through its REST API as a person would,
and compare files byte for byte with what the edit must produce.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.demo import content as c
from bot.demo.harness import GitHubView, Stack, merge_as, open_pull_as, seed_people, start_stack
from bot.sandbox import admin_client as calls
from bot.sandbox.admin_client import UserToken

POLL_S = 0.1
CHECK_NAME = "promotion-policy"
BOT_LOGIN = "promotion-bot[bot]"
ENV_REPO = f"{c.ORG}/{c.ENV_REPO}"
BRANCH_REPO = f"{c.ORG}/{c.BRANCH_REPO}"
FIRST, NEWER, HOTFIX_BRANCH = "1.4.0", "1.4.1", "alice/prod-hotfix"


class StepFailed(Exception):
    """An action could not be done; the message says what and why."""


@dataclass(frozen=True)
class Verdict:
    """One look at the world: whether the step's outcome is there, what was seen, and links."""

    done: bool
    detail: str
    links: tuple[str, ...] = ()


@dataclass
class Scene:
    """What the steps share: where the demo runs and what earlier steps found."""

    data_dir: Path
    sandbox_port: int = 0
    stack: Stack | None = None
    people: dict[str, UserToken] = field(default_factory=dict)
    pulls: dict[str, int] = field(default_factory=dict)  # "dev", "branch-dev", ... -> number
    _view: GitHubView | None = None

    @property
    def running(self) -> Stack:
        if self.stack is None:
            raise StepFailed("the sandbox and the bot are not running")
        return self.stack

    @property
    def view(self) -> GitHubView:
        """REST reads as the developer."""
        if self._view is None:
            self._view = self.running.view(self.people[c.DEVELOPER].token)
        return self._view

    def close(self) -> None:
        if self._view is not None:
            self._view.close()
        if self.stack is not None:
            self.stack.stop()


@dataclass(frozen=True)
class Step:
    name: str
    act: Callable[[Scene], None]
    check: Callable[[Scene], Verdict]
    deadline_s: float = 20.0


@dataclass(frozen=True)
class StepReport:
    name: str
    passed: bool
    elapsed_s: float  # since the story began
    detail: str
    links: tuple[str, ...]


def play(
    steps: Sequence[Step], scene: Scene, report: Callable[[int, StepReport], None]
) -> list[StepReport]:
    """Run ``steps`` in order, calling ``report(index, result)`` after each; stop at a failure."""
    began = time.monotonic()
    results: list[StepReport] = []
    for index, step in enumerate(steps, start=1):
        verdict = _run(step, scene)
        result = StepReport(
            step.name, verdict.done, time.monotonic() - began, verdict.detail, verdict.links
        )
        results.append(result)
        report(index, result)
        if not result.passed:
            break
    return results


def _run(step: Step, scene: Scene) -> Verdict:
    try:
        step.act(scene)
    except Exception as err:
        return Verdict(False, f"action failed: {describe(err)}")
    deadline = time.monotonic() + step.deadline_s
    while True:
        try:
            verdict = step.check(scene)
        except Exception as err:
            verdict = Verdict(False, f"check failed: {describe(err)}")
        if verdict.done or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    if verdict.done:
        return verdict
    return Verdict(
        False, f"not seen within {step.deadline_s:.0f}s: {verdict.detail}", verdict.links
    )


def describe(err: BaseException) -> str:
    """The error and its causes, one after the other."""
    parts: list[str] = []
    current: BaseException | None = err
    while current is not None and len(parts) < 4:
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__
    return " <- ".join(parts)


# Steps: starting and seeding.


def _start(scene: Scene) -> None:
    scene.stack = start_stack(scene.data_dir, sandbox_port=scene.sandbox_port, org=c.ORG)


def _started(scene: Scene) -> Verdict:
    stack = scene.running
    detail = f"sandbox {stack.url}, bot {stack.bot.url}, app {stack.app.slug} id={stack.app.id}"
    return Verdict(True, detail, (f"{stack.url}/",))


def _seed(scene: Scene) -> None:
    stack = scene.running
    scene.people = seed_people(stack.admin, c.PEOPLE)
    stack.admin.run(calls.create_repo(c.ORG, c.APP_REPO, files=c.app_repo_files()))
    stack.admin.run(calls.create_repo(c.ORG, c.ENV_REPO, files=c.directory_repo_files()))
    main, branches = c.branch_repo_files()
    stack.admin.run(calls.create_repo(c.ORG, c.BRANCH_REPO, files=main, branches=branches))
    for repo in (c.APP_REPO, c.ENV_REPO, c.BRANCH_REPO):
        stack.admin.run(calls.grant_role(c.ORG, repo, c.DEVELOPER, "write"))
        stack.admin.run(calls.grant_role(c.ORG, repo, c.SRE, "maintain"))
    stack.install(c.ORG)


def _seeded(scene: Scene) -> Verdict:
    url = scene.running.url
    repos = (f"{c.ORG}/{c.APP_REPO}", ENV_REPO, BRANCH_REPO)
    for repo in repos:
        scene.view.get(f"/repos/{repo}")
    detail = f"{', '.join(repos)}; people {', '.join(c.PEOPLE)}; all run {c.IMAGE}:{c.RUNNING}"
    return Verdict(True, detail, tuple(f"{url}/{repo}" for repo in repos))


# Steps: the promotion story.


def _publish(tag: str) -> Callable[[Scene], None]:
    def act(scene: Scene) -> None:
        labels = {"org.opencontainers.image.source": f"{scene.running.url}/{c.ORG}/{c.APP_REPO}"}
        scene.running.admin.run(
            calls.publish_package(
                c.ORG,
                c.APP_REPO,
                repository=c.APP_REPO,
                tag=tag,
                platforms=["linux/amd64", "linux/arm64"],
                labels=labels,
            )
        )

    return act


def _promotion_pull(scene: Scene, repo: str, env: str) -> dict[str, Any] | None:
    for pull in scene.view.pulls(repo, state="open"):
        if pull["head"]["ref"] == f"promotion/{c.APP}/{env}":
            return pull
    return None


def _promotion_opened(
    repo: str, env: str, tag: str, path: str, key: str
) -> Callable[[Scene], Verdict]:
    """The bot's open PR for ``env`` proposes ``tag``, and its file is exactly the seeded one
    with the tag characters changed."""

    def check(scene: Scene) -> Verdict:
        pull = _promotion_pull(scene, repo, env)
        if pull is None:
            return Verdict(False, f"no open promotion PR for {env} in {repo}")
        title, number = str(pull["title"]), int(pull["number"])
        if tag not in title:
            return Verdict(False, f"#{number} in {repo} proposes something else: {title!r}")
        text = scene.view.file(repo, path, pull["head"]["sha"])
        if text != c.values(env, tag):
            return Verdict(False, f"#{number} changed more than the tag in {path}")
        scene.pulls[key] = number
        return Verdict(
            True, f"#{number} {title!r}, {path} changed only in the tag", (str(pull["html_url"]),)
        )

    return check


def _merge(key: str, repo: str = ENV_REPO) -> Callable[[Scene], None]:
    def act(scene: Scene) -> None:
        if key not in scene.pulls:
            raise StepFailed(f"no PR to merge key={key} repo={repo}")
        scene.running.admin.run(merge_as(c.SRE, repo, scene.pulls[key]))

    return act


def _opened_in_both(tag: str) -> Callable[[Scene], Verdict]:
    dev = _promotion_opened(ENV_REPO, "dev", tag, "envs/dev/values.yaml", "dev")
    branch = _promotion_opened(BRANCH_REPO, "dev", tag, "values.yaml", "branch-dev")

    def check(scene: Scene) -> Verdict:
        first, second = dev(scene), branch(scene)
        if not (first.done and second.done):
            return first if not first.done else second
        return Verdict(
            True, f"{ENV_REPO} {first.detail}; {BRANCH_REPO} too", first.links + second.links
        )

    return check


def _prod_waits(scene: Scene) -> Verdict:
    opened = _promotion_opened(ENV_REPO, "prod", FIRST, "envs/prod/values.yaml", "prod")(scene)
    if not opened.done:
        return opened
    pull = scene.view.get(f"/repos/{ENV_REPO}/pulls/{scene.pulls['prod']}")
    runs = [
        r for r in scene.view.check_runs(ENV_REPO, pull["head"]["sha"]) if r["name"] == CHECK_NAME
    ]
    if not runs:
        return Verdict(False, f"#{pull['number']} has no {CHECK_NAME} check run yet", opened.links)
    run = runs[0]
    title = str(run["output"]["title"])
    if run["conclusion"] != "action_required":
        return Verdict(False, f"{CHECK_NAME} is {run['conclusion']}: {title}", opened.links)
    return Verdict(True, f"#{pull['number']} check {CHECK_NAME}: {title}", opened.links)


def _updated_in_place(scene: Scene) -> Verdict:
    opened = _promotion_opened(BRANCH_REPO, "dev", NEWER, "values.yaml", "branch-dev-newer")(scene)
    if not opened.done:
        return opened
    before, now = scene.pulls.get("branch-dev"), scene.pulls["branch-dev-newer"]
    if before != now:
        return Verdict(False, f"{BRANCH_REPO} got a new PR #{now} instead of updating #{before}")
    stacked = [p for p in scene.view.pulls(BRANCH_REPO, state="all") if p["number"] != now]
    if stacked:
        return Verdict(False, f"{BRANCH_REPO} has other PRs: {[p['number'] for p in stacked]}")
    return Verdict(True, f"{BRANCH_REPO} {opened.detail}, still the only PR", opened.links)


def _hand_made_pull(scene: Scene) -> None:
    stack = scene.running
    files = {"envs/prod/values.yaml": c.hand_edited_prod_values(NEWER)}
    stack.admin.run(
        calls.push(
            c.ORG,
            c.ENV_REPO,
            pusher=c.DEVELOPER,
            branch=HOTFIX_BRANCH,
            files=files,
            message=f"Hotfix: run {NEWER} in prod with one more replica",
        )
    )
    pull = stack.admin.run(
        open_pull_as(
            c.DEVELOPER,
            ENV_REPO,
            head=HOTFIX_BRANCH,
            base="main",
            title=f"Hotfix prod to {NEWER}",
            body="Customers are waiting for the fix.",
        )
    )
    scene.pulls["hand-made"] = int(pull["number"])


def _reviewed(scene: Scene) -> Verdict:
    number = scene.pulls["hand-made"]
    link = (f"{scene.running.url}/{ENV_REPO}/pull/{number}",)
    for comment in scene.view.comments(ENV_REPO, number):
        body = str(comment["body"])
        if comment["user"]["login"] == BOT_LOGIN and "Promotion review" in body:
            if "#### Warnings" not in body:
                return Verdict(False, f"#{number} review comment has no drift warning", link)
            kinds = [line.split("**")[1] for line in body.splitlines() if line.startswith("- **")]
            return Verdict(True, f"#{number} review comment, warnings: {', '.join(kinds)}", link)
    return Verdict(False, f"no review comment by {BOT_LOGIN} on #{number}", link)


STEPS: tuple[Step, ...] = (
    Step("start the sandbox and the bot on loopback", _start, _started),
    Step("seed the app repo, two environment repos, people; install the App", _seed, _seeded),
    Step(
        f"CI pushes {c.IMAGE}:{FIRST}: the bot opens the dev PRs",
        _publish(FIRST),
        _opened_in_both(FIRST),
    ),
    Step(
        "bob merges the dev PR: the bot opens the staging PR",
        _merge("dev"),
        _promotion_opened(ENV_REPO, "staging", FIRST, "envs/staging/values.yaml", "staging"),
    ),
    Step(
        "bob merges the staging PR: the prod PR waits on its gates", _merge("staging"), _prod_waits
    ),
    Step(f"CI pushes {NEWER}: the open PR is updated in place", _publish(NEWER), _updated_in_place),
    Step(
        "alice opens a hand-made PR to prod: the bot comments diff and drift warnings",
        _hand_made_pull,
        _reviewed,
    ),
)
