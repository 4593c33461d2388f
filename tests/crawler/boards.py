"""Loopback forums (phpBB, XenForo, vBulletin markup) and review sites (JSON-LD, plain cards) for the crawler tests.

Posts and reviews live in plain lists, so a test can add a post between two crawls and see it appear. The markup
follows the engines' own templates (prosilver, XenForo 2 default style, vBulletin 4 postbit_legacy, vBulletin 3
tables) closely enough for the parsers to meet what they meet on real boards. Hostile pages: broken HTML, a page
whose declared charset is wrong, and one larger than the crawl's size limit.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from rezonans.timeutil import moscow

MSK = moscow()
MONTHS = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
SHORT = "янв фев мар апр май июн июл авг сен окт ноя дек".split()
PER_PAGE = 3  # posts per thread page
THREADS_PER_PAGE = 2  # threads per forum index page
ENGINES = ("phpbb", "xf", "vb")
TEXTS = [
    "Сбербанк опять не пускает в приложение, третий день пишет «технические работы».",
    "У меня с Тинькофф такого не было, кэшбэк пришёл в тот же день.",
    "ВТБ поднял ставку по вкладу, но условия мелким шрифтом.",
    "Перевёл зарплату в Альфа-Банк, пока доволен, поддержка отвечает быстро.",
    "Сбер вернул деньги за спорную операцию, написал в чат — решили за час.",
    "Кто-нибудь пробовал ипотеку в ВТБ? Отзывы противоречивые.",
    "Т-Банк заблокировал карту без объяснений, жду ответа уже неделю.",
    "Альфа-Банк снова звонит с предложением кредитки, отписаться не выходит.",
]


@dataclass
class BoardPost:
    """One post on a loopback forum."""

    id: int
    author: str
    when: datetime
    text: str
    quote: int | None = None  # id of a quoted post


@dataclass
class Thread:
    """One thread with its posts in order."""

    id: int
    title: str
    slug: str
    posts: list[BoardPost] = field(default_factory=list)


@dataclass
class SiteReview:
    """One review on a loopback review site."""

    id: int
    product: str
    author: str
    when: datetime
    rating: int
    best: int
    title: str
    text: str
    pros: str = ""
    cons: str = ""


def ru_long(when: datetime) -> str:
    """«3 декабря 2026, 14:05» (Moscow time)."""
    local = when.astimezone(MSK)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def ru_short(when: datetime) -> str:
    """«03 дек 2026, 14:05» as phpBB prints it."""
    local = when.astimezone(MSK)
    return f"{local:%d} {SHORT[local.month - 1]} {local.year}, {local:%H:%M}"


def vb_date(when: datetime, now: datetime) -> str:
    """vBulletin's «Сегодня, 14:05» / «Вчера, 10:00» / «03.12.2026, 14:05»."""
    local, today = when.astimezone(MSK), now.astimezone(MSK).date()
    if local.date() == today:
        return f"Сегодня, {local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return f"Вчера, {local:%H:%M}"
    return f"{local:%d.%m.%Y}, {local:%H:%M}"


