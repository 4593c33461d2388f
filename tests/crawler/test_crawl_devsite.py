"""Crawl the loopback dev site for real (Scrapy over HTTP) and check what comes out."""

from __future__ import annotations

from datetime import timedelta

from crawler.devsite.site import LEGACY_ENCODINGS
from crawler.options import CrawlOptions
from crawler.run import crawl
from rezonans.model import canonicalize_url

from .conftest import NOW, TEST_OPTIONS


def by_url(run):
    """Crawled articles keyed by canonical URL."""
    return {canonicalize_url(a.canonical_url): a for a in run.articles}


def expected(run, article):
    """Canonical URL of a dev-site article as served by the test server."""
    return canonicalize_url(run.server.url + article.path)


def test_every_public_article_and_post_is_found_once(first_run):
    got = by_url(first_run)
    assert len(got) == len(first_run.articles), "an article was emitted twice"
    wanted = {expected(first_run, a) for a in first_run.site.public_articles()}
    assert wanted <= set(got)
    posts = [a for a in first_run.articles if a.source.type == "telegram"]
    assert len(posts) == len(first_run.site.posts)
    assert first_run.stats.articles == len(first_run.articles)


def test_titles_text_dates_and_no_boilerplate(first_run):
    got = by_url(first_run)
    for article in first_run.site.public_articles():
        crawled = got[expected(first_run, article)]
        assert crawled.title == article.title
        # every paragraph is there, sidebars and reader comments are not
        for paragraph in article.paragraphs:
            assert paragraph in crawled.text
        for comment in article.comments:
            assert comment not in crawled.text
        assert "Самое читаемое" not in crawled.text and "Все права защищены" not in crawled.text
        assert crawled.published_at is not None and crawled.published_at.tzinfo is not None
        assert crawled.language == "ru"
        assert crawled.source.type in ("rss", "sitemap", "site")
        if article.outlet.layout in ("classic", "modern", "portal") and article.outlet.feed != "sitemap":
            assert crawled.published_at == article.published


def test_legacy_encodings_decoded(first_run):
    got = by_url(first_run)
    legacy = [a for a in first_run.site.public_articles() if a.outlet.layout == "legacy"]
    kinds = {a.encoding for a in legacy}
    assert kinds == set(LEGACY_ENCODINGS), "the test site must hold every encoding case"
    for article in legacy:
        crawled = got[expected(first_run, article)]
        assert crawled.title == article.title, article.encoding
        assert article.paragraphs[0] in crawled.text
        assert crawled.published_at.date() == article.published.date()


def test_canonical_url_drops_feed_tracking(first_run):
    vestnik = [a for a in first_run.articles if a.source.name == "Деловой вестник"]
    assert vestnik
    for article in vestnik:
        assert "utm_" in article.url
        assert "utm_" not in article.canonical_url


def test_robots_forbidden_section_absent(first_run):
    assert not [a for a in first_run.articles if "/private/" in a.url]
    assert first_run.server.hits.get("/robots.txt", 0) >= 1
    assert not [p for p in first_run.server.hits if p.startswith("/private/")]
    assert first_run.stats.sources["Старая газета"]["robots"] == 3


def test_failures_counted_per_source_and_crawl_goes_on(first_run):
    legacy = first_run.stats.sources["Старая газета"]
    kinds = legacy["error_kinds"]
    assert kinds.get("http 404") == 1
    assert any("Timeout" in k for k in kinds), kinds
    assert any("Cancelled" in k or "Size" in k for k in kinds), kinds
    assert first_run.stats.sources["Сломанная лента"]["error_kinds"] == {"malformed feed": 1}
    assert first_run.stats.sources["Деловой вестник"]["error_kinds"] == {"http 404": 1}
    assert legacy["articles"] == len([a for a in first_run.site.public_articles() if a.outlet.slug == "starye"])


def test_telegram_views_forwards_paging(first_run):
    posts = {int(a.url.rsplit("/", 1)[1]): a for a in first_run.articles if a.source.type == "telegram"}
    assert sorted(posts) == [p.id for p in first_run.site.posts]  # 45 posts over three pages
    assert any(k.startswith("/s/") for k in first_run.server.hits)
    for post in first_run.site.posts:
        crawled = posts[post.id]
        assert crawled.views is not None and abs(crawled.views - post.views) <= max(post.views * 0.05, 1)
        assert crawled.forwards is not None and abs(crawled.forwards - post.forwards) <= max(post.forwards * 0.05, 1)
        assert crawled.published_at == post.published
        assert post.text.split(" ")[0] in crawled.text
        assert len(crawled.links) == len(post.links)
    assert first_run.stats.sources["Финпульс"]["listings"] == 3


def test_yandex_full_text_without_page_fetch(first_run):
    lenta = [a for a in first_run.site.public_articles() if a.outlet.slug == "lenta"]
    assert lenta
    got = by_url(first_run)
    for article in lenta:
        assert first_run.server.hits.get(article.path, 0) == 0, "full-text article page was fetched"
        crawled = got[expected(first_run, article)]
        assert crawled.text == article.text
        assert crawled.published_at == article.published
        assert crawled.author == article.author


def test_news_sitemap_dates_and_titles(first_run):
    got = by_url(first_run)
    fresh = [a for a in first_run.site.outlet_articles("novosti") if a.published >= NOW - timedelta(days=2)]
    assert fresh
    for article in first_run.site.outlet_articles("novosti"):
        crawled = got[expected(first_run, article)]
        # the pages carry no machine-readable date: the sitemap's date (with time and zone) is used
        assert crawled.published_at == article.published
        assert crawled.title == article.title


def test_second_run_emits_nothing_and_uses_conditional_requests(first_run):
    again: list = []
    stats = crawl(first_run.sources, again.append, CrawlOptions.fast(**TEST_OPTIONS), state_path=first_run.state_path)
    assert again == []
    not_modified = sum(s["not_modified"] for s in stats.sources.values())
    assert not_modified >= 4  # feeds, sitemap index and Telegram answered 304
    assert first_run.server.not_modified.get("/vestnik/rss.xml", 0) >= 1


def test_since_skips_older_items(served, tmp_path):
    site, server = served
    from crawler.sources import parse_sources

    since = NOW - timedelta(days=3)
    out: list = []
    crawl(
        parse_sources(site.sources_yaml(server.url)),
        out.append,
        CrawlOptions.fast(**TEST_OPTIONS),
        state_path=tmp_path / "s.sqlite3",
        since=since,
    )
    assert out
    assert all(a.published_at >= since for a in out)
    recent = [a for a in site.public_articles() if a.published >= since and a.outlet.slug != "starye"]
    got = {canonicalize_url(a.canonical_url) for a in out}
    assert {canonicalize_url(server.url + a.path) for a in recent} <= got
