"""Cross-check against pandapower on the same small MV/LV network built from the same parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cimflow.powerflow import PerUnitCase, solve_case

pp = pytest.importorskip("pandapower")

F_HZ = 50.0
S_BASE_MVA = 1.0  # pandapower's default net.sn_mva

# MV lines (from, to, r ohm/km, x ohm/km, c nF/km, km) and an LV cable behind the transformer
LINES = [(0, 1, 0.161, 0.117, 273.0, 2.0), (1, 2, 0.253, 0.119, 210.0, 1.5), (3, 4, 0.206, 0.080, 260.0, 0.3)]
V_KV = [20.0, 20.0, 20.0, 0.4, 0.4]
# transformer 20/0.4 kV, 0.63 MVA, tap at HV, +2 steps of 2.5 %, Dyn5 (150°), no magnetising branch
TRAFO = {"sn_mva": 0.63, "vk_percent": 6.0, "vkr_percent": 1.1, "tap_pos": 2, "tap_step_percent": 2.5, "shift": 150.0}
# loads: bus, p_mw, q_mvar, const Z share, const I share (active and reactive alike)
LOADS = [(2, 1.2, 0.4, 0.3, 0.2), (3, 0.2, 0.05, 0.0, 0.0), (4, 0.15, 0.03, 0.0, 0.5)]
# a 50 kW PV system, a negative load; at a bus whose load is constant-power because pandapower folds
# static generators into the bus load and would apply that bus's ZIP shares to them as well
SGEN = (3, 0.05)
VM_SLACK, VA_SLACK_DEG = 1.02, 10.0


def _pandapower_net() -> object:
    net = pp.create_empty_network(f_hz=F_HZ, sn_mva=S_BASE_MVA)
    for v in V_KV:
        pp.create_bus(net, vn_kv=v)
    pp.create_ext_grid(net, 0, vm_pu=VM_SLACK, va_degree=VA_SLACK_DEG)
    for f, t, r, x, c, km in LINES:
        pp.create_line_from_parameters(
            net, f, t, length_km=km, r_ohm_per_km=r, x_ohm_per_km=x, c_nf_per_km=c, max_i_ka=1.0
        )
    pp.create_transformer_from_parameters(
        net,
        hv_bus=1,
        lv_bus=3,
        sn_mva=TRAFO["sn_mva"],
        vn_hv_kv=20.0,
        vn_lv_kv=0.4,
        vkr_percent=TRAFO["vkr_percent"],
        vk_percent=TRAFO["vk_percent"],
        pfe_kw=0.0,
        i0_percent=0.0,
        shift_degree=TRAFO["shift"],
        tap_side="hv",
        tap_neutral=0,
        tap_min=-5,
        tap_max=5,
        tap_step_percent=TRAFO["tap_step_percent"],
        tap_pos=TRAFO["tap_pos"],
        tap_changer_type="Ratio",
    )
    for bus, p, q, z_share, i_share in LOADS:
        pp.create_load(
            net,
            bus,
            p_mw=p,
            q_mvar=q,
            const_z_p_percent=100 * z_share,
            const_i_p_percent=100 * i_share,
            const_z_q_percent=100 * z_share,
            const_i_q_percent=100 * i_share,
        )
    pp.create_sgen(net, SGEN[0], p_mw=SGEN[1])
    return net


def _cimflow_case() -> PerUnitCase:
    """The same network in per unit, converted by hand (z_base = V² / S_base, b = 2πf·C·length)."""
    y_series, y_half = [], []
    for f, _, r, x, c, km in LINES:
        z_base = V_KV[f] ** 2 / S_BASE_MVA
        y_series.append(z_base / complex(r * km, x * km))
        y_half.append(1j * 2 * math.pi * F_HZ * c * 1e-9 * km * z_base / 2)
    # transformer: z_k on the LV base, ratio 1 + 2·2.5 % at the HV (from) side, LV lagging by 150°
    z_k = TRAFO["vk_percent"] / 100 * S_BASE_MVA / TRAFO["sn_mva"]
    r_k = TRAFO["vkr_percent"] / 100 * S_BASE_MVA / TRAFO["sn_mva"]
    y_series.append(1 / complex(r_k, math.sqrt(z_k**2 - r_k**2)))
    y_half.append(0j)
    ratio = (1 + TRAFO["tap_pos"] * TRAFO["tap_step_percent"] / 100) * np.exp(1j * math.radians(TRAFO["shift"]))
    s_p, s_i, s_z = (np.zeros(len(V_KV), dtype=complex) for _ in range(3))
    for bus, p, q, z_share, i_share in LOADS:
        s = complex(p, q) / S_BASE_MVA
        s_p[bus] += s * (1 - z_share - i_share)
        s_i[bus] += s * i_share
        s_z[bus] += s * z_share
    s_p[SGEN[0]] -= SGEN[1] / S_BASE_MVA
    return PerUnitCase(
        s_base_mva=S_BASE_MVA,
        v_base_kv=np.array(V_KV),
        branch_from=np.array([0, 1, 3, 1]),
        branch_to=np.array([1, 2, 4, 3]),
        y_series_pu=np.array(y_series),
        y_shunt_from_pu=np.array(y_half),
        y_shunt_to_pu=np.array(y_half),
        tap_ratio=np.array([1, 1, 1, ratio]),
        bus_shunt_pu=np.zeros(len(V_KV), dtype=complex),
        s_const_power_pu=s_p,
        s_const_current_pu=s_i,
        s_const_impedance_pu=s_z,
        slack_bus=np.array([0]),
        slack_v_pu=np.array([VM_SLACK * np.exp(1j * math.radians(VA_SLACK_DEG))]),
    )


@pytest.mark.parametrize("solver", ["fbs", "nr"])
def test_agrees_with_pandapower(solver: str) -> None:
    net = _pandapower_net()
    pp.runpp(net, algorithm="nr", calculate_voltage_angles=True, tolerance_mva=1e-11, trafo_model="pi")
    result = solve_case(_cimflow_case(), solver=solver, tolerance=1e-12)
    assert result.converged
    v_pp = net.res_bus.vm_pu.to_numpy() * np.exp(1j * np.radians(net.res_bus.va_degree.to_numpy()))
    np.testing.assert_allclose(result.v_phasor_pu, v_pp, rtol=0, atol=1e-6)
    # the LV side lags the HV side by the vector group's 150° (plus the drop)
    assert math.degrees(result.v_angle_rad[3] - result.v_angle_rad[1]) == pytest.approx(-150, abs=2)
    # pandapower's ext_grid power is in generator sense, its branch powers in load sense (into the branch)
    assert result.p_slack_mw[0] == pytest.approx(-net.res_ext_grid.p_mw[0], abs=1e-6)
    assert result.q_slack_mvar[0] == pytest.approx(-net.res_ext_grid.q_mvar[0], abs=1e-6)
    np.testing.assert_allclose(result.p_from_mw[:3], net.res_line.p_from_mw, atol=1e-6)
    np.testing.assert_allclose(result.q_to_mvar[:3], net.res_line.q_to_mvar, atol=1e-6)
    np.testing.assert_allclose(result.i_from_a[:3], 1e3 * net.res_line.i_from_ka, rtol=1e-6)
    assert result.p_from_mw[3] == pytest.approx(net.res_trafo.p_hv_mw[0], abs=1e-6)
    assert result.i_to_a[3] == pytest.approx(1e3 * net.res_trafo.i_lv_ka[0], rel=1e-6)
    p_loss_pp = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
    assert result.p_loss_mw == pytest.approx(p_loss_pp, abs=1e-6)
