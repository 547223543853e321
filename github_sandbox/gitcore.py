"""Running git: a fixed environment, one subprocess per call, and parsers for its output."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Safe, reproducible settings: no hooks, no user or system config, no prompts, no pagers.
_SAFE_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "gc.auto=0",
    "-c",
    "safe.directory=*",
    "-c",
    "init.defaultBranch=main",
)


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    epoch: int

    def env(self, role: str) -> dict[str, str]:
        return {
            f"GIT_{role}_NAME": self.name,
            f"GIT_{role}_EMAIL": self.email,
            f"GIT_{role}_DATE": f"@{self.epoch} +0000",
        }


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    type: str
    sha: str
    size: int | None
    path: str


ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class RefUpdate:
    """One ref change: ``before``/``after`` are ``ZERO_SHA`` for a created/deleted ref."""

    ref: str
    before: str
    after: str
    forced: bool = False

    @property
    def created(self) -> bool:
        return self.before == ZERO_SHA

    @property
    def deleted(self) -> bool:
        return self.after == ZERO_SHA


class GitFailed(RuntimeError):
    def __init__(self, args: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"git failed args={' '.join(args)} code={code} stderr={stderr.strip()}")
        self.code = code
        self.stderr = stderr


def base_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        "TZ": "UTC",
    }


def run_git(
    git_dir: Path,
    args: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    full = ["git", *_SAFE_CONFIG, f"--git-dir={git_dir}", *args]
    done = subprocess.run(
        full, input=stdin, capture_output=True, env={**base_env(), **(env or {})}, check=False
    )
    if check and done.returncode != 0:
        raise GitFailed(args, done.returncode, done.stderr.decode(errors="replace"))
    return done


# One record per commit: fields split by NUL, records by RS (0x1e) which commit text never holds.
LOG_FORMAT = "%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B%x1e"


def parse_log(out: bytes) -> list[CommitInfo]:
    commits = []
    for raw in out.decode(errors="replace").split("\x1e"):
        record = raw.lstrip("\n")
        if not record:
            continue
        sha, tree, parents, an, ae, at, cn, ce, ct, body = record.split("\x00", 9)
        commits.append(
            CommitInfo(
                sha=sha,
                tree=tree,
                parents=tuple(parents.split()),
                author=Signature(an, ae, int(at)),
                committer=Signature(cn, ce, int(ct)),
                message=body.rstrip("\n"),
            )
        )
    return commits


def parse_ls_tree(out: bytes, *, prefix: str = "") -> list[TreeEntry]:
    """Parse ``git ls-tree -z -l`` output."""
    entries = []
    for item in out.split(b"\x00"):
        if not item:
            continue
        meta, path = item.decode(errors="replace").split("\t", 1)
        mode, kind, sha, size = meta.split()
        entries.append(
            TreeEntry(mode, kind, sha, None if size == "-" else int(size), prefix + path)
        )
    return entries
