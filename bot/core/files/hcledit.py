"""Byte-exact image edits in Terraform and OpenTofu files: only a string literal's characters
between its quotes change.

The parser (``bot.core.files.hclparse``) locates each string with its span; the new value is
written over exactly those characters (tags and references need no escape), and the result is
parsed again: it must hold the same strings at the same paths, differing only in the values
intended. Comments, alignment, heredocs and line endings are never touched.

Digests follow their tag as in YAML (``bot.core.files.yamledit``): a pinned digest is replaced
by the one given, and a tag that moves without one is refused; a file that pins no digest is
not made to.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.files.hclparse import HclEditError, HclParsed, parse_hcl
from bot.core.files.hclscan import HclField, HclSite, scan_hcl
from bot.core.files.images import parse_image_ref
from bot.core.files.sites import split_tag
from bot.core.files.tagkeys import mentions
from bot.core.files.yamledit import Change, EditResult, checked_target, next_digest


def set_hcl_image(
    text: str,
    *,
    image: str,
    tag: str,
    digest: str | None = None,
    file: str = "",
    tag_keys: tuple[str, ...] = (),
) -> EditResult:
    """Set every reference to repository ``image`` in ``text`` (and the strings at
    ``tag_keys``, bare tags of it) to ``tag`` and ``digest``."""
    target = checked_target(image, tag, digest, file)
    keys = dict.fromkeys(tag_keys, image)
    if not mentions(text, target.path, tag_keys):
        return EditResult(text, ())
    parsed = parse_hcl(text, file)
    sites = [s for s in scan_hcl(parsed, keys) if s.ref.name == target.name]
    plan: dict[int, tuple[HclField, str]] = {}
    for site in sites:
        for field in site.fields:
            new = _field_value(field, site, tag=tag, digest=digest, file=file)
            if new != field.string.value:
                plan[field.string.start] = (field, new)
    return _apply(parsed, [plan[start] for start in sorted(plan)])


def _field_value(field: HclField, site: HclSite, *, tag: str, digest: str | None, file: str) -> str:
    old = field.string.value
    moves = site.ref.tag != tag
    where = f"file={file!r} path={field.string.where}"
    if field.role == "ref":
        ref = parse_image_ref(old)
        return str(ref.with_version(tag, next_digest(ref.digest, moves, digest, where)))
    if field.role == "tag":
        pinned = next_digest(split_tag(old)[1], moves, digest, where)
        return f"{tag}@{pinned}" if pinned else tag
    return next_digest(old, moves, digest, where) or old


def _apply(parsed: HclParsed, plan: list[tuple[HclField, str]]) -> EditResult:
    """Splice each new value between its string's quotes, then verify by parsing again."""
    if not plan:
        return EditResult(parsed.text, ())
    text, pieces, cursor = parsed.text, [], 0
    for field, new in plan:
        string = field.string
        if text[string.start] != '"' or text[string.end - 1] != '"':
            raise HclEditError(f"cannot locate string byte-exactly file={parsed.file!r}")
        pieces += [text[cursor : string.start + 1], new]
        cursor = string.end - 1
    pieces.append(text[cursor:])
    new_text = "".join(pieces)
    _verify(parsed, new_text, {field.string.start: new for field, new in plan})
    changes = tuple(
        Change(parsed.file, f.string.line, f.string.where, f.string.value, new) for f, new in plan
    )
    return EditResult(new_text, changes)


def _verify(parsed: HclParsed, new_text: str, expected: Mapping[int, str]) -> None:
    """The new text holds the same strings at the same paths; only the planned values differ."""
    where = f"file={parsed.file!r}"
    try:
        again = parse_hcl(new_text, parsed.file)
    except HclEditError as err:
        raise HclEditError(f"refusing edit that breaks the hcl {where}: {err}") from err
    if [s.path for s in again.strings] != [s.path for s in parsed.strings]:
        raise HclEditError(f"refusing edit that changes the strings of the file {where}")
    for old, new in zip(parsed.strings, again.strings, strict=True):
        want = expected.get(old.start, old.value)
        if new.value != want:
            raise HclEditError(
                f"refusing edit: {old.where} would read {new.value!r}, not {want!r} {where}"
            )
