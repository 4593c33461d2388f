"""Settings for all stages: environment variables (REZONANS_*) over an optional YAML file over defaults."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(ValueError):
    """A configuration file or value is wrong; the message says how to fix it."""


def default_home() -> Path:
    """Per-user data folder (Elasticsearch install, spool, crawl state): $REZONANS_HOME or ~/.local/share/rezonans."""
    env = os.environ.get("REZONANS_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rezonans"


class Settings(BaseSettings):
    """Everything a run needs to know; each field is also REZONANS_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="REZONANS_", extra="forbid")

    home: Path = Field(default_factory=default_home)
    es_url: str = "http://127.0.0.1:9200"
    es_api_key: str | None = None
    es_user: str | None = None
    es_password: str | None = None
    es_ca_certs: str | None = None
    es_verify_certs: bool = True
    es_timeout: float = 30.0
    index_prefix: str = "rezonans"
    # Local server managed by `rezonans es ...`.
    es_version: str = "8.19"
    es_port: int = 9200
    es_heap: str = "512m"
    es_max_heap: str = "1g"
    es_user_name: str = "rezonans-es"
    es_security: bool = False

    @field_validator("index_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        """Index names must be lower case without spaces, '*', ',' or '#'."""
        if not value or value != value.lower() or any(c in value for c in ' "*,#/\\|?<>'):
            raise ValueError(f"index_prefix {value!r} must be lower case and contain no spaces or * , # / \\ | ? < >")
        return value

    @property
    def spool_dir(self) -> Path:
        """Where documents wait when Elasticsearch is unreachable."""
        return self.home / "spool"

    @property
    def es_dir(self) -> Path:
        """Where the local Elasticsearch distribution lives."""
        return self.home / "elasticsearch"


def config_path() -> Path | None:
    """The YAML config file in use: $REZONANS_CONFIG, ./rezonans.yaml or ~/.config/rezonans/config.yaml."""
    env = os.environ.get("REZONANS_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("rezonans.yaml"), Path.home() / ".config" / "rezonans" / "config.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read settings; a bad file or value raises ConfigError naming the field and the fix."""
    path = path or config_path()
    file_values: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist: create it or unset REZONANS_CONFIG")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must be a mapping of setting: value")
        file_values = loaded
    # Environment wins over the file: drop file keys that the environment sets.
    merged = {k: v for k, v in file_values.items() if f"REZONANS_{k.upper()}" not in os.environ}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        where = f" in {path}" if path else ""
        raise ConfigError(f"bad setting{where}: {problems} (environment variables are REZONANS_<NAME>)") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read once."""
    return load_settings()
