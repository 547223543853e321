"""``promotion-bot drift PATH`` on generated local clones: output shapes and exit statuses."""

from __future__ import annotations

import asyncio
import io
import json
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.github import GitHubGateway
from bot.adapters.github_token import TokenGateway
from bot.cli import COMMAND_MODULES, build_parser, main
from bot.cli import drift as drift_cli
from bot.cli.drift import USAGE, _progress, audit_remote, audit_with_token
from bot.services.github_ports import NotFound, Repository
from github_sandbox import admin_client as calls
from tests.adapters import gitrepos
from tests.adapters.test_github_ports import BRANCH, ENV, grant, promote, reset
from tests.sandbox.conftest import OWNER, World
from tests.services.conftest import CONFIG_FILE, DIRECTORY_CONFIG, values

pytest_plugins = ["tests.adapters.test_github_ports"]

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "drift.yml"
NOW = "2026-12-06T12:00:00Z"


@pytest.fixture
def drifted(tmp_path: Path) -> Path:
    gitrepos.dirs_repo(tmp_path / "repo")
    return tmp_path / "repo"


def test_drift_is_a_listed_command() -> None:
    assert "bot.cli.drift" in COMMAND_MODULES


def test_table_and_exit_1_on_drift(drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", str(drifted), "--now", NOW]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("Drift in repo: 4 differences")
    assert "more replicas by hand" in out
    # Environments and files left alone are named on stderr too; no progress off a terminal.
    assert "skipped edge: (environment): in another repository (acme/elsewhere)" in err
    assert "skipped prod: link.yaml: a symbolic link" in err
    assert "reading files" not in err


def test_json(drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", str(drifted), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["count"] == 4
    assert data["environments"] == ["dev", "staging", "prod"]


def test_markdown(drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", str(drifted), "--markdown", "--now", NOW]) == 1
    out = capsys.readouterr().out
    assert '"kind":"drift-report"' in out
    assert "more replicas by hand" in out


def test_in_sync_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gitrepos.in_sync_repo(tmp_path / "repo")
    assert main(["drift", str(tmp_path / "repo"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "not a directory"),
        ("empty", "not a git repository"),
        ("no-config", "no .github/promotion.yml"),
        ("bad-config", "invalid config"),
        ("bad-now", "--now is not an ISO 8601 time"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(
    tmp_path: Path, setup: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    now = "yesterday" if setup == "bad-now" else NOW
    if setup != "missing":
        repo.mkdir()
    if setup in ("no-config", "bad-config", "bad-now"):
        gitrepos.git(repo, "init", "-q")
        config = "version: 1\nenvironments: []\n" if setup == "bad-config" else "a: 1\n"
        name = ".github/promotion.yml" if setup != "no-config" else "x.yaml"
        gitrepos.commit(repo, "first", {name: config})
    assert main(["drift", str(repo), "--now", now]) == USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("promotion-bot drift: ") and message in err
    assert "Traceback" not in err


def test_json_and_markdown_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["drift", ".", "--json", "--markdown"])
    assert exited.value.code == 2


def test_the_example_workflow_runs_this_command() -> None:
    """The GitHub Actions example checks out every branch and runs a command the CLI has."""
    workflow = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    assert "schedule" in workflow[True]  # YAML 1.1 reads the key "on" as True
    steps = workflow["jobs"]["drift"]["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = [line for s in steps for line in str(s.get("run", "")).splitlines()]
    drift = [line for line in runs if "promotion-bot drift" in line]
    assert drift, runs
    for line in drift:
        words = shlex.split(line.split("promotion-bot", 1)[1].split("|")[0].split(">")[0])
        args = build_parser().parse_args(words)
        assert args.command == "drift" and args.path == "."


def test_the_example_workflows_api_alternative_runs_this_command() -> None:
    """The commented API step, uncommented, is a step whose command the CLI has, with a token."""
    lines = WORKFLOW.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "# - name: Audit drift through" in line)
    step = yaml.safe_load("\n".join(line.replace("# ", "", 1) for line in lines[start:]))[0]
    assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    command = step["run"].replace("\\\n", " ").split("promotion-bot", 1)[1].split("||")[0]
    args = build_parser().parse_args(shlex.split(command.split(">")[0]))
    assert (args.path, args.bot_login, args.markdown) == (
        "$GITHUB_REPOSITORY",
        "promotion-bot[bot]",
        True,
    )


async def test_owner_name_is_audited_through_the_api(gateway: GitHubGateway, world: World) -> None:
    files = {CONFIG_FILE: DIRECTORY_CONFIG, "envs/dev/values.yaml": values("1.3.0")}
    files |= {f"envs/{env}/values.yaml": values("1.2.0") for env in ("staging", "prod")}
    await world.admin.run(calls.create_repo(OWNER, "gitops", files=files))
    await world.admin.run(grant(world.installation_id, "gitops"))
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    report = await audit_remote(gateway, f"{OWNER}/gitops", now=now)
    assert report.repo == f"{OWNER}/gitops"
    assert [(b.app, b.environment, b.version) for b in report.syncs()] == [
        ("api", "staging", "1.3.0")
    ]
    with pytest.raises(ValueError, match="not reachable by any installation"):
        await audit_remote(gateway, f"{OWNER}/elsewhere", now=now)


def test_owner_name_without_app_credentials_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # acme/gitops is no directory here
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE"):
        monkeypatch.delenv(f"PROMOTION_BOT_{name}", raising=False)
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):  # set when the tests run in GitHub Actions
        monkeypatch.delenv(name, raising=False)
    assert main(["drift", "acme/gitops"]) == USAGE
    err = capsys.readouterr().err
    assert "acme/gitops is no directory here, so it is read through the API" in err
    assert "PROMOTION_BOT_APP_ID" in err and "GITHUB_TOKEN or GH_TOKEN" in err
    assert "Traceback" not in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_only() -> None:
    assert _progress(io.StringIO()) is None
    out = Terminal()
    show = _progress(out)
    assert show is not None
    for done in range(1, 501):
        show(done, 500)
    assert out.getvalue() == "\rreading files 200/500\rreading files 400/500" + (
        "\rreading files 500/500\r\x1b[K"
    )


# A plain token (GITHUB_TOKEN in GitHub Actions): the same audit without the App's credentials.

BOT = "promoter[bot]"  # the sandbox App's account (tests.sandbox.conftest names it "promoter")


async def gitops_with_a_reader(world: World) -> str:
    """A private ``acme/gitops`` drifted by one version, and the token of a user who may read
    it."""
    files = {CONFIG_FILE: DIRECTORY_CONFIG, "envs/dev/values.yaml": values("1.3.0")}
    files |= {f"envs/{env}/values.yaml": values("1.2.0") for env in ("staging", "prod")}
    await world.admin.run(calls.create_repo(OWNER, "gitops", files=files, private=True))
    reader = await world.admin.run(calls.create_user("ci"))
    await world.admin.run(calls.grant_role(OWNER, "gitops", reader.login, "read"))
    return reader.token


def tokens(world: World, token: str) -> TokenGateway:
    return TokenGateway(token, bot_login=BOT, base_url=world.base_url, transport=world.transport)


async def test_a_token_reads_the_named_repository_and_trusts_the_given_login(
    gateway: GitHubGateway, world: World
) -> None:
    token = await gitops_with_a_reader(world)
    app = gateway.ports_for(world.installation_id)
    await promote(app, "1.1.0")
    pull = await app.pulls.open(ENV, head=BRANCH, base="main", title="Promote web", body="b")
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    await reset(world)
    async with tokens(world, token) as gw:
        report = await audit_with_token(gw, f"{OWNER}/gitops", now=now)
        ports = gw.ports(ENV, f"{OWNER}/missing")
        assert await ports.installation.repositories() == (Repository(ENV, "main", False),)
        assert [(p.number, p.by_bot) for p in await ports.pulls.recent(ENV, state="open")] == [
            (pull.number, True)
        ]
    assert [(b.app, b.environment, b.version) for b in report.syncs()] == [
        ("api", "staging", "1.3.0")
    ]
    log = await world.admin.run(calls.requests_log())
    routes = {r["route"] for r in log}
    assert "/repos/{owner}/{repo}" in routes and "/app" not in routes


@pytest.fixture
def token_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, world: World
) -> Callable[[str], None]:
    """``main`` reads the sandbox with the token it is given, as in GitHub Actions."""
    monkeypatch.chdir(tmp_path)  # acme/gitops is no directory here
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE"):
        monkeypatch.delenv(f"PROMOTION_BOT_{name}", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("PROMOTION_BOT_GITHUB_URL", world.base_url)

    class SandboxTokens(TokenGateway):
        def __init__(self, token: str, **options: Any) -> None:
            super().__init__(token, transport=world.transport, **options)

    monkeypatch.setattr(drift_cli, "TokenGateway", SandboxTokens)
    return lambda token: monkeypatch.setenv("GITHUB_TOKEN", token)


async def test_main_uses_github_token_without_app_credentials(
    world: World, token_env: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    token = await gitops_with_a_reader(world)
    token_env(token)
    args = ["drift", f"{OWNER}/gitops", "--json", "--bot-login", BOT]
    assert await asyncio.to_thread(main, args) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["count"] == 1
    assert token not in out + err


async def test_a_token_that_cannot_read_the_repository_exits_2(
    world: World,
    token_env: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await gitops_with_a_reader(world)
    stranger = await world.admin.run(calls.create_user("stranger"))
    cases = [
        (stranger.token, "repository not readable with the token in GITHUB_TOKEN repo=acme/gitops"),
        ("ghs_" + "x" * 36, "status=401"),  # no such token
    ]
    for token, message in cases:
        token_env(token)
        assert await asyncio.to_thread(main, ["drift", f"{OWNER}/gitops"]) == USAGE
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("promotion-bot drift: ")
        assert message in err and "Traceback" not in err
        assert token not in out + err + caplog.text


async def test_a_token_reads_an_environment_in_another_repository(world: World) -> None:
    """``repo:`` names a repository the token reads too; one it cannot see stops the audit."""
    config = DIRECTORY_CONFIG.replace(
        "    path: envs/prod\n", "    path: envs/prod\n    repo: acme/prod-env\n"
    )
    files = {CONFIG_FILE: config, "envs/dev/values.yaml": values("1.3.0")}
    files |= {"envs/staging/values.yaml": values("1.3.0")}
    prod = {"envs/prod/values.yaml": values("1.2.0")}
    await world.admin.run(calls.create_repo(OWNER, "gitops", files=files, private=True))
    await world.admin.run(calls.create_repo(OWNER, "prod-env", files=prod, private=True))
    reader = await world.admin.run(calls.create_user("ci"))
    await world.admin.run(calls.grant_role(OWNER, "gitops", reader.login, "read"))
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    async with tokens(world, reader.token) as gw:
        with pytest.raises(NotFound, match="repo=acme/prod-env"):
            await audit_with_token(gw, f"{OWNER}/gitops", now=now)
    await world.admin.run(calls.grant_role(OWNER, "prod-env", reader.login, "read"))
    async with tokens(world, reader.token) as gw:
        report = await audit_with_token(gw, f"{OWNER}/gitops", now=now)
    assert [(b.app, b.environment, b.version) for b in report.syncs()] == [("api", "prod", "1.3.0")]
