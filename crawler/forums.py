"""Forum pages of the common engines (phpBB, XenForo, vBulletin): posts of a thread page, thread links of an index.

Every post becomes its own item with the engine's permalink (a URL without fragment that names the post, so that
it is a stable document id), its date (ISO `datetime` attributes, Unix timestamps or the engines' Russian and
English text dates) and the thread title. Quotes of other posts are cut out of a post's text and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import lxml.html

from crawler.htmlpage import absolute, block_text, first_text, link_base, load_page, next_page, page_title
from crawler.postdates import parse_post_date

MAX_POSTS = 500  # posts read from one page; engines show 10–50
MAX_THREADS = 500  # thread links read from one index page


@dataclass
class ForumPost:
    """One post of a thread."""

    id: str
    url: str
    thread_title: str
    text: str
    published: datetime | None
    author: str | None = None
    quotes: int = 0  # quotes of other posts cut out of `text`
    quoted: list[str] = field(default_factory=list)  # permalinks of the quoted posts, where the markup names them


@dataclass
class ForumPage:
    """What one forum page holds: posts (a thread page), thread links (an index page) and the next page."""

    engine: str
    title: str
    posts: list[ForumPost] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    next_url: str = ""


@dataclass(frozen=True)
class Engine:
    """Where one engine keeps posts and their parts (CSS selectors relative to the post container)."""

    name: str
    posts: str
    post_id: re.Pattern[str]
    body: tuple[str, ...]
    quotes: str
    drop: str
    dates: tuple[str, ...]  # "selector@attribute" or "selector" (its text)
    authors: tuple[str, ...]
    links: tuple[str, ...]  # candidate permalink anchors
    titles: tuple[str, ...]
    threads: str
    permalink: str  # fallback permalink, relative to the page: {id}


PHPBB = Engine(
    name="phpbb",
    posts="div.post[id]",
    post_id=re.compile(r"^p(\d+)$"),
    body=("div.content",),
    quotes="blockquote",
    drop="div.signature, div.notice, dl.attachbox",
    dates=("p.author time@datetime", "p.author time", "p.author"),
    authors=("p.author a.username", "p.author a.username-coloured", "dl.postprofile a.username", "p.author strong"),
    links=(),
    titles=("h2.topic-title a", "h2.topic-title", "#page-body h2 a", "h2 a[href*='viewtopic']"),
    threads="a.topictitle",
    permalink="viewtopic.php?p={id}",
)
XENFORO = Engine(
    name="xenforo",
    posts="article.message--post[data-content], article.message[id^='js-post-'], li.message[id^='post-']",
    post_id=re.compile(r"^(?:js-)?post-(\d+)$"),
    body=("div.bbWrapper", "blockquote.messageText"),
    quotes="blockquote.bbCodeBlock--quote, .bbCodeBlock--quote, div.bbCodeQuote",
    drop=".messageTextEndMarker, .bbCodeBlock-expandLink, .js-selectToQuoteEnd",
    dates=(
        ".message-attribution time@datetime",
        ".message-attribution time@data-time",
        "time@datetime",
        "abbr.DateTime@data-time",
        "span.DateTime@title",
        ".DateTime",
    ),
    authors=(),  # data-author on the container
    links=(
        ".message-attribution-main a[href*='post-']",
        ".message-attribution a[href*='post-']",
        "a.datePermalink",
        "a.hashPermalink",
    ),
    titles=("h1.p-title-value", ".titleBar h1", "h1"),
    threads=".structItem-title a[data-tp-primary], .structItem-title a[href*='threads/'], h3.title a[href*='threads/']",
    permalink="posts/{id}/",
)
VBULLETIN = Engine(
    name="vbulletin",
    posts="li.postcontainer[id^='post_'], li[id^='post_'].postbitlegacy, table[id^='post'], li.b-post[data-node-id]",
    post_id=re.compile(r"^post_?(\d+)$"),
    body=("div[id^='post_message_']", "div.js-post__content-text"),
    quotes="div.bbcode_container, div.bbcode_quote",
    drop="div.signature, div.after_content",
    dates=(
        "time@datetime",
        "span.postdate span.date",
        "span.postdate",
        ".b-post__timestamp",
        "td.thead",
    ),
    authors=("a.username strong", "a.username", "a.bigusername", ".b-userinfo__details .author a"),
    links=("a.postcounter", "a[id^='postcount']", "a.b-post__count"),
    titles=("span.threadtitle a", "#pagetitle h1 .threadtitle", "h1.main-title", "td.navbar strong", "h1"),
    threads="a[id^='thread_title_'], a.topic-title",
    permalink="showthread.php?p={id}",
)
ENGINES = (XENFORO, PHPBB, VBULLETIN)
_VB3_QUOTE = "div[style*='margin'] > div.smallfont + table"  # vBulletin 3: «Цитата:» then a table
_PAGE_SUFFIX = re.compile(r"/page-\d+/?$")


def _post_id(node: lxml.html.HtmlElement, engine: Engine) -> str:
    """The engine's numeric post id from the container's id / data-content / data-node-id ('' when none)."""
    if node.get("data-node-id", "").isdigit():
        return node.get("data-node-id", "")
    for attribute in ("data-content", "id"):
        match = engine.post_id.match(node.get(attribute, ""))
        if match:
            return match.group(1)
    return ""


def _date(node: lxml.html.HtmlElement, engine: Engine, now: datetime | None) -> datetime | None:
    """The post's date from the first selector that yields a parsable value."""
    for spec in engine.dates:
        selector, _, attribute = spec.partition("@")
        for found in node.cssselect(selector)[:3]:
            value = found.get(attribute) if attribute else block_text(found).split("\n")[-1]
            if value and "»" in value:
                value = value.rsplit("»", 1)[-1]  # phpBB 3.0: «от Автор » 03 дек 2012, 14:05»
            parsed = parse_post_date(value, now)
            if parsed is not None:
                return parsed
    return None


