"""Settings: environment variables, refusal of weak secrets, no secret value in any message."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, get_settings, load_settings, secret_problem

GOOD = "a-long-enough-webhook-secret-value"
KEY = "-----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA-----END RSA PRIVATE KEY-----"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.setenv("PROMOTION_BOT_APP_ID", "42")
    monkeypatch.setenv("PROMOTION_BOT_PRIVATE_KEY", KEY)
    monkeypatch.setenv("PROMOTION_BOT_WEBHOOK_SECRET", GOOD)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("changeme", "is a placeholder"),
        ("secret", "is a placeholder"),
        ("xxx", "is a placeholder"),
        ("<your-webhook-secret>", "is a placeholder"),
        ("${WEBHOOK_SECRET}", "is a placeholder"),
        ("xxxxxxxxxxxxxxxxxxxxxxxx", "is a placeholder"),
        ("short-but-real", "is shorter than 16 characters"),
        (GOOD, None),
    ],
)
def test_secret_problem(value: str, problem: str | None) -> None:
    assert secret_problem(value) == problem


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOTION_BOT_GITHUB_URL", "https://ghes.example.com/api/v3")
    monkeypatch.setenv("PROMOTION_BOT_REGISTRY_TOKENS", '{"harbor": "harbor-secret-0123456789"}')
    settings = load_settings()
    assert settings.app_id == 42 and settings.github_url == "https://ghes.example.com/api/v3"
    assert settings.registry_tokens["harbor"].get_secret_value() == "harbor-secret-0123456789"
    assert settings.max_body_bytes == 25 * 1024 * 1024
    assert settings.drift_schedule == "0 6 * * 1-5"  # weekdays at 06:00 UTC
    assert GOOD not in repr(settings) and KEY not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        (
            "PROMOTION_BOT_WEBHOOK_SECRET",
            "changeme",
            "PROMOTION_BOT_WEBHOOK_SECRET is a placeholder",
        ),
        ("PROMOTION_BOT_WEBHOOK_SECRET", "", "PROMOTION_BOT_WEBHOOK_SECRET is empty"),
        ("PROMOTION_BOT_PRIVATE_KEY", "<paste key>", "PROMOTION_BOT_PRIVATE_KEY is a placeholder"),
        (
            "PROMOTION_BOT_REGISTRY_TOKENS",
            '{"dockerhub": "tok-123"}',
            "PROMOTION_BOT_REGISTRY_TOKENS[DOCKERHUB] is shorter",
        ),
        ("PROMOTION_BOT_WORKERS", "many-workers-value", "PROMOTION_BOT_WORKERS"),
        ("PROMOTION_BOT_DRIFT_SCHEDULE", "every morning", "PROMOTION_BOT_DRIFT_SCHEDULE"),
        (
            "PROMOTION_BOT_PRIVATE_KEY_FILE",
            "/nonexistent/key.pem",
            "PROMOTION_BOT_PRIVATE_KEY_FILE does not name",
        ),
    ],
)
def test_refuses_to_start_naming_the_variable_never_the_value(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert named in message
    if value:
        assert value not in message.replace(variable, "")


def test_missing_app_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMOTION_BOT_APP_ID")
    monkeypatch.delenv("PROMOTION_BOT_PRIVATE_KEY")
    with pytest.raises(SettingsError, match=r"APP_ID is not set.*PRIVATE_KEY_FILE must be set"):
        load_settings()


def test_demo_accepts_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOTION_BOT_WEBHOOK_SECRET", "changeme")
    monkeypatch.setenv("PROMOTION_BOT_DEMO", "true")
    assert load_settings().demo


def test_get_settings_is_cached() -> None:
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()
