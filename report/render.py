"""Render a computed report as Markdown (chat, e-mail, terminal), HTML with embedded charts, or XLSX tables."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
TONE_RU = {"positive": "позитив", "neutral": "нейтрально", "negative": "негатив"}


def num(value: Any, digits: int = 0) -> str:
    """A number for people: thin grouping, fixed decimals, '—' for None."""
    if value is None:
        return "—"
    if isinstance(value, float) and digits == 0 and not value.is_integer():
        digits = 2
    text = f"{abs(value):,.{digits}f}".replace(",", " ")
    return ("−" if value < 0 and float(text.replace(" ", "")) != 0 else "") + text


def change(fig: dict[str, Any], digits: int = 0, pct_points: bool = False) -> str:
    """'+3, +50%' against the previous period; percentage points (pp) for shares."""
    if fig.get("change") is None:
        return "—"
    sign = "+" if fig["change"] > 0 else ("±" if fig["change"] == 0 else "−")
    body = f"{sign}{num(abs(fig['change']), digits)}"
    if pct_points:
        return body + " pp"
    if fig.get("change_pct") is not None:
        pct = fig["change_pct"]
        body += f", {'+' if pct > 0 else ('±' if pct == 0 else '−')}{abs(pct):.0f}%"
    elif fig.get("previous") == 0 and fig["change"]:
        body += ", new"
    return body


def fig_cell(fig: dict[str, Any], digits: int = 0, suffix: str = "", pct_points: bool = False) -> str:
    """'value suffix (change)'."""
    return f"{num(fig['value'], digits)}{suffix} ({change(fig, digits, pct_points)})"


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=num, change=change, fig=fig_cell, tone=lambda s: TONE_RU.get(s or "", s or "—"))
    return env


def to_markdown(rep: dict[str, Any]) -> str:
    """The report as Markdown."""
    return _env().get_template("report.md.j2").render(r=rep).strip() + "\n"


def charts(rep: dict[str, Any]) -> dict[str, str]:
    """PNG charts as base64 strings: daily volume, tone split, share of voice."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}

    def encode(fig: Any) -> str:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    days = [d["day"][5:] for d in rep["daily"]]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.bar(days, [d["articles"] for d in rep["daily"]], color="#8fb3d9", label="articles (with reprints)")
    ax.plot(days, [d["stories"] for d in rep["daily"]], color="#1f4e79", marker="o", label="unique stories")
    ax.set_title("Daily volume")
    ax.legend(loc="upper left", fontsize=8)
    ax.tick_params(axis="x", labelsize=8, rotation=45 if len(days) > 10 else 0)
    out["daily"] = encode(fig)

    tone = {s: rep["tone"][s]["value"] for s in ("positive", "neutral", "negative")}
    fig, ax = plt.subplots(figsize=(3.5, 2.8))
    if sum(tone.values()):
        ax.pie(
            list(tone.values()),
            labels=[f"{k} {v}" for k, v in tone.items()],
            colors=["#4caf50", "#b0bec5", "#e53935"],
            startangle=90,
        )
    ax.set_title("Tone")
    out["tone"] = encode(fig)

    fig, ax = plt.subplots(figsize=(5, 2.8))
    rows = rep["share_of_voice"]
    ax.barh([r["brand"] for r in rows][::-1], [r["share"]["value"] or 0 for r in rows][::-1], color="#1f4e79")
    ax.set_xlabel("% of articles")
    ax.set_title("Share of voice")
    out["sov"] = encode(fig)
    return out


def to_html(rep: dict[str, Any]) -> str:
    """A self-contained HTML page (charts embedded as base64 PNG)."""
    return _env().get_template("report.html.j2").render(r=rep, charts=charts(rep))


