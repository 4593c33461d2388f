"""`python -m crawler.devsite --port 8000 --articles 2000 --seed 1`: serve the dev site in the foreground."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from crawler.devsite import DEFAULT_BRANDS, DevServer, DevSite


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the site and serve it until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m crawler.devsite", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one)")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=14, help="articles spread over the last N days")
    parser.add_argument("--now", default=None, help="ISO date-time taken as 'now' (default: current time)")
    parser.add_argument("--brands", default=",".join(DEFAULT_BRANDS), help="comma-separated; variants with '/'")
    parser.add_argument("--crawl-delay", type=float, default=0.0)
    parser.add_argument("--sources-out", type=Path, default=None, help="write a sources file for this site here")
    args = parser.parse_args(argv)
    site = DevSite(
        articles=args.articles,
        seed=args.seed,
        days=args.days,
        now=datetime.fromisoformat(args.now) if args.now else None,
        brands=[b.strip() for b in args.brands.split(",") if b.strip()],
        crawl_delay=args.crawl_delay,
    )
    server = DevServer(site, port=args.port)
    if args.sources_out:
        args.sources_out.write_text(site.sources_yaml(server.url), encoding="utf-8")
    print(f"devsite: {len(site.articles)} articles at {server.url}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
