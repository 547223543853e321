"""Reading configs and environments through the ports, spending as few calls as possible.

A ``Workspace`` lives for one job: it remembers each repository's branch heads (one call per
repository per job) so the base branch and the ``promotion/...`` branches are learnt together.
The ``ConfigCache`` outlives jobs: parsed configs keyed by the config file's blob sha (immutable),
and the repositories seen without a config until a ``ConfigPushed`` says otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.config import (
    DEFAULT_FILE,
    ConfigError,
    ConfigIssue,
    Environment,
    Policy,
    PromotionConfig,
    parse_config,
)
from bot.core.files.bounds import LINK_REASON, NOT_TEXT_REASON, size_refusal, yaml_refusal
from bot.core.markup.metadata import extract
from bot.core.promotion.candidates import PullRecord
from bot.core.promotion.envfiles import (
    EnvState,
    environment_files,
    skipped_documents,
    tag_keys_of,
)
from bot.core.promotion.holds import HOLD_LABEL, Hold, hold_of
from bot.services.github_ports import SYMLINK, GitHubPorts, NotFound, Pull, Repository, Tree
from bot.services.ports import Clock, VersionsSeen

log = logging.getLogger("bot.services")


@dataclass(frozen=True)
class Files:
    """Files read from a tree: ``texts`` by path, and why each other path asked for was left
    alone (``skipped``), for the reason a user sees."""

    texts: dict[str, str]
    skipped: dict[str, str]


@dataclass
class ConfigCache:
    """Parsed configs by blob sha (or the error), and repositories known to have none.

    ``builtin`` is the built-in policies by name, read from the package by the wiring."""

    builtin: Mapping[str, Policy]
    parsed: dict[str, PromotionConfig | ConfigError] = field(default_factory=dict)
    without_config: set[tuple[int | None, str]] = field(default_factory=set)

    def parse(self, blob_sha: str, text: str) -> PromotionConfig | ConfigError:
        if blob_sha not in self.parsed:
            try:
                self.parsed[blob_sha] = parse_config(text, builtin=self.builtin)
            except ConfigError as err:
                self.parsed[blob_sha] = err
        return self.parsed[blob_sha]

    def forget_repository(self, installation_id: int | None, repo: str) -> None:
        self.without_config.discard((installation_id, repo))


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config and where it lives."""

    repo: Repository
    config: PromotionConfig
    tree: Tree


@dataclass(frozen=True)
class Location:
    """Where an environment's files are: a branch of a repository, under a directory."""

    repo: str
    branch: str
    path: str


