"""The vectorised capacity search of one island: every open bus is a column of each batch of scenarios.

Per bus the search keeps a feasible power ``lo`` (every criterion holds) and, once found, an
infeasible one ``hi``, and ends when ``hi - lo <= tolerance``. Each step tries, for all open buses
at once:

1. a probe at ``start_kw`` (1 kW);
2. a *guided bracket*, at most ``GUIDED_STEPS`` times per bus: an estimate of the power where the
   first criterion breaks, and a pair of scenarios around it in the same batch. Without ``hi`` the
   estimate extrapolates every element's margin linearly from the base case through ``lo``
   (:func:`~cimflow.apps.hosting_margins.linear_estimate`) and the pair sits at ``estimate x (1 -/+
   4 %)``; with ``hi`` it interpolates the worst margins of ``lo`` and ``hi`` (regula falsi) and
   the pair sits 5 % of the bracket either side. Margins are nearly linear in the added power, so
   a pair usually brackets the capacity closely at once;
3. otherwise growth by ``GROWTH`` (no ``hi`` yet) or bisection of ``[lo, hi]``.

The guided steps only place brackets and every bracket is kept by the same rule (``lo`` feasible,
``hi`` not), so the search ends as a bisection does, needs ``O(log2(max_kw / tolerance_kw))``
scenarios per bus at worst, and about 8 for a typical bus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cimflow.apps.hosting_margins import Margins, columns, element_margins, linear_estimate, worst
from cimflow.apps.hosting_sweep import IslandProblem, IslandSweep, Outcome, columns_per_batch

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

GUIDED_STEPS = 4
GUIDED_HALF_WIDTH = 0.04  # without hi, the pair sits at estimate x (1 -/+ this)
NARROW_SHARE = 0.05  # with hi, the pair sits this share of the bracket either side of the estimate
GROWTH = 4.0  # growth of the power while no element's margin falls


@dataclass(frozen=True, slots=True, eq=False)
class SearchResult:
    """The search of ``k`` island buses.

    Attributes:
        bus: ``(k,)`` island bus of each column.
        outcome: ``(k,)`` :class:`Outcome` code.
        lo_kw: ``(k,)`` largest power found feasible (the capacity).
        hi_kw: ``(k,)`` smallest power found infeasible (``nan`` when none was).
        hi_converged: ``(k,)`` whether the scenario at ``hi_kw`` converged.
        at_lo: Margins at ``lo_kw`` (the base case when 0).
        at_hi: Margins at ``hi_kw`` (``nan`` margins where it did not converge or was not tried).
        n_solves: ``(k,)`` scenarios solved for each bus.
    """

    bus: IntArray
    outcome: IntArray
    lo_kw: FloatArray
    hi_kw: FloatArray
    hi_converged: BoolArray
    at_lo: Margins
    at_hi: Margins
    n_solves: IntArray


def _empty_margins(n_c: int, k: int) -> Margins:
    return Margins(
        margin=np.full((n_c, k), np.nan),
        value=np.full((n_c, k), np.nan),
        limit=np.full((n_c, k), np.nan),
        element=np.full((n_c, k), -1, dtype=np.int64),
    )


def _store(target: Margins, cols: IntArray, source: Margins, pick: BoolArray) -> None:
    """Copy the columns ``pick`` of ``source`` into columns ``cols[pick]`` of ``target`` (arrays we own)."""
    for name in ("margin", "value", "limit", "element"):
        getattr(target, name)[:, cols[pick]] = getattr(source, name)[:, pick]


def _crossing(p0: FloatArray, m0: FloatArray, p1: FloatArray, m1: FloatArray) -> FloatArray:
    """Power where the first criterion's margin, linear through ``(p0, m0)`` and ``(p1, m1)``, reaches 0.

    ``m0`` and ``m1`` are ``(n_criteria, k)``; criteria whose margin does not fall give ``inf``; the
    result is ``nan`` where no criterion falls or a margin is not finite.
    """
    with np.errstate(all="ignore"):
        falling = m1 < m0
        p = np.where(falling, p1 + m1 * (p1 - p0) / (m0 - m1), np.inf)
        p = np.where(np.isfinite(m0) | ~falling, p, np.nan)
        first = np.min(p, axis=0) if p.shape[0] else np.full(p0.shape, np.inf)
    return np.where(np.isfinite(first), first, np.nan)


class _Search:
    """State of one batch of buses; the arrays are this object's own (the results copy them out)."""

    def __init__(self, problem: IslandProblem, sweep: IslandSweep, buses: IntArray) -> None:
        self.problem, self.sweep, self.buses = problem, sweep, buses
        k = buses.size
        v_base = problem.v_base_pu
        self.base_elements = element_margins(
            problem.criteria, np.broadcast_to(v_base[:, None], (v_base.size, k)), buses
        )
        base = worst(problem.criteria, self.base_elements, k)
        self.estimate = np.full(k, np.nan)  # per-element linear estimate through the last feasible power
        self.at_lo = Margins(base.margin.copy(), base.value.copy(), base.limit.copy(), base.element.copy())
        self.at_hi = _empty_margins(len(problem.criteria.active), k)
        self.lo, self.hi = np.zeros(k), np.full(k, np.nan)
        self.hi_ok = np.zeros(k, dtype=bool)
        self.n_solves = np.zeros(k, dtype=np.int64)
        self.guided_left = np.full(k, GUIDED_STEPS, dtype=np.int64)
        self.position = sweep.position[buses]
        self.outcome = np.full(k, Outcome.SEARCHED, dtype=np.int64)
        self.outcome[~(base.margin >= 0).all(axis=0)] = Outcome.BASE_VIOLATION
        self.outcome[(self.position < 0) & (self.outcome == Outcome.SEARCHED)] = Outcome.AT_SLACK
        self.lo[self.outcome == Outcome.AT_SLACK] = problem.max_kw
        # the last two solutions of each bus: a secant through them starts the next scenario near its answer
        self.v_a = np.repeat(v_base[sweep.order][:, None], k, axis=1)
        self.v_b = self.v_a.copy()
        self.p_a, self.p_b = np.zeros(k), np.full(k, np.nan)

    def trial(self, cols: IntArray, p_kw: FloatArray) -> tuple[BoolArray, BoolArray, Margins]:
        """Solve one scenario per entry of ``cols`` (a bus may appear twice) and judge it."""
        pr = self.problem
        with np.errstate(all="ignore"):
            slope = (p_kw - self.p_a[cols]) / (self.p_a[cols] - self.p_b[cols])
        slope = np.where(np.isfinite(slope), slope, 0.0)
        va = self.v_a[:, cols]
        v0 = va + slope[None, :] * (va - self.v_b[:, cols])
        s_added = np.asarray(pr.power_pu_per_kw * p_kw, dtype=np.complex128)
        v_o, ok = self.sweep.solve(
            v0, self.position[cols], s_added, tolerance=pr.solver_tolerance_pu, max_iter=pr.max_iter
        )
        np.add.at(self.n_solves, cols, 1)
        good = cols[ok]
        self.v_b[:, good] = va[:, ok]
        self.p_b[good] = self.p_a[good]
        self.v_a[:, good] = v_o[:, ok]
        self.p_a[good] = p_kw[ok]
        per_element = element_margins(pr.criteria, self.sweep.full(v_o), self.buses[cols])
        m = worst(pr.criteria, per_element, cols.size)
        m.margin[:, ~ok] = np.nan  # no solution: no margin to speak of
        feasible = ok & (m.margin >= 0).all(axis=0)
        growing = feasible & np.isnan(self.hi[cols])  # the estimate serves until a power breaks a criterion
        if growing.any():
            at_base = columns(self.base_elements, cols[growing])
            estimate = linear_estimate(at_base, columns(per_element, np.flatnonzero(growing)), p_kw[growing])
            self.estimate[cols[growing]] = estimate  # the last of a pair wins: it is the farther point
        return feasible, ok, m

    def apply(self, cols: IntArray, p: FloatArray, feasible: BoolArray, ok: BoolArray, m: Margins) -> None:
        """Move ``lo`` up to the feasible powers and ``hi`` down to the infeasible ones."""
        feasible = feasible & ~(p >= self.hi[cols])  # above a known infeasible power: not monotone, ignored
        up = cols[feasible]
        self.lo[up] = p[feasible]
        _store(self.at_lo, cols, m, feasible)
        self.outcome[up[p[feasible] >= self.problem.max_kw]] = Outcome.MAX_FEASIBLE
        down = ~feasible & ~(p >= self.hi[cols])  # a lower infeasible power replaces hi (nan compares False)
        self.hi[cols[down]] = p[down]
        self.hi_ok[cols[down]] = ok[down]
        _store(self.at_hi, cols, m, down)

    def next_powers(self, cols: IntArray) -> tuple[FloatArray, FloatArray]:
        """The power to try per open bus, and a second one (``nan`` if none) for a guided pair."""
        pr = self.problem
        lo, hi = self.lo[cols], self.hi[cols]
        open_top = np.isnan(hi)
        single = np.where(open_top, np.where(lo > 0, np.minimum(GROWTH * lo, pr.max_kw), pr.start_kw), 0.5 * (lo + hi))
        interpolated = _crossing(lo, self.at_lo.margin[:, cols], hi, self.at_hi.margin[:, cols])
        estimate = np.where(open_top, np.where(lo > 0, self.estimate[cols], np.nan), interpolated)
        half = np.where(open_top, GUIDED_HALF_WIDTH * estimate, NARROW_SHARE * (hi - lo))
        top = np.where(open_top, pr.max_kw, hi)
        lower = np.maximum(estimate - half, lo + 0.25 * pr.tolerance_kw)
        upper = np.minimum(estimate + half, top - 0.25 * pr.tolerance_kw)
        with np.errstate(invalid="ignore"):
            wide = open_top | (hi - lo > 4 * pr.tolerance_kw)
            guided = (self.guided_left[cols] > 0) & np.isfinite(estimate) & wide & (upper > lower)
        self.guided_left[cols[guided]] -= 1
        return np.where(guided, lower, single), np.where(guided, upper, np.nan)

    def step(self) -> int:
        """Try the next powers of every open bus; return how many scenarios were solved (0: done)."""
        tol = self.problem.tolerance_kw
        with np.errstate(invalid="ignore"):
            open_ = (self.outcome == Outcome.SEARCHED) & (np.isnan(self.hi) | (self.hi - self.lo > tol))
        cols = np.flatnonzero(open_)
        if not cols.size:
            return 0
        first, second = self.next_powers(cols)
        pair = ~np.isnan(second)
        all_cols = np.concatenate([cols, cols[pair]])
        feasible, ok, m = self.trial(all_cols, np.concatenate([first, second[pair]]))
        n = cols.size
        self.apply(cols, first, feasible[:n], ok[:n], _columns(m, slice(0, n)))
        # the upper of a pair counts only above a feasible lower (margins grow monotone in practice,
        # this keeps lo < hi even where they do not)
        upper_ok = feasible[:n][pair]
        rest = _columns(m, slice(n, None))
        self.apply(cols[pair][upper_ok], second[pair][upper_ok], feasible[n:][upper_ok], ok[n:][upper_ok],
                   _columns(rest, upper_ok))  # fmt: skip
        return int(all_cols.size)

    def result(self) -> SearchResult:
        """The searched buses' results."""
        return SearchResult(
            self.buses, self.outcome, self.lo, self.hi, self.hi_ok, self.at_lo, self.at_hi, self.n_solves
        )


