"""Small server-side charts: inline SVG with a title, a label and a data table.

No JavaScript and no third-party code: the SVG is built from strings with
every text escaped. Each chart is a <figure> holding the SVG (role="img",
<title>, <desc>, aria-labelledby) and a <details> data table for screen
readers and for anyone who wants the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | float]
    css_class: str
    """Colour class (``sev-critical`` ...); a dash pattern keeps series apart without colour."""
    dash: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float
    css_class: str = "bar"


def _nice_max(value: float) -> float:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _dash(series: Series) -> str:
    return f' stroke-dasharray="{escape(series.dash)}"' if series.dash else ""


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(row[0])}</th>'
        + "".join(f'<td class="num">{escape(_fmt(v))}</td>' for v in row[1:])
        + "</tr>"
        for row in rows
    )
    return (
        '<details class="chart-data"><summary>Data table</summary>'
        f'<div class="table-scroll"><table class="table compact"><caption>{escape(caption)}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>"
    )


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    width: int = 1100,
    height: int = 240,
    description: str = "",
) -> SafeString:
    """A line chart of several series over the same x labels (e.g. days)."""
    uid = f"chart{next(_ids)}"
    left, right, top, bottom = 48, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((max(s.values, default=0) for s in series), default=0))
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    parts = []
    for step in range(5):
        value = peak * step / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="axis" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{escape(_fmt(value))}</text>'
        )
    tick_every = max(1, n // 6)
    for i, label in enumerate(labels):
        if i % tick_every == 0 or i == n - 1:
            anchor = "end" if i == n - 1 else "start" if i == 0 else "middle"
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="{anchor}">'
                f"{escape(label)}</text>"
            )
    for s in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        parts.append(f'<polyline class="line {s.css_class}" points="{points}"{_dash(s)}/>')
        if s.values:
            last = len(s.values) - 1
            parts.append(
                f'<circle class="dot {s.css_class}" cx="{x(last):.1f}" '
                f'cy="{y(s.values[last]):.1f}" r="3"/>'
            )
    legend = "".join(
        f'<li><svg width="22" height="10" aria-hidden="true"><line class="line {s.css_class}" '
        f'x1="1" x2="21" y1="5" y2="5"{_dash(s)}/></svg>'
        f"{escape(s.name)} <strong>{escape(_fmt(s.values[-1] if s.values else 0))}</strong></li>"
        for s in series
    )
    desc = description or (
        f"{title}: "
        + "; ".join(
            f"{s.name} from {_fmt(s.values[0])} to {_fmt(s.values[-1])}" for s in series if s.values
        )
    )
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        f"{''.join(parts)}</svg>"
    )
    table = _table(
        title,
        ["Day", *(s.name for s in series)],
        [(label, *(s.values[i] for s in series)) for i, label in enumerate(labels)],
    )
    return mark_safe(
        f'<figure class="chart-figure" aria-label="{escape(title)}">{svg}'
        f'<ul class="legend">{legend}</ul>{table}</figure>'
    )


def bar_chart(
    *, title: str, bars: Sequence[Bar], width: int = 420, bar_height: int = 22
) -> SafeString:
    """Horizontal bars with their value written beside each bar."""
    uid = f"chart{next(_ids)}"
    label_w, gap = 150, 6
    height = max(len(bars), 1) * (bar_height + gap) + gap
    peak = max((b.value for b in bars), default=0) or 1
    plot_w = width - label_w - 60
    parts = []
    for i, bar in enumerate(bars):
        top = gap + i * (bar_height + gap)
        length = max(plot_w * bar.value / peak, 1 if bar.value else 0)
        parts.append(
            f'<text class="axis" x="{label_w - 8}" y="{top + bar_height * 0.68:.1f}" '
            f'text-anchor="end">{escape(bar.label)}</text>'
            f'<rect class="{escape(bar.css_class)}" x="{label_w}" y="{top}" '
            f'width="{length:.1f}" height="{bar_height}" rx="2"/>'
            f'<text class="value" x="{label_w + length + 6:.1f}" '
            f'y="{top + bar_height * 0.68:.1f}">{escape(_fmt(bar.value))}</text>'
        )
    if not bars:
        parts.append(f'<text class="axis" x="8" y="{bar_height}">No data yet</text>')
    desc = "; ".join(f"{b.label}: {_fmt(b.value)}" for b in bars) or "No data yet"
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d"><title id="{uid}-t">{escape(title)}</title>'
        f'<desc id="{uid}-d">{escape(desc)}</desc>{"".join(parts)}</svg>'
    )
    table = _table(title, ["", "Count"], [(b.label, b.value) for b in bars])
    return mark_safe(
        f'<figure class="chart-figure" aria-label="{escape(title)}">{svg}{table}</figure>'
    )
