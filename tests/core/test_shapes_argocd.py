"""Argo CD shapes (issue 14): ``helm.valuesObject``, ``helm.values`` block strings holding YAML
(scanned inside, edited inside byte for byte, indentation kept) and ``.argocd-source-<app>.yaml``
parameter files; each found, edited byte-exactly and re-parsed, as stored, with CRLF line ends
and without the final newline."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from yaml.nodes import ScalarNode

from bot.core.files.embedded import literal_block
from bot.core.files.yamledit import YamlEditError, set_image
from bot.core.files.yamlnodes import mapping_value, parse_yaml
from bot.core.files.yamlscan import find_images

CORPUS = Path(__file__).parent.parent / "data" / "yaml"
SHA = "sha256:" + "ab" * 32


def read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def variants(text: str) -> list[str]:
    """The file as stored, with CRLF line ends, and without its final newline."""
    return [text, text.replace("\n", "\r\n"), text.rstrip("\n")]


IDS = ["as-stored", "crlf", "no-eol"]

# A hand-written Application: no public file with a ``helm.values`` string holding an image and
# a licence that allows keeping it was found (the only ones seen were in unlicensed repositories).
VALUES_STRING = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: api
spec:
  source:
    chart: api
    helm:
      releaseName: api
      values: |
        image:
          repository: ghcr.io/acme/api
          tag: "1.4.2"  # the API

        sidecar:
          image: docker.io/envoyproxy/envoy:v1.31.0@sha256:{sha}
        replicaCount: 2
""".replace("{sha}", "cd" * 32)

# Real files, the repository set, its new tag, and each text the edit must rewrite (old, new,
# how often); nothing else in the file may change.
SHAPES = [
    pytest.param(
        "ray.raycluster-values-object.application.yaml",
        "docker.io/rayproject/ray",
        "2.40.0",
        [("tag: latest", "tag: 2.40.0", 3)],
        id="values-object",
    ),
    pytest.param(
        "argo-cd.argocd-source-testapp.yaml",
        "gcr.io/heptio-images/ks-guestbook-demo",
        "0.4",
        [("ks-guestbook-demo:0.3", "ks-guestbook-demo:0.4", 1)],
        id="argocd-source-app-kustomize-images",
    ),
]


@pytest.mark.parametrize(("name", "image", "tag", "rewrites"), SHAPES)
def test_real_argocd_files_edit_only_the_tag(name, image, tag, rewrites):
    for text in variants(read(name)):
        expected = text
        for old, new, count in rewrites:
            assert text.count(old) == count
            expected = expected.replace(old, new)
        result = set_image(text, image=image, tag=tag, file=name)
        assert result.text == expected
        assert {r.tag for r in find_images(result.text) if r.repository == image} == {tag}
        assert yaml.safe_load(result.text) is not None


def test_values_object_rows():
    rows = find_images(read("ray.raycluster-values-object.application.yaml"))
    groups = "spec.source.helm.valuesObject.additionalWorkerGroups"
    assert [(r.line, r.path) for r in rows] == [
        (29, "spec.source.helm.valuesObject.image.tag"),
        (57, f"{groups}.additional-worker-group1.image.tag"),
        (72, f"{groups}.additional-worker-group2.image.tag"),
    ]


@pytest.mark.parametrize("text", variants(VALUES_STRING), ids=IDS)
def test_a_values_string_is_scanned_inside(text):
    assert [(r.line, r.kind, r.repository, r.tag, r.path) for r in find_images(text)] == [
        (13, "helm-values", "ghcr.io/acme/api", "1.4.2", "spec.source.helm.values.image.tag"),
        (
            16,
            "helm-values",
            "docker.io/envoyproxy/envoy",
            "v1.31.0",
            "spec.source.helm.values.sidecar.image",
        ),
    ]


