"""Hosting capacity with Volt-VAR control on: a bisection per bus around :func:`cimflow.apps.volt_var.solve_controlled`.

Every inverter of the file follows the mode, and so does the added PV unit (an
:meth:`~cimflow.apps.volt_var.Inverter.added` rated ``P / cos φ_limit``, the plant-class power factor
of VDE-AR-N 4105: it can give its full reactive range at full output); its ``--pf`` is then replaced
by the curve. Added EV and load units draw at their power factor; the control acts through the file's
inverters. The voltage rise is measured against the controlled base case.

A controlled scenario is a fixed-point loop of power flows, so these searches are not batched: each
trial is one :func:`solve_controlled` call on the study's single factorisation. The search starts at
the bus's capacity without control and doubles (or bisects) from there, which saves most of the
steps; ``workers`` spreads the buses over processes.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cimflow.apps.hosting_criteria import CriteriaArrays
from cimflow.apps.hosting_margins import Margins, evaluate
from cimflow.apps.hosting_problem import capacity_from_search, criterion_states
from cimflow.apps.hosting_results import Capacity, CriterionState
from cimflow.apps.hosting_search import SearchResult
from cimflow.apps.hosting_sweep import START_KW, Outcome
from cimflow.apps.volt_var import ControlConfig, ControlMode, Inverter, inverters_of, solve_controlled
from cimflow.errors import ConfigError
from cimflow.powerflow.arrays import PerUnitCase, find_islands
from cimflow.powerflow.fbs import FbsSolver

if TYPE_CHECKING:
    from cimflow.apps.hosting import ControlSpec, HostingStudy

ADDED_MRID = "hosting-capacity-unit"


@dataclass(frozen=True, slots=True, eq=False)
class ControlProblem:
    """What a controlled search needs, without the CIM model (picklable for workers).

    Attributes:
        case: The study's base case (all islands).
        inverters: The file's inverters.
        mode: The control mode.
        config: The control configuration.
        generation: True when the added unit is PV (an inverter under control).
        power_pu_per_kw: The added unit's complex power per kW (used for EV and load).
        max_kw: End of the search range.
        tolerance_kw: Bisection width.
        radial: Whether one FBS factorisation serves every scenario.
    """

    case: PerUnitCase
    inverters: tuple[Inverter, ...]
    mode: ControlMode
    config: ControlConfig
    generation: bool
    power_pu_per_kw: complex
    max_kw: float
    tolerance_kw: float
    radial: bool

    def scenario(self, bus: int, p_kw: float, fbs: FbsSolver | None) -> tuple[np.ndarray, bool, bool]:
        """Solve ``p_kw`` added at case bus ``bus`` under control: voltages, flow converged, control settled."""
        delta = np.zeros(self.case.n_bus, dtype=np.complex128)
        invs = self.inverters
        if p_kw > 0 and self.generation:
            p_mw = -p_kw * 1e-3
            delta[bus] = p_mw / self.case.s_base_mva
            lim = self.config.limits
            s_rated = abs(p_mw) / lim.cos_phi_limit_large
            if s_rated * 1e3 <= lim.small_plant_max_kva:
                s_rated = abs(p_mw) / lim.cos_phi_limit_small
            invs = (*invs, Inverter.added(ADDED_MRID, bus, p_mw, s_rated, limits=lim))
        elif p_kw > 0:
            delta[bus] = self.power_pu_per_kw * p_kw
        case = self.case.with_extra_power(delta) if p_kw > 0 else self.case
        res = solve_controlled(case, invs, self.mode, self.config, factorised=fbs)
        return np.asarray(res.result.v_phasor_pu), bool(res.result.converged), bool(res.converged)


def _problem(study: HostingStudy, control: ControlSpec) -> ControlProblem:
    config = control.config if isinstance(control.config, ControlConfig) else ControlConfig()
    try:
        mode = ControlMode(control.mode)
    except ValueError as err:
        raise ConfigError(f"control mode {control.mode!r} is not one of {[m.value for m in ControlMode]}") from err
    invs = inverters_of(study.network, study.build, config=config).value or ()
    cfg = study.config
    return ControlProblem(
        study.base_case,
        tuple(invs),
        mode,
        config,
        cfg.kind.generation,
        cfg.power_pu_per_kw(study.base_case.s_base_mva),
        cfg.max_kw,
        cfg.tolerance_kw,
        find_islands(study.base_case).radial,
    )


def _search_one(
    problem: ControlProblem,
    fbs: FbsSolver | None,
    criteria: CriteriaArrays,
    island_buses: np.ndarray,
    bus: int,
    start_kw: float,
) -> SearchResult:
    """Bracket from ``start_kw`` (doubling up or bisecting down) and bisect to the tolerance.

    Args:
        problem: The controlled study.
        fbs: The factorisation of the base case (radial), else ``None``.
        criteria: The criteria of the bus's island, the rise measured against the controlled base.
        island_buses: Case buses of that island (island-local numbering of ``criteria``).
        bus: Case bus of the added unit.
        start_kw: First power tried (the capacity without control), 0 to start at the bottom.
    """
    local = int(np.searchsorted(island_buses, bus))
    column = np.array([local], dtype=np.int64)
    n_solves = 0

    def trial(p_kw: float) -> tuple[bool, bool, Margins]:
        nonlocal n_solves
        n_solves += 1
        v, ok, _settled = problem.scenario(bus, p_kw, fbs)
        m = evaluate(criteria, v[island_buses][:, None], column)
        if not ok:
            m.margin[:] = np.nan
        return ok and bool((m.margin >= 0).all()), ok, m

    feasible, _, at_lo = trial(0.0)
    lo, hi, hi_ok, at_hi = 0.0, float("nan"), False, _nan_like(at_lo)
    outcome = Outcome.SEARCHED if feasible else Outcome.BASE_VIOLATION
    p = min(start_kw, problem.max_kw) if start_kw > 0 else min(START_KW, problem.max_kw)
    while outcome == Outcome.SEARCHED and (np.isnan(hi) or hi - lo > problem.tolerance_kw):
        ok_p, conv, m = trial(p)
        if ok_p:
            lo, at_lo = p, m
            if p >= problem.max_kw:
                outcome = Outcome.MAX_FEASIBLE
        else:
            hi, hi_ok, at_hi = p, conv, m
        p = min(2.0 * lo, problem.max_kw) if np.isnan(hi) else 0.5 * (lo + hi)
    return SearchResult(
        column,
        np.array([outcome]),
        np.array([lo]),
        np.array([hi]),
        np.array([hi_ok]),
        at_lo,
        at_hi,
        np.array([n_solves]),
    )


def _nan_like(m: Margins) -> Margins:
    return Margins(
        np.full_like(m.margin, np.nan),
        np.full_like(m.value, np.nan),
        np.full_like(m.limit, np.nan),
        np.full_like(m.element, -1),
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Task:
    """Buses for one worker: each with its island's criteria, the island's case buses and the start power."""

    problem: ControlProblem
    items: tuple[tuple[CriteriaArrays, np.ndarray, int, float], ...]


def _run(task: _Task) -> list[SearchResult]:
    """Search the task's buses on one factorisation (runs in a worker process, or here)."""
    p = task.problem
    fbs = FbsSolver(p.case) if p.radial else None
    return [_search_one(p, fbs, crit, idx, bus, start) for crit, idx, bus, start in task.items]