class Boards:
    """All loopback sites: three forums with the same threads in different markup, two review sites."""

    def __init__(
        self,
        threads: int = 4,
        posts: int = 7,
        now: datetime | None = None,
        per_page: int = PER_PAGE,
        threads_per_page: int = THREADS_PER_PAGE,
        reviews: int = 7,
    ) -> None:
        self.now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        self.per_page, self.threads_per_page = per_page, threads_per_page
        self.lock = threading.Lock()
        self.forums: dict[str, list[Thread]] = {}
        next_id = 1000
        for engine in ENGINES:
            threads_list = []
            for t in range(threads):
                thread = Thread(id=10 + t, title=f"Банки и сервис: тема {t + 1}", slug=f"banki-i-servis-{t + 1}")
                for p in range(max(1, posts - t)):  # threads of different lengths: 7, 6, 5, 4 posts → 3, 2, 2, 2 pages
                    next_id += 1
                    when = self.now - timedelta(hours=3 * posts + 50 - 3 * p - t, minutes=7 * p)
                    quote = thread.posts[-1].id if p % 3 == 2 else None
                    thread.posts.append(
                        BoardPost(
                            next_id,
                            f"user_{engine}_{p}",
                            when,
                            TEXTS[(p + t) % len(TEXTS)] + f" ({engine} {t}.{p})",
                            quote,
                        )
                    )
                threads_list.append(thread)
            self.forums[engine] = threads_list
        self.next_id = next_id
        self.reviews: dict[str, list[SiteReview]] = {"ld": [], "cards": []}
        for i in range(reviews):
            for site, best in (("ld", 10), ("cards", 5)):
                rating = [9, 3, 7, 10, 1, 6, 8][i % 7] if best == 10 else [5, 2, 4, 1, 3, 5, 4][i % 7]
                self.reviews[site].append(
                    SiteReview(
                        id=500 + i + (100_000 if site == "cards" else 0),
                        product="Дебетовая карта Сбербанка" if site == "ld" else "Кредитная карта Т-Банка",
                        author=f"Покупатель {i}",
                        when=self.now - timedelta(days=i + 1, hours=i),
                        rating=rating,
                        best=best,
                        title=f"Отзыв {i + 1}",
                        text=TEXTS[(i + 3) % len(TEXTS)] + f" Отзыв номер {i + 1} на {site}.",
                        pros="удобное приложение" if i % 2 == 0 else "",
                        cons="очереди в отделениях" if i % 3 == 0 else "",
                    )
                )
        self.huge_bytes = 600_000

    # ----- changing the sites between crawls -------------------------------------------------------------
    def add_post(self, engine: str, thread_index: int, text: str) -> BoardPost:
        """A new post at the end of a thread (on a new page when the last one is full)."""
        with self.lock:
            self.next_id += 1
            post = BoardPost(self.next_id, "newcomer", self.now - timedelta(minutes=5), text)
            self.forums[engine][thread_index].posts.append(post)
            return post

    def add_review(self, site: str, text: str, rating: int) -> SiteReview:
        """A new review on top of the first page."""
        with self.lock:
            reviews = self.reviews[site]
            review = SiteReview(
                id=max(r.id for r in reviews) + 1,
                product=reviews[0].product,
                author="Новый покупатель",
                when=self.now - timedelta(minutes=30),
                rating=rating,
                best=reviews[0].best,
                title="Свежий отзыв",
                text=text,
            )
            reviews.insert(0, review)
            return review

    # ----- what the tests expect ----------------------------------------------------------------------
    def permalink(self, base: str, engine: str, thread: Thread, post: BoardPost) -> str:
        """The permalink the parser should give a post (as the engine itself links it)."""
        if engine == "phpbb":
            return f"{base}/phpbb/viewtopic.php?p={post.id}#p{post.id}"
        if engine == "xf":
            return f"{base}/xf/threads/{thread.slug}.{thread.id}/post-{post.id}"
        return f"{base}/vb/showthread.php?t={thread.id}&p={post.id}#post{post.id}"

    def review_url(self, base: str, site: str, review: SiteReview) -> str:
        """The permalink the parser should give a review."""
        if site == "ld":
            return f"{base}/otzovik/review/{review.id}"
        return f"{base}/cards/bank/7?review=review-{review.id}"

    def sources_yaml(self, base: str) -> str:
        """A sources file with the three forums and the two review sites."""
        return f"""sources:
  - name: Форум phpBB
    type: forum
    url: {base}/phpbb/viewforum.php?f=1
  - name: Форум XenForo
    type: forum
    url: {base}/xf/forums/banki.1/
  - name: Форум vBulletin
    type: forum
    url: {base}/vb/forumdisplay.php?f=1
  - name: Отзовик JSON-LD
    type: reviews
    url: {base}/otzovik/product/1
  - name: Отзывы карточками
    type: reviews
    url: {base}/cards/bank/7
"""

    # ----- pages ----------------------------------------------------------------------------------------
    def respond(self, path: str, query: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one GET."""
        q = {k: v[0] for k, v in parse_qs(query).items()}
        html = "text/html; charset=utf-8"
        with self.lock:
            if path == "/phpbb/viewforum.php":
                return 200, html, self._index("phpbb", int(q.get("start", 0)) // self.threads_per_page).encode()
            if path == "/phpbb/viewtopic.php" and q.get("t", "").isdigit():
                return self._thread_page("phpbb", int(q["t"]), int(q.get("start", 0)) // self.per_page)
            if path.startswith("/xf/forums/banki.1/"):
                page = path.rsplit("page-", 1)[1].strip("/") if "page-" in path else "1"
                return 200, html, self._index("xf", int(page) - 1).encode()
            if path.startswith("/xf/threads/"):
                slug_id = path.split("/")[3]
                page = path.rsplit("page-", 1)[1] if "/page-" in path else "1"
                return self._thread_page("xf", int(slug_id.rsplit(".", 1)[1]), int(page) - 1)
            if path == "/vb/forumdisplay.php":
                return 200, html, self._index("vb", int(q.get("page", 1)) - 1).encode()
            if path == "/vb/showthread.php" and q.get("t", "").isdigit():
                return self._thread_page("vb", int(q["t"]), int(q.get("page", 1)) - 1)
            if path == "/otzovik/product/1":
                return 200, html, self._ld_page(int(q.get("page", 1))).encode()
            if path == "/cards/bank/7":
                page = int(q.get("page", 1))
                body = self._cards_page(page)
                if page == 2:  # declares UTF-8 in the header but is windows-1251
                    return 200, html, body.encode("cp1251")
                return 200, "text/html", body.encode("cp1251")
        return 404, html, b"<html><body>not found</body></html>"

    def _thread(self, engine: str, thread_id: int) -> Thread | None:
        return next((t for t in self.forums[engine] if t.id == thread_id), None)

    def _thread_page(self, engine: str, thread_id: int, page: int) -> tuple[int, str, bytes]:
        thread = self._thread(engine, thread_id)
        if thread is None:
            if engine == "phpbb" and thread_id == 98:
                return 200, "text/html; charset=utf-8", BROKEN_PHPBB.encode()
            if engine == "phpbb" and thread_id == 99:
                return 200, "text/html; charset=utf-8", b"<html><body>" + b"x" * self.huge_bytes + b"</body></html>"
            return 404, "text/html; charset=utf-8", b"<html><body>no such thread</body></html>"
        pages = max(1, -(-len(thread.posts) // self.per_page))
        if page >= pages or page < 0:
            return 404, "text/html; charset=utf-8", b"<html><body>no such page</body></html>"
        posts = thread.posts[page * self.per_page : (page + 1) * self.per_page]
        render = {"phpbb": self._phpbb_thread, "xf": self._xf_thread, "vb": self._vb_thread}[engine]
        return 200, "text/html; charset=utf-8", render(thread, posts, page, pages).encode()

    def _index(self, engine: str, page: int) -> str:
        threads = self.forums[engine][page * self.threads_per_page : (page + 1) * self.threads_per_page]
        pages = -(-len(self.forums[engine]) // self.threads_per_page)
        last = page == pages - 1
        if engine == "phpbb":
            rows = "".join(
                f'<li class="row bg1"><dl class="row-item topic_read"><dt><div class="list-inner">'
                f'<a href="./viewtopic.php?t={t.id}" class="topictitle">{escape(t.title)}</a></div></dt>'
                f'<dd class="posts">{len(t.posts) - 1} <dfn>Ответы</dfn></dd><dd class="lastpost"><span>{ru_short(t.posts[-1].when)}</span></dd></dl></li>'
                for t in threads
            )
            if page == 0:  # two hostile threads: broken markup and a page over the size limit
                rows += '<li class="row"><a href="./viewtopic.php?t=98" class="topictitle">Сломанная тема</a></li>'
                rows += '<li class="row"><a href="./viewtopic.php?t=99" class="topictitle">Огромная тема</a></li>'
            nav = (
                ""
                if last
                else f'<li class="arrow next"><a href="./viewforum.php?f=1&amp;start={(page + 1) * self.threads_per_page}" rel="next">След.</a></li>'
            )
            return PHPBB_PAGE.format(
                title="Банки",
                body=f'<ul class="topiclist topics">{rows}</ul><div class="pagination"><ul>{nav}</ul></div>',
            )
        if engine == "xf":
            rows = "".join(
                f'<div class="structItem structItem--thread js-inlineModContainer"><div class="structItem-cell structItem-cell--main">'
                f'<div class="structItem-title"><a href="/xf/threads/{t.slug}.{t.id}/" data-tp-primary="on">{escape(t.title)}</a></div></div>'
                f'<div class="structItem-cell structItem-cell--meta"><dl class="pairs pairs--justified"><dt>Ответы</dt><dd>{len(t.posts) - 1}</dd></dl></div></div>'
                for t in threads
            )
            nav = (
                ""
                if last
                else f'<a href="/xf/forums/banki.1/page-{page + 2}" class="pageNav-jump pageNav-jump--next">Вперёд</a>'
            )
            return XF_PAGE.format(
                title="Банки",
                body=f'<div class="structItemContainer">{rows}</div><nav class="pageNavWrapper">{nav}</nav>',
            )
        rows = "".join(
            f'<li class="threadbit" id="thread_{t.id}"><h3 class="threadtitle">'
            f'<a class="title" href="showthread.php?t={t.id}" id="thread_title_{t.id}">{escape(t.title)}</a></h3>'
            f'<ul class="threadstats td alt"><li>Ответов: {len(t.posts) - 1}</li></ul></li>'
            for t in threads
        )
        nav = (
            ""
            if last
            else f'<span class="prev_next"><a rel="next" href="forumdisplay.php?f=1&amp;page={page + 2}">&gt;</a></span>'
        )
        return VB_PAGE.format(
            title="Банки", body=f'<ol id="threads" class="threads">{rows}</ol><div class="pagenav">{nav}</div>'
        )

    def _quote_of(self, thread: Thread, post: BoardPost) -> BoardPost | None:
        return next((p for p in thread.posts if p.id == post.quote), None) if post.quote else None

    def _phpbb_thread(self, thread: Thread, posts: list[BoardPost], page: int, pages: int) -> str:
        out = []
        for n, post in enumerate(posts):
            quoted = self._quote_of(thread, post)
            quote = (
                f'<blockquote><div><cite><a href="./memberlist.php?mode=viewprofile&amp;u=2">{quoted.author}</a> писал(а): '
                f'<a href="./viewtopic.php?p={quoted.id}#p{quoted.id}" data-post-id="{quoted.id}">↑</a></cite>{escape(quoted.text)}</div></blockquote>'
                if quoted
                else ""
            )
            # the first thread's posts use phpBB 3.0's plain Russian date; the others 3.3's <time datetime>
            when = (
                f"от <strong>{post.author}</strong> » {ru_short(post.when)}"
                if thread.id == 10
                else f'<span class="responsive-hide">Автор: <strong><a href="./memberlist.php?mode=viewprofile&amp;u=5" class="username">{post.author}</a></strong> » </span>'
                f'<time datetime="{post.when.astimezone(UTC):%Y-%m-%dT%H:%M:%S+00:00}">{ru_short(post.when)}</time>'
            )
            out.append(
                f'<div id="p{post.id}" class="post has-profile bg{n % 2 + 1}"><div class="inner">'
                f'<dl class="postprofile" id="profile{post.id}"><dt><a href="./memberlist.php?mode=viewprofile&amp;u=5" class="username">{post.author}</a></dt></dl>'
                f'<div class="postbody"><div id="post_content{post.id}"><h3><a href="#p{post.id}">Re: {escape(thread.title)}</a></h3>'
                f'<p class="author"><a class="unread" href="./viewtopic.php?p={post.id}#p{post.id}" title="Сообщение"></a>{when}</p>'
                f'<div class="content">{quote}{escape(post.text)}<br>Спасибо за внимание.</div>'
                f'<div id="sig{post.id}" class="signature">Подпись {post.author}</div></div></div></div></div>'
            )
        nav = (
            f'<li class="arrow next"><a class="button" href="./viewtopic.php?t={thread.id}&amp;start={(page + 1) * self.per_page}" rel="next">След.</a></li>'
            if page < pages - 1
            else ""
        )
        body = f'<h2 class="topic-title"><a href="./viewtopic.php?t={thread.id}">{escape(thread.title)}</a></h2>{"".join(out)}<div class="pagination"><ul>{nav}</ul></div>'
        return PHPBB_PAGE.format(title=escape(thread.title), body=body)

    def _xf_thread(self, thread: Thread, posts: list[BoardPost], page: int, pages: int) -> str:
        out = []
        base = f"/xf/threads/{thread.slug}.{thread.id}"
        for n, post in enumerate(posts):
            quoted = self._quote_of(thread, post)
            quote = (
                f'<blockquote data-attributes="member: 3" data-quote="{quoted.author}" data-source="post: {quoted.id}" class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">'
                f'<div class="bbCodeBlock-title"><a href="/xf/goto/post?id={quoted.id}" class="bbCodeBlock-sourceJump">{quoted.author} сказал(а):</a></div>'
                f'<div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent">{escape(quoted.text)}</div>'
                f'<div class="bbCodeBlock-expandLink js-expandLink"><a role="button">Нажмите, чтобы раскрыть...</a></div></div></blockquote>'
                if quoted
                else ""
            )
            local = post.when.astimezone(MSK)
            out.append(
                f'<article class="message message--post js-post js-inlineModContainer" data-author="{post.author}" data-content="post-{post.id}" id="js-post-{post.id}">'
                f'<span class="u-anchorTarget" id="post-{post.id}"></span><div class="message-inner"><div class="message-cell message-cell--main">'
                f'<header class="message-attribution message-attribution--split"><ul class="message-attribution-main listInline">'
                f'<li class="u-concealed"><a href="{base}/post-{post.id}" rel="nofollow"><time class="u-dt" dir="auto" datetime="{local:%Y-%m-%dT%H:%M:%S%z}" '
                f'data-timestamp="{int(post.when.timestamp())}" data-date="{local:%d.%m.%Y}" data-time="{local:%H:%M}" title="{ru_long(post.when)}">{ru_short(post.when)}</time></a></li></ul>'
                f'<ul class="message-attribution-opposite listInline"><li><a href="{base}/post-{post.id}" rel="nofollow">#{page * self.per_page + n + 1}</a></li></ul></header>'
                f'<div class="message-content js-messageContent"><div class="message-userContent lbContainer js-lbContainer" data-lb-id="post-{post.id}">'
                f'<article class="message-body js-selectToQuote"><div class="bbWrapper">{quote}{escape(post.text)}</div>'
                f'<div class="js-selectToQuoteEnd">&nbsp;</div></article></div></div></div></div></article>'
            )
        nav = (
            f'<a href="{base}/page-{page + 2}" class="pageNav-jump pageNav-jump--next">Вперёд</a>'
            if page < pages - 1
            else ""
        )
        body = f'<div class="p-title"><h1 class="p-title-value">{escape(thread.title)}</h1></div><div class="block-body js-replyNewMessageContainer">{"".join(out)}</div><nav class="pageNavWrapper">{nav}</nav>'
        return XF_PAGE.format(title=escape(thread.title), body=body)

    def _vb_thread(self, thread: Thread, posts: list[BoardPost], page: int, pages: int) -> str:
        out = []
        for n, post in enumerate(posts):
            quoted = self._quote_of(thread, post)
            quote = (
                f'<div class="bbcode_container"><div class="bbcode_quote"><div class="quote_container"><div class="bbcode_quote_container"></div>'
                f'<div class="bbcode_postedby"><img title="Цитата" src="images/misc/quote_icon.png" alt="Цитата"> Сообщение от <strong>{quoted.author}</strong>'
                f'<a href="showthread.php?p={quoted.id}#post{quoted.id}" rel="nofollow"><img class="inlineimg" src="images/buttons/viewpost-right.png" alt="Посмотреть сообщение"></a></div>'
                f'<div class="message">{escape(quoted.text)}</div></div></div></div>'
                if quoted
                else ""
            )
            day, _, clock = vb_date(post.when, self.now).partition(", ")
            out.append(
                f'<li class="postbitlegacy postbitim postcontainer old" id="post_{post.id}"><div class="posthead">'
                f'<span class="postdate old"><span class="date">{day},&nbsp;<span class="time">{clock}</span></span></span>'
                f'<span class="nodecontrols"><a name="post{post.id}" href="showthread.php?t={thread.id}&amp;p={post.id}#post{post.id}" class="postcounter">#{page * self.per_page + n + 1}</a></span></div>'
                f'<div class="postdetails"><div class="userinfo"><div class="username_container"><a class="username offline popupctrl" href="member.php?u=5"><strong>{post.author}</strong></a></div></div>'
                f'<div class="postbody"><div class="postrow"><h2 class="title icon">{escape(thread.title)}</h2><div class="content">'
                f'<div id="post_message_{post.id}"><blockquote class="postcontent restore ">{quote}{escape(post.text)}</blockquote></div></div></div>'
                f'<div class="after_content"><blockquote class="signature restore">Подпись</blockquote></div></div></div></li>'
            )
        nav = (
            f'<span class="prev_next"><a rel="next" href="showthread.php?t={thread.id}&amp;page={page + 2}" title="Следующая страница">&gt;</a></span>'
            if page < pages - 1
            else ""
        )
        body = f'<div id="pagetitle"><h1>Тема: <span class="threadtitle"><a href="showthread.php?t={thread.id}">{escape(thread.title)}</a></span></h1></div><ol id="posts" class="posts">{"".join(out)}</ol><div class="pagenav">{nav}</div>'
        return VB_PAGE.format(title=escape(thread.title), body=body)

    def _reviews_page(self, site: str, page: int) -> tuple[list[SiteReview], bool]:
        reviews = self.reviews[site]
        return reviews[(page - 1) * self.per_page : page * self.per_page], page * self.per_page < len(reviews)

    def _ld_page(self, page: int) -> str:
        reviews, more = self._reviews_page("ld", page)
        product = self.reviews["ld"][0].product
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": product,
            "aggregateRating": {
                "@type": "AggregateRating",
                "ratingValue": round(sum(r.rating for r in self.reviews["ld"]) / len(self.reviews["ld"]), 1),
                "bestRating": 10,
                "reviewCount": len(self.reviews["ld"]),
            },
            "review": [
                {
                    "@type": "Review",
                    "url": f"/otzovik/review/{r.id}",
                    "name": r.title,
                    "author": {"@type": "Person", "name": r.author},
                    "datePublished": r.when.astimezone(MSK).isoformat(),
                    "reviewBody": r.text,
                    "reviewRating": {
                        "@type": "Rating",
                        "ratingValue": str(r.rating),
                        "bestRating": "10",
                        "worstRating": "1",
                    },
                }
                for r in reviews
            ],
        }
        cards = "".join(f'<div class="item"><h3>{escape(r.title)}</h3><p>{escape(r.text)}</p></div>' for r in reviews)
        nav = f'<a rel="next" href="/otzovik/product/1?page={page + 1}">Дальше</a>' if more else ""
        broken = '<script type="application/ld+json">{"@type": "BreadcrumbList", oops</script>'
        return (
            f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{product} — отзывы</title>{broken}'
            f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>'
            f'<body><h1>{product}</h1>{cards}<div class="pager">{nav}</div></body></html>'
        )

    def _cards_page(self, page: int) -> str:
        reviews, more = self._reviews_page("cards", page)
        cards = []
        for r in reviews:
            stars = "".join(f'<i class="star{" star--active" if k < r.rating else ""}"></i>' for k in range(r.best))
            extra = (f'<div class="review-pros">{r.pros}</div>' if r.pros else "") + (
                f'<div class="review-cons">{r.cons}</div>' if r.cons else ""
            )
            cards.append(
                f'<div class="review-card" id="review-{r.id}"><div class="review-head"><span class="review-author">{r.author}</span>'
                f'<span class="review-date">{ru_long(r.when)}</span><div class="rating-stars" title="Оценка">{stars}</div></div>'
                f'<h3 class="review-title">{r.title}</h3><div class="review-text">{r.text}</div>{extra}</div>'
            )
        nav = (
            f'<div class="pagination"><span class="current">{page}</span> <a href="/cards/bank/7?page={page + 1}">{page + 1}</a></div>'
            if more
            else ""
        )
        return (
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"><title>Отзывы</title></head>'
            f'<body><h1>{self.reviews["cards"][0].product}</h1><div class="reviews-list">{"".join(cards)}</div>{nav}</body></html>'
        )


PHPBB_PAGE = (
    '<!DOCTYPE html><html dir="ltr" lang="ru"><head><meta charset="utf-8"><title>{title} - Форум</title></head>'
    '<body id="phpbb" class="section-viewtopic ltr"><div id="wrap" class="wrap"><div id="page-body" class="page-body">{body}</div></div></body></html>'
)
XF_PAGE = (
    '<!DOCTYPE html><html id="XF" lang="ru-RU" dir="LTR" data-app="public" data-template="thread_view"><head><meta charset="utf-8">'
    '<title>{title} | Форум</title></head><body data-template="thread_view"><div class="p-body">{body}</div></body></html>'
)
VB_PAGE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"><html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="ru">'
    '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" /><meta name="generator" content="vBulletin 4.2.5" />'
    "<title>{title}</title></head><body>{body}</body></html>"
)
# Broken markup: unclosed tags, a stray </div>, a post without an id; one real post survives.
BROKEN_PHPBB = (
    '<html><head><title>Сломанная тема</title><body><h2 class="topic-title">Сломанная тема</h2></div></div>'
    '<div id="p9001" class="post"><div class="postbody"><p class="author"><time datetime="2026-11-30T10:00:00+00:00">x</time>'
    '<div class="content">ВТБ снова <b>сломал <i>приложение<div class="post"><div class="content">без id'
)


class _Handler(BaseHTTPRequestHandler):
    """Routes every GET to the Boards; pages carry an ETag and answer If-None-Match with 304."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.server.hits_lock:
            self.server.hits[parts.path + ("?" + parts.query if parts.query else "")] += 1
        status, content_type, body = self.server.boards.respond(parts.path, parts.query)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    boards: Boards
    hits: Counter[str]
    hits_lock: threading.Lock

    def handle_error(self, request: object, client_address: object) -> None:
        return


class BoardServer:
    """Serve Boards on a free 127.0.0.1 port: `with BoardServer(boards) as server: server.url`."""

    def __init__(self, boards: Boards) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.boards = boards
        self.httpd.hits = Counter()
        self.httpd.hits_lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def hits(self) -> Counter[str]:
        """Requests per path and query."""
        return self.httpd.hits

    def __enter__(self) -> BoardServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
