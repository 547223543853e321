"""Two processes on one PostgreSQL queue (``serve`` and a ``worker``) race on one repository:
versions of one app pushed at once, each delivered twice (GitHub's delivery and a redelivery),
make one PR at the last version and at most one commit per version, never two at once."""

from __future__ import annotations

from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from tests.e2e.burst import env_files
from tests.reliability.conftest import Replicas
from tests.reliability.figures import record
from tests.reliability.load import post_burst, recorded_pushes
from tests.reliability.promotions import read_promotions, settle

ORG = "race"
VERSIONS = ("1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0")
COMMITS = ("POST", "/repos/{owner}/{repo}/git/commits")


def test_two_workers_make_one_pr_and_one_commit_per_version(replicas: Replicas) -> None:
    stack = replicas.stack
    stack.admin.run(calls.create_repo(ORG, "env", files=env_files(ORG, 1)))
    stack.admin.run(calls.create_repo(ORG, "apps", files={"README.md": "# apps\n"}))
    installation = stack.install(ORG)
    reader = stack.admin.run(calls.create_user(f"{ORG}-reader"))
    stack.admin.run(calls.grant_role(ORG, "env", reader.login, "read"))
    for version in VERSIONS:
        stack.admin.run(calls.publish_package(ORG, "app0", repository="apps", tag=version))
    stack.deliver_all()
    again = post_burst(stack.bot.url, recorded_pushes(stack, {f"{ORG}/app0"}))
    view = stack.view(reader.token)
    try:
        wait_until(
            lambda: any(VERSIONS[-1] in p["title"] for p in view.pulls(f"{ORG}/env")),
            f"the PR at {VERSIONS[-1]}",
            60,
        )
        settle(stack, timeout=60.0)
        promotions = read_promotions(view, {"app0": f"{ORG}/env"})
    finally:
        view.close()
    log = stack.admin.run(calls.requests_log(installation_id=installation))
    commits = sum(1 for e in log if (e["method"], e["route"]) == COMMITS and e["status"] < 300)
    pulls = len(promotions.pulls.get("app0", []))
    record("race@postgresql", pulls=pulls, commits=commits, versions=len(VERSIONS))
    assert set(again) <= {200, 202}
    assert (pulls, promotions.tags["app0"], promotions.commits["app0"]) == (1, VERSIONS[-1], 1)
    assert 1 <= commits <= len(VERSIONS)
