"""Hosting-capacity and connection-assessment documents (``schemas/hosting-capacity``, ``connection-assessment``),
and their CSV and Markdown renderings; pure functions of the results."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cimflow.findings import Finding
from cimflow.report.common import finding_records, tool_block
from cimflow.report.svg import fmt
from cimflow.topology.model import Topology
from cimflow.topology.positions import tree_positions

if TYPE_CHECKING:  # the report layer takes the results; it does not run the study
    from cimflow.apps.hosting_results import (
        BusCapacity,
        Capacity,
        ConnectionAssessment,
        CriterionState,
        HostingResult,
    )
    from cimflow.model.network import Network

HOSTING_SCHEMA_VERSION = "1.0"
SIGNIFICANT_DIGITS = 12
CONNECTION_SCHEMA_VERSION = "1.0"
COORDINATE_SHARE = 0.9  # draw on coordinates when at least this share of the energised buses has one
MAX_MARKDOWN_ROWS = 200
CSV_CRITERIA = ("band", "rise", "lines", "transformers", "reverse")


def num(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """Round to ``digits`` significant digits for byte-stable output; NaN, inf and ``None`` become ``None``."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}") + 0.0  # -0.0 + 0.0 == 0.0: one spelling of zero


def _state(s: CriterionState) -> dict[str, Any]:
    el = s.element
    return {
        "value": num(s.value),
        "limit": num(s.limit),
        "margin": num(s.margin),
        "unit": s.unit,
        "holds": s.holds,
        "element": el.mrid if el else None,
        "element_name": el.name if el else None,
        "element_kind": el.kind if el else None,
    }


def _capacity(cap: Capacity) -> dict[str, Any]:
    el = cap.element
    return {
        "capacity_kw": num(cap.capacity_kw),
        "binding": cap.binding.value,
        "element": el.mrid if el else None,
        "element_name": el.name if el else None,
        "element_kind": el.kind if el else None,
        "reason": cap.reason,
        "first_failing_kw": num(cap.hi_kw),
        "margins": {s.criterion.value: _state(s) for s in cap.margins},
        "n_solves": cap.n_solves,
    }


def bus_coordinates(network: Network, topology: Topology) -> dict[int, tuple[float, float]]:
    """Bus positions from the GL profile: a single-terminal equipment's Location, else a line's end points.

    A Location is found from either side (CGMES ``Location.PowerSystemResources``, CIM100
    ``PowerSystemResource.Location``). A branch's first PositionPoint places its from bus and its
    last one its to bus. The first position found for a bus wins. O(N).
    """
    from cimflow.model.core import Location, PositionPoint

    points: dict[str, list[tuple[int, float, float]]] = {}
    for p in network.of(PositionPoint).values():
        if p.location_ref and p.x is not None and p.y is not None:
            points.setdefault(p.location_ref, []).append((p.sequence_number or 0, p.x, p.y))
    if not points:
        return {}
    location_of: dict[str, str] = {}
    for loc in network.of(Location).values():
        if loc.resource is not None:
            location_of.setdefault(loc.resource, loc.mrid)
    found: dict[int, tuple[float, float]] = {}

    def place(mrid: str, ends: tuple[int, ...]) -> None:
        loc = location_of.get(mrid) or getattr(network.get(mrid), "location_ref", None)
        seq = sorted(points.get(loc, ())) if loc else []
        if seq:
            found.setdefault(ends[0], (seq[0][1], seq[0][2]))
            found.setdefault(ends[-1], (seq[-1][1], seq[-1][2]))

    for inj in topology.injections:
        place(inj.mrid, (inj.bus,))
    for br in topology.branches:
        place(br.mrid, (br.from_bus, br.to_bus))
    return found


def _bus(
    b: BusCapacity, parent: str | None, depth: int, distance: float, xy: tuple[float, float] | None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "bus": b.bus,
        "name": b.name,
        "v_base_kv": num(b.v_base_kv),
        "island": b.island,
        "energised": b.energised,
    }
    record.update(_capacity(b.result))
    record.update(
        {
            "parent": parent,
            "depth": depth if depth >= 0 else None,
            "distance_km": num(distance),
            "x": num(xy[0]) if xy else None,
            "y": num(xy[1]) if xy else None,
            "control": _capacity(b.controlled) if b.controlled is not None else None,
        }
    )
    return record


