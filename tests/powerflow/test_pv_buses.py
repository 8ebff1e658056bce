"""PV buses (voltage-regulating generators) in Newton-Raphson: by hand, at reactive limits, against pandapower."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from cimflow.errors import ConfigError
from cimflow.powerflow import PerUnitCase, solve_case

X_PU = 0.1  # a lossless line between the slack (bus 0) and the generator's bus (bus 1)
P_GEN_PU = 0.5


def _two_bus(v_set_pu: float = 1.0, q_min_pu: float = -math.inf, q_max_pu: float = math.inf) -> PerUnitCase:
    """Slack at 1 pu, a generator injecting ``P_GEN_PU`` at bus 1 holding ``v_set_pu``, nothing else."""
    return PerUnitCase(
        s_base_mva=100.0,
        v_base_kv=np.array([110.0, 110.0]),
        branch_from=np.array([0]),
        branch_to=np.array([1]),
        y_series_pu=np.array([1 / complex(0, X_PU)]),
        y_shunt_from_pu=np.zeros(1),
        y_shunt_to_pu=np.zeros(1),
        tap_ratio=np.ones(1),
        bus_shunt_pu=np.zeros(2),
        s_const_power_pu=np.array([0, -P_GEN_PU + 0j]),  # generation is a negative load, Q from the file 0
        s_const_current_pu=np.zeros(2),
        s_const_impedance_pu=np.zeros(2),
        slack_bus=np.array([0]),
        slack_v_pu=np.array([1.0 + 0j]),
        pv_bus=np.array([1]),
        pv_v_pu=np.array([v_set_pu]),
        pv_q_pu=np.zeros(1),
        pv_q_min_pu=np.array([q_min_pu]),
        pv_q_max_pu=np.array([q_max_pu]),
    )


def _as_pq(case: PerUnitCase, q_inject_pu: float) -> PerUnitCase:
    """The same grid with the generator a PQ injection of ``q_inject_pu`` (generator sense) more than the case's."""
    s_power = case.s_const_power_pu.copy()
    s_power[case.pv_bus] -= 1j * q_inject_pu
    return dataclasses.replace(
        case,
        s_const_power_pu=s_power,
        pv_bus=np.zeros(0, dtype=np.int64),
        pv_regulated_bus=np.zeros(0, dtype=np.int64),
        pv_v_pu=np.zeros(0),
        pv_q_pu=np.zeros(0),
        pv_q_min_pu=np.zeros(0),
        pv_q_max_pu=np.zeros(0),
    )


@pytest.mark.parametrize("v_set", [1.0, 1.05, 0.97])
def test_two_buses_by_hand(v_set: float) -> None:
    # P = V0·V1·sin θ / x and the reactive power the generator sends into the line Q = (V1² - V0·V1·cos θ) / x
    theta = math.asin(P_GEN_PU * X_PU / v_set)
    q_gen = (v_set**2 - v_set * math.cos(theta)) / X_PU
    result = solve_case(_two_bus(v_set), tolerance=1e-12)
    assert result.converged
    assert result.solver == "nr"
    assert result.v_pu[1] == pytest.approx(v_set, abs=1e-12)
    assert result.v_angle_rad[1] == pytest.approx(theta, abs=1e-10)
    assert result.pv_held.tolist() == [True]
    assert result.q_pv_pu[0] == pytest.approx(-q_gen, abs=1e-10)  # load sign: supplying is negative
    # the slack takes the line's reactive losses I²x that the generator does not supply
    losses_q = abs(result.i_from_pu[0]) ** 2 * X_PU
    assert -result.s_slack_pu[0].imag == pytest.approx(losses_q - q_gen, abs=1e-10)
    assert result.s_slack_pu[0].real == pytest.approx(P_GEN_PU, abs=1e-10)  # the slack takes it all
    assert result.max_mismatch_pu < 1e-10


@pytest.mark.parametrize("solver", ["auto", "fbs"])
def test_the_sweep_never_runs_on_a_pv_bus(solver: str) -> None:
    result = solve_case(_two_bus(1.05), solver=solver, tolerance=1e-12)
    assert result.solver == "nr"
    assert result.v_pu[1] == pytest.approx(1.05, abs=1e-12)


