"""The meaningful diff between two snapshots of an environment's files.

Snapshots are compared as parsed data, not text: comments, quoting and formatting are not
meaningful. Image changes are reported as images (``repo 1.3.0 -> 1.4.0``); every other changed
YAML value, and every changed plain string of a Terraform file, as a dotted path with its old
and new value, hidden when it looks secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, TypeVar

import yaml

from bot.core.files.formats import hcl_values, is_hcl
from bot.core.files.yamlnodes import YamlEditError
from bot.core.files.yamlscan import ImageOccurrence
from bot.core.promotion.model import Snapshot, YamlPath, dotted
from bot.core.review.secrets import sensitive


class _Absent:
    """The value on one side of a change where the path does not exist."""

    def __repr__(self) -> str:
        return "ABSENT"


class _TooLarge(Exception):
    """A document with more leaves than ``MAX_LEAVES``: compared as text instead."""


ABSENT: Any = _Absent()
MAX_LEAVES = 100_000
_K = TypeVar("_K", str, YamlPath)
_DOC_INDEX = re.compile(r"^\[\d+\]\.")

YAML_SUFFIXES = (".yaml", ".yml", ".json")
_MAX_DEPTH = 64


@dataclass(frozen=True)
class ImageDelta:
    file: str
    path: str
    repository: str
    old_tag: str | None
    new_tag: str | None
    old_digest: str | None = None
    new_digest: str | None = None


@dataclass(frozen=True)
class ValueDelta:
    """A changed YAML value; ``document`` names the object in a multi-document file."""

    file: str
    document: str
    path: str
    old: Any
    new: Any
    sensitive: bool = False


@dataclass(frozen=True)
class MeaningfulDiff:
    images: tuple[ImageDelta, ...] = ()
    values: tuple[ValueDelta, ...] = ()
    files_added: tuple[str, ...] = ()
    files_removed: tuple[str, ...] = ()
    text_changed: tuple[str, ...] = ()  # changed files that are not YAML or do not parse

    @property
    def empty(self) -> bool:
        return (
            not (self.images or self.values or self.files_added or self.files_removed)
            and not self.text_changed
        )

    def locations(self) -> tuple[str, ...]:
        """Short ``file`` / ``file: path`` strings naming everything that differs."""
        found = [f"{d.file}: {d.path}" for d in self.images]
        found += [f"{d.file}: {d.path}" for d in self.values]
        found += [*self.files_added, *self.files_removed, *self.text_changed]
        return tuple(dict.fromkeys(found))


def meaningful_diff(before: Snapshot, after: Snapshot) -> MeaningfulDiff:
    """What changes from ``before`` to ``after``, ignoring comments and formatting."""
    images = _image_deltas(before.images, after.images)
    values: list[ValueDelta] = []
    text_changed: list[str] = []
    for file in sorted(set(before.files) & set(after.files)):
        old, new = before.files[file], after.files[file]
        if old == new:
            continue
        deltas = _file_deltas(file, old, new)
        if deltas is None:
            text_changed.append(file)
            continue
        claimed = [i for i in (*before.images, *after.images) if i.file == file]
        values += [d for d in deltas if not _is_image_value(d, claimed, images)]
    return MeaningfulDiff(
        images=images,
        values=tuple(values),
        files_added=tuple(sorted(set(after.files) - set(before.files))),
        files_removed=tuple(sorted(set(before.files) - set(after.files))),
        text_changed=tuple(text_changed),
    )


def _image_deltas(
    before: tuple[ImageOccurrence, ...], after: tuple[ImageOccurrence, ...]
) -> tuple[ImageDelta, ...]:
    old = {(i.file, i.path): i for i in before}
    new = {(i.file, i.path): i for i in after}
    deltas = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if _version(a) == _version(b):
            continue
        either = b or a
        deltas.append(
            ImageDelta(
                file=key[0],
                path=key[1],
                repository=either.repository if either else "",
                old_tag=a.tag if a else None,
                new_tag=b.tag if b else None,
                old_digest=a.digest if a else None,
                new_digest=b.digest if b else None,
            )
        )
    return tuple(deltas)


def _version(image: ImageOccurrence | None) -> tuple[str, str | None, str | None] | None:
    """What an image change is judged by: a reference that only moved lines has not changed."""
    return None if image is None else (image.repository, image.tag, image.digest)


def _file_deltas(file: str, old: str, new: str) -> list[ValueDelta] | None:
    if is_hcl(file):
        try:
            return _leaf_deltas(file, "", hcl_values(old, file), hcl_values(new, file), None)
        except YamlEditError:
            return None
    if not file.endswith(YAML_SUFFIXES):
        return None
    try:
        old_docs = _documents(old)
        new_docs = _documents(new)
        deltas = []
        for label in _ordered_union(old_docs, new_docs):
            a, b = old_docs.get(label, {}), new_docs.get(label, {})
            kind = _kind(b) or _kind(a)
            name = label if len(old_docs) > 1 or len(new_docs) > 1 else ""
            deltas += _value_deltas(file, name, a, b, kind)
    except (yaml.YAMLError, RecursionError, _TooLarge):
        return None
    return deltas


def _documents(text: str) -> dict[str, Any]:
    """Documents keyed by ``Kind/name`` when they have one, else by position (``#2``)."""
    docs = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    out: dict[str, Any] = {}
    for index, doc in enumerate(docs, start=1):
        name = doc.get("metadata", {}).get("name") if isinstance(doc, dict) else None
        label = f"{_kind(doc)}/{name}" if _kind(doc) and isinstance(name, str) else f"#{index}"
        out[label if label not in out else f"{label}#{index}"] = doc
    return out


def _kind(doc: Any) -> str | None:
    kind = doc.get("kind") if isinstance(doc, dict) else None
    return kind if isinstance(kind, str) else None


def _ordered_union(a: Mapping[_K, Any], b: Mapping[_K, Any]) -> list[_K]:
    return list(dict.fromkeys(chain(a, b)))


def _value_deltas(
    file: str, document: str, old: Any, new: Any, kind: str | None
) -> list[ValueDelta]:
    return _leaf_deltas(file, document, _flatten(old), _flatten(new), kind)


def _leaf_deltas(
    file: str,
    document: str,
    old_leaves: Mapping[YamlPath, Any],
    new_leaves: Mapping[YamlPath, Any],
    kind: str | None,
) -> list[ValueDelta]:
    deltas = []
    for path in _ordered_union(old_leaves, new_leaves):
        a, b = old_leaves.get(path, ABSENT), new_leaves.get(path, ABSENT)
        if a is ABSENT or b is ABSENT or type(a) is not type(b) or a != b:
            hidden = sensitive(path, a, document_kind=kind) or sensitive(
                path, b, document_kind=kind
            )
            deltas.append(ValueDelta(file, document, dotted(path), a, b, hidden))
    return deltas


def _flatten(value: Any) -> dict[YamlPath, Any]:
    leaves = dict(islice(_leaves(value, ()), MAX_LEAVES + 1))
    if len(leaves) > MAX_LEAVES:
        # Aliases can expand a small file into billions of leaves ("billion laughs").
        raise _TooLarge
    return leaves


def _leaves(value: Any, path: YamlPath) -> Iterator[tuple[YamlPath, Any]]:
    """Scalars and empty containers by path; a whole added subtree shows leaf by leaf."""
    if len(path) > _MAX_DEPTH:
        yield path, "…"
    elif isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _is_image_value(
    delta: ValueDelta, images: list[ImageOccurrence], changed: tuple[ImageDelta, ...]
) -> bool:
    """A value that is (part of) an image reference is already reported as an image change.

    Image paths in multi-document files start with the document index (``[1].spec...``);
    value deltas name the document separately, so that prefix is dropped before comparing.
    """
    for image in images:
        path = _DOC_INDEX.sub("", image.path) if delta.document else image.path
        if delta.path == path or delta.path.startswith((path + ".", path + "[")):
            return True
    old, new = str(delta.old), str(delta.new)
    return any(
        d.file == delta.file
        and d.old_tag
        and d.new_tag
        and old.endswith(d.old_tag)
        and new.endswith(d.new_tag)
        for d in changed
    )
