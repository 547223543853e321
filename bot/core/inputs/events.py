"""What happened outside the bot, as values: the events the intake hands to the use cases.

Every event carries the ``installation_id`` it arrived for and the ``delivery_id`` of the webhook
delivery it came from, plus three keys the job queue reads:

- ``dedupe_key``: the same fact reported twice (a redelivery, the ``package`` and
  ``registry_package`` twins, the per-platform manifests of one push) makes one job;
- ``coalesce_key``: a burst of facts where only the newest matters (ten pushes of one image in a
  second) merges into one job while it waits; ``None`` when every event must run;
- ``serial_key``: jobs of one key run one at a time. Every event that may write a promotion
  branch (a push, a tag, a merge, a command, a tick, a pass) has its installation's key: two
  jobs writing one branch at once would each check the branch had not moved, then both write,
  and the branch could end at one version under a PR titled for the other (GitHub has no
  compare-and-swap on a ref, so the check cannot be made one with the write). The installation
  is the unit GitHub paces writes by anyway. A review (``PullChanged``) and a config check
  (``ConfigPushed``) write no branch: their repository's key lets them run beside it.

An event may also report a ``version_seen``: the queue records it durably as it enqueues the
event, before any coalescing, so a job plans from every version seen of its image whatever the
order in which pushes arrived (and whichever payload its job kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.core.files.images import ImageRefError, parse_image_ref


@dataclass(frozen=True)
class VersionSeen:
    """A version of something (``subject``: an image, for an installation or for all) seen."""

    subject: str
    tag: str
    digest: str | None = None


def image_subjects(image: str, installation_id: int | None) -> tuple[str, ...]:
    """The subjects under which versions of ``image`` seen by ``installation_id`` are kept:
    its own and those every installation sees (registry pushes that name no installation).
    Empty for a name that is no image reference."""
    try:
        name = parse_image_ref(image).name
    except ImageRefError:
        return ()
    own = () if installation_id is None else (f"image:{installation_id}:{name}",)
    return (*own, f"image:*:{name}")


class BaseEvent(BaseModel):
    """Fields every event shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    installation_id: int | None = None
    delivery_id: str = ""

    @property
    def dedupe_key(self) -> str:
        return f"{type(self).__name__}:{self.delivery_id}"

    @property
    def coalesce_key(self) -> str | None:
        return None

    @property
    def serial_key(self) -> str:
        return f"installation:{self.installation_id}"

    @property
    def version_seen(self) -> VersionSeen | None:
        return None


class ImagePushed(BaseEvent):
    """A tag now points at an image digest in a registry."""

    kind: Literal["image_pushed"] = "image_pushed"
    registry: str
    repository: str
    tag: str
    digest: str | None = None
    source_repo: str | None = None

    @property
    def image(self) -> str:
        """The full image name, e.g. ``ghcr.io/acme/api``."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def dedupe_key(self) -> str:
        return f"image:{self.image}:{self.tag}@{self.digest or '-'}"

    @property
    def coalesce_key(self) -> str:
        return f"image:{self.installation_id}:{self.image}"

    @property
    def serial_key(self) -> str:
        # A push no installation names (another registry's webhook) is planned for each
        # installation in its job: keyed by what was pushed.
        if self.installation_id is None:
            return self.source_repo or self.image
        return super().serial_key

    @property
    def version_seen(self) -> VersionSeen | None:
        subjects = image_subjects(self.image, self.installation_id)
        return VersionSeen(subjects[0], self.tag, self.digest) if subjects else None


class TagCreated(BaseEvent):
    """A git tag was created in an app repository."""

    kind: Literal["tag_created"] = "tag_created"
    repo: str
    tag: str

    @property
    def dedupe_key(self) -> str:
        return f"tag:{self.repo}:{self.tag}"


class ReleasePublished(BaseEvent):
    """A release became visible (published, released or pre-released)."""

    kind: Literal["release_published"] = "release_published"
    repo: str
    tag: str
    prerelease: bool = False
    action: str = "published"

    @property
    def dedupe_key(self) -> str:
        return f"release:{self.repo}:{self.tag}:{self.prerelease}"


class PullClosed(BaseEvent):
    """A pull request was closed, merged or not."""

    kind: Literal["pull_closed"] = "pull_closed"
    repo: str
    number: int
    merged: bool
    head_ref: str
    base_ref: str
    body: str = ""


class PullChanged(BaseEvent):
    """A pull request was opened, reopened, edited or got new commits."""

    kind: Literal["pull_changed"] = "pull_changed"
    repo: str
    number: int
    action: str
    head_ref: str = ""
    head_sha: str = ""
    base_ref: str = ""
    body: str = ""
    author: str = ""

    @property
    def coalesce_key(self) -> str:
        return f"pull-changed:{self.installation_id}:{self.repo}#{self.number}"

    @property
    def serial_key(self) -> str:
        return self.repo


class CommentCreated(BaseEvent):
    """A comment was posted on an issue or pull request."""

    kind: Literal["comment_created"] = "comment_created"
    repo: str
    issue_number: int
    is_pull: bool
    author: str
    body: str
    comment_id: int
    author_is_bot: bool = False  # a Bot account, or made through an App (this one included)
    url: str = ""  # the comment's web address, for replies and the audit trail

    @property
    def dedupe_key(self) -> str:
        return f"comment:{self.repo}:{self.comment_id}"


class IssueEdited(BaseEvent):
    """An issue's body was edited: how a person ticks a box of the drift report."""

    kind: Literal["issue_edited"] = "issue_edited"
    repo: str
    number: int
    issue_author: str
    editor: str
    editor_is_bot: bool = False
    body: str
    old_body: str


