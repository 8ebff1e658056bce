"""Hand-calculated 2-bus, 3-bus and transformer cases, checked against both solvers."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest

from cimflow.powerflow import solve_case

from .cases import make_case

SOLVERS = ["fbs", "nr"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_bus_constant_impedance_is_a_voltage_divider(solver: str) -> None:
    # Z = 0.02 + 0.04j; the load draws S_Z = 0.5 + 0.2j at 1 pu, so Y_L = conj(S_Z) = 0.5 - 0.2j and
    # Z_L = 1 / Y_L = (0.5 + 0.2j) / 0.29 = 1.724138 + 0.689655j.
    # V2 = V1 · Z_L · conj(Z + Z_L) / |Z + Z_L|^2 = (3.510344 - 0.055171j) / 3.574414 = 0.982076 - 0.015435j
    z, s_z = 0.02 + 0.04j, 0.5 + 0.2j
    z_l = 1 / np.conj(s_z)
    v2 = z_l / (z + z_l)
    assert v2 == pytest.approx(0.982076 - 0.015435j, abs=1e-6)
    result = solve_case(make_case(2, [(0, 1, z)], z_loads={1: s_z}), solver=solver, tolerance=1e-12)
    assert result.converged
    assert result.v_phasor_pu[1] == pytest.approx(v2, abs=1e-10)
    # the slack supplies V1 · conj(I) with I = V1 / (Z + Z_L)
    assert result.s_slack_inject_pu[0] == pytest.approx(np.conj(1 / (z + z_l)), abs=1e-10)
    # losses |I|^2 Z
    assert result.losses_pu == pytest.approx(abs(1 / (z + z_l)) ** 2 * z, abs=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_bus_constant_power_closed_form(solver: str) -> None:
    # V1 conj(V2) = |V2|^2 + Z conj(S) with V1 = 1: |V2|^4 + (2(RP + XQ) - 1)|V2|^2 + |Z|^2 |S|^2 = 0.
    # R=0.02, X=0.04, P=0.5, Q=0.2: RP+XQ = 0.018, XP-RQ = 0.016, |Z|^2|S|^2 = 0.002·0.29 = 0.00058
    # |V2|^2 = (0.964 + sqrt(0.964^2 - 4·0.00058)) / 2 = 0.963398, |V2| = 0.981528
    # sin(-δ2)|V2| = XP - RQ  =>  δ2 = -asin(0.016 / 0.981528) = -0.016301 rad
    r, x, p, q = 0.02, 0.04, 0.5, 0.2
    a = 1 - 2 * (r * p + x * q)
    v2_abs = math.sqrt((a + math.sqrt(a * a - 4 * (r * r + x * x) * (p * p + q * q))) / 2)
    delta2 = -math.asin((x * p - r * q) / v2_abs)
    assert v2_abs == pytest.approx(0.981528, abs=1e-6)
    assert delta2 == pytest.approx(-0.016301, abs=1e-6)
    result = solve_case(make_case(2, [(0, 1, r + 1j * x)], loads={1: p + 1j * q}), solver=solver, tolerance=1e-12)
    assert result.converged
    assert result.v_pu[1] == pytest.approx(v2_abs, abs=1e-10)
    assert result.v_angle_rad[1] == pytest.approx(delta2, abs=1e-10)
    # slack = load + |I|^2 Z with |I| = |S| / |V2|
    i_sq = (p * p + q * q) / v2_abs**2
    assert result.s_slack_pu[0] == pytest.approx(-(p + 1j * q + i_sq * (r + 1j * x)), abs=1e-10)
    assert result.max_mismatch_pu < 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
def test_three_bus_constant_impedance_series_parallel(solver: str) -> None:
    # slack 0 -- Z01 -- 1 -- Z12 -- 2, Z loads at 1 and 2; the grid is linear:
    # Z_eq = Z_L1 || (Z12 + Z_L2); V1 = Z_eq / (Z01 + Z_eq); V2 = V1 · Z_L2 / (Z12 + Z_L2)
    z01, z12 = 0.01 + 0.03j, 0.03 + 0.02j
    s1, s2 = 0.2 + 0.05j, 0.6 + 0.3j
    zl1, zl2 = 1 / np.conj(s1), 1 / np.conj(s2)
    z_eq = 1 / (1 / zl1 + 1 / (z12 + zl2))
    v1 = 1.03 * z_eq / (z01 + z_eq)
    v2 = v1 * zl2 / (z12 + zl2)
    case = make_case(3, [(0, 1, z01), (1, 2, z12)], z_loads={1: s1, 2: s2}, slacks={0: 1.03})
    result = solve_case(case, solver=solver, tolerance=1e-12)
    assert result.converged
    np.testing.assert_allclose(result.v_phasor_pu, [1.03, v1, v2], atol=1e-10)
    # branch 1 carries I = V2 / Z_L2 at both ends (no shunts)
    i12 = v2 / zl2
    assert result.i_from_pu[1] == pytest.approx(i12, abs=1e-10)
    assert result.i_to_pu[1] == pytest.approx(-i12, abs=1e-10)
    assert result.s_from_pu[1] == pytest.approx(v1 * np.conj(i12), abs=1e-10)
    # load at actual voltage: S_Z |V|^2
    assert result.s_load_pu[2] == pytest.approx(s2 * abs(v2) ** 2, abs=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_transformer_with_off_nominal_tap_and_phase_shift(solver: str) -> None:
    # from side: ideal transformer t = 0.975∠30°, so the internal node sees V_i = V1 / t;
    # magnetising admittance y_m at the internal node, series Z_T, Z load at bus 1 (to side).
    # V2 = V_i · Z_L / (Z_T + Z_L) and I_f = (y_m V_i + (V_i - V2) / Z_T) / conj(t)
    t = 0.975 * cmath.exp(1j * math.pi / 6)
    z_t, y_m, s_l = 0.01 + 0.06j, 0.002 - 0.01j, 0.4 + 0.1j
    z_l = 1 / np.conj(s_l)
    v_i = 1.0 / t
    v2 = v_i * z_l / (z_t + z_l)
    i_f = (y_m * v_i + (v_i - v2) / z_t) / np.conj(t)
    # to side lags: no-load ratio 1/t gives -30° plus the small drop angle
    assert cmath.phase(v2) == pytest.approx(-math.pi / 6 + cmath.phase(z_l / (z_t + z_l)))
    case = make_case(2, [(0, 1, z_t)], taps=[t], y_shunt_from=[y_m], z_loads={1: s_l})
    result = solve_case(case, solver=solver, tolerance=1e-12)
    assert result.converged
    assert result.v_phasor_pu[1] == pytest.approx(v2, abs=1e-10)
    assert abs(v2) == pytest.approx(1 / 0.975 * abs(z_l / (z_t + z_l)))
    assert result.i_from_pu[0] == pytest.approx(i_f, abs=1e-10)
    assert result.s_from_pu[0] == pytest.approx(np.conj(i_f), abs=1e-10)
    assert result.s_slack_pu[0] == pytest.approx(-np.conj(i_f), abs=1e-10)
    # the ideal transformer is lossless: losses are y_m's and Z_T's only
    i_series = (v_i - v2) / z_t
    losses = abs(v_i) ** 2 * np.conj(y_m) + abs(i_series) ** 2 * z_t
    assert result.losses_pu == pytest.approx(losses, abs=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_constant_current_load_draws_current_proportional_to_voltage(solver: str) -> None:
    # S_I |V| with |V| < 1: the power drawn is S_I · |V2|, so |I| = |S_I| exactly
    case = make_case(2, [(0, 1, 0.05 + 0.05j)], i_loads={1: 0.4 + 0.3j})
    result = solve_case(case, solver=solver, tolerance=1e-12)
    assert result.converged
    assert abs(result.i_to_pu[0]) == pytest.approx(0.5, abs=1e-10)
    assert result.s_load_pu[1] == pytest.approx((0.4 + 0.3j) * result.v_pu[1], abs=1e-12)


def test_si_views_use_the_bases() -> None:
    # 0.4 kV, 1 MVA: I_base = 1 MVA / (√3 · 0.4 kV) = 1443.376 A
    case = make_case(2, [(0, 1, 0.02 + 0.04j)], loads={1: 0.1 + 0.05j}, v_base_kv=0.4, s_base_mva=1.0)
    result = solve_case(case)
    assert result.v_kv[0] == pytest.approx(0.4)
    assert result.v_kv[1] == pytest.approx(0.4 * result.v_pu[1])
    assert result.i_from_a[0] == pytest.approx(abs(result.i_from_pu[0]) * 1443.3757, rel=1e-6)
    assert result.i_to_a[0] == pytest.approx(result.i_from_a[0])
    assert result.p_from_mw[0] == pytest.approx(result.s_from_pu[0].real)
    assert result.q_to_mvar[0] == pytest.approx(result.s_to_pu[0].imag)
    assert result.p_slack_mw[0] == pytest.approx(-(0.1 + result.p_loss_mw))
    assert result.q_slack_mvar[0] == pytest.approx(-(0.05 + result.q_loss_mvar))


def test_newton_starts_at_1_pu_where_the_no_load_voltages_run_away() -> None:
    """A slack feeding line charging with no load lifts the no-load voltages to several pu (SmallGrid without
    voltage control: 5.7 pu); Newton from there can settle on a far-away solution, so the start keeps only
    the no-load angles. In-band no-load voltages (tap ratios, phase shifts) are kept as they are."""
    import scipy.sparse as sp

    from cimflow.powerflow.nr import _no_load_start

    # one bus behind x = 0.5 pu with a 1.6 pu capacitor: the no-load voltage is 1 / (1 - 0.8) = 5 pu
    y = 1 / 0.5j
    y_pp = sp.csr_matrix(np.array([[y + 1.6j]]))
    rhs = np.array([y * 1.0])
    assert abs(np.linalg.solve(y_pp.toarray(), rhs)[0]) == pytest.approx(5.0)
    start = _no_load_start(y_pp, rhs)
    np.testing.assert_allclose(np.abs(start), 1.0)
    # a 1.05 step-up and a 30 degree shift at no load stay as computed
    shifted = np.array([y * 1.05 * np.exp(1j * np.pi / 6)])
    start = _no_load_start(sp.csr_matrix(np.array([[y]])), shifted)
    np.testing.assert_allclose(start, shifted / y)
