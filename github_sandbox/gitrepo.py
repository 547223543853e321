"""One bare repository on disk, driven through git plumbing.

Every write goes through ``hash-object -w``, ``mktree``, ``commit-tree`` and ``update-ref`` (with
the old value, so a concurrent move is refused), so ``git log`` in the bare repo sees exactly what
the API made.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from github_sandbox.gitcore import (
    LOG_FORMAT,
    ZERO_SHA,
    CommitInfo,
    GitFailed,
    Signature,
    TreeEntry,
    parse_log,
    parse_ls_tree,
    run_git,
)


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Serialises read-modify-write sequences (ref checks then update-ref) within the process.
        self.lock = threading.RLock()

    def init(self, default_branch: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        run_git(self.path, ["init", "--quiet", "--bare", f"--initial-branch={default_branch}"])

    def is_empty(self) -> bool:
        return not self.refs("refs/heads/")

    # -- objects -----------------------------------------------------------------------------

    def hash_blobs(self, blobs: Sequence[bytes]) -> list[str]:
        """Write blobs with one ``hash-object -w`` call; returns their shas in order."""
        if not blobs:
            return []
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for index, data in enumerate(blobs):
                path = Path(tmp) / str(index)
                path.write_bytes(data)
                paths.append(str(path))
            out = run_git(self.path, ["hash-object", "-w", "--no-filters", "--", *paths]).stdout
        return out.decode().split()

    def object_type(self, rev: str) -> str | None:
        done = run_git(self.path, ["cat-file", "-t", rev], check=False)
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def read_blob(self, rev: str) -> tuple[str, bytes] | None:
        """The sha and bytes of a blob (``sha`` or ``ref:path``); None if it is not a blob."""
        done = run_git(self.path, ["cat-file", "--batch"], stdin=rev.encode() + b"\n")
        header, _, rest = done.stdout.partition(b"\n")
        parts = header.decode().split()
        if len(parts) != 3 or parts[1] != "blob":
            return None
        return parts[0], rest[: int(parts[2])]

    def mktree(self, entries: Sequence[tuple[str, str, str, str]]) -> str:
        """Write one tree from ``(mode, type, sha, name)`` entries."""
        lines = b"".join(f"{m} {t} {s}\t{n}".encode() + b"\x00" for m, t, s, n in entries)
        return run_git(self.path, ["mktree", "-z"], stdin=lines).stdout.decode().strip()

    def ls_tree(
        self, treeish: str, *, recursive: bool = False, path: str = "", prefix: str = ""
    ) -> list[TreeEntry]:
        """Entries of a tree; ``path`` selects one entry; ``prefix`` is put before each path."""
        args = ["ls-tree", "-z", "-l", "--full-tree"]
        if recursive:
            args += ["-r", "-t"]
        target = [treeish] if not path else [treeish, "--", path]
        out = run_git(self.path, [*args, *target]).stdout
        return parse_ls_tree(out, prefix=f"{prefix}/" if prefix else "")

    def commit_tree(
        self,
        tree: str,
        parents: Sequence[str],
        message: str,
        author: Signature,
        committer: Signature,
    ) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        env = {**author.env("AUTHOR"), **committer.env("COMMITTER")}
        out = run_git(self.path, args, stdin=message.encode(), env=env).stdout
        return out.decode().strip()

    # -- history -----------------------------------------------------------------------------

    def resolve_commit(self, rev: str) -> str | None:
        done = run_git(
            self.path, ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], check=False
        )
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def resolve_tree(self, rev: str) -> str | None:
        """The tree a sha, ref or commit names; None if there is none."""
        done = run_git(
            self.path, ["rev-parse", "--verify", "--quiet", f"{rev}^{{tree}}"], check=False
        )
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def log(
        self,
        revs: Sequence[str],
        *,
        path: str | None = None,
        max_count: int | None = None,
        skip: int = 0,
    ) -> list[CommitInfo]:
        args = ["log", f"--format={LOG_FORMAT}", f"--skip={skip}"]
        if max_count is not None:
            args.append(f"--max-count={max_count}")
        args += [*revs, "--"]
        if path:
            args.append(path)
        return parse_log(run_git(self.path, args).stdout)

    def has_author(self, rev: str, email: str) -> bool:
        """Whether a commit reachable from ``rev`` was authored with ``email``."""
        pattern = f"--author=<{email}>"
        args = ["log", "--max-count=1", "--format=%H", "--fixed-strings", pattern, rev, "--"]
        done = run_git(self.path, args, check=False)
        return done.returncode == 0 and bool(done.stdout.strip())

    def commit(self, sha: str) -> CommitInfo | None:
        if self.object_type(sha) != "commit":
            return None
        return self.log([sha], max_count=1)[0]

    def changed_paths(
        self, shas: Sequence[str]
    ) -> dict[str, tuple[list[str], list[str], list[str]]]:
        """``(added, removed, modified)`` paths per commit, against its first parent."""
        if not shas:
            return {}
        args = [
            "log",
            "--no-walk=unsorted",
            "--no-renames",
            "--name-status",
            "-z",
            "--format=%x1e%H",
            "-m",
            "--first-parent",
            *shas,
        ]
        changes: dict[str, tuple[list[str], list[str], list[str]]] = {}
        for record in run_git(self.path, args).stdout.decode(errors="replace").split("\x1e"):
            sha, _, rest = record.partition("\x00")
            sha = sha.strip()
            if not sha:
                continue
            fields = [f for f in rest.strip("\n").split("\x00") if f]
            added, removed, modified = changes.setdefault(sha, ([], [], []))
            for status, path in zip(fields[::2], fields[1::2], strict=False):
                {"A": added, "D": removed}.get(status[0], modified).append(path)
        return changes

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        args = ["merge-base", "--is-ancestor", ancestor, descendant]
        return run_git(self.path, args, check=False).returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        done = run_git(self.path, ["merge-base", a, b], check=False)
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def ahead_behind(self, base: str, head: str) -> tuple[int, int]:
        out = run_git(self.path, ["rev-list", "--left-right", "--count", f"{base}...{head}"])
        behind, ahead = out.stdout.decode().split()
        return int(ahead), int(behind)

    def diff(self, base: str, head: str) -> str:
        """Raw status lines then the full patch between two commits, renames detected."""
        args = [
            "diff",
            "-M",
            "--no-color",
            "--full-index",
            "--no-abbrev",
            "--raw",
            "-p",
            base,
            head,
        ]
        return run_git(self.path, args).stdout.decode(errors="replace")

    def empty_tree(self) -> str:
        """The empty tree's sha (the base to diff a root commit against)."""
        return (
            run_git(self.path, ["hash-object", "-t", "tree", "/dev/null"]).stdout.decode().strip()
        )

    def count_commits(self, revs: Sequence[str], *, path: str | None = None) -> int:
        args = ["rev-list", "--count", *revs, "--"]
        return int(run_git(self.path, [*args, path] if path else args).stdout.decode())

    # -- refs --------------------------------------------------------------------------------

    def refs(self, prefix: str = "refs/") -> list[tuple[str, str, str]]:
        """``(refname, sha, object type)`` for refs under ``prefix``, sorted by name."""
        fmt = "%(refname)%00%(objectname)%00%(objecttype)"
        out = run_git(self.path, ["for-each-ref", f"--format={fmt}", prefix]).stdout.decode()
        rows = [line.split("\x00") for line in out.splitlines() if line]
        return [(name, sha, kind) for name, sha, kind in rows]

    def ref_sha(self, ref: str) -> str | None:
        found = [sha for name, sha, _ in self.refs(ref) if name == ref]
        return found[0] if found else None

    def update_ref(self, ref: str, new: str, old: str | None) -> bool:
        """Move ``ref`` to ``new`` only if it still points at ``old`` (None: must not exist)."""
        args = ["update-ref", ref, new, old or ZERO_SHA]
        return run_git(self.path, args, check=False).returncode == 0

    def delete_ref(self, ref: str, old: str) -> bool:
        return run_git(self.path, ["update-ref", "-d", ref, old], check=False).returncode == 0


__all__ = ["ZERO_SHA", "CommitInfo", "GitFailed", "GitRepo", "Signature", "TreeEntry"]
