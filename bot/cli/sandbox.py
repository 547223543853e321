"""``sandbox``: run the GitHub-compatible sandbox server until interrupted.

The sandbox (``github_sandbox``) is imported only when a command runs: the production image
leaves it out, and every other command must still work there.
"""

from __future__ import annotations

import argparse
import importlib.util
import secrets
import sys
import threading
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the local GitHub-compatible server",
        description="Serve the GitHub sandbox (REST API, git repos, signed webhooks, admin API "
        "under /_sandbox/) on loopback. State lives in --data and survives restarts.",
    )
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--data", type=Path, default=Path(".sandbox"), help="state directory")
    parser.add_argument("--seed", type=int, default=0, help="seed for fault injection")
    parser.add_argument("--rate-limit", type=int, default=5000, help="requests/hour per token")
    parser.add_argument(
        "--no-admin-token", action="store_true", help="leave the /_sandbox/ admin API open"
    )
    limits = parser.add_argument_group(
        "secondary rate limits",
        "GitHub's secondary limits per credential (docs: rate limits for the REST API); off "
        "unless --secondary-limits, GitHub's figures by default",
    )
    limits.add_argument("--secondary-limits", action="store_true", help="turn them on")
    limits.add_argument("--concurrent-limit", type=int, default=100, help="requests in flight")
    limits.add_argument("--points-per-minute", type=int, default=900, help="GET 1, writes 5")
    limits.add_argument("--content-per-minute", type=int, default=80, help="writes a minute")
    limits.add_argument("--content-per-hour", type=int, default=500, help="writes an hour")
    limits.add_argument(
        "--window-scale", type=float, default=1.0, help="the minute and hour times this"
    )
    parser.set_defaults(func=run)


def sandbox_installed(command: str) -> bool:
    """``False``, after saying why on stderr, where the sandbox package is not installed."""
    if importlib.util.find_spec("github_sandbox") is not None:
        return True
    print(
        f"promotion-bot {command}: the GitHub sandbox is not installed here (the production "
        "image leaves it out); run it from a source checkout: pip install -e .",
        file=sys.stderr,
    )
    return False


def run(args: argparse.Namespace) -> int:
    if not sandbox_installed("sandbox"):
        return 2
    from github_sandbox.secondary import SecondaryFigures  # noqa: PLC0415
    from github_sandbox.server import run_sandbox  # noqa: PLC0415

    token = None if args.no_admin_token else secrets.token_hex(16)
    handle = run_sandbox(
        args.data,
        port=args.port,
        host=args.host,
        seed=args.seed,
        rate_limit=args.rate_limit,
        secondary_limits=SecondaryFigures(
            enabled=args.secondary_limits,
            concurrent=args.concurrent_limit,
            points_per_minute=args.points_per_minute,
            content_per_minute=args.content_per_minute,
            content_per_hour=args.content_per_hour,
            window_scale=args.window_scale,
        ),
        admin_token=token,
    )
    print(f"sandbox listening url={handle.url} data={args.data}", flush=True)
    if token:
        print(f"admin token (Authorization: Bearer ...): {token}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping sandbox", file=sys.stderr)
    finally:
        handle.stop()
    return 0
