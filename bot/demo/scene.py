"""Playing steps: each is a name, an action (what a person or CI does) and a check (what the
bot must have done), polled until it holds or its deadline passes.

``play(steps, scene, report)`` runs them in order and stops at the first step that fails: later
steps build on earlier ones. An action that raises fails its step at once, with the error and
its causes in the step's detail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.demo.content import DEVELOPER
from bot.demo.harness import GitHubView, Stack
from github_sandbox.admin_client import UserToken

POLL_S = 0.1


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
            self._view = self.running.view(self.people[DEVELOPER].token)
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
