"""Hostile sources against a real crawl: each bad source is bounded and counted, the good one still comes through.

Every test runs real servers on 127.0.0.1 (tests/crawler/hostile.py) and a real crawl (`crawler.run.crawl`).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from crawler.options import CrawlOptions
from crawler.run import CrawlStats, crawl
from crawler.sources import Source
from rezonans.model import Article, article_id

from .hostile import ARTICLE_TEXT, HTML, XML, BlackHole, Site, article_html, rss

OPTIONS = dict(timeout=2.0, extract_workers=1, retries=1)


def run(sources: list[dict], tmp_path: Path, **options) -> tuple[list[Article], CrawlStats]:
    """Crawl the sources into a list with fast options (plus overrides)."""
    out: list[Article] = []
    stats = crawl(
        [Source.model_validate(s) for s in sources],
        out.append,
        CrawlOptions.fast(**{**OPTIONS, **options}),
        state_path=tmp_path / "state.sqlite3",
    )
    return out, stats


def good_site(delay: float = 0.0) -> Site:
    """An ordinary outlet: a feed of three articles (each answered after `delay` seconds)."""
    routes: dict = {"/rss.xml": (200, XML, b"")}
    items = []
    for i in range(3):
        path = f"/a/good-{i}.html"
        answer = (200, HTML, article_html(f"Хорошая новость {i}", f"Новость номер {i}. " + ARTICLE_TEXT))
        routes[path] = (lambda _, a=answer: time.sleep(delay) or a) if delay else answer
        items.append((f"Хорошая новость {i}", path))
    site = Site(routes)
    site.routes["/rss.xml"] = (200, XML, rss([(t, site.url + p) for t, p in items]))
    return site


def good_urls(site: Site, articles: list[Article]) -> set[str]:
    """URLs of the good site's articles that came through."""
    return {a.url for a in articles if a.url.startswith(site.url)}


GOOD = "Хорошее издание"


def good_source(site: Site) -> dict:
    return {"name": GOOD, "type": "rss", "url": f"{site.url}/rss.xml"}


# ----- integrity ----------------------------------------------------------------------------------------------
def test_cross_site_canonical_keeps_each_page_its_own_document(tmp_path):
    with Site() as a, Site() as b:
        original = f"{a.url}/a/original.html"
        a.routes["/a/original.html"] = (
            200,
            HTML,
            article_html("Оригинал", "Исходный текст издания А. " + ARTICLE_TEXT),
        )
        a.routes["/a/print.html"] = (
            200,
            HTML,
            article_html("Оригинал", "Версия для печати. " + ARTICLE_TEXT, original),
        )
        a.routes["/rss.xml"] = (200, XML, rss([("Оригинал", original), ("Печать", f"{a.url}/a/print.html")]))
        b.routes["/a/fake.html"] = (
            200,
            HTML,
            article_html("Подделка", "Чужой текст сайта Б. " + ARTICLE_TEXT, original),
        )
        b.routes["/rss.xml"] = (200, XML, rss([("Подделка", f"{b.url}/a/fake.html")]))
        articles, stats = run(
            [
                {"name": "A", "type": "rss", "url": f"{a.url}/rss.xml"},
                {"name": "B", "type": "rss", "url": f"{b.url}/rss.xml"},
            ],
            tmp_path,
        )
    by_url = {x.url: x for x in articles}
    fake = by_url[f"{b.url}/a/fake.html"]
    assert fake.canonical_url == f"{b.url}/a/fake.html" and fake.links[0] == original  # a reprint link, not its id
    assert stats.sources["B"]["foreign_canonical"] == 1
    # the same-site canonical is trusted: the print version and the original are one document of site A
    [from_a] = [x for x in articles if x.source.name == "A"]
    assert from_a.id == article_id(original) != fake.id
    assert "издания А" in from_a.text or "Версия для печати" in from_a.text


def test_telegram_javascript_date_link_never_becomes_an_article_url(tmp_path):
    page = (
        '<html><head><meta charset="utf-8"></head><body>'
        '<div class="tgme_widget_message" data-post="chan/5"><div class="tgme_widget_message_text">Пост '
        '<a href="javascript:alert(1)">ссылка</a> <a href="https://example.ru/x">сайт</a></div>'
        '<a class="tgme_widget_message_date" href="javascript:alert(document.cookie)">'
        '<time datetime="2025-03-20T10:00:00+00:00">10:00</time></a></div></body></html>'
    ).encode()
    with Site({"/s/chan": (200, HTML, page)}) as tg:
        articles, stats = run([{"name": "T", "type": "telegram", "url": f"{tg.url}/s/chan"}], tmp_path)
    [post] = articles
    assert post.url == f"{tg.url}/chan/5"
    assert post.links == ["https://example.ru/x"]


