"""Hosting-capacity criteria: the study options and the margin of every criterion for a batch of solved scenarios.

Each criterion has a *margin*, positive while it holds, in its own unit, and the element where the
margin is smallest:

=============  ====================================================================  =====  ========
criterion      margin                                                                unit   element
=============  ====================================================================  =====  ========
band           ``min(|V| - v_min, v_max - |V|)`` over the island's buses (EN 50160)  pu     bus
rise           ``limit - (|V| - |V_base|)``: 3 % at LV buses, 2 % at MV buses        pu     bus
               (VDE-AR-N 4105 / 4110; generation only)
lines          ``loading_max - loading`` of lines with a current limit (as CF403)   %      line
transformers   ``loading_max - loading`` of transformers with a rating (as CF404)   %      transformer
reverse        active power from end 1 to end 2 of each transformer that supplies    MW     transformer
               the bus (off by default; as CF405)
=============  ====================================================================  =====  ========

Loadings are computed exactly as :func:`cimflow.powerflow.solution.make_solution` does (line: the
from-side current against its limit; transformer: the larger end's apparent power against ratedS),
so a scenario judged feasible here has no CF402-CF405 finding there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from cimflow.errors import ConfigError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ComplexArray = NDArray[np.complex128]

REVERSE_TOLERANCE_MW = 1e-6  # as rule CF405: less reverse flow than this is numerical noise
_SQRT3 = math.sqrt(3.0)


class HostingKind(StrEnum):
    """What is added at the bus: generation (PV) or consumption (EV charging, any load)."""

    PV = "pv"
    EV = "ev"
    LOAD = "load"

    @property
    def generation(self) -> bool:
        """True for generation (load sign convention: negative power)."""
        return self is HostingKind.PV


class Criterion(StrEnum):
    """A switchable hosting-capacity criterion, in report order."""

    BAND = "band"
    RISE = "rise"
    LINES = "lines"
    TRANSFORMERS = "transformers"
    REVERSE = "reverse"


CRITERIA: tuple[Criterion, ...] = tuple(Criterion)
UNITS: dict[Criterion, str] = {
    Criterion.BAND: "pu",
    Criterion.RISE: "pu",
    Criterion.LINES: "%",
    Criterion.TRANSFORMERS: "%",
    Criterion.REVERSE: "MW",
}
ELEMENT_KINDS: dict[Criterion, str] = {
    Criterion.BAND: "bus",
    Criterion.RISE: "bus",
    Criterion.LINES: "branch",
    Criterion.TRANSFORMERS: "branch",
    Criterion.REVERSE: "branch",
}


class Binding(StrEnum):
    """What limits a bus's capacity: a criterion, or why there is no criterion to name."""

    BAND = "band"
    RISE = "rise"
    LINES = "lines"
    TRANSFORMERS = "transformers"
    REVERSE = "reverse"
    CONVERGENCE = "convergence"  # the power flow has no solution just above the capacity
    MAX_KW = "max-kw"  # every criterion holds up to the end of the search range
    NOT_ENERGISED = "not-energised"  # the bus is in an island without a source
    BASE_CASE = "base-case"  # the base case itself does not converge


PV_LOAD_SCALE = 0.25
PEAK_LOAD_SCALE = 1.0


