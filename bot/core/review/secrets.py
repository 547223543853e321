"""Plaintext secrets in environment YAML: find them, say where, never say what.

A finding names the file, line, YAML path and the kind of secret only. The value never leaves
this module, not even a prefix, so a review comment cannot leak what it warns about.

Detected: Kubernetes ``Secret`` objects with ``data``/``stringData`` (``SealedSecret`` and
``ExternalSecret`` are encrypted or references, so they are skipped); keys such as
``password``/``token``/``apiKey`` with literal values; well-known token prefixes (``ghp_``,
``ghs_``, ``AKIA``, ``xoxb-``, ...); private-key PEM blocks; passwords in URLs; and long
high-entropy strings.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.core.promotion.model import YamlPath, dotted

FindingKind = Literal[
    "kubernetes-secret", "secret-key", "known-token", "private-key", "url-password", "high-entropy"
]

_SKIPPED_KINDS = frozenset({"SealedSecret", "ExternalSecret", "ClusterExternalSecret"})
# Longest first: the remainder before the suffix decides whether the key is a reference.
_SECRET_KEY_SUFFIXES = (
    "secretaccesskey", "credentials", "passphrase", "privatekey", "credential", "secretkey",
    "password", "apikey", "passwd", "secret", "token",
)  # fmt: skip
_SECRET_WORDS = ("password", "passwd", "secret", "token", "credential")
_PUBLIC_KEY_PARTS = ("cabundle", "cert", "crt", "pub", "digest", "checksum", "sha", "hash")
# Values that point at a secret elsewhere (templating, vault plugins, sops) are not plaintext.
_REFERENCE = re.compile(r"^\s*(\$\{|\{\{|\$\(|<path:|ref\+|vault:|ENC\[|secretref\+)")
_KNOWN_TOKEN = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,}|sk_live_[A-Za-z0-9]{16,}"
    r"|AIza[0-9A-Za-z_-]{35}"
)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
_ENTROPY_CHARSET = re.compile(r"[A-Za-z0-9+/=_-]{20,4096}")
_MAX_DEPTH = 64


@dataclass(frozen=True)
class SecretFinding:
    """Where a secret is and what kind it is; deliberately without the value."""

    file: str
    line: int
    path: str
    kind: FindingKind

    def describe(self) -> str:
        return f"{self.file}:{self.line} {self.path or '(document)'} ({self.kind})"


def scan_change(before: str | None, after: str, *, file: str) -> tuple[SecretFinding, ...]:
    """Secrets that ``after`` adds: new ones, and existing paths whose value changed."""
    old = {(f.path, f.kind, value) for f, value in _candidates(before or "", file)}
    return tuple(f for f, value in _candidates(after, file) if (f.path, f.kind, value) not in old)


def sensitive(path: YamlPath, value: object, *, document_kind: str | None = None) -> bool:
    """True when a parsed value at ``path`` must not be shown, e.g. in a diff comment: a
    Secret's data, an encrypted value (SOPS ``ENC[...]`` and its ``sops`` metadata, a
    SealedSecret's ``spec.encryptedData``) or a value that looks like a credential."""
    if document_kind == "Secret" and path[:1] in (("data",), ("stringData",)):
        return True
    if path[:1] == ("sops",) or path[:2] == ("spec", "encryptedData"):
        return True
    if isinstance(value, str) and value.startswith("ENC["):
        return True
    key = path[-1] if path and isinstance(path[-1], str) else ""
    return isinstance(value, str) and _classify(key, value) is not None


def _candidates(text: str, file: str) -> Iterator[tuple[SecretFinding, str]]:
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        yield from _line_candidates(text, file)
        return
    for root in documents:
        kind = _document_kind(root)
        if kind in _SKIPPED_KINDS:
            continue
        for path, node in _scalars(root, (), frozenset()):
            found = _classify_node(path, node, kind)
            if found is not None:
                line = node.start_mark.line + 1
                yield SecretFinding(file, line, dotted(path), found), node.value


def _line_candidates(text: str, file: str) -> Iterator[tuple[SecretFinding, str]]:
    """Unparsable YAML still gets the pattern checks, line by line."""
    for number, line in enumerate(text.splitlines(), start=1):
        found = _classify_content(line.strip())
        if found is not None and found != "high-entropy":
            yield SecretFinding(file, number, "", found), line


def _document_kind(root: Node | None) -> str | None:
    if not isinstance(root, MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "kind" and isinstance(value, ScalarNode):
            return str(value.value)
    return None


def _scalars(
    node: Node | None, path: YamlPath, seen: frozenset[int]
) -> Iterator[tuple[YamlPath, ScalarNode]]:
    # Aliases can make the node graph cyclic; "seen" holds the nodes on the current path.
    if node is None or id(node) in seen or len(path) > _MAX_DEPTH:
        return
    inner = seen | {id(node)}
    if isinstance(node, ScalarNode):
        yield path, node
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            label = key.value if isinstance(key, ScalarNode) else "?"
            yield from _scalars(value, (*path, str(label)), inner)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, (*path, index), inner)


def _classify_node(
    path: YamlPath, node: ScalarNode, document_kind: str | None
) -> FindingKind | None:
    if document_kind == "Secret" and len(path) == 2 and path[0] in ("data", "stringData"):
        return "kubernetes-secret"
    if node.tag != "tag:yaml.org,2002:str":
        return None  # booleans, numbers and nulls are settings, not secrets
    key = path[-1] if path and isinstance(path[-1], str) else ""
    return _classify(key, node.value)


def _classify(key: str, value: str) -> FindingKind | None:
    found = _classify_content(value)
    if found is not None:
        return found
    if _is_literal(value) and _is_secret_key(key):
        return "secret-key"
    if _is_high_entropy(value) and not _is_public_key(key):
        return "high-entropy"
    return None


def _classify_content(value: str) -> FindingKind | None:
    if _PRIVATE_KEY.search(value):
        return "private-key"
    if _KNOWN_TOKEN.search(value):
        return "known-token"
    if _URL_PASSWORD.search(value):
        return "url-password"
    return None


def _normal(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _is_secret_key(key: str) -> bool:
    """``password``, ``clientSecret``, ``apiKey``; not ``existingSecret`` or ``adminTokenSecret``.

    A key naming two secret words (``passwordSecretKey``, ``tokenSecret``) usually holds the name
    of a Secret or of a key inside one, which is a reference, not a value.
    """
    name = _normal(key)
    suffix = next((s for s in _SECRET_KEY_SUFFIXES if name.endswith(s)), None)
    if suffix is None or name.startswith("existing"):
        return False
    rest = name[: -len(suffix)]
    return not any(word in rest for word in _SECRET_WORDS)


def _is_public_key(key: str) -> bool:
    name = _normal(key)
    return any(part in name for part in _PUBLIC_KEY_PARTS)


def _is_literal(value: str) -> bool:
    stripped = value.strip()
    return len(set(stripped)) > 1 and not _REFERENCE.match(stripped)


def _is_high_entropy(value: str) -> bool:
    if not _ENTROPY_CHARSET.fullmatch(value):
        return False
    if not (re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"\d", value)):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 4.0
