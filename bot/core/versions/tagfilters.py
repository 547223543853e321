"""Tag filters that run before any ordering: exclusion list, Keel ``match``, Flux ``filterTags``.

Tags arrive from webhooks and registries, so they are treated as hostile: entries longer than
Docker's 128 characters are dropped, and user regular expressions run on RE2 (the engine and the
syntax of Go's ``regexp``, which Flux and Keel use): matching time is linear, there are no
backreferences or lookarounds, and named groups are written ``(?P<name>...)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]

MAX_TAG_LENGTH = 128
MAX_PATTERN_LENGTH = 1024
DEFAULT_EXCLUDE: tuple[str, ...] = (r"^.*\.sig$",)
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{1,256}")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad user pattern is our error to report, not a log line


class TagPatternError(ValueError):
    """A user-supplied tag pattern that cannot be used."""


@dataclass(frozen=True)
class TagRef:
    """One tag as given, split from an optional ``@sha256:...`` digest."""

    tag: str
    digest: str | None = None


def split_digest(entry: str) -> TagRef | None:
    """``tag`` or ``tag@algo:hex`` as a ``TagRef``; None when it cannot be a tag."""
    tag, at, digest = entry.partition("@")
    if not tag or len(tag) > MAX_TAG_LENGTH or (at and not _DIGEST_RE.fullmatch(digest)):
        return None
    return TagRef(tag, digest or None)


@dataclass(frozen=True)
class UserRegex:
    """A compiled user pattern; ``search`` is unanchored like Go's ``FindStringSubmatch``."""

    source: str
    compiled: Any = field(repr=False, compare=False)

    def search(self, text: str) -> tuple[str | None, ...] | None:
        """Group 0 and every capture group (None where a group did not take part)."""
        match = self.compiled.search(text)
        if match is None:
            return None
        return (match.group(0), *match.groups())

    @property
    def names(self) -> Mapping[str, int]:
        names: Mapping[str, int] = self.compiled.groupindex
        return names


@lru_cache(maxsize=256)
def compile_regex(pattern: str, what: str = "pattern") -> UserRegex:
    """Compile a user pattern once (cached); raises ``TagPatternError`` saying why it is bad."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise TagPatternError(f"compiling {what} failed: longer than {MAX_PATTERN_LENGTH} chars")
    try:
        return UserRegex(pattern, re2.compile(pattern, options=_RE2_OPTIONS))
    except re2.error as err:
        detail = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else err
        raise TagPatternError(f"compiling {what} failed {what}={pattern!r}: {detail}") from err


def expand(template: str, groups: Sequence[str | None], names: Mapping[str, int]) -> str:
    """Go's ``Regexp.ExpandString``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``.

    Unknown or unmatched groups expand to nothing; a ``$`` that starts no reference stays as is.
    """
    out: list[str] = []
    rest = template
    while (dollar := rest.find("$")) >= 0:
        out.append(rest[:dollar])
        rest = rest[dollar + 1 :]
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        name, rest_after = _reference(rest)
        if name is None:
            out.append("$")
            continue
        rest = rest_after
        index = _group_index(name, names)
        if index is not None and index < len(groups):
            out.append(groups[index] or "")
    out.append(rest)
    return "".join(out)


def _reference(text: str) -> tuple[str | None, str]:
    braced = text.startswith("{")
    body = text[1:] if braced else text
    end = 0
    while end < len(body) and (body[end].isalnum() or body[end] == "_"):
        end += 1
    if end == 0 or (braced and body[end : end + 1] != "}"):
        return None, text
    return body[:end], body[end + 1 if braced else end :]


def _group_index(name: str, names: Mapping[str, int]) -> int | None:
    if name.isascii() and name.isdigit() and (name == "0" or name[0] != "0"):
        return int(name)
    return names.get(name)


def filter_tags(tags: Iterable[str], pattern: str, extract: str = "") -> dict[str, str]:
    """Flux ``filterTags``: the value to order (extracted or whole tag) -> the original tag.

    An empty pattern keeps every tag. When two tags extract to the same value the later wins,
    as in Flux.
    """
    if not pattern:
        return {t: t for t in tags}
    regex = compile_regex(pattern)
    kept: dict[str, str] = {}
    for tag in tags:
        groups = regex.search(tag)
        if groups is not None:
            kept[expand(extract, groups, regex.names) if extract else tag] = tag
    return kept


def glob_match(pattern: str, text: str) -> bool:
    """Keel's glob: ``*`` matches any run of characters; everything else is literal."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == text
    first, *middle, last = parts
    if len(first) + len(last) > len(text) or not text.startswith(first):
        return False
    if not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for part in middle:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def match_filter(spec: str) -> Callable[[str], bool]:
    """The predicate for a Keel ``match`` value: ``glob:PATTERN`` or ``regexp:PATTERN``."""
    kind, colon, pattern = spec.partition(":")
    if colon and kind == "glob":
        return lambda tag: glob_match(pattern, tag)
    if colon and kind == "regexp":
        regex = compile_regex(pattern, "match")
        return lambda tag: regex.search(tag) is not None
    raise TagPatternError(f"reading match failed match={spec!r}: expected glob:... or regexp:...")
