"""Charts drawn on the server as inline SVG (no chart library, nothing fetched by the browser); hover shows values."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

TONE_COLORS = {"positive": "#3d9a50", "neutral": "#9aa5b1", "negative": "#d64545"}
TONE_RU = {"positive": "позитив", "neutral": "нейтрально", "negative": "негатив"}
BAR = "#8fb3d9"
LINE = "#1f4e79"
HIGHLIGHT = "#e07b00"


def _num(value: float) -> str:
    """A value for a label: integer without decimals, else one decimal (comma, Russian style)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def daily_chart(daily: list[dict[str, Any]], width: int = 720, height: int = 220) -> Markup:
    """Bars: articles per day (reprints included); line with dots: unique stories."""
    pad_l, pad_b, pad_t = 34, 34, 12
    n = max(1, len(daily))
    top = max([d["articles"] for d in daily] + [1])
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    step = plot_w / n
    y = lambda v: pad_t + plot_h - plot_h * v / top  # noqa: E731
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="Публикации по дням">',
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 8}" y2="{pad_t + plot_h}" stroke="#ccc"/>',
        f'<text x="{pad_l - 6}" y="{pad_t + 8}" text-anchor="end" class="ax">{top}</text>',
        f'<text x="{pad_l - 6}" y="{pad_t + plot_h}" text-anchor="end" class="ax">0</text>',
    ]
    points = []
    label_every = max(1, n // 12)
    for i, d in enumerate(daily):
        x = pad_l + i * step
        h = plot_h * d["articles"] / top
        day = d["day"]
        tip = escape(f"{day[8:10]}.{day[5:7]}: публикаций {d['articles']}, сюжетов {d['stories']}")
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{pad_t + plot_h - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{BAR}"><title>{tip}</title></rect>'
        )
        points.append((x + step / 2, y(d["stories"]), tip))
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 14}" text-anchor="middle" class="ax">'
                f"{escape(day[8:10] + '.' + day[5:7])}</text>"
            )
    if points:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
        for px, py, tip in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{LINE}"><title>{tip}</title></circle>')
    parts.append(
        f'<rect x="{pad_l}" y="{height - 10}" width="10" height="8" fill="{BAR}"/>'
        f'<text x="{pad_l + 14}" y="{height - 2}" class="ax">публикации с перепечатками</text>'
        f'<circle cx="{pad_l + 200}" cy="{height - 6}" r="4" fill="{LINE}"/>'
        f'<text x="{pad_l + 208}" y="{height - 2}" class="ax">уникальные сюжеты</text></svg>'
    )
    return Markup("".join(parts))


def tone_chart(tone: dict[str, Any], width: int = 360, height: int = 64) -> Markup:
    """One stacked bar: positive / neutral / negative articles, with counts."""
    values = {s: int(tone[s]["value"] or 0) for s in ("positive", "neutral", "negative")}
    total = sum(values.values())
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="Тональность">']
    x = 0.0
    for s, v in values.items():
        w = (width * v / total) if total else 0
        tip = escape(f"{TONE_RU[s]}: {v}")
        if w:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="28" fill="{TONE_COLORS[s]}"><title>{tip}</title></rect>'
            )
            if w > 24:
                parts.append(f'<text x="{x + w / 2:.1f}" y="19" text-anchor="middle" class="in">{v}</text>')
        x += w
    if not total:
        parts.append(f'<rect x="0" y="0" width="{width}" height="28" fill="#eee"/>')
    lx = 0
    for s, v in values.items():
        parts.append(
            f'<rect x="{lx}" y="42" width="10" height="10" fill="{TONE_COLORS[s]}"/>'
            f'<text x="{lx + 14}" y="51" class="ax">{TONE_RU[s]} {v}</text>'
        )
        lx += 120
    parts.append("</svg>")
    return Markup("".join(parts))


def sov_chart(rows: list[dict[str, Any]], brand: str, names: dict[str, str] | None = None, width: int = 420) -> Markup:
    """Horizontal bars of the share of articles per brand; the client's brand in orange."""
    names = names or {}
    row_h = 26
    height = row_h * max(1, len(rows)) + 6
    label_w = 120
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="Доля голоса">']
    for i, r in enumerate(rows):
        share = float(r["share"]["value"] or 0)
        w = (width - label_w - 50) * share / 100
        ours = r["brand"] == brand
        name = escape(names.get(r["brand"], r["brand"]))
        tip = escape(f"{names.get(r['brand'], r['brand'])}: {_num(share)}% публикаций, {r['articles']['value']} шт.")
        yy = i * row_h + 4
        weight = ' font-weight="bold"' if ours else ""
        parts.append(
            f'<text x="{label_w - 6}" y="{yy + 15}" text-anchor="end" class="ax"{weight}>{name}</text>'
            f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="20" fill="{HIGHLIGHT if ours else LINE}">'
            f"<title>{tip}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{yy + 15}" class="ax">{_num(share)}%</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def spike_chart(observed: float, expected: float, width: int = 220, height: int = 70) -> Markup:
    """Expected against observed for one alert bucket."""
    top = max(observed, expected, 1)
    parts = [f'<svg class="chart spike" viewBox="0 0 {width} {height}" role="img" aria-label="Всплеск">']
    for i, (label, v, color) in enumerate((("ожидалось", expected, BAR), ("наблюдалось", observed, HIGHLIGHT))):
        w = (width - 110) * v / top
        yy = 6 + i * 30
        parts.append(
            f'<text x="0" y="{yy + 15}" class="ax">{label}</text>'
            f'<rect x="80" y="{yy}" width="{w:.1f}" height="20" fill="{color}"><title>{_num(v)}</title></rect>'
            f'<text x="{84 + w:.1f}" y="{yy + 15}" class="ax">{_num(v)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
