"""The alert rules file: rules, channels, quiet hours and watch settings, validated with errors that say the fix."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerts.detector import DetectorSettings, threshold_for, zone
from rezonans.config import ConfigError
from rezonans.errors import read_text_file
from rezonans.timeutil import parse_duration

Metric = Literal["volume", "negative", "negative_share", "new_story"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsoleChannel(_Strict):
    """Print alerts to standard output."""

    type: Literal["console"] = "console"


class EmailChannel(_Strict):
    """Send alerts over SMTP (STARTTLS and login optional; the password comes from an environment variable)."""

    type: Literal["email"]
    host: str
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    user: str | None = None
    password_env: str | None = Field(None, description="name of the environment variable with the password")
    sender: str = "rezonans@localhost"
    to: list[str] = Field(min_length=1)
    timeout: float = 20.0


class WebhookChannel(_Strict):
    """HTTP POST of the alert as JSON."""

    type: Literal["webhook"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = 10.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        """Only http(s) URLs."""
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"url {value!r} must start with http:// or https://")
        return value


class TelegramChannel(_Strict):
    """A Telegram bot message: POST {api_url}/bot<token>/sendMessage."""

    type: Literal["telegram"]
    chat_id: str | int
    token: str | None = None
    token_env: str | None = Field(None, description="name of the environment variable with the bot token")
    api_url: str = "https://api.telegram.org"
    timeout: float = 10.0

    @model_validator(mode="after")
    def _token(self) -> TelegramChannel:
        """A token is needed, given directly or through an environment variable."""
        if not self.token and not self.token_env:
            raise ValueError("give the bot token as token_env: NAME_OF_ENV_VARIABLE (or token: ...)")
        return self


Channel = Annotated[ConsoleChannel | EmailChannel | WebhookChannel | TelegramChannel, Field(discriminator="type")]


def _check_zone(value: str | None) -> str | None:
    """An IANA zone name (or None: inherited)."""
    if value is not None:
        zone(value)
    return value


class QuietHours(_Strict):
    """A daily window (local time) when alerts are held for later (hold) or thrown away (drop)."""

    start: time
    end: time
    timezone: str | None = Field(None, description="IANA zone; default: the rule's (the rules file's) timezone")
    mode: Literal["hold", "drop"] = "hold"

    _tz = field_validator("timezone")(_check_zone)

    def active(self, now: datetime) -> bool:
        """Whether `now` falls in the window (windows may cross midnight, e.g. 23:00–08:00)."""
        local = now.astimezone(zone(self.timezone or "UTC")).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class Retry(_Strict):
    """How a failing channel is retried within one check."""

    attempts: int = Field(3, ge=1, le=10)
    backoff: float = Field(1.0, ge=0, description="seconds before the 2nd attempt; doubles each time")


class Outbox(_Strict):
    """Alerts that no channel accepted: kept in the state file and tried again at every check, up to a limit."""

    max_age: int = Field(86400, description="seconds after which an undelivered alert is given up")
    max_size: int = Field(200, ge=1, le=10000, description="undelivered alerts kept at most (oldest go first)")

    @field_validator("max_age", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        """Durations as 30m, 1d or seconds."""
        return parse_duration(value)


class Rule(_Strict):
    """One alert rule: what to count, how to bucket it, how sensitive, where to send."""

    name: str = Field(pattern=r"^[\w.-]+$")
    brand: str | None = None
    query: str | None = Field(None, description="search query language (as in `rezonans search`)")
    es_query: dict[str, Any] | None = Field(None, description="raw Elasticsearch query over articles")
    saved: str | None = Field(None, description="a saved search by name (rezonans serve, rezonans search --saved)")
    metric: Metric = "volume"
    bucket: int = 3600
    sensitivity: str | float = "medium"
    warmup: int | None = Field(None, ge=0)
    cooldown: int | None = Field(None, ge=1)
    min_delta: float = Field(3.0, ge=0)
    min_ratio: float = Field(1.5, ge=1.0, description="smallest observed/expected (or its inverse) worth an alert")
    display: str | None = Field(None, description="the brand's name in alert texts (default: the brand id)")
    daily: bool = True
    weekly: bool = True
    settle: int = Field(0, ge=0, description="seconds after a bucket ends before it is scored")
    channels: list[str] | None = None
    quiet_hours: QuietHours | None = None
    timezone: str | None = Field(
        None, description="IANA zone of seasonality, quiet hours and texts; default: the rules file's timezone"
    )
    # new_story only
    min_articles: int = Field(5, ge=2)
    min_sources: int = Field(2, ge=1)
    enabled: bool = True

    @field_validator("bucket", "settle", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        """Durations as 5m, 1h, 1d or seconds."""
        if value == 0 or value == "0":
            return 0
        return parse_duration(value)

    @field_validator("sensitivity")
    @classmethod
    def _sensitivity(cls, value: str | float) -> str | float:
        """low, medium, high or a number in (0, 1)."""
        threshold_for(value)
        return value

    _tz = field_validator("timezone")(_check_zone)

    @field_validator("brand")
    @classmethod
    def _brand(cls, value: str | None) -> str | None:
        """Brand ids are lower case."""
        return value.strip().lower() if value else value

    @model_validator(mode="after")
    def _what(self) -> Rule:
        """A rule counts a brand, a query, or both; query syntax is checked now."""
        if not (self.brand or self.query or self.es_query or self.saved):
            raise ValueError(
                "say what to count: brand: BRAND_ID, query: 'search query', saved: SAVED_SEARCH or es_query: {...}"
            )
        if sum(1 for x in (self.query, self.es_query, self.saved) if x) > 1:
            raise ValueError("use only one of query:, saved: and es_query:")
        if self.metric in ("negative", "negative_share") and not self.brand:
            raise ValueError(f"metric {self.metric} needs brand: (tone is judged towards a brand)")
        if self.bucket < 60:
            raise ValueError("bucket must be at least 1m")
        if self.query:
            from search.query import QuerySyntaxError, parse

            try:
                parse(self.query)
            except QuerySyntaxError as exc:
                raise ValueError(f"query: {exc.pretty()}") from None
        return self

    def detector_settings(self) -> DetectorSettings:
        """The detector tuning of this rule."""
        return DetectorSettings(
            sensitivity=self.sensitivity,
            warmup=self.warmup,
            cooldown=self.cooldown,
            min_delta=self.min_delta,
            min_ratio=self.min_ratio,
            daily=self.daily,
            weekly=self.weekly,
            timezone=self.zone,
        )

    @property
    def zone(self) -> str:
        """The rule's time zone name (UTC unless the rule or the rules file names one)."""
        return self.timezone or "UTC"

    def fingerprint(self) -> str:
        """What the stored detector state depends on: change it and the state starts afresh."""
        keys = (
            "brand",
            "query",
            "es_query",
            "metric",
            "bucket",
            "sensitivity",
            "warmup",
            "cooldown",
            "min_delta",
            "min_ratio",
            "daily",
            "weekly",
        )
        data: dict[str, Any] = {k: getattr(self, k) for k in keys}
        data["detector"] = 2  # the robust log-space detector: older saved states start afresh
        if self.zone != "UTC":  # only then, so that state saved before zones existed stays valid
            data["timezone"] = self.zone
        return yaml.safe_dump(data, sort_keys=True)


