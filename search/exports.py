"""Exports of search results, shared by `rezonans search --csv/--json` and the web feed: flat rows, CSV for Excel in a
Russian locale (UTF-8 with BOM, ';'), XLSX and JSON lines; cells Excel would read as formulas stay text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from search.engine import Hit

FIELDS = [
    "published_at",
    "source",
    "source_type",
    "title",
    "url",
    "brands",
    "tone",
    "cluster",
    "story_size",
    "reprints",
    "snippet",
    "id",
]
HEADERS_RU = [
    "Дата",
    "Источник",
    "Тип источника",
    "Заголовок",
    "Ссылка",
    "Бренды",
    "Тональность",
    "Сюжет",
    "Размер сюжета",
    "Перепечатки",
    "Фрагмент",
    "ID",
]
# A cell starting with one of these is a formula in Excel: crawled text must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def flat_row(hit: Hit) -> list[Any]:
    """One flat row in FIELDS order."""
    data = hit.as_dict()
    data["brands"] = " ".join(data["brands"])
    data["tone"] = " ".join(f"{b}:{t}" for b, t in data["tone"].items())
    return [data[f] for f in FIELDS]


def safe_cell(value: Any) -> Any:
    """Text that Excel would take for a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(hits: Iterable[Hit]) -> bytes:
    """CSV that Excel opens correctly with a Russian locale: BOM, ';' separator, CRLF rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS_RU)
    for hit in hits:
        writer.writerow([safe_cell(v) for v in flat_row(hit)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(hits: Iterable[Hit]) -> bytes:
    """One sheet with a bold header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Упоминания"
    ws.append(HEADERS_RU)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for hit in hits:
        ws.append([safe_cell(v) for v in flat_row(hit)])
    for col, width in zip("ABCDEFGHIJKL", (20, 20, 10, 60, 40, 20, 24, 14, 8, 8, 80, 42), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_jsonl(hits: Iterable[Hit]) -> bytes:
    """The same lines as `rezonans search --json`."""
    return "".join(json.dumps(h.as_dict(), ensure_ascii=False) + "\n" for h in hits).encode("utf-8")
