"""``init``: look at a checkout and write the commented ``.github/promotion.yml`` it suggests.

The default branch is the working tree, read as ``check-config`` reads it (so the file it
writes passes ``check-config --strict``); other branches are read from git objects (a local
branch, else ``origin/<branch>``), under the same bounds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.adapters.local_git import SUBMODULE, LocalClone, LocalGitError
from bot.cli.config import _read_files, _tree_paths  # check-config's reading: --strict agrees
from bot.core.config import DEFAULT_FILE
from bot.core.config.onboarding import Layout, Place, Proposal, find_layout, propose
from bot.core.config.onboarding_render import render_config
from bot.core.files.bounds import size_refusal, yaml_refusal
from bot.services.github_ports import SYMLINK

__all__ = ["run_init"]  # run through bot.cli.commands.RUNS

NOT_FOUND, REFUSED = 1, 2


def run_init(args: argparse.Namespace) -> int:
    root = Path(args.path)
    target = root / DEFAULT_FILE
    if not root.is_dir():
        return _refuse(f"not a directory path={root}")
    if target.exists() and not (args.force or args.stdout):
        return _refuse(f"a config exists already path={target} (--force overwrites it)")
    proposal = look(root)
    if proposal is None or not proposal.environments:
        print(
            f"promotion-bot init: no environment holding an image reference found path={root}: "
            "looked for directories, files and branches named like dev, test, staging or prod",
            file=sys.stderr,
        )
        return NOT_FOUND
    text = render_config(proposal)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    names = " -> ".join(place.name for place in proposal.environments)
    print(f"wrote {target}: environments {names}, {len(proposal.apps)} apps")
    return 0


def look(root: Path) -> Proposal | None:
    """The proposal for the checkout at ``root``, ``None`` when no name looks like an
    environment."""
    checkout = _Checkout.at(root)
    layout = find_layout(checkout.paths, tuple(checkout.branches), default_branch=checkout.default)
    if layout is None:
        return None
    return propose(layout, {place.name: checkout.texts(layout, place) for place in layout.places})


@dataclass(frozen=True)
class _Checkout:
    """The working tree's paths, and the branches (name -> ref) of its clone, if any."""

    root: Path
    clone: LocalClone
    paths: tuple[str, ...]
    branches: Mapping[str, str]
    default: str

    @classmethod
    def at(cls, root: Path) -> _Checkout:
        clone = LocalClone(root)
        branches, default = _branches(clone)
        return cls(root, clone, _tree_paths(root, "."), branches, default)

    def texts(self, layout: Layout, place: Place) -> dict[str, str]:
        """The files of ``place`` the bot reads for images (YAML and Terraform) that
        pass its read bounds, by repository path."""
        if place.branch is None:
            wanted = list(layout.wanted(place, self.paths))
            return dict(_read_files(self.root, place.name, wanted).files)
        return _branch_texts(self.clone, self.branches[place.branch], layout, place)


def _branches(clone: LocalClone) -> tuple[dict[str, str], str]:
    """Branch name -> its ref (local first, else ``origin/``), and the default branch's name;
    none for a directory that is not a git checkout."""
    try:
        clone.check()
        default, _ = clone.default_branch()
        listed = clone.run(
            "for-each-ref", "--format=%(refname)", "refs/remotes/origin/", "refs/heads/"
        )
    except LocalGitError:
        return {}, ""
    refs: dict[str, str] = {}
    for ref in listed.decode("utf-8", "replace").split():
        name = ref.removeprefix("refs/heads/").removeprefix("refs/remotes/origin/")
        if name != "HEAD":
            refs[name] = ref  # refs/heads/ sorts after refs/remotes/: the local one wins
    return refs, default


def _branch_texts(clone: LocalClone, ref: str, layout: Layout, place: Place) -> dict[str, str]:
    """The files of ``place`` at ``ref`` the bot reads for images, within its read bounds."""
    entries = {entry.path: entry for entry in clone.tree(ref)}
    wanted = [
        entries[path]
        for path in layout.wanted(place, tuple(entries))
        if entries[path].mode not in (SYMLINK, SUBMODULE)
        and size_refusal(entries[path].size) is None
    ]
    blobs = clone.read_blobs(entry.sha for entry in wanted)
    texts = {}
    for entry in wanted:
        try:
            text = blobs.get(entry.sha, b"").decode("utf-8")
        except UnicodeDecodeError:
            continue
        if yaml_refusal(text, cpu_clock=time.thread_time) is None:
            texts[entry.path] = text
    return texts


def _refuse(message: str) -> int:
    print(f"promotion-bot init: {message}", file=sys.stderr)
    return REFUSED
