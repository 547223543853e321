"""Byte-exact image edits: golden cases, the real corpus, refusals and generated YAML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.files.scalars import Span
from bot.core.files.yamledit import (
    Replacement,
    YamlEditError,
    apply_replacements,
    set_image,
    value_span,
)
from bot.core.files.yamlnodes import parse_yaml
from bot.core.files.yamlscan import find_images, scan_sites

DATA = Path(__file__).parent.parent / "data"
CORPUS = DATA / "yaml"
GOLDEN = DATA / "yamledit"
NEW_DIGEST = "sha256:" + "ab" * 32
BROKEN = "argo-cd.argocd-source-broken.yaml"


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def golden_cases() -> list[tuple[Path, str]]:
    return [
        (case, file.name)
        for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir())
        for file in sorted((case / "original").iterdir())
    ]


@pytest.mark.parametrize(("case", "name"), golden_cases(), ids=lambda v: getattr(v, "name", v))
def test_golden(case, name):
    args = json.loads((case / "args.json").read_text())
    result = set_image(read(case / "original" / name), file=name, **args)
    assert result.text.encode("utf-8") == (case / "expected" / name).read_bytes()
    assert result.changes


def assert_changed_only_inside(old: str, new: str, spans: list[Span]) -> None:
    """new == old with each span replaced by some one-line text, and nothing else changed."""
    pattern, cursor = "", 0
    for span in sorted(spans, key=lambda s: s.start):
        pattern += re.escape(old[cursor : span.start]) + r"[^\r\n]*?"
        cursor = span.end
    pattern += re.escape(old[cursor:])
    assert re.fullmatch(pattern, new, flags=re.DOTALL), "text changed outside the scalars"


def corpus_references() -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted(CORPUS.glob("*.yaml")):
        if path.name != BROKEN:
            rows += [(path.name, r.repository, r.path) for r in find_images(read(path))]
    return rows


@pytest.mark.parametrize(("name", "repository", "path"), corpus_references())
def test_every_corpus_reference_can_be_set(name, repository, path):
    text = read(CORPUS / name)
    parsed = parse_yaml(text, name)
    sites = [s for s in scan_sites(parsed) if s.ref.name == repository]
    pinned = any(s.ref.digest for s in sites)
    result = set_image(
        text, image=repository, tag="9.9.9-new", digest=NEW_DIGEST if pinned else None, file=name
    )
    assert path in {c.path for c in result.changes}
    spans = [value_span(parsed, f.node, f.key) for s in sites for f in s.fields]
    assert_changed_only_inside(text, result.text, spans)
    assert {c.path for c in result.changes} <= {f.path for s in sites for f in s.fields}
    again = [r for r in find_images(result.text) if r.repository == repository]
    assert {r.tag for r in again if r.tag is not None} <= {"9.9.9-new"}


def test_broken_corpus_file_is_refused():
    with pytest.raises(YamlEditError, match="parsing yaml failed"):
        set_image(read(CORPUS / BROKEN), image="quay.io/argoprojlabs/argocd-e2e-container", tag="1")


# The argo-cd file names no image (its chart's values.yaml does), so one is added; the real
# .argocd-source file with an image is urlshortener.argocd-source-frontend.yaml (SHAPES).
def test_numeric_looking_tag_stays_quoted_in_argocd_source():
    text = read(CORPUS / "argo-cd.argocd-source-helm-parameters.yaml") + (
        "    - name: image.name\n      value: ghcr.io/acme/api\n"
    )
    result = set_image(text, image="ghcr.io/acme/api", tag="0.3")
    assert "value: '0.3'" in result.text
    assert yaml.safe_load(result.text)["helm"]["parameters"][0]["value"] == "0.3"


def variants(text: str) -> list[str]:
    """The file as stored, with CRLF line ends, and without its final newline."""
    return [text, text.replace("\n", "\r\n"), text.rstrip("\n")]


# Real files for shapes the scanner once missed (issue 14): the repository set, its new tag, the
# new digest of a pinned reference (else None), and each line fragment the edit must rewrite
# (old, new); nothing else in the file may change.
SHAPES = [
    pytest.param(
        "kustomize-controller.overrides-images.yaml",
        "ghcr.io/stefanprodan/podinfo",
        "5.0.1",
        None,
        [("newTag: 5.0.0", "newTag: 5.0.1")],
        id="flux-kustomization-spec-images",
    ),
    pytest.param(
        "k8s-website.pod-image-volumes.yaml",
        "quay.io/crio/artifact",
        "v3",
        None,
        [('reference: "quay.io/crio/artifact:v2"', 'reference: "quay.io/crio/artifact:v3"')],
        id="image-volume-reference",
    ),
    pytest.param(
        "mybinder.binderhub-build-image.values.yaml",
        "docker.io/jupyter/repo2docker",
        "2024.07.0",
        None,
        [("repo2docker:9f081a2", "repo2docker:2024.07.0")],
        id="key-named-for-an-image",
    ),
    pytest.param(
        "cosmo.cdn.values.yaml",
        "ghcr.io/wundergraph/cosmo/cdn",
        "0.150.0",
        None,
        [('version: "latest"', 'version: "0.150.0"')],
        id="image-map-version-key",
    ),
    pytest.param(
        "urlshortener.url-read-helm-values.application.yaml",
        "docker.io/andreistefanciprian/urlshortener-url-read",
        "main-e4a1c2b7-1760159248",
        None,
        [("tag: main-d15fe005-1760072848", "tag: main-e4a1c2b7-1760159248")],
        id="argocd-helm-values-block-string",
    ),
    pytest.param(
        "urlshortener.argocd-source-frontend.yaml",
        "docker.io/andreistefanciprian/urlshortener-frontend",
        "v1.4.0",
        NEW_DIGEST,
        [
            (
                "latest@sha256:dbfcad371bd0be9e12279ac80426aa1014513434dc09f2e859db32d0e458a532",
                "v1.4.0@" + NEW_DIGEST,
            )
        ],
        id="argocd-source-helm-parameters",
    ),
    pytest.param(
        "nvidia-gpu-operator.values.yaml",
        "nvcr.io/nvidia/driver",
        "550.100.01",
        None,
        [('version: "550.90.07"', 'version: "550.100.01"')],
        id="repository-image-version-map",
    ),
]


@pytest.mark.parametrize(("name", "image", "tag", "digest", "rewrites"), SHAPES)
def test_issue_shapes_edit_only_the_tag(name, image, tag, digest, rewrites):
    for text in variants(read(CORPUS / name)):
        assert image in {r.repository for r in find_images(text)}
        expected = text
        for old, new in rewrites:
            assert expected.count(old) == 1
            expected = expected.replace(old, new)
        result = set_image(text, image=image, tag=tag, digest=digest, file=name)
        assert result.text == expected
        found = {(r.tag, r.digest) for r in find_images(result.text) if r.repository == image}
        assert found == {(tag, digest)}
        assert len(list(yaml.safe_load_all(result.text))) == len(list(yaml.safe_load_all(text)))


@pytest.mark.parametrize("text", variants(read(CORPUS / "nvidia-gpu-operator.values.yaml")))
def test_one_image_in_two_split_maps_is_set_in_both(text):
    # devicePlugin and gfd both run nvcr.io/nvidia/k8s-device-plugin; seven maps share the
    # repository nvcr.io/nvidia (four images with a version), and only these two name this one.
    result = set_image(text, image="nvcr.io/nvidia/k8s-device-plugin", tag="v0.17.0-ubi8")
    assert text.count("version: v0.16.1-ubi8") == 2
    assert result.text == text.replace("version: v0.16.1-ubi8", "version: v0.17.0-ubi8")
    assert [c.path for c in result.changes] == ["devicePlugin.version", "gfd.version"]


# Hand-written: no licensed public file with both a ":tag" and a ":digest" Flux marker on one image
# was found (the Flux docs show the shape with a shortened "sha256:ec0119..." digest).
MARKED = (
    "spec:\n  values:\n    image:\n"
    '      repository: ghcr.io/acme/api # {"$imagepolicy": "flux-system:api:name"}\n'
    '      tag: 1.0.0 # {"$imagepolicy": "flux-system:api:tag"}\n'
    "      digest: sha256:" + "cd" * 32 + ' # {"$imagepolicy": "flux-system:api:digest"}\n'
)


@pytest.mark.parametrize("text", variants(MARKED))
def test_flux_tag_and_digest_markers_move_together(text):
    [row] = find_images(text)
    assert (row.tag, row.digest) == ("1.0.0", "sha256:" + "cd" * 32)
    result = set_image(text, image="ghcr.io/acme/api", tag="1.1.0", digest=NEW_DIGEST)
    expected = text.replace("tag: 1.0.0", "tag: 1.1.0").replace("sha256:" + "cd" * 32, NEW_DIGEST)
    assert result.text == expected
    assert [(r.tag, r.digest) for r in find_images(result.text)] == [("1.1.0", NEW_DIGEST)]


NEW_NAME = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n"
    "- name: api\n  newName: ghcr.io/acme/api:1.2.3\n"
    "- name: web\n  newName: ghcr.io/acme/web@sha256:" + "cd" * 32 + "\n"
)


@pytest.mark.parametrize("text", variants(NEW_NAME))
def test_a_kustomize_new_name_with_a_version_is_edited_in_place(text):
    result = set_image(text, image="ghcr.io/acme/api", tag="1.3.0")
    assert result.text == text.replace("api:1.2.3", "api:1.3.0")
    result = set_image(text, image="ghcr.io/acme/web", tag="2.0", digest=NEW_DIGEST)
    assert result.text == text.replace("web@sha256:" + "cd" * 32, "web:2.0@" + NEW_DIGEST)
    written = yaml.safe_load(result.text)["images"][1]["newName"]
    assert written == "ghcr.io/acme/web:2.0@" + NEW_DIGEST


# cosmo.cdn.values.yaml is the real "version" image map (SHAPES); this one adds a "version" beside
# the image map, which is no tag of it.
VERSIONED = "app:\n  image:\n    repository: ghcr.io/acme/api\n    version: v1.4.2\n  version: 3\n"


@pytest.mark.parametrize("text", variants(VERSIONED))
def test_an_image_version_key_is_its_tag(text):
    result = set_image(text, image="ghcr.io/acme/api", tag="v1.5.0")
    assert result.text == text.replace("version: v1.4.2", "version: v1.5.0")
    assert yaml.safe_load(result.text)["app"] == {
        "image": {"repository": "ghcr.io/acme/api", "version": "v1.5.0"},
        "version": 3,
    }


# Hand-written: no licensed public values file that merges an anchored image map and sets its own
# tag was found.
MERGED = (
    "defaults:\n  image: &img\n    repository: ghcr.io/acme/api\n    tag: v1\n"
    "    pullPolicy: IfNotPresent\nworker:\n  image:\n    <<: *img\n    tag: v0.9\n"
    "other:\n  image: *img\n"
)


@pytest.mark.parametrize("text", variants(MERGED))
def test_a_merged_image_map_with_its_own_tag_is_set_with_its_anchor(text):
    assert [r.path for r in find_images(text)] == ["defaults.image.tag", "worker.image.tag"]
    result = set_image(text, image="ghcr.io/acme/api", tag="v2")
    assert result.text == text.replace("tag: v1", "tag: v2").replace("tag: v0.9", "tag: v2")
    assert {r.tag for r in find_images(result.text)} == {"v2"}


VALUES = "image:\n  repository: acme/api\n  tag: v1\n"


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (VALUES, {"tag": "1.0\nmalicious: x"}, "not a valid docker tag"),
        (VALUES, {"tag": "-1"}, "not a valid docker tag"),
        (VALUES, {"tag": ""}, "not a valid docker tag"),
        (VALUES, {"tag": "v2", "digest": "sha256:abc"}, "invalid digest"),
        (VALUES, {"tag": "v2", "image": "acme/api:v1"}, "without tag or digest"),
        (VALUES, {"tag": "v2", "image": "Acme/API"}, "invalid image"),
        (
            "image:\n  repository: acme/api\n  tag: v1\n  digest: " + NEW_DIGEST + "\n",
            {"tag": "v2"},
            "give the new digest",
        ),
        ("image: acme/api:v1@" + NEW_DIGEST + "\n", {"tag": "v2"}, "give the new digest"),
        (
            "a:\n  image: {repository: acme/api, tag: &t v1}\n"
            "b:\n  image: {repository: acme/web, tag: *t}\n",
            {"tag": "v2"},
            "ambiguous",
        ),
        ('image: "acme/api:\\\n  v1"\n', {"tag": "v2"}, "multi-line"),
        ("image:\n  repository: acme/api\n  tag: >-\n    v1\n", {"tag": "v2"}, "block"),
        ("image: [acme/api\n", {"tag": "v2"}, "parsing yaml failed"),
        ("image:\n  repository: acme/api\n  tag: !!int 41\n", {"tag": "v2"}, "read as the string"),
    ],
)
def test_refusals(text, kwargs, message):
    args = {"image": "acme/api", **kwargs}
    with pytest.raises(YamlEditError, match=message):
        set_image(text, **args)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image:\n  repository: acme/api\n  tag: !!str v1\n", "  tag: !!str v2\n"),
        ("image:\n  repository: acme/api\n  tag: 'it''s'\n", None),
        ("image:\n  repository: acme/api\n  tag: v2\n", None),
        ("image:\n  repository: acme/other\n  tag: v1\n", None),
        ("image: acme/api:v2@" + NEW_DIGEST + "\n", None),
        ("no: image here\n", None),
    ],
)
def test_edits_and_no_ops(text, expected):
    result = set_image(text, image="acme/api", tag="v2", digest=None if expected else NEW_DIGEST)
    if expected is None:
        assert result.text == text
        assert result.changes == ()
    else:
        assert result.text.endswith(expected)


TRICKY_TAGS = ["1.10", "41", "null", "true", "1e3", "0x1f", "2024-01-01", "y", "on", "0o17", "1_0"]
tags = st.one_of(
    st.sampled_from(TRICKY_TAGS), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
)
QUOTES = {"plain": "{}", "single": "'{}'", "double": '"{}"'}


@st.composite
def values_documents(draw):
    indent = " " * draw(st.sampled_from([2, 4]))
    quote = QUOTES[draw(st.sampled_from(sorted(QUOTES)))]
    comment = draw(st.sampled_from(["", " # the tag", "  #x"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    noise = draw(st.lists(st.sampled_from(["a: 1", "b: 'x # y'", "# c", "d: [1, 2]"]), max_size=3))
    lines = [*noise, "app:", f"{indent}image:", f"{indent * 2}repository: ghcr.io/acme/api"]
    lines.append(f"{indent * 2}tag: {quote.format('v1.0')}{comment}")
    lines += [f"{indent}other: {quote.format('v1.0')}", "list:", f"{indent}- image: nginx:1.0"]
    return newline.join(lines) + (newline if draw(st.booleans()) else "")


@settings(max_examples=60, deadline=None)
@given(text=values_documents(), tag=tags)
def test_generated_values_change_only_the_tag(text, tag):
    parsed = parse_yaml(text)
    [site] = [s for s in scan_sites(parsed) if s.ref.name == "ghcr.io/acme/api"]
    result = set_image(text, image="ghcr.io/acme/api", tag=tag)
    assert_changed_only_inside(text, result.text, [value_span(parsed, site.fields[0].node, None)])
    data = yaml.safe_load(result.text)
    assert data["app"]["image"]["tag"] == tag
    assert data["app"]["other"] == "v1.0"
    assert data["list"] == [{"image": "nginx:1.0"}]


@settings(max_examples=40, deadline=None)
@given(
    tag=tags,
    quote=st.sampled_from(sorted(QUOTES)),
    newline=st.sampled_from(["\n", "\r\n"]),
    final=st.booleans(),
)
def test_generated_containers_change_only_the_image(tag, quote, newline, final):
    image = QUOTES[quote].format("registry.local:5000/team/api:1.0")
    lines = ["kind: Deployment", "spec:", "  template:", "    spec:", "      containers:"]
    lines += ["      - name: api", f"        image: {image}  # keep", "      - name: side"]
    lines += ["        image: registry.local:5000/team/side:1.0"]
    text = newline.join(lines) + (newline if final else "")
    result = set_image(text, image="registry.local:5000/team/api", tag=tag)
    start = text.index(image)
    assert_changed_only_inside(text, result.text, [Span(start, start + len(image))])
    containers = yaml.safe_load(result.text)["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == f"registry.local:5000/team/api:{tag}"
    assert containers[1]["image"] == "registry.local:5000/team/side:1.0"


def test_two_values_for_one_scalar_are_refused():
    parsed = parse_yaml("tag: v1\n")
    [(_, mapping, _)] = parsed.nodes
    node = mapping.value[0][1]
    plan = [Replacement(node, "v2", "tag"), Replacement(node, "v3", "tag")]
    with pytest.raises(YamlEditError, match="two different values"):
        apply_replacements(parsed, plan)
