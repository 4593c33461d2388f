"""Crawl → analyse → index wiring, re-analysis of stored articles, and the demo's run (one code path)."""
