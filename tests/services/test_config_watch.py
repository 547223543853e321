"""An invalid config keeps exactly one issue open, edited in place and closed once fixed."""

from __future__ import annotations

from bot.adapters.catalog import builtin_policies
from bot.core.inputs.events import ConfigPushed, InstallationChanged
from bot.core.markup.metadata import extract
from bot.services.config_watch import handle_config_pushed, handle_installation_changed
from bot.services.workspace import ConfigCache
from tests.services.conftest import (
    CONFIG_FILE,
    DIRECTORY_CONFIG,
    ENV_REPO,
    directory_repo,
    workspace,
)
from tests.services.fakes import FakeGitHub

BAD_POLICY = DIRECTORY_CONFIG.replace("prod-safe", "prod-unsafe")
BAD_FIELD = DIRECTORY_CONFIG.replace("    source: acme/api\n", "    sauce: acme/api\n")


async def push_config(gh: FakeGitHub, text: str | None, cache: ConfigCache) -> None:
    if text is None:
        files = gh.files_at(ENV_REPO, "main")
        del files[CONFIG_FILE]
        head = gh.push(ENV_REPO, "main", files, replace_all=True)
    else:
        head = gh.push(ENV_REPO, "main", {CONFIG_FILE: text})
    event = ConfigPushed(installation_id=1, repo=ENV_REPO, ref="refs/heads/main", after=head)
    await handle_config_pushed(event, workspace(gh, cache))


def open_issues(gh: FakeGitHub) -> list[tuple[int, str]]:
    return [
        (n, i.body)
        for (_, n), i in sorted(gh.issues.items())
        if i.pull is None and i.state == "open"
    ]


async def test_invalid_config_opens_one_issue_until_fixed(gh: FakeGitHub) -> None:
    directory_repo(gh)
    cache = ConfigCache(builtin_policies())
    await push_config(gh, BAD_POLICY, cache)
    ((number, body),) = open_issues(gh)
    meta = extract(body)
    assert meta is not None and meta.kind == "config-error"
    assert "unknown policy 'prod-unsafe'" in body
    assert "| .github/promotion.yml | 9 | environments.2.policy.use |" in body
    redelivered = ConfigPushed(
        installation_id=1,
        repo=ENV_REPO,
        ref="refs/heads/main",
        after=gh.repos[ENV_REPO].branches["main"],
    )
    await handle_config_pushed(redelivered, workspace(gh, cache))
    assert gh.count("issues.edit") == 0 and gh.count("issues.open") == 1
    await push_config(gh, BAD_FIELD, cache)
    ((same, edited),) = open_issues(gh)
    assert same == number and "sauce" in edited and gh.count("issues.open") == 1
    await push_config(gh, DIRECTORY_CONFIG, cache)
    assert open_issues(gh) == [] and gh.count("issues.close") == 1


async def test_removed_config_closes_the_issue(gh: FakeGitHub) -> None:
    directory_repo(gh)
    cache = ConfigCache(builtin_policies())
    await push_config(gh, BAD_FIELD, cache)
    await push_config(gh, None, cache)
    assert open_issues(gh) == []


async def test_a_config_added_later_is_found(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, {"README.md": "# envs\n"})
    cache = ConfigCache(builtin_policies())
    assert await workspace(gh, cache).configs_of_installation() == []
    assert (1, ENV_REPO) in cache.without_config
    await push_config(gh, DIRECTORY_CONFIG, cache)
    assert cache.without_config == set()


async def test_installation_change_forgets_repositories(gh: FakeGitHub) -> None:
    gh.seed(ENV_REPO, {"README.md": "# envs\n"})
    cache = ConfigCache(builtin_policies())
    await workspace(gh, cache).configs_of_installation()
    event = InstallationChanged(installation_id=1, action="added", repositories_added=(ENV_REPO,))
    await handle_installation_changed(event, workspace(gh, cache))
    assert cache.without_config == set() and gh.count("installation.forget_repositories") == 1
