"""``images`` and ``set-image`` over directories, ``--diff``, and the plain refusals a script
can act on: exit 1 for "no such image", 2 for input it cannot edit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

QUOTES = Path(__file__).parent.parent / "data" / "yamledit" / "quotes" / "original" / "values.yaml"
IMAGE = ("--image", "ghcr.io/acme/api")
DIGEST = "sha256:" + "b" * 64
PINNED = f"""\
a:
  image:
    repository: ghcr.io/acme/api
    tag: v1.0
    digest: sha256:{"a" * 64}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A Flux-style repository: YAML at several depths, a README, and a .git to skip."""
    for where in ("envs/dev/values.yaml", "envs/prod/app/values.yml", ".git/values.yaml"):
        (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(QUOTES, tmp_path / where)
    (tmp_path / "envs/dev/README.md").write_text("image: ghcr.io/acme/api:v0\n")
    return tmp_path


def test_images_walks_directories_skipping_git(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    assert main(["images", "."]) == 0
    files = {line.split(":")[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert files == {"envs/dev/values.yaml", "envs/prod/app/values.yml"}


def test_set_image_writes_every_file_of_a_directory(repo, capsys):
    assert main(["set-image", str(repo / "envs"), *IMAGE, "--tag", "v2", "--write"]) == 0
    for name in ("envs/dev/values.yaml", "envs/prod/app/values.yml"):
        assert (repo / name).read_text("utf-8").count("v2") == 4
    assert (repo / ".git/values.yaml").read_bytes() == QUOTES.read_bytes()
    assert len(capsys.readouterr().err.splitlines()) == 8


def test_a_directory_needs_write_or_diff(repo, capsys):
    assert main(["set-image", str(repo), *IMAGE, "--tag", "v2"]) == 2
    assert "give --write or --diff" in capsys.readouterr().err


def test_diff_prints_a_patch_and_writes_nothing(repo, capsys, tmp_path):
    file = repo / "envs/dev/values.yaml"
    assert main(["set-image", str(file), *IMAGE, "--tag", "v2", "--diff"]) == 0
    patch = capsys.readouterr().out
    assert patch.startswith(f"--- a/{str(file).lstrip('/')}\n+++ b/")
    assert "-    tag: 'v1.0'  # single\n+    tag: 'v2'  # single\n" in patch
    assert file.read_bytes() == QUOTES.read_bytes()
    # The patch applies: it is what --write would have written.
    copy = tmp_path / "copy.yaml"
    shutil.copy(QUOTES, copy)
    subprocess.run(["patch", "-s", str(copy)], input=patch, text=True, check=True)
    assert main(["set-image", str(file), *IMAGE, "--tag", "v2", "--write"]) == 0
    assert copy.read_bytes() == file.read_bytes()


def test_nothing_matched_exits_1_and_writes_nothing(repo, capsys):
    assert (
        main(["set-image", str(repo), "--image", "ghcr.io/acme/none", "--tag", "2", "--diff"]) == 1
    )
    captured = capsys.readouterr()
    assert captured.out == "" and "no reference to image=ghcr.io/acme/none" in captured.err


def test_already_at_the_tag_is_a_match(tmp_path, capsys):
    file = tmp_path / "v.yaml"
    shutil.copy(QUOTES, file)
    assert main(["set-image", str(file), *IMAGE, "--tag", "v1.0", "--write"]) == 0


def test_a_digest_the_file_cannot_take_is_refused(tmp_path, capsys):
    file = tmp_path / "v.yaml"
    shutil.copy(QUOTES, file)
    assert main(["set-image", str(file), *IMAGE, "--tag", "v2", "--digest", DIGEST, "--write"]) == 2
    assert "pins a digest, so --digest cannot be written" in capsys.readouterr().err
    assert file.read_bytes() == QUOTES.read_bytes()


def test_a_pinned_digest_is_written(tmp_path, capsys):
    file = tmp_path / "v.yaml"
    file.write_text(PINNED)
    assert main(["set-image", str(file), *IMAGE, "--tag", "v2", "--digest", DIGEST, "--write"]) == 0
    assert file.read_text() == PINNED.replace("v1.0", "v2").replace("a" * 64, "b" * 64)


def test_one_refused_file_writes_none(repo, capsys):
    (repo / "envs/prod/app/values.yml").write_text(PINNED)
    argv = ["set-image", str(repo / "envs"), *IMAGE, "--tag", "v2", "--digest", DIGEST, "--write"]
    assert main(argv) == 2
    assert (repo / "envs/dev/values.yaml").read_bytes() == QUOTES.read_bytes()
    assert "v1.0" in (repo / "envs/prod/app/values.yml").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a: 1\n\0\x01", "a binary file (NUL byte at offset 5), not YAML"),
        (b"a: caf\xe9\n", "not UTF-8 text (byte 0xe9 at offset 6)"),
    ],
)
@pytest.mark.parametrize("command", ["images", "set-image"])
def test_plain_messages_for_files_that_are_not_text(tmp_path, capsys, content, message, command):
    file = tmp_path / "v.yaml"
    file.write_bytes(content)
    argv = [command, str(file), *((*IMAGE, "--tag", "v2") if command == "set-image" else ())]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"file={file}: {message}" in err and "Traceback" not in err


def test_a_directory_where_a_file_is_needed(tmp_path, capsys):
    (tmp_path / "values.yaml").mkdir()  # walked into, holding nothing
    assert main(["images", str(tmp_path)]) == 0
    assert main(["replay", "push", str(tmp_path), "--dry-run"]) == 2
    assert "is a directory; a file is needed here" in capsys.readouterr().err
    (tmp_path / ".github/promotion.yml").mkdir(parents=True)
    assert main(["check-config", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a directory; a file is needed" in err and "Traceback" not in err


def test_a_reader_that_stops_early_ends_the_command_silently(tmp_path):
    """``set-image --diff DIR | head -1``: exit 141 (128 + SIGPIPE) and nothing on stderr but
    the change lines, as ``seq 1 100000 | head -1`` does. The diff is bigger than a pipe's
    buffer, so the command is still writing when the reader closes."""
    big = tmp_path / "values.yaml"
    big.write_text("".join(f"c{i}:\n  image: ghcr.io/acme/api:1.2.0\n" for i in range(1500)))
    command = [sys.executable, "-m", "bot", "set-image", str(tmp_path), *IMAGE, "--tag", "1.3.0"]
    errors = tmp_path / "stderr"  # a file: 1,500 change lines would fill a pipe's buffer
    with (
        errors.open("wb") as stderr,
        subprocess.Popen([*command, "--diff"], stdout=subprocess.PIPE, stderr=stderr) as process,
    ):
        assert process.stdout is not None
        assert process.stdout.readline().startswith(b"--- a/")
        process.stdout.close()
        assert process.wait(timeout=30) == 141
    assert [line for line in errors.read_text().splitlines() if " -> " not in line] == []
    assert big.read_text().count("1.2.0") == 1500  # --diff writes nothing
