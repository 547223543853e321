"""Semantic versions (SemVer 2.0.0) as values, parsed the way Masterminds/semver v3 and Flux do.

Three parsers share one value type:

- strict (default): ``MAJOR.MINOR.PATCH[-PRE][+BUILD]`` exactly as semver.org says, plus one
  optional leading ``v`` (Flux ``version.ParseVersion``); ``allow_v=False`` gives Masterminds
  ``StrictNewVersion``.
- loose: Masterminds ``NewVersion``, which also takes ``1``, ``1.2``, ``v1.2-beta.5`` (read as
  ``1.2.0-beta.5``) and, with ``coerce`` (the Masterminds default), leading zeros such as
  ``01.1.1``.

Precedence follows semver.org: numeric pre-release identifiers are below alphanumeric ones, fewer
identifiers are lower, build metadata is ignored. Like Masterminds, an identifier counts as numeric
only while it fits an unsigned 64-bit integer. ``==`` compares the full text (build included);
``compare`` and ``<``/``<=``/``>``/``>=`` compare precedence only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UINT64_MAX = 2**64 - 1
_IDENT = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_STRICT_RE = re.compile(
    rf"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-({_IDENT}))?(?:\+({_IDENT}))?"
)
_LOOSE_RE = re.compile(
    rf"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-({_IDENT}))?(?:\+({_IDENT}))?"
)
_DIGITS_RE = re.compile(r"[0-9]+")


class VersionError(ValueError):
    """A string that is not a version under the parser asked for."""


def _identifier_key(ident: str) -> tuple[int, int, str]:
    if _DIGITS_RE.fullmatch(ident) and int(ident) <= _UINT64_MAX:
        return (0, int(ident), "")
    return (1, 0, ident)


@dataclass(frozen=True)
class Version:
    """One semantic version; ``str()`` gives the normalised ``1.2.0-beta.5+build`` form."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def precedence(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        """A sort key: equal keys mean equal precedence (build metadata does not count)."""
        if not self.prerelease:
            return (*self.core, 1, ())
        return (*self.core, 0, tuple(_identifier_key(p) for p in self.prerelease))

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as ``self`` has lower, equal or higher precedence than ``other``."""
        mine, theirs = self.precedence(), other.precedence()
        return (mine > theirs) - (mine < theirs)

    def __lt__(self, other: Version) -> bool:
        return self.precedence() < other.precedence()

    def __le__(self, other: Version) -> bool:
        return self.precedence() <= other.precedence()

    def __gt__(self, other: Version) -> bool:
        return self.precedence() > other.precedence()

    def __ge__(self, other: Version) -> bool:
        return self.precedence() >= other.precedence()


def _number(text: str, original: str) -> int:
    value = int(text)
    if value > _UINT64_MAX:
        raise VersionError(f"parsing version failed version={original!r}: {text} is too large")
    return value


def _identifiers(text: str | None, original: str, *, numeric_rule: bool) -> tuple[str, ...]:
    if not text:
        return ()
    parts = tuple(text.split("."))
    for part in parts:
        # semver.org: numeric pre-release identifiers must not have leading zeros.
        if numeric_rule and len(part) > 1 and part[0] == "0" and _DIGITS_RE.fullmatch(part):
            raise VersionError(
                f"parsing version failed version={original!r}: "
                f"pre-release identifier {part!r} has a leading zero"
            )
    return parts


def parse_version(
    text: str, *, loose: bool = False, allow_v: bool = True, coerce: bool = True
) -> Version:
    """Parse ``text``; see the module docstring for what each mode accepts.

    Raises ``VersionError`` with the offending text when it is not a version.
    """
    body = text[1:] if allow_v and not loose and text.startswith("v") else text
    match = (_LOOSE_RE if loose else _STRICT_RE).fullmatch(body)
    if match is None:
        mode = "loose" if loose else "strict"
        raise VersionError(f"parsing version failed version={text!r} mode={mode}")
    major, minor, patch, pre, build = match.groups()
    numbers = [major, minor or "0", patch or "0"]
    if loose and not coerce and any(len(n) > 1 and n[0] == "0" for n in numbers):
        raise VersionError(f"parsing version failed version={text!r}: leading zero")
    return Version(
        _number(numbers[0], text),
        _number(numbers[1], text),
        _number(numbers[2], text),
        _identifiers(pre, text, numeric_rule=True),
        _identifiers(build, text, numeric_rule=False),
    )
