"""Applying Flux image-automation setters (``# {"$imagepolicy": "ns:policy[:field]"}``).

``policies`` maps ``"ns:policy"`` to the full reference the policy selected. A marker whose
policy is not in the map is left alone; a value already right is not a change. Fields: the
whole reference as given, ``:name`` (the repository as written), ``:tag`` and ``:digest``
(``sha256:...`` only, as current Flux writes it; Flux before 2024 wrote ``name@digest``).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.files.images import ImageRef, ImageRefError, parse_image_ref
from bot.core.files.markers import FLUX_TOKEN, Marker, find_markers
from bot.core.files.yamledit import EditResult, Replacement, apply_replacements
from bot.core.files.yamlnodes import YamlEditError, parse_yaml


def apply_setters(text: str, policies: Mapping[str, str], file: str = "") -> EditResult:
    """Write each known policy's selection into the scalars its markers name."""
    if FLUX_TOKEN not in text:
        return EditResult(text, ())
    parsed = parse_yaml(text, file)
    plan = []
    for marker in find_markers(parsed):
        if not marker.flux or marker.target not in policies:
            continue
        value = _setter_value(marker, policies[marker.target], file)
        if value != marker.node.value:
            plan.append(Replacement(marker.node, value, marker.path))
    return apply_replacements(parsed, plan)


def _setter_value(marker: Marker, selected: str, file: str) -> str:
    where = f"file={file!r} line={marker.line} policy={marker.target} selected={selected!r}"
    try:
        ref: ImageRef = parse_image_ref(selected)
    except ImageRefError as err:
        raise YamlEditError(f"invalid image selected by policy {where}: {err}") from err
    value = {
        "ref": selected,
        "name": ref.written_name,
        "tag": ref.tag,
        "digest": ref.digest,
    }[marker.field]
    if value is None:
        raise YamlEditError(
            f"policy selection has no {marker.field} for a :{marker.field} setter {where}"
        )
    return value
