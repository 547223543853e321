"""Finding container image references in Terraform and OpenTofu files.

Rules, most specific first (a string claimed by one rule is not reported again by a later one):

1. ``tag-key``: a key the config names as holding a bare tag of an app's image
   (``apps.NAME.tags``): a variable set in a ``.tfvars`` file (``api_image_tag = "1.2.3"``),
   the ``default`` of its ``variable "api_image_tag"`` block, or a dotted path into objects
   (``image_tags.api``).
2. ``terraform`` maps: an object with ``repository``, ``image`` or ``image_repository`` (a
   repository), maybe ``registry``, and ``tag`` (or ``version``, ``image_tag``,
   ``image_version``), maybe ``digest``/``sha``, as Helm values have them; the top of a file
   and its ``variable`` blocks' defaults are such an object too.
3. ``terraform`` strings: ``image = "ghcr.io/acme/api:1.2.3"`` anywhere (at the top, in a
   block, in objects and lists, the ``default`` of ``variable "image"``), and keys named for an
   image (``worker_image``, ``image_uri``) when the value carries a tag or digest.

Values that are not valid references (templates, heredocs) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.core.files.hclparse import HclParsed, HclString
from bot.core.files.images import ImageRef
from bot.core.files.sites import Version, repository_ref, split_tag, with_version_of
from bot.core.files.yamlnodes import PathPart

_IMAGE_KEY_SUFFIXES = ("_image", "Image", "-image", "image_uri", "ImageUri")
_NAME_KEYS = ("repository", "image", "image_repository")
_TAG_KEYS = ("tag", "version", "image_tag", "image_version")
_DIGEST_KEYS = ("digest", "sha")


@dataclass(frozen=True)
class HclField:
    """One string of a site: ``ref`` (a whole reference), ``tag`` (maybe ``tag@digest``) or
    ``digest``."""

    role: str
    string: HclString


@dataclass(frozen=True)
class HclSite:
    """An image reference and the strings it is made of; ``fields[0]`` is the main one."""

    kind: str
    ref: ImageRef
    fields: tuple[HclField, ...]

    @property
    def path(self) -> str:
        return self.fields[0].string.where

    @property
    def line(self) -> int:
        return self.fields[0].string.line


def key_of(string: HclString) -> str:
    """The key a config names a string by: a variable's name for its ``default``, else its
    dotted path."""
    return str(string.path[1]) if _is_variable_default(string) else string.where


def _place(string: HclString) -> tuple[tuple[PathPart, ...], PathPart | None]:
    """(the object a string is in, the key it is held under); a variable's ``default`` is
    held under the variable's name, beside the file's other variables."""
    if _is_variable_default(string):
        return ("variable",), string.path[1]
    return string.path[:-1], string.path[-1] if string.path else None


def _is_variable_default(string: HclString) -> bool:
    path = string.path
    return len(path) == 3 and path[0] == "variable" and path[2] == "default"


def scan_hcl(parsed: HclParsed, tag_keys: Mapping[str, str]) -> list[HclSite]:
    """Every site of ``parsed``, in file order; ``tag_keys`` maps a key to the image whose
    bare tag it holds."""
    sites: list[HclSite] = []
    claimed: set[int] = set()
    for rule in (_tag_key_sites(parsed, tag_keys), _map_sites(parsed), _string_sites(parsed)):
        for site, strings in rule:
            if strings[0].start not in claimed:
                sites.append(site)
                claimed.update(s.start for s in strings)
    return sorted(sites, key=lambda s: s.fields[0].string.start)


Found = Iterator[tuple[HclSite, tuple[HclString, ...]]]


def _tag_key_sites(parsed: HclParsed, tag_keys: Mapping[str, str]) -> Found:
    for string in parsed.strings:
        image = tag_keys.get(key_of(string))
        site = None if image is None else _site("tag-key", image, (HclField("tag", string),))
        if site is not None:
            yield site, (string,)


def _map_sites(parsed: HclParsed) -> Found:
    groups: dict[tuple[PathPart, ...], dict[PathPart, HclString]] = {}
    for string in parsed.strings:
        parent, key = _place(string)
        if key is not None:
            groups.setdefault(parent, {})[key] = string
    for items in groups.values():
        name = next((items[k] for k in _NAME_KEYS if k in items), None)
        tag = next((items[k] for k in _TAG_KEYS if k in items), None)
        if name is None or tag is None:
            continue
        registry = items.get("registry")
        repository = f"{registry.value}/{name.value}" if registry else name.value
        fields = [HclField("tag", tag)]
        fields += [HclField("digest", items[k]) for k in _DIGEST_KEYS if k in items]
        site = _site("terraform", repository, tuple(fields))
        if site is not None:
            yield site, (tag, name, *(f.string for f in fields[1:]))


def _string_sites(parsed: HclParsed) -> Found:
    for string in parsed.strings:
        key = _place(string)[1]
        if not isinstance(key, str):
            continue
        if key != "image" and not key.endswith(_IMAGE_KEY_SUFFIXES):
            continue
        site = _site("terraform", string.value, (HclField("ref", string),), full=True)
        if site is not None and (key == "image" or site.ref.tag or site.ref.digest):
            yield site, (string,)


def _site(
    kind: str, repository: str, fields: tuple[HclField, ...], *, full: bool = False
) -> HclSite | None:
    """A site if the repository parses and every tag or digest string holds a valid one."""
    ref = repository_ref(repository, full=full)
    versions = ((f.role, _version(f)) for f in fields if f.role != "ref")
    versioned = None if ref is None else with_version_of(ref, versions)
    return None if versioned is None else HclSite(kind, versioned, fields)


def _version(field: HclField) -> Version | None:
    """A ``tag`` string's tag (maybe ``tag@digest``), ``None`` if it holds none; a digest."""
    if field.role == "digest":
        return None, field.string.value
    tag, digest = split_tag(field.string.value)
    return None if tag is None else (tag, digest)
