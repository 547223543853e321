"""Slash commands in PR comments, Atlantis-style: every comment is Run, Reply or Ignore.

Only a line that starts with a command counts (up to three spaces of indent, as Markdown allows);
lines in fenced code blocks, HTML comments and quotes (``> ``) never run anything, so quoting
someone's ``/promote`` is safe. Commands of other bots (``/assign``) are ignored; a
``/promotion-bot`` line with an unknown subcommand gets the help text. See docs/commands.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.core.markup.markdown import escape_md

BOT_WORD = "promotion-bot"
MAX_BODY_CHARS = 65_536
MAX_LINE_CHARS = 1_000
MAX_REASON_CHARS = 500

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_VERSION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}")
_VERSIONISH = re.compile(r"v?[0-9]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_INDENT = re.compile(r"^ {0,3}")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

USAGE = {
    "promote": "/promote [APP] [VERSION] [to ENV]",
    "hold": "/hold [REASON]",
    "unhold": "/unhold",
    "rollback": "/rollback [APP] [to VERSION]",
    "drift": "/drift",
    "help": "/help",
}
HELP = "\n".join(
    [
        "Promotion Bot commands (one per comment, at the start of a line):",
        "",
        "- `/promote [APP] [VERSION] [to ENV]`: promote now, or a given version; "
        "also `/promote APP to ENV VERSION`",
        "- `/hold [REASON]`: stop updating this PR until `/unhold`",
        "- `/unhold`: resume updates",
        "- `/rollback [APP] [to VERSION]`: open a PR back to the previous or a given version",
        "- `/drift`: recompute the drift review comment",
        "- `/help`: this message",
        "",
        "`/promotion-bot COMMAND ...` works too.",
    ]
)


@dataclass(frozen=True)
class Promote:
    app: str | None = None
    environment: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        target = ["to", self.environment] if self.environment else []
        return _words("/promote", self.app, self.version, *target)


@dataclass(frozen=True)
class Hold:
    reason: str | None = None

    def __str__(self) -> str:
        return _words("/hold", self.reason)


@dataclass(frozen=True)
class Unhold:
    def __str__(self) -> str:
        return "/unhold"


@dataclass(frozen=True)
class Rollback:
    app: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        target = ["to", self.version] if self.version else []
        return _words("/rollback", self.app, *target)


@dataclass(frozen=True)
class Drift:
    def __str__(self) -> str:
        return "/drift"


Command = Promote | Hold | Unhold | Rollback | Drift


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
    split = _split_target(rest, "promote")
    if isinstance(split, Reply):
        return split
    positional, environment = split
    if environment is not None and not _NAME.fullmatch(environment):
        return _bad("promote", "environment", environment)
    if len(positional) > 2:
        return _usage("promote")
    if len(positional) == 2:
        app, version = positional
    elif len(positional) == 1 and _VERSIONISH.match(positional[0]):
        app, version = None, positional[0]
    else:
        app, version = (positional[0] if positional else None), None
    if app is not None and not _NAME.fullmatch(app):
        return _bad("promote", "app", app)
    if version is not None and not _VERSION.fullmatch(version):
        return _bad("promote", "version", version)
    return Run(Promote(app=app, environment=environment, version=version))


def _parse_rollback(rest: str) -> Outcome:
    split = _split_target(rest, "rollback")
    if isinstance(split, Reply):
        return split
    positional, version = split
    if len(positional) > 1:
        return _usage("rollback")
    app = positional[0] if positional else None
    if app is not None and not _NAME.fullmatch(app):
        return _bad("rollback", "app", app)
    if version is not None and not _VERSION.fullmatch(version):
        return _bad("rollback", "version", version)
    return Run(Rollback(app=app, version=version))


def _parse_hold(rest: str) -> Outcome:
    reason = " ".join(rest.split())
    if len(reason) > MAX_REASON_CHARS:
        return Reply(f"That hold reason is too long (over {MAX_REASON_CHARS} characters).")
    return Run(Hold(reason or None))


def _no_arguments(name: str, command: Command) -> Callable[[str], Outcome]:
    def parse(rest: str) -> Outcome:
        return Run(command) if not rest.strip() else _usage(name)

    return parse


def _help(rest: str) -> Outcome:
    return Reply(HELP)


def _split_target(rest: str, name: str) -> tuple[list[str], str | None] | Reply:
    """Positional words and the word after ``to`` (at most one ``to``)."""
    words = rest.split()
    if words.count("to") > 1:
        return _usage(name)
    if "to" not in words:
        return words, None
    at = words.index("to")
    if at + 1 >= len(words):
        return _usage(name)
    return words[:at] + words[at + 2 :], words[at + 1]


def _usage(name: str) -> Reply:
    return Reply(f"Usage: `{USAGE[name]}`")


def _bad(name: str, what: str, value: str) -> Reply:
    return Reply(f"`/{name}`: {escape_md(value, limit=60)} is not a valid {what}.")


def _unknown(word: str) -> str:
    shown = f" {escape_md(word, limit=40)}" if word else ""
    return f"Unknown command{shown}.\n\n{HELP}"


def _words(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


_PARSERS: dict[str, Callable[[str], Outcome]] = {
    "promote": _parse_promote,
    "hold": _parse_hold,
    "unhold": _no_arguments("unhold", Unhold()),
    "rollback": _parse_rollback,
    "drift": _no_arguments("drift", Drift()),
    "help": _help,
}
