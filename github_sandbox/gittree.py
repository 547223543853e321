"""Building a tree from a base tree and a list of path changes, like ``POST /git/trees``.

The base is listed once (``ls-tree -r -t``), inline contents are written with one
``hash-object -w`` call, and only the directories on a changed path are rewritten with
``mktree``, deepest first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from github_sandbox.gitrepo import GitRepo

_MODES = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}
_TREE = ("040000", "tree")


@dataclass(frozen=True)
class TreeChange:
    """Set ``path`` to ``sha`` or to ``content``; neither means delete it."""

    path: str
    mode: str = "100644"
    sha: str | None = None
    content: bytes | None = None


class TreeError(ValueError):
    pass


def write_tree(repo: GitRepo, base_tree: str | None, changes: Sequence[TreeChange]) -> str:
    flat: dict[str, tuple[str, str, str | None]] = {}
    if base_tree:
        flat = {e.path: (e.mode, e.type, e.sha) for e in repo.ls_tree(base_tree, recursive=True)}
    inline = [c for c in changes if c.content is not None]
    blob_shas = dict(
        zip(
            (id(c) for c in inline),
            repo.hash_blobs([c.content or b"" for c in inline]),
            strict=True,
        )
    )
    touched: set[str] = set()
    for change in changes:
        path = change.path.strip("/")
        if not path:
            raise TreeError("tree entry has an empty path")
        touched.update(_ancestors(path))
        if change.sha is None and change.content is None:
            _delete(flat, path)
        else:
            _put(repo, flat, path, change, blob_shas.get(id(change)) or change.sha or "")
    return _write_dirs(repo, flat, touched)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts))]


def _delete(flat: dict[str, tuple[str, str, str | None]], path: str) -> None:
    if path not in flat:
        raise TreeError(f"cannot delete a path that is not in the tree path={path}")
    for name in [p for p in flat if p == path or p.startswith(path + "/")]:
        del flat[name]


def _put(
    repo: GitRepo,
    flat: dict[str, tuple[str, str, str | None]],
    path: str,
    change: TreeChange,
    sha: str,
) -> None:
    kind = _MODES.get(change.mode)
    if kind is None:
        raise TreeError(f"unknown tree entry mode mode={change.mode} path={path}")
    for name in [p for p in flat if p == path or p.startswith(path + "/")]:
        del flat[name]
    for ancestor in _ancestors(path)[1:]:
        if flat.get(ancestor, _TREE)[:2] != _TREE:
            del flat[ancestor]
        flat[ancestor] = (*_TREE, None)
    flat[path] = (change.mode, kind, sha)
    if kind == "tree":
        # Expanded so later changes below this path rebuild it from its real entries.
        for entry in repo.ls_tree(sha, recursive=True):
            flat[f"{path}/{entry.path}"] = (entry.mode, entry.type, entry.sha)


def _write_dirs(
    repo: GitRepo, flat: dict[str, tuple[str, str, str | None]], touched: set[str]
) -> str:
    children: dict[str, list[str]] = defaultdict(list)
    for path in flat:
        parent, _, _ = path.rpartition("/")
        children[parent].append(path)
    written: dict[str, str] = {}
    for directory in sorted(touched, key=lambda d: d.count("/") if d else -1, reverse=True):
        entries = []
        for child in children.get(directory, []):
            mode, kind, sha = flat[child]
            sha = written.get(child) if child in touched else sha
            if sha:
                entries.append((mode, kind, sha, child.rpartition("/")[2]))
        if entries or not directory:
            written[directory] = repo.mktree(entries)
    return written[""]
