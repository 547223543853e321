"""What both queue engines (``queue_sqlite``, ``queue_postgres``) read from and write to their
rows alike: which jobs go in bulk, the versions seen, the counts of ``stats``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.services.ports import NewJob, QueueStats

# The newest sightings kept per subject: far more versions than any policy picks among, and a
# bound on what one image's pushes can make the table hold.
VERSIONS_KEPT = 500


def is_plain(job: NewJob) -> bool:
    """A job without keys, installation or sighting: inserted with others in one statement."""
    return not (job.dedupe_key or job.coalesce_key or job.seen or job.installation_id)


def newest_digests(rows: Iterable[tuple[str, str | None]]) -> dict[str, str | None]:
    """Every tag of ``rows`` (oldest sighting first) -> its digest; the newest one known wins."""
    found: dict[str, str | None] = {}
    for tag, digest in rows:
        found[tag] = digest or found.get(tag)
    return found


def queue_stats(
    counts: Mapping[str, int], states: Sequence[str], deliveries: int, oldest_age: float | None
) -> QueueStats:
    """``counts`` by the engine's names of the ``states`` ready, leased, done and dead."""
    ready, leased, done, dead = (counts.get(state, 0) for state in states)
    return QueueStats(ready, leased, done, dead, deliveries, max(0.0, oldest_age or 0.0))
