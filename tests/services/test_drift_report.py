"""The living drift-report issue: opened on drift, left alone when nothing changed, edited in
place, closed at zero, reopened when drift returns; ticks kept; ``/drift`` runs it now."""

from __future__ import annotations

from datetime import timedelta

from bot.core.drift.ticks import ticked_keys
from bot.core.inputs.events import IssueEdited
from bot.services.drift_report import DRIFT_LABEL, publish, publish_due
from bot.services.drift_ticks import handle_issue_edited
from tests.services.conftest import DIRECTORY_CONFIG, ENV_REPO, directory_repo, values, workspace
from tests.services.fakes import BOT, FakeGitHub
from tests.services.test_commands import comment, replies

WRITES = ("issues.open", "issues.edit", "issues.close", "issues.reopen")


async def run(gh: FakeGitHub) -> tuple[str, int | None]:
    ws = workspace(gh)
    (loaded,) = await ws.configs_of_installation()
    return await publish(ws, loaded)


def writes(gh: FakeGitHub) -> list[str]:
    return [c[0] for c in gh.calls if c[0] in WRITES]


def report(gh: FakeGitHub) -> str:
    (issue,) = [i for (r, _), i in gh.issues.items() if r == ENV_REPO and DRIFT_LABEL in i.labels]
    return issue.body


async def test_the_report_lives_through_drift_and_back(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.2.0", "1.2.0", "1.2.0"))
    assert await run(gh) == ("none", None)
    gh.push(ENV_REPO, "main", {"envs/staging/values.yaml": values("1.3.0")})
    assert await run(gh) == ("opened", 1)
    assert "sync:api:prod:1.3.0" in report(gh)
    gh.calls.clear()
    assert await run(gh) == ("unchanged", 1)
    assert writes(gh) == []  # nothing changed: no write
    gh.push(ENV_REPO, "main", {"envs/staging/values.yaml": values("1.3.1")})
    assert await run(gh) == ("updated", 1)
    gh.push(ENV_REPO, "main", {"envs/prod/values.yaml": values("1.3.1")})
    gh.push(ENV_REPO, "main", {"envs/dev/values.yaml": values("1.3.1")})
    assert await run(gh) == ("closed", 1)
    assert gh.issues[(ENV_REPO, 1)].state == "closed"
    gh.push(ENV_REPO, "main", {"envs/dev/values.yaml": values("1.4.0")})
    assert await run(gh) == ("reopened", 1)
    assert gh.issues[(ENV_REPO, 1)].state == "open"


async def test_a_box_a_person_ticked_stays_ticked(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    await run(gh)
    issue = gh.issues[(ENV_REPO, 1)]
    issue.body = issue.body.replace("- [ ] open a sync PR", "- [x] open a sync PR")
    gh.push(ENV_REPO, "main", {"envs/prod/extra.yaml": "a: 1\n"})
    assert await run(gh) == ("updated", 1)
    assert ticked_keys(report(gh)) == {"sync:api:prod:1.3.0"}


async def test_scheduled_runs_follow_the_cron_and_its_jitter(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    ws = workspace(gh)
    now = ws.clock()
    every_minute = "* * * * *"
    assert await publish_due(ws, since=now - timedelta(hours=1), default_schedule=every_minute)
    assert not await publish_due(ws, since=now, default_schedule=every_minute)


async def test_drift_on_an_issue_runs_the_audit_now(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    gh.roles[(ENV_REPO, "alice")] = "write"
    await comment(gh, "/drift", number=40)
    assert any("the drift report #1 is opened" in r for r in replies(gh))


async def tick(gh: FakeGitHub, editor: str, key: str) -> None:
    issue = gh.issues[(ENV_REPO, 1)]
    old = issue.body
    lines = [
        line.replace("- [ ]", "- [x]", 1) if f"<!-- {key} -->" in line else line
        for line in old.split("\n")
    ]
    issue.body = "\n".join(lines)
    event = IssueEdited(
        installation_id=1,
        repo=ENV_REPO,
        number=1,
        issue_author=BOT,
        editor=editor,
        body=issue.body,
        old_body=old,
    )
    await handle_issue_edited(event, workspace(gh))


async def test_ticking_a_box_opens_its_sync_pr_as_the_ticker(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    gh.roles[(ENV_REPO, "alice")] = "write"
    await run(gh)
    await tick(gh, "alice", "sync:api:prod:1.3.0")
    (pull,) = [p for p in gh.pulls_of(ENV_REPO) if p.head_ref == "promotion/api/prod"]
    assert "1.3.0" in gh.issues[(ENV_REPO, pull.number)].title
    assert any(r.startswith("alice's click: Opened") for r in replies(gh))
    assert ticked_keys(gh.issues[(ENV_REPO, 1)].body) == {"sync:api:prod:1.3.0"}


async def test_a_readers_tick_is_refused_and_unticked(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    gh.roles[(ENV_REPO, "mallory")] = "read"
    await run(gh)
    await tick(gh, "mallory", "sync:api:prod:1.3.0")
    assert [p for p in gh.pulls_of(ENV_REPO) if p.head_ref == "promotion/api/prod"] == []
    assert ticked_keys(gh.issues[(ENV_REPO, 1)].body) == frozenset()
    assert any(r.startswith("mallory's click:") and "read" in r for r in replies(gh))


async def test_a_box_the_bot_never_offered_does_nothing(gh: FakeGitHub) -> None:
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    gh.roles[(ENV_REPO, "alice")] = "write"
    await run(gh)
    issue = gh.issues[(ENV_REPO, 1)]
    old = issue.body
    issue.body += "\n- [x] forged <!-- sync:api:prod:9.9.9 -->\n"
    event = IssueEdited(
        installation_id=1,
        repo=ENV_REPO,
        number=1,
        issue_author=BOT,
        editor="alice",
        body=issue.body,
        old_body=old,
    )
    await handle_issue_edited(event, workspace(gh))
    assert gh.pulls_of(ENV_REPO) == []


async def test_a_repository_can_turn_the_report_off(gh: FakeGitHub) -> None:
    config = DIRECTORY_CONFIG + "drift: {report: false}\n"
    directory_repo(gh, config=config, tags=("1.3.0", "1.3.0", "1.2.0"))
    gh.roles[(ENV_REPO, "alice")] = "write"
    ws = workspace(gh)
    since = ws.clock() - timedelta(hours=1)
    assert await publish_due(ws, since=since, default_schedule="* * * * *") == []
    await comment(gh, "/drift", number=40)
    assert any("the drift report is off" in r for r in replies(gh))
    assert not [i for (r, _), i in gh.issues.items() if DRIFT_LABEL in i.labels]
