"""Every core event type, read from the ``Event`` union so no second list is kept."""

from __future__ import annotations

from typing import get_args

from bot.core.inputs.events import BaseEvent, Event


def event_types() -> tuple[type[BaseEvent], ...]:
    """The members of the ``Event`` union."""
    union, _ = get_args(Event)
    return get_args(union)
