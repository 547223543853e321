"""GitHub-facing ports: what the promotion use cases ask of GitHub, as small Protocols and values.

``bot.adapters.github*`` implements them with githubkit, one ``GitHubPorts`` per installation;
``tests/services/fakes.py`` implements them in memory and records every call.

The API budget shapes these ports. With a warm installation token and a cached config, opening a
single-image promotion PR costs at most 8 REST calls and updating one in place at most 8:

====  =====================================================  ==================================
 n    open (branch ``promotion/APP/ENV`` absent)             update (branch present)
====  =====================================================  ==================================
 1    ``GET git/matching-refs/heads/`` (``Git.branch_heads``) same
 2    ``GET git/trees/{sha}?recursive=1`` (cached by sha)    ``GET pulls?head=..&state=all``
 3    ``GET git/blobs/{sha}`` per file (cached by sha)       tree and blob: cached (same base)
 +1   ``Git.branch_heads`` again, just before writing        same, and ``GET pulls/{n}`` (the
      (``bot.services.proposals``: nothing moved)            PR to update is still open)
 4-6  ``POST git/trees``, ``POST git/commits``,               same, ``PATCH git/refs`` (force)
      ``POST git/refs``
 7    ``POST pulls``                                         ``PATCH issues/{n}`` (title and
                                                             body only)
====  =====================================================  ==================================

When the branch is left over from an earlier, closed PR (the bot never deletes its branches:
closed PRs are its record of declined versions and of when a version arrived), opening costs
one more call: the ``pulls?head=`` lookup that shows no PR is open.

Labels: the bot only ever adds them (``POST issues/{n}/labels``) and removes its own
``promotion-held``, never replaces the set: ``labels`` on ``PATCH issues/{n}`` (or ``PUT
issues/{n}/labels``) replaces every label, so a ``do-not-merge`` a person added would vanish at
the next update. ``POST pulls`` cannot set them and a separate call would be a 9th, so neither
the open nor the update path touches labels; the review pass that runs on the
``pull_request.opened`` and ``synchronize`` webhooks (its own job, its own budget) adds the
configured labels the PR lacks.

The review of a promotion PR reads ``pulls?head=`` of the upstream environment's promotion
branch to learn when the version arrived there (the merged PR's ``merged_at``); only when no
merged promotion PR put it there (a person did) does it spend one more call,
``Git.last_commit_at``, for the date of the newest commit that touched the environment's files.

The bot keeps no state of its own: which PR belongs to which (app, environment) is read from the
branch name and the hidden metadata in bodies (``bot.core.markup.metadata``). Caches are only
ever keyed by immutable things (commit, tree and blob shas).

Each proposal also lists the config repository's open hold issues (``Issues.list_open_by_bot``
with the ``promotion-hold`` label): a conditional request, so an unchanged answer is a 304 and
costs no rate limit. What the bot says and whom it answers (comments, issues, check runs,
people) are in ``bot.services.conversation_ports``.

Every method may raise ``bot.services.ports.RetryLater`` when GitHub rate-limits the
installation (primary or secondary limit, ``retry-after``); adapters never sleep. Other failures
raise ``GitHubError`` (or ``NotFound``) with the operation and key=value context in the message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from bot.core.promotion.merging import MergeMethod
from bot.services.conversation_ports import Checks, Comments, Issues, People

PullState = Literal["open", "closed"]
# Why GitHub did not merge: the head moved (409), GitHub was still computing mergeability right
# after an open or update (405 "Base branch was modified", transient), the repository forbids
# the method (405 "Squash merges are not allowed on this repository."), any other 405
# (conflicts, branch protection).
MergeRefusal = Literal["head_moved", "base_modified", "method_not_allowed", "not_mergeable"]


class GitHubError(Exception):
    """A GitHub call failed in a way the use case cannot repair by itself."""


class NotFound(GitHubError):
    """The repository, ref, object, PR or package does not exist (or is not visible)."""


@dataclass(frozen=True)
class Repository:
    """A repository the installation can reach."""

    full_name: str  # "owner/name"
    default_branch: str
    archived: bool = False


REGULAR = "100644"
SYMLINK = "120000"


@dataclass(frozen=True)
class Tree:
    """The files of one commit: ``blobs`` maps every file path (``/``-separated, relative to the
    repository root, blobs only: no trees, no submodules) to its blob sha; ``modes`` holds the
    git mode of each blob that is not a regular ``100644`` file (``100755`` executable,
    ``120000`` symbolic link, whose blob is the link's target), as ``git/trees`` lists them;
    ``sizes`` the size in bytes of each blob, so a file too big to read is never fetched."""

    commit_sha: str
    tree_sha: str
    blobs: Mapping[str, str] = field(default_factory=dict)
    modes: Mapping[str, str] = field(default_factory=dict)
    sizes: Mapping[str, int] = field(default_factory=dict)

    def mode(self, path: str) -> str:
        """The git mode of the file at ``path`` (``100644`` unless ``modes`` says otherwise)."""
        return self.modes.get(path, REGULAR)


@dataclass(frozen=True)
class CommitSpec:
    """A commit on one of the bot's branches: ``base``'s tree with ``files`` (path -> full new
    text) replaced, each keeping its mode in ``base`` (never a symbolic link's path: the adapter
    refuses to write through one); ``create`` when the branch does not exist yet."""

    base: Tree
    files: Mapping[str, str]
    message: str
    branch: str
    create: bool


@dataclass(frozen=True)
class Pull:
    """A pull request as the use cases need it."""

    number: int
    state: PullState
    merged: bool
    title: str
    body: str
    head_ref: str
    head_sha: str
    base_ref: str
    author: str
    by_bot: bool  # opened by this App's own account: only then is its hidden metadata trusted
    labels: tuple[str, ...] = ()
    html_url: str = ""
    merged_at: datetime | None = None
    # Only ``get`` knows it: ``None`` while GitHub computes it in the background (right after
    # an open or a move of head or base; the read itself starts the job).
    mergeable: bool | None = None
    merge_sha: str | None = None  # the commit its merge (or squash) made, once merged


@dataclass(frozen=True)
class MergeResult:
    """What ``PullRequests.merge`` did; ``message`` is GitHub's own, for the user."""

    merged: bool
    refusal: MergeRefusal | None = None
    message: str = ""


@dataclass(frozen=True)
class CommitRecord:
    """A commit as a history lists it: who wrote it, when, and its message's first line."""

    sha: str
    author: str  # the GitHub login when GitHub knows it, else the git author's name
    at: datetime | None
    message: str
    html_url: str = ""
    root: bool = False  # it has no parent: the commit that created the repository


@dataclass(frozen=True)
class PullFile:
    """One file a pull request changes."""

    path: str
    status: str  # added, removed, modified, renamed, copied, changed, unchanged


class Installation(Protocol):
    """The installation itself."""

    async def repositories(self) -> tuple[Repository, ...]:
        """Every repository the installation can reach (``GET installation/repositories``,
        one call per 100 repositories). The adapter may cache the answer until told otherwise
        by ``forget_repositories``."""

    def forget_repositories(self) -> None:
        """Drop the cached repository list (the installation's repositories changed). No call."""


class Git(Protocol):
    """Git data of a repository: refs, trees, blobs, commits on the bot's own branches, and
    when a path last changed on a branch."""

    async def branch_heads(self, repo: str) -> Mapping[str, str]:
        """Every branch of ``repo`` -> the sha of its head commit (names without ``refs/heads/``).

        One call: ``GET git/matching-refs/heads/`` (``per_page=100``; further pages only when
        the repository has more branches). One answer serves both the base branch and the
        ``promotion/...`` branches, so the bot learns in the same call whether a promotion
        branch exists. Raises ``NotFound`` for an unknown or empty repository.
        """

    async def tree(self, repo: str, commit_sha: str) -> Tree:
        """The files of commit ``commit_sha``: one call, ``GET git/trees/{commit_sha}?recursive=1``
        (GitHub resolves a commit sha to its tree). Cached by commit sha: immutable, a cached
        answer costs nothing. When GitHub answers ``truncated``, the adapter lists the subtrees
        one call each instead of returning a partial tree."""

    async def read_blobs(self, repo: str, shas: Sequence[str]) -> Mapping[str, str]:
        """Blob sha -> its text (UTF-8; ``GET git/blobs/{sha}`` decodes base64). One call per
        sha not yet cached; blobs are immutable so the cache is keyed by sha alone. Blobs that
        are not UTF-8 text are left out of the answer."""

    async def commit_files(self, repo: str, spec: CommitSpec) -> str:
        """Point ``spec.branch`` at a new commit whose parent is ``spec.base.commit_sha`` and
        whose tree is the base's with ``spec.files`` replaced; return the commit sha.

        Three calls: ``POST git/trees`` (``base_tree=base.tree_sha``, inline ``content``, each
        file with its mode in ``base``: an executable stays ``100755``), ``POST git/commits``
        (``parents=[base.commit_sha]``), then ``POST git/refs`` when ``create`` or ``PATCH
        git/refs/heads/{branch}`` with ``force: true`` otherwise: the bot owns the branch and
        recomputes its content from the base every time, so it never needs to fast-forward. If
        creating answers 422 (the branch appeared meanwhile), the adapter patches it with force
        instead: one more call. A path that is a symbolic link in ``base`` raises
        ``GitHubError`` before any call: writing it would replace the link with a file.

        The bot never asks for the ``workflows`` permission, and GitHub refuses (403) an App's
        ref change that creates or updates ``.github/workflows/*``, including a move that only
        brings in a workflow change from the base. When the forced move is refused so, the
        adapter puts the same files on the commit the branch was built on instead (``GET
        compare/{branch}...{base}`` for the merge base, then tree, commit and move again: four
        more calls), so the move changes only the promoted files and the PR's merge brings in
        the rest; if the base changed the promoted files too, it raises ``GitHubError``.
        """

    async def log(
        self, repo: str, branch: str, path: str, *, limit: int = 30
    ) -> tuple[CommitRecord, ...]:
        """The newest ``limit`` commits on ``branch`` that touched ``path`` (``.``: any), newest
        first: one call, ``GET commits?sha=BRANCH&path=PATH&per_page=LIMIT``."""

    async def commits_between(self, repo: str, base: str, head: str) -> tuple[CommitRecord, ...]:
        """The commits ``head`` has that ``base`` lacks (at most 250), oldest first: one call,
        ``GET compare/BASE...HEAD``."""

    async def last_commit_at(self, repo: str, branch: str, path: str) -> datetime | None:
        """The committer date of the newest commit on ``branch`` that touched ``path`` (a file
        or a directory; ``.`` is the whole branch), ``None`` when there is none.

        One call: ``GET commits?sha=BRANCH&path=PATH&per_page=1`` (no ``path`` for ``.``). Not
        cached: a branch moves. Used only when no merged promotion PR says when a version
        arrived (a person put it there): a change committed on the branch itself (pushed,
        squash- or rebase-merged) is dated at or after its arrival, so a soak measured from it
        can only wait longer than the real one. A change brought in by a merge commit is dated
        by its own commit on the merged branch, which GitHub lists instead of the merge.
        """


class PullRequests(Protocol):
    """Pull requests of a repository."""

    async def history(self, repo: str, head_branch: str) -> tuple[Pull, ...]:
        """The PRs whose head is ``head_branch`` of ``repo`` itself, open and closed, newest
        first: one call, ``GET pulls?head=OWNER:BRANCH&state=all&per_page=100``. Closed PRs
        carry the versions people declined (their metadata)."""

    async def get(self, repo: str, number: int) -> Pull:
        """One PR: one call, ``GET pulls/{number}``. ``NotFound`` when there is none."""

    async def recent(self, repo: str, *, state: Literal["open", "closed"]) -> tuple[Pull, ...]:
        """The 100 PRs of ``repo`` in ``state`` updated last, newest first: one call, ``GET
        pulls?state=STATE&sort=updated&direction=desc&per_page=100``."""

    async def files(self, repo: str, number: int) -> tuple[PullFile, ...]:
        """The files the PR changes: ``GET pulls/{number}/files?per_page=100``, one call per
        100 files (GitHub stops at 3,000)."""

    async def open(self, repo: str, *, head: str, base: str, title: str, body: str) -> Pull:
        """Open a PR from ``head`` (a branch of ``repo``) into ``base``: one call, ``POST
        pulls``. Labels are not set here (see the module docstring)."""

    async def update(self, repo: str, number: int, *, title: str, body: str) -> None:
        """Replace the PR's title and body: one call, ``PATCH issues/{number}`` without
        ``labels`` (which would replace the whole label set: see the module docstring)."""

    async def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        """Add labels, keeping the others: one call, ``POST issues/{number}/labels``."""

    async def remove_label(self, repo: str, number: int, label: str) -> None:
        """Remove one label, keeping the others: one call, ``DELETE issues/{number}/labels/
        {label}`` (a label that is not there is no error)."""

    async def merge_methods(self, repo: str) -> frozenset[MergeMethod]:
        """The merge methods ``repo`` allows: one call, ``GET repos/{o}/{r}`` (its
        ``allow_merge_commit``, ``allow_squash_merge``, ``allow_rebase_merge``; a field GitHub
        leaves out counts as allowed, its documented default). Read when about to merge, not
        from the cached installation listing: an admin can change them at any time, and the
        HTTP cache makes an unchanged answer a 304."""

    async def merge(
        self, repo: str, number: int, *, head_sha: str, method: MergeMethod = "squash"
    ) -> MergeResult:
        """Merge the PR if its head is still ``head_sha``: one call, ``PUT pulls/{n}/merge``
        with ``sha`` and ``merge_method``. A 405 or 409 is a refusal (``MergeResult.refusal``),
        not an error."""


class Sources(Protocol):
    """Where new versions come from: app repositories and container packages."""

    async def list_tags(self, repo: str) -> tuple[str, ...]:
        """Every git tag name of ``repo``, in no particular order (callers pick by version):
        ``GET git/matching-refs/tags/`` (``per_page=100``; further pages only when GitHub sends
        ``Link: rel="next"``, at most 100 pages). Not ``GET tags``: GitHub lists those reverse
        alphabetically (``v9`` before ``v10``), so its first pages are not the newest. Each page
        is a conditional request through the HTTP cache: unchanged tags cost 304s, no rate
        limit. ``NotFound`` for an unknown repository; an empty one has none."""

    async def list_container_versions(self, image: str) -> tuple[str, ...]:
        """Tags of the container package ``image`` (``ghcr.io/OWNER/NAME``), newest version
        first: ``GET orgs/{owner}/packages/container/{name}/versions`` (``users/`` when the
        owner is a user; the adapter remembers which), ``per_page=100``, at most 3 pages.
        ``NotFound`` when the package is not on GitHub's registry."""


class Pace(Protocol):
    """The installation's budget of content-creating requests (GitHub's secondary limits)."""

    async def reserve(self, count: int) -> None:
        """Take ``count`` writes for the job that runs now, or raise ``RetryLater`` before any
        of them is sent: a job the pace stopped half-way would redo its writes (a new tree and
        commit) when it runs again. No call."""


@dataclass(frozen=True)
class GitHubPorts:
    """Everything one installation offers the use cases; built per job by the adapter.

    ``web_url`` is GitHub's web root (``https://github.com``) for links in PR bodies;
    ``bot_login`` is the App's account (``NAME[bot]``).
    """

    installation: Installation
    git: Git
    pulls: PullRequests
    comments: Comments
    issues: Issues
    checks: Checks
    sources: Sources
    people: People
    pace: Pace
    web_url: str = "https://github.com"
    bot_login: str = ""


# Wiring takes one of these: installation id -> that installation's ports (the adapter caches
# clients and tokens per installation; ``None`` means the event came without one).
PortsFactory = Callable[[int | None], GitHubPorts]
