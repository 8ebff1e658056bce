"""The control loop: a hand-computed 2-bus equilibrium, the oscillation guard, purity, solvers and findings."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from cimflow.apps.volt_var import (
    ControlConfig,
    ControlMode,
    Inverter,
    QUCurve,
    RatingSource,
    control_findings,
    solve_controlled,
)
from cimflow.errors import ConfigError
from cimflow.powerflow import FbsSolver, PerUnitCase, Solver

R_PU, X_PU = 0.1, 0.1
P_PU = -0.5  # generation, load sign convention
S_RATED = 0.6


def two_bus(p_pu: float = P_PU, q_pu: float = 0.0) -> PerUnitCase:
    """Slack at 1 pu, one line z = 0.1 + j0.1 pu, a PV inverter at bus 1 (s_base 1 MVA)."""
    return PerUnitCase(
        s_base_mva=1.0, v_base_kv=np.array([0.4, 0.4]), branch_from=np.array([0]), branch_to=np.array([1]),
        y_series_pu=np.array([1 / complex(R_PU, X_PU)]), y_shunt_from_pu=np.zeros(1), y_shunt_to_pu=np.zeros(1),
        tap_ratio=np.ones(1), bus_shunt_pu=np.zeros(2), s_const_power_pu=np.array([0, complex(p_pu, q_pu)]),
        s_const_current_pu=np.zeros(2), s_const_impedance_pu=np.zeros(2), slack_bus=np.array([0]),
        slack_v_pu=np.array([1.0 + 0j]),
    )  # fmt: skip


def inverter(bus: int = 1, p_mw: float = P_PU, s_rated: float = S_RATED, mrid: str = "pv") -> Inverter:
    return Inverter(mrid, "PV", "PowerElectronicsConnection", bus, p_mw, 0.0, s_rated, RatingSource.FILE, s_rated, 0.9)  # type: ignore[arg-type]


def v_exact(p: float, q: float) -> float:
    """|V| at the end of a line from a 1 pu source, load S = p + jq (pu): the real root of the biquadratic."""
    b = 1 - 2 * (p * R_PU + q * X_PU)
    c = (p * p + q * q) * (R_PU**2 + X_PU**2)
    return math.sqrt((b + math.sqrt(b * b - 4 * c)) / 2)


def curve_q(curve: QUCurve, v: float, p: float, s_rated: float) -> float:
    """The curve's Q at v, in load sign, within |Q| <= sqrt(S² - P²) and the cos φ 0.90 limit."""
    q_inject = float(np.interp(v, [x for x, _ in curve.points], [y for _, y in curve.points])) / 100 * s_rated
    limit = min(math.sqrt(max(s_rated**2 - p**2, 0.0)), abs(p) * math.tan(math.acos(0.9)))
    return -max(-limit, min(limit, q_inject))


def bisect_equilibrium(curve: QUCurve, p: float = P_PU, s_rated: float = S_RATED) -> tuple[float, float]:
    """Q with Q = curve(V(Q)), by bisection: Q - curve(V(Q)) increases with Q (more absorption, lower V)."""
    lo, hi = -s_rated, s_rated
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid - curve_q(curve, v_exact(p, mid), p, s_rated) > 0:
            hi = mid
        else:
            lo = mid
    q = (lo + hi) / 2
    return q, v_exact(p, q)


def test_the_2_bus_uncontrolled_voltage_matches_the_closed_form() -> None:
    res = solve_controlled(two_bus(), [inverter()], ControlMode.NONE)
    assert res.iterations == 0
    assert res.converged
    assert res.v_pu[0] == pytest.approx(v_exact(P_PU, 0.0), abs=1e-9)
    assert res.v_pu[0] > 1.04  # the PV raises the voltage into the active part of the curves


@pytest.mark.parametrize("mode", [ControlMode.QU, ControlMode.IEEE1547_A, ControlMode.IEEE1547_B])
def test_2_bus_equilibrium_matches_bisection(mode: ControlMode) -> None:
    cfg = ControlConfig(tolerance_ratio=1e-7)
    res = solve_controlled(two_bus(), [inverter()], mode, cfg)
    curve = cfg.curve(mode)
    assert curve is not None
    q_star, v_star = bisect_equilibrium(curve)
    assert res.converged
    assert res.q_mvar[0] == pytest.approx(q_star, abs=1e-5)
    assert res.v_pu[0] == pytest.approx(v_star, abs=1e-6)
    assert res.q_mvar[0] > 0  # absorbing against the voltage rise
    # the reported voltage is the power flow of the reported Q
    assert res.v_pu[0] == pytest.approx(v_exact(P_PU, float(res.q_mvar[0])), abs=1e-8)


def test_2_bus_with_the_rating_limit_binding() -> None:
    s_rated = 0.502  # sqrt(0.502² - 0.5²) = 0.045 < what the curve asks (about 0.07)
    res = solve_controlled(two_bus(), [inverter(s_rated=s_rated)], ControlMode.IEEE1547_B)
    assert res.converged
    assert res.limited[0]
    tol = ControlConfig().tolerance_ratio * s_rated
    assert res.q_mvar[0] == pytest.approx(math.sqrt(s_rated**2 - P_PU**2), abs=tol)
    assert res.curve_q_mvar[0] == pytest.approx(math.sqrt(s_rated**2 - P_PU**2), abs=1e-12)  # on the limit
    q_star, _ = bisect_equilibrium(ControlConfig().ieee1547_b, s_rated=s_rated)
    assert res.q_mvar[0] == pytest.approx(q_star, abs=tol)


