"""The JSON Schema and the configuration docs are generated, current, and agree with the parser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot import schema
from bot.adapters.catalog import builtin_policies
from bot.core.config import parse_config, parse_policy

ROOT = Path(__file__).resolve().parent.parent
VALID = sorted((ROOT / "tests/data/config/valid").glob("*.yml"))
INVALID = sorted((ROOT / "tests/data/config/invalid").glob("*.yml"))
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```yaml (config|policy)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# Mistakes a JSON Schema can see (the rest needs the cross-reference checks).
SCHEMA_CATCHES = {
    "typo-top-level",
    "no-version",
    "version-2",
    "no-environments",
    "env-name",
    "env-repo",
    "env-unknown-field",
    "image-missing",
    "app-source",
    "policy-typo",
    "level",
    "scheme",
    "soak-unit",
    "soak-number",
    "freeze-day",
    "freeze-clock",
    "freeze-missing-to",
    "labels",
    "approver",
}


def as_json(text: str) -> object:
    """The document as an editor's YAML language server sees it: timestamps stay strings."""
    return json.loads(json.dumps(yaml.safe_load(text), default=lambda value: value.isoformat()))


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema.SCHEMA_FILE.read_text("utf-8")))


def test_checked_in_schema_is_generated():
    assert schema.SCHEMA_FILE.read_text("utf-8") == schema.render_schema(), (
        "run: python -m bot.schema --write"
    )


def test_docs_field_tables_are_current():
    text = schema.DOCS_FILE.read_text("utf-8")
    assert schema.render_docs(text) == text, "run: python -m bot.schema --write"


def test_check_mode_agrees(capsys):
    assert schema.main(["--check"]) == 0


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema.config_schema())


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_golden_configs_parse_and_satisfy_the_schema(path):
    text = path.read_text("utf-8")
    parse_config(text, builtin=builtin_policies())
    validator().validate(as_json(text))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_schema_rejects_what_it_can_see(path):
    errors = list(validator().iter_errors(as_json(path.read_text("utf-8"))))
    if path.stem in SCHEMA_CATCHES:
        assert errors


def doc_blocks() -> list[tuple[str, str, str]]:
    blocks = []
    for doc in DOCS:
        for index, match in enumerate(BLOCK.finditer(doc.read_text("utf-8"))):
            blocks.append((f"{doc.name}#{index}", match[1], match[2]))
    return blocks


@pytest.mark.parametrize(("where", "kind", "text"), doc_blocks(), ids=[b[0] for b in doc_blocks()])
def test_doc_examples_validate(where, kind, text):
    if kind == "config":
        parse_config(text, file=where, builtin=builtin_policies())
        validator().validate(as_json(text))
    else:
        parse_policy(text, file=where, builtin=builtin_policies())


def test_docs_have_examples_and_name_every_builtin():
    assert len([b for b in doc_blocks() if b[1] == "config"]) >= 6
    policies_doc = (ROOT / "docs/policies.md").read_text("utf-8")
    for name in builtin_policies():
        assert f"| `{name}` |" in policies_doc
    assert "# yaml-language-server: $schema=" in (ROOT / "docs/configuration.md").read_text()
