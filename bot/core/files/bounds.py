"""How much of a repository's file the bot agrees to read, and why it refuses the rest.

Every file the bot reads from an environment (to plan a promotion, to review a PR) passes here
before any parser sees it; a refused file is left alone with the reason, which the PR body or
the review comment shows. The bounds are what make every later parse cheap:

- bytes: a file over ``MAX_FILE_BYTES`` is not even fetched (its size is in the tree);
- YAML, streamed once through libyaml's events (no node is built): nesting depth, aliases, and
  the nodes the document would have with every alias expanded (a "billion laughs" file is a
  few hundred bytes that expand to billions), each counted as the events go by;
- CPU time: the stream stops after ``MAX_CPU_SECONDS`` of this thread's CPU.

A file that passes has at most ``MAX_NODES`` nodes however it is walked, so the parsers after
this one (which run off the event loop) finish in bounded time. Syntax errors are not refused
here: the readers report them with their line.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)

MAX_FILE_BYTES = 1 << 20  # 1 MiB, GitHub's own limit for a file's contents in the API's JSON
MAX_NODES = 250_000  # with aliases expanded; a 1 MiB values file has about 100,000
MAX_ALIASES = 10_000
MAX_DEPTH = 100
MAX_CPU_SECONDS = 2.0
_CLOCK_EVERY = 1024  # events between two looks at the CPU clock
# A symbolic link's blob is its target's path, not the file: the bot neither reads nor edits
# through it (a write would replace the link with a regular file).
LINK_REASON = "a symbolic link, which the bot never edits through"
NOT_TEXT_REASON = "not UTF-8 text"

_Loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def size_refusal(size: int) -> str | None:
    """Why a file of ``size`` bytes is not read, or ``None``."""
    if size <= MAX_FILE_BYTES:
        return None
    return f"{_mib(size)}, over the {_mib(MAX_FILE_BYTES)} the bot reads"


def yaml_refusal(
    text: str, *, cpu_clock: Callable[[], float], cpu_seconds: float = MAX_CPU_SECONDS
) -> str | None:
    """Why ``text`` is not parsed as YAML (past a bound), or ``None``; ``cpu_clock`` is the
    reading thread's CPU time (``time.thread_time``, handed in: the core reads no clock)."""
    refused = size_refusal(len(text.encode("utf-8", "surrogatepass")))
    if refused is not None:
        return refused
    started = cpu_clock()
    nodes = aliases = 0
    anchors: dict[str, int] = {}  # anchor -> its node's size with aliases expanded
    opened: list[tuple[str | None, int]] = []  # open collections: anchor, ``nodes`` before
    try:
        for count, event in enumerate(yaml.parse(text, Loader=_Loader)):
            if count % _CLOCK_EVERY == 0 and cpu_clock() - started > cpu_seconds:
                return f"reading it took over {cpu_seconds:g} s of CPU"
            if isinstance(event, CollectionStartEvent):
                opened.append((event.anchor, nodes))
                nodes += 1
                if len(opened) > MAX_DEPTH:
                    return f"nested over {MAX_DEPTH} levels deep"
            elif isinstance(event, CollectionEndEvent):
                anchor, before = opened.pop()
                if anchor is not None:
                    anchors[anchor] = nodes - before
            elif isinstance(event, ScalarEvent):
                nodes += 1
                if event.anchor is not None:
                    anchors[event.anchor] = 1
            elif isinstance(event, AliasEvent):
                aliases += 1
                nodes += anchors.get(event.anchor or "", 1)
                if aliases > MAX_ALIASES:
                    return f"over {MAX_ALIASES:,} aliases"
            if nodes > MAX_NODES:
                grown = " once its aliases are expanded" if aliases else ""
                return f"over {MAX_NODES:,} YAML nodes{grown}"
    except yaml.YAMLError:
        return None
    return None


def _mib(size: int) -> str:
    """``size`` in MiB, rounded up to a tenth (a file just over the bound never reads as the
    bound itself)."""
    tenths = -(-size * 10 // (1 << 20))
    return f"{tenths // 10} MiB" if tenths % 10 == 0 else f"{tenths / 10:.1f} MiB"
