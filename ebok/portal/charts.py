"""Server-side SVG bar charts: no script, no external library, nothing from a CDN.

Colours come from classes in ``portal/app.css`` (the CSP forbids inline styles);
each chart is an ``img`` with a title and description, and the page shows the
same figures as a table for anyone who cannot see it.
"""

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ebok.portal.formatting import format_money, format_month, format_number

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 76, 8, 12, 30
SERIES_CLASSES = 8  # .series-0 … .series-7 in app.css


@dataclass(frozen=True)
class Segment:
    value: Decimal
    css_class: str
    name: str = ""


@dataclass(frozen=True)
class Column:
    label: str
    segments: list[Segment]


@dataclass
class Chart:
    svg: SafeString
    headers: list[str]
    rows: list[list[str]]
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, name)


def recent_months(on: date, count: int) -> list[date]:
    """The first days of the last ``count`` months, oldest first, ``on``'s month last."""
    index = on.year * 12 + on.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _element(tag: str, attrs: dict, *children: str) -> str:
    rendered = "".join(f' {name}="{escape(value)}"' for name, value in attrs.items())
    if not children:
        return f"<{tag}{rendered}/>"
    return f"<{tag}{rendered}>{''.join(children)}</{tag}>"


def _text(value: str) -> str:
    return str(escape(value))


def nice_step(span: float, ticks: int = 4) -> float:
    """A step of 1, 2, 2.5 or 5 × 10ⁿ giving about ``ticks`` intervals."""
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _extent(columns: list[Column]) -> tuple[float, float, float]:
    highs = [sum(float(s.value) for s in c.segments if s.value > 0) for c in columns]
    lows = [sum(float(s.value) for s in c.segments if s.value < 0) for c in columns]
    top, bottom = max(highs + [0.0]), min(lows + [0.0])
    if top == bottom:
        top = 1.0
    step = nice_step(top - bottom)
    return math.floor(bottom / step) * step, math.ceil(top / step) * step, step


def bar_chart(
    columns: list[Column], *, chart_id: str, title: str, description: str, label_every: int = 1
) -> SafeString:
    """Bars per column; positive segments stack up from zero, negative ones down."""
    low, high, step = _extent(columns)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + (high - value) / (high - low) * plot_height, 2)

    parts = [
        _element("title", {"id": f"{chart_id}-title"}, _text(title)),
        _element("desc", {"id": f"{chart_id}-desc"}, _text(description)),
    ]
    tick = low
    while tick <= high + step / 2:
        parts.append(
            _element(
                "line",
                {"class": "grid", "x1": LEFT, "x2": WIDTH - RIGHT, "y1": y(tick), "y2": y(tick)},
            )
        )
        label = f"{format_number(tick, places=0)}\u00a0zł"
        parts.append(
            _element(
                "text",
                {"class": "tick", "x": LEFT - 6, "y": y(tick) + 4, "text-anchor": "end"},
                _text(label),
            )
        )
        tick += step
    band = plot_width / max(len(columns), 1)
    bar = band * 0.7
    for index, column in enumerate(columns):
        x = round(LEFT + index * band + (band - bar) / 2, 2)
        above = below = 0.0
        for segment in column.segments:
            value = float(segment.value)
            if value >= 0:
                start, above = above, above + value
                top, bottom = y(above), y(start)
            else:
                start, below = below, below + value
                top, bottom = y(start), y(below)
            name = f"{segment.name}: " if segment.name else ""
            tooltip = f"{column.label} — {name}{format_money(segment.value)}"
            parts.append(
                _element(
                    "rect",
                    {
                        "class": segment.css_class,
                        "x": x,
                        "y": top,
                        "width": round(bar, 2),
                        "height": round(max(bottom - top, 0), 2),
                    },
                    _element("title", {}, _text(tooltip)),
                )
            )
        if index % label_every == 0:
            parts.append(
                _element(
                    "text",
                    {
                        "class": "tick",
                        "x": round(x + bar / 2, 2),
                        "y": HEIGHT - 10,
                        "text-anchor": "middle",
                    },
                    _text(column.label),
                )
            )
    parts.append(
        _element("line", {"class": "axis", "x1": LEFT, "x2": WIDTH - RIGHT, "y1": y(0), "y2": y(0)})
    )
    svg = _element(
        "svg",
        {
            "class": "chart",
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "focusable": "false",
            "xmlns": "http://www.w3.org/2000/svg",
        },
        *parts,
    )
    return mark_safe(svg)  # noqa: S308 - every text and attribute above is escaped


def balance_history(months: list[dict]) -> Chart:
    """The balance at each month's end (from ``selectors.monthly_balances``)."""
    columns = [
        Column(
            label=format_month(row["month_end"]),
            segments=[
                Segment(row["balance"], "bar-owed" if row["balance"] > 0 else "bar-overpaid")
            ],
        )
        for row in months
    ]
    svg = bar_chart(
        columns,
        chart_id="balance-chart",
        title=_("Balance at the end of each month"),
        description=_(
            "Bars above zero are amounts owed, bars below zero are overpayments; "
            "the same figures are in the table below."
        ),
        label_every=3 if len(columns) > 12 else 1,
    )
    rows = [[column.label, format_money(column.segments[0].value)] for column in columns]
    return Chart(svg=svg, headers=[_("Month"), _("Balance")], rows=rows)


def charges_history(rows: list[dict], names: dict[str, str], months: list[date]) -> Chart:
    """Monthly charges by component (from ``selectors.monthly_charges_by_component``)."""
    amounts: dict[tuple[date, str], Decimal] = {}
    for row in rows:
        amounts[(row["month"], row["component"])] = row["amount"]
    components = sorted({row["component"] for row in rows})
    classes = {code: f"series-{i % SERIES_CLASSES}" for i, code in enumerate(components)}
    label_of = {code: names.get(code) or code or _("other") for code in components}
    columns = [
        Column(
            label=format_month(month),
            segments=[
                Segment(amounts[(month, code)], classes[code], label_of[code])
                for code in components
                if (month, code) in amounts
            ],
        )
        for month in months
    ]
    svg = bar_chart(
        columns,
        chart_id="charges-chart",
        title=_("Monthly charges by component"),
        description=_("Each bar is one month's charges, split into components by colour."),
        label_every=2 if len(columns) > 6 else 1,
    )
    table = [
        [format_month(month)]
        + [format_money(amounts.get((month, code), Decimal(0))) for code in components]
        + [format_money(sum((amounts.get((month, c), Decimal(0)) for c in components), Decimal(0)))]
        for month in months
    ]
    headers = [_("Month")] + [label_of[code] for code in components] + [_("Total")]
    legend = [(classes[code], label_of[code]) for code in components]
    return Chart(svg=svg, headers=headers, rows=table, legend=legend)
