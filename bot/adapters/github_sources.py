"""Where versions come from, for reconciling: git tags of app repositories and tags of container
packages on GitHub's registry."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.adapters.github_client import PER_PAGE, Session
from bot.services.github_ports import NotFound

# Package versions come newest first: three pages of 100 reach far enough back.
MAX_PAGES = 3
# Git tags come in no useful order (``GET tags`` is reverse alphabetical: v9 before v10), so
# every tag ref is read; this bounds a hostile repository at 100 pages of 100 tags.
MAX_TAG_PAGES = 100
REGISTRY = "ghcr.io"
_TAGS = "refs/tags/"


class GitHubSources:
    """``Sources`` over one installation's session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rest = session.rest

    async def list_tags(self, repo: str) -> tuple[str, ...]:
        what = f"listing tags repo={repo}"
        # 409: an empty repository (git data without commits) has no tags.
        path = f"/repos/{repo}/git/matching-refs/tags/"
        first = {"per_page": PER_PAGE, "page": 1}
        response = await self.rest.call("GET", path, what=what, params=first, accept=(409,))
        refs: list[Any] = [] if response.status_code == 409 else response.json()
        if 'rel="next"' in response.headers.get("link", ""):
            refs += await self.rest.pages(path, what=what, start=2, max_pages=MAX_TAG_PAGES - 1)
        return tuple(r["ref"].removeprefix(_TAGS) for r in refs if r["ref"].startswith(_TAGS))

    async def list_container_versions(self, image: str) -> tuple[str, ...]:
        registry, _, path = image.partition("/")
        owner, _, name = path.partition("/")
        if registry != REGISTRY or not owner or not name:
            raise NotFound(f"listing package versions failed image={image}: not on {REGISTRY}")
        known = self.session.package_scopes.get(owner.lower())
        for scope in (known,) if known else ("orgs", "users"):
            try:
                tags = await self._versions(scope, owner, name)
            except NotFound:
                continue
            self.session.package_scopes[owner.lower()] = scope
            return tags
        raise NotFound(f"listing package versions failed image={image}: no such package")

    async def _versions(self, scope: str, owner: str, name: str) -> tuple[str, ...]:
        items = await self.rest.pages(
            f"/{scope}/{owner}/packages/container/{quote(name, safe='')}/versions",
            what=f"listing package versions scope={scope} owner={owner} package={name}",
            max_pages=MAX_PAGES,
        )
        return tuple(tag for item in items for tag in item["metadata"]["container"].get("tags", ()))