def _columns(m: Margins, pick: slice | BoolArray) -> Margins:
    return Margins(m.margin[:, pick], m.value[:, pick], m.limit[:, pick], m.element[:, pick])


def search_buses(
    problem: IslandProblem,
    buses: IntArray,
    *,
    sweep: IslandSweep | None = None,
) -> SearchResult:
    """Search the hosting capacity of ``buses`` (island-local) all at once (see the module docstring).

    Args:
        problem: The island.
        buses: Island buses to search; every one is a column of each batch.
        sweep: The island's factorisation, if already made.

    Returns:
        The per-bus result arrays.
    """
    search = _Search(problem, sweep if sweep is not None else IslandSweep(problem.case), buses)
    while search.step():
        pass
    return search.result()


def binding_rows(result: SearchResult) -> IntArray:
    """Row (criterion) of each bus that breaks first between ``lo`` and ``hi``; ``-1`` when none (convergence).

    Where several criteria fail at ``hi``, the one whose margin, interpolated linearly between ``lo``
    and ``hi``, reaches zero first binds: a unit-free comparison of pu, % and MW margins. For a bus
    whose base case fails, the first failing criterion in report order is named.
    """
    m_lo, m_hi = result.at_lo.margin, result.at_hi.margin
    k = m_lo.shape[1]
    if m_lo.shape[0] == 0:
        return np.full(k, -1, dtype=np.int64)
    with np.errstate(all="ignore"):
        broken = m_hi < 0
        t = np.where(broken, m_lo / (m_lo - m_hi), np.inf)
    first = np.argmin(t, axis=0)
    row = np.where(broken.any(axis=0), first, -1)
    base_row = np.argmax(m_lo < 0, axis=0)
    return np.where(result.outcome == Outcome.BASE_VIOLATION, base_row, row).astype(np.int64)


