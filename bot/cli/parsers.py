"""Every command's arguments, declared with argparse alone: ``--help`` and parsing import no
command's dependencies (pydantic, githubkit, the web stack, the sandbox). One function per command
family, each returning its parsers by command name.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.commands import HELP, PROGRAM, Formatter, command

# The default of ``drift --bot-login``; a test holds it equal to bot.adapters.github_token's.
DEFAULT_BOT_LOGIN = "promotion-bot[bot]"


def versions(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    family = subparsers.add_parser(
        "versions",
        help="semver constraints and tag selection",
        description="Test versions against a constraint, or choose a tag under a policy. "
        "promotion-bot versions COMMAND --help: its options, exit statuses and example.",
        formatter_class=Formatter,
    )
    commands = family.add_subparsers(dest="versions_command", metavar="COMMAND", required=True)
    match = command(
        commands,
        "match",
        parent="versions",
        help="check versions against a Masterminds constraint",
        description="Print one line per version: the version, a tab, and true, false or "
        "invalid (versions are read loosely, as Masterminds NewVersion reads them).",
        exits={0: "every version was checked", 2: "the constraint is invalid"},
        example=f"{PROGRAM} versions match '~1.4' 1.4.2 1.5.0 1.4.3-rc.1",
    )
    match.add_argument("constraint", metavar="CONSTRAINT", help="e.g. '~1.4' or '>=1.2, <2'")
    match.add_argument("versions", nargs="+", metavar="VERSION", help="the versions to check")
    match.add_argument("--prerelease", action="store_true", help="let pre-release versions match")
    pick = command(
        commands,
        "pick",
        parent="versions",
        help="choose a tag under a policy",
        description="Print the chosen tag (tag@digest when given so); when none qualifies, say why "
        "on stderr, naming the pre-releases the policy left out.",
        exits={
            0: "a tag was chosen",
            1: "no tag qualifies (the reason is on stderr)",
            2: "the policy is unknown or bad, or --current or a TAG is not a Docker tag",
        },
        example=f"{PROGRAM} versions pick --policy minor --current 1.4.2 1.4.3 1.5.0 2.0.0",
    )
    pick.add_argument(
        "--policy", required=True, metavar="NAME_OR_FILE", help="a built-in policy or a file"
    )
    pick.add_argument("--current", default=None, metavar="TAG", help="the tag deployed now")
    pick.add_argument("tags", nargs="+", metavar="TAG", help="the candidates (tag or tag@digest)")
    family.epilog = "examples:\n" + "\n".join(
        f"  {example}"
        for name in ("versions match", "versions pick")
        for example in HELP[name].examples
    )
    return {"versions match": match, "versions pick": pick}


def images(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    listing = command(
        subparsers,
        "images",
        help="list the image references found in YAML and Terraform files",
        description="List every image reference (Kubernetes manifests, Helm values, "
        "kustomizations, Flux and marker comments, Terraform and OpenTofu variables) in the "
        "files given; a directory is read for *.yaml, *.yml, *.tf, *.tfvars, *.tf.json and "
        "*.tfvars.json files at any depth, skipping .git.",
        exits={0: "the files were read", 2: "a file could not be read or parsed (the rest are)"},
        example=f"{PROGRAM} images . --json",
    )
    listing.add_argument("files", nargs="+", metavar="FILE|DIR", help="files or directories")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    setter = command(
        subparsers,
        "set-image",
        help="set an image's tag in YAML and Terraform files, byte-exact",
        description="Set every reference to an image to a new tag (and digest), changing only "
        "those characters. One file: the new text goes to stdout unless --write or --diff; "
        "several files or a directory (*.yaml, *.yml, *.tf, *.tfvars, *.tf.json and "
        "*.tfvars.json at any depth, skipping .git) need either. The changes are listed on "
        "stderr.",
        exits={
            0: "the references were set (or already at the tag)",
            1: "no reference to the image in the files given",
            2: "refused: unreadable or not YAML or HCL, invalid tag or digest, a digest the file "
            "cannot take, or an edit that would change more than the reference",
        },
        example=f"{PROGRAM} set-image values.yaml --image ghcr.io/acme/api --tag v1.1 --diff",
    )
    setter.add_argument("files", nargs="+", metavar="FILE|DIR", help="files or directories")
    setter.add_argument("--image", required=True, metavar="REPOSITORY", help="e.g. ghcr.io/a/b")
    setter.add_argument("--tag", required=True, help="the new tag")
    setter.add_argument(
        "--digest", default=None, help="the new digest (sha256:...), where the files pin one"
    )
    output = setter.add_mutually_exclusive_group()
    output.add_argument("--write", action="store_true", help="write the files in place")
    output.add_argument(
        "--diff", action="store_true", help="print a unified diff and write nothing"
    )
    return {"images": listing, "set-image": setter}


def config(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    check = command(
        subparsers,
        "check-config",
        help="validate .github/promotion.yml of a checkout (or a file)",
        description="Validate an environment repository's promotion config and summarise "
        "its environments, apps and policies. In a checkout, count each app's image "
        "references in each environment's directory of the working tree (environments on "
        "another branch or repository are not checked locally); warn about a missing "
        "directory, an app with no reference in an environment, and a files glob that "
        "matches no file.",
        exits={
            0: "the config is valid (warnings, if any, on stderr)",
            1: "the config is invalid, or with --strict an environment directory is missing "
            "or an app has no image reference in one (one issue a line on stdout)",
            2: "the config cannot be read",
        },
        example=f"{PROGRAM} check-config path/to/env-repo",
    )
    check.add_argument("path", metavar="PATH", help="environment repo checkout or config file")
    check.add_argument(
        "--strict",
        action="store_true",
        help="a missing environment directory or an app without image references in an "
        "environment is an error, not a warning",
    )
    schema = command(
        subparsers,
        "config-schema",
        help="print the JSON Schema of .github/promotion.yml",
        description="Print the JSON Schema of the promotion config, for editors and CI.",
        exits={0: "printed"},
        example=f"{PROGRAM} config-schema > promotion.schema.json",
    )
    return {"check-config": check, "config-schema": schema}


def init(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    parser = command(
        subparsers,
        "init",
        help="write a commented .github/promotion.yml for a checkout",
        description="Look at a checkout for environments: directories and files of its working "
        "tree (dev.tfvars) and branches (local, else origin/) named like dev, test, staging or "
        "prod, ordered so, and the image references in their YAML and Terraform files. Write "
        "a commented .github/promotion.yml with the environments holding images and one app per "
        "image, which check-config --strict accepts.",
        exits={
            0: "the config was written (or printed)",
            1: "no environment holding an image reference was found (nothing written)",
            2: "PATH is not a directory, or it has a config already (without --force or --stdout)",
        },
        example=f"{PROGRAM} init path/to/env-repo --stdout",
        runnable=False,
    )
    parser.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="the checkout (default: .)"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--force", action="store_true", help="overwrite an existing config")
    output.add_argument(
        "--stdout", action="store_true", help="print the config instead of writing it"
    )
    return {"init": parser}


def drift(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    parser = command(
        subparsers,
        "drift",
        help="audit an environment repository (a local clone, or OWNER/NAME through the API) "
        "for drift between environments",
        description="Compare each environment of a local clone's .github/promotion.yml with "
        "the one before it: versions behind, values and files that differ, commits on one "
        "branch only, changes that came through no promotion PR. Reads git objects only (the "
        "default branch, then each environment's local branch or origin/<branch>). OWNER/NAME "
        "is read through the API: as the App, or with GITHUB_TOKEN or GH_TOKEN.",
        exits={
            0: "in sync",
            1: "drift found (a CI job fails on it)",
            2: "the clone, the repository or its config cannot be read",
        },
        example=(
            f"{PROGRAM} drift path/to/env-repo --markdown > drift.md",
            f"GITHUB_TOKEN=... {PROGRAM} drift acme/gitops --json",
        ),
        runnable=False,
    )
    parser.add_argument(
        "path",
        metavar="PATH|OWNER/NAME",
        help="a clone of the environment repository, or the repository on GitHub (read as "
        "the App: PROMOTION_BOT_APP_ID and PROMOTION_BOT_PRIVATE_KEY[_FILE]; without them, "
        "with GITHUB_TOKEN or GH_TOKEN)",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the report as JSON")
    shape.add_argument(
        "--markdown", action="store_true", help="print the drift issue's Markdown body"
    )
    parser.add_argument(
        "--now",
        default=None,
        metavar="ISO",
        help="the time gates are checked at (ISO 8601; default: now)",
    )
    parser.add_argument(
        "--bot-login",
        default=DEFAULT_BOT_LOGIN,
        metavar="LOGIN",
        help="with a token: the bot's account, whose PRs and issues are trusted "
        f"(default: {DEFAULT_BOT_LOGIN}); the App reads its own",
    )
    return {"drift": parser}


def serve(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    server = command(
        subparsers,
        "serve",
        help="Run the bot: webhooks, worker, reconcile and redelivery loops (or the setup page "
        "when no GitHub App is configured yet).",
        description="Run the whole bot in one process with the settings from the environment "
        "(docs/deployment.md); without a GitHub App yet, serve the setup page that creates one.",
        exits={0: "stopped", 2: "the settings are invalid (the message says which)"},
        example=f"{PROGRAM} serve --host 0.0.0.0 --port 8000",
    )
    server.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    server.add_argument("--port", type=int, default=8000, help="Port to listen on.")
    worker = command(
        subparsers,
        "worker",
        help="Work the shared queue without taking webhooks (PostgreSQL only): as many as "
        "you like beside the serve processes.",
        description="Run jobs from the PostgreSQL queue at PROMOTION_BOT_DATABASE_URL and ask "
        "for the periodic passes, as serve does, but take no webhook: the HTTP port serves "
        "only /healthz, /readyz and /metrics (docs/deployment.md).",
        exits={
            0: "stopped",
            2: "the settings are invalid, no PROMOTION_BOT_DATABASE_URL, or the database's "
            "schema is not this bot's (the message says which)",
        },
        example=f"{PROGRAM} worker --host 0.0.0.0 --port 8001",
    )
    worker.add_argument("--host", default="127.0.0.1", help="Address of the probes.")
    worker.add_argument("--port", type=int, default=8001, help="Port of the probes.")
    replay = command(
        subparsers,
        "replay",
        help="Feed a saved delivery through translation and the wired use cases (with "
        "credentials), or print the events it would dispatch.",
        description="Translate a saved webhook payload into the bot's events and run them "
        "through the real use cases against GitHub, with App credentials; without them, or "
        "with --dry-run, print the events as JSON lines.",
        exits={
            0: "replayed (or printed)",
            1: "the delivery was rejected or a use case failed",
            2: "the file cannot be read",
        },
        example=f"{PROGRAM} replay pull_request pull_request.closed.json --dry-run",
        runnable=False,
    )
    replay.add_argument("event", help="The X-GitHub-Event name, e.g. pull_request.")
    replay.add_argument("file", type=Path, help="The saved JSON payload.")
    replay.add_argument(
        "--dry-run", action="store_true", help="Only print the events; call no use case."
    )
    return {"serve": server, "worker": worker, "replay": replay}


def sandbox(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    parser = command(
        subparsers,
        "sandbox",
        help="run the local GitHub-compatible server",
        description="Serve the GitHub sandbox (REST API, git repos, signed webhooks, admin API "
        "under /_sandbox/) on loopback. State lives in --data and survives restarts. Needs a "
        "source checkout: the production image leaves the sandbox out.",
        exits={0: "stopped (Ctrl-C)", 2: "the sandbox is not installed here"},
        example=f"{PROGRAM} sandbox --port 8765 --data .sandbox",
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
    return {"sandbox": parser}


def demo(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    parser = command(
        subparsers,
        "demo",
        help="run the bot against the bundled GitHub sandbox and play the promotion story",
        description="Start the GitHub sandbox and the bot on loopback, seed an app repository "
        "and two environment repositories, and play the story: an image push opens the dev "
        "PR, merges open staging and prod, prod waits on its gates, a newer push updates the "
        "open PR in place, a hand-made PR gets the review comment.",
        exits={
            0: "every step happened",
            1: "a step did not happen (state and log are kept)",
            2: "the sandbox is not installed here, or --data is not empty",
        },
        example=f"{PROGRAM} demo --no-wait",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="exit when the story ends (0 when every step happened) instead of serving the pages",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep the sandbox's and the bot's state in this (new or empty) directory; default: "
        "a temporary directory, removed at the end",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="sandbox port for the pages (default: a free one)"
    )
    return {"demo": parser}


# The command families in the order --help lists them.
def db(subparsers: Any) -> dict[str, argparse.ArgumentParser]:
    family = subparsers.add_parser(
        "db",
        help="the PostgreSQL queue's database",
        description="Manage the database at PROMOTION_BOT_DATABASE_URL. "
        "promotion-bot db COMMAND --help: its options, exit statuses and example.",
        formatter_class=Formatter,
    )
    commands = family.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = command(
        commands,
        "upgrade",
        parent="db",
        help="bring the database to this bot's schema",
        description="Apply the migrations (Alembic) this bot has and the database lacks, in one "
        "transaction: procrastinate's schema, then the bot's tables. serve and worker refuse a "
        "database that is behind. The URL is read from PROMOTION_BOT_DATABASE_URL (or .env) and "
        "printed with its password redacted.",
        exits={
            0: "the database is at this bot's schema (upgraded, or already there)",
            1: "the database cannot be reached, was not made by this command, or is newer "
            "than this bot (the message says which)",
            2: "PROMOTION_BOT_DATABASE_URL is not set",
        },
        example=f"{PROGRAM} db upgrade",
        runnable=False,
    )
    family.epilog = "examples:\n" + "\n".join(f"  {e}" for e in HELP["db upgrade"].examples)
    return {"db upgrade": upgrade}


FAMILIES = (versions, images, config, init, drift, serve, db, sandbox, demo)
