"""Volt-VAR control of inverters inside the power flow: a damped fixed-point loop to the equilibrium of the curves.

The reactive power a controlled inverter gives depends on the voltage the power flow finds, which
depends on that reactive power. :func:`solve_controlled` iterates

    Q_{k+1} = Q_k + α_i · (f_i(V_i(Q_k)) − Q_k)

where ``f_i`` is inverter ``i``'s curve within its limits (:func:`cimflow.apps.setpoints.set_points`)
and ``α_i`` its damping, halved each time its step changes sign (the oscillation guard) down to
``damping_min``. It stops at the equilibrium: every inverter's Q within ``tolerance_ratio`` of its
rating of its curve at its own solved voltage (and, for the fuzzy ``trend`` input, its voltage
settled). Each iteration solves a new case made with :meth:`PerUnitCase.with_extra_power`; the case
passed in is never changed, and a radial case is factorised once (:class:`FbsSolver`) for all of them.

Inverters (:func:`inverters_of`) are the PowerElectronicsConnections and the SynchronousMachines of a
SolarGeneratingUnit (PV as 2.4.15 exporters write it) that are not slacks. Their rating comes from
``ratedS``; a placeholder (≥ 999 MVA) or a missing or too small rating falls back to 1.1 × the unit's
rated active power (its maxP, else its output), reported as CF411 / CF412.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from cimflow.apps.curves import (
    IEEE1547_A,
    IEEE1547_B,
    VDE_QU,
    ControlConfig,
    ControlMode,
    CosPhiPCurve,
    FixedCosPhi,
    InverterLimits,
    QUCurve,
)
from cimflow.apps.fuzzy import FuzzyConfig
from cimflow.apps.setpoints import AXES, FloatArray, PlantArrays, curve_line, operating_y, set_points
from cimflow.catalog import control as codes
from cimflow.errors import ConfigError
from cimflow.findings import Finding, Location, Outcome, make_finding
from cimflow.ids import MRID
from cimflow.model.injections import (
    GeneratingUnit,
    PowerElectronicsConnection,
    PowerElectronicsUnit,
    SynchronousMachine,
)
from cimflow.model.network import Network
from cimflow.powerflow.arrays import PerUnitCase, find_islands, frozen_array
from cimflow.powerflow.case import CaseBuild
from cimflow.powerflow.fbs import FbsSolver
from cimflow.powerflow.nr import solve_nr
from cimflow.powerflow.result import PowerFlowResult
from cimflow.powerflow.solve import Solver, solve_case

__all__ = [
    "AXES",
    "IEEE1547_A",
    "IEEE1547_B",
    "VDE_QU",
    "ControlConfig",
    "ControlMode",
    "ControlledResult",
    "CosPhiPCurve",
    "FixedCosPhi",
    "FuzzyConfig",
    "Inverter",
    "InverterLimits",
    "QUCurve",
    "RatingSource",
    "control_findings",
    "curve_line",
    "inverters_of",
    "solve_controlled",
]

INVERTER_UNIT_CLASSES = ("SolarGeneratingUnit",)  # machines written for PV; other machines are not inverters


class RatingSource(StrEnum):
    """Where an inverter's rated apparent power comes from."""

    FILE = "file"
    PLACEHOLDER = "placeholder"  # the file's value was a placeholder: fallback (CF411)
    MISSING = "missing"  # no rating in the file: fallback (CF412)
    BELOW_OUTPUT = "below-output"  # the file's rating was below |p|: fallback (CF412)
    GIVEN = "given"  # set by the caller (a hosting-capacity scenario)


@dataclass(frozen=True, slots=True)
class Inverter:
    """One controllable inverter (load sign convention: generation has ``p_mw < 0``).

    Attributes:
        mrid: The PowerElectronicsConnection or SynchronousMachine.
        name: Its name, if any.
        cim_class: Its CIM class.
        bus: Case bus index it feeds.
        p_mw: Active power, as in the case (< 0 while generating).
        q_mvar: Reactive power from the file, as in the case (mode ``none``).
        s_rated_mva: Rated apparent power used by the control.
        rating_source: Where ``s_rated_mva`` comes from.
        p_rated_mw: Rated active power (reference of cos φ(P)): the unit's maxP if plausible, capped
            at ``s_rated_mva``, else ``s_rated_mva`` (file ratings) or the fallback's base.
        cos_phi_limit: Plant-class power-factor limit (VDE-AR-N 4105: 0.95 up to 4.6 kVA, else 0.90).
        location: Where the inverter is in the input, for findings.
    """

    mrid: MRID
    name: str | None
    cim_class: str
    bus: int
    p_mw: float
    q_mvar: float
    s_rated_mva: float
    rating_source: RatingSource
    p_rated_mw: float
    cos_phi_limit: float
    location: Location | None = None

    @classmethod
    def added(
        cls, mrid: str, bus: int, p_mw: float, s_rated_mva: float, *, limits: InverterLimits | None = None
    ) -> Inverter:
        """An inverter a scenario adds (its ``p_mw`` must already be in the case, e.g. by ``with_extra_power``)."""
        lim = limits or InverterLimits()
        return cls(
            MRID(mrid), None, "PowerElectronicsConnection", bus, p_mw, 0.0, s_rated_mva, RatingSource.GIVEN,
            min(abs(p_mw), s_rated_mva) or s_rated_mva, lim.cos_phi_limit(s_rated_mva),
        )  # fmt: skip


