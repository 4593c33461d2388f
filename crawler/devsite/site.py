"""A deterministic, parameterisable Russian news site: outlets, articles, feeds, sitemaps, Telegram preview, traps."""

from __future__ import annotations

import hashlib
import html
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import parse_qs

from crawler.devsite import templates
from crawler.devsite.text import (
    COMMENTS,
    FILLER,
    HOMONYMS,
    NEGATIVE,
    NEUTRAL,
    PEOPLE,
    POSITIVE,
    PROMO,
    TITLE_NEGATIVE,
    TITLE_NEUTRAL,
    TITLE_PLAIN,
    TITLE_POSITIVE,
    BrandForms,
    fill,
    inflect,
)

MSK = timezone(timedelta(hours=3))
DEFAULT_BRANDS = ["Сбербанк/Сбер", "ВТБ", "Т-Банк", "Альфа-Банк", "Магнит", "Пятёрочка", "МегаФон", "Билайн"]


@dataclass(frozen=True)
class Outlet:
    """One outlet of the dev site (a path prefix with its own layout, feed kind and encoding)."""

    slug: str
    name: str
    layout: str
    feed: str  # rss | atom | yandex | sitemap | site
    share: float


OUTLETS = [
    Outlet("vestnik", "Деловой вестник", "classic", "rss", 0.26),
    Outlet("pulse", "Финансовый пульс", "modern", "atom", 0.22),
    Outlet("lenta", "Регион-Лента", "portal", "yandex", 0.18),
    Outlet("novosti", "Новости24", "classic", "sitemap", 0.20),
    Outlet("starye", "Старая газета", "legacy", "site", 0.14),
]
SECTIONS = {"ekonomika": "Экономика", "finansy": "Финансы", "biznes": "Бизнес", "region": "Регион"}
# Encodings used by the legacy outlet, by article number: how the charset is (or is not) declared.
LEGACY_ENCODINGS = [("cp1251", "meta"), ("cp1251", "header"), ("cp1251", "none"), ("koi8-r", "header")]


@dataclass
class DevArticle:
    """One generated article and what it contains (ground truth for tests and the demo)."""

    num: int
    outlet: Outlet
    section: str
    slug: str
    title: str
    paragraphs: list[str]
    author: str
    published: datetime
    brands: dict[str, str] = field(default_factory=dict)  # brand -> intended tone
    promo_codes: list[str] = field(default_factory=list)
    homonyms: list[str] = field(default_factory=list)
    reprint_of: int | None = None
    comments: list[str] = field(default_factory=list)
    private: bool = False
    enc_index: int = 0

    @property
    def path(self) -> str:
        """URL path of the article page."""
        if self.private:
            return f"/private/{self.section}/{self.slug}.html"
        return f"/{self.outlet.slug}/{self.section}/{self.slug}.html"

    @property
    def lead(self) -> str:
        """First paragraph."""
        return self.paragraphs[0]

    @property
    def text(self) -> str:
        """Body text, one paragraph a line."""
        return "\n".join(self.paragraphs)

    @property
    def encoding(self) -> tuple[str, str]:
        """(codec, how declared) of the page."""
        if self.outlet.layout == "legacy":
            return LEGACY_ENCODINGS[self.enc_index % len(LEGACY_ENCODINGS)]
        return ("utf-8", "header")


@dataclass
class TelegramPost:
    """One post of the dev Telegram channel."""

    id: int
    text: str
    published: datetime
    views: int
    forwards: int
    links: list[str]


