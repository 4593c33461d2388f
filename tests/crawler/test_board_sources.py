"""Sources-file entries of `type: forum` and `type: reviews`: their own keys are checked with file:line."""

from __future__ import annotations

import pytest

from crawler import sourcetypes
from crawler.sources import SourcesError, parse_sources

pytestmark = pytest.mark.unit


def test_forum_and_reviews_are_registered_types() -> None:
    assert {"forum", "reviews"} <= set(sourcetypes.names())
    (forum, reviews) = parse_sources(
        """sources:
  - name: F
    type: forum
    url: https://forum.example.ru/viewforum.php?f=2
    thread_pages: 5
  - name: R
    type: reviews
    url: https://otzyvy.example.ru/product/1
    product: Карта
"""
    )
    assert sourcetypes.get("forum").options(forum).thread_pages == 5
    assert sourcetypes.get("reviews").options(reviews).product == "Карта"
    assert forum.ref.type == "forum" and reviews.ref.type == "reviews"


@pytest.mark.parametrize(
    ("entry", "line", "words"),
    [
        ("    type: forum\n    url: https://f.example.ru/\n    thread_pages: 0\n", 5, "thread_pages"),
        ("    type: forum\n    url: https://f.example.ru/\n    product: X\n", 5, "product: unknown key"),
        ("    type: reviews\n    url: https://r.example.ru/\n    thread_pages: 3\n", 5, "thread_pages: unknown key"),
        ("    type: reviews\n", 2, "url"),
    ],
)
def test_wrong_entries_name_the_line(entry: str, line: int, words: str) -> None:
    with pytest.raises(SourcesError) as caught:
        parse_sources("sources:\n  - name: S\n" + entry, "s.yaml")
    assert f"s.yaml:{line}:" in str(caught.value) and words in str(caught.value)
