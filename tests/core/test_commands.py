from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core.inputs.actions import ACTIONS, Action, command_of_action
from bot.core.inputs.commands import (
    _NAME,
    _VERSION,
    _VERSIONISH,
    KEYWORDS,
    Command,
    Drift,
    Help,
    Hold,
    Ignore,
    Promote,
    Reply,
    Rollback,
    Run,
    Unhold,
    parse_comment,
)
from bot.core.inputs.help_text import HELP, USAGE, render_help

PROMOTE_USAGE = "Usage: `/promote [APP] [VERSION] [to ENV]`"
ROLLBACK_USAGE = "Usage: `/rollback [APP] [to VERSION] [in ENV]`"
HOLD_USAGE = "Usage: `/hold [[APP] in ENV] [REASON]`"
UNHOLD_USAGE = "Usage: `/unhold [[APP] in ENV]`"

RUN_CASES: list[tuple[str, Command]] = [
    ("/promote", Promote()),
    ("/promote user-service", Promote(app="user-service")),
    ("/promote to prod", Promote(environment="prod")),
    ("/promote 1.4.0", Promote(version="1.4.0")),
    ("/promote v1.4.0", Promote(version="v1.4.0")),
    ("/promote user-service to staging", Promote(app="user-service", environment="staging")),
    ("/promote user-service to staging 1.4.0", Promote("user-service", "staging", "1.4.0")),
    ("/promote user-service 1.4.0 to staging", Promote("user-service", "staging", "1.4.0")),
    ("/promote to staging 1.4.0", Promote(environment="staging", version="1.4.0")),
    ("/promote 1.4.0 to staging", Promote(environment="staging", version="1.4.0")),
    ("/promote api latest", Promote(app="api", version="latest")),
    ("/promote api 1.4.0-rc.1+build.5", Promote(app="api", version="1.4.0-rc.1+build.5")),
    ("/promote api In", Promote(app="api", version="In")),  # keywords are lowercase
    ("/PROMOTE api", Promote(app="api")),
    ("/promote\tapi\tto\tprod", Promote(app="api", environment="prod")),
    ("   /promote api", Promote(app="api")),
    ("/promote api   ", Promote(app="api")),
    ("/promote api\r\n", Promote(app="api")),
    ("Looks good.\n/promote api to prod", Promote(app="api", environment="prod")),
    ("/promote a\n/drift", Promote(app="a")),
    ("> quoted\n/drift", Drift()),
    ("```\n/promote x\n```\n/drift", Drift()),
    ("~~~\n/promote x\n~~~\n/unhold", Unhold()),
    ("````\n```\n/promote x\n````\n/drift", Drift()),
    ("<!-- template\n/promote x\n-->\n/drift", Drift()),
    ("<!-- one line --> \n/drift", Drift()),
    ("```\n/hold in prod\n```\n/unhold in prod", Unhold(environment="prod")),
    ("/hold", Hold()),
    ("/hold waiting for QA", Hold(reason="waiting for QA")),
    ("/hold   spaced    out  ", Hold(reason="spaced out")),
    ("/hold In review", Hold(reason="In review")),
    ("/hold api in prod", Hold(app="api", environment="prod")),
    ("/hold api in prod waiting for QA", Hold("api", "prod", "waiting for QA")),
    ("/hold api in prod to 1.0 first", Hold("api", "prod", "to 1.0 first")),
    ("/hold in prod", Hold(environment="prod")),
    ("/hold in prod incident 42", Hold(environment="prod", reason="incident 42")),
    ("/hold in prod in review", Hold(environment="prod", reason="in review")),
    ("/HOLD\tin\tprod", Hold(environment="prod")),
    # A reason is free text, escaped wherever it is rendered; markup in it is kept as typed.
    ("/hold `code` and @team", Hold(reason="`code` and @team")),
    ("/hold <script>alert(1)</script>", Hold(reason="<script>alert(1)</script>")),
    ("/hold [click](https://evil.example)", Hold(reason="[click](https://evil.example)")),
    ("/hold image: {tag: latest}", Hold(reason="image: {tag: latest}")),
    ("/hold ../../etc/passwd", Hold(reason="../../etc/passwd")),
    ("/hold in prod @acme/oncall paged", Hold(environment="prod", reason="@acme/oncall paged")),
    ("/hold 👩\u200d💻 on it", Hold(reason="👩\u200d💻 on it")),
    ("/unhold", Unhold()),
    ("/unhold in prod", Unhold(environment="prod")),
    ("/unhold api in prod", Unhold(app="api", environment="prod")),
    ("/rollback", Rollback()),
    ("/rollback api", Rollback(app="api")),
    ("/rollback to 1.3.0", Rollback(version="1.3.0")),
    ("/rollback api to 1.3.0", Rollback(app="api", version="1.3.0")),
    ("/rollback in prod", Rollback(environment="prod")),
    ("/rollback api in prod", Rollback(app="api", environment="prod")),
    ("/rollback api to 1.3.0 in prod", Rollback("api", "1.3.0", "prod")),
    ("/rollback api in prod to 1.3.0", Rollback("api", "1.3.0", "prod")),
    ("/rollback in prod to 1.3.0 api", Rollback("api", "1.3.0", "prod")),
    ("/drift", Drift()),
    ("/help", Help()),
    ("/help me", Help()),
    ("/help promote", Help()),
    ("/promotion-bot promote api to prod", Promote(app="api", environment="prod")),
    ("/promotion-bot hold release freeze", Hold(reason="release freeze")),
    ("/promotion-bot hold in prod freeze", Hold(environment="prod", reason="freeze")),
    ("/promotion-bot unhold api in prod", Unhold(app="api", environment="prod")),
    ("/promotion-bot rollback api in prod", Rollback(app="api", environment="prod")),
    ("/promotion-bot drift", Drift()),
    ("/promotion-bot help", Help()),
    ("/Promotion-Bot Rollback api", Rollback(app="api")),
]