def _unit_p_mw(
    network: Network, eq: object, unit_of: Mapping[MRID, PowerElectronicsUnit], limits: InverterLimits
) -> float:
    """Rated active power of the unit behind an inverter (0 if unknown or a placeholder)."""
    values: list[float | None] = []
    if isinstance(eq, PowerElectronicsConnection) and eq.mrid in unit_of:
        values.append(unit_of[eq.mrid].max_p_mw)
    if isinstance(eq, SynchronousMachine) and eq.generating_unit:
        unit = network.of(GeneratingUnit).get(eq.generating_unit)
        if unit is not None:
            values.extend((unit.max_p_mw, unit.nominal_p_mw))
    plausible = [abs(v) for v in values if v is not None and 0 < abs(v) < limits.placeholder_rating_mva]
    return plausible[0] if plausible else 0.0


def inverters_of(
    network: Network, build: CaseBuild, *, config: ControlConfig | None = None
) -> Outcome[tuple[Inverter, ...]]:
    """The inverters of a built case, with their ratings and the findings on placeholder or missing ratings.

    Args:
        network: The model the case was built from.
        build: The case and its index (its generation records give bus, p and q).
        config: Rating fallbacks and plant classes (``config.limits``).

    Returns:
        The inverters in the order of the case's injection records, and CF411 / CF412 findings.
    """
    limits = (config or ControlConfig()).limits
    unit_of = {u.connection: u for u in network.of(PowerElectronicsUnit).values() if u.connection}
    out: list[Inverter] = []
    findings: list[Finding] = []
    for rec in build.index.injections.records:
        if rec.role != "generation":
            continue
        eq = network.get(rec.mrid)
        if isinstance(eq, SynchronousMachine):
            if not eq.generating_unit or network.class_of(eq.generating_unit) not in INVERTER_UNIT_CLASSES:
                continue
        elif not isinstance(eq, PowerElectronicsConnection):
            continue
        unit_p = _unit_p_mw(network, eq, unit_of, limits)
        base = max(abs(rec.p_mw), unit_p)
        fallback = limits.rating_fallback_ratio * base
        rule = f"{limits.rating_fallback_ratio:g} x {'its maxP' if unit_p >= abs(rec.p_mw) and unit_p else '|p|'}"
        rated = eq.rated_s_mva
        loc = eq.location("rated_s_mva")
        ctx = {"s_rated_mva": f"{fallback:.6g}", "rule": rule}
        if rated is None or rated <= 0:
            source, s_rated = RatingSource.MISSING, fallback
            findings.append(make_finding(codes.RATING_ASSUMED, loc, ctx={**ctx, "reason": "no ratedS"}))
        elif rated >= limits.placeholder_rating_mva:
            source, s_rated = RatingSource.PLACEHOLDER, fallback
            findings.append(make_finding(codes.PLACEHOLDER_RATING, loc, ctx={**ctx, "rated_s_mva": f"{rated:g}"}))
        elif rated < abs(rec.p_mw) * (1 - 1e-9):
            source, s_rated = RatingSource.BELOW_OUTPUT, fallback
            reason = f"ratedS {rated:g} MVA is below its output {abs(rec.p_mw):g} MW"
            findings.append(make_finding(codes.RATING_ASSUMED, loc, ctx={**ctx, "reason": reason}))
        else:
            source, s_rated = RatingSource.FILE, float(rated)
        # the unit's own rated P where plausible (a PV array may exceed its inverter: capped at S)
        p_rated = base if source is not RatingSource.FILE else (min(unit_p, s_rated) if unit_p else s_rated)
        out.append(
            Inverter(
                rec.mrid, eq.name, eq.cim_class, rec.bus, rec.p_mw, rec.q_mvar, s_rated, source, p_rated,
                limits.cos_phi_limit(s_rated), eq.location(),
            )
        )  # fmt: skip
    return Outcome(tuple(out), tuple(findings))


