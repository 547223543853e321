"""The retry decision, the error mapping and the web root as tables over built responses; a
truncated tree and paged branches through ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit.exception import (
    GitHubException,
    PrimaryRateLimitExceeded,
    RequestFailed,
    SecondaryRateLimitExceeded,
)
from githubkit.response import Response

from bot.adapters.github import GitHubGateway, web_url_of
from bot.adapters.github_client import (
    AccessDenied,
    Lru,
    RetryDecision,
    SharedTransport,
    git_caches,
    mapped_error,
)
from bot.adapters.github_pacing import SecondaryBackoff, WritePace
from bot.services.github_ports import GitHubError, NotFound, Tree
from bot.services.ports import RetryLater

SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
WORKFLOW = (
    "refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` "
    "without `workflows` permission"
)


def failed(
    status: int,
    method: str = "GET",
    path: str = "/repos/a/b/pulls",
    message: str = "nope",
    headers: dict[str, str] | None = None,
) -> RequestFailed:
    request = httpx.Request(method, f"https://api.github.com{path}")
    raw = httpx.Response(status, json={"message": message}, headers=headers, request=request)
    return RequestFailed(Response(raw, Any))


def limited(seconds: float) -> PrimaryRateLimitExceeded:
    request = httpx.Request("GET", "https://api.github.com/repos/a/b")
    raw = httpx.Response(403, json={"message": "limit"}, request=request)
    return PrimaryRateLimitExceeded(Response(raw, Any), timedelta(seconds=seconds))


def secondary(seconds: float) -> SecondaryRateLimitExceeded:
    request = httpx.Request("GET", "https://api.github.com/repos/a/b")
    raw = httpx.Response(403, json={"message": SECONDARY}, request=request)
    return SecondaryRateLimitExceeded(Response(raw, Any), timedelta(seconds=seconds))


@pytest.mark.parametrize(
    ("exc", "count", "retry", "wait"),
    [
        (limited(2), 0, True, 2.0),
        (limited(2), 1, False, None),
        (limited(60), 0, False, None),
        (secondary(2), 0, False, None),
        (failed(403, message=SECONDARY), 0, False, None),
        (failed(429), 0, False, None),
        (failed(502), 0, True, 0.2),
        (failed(503, "PATCH"), 1, True, 0.4),
        (failed(502), 2, False, None),
        (failed(502, "POST", "/repos/a/b/issues/1/comments"), 0, False, None),
        (failed(500, "POST", "/repos/a/b/git/trees"), 0, True, 0.2),
        (failed(404), 0, False, None),
        (failed(422, "PATCH"), 0, False, None),
    ],
    ids=[
        "short-limit",
        "short-limit-once",
        "long-limit",
        "secondary-never-inline",
        "secondary-message-never-inline",
        "429-never-inline",
        "5xx-read",
        "5xx-patch-again",
        "5xx-exhausted",
        "5xx-comment-post",
        "5xx-git-post",
        "404",
        "422",
    ],
)
def test_retry_decision(exc: GitHubException, count: int, retry: bool, wait: float | None) -> None:
    option = RetryDecision()(exc, count)
    assert option.do_retry is retry
    if wait is not None:
        assert option.retry_after == timedelta(seconds=wait)


@pytest.mark.parametrize(
    ("exc", "kind", "message"),
    [
        (failed(404), NotFound, "reading x failed: status=404 message='nope'"),
        (failed(401), AccessDenied, "reading x failed: status=401"),
        (failed(403), AccessDenied, "reading x failed: status=403"),
        (failed(500), GitHubError, "reading x failed: status=500"),
        (limited(90), RetryLater, "rate limited while reading x; retry after 90s"),
        (
            failed(403, message=SECONDARY, headers={"x-ratelimit-remaining": "4000"}),
            RetryLater,
            "rate limited while reading x (secondary limit); retry after 60s",
        ),
        (
            failed(429),
            RetryLater,
            "rate limited while reading x (secondary limit); retry after 60s",
        ),
        (
            secondary(2),
            RetryLater,
            "rate limited while reading x (secondary limit); retry after 60s",
        ),
        (
            secondary(300),
            RetryLater,
            "rate limited while reading x (secondary limit); retry after 300s",
        ),
        (
            failed(403, message=WORKFLOW),
            AccessDenied,
            f"reading x failed: status=403 message={WORKFLOW!r}",
        ),
    ],
    ids=[
        "404",
        "401",
        "403",
        "500",
        "rate-limit",
        "secondary-message",
        "429",
        "secondary-short-retry-after",
        "secondary-long-retry-after",
        "workflow-refusal",
    ],
)
def test_mapped_error(exc: GitHubException, kind: type[Exception], message: str) -> None:
    error = mapped_error(exc, "reading x")
    assert type(error) is kind
    assert str(error).startswith(message)


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghes.example.com/api/v3", "https://ghes.example.com"),
        ("https://ghes.example.com/api/v3/", "https://ghes.example.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_web_url_of(api: str, web: str) -> None:
    assert web_url_of(api) == web


def test_lru_drops_the_least_recently_used() -> None:
    cache: Lru[str, int] = Lru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_lru_is_bounded_by_the_weight_of_its_values() -> None:
    cache: Lru[str, bytes] = Lru(10, weigh=len)
    cache.put("a", b"12345")
    cache.put("b", b"1234")
    cache.put("a", b"123456")  # replaced: its old weight is given back
    assert cache.weight == 10 and cache.get("b") == b"1234"
    cache.put("c", b"12")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, b"1234", b"12")
    cache.put("huge", b"x" * 11)  # heavier than the whole cache: not kept, nothing dropped
    assert cache.get("huge") is None and cache.weight == 6


def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


TREES: dict[str, dict[str, Any]] = {
    "c1?recursive=1": {"sha": "t0", "truncated": True, "tree": [{"path": "a", "type": "blob"}]},
    "t0": {
        "sha": "t0",
        "tree": [
            {"path": "a.txt", "type": "blob", "sha": "b1"},
            {"path": "d", "type": "tree", "sha": "t1"},
            {"path": "m", "type": "commit", "sha": "s1"},
        ],
    },
    "t1": {"sha": "t1", "tree": [{"path": "e.txt", "type": "blob", "sha": "b2"}]},
}


def fake_github(request: httpx.Request) -> httpx.Response:
    """Just enough of GitHub: the App, a token, two pages of branches and three trees."""
    path = request.url.path
    if path == "/app":
        return httpx.Response(200, json={"slug": "promoter"})
    if path.endswith("/access_tokens"):
        return httpx.Response(201, json={"token": "t", "expires_at": "2999-01-01T00:00:00Z"})
    if path.endswith("/matching-refs/heads/"):
        page = int(request.url.params["page"])
        link = {"link": '<https://api.github.com/x?page=2>; rel="next"'} if page == 1 else {}
        refs = [{"ref": f"refs/heads/b{page}", "object": {"sha": f"s{page}"}}]
        return httpx.Response(200, json=refs, headers=link)
    name = path.rsplit("/", 1)[1] + (f"?{request.url.query.decode()}" if request.url.query else "")
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    return httpx.Response(200, json=TREES[name])


@pytest.fixture
async def mocked() -> AsyncIterator[GitHubGateway]:
    async with GitHubGateway(
        app_id=1,
        private_key=private_key(),
        base_url="https://api.github.com",
        transport=httpx.MockTransport(fake_github),
    ) as gateway:
        yield gateway


async def test_a_truncated_tree_is_listed_subtree_by_subtree(mocked: GitHubGateway) -> None:
    tree = await mocked.ports_for(7).git.tree("o/r", "c1")
    assert (tree.commit_sha, tree.tree_sha) == ("c1", "t0")
    assert dict(tree.blobs) == {"a.txt": "b1", "d/e.txt": "b2"}


async def test_branch_heads_follow_the_next_page(mocked: GitHubGateway) -> None:
    assert await mocked.ports_for(7).git.branch_heads("o/r") == {"b1": "s1", "b2": "s2"}


@pytest.mark.parametrize(
    ("strikes", "asked", "seconds"),
    [(0, 0, 60), (1, 0, 120), (3, 0, 480), (4, 0, 900), (40, 0, 900), (0, 90, 90)],
)
def test_secondary_backoff_doubles_up_to_15_minutes(strikes: int, asked: int, seconds: int) -> None:
    backoff = SecondaryBackoff(strikes=strikes)
    assert backoff.next_wait(timedelta(seconds=asked)) == timedelta(seconds=seconds)


def test_write_pace_holds_80_a_minute_and_500_an_hour() -> None:
    now = [0.0]
    pace = WritePace(clock=lambda: now[0])
    assert all(pace.take() is None for _ in range(80))
    assert pace.take() == timedelta(seconds=60)
    now[0] = 59.5
    assert pace.take() == timedelta(seconds=0.5)
    for minute in range(1, 6):
        now[0] = 60.0 * minute
        assert all(pace.take() is None for _ in range(80)), minute
    now[0] = 360.0
    assert all(pace.take() is None for _ in range(20))  # 500 sent in this hour
    assert pace.take() == timedelta(seconds=3240)  # the first minute's writes age out at 3600 s
    now[0] = 3600.0
    assert pace.take() is None


class Limited:
    """GitHub answering reads with a secondary limit (403, remaining > 0, no ``retry-after``)
    while ``limited`` is set; counts the requests that reach it."""

    def __init__(self) -> None:
        self.limited = True
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/app":
            return httpx.Response(200, json={"slug": "promoter"})
        if path.endswith("/access_tokens"):
            return httpx.Response(201, json={"token": "t", "expires_at": "2999-01-01T00:00:00Z"})
        self.requests.append(f"{request.method} {path}")
        if self.limited:
            headers = {"x-ratelimit-remaining": "4990", "x-ratelimit-reset": "9999999999"}
            return httpx.Response(403, json={"message": SECONDARY}, headers=headers)
        if request.method == "POST":
            return httpx.Response(201, json={"id": 1, "html_url": "https://github.com/x"})
        return httpx.Response(200, json=[{"ref": "refs/heads/main", "object": {"sha": "s"}}])


async def test_a_secondary_limit_backs_the_installation_off_longer_each_time() -> None:
    github = Limited()
    async with GitHubGateway(
        app_id=1,
        private_key=private_key(),
        transport=httpx.MockTransport(github),
        http_cache=False,
    ) as gateway:
        git = gateway.ports_for(7).git
        waits = []
        for _ in range(3):
            with pytest.raises(RetryLater, match="secondary limit") as raised:
                await git.branch_heads("o/r")
            waits.append(raised.value.after.total_seconds())
        assert waits == [60, 120, 240]
        assert len(github.requests) == 3  # never retried inline
        github.limited = False
        assert await git.branch_heads("o/r") == {"main": "s"}
        github.limited = True
        with pytest.raises(RetryLater) as raised:
            await gateway.ports_for(7).git.branch_heads("o/r")
        assert raised.value.after == timedelta(minutes=1)  # a success started the count again
        with pytest.raises(RetryLater) as raised:
            await gateway.ports_for(8).git.branch_heads("o/r")
        assert raised.value.after == timedelta(minutes=1)  # another installation's own count


def paced(github: Limited, per_minute: int) -> GitHubGateway:
    """A gateway to ``github`` (answering, not limited) whose writes are paced at
    ``per_minute``."""
    github.limited = False
    return GitHubGateway(
        app_id=1,
        private_key=private_key(),
        transport=httpx.MockTransport(github),
        http_cache=False,
        write_pace=lambda _: WritePace(per_minute=per_minute, per_hour=10),
    )


async def test_a_write_past_the_pace_waits_unsent() -> None:
    github = Limited()
    async with paced(github, per_minute=2) as gateway:
        comments = gateway.ports_for(7).comments
        await comments.create("o/r", 1, "one")
        await comments.create("o/r", 1, "two")
        with pytest.raises(RetryLater, match="pacing content-creating requests installation_id=7"):
            await comments.create("o/r", 1, "three")
        assert len(github.requests) == 2
        await gateway.ports_for(8).comments.create("o/r", 1, "other installation")
        assert len(github.requests) == 3


def test_write_pace_takes_several_writes_or_none() -> None:
    now = [0.0]
    pace = WritePace(per_minute=5, per_hour=8, clock=lambda: now[0])
    assert pace.take(3) is None
    assert pace.take(3) == timedelta(seconds=60)  # only 2 left this minute: none taken
    assert pace.take(2) is None
    now[0] = 60.0
    assert pace.take(4) == timedelta(seconds=3540)  # 5 + 4 > 8 this hour
    assert pace.take(3) is None


async def test_a_reserved_job_is_never_stopped_half_way_by_the_pace() -> None:
    """A job that reserves its writes sends them all, or none: stopped between its tree and
    its commit, it would write both again when it runs again."""
    github = Limited()
    async with paced(github, per_minute=4) as gateway:
        ports = gateway.ports_for(7)

        async def job(count: int) -> None:
            await ports.pace.reserve(count)
            for n in range(count):
                await ports.comments.create("o/r", 1, f"write {n}")

        await asyncio.create_task(job(3))
        with pytest.raises(RetryLater, match="pacing"):
            await asyncio.create_task(job(3))  # 1 left: refused before any write
        assert len(github.requests) == 3
        await ports.comments.create("o/r", 1, "an unreserved write takes the last one")
        assert len(github.requests) == 4


@pytest.mark.parametrize(
    ("path", "stored"),
    [
        (f"/repos/acme/gitops/git/blobs/{'a' * 40}", False),
        (f"/repos/acme/gitops/git/trees/{'b' * 40}", False),
        ("/repos/acme/gitops/git/matching-refs/heads/", True),
        ("/repos/acme/gitops/pulls/1", True),
    ],
)
async def test_the_http_cache_keeps_no_copy_of_git_objects(path: str, stored: bool) -> None:
    """Blobs and trees are immutable and kept by the byte-bounded ``Lru``: a second copy in
    githubkit's HTTP cache would only grow the process."""
    answer = httpx.Response(200, headers={"cache-control": "private, max-age=60", "etag": '"1"'})
    transport = SharedTransport(httpx.MockTransport(lambda _: answer))
    response = await transport.handle_async_request(httpx.Request("GET", f"https://x{path}"))
    assert ("no-store" not in response.headers["cache-control"]) is stored


def test_the_git_caches_are_bounded_by_bytes_and_entries() -> None:
    """A few big blobs cannot fill the process: 64 MiB of blobs, 200,000 tree entries."""
    trees, blobs = git_caches()
    blobs.put("a", b"x" * (40 << 20))
    blobs.put("b", b"y" * (40 << 20))
    assert blobs.get("a") is None and blobs.get("b") is not None
    big = Tree("c1", "t1", {f"f{n}": "s" for n in range(150_000)})
    trees.put("c1", big)
    trees.put("c2", Tree("c2", "t2", {f"g{n}": "s" for n in range(100_000)}))
    assert trees.get("c1") is None and trees.weight == 100_000
