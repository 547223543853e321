"""The shape of ``.github/promotion.yml`` as pydantic models.

Each model checks what it can see on its own (names, regexes, durations, image references);
checks that relate one part of the file to another (``after``, ``use:``, environment names under
an app) live in ``bot.core.config.check``. The JSON Schema in ``policies/promotion.schema.json``
is generated from these models.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from string import Formatter
from typing import Annotated, Any, Literal

from cronsim import CronSim, CronSimError
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from bot.core.config.policy import Name, Policy, PolicyRef, compile_regex
from bot.core.files.images import ImageRefError, parse_image_ref

REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
BRANCH_PATTERN = r"^[A-Za-z0-9._/+-]{1,255}$"

RepoSlug = Annotated[str, StringConstraints(pattern=REPO_PATTERN)]


def _branch_name(value: str) -> str:
    # The parts of git-check-ref-format that the character pattern cannot say.
    bad_edges = value.startswith(("-", "/")) or value.endswith(("/", ".lock"))
    if bad_edges or ".." in value or "//" in value:
        raise ValueError(f"invalid branch name branch={value!r}")
    return value


def _relative_path(value: str) -> str:
    parts = value.strip().rstrip("/").split("/")
    if value.startswith("/") or ".." in parts or "" in parts:
        raise ValueError(
            f"path must be relative to the repository root, without '..' path={value!r}"
        )
    return "/".join(part for part in parts if part != ".") or "."


Branch = Annotated[str, StringConstraints(pattern=BRANCH_PATTERN), AfterValidator(_branch_name)]
RelPath = Annotated[str, AfterValidator(_relative_path)]


class Environment(BaseModel):
    """One stage of the promotion path; located by directory, branch and/or repository."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(description="Name used in policies, commands and PR titles.")
    path: RelPath | None = Field(
        default=None,
        description="Directory holding the environment, relative to the root, or the one "
        "file that is the environment (`terraform/environments/dev.tfvars`).",
    )
    branch: Branch | None = Field(
        default=None, description="Branch holding the environment; default: the default branch."
    )
    repo: RepoSlug | None = Field(
        default=None,
        description="Repository `owner/name` holding the environment; default: this one.",
    )
    policy: PolicyRef | None = Field(
        default=None, description="Policy for every app in this environment (name or inline)."
    )

    @property
    def location(self) -> tuple[str | None, str | None, str]:
        return (self.repo, self.branch, self.path or ".")


class GitTagMatch(BaseModel):
    """What a git tag of an app's source repository means: an image tag, maybe a target."""

    model_config = ConfigDict(frozen=True)

    image_tag: str
    environment: str | None = None


def _app_name_optional(schema: dict[str, Any]) -> None:
    # The name defaults to the app's key, so editors must not demand it.
    required = [field for field in schema.get("required", []) if field != "name"]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)


