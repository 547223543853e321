"""``POST /webhooks/registry/{kind}``: authentication, shapes, and the ImagePushed they become."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import Worker
from bot.core.inputs.events import ImagePushed
from bot.entrypoints.registries import normalise
from bot.entrypoints.webhooks import sign
from tests.adapters.support import drain
from tests.entrypoints.conftest import REGISTRY_TOKENS, Recorder, deliveries

HARBOR_DIGEST = "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4"
DISTRIBUTION_DIGEST = "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf"
DOCKERHUB: dict[str, Any] = {
    "callback_url": "https://registry.hub.docker.com/u/acme/api/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/",
    "push_data": {"pushed_at": 1417566161, "pusher": "trustedbuilder", "tag": "1.4.2"},
    "repository": {"name": "api", "namespace": "acme", "repo_name": "acme/api"},
}
HARBOR: dict[str, Any] = {
    "type": "PUSH_ARTIFACT",
    "occur_at": 1680502000,
    "operator": "admin",
    "event_data": {
        "resources": [
            {
                "digest": HARBOR_DIGEST,
                "tag": "1.4.2",
                "resource_url": "harbor.example.com/library/api:1.4.2",
            }
        ],
        "repository": {
            "date_created": 1680501893,
            "name": "api",
            "namespace": "library",
            "repo_full_name": "library/api",
            "repo_type": "private",
        },
    },
}
DISTRIBUTION: dict[str, Any] = {
    "events": [
        {
            "id": "320678d8-ca14-430f-8bb6-4ca139cd83f7",
            "action": "push",
            "target": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": DISTRIBUTION_DIGEST,
                "repository": "acme/api",
                "url": "https://registry.example.com:5000/v2/acme/api/manifests/sha256:fea8",
                "tag": "1.4.2",
            },
            "request": {"host": "registry.example.com:5000", "method": "PUT"},
        },
        {"id": "2", "action": "pull", "target": {"repository": "acme/api", "tag": "1.4.1"}},
        {"id": "3", "action": "push", "target": {"repository": "acme/api", "digest": "sha256:aa"}},
    ]
}
GENERIC: dict[str, Any] = {
    "image": "registry.example.com/team/api",
    "tag": "1.4.2",
    "digest": "sha256:bb",
}


def auth(kind: str, body: bytes, token: str | None = None) -> tuple[dict[str, str], str]:
    secret = token or REGISTRY_TOKENS[kind]
    if kind == "dockerhub":
        return {}, f"?token={secret}"
    if kind == "generic":
        return {"X-Signature-256": sign(secret.encode(), body)}, ""
    return {"Authorization": secret}, ""


async def deliver(
    client: httpx.AsyncClient, kind: str, payload: Any, token: str | None = None
) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers, query = auth(kind, body, token)
    return await client.post(f"/webhooks/registry/{kind}{query}", content=body, headers=headers)


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("dockerhub", DOCKERHUB, [("docker.io", "acme/api", "1.4.2", None)]),
        (
            "harbor",
            HARBOR,
            [
                (
                    "harbor.example.com",
                    "library/api",
                    "1.4.2",
                    HARBOR_DIGEST,
                )
            ],
        ),
        (
            "distribution",
            DISTRIBUTION,
            [
                (
                    "registry.example.com:5000",
                    "acme/api",
                    "1.4.2",
                    DISTRIBUTION_DIGEST,
                )
            ],
        ),
        ("generic", GENERIC, [("registry.example.com", "team/api", "1.4.2", "sha256:bb")]),
    ],
)
async def test_each_kind_becomes_image_pushed(
    client: httpx.AsyncClient,
    worker: Worker,
    recorder: Recorder,
    kind: str,
    payload: dict[str, Any],
    expected: list[tuple[str, str, str, str | None]],
) -> None:
    response = await deliver(client, kind, payload)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    await drain(worker)
    assert all(isinstance(e, ImagePushed) for e in recorder.events)
    got = [(e.registry, e.repository, e.tag, e.digest) for e in recorder.events]  # type: ignore[attr-defined]
    assert got == expected


async def test_same_body_twice_is_a_duplicate(client: httpx.AsyncClient) -> None:
    assert (await deliver(client, "generic", GENERIC)).status_code == 202
    again = await deliver(client, "generic", GENERIC)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


@pytest.mark.parametrize(
    ("kind", "payload", "status", "message"),
    [
        ("quay", GENERIC, 404, "unknown or unconfigured registry kind=quay"),
        ("dockerhub", {"repository": {}}, 422, "repository.repo_name: Field required"),
        ("harbor", {"type": "PUSH_ARTIFACT"}, 422, "event_data: Field required"),
        ("distribution", {"events": "no"}, 422, "events: Input should be a valid list"),
        ("generic", {"image": "x"}, 422, "tag: Field required"),
        ("generic", {"image": "Bad Image!", "tag": "1"}, 422, "image: Value error"),
        ("generic", [], 400, "JSON body is a list, expected an object"),
    ],
)
async def test_bad_payloads_are_refused_clearly(
    client: httpx.AsyncClient,
    queue: SqliteJobQueue,
    kind: str,
    payload: Any,
    status: int,
    message: str,
) -> None:
    response = await deliver(client, kind, payload, token=REGISTRY_TOKENS.get(kind, "x" * 20))
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert (await queue.stats()).deliveries == 0


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "malformed JSON body: Expecting property name"),
        (b'{"image": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deep to parse"),
        (b'{"tag": ' + b"9" * 5000 + b"}", "malformed JSON body: Exceeds the limit"),
    ],
)
async def test_malformed_json_is_a_400(
    client: httpx.AsyncClient, queue: SqliteJobQueue, body: bytes, problem: str
) -> None:
    headers, _ = auth("generic", body)
    response = await client.post("/webhooks/registry/generic", content=body, headers=headers)
    assert response.status_code == 400 and problem in response.json()["detail"]
    assert (await queue.stats()).deliveries == 0


@pytest.mark.parametrize("kind", sorted(REGISTRY_TOKENS))
async def test_bad_token_is_a_401(
    client: httpx.AsyncClient, queue: SqliteJobQueue, kind: str
) -> None:
    response = await deliver(client, kind, GENERIC, token="not-the-right-token-at-all")
    assert response.status_code == 401
    assert response.json()["detail"] == f"bad or missing credentials for registry kind={kind}"
    assert REGISTRY_TOKENS[kind] not in response.text
    assert (await queue.stats()).deliveries == 0


@pytest.mark.parametrize(
    ("kind", "status", "label"),
    [("dockerhub", 401, "dockerhub"), ("quay", 404, "other"), ("a" * 300, 404, "other")],
)
async def test_refusals_get_an_access_line_and_a_bounded_metric(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, kind: str, status: int, label: str
) -> None:
    before = deliveries(label, "rejected")
    url = f"/webhooks/registry/{kind}?token=secret-in-the-query-string"
    response = await client.post(url, content=json.dumps(DOCKERHUB).encode())
    assert response.status_code == status
    [line] = [r for r in caplog.records if r.name == "bot.intake"]
    message = line.getMessage()
    assert message.startswith(f"refusing webhook status={status} path=/webhooks/registry/")
    assert "secret-in-the-query-string" not in message and "acme/api" not in message
    assert len(message) < 400  # an attacker's long path is cut
    assert deliveries(label, "rejected") == before + 1


async def test_bearer_form_and_header_token(client: httpx.AsyncClient) -> None:
    body = json.dumps(HARBOR).encode()
    bearer = {"Authorization": f"Bearer {REGISTRY_TOKENS['harbor']}"}
    assert (
        await client.post("/webhooks/registry/harbor", content=body, headers=bearer)
    ).status_code == 202
    body = json.dumps(DOCKERHUB).encode()
    header = {"X-Webhook-Token": REGISTRY_TOKENS["dockerhub"]}
    assert (
        await client.post("/webhooks/registry/dockerhub", content=body, headers=header)
    ).status_code == 202


async def test_harbor_non_push_event_is_ignored(client: httpx.AsyncClient) -> None:
    response = await deliver(client, "harbor", HARBOR | {"type": "PULL_ARTIFACT"})
    assert response.status_code == 202 and response.json()["status"] == "ignored"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("registry.example.com/team/api", ("registry.example.com", "team/api")),
        ("localhost/api", ("localhost", "api")),
        ("localhost:5000/api", ("localhost:5000", "api")),
        ("acme/api", ("docker.io", "acme/api")),
        ("nginx", ("docker.io", "nginx")),
        ("index.docker.io/acme/api", ("docker.io", "acme/api")),
    ],
)
def test_generic_image_names(image: str, expected: tuple[str, str]) -> None:
    [event] = normalise("generic", {"image": image, "tag": "1"}, "d")
    assert (event.registry, event.repository) == expected


def test_normalise_refuses_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown registry kind=quay"):
        normalise("quay", {}, "d")
