from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.files.yamlscan import ImageOccurrence
from bot.core.promotion.model import Promotion, Snapshot
from bot.core.review.diff import (
    ABSENT,
    MAX_LEAVES,
    ImageDelta,
    MeaningfulDiff,
    ValueDelta,
    meaningful_diff,
)
from bot.core.review.drift import drift_warnings

VALUES = """\
# user-service values
image:
  repository: ghcr.io/acme/user-service
  tag: 1.3.0
replicas: 2
resources: {limits: {cpu: 500m}}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/acme/web:1.3.0
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
"""


def _image(file: str, path: str, repository: str, tag: str) -> ImageOccurrence:
    """A found image; drift ignores the line and kind, so fixtures fix them."""
    return ImageOccurrence(file, 1, "helm-values", repository, tag, None, path)


IMG_VALUES = _image("values.yaml", "image", "ghcr.io/acme/user-service", "1.3.0")
IMG_DEPLOY = _image(
    "deploy.yaml", "spec.template.spec.containers[0].image", "ghcr.io/acme/web", "1.3.0"
)
BASE = Snapshot({"values.yaml": VALUES, "deploy.yaml": DEPLOYMENT}, (IMG_VALUES, IMG_DEPLOY))


def _bump(snapshot: Snapshot, file: str, old: str, new: str, **images: ImageOccurrence) -> Snapshot:
    files = dict(snapshot.files)
    files[file] = files[file].replace(old, new)
    refs = tuple(images.get(i.file.replace(".", "_"), i) for i in snapshot.images)
    return Snapshot(files, refs)


TAG_BUMP = _bump(
    BASE,
    "values.yaml",
    "tag: 1.3.0",
    "tag: 1.4.0",
    values_yaml=_image("values.yaml", "image", "ghcr.io/acme/user-service", "1.4.0"),
)

DIFF_CASES = [
    ("identical", BASE, MeaningfulDiff()),
    (
        "comments and formatting only",
        Snapshot(
            {
                "values.yaml": VALUES.replace("# user-service values", "# edited")
                .replace("replicas: 2", "replicas:   2  # two")
                .replace("{limits: {cpu: 500m}}", "\n  limits:\n    cpu: '500m'"),
                "deploy.yaml": DEPLOYMENT,
            },
            BASE.images,
        ),
        MeaningfulDiff(),
    ),
    (
        "image tag only",
        TAG_BUMP,
        MeaningfulDiff(
            images=(
                ImageDelta("values.yaml", "image", "ghcr.io/acme/user-service", "1.3.0", "1.4.0"),
            )
        ),
    ),
    (
        "inline image reference",
        _bump(
            BASE,
            "deploy.yaml",
            "web:1.3.0",
            "web:1.4.0",
            deploy_yaml=_image(IMG_DEPLOY.file, IMG_DEPLOY.path, IMG_DEPLOY.repository, "1.4.0"),
        ),
        MeaningfulDiff(
            images=(
                ImageDelta(IMG_DEPLOY.file, IMG_DEPLOY.path, "ghcr.io/acme/web", "1.3.0", "1.4.0"),
            )
        ),
    ),
    (
        "a value besides the image",
        _bump(TAG_BUMP, "values.yaml", "replicas: 2", "replicas: 3"),
        MeaningfulDiff(
            images=meaningful_diff(BASE, TAG_BUMP).images,
            values=(ValueDelta("values.yaml", "", "replicas", 2, 3),),
        ),
    ),
    (
        "a type change is a change",
        _bump(BASE, "values.yaml", "replicas: 2", "replicas: '2'"),
        MeaningfulDiff(values=(ValueDelta("values.yaml", "", "replicas", 2, "2"),)),
    ),
    (
        "multi-document file keyed by kind and name",
        _bump(BASE, "deploy.yaml", "port: 80", "port: 8080"),
        MeaningfulDiff(
            values=(ValueDelta("deploy.yaml", "Service/web", "spec.ports[0].port", 80, 8080),)
        ),
    ),
    (
        "added subtree shows leaf by leaf",
        _bump(BASE, "values.yaml", "replicas: 2\n", "replicas: 2\nenv: {A: '1', B: [x]}\n"),
        MeaningfulDiff(
            values=(
                ValueDelta("values.yaml", "", "env.A", ABSENT, "1"),
                ValueDelta("values.yaml", "", "env.B[0]", ABSENT, "x"),
            )
        ),
    ),
    (
        "removed key",
        _bump(BASE, "values.yaml", "resources: {limits: {cpu: 500m}}\n", ""),
        MeaningfulDiff(
            values=(ValueDelta("values.yaml", "", "resources.limits.cpu", "500m", ABSENT),)
        ),
    ),
    (
        "secret value is marked",
        _bump(BASE, "values.yaml", "replicas: 2", "replicas: 2\ndbPassword: s3cr3t-Pw"),
        MeaningfulDiff(
            values=(ValueDelta("values.yaml", "", "dbPassword", ABSENT, "s3cr3t-Pw", True),)
        ),
    ),
    (
        "files added and removed",
        Snapshot({"values.yaml": VALUES, "new.yaml": "a: 1\n"}, (IMG_VALUES,)),
        MeaningfulDiff(
            images=(
                ImageDelta(IMG_DEPLOY.file, IMG_DEPLOY.path, "ghcr.io/acme/web", "1.3.0", None),
            ),
            files_added=("new.yaml",),
            files_removed=("deploy.yaml",),
        ),
    ),
    (
        "unparsable and non-YAML files compare as text",
        Snapshot({"values.yaml": VALUES + "broken: [\n", "deploy.yaml": DEPLOYMENT}, BASE.images),
        MeaningfulDiff(text_changed=("values.yaml",)),
    ),
]


