"""The drift audit over environments read as files: every planted difference is reported, and
nothing else (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.adapters.catalog import builtin_policies
from bot.core.config import parse_config
from bot.core.drift.audit import audit
from bot.core.drift.model import Commit, DriftReport, EnvView, Facts, Lane
from bot.core.promotion.holds import Hold

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

CONFIG = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: staging
    path: envs/staging
  - name: prod
    path: envs/prod
    policy: prod-safe
apps:
  api: {image: ghcr.io/acme/api, files: ["api.yaml"]}
  web: {image: ghcr.io/acme/web, files: ["web.yaml"]}
  worker: {image: ghcr.io/acme/worker, files: ["worker.yaml"]}
  cron: {image: ghcr.io/acme/cron, files: ["cron.yaml"]}
drift:
  ignore:
    - files: "*.yaml"
      paths: [replicas, "resources"]
    - files: "ingress.yaml"
      paths: ["spec.rules[*].host"]
"""


def image(app: str, tag: str, extra: str = "") -> str:
    return f"image:\n  repository: ghcr.io/acme/{app}\n  tag: {tag}\nreplicas: 2\n{extra}"


def ingress(host: str) -> str:
    return f"kind: Ingress\nspec:\n  rules:\n    - host: {host}\n"


def env(name: str, **files: str) -> EnvView:
    return EnvView(name, "acme/gitops", "main", f"envs/{name}", files)


def base(**tags: str) -> dict[str, str]:
    defaults = {"api": "1.4.0", "web": "2.0.0", "worker": "3.1.0", "cron": "0.9.0"}
    return {f"{app}.yaml": image(app, tag) for app, tag in (defaults | tags).items()}


def run(views: dict[str, EnvView], facts: Facts | None = None) -> DriftReport:
    config = parse_config(CONFIG, builtin=builtin_policies())
    return audit(config, views, facts or Facts(), repo="acme/gitops", now=NOW)


def test_environments_in_step_have_no_drift() -> None:
    views = {name: env(name, **base()) for name in ("dev", "staging", "prod")}
    report = run(views)
    assert report.count == 0 and report.syncs() == ()
    assert report.running["api"] == {"dev": "1.4.0", "staging": "1.4.0", "prod": "1.4.0"}


def test_versions_behind_say_how_far_and_why() -> None:
    dev = base(api="1.5.0", web="2.1.0", worker="4.0.0", cron="1.0.0")
    staging = base(api="1.5.0", web="2.1.0", worker="4.0.0", cron="1.0.0")
    prod = base(api="1.4.0", web="2.0.3", worker="3.1.0", cron="0.9.0")
    facts = Facts(
        lanes={
            ("api", "staging"): Lane(arrived={"1.5.0": NOW - timedelta(days=3)}),
            ("web", "staging"): Lane(arrived={"2.1.0": NOW - timedelta(hours=2)}),
            ("worker", "prod"): Lane(proposed="4.0.0", pull=12),
            ("cron", "prod"): Lane(declined=("1.0.0",)),
        },
    )
    report = run(
        {
            "dev": env("dev", **dev),
            "staging": env("staging", **staging),
            "prod": env("prod", **prod),
        },
        facts,
    )
    (pair,) = [p for p in report.pairs if p.environment == "prod"]
    found = {b.app: (b.version, b.running, b.kind, b.status) for b in pair.behind}
    assert found == {
        "api": ("1.5.0", "1.4.0", "minor", "waiting"),  # prod-safe: /promote only
        "web": ("2.1.0", "2.0.3", "minor", "waiting"),
        "worker": ("4.0.0", "3.1.0", "major", "proposed"),
        "cron": ("1.0.0", "0.9.0", "major", "declined"),
    }
    web = next(b for b in pair.behind if b.app == "web")
    assert "requires 24h in staging" in web.detail  # the soak the PR's check would run
    api = next(b for b in pair.behind if b.app == "api")
    assert api.since == NOW - timedelta(days=3)
    assert next(b for b in pair.behind if b.app == "worker").pull == 12
    assert {b.key for b in report.syncs()} == {
        "sync:api:prod:1.5.0",
        "sync:web:prod:2.1.0",
        "sync:cron:prod:1.0.0",
    }
    assert all(p.count == 0 for p in report.pairs if p.environment != "prod")