def test_upper_limit_makes_the_bus_pq_at_the_limit() -> None:
    free = solve_case(_two_bus(1.05), tolerance=1e-12)
    q_needed = -float(free.q_pv_pu[0])
    limit = 0.5 * q_needed
    capped = solve_case(_two_bus(1.05, q_max_pu=limit), tolerance=1e-12)
    assert capped.converged
    assert capped.pv_held.tolist() == [False]
    assert capped.q_pv_pu[0] == pytest.approx(-limit, abs=1e-10)
    assert capped.v_pu[1] < 1.05  # short of reactive power, the generator cannot hold its set point
    # exactly the PQ grid with the generator at its limit, solved without any PV bus
    pq = solve_case(_as_pq(_two_bus(1.05), limit), solver="nr", tolerance=1e-12)
    np.testing.assert_allclose(capped.v_phasor_pu, pq.v_phasor_pu, atol=1e-10)
    assert capped.max_mismatch_pu < 1e-9


def test_lower_limit_makes_the_bus_pq_at_the_limit() -> None:
    # at 0.97 pu the generator must absorb reactive power; it may not (minQ = 0)
    assert solve_case(_two_bus(0.97), tolerance=1e-12).q_pv_pu[0] > 0
    capped = solve_case(_two_bus(0.97, q_min_pu=0.0), tolerance=1e-12)
    assert capped.pv_held.tolist() == [False]
    assert capped.q_pv_pu[0] == pytest.approx(0.0, abs=1e-10)
    assert capped.v_pu[1] > 0.97
    pq = solve_case(_as_pq(_two_bus(0.97), 0.0), solver="nr", tolerance=1e-12)
    np.testing.assert_allclose(capped.v_phasor_pu, pq.v_phasor_pu, atol=1e-10)


def test_a_limit_that_does_not_bind_changes_nothing() -> None:
    free = solve_case(_two_bus(1.05), tolerance=1e-12)
    wide = solve_case(_two_bus(1.05, q_min_pu=-1.0, q_max_pu=-float(free.q_pv_pu[0]) + 1e-3), tolerance=1e-12)
    assert wide.pv_held.tolist() == [True]
    np.testing.assert_allclose(wide.v_phasor_pu, free.v_phasor_pu, atol=1e-12)


def test_pv_arrays_are_checked() -> None:
    with pytest.raises(ConfigError, match="both a slack and in pv_bus"):
        dataclasses.replace(_two_bus(), pv_bus=np.array([0]))
    with pytest.raises(ConfigError, match="pv_q_min_pu"):
        _two_bus(q_min_pu=1.0, q_max_pu=0.0)
    with pytest.raises(ConfigError, match="must be finite"):
        dataclasses.replace(_two_bus(), pv_q_max_pu=np.array([math.nan]))


def _chain(q_max_pu: float = math.inf) -> PerUnitCase:
    """Slack 0 - generator bus 1 - load bus 2; the generator at 1 holds the voltage of bus 2 (remote)."""
    z = complex(0.02, X_PU)
    return PerUnitCase(
        s_base_mva=100.0,
        v_base_kv=np.full(3, 110.0),
        branch_from=np.array([0, 1]),
        branch_to=np.array([1, 2]),
        y_series_pu=np.array([1 / z, 1 / z]),
        y_shunt_from_pu=np.zeros(2),
        y_shunt_to_pu=np.zeros(2),
        tap_ratio=np.ones(2),
        bus_shunt_pu=np.zeros(3),
        s_const_power_pu=np.array([0, -0.3 - 0.05j, 0.4 + 0.2j]),
        s_const_current_pu=np.zeros(3),
        s_const_impedance_pu=np.zeros(3),
        slack_bus=np.array([0]),
        slack_v_pu=np.array([1.0 + 0j]),
        pv_bus=np.array([1]),
        pv_regulated_bus=np.array([2]),
        pv_v_pu=np.array([1.0]),
        pv_q_pu=np.array([-0.05]),  # the file's Q of the generator (load sign), replaced by the solved one
        pv_q_min_pu=np.array([-math.inf]),
        pv_q_max_pu=np.array([q_max_pu]),
    )


