"""Container image references: the grammar of distribution/reference, normalised for matching.

A reference is ``[registry/]path[:tag][@digest]``. The first path component is a registry when
it contains ``.`` or ``:``, is ``localhost``, or holds an upper-case letter (the same rule as
``docker``). Parsing keeps what was written, so ``str(parse_image_ref(text)) == text``; the
``name`` property gives the normalised repository used for matching:

    nginx                    -> docker.io/library/nginx
    index.docker.io/acme/api -> docker.io/acme/api
    GHCR.io/acme/api         -> ghcr.io/acme/api
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
_DOCKER_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_MAX_NAME_LENGTH = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])"
_REGISTRY_RE = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_SHA256_RE = re.compile(r"sha256:[0-9a-f]{64}")


class ImageRefError(ValueError):
    """A text that is not a valid container image reference."""


@dataclass(frozen=True)
class ImageRef:
    """A parsed reference; ``registry`` is ``""`` when the text did not name one."""

    registry: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def written_name(self) -> str:
        """The repository as it was written (``nginx``, ``ghcr.io/acme/api``)."""
        return f"{self.registry}/{self.path}" if self.registry else self.path

    @property
    def domain(self) -> str:
        """The normalised registry host: lower case, Docker Hub aliases folded to docker.io."""
        host = self.registry.lower() or DEFAULT_REGISTRY
        return DEFAULT_REGISTRY if host in _DOCKER_ALIASES else host

    @property
    def name(self) -> str:
        """The normalised full repository name, the key for matching."""
        domain = self.domain
        path = self.path
        if domain == DEFAULT_REGISTRY and "/" not in path:
            path = f"library/{path}"
        return f"{domain}/{path}"

    def with_version(self, tag: str | None, digest: str | None) -> ImageRef:
        """The same repository, as written, with another tag and digest."""
        return ImageRef(self.registry, self.path, tag, digest)

    def __str__(self) -> str:
        text = self.written_name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def valid_tag(tag: str) -> bool:
    """Whether ``tag`` is a valid Docker tag (``[\\w][\\w.-]{0,127}``, ASCII only)."""
    return _TAG_RE.fullmatch(tag) is not None


def valid_digest(digest: str) -> bool:
    """Whether ``digest`` is ``algorithm:hex`` with a sha256 digest of exactly 64 hex digits."""
    if _DIGEST_RE.fullmatch(digest) is None:
        return False
    return not digest.startswith("sha256:") or _SHA256_RE.fullmatch(digest) is not None


def _split_registry(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    looks_like_host = "." in first or ":" in first or first == "localhost" or first != first.lower()
    if not sep or not looks_like_host:
        return "", name
    if _REGISTRY_RE.fullmatch(first) is None:
        raise ImageRefError(f"invalid registry in image reference registry={first!r}")
    return first, rest


def _check_path(path: str, text: str) -> None:
    for component in path.split("/"):
        if _PATH_COMPONENT_RE.fullmatch(component) is None:
            raise ImageRefError(
                f"invalid repository path component component={component!r} reference={text!r}"
            )


def _split_version(text: str) -> tuple[str, str | None, str | None]:
    rest, at, digest = text.partition("@")
    if at and not valid_digest(digest):
        raise ImageRefError(
            f"invalid digest in image reference digest={digest!r} reference={text!r}"
        )
    name, tag = rest, None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        name, tag = rest[:colon], rest[colon + 1 :]
        if not valid_tag(tag):
            raise ImageRefError(f"invalid tag in image reference tag={tag!r} reference={text!r}")
    return name, tag, digest if at else None


def parse_image_ref(text: str) -> ImageRef:
    """Parse ``[registry/]path[:tag][@digest]``; raise ImageRefError with the reason."""
    if not text or text != text.strip():
        raise ImageRefError(f"empty or space-padded image reference reference={text!r}")
    name, tag, digest = _split_version(text)
    if len(name) > _MAX_NAME_LENGTH:
        raise ImageRefError(f"image name longer than {_MAX_NAME_LENGTH} characters name={name!r}")
    registry, path = _split_registry(name)
    _check_path(path, text)
    return ImageRef(registry, path, tag, digest)


def same_repository(a: str | ImageRef, b: str | ImageRef) -> bool:
    """Whether two references name the same repository, however each is written."""
    left = a if isinstance(a, ImageRef) else parse_image_ref(a)
    right = b if isinstance(b, ImageRef) else parse_image_ref(b)
    return left.name == right.name
