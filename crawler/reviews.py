"""Review pages: schema.org `Review` / `AggregateRating` (JSON-LD and microdata, read by extruct), else review cards.

Every review becomes its own item: rating on its own scale and normalised to 1–5, date, product, title, text
and a permalink (the review's own URL, else the page URL with a stable `?review=` key, since a fragment is no
document id).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html
from extruct.jsonld import JsonLdExtractor
from extruct.w3cmicrodata import MicrodataExtractor

from crawler.htmlpage import absolute, block_text, first_text, link_base, load_page, next_page, page_title
from crawler.postdates import parse_post_date

log = logging.getLogger(__name__)

MAX_REVIEWS = 500  # reviews read from one page
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)")
_OUT_OF = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:/|из|out of|of)\s*(\d+(?:[.,]\d+)?)", re.IGNORECASE)
_WIDTH = re.compile(r"width\s*:\s*(\d+(?:\.\d+)?)\s*%")
_CARD = re.compile(r"(^|[-_ ])(review|reviews-item|otzyv|otziv|feedback)([-_ ]|$)", re.IGNORECASE)
_RATING_CLASS = re.compile(r"rating|stars?\b|score|mark|grade|ocenka", re.IGNORECASE)
_FILLED = re.compile(r"(^|[-_ ])(active|filled|full|on|checked|selected)([-_ ]|$)", re.IGNORECASE)
_OWN_LINK = re.compile(r"review|otzyv|otziv", re.IGNORECASE)
_PROFILE = re.compile(r"user|author|profile|member|page=", re.IGNORECASE)
_PAGING = re.compile(r"^(page|start|p|offset|from|pagen_\d+|pg)$", re.IGNORECASE)
_PAGE_PATH = re.compile(r"/(page[-/]?\d+)/?$", re.IGNORECASE)
_LABELS = {"pros": "Достоинства", "cons": "Недостатки"}


@dataclass
class Review:
    """One review with its rating on the page's scale and on 1–5."""

    url: str
    product: str
    text: str
    title: str = ""
    published: datetime | None = None
    author: str | None = None
    rating: float | None = None  # as given
    best: float | None = None
    worst: float | None = None
    score: float | None = None  # normalised to 1–5


@dataclass
class ReviewPage:
    """The reviews of one page, the product's aggregate rating and the next page."""

    product: str
    reviews: list[Review] = field(default_factory=list)
    aggregate: Review | None = None  # text empty; rating = the average, score normalised
    count: int | None = None  # the aggregate's reviewCount / ratingCount
    next_url: str = ""
    markup: str = ""  # "json-ld", "microdata" or "cards"


def _number(value: Any) -> float | None:
    """A float from 4, "4", "4,5", "4.5 из 5" (None when there is none)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _NUMBER.search(str(value or ""))
    return float(match.group(1).replace(",", ".")) if match else None


def scale(value: float, best: float | None = None, worst: float | None = None) -> tuple[float, float]:
    """(best, worst) of a rating: as given, else schema.org's defaults (5 and 1), a 10- or 100-point scale for a
    value above 5 or 10 (whose worst is then 0)."""
    best = best if best is not None else (5.0 if value <= 5 else 10.0 if value <= 10 else 100.0)
    worst = worst if worst is not None else (0.0 if best >= 10 else 1.0)
    return best, worst


def normalise(value: float | None, best: float | None = None, worst: float | None = None) -> float | None:
    """A rating on its own scale → 1–5; None when it makes no sense (outside its scale, an empty scale)."""
    if value is None:
        return None
    best, worst = scale(value, best, worst)
    if best <= worst or not worst <= value <= best:
        return None
    return round(1 + 4 * (value - worst) / (best - worst), 2)


def _name(value: Any) -> str:
    """Name of a schema.org thing given as a string, a dict or a list of them."""
    if isinstance(value, list):
        return _name(value[0]) if value else ""
    if isinstance(value, dict):
        return str(value.get("name") or "").strip()
    return str(value or "").strip()


def _types(item: dict[str, Any]) -> set[str]:
    """The item's schema.org types without the vocabulary prefix."""
    kinds = item.get("@type") or []
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {str(k).rsplit("/", 1)[-1] for k in kinds}


def _walk(value: Any, product: str = "") -> Any:
    """(item, product name) of every dict in a JSON-LD / microdata tree, with the nearest enclosing product name."""
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, product)
    elif isinstance(value, dict):
        kinds = _types(value)
        if kinds & {"Product", "Organization", "LocalBusiness", "Service", "Book", "Movie", "Place", "Thing"}:
            product = _name(value.get("name")) or product
        yield value, product
        for key, child in value.items():
            if key != "itemReviewed":
                yield from _walk(child, product)


