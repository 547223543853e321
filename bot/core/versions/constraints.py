"""Version constraints in Masterminds/semver v3 syntax, with its semantics and its messages.

Syntax: comparators ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=`` (also ``=>``/``=<``), ``~``/``~>``,
``^``, wildcards ``x``/``X``/``*`` in any position, hyphen ranges ``1.2 - 1.4`` (spaces required:
``1.1-3`` is version 1.1 with pre-release ``3``), ``,`` or spaces for AND, ``||`` for OR. Like
Masterminds ``NewConstraint``, the empty string is rejected (only its single-term parser reads
``""`` as ``*``): leave a constraint out to accept any version.

Pre-releases: unless the caller asks for them, a pre-release version satisfies an OR-group only
when a comparator of that group carries a pre-release itself (``>=1.2.3-0``, ``*-0``).

The grammar is read by a small scanner instead of Masterminds' validating regular expression: that
expression relies on RE2's linear time and backtracks badly in Python's engine on long inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.versions.semver import Version, VersionError, parse_version

MAX_CONSTRAINT_LENGTH = 1024
_OPS = frozenset({"", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^"})
_OP_CHARS = frozenset("=!<>~^")
_SPACE = " \t\n\f\r"  # Go's \s: no vertical tab, no Unicode spaces
_PART = r"[0-9|xX*]+"  # Masterminds' class [0-9|x|X|\*] also admits '|'
_IDENT = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_CV = rf"v?({_PART})(?:\.({_PART}))?(?:\.({_PART}))?(?:-({_IDENT}))?(?:\+({_IDENT}))?"
_CV_RE = re.compile(_CV)
_CV_PLAIN = rf"v?{_PART}(?:\.{_PART})?(?:\.{_PART})?(?:-{_IDENT})?(?:\+{_IDENT})?"
_RANGE_RE = re.compile(rf"[{_SPACE}]*({_CV_PLAIN})[{_SPACE}]+-[{_SPACE}]+({_CV_PLAIN})[{_SPACE}]*")
_WILDCARDS = frozenset({"x", "X", "*"})


class ConstraintError(ValueError):
    """A constraint string that Masterminds/semver would reject."""


def _error(text: str, detail: str) -> ConstraintError:
    return ConstraintError(f"parsing version constraint failed constraint={text!r}: {detail}")


@dataclass(frozen=True)
class Comparator:
    """One ``op version`` term; ``text`` keeps wildcards as written (``1.2.x``)."""

    op: str
    text: str
    version: Version
    dirty: bool = False
    minor_dirty: bool = False
    patch_dirty: bool = False

    def __str__(self) -> str:
        return self.op + self.text

    def failure(self, v: Version, include_prerelease: bool) -> str | None:
        """Why ``v`` fails this comparator, in Masterminds' words; None when it passes."""
        if v.is_prerelease and not include_prerelease:
            return _prerelease_message(v)
        return _CHECKS[self.op](self, v)


def _prerelease_message(v: Version) -> str:
    return f'"{v}" is a prerelease version and the constraint is only looking for release versions'


def _msg(v: Version, c: Comparator, relation: str) -> str:
    return f'"{v}" {relation} "{c.text}"'


def _not_equal(c: Comparator, v: Version) -> str | None:
    con = c.version
    equal = _msg(v, c, "is equal to")
    if c.dirty:
        if con.major != v.major:
            return None
        if con.minor != v.minor and not c.minor_dirty:
            return None
        if c.minor_dirty:
            return equal
        if con.patch != v.patch and not c.patch_dirty:
            return None
        if c.patch_dirty:
            if (v.prerelease or con.prerelease) and v.prerelease != con.prerelease:
                return None
            return equal
    return equal if v.compare(con) == 0 else None


def _greater(c: Comparator, v: Version) -> str | None:
    con = c.version
    fail = _msg(v, c, "is less than or equal to")
    if c.dirty and v.major != con.major:
        return None if v.major > con.major else fail
    if c.dirty and c.minor_dirty:
        return fail  # >11 needs 12 or higher, not 11.1.0
    if c.dirty and c.patch_dirty:
        return None if v.minor > con.minor else fail
    return None if v.compare(con) > 0 else fail


def _less(c: Comparator, v: Version) -> str | None:
    return None if v.compare(c.version) < 0 else _msg(v, c, "is greater than or equal to")


def _greater_equal(c: Comparator, v: Version) -> str | None:
    return None if v.compare(c.version) >= 0 else _msg(v, c, "is less than")


def _less_equal(c: Comparator, v: Version) -> str | None:
    con = c.version
    fail = _msg(v, c, "is greater than")
    if not c.dirty:
        return None if v.compare(con) <= 0 else fail
    if v.major > con.major:
        return fail
    if v.major == con.major and v.minor > con.minor and not c.minor_dirty:
        return fail
    return None


def _tilde(c: Comparator, v: Version) -> str | None:
    con = c.version
    if v < con:
        return _msg(v, c, "is less than")
    if con.core == (0, 0, 0) and not c.minor_dirty and not c.patch_dirty:
        return None  # ~0.0.0 and * accept everything
    if v.major != con.major:
        return _msg(v, c, "does not have same major version as")
    if v.minor != con.minor and not c.minor_dirty:
        return _msg(v, c, "does not have same major and minor version as")
    return None


def _tilde_or_equal(c: Comparator, v: Version) -> str | None:
    if c.dirty:
        return _tilde(c, v)
    return None if v.compare(c.version) == 0 else _msg(v, c, "is not equal to")


