"""Reconciling proposes what lost webhooks would have, and nothing on a second run."""

from __future__ import annotations

from bot.services.proposals import Outcome
from bot.services.reconcile import run_reconcile
from tests.services.conftest import DIRECTORY_CONFIG, ENV_REPO, directory_repo, workspace
from tests.services.fakes import FakeGitHub


def summary(outcomes: list[Outcome]) -> list[str]:
    return sorted(f"{o.environment}:{o.action}" for o in outcomes if o.action != "skipped")


async def test_reconcile_opens_missing_prs_once(gh: FakeGitHub) -> None:
    # dev already runs 1.3.0 (its merge webhook was lost); the source offers 1.4.0.
    directory_repo(gh, tags=("1.3.0", "1.2.0", "1.2.0"))
    gh.tags["acme/api"] = ("v1.4.0", "v1.4.0-rc.1", "v1.3.0", "prod-v9.0.0", "junk")
    outcomes = await run_reconcile(workspace(gh))
    assert summary(outcomes) == ["dev:opened", "staging:opened"]
    versions = {p.head_ref: p.title for p in gh.pulls_of(ENV_REPO)}
    assert versions == {
        "promotion/api/dev": "Promote api 1.4.0 to dev",
        "promotion/api/staging": "Promote api 1.3.0 to staging",
    }
    again = await run_reconcile(workspace(gh))
    assert summary(again) == [] and gh.count("git.commit_files") == 2


async def test_reconcile_reads_container_versions_without_a_source(gh: FakeGitHub) -> None:
    directory_repo(gh, config=DIRECTORY_CONFIG.replace("    source: acme/api\n", ""))
    gh.packages["ghcr.io/acme/api"] = ("1.2.1", "1.2.0", "sha256-abc.sig")
    assert summary(await run_reconcile(workspace(gh))) == ["dev:opened"]


async def test_reconcile_survives_an_unknown_source(gh: FakeGitHub) -> None:
    directory_repo(gh)
    assert summary(await run_reconcile(workspace(gh))) == []
    assert gh.count("sources.list_tags") == 1
