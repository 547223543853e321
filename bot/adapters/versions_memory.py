"""The versions seen, kept in memory for one run of events without a queue
(``promotion-bot replay``); the running bot keeps them in its SQLite queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.inputs.events import VersionSeen


class VersionsInMemory:
    """``VersionsSeen`` over a dict; ``record`` is what enqueueing does in the queue."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[str, str | None]] = {}

    def record(self, seen: VersionSeen) -> None:
        tags = self._seen.setdefault(seen.subject, {})
        digest = seen.digest or tags.get(seen.tag)
        tags.pop(seen.tag, None)  # re-inserted last: the newest sighting
        tags[seen.tag] = digest

    async def versions_seen(self, subjects: Sequence[str]) -> Mapping[str, str | None]:
        found: dict[str, str | None] = {}
        for subject in subjects:
            for tag, digest in self._seen.get(subject, {}).items():
                found[tag] = digest or found.get(tag)
        return found
