"""Where versions come from, for reconciling: git tags of app repositories and tags of container
packages on GitHub's registry."""

from __future__ import annotations

from urllib.parse import quote

from bot.adapters.github_client import Session
from bot.services.github_ports import NotFound

# Reconcile looks at recent versions only: three pages of 100 reach far enough back.
MAX_PAGES = 3
REGISTRY = "ghcr.io"


class GitHubSources:
    """``Sources`` over one installation's session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rest = session.rest

    async def list_tags(self, repo: str) -> tuple[str, ...]:
        items = await self.rest.pages(
            f"/repos/{repo}/tags", what=f"listing tags repo={repo}", max_pages=MAX_PAGES
        )
        return tuple(item["name"] for item in items)

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
