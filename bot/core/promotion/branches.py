"""Promotion branch names: one stable branch per (app, environment).

A new version updates the same branch (and so the same PR) instead of opening another.
Names are ``promotion/<app>/<environment>``; characters that git refuses, or that would make the
name ambiguous, are percent-encoded so ``parse_branch`` returns exactly the original pair.
"""

from __future__ import annotations

from urllib.parse import unquote

PREFIX = "promotion"

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def branch_name(app: str, environment: str, *, prefix: str = PREFIX) -> str:
    """The branch for promotions of ``app`` into ``environment``."""
    if not app or not environment:
        raise ValueError(f"naming promotion branch app={app!r} environment={environment!r}")
    return f"{prefix}/{_encode(app)}/{_encode(environment)}"


def parse_branch(name: str, *, prefix: str = PREFIX) -> tuple[str, str] | None:
    """``(app, environment)`` for a branch made by ``branch_name``, else ``None``."""
    head = f"{prefix}/"
    if not name.startswith(head):
        return None
    parts = name[len(head) :].split("/")
    if len(parts) != 2 or not all(parts):
        return None
    try:
        app, environment = (unquote(p, errors="strict") for p in parts)
    except UnicodeDecodeError:
        return None
    if branch_name(app, environment, prefix=prefix) != name:
        return None  # not canonical: some other branch that merely looks like ours
    return app, environment


def _encode(value: str) -> str:
    out = []
    for index, char in enumerate(value):
        if char in _SAFE or (char == "." and _dot_is_safe(value, index)):
            out.append(char)
        else:
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8")))
    return "".join(out)


def _dot_is_safe(value: str, index: int) -> bool:
    """A dot may stay unless it starts or ends the component, doubles, or starts ``.lock``."""
    if index in (0, len(value) - 1) or value[index + 1] == "." or value[index - 1] == ".":
        return False
    return value[index:] != ".lock"
