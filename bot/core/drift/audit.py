"""The drift audit: each environment against its upstream, from what was read.

Pure: the services (or the command line, on a local clone) read the environments into
``EnvView`` values and what GitHub remembers into ``Facts``; ``audit`` finds

- per app, the environments that run an older version than their upstream, and why the newer
  one has not arrived (held, declined, proposed, waiting on a gate, or simply pending), and
  those that run a newer one;
- per environment and its upstream (the environment before it): the YAML values and files that
  differ, minus the differences the config declares (``drift.ignore``); values that may be
  secret or are encrypted are marked sensitive (``bot.core.review.secrets.sensitive``);
- the commits on one side only, and changes that came through no promotion PR (from ``Facts``).
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise
from typing import Literal

from bot.core.config import PromotionConfig
from bot.core.config.model import DriftIgnore
from bot.core.drift.model import (
    Behind,
    BehindStatus,
    DriftReport,
    EnvView,
    Facts,
    Lane,
    PairDrift,
)
from bot.core.markup.metadata import Meta
from bot.core.promotion.envfiles import (
    EnvState,
    YamlEditError,
    environment_files,
    keys_in,
    running_tags,
    snapshot_of,
    tag_keys_of,
)
from bot.core.promotion.holds import holding
from bot.core.review.diff import meaningful_diff
from bot.core.review.pull import promotion_gates, upstream_of
from bot.core.versions.selection import TagPolicyError, change_kind, is_newer


def audit(
    config: PromotionConfig,
    views: Mapping[str, EnvView],
    facts: Facts,
    *,
    repo: str,
    now: datetime,
) -> DriftReport:
    """Everything that differs between ``config``'s environments, read as ``views`` (by
    environment name; a missing one is empty)."""
    names = tuple(env.name for env in config.environments)
    empty = {name: EnvView(name, repo, "", "") for name in names}
    views = {name: views.get(name, empty[name]) for name in names}
    indexes = {name: _FileIndex(views[name].files) for name in names}
    running = {
        app: {
            name: _running(config, app, views[name], indexes[name])
            for name in _envs_of(config, app)
        }
        for app in config.apps
    }
    pairs: dict[tuple[str, str], PairDrift] = {
        (upstream, name): _compare(config, views[upstream], views[name], facts)
        for upstream, name in pairwise(names)
    }
    context = _Context(config, facts, now)
    for app in config.apps:
        for name in _envs_of(config, app):
            found = context.versions(app, name, running[app])
            if found is None:
                continue
            side, item = found
            pair = pairs.get((item.upstream, name)) or PairDrift(item.upstream, name)
            if side == "ahead":
                pairs[(item.upstream, name)] = replace(pair, ahead=(*pair.ahead, item))
            else:
                pairs[(item.upstream, name)] = replace(pair, behind=(*pair.behind, item))
    skipped = {
        f"{name}: {path}": why
        for name in names
        for path, why in sorted(views[name].skipped.items())
    }
    return DriftReport(
        repo=repo,
        environments=names,
        running=running,
        pairs=tuple(pairs.values()),
        holds=facts.holds,
        skipped=skipped,
        repos={name: views[name].repo for name in names if views[name].repo != repo},
    )


def _envs_of(config: PromotionConfig, app: str) -> tuple[str, ...]:
    return tuple(env.name for env in config.environments_of(app))


class _FileIndex:
    """An environment's paths, sorted, so an app's globs are matched only against the paths
    under their literal prefix (``api/values.yaml`` is one look-up, not a scan of every file:
    an audit of 1,000 apps would otherwise match every glob against every file)."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.paths = sorted(files)
        self._chosen: dict[tuple[str, ...] | None, tuple[str, ...]] = {}

    def chosen(self, globs: tuple[str, ...] | None) -> tuple[str, ...]:
        if globs not in self._chosen:
            candidates = self.paths if globs is None else self._under(globs)
            self._chosen[globs] = environment_files(candidates, root=".", globs=globs)
        return self._chosen[globs]

    def _under(self, globs: tuple[str, ...]) -> list[str]:
        found: set[str] = set()
        for glob in globs:
            prefix = re.split(r"[*?\[]", glob, maxsplit=1)[0]
            start = bisect.bisect_left(self.paths, prefix)
            for path in itertools.islice(self.paths, start, None):
                if not path.startswith(prefix):
                    break
                found.add(path)
        return sorted(found)


def _running(config: PromotionConfig, app: str, view: EnvView, index: _FileIndex) -> str | None:
    spec = config.apps[app]
    chosen = index.chosen(config.files_of(app))
    files = {path: view.files[path] for path in chosen}
    state = EnvState(view.name, files, tag_keys=tag_keys_of(spec, files, root="."))
    try:
        tags = running_tags(state, spec.image)
    except YamlEditError:
        return None
    return tags[0] if tags else None


