"""HTML building blocks for the people pages. Every piece of stored text goes through
``html.escape`` here (titles, names, file names, diffs), so a hostile title stays text; bodies
and comments are Markdown, made safe by ``pages_markdown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; }
.add { background: #e6ffec; } .del { background: #ffebe9; } .hunk { color: #0969da; }
.badge { border-radius: 1rem; padding: .1rem .6rem; background: #ddf4ff; }
table { border-collapse: collapse; } td, th { padding: .2rem .6rem; text-align: left; }
.markdown td, .markdown th { border: 1px solid #d0d7de; }
.markdown code { background: #f6f8fa; padding: .1rem .3rem; }
details { margin: .5rem 0; } summary { cursor: pointer; }
"""


def page(title: str, *sections: str) -> str:
    """A whole document; ``sections`` are already-safe HTML fragments."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><p><a href='/'>sandbox</a></p>"
        f"<h1>{escape(title)}</h1>{''.join(sections)}</body></html>"
    )


def link(href: str, text: str) -> str:
    return f"<a href='{escape(href)}'>{escape(text)}</a>"


def section(heading: str, body: str) -> str:
    return f"<h2>{escape(heading)}</h2>{body}"


def items(entries: Iterable[str], empty: str = "none") -> str:
    """A list of already-safe fragments."""
    rows = "".join(f"<li>{entry}</li>" for entry in entries)
    return f"<ul>{rows}</ul>" if rows else f"<p>{escape(empty)}</p>"


def text(value: str) -> str:
    return escape(value)


def badge(text: str) -> str:
    return f"<span class='badge'>{escape(text)}</span>"


def diff(filename: str, status: str, patch: str) -> str:
    """One file's patch with added and removed lines coloured."""
    lines = []
    for line in patch.splitlines():
        css = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")
        attr = f" class='{css}'" if css else ""
        lines.append(f"<span{attr}>{escape(line)}</span>")
    joined = "\n".join(lines)
    return f"<h3>{escape(filename)} {badge(status)}</h3><pre>{joined}</pre>"
