"""Article extraction from raw page bytes: charset, text, title, lead, author, date, canonical URL, language."""

from __future__ import annotations

import codecs
import logging
import re
from datetime import datetime, tzinfo
from typing import Any

import lxml.html
import trafilatura
from htmldate import find_date

from crawler.listing import is_listing
from crawler.safety import clean_text
from rezonans.timeutil import moscow

log = logging.getLogger(__name__)

MOSCOW = moscow()  # dates without a zone are Moscow time (Europe/Moscow, history included)
MIN_SITE_TEXT = 300  # pages found by following links must have at least this much text to count as articles

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_CYR = re.compile(r"[А-Яа-яЁё]")
_LAT = re.compile(r"[A-Za-z]")
_DATE_PARAMS: dict[str, Any] = {"outputformat": "%Y-%m-%dT%H:%M:%S%z", "original_date": True, "extensive_search": False}


def _valid_codec(name: str | None) -> str | None:
    """Python codec name for a declared charset, or None when unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'").lower()).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str | None) -> tuple[str | None, str]:
    """The charset a page declares and where: ('cp1251', 'header'|'bom'|'meta') or (None, 'none')."""
    if content_type:
        header = _HEADER_CHARSET.search(content_type)
        codec = _valid_codec(header.group(1)) if header else None
        if codec:
            return codec, "header"
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return codec, "bom"
    match = _META_CHARSET.search(body[:8192])
    codec = _valid_codec(match.group(1).decode("ascii", "ignore")) if match else None
    if codec:
        return codec, "meta"
    return None, "none"


def decode_page(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes: HTTP header charset, then BOM, then <meta charset>, then detection (UTF-8, cp1251, koi8-r…)."""
    codec, _ = declared_charset(body, content_type)
    if codec:
        return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # trafilatura's own decoder guesses undeclared legacy encodings (cp1251 and friends) from the bytes.
    from trafilatura.utils import decode_file

    return decode_file(body)


def guess_language(text: str) -> str | None:
    """'ru' when Cyrillic letters dominate, 'en' when Latin letters do, None for too little text."""
    sample = text[:4000]
    cyr, lat = len(_CYR.findall(sample)), len(_LAT.findall(sample))
    if cyr + lat < 20:
        return None
    return "ru" if cyr >= lat else "en"


def parse_date(value: str | None, assume: tzinfo = MOSCOW) -> datetime | None:
    """Parse an ISO-ish date; a date without zone is taken as Moscow time."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(value[:24], "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=assume)
    return parsed


def _has_time(value: str | None) -> bool:
    """True when an ISO string carries a time of day (not just a date at midnight)."""
    return value is not None and "T" in value and not value.split("T", 1)[1].startswith("00:00:00")


def choose_date(page_value: str | None, feed_date: datetime | None) -> datetime | None:
    """Page date from htmldate, the feed/sitemap date when the page has none or only the same day without time."""
    page = parse_date(page_value)
    if page is None:
        return feed_date
    if feed_date is None:
        return page
    if not _has_time(page_value) or page.tzinfo is None:
        if page.date() == feed_date.astimezone(MOSCOW).date():
            return feed_date
        return page
    return page


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed full-text, Telegram post), paragraphs on their own lines."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return re.sub(r"[ \t]+", " ", fragment).strip()
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:
        return re.sub(r"<[^>]+>", " ", fragment).strip()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    text = root.text_content()
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _canonical_link(html: str) -> str | None:
    """href of <link rel=canonical>, if any."""
    match = re.search(r"<link[^>]+rel=[\"']?canonical[\"']?[^>]*>", html[:20000], re.IGNORECASE)
    if not match:
        return None
    href = re.search(r"href=[\"']([^\"']+)[\"']", match.group(0), re.IGNORECASE)
    return href.group(1).strip() if href else None


def extract_page(
    body: bytes,
    url: str,
    content_type: str | None = None,
    feed_title: str = "",
    feed_date: str | None = None,
    feed_summary: str = "",
    min_text: int = 0,
    listing_check: bool = False,
) -> dict[str, Any] | None:
    """Extract one article from raw bytes; returns Article fields as a dict, or None when no article text is found.

    With `listing_check` a page that lists articles (section, pagination, tag or author page: crawler.listing)
    comes back as {"listing": True} instead.
    """
    html = clean_text(decode_page(body, content_type))  # terminal escape sequences go whole, before the parser
    if listing_check and is_listing(html, url):
        return {"listing": True}
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params=_DATE_PARAMS,
            fast=True,  # no fallback extractors: the same text on all 803 pages of a dev site, 1.8x less CPU
        )
    except Exception as exc:
        log.warning("extraction failed for %s: %s", url, exc)
        doc = None
    data: dict[str, Any] = doc.as_dict() if doc is not None and not isinstance(doc, dict) else (doc or {})
    title = (data.get("title") or feed_title or "").strip()
    text = (data.get("text") or "").strip()
    lines = text.splitlines()
    if lines and title and lines[0].strip() == title:
        text = "\n".join(lines[1:]).strip()
    if not text and feed_summary:
        text = html_to_text(feed_summary)
    if len(text) < max(min_text, 1):
        return None
    page_date = data.get("date")
    if not page_date and not feed_date:
        try:  # no date in the markup and none from a feed: let htmldate search the text as well
            page_date = find_date(html, **{**_DATE_PARAMS, "extensive_search": True})
        except Exception:
            page_date = None
    published = choose_date(page_date, parse_date(feed_date))
    description = (data.get("description") or "").strip()
    first_para = text.split("\n", 1)[0].strip()
    lead = description if description and description != title else first_para
    canonical = _canonical_link(html) or data.get("url") or ""
    if canonical and not canonical.startswith(("http://", "https://")):
        from urllib.parse import urljoin

        canonical = urljoin(url, canonical)
    return {
        "url": url,
        "canonical_url": canonical or "",
        "title": title,
        "lead": lead,
        "text": text,
        "published_at": published.isoformat() if published else None,
        "author": (data.get("author") or None),
        "language": data.get("language") or guess_language(text),
    }