def _plain(value: Any) -> str:
    """Text of a schema.org text field (HTML fragments flattened)."""
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    if "<" in text:
        try:
            text = block_text(lxml.html.fragment_fromstring(text, create_parent="div"))
        except Exception:
            text = re.sub(r"<[^>]+>", " ", text)
    return text.strip()


def _stable_url(page_url: str, key: str) -> str:
    """The listing's URL without its page number, with a `review=` key: a stable id for a review that has no URL of
    its own (a new review pushes the others to later pages; a fragment is no document id)."""
    parts = urlsplit(page_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _PAGING.match(k)]
    path = _PAGE_PATH.sub("", parts.path) or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode([*query, ("review", key)]), ""))


def _digest(*parts: str) -> str:
    """A short stable key from text."""
    return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()[:12]


def _from_schema(item: dict[str, Any], product: str, page_url: str, now: datetime | None) -> Review | None:
    """A schema.org Review → Review (None without text and rating)."""
    found = item.get("reviewRating")
    rating: dict[str, Any] = found if isinstance(found, dict) else {}
    value = _number(rating.get("ratingValue"))
    best, worst = _number(rating.get("bestRating")), _number(rating.get("worstRating"))
    text = _plain(item.get("reviewBody") or item.get("description") or item.get("text"))
    for key, label in _LABELS.items():
        extra = _plain(item.get(key) or item.get("positiveNotes" if key == "pros" else "negativeNotes"))
        if extra:
            text = f"{text}\n{label}: {extra}".strip()
    if not text and value is None:
        return None
    title = _plain(item.get("name") or item.get("headline"))
    product = _name(item.get("itemReviewed")) or product
    date = parse_post_date(str(item.get("datePublished") or item.get("dateCreated") or ""), now)
    own = absolute(page_url, str(item.get("url") or item.get("@id") or "").split("#", 1)[0]) if item else ""
    url = own if own and own != page_url.split("#", 1)[0] else _stable_url(page_url, _digest(title, text))
    return Review(
        url=url,
        product=product,
        text=text,
        title=title,
        published=date,
        author=_name(item.get("author")) or None,
        rating=value,
        best=best,
        worst=worst,
        score=normalise(value, best, worst),
    )


def _aggregate(item: dict[str, Any], product: str) -> tuple[Review, int | None]:
    """An AggregateRating → (a Review holding the average, the number of ratings)."""
    value, best, worst = (_number(item.get(k)) for k in ("ratingValue", "bestRating", "worstRating"))
    count = _number(item.get("reviewCount") or item.get("ratingCount"))
    review = Review(url="", product=product, text="", rating=value, best=best, worst=worst)
    review.score = normalise(value, best, worst)
    return review, int(count) if count is not None else None


def _schema(items: list[dict[str, Any]], page: ReviewPage, page_url: str, now: datetime | None) -> None:
    """Reviews and the aggregate rating from structured data items into `page`."""
    for item, product in _walk(items, page.product):
        kinds = _types(item)
        if "Review" in kinds or "UserReview" in kinds or "CriticReview" in kinds:
            review = _from_schema(item, product or page.product, page_url, now)
            if review is not None and all(r.url != review.url for r in page.reviews):
                page.reviews.append(review)
        elif "AggregateRating" in kinds and page.aggregate is None:
            page.aggregate, page.count = _aggregate(item, product or page.product)
        elif isinstance(item.get("aggregateRating"), dict) and page.aggregate is None:
            page.aggregate, page.count = _aggregate(item["aggregateRating"], product or page.product)
        if len(page.reviews) >= MAX_REVIEWS:
            return


def _card_rating(card: lxml.html.HtmlElement) -> tuple[float | None, float | None]:
    """(value, best) of a review card's rating: data attributes, «4 из 5», star widths or filled stars."""
    for node in card.iter():
        if not isinstance(node.tag, str):
            continue
        if not _RATING_CLASS.search(f"{node.get('class', '')} {node.get('itemprop', '')}"):
            continue
        best = _number(node.get("data-best") or node.get("data-max") or node.get("aria-valuemax"))
        for attribute in ("data-rating", "data-score", "data-value", "aria-valuenow", "content", "value"):
            value = _number(node.get(attribute))
            if value is not None:
                return value, best
        for label in (node.get("title"), node.get("aria-label"), node.text_content()):
            match = _OUT_OF.search(label or "")
            if match:
                return float(match.group(1).replace(",", ".")), float(match.group(2).replace(",", "."))
        width = _WIDTH.search(node.get("style", ""))
        if width:
            return round(float(width.group(1)) / 20, 2), 5.0
        stars = [c for c in node if isinstance(c.tag, str)]
        if len(stars) in (5, 10):
            filled = sum(1 for c in stars if _FILLED.search(c.get("class", "")))
            if filled:
                return float(filled), float(len(stars))
        glyphs = node.text_content()
        if "★" in glyphs:
            return float(glyphs.count("★")), float(glyphs.count("★") + glyphs.count("☆"))
    return None, None


