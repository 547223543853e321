"""Terraform and OpenTofu files: found, edited byte-exactly, re-parsed (bot.core.files.hcl*).

The goldens in tests/data/terraform are hand-written after public files (tests/data/terraform/
README.md names each one); every golden runs as written, with CRLF line ends and without its
final newline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.files import hcledit
from bot.core.files.formats import find_images, hcl_values, set_image
from bot.core.files.hclparse import MAX_TOKENS, HclEditError, parse_hcl
from bot.core.files.hclscan import HclField
from bot.core.files.yamlnodes import YamlEditError

DATA = Path(__file__).resolve().parent.parent / "data" / "terraform"
API = "ghcr.io/acme/api"
SHA = "sha256:" + "ab" * 32

# name, image, tag, digest, tag keys (key -> image), rows found (line, kind, repository, tag, path)
GOLDENS = [
    (
        "environments-prod.tfvars",
        "asia-south1-docker.pkg.dev/acme-portal/portal/backend",
        "2.5.0",
        None,
        {},
        [
            (
                8,
                "terraform",
                "asia-south1-docker.pkg.dev/acme-portal/portal/backend",
                "2.4.1",
                "backend_image",
            ),
            (
                9,
                "terraform",
                "asia-south1-docker.pkg.dev/acme-portal/portal/customer-portal",
                "2.4.1",
                "customer_portal_image",
            ),
            (
                10,
                "terraform",
                "asia-south1-docker.pkg.dev/acme-portal/portal/platform-portal",
                "1.9.0",
                "platform_portal_image",
            ),
        ],
    ),
    (
        "cloud-run.tf",
        "europe-west1-docker.pkg.dev/acme-genai/apps/genai-app",
        "0.4.0",
        None,
        {},
        [
            (
                3,
                "terraform",
                "europe-west1-docker.pkg.dev/acme-genai/apps/genai-app",
                "0.3.0",
                "variable.image.default",
            ),
            (
                20,
                "terraform",
                "europe-west1-docker.pkg.dev/acme-genai/apps/genai-app",
                "0.3.0",
                "resource.google_cloud_run_service.app.template.spec.containers.image",
            ),
        ],
    ),
    (
        "ecs-fargate.tf",
        "public.ecr.aws/aws-containers/ecsdemo-frontend",
        "8a1c2f4",
        None,
        {},
        [
            (
                35,
                "terraform",
                "public.ecr.aws/aws-containers/ecsdemo-frontend",
                "776fd50",
                "module.ecs_service.container_definitions.(local.container_name).image",
            ),
            (
                55,
                "terraform",
                "public.ecr.aws/amazonlinux/amazonlinux",
                "2023-minimal",
                "module.ecs_task_definition.container_definitions.al2023.image",
            ),
        ],
    ),
    (
        "backend-variables.tf",
        API,
        "1.8.0",
        None,
        {"image_tag": API},
        [(13, "tag-key", API, "latest-prod", "variable.image_tag.default")],
    ),
    (
        "services.tfvars",
        API,
        "1.5.0",
        None,
        {"image_tags.api": API},
        [
            (8, "terraform", API, "1.4.0", "images.api.image_version"),
            (14, "terraform", "ghcr.io/acme/worker", "1.4.0", "images.worker.tag"),
            (20, "tag-key", API, "1.4.0", "image_tags.api"),
        ],
    ),
]

VARIANTS = {
    "as-written": lambda text: text,
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "no-final-newline": lambda text: text.rstrip("\n"),
}


def _golden(name: str) -> tuple[str, str]:
    stem, _, ext = name.rpartition(".")
    original = (DATA / name).read_text(encoding="utf-8")
    expected = (DATA / f"{stem}.expected.{ext}").read_text(encoding="utf-8")
    return original, expected


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize(("name", "image", "tag", "digest", "keys", "rows"), GOLDENS)
def test_golden_found_edited_and_reparsed(name, image, tag, digest, keys, rows, variant):
    original, expected = (VARIANTS[variant](text) for text in _golden(name))
    found = find_images(original, name, tag_keys=keys)
    assert [(o.line, o.kind, o.repository, o.tag, o.path) for o in found] == rows

    result = set_image(
        original, image=image, tag=tag, digest=digest, file=name, tag_keys=tuple(keys)
    )

    assert result.text == expected  # byte for byte: comments, alignment, heredocs, line ends
    edited = {(c.line, c.path) for c in result.changes}
    after = find_images(result.text, name, tag_keys=keys)
    assert {(o.line, o.path) for o in after if o.repository == image and o.tag == tag} >= edited
    assert [o.path for o in after] == [o.path for o in found]


def test_an_edit_that_moves_nothing_changes_nothing():
    original, _ = _golden("environments-prod.tfvars")
    result = set_image(
        original,
        image="asia-south1-docker.pkg.dev/acme-portal/portal/backend",
        tag="2.4.1",
        file="prod.tfvars",
    )
    assert result.text == original
    assert result.changes == ()


# text, tag keys -> rows (kind, repository, tag, digest, path)
RULES = [
    pytest.param(
        'image = "nginx"\n',
        {},
        [("terraform", "docker.io/library/nginx", None, None, "image")],
        id="image-without-tag",
    ),
    pytest.param('enable_image = "true"\n', {}, [], id="named-key-needs-a-tag"),
    pytest.param(
        'worker_image_uri = "ghcr.io/acme/worker:2.0.0"\n',
        {},
        [("terraform", "ghcr.io/acme/worker", "2.0.0", None, "worker_image_uri")],
        id="image-uri-key",
    ),
    pytest.param('image = "${var.registry}/api:1.0.0"\n', {}, [], id="template-is-skipped"),
    pytest.param('image = "ghcr.io/acme/api:\\u0031"\n', {}, [], id="escape-is-skipped"),
    pytest.param(
        "api_image_tag = <<EOT\n1.2.3\nEOT\n", {"api_image_tag": API}, [], id="heredoc-tag-key"
    ),
    pytest.param(
        'api_image_tag = "1.2.3"\n',
        {},
        [],
        id="bare-tag-without-config",
    ),
    pytest.param(
        'api_image_tag = "1.2.3"\n',
        {"api_image_tag": API},
        [("tag-key", API, "1.2.3", None, "api_image_tag")],
        id="bare-tag-named-by-config",
    ),
    pytest.param('tags = { api = "not a tag" }\n', {"tags.api": API}, [], id="tag-key-invalid-tag"),
    pytest.param(
        'svc = {\n  repository = "acme/api"\n  tag        = "1.0.0"\n  digest     = "'
        + SHA
        + '"\n}\n',
        {},
        [("terraform", "docker.io/acme/api", "1.0.0", SHA, "svc.tag")],
        id="map-with-digest",
    ),
    pytest.param(
        'image_repository = "ghcr.io/acme/api"\nimage_tag        = "1.0.0"\n',
        {},
        [("terraform", API, "1.0.0", None, "image_tag")],
        id="tfvars-repository-and-tag",
    ),
    pytest.param(
        'variable "image_repository" {\n  default = "ghcr.io/acme/api"\n}\n'
        'variable "image_tag" {\n  type    = string\n  default = "alpha1"\n}\n',
        {},
        [("terraform", API, "alpha1", None, "variable.image_tag.default")],
        id="variable-defaults-repository-and-tag",
    ),
    pytest.param(
        'list = [\n  { image = "ghcr.io/acme/api:1.0.0" },\n  "ghcr.io/acme/api:2.0.0",\n]\n',
        {},
        [("terraform", "ghcr.io/acme/api", "1.0.0", None, "list[0].image")],
        id="list-of-objects",
    ),
    pytest.param(
        'in = { image = "ghcr.io/acme/api:1.0.0" }\n',
        {},
        [("terraform", "ghcr.io/acme/api", "1.0.0", None, "in.image")],
        id="keyword-as-name",
    ),
    pytest.param(
        '# image = "ghcr.io/acme/api:0.0.1"\n// image = "ghcr.io/acme/api:0.0.2"\n'
        '/* image = "ghcr.io/acme/api:0.0.3" */\n',
        {},
        [],
        id="comments",
    ),
]


@pytest.mark.parametrize(("text", "keys", "rows"), RULES)
def test_rules(text, keys, rows):
    found = find_images(text, "main.tf", tag_keys=keys)
    assert [(o.kind, o.repository, o.tag, o.digest, o.path) for o in found] == rows


# text, image, tag, digest -> the new text
EDITS = [
    pytest.param(
        'image = "ghcr.io/acme/api:1.0.0@' + SHA + '"\n',
        API,
        "1.1.0",
        "sha256:" + "cd" * 32,
        'image = "ghcr.io/acme/api:1.1.0@sha256:' + "cd" * 32 + '"\n',
        id="pinned-reference-with-new-digest",
    ),
    pytest.param(
        'svc = { repository = "ghcr.io/acme/api", tag = "1.0", digest = "' + SHA + '" }\n',
        API,
        "1.1",
        "sha256:" + "cd" * 32,
        'svc = { repository = "ghcr.io/acme/api", tag = "1.1", digest = "sha256:'
        + "cd" * 32
        + '" }\n',
        id="map-digest-follows-tag",
    ),
    pytest.param(
        'image = "ghcr.io/acme/api:1.0.0"\n',
        API,
        "1.1.0",
        "sha256:" + "cd" * 32,
        'image = "ghcr.io/acme/api:1.1.0"\n',
        id="unpinned-stays-unpinned",
    ),
    pytest.param(
        'image = "GHCR.io/acme/api:1.0.0" # upper-case registry\n',
        API,
        "1.1.0",
        None,
        'image = "GHCR.io/acme/api:1.1.0" # upper-case registry\n',
        id="repository-kept-as-written",
    ),
]


@pytest.mark.parametrize(("text", "image", "tag", "digest", "expected"), EDITS)
def test_edits(text, image, tag, digest, expected):
    result = set_image(text, image=image, tag=tag, digest=digest, file="main.tf")
    assert result.text == expected


@pytest.mark.parametrize(
    ("file", "text", "key", "expected"),
    [
        pytest.param(
            "prod.tfvars",
            'tags = { web = "1.0.0" }\n',
            "tags.web",
            'tags = { web = "1.1.0" }\n',
            id="hcl-key-in-a-file-without-the-image-name",
        ),
        pytest.param(
            "values.yaml",
            "images:\n- tag: 1.0.0\n",
            "images[0].tag",
            "images:\n- tag: 1.1.0\n",
            id="yaml-key-ending-in-an-index",
        ),
    ],
)
def test_a_file_naming_only_a_key_is_still_read(file, text, key, expected):
    result = set_image(text, image=API, tag="1.1.0", file=file, tag_keys=(key,))
    assert result.text == expected


# text, image, tag, digest -> words the refusal says
REFUSALS = [
    pytest.param(
        'image = "ghcr.io/acme/api:1.0.0@' + SHA + '"\n',
        API,
        "1.1.0",
        None,
        "digest pinned to the old tag",
        id="digest-left-behind",
    ),
    pytest.param(
        'image = "ghcr.io/acme/api:1.0.0"\n',
        API,
        "bad tag!",
        None,
        "valid docker tag",
        id="invalid-tag",
    ),
    pytest.param(
        'image = "ghcr.io/acme/api:1.0.0"\n',
        API + ":1",
        "1.1",
        None,
        "without tag",
        id="image-with-tag",
    ),
    pytest.param(
        'image = "ghcr.io/acme/api:1.0.0"\nbroken = {\n',
        API,
        "1.1",
        None,
        "parsing hcl failed",
        id="syntax-error",
    ),
]


@pytest.mark.parametrize(("text", "image", "tag", "digest", "words"), REFUSALS)
def test_refusals(text, image, tag, digest, words):
    with pytest.raises(YamlEditError, match=words):  # the checks YAML edits make, and HCL's
        set_image(text, image=image, tag=tag, digest=digest, file="main.tf")


def test_refusals_are_yaml_edit_errors_so_every_caller_handles_them():
    assert issubclass(HclEditError, YamlEditError)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("a = " + "[" * 101 + "]" * 101 + "\n", "nested over 100", id="depth"),
        pytest.param(
            "".join(f"k{i} = 1\n" for i in range(MAX_TOKENS // 3 + 1)), "tokens", id="tokens"
        ),
        pytest.param("a = 1\n" + "#" * (1 << 20) + "\n", "MiB", id="bytes"),
    ],
)
def test_parsing_is_bounded(text, words):
    with pytest.raises(HclEditError, match=words):
        parse_hcl(text, "big.tfvars")


def test_a_file_that_names_neither_image_nor_key_is_not_parsed():
    text = "this is { not hcl\n"
    result = set_image(text, image=API, tag="1.0", file="other.tf")
    assert result.text == text


def test_values_by_path_for_the_review_diff():
    original, _ = _golden("services.tfvars")
    values = hcl_values(original, "services.tfvars")
    assert values[("images", "api", "image_version")] == "1.4.0"
    assert values[("image_tags", "worker")] == "1.4.0"
    assert ("images", "api", "env", 0) in values


def test_yaml_is_still_yaml():
    text = "image:\n  repository: ghcr.io/acme/api\n  tag: 1.0.0\n"
    assert [o.kind for o in find_images(text, "values.yaml")] == ["helm-values"]
    result = set_image(text, image=API, tag="1.1.0", file="values.yaml")
    assert result.text == text.replace("1.0.0", "1.1.0")


@pytest.mark.parametrize(
    ("new", "words"),
    [
        pytest.param('1.1"', "breaks the hcl", id="breaks-the-file"),
        pytest.param("${var.tag}", "changes the strings", id="no-longer-a-plain-string"),
    ],
)
def test_the_reparse_refuses_an_edit_that_is_not_exactly_the_value(new, words):
    parsed = parse_hcl('image = "ghcr.io/acme/api:1.0"\nother = "x"\n', "main.tf")
    field = HclField("ref", parsed.strings[0])
    with pytest.raises(HclEditError, match=words):
        hcledit._apply(parsed, [(field, new)])
