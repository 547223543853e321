"""Which reader a file gets: the one place that tells Terraform from YAML by the file's name.

``.tf`` and ``.tfvars`` files are HCL (``bot.core.files.hcledit``); every other file is YAML
(``bot.core.files.yamledit``), Terraform's JSON syntax (``.tf.json``, ``.tfvars.json``) too:
JSON is YAML. In a ``.tf.json`` file a bare tag variable's key (``api_image_tag``) also names its
``variable.api_image_tag.default``, as it names the ``default`` of its ``variable`` block in
HCL. The HCL modules are imported at the first HCL file, so the command line's start on YAML
files pays nothing for them. Both answer with the same values
(``ImageOccurrence``, ``EditResult``) and refuse with a ``YamlEditError`` (``HclEditError`` is
one), so planning, reviews, ``check-config`` and the command line never ask which format a file
is in.

``tag_keys`` are the keys the config names as holding a bare tag (``apps.NAME.tags``): to find,
key -> image; to edit, the keys of the image being set.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.files.tagkeys import keyed_occurrences, mentions, set_keyed_tags
from bot.core.files.yamledit import EditResult
from bot.core.files.yamledit import set_image as set_yaml_image
from bot.core.files.yamlnodes import PathPart
from bot.core.files.yamlscan import ImageOccurrence
from bot.core.files.yamlscan import find_images as find_yaml_images

YAML_SUFFIXES = (".yaml", ".yml")
HCL_SUFFIXES = (".tf", ".tfvars")
TERRAFORM_JSON_SUFFIXES = (".tf.json", ".tfvars.json")
# The files an environment is made of when no ``files`` glob says otherwise.
IMAGE_FILE_SUFFIXES = YAML_SUFFIXES + HCL_SUFFIXES + TERRAFORM_JSON_SUFFIXES

__all__ = [
    "HCL_SUFFIXES",
    "IMAGE_FILE_SUFFIXES",
    "find_images",
    "hcl_values",
    "is_hcl",
    "mentions",
    "set_image",
]


def is_hcl(file: str) -> bool:
    """Whether ``file`` is read as Terraform/OpenTofu HCL (by its name)."""
    return file.endswith(HCL_SUFFIXES)


def stem(name: str) -> str:
    """A file's name without the suffix that makes the bot read it (``dev`` of
    ``dev.tfvars.json``; the last suffix of any other name)."""
    suffix = next((s for s in IMAGE_FILE_SUFFIXES if name.endswith(s)), None)
    return name.removesuffix(suffix) if suffix else name.rsplit(".", 1)[0]


def _variable_defaults(file: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    """``keys``, and in a ``.tf.json`` file the ``variable.KEY.default`` of each plain key."""
    if not file.endswith(".tf.json"):
        return keys
    return keys + tuple(f"variable.{key}.default" for key in keys if "." not in key)


def find_images(
    text: str, file: str = "", *, tag_keys: Mapping[str, str] | None = None
) -> list[ImageOccurrence]:
    """Every image reference in ``text``, in file order; YamlEditError if it does not parse."""
    keys = tag_keys or {}
    if is_hcl(file):
        from bot.core.files.hclparse import parse_hcl  # noqa: PLC0415 (see the module's doc)
        from bot.core.files.hclscan import scan_hcl  # noqa: PLC0415

        sites = scan_hcl(parse_hcl(text, file), keys)
        return [
            ImageOccurrence(file, s.line, s.kind, s.ref.name, s.ref.tag, s.ref.digest, s.path)
            for s in sites
        ]
    found = find_yaml_images(text, file)
    if not keys:
        return found
    keys = {k: image for key, image in keys.items() for k in _variable_defaults(file, (key,))}
    claimed = {o.path for o in found}
    keyed = [o for o in keyed_occurrences(text, file, keys) if o.path not in claimed]
    return sorted([*found, *keyed], key=lambda o: (o.line, o.path))


def set_image(
    text: str,
    *,
    image: str,
    tag: str,
    digest: str | None = None,
    file: str = "",
    tag_keys: tuple[str, ...] = (),
) -> EditResult:
    """Set every reference to repository ``image`` in ``text``, and the bare tags at
    ``tag_keys``, to ``tag`` (and ``digest``), byte-exact."""
    if is_hcl(file):
        from bot.core.files.hcledit import set_hcl_image  # noqa: PLC0415 (see the module's doc)

        return set_hcl_image(
            text, image=image, tag=tag, digest=digest, file=file, tag_keys=tag_keys
        )
    result = set_yaml_image(text, image=image, tag=tag, digest=digest, file=file)
    keys = _variable_defaults(file, tag_keys)
    return set_keyed_tags(result, file=file, image=image, tag=tag, digest=digest, tag_keys=keys)


def hcl_values(text: str, file: str = "") -> dict[tuple[PathPart, ...], str]:
    """The plain strings of an HCL file by path (``("services", "api", "image")``), for
    comparing two versions of it as data rather than text."""
    from bot.core.files.hclparse import parse_hcl  # noqa: PLC0415 (see the module's doc)

    return {string.path: string.value for string in parse_hcl(text, file).strings}
