"""The Volt-VAR sections of the solve report (Markdown, HTML) from the document's ``control`` and ``inverters``."""

from __future__ import annotations

from html import escape
from typing import Any

from cimflow.report import svg

MAX_INVERTER_ROWS = 40
_AXIS_TITLES = {
    "v_pu": "voltage (pu)",
    "p_ratio": "P / P rated",
    "q_inject_pct": "Q injected (% of rated S)",
    "cos_phi": "cos φ (underexcited)",
    "q_available_pct": "Q injected (% of available Q)",
}
_COMPARED = (("v_max_pu", "highest voltage (pu)"), ("v_min_pu", "lowest voltage (pu)"),
             ("losses_mw", "losses (MW)"), ("losses_mvar", "losses (Mvar)"))  # fmt: skip


def controlled(document: dict[str, Any]) -> bool:
    """Whether the document holds a controlled solve (``control.mode`` other than ``none``)."""
    control = document.get("control") or {}
    return bool(control.get("mode", "none") != "none")


def _f(value: float | None, digits: int = 5) -> str:
    return "–" if value is None else svg.fmt(value, digits)


def _shown(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Inverters for the tables: the most reactive first (largest |Q| relative to rating), capped."""
    rows = sorted(
        document.get("inverters", []),
        key=lambda r: (-(abs(r["q_mvar"] or 0.0) / (r["s_rated_mva"] or 1.0)), r["id"]),
    )
    return rows[:MAX_INVERTER_ROWS]


def _sentence(control: dict[str, Any], n: int) -> str:
    state = "reached its equilibrium" if control["converged"] else "did NOT settle (see CF410)"
    return (
        f"Volt-VAR control `{control['mode']}` on {n} inverters {state} after {control['iterations']} outer "
        f"iterations; {control.get('limited', 0)} inverters sit on a limit (S rating or the plant's cos φ)."
    )


def control_markdown(document: dict[str, Any]) -> list[str]:
    """Markdown lines of the Volt-VAR section (empty without control)."""
    if not controlled(document):
        return []
    control = document["control"]
    invs = document.get("inverters", [])
    lines = ["## Volt-VAR control", "", _sentence(control, len(invs)), "",
             "| | without control | with control |", "| --- | ---: | ---: |"]  # fmt: skip
    for key, label in _COMPARED:
        lines.append(f"| {label} | {_f(control['without'][key])} | {_f(control['with'][key])} |")
    shown = _shown(document)
    if shown:
        more = f" ({len(shown)} of {len(invs)}, most reactive first)" if len(shown) < len(invs) else ""
        lines += ["", f"Inverters{more}; load sign convention (generation P < 0, absorbing Q > 0):", "",
                  "| inverter | bus | mode | P (MW) | Q (Mvar) | S rated (MVA) | V (pu) | cos φ | curve point |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]  # fmt: skip
        for r in shown:
            cp = r["curve_point"]
            point = f"{cp['x_axis']} {_f(cp['x'])} → {cp['y_axis']} {_f(cp['curve_y'], 4)}"
            point += " (limited)" if cp["limited"] else ""
            name = (r["name"] or r["id"]).replace("|", "\\|")
            lines.append(
                f"| {name} | `{r['bus']}` | {r['mode']} | {_f(r['p_mw'])} | {_f(r['q_mvar'])} | "
                f"{_f(r['s_rated_mva'])} | {_f(r['v_pu'])} | {_f(r['cos_phi'], 4)} | {point} |"
            )
    lines += ["", "The curves with every inverter's operating point are plotted in report.html.", ""]
    return lines


def _curve_plot(curve: dict[str, Any], inverters: list[dict[str, Any]]) -> str:
    x_axis, y_axis = curve["x_axis"], curve["y_axis"]
    lines = [
        (ln["label"], [(x, y) for x, y in zip(ln["x"], ln["y"], strict=True) if x is not None and y is not None])
        for ln in curve["lines"]
    ]
    points = [
        (r["curve_point"]["x"], r["curve_point"]["y"])
        for r in inverters
        if r["mode"] == curve["mode"] and r["curve_point"]["x"] is not None and r["curve_point"]["y"] is not None
    ]
    every = [p for _, line in lines for p in line] + points
    x_lo, x_hi = svg.padded_range(min(p[0] for p in every), max(p[0] for p in every))
    y_lo, y_hi = svg.padded_range(min(p[1] for p in every), max(p[1] for p in every), minimum_span=0.02)
    ax = svg.Axes(x_lo, x_hi, y_lo, y_hi, 80, 30, 480, 260)
    colours = [svg.PALETTE[k % 4] for k in range(len(lines))]
    keys = [(label, colour) for (label, _), colour in zip(lines, colours, strict=True)]
    keys.append((f"{len(points)} inverters", svg.PALETTE[4]))
    return "".join(
        [
            svg.open_svg(600, 340, f"{curve['mode']}: curve and operating points"),
            svg.frame(ax, x_ticks=svg.nice_ticks(x_lo, x_hi, 6), y_ticks=svg.nice_ticks(y_lo, y_hi, 6),
                      x_label=_AXIS_TITLES.get(x_axis, x_axis), y_label=_AXIS_TITLES.get(y_axis, y_axis)),
            *(svg.polyline(ax, ln, stroke=colour, width=2.0) for (_, ln), colour in zip(lines, colours, strict=True)),
            svg.scatter(ax, points, fill=svg.PALETTE[4], size=6.0, label=f"{len(points)} inverters"),
            svg.legend(keys, x=ax.left + 8, y=ax.top - 10),
            svg.close_svg(),
        ]
    )  # fmt: skip


def control_html(document: dict[str, Any]) -> str:
    """The HTML Volt-VAR section: the comparison, one plot per mode in use, the inverter table."""
    if not controlled(document):
        return ""
    control = document["control"]
    invs = document.get("inverters", [])
    e = escape
    compare = "".join(
        f'<tr><td>{e(label)}</td><td class="n">{_f(control["without"][key])}</td>'
        f'<td class="n">{_f(control["with"][key])}</td></tr>'
        for key, label in _COMPARED
    )
    plots = "".join(f'<div class="plot">{_curve_plot(c, invs)}</div>' for c in control.get("curves", []))
    shown = _shown(document)
    body = "".join(
        f"<tr><td><code>{e(r['id'])}</code> {e(r['name'] or '')}</td><td><code>{e(str(r['bus']))}</code></td>"
        f'<td>{e(r["mode"])}</td><td class="n">{_f(r["p_mw"])}</td><td class="n">{_f(r["q_mvar"])}</td>'
        f'<td class="n">{_f(r["s_rated_mva"])}</td><td class="n">{_f(r["v_pu"])}</td>'
        f'<td class="n">{_f(r["cos_phi"], 4)}</td><td>{e(r["curve_point"]["x_axis"])} {_f(r["curve_point"]["x"])} → '
        f"{_f(r['curve_point']['curve_y'], 4)}{' (limited)' if r['curve_point']['limited'] else ''}</td></tr>"
        for r in shown
    )
    more = f" ({len(shown)} of {len(invs)}, most reactive first)" if len(shown) < len(invs) else ""
    return (
        f'<h2 id="control">Volt-VAR control</h2><p>{e(_sentence(control, len(invs)).replace("`", ""))}</p>'
        "<table><thead><tr><th></th><th>without control</th><th>with control</th></tr></thead>"
        f"<tbody>{compare}</tbody></table>{plots}"
        f"<h3>Inverters{e(more)}</h3><table><thead><tr><th>inverter</th><th>bus</th><th>mode</th><th>P (MW)</th>"
        "<th>Q (Mvar)</th><th>S rated (MVA)</th><th>V (pu)</th><th>cos φ</th><th>curve point</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
        '<p class="note">Load sign convention: generation has P &lt; 0 and an inverter absorbing reactive power '
        "Q &gt; 0. The curves are drawn in generator sense, as the standards draw them.</p>"
    )
