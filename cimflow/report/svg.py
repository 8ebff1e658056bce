"""Small dependency-free SVG plotting helpers: axes, ticks, points, lines, bars and labels as inline SVG text."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

Point = tuple[float, float]

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif"
AXIS_COLOUR = "#444"
GRID_COLOUR = "#e3e3e3"
# Colour-blind-safe qualitative palette (Okabe-Ito without yellow, which is unreadable on white).
PALETTE = ("#0072b2", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#000000", "#8c6d31", "#6b6ecf")
ALERT = "#d62728"
MISSING = "\N{EN DASH}"  # shown for a value that is not known


def fmt(value: float, digits: int = 4) -> str:
    """A short label for a number: ``digits`` significant digits, no exponent for everyday magnitudes."""
    if not math.isfinite(value):
        return MISSING
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text and 1.0 <= abs(value) < 1e15:  # 4.97e+04 reads worse than 49700
        text = f"{round(value, digits - 1 - math.floor(math.log10(abs(value)))):.0f}"
    return text


def _c(value: float) -> str:
    """A pixel coordinate with one decimal (keeps large plots small)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten).

    Args:
        lo: Lower end of the data range.
        hi: Upper end (equal to ``lo`` gives one tick).
        target: About how many ticks are wanted.

    Returns:
        Ascending tick values inside ``[lo, hi]`` (at least one).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    raw = (hi - lo) / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        ticks.append(round(first + k * step, 12))
        k += 1
    return ticks


@dataclass(frozen=True, slots=True)
class Axes:
    """Maps a data rectangle onto a pixel rectangle (y grows upwards in data, downwards in SVG).

    Attributes:
        x_min: Data value at the left edge.
        x_max: Data value at the right edge.
        y_min: Data value at the bottom edge.
        y_max: Data value at the top edge.
        left: Pixel x of the plot area's left edge.
        top: Pixel y of the plot area's top edge.
        width: Plot area width in pixels.
        height: Plot area height in pixels.
    """

    x_min: float
    x_max: float
    y_min: float
    y_max: float
    left: float
    top: float
    width: float
    height: float

    def x(self, value: float) -> float:
        """Pixel x of a data x value."""
        span = self.x_max - self.x_min
        return self.left + (self.width * (value - self.x_min) / span if span else self.width / 2)

    def y(self, value: float) -> float:
        """Pixel y of a data y value."""
        span = self.y_max - self.y_min
        return self.top + self.height - (self.height * (value - self.y_min) / span if span else self.height / 2)

    @property
    def right(self) -> float:
        """Pixel x of the right edge."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """Pixel y of the bottom edge."""
        return self.top + self.height


def padded_range(lo: float, hi: float, *, pad_ratio: float = 0.05, minimum_span: float = 1e-6) -> tuple[float, float]:
    """A range a little wider than ``[lo, hi]`` so points do not sit on the frame."""
    span = max(hi - lo, minimum_span)
    return lo - span * pad_ratio, hi + span * pad_ratio


def minmax_bins(points: Iterable[Point], lo: float, hi: float, n_bins: int) -> list[tuple[float, float, float]]:
    """Downsample points to ``(x centre, y min, y max)`` per non-empty x bin, keeping each bin's extremes.

    Args:
        points: Data points (any order), x within ``[lo, hi]``.
        lo: Left edge of the first bin.
        hi: Right edge of the last bin.
        n_bins: Number of equal-width bins.

    Returns:
        One entry per bin that holds a point, left to right. O(len(points)).
    """
    width = (hi - lo) / n_bins or 1.0
    bins: dict[int, list[float]] = {}
    for x, y in points:
        k = min(max(int((x - lo) / width), 0), n_bins - 1)
        cur = bins.get(k)
        if cur is None:
            bins[k] = [y, y]
        else:
            cur[0], cur[1] = min(cur[0], y), max(cur[1], y)
    return [(lo + (k + 0.5) * width, v[0], v[1]) for k, v in sorted(bins.items())]


def open_svg(width: int, height: int, title: str) -> str:
    """The opening ``<svg>`` tag with an accessible title (escaped)."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" style="{FONT};font-size:12px">'
        f"<title>{escape(title)}</title>"
    )