@dataclass(frozen=True, slots=True)
class HostingConfig:
    """Every option of a hosting-capacity study (a frozen scenario value).

    Attributes:
        kind: What is added: ``pv`` (generation), ``ev`` or ``load`` (consumption).
        pf: Power factor of the added unit in (0, 1]. PV absorbs the reactive power (under-excited,
            as VDE-AR-N 4105 asks of generators that lower their voltage rise); EV and load draw it
            (lagging). Ignored for the inverter that ``--control`` adds: its Q follows the curve.
        criteria: Criteria to check; ``None``: band, rise, lines, transformers for PV and band,
            lines, transformers for EV and load. ``rise`` applies to generation only and is dropped
            for EV and load; ``reverse`` is off unless asked for.
        v_min_pu: Lower end of the voltage band (EN 50160: 0.9).
        v_max_pu: Upper end of the voltage band (EN 50160: 1.1).
        rise_max_pu: Largest voltage rise against the base case at LV buses (VDE-AR-N 4105: 3 %).
        rise_max_mv_pu: Largest rise at MV buses (VDE-AR-N 4110 practice: 2 %).
        lv_max_kv: Buses at or below this nominal voltage are LV for the rise limit.
        loading_max_pct: Highest acceptable line and transformer loading.
        max_kw: End of the search range; a bus where everything holds at this power reports it.
        tolerance_kw: The bisection stops when the feasible and infeasible powers are this close.
        load_scale: Factor on every load of the file for the base case; ``None``: 0.25 for PV (a
            light-load hour at midday, when rooftop PV peaks; 0 is the strictest, the zero-load
            worst case) and 1.0 for EV and load (the file's loads read as the evening peak).
            Generation in the file is kept as it is.
        solver_tolerance_pu: Largest voltage change between sweeps taken as converged.
        max_iter: Most sweeps per scenario before it counts as not converged.
    """

    kind: HostingKind = HostingKind.PV
    pf: float = 1.0
    criteria: frozenset[Criterion] | None = None
    v_min_pu: float = 0.9
    v_max_pu: float = 1.1
    rise_max_pu: float = 0.03
    rise_max_mv_pu: float = 0.02
    lv_max_kv: float = 1.0
    loading_max_pct: float = 100.0
    max_kw: float = 10_000.0
    tolerance_kw: float = 0.1
    load_scale: float | None = None
    solver_tolerance_pu: float = 1e-7
    max_iter: int = 100

    def __post_init__(self) -> None:
        """Normalise the enums and check every value (a bad value is the caller's: ConfigError)."""
        try:
            object.__setattr__(self, "kind", HostingKind(self.kind))
            if self.criteria is not None:
                object.__setattr__(self, "criteria", frozenset(Criterion(c) for c in self.criteria))
        except ValueError as err:
            raise ConfigError(f"hosting: {err}") from err
        checks = (
            ("pf", 0 < self.pf <= 1, "must be in (0, 1]"),
            ("v_min_pu", 0 < self.v_min_pu < self.v_max_pu, f"must be > 0 and below v_max_pu={self.v_max_pu}"),
            ("rise_max_pu", self.rise_max_pu > 0, "must be > 0"),
            ("rise_max_mv_pu", self.rise_max_mv_pu > 0, "must be > 0"),
            ("loading_max_pct", self.loading_max_pct > 0, "must be > 0"),
            ("tolerance_kw", self.tolerance_kw > 0, "must be > 0"),
            ("max_kw", self.max_kw > self.tolerance_kw, f"must be above tolerance_kw={self.tolerance_kw}"),
            ("load_scale", self.load_scale is None or self.load_scale >= 0, "must be >= 0"),
            ("solver_tolerance_pu", self.solver_tolerance_pu > 0, "must be > 0"),
            ("max_iter", self.max_iter >= 1, "must be >= 1"),
        )
        for name, ok, rule in checks:
            value = getattr(self, name)
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                raise ConfigError(f"hosting: {name}={value} {rule}")

    @property
    def active(self) -> tuple[Criterion, ...]:
        """The criteria this study checks, in report order."""
        if self.criteria is None:
            chosen = {Criterion.BAND, Criterion.LINES, Criterion.TRANSFORMERS}
            if self.kind.generation:
                chosen.add(Criterion.RISE)
        else:
            chosen = set(self.criteria)
            if not self.kind.generation:
                chosen.discard(Criterion.RISE)
        return tuple(c for c in CRITERIA if c in chosen)

    @property
    def base_load_scale(self) -> float:
        """The load factor of the base case (see ``load_scale``)."""
        if self.load_scale is not None:
            return float(self.load_scale)
        return PV_LOAD_SCALE if self.kind.generation else PEAK_LOAD_SCALE

    def power_pu_per_kw(self, s_base_mva: float) -> complex:
        """Complex power (load sign convention, per unit) that 1 kW of the added unit puts at its bus."""
        tan_phi = math.sqrt(max(1.0 / self.pf**2 - 1.0, 0.0))
        if self.kind.generation:
            return complex(-1.0, tan_phi) * 1e-3 / s_base_mva  # exports P, absorbs Q
        return complex(1.0, tan_phi) * 1e-3 / s_base_mva