def _card_date(card: lxml.html.HtmlElement, now: datetime | None) -> datetime | None:
    """A card's date: <time datetime>, itemprop datePublished, then an element whose class names a date."""
    for value in card.xpath(".//time/@datetime | .//*[@itemprop='datePublished']/@content"):
        parsed = parse_post_date(str(value), now)
        if parsed is not None:
            return parsed
    for node in card.xpath(".//*[contains(@class, 'date') or contains(@class, 'time') or self::time]"):
        parsed = parse_post_date(node.text_content(), now)
        if parsed is not None:
            return parsed
    return None


def _flat(value: Any) -> Any:
    """extruct's microdata shape ({type, properties}) → the JSON-LD shape ({"@type", ...properties})."""
    if isinstance(value, list):
        return [_flat(v) for v in value]
    if isinstance(value, dict) and "properties" in value:
        return {"@type": value.get("type"), **{k: _flat(v) for k, v in value["properties"].items()}}
    return value


def _outermost(nodes: list[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
    """The nodes that have no ancestor among the nodes."""
    chosen = set(nodes)
    return [n for n in nodes if not any(a in chosen for a in n.iterancestors())]


def _cards(root: lxml.html.HtmlElement, page: ReviewPage, page_url: str, now: datetime | None) -> None:
    """Review cards (elements whose class or id names a review and that hold a rating or enough text)."""
    candidates = [
        n
        for n in root.iter()
        if isinstance(n.tag, str)
        and n.tag not in ("html", "body", "a", "span", "img")
        and _CARD.search(f"{n.get('class', '')} {n.get('id', '')}")
    ]
    cards = _outermost(candidates)
    # a single wrapper («review-list») holding repeated cards: the cards are inside it
    while len(cards) == 1:
        inner = _outermost([c for c in candidates if c in cards[0].iterdescendants()])
        if len(inner) < 2 or len({(n.tag, n.get("class")) for n in inner}) > 1:
            break  # the parts of one card (head, text, pros…), not cards
        cards = inner
    for card in cards[:MAX_REVIEWS]:
        value, best = _card_rating(card)
        drop = ".author, .user, .username, [class*='date'], [class*='rating'], [class*='stars'], h2, h3, h4, time"
        parts = [
            block_text(n, drop)
            for n in card.xpath(
                ".//*[contains(@class, 'text') or contains(@class, 'body') or contains(@class, 'content')]"
            )
        ]
        text = "\n".join(p for p in parts if p) or block_text(card, drop)
        for key, label in _LABELS.items():
            extra = first_text(card, (f".{key}", f"[class*='{key}']"))
            if extra and extra not in text:
                text = f"{text}\n{label}: {extra}".strip()
        if len(text) < 20 and value is None:
            continue
        title = first_text(card, ("h2", "h3", "h4", "[class*='title']"))
        link = next(
            (
                u
                for u in (absolute(page_url, a.get("href")) for a in card.iter("a"))
                if u and _OWN_LINK.search(u) and not _PROFILE.search(u)
            ),
            "",
        )
        anchor = card.get("id") or _digest(title, text)
        page.reviews.append(
            Review(
                url=link.split("#", 1)[0] if link else _stable_url(page_url, anchor),
                product=page.product,
                text=text,
                title=title,
                published=_card_date(card, now),
                author=first_text(card, (".author", ".user", ".username", "[class*='author']")) or None,
                rating=value,
                best=best,
                score=normalise(value, best),
            )
        )


def parse_review_page(
    body: bytes, url: str, content_type: str | None = None, now: datetime | None = None
) -> ReviewPage:
    """Reviews of a page: JSON-LD first, then microdata, then review cards; and the next page of the listing."""
    root = load_page(body, url, content_type)
    url = link_base(root, url)
    page = ReviewPage(product=page_title(root, ("[itemprop='name']", "h1")), next_url=next_page(root, url))
    jsonld: list[Any] = []
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:  # one script at a time: a broken one does not hide the others
            jsonld.extend(JsonLdExtractor().extract_items(script))
        except Exception as exc:
            log.debug("%s: unreadable JSON-LD: %s", url, exc)
    _schema(jsonld, page, url, now)
    if page.reviews:
        page.markup = "json-ld"
        return page
    try:
        _schema([_flat(i) for i in MicrodataExtractor().extract_items(root, base_url=url)], page, url, now)
    except Exception as exc:  # malformed microdata: the page may still have cards
        log.debug("%s: unreadable microdata: %s", url, exc)
    if page.reviews:
        page.markup = "microdata"
        return page
    _cards(root, page, url, now)
    page.markup = "cards" if page.reviews else ""
    return page
