"""Plain values shared by the promotion core: what is promoted, what changed, what was seen.

These are deliberately small frozen dataclasses built from plain strings so that rendering,
drift and gate logic can be tested without the version, YAML-edit or configuration modules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# A location inside a parsed YAML document: mapping keys and sequence indexes.
YamlPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


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


@dataclass(frozen=True)
class FileChange:
    """One edited YAML value: where it is and what it was and became."""

    file: str
    line: int
    path: str
    old: str
    new: str


@dataclass(frozen=True)
class ImageRef:
    """An image reference found in an environment file (``path`` is the dotted YAML path)."""

    file: str
    path: str
    repository: str
    tag: str | None
    digest: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """An environment's files (``path -> text``, relative to its root) and the images in them."""

    files: Mapping[str, str] = field(default_factory=dict)
    images: tuple[ImageRef, ...] = ()


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
