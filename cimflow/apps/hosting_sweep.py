"""Batched forward-backward sweeps: many single-bus scenarios of one island solved in one call per sweep.

One island's admittance matrix is factorised once (leaves-first order without fill-in when radial, as
:class:`cimflow.powerflow.fbs.FbsSolver` does; COLAMD when meshed). A batch of ``k`` scenarios, each
adding power at one bus, is one ``(n, k)`` right-hand side: every sweep of the fixed point
``V = Y_nn⁻¹·(I_load(V) - Y_ns·V_s)`` solves all of them in one call of the triangular solves. Each
scenario starts where the caller says (the search: on the secant through its bus's last two
solutions, so a few sweeps suffice). A scenario whose voltages leave ``[0.2, 3]`` pu or the finite
numbers stops early as not converged: the power flow has no solution there, which the search
(:mod:`cimflow.apps.hosting_search`) treats as infeasible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from cimflow.apps.hosting_criteria import CriteriaArrays
from cimflow.powerflow.arrays import PerUnitCase, build_admittance, find_islands
from cimflow.powerflow.fbs import sweep_order

ComplexArray = NDArray[np.complex128]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

V_DIVERGED_LOW_PU = 0.2
V_DIVERGED_HIGH_PU = 3.0
# complex entries of one (n, k) batch of scenarios: 1 MB. Larger temporaries are mapped and unmapped by
# malloc at every operation; the page faults made 2 MB batches twice as slow (measured, 1,000 buses)
CELLS_PER_BATCH = 1 << 16
MAX_BATCH = 32  # buses per batch: a guided pair makes it up to 64 scenarios
START_KW = 1.0  # the probe: the first power each bus tries


class Outcome:
    """Per-bus end state of a search (small integer codes, so chunks travel between processes cheaply)."""

    SEARCHED = 0  # bisection ran: capacity in [lo, hi)
    BASE_VIOLATION = 1  # a criterion fails already without added power
    AT_SLACK = 2  # the bus holds the source: the external grid takes any power
    MAX_FEASIBLE = 3  # every criterion holds at max_kw


@dataclass(frozen=True, slots=True, eq=False)
class IslandProblem:
    """Everything the search of one energised island needs; picklable (workers refactorise).

    Attributes:
        case: The island's base case (loads at the study's level), island-local numbering.
        criteria: The island's criteria arrays.
        v_base_pu: ``(n_bus,)`` solved voltages of the base case.
        power_pu_per_kw: Complex power 1 kW of the added unit puts at its bus (load sign convention).
        max_kw: End of the search range.
        tolerance_kw: Bisection stops at this width.
        solver_tolerance_pu: Sweep convergence tolerance.
        max_iter: Most sweeps per scenario.
    """

    case: PerUnitCase
    criteria: CriteriaArrays
    v_base_pu: ComplexArray
    power_pu_per_kw: complex
    max_kw: float
    tolerance_kw: float
    solver_tolerance_pu: float
    max_iter: int

    @property
    def start_kw(self) -> float:
        """First power tried (the probe): 1 kW, or the tolerance if larger, at most ``max_kw``."""
        return min(self.max_kw, max(START_KW, self.tolerance_kw))


class IslandSweep:
    """An island's factorised non-slack admittance matrix, solving many single-bus scenarios per call.

    Args:
        case: The island's base case.
    """

    __slots__ = ("_lu", "_rhs", "_s_current", "_s_power", "case", "order", "position")

    def __init__(self, case: PerUnitCase) -> None:
        """Order the buses and factorise once (``singular`` tells whether that failed)."""
        islands = find_islands(case)
        if islands.radial:
            order = sweep_order(case)
        else:
            non_slack = islands.energised.copy()
            non_slack[case.slack_bus] = False
            order = np.flatnonzero(non_slack).astype(np.int64)
        self.case = case
        self.order = order
        self.position = np.full(case.n_bus, -1, dtype=np.int64)
        self.position[order] = np.arange(order.size)
        rows = build_admittance(case)[order]
        self._rhs = np.asarray(-(rows[:, case.slack_bus] @ case.slack_v_pu), dtype=np.complex128)
        self._s_power = case.s_const_power_pu[order].conj()
        s_current = case.s_const_current_pu[order].conj()
        self._s_current = s_current if np.any(s_current) else None
        self._lu: spla.SuperLU | None = None
        if order.size:
            spec = {"permc_spec": "NATURAL", "diag_pivot_thresh": 0.0} if islands.radial else {"permc_spec": "COLAMD"}
            try:
                self._lu = spla.splu(rows[:, order].tocsc(), **spec)
            except RuntimeError:  # exactly singular: the data's fault, reported as no convergence
                self._lu = None

    @property
    def singular(self) -> bool:
        """True when the matrix could not be factorised."""
        return self._lu is None and self.order.size > 0

    def solve(
        self, v0: ComplexArray, position: IntArray, s_added_pu: ComplexArray, *, tolerance: float, max_iter: int
    ) -> tuple[ComplexArray, BoolArray]:
        """Sweep ``k`` scenarios to convergence, each adding ``s_added_pu[j]`` at order position ``position[j]``.

        Args:
            v0: ``(n_order, k)`` start voltages of the non-slack buses.
            position: ``(k,)`` position in :attr:`order` of each scenario's bus.
            s_added_pu: ``(k,)`` added constant power (load sign convention).
            tolerance: Largest voltage change between sweeps taken as converged.
            max_iter: Most sweeps.

        Returns:
            The ``(n_order, k)`` voltages and which scenarios converged (the others keep ``v0``).
        """
        k = v0.shape[1]
        out = v0.copy()
        ok = np.zeros(k, dtype=bool)
        lu = self._lu
        if lu is None or k == 0:
            return out, ok | (self.order.size == 0)
        live = np.arange(k)
        v = v0.copy()
        s_add = s_added_pu.conj()
        pos = position.copy()
        with np.errstate(all="ignore"):
            for _ in range(max_iter):
                w = np.reciprocal(v).conj()  # conj(1/V): I = -conj(S/V) = -conj(S)·conj(1/V)
                i_load = w * (-self._s_power)[:, None]
                if self._s_current is not None:
                    i_load -= self._s_current[:, None] * np.abs(v) * w
                cols = np.arange(live.size)
                i_load[pos, cols] -= s_add * w[pos, cols]
                i_load += self._rhs[:, None]
                v_new = lu.solve(i_load)
                step = np.abs(v_new - v).max(axis=0)
                v = v_new
                v_abs = np.abs(v)
                bad = (
                    ~np.isfinite(step)
                    | (v_abs.max(axis=0) > V_DIVERGED_HIGH_PU)
                    | (v_abs.min(axis=0) < V_DIVERGED_LOW_PU)
                )
                done = (step < tolerance) & ~bad
                finished = done | bad
                if finished.any():
                    out[:, live[done]] = v[:, done]
                    ok[live[done]] = True
                    keep = ~finished
                    live, v, pos, s_add = live[keep], v[:, keep], pos[keep], s_add[keep]
                    if not live.size:
                        break
        return out, ok

    def full(self, v_order: ComplexArray) -> ComplexArray:
        """``(n_bus, k)`` island voltages from the non-slack solution (slacks at their set point)."""
        k = v_order.shape[1]
        v = np.zeros((self.case.n_bus, k), dtype=np.complex128)
        v[self.order] = v_order
        v[self.case.slack_bus] = self.case.slack_v_pu[:, None]
        return v


def columns_per_batch(n_bus: int) -> int:
    """How many buses one batch searches in an island of ``n_bus`` buses (two scenarios each at most)."""
    return int(max(1, min(MAX_BATCH, CELLS_PER_BATCH // (2 * max(n_bus, 1)))))
