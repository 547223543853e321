"""Process settings from ``PROMOTION_BOT_*`` environment variables or a ``.env`` file.

Secrets are ``SecretStr`` so they never show in a repr, a log line or an error. ``load_settings``
refuses empty or placeholder secrets (unless ``demo`` is on) with an error that names the
variable and never its value.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.config.model import Cron
from bot.core.drift.schedule import DEFAULT_SCHEDULE

ENV_PREFIX = "PROMOTION_BOT_"
MIN_SECRET_LENGTH = 16
GITHUB_MAX_BODY_BYTES = 25 * 1024 * 1024

_PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "password", "xxx", "todo", "replaceme"}
)
_PLACEHOLDER_SHAPES = (
    re.compile(r"^<.*>$"),  # <your-secret>
    re.compile(r"^\$\{.*\}$"),  # ${WEBHOOK_SECRET} left unexpanded
    re.compile(r"^(.)\1*$"),  # xxxxxxxxxxxxxxxx, 0000000000000000
)


class SettingsError(Exception):
    """The settings cannot start the bot; the message names variables, never their values."""


class SchemaError(SettingsError):
    """The database at ``database_url`` is not at this bot's schema; the message says what to
    do (``bot.adapters.postgres_schema``, which the bot loads only on PostgreSQL)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    app_id: int | None = None
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    webhook_secret: SecretStr = SecretStr("")
    github_url: str = "https://api.github.com"
    queue_path: Path = Path("promotion-bot.sqlite3")
    # postgresql://...: the queue on PostgreSQL, shared by any number of ``serve`` and ``worker``
    # processes; unset, the SQLite file at ``queue_path``, for one process. A secret: it may
    # hold a password.
    database_url: SecretStr | None = None
    max_body_bytes: int = GITHUB_MAX_BODY_BYTES
    request_timeout: float = 10.0
    workers: int = 4
    reconcile_interval: float = 3600.0
    # When drift reports are refreshed, unless a repository's config says (``drift.schedule``);
    # checked at each reconcile pass, so its precision is ``reconcile_interval``.
    drift_schedule: Cron = DEFAULT_SCHEDULE
    lease_seconds: float = 300.0
    max_attempts: int = 8
    # The pace of content-creating requests per installation: GitHub's secondary limits (80 a
    # minute, 500 an hour); ``write_window_scale`` shortens both windows (tests only).
    writes_per_minute: int = Field(default=80, ge=1)
    writes_per_hour: int = Field(default=500, ge=1)
    write_window_scale: float = Field(default=1.0, gt=0.0)
    registry_tokens: dict[str, SecretStr] = {}
    log_level: str = "INFO"
    demo: bool = False


def secret_problem(value: str) -> str | None:
    """Why ``value`` is not a usable secret, or ``None`` when it is. Never echoes the value."""
    stripped = value.strip()
    if not stripped:
        return "is empty"
    if stripped.lower() in _PLACEHOLDERS or any(p.match(stripped) for p in _PLACEHOLDER_SHAPES):
        return "is a placeholder"
    if len(stripped) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def settings_problems(settings: Settings) -> list[str]:
    """Every reason the settings cannot run a real (non-demo) bot, one per variable."""
    if settings.demo:
        return []
    problems: list[str] = []
    secrets = {"webhook_secret": settings.webhook_secret}
    secrets |= {
        f"registry_tokens[{kind}]": token for kind, token in settings.registry_tokens.items()
    }
    if settings.private_key is not None:
        secrets["private_key"] = settings.private_key
    for name, secret in secrets.items():
        problem = secret_problem(secret.get_secret_value())
        if problem:
            problems.append(f"{ENV_PREFIX}{name.upper()} {problem}")
    if settings.app_id is None:
        problems.append(f"{ENV_PREFIX}APP_ID is not set")
    if settings.private_key is None and settings.private_key_file is None:
        problems.append(f"{ENV_PREFIX}PRIVATE_KEY or {ENV_PREFIX}PRIVATE_KEY_FILE must be set")
    if settings.private_key_file is not None and not settings.private_key_file.is_file():
        problems.append(f"{ENV_PREFIX}PRIVATE_KEY_FILE does not name a readable file")
    if settings.max_body_bytes <= 0 or settings.workers <= 0:
        problems.append(f"{ENV_PREFIX}MAX_BODY_BYTES and {ENV_PREFIX}WORKERS must be positive")
    return problems


def load_settings(**overrides: Any) -> Settings:
    """Read and check the settings; raise ``SettingsError`` naming each bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as err:
        # Only locations and messages: pydantic's own text would echo the input values.
        names = ", ".join(
            f"{ENV_PREFIX}{'_'.join(str(part) for part in e['loc']).upper()} ({e['msg']})"
            for e in err.errors()
        )
        raise SettingsError(f"invalid settings: {names}") from None
    problems = settings_problems(settings)
    if problems:
        raise SettingsError("refusing to start: " + "; ".join(problems))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