def _permalink(node: lxml.html.HtmlElement, engine: Engine, post_id: str, page_url: str) -> str:
    """A URL naming the post without relying on its fragment: the engine's own link, else its documented route."""
    if engine is PHPBB:
        return urljoin(page_url, f"viewtopic.php?p={post_id}") + f"#p{post_id}"
    for selector in engine.links:
        for link in node.cssselect(selector):
            url = absolute(page_url, link.get("href"))
            if url and post_id in url.split("#", 1)[0]:
                return url
    if engine is XENFORO and "/threads/" in page_url:
        thread = _PAGE_SUFFIX.sub("/", page_url.split("#", 1)[0].split("?", 1)[0])
        return urljoin(thread if thread.endswith("/") else thread + "/", f"post-{post_id}")
    return urljoin(page_url, engine.permalink.format(id=post_id))


def _quoted(quote: lxml.html.HtmlElement, page_url: str) -> str:
    """The link to a quoted post when the quote carries one ('' otherwise)."""
    for link in quote.iter("a"):
        href = absolute(page_url, link.get("href"))
        if href and re.search(r"[?&]p=\d+|post-?\d+|posts/\d+|goto/post", href):
            return href
    return ""


def _post(
    node: lxml.html.HtmlElement, engine: Engine, page_url: str, title: str, now: datetime | None
) -> ForumPost | None:
    """One post container → ForumPost (None without an id or a body)."""
    post_id = _post_id(node, engine)
    body = next((found[0] for s in engine.body if (found := node.cssselect(s))), None)
    if not post_id or body is None:
        return None
    quotes = body.cssselect(engine.quotes + ", " + _VB3_QUOTE)
    outermost = [q for q in quotes if not any(o is not q and q in o.iterdescendants() for o in quotes)]
    text = block_text(body, ", ".join(filter(None, (engine.quotes, _VB3_QUOTE, engine.drop))))
    if engine is VBULLETIN:  # vBulletin 3 wraps a quote in a div whose only text is «Цитата:»
        text = re.sub(r"^(Цитата|Quote):?\n", "", text, flags=re.MULTILINE)
    author = node.get("data-author") or (first_text(node, engine.authors) if engine.authors else "")
    return ForumPost(
        id=post_id,
        url=_permalink(node, engine, post_id, page_url),
        thread_title=title,
        text=text,
        published=_date(node, engine, now),
        author=author or None,
        quotes=len(outermost),
        quoted=[u for u in (_quoted(q, page_url) for q in outermost) if u],
    )


def detect_engine(root: lxml.html.HtmlElement) -> Engine | None:
    """The engine whose post containers or thread links the page has (None for anything else)."""
    for engine in ENGINES:
        if any(_post_id(n, engine) for n in root.cssselect(engine.posts)[:5]):
            return engine
    for engine in ENGINES:
        if root.cssselect(engine.threads):
            return engine
    generator = " ".join(str(g) for g in root.xpath('//meta[@name="generator"]/@content')).lower()
    return next((e for e in ENGINES if e.name in generator.replace(" ", "")), None)


def parse_forum_page(
    body: bytes, url: str, content_type: str | None = None, now: datetime | None = None
) -> ForumPage | None:
    """Posts, thread links and the next page of a phpBB, XenForo or vBulletin page (None: no forum markup found)."""
    root = load_page(body, url, content_type)
    engine = detect_engine(root)
    if engine is None:
        return None
    url = link_base(root, url)
    title = page_title(root, engine.titles)
    page = ForumPage(engine=engine.name, title=title, next_url=next_page(root, url))
    seen: set[str] = set()
    for node in root.cssselect(engine.posts)[:MAX_POSTS]:
        post = _post(node, engine, url, title, now)
        if post is not None and post.id not in seen:
            seen.add(post.id)
            page.posts.append(post)
    host = urlsplit(url).netloc
    for link in root.cssselect(engine.threads)[:MAX_THREADS]:
        thread = absolute(url, link.get("href"))
        if thread and urlsplit(thread).netloc == host and thread not in page.threads:
            page.threads.append(thread)
    return page
