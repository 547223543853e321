"""Reading ``.github/promotion.yml``: text in, a checked ``PromotionConfig`` or located errors out.

The text is composed into a YAML node tree first: nodes keep their line and column, so a
pydantic error location such as ``("apps", "api", "policy", "prod", "soak")`` can be mapped back
to the line that holds it. Composing also lets us refuse hostile input before any Python object
is built: too many bytes, too many aliases, or a tree that expands past a node budget (the
"billion laughs" shape).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.core.config.check import Loc, resolve_policies, resolve_policy
from bot.core.config.fields import fields_at
from bot.core.config.model import BRANCH_PATTERN, REPO_PATTERN, PromotionConfig
from bot.core.config.policy import APPROVER_PATTERN, NAME_PATTERN, POLICY_REF_TAGS, Policy
from bot.core.config.windows import WINDOW_TAGS

DEFAULT_FILE = ".github/promotion.yml"
# What each pattern means, for messages people can act on.
_PATTERN_NAMES = {
    NAME_PATTERN: "a name: letters, digits, '.', '_' or '-', at most 63 characters",
    REPO_PATTERN: "a repository 'owner/name'",
    APPROVER_PATTERN: "a GitHub user or 'org/team' slug",
    BRANCH_PATTERN: "a branch name",
}
MAX_BYTES = 256 * 1024
MAX_ALIASES = 200
MAX_NODES = 50_000
# Union branch names pydantic puts into locations; they have no place in the YAML.
_TAGS = {**POLICY_REF_TAGS, **WINDOW_TAGS}
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class ConfigIssue:
    """One error, pointing at a place in the file."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}:{self.column}: {self.field or '(document)'}: {self.message}"
        )


class ConfigError(ValueError):
    """The configuration is invalid; ``errors`` lists every issue found."""

    def __init__(self, errors: Sequence[ConfigIssue]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(issue) for issue in self.errors))


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 base-60 numbers, so ``from: 16:00`` stays a string."""


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NUMBER_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _NUMBER_TAGS[0],
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    _NUMBER_TAGS[1],
    re.compile(
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


@dataclass(frozen=True)
class Document:
    """A composed YAML document and the file name used in issues."""

    file: str
    root: yaml.Node

    def issue(self, loc: Loc, message: str, *, at_key: bool = False) -> ConfigIssue:
        node, path = _find(self.root, loc, at_key=at_key)
        mark = node.start_mark
        return ConfigIssue(self.file, mark.line + 1, mark.column + 1, path, message)


def compose_document(text: str, file: str = DEFAULT_FILE) -> Document:
    """Compose ``text`` into a guarded node tree whose root is a mapping; ConfigError if not."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8")) > MAX_BYTES:
        raise _error(file, 1, 1, f"file too large: more than {MAX_BYTES} bytes")
    if text.count("*") > MAX_ALIASES and _alias_count(text) > MAX_ALIASES:
        raise _error(file, 1, 1, f"too many YAML aliases, limit {MAX_ALIASES}")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except RecursionError as err:
        raise _error(file, 1, 1, "YAML nested too deeply") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise _error(file, line, column, f"invalid YAML: {_yaml_reason(err)}") from err
    if root is None:
        raise _error(file, 1, 1, "the file is empty; it needs version, environments and apps")
    document = Document(file, root)
    problems = _shape_problems(root)
    if problems:
        raise ConfigError([document.issue(loc, message) for loc, message in problems])
    return document


def parse_config(
    text: str, *, file: str = DEFAULT_FILE, builtin: Mapping[str, Policy]
) -> PromotionConfig:
    """Parse and check a promotion config; ConfigError lists every located issue."""
    document = compose_document(text, file)
    config = _validate(document, PromotionConfig)
    resolution = resolve_policies(config, builtin)
    if resolution.problems:
        issues = [document.issue(problem.loc, problem.message) for problem in resolution.problems]
        raise ConfigError(_in_file_order(issues))
    return config.with_policies(resolution.effective)


def parse_policy(text: str, *, file: str, builtin: Mapping[str, Policy]) -> Policy:
    """Parse a policy file (the fields of one policy) and apply its ``use:``."""
    document = compose_document(text, file)
    spec = _validate(document, Policy)
    try:
        return resolve_policy(spec, builtin)
    except LookupError as err:
        raise ConfigError([document.issue(("use",), str(err.args[0]))]) from err


