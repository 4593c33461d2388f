"""HTML, feed and sitemap templates of the dev site: several outlet layouts with real-world boilerplate."""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from typing import TYPE_CHECKING

from crawler.devsite.text import MONTHS

if TYPE_CHECKING:
    from crawler.devsite.site import DevArticle, DevSite, Outlet

from html import escape as _escape


def esc(value: str) -> str:
    """HTML/XML escape."""
    return _escape(value, quote=True)


BROKEN_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Сломанная лента</title>
<item><title>Незакрытый элемент <link>http://example.invalid/1</link>
<description>Текст & без экранирования <b>
</channel>"""

NAV = ["Главная", "Экономика", "Финансы", "Бизнес", "Регион", "Спецпроекты", "Подписка", "Контакты"]


def _nav(base: str) -> str:
    """Site navigation menu."""
    items = "".join(f'<li><a href="{base}/{i}">{n}</a></li>' for i, n in enumerate(NAV))
    return f'<nav class="menu"><ul>{items}</ul></nav>'


def _popular(site: DevSite, article: DevArticle, base: str) -> str:
    """Sidebar of other articles' headlines (boilerplate the extractor must drop)."""
    others = [
        a for a in site.articles[max(0, article.num - 6) : article.num + 6] if a is not article and not a.private
    ][:5]
    items = "".join(f'<li><a href="{base}{a.path}">{esc(a.title)}</a></li>' for a in others)
    return f'<aside class="sidebar"><h3>Самое читаемое</h3><ul>{items}</ul><div class="banner">Реклама</div></aside>'


def _comments(article: DevArticle) -> str:
    """Reader comments block."""
    items = "".join(
        f'<div class="comment"><b>Читатель {i + 1}</b><p>{esc(c)}</p></div>' for i, c in enumerate(article.comments)
    )
    return f'<section class="comments"><h3>Комментарии</h3>{items}<form><textarea></textarea><button>Отправить</button></form></section>'


def _footer(name: str) -> str:
    """Site footer."""
    return (
        f"<footer><p>© 2025 {esc(name)}. Все права защищены. 18+</p><p>Свидетельство о регистрации СМИ "
        f"Эл № ФС77-00000. Использование материалов разрешено при наличии гиперссылки.</p></footer>"
    )


def _human_date(article: DevArticle) -> str:
    """'4 марта 2025, 12:30'."""
    p = article.published
    return f"{p.day} {MONTHS[p.month - 1]} {p.year}, {p:%H:%M}"


def article(site: DevSite, base: str, a: DevArticle) -> str:
    """Render an article page in its outlet's layout."""
    url = f"{base}{a.path}"
    body = "".join(f"<p>{esc(p)}</p>" for p in a.paragraphs)
    codec, declared = a.encoding
    layout = a.outlet.layout
    dated = a.outlet.feed != "sitemap"  # the sitemap outlet's pages carry no machine-readable date
    head_meta = ""
    if declared == "meta":
        head_meta += f'<meta http-equiv="Content-Type" content="text/html; charset={"windows-1251" if codec == "cp1251" else codec}">'
    elif codec == "utf-8":
        head_meta += '<meta charset="utf-8">'
    if dated and layout in ("classic", "modern"):
        head_meta += f'<meta property="article:published_time" content="{a.published.isoformat()}">'
    head = (
        f'<!DOCTYPE html><html lang="ru"><head>{head_meta}<title>{esc(a.title)} — {esc(a.outlet.name)}</title>'
        f'<link rel="canonical" href="{url}"><meta name="viewport" content="width=device-width">'
        f'<meta property="og:title" content="{esc(a.title)}"><meta name="author" content="{esc(a.author)}">'
        f'<link rel="stylesheet" href="/static/site.css"><script>window.dataLayer=[];</script></head>'
    )
    if layout == "classic":
        return (
            f'{head}<body><header><a class="logo" href="{base}/">{esc(a.outlet.name)}</a>{_nav(base)}</header>'
            f'<div class="breadcrumbs"><a href="{base}/">Главная</a> / {esc(a.section)}</div>'
            f'<main><article class="article"><h1>{esc(a.title)}</h1>'
            f'<div class="article__meta"><span class="author">{esc(a.author)}</span> '
            + (f'<span class="date">{_human_date(a)}</span>' if dated else "")
            + f'</div><div class="article__body">{body}</div>'
            f'<div class="tags">Теги: <a href="#">экономика</a> <a href="#">рынки</a></div></article>'
            f"{_popular(site, a, base)}{_comments(a)}</main>{_footer(a.outlet.name)}</body></html>"
        )
    if layout == "modern":
        return (
            f'{head}<body><div id="app"><div class="topbar">{_nav(base)}<div class="search"><input placeholder="Поиск"></div></div>'
            f'<div class="content"><div class="post"><h1 class="post-title">{esc(a.title)}</h1>'
            f'<time class="post-date" datetime="{a.published.isoformat()}">{_human_date(a)}</time>'
            f'<div class="post-author">Автор: {esc(a.author)}</div><div class="post-body">{body}</div>'
            f'<div class="share">Поделиться: ВКонтакте · Telegram · Одноклассники</div></div>'
            f'<div class="related"><h4>Читайте также</h4>{_popular(site, a, base)}</div>{_comments(a)}</div>'
            f"{_footer(a.outlet.name)}</div></body></html>"
        )
    if layout == "portal":
        ld = (
            '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
            f'"headline":"{esc(a.title)}","datePublished":"{a.published.isoformat()}"}}</script>'
        )
        return (
            f'{head.replace("</head>", ld + "</head>")}<body><div class="portal">{_nav(base)}'
            f'<div class="weather">Погода: +12, курс доллара 90,15</div><div class="main-column">'
            f'<h1>{esc(a.title)}</h1><div class="when">{_human_date(a)}</div><div class="text">{body}</div>'
            f'<div class="author-box">Текст: {esc(a.author)}</div></div>{_popular(site, a, base)}{_comments(a)}'
            f"{_footer(a.outlet.name)}</div></body></html>"
        )
    # legacy: table layout, date as plain text only
    return (
        f'{head}<body bgcolor="#ffffff"><table width="100%"><tr><td colspan="2"><font size="5">{esc(a.outlet.name)}</font>'
        f'</td></tr><tr><td width="20%" valign="top">{_nav(base)}</td><td valign="top">'
        f"<h1>{esc(a.title)}</h1><p><i>{a.published:%d.%m.%Y}</i> | {esc(a.author)}</p>{body}"
        f'</td></tr><tr><td colspan="2">{_comments(a)}</td></tr></table>{_footer(a.outlet.name)}</body></html>'
    )


