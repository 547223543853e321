"""An environment holding an executable values file and a symbolic link: the bot's commit keeps
the executable bit and leaves the link a link (git modes ``100755`` and ``120000``, GitHub's
OpenAPI ``git/create-tree``)."""

from __future__ import annotations

from bot.demo.harness import Stack
from github_sandbox import admin_client as calls
from tests.e2e.scenes import values
from tests.e2e.test_promotion import publish, pull_for, setup

VALUES = "envs/dev/values.yaml"
LINK = "envs/dev/current.yaml"


def test_the_promotion_commit_keeps_modes_and_links(stack: Stack) -> None:
    org = setup(stack, "modes")
    env = org.repo("env")
    files = {VALUES: values(org.name, "1.2.0"), LINK: "values.yaml"}
    modes = {VALUES: "100755", LINK: "120000"}
    stack.admin.run(calls.push(org.name, "env", pusher=org.person, files=files, modes=modes))
    publish(stack, org, "1.3.0")
    pull = pull_for(org, "dev", "1.3.0")
    tree = org.view.get(f"/repos/{env}/git/trees/{pull['head']['sha']}", recursive="1")
    listed = {entry["path"]: entry for entry in tree["tree"]}
    assert (listed[VALUES]["mode"], listed[LINK]["mode"]) == ("100755", "120000")
    assert org.view.file(env, VALUES, "promotion/api/dev") == values(org.name, "1.3.0")
    link = org.view.get(f"/repos/{env}/git/blobs/{listed[LINK]['sha']}")
    assert link["size"] == len("values.yaml")
