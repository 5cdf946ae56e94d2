"""The lake page's chart: rows per day of one city, as SVG drawn here (no chart library, no
script). Bars sit at their date on a time axis, so gaps between days show as gaps; each bar's
tooltip names its day and rows. Every text is escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 1100, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 40, 14, 34
LABEL_GAP = 80  # the least room between two date labels, in pixels


def rows_per_day_chart(days: Sequence[tuple[dt.date, int]], label: str) -> Markup:
    """A bar per day (`days`: (date, rows), any order) on a time axis, labelled `label`."""
    if not days:
        return Markup("")
    days = sorted(days)
    first, last = days[0][0], days[-1][0]
    span = max((last - first).days + 1, 1)
    most = max(rows for _, rows in days) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / span
    bar_w = max(min(slot * 0.8, 40), 1.5)

    def x_of(day: dt.date) -> float:
        return LEFT + ((day - first).days + 0.5) * slot

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'class="axis"/>',
    ]
    for fraction in (0.5, 1.0):  # gridlines at half and all of the busiest day
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{round(most * fraction):,}</text>"
        )
    for day, rows in days:
        height = plot_h * rows / most
        parts.append(
            f'<rect class="bar succeeded" x="{x_of(day) - bar_w / 2:.1f}" '
            f'y="{TOP + plot_h - height:.1f}" width="{bar_w:.1f}" height="{height:.1f}">'
            f"<title>{day.isoformat()}: {rows:,} rows</title></rect>"
        )
    placed: list[float] = []
    for day in _ticks(first, last):
        x = x_of(day)
        if placed and x - placed[-1] < LABEL_GAP:
            continue  # too close to the label before: it would overlap
        placed.append(x)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 12}" class="tick" text-anchor="middle">'
            f"{escape(_tick_label(day, span))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # built from numbers and escaped text


def _ticks(first: dt.date, last: dt.date, most: int = 8) -> list[dt.date]:
    """Up to `most` dates to label: the first, month starts (or year starts) between, the last."""
    span = (last - first).days
    if span > 2 * 366:
        marks = [dt.date(y, 1, 1) for y in range(first.year + 1, last.year + 1)]
    else:
        marks = []
        month = dt.date(first.year, first.month, 1)
        while month <= last:
            if month > first:
                marks.append(month)
            month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    step = max(1, -(-len(marks) // max(most - 2, 1)))
    return [first, *marks[::step]]


def _tick_label(day: dt.date, span_days: int) -> str:
    if span_days > 2 * 366:
        return str(day.year)
    return day.strftime("%Y-%m-%d") if span_days <= 62 else day.strftime("%b %Y")
