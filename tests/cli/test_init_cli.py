"""``init`` on four layouts writes the golden config, which ``check-config --strict`` accepts;
it refuses to overwrite a config without ``--force`` and prints with ``--stdout``.

The layouts (``tests/data/onboarding/<case>/tree``, see the README there): directories of one
branch; one branch per environment (each top-level directory a branch, read from a clone's
``origin/`` branches); Helm values, a kustomization and Flux HelmReleases in one directory
layout, from public repositories; one Terraform ``.tfvars`` file per environment.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from tests.adapters.gitrepos import commit, git
from tests.cli.test_cli_start import WEB_AND_SANDBOX, loaded_after, modules_after

DATA = Path(__file__).parent.parent / "data" / "onboarding"
CONFIG = Path(".github/promotion.yml")
# UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing.
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def files_of(tree: Path) -> dict[str, str]:
    return {
        path.relative_to(tree).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(tree.rglob("*"))
        if path.is_file()
    }


def branch_clone(tmp_path: Path) -> Path:
    """A repository with one branch per top-level directory of the case's tree (``__`` is
    ``/``), cloned so that every branch but ``main`` is ``origin/<branch>`` only."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q")
    tree = DATA / "branches" / "tree"
    commit(origin, "main", files_of(tree / "main"))
    for branch in sorted(p.name for p in tree.iterdir() if p.name != "main"):
        git(origin, "checkout", "-q", "-b", branch.replace("__", "/"), "main")
        commit(origin, branch, files_of(tree / branch))
    git(origin, "checkout", "-q", "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    return clone


def checkout(case: str, tmp_path: Path) -> Path:
    if case == "branches":
        return branch_clone(tmp_path)
    root = tmp_path / case
    shutil.copytree(DATA / case / "tree", root)
    return root


@pytest.mark.parametrize("case", ["directories", "branches", "mixed", "terraform"])
def test_init_writes_the_golden_config_check_config_accepts(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = checkout(case, tmp_path)
    assert main(["init", str(root)]) == 0
    written = (root / CONFIG).read_text(encoding="utf-8")
    expected = DATA / case / "expected.yml"
    if UPDATE:
        expected.write_text(written, encoding="utf-8")
    assert written == expected.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["check-config", "--strict", str(root)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("OK: ") and err == ""


SUMMARIES = {
    "directories": "environments dev -> staging -> prod, 3 apps",
    "branches": "environments dev -> staging -> prod, 2 apps",
    "mixed": "environments dev -> staging -> production, 3 apps",
    "terraform": "environments dev -> staging -> prod, 3 apps",
}


@pytest.mark.parametrize("case", sorted(SUMMARIES))
def test_init_says_what_it_wrote(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = checkout(case, tmp_path)
    assert main(["init", str(root)]) == 0
    assert capsys.readouterr().out == f"wrote {root / CONFIG}: {SUMMARIES[case]}\n"


def test_stdout_prints_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = checkout("directories", tmp_path)
    assert main(["init", str(root), "--stdout"]) == 0
    assert capsys.readouterr().out == (DATA / "directories" / "expected.yml").read_text()
    assert not (root / CONFIG).exists()


def test_an_existing_config_is_kept_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = checkout("directories", tmp_path)
    (root / CONFIG).write_text("mine\n")
    assert main(["init", str(root)]) == 2
    assert (root / CONFIG).read_text() == "mine\n"
    assert "a config exists already" in capsys.readouterr().err
    assert main(["init", str(root), "--stdout"]) == 0  # writes nothing, so refuses nothing
    assert (root / CONFIG).read_text() == "mine\n"
    assert main(["init", str(root), "--force"]) == 0
    assert (root / CONFIG).read_text() == (DATA / "directories" / "expected.yml").read_text()


@pytest.mark.parametrize(
    ("files", "code", "message"),
    [
        ({"README.md": "# app\n"}, 1, "no environment holding an image reference found"),
        ({"envs/dev/notes.yaml": "a: 1\n"}, 1, "no environment holding an image reference"),
    ],
    ids=["no environment names", "environments without images"],
)
def test_nothing_to_propose_writes_nothing(
    files: dict[str, str],
    code: int,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert main(["init", str(tmp_path)]) == code
    assert message in capsys.readouterr().err
    assert not (tmp_path / CONFIG).exists()


def test_a_path_that_is_no_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_init_starts_light(tmp_path: Path) -> None:
    """``init --help`` imports none of the command's modules; ``init`` itself reads git and
    YAML with no web stack, githubkit or sandbox (as ``check-config``)."""
    helped = loaded_after("init", "--help", cwd=tmp_path)
    assert [name for name in (*WEB_AND_SANDBOX, "pydantic", "ruamel") if name in helped] == []
    root = checkout("directories", tmp_path)
    ran = loaded_after("init", str(root), "--stdout", cwd=tmp_path)
    assert [name for name in WEB_AND_SANDBOX if name in ran] == []


HCL_MODULES = ("bot.core.files.hcl", "hcl2", "lark")


@pytest.mark.parametrize(("case", "hcl"), [("directories", False), ("terraform", True)])
def test_init_reads_hcl_only_where_a_terraform_file_is(
    case: str, hcl: bool, tmp_path: Path
) -> None:
    """The Terraform reader (and its parser's grammar) waits for a ``.tf``/``.tfvars`` file."""
    root = checkout(case, tmp_path)
    modules = modules_after("init", str(root), "--stdout", cwd=tmp_path)
    assert any(name.startswith(HCL_MODULES) for name in modules) == hcl


TFVARS = 'api_image = "ghcr.io/acme/api:1.2.3"\napi_image_tag = "1.2.3"\n'


@pytest.mark.parametrize(
    ("files", "paths"),
    [
        (
            {
                "terraform/environments/dev/terraform.tfvars": TFVARS,
                "terraform/environments/prod/main.tf": (
                    'module "api" {\n  source = "./api"\n  image = "ghcr.io/acme/api:1.2.0"\n}\n'
                ),
                "terraform/environments/prod/README.md": "# prod\n",
            },
            ["terraform/environments/dev", "terraform/environments/prod"],
        ),
        (
            {
                "helm/values-dev.yaml": "image: ghcr.io/acme/api:1.2.3\n",
                "helm/values-prod.yaml": ("image: ghcr.io/acme/api:1.2.0\n"),
                "helm/values.yaml": "replicas: 1\n",
            },
            ["helm/values-dev.yaml", "helm/values-prod.yaml"],
        ),
    ],
    ids=["terraform directories", "values files"],
)
def test_terraform_directories_and_environment_files_are_environments(
    files: dict[str, str], paths: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert main(["init", str(tmp_path)]) == 0
    written = (tmp_path / CONFIG).read_text(encoding="utf-8")
    assert [line.split("path: ")[1] for line in written.splitlines() if "path: " in line] == paths
    assert "  api:\n    image: ghcr.io/acme/api  # 2 references in " in written
    capsys.readouterr()
    assert main(["check-config", "--strict", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("OK: 2 environments, 1 apps")
