"""Environment repositories for the end-to-end tests: a config per layout and the files it names."""

from __future__ import annotations

CONFIG_FILE = ".github/promotion.yml"
ENVS = ("dev", "staging", "prod")


def values(org: str, tag: str) -> str:
    """An environment's values file; the comments and spacing must survive every edit."""
    return (
        "# api values\n"
        "image:\n"
        f"  repository: ghcr.io/{org}/api   # built by CI\n"
        f"  tag: {tag}  # pinned\n"
        "replicas: 2\n"
    )


def directory_config(org: str, staging: str = "auto", prod: str = "manual") -> str:
    return f"""\
version: 1
environments:
  - name: dev
    path: envs/dev
    policy: auto
  - name: staging
    path: envs/staging
    policy: {staging}
  - name: prod
    path: envs/prod
    policy: {prod}
apps:
  api:
    image: ghcr.io/{org}/api
    source: {org}/api
    files: ["values.yaml"]
"""


def directory_repo(org: str, tag: str = "1.2.0", staging: str = "auto") -> dict[str, str]:
    files = {CONFIG_FILE: directory_config(org, staging), "README.md": "# environments\n"}
    files |= {f"envs/{env}/values.yaml": values(org, tag) for env in ENVS}
    return files


APP_REPO = {"README.md": "# api\n"}


def branch_config(org: str) -> str:
    return f"""\
version: 1
environments:
  - name: dev
    branch: env/dev
  - name: staging
    branch: env/staging
  - name: prod
    branch: env/prod
apps:
  api:
    image: ghcr.io/{org}/api
"""


def repository_config(org: str) -> str:
    return f"""\
version: 1
environments:
  - name: dev
    path: dev
  - name: staging
    path: staging
  - name: prod
    repo: {org}/prod-env
    path: clusters/prod
apps:
  api:
    image: ghcr.io/{org}/api
"""
