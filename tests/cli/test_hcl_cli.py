"""``images`` and ``set-image`` on Terraform files and on directories holding them, in-process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.test_images_cli import run

TERRAFORM = Path(__file__).parent.parent / "data" / "terraform"
FRONTEND = "public.ecr.aws/aws-containers/ecsdemo-frontend"


def test_images_walks_terraform_files_beside_yaml(tmp_path, capsys):
    (tmp_path / "env" / ".git").mkdir(parents=True)
    shutil.copy(TERRAFORM / "ecs-fargate.tf", tmp_path / "env" / "main.tf")
    shutil.copy(TERRAFORM / "environments-prod.tfvars", tmp_path / "env" / "prod.tfvars")
    (tmp_path / "env" / "values.yaml").write_text("image: ghcr.io/acme/api:1.0.0\n")
    (tmp_path / "env" / "qa.tfvars.json").write_text('{"api_image": "ghcr.io/acme/api:1.1.0"}\n')
    (tmp_path / "env" / ".git" / "x.tf").write_text('image = "ghcr.io/acme/git:1"\n')
    (tmp_path / "env" / "plan.json").write_text('{"api_image": "ghcr.io/acme/api:9"}\n')
    (tmp_path / "env" / "notes.txt").write_text('image = "ghcr.io/acme/txt:1"\n')
    assert run("images", "--json", str(tmp_path / "env")) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(Path(r["file"]).name, r["kind"], r["tag"]) for r in rows] == [
        ("main.tf", "terraform", "776fd50"),
        ("main.tf", "terraform", "2023-minimal"),
        ("prod.tfvars", "terraform", "2.4.1"),
        ("prod.tfvars", "terraform", "2.4.1"),
        ("prod.tfvars", "terraform", "1.9.0"),
        ("qa.tfvars.json", "helm-values", "1.1.0"),
        ("values.yaml", "helm-values", "1.0.0"),
    ]


def test_set_image_writes_a_terraform_file_byte_exactly(tmp_path, capsys):
    path = tmp_path / "main.tf"
    shutil.copy(TERRAFORM / "ecs-fargate.tf", path)
    assert run("set-image", str(path), "--image", FRONTEND, "--tag", "8a1c2f4", "--write") == 0
    assert path.read_bytes() == (TERRAFORM / "ecs-fargate.expected.tf").read_bytes()
    assert capsys.readouterr().err == (
        f"{path}:35 module.ecs_service.container_definitions.(local.container_name).image "
        f"{FRONTEND}:776fd50 -> {FRONTEND}:8a1c2f4\n"
    )


def test_a_terraform_file_that_does_not_parse_is_refused(tmp_path, capsys):
    path = tmp_path / "broken.tfvars"
    path.write_text('image = "ghcr.io/acme/api:1.0.0"\nbroken = {\n')
    assert run("set-image", str(path), "--image", "ghcr.io/acme/api", "--tag", "2", "--write") == 2
    assert "parsing hcl failed" in capsys.readouterr().err
    assert path.read_text() == 'image = "ghcr.io/acme/api:1.0.0"\nbroken = {\n'
