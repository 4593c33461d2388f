"""An alert and how it explains itself: metric, expected vs observed, period and the top stories with links."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rezonans.formats import number
from rezonans.timeutil import zone

METRIC_TEXT = {
    "volume": "articles mentioning {what}",
    "negative": "articles negative towards {what}",
    "negative_share": "share of negative articles about {what}",
    "new_story": "a new story about {what} spreading across sources",
}
RU_METRIC = {
    "volume": "упоминания",
    "negative": "негативные упоминания",
    "negative_share": "доля негатива",
    "new_story": "новый сюжет",
}
RU_KIND = {
    "spike": "всплеск",
    "drop": "провал",
    "level_up": "устойчивый рост",
    "level_down": "устойчивое падение",
    "new_story": "новый сюжет",
}


def _num(value: float, digits: int = 0) -> str:
    """A number in Russian format: 3,4 and 12 345 (rezonans.formats, Babel)."""
    return number(round(value, digits), max(digits, 1))


KIND_TEXT = {
    "spike": "spike",
    "drop": "drop",
    "level_up": "sustained rise",
    "level_down": "sustained fall",
    "new_story": "new story",
}


@dataclass
class Alert:
    """One alert, ready for any channel (JSON-able through `as_dict`)."""

    rule: str
    metric: str
    kind: str
    subject: str
    bucket_start: int
    bucket_end: int
    event_start: int
    observed: float
    expected: float
    score: float
    p_value: float = 1.0
    bucket: int = 3600
    stories: list[dict[str, Any]] = field(default_factory=list)
    held: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    language: str = "ru"

    def as_dict(self) -> dict[str, Any]:
        """Plain dict with ISO times as well as epoch seconds."""
        d = asdict(self)
        for key in ("bucket_start", "bucket_end", "event_start"):
            d[f"{key}_iso"] = datetime.fromtimestamp(d[key], UTC).isoformat()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        """Inverse of `as_dict` (extra keys ignored)."""
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})

    def _value(self, v: float) -> str:
        """A count as an integer, a share as a percentage."""
        if self.metric == "negative_share":
            return f"{100 * v:.0f}%"
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"

    def title(self) -> str:
        """One line: subject, metric and what happened."""
        if self.language != "en":
            return self.text_ru().splitlines()[0]
        what = KIND_TEXT.get(self.kind, self.kind)
        if self.metric == "new_story":
            return f"[Rezonans] {self.subject}: new story — {self.extra.get('title') or ''}".rstrip(" —")
        return f"[Rezonans] {self.subject}: {what} in {self.metric.replace('_', ' ')}"

    def text(self, tz: str = "Europe/Moscow") -> str:
        """The full explanation, plain text (Russian unless `language` is en)."""
        if self.language != "en":
            return self.text_ru(tz)
        return self.text_en(tz)

    def text_ru(self, tz: str = "Europe/Moscow") -> str:
        """Russian text: what happened, how big against the norm, when, how to see the mentions, top stories."""
        tzinfo = zone(tz)

        def fmt(ts: int) -> str:
            return datetime.fromtimestamp(ts, tzinfo).strftime("%d.%m.%Y %H:%M")

        who = self.extra.get("display") or self.subject
        what = RU_METRIC.get(self.metric, self.metric)
        lines = []
        if self.kind == "all_clear":
            lines.append(f"[Резонанс] {who}: всё спокойно — {what} вернулись к обычному уровню")
            lines.append(f"Событие: {fmt(self.event_start)} – {fmt(self.bucket_end)} ({tz})")
            return "\n".join(lines)
        if self.metric == "new_story":
            lines.append(f"[Резонанс] {who}: новый сюжет — {self.extra.get('title') or ''}".rstrip(" —"))
            if self.held:
                lines.append("(задержано на время тихих часов)")
            lines.append(
                f"{_num(self.observed)} публикаций из {self.extra.get('sources', '?')} источников "
                f"(порог {_num(self.expected)})"
            )
        else:
            head = RU_KIND.get(self.kind, self.kind)
            lines.append(f"[Резонанс] {who}: {head} — {what}")
            if self.held:
                lines.append("(задержано на время тихих часов)")
            lines.append(self.size_ru())
        lines.append(
            f"Когда: {fmt(self.bucket_start)} – {fmt(self.bucket_end)} ({tz})"
            + (f", началось в {fmt(self.event_start)}" if self.event_start < self.bucket_start else "")
        )
        brand = self.extra.get("brand")
        if brand:
            day0 = datetime.fromtimestamp(self.event_start, tzinfo).strftime("%Y-%m-%d")
            day1 = datetime.fromtimestamp(self.bucket_end, tzinfo).strftime("%Y-%m-%d")
            lines.append(f"Упоминания: rezonans search --brand {brand} --from {day0} --to {day1}")
        if self.stories:
            lines.append("Главные публикации:")
            for s in self.stories:
                src = f" ({s['source']})" if s.get("source") else ""
                lines.append(f"  • {s.get('title') or '(без заголовка)'}{src} {s.get('url') or ''}".rstrip())
        return "\n".join(lines)

    def size_ru(self) -> str:
        """'в 3,4 раза больше обычного (ожидали ≈ 120, пришло 410)'."""
        obs, exp = self.observed, self.expected
        if self.metric == "negative_share":
            return f"доля негатива {_num(100 * obs)} % при обычной ≈ {_num(100 * exp)} %"
        if exp > 0 and obs >= exp:
            return f"в {_num(obs / exp, 1)} раза больше обычного (ожидали ≈ {_num(exp)}, пришло {_num(obs)})"
        if obs > 0 and obs < exp:
            return f"в {_num(exp / obs, 1)} раза меньше обычного (ожидали ≈ {_num(exp)}, пришло {_num(obs)})"
        return f"ожидали ≈ {_num(exp)}, пришло {_num(obs)}"

    def text_en(self, tz: str = "UTC") -> str:
        """The full explanation in English, plain text."""
        tzinfo = zone(tz)

        def fmt(ts: int) -> str:
            return datetime.fromtimestamp(ts, tzinfo).strftime("%Y-%m-%d %H:%M")

        lines = [self.title()]
        if self.held:
            lines.append("(held during quiet hours)")
        lines.append(
            f"Rule: {self.rule} · metric: {METRIC_TEXT.get(self.metric, self.metric).format(what=self.subject)}"
        )
        lines.append(
            f"Period: {fmt(self.bucket_start)} – {fmt(self.bucket_end)} {tz}"
            + (f" (event since {fmt(self.event_start)})" if self.event_start < self.bucket_start else "")
        )
        if self.metric == "new_story":
            lines.append(
                f"Observed: {self.observed:.0f} articles from {self.extra.get('sources', '?')} sources "
                f"(alert at {self.expected:.0f})"
            )
        else:
            lines.append(
                f"Observed: {self._value(self.observed)}, expected: {self._value(self.expected)} "
                f"(score {self.score:.2f}, p = {self.p_value:.1e})"
            )
        if self.stories:
            lines.append("Top stories:")
            for s in self.stories:
                src = f" ({s['source']})" if s.get("source") else ""
                lines.append(f"  • {s.get('title') or '(untitled)'}{src} {s.get('url') or ''}".rstrip())
        return "\n".join(lines)
