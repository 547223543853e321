"""A recording in-memory GitHub: repositories of branches -> files, PRs, comments, checks.

``FakeGitHub.ports()`` implements every port of ``bot.services.github_ports``. Every port call is
appended to ``calls`` as ``(method, repo, ...)``; ``rest`` counts the REST calls a real adapter
would make, with the same caches (trees by commit sha, blobs by sha), so tests can hold the use
cases to the API budget. Commits are dated with the fake's ``now`` when they are made.
``on_call`` makes a race deterministic: a person's move happens between two of a job's reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from bot.core.promotion.merging import MergeMethod
from bot.services.conversation_ports import CheckRunSpec, Comment, Issue, Reaction
from bot.services.github_ports import (
    SYMLINK,
    CommitRecord,
    CommitSpec,
    GitHubError,
    GitHubPorts,
    MergeResult,
    NotFound,
    Pull,
    PullFile,
    Repository,
    Tree,
)

BOT = "promotion-bot[bot]"


def blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class FakeRepo:
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit sha


@dataclass
class _Hook:
    method: str
    left: int  # calls of ``method`` until ``action`` runs
    action: Callable[[], object]


@dataclass
class FakeIssue:
    number: int
    title: str
    body: str
    author: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    pull: Pull | None = None


class FakeGitHub:
    """State plus the port implementations (one object serves them all)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.commits: dict[str, tuple[dict[str, str], str | None]] = {}  # sha -> (files, parent)
        self.commit_dates: dict[str, datetime] = {}  # sha -> committer date (``now`` at commit)
        self.commit_messages: dict[str, str] = {}
        self.commit_authors: dict[str, str] = {}  # sha -> login (``alice`` unless the bot's)
        self.blobs: dict[str, str] = {}
        self.issues: dict[tuple[str, int], FakeIssue] = {}
        self.comments: dict[int, tuple[str, int, Comment]] = {}
        self.checks: list[tuple[str, CheckRunSpec]] = []
        # The last answer of each issue listing: what the HTTP cache's ETag stands for.
        self.last_listed: dict[tuple[str, str], tuple[Issue, ...]] = {}
        self.reactions: dict[int, set[Reaction]] = {}  # the bot's reactions by comment id
        self.roles: dict[tuple[str, str], str] = {}  # (repo, login) -> role_name
        self.teams: dict[str, set[str]] = {}  # "org/team" -> active members
        self.tags: dict[str, tuple[str, ...]] = {}
        self.modes: dict[str, str] = {}  # path -> git mode when not 100644 (every repository)
        self.not_text: set[str] = set()  # blob shas that do not decode as UTF-8 (left out)
        self.packages: dict[str, tuple[str, ...]] = {}
        # GitHub's merge rules: mergeability per PR (absent: computed, True), the methods each
        # repository allows (absent: all three) and the refusals the next merges answer.
        self.mergeable: dict[tuple[str, int], bool | None] = {}
        self.allowed_methods: dict[str, frozenset[MergeMethod]] = {}
        self.merge_refusals: list[MergeResult] = []
        self.calls: list[tuple[object, ...]] = []
        self.rest = 0
        self._hooks: list[_Hook] = []
        self.now = now or datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        self._cached_trees: set[str] = set()
        self._cached_blobs: set[str] = set()
        self._repos_cached = False

    def ports(self) -> GitHubPorts:
        return GitHubPorts(
            self,
            self,
            self,
            FakeComments(self),
            FakeIssues(self),
            self,
            self,
            FakePeople(self),
            FakePace(self),
            web_url="https://github.example",
            bot_login=BOT,
        )

    # -- test helpers ---------------------------------------------------------------------
    def seed(self, repo: str, files: Mapping[str, str], *, branch: str = "main") -> str:
        self.repos.setdefault(repo, FakeRepo(default_branch=branch))
        return self.push(repo, branch, files)

    def push(
        self,
        repo: str,
        branch: str,
        files: Mapping[str, str],
        *,
        replace_all: bool = False,
        message: str = "",
    ) -> str:
        record = self.repos.setdefault(repo, FakeRepo(default_branch=branch))
        parent = record.branches.get(branch)
        tree = {} if replace_all or parent is None else dict(self.commits[parent][0])
        tree.update(files)
        sha = self._commit(tree, parent, message or f"push {branch}")
        record.branches[branch] = sha
        return sha

    def branch(self, repo: str, name: str, files: Mapping[str, str], *, start: str = "main") -> str:
        """A person's branch from ``start`` with ``files`` changed."""
        self.repos[repo].branches[name] = self.repos[repo].branches[start]
        return self.push(repo, name, files)

    def pulls_of(self, repo: str) -> list[Pull]:
        return [i.pull for (r, _), i in sorted(self.issues.items()) if r == repo and i.pull]

    def open_person_pr(self, repo: str, *, head: str, base: str, title: str = "Edit") -> Pull:
        return self._new_pull(repo, head=head, base=base, title=title, body="", author="alice")

    def on_call(self, method: str, action: Callable[[], object], *, nth: int = 1) -> None:
        """Run ``action`` once, just before the ``nth`` call of ``method`` from now answers
        (``method`` as ``calls`` records it, say ``pulls.history``)."""
        self._hooks.append(_Hook(method, nth, action))

    def close(self, repo: str, number: int, *, merged: bool, delete_branch: bool = False) -> Pull:
        """Close PR ``number`` as a person would; ``delete_branch`` as GitHub's "Automatically
        delete head branches" setting does after a merge."""
        issue = self.issues[(repo, number)]
        assert issue.pull is not None
        if merged:
            head = self.files_at(repo, issue.pull.head_ref)
            changed = {
                p: t
                for p, t in head.items()
                if self.files_at(repo, issue.pull.base_ref).get(p) != t
            }
            self.push(repo, issue.pull.base_ref, changed)
        if delete_branch:
            self.repos[repo].branches.pop(issue.pull.head_ref)
        issue.state = "closed"
        issue.pull = replace(
            issue.pull,
            state="closed",
            merged=merged,
            merged_at=self.now if merged else None,
        )
        return issue.pull

    def count(self, method: str) -> int:
        return sum(1 for call in self.calls if call[0] == method)

    # -- Installation -------------------------------------------------------------------------
    async def repositories(self) -> tuple[Repository, ...]:
        # The adapter keeps the list until told to forget it.
        self._call("installation.repositories", cached=self._repos_cached)
        self._repos_cached = True
        return tuple(Repository(name, r.default_branch) for name, r in self.repos.items())

    def forget_repositories(self) -> None:
        self.calls.append(("installation.forget_repositories",))
        self._repos_cached = False

    # -- Git ----------------------------------------------------------------------------------
    async def branch_heads(self, repo: str) -> Mapping[str, str]:
        self._call("git.branch_heads", repo)
        return dict(self._repo(repo).branches)

    async def tree(self, repo: str, commit_sha: str) -> Tree:
        self._call("git.tree", repo, commit_sha, cached=commit_sha in self._cached_trees)
        self._cached_trees.add(commit_sha)
        files = self.commits[commit_sha][0]
        modes = {p: m for p, m in self.modes.items() if p in files}
        blobs = {p: blob_sha(t) for p, t in files.items()}
        sizes = {p: len(t.encode()) for p, t in files.items()}
        return Tree(commit_sha, "tree-" + commit_sha, blobs, modes, sizes)

    async def read_blobs(self, repo: str, shas: Sequence[str]) -> Mapping[str, str]:
        for sha in shas:
            self._call("git.read_blob", repo, sha, cached=sha in self._cached_blobs)
            self._cached_blobs.add(sha)
        return {sha: self.blobs[sha] for sha in shas if sha not in self.not_text}

    async def log(
        self, repo: str, branch: str, path: str, *, limit: int = 30
    ) -> tuple[CommitRecord, ...]:
        self._call("git.log", repo, branch, path)
        prefix = "" if path in ("", ".") else path.rstrip("/")
        found = []
        for sha in self._ancestry(self._repo(repo).branches.get(branch)):
            files, parent = self.commits[sha]
            before = {} if parent is None else self.commits[parent][0]
            if _under(files, prefix) != _under(before, prefix):
                found.append(self._record(sha))
        return tuple(found[:limit])

    async def commits_between(self, repo: str, base: str, head: str) -> tuple[CommitRecord, ...]:
        self._call("git.commits_between", repo, base, head)
        branches = self._repo(repo).branches
        for ref in (base, head):
            if ref not in branches and ref not in self.commits:
                raise NotFound(f"comparing repo={repo} base={base} head={head}: no ref {ref}")
        known = set(self._ancestry(branches.get(base, base)))
        mine = [sha for sha in self._ancestry(branches.get(head, head)) if sha not in known]
        return tuple(self._record(sha) for sha in reversed(mine))

    def _ancestry(self, sha: str | None) -> list[str]:
        found = []
        while sha is not None and sha in self.commits:
            found.append(sha)
            sha = self.commits[sha][1]
        return found

    def _record(self, sha: str) -> CommitRecord:
        message = self.commit_messages.get(sha, "")
        root = self.commits[sha][1] is None
        author = self.commit_authors.get(sha, "alice")
        return CommitRecord(sha, author, self.commit_dates[sha], message, root=root)

    async def last_commit_at(self, repo: str, branch: str, path: str) -> datetime | None:
        self._call("git.last_commit_at", repo, branch, path)
        sha = self._repo(repo).branches.get(branch)
        if sha is None:
            raise NotFound(f"no branch repo={repo} branch={branch}")
        prefix = "" if path in ("", ".") else path.rstrip("/")
        while sha is not None:
            files, parent = self.commits[sha]
            before = {} if parent is None else self.commits[parent][0]
            if _under(files, prefix) != _under(before, prefix):
                return self.commit_dates[sha]
            sha = parent
        return None

    async def commit_files(self, repo: str, spec: CommitSpec) -> str:
        self.calls.append(("git.commit_files", repo, spec.branch, spec.create, dict(spec.files)))
        record = self._repo(repo)
        if any(spec.base.mode(path) == SYMLINK for path in spec.files):
            raise GitHubError(f"refusing to write through a symbolic link repo={repo}")
        self.rest += 3 + (1 if spec.create and spec.branch in record.branches else 0)
        tree = {**self.commits[spec.base.commit_sha][0], **spec.files}
        sha = self._commit(tree, spec.base.commit_sha, spec.message)
        self.commit_authors[sha] = BOT
        record.branches[spec.branch] = sha
        return sha

    # -- PullRequests ---------------------------------------------------------------------------
    async def history(self, repo: str, head_branch: str) -> tuple[Pull, ...]:
        self._call("pulls.history", repo, head_branch)
        found = [p for p in self.pulls_of(repo) if p.head_ref == head_branch]
        return tuple(self._fresh(repo, p) for p in reversed(found))

    async def recent(self, repo: str, *, state: Literal["open", "closed"]) -> tuple[Pull, ...]:
        self._call("pulls.recent", repo, state)
        found = [self._fresh(repo, p) for p in self.pulls_of(repo)]
        return tuple(p for p in reversed(found) if p.state == state)[:100]

    async def get(self, repo: str, number: int) -> Pull:
        self._call("pulls.get", repo, number)
        issue = self.issues.get((repo, number))
        if issue is None or issue.pull is None:
            raise NotFound(f"no pull request repo={repo} number={number}")
        return self._fresh(repo, issue.pull)

    async def files(self, repo: str, number: int) -> tuple[PullFile, ...]:
        self._call("pulls.files", repo, number)
        pull = await self._peek(repo, number)
        base, head = self.files_at(repo, pull.base_ref), self.files_at(repo, pull.head_ref)
        return tuple(
            PullFile(
                path, "added" if path not in base else "removed" if path not in head else "modified"
            )
            for path in sorted(set(base) | set(head))
            if base.get(path) != head.get(path)
        )

    async def open(self, repo: str, *, head: str, base: str, title: str, body: str) -> Pull:
        self._call("pulls.open", repo, head)
        if any(p.head_ref == head and p.state == "open" for p in self.pulls_of(repo)):
            raise GitHubError(f"a pull request already exists repo={repo} head={head}")
        return self._new_pull(repo, head=head, base=base, title=title, body=body, author=BOT)

    async def update(self, repo: str, number: int, *, title: str, body: str) -> None:
        self._call("pulls.update", repo, number)
        issue = self.issues[(repo, number)]
        issue.title, issue.body = title, body

    async def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        self._call("pulls.add_labels", repo, number, tuple(labels))
        issue = self.issues[(repo, number)]
        issue.labels += [label for label in labels if label not in issue.labels]

    async def remove_label(self, repo: str, number: int, label: str) -> None:
        self._call("pulls.remove_label", repo, number, label)
        issue = self.issues[(repo, number)]
        issue.labels = [name for name in issue.labels if name != label]

    async def merge_methods(self, repo: str) -> frozenset[MergeMethod]:
        self._call("pulls.merge_methods", repo)
        return self.allowed_methods.get(repo, frozenset(("merge", "squash", "rebase")))

    async def merge(
        self, repo: str, number: int, *, head_sha: str, method: MergeMethod = "squash"
    ) -> MergeResult:
        self._call("pulls.merge", repo, number, method)
        pull = await self._peek(repo, number)
        if pull.head_sha != head_sha:
            return MergeResult(False, "head_moved", "Head branch was modified.")
        if pull.state != "open":
            return MergeResult(False, "not_mergeable", "Pull Request is not mergeable")
        if method not in self.allowed_methods.get(repo, {method}):
            return MergeResult(False, "method_not_allowed", f"{method} is not allowed")
        if self.merge_refusals:
            return self.merge_refusals.pop(0)
        self.close(repo, number, merged=True)
        return MergeResult(True)

    # -- Checks and Sources -------------------------------------------------------------------
    async def create(self, repo: str, run: CheckRunSpec) -> int:
        self._call("checks.create", repo, run.name)
        self.checks.append((repo, run))
        return len(self.checks)

    async def list_tags(self, repo: str) -> tuple[str, ...]:
        self._call("sources.list_tags", repo)
        if repo not in self.tags:
            raise NotFound(f"no repository repo={repo}")
        return self.tags[repo]

    async def list_container_versions(self, image: str) -> tuple[str, ...]:
        self._call("sources.list_container_versions", image)
        if image not in self.packages:
            raise NotFound(f"no package image={image}")
        return self.packages[image]

    # -- internals ----------------------------------------------------------------------------
    def files_at(self, repo: str, branch: str) -> dict[str, str]:
        sha = self.repos[repo].branches.get(branch)
        return {} if sha is None else dict(self.commits[sha][0])

    def _call(self, method: str, *args: object, cached: bool = False) -> None:
        self.calls.append((method, *args))
        self.rest += 0 if cached else 1
        for hook in [h for h in self._hooks if h.method == method]:
            hook.left -= 1
            if hook.left == 0:
                self._hooks.remove(hook)
                hook.action()

    def _repo(self, repo: str) -> FakeRepo:
        if repo not in self.repos:
            raise NotFound(f"no repository repo={repo}")
        return self.repos[repo]

    def _commit(self, files: dict[str, str], parent: str | None, message: str) -> str:
        for text in files.values():
            self.blobs[blob_sha(text)] = text
        seed = repr((sorted(files.items()), parent, message, len(self.commits))).encode()
        sha = hashlib.sha1(seed, usedforsecurity=False).hexdigest()
        self.commits[sha] = (dict(files), parent)
        self.commit_dates[sha] = self.now
        self.commit_messages[sha] = message
        return sha

    def _new_pull(
        self, repo: str, *, head: str, base: str, title: str, body: str, author: str
    ) -> Pull:
        number = 1 + max((n for r, n in self.issues if r == repo), default=0)
        pull = Pull(
            number,
            "open",
            False,
            title,
            body,
            head,
            self.repos[repo].branches[head],
            base,
            author,
            author == BOT,
            html_url=f"https://github.example/{repo}/pull/{number}",
        )
        self.issues[(repo, number)] = FakeIssue(number, title, body, author, pull=pull)
        return pull

    async def _peek(self, repo: str, number: int) -> Pull:
        issue = self.issues[(repo, number)]
        assert issue.pull is not None
        return self._fresh(repo, issue.pull)

    def _fresh(self, repo: str, pull: Pull) -> Pull:
        issue = self.issues[(repo, pull.number)]
        head = self.repos[repo].branches.get(pull.head_ref, pull.head_sha)
        sha = head if pull.state == "open" else pull.head_sha
        mergeable = self.mergeable.get((repo, pull.number), True) if pull.state == "open" else None
        return replace(
            pull,
            title=issue.title,
            body=issue.body,
            labels=tuple(issue.labels),
            head_sha=sha,
            mergeable=mergeable,
        )


