"""YAML keys the config names as holding a bare tag of an app's image (``apps.NAME.tags``).

A tag far from its repository (``global.apiTag: 1.2.3``, a chart that builds the reference
itself) names no image, so no scanner rule can find it; the config says which key holds which
image's tag. A key is a dotted path (``global.apiTag``, ``images[0].tag``) as ``images``
prints paths, matched in every document of the file. Edits go through
``yamledit.apply_replacements``: byte-exact, re-parsed and verified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from yaml.nodes import MappingNode, ScalarNode

from bot.core.files.images import parse_image_ref
from bot.core.files.sites import split_tag
from bot.core.files.yamledit import EditResult, Replacement, apply_replacements, next_digest
from bot.core.files.yamlnodes import Parsed, format_path, parse_yaml, scalar_value
from bot.core.files.yamlscan import ImageOccurrence

_INDEX_RE = re.compile(r"(?:\[\d+\])+$")  # ``[0]`` ending a key's last part


def mentions(text: str, repository: str, tag_keys: tuple[str, ...] = ()) -> bool:
    """Whether ``text`` holds ``repository``'s last component or the last part of a key
    (``api`` of ``image_tags.api``): a file that holds neither cannot hold the image, and is
    not parsed. The same cheap test serves every format."""
    return repository.rsplit("/", 1)[-1] in text or names_a_key(text, tag_keys)


def names_a_key(text: str, tag_keys: tuple[str, ...]) -> bool:
    """Whether ``text`` holds the last part of one of ``tag_keys``."""
    return any(_INDEX_RE.sub("", key.rsplit(".", 1)[-1]) in text for key in tag_keys)


@dataclass(frozen=True)
class KeyedTag:
    """A scalar at a configured key: the image it is a tag of, and where it is."""

    image: str
    node: ScalarNode
    key_node: ScalarNode
    path: str


def keyed_tags(parsed: Parsed, tag_keys: Mapping[str, str]) -> Iterator[KeyedTag]:
    """The scalars at ``tag_keys`` (key -> image) that hold a valid tag (maybe ``tag@digest``)."""
    for doc, node, path in parsed.nodes:
        if not isinstance(node, MappingNode):
            continue
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or not isinstance(value, ScalarNode):
                continue
            image = tag_keys.get(format_path((*path, key.value)))
            if image is not None and split_tag(scalar_value(value) or "")[0] is not None:
                yield KeyedTag(image, value, key, format_path((*path, key.value), doc))


def keyed_occurrences(text: str, file: str, tag_keys: Mapping[str, str]) -> list[ImageOccurrence]:
    """The tags at ``tag_keys`` in ``text``, as image references of kind ``tag-key``."""
    found = []
    for keyed in keyed_tags(parse_yaml(text, file), tag_keys):
        tag, digest = split_tag(scalar_value(keyed.node) or "")
        name = parse_image_ref(keyed.image).name
        line = keyed.node.start_mark.line + 1
        found.append(ImageOccurrence(file, line, "tag-key", name, tag, digest, keyed.path))
    return found


def set_keyed_tags(
    result: EditResult,
    *,
    file: str,
    image: str,
    tag: str,
    digest: str | None,
    tag_keys: tuple[str, ...],
) -> EditResult:
    """``result`` with the tags at ``tag_keys`` (keys of ``image``) also set; its changes and
    these in line order."""
    if not names_a_key(result.text, tag_keys):
        return result
    parsed = parse_yaml(result.text, file)
    plan = []
    for keyed in keyed_tags(parsed, dict.fromkeys(tag_keys, image)):
        old = scalar_value(keyed.node) or ""
        old_tag, pinned = split_tag(old)
        where = f"file={file!r} path={keyed.path}"
        new_digest = next_digest(pinned, old_tag != tag, digest, where)
        new = f"{tag}@{new_digest}" if new_digest else tag
        if new != old:
            plan.append(Replacement(keyed.node, new, keyed.path, keyed.key_node))
    edited = apply_replacements(parsed, plan)
    changes = sorted((*result.changes, *edited.changes), key=lambda c: c.line)
    return EditResult(edited.text, tuple(changes))