def _validate(document: Document, model: type[Model]) -> Model:
    data = _Loader("").construct_document(document.root)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        issues = [
            document.issue(
                error["loc"], _message(model, error), at_key=error["type"] == "extra_forbidden"
            )
            for error in err.errors()
        ]
        raise ConfigError(_in_file_order(issues)) from err


def _in_file_order(issues: Sequence[ConfigIssue]) -> list[ConfigIssue]:
    unique = dict.fromkeys(issues)
    return sorted(unique, key=lambda issue: (issue.line, issue.column))


def _message(model: type[BaseModel], error: ErrorDetails) -> str:
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if error["type"] == "extra_forbidden":
        allowed = fields_at(model, error["loc"][:-1], _TAGS)
        close = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        if close:
            return f"unknown field; did you mean {close[0]!r}?"
        return f"unknown field; expected one of: {', '.join(allowed)}"
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "string_pattern_mismatch":
        what = _PATTERN_NAMES.get(str(error.get("ctx", {}).get("pattern")), "the expected form")
        return f"{error['input']!r} is not {what}"
    if error["type"] == "tuple_type":
        return "Input should be a list"
    return error["msg"]


def _error(file: str, line: int, column: int, message: str) -> ConfigError:
    return ConfigError([ConfigIssue(file, line, column, "", message)])


def _yaml_reason(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None)
    return str(problem) if problem else str(err).splitlines()[0]


def _alias_count(text: str) -> int:
    try:
        return sum(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, _Loader))
    except yaml.YAMLError:
        return 0  # compose reports the syntax error with its line


def _shape_problems(root: yaml.Node) -> list[tuple[Loc, str]]:
    """Refuse a non-mapping root, recursive or exploding aliases, and duplicate keys."""
    if not isinstance(root, yaml.MappingNode):
        kind = "list" if isinstance(root, yaml.SequenceNode) else "single value"
        return [((), f"the file must be a mapping (version, environments, apps), not a {kind}")]
    try:
        size = _expanded_size(root, {}, set())
    except _RecursiveAliasError:
        return [((), "a YAML alias refers to its own anchor (recursive document)")]
    if size > MAX_NODES:
        return [((), f"document expands to more than {MAX_NODES} nodes (alias bomb?)")]
    problems: list[tuple[Loc, str]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if id(node) not in seen:  # an alias shares its anchor's node: check it once
            seen.add(id(node))
            stack.extend(_children(node, loc, problems))
    return problems


class _RecursiveAliasError(Exception):
    pass


def _expanded_size(node: yaml.Node, sizes: dict[int, int], active: set[int]) -> int:
    """Node count with every alias expanded, capped just above MAX_NODES; memoised by node."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        raise _RecursiveAliasError
    active.add(key)
    total = 1
    for child in _nodes_under(node):
        total = min(total + _expanded_size(child, sizes, active), MAX_NODES + 1)
    active.discard(key)
    sizes[key] = total
    return total


def _nodes_under(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _children(
    node: yaml.Node, loc: Loc, problems: list[tuple[Loc, str]]
) -> list[tuple[yaml.Node, Loc]]:
    if isinstance(node, yaml.SequenceNode):
        return [(child, (*loc, index)) for index, child in enumerate(node.value)]
    if not isinstance(node, yaml.MappingNode):
        return []
    children: list[tuple[yaml.Node, Loc]] = []
    keys: set[Any] = set()
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else f"<{key.tag}>"
        if name in keys and name != "<<":
            problems.append(((*loc, name), f"duplicate key {name!r}"))
        keys.add(name)
        children.append((value, (*loc, name)))
    return children


def _find(root: yaml.Node, loc: Loc, *, at_key: bool) -> tuple[yaml.Node, str]:
    """The node to point at for ``loc`` and the dotted field path; union tags are skipped.

    A scalar is pointed at itself; a mapping or list reached through a key at that key, whose
    line is the one people look for; a missing field at the key of the mapping that lacks it.
    """
    node: yaml.Node | None = root
    mark = root
    path: list[str] = []
    for part in loc:
        if part in _TAGS or part == "[key]":
            continue
        path.append(str(part))
        found = None if node is None else _child(node, part)
        if found is None:
            node = None  # not written in the file: keep the path, stay at the last mark
            continue
        key, node = found
        scalar = isinstance(node, yaml.ScalarNode) and not at_key
        mark = node if scalar or key is None else key
    return mark, ".".join(path)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node or None for a list item, value node) of ``part`` under ``node``."""
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return (None, node.value[part]) if 0 <= part < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for key, value in reversed(node.value):
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    return None
