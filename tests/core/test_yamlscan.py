"""Finding image references: the real corpus and one small case per rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.files.yamlnodes import MAX_INPUT_CHARS, YamlEditError
from bot.core.files.yamlscan import ImageOccurrence, find_images

CORPUS = Path(__file__).parent.parent / "data" / "yaml"
SHA = "sha256:" + "ab" * 32
BROKEN = "argo-cd.argocd-source-broken.yaml"


def read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


# How many references each corpus file holds (files with none are listed with 0).
COUNTS = {
    "alertmanager.values.yaml": 2,
    "argo-cd.application-reference.yaml": 2,
    "argo-cd.applicationset-reference.yaml": 0,
    "argo-cd.argocd-source-helm-parameters.yaml": 0,
    "argo-cd.argocd-source-kustomize-images.yaml": 1,
    "argo-cd.base.kustomization.yaml": 1,
    "argo-cd.cronjob.yaml": 1,
    "argo-cd.namespace-install.yaml": 10,
    "argo-cd.prometheus-cr-crlf.yaml": 1,
    "argo-cd.values.yaml": 7,
    "argo-workflows.values.yaml": 4,
    "argocd-image-updater.e2e-multi-images-deployment.yaml": 2,
    "bitnami-redis.values.yaml": 6,
    "bjw-s.karakeep.helmrelease.yaml": 3,
    "cert-manager.values.yaml": 0,
    "grafana.values.yaml": 6,
    "ingress-nginx.deploy-cloud.yaml": 3,
    "ingress-nginx.values.yaml": 3,
    "kube-prometheus-stack.values.yaml": 10,
    "k8s-website.pod-image-volumes.yaml": 2,
    "kubeflow.pipeline-env-dev.kustomization.yaml": 11,
    "kustomize-controller.overrides-images.yaml": 1,
    "microservices-demo.container-images-registry.kustomization.yaml": 0,
    "microservices-demo.kubernetes-manifests.yaml": 13,
    "mybinder.binderhub-build-image.values.yaml": 1,
    "nvidia-gpu-operator.values.yaml": 18,
    "onedr0p.ocirepository.yaml": 0,
}


@pytest.mark.parametrize(("name", "count"), sorted(COUNTS.items()))
def test_corpus_counts(name, count):
    assert len(find_images(read(name), name)) == count


@pytest.mark.parametrize(
    ("name", "line", "kind", "repository", "tag", "digest", "path"),
    [
        (
            "argo-cd.cronjob.yaml",
            26,
            "container",
            "docker.io/library/busybox",
            "1.28",
            None,
            "spec.jobTemplate.spec.template.spec.containers[0].image",
        ),
        (
            "argo-cd.namespace-install.yaml",
            1186,
            "container",
            "quay.io/argoproj/argocd",
            "latest",
            None,
            "[37].spec.template.spec.initContainers[0].image",
        ),
        (
            "argocd-image-updater.e2e-multi-images-deployment.yaml",
            19,
            "container",
            "10.42.0.1:30000/test-image",
            "1.0.0",
            None,
            "spec.template.spec.containers[0].image",
        ),
        (
            "ingress-nginx.values.yaml",
            33,
            "helm-values",
            "docker.io/ingress-nginx/controller",
            "v1.15.1",
            "sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1",
            "controller.image.tag",
        ),
        (
            "grafana-tempo-distributed.values.yaml",
            74,
            "helm-values",
            "docker.io/grafana/tempo",
            None,
            None,
            "tempo.image.tag",
        ),
        (
            "flux2-example.podinfo-helmrelease.yaml",
            27,
            "helm-values",
            "public.ecr.aws/docker/library/redis",
            "8.6.2",
            None,
            "spec.values.redis.tag",
        ),
        (
            "onedr0p.plex.helmrelease.yaml",
            21,
            "helm-values",
            "ghcr.io/home-operations/plex",
            "1.43.3.10896",
            "sha256:4f1d88882a9883cc525e7c84b22c67c57416b7d3b35c3412329eeb07786433a7",
            "spec.values.controllers.plex.containers.app.image.tag",
        ),
        (
            "kubeflow.tektoncd-dashboard.kustomization.yaml",
            15,
            "kustomize",
            "gcr.io/tekton-releases/github.com/tektoncd/dashboard/cmd/dashboard",
            None,
            "sha256:e36ec9efe78b4bb56a4b1c24d8241bee3a2b477aeef20ff864d1edef31953cd8",
            "images[0].digest",
        ),
        (
            "kustomize-controller.overrides-images.yaml",
            34,
            "kustomize",
            "ghcr.io/stefanprodan/podinfo",
            "5.0.0",
            None,
            "[2].spec.images[0].newTag",
        ),
        (
            "k8s-website.pod-image-volumes.yaml",
            24,
            "image-volume",
            "quay.io/crio/artifact",
            "v2",
            None,
            "spec.volumes[0].image.reference",
        ),
        (
            "mybinder.binderhub-build-image.values.yaml",
            30,
            "helm-values",
            "docker.io/jupyter/repo2docker",
            "9f081a2",
            None,
            "binderhub.config.BinderHub.build_image",
        ),
        (
            "nvidia-gpu-operator.values.yaml",
            146,
            "helm-values",
            "nvcr.io/nvidia/driver",
            "550.90.07",
            None,
            "driver.version",
        ),
        (
            "argo-cd.application-reference.yaml",
            131,
            "argocd-kustomize",
            "gcr.io/my-repo/my-app",
            "0.1",
            None,
            "spec.source.kustomize.images[1]",
        ),
        (
            "argo-cd.argocd-source-kustomize-images.yaml",
            3,
            "argocd-kustomize",
            "quay.io/argoprojlabs/argocd-e2e-container",
            "0.2",
            None,
            "kustomize.images[0]",
        ),
        (
            "kustomize.setters-old-format.deployment.yaml",
            15,
            "container",
            "docker.io/library/mysql",
            "1.7.9",
            None,
            "spec.template.spec.containers[0].image",
        ),
    ],
)
def test_corpus_rows(name, line, kind, repository, tag, digest, path):
    row = ImageOccurrence(name, line, kind, repository, tag, digest, path)
    assert row in find_images(read(name), name)


def test_commented_out_images_are_not_found():
    # cert-manager writes its tag and digest lines as comments only.
    assert find_images(read("cert-manager.values.yaml")) == []


def test_broken_file_gives_a_clear_error():
    with pytest.raises(YamlEditError, match=r"parsing yaml failed file='b.yaml'.*line=2"):
        find_images(read(BROKEN), "b.yaml")


def one(text: str) -> tuple[str, str, str | None, str | None, str]:
    [row] = find_images(text)
    return row.kind, row.repository, row.tag, row.digest, row.path


CASES = [
    pytest.param(
        "kind: Pod\nspec:\n  ephemeralContainers:\n  - name: d\n    image: busybox:1\n",
        ("container", "docker.io/library/busybox", "1", None, "spec.ephemeralContainers[0].image"),
        id="ephemeral-container",
    ),
    pytest.param(
        "app:\n  image:\n    registry: ghcr.io\n    name: acme/api\n    tag: '2'\n",
        ("helm-values", "ghcr.io/acme/api", "2", None, "app.image.tag"),
        id="name-under-image",
    ),
    pytest.param(
        'image: {repository: acme/api, tag: "1.0", digest: ' + SHA + "}\n",
        ("helm-values", "docker.io/acme/api", "1.0", SHA, "image.tag"),
        id="flow-map-with-digest",
    ),
    pytest.param(
        "x:\n  image: ghcr.io/acme/api:1.0@" + SHA + "\n",
        ("helm-values", "ghcr.io/acme/api", "1.0", SHA, "x.image"),
        id="image-string",
    ),
    pytest.param(
        "spec:\n  source:\n    helm:\n      parameters:\n      - name: image.name\n"
        "        value: ghcr.io/acme/api\n      - name: image.tag\n        value: '0.2'\n",
        (
            "argocd-parameter",
            "ghcr.io/acme/api",
            "0.2",
            None,
            "spec.source.helm.parameters[1].value",
        ),
        id="argocd-parameters",
    ),
    pytest.param(
        "helm:\n  parameters:\n  - {name: api.image.registry, value: ghcr.io}\n"
        "  - {name: api.image.repository, value: acme/api}\n"
        "  - {name: api.image.tag, value: v1}\n",
        ("argocd-parameter", "ghcr.io/acme/api", "v1", None, "helm.parameters[2].value"),
        id="argocd-source-parameters-with-registry",
    ),
    pytest.param(
        "version: 1.2.3 # promotion-bot: ghcr.io/acme/api:tag\n",
        ("marker", "ghcr.io/acme/api", "1.2.3", None, "version"),
        id="own-marker-tag",
    ),
    pytest.param(
        'env:\n- name: IMG\n  value: "ghcr.io/acme/api:1" # promotion-bot: ghcr.io/acme/api\n',
        ("marker", "ghcr.io/acme/api", "1", None, "env[0].value"),
        id="own-marker-ref",
    ),
    pytest.param(
        'a:\n  b: \'x:v1\' # {"$imagepolicy": "ns:p"}\n',
        ("flux-setter", "docker.io/library/x", "v1", None, "a.b"),
        id="flux-setter-full",
    ),
    pytest.param(
        'images:\n- name: app\n  newName: ghcr.io/acme/api # {"$imagepolicy": "ns:p:name"}\n'
        '  newTag: v1 # {"$imagepolicy": "ns:p:tag"}\n',
        ("flux-setter", "ghcr.io/acme/api", "v1", None, "images[0].newTag"),
        id="flux-setter-tag-takes-name-marker",
    ),
    pytest.param(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  images:\n"
        "  - name: app\n    newName: ghcr.io/acme/api\n    digest: " + SHA + "\n",
        ("kustomize", "ghcr.io/acme/api", None, SHA, "spec.images[0].digest"),
        id="flux-kustomization-digest",
    ),
    pytest.param(
        "spec:\n  volumes:\n  - name: models\n    image:\n"
        "      reference: ghcr.io/acme/models:1.0@" + SHA + "\n      pullPolicy: IfNotPresent\n",
        ("image-volume", "ghcr.io/acme/models", "1.0", SHA, "spec.volumes[0].image.reference"),
        id="image-volume-block",
    ),
    pytest.param(
        "spec:\n  inlineImage: ghcr.io/acme/tool@" + SHA + "\n",
        ("helm-values", "ghcr.io/acme/tool", None, SHA, "spec.inlineImage"),
        id="camel-case-image-key",
    ),
    pytest.param(
        'image:\n  repository: ghcr.io/acme/api # {"$imagepolicy": "ns:p:name"}\n'
        '  tag: v1 # {"$imagepolicy": "ns:p:tag"}\n'
        "  digest: " + SHA + ' # {"$imagepolicy": "ns:p:digest"}\n',
        ("flux-setter", "ghcr.io/acme/api", "v1", SHA, "image.tag"),
        id="flux-tag-and-digest-markers-are-one-reference",
    ),
    pytest.param(
        "a: &a {repository: acme/api}\nb: &b {registry: ghcr.io, repository: acme/web}\n"
        "x: {<<: [*b, *a], tag: v2}\n",
        ("helm-values", "ghcr.io/acme/web", "v2", None, "x.tag"),
        id="merged-list-with-own-tag",
    ),
    pytest.param(
        "images:\n- name: app\n  newName: ghcr.io/acme/api:1.2.3\n",
        ("kustomize", "ghcr.io/acme/api", "1.2.3", None, "images[0].newName"),
        id="kustomize-new-name-with-tag",
    ),
    pytest.param(
        "images:\n- name: app\n  newName: ghcr.io/acme/api@" + SHA + "\n",
        ("kustomize", "ghcr.io/acme/api", None, SHA, "images[0].newName"),
        id="kustomize-new-name-with-digest",
    ),
    pytest.param(
        "app:\n  image:\n    repository: ghcr.io/acme/api\n    version: v1.4.2\n",
        ("helm-values", "ghcr.io/acme/api", "v1.4.2", None, "app.image.version"),
        id="repository-and-version",
    ),
    pytest.param(
        # A kustomize patch target (Flux's setters testdata): ``version`` is the API version.
        "patches:\n- target:\n    group: apps\n    version: v1\n    kind: Deployment\n"
        "    image: app\n",
        ("helm-values", "docker.io/library/app", None, None, "patches[0].target.image"),
        id="image-beside-an-api-version",
    ),
    pytest.param(
        # Wikimedia's chart scaffold names the tag ``version`` beside a plain ``image``.
        "main_app:\n  image: wikimedia/mathoid\n  version: 2023-06-14-081500-production\n",
        (
            "helm-values",
            "docker.io/wikimedia/mathoid",
            "2023-06-14-081500-production",
            None,
            "main_app.version",
        ),
        id="image-and-version",
    ),
    pytest.param(
        "\ufeffimage:\r\n  repository: acme/api\r\n  tag: v1\r\n",
        ("helm-values", "docker.io/acme/api", "v1", None, "image.tag"),
        id="bom-crlf",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rules(text, expected):
    assert one(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("image:\n  repository: '{{ .Values.repo }}'\n  tag: v1\n", id="template-repo"),
        pytest.param(
            "image:\n  repository: acme/api\n  tag: '{{ .Chart.AppVersion }}'\n", id="template-tag"
        ),
        pytest.param('image: "{{ .Values.image }}"\n', id="template-string"),
        pytest.param("name: app\ntag: v1\n", id="name-and-tag-not-under-image"),
        pytest.param("# image: nginx:1.0\nx: 1\n", id="comment-only"),
        pytest.param("note: |\n  image: nginx:1.0\n", id="inside-block-scalar"),
        pytest.param("images:\n- name: app\n  newName: ghcr.io/acme/api\n", id="kustomize-no-tag"),
        pytest.param('v: 1 # {"$imagepolicy": "ns:p:tag"}\n', id="flux-tag-without-name"),
        pytest.param(
            "apiVersion: content.hauler.cattle.io/v1\nkind: Images\nspec:\n  images:\n"
            "  - name: app\n    newTag: v1\n",
            id="spec-images-not-flux",
        ),
        pytest.param(
            "images:\n- name: app\n  newName: ghcr.io/acme/api:1\n  newTag: '2'\n",
            id="kustomize-new-name-with-tag-and-new-tag",
        ),
        pytest.param(
            "dependencies:\n- name: redis\n  version: 17.3.0\n"
            "  repository: https://charts.bitnami.com/bitnami\n",
            id="chart-dependency-version",
        ),
        pytest.param("enableImage: true\nbaseImage: ubuntu\n", id="image-key-without-version"),
        pytest.param("", id="empty"),
    ],
)
def test_not_references(text):
    assert find_images(text) == []


# NVIDIA's charts split an image name in two: repository (a prefix) + image (a plain name).
SPLIT = "d:\n  repository: nvcr.io/nvidia\n  image: driver\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            SPLIT + "  version: 550.90.07\n",
            [("nvcr.io/nvidia/driver", "550.90.07", None, "d.version")],
            id="plain",
        ),
        pytest.param(
            SPLIT + '  version: "550.90.07"\n',
            [("nvcr.io/nvidia/driver", "550.90.07", None, "d.version")],
            id="quoted",
        ),
        pytest.param(
            SPLIT + "  tag: '1.0'\n",
            [("nvcr.io/nvidia/driver", "1.0", None, "d.tag")],
            id="tag-key",
        ),
        pytest.param(
            SPLIT + "  version: v1\n  digest: " + SHA + "\n",
            [("nvcr.io/nvidia/driver", "v1", SHA, "d.version")],
            id="digest",
        ),
        pytest.param(
            "d:\n  registry: nvcr.io\n  repository: nvidia\n  image: driver\n  version: v1\n",
            [("nvcr.io/nvidia/driver", "v1", None, "d.version")],
            id="registry-repository-image",
        ),
        pytest.param(
            "d:\n  repository: nvcr.io\n  image: nvidia/driver\n  version: v1\n",
            [("nvcr.io/nvidia/driver", "v1", None, "d.version")],
            id="image-with-a-path",
        ),
        # No tag scalar to set (the chart falls back to its appVersion), and the image alone
        # is no reference (it was docker.io/library/driver).
        pytest.param(SPLIT + '  #version: ""\n', [], id="version-commented-out"),
        pytest.param(
            'd:\n  repository: ""\n  image: driver\n  version: ""\n', [], id="empty-repository"
        ),
        pytest.param(
            "d:\n  repository:\n  image: driver\n  version: v1\n", [], id="null-repository"
        ),
        pytest.param(
            "d:\n  repository: '{{ .Values.registry }}'\n  image: driver\n  version: v1\n",
            [],
            id="template-repository",
        ),
        pytest.param(
            "d:\n  repository: nvcr.io/nvidia\n  image: nvcr.io/nvidia/driver:550.90.07\n",
            [("nvcr.io/nvidia/driver", "550.90.07", None, "d.image")],
            id="image-is-a-full-reference",
        ),
        pytest.param(
            "a:\n  repository: nvcr.io/nvidia\n  image: driver\n  version: '1'\n"
            "b:\n  repository: nvcr.io/nvidia\n  image: cuda\n  version: '2'\n",
            [
                ("nvcr.io/nvidia/driver", "1", None, "a.version"),
                ("nvcr.io/nvidia/cuda", "2", None, "b.version"),
            ],
            id="shared-repository",
        ),
    ],
)
def test_repository_and_image_name_one_reference(text, expected):
    rows = [(r.repository, r.tag, r.digest, r.path) for r in find_images(text)]
    assert rows == expected


def test_anchored_image_block_is_reported_once():
    text = "image: &img\n  repository: acme/api\n  tag: v1\nworker:\n  image: *img\n"
    assert [r.path for r in find_images(text)] == ["image.tag"]


def test_alias_bomb_is_not_expanded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    lines.append("image: nginx:1.0")
    assert len(find_images("\n".join(lines) + "\n")) == 1


def test_size_cap():
    with pytest.raises(YamlEditError, match="limit="):
        find_images("a: b\n" * (MAX_INPUT_CHARS // 5 + 1), "big.yaml")
