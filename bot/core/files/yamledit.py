"""Byte-exact image edits in YAML text: only the characters of the target scalars change.

The text is parsed (``bot.core.files.yamlnodes``) only to find where each value is; the new value is
written over exactly those characters, in the scalar's own quote style, quoted when a plain
scalar would read as another type. The result is parsed again and compared node by node with
the original: any difference other than the intended values refuses the edit.

Digests follow their tag: when the tag moves and the file pins a digest (``tag@sha256:...`` or a
``digest``/``sha`` field), the new digest is written if one is given, else the edit is refused;
a variant's digest field (``digestChroot``) is cleared. A file that does not pin a digest is not
made to. An aliased scalar is edited once, at its anchor; if it is shared by sites of different
repositories the edit is refused as ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.files.images import ImageRef, ImageRefError, parse_image_ref, valid_digest, valid_tag
from bot.core.files.scalars import Span, reads_as_string, render_scalar, scalar_span
from bot.core.files.sites import Embedded, Field, ImageSite, split_tag
from bot.core.files.yamlnodes import (
    Parsed,
    YamlEditError,
    compose_roots,
    parse_yaml,
    scalar_value,
)
from bot.core.files.yamlscan import scan_sites

__all__ = [
    "Change",
    "EditResult",
    "Replacement",
    "YamlEditError",
    "apply_replacements",
    "checked_target",
    "next_digest",
    "set_image",
    "value_span",
]


@dataclass(frozen=True)
class Change:
    """One scalar changed by an edit; ``old`` and ``new`` are values, not source text."""

    file: str
    line: int
    path: str
    old: str
    new: str


@dataclass(frozen=True)
class EditResult:
    text: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Replacement:
    """A planned new value for one scalar node (inside the block scalar ``within``, if any)."""

    node: ScalarNode
    value: str
    path: str
    key: ScalarNode | None = None
    within: Embedded | None = None


def set_image(
    text: str, *, image: str, tag: str, digest: str | None = None, file: str = ""
) -> EditResult:
    """Set every reference to repository ``image`` in ``text`` to ``tag`` (and ``digest``)."""
    target = checked_target(image, tag, digest, file)
    if target.path.rsplit("/", 1)[-1] not in text:
        return EditResult(text, ())
    parsed = parse_yaml(text, file)
    sites = scan_sites(parsed)
    matching = [s for s in sites if s.ref.name == target.name]
    _refuse_shared_nodes(matching, sites, file)
    plan = [r for site in matching for r in _plan_site(site, tag, digest, file)]
    return apply_replacements(parsed, plan)


def checked_target(image: str, tag: str, digest: str | None, file: str) -> ImageRef:
    if not valid_tag(tag):
        raise YamlEditError(
            f"refusing tag that is not a valid docker tag file={file!r} tag={tag!r}"
        )
    if digest is not None and not valid_digest(digest):
        raise YamlEditError(f"refusing invalid digest file={file!r} digest={digest!r}")
    try:
        target = parse_image_ref(image)
    except ImageRefError as err:
        raise YamlEditError(f"refusing invalid image file={file!r}: {err}") from err
    if target.tag is not None or target.digest is not None:
        raise YamlEditError(f"image must be a repository without tag or digest image={image!r}")
    return target


def _refuse_shared_nodes(matching: list[ImageSite], sites: list[ImageSite], file: str) -> None:
    """An anchored scalar used by another repository's site cannot be edited for one of them."""
    owners: dict[int, set[str]] = {}
    for site in sites:
        for field in site.fields:
            owners.setdefault(id(field.node), set()).add(site.ref.name)
    for site in matching:
        for field in site.fields:
            if len(owners[id(field.node)]) > 1:
                names = ",".join(sorted(owners[id(field.node)]))
                raise YamlEditError(
                    f"refusing ambiguous edit of a scalar shared through an alias "
                    f"file={file!r} path={field.path} repositories={names}"
                )


def _plan_site(site: ImageSite, tag: str, digest: str | None, file: str) -> list[Replacement]:
    moves = site.ref.tag != tag
    plan = []
    for field in site.fields:
        old = scalar_value(field.node) or ""
        new = _field_value(
            field,
            old,
            tag=tag,
            digest=digest,
            moves=moves,
            where=f"file={file!r} path={field.path}",
        )
        if new is not None and new != old:
            plan.append(Replacement(field.node, new, field.path, field.key, site.within))
    return plan


def _field_value(
    field: Field, old: str, *, tag: str, digest: str | None, moves: bool, where: str
) -> str | None:
    if field.role == "ref":
        ref = parse_image_ref(old[len(field.prefix) :])
        new_ref = ref.with_version(tag, next_digest(ref.digest, moves, digest, where))
        return f"{field.prefix}{new_ref}"
    if field.role == "tag":
        pinned = split_tag(old)[1] if old else None
        new_digest = next_digest(pinned, moves, digest, where)
        return f"{tag}@{new_digest}" if new_digest else tag
    if field.role == "digest":
        return next_digest(old, moves, digest, where) or old
    if field.role == "extra-digest":
        return old if next_digest(old, moves, digest, where) == old else ""
    return None


