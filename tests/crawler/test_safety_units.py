"""The crawl's safety rules one by one: address policy, canonical site rule, bounded gunzip, counters, text."""

from __future__ import annotations

import gzip
import socket
import zlib

import pytest

from crawler.parsers import FeedError, gunzip_bounded, parse_count, parse_telegram
from crawler.safety import (
    RefusedAddress,
    RefusedScheme,
    check_url,
    clean_text,
    internal_address,
    same_site,
    site_key,
)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9200/_cat/indices",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://metadata.google.internal/",
    ],
)
def test_internal_addresses_refused(url):
    with pytest.raises(RefusedAddress):
        check_url(url, frozenset({"127.0.0.1:8000"}), resolve=False)


def test_own_host_allowed_and_schemes_refused():
    check_url("http://127.0.0.1:8000/rss.xml", frozenset({"127.0.0.1:8000"}))
    check_url("https://93.184.216.34/page", frozenset())
    for url in ("javascript:alert(1)", "file:///etc/passwd", "ftp://example.ru/x", "data:text/html,x", "//x.ru/a"):
        with pytest.raises(RefusedScheme):
            check_url(url, frozenset())


def test_canonical_site_rule():
    assert same_site("https://www.rbc.ru/a", "https://rbc.ru/a") and same_site("https://m.ria.ru/x", "https://ria.ru/y")
    assert not same_site("https://regnum.ru/a", "https://ria.ru/a")
    assert not same_site("https://a.github.io/x", "https://b.github.io/x")  # private public suffix: two sites
    assert site_key("https://news.bbc.co.uk/x") == "bbc.co.uk"
    assert not same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a")  # IPs: host and port


def test_gunzip_is_bounded_and_multi_member():
    assert gunzip_bounded(gzip.compress(b"abc") + gzip.compress(b"def"), 100) == b"abcdef"
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b"".join(bomb.compress(b"\0" * (1 << 20)) for _ in range(64)) + bomb.flush()
    with pytest.raises(FeedError, match="exceeds the limit"):
        gunzip_bounded(data, 1 << 20)
    with pytest.raises(FeedError, match="truncated"):
        gunzip_bounded(gzip.compress(b"x" * 1000)[:-12], 1 << 20)


def test_counters_bounded():
    assert parse_count("1.2K") == 1200 and parse_count("") is None
    for bad in ("9" * 5000, "99999999999999M"):
        with pytest.raises(ValueError):
            parse_count(bad)


def test_telegram_problems_per_post_and_header_charset():
    page = (
        '<div class="tgme_widget_message" data-post="c/1"><div class="tgme_widget_message_text">Привет</div></div>'
        f'<div class="tgme_widget_message" data-post="c/{2**64}"><div class="tgme_widget_message_text">x</div></div>'
    ).encode("koi8-r")
    problems: list[tuple[str, str]] = []
    posts, _ = parse_telegram(page, "https://t.me/s/c", "text/html; charset=koi8-r", problems)
    assert [(p.id, p.text, p.url) for p in posts] == [(1, "Привет", "https://t.me/c/1")]
    assert [kind for kind, _ in problems] == ["bad telegram post"]


def test_clean_text():
    assert clean_text("a\x1b[31mb\x1b[0m\x1b]8;;http://x\x1b\\c\x07d\x00e\x9b2Jf\tg\nh\u202ei") == "abcdef\tg\nhi"
    assert clean_text("Обычный текст — «кавычки», ё") == "Обычный текст — «кавычки», ё"


def test_host_names_are_resolved_before_they_are_allowed():
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    if not any(internal_address(a) for a in addresses):
        pytest.skip(f"{name} resolves to public addresses here")
    with pytest.raises(RefusedAddress):
        check_url(f"http://{name}:9200/", frozenset(), resolve=True)
    check_url(f"http://{name}:9200/", frozenset({f"{name.lower()}:9200"}), resolve=True)  # the source's own host
