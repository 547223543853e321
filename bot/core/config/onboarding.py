"""What onboarding proposes for a repository without a config: its environments and its apps.

Two steps, values in and values out, shared by ``promotion-bot init`` and the onboarding PR:

1. ``find_layout`` looks at names only (the default branch's file paths and the branch names),
   so the bot reads no file before it knows where environments are. A directory, a file or a
   branch is an environment when its name (a file's without its extension), or a word of it
   (separated by ``-``, ``_``, ``.`` or spaces), is one of ``ENVIRONMENT_WORDS``. Only files
   the bot reads count (YAML, and Terraform's ``.tf``/``.tfvars``): a directory with one under
   it, or one itself (``environments/dev.tfvars``, whose environment's ``path`` is that file).
   Only one set of siblings is taken: the parent with the most (then the shallowest, then the
   first by name). Branches count when there are at least two (the bot's own are none). The
   layout with more environments wins; a tie goes to directories.
2. ``propose`` takes the texts of the files the layout names (``wanted``) and keeps the
   environments holding an image reference; every image repository found becomes an app,
   limited to the environments it was found in. A bare tag in a Terraform file
   (``api_image_tag = "1.2.3"``) names no image: it makes no app, and is listed in
   ``bare_tags`` for the file to mention. The HCL reader is imported at the first such file,
   as ``bot.core.files.formats`` does, so a repository of YAML files pays nothing for it.

The promotion order is the rank of each name's word (dev, then test, then staging, then prod),
then the name itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.config.model import BRANCH_PATTERN
from bot.core.config.policy import NAME_PATTERN
from bot.core.files.formats import IMAGE_FILE_SUFFIXES, is_hcl, stem
from bot.core.files.images import ImageRefError, parse_image_ref
from bot.core.files.sites import split_tag
from bot.core.files.yamlnodes import YamlEditError
from bot.core.files.yamlscan import find_images

# Words that name an environment, by their place in the usual promotion order.
ENVIRONMENT_WORDS: Mapping[str, int] = {
    **dict.fromkeys(("dev", "develop", "development", "sandbox"), 0),
    **dict.fromkeys(("test", "testing", "qa", "int", "integration", "sit"), 1),
    **dict.fromkeys(("staging", "stage", "stg", "preprod", "uat", "preview"), 2),
    **dict.fromkeys(("prod", "production", "prd", "live"), 3),
}
# The repository's own settings never hold an environment (as in ``envfiles``).
SKIPPED_ROOT = ".github/"
MIN_BRANCHES = 2  # one env-like branch (a ``develop`` beside ``main``) is no layout
# The branch of the onboarding PR.
ONBOARDING_BRANCH = "promotion-bot/onboarding"
# The bot's own branches (``promotion/APP/ENV``, see ``bot.core.promotion.branches``, and the
# onboarding branch) hold no environment, whatever their last part says.
BOT_BRANCH_PREFIXES = ("promotion/", "promotion-bot/")
_SEPARATORS = re.compile(r"[-_.\s]")
_NAME = re.compile(NAME_PATTERN)
_BRANCH = re.compile(BRANCH_PATTERN)
_UNNAMEABLE = re.compile(r"[^A-Za-z0-9._-]+")
# The last key of a string that holds a bare tag, when its value is a valid tag.
_BARE_TAG_KEY = re.compile(r"(?i).*tag")

LayoutKind = Literal["directories", "branches"]


@dataclass(frozen=True)
class Place:
    """A would-be environment: ``path`` (``.``: the whole tree) on ``branch`` (``None``: the
    default branch); ``file`` when ``path`` names one file rather than a directory."""

    name: str
    path: str = "."
    branch: str | None = None
    file: bool = False


@dataclass(frozen=True)
class Layout:
    """Where the environments are, in promotion order."""

    kind: LayoutKind
    places: tuple[Place, ...]

    def wanted(self, place: Place, paths: Iterable[str]) -> tuple[str, ...]:
        """Of ``paths`` (every file of ``place``'s branch), the files of ``place`` the bot
        reads: the YAML and Terraform files under its directory, or its one file."""
        if place.file:
            return tuple(path for path in paths if path == place.path)
        prefix = "" if place.path == "." else place.path + "/"
        return tuple(
            sorted(
                path
                for path in paths
                if path.startswith(prefix) and _readable(path) and not path.startswith(SKIPPED_ROOT)
            )
        )


def _readable(path: str) -> bool:
    """Whether the bot reads ``path`` for images by default (YAML, ``.tf``, ``.tfvars``, and
    their JSON forms ``.tf.json``, ``.tfvars.json``)."""
    return path.endswith(IMAGE_FILE_SUFFIXES)


@dataclass(frozen=True)
class FoundApp:
    """An image found in the environments: its app name, the repository as people write it,
    the environments holding it (promotion order) and how many references there are."""

    name: str
    image: str
    environments: tuple[str, ...]
    references: int


@dataclass(frozen=True)
class BareTag:
    """A Terraform string holding a tag without its image (``api_image_tag = "1.2.3"``): its
    key as ``apps.NAME.tags`` would name it, and the environments holding it."""

    key: str
    environments: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    """The environments (those holding an image) and apps onboarding proposes; ``empty`` are
    the layout's places where no image was found, left out; ``bare_tags`` the tags found
    without an image, which no app promotes until the config names them."""

    layout: Layout
    environments: tuple[Place, ...]
    apps: tuple[FoundApp, ...]
    empty: tuple[str, ...] = ()
    bare_tags: tuple[BareTag, ...] = ()


def environment_rank(name: str) -> int | None:
    """The promotion rank of a directory or branch name, ``None`` when it names no environment."""
    words = [name.lower(), *_SEPARATORS.split(name.lower())]
    ranks = [ENVIRONMENT_WORDS[word] for word in words if word in ENVIRONMENT_WORDS]
    return ranks[0] if ranks else None


def find_layout(
    paths: Sequence[str], branches: Sequence[str], *, default_branch: str
) -> Layout | None:
    """The environments ``paths`` (every file of the default branch) and ``branches`` (every
    branch name) suggest, or ``None`` when no name looks like one."""
    directories = _directory_places(paths)
    by_branch = _branch_places(branches, default_branch)
    if len(by_branch) > len(directories):
        return Layout("branches", by_branch)
    return Layout("directories", directories) if directories else None


def _directory_places(paths: Sequence[str]) -> tuple[Place, ...]:
    """The environment directories and files of the chosen parent (each place by its path)."""
    groups: dict[str, dict[str, Place]] = {}
    for path in paths:
        if not _readable(path) or path.startswith(SKIPPED_ROOT):
            continue
        parts = path.split("/")
        for depth, name in enumerate(parts):
            last = depth == len(parts) - 1
            word = stem(name) if last else name  # a file's name without extension
            if environment_rank(word) is not None:
                parent = "/".join(parts[:depth]) or "."
                where = "/".join(parts[: depth + 1])
                place = Place(_name(word), where, file=last)
                groups.setdefault(parent, {})[where] = place
    if not groups:
        return ()

    def preference(parent: str) -> tuple[int, int, str]:
        depth = 0 if parent == "." else parent.count("/") + 1
        return (-len(groups[parent]), depth, parent)

    chosen = min(groups, key=preference)
    return _ordered(p for p in groups[chosen].values() if p.name)


def _branch_places(branches: Sequence[str], default_branch: str) -> tuple[Place, ...]:
    places = []
    for branch in branches:
        if branch.startswith(BOT_BRANCH_PREFIXES) or not _BRANCH.match(branch):
            continue  # the bot's own, or one a config cannot name
        name = _name(branch.rsplit("/", 1)[-1])
        if name and environment_rank(name) is not None:
            places.append(Place(name, ".", None if branch == default_branch else branch))
    found = _ordered(places)
    return found if len(found) >= MIN_BRANCHES else ()


def _ordered(places: Iterable[Place]) -> tuple[Place, ...]:
    """By rank then name; a name taken twice keeps its first place (by branch or path)."""
    unique: dict[str, Place] = {}
    for place in sorted(places, key=lambda p: (p.name, p.branch or "", p.path)):
        unique.setdefault(place.name.lower(), place)
    return tuple(sorted(unique.values(), key=lambda p: (environment_rank(p.name) or 0, p.name)))


def _name(text: str) -> str:
    """``text`` as a config name (letters, digits, ``.``, ``_``, ``-``), or ``""``."""
    name = _UNNAMEABLE.sub("-", text).strip("-.")[:63]
    return name if _NAME.match(name) else ""


def propose(layout: Layout, texts: Mapping[str, Mapping[str, str]]) -> Proposal:
    """The proposal for ``layout`` given ``texts`` (environment name -> path -> text). A file
    that does not parse (a Helm template) holds no image here."""
    counts: dict[str, Counter[str]] = {}
    bare: dict[str, list[str]] = {}
    for place in layout.places:
        found = _found(texts.get(place.name, {}))
        counts[place.name] = Counter(found.repositories)
        for key in dict.fromkeys(found.bare_tags):
            bare.setdefault(key, []).append(place.name)
    kept = tuple(p for p in layout.places if counts[p.name])
    empty = tuple(p.name for p in layout.places if not counts[p.name])
    repositories = sorted({repo for counted in counts.values() for repo in counted})
    names = _app_names(repositories)
    apps = [
        FoundApp(
            names[repo],
            familiar(repo),
            tuple(p.name for p in kept if counts[p.name][repo]),
            sum(counted[repo] for counted in counts.values()),
        )
        for repo in repositories
    ]
    bare_tags = tuple(BareTag(key, tuple(envs)) for key, envs in sorted(bare.items()))
    return Proposal(layout, kept, tuple(sorted(apps, key=lambda a: a.name)), empty, bare_tags)


@dataclass
class _Found:
    """What one environment's files hold: an image repository per reference, and the keys of
    bare tags (Terraform files only)."""

    repositories: list[str]
    bare_tags: list[str]


def _found(files: Mapping[str, str]) -> _Found:
    """What ``files`` (path -> text) hold; a file that does not parse holds nothing."""
    found = _Found([], [])
    for path in sorted(files):
        try:
            if is_hcl(path):
                repositories, bare_tags = _hcl_found(files[path], path)
                found.repositories += repositories
                found.bare_tags += bare_tags
            else:
                found.repositories += [o.repository for o in find_images(files[path], path)]
        except YamlEditError:  # HclEditError is one
            continue
    return found


def _hcl_found(text: str, path: str) -> tuple[list[str], list[str]]:
    """The image repositories of an HCL ``text`` (as ``find_images`` reads them), and the keys
    of the strings holding a tag no reference claims: a key ending in ``tag``
    (``api_image_tag``, ``services.api.tag``) whose value is a valid tag."""
    from bot.core.files.hclparse import parse_hcl  # noqa: PLC0415 (HCL waits for a .tf file)
    from bot.core.files.hclscan import key_of, scan_hcl  # noqa: PLC0415

    parsed = parse_hcl(text, path)
    sites = scan_hcl(parsed, {})
    claimed = {field.string.start for site in sites for field in site.fields}
    bare_tags = [
        key_of(string)
        for string in parsed.strings
        if string.start not in claimed
        and _BARE_TAG_KEY.fullmatch(key_of(string).rsplit(".", 1)[-1])
        and split_tag(string.value)[0] is not None
    ]
    return [site.ref.name for site in sites], bare_tags


def familiar(repository: str) -> str:
    """A normalised repository as people write it: ``docker.io/library/nginx`` is ``nginx``."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if repository.startswith(prefix) and not _looks_like_host(repository[len(prefix) :]):
            return repository[len(prefix) :]
    return repository


def _looks_like_host(rest: str) -> bool:
    """``docker.io/a.b/c`` cannot drop its prefix: ``a.b/c`` would read as a registry host."""
    try:
        return parse_image_ref(rest).registry != ""
    except ImageRefError:
        return True


def _app_names(repositories: Sequence[str]) -> dict[str, str]:
    """Each repository's app name: its last segment, or more of it when two would share one."""
    names: dict[str, str] = {}
    for depth in range(1, 4):
        wanted = {
            repo: _name("-".join(repo.split("/")[-depth:]))
            for repo in repositories
            if repo not in names
        }
        taken = Counter(name.lower() for name in [*wanted.values(), *names.values()])
        names |= {r: n for r, n in wanted.items() if n and taken[n.lower()] == 1}
    # Still shared (or unnameable): numbered, so every app keeps a name.
    for index, repo in enumerate(r for r in repositories if r not in names):
        names[repo] = f"app-{index + 1}"
    return names
