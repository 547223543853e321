"""The Dockerfile's recipe without a container runtime: the build stage's COPY set is built into a
wheel, the wheel is installed into a fresh venv, and ``promotion-bot serve`` starts there from
environment variables alone (the run stage's ENV plus ``PROMOTION_BOT_*``) and answers its probes.

Dependencies come from this test's own environment (a ``.pth`` line), so nothing is downloaded;
the bot itself must come from the wheel. Building needs setuptools>=77 in that environment.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from packaging.version import Version

from bot.settings import secret_problem
from tests.adapters.test_redelivery import free_port

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def instructions(dockerfile: Path) -> list[list[tuple[str, str]]]:
    """(instruction, arguments) per stage, continuation lines joined, comments dropped."""
    text = dockerfile.read_text().replace("\\\n", " ")
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, rest = line.strip().partition(" ")
        if word.upper() == "FROM":
            stages.append([])
        elif stages:
            stages[-1].append((word.upper(), rest.strip()))
    return stages


def copy_build_context(stage: list[tuple[str, str]], dest: Path) -> None:
    for word, rest in stage:
        if word != "COPY" or rest.startswith("--from"):
            continue
        *sources, _ = shlex.split(rest)
        for source in sources:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(src, dest / source, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dest / source)


def run_stage_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in stage:
        if word == "ENV":
            env |= dict(pair.split("=", 1) for pair in shlex.split(rest))
    return env


def test_dockerfile_stages_are_as_expected() -> None:
    build, run = instructions(ROOT / "Dockerfile")
    assert ("USER", "10001") in run
    assert any(word == "HEALTHCHECK" and "/healthz" in rest for word, rest in run)
    assert run_stage_env(run)["PROMOTION_BOT_QUEUE_PATH"].startswith("/var/lib/promotion-bot/")
    assert [w for w, _ in build].count("COPY") == 3


def wait_for(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited: {process.communicate()[1]}"
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no answer url={url}")


def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def test_wheel_in_a_fresh_venv_serves_from_environment_only(tmp_path: Path) -> None:
    # pyproject's SPDX license string needs setuptools>=77; building offline uses the one here.
    assert Version(metadata.version("setuptools")) >= Version("77"), (
        "the test extra needs setuptools>=77"
    )
    build, run = instructions(ROOT / "Dockerfile")
    context, wheels, venv = tmp_path / "src", tmp_path / "wheels", tmp_path / "venv"
    context.mkdir()
    copy_build_context(build, context)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(context)],
        check=True,
    )
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True,
    ).strip()
    # The dependencies, not the bot: a .pth line adds a directory without its own .pth files,
    # so the editable install of the checkout stays out.
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    [wheel] = wheels.glob("promotion_bot-*.whl")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-index", "--no-deps", str(wheel)],
        check=True,
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    where = subprocess.check_output(
        [
            str(python),
            "-c",
            "import bot, bot.adapters.catalog as c, bot.entrypoints.setup as s; "
            "print(bot.__file__, c.policies_dir(), s.find_manifest())",
        ],
        cwd=workdir,
        text=True,
    )
    assert all(path.startswith(str(venv)) for path in where.split())
    # The image leaves the sandbox out; the commands that need it say so instead of failing.
    demo = subprocess.run(
        [str(venv / "bin" / "promotion-bot"), "demo", "--no-wait"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert demo.returncode == 2
    assert "the GitHub sandbox is not installed here" in demo.stderr

    port = free_port()
    env = run_stage_env(run) | {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "PROMOTION_BOT_QUEUE_PATH": str(tmp_path / "data" / "queue.sqlite3"),
        "PROMOTION_BOT_APP_ID": "12345",
        "PROMOTION_BOT_PRIVATE_KEY": private_key(),
        "PROMOTION_BOT_WEBHOOK_SECRET": "container-recipe-webhook-secret",
    }
    (tmp_path / "data").mkdir()
    process = subprocess.Popen(
        [str(venv / "bin" / "promotion-bot"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz", process)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    assert "container-recipe-webhook-secret" not in stderr and "PRIVATE KEY" not in stderr
    assert not os.listdir(workdir)  # nothing written outside the queue's volume


def kubernetes_documents() -> dict[str, dict[str, Any]]:
    folder = ROOT / "deploy" / "kubernetes"
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            found[document["kind"]] = document
    return found


def test_kubernetes_manifests_fit_the_image() -> None:
    documents = kubernetes_documents()
    _, run = instructions(ROOT / "Dockerfile")
    kustomization = documents["Kustomization"]
    for resource in kustomization["resources"]:
        assert (ROOT / "deploy" / "kubernetes" / resource).is_file()
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert str(pod["securityContext"]["runAsUser"]) == dict(run)["USER"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["ports"][0]["containerPort"] == int(dict(run)["EXPOSE"])
    env = {item["name"]: item["value"] for item in container["env"]}
    queue = Path(env["PROMOTION_BOT_QUEUE_PATH"])
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert str(queue.parent) in mounts and "/tmp" in mounts
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    claim = documents["PersistentVolumeClaim"]["metadata"]["name"]
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {claim}


def test_secret_template_holds_placeholders_only() -> None:
    values = kubernetes_documents()["Secret"]["stringData"]
    assert set(values) >= {"PROMOTION_BOT_APP_ID", "PROMOTION_BOT_WEBHOOK_SECRET"}
    assert all(secret_problem(value) == "is a placeholder" for value in values.values())


def overlay_documents() -> list[dict[str, Any]]:
    """``deploy/kubernetes-postgres`` as kustomize builds it (kubectl's built-in kustomize)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its kustomize) is not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "kubernetes-postgres")],
        capture_output=True,
        text=True,
        check=True,
    )
    return list(yaml.safe_load_all(built.stdout))


def test_the_postgres_overlay_runs_replicas_without_a_volume() -> None:
    documents = overlay_documents()
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in documents)
    assert ("PersistentVolumeClaim", "promotion-bot-data") not in kinds
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    serve, worker = deployments["promotion-bot"], deployments["promotion-bot-worker"]
    [job] = [d for d in documents if d["kind"] == "Job"]
    args = {
        name: doc["spec"]["template"]["spec"]["containers"][0]["args"][:2]
        for name, doc in (*deployments.items(), ("job", job))
    }
    assert args == {
        "promotion-bot": ["serve", "--host"],
        "promotion-bot-worker": ["worker", "--host"],
        "job": ["db", "upgrade"],
    }
    assert serve["spec"]["replicas"] >= 2 and serve["spec"]["strategy"]["type"] == "RollingUpdate"
    for doc in (serve, worker):
        volumes = doc["spec"]["template"]["spec"]["volumes"]
        assert all("persistentVolumeClaim" not in v for v in volumes)
    # Webhooks go to serve pods only: the Service's selector does not match the workers.
    [service] = [d for d in documents if d["kind"] == "Service"]
    selector = service["spec"]["selector"].items()
    assert selector <= serve["spec"]["template"]["metadata"]["labels"].items()
    assert not selector <= worker["spec"]["template"]["metadata"]["labels"].items()
