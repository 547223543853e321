"""Fault injection, configured per route pattern through the admin API; seeded, so repeatable.

A rule matches ``METHOD`` (or ``*``) and an ``fnmatch`` pattern over the request path; it fires
with probability ``rate`` (drawn from a per-rule ``random.Random(seed)``) and at most ``times``
times. Kinds:

- ``error``: answer ``status`` (default 502) with GitHub's error body;
- ``timeout``: hang ``seconds`` then answer 504, or drop the connection when ``drop`` is set;
- ``latency``: wait ``seconds`` then serve the request normally;
- ``secondary_rate_limit``: 403 (or ``status`` 429) with ``retry-after: <retry_after>``, or
  without it when ``retry_after`` is null (as GitHub often answers);
- ``primary_rate_limit``: 403 with ``x-ratelimit-remaining: 0`` and a reset time;
- ``ref_race``: 422 "Update is not a fast forward", as when another writer moved the ref.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from typing import Any, Literal

from pydantic import BaseModel, Field

FaultKind = Literal[
    "error", "timeout", "latency", "secondary_rate_limit", "primary_rate_limit", "ref_race"
]


class FaultRule(BaseModel):
    kind: FaultKind
    path: str = "*"
    method: str = "*"
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    times: int | None = None
    status: int | None = None
    seconds: float = 0.0
    drop: bool = False
    retry_after: int | None = 60


class _Armed:
    def __init__(self, rule: FaultRule, seed: int, index: int) -> None:
        self.rule = rule
        self.random = random.Random(f"{seed}:{index}")
        self.fired = 0

    def matches(self, method: str, path: str) -> bool:
        rule = self.rule
        if rule.times is not None and self.fired >= rule.times:
            return False
        if rule.method not in ("*", method.upper()):
            return False
        return fnmatch.fnmatchcase(path, rule.path) and self.random.random() < rule.rate


class Faults:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rules: list[_Armed] = []
        self._lock = threading.Lock()

    def configure(self, rules: list[FaultRule]) -> None:
        """Replace all rules; each rule's random stream restarts from the seed."""
        with self._lock:
            self._rules = [_Armed(rule, self._seed, i) for i, rule in enumerate(rules)]

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for armed in self._rules:
                if armed.matches(method, path):
                    armed.fired += 1
                    return armed.rule
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**a.rule.model_dump(), "fired": a.fired} for a in self._rules]
