"""Who may give the bot a command: write access to the repository, then the environment's
``approvers`` (users and ``org/team``), checked every time with what GitHub says now.

The role comes from GitHub's collaborator permission endpoint (``role_name`` covers direct,
team, organisation and enterprise grants); a team counts only while the membership is
``active`` (an invitation still ``pending`` is not a membership). Holding is a safety action,
so write access is enough for ``/hold``; everything that moves an environment, or lifts a hold,
needs the target environment's approvers when it names any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.config.model import PromotionConfig

# role_name values that can push; a custom role falls back to its base ``permission``.
WRITE_ROLES = frozenset({"write", "maintain", "admin"})
# Commands that need only write access, whatever the environment's approvers.
WRITE_ONLY = frozenset({"hold", "drift", "help"})


@dataclass(frozen=True)
class Access:
    """What GitHub says about one person: their role on the repository and, for each team an
    environment names, whether they are an active member."""

    login: str
    role: str  # role_name: admin, maintain, write, triage, read, none or a custom role
    permission: str = ""  # the base permission: admin, write, read or none
    teams: Mapping[str, bool] | None = None  # "org/team" -> active member


def approvers_of(
    config: PromotionConfig, app: str | None, environment: str | None
) -> tuple[str, ...]:
    """Who may approve in ``environment``: its policy's approvers for ``app``; for the whole
    environment, anyone who may approve one of its apps."""
    if environment is None:
        return ()
    apps = (
        [app]
        if app is not None
        else [
            name
            for name in config.apps
            if environment in {e.name for e in config.environments_of(name)}
        ]
    )
    found = (a for name in apps for a in config.policy_for(name, environment).approvers)
    return tuple(dict.fromkeys(found))


def teams_to_ask(approvers: Sequence[str], login: str) -> tuple[str, ...]:
    """The ``org/team`` approvers whose membership must be read for ``login`` (none when the
    person is named directly)."""
    if any(a.lower() == login.lower() for a in approvers if "/" not in a):
        return ()
    return tuple(a for a in approvers if "/" in a)


def refusal(
    access: Access, *, command: str, repo: str, environment: str | None, approvers: Sequence[str]
) -> str | None:
    """Why ``access.login`` may not run ``command`` (plain text naming the rule), or ``None``."""
    writes = access.role in WRITE_ROLES or access.permission in {"write", "admin"}
    if not writes:
        return (
            f"/{command} needs write access to {repo}; "
            f"@{access.login} has {access.role or 'no'} access"
        )
    if command in WRITE_ONLY or not approvers or environment is None:
        return None
    if any("/" not in a and a.lower() == access.login.lower() for a in approvers):
        return None
    teams = access.teams or {}
    if any(teams.get(team, False) for team in approvers if "/" in team):
        return None
    names = " or ".join(f"@{a}" for a in approvers)
    return f"/{command} in {environment} needs approval from {names}; @{access.login} is not one"
