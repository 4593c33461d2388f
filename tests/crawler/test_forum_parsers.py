"""Forum parsing: the three engines' markup (several versions), permalinks, dates, quotes, paging and index links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.forums import parse_forum_page
from crawler.postdates import parse_post_date

from .boards import Boards

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
MSK = timezone(timedelta(hours=3))
BASE = "http://forum.example.ru"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 декабря 2026, 14:05", datetime(2026, 12, 3, 14, 5, tzinfo=MSK)),
        ("03 дек 2026, 14:05", datetime(2026, 12, 3, 14, 5, tzinfo=MSK)),
        ("3 дек. 2026 в 14:05", datetime(2026, 12, 3, 14, 5, tzinfo=MSK)),
        ("03.12.2026, 14:05", datetime(2026, 12, 3, 14, 5, tzinfo=MSK)),
        ("Сегодня, 09:15", datetime(2026, 12, 3, 9, 15, tzinfo=MSK)),
        ("Вчера, 23:59", datetime(2026, 12, 2, 23, 59, tzinfo=MSK)),
        ("Добавлено: 03 дек 2012, 14:05", datetime(2012, 12, 3, 14, 5, tzinfo=timezone(timedelta(hours=4)))),
        ("2026-12-03T11:05:00+00:00", datetime(2026, 12, 3, 11, 5, tzinfo=UTC)),
        ("2026-12-03T14:05:00+0300", datetime(2026, 12, 3, 11, 5, tzinfo=UTC)),
        ("1796302800", datetime.fromtimestamp(1796302800, UTC)),
        ("Thu Dec 03, 2026 2:05 pm", datetime(2026, 12, 3, 14, 5, tzinfo=MSK)),
    ],
)
def test_dates_in_the_engines_formats(text: str, expected: datetime) -> None:
    assert parse_post_date(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "#1", "12", "ерунда", "Re: тема", "5 декабря 2027, 10:00", "01.01.1970"])
def test_what_is_no_date(text: str) -> None:
    assert parse_post_date(text, NOW) is None  # post numbers, words, the future, the epoch


def _page(boards: Boards, path: str, base: str = BASE):
    route, _, query = path.partition("?")
    status, content_type, body = boards.respond(route, query)
    assert status == 200
    page = parse_forum_page(body, base + path, content_type, now=boards.now)
    assert page is not None
    return page


@pytest.mark.parametrize(
    ("engine", "first", "second", "expected_engine"),
    [
        ("phpbb", "/phpbb/viewtopic.php?t=11", "/phpbb/viewtopic.php?t=11&start=3", "phpbb"),
        ("xf", "/xf/threads/banki-i-servis-2.11/", "/xf/threads/banki-i-servis-2.11/page-2", "xenforo"),
        ("vb", "/vb/showthread.php?t=11", "/vb/showthread.php?t=11&page=2", "vbulletin"),
    ],
)
def test_thread_pages_of_each_engine(engine: str, first: str, second: str, expected_engine: str) -> None:
    boards = Boards()
    thread = boards.forums[engine][1]
    one, two = _page(boards, first), _page(boards, second)
    assert one.engine == two.engine == expected_engine
    assert one.title == two.title == thread.title
    assert one.next_url == BASE + second and two.next_url == ""
    posts = one.posts + two.posts
    assert [p.id for p in posts] == [str(p.id) for p in thread.posts]
    assert [p.url for p in posts] == [boards.permalink(BASE, engine, thread, p) for p in thread.posts]
    assert [p.published for p in posts] == [p.when for p in thread.posts]
    for got, want in zip(posts, thread.posts, strict=True):
        assert want.text in got.text
        assert got.thread_title == thread.title
        assert got.author == want.author  # parsed; whether it is stored is the spider's decision
        assert "Подпись" not in got.text  # signatures are not the post
        if want.quote:
            quoted = next(p for p in thread.posts if p.id == want.quote)
            assert got.quotes == 1 and quoted.text not in got.text  # the quote is cut out, and counted
            assert got.quoted and str(quoted.id) in got.quoted[0]
        else:
            assert got.quotes == 0


def test_plain_russian_dates_of_phpbb_3_0() -> None:
    boards = Boards()
    thread = boards.forums["phpbb"][0]  # rendered without <time>: «от user » 01 дек 2026, 13:26»
    page = _page(boards, "/phpbb/viewtopic.php?t=10")
    assert [p.published for p in page.posts] == [p.when for p in thread.posts[:3]]


def test_relative_dates_of_vbulletin() -> None:
    boards = Boards(now=datetime.now(UTC))
    thread = boards.forums["vb"][3]
    boards.add_post("vb", 3, "Сегодняшний пост про Сбер")
    last_page = -(-len(thread.posts) // 3)
    page = _page(boards, f"/vb/showthread.php?t={thread.id}&page={last_page}")
    assert page.posts[-1].published == thread.posts[-1].when  # «Сегодня, HH:MM»


@pytest.mark.parametrize(
    ("engine", "path", "threads", "next_path"),
    [
        (
            "phpbb",
            "/phpbb/viewforum.php?f=1",
            ["/phpbb/viewtopic.php?t=10", "/phpbb/viewtopic.php?t=11"],
            "/phpbb/viewforum.php?f=1&start=2",
        ),
        (
            "xf",
            "/xf/forums/banki.1/",
            ["/xf/threads/banki-i-servis-1.10/", "/xf/threads/banki-i-servis-2.11/"],
            "/xf/forums/banki.1/page-2",
        ),
        (
            "vb",
            "/vb/forumdisplay.php?f=1",
            ["/vb/showthread.php?t=10", "/vb/showthread.php?t=11"],
            "/vb/forumdisplay.php?f=1&page=2",
        ),
    ],
)
def test_index_pages_list_threads_and_page_on(engine: str, path: str, threads: list[str], next_path: str) -> None:
    page = _page(Boards(), path)
    assert page.posts == []
    assert page.threads[:2] == [BASE + t for t in threads]
    assert page.next_url == BASE + next_path


XENFORO_1 = """<html><head><base href="http://forum.example.ru/"><title>Тема</title></head><body><div class="titleBar"><h1>Вклады в ВТБ</h1></div>
<ol class="messageList" id="messageList">
<li id="post-789" class="message" data-author="ivan">
 <div class="messageInfo"><div class="messageContent"><article>
  <blockquote class="messageText SelectQuoteContainer ugc baseHtml">
   <div class="bbCodeBlock bbCodeQuote" data-author="petr"><aside><div class="attribution type">petr сказал(а):
    <a href="goto/post?id=788#post-788" class="AttributionLink">↑</a></div>
    <blockquote class="quoteContainer"><div class="quote">Старый текст про Сбер</div></blockquote></aside></div>
   ВТБ поднял ставки.<br>Вторая строка.
  </blockquote></article></div>
 <div class="messageMeta"><div class="privateControls"><a href="threads/vklady.55/#post-789" class="item muted postNumber hashPermalink">#2</a>
  <a href="posts/789/" class="datePermalink"><abbr class="DateTime" data-time="1796302800" data-diff="1">3 дек 2026 в 13:00</abbr></a></div></div>
 </div></li></ol></body></html>"""

VBULLETIN_3 = """<html><head><meta name="generator" content="vBulletin 3.8.7"><title>Альфа - Форум</title></head><body>
<table><tr><td class="navbar"><a href="index.php">Форум</a> &gt; <strong>Альфа-Банк и кредитки</strong></td></tr></table>
<div id="edit4401"><table id="post4401" class="tborder"><tr>
 <td class="thead"><a name="post4401"><img class="inlineimg" src="i.gif" alt="Старый"></a> 03.12.2026, 14:05</td>
 <td class="thead" align="right">#<a href="showpost.php?p=4401&amp;postcount=1" id="postcount4401" name="1"><strong>1</strong></a></td></tr>
 <tr><td class="alt2"><a class="bigusername" href="member.php?u=3">olga</a></td>
 <td class="alt1" id="td_post_4401"><div id="post_message_4401">
  <div style="margin:20px; margin-top:5px; "><div class="smallfont" style="margin-bottom:2px">Цитата:</div>
  <table cellpadding="6" width="100%"><tr><td class="alt2">Сообщение от <strong>max</strong><div>Чужой текст</div></td></tr></table></div>
  Альфа-Банк снова звонит.</div></td></tr></table></div>
