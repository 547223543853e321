"""GitHub webhook payloads -> core events. Pure: a payload dict in, events out.

``translate`` reads only the fields it needs through a ``_Reader`` that remembers them, so
``shape_problems`` can ask githubkit's models about exactly those fields: a payload that lacks a
field we do not read (GitHub adds and drops fields over time) still goes through, and a payload
whose fields we read have the wrong shape is rejected with a message naming them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, get_args

import githubkit_schemas.latest.models as githubkit_models
import githubkit_schemas.latest.webhooks as webhook_models
from pydantic import TypeAdapter, ValidationError

from bot.core.inputs.events import (
    BaseEvent,
    CheckActionRequested,
    CommentCreated,
    ConfigPushed,
    ImagePushed,
    InstallationChanged,
    IssueEdited,
    PullChanged,
    PullClosed,
    ReleasePublished,
    TagCreated,
)

CONFIG_PATHS = frozenset({".github/promotion.yml", ".github/promotion.yaml"})
CONTAINER_TYPES = frozenset({"container", "docker"})
GHCR = "ghcr.io"
Path = tuple[str | int, ...]
T = TypeVar("T")


class PayloadShapeError(ValueError):
    """A field the bot reads is missing or has the wrong type."""


@dataclass
class _Reader:
    """Typed access to a payload that records every path it was asked for."""

    payload: Mapping[str, Any]
    read: set[Path] = field(default_factory=set)

    def get(self, dotted: str, kind: type[T] | tuple[type, ...], *, required: bool = True) -> Any:
        path: Path = tuple(dotted.split("."))
        self.read.add(path)
        node: Any = self.payload
        for part in path:
            if not isinstance(node, Mapping) or node.get(part) is None:
                if required:
                    raise PayloadShapeError(f"missing field {dotted}")
                return None
            node = node[part]
        if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
            raise PayloadShapeError(f"field {dotted} has type {type(node).__name__}")
        return node

    def text(self, dotted: str) -> str:
        value: str = self.get(dotted, str)
        return value

    def optional_text(self, dotted: str) -> str:
        value: str | None = self.get(dotted, str, required=False)
        return value or ""

    def number(self, dotted: str) -> int:
        value: int = self.get(dotted, int)
        return value

    def flag(self, dotted: str) -> bool:
        value: bool | None = self.get(dotted, bool, required=False)
        return bool(value)

    def common(self, delivery_id: str) -> dict[str, Any]:
        return {
            "installation_id": self.get("installation.id", int, required=False),
            "delivery_id": delivery_id,
        }


Translator = Callable[[_Reader, str], tuple[BaseEvent, ...]]


@dataclass(frozen=True)
class Translation:
    events: tuple[BaseEvent, ...]
    fields_read: frozenset[Path]


def _registry_package(root: str) -> Translator:
    def translate(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
        kinds = {r.optional_text(f"{root}.ecosystem"), r.optional_text(f"{root}.package_type")}
        if not {k.lower() for k in kinds} & CONTAINER_TYPES:
            return ()
        version = f"{root}.package_version"
        tag = r.optional_text(f"{version}.container_metadata.tag.name")
        if not tag:  # a platform manifest or an untagged push: the tagged index follows
            return ()
        digest = r.optional_text(f"{version}.container_metadata.tag.digest")
        repository = _image_repository(r, root)
        source = r.get("repository.full_name", str, required=False)
        event = ImagePushed(
            registry=GHCR,
            repository=repository,
            tag=tag,
            digest=digest or None,
            source_repo=source,
            **r.common(delivery_id),
        )
        return (event,)

    return translate


def _image_repository(r: _Reader, root: str) -> str:
    """``owner/name`` of a GHCR image, lowercase as the registry requires."""
    url = r.optional_text(f"{root}.package_version.package_url")
    if url.lower().startswith(f"{GHCR}/"):
        name = url[len(GHCR) + 1 :].split("@", 1)[0]
        head, _, last = name.rpartition("/")
        return f"{head}/{last.split(':', 1)[0]}".lower()
    namespace = r.text(f"{root}.namespace")
    if "/" in namespace:
        return namespace.lower()
    return f"{namespace}/{r.text(f'{root}.name')}".lower()


def _create(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    if r.text("ref_type") != "tag":
        return ()
    return (
        TagCreated(repo=r.text("repository.full_name"), tag=r.text("ref"), **r.common(delivery_id)),
    )


def _release(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    if r.flag("release.draft"):
        return ()
    event = ReleasePublished(
        repo=r.text("repository.full_name"),
        tag=r.text("release.tag_name"),
        prerelease=r.flag("release.prerelease"),
        action=r.text("action"),
        **r.common(delivery_id),
    )
    return (event,)


def _push(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    if r.flag("deleted"):
        return ()
    ref = r.text("ref")
    repo = r.text("repository.full_name")
    if ref.startswith("refs/tags/"):
        if not r.flag("created"):
            return ()
        return (TagCreated(repo=repo, tag=ref.removeprefix("refs/tags/"), **r.common(delivery_id)),)
    if ref != f"refs/heads/{r.text('repository.default_branch')}":
        return ()
    commits = r.get("commits", list, required=False) or []
    touched = {
        path
        for commit in commits
        if isinstance(commit, Mapping)
        for key in ("added", "modified", "removed")
        for path in commit.get(key) or ()
    }
    if not touched & CONFIG_PATHS:
        return ()
    return (ConfigPushed(repo=repo, ref=ref, after=r.text("after"), **r.common(delivery_id)),)


def _pull_request(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    action = r.text("action")
    fields = {
        "repo": r.text("repository.full_name"),
        "number": r.number("pull_request.number"),
        "head_ref": r.text("pull_request.head.ref"),
        "base_ref": r.text("pull_request.base.ref"),
        "body": r.optional_text("pull_request.body"),
        **r.common(delivery_id),
    }
    if action == "closed":
        merged = r.flag("pull_request.merged")
        return (PullClosed(merged=merged, **fields),)
    head_sha = r.text("pull_request.head.sha")
    author = r.optional_text("pull_request.user.login")
    return (PullChanged(action=action, head_sha=head_sha, author=author, **fields),)


def _issue_comment(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    event = CommentCreated(
        repo=r.text("repository.full_name"),
        issue_number=r.number("issue.number"),
        is_pull=r.get("issue.pull_request", dict, required=False) is not None,
        author=r.text("comment.user.login"),
        body=r.optional_text("comment.body"),
        comment_id=r.number("comment.id"),
        # An App's comments (this bot's included) are written by its "NAME[bot]" Bot account.
        author_is_bot=r.optional_text("comment.user.type") == "Bot",
        url=r.optional_text("comment.html_url"),
        **r.common(delivery_id),
    )
    return (event,)


def _issues(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    # Only an edit of the body (``changes.body.from``): ticks in the drift report.
    if r.get("changes.body", dict, required=False) is None:
        return ()
    event = IssueEdited(
        repo=r.text("repository.full_name"),
        number=r.number("issue.number"),
        issue_author=r.optional_text("issue.user.login"),
        editor=r.text("sender.login"),
        editor_is_bot=r.optional_text("sender.type") == "Bot",
        body=r.optional_text("issue.body"),
        old_body=r.optional_text("changes.body.from"),
        **r.common(delivery_id),
    )
    return (event,)


def _check_run(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    pulls = r.get("check_run.pull_requests", list, required=False) or []
    number = pulls[0].get("number") if pulls and isinstance(pulls[0], Mapping) else None
    event = CheckActionRequested(
        repo=r.text("repository.full_name"),
        identifier=r.text("requested_action.identifier"),
        head_sha=r.text("check_run.head_sha"),
        requester=r.optional_text("sender.login"),
        pull_number=number if isinstance(number, int) else None,
        **r.common(delivery_id),
    )
    return (event,)


def _installation(r: _Reader, delivery_id: str) -> tuple[BaseEvent, ...]:
    def names(key: str) -> tuple[str, ...]:
        repos = r.get(key, list, required=False) or []
        return tuple(x["full_name"] for x in repos if isinstance(x, Mapping) and "full_name" in x)

    event = InstallationChanged(
        action=r.text("action"),
        account=r.optional_text("installation.account.login"),
        repositories_added=names("repositories_added") or names("repositories"),
        repositories_removed=names("repositories_removed"),
        **r.common(delivery_id),
    )
    return (event,)


NO_ACTION = frozenset({None})  # events without an ``action`` field
PACKAGE_ACTIONS = frozenset({"published", "updated"})
# Each event the bot handles: its translator, and the actions it handles (any other translates
# to nothing). githubkit has a model of each action (``load_githubkit_models``).
TRANSLATORS: Mapping[str, tuple[Translator, frozenset[str | None]]] = {
    "registry_package": (_registry_package("registry_package"), PACKAGE_ACTIONS),
    "package": (_registry_package("package"), PACKAGE_ACTIONS),
    "create": (_create, NO_ACTION),
    "release": (_release, frozenset({"published", "released", "prereleased"})),
    "push": (_push, NO_ACTION),
    "pull_request": (
        _pull_request,
        frozenset({"closed", "opened", "synchronize", "reopened", "edited"}),
    ),
    "issue_comment": (_issue_comment, frozenset({"created"})),
    "issues": (_issues, frozenset({"edited"})),
    "check_run": (_check_run, frozenset({"requested_action"})),
    "installation": (
        _installation,
        frozenset({"created", "deleted", "new_permissions_accepted", "suspend", "unsuspend"}),
    ),
    "installation_repositories": (_installation, frozenset({"added", "removed"})),
}
TRANSLATED_EVENTS = frozenset(TRANSLATORS)


def translate(event_name: str, payload: Mapping[str, Any], delivery_id: str) -> Translation:
    """The core events a delivery means; none for events and actions the bot does not handle.

    Raises ``PayloadShapeError`` when a field it needs is missing or of the wrong type.
    """
    if event_name not in TRANSLATORS or not isinstance(payload, Mapping):
        return Translation((), frozenset())
    translator, actions = TRANSLATORS[event_name]
    reader = _Reader(payload)
    if actions != NO_ACTION and reader.text("action") not in actions:
        return Translation((), frozenset(reader.read))
    events = translator(reader, delivery_id)
    return Translation(events, frozenset(reader.read))


def shape_problems(
    event_name: str, payload: Mapping[str, Any], fields: frozenset[Path]
) -> list[str]:
    """githubkit's complaints about ``fields`` of the payload; complaints about others are dropped.

    githubkit's models require every field GitHub documents, and old or trimmed payloads lack
    some (``labels[].archived_by``): rejecting those would lose real deliveries.
    """
    action = payload.get("action")
    model, whole = githubkit_model(event_name, action if isinstance(action, str) else None)
    try:
        model.validate_python(payload)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            loc = tuple(error["loc"])
            if whole and loc and loc[0] == action:  # the tagged-union branch, not a payload key
                loc = loc[1:]
            if any(_overlaps(loc, read) for read in fields):
                where = ".".join(str(part) for part in loc) or "payload"
                problems.append(f"{where}: {error['msg']}")
        return problems
    return []


@cache
def githubkit_model(event_name: str, action: str | None) -> tuple[TypeAdapter[Any], bool]:
    """The model of ``action`` of ``event_name`` in githubkit (``WebhookPullRequestOpened``),
    kept; and whether it is instead the whole event, the union of every action's model
    ``githubkit.webhooks.parse_obj`` validates against, for an action githubkit has no model of.

    One action's model: importing the union's modules and building it takes seconds (2.7 s for
    ``pull_request``, 5 s for every event; 0.35 s for the actions handled), paid by every start
    of the bot. ``parse_obj`` also builds a new ``TypeAdapter`` on every call: 14 ms for a
    ``pull_request``, against 0.1 ms to validate with a kept one.
    """
    name = _camel(event_name)
    model = getattr(githubkit_models, f"Webhook{name}{_camel(action or '')}", None)
    if model is not None and _action_of(model) == action:
        return TypeAdapter(model), False
    return TypeAdapter(getattr(webhook_models, f"{name}Event")), True


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def _action_of(model: type[Any]) -> str | None:
    """The one action a githubkit event model is of (``None``: it has no action field)."""
    declared = model.model_fields.get("action")
    return None if declared is None else get_args(declared.annotation)[0]


def load_githubkit_models() -> None:
    """Build the model of every action handled up front (0.35 s): built lazily, the first
    delivery of each would stall the event loop, and every request with it."""
    for event_name, (_, actions) in TRANSLATORS.items():
        for action in actions:
            githubkit_model(event_name, action)


def _overlaps(a: Path, b: Path) -> bool:
    shortest = min(len(a), len(b))
    return a[:shortest] == b[:shortest]
