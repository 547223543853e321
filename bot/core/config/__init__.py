"""The promotion configuration (``.github/promotion.yml``): one import for its public names.

The pieces live in small modules: ``policy`` (Policy), ``model`` (environments, apps, the whole
file), ``check`` (cross references, effective policies), ``load`` (YAML to a checked config with
located errors), ``fields`` (which fields a place accepts), ``windows`` (freeze windows),
``durations``, and ``issue`` (the issue the bot keeps open while the config is invalid).
"""

from __future__ import annotations

from bot.core.config.check import (
    PolicyLookupError,
    Problem,
    Resolution,
    layer,
    resolve_config,
    resolve_policies,
    resolve_policy,
)
from bot.core.config.durations import format_duration, parse_duration
from bot.core.config.load import (
    DEFAULT_FILE,
    ConfigError,
    ConfigIssue,
    Document,
    compose_document,
    parse_config,
    parse_policy,
)
from bot.core.config.model import App, Defaults, Environment, GitTagMatch, PromotionConfig
from bot.core.config.policy import Policy, PolicyRef
from bot.core.config.windows import AbsoluteWindow, WeeklyWindow, Window, active_window

__all__ = [
    "DEFAULT_FILE",
    "AbsoluteWindow",
    "App",
    "ConfigError",
    "ConfigIssue",
    "Defaults",
    "Document",
    "Environment",
    "GitTagMatch",
    "Policy",
    "PolicyLookupError",
    "PolicyRef",
    "Problem",
    "PromotionConfig",
    "Resolution",
    "WeeklyWindow",
    "Window",
    "active_window",
    "compose_document",
    "format_duration",
    "layer",
    "parse_config",
    "parse_duration",
    "parse_policy",
    "resolve_config",
    "resolve_policies",
    "resolve_policy",
]
