"""Terraform environments: one ``.tfvars`` file per environment in one directory
(``terraform/environments/{dev,staging,prod}.tfvars``), each environment's ``path`` naming its
file. One version travels dev -> staging -> prod by pull request; each PR changes the tag
characters of that one file (a full reference, a map entry and a bare tag the config names)
and nothing else. A person's PR to one of them gets the review comment, compared with the
environment before it."""

from __future__ import annotations

from bot.demo.harness import Stack
from bot.demo.runners import wait_until
from github_sandbox import admin_client as calls
from github_sandbox.collab_admin import ActAs
from tests.e2e.harness import Org, organisation
from tests.e2e.scenes import APP_REPO, CONFIG_FILE, ENVS
from tests.e2e.test_promotion import publish, pull_for

DIRECTORY = "terraform/environments"


def tfvars(org: str, env: str, tag: str) -> str:
    """An environment's variables: comments, alignment and the heredoc must survive the edits."""
    return (
        f"# {env}: terraform apply -var-file=environments/{env}.tfvars\r\n"
        'region        = "eu-west-1"\r\n'
        f'api_image     = "ghcr.io/{org}/api:{tag}" # full reference\r\n'
        f'api_image_tag = "{tag}"                       # bare tag: apps.api.tags\r\n'
        "services = {\r\n"
        f'  api    = {{ image = "ghcr.io/{org}/api:{tag}", replicas = 2 }}\r\n'
        '  worker = { image = "ghcr.io/acme/worker:9.9.9", replicas = 1 }\r\n'
        "}\r\n"
        "motd = <<EOT\r\n"
        f"ghcr.io/{org}/api:0.0.1 is the first release\r\n"
        "EOT"
    )


def config(org: str) -> str:
    environments = "".join(f"  - name: {env}\n    path: {DIRECTORY}/{env}.tfvars\n" for env in ENVS)
    return f"""\
version: 1
environments:
{environments}apps:
  api:
    image: ghcr.io/{org}/api
    source: {org}/api
    tags:
      - key: api_image_tag
"""


def setup(stack: Stack, name: str) -> Org:
    env_repo = {CONFIG_FILE: config(name), "README.md": "# environments\n"}
    env_repo |= {f"{DIRECTORY}/{env}.tfvars": tfvars(name, env, "1.2.0") for env in ENVS}
    return organisation(stack, name, {"env": env_repo, "api": APP_REPO})


def test_a_version_travels_through_tfvars_environments(stack: Stack) -> None:
    name = "terraform-layout"
    org = setup(stack, name)
    env_repo_name = org.repo("env")

    publish(stack, org, "1.3.0")
    for env in ENVS:
        path = f"{DIRECTORY}/{env}.tfvars"
        pull = pull_for(org, env, "1.3.0")
        assert pull["base"]["ref"] == "main"
        files = org.view.get(f"/repos/{env_repo_name}/pulls/{pull['number']}/files")
        assert [f["filename"] for f in files] == [path]
        proposed = org.view.file(env_repo_name, path, f"promotion/api/{env}")
        assert proposed == tfvars(name, env, "1.3.0")
        stack.admin.run(ActAs(org.person).merge(org.name, "env", pull["number"]))

    for env in ENVS:
        path = f"{DIRECTORY}/{env}.tfvars"
        assert org.view.file(env_repo_name, path, "main") == tfvars(name, env, "1.3.0")


def test_a_persons_tfvars_pr_is_reviewed_against_the_environment_before(stack: Stack) -> None:
    org = setup(stack, "terraform-review")
    prod = f"{DIRECTORY}/prod.tfvars"
    files: dict[str, str | None] = {prod: tfvars(org.name, "prod", "1.4.0")}
    stack.admin.run(calls.push(org.name, "env", pusher=org.person, branch="hotfix", files=files))
    opened = stack.admin.run(
        ActAs(org.person).open_pull(org.name, "env", head="hotfix", base="main", title="Hotfix")
    )

    def review() -> str | None:
        found = org.view.comments(org.repo("env"), opened["number"])
        bodies = [c["body"] for c in found if c["user"]["login"] == "promotion-bot[bot]"]
        return bodies[0] if bodies else None

    body = wait_until(review, "the review comment")
    assert "Promotion review: api in prod" in body
    assert "1.2.0" in body and "1.4.0" in body  # the image change, read from the tfvars
    assert "#### Warnings" in body  # prod would run a version staging never had