IGNORE_CASES = [
    "",
    "LGTM",
    "please /promote this",
    "> /promote api",
    ">/promote api",
    "> /hold in prod",
    "    /promote api",
    "\t/promote api",
    "`/hold in prod`",
    "```\n/promote api\n```",
    "```\n/promote api",
    "```yaml\n/hold in prod\n```",
    "<!--\n/promote api\n-->",
    "text <!-- hidden\n/promote api\n-->",
    "<!-- /unhold in prod -->",
    "/assign @me",
    "/promotex",
    "/promoted",
    "/holdx in prod",
    "/helpme",
    "/ promote",
    "/",
    "//promote",
    "/promote\x00 api",
    "/hold \x1b[31mred",
    "/hold in prod\x1b]8;;https://evil\x07",
    "/unhold\x00",
    "/promote" + "\x07",
    "/help\x9b",
    "/unhold in <!--",  # the line opens an HTML comment
    "x" * 70_000 + "\n/promote",
]

REPLY_CASES = [
    ("/promotion-bot", "Unknown command."),
    ("/promotion-bot foo", "Unknown command foo."),
    ("/promotion-bot <b>", "Unknown command &lt;b&gt;."),
    ("/promotion-bot x\u200b", "Unknown command x\ufffd."),
    ("/promote a b c", PROMOTE_USAGE),
    ("/promote to", PROMOTE_USAGE),
    ("/promote to a to b", PROMOTE_USAGE),
    ("/promote api in prod", PROMOTE_USAGE),
    ("/promote @org/team", "`/promote`: @&#8203;org/team is not a valid app."),
    ("/promote api|x", "`/promote`: api\\|x is not a valid app."),
    ("/promote api to pr`d", "`/promote`: pr\\`d is not a valid environment."),
    ("/promote api 1.0<script>", "`/promote`: 1.0&lt;script&gt; is not a valid version."),
    ("/promote <img/src=x>", "`/promote`: &lt;img/src=x&gt; is not a valid app."),
    (
        "/promote [x](http://e.io)",
        "`/promote`: \\[x\\]\\(http:&#8203;//e.io\\) is not a valid app.",
    ),
    ("/promote ```yaml", "`/promote`: \\`\\`\\`yaml is not a valid app."),
    ("/promote {{.Values}}", "`/promote`: \\{\\{.Values\\}\\} is not a valid app."),
    ("/promote api 1.0\u202e", "`/promote`: 1.0\ufffd is not a valid version."),
    ("/promote -x", "`/promote`: -x is not a valid app."),
    ("/promote in prod", "`/promote`: in is not a valid app."),
    ("/promote api to in", "`/promote`: in is not a valid environment."),
    ("/promote to to prod", "`/promote`: to is not a valid environment."),
    ("/rollback a b", ROLLBACK_USAGE),
    ("/rollback to", ROLLBACK_USAGE),
    ("/rollback in", ROLLBACK_USAGE),
    ("/rollback api in prod in qa", ROLLBACK_USAGE),
    ("/rollback api to 1 to 2", ROLLBACK_USAGE),
    ("/rollback api to 1.0;rm", "`/rollback`: 1.0;rm is not a valid version."),
    ("/rollback @x", "`/rollback`: @&#8203;x is not a valid app."),
    ("/rollback in ../prod", "`/rollback`: ../prod is not a valid environment."),
    ("/rollback api in @prod", "`/rollback`: @&#8203;prod is not a valid environment."),
    ("/rollback api in to", "`/rollback`: to is not a valid environment."),
    ("/hold in", HOLD_USAGE),
    ("/hold api in", HOLD_USAGE),
    ("/hold in key: value", "`/hold`: key: is not a valid environment."),
    ("/hold in <b>x</b>", "`/hold`: &lt;b&gt;x&lt;/b&gt; is not a valid environment."),
    ("/hold @team in prod", "`/hold`: @&#8203;team is not a valid app."),
    ("/hold ../api in prod", "`/hold`: ../api is not a valid app."),
    ("/hold in prod#x", "`/hold`: prod\\#x is not a valid environment."),
    ("/hold in prod\u202e", "`/hold`: prod\ufffd is not a valid environment."),
    ("/hold to in prod", "`/hold`: to is not a valid app."),
    ("/hold in prod stop\u202egnp", "That hold reason holds control or formatting characters"),
    ("/hold zero\u200bwidth", "That hold reason holds control or formatting characters"),
    ("/hold \u2066isolate", "That hold reason holds control or formatting characters"),
    ("/hold " + "x" * 600, "That hold reason is too long (over 500 characters)."),
    ("/hold api in prod " + "x" * 600, "That hold reason is too long (over 500 characters)."),
    ("/unhold now", UNHOLD_USAGE),
    ("/unhold in", UNHOLD_USAGE),
    ("/unhold api in prod now", UNHOLD_USAGE),
    ("/unhold ../x in prod", "`/unhold`: ../x is not a valid app."),
    ("/unhold in *prod*", "`/unhold`: \\*prod\\* is not a valid environment."),
    ("/drift please", "Usage: `/drift`"),
    ("/promote " + "a" * 1000, "That command is too long (over 1000 characters)."),
]


