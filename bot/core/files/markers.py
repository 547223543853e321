"""Line-end marker comments that bind a scalar to an image, the scalar each one names, and the
image sites they make.

Two kinds of marker are read:

* Flux setters, ``# {"$imagepolicy": "<ns>:<policy>[:tag|:name|:digest]"}`` (image-automation
  controller). ``:digest`` stands for the digest only (``sha256:...``), as in current Flux.
* Our own marker for any other scalar, ``# promotion-bot: <repository>[:<field>]`` where field
  is ``ref`` (the default: the scalar holds a whole reference), ``tag``, ``name`` or ``digest``.
  Example: ``version: 1.2.3 # promotion-bot: ghcr.io/acme/api:tag``.

A marker belongs to the last scalar that ends on its line before the ``#``. Files without a
marker token are not searched (a substring test, no parse).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from yaml.nodes import ScalarNode

from bot.core.files.images import ImageRef, ImageRefError, parse_image_ref, valid_digest
from bot.core.files.sites import Field, ImageSite, make_site, split_tag
from bot.core.files.yamlnodes import (
    Parsed,
    format_path,
    scalar_children,
    scalar_value,
    walk_all,
    yaml_lines,
)

FLUX_TOKEN = '"$imagepolicy"'
OWN_TOKEN = "promotion-bot:"
FIELDS = ("ref", "tag", "name", "digest")

_FLUX_RE = re.compile(r"#\s*(\{.*\"\$imagepolicy\".*\})\s*$")
_OWN_RE = re.compile(r"#\s*promotion-bot:\s*(\S+)\s*$")


@dataclass(frozen=True)
class Marker:
    """A marker comment attached to ``node``; ``target`` is the policy key or repository."""

    flux: bool
    target: str
    field: str
    node: ScalarNode
    path: str
    line: int


@dataclass(frozen=True)
class _Scalar:
    start: int
    end: int
    node: ScalarNode
    path: str


def find_markers(parsed: Parsed) -> list[Marker]:
    """Every well-formed marker of either kind that sits after a scalar."""
    text = parsed.text
    if FLUX_TOKEN not in text and OWN_TOKEN not in text:
        return []
    by_line = _scalars_by_end_line(parsed)
    markers: list[Marker] = []
    for number, (start, line) in enumerate(yaml_lines(text)):
        found = _read_marker(line)
        if found is not None:
            marker = _attach(found, start, number, by_line.get(number, []), text)
            if marker is not None:
                markers.append(marker)
    return markers


def _read_marker(line: str) -> tuple[int, bool, str, str] | None:
    """(column of '#', flux?, target, field) for a line ending in a marker."""
    if FLUX_TOKEN in line and (match := _FLUX_RE.search(line)):
        try:
            policy = json.loads(match.group(1)).get("$imagepolicy")
        except (ValueError, AttributeError):
            return None
        if not isinstance(policy, str) or policy.count(":") not in (1, 2):
            return None
        ns, name, *rest = policy.split(":")
        field = rest[0] if rest else "ref"
        return (match.start(), True, f"{ns}:{name}", field) if field in FIELDS else None
    if OWN_TOKEN in line and (match := _OWN_RE.search(line)):
        target, field = _split_field(match.group(1))
        return match.start(), False, target, field
    return None


def _split_field(target: str) -> tuple[str, str]:
    head, sep, tail = target.rpartition(":")
    if sep and "/" not in tail and tail in FIELDS:
        return head, tail
    return target, "ref"


def _attach(
    found: tuple[int, bool, str, str],
    line_start: int,
    number: int,
    scalars: list[_Scalar],
    text: str,
) -> Marker | None:
    column, flux, target, field = found
    hash_at = line_start + column
    before = [s for s in scalars if s.end <= hash_at and not text[s.end : hash_at].strip()]
    if not before:
        return None
    scalar = max(before, key=lambda s: s.end)
    return Marker(flux, target, field, scalar.node, scalar.path, number + 1)


def _scalars_by_end_line(parsed: Parsed) -> dict[int, list[_Scalar]]:
    by_line: dict[int, list[_Scalar]] = {}
    for doc, parent, parent_path in walk_all(parsed):
        for node, path in scalar_children(parent, parent_path):
            if node.start_mark.line == node.end_mark.line:
                scalar = _Scalar(
                    node.start_mark.index + parsed.offset,
                    node.end_mark.index + parsed.offset,
                    node,
                    format_path(path, doc),
                )
                by_line.setdefault(node.end_mark.line, []).append(scalar)
    return by_line


def marker_sites(parsed: Parsed) -> Iterator[ImageSite]:
    """The sites marker comments make; a tag and a digest marked for one policy in one mapping
    are one site."""
    markers = find_markers(parsed)
    names = {m.target: m.node for m in markers if m.field == "name"}
    # A tag and a digest marked for one policy in one mapping are one reference, not two.
    parts: dict[tuple[bool, str, str], list[Marker]] = {}
    for marker in markers:
        if marker.field == "name":
            continue  # a name alone is not a reference; it names the repository for the others
        key = marker.path if marker.field == "ref" else marker.path.rpartition(".")[0]
        parts.setdefault((marker.flux, marker.target, key), []).append(marker)
    for group in parts.values():
        site = _marker_site(group, names)
        if site is not None:
            yield site


def _marker_site(group: list[Marker], names: dict[str, ScalarNode]) -> ImageSite | None:
    first = min(group, key=lambda m: _FIELD_ORDER.index(m.field))
    kind = "flux-setter" if first.flux else "marker"
    value = scalar_value(first.node) or ""
    if not first.flux:
        repository: str | None = first.target
    elif first.field == "ref":
        repository = value
    else:
        repository = scalar_value(names.get(first.target))
    ref = _ref_for_field(first.field, repository, value)
    if ref is None or repository is None:
        return None
    fields = [Field(first.field, first.node, first.path)]
    fields += [Field(m.field, m.node, m.path) for m in group if m is not first]
    if len(fields) == 1:
        return ImageSite(kind, first.path, first.line, ref, tuple(fields))
    return make_site(kind, repository, tuple(fields))


_FIELD_ORDER = ("ref", "tag", "digest")


def _ref_for_field(field: str, repository: str | None, value: str) -> ImageRef | None:
    try:
        if repository is None:
            return None
        if field == "ref":
            return parse_image_ref(value)
        base = parse_image_ref(repository)
        if field == "tag":
            tag, digest = split_tag(value)
            return base.with_version(tag, digest) if tag is not None or not value else None
        return base.with_version(None, value) if valid_digest(value) else None
    except ImageRefError:
        return None
