"""The drift audit of a local clone whose environments are one tfvars file each: the files are
read (git matches whole path components) and compared with each other as ``*.tfvars``; a bare
tag the config names is an image there, not a value."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.cli.drift import audit_clone
from tests.adapters import gitrepos
from tests.adapters.test_local_git import summaries

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

CONFIG = """\
version: 1
environments:
  - name: dev
    path: terraform/environments/dev.tfvars
  - name: prod
    path: terraform/environments/prod.tfvars
apps:
  api:
    image: ghcr.io/acme/api
    tags:
      - key: api_image_tag
"""


def tfvars(tag: str, replicas: int) -> str:
    return f'api_image_tag = "{tag}" # bare tag\nreplicas      = "{replicas}"\n'


def test_file_environments_are_read_and_compared(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    files = {
        ".github/promotion.yml": CONFIG,
        "terraform/environments/dev.tfvars": tfvars("1.5.0", 2),
        "terraform/environments/prod.tfvars": tfvars("1.4.0", 5),
        "terraform/environments/dev.tfvars.d/notes.txt": "not the environment\n",
    }
    root.mkdir()
    gitrepos.git(root, "init", "-q")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    gitrepos.git(root, "add", ".")
    gitrepos.git(root, "commit", "-q", "-m", "environments")
    report, _ = audit_clone(root, now=NOW)
    assert report.running == {"api": {"dev": "1.5.0", "prod": "1.4.0"}}
    assert summaries(report) == {
        "dev->prod": {
            "behind": ["api 1.4.0->1.5.0 pending"],
            "values": ["*.tfvars: replicas '2'->'5'"],  # the bare tag is the image's
        }
    }
