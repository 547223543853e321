"""Docker reference grammar, normalisation and matching."""

from __future__ import annotations

import pytest

from bot.core.files.images import (
    ImageRef,
    ImageRefError,
    parse_image_ref,
    same_repository,
    valid_digest,
    valid_tag,
)

SHA = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "path", "tag", "digest", "name"),
    [
        ("nginx", "", "nginx", None, None, "docker.io/library/nginx"),
        ("nginx:1.25", "", "nginx", "1.25", None, "docker.io/library/nginx"),
        ("bitnami/redis:8.2", "", "bitnami/redis", "8.2", None, "docker.io/bitnami/redis"),
        ("docker.io/nginx", "docker.io", "nginx", None, None, "docker.io/library/nginx"),
        (
            "index.docker.io/acme/api",
            "index.docker.io",
            "acme/api",
            None,
            None,
            "docker.io/acme/api",
        ),
        ("GHCR.io/acme/api:v1", "GHCR.io", "acme/api", "v1", None, "ghcr.io/acme/api"),
        ("ghcr.io/acme/api@" + SHA, "ghcr.io", "acme/api", None, SHA, "ghcr.io/acme/api"),
        ("ghcr.io/acme/api:1.0@" + SHA, "ghcr.io", "acme/api", "1.0", SHA, "ghcr.io/acme/api"),
        ("localhost/app", "localhost", "app", None, None, "localhost/app"),
        ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None, "localhost:5000/app"),
        (
            "10.42.0.1:30000/test-image:1.0.0",
            "10.42.0.1:30000",
            "test-image",
            "1.0.0",
            None,
            "10.42.0.1:30000/test-image",
        ),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None, "[::1]:5000/app"),
        (
            "us-central1-docker.pkg.dev/p/r/frontend:v0.10.6",
            "us-central1-docker.pkg.dev",
            "p/r/frontend",
            "v0.10.6",
            None,
            "us-central1-docker.pkg.dev/p/r/frontend",
        ),
        (
            "a/b__c/d-e.f_g:x_Y.z-1",
            "",
            "a/b__c/d-e.f_g",
            "x_Y.z-1",
            None,
            "docker.io/a/b__c/d-e.f_g",
        ),
    ],
)
def test_parse(text, registry, path, tag, digest, name):
    ref = parse_image_ref(text)
    assert ref == ImageRef(registry, path, tag, digest)
    assert ref.name == name
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" nginx", "space"),
        ("Nginx", "path component"),
        ("nginx:", "tag"),
        ("nginx:-bad", "tag"),
        ("nginx:" + "a" * 129, "tag"),
        ("nginx@sha256:abc", "digest"),
        ("nginx:1.0\nmalicious: x", "tag"),
        ("ghcr.io/acme//api", "path component"),
        ("ghcr.io/acme/api-", "path component"),
        ("-bad.io/acme/api", "registry"),
        ("{{ .Values.image }}", "path component"),
        ("a/" + "b" * 260, "longer than"),
    ],
)
def test_parse_errors(text, reason):
    with pytest.raises(ImageRefError, match=reason):
        parse_image_ref(text)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("ghcr.io/acme/api", "ghcr.io/acme/api:1.0", True),
        ("ghcr.io/acme/api", "GHCR.IO/acme/api@" + SHA, True),
        ("nginx", "docker.io/library/nginx:1", True),
        ("nginx", "index.docker.io/library/nginx", True),
        ("acme/api", "registry-1.docker.io/acme/api", True),
        ("ghcr.io/acme/api", "ghcr.io/acme/api2", False),
        ("ghcr.io/acme/api", "quay.io/acme/api", False),
        ("localhost:5000/app", "localhost/app", False),
    ],
)
def test_same_repository(a, b, same):
    assert same_repository(a, b) is same
    assert same_repository(parse_image_ref(b), a) is same


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("1.0", True),
        ("v1.2.3-rc.1", True),
        ("_x", True),
        ("latest", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("", False),
        (".1", False),
        ("-1", False),
        ("1.0\nx: y", False),
        ("1 0", False),
        ("é", False),
        ("1:0", False),
        ("1@sha", False),
    ],
)
def test_valid_tag(tag, ok):
    assert valid_tag(tag) is ok


@pytest.mark.parametrize(
    ("digest", "ok"),
    [
        (SHA, True),
        ("sha512:" + "ab" * 64, True),
        ("sha256:abc", False),
        ("sha256:" + "g" * 64, False),
        (SHA + "0", False),
        ("md5", False),
        ("", False),
    ],
)
def test_valid_digest(digest, ok):
    assert valid_digest(digest) is ok


def test_with_version_keeps_the_written_name():
    ref = parse_image_ref("nginx:1.0")
    assert str(ref.with_version("1.1", SHA)) == f"nginx:1.1@{SHA}"
    assert ref.written_name == "nginx"
    assert ref.name == "docker.io/library/nginx"
