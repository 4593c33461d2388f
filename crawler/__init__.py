"""Scrapy crawler: feeds, sitemaps, site sections and Telegram channels."""
