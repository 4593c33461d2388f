"""One BLAS thread for analysis: the parser's and the tone model's small matrix products gain nothing from more."""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def single_threaded_blas() -> threadpool_limits:
    """Limit BLAS to one thread for this process (returns the limiter; it stays in force until restored).

    OpenBLAS's idle threads spin on the cores the crawl and the other analysis process need (48 → 66 pages/s on
    2 cores), and in one analysing process they cost ≈1 ms of CPU per tone prediction for nothing.
    """
    return threadpool_limits(limits=1, user_api="blas")
