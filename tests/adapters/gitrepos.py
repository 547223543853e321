"""Local git repositories with planted drift, built with ``git`` in a temporary directory.

Two layouts: directories of one branch (``dirs_repo``) and one branch per environment
(``branches_repo``, cloned so that its environments are remote-tracking branches). Each plants
the drift its tests expect; ``PLANTED`` names it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT = ["git", "-c", "user.name=Alice", "-c", "user.email=alice@example.com"]
GIT += ["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

DIRS_CONFIG = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: staging
    path: envs/staging
  - name: prod
    path: envs/prod
  - name: edge
    path: envs/edge
    repo: acme/elsewhere
apps:
  api:
    image: ghcr.io/acme/api
    files: ["api.yaml"]
"""

BRANCHES_CONFIG = """\
version: 1
environments:
  - name: dev
    branch: dev
  - name: staging
    branch: staging
  - name: prod
    branch: prod
apps:
  api:
    image: ghcr.io/acme/api
    files: ["api.yaml"]
"""

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        [*GIT, "-C", str(root), *args], capture_output=True, text=True, env=ENV, check=True
    )
    return done.stdout.strip()


def api(tag: str) -> str:
    return f"image:\n  repository: ghcr.io/acme/api\n  tag: {tag}\n"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(root: Path, message: str, files: dict[str, str]) -> str:
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def merge_promotion(root: Path, into: str, app: str, env: str, pull: int, files: dict[str, str]):
    """A promotion PR merged with a merge commit, as GitHub writes it."""
    branch = f"promotion/{app}/{env}"
    git(root, "checkout", "-q", "-b", branch, into)
    commit(root, f"Promote {app} {pull}.0 to {env}", files)
    git(root, "checkout", "-q", into)
    git(
        root,
        "merge",
        "-q",
        "--no-ff",
        branch,
        "-m",
        f"Merge pull request #{pull} from acme/{branch}",
    )


def in_sync_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    files = {f"envs/{env}/api.yaml": api("1.4.0") for env in ("dev", "staging", "prod")}
    config = DIRS_CONFIG.replace("    repo: acme/elsewhere\n", "").replace("edge", "prod-eu")
    files["envs/prod-eu/api.yaml"] = api("1.4.0")
    commit(root, "set up", {".github/promotion.yml": config, **files})
    return root


def dirs_repo(root: Path) -> dict[str, str]:
    """Directories of ``main``; returns the planted commits by name."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    setup = {".github/promotion.yml": DIRS_CONFIG, "README.md": "envs\n"}
    for env in ("dev", "staging", "prod"):
        setup[f"envs/{env}/api.yaml"] = api("1.4.0")
        setup[f"envs/{env}/web.yaml"] = "replicas: 2\n"
    setup["envs/prod/extra.yaml"] = "only: prod\n"  # a file only in one environment
    setup["envs/prod/big.yaml"] = "k: v\n" * ((2 << 20) // 5)  # 2 MiB
    setup["envs/prod/bomb.yaml"] = BOMB
    write(root, setup)
    (root / "envs/prod/blob.yaml").write_bytes(b"\xff\xfe not utf-8\n")
    os.symlink("api.yaml", root / "envs/prod/link.yaml")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "set up")
    commit(root, "Promote api 1.5.0 to dev (#1)", {"envs/dev/api.yaml": api("1.5.0")})
    merge_promotion(root, "main", "api", "staging", 2, {"envs/staging/api.yaml": api("1.5.0")})
    commit(root, "docs: a readme line", {"README.md": "envs, by hand\n"})  # outside every env
    hand = commit(root, "more replicas by hand", {"envs/prod/web.yaml": "replicas: 5\n"})
    return {"hand": hand}


def branches_repo(tmp: Path) -> tuple[Path, dict[str, str]]:
    """One branch per environment, cloned: ``dev``, ``staging`` and ``prod`` exist in the
    clone as ``origin/*`` only."""
    origin = tmp / "origin"
    origin.mkdir(parents=True)
    git(origin, "init", "-q")
    setup = {".github/promotion.yml": BRANCHES_CONFIG, "api.yaml": api("1.4.0")}
    setup["web.yaml"] = "replicas: 2\n"
    commit(origin, "set up", setup)
    for env in ("dev", "staging", "prod"):
        git(origin, "branch", env)
    git(origin, "checkout", "-q", "dev")
    commit(origin, "Promote api 1.5.0 to dev (#1)", {"api.yaml": api("1.5.0")})
    merge_promotion(origin, "staging", "api", "staging", 2, {"api.yaml": api("1.5.0")})
    git(origin, "checkout", "-q", "prod")
    hotfix = commit(origin, "hotfix: a timeout", {"web.yaml": "replicas: 2\ntimeout: 30\n"})
    git(origin, "checkout", "-q", "main")
    clone = tmp / "clone"
    subprocess.run([*GIT, "clone", "-q", str(origin), str(clone)], env=ENV, check=True)
    return clone, {"hotfix": hotfix}
