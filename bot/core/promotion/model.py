"""Plain values shared by the promotion core: what is promoted, what changed, what was seen.

These are deliberately small frozen dataclasses built from plain strings so that rendering,
drift and gate logic can be tested without the version or configuration modules. Edited values
and found images are the YAML editor's and scanner's own types (``Change``, ``ImageOccurrence``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.files.yamlscan import ImageOccurrence

# A location inside a parsed YAML document: mapping keys and sequence indexes.
YamlPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Request:
    """A person's command behind a promotion: who, when (ISO 8601) and where (a web link)."""

    by: str
    at: str = ""
    url: str = ""


@dataclass(frozen=True)
class Promotion:
    """One image moving from one tag to another in one app's environment."""

    app: str
    environment: str
    image: str
    from_tag: str | None
    to_tag: str
    from_digest: str | None = None
    to_digest: str | None = None
    change_kind: str = "unknown"  # major/minor/patch/prerelease/downgrade/..., computed upstream
    policy_name: str = ""
    reason: str = ""
    source_repo: str | None = None  # "owner/name" of the app's source repository
    superseded: tuple[str, ...] = ()  # versions this PR replaces that were never merged
    request: Request | None = None  # set when a command asked for it
    rollback: bool = False  # back to an earlier version, asked for by /rollback


@dataclass(frozen=True)
class Snapshot:
    """An environment's files (``path -> text``, relative to its root) and the images in them."""

    files: Mapping[str, str] = field(default_factory=dict)
    images: tuple[ImageOccurrence, ...] = ()


def dotted(path: YamlPath) -> str:
    """``("spec", "containers", 0, "image")`` -> ``spec.containers[0].image``.

    Keys that are not plain identifiers are quoted in brackets so the result is unambiguous.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append('["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]')
    return "".join(out)
