"""Markdown rendering of a solve report (``report.md``): a planner's summary of the power flow and its violations."""

from __future__ import annotations

from typing import Any

from cimflow.report.solve_control import control_markdown
from cimflow.report.solve_json import bus_index, code_counts, most_loaded, object_names, transformer_flows
from cimflow.report.svg import MISSING, fmt

MAX_VIOLATION_ROWS = 100
TOP_BRANCHES = 10
MAX_TRANSFORMER_ROWS = 50


def _cell(value: object) -> str:
    """Escape a table cell: pipes, newlines; ``None`` becomes an empty cell."""
    if value is None:
        return ""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _code(value: object) -> str:
    text = _cell(value)
    return f"`{text.replace('`', chr(39))}`" if text else ""


def _num(value: float | None, digits: int = 4) -> str:
    return MISSING if value is None else fmt(value, digits)


def _location(record: dict[str, Any]) -> str:
    if not record["file"]:
        return ""
    return _code(f"{record['file']}:{record['line']}" if record["line"] else record["file"])


def _object(record: dict[str, Any], names: dict[str, str]) -> str:
    parts = [_cell(record["cim_class"])] if record["cim_class"] else []
    if record["mrid"]:
        parts.append(_code(record["mrid"]))
        if record["mrid"] in names:
            parts.append(_cell(names[record["mrid"]]))
    return " ".join(parts)


def bus_label(bus_id: str | None, buses: dict[str, dict[str, Any]]) -> str:
    """``id (name)`` of a bus, or the id alone when it has no name (plain text, not escaped)."""
    if bus_id is None:
        return "?"
    name = buses.get(bus_id, {}).get("name")
    return f"{bus_id} ({name})" if name and name != bus_id else bus_id


def status_sentence(document: dict[str, Any]) -> str:
    """One plain-text sentence on how the solve ended (converged, not converged, or not run)."""
    s = document["summary"]
    if s["solver"] is None:
        return "No power flow ran: the input could not be modelled; the findings below say why."
    how = f"{s['solver']}, {s['iterations']} iterations, largest mismatch {_num(s['max_mismatch_mva'], 3)} MVA"
    if s["converged"]:
        return f"The power flow converged ({how})."
    return (
        f"The power flow did not converge ({how}): its voltages and flows are not a state of the grid. "
        "Fix the errors and warnings listed below first."
    )


def _where(bus: dict[str, Any] | None) -> str:
    if bus is None:
        return ""
    if bus["distance_km"] is not None and bus["distance_km"] > 0:
        return f", {fmt(bus['distance_km'], 3)} km from the source"
    if bus["depth"] is not None:
        return f", {bus['depth']} sections from the source"
    return ""


def _headline(document: dict[str, Any], buses: dict[str, dict[str, Any]]) -> list[str]:
    s, lim = document["summary"], document["limits"]
    islands = f"{s['islands']} ({s['energised_islands']})"
    valid = s["converged"]  # a diverged solve's last iterate is no state of the grid
    v_min, v_max, losses = (s["v_min_pu"], s["v_max_pu"], s["losses_mw"]) if valid else (None, None, None)
    lines = [
        "| buses | branches | islands (energised) | V min (pu) | V max (pu) | losses (MW) | load (MW) "
        "| generation (MW) | violations | errors | warnings | infos |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {s['buses']} | {s['branches']} | {islands} | {_num(v_min)} | {_num(v_max)} "
        f"| {_num(losses)} | {_num(s['load_mw'])} | {_num(s['generation_mw'])} | {s['violations']} "
        f"| {s['errors']} | {s['warnings']} | {s['infos']} |",
        "",
    ]
    if s["solver"] is not None and not s["converged"]:
        return [
            *lines,
            "Voltages, losses and flows are left out: they are the last iterate of a solve that did not "
            "converge (report.json keeps them for diagnosis).",
            "",
        ]
    for key, word in (("v_min", "Lowest"), ("v_max", "Highest")):
        bus_id = s[f"{key}_bus"]
        if bus_id is None:
            continue
        bus = buses.get(bus_id)
        kv = f" ({_num(bus['v_kv'])} kV)" if bus and bus["v_kv"] is not None else ""
        lines.append(
            f"- {word} voltage: **{_num(s[f'{key}_pu'])} pu**{kv} at bus {_code(bus_label(bus_id, buses))}"
            f"{_where(bus)}."
        )
    if s["losses_mw"] is not None:
        share = f" ({fmt(100 * s['losses_mw'] / s['load_mw'], 3)} % of the load)" if s["load_mw"] else ""
        lines.append(f"- Losses: {_num(s['losses_mw'])} MW, {_num(s['losses_mvar'])} Mvar{share}.")
    lines.append(
        f"- Limits checked: voltage {_num(lim['v_min_pu'])} to {_num(lim['v_max_pu'])} pu, "
        f"loading ≤ {_num(lim['loading_max_pct'])} %."
    )
    return [*lines, ""]


