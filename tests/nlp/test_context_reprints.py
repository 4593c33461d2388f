"""Context (topics, promo codes, prominence) and reprint clustering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nlp.context import prominence, promo_codes, topics_of
from nlp.reprints import ReprintDetector
from rezonans.model import Article

pytestmark = pytest.mark.unit

BASE = (
    "Крупнейший российский банк объявил о снижении ставок по ипотеке для семей с детьми. "
    "По словам председателя правления, новые условия начнут действовать с понедельника, а заявки можно "
    "подать в приложении и в отделениях. Аналитики считают, что шаг усилит конкуренцию на рынке кредитования "
    "и заставит другие банки пересмотреть свои предложения в ближайшие недели. Регулятор пока не комментирует."
)


def art(n: int, text: str, day: int) -> Article:
    return Article(
        url=f"https://site{n}.ru/a",
        source={"name": f"s{n}"},
        text=text,
        published_at=datetime(2025, 3, day, 9, tzinfo=UTC),
    )


def test_topics():
    assert topics_of("Банк отчитался о росте чистой прибыли и выручки, дивиденды увеличены.")[0] == "finance"
    assert topics_of("Суд оштрафовал оператора по иску ФАС.")[0] == "law"
    assert "incidents" in topics_of("Клиенты пожаловались на сбой и утечку данных.")
    assert topics_of("Погода была хорошей.") == []


def test_promo_codes(brands):
    text = "Введите промокод VESNA25 и получите скидку. Код: 12345 не подходит. Подключайте SBERPRIME, ПАО ВТБ."
    codes = promo_codes(text, brands.brands)
    assert codes == ["VESNA25", "SBERPRIME"]


def test_prominence_orders_placements():
    assert (
        prominence("title", 0, 1, True, True)
        > prominence("lead", 0.1, 1, False, True)
        > prominence("body", 0.9, 1, False, True)
    )
    assert prominence("body", 0.5, 4, False, False) > prominence("body", 0.5, 1, False, False)


def test_reprint_clusters_streaming_and_window():
    det = ReprintDetector()
    a = art(1, BASE, 3)
    b = art(2, "Перепечатка. " + BASE.replace("понедельника", "вторника"), 4)  # near-duplicate
    c = art(3, BASE.upper(), 5)  # exact after normalisation
    d = art(4, "Совсем другая новость о погоде в Москве и пробках на дорогах. " * 3, 4)
    late = art(5, BASE + " Дополнение редакции.", 20)  # same text but two weeks later
    ca, oa = det.add(a)
    cb, ob = det.add(b)
    cc, oc = det.add(c)
    cd, od = det.add(d)
    assert det.add(b) == (cb, ob)  # same article again: same answer
    cl, ol = det.add(late)
    assert ca == cb == cc and oa and not ob and not oc
    assert cd != ca and od
    assert cl != ca and ol


def test_batch_marks_earliest_as_original_and_state_persists(tmp_path):
    det = ReprintDetector()
    copy = art(2, BASE + " Источник: агентство.", 6)
    orig = art(1, BASE, 5)
    out = det.assign([copy, orig])
    assert out[0].cluster == out[1].cluster
    assert orig.is_original and not copy.is_original
    path = tmp_path / "reprints.pkl"
    det.save(path)
    again = ReprintDetector.load(path)
    third = art(3, "Ещё одна перепечатка: " + BASE, 7)
    assert again.add(third)[0] == orig.cluster
    path.write_bytes(b"broken")
    assert isinstance(ReprintDetector.load(path), ReprintDetector)


def test_reprint_clusters_match_the_dev_site_ground_truth():
    """Articles sharing boilerplate sentences are not reprints; the dev site's planted reprints are."""
    from collections import defaultdict
    from itertools import combinations

    from crawler.devsite import DevSite
    from nlp.reprints import ReprintDetector
    from rezonans.model import Article, SourceRef

    site = DevSite(articles=300, seed=3)
    articles, truth = [], {}
    for a in site.articles:
        art = Article(
            url=f"http://dev.test/{a.num}",
            source=SourceRef(name=str(a.outlet)),
            title=a.title,
            text="\n".join(a.paragraphs),
            published_at=a.published,
        )
        articles.append(art)
        truth[art.id] = a.reprint_of if a.reprint_of is not None else a.num
    ReprintDetector().assign(articles)

    def pairs(labels):
        groups = defaultdict(list)
        for key, label in labels.items():
            groups[label].append(key)
        return {frozenset(p) for members in groups.values() for p in combinations(members, 2)}

    expected, found = pairs(truth), pairs({a.id: a.cluster for a in articles})
    assert len(expected) >= 10
    correct = len(expected & found)
    assert correct / len(found) >= 0.8, f"precision {correct}/{len(found)}"
    assert correct / len(expected) >= 0.8, f"recall {correct}/{len(expected)}"
