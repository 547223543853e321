"""Finding container image references in YAML text, with the scalars that hold them.

Rules, most specific first (a scalar claimed by one rule is not reported again by a later one):

1. ``flux-setter`` and ``marker``: line-end marker comments (see ``bot.core.files.markers``); a
   tag and a digest marked for one policy in one mapping are one reference.
2. ``kustomize``: a document's top-level ``images:`` entries (``name``, ``newName``, ``newTag``,
   ``digest``), and the same entries under ``spec.images`` of a Flux ``Kustomization``
   (``kustomize.toolkit.fluxcd.io``); the image is ``newName`` when given, else ``name``. A
   ``newName`` with a tag or digest of its own and no ``newTag``/``digest`` is the reference.
3. ``argocd-kustomize``: ``kustomize.images`` strings (``[alias=]image:tag``) in an Argo CD
   Application or ``.argocd-source*.yaml``.
4. ``argocd-parameter``: ``helm.parameters`` pairs such as ``image.repository`` + ``image.tag``.
5. ``helm-values``: maps with ``repository``/``image`` (or ``name`` under an ``image:`` key),
   ``registry``, ``tag`` (or ``version``), ``digest``/``sha``; and ``image: repo:tag`` strings.
   The same rule covers Helm values files, Flux ``HelmRelease.spec.values`` and Argo CD
   ``valuesObject``. A map that merges an anchored image map (``<<: *img``) and sets its own
   ``tag`` is a reference of the anchor's repository too. A map whose ``image`` is a plain name
   beside a ``repository`` prefix (NVIDIA's charts: ``repository: nvcr.io/nvidia``,
   ``image: driver``, ``version: "550.90.07"``) is the one reference ``repository/image``.
   ``container`` is the kind for ``image`` strings in ``containers``, ``initContainers`` and
   ``ephemeralContainers`` items (any workload, CronJob included, in multi-document files).
   ``image-volume`` is the kind for ``volumes[].image.reference``. Keys named for an image
   (``sidecar_image``, ``inlineImage``) hold a whole reference when it has a tag or digest.
6. Argo CD ``helm.values`` literal block strings: the YAML inside is scanned by rules 1-5 and
   edited in place (``bot.core.files.embedded``); the paths run on below the key
   (``spec.source.helm.values.image.tag``).

Values that are not valid references (templates such as ``{{ .Values.tag }}``) are skipped, and
so are the documents of a multi-document file that do not parse (``yamlnodes.compose_roots``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.files.embedded import helm_values_sites
from bot.core.files.markers import marker_sites
from bot.core.files.sites import Field, ImageSite, kind_for_path, make_site, split_image_name
from bot.core.files.yamlnodes import (
    MERGE_KEY,
    Parsed,
    PathPart,
    format_path,
    mapping_items,
    mapping_value,
    merged_items,
    parse_yaml,
    scalar_value,
    walk_all,
)

_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_PRIMARY_DIGEST_KEYS = ("digest", "sha")
_IMAGE_KEY_SUFFIXES = ("_image", "Image", "-image")
# What an image map calls its tag, in order of preference (``repository`` + ``version`` maps).
_TAG_KEYS = ("tag", "version")
_API_KEYS = frozenset({"group", "kind"})


@dataclass(frozen=True)
class ImageOccurrence:
    """One image reference found in a file; ``repository`` is the normalised name."""

    file: str
    line: int
    kind: str
    repository: str
    tag: str | None
    digest: str | None
    path: str


def find_images(text: str, file: str = "") -> list[ImageOccurrence]:
    """Every image reference in ``text``, in file order; YamlEditError if it does not parse."""
    sites = scan_sites(parse_yaml(text, file))
    return [
        ImageOccurrence(file, s.line, s.kind, s.ref.name, s.ref.tag, s.ref.digest, s.path)
        for s in sorted(sites, key=lambda s: (s.line, s.path))
    ]


Rule = Callable[[Parsed], Iterator[ImageSite]]


def scan_sites(parsed: Parsed, rules: tuple[Rule, ...] | None = None) -> list[ImageSite]:
    """Sites from every rule; later rules skip scalars an earlier rule has claimed."""
    sites: list[ImageSite] = []
    claimed: set[int] = set()
    for rule in _RULES if rules is None else rules:
        found = [s for s in rule(parsed) if id(s.fields[0].node) not in claimed]
        sites.extend(found)
        claimed.update(id(f.node) for s in found for f in s.fields)
    return sites


def _kustomize_sites(parsed: Parsed) -> Iterator[ImageSite]:
    for doc, root in enumerate(parsed.roots):
        for where in _KUSTOMIZE_IMAGES:
            images = _kustomize_images(root, where)
            if images is None:
                continue
            for index, entry in enumerate(images.value):
                site = _kustomize_entry(entry, doc, (*where, index))
                if site is not None:
                    yield site


# Where a document keeps kustomize image entries, and the apiVersion group it must have there.
_KUSTOMIZE_IMAGES: dict[tuple[str, ...], str | None] = {
    ("images",): None,
    ("spec", "images"): "kustomize.toolkit.fluxcd.io/",
}


def _kustomize_images(root: Node, where: tuple[str, ...]) -> SequenceNode | None:
    group = _KUSTOMIZE_IMAGES[where]
    if group is not None and not (scalar_value(mapping_value(root, "apiVersion")) or "").startswith(
        group
    ):
        return None
    node: Node | None = root
    for key in where:
        node = mapping_value(node, key)
    return node if isinstance(node, SequenceNode) else None


def _kustomize_entry(entry: Node, doc: int, path: tuple[PathPart, ...]) -> ImageSite | None:
    items = mapping_items(entry)
    name = scalar_value(items.get("newName", items.get("name", (None, None)))[1])
    fields = _fields(items, doc, path, ("newTag", "tag"), ("digest", "digest"))
    if not name:
        return None
    if fields:
        return make_site("kustomize", name, fields)
    # Without newTag or digest, a newName that carries a tag or digest is the whole reference.
    new_name = items.get("newName", (None, None))[1]
    if not isinstance(new_name, ScalarNode):
        return None
    field = Field("ref", new_name, format_path((*path, "newName"), doc))
    site = make_site("kustomize", name, (field,), full=True)
    return site if site is not None and (site.ref.tag or site.ref.digest) else None


def _argocd_kustomize_sites(parsed: Parsed) -> Iterator[ImageSite]:
    if "kustomize" not in parsed.text:
        return
    for doc, node, path in walk_all(parsed):
        images = mapping_value(mapping_value(node, "kustomize"), "images")
        if not isinstance(images, SequenceNode):
            continue
        for index, item in enumerate(images.value):
            text = scalar_value(item)
            if text is None or not isinstance(item, ScalarNode):
                continue
            alias, _, written = text.rpartition("=")
            item_path = format_path((*path, "kustomize", "images", index), doc)
            field = Field("ref", item, item_path, prefix=f"{alias}=" if alias else "")
            site = make_site("argocd-kustomize", written, (field,), full=True)
            if site is not None:
                yield site


def _argocd_parameter_sites(parsed: Parsed) -> Iterator[ImageSite]:
    if "parameters" not in parsed.text:
        return
    for doc, node, path in walk_all(parsed):
        params = mapping_value(mapping_value(node, "helm"), "parameters")
        if not isinstance(params, SequenceNode):
            continue
        values: dict[str, tuple[ScalarNode, str]] = {}
        for index, item in enumerate(params.value):
            items = mapping_items(item)
            name = scalar_value(items.get("name", (None, None))[1])
            value = items.get("value", (None, None))[1]
            if name and isinstance(value, ScalarNode):
                item_path = format_path((*path, "helm", "parameters", index, "value"), doc)
                values[name] = (value, item_path)
        yield from _parameter_groups(values)


def _parameter_groups(values: dict[str, tuple[ScalarNode, str]]) -> Iterator[ImageSite]:
    for name, (node, path) in values.items():
        prefix, _, last = name.rpartition(".")
        if last != "tag":
            continue
        base = f"{prefix}." if prefix else ""
        repository = _parameter_repository(values, base)
        fields = [Field("tag", node, path)]
        if f"{base}digest" in values:
            digest_node, digest_path = values[f"{base}digest"]
            fields.append(Field("digest", digest_node, digest_path))
        if repository:
            site = make_site("argocd-parameter", repository, tuple(fields))
            if site is not None:
                yield site


def _parameter_repository(values: dict[str, tuple[ScalarNode, str]], base: str) -> str | None:
    for key in ("repository", "name", "image"):
        if f"{base}{key}" in values:
            repository = scalar_value(values[f"{base}{key}"][0])
            registry = scalar_value(values.get(f"{base}registry", (None, ""))[0])
            return f"{registry}/{repository}" if registry and repository else repository
    return None


def _helm_sites(parsed: Parsed) -> Iterator[ImageSite]:
    for doc, node, path in walk_all(parsed):
        if not isinstance(node, MappingNode):
            continue
        site = _helm_map(node, doc, path)
        if site is not None:
            yield site
            continue
        # The image of a split name is a name part, never a whole reference.
        own = mapping_items(node)
        split = split_image_name(merged_items(node) if MERGE_KEY in own else own) is not None
        for key, (_, value) in own.items():
            rule = None if split and key == "image" else _reference_key(key, path)
            if rule is None or not isinstance(value, ScalarNode):
                continue
            kind, needs_version = rule
            field = Field("ref", value, format_path((*path, key), doc))
            found = make_site(kind, scalar_value(value) or "", (field,), full=True)
            if found is not None and (found.ref.tag or found.ref.digest or not needs_version):
                yield found


def _reference_key(key: str, path: tuple[PathPart, ...]) -> tuple[str, bool] | None:
    """(kind, whether a tag or digest is required) for a key whose string is a whole reference.

    ``image`` anywhere; ``reference`` of an image volume (``volumes[i].image.reference``); and
    keys named for an image (``sidecar_image``, ``inlineImage``), which count only when the
    value carries a tag or digest (``enableImage: true`` is no reference).
    """
    if key == "image":
        return kind_for_path((*path, key), _CONTAINER_LISTS), False
    if key == "reference" and path and path[-1] == "image":
        return "image-volume", False
    if key.endswith(_IMAGE_KEY_SUFFIXES) and key not in _IMAGE_KEY_SUFFIXES:
        return "helm-values", True
    return None


def _helm_map(node: MappingNode, doc: int, path: tuple[PathPart, ...]) -> ImageSite | None:
    """A map of repository and tag; ``<<`` merges give it a repository, never the fields edited
    (a merged tag belongs to the anchor's own site)."""
    own = mapping_items(node)
    items = merged_items(node) if MERGE_KEY in own else own
    under_image = bool(path) and path[-1] == "image"
    name_keys = ("repository", "image", "name") if under_image else ("repository", "image")
    name_key = next((k for k in name_keys if k in items), None)
    # Beside ``group`` or ``kind``, ``version`` is an API version (a kustomize patch target's
    # ``group``/``version``/``kind``/``image``), not the tag of Wikimedia's ``image``/``version``.
    tag_keys = ("tag",) if _API_KEYS & items.keys() else _TAG_KEYS
    tag_key = next((k for k in tag_keys if k in own), "tag")
    if name_key is None or (tag_key not in items and not under_image):
        return None
    split = split_image_name(items)
    repository = split if split is not None else scalar_value(items[name_key][1])
    registry = scalar_value(items.get("registry", (None, None))[1])
    if not repository:
        return None
    full = f"{registry}/{repository}" if registry else repository
    digests = tuple(
        (k, "digest" if k in _PRIMARY_DIGEST_KEYS else "extra-digest")
        for k in own
        if k in _PRIMARY_DIGEST_KEYS or k.startswith("digest")
    )
    fields = _fields(own, doc, path, (tag_key, "tag"), *digests)
    return make_site("helm-values", full, fields) if fields else None


def _fields(
    items: dict[str, tuple[ScalarNode, Node]],
    doc: int,
    path: tuple[PathPart, ...],
    *wanted: tuple[str, str],
) -> tuple[Field, ...]:
    """Scalar fields present in a mapping, as (key, role) pairs; the tag field first."""
    fields = []
    for key, role in wanted:
        key_node, value = items.get(key, (None, None))
        if isinstance(value, ScalarNode):
            fields.append(Field(role, value, format_path((*path, key), doc), key_node))
    return tuple(fields)


def _helm_values_string_sites(parsed: Parsed) -> Iterator[ImageSite]:
    return helm_values_sites(parsed, lambda inner: scan_sites(inner, _RULES[:-1]))


_RULES: tuple[Rule, ...] = (
    marker_sites,
    _kustomize_sites,
    _argocd_kustomize_sites,
    _argocd_parameter_sites,
    _helm_sites,
    _helm_values_string_sites,
)