<div class="pagenav"><table><tr><td><span class="smallfont" title="Показано с 1 по 10 из 30">Страница 1 из 3</span></td>
<td class="alt2"><span class="smallfont" title="Показано с 1 по 10 из 30"><strong>1</strong></span></td>
<td class="alt1"><a class="smallfont" href="showthread.php?t=77&amp;page=2" title="с 11 по 20 из 30">2</a></td></tr></table></div>
</body></html>"""


def test_xenforo_1_markup() -> None:
    page = parse_forum_page(XENFORO_1.encode(), f"{BASE}/threads/vklady.55/", now=NOW)
    assert page is not None and page.engine == "xenforo" and page.title == "Вклады в ВТБ"
    (post,) = page.posts
    assert post.url == f"{BASE}/posts/789/"
    assert post.published == datetime.fromtimestamp(1796302800, UTC)
    assert post.text == "ВТБ поднял ставки.\nВторая строка."
    assert post.quotes == 1 and post.quoted == [f"{BASE}/goto/post?id=788#post-788"]
    assert post.author == "ivan"


def test_vbulletin_3_markup() -> None:
    page = parse_forum_page(VBULLETIN_3.encode(), f"{BASE}/showthread.php?t=77", now=NOW)
    assert page is not None and page.engine == "vbulletin" and page.title == "Альфа-Банк и кредитки"
    (post,) = page.posts
    assert post.url == f"{BASE}/showpost.php?p=4401&postcount=1"
    assert post.published == datetime(2026, 12, 3, 14, 5, tzinfo=MSK)
    assert post.text == "Альфа-Банк снова звонит." and post.quotes == 1
    assert post.author == "olga"
    assert page.next_url == f"{BASE}/showthread.php?t=77&page=2"  # numbered pagination without rel=next


def test_hostile_pages_give_what_they_hold() -> None:
    boards = Boards()
    broken = _page(boards, "/phpbb/viewtopic.php?t=98")
    assert broken.title == "Сломанная тема"
    assert broken.posts and "ВТБ снова сломал приложение" in broken.posts[0].text
    assert parse_forum_page(b"<html><body><p>just a page</p></body></html>", BASE) is None
    assert parse_forum_page(b"", BASE) is None
    assert parse_forum_page(b"\xff\xfe\x00garbage\x00" * 100, BASE) is None


VBULLETIN_5 = """<html><head><title>Ипотека</title></head><body>
<h1 class="main-title js-main-title">Ипотека в Сбере</h1>
<ul class="conversation-list list-container thread-view">
<li class="b-post js-post b-post--first" data-node-id="456" itemscope itemtype="http://schema.org/DiscussionForumPosting">
 <div class="b-userinfo"><div class="b-userinfo__details"><div class="author"><strong><a href="/member/5-olga">olga</a></strong></div></div></div>
 <div class="b-post__body"><div class="b-post__timestamp"><time itemprop="dateCreated" datetime="2026-12-03T14:05:00">03.12.2026, 14:05</time></div>
  <a class="b-post__count js-show-post-link" href="/forum/banki/77-ipoteka?p=456#post456">#1</a>
  <div class="b-post__content js-post__content"><div class="js-post__content-text restore h-wordwrap" itemprop="text">
   <div class="bbcode_container"><div class="bbcode_quote"><div class="quote_container"><div class="message">Чужая цитата</div></div></div></div>
   Сбер одобрил ипотеку за два дня.</div></div></div></li></ul></body></html>"""


def test_vbulletin_5_markup() -> None:
    page = parse_forum_page(VBULLETIN_5.encode(), f"{BASE}/forum/banki/77-ipoteka", now=NOW)
    assert page is not None and page.engine == "vbulletin" and page.title == "Ипотека в Сбере"
    (post,) = page.posts
    assert post.url == f"{BASE}/forum/banki/77-ipoteka?p=456#post456"
    assert post.published == datetime(2026, 12, 3, 14, 5, tzinfo=MSK)
    assert post.text == "Сбер одобрил ипотеку за два дня." and post.quotes == 1
    assert post.author == "olga"
