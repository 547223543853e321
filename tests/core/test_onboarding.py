"""Onboarding's pure part: which names are environments and in which order, which layout a
repository has, which apps its images make, and the file and PR body that say so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.adapters.catalog import builtin_policies
from bot.core.config import parse_config
from bot.core.config.onboarding import (
    BOT_BRANCH_PREFIXES,
    ONBOARDING_BRANCH,
    BareTag,
    Layout,
    Place,
    environment_rank,
    familiar,
    find_layout,
    propose,
)
from bot.core.config.onboarding_render import (
    PROD_POLICY,
    PROD_POLICY_NOTE,
    render_config,
    render_onboarding_body,
)
from bot.core.markup.metadata import extract
from bot.core.promotion.branches import branch_name

GOLDEN = Path(__file__).parent.parent / "data" / "onboarding"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize(
    ("name", "rank"),
    [
        ("dev", 0),
        ("Development", 0),
        ("sandbox", 0),
        ("qa", 1),
        ("int", 1),
        ("staging", 2),
        ("pre-prod", 3),  # "pre" names nothing; "prod" does
        ("preprod", 2),
        ("uat", 2),
        ("prod", 3),
        ("prod-eu-1", 3),
        ("eu_production", 3),
        ("live", 3),
        ("main", None),
        ("devops", None),
        ("products", None),
        ("base", None),
    ],
)
def test_environment_rank(name: str, rank: int | None) -> None:
    assert environment_rank(name) == rank


def dirs(*names: str) -> tuple[Place, ...]:
    return tuple(Place(name.rsplit("/", 1)[-1], name) for name in names)


def files(*names: str) -> tuple[Place, ...]:
    return tuple(
        Place(name.rsplit("/", 1)[-1].rsplit(".", 1)[0], name, file=True) for name in names
    )


@pytest.mark.parametrize(
    ("paths", "branches", "expected"),
    [
        (
            ["envs/prod/a.yaml", "envs/dev/a.yaml", "envs/staging/a.yml", "README.md"],
            ["main"],
            Layout("directories", dirs("envs/dev", "envs/staging", "envs/prod")),
        ),
        (  # the parent with the most environments wins over a deeper, smaller set
            ["envs/dev/a.yaml", "envs/prod/a.yaml", "apps/web/overlays/dev/k.yaml"],
            ["main"],
            Layout("directories", dirs("envs/dev", "envs/prod")),
        ),
        (  # a tie goes to the shallowest parent, then the first by name
            ["b/dev/a.yaml", "a/dev/a.yaml", "x/y/dev/a.yaml"],
            ["main"],
            Layout("directories", dirs("a/dev")),
        ),
        (  # environments at the root; a directory without YAML files is none
            ["dev/a.yaml", "qa/a.yaml", "prod/README.md"],
            ["main"],
            Layout("directories", dirs("dev", "qa")),
        ),
        (  # .github never holds an environment
            [".github/dev/a.yaml"],
            ["main"],
            None,
        ),
        (  # YAML files deeper down count for the environment directory
            ["clusters/prod/apps/api/values.yaml", "clusters/dev/apps/api/values.yaml"],
            ["main"],
            Layout("directories", dirs("clusters/dev", "clusters/prod")),
        ),
        (
            ["README.md"],
            ["main", "env/prod", "env/dev", "feature/x"],
            Layout("branches", (Place("dev", ".", "env/dev"), Place("prod", ".", "env/prod"))),
        ),
        (  # one environment-like branch is no layout (a develop beside main)
            ["README.md"],
            ["main", "develop"],
            None,
        ),
        (  # the default branch is an environment too, without a branch of its own
            ["a.yaml"],
            ["production", "staging"],
            Layout("branches", (Place("staging", ".", "staging"), Place("production"))),
        ),
        (  # more branches than directories
            ["envs/dev/a.yaml"],
            ["main", "dev", "staging", "prod"],
            Layout(
                "branches",
                (
                    Place("dev", ".", "dev"),
                    Place("staging", ".", "staging"),
                    Place("prod", ".", "prod"),
                ),
            ),
        ),
        (  # a tie goes to directories
            ["envs/dev/a.yaml", "envs/prod/a.yaml"],
            ["main", "dev", "prod"],
            Layout("directories", dirs("envs/dev", "envs/prod")),
        ),
        (  # two branches with one name: the first by branch name keeps it
            ["README.md"],
            ["main", "env/dev", "dev", "prod"],
            Layout("branches", (Place("dev", ".", "dev"), Place("prod", ".", "prod"))),
        ),
        (  # the bot's own branches are no environments
            ["README.md"],
            ["main", "promotion/api/dev", "promotion/api/prod", "promotion-bot/onboarding"],
            None,
        ),
        (  # a branch a config cannot name is none
            ["README.md"],
            ["main", "env/dev", "env/qa@eu", "env/prod"],
            Layout("branches", (Place("dev", ".", "env/dev"), Place("prod", ".", "env/prod"))),
        ),
        (  # names are made config names
            ["envs/dev box/a.yaml", "envs/prod/a.yaml"],
            ["main"],
            Layout("directories", (Place("dev-box", "envs/dev box"), *dirs("envs/prod"))),
        ),
        (  # Terraform files count as YAML files do; other files do not
            ["tf/dev/terraform.tfvars", "tf/prod/main.tf", "tf/qa/plan.json", "tf/main.tf"],
            ["main"],
            Layout("directories", dirs("tf/dev", "tf/prod")),
        ),
        (  # files named for environments are environments, their path the file
            [
                "terraform/environments/prod.tfvars",
                "terraform/environments/dev.tfvars",
                "terraform/environments/staging.tfvars",
                "terraform/main.tf",
            ],
            ["main"],
            Layout(
                "directories",
                files(
                    "terraform/environments/dev.tfvars",
                    "terraform/environments/staging.tfvars",
                    "terraform/environments/prod.tfvars",
                ),
            ),
        ),
        (  # in Terraform's JSON syntax too, named without the two suffixes
            ["tf/dev.tfvars.json", "tf/prod.tfvars.json", "tf/main.tf.json"],
            ["main"],
            Layout(
                "directories",
                (
                    Place("dev", "tf/dev.tfvars.json", file=True),
                    Place("prod", "tf/prod.tfvars.json", file=True),
                ),
            ),
        ),
        (  # YAML ones too, named by their whole stem
            ["helm/values.yaml", "helm/values-dev.yaml", "helm/values-prod.yml", "helm/dev.md"],
            ["main"],
            Layout("directories", files("helm/values-dev.yaml", "helm/values-prod.yml")),
        ),
        (  # siblings are siblings, directories or files; one name keeps the directory
            ["envs/dev/a.yaml", "envs/dev.tfvars", "envs/prod.tfvars", "envs/qa.auto.tfvars"],
            ["main"],
            Layout(
                "directories",
                (
                    *dirs("envs/dev"),
                    Place("qa.auto", "envs/qa.auto.tfvars", file=True),
                    *files("envs/prod.tfvars"),
                ),
            ),
        ),
        (  # the most siblings win, whatever their kind
            [
                "envs/dev/a.yaml",
                "envs/prod/a.yaml",
                "vars/dev.tfvars",
                "vars/qa.tfvars",
                "vars/prod.tfvars",
            ],
            ["main"],
            Layout("directories", files("vars/dev.tfvars", "vars/qa.tfvars", "vars/prod.tfvars")),
        ),
    ],
)
def test_find_layout(paths: list[str], branches: list[str], expected: Layout | None) -> None:
    assert find_layout(paths, branches, default_branch=branches[0]) == expected


def test_the_bot_branch_prefixes_are_the_bots_branches() -> None:
    assert branch_name("api", "dev").startswith(BOT_BRANCH_PREFIXES)
    assert ONBOARDING_BRANCH.startswith(BOT_BRANCH_PREFIXES)


def test_wanted_files_are_the_yaml_files_under_the_place() -> None:
    layout = Layout("directories", dirs("envs/dev"))
    paths = ["envs/dev/a.yaml", "envs/dev/b/c.yml", "envs/dev/x.json", "envs/devx/a.yaml"]
    assert layout.wanted(layout.places[0], paths) == ("envs/dev/a.yaml", "envs/dev/b/c.yml")
    root = Place("dev", ".", "dev")
    assert layout.wanted(root, ["a.yaml", ".github/promotion.yml"]) == ("a.yaml",)


def test_wanted_files_are_terraform_files_too_and_a_file_place_is_its_file() -> None:
    layout = Layout("directories", dirs("tf/dev"))
    paths = ["tf/dev/main.tf", "tf/dev/terraform.tfvars", "tf/dev/.terraform.lock.hcl"]
    assert layout.wanted(layout.places[0], paths) == ("tf/dev/main.tf", "tf/dev/terraform.tfvars")
    (place,) = files("tf/dev.tfvars")
    assert layout.wanted(place, ["tf/dev.tfvars", "tf/dev.tfvars.bak", "tf/main.tf"]) == (
        "tf/dev.tfvars",
    )
    assert layout.wanted(place, ["tf/main.tf"]) == ()


@pytest.mark.parametrize(
    ("repository", "written"),
    [
        ("docker.io/library/nginx", "nginx"),
        ("docker.io/bitnami/redis", "bitnami/redis"),
        ("ghcr.io/acme/api", "ghcr.io/acme/api"),
        ("public.ecr.aws/docker/library/redis", "public.ecr.aws/docker/library/redis"),
        ("docker.io/a.b/c", "docker.io/a.b/c"),  # a.b/c would read as registry a.b
    ],
)
def test_familiar(repository: str, written: str) -> None:
    assert familiar(repository) == written


def values(repository: str) -> str:
    return f"image:\n  repository: {repository}\n  tag: 1.0.0\n"


LAYOUT = Layout("directories", dirs("envs/dev", "envs/qa", "envs/prod"))


def test_propose_names_apps_and_limits_them_to_their_environments() -> None:
    texts = {
        "dev": {
            "envs/dev/a.yaml": values("ghcr.io/acme/api") + "sidecar:\n  image: nginx:1\n",
            "envs/dev/b.yaml": values("ghcr.io/other/api"),
            "envs/dev/t.yaml": "{{- if .Values.x }}\nimage: {{ .Values.image }}\n{{- end }}\n",
        },
        "prod": {"envs/prod/a.yaml": values("ghcr.io/acme/api")},
    }
    proposal = propose(LAYOUT, texts)
    assert [p.name for p in proposal.environments] == ["dev", "prod"]
    assert proposal.empty == ("qa",)
    assert [(a.name, a.image, a.environments, a.references) for a in proposal.apps] == [
        ("acme-api", "ghcr.io/acme/api", ("dev", "prod"), 2),
        ("nginx", "nginx", ("dev",), 1),
        ("other-api", "ghcr.io/other/api", ("dev",), 1),
    ]


TFVARS_LAYOUT = Layout("directories", files("tf/dev.tfvars", "tf/qa.tfvars", "tf/prod.tfvars"))


def tfvars(tag: str) -> str:
    return (
        f'api_image     = "ghcr.io/acme/api:{tag}"\n'
        f'api_image_tag = "{tag}"\n'
        'worker = {\n  repository = "ghcr.io/acme/worker"\n  tag = "2.0.0"\n}\n'
        'tags = { team = "payments" }\n'
        'services = { cache = { tag = "7.2" } }\n'
    )


def test_propose_reads_terraform_files_and_lists_bare_tags_without_making_apps() -> None:
    texts = {
        "dev": {"tf/dev.tfvars": tfvars("1.3.0")},
        "qa": {"tf/qa.tfvars": 'api_image_tag = "1.2.0"\n'},  # a bare tag only: no image
        "prod": {"tf/prod.tfvars": tfvars("1.2.0"), "tf/broken.tf": "api_image = {\n"},
    }
    proposal = propose(TFVARS_LAYOUT, texts)
    assert [p.name for p in proposal.environments] == ["dev", "prod"]
    assert proposal.empty == ("qa",)
    assert [(a.name, a.image, a.environments, a.references) for a in proposal.apps] == [
        ("api", "ghcr.io/acme/api", ("dev", "prod"), 2),
        ("worker", "ghcr.io/acme/worker", ("dev", "prod"), 2),
    ]
    assert proposal.bare_tags == (
        BareTag("api_image_tag", ("dev", "qa", "prod")),
        BareTag("services.cache.tag", ("dev", "prod")),
    )


def test_the_config_of_files_names_them_and_its_bare_tags() -> None:
    texts = {env: {f"tf/{env}.tfvars": tfvars("1.2.0")} for env in ("dev", "prod")}
    proposal = propose(TFVARS_LAYOUT, texts)
    text = render_config(proposal)
    config = parse_config(text, builtin=builtin_policies())
    assert [(e.name, e.path) for e in config.environments] == [
        ("dev", "tf/dev.tfvars"),
        ("prod", "tf/prod.tfvars"),
    ]
    assert all(not app.tags for app in config.apps.values())
    assert "# Environments: files of one branch named like dev" in text
    assert "#   api_image_tag in dev, prod\n#   services.cache.tag in dev, prod\n" in text
    body = render_onboarding_body(proposal, text, file=".github/promotion.yml")
    assert "1. **dev**: file tf/dev.tfvars" in body
    assert "which name no image (no app promotes them): api\\_image\\_tag, " in body


def test_the_header_lists_ten_bare_tags_at_most() -> None:
    many = "".join(f'x{i:02}_tag = "1.{i}"\n' for i in range(12))
    texts = {"dev": {"tf/dev.tfvars": tfvars("1.2.0") + many}}
    text = render_config(propose(TFVARS_LAYOUT, texts))
    assert "#   api_image_tag in dev\n" in text and "#   x07_tag in dev\n" in text
    assert "#   x08_tag in dev" not in text and "#   and 4 more\n" in text


def test_propose_without_images_proposes_no_environment() -> None:
    proposal = propose(LAYOUT, {"dev": {"envs/dev/a.yaml": "replicas: 2\n"}})
    assert (proposal.environments, proposal.apps) == ((), ())
    assert proposal.empty == ("dev", "qa", "prod")


def test_the_prod_policy_note_is_the_built_in_policys_description() -> None:
    assert builtin_policies()[PROD_POLICY].description == PROD_POLICY_NOTE


@pytest.mark.parametrize(
    ("last", "policy"), [("prod", PROD_POLICY), ("eu-production", PROD_POLICY), ("qa", None)]
)
def test_only_a_prod_like_last_environment_gets_the_prod_policy(
    last: str, policy: str | None
) -> None:
    layout = Layout("directories", (Place("dev", "dev"), Place(last, last)))
    texts = {name: {f"{name}/a.yaml": values("ghcr.io/acme/api")} for name in ("dev", last)}
    config = parse_config(render_config(propose(layout, texts)), builtin=builtin_policies())
    assert config.environments[-1].policy == policy


def test_the_onboarding_body_says_what_the_file_says_and_ends_with_its_marker() -> None:
    texts = {
        "dev": {"envs/dev/a.yaml": values("ghcr.io/acme/api") + "proxy:\n  image: nginx:1\n"},
        "prod": {"envs/prod/a.yaml": values("ghcr.io/acme/api")},
    }
    proposal = propose(LAYOUT, texts)
    config = render_config(proposal)
    body = render_onboarding_body(proposal, config, file=".github/promotion.yml")
    golden = GOLDEN / "body.md"
    if UPDATE:
        golden.write_text(body, encoding="utf-8")
    assert body == golden.read_text(encoding="utf-8")
    meta = extract(body)
    assert meta is not None and meta.kind == "onboarding"


def test_a_hostile_name_cannot_break_the_body() -> None:
    layout = Layout("directories", (Place("dev", "envs/<!-- @team | x"),))
    texts = {"dev": {"envs/<!-- @team | x/a.yaml": values("ghcr.io/acme/api")}}
    proposal = propose(layout, texts)
    body = render_onboarding_body(proposal, render_config(proposal), file=".github/promotion.yml")
    listed = body.split("### When you merge it")[0]
    assert "directory envs/&lt;\\!-- @&#8203;team \\| x" in listed
