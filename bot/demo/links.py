"""Following the links of a PR body: the demo's checks and the sandbox's page tests both ask
whether every link the bot wrote opens a page."""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx

# Markdown inline links with an absolute target; the bot writes no other kind in a PR body.
_MARKDOWN_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def markdown_links(body: str) -> list[str]:
    """The targets of the body's Markdown links, in order."""
    return _MARKDOWN_LINK.findall(body)


def follow(links: Iterable[str], *, timeout: float = 10.0) -> dict[str, httpx.Response]:
    """Each link and what a browser without credentials gets for it (redirects not followed:
    the sandbox's pages answer directly)."""
    with httpx.Client(timeout=timeout) as client:
        return {link: client.get(link) for link in links}


def broken_links(body: str, *, base_url: str) -> list[str]:
    """``link status`` for each link of ``body`` that does not answer 200; a link outside
    ``base_url`` counts as broken unfollowed, so a check never leaves the sandbox."""
    root = base_url.rstrip("/") + "/"
    links = markdown_links(body)
    outside = [f"{link} outside {base_url}" for link in links if not link.startswith(root)]
    inside = [link for link in links if link.startswith(root)]
    answered = follow(inside)
    return outside + [
        f"{link} {r.status_code}" for link, r in answered.items() if r.status_code != 200
    ]
