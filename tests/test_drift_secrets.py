"""Secrets planted in every place the drift audit looks never leave (issue 12): not in the
drift-report issue, the review comment, the command line's table, JSON or Markdown, its stderr,
or the logs; no six consecutive characters of any of them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.inputs.events import PullChanged
from bot.services.drift_report import publish
from bot.services.review import handle_pull_changed
from tests.adapters import gitrepos
from tests.services.conftest import ENV_REPO, directory_repo, workspace
from tests.services.fakes import FakeGitHub

# One per place: a Secret's stringData and data, a SOPS value and its MAC, a SealedSecret's
# ciphertext, a credential-looking key, a token shape under an innocent key.
SECRETS = {
    "secret.yaml": (
        "kind: Secret\nmetadata: {{name: db}}\nstringData:\n  password: {}\n",
        "Hq7xVw2Kp9zRt",
    ),
    "data.yaml": (
        "kind: Secret\nmetadata: {{name: api}}\ndata:\n  token: {}\n",
        "c2VjcmV0LXRva2VuLXZhbHVl",
    ),
    "sops.yaml": ("token: ENC[AES256_GCM,data:{},type:str]\n", "Zk9Ua2VuQmx1ZQ"),
    "sops-mac.yaml": ("key: 1\nsops:\n  mac: {}\n", "Xq8Lm3vRt6Jk"),
    "sealed.yaml": (
        "kind: SealedSecret\nspec:\n  encryptedData:\n    password: {}\n",
        "AgBy3i4OJSWK+PiTySYZZA",
    ),
    "creds.yaml": ("database:\n  password: {}\n", "Tq0ub4dWx8zM3"),
    "token.yaml": ("notes: {}\n", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
}


def files(side: str) -> dict[str, str]:
    """The same files in each environment, each secret different per side (so it differs)."""
    return {name: text.format(value + side) for name, (text, value) in SECRETS.items()}


def leaks(text: str) -> list[str]:
    found = []
    for _, value in SECRETS.values():
        for side in ("A", "B"):
            secret = value + side
            found += [secret for i in range(len(secret) - 5) if secret[i : i + 6] in text]
    return sorted(set(found))


async def test_the_issue_the_review_and_the_logs_show_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    gh = FakeGitHub()
    directory_repo(gh, tags=("1.3.0", "1.3.0", "1.2.0"))
    for env, side in (("dev", "A"), ("staging", "A"), ("prod", "B")):
        gh.push(ENV_REPO, "main", {f"envs/{env}/{n}": t for n, t in files(side).items()})
    ws = workspace(gh)
    (loaded,) = await ws.configs_of_installation()
    assert (await publish(ws, loaded))[0] == "opened"
    gh.branch(ENV_REPO, "mallory/leak", {f"envs/prod/{n}": t for n, t in files("A").items()})
    pull = gh.open_person_pr(ENV_REPO, head="mallory/leak", base="main")
    event = PullChanged(
        installation_id=1, repo=ENV_REPO, number=pull.number, action="opened", base_ref="main"
    )
    await handle_pull_changed(event, workspace(gh))
    report = next(i.body for i in gh.issues.values() if "drift-report" in i.body)
    assert "secret.yaml" in report  # the difference is reported ...
    outputs = [report, *(c.body for _, _, c in gh.comments.values()), caplog.text]
    assert [leaks(text) for text in outputs] == [[]] * len(outputs)  # ... never the value


def test_the_command_line_shows_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    gitrepos.in_sync_repo(root)
    planted = {
        f"envs/{env}/{n}": t
        for env, side in (("dev", "A"), ("staging", "A"), ("prod", "B"))
        for n, t in files(side).items()
    }
    gitrepos.commit(root, "secrets", planted)
    for flags in ([], ["--json"], ["--markdown"]):
        assert main(["drift", str(root), *flags]) == 1
        out, err = capsys.readouterr()
        assert "secret.yaml" in out
        assert leaks(out + err) == []
