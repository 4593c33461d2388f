"""Render a computed report as Markdown (chat, e-mail, terminal), HTML with embedded charts, PDF (A4, through
WeasyPrint) or XLSX (number formats, dates, links, frozen headers and native Excel charts), in Russian or English."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from report.labels import TONES, Labels
from rezonans.errors import UserError
from rezonans.formats import moment
from rezonans.timeutil import zone

TEMPLATES = Path(__file__).parent / "templates"
OWN_COLOUR, OTHER_COLOUR, LIGHT_COLOUR = "#1f4e79", "#a9bfd6", "#8fb3d9"
TONE_COLOURS = {"positive": "#4caf50", "neutral": "#b0bec5", "negative": "#e53935"}


class PdfUnavailable(UserError):
    """WeasyPrint (or the pango library it needs) is missing; the message says how to install it."""


def md_text(value: Any) -> str:
    """Crawled text for Markdown: HTML escaped (a title's <script> stays text), table and link syntax neutralised."""
    text = " ".join(str(value or "").split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "/").replace("[", "(").replace("]", ")")


def md_url(value: Any) -> str:
    """A link target for Markdown: http(s) only (anything else becomes '#'), no spaces or closing parentheses."""
    url = str(value or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        return "#"
    return url.replace(" ", "%20").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=md_text, mdurl=md_url)
    return env


def _generated(rep: dict[str, Any], labels: Labels) -> str:
    """When the report was made, in the report's time zone."""
    when = rep.get("generated_at")
    if not when:
        return "—"
    return moment(datetime.fromisoformat(when), labels.lang, rep.get("time_zone") or "Europe/Moscow")


def to_markdown(rep: dict[str, Any], language: str = "ru") -> str:
    """The report as Markdown."""
    labels = Labels(language)
    return _env().get_template("report.md.j2").render(r=rep, t=labels, L=labels).strip() + "\n"


def charts(rep: dict[str, Any], language: str = "ru", fmt: str = "png") -> dict[str, tuple[str, str]]:
    """Charts as (mime type, base64): daily volume, tone split, share of voice with the client's brand highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    labels = Labels(language)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    out: dict[str, tuple[str, str]] = {}
    plt.rcParams.update({"font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False})

    def encode(fig: Any) -> tuple[str, str]:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight")
        plt.close(fig)
        return mime, base64.b64encode(buf.getvalue()).decode("ascii")

    days = [labels.short_day(d["day"]) for d in rep["daily"]]
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    ax.bar(days, [d["articles"] for d in rep["daily"]], color=LIGHT_COLOUR, label=labels("chart_articles"))
    ax.plot(days, [d["stories"] for d in rep["daily"]], color=OWN_COLOUR, marker="o", label=labels("chart_stories"))
    ax.set_title(f"{labels('chart_daily')}: {rep.get('brand_name') or rep['brand']}", fontsize=10, pad=22)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.tick_params(axis="x", labelsize=8, rotation=45 if len(days) > 10 else 0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    out["daily"] = encode(fig)

    tone = {s: rep["tone"][s]["value"] or 0 for s in TONES}
    fig, ax = plt.subplots(figsize=(3.6, 2.6))
    if sum(tone.values()):
        shown = [s for s in TONES if tone[s]]
        ax.pie(
            [tone[s] for s in shown],
            labels=[f"{labels.tone(s)}: {tone[s]}" for s in shown],
            colors=[TONE_COLOURS[s] for s in shown],
            startangle=90,
            counterclock=False,
            wedgeprops={"width": 0.45, "edgecolor": "white"},
            textprops={"fontsize": 8},
        )
    ax.set_title(labels("chart_tone"), fontsize=10)
    out["tone"] = encode(fig)

    rows = rep["share_of_voice"]
    fig, ax = plt.subplots(figsize=(4.6, 0.5 + 0.42 * max(1, len(rows))))
    names = [r.get("name") or r["brand"] for r in rows][::-1]
    values = [r["share"]["value"] or 0 for r in rows][::-1]
    colours = [OWN_COLOUR if r["brand"] == rep["brand"] else OTHER_COLOUR for r in rows][::-1]
    bars = ax.barh(names, values, color=colours)
    for bar, value in zip(bars, values, strict=True):
        ax.text(
            bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {labels.num(value, 1)}", va="center", fontsize=8
        )
    for tick in ax.get_yticklabels():
        if tick.get_text() == (rep.get("brand_name") or rep["brand"]):
            tick.set_fontweight("bold")
    ax.set_xlim(0, max(values + [1]) * 1.2)
    ax.tick_params(labelsize=8)
    ax.set_title(labels("chart_sov"), fontsize=10)
    out["sov"] = encode(fig)
    return out


def to_html(rep: dict[str, Any], language: str = "ru", pdf: bool = False) -> str:
    """A self-contained HTML page (charts embedded: PNG for browsers and mail, SVG for the PDF)."""
    labels = Labels(language)
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            r=rep,
            t=labels,
            L=labels,
            charts=charts(rep, language, "svg" if pdf else "png"),
            pdf=pdf,
            generated=_generated(rep, labels),
        )
    )


def to_pdf(rep: dict[str, Any], path: Path, language: str = "ru") -> None:
    """An A4 PDF with the charts, from the HTML page, through WeasyPrint."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the pango library is missing
        raise PdfUnavailable(
            f"PDF export needs WeasyPrint and pango ({exc}): run scripts/setup.sh, or "
            "`apt-get install libpango-1.0-0 libpangoft2-1.0-0` and `pip install weasyprint`"
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=to_html(rep, language, pdf=True)).write_pdf(str(path))


# ---------------------------------------------------------------------------------------------- XLSX
COUNT, DECIMAL2, DECIMAL1, SHARE, DAY, MOMENT = "#,##0", "#,##0.00", "#,##0.0", "0.0%", "DD.MM.YYYY", "DD.MM.YYYY HH:MM"


def _local(value: str | None, tz: str) -> datetime | None:
    """An ISO date-time as a naive local datetime (Excel has no time zones)."""
    if not value:
        return None
    when = datetime.fromisoformat(value)
    return when.astimezone(zone(tz)).replace(tzinfo=None) if when.tzinfo else when


def _frac(value: float | None) -> float | None:
    """A percentage as a fraction for Excel's % format."""
    return None if value is None else value / 100.0


def to_xlsx(rep: dict[str, Any], path: Path, language: str = "ru") -> None:
    """One sheet per table with current and previous values, real numbers, dates and links, and native charts."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference
    from openpyxl.chart.label import DataLabelList
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    t = Labels(language)
    tz = rep.get("time_zone") or "Europe/Moscow"
    wb = Workbook()
    first = wb.active
    bold, link = Font(bold=True), Font(color="0563C1", underline="single")
    header_fill = PatternFill("solid", fgColor="F3F6F9")
    own_fill = PatternFill("solid", fgColor="FFF6D6")

    def sheet(title: str, header: list[str], rows: list[list[Any]], formats: list[str | None]) -> Any:
        ws = first if first.title == "Sheet" else wb.create_sheet()
        ws.title = title[:31]
        ws.append(header)
        for cell in ws[1]:
            cell.font, cell.fill = bold, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            ws.append(row)
        for col_idx, fmt in enumerate(formats, start=1):
            for (cell,) in ws.iter_rows(min_row=2, min_col=col_idx, max_col=col_idx):
                if fmt == "url" and cell.value:
                    cell.hyperlink, cell.font = str(cell.value), link
                elif fmt and fmt != "url":
                    cell.number_format = fmt
        for col in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
            ws.column_dimensions[get_column_letter(col[0].column)].width = min(60, max(10, width + 2))
        ws.freeze_panes = "B2"
        return ws

    def f(fig: dict[str, Any], pct: bool = False) -> list[Any]:
        if pct:
            return [_frac(fig["value"]), _frac(fig["previous"]), _frac(fig["change"]), None]
        return [fig["value"], fig["previous"], fig["change"], _frac(fig["change_pct"])]

    summary_rows = [
        [t("articles_all"), *f(rep["articles"])],
        [t("mentions"), *f(rep["mentions"])],
        [t("stories"), *f(rep["stories"])],
        [t("reprints"), *f(rep["reprints"])],
        *[[t("articles_tone", tone=t.tone(s)), *f(rep["tone"][s])] for s in TONES],
        [t("net_tone"), *f(rep["net_tone"], pct=True)],
        [t("pi", version=rep["formula"]["version"]), *f(rep["publicity_index"])],
    ]
    ws = sheet(
        t("sheet_summary"),
        [t("figure"), rep["period"], rep["previous_period"], t("change"), t("change_pct")],
        summary_rows,
        [None, COUNT, COUNT, COUNT, SHARE],
    )
    for row in (9,):  # net tone: a share
        for col in (2, 3, 4):
            ws.cell(row=row, column=col).number_format = SHARE
    for col in (2, 3, 4):
        ws.cell(row=10, column=col).number_format = DECIMAL2
    ws.append([])
    ws.append([t("formula_row"), t("formula", version=rep["formula"]["version"])])
    ws.append([t("net_tone"), t("net_tone_text")])
    pie = PieChart()
    pie.title = t("chart_tone")
    pie.add_data(Reference(ws, min_col=2, min_row=6, max_row=8), titles_from_data=False)
    pie.set_categories(Reference(ws, min_col=1, min_row=6, max_row=8))
    pie.dataLabels = DataLabelList()
    pie.dataLabels.showVal = True
    pie.height, pie.width = 7, 10
    ws.add_chart(pie, "H2")

    daily = sheet(
        t("sheet_daily"),
        [t("day"), t("articles"), t("stories"), t("publicity")],
        [[date.fromisoformat(d["day"]), d["articles"], d["stories"], round(d["publicity"], 4)] for d in rep["daily"]],
        [DAY, COUNT, COUNT, DECIMAL2],
    )
    n = len(rep["daily"])
    if n:
        bars = BarChart()
        bars.title = f"{t('chart_daily')}: {rep.get('brand_name') or rep['brand']}"
        bars.add_data(Reference(daily, min_col=2, max_col=3, min_row=1, max_row=n + 1), titles_from_data=True)
        bars.set_categories(Reference(daily, min_col=1, min_row=2, max_row=n + 1))
        bars.y_axis.title = t("articles")
        bars.x_axis.number_format = "DD.MM"
        line = LineChart()
        line.add_data(Reference(daily, min_col=4, min_row=1, max_row=n + 1), titles_from_data=True)
        line.y_axis.axId = 200
        line.y_axis.title = t("publicity")
        line.y_axis.crosses = "max"
        bars += line
        bars.height, bars.width = 8, 18
        daily.add_chart(bars, "F2")

    sheet(
        t("sheet_sources"),
        [
            t("source"),
            t("weight"),
            t("articles"),
            t("before", what=t("articles")),
            t("publicity"),
            t("before", what=t("publicity")),
        ],
        [
            [
                s["name"],
                round(s["weight"], 4) if s["weight"] is not None else None,
                s["articles"]["value"],
                s["articles"]["previous"],
                s["publicity_fig"]["value"],
                s["publicity_fig"]["previous"],
            ]
            for s in rep["top_sources"]
        ],
        [None, DECIMAL1, COUNT, COUNT, DECIMAL2, DECIMAL2],
    )
    sheet(
        t("sheet_stories"),
        [t("title_col"), t("source"), t("published"), t("articles"), t("reprints"), t("outlets"), t("tone"), t("url")],
        [
            [
                s["title"],
                s["source"],
                _local(s.get("published_at"), tz),
                s["articles"],
                s["reprints"],
                s["outlets"],
                t.tone(s["tone"]),
                s["url"],
            ]
            for s in rep["top_stories"]
        ],
        [None, None, MOMENT, COUNT, COUNT, COUNT, None, "url"],
    )
    sov_rows = rep["share_of_voice"]
    sov = sheet(
        t("sheet_sov"),
        [
            t("brand"),
            t("articles"),
            t("before", what=t("articles")),
            t("share_pct"),
            t("before", what=t("share_pct")),
            t("mentions"),
            t("mention_share_pct"),
        ],
        [
            [
                r.get("name") or r["brand"],
                r["articles"]["value"],
                r["articles"]["previous"],
                _frac(r["share"]["value"]),
                _frac(r["share"]["previous"]),
                r["mentions"]["value"],
                _frac(r["mention_share"]["value"]),
            ]
            for r in sov_rows
        ],
        [None, COUNT, COUNT, SHARE, SHARE, COUNT, SHARE],
    )
    for i, r in enumerate(sov_rows, start=2):
        if r["brand"] == rep["brand"]:
            for cell in sov[i]:
                cell.font, cell.fill = bold, own_fill
    if sov_rows:
        chart = BarChart()
        chart.type = "bar"
        chart.title = t("chart_sov")
        chart.add_data(Reference(sov, min_col=4, min_row=1, max_row=len(sov_rows) + 1), titles_from_data=True)
        chart.set_categories(Reference(sov, min_col=1, min_row=2, max_row=len(sov_rows) + 1))
        chart.y_axis.number_format = "0%"
        chart.legend = None
        chart.height, chart.width = 7, 14
        sov.add_chart(chart, "I2")

    sheet(
        t("sheet_negative"),
        [t("published"), t("source"), t("weight"), t("title_col"), t("url"), t("snippet")],
        [
            [
                _local(x["published_at"], tz),
                x["source"],
                round(x["weight"], 4) if x["weight"] is not None else None,
                x["title"],
                x["url"],
                x["snippet"],
            ]
            for x in rep["negatives"]
        ],
        [MOMENT, None, DECIMAL1, None, "url", None],
    )
    sheet(
        t("sheet_promo"),
        [
            t("code"),
            t("mentions"),
            t("before", what=t("mentions")),
            t("redemptions"),
            t("before", what=t("redemptions")),
            t("amount"),
            t("before", what=t("amount")),
        ],
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
        [None, COUNT, COUNT, COUNT, COUNT, DECIMAL2, DECIMAL2],
    )
    if rep.get("smm"):
        smm = rep["smm"]
        sheet(
            t("sheet_own"),
            [t("figure"), rep["period"], rep["previous_period"], t("change"), t("change_pct")],
            [
                [t("posts"), *f(smm["posts"])],
                [t("views"), *f(smm["views"])],
                [t("forwards"), *f(smm["forwards"])],
                [t("avg_views"), *f(smm["avg_views"])],
            ],
            [None, COUNT, COUNT, COUNT, SHARE],
        )
    if rep.get("engagement"):
        eng = rep["engagement"]
        ws = sheet(
            t("sheet_engagement"),
            [t("figure"), rep["period"], rep["previous_period"], t("change"), t("change_pct")],
            [
                [t("posts"), *f(eng["posts"])],
                [t("likes"), *f(eng["likes"])],
                [t("reposts"), *f(eng["forwards"])],
                [t("comments"), *f(eng["comments"])],
                [t("views"), *f(eng["views"])],
                [t("pi", version=rep["formula"]["version"]), *f(rep["publicity_index"])],
            ],
            [None, COUNT, COUNT, COUNT, SHARE],
        )
        # the top posts under the totals, beside their share of the publicity index
        ws.append([])
        ws.append([t("engagement_top")])
        ws.cell(row=ws.max_row, column=1).font = bold
        top_header = [
            t("published"),
            t("source"),
            t("title_col"),
            t("url"),
            t("likes"),
            t("reposts"),
            t("comments"),
            t("views"),
            t("post_publicity"),
        ]
        ws.append(top_header)
        for cell in ws[ws.max_row]:
            cell.font, cell.fill = bold, header_fill
        for p in eng["top"]:
            ws.append(
                [
                    _local(p["published_at"], tz),
                    p["source"],
                    p["title"],
                    p["url"],
                    p["likes"],
                    p["forwards"],
                    p["comments"],
                    p["views"],
                    p["publicity"],
                ]
            )
            row = ws.max_row
            ws.cell(row=row, column=1).number_format = MOMENT
            if p["url"]:
                ws.cell(row=row, column=4).hyperlink, ws.cell(row=row, column=4).font = str(p["url"]), link
            for col in (5, 6, 7, 8):
                ws.cell(row=row, column=col).number_format = COUNT
            ws.cell(row=row, column=9).number_format = DECIMAL2
        ws.append([])
        ws.append([t("engagement_as_of")])
        ws.append([t("not_publicity")])
    if rep.get("outcomes"):
        rows = []
        for corr in rep["outcomes"]["correlations"]:
            for lag in corr["lags"]:
                note = ""
                if lag["r"] is None:
                    note = t("not_enough") if lag["n"] < rep["outcomes"]["min_n"] else t("no_variation")
                rows.append([t.outcome(corr["outcome"]), lag["lag"], lag["r"], lag["n"], note])
        sheet(
            t("sheet_corr"),
            [t("outcome"), t("lag_days"), "r", "n", t("note")],
            rows,
            [None, COUNT, "0.00", COUNT, None],
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
