"""The drift warnings a reviewer should see before merging a promotion PR.

Snapshots should hold the promoted app's files only: other apps in the same environment are
expected to differ from the previous environment and would drown the warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.core.markup.markdown import clean_text
from bot.core.promotion.gates import soak_check
from bot.core.promotion.model import Promotion, Snapshot
from bot.core.review.diff import YAML_SUFFIXES, meaningful_diff
from bot.core.review.secrets import SecretFinding, scan_change

_MAX_LISTED = 10

WarningKind = Literal[
    "environment-differs",
    "downgrade",
    "skipped-environment",
    "not-soaked",
    "branch-ahead",
    "plaintext-secret",
]


@dataclass(frozen=True)
class DriftWarning:
    kind: WarningKind
    message: str


def drift_warnings(
    *,
    promotions: Sequence[Promotion],
    target_before: Snapshot,
    target_after: Snapshot,
    previous_environment: str | None = None,
    previous: Snapshot | None = None,
    arrived_at: datetime | None = None,
    soak: timedelta | None = None,
    now: datetime | None = None,
    ahead: Sequence[str] = (),
) -> tuple[DriftWarning, ...]:
    """Everything a reviewer should know before merging a promotion PR.

    ``previous`` is the previous environment's snapshot, ``arrived_at`` when the version reached
    it, ``ahead`` the commits (``"abc1234 message"``) the target branch has that the previous
    environment's branch lacks and no promotion brought: hotfixes not brought back.
    """
    warnings = _secret_warnings(target_before, target_after)
    warnings += [
        DriftWarning("downgrade", f"{p.image} goes back from {p.from_tag} to {p.to_tag}")
        for p in promotions
        if p.change_kind == "downgrade"
    ]
    if previous_environment is None:
        return tuple(warnings)
    if previous is not None:
        warnings += _upstream_warnings(promotions, previous_environment, previous, target_after)
    if promotions and soak and now is not None:
        first = promotions[0]
        check = soak_check(
            first.environment,
            previous_environment,
            version=first.to_tag,
            arrived=arrived_at,
            soak=soak,
            now=now,
        )
        if not check.passed:
            warnings.append(DriftWarning("not-soaked", check.reason))
    if ahead:
        target = promotions[0].environment if promotions else "the target"
        shown = "; ".join(clean_text(c) for c in ahead[:_MAX_LISTED])
        more = f" and {len(ahead) - _MAX_LISTED} more" if len(ahead) > _MAX_LISTED else ""
        warnings.append(
            DriftWarning(
                "branch-ahead",
                f"{target} has {len(ahead)} commit(s) that {previous_environment} lacks, "
                f"brought by no promotion: {shown}{more}",
            )
        )
    return tuple(warnings)


def _secret_warnings(before: Snapshot, after: Snapshot) -> list[DriftWarning]:
    found: list[SecretFinding] = []
    for file, text in sorted(after.files.items()):
        old = before.files.get(file)
        if old != text and file.endswith(YAML_SUFFIXES):
            found += scan_change(old, text, file=file)
    return [
        DriftWarning("plaintext-secret", f"plaintext secret added: {f.describe()}") for f in found
    ]


def _upstream_warnings(
    promotions: Sequence[Promotion], previous_environment: str, previous: Snapshot, after: Snapshot
) -> list[DriftWarning]:
    warnings = [
        DriftWarning(
            "skipped-environment",
            f"{p.image} {p.to_tag} is not in {previous_environment}; "
            f"this promotion skips that environment",
        )
        for p in promotions
        if not any(
            _same_image(p.image, i.repository) and i.tag == p.to_tag for i in previous.images
        )
    ]
    differs = meaningful_diff(previous, after).locations()
    if differs:
        shown = ", ".join(differs[:_MAX_LISTED])
        more = f" and {len(differs) - _MAX_LISTED} more" if len(differs) > _MAX_LISTED else ""
        target = promotions[0].environment if promotions else "the target"
        warnings.append(
            DriftWarning(
                "environment-differs",
                f"{target} differs from {previous_environment} in more than this change: "
                f"{shown}{more}",
            )
        )
    return warnings


def _same_image(a: str, b: str) -> bool:
    """``ghcr.io/acme/api`` and ``acme/api`` name the same image when one ends the other."""
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)
