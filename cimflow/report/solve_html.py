"""HTML rendering of a solve report (``report.html``): one self-contained page, inline CSS and SVG, no scripts."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from cimflow.report import svg
from cimflow.report.solve_control import control_html
from cimflow.report.solve_json import bus_index, code_counts, most_loaded, object_names, transformer_flows
from cimflow.report.solve_markdown import bus_label, status_sentence

MAX_PLOT_POINTS = 20000  # above this many buses the voltage profile shows per-bin min/max
PROFILE_BINS = 300
MAX_SERIES = 8
MAX_LABELLED_POINTS = 300  # out-of-band points drawn one by one with a tooltip
MAX_TABLE_ROWS = 200
SMALL_TABLE_ROWS = 10  # this few transformers are all listed, forward flow too
MAX_FINDING_ROWS = 1000
TOP_BRANCHES = 20
LABEL_CHARS = 34

_CSS = """
body{margin:0;background:#f6f7f9;color:#1d2329;
font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #d8dde3;padding-bottom:4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
background:#eef1f4;padding:1px 4px;border-radius:3px}
.inputs{color:#555;margin:0 0 12px}.note{color:#555;font-size:13px;margin:4px 0}
.status{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.ok{background:#e5f4ea;border:1px solid #9fd3b0}.bad{background:#fdecea;border:1px solid #f1a9a0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:16px 0}
.card{background:#fff;border:1px solid #dde2e7;border-radius:8px;padding:10px 12px}
.card .label{color:#5b6670;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:650;margin:2px 0}.card .sub{color:#5b6670;font-size:12px;overflow-wrap:anywhere}
.card.alert{border-color:#d62728;background:#fff5f5}.card.alert .value{color:#b11f20}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #dde2e7;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f4;position:sticky;top:0}td.k{white-space:nowrap}
.scroll{max-height:460px;overflow-y:auto;border:1px solid #dde2e7}.scroll table{border:0}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.rev td{background:#fff7e6}.sev-error{color:#b11f20;font-weight:600}.sev-warning{color:#8a5a00;font-weight:600}
.plot{background:#fff;border:1px solid #dde2e7;border-radius:8px;padding:8px;overflow-x:auto}
details{margin-top:8px}summary{cursor:pointer;color:#0b5cad}footer{margin-top:40px;color:#777;font-size:12px}
"""


def _e(value: object) -> str:
    """Escaped text of a value from the data; ``None`` becomes empty."""
    return "" if value is None else escape(str(value))


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float | None, digits: int = 4) -> str:
    return svg.MISSING if value is None else svg.fmt(value, digits)


def _card(label: str, value: str, sub: str = "", *, alert: bool = False) -> str:
    cls = "card alert" if alert else "card"
    return (
        f'<div class="{cls}"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
        f'<div class="sub">{_e(sub)}</div></div>'
    )


def _cards(document: dict[str, Any], buses: dict[str, dict[str, Any]]) -> str:
    s, lim = document["summary"], document["limits"]
    low = s["v_min_pu"] is not None and lim["v_min_pu"] is not None and s["v_min_pu"] < lim["v_min_pu"]
    high = s["v_max_pu"] is not None and lim["v_max_pu"] is not None and s["v_max_pu"] > lim["v_max_pu"]
    supplied = sum(sl["p_inject_mw"] or 0.0 for sl in document["slack"])
    share = (
        f"{svg.fmt(100 * s['losses_mw'] / s['load_mw'], 3)} % of the load" if s["load_mw"] and s["losses_mw"] else ""
    )
    valid = s["converged"]
    if not valid:  # the last iterate of a diverged solve is no state of the grid: show no values
        low = high = False
        share = "not converged"
    cards = [
        _card(
            "Power flow",
            "converged" if s["converged"] else "not converged",
            f"{s['solver'] or 'no solver'}, {s['iterations'] or 0} iterations",
            alert=not s["converged"],
        ),
        _card(
            "Lowest voltage",
            f"{_num(s['v_min_pu'] if valid else None)} pu",
            bus_label(s["v_min_bus"], buses),
            alert=low,
        ),
        _card(
            "Highest voltage",
            f"{_num(s['v_max_pu'] if valid else None)} pu",
            bus_label(s["v_max_bus"], buses),
            alert=high,
        ),
        _card("Losses", f"{_num(s['losses_mw'] if valid else None, 3)} MW", share),
        _card("Load", f"{_num(s['load_mw'], 4)} MW", f"generation {_num(s['generation_mw'], 4)} MW"),
        _card(
            "Slack supplies", f"{svg.fmt(supplied if valid else math.nan, 4)} MW", f"{len(document['slack'])} source(s)"
        ),
        _card("Violations", str(s["violations"]), "CF4xx findings", alert=s["violations"] > 0),
        _card(
            "Findings",
            f"{s['errors']} / {s['warnings']} / {s['infos']}",
            "errors / warnings / infos",
            alert=s["errors"] > 0,
        ),
        _card(
            "Buses",
            f"{s['buses']:,}",
            f"{s['branches']:,} branches, {s['islands']} island(s), {s['energised_islands']} energised",
        ),
    ]
    return '<section class="cards">' + "".join(cards) + "</section>"


def _where(record: dict[str, Any], names: dict[str, str]) -> str:
    parts = [_e(record["cim_class"])] if record["cim_class"] else []
    if record["mrid"]:
        parts.append(f"<code>{_e(record['mrid'])}</code>")
        if record["mrid"] in names:
            parts.append(_e(names[record["mrid"]]))
    return " ".join(parts)


def _location(record: dict[str, Any]) -> str:
    """``file:line`` with the file's base name shown and its whole path as the tooltip."""
    path = record["file"]
    if not path:
        return ""
    line = f":{record['line']}" if record["line"] else ""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return f'<code title="{_e(path)}{line}">{_e(base)}{line}</code>'


def _finding_table(rows: list[dict[str, Any]], limit: int, names: dict[str, str]) -> str:
    body = "".join(
        f'<tr><td class="k">{_e(r["code"])}</td><td class="k sev-{_e(r["severity"])}">{_e(r["severity"])}</td>'
        f"<td>{_where(r, names)}</td><td>{_location(r)}</td><td>{_e(r['message'])}</td></tr>"
        for r in rows[:limit]
    )
    more = (
        f'<p class="note">Showing {limit} of {len(rows)}; report.json holds them all.</p>' if len(rows) > limit else ""
    )
    return (
        '<div class="scroll"><table><thead><tr><th>code</th><th>severity</th><th>where</th><th>location</th>'
        f"<th>message</th></tr></thead><tbody>{body}</tbody></table></div>{more}"
    )


def _violations(document: dict[str, Any]) -> str:
    rows, lim = document["violations"], document["limits"]
    head = f'<h2 id="violations">Violations ({len(rows)})</h2>'
    if rows:
        return head + _finding_table(rows, MAX_TABLE_ROWS, object_names(document))
    return head + (
        f"<p>None: every energised bus within {_num(lim['v_min_pu'])} to {_num(lim['v_max_pu'])} pu and every rated "
        f"branch at most {_num(lim['loading_max_pct'])} % loaded.</p>"
    )


def _x_mode(document: dict[str, Any]) -> tuple[str, str]:
    """Which bus field gives x (``distance_km`` or ``depth``) and the axis title that says so."""
    energised = [i for i in document["islands"] if i["energised"]]
    known = any((b["distance_km"] or 0) > 0 for b in document["buses"])
    if energised and known and all(i["lengths_complete"] for i in energised):
        return "distance_km", "distance from the source along the feeder (km)"
    return "depth", "sections from the source (tree depth: not km, line lengths are not known on every feeder)"


def _series(document: dict[str, Any], key: str) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Plotted buses grouped by island: ``(label, colour, buses)``; small islands beyond the palette merged."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for b in document["buses"]:
        if b["energised"] and b["v_pu"] is not None and b[key] is not None:
            groups.setdefault(b["island"], []).append(b)
    ranked = sorted(groups, key=lambda i: (-len(groups[i]), i))
    own = ranked if len(ranked) <= MAX_SERIES else ranked[: MAX_SERIES - 1]
    out = [(f"island {i} ({len(groups[i]):,} buses)", svg.PALETTE[k], groups[i]) for k, i in enumerate(own)]
    rest = [b for i in ranked[len(own) :] for b in groups[i]]
    if rest:
        out.append((f"{len(ranked) - len(own)} other islands ({len(rest):,} buses)", "#999999", rest))
    return out


def _profile(document: dict[str, Any]) -> str:
    key, x_title = _x_mode(document)
    series = _series(document, key)
    lim = document["limits"]
    plotted = [b for _, _, group in series for b in group]
    if not plotted:
        return '<h2 id="profile">Voltage profile</h2><p>No energised bus with a voltage to plot.</p>'
    v_lo, v_hi = lim["v_min_pu"], lim["v_max_pu"]
    xs = [b[key] for b in plotted]
    vs = [b["v_pu"] for b in plotted]
    x_min, x_max = min(xs), max(xs)
    y_min, y_max = svg.padded_range(min([*vs, v_lo]), max([*vs, v_hi]), pad_ratio=0.08)
    ax = svg.Axes(x_min, x_max if x_max > x_min else x_min + 1, y_min, y_max, 78, 34, 1040, 380)
    parts = [
        svg.open_svg(1140, 480, "Voltage profile along the feeder"),
        svg.frame(
            ax,
            x_ticks=svg.nice_ticks(ax.x_min, ax.x_max, 10),
            y_ticks=svg.nice_ticks(y_min, y_max, 8),
            x_label=x_title,
            y_label="voltage (pu)",
        ),
    ]
    downsampled = len(plotted) > MAX_PLOT_POINTS
    dot = 5.0 if len(plotted) <= 1000 else 3.0
    red: list[svg.Point] = []
    for _, colour, group in series:
        if downsampled:
            bins = svg.minmax_bins(((b[key], b["v_pu"]) for b in group), ax.x_min, ax.x_max, PROFILE_BINS)
            parts.append(
                svg.segments(ax, (((x, lo), (x, hi)) for x, lo, hi in bins), stroke=colour, width=2, opacity=0.7)
            )
            ends = [(x, v) for x, lo, hi in bins for v in ((lo, hi) if hi > lo else (lo,))]
            parts.append(svg.scatter(ax, [p for p in ends if v_lo <= p[1] <= v_hi], fill=colour, size=3))
            red += [p for p in ends if not v_lo <= p[1] <= v_hi]
        else:
            pos = {b["id"]: (b[key], b["v_pu"]) for b in group}
            pairs = ((pos[b["parent"]], pos[b["id"]]) for b in group if b["parent"] in pos)
            parts.append(svg.segments(ax, pairs, stroke=colour, width=1, opacity=0.45))
            parts.append(
                svg.scatter(ax, [pos[b["id"]] for b in group if v_lo <= b["v_pu"] <= v_hi], fill=colour, size=dot)
            )
    outside = [] if downsampled else [b for b in plotted if not v_lo <= b["v_pu"] <= v_hi]
    red += [(b[key], b["v_pu"]) for b in outside[MAX_LABELLED_POINTS:]]
    parts.append(svg.scatter(ax, red, fill=svg.ALERT, size=7))
    for b in outside[:MAX_LABELLED_POINTS]:  # one element each, so the tooltip names the bus
        parts.append(
            f'<circle cx="{ax.x(b[key]):.1f}" cy="{ax.y(b["v_pu"]):.1f}" r="3.5" fill="{svg.ALERT}">'
            f"<title>{_e(bus_label(b['id'], {b['id']: b}))}: {_num(b['v_pu'])} pu</title></circle>"
        )
    parts.append(svg.hline(ax, v_lo, label=f"v_min {_num(v_lo)} pu"))
    parts.append(svg.hline(ax, v_hi, label=f"v_max {_num(v_hi)} pu"))
    legend = [(label, colour) for label, colour, _ in series] + [("outside the band", svg.ALERT)]
    parts += [svg.legend(legend, x=ax.left, y=18), svg.close_svg()]
    note = (
        f"{len(plotted):,} energised buses; each dot is a bus, each thin line the section to its parent on the feeder "
        "tree from the source. Red dots are outside the voltage band."
    )
    if downsampled:
        note = (
            f"Downsampled: {len(plotted):,} energised buses are drawn as the lowest and highest voltage in each of "
            f"{PROFILE_BINS} bins along x per island (the extremes, so no violation is hidden); red dots are outside "
            "the band."
        )
    if key == "depth":
        note += " The x axis counts sections from the source: a distance in km needs every line's length."
    return (
        f'<h2 id="profile">Voltage profile</h2><div class="plot">{"".join(parts)}</div><p class="note">{_e(note)}</p>'
    )


def _loading(document: dict[str, Any]) -> str:
    top = most_loaded(document, TOP_BRANCHES)
    head = '<h2 id="loading">Branch loading</h2>'
    if not top:
        return head + "<p>No branch has a rating (CurrentLimit or ratedS), so no loading is known.</p>"
    limit = document["limits"]["loading_max_pct"] or 100.0
    rows = []
    for b in top:
        label = _short(f"{b['name']} ({b['id']})" if b["name"] else b["id"])
        load = b["loading_pct"]
        colour = svg.ALERT if load > limit else ("#e69f00" if load > 0.8 * limit else "#0072b2")
        rows.append((label, load, colour))
    x_max = max(limit * 1.1, top[0]["loading_pct"] * 1.12)
    height = 24 * len(rows)
    ax = svg.Axes(0.0, x_max, 0.0, float(len(rows)), 270, 30, 800, height)
    parts = [
        svg.open_svg(1140, height + 80, "Most loaded branches"),
        svg.frame(ax, x_ticks=svg.nice_ticks(0.0, x_max, 10), y_ticks=[], x_label="loading (%)", y_label=""),
        svg.hbars(ax, rows, unit=" %"),
        svg.vline(ax, limit, label=f"limit {_num(limit)} %"),
        svg.close_svg(),
    ]
    n_rated = sum(1 for b in document["branches"] if b["loading_pct"] is not None)
    note = (
        f"The {len(rows)} most loaded of {n_rated} rated branches: current against the CurrentLimit for lines, "
        "apparent power against ratedS for transformers."
    )
    return f'{head}<div class="plot">{"".join(parts)}</div><p class="note">{_e(note)}</p>'


def _reverse(document: dict[str, Any]) -> str:
    flows = transformer_flows(document)
    if not flows:
        return ""
    reverse = [b for b in flows if b["p_from_mw"] < 0]
    head = f'<h2 id="reverse">Reverse power flow at transformers ({len(reverse)} of {len(flows)})</h2>'
    shown = flows if len(flows) <= SMALL_TABLE_ROWS else reverse[:MAX_TABLE_ROWS]
    if not reverse:
        head += f"<p>None: active power flows from end 1 to end 2 through every transformer ({len(flows)}).</p>"
    if not shown:
        return head
    body = "".join(
        f'<tr class="{"rev" if b["p_from_mw"] < 0 else ""}"><td><code>{_e(b["id"])}</code></td><td>{_e(b["name"])}</td>'
        f'<td><code>{_e(b["from_bus"])}</code></td><td class="n">{_num(b["p_from_mw"])}</td>'
        f'<td class="n">{_num(b["q_from_mvar"])}</td><td class="n">{_num(b["loading_pct"])}</td>'
        f"<td>{'reverse: end 2 → end 1' if b['p_from_mw'] < 0 else 'forward'}</td></tr>"
        for b in shown
    )
    more = f"Showing {len(shown)} of {len(reverse)} with reverse flow. " if len(reverse) > len(shown) else ""
    return (
        f'{head}<div class="scroll"><table><thead><tr><th>transformer</th><th>name</th><th>end 1 bus</th>'
        "<th>P at end 1 (MW)</th><th>Q at end 1 (Mvar)</th><th>loading (%)</th><th>direction</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
        f'<p class="note">{more}P at end 1 is the power flowing from the high-voltage bus into the transformer; '
        "negative means the grid below feeds back upstream.</p>"
    )


def _slack(document: dict[str, Any], buses: dict[str, dict[str, Any]]) -> str:
    if not document["slack"]:
        return ""
    body = "".join(
        f"<tr><td><code>{_e(s['id'])}</code> {_e(s['name'])}</td><td>{_e(s['cim_class'])}</td>"
        f'<td>{_e(bus_label(s["bus"], buses))}</td><td class="n">{_num(s["p_inject_mw"])}</td>'
        f'<td class="n">{_num(s["q_inject_mvar"])}</td></tr>'
        for s in document["slack"]
    )
    return (
        '<h2 id="slack">Slack</h2><table><thead><tr><th>source</th><th>class</th><th>bus</th>'
        f"<th>P supplied (MW)</th><th>Q supplied (Mvar)</th></tr></thead><tbody>{body}</tbody></table>"
        '<p class="note">Generator sense; report.json also gives p_mw / q_mvar in the load sign convention.</p>'
    )


def _findings(document: dict[str, Any]) -> str:
    counts = code_counts(document)
    if not counts:
        return '<h2 id="findings">Findings</h2><p>No findings.</p>'
    body = "".join(
        f'<tr><td>{_e(code)}</td><td>{_e(name)}</td><td class="sev-{_e(sev)}">{_e(sev)}</td><td class="n">{n}</td></tr>'
        for code, name, sev, n in counts
    )
    rows = document["findings"]
    return (
        '<h2 id="findings">Findings</h2><table><thead><tr><th>code</th><th>rule</th><th>severity</th>'
        f"<th>count</th></tr></thead><tbody>{body}</tbody></table>"
        f"<details><summary>All {len(rows)} findings</summary>"
        f"{_finding_table(rows, MAX_FINDING_ROWS, object_names(document))}</details>"
    )


def _unsolved(document: dict[str, Any]) -> str:
    if document["summary"]["solver"] is None:
        return '<h2 id="profile">Results</h2><p>No power flow ran, so there are no voltages or flows to show.</p>'
    return (
        '<h2 id="profile">Results</h2><p>No voltage profile, loading or flows are drawn: the power flow did not '
        "converge, so its voltages are not a state of the grid. report.json keeps the solver's last iterate for "
        "diagnosis.</p>"
    )


def render_solve_html(document: dict[str, Any]) -> str:
    """The solve report as one self-contained HTML page (inline CSS and SVG, no scripts, no external resources).

    Every string that comes from the data is escaped. Large grids are downsampled in the voltage
    profile and capped in the tables, so the page stays a few MB at most.

    Args:
        document: What :func:`cimflow.report.solve_json.solve_document` returned.

    Returns:
        The HTML text.
    """
    buses = bus_index(document)
    s = document["summary"]
    inputs = ", ".join(f"<code>{_e(p)}</code>" for p in document["inputs"])
    valid = s["converged"]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>cimflow power-flow report</title><style>{_CSS}</style></head><body><main>",
        "<h1>cimflow power-flow report</h1>",
        f'<p class="inputs">Inputs: {inputs}</p>' if inputs else "",
        f'<p class="status {"ok" if s["converged"] else "bad"}">{_e(status_sentence(document))}</p>',
        _cards(document, buses),
        _violations(document),
        *((_profile(document), _loading(document), _reverse(document), _slack(document, buses)) if valid else ()),
        control_html(document) if valid else "",
        _unsolved(document) if not valid else "",
        _findings(document),
        f"<footer>{_e(document['tool']['name'])} {_e(document['tool']['version'])}, report schema "
        f"{_e(document['schema_version'])}. The full results are in report.json.</footer>",
        "</main></body></html>\n",
    ]
    return "".join(parts)
