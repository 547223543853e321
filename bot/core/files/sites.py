"""Image sites: the scalars that together hold one image reference in a YAML file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from yaml.nodes import Node, ScalarNode

from bot.core.files.images import ImageRef, ImageRefError, parse_image_ref, valid_tag
from bot.core.files.yamlnodes import Parsed, PathPart, scalar_value

# Lenient on purpose: files hold truncated example digests (``sha256:25a0d4``) worth reporting.
_LOOSE_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9+._-]*:[0-9a-fA-F]+")


@dataclass(frozen=True)
class Field:
    """One scalar of a site. ``role`` is ``ref`` (a whole reference, after ``prefix``), ``tag``
    (a tag, maybe ``tag@digest``), ``digest``, ``extra-digest`` (a digest of a variant image,
    cleared when the tag moves) or ``name`` (never edited by ``set_image``)."""

    role: str
    node: ScalarNode
    path: str
    key: ScalarNode | None = None
    prefix: str = ""


@dataclass(frozen=True)
class Embedded:
    """YAML held in a literal block scalar (Argo CD ``helm.values``): the scalar, and its value
    parsed, the nodes' marks pointing into the text that holds the scalar."""

    block: ScalarNode
    parsed: Parsed


@dataclass(frozen=True)
class ImageSite:
    """An image reference and the fields it is made of; ``fields[0]`` is the main one.
    ``within`` is the block scalar the fields are inside of, if any."""

    kind: str
    path: str
    line: int
    ref: ImageRef
    fields: tuple[Field, ...]
    within: Embedded | None = None


def split_tag(text: str) -> tuple[str | None, str | None]:
    """``1.2@sha256:..`` -> (tag, digest); (None, None) when either part is not valid."""
    tag, at, digest = text.partition("@")
    if not valid_tag(tag) or (at and not _LOOSE_DIGEST_RE.fullmatch(digest)):
        return None, None
    return tag, digest if at else None


def tag_field_value(field: Field) -> tuple[str | None, str | None] | None:
    """(tag, digest) held by a tag or digest field; None when the value is not one (a template)."""
    text = scalar_value(field.node)
    if not text:
        return None, None
    if field.role == "tag":
        tag, digest = split_tag(text)
        return (tag, digest) if tag is not None else None
    return (None, text) if _LOOSE_DIGEST_RE.fullmatch(text) else None


def kind_for_path(path: tuple[PathPart, ...], container_lists: frozenset[str]) -> str:
    """``container`` for ``<list>[i].image`` in a container list, else ``helm-values``."""
    if len(path) >= 3 and isinstance(path[-2], int) and path[-3] in container_lists:
        return "container"
    return "helm-values"


def repository_ref(repository: str, *, full: bool = False) -> ImageRef | None:
    """``repository`` parsed, or ``None`` when it does not parse or (unless ``full``, a whole
    reference) already carries a tag or digest: the start of a site in any format."""
    try:
        ref = parse_image_ref(repository)
    except ImageRefError:
        return None
    if not full and (ref.tag is not None or ref.digest is not None):
        return None
    return ref


def split_image_name(items: Mapping[str, tuple[ScalarNode, Node]]) -> str | None:
    """``repository/image`` when a map splits its image name in two: a plain ``image`` (no tag,
    digest or registry of its own) beside a scalar ``repository``; ``""`` when that repository
    is empty or no name prefix (a template); None for any other map."""
    repository_node = items.get("repository", (None, None))[1]
    image = scalar_value(items.get("image", (None, None))[1])
    if not isinstance(repository_node, ScalarNode) or not image:
        return None
    part = repository_ref(image)
    if part is None or part.registry:
        return None
    repository = scalar_value(repository_node)
    if not repository or repository_ref(repository) is None:
        return ""
    joined = f"{repository}/{image}"
    return joined if repository_ref(joined) is not None else ""


def make_site(
    kind: str, repository: str, fields: tuple[Field, ...], *, full: bool = False
) -> ImageSite | None:
    """A site if the repository parses and every tag/digest value is a valid one (or empty)."""
    ref = repository_ref(repository, full=full)
    versions = ((f.role, tag_field_value(f)) for f in fields if f.role not in ("ref", "name"))
    versioned = None if ref is None else with_version_of(ref, versions)
    if versioned is None:
        return None
    main = fields[0]
    return ImageSite(kind, main.path, main.node.start_mark.line + 1, versioned, fields)


Version = tuple[str | None, str | None]


def with_version_of(
    ref: ImageRef, versions: Iterable[tuple[str, Version | None]]
) -> ImageRef | None:
    """``ref`` at what its fields hold, each ``(role, (tag, digest))`` as its format reads it:
    a ``tag`` sets both, a ``digest`` the digest; ``None`` when a field holds no valid value
    (YAML's sites and Terraform's share this)."""
    tag, digest = ref.tag, ref.digest
    for role, value in versions:
        if value is None:
            return None
        if role == "tag":
            tag, digest = value
        elif role == "digest" and value[1]:
            digest = value[1]
    return ref.with_version(tag, digest)
