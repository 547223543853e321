"""Flux image-automation-controller's "update everywhere" golden trees through ``set_image``,
byte for byte: the marked and unmarked references of the image change, others stay."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.core.files.yamledit import set_image

FLUX = Path(__file__).parent.parent / "data" / "flux-setters"
UPDATE = FLUX / "current" / "internal" / "update" / "testdata"


def test_replace_everywhere_mode_with_set_image():
    for name in ("cronjob.yaml", "deployment.yaml"):
        text = (UPDATE / "replace" / "original" / name).read_text()
        result = set_image(text, image="used", tag="v1.1.0", file=name)
        assert result.text == (UPDATE / "replace" / "expected" / name).read_text()


def test_replace_keeps_comments_and_indentation():
    # commented-expected was re-indented by go-yaml; only its values and comments are right.
    text = (UPDATE / "replace" / "commented" / "deployment.yaml").read_text()
    result = set_image(text, image="used", tag="v1.1.0")
    expected = (UPDATE / "replace" / "commented-expected" / "deployment.yaml").read_text()
    assert yaml.safe_load(result.text) == yaml.safe_load(expected)
    assert result.text == text.replace("used:v1.0.0", "used:v1.1.0")
    assert "# the comment must stay!" in result.text


def test_leave_other_images_alone():
    for path in sorted((UPDATE / "leave" / "original").iterdir()):
        text = path.read_text()
        assert set_image(text, image="notused", tag="v1.1.0").text == text