class TagKey(BaseModel):
    """A key holding a bare tag of the app's image: a tag that names no repository, so no
    scanner rule can tell whose it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, StringConstraints(pattern=r"^\S+$")] = Field(
        description="The variable or key holding the tag: a Terraform variable "
        "(`api_image_tag`, set in a `.tfvars` or `.tfvars.json` file or as the `default` of "
        "its `variable` block in `.tf` or `.tf.json`), or a dotted path into YAML, JSON or "
        "HCL objects (`global.apiTag`, `image_tags.api`, `images[0].tag`)."
    )
    file: str | None = Field(
        default=None,
        description="Glob of the files holding it, relative to each environment's path "
        "(read even when `files` leaves them out); default: every file of the app.",
    )


class App(BaseModel):
    """An application whose image is promoted."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_app_name_optional)

    name: Name = Field(description="The app's name; defaults to its key under `apps`.")
    image: str = Field(description="Image repository without tag, e.g. ghcr.io/acme/api.")
    source: RepoSlug | None = Field(
        default=None, description="App repository `owner/name`: tags, releases, compare links."
    )
    files: tuple[str, ...] | None = Field(
        default=None,
        description="Globs limiting which files of an environment hold the image; "
        "default: `defaults.files`, else every YAML (`.yaml`, `.yml`) and Terraform "
        "(`.tf`, `.tfvars`, `.tf.json`, `.tfvars.json`) file.",
    )
    tags: tuple[TagKey, ...] = Field(
        default=(),
        description='Keys holding a bare tag of `image` (`api_image_tag = "1.2.3"`): '
        "promoted with the image's references.",
    )
    tag_pattern: str = Field(
        default=r"v?(?P<version>.+)",
        description="Regex a git tag must fully match; group `version` feeds `image_tag`, "
        "optional group `environment` targets one environment (e.g. `prod-v1.2.3`).",
    )
    image_tag: str = Field(
        default="{version}", description="Image tag built from the `tag_pattern` groups."
    )
    environments: tuple[Name, ...] | None = Field(
        default=None, description="Environments the app runs in, in order; default: all."
    )
    policy: dict[Name, PolicyRef] = Field(
        default_factory=dict,
        description="Policy per environment name: a policy name or an inline policy.",
    )

    @field_validator("image")
    @classmethod
    def _image_is_repository(cls, value: str) -> str:
        try:
            ref = parse_image_ref(value)
        except ImageRefError as err:
            raise ValueError(str(err)) from err
        if ref.tag is not None or ref.digest is not None:
            raise ValueError(f"image must name a repository without tag or digest image={value}")
        return value

    @field_validator("tag_pattern")
    @classmethod
    def _tag_pattern_has_version(cls, value: str) -> str:
        groups = compile_regex(value, "tag_pattern").names
        if "version" not in groups:
            raise ValueError(f"tag_pattern needs a named group 'version' tag_pattern={value!r}")
        unknown = set(groups) - {"version", "environment"}
        if unknown:
            raise ValueError(f"tag_pattern groups must be version or environment: {unknown}")
        return value

    @field_validator("image_tag")
    @classmethod
    def _image_tag_fields(cls, value: str) -> str:
        try:
            fields = {field for _, field, _, _ in Formatter().parse(value) if field is not None}
        except ValueError as err:
            raise ValueError(f"invalid image_tag template {value!r}: {err}") from err
        if not fields <= {"version", "environment"}:
            raise ValueError(f"image_tag may use {{version}} and {{environment}} only: {value!r}")
        return value

    def match_git_tag(self, git_tag: str) -> GitTagMatch | None:
        """The image tag (and target environment) a git tag maps to, or None."""
        regex = compile_regex(_anchored(self.tag_pattern), "tag_pattern")
        groups = regex.search(git_tag)
        if groups is None:
            return None
        version = groups[regex.names["version"]] or ""
        environment = groups[regex.names["environment"]] if "environment" in regex.names else None
        image_tag = self.image_tag.format(version=version, environment=environment)
        return GitTagMatch(image_tag=image_tag, environment=environment)


def _anchored(pattern: str) -> str:
    """The whole tag must match: RE2 searches, so anchor the pattern at both ends."""
    return f"^(?:{pattern})$"


class DriftIgnore(BaseModel):
    """A difference the environments are meant to have (replicas, resources, hostnames): the
    drift audit does not report it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: str = Field(
        default="*",
        description="Glob of the files it covers, relative to each environment's path "
        "(`*` also matches `/`).",
    )
    paths: tuple[str, ...] = Field(
        default=(),
        description="YAML paths as the report writes them (`spec.replicas`, `env[0].value`); "
        "`*` matches within a path, and a path covers everything under it. None: the whole "
        "file differs on purpose.",
    )
    environments: tuple[Name, ...] = Field(
        default=(),
        description="The environments it applies to (either side of a comparison); none: all.",
    )


def _cron(expression: str) -> str:
    try:
        CronSim(expression, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as err:
        # The value is not repeated: a settings error names the variable, never its value.
        raise ValueError(f"not a cron expression ({err})") from err
    return expression


# A cron expression (five fields, UTC), checked when read.
Cron = Annotated[str, AfterValidator(_cron)]


class Drift(BaseModel):
    """The drift audit of these environments and its drift-report issue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ignore: tuple[DriftIgnore, ...] = Field(
        default=(), description="Differences that are meant to be: not reported."
    )
    schedule: Cron | None = Field(
        default=None,
        description="When to audit, as a cron expression in UTC (five fields, e.g. "
        "`0 6 * * 1-5`); none: the bot's `PROMOTION_BOT_DRIFT_SCHEDULE`.",
    )
    report: bool = Field(
        default=True, description="Keep one drift-report issue in this repository up to date."
    )


