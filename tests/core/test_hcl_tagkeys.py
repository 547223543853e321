"""Bare tags the config names (``apps.NAME.tags``) and Terraform files through every caller:
the config model, an environment's files (one file may be the environment), planning's edit,
check-config's counts and globs, and the review diff. Tables, as the rest of tests/core."""

from __future__ import annotations

import pytest

from bot.core.config import Policy, PromotionConfig, parse_config
from bot.core.config.load import ConfigError
from bot.core.files.formats import find_images, set_image
from bot.core.files.yamlnodes import YamlEditError
from bot.core.promotion.coverage import count_references, unmatched_globs, wanted_paths
from bot.core.promotion.envfiles import (
    EnvState,
    environment_files,
    image_occurrences,
    in_environment,
    keys_in,
    relative,
    repository_path,
    running_tags,
    set_image_in,
    snapshot_of,
    tag_keys_of,
)
from bot.core.promotion.model import Snapshot
from bot.core.review.diff import meaningful_diff

API = "ghcr.io/acme/api"
BUILTIN = {"auto": Policy()}
SHA = "sha256:" + "ab" * 32

CONFIG = """\
version: 1
environments:
  - name: dev
    path: terraform/environments/dev.tfvars
  - name: prod
    path: envs/prod
apps:
  api:
    image: ghcr.io/acme/api
    {files}
    tags:
      - key: api_image_tag
        file: "*.tfvars"
      - key: global.apiTag
"""


def config(files: str = "") -> PromotionConfig:
    return parse_config(CONFIG.format(files=files), builtin=BUILTIN)


def test_tags_are_read_from_the_config():
    tags = config().apps["api"].tags
    assert [(t.key, t.file) for t in tags] == [
        ("api_image_tag", "*.tfvars"),
        ("global.apiTag", None),
    ]


@pytest.mark.parametrize(
    ("tags", "words"),
    [
        pytest.param("[{file: a.tfvars}]", "required field is missing", id="no-key"),
        pytest.param('[{key: "two words"}]', "is not", id="space-in-key"),
        pytest.param("[{key: a, files: x}]", "unknown field", id="unknown-field"),
    ],
)
def test_bad_tags_are_located_errors(tags, words):
    text = "version: 1\nenvironments: [{name: dev}]\n"
    text += f"apps:\n  api:\n    image: {API}\n    tags: {tags}\n"
    with pytest.raises(ConfigError, match=words):
        parse_config(text, builtin=BUILTIN)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param("", None, id="every-file-stays-every-file"),
        pytest.param('files: ["values.yaml"]', ("values.yaml", "*.tfvars"), id="tag-files-added"),
    ],
)
def test_files_of_adds_the_files_tags_name(files, expected):
    assert config(files).files_of("api") == expected


PATHS = (
    "envs/prod/values.yaml",
    "envs/prod/main.tf",
    "envs/prod/prod.tfvars",
    "envs/prod/README.md",
    "terraform/environments/dev.tfvars",
    "terraform/environments/prod.tfvars",
    ".github/promotion.yml",
)


@pytest.mark.parametrize(
    ("root", "globs", "expected"),
    [
        pytest.param(
            "envs/prod",
            None,
            ("envs/prod/main.tf", "envs/prod/prod.tfvars", "envs/prod/values.yaml"),
            id="yaml-and-terraform-by-default",
        ),
        pytest.param(
            "terraform/environments/dev.tfvars",
            None,
            ("terraform/environments/dev.tfvars",),
            id="a-file-is-the-environment",
        ),
        pytest.param(
            "terraform/environments/dev.tfvars", ("*.yaml",), (), id="a-file-matched-by-its-name"
        ),
        pytest.param(
            "terraform/environments/dev.tfvars",
            ("*.tfvars",),
            ("terraform/environments/dev.tfvars",),
            id="a-file-matched-by-its-shared-name",
        ),
    ],
)
def test_environment_files(root, globs, expected):
    assert environment_files(PATHS, root=root, globs=globs) == expected


