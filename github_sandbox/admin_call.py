"""``Call``: one admin API operation as a value (method, path, body, how to read the answer).

``admin_client`` builds and runs them; ``collab_admin`` builds the people's acts with it. Both
import this module, so ``admin_client`` can re-export those acts without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    json: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)


def as_json(data: Any) -> Any:
    """The answer as the admin API sent it (for calls without a typed result)."""
    return data
