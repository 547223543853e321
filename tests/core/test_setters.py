"""Flux setter markers: the image-automation-controller golden trees, byte for byte.

Each case applies the policies its README lists to every file of ``original/`` and compares the
files that changed with ``expected/``; files with no change are not written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.core.files.setters import apply_setters
from bot.core.files.yamledit import YamlEditError, set_image

FLUX = Path(__file__).parent.parent / "data" / "flux-setters"
UPDATE = FLUX / "current" / "internal" / "update" / "testdata"
POLICY = FLUX / "current" / "internal" / "policy" / "testdata"
DIGEST = "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be"
SETTERS_POLICIES = {
    "automation-ns:policy": "index.repo.fake/updated:v1.0.1",
    "automation-ns:unchanged": "image:v1.0.0",
    "automation-ns:policy-with-digest": f"image:v1.0.0@{DIGEST}",
}


def is_manifest(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml") or path.name == "Kustomization"


def run_tree(root: Path, policies: dict[str, str], site: str | None = None) -> dict[str, bytes]:
    """The files that change, as Flux would write them; dangling symlinks are skipped."""
    written = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or not is_manifest(path):
            continue
        text = path.read_bytes().decode("utf-8")
        if site is not None:
            text = text.replace("SETTER_SITE", site)
        result = apply_setters(text, policies, path.name)
        if result.changes:
            written[path.relative_to(root).as_posix()] = result.text.encode("utf-8")
    return written


def tree(root: Path, site: str | None = None) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if site is not None:
                data = data.replace(b"SETTER_SITE", site.encode())
            files[path.relative_to(root).as_posix()] = data
    return files


def test_update_with_setters_matches_expected_tree(tmp_path):
    original = tmp_path / "original"
    shutil.copytree(UPDATE / "setters" / "original", original)
    (original / "test.yaml").symlink_to("testing.yaml")  # dangling on purpose
    assert run_tree(original, SETTERS_POLICIES) == tree(UPDATE / "setters" / "expected")


def test_update_with_setters_reports_changes():
    text = (UPDATE / "setters" / "original" / "kustomization.yml").read_text()
    changes = apply_setters(text, SETTERS_POLICIES, "kustomization.yml").changes
    assert [(c.line, c.path, c.old, c.new) for c in changes] == [
        (8, "images[0].newName", "replaced", "index.repo.fake/updated"),
        (9, "images[0].newTag", "v1", "v1.0.1"),
        (10, "images[0].newDigest", "sha256:1234567890abcdef", DIGEST),
        (28, "patches[0].target.image", "image", f"image:v1.0.0@{DIGEST}"),
    ]


def test_historical_2021_setters():
    base = FLUX / "historical" / "pkg-update-2021" / "pkg" / "update" / "testdata" / "setters"
    policies = {"automation-ns:policy": "updated:v1.0.1", "automation-ns:unchanged": "image:v1.0.0"}
    assert run_tree(base / "original", policies) == tree(base / "expected")


@pytest.mark.parametrize(
    "policies",
    [
        {"test-ns:policy2": "helloworld:1.0.1"},
        {
            "test-ns:policy1": "foo:1.1.1",
            "test-ns:policy2": "helloworld:1.0.1",
            "test-ns:policy3": "bar:2.2.2",
        },
    ],
)
@pytest.mark.parametrize(
    "base", [POLICY, FLUX / "current" / "internal" / "controller" / "testdata"]
)
def test_apply_policies_appconfig(base, policies):
    site = '{"$imagepolicy": "test-ns:policy2"}'
    result = run_tree(base / "appconfig", policies, site)
    assert result == tree(base / "appconfig-setters-expected", site)


def test_apply_policies_path_scoping():
    # The update path is ./yes: only that folder is given to the setter.
    site = '{"$imagepolicy": "test-ns:policy"}'
    policies = {"test-ns:policy": "helloworld:1.0.1"}
    written = run_tree(POLICY / "pathconfig" / "yes", policies, site)
    expected = tree(POLICY / "pathconfig-expected", site)
    assert written == {"deploy.yaml": expected["yes/deploy.yaml"]}
    assert tree(POLICY / "pathconfig", site)["no/deploy.yaml"] == expected["no/deploy.yaml"]


def test_historical_2023_full_reference_setter():
    base = FLUX / "historical" / "controllers-digest-2023" / "internal" / "controllers" / "testdata"
    site = '{"$imagepolicy": "ns:name"}'
    written = run_tree(base / "e2e", {"ns:name": "helloworld:1.0.1"}, site)
    expected = tree(base / "appconfig-setters-expected", site)
    assert written["deploy.yaml"] == expected["deploy.yaml"]


def test_digest_setter_writes_the_digest_only():
    text = 'image: helloworld:1.0.0 # {"$imagepolicy": "ns:name:digest"}\n'
    result = apply_setters(text, {"ns:name": f"helloworld:1.0.1@{DIGEST}"})
    assert result.text == f'image: {DIGEST} # {{"$imagepolicy": "ns:name:digest"}}\n'


@pytest.mark.parametrize(
    ("field", "selected", "message"),
    [
        ("tag", "helloworld", "has no tag"),
        ("digest", "helloworld:1.0.1", "has no digest"),
        ("", "not a ref!", "invalid image selected"),
    ],
)
def test_setter_refusals(field, selected, message):
    marker = "ns:p" + (f":{field}" if field else "")
    text = f'a: x # {{"$imagepolicy": "{marker}"}}\n'
    with pytest.raises(YamlEditError, match=message):
        apply_setters(text, {"ns:p": selected})


@pytest.mark.parametrize(
    "text",
    [
        "a: x\n",
        'a: x # {"$imagepolicy": "other:p"}\n',
        'a: x # {"$imagepolicy": broken json\n',
        'a: \'x # {"$imagepolicy": "ns:p"}\'\n',
    ],
)
def test_setters_left_alone(text):
    assert apply_setters(text, {"ns:p": "y:1"}).text == text


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