def test_a_held_lane_says_who_held_it_and_offers_no_sync() -> None:
    hold = Hold("staging", "api", "alice", NOW, reason="incident 42", number=7)
    views = {
        "dev": env("dev", **base(api="1.4.1")),
        "staging": env("staging", **base()),
        "prod": env("prod", **base()),
    }
    report = run(views, Facts(holds=(hold,)))
    (item,) = [b for p in report.pairs for b in p.behind]
    assert (item.environment, item.kind, item.status, item.pull) == ("staging", "patch", "held", 7)
    assert "incident 42" in item.detail and report.syncs() == () and report.holds == (hold,)


def test_pending_and_ahead() -> None:
    views = {
        "dev": env("dev", **base(api="1.4.1")),
        "staging": env("staging", **base(web="2.0.1")),  # a hotfix staging got, dev lacks
        "prod": env("prod", **base(web="2.0.1")),
    }
    report = run(views)
    (staging,) = [p for p in report.pairs if p.environment == "staging"]
    ((api,), (web,)) = staging.behind, staging.ahead
    assert (api.app, api.status, api.kind) == ("api", "pending", "patch")
    assert (web.app, web.version, web.running) == ("web", "2.0.0", "2.0.1")


def test_values_and_files_that_differ_minus_the_declared_ones() -> None:
    dev = base() | {"ingress.yaml": ingress("dev.example.com"), "debug.yaml": "level: debug\n"}
    prod = base() | {"ingress.yaml": ingress("example.com"), "pdb.yaml": "minAvailable: 2\n"}
    dev["api.yaml"] = image("api", "1.4.0", "resources: {cpu: 1}\nlogLevel: debug\n")
    prod["api.yaml"] = image("api", "1.4.0", "resources: {cpu: 4}\nlogLevel: info\n")
    prod["web.yaml"] = image("web", "2.0.0").replace("replicas: 2", "replicas: 6")
    dev["notes.txt"], prod["notes.txt"] = "one\n", "two\n"
    report = run(
        {"dev": env("dev", **dev), "staging": env("staging", **dev), "prod": env("prod", **prod)}
    )
    (pair,) = [p for p in report.pairs if p.count]
    assert (pair.upstream, pair.environment) == ("staging", "prod")
    assert [(v.file, v.path, v.old, v.new) for v in pair.values] == [
        ("api.yaml", "logLevel", "debug", "info")
    ]
    assert (pair.only_upstream, pair.only_here, pair.text_differs) == (
        ("debug.yaml",),
        ("pdb.yaml",),
        ("notes.txt",),
    )


def test_secrets_and_encrypted_values_are_only_said_to_differ() -> None:
    secret = "kind: Secret\nmetadata: {name: db}\nstringData:\n  password: VALUE\n"
    sops = "token: VALUE\nsops:\n  mac: MAC\n"
    sealed = "kind: SealedSecret\nspec:\n  encryptedData:\n    password: VALUE\n"
    creds = "database:\n  password: VALUE\n"

    def files(n: str) -> dict[str, str]:
        return base() | {
            "secret.yaml": secret.replace("VALUE", f"hunter{n}hunter"),
            "sops.yaml": sops.replace("VALUE", f"ENC[AES256_GCM,data:{n}abc]").replace("MAC", n),
            "sealed.yaml": sealed.replace("VALUE", f"AgBy{n}qqqqqq"),
            "creds.yaml": creds.replace("VALUE", f"s3cr3t-{n}-value"),
        }

    report = run(
        {
            "dev": env("dev", **files("1")),
            "staging": env("staging", **files("2")),
            "prod": env("prod", **files("2")),
        }
    )
    (pair,) = [p for p in report.pairs if p.count]
    assert len(pair.values) == 5 and all(v.sensitive for v in pair.values)


def test_commits_and_direct_changes_come_from_the_facts() -> None:
    hotfix = Commit("a" * 40, "bob", NOW, "hotfix: raise the timeout")
    direct = Commit("b" * 40, "carol", NOW, "bump replicas by hand")
    views = {name: env(name, **base()) for name in ("dev", "staging", "prod")}
    report = run(views, Facts(ahead={"prod": (hotfix,)}, direct={"prod": (direct,)}))
    (pair,) = [p for p in report.pairs if p.count]
    assert (pair.environment, pair.commits_ahead, pair.direct) == ("prod", (hotfix,), (direct,))
    assert report.count == 2


def test_files_left_alone_are_listed_by_environment() -> None:
    views = {name: env(name, **base()) for name in ("dev", "staging", "prod")}
    views["prod"] = EnvView(
        "prod", "acme/gitops", "main", "envs/prod", base(), {"big.yaml": "too big"}
    )
    assert run(views).skipped == {"prod: big.yaml": "too big"}