def to_xlsx(rep: dict[str, Any], path: Path) -> None:
    """One sheet per table, with current and previous values side by side."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"

    def sheet(title: str, header: list[str], rows: list[list[Any]]) -> None:
        target = ws if title == "Summary" else wb.create_sheet(title)
        target.append(header)
        for cell in target[1]:
            cell.font = Font(bold=True)
        for row in rows:
            target.append(row)
        for col in target.columns:
            width = max(len(str(c.value or "")) for c in col)
            target.column_dimensions[col[0].column_letter].width = min(60, max(10, width + 2))

    def f(fig: dict[str, Any]) -> list[Any]:
        return [fig["value"], fig["previous"], fig["change"], fig["change_pct"]]

    summary = [
        ["Articles (incl. reprints)", *f(rep["articles"])],
        ["Mentions", *f(rep["mentions"])],
        ["Unique stories", *f(rep["stories"])],
        ["Reprints", *f(rep["reprints"])],
        *[[f"Articles {s}", *f(rep["tone"][s])] for s in ("positive", "neutral", "negative")],
        ["Net tone, %", *f(rep["net_tone"])],
        [f"Publicity index ({rep['formula']['version']})", *f(rep["publicity_index"])],
    ]
    sheet("Summary", ["Figure", rep["period"], rep["previous_period"], "Change", "Change %"], summary)
    ws.append([])
    ws.append(["Formula", rep["formula"]["text"]])
    ws.append(["Net tone", rep["formula"]["net_tone"]])
    sheet(
        "Daily",
        ["Day", "Articles", "Unique stories", "Publicity index"],
        [[d["day"], d["articles"], d["stories"], round(d["publicity"], 4)] for d in rep["daily"]],
    )
    sheet(
        "Sources",
        ["Source", "Weight", "Articles", "Articles before", "Publicity index", "Publicity before"],
        [
            [
                s["name"],
                s["weight"],
                s["articles"]["value"],
                s["articles"]["previous"],
                s["publicity_fig"]["value"],
                s["publicity_fig"]["previous"],
            ]
            for s in rep["top_sources"]
        ],
    )
    sheet(
        "Stories",
        ["Title", "Source", "Articles", "Reprints", "Outlets", "Tone", "URL"],
        [
            [s["title"], s["source"], s["articles"], s["reprints"], s["outlets"], s["tone"], s["url"]]
            for s in rep["top_stories"]
        ],
    )
    sheet(
        "Share of voice",
        ["Brand", "Articles", "Articles before", "Share %", "Share before %", "Mentions", "Mention share %"],
        [
            [
                r["brand"],
                r["articles"]["value"],
                r["articles"]["previous"],
                r["share"]["value"],
                r["share"]["previous"],
                r["mentions"]["value"],
                r["mention_share"]["value"],
            ]
            for r in rep["share_of_voice"]
        ],
    )
    sheet(
        "Negative",
        ["Published", "Source", "Weight", "Title", "URL", "Snippet"],
        [[n["published_at"], n["source"], n["weight"], n["title"], n["url"], n["snippet"]] for n in rep["negatives"]],
    )
    sheet(
        "Promo codes",
        ["Code", "Mentions", "Mentions before", "Redemptions", "Redemptions before", "Amount", "Amount before"],
        [
            [
                p["code"],
                p["mentions"]["value"],
                p["mentions"]["previous"],
                p["redemptions"]["value"],
                p["redemptions"]["previous"],
                p["amount"]["value"],
                p["amount"]["previous"],
            ]
            for p in rep["promo_codes"]
        ],
    )
    if rep.get("smm"):
        smm = rep["smm"]
        sheet(
            "Own channels",
            ["Figure", rep["period"], rep["previous_period"], "Change", "Change %"],
            [
                ["Posts", *f(smm["posts"])],
                ["Views", *f(smm["views"])],
                ["Forwards", *f(smm["forwards"])],
                ["Average views per post", *f(smm["avg_views"])],
            ],
        )
    if rep.get("outcomes"):
        rows = []
        for corr in rep["outcomes"]["correlations"]:
            for lag in corr["lags"]:
                rows.append([corr["outcome"], lag["lag"], lag["r"], lag["n"], lag["note"] or ""])
        sheet("Correlations", ["Outcome", "Lag, days", "r", "n", "Note"], rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
