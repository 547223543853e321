"""Built-in policies: loaded from the checkout and from an installed wheel's data files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters import catalog
from bot.adapters.catalog import (
    PolicyError,
    builtin_policies,
    load_policy,
)

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "auto",
    "automerge",
    "major",
    "manual",
    "minor",
    "patch",
    "prerelease",
    "prod-safe",
    "stable",
}

BUILTINS = [
    ("auto", {"auto": True, "level": None, "prerelease": False}),
    ("manual", {"auto": False}),
    ("automerge", {"auto": True, "automerge": True}),
    ("patch", {"level": "patch"}),
    ("minor", {"level": "minor"}),
    ("major", {"level": "major"}),
    ("stable", {"constraint": ">=1.0.0", "prerelease": False}),
    ("prerelease", {"prerelease": True}),
    ("prod-safe", {"level": "minor", "auto": False, "soak": timedelta(hours=24)}),
]


def test_builtin_names():
    assert set(builtin_policies()) == EXPECTED


@pytest.mark.parametrize(("name", "fields"), BUILTINS)
def test_builtin_policy_fields(name, fields):
    policy = load_policy(name)
    assert {key: getattr(policy, key) for key in fields} == fields
    assert policy.description


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_file_opens_with_a_comment(name):
    first = (ROOT / "policies" / f"{name}.yml").read_text("utf-8").splitlines()[0]
    assert first.startswith(f"# {name}: ")


def test_policy_file_uses_a_builtin(tmp_path):
    file = tmp_path / "careful.yml"
    file.write_text("use: prod-safe\nsoak: 2d\napprovers: ['@acme/sre']\n", "utf-8")
    policy = load_policy(str(file))
    assert (policy.level, policy.auto, policy.soak) == ("minor", False, timedelta(days=2))
    assert policy.approvers == ("acme/sre",)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("soak: soon\n", "bad.yml:1:7: soak: invalid duration"),
        ("use: nope\n", "unknown policy 'nope'"),
        ("- level: minor\n", "must be a mapping"),
        (b"\xff\xfe", "cannot read policy file"),
    ],
)
def test_invalid_policy_file(tmp_path, content, fragment):
    file = tmp_path / "bad.yml"
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, "utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(str(file))
    assert fragment in str(info.value).replace(str(tmp_path) + "/", "")


def test_unknown_policy_name_lists_the_builtins():
    with pytest.raises(PolicyError, match=r"unknown policy 'fast': not a built-in \(auto, "):
        load_policy("fast")


def write_installed_layout(site: Path) -> None:
    """What pip leaves behind for the wheel: dist-info in site-packages, data under share/."""
    data = site.parent / "share" / "promotion-bot" / "policies"
    data.mkdir(parents=True)
    records = []
    for source in sorted((ROOT / "policies").glob("*.yml")):
        (data / source.name).write_bytes(source.read_bytes())
        records.append(f"../share/promotion-bot/policies/{source.name},,")
    info = site / "promotion_bot-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: promotion-bot\nVersion: 0.1.0\n")
    (info / "RECORD").write_text("\n".join(records) + "\n")


def test_installed_wheel_layout_is_found(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    write_installed_layout(site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(catalog, "_SOURCE_DIR", tmp_path / "no-checkout")
    builtin_policies.cache_clear()
    try:
        assert catalog.policies_dir().resolve() == (tmp_path / "share/promotion-bot/policies")
        assert set(builtin_policies()) == EXPECTED
    finally:
        builtin_policies.cache_clear()


def test_missing_builtins_are_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "_SOURCE_DIR", tmp_path)
    monkeypatch.setattr(catalog, "DISTRIBUTION", "promotion-bot-not-installed")
    with pytest.raises(PolicyError, match="built-in policies not found"):
        catalog.policies_dir()
