"""The onboarding proposal as text: the commented ``.github/promotion.yml`` and the PR body.

The file is written with ruamel.yaml, which writes comments: each says where a value came from
(how the environments were found, where each image was, which bare tags no app promotes yet),
so the first config a team reads explains itself. The PR body says what the file says and what
merging or closing the PR does, and ends with hidden metadata (kind ``onboarding``) by which the
bot finds its PR again.
"""

from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.core.config.onboarding import (
    ENVIRONMENT_WORDS,
    FoundApp,
    Place,
    Proposal,
    environment_rank,
)
from bot.core.markup.markdown import Section, assemble, escape_md
from bot.core.markup.metadata import Meta, embed

ONBOARDING_TITLE = "Configure Promotion Bot"
# The last environment, when its name ranks as prod, gets this built-in policy.
PROD_POLICY = "prod-safe"
PROD_POLICY_NOTE = "Minor and patch updates after a 24h soak, PR opened on a /promote command."
_PROD_RANK = max(ENVIRONMENT_WORDS.values())
# Before the keys of bare tags found (``Proposal.bare_tags``), one a line, at most
# ``_BARE_TAGS_LISTED`` of them.
_BARE_TAGS_NOTE = "Bare tags found, naming no image; list one in an app's `tags` to promote it:"
_BARE_TAGS_LISTED = 10


def prod_policy(proposal: Proposal) -> str | None:
    """The policy the last environment gets: ``prod-safe`` when its name ranks as prod."""
    last = proposal.environments[-1].name
    return PROD_POLICY if environment_rank(last) == _PROD_RANK else None


def render_config(proposal: Proposal) -> str:
    """The commented config file for ``proposal`` (which holds at least one environment)."""
    document = CommentedMap()
    document["version"] = 1
    document["environments"] = _environments(proposal)
    document["apps"] = _apps(proposal)
    document.yaml_set_start_comment("\n".join(_header(proposal)))
    document.yaml_set_comment_before_after_key(
        "environments", before="\nPromotion order: first to last."
    )
    document.yaml_set_comment_before_after_key(
        "apps",
        before="\nOne app per image found; add `source: OWNER/NAME` to promote on its git tags.",
    )
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    out = _Written()
    yaml.dump(document, out)
    return out.decode("utf-8")


class _Written(bytearray):
    """Where ruamel writes its UTF-8 bytes: memory (the core opens no stream)."""

    def write(self, piece: bytes) -> None:
        self.extend(piece)


def _how(proposal: Proposal) -> str:
    """How the environments were found: ``directories``, ``files`` or both of one branch, or
    branches."""
    if proposal.layout.kind == "branches":
        return "branches of this repository"
    kinds = {"files" if place.file else "directories" for place in proposal.environments}
    return f"{' and '.join(sorted(kinds))} of one branch"


def _header(proposal: Proposal) -> list[str]:
    how = _how(proposal)
    lines = [
        "Promotion Bot configuration, written by promotion-bot init from what this repository",
        "holds; edit it freely (reference: docs/configuration.md of Promotion Bot).",
        f"Environments: {how} named like dev, test, staging or prod, in that order",
        "(then by name); each found holding image references.",
    ]
    if proposal.empty:
        lines.append(f"Left out, no image reference found: {', '.join(proposal.empty)}.")
    if proposal.bare_tags:
        listed = proposal.bare_tags[:_BARE_TAGS_LISTED]
        lines.append(_BARE_TAGS_NOTE)
        lines += [f"  {tag.key} in {', '.join(tag.environments)}" for tag in listed]
        if len(proposal.bare_tags) > len(listed):
            lines.append(f"  and {len(proposal.bare_tags) - len(listed)} more")
    return lines


def _environments(proposal: Proposal) -> CommentedSeq:
    environments = CommentedSeq()
    for place in proposal.environments:
        entry = CommentedMap(name=place.name)
        if place.branch is not None:
            entry["branch"] = place.branch
        if place.path != ".":
            entry["path"] = place.path
        environments.append(entry)
    policy = prod_policy(proposal)
    if policy is not None:
        environments[-1]["policy"] = policy
        environments[-1].yaml_add_eol_comment(PROD_POLICY_NOTE, "policy")
    return environments