def concat_results(parts: list[SearchResult]) -> SearchResult:
    """Join the results of several searches of one island, column after column."""

    def cat(arrays: list[np.ndarray], axis: int = 0) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    def margins(ms: list[Margins]) -> Margins:
        return Margins(
            cat([m.margin for m in ms], 1),
            cat([m.value for m in ms], 1),
            cat([m.limit for m in ms], 1),
            cat([m.element for m in ms], 1),
        )

    return SearchResult(
        bus=cat([p.bus for p in parts]),
        outcome=cat([p.outcome for p in parts]),
        lo_kw=cat([p.lo_kw for p in parts]),
        hi_kw=cat([p.hi_kw for p in parts]),
        hi_converged=cat([p.hi_converged for p in parts]),
        at_lo=margins([p.at_lo for p in parts]),
        at_hi=margins([p.at_hi for p in parts]),
        n_solves=cat([p.n_solves for p in parts]),
    )


def search_part(problem: IslandProblem, buses: IntArray, on_step: Callable[[int], None] | None = None) -> SearchResult:
    """Search any number of island buses, batch after batch, on one factorisation (a worker's task).

    ``on_step`` is called with the number of buses of each finished batch (progress).
    """
    sweep = IslandSweep(problem.case)
    width = columns_per_batch(problem.case.n_bus)
    parts = []
    for start in range(0, buses.size, width):
        parts.append(search_buses(problem, buses[start : start + width], sweep=sweep))
        if on_step is not None:
            on_step(parts[-1].bus.size)
    if not parts:
        return search_buses(problem, buses, sweep=sweep)
    return parts[0] if len(parts) == 1 else concat_results(parts)
