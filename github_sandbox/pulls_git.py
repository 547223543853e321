"""The git side of pull requests: mergeability, the diff and commits, and the three merge
methods, all written with plumbing (``merge-tree --write-tree``, ``commit-tree``) so the bare
repository's ``git log`` shows exactly what a merge made."""

from __future__ import annotations

from dataclasses import dataclass

from github_sandbox.diffs import FileDiff, parse_diff
from github_sandbox.gitcore import CommitInfo, GitFailed, Signature, run_git
from github_sandbox.gitrepo import GitRepo

# GitHub lists at most 250 commits of a pull request.
MAX_PULL_COMMITS = 250


class MergeConflict(Exception):
    """The head cannot be merged into the base without a human resolving conflicts."""


def merged_tree(git: GitRepo, ours: str, theirs: str) -> str | None:
    """The tree of a three-way merge of two commits; None when they conflict."""
    args = ["merge-tree", "--write-tree", "--no-messages", ours, theirs]
    done = run_git(git.path, args, check=False)
    if done.returncode == 1:
        return None
    if done.returncode != 0:
        raise GitFailed(args, done.returncode, done.stderr.decode(errors="replace"))
    return done.stdout.decode().split("\n", 1)[0].strip()


def is_mergeable(git: GitRepo, base_sha: str, head_sha: str) -> bool:
    return merged_tree(git, base_sha, head_sha) is not None


def pull_commits(git: GitRepo, base_sha: str, head_sha: str) -> list[CommitInfo]:
    """Commits on the head that the base lacks, oldest first."""
    return list(reversed(git.log([f"{base_sha}..{head_sha}"], max_count=MAX_PULL_COMMITS)))


def pull_files(git: GitRepo, base_sha: str, head_sha: str) -> list[FileDiff]:
    """The changes the pull request brings: head against its merge base with the base."""
    merge_base = git.merge_base(base_sha, head_sha) or git.empty_tree()
    return parse_diff(git.diff(merge_base, head_sha))


@dataclass(frozen=True)
class MergeRequest:
    base_sha: str
    head_sha: str
    title: str
    message: str
    merger: Signature


def merge_commit(git: GitRepo, request: MergeRequest) -> str:
    """A two-parent merge commit (method ``merge``)."""
    tree = _tree_or_conflict(git, request.base_sha, request.head_sha)
    message = f"{request.title}\n\n{request.message}".rstrip("\n")
    parents = [request.base_sha, request.head_sha]
    return git.commit_tree(tree, parents, message, request.merger, request.merger)


def squash_commit(git: GitRepo, request: MergeRequest) -> str:
    """One commit on the base holding all the head's changes (method ``squash``)."""
    tree = _tree_or_conflict(git, request.base_sha, request.head_sha)
    message = f"{request.title}\n\n{request.message}".rstrip("\n")
    return git.commit_tree(tree, [request.base_sha], message, request.merger, request.merger)


def rebase_commits(git: GitRepo, request: MergeRequest) -> str:
    """The head's commits replayed one by one onto the base (method ``rebase``); returns the
    last one. Authors are kept; the merger becomes the committer, as on GitHub."""
    current = request.base_sha
    for commit in pull_commits(git, request.base_sha, request.head_sha):
        tree = _picked_tree(git, current, commit)
        current = git.commit_tree(tree, [current], commit.message, commit.author, request.merger)
    return current


def _picked_tree(git: GitRepo, onto: str, commit: CommitInfo) -> str:
    """``onto``'s tree plus the changes ``commit`` made to its first parent (a cherry-pick).

    ``merge-tree`` picks the merge base itself, so a throwaway commit with ``onto``'s tree and
    ``commit``'s parent as its only parent makes that parent the merge base.
    """
    onto_info = git.commit(onto)
    if onto_info is None or not commit.parents:
        raise MergeConflict(f"cannot replay commit sha={commit.sha} onto={onto}")
    stand_in = git.commit_tree(
        onto_info.tree, [commit.parents[0]], "rebase stand-in", commit.author, commit.author
    )
    return _tree_or_conflict(git, stand_in, commit.sha)


def _tree_or_conflict(git: GitRepo, ours: str, theirs: str) -> str:
    tree = merged_tree(git, ours, theirs)
    if tree is None:
        raise MergeConflict(f"merge conflict ours={ours} theirs={theirs}")
    return tree
