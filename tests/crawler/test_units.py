"""Sources file validation, decoding, parsers and the CLI, without a full crawl."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from cli.main import app
from crawler.devsite import DevServer
from crawler.devsite.site import DevSite
from crawler.extract import choose_date, declared_charset, extract_page
from crawler.parsers import FeedError, parse_count, parse_feed
from crawler.sources import SourcesError, load_sources, parse_sources

from .conftest import make_site


def test_default_sources_load_and_cover_all_kinds():
    sources = load_sources()
    assert len(sources) >= 20
    assert {s.type for s in sources} == {"rss", "sitemap", "site", "telegram"}
    assert all(s.url.startswith("https://") for s in sources)


def test_sources_errors_name_line_and_fix():
    text = "sources:\n  - name: A\n    type: atom\n    url: https://a.ru/rss\n  - name: B\n    url: ftp://b\n    wieght: 2\n"
    with pytest.raises(SourcesError) as info:
        parse_sources(text, "my.yaml")
    message = str(info.value)
    assert "my.yaml:3" in message and "rss | sitemap | site | telegram" in message
    assert "my.yaml:6" in message and "absolute http(s) URL" in message
    assert "my.yaml:7" in message and "unknown key" in message
    with pytest.raises(SourcesError, match="my.yaml:3: not valid YAML"):
        parse_sources("sources:\n  - name: A\n  bad: [\n", "my.yaml")
    with pytest.raises(SourcesError, match="top-level `sources:`"):
        parse_sources("- a\n", "my.yaml")


def test_telegram_urls_normalised_and_defaults():
    [src] = parse_sources("sources:\n  - {name: T, type: telegram, url: 'https://t.me/banksta'}\n")
    assert src.url == "https://t.me/s/banksta"
    assert src.weight == 1.0 and src.ref.type == "telegram"


@pytest.mark.parametrize(
    "codec,declared", [("cp1251", "meta"), ("cp1251", "header"), ("cp1251", "none"), ("koi8-r", "header")]
)
def test_extract_decodes_legacy_encodings(codec, declared):
    site = DevSite(articles=40, seed=5)
    article = next(a for a in site.articles if a.outlet.layout == "legacy")
    article.enc_index = ["cp1251-meta", "cp1251-header", "cp1251-none", "koi8-r-header"].index(f"{codec}-{declared}")
    status, headers, body = site.respond(article.path, "", "http://127.0.0.1:9")
    assert declared_charset(body, headers["Content-Type"])[1] == declared if declared != "none" else True
    fields = extract_page(body, "http://127.0.0.1:9" + article.path, headers["Content-Type"])
    assert fields["title"] == article.title
    assert article.paragraphs[-1] in fields["text"]


def test_choose_date_prefers_precise_feed_time_on_same_day():
    feed = datetime(2025, 3, 4, 12, 31, tzinfo=timezone(timedelta(hours=3)))
    assert choose_date("2025-03-04", feed) == feed
    assert choose_date("2025-03-04T09:00:00+0000", feed) == datetime(2025, 3, 4, 9, tzinfo=UTC)
    assert choose_date(None, feed) == feed
    assert choose_date("2025-03-01", None).tzinfo is not None


def test_parse_count_and_broken_feed():
    assert parse_count("1.2K") == 1200 and parse_count("3M") == 3_000_000 and parse_count("950") == 950
    with pytest.raises(FeedError):
        parse_feed(b"<rss><channel><item><title>x</channel>", "http://127.0.0.1/")


def test_cli_crawl_to_jsonl_and_json_summary(tmp_path):
    site = make_site(articles=12, seed=3, telegram_posts=5, slow_seconds=1.5, huge_bytes=500_000)
    runner = CliRunner()
    with DevServer(site) as server:
        sources = tmp_path / "s.yaml"
        sources.write_text(site.sources_yaml(server.url), encoding="utf-8")
        out = tmp_path / "out.jsonl"
        result = runner.invoke(
            app,
            [
                "crawl",
                "--sources",
                str(sources),
                "--out",
                str(out),
                "--state",
                str(tmp_path / "st.sqlite3"),
                "--fast",
                "--timeout",
                "1",
                "--max-size",
                "400000",
                "--workers",
                "1",
                "--json",
                "--no-progress",
            ],
        )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary["articles"] == len(lines) == len(site.public_articles()) + len(site.posts)
    assert summary["sources"]["Сломанная лента"]["errors"] == 1
    first = lines[0]
    for key in ("url", "canonical_url", "source", "title", "text", "lead", "published_at", "author", "language"):
        assert key in first
    assert set(first["source"]) >= {"name", "type", "weight"}


def test_cli_bad_sources_file_exits_2_with_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: A\n    type: rss\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["crawl", "--sources", str(bad), "--out", str(tmp_path / "o.jsonl"), "--no-progress"]
    )
    assert result.exit_code == 2
    assert "bad.yaml:2" in result.output and "url" in result.output
