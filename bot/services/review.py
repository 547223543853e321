"""A PR to an environment changed: review it, gate it, maybe merge it.

For every PR whose base is an environment's branch (the bot's or a person's): one review comment
per environment it touches (meaningful diff and drift warnings), found again by its hidden
metadata and edited in place. On the bot's promotion PRs also: the configured labels (the open
path leaves them off to stay within budget), a ``promotion-policy`` check run with the gates
(upstream, soak, freeze), and the merge itself when the policy says ``automerge`` and the gates
pass (``bot.services.automerge``: GitHub's merge rules, and why it did not merge).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.core.config import Environment
from bot.core.drift.history import commit_of
from bot.core.inputs.actions import ACTIONS
from bot.core.inputs.events import PullChanged
from bot.core.markup.metadata import Meta, extract
from bot.core.promotion.branches import branch_name
from bot.core.promotion.envfiles import (
    EnvState,
    image_occurrences,
    in_environment,
    keys_in,
    relative,
    repository_path,
    running_tags,
    snapshot_of,
)
from bot.core.promotion.gates import GateResult, render_gate_check
from bot.core.promotion.holds import HELD_LABEL, hold_check, holding
from bot.core.promotion.model import Snapshot
from bot.core.review.pull import EnvReview, promotion_gates, review_comment, upstream_of
from bot.services.automerge import automerge
from bot.services.conversation_ports import CheckAction, CheckRunSpec
from bot.services.github_ports import Pull, Tree
from bot.services.workspace import Files, LoadedConfig, Location, Workspace, pull_record

log = logging.getLogger("bot.services")

CHECK_NAME = "promotion-policy"
REVIEWED_ACTIONS = frozenset({"opened", "reopened", "synchronize", "edited", "ready_for_review"})

Target = tuple[LoadedConfig, Environment, Location]


async def handle_pull_changed(event: PullChanged, ws: Workspace) -> None:
    """Review, gate, label and maybe merge a PR into an environment branch."""
    if event.action not in REVIEWED_ACTIONS:
        return
    await review_pull(ws, event.repo, event.number, base_ref=event.base_ref)


async def review_pull(ws: Workspace, repo: str, number: int, *, base_ref: str = "") -> bool:
    """Review and gate PR ``number`` as its last change would; ``False`` when it is not an
    open PR into an environment (``/drift`` and holds call this too)."""
    pull = None
    if not base_ref:
        pull = await ws.gh.pulls.get(repo, number)
        base_ref = pull.base_ref
    targets = await _environments_at(ws, repo, base_ref)
    if not targets:
        return False
    pull = pull or await ws.gh.pulls.get(repo, number)
    if pull.state != "open":
        return False
    meta = _promotion_meta(pull)
    changed = tuple(f.path for f in await ws.gh.pulls.files(repo, pull.number))
    base = await ws.tree_of(repo, pull.base_ref)
    head = await ws.gh.git.tree(repo, pull.head_sha)
    for loaded, env, where in targets:
        mine = meta if meta is not None and meta.environment == env.name else None
        if mine is not None and mine.app not in loaded.config.apps:
            mine = None
        since = None
        if mine is not None:
            upstream = upstream_of(loaded.config, mine.app, env.name)
            since = await _arrived(ws, loaded, mine, upstream)
        await _review_environment(
            ws,
            (loaded, env, where),
            pull,
            trees=(base, head),
            changed=changed,
            meta=mine,
            arrived=since,
        )
        if mine is not None:
            await _gate(ws, (loaded, env, where), pull, mine, since=since)
    return True


async def _environments_at(ws: Workspace, repo: str, branch: str) -> list[Target]:
    found = []
    for loaded in await ws.configs_of_installation():
        for env in loaded.config.environments:
            where = await ws.location(loaded, env)
            if where.repo.lower() == repo.lower() and where.branch == branch:
                found.append((loaded, env, where))
    return found


def _promotion_meta(pull: Pull) -> Meta | None:
    meta = extract(pull.body) if pull.by_bot else None
    return meta if meta is not None and meta.kind == "promotion-pr" else None


async def _review_environment(
    ws: Workspace,
    target: Target,
    pull: Pull,
    *,
    trees: tuple[Tree | None, Tree],
    changed: tuple[str, ...],
    meta: Meta | None,
    arrived: datetime | None,
) -> None:
    loaded, env, where = target
    paths = tuple(
        p for p in changed if in_environment(p, where.path) and not p.startswith(".github/")
    )
    if not paths:
        return
    base, head = trees
    before = await _files(ws, where.repo, base, paths)
    after = await _files(ws, where.repo, head, paths)
    upstream = upstream_of(loaded.config, meta.app if meta else None, env.name)
    previous = await _upstream_files(ws, loaded, upstream, tuple(relative(after.texts, where.path)))
    # A file the bot does not read on any side is compared on none, and listed with why.
    skipped = relative(before.skipped | after.skipped, where.path)
    if previous is not None:
        skipped = previous.skipped | skipped

    def readable(files: Files, root: str) -> Snapshot:
        texts = relative(files.texts, root)
        keys = keys_in(loaded.config, env.name, texts)
        return snapshot_of({n: text for n, text in texts.items() if n not in skipped}, keys)

    previous_keys = (
        keys_in(loaded.config, upstream, previous.texts) if previous and upstream else {}
    )
    review = EnvReview(
        env.name,
        readable(before, where.path),
        readable(after, where.path),
        upstream,
        None if previous is None else snapshot_of(previous.texts, previous_keys),
        skipped,
        await _hotfixes(ws, loaded, upstream, where),
    )
    body, meaningful = await asyncio.to_thread(
        review_comment, loaded.config, review, meta, arrived_at=arrived, now=ws.clock()
    )
    await _upsert_comment(ws, where.repo, pull.number, env.name, body, create=meaningful)


async def _files(ws: Workspace, repo: str, tree: Tree | None, paths: tuple[str, ...]) -> Files:
    """The files at ``paths`` that exist in ``tree``, as the bot agrees to read them (links,
    files too big or past the YAML bounds are skipped with the reason)."""
    if tree is None:
        return Files({}, {})
    return await ws.read_files(repo, tree, tuple(p for p in paths if p in tree.blobs))


async def _hotfixes(
    ws: Workspace, loaded: LoadedConfig, upstream: str | None, where: Location
) -> tuple[str, ...]:
    """The commits the environment's branch has that its upstream's branch lacks and no
    promotion brought (``"abc1234 message"``), when both are branches of one repository: the
    ``branch-ahead`` warning names them. One call (``compare``)."""
    if upstream is None:
        return ()
    theirs = await ws.location(loaded, loaded.config.environment(upstream))
    if theirs.repo.lower() != where.repo.lower() or theirs.branch == where.branch:
        return ()
    if theirs.branch not in await ws.heads(where.repo):
        return ()  # the upstream's branch does not exist (yet): nothing to be ahead of
    commits = await ws.gh.git.commits_between(where.repo, theirs.branch, where.branch)
    bot = ws.gh.bot_login
    found = (commit_of(c.sha, c.author, c.at, c.message, merges={}, bot=bot) for c in commits)
    return tuple(f"{c.sha[:7]} {c.message}" for c in found if not c.promotion)


async def _upstream_files(
    ws: Workspace, loaded: LoadedConfig, upstream: str | None, names: tuple[str, ...]
) -> Files | None:
    """The upstream environment's files of the same names (keyed by those names), for the
    comparison warnings."""
    if upstream is None:
        return None
    where = await ws.location(loaded, loaded.config.environment(upstream))
    tree = await ws.tree_of(where.repo, where.branch)
    paths = tree.blobs if tree is not None else {}
    wanted = tuple(repository_path(name, where.path, paths) for name in names)
    files = await _files(ws, where.repo, tree, wanted)
    return Files(relative(files.texts, where.path), relative(files.skipped, where.path))


async def _arrived(
    ws: Workspace, loaded: LoadedConfig, meta: Meta, upstream: str | None
) -> datetime | None:
    """When ``meta``'s version reached ``upstream`` (``None``: it does not run there).

    Its merged promotion PR says so. Without one (a person put it there), the newest commit on
    the upstream branch that touched the version's file does: at or after the arrival (see
    ``Git.last_commit_at``), so the soak can only wait longer, never pass early. Without such a
    commit either, the arrival is unknown and taken as now: the gate waits."""
    if upstream is None or meta.app not in loaded.config.apps:
        return None
    image = loaded.config.apps[meta.app].image
    where, _, state = await ws.env_state(loaded, meta.app, upstream)
    if meta.version not in running_tags(state, image):
        return None
    pulls = await ws.gh.pulls.history(where.repo, branch_name(meta.app, upstream))
    for pull in pulls:
        record = pull_record(pull)
        if record.merged and record.meta is not None and record.meta.version == meta.version:
            if pull.merged_at is not None:
                return pull.merged_at
            break
    path = _version_path(state, image, meta.version) or where.path
    changed = await ws.gh.git.last_commit_at(where.repo, where.branch, path)
    if changed is None:
        log.warning(
            "arrival unknown, soak starts now repo=%s branch=%s path=%s version=%s",
            where.repo,
            where.branch,
            path,
            meta.version,
        )
        return ws.clock()
    return changed


def _version_path(state: EnvState, image: str, version: str) -> str | None:
    """The one file that sets ``image`` to ``version``; ``None`` when several do."""
    files = {o.file for o in image_occurrences(state, image) if o.tag == version}
    return files.pop() if len(files) == 1 else None


async def _upsert_comment(
    ws: Workspace, repo: str, number: int, environment: str, body: str, *, create: bool
) -> None:
    for comment in await ws.gh.comments.list(repo, number):
        meta = extract(comment.body) if comment.by_bot else None
        if meta is not None and meta.kind == "review-comment" and meta.environment == environment:
            if comment.body != body:
                await ws.gh.comments.edit(repo, comment.id, body)
            return
    if create:
        await ws.gh.comments.create(repo, number, body)


async def _gate(
    ws: Workspace, target: Target, pull: Pull, meta: Meta, *, since: datetime | None
) -> None:
    loaded, _, where = target
    config = loaded.config
    # A rollback holds its own lane so the bad version is not proposed again; the hold is not
    # there to stop the rollback itself.
    hold = None if meta.rollback else holding(await ws.holds(loaded), meta.app, meta.environment)
    labels = [*config.labels, *([HELD_LABEL] if hold else [])]
    missing = [label for label in labels if label not in pull.labels]
    if missing:
        await ws.gh.pulls.add_labels(where.repo, pull.number, missing)
    if hold is None and HELD_LABEL in pull.labels:
        await ws.gh.pulls.remove_label(where.repo, pull.number, HELD_LABEL)
    gates = promotion_gates(config, meta, upstream_since=since, now=ws.clock())
    checks = (*gates.checks, hold_check(hold, meta.environment))
    result = GateResult(all(c.passed for c in checks), checks)
    conclusion, title, summary = render_gate_check(result)
    run = CheckRunSpec(
        CHECK_NAME,
        pull.head_sha,
        "completed",
        title,
        summary,
        conclusion,
        actions=buttons(held=hold is not None),
    )
    await ws.gh.checks.create(where.repo, run)
    if result.passed and config.policy_for(meta.app, meta.environment).automerge:
        await automerge(ws, where.repo, pull, meta)


def buttons(*, held: bool) -> tuple[CheckAction, ...]:
    """The check run's buttons (GitHub shows three at most): lift or place the lane's hold,
    roll back, recheck drift."""
    wanted = ("unhold" if held else "hold", "rollback", "drift")
    return tuple(
        CheckAction(a.label, a.description, a.identifier) for a in ACTIONS if a.identifier in wanted
    )