# ----- bounds -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """512 MiB of an XML feed's padding compressed to about 0.5 MB, served as raw gzip without Content-Encoding."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [deflate.compress(b'<?xml version="1.0"?><rss><channel><item><title>')]
    chunk = b"A" * (1 << 20)
    parts += [deflate.compress(chunk) for _ in range(512)]
    parts.append(deflate.compress(b"</title></item></channel></rss>") + deflate.flush())
    return b"".join(parts)


def test_raw_gzip_bomb_is_bounded_and_counted(tmp_path, gzip_bomb):
    gz = {"Content-Type": "application/octet-stream"}
    encoded = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
    routes = {"/feed.xml.gz": (200, gz, gzip_bomb), "/sitemap.xml.gz": (200, gz, gzip_bomb)}
    routes["/encoded.xml"] = (200, encoded, gzip_bomb)  # the HTTP-level bomb: Scrapy's own limit
    with good_site() as good, Site(routes) as bomb:
        articles, stats = run(
            [
                good_source(good),
                {"name": "Bomb feed", "type": "rss", "url": f"{bomb.url}/feed.xml.gz"},
                {"name": "Bomb sitemap", "type": "sitemap", "url": f"{bomb.url}/sitemap.xml.gz"},
                {"name": "Bomb encoded", "type": "rss", "url": f"{bomb.url}/encoded.xml"},
            ],
            tmp_path,
            max_size=1_000_000,
        )
    assert stats.sources["Bomb feed"]["error_kinds"] == {"malformed feed": 1}
    assert stats.sources["Bomb sitemap"]["error_kinds"] == {"malformed sitemap": 1}
    assert stats.sources["Bomb encoded"]["error_kinds"] == {"too large": 1}
    assert stats.maxrss_kib < 400 * 1024, stats.maxrss_kib  # 512 MiB decompressed whole would pass this
    assert len(good_urls(good, articles)) == 3


def test_page_budget_link_cap_and_fair_spread(tmp_path):
    n = 3000
    big = Site()
    big.routes["/sitemap.xml"] = (
        200,
        XML,
        (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{big.url}/a/{i}.html</loc></url>" for i in range(n))
            + "</urlset>"
        ).encode(),
    )
    links = "".join(f'<a href="/a/l{i}.html">x</a>' for i in range(50_000))
    big.routes["/section/"] = (200, HTML, f"<html><body>{links}</body></html>".encode())
    page = (200, HTML, article_html("Страница", ARTICLE_TEXT))
    big.routes.update({f"/a/{i}.html": page for i in range(n)})
    with big, good_site() as good:
        articles, stats = run(
            [
                {"name": "Big sitemap", "type": "sitemap", "url": f"{big.url}/sitemap.xml", "budget": 40},
                {"name": "Many links", "type": "site", "url": f"{big.url}/section/"},
                good_source(good),
            ],
            tmp_path,
            source_budget=25,
            max_links=200,
            concurrency=2,
            per_domain=2,
        )
        good_hits = [n for n, path in good.order if path.startswith("/a/")]
        big_hits = sorted(n for n, path in big.order if path.startswith("/a/"))
    sitemap, section = stats.sources["Big sitemap"], stats.sources["Many links"]
    assert sitemap["pages"] == 40 and sitemap["over_budget"] == n - 40  # its own budget from the sources file
    assert big.article_hits("/a/") - big.article_hits("/a/l") == 40
    assert section["links_capped"] == 1 and section["pages"] + section["errors"] <= 25  # default budget, capped page
    assert big.article_hits("/a/l") <= 25
    assert len(good_urls(good, articles)) == 3 and len(good_hits) == 3
    assert max(good_hits) < big_hits[-1]


