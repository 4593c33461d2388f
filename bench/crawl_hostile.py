"""Time and memory of a crawl under each hostile source (issue 15), next to a good source that must come through.

    PYTHONPATH=. python bench/crawl_hostile.py [--case NAME ...] [--runs N] [--limit SECONDS]

Each case runs in its own process (killed after --limit seconds) against servers on 127.0.0.1 and prints:
seconds, peak RSS of the crawl process and of its extraction workers (KiB → MiB), pages fetched, errors by kind,
and the good source's articles. Works on older trees too (options they lack are left out), to compare.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # the crawler comes from PYTHONPATH first (so an older tree can be measured)


def _hostile() -> Any:
    """The test servers of tests/crawler/hostile.py, loaded from this tree whatever PYTHONPATH says."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hostile", ROOT / "tests" / "crawler" / "hostile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = [
    "gzip-feed",
    "gzip-sitemap",
    "sitemap-50k",
    "feed-100k",
    "links-450k",
    "dead-host",
    "redirect-loop",
    "sitemap-self",
    "telegram-id",
    "telegram-views",
]


def _bomb(megabytes: int) -> bytes:
    """An RSS feed padded with `megabytes` MiB of one letter, gzip-compressed (≈1 KB per MiB)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [deflate.compress(b'<?xml version="1.0"?><rss><channel><item><title>')]
    chunk = b"A" * (1 << 20)
    parts += [deflate.compress(chunk) for _ in range(megabytes)]
    parts.append(deflate.compress(b"</title></item></channel></rss>") + deflate.flush())
    return b"".join(parts)


def _descendants(pid: int) -> list[int]:
    """Process ids below `pid` (Linux /proc)."""
    found: list[int] = []
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        for task in tasks:
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    except OSError:
        pass
    return found


def _watch(started: float) -> None:
    """Print the largest peak RSS (VmHWM) among this process's descendants every 2 s, for runs that get killed."""
    import threading

    def loop() -> None:
        peak = 0
        while True:
            for pid in _descendants(os.getpid()):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
                except (OSError, ValueError):
                    pass
            print(json.dumps({"partial": {"seconds": round(time.monotonic() - started), "crawl_mib": peak // 1024}}))
            sys.stdout.flush()
            time.sleep(2)

    threading.Thread(target=loop, daemon=True).start()


def run_case(name: str) -> dict[str, Any]:
    """Serve the hostile source and a good one, crawl both, return the figures."""
    import crawler
    from crawler.options import CrawlOptions
    from crawler.run import crawl
    from crawler.sources import Source

    h = _hostile()
    ARTICLE_TEXT, HTML, XML, BlackHole, Site, article_html, rss = (
        h.ARTICLE_TEXT,
        h.HTML,
        h.XML,
        h.BlackHole,
        h.Site,
        h.article_html,
        h.rss,
    )

    page = (200, HTML, article_html("Страница", ARTICLE_TEXT))
    good = Site(
        {f"/a/g{i}.html": (200, HTML, article_html(f"Новость {i}", f"Номер {i}. " + ARTICLE_TEXT)) for i in range(3)}
    )
    good.routes["/rss.xml"] = (200, XML, rss([("g", f"{good.url}/a/g{i}.html") for i in range(3)]))
    bad = Site()
    hole = None
    options: dict[str, Any] = {"extract_workers": 1}
    if name in ("gzip-feed", "gzip-sitemap"):
        body = _bomb(1024)
        path = "/feed.xml.gz" if name == "gzip-feed" else "/sitemap.xml.gz"
        bad.routes[path] = (200, {"Content-Type": "application/octet-stream"}, body)
        source = {"type": "rss" if name == "gzip-feed" else "sitemap", "url": bad.url + path}
        extra = f"{len(body) / 1e6:.1f} MB gzip → 1 GiB"
    elif name == "sitemap-50k":
        urls = "".join(f"<url><loc>{bad.url}/a/{i}.html</loc></url>" for i in range(50_000))
        text = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        bad.routes["/sitemap.xml"] = (200, XML, text.encode())
        bad.routes.update({f"/a/{i}.html": page for i in range(50_000)})
        source, extra = {"type": "sitemap", "url": f"{bad.url}/sitemap.xml"}, "50,000 URLs"
    elif name == "feed-100k":
        body = rss([("t", f"/a/{i}.html") for i in range(100_000)])
        bad.routes["/rss.xml"] = (200, XML, body)
        bad.routes.update({f"/a/{i}.html": page for i in range(100_000)})
        source, extra = {"type": "rss", "url": f"{bad.url}/rss.xml"}, f"100,000 items, {len(body) / 1e6:.1f} MB"
    elif name == "links-450k":
        body = ("<html><body>" + "".join(f"<a href=/{i:07d}>x</a>" for i in range(450_000)) + "</body></html>").encode()
        bad.routes["/section/"] = (200, HTML, body)
        source, extra = {"type": "site", "url": f"{bad.url}/section/"}, f"{len(body) / 1e6:.1f} MB page"
        options["max_size"] = 16 * 1024 * 1024
    elif name == "dead-host":
        hole = BlackHole()
        source, extra = {"type": "rss", "url": f"{hole.url}/rss.xml"}, "accepts, never answers; timeout 5 s"
        options.update(timeout=5.0, retries=2)
    elif name == "redirect-loop":
        bad.routes["/x"] = (302, {"Location": f"{bad.url}/y"}, b"")
        bad.routes["/y"] = (302, {"Location": f"{bad.url}/x"}, b"")
        bad.routes["/rss.xml"] = (200, XML, rss([("loop", f"{bad.url}/x")]))
        source, extra = {"type": "rss", "url": f"{bad.url}/rss.xml"}, "/x → /y → /x"
    elif name == "sitemap-self":
        text = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{bad.url}/index.xml</loc></sitemap></sitemapindex>"
        )
        bad.routes["/index.xml"] = (200, XML, text.encode())
        source, extra = {"type": "sitemap", "url": f"{bad.url}/index.xml"}, "index lists itself"
    elif name in ("telegram-id", "telegram-views"):
        post = (
            '<div class="tgme_widget_message" data-post="c/{id}"><div class="tgme_widget_message_text">Пост {id}</div>'
            '<span class="tgme_widget_message_views">{views}</span></div>'
        )
        if name == "telegram-id":
            posts, extra = post.format(id=5, views="1K") + post.format(id=2**70, views="1K"), "post id 2^70"
        else:
            posts, extra = post.format(id=5, views="1K") + post.format(id=6, views="9" * 5000), "5,000-digit views"
        bad.routes["/s/c"] = (
            200,
            HTML,
            f'<html><head><meta charset="utf-8"></head><body>{posts}</body></html>'.encode(),
        )
        source = {"type": "telegram", "url": f"{bad.url}/s/c"}
    else:
        raise SystemExit(f"unknown case {name}")
    try:
        from crawler.options import CrawlOptions as Opts

        known = {k: v for k, v in options.items() if k in Opts.model_fields}
        with good, bad, tempfile.TemporaryDirectory() as tmp:
            if hole:
                hole.__enter__()
            started = time.monotonic()
            _watch(started)
            out: list[Any] = []
            stats = crawl(
                [Source(name="hostile", **source), Source(name="good", type="rss", url=f"{good.url}/rss.xml")],
                out.append,
                CrawlOptions.fast(**known),
                state_path=Path(tmp) / "state.sqlite3",
            )
            elapsed = time.monotonic() - started
    finally:
        if hole:
            hole.__exit__()
    hostile = stats.sources.get("hostile", {})
    return {
        "case": name,
        "input": extra,
        "seconds": round(elapsed, 2),
        "crawl_mib": round(stats.maxrss_kib / 1024),
        "workers_mib": round(stats.children_maxrss_kib / 1024),
        "hostile_pages": hostile.get("pages", 0) + hostile.get("listings", 0),
        "errors": hostile.get("error_kinds", {}),
        "over_budget": hostile.get("over_budget"),
        "good_articles": sum(1 for a in out if a.url.startswith(good.url)),
        "hostile_articles": sum(1 for a in out if not a.url.startswith(good.url)),
        "connections": hole.accepted if hole else None,
        "returncode": stats.returncode,
        "tree": str(Path(crawler.__file__).parents[1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--limit", type=float, default=300.0, help="seconds before a case is killed")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.one:
        print(json.dumps(run_case(args.one), ensure_ascii=False))
        return
    for name in args.case or CASES:
        results: list[dict[str, Any]] = []
        for _ in range(args.runs):
            try:
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", name], capture_output=True, text=True, timeout=args.limit
                )
            except subprocess.TimeoutExpired as exc:
                partial = [x for x in (exc.stdout or b"").decode().splitlines() if x.startswith('{"partial"')]
                peak = json.loads(partial[-1])["partial"]["crawl_mib"] if partial else None
                results.append(
                    {
                        "case": name,
                        "failed": f"still running after {args.limit:.0f} s (killed)",
                        "peak_mib_so_far": peak,
                    }
                )
                continue
            lines = [x for x in proc.stdout.splitlines() if x.startswith("{") and not x.startswith('{"partial"')]
            if proc.returncode or not lines:
                results.append({"case": name, "failed": (proc.stderr or proc.stdout).strip().splitlines()[-1:]})
                continue
            results.append(json.loads(lines[-1]))
        ok = [r for r in results if "seconds" in r]
        if ok:
            secs: list[float] = [float(r["seconds"]) for r in ok]
            row = {**ok[-1], "seconds": f"min {min(secs)} / median {statistics.median(secs)}"}
            print(json.dumps(row, ensure_ascii=False))
        for r in results:
            if "failed" in r:
                print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