def _summary(result: HostingResult, records: list[dict[str, Any]]) -> dict[str, Any]:
    caps = [r["capacity_kw"] for r in records if r["capacity_kw"] is not None]
    binding = Counter(r["binding"] for r in records)
    return {
        "buses": len(records),
        "energised": sum(1 for r in records if r["energised"]),
        "with_capacity": len(caps),
        "min_capacity_kw": num(min(caps)) if caps else None,
        "median_capacity_kw": num(statistics.median(caps)) if caps else None,
        "max_capacity_kw": num(max(caps)) if caps else None,
        "binding": {k: binding[k] for k in sorted(binding)},
        "n_solves": result.n_solves,
    }


def _sort_key(record: Mapping[str, Any]) -> tuple[bool, float, str]:
    cap = record["capacity_kw"]
    return (cap is None, cap if cap is not None else 0.0, record["bus"])


def hosting_document(
    result: HostingResult,
    *,
    topology: Topology,
    network: Network | None = None,
    inputs: Iterable[str] = (),
    findings: Iterable[Finding] = (),
) -> dict[str, Any]:
    """The hosting-capacity JSON document; buses sorted by capacity (smallest first), byte-stable.

    Args:
        result: The study's result.
        topology: The topology (feeder trees: each bus's parent, depth and distance).
        network: The model, for GL coordinates (optional).
        inputs: Input paths as given.
        findings: Findings to include (validation, assumptions).

    Returns:
        The document (see ``schemas/hosting-capacity.schema.json``).
    """
    cfg = result.config
    parent, depth, distance = tree_positions(topology)
    coords = bus_coordinates(network, topology) if network is not None else {}
    ids = [b.mrid for b in topology.buses]
    records = [
        _bus(
            b,
            ids[parent[b.index]] if parent[b.index] >= 0 else None,
            int(depth[b.index]),
            float(distance[b.index]),
            coords.get(b.index),
        )
        for b in result.buses
    ]
    records.sort(key=_sort_key)
    energised = [r for r in records if r["energised"]]
    placed = sum(1 for r in energised if r["x"] is not None)
    layout = "coordinates" if energised and placed >= COORDINATE_SHARE * len(energised) else "tree"
    return {
        "schema_version": HOSTING_SCHEMA_VERSION,
        "tool": tool_block(),
        "inputs": [str(p) for p in inputs],
        "study": {
            "kind": cfg.kind.value,
            "pf": num(cfg.pf),
            "criteria": [c.value for c in result.criteria],
            "v_min_pu": num(cfg.v_min_pu),
            "v_max_pu": num(cfg.v_max_pu),
            "rise_max_pu": num(cfg.rise_max_pu),
            "rise_max_mv_pu": num(cfg.rise_max_mv_pu),
            "lv_max_kv": num(cfg.lv_max_kv),
            "loading_max_pct": num(cfg.loading_max_pct),
            "max_kw": num(cfg.max_kw),
            "tolerance_kw": num(cfg.tolerance_kw),
            "load_scale": num(result.load_scale),
            "control": result.control_mode,
        },
        "summary": {**_summary(result, records), "layout": layout},
        "buses": records,
        "findings": finding_records(findings),
    }


def connection_document(
    answer: ConnectionAssessment, *, inputs: Iterable[str] = (), findings: Iterable[Finding] = ()
) -> dict[str, Any]:
    """The connection-assessment JSON document (``schemas/connection-assessment.schema.json``)."""
    bus = answer.bus
    cfg_first = answer.first_broken
    return {
        "schema_version": CONNECTION_SCHEMA_VERSION,
        "tool": tool_block(),
        "inputs": [str(p) for p in inputs],
        "request": {
            "bus": bus.bus,
            "name": bus.name,
            "kind": answer.kind,
            "p_kw": num(answer.p_kw),
            "pf": num(answer.pf),
            "control": answer.control_mode,
        },
        "accepted": answer.accepted,
        "reason": answer.reason,
        "converged": answer.converged,
        "v_bus_pu": num(answer.v_bus_pu),
        "v_bus_base_pu": num(answer.v_bus_base_pu),
        "headroom_kw": num(answer.headroom_kw),
        "capacity": _capacity(answer.capacity),
        "criteria": {s.criterion.value: _state(s) for s in answer.states},
        "first_broken": None if cfg_first is None else {"criterion": cfg_first.criterion.value, **_state(cfg_first)},
        "findings": finding_records(findings),
    }


