"""Policies in configuration: a ``TagPolicy`` plus the gates an environment puts on promotion.

A policy is written inline or named (built-in or under ``policies``) and referenced by name or
by ``use: NAME`` with field-by-field overrides; ``bot.core.config.check`` resolves references.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from bot.core.config.durations import Duration, format_duration
from bot.core.config.windows import Window
from bot.core.versions import tagfilters
from bot.core.versions.constraints import ConstraintError, parse_constraint
from bot.core.versions.policy import TagPolicy
from bot.core.versions.tagfilters import TagPatternError, UserRegex

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
_USER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
APPROVER_PATTERN = rf"^@?{_USER}(?:/[A-Za-z0-9._-]{{1,100}})?$"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


def _strip_at(value: str) -> str:
    """``@alice`` and ``@acme/sre`` as in CODEOWNERS mean the same as without the ``@``."""
    return value.removeprefix("@")


# Checked as written (``@`` allowed), then stored without the ``@``.
Approver = Annotated[str, StringConstraints(pattern=APPROVER_PATTERN), AfterValidator(_strip_at)]


def check_constraint(text: str) -> None:
    """Raise ValueError unless ``text`` is a version range the selection code can read."""
    try:
        parse_constraint(text)
    except ConstraintError as err:
        raise ValueError(str(err)) from err


def compile_regex(text: str, what: str) -> UserRegex:
    """Compile a user pattern with the engine selection uses (RE2), so both agree on syntax."""
    try:
        return tagfilters.compile_regex(text, what)
    except TagPatternError as err:
        raise ValueError(str(err)) from err


class Policy(TagPolicy):
    """A tag policy plus the gates an environment puts on a promotion."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Policy")

    use: Name | None = Field(
        default=None,
        description="Start from this named policy (built-in or under `policies`); "
        "fields given here override it one by one.",
    )
    description: str | None = Field(default=None, description="What the policy is for.")
    auto: bool = Field(
        default=True,
        description="Open the promotion PR on its own; false waits for a `/promote` comment.",
    )
    automerge: bool = Field(
        default=False, description="Merge the PR once its checks pass and any soak is over."
    )
    soak: Duration | None = Field(
        default=None,
        description="How long a version must have run in the `after` environment first, "
        "e.g. 30m, 24h, 2d.",
    )
    after: Name | None = Field(
        default=None,
        description="Environment the version must have reached first; default: the "
        "previous environment in the list.",
    )
    freeze: tuple[Window, ...] = Field(
        default=(), description="Windows when no promotion is opened or merged."
    )
    approvers: tuple[Approver, ...] = Field(
        default=(),
        description="Users and `org/team` slugs allowed to `/promote` into the environment; "
        "empty: anyone with write access.",
    )
    override: bool = Field(
        default=False,
        description="A `/promote` that names a version may go outside the constraint, level "
        "and filters (a downgrade too); the PR says it was an override.",
    )

    @field_validator("constraint")
    @classmethod
    def _constraint_parses(cls, value: str | None) -> str | None:
        if value is not None:
            check_constraint(value)
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            compile_regex(value, "pattern")
        return value

    @field_validator("exclude")
    @classmethod
    def _excludes_compile(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for expression in value or ():
            compile_regex(expression, "exclude")
        return value

    @field_validator("match")
    @classmethod
    def _match_has_kind(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                tagfilters.match_filter(value)
            except TagPatternError as err:
                raise ValueError(str(err)) from err
        return value

    def summary(self) -> str:
        """A short phrase for messages: ``prod-safe: level=minor, pr=manual, soak=1d``."""
        parts = [
            f"level={self.level}" if self.level else "",
            f"constraint={self.constraint}" if self.constraint else "",
            "pre-releases" if self.prerelease else "",
            "pr=auto" if self.auto else "pr=manual",
            "automerge" if self.automerge else "",
            f"soak={format_duration(self.soak)}" if self.soak else "",
            f"after={self.after}" if self.after else "",
            f"freeze windows={len(self.freeze)}" if self.freeze else "",
            f"approvers={','.join(self.approvers)}" if self.approvers else "",
        ]
        text = ", ".join(part for part in parts if part)
        return f"{self.use}: {text}" if self.use else text

    def overrides(self) -> dict[str, Any]:
        """The fields set explicitly, without ``use``: what this policy changes on its base."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "use"}


def _policy_ref_kind(value: object) -> str:
    return "policy-name" if isinstance(value, str) else "inline-policy"


PolicyRef = Annotated[
    Annotated[Name, Tag("policy-name")] | Annotated[Policy, Tag("inline-policy")],
    Discriminator(_policy_ref_kind),
]
# Tag -> model (None: a plain name), for tools that read pydantic error locations.
POLICY_REF_TAGS: Mapping[str, type[BaseModel] | None] = {
    "policy-name": None,
    "inline-policy": Policy,
}