def _under(files: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The files at ``prefix`` (a file) or below it (a directory); all of them for ``""``."""
    if not prefix:
        return dict(files)
    return {p: t for p, t in files.items() if p == prefix or p.startswith(prefix + "/")}


class FakeComments:
    def __init__(self, gh: FakeGitHub) -> None:
        self.gh = gh

    async def list(self, repo: str, number: int) -> tuple[Comment, ...]:
        self.gh._call("comments.list", repo, number)
        return tuple(c for r, n, c in self.gh.comments.values() if (r, n) == (repo, number))

    async def create(self, repo: str, number: int, body: str) -> int:
        self.gh._call("comments.create", repo, number)
        comment_id = len(self.gh.comments) + 1
        self.gh.comments[comment_id] = (repo, number, Comment(comment_id, body, by_bot=True))
        return comment_id

    async def edit(self, repo: str, comment_id: int, body: str) -> None:
        self.gh._call("comments.edit", repo, comment_id)
        r, n, _ = self.gh.comments[comment_id]
        self.gh.comments[comment_id] = (r, n, Comment(comment_id, body, by_bot=True))

    async def react(self, repo: str, comment_id: int, content: Reaction) -> None:
        self.gh._call("comments.react", repo, comment_id, content)
        self.gh.reactions.setdefault(comment_id, set()).add(content)

    async def bot_reactions(self, repo: str, comment_id: int) -> frozenset[Reaction]:
        self.gh._call("comments.bot_reactions", repo, comment_id)
        return frozenset(self.gh.reactions.get(comment_id, set()))


class FakePeople:
    """Roles by (repo, login) and active team members by "org/team"; unknown people: none."""

    def __init__(self, gh: FakeGitHub) -> None:
        self.gh = gh

    async def role(self, repo: str, login: str) -> tuple[str, str]:
        self.gh._call("people.role", repo, login)
        role = self.gh.roles.get((repo, login), "none")
        return role, {"maintain": "write", "triage": "read"}.get(role, role)

    async def team_member(self, org: str, team: str, login: str) -> bool:
        self.gh._call("people.team_member", f"{org}/{team}", login)
        return login in self.gh.teams.get(f"{org}/{team}", set())


class FakeIssues:
    def __init__(self, gh: FakeGitHub) -> None:
        self.gh = gh

    async def list_open_by_bot(self, repo: str, *, label: str = "") -> tuple[Issue, ...]:
        found = tuple(
            Issue(i.number, i.title, i.body, by_bot=True)
            for (r, _), i in sorted(self.gh.issues.items())
            if r == repo
            and i.pull is None
            and i.state == "open"
            and i.author == BOT
            and (not label or label in i.labels)
        )
        # An answer equal to the last one is a 304 through the HTTP cache: no rate limit.
        cached = self.gh.last_listed.get((repo, label)) == found
        self.gh.last_listed[(repo, label)] = found
        self.gh._call("issues.list_open_by_bot", repo, cached=cached)
        return found

    async def newest_by_bot(self, repo: str, *, label: str) -> Issue | None:
        self.gh._call("issues.newest_by_bot", repo, label)
        found = [
            Issue(i.number, i.title, i.body, True, i.state == "open")
            for (r, _), i in sorted(self.gh.issues.items())
            if r == repo and i.pull is None and i.author == BOT and label in i.labels
        ]
        return found[-1] if found else None

    async def open(self, repo: str, *, title: str, body: str, labels: Sequence[str]) -> int:
        self.gh._call("issues.open", repo)
        number = 1 + max((n for r, n in self.gh.issues if r == repo), default=0)
        self.gh.issues[(repo, number)] = FakeIssue(number, title, body, BOT, labels=list(labels))
        return number

    async def edit(self, repo: str, number: int, *, title: str, body: str) -> None:
        self.gh._call("issues.edit", repo, number)
        issue = self.gh.issues[(repo, number)]
        issue.title, issue.body = title, body

    async def close(self, repo: str, number: int) -> None:
        self.gh._call("issues.close", repo, number)
        self.gh.issues[(repo, number)].state = "closed"

    async def reopen(self, repo: str, number: int) -> None:
        self.gh._call("issues.reopen", repo, number)
        self.gh.issues[(repo, number)].state = "open"


class FakePace:
    """``Pace``: every reservation is granted and recorded."""

    def __init__(self, gh: FakeGitHub) -> None:
        self.gh = gh

    async def reserve(self, count: int) -> None:
        self.gh.calls.append(("pace.reserve", count))
