"""Crawl options (politeness, limits, workers, scale-out) and the Scrapy settings built from them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

USER_AGENT = "RezonansBot/0.1 (media monitoring; +https://github.com/rezonans/rezonans)"


class CrawlOptions(BaseModel):
    """Everything about how politely and how fast to crawl. Defaults are polite; tests and the bench use `fast()`."""

    delay: float = Field(1.0, ge=0, description="seconds between requests to one domain (DOWNLOAD_DELAY)")
    autothrottle: bool = True
    concurrency: int = Field(16, ge=1, description="requests in flight overall")
    per_domain: int = Field(2, ge=1, description="requests in flight per domain")
    timeout: float = Field(30.0, gt=0, description="seconds before a request times out")
    retries: int = Field(2, ge=0)
    retry_backoff: float = Field(1.0, ge=0, description="first retry waits this long, then doubles")
    max_size: int = Field(8 * 1024 * 1024, ge=1024, description="bytes; larger pages are dropped (DOWNLOAD_MAXSIZE)")
    max_pages: int = Field(50, ge=1, description="listing pages per source (section paging, Telegram ?before=)")
    source_budget: int = Field(
        2000, ge=1, description="article pages (and full-text feed items) per source per run; the rest waits"
    )
    max_links: int = Field(2000, ge=1, description="links taken from one page, feed or sitemap")
    host_failures: int = Field(2, ge=0, description="connection failures in a row that mark a host down (0 = never)")
    max_redirects: int = Field(10, ge=0, description="redirects followed per request")
    max_crawl_delay: float = Field(30.0, ge=0, description="cap for robots.txt Crawl-delay")
    obey_robots: bool = True
    extract_workers: int = Field(0, ge=0, description="extraction processes (0 = one per CPU core)")
    full_fetch_hours: float = Field(24.0, ge=0, description="fetch feeds without validators at least this often")
    user_agent: str = USER_AGENT
    redis_url: str | None = Field(
        None, description="shared frontier (leases, claims, emitted set) for several crawler processes"
    )
    lease_ttl: float = Field(120.0, gt=0, description="seconds a killed crawler's sources stay leased to it")
    claim_ttl: float = Field(600.0, gt=0, description="seconds a killed crawler's article claims stay held")
    log_level: str = "WARNING"
    stats_interval: float = Field(0.5, gt=0)

    @classmethod
    def fast(cls, **overrides: Any) -> CrawlOptions:
        """Settings for the loopback dev site: no delays, short timeouts, small back-off."""
        values: dict[str, Any] = {
            "delay": 0.0,
            "autothrottle": False,
            "concurrency": 32,
            "per_domain": 32,
            "timeout": 5.0,
            "retries": 1,
            "retry_backoff": 0.05,
            "stats_interval": 0.2,
        }
        values.update(overrides)
        return cls(**values)


def scrapy_settings(options: CrawlOptions) -> dict[str, Any]:
    """Scrapy settings for a crawl with these options."""
    settings: dict[str, Any] = {
        "USER_AGENT": options.user_agent,
        "ROBOTSTXT_OBEY": options.obey_robots,
        "DOWNLOAD_DELAY": options.delay,
        "RANDOMIZE_DOWNLOAD_DELAY": options.delay > 0,
        "AUTOTHROTTLE_ENABLED": options.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(options.delay, 0.05),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS": options.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": options.per_domain,
        "CONCURRENT_ITEMS": 64,
        "DOWNLOAD_TIMEOUT": options.timeout,
        "DOWNLOAD_MAXSIZE": options.max_size,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": options.retries > 0,
        "RETRY_TIMES": options.retries,
        "REZONANS_RETRY_BACKOFF": options.retry_backoff,
        "REZONANS_MAX_CRAWL_DELAY": options.max_crawl_delay,
        "REZONANS_HOST_FAILURES": options.host_failures,
        "REDIRECT_MAX_TIMES": options.max_redirects,
        "REZONANS_FULL_FETCH_HOURS": options.full_fetch_hours,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # the address rule again on the answer the connection uses (closes the DNS-rebinding window)
        "TWISTED_DNS_RESOLVER": "crawler.resolver.GuardedResolver",
        "LOG_LEVEL": options.log_level,
        "LOGSTATS_INTERVAL": 0,
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.AddressPolicyMiddleware": 40,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "crawler.middlewares.SafeMetaRefreshMiddleware": 580,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawler.middlewares.SafeRedirectMiddleware": 600,
            "crawler.middlewares.HostHealthMiddleware": 560,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.CrawlDelayRobotsMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            "crawler.middlewares.ConditionalFetchMiddleware": 580,
            "crawler.middlewares.RefusedLookupMiddleware": 950,  # the first to see a download's exception
        },
        "ITEM_PIPELINES": {"crawler.pipelines.ArticlePipeline": 300},
        # API calls of `type: vk` share one slot: one at a time, three a second (the limit of a user token)
        "DOWNLOAD_SLOTS": {"vk-api": {"concurrency": 1, "delay": 1 / 3, "randomize_delay": False}},
    }
    if options.redis_url:
        # several crawler processes share one frontier (crawler.shared): leases, claims, the emitted set, and one
        # per-domain request clock so politeness holds across processes
        settings["DOWNLOADER_MIDDLEWARES"]["crawler.middlewares.SharedPolitenessMiddleware"] = 110
    return settings
