"""Reading a local clone of an environment repository with ``git``, for a drift audit.

Everything comes from git objects, never from the working tree: the config from the default
branch, each environment from its branch (a local branch, else ``origin/<branch>``), under the
same bounds as the bot's reads through the API (``bot.core.files.bounds``: a file too big is
never read, a symbolic link is never followed). Git runs without a shell: one ``ls-tree`` per
environment, one ``cat-file --batch`` for every blob, one ``log`` per history asked for.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from bot.core.config import DEFAULT_FILE, Environment, PromotionConfig
from bot.core.drift.history import promotion_pull
from bot.core.drift.model import Commit, EnvView, Facts
from bot.core.files.bounds import LINK_REASON, NOT_TEXT_REASON, size_refusal, yaml_refusal
from bot.core.promotion.envfiles import name_in
from bot.services.github_ports import SYMLINK

SUBMODULE = "160000"
SUBMODULE_REASON = "a submodule, which the bot never reads"
HISTORY_LIMIT = 50  # commits listed per environment and kind (ahead, behind, direct)
_SCANNED = 1000  # commits git lists before promotions are left out
_FIELD = "\x1f"
_FORMAT = _FIELD.join(("%H", "%P", "%an", "%aI", "%s"))
_REMOTE = re.compile(
    r"^(?:[\w.+-]+://(?:[^@/]+@)?|[^@/:]+@)?([^/:]+)(?::\d+)?[/:]+([^/]+)/([^/]+?)(?:\.git)?/?$"
)

Progress = Callable[[int, int], None]


class LocalGitError(Exception):
    """Git refused or is missing: not a repository, an unknown ref, no ``git`` program."""


@dataclass(frozen=True)
class Entry:
    """One object of a tree as ``git ls-tree -r -l`` lists it."""

    mode: str
    sha: str
    size: int
    path: str


@dataclass(frozen=True)
class LocalRead:
    """What a clone gave: views and facts for ``audit``, and the environments it could not
    read (by name, with why), which the audit must leave out rather than see empty."""

    views: dict[str, EnvView] = field(default_factory=dict)
    facts: Facts = field(default_factory=Facts)
    unread: dict[str, str] = field(default_factory=dict)


class LocalClone:
    """``git`` on the repository at ``root``."""

    def __init__(self, root: Path, *, git: str = "git") -> None:
        self.root = root
        self.git = git

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        command = [self.git, "-C", str(self.root), *args]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, check=False)
        except OSError as err:
            raise LocalGitError(f"running git failed command={args[0]}: {err}") from err
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise LocalGitError(f"git {args[0]} failed root={self.root}: {' '.join(why[-1:])}")
        return done.stdout

    def check(self) -> None:
        """Raise ``LocalGitError`` unless ``root`` is a git repository."""
        if not self.root.is_dir():
            raise LocalGitError(f"not a directory path={self.root}")
        self.run("rev-parse", "--git-dir")

    def commit_of(self, ref: str) -> str | None:
        try:
            out = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except LocalGitError:
            return None
        return out.decode().strip() or None

    def default_branch(self) -> tuple[str, str]:
        """``(name, ref)`` of the default branch: what ``origin/HEAD`` names, else ``HEAD`` (its
        branch's name, or ``HEAD`` when detached)."""
        for args in (("refs/remotes/origin/HEAD",), ("HEAD",)):
            try:
                full = self.run("symbolic-ref", "--quiet", *args).decode().strip()
            except LocalGitError:
                continue
            name = full.removeprefix("refs/remotes/origin/").removeprefix("refs/heads/")
            ref = self.branch_ref(name)
            if ref is not None:
                return name, ref
        if self.commit_of("HEAD") is None:
            raise LocalGitError(f"no commit to read root={self.root}: HEAD is unborn")
        return "HEAD", "HEAD"

    def branch_ref(self, branch: str) -> str | None:
        """The ref holding ``branch``: the local branch, else ``origin/<branch>``."""
        for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
            if self.commit_of(ref) is not None:
                return ref
        return None

    def origin(self) -> tuple[str, str] | None:
        """``(web_url, "owner/name")`` of ``origin`` when its URL names one, else ``None``."""
        try:
            url = self.run("config", "--get", "remote.origin.url").decode().strip()
        except LocalGitError:
            return None
        return remote_slug(url)

    def tree(self, ref: str, path: str = ".") -> list[Entry]:
        """Every file under ``path`` at ``ref`` (repository paths), with its size; a file
        ``path`` is itself (git matches whole components: ``envs/dev``, not ``envs/dev-old``)."""
        spec = [] if path in ("", ".") else ["--", path.rstrip("/")]
        out = self.run("ls-tree", "-r", "-l", "-z", ref, *spec)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, _kind, sha, size = meta.decode().split()
            path_text = name.decode("utf-8", "replace")
            entries.append(Entry(mode, sha, int(size) if size.isdigit() else 0, path_text))
        return entries

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Blob sha -> its bytes, through one ``git cat-file --batch``."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self.run("cat-file", "--batch", stdin="".join(f"{s}\n" for s in wanted).encode())
        blobs: dict[str, bytes] = {}
        at = 0
        for sha in wanted:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            at = end + 1
            if len(header) != 3:
                continue  # "<sha> missing"
            size = int(header[2])
            blobs[sha] = out[at : at + size]
            at += size + 1
        return blobs

    def log(self, *spec: str, paths: Sequence[str] = ()) -> list[tuple[str, bool, Commit]]:
        """First-parent commits of ``spec``, newest first: ``(parents, is_root, Commit)``."""
        args = ["log", "--first-parent", f"-n{_SCANNED}", f"--format={_FORMAT}", *spec, "--"]
        out = self.run(*args, *paths).decode("utf-8", "replace")
        found = []
        for line in out.splitlines():
            sha, parents, author, at, subject = line.split(_FIELD, 4)
            pull, promotion = promotion_pull(subject)
            when = datetime.fromisoformat(at) if at else None
            commit = Commit(sha, author, when, subject, pull=pull, promotion=promotion)
            found.append((parents, not parents, commit))
        return found


def remote_slug(url: str) -> tuple[str, str] | None:
    """``(web_url, "owner/name")`` of a remote URL (HTTPS, SSH or ``git@host:``); ``None``
    for a local path."""
    found = _REMOTE.match(url)
    if found is None or url.startswith("file:") or ("://" not in url and "@" not in url):
        return None
    host, owner, name = found.groups()
    return f"https://{host}", f"{owner}/{name}"


def read_clone(
    clone: LocalClone,
    config: PromotionConfig,
    *,
    repo: str,
    default: tuple[str, str],
    web_url: str | None = None,
    progress: Progress | None = None,
) -> LocalRead:
    """Every environment of ``config`` this clone holds, and its branches' history."""
    read = LocalRead()
    refs: dict[str, str] = {}
    for env in config.environments:
        where = _place(clone, env, repo=repo, default=default)
        if isinstance(where, str):
            read.unread[env.name] = where
        else:
            refs[env.name] = where[1]
            read.views[env.name] = EnvView(env.name, repo, where[0], env.path or ".")
    entries = {name: clone.tree(ref, read.views[name].path) for name, ref in refs.items()}
    _read_files(clone, read, entries, progress)
    for name, ref in refs.items():
        read.views[name] = _with_head(read.views[name], clone.commit_of(ref))
    facts = _facts(clone, config, read.views, refs, web_url=web_url, repo=repo)
    return LocalRead(read.views, facts, read.unread)


def _place(
    clone: LocalClone, env: Environment, *, repo: str, default: tuple[str, str]
) -> tuple[str, str] | str:
    """``(branch, ref)`` of an environment, or why it cannot be read here."""
    if env.repo is not None and env.repo.lower() != repo.lower():
        return f"in another repository ({env.repo}), which a local clone does not hold"
    if env.branch is None:
        return default
    ref = clone.branch_ref(env.branch)
    if ref is None:
        return (
            f"branch {env.branch} is neither a local branch nor origin/{env.branch} "
            "(fetch every branch: git fetch origin '+refs/heads/*:refs/remotes/origin/*')"
        )
    return env.branch, ref


def _with_head(view: EnvView, head: str | None) -> EnvView:
    return EnvView(view.name, view.repo, view.branch, view.path, view.files, view.skipped, head)


def _read_files(
    clone: LocalClone,
    read: LocalRead,
    entries: dict[str, list[Entry]],
    progress: Progress | None,
) -> None:
    """Fill each view's files (relative paths) with what passes the bounds; the rest is
    skipped with why. Blobs too big are never read."""
    wanted: dict[str, dict[str, Entry]] = {}
    skipped: dict[str, dict[str, str]] = {}
    for name, found in entries.items():
        root = read.views[name].path
        wanted[name], skipped[name] = {}, {}
        for entry in found:
            relative = name_in(entry.path, root) or entry.path
            if root in ("", ".") and relative.startswith(".github/"):
                continue  # the repository's own settings, never an environment's
            why = _refusal(entry)
            if why is None:
                wanted[name][relative] = entry
            else:
                skipped[name][relative] = why
    shas = dict.fromkeys(e.sha for files in wanted.values() for e in files.values())
    blobs = clone.read_blobs(shas)
    total = sum(len(files) for files in wanted.values())
    verdicts: dict[str, str | None] = {}  # blob sha -> why refused, once per distinct blob
    texts: dict[str, str] = {}
    done = 0
    for name, files in wanted.items():
        kept: dict[str, str] = {}
        for relative, entry in sorted(files.items()):
            if entry.sha not in verdicts:
                verdicts[entry.sha] = _text(blobs.get(entry.sha), entry.sha, texts)
            why = verdicts[entry.sha]
            if why is None:
                kept[relative] = texts[entry.sha]
            else:
                skipped[name][relative] = why
            done += 1
            if progress is not None:
                progress(done, total)
        view = read.views[name]
        read.views[name] = EnvView(name, view.repo, view.branch, view.path, kept, skipped[name])


def _refusal(entry: Entry) -> str | None:
    if entry.mode == SYMLINK:
        return LINK_REASON
    if entry.mode == SUBMODULE:
        return SUBMODULE_REASON
    return size_refusal(entry.size)


def _text(blob: bytes | None, sha: str, texts: dict[str, str]) -> str | None:
    """Why a blob is not read as text (``None``: it is, and ``texts[sha]`` holds it)."""
    if blob is None:
        return "missing from the clone's objects"
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT_REASON
    why = yaml_refusal(text, cpu_clock=time.thread_time)
    if why is None:
        texts[sha] = text
    return why


def _facts(
    clone: LocalClone,
    config: PromotionConfig,
    views: dict[str, EnvView],
    refs: dict[str, str],
    *,
    web_url: str | None,
    repo: str,
) -> Facts:
    """Commits on one branch only (each environment against the one before it, when their
    branches differ), and changes under each environment's path that no promotion PR made."""
    url = f"{web_url}/{repo}/commit/" if web_url else ""
    ahead: dict[str, tuple[Commit, ...]] = {}
    behind: dict[str, tuple[Commit, ...]] = {}
    names = [env.name for env in config.environments]
    for upstream, name in pairwise(names):
        if upstream not in refs or name not in refs:
            continue
        mine, theirs = views[name].head, views[upstream].head
        if mine is None or theirs is None or views[name].branch == views[upstream].branch:
            continue
        ahead[name] = _unpromoted(clone.log(f"{theirs}..{mine}"), url)
        behind[name] = _unpromoted(clone.log(f"{mine}..{theirs}"), url)
    direct: dict[str, tuple[Commit, ...]] = {}
    for name, ref in refs.items():
        path = views[name].path
        paths = [".", ":(exclude).github"] if path in ("", ".") else [path]
        logged = [item for item in clone.log(ref, paths=paths) if not item[1]]  # roots create
        direct[name] = _unpromoted(logged, url)
    return Facts(ahead=ahead, behind=behind, direct={k: v for k, v in direct.items() if v})


def _unpromoted(logged: list[tuple[str, bool, Commit]], url: str) -> tuple[Commit, ...]:
    kept = [c for _, _, c in logged if not c.promotion][:HISTORY_LIMIT]
    return tuple(
        Commit(c.sha, c.author, c.at, c.message, url + c.sha if url else "", c.pull) for c in kept
    )


def config_text(clone: LocalClone, ref: str) -> str:
    """The config file at ``ref``; ``LocalGitError`` when missing, too big or not UTF-8."""
    entries = {e.path: e for e in clone.tree(ref, ".github")}
    entry = entries.get(DEFAULT_FILE)
    if entry is None:
        raise LocalGitError(f"no {DEFAULT_FILE} at ref={ref} root={clone.root}")
    why = _refusal(entry)
    blob = clone.read_blobs([entry.sha]).get(entry.sha) if why is None else None
    try:
        text = blob.decode("utf-8") if blob is not None else None
    except UnicodeDecodeError:
        why = NOT_TEXT_REASON
        text = None
    if text is None:
        raise LocalGitError(f"cannot read {DEFAULT_FILE} at ref={ref}: {why or 'missing'}")
    return text
