"""``promotion-bot demo``: the sandbox and the bot on loopback, playing the promotion story.

Needs no GitHub account, no configuration and no network beyond loopback. Prints one line per
step (check mark or cross, time since the start, links to the sandbox's pages) and a summary;
then keeps the pages up until Ctrl-C, unless ``--no-wait``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.cli.sandbox import sandbox_installed
from bot.logs import log_to_file

if TYPE_CHECKING:
    from bot.demo.scene import StepReport

PASS, FAIL = "✓", "✗"
STARTING = (
    "Starting a GitHub sandbox and the bot on loopback (no account, no network), then playing "
    "the promotion story:"
)
STOPPED = (
    "The sandbox has stopped with the demo. To keep it up and browse its pull requests, run "
    "`promotion-bot demo` without --no-wait (Ctrl-C stops it)."
)


def run(args: argparse.Namespace) -> int:
    if not sandbox_installed("demo"):
        return 2
    # The demo runs on the sandbox, which the production image leaves out: imported here.
    from bot.demo.scene import Scene, play  # noqa: PLC0415
    from bot.demo.story import STEPS  # noqa: PLC0415

    if args.data is not None and args.data.exists() and any(args.data.iterdir()):
        print(
            f"promotion-bot demo: --data must be a new or empty directory: {args.data}",
            file=sys.stderr,
        )
        return 2
    data = args.data or Path(tempfile.mkdtemp(prefix="promotion-bot-demo-"))
    data.mkdir(parents=True, exist_ok=True)
    handler = log_to_file(data / "demo.log")
    scene = Scene(data, sandbox_port=args.port)
    passed = False
    # Said at once: starting the sandbox and the bot takes a few seconds before the first step.
    print(STARTING, flush=True)
    try:
        results = play(STEPS, scene, lambda i, r: print_step(i, len(STEPS), r, sys.stdout))
        passed = print_summary(results, len(STEPS), data / "demo.log", sys.stdout)
        if not args.no_wait and scene.stack is not None:
            _serve_until_interrupted(scene.stack.url)
        elif passed:
            print(STOPPED, flush=True)
    finally:
        scene.close()
        logging.getLogger().removeHandler(handler)
        handler.close()
        if args.data is None and passed:
            shutil.rmtree(data, ignore_errors=True)
    return 0 if passed else 1


def print_step(index: int, total: int, result: StepReport, out: TextIO) -> None:
    mark = PASS if result.passed else FAIL
    print(f"{mark} {result.elapsed_s:5.1f}s  {index}/{total} {result.name}", file=out)
    print(f"           {result.detail}", file=out)
    for link in result.links:
        print(f"           {link}", file=out)
    out.flush()


def print_summary(results: list[StepReport], total: int, log: Path, out: TextIO) -> bool:
    """Print the summary line; ``True`` when every step passed. ``play`` stops at a failure, so
    a failed story's last result is the failed step."""
    ok = len(results) == total and all(r.passed for r in results)
    elapsed = results[-1].elapsed_s if results else 0.0
    if ok:
        print(f"\n{PASS} all {total} steps happened in {elapsed:.1f}s", file=out)
    else:
        failed = f"{len(results)}/{total} ({results[-1].name})"
        print(f"\n{FAIL} failed at step {failed} after {elapsed:.1f}s", file=out)
        print(f"  state and log kept: {log}", file=out)
        for line in last_problems(log):
            print(f"  log: {line}", file=out)
    out.flush()
    return ok


def last_problems(log: Path, count: int = 3) -> list[str]:
    """The messages of the last ``count`` warnings and errors in the JSON-lines log: why the
    bot did not do what a step waited for, often."""
    if not log.is_file():
        return []
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") in {"WARNING", "ERROR"}:
            found.append(f"{record['level']} {record.get('logger', '')}: {record.get('msg', '')}")
    return found[-count:]


def _serve_until_interrupted(url: str) -> None:
    print(f"\nThe sandbox's pages stay up at {url}/ ; press Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    # Our own handlers: Ctrl-C and a plain ``kill`` both end the demo through its cleanup (and
    # a shell that started it in the background may have left SIGINT ignored).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    print("stopping the bot and the sandbox", file=sys.stderr)
