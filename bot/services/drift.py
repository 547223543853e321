"""The drift audit of a config's environments through the API (``audit_repository``).

Reads, spending as little as the layout allows:

- one recursive tree per environment branch (the workspace reads each branch's tree once);
- blobs only for the files that hold an app's image or differ from a neighbouring environment
  (same blob sha: equal, never read); immutable blobs are cached by sha;
- the bot's recent PRs (open, and the last 100 closed) of each environment repository: the
  lanes (proposed, declined, arrived) and the merge commits of promotions;
- the holds (one call per config repository);
- for environments on their own branch: the commits on each side only (``compare``, both
  ways); for environments that share a branch and differ from their upstream: the recent
  commits under their path, to name changes made since the last promotion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

from bot.core.drift.audit import audit
from bot.core.drift.history import PromotionPull, commit_of, lanes
from bot.core.drift.model import Commit, DriftReport, EnvView, Facts
from bot.core.markup.metadata import extract
from bot.core.promotion.envfiles import environment_files, relative, repository_path
from bot.services.github_ports import CommitRecord, Pull, Tree
from bot.services.workspace import LoadedConfig, Location, Workspace, unreadable

EVERY_FILE = ("**",)
DIRECT_SHOWN = 10  # changes made since the last promotion, newest first


async def audit_repository(ws: Workspace, loaded: LoadedConfig) -> DriftReport:
    """Every difference between ``loaded``'s environments, as ``bot.core.drift.audit`` finds
    it from what GitHub holds now."""
    config = loaded.config
    names = [env.name for env in config.environments]
    where = {env.name: await ws.location(loaded, env) for env in config.environments}
    trees = {name: await ws.tree_of(where[name].repo, where[name].branch) for name in names}
    blobs = {name: _blobs(trees[name], where[name]) for name in names}
    wanted = _wanted(loaded, names, blobs)
    views = {
        name: await _view(
            ws, name, where[name], trees[name], blobs=blobs[name], wanted=wanted[name]
        )
        for name in names
    }
    facts = await _facts(ws, loaded, where, views)
    return audit(config, views, facts, repo=loaded.repo.full_name, now=ws.clock())


def _blobs(tree: Tree | None, where: Location) -> dict[str, str]:
    """Relative path -> blob sha of every file of the environment."""
    if tree is None:
        return {}
    paths = environment_files(tree.blobs, root=where.path, globs=EVERY_FILE)
    return relative({path: tree.blobs[path] for path in paths}, where.path)


def _wanted(
    loaded: LoadedConfig, names: Sequence[str], blobs: Mapping[str, Mapping[str, str]]
) -> dict[str, set[str]]:
    """The files each environment's audit must read: those that may hold an app's image, and
    those whose blob differs from the same file in a neighbouring environment."""
    config = loaded.config
    wanted: dict[str, set[str]] = {name: set() for name in names}
    for app in config.apps:
        globs = config.files_of(app)
        for env in config.environments_of(app):
            wanted[env.name] |= set(environment_files(blobs[env.name], root=".", globs=globs))
    for upstream, name in pairwise(names):
        theirs, mine = blobs[upstream], blobs[name]
        differ = {p for p in set(theirs) & set(mine) if theirs[p] != mine[p]}
        wanted[upstream] |= differ
        wanted[name] |= differ
    return wanted


async def _view(
    ws: Workspace,
    name: str,
    where: Location,
    tree: Tree | None,
    *,
    blobs: Mapping[str, str],
    wanted: set[str],
) -> EnvView:
    if tree is None:
        return EnvView(name, where.repo, where.branch, where.path)
    at = {p: repository_path(p, where.path, tree.blobs) for p in (*blobs, *wanted)}
    unread = {p: why for p in blobs if (why := unreadable(tree, at[p])) is not None}
    read = tuple(at[p] for p in sorted(wanted) if p not in unread)
    files = await ws.read_files(where.repo, tree, read)
    return EnvView(
        name,
        where.repo,
        where.branch,
        where.path,
        files=relative(files.texts, where.path),
        skipped=unread | relative(files.skipped, where.path),
        head=tree.commit_sha,
        blobs=blobs,
    )


async def _facts(
    ws: Workspace,
    loaded: LoadedConfig,
    where: Mapping[str, Location],
    views: Mapping[str, EnvView],
) -> Facts:
    pulls: list[Pull] = []
    for repo in dict.fromkeys(w.repo for w in where.values()):
        pulls += await ws.gh.pulls.recent(repo, state="open")
        pulls += await ws.gh.pulls.recent(repo, state="closed")
    promotions = [p for p in (_promotion(pull) for pull in pulls) if p is not None]
    merges = {p.merge_sha: p.number for p in promotions if p.merge_sha}
    bot = next((pull.author for pull in pulls if pull.by_bot), "")

    def commit(record: CommitRecord) -> Commit:
        return commit_of(
            record.sha,
            record.author,
            record.at,
            record.message,
            url=record.html_url,
            merges=merges,
            bot=bot,
        )

    ahead: dict[str, tuple[Commit, ...]] = {}
    behind: dict[str, tuple[Commit, ...]] = {}
    direct: dict[str, tuple[Commit, ...]] = {}
    for upstream, name in pairwise(views):
        mine, theirs = where[name], where[upstream]
        if mine.repo == theirs.repo and mine.branch != theirs.branch:
            if views[name].head is None or views[upstream].head is None:
                continue
            only_mine = await ws.gh.git.commits_between(mine.repo, theirs.branch, mine.branch)
            only_theirs = await ws.gh.git.commits_between(mine.repo, mine.branch, theirs.branch)
            ahead[name] = _people(commit(c) for c in only_mine if not c.root)
            behind[name] = _people(commit(c) for c in only_theirs if not c.root)
        elif _differs(views[upstream], views[name]) and views[name].head is not None:
            log = await ws.gh.git.log(mine.repo, mine.branch, mine.path)
            # The commit that created the repository is no change to an environment.
            direct[name] = _since_last_promotion([commit(c) for c in log if not c.root])
    return Facts(
        lanes=lanes(promotions),
        holds=await ws.holds(loaded),
        ahead=ahead,
        behind=behind,
        direct=direct,
    )


def _promotion(pull: Pull) -> PromotionPull | None:
    meta = extract(pull.body) if pull.by_bot else None
    if meta is None or meta.kind != "promotion-pr":
        return None
    return PromotionPull(pull.number, meta, pull.state == "open", pull.merged_at, pull.merge_sha)


def _people(commits: Iterable[Commit]) -> tuple[Commit, ...]:
    """The commits no promotion PR brought (hotfixes, changes by hand)."""
    return tuple(c for c in commits if not c.promotion)


def _since_last_promotion(commits: Sequence[Commit]) -> tuple[Commit, ...]:
    """The changes (newest first) made after the newest promotion, at most ``DIRECT_SHOWN``."""
    found: list[Commit] = []
    for commit in commits:
        if commit.promotion:
            break
        found.append(commit)
    return tuple(found[:DIRECT_SHOWN])


def _differs(upstream: EnvView, view: EnvView) -> bool:
    theirs, mine = upstream.blobs, view.blobs
    return set(theirs) != set(mine) or any(theirs[p] != mine[p] for p in mine)
