"""Onboarding: a repository added without a config but with images in its environments gets
one PR proposing the config; never a second, whatever is redelivered or re-run, and never again
once it is closed; read with as few calls as the answer needs."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.catalog import builtin_policies
from bot.adapters.versions_memory import VersionsInMemory
from bot.bootstrap import build_router
from bot.core.config import parse_config
from bot.core.config.onboarding import ONBOARDING_BRANCH
from bot.core.config.onboarding_render import ONBOARDING_TITLE
from bot.core.inputs.events import InstallationChanged
from bot.core.markup.metadata import extract
from bot.entrypoints.routing import EventContext
from bot.services import onboarding
from bot.services.github_ports import GitHubError, GitHubPorts, Repository
from bot.services.onboarding import (
    COMMIT_MESSAGE,
    Onboarded,
    handle_installation_changed,
    onboard,
    run_onboarding,
)
from bot.services.proposals import PROPOSAL_WRITES
from tests.services.conftest import CONFIG_FILE, ENV_REPO, values, workspace
from tests.services.fakes import BOT, FakeGitHub, FakeRepo, blob_sha

UNCONFIGURED = {
    "README.md": "# envs\n",
    "envs/dev/values.yaml": values("1.3.0"),
    "envs/staging/values.yaml": values("1.2.0"),
    "envs/prod/values.yaml": values("1.2.0"),
    "envs/prod/other.yaml": "replicas: 2\n",
}


READ_FIRST = (("dev", "values.yaml"), ("staging", "values.yaml"), ("prod", "other.yaml"))


def added(*repos: str, action: str = "created") -> InstallationChanged:
    return InstallationChanged(installation_id=1, action=action, repositories_added=repos)


async def install(gh: FakeGitHub, *repos: str, action: str = "created") -> list[Onboarded]:
    return await handle_installation_changed(added(*repos, action=action), workspace(gh))


def onboarding_pulls(gh: FakeGitHub, repo: str = ENV_REPO) -> list[int]:
    return [p.number for p in gh.pulls_of(repo) if p.head_ref == ONBOARDING_BRANCH]


async def test_an_installation_opens_one_onboarding_pr_with_the_config(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    (outcome,) = await install(gh, ENV_REPO)
    assert (outcome.action, outcome.number) == ("opened", 1)
    (pull,) = gh.pulls_of(ENV_REPO)
    assert (pull.head_ref, pull.base_ref, pull.title, pull.author) == (
        ONBOARDING_BRANCH,
        "main",
        ONBOARDING_TITLE,
        BOT,
    )
    meta = extract(pull.body)
    assert meta is not None and meta.kind == "onboarding"
    files = gh.files_at(ENV_REPO, ONBOARDING_BRANCH)
    assert {p: t for p, t in files.items() if p != CONFIG_FILE} == UNCONFIGURED
    config = parse_config(files[CONFIG_FILE], builtin=builtin_policies())
    assert [(e.name, e.path) for e in config.environments] == [
        ("dev", "envs/dev"),
        ("staging", "envs/staging"),
        ("prod", "envs/prod"),
    ]
    assert {name: app.image for name, app in config.apps.items()} == {"api": "ghcr.io/acme/api"}
    assert files[CONFIG_FILE] in pull.body
    assert gh.commit_messages[gh.repos[ENV_REPO].branches[ONBOARDING_BRANCH]] == COMMIT_MESSAGE


async def test_the_writes_are_reserved_together_before_the_first(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    writes = [c[0] for c in gh.calls if c[0] in ("pace.reserve", "git.commit_files", "pulls.open")]
    assert writes == ["pace.reserve", "git.commit_files", "pulls.open"]
    assert ("pace.reserve", PROPOSAL_WRITES) in gh.calls


async def test_the_api_budget_of_an_onboarding(gh: FakeGitHub) -> None:
    """Repositories (1), heads (1), tree (1), the PR lookup (1), one blob per distinct YAML
    file (3: staging's and prod's values are one blob), tree + commit + ref (3), the PR (1)."""
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    assert gh.rest == 1 + 1 + 1 + 1 + 3 + 3 + 1


def tfvars(tag: str) -> str:
    return (
        f'region    = "eu-west-1"\napi_image = "ghcr.io/acme/api:{tag}"\napi_image_tag = "{tag}"\n'
    )


TERRAFORM = {
    "README.md": "# envs\n",
    "terraform/main.tf": 'variable "api_image" {\n  type = string\n}\n',
    "terraform/environments/dev.tfvars": tfvars("1.3.0"),
    "terraform/environments/staging.tfvars": tfvars("1.2.0"),
    "terraform/environments/prod.tfvars": tfvars("1.2.0"),
}


async def test_a_tfvars_file_per_environment_is_onboarded_in_the_same_budget(
    gh: FakeGitHub,
) -> None:
    """The environments are the files; the calls are as for YAML: repositories, heads, tree,
    the PR lookup, one blob per distinct file (2), tree + commit + ref, the PR; the
    ``terraform/`` file outside the environments is not read."""
    gh.seed(ENV_REPO, TERRAFORM)
    (outcome,) = await install(gh, ENV_REPO)
    assert outcome.action == "opened"
    assert gh.rest == 1 + 1 + 1 + 1 + 2 + 3 + 1
    read = [c[2] for c in gh.calls if c[0] == "git.read_blob"]
    assert blob_sha(TERRAFORM["terraform/main.tf"]) not in read
    text = gh.files_at(ENV_REPO, ONBOARDING_BRANCH)[CONFIG_FILE]
    config = parse_config(text, builtin=builtin_policies())
    assert [(e.name, e.path) for e in config.environments] == [
        (env, f"terraform/environments/{env}.tfvars") for env in ("dev", "staging", "prod")
    ]
    assert {name: (app.image, app.tags) for name, app in config.apps.items()} == {
        "api": ("ghcr.io/acme/api", ())
    }
    assert "#   api_image_tag in dev, staging, prod\n" in text
    (pull,) = gh.pulls_of(ENV_REPO)
    assert "1. **dev**: file terraform/environments/dev.tfvars" in pull.body


@pytest.mark.parametrize("again", ["redelivery", "reconcile", "repositories added"])
async def test_nothing_makes_a_second_onboarding_pr(gh: FakeGitHub, again: str) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    if again == "redelivery":
        (outcome,) = await install(gh, ENV_REPO)
    elif again == "reconcile":
        (outcome,) = await run_onboarding(workspace(gh))
    else:
        (outcome,) = await install(gh, ENV_REPO, action="added")
    assert (outcome.action, outcome.reason) == ("skipped", "asked before in #1 (open)")
    assert onboarding_pulls(gh) == [1] and gh.count("git.commit_files") == 1


WORKER = "image:\n  repository: ghcr.io/acme/worker\n  tag: 2.0.0\n"


def proposed_apps(gh: FakeGitHub) -> list[str]:
    text = gh.files_at(ENV_REPO, ONBOARDING_BRANCH)[CONFIG_FILE]
    return sorted(parse_config(text, builtin=builtin_policies()).apps)


async def test_open_it_follows_the_default_branch_in_its_one_commit(gh: FakeGitHub) -> None:
    """An app added on the default branch while the PR is open: the bot rewrites its commit
    from the new head and the body; still one PR, one commit on the branch."""
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    head = gh.push(ENV_REPO, "main", {"envs/dev/worker.yaml": WORKER})
    gh.issues[(ENV_REPO, 1)].title = "Configure Promotion Bot for the envs"  # a person's words
    gh.calls.clear()
    (outcome,) = await run_onboarding(workspace(gh))
    assert (outcome.action, outcome.number) == ("updated", 1)
    assert proposed_apps(gh) == ["api", "worker"]
    [commit] = await gh.commits_between(ENV_REPO, "main", ONBOARDING_BRANCH)
    assert gh.commits[commit.sha][1] == head and commit.message == COMMIT_MESSAGE
    (pull,) = gh.pulls_of(ENV_REPO)
    issue = gh.issues[(ENV_REPO, pull.number)]
    assert "ghcr.io/acme/worker" in issue.body
    assert issue.title == "Configure Promotion Bot for the envs"
    writes = [
        c[0] for c in gh.calls if c[0] in ("pace.reserve", "git.commit_files", "pulls.update")
    ]
    assert writes == ["pace.reserve", "git.commit_files", "pulls.update"]
    assert gh.count("pulls.open") == 0


async def test_open_and_unchanged_it_costs_no_call_after_the_first_look(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    await run_onboarding(workspace(gh))  # reads the branch's tree and file once
    before = gh.rest
    (outcome,) = await run_onboarding(workspace(gh))
    assert (outcome.action, outcome.reason) == ("skipped", "asked before in #1 (open)")
    assert gh.rest - before == 1 + 1  # the heads and the PR lookup, as before this change


async def test_open_and_edited_by_a_person_it_is_left_as_it_is(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    edited = gh.files_at(ENV_REPO, ONBOARDING_BRANCH)[CONFIG_FILE] + "# checked by alice\n"
    gh.push(ENV_REPO, ONBOARDING_BRANCH, {CONFIG_FILE: edited})
    gh.push(ENV_REPO, "main", {"envs/dev/worker.yaml": WORKER})
    (outcome,) = await run_onboarding(workspace(gh))
    assert (outcome.action, outcome.reason) == ("skipped", "#1 (open) was edited by a person")
    assert gh.files_at(ENV_REPO, ONBOARDING_BRANCH)[CONFIG_FILE] == edited
    assert gh.count("git.commit_files") == 1 and gh.count("pulls.update") == 0


async def test_closed_it_is_never_asked_again_and_nothing_is_read(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    gh.close(ENV_REPO, 1, merged=False)
    gh.push(ENV_REPO, "main", {"envs/dev/values.yaml": values("1.4.0")})
    gh.calls.clear()
    (outcome,) = await run_onboarding(workspace(gh))
    assert outcome.reason == "asked before in #1 (closed)"
    assert onboarding_pulls(gh) == [1]
    assert gh.count("git.read_blob") == 0  # the PR lookup comes before any file is read


async def test_merged_the_bot_has_its_config(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    await install(gh, ENV_REPO)
    gh.close(ENV_REPO, 1, merged=True)
    gh.calls.clear()
    (outcome,) = await run_onboarding(workspace(gh))
    assert (outcome.action, outcome.reason) == ("skipped", "configured")
    assert gh.count("pulls.history") == 0


async def test_a_half_done_onboarding_opens_its_pr_on_the_existing_branch(
    gh: FakeGitHub,
) -> None:
    """The job stopped after the branch was written: the next run opens the PR once."""
    gh.seed(ENV_REPO, UNCONFIGURED)
    gh.branch(ENV_REPO, ONBOARDING_BRANCH, {CONFIG_FILE: "half\n"})
    (outcome,) = await install(gh, ENV_REPO)
    assert outcome.action == "opened"
    assert [c[3] for c in gh.calls if c[0] == "git.commit_files"] == [False]  # moved, not made


async def test_a_pr_on_the_branch_by_someone_else_is_not_the_bots_question(
    gh: FakeGitHub,
) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    gh.branch(ENV_REPO, ONBOARDING_BRANCH, {CONFIG_FILE: "mine\n"})
    person = gh.open_person_pr(ENV_REPO, head=ONBOARDING_BRANCH, base="main")
    gh.close(ENV_REPO, person.number, merged=False)
    (outcome,) = await install(gh, ENV_REPO)
    assert outcome.action == "opened"


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({CONFIG_FILE: "version: 1\n", **UNCONFIGURED}, "configured"),
        (
            {"README.md": "# app\n", "deploy/values.yaml": values("1.0.0")},
            "no directory or branch named like an environment",
        ),
        (
            {"envs/dev/values.yaml": "replicas: 1\n", "envs/prod/values.yaml": "replicas: 2\n"},
            "no image reference in the environments",
        ),
    ],
    ids=["configured", "no environments", "no images"],
)
async def test_a_repository_that_needs_no_onboarding_gets_none(
    gh: FakeGitHub, files: dict[str, str], reason: str
) -> None:
    gh.seed(ENV_REPO, files)
    (outcome,) = await install(gh, ENV_REPO)
    assert (outcome.action, outcome.reason) == ("skipped", reason)
    assert gh.pulls_of(ENV_REPO) == [] and gh.count("pace.reserve") == 0
    if reason != "no image reference in the environments":
        assert gh.count("pulls.history") == 0 and gh.count("git.read_blob") == 0


async def test_a_branch_per_environment_repository(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, {"README.md": "# envs\n"})
    for env, tag in (("dev", "1.3.0"), ("prod", "1.2.0")):
        gh.branch(ENV_REPO, f"env/{env}", {"values.yaml": values(tag)})
    (outcome,) = await install(gh, ENV_REPO)
    assert outcome.action == "opened"
    text = gh.files_at(ENV_REPO, ONBOARDING_BRANCH)[CONFIG_FILE]
    config = parse_config(text, builtin=builtin_policies())
    assert [(e.name, e.branch) for e in config.environments] == [
        ("dev", "env/dev"),
        ("prod", "env/prod"),
    ]


@pytest.mark.parametrize("action", ["deleted", "removed", "suspend"])
async def test_only_repositories_added_are_onboarded(gh: FakeGitHub, action: str) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    assert await install(gh, ENV_REPO, action=action) == []
    assert ("installation.forget_repositories",) in gh.calls
    assert gh.pulls_of(ENV_REPO) == []


async def test_a_repository_the_installation_cannot_reach_is_passed_over(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    outcomes = await install(gh, "acme/elsewhere", ENV_REPO)
    assert [(o.repo, o.action) for o in outcomes] == [(ENV_REPO, "opened")]


async def test_in_a_pass_one_repository_failing_does_not_stop_the_others(
    gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh.seed("acme/broken", UNCONFIGURED)
    gh.seed(ENV_REPO, UNCONFIGURED)
    history = gh.history

    async def failing(repo: str, head_branch: str) -> object:
        if repo == "acme/broken":
            raise GitHubError("listing pull requests failed repo=acme/broken: 502")
        return await history(repo, head_branch)

    monkeypatch.setattr(gh, "history", failing)
    outcomes = await run_onboarding(workspace(gh))
    assert [(o.repo, o.action) for o in outcomes] == [
        ("acme/broken", "skipped"),
        (ENV_REPO, "opened"),
    ]


async def test_the_routing_table_and_the_reconcile_pass_onboard(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    gh.seed("acme/other", UNCONFIGURED)

    def ports_for(installation_id: int | None) -> GitHubPorts:
        return gh.ports()

    router, services = build_router(ports_for, lambda: gh.now, VersionsInMemory())
    context = EventContext(job_id=1, attempt=1, merged=1)
    assert await router.dispatch(added(ENV_REPO), context)
    assert onboarding_pulls(gh) == [1] and onboarding_pulls(gh, "acme/other") == []
    await services.reconcile(1)  # installed while the bot was down: the pass finds it
    await services.reconcile(1)
    assert onboarding_pulls(gh) == [1] and onboarding_pulls(gh, "acme/other") == [1]


async def test_archived_and_empty_repositories_are_passed_over(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    gh.repos["acme/empty"] = FakeRepo()
    archived = Repository(ENV_REPO, "main", archived=True)
    assert (await onboard(workspace(gh), archived)).reason == "archived"
    (outcome,) = await install(gh, "acme/empty")
    assert (outcome.action, outcome.reason) == ("skipped", "no default branch main")
    assert gh.pulls_of(ENV_REPO) == []


async def test_at_most_max_files_are_read_shared_by_the_environments(
    gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    monkeypatch.setattr(onboarding, "MAX_FILES", 3)
    (outcome,) = await install(gh, ENV_REPO)
    assert outcome.action == "opened"
    # One file each, in name order: prod's other.yaml holds no image, its values.yaml is unread.
    read = [c[2] for c in gh.calls if c[0] == "git.read_blob"]
    assert read == [blob_sha(UNCONFIGURED[f"envs/{e}/{f}"]) for e, f in READ_FIRST]
    text = gh.files_at(ENV_REPO, ONBOARDING_BRANCH)[CONFIG_FILE]
    environments = parse_config(text, builtin=builtin_policies()).environments
    assert [e.name for e in environments] == ["dev", "staging"]


async def test_two_replicas_at_once_make_one_pr(gh: FakeGitHub) -> None:
    """Both look before either opens: GitHub refuses the second PR from the branch (the fake
    does too), that job fails and, run again, finds the first."""
    gh.seed(ENV_REPO, UNCONFIGURED)
    event = added(ENV_REPO)
    results = await asyncio.gather(
        handle_installation_changed(event, workspace(gh)),
        handle_installation_changed(event, workspace(gh)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["GitHubError", "list"]
    (retried,) = await handle_installation_changed(event, workspace(gh))
    assert retried.reason == "asked before in #1 (open)"
    assert onboarding_pulls(gh) == [1]


async def test_a_config_the_bot_would_refuse_is_never_proposed(
    gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh.seed(ENV_REPO, UNCONFIGURED)
    monkeypatch.setattr(onboarding, "render_config", lambda proposal: "version: 2\n")
    (outcome,) = await install(gh, ENV_REPO)
    assert outcome.action == "skipped"
    assert outcome.reason.startswith("the config it would propose is invalid: ")
    assert gh.count("pace.reserve") == 0 and gh.pulls_of(ENV_REPO) == []