def _assert_safe(message: str) -> None:
    """A reply renders as inert text: no HTML, no mention, no invisible characters."""
    assert "<" not in message
    assert all(c.isprintable() or c == "\n" for c in message)
    assert all(part.startswith("&#8203;") for part in message.split("@")[1:])


@pytest.mark.parametrize(("body", "expected"), RUN_CASES)
def test_run(body: str, expected: Command) -> None:
    assert parse_comment(body) == Run(expected)


@pytest.mark.parametrize("body", IGNORE_CASES)
def test_ignore(body: str) -> None:
    assert isinstance(parse_comment(body), Ignore)


@pytest.mark.parametrize(("body", "message"), REPLY_CASES)
def test_reply(body: str, message: str) -> None:
    outcome = parse_comment(body)
    assert isinstance(outcome, Reply)
    assert outcome.message.startswith(message)
    _assert_safe(outcome.message)


def test_case_table_is_long() -> None:
    assert len(RUN_CASES) + len(IGNORE_CASES) + len(REPLY_CASES) >= 150


@pytest.mark.parametrize(("_body", "command"), RUN_CASES)
def test_str_prints_the_canonical_command(_body: str, command: Command) -> None:
    assert parse_comment(str(command)) == Run(command)


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (Promote("api", "prod", "1.4.0"), "/promote api 1.4.0 to prod"),
        (Rollback("api", "1.3.0", "prod"), "/rollback api to 1.3.0 in prod"),
        (Hold("api", "prod", "QA"), "/hold api in prod QA"),
        (Hold(environment="prod", reason="incident"), "/hold in prod incident"),
        (Hold(reason="QA"), "/hold QA"),
        (Unhold("api", "prod"), "/unhold api in prod"),
        (Unhold(environment="prod"), "/unhold in prod"),
        (Help(), "/help"),
    ],
)
def test_canonical_form(command: Command, text: str) -> None:
    assert str(command) == text


@pytest.mark.parametrize(
    ("command", "whole"),
    [
        (Hold(), False),
        (Hold(reason="x"), False),
        (Hold(app="api", environment="prod"), False),
        (Hold(environment="prod"), True),
        (Unhold(), False),
        (Unhold(app="api", environment="prod"), False),
        (Unhold(environment="prod"), True),
    ],
)
def test_whole_environment(command: Hold | Unhold, whole: bool) -> None:
    assert command.whole_environment is whole


@pytest.mark.parametrize("kind", [Hold, Unhold])
def test_an_app_without_environment_is_no_lane(kind: type[Hold] | type[Unhold]) -> None:
    with pytest.raises(ValueError, match="needs its environment"):
        kind(app="api")


def test_help_names_every_command_and_escapes_notes() -> None:
    assert all(f"`/{word}" in HELP for word in USAGE)
    text = render_help({"rollback": "@acme/admins <b>only</b>", "drift": ""})
    assert "(@&#8203;acme/admins &lt;b&gt;only&lt;/b&gt;)" in text
    assert text.replace(" (@&#8203;acme/admins &lt;b&gt;only&lt;/b&gt;)", "") == HELP


