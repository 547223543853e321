"""What a drift audit finds, as plain values: rendered by ``report``, acted on by the services.

An audit compares each environment with the one before it (its ``upstream``: the policy's
``after``, else the previous environment), whatever the layout (directories of one branch,
branches, repositories, or a mix). Paths are relative to each environment's root, so
``envs/staging/values.yaml`` and ``envs/prod/values.yaml`` are both ``values.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.core.promotion.holds import Hold
from bot.core.review.diff import ValueDelta

# Why a newer version has not reached an environment yet:
# - "held": a hold stops it (``detail`` says whose and why);
# - "declined": a person closed its promotion PR without merging;
# - "proposed": its promotion PR is open (``pull`` names it);
# - "waiting": a gate holds it back (soak time, freeze window, a /promote-only policy);
# - "pending": nothing stops it; the next push, merge or reconcile proposes it.
BehindStatus = Literal["held", "declined", "proposed", "waiting", "pending"]


@dataclass(frozen=True)
class EnvView:
    """One environment as read for an audit: where it lives, its files' texts by relative path,
    and the files left alone with why. ``blobs`` (path -> blob sha), when given, lists every
    file of the environment, read or not: a file whose blob is the same on both sides of a
    comparison is equal without being read, so only ``files`` that differ (or hold an app's
    image) need texts."""

    name: str
    repo: str
    branch: str
    path: str
    files: Mapping[str, str] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    head: str | None = None  # the branch's commit, when it exists
    blobs: Mapping[str, str] = field(default_factory=dict)

    def paths(self) -> frozenset[str]:
        """Every file of the environment (read or not)."""
        return frozenset(self.blobs or self.files) | frozenset(self.skipped)

    def same(self, other: EnvView, path: str) -> bool:
        """Whether ``path`` holds the same content here and in ``other`` (by blob when both
        know it, else by text)."""
        if path in self.blobs and path in other.blobs:
            return self.blobs[path] == other.blobs[path]
        return path in self.files and self.files.get(path) == other.files.get(path)


@dataclass(frozen=True)
class Commit:
    """A commit on an environment's branch; ``pull`` is the PR that brought it, when known, and
    ``promotion`` whether that PR was one of the bot's promotion PRs."""

    sha: str
    author: str
    at: datetime | None
    message: str  # its first line
    url: str = ""
    pull: int | None = None
    promotion: bool = False


@dataclass(frozen=True)
class Lane:
    """What GitHub remembers about one app's promotions into one environment."""

    proposed: str | None = None  # the version its open promotion PR proposes
    pull: int | None = None  # that PR
    declined: tuple[str, ...] = ()
    arrived: Mapping[str, datetime] = field(default_factory=dict)  # version -> when merged


@dataclass(frozen=True)
class Facts:
    """What an audit knows beyond the files: lanes by (app, environment), the holds in force,
    and each environment's branch history where the layout has one (by environment)."""

    lanes: Mapping[tuple[str, str], Lane] = field(default_factory=dict)
    holds: tuple[Hold, ...] = ()
    ahead: Mapping[str, tuple[Commit, ...]] = field(default_factory=dict)  # env -> on it only
    behind: Mapping[str, tuple[Commit, ...]] = field(default_factory=dict)  # env -> upstream only
    direct: Mapping[str, tuple[Commit, ...]] = field(default_factory=dict)  # env -> not promoted


@dataclass(frozen=True)
class Behind:
    """An app whose environment runs an older version than the environment before it."""

    app: str
    image: str
    upstream: str
    environment: str
    version: str  # what the upstream environment runs
    running: str | None  # what this one runs
    kind: str  # major, minor, patch, prerelease or other (``change_kind``)
    since: datetime | None  # when the upstream environment got ``version``
    status: BehindStatus
    detail: str  # the sentence behind the status ("held by @alice: incident 42", "#12")
    pull: int | None = None

    @property
    def key(self) -> str:
        """The stable name of the sync this item offers, for the issue's checkbox."""
        return f"sync:{self.app}:{self.environment}:{self.version}"


@dataclass(frozen=True)
class PairDrift:
    """One environment against its upstream: versions behind, configuration that differs
    (minus the declared differences), files on one side only, and the branches."""

    upstream: str
    environment: str
    behind: tuple[Behind, ...] = ()
    ahead: tuple[Behind, ...] = ()  # apps whose environment runs a newer version than upstream
    values: tuple[ValueDelta, ...] = ()  # old: upstream's value, new: this environment's
    only_upstream: tuple[str, ...] = ()
    only_here: tuple[str, ...] = ()
    text_differs: tuple[str, ...] = ()  # files that differ and are not comparable as YAML
    commits_ahead: tuple[Commit, ...] = ()  # on this branch only: hotfixes not brought back
    commits_behind: tuple[Commit, ...] = ()  # on upstream's branch only
    direct: tuple[Commit, ...] = ()  # changes here that came through no promotion PR

    @property
    def count(self) -> int:
        """How many things differ: the figure in summaries (zero: in sync)."""
        return (
            len(self.behind)
            + len(self.ahead)
            + len(self.values)
            + len(self.only_upstream)
            + len(self.only_here)
            + len(self.text_differs)
            + len(self.commits_ahead)
            + len(self.direct)
        )


@dataclass(frozen=True)
class DriftReport:
    """A whole audit of one config's environments."""

    repo: str  # the config's repository
    environments: tuple[str, ...]
    running: Mapping[str, Mapping[str, str | None]]  # app -> environment -> version
    pairs: tuple[PairDrift, ...]
    holds: tuple[Hold, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)  # "env: path" -> why
    repos: Mapping[str, str] = field(default_factory=dict)  # env -> its repository, if another

    @property
    def count(self) -> int:
        return sum(pair.count for pair in self.pairs)

    def repo_of(self, environment: str) -> str:
        """The repository an environment's branch, PRs and commits are in."""
        return self.repos.get(environment, self.repo)

    def syncs(self) -> tuple[Behind, ...]:
        """The items a sync PR can fix: versions behind that nothing but a person stops."""
        return tuple(
            item
            for pair in self.pairs
            for item in pair.behind
            if item.status in ("pending", "waiting", "declined")
        )
