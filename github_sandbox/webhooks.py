"""Webhooks out: signed deliveries sent by one background worker, recorded for the App API.

``Webhooks.emit(event, payload, installation_id)`` is the one way to send an event: it checks the
app subscribes to it, records a delivery (status ``pending``) and queues it. A single worker thread
posts deliveries in order, so each installation sees its events in the order they were emitted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from typing import Any

import httpx

from github_sandbox.clock import SandboxClock
from github_sandbox.store import Record, Store

log = logging.getLogger(__name__)

# GitHub sends these to every app, whatever it subscribed to.
ALWAYS_SENT = frozenset({"installation", "installation_repositories", "ping"})
_TIMEOUT_S = 10.0


def signature_headers(secret: str, body: bytes) -> dict[str, str]:
    sha256 = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={sha256}", "X-Hub-Signature": f"sha1={sha1}"}


class Webhooks:
    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        # Read at each delivery, so tests can point it at an app created after the sandbox.
        self.transport = transport
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()
        # Deliveries queued before a restart are sent now, in their original order.
        for delivery in store.find("delivery"):
            if delivery["status"] == "pending":
                self._queue_id(delivery["id"])

    def emit(self, event: str, payload: dict[str, Any], installation_id: int) -> Record | None:
        """Queue ``event`` for the installation's app; None if the app does not receive it."""
        installation = self._store.get("installation", installation_id)
        app = self._store.get("app", installation["app_id"]) if installation else None
        if app is None or not app.get("webhook_url") or not app.get("webhook_active", True):
            return None
        if event not in ALWAYS_SENT and event not in app.get("events", []):
            return None
        body = json.dumps(payload).encode()
        headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/sandbox",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": str(app["hook_id"]),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(app["id"]),
            **signature_headers(app["webhook_secret"], body),
        }
        repository = payload.get("repository")
        record = {
            "guid": headers["X-GitHub-Delivery"],
            "app_id": app["id"],
            "url": app["webhook_url"],
            "event": event,
            "action": payload.get("action"),
            "installation_id": installation_id,
            "repository_id": repository["id"] if isinstance(repository, dict) else None,
            "redelivery": False,
            "request": {"headers": headers, "body": body.decode()},
        }
        return self._enqueue(record)

    def redeliver(self, delivery: Record) -> Record:
        """A new attempt of an earlier delivery: same GUID and body, ``redelivery: true``."""
        keep = ("guid", "app_id", "url", "event", "action", "installation_id", "repository_id")
        record = {k: delivery[k] for k in keep}
        return self._enqueue({**record, "redelivery": True, "request": delivery["request"]})

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery has been attempted; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=_TIMEOUT_S + 1)

    def _enqueue(self, record: Record) -> Record:
        stored = self._store.insert(
            "delivery",
            {
                **record,
                "status": "pending",
                "status_code": 0,
                "duration": 0.0,
                "delivered_at": self._clock.iso(),
                "response": {"headers": {}, "body": ""},
            },
            key=record["guid"],
        )
        self._queue_id(stored["id"])
        return stored

    def _queue_id(self, delivery_id: int) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(delivery_id)

    def _run(self) -> None:
        # A private loop in this daemon thread: blocking on the queue never holds up shutdown.
        loop = asyncio.new_event_loop()
        # One client for every delivery (building one costs 60 ms, more than most deliveries),
        # built anew when ``transport`` is replaced.
        client: httpx.AsyncClient | None = None
        used: httpx.AsyncBaseTransport | None = None
        try:
            while (delivery_id := self._queue.get()) is not None:
                try:
                    if client is None or used is not self.transport:
                        if client is not None:
                            loop.run_until_complete(client.aclose())
                        used = self.transport
                        client = httpx.AsyncClient(transport=used, timeout=_TIMEOUT_S)
                    loop.run_until_complete(self._deliver(client, delivery_id))
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()
        finally:
            if client is not None:
                loop.run_until_complete(client.aclose())
            loop.close()

    async def _deliver(self, client: httpx.AsyncClient, delivery_id: int) -> None:
        record = self._store.get("delivery", delivery_id)
        if record is None:
            return
        request = record["request"]
        started = time.monotonic()
        try:
            response = await client.post(
                record["url"], content=request["body"].encode(), headers=request["headers"]
            )
        except httpx.HTTPError as err:
            log.warning(
                "delivering webhook failed guid=%s url=%s error=%s",
                record["guid"],
                record["url"],
                err,
            )
            status, code, answer = "failed to connect", 0, {"headers": {}, "body": str(err)}
        else:
            code = response.status_code
            status = "OK" if response.is_success else f"Invalid HTTP Response: {code}"
            answer = {"headers": dict(response.headers), "body": response.text}
        self._store.update(
            "delivery",
            {
                **record,
                "status": status,
                "status_code": code,
                "response": answer,
                "duration": round(time.monotonic() - started, 3),
                "delivered_at": self._clock.iso(),
            },
        )
