"""Entry point of the power flow: pick the solver for a case, and split a case into its islands."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from cimflow.errors import ConfigError
from cimflow.powerflow.arrays import IntArray, PerUnitCase, find_islands, frozen_array
from cimflow.powerflow.fbs import FbsSolver
from cimflow.powerflow.nr import solve_nr
from cimflow.powerflow.result import PowerFlowResult


class Solver(StrEnum):
    """Power-flow method requested from :func:`solve_case`."""

    AUTO = "auto"  # FBS when every energised island is radial with one slack and no PV bus, else (or if FBS fails) NR
    FBS = "fbs"
    NR = "nr"


def solve_case(
    case: PerUnitCase, *, solver: Solver | str = Solver.AUTO, tolerance: float = 1e-8, max_iter: int = 100
) -> PowerFlowResult:
    """Solve a per-unit case.

    All islands are solved in one call, as one block-diagonal system: an island with a slack is
    energised, one without is not (its voltages are 0 and ``energised`` is False). ``auto`` takes the
    forward-backward sweep when every energised island is a tree (parallel branches merged) with
    exactly one slack, and Newton-Raphson otherwise or when the sweeps do not converge within
    ``max_iter`` (heavily loaded feeders near voltage collapse); ``result.solver`` tells which
    produced the voltages. ``fbs`` forced on a meshed grid runs the same
    fixed-point iteration on a factorisation with fill-in (the implicit Z-bus Gauss method).

    The sweep cannot hold a bus voltage: when an energised island has a PV bus (a voltage-regulating
    generator), ``auto`` and ``fbs`` both take Newton-Raphson (``result.solver`` is then "nr"; the
    caller reports that ``fbs`` was overridden).

    Args:
        case: The case.
        solver: ``auto``, ``fbs`` or ``nr``.
        tolerance: Convergence tolerance in pu: largest voltage change between sweeps (FBS) or
            largest real or imaginary power mismatch (NR).
        max_iter: Most sweeps or Newton steps.

    Returns:
        The result; ``converged=False`` when the solver gave up (bad data never raises).

    Raises:
        ConfigError: If ``solver``, ``tolerance`` or ``max_iter`` is not valid.
    """
    try:
        method = Solver(solver)
    except ValueError as err:
        raise ConfigError(f"solve_case: solver={solver!r}, must be one of {[s.value for s in Solver]}") from err
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ConfigError(f"solve_case: tolerance={tolerance}, must be finite and > 0")
    if max_iter < 1:
        raise ConfigError(f"solve_case: max_iter={max_iter}, must be >= 1")
    islands = find_islands(case)
    holds_voltage = bool(islands.energised[case.pv_bus].any())
    if not holds_voltage and (method is Solver.FBS or (method is Solver.AUTO and islands.radial)):
        result = FbsSolver(case, islands=islands).solve(tolerance=tolerance, max_iter=max_iter)
        if result.converged or method is Solver.FBS:
            return result
        # near the nose of the PV curve the sweeps crawl (linear convergence) where Newton still converges
    return solve_nr(case, tolerance=tolerance, max_iter=max_iter, islands=islands)


@dataclass(frozen=True, slots=True, eq=False)
class CaseIsland:
    """One island of a case, renumbered as a case of its own.

    Attributes:
        bus_index: ``(n_bus_island,)`` indices of the island's buses in the parent case, ascending;
            bus ``k`` of ``case`` is bus ``bus_index[k]`` of the parent.
        branch_index: Indices of the branches with both ends in the island.
        slack_index: Indices into the parent's ``slack_bus`` of the island's slacks (empty: the
            island is not energised).
        case: The island as a :class:`PerUnitCase`.
    """

    bus_index: IntArray
    branch_index: IntArray
    slack_index: IntArray
    case: PerUnitCase


def split_islands(case: PerUnitCase) -> tuple[CaseIsland, ...]:
    """Split ``case`` into one case per island, in O(n) overall.

    :func:`solve_case` does not need this (it solves all islands at once); it serves callers that
    want per-island solves, reports or parallel work. Branches with ``y_series_pu == 0`` whose ends
    lie in different islands belong to no island and are dropped.
    """
    islands = find_islands(case)
    labels = islands.island_of_bus
    n_islands = islands.n_islands
    local = np.empty(case.n_bus, dtype=np.int64)
    bus_groups = _group(labels, n_islands)
    for buses in bus_groups:
        local[buses] = np.arange(buses.size)
    same = labels[case.branch_from] == labels[case.branch_to]
    branch_label = np.where(same, labels[case.branch_from], n_islands)
    branch_groups = _group(branch_label, n_islands + 1)[:n_islands]
    slack_groups = _group(labels[case.slack_bus], n_islands)
    pv_groups = _group(labels[case.pv_bus], n_islands)
    out = []
    for buses, branches, slacks, pvs in zip(bus_groups, branch_groups, slack_groups, pv_groups, strict=True):
        sub = PerUnitCase(
            s_base_mva=case.s_base_mva,
            v_base_kv=case.v_base_kv[buses],
            branch_from=local[case.branch_from[branches]],
            branch_to=local[case.branch_to[branches]],
            y_series_pu=case.y_series_pu[branches],
            y_shunt_from_pu=case.y_shunt_from_pu[branches],
            y_shunt_to_pu=case.y_shunt_to_pu[branches],
            tap_ratio=case.tap_ratio[branches],
            bus_shunt_pu=case.bus_shunt_pu[buses],
            s_const_power_pu=case.s_const_power_pu[buses],
            s_const_current_pu=case.s_const_current_pu[buses],
            s_const_impedance_pu=case.s_const_impedance_pu[buses],
            slack_bus=local[case.slack_bus[slacks]],
            slack_v_pu=case.slack_v_pu[slacks],
            pv_bus=local[case.pv_bus[pvs]],
            pv_regulated_bus=local[case.pv_regulated_bus[pvs]],
            pv_v_pu=case.pv_v_pu[pvs],
            pv_q_pu=case.pv_q_pu[pvs],
            pv_q_min_pu=case.pv_q_min_pu[pvs],
            pv_q_max_pu=case.pv_q_max_pu[pvs],
        )
        out.append(
            CaseIsland(
                bus_index=frozen_array(buses, np.int64),
                branch_index=frozen_array(branches, np.int64),
                slack_index=frozen_array(slacks, np.int64),
                case=sub,
            )
        )
    return tuple(out)


def _group(labels: IntArray, n_groups: int) -> list[IntArray]:
    """Return, for each label ``0 .. n_groups-1``, the ascending positions that carry it."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_groups + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(n_groups)]
