"""Report figures computed by pure functions from Elasticsearch aggregation results (testable without a server)."""

from __future__ import annotations

import logging
import math
from datetime import date, datetime
from typing import Any

from report.aggs import ReportScope

log = logging.getLogger(__name__)

#: The publicity index formula. Bump the version whenever a factor or rule changes.
FORMULA_VERSION = "PI-1"
TONE_FACTORS = {"positive": 1.0, "neutral": 0.5, "negative": -1.0}
FORMULA_TEXT = (
    f"Publicity index {FORMULA_VERSION} = Σ over every mention of the brand in the period "
    "(reprints included, each is an exposure) of source weight × prominence × tone factor; "
    "tone factor: positive +1, neutral +0.5 (neutral coverage is still visibility, at half value), "
    "negative −1. Source weight is the source's authority from the sources list (default 1.0); "
    "prominence (0..1) is set by the NLP stage from placement (title > lead > body) and whether the brand "
    "is the main subject."
)
NET_TONE_TEXT = (
    "Net tone = (positive − negative) / all articles about the brand, in %, "
    "using the article's overall tone towards the brand; neutral articles count in the denominator."
)
MIN_CORRELATION_N = 10
TOP_STORIES = 10
SENTIMENTS = ("positive", "neutral", "negative")


def figure(value: float | int | None, previous: float | int | None) -> dict[str, Any]:
    """A figure with its previous-period value and the change (absolute and %; % is None from zero)."""
    change = None if value is None or previous is None else value - previous
    pct = None
    if change is not None and previous not in (None, 0):
        pct = 100.0 * change / abs(previous)
    return {"value": value, "previous": previous, "change": change, "change_pct": pct}


def publicity_from(buckets_parent: dict[str, Any] | None) -> dict[str, Any]:
    """Index, its tone components and mention counts from a by_sentiment → by_weight → prominence sum tree."""
    components: dict[str, float] = {s: 0.0 for s in SENTIMENTS}
    mentions: dict[str, int] = {s: 0 for s in SENTIMENTS}
    out: dict[str, Any] = {"index": 0.0, "components": components, "mentions": mentions}
    if not buckets_parent:
        return out
    for sb in buckets_parent.get("by_sentiment", {}).get("buckets", []):
        factor = TONE_FACTORS.get(sb["key"], 0.0)
        by_weight = sb["by_weight"]
        if by_weight.get("sum_other_doc_count"):
            log.warning(
                "more than %d distinct source weights: the publicity index leaves some out", len(by_weight["buckets"])
            )
        value = sum(float(wb["key"]) * wb["prominence"]["value"] for wb in by_weight["buckets"]) * factor
        components[sb["key"]] = components.get(sb["key"], 0.0) + value
        mentions[sb["key"]] = mentions.get(sb["key"], 0) + sb["doc_count"]
        out["index"] += value
    return out


def _nested_brand(agg: dict[str, Any] | None) -> dict[str, Any]:
    """The brand-filter bucket inside a nested mentions aggregation."""
    return (agg or {}).get("brand") or {}


def _stories(brand_agg: dict[str, Any]) -> int:
    """Unique stories: distinct clusters plus articles that belong to no cluster."""
    return int(brand_agg["clusters"]["value"]) + int(brand_agg["no_cluster"]["doc_count"])


def _tone_counts(tone_agg: dict[str, Any]) -> dict[str, int]:
    """Articles by overall tone towards the brand."""
    counts = {s: 0 for s in SENTIMENTS}
    for b in tone_agg.get("brand", {}).get("sentiment", {}).get("buckets", []):
        counts[b["key"]] = b["doc_count"]
    return counts


def _net_tone(counts: dict[str, int]) -> float | None:
    """Net tone in % or None without articles."""
    total = sum(counts.values())
    return None if total == 0 else 100.0 * (counts["positive"] - counts["negative"]) / total


ENGAGEMENT_KEYS = ("likes", "forwards", "comments", "views", "engagement")


def post_publicity(source: dict[str, Any], brand: str) -> float:
    """One post's share of the publicity index: Σ over its mentions of the brand of weight × prominence × tone."""
    weight = float((source.get("source") or {}).get("weight") or 1.0)
    mentions = [m for m in source.get("mentions") or [] if m.get("brand") == brand]
    return sum(
        weight * float(m.get("prominence") or 0.0) * TONE_FACTORS.get(m.get("sentiment") or "neutral", 0.0)
        for m in mentions
    )


