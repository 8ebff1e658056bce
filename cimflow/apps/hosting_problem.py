"""Hosting-capacity set-up: the base case at the study's load level, its islands and their criteria, and the
translation of search results back to CIM identifiers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import breadth_first_order

from cimflow.apps.hosting_criteria import (
    CRITERIA,
    ELEMENT_KINDS,
    UNITS,
    Binding,
    CriteriaArrays,
    Criterion,
    HostingConfig,
    branch_coefficients,
    loading_factors,
    tree_intervals,
)
from cimflow.apps.hosting_margins import Margins, evaluate
from cimflow.apps.hosting_results import Capacity, CriterionState, Element
from cimflow.apps.hosting_search import SearchResult, binding_rows
from cimflow.apps.hosting_sweep import IslandProblem, IslandSweep, Outcome
from cimflow.ids import MRID
from cimflow.model.network import Network
from cimflow.powerflow.arrays import PerUnitCase, connection_graph
from cimflow.powerflow.case import CaseBuild
from cimflow.powerflow.solve import CaseIsland, solve_case, split_islands
from cimflow.topology.model import Topology

IntArray = np.ndarray

NOT_ENERGISED = "not energised: the bus is in an island without a source (behind an open switch or cut off)"
NO_BASE_SOLUTION = "the base case of its island has no power-flow solution, so no scenario can be judged"


def scaled_case(build: CaseBuild, load_scale: float) -> PerUnitCase:
    """The case with every load (EnergyConsumer) multiplied by ``load_scale``, generation as in the file.

    A new case value: the ZIP parts of each load are scaled in the case's load arrays (the
    constant-impedance part changes the admittance matrix, so the new case is factorised anew).
    """
    case = build.case
    if load_scale == 1.0:
        return case
    records = [r for r in build.index.injections.records if r.role == "load"]
    parts = []
    for k in range(3):
        bus = np.array([r.bus for r in records], dtype=np.int64)
        s = np.array([complex(r.p_mw * r.p_shares[k], r.q_mvar * r.q_shares[k]) for r in records], dtype=complex)
        total = np.bincount(bus, weights=s.real, minlength=case.n_bus) + 1j * np.bincount(
            bus, weights=s.imag, minlength=case.n_bus
        )
        parts.append((load_scale - 1.0) * total / case.s_base_mva)
    return dataclasses.replace(
        case,
        s_const_power_pu=case.s_const_power_pu + parts[0],
        s_const_current_pu=case.s_const_current_pu + parts[1],
        s_const_impedance_pu=case.s_const_impedance_pu + parts[2],
    )


@dataclass(frozen=True, slots=True, eq=False)
class IslandStudy:
    """One island of the study.

    Attributes:
        index: Island index in the case.
        bus_index: Case buses of the island (ascending); island bus ``k`` is case bus ``bus_index[k]``.
        branch_index: Case branches of the island.
        energised: Whether it has a source.
        problem: What the search needs (``None``: not energised, or its base case has no solution).
        no_capacity: The answer for its buses when ``problem`` is ``None``.
        bus_elements: Each island bus as a report element (bus id and name).
        branch_elements: Each island branch as a report element (equipment mRID, name, kind).
    """

    index: int
    bus_index: IntArray
    branch_index: IntArray
    energised: bool
    problem: IslandProblem | None
    no_capacity: Capacity
    bus_elements: tuple[Element, ...]
    branch_elements: tuple[Element, ...]

    def states_at(self, local: int, p_kw: float) -> tuple[tuple[CriterionState, ...], bool, float | None]:
        """Every criterion with ``p_kw`` added at island bus ``local``; converged; the bus voltage (pu)."""
        problem = self.problem
        assert problem is not None
        sweep = IslandSweep(problem.case)
        bus = np.array([local], dtype=np.int64)
        if sweep.position[local] < 0:  # the source bus: nothing changes in the island
            v = problem.v_base_pu[:, None]
            ok = True
        else:
            v_o, conv = sweep.solve(
                problem.v_base_pu[sweep.order][:, None],
                sweep.position[bus],
                np.array([problem.power_pu_per_kw * p_kw]),
                tolerance=problem.solver_tolerance_pu,
                max_iter=problem.max_iter,
            )
            v, ok = sweep.full(v_o), bool(conv[0])
        m = evaluate(problem.criteria, v, bus)
        states = criterion_states(self, m, 0) if ok else ()
        return states, ok, float(abs(v[local, 0])) if ok else None


def _criteria_arrays(
    build: CaseBuild, island: CaseIsland, cfg: HostingConfig, v_base: np.ndarray, active: tuple[Criterion, ...]
) -> CriteriaArrays:
    case, index = island.case, build.index
    n_top = index.n_topology_buses
    bus_rows = np.flatnonzero(island.bus_index < n_top).astype(np.int64)
    lv = case.v_base_kv[bus_rows] <= cfg.lv_max_kv
    rise_limit = np.where(lv, cfg.rise_max_pu, cfg.rise_max_mv_pu)
    kinds = np.array([index.branch_kind[b] for b in island.branch_index], dtype=object)
    factor, by_power = loading_factors(
        index.i_max_a[island.branch_index],
        index.s_rated_mva[island.branch_index],
        case.v_base_kv[case.branch_from],
        case.s_base_mva,
    )
    rated = np.isfinite(factor)
    is_trafo = np.array([str(k).startswith("transformer") for k in kinds], dtype=bool)
    lines = np.flatnonzero((kinds == "line") & rated) if Criterion.LINES in active else np.empty(0, np.int64)
    trafos = np.flatnonzero(is_trafo & rated) if Criterion.TRANSFORMERS in active else np.empty(0, np.int64)
    rev = np.flatnonzero(kinds == "transformer") if Criterion.REVERSE in active else np.empty(0, np.int64)
    br = np.unique(np.concatenate([lines, trafos, rev])).astype(np.int64)
    where = {int(b): k for k, b in enumerate(br)}

    def sel(rows: np.ndarray) -> np.ndarray:
        return np.array([where[int(b)] for b in rows], dtype=np.int64)

    tin = tout = None
    rev_child = np.full(rev.size, -1, dtype=np.int64)
    if rev.size and case.slack_bus.size == 1:
        graph = connection_graph(case)
        order, pred = breadth_first_order(graph, int(case.slack_bus[0]), directed=False, return_predecessors=True)
        tree_edges = int(np.count_nonzero(pred[order] >= 0))
        if graph.nnz // 2 == tree_edges:  # radial: the bus graph is the tree
            parent = np.where(pred < 0, -1, pred).astype(np.int64)
            tin, tout = tree_intervals(parent, order.astype(np.int64))
            f, t = case.branch_from[rev], case.branch_to[rev]
            rev_child = np.where(parent[t] == f, t, f).astype(np.int64)
    coef = branch_coefficients(
        case.y_series_pu[br], case.y_shunt_from_pu[br], case.y_shunt_to_pu[br], case.tap_ratio[br]
    )
    return CriteriaArrays(
        active=active,
        v_min_pu=cfg.v_min_pu,
        v_max_pu=cfg.v_max_pu,
        loading_max_pct=cfg.loading_max_pct,
        bus_rows=bus_rows,
        rise_limit_pu=rise_limit,
        v_base_abs_pu=np.abs(v_base),
        br=br,
        coef=coef,
        br_from=case.branch_from[br],
        br_to=case.branch_to[br],
        line_sel=sel(lines),
        line_factor=factor[lines],
        trafo_sel=sel(trafos),
        trafo_factor=factor[trafos],
        trafo_by_power=by_power[trafos],
        rev_sel=sel(rev),
        rev_child=rev_child,
        tin=tin,
        tout=tout,
        s_base_mva=case.s_base_mva,
    )


def _capacity(binding: Binding, reason: str, capacity_kw: float | None = None) -> Capacity:
    return Capacity(capacity_kw, binding, None, reason, (), None, 0)


def build_islands(
    network: Network, topology: Topology, build: CaseBuild, base: PerUnitCase, cfg: HostingConfig
) -> tuple[tuple[IslandStudy, ...], np.ndarray, np.ndarray]:
    """Split the base case into islands, solve each once and prepare its criteria.

    Returns:
        The islands, the island of every case bus and every bus's index within its island.
    """
    out = []
    island_of_bus = np.empty(base.n_bus, dtype=np.int64)
    local_of_bus = np.empty(base.n_bus, dtype=np.int64)
    active = cfg.active
    unit = cfg.power_pu_per_kw(base.s_base_mva)
    for i, island in enumerate(split_islands(base)):
        island_of_bus[island.bus_index] = i
        local_of_bus[island.bus_index] = np.arange(island.bus_index.size)
        energised = island.slack_index.size > 0
        problem = None
        no_cap = _capacity(Binding.NOT_ENERGISED, NOT_ENERGISED)
        if energised:
            result = solve_case(
                island.case, tolerance=min(cfg.solver_tolerance_pu, 1e-8), max_iter=max(cfg.max_iter, 50)
            )
            if result.converged:
                arrays = _criteria_arrays(build, island, cfg, result.v_phasor_pu, active)
                # generators holding a voltage in the base case keep its reactive power in the scenarios
                case = island.case.with_pv_as_pq(result.q_pv_pu) if island.case.n_pv else island.case
                problem = IslandProblem(
                    case,
                    arrays,
                    np.array(result.v_phasor_pu),
                    unit,
                    cfg.max_kw,
                    cfg.tolerance_kw,
                    cfg.solver_tolerance_pu,
                    cfg.max_iter,
                )
            else:
                no_cap = _capacity(Binding.BASE_CASE, NO_BASE_SOLUTION)
        bus_el, branch_el = _elements(network, topology, build, island)
        out.append(IslandStudy(i, island.bus_index, island.branch_index, energised, problem, no_cap, bus_el, branch_el))
    return tuple(out), island_of_bus, local_of_bus


def _element(island: IslandStudy, crit: Criterion, row: int) -> Element | None:
    if row < 0:
        return None
    return island.bus_elements[row] if ELEMENT_KINDS[crit] == "bus" else island.branch_elements[row]


def _elements(
    network: Network, topology: Topology, build: CaseBuild, island: CaseIsland
) -> tuple[tuple[Element, ...], tuple[Element, ...]]:
    """Report elements of an island's buses and branches, in island order."""
    table = build.index
    n_top = table.n_topology_buses
    buses = []
    for g in island.bus_index.tolist():
        if g < n_top:
            bus = topology.buses[g]
            buses.append(Element(bus.mrid, bus.name, "bus"))
        else:
            buses.append(Element(MRID(f"{table.injections.internal_mrid[g - n_top]}#internal"), None, "bus"))
    branches = []
    for g in island.branch_index.tolist():
        obj = network.get(table.branch_mrid[g])
        branches.append(Element(table.branch_mrid[g], obj.name if obj is not None else None, table.branch_kind[g]))
    return tuple(buses), tuple(branches)


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def criterion_states(island: IslandStudy, m: Margins, col: int) -> tuple[CriterionState, ...]:
    """The active criteria of column ``col`` of ``m`` in CIM terms."""
    assert island.problem is not None
    out = []
    for r, crit in enumerate(island.problem.criteria.active):
        margin = _num(m.margin[r, col])
        el = _element(island, crit, int(m.element[r, col])) if margin is not None else None
        out.append(CriterionState(crit, _num(m.value[r, col]), _num(m.limit[r, col]), margin, UNITS[crit], el))
    return tuple(out)