def test_a_remote_control_holds_the_regulated_bus() -> None:
    result = solve_case(_chain(), tolerance=1e-12)
    assert result.converged
    assert result.v_pu[2] == pytest.approx(1.0, abs=1e-12)
    assert result.v_pu[1] > 1.0  # the generator lifts its own bus to hold the far end
    assert result.pv_held.tolist() == [True]
    q_inject = -float(result.q_pv_pu[0])
    # the same grid with the generator a PQ injection of the solved Q has the same voltages
    pq = solve_case(_as_pq(_chain(), q_inject - 0.05), solver="nr", tolerance=1e-12)
    np.testing.assert_allclose(result.v_phasor_pu, pq.v_phasor_pu, atol=1e-10)
    assert result.max_mismatch_pu < 1e-10


def test_a_remote_control_at_its_limit_lets_the_regulated_bus_go() -> None:
    free = -float(solve_case(_chain(), tolerance=1e-12).q_pv_pu[0])
    capped = solve_case(_chain(q_max_pu=0.8 * free), tolerance=1e-12)
    assert capped.pv_held.tolist() == [False]
    assert capped.q_pv_pu[0] == pytest.approx(-0.8 * free, abs=1e-10)
    assert capped.v_pu[2] < 1.0


def test_a_regulated_bus_is_checked() -> None:
    with pytest.raises(ConfigError, match="both a slack and in pv_regulated_bus"):
        dataclasses.replace(_chain(), pv_regulated_bus=np.array([0]))


def test_the_pv_grid_as_pq_at_its_solved_q_is_the_same_operating_point() -> None:
    for case in (_two_bus(1.05), _chain()):
        pv = solve_case(case, tolerance=1e-12)
        pq_case = case.with_pv_as_pq(pv.q_pv_pu)
        assert pq_case.n_pv == 0
        pq = solve_case(pq_case, tolerance=1e-12)
        assert pq.solver == "fbs"  # without PV buses the radial grid goes back to the sweep
        np.testing.assert_allclose(pq.v_phasor_pu, pv.v_phasor_pu, atol=1e-10)
    with pytest.raises(ConfigError, match="with_pv_as_pq"):
        _two_bus().with_pv_as_pq(np.zeros(2))


pp = pytest.importorskip("pandapower")

F_HZ = 50.0
S_BASE_MVA = 100.0
V_KV = 110.0
# a meshed 110 kV grid: (from, to, r ohm/km, x ohm/km, c nF/km, km)
LINES = [
    (0, 1, 0.12, 0.39, 9.5, 30.0),
    (1, 2, 0.12, 0.39, 9.5, 25.0),
    (2, 3, 0.06, 0.30, 12.0, 40.0),
    (3, 0, 0.12, 0.39, 9.5, 35.0),
    (1, 3, 0.06, 0.30, 12.0, 20.0),
    (3, 4, 0.12, 0.39, 9.5, 15.0),
]
LOADS = [(1, 60.0, 25.0), (3, 35.0, 12.0), (4, 50.0, 30.0)]
VM_SLACK = 1.02
# generators: bus, p_mw, vm_pu, min_q_mvar, max_q_mvar (generator sense); bus 3 holds two
GENS = [(2, 40.0, 1.01, -20.0, 40.0), (3, 15.0, 1.015, -10.0, 20.0), (3, 10.0, 1.015, -10.0, 30.0),
        (4, 20.0, 1.03, -10.0, 8.0)]  # fmt: skip


def _pandapower_net() -> object:
    net = pp.create_empty_network(f_hz=F_HZ, sn_mva=S_BASE_MVA)
    for _ in range(5):
        pp.create_bus(net, vn_kv=V_KV)
    pp.create_ext_grid(net, 0, vm_pu=VM_SLACK)
    for f, t, r, x, c, km in LINES:
        pp.create_line_from_parameters(net, f, t, length_km=km, r_ohm_per_km=r, x_ohm_per_km=x, c_nf_per_km=c,
                                       max_i_ka=1.0)  # fmt: skip
    for bus, p, q in LOADS:
        pp.create_load(net, bus, p_mw=p, q_mvar=q)
    for bus, p, vm, q_min, q_max in GENS:
        pp.create_gen(net, bus, p_mw=p, vm_pu=vm, min_q_mvar=q_min, max_q_mvar=q_max)
    return net