class Defaults(BaseModel):
    """Settings that apply where an app or environment says nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: PolicyRef = Field(
        default="auto", description="Policy where neither app nor environment names one."
    )
    files: tuple[str, ...] | None = Field(
        default=None, description="Globs of files that may hold images, for every app."
    )


def _prepare(data: object) -> object:
    """Drop ``x-`` keys (anchors' home, as in Compose files); name apps after their keys."""
    if not isinstance(data, Mapping):
        return data
    data = {key: value for key, value in data.items() if not str(key).startswith("x-")}
    if isinstance(data.get("apps"), Mapping):
        data["apps"] = {
            key: {"name": key, **app} if isinstance(app, Mapping) and "name" not in app else app
            for key, app in data["apps"].items()
        }
    return data


_EXTENSIONS: JsonDict = {
    "patternProperties": {"^x-": {"description": "Free for YAML anchors; ignored."}}
}


class PromotionConfig(BaseModel):
    """The environment repository's ``.github/promotion.yml``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Promotion Bot configuration",
        json_schema_extra=_EXTENSIONS,
    )

    version: Literal[1] = Field(description="Version of this file's format; must be 1.")
    environments: list[Environment] = Field(
        min_length=1, description="The environments in promotion order, first to last."
    )
    apps: dict[Name, App] = Field(default_factory=dict, description="The apps to promote, by name.")
    policies: dict[Name, Policy] = Field(
        default_factory=dict,
        description="Named policies, usable like built-in ones (and shadowing them).",
    )
    labels: tuple[str, ...] = Field(
        default=("promotion",), description="Labels put on every promotion PR."
    )
    defaults: Defaults = Field(default_factory=Defaults, description="Fallback settings.")
    drift: Drift = Field(default_factory=Drift, description="The drift audit.")

    _effective: dict[tuple[str, str], Policy] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: object) -> object:
        return _prepare(data)

    def environment(self, name: str) -> Environment:
        for environment in self.environments:
            if environment.name == name:
                return environment
        raise KeyError(f"unknown environment environment={name}")

    def environments_of(self, app: str) -> tuple[Environment, ...]:
        """The environments ``app`` is promoted through, in order."""
        names = self.apps[app].environments
        if names is None:
            return tuple(self.environments)
        return tuple(env for env in self.environments if env.name in names)

    def files_of(self, app: str) -> tuple[str, ...] | None:
        """The globs choosing ``app``'s files: its own, else the defaults', else ``None`` (every
        YAML and Terraform file of the environment); with the files its ``tags`` name."""
        spec = self.apps[app]
        globs = spec.files or self.defaults.files
        if globs is None:
            return None
        return (*globs, *(key.file for key in spec.tags if key.file is not None))

    def with_policies(self, effective: Mapping[tuple[str, str], Policy]) -> PromotionConfig:
        """A copy that answers ``policy_for`` from ``effective`` (see configcheck)."""
        copy = self.model_copy()
        copy._effective = dict(effective)
        return copy

    def policy_for(self, app: str, environment: str) -> Policy:
        """The effective policy of ``app`` in ``environment``, ``after`` filled in."""
        try:
            return self._effective[(app, environment)]
        except KeyError:
            raise KeyError(
                f"no policy resolved app={app} environment={environment}; "
                "build the config with parse_config or resolve_config"
            ) from None
