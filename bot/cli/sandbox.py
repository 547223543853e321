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
