from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.promotion.model import Promotion, Snapshot
from bot.core.review.comment import render_review_comment
from bot.core.review.diff import meaningful_diff
from bot.core.review.drift import drift_warnings
from bot.core.review.secrets import SecretFinding, scan_change, sensitive

DATA = Path(__file__).parent.parent / "data" / "secrets"

# Made-up credentials shaped like real ones; AKIAIOSFODNN7EXAMPLE is AWS's documented example.
GITHUB_PAT = "ghp_" + "Q7wX2kLm9ZpR4tYv8BnC3dFg6HjK1sAe0uIo"
GITHUB_APP = "ghs_" + "M3nB7vC1xZ9lK5jH2gF8dS4aP6oI0uYtRe"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
SLACK = "xoxb-" + "2213-77120-Kq8PzLw3Rt"
PEM_BODY = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n      {PEM_BODY}\n      -----END RSA PRIVATE KEY-----"
PASSWORD = "Zq9!hunter2Xv"
ENTROPY = "vQ8rT3nZ0mK7wL2pX9cB5yH4gJ1fD6sA"
URL_PASSWORD = "Pz4kW8qLmn"
BASE64_DATA = "cDRzc3cwcmQtZm9yLWRi"
STRING_DATA = "Tx5gYh2Wp"

SECRET_VALUES = (
    GITHUB_PAT, GITHUB_APP, AWS_KEY, SLACK, PASSWORD, ENTROPY, URL_PASSWORD, BASE64_DATA,
    STRING_DATA, PEM_BODY,
)  # fmt: skip

SECRET_MANIFEST = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: {BASE64_DATA}
stringData:
  user: {STRING_DATA}
