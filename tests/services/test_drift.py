"""The drift audit through the API, in each layout: what it reads and what it finds (issue 12)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.drift.model import DriftReport
from bot.core.inputs.events import PullChanged
from bot.services.drift import audit_repository
from bot.services.review import handle_pull_changed
from tests.services.conftest import CONFIG_FILE, ENV_REPO, values, workspace
from tests.services.fakes import FakeGitHub, blob_sha
from tests.services.test_layouts import BRANCH_CONFIG, Where, directory_layout, repo_layout

Layout = Callable[[FakeGitHub], Where]


def branch_layout(gh: FakeGitHub) -> Where:
    """One branch per environment, all started from one commit (as teams create them)."""
    head = gh.seed(ENV_REPO, {CONFIG_FILE: BRANCH_CONFIG, "values.yaml": values("1.2.0")})
    for env in ("dev", "staging", "prod"):
        gh.repos[ENV_REPO].branches[f"env/{env}"] = head
    return {env: (ENV_REPO, f"env/{env}", "values.yaml") for env in ("dev", "staging", "prod")}


LAYOUTS = [directory_layout, branch_layout, repo_layout]


def plant(gh: FakeGitHub, where: Where) -> None:
    """staging runs 1.3.0, prod 1.2.0 with replicas changed by hand and a file of its own."""
    repo, branch, path = where["staging"]
    gh.push(repo, branch, {path: values("1.3.0")}, message="promote api 1.3.0 to staging")
    repo, branch, path = where["prod"]
    folder = path.rpartition("/")[0]
    extra = f"{folder}/pdb.yaml" if folder else "pdb.yaml"
    gh.push(
        repo,
        branch,
        {path: values("1.2.0", "replicas: 5\n"), extra: "minAvailable: 1\n"},
        message="hotfix: more replicas",
    )


async def audited(gh: FakeGitHub) -> DriftReport:
    ws = workspace(gh)
    (loaded,) = await ws.configs_of_installation()
    return await audit_repository(ws, loaded)


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_every_planted_difference_is_reported_and_nothing_else(
    gh: FakeGitHub, layout: Layout
) -> None:
    where = layout(gh)
    assert (await audited(gh)).count == 0
    plant(gh, where)
    report = await audited(gh)
    assert report.running["api"] == {"dev": "1.2.0", "staging": "1.3.0", "prod": "1.2.0"}
    (staging,) = [p for p in report.pairs if p.environment == "staging"]
    ((ahead,),) = (staging.ahead,)  # staging got 1.3.0 straight, not through dev
    assert (ahead.version, ahead.running) == ("1.2.0", "1.3.0")
    (prod,) = [p for p in report.pairs if p.environment == "prod"]
    ((behind,),) = (prod.behind,)
    assert (behind.app, behind.version, behind.running, behind.kind) == (
        "api",
        "1.3.0",
        "1.2.0",
        "minor",
    )
    assert [(v.path, v.new) for v in prod.values] == [("replicas", 5)]
    assert prod.only_here == ("pdb.yaml",)
    messages = [c.message for c in prod.direct] + [c.message for c in prod.commits_ahead]
    assert "hotfix: more replicas" in messages


async def test_files_equal_by_blob_are_never_read(gh: FakeGitHub) -> None:
    where = directory_layout(gh)
    shared = "# the same everywhere\nkey: value\n"
    for env in ("dev", "staging", "prod"):
        gh.push(ENV_REPO, "main", {f"envs/{env}/common.yaml": shared})
    plant(gh, where)
    await audited(gh)
    reads = [c for c in gh.calls if c[0] == "git.read_blob"]
    assert all(c[2] != blob_sha(shared) for c in reads)


async def test_a_prod_pr_whose_branch_carries_a_hotfix_gets_branch_ahead(gh: FakeGitHub) -> None:
    """docs/drift.md promised it and nothing computed it: the commits prod's branch has that
    staging's lacks, brought by no promotion, are named in the review comment."""
    branch_layout(gh)
    gh.push(
        ENV_REPO,
        "env/prod",
        {"values.yaml": values("1.2.0", "timeout: 30\n")},
        message="hotfix: raise the timeout",
    )
    gh.push(
        ENV_REPO,
        "env/staging",
        {"values.yaml": values("1.3.0")},
        message="Promote api 1.3.0 to staging (#3)",
    )
    gh.branch(
        ENV_REPO, "bob/prod", {"values.yaml": values("1.3.0", "timeout: 30\n")}, start="env/prod"
    )
    pull = gh.open_person_pr(ENV_REPO, head="bob/prod", base="env/prod")
    event = PullChanged(
        installation_id=1, repo=ENV_REPO, number=pull.number, action="opened", base_ref="env/prod"
    )
    await handle_pull_changed(event, workspace(gh))
    (body,) = [c.body for r, n, c in gh.comments.values() if n == pull.number]
    assert "**branch-ahead**" in body and "hotfix: raise the timeout" in body
    assert "Promote api 1.3.0" not in body.split("branch-ahead")[1].split("\n")[0]


async def test_a_prod_pr_is_reviewed_when_staging_has_no_branch_yet(gh: FakeGitHub) -> None:
    branch_layout(gh)
    del gh.repos[ENV_REPO].branches["env/staging"]
    gh.branch(ENV_REPO, "bob/prod", {"values.yaml": values("1.3.0")}, start="env/prod")
    pull = gh.open_person_pr(ENV_REPO, head="bob/prod", base="env/prod")
    event = PullChanged(
        installation_id=1, repo=ENV_REPO, number=pull.number, action="opened", base_ref="env/prod"
    )
    await handle_pull_changed(event, workspace(gh))  # before: compare answered 404, dead-lettered
    (body,) = [c.body for r, n, c in gh.comments.values() if n == pull.number]
    assert "branch-ahead" not in body
