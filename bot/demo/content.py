"""What the demo's repositories hold: an app repository and two environment repositories (one
directory per environment; one branch per environment), with Helm values written the way people
write them (comments, quotes, an anchor and its alias) so the bot's byte-exact edits show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ORG = "acme"
APP_REPO = "api"
ENV_REPO = "environments"  # dev, staging and prod as directories of main
BRANCH_REPO = "environments-by-branch"  # env/dev, env/staging and env/prod branches
IMAGE = f"ghcr.io/{ORG}/{APP_REPO}"
APP = "api"
ENVIRONMENTS = ("dev", "staging", "prod")
RUNNING = "1.3.0"  # what every environment runs before the story starts
FIRST, NEWER = "1.4.0", "1.4.1"  # the versions CI releases during the story

# People in the story: a developer and the SRE who owns prod (both may merge), and a reader.
DEVELOPER = "alice"
SRE = "bob"
READER = "carol"
PEOPLE = {DEVELOPER: "Alice Developer", SRE: "Bob Reliability", READER: "Carol Reader"}

_REPLICAS = {"dev": 1, "staging": 2, "prod": 3}
_LOG_LEVEL = {"dev": "debug", "staging": "info", "prod": "warn"}

_VALUES = """\
# Helm values for the api chart in {env}.
# People edit this file too; Promotion Bot changes only the characters of image.tag.
replicaCount: {replicas}

image:
  repository: {image}
  tag: "{tag}" # the running version, promoted by pull request
  pullPolicy: IfNotPresent

podAnnotations:
  team: 'payments'

resources: &api-resources
  requests: {{cpu: 100m, memory: 128Mi}}
  limits:
    memory: 256Mi

migrations:
  enabled: true
  resources: *api-resources # same limits as the api itself

env:
  - name: LOG_LEVEL
    value: '{log_level}'
  - name: FEATURE_FLAGS
    value: "checkout-v2,fast-search"
"""

_PROD_POLICY = """\
policies:
  prod-gated:
    use: prod-safe          # minor and patch only, a day in staging, the PR opens on /promote
    description: An approver asks for the PR with /promote; a person merges it.
    approvers: ["@acme/sre", bob]
    freeze:
      - from: 2026-12-23T18:00:00+01:00
        to: 2027-01-04T08:00:00+01:00
        reason: holiday change freeze
"""

_APPS = f"""\
apps:
  api:
    image: {IMAGE}
    source: {ORG}/{APP_REPO}
    files: ["values.yaml"]
    policy:
      dev: auto             # every newer stable version, PR opened by the bot
      staging: auto

labels: [promotion, api]
"""

DIRECTORY_CONFIG = f"""\
# Promotion Bot: how images move through this repository's environments.
version: 1

environments:
  - name: dev
    path: envs/dev
  - name: staging
    path: envs/staging
  - name: prod
    path: envs/prod
    policy: prod-gated

{_PROD_POLICY}
{_APPS}"""

BRANCH_CONFIG = f"""\
# Promotion Bot: one branch per environment (the values live at the root of each branch).
version: 1

environments:
  - name: dev
    branch: env/dev
  - name: staging
    branch: env/staging
  - name: prod
    branch: env/prod
    policy: prod-gated

{_PROD_POLICY}
{_APPS}"""

_ENV_README = """\
# {name}

The desired state of the api in every environment. Promotion Bot opens a pull request per app
and environment when a new image is pushed; merging one opens the next environment's.
"""


def values(env: str, tag: str = RUNNING) -> str:
    """The Helm values file of ``env`` running ``tag``."""
    return _VALUES.format(
        env=env, replicas=_REPLICAS[env], image=IMAGE, tag=tag, log_level=_LOG_LEVEL[env]
    )


def app_repo_files() -> dict[str, str]:
    return {
        "README.md": f"# api\n\nThe payments API. CI pushes {IMAGE}:<version> on release.\n",
        "Dockerfile": 'FROM python:3.12-slim\nCOPY app /app\nCMD ["python", "-m", "app"]\n',
        "app/__main__.py": 'print("payments api")\n',
    }


@dataclass(frozen=True)
class Release:
    """What the app's CI makes of a version: a commit to main (none for the seeded version,
    whose commit is the repository's first), then the tag ``v{version}`` and its release notes."""

    version: str
    notes: str
    message: str = ""
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        return f"v{self.version}"


RELEASES = {
    r.version: r
    for r in (
        Release(RUNNING, "## Features\n- Card payments through the new checkout\n"),
        Release(
            FIRST,
            "## Features\n- Search results are cached for a minute: search is faster\n",
            "Cache search results for a minute",
            {"app/search.py": "CACHE_SECONDS = 60\n"},
        ),
        Release(
            NEWER,
            "## Fixes\n- Checkout no longer times out under load\n",
            "Fix checkout timeout under load",
            {"app/checkout.py": "TIMEOUT_SECONDS = 30\n"},
        ),
    )
}


def directory_repo_files() -> dict[str, str]:
    files = {
        "README.md": _ENV_README.format(name=ENV_REPO),
        ".github/promotion.yml": DIRECTORY_CONFIG,
    }
    files |= {f"envs/{env}/values.yaml": values(env) for env in ENVIRONMENTS}
    return files


def branch_repo_files() -> tuple[dict[str, str], dict[str, dict[str, str | None]]]:
    """The default branch (config and README) and each environment branch, which drops the
    config and holds its values file at the root."""
    main = {
        "README.md": _ENV_README.format(name=BRANCH_REPO),
        ".github/promotion.yml": BRANCH_CONFIG,
    }
    branches: dict[str, dict[str, str | None]] = {
        f"env/{env}": {".github/promotion.yml": None, "values.yaml": values(env)}
        for env in ENVIRONMENTS
    }
    return main, branches


def hand_edited_prod_values(tag: str) -> str:
    """A person's hotfix straight to prod: a tag staging never ran and one more replica."""
    return values("prod", tag).replace("replicaCount: 3", "replicaCount: 4")