@dataclass(frozen=True, slots=True, eq=False)
class CriteriaArrays:
    """What the margins of one island need, as island-local arrays (picklable, no CIM objects).

    Attributes:
        active: Criteria evaluated, the row order of every margin array.
        v_min_pu: Lower end of the band.
        v_max_pu: Upper end of the band.
        loading_max_pct: Loading limit.
        bus_rows: Island buses the band and rise look at (internal source buses left out).
        rise_limit_pu: ``(len(bus_rows),)`` rise limit of each of them.
        v_base_abs_pu: ``(n_bus,)`` voltage magnitudes of the base case (reference of the rise).
        br: Branches whose current the criteria need (lines and transformers with limits).
        coef: ``(4, len(br))`` ``Y_ff, Y_ft, Y_tf, Y_tt`` of those branches.
        br_from: Their from bus.
        br_to: Their to bus.
        line_sel: Positions in ``br`` of lines with a current limit; ``line_factor`` turns their
            from-side current (pu) into percent of the limit.
        line_factor: See ``line_sel``.
        trafo_sel: Positions in ``br`` of rated transformers (and windings).
        trafo_factor: Per-unit apparent power (or current) to percent of the rating.
        trafo_by_power: True where the rating is ratedS, False where it is a current limit.
        rev_sel: Positions in ``br`` of two-winding transformers (reverse flow).
        rev_child: Island bus on the downstream side of each of them (``-1`` when the island is meshed).
        tin: Pre-order position of each bus on the island's tree (``None`` when meshed).
        tout: End of each bus's subtree in that order.
        s_base_mva: Power base.
    """

    active: tuple[Criterion, ...]
    v_min_pu: float
    v_max_pu: float
    loading_max_pct: float
    bus_rows: IntArray
    rise_limit_pu: FloatArray
    v_base_abs_pu: FloatArray
    br: IntArray
    coef: ComplexArray
    br_from: IntArray
    br_to: IntArray
    line_sel: IntArray
    line_factor: FloatArray
    trafo_sel: IntArray
    trafo_factor: FloatArray
    trafo_by_power: NDArray[np.bool_]
    rev_sel: IntArray
    rev_child: IntArray
    tin: IntArray | None
    tout: IntArray | None
    s_base_mva: float


def branch_coefficients(
    y_series: ComplexArray, y_from: ComplexArray, y_to: ComplexArray, tap: ComplexArray
) -> ComplexArray:
    """``(4, n)`` branch admittances ``Y_ff, Y_ft, Y_tf, Y_tt`` (the model of :mod:`cimflow.powerflow.arrays`)."""
    return np.stack(
        [(y_series + y_from) / (tap * tap.conj()).real, -y_series / tap.conj(), -y_series / tap, y_series + y_to]
    )


def tree_intervals(parent: IntArray, order: IntArray) -> tuple[IntArray, IntArray]:
    """Pre-order position and subtree end of every bus of a tree, in O(N) without recursion.

    Bus ``a`` is on the path from bus ``b`` to the root exactly when ``tin[a] <= tin[b] < tout[a]``.

    Args:
        parent: ``(n,)`` parent of each bus, ``-1`` for the root and for buses off the tree.
        order: Buses in breadth-first order from the root (every bus after its parent).

    Returns:
        ``(tin, tout)``; buses off the tree get an empty interval at ``n``.
    """
    n = parent.size
    par = parent.tolist()
    seq = order.tolist()
    size = [1] * n
    for b in reversed(seq[1:]):
        size[par[b]] += size[b]
    tin = [n] * n
    cursor = [0] * n
    if seq:
        tin[seq[0]] = 0
        cursor[seq[0]] = 1
    for b in seq[1:]:
        p = par[b]
        tin[b] = cursor[p]
        cursor[p] += size[b]
        cursor[b] = tin[b] + 1
    tin_arr = np.array(tin, dtype=np.int64)
    tout_arr = np.where(tin_arr < n, tin_arr + np.array(size, dtype=np.int64), n)
    return tin_arr, tout_arr


def loading_factors(
    i_max_a: FloatArray, s_rated_mva: FloatArray, v_base_from_kv: FloatArray, s_base_mva: float
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Per-unit quantity → percent loading factor of branches, and whether ratedS (not a current) is the basis.

    Like :func:`cimflow.powerflow.solution.make_solution`: ratedS where known, else the current limit
    at the from side (``I_base = S_base / (√3·V_base)``); NaN where neither is known.
    """
    by_power = np.isfinite(s_rated_mva) & (s_rated_mva > 0)
    i_base_a = 1e3 * s_base_mva / (_SQRT3 * v_base_from_kv)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_current = np.where(np.isfinite(i_max_a) & (i_max_a > 0), 100.0 * i_base_a / i_max_a, np.nan)
        factor = np.where(by_power, 100.0 * s_base_mva / np.where(by_power, s_rated_mva, 1.0), by_current)
    return factor, by_power
