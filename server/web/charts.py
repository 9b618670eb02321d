"""Small charts drawn on the server as inline SVG: nothing fetched, nothing run in the browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FOUND_COLOUR = "#b42318"
CLOSED_COLOUR = "#2f9e44"
OPEN_COLOUR = "#1f4e79"
AGE_COLOURS = ("#9fd3a8", "#f5d76e", "#f0a04b", "#e2572b", "#8b1e1e")


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    values: Sequence[int]


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def bars_and_line(
    labels: Sequence[str],
    bars: Sequence[Series],
    line: Series | None,
    *,
    title: str,
    width: int = 720,
    height: int = 280,
) -> Markup:
    """Grouped bars per label (found, closed) with a line over them (open at month end)."""
    left, right, top, bottom = 44, 12, 16, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([0, *[v for s in bars for v in s.values], *(line.values if line else [])])
    # Four gridline steps of a round size, so every axis label is a whole number.
    top_value = _nice_max(-(-peak // 4)) * 4
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7 / max(len(bars), 1), 1)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = top_value * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_fmt(y(value))}" '
            f'y2="{_fmt(y(value))}" stroke="#e4e7eb"/>'
            f'<text x="{left - 6}" y="{_fmt(y(value) + 4)}" text-anchor="end" '
            f'font-size="11" fill="#52606d">{_fmt(value)}</text>'
        )
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot * 0.15
        for j, series in enumerate(bars):
            value = series.values[i]
            parts.append(
                f'<rect x="{_fmt(x0 + j * bar_w)}" y="{_fmt(y(value))}" width="{_fmt(bar_w)}" '
                f'height="{_fmt(top + plot_h - y(value))}" fill="{series.colour}">'
                f"<title>{escape(label)} {escape(series.label)} {value}</title></rect>"
            )
        parts.append(
            f'<text x="{_fmt(left + slot * i + slot / 2)}" y="{height - bottom + 16}" '
            f'text-anchor="middle" font-size="11" fill="#52606d">{escape(label)}</text>'
        )
    if line is not None and line.values:
        points = " ".join(
            f"{_fmt(left + slot * i + slot / 2)},{_fmt(y(v))}" for i, v in enumerate(line.values)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{line.colour}" stroke-width="2.5"/>'
        )
        for i, v in enumerate(line.values):
            parts.append(
                f'<circle cx="{_fmt(left + slot * i + slot / 2)}" cy="{_fmt(y(v))}" r="3.5" '
                f'fill="{line.colour}"><title>{escape(labels[i])} {escape(line.label)} {v}'
                "</title></circle>"
            )
    legend = [*bars, *([line] if line else [])]
    for k, series in enumerate(legend):
        lx = left + k * 150
        parts.append(
            f'<rect x="{lx}" y="{height - 18}" width="12" height="12" fill="{series.colour}"/>'
            f'<text x="{lx + 18}" y="{height - 8}" font-size="12" fill="#1f2933">'
            f"{escape(series.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    colours: Sequence[str] = AGE_COLOURS,
    width: int = 480,
    row: int = 30,
) -> Markup:
    """One bar per (label, value), longest first as given; the value printed at its end."""
    left, right = 72, 56
    height = row * max(len(items), 1) + 8
    peak = max([1, *[v for _, v in items]])
    plot_w = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y0 = 4 + i * row
        w = plot_w * value / peak
        colour = colours[i % len(colours)]
        parts.append(
            f'<text x="{left - 8}" y="{y0 + row / 2 + 4}" text-anchor="end" font-size="12" '
            f'fill="#1f2933">{escape(label)}</text>'
            f'<rect x="{left}" y="{y0 + 4}" width="{_fmt(w)}" height="{row - 10}" '
            f'fill="{colour}" rx="3"><title>{escape(label)} {value}</title></rect>'
            f'<text x="{_fmt(left + w + 6)}" y="{y0 + row / 2 + 4}" font-size="12" '
            f'fill="#1f2933" class="value">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