@pytest.mark.parametrize(
    ("after", "expected"), [c[1:] for c in DIFF_CASES], ids=[c[0] for c in DIFF_CASES]
)
def test_meaningful_diff(after: Snapshot, expected: MeaningfulDiff) -> None:
    assert meaningful_diff(BASE, after) == expected


def test_image_paths_with_a_document_index_claim_their_values() -> None:
    text = "kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b}\nx: {image: 'a/b:1'}\n"
    before = Snapshot({"m.yaml": text}, (_image("m.yaml", "[1].x.image", "a/b", "1"),))
    after = Snapshot(
        {"m.yaml": text.replace("b:1", "b:2").replace("name: b}", "name: b, labels: {v: x}}")},
        (_image("m.yaml", "[1].x.image", "a/b", "2"),),
    )
    diff = meaningful_diff(before, after)
    assert diff.images == (ImageDelta("m.yaml", "[1].x.image", "a/b", "1", "2"),)
    assert diff.values == (ValueDelta("m.yaml", "B/b", "metadata.labels.v", ABSENT, "x"),)


def test_readme_changes_are_text_changes() -> None:
    before = Snapshot({"README.md": "a"})
    assert meaningful_diff(before, Snapshot({"README.md": "b"})).text_changed == ("README.md",)


def test_billion_laughs_is_compared_as_text() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefg":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    assert MAX_LEAVES < 10 * 6**6
    diff = meaningful_diff(Snapshot({"x.yaml": "a: 1\n"}), Snapshot({"x.yaml": bomb}))
    assert diff.text_changed == ("x.yaml",)


def test_empty_and_locations() -> None:
    diff = meaningful_diff(BASE, _bump(TAG_BUMP, "values.yaml", "replicas: 2", "replicas: 3"))
    assert not diff.empty
    assert MeaningfulDiff().empty
    assert diff.locations() == ("values.yaml: image", "values.yaml: replicas")


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROMO = Promotion(
    "user-service", "prod", "ghcr.io/acme/user-service", "1.3.0", "1.4.0", change_kind="minor"
)
STAGING = Snapshot(
    {"values.yaml": TAG_BUMP.files["values.yaml"]},
    (_image("values.yaml", "image", "ghcr.io/acme/user-service", "1.4.0"),),
)
PROD_BEFORE = Snapshot({"values.yaml": VALUES}, (IMG_VALUES,))
PROD_AFTER = Snapshot(
    {"values.yaml": STAGING.files["values.yaml"]},
    (_image("values.yaml", "image", "ghcr.io/acme/user-service", "1.4.0"),),
)