def test_work_is_spread_fairly_across_sources(tmp_path):
    big = Site()
    sitemap = "".join(f"<url><loc>{big.url}/a/{i}.html</loc></url>" for i in range(60))
    body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{sitemap}</urlset>'
    big.routes["/sitemap.xml"] = lambda _: time.sleep(0.2) or (200, XML, body.encode())  # arrives after the feed
    big.routes.update({f"/a/{i}.html": (200, HTML, article_html("Страница", ARTICLE_TEXT)) for i in range(60)})
    with big, good_site(delay=0.5) as good:  # the small source's articles are queued when the big one pushes 60
        articles, stats = run(
            [{"name": "Big", "type": "sitemap", "url": f"{big.url}/sitemap.xml"}, good_source(good)],
            tmp_path,
            concurrency=2,
            per_domain=2,
        )
        good_hits = [n for n, path in good.order if path.startswith("/a/")]
        big_hits = sorted(n for n, path in big.order if path.startswith("/a/"))
    assert len(good_urls(good, articles)) == 3 and stats.sources["Big"]["pages"] == 60
    # served in turn: the small source's last page comes among the first pages, not after the big source's 60
    assert max(good_hits) < big_hits[10], (good_hits, big_hits[:12])


def test_unreadable_robots_txt_means_disallow_for_now_and_the_articles_come_next_run(tmp_path):
    """RFC 9309: a robots.txt answered with 5xx is "disallow all", not "allow all"; nothing is lost, only delayed."""
    site = good_site()
    site.routes["/robots.txt"] = (503, HTML, b"busy")
    with site:
        articles, stats = run([good_source(site)], tmp_path)
        assert articles == []
        assert not any(path.startswith("/a/") for path in site.hits)  # not one page of the site was fetched
        assert site.hits["/robots.txt"] >= 1
        assert stats.sources[GOOD]["error_kinds"].get("robots.txt unreachable")
        site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
        articles, stats = run([good_source(site)], tmp_path)  # the feed is read in full again, not as a 304
        assert good_urls(site, articles) == {f"{site.url}/a/good-{i}.html" for i in range(3)}


def test_requests_that_wait_together_for_robots_txt_are_all_checked(tmp_path):
    """Scrapy hands the parsed robots.txt to the request that read it and the first that waited for it; the others
    get None and would go through. They are checked again here, so disallowed feeds read at the same moment as an
    allowed one are still refused."""
    site = good_site()
    robots = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
    site.routes["/robots.txt"] = lambda _: time.sleep(0.5) or robots  # every feed waits for it
    closed = [f"Закрытый {i}" for i in range(3)]
    sources = [good_source(site)]
    for i, name in enumerate(closed):
        site.routes[f"/private/rss{i}.xml"] = site.routes["/rss.xml"]
        sources.append({"name": name, "type": "rss", "url": f"{site.url}/private/rss{i}.xml"})
    with site:
        articles, stats = run(sources, tmp_path)
    assert not [path for path in site.hits if path.startswith("/private/")]
    assert [stats.sources[name]["robots"] for name in closed] == [1, 1, 1]
    assert len(good_urls(site, articles)) == 3


def test_dead_host_fails_fast_and_is_counted_once(tmp_path):
    with BlackHole() as dead, good_site() as good:
        articles, stats = run(
            [{"name": "Dead", "type": "rss", "url": f"{dead.url}/rss.xml"}, good_source(good)],
            tmp_path,
            timeout=1.0,
            retries=3,
            host_failures=2,
        )
        accepted = dead.accepted
    assert accepted == 2  # robots.txt twice, then the host is down: no retries, no feed request
    assert stats.sources["Dead"]["error_kinds"] == {"host down": 1}
    assert len(good_urls(good, articles)) == 3


# ----- counted failures ---------------------------------------------------------------------------------------
def _tg_post(post_id: str, text: str, views: str = "1.2K") -> str:
    return (
        f'<div class="tgme_widget_message" data-post="chan/{post_id}"><div class="tgme_widget_message_text">{text}</div>'
        f'<span class="tgme_widget_message_views">{views}</span>'
        f'<a class="tgme_widget_message_date" href="/chan/{post_id}"><time datetime="2025-03-20T10:00:00+00:00">'
        "</time></a></div>"
    )