def _engagement(agg: dict[str, Any] | None, brand: str) -> dict[str, Any]:
    """Engagement totals of the public posts (Telegram, VK) about the brand and its top posts beside their publicity."""
    if not agg or not agg.get("doc_count"):  # no posts: every count is truly zero
        return {"posts": 0, **{k: 0 for k in ENGAGEMENT_KEYS}, "top": []}
    top = []
    for hit in agg["top"]["hits"]["hits"]:
        src = hit["_source"]
        top.append(
            {
                "title": src.get("title", ""),
                "url": src.get("url", ""),
                "source": (src.get("source") or {}).get("name", ""),
                "type": (src.get("source") or {}).get("type", ""),
                "published_at": src.get("published_at"),
                **{k: src.get(k) for k in ENGAGEMENT_KEYS},
                "publicity": round(post_publicity(src, brand), 4),
            }
        )
    totals = {
        # None (shown «—») when no post carries the count, rather than a sum of nothing that reads as zero
        k: int(agg[k]["value"]) if (agg.get(f"{k}_n") or {}).get("value", 1) else None
        for k in ENGAGEMENT_KEYS
    }
    return {"posts": int(agg["doc_count"]), **totals, "top": top}


def period_figures(raw: dict[str, Any], scope: ReportScope) -> dict[str, Any]:
    """Flat figures of one period from its raw aggregation results."""
    aggs = raw["aggs"]
    brand = aggs["brand"]
    mentions = _nested_brand(brand["mentions"])
    pi = publicity_from(mentions)
    tone = _tone_counts(brand["tone"])
    articles = int(brand["doc_count"])
    stories = _stories(brand)
    daily = []
    for b in brand["daily"]["buckets"]:
        daily.append(
            {
                "day": b["key_as_string"],
                "articles": b["doc_count"],
                "stories": _stories(b),
                "publicity": publicity_from(_nested_brand(b["mentions"]))["index"],
            }
        )
    sources = []
    for b in brand["sources"]["buckets"]:
        sources.append(
            {
                "name": b["key"],
                "weight": b["weight"]["value"],
                "articles": b["doc_count"],
                "publicity": publicity_from(_nested_brand(b["mentions"]))["index"],
            }
        )
    stories_top = []
    for b in brand["stories"]["buckets"]:
        first = b["first"]["hits"]["hits"][0]["_source"] if b["first"]["hits"]["hits"] else {}
        tones = _tone_counts(b["tone"])
        in_story = _nested_brand(b.get("mentions"))
        stories_top.append(
            {
                "cluster": b["key"],
                "exposure": round(_exposure(in_story), 4),
                "publicity": round(publicity_from(in_story)["index"], 4),
                "prominence": (in_story.get("top") or {}).get("value") or 0.0,
                "articles": b["doc_count"],
                "reprints": b["doc_count"] - 1,
                "outlets": int(b["outlets"]["value"]),
                "title": first.get("title", ""),
                "url": first.get("url", ""),
                "source": (first.get("source") or {}).get("name", ""),
                "published_at": first.get("published_at"),
                "tone": max(SENTIMENTS, key=lambda s: (tones[s], s == "neutral")) if any(tones.values()) else None,
            }
        )
    stories_top.sort(key=_story_rank)
    del stories_top[TOP_STORIES:]
    brands = [scope.brand] + [c for c in scope.competitors if c != scope.brand]
    sov = {}
    for b in brands:
        bucket = aggs["sov"]["buckets"].get(b, {"doc_count": 0, "mentions": {"by_brand": {"buckets": []}}})
        m = {x["key"]: x["doc_count"] for x in bucket["mentions"]["by_brand"]["buckets"]}
        sov[b] = {"articles": bucket["doc_count"], "mentions": m.get(b, 0)}
    promo = {}
    for b in mentions.get("promo", {}).get("buckets", []):
        promo[b["key"]] = {"mentions": b["doc_count"], "articles": b["articles"]["doc_count"]}
    own = None
    if "own" in aggs:
        o = aggs["own"]
        posts = o["doc_count"]
        own = {
            "posts": posts,
            "views": int(o["views"]["value"]),
            "forwards": int(o["forwards"]["value"]),
            "avg_views": (
                round(o["views"]["value"] / o["with_views"]["value"], 1) if o["with_views"]["value"] else None
            ),
            "channels": {
                c["key"]: {
                    "posts": c["doc_count"],
                    "views": int(c["views"]["value"]),
                    "forwards": int(c["forwards"]["value"]),
                }
                for c in o["channels"]["buckets"]
            },
        }
    negatives = [_negative(h, scope.brand) for h in raw.get("negatives", [])]
    return {
        "engagement": _engagement(brand.get("engagement"), scope.brand),
        "articles": articles,
        "mentions": int(mentions.get("doc_count", 0)),
        "stories": stories,
        "reprints": articles - stories,
        "tone": tone,
        "net_tone": _net_tone(tone),
        "publicity": pi,
        "daily": daily,
        "sources": sources,
        "stories_top": stories_top,
        "sov": sov,
        "promo": promo,
        "own": own,
        "negatives": negatives,
    }


