"""How the bot answers a command: a reaction on the comment and a reply that says what happened.

Replies are Markdown in which every user-given value was escaped by whoever built the message;
a reply to a button press (no comment to react to) names the person without pinging them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.config.model import PromotionConfig
from bot.core.inputs.help_text import render_help
from bot.core.markup.markdown import escape_md
from bot.core.markup.metadata import extract
from bot.core.promotion.access import approvers_of
from bot.core.promotion.branches import parse_branch
from bot.services.proposals import Outcome
from bot.services.workspace import Workspace

if TYPE_CHECKING:
    from bot.services.commands import Asked


class Refused(Exception):
    """A command that cannot be carried out; the message names the rule (plain text)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    """What a command came to: ``done`` (``rocket``) or refused (``confused``), and the reply."""

    done: bool
    message: str  # Markdown, user input in it escaped


async def answer(ws: Workspace, asked: Asked, result: Answer) -> None:
    """React to the comment (if any) and reply on its issue or PR."""
    who = f"@{asked.login}" if asked.comment_id is not None else f"{escape_md(asked.login)}'s click"
    await ws.gh.comments.create(asked.repo, asked.number, f"{who}: {result.message}")
    if asked.comment_id is not None:
        await ws.gh.comments.react(
            asked.repo, asked.comment_id, "rocket" if result.done else "confused"
        )


def done(outcome: Outcome) -> Answer:
    """The reply for an opened or updated promotion PR."""
    return Answer(
        True,
        f"{outcome.action.capitalize()} #{outcome.number}: {escape_md(outcome.app)} to "
        f"{escape_md(outcome.environment or '')} ({escape_md(outcome.reason, limit=300)}).",
    )


async def lane_of(ws: Workspace, asked: Asked) -> tuple[str, str] | None:
    """``(app, environment)`` of the bot's promotion PR the command was given on, if it is one."""
    pull = await ws.gh.pulls.get(asked.repo, asked.number)
    meta = extract(pull.body) if pull.by_bot else None
    if meta is None or meta.kind != "promotion-pr":
        return None
    parsed = parse_branch(pull.head_ref)
    return parsed if parsed == (meta.app, meta.environment) else None


def help_text(config: PromotionConfig) -> str:
    """``/help`` for this repository: the commands and who may use them in each environment."""
    rules = []
    for env in config.environments:
        names = approvers_of(config, None, env.name)
        who = " or ".join(f"@{n}" for n in names) if names else "anyone with write access"
        rules.append(f"{env.name}: {who}")
    moving = "write access; approvers per environment: " + "; ".join(rules)
    notes = {
        "promote": moving,
        "rollback": moving,
        "unhold": moving,
        "hold": "write access",
        "drift": "write access",
    }
    return render_help(notes)