def next_digest(old: str | None, moves: bool, digest: str | None, where: str) -> str | None:
    if not old:
        return old
    if digest is not None:
        return digest
    if moves:
        raise YamlEditError(
            f"refusing to leave a digest pinned to the old tag; give the new digest {where}"
        )
    return old


def apply_replacements(parsed: Parsed, plan: list[Replacement]) -> EditResult:
    """Write each replacement over its scalar's characters, verify, and list the changes."""
    unique: dict[int, Replacement] = {}
    for item in plan:
        seen = unique.setdefault(id(item.node), item)
        if seen.value != item.value:
            raise YamlEditError(
                f"refusing two different values for one scalar file={parsed.file!r} "
                f"path={item.path} values={seen.value!r},{item.value!r}"
            )
    if not unique:
        return EditResult(parsed.text, ())
    ordered = sorted(unique.values(), key=lambda r: r.node.start_mark.index)
    new_text = _splice(parsed, ordered)
    blocks = {id(r.within.block): r.within for r in ordered if r.within is not None}
    _verify(parsed, new_text, {id(r.node): r.value for r in ordered}, blocks)
    changes = tuple(
        Change(parsed.file, r.node.start_mark.line + 1, r.path, str(r.node.value), r.value)
        for r in ordered
    )
    return EditResult(new_text, changes)


def _splice(parsed: Parsed, ordered: list[Replacement]) -> str:
    text, pieces, cursor = parsed.text, [], 0
    for item in ordered:
        span, rendered = _locate(parsed, item)
        if span.start < cursor:
            raise YamlEditError(f"overlapping edits file={parsed.file!r} path={item.path}")
        pieces += [text[cursor : span.start], rendered]
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _locate(parsed: Parsed, item: Replacement) -> tuple[Span, str]:
    span = value_span(parsed, item.node, item.key, item.path)
    if span.start == span.end:
        return span, " " + render_scalar(None, item.value)
    style = item.node.style if item.node.style in ("'", '"') else None
    return span, render_scalar(style, item.value)


def value_span(parsed: Parsed, node: ScalarNode, key: ScalarNode | None, path: str = "") -> Span:
    """The characters a new value replaces; an empty plain value is the point after ``key:``."""
    where = f"file={parsed.file!r} path={path}"
    if node.value == "" and not node.style:
        colon = _colon_after(parsed.text, key, parsed.offset)
        if colon is None:
            raise YamlEditError(f"cannot locate empty value {where}")
        return Span(colon + 1, colon + 1)
    try:
        return scalar_span(parsed.text, node, parsed.offset)
    except YamlEditError as err:
        raise YamlEditError(f"{err} {where}") from err


def _colon_after(text: str, key: ScalarNode | None, offset: int) -> int | None:
    if key is None:
        return None
    index = key.end_mark.index + offset
    while index < len(text) and text[index] in " \t":
        index += 1
    return index if index < len(text) and text[index] == ":" else None


def _verify(
    parsed: Parsed, new_text: str, expected: dict[int, str], blocks: dict[int, Embedded]
) -> None:
    """The new text parses to the same graph, differing only at the expected scalars; a block
    scalar holding YAML edited inside is verified the same way, its value parsed."""
    where = f"file={parsed.file!r}"
    try:
        # The node graph is walked below in step with the old one, so no separate walk here.
        roots = compose_roots(new_text, parsed.file).roots
    except YamlEditError as err:
        raise YamlEditError(f"refusing edit that breaks the yaml {where}: {err}") from err
    if len(roots) != len(parsed.roots):
        raise YamlEditError(f"refusing edit that changes the document count {where}")
    pairs: dict[int, Node] = {}
    stack = list(zip(parsed.roots, roots, strict=True))
    while stack:
        old, now = stack.pop()
        if id(old) in pairs:
            if pairs[id(old)] is not now:
                raise YamlEditError(f"refusing edit that changes aliases {where}")
            continue
        pairs[id(old)] = now
        if id(old) in blocks and isinstance(now, ScalarNode) and now.style == "|":
            _verify(blocks[id(old)].parsed, now.value, expected, {})
            continue
        problem = _node_difference(old, now, expected)
        if problem:
            raise YamlEditError(f"refusing edit: {problem} {where} line={old.start_mark.line + 1}")
        if isinstance(old, MappingNode):
            for (old_key, old_value), (key, value) in zip(old.value, now.value, strict=True):
                stack += ((old_key, key), (old_value, value))
        elif isinstance(old, SequenceNode):
            stack += zip(old.value, now.value, strict=True)


def _node_difference(old: Node, now: Node, expected: dict[int, str]) -> str | None:
    if type(old) is not type(now) or old.tag != now.tag:
        return "the structure or a tag would change"
    if not isinstance(old, ScalarNode) or not isinstance(now, ScalarNode):
        return None if len(old.value) == len(now.value) else "the structure would change"
    if id(old) in expected:
        ok = now.value == expected[id(old)] and reads_as_string(now)
        return None if ok else f"value would not read as the string {expected[id(old)]!r}"
    if old.value != now.value or old.style != now.style:
        return f"an unrelated value would change from {old.value!r}"
    return None
