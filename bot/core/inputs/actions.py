"""Check-run buttons: what each ``requested_action`` identifier means, as a command.

A check run on a promotion PR may offer buttons (GitHub allows three per check run); a click
arrives as a ``check_run`` ``requested_action`` event carrying the button's identifier. Each
button means the bare command on the PR it belongs to (``Hold()``: hold this PR's lane), exactly
as if the clicker had commented it, so the same permission rules apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.inputs.commands import Command, Drift, Hold, Promote, Rollback, Unhold


@dataclass(frozen=True)
class Action:
    identifier: str
    label: str
    description: str
    command: Command


ACTIONS: tuple[Action, ...] = (
    Action("promote", "Promote now", "Open or refresh this promotion", Promote()),
    Action("hold", "Hold", "Stop updating this PR until unhold", Hold()),
    Action("unhold", "Unhold", "Resume updating this PR", Unhold()),
    Action("rollback", "Roll back", "Open a PR back to the previous version", Rollback()),
    Action("drift", "Check drift", "Recompute the drift review comment", Drift()),
)
_BY_IDENTIFIER = {action.identifier: action for action in ACTIONS}


def command_of_action(identifier: str) -> Command | None:
    """The command a click on button ``identifier`` means on its PR, or None if unknown."""
    action = _BY_IDENTIFIER.get(identifier)
    return action.command if action else None