def test_telegram_bad_ids_and_counters_are_counted_and_the_rest_kept(tmp_path):
    posts = [
        _tg_post("7", "Сбербанк снизил ставки по вкладам"),
        _tg_post(str(2**70), "Пост с невозможным номером"),
        _tg_post("8", "Пост с огромным счётчиком", views="9" * 5000),
        _tg_post("9", "ВТБ открыл новое отделение"),
    ]
    page = ("<html><head></head><body>" + "".join(posts) + "</body></html>").encode("cp1251")  # no <meta charset>
    headers = {"Content-Type": "text/html; charset=windows-1251"}
    with Site({"/s/chan": (200, headers, page)}) as tg, good_site() as good:
        articles, stats = run(
            [{"name": "T", "type": "telegram", "url": f"{tg.url}/s/chan"}, good_source(good)], tmp_path
        )
    assert stats.returncode == 0 and stats.finish_reason == "finished"
    texts = {a.text for a in articles if "/chan/" in a.url}
    # HTTP charset honoured; the post with the absurd counter is kept without it
    assert texts == {"Сбербанк снизил ставки по вкладам", "ВТБ открыл новое отделение", "Пост с огромным счётчиком"}
    assert {a.views for a in articles if "/chan/" in a.url} == {1200, None}
    assert stats.sources["T"]["error_kinds"] == {"bad telegram post": 1, "bad telegram counter": 1}
    assert len(good_urls(good, articles)) == 3


def test_redirect_loops_and_self_listing_sitemap_are_counted(tmp_path):
    with Site() as s, good_site() as good:
        s.routes["/loop-a"] = (302, {"Location": f"{s.url}/loop-b"}, b"")
        s.routes["/loop-b"] = (302, {"Location": f"{s.url}/loop-a"}, b"")
        s.routes.update({f"/hop{i}": (302, {"Location": f"{s.url}/hop{i + 1}"}, b"") for i in range(30)})  # a chain
        s.routes["/rss.xml"] = (200, XML, rss([("Петля", f"{s.url}/loop-a"), ("Цепочка", f"{s.url}/hop0")]))
        s.routes["/index.xml"] = (
            200,
            XML,
            (
                '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{s.url}/index.xml</loc></sitemap></sitemapindex>"
            ).encode(),
        )
        articles, stats = run(
            [
                {"name": "Loop", "type": "rss", "url": f"{s.url}/rss.xml"},
                {"name": "Self index", "type": "sitemap", "url": f"{s.url}/index.xml"},
                good_source(good),
            ],
            tmp_path,
            max_redirects=5,
        )
        hits = dict(s.hits)
    assert stats.sources["Loop"]["error_kinds"] == {"redirect loop": 1, "too many redirects": 1}
    assert sum(n for path, n in hits.items() if path.startswith("/hop")) == 6  # the first request and 5 redirects
    assert stats.sources["Self index"]["error_kinds"] == {"sitemap loop": 1}
    assert hits["/index.xml"] == 1 and hits["/loop-a"] == 1 and hits["/loop-b"] == 1
    assert len(good_urls(good, articles)) == 3