def test_a_file_environment_is_named_so_environments_compare():
    files = {"terraform/environments/dev.tfvars": "a = 1\n", "envs/x.yaml": "b: 1\n"}
    assert relative(files, "terraform/environments/dev.tfvars") == {"*.tfvars": "a = 1\n"}
    assert relative(files, "envs") == {"x.yaml": "b: 1\n"}
    paths = {"terraform/environments/prod.tfvars", "envs/x.yaml"}
    prod = "terraform/environments/prod.tfvars"
    assert repository_path("*.tfvars", prod, paths) == prod
    assert repository_path("x.yaml", "envs", paths) == "envs/x.yaml"
    assert repository_path("x.yaml", ".", paths) == "x.yaml"
    assert in_environment("terraform/environments/dev.tfvars", "terraform/environments/dev.tfvars")
    assert not in_environment(
        "terraform/environments/dev.tfvarsx", "terraform/environments/dev.tfvars"
    )
    assert in_environment("terraform/environments/dev.tfvars", "terraform/environments")


def test_tag_keys_of_files_by_glob_relative_to_the_environment():
    spec = config().apps["api"]
    paths = ["envs/prod/values.yaml", "envs/prod/prod.tfvars"]
    assert tag_keys_of(spec, paths, root="envs/prod") == {
        "envs/prod/values.yaml": ("global.apiTag",),
        "envs/prod/prod.tfvars": ("api_image_tag", "global.apiTag"),
    }


TFVARS = 'api_image_tag = "1.2.0" # bare\nother_tag = "1.2.0"\n'
VALUES = "global:\n  apiTag: 1.2.0  # set by CI\n  other: 1.2.0\n"


def state() -> EnvState:
    files = {"envs/prod/prod.tfvars": TFVARS, "envs/prod/values.yaml": VALUES}
    keys = tag_keys_of(config().apps["api"], files, root="envs/prod")
    return EnvState("prod", files, tag_keys=keys)


def test_bound_tags_are_the_image_s_references():
    found = image_occurrences(state(), API)
    assert [(o.file, o.kind, o.tag, o.path) for o in found] == [
        ("envs/prod/prod.tfvars", "tag-key", "1.2.0", "api_image_tag"),
        ("envs/prod/values.yaml", "tag-key", "1.2.0", "global.apiTag"),
    ]
    assert running_tags(state(), API) == ("1.2.0",)
    assert running_tags(EnvState("prod", state().files), API) == ()  # no keys: no image


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("envs/prod/prod.tfvars", TFVARS.replace('"1.2.0" # bare', '"1.3.0" # bare')),
        ("envs/prod/values.yaml", VALUES.replace("apiTag: 1.2.0", "apiTag: 1.3.0")),
    ],
)
def test_planning_edits_bound_tags_byte_exactly(path, expected):
    result = set_image_in(state(), path, image=API, tag="1.3.0", digest=None)
    assert result.text == expected
    assert [(c.old, c.new) for c in result.changes] == [("1.2.0", "1.3.0")]


# YAML keys: text, keys -> rows found (line, path, tag, digest)
YAML_KEYS = [
    pytest.param(
        "images:\n  - name: api\n    tag: 1.0.0\n",
        ("images[0].tag",),
        [(3, "images[0].tag", "1.0.0", None)],
        id="list-index",
    ),
    pytest.param(
        "a: 1\n---\nglobal:\n  apiTag: '1.0.0'\n",
        ("global.apiTag",),
        [(4, "[1].global.apiTag", "1.0.0", None)],
        id="second-document",
    ),
    pytest.param(
        f"global:\n  apiTag: 1.0.0@{SHA}\n",
        ("global.apiTag",),
        [(2, "global.apiTag", "1.0.0", SHA)],
        id="pinned",
    ),
    pytest.param("global:\n  apiTag: '{{ .Values.x }}'\n", ("global.apiTag",), [], id="template"),
    pytest.param(
        "image:\n  repository: ghcr.io/acme/api\n  tag: 1.0.0\n",
        ("image.tag",),
        [(3, "image.tag", "1.0.0", None)],
        id="already-a-reference-counted-once",
    ),
]