def _exposure(in_story: dict[str, Any]) -> float:
    """The brand's publicity in a story whatever the tone: Σ source weight × prominence over its mentions."""
    total = 0.0
    for sb in in_story.get("by_sentiment", {}).get("buckets", []):
        total += sum(float(wb["key"]) * wb["prominence"]["value"] for wb in sb["by_weight"]["buckets"])
    return total


def _story_rank(story: dict[str, Any]) -> tuple[Any, ...]:
    """Top stories: the brand's publicity in the story, then its top prominence, then size, then the earlier."""
    return (-story["exposure"], -story["prominence"], -story["articles"], story["published_at"] or "", story["cluster"])


def _negative(hit: dict[str, Any], brand: str) -> dict[str, Any]:
    """A negative article with a snippet around its first negative mention of the brand."""
    src = hit["_source"]
    text = src.get("text") or ""
    ms = [m for m in src.get("mentions") or [] if m.get("brand") == brand]
    neg = [m for m in ms if m.get("sentiment") == "negative"] or ms
    snippet = ""
    if neg and text:
        start, end = int(neg[0].get("start", 0)), int(neg[0].get("end", 0))
        lo, hi = max(0, start - 100), min(len(text), end + 120)
        snippet = ("…" if lo else "") + " ".join(text[lo:hi].split()) + ("…" if hi < len(text) else "")
    source = src.get("source") or {}
    return {
        "title": src.get("title", ""),
        "url": src.get("url", ""),
        "source": source.get("name", ""),
        "weight": source.get("weight"),
        "published_at": src.get("published_at"),
        "snippet": snippet,
    }


def _share(part: int, whole: int) -> float | None:
    """Percentage or None from zero."""
    return None if whole == 0 else 100.0 * part / whole


def share_of_voice(cur: dict[str, Any], prev: dict[str, Any]) -> list[dict[str, Any]]:
    """Share of voice by articles and by mentions against the competitors, with the previous period."""
    tot = {k: sum(v[k] for v in cur.values()) for k in ("articles", "mentions")}
    ptot = {k: sum(v[k] for v in prev.values()) for k in ("articles", "mentions")}
    rows = []
    for b, v in cur.items():
        p = prev.get(b, {"articles": 0, "mentions": 0})
        rows.append(
            {
                "brand": b,
                "articles": figure(v["articles"], p["articles"]),
                "mentions": figure(v["mentions"], p["mentions"]),
                "share": figure(_share(v["articles"], tot["articles"]), _share(p["articles"], ptot["articles"])),
                "mention_share": figure(
                    _share(v["mentions"], tot["mentions"]), _share(p["mentions"], ptot["mentions"])
                ),
            }
        )
    return rows


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson correlation, or None when either series is constant or too short."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=False))
    return sxy / math.sqrt(sxx * syy)


def lagged_correlations(
    publicity: dict[date, float], outcome: dict[date, float], max_lag: int = 7, min_n: int = MIN_CORRELATION_N
) -> list[dict[str, Any]]:
    """corr(publicity on day t, outcome on day t+lag) for lag 0..max_lag, with the number of day pairs n."""
    from datetime import timedelta

    rows = []
    for lag in range(max_lag + 1):
        pairs = [
            (publicity[d], outcome[d + timedelta(days=lag)])
            for d in sorted(publicity)
            if d + timedelta(days=lag) in outcome
        ]
        n = len(pairs)
        r = pearson([p[0] for p in pairs], [p[1] for p in pairs]) if n >= min_n else None
        note = None
        if n < min_n:
            note = f"not enough data (n={n} < {min_n})"
        elif r is None:
            note = "no variation: correlation undefined"
        rows.append({"lag": lag, "r": r, "n": n, "note": note})
    return rows