# ----- security -----------------------------------------------------------------------------------------------
def test_internal_addresses_and_other_schemes_are_refused(tmp_path):
    with Site() as inner, Site() as s, good_site() as good:
        inner.routes["/secret.html"] = (200, HTML, article_html("Внутренняя страница", ARTICLE_TEXT))
        s.routes["/to-inner"] = (302, {"Location": f"{inner.url}/secret.html"}, b"")
        s.routes["/to-metadata"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
        s.routes["/to-file"] = (302, {"Location": "file:///etc/passwd"}, b"")
        items = [
            ("redirect", f"{s.url}/to-inner"),
            ("metadata", f"{s.url}/to-metadata"),
            ("file", f"{s.url}/to-file"),
            ("inner", f"{inner.url}/secret.html"),
            ("es", "http://localhost:9200/_cat/indices"),
            ("ftp", "ftp://127.0.0.1/x"),
            ("js", "javascript:alert(1)"),
        ]
        s.routes["/rss.xml"] = (200, XML, rss(items))
        s.routes["/own.html"] = (200, HTML, article_html("Своя страница", ARTICLE_TEXT))
        s.routes["/rss2.xml"] = (200, XML, rss([("own", f"{s.url}/own.html")]))
        articles, stats = run(
            [{"name": "Evil", "type": "rss", "urls": [f"{s.url}/rss.xml", f"{s.url}/rss2.xml"]}, good_source(good)],
            tmp_path,
        )
        inner_hits = sum(inner.hits.values())
    kinds = stats.sources["Evil"]["error_kinds"]
    assert inner_hits == 0
    assert kinds == {"refused address": 4, "refused scheme": 3}, kinds
    assert [a.url for a in articles if a.url.startswith(s.url)] == [f"{s.url}/own.html"]  # its own host is allowed
    assert len(good_urls(good, articles)) == 3


def test_control_characters_and_terminal_escapes_are_stripped(tmp_path):
    evil = "Заголовок\x1b[2J\x1b]0;pwned\x07 со\x00 скрытым\x9b31m текстом\u202e"
    xml_evil = "Заголовок ленты\x9b31m\x85 с\u202e обманом"  # what XML 1.0 allows of it (C1 controls, bidi)
    full = f"<p>{xml_evil}</p><p>{ARTICLE_TEXT}</p>"
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:yandex="http://news.yandex.ru"><channel>'
        f"<item><title>{xml_evil}</title><link>URL/a/esc.html</link><yandex:full-text><![CDATA[{full}]]>"
        "</yandex:full-text></item></channel></rss>"
    )
    tg = f'<html><head><meta charset="utf-8"></head><body>{_tg_post("3", evil)}</body></html>'
    with Site() as s:
        s.routes["/rss.xml"] = (200, XML, feed.replace("URL", s.url).encode())
        s.routes["/a/page.html"] = (200, HTML, article_html(evil, evil + ". " + ARTICLE_TEXT))
        s.routes["/rss2.xml"] = (200, XML, rss([("x", f"{s.url}/a/page.html")]))
        s.routes["/s/chan"] = (200, HTML, tg.encode())
        articles, stats = run(
            [
                {"name": "Esc", "type": "rss", "urls": [f"{s.url}/rss.xml", f"{s.url}/rss2.xml"]},
                {"name": "Esc TG", "type": "telegram", "url": f"{s.url}/s/chan"},
            ],
            tmp_path,
        )
    assert len(articles) == 3, stats.sources
    for article in articles:
        for value in (article.title, article.text, article.lead):
            assert not any(ord(c) < 32 and c not in "\n\t" for c in value), repr(value)
            assert not any(0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in value), repr(value)
            assert "pwned" not in value and "[2J" not in value and "31m" not in value
        assert "Заголовок" in article.title


def test_gzip_sitemap_within_the_limit_still_works(tmp_path):
    with Site() as s:
        body = (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{s.url}/a/1.html</loc></url></urlset>"
        ).encode()
        s.routes["/sitemap.xml.gz"] = (200, {"Content-Type": "application/x-gzip"}, gzip.compress(body))
        s.routes["/a/1.html"] = (200, HTML, article_html("Из сжатой карты", ARTICLE_TEXT))
        articles, stats = run([{"name": "Gz", "type": "sitemap", "url": f"{s.url}/sitemap.xml.gz"}], tmp_path)
    assert [a.title for a in articles] == ["Из сжатой карты"] and stats.errors == 0


def _probe(own: list[str], *urls: str) -> dict[str, dict]:
    """Outcome per URL of a fetch without the address check before the request (`rebinding_probe`)."""
    probe = Path(__file__).with_name("rebinding_probe.py")
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, str(probe), json.dumps(own), *urls],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": root},
        check=True,
    )
    return {r["url"]: r for r in map(json.loads, done.stdout.splitlines())}


def test_a_host_name_rebound_to_an_internal_address_is_refused_when_connecting():
    # The address check before a request resolves the host once; Scrapy resolves it again to connect. Here that
    # first check is taken away (as if a first DNS answer had been public): the crawl's resolver still refuses the
    # internal answer the connection would use, unless the name is a source's own host.
    with Site({"/secret.html": (200, HTML, article_html("Внутренняя страница"))}) as inner:
        port = inner.server.server_address[1]
        by_name, by_ip = f"http://localhost:{port}/secret.html", f"{inner.url}/secret.html"
        foreign = _probe([], by_name, by_ip)
        assert inner.hits["/secret.html"] == 1  # only the IP literal (the request-time check's business)
        own = _probe([f"localhost:{port}"], by_name)
        assert inner.hits["/secret.html"] == 2
    assert foreign[by_name]["error"] == "refused address", foreign
    assert "localhost resolves to 127.0.0.1" in foreign[by_name]["message"]
    assert foreign[by_ip]["status"] == 200
    assert own[by_name]["status"] == 200
