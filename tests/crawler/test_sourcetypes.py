"""The source-type registry: every `type:` is a plug-in found by name; the sources file is checked through it."""

from __future__ import annotations

from typing import get_args

import pytest

from crawler import sourcetypes
from crawler.sources import SourcesError, parse_sources
from crawler.sourcetypes import SourceType, register
from rezonans.model import SourceType as ArticleSourceType

pytestmark = pytest.mark.unit


def test_the_built_in_types_are_plug_ins_and_known_to_the_article_model():
    names = sourcetypes.names()
    assert names[:4] == ["rss", "sitemap", "site", "telegram"]
    assert set(names) <= set(get_args(ArticleSourceType))  # articles of every type validate
    for name in names:
        kind = sourcetypes.get(name)
        assert issubclass(kind, SourceType) and kind.name == name
        assert kind.start is not SourceType.start, f"{name} lists nothing"


def test_register_refuses_a_nameless_or_doubled_type():
    class Nameless(SourceType):
        pass

    with pytest.raises(TypeError, match="no `name`"):
        register(Nameless)

    class Rss2(SourceType):
        name = "rss"

    with pytest.raises(TypeError, match="registered twice"):
        register(Rss2)
    assert sourcetypes.get("rss").__name__ == "Rss"


def test_an_unknown_type_lists_the_registered_ones():
    with pytest.raises(SourcesError) as info:
        parse_sources("sources:\n  - name: A\n    type: gopher\n    url: https://a.ru/\n", "s.yaml")
    assert "s.yaml:3" in str(info.value) and " | ".join(sourcetypes.names()) in str(info.value)


def test_a_type_without_own_keys_refuses_extra_keys():
    with pytest.raises(SourcesError, match="s.yaml:4: source A: query: unknown key"):
        parse_sources("sources:\n  - name: A\n    type: rss\n    query: x\n    url: https://a.ru/rss\n", "s.yaml")
