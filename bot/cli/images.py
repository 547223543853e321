"""``images`` (list the image references in files) and ``set-image`` (edit one file)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from bot.core.files.yamledit import YamlEditError, set_image
from bot.core.files.yamlscan import ImageOccurrence, find_images


def register(subparsers: Any) -> None:
    images = subparsers.add_parser("images", help="list the image references found in YAML files")
    images.add_argument("files", nargs="+", metavar="FILE")
    images.add_argument("--json", action="store_true", help="one JSON object per line")
    images.set_defaults(func=run_images)

    setter = subparsers.add_parser(
        "set-image", help="set an image's tag in a YAML file, byte-exact"
    )
    setter.add_argument("file", metavar="FILE")
    setter.add_argument("--image", required=True, metavar="REPOSITORY")
    setter.add_argument("--tag", required=True)
    setter.add_argument("--digest", default=None)
    setter.add_argument("--write", action="store_true", help="write the file in place")
    setter.set_defaults(func=run_set_image)


def _read(path: str) -> str:
    # newline="" keeps CRLF and lone CR exactly as they are.
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def run_images(args: argparse.Namespace) -> int:
    code = 0
    rows: list[ImageOccurrence] = []
    for file in args.files:
        try:
            found = find_images(_read(file), file)
        except (OSError, UnicodeDecodeError, YamlEditError) as err:
            print(f"promotion-bot images: reading failed file={file}: {err}", file=sys.stderr)
            code = 2
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


def run_set_image(args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
        result = set_image(text, image=args.image, tag=args.tag, digest=args.digest, file=args.file)
    except (OSError, UnicodeDecodeError, YamlEditError) as err:
        print(f"promotion-bot set-image: refused file={args.file}: {err}", file=sys.stderr)
        return 2
    for change in result.changes:
        print(
            f"{change.file}:{change.line} {change.path} {change.old} -> {change.new}",
            file=sys.stderr,
        )
    if not result.changes:
        print(f"no reference to image={args.image} to change in file={args.file}", file=sys.stderr)
    if args.write:
        if result.changes:
            Path(args.file).write_bytes(result.text.encode("utf-8"))
    else:
        sys.stdout.write(result.text)
    return 0