def _caret(c: Comparator, v: Version) -> str | None:
    con = c.version
    if v < con:
        return _msg(v, c, "is less than")
    if con.major > 0 or c.minor_dirty:
        return None if v.major == con.major else _msg(v, c, "does not have same major version as")
    if v.major > 0:
        return _msg(v, c, "does not have same major version as")
    if con.minor > 0 or c.patch_dirty:
        if v.minor == con.minor:
            return None
        return (
            _msg(v, c, "does not have same minor version as")
            + ". Expected minor versions to match when constraint major version is 0"
        )
    if v.minor > 0:
        return _msg(v, c, "does not have same minor version as")
    if v.patch == con.patch:
        return None
    return (
        _msg(v, c, "does not equal")
        + ". Expect version and constraint to equal when major and minor versions are 0"
    )


_CHECKS: dict[str, Callable[[Comparator, Version], str | None]] = {
    "": _tilde_or_equal,
    "=": _tilde_or_equal,
    "!=": _not_equal,
    ">": _greater,
    "<": _less,
    ">=": _greater_equal,
    "=>": _greater_equal,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}


@dataclass(frozen=True)
class Group:
    """Comparators joined by AND; ``has_prerelease`` opens the group to pre-release versions."""

    comparators: tuple[Comparator, ...]

    @property
    def has_prerelease(self) -> bool:
        return any(c.version.is_prerelease for c in self.comparators)

    def __str__(self) -> str:
        return " ".join(str(c) for c in self.comparators)


@dataclass(frozen=True)
class Constraint:
    """OR-groups of AND-ed comparators; ``str()`` gives Masterminds' normalised form."""

    groups: tuple[Group, ...]

    def __str__(self) -> str:
        return " || ".join(str(g) for g in self.groups)

    def check(self, version: Version | str, *, include_prerelease: bool = False) -> bool:
        """Whether ``version`` (a string is parsed loosely) satisfies the constraint."""
        v = _as_version(version)
        return any(
            all(c.failure(v, include_prerelease or g.has_prerelease) is None for c in g.comparators)
            for g in self.groups
        )

    def reasons(self, version: Version | str, *, include_prerelease: bool = False) -> list[str]:
        """Every failure message, in order, like Masterminds ``Validate``; empty when satisfied."""
        v = _as_version(version)
        found: list[str] = []
        for group in self.groups:
            include = include_prerelease or group.has_prerelease
            if v.is_prerelease and not include:
                # Masterminds reports the pre-release rule once, not once per group.
                if (message := _prerelease_message(v)) not in found:
                    found.append(message)
                continue
            failures = [m for c in group.comparators if (m := c.failure(v, include)) is not None]
            if not failures:
                return []
            found.extend(failures)
        return found


def _as_version(version: Version | str) -> Version:
    return version if isinstance(version, Version) else parse_version(version, loose=True)


def _rewrite_ranges(text: str) -> str:
    """Turn each ``A - B`` into ``>= A, <= B`` the way Masterminds does (textual replace)."""
    out = text
    for match in _RANGE_RE.finditer(text):
        out = out.replace(match.group(0), f">= {match.group(1)}, <= {match.group(2)} ", 1)
    return out


def _scan_terms(text: str, segment: str) -> list[tuple[str, re.Match[str]]]:
    """Split one OR-segment into (op, version match) pairs; separators are spaces or one comma.

    A version runs up to the next space or comma, so the scan never backtracks.
    """
    terms: list[tuple[str, re.Match[str]]] = []
    i, end = 0, len(segment)
    while True:
        while i < end and segment[i] in _SPACE:
            i += 1
        start = i
        while i < end and segment[i] in _OP_CHARS:
            i += 1
        op = segment[start:i]
        while i < end and segment[i] in _SPACE:
            i += 1
        start = i
        while i < end and segment[i] not in _SPACE and segment[i] != ",":
            i += 1
        match = _CV_RE.fullmatch(segment, start, i)
        if op not in _OPS or match is None:
            raise _error(text, f"improper constraint: {segment.strip()!r}")
        terms.append((op, match))
        while i < end and segment[i] in _SPACE:
            i += 1
        if i == end:
            return terms
        i += 1 if segment[i] == "," else 0


def _comparator(text: str, op: str, match: re.Match[str]) -> Comparator:
    """Fill wildcards with 0 and remember where they were (build metadata then drops out)."""
    word = match.group(0)
    major, minor, patch, pre, _build = match.groups()
    suffix = f"-{pre}" if pre else ""
    dirty, minor_dirty, patch_dirty = True, False, False
    if major in _WILDCARDS:
        anchor = f"0.0.0{suffix}"
    elif minor is None or minor in _WILDCARDS:
        anchor, minor_dirty = f"{major}.0.0{suffix}", True
    elif patch is None or patch in _WILDCARDS:
        anchor, patch_dirty = f"{major}.{minor}.0{suffix}", True
    else:
        anchor, dirty = word, False
    try:
        version = parse_version(anchor, loose=True)
    except VersionError as err:
        raise _error(text, f"{word!r} is not a version") from err
    return Comparator(op, word, version, dirty, minor_dirty, patch_dirty)


def parse_constraint(text: str) -> Constraint:
    """Parse a Masterminds constraint; raises ``ConstraintError`` saying what is wrong."""
    if len(text) > MAX_CONSTRAINT_LENGTH:
        raise _error(text[:40] + "...", f"longer than {MAX_CONSTRAINT_LENGTH} characters")
    if text == "":
        raise _error(text, "empty; leave the constraint out to accept any version")
    groups = []
    for segment in _rewrite_ranges(text).split("||"):
        terms = _scan_terms(text, segment)
        groups.append(Group(tuple(_comparator(text, op, match) for op, match in terms)))
    return Constraint(tuple(groups))
