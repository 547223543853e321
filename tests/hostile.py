"""Hostile repository content shared by the tests at every level: YAML bombs and files too big
to read."""

from __future__ import annotations


def laughs(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs" document: each level lists the one before ``width`` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def padding(size: int) -> str:
    """A YAML file of comment lines, just over ``size`` bytes."""
    line = "# a values file nobody should ever have committed\n"
    return line * (size // len(line) + 1)
