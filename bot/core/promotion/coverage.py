"""Whether a config can ever promote anything: the image references each app has in each
environment, and the ``files`` globs that match no file at all.

Values in, values out: the caller lists each environment's paths and reads the files
``wanted_paths`` names (under the read bounds); ``count_references`` and ``unmatched_globs``
say what they hold. It lives in the promotion room, not the config room, because an
environment's files are chosen by ``envfiles`` (and the config room sits below this one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.config import PromotionConfig
from bot.core.files.yamlnodes import YamlEditError
from bot.core.promotion.envfiles import (
    EnvState,
    environment_files,
    image_occurrences,
    tag_keys_of,
)


@dataclass(frozen=True)
class ReferenceCount:
    """The references to ``app``'s image in ``environment``; ``references`` is ``None`` when
    a file could not be read, and ``reason`` says which."""

    app: str
    environment: str
    references: int | None
    reason: str = ""


@dataclass(frozen=True)
class UnmatchedGlob:
    """A ``files`` glob at ``loc`` (``apps.NAME.files.I``, ``apps.NAME.tags.I.file`` or
    ``defaults.files.I``) that matched no file in ``environments`` (the ones looked at)."""

    loc: tuple[str | int, ...]
    glob: str
    environments: tuple[str, ...]


def wanted_paths(config: PromotionConfig, environment: str, paths: tuple[str, ...]) -> set[str]:
    """Of ``paths`` (repository paths), those some app promoted through ``environment`` reads."""
    env = config.environment(environment)
    wanted: set[str] = set()
    for app in config.apps:
        if env in config.environments_of(app):
            wanted |= set(
                environment_files(paths, root=env.path or ".", globs=config.files_of(app))
            )
    return wanted


def count_references(
    config: PromotionConfig, states: Mapping[str, EnvState]
) -> tuple[ReferenceCount, ...]:
    """For each app and each of its environments in ``states`` (those read), in config order."""
    counts = []
    for app, spec in config.apps.items():
        for env in config.environments_of(app):
            state = states.get(env.name)
            if state is None:
                continue
            chosen = environment_files(
                state.files, root=env.path or ".", globs=config.files_of(app)
            )
            keys = tag_keys_of(spec, chosen, root=env.path or ".")
            mine = EnvState(env.name, {path: state.files[path] for path in chosen}, tag_keys=keys)
            try:
                found: int | None = len(image_occurrences(mine, spec.image))
                reason = ""
            except YamlEditError as err:
                found, reason = None, str(err)
            counts.append(ReferenceCount(app, env.name, found, reason))
    return tuple(counts)


def unmatched_globs(
    config: PromotionConfig, paths: Mapping[str, tuple[str, ...]]
) -> tuple[UnmatchedGlob, ...]:
    """The globs matching no path in any environment of ``paths`` (environment -> every path
    under it) they apply to: an app's in its environments, the defaults' in all of them."""
    candidates: list[tuple[tuple[str | int, ...], str, list[str]]] = []
    for app, spec in config.apps.items():
        names = [env.name for env in config.environments_of(app) if env.name in paths]
        files = enumerate(spec.files or ())
        candidates += [(("apps", app, "files", index), glob, names) for index, glob in files]
        candidates += [
            (("apps", app, "tags", index, "file"), tag.file, names)
            for index, tag in enumerate(spec.tags)
            if tag.file is not None
        ]
    everywhere = [env.name for env in config.environments if env.name in paths]
    defaults = enumerate(config.defaults.files or ())
    candidates += [(("defaults", "files", index), glob, everywhere) for index, glob in defaults]
    return tuple(
        UnmatchedGlob(loc, glob, tuple(names))
        for loc, glob, names in candidates
        if names and not _matches(config, glob, names, paths)
    )


def _matches(
    config: PromotionConfig, glob: str, names: list[str], paths: Mapping[str, tuple[str, ...]]
) -> bool:
    return any(
        environment_files(paths[name], root=config.environment(name).path or ".", globs=(glob,))
        for name in names
    )


__all__ = [
    "ReferenceCount",
    "UnmatchedGlob",
    "count_references",
    "unmatched_globs",
    "wanted_paths",
]
