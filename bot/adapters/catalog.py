"""Built-in policies and configuration files: the file-reading side of ``bot.core.config``.

The built-in policies are the YAML files in ``policies/``. In a source checkout (editable
install included) they are read from there; an installed wheel carries them as data files under
``<prefix>/share/promotion-bot/policies``, found through the distribution's file list so that
``--user`` and venv installs work alike.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from bot.core.config import ConfigError, Policy, parse_policy

DISTRIBUTION = "promotion-bot"
DATA_DIR = "share/promotion-bot/policies"
CONFIG_PATHS = (".github/promotion.yml", ".github/promotion.yaml")
_SOURCE_DIR = Path(__file__).resolve().parents[2] / "policies"


class PolicyError(ValueError):
    """A policy name or file that does not give a valid policy."""


class ConfigFileError(OSError):
    """The configuration file is missing or cannot be read as UTF-8 text."""


def policies_dir() -> Path:
    """The directory holding the built-in policy files."""
    if (_SOURCE_DIR / "auto.yml").is_file():
        return _SOURCE_DIR
    installed = _installed_dir()
    if installed is None:
        raise PolicyError(
            f"built-in policies not found source={_SOURCE_DIR} distribution={DISTRIBUTION}"
        )
    return installed


def _installed_dir() -> Path | None:
    try:
        files = importlib.metadata.distribution(DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.as_posix().endswith(f"{DATA_DIR}/auto.yml"):
            return Path(str(file.locate())).parent
    return None


@functools.cache
def builtin_policies() -> Mapping[str, Policy]:
    """The built-in policies by name (file name without ``.yml``)."""
    policies: dict[str, Policy] = {}
    for path in sorted(policies_dir().glob("*.yml")):
        try:
            policies[path.stem] = parse_policy(path.read_text("utf-8"), file=str(path), builtin={})
        except (ConfigError, OSError) as err:
            raise PolicyError(f"invalid built-in policy file={path}:\n{err}") from err
    return MappingProxyType(policies)


def load_policy(name_or_path: str) -> Policy:
    """A built-in policy by name, or the policy in a YAML file (which may ``use:`` a built-in)."""
    builtin = builtin_policies()
    if name_or_path in builtin:
        return builtin[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        names = ", ".join(builtin)
        raise PolicyError(
            f"unknown policy {name_or_path!r}: not a built-in ({names}) and not a file"
        )
    try:
        return parse_policy(path.read_text("utf-8"), file=name_or_path, builtin=builtin)
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(f"cannot read policy file path={path}: {err}") from err
    except ConfigError as err:
        raise PolicyError(str(err)) from err


def config_file(path: Path) -> Path:
    """The config file for ``path``: the file itself, or a checkout's ``.github/promotion.yml``."""
    if not path.is_dir():
        return path
    candidates = [path / relative for relative in CONFIG_PATHS]
    return next((file for file in candidates if file.is_file()), candidates[0])


def read_config(file: Path) -> str:
    """The text of a config file; ConfigFileError when it is missing or not UTF-8."""
    try:
        return file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigFileError(f"cannot read config file path={file}: {err}") from err
