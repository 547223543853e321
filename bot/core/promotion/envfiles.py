"""An environment's files and the versions of an image they run.

An environment is the set of YAML files under its ``path`` on its branch of its repository;
an app's ``files`` globs (relative to that path) narrow it further. The repository's own
``.github/`` directory never holds an environment. Paths are repository paths, ``/``-separated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.core.files.images import ImageRefError, parse_image_ref, same_repository
from bot.core.files.yamlnodes import YamlEditError
from bot.core.files.yamlscan import ImageOccurrence, find_images
from bot.core.promotion.model import Snapshot

_YAML_SUFFIXES = (".yaml", ".yml")
_SKIPPED_ROOT = ".github/"


@dataclass(frozen=True)
class EnvState:
    """What one environment holds: ``files`` maps repository paths to texts; ``skipped`` maps
    the paths of its files the bot leaves alone (never reads nor writes) to why, for the reason
    a user sees."""

    name: str
    files: Mapping[str, str] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)

    def skipped_note(self) -> str:
        """``"; left alone: PATH (WHY), ..."``, or ``""`` when no file was skipped."""
        if not self.skipped:
            return ""
        listed = ", ".join(f"{path} ({why})" for path, why in sorted(self.skipped.items()))
        return f"; left alone: {listed}"


def environment_files(
    paths: Iterable[str], *, root: str, globs: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The paths (sorted) that belong to an environment rooted at ``root`` (``.`` = everything)."""
    prefix = "" if root in ("", ".") else root.rstrip("/") + "/"
    chosen = []
    for path in paths:
        if not path.startswith(prefix) or path.startswith(_SKIPPED_ROOT):
            continue
        relative = path[len(prefix) :]
        if globs is None:
            if path.endswith(_YAML_SUFFIXES):
                chosen.append(path)
        elif any(_glob(pattern).fullmatch(relative) for pattern in globs):
            chosen.append(path)
    return tuple(sorted(chosen))


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """``**/`` spans directories (or none), ``*`` and ``?`` stay within one path segment."""
    out, index = [], 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        else:
            char = pattern[index]
            out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
            index += 1
    return re.compile("".join(out))


def image_occurrences(state: EnvState, image: str) -> tuple[ImageOccurrence, ...]:
    """Every reference to repository ``image`` in the environment's files, by path then line.

    A file that does not parse is passed over when it cannot hold the image; otherwise the
    ``YamlEditError`` says which file could not be read.
    """
    short = parse_image_ref(image).path.rsplit("/", 1)[-1]
    found: list[ImageOccurrence] = []
    for path in sorted(state.files):
        text = state.files[path]
        if short not in text:
            continue  # cheap pre-filter: a file that never names the image cannot hold it
        found += [o for o in find_images(text, path) if _same(o.repository, image)]
    return tuple(found)


def _same(found: str, image: str) -> bool:
    try:
        return same_repository(found, image)
    except ImageRefError:
        return False


def running_tags(state: EnvState, image: str) -> tuple[str, ...]:
    """The distinct tags of ``image`` the environment runs, most used first (ties: file order)."""
    counts: dict[str, int] = {}
    for occurrence in image_occurrences(state, image):
        if occurrence.tag is not None:
            counts[occurrence.tag] = counts.get(occurrence.tag, 0) + 1
    return tuple(sorted(counts, key=lambda tag: -counts[tag]))


def snapshot_of(files: Mapping[str, str]) -> Snapshot:
    """``files`` with the images found in them (files that do not parse hold none)."""
    images: list[ImageOccurrence] = []
    for path in sorted(files):
        try:
            images += find_images(files[path], path)
        except YamlEditError:
            continue
    return Snapshot(files=dict(files), images=tuple(images))


def relative(files: Mapping[str, str], root: str) -> dict[str, str]:
    """``files`` under ``root`` keyed by their path below it, so environments compare by name."""
    prefix = "" if root in ("", ".") else root.rstrip("/") + "/"
    return {path[len(prefix) :]: text for path, text in files.items() if path.startswith(prefix)}


__all__ = [
    "EnvState",
    "YamlEditError",
    "environment_files",
    "image_occurrences",
    "relative",
    "running_tags",
    "snapshot_of",
]