def _by_key(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def compute_report(
    scope: ReportScope,
    period_label: str,
    previous_label: str,
    current: dict[str, Any],
    previous: dict[str, Any],
    outcomes: dict[str, Any] | None = None,
    generated_at: datetime | None = None,
    tz: str = "",
) -> dict[str, Any]:
    """All report figures from raw results of the two periods (and optional outcome aggregates)."""
    cur, prev = period_figures(current, scope), period_figures(previous, scope)
    prev_sources = _by_key(prev["sources"], "name")
    report: dict[str, Any] = {
        "brand": scope.brand,
        "brand_name": scope.name(scope.brand),
        "names": {b: scope.name(b) for b in [scope.brand, *scope.competitors]},
        "period": period_label,
        "previous_period": previous_label,
        "time_zone": tz,
        "generated_at": (generated_at.isoformat() if generated_at else None),
        "formula": {
            "version": FORMULA_VERSION,
            "text": FORMULA_TEXT,
            "tone_factors": TONE_FACTORS,
            "net_tone": NET_TONE_TEXT,
        },
        "articles": figure(cur["articles"], prev["articles"]),
        "mentions": figure(cur["mentions"], prev["mentions"]),
        "stories": figure(cur["stories"], prev["stories"]),
        "reprints": figure(cur["reprints"], prev["reprints"]),
        "tone": {s: figure(cur["tone"][s], prev["tone"][s]) for s in SENTIMENTS},
        "net_tone": figure(cur["net_tone"], prev["net_tone"]),
        "publicity_index": figure(round(cur["publicity"]["index"], 4), round(prev["publicity"]["index"], 4)),
        "publicity_components": {
            s: figure(round(cur["publicity"]["components"][s], 4), round(prev["publicity"]["components"][s], 4))
            for s in SENTIMENTS
        },
        "daily": cur["daily"],
        "top_sources": [
            {
                **s,
                "publicity": round(s["publicity"], 4),
                "articles": figure(s["articles"], prev_sources.get(s["name"], {}).get("articles", 0)),
                "publicity_fig": figure(
                    round(s["publicity"], 4), round(prev_sources.get(s["name"], {}).get("publicity", 0.0), 4)
                ),
            }
            for s in cur["sources"]
        ],
        "top_stories": cur["stories_top"],
        "share_of_voice": [
            {**row, "name": scope.name(row["brand"])} for row in share_of_voice(cur["sov"], prev["sov"])
        ],
        "negatives": cur["negatives"],
        "promo_codes": [],
        "smm": None,
        "engagement": {
            **{k: figure(cur["engagement"][k], prev["engagement"][k]) for k in ("posts", *ENGAGEMENT_KEYS)},
            "top": cur["engagement"]["top"],
        },
        "outcomes": None,
    }
    outcomes = outcomes or {}
    red_cur, red_prev = outcomes.get("redemptions", {}), outcomes.get("previous_redemptions", {})
    codes = sorted(set(cur["promo"]) | set(prev["promo"]) | set(red_cur) | set(red_prev) | set(scope.promo_codes))
    for code in codes:
        c, p = cur["promo"].get(code, {}), prev["promo"].get(code, {})
        rc, rp = red_cur.get(code, {}), red_prev.get(code, {})
        report["promo_codes"].append(
            {
                "code": code,
                "mentions": figure(c.get("mentions", 0), p.get("mentions", 0)),
                "articles": figure(c.get("articles", 0), p.get("articles", 0)),
                "redemptions": figure(rc.get("count", 0), rp.get("count", 0)),
                "amount": figure(round(rc.get("amount", 0.0), 2), round(rp.get("amount", 0.0), 2)),
            }
        )
    if cur["own"] is not None:
        o, po = cur["own"], prev["own"] or {}
        report["smm"] = {
            "channels": sorted(scope.own_channels),
            "posts": figure(o["posts"], po.get("posts", 0)),
            "views": figure(o["views"], po.get("views", 0)),
            "forwards": figure(o["forwards"], po.get("forwards", 0)),
            "avg_views": figure(o["avg_views"], po.get("avg_views")),
            "per_channel": o["channels"],
        }
    if outcomes:
        report["outcomes"] = outcome_section(outcomes, red_cur, red_prev)
    return report


def outcome_section(outcomes: dict[str, Any], red_cur: dict[str, Any], red_prev: dict[str, Any]) -> dict[str, Any]:
    """Redemption totals, survey figures and lagged correlations with daily publicity."""
    section: dict[str, Any] = {
        "redemptions": figure(sum(v["count"] for v in red_cur.values()), sum(v["count"] for v in red_prev.values())),
        "amount": figure(
            round(sum(v["amount"] for v in red_cur.values()), 2), round(sum(v["amount"] for v in red_prev.values()), 2)
        ),
        "surveys": [],
        "correlations": [],
        "window": outcomes.get("window"),
        "min_n": MIN_CORRELATION_N,
    }
    for metric, vals in sorted(outcomes.get("surveys", {}).items()):
        section["surveys"].append({"metric": metric, "value": figure(vals.get("current"), vals.get("previous"))})
    publicity = {date.fromisoformat(k): v for k, v in outcomes.get("daily_publicity", {}).items()}
    for name, series in outcomes.get("series", {}).items():
        outcome = {date.fromisoformat(k): v for k, v in series.items()}
        rows = lagged_correlations(publicity, outcome)
        section["correlations"].append({"outcome": name, "lags": rows, "best": _best(rows)})
    return section


def _best(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The lag with the strongest correlation among those with enough data."""
    usable = [r for r in rows if r["r"] is not None]
    return max(usable, key=lambda r: abs(r["r"])) if usable else None
