"""``per_page``/``page`` pagination with GitHub's ``Link`` header."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse

T = TypeVar("T")
_MAX_PER_PAGE = 100


def page_bounds(request: Request, default: int = 30) -> tuple[int, int]:
    """``(page, per_page)`` from the query, clamped like GitHub (1..100)."""
    params = request.query_params
    per_page = min(max(_int(params.get("per_page"), default), 1), _MAX_PER_PAGE)
    return max(_int(params.get("page"), 1), 1), per_page


def paginated(
    request: Request,
    items: Sequence[T],
    render: Callable[[T], Any],
    *,
    wrap: Callable[[list[Any]], Any] | None = None,
    default: int = 30,
) -> JSONResponse:
    """One page of ``items`` rendered, with a ``Link`` header; ``wrap`` builds an envelope
    (e.g. ``{"total_count": n, "repositories": [...]}``) around the page."""
    page, per_page = page_bounds(request, default)
    start = (page - 1) * per_page
    chunk = [render(item) for item in items[start : start + per_page]]
    last = max((len(items) + per_page - 1) // per_page, 1)
    headers = {"link": link_header(request, page, last)} if last > 1 else {}
    return JSONResponse(wrap(chunk) if wrap else chunk, headers=headers)


def link_header(request: Request, page: int, last: int) -> str:
    def url(number: int) -> str:
        return str(request.url.include_query_params(page=number))

    rels = []
    if page > 1:
        rels += [(page - 1, "prev"), (1, "first")]
    if page < last:
        rels += [(page + 1, "next"), (last, "last")]
    return ", ".join(f'<{url(n)}>; rel="{rel}"' for n, rel in rels)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