def _slack(document: dict[str, Any], buses: dict[str, dict[str, Any]]) -> list[str]:
    if not document["slack"]:
        return []
    lines = [
        "## Slack",
        "",
        "Power the sources supply to the grid (generator sense; report.json also gives `p_mw`/`q_mvar` in "
        "the load sign convention, negative while supplying).",
        "",
        "| source | class | bus | P supplied (MW) | Q supplied (Mvar) |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for sl in document["slack"]:
        name = _code(sl["id"]) + (f" {_cell(sl['name'])}" if sl["name"] else "")
        lines.append(
            f"| {name} | {_cell(sl['cim_class'])} | {_code(bus_label(sl['bus'], buses))} "
            f"| {_num(sl['p_inject_mw'])} | {_num(sl['q_inject_mvar'])} |"
        )
    return [*lines, ""]


def _generators(document: dict[str, Any], buses: dict[str, dict[str, Any]]) -> list[str]:
    rows = document.get("generators") or []
    if not rows:
        return []
    lines = [
        "## Voltage-regulating generators",
        "",
        "Generators holding a bus voltage (PV buses) with the reactive power the power flow found "
        "(generator sense); *at limit* means they could not hold their set point.",
        "",
        "| generator | bus | regulated bus | set point (pu) | Q supplied (Mvar) | Q range (Mvar) | state |",
        "| --- | --- | --- | ---: | ---: | --- | --- |",
    ]
    for g in rows:
        name = _code(g["id"]) + (f" {_cell(g['name'])}" if g["name"] else "")
        q = -g["q_mvar"] if g["q_mvar"] is not None else None
        low = _num(g["q_min_mvar"]) if g["q_min_mvar"] is not None else "-∞"
        high = _num(g["q_max_mvar"]) if g["q_max_mvar"] is not None else "∞"
        lines.append(
            f"| {name} | {_code(bus_label(g['bus'], buses))} | {_code(bus_label(g['regulated_bus'], buses))} "
            f"| {_num(g['v_set_pu'])} | {_num(q)} | {low} … {high} | {'held' if g['held'] else 'at limit'} |"
        )
    return [*lines, ""]


def _violations(document: dict[str, Any]) -> list[str]:
    rows = document["violations"]
    lim = document["limits"]
    if not rows:
        if document["summary"]["solver"] is None:
            return []
        return [
            "## Violations (0)",
            "",
            f"None: every energised bus within {_num(lim['v_min_pu'])} to {_num(lim['v_max_pu'])} pu and every rated "
            f"branch at most {_num(lim['loading_max_pct'])} % loaded.",
            "",
        ]
    lines = [
        f"## Violations ({len(rows)})",
        "",
        "| code | severity | where | location | message |",
        "| --- | --- | --- | --- | --- |",
    ]
    names = object_names(document)
    for r in rows[:MAX_VIOLATION_ROWS]:
        lines.append(
            f"| {r['code']} | {r['severity']} | {_object(r, names)} | {_location(r)} | {_cell(r['message'])} |"
        )
    if len(rows) > MAX_VIOLATION_ROWS:
        lines += ["", f"… and {len(rows) - MAX_VIOLATION_ROWS} more in report.json (`violations`)."]
    return [*lines, ""]


def _loaded(document: dict[str, Any], buses: dict[str, dict[str, Any]]) -> list[str]:
    top = most_loaded(document, TOP_BRANCHES)
    if not top:
        return []
    lines = [
        f"## Most loaded branches (top {len(top)})",
        "",
        "| branch | name | class | from → to | loading (%) | I (A) | limit | P from (MW) |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for b in top:
        limit = f"{_num(b['s_rated_mva'])} MVA" if b["s_rated_mva"] else f"{_num(b['i_max_a'])} A"
        ends = f"{_code(bus_label(b['from_bus'], buses))} → {_code(bus_label(b['to_bus'], buses))}"
        lines.append(
            f"| {_code(b['id'])} | {_cell(b['name'])} | {_cell(b['cim_class'])} | {ends} "
            f"| {_num(b['loading_pct'])} | {_num(b['i_a'])} | {limit} | {_num(b['p_from_mw'])} |"
        )
    return [*lines, ""]


def _reverse(document: dict[str, Any]) -> list[str]:
    flows = transformer_flows(document)
    if not flows:
        return []
    reverse = [b for b in flows if b["p_from_mw"] < 0]
    lines = [f"## Reverse power flow at transformers ({len(reverse)} of {len(flows)})", ""]
    if not reverse:
        return [*lines, f"None: active power flows from end 1 to end 2 through every transformer ({len(flows)}).", ""]
    lines += [
        "| transformer | name | end 1 bus | P at end 1 (MW) | loading (%) |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for b in reverse[:MAX_TRANSFORMER_ROWS]:
        lines.append(
            f"| {_code(b['id'])} | {_cell(b['name'])} | {_code(b['from_bus'])} | {_num(b['p_from_mw'])} "
            f"| {_num(b['loading_pct'])} |"
        )
    if len(reverse) > MAX_TRANSFORMER_ROWS:
        lines += ["", f"… and {len(reverse) - MAX_TRANSFORMER_ROWS} more in report.json."]
    return [*lines, ""]


def _findings(document: dict[str, Any]) -> list[str]:
    counts = code_counts(document)
    if not counts:
        return ["## Findings", "", "No findings.", ""]
    lines = ["## Findings", "", "| code | rule | severity | count |", "| --- | --- | --- | ---: |"]
    lines += [f"| {code} | {_cell(name)} | {severity} | {n} |" for code, name, severity, n in counts]
    return [*lines, "", "Every finding, with file, line and mRID, is in report.json (`findings`).", ""]


def render_solve_markdown(document: dict[str, Any]) -> str:
    """The solve report as GitHub-flavoured Markdown (byte-stable: it only reads the sorted document).

    Args:
        document: What :func:`cimflow.report.solve_json.solve_document` returned.

    Returns:
        Markdown text ending with a newline.
    """
    buses = bus_index(document)
    lines = ["# cimflow power-flow report", ""]
    if document["inputs"]:
        lines += ["Inputs: " + ", ".join(_code(p) for p in document["inputs"]), ""]
    lines += [("**" + status_sentence(document) + "**"), ""]
    lines += _headline(document, buses)
    lines += _violations(document)
    lines += control_markdown(document)
    if document["summary"]["converged"]:
        lines += _slack(document, buses)
        lines += _generators(document, buses)
        lines += _loaded(document, buses)
        lines += _reverse(document)
    lines += _findings(document)
    return "\n".join(lines)