def _apps(proposal: Proposal) -> CommentedMap:
    apps = CommentedMap()
    every = tuple(place.name for place in proposal.environments)
    for app in proposal.apps:
        entry = CommentedMap(image=app.image)
        entry.yaml_add_eol_comment(_found(app), "image")
        if app.environments != every:
            only = CommentedSeq(app.environments)
            only.fa.set_flow_style()
            entry["environments"] = only
        apps[app.name] = entry
    return apps


def _found(app: FoundApp) -> str:
    noun = "reference" if app.references == 1 else "references"
    return f"{app.references} {noun} in {', '.join(app.environments)}"


def render_onboarding_body(proposal: Proposal, config_text: str, *, file: str) -> str:
    """The onboarding PR's body: what ``file`` says, what merging and closing do, the file."""
    intro = (
        f"This pull request adds `{escape_md(file)}`, the file that tells Promotion Bot what to "
        "promote in this repository. Nothing is promoted until it is merged."
    )
    sections = [
        Section("## Welcome to Promotion Bot\n\n" + intro, 100),
        Section(_what_it_says(proposal), 90),
        Section(_what_happens(file), 95),
        Section(_file_block(config_text, file), 50),
    ]
    return assemble(sections, footer=embed(Meta(kind="onboarding")))


def _what_it_says(proposal: Proposal) -> str:
    how = _how(proposal)
    lines = [
        "### What the file says",
        "",
        f"**Environments**, in promotion order ({how} named like dev, test, staging or prod):",
        "",
    ]
    lines += [f"{i}. {_where(place)}" for i, place in enumerate(proposal.environments, 1)]
    if proposal.empty:
        left = ", ".join(escape_md(name) for name in proposal.empty)
        lines += ["", f"Left out, because no image reference was found there: {left}."]
    if proposal.bare_tags:
        keys = ", ".join(escape_md(tag.key) for tag in proposal.bare_tags)
        lines += ["", f"Bare tags found, which name no image (no app promotes them): {keys}."]
    lines += ["", "**Apps**, one per image found:", ""]
    lines += ["| App | Image | Environments | References |", "| --- | --- | --- | ---: |"]
    lines += [
        f"| {escape_md(a.name)} | {escape_md(a.image)} | "
        f"{escape_md(', '.join(a.environments))} | {a.references} |"
        for a in proposal.apps
    ]
    lines += ["", _policies(proposal)]
    return "\n".join(lines)


def _where(place: Place) -> str:
    """``**name**: branch B, directory D`` (or ``file F``); names are escaped, so never in a
    code span (where an escape would show as typed)."""
    where = []
    if place.branch is not None:
        where.append(f"branch {escape_md(place.branch)}")
    if place.path != ".":
        where.append(f"{'file' if place.file else 'directory'} {escape_md(place.path)}")
    name = f"**{escape_md(place.name)}**"
    return f"{name}: {', '.join(where)}" if where else name


def _policies(proposal: Proposal) -> str:
    policy = prod_policy(proposal)
    auto = (
        "**Policies**: every environment uses the built-in `auto` policy (any newer stable "
        "version, PR opened automatically)"
    )
    if policy is None:
        return auto + "."
    last = f"**{escape_md(proposal.environments[-1].name)}**"
    note = PROD_POLICY_NOTE[0].lower() + PROD_POLICY_NOTE[1:].rstrip(".")
    return f"{auto}, except {last}: `{policy}` ({note})."


def _what_happens(file: str) -> str:
    return "\n".join(
        [
            "### When you merge it",
            "",
            "Promotion Bot starts: a new version of an app's image opens a pull request into "
            "the first environment, and merging one opens the next, as each environment's "
            "policy allows. To change what it does first, edit the file on this pull request's "
            "branch before merging.",
            "",
            "### If you close it",
            "",
            "Promotion Bot will not open this pull request again. To start later, add "
            f"`{escape_md(file)}` yourself (`promotion-bot init` writes one from a checkout).",
        ]
    )


def _file_block(config_text: str, file: str) -> str:
    fence = "```"
    while fence in config_text:
        fence += "`"
    return (
        f"<details><summary>{escape_md(file)}</summary>\n\n"
        f"{fence}yaml\n{config_text}{fence}\n\n</details>"
    )
