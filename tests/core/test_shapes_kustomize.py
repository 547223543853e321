"""A kustomize ``images`` entry whose ``newName`` carries the tag itself (issue 14), from a real
public file: found, edited byte-exactly and re-parsed, as stored, with CRLF line ends and
without the final newline."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.files.yamledit import set_image
from bot.core.files.yamlscan import find_images

NAME = "microshift.kustomization-new-name-with-tag.yaml"
TEXT = (Path(__file__).parent.parent / "data" / "yaml" / NAME).read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    "text",
    [TEXT, TEXT.replace("\n", "\r\n"), TEXT.rstrip("\n")],
    ids=["as-stored", "crlf", "no-eol"],
)
def test_a_new_name_with_a_tag_is_the_reference(text):
    [row] = find_images(text, NAME)
    assert (row.line, row.kind, row.repository, row.tag, row.path) == (
        11,
        "kustomize",
        "docker.io/library/busybox",
        "1.35",
        "images[0].newName",
    )
    result = set_image(text, image="busybox", tag="1.36", file=NAME)
    assert result.text == text.replace("newName: busybox:1.35", "newName: busybox:1.36")
    assert yaml.safe_load(result.text)["images"] == [
        {"name": "BUSYBOX_IMAGE", "newName": "busybox:1.36"}
    ]