def _cimflow_case() -> PerUnitCase:
    """The same grid in per unit, converted by hand; the generators of a bus add up their limits."""
    z_base = V_KV**2 / S_BASE_MVA
    y_series = [z_base / complex(r * km, x * km) for _, _, r, x, _, km in LINES]
    y_half = [1j * 2 * math.pi * F_HZ * c * 1e-9 * km * z_base / 2 for *_, c, km in LINES]
    s_p = np.zeros(5, dtype=complex)
    for bus, p, q in LOADS:
        s_p[bus] += complex(p, q) / S_BASE_MVA
    pv: dict[int, list[float]] = {}  # bus -> [v, q_min, q_max]
    for bus, p, vm, q_min, q_max in GENS:
        s_p[bus] -= p / S_BASE_MVA
        entry = pv.setdefault(bus, [vm, 0.0, 0.0])
        entry[1] += q_min / S_BASE_MVA
        entry[2] += q_max / S_BASE_MVA
    buses = sorted(pv)
    return PerUnitCase(
        s_base_mva=S_BASE_MVA,
        v_base_kv=np.full(5, V_KV),
        branch_from=np.array([f for f, *_ in LINES]),
        branch_to=np.array([t for _, t, *_ in LINES]),
        y_series_pu=np.array(y_series),
        y_shunt_from_pu=np.array(y_half),
        y_shunt_to_pu=np.array(y_half),
        tap_ratio=np.ones(len(LINES)),
        bus_shunt_pu=np.zeros(5),
        s_const_power_pu=s_p,
        s_const_current_pu=np.zeros(5),
        s_const_impedance_pu=np.zeros(5),
        slack_bus=np.array([0]),
        slack_v_pu=np.array([VM_SLACK + 0j]),
        pv_bus=np.array(buses),
        pv_v_pu=np.array([pv[b][0] for b in buses]),
        pv_q_pu=np.zeros(len(buses)),
        pv_q_min_pu=np.array([pv[b][1] for b in buses]),
        pv_q_max_pu=np.array([pv[b][2] for b in buses]),
    )


@pytest.mark.parametrize("enforce", [True, False])
def test_agrees_with_pandapower_gen(enforce: bool) -> None:
    net = _pandapower_net()
    pp.runpp(net, algorithm="nr", calculate_voltage_angles=True, tolerance_mva=1e-11, enforce_q_lims=enforce)
    case = _cimflow_case()
    if not enforce:
        case = dataclasses.replace(
            case, pv_q_min_pu=np.full(case.n_pv, -np.inf), pv_q_max_pu=np.full(case.n_pv, np.inf)
        )
    result = solve_case(case, tolerance=1e-12)
    assert result.converged
    v_pp = net.res_bus.vm_pu.to_numpy() * np.exp(1j * np.radians(net.res_bus.va_degree.to_numpy()))
    np.testing.assert_allclose(result.v_phasor_pu, v_pp, rtol=0, atol=1e-9)  # the same model: round-off
    # pandapower's res_gen is in generator sense; cimflow's PV bus Q in load sign convention, per bus
    q_pp = net.res_gen.groupby(net.gen.bus).q_mvar.sum()
    assert result.q_pv_mvar.tolist() == pytest.approx((-q_pp[case.pv_bus]).tolist(), abs=1e-6)
    assert result.q_slack_mvar[0] == pytest.approx(-net.res_ext_grid.q_mvar[0], abs=1e-6)
    assert result.p_slack_mw[0] == pytest.approx(-net.res_ext_grid.p_mw[0], abs=1e-6)
    # enforced, bus 4's generator reaches its 8 Mvar; short of it, bus 3 then needs more than its two
    # generators' 20 + 30 Mvar: a second round of switching; unenforced, every generator holds its bus
    assert result.pv_held.tolist() == [True, not enforce, not enforce]
    if enforce:
        assert result.q_pv_mvar[1:].tolist() == pytest.approx([-50.0, -8.0], abs=1e-9)
        assert result.v_pu[3] < 1.015
        assert result.v_pu[4] < 1.03
