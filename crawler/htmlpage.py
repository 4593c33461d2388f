"""HTML helpers shared by the forum and review parsers: decoding to a tree, block text, titles, next-page links."""

from __future__ import annotations

import copy
import logging
import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from trafilatura.utils import decode_file

from crawler.extract import declared_charset, decode_page
from crawler.safety import clean_text, is_web_url

log = logging.getLogger(__name__)

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>")
_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "blockquote", "tr", "dd", "dt", "pre", "article", "section")
_SPACES = re.compile(r"[ \t\xa0\u200b]+")
_CURRENT = "strong, b, .active, .current, [aria-current], .pageNav-page--current, li.active, span.current, td.alt2"


def decode_checked(body: bytes, url: str, content_type: str | None = None) -> str:
    """Decode page bytes (header, BOM, <meta>, then detection); a declared charset that leaves the text full of
    undecodable bytes is wrong: the bytes are decoded as detected instead, and that is logged once per page."""
    text = decode_page(body, content_type)
    bad = text.count("\ufffd")
    if bad > 8 and bad > len(text) // 200:
        codec, where = declared_charset(body, content_type)
        guessed = decode_file(body)
        if guessed.count("\ufffd") < bad:
            log.warning("%s: declared charset %s (%s) is wrong; decoded by detection", url, codec, where)
            return guessed
    return text


def load_page(body: bytes, url: str, content_type: str | None = None) -> lxml.html.HtmlElement:
    """Decode page bytes (decode_checked) and parse leniently; broken markup is repaired."""
    text = clean_text(_XML_DECL.sub("", decode_checked(body, url, content_type), count=1))
    if not text.strip():
        text = "<html></html>"
    try:
        return lxml.html.document_fromstring(text, base_url=url)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html></html>", base_url=url)


def block_text(node: lxml.html.HtmlElement, drop: str = "") -> str:
    """Plain text of an element, blocks and <br> on their own lines; elements matching the CSS `drop` removed."""
    node = copy.deepcopy(node)
    node.tail = None
    for junk in node.cssselect("script, style, noscript" + (", " + drop if drop else "")):
        if junk is not node:
            junk.drop_tree()
    for br in node.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in node.iter(*_BLOCKS):
        block.tail = "\n" + (block.tail or "")
        block.text = "\n" + (block.text or "")
    lines = (_SPACES.sub(" ", line).strip() for line in node.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def first_text(node: lxml.html.HtmlElement, selectors: tuple[str, ...]) -> str:
    """Text of the first element matching one of the CSS selectors, in the given order ('' when none has text)."""
    for selector in selectors:
        for found in node.cssselect(selector):
            text = _SPACES.sub(" ", found.text_content()).strip()
            if text:
                return text
    return ""


def page_title(root: lxml.html.HtmlElement, selectors: tuple[str, ...] = ()) -> str:
    """The page's own title: the given selectors first, then og:title, <h1>, <title>."""
    title = first_text(root, selectors) if selectors else ""
    if title:
        return title
    og = root.xpath('//meta[@property="og:title"]/@content')
    if og and str(og[0]).strip():
        return str(og[0]).strip()
    return first_text(root, ("h1", "title"))


def link_base(root: lxml.html.HtmlElement, url: str) -> str:
    """What relative links on the page resolve against: its <base href> (same host only), else its own URL."""
    for href in root.xpath("//head/base/@href")[:1]:
        base = absolute(url, str(href))
        if base and urlsplit(base).netloc == urlsplit(url).netloc:
            return base
    return url


def absolute(base: str, href: str | None) -> str:
    """An absolute http(s) URL for a link, or '' for anything else (javascript:, mailto:, empty)."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return ""
    url = urljoin(base, href)
    return url if is_web_url(url) else ""


def next_page(root: lxml.html.HtmlElement, url: str) -> str:
    """The next page of a paged listing or thread: rel=next, the engines' next buttons, else the number after the
    current page in a pagination block ('' on the last page)."""
    for href in root.xpath(
        '//link[@rel="next"]/@href | //a[@rel="next"]/@href'
        ' | //a[contains(concat(" ", normalize-space(@class), " "), " pageNav-jump--next ")]/@href'
        ' | //li[contains(concat(" ", normalize-space(@class), " "), " next ")]/a/@href'
    ):
        found = absolute(url, str(href))
        if found and found != url:
            return found
    for block in root.xpath(
        '//*[contains(@class, "pagination") or contains(@class, "pagenav") or contains(@class, "pageNav")'
        ' or contains(@class, "pager") or contains(@class, "pages")]'
    ):
        current = next((c for c in block.cssselect(_CURRENT) if c.text_content().strip().isdigit()), None)
        if current is None:
            continue
        wanted = str(int(current.text_content().strip()) + 1)
        for link in block.iter("a"):
            if link.text_content().strip() == wanted:
                found = absolute(url, link.get("href"))
                if found:
                    return found
    return ""
