"""Reading the files a command is given, with plain messages for what cannot be read: a
directory where a file is needed, a binary file, text that is not UTF-8, a missing file."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A path that cannot be read as the command needs; the message says why, plainly."""


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes; ``InputError`` for a directory or a file that cannot be read."""
    try:
        return Path(path).read_bytes()
    except IsADirectoryError as err:
        raise InputError("is a directory; a file is needed here") from err
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}") from err


def read_text(path: str) -> str:
    """The file's text, its line ends (CRLF, lone CR) as written; ``InputError`` for a
    directory, a binary file, text that is not UTF-8 or a file that cannot be read."""
    data = read_bytes(path)
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError(f"a binary file (NUL byte at offset {nul}), not YAML")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        why = f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})"
        raise InputError(why) from err
