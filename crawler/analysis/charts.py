"""Inline SVG charts drawn in Python, for a report that opens offline: stacked bars over days (with markers),
horizontal bars and lines. Each function returns one ``<svg>`` element as text; labels are escaped."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Sequence

STANCE_COLOURS = {"favor": "#2e9d5b", "against": "#d64541", "neutral": "#8c96a8", "unscored": "#d5d9e0"}
PALETTE = ("#3a6fd8", "#e08a1e", "#2e9d5b", "#a44fb7", "#d64541", "#1f9eb3", "#b8a11c", "#6b7a99", "#e05fa0",
           "#4caf50", "#795548", "#ff7043", "#5c6bc0", "#26a69a")
FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#333"'


def _ticks(top: float, n: int = 4) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / n
    step = next(s * 10 ** e for e in range(-3, 9) for s in (1, 2, 2.5, 5) if s * 10 ** e >= raw)
    return [step * i for i in range(int(top / step) + 2) if step * i <= top * 1.001 or i == 0]


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.2f}".rstrip("0")


def _frame(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(label)}" '
            f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet">'
            f'<title>{escape(label)}</title>' + "".join(body) + "</svg>")


def _axes(x0: int, y0: int, w: int, h: int, top: float) -> tuple[list[str], float]:
    """Grid lines and y labels; returns (elements, the y-axis maximum)."""
    ticks = _ticks(top)
    ymax = max(ticks[-1], top) or 1.0
    out = []
    for t in ticks:
        y = y0 + h - h * t / ymax
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#e3e6eb"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{_num(t)}</text>')
    return out, ymax


def _legend(x: int, y: int, names: Sequence[str], colours: Sequence[str]) -> list[str]:
    out = []
    for name, colour in zip(names, colours):
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{x + 14}" y="{y}" {FONT}>{escape(name)}</text>')
        x += 22 + 7 * len(name)
    return out


def _day_labels(days: Sequence[date], x_of, y: float) -> list[str]:
    every = max(1, len(days) // 8)
    return [f'<text x="{x_of(i):.1f}" y="{y:.1f}" text-anchor="middle" {FONT}>{d:%b %d}</text>'
            for i, d in enumerate(days) if i % every == 0]


def stacked_bars(days: Sequence[date], series: dict[str, Sequence[float]], colours: dict[str, str],
                 markers: dict[date, str] | None = None, label: str = "", width: int = 900, height: int = 300) -> str:
    """Bars per day stacked by series (in order), with a marker (a red line and triangle) on ``markers``' days."""
    x0, y0, w, h = 48, 28, width - 64, height - 70
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(days))]
    body, ymax = _axes(x0, y0, w, h, max(totals, default=0))
    slot = w / max(len(days), 1)
    x_of = lambda i: x0 + slot * (i + 0.5)  # noqa: E731
    for i, day in enumerate(days):
        base = y0 + h
        for name, vals in series.items():
            bar = h * vals[i] / ymax
            if bar > 0:
                body.append(f'<rect class="bar" x="{x0 + slot * i + slot * 0.1:.1f}" y="{base - bar:.1f}" '
                            f'width="{max(slot * 0.8, 1):.1f}" height="{bar:.1f}" fill="{colours[name]}">'
                            f'<title>{day:%Y-%m-%d} {escape(name)}: {_num(vals[i])}</title></rect>')
            base -= bar
    for day, what in (markers or {}).items():
        if day in days:
            x = x_of(list(days).index(day))
            body.append(f'<g class="spike"><line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + h}" stroke="#c0392b" '
                        f'stroke-dasharray="4 3"/><path d="M{x - 6:.1f},{y0 - 10} L{x + 6:.1f},{y0 - 10} L{x:.1f},{y0} Z" '
                        f'fill="#c0392b"><title>spike {day:%Y-%m-%d}: {escape(what)}</title></path></g>')
    body += _day_labels(days, x_of, y0 + h + 16)
    body += _legend(x0, height - 12, list(series), [colours[n] for n in series])
    return _frame(width, height, label, body)


def hbars(labels: Sequence[str], values: Sequence[float], colours: Sequence[str] | None = None, label: str = "",
          top: float | None = None, width: int = 440, fmt: str = "{:.0f}") -> str:
    """Horizontal bars, one a row, the value written at the end of each bar."""
    row, x0 = 24, 150
    height = 16 + row * max(len(labels), 1)
    w = width - x0 - 60
    top = top or max(values, default=0) or 1.0
    body = []
    for i, (name, value) in enumerate(zip(labels, values)):
        y = 8 + row * i
        colour = (colours or PALETTE)[i % len(colours or PALETTE)]
        body.append(f'<text x="{x0 - 8}" y="{y + 15}" text-anchor="end" {FONT}>{escape(name[:24])}</text>'
                    f'<rect class="bar" x="{x0}" y="{y + 3}" width="{max(w * value / top, 1):.1f}" height="{row - 8}" '
                    f'fill="{colour}"><title>{escape(name)}: {fmt.format(value)}</title></rect>'
                    f'<text x="{x0 + w * value / top + 6:.1f}" y="{y + 15}" {FONT}>{fmt.format(value)}</text>')
    return _frame(width, height, label, body)


def lines(days: Sequence[date], series: dict[str, Sequence[float]], colours: dict[str, str], label: str = "",
          width: int = 900, height: int = 260) -> str:
    """One line (with dots) per series over days."""
    x0, y0, w, h = 48, 16, width - 64, height - 58
    body, ymax = _axes(x0, y0, w, h, max((v for vals in series.values() for v in vals), default=0))
    step = w / max(len(days) - 1, 1)
    x_of = lambda i: x0 + (step * i if len(days) > 1 else w / 2)  # noqa: E731
    for name, vals in series.items():
        points = [(x_of(i), y0 + h - h * v / ymax) for i, v in enumerate(vals)]
        body.append(f'<polyline class="line" fill="none" stroke="{colours[name]}" stroke-width="2.5" '
                    f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colours[name]}"/>' for x, y in points]
    body += _day_labels(days, x_of, y0 + h + 16)
    body += _legend(x0, height - 8, list(series), [colours[n] for n in series])
    return _frame(width, height, label, body)
