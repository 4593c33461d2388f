"""Parsers for feeds (RSS, Atom, Yandex full-text), sitemaps (incl. Google News) and Telegram previews."""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from crawler.extract import decode_page, html_to_text, parse_date
from crawler.safety import clean_text, is_web_url

ATOM = "{http://www.w3.org/2005/Atom}"
YANDEX = "{http://news.yandex.ru}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
DEFAULT_MAX_SIZE = 8 * 1024 * 1024  # the page size limit of CrawlOptions
MAX_POST_ID = 2**63 - 1  # SQLite INTEGER; larger ids are not real Telegram posts
MAX_COUNT = 10**12  # views/forwards beyond this are not real counters
MAX_ENTRIES = 50_000  # entries read from one feed or sitemap (the sitemap protocol's own maximum)


class FeedError(ValueError):
    """A feed or sitemap that cannot be parsed."""


@dataclass
class Entry:
    """One link found in a feed or sitemap, with what the listing says about it."""

    url: str
    title: str = ""
    published: datetime | None = None
    summary: str = ""
    full_text: str = ""
    author: str | None = None


@dataclass
class Post:
    """One Telegram post from the web preview."""

    id: int
    url: str
    text: str
    published: datetime | None
    views: int | None
    forwards: int | None
    links: list[str] = field(default_factory=list)


def _text(node: etree._Element | None) -> str:
    """Stripped text of an XML node ('' when missing)."""
    return (node.text or "").strip() if node is not None else ""


def _date(value: str) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, sitemaps) date; naive dates are Moscow time."""
    value = (value or "").strip()
    if not value:
        return None
    if value[:1].isalpha() or "," in value[:5]:
        try:
            parsed = parsedate_to_datetime(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (TypeError, ValueError):
            return None
    return parse_date(value)


def gunzip_bounded(body: bytes, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    """Decompress gzip data (several members allowed) but never more than `max_size` bytes: FeedError beyond."""
    out = bytearray()
    data = body
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            while data:
                chunk = inflater.decompress(data, max_size + 1 - len(out))
                out += chunk
                if len(out) > max_size:
                    raise FeedError(f"decompressed size exceeds the limit of {max_size} bytes")
                data = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error as exc:
            raise FeedError(f"broken gzip data: {exc}") from exc
        if not inflater.eof:
            raise FeedError("truncated gzip data")
        data = inflater.unused_data
        if data[:2] != b"\x1f\x8b":
            break
    return bytes(out)


def _xml(body: bytes, max_size: int = DEFAULT_MAX_SIZE) -> etree._Element:
    """Parse XML strictly (gzip allowed, bounded); entities are not resolved, nothing is fetched; FeedError if broken."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip_bounded(body, max_size)
    if not body.strip():
        raise FeedError("empty document")
    try:
        return etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"malformed XML: {exc}") from exc


def parse_feed(body: bytes, base_url: str, max_size: int = DEFAULT_MAX_SIZE, limit: int | None = None) -> list[Entry]:
    """Entries of an RSS 2.0 / RSS 1.0 / Atom feed (the first `limit`); Yandex `yandex:full-text` and
    `content:encoded` kept as full text."""
    root = _xml(body, max_size)
    entries: list[Entry] = []
    if root.tag == f"{ATOM}feed":
        for node in root.iter(f"{ATOM}entry"):
            if limit is not None and len(entries) >= limit:
                break
            link = ""
            for candidate in node.findall(f"{ATOM}link"):
                if candidate.get("rel", "alternate") == "alternate":
                    link = candidate.get("href", "")
                    break
            content = node.find(f"{ATOM}content")
            author = node.find(f"{ATOM}author/{ATOM}name")
            entries.append(
                Entry(
                    url=urljoin(base_url, link.strip()),
                    title=_text(node.find(f"{ATOM}title")),
                    published=_date(_text(node.find(f"{ATOM}published")) or _text(node.find(f"{ATOM}updated"))),
                    summary=_text(node.find(f"{ATOM}summary")),
                    full_text=_text(content) if content is not None and len(_text(content)) > 500 else "",
                    author=_text(author) or None,
                )
            )
        return [e for e in entries if e.url]
    items = [n for n in root.iter() if isinstance(n.tag, str) and etree.QName(n).localname == "item"]
    if not items and etree.QName(root).localname not in ("rss", "RDF"):
        raise FeedError(f"not a feed: root element <{etree.QName(root).localname}>")
    for node in items[:limit]:
        fields = {etree.QName(c).localname: c for c in node if isinstance(c.tag, str)}
        link = _text(fields.get("link")) or (fields["link"].get("href", "") if "link" in fields else "")
        if not link and "guid" in fields and fields["guid"].get("isPermaLink", "true") == "true":
            link = _text(fields["guid"])
        full = node.find(f"{YANDEX}full-text")
        if full is None:
            full = node.find(f"{CONTENT}encoded")
        entries.append(
            Entry(
                url=urljoin(base_url, link),
                title=_text(fields.get("title")),
                published=_date(_text(fields.get("pubDate")) or _text(fields.get("date"))),
                summary=_text(fields.get("description")),
                full_text=_text(full) if full is not None else "",
                author=_text(fields.get("author")) or _text(fields.get("creator")) or None,
            )
        )
    return [e for e in entries if e.url]


