"""Slash commands in PR comments, Atlantis-style: every comment is Run, Reply or Ignore.

Only a line that starts with a command counts (up to three spaces of indent, as Markdown allows);
lines in fenced code blocks, HTML comments and quotes (``> ``) never run anything, so quoting
someone's ``/promote`` is safe. Commands of other bots (``/assign``) are ignored; a
``/promotion-bot`` line with an unknown subcommand gets the help text. See docs/commands.md.

Every command prints back to itself: ``parse_comment(str(command)) == Run(command)`` for every
value the parser can produce. Values built by hand round-trip when they follow the grammar: names
and versions match ``_NAME`` / ``_VERSION`` and are not the keywords ``to`` / ``in``; a lone
``Promote`` version looks like one (``1.4``, ``v2``) and a lone app does not; a reason is
whitespace-normalised, and on a ``Hold`` without environment its first two words are not ``in``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from bot.core.inputs.help_text import HELP, USAGE
from bot.core.markup.markdown import escape_md

BOT_WORD = "promotion-bot"
MAX_BODY_CHARS = 65_536
MAX_LINE_CHARS = 1_000
MAX_REASON_CHARS = 500
KEYWORDS = frozenset({"to", "in"})

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_VERSION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}")
_VERSIONISH = re.compile(r"v?[0-9]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_INDENT = re.compile(r"^ {0,3}")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ZWJ = "\u200d"  # joins emoji sequences; the one format character a reason may hold


@dataclass(frozen=True)
class Promote:
    app: str | None = None
    environment: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return _words("/promote", self.app, self.version, *_after("to", self.environment))


@dataclass(frozen=True)
class Hold:
    """No app and no environment: this PR's lane. ``whole_environment``: stop the line."""

    app: str | None = None
    environment: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        _check_lane("hold", self.app, self.environment)

    @property
    def whole_environment(self) -> bool:
        return self.environment is not None and self.app is None

    def __str__(self) -> str:
        return _words("/hold", *_lane(self.app, self.environment), self.reason)


@dataclass(frozen=True)
class Unhold:
    """Lifts a hold of the same scope (see ``Hold``)."""

    app: str | None = None
    environment: str | None = None

    def __post_init__(self) -> None:
        _check_lane("unhold", self.app, self.environment)

    @property
    def whole_environment(self) -> bool:
        return self.environment is not None and self.app is None

    def __str__(self) -> str:
        return _words("/unhold", *_lane(self.app, self.environment))


@dataclass(frozen=True)
class Rollback:
    app: str | None = None
    version: str | None = None
    environment: str | None = None

    def __str__(self) -> str:
        target = [*_after("to", self.version), *_after("in", self.environment)]
        return _words("/rollback", self.app, *target)


@dataclass(frozen=True)
class Drift:
    def __str__(self) -> str:
        return "/drift"


@dataclass(frozen=True)
class Help:
    """Answered by the service, which knows the repository (``render_help`` with notes)."""

    def __str__(self) -> str:
        return "/help"


Command = Promote | Hold | Unhold | Rollback | Drift | Help


@dataclass(frozen=True)
class Run:
    command: Command


@dataclass(frozen=True)
class Reply:
    message: str  # Markdown, safe to post: user input in it is escaped


@dataclass(frozen=True)
class Ignore:
    reason: str


Outcome = Run | Reply | Ignore


def parse_comment(body: str) -> Outcome:
    """The first command line in ``body`` decides the outcome."""
    if len(body) > MAX_BODY_CHARS:
        return Ignore(f"comment too long chars={len(body)}")
    for line in _command_lines(body):
        return parse_line(line)
    return Ignore("no command")


def parse_line(line: str) -> Outcome:
    """One line that starts with ``/``."""
    if _CONTROL.search(line):
        return Ignore("control characters in command line")
    if len(line) > MAX_LINE_CHARS:
        return Reply(f"That command is too long (over {MAX_LINE_CHARS} characters).")
    word, rest = _head(line.strip()[1:])
    if word == BOT_WORD:
        word, rest = _head(rest)
        if word not in USAGE:
            return Reply(_unknown(word))
    if word not in USAGE:
        return Ignore(f"not our command word={word[:40]!r}")
    return _PARSERS[word](rest)


def _head(text: str) -> tuple[str, str]:
    """The first word, lowercased, and the rest."""
    parts = text.split(maxsplit=1)
    return (parts[0].lower() if parts else ""), (parts[1] if len(parts) > 1 else "")


def _command_lines(body: str) -> Iterator[str]:
    """Lines that may hold a command: outside fences, HTML comments and quotes."""
    fence = ""
    in_comment = False
    for raw in body.splitlines():
        line = _INDENT.sub("", raw, count=1)
        opened = _FENCE.match(raw)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
        elif in_comment:
            in_comment = "-->" not in raw
        elif opened:
            fence = opened.group(1)
        elif "<!--" in raw:
            in_comment = "-->" not in raw.partition("<!--")[2]
        elif line.startswith("/") and _is_ours(line):
            yield line