@dataclass(frozen=True)
class _Context:
    config: PromotionConfig
    facts: Facts
    now: datetime

    def versions(
        self, app: str, name: str, running: Mapping[str, str | None]
    ) -> tuple[Literal["ahead", "behind"], Behind] | None:
        """The app in ``name`` against its upstream: behind, ahead (an item whose ``version``
        is still upstream's and ``running`` this environment's newer one), or ``None``: in
        step, first in line, or not comparable under the policy."""
        upstream = upstream_of(self.config, app, name)
        if upstream is None or upstream not in running:
            return None
        theirs, mine = running[upstream], running.get(name)
        if theirs is None or theirs == mine:
            return None
        policy = self.config.policy_for(app, name)
        try:
            ahead = mine is not None and is_newer(policy, mine, theirs)
            behind = mine is None or is_newer(policy, theirs, mine)
        except TagPolicyError:
            return None
        image = self.config.apps[app].image
        if ahead and mine is not None:
            newer = f"{name} runs {mine}, newer than {upstream}'s {theirs}"
            kind = change_kind(theirs, mine)
            item = Behind(app, image, upstream, name, theirs, mine, kind, None, "pending", newer)
            return "ahead", item
        if not behind:
            return None  # another variant or scheme: no order between them
        since = self.facts.lanes.get((app, upstream), Lane()).arrived.get(theirs)
        kind = change_kind(mine, theirs) if mine is not None else "other"
        status, detail, pull = self.why_behind(app, name, theirs, since)
        return "behind", Behind(
            app, image, upstream, name, theirs, mine, kind, since, status, detail, pull
        )

    def why_behind(
        self, app: str, name: str, version: str, since: datetime | None
    ) -> tuple[BehindStatus, str, int | None]:
        """Why ``version`` has not reached ``name``: a hold, its open or declined PR, a gate
        (the same gates its promotion PR's check would run), or nothing yet."""
        hold = holding(self.facts.holds, app, name)
        if hold is not None:
            return "held", hold.summary(), hold.number
        lane = self.facts.lanes.get((app, name), Lane())
        if lane.proposed == version:
            return "proposed", f"#{lane.pull} proposes it", lane.pull
        if version in lane.declined:
            return "declined", f"{version} was declined for {name}", None
        meta = Meta(kind="promotion-pr", app=app, environment=name, version=version)
        # The upstream runs it; when since is unknown, it counts from now (a soak waits).
        arrived = since or self.now
        gates = promotion_gates(self.config, meta, upstream_since=arrived, now=self.now)
        failed = [check.reason for check in gates.checks if not check.passed]
        if not self.config.policy_for(app, name).auto:
            failed.insert(0, f"{name} opens PRs on a /promote command only")
        if failed:
            return "waiting", "; ".join(failed), None
        return "pending", "nothing stops it: the next push, merge or reconcile proposes it", None


def _compare(config: PromotionConfig, upstream: EnvView, view: EnvView, facts: Facts) -> PairDrift:
    rules = [r for r in config.drift.ignore if _applies(r, upstream.name, view.name)]
    theirs, mine = upstream.paths(), view.paths()
    unread = frozenset(upstream.skipped) | frozenset(view.skipped)  # listed apart, with why
    differing = [p for p in theirs & mine if p not in unread and not upstream.same(view, p)]
    theirs_read = {p: upstream.files[p] for p in differing if p in upstream.files}
    mine_read = {p: view.files[p] for p in differing if p in view.files}
    diff = meaningful_diff(
        snapshot_of(theirs_read, keys_in(config, upstream.name, theirs_read)),
        snapshot_of(mine_read, keys_in(config, view.name, mine_read)),
    )
    values = tuple(d for d in diff.values if not _declared(rules, d.file, d.path))
    return PairDrift(
        upstream=upstream.name,
        environment=view.name,
        values=values,
        only_upstream=_undeclared(rules, sorted(theirs - mine - unread)),
        only_here=_undeclared(rules, sorted(mine - theirs - unread)),
        text_differs=_undeclared(rules, diff.text_changed),
        commits_ahead=facts.ahead.get(view.name, ()),
        commits_behind=facts.behind.get(view.name, ()),
        direct=facts.direct.get(view.name, ()),
    )


def _applies(rule: DriftIgnore, upstream: str, name: str) -> bool:
    return not rule.environments or upstream in rule.environments or name in rule.environments


def _declared(rules: Sequence[DriftIgnore], file: str, path: str | None) -> bool:
    """Whether a rule says this difference is meant to be: its file matches and (for a value)
    one of its paths is the value's path or a path above it."""
    for rule in rules:
        if not fnmatch.fnmatchcase(file, rule.files):
            continue
        if not rule.paths:
            return True
        if path is not None and any(_covers(pattern, path) for pattern in rule.paths):
            return True
    return False


def _covers(pattern: str, path: str) -> bool:
    """Whether ``pattern`` names ``path`` or a path above it; ``*`` matches within a part
    (``resources.*``, ``hosts[*]``), brackets are literal."""
    regex = _pattern(pattern)
    return bool(regex.fullmatch(path)) or any(
        regex.fullmatch(path[: len(path) - len(rest)]) for rest in _tails(path)
    )


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", r"[^.\[\]]*"))


def _tails(path: str) -> list[str]:
    """The rests of ``path`` after each of its parts: ``a.b[0]`` -> ``.b[0]``, ``[0]``."""
    return [path[i:] for i, char in enumerate(path) if i and char in ".["]


def _undeclared(rules: Sequence[DriftIgnore], files: Sequence[str]) -> tuple[str, ...]:
    return tuple(f for f in files if not _declared(rules, f, None))
