"""Multi-document files in which one document is a Helm template (issue 14): that document is
skipped with its number, line and reason, the others are read and edited byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.files.yamledit import set_image
from bot.core.files.yamlnodes import YamlEditError, parse_yaml
from bot.core.files.yamlscan import find_images
from bot.core.promotion.envfiles import EnvState, running_tags, skipped_documents

CORPUS = Path(__file__).parent.parent / "data" / "yaml"
ASSEMBLED = "assembled.helm-template-between-deployments.yaml"
BOUTIQUE = "us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/"
CONTAINER = "spec.template.spec.containers[0].image"


def read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def variants(text: str) -> list[str]:
    """The file as stored, with CRLF line ends, and without its final newline."""
    return [text, text.replace("\n", "\r\n"), text.rstrip("\n")]


@pytest.mark.parametrize("text", variants(read(ASSEMBLED)), ids=["as-stored", "crlf", "no-eol"])
def test_the_template_document_is_skipped_and_the_others_are_found(text):
    assert [(r.line, r.repository, r.tag, r.path) for r in find_images(text)] == [
        (38, BOUTIQUE + "adservice", "v0.10.6", CONTAINER),
        (110, BOUTIQUE + "currencyservice", "v0.10.6", f"[2].{CONTAINER}"),
    ]
    [skipped] = parse_yaml(text).skipped
    assert (skipped.number, skipped.line) == (2, 61)
    assert skipped.reason.startswith("a Helm template that does not parse as YAML: ")


@pytest.mark.parametrize("text", variants(read(ASSEMBLED)), ids=["as-stored", "crlf", "no-eol"])
def test_a_document_after_the_template_is_edited_byte_for_byte(text):
    image = BOUTIQUE + "currencyservice"
    result = set_image(text, image=image, tag="v0.10.7", file=ASSEMBLED)
    assert text.count("currencyservice:v0.10.6") == 1
    assert result.text == text.replace("currencyservice:v0.10.6", "currencyservice:v0.10.7")
    assert [c.line for c in result.changes] == [110]
    assert {r.repository: r.tag for r in find_images(result.text)}[image] == "v0.10.7"
    assert parse_yaml(result.text).skipped == parse_yaml(text).skipped


def _docs(*docs: str) -> str:
    return "".join(docs)


API = "image: ghcr.io/acme/api:1.0\n"
TEMPLATE = "{{- if .Values.enabled }}\nkind: Job\n{{- end }}\n"


@pytest.mark.parametrize(
    ("text", "skipped", "path"),
    [
        pytest.param(_docs(TEMPLATE, "---\n", API), [(1, 1)], "image", id="template-first"),
        pytest.param(
            _docs(API, "---\n", TEMPLATE, "---\n", API.replace("1.0", "1.1")),
            [(2, 2)],
            "image",
            id="template-between",
        ),
        pytest.param(
            _docs("# licence\n---\n", API, "--- {{ .Values.x }}\nkind: A\n"),
            [(2, 4)],
            "image",
            id="template-on-the-marker-line",
        ),
        pytest.param(
            _docs(API, "---\n", TEMPLATE, "---\n", TEMPLATE),
            [(2, 2), (3, 6)],
            "image",
            id="two-templates",
        ),
        pytest.param(_docs(API, "---\nbroken: [\n"), [(2, 2)], "image", id="not-a-template-either"),
    ],
)
def test_documents_that_do_not_parse(text, skipped, path):
    parsed = parse_yaml(text)
    assert [(s.number, s.line) for s in parsed.skipped] == skipped
    assert find_images(text)[0].path == path
    result = set_image(text, image="ghcr.io/acme/api", tag="2.0")
    assert result.text == text.replace("api:1.0", "api:2.0").replace("api:1.1", "api:2.0")


def test_a_document_that_is_not_a_template_is_named_as_a_document():
    [skipped] = parse_yaml(API + "---\nbroken: [\n").skipped
    assert skipped.reason.startswith("a document that does not parse as YAML: ")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(TEMPLATE, id="one-document"),
        pytest.param(_docs(TEMPLATE, "---\n", TEMPLATE), id="no-document-parses"),
    ],
)
def test_a_file_with_nothing_readable_is_still_an_error(text):
    with pytest.raises(YamlEditError, match=r"parsing yaml failed file='t\.yaml'"):
        find_images(text, "t.yaml")


def test_the_environment_names_the_skipped_document_beside_the_files():
    files = {
        "envs/dev/all.yaml": read(ASSEMBLED),
        "envs/dev/values.yaml": API,
        "envs/dev/one.yaml": TEMPLATE,  # a file that does not parse at all is not a document
    }
    documents = skipped_documents(files)
    assert list(documents) == ["envs/dev/all.yaml document 2 (line 61)"]
    state = EnvState("dev", files, skipped={"envs/dev/big.yaml": "too big"} | documents)
    assert state.skipped_note() == (
        "; left alone: envs/dev/all.yaml document 2 (line 61) ("
        + documents["envs/dev/all.yaml document 2 (line 61)"]
        + "), envs/dev/big.yaml (too big)"
    )
    assert running_tags(EnvState("dev", {"all.yaml": read(ASSEMBLED)}), BOUTIQUE + "adservice") == (
        "v0.10.6",
    )