def close_svg() -> str:
    """The closing tag."""
    return "</svg>"


def text(
    x: float,
    y: float,
    label: str,
    *,
    anchor: str = "start",
    size: int = 12,
    fill: str = AXIS_COLOUR,
    rotate: float = 0.0,
    halo: bool = False,
) -> str:
    """A text label (escaped) at pixel ``(x, y)``; ``halo`` paints a white outline so it stays readable over data."""
    transform = f' transform="rotate({_c(rotate)} {_c(x)} {_c(y)})"' if rotate else ""
    outline = ' stroke="#fff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (
        f'<text x="{_c(x)}" y="{_c(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{outline}{transform}>'
        f"{escape(label)}</text>"
    )


def frame(
    ax: Axes,
    *,
    x_ticks: Sequence[float],
    y_ticks: Sequence[float],
    x_label: str,
    y_label: str,
    x_format: str = "",
    y_format: str = "",
) -> str:
    """Grid lines, the axis lines, tick labels and the axis titles of a plot.

    Args:
        ax: The axes.
        x_ticks: Tick values on x.
        y_ticks: Tick values on y.
        x_label: Title under the x axis.
        y_label: Title left of the y axis (rotated).
        x_format: Format spec for x tick labels (default: :func:`fmt`).
        y_format: Format spec for y tick labels.
    """
    parts = [f'<g stroke="{GRID_COLOUR}" stroke-width="1">']
    parts += [f'<line x1="{_c(ax.x(t))}" y1="{_c(ax.top)}" x2="{_c(ax.x(t))}" y2="{_c(ax.bottom)}"/>' for t in x_ticks]
    parts += [f'<line x1="{_c(ax.left)}" y1="{_c(ax.y(t))}" x2="{_c(ax.right)}" y2="{_c(ax.y(t))}"/>' for t in y_ticks]
    parts.append("</g>")
    parts.append(
        f'<path d="M{_c(ax.left)} {_c(ax.top)}V{_c(ax.bottom)}H{_c(ax.right)}" fill="none" stroke="{AXIS_COLOUR}"/>'
    )
    for t in x_ticks:
        label = format(t, x_format) if x_format else fmt(t)
        parts.append(text(ax.x(t), ax.bottom + 16, label, anchor="middle", size=11))
    for t in y_ticks:
        label = format(t, y_format) if y_format else fmt(t)
        parts.append(text(ax.left - 6, ax.y(t) + 4, label, anchor="end", size=11))
    parts.append(text((ax.left + ax.right) / 2, ax.bottom + 36, x_label, anchor="middle"))
    parts.append(text(ax.left - 48, (ax.top + ax.bottom) / 2, y_label, anchor="middle", rotate=-90))
    return "".join(parts)


def segments(
    ax: Axes, pairs: Iterable[tuple[Point, Point]], *, stroke: str, width: float = 1.0, opacity: float = 1.0
) -> str:
    """Many separate line segments as one ``<path>`` (compact for thousands of feeder sections)."""
    d = "".join(f"M{_c(ax.x(a[0]))} {_c(ax.y(a[1]))}L{_c(ax.x(b[0]))} {_c(ax.y(b[1]))}" for a, b in pairs)
    if not d:
        return ""
    return f'<path d="{d}" fill="none" stroke="{stroke}" stroke-width="{_c(width)}" stroke-opacity="{opacity}"/>'


def polyline(ax: Axes, points: Iterable[Point], *, stroke: str, width: float = 1.5) -> str:
    """A connected line through ``points`` in the given order."""
    coords = " ".join(f"{_c(ax.x(x))},{_c(ax.y(y))}" for x, y in points)
    if not coords:
        return ""
    return f'<polyline points="{coords}" fill="none" stroke="{stroke}" stroke-width="{_c(width)}"/>'


