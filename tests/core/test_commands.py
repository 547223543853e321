from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.inputs.commands import (
    HELP,
    Drift,
    Hold,
    Ignore,
    Promote,
    Reply,
    Rollback,
    Run,
    Unhold,
    parse_comment,
)

RUN_CASES = [
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
    ("/hold", Hold()),
    ("/hold waiting for QA", Hold("waiting for QA")),
    ("/hold   spaced    out  ", Hold("spaced out")),
    ("/hold `code` and @team", Hold("`code` and @team")),
    ("/unhold", Unhold()),
    ("/rollback", Rollback()),
    ("/rollback api", Rollback(app="api")),
    ("/rollback to 1.3.0", Rollback(version="1.3.0")),
    ("/rollback api to 1.3.0", Rollback(app="api", version="1.3.0")),
    ("/drift", Drift()),
    ("/promotion-bot promote api to prod", Promote(app="api", environment="prod")),
    ("/promotion-bot hold release freeze", Hold("release freeze")),
    ("/promotion-bot drift", Drift()),
    ("/Promotion-Bot Rollback api", Rollback(app="api")),
]

IGNORE_CASES = [
    "",
    "LGTM",
    "please /promote this",
    "> /promote api",
    ">/promote api",
    "    /promote api",
    "\t/promote api",
    "```\n/promote api\n```",
    "```\n/promote api",
    "<!--\n/promote api\n-->",
    "text <!-- hidden\n/promote api\n-->",
    "/assign @me",
    "/promotex",
    "/promoted",
    "/ promote",
    "/",
    "//promote",
    "/promote\x00 api",
    "/hold \x1b[31mred",
    "/promote" + "\x07",
    "x" * 70_000 + "\n/promote",
]

REPLY_CASES = [
    ("/help", HELP),
    ("/help me", HELP),
    ("/promotion-bot", "Unknown command."),
    ("/promotion-bot foo", "Unknown command foo."),
    ("/promotion-bot <b>", "Unknown command &lt;b&gt;."),
    ("/promote a b c", "Usage: `/promote [APP] [VERSION] [to ENV]`"),
    ("/promote to", "Usage: `/promote [APP] [VERSION] [to ENV]`"),
    ("/promote to a to b", "Usage: `/promote [APP] [VERSION] [to ENV]`"),
    ("/promote @org/team", "`/promote`: @&#8203;org/team is not a valid app."),
    ("/promote api|x", "`/promote`: api\\|x is not a valid app."),
    ("/promote api to pr`d", "`/promote`: pr\\`d is not a valid environment."),
    ("/promote api 1.0<script>", "`/promote`: 1.0&lt;script&gt; is not a valid version."),
    ("/promote -x", "`/promote`: -x is not a valid app."),
    ("/rollback a b", "Usage: `/rollback [APP] [to VERSION]`"),
    ("/rollback to", "Usage: `/rollback [APP] [to VERSION]`"),
    ("/rollback api to 1.0;rm", "`/rollback`: 1.0;rm is not a valid version."),
    ("/rollback @x", "`/rollback`: @&#8203;x is not a valid app."),
    ("/unhold now", "Usage: `/unhold`"),
    ("/drift please", "Usage: `/drift`"),
    ("/hold " + "x" * 600, "That hold reason is too long (over 500 characters)."),
    ("/promote " + "a" * 1000, "That command is too long (over 1000 characters)."),
]


@pytest.mark.parametrize(("body", "expected"), RUN_CASES)
def test_run(body: str, expected: object) -> None:
    assert parse_comment(body) == Run(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("body", IGNORE_CASES)
def test_ignore(body: str) -> None:
    assert isinstance(parse_comment(body), Ignore)


@pytest.mark.parametrize(("body", "message"), REPLY_CASES)
def test_reply(body: str, message: str) -> None:
    outcome = parse_comment(body)
    assert isinstance(outcome, Reply)
    assert outcome.message.startswith(message)


def test_case_table_is_long() -> None:
    assert len(RUN_CASES) + len(IGNORE_CASES) + len(REPLY_CASES) >= 50


@pytest.mark.parametrize(("_body", "command"), RUN_CASES)
def test_str_prints_the_canonical_command(_body: str, command: object) -> None:
    assert parse_comment(str(command)) == Run(command)  # type: ignore[arg-type]


_WORDS = st.sampled_from(
    ["api", "user-service", "to", "1.4.0", "v2", "latest", "prod", "a.b_c", "x|y", "@me", "`"]
)
_LINES = st.builds(
    lambda name, words, sep: "/" + name + sep + sep.join(words),
    st.sampled_from(["promote", "hold", "unhold", "rollback", "drift", "help", "promotion-bot"]),
    st.lists(_WORDS | st.text(max_size=8), max_size=5),
    st.sampled_from([" ", "  ", "\t"]),
)


@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_parsed_command_prints_back_to_itself(line: str) -> None:
    outcome = parse_comment(line)
    if isinstance(outcome, Run):
        assert parse_comment(str(outcome.command)) == outcome


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_on_any_text(body: str) -> None:
    outcome = parse_comment(body)
    assert isinstance(outcome, Run | Reply | Ignore)
    if isinstance(outcome, Reply):
        assert "<" not in outcome.message.replace("<b>", "")
