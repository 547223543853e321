"""The drift report on the sandbox, as its users live with it (issue 12): opened on drift, no
write when nothing changed, edited in place, a tick opens the sync PR (a tick by someone who
may not promote is refused and unticked), closed at zero drift and reopened when it returns;
and a prod PR on a branch carrying a hotfix staging lacks gets ``branch-ahead``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.demo.harness import EVENTS, PERMISSIONS, Stack, bot_options
from bot.demo.runners import HOST, BotProcess, free_port, wait_until
from github_sandbox import admin_client as calls
from github_sandbox.collab_admin import ActAs
from tests.e2e.harness import Org, organisation
from tests.e2e.scenes import APP_REPO, CONFIG_FILE, branch_config, directory_config, values
from tests.e2e.test_review import bot_comments

LABEL = "promotion-drift"


def report(org: Org) -> dict[str, Any]:
    found = org.view.get(f"/repos/{org.repo('env')}/issues", state="all", labels=LABEL)
    assert found, "no drift-report issue"
    return dict(found[0])


def audit_now(stack: Stack, org: Org, asker: str, issue: int) -> None:
    """``/drift`` on an issue of the environment repository, then wait until it is answered."""
    before = len(bot_comments(org, issue))
    stack.admin.run(ActAs(asker).comment(org.name, "env", issue, "/drift"))
    wait_until(lambda: len(bot_comments(org, issue)) > before or None, "the /drift answer")


def push(stack: Stack, org: Org, files: dict[str, str | None]) -> None:
    stack.admin.run(calls.push(org.name, "env", pusher=org.person, files=files))


def test_the_drift_report_lives_with_the_environments(stack: Stack) -> None:
    name = "drift-life"
    config = directory_config(name).replace(
        "    policy: manual\n", f'    policy: {{use: manual, approvers: ["@{name}-lead"]}}\n'
    )
    files = {CONFIG_FILE: config, "README.md": "# environments\n"}
    files |= {f"envs/{env}/values.yaml": values(name, "1.3.0") for env in ("dev", "staging")}
    files["envs/prod/values.yaml"] = values(name, "1.2.0")
    org = organisation(stack, name, {"env": files, "api": APP_REPO})
    lead = stack.admin.run(calls.create_user(f"{name}-lead")).login
    stack.admin.run(calls.grant_role(name, "env", lead, "write"))
    asked = stack.admin.run(ActAs(org.person).open_issue(name, "env", title="Audit, please"))
    number = asked["number"]

    audit_now(stack, org, org.person, number)
    opened = report(org)
    assert opened["state"] == "open"
    assert "sync:api:prod:1.3.0" in opened["body"] and "1.2.0" in opened["body"]

    audit_now(stack, org, org.person, number)  # nothing changed: the issue is not written
    assert report(org)["updated_at"] == opened["updated_at"]

    push(
        stack,
        org,
        {"envs/prod/values.yaml": values(name, "1.2.0").replace("replicas: 2", "replicas: 5")},
    )
    audit_now(stack, org, org.person, number)
    updated = report(org)
    assert updated["number"] == opened["number"] and "replicas" in updated["body"]

    # The developer may not promote to prod: the tick is refused, unticked, and said so.
    ticked = updated["body"].replace(
        "- [ ] open a sync PR staging -> prod", "- [x] open a sync PR staging -> prod"
    )
    assert ticked != updated["body"]
    stack.admin.run(ActAs(org.person).edit_body(name, "env", updated["number"], ticked))
    wait_until(
        lambda: (
            ("- [ ] open a sync PR" in report(org)["body"] and bot_comments(org, updated["number"]))
            or None
        ),
        "the refused tick to be unticked",
    )
    # The lead may: the sync PR opens.
    stack.admin.run(ActAs(lead).edit_body(name, "env", updated["number"], ticked))
    wait_until(
        lambda: (
            [
                p
                for p in org.view.pulls(org.repo("env"), "open")
                if p["head"]["ref"] == "promotion/api/prod"
            ]
            or None
        ),
        "the sync PR",
    )

    stack.settle()
    push(stack, org, {"envs/prod/values.yaml": values(name, "1.3.0")})
    audit_now(stack, org, org.person, number)
    assert report(org)["state"] == "closed"  # no drift: closed

    push(stack, org, {"envs/dev/values.yaml": values(name, "1.4.0")})
    audit_now(stack, org, org.person, number)
    reopened = report(org)
    assert (reopened["number"], reopened["state"]) == (opened["number"], "open")


def test_a_prod_pr_on_a_branch_with_a_hotfix_staging_lacks_gets_branch_ahead(stack: Stack) -> None:
    name = "drift-branches"
    files = {CONFIG_FILE: branch_config(name), "values.yaml": values(name, "1.2.0")}
    # Each environment's branch starts from main, as teams create them.
    envs: dict[str, dict[str, str | None]] = {
        f"env/{env}": {"README.md": f"# {env}\n"} for env in ("dev", "staging", "prod")
    }
    org = organisation(stack, name, {"env": files, "api": APP_REPO}, {"env": envs})
    hotfix = {"values.yaml": values(name, "1.2.0").replace("replicas: 2", "replicas: 3")}
    stack.admin.run(
        calls.push(
            name,
            "env",
            pusher=org.person,
            branch="env/prod",
            files=hotfix,
            message="hotfix: three replicas",
        )
    )
    change = {"values.yaml": values(name, "1.2.1").replace("replicas: 2", "replicas: 3")}
    stack.admin.run(calls.push(name, "env", pusher=org.person, branch="bump", files=change))
    opened = stack.admin.run(
        ActAs(org.person).open_pull(name, "env", head="bump", base="env/prod", title="Bump")
    )
    (comment,) = wait_until(lambda: bot_comments(org, opened["number"]) or None, "the review")
    assert "branch-ahead" in comment["body"] and "hotfix: three replicas" in comment["body"]


def test_the_scheduled_run_files_the_report(stack: Stack, tmp_path: Path) -> None:
    """A bot of its own whose schedule is due at every pass (``* * * * *``: a slot falls in any
    minute) and whose pass covers the last minute: installed before it starts, its first pass
    at start-up files the report, with nobody asking."""
    name = "drift-scheduled"
    files = {CONFIG_FILE: directory_config(name), "README.md": "# environments\n"}
    files |= {f"envs/{env}/values.yaml": values(name, "1.3.0") for env in ("dev", "staging")}
    files["envs/prod/values.yaml"] = values(name, "1.2.0")
    org = organisation(stack, name, {"env": files, "api": APP_REPO})
    port = free_port()
    app = stack.admin.run(
        calls.create_app(
            "drift-scheduler",
            owner=name,
            webhook_url=f"http://{HOST}:{port}/webhooks/github",
            permissions=PERMISSIONS,
            events=EVENTS,
        )
    )
    stack.admin.run(calls.install_app(app.id, name))
    options = bot_options(tmp_path, app, stack.url) | {
        "reconcile_interval": "60",
        "drift_schedule": "* * * * *",
        "log_level": "INFO",
    }
    bot = BotProcess(port, options, tmp_path)
    bot.start()
    try:
        found = wait_until(
            lambda: (
                org.view.get(f"/repos/{org.repo('env')}/issues", state="all", labels=LABEL) or None
            ),
            "the scheduled drift report",
        )
    finally:
        bot.stop()
    (issue,) = found
    assert issue["user"]["login"] == "drift-scheduler[bot]"
    assert "sync:api:prod:1.3.0" in issue["body"]