def compact_count(value: int) -> str:
    """Telegram-style counts: 950, 1.2K, 3.4M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 1000:
        return f"{value / 1000:.1f}K".replace(".0K", "K")
    return str(value)


class DevSite:
    """The whole site, generated up front from a seed; `respond(path, query)` renders any page."""

    def __init__(
        self,
        articles: int = 120,
        seed: int = 1,
        now: datetime | None = None,
        days: int = 14,
        brands: list[str] | None = None,
        telegram_posts: int = 45,
        crawl_delay: float = 0.0,
        slow_seconds: float = 3.0,
        huge_bytes: int = 9_000_000,
        reprint_share: float = 0.08,
        private_articles: int = 3,
        channel: str = "finpulse",
        page_size: int = 20,
    ) -> None:
        self.seed = seed
        self.now = (now or datetime.now(MSK)).astimezone(MSK).replace(microsecond=0)
        self.days = days
        self.crawl_delay = crawl_delay
        self.slow_seconds = slow_seconds
        self.huge_bytes = huge_bytes
        self.channel = channel
        self.page_size = page_size
        self.brand_variants = [b.split("/") for b in (brands if brands is not None else DEFAULT_BRANDS)]
        self.rng = random.Random(seed)
        self.articles: list[DevArticle] = []
        self._generate(articles, reprint_share, private_articles)
        self.by_path = {a.path: a for a in self.articles}
        self.posts = self._telegram(telegram_posts)

    # ----- generation -------------------------------------------------------------------------
    def _brand_paragraphs(self, rng: random.Random, forms: BrandForms, tone: str) -> list[str]:
        """Two or three sentences about a brand in the wanted tone."""
        bank = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}[tone]
        return [fill(t, rng, **forms.slots()) for t in rng.sample(bank, 2)] + [
            fill(rng.choice(NEUTRAL), rng, **forms.slots())
        ]

    def _paragraph(self, rng: random.Random, extra: list[str] | None = None) -> str:
        """A paragraph of two to four filler sentences, with extra sentences mixed in."""
        sentences = [fill(t, rng) for t in rng.sample(FILLER, rng.randint(2, 4))]
        for sentence in extra or []:
            sentences.insert(rng.randint(0, len(sentences)), sentence)
        return " ".join(sentences)

    def _generate(self, count: int, reprint_share: float, private: int) -> None:
        """Make `count` articles spread over outlets and over the date range, some of them reprints."""
        rng = self.rng
        span = self.days * 86400
        weights = [o.share for o in OUTLETS]
        for num in range(count):
            outlet = rng.choices(OUTLETS, weights)[0]
            published = self.now - timedelta(seconds=rng.randint(600, span))
            if num < 6:  # a few fresh ones so that the Google news sitemap (last two days) is never empty
                outlet = OUTLETS[3] if num % 2 == 0 else outlet
                published = self.now - timedelta(minutes=30 + 173 * num)
            section = rng.choice(list(SECTIONS))
            if self.articles and rng.random() < reprint_share:
                self.articles.append(self._reprint(num, rng, outlet, published))
                continue
            article = self._original(num, rng, outlet, section, published)
            self.articles.append(article)
        legacy = OUTLETS[4]
        for index, article in enumerate(a for a in self.articles if a.outlet is legacy):
            article.enc_index = index
        for k in range(private):
            article = self._original(count + k, rng, legacy, "region", self.now - timedelta(hours=5 + k))
            article.private = True
            self.articles.append(article)

    def _original(self, num: int, rng: random.Random, outlet: Outlet, section: str, published: datetime) -> DevArticle:
        """A new article, about zero to two brands."""
        brands: dict[str, str] = {}
        promo: list[str] = []
        homonyms: list[str] = []
        extras: list[list[str]] = []
        n_brands = rng.choices([0, 1, 2], [0.35, 0.45, 0.2])[0] if self.brand_variants else 0
        chosen = rng.sample(self.brand_variants, min(n_brands, len(self.brand_variants)))
        title = ""
        for i, variants in enumerate(chosen):
            forms = inflect(rng.choice(variants))
            tone = rng.choices(["positive", "negative", "neutral"], [0.3, 0.3, 0.4])[0]
            brands[variants[0]] = tone
            extras.append(self._brand_paragraphs(rng, forms, tone))
            if i == 0:
                bank = {"positive": TITLE_POSITIVE, "negative": TITLE_NEGATIVE, "neutral": TITLE_NEUTRAL}[tone]
                title = fill(rng.choice(bank), rng, **forms.slots())
            if rng.random() < 0.12:
                code = f"{forms.code_stem}{rng.randint(10, 99)}"
                promo.append(code)
                extras.append([fill(rng.choice(PROMO), rng, code=code, **forms.slots())])
        for variants in self.brand_variants:
            word = variants[0].lower()
            if HOMONYMS.get(word) and rng.random() < 0.05:
                homonyms.append(variants[0])
                extras.append([fill(rng.choice(HOMONYMS[word]), rng)])
        if not title:
            title = fill(rng.choice(TITLE_PLAIN), rng)
        paragraphs = [self._paragraph(rng) for _ in range(rng.randint(5, 9))]
        for extra in extras:
            paragraphs[rng.randint(0, len(paragraphs) - 1)] += " " + " ".join(extra)
        slug = f"{num + 1000}-{hashlib.sha1(f'{self.seed}-{num}'.encode()).hexdigest()[:8]}"
        comments = rng.sample(COMMENTS, 2)
        return DevArticle(
            num,
            outlet,
            section,
            slug,
            title,
            paragraphs,
            rng.choice(PEOPLE),
            published,
            brands,
            promo,
            homonyms,
            None,
            comments,
        )

    def _reprint(self, num: int, rng: random.Random, outlet: Outlet, published: datetime) -> DevArticle:
        """The same story republished by another outlet, a few hours later, lightly edited."""
        source = rng.choice([a for a in self.articles[-200:] if a.reprint_of is None and not a.private])
        other = [o for o in OUTLETS if o is not source.outlet]
        outlet = rng.choice(other)
        paragraphs = list(source.paragraphs)
        paragraphs[0] = f"Как сообщает «{source.outlet.name}», " + paragraphs[0][0].lower() + paragraphs[0][1:]
        if len(paragraphs) > 4:
            paragraphs.pop(rng.randint(2, len(paragraphs) - 1))
        paragraphs[-1] += f" Редакция «{outlet.name}» следит за развитием событий. " + fill(rng.choice(FILLER), rng)
        when = min(source.published + timedelta(hours=rng.randint(1, 20)), self.now - timedelta(minutes=5))
        slug = f"{num + 1000}-{hashlib.sha1(f'{self.seed}-{num}'.encode()).hexdigest()[:8]}"
        return DevArticle(
            num,
            outlet,
            source.section,
            slug,
            source.title + ": подробности",
            paragraphs,
            rng.choice(PEOPLE),
            when,
            dict(source.brands),
            list(source.promo_codes),
            list(source.homonyms),
            source.num,
            rng.sample(COMMENTS, 2),
        )

    def _telegram(self, count: int) -> list[TelegramPost]:
        """Posts of the dev Telegram channel, oldest first, ids 1..count."""
        rng = random.Random(self.seed * 7919 + 1)
        posts = []
        span = self.days * 86400
        times = sorted(self.now - timedelta(seconds=rng.randint(300, span)) for _ in range(count))
        linked = [a for a in self.articles if not a.private]
        for i, when in enumerate(times, 1):
            forms = inflect(rng.choice(rng.choice(self.brand_variants))) if self.brand_variants else None
            sentences = [fill(rng.choice(FILLER), rng)]
            if forms:
                tone = rng.choice([POSITIVE, NEGATIVE, NEUTRAL])
                sentences.insert(0, fill(rng.choice(tone), rng, **forms.slots()))
            links = []
            if linked and rng.random() < 0.5:
                links.append(rng.choice(linked).path)
            views = rng.choice([rng.randint(100, 999), rng.randint(1000, 99_000), rng.randint(100_000, 2_500_000)])
            posts.append(TelegramPost(i, " ".join(sentences), when, views, rng.randint(0, max(1, views // 50)), links))
        return posts

    # ----- queries ---------------------------------------------------------------------------
    def outlet_articles(self, slug: str) -> list[DevArticle]:
        """Public articles of an outlet, newest first."""
        found = [a for a in self.articles if a.outlet.slug == slug and not a.private]
        return sorted(found, key=lambda a: a.published, reverse=True)

    def public_articles(self) -> list[DevArticle]:
        """Every article a polite crawler of the site's sources should find (private ones excluded)."""
        return [a for a in self.articles if not a.private]

    def sources_yaml(self, base: str) -> str:
        """A sources file that crawls every part of this site."""
        base = base.rstrip("/")
        return "\n".join(
            [
                "sources:",
                f"  - {{name: Деловой вестник, type: rss, url: '{base}/vestnik/rss.xml', weight: 1.0, tags: [federal, business]}}",
                f"  - {{name: Финансовый пульс, type: rss, url: '{base}/pulse/atom.xml', weight: 0.8, tags: [business]}}",
                f"  - {{name: Регион-Лента, type: rss, url: '{base}/lenta/yandex.xml', weight: 0.6, tags: [regional]}}",
                f"  - {{name: Новости24, type: sitemap, url: '{base}/sitemap.xml', weight: 0.9, tags: [federal]}}",
                f"  - {{name: Старая газета, type: site, url: '{base}/starye/', weight: 0.5, tags: [regional], depth: 1}}",
                f"  - {{name: Финпульс, type: telegram, url: '{base}/s/{self.channel}', weight: 0.7, tags: [telegram]}}",
                f"  - {{name: Сломанная лента, type: rss, url: '{base}/broken/rss.xml', weight: 0.3}}",
                "",
            ]
        )

    # ----- rendering -------------------------------------------------------------------------
    def respond(self, path: str, query: str, base: str) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a request path; unknown paths are 404."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        xml = {"Content-Type": "application/xml; charset=utf-8"}
        page = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/robots.txt":
            lines = ["User-agent: *", "Disallow: /private/"]
            if self.crawl_delay:
                lines.append(f"Crawl-delay: {self.crawl_delay:g}")
            lines.append(f"Sitemap: {base}/sitemap.xml")
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, ("\n".join(lines) + "\n").encode()
        if path in ("/", "/index.html"):
            return 200, page, templates.home(self, base).encode()
        if path == "/vestnik/rss.xml":
            return 200, xml, templates.rss(self, base, self.outlet_articles("vestnik"), OUTLETS[0]).encode()
        if path == "/pulse/atom.xml":
            return (
                200,
                {"Content-Type": "application/atom+xml; charset=utf-8"},
                templates.atom(self, base, self.outlet_articles("pulse"), OUTLETS[1]).encode(),
            )
        if path == "/lenta/yandex.xml":
            return 200, xml, templates.yandex(self, base, self.outlet_articles("lenta"), OUTLETS[2]).encode()
        if path == "/sitemap.xml":
            return 200, xml, templates.sitemap_index(self, base).encode()
        if path == "/novosti/sitemap-news.xml":
            fresh = [a for a in self.outlet_articles("novosti") if a.published >= self.now - timedelta(days=2)]
            return 200, xml, templates.news_sitemap(self, base, fresh).encode()
        if path == "/novosti/sitemap-archive.xml":
            return 200, xml, templates.url_sitemap(self, base, self.outlet_articles("novosti")).encode()
        if path == "/broken/rss.xml":
            return 200, xml, templates.BROKEN_FEED.encode()
        if path == f"/s/{self.channel}":
            before = int(params["before"]) if params.get("before", "").isdigit() else None
            return 200, page, templates.telegram(self, base, before).encode()
        if path.rstrip("/") == "/starye" or path.startswith("/starye/page/"):
            number = int(params.get("page", "1")) if params.get("page", "1").isdigit() else 1
            body = templates.legacy_section(self, base, number)
            return 200, {"Content-Type": "text/html; charset=windows-1251"}, body.encode("cp1251", "replace")
        if path == "/starye/huge.html":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, templates.huge(self.huge_bytes)
        if path.startswith("/slow/"):
            return 200, page, templates.simple_page("Медленная страница", "Эта страница отвечает очень долго.").encode()
        article = self.by_path.get(path)
        if article is None:
            return 404, page, templates.simple_page("Страница не найдена", "Ошибка 404: такой страницы нет.").encode()
        body = templates.article(self, base, article)
        codec, declared = article.encoding
        headers = {"Content-Type": "text/html" + (f"; charset={codec}" if declared == "header" else "")}
        return 200, headers, body.encode(codec, "replace")

    def http_date(self) -> str:
        """The site's 'now' as an HTTP date (Last-Modified of feeds)."""
        return format_datetime(self.now.astimezone(UTC), usegmt=True)


def esc(value: str) -> str:
    """HTML/XML escape."""
    return html.escape(value, quote=True)