# Check-run buttons.


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.identifier)
def test_button_fits_githubs_limits(action: Action) -> None:
    # GitHub: identifier and label at most 20 characters, description at most 40.
    assert 0 < len(action.identifier) <= 20
    assert 0 < len(action.label) <= 20
    assert 0 < len(action.description) <= 40


@pytest.mark.parametrize(
    ("identifier", "command"),
    [
        ("promote", Promote()),
        ("hold", Hold()),
        ("unhold", Unhold()),
        ("rollback", Rollback()),
        ("drift", Drift()),
        ("", None),
        ("Promote", None),
        ("help", None),
        ("x" * 100, None),
    ],
)
def test_command_of_action(identifier: str, command: Command | None) -> None:
    assert command_of_action(identifier) == command


def test_buttons_are_unique_and_mean_commands_that_print_back() -> None:
    assert len({a.identifier for a in ACTIONS}) == len(ACTIONS)
    for action in ACTIONS:
        assert parse_comment(str(action.command)) == Run(action.command)


# Properties.

_KEYWORD_LIST = sorted(KEYWORDS)
_NAMES = st.from_regex(_NAME, fullmatch=True).filter(lambda s: s not in KEYWORDS)
_VERSIONS = st.from_regex(_VERSION, fullmatch=True).filter(lambda s: s not in KEYWORDS)
_VERSIONISH_VERSIONS = st.from_regex(r"v?[0-9][A-Za-z0-9._+-]{0,20}", fullmatch=True)
_REASON_WORDS = st.text(
    st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zs", "Zl", "Zp"]),
    min_size=1,
    max_size=12,
)
_REASONS = st.lists(_REASON_WORDS | st.sampled_from(_KEYWORD_LIST), min_size=1, max_size=6).map(
    " ".join
)


@st.composite
def _promotes(draw: st.DrawFn) -> Promote:
    app = draw(st.none() | _NAMES)
    version = draw(st.none() | (_VERSIONS if app else _VERSIONISH_VERSIONS))
    if app and not version:
        assume(not _VERSIONISH.match(app))  # a lone version-like word reads as a version
    return Promote(app=app, environment=draw(st.none() | _NAMES), version=version)


@st.composite
def _lanes(draw: st.DrawFn) -> tuple[str | None, str | None]:
    environment = draw(st.none() | _NAMES)
    return (draw(st.none() | _NAMES) if environment else None), environment


@st.composite
def _holds(draw: st.DrawFn) -> Hold:
    app, environment = draw(_lanes())
    reason = draw(st.none() | _REASONS)
    if reason and not environment:
        assume("in" not in reason.split()[:2])  # it would read as a lane
    return Hold(app=app, environment=environment, reason=reason)


_COMMANDS: st.SearchStrategy[Command] = st.one_of(
    _promotes(),
    st.builds(Rollback, st.none() | _NAMES, st.none() | _VERSIONS, st.none() | _NAMES),
    _holds(),
    _lanes().map(lambda lane: Unhold(*lane)),
    st.just(Drift()),
    st.just(Help()),
)


@settings(max_examples=400, deadline=None)
@given(_COMMANDS)
def test_every_command_prints_back_to_itself(command: Command) -> None:
    assert parse_comment(str(command)) == Run(command)
    assert parse_comment(f"LGTM\n\n   {command}\n") == Run(command)


_WORDS = st.sampled_from(
    [
        "api", "user-service", "to", "in", "In", "1.4.0", "v2", "latest", "prod", "a.b_c",
        "x|y", "@me", "`", "<b>", "../x", "key:", "\u202e", "\u200b", "👩\u200d💻",
    ]
)  # fmt: skip
_LINES = st.builds(
    lambda name, words, sep: "/" + name + sep + sep.join(words),
    st.sampled_from([*USAGE, "promotion-bot", "promotion-bot hold", "promotion-bot x"]),
    st.lists(_WORDS | st.text(max_size=8), max_size=6),
    st.sampled_from([" ", "  ", "\t"]),
)


@settings(max_examples=400, deadline=None)
@given(_LINES)
def test_parsed_command_prints_back_to_itself(line: str) -> None:
    outcome = parse_comment(line)
    if isinstance(outcome, Run):
        assert parse_comment(str(outcome.command)) == outcome
    elif isinstance(outcome, Reply):
        _assert_safe(outcome.message)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_on_any_text(body: str) -> None:
    outcome = parse_comment(body)
    assert isinstance(outcome, Run | Reply | Ignore)
    if isinstance(outcome, Reply):
        _assert_safe(outcome.message)