def home(site: DevSite, base: str) -> str:
    """Front page with links to outlets."""
    links = "".join(
        f'<li><a href="{base}/{o}">{o}</a></li>' for o in ("vestnik", "pulse", "lenta", "novosti", "starye")
    )
    return f'<html><head><meta charset="utf-8"><title>Медиахолдинг</title></head><body><ul>{links}</ul></body></html>'


def simple_page(title: str, text: str) -> str:
    """A tiny page (404, slow)."""
    return f'<html><head><meta charset="utf-8"><title>{esc(title)}</title></head><body><h1>{esc(title)}</h1><p>{esc(text)}</p></body></html>'


def huge(size: int) -> bytes:
    """A page larger than the crawler's size limit."""
    chunk = "<p>" + "Очень длинная страница. " * 40 + "</p>"
    head = '<html><head><meta charset="utf-8"><title>Огромная страница</title></head><body>'
    times = max(1, size // len(chunk.encode()) + 1)
    return (head + chunk * times + "</body></html>").encode()


def _rfc822(a: DevArticle) -> str:
    """RSS pubDate."""
    return format_datetime(a.published, usegmt=False)


def rss(site: DevSite, base: str, items: list[DevArticle], outlet: Outlet) -> str:
    """RSS 2.0 feed; links carry utm tags that the canonical URL drops; one item points to a missing page."""
    entries = [
        f"<item><title>{esc(a.title)}</title><link>{base}{a.path}?utm_source=rss&amp;utm_medium=feed</link>"
        f'<guid isPermaLink="false">{outlet.slug}-{a.num}</guid><pubDate>{_rfc822(a)}</pubDate>'
        f"<description>{esc(a.lead[:200])}</description><category>{a.section}</category></item>"
        for a in items
    ]
    entries.append(
        f"<item><title>Удалённая статья</title><link>{base}/{outlet.slug}/ekonomika/removed-404.html</link>"
        f"<pubDate>{format_datetime(site.now, usegmt=False)}</pubDate></item>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{esc(outlet.name)}</title><link>{base}/{outlet.slug}/</link><description>Новости</description>"
        + "".join(entries)
        + "</channel></rss>"
    )


def atom(site: DevSite, base: str, items: list[DevArticle], outlet: Outlet) -> str:
    """Atom 1.0 feed."""
    entries = "".join(
        f'<entry><title>{esc(a.title)}</title><link rel="alternate" href="{base}{a.path}"/><id>tag:{outlet.slug},{a.num}</id>'
        f"<published>{a.published.isoformat()}</published><updated>{a.published.isoformat()}</updated>"
        f"<summary>{esc(a.lead[:200])}</summary><author><name>{esc(a.author)}</name></author></entry>"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{esc(outlet.name)}</title><id>tag:{outlet.slug}</id><updated>{site.now.isoformat()}</updated>{entries}</feed>"
    )


def yandex(site: DevSite, base: str, items: list[DevArticle], outlet: Outlet) -> str:
    """Yandex-format RSS whose yandex:full-text carries the whole article."""
    entries = "".join(
        f"<item><title>{esc(a.title)}</title><link>{base}{a.path}</link><pubDate>{_rfc822(a)}</pubDate>"
        f"<author>{esc(a.author)}</author><description>{esc(a.lead[:200])}</description>"
        f"<yandex:full-text>{esc(''.join(f'<p>{p}</p>' for p in a.paragraphs))}</yandex:full-text></item>"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:yandex="http://news.yandex.ru" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>{esc(outlet.name)}</title><link>{base}/{outlet.slug}/</link>{entries}</channel></rss>"
    )


def sitemap_index(site: DevSite, base: str) -> str:
    """Sitemap index pointing at a Google news sitemap and an archive sitemap."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/novosti/sitemap-news.xml</loc><lastmod>{site.now.isoformat()}</lastmod></sitemap>"
        f"<sitemap><loc>{base}/novosti/sitemap-archive.xml</loc></sitemap></sitemapindex>"
    )


def news_sitemap(site: DevSite, base: str, items: list[DevArticle]) -> str:
    """Google News sitemap: publication date and title per URL."""
    urls = "".join(
        f"<url><loc>{base}{a.path}</loc><news:news><news:publication><news:name>Новости24</news:name>"
        f"<news:language>ru</news:language></news:publication><news:publication_date>{a.published.isoformat()}"
        f"</news:publication_date><news:title>{esc(a.title)}</news:title></news:news></url>"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>"
    )


def url_sitemap(site: DevSite, base: str, items: list[DevArticle]) -> str:
    """Plain sitemap with lastmod."""
    urls = "".join(f"<url><loc>{base}{a.path}</loc><lastmod>{a.published.isoformat()}</lastmod></url>" for a in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + urls
        + "</urlset>"
    )


def legacy_section(site: DevSite, base: str, number: int) -> str:
    """Section page of the legacy outlet (cp1251): article links, paging, and trap links on page 1."""
    items = site.outlet_articles("starye")
    size = site.page_size
    pages = max(1, (len(items) + size - 1) // size)
    chunk = items[(number - 1) * size : number * size]
    links = "".join(
        f'<tr><td><a href="{base}{a.path}">{esc(a.title)}</a></td><td>{a.published:%d.%m.%Y}</td></tr>' for a in chunk
    )
    if number == 1:
        links += "".join(
            f'<tr><td><a href="{base}{a.path}">{esc(a.title)}</a></td></tr>' for a in site.articles if a.private
        )
        links += (
            f'<tr><td><a href="{base}/starye/ekonomika/missing-404.html">Архив 1998 года</a></td></tr>'
            f'<tr><td><a href="{base}/slow/long-read.html">Большое интервью</a></td></tr>'
            f'<tr><td><a href="{base}/starye/huge.html">Полный архив номера</a></td></tr>'
        )
    paging = " ".join(f'<a href="{base}/starye/?page={n}">{n}</a>' for n in range(1, pages + 1))
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        f"<title>Старая газета — новости</title></head><body>{_nav(base)}<table>{links}</table>"
        f'<div class="pages">Страницы: {paging}</div>{_footer("Старая газета")}</body></html>'
    )


def telegram(site: DevSite, base: str, before: int | None) -> str:
    """t.me/s/NAME-like page: up to 20 posts older than `before`, newest last, with a link to older posts."""
    posts = [p for p in site.posts if before is None or p.id < before][-20:]
    blocks = []
    for p in posts:
        text = esc(p.text) + "".join(
            f'<br/><a href="{base}{link}" target="_blank">{base}{link}</a>' for link in p.links
        )
        utc = p.published.astimezone(UTC).isoformat()
        blocks.append(
            f'<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
            f'data-post="{site.channel}/{p.id}" data-view="x"><div class="tgme_widget_message_bubble">'
            f'<div class="tgme_widget_message_author"><a class="tgme_widget_message_owner_name" href="{base}/{site.channel}"><span dir="auto">Финпульс</span></a></div>'
            f'<div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div>'
            f'<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short js-message_info">'
            f'<span class="tgme_widget_message_views">{_compact(p.views)}</span>'
            f'<span class="tgme_widget_message_forwards">{_compact(p.forwards)}</span>'
            f'<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="{base}/{site.channel}/{p.id}">'
            f'<time datetime="{utc}" class="time">{p.published:%H:%M}</time></a></span></div></div></div></div></div>'
        )
    more = ""
    if posts and posts[0].id > 1:
        more = (
            f'<link rel="prev" href="/s/{site.channel}?before={posts[0].id}">'
            f'<a class="tme_messages_more js-messages_more" data-before="{posts[0].id}" href="/s/{site.channel}?before={posts[0].id}"></a>'
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Финпульс – Telegram</title></head><body>'
        f'<section class="tgme_channel_history js-message_history">{more}{"".join(blocks)}</section></body></html>'
    )


def _compact(value: int) -> str:
    """Telegram-style count."""
    from crawler.devsite.site import compact_count

    return compact_count(value)
