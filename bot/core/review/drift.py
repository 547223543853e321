"""The meaningful diff of a promotion and the drift warnings a reviewer should see.

Snapshots should hold the promoted app's files only: other apps in the same environment are
expected to differ from the previous environment and would drown the warning.


Snapshots are compared as parsed data, not text: comments, quoting and formatting are not
meaningful. Image changes are reported as images (``repo 1.3.0 -> 1.4.0``); every other changed
YAML value as a dotted path with its old and new value, hidden when it looks secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import Any, Literal, TypeVar

import yaml

from bot.core.files.yamlscan import ImageOccurrence
from bot.core.promotion.gates import soak_check
from bot.core.promotion.model import Promotion, Snapshot, YamlPath, dotted
from bot.core.review.secrets import SecretFinding, scan_change, sensitive


class _Absent:
    """The value on one side of a change where the path does not exist."""

    def __repr__(self) -> str:
        return "ABSENT"


class _TooLarge(Exception):
    """A document with more leaves than ``MAX_LEAVES``: compared as text instead."""


ABSENT: Any = _Absent()
MAX_LEAVES = 100_000
_K = TypeVar("_K", str, YamlPath)
_MAX_LISTED = 10
_DOC_INDEX = re.compile(r"^\[\d+\]\.")

WarningKind = Literal[
    "environment-differs",
    "downgrade",
    "skipped-environment",
    "not-soaked",
    "branch-ahead",
    "plaintext-secret",
]
_YAML_SUFFIXES = (".yaml", ".yml", ".json")
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
    if not file.endswith(_YAML_SUFFIXES):
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
    old_leaves, new_leaves = _flatten(old), _flatten(new)
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


@dataclass(frozen=True)
class DriftWarning:
    kind: WarningKind
    message: str


def drift_warnings(
    *,
    promotions: Sequence[Promotion],
    target_before: Snapshot,
    target_after: Snapshot,
    previous_environment: str | None = None,
    previous: Snapshot | None = None,
    arrived_at: datetime | None = None,
    soak: timedelta | None = None,
    now: datetime | None = None,
    ahead_by: int | None = None,
) -> tuple[DriftWarning, ...]:
    """Everything a reviewer should know before merging a promotion PR.

    ``previous`` is the previous environment's snapshot, ``arrived_at`` when the version reached
    it, ``ahead_by`` how many commits the target branch has that the previous one lacks.
    """
    warnings = _secret_warnings(target_before, target_after)
    warnings += [
        DriftWarning("downgrade", f"{p.image} goes back from {p.from_tag} to {p.to_tag}")
        for p in promotions
        if p.change_kind == "downgrade"
    ]
    if previous_environment is None:
        return tuple(warnings)
    if previous is not None:
        warnings += _upstream_warnings(promotions, previous_environment, previous, target_after)
    if promotions and soak and now is not None:
        first = promotions[0]
        check = soak_check(
            first.environment,
            previous_environment,
            version=first.to_tag,
            arrived=arrived_at,
            soak=soak,
            now=now,
        )
        if not check.passed:
            warnings.append(DriftWarning("not-soaked", check.reason))
    if ahead_by:
        target = promotions[0].environment if promotions else "the target"
        warnings.append(
            DriftWarning(
                "branch-ahead",
                f"{target} has {ahead_by} commit(s) that {previous_environment} lacks",
            )
        )
    return tuple(warnings)


def _secret_warnings(before: Snapshot, after: Snapshot) -> list[DriftWarning]:
    found: list[SecretFinding] = []
    for file, text in sorted(after.files.items()):
        old = before.files.get(file)
        if old != text and file.endswith(_YAML_SUFFIXES):
            found += scan_change(old, text, file=file)
    return [
        DriftWarning("plaintext-secret", f"plaintext secret added: {f.describe()}") for f in found
    ]


def _upstream_warnings(
    promotions: Sequence[Promotion], previous_environment: str, previous: Snapshot, after: Snapshot
) -> list[DriftWarning]:
    warnings = [
        DriftWarning(
            "skipped-environment",
            f"{p.image} {p.to_tag} is not in {previous_environment}; "
            f"this promotion skips that environment",
        )
        for p in promotions
        if not any(
            _same_image(p.image, i.repository) and i.tag == p.to_tag for i in previous.images
        )
    ]
    differs = meaningful_diff(previous, after).locations()
    if differs:
        shown = ", ".join(differs[:_MAX_LISTED])
        more = f" and {len(differs) - _MAX_LISTED} more" if len(differs) > _MAX_LISTED else ""
        target = promotions[0].environment if promotions else "the target"
        warnings.append(
            DriftWarning(
                "environment-differs",
                f"{target} differs from {previous_environment} in more than this change: "
                f"{shown}{more}",
            )
        )
    return warnings


def _has_version(snapshot: Snapshot, image: str, tag: str) -> bool:
    return any(_same_image(image, i.repository) and i.tag == tag for i in snapshot.images)


def _same_image(a: str, b: str) -> bool:
    """``ghcr.io/acme/api`` and ``acme/api`` name the same image when one ends the other."""
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)
