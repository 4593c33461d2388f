"""Loopback dev site: a generated Russian news site (outlets, feeds, sitemaps, Telegram preview, traps) on 127.0.0.1."""

from crawler.devsite.server import DevServer
from crawler.devsite.site import DEFAULT_BRANDS, DevArticle, DevSite

__all__ = ["DEFAULT_BRANDS", "DevArticle", "DevServer", "DevSite"]
