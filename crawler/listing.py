"""Listing pages (sections, their pagination, tag and author pages) told from articles by page structure.

A listing shows many teasers: sibling blocks of the same shape, each a link to another page of the site with a
headline and perhaps a snippet. An article has one body of running text that is not made of links, even when it
carries a "read also" block. The verdict compares the two: the text inside repeated link-teaser blocks and
inside links against the running text outside them. URL patterns (`?page=2`, `/tag/`) only add weight.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

_SKIP = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "select", "option"}
_PAGED_URL = re.compile(
    r"([?&](page|p|start|offset)=\d+)|(/page/?\d+)|(page\d+\.html?)|(/(tag|tags|author|authors|rubric|category|archive)/)",
    re.I,
)
MIN_TEASERS = 5  # sibling teaser blocks that make a list of articles


@dataclass(frozen=True)
class ListingVerdict:
    """Why a page is (or is not) taken for a listing."""

    listing: bool
    teasers: int  # blocks in the largest group of same-shaped siblings that each link to another page
    teaser_chars: int  # text inside those blocks
    running_chars: int  # paragraph text outside links and teaser blocks
    link_share: float  # share of all visible text that sits inside links
    paged_url: bool


def _text(el: lxml.html.HtmlElement) -> str:
    """Visible text of an element, whitespace folded."""
    return " ".join(el.text_content().split())


def _shape(el: lxml.html.HtmlElement) -> tuple[str, str]:
    """Tag and class of an element: siblings of one shape are blocks of one list."""
    return el.tag if isinstance(el.tag, str) else "", " ".join(sorted((el.get("class") or "").split()))


def _page_link(el: lxml.html.HtmlElement, base: str, host: str) -> bool:
    """Whether the element holds a link with a headline-like text to another page of the same site."""
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        target = urlsplit(urljoin(base, href))
        if target.netloc and target.netloc != host:
            continue
        if len(_text(a).split()) >= 3:
            return True
    return False


def judge(html: str, url: str) -> ListingVerdict:
    """Structural verdict on one page (pages that do not parse are not listings)."""
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, etree.ParserError):
        return ListingVerdict(False, 0, 0, 0, 0.0, False)
    for el in list(root.iter(*_SKIP)):
        el.drop_tree()
    host = urlsplit(url).netloc
    # keys hold the parent element itself (not its id): lxml proxies stay alive, and so unique, while referenced
    groups: dict[tuple[lxml.html.HtmlElement, tuple[str, str]], list[lxml.html.HtmlElement]] = defaultdict(list)
    for parent in root.iter():
        if not isinstance(parent.tag, str):
            continue
        for child in parent:
            if isinstance(child.tag, str) and _page_link(child, url, host):
                groups[(parent, _shape(child))].append(child)
    best = max(groups.values(), key=len, default=[])
    teasers = len(best) if len(best) >= MIN_TEASERS else 0
    in_teasers = {e for block in (best if teasers else []) for e in block.iter()}
    teaser_chars = sum(len(_text(block)) for block in best) if teasers else 0
    running = 0
    for p in root.iter("p", "blockquote", "li", "td"):
        if p in in_teasers:
            continue
        text = _text(p)
        linked = sum(len(_text(a)) for a in p.iter("a"))
        if len(text) - linked >= 40:
            running += len(text) - linked
    body = root.find("body")
    scope = body if body is not None else root
    total = len(_text(scope)) or 1
    link_chars = sum(len(_text(a)) for a in scope.iter("a"))
    share = link_chars / total
    paged = bool(_PAGED_URL.search(url))
    listing = bool(teasers) and teaser_chars >= running
    if not listing and share >= 0.5 and running < 1500:
        listing = True  # a page that is mostly links (an index of headlines)
    if not listing and paged and teasers and teaser_chars * 2 >= running:
        listing = True  # a paged URL with a list of teasers: looser bar
    return ListingVerdict(listing, teasers, teaser_chars, running, round(share, 3), paged)


def is_listing(html: str, url: str) -> bool:
    """True when the page lists articles rather than being one."""
    return judge(html, url).listing
