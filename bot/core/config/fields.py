"""Which fields a place in the configuration accepts, found by walking the model types.

Used to answer an unknown key with the fields that would fit there ("did you mean 'soak'?"),
rather than with every field name of every model.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Annotated, TypeGuard, Union, get_args, get_origin

from pydantic import BaseModel

Loc = tuple[str | int, ...]


def fields_at(
    model: type[BaseModel], loc: Loc, tags: Mapping[str, type[BaseModel] | None]
) -> tuple[str, ...]:
    """The keys accepted by the mapping at ``loc``; ``tags`` maps union tags to their model."""
    candidates: Sequence[object] = [model]
    for part in loc:
        if part in tags:
            candidates = [tags[str(part)]]
        elif part != "[key]":
            candidates = [found for kind in candidates for found in _step(kind, part)]
    models = [kind for kind in _flatten(candidates) if _is_model(kind)]
    return tuple(
        field.alias or name for kind in models for name, field in kind.model_fields.items()
    )


def _flatten(kinds: Sequence[object]) -> list[object]:
    """Annotated and union types opened up into the types they may hold."""
    flat: list[object] = []
    for kind in kinds:
        origin = get_origin(kind)
        if origin is Annotated:
            flat += _flatten([get_args(kind)[0]])
        elif origin is Union or origin is types.UnionType:
            flat += _flatten(get_args(kind))
        else:
            flat.append(kind)
    return flat


def _is_model(kind: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _step(kind: object, part: str | int) -> list[object]:
    found: list[object] = []
    for inner in _flatten([kind]):
        origin, args = get_origin(inner), get_args(inner)
        if _is_model(inner) and isinstance(part, str):
            fields = inner.model_fields
            found += [f.annotation for n, f in fields.items() if part in (n, f.alias)]
        elif origin in (tuple, list) and isinstance(part, int) and args:
            found.append(args[0])
        elif origin is dict and isinstance(part, str):
            found.append(args[1])
    return found
