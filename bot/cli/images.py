"""``images`` (list the image references in files) and ``set-image`` (edit them, byte-exact).

Both take files and directories; a directory is read for YAML (``*.yaml``, ``*.yml``) and
Terraform (``*.tf``, ``*.tfvars``, and their JSON forms ``*.tf.json``, ``*.tfvars.json``) files at
any depth, skipping ``.git``, as kustomize, Flux and Terraform lay out a repository.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.cli import parsers
from bot.cli.inputs import InputError, read_text
from bot.core.files.formats import IMAGE_FILE_SUFFIXES, find_images, set_image
from bot.core.files.images import ImageRefError, parse_image_ref
from bot.core.files.yamledit import EditResult, YamlEditError
from bot.core.files.yamlscan import ImageOccurrence

__all__ = ["register", "run_images", "run_set_image"]  # run through bot.cli.commands.RUNS

NO_MATCH, REFUSED = 1, 2
SKIPPED_DIRECTORIES = frozenset({".git"})


def register(subparsers: Any) -> None:
    """``images`` and ``set-image`` on a parser of one's own, run by this module."""
    declared = parsers.images(subparsers)
    declared["images"].set_defaults(func=run_images)
    declared["set-image"].set_defaults(func=run_set_image)


def yaml_files(paths: Sequence[str]) -> Iterator[str]:
    """Each path given; for a directory, its YAML and Terraform files at any depth in name
    order, skipping ``.git`` (and not following links to directories)."""
    for path in paths:
        if not os.path.isdir(path):
            yield path
            continue
        for root, directories, names in os.walk(path):
            directories[:] = sorted(d for d in directories if d not in SKIPPED_DIRECTORIES)
            for name in sorted(names):
                if name.endswith(IMAGE_FILE_SUFFIXES):
                    yield os.path.normpath(os.path.join(root, name))


def run_images(args: argparse.Namespace) -> int:
    code = 0
    rows: list[ImageOccurrence] = []
    for file in yaml_files(args.files):
        try:
            found = find_images(read_text(file), file)
        except (InputError, YamlEditError) as err:
            print(f"promotion-bot images: reading failed file={file}: {err}", file=sys.stderr)
            code = REFUSED
            continue
        if args.json:
            for row in found:
                print(json.dumps(dataclasses.asdict(row)))
        rows.extend(found)
    if not args.json:
        _print_table(rows)
    return code


def _print_table(rows: list[ImageOccurrence]) -> None:
    header = ("FILE:LINE", "KIND", "REPOSITORY", "TAG", "DIGEST", "PATH")
    table = [header] + [
        (f"{r.file}:{r.line}", r.kind, r.repository, r.tag or "-", r.digest or "-", r.path)
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]))


@dataclasses.dataclass(frozen=True)
class FileEdit:
    """One file's edit: its text before, the result, and whether the image is in it at all."""

    file: str
    before: str
    result: EditResult
    matched: bool


def edit_file(file: str, image: str, tag: str, digest: str | None) -> FileEdit:
    """The edit of one file; ``InputError``/``YamlEditError`` when it is refused, including a
    ``digest`` that no reference to ``image`` in the file pins (it would be dropped)."""
    text = read_text(file)
    result = set_image(text, image=image, tag=tag, digest=digest, file=file)
    if result.changes and digest is None:
        return FileEdit(file, text, result, matched=True)
    name = parse_image_ref(image).name
    if not result.changes and name.rsplit("/", 1)[-1] not in text:
        return FileEdit(file, text, result, matched=False)  # as set_image, without parsing
    found = [o for o in find_images(text, file) if o.repository == name]
    if digest is not None and found and not any(o.digest for o in found):
        raise InputError(
            f"no reference to image={image} pins a digest, so --digest cannot be written "
            "(set-image the files that pin one with it, the others without)"
        )
    return FileEdit(file, text, result, matched=bool(found))


def run_set_image(args: argparse.Namespace) -> int:
    single = len(args.files) == 1 and not os.path.isdir(args.files[0])
    if not (single or args.write or args.diff):
        print(
            "promotion-bot set-image: several files or a directory: give --write or --diff",
            file=sys.stderr,
        )
        return REFUSED
    edits, refused = [], False
    for file in yaml_files(args.files):
        try:
            edits.append(edit_file(file, args.image, args.tag, args.digest))
        except (InputError, YamlEditError, ImageRefError) as err:
            print(f"promotion-bot set-image: refused file={file}: {err}", file=sys.stderr)
            refused = True
    if refused:
        return REFUSED  # nothing written: a partial edit of an environment is worse than none
    for edit in edits:
        for change in edit.result.changes:
            print(
                f"{change.file}:{change.line} {change.path} {change.old} -> {change.new}",
                file=sys.stderr,
            )
    try:
        _output(edits, args, single)
    except BrokenPipeError:
        raise  # the reader stopped early: ``main`` ends quietly
    except OSError as err:
        print(f"promotion-bot set-image: writing failed: {err}", file=sys.stderr)
        return REFUSED
    if not any(edit.matched for edit in edits):
        where = args.files[0] if single else " ".join(args.files)
        print(f"no reference to image={args.image} to change in file={where}", file=sys.stderr)
        return NO_MATCH
    return 0


def _output(edits: list[FileEdit], args: argparse.Namespace, single: bool) -> None:
    for edit in edits:
        if args.diff:
            sys.stdout.writelines(unified_diff(edit))
        elif args.write:
            if edit.result.changes:
                Path(edit.file).write_bytes(edit.result.text.encode("utf-8"))
        elif single:
            sys.stdout.write(edit.result.text)


def unified_diff(edit: FileEdit) -> list[str]:
    """``diff -u`` of the edit, with ``a/`` and ``b/`` names as git prints them."""
    name = edit.file.lstrip("/")
    lines = difflib.unified_diff(
        edit.before.splitlines(keepends=True),
        edit.result.text.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return [
        line if line.endswith(("\n", "\r")) else f"{line}\n\\ No newline at end of file\n"
        for line in lines
    ]
