"""Inline SVG charts for the Monitor tab (no JavaScript, no chart library).

:func:`build_chart` turns a series of per-interval values into a :class:`Chart`: the SVG
markup (bars for sums, a line for averages), a text summary that screen readers get as
the image's description, and the rows of the data table shown under it on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from markupsafe import Markup

from sendoff.console.history import MetricSpec, nice_ceiling

WIDTH, HEIGHT = 480, 150
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 10, 24


@dataclass(frozen=True, kw_only=True)
class Chart:
    id: str
    spec: MetricSpec
    svg: Markup
    summary: str
    headline: str
    rows: list[tuple[str, str]]  # (time, value) for intervals with data


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def _axis(value: float, unit: str) -> str:
    """Short axis labels: ``850 ms``, ``12 s``, ``2 min``; ``1.5k`` for counts."""
    if unit == "ms":
        if value < 1000:
            return f"{value:g} ms"
        if value < 60_000:
            return f"{value / 1000:g} s"
        return f"{value / 60_000:g} min"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def build_chart(
    spec: MetricSpec,
    values: list[float | None],
    *,
    start: float,
    step_s: int,
    chart_id: str,
    overall: float | None = None,
) -> Chart:
    """``overall`` is the window's own statistic for averages (sum / count over the whole
    window); without it the headline averages the intervals."""
    present = [v for v in values if v is not None]
    peak = max(present) if present else 0.0
    top = nice_ceiling(peak)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = max(len(values), 1)
    slot = plot_w / n

    def y(value: float) -> float:
        return TOP + plot_h - (value / top) * plot_h

    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">'
    ]
    summary = _summary(spec, values, present, start=start, step_s=step_s)
    parts.append(f'<title id="{chart_id}-t">{escape(spec.name)}</title>')
    parts.append(f'<desc id="{chart_id}-d">{escape(summary)}</desc>')
    for fraction in (0.0, 0.5, 1.0):
        gy = TOP + plot_h - fraction * plot_h
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
        )
        label = _axis(top * fraction, spec.unit)
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
    end = start + step_s * n
    parts.append(f'<text class="axis" x="{LEFT}" y="{HEIGHT - 6}">{_clock(start)}</text>')
    parts.append(
        f'<text class="axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{_clock(end)} UTC</text>"
    )
    if spec.statistic == "Sum":
        for i, value in enumerate(values):
            if not value:
                continue
            height = max(1.0, (value / top) * plot_h)
            x = LEFT + i * slot + slot * 0.15
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" '
                f'width="{max(slot * 0.7, 1):.1f}" height="{height:.1f}"/>'
            )
    else:
        points = [(LEFT + i * slot + slot / 2, y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline class="line" points="{path}"/>')
        for px, py in points:
            parts.append(f'<circle class="dot" cx="{px:.1f}" cy="{py:.1f}" r="2.5"/>')
    parts.append("</svg>")
    rows = [
        (_clock(start + i * step_s), _fmt(v, spec.unit))
        for i, v in enumerate(values)
        if v is not None and (v != 0 or spec.statistic == "Average")
    ]
    return Chart(
        id=chart_id,
        spec=spec,
        svg=Markup("".join(parts)),
        summary=summary,
        headline=_headline(spec, present, overall),
        rows=rows,
    )


def _headline(spec: MetricSpec, present: list[float], overall: float | None = None) -> str:
    if spec.statistic == "Sum":
        return f"{_fmt(sum(present), spec.unit)} total"
    if not present:
        return "no data"
    average = overall if overall is not None else sum(present) / len(present)
    return f"{_fmt(average, spec.unit)} average"


def _summary(
    spec: MetricSpec, values: list[float | None], present: list[float], *, start: float,
    step_s: int,
) -> str:  # fmt: skip
    per = f"{step_s // 60} minute" + ("s" if step_s // 60 != 1 else "")
    if not any(present):
        return f"{spec.name} ({spec.statistic.lower()} per {per}): no data in this window."
    peak = max(present)
    at = next(i for i, v in enumerate(values) if v == peak)
    return (
        f"{spec.name} ({spec.statistic.lower()} per {per}): {_headline(spec, present)};"
        f" highest {_fmt(peak, spec.unit)} at {_clock(start + at * step_s)} UTC."
    )