@pytest.mark.parametrize("text", variants(VALUES_STRING), ids=IDS)
def test_a_values_string_is_edited_inside_byte_for_byte(text):
    result = set_image(text, image="ghcr.io/acme/api", tag="1.5.0")
    assert result.text == text.replace('tag: "1.4.2"', 'tag: "1.5.0"')
    assert [(c.line, c.path, c.old, c.new) for c in result.changes] == [
        (13, "spec.source.helm.values.image.tag", "1.4.2", "1.5.0")
    ]
    values = yaml.safe_load(yaml.safe_load(result.text)["spec"]["source"]["helm"]["values"])
    assert values["image"] == {"repository": "ghcr.io/acme/api", "tag": "1.5.0"}
    envoy = "docker.io/envoyproxy/envoy"
    result = set_image(text, image=envoy, tag="v1.32.0", digest=SHA)
    old = "envoy:v1.31.0@sha256:" + "cd" * 32
    assert result.text == text.replace(old, f"envoy:v1.32.0@{SHA}")


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        pytest.param("values: >\n        image: ghcr.io/acme/api:1.4.2\n", "folded", id="folded"),
        pytest.param(
            "values: |2\n          image: ghcr.io/acme/api:1.4.2\n", "indicator", id="indicator"
        ),
        pytest.param(
            "values: |\n        image: {{ .Values.image }}\n        x: [\n",
            "not-yaml",
            id="template",
        ),
        pytest.param('values: "image: ghcr.io/acme/api:1.4.2"\n', "quoted", id="quoted-string"),
    ],
)
def test_values_strings_left_alone(block, reason):
    text = "spec:\n  source:\n    helm:\n      " + block
    assert find_images(text) == [], reason


def test_an_aliased_values_string_is_read_and_edited_once():
    text = "one:\n  helm:\n    values: &v |\n      image: nginx:1.0\n"
    text += "two:\n  helm:\n    values: *v\n"
    assert [r.path for r in find_images(text)] == ["one.helm.values.image"]
    assert set_image(text, image="nginx", tag="1.1").text == text.replace("1.0", "1.1")


def test_the_yaml_inside_a_values_string_is_verified_after_the_edit():
    # The block's new value is parsed again and compared node by node, as a file is.
    text = VALUES_STRING.replace('tag: "1.4.2"  # the API', "tag: !!int 41")
    with pytest.raises(YamlEditError, match="would not read as the string '42'"):
        set_image(text, image="ghcr.io/acme/api", tag="42")


def test_the_values_string_of_argo_cds_reference_application_maps_to_its_source():
    # Argo CD's reference Application holds a ``values: |`` block (no image in it): every
    # character of the block's value is found at its place in the file.
    text = read("argo-cd.application-reference.yaml")
    parsed = parse_yaml(text)
    helm = mapping_value(mapping_value(mapping_value(parsed.roots[0], "spec"), "source"), "helm")
    block = mapping_value(helm, "values")
    assert isinstance(block, ScalarNode)
    lines = literal_block(text, block, parsed.offset)
    assert lines is not None and block.value.startswith("ingress:\n")
    for index, char in enumerate(block.value):
        if char != "\n":
            assert text[lines.place(index)[0]] == char


# ``.argocd-source-<app>.yaml`` as Argo CD Image Updater writes it (``helm.parameters`` sorted by
# name, ``forcestring``). Hand-written: the public copies seen were in unlicensed repositories.
PARAMETERS = """\
helm:
  parameters:
  - name: image.repository
    value: gcr.io/heptio-images/ks-guestbook-demo
    forcestring: true
  - name: image.tag
    value: "0.2"
    forcestring: true
"""


@pytest.mark.parametrize("text", variants(PARAMETERS), ids=IDS)
def test_argocd_source_helm_parameters(text):
    [row] = find_images(text, ".argocd-source-guestbook.yaml")
    assert (row.kind, row.repository, row.tag, row.path) == (
        "argocd-parameter",
        "gcr.io/heptio-images/ks-guestbook-demo",
        "0.2",
        "helm.parameters[1].value",
    )
    result = set_image(text, image="gcr.io/heptio-images/ks-guestbook-demo", tag="0.3")
    assert result.text == text.replace('value: "0.2"', 'value: "0.3"')


def test_a_bare_tag_parameter_names_no_image():
    # Argo CD's own test file sets image.tag alone: the repository is in the chart's values.
    assert find_images(read("argo-cd.argocd-source-helm-parameters.yaml")) == []
