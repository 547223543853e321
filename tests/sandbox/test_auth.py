"""Credentials and permissions: JWTs, token expiry on the sandbox clock, 401/403/404, roles."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit import AppInstallationAuthStrategy, UnauthAuthStrategy
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World, github_client


def other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def jwt_for(
    world: World, *, iat: int, exp: int, pem: str | None = None, by_client_id: bool = False
) -> str:
    issuer = world.app.client_id if by_client_id else str(world.app.id)
    claims = {"iss": issuer, "iat": iat, "exp": exp}
    return jwt.encode(claims, pem or world.app.pem, algorithm="RS256")


async def status_of(world: World, method: str, path: str, token: str, **kwargs) -> int:
    async with world.token_github(token) as gh:
        try:
            response = await gh.arequest(method, path, **kwargs)
        except RequestFailed as err:
            return err.response.status_code
    return int(response.status_code)


@pytest.mark.parametrize(
    ("case", "iat", "exp", "other_key", "expected"),
    [  # issued and expiring, in seconds from the time the test runs
        ("valid", -60, 540, False, 200),
        ("client id issuer", -60, 540, None, 200),
        ("expired", -700, -100, False, 401),
        ("too far ahead", -60, 3600, False, 401),
        ("signed by another key", -60, 540, True, 401),
    ],
)
async def test_app_jwt_checks(world: World, case, iat, exp, other_key, expected) -> None:
    now = int(time.time())
    token = jwt_for(
        world,
        iat=now + iat,
        exp=now + exp,
        pem=other_key_pem() if other_key else None,
        by_client_id=other_key is None,
    )
    assert await status_of(world, "GET", "/app", token) == expected, case


async def test_installation_token_expires_after_an_hour_on_the_sandbox_clock(world: World) -> None:
    token = await world.admin.run(calls.installation_token(world.installation_id))
    assert await status_of(world, "GET", f"/repos/{OWNER}/{REPO}", token) == 200
    await world.admin.run(calls.advance_clock(3601))
    assert await status_of(world, "GET", f"/repos/{OWNER}/{REPO}", token) == 401
    # The app's JWT still works (judged on wall time), so a fresh token can be minted.
    async with world.app_github() as gh:
        fresh = await gh.rest.apps.async_create_installation_access_token(world.installation_id)
    assert await status_of(world, "GET", f"/repos/{OWNER}/{REPO}", fresh.parsed_data.token) == 200


async def test_bad_token_is_401_and_jwt_is_refused_on_repo_routes(world: World) -> None:
    assert await status_of(world, "GET", f"/repos/{OWNER}/{REPO}", "ghs_nope") == 401
    token = await world.admin.run(calls.installation_token(world.installation_id))
    assert await status_of(world, "GET", "/app", token) == 401


async def test_uninstalled_repo_is_404_and_narrow_token_is_403(world: World) -> None:
    await world.admin.run(calls.create_repo(OWNER, "other", files={"a": "b"}))
    token = await world.admin.run(calls.installation_token(world.installation_id))
    assert await status_of(world, "GET", f"/repos/{OWNER}/other", token) == 404
    auth = AppInstallationAuthStrategy(
        world.app.id, world.app.pem, world.installation_id, permissions={"contents": "read"}
    )
    async with github_client(auth, transport=world.transport, base_url=world.base_url) as gh:
        head = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
        with pytest.raises(RequestFailed) as err:
            await gh.rest.git.async_create_ref(
                OWNER, REPO, ref="refs/heads/x", sha=head.object_.sha
            )
    assert err.value.response.status_code == 403
    assert err.value.response.json()["message"] == "Resource not accessible by integration"


@pytest.mark.parametrize(
    ("role", "push_status", "put_status"),
    [("read", 403, 403), ("triage", 403, 403), ("write", 201, 201), ("admin", 201, 201)],
)
async def test_roles_gate_pushes_and_edits(world: World, role, push_status, put_status) -> None:
    user = await world.admin.run(calls.create_user(f"dev-{role}"))
    await world.admin.run(calls.grant_role(OWNER, REPO, user.login, role))
    head = await status_of(world, "GET", f"/repos/{OWNER}/{REPO}", user.token)
    assert head == 200
    async with world.token_github(user.token) as gh:
        sha = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data.object_.sha
    ref = {"ref": f"refs/heads/{role}", "sha": sha}
    path = f"/repos/{OWNER}/{REPO}/git/refs"
    assert await status_of(world, "POST", path, user.token, json=ref) == push_status
    put = {"message": "m", "content": "aGk=", "branch": "main"}
    path = f"/repos/{OWNER}/{REPO}/contents/{role}.txt"
    assert await status_of(world, "PUT", path, user.token, json=put) == put_status


async def test_private_repo_hidden_from_strangers_and_anonymous_cannot_write(world: World) -> None:
    await world.admin.run(calls.create_repo(OWNER, "secret", files={"a": "b"}, private=True))
    user = await world.admin.run(calls.create_user("stranger"))
    assert await status_of(world, "GET", f"/repos/{OWNER}/secret", user.token) == 404
    async with github_client_anonymous(world) as gh:
        with pytest.raises(RequestFailed) as err:
            await gh.arequest("POST", f"/repos/{OWNER}/{REPO}/git/blobs", json={"content": "x"})
        public = await gh.rest.repos.async_get(OWNER, REPO)
    assert err.value.response.status_code == 401
    assert public.parsed_data.full_name == f"{OWNER}/{REPO}"


def github_client_anonymous(world: World):
    return github_client(UnauthAuthStrategy(), transport=world.transport, base_url=world.base_url)


async def test_authenticated_user(world: World) -> None:
    user = await world.admin.run(calls.create_user("octo"))
    async with world.token_github(user.token) as gh:
        me = (await gh.rest.users.async_get_authenticated()).parsed_data
    assert me.login == "octo"