SHORT = _image("values.yaml", "image", "acme/user-service", "1.4.0")

WARNING_CASES = [
    ("clean", {}, []),
    ("no previous environment", {"previous_environment": None, "ahead": ["abc1234 x"]}, []),
    (
        "downgrade",
        {
            "promotions": [
                Promotion("a", "prod", "img", "2.0.0", "1.9.0", change_kind="downgrade")
            ],
            "previous_environment": None,
        },
        [("downgrade", "img goes back from 2.0.0 to 1.9.0")],
    ),
    (
        "skipped environment",
        {"previous": PROD_BEFORE},
        [
            (
                "skipped-environment",
                "ghcr.io/acme/user-service 1.4.0 is not in staging; "
                "this promotion skips that environment",
            ),
            (
                "environment-differs",
                "prod differs from staging in more than this change: values.yaml: image",
            ),
        ],
    ),
    (
        "short image name matches the registry-qualified one",
        {
            "previous": Snapshot(STAGING.files, (SHORT,)),
            "target_after": Snapshot(PROD_AFTER.files, (SHORT,)),
        },
        [],
    ),
    (
        "environment differs beyond the change",
        {
            "target_after": Snapshot(
                {"values.yaml": STAGING.files["values.yaml"].replace("cpu: 500m", "cpu: '2'")},
                PROD_AFTER.images,
            )
        },
        [
            (
                "environment-differs",
                "prod differs from staging in more than this change: "
                "values.yaml: resources.limits.cpu",
            )
        ],
    ),
    (
        "not soaked",
        {"arrived_at": NOW - timedelta(hours=2), "soak": timedelta(hours=24)},
        [
            (
                "not-soaked",
                "prod requires 24h in staging; 1.4.0 has been there 2h; "
                "ready at 2026-11-23 10:00 UTC",
            )
        ],
    ),
    ("soaked", {"arrived_at": NOW - timedelta(days=2), "soak": timedelta(hours=24)}, []),
    (
        "branch ahead",
        {"ahead": ["abc1234 hotfix: raise the timeout", "def5678 bump replicas"]},
        [
            (
                "branch-ahead",
                "prod has 2 commit(s) that staging lacks, brought by no promotion: "
                "abc1234 hotfix: raise the timeout; def5678 bump replicas",
            )
        ],
    ),
    (
        "secret added",
        {
            "target_after": Snapshot(
                {"values.yaml": PROD_AFTER.files["values.yaml"] + "apiToken: Xy7-pQ2-rT9z\n"},
                PROD_AFTER.images,
            ),
            "previous": Snapshot(
                {"values.yaml": PROD_AFTER.files["values.yaml"] + "apiToken: Xy7-pQ2-rT9z\n"},
                PROD_AFTER.images,
            ),
        },
        [("plaintext-secret", "plaintext secret added: values.yaml:7 apiToken (secret-key)")],
    ),
]


@pytest.mark.parametrize(
    ("overrides", "expected"), [c[1:] for c in WARNING_CASES], ids=[c[0] for c in WARNING_CASES]
)
def test_drift_warnings(overrides: dict[str, object], expected: list[tuple[str, str]]) -> None:
    args: dict[str, object] = {
        "promotions": [PROMO],
        "target_before": PROD_BEFORE,
        "target_after": PROD_AFTER,
        "previous_environment": "staging",
        "previous": STAGING,
        "now": NOW,
    }
    args.update(overrides)
    warnings = drift_warnings(**args)  # type: ignore[arg-type]
    assert [(w.kind, w.message) for w in warnings] == expected


def test_differs_lists_at_most_ten_locations() -> None:
    many = "".join(f"k{i}: {i}\n" for i in range(15))
    after = Snapshot({"values.yaml": PROD_AFTER.files["values.yaml"] + many}, PROD_AFTER.images)
    (warning,) = drift_warnings(
        promotions=[PROMO],
        target_before=PROD_BEFORE,
        target_after=after,
        previous_environment="staging",
        previous=STAGING,
    )
    assert warning.message.endswith("values.yaml: k9 and 5 more")