def _is_ours(line: str) -> bool:
    word = _head(line[1:])[0] if len(line) > 1 and not line[1].isspace() else ""
    return word in USAGE or word == BOT_WORD


def _parse_promote(rest: str) -> Outcome:
    split = _split_keywords(rest, "promote", ("to",))
    if isinstance(split, Reply):
        return split
    positional, found = split
    if len(positional) > 2:
        return _usage("promote")
    if len(positional) == 2:
        app, version = positional
    elif len(positional) == 1 and _VERSIONISH.match(positional[0]):
        app, version = None, positional[0]
    else:
        app, version = (positional[0] if positional else None), None
    values = {"app": app, "environment": found.get("to"), "version": version}
    return _checked("promote", values) or Run(Promote(**values))


def _parse_rollback(rest: str) -> Outcome:
    split = _split_keywords(rest, "rollback", ("to", "in"))
    if isinstance(split, Reply):
        return split
    positional, found = split
    if len(positional) > 1:
        return _usage("rollback")
    app = positional[0] if positional else None
    values = {"app": app, "version": found.get("to"), "environment": found.get("in")}
    return _checked("rollback", values) or Run(Rollback(**values))


def _parse_hold(rest: str) -> Outcome:
    split = _split_lane(rest, "hold")
    if isinstance(split, Reply):
        return split
    app, environment, words = split
    reason = " ".join(words)
    if len(reason) > MAX_REASON_CHARS:
        return Reply(f"That hold reason is too long (over {MAX_REASON_CHARS} characters).")
    if not _is_plain(reason):
        return Reply("That hold reason holds control or formatting characters; use plain text.")
    return Run(Hold(app=app, environment=environment, reason=reason or None))


def _parse_unhold(rest: str) -> Outcome:
    split = _split_lane(rest, "unhold")
    if isinstance(split, Reply):
        return split
    app, environment, words = split
    return _usage("unhold") if words else Run(Unhold(app=app, environment=environment))


def _no_arguments(name: str, command: Command) -> Callable[[str], Outcome]:
    def parse(rest: str) -> Outcome:
        return Run(command) if not rest.strip() else _usage(name)

    return parse


def _help(rest: str) -> Outcome:
    return Run(Help())  # "/help promote" asks for help too


def _split_keywords(
    rest: str, name: str, keywords: tuple[str, ...]
) -> tuple[list[str], dict[str, str]] | Reply:
    """Positional words and the word after each keyword (each at most once, in any order)."""
    words = rest.split()
    positional: list[str] = []
    found: dict[str, str] = {}
    at = 0
    while at < len(words):
        if words[at] not in keywords:
            positional.append(words[at])
            at += 1
        elif words[at] in found or at + 1 >= len(words):
            return _usage(name)
        else:
            found[words[at]] = words[at + 1]
            at += 2
    return positional, found


def _split_lane(rest: str, name: str) -> tuple[str | None, str | None, list[str]] | Reply:
    """``in ENV ...``, ``APP in ENV ...`` or just words: (app, environment, the other words)."""
    words = rest.split()
    if words[:1] == ["in"]:
        app, at = None, 1
    elif words[1:2] == ["in"]:
        app, at = words[0], 2
    else:
        return None, None, words
    if at >= len(words):
        return _usage(name)
    bad = _checked(name, {"app": app, "environment": words[at]})
    return bad or (app, words[at], words[at + 1 :])


def _checked(name: str, values: Mapping[str, str | None]) -> Reply | None:
    """A reply naming the first app, environment or version that is not one."""
    for what, value in values.items():
        pattern = _VERSION if what == "version" else _NAME
        if value is not None and (value in KEYWORDS or not pattern.fullmatch(value)):
            return _bad(name, what, value)
    return None


def _is_plain(text: str) -> bool:
    """No control, format (bidi overrides, zero-width) or line separator characters."""
    return all(c == _ZWJ or unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"} for c in text)


def _check_lane(name: str, app: str | None, environment: str | None) -> None:
    if app is not None and environment is None:
        raise ValueError(f"/{name} of an app needs its environment app={app!r}")


def _lane(app: str | None, environment: str | None) -> list[str | None]:
    return [app, *_after("in", environment)]


def _after(keyword: str, value: str | None) -> list[str]:
    return [keyword, value] if value else []


def _usage(name: str) -> Reply:
    return Reply(f"Usage: `{USAGE[name]}`")


def _bad(name: str, what: str, value: str) -> Reply:
    return Reply(f"`/{name}`: {_shown(value, 60)} is not a valid {what}.")


def _unknown(word: str) -> str:
    shown = f" {_shown(word, 40)}" if word else ""
    return f"Unknown command{shown}.\n\n{HELP}"


def _shown(value: str, limit: int) -> str:
    """User input for a reply: invisible characters made visible, Markdown and HTML escaped."""
    visible = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in value)
    return escape_md(visible, limit=limit)


def _words(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


_PARSERS: dict[str, Callable[[str], Outcome]] = {
    "promote": _parse_promote,
    "hold": _parse_hold,
    "unhold": _parse_unhold,
    "rollback": _parse_rollback,
    "drift": _no_arguments("drift", Drift()),
    "help": _help,
}
