"""Section pages, their pagination, tag and author pages never come out as articles, even with a lot of text."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.listing import judge
from crawler.options import CrawlOptions
from crawler.run import crawl
from crawler.sources import Source

from .hostile import HTML, Site

PARAGRAPHS = [
    "Крупнейшие банки страны пересмотрели условия по вкладам после решения регулятора о ключевой ставке.",
    "По словам аналитиков, снижение доходности затронет прежде всего короткие депозиты сроком до полугода.",
    "Представители банков объясняют изменения ситуацией на денежном рынке и ожиданиями участников.",
    "Клиенты, открывшие вклады ранее, сохранят прежние условия до окончания срока действия договора.",
    "Эксперты советуют не спешить с переводом сбережений и внимательно сравнивать предложения разных банков.",
]
SNIPPET = (
    "Подробный разбор новых условий: что изменится для клиентов, какие ставки предлагают банки и как "
    "выбрать вклад в условиях снижения доходности, — в материале нашего обозревателя."
)


def article(n: int, related: int = 5) -> bytes:
    """A news article with a byline, five paragraphs and a 'read also' block of links."""
    body = "".join(f"<p>{p} Материал номер {n}.</p>" for p in PARAGRAPHS)
    also = "".join(
        f'<li class="related"><a href="/news/{(n + k) % 12}.html">Читайте также: новость дня номер {(n + k) % 12}</a></li>'
        for k in range(1, related + 1)
    )
    return (
        f'<html><head><meta charset="utf-8"><title>Новость {n}</title></head><body>'
        f'<nav><a href="/news/">Новости</a> <a href="/tag/banki.html">Банки</a></nav>'
        f"<article><h1>Банки меняют ставки: новость {n}</h1>"
        f'<div class="byline"><a href="/author/ivanov.html">Иван Иванов</a>, 3 декабря 2026</div>{body}'
        f'<div class="tags"><a href="/tag/banki.html">банки</a> <a href="/tag/vklady.html">вклады</a></div></article>'
        f"<aside><ul>{also}</ul></aside></body></html>"
    ).encode()


def teasers(numbers: range, snippet: str = SNIPPET, tag: str = "div") -> str:
    """Teaser blocks: headline link plus a long snippet each."""
    return "".join(
        f'<{tag} class="card"><h2><a href="/news/{n}.html">Банки меняют ставки: новость {n}</a></h2>'
        f"<p>{snippet}</p><span>3 декабря 2026</span></{tag}>"
        for n in numbers
    )


def page(title: str, intro: str, blocks: str, paging: str = "") -> bytes:
    """A listing page: heading, an intro paragraph, teaser blocks, pagination."""
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1>'
        f'<p class="intro">{intro}</p><section class="list">{blocks}</section>'
        f'<div class="pages">{paging}</div></body></html>'
    ).encode()


PAGING = '<a href="/news/page2.html">2</a> <a href="/news/?page=3">3</a>'
BIO = " ".join(PARAGRAPHS) + " " + " ".join(PARAGRAPHS[:3])  # an author page with a long biography


def routes() -> dict:
    r = {f"/news/{n}.html": (200, HTML, article(n, related=5 if n % 2 else 6)) for n in range(12)}
    r["/news/"] = (200, HTML, page("Новости", "Главные новости дня.", teasers(range(0, 6)), PAGING))
    r["/news/page2.html"] = (200, HTML, page("Новости — страница 2", "Архив.", teasers(range(6, 10)) * 2, PAGING))
    r["/news/?page=3"] = (200, HTML, page("Новости — страница 3", "Архив.", teasers(range(10, 12)) * 3, PAGING))
    r["/tag/banki.html"] = (200, HTML, page("Тег: банки", " ".join(PARAGRAPHS[:2]), teasers(range(12), tag="li")))
    r["/tag/vklady.html"] = (200, HTML, page("Тег: вклады", "Всё о вкладах.", teasers(range(0, 12, 2))))
    r["/author/ivanov.html"] = (200, HTML, page("Иван Иванов", BIO, teasers(range(1, 12, 2))))
    return r


LISTINGS = ["/news/", "/news/page2.html", "/news/?page=3", "/tag/banki.html", "/tag/vklady.html", "/author/ivanov.html"]


@pytest.mark.unit
@pytest.mark.parametrize("path", LISTINGS)
def test_listing_pages_are_told_by_structure(path):
    body = routes()[path][2].decode()
    verdict = judge(body, "http://127.0.0.1:1" + path)
    assert verdict.listing, verdict
    assert len(body) > 2000  # they carry a lot of text


@pytest.mark.unit
@pytest.mark.parametrize("n", [0, 1, 7])
def test_articles_with_related_links_stay_articles(n):
    verdict = judge(article(n).decode(), f"http://127.0.0.1:1/news/{n}.html")
    assert not verdict.listing, verdict
    assert verdict.running_chars > 400


def test_site_crawl_emits_only_the_articles(tmp_path: Path):
    with Site(routes()) as site:
        out: list = []
        stats = crawl(
            [Source(name="Листинги", type="site", url=f"{site.url}/news/", depth=2)],
            out.append,
            CrawlOptions.fast(timeout=3.0, extract_workers=1, retries=0),
            state_path=tmp_path / "state.sqlite3",
        )
        emitted = sorted(a.url.removeprefix(site.url) for a in out)
        assert emitted == sorted(f"/news/{n}.html" for n in range(12))
        # /news/?page=3 is the start page's own paging: read as a listing, never offered as an article
        assert site.hits["/news/?page=3"] == 1
        candidates = [p for p in LISTINGS if p.endswith(".html") and site.hits[p]]
    assert len(candidates) == 4, "the crawl did not reach the tag, author and page-2 listings: nothing was tested"
    assert stats.sources["Листинги"]["listing_pages"] == len(candidates)