# between the uncontrolled 1.0525 pu and the 1.028 pu at full absorption; loop gain ≈ 0.6·0.44/0.005·0.1 ≈ 5
STEEP = QUCurve(points=((1.035, 0.0), (1.04, -44.0)))


def test_oscillation_guard_settles_a_steep_curve() -> None:
    base = ControlConfig(qu=STEEP, damping=1.0, tolerance_ratio=1e-6)
    no_guard = solve_controlled(two_bus(), [inverter()], ControlMode.QU, base.model_copy(update={"damping_min": 1.0}))
    assert not no_guard.converged  # the undamped loop jumps between the curve's ends
    guarded = solve_controlled(two_bus(), [inverter()], ControlMode.QU, base)
    assert guarded.converged
    q_star, _ = bisect_equilibrium(STEEP)
    assert guarded.q_mvar[0] == pytest.approx(q_star, abs=1e-5)


def test_not_converged_gives_a_located_finding() -> None:
    inv = dataclasses.replace(inverter(), location=None)
    cfg = ControlConfig(qu=STEEP, damping=1.0, damping_min=1.0, max_iter=5)
    res = solve_controlled(two_bus(), [inv, inverter(mrid="pv2", p_mw=0.0)], ControlMode.QU, cfg)
    assert not res.converged
    assert res.iterations == 5
    (finding,) = control_findings(res, [inv, inverter(mrid="pv2", p_mw=0.0)], cfg)
    assert finding.code == "CF410"
    assert finding.location.mrid == "pv"
    assert "did not settle after 5" in finding.message
    converged = solve_controlled(two_bus(), [inv], ControlMode.QU)
    assert control_findings(converged, [inv]) == ()


def test_the_case_is_never_mutated() -> None:
    case = two_bus()
    before = {
        f.name: np.array(getattr(case, f.name), copy=True) for f in dataclasses.fields(case) if f.name != "s_base_mva"
    }
    res = solve_controlled(case, [inverter()], ControlMode.IEEE1547_B)
    for name, arr in before.items():
        assert np.array_equal(getattr(case, name), arr), name
    assert res.result.case is not case
    assert res.result.case.s_const_power_pu[1] == pytest.approx(complex(P_PU, res.q_mvar[0]))
    assert not res.q_mvar.flags.writeable


def test_per_unit_override_and_uncontrolled_units() -> None:
    case = two_bus()
    invs = [inverter(), inverter(mrid="other", p_mw=0.0)]
    cfg = ControlConfig(per_unit={"pv": ControlMode.FIXED_COSPHI})
    res = solve_controlled(case, invs, ControlMode.QU, cfg)
    assert res.modes == (ControlMode.FIXED_COSPHI, ControlMode.QU)
    assert res.iterations == 1  # cos φ does not depend on the voltage: one full step
    assert res.q_mvar[0] == pytest.approx(0.5 * math.tan(math.acos(0.95)))
    assert res.q_mvar[1] == 0.0  # no active power, no reactive power under the cos φ limit


def test_a_scenario_case_and_an_added_inverter_reuse_one_factorisation() -> None:
    case = two_bus(p_pu=-0.2)
    fbs = FbsSolver(case)
    extra = case.with_extra_power(np.array([0, -0.3 + 0j]))
    added = Inverter.added("hc-pv", 1, -0.3, 0.36)
    res = solve_controlled(extra, [inverter(p_mw=-0.2, s_rated=0.24), added], ControlMode.QU, factorised=fbs)
    assert res.converged
    assert (res.q_mvar > 0).all()
    assert added.rating_source is RatingSource.GIVEN
    assert added.cos_phi_limit == 0.9
    total_q = float(res.q_mvar.sum())
    assert res.v_pu[0] == pytest.approx(v_exact(-0.5, total_q), abs=1e-8)


def test_newton_raphson_on_a_meshed_case() -> None:
    ring = PerUnitCase(
        s_base_mva=1.0, v_base_kv=np.full(3, 0.4), branch_from=np.array([0, 1, 0]), branch_to=np.array([1, 2, 2]),
        y_series_pu=np.full(3, 1 / complex(R_PU, X_PU)), y_shunt_from_pu=np.zeros(3), y_shunt_to_pu=np.zeros(3),
        tap_ratio=np.ones(3), bus_shunt_pu=np.zeros(3), s_const_power_pu=np.array([0, -0.6 + 0j, -0.6 + 0j]),
        s_const_current_pu=np.zeros(3), s_const_impedance_pu=np.zeros(3), slack_bus=np.array([0]),
        slack_v_pu=np.array([1.0 + 0j]),
    )  # fmt: skip
    invs = [inverter(bus=1, p_mw=-0.6, s_rated=0.7, mrid="a"), inverter(bus=2, p_mw=-0.6, s_rated=0.7, mrid="b")]
    for solver in (Solver.AUTO, Solver.NR):
        res = solve_controlled(ring, invs, ControlMode.IEEE1547_B, solver=solver)
        assert res.converged
        assert res.result.solver == "nr"
        for k in range(2):
            assert res.q_mvar[k] == pytest.approx(
                curve_q(ControlConfig().ieee1547_b, float(res.v_pu[k]), -0.6, 0.7), abs=1e-4 * 0.7
            )


def test_bad_arguments_raise() -> None:
    with pytest.raises(ConfigError):
        solve_controlled(two_bus(), [inverter()], "volt-watt")
    with pytest.raises(ConfigError):
        solve_controlled(two_bus(), [inverter(bus=7)], ControlMode.QU)


def test_no_inverters_is_a_plain_solve() -> None:
    res = solve_controlled(two_bus(), [], ControlMode.FUZZY)
    assert res.converged
    assert res.iterations == 0
    assert res.q_mvar.size == 0