class ConfigPushed(BaseEvent):
    """The promotion config changed on a repository's default branch."""

    kind: Literal["config_pushed"] = "config_pushed"
    repo: str
    ref: str
    after: str

    @property
    def dedupe_key(self) -> str:
        return f"config:{self.repo}@{self.after}"

    @property
    def coalesce_key(self) -> str:
        return f"config:{self.installation_id}:{self.repo}"

    @property
    def serial_key(self) -> str:
        return self.repo


class CheckActionRequested(BaseEvent):
    """Someone pressed a button on one of the bot's check runs."""

    kind: Literal["check_action_requested"] = "check_action_requested"
    repo: str
    identifier: str
    head_sha: str
    requester: str = ""
    pull_number: int | None = None  # the PR the check run is on (GitHub lists at most one here)


class InstallationChanged(BaseEvent):
    """The app was installed, removed, suspended or had its permissions or repositories changed."""

    kind: Literal["installation_changed"] = "installation_changed"
    action: str
    account: str = ""
    repositories_added: tuple[str, ...] = ()
    repositories_removed: tuple[str, ...] = ()


class PassDue(BaseEvent):
    """A periodic pass is due: ``reconcile`` one installation, or ``redeliver`` (sweep the App's
    failed deliveries). Every replica's scheduler asks for each slot; the dedupe key makes one
    job of a (pass, installation, slot), so a pass runs once whatever the number of replicas."""

    kind: Literal["pass_due"] = "pass_due"
    task: Literal["reconcile", "redeliver"]
    slot: datetime  # when the slot began: a pass covers what happened since the one before

    @property
    def dedupe_key(self) -> str:
        return f"PassDue:{self.task}:{self.installation_id}:{self.slot.isoformat()}"

    @property
    def serial_key(self) -> str:
        if self.task == "redeliver":
            return "app:redeliveries"
        return super().serial_key


Event = Annotated[
    ImagePushed
    | TagCreated
    | ReleasePublished
    | PullClosed
    | PullChanged
    | CommentCreated
    | IssueEdited
    | ConfigPushed
    | CheckActionRequested
    | InstallationChanged
    | PassDue,
    Field(discriminator="kind"),
]


_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_to_json(event: BaseEvent) -> str:
    """The event as JSON, with its ``kind`` so ``event_from_json`` can rebuild it."""
    return event.model_dump_json()


def event_from_json(text: str | bytes) -> BaseEvent:
    """Rebuild an event written by ``event_to_json``; raises ``ValueError`` on a bad document."""
    event: BaseEvent = _EVENT_ADAPTER.validate_json(text)
    return event
