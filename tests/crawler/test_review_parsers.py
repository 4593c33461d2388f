"""Review parsing: schema.org JSON-LD and microdata, plain review cards, ratings normalised to 1–5."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.reviews import normalise, parse_review_page

from .boards import Boards

pytestmark = pytest.mark.unit
BASE = "http://otzyvy.example.ru"
MSK = timezone(timedelta(hours=3))


@pytest.mark.parametrize(
    ("value", "best", "worst", "expected"),
    [
        (5, 5, 1, 5.0),
        (1, 5, 1, 1.0),
        (3, None, None, 3.0),
        (10, 10, 1, 5.0),
        (1, 10, 1, 1.0),
        (7, 10, 0, 3.8),
        (8, None, None, 4.2),
        (80, 100, 0, 4.2),
        (6, 5, 1, None),
        (None, 5, 1, None),
        (3, 1, 5, None),
    ],
)
def test_normalise(value, best, worst, expected) -> None:
    assert normalise(value, best, worst) == expected


def _page(boards: Boards, path: str):
    route, _, query = path.partition("?")
    status, content_type, body = boards.respond(route, query)
    assert status == 200
    return parse_review_page(body, BASE + path, content_type, now=boards.now)


def test_json_ld_reviews_and_aggregate() -> None:
    boards = Boards()
    page = _page(boards, "/otzovik/product/1")
    assert page.markup == "json-ld" and page.product == "Дебетовая карта Сбербанка"
    assert page.next_url == BASE + "/otzovik/product/1?page=2"
    want = boards.reviews["ld"][:3]
    assert [r.url for r in page.reviews] == [boards.review_url(BASE, "ld", r) for r in want]
    assert [r.rating for r in page.reviews] == [float(r.rating) for r in want]
    assert [r.best for r in page.reviews] == [10.0] * 3
    assert [r.score for r in page.reviews] == [normalise(r.rating, 10, 1) for r in want]
    assert [r.published for r in page.reviews] == [r.when for r in want]
    assert [r.text for r in page.reviews] == [r.text for r in want]
    assert [r.title for r in page.reviews] == [r.title for r in want]
    assert {r.product for r in page.reviews} == {"Дебетовая карта Сбербанка"}
    assert page.aggregate is not None and page.aggregate.best == 10 and page.count == 7
    # the broken JSON-LD block beside the good one is skipped, not fatal


def test_review_cards_with_stars_in_cp1251() -> None:
    boards = Boards()
    page = _page(boards, "/cards/bank/7")
    assert page.markup == "cards" and page.product == "Кредитная карта Т-Банка"
    want = boards.reviews["cards"][:3]
    assert [r.url for r in page.reviews] == [boards.review_url(BASE, "cards", r) for r in want]
    assert [r.rating for r in page.reviews] == [float(r.rating) for r in want]
    assert [r.score for r in page.reviews] == [float(r.rating) for r in want]
    assert [r.published for r in page.reviews] == [r.when.replace(second=0) for r in want]
    assert [r.title for r in page.reviews] == [r.title for r in want]
    for got, review in zip(page.reviews, want, strict=True):
        assert got.text.startswith(review.text)
        assert ("Достоинства: " + review.pros in got.text) == bool(review.pros)
        assert ("Недостатки: " + review.cons in got.text) == bool(review.cons)


def test_wrongly_declared_charset_is_detected(caplog) -> None:
    boards = Boards()
    page = _page(boards, "/cards/bank/7?page=2")  # header says UTF-8, the bytes are windows-1251
    assert [r.text.split("\n")[0] for r in page.reviews] == [r.text for r in boards.reviews["cards"][3:6]]
    assert "declared charset utf-8 (header) is wrong" in caplog.text
    # the permalink does not carry the page number: a review pushed to page 3 keeps its id
    assert page.reviews[0].url == boards.review_url(BASE, "cards", boards.reviews["cards"][3])


MICRODATA = """<html><head><meta charset="utf-8"></head><body>
<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Вклад «Лучший %» ВТБ</h1>
 <div itemprop="review" itemscope itemtype="https://schema.org/Review">
  <a itemprop="url" href="/review/77">Открыть</a><span itemprop="name">Ставка не та</span>
  <span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">Анна</span></span>
  <meta itemprop="datePublished" content="2026-11-30">
  <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
   <meta itemprop="worstRating" content="0"><span itemprop="ratingValue">2</span> из <span itemprop="bestRating">10</span></div>
  <div itemprop="reviewBody">Обещали одну ставку, <b>начислили</b> другую.</div>
 </div></div></body></html>"""


def test_microdata_reviews() -> None:
    page = parse_review_page(MICRODATA.encode(), BASE + "/product/vtb", now=datetime(2026, 12, 3, tzinfo=UTC))
    assert page.markup == "microdata"
    (review,) = page.reviews
    assert review.url == BASE + "/review/77" and review.product == "Вклад «Лучший %» ВТБ"
    assert review.rating == 2 and review.best == 10 and review.worst == 0 and review.score == 1.8
    assert review.text == "Обещали одну ставку, начислили другую." and review.title == "Ставка не та"
    assert review.published == datetime(2026, 11, 30, tzinfo=MSK)
    assert review.author == "Анна"


@pytest.mark.parametrize(
    ("rating_html", "value", "best"),
    [
        ('<span class="rating" data-rating="4"></span>', 4.0, None),
        ('<span class="rating">Оценка: 4 из 5</span>', 4.0, 5.0),
        ('<span class="stars" title="3/5"></span>', 3.0, 5.0),
        ('<div class="stars"><div class="stars-fill" style="width: 60%"></div></div>', 3.0, 5.0),
        ('<span class="rating">★★★★☆</span>', 4.0, 5.0),
    ],
)
def test_card_rating_forms(rating_html: str, value: float, best: float | None) -> None:
    html = f"""<html><body><h1>Банк</h1><div class="review-list">
      <div class="review">{rating_html}<p class="review-text">Нормальный банк, но очереди большие.</p></div>
      <div class="review"><p class="review-text">Второй отзыв без оценки, зато длинный.</p></div></div></body></html>"""
    page = parse_review_page(html.encode(), BASE + "/bank")
    assert len(page.reviews) == 2
    assert (page.reviews[0].rating, page.reviews[0].best) == (value, best)
    assert page.reviews[1].rating is None


def test_a_single_card_and_a_wrapper_of_cards() -> None:
    one = """<html><body><h1>Банк</h1><div class="reviews-list"><div class="review-card" id="r1">
      <div class="review-head"><span class="review-date">3 декабря 2026</span><span class="rating" data-rating="2"></span></div>
      <div class="review-text">Единственный отзыв: ВТБ не вернул деньги.</div><div class="review-pros">быстро</div></div>
      </div></body></html>"""
    page = parse_review_page(one.encode(), BASE + "/bank?page=3")
    assert [(r.url, r.rating) for r in page.reviews] == [(BASE + "/bank?review=r1", 2.0)]
    wrapped = """<html><body><div class="review-block"><div class="review-item">Первый отзыв, вполне подробный.</div>
      <div class="review-item">Второй отзыв, тоже подробный текст.</div></div></body></html>"""
    assert len(parse_review_page(wrapped.encode(), BASE + "/bank").reviews) == 2


def test_pages_without_reviews() -> None:
    assert parse_review_page(b"<html><body><p>nothing here</p></body></html>", BASE).reviews == []
    assert parse_review_page(b"", BASE).reviews == []
    broken = b'<script type="application/ld+json">{"@type": "Review", "reviewBody": </script>'
    assert parse_review_page(broken, BASE).reviews == []