@pytest.mark.parametrize(("text", "keys", "rows"), YAML_KEYS)
def test_yaml_keys_found(text, keys, rows):
    found = find_images(text, "values.yaml", tag_keys=dict.fromkeys(keys, API))
    assert [(o.line, o.path, o.tag, o.digest) for o in found] == rows
    assert all(o.repository == API for o in found)


@pytest.mark.parametrize(
    ("text", "digest", "expected"),
    [
        pytest.param(
            "global:\n  apiTag: '1.0.0' # ci\n",
            None,
            "global:\n  apiTag: '1.1.0' # ci\n",
            id="quoted",
        ),
        pytest.param(
            f"global:\n  apiTag: 1.0.0@{SHA}\r\n",
            "sha256:" + "cd" * 32,
            "global:\n  apiTag: 1.1.0@sha256:" + "cd" * 32 + "\r\n",
            id="pinned-with-new-digest",
        ),
        pytest.param(
            "global:\n  apiTag: 1.0.0", None, "global:\n  apiTag: 1.1.0", id="no-final-newline"
        ),
    ],
)
def test_yaml_keys_set(text, digest, expected):
    result = set_image(
        text, image=API, tag="1.1.0", digest=digest, file="v.yaml", tag_keys=("global.apiTag",)
    )
    assert result.text == expected


def test_a_pinned_bare_tag_needs_the_new_digest():
    with pytest.raises(YamlEditError, match="digest pinned to the old tag"):
        set_image(
            f"global:\n  apiTag: 1.0.0@{SHA}\n",
            image=API,
            tag="1.1.0",
            file="v.yaml",
            tag_keys=("global.apiTag",),
        )


def test_check_config_counts_bound_tags_and_reads_a_file_environment():
    cfg = config()
    paths = ("terraform/environments/dev.tfvars", "envs/prod/values.yaml", "envs/prod/x.md")
    assert wanted_paths(cfg, "dev", paths) == {"terraform/environments/dev.tfvars"}
    states = {
        "dev": EnvState("dev", {"terraform/environments/dev.tfvars": TFVARS}),
        "prod": EnvState("prod", {"envs/prod/values.yaml": VALUES}),
    }
    counts = count_references(cfg, states)
    assert [(c.environment, c.references) for c in counts] == [("dev", 1), ("prod", 1)]


def test_a_tags_file_glob_matching_nothing_is_reported():
    cfg = config()
    found = unmatched_globs(cfg, {"prod": ("envs/prod/values.yaml",)})
    assert [(g.loc, g.glob) for g in found] == [(("apps", "api", "tags", 0, "file"), "*.tfvars")]


def test_the_review_diff_reads_terraform_as_data():
    before = snapshot_of({"prod.tfvars": f'image = "{API}:1.0.0"\nreplicas = "2"\n'})
    after = snapshot_of({"prod.tfvars": f'image  = "{API}:1.1.0" # moved\nreplicas = "3"\n'})
    diff = meaningful_diff(before, after)
    assert [(d.path, d.old_tag, d.new_tag) for d in diff.images] == [("image", "1.0.0", "1.1.0")]
    assert [(d.path, d.old, d.new) for d in diff.values] == [("replicas", "2", "3")]
    assert diff.text_changed == ()


def test_an_unparsable_terraform_file_is_a_text_change():
    before = Snapshot(files={"main.tf": "a = 1\n"})
    after = Snapshot(files={"main.tf": "a = {\n"})
    assert meaningful_diff(before, after).text_changed == ("main.tf",)


def test_a_bare_tag_is_an_image_change_in_reviews_and_drift():
    cfg = config()
    names = ("*.tfvars",)
    keys = keys_in(cfg, "dev", names)
    assert keys == {"*.tfvars": {"api_image_tag": API, "global.apiTag": API}}
    before = snapshot_of({"*.tfvars": TFVARS}, keys)
    after = snapshot_of({"*.tfvars": TFVARS.replace('"1.2.0" # bare', '"1.3.0" # bare')}, keys)
    diff = meaningful_diff(before, after)
    assert [(d.path, d.repository, d.old_tag, d.new_tag) for d in diff.images] == [
        ("api_image_tag", API, "1.2.0", "1.3.0")
    ]
    assert diff.values == ()