def capacity_from_search(island: IslandStudy, res: SearchResult, cfg: HostingConfig) -> list[Capacity]:
    """One :class:`Capacity` per searched bus: the capacity, the binding criterion and element, the margins."""
    rows = binding_rows(res)
    active = island.problem.criteria.active if island.problem is not None else ()
    out = []
    for col in range(res.bus.size):
        states = criterion_states(island, res.at_lo, col)
        outcome = int(res.outcome[col])
        n = int(res.n_solves[col])
        lo = float(res.lo_kw[col])
        hi = _num(res.hi_kw[col])
        row = int(rows[col])
        if outcome == Outcome.AT_SLACK:
            out.append(
                Capacity(
                    cfg.max_kw,
                    Binding.MAX_KW,
                    None,
                    f"the source bus: the external grid takes any power up to max-kw {cfg.max_kw:g} kW",
                    states,
                    None,
                    n,
                )
            )
            continue
        if outcome == Outcome.MAX_FEASIBLE:
            out.append(
                Capacity(
                    cfg.max_kw,
                    Binding.MAX_KW,
                    None,
                    f"every criterion holds up to max-kw {cfg.max_kw:g} kW",
                    states,
                    None,
                    n,
                )
            )
            continue
        if row < 0:
            out.append(
                Capacity(
                    lo,
                    Binding.CONVERGENCE,
                    None,
                    f"the power flow has no solution above {lo:.1f} kW (voltage collapse)",
                    states,
                    hi,
                    n,
                )
            )
            continue
        crit = active[row]
        source = res.at_lo if outcome == Outcome.BASE_VIOLATION else res.at_hi
        el = _element(island, crit, int(source.element[row, col]))
        value, limit = float(source.value[row, col]), float(source.limit[row, col])
        where = el.label if el is not None else "?"
        if outcome == Outcome.BASE_VIOLATION:
            reason = (
                f"the base case already breaks the {crit} criterion at {where}: "
                f"{value:.4g} {UNITS[crit]} against {limit:.4g} {UNITS[crit]}"
            )
            out.append(Capacity(0.0, Binding(crit.value), el, reason, states, 0.0, n))
            continue
        # at hi the quantity sits a tolerance step past the limit: the limit says more than the value there
        reason = f"{crit} reaches its limit of {limit:.5g} {UNITS[crit]} at {where} between {lo:.1f} and {hi:.1f} kW"
        out.append(Capacity(lo, Binding(crit.value), el, reason, states, hi, n))
    return out


__all__ = ["CRITERIA", "IslandStudy", "build_islands", "capacity_from_search", "criterion_states", "scaled_case"]
