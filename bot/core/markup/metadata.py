"""Hidden metadata: how the bot recognises its own PRs and comments on GitHub.

The bot keeps no local state; GitHub is the source of truth. Each PR body and bot comment ends
with an HTML comment such as ``<!-- promotion-bot:v1 {"kind": "promotion-pr", ...} -->`` that
GitHub does not render. ``extract`` reads it back and refuses anything garbled, oversized or of
the wrong shape. Anyone can type the marker, so callers must also check that the PR or comment
was written by the bot's own account before trusting it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

Kind = Literal[
    "promotion-pr",
    "review-comment",
    "drift-report",
    "config-error",
    "gate-check",
    "hold",
    "merge-refused",
    "onboarding",
]

MARKER = "promotion-bot:v1"
# The JSON inside one marker is capped at 8,000 characters in _PATTERN: the bot writes a few
# hundred, so anything longer is not ours.
# Bodies larger than GitHub allows are not ours either; scanning them would only cost time.
MAX_BODY_CHARS = 70_000
_MAX_LIST = 100
_MAX_STRING = 300

_PATTERN = re.compile(r"<!-- promotion-bot:v1 (\{.{0,8000}?\}) -->", re.DOTALL)


@dataclass(frozen=True)
class Meta:
    """What a PR, comment or issue is about; ``version``/``digest`` are the target, ``from_`` the
    start. ``by``, ``at`` and ``url`` say who asked for it, when (ISO 8601) and where (a comment's
    link); ``reason`` is theirs; ``rollback`` marks a PR that goes back to an earlier version;
    ``sha`` is the head commit a comment is about (why automerge did not merge it); ``repo`` is
    the config repository a drift-report issue audits (one issue per config)."""

    kind: Kind
    app: str = ""
    environment: str = ""
    version: str = ""
    digest: str = ""
    from_: str = ""
    superseded: tuple[str, ...] = ()
    policy: str = ""
    declined: tuple[str, ...] = ()
    by: str = ""
    at: str = ""
    url: str = ""
    reason: str = ""
    rollback: bool = False
    sha: str = ""
    repo: str = ""


_STRING_FIELDS = (
    "app", "environment", "version", "digest", "policy", "by", "at", "url", "reason", "sha",
    "repo",
)  # fmt: skip
_LIST_FIELDS = ("superseded", "declined")


def embed(meta: Meta) -> str:
    """The marker line for ``meta``; safe to append to any Markdown body."""
    data: dict[str, Any] = {k: v for k, v in asdict(meta).items() if v not in ("", (), False)}
    data["kind"] = meta.kind
    if "from_" in data:
        data["from"] = data.pop("from_")
    text = json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    # "<", ">" and "&" as JSON escapes keep values from closing the HTML comment early.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<!-- {MARKER} {text} -->"


def extract(body: str | None) -> Meta | None:
    """The last well-formed marker in ``body`` (the bot appends it at the end), or ``None``."""
    if not body or len(body) > MAX_BODY_CHARS or MARKER not in body:
        return None
    found: Meta | None = None
    for match in _PATTERN.finditer(body):
        meta = _decode(match.group(1))
        if meta is not None:
            found = meta
    return found


def _decode(text: str) -> Meta | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("kind") not in get_args(Kind):
        return None
    values: dict[str, Any] = {"kind": data["kind"]}
    for name in (*_STRING_FIELDS, "from"):
        value = data.get(name, "")
        if not isinstance(value, str) or len(value) > _MAX_STRING:
            return None
        values["from_" if name == "from" else name] = value
    for name in _LIST_FIELDS:
        items = data.get(name, [])
        if not _is_string_list(items):
            return None
        values[name] = tuple(items)
    rollback = data.get("rollback", False)
    if not isinstance(rollback, bool):
        return None
    return Meta(**values, rollback=rollback)


def _is_string_list(items: object) -> bool:
    return (
        isinstance(items, list)
        and len(items) <= _MAX_LIST
        and all(isinstance(i, str) and len(i) <= _MAX_STRING for i in items)
    )
