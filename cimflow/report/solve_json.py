"""The power-flow report document (``report.json`` of ``cimflow solve --report``, ``schemas/solve-report``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from cimflow.findings import Finding, Severity
from cimflow.powerflow.solution import BranchResult, BusResult, GeneratorResult, SlackResult, Solution
from cimflow.report.common import dumps, finding_records, tool_block
from cimflow.topology.model import Topology
from cimflow.topology.positions import tree_positions

if TYPE_CHECKING:  # the report layer takes the result; it does not run the pipeline
    from cimflow.solve import SolveResult

SOLVE_SCHEMA_VERSION = "1.2"  # 1.1: inverters and control (Volt-VAR); 1.2: generators (PV buses)
SIGNIFICANT_DIGITS = 12
VIOLATION_PREFIX = "CF4"


def num(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """Round to ``digits`` significant digits for byte-stable output; NaN, inf and ``None`` become ``None``.

    Args:
        value: Any float (or ``None``).
        digits: Significant digits kept.

    Returns:
        The rounded float (``-0.0`` written as ``0.0``), or ``None`` when the value is not finite.
    """
    if value is None or not math.isfinite(value):
        return None
    rounded = float(f"{float(value):.{digits}g}")
    return rounded + 0.0  # -0.0 + 0.0 == 0.0: one spelling of zero


def _bus_record(bus: BusResult, parent: str | None, depth: int) -> dict[str, Any]:
    return {
        "id": bus.id,
        "connectivity_nodes": list(bus.connectivity_nodes),
        "topological_node": bus.topological_node,
        "name": bus.name,
        "island": bus.island,
        "energised": bus.energised,
        "v_base_kv": num(bus.v_base_kv),
        "v_kv": num(bus.v_kv) if bus.energised else None,
        "v_pu": num(bus.v_pu) if bus.energised else None,
        "angle_deg": num(bus.angle_deg) if bus.energised else None,
        "distance_km": num(bus.distance_km),
        "depth": depth if depth >= 0 else None,
        "parent": parent,
    }


def _branch_record(br: BranchResult) -> dict[str, Any]:
    return {
        "id": br.id,
        "equipment": br.equipment,
        "name": br.name,
        "cim_class": br.cim_class,
        "kind": br.kind,
        "from_bus": br.from_bus,
        "to_bus": br.to_bus,
        "p_from_mw": num(br.p_from_mw),
        "q_from_mvar": num(br.q_from_mvar),
        "p_to_mw": num(br.p_to_mw),
        "q_to_mvar": num(br.q_to_mvar),
        "i_a": num(br.i_a),
        "i_max_a": num(br.i_max_a),
        "s_rated_mva": num(br.s_rated_mva),
        "loading_pct": num(br.loading_pct),
        "p_loss_mw": num(br.p_loss_mw),
    }


def _slack_record(slack: SlackResult) -> dict[str, Any]:
    return {
        "id": slack.id,
        "name": slack.name,
        "cim_class": slack.cim_class,
        "bus": slack.bus,
        "p_mw": num(slack.p_mw),
        "q_mvar": num(slack.q_mvar),
        "p_inject_mw": num(slack.p_inject_mw),
        "q_inject_mvar": num(slack.q_inject_mvar),
    }


def _generator_record(gen: GeneratorResult) -> dict[str, Any]:
    return {
        "id": gen.id,
        "name": gen.name,
        "cim_class": gen.cim_class,
        "bus": gen.bus,
        "regulated_bus": gen.regulated_bus,
        "p_mw": num(gen.p_mw),
        "q_mvar": num(gen.q_mvar),
        "q_min_mvar": num(gen.q_min_mvar) if gen.q_min_mvar is not None else None,
        "q_max_mvar": num(gen.q_max_mvar) if gen.q_max_mvar is not None else None,
        "v_set_pu": num(gen.v_set_pu),
        "held": gen.held,
    }


def _island_records(topology: Topology | None) -> list[dict[str, Any]]:
    if topology is None:
        return []
    records = []
    for island in topology.islands:
        tree = topology.feeders[island.feeder] if island.feeder >= 0 else None
        records.append(
            {
                "index": island.index,
                "energised": island.energised,
                "radial": island.radial,
                "buses": int(island.buses.size),
                "branches": int(island.branches.size),
                "root": topology.buses[island.root].mrid if island.energised else None,
                "sources": [s.mrid for s in island.sources],
                "lengths_complete": tree.lengths_complete if tree is not None else None,
            }
        )
    return records


def _voltage_extremes(buses: Iterable[BusResult]) -> tuple[BusResult | None, BusResult | None]:
    """Lowest and highest energised bus by ``v_pu`` (first in bus order on ties; NaN skipped)."""
    lowest = highest = None
    for b in buses:
        if not b.energised or not math.isfinite(b.v_pu):
            continue
        if lowest is None or b.v_pu < lowest.v_pu:
            lowest = b
        if highest is None or b.v_pu > highest.v_pu:
            highest = b
    return lowest, highest


def _summary(result: SolveResult, solution: Solution | None, violations: int) -> dict[str, Any]:
    topology = result.validation.topology
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in Severity}
    lowest, highest = _voltage_extremes(solution.buses if solution else ())
    islands = topology.islands if topology is not None else ()
    return {
        "converged": result.converged,
        "solver": solution.solver if solution else None,
        "iterations": solution.iterations if solution else None,
        "max_mismatch_mva": num(solution.max_mismatch_mva) if solution else None,
        "buses": len(topology.buses) if topology is not None else 0,
        "branches": len(solution.branches) if solution else (len(topology.branches) if topology else 0),
        "islands": len(islands),
        "energised_islands": sum(1 for i in islands if i.energised),
        "radial": topology.radial if topology is not None else None,
        "v_min_pu": num(lowest.v_pu) if lowest else None,
        "v_min_bus": lowest.id if lowest else None,
        "v_max_pu": num(highest.v_pu) if highest else None,
        "v_max_bus": highest.id if highest else None,
        "losses_mw": num(solution.losses_mw) if solution else None,
        "losses_mvar": num(solution.losses_mvar) if solution else None,
        "load_mw": num(solution.load_mw) if solution else None,
        "load_mvar": num(solution.load_mvar) if solution else None,
        "generation_mw": num(solution.generation_mw) if solution else None,
        "generation_mvar": num(solution.generation_mvar) if solution else None,
        "errors": counts[Severity.ERROR],
        "warnings": counts[Severity.WARNING],
        "infos": counts[Severity.INFO],
        "violations": violations,
    }


def is_violation(finding: Finding) -> bool:
    """Whether a finding is a post-solve check (CF4xx: non-convergence or a limit violation)."""
    return finding.code.startswith(VIOLATION_PREFIX)


def solve_document(result: SolveResult, *, inputs: Sequence[str]) -> dict[str, Any]:
    """The JSON document of a solve (see ``schemas/solve-report.schema.json``), byte-stable through ``dumps``.

    Floats keep 12 significant digits; values that are not finite (a solve that diverged) are ``null``.
    Voltages of de-energised buses are ``null``.

    Args:
        result: What :func:`cimflow.solve.solve` returned.
        inputs: The input paths as the user gave them.

    Returns:
        The document as plain JSON-compatible values.
    """
    solution = result.solution
    topology = result.validation.topology
    settings = result.validation.settings
    violations = [f for f in result.findings if is_violation(f)]
    sections = result.control_sections() or {
        "inverters": [],
        "control": {"mode": "none", "iterations": 0, "converged": result.converged},
    }
    # the violations are the CF4xx records of the findings: filtering the sorted records gives the order
    # sorting the CF4xx findings would (the sort is stable), without building those records twice
    records = finding_records(result.findings)
    buses: list[dict[str, Any]] = []
    if solution is not None and topology is not None:
        parent, depth, _distance = tree_positions(topology)
        ids = [b.id for b in solution.buses]
        for b in solution.buses:
            up = int(parent[b.index])
            buses.append(_bus_record(b, ids[up] if up >= 0 else None, int(depth[b.index])))
    return {
        "schema_version": SOLVE_SCHEMA_VERSION,
        "tool": tool_block(),
        "inputs": list(inputs),
        "summary": _summary(result, solution, len(violations)),
        "limits": {
            "v_min_pu": num(settings.v_min_pu),
            "v_max_pu": num(settings.v_max_pu),
            "loading_max_pct": num(settings.loading_max_pct),
        },
        "islands": _island_records(topology),
        "slack": [_slack_record(s) for s in solution.slacks] if solution else [],
        "generators": [_generator_record(g) for g in solution.generators] if solution else [],
        "buses": buses,
        "branches": [_branch_record(b) for b in solution.branches] if solution else [],
        "findings": records,
        "violations": [
            dict(r, related=list(r["related"]), ctx=dict(r["ctx"]))
            for r in records
            if r["code"].startswith(VIOLATION_PREFIX)
        ],
        "inverters": sections["inverters"],
        "control": sections["control"],
    }


def render_solve_json(result: SolveResult, *, inputs: Sequence[str]) -> str:
    """The solve document as byte-stable JSON text (sorted keys, no timestamp, trailing newline)."""
    return dumps(solve_document(result, inputs=inputs))


# Queries on the document that the Markdown and HTML renderers share (they take the document, not the result).


def most_loaded(document: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """The ``n`` branches with the highest ``loading_pct`` (those without a rating left out), highest first."""
    rated = [b for b in document["branches"] if b["loading_pct"] is not None]
    return sorted(rated, key=lambda b: (-b["loading_pct"], b["id"]))[:n]


def transformer_flows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Two-winding transformers with the active power at end 1, reverse flow (``p_from_mw < 0``) first."""
    rows = [b for b in document["branches"] if b["kind"] == "transformer" and b["p_from_mw"] is not None]
    return sorted(rows, key=lambda b: (b["p_from_mw"] >= 0, b["p_from_mw"], b["id"]))


def code_counts(document: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """``(code, rule name, severity, count)`` per finding code, in report order (severity, then code)."""
    counts: dict[tuple[str, str, str], int] = {}
    for f in document["findings"]:
        key = (f["code"], f["name"], f["severity"])
        counts[key] = counts.get(key, 0) + 1
    rank = {"error": 0, "warning": 1, "info": 2}
    keys = sorted(counts, key=lambda k: (rank.get(k[2], 3), k[0]))
    return [(code, name, severity, counts[(code, name, severity)]) for code, name, severity in keys]


def bus_index(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Bus records by bus id."""
    return {b["id"]: b for b in document["buses"]}


def object_names(document: dict[str, Any]) -> dict[str, str]:
    """Names of the buses, branches (by id and equipment) and sources, by id, for labelling findings."""
    names: dict[str, str] = {}
    for record in (*document["buses"], *document["branches"], *document["slack"]):
        if record["name"]:
            names[record["id"]] = record["name"]
            if "equipment" in record:
                names.setdefault(record["equipment"], record["name"])
    return names
