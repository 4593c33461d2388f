"""Real outcomes beside publicity: promo-code redemptions and survey figures imported from CSV into `{prefix}-outcomes`.

Two CSV formats, told apart by the header (comma or semicolon separated, UTF-8 with or without BOM):

* redemptions: ``code,date[,amount][,channel][,brand]``
* surveys:     ``date,metric,value[,brand]``

Dates are YYYY-MM-DD (or DD.MM.YYYY); numbers may use a decimal comma. Each row gets a stable id
(hash of its content and its occurrence number), so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from indexer.client import es_errors
from report.periods import Period
from rezonans.config import Settings
from rezonans.errors import UserError

log = logging.getLogger(__name__)

OUTCOMES_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "kind": {"type": "keyword"},
        "brand": {"type": "keyword"},
        "code": {"type": "keyword"},
        "day": {"type": "date", "format": "yyyy-MM-dd"},
        "amount": {"type": "double"},
        "channel": {"type": "keyword"},
        "metric": {"type": "keyword"},
        "value": {"type": "double"},
        "source_file": {"type": "keyword"},
        "line": {"type": "integer"},
        "imported_at": {"type": "date"},
    },
}
REDEMPTION_COLUMNS = ("code", "date", "amount", "channel", "brand")
SURVEY_COLUMNS = ("date", "metric", "value", "brand")


class OutcomesError(UserError):
    """A file that cannot be imported at all (unknown header, unreadable)."""


def outcomes_index(settings: Settings) -> str:
    """The outcomes index of this prefix."""
    return f"{settings.index_prefix}-outcomes"


def ensure_index(client: Elasticsearch, settings: Settings) -> None:
    """Create the outcomes index with its mapping if missing."""
    name = outcomes_index(settings)
    if not client.indices.exists(index=name):
        client.indices.create(
            index=name,
            mappings=OUTCOMES_MAPPING,
            settings={"number_of_shards": 1, "number_of_replicas": settings.es_replicas},
        )


@dataclass
class BadRow:
    """A CSV row that was not imported, with its line number in the file."""

    line: int
    reason: str


@dataclass
class ParsedFile:
    """Rows ready to index, the detected kind and the rows that were refused."""

    kind: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def parse_day(value: str) -> date:
    """YYYY-MM-DD, YYYY-MM-DDTHH:MM… or DD.MM.YYYY."""
    value = value.strip()
    if len(value) >= 10 and value[4] == "-":
        return date.fromisoformat(value[:10])
    if len(value) >= 10 and value[2] == "." and value[5] == ".":
        return date(int(value[6:10]), int(value[3:5]), int(value[0:2]))
    raise ValueError(f"bad date {value!r}: use YYYY-MM-DD")


def parse_number(value: str) -> float:
    """A number with optional spaces as thousands separators and a decimal comma."""
    cleaned = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not cleaned:
        raise ValueError("empty number")
    try:
        number = float(cleaned)
    except ValueError as exc:
        raise ValueError(f"bad number {value!r}") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"bad number {value!r}")
    return number


def detect_kind(header: list[str]) -> str:
    """'redemptions' or 'surveys' from the header, or OutcomesError describing both formats."""
    cols = {h.strip().lower() for h in header}
    if {"code", "date"} <= cols:
        return "redemptions"
    if {"date", "metric", "value"} <= cols:
        return "surveys"
    raise OutcomesError(
        f"unknown CSV header {','.join(header)!r}: promo-code redemptions need columns "
        "code,date[,amount,channel,brand]; survey figures need date,metric,value[,brand]"
    )


def parse_csv(text: str, brand: str | None = None, source_file: str = "") -> ParsedFile:
    """Validate a CSV text; good rows become documents, bad ones are listed with their line numbers."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise OutcomesError("the file is empty: it needs a header line") from exc
    kind = detect_kind(header)
    names = [h.strip().lower() for h in header]
    parsed = ParsedFile(kind)
    seen: Counter[str] = Counter()
    now = datetime.now(UTC).isoformat()
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            parsed.bad.append(BadRow(line, f"expected {len(names)} columns, found {len(row)}"))
            continue
        rec = dict(zip(names, (c.strip() for c in row), strict=False))
        try:
            doc = _redemption(rec) if kind == "redemptions" else _survey(rec)
        except ValueError as exc:
            parsed.bad.append(BadRow(line, str(exc)))
            continue
        doc["brand"] = rec.get("brand") or brand or None
        if doc["brand"]:
            doc["brand"] = doc["brand"].lower()
        key = "|".join(
            str(doc.get(k)) for k in ("kind", "brand", "code", "day", "amount", "channel", "metric", "value")
        )
        seen[key] += 1
        doc["_id"] = hashlib.sha1(f"{key}|{seen[key]}".encode()).hexdigest()
        doc.update(source_file=source_file, line=line, imported_at=now)
        parsed.rows.append(doc)
    return parsed


def _redemption(rec: dict[str, str]) -> dict[str, Any]:
    """One redemption row."""
    code = rec.get("code", "")
    if not code:
        raise ValueError("empty code")
    amount = parse_number(rec["amount"]) if rec.get("amount") else 0.0
    if amount < 0:
        raise ValueError(f"negative amount {rec['amount']!r}")
    return {
        "kind": "redemption",
        "code": code.upper(),
        "day": parse_day(rec.get("date", "")).isoformat(),
        "amount": amount,
        "channel": rec.get("channel") or None,
    }