def parse_sitemap(
    body: bytes, base_url: str, max_size: int = DEFAULT_MAX_SIZE, limit: int | None = None
) -> tuple[list[str], list[Entry]]:
    """(child sitemaps, URL entries) of a sitemap or sitemap index, the first `limit` of each; Google News date and
    title kept."""
    root = _xml(body, max_size)
    local = etree.QName(root).localname
    if local == "sitemapindex":
        return [urljoin(base_url, _text(n)) for n in root.iter(f"{SITEMAP}loc", "loc") if _text(n)][:limit], []
    if local != "urlset":
        raise FeedError(f"not a sitemap: root element <{local}>")
    entries: list[Entry] = []
    for node in root:
        if limit is not None and len(entries) >= limit:
            break
        if not isinstance(node.tag, str) or etree.QName(node).localname != "url":
            continue
        loc = node.find(f"{SITEMAP}loc")
        if loc is None:
            loc = node.find("loc")
        if loc is None or not _text(loc):
            continue
        news_date = node.find(f"{NEWS}news/{NEWS}publication_date")
        news_title = node.find(f"{NEWS}news/{NEWS}title")
        lastmod = node.find(f"{SITEMAP}lastmod")
        published = _date(_text(news_date)) if news_date is not None else _date(_text(lastmod))
        entries.append(Entry(url=urljoin(base_url, _text(loc)), title=_text(news_title), published=published))
    return [], entries


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>")
_COUNT = re.compile(r"([\d.,]+)\s*([KkMm]?)")


def parse_count(value: str) -> int | None:
    """'1.2K' → 1200, '3M' → 3000000, '950' → 950; ValueError for a number that is no real counter."""
    match = _COUNT.search(value or "")
    if not match:
        return None
    digits = match.group(1).replace(",", ".")
    if len(digits) > 20:
        raise ValueError(f"counter of {len(digits)} characters")
    number = float(digits)
    scale = {"k": 1_000, "m": 1_000_000}.get(match.group(2).lower(), 1)
    if not 0 <= number * scale <= MAX_COUNT:
        raise ValueError(f"counter out of range: {digits[:30]}")
    return int(round(number * scale))


def scan_links(body: bytes, limit: int) -> list[str]:
    """href of the first `limit` <a> elements of an HTML page, read as a stream (no tree of a huge page is built)."""
    hrefs: list[str] = []
    try:
        for _, node in etree.iterparse(io.BytesIO(body), events=("start",), tag="a", html=True, recover=True):
            href = node.get("href")
            if href:
                hrefs.append(href)
                if len(hrefs) >= limit:
                    break
    except (etree.XMLSyntaxError, ValueError):
        pass
    return hrefs


def _counter(values: list[str], what: str, post: str, problems: list[tuple[str, str]] | None) -> int | None:
    """A views/forwards counter; an absurd one is dropped (None) and reported, the post is kept."""
    if not values:
        return None
    try:
        return parse_count(values[0])
    except (ValueError, OverflowError) as exc:
        if problems is not None:
            problems.append(("bad telegram counter", f"{post}: {what}: {exc}"))
        return None


def _post(node: lxml.html.HtmlElement, page_url: str, problems: list[tuple[str, str]] | None = None) -> Post | None:
    """One post of a Telegram preview page (None without a usable data-post); ValueError for a broken post id."""
    data_post = node.get("data-post", "")
    try:
        post_id = int(data_post.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        return None
    if not 0 < post_id <= MAX_POST_ID:
        raise ValueError(f"post id out of range: {data_post[:60]}")
    text_nodes = node.xpath('.//div[contains(@class, "tgme_widget_message_text")]')
    text_html = lxml.html.tostring(text_nodes[0], encoding="unicode") if text_nodes else ""
    links = [urljoin(page_url, a.get("href").strip()) for a in (text_nodes[0].iter("a") if text_nodes else [])]
    times = node.xpath('.//a[contains(@class, "tgme_widget_message_date")]//time/@datetime')
    date_links = node.xpath('.//a[contains(@class, "tgme_widget_message_date")]/@href')
    views = node.xpath('.//span[contains(@class, "tgme_widget_message_views")]/text()')
    forwards = node.xpath('.//span[contains(@class, "tgme_widget_message_forwards")]/text()')
    url = urljoin(page_url, date_links[0].strip()) if date_links else ""
    if not is_web_url(url):  # a missing or javascript:/data: date link: the post's own address on this host
        url = urljoin(page_url, "/" + data_post.strip("/"))
    return Post(
        id=post_id,
        url=url,
        text=html_to_text(text_html),
        published=parse_date(times[0]) if times else None,
        views=_counter(views, "views", data_post[:60], problems),
        forwards=_counter(forwards, "forwards", data_post[:60], problems),
        links=[link for link in links if is_web_url(link)],
    )


def parse_telegram(
    body: bytes,
    page_url: str,
    content_type: str | None = None,
    problems: list[tuple[str, str]] | None = None,
) -> tuple[list[Post], int | None]:
    """Posts of a t.me/s/NAME page and the id to page back from (`?before=ID`), if any.

    The page is decoded by its HTTP charset, then BOM or <meta charset>, then as UTF-8. A post with a broken
    id (beyond 64 bits) is skipped, an absurd views/forwards counter is dropped; both are reported in `problems`
    as (kind, detail), and the rest of the page is kept."""
    text = clean_text(_XML_DECL.sub("", decode_page(body, content_type), count=1))  # whole escape sequences go
    root = lxml.html.fromstring(text or "<html></html>")
    posts: list[Post] = []
    for node in root.xpath(
        '//div[contains(concat(" ", normalize-space(@class), " "), " tgme_widget_message ")][@data-post]'
    ):
        try:
            post = _post(node, page_url, problems)
        except (ValueError, OverflowError) as exc:
            if problems is not None:
                problems.append(("bad telegram post", f"{node.get('data-post', '')[:60]}: {exc}"))
            continue
        if post is not None:
            posts.append(post)
    before = min((p.id for p in posts), default=None)
    more = root.xpath('//a[contains(@class, "tme_messages_more")]/@data-before | //link[@rel="prev"]/@href')
    if not more or before is None or before <= 1:
        return posts, None
    return posts, before
