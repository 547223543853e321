"""The demo's story as data: CI pushes images, people merge and open PRs, and after each act a
check reads the sandbox through its REST API, as a person would, for what the bot must have
done. Files are compared byte for byte with what the edit must produce.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from bot.demo import content as c
from bot.demo.harness import merge_as, open_pull_as, seed_people, start_stack
from bot.demo.links import broken_links, markdown_links
from bot.demo.scene import Scene, Step, StepFailed, Verdict
from github_sandbox import admin_client as calls

CHECK_NAME = "promotion-policy"
ENV_REPO = f"{c.ORG}/{c.ENV_REPO}"
BRANCH_REPO = f"{c.ORG}/{c.BRANCH_REPO}"
APP_REPO = f"{c.ORG}/{c.APP_REPO}"
FIRST, NEWER, HOTFIX_BRANCH = c.FIRST, c.NEWER, "alice/prod-hotfix"


# Steps: starting and seeding.


def _start(scene: Scene) -> None:
    scene.stack = start_stack(scene.data_dir, sandbox_port=scene.sandbox_port, org=c.ORG)


def _started(scene: Scene) -> Verdict:
    stack = scene.running
    detail = f"sandbox {stack.url}, bot {stack.bot.url}, app {stack.app.slug} id={stack.app.id}"
    return Verdict(True, detail, (f"{stack.url}/",))


def _seed(scene: Scene) -> None:
    stack = scene.running
    scene.people = seed_people(stack.admin, c.PEOPLE)
    stack.admin.run(calls.create_repo(c.ORG, c.APP_REPO, files=c.app_repo_files()))
    stack.admin.run(calls.create_repo(c.ORG, c.ENV_REPO, files=c.directory_repo_files()))
    main, branches = c.branch_repo_files()
    stack.admin.run(calls.create_repo(c.ORG, c.BRANCH_REPO, files=main, branches=branches))
    for repo in (c.APP_REPO, c.ENV_REPO, c.BRANCH_REPO):
        stack.admin.run(calls.grant_role(c.ORG, repo, c.DEVELOPER, "write"))
        stack.admin.run(calls.grant_role(c.ORG, repo, c.SRE, "maintain"))
        stack.admin.run(calls.grant_role(c.ORG, repo, c.READER, "read"))
    # Released before the App is installed: the bot hears of the running version from no event.
    _release(scene, c.RELEASES[c.RUNNING])
    stack.install(c.ORG)


def _seeded(scene: Scene) -> Verdict:
    url = scene.running.url
    repos = (APP_REPO, ENV_REPO, BRANCH_REPO)
    for repo in repos:
        scene.view.get(f"/repos/{repo}")
    tag = c.RELEASES[c.RUNNING].tag
    scene.view.get(f"/repos/{APP_REPO}/releases/tags/{tag}")
    detail = (
        f"{', '.join(repos)}; people {', '.join(c.PEOPLE)}; all run {c.IMAGE}:{c.RUNNING}, "
        f"released as {tag}"
    )
    return Verdict(True, detail, tuple(f"{url}/{repo}" for repo in repos))


# Steps: the promotion story.


def _release(scene: Scene, release: c.Release) -> None:
    """CI's release job for ``release``: it pushes the commit, then creates the tag and the
    release notes through the REST API with the developer's token (the sandbox sends the
    ``push``, ``create`` and ``release`` webhooks GitHub would)."""
    stack = scene.running
    if release.files:
        stack.admin.run(
            calls.push(
                c.ORG,
                c.APP_REPO,
                pusher=c.DEVELOPER,
                files=release.files,
                message=release.message,
            )
        )
    payload = {
        "tag_name": release.tag,
        "target_commitish": "main",
        "name": release.version,
        "body": release.notes,
    }
    headers = {"Authorization": f"Bearer {scene.people[c.DEVELOPER].token}"}
    created = httpx.post(
        f"{stack.url}/repos/{APP_REPO}/releases", json=payload, headers=headers, timeout=10
    )
    if created.status_code != 201:
        raise StepFailed(
            f"creating release tag={release.tag} repo={APP_REPO}: "
            f"{created.status_code} {created.text}"
        )


def _ship(version: str) -> Callable[[Scene], None]:
    """CI releases ``version`` in the app repository, then pushes its image. Each of the tag,
    the release and the image offers the bot the version; the story goes on once the bot has
    handled them all, so no person acts while one is still being worked (the PRs and their
    numbers do not depend on timing)."""

    def act(scene: Scene) -> None:
        _release(scene, c.RELEASES[version])
        labels = {"org.opencontainers.image.source": f"{scene.running.url}/{APP_REPO}"}
        scene.running.admin.run(
            calls.publish_package(
                c.ORG,
                c.APP_REPO,
                repository=c.APP_REPO,
                tag=version,
                platforms=["linux/amd64", "linux/arm64"],
                labels=labels,
            )
        )
        scene.running.settle()

    return act


def _promotion_pull(scene: Scene, repo: str, env: str) -> dict[str, Any] | None:
    for pull in scene.view.pulls(repo, state="open"):
        if pull["head"]["ref"] == f"promotion/{c.APP}/{env}":
            return pull
    return None


def _promotion_opened(
    repo: str, env: str, tag: str, path: str, key: str
) -> Callable[[Scene], Verdict]:
    """The bot's open PR for ``env`` proposes ``tag``, its file is exactly the seeded one with
    the tag characters changed, and every link in its body (compare, release notes, the
    command that asked for it) opens a page of the sandbox."""

    def check(scene: Scene) -> Verdict:
        pull = _promotion_pull(scene, repo, env)
        if pull is None:
            return Verdict(False, f"no open promotion PR for {env} in {repo}")
        title, number = str(pull["title"]), int(pull["number"])
        if tag not in title:
            return Verdict(False, f"#{number} in {repo} proposes something else: {title!r}")
        text = scene.view.file(repo, path, pull["head"]["sha"])
        if text != c.values(env, tag):
            return Verdict(False, f"#{number} changed more than the tag in {path}")
        broken = broken_links(str(pull["body"]), base_url=scene.running.url)
        if broken:
            return Verdict(False, f"#{number} links to missing pages: {', '.join(broken)}")
        scene.pulls[key] = number
        links = len(markdown_links(str(pull["body"])))
        detail = (
            f"#{number} {title!r}, {path} changed only in the tag, its {links} links answer 200"
        )
        return Verdict(True, detail, (str(pull["html_url"]),))

    return check


def _merge(key: str, user: str) -> Callable[[Scene], None]:
    def act(scene: Scene) -> None:
        if key not in scene.pulls:
            raise StepFailed(f"no PR to merge key={key} repo={ENV_REPO}")
        scene.running.admin.run(merge_as(user, ENV_REPO, scene.pulls[key]))

    return act


def _opened_in_both(tag: str) -> Callable[[Scene], Verdict]:
    dev = _promotion_opened(ENV_REPO, "dev", tag, "envs/dev/values.yaml", "dev")
    branch = _promotion_opened(BRANCH_REPO, "dev", tag, "values.yaml", "branch-dev")

    def check(scene: Scene) -> Verdict:
        first, second = dev(scene), branch(scene)
        if not (first.done and second.done):
            return first if not first.done else second
        return Verdict(
            True, f"{ENV_REPO} {first.detail}; {BRANCH_REPO} too", first.links + second.links
        )

    return check


def _prod_waits(scene: Scene) -> Verdict:
    opened = _promotion_opened(ENV_REPO, "prod", FIRST, "envs/prod/values.yaml", "prod")(scene)
    if not opened.done:
        return opened
    pull = scene.view.get(f"/repos/{ENV_REPO}/pulls/{scene.pulls['prod']}")
    runs = [
        r for r in scene.view.check_runs(ENV_REPO, pull["head"]["sha"]) if r["name"] == CHECK_NAME
    ]
    if not runs:
        return Verdict(False, f"#{pull['number']} has no {CHECK_NAME} check run yet", opened.links)
    run = runs[0]
    title = str(run["output"]["title"])
    if run["conclusion"] != "action_required":
        return Verdict(False, f"{CHECK_NAME} is {run['conclusion']}: {title}", opened.links)
    return Verdict(True, f"#{pull['number']} check {CHECK_NAME}: {title}", opened.links)


def _prod_waits_for_a_command(scene: Scene) -> Verdict:
    """prod-safe opens no PR by itself: with every webhook handled, there is none for prod."""
    scene.running.settle()
    pull = _promotion_pull(scene, ENV_REPO, "prod")
    if pull is not None:
        return Verdict(False, f"#{pull['number']} opened for prod without a /promote")
    return Verdict(True, "no prod PR: prod-safe opens it on a /promote command only")


def _comment(user: str, body: str) -> Callable[[Scene], None]:
    """``user`` comments ``body`` on the (merged) staging PR, where the team talks."""

    def act(scene: Scene) -> None:
        number = scene.pulls["staging"]
        scene.running.admin.run(calls.ActAs(user).comment(c.ORG, c.ENV_REPO, number, body))

    return act


def _bot_comment(scene: Scene, number: int, needle: str) -> str | None:
    """The body of the bot's first comment on #``number`` of the directory repo holding
    ``needle``, or ``None``."""
    bot = f"{scene.running.app.slug}[bot]"
    for comment in scene.view.comments(ENV_REPO, number):
        body = str(comment["body"])
        if comment["user"]["login"] == bot and needle in body:
            return body
    return None


def _refused(scene: Scene) -> Verdict:
    number = scene.pulls["staging"]
    link = (f"{scene.running.url}/{ENV_REPO}/pull/{number}",)
    body = _bot_comment(scene, number, "needs write access")
    if body is None:
        return Verdict(False, f"no refusal by the bot on #{number}", link)
    if _promotion_pull(scene, ENV_REPO, "prod") is not None:
        return Verdict(False, "refused, yet a prod PR is open", link)
    return Verdict(True, f"#{number} reply: {body.replace('&#8203;', '')}", link)


def _updated_in_place(scene: Scene) -> Verdict:
    """The branch layout's dev PR (never merged) now proposes the newer tag; the directory
    layout, whose dev PR was merged, gets a new one."""
    opened = _promotion_opened(BRANCH_REPO, "dev", NEWER, "values.yaml", "branch-dev-newer")(scene)
    if not opened.done:
        return opened
    before, now = scene.pulls.get("branch-dev"), scene.pulls["branch-dev-newer"]
    if before != now:
        return Verdict(False, f"{BRANCH_REPO} got a new PR #{now} instead of updating #{before}")
    stacked = [
        p["number"] for p in scene.view.pulls(BRANCH_REPO, state="all") if p["number"] != now
    ]
    if stacked:
        return Verdict(False, f"{BRANCH_REPO} has other PRs besides #{now}: {stacked}")
    fresh = _promotion_opened(ENV_REPO, "dev", NEWER, "envs/dev/values.yaml", "dev-newer")(scene)
    if not fresh.done:
        return fresh
    detail = f"{BRANCH_REPO} {opened.detail}, still its only PR; {ENV_REPO} {fresh.detail}"
    return Verdict(True, detail, opened.links + fresh.links)


def _hand_made_pull(scene: Scene) -> None:
    stack = scene.running
    files = {"envs/prod/values.yaml": c.hand_edited_prod_values(NEWER)}
    stack.admin.run(
        calls.push(
            c.ORG,
            c.ENV_REPO,
            pusher=c.DEVELOPER,
            branch=HOTFIX_BRANCH,
            files=files,
            message=f"Hotfix: run {NEWER} in prod with one more replica",
        )
    )
    pull = stack.admin.run(
        open_pull_as(
            c.DEVELOPER,
            ENV_REPO,
            head=HOTFIX_BRANCH,
            base="main",
            title=f"Hotfix prod to {NEWER}",
            body="Customers are waiting for the fix.",
        )
    )
    scene.pulls["hand-made"] = int(pull["number"])


def _reviewed(scene: Scene) -> Verdict:
    number = scene.pulls["hand-made"]
    link = (f"{scene.running.url}/{ENV_REPO}/pull/{number}",)
    body = _bot_comment(scene, number, "Promotion review")
    if body is None:
        return Verdict(False, f"no review comment by the bot on #{number}", link)
    if "#### Warnings" not in body:
        return Verdict(False, f"#{number} review comment has no drift warning", link)
    kinds = [line.split("**")[1] for line in body.splitlines() if line.startswith("- **")]
    return Verdict(True, f"#{number} review comment, warnings: {', '.join(kinds)}", link)


def _ask_for_the_drift_report(scene: Scene) -> None:
    """The developer opens an issue and comments ``/drift`` there: the audit runs now."""
    stack = scene.running
    issue = stack.admin.run(
        calls.ActAs(c.DEVELOPER).open_issue(c.ORG, c.ENV_REPO, title="How far apart are we?")
    )
    stack.admin.run(calls.ActAs(c.DEVELOPER).comment(c.ORG, c.ENV_REPO, issue["number"], "/drift"))


def _drift_reported(scene: Scene) -> Verdict:
    found = scene.view.get(f"/repos/{ENV_REPO}/issues", state="all", labels="promotion-drift")
    if not found:
        return Verdict(False, f"no drift-report issue in {ENV_REPO}")
    report = found[0]
    link = (str(report["html_url"]),)
    lines = str(report["body"]).splitlines()
    summary = next((line.strip("*") for line in lines if "environment pair" in line), "")
    if "What runs where" not in report["body"] or not summary:
        return Verdict(False, f"#{report['number']} is no drift report", link)
    return Verdict(True, f"#{report['number']} {report['title']}: {summary}", link)


STEPS: tuple[Step, ...] = (
    Step("start the sandbox and the bot on loopback", _start, _started),
    Step("seed the app repo, two environment repos, people; install the App", _seed, _seeded),
    Step(
        f"CI releases v{FIRST} and pushes {c.IMAGE}:{FIRST}: the bot opens the dev PRs",
        _ship(FIRST),
        _opened_in_both(FIRST),
    ),
    Step(
        f"{c.DEVELOPER} merges the dev PR: the bot opens the staging PR",
        _merge("dev", c.DEVELOPER),
        _promotion_opened(ENV_REPO, "staging", FIRST, "envs/staging/values.yaml", "staging"),
    ),
    Step(
        f"{c.SRE} merges the staging PR: prod (prod-safe) waits for a /promote",
        _merge("staging", c.SRE),
        _prod_waits_for_a_command,
    ),
    Step(
        f"{c.READER}, a reader, comments /promote api to prod: refused, nothing changes",
        _comment(c.READER, "/promote api to prod"),
        _refused,
    ),
    Step(
        f"{c.SRE}, a prod approver, comments /promote api to prod: the PR waits on its gates",
        _comment(c.SRE, "/promote api to prod"),
        _prod_waits,
    ),
    Step(
        f"CI releases v{NEWER} and pushes it: the open PR is updated in place",
        _ship(NEWER),
        _updated_in_place,
    ),
    Step(
        f"{c.DEVELOPER} opens a hand-made PR to prod: the bot comments diff and drift warnings",
        _hand_made_pull,
        _reviewed,
    ),
    Step(
        f"{c.DEVELOPER} comments /drift on an issue: the bot files the drift report",
        _ask_for_the_drift_report,
        _drift_reported,
    ),
)