@dataclass(frozen=True, slots=True, eq=False)
class ControlledResult:
    """The power flow at the control equilibrium (or where the loop stopped); arrays are per inverter.

    Attributes:
        result: The power flow with the inverters' final reactive power.
        mode: The run's mode (``modes`` holds each inverter's, after per-unit overrides).
        modes: Mode of each inverter.
        q_mvar: Final reactive power (load sign: > 0 absorbs).
        v_pu: Voltage at each inverter's bus.
        curve_q_mvar: Each curve's set point at ``v_pu`` within the limits (= ``q_mvar`` when converged).
        q_limit_mvar: Largest |Q| each inverter may give.
        curve_x: Where each curve was read (:data:`AXES`: voltage or P / P_rated).
        curve_y: The curve's value there, before the limits.
        point_y: The actual operating point on the same axis.
        limited: True where a limit cut the curve.
        iterations: Outer iterations (Q updates, each followed by a power flow).
        converged: True when the power flow converged and the equilibrium was reached.
        residual_ratio: Largest ``|curve − Q| / S_rated`` at the end.
    """

    result: PowerFlowResult
    mode: ControlMode
    modes: tuple[ControlMode, ...]
    q_mvar: FloatArray
    v_pu: FloatArray
    curve_q_mvar: FloatArray
    q_limit_mvar: FloatArray
    curve_x: FloatArray
    curve_y: FloatArray
    point_y: FloatArray
    limited: np.ndarray
    iterations: int
    converged: bool
    residual_ratio: float


def _plants(inverters: tuple[Inverter, ...]) -> PlantArrays:
    def arr(name: str) -> FloatArray:
        return frozen_array([getattr(i, name) for i in inverters], np.float64)

    return PlantArrays(arr("p_mw"), arr("q_mvar"), arr("s_rated_mva"), arr("p_rated_mw"), arr("cos_phi_limit"))


class _Runner:
    """Solves cases of one network: FBS on a factorisation made once (radial), else ``solve_case``."""

    def __init__(
        self, case: PerUnitCase, solver: Solver, tolerance: float, max_iter: int, factorised: FbsSolver | None
    ) -> None:
        self.solver, self.tolerance, self.max_iter = solver, tolerance, max_iter
        self.fbs = factorised
        self.islands = None
        if self.fbs is None and solver is not Solver.NR:
            islands = find_islands(case)
            self.islands = islands
            # the sweep cannot hold the voltage of a PV bus: solve_case takes Newton-Raphson for those
            if (solver is Solver.FBS or islands.radial) and not islands.energised[case.pv_bus].any():
                self.fbs = FbsSolver(case, islands=islands)

    def __call__(self, case: PerUnitCase) -> PowerFlowResult:
        if self.fbs is None:
            return solve_case(case, solver=self.solver, tolerance=self.tolerance, max_iter=self.max_iter)
        result = self.fbs.solve(case, tolerance=self.tolerance, max_iter=self.max_iter)
        if result.converged or self.solver is Solver.FBS:
            return result
        return solve_nr(case, tolerance=self.tolerance, max_iter=self.max_iter, islands=self.islands)


