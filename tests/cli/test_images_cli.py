"""The ``images`` and ``set-image`` commands, run in-process."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from bot.cli import images

CORPUS = Path(__file__).parent.parent / "data" / "yaml"
CRLF = "argo-cd.prometheus-cr-crlf.yaml"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="promotion-bot")
    images.register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def work(tmp_path):
    for name in (CRLF, "argo-cd.argocd-source-broken.yaml", "ingress-nginx.values.yaml"):
        shutil.copy(CORPUS / name, tmp_path / name)
    return tmp_path


def test_images_table(work, capsys):
    assert run("images", str(work / CRLF)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["FILE:LINE", "KIND", "REPOSITORY", "TAG", "DIGEST", "PATH"]
    assert out[1].split()[1:] == [
        "helm-values",
        "quay.io/prometheus/prometheus",
        "v2.37.0",
        "-",
        "spec.image",
    ]


def test_images_json_and_bad_files(work, capsys):
    files = [work / CRLF, work / "argo-cd.argocd-source-broken.yaml", work / "missing.yaml"]
    assert run("images", "--json", *map(str, files)) == 2
    captured = capsys.readouterr()
    [row] = [json.loads(line) for line in captured.out.splitlines()]
    assert row == {
        "file": str(work / CRLF),
        "line": 52,
        "kind": "helm-values",
        "repository": "quay.io/prometheus/prometheus",
        "tag": "v2.37.0",
        "digest": None,
        "path": "spec.image",
    }
    assert "argocd-source-broken.yaml" in captured.err
    assert "parsing yaml failed" in captured.err
    assert "missing.yaml" in captured.err


def test_set_image_prints_the_new_file(work, capsys):
    path = work / CRLF
    before = path.read_bytes()
    code = run(
        "set-image", str(path), "--image", "quay.io/prometheus/prometheus", "--tag", "v2.40.0"
    )
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.encode() == before.replace(b":v2.37.0\r\n", b":v2.40.0\r\n")
    assert captured.err == (
        f"{path}:52 spec.image quay.io/prometheus/prometheus:v2.37.0 -> "
        "quay.io/prometheus/prometheus:v2.40.0\n"
    )
    assert path.read_bytes() == before


def test_set_image_write_keeps_every_other_byte(tmp_path, capsys):
    path = tmp_path / "values.yaml"
    path.write_bytes(
        b"\xef\xbb\xbfimage:\r\n  repository: acme/api\r\n  tag: '1.9' # pin\r\n  x: 1"
    )
    assert run("set-image", str(path), "--image", "acme/api", "--tag", "1.10", "--write") == 0
    assert path.read_bytes() == (
        b"\xef\xbb\xbfimage:\r\n  repository: acme/api\r\n  tag: '1.10' # pin\r\n  x: 1"
    )
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--image", "quay.io/prometheus/prometheus", "--tag", "1.0\nmalicious: x"],
            "valid docker tag",
        ),
        (["--image", "quay.io/prometheus/prometheus", "--tag", "v2", "--digest", "md5"], "digest"),
    ],
)
def test_set_image_refusals(work, capsys, args, message):
    path = work / CRLF
    before = path.read_bytes()
    assert run("set-image", str(path), *args, "--write") == 2
    assert message in capsys.readouterr().err
    assert path.read_bytes() == before


def test_set_image_refuses_stale_digest(work, capsys):
    path = work / "ingress-nginx.values.yaml"
    code = run("set-image", str(path), "--image", "ingress-nginx/controller", "--tag", "v1.16.0")
    assert code == 2
    assert "give the new digest" in capsys.readouterr().err


def test_set_image_nothing_matched(work, capsys):
    # Exit 1: a script tells "edited" from "no such image".
    assert run("set-image", str(work / CRLF), "--image", "ghcr.io/acme/none", "--tag", "1") == 1
    assert "no reference to image=ghcr.io/acme/none" in capsys.readouterr().err


def test_set_image_unreadable_file(tmp_path, capsys):
    assert run("set-image", str(tmp_path / "nope.yaml"), "--image", "a/b", "--tag", "1") == 2
    assert "nope.yaml" in capsys.readouterr().err
