"""Turning ``git diff --raw -p`` output into GitHub's ``diff-entry`` list."""

from __future__ import annotations

from dataclasses import dataclass

_STATUS = {
    "A": "added",
    "D": "removed",
    "M": "modified",
    "R": "renamed",
    "C": "copied",
    "T": "changed",
}


@dataclass(frozen=True)
class FileDiff:
    filename: str
    previous_filename: str | None
    status: str
    sha: str
    additions: int
    deletions: int
    patch: str


def parse_diff(text: str) -> list[FileDiff]:
    raw_part, _, patch_part = text.partition("\ndiff --git ")
    raw_lines = [line for line in raw_part.splitlines() if line.startswith(":")]
    sections = ("diff --git " + patch_part).split("\ndiff --git ") if patch_part else []
    diffs = []
    for index, line in enumerate(raw_lines):
        meta, *paths = line.split("\t")
        _, _, _, new_sha, status = meta.split()
        section = sections[index] if index < len(sections) else ""
        hunks = section[section.find("\n@@") + 1 :] if "\n@@" in section else ""
        body = [ln for ln in hunks.splitlines() if not ln.startswith("@@")]
        diffs.append(
            FileDiff(
                filename=paths[-1],
                previous_filename=paths[0] if len(paths) > 1 else None,
                status=_STATUS.get(status[0], "modified"),
                sha=new_sha,
                additions=sum(1 for ln in body if ln.startswith("+")),
                deletions=sum(1 for ln in body if ln.startswith("-")),
                patch=hunks.rstrip("\n"),
            )
        )
    return diffs