def _controlled_criteria(study: HostingStudy, problem: ControlProblem) -> dict[int, CriteriaArrays]:
    """Each searchable island's criteria with the rise measured against the controlled base case."""
    v, _ok, _settled = problem.scenario(0, 0.0, FbsSolver(problem.case) if problem.radial else None)
    out = {}
    for island in study.islands:
        if island.problem is not None:
            base_abs = np.abs(v[island.bus_index])
            out[island.index] = dataclasses.replace(island.problem.criteria, v_base_abs_pu=base_abs)
    return out


def controlled_capacities(
    study: HostingStudy,
    buses: list[int],
    control: ControlSpec,
    uncontrolled: dict[int, Capacity],
    *,
    workers: int = 1,
) -> dict[int, Capacity]:
    """The capacity of each bus with Volt-VAR control on (buses without capacity are left out).

    Args:
        study: The prepared study.
        buses: Topology bus indices.
        control: Mode and configuration.
        uncontrolled: The capacities without control (the start of each search).
        workers: Processes to search in.

    Returns:
        Capacity by bus index.
    """
    problem = _problem(study, control)
    criteria = _controlled_criteria(study, problem)
    items = []
    for b in buses:
        isl = int(study.island_of_bus[b])
        if isl not in criteria:
            continue
        start = uncontrolled[b].capacity_kw if b in uncontrolled else None
        items.append((criteria[isl], study.islands[isl].bus_index, b, float(start or 0.0)))
    if not items:
        return {}
    n_parts = max(1, min(workers * 4, len(items))) if workers > 1 else 1
    chunks = [tuple(items[k::n_parts]) for k in range(n_parts)]
    if n_parts > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_run, [_Task(problem, c) for c in chunks]))
    else:
        results = [_run(_Task(problem, chunks[0]))]
    out: dict[int, Capacity] = {}
    for chunk, found in zip(chunks, results, strict=True):
        for (_, _, b, _), res in zip(chunk, found, strict=True):
            island = study.islands[int(study.island_of_bus[b])]
            out[b] = capacity_from_search(island, res, study.config)[0]
    return out


def controlled_states(
    study: HostingStudy, bus: int, p_kw: float, control: ControlSpec
) -> tuple[tuple[CriterionState, ...], bool, float | None]:
    """Every criterion with ``p_kw`` added at ``bus`` under control; whether it converged; the bus voltage."""
    problem = _problem(study, control)
    criteria = _controlled_criteria(study, problem)
    island = study.islands[int(study.island_of_bus[bus])]
    if island.index not in criteria:
        return (), False, None
    fbs = FbsSolver(problem.case) if problem.radial else None
    v, ok, _settled = problem.scenario(bus, p_kw, fbs)
    local = int(study.local_of_bus[bus])
    m = evaluate(criteria[island.index], v[island.bus_index][:, None], np.array([local], dtype=np.int64))
    if not ok:
        return (), False, None
    return criterion_states(island, m, 0), True, float(abs(v[bus]))