def render_hosting_csv(document: Mapping[str, Any]) -> str:
    """One row per bus (the document's order): capacity, binding, element, each criterion's margin."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = ["bus", "name", "v_base_kv", "energised", "capacity_kw", "binding", "element", "element_name", "reason"]
    head += [f"margin_{c}" for c in CSV_CRITERIA] + ["capacity_control_kw", "binding_control"]
    writer.writerow(head)
    for r in document["buses"]:
        margins = r["margins"]
        control = r["control"] or {}
        row = [
            r["bus"],
            r["name"],
            r["v_base_kv"],
            r["energised"],
            r["capacity_kw"],
            r["binding"],
            r["element"],
            r["element_name"],
            r["reason"],
        ]
        row += [margins[c]["margin"] if c in margins else None for c in CSV_CRITERIA]
        row += [control.get("capacity_kw"), control.get("binding")]
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def kw_text(value: float | None) -> str:
    """A power in kW with one decimal and thousands separators; ``-`` for none."""
    return "-" if value is None else f"{value:,.1f}"


def study_sentence(study: Mapping[str, Any]) -> str:
    """The study's options as one plain-text sentence (only the limits of the active criteria)."""
    crit = study["criteria"]
    parts = [f"Adding {study['kind'].upper()} at power factor {fmt(study['pf'])}", f"criteria {', '.join(crit)}"]
    if "band" in crit:
        parts.append(f"band {fmt(study['v_min_pu'])}-{fmt(study['v_max_pu'])} pu")
    if "rise" in crit:
        parts.append(
            f"rise {fmt(100 * study['rise_max_pu'])} % at LV, {fmt(100 * study['rise_max_mv_pu'])} % at MV buses"
        )
    if "lines" in crit or "transformers" in crit:
        parts.append(f"loading {fmt(study['loading_max_pct'])} %")
    parts.append(f"base case with the file's loads x {fmt(study['load_scale'])}")
    parts.append(f"searched up to {fmt(study['max_kw'])} kW to ±{fmt(study['tolerance_kw'])} kW")
    if study["control"]:
        parts.append(f"Volt-VAR control {study['control']}")
    return "; ".join(parts) + "."


def render_hosting_markdown(document: Mapping[str, Any]) -> str:
    """A planner's summary: the study, the capacity distribution and the most constrained buses."""
    s, st = document["summary"], document["study"]
    lines = [
        f"# Hosting capacity: {st['kind'].upper()}",
        "",
        _cell(study_sentence(st)),
        "",
        f"- buses: {s['buses']} ({s['energised']} energised, {s['with_capacity']} with a capacity)",
        f"- capacity: min {kw_text(s['min_capacity_kw'])} kW, median {kw_text(s['median_capacity_kw'])} kW, "
        f"max {kw_text(s['max_capacity_kw'])} kW",
        "- binding: " + ", ".join(f"{k} {v}" for k, v in s["binding"].items()),
        "",
        "| bus | name | kV | capacity kW | binding | element | reason |" + (" control kW |" if st["control"] else ""),
        "| --- | --- | ---: | ---: | --- | --- | --- |" + (" ---: |" if st["control"] else ""),
    ]
    for r in document["buses"][:MAX_MARKDOWN_ROWS]:
        row = (
            f"| `{_cell(r['bus'])}` | {_cell(r['name'])} | {_cell(r['v_base_kv'])} | {kw_text(r['capacity_kw'])} | "
            f"{_cell(r['binding'])} | {_cell(r['element_name'] or r['element'])} | {_cell(r['reason'])} |"
        )
        if st["control"]:
            row += f" {kw_text((r['control'] or {}).get('capacity_kw'))} |"
        lines.append(row)
    if len(document["buses"]) > MAX_MARKDOWN_ROWS:
        lines += ["", f"... and {len(document['buses']) - MAX_MARKDOWN_ROWS} more buses (see the JSON or CSV)."]
    return "\n".join(lines) + "\n"
