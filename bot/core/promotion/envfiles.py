"""An environment's files and the versions of an image they run.

An environment is the set of YAML and Terraform files (``formats``) under its ``path`` on its
branch of its repository, or the one file its ``path`` names (``terraform/environments/dev.tfvars``,
known as ``*.tfvars``: see ``relative``); an app's ``files`` globs (relative to that path) narrow
it further.
The repository's own ``.github/`` directory never holds an environment. Paths are repository
paths, ``/``-separated.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.core.config.model import App, PromotionConfig
from bot.core.files.formats import IMAGE_FILE_SUFFIXES, find_images, mentions, set_image
from bot.core.files.images import ImageRefError, parse_image_ref, same_repository
from bot.core.files.yamledit import EditResult
from bot.core.files.yamlnodes import YamlEditError, compose_roots
from bot.core.files.yamlscan import ImageOccurrence
from bot.core.promotion.model import Snapshot

_SKIPPED_ROOT = ".github/"


@dataclass(frozen=True)
class EnvState:
    """What one environment holds: ``files`` maps repository paths to texts; ``skipped`` maps
    the paths of its files the bot leaves alone (never reads nor writes) to why, for the reason
    a user sees, and names the documents it leaves alone in files it reads
    (``skipped_documents``)."""

    name: str
    files: Mapping[str, str] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    # path -> the keys in it holding a bare tag of the app's image (``tag_keys_of``)
    tag_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def skipped_note(self) -> str:
        """``"; left alone: PATH (WHY), ..."``, or ``""`` when no file was skipped."""
        if not self.skipped:
            return ""
        listed = ", ".join(f"{path} ({why})" for path, why in sorted(self.skipped.items()))
        return f"; left alone: {listed}"


def environment_files(
    paths: Iterable[str], *, root: str, globs: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The paths (sorted) that belong to an environment rooted at ``root`` (``.`` = everything;
    a file: itself, named as ``relative`` names it for ``globs``)."""
    chosen = []
    for path in paths:
        relative = name_in(path, root)
        if relative is None or path.startswith(_SKIPPED_ROOT):
            continue
        if globs is None:
            # An environment that is one file is that file, whatever its suffix.
            if path == root or path.endswith(IMAGE_FILE_SUFFIXES):
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


def skipped_documents(files: Mapping[str, str]) -> dict[str, str]:
    """The documents of multi-document ``files`` that do not parse (a Helm template, most often)
    and are left alone while the file's other documents are read and edited, keyed
    ``PATH document N (line L)`` beside the skipped files, with why."""
    found: dict[str, str] = {}
    for path in sorted(files):
        text = files[path]
        if "---" not in text:
            continue  # cheap pre-filter: a file of one document is read whole or not at all
        try:
            documents = compose_roots(text, path).skipped
        except YamlEditError:
            continue  # no document parses: the readers report the file itself
        for doc in documents:
            found[f"{path} document {doc.number} (line {doc.line})"] = doc.reason
    return found


def tag_keys_of(app: App, paths: Iterable[str], *, root: str) -> dict[str, tuple[str, ...]]:
    """Of ``paths``, those holding ``app``'s ``tags`` (a key without ``file`` is in all of
    them), each with its keys."""
    found: dict[str, tuple[str, ...]] = {}
    for path in paths:
        keys = tuple(
            tag.key
            for tag in app.tags
            if tag.file is None or environment_files((path,), root=root, globs=(tag.file,))
        )
        if keys:
            found[path] = keys
    return found


def set_image_in(
    state: EnvState, path: str, *, tag: str, digest: str | None, image: str
) -> EditResult:
    """``image`` set to ``tag`` (and ``digest``) in the file at ``path``, its tag keys too."""
    keys = state.tag_keys.get(path, ())
    text = state.files[path]
    return set_image(text, image=image, tag=tag, digest=digest, file=path, tag_keys=keys)


def image_occurrences(state: EnvState, image: str) -> tuple[ImageOccurrence, ...]:
    """Every reference to repository ``image`` in the environment's files, by path then line.

    A file that does not parse is passed over when it cannot hold the image; otherwise the
    ``YamlEditError`` says which file could not be read.
    """
    short = parse_image_ref(image).path
    found: list[ImageOccurrence] = []
    for path in sorted(state.files):
        text, keys = state.files[path], state.tag_keys.get(path, ())
        if not mentions(text, short, keys):
            continue  # cheap pre-filter: a file that never names the image cannot hold it
        bound = dict.fromkeys(keys, image)
        found += [o for o in find_images(text, path, tag_keys=bound) if _same(o.repository, image)]
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


def snapshot_of(
    files: Mapping[str, str], tag_keys: Mapping[str, Mapping[str, str]] | None = None
) -> Snapshot:
    """``files`` with the images found in them (files that do not parse hold none);
    ``tag_keys`` (path -> key -> image, ``keys_in``) makes the bare tags images too."""
    images: list[ImageOccurrence] = []
    for path in sorted(files):
        try:
            images += find_images(files[path], path, tag_keys=(tag_keys or {}).get(path))
        except YamlEditError:
            continue
    return Snapshot(files=dict(files), images=tuple(images))


def keys_in(
    config: PromotionConfig, environment: str, names: Iterable[str]
) -> dict[str, dict[str, str]]:
    """Of ``names`` (paths relative to ``environment``'s root, as ``relative`` gives them),
    those holding a bare tag of an app promoted through it: name -> key -> image."""
    found: dict[str, dict[str, str]] = {}
    env = config.environment(environment)
    for app, spec in config.apps.items():
        if env in config.environments_of(app):
            for name, keys in tag_keys_of(spec, names, root=".").items():
                found.setdefault(name, {}).update(dict.fromkeys(keys, spec.image))
    return found


def relative(files: Mapping[str, str], root: str) -> dict[str, str]:
    """``files`` under ``root`` keyed by their path below it, so environments compare by name;
    an environment that is one file names it ``*`` and its suffixes (``dev.tfvars`` and
    ``prod.tfvars`` are both ``*.tfvars``), so such environments compare with each other."""
    named = {path: name_in(path, root) for path in files}
    return {name: files[path] for path, name in named.items() if name is not None}


def repository_path(name: str, root: str, paths: Container[str]) -> str:
    """Where ``name`` (as ``relative`` names it) of the environment at ``root`` is in a
    repository whose files are ``paths``: in an environment that is one file, that file."""
    if root in paths:
        return root
    return name if root in ("", ".") else f"{root.rstrip('/')}/{name}"


def _file_environment_name(root: str) -> str:
    name = root.rsplit("/", 1)[-1]
    return "*" + name[name.index(".") :] if "." in name else name


def in_environment(path: str, root: str) -> bool:
    """Whether ``path`` is under the directory ``root`` or is the file ``root``."""
    return name_in(path, root) is not None


def name_in(path: str, root: str) -> str | None:
    """``path`` relative to the directory ``root``; a file ``root``'s shared name; else
    ``None``."""
    if path == root:
        return _file_environment_name(root)
    prefix = "" if root in ("", ".") else root.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else None


__all__ = [
    "EnvState",
    "YamlEditError",
    "environment_files",
    "image_occurrences",
    "in_environment",
    "keys_in",
    "name_in",
    "relative",
    "repository_path",
    "running_tags",
    "set_image_in",
    "skipped_documents",
    "snapshot_of",
    "tag_keys_of",
]
