"""Terraform's JSON syntax (``.tf.json``, ``.tfvars.json``) is read and edited as YAML (JSON is
YAML), byte-exact; a bare tag variable's key names its ``.tfvars.json`` value and, in
``.tf.json``, its ``variable.NAME.default``. Table-driven, as the rest of tests/core."""

from __future__ import annotations

import pytest

from bot.core.files.formats import find_images, set_image

API = "ghcr.io/acme/api"
KEYS = {"api_image_tag": API}

TFVARS_JSON = """\
{
  "region": "eu-west-1",
  "api_image": "ghcr.io/acme/api:1.2.3",
  "api_image_tag": "1.2.3",
  "worker": {
    "repository": "ghcr.io/acme/api",
    "tag": "1.2.3"
  }
}
"""

TF_JSON = """\
{
  "variable": {
    "api_image_tag": {
      "type": "string",
      "default": "1.2.3"
    }
  },
  "resource": {
    "aws_ecs_task_definition": {
      "api": {"family": "api", "tags": {"image": "ghcr.io/acme/api:1.2.3"}}
    }
  }
}
"""

# (file name, text, the paths found for ``API``)
CASES = [
    pytest.param(
        "dev.tfvars.json",
        TFVARS_JSON,
        ["api_image", "api_image_tag", "worker.tag"],
        id="tfvars-json",
    ),
    pytest.param(
        "main.tf.json",
        TF_JSON,
        ["variable.api_image_tag.default", "resource.aws_ecs_task_definition.api.tags.image"],
        id="tf-json",
    ),
    pytest.param(
        "main.tf.json",
        TF_JSON.replace("\n", "\r\n").rstrip("\r\n"),
        ["variable.api_image_tag.default", "resource.aws_ecs_task_definition.api.tags.image"],
        id="tf-json-crlf-no-final-newline",
    ),
]


@pytest.mark.parametrize(("file", "text", "paths"), CASES)
def test_found_and_set_byte_exact(file: str, text: str, paths: list[str]) -> None:
    found = find_images(text, file, tag_keys=KEYS)
    assert [(o.repository, o.tag, o.path) for o in found] == [(API, "1.2.3", p) for p in paths]
    result = set_image(text, image=API, tag="1.3.0", file=file, tag_keys=tuple(KEYS))
    assert result.text == text.replace('1.2.3"', '1.3.0"')
    assert [c.path for c in result.changes] == paths
    assert [o.tag for o in find_images(result.text, file, tag_keys=KEYS)] == ["1.3.0"] * len(paths)


def test_a_plain_key_is_no_variable_default_outside_tf_json() -> None:
    """Only Terraform's ``.tf.json`` has ``variable`` blocks; elsewhere the key is the path."""
    found = find_images(TF_JSON, "values.json.yaml", tag_keys=KEYS)
    assert [o.path for o in found] == ["resource.aws_ecs_task_definition.api.tags.image"]


def test_json_indented_with_tabs_is_read_and_edited() -> None:
    """Tabs may not indent block YAML, but JSON is all flow style, where they separate."""
    text = '{\n\t"api_image": "ghcr.io/acme/api:1.2.3",\n\t"zone": {\n\t\t"tag": "a"\n\t}\n}\n'
    assert [o.path for o in find_images(text, "dev.tfvars.json")] == ["api_image"]
    edited = set_image(text, image=API, tag="1.3.0", file="dev.tfvars.json").text
    assert edited == text.replace("1.2.3", "1.3.0")