class Watch(_Strict):
    """The `alerts watch` loop."""

    check_every: int = 300
    crawl_every: int | None = None
    crawl_command: list[str] = Field(default_factory=lambda: ["rezonans", "crawl"])
    crawl_timeout: int = 3600

    @field_validator("check_every", "crawl_every", "crawl_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int | None:
        """Durations as 5m, 1h or seconds."""
        return None if value is None else parse_duration(value)


def _console_only() -> dict[str, Channel]:
    """The channels of a rules file that names none: the console."""
    return {"console": ConsoleChannel()}


class AlertsConfig(_Strict):
    """The whole rules file."""

    defaults: dict[str, Any] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=lambda: _console_only())
    rules: list[Rule] = Field(min_length=1)
    watch: Watch = Field(default_factory=Watch)
    retry: Retry = Field(default_factory=Retry)
    outbox: Outbox = Field(default_factory=Outbox)
    timezone: str = Field("Europe/Moscow", description="IANA zone of seasonality, quiet hours and alert texts")
    language: Literal["ru", "en"] = Field("ru", description="language of alert texts")
    history: int = Field(28 * 86400, description="seconds of history read on the first check of a rule")
    top_stories: int = Field(5, ge=0, le=50)

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        """Copy `defaults:` into each rule that does not set the key itself."""
        if isinstance(data, dict) and isinstance(data.get("defaults"), dict) and isinstance(data.get("rules"), list):
            data = dict(data)
            data["rules"] = [{**data["defaults"], **r} if isinstance(r, dict) else r for r in data["rules"]]
        if isinstance(data, dict) and "history" in data:
            data = dict(data)
            data["history"] = parse_duration(data["history"])
        return data

    @model_validator(mode="after")
    def _check(self) -> AlertsConfig:
        """Rule names unique; channels named by rules exist."""
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice: give each rule its own name")
            seen.add(rule.name)
            for ch in rule.channels or []:
                if ch not in self.channels:
                    raise ValueError(
                        f"rule {rule.name!r}: unknown channel {ch!r}; define it under channels: "
                        f"(known: {', '.join(sorted(self.channels)) or 'none'})"
                    )
        zone(self.timezone)
        for rule in self.rules:  # rules and quiet hours without a zone of their own take the file's
            if rule.timezone is None:
                rule.timezone = self.timezone
            if rule.quiet_hours is not None and rule.quiet_hours.timezone is None:
                rule.quiet_hours.timezone = rule.timezone
        return self

    def channels_for(self, rule: Rule) -> list[str]:
        """Channel names of a rule (all console channels when it names none)."""
        if rule.channels is not None:
            return rule.channels
        return [n for n, c in self.channels.items() if c.type == "console"] or list(self.channels)[:1]


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Human location of a validation error: rules[2].bucket → rule 'sber-hourly': bucket."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        rules = data.get("rules") or []
        name = rules[parts[1]].get("name") if parts[1] < len(rules) and isinstance(rules[parts[1]], dict) else None
        head = f"rule {name!r}" if name else f"rule #{parts[1] + 1}"
        rest = ".".join(str(p) for p in parts[2:] if not str(p).startswith(("function-", "tagged-")))
        return f"{head}: {rest}" if rest else head
    return ".".join(str(p) for p in parts) or "file"


def parse_config(data: Any, source: str = "rules") -> AlertsConfig:
    """Validate a loaded mapping; ConfigError names the rule, the field and the fix."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the rules file must be a mapping with a rules: list")
    try:
        return AlertsConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/alerts.md)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            problems.append(f"{_where(tuple(err['loc']), data)}: {msg}")
        raise ConfigError(f"{source}: " + "; ".join(problems)) from exc


def load_config(path: Path) -> AlertsConfig:
    """Read and validate a YAML (or JSON) rules file."""
    if not path.is_file():
        raise ConfigError(f"rules file {path} does not exist: copy examples/alerts.yaml and edit it")
    try:
        data = yaml.safe_load(read_text_file(path, "rules file"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"rules file {path} is not valid YAML: {exc}") from exc
    return parse_config(data, str(path))


def utcnow() -> datetime:
    """Now, aware UTC."""
    return datetime.now(UTC)