def solve_controlled(
    case: PerUnitCase,
    inverters: Iterable[Inverter],
    mode: ControlMode | str = ControlMode.QU,
    config: ControlConfig | None = None,
    *,
    solver: Solver | str = Solver.AUTO,
    tolerance: float = 1e-8,
    max_iter: int = 100,
    factorised: FbsSolver | None = None,
    start: PowerFlowResult | None = None,
) -> ControlledResult:
    """Solve ``case`` with the inverters' reactive power on their control curves (see the module docstring).

    Args:
        case: The case; the inverters' ``p_mw`` and file ``q_mvar`` must already be in its loads (as
            :func:`~cimflow.powerflow.case.build_case` puts them; a scenario may add power with
            ``with_extra_power`` and an :meth:`Inverter.added` for it). Never mutated.
        inverters: The inverters (:func:`inverters_of`).
        mode: The run's mode; ``config.per_unit`` overrides it by mRID.
        config: Curves, limits, damping, tolerance and iteration cap of the outer loop.
        solver: Power-flow method for each iteration (``auto``: FBS on radial grids, NR otherwise).
        tolerance: Power-flow tolerance (pu).
        max_iter: Power-flow iteration cap (the outer cap is ``config.max_iter``).
        factorised: A factorisation of ``case``'s network to reuse across calls (hosting capacity).
        start: ``case`` already solved as it is (the file's Q), to save the first power flow.

    Returns:
        The result; ``converged`` is False (never an exception) when a power flow failed or the loop
        did not settle within ``config.max_iter`` (see :func:`control_findings`).

    Raises:
        ConfigError: An unknown mode or solver, or an inverter bus outside the case.
    """
    cfg = config or ControlConfig()
    try:
        run_mode, method = ControlMode(mode), Solver(solver)
    except ValueError as err:
        raise ConfigError(f"solve_controlled: mode={mode!r} or solver={solver!r} is not known") from err
    invs = tuple(inverters)
    bus = np.array([i.bus for i in invs], dtype=np.int64)
    if bus.size and (bus.min() < 0 or bus.max() >= case.n_bus):
        raise ConfigError(f"solve_controlled: an inverter bus is outside the case's {case.n_bus} buses")
    modes = tuple(ControlMode(cfg.per_unit.get(i.mrid, run_mode)) for i in invs)
    plants = _plants(invs)
    run = _Runner(case, method, tolerance, max_iter, factorised)
    result = start if start is not None and start.case is case else run(case)
    q = plants.q_file_mvar.copy()
    v = v_prev = result.v_pu[bus]
    # cos φ modes do not depend on the voltage: one full step lands on the curve
    fixed = np.array([m in (ControlMode.COSPHI_P, ControlMode.FIXED_COSPHI) for m in modes], dtype=bool)
    alpha = np.where(fixed, 1.0, cfg.damping)
    prev_step = np.zeros(len(invs))
    trend_input = cfg.fuzzy.second_input == "trend"
    fuzzy_trend = np.array([m is ControlMode.FUZZY and trend_input for m in modes], dtype=bool)
    iterations, converged = 0, result.converged
    while True:
        live = result.energised[bus]
        sp = set_points(cfg, modes, plants, v, v - v_prev)
        target = np.where(live, sp.q_mvar, q)
        step = target - q
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(plants.s_rated_mva > 0, np.abs(step) / plants.s_rated_mva, np.abs(step))
        residual = float(ratio.max()) if ratio.size else 0.0
        settled = residual <= cfg.tolerance_ratio and not (np.abs(v - v_prev)[fuzzy_trend] > cfg.v_tolerance_pu).any()
        if not result.converged or settled or iterations >= cfg.max_iter:
            converged = result.converged and settled
            break
        # oscillation: the step reverses without having shrunk by a fifth (a converging zigzag is fine)
        flipped = (step * prev_step < 0) & (np.abs(step) > 0.8 * np.abs(prev_step)) & (ratio > cfg.tolerance_ratio)
        alpha = np.where(flipped, np.maximum(alpha / 2.0, cfg.damping_min), alpha)
        q = q + alpha * step
        prev_step = step
        delta = np.bincount(bus, weights=q - plants.q_file_mvar, minlength=case.n_bus) / case.s_base_mva
        result = run(case.with_extra_power(np.asarray(1j * delta, dtype=np.complex128)))
        iterations += 1
        v_prev, v = v, result.v_pu[bus]
    point_y = np.zeros(len(invs))
    for m in set(modes):
        sel = np.array([x is m for x in modes], dtype=bool)
        point_y[sel] = operating_y(m, q, plants, sp.q_limit_mvar)[sel]
    return ControlledResult(
        result=result,
        mode=run_mode,
        modes=modes,
        q_mvar=frozen_array(q, np.float64),
        v_pu=frozen_array(v, np.float64),
        curve_q_mvar=frozen_array(sp.q_mvar, np.float64),
        q_limit_mvar=frozen_array(sp.q_limit_mvar, np.float64),
        curve_x=frozen_array(sp.curve_x, np.float64),
        curve_y=frozen_array(sp.curve_y, np.float64),
        point_y=frozen_array(point_y, np.float64),
        limited=frozen_array(sp.limited, np.bool_),
        iterations=iterations,
        converged=bool(converged),
        residual_ratio=residual,
    )


def control_findings(
    controlled: ControlledResult, inverters: Iterable[Inverter], config: ControlConfig | None = None
) -> tuple[Finding, ...]:
    """CF410 at the inverter farthest from its curve when the loop did not settle (the others as related).

    A power flow that failed inside the loop is reported by CF401 on the result, not here.
    """
    cfg = config or ControlConfig()
    invs = tuple(inverters)
    if controlled.converged or not controlled.result.converged or not invs:
        return ()
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.array([i.s_rated_mva for i in invs])
        gap = np.abs(controlled.curve_q_mvar - controlled.q_mvar) / np.where(s > 0, s, 1.0)
    worst = int(np.argmax(gap))
    inv = invs[worst]
    loc = inv.location or Location(mrid=inv.mrid, cim_class=inv.cim_class)
    related = [invs[k].mrid for k in np.flatnonzero(gap > cfg.tolerance_ratio) if k != worst]
    ctx: dict[str, float | int | str] = {
        "mode": str(controlled.modes[worst]),
        "iterations": controlled.iterations,
        "residual_pct": f"{100 * gap[worst]:.3g}",
        "v_pu": f"{controlled.v_pu[worst]:.4f}",
    }
    return (make_finding(codes.CONTROL_NOT_CONVERGED, loc, ctx=ctx, related=related),)
