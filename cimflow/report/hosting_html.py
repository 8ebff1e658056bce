"""HTML rendering of a hosting-capacity study: the feeder coloured by capacity, a histogram and the table.

One self-contained page (inline CSS and SVG, no scripts). The feeder is drawn on its GL coordinates
when the document says ``layout: coordinates``, else as a tree: depth (branches from the source)
across, leaves stacked down, each bus in the middle of its subtree. Colours are equal-count classes
of the capacities below ``max_kw``; buses where every criterion holds up to ``max_kw`` have their own.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from cimflow.report import svg
from cimflow.report.hosting import kw_text as _kw
from cimflow.report.hosting import study_sentence

# viridis, sampled: colour-blind safe and readable in grey; low capacity dark
SCALE = ("#440154", "#414487", "#2a788e", "#22a884", "#7ad151")
UNLIMITED = "#fde725"  # every criterion holds up to max_kw
NO_CAPACITY = "#9e9e9e"
MAX_TABLE_ROWS = 300
MAX_DOTS = 20000
WIDTH, HEIGHT = 1100, 560
_CSS = """
body{margin:0;background:#f6f7f9;color:#1d2329;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #d8dde3;padding-bottom:4px}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#eef1f4;padding:1px 4px;border-radius:3px}
.inputs,.note{color:#555;margin:4px 0 12px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:16px 0}
.card{background:#fff;border:1px solid #dde2e7;border-radius:8px;padding:10px 12px}
.card .label{color:#5b6670;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:650;margin:2px 0}.card .sub{color:#5b6670;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #dde2e7;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f4}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.plot{background:#fff;border:1px solid #dde2e7;border-radius:8px;padding:8px;overflow-x:auto}
footer{margin-top:40px;color:#777;font-size:12px}
"""


def _e(value: object) -> str:
    return "" if value is None else escape(str(value))


def _limited(document: dict[str, Any]) -> list[float]:
    """Capacities of the buses a criterion limits within the search range."""
    return [r["capacity_kw"] for r in document["buses"] if r["capacity_kw"] is not None and r["binding"] != "max-kw"]


def _bins(document: dict[str, Any]) -> list[float]:
    """Upper edges of the colour classes: equal-count classes of the limited capacities (at most ``len(SCALE)``)."""
    caps = sorted(_limited(document))
    if not caps:
        return []
    n = len(caps)
    return sorted({caps[min(n - 1, math.ceil(n * (k + 1) / len(SCALE)) - 1)] for k in range(len(SCALE))})


def _colour(record: dict[str, Any], edges: list[float]) -> str:
    cap = record["capacity_kw"]
    if cap is None:
        return NO_CAPACITY
    if record["binding"] == "max-kw" or not edges:
        return UNLIMITED
    for k, edge in enumerate(edges):
        if cap <= edge:
            return SCALE[k]
    return SCALE[len(edges) - 1]


def _tree_layout(buses: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """(x, y) per bus: x its depth, y the middle of its subtree's leaf rows. O(N), no recursion."""
    by_id = {b["bus"]: b for b in buses if b["energised"]}
    children: dict[str, list[str]] = {}
    roots = []
    for bid, b in by_id.items():
        if b["parent"] in by_id:
            children.setdefault(b["parent"], []).append(bid)
        else:
            roots.append(bid)
    row: dict[str, float] = {}
    leaf = 0
    order = []
    stack = sorted(roots, reverse=True)
    while stack:  # depth-first pre-order, children in id order: leaves get consecutive rows
        bid = stack.pop()
        order.append(bid)
        kids = sorted(children.get(bid, ()), reverse=True)
        if not kids:
            row[bid] = float(leaf)
            leaf += 1
        stack.extend(kids)
    for bid in reversed(order):
        below = children.get(bid, [])
        if below:
            ys = [row[k] for k in below]
            row[bid] = (min(ys) + max(ys)) / 2.0
    return {bid: (float(by_id[bid]["depth"] or 0), row[bid]) for bid in order}


def _feeder(document: dict[str, Any]) -> str:
    buses = document["buses"]
    coords = document["summary"]["layout"] == "coordinates"
    if coords:
        pos = {b["bus"]: (b["x"], b["y"]) for b in buses if b["x"] is not None and b["energised"]}
    else:
        pos = {bid: (x, -y) for bid, (x, y) in _tree_layout(buses).items()}
    if not pos:
        return "<p>No energised bus to draw.</p>"
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1 = svg.padded_range(min(xs), max(xs))
    y0, y1 = svg.padded_range(min(ys), max(ys))
    ax = svg.Axes(x0, x1, y0, y1, left=20, top=30, width=WIDTH - 40, height=HEIGHT - 70)
    edges = _bins(document)
    by_colour: dict[str, list[tuple[svg.Point, svg.Point]]] = {}
    dots: dict[str, list[svg.Point]] = {}
    for b in buses:
        p = pos.get(b["bus"])
        if p is None:
            continue
        colour = _colour(b, edges)
        dots.setdefault(colour, []).append(p)
        q = pos.get(b["parent"]) if b["parent"] else None
        if q is not None:
            by_colour.setdefault(colour, []).append((q, p))
    title = "Feeder on its coordinates" if coords else "Feeder as a tree (across: branches from the source)"
    parts = [svg.open_svg(WIDTH, HEIGHT, f"{title}, coloured by hosting capacity")]
    for colour, pairs in sorted(by_colour.items()):
        parts.append(svg.segments(ax, pairs, stroke=colour, width=1.6))
    if len(pos) <= MAX_DOTS:
        for colour, pts in sorted(dots.items()):
            parts.append(svg.scatter(ax, pts, fill=colour, size=5.0))
    legend = [(f"≤ {svg.fmt(edge)} kW", SCALE[k]) for k, edge in enumerate(edges)]
    legend += [(f"max-kw ({svg.fmt(document['study']['max_kw'])} kW)", UNLIMITED), ("no capacity", NO_CAPACITY)]
    parts.append(svg.legend(legend, x=24, y=HEIGHT - 16))
    parts.append(svg.text(24, 18, title, size=13))
    parts.append(svg.close_svg())
    return f'<h2>Feeder</h2><div class="plot">{"".join(parts)}</div>'


def _histogram(document: dict[str, Any]) -> str:
    caps = _limited(document)
    if not caps:
        return ""
    unlimited = sum(1 for r in document["buses"] if r["binding"] == "max-kw")
    caps.sort()
    lo, hi = caps[0], caps[-1]
    tail = caps[min(len(caps) - 1, int(0.95 * len(caps)))]
    clipped = hi > 3 * tail > 0  # a long tail (MV buses among LV ones) would squeeze the rest into one bar
    if clipped:
        hi = tail
    n_bins = max(1, min(40, int(math.sqrt(len(caps))) + 1))
    width = (hi - lo) / n_bins if hi > lo else 1.0
    counts = [0] * n_bins
    for c in caps:
        counts[min(n_bins - 1, int((c - lo) / width))] += 1
    w, h = 760, 300
    ax = svg.Axes(lo, lo + n_bins * width, 0, max(counts) * 1.1, left=70, top=20, width=w - 100, height=h - 70)
    parts = [svg.open_svg(w, h, "Histogram of hosting capacity")]
    parts.append(
        svg.frame(
            ax,
            x_ticks=svg.nice_ticks(ax.x_min, ax.x_max),
            y_ticks=svg.nice_ticks(0, ax.y_max),
            x_label="capacity (kW)",
            y_label="buses",
        )
    )
    for k, n in enumerate(counts):
        if n:
            x_a, x_b = ax.x(lo + k * width), ax.x(lo + (k + 1) * width)
            parts.append(
                f'<rect x="{x_a:.1f}" y="{ax.y(n):.1f}" width="{max(x_b - x_a - 1, 0.5):.1f}" '
                f'height="{ax.y(0) - ax.y(n):.1f}" fill="{SCALE[2]}"><title>{n} buses from '
                f"{svg.fmt(lo + k * width)} kW</title></rect>"
            )
    parts.append(svg.close_svg())
    notes = [f"{unlimited} buses where every criterion holds up to max-kw are not shown."] if unlimited else []
    if clipped:
        notes.append(f"The last bar also holds the {sum(c > hi for c in caps)} buses above {svg.fmt(hi)} kW.")
    note = f'<p class="note">{" ".join(notes)}</p>' if notes else ""
    return f'<h2>Distribution</h2><div class="plot">{"".join(parts)}</div>{note}'


def _table(document: dict[str, Any]) -> str:
    control = document["study"]["control"] is not None
    head = "<th>bus</th><th>name</th><th>kV</th><th>capacity kW</th><th>binding</th><th>element</th><th>reason</th>"
    head += "<th>with control kW</th>" if control else ""
    rows = []
    for r in document["buses"][:MAX_TABLE_ROWS]:
        cells = (
            f"<td><code>{_e(r['bus'])}</code></td><td>{_e(r['name'])}</td><td class='n'>{_e(r['v_base_kv'])}</td>"
            f"<td class='n'>{_kw(r['capacity_kw'])}</td><td>{_e(r['binding'])}</td>"
            f"<td>{_e(r['element_name'] or r['element'])}</td><td>{_e(r['reason'])}</td>"
        )
        if control:
            cells += f"<td class='n'>{_kw((r['control'] or {}).get('capacity_kw'))}</td>"
        rows.append(f"<tr>{cells}</tr>")
    more = len(document["buses"]) - MAX_TABLE_ROWS
    note = f'<p class="note">... and {more} more buses in the JSON and CSV.</p>' if more > 0 else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f"<h2>Buses, smallest capacity first</h2>{table}{note}"


def _card(label: str, value: str, sub: str = "") -> str:
    return (
        f'<div class="card"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
        f'<div class="sub">{_e(sub)}</div></div>'
    )


def render_hosting_html(document: dict[str, Any]) -> str:
    """The study as one self-contained HTML page; every string from the data is escaped."""
    s, st = document["summary"], document["study"]
    binding = ", ".join(f"{k} {v}" for k, v in s["binding"].items())
    top_binding = max(s["binding"].items(), key=lambda kv: (kv[1], kv[0]))[0] if s["binding"] else "-"
    cards = "".join(
        [
            _card("buses", str(s["buses"]), f"{s['energised']} energised"),
            _card("smallest capacity", f"{_kw(s['min_capacity_kw'])} kW"),
            _card("median capacity", f"{_kw(s['median_capacity_kw'])} kW"),
            _card("largest capacity", f"{_kw(s['max_capacity_kw'])} kW"),
            _card("most often binding", top_binding, binding),
        ]
    )
    study = _e(study_sentence(st))
    inputs = ", ".join(f"<code>{_e(p)}</code>" for p in document["inputs"])
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width,initial-scale=1">',
            f"<title>cimflow hosting capacity</title><style>{_CSS}</style></head><body><main>",
            f"<h1>Hosting capacity: {_e(st['kind'].upper())}</h1>",
            f'<p class="inputs">Inputs: {inputs}</p>' if inputs else "",
            f'<p class="note">{study}</p>',
            f'<div class="cards">{cards}</div>',
            _feeder(document),
            _histogram(document),
            _table(document),
            f"<footer>{_e(document['tool']['name'])} {_e(document['tool']['version'])}</footer>",
            "</main></body></html>\n",
        ]
    )
