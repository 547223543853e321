"""How an environment chooses among an image's tags: the tag policy as a value.

The selection logic that reads these values lives in ``bot.core.versions.selection``; configuration
(``bot.core.config``) embeds ``TagPolicy`` per app and environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scheme = Literal["semver", "numerical", "alphabetical", "pep440"]
Level = Literal["major", "minor", "patch"]


class TagPolicy(BaseModel):
    """Which tags an environment accepts and which of them wins.

    ``scheme`` orders tags; ``constraint`` (Masterminds syntax, semver scheme) and ``level``
    (Keel-style: the biggest change allowed relative to the current tag) filter them;
    ``pattern``/``extract`` work like Flux ``filterTags`` (a regular expression and the named
    group, e.g. ``$ts``, whose value is ordered); ``match`` keeps tags that fit a ``glob:`` or
    ``regexp:`` expression; a variant suffix such as ``-alpine`` is kept apart from pre-releases
    when ``variant`` is on, so ``1.2.3-alpine`` moves only to ``1.2.4-alpine``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Scheme = "semver"
    constraint: str | None = Field(
        default=None, description="Masterminds/semver v3 range, e.g. '>=1.2 <2' or '~1.4'."
    )
    level: Level | None = Field(
        default=None,
        description="Largest change allowed relative to the current tag (Keel-style).",
    )
    prerelease: bool = Field(default=False, description="Accept pre-release versions.")
    match: str | None = Field(
        default=None, description="Keep only tags matching 'glob:PATTERN' or 'regexp:PATTERN'."
    )
    pattern: str | None = Field(
        default=None, description="Flux-style filterTags regular expression."
    )
    extract: str | None = Field(
        default=None, description="Flux-style extract template, e.g. '$ts', ordered by scheme."
    )
    order: Literal["asc", "desc"] = Field(
        default="asc", description="Alphabetical/numerical order: 'asc' picks the last."
    )
    variant: bool = Field(
        default=True,
        description="Keep a non-semver suffix (e.g. '-alpine') fixed across updates.",
    )
    digest: bool = Field(default=False, description="Pin the digest next to the tag.")
    exclude: tuple[str, ...] | None = Field(
        default=None,
        description="Regular expressions of tags to drop first (Flux exclusionList); "
        "unset drops cosign signature tags ('^.*\\.sig$'), a list replaces that default.",
    )