@dataclass
class Workspace:
    """One job's view of an installation: ports, caches, the clock, the versions seen."""

    gh: GitHubPorts
    configs: ConfigCache
    clock: Clock
    versions: VersionsSeen
    installation_id: int | None = None
    _heads: dict[str, Mapping[str, str]] = field(default_factory=dict)
    _repos: dict[str, Repository] | None = None
    _holds: dict[str, tuple[Hold, ...]] = field(default_factory=dict)
    _roles: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # Blob sha -> why its YAML is not parsed (None: it is): a job reads one environment's files
    # more than once (choosing the target, then planning), and a blob's answer never changes.
    _refusals: dict[str, str | None] = field(default_factory=dict)

    async def repositories(self) -> dict[str, Repository]:
        if self._repos is None:
            found = await self.gh.installation.repositories()
            self._repos = {r.full_name.lower(): r for r in found}
        return self._repos

    async def repository(self, name: str) -> Repository:
        repo = (await self.repositories()).get(name.lower())
        if repo is None:
            raise NotFound(f"repository not reachable by the installation repo={name}")
        return repo

    async def heads(self, repo: str) -> Mapping[str, str]:
        if repo not in self._heads:
            return await self.fresh_heads(repo)
        return self._heads[repo]

    async def fresh_heads(self, repo: str) -> Mapping[str, str]:
        """The heads as GitHub holds them now, not as this job first read them (they replace
        the cached ones): what a proposal checks its plan against before writing."""
        self._heads[repo] = await self.gh.git.branch_heads(repo)
        return self._heads[repo]

    def forget_heads(self, repo: str) -> None:
        """Our own writes moved a branch: read the heads again next time."""
        self._heads.pop(repo, None)

    async def tree_of(self, repo: str, branch: str) -> Tree | None:
        sha = (await self.heads(repo)).get(branch)
        return None if sha is None else await self.gh.git.tree(repo, sha)

    async def read_files(self, repo: str, tree: Tree, paths: tuple[str, ...]) -> Files:
        """The files at ``paths`` the bot agrees to read (``bot.core.files.bounds``): not a
        symbolic link, not over the size bound (such a file is not even fetched), UTF-8 text,
        and within the YAML bounds, checked off the event loop."""
        reasons = ((path, unreadable(tree, path)) for path in paths)
        skipped = {path: why for path, why in reasons if why is not None}
        wanted = [path for path in paths if path not in skipped]
        blobs = await self.gh.git.read_blobs(repo, [tree.blobs[path] for path in wanted])
        texts = {path: blobs[tree.blobs[path]] for path in wanted if tree.blobs[path] in blobs}
        skipped |= {path: NOT_TEXT_REASON for path in wanted if path not in texts}
        unchecked = {
            tree.blobs[p]: t for p, t in texts.items() if tree.blobs[p] not in self._refusals
        }
        self._refusals |= await asyncio.to_thread(_yaml_refusals, unchecked)
        refused = {p: why for p in texts if (why := self._refusals[tree.blobs[p]]) is not None}
        kept = {p: t for p, t in texts.items() if p not in refused}
        documents = await asyncio.to_thread(skipped_documents, kept)  # named with the files
        return Files(kept, skipped | refused | documents)

    async def holds(self, loaded: LoadedConfig) -> tuple[Hold, ...]:
        """The holds in force for ``loaded``'s config: the bot's open hold issues in the config's
        repository (one call per job; see ``bot.core.promotion.holds``)."""
        repo = loaded.repo.full_name
        if repo not in self._holds:
            issues = await self.gh.issues.list_open_by_bot(repo, label=HOLD_LABEL)
            found = (hold_of(i.body, i.number) for i in issues if i.by_bot)
            self._holds[repo] = tuple(h for h in found if h is not None)
        return self._holds[repo]

    async def role(self, repo: str, login: str) -> tuple[str, str]:
        """``(role_name, permission)`` of ``login`` on ``repo``, read once per job: a command
        checks it before reading anything and again once it knows its environment."""
        key = (repo.lower(), login.lower())
        if key not in self._roles:
            self._roles[key] = await self.gh.people.role(repo, login)
        return self._roles[key]

    def forget_holds(self, loaded: LoadedConfig) -> None:
        """A hold was placed or lifted: read them again next time."""
        self._holds.pop(loaded.repo.full_name, None)

    async def configs_of_installation(self) -> list[LoadedConfig]:
        """Every valid config the installation's repositories hold (invalid ones are logged)."""
        found = []
        for repo in (await self.repositories()).values():
            key = (self.installation_id, repo.full_name)
            if repo.archived or key in self.configs.without_config:
                continue
            loaded = await self.config_of(repo)
            if loaded is not None:
                found.append(loaded)
        return found

    async def config_of(self, repo: Repository) -> LoadedConfig | None:
        try:
            tree = await self.tree_of(repo.full_name, repo.default_branch)
        except NotFound:
            tree = None  # an empty repository has no branches yet
        if tree is None or DEFAULT_FILE not in tree.blobs:
            self.configs.without_config.add((self.installation_id, repo.full_name))
            return None
        parsed = await self.parse_config_at(repo.full_name, tree)
        if isinstance(parsed, ConfigError):
            log.warning("skipping invalid config repo=%s errors=%d", repo, len(parsed.errors))
            return None
        return LoadedConfig(repo, parsed, tree)

    async def parse_config_at(self, repo: str, tree: Tree) -> PromotionConfig | ConfigError:
        """The config file of ``tree``, parsed off the event loop (once per blob sha); one too
        big to read is not fetched."""
        sha = tree.blobs[DEFAULT_FILE]
        if sha in self.configs.parsed:
            return self.configs.parsed[sha]
        too_big = size_refusal(tree.sizes.get(DEFAULT_FILE, 0))
        if too_big is not None:
            issue = ConfigIssue(DEFAULT_FILE, 1, 1, "", f"file too large: {too_big}")
            self.configs.parsed[sha] = ConfigError([issue])
            return self.configs.parsed[sha]
        texts = await self.gh.git.read_blobs(repo, [sha])
        return await asyncio.to_thread(self.configs.parse, sha, texts.get(sha, ""))

    async def location(self, loaded: LoadedConfig, env: Environment) -> Location:
        repo_name = env.repo or loaded.repo.full_name
        if env.branch is not None:
            branch = env.branch
        elif env.repo is None:
            branch = loaded.repo.default_branch
        else:
            branch = (await self.repository(repo_name)).default_branch
        return Location(repo_name, branch, env.path or ".")

    async def env_state(
        self, loaded: LoadedConfig, app: str, environment: str
    ) -> tuple[Location, Tree | None, EnvState]:
        """An environment's files for ``app`` (only those its globs allow), read at the head of
        its branch; an environment whose branch does not exist is empty. The files the bot
        does not read (``read_files``) are listed in ``EnvState.skipped`` with the reason."""
        config = loaded.config
        where = await self.location(loaded, config.environment(environment))
        tree = await self.tree_of(where.repo, where.branch)
        if tree is None:
            return where, None, EnvState(environment)
        globs = config.files_of(app)
        chosen = environment_files(tree.blobs, root=where.path, globs=globs)
        files = await self.read_files(where.repo, tree, tuple(chosen))
        keys = tag_keys_of(config.apps[app], files.texts, root=where.path)
        return where, tree, EnvState(environment, files.texts, files.skipped, tag_keys=keys)


def unreadable(tree: Tree, path: str) -> str | None:
    """Why the file at ``path`` is not even fetched (a symbolic link, too big), or ``None``."""
    if tree.mode(path) == SYMLINK:
        return LINK_REASON
    return size_refusal(tree.sizes.get(path, 0))


def _yaml_refusals(texts: Mapping[str, str]) -> dict[str, str | None]:
    """Blob sha -> why its text is not parsed as YAML, or ``None``."""
    return {sha: yaml_refusal(text, cpu_clock=time.thread_time) for sha, text in texts.items()}


def pull_record(pull: Pull) -> PullRecord:
    """Hidden metadata is only trusted on PRs the bot itself opened."""
    meta = extract(pull.body) if pull.by_bot else None
    return PullRecord(pull.number, pull.state == "open", pull.merged, meta)
