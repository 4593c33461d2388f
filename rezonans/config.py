"""Settings for all stages: environment variables (REZONANS_*) over an optional YAML file over defaults."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rezonans.errors import UserError, pydantic_problems


class ConfigError(UserError):
    """A configuration file or value is wrong; the message says how to fix it."""


def default_home() -> Path:
    """Per-user data folder (Elasticsearch install, spool, crawl state): $XDG_DATA_HOME/rezonans or ~/.local/share/rezonans."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rezonans"


class Settings(BaseSettings):
    """Everything a run needs to know; each field is also REZONANS_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="REZONANS_", extra="forbid")

    home: Path = Field(default_factory=default_home, description="spool, crawl state, alert state, local server")
    es_url: str = Field(
        "http://127.0.0.1:9200",
        description="any Elasticsearch 8.x cluster (local, Docker or hosted); several nodes comma-separated",
    )
    es_api_key: str | None = Field(None, description="API key for an external or secured cluster")
    es_user: str | None = Field(None, description="user name for an external or secured cluster")
    es_password: str | None = Field(None, description="password for `es_user`")
    es_ca_certs: str | None = Field(None, description="CA bundle for an `https://` cluster")
    es_verify_certs: bool = Field(True, description="verify the cluster's TLS certificate")
    es_timeout: float = Field(30.0, description="seconds before a request to Elasticsearch gives up")
    index_prefix: str = Field("rezonans", description="all index and template names start with it")
    es_shards: int = Field(1, ge=1, description="primary shards of each monthly article index")
    es_replicas: int = Field(0, ge=0, description="replicas of each index: 0 on one node, 1 or more on a cluster")
    # Local server managed by `rezonans es ...`.
    es_version: str = Field("8.19", description="local server: newest 8.19.x Maven resolves, or an exact 8.19.21")
    es_port: int = Field(9200, description="local server port")
    es_heap: str = Field("512m", description="local server initial JVM heap")
    es_max_heap: str = Field("1g", description="local server maximum JVM heap")
    es_user_name: str = Field("rezonans-es", description="system user that runs the local server (it refuses root)")
    es_security: bool = Field(False, description="start the local server with security on")
    # Analysis.
    brands: Path | None = Field(None, description="brand-card file used when a command gets no `--brands`")
    tone: Literal["fast", "transformer"] = Field(
        "transformer",
        description="tone model: transformer (a fine-tuned e5 network mixed with the linear model) or fast "
        "(the linear model alone: less accurate, about half the CPU, for bulk re-analysis); see nlp/models/README.md",
    )
    e5: bool = Field(False, description="add multilingual-e5-small embeddings to the tone model (~4x slower)")
    e5_threads: int | None = Field(None, description="threads of the e5 engine (default: the engine's choice)")
    # Sources with an API (crawler.sourcetypes).
    vk_token: SecretStr | None = Field(
        None, description="VK API access token (service or user token) for `type: vk` sources; never logged or shown"
    )
    vk_api_url: str = Field("https://api.vk.com", description="VK API base URL (`/method/...` is appended)")
    vk_persons: bool = Field(
        False,
        description="keep names and profile links of private persons' VK posts and comments "
        "(off: personal data kept to the minimum, 152-FZ; see docs/sources.md)",
    )
    forum_authors: bool = Field(
        False,
        description="keep the names of forum posters and reviewers (`type: forum`, `type: reviews`); "
        "off: personal data kept to the minimum, 152-FZ (see docs/sources.md)",
    )
    # Faces.
    language: Literal["ru", "en"] = Field("ru", description="language of reports, alerts and messages: ru or en")
    log: str = Field("WARNING", description="log level on stderr: DEBUG, INFO, WARNING or ERROR")
    web_users: dict[str, str] = Field(
        default_factory=dict,
        description="`rezonans serve` users: name → password hash from `rezonans serve --hash-password` "
        "(required to serve on any address but 127.0.0.1)",
    )
    web_secret: str | None = Field(
        None, description="key that signs the web session cookies (default: a random one per start, so logins end)"
    )

    @field_validator("index_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        """Index names must be lower case without spaces, '*', ',' or '#'."""
        if not value or value != value.lower() or any(c in value for c in ' "*,#/\\|?<>'):
            raise ValueError(f"index_prefix {value!r} must be lower case and contain no spaces or * , # / \\ | ? < >")
        return value

    @field_validator("log")
    @classmethod
    def _log(cls, value: str) -> str:
        """One of the standard logging levels."""
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"log level {value!r} must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def es_urls(self) -> list[str]:
        """The node URLs of `es_url` (comma-separated for a cluster)."""
        return [u.strip() for u in self.es_url.split(",") if u.strip()]

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
        problems = pydantic_problems(exc)
        where = f" in {path}" if path else ""
        raise ConfigError(f"bad setting{where}: {problems} (environment variables are REZONANS_<NAME>)") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read once."""
    return load_settings()


def settings_table() -> str:
    """The Markdown table of every setting (docs/settings.md is generated from it)."""
    rows = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "~/.local/share/rezonans" if name == "home" else field.default
        if name != "home" and field.default_factory is not None:
            default = field.default_factory()  # type: ignore[call-arg]
        shown = "none" if default is None else f"`{default}`"
        rows.append(f"| `{name}` | `REZONANS_{name.upper()}` | {shown} | {field.description or ''} |")
    rows.append(
        "| (file) | `REZONANS_CONFIG` | `./rezonans.yaml`, `~/.config/rezonans/config.yaml` | YAML file of these settings |"
    )
    return "\n".join(rows) + "\n"


def settings_doc() -> str:
    """The whole docs/settings.md: how settings are read, then the table."""
    return (
        "# Settings\n\n"
        "Generated by `python -m rezonans.config > docs/settings.md` from `rezonans.config.Settings`; a test keeps\n"
        "it in step with the code.\n\n"
        "Each setting comes from the environment variable `REZONANS_<NAME>`, over the YAML file (`$REZONANS_CONFIG`,\n"
        "`./rezonans.yaml` or `~/.config/rezonans/config.yaml`), over the default. A bad value is reported with the\n"
        "file and the field name (exit 2). Library code receives these values as arguments; nothing else reads\n"
        "`REZONANS_*` variables.\n\n" + settings_table()
    )


if __name__ == "__main__":
    print(settings_doc(), end="")