def scatter(ax: Axes, points: Iterable[Point], *, fill: str, size: float = 5.0, label: str = "") -> str:
    """Round dots at ``points``: one ``<path>`` of zero-length round-capped strokes (small for many points).

    Args:
        ax: The axes.
        points: Data points.
        fill: Dot colour.
        size: Dot diameter in pixels.
        label: Tooltip of the whole series (escaped).
    """
    d = "".join(f"M{_c(ax.x(x))} {_c(ax.y(y))}h0" for x, y in points)
    if not d:
        return ""
    tip = f"<title>{escape(label)}</title>" if label else ""
    return f'<path d="{d}" fill="none" stroke="{fill}" stroke-width="{_c(size)}" stroke-linecap="round">{tip}</path>'


def hline(ax: Axes, value: float, *, stroke: str = ALERT, label: str = "", dash: str = "6 4") -> str:
    """A horizontal reference line across the plot at data ``value`` (a limit), labelled at its right end."""
    y = ax.y(value)
    parts = [
        f'<line x1="{_c(ax.left)}" y1="{_c(y)}" x2="{_c(ax.right)}" y2="{_c(y)}" stroke="{stroke}" '
        f'stroke-width="1.5" stroke-dasharray="{dash}"/>'
    ]
    if label:
        parts.append(text(ax.right - 4, y - 5, label, anchor="end", size=11, fill=stroke, halo=True))
    return "".join(parts)


def vline(ax: Axes, value: float, *, stroke: str = ALERT, label: str = "", dash: str = "6 4") -> str:
    """A vertical reference line at data x ``value``, labelled at its top."""
    x = ax.x(value)
    parts = [
        f'<line x1="{_c(x)}" y1="{_c(ax.top)}" x2="{_c(x)}" y2="{_c(ax.bottom)}" stroke="{stroke}" '
        f'stroke-width="1.5" stroke-dasharray="{dash}"/>'
    ]
    if label:
        parts.append(text(x, ax.top - 6, label, anchor="middle", size=11, fill=stroke, halo=True))
    return "".join(parts)


def hbars(ax: Axes, rows: Sequence[tuple[str, float, str]], *, value_format: str = ".1f", unit: str = "") -> str:
    """Horizontal bars from x = 0, one per row ``(label, value, colour)``, top to bottom, labelled both ends.

    The axes' y range is the row index: row ``k`` is centred on ``k + 0.5`` counted from the top.
    """
    parts = []
    n = len(rows)
    band = ax.height / max(n, 1)
    for k, (label, value, colour) in enumerate(rows):
        y = ax.top + k * band + band * 0.15
        x0, x1 = ax.x(0.0), ax.x(max(value, 0.0))
        tip = escape(f"{label}: {format(value, value_format)}{unit}")
        parts.append(
            f'<rect x="{_c(x0)}" y="{_c(y)}" width="{_c(max(x1 - x0, 0.5))}" height="{_c(band * 0.7)}" '
            f'fill="{colour}"><title>{tip}</title></rect>'
        )
        parts.append(text(ax.left - 6, y + band * 0.5, label, anchor="end", size=11))
        parts.append(text(x1 + 4, y + band * 0.5, f"{format(value, value_format)}{unit}", size=11))
    return "".join(parts)


def legend(items: Sequence[tuple[str, str]], *, x: float, y: float, dot: bool = True) -> str:
    """A one-row legend of ``(label, colour)`` entries starting at pixel ``(x, y)``; labels are escaped."""
    parts = []
    cursor = x
    for label, colour in items:
        if dot:
            parts.append(f'<circle cx="{_c(cursor + 5)}" cy="{_c(y - 4)}" r="4.5" fill="{colour}"/>')
        else:
            parts.append(
                f'<line x1="{_c(cursor)}" y1="{_c(y - 4)}" x2="{_c(cursor + 14)}" y2="{_c(y - 4)}" stroke="{colour}" '
                'stroke-width="2" stroke-dasharray="6 4"/>'
            )
        parts.append(text(cursor + 16, y, label, size=11))
        cursor += 16 + 6.5 * len(label) + 18
    return "".join(parts)
