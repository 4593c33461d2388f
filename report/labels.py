"""Everything the report says, in Russian (default) and English: a dict of (ru, en) pairs per key, plus the
number, change and date formatting that the templates, charts and XLSX share (through rezonans.formats).

A dict keeps both languages side by side in one reviewable file and needs no compile step; a test checks that
every key has both texts and that the templates use only known keys.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from rezonans.formats import day, number, short_day

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Отчёт о публичности: {brand}", "Publicity report: {brand}"),
    "compared": (
        "{period}; сравнение с периодом {previous} (часовой пояс {tz}). Изменения — в скобках.",
        "{period}; compared with {previous} (time zone {tz}). Changes in brackets.",
    ),
    "week": ("неделя {label}", "week {label}"),
    "figure": ("Показатель", "Figure"),
    "value_change": ("Значение (изменение)", "Value (change)"),
    "articles_all": ("Статьи, включая перепечатки", "Articles, reprints included"),
    "stories": ("Уникальные сюжеты", "Unique stories"),
    "reprints": ("Перепечатки", "Reprints"),
    "mentions": ("Упоминания", "Mentions"),
    "tone_split": ("Позитивные / нейтральные / негативные статьи", "Positive / neutral / negative articles"),
    "net_tone": ("Чистая тональность", "Net tone"),
    "pi": ("Индекс публичности {version}", "Publicity index {version}"),
    "pi_parts": ("… от позитивных / нейтральных / негативных", "… from positive / neutral / negative"),
    "formula": (
        "Индекс публичности {version} = сумма по всем упоминаниям бренда за период (перепечатки учитываются: "
        "каждая — отдельный контакт) произведений «вес источника × заметность × коэффициент тональности»; "
        "коэффициент: позитив +1, нейтрально +0,5 (нейтральное упоминание — тоже видимость, но вполовину), "
        "негатив −1. Вес источника — его авторитетность из списка источников (по умолчанию 1,0); заметность (0..1) "
        "определяет NLP-этап по месту упоминания (заголовок > лид > текст) и тому, главный ли это герой.",
        "Publicity index {version} = Σ over every mention of the brand in the period (reprints included, each is "
        "an exposure) of source weight × prominence × tone factor; tone factor: positive +1, neutral +0.5 "
        "(neutral coverage is still visibility, at half value), negative −1. Source weight is the source's "
        "authority from the sources list (default 1.0); prominence (0..1) is set by the NLP stage from placement "
        "(title > lead > body) and whether the brand is the main subject.",
    ),
    "net_tone_text": (
        "Чистая тональность = (позитивные − негативные) / все статьи о бренде, в %, по общей тональности статьи "
        "к бренду; нейтральные статьи входят в знаменатель.",
        "Net tone = (positive − negative) / all articles about the brand, in %, using the article's overall tone "
        "towards the brand; neutral articles count in the denominator.",
    ),
    "daily": ("Объём по дням", "Daily volume"),
    "day": ("День", "Day"),
    "articles": ("Статьи", "Articles"),
    "stories_short": ("Сюжеты", "Stories"),
    "publicity": ("Публичность", "Publicity"),
    "sov": ("Доля голоса", "Share of voice"),
    "brand": ("Бренд", "Brand"),
    "articles_change": ("Статьи (изменение)", "Articles (change)"),
    "share_articles": ("Доля статей", "Share of articles"),
    "share_mentions": ("Доля упоминаний", "Share of mentions"),
    "top_sources": ("Главные источники", "Top sources"),
    "source": ("Источник", "Source"),
    "weight": ("Вес", "Weight"),
    "publicity_change": ("Публичность (изменение)", "Publicity (change)"),
    "top_stories": ("Главные сюжеты", "Top stories"),
    "top_stories_note": (
        "По публичности бренда в сюжете (Σ вес источника × заметность его упоминаний, при любой тональности), "
        "затем по заметности.",
        "Ranked by the brand's publicity in the story (Σ source weight × prominence of its mentions, whatever "
        "the tone), then by prominence.",
    ),
    "story": ("Сюжет", "Story"),
    "outlets": ("Издания", "Outlets"),
    "tone": ("Тон", "Tone"),
    "negatives": ("Заметные негативные упоминания", "Notable negative mentions"),
    "weight_of": ("вес {w}", "weight {w}"),
    "none_in_period": ("В этом периоде нет.", "None in this period."),
    "promo": ("Промокоды: упоминания и погашения", "Promo codes: mentions and redemptions"),
    "code": ("Код", "Code"),
    "redemptions_change": ("Погашения (изменение)", "Redemptions (change)"),
    "amount_change": ("Сумма (изменение)", "Amount (change)"),
    "mentions_change": ("Упоминания (изменение)", "Mentions (change)"),
    "no_promo": ("Промокоды не упоминались и не погашались.", "No promo codes mentioned or redeemed."),
    "smm": ("SMM и маркетинг", "SMM vs marketing"),
    "own_channels": (
        "Собственные каналы ({channels}): публикации {posts}, просмотры {views}, пересылки {forwards}, "
        "в среднем просмотров на публикацию {avg}.",
        "Own channels ({channels}): posts {posts}, views {views}, forwards {forwards}, average views per post {avg}.",
    ),
    "no_own": (
        "Собственные каналы не указаны (--own-channel НАЗВАНИЕ или own_channels в карточке бренда).",
        "No own channels named (--own-channel NAME or own_channels on the brand card).",
    ),
    "engagement_title": (
        "Вовлечённость публичных постов о бренде (Telegram, ВКонтакте)",
        "Engagement of public posts about the brand (Telegram, VK)",
    ),
    "engagement_totals": (
        "Публикаций {posts}: лайки {likes}, репосты и пересылки {forwards}, комментарии {comments}, просмотры {views}.",
        "{posts} posts: likes {likes}, reposts and forwards {forwards}, comments {comments}, views {views}.",
    ),
    "engagement_top": (
        "Самые обсуждаемые посты и их вклад в индекс публичности",
        "Top posts by engagement and their share of the publicity index",
    ),
    "not_publicity": (
        "Популярный пост — ещё не публичность, которая продаёт: лайки и репосты показывают интерес аудитории "
        "соцсетей, а индекс публичности — заметность бренда в авторитетных источниках и её тон.",
        "A popular post is not publicity that sells: likes and reposts show the social audience's interest, "
        "the publicity index shows how visible the brand is in authoritative sources, and in what tone.",
    ),
    "engagement_as_of": (
        "Счётчики — на момент последнего сбора поста: каждый обход канала или поиска обновляет их, пока пост "
        "остаётся на его первых страницах.",
        "Counters as of the post's last collection: each crawl of the channel or search refreshes them while the post "
        "is still on its first pages.",
    ),
    "no_engagement": (
        "Публичных постов о бренде в этом периоде нет.",
        "No public posts about the brand in this period.",
    ),
    "post": ("Пост", "Post"),
    "likes": ("Лайки", "Likes"),
    "reposts": ("Репосты и пересылки", "Reposts and forwards"),
    "comments": ("Комментарии", "Comments"),
    "engagement": ("Вовлечённость", "Engagement"),
    "post_publicity": ("Вклад в индекс публичности", "Share of the publicity index"),
    "sheet_engagement": ("Вовлечённость", "Engagement"),
    "earned": (
        "Публичность (заработанные медиа): индекс {pi}, статей: {articles}.",
        "Publicity (earned media): index {pi}, {articles} articles.",
    ),
    "outcomes": ("Результаты: погашений {count} на сумму {amount}.", "Outcomes: {count} redemptions worth {amount}."),
    "survey": ("Опрос «{metric}»: {value} (среднее за период).", "Survey {metric}: {value} (average of the period)."),
    "corr_intro": (
        "Как результаты следуют за публичностью: коэффициент Пирсона r между индексом публичности в день t и "
        "результатом в день t+лаг, окно {window}; r приводится только при n ≥ {min_n} парах дней.",
        "How outcomes follow publicity (Pearson r between the daily publicity index on day t and the outcome on "
        "day t+lag, window {window}; r is given only when n ≥ {min_n} day pairs):",
    ),
    "outcome": ("Результат", "Outcome"),
    "lag": ("лаг {n}", "lag {n}"),
    "not_enough": ("мало данных", "not enough data"),
    "no_variation": ("нет разброса", "no variation"),
    "no_outcomes": (
        "Результаты не импортированы (см. `rezonans outcomes import`).",
        "No outcomes imported (see `rezonans outcomes import`).",
    ),
    "generated": ("Сформирован {when} · Rezonans", "Generated {when} · Rezonans"),
    "demo_note": (
        "Демо-данные: сайт-источник сгенерирован; «{channel}» изображает собственный канал бренда; погашения "
        "синтетические и следуют за упоминаниями промокодов через 1–2 дня.",
        "Demo data: the dev site is generated; '{channel}' stands in for the brand's own channel; redemptions are "
        "synthetic and follow promo-code mentions by 1–2 days.",
    ),
    "new": ("новое", "new"),
    "pp": ("п. п.", "pp"),
    "positive": ("позитив", "positive"),
    "neutral": ("нейтрально", "neutral"),
    "negative": ("негатив", "negative"),
    "chart_daily": ("Объём по дням", "Daily volume"),
    "chart_articles": ("статьи (с перепечатками)", "articles (with reprints)"),
    "chart_stories": ("уникальные сюжеты", "unique stories"),
    "chart_tone": ("Тональность статей", "Tone of articles"),
    "chart_sov": ("Доля голоса, % статей", "Share of voice, % of articles"),
    # XLSX
    "sheet_summary": ("Сводка", "Summary"),
    "sheet_daily": ("По дням", "Daily"),
    "sheet_sources": ("Источники", "Sources"),
    "sheet_stories": ("Сюжеты", "Stories"),
    "sheet_sov": ("Доля голоса", "Share of voice"),
    "sheet_negative": ("Негатив", "Negative"),
    "sheet_promo": ("Промокоды", "Promo codes"),
    "sheet_own": ("Свои каналы", "Own channels"),
    "sheet_corr": ("Корреляции", "Correlations"),
    "change": ("Изменение", "Change"),
    "change_pct": ("Изменение, %", "Change, %"),
    "before": ("{what}, до", "{what} before"),
    "share_pct": ("Доля, %", "Share, %"),
    "mention_share_pct": ("Доля упоминаний, %", "Mention share, %"),
    "net_tone_pct": ("Чистая тональность, %", "Net tone, %"),
    "articles_tone": ("Статьи: {tone}", "Articles {tone}"),
    "published": ("Опубликовано", "Published"),
    "title_col": ("Заголовок", "Title"),
    "url": ("Ссылка", "URL"),
    "snippet": ("Фрагмент", "Snippet"),
    "redemptions": ("Погашения", "Redemptions"),
    "amount": ("Сумма", "Amount"),
    "posts": ("Публикации", "Posts"),
    "views": ("Просмотры", "Views"),
    "forwards": ("Пересылки", "Forwards"),
    "avg_views": ("Просмотров на публикацию", "Average views per post"),
    "lag_days": ("Лаг, дней", "Lag, days"),
    "note": ("Примечание", "Note"),
    "formula_row": ("Формула", "Formula"),
    # outcome series (machine keys in JSON)
    "redemptions per day": ("погашения в день", "redemptions per day"),
    "redemption amount per day": ("сумма погашений в день", "redemption amount per day"),
}

TONES = ("positive", "neutral", "negative")


class Labels:
    """Report text and number formatting in one language."""

    def __init__(self, language: str = "ru") -> None:
        self.lang = "en" if language == "en" else "ru"

    def __call__(self, key: str, **values: Any) -> str:
        """The label `key`, with `values` filled in."""
        ru, en = LABELS[key]
        return (en if self.lang == "en" else ru).format(**values)

    def num(self, value: Any, digits: int = 0) -> str:
        """«1 234,56»: fixed decimals (two when a whole-number column gets a fraction); «—» for None."""
        if value is None:
            return "—"
        if isinstance(value, float) and digits == 0 and not value.is_integer():
            digits = 2
        text = number(abs(value), digits, self.lang, fixed=digits > 0)
        return ("−" if value < 0 and round(abs(value), digits) != 0 else "") + text

    def pct(self, value: float | None) -> str:
        """«+12 %» style percentage of a change."""
        if value is None:
            return "—"
        sign = "+" if value > 0 else ("±" if value == 0 else "−")
        return f"{sign}{self.num(round(abs(value)))}\u00a0%"

    def change(self, fig: dict[str, Any], digits: int = 0, pct_points: bool = False) -> str:
        """«+3, +50 %» against the previous period; percentage points for shares; «новое» from zero."""
        if fig.get("change") is None:
            return "—"
        sign = "+" if fig["change"] > 0 else ("±" if fig["change"] == 0 else "−")
        body = f"{sign}{self.num(abs(fig['change']), digits)}"
        if pct_points:
            return f"{body}\u00a0{self('pp')}"
        if fig.get("change_pct") is not None:
            body += f", {self.pct(fig['change_pct'])}"
        elif fig.get("previous") == 0 and fig["change"]:
            body += f", {self('new')}"
        return body

    def fig(self, fig: dict[str, Any], digits: int = 0, suffix: str = "", pct_points: bool = False) -> str:
        """«value suffix (change)»."""
        value = self.num(fig["value"], digits)
        if suffix and fig["value"] is not None:
            value += ("\u00a0" if suffix == "%" else "") + suffix
        return f"{value} ({self.change(fig, digits, pct_points)})"

    def tone(self, sentiment: str | None) -> str:
        """позитив / нейтрально / негатив."""
        return self(sentiment) if sentiment in TONES else "—"

    def day(self, value: str | date | None) -> str:
        """«16 ноября 2026» from an ISO date or date-time."""
        if not value:
            return "—"
        return day(_as_date(value), self.lang)

    def short_day(self, value: str | date) -> str:
        """«16 нояб.» for tables and chart axes."""
        return short_day(_as_date(value), self.lang)

    def span(self, first: str | None, last: str | None) -> str:
        """«16–22 ноября 2026», «30 ноября – 6 декабря 2026»."""
        if not first or not last:
            return ""
        a, b = _as_date(first), _as_date(last)
        if a == b:
            return self.day(a)
        if (a.year, a.month) == (b.year, b.month):
            return f"{a.day}–{self.day(b)}"
        if a.year == b.year:
            head = self.day(a).rsplit(" ", 1)[0]
            return f"{head} – {self.day(b)}"
        return f"{self.day(a)} – {self.day(b)}"

    def outcome(self, name: str) -> str:
        """An outcome series' name (survey metrics are shown as imported)."""
        return self(name) if name in LABELS else name

    def window(self, label: str | None) -> str:
        """«28 сентября – 22 ноября 2026» from a '56 days to 2026-11-22' or 'YYYY-MM-DD..YYYY-MM-DD' label."""
        match = re.fullmatch(r"(\d+) days to (\d{4}-\d\d-\d\d)", label or "")
        if match:
            last = date.fromisoformat(match.group(2))
            return self.span((last - timedelta(days=int(match.group(1)) - 1)).isoformat(), last.isoformat())
        if label and ".." in label:
            first, end = label.split("..", 1)
            return self.span(first, end)
        return label or "—"

    def period(self, label: str, first: str | None, last: str | None) -> str:
        """«16–22 ноября 2026 (неделя 2026-W47)»."""
        dates = self.span(first, last)
        name = self("week", label=label) if "-W" in label else label
        return f"{dates} ({name})" if dates else name


def _as_date(value: str | date) -> date:
    """A date from an ISO date or date-time string (its date part, as stored in local days)."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])