"""

CASES = [
    (
        SECRET_MANIFEST,
        [(7, "data.password", "kubernetes-secret"), (9, "stringData.user", "kubernetes-secret")],
    ),
    ("kind: Secret\nmetadata: {name: x}\ntype: Opaque\n", []),
    (
        "kind: SealedSecret\nspec:\n  encryptedData:\n"
        "    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGD\n",
        [],
    ),
    (
        "kind: ExternalSecret\nspec:\n  data:\n  - secretKey: password\n    remoteRef: {key: db}\n",
        [],
    ),
    (f"db:\n  password: {PASSWORD}\n", [(2, "db.password", "secret-key")]),
    (f"auth:\n  clientSecret: '{PASSWORD}'\n", [(2, "auth.clientSecret", "secret-key")]),
    (f"apiKey: {PASSWORD}\n", [(1, "apiKey", "secret-key")]),
    (f"s3:\n  secret_access_key: {PASSWORD}\n", [(2, "s3.secret_access_key", "secret-key")]),
    (f"env:\n- name: TOKEN\n  value: {GITHUB_PAT}\n", [(3, "env[0].value", "known-token")]),
    (f"token: {GITHUB_APP}\n", [(1, "token", "known-token")]),
    (f"aws: {{id: {AWS_KEY}}}\n", [(1, "aws.id", "known-token")]),
    (f"slack: {SLACK}\n", [(1, "slack", "known-token")]),
    (f"tls:\n  key: |\n      {PEM}\n", [(2, "tls.key", "private-key")]),
    (f"url: https://admin:{URL_PASSWORD}@db.example.com/x\n", [(1, "url", "url-password")]),
    (f"signing: {ENTROPY}\n", [(1, "signing", "high-entropy")]),
    ("password: ''\n", []),
    ('password: "${DB_PASSWORD}"\n', []),
    ("password: '{{ .Values.db.password }}'\n", []),
    ("password: <path:secret/data/db#password>\n", []),
    ("password: ENC[AES256_GCM,data:abc,iv:def]\n", []),
    ("password: xxxxxxxx\n", []),
    ("password: true\n", []),
    ("token: 12345\n", []),
    ("existingSecret: db-credentials\n", []),
    ("passwordSecretKey: db-password\n", []),
    ("adminTokenSecret: admin-token\n", []),
    ("secretName: tls-cert\n", []),
    ("image:\n  digest: sha256:" + "a1" * 32 + "\n", []),
    ("commit: 3f786850e387550fdab836ed7e6dc881de23001b\n", []),
    ("caBundle: " + ENTROPY + "\n", []),
    ("name: my-very-long-service-name-for-prod-2024\n", []),
    ("id: 123e4567-e89b-12d3-a456-426614174000\n", []),
    (f"broken: [\npassword: {GITHUB_PAT}\n", [(2, "", "known-token")]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_scan_text(text: str, expected: list[tuple[int, str, str]]) -> None:
    found = scan_change(None, text, file="values.yaml")
    assert [(f.line, f.path, f.kind) for f in found] == expected
    assert all(f.file == "values.yaml" for f in found)


def test_scan_change_reports_only_what_is_added() -> None:
    before = f"a:\n  password: {PASSWORD}\n"
    after = f"a:\n  password: {PASSWORD}\n  token: {GITHUB_PAT}\n"
    assert scan_change(before, after, file="f.yaml") == (
        SecretFinding("f.yaml", 3, "a.token", "known-token"),
    )


def test_scan_change_reports_a_changed_value() -> None:
    before = f"password: {PASSWORD}\n"
    after = f"password: {PASSWORD}x\n"
    assert [f.path for f in scan_change(before, after, file="f.yaml")] == ["password"]


def test_scan_change_of_new_file() -> None:
    assert len(scan_change(None, SECRET_MANIFEST, file="secret.yaml")) == 2


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (
            "grafana-enterprise-logs.values.yaml",
            [
                (163, "commonConfig.storage.s3.secret_access_key", "secret-key"),
                (606, "minio.secretKey", "secret-key"),
            ],
        ),
        ("bitnami-kafka.values.yaml", []),
        ("argo-cd.namespace-install.yaml", []),
    ],
)
def test_real_files(file: str, expected: list[tuple[int, str, str]]) -> None:
    found = scan_change(None, (DATA / file).read_text(encoding="utf-8"), file=file)
    assert [(f.line, f.path, f.kind) for f in found] == expected


@pytest.mark.parametrize(
    ("path", "value", "kind", "hidden"),
    [
        (("data", "x"), "YWJj", "Secret", True),
        (("data", "x"), "YWJj", "ConfigMap", False),
        (("db", "password"), PASSWORD, None, True),
        (("replicas",), 3, None, False),
        (("note",), GITHUB_PAT, None, True),
        (("note",), "hello", None, False),
        ((), "hello", None, False),
    ],
)
def test_sensitive(path: tuple[str, ...], value: object, kind: str | None, hidden: bool) -> None:
    assert sensitive(path, value, document_kind=kind) is hidden


def test_findings_never_carry_values() -> None:
    text = "\n".join(case[0] for case in CASES[4:15])
    for finding in scan_change(None, text, file="all.yaml"):
        shown = repr(finding) + finding.describe()
        assert not _leaks(shown)


def test_review_comment_shows_no_secret_value() -> None:
    before = Snapshot({"values.yaml": "db:\n  password: old-one-1\nreplicas: 1\n"})
    after_text = "\n".join(
        [
            "db:",
            f"  password: {PASSWORD}",
            f"  url: https://admin:{URL_PASSWORD}@db/x",
            f"  note: {GITHUB_PAT}",
            f"  app_token: {GITHUB_APP}",
            f"  aws: {AWS_KEY}",
            f"  slack: {SLACK}",
            f"  signing: {ENTROPY}",
            "  tls: |",
            "    " + PEM.replace("      ", "    "),
            "replicas: 2",
        ]
    )
    after = Snapshot({"values.yaml": after_text + "\n", "secret.yaml": SECRET_MANIFEST})
    promotion = Promotion("api", "prod", "ghcr.io/acme/api", "1.0.0", "1.1.0")
    diff = meaningful_diff(before, after)
    warnings = drift_warnings(promotions=[promotion], target_before=before, target_after=after)
    body = render_review_comment(app="api", environment="prod", diff=diff, warnings=warnings)
    assert not _leaks(body)
    assert sum(w.kind == "plaintext-secret" for w in warnings) == 10
    assert "replicas: 1 → 2" in body
    assert "db.password: changed (value hidden)" in body


def _leaks(text: str, window: int = 6) -> bool:
    """True when any ``window``-character slice of any secret value appears in ``text``."""
    return any(
        value[i : i + window] in text
        for value in SECRET_VALUES
        for i in range(len(value) - window + 1)
    )
