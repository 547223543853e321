"""An environment repository built to hurt: an alias bomb, a 50 MB file, a symbolic link and
executables (issue 11, defects 2 to 4). Throughout, the bot answers ``/healthz`` within a second
and its peak memory stays under 256 MB; the promotion keeps modes and links; each file it leaves
alone is named with its reason where the user reads (the PR body, the review comment)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.demo.harness import Stack
from bot.demo.runners import BotProcess, wait_until
from github_sandbox import admin_client as calls
from github_sandbox.collab_admin import ActAs
from tests.e2e.harness import organisation
from tests.e2e.scenes import APP_REPO, directory_repo, values
from tests.e2e.test_promotion import publish, pull_for
from tests.e2e.test_review import bot_comments
from tests.hostile import laughs, padding

VALUES = "envs/dev/values.yaml"
LINK = "envs/dev/current.yaml"
SCRIPT = "envs/dev/smoke.sh"
BOMB = "envs/dev/bomb.yaml"
BIG = "envs/dev/big.yaml"
BIG_BYTES = 50 * (1 << 20)
RSS_LIMIT_KB = 256 * 1024


def big() -> str:
    return padding(BIG_BYTES)


@contextmanager
def health_watch(url: str) -> Iterator[list[float]]:
    """Ask ``url``/healthz every 100 ms while the block runs; the answer times, in seconds (a
    failure counts as 99)."""
    times: list[float] = []
    done = threading.Event()

    def watch() -> None:
        with httpx.Client(timeout=5) as client:
            while not done.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get(f"{url}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                times.append(time.perf_counter() - started if ok else 99.0)
                done.wait(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield times
    finally:
        done.set()
        thread.join()


def peak_rss_kb(bot: BotProcess) -> int:
    assert bot.proc is not None
    status = Path(f"/proc/{bot.proc.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))


def test_a_hostile_environment_hurts_nobody(stack: Stack) -> None:
    assert isinstance(stack.bot, BotProcess)
    files = directory_repo("hostile-repo")
    files[".github/promotion.yml"] = files[".github/promotion.yml"].replace(
        'files: ["values.yaml"]', 'files: ["*.yaml"]'
    )
    org = organisation(stack, "hostile-repo", {"env": files, "api": APP_REPO})
    env = org.repo("env")
    hostile = {
        VALUES: values(org.name, "1.2.0"),
        LINK: "values.yaml",
        SCRIPT: "#!/bin/sh\nexit 0\n",
        BOMB: laughs(),
        BIG: big(),
    }
    modes = {VALUES: "100755", LINK: "120000", SCRIPT: "100755"}
    with health_watch(stack.bot.url) as answers:
        stack.admin.run(calls.push(org.name, "env", pusher=org.person, files=hostile, modes=modes))
        publish(stack, org, "1.3.0")
        pull = pull_for(org, "dev", "1.3.0")
        # A person's PR brings the bomb and the big file to prod too.
        prod = {p.replace("/dev/", "/prod/"): hostile[p] for p in (BOMB, BIG)}
        stack.admin.run(calls.push(org.name, "env", pusher=org.person, branch="m", files=prod))
        opened = stack.admin.run(
            ActAs(org.person).open_pull(org.name, "env", head="m", base="main", title="Mine")
        )
        (comment,) = wait_until(lambda: bot_comments(org, opened["number"]), "the review")
        stack.settle()
    assert answers and max(answers) <= 1.0, f"slowest /healthz: {max(answers):.2f} s"
    assert peak_rss_kb(stack.bot) < RSS_LIMIT_KB

    tree = org.view.get(f"/repos/{env}/git/trees/{pull['head']['sha']}", recursive="1")
    listed = {entry["path"]: entry["mode"] for entry in tree["tree"]}
    assert (listed[VALUES], listed[LINK], listed[SCRIPT]) == ("100755", "120000", "100755")
    assert org.view.file(env, VALUES, "promotion/api/dev") == values(org.name, "1.3.0")
    body = org.view.get(f"/repos/{env}/pulls/{pull['number']}")["body"]
    for path, why in [
        (BOMB, "over 250,000 YAML nodes once its aliases are expanded"),
        (BIG, "50.1 MiB, over the 1 MiB the bot reads"),
        (LINK, "a symbolic link, which the bot never edits through"),
    ]:
        assert f"{path} \\({why}\\)" in body
    review = comment["body"]
    assert "#### Not reviewed" in review
    assert "- bomb.yaml: over 250,000 YAML nodes once its aliases are expanded" in review
    assert "- big.yaml: 50.1 MiB, over the 1 MiB the bot reads" in review