def _survey(rec: dict[str, str]) -> dict[str, Any]:
    """One survey row."""
    metric = rec.get("metric", "")
    if not metric:
        raise ValueError("empty metric")
    return {
        "kind": "survey",
        "metric": metric,
        "day": parse_day(rec.get("date", "")).isoformat(),
        "value": parse_number(rec.get("value", "")),
    }


def import_file(client: Elasticsearch, settings: Settings, path: Path, brand: str | None = None) -> ParsedFile:
    """Validate and index a CSV file (idempotent); returns what was imported and what was refused."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OutcomesError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")  # Excel on Russian Windows
    parsed = parse_csv(text, brand=brand, source_file=path.name)
    if parsed.rows:
        with es_errors("storing outcomes"):
            _store(client, settings, parsed)
    return parsed


def _store(client: Elasticsearch, settings: Settings, parsed: ParsedFile) -> None:
    """Index the parsed rows (stable ids: importing a file again changes nothing)."""
    if parsed.rows:
        ensure_index(client, settings)
        actions = [
            {"_index": outcomes_index(settings), "_id": d["_id"], "_source": {k: v for k, v in d.items() if k != "_id"}}
            for d in parsed.rows
        ]
        helpers.bulk(client, actions, refresh="wait_for")


def _brand_filter(brand: str, codes: list[str]) -> dict[str, Any]:
    """Rows of the brand, or rows without a brand whose code is one of the brand's codes."""
    should: list[dict[str, Any]] = [{"term": {"brand": brand}}]
    if codes:
        should.append(
            {
                "bool": {
                    "must_not": [{"exists": {"field": "brand"}}],
                    "filter": [{"terms": {"code": [c.upper() for c in codes]}}],
                }
            }
        )
    should.append({"bool": {"must_not": [{"exists": {"field": "brand"}}], "filter": [{"term": {"kind": "survey"}}]}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _day_range(period: Period) -> dict[str, Any]:
    """Range on the local day field."""
    return {
        "range": {
            "day": {"gte": period.start.date().isoformat(), "lt": period.end.date().isoformat(), "format": "yyyy-MM-dd"}
        }
    }


def fetch_outcomes(
    client: Elasticsearch,
    settings: Settings,
    brand: str,
    codes: list[str],
    current: Period,
    previous: Period,
    window: Period,
) -> dict[str, Any] | None:
    """Outcome aggregates for the report, or None when no outcomes were imported."""
    index = outcomes_index(settings)
    try:
        if not client.indices.exists(index=index):
            return None
    except NotFoundError:
        return None
    scope = _brand_filter(brand, codes)

    def per_code(period: Period) -> dict[str, Any]:
        resp = client.search(
            index=index,
            size=0,
            query={"bool": {"filter": [scope, {"term": {"kind": "redemption"}}, _day_range(period)]}},
            aggs={"code": {"terms": {"field": "code", "size": 500}, "aggs": {"amount": {"sum": {"field": "amount"}}}}},
        )
        return {
            b["key"]: {"count": b["doc_count"], "amount": b["amount"]["value"]}
            for b in resp["aggregations"]["code"]["buckets"]
        }

    def surveys(period: Period) -> dict[str, float]:
        resp = client.search(
            index=index,
            size=0,
            query={"bool": {"filter": [scope, {"term": {"kind": "survey"}}, _day_range(period)]}},
            aggs={"metric": {"terms": {"field": "metric", "size": 100}, "aggs": {"avg": {"avg": {"field": "value"}}}}},
        )
        return {b["key"]: b["avg"]["value"] for b in resp["aggregations"]["metric"]["buckets"]}

    resp = client.search(
        index=index,
        size=0,
        query={"bool": {"filter": [scope, _day_range(window)]}},
        aggs={
            "red": {
                "filter": {"term": {"kind": "redemption"}},
                "aggs": {
                    "first": {"min": {"field": "day"}},
                    "last": {"max": {"field": "day"}},
                    "daily": {
                        "date_histogram": {
                            "field": "day",
                            "calendar_interval": "day",
                            "format": "yyyy-MM-dd",
                            "min_doc_count": 0,
                        },
                        "aggs": {"amount": {"sum": {"field": "amount"}}},
                    },
                },
            },
            "survey": {
                "filter": {"term": {"kind": "survey"}},
                "aggs": {
                    "metric": {
                        "terms": {"field": "metric", "size": 100},
                        "aggs": {
                            "daily": {
                                "date_histogram": {
                                    "field": "day",
                                    "calendar_interval": "day",
                                    "format": "yyyy-MM-dd",
                                    "min_doc_count": 1,
                                },
                                "aggs": {"avg": {"avg": {"field": "value"}}},
                            }
                        },
                    }
                },
            },
        },
    )
    aggs = resp["aggregations"]
    series: dict[str, dict[str, float]] = {}
    # Between the first and last redemption day of the window, a day without redemptions is a true zero.
    daily = aggs["red"]["daily"]["buckets"]
    if daily:
        series["redemptions per day"] = {b["key_as_string"]: float(b["doc_count"]) for b in daily}
        series["redemption amount per day"] = {b["key_as_string"]: float(b["amount"]["value"]) for b in daily}
    for mb in aggs["survey"]["metric"]["buckets"]:
        series[f"survey: {mb['key']}"] = {b["key_as_string"]: b["avg"]["value"] for b in mb["daily"]["buckets"]}
    cur_s, prev_s = surveys(current), surveys(previous)
    return {
        "redemptions": per_code(current),
        "previous_redemptions": per_code(previous),
        "surveys": {m: {"current": cur_s.get(m), "previous": prev_s.get(m)} for m in sorted(set(cur_s) | set(prev_s))},
        "series": series,
        "window": window.label,
    }
