"""Curves, presets, limits and the control configuration: shapes from the standards, validation, TOML."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from cimflow.apps.setpoints import PlantArrays, curve_line, operating_y, set_points
from cimflow.apps.volt_var import (
    IEEE1547_A,
    IEEE1547_B,
    VDE_QU,
    ControlConfig,
    ControlMode,
    CosPhiPCurve,
    InverterLimits,
    QUCurve,
)
from cimflow.errors import ConfigError


def test_control_modes_are_the_contract() -> None:
    assert {m.value for m in ControlMode} == {
        "none", "fixed-cosphi", "cosphi-p", "qu", "ieee1547-a", "ieee1547-b", "fuzzy",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("curve", "points"),
    [
        (IEEE1547_A, [(0.90, 25.0), (1.00, 0.0), (1.10, -25.0)]),
        (IEEE1547_B, [(0.92, 44.0), (0.98, 0.0), (1.02, 0.0), (1.08, -44.0)]),
    ],
)
def test_ieee1547_presets(curve: QUCurve, points: list[tuple[float, float]]) -> None:
    for v, q in points:
        assert curve.q_inject_pct(np.array([v]))[0] == pytest.approx(q)
    # saturation beyond the ends, linear in between
    assert curve.q_inject_pct(np.array([0.5, 1.5])).tolist() == [points[0][1], points[-1][1]]
    v_mid = (points[-2][0] + points[-1][0]) / 2
    assert curve.q_inject_pct(np.array([v_mid]))[0] == pytest.approx(points[-1][1] / 2)


def test_vde_style_qu_default_has_a_dead_band_and_saturates_at_cos_phi_090() -> None:
    q = VDE_QU.q_inject_pct(np.array([0.90, 0.93, 0.97, 1.0, 1.03, 1.05, 1.07, 1.2]))
    q_max = 100 * math.sin(math.acos(0.9))
    assert q == pytest.approx([q_max, q_max, 0, 0, 0, -q_max / 2, -q_max, -q_max], abs=0.05)


def test_qu_curve_from_parameters_equals_its_points() -> None:
    by_params = QUCurve.model_validate({"v_ref_pu": 1.01, "dead_band_pu": 0.02, "saturation_pu": 0.05, "q_max_pct": 30})
    flat = [x for point in by_params.points for x in point]
    assert flat == pytest.approx([0.96, 30.0, 0.99, 0.0, 1.03, 0.0, 1.06, -30.0])


@pytest.mark.parametrize(
    "points",
    [
        [(1.0, 0.0)],  # one point
        [(1.0, 0.0), (0.9, 10.0)],  # voltages decreasing
        [(0.9, -10.0), (1.1, 10.0)],  # Q rising with voltage: destabilising
        [(1.0, 10.0), (1.0, 0.0)],  # vertical step of non-zero height
        [(0.9, 150.0), (1.1, -10.0)],  # beyond 100 % of rated S
    ],
)
def test_bad_qu_curves_are_rejected(points: list[tuple[float, float]]) -> None:
    with pytest.raises(ValidationError):
        QUCurve(points=tuple(points))


def test_cos_phi_p_follows_vde_ar_n_4105() -> None:
    curve = CosPhiPCurve()
    x = np.linspace(0, 1.2, 121)
    for limit in (0.95, 0.90):
        pf = curve.cos_phi(x, np.full(x.size, limit))
        assert np.all(pf[x <= 0.5 + 1e-12] == 1.0)
        assert pf[np.isclose(x, 1.0)][0] == pytest.approx(limit)
        assert np.all(pf[x >= 1.0] == pytest.approx(limit))
        ramp = pf[(x >= 0.5) & (x <= 1.0)]
        assert np.diff(ramp, 2) == pytest.approx(0.0, abs=1e-12)  # linear between 50 % and 100 %
        assert curve.cos_phi(np.array([0.75]), np.array([limit]))[0] == pytest.approx((1 + limit) / 2)


def test_plant_class_limit() -> None:
    limits = InverterLimits()
    assert limits.cos_phi_limit(0.0046) == 0.95
    assert limits.cos_phi_limit(0.0047) == 0.90


def _plants(p_mw: list[float], s_mva: list[float], pf: float = 0.9) -> PlantArrays:
    n = len(p_mw)
    return PlantArrays(np.array(p_mw), np.zeros(n), np.array(s_mva), np.array(s_mva), np.full(n, pf))


def test_limits_hold_for_every_mode() -> None:
    cfg = ControlConfig()
    plants = _plants([-0.010, -0.004, -0.0099, 0.0], [0.010, 0.010, 0.011, 0.010])
    circle = np.sqrt(np.maximum(plants.s_rated_mva**2 - plants.p_mw**2, 0))
    power_factor = np.abs(plants.p_mw) * math.tan(math.acos(0.9))
    for mode in ControlMode:
        if mode is ControlMode.NONE:
            continue
        for v in (0.8, 0.95, 1.0, 1.05, 1.2):
            sp = set_points(cfg, (mode,) * 4, plants, np.full(4, v), np.zeros(4))
            assert np.all(np.abs(sp.q_mvar) <= np.minimum(circle, power_factor) + 1e-15), (mode, v)
    # at full output on the S circle there is no reactive power left at all
    sp = set_points(cfg, (ControlMode.IEEE1547_B,), _plants([-0.01], [0.01]), np.array([1.1]), np.zeros(1))
    assert sp.q_mvar[0] == 0.0
    assert sp.limited[0]


def test_cos_phi_limit_can_be_switched_off() -> None:
    cfg = ControlConfig(limits=InverterLimits(enforce_cos_phi_limit=False))
    plants = _plants([-0.002], [0.010])
    sp = set_points(cfg, (ControlMode.IEEE1547_B,), plants, np.array([1.1]), np.zeros(1))
    assert sp.q_mvar[0] == pytest.approx(0.0044)  # 44 % of 10 kVA absorbed (load sign: > 0)
    cfg_on = ControlConfig()
    sp_on = set_points(cfg_on, (ControlMode.IEEE1547_B,), plants, np.array([1.1]), np.zeros(1))
    assert sp_on.q_mvar[0] == pytest.approx(0.002 * math.tan(math.acos(0.9)))


def test_sign_conventions() -> None:
    cfg = ControlConfig()
    plants = _plants([-0.005], [0.010])
    high = set_points(cfg, (ControlMode.QU,), plants, np.array([1.07]), np.zeros(1))
    low = set_points(cfg, (ControlMode.QU,), plants, np.array([0.93]), np.zeros(1))
    assert high.q_mvar[0] > 0 > low.q_mvar[0]  # absorbing is consumption of Q in the load sign convention
    fixed = set_points(cfg, (ControlMode.FIXED_COSPHI,), plants, np.array([1.0]), np.zeros(1))
    assert fixed.q_mvar[0] == pytest.approx(0.005 * math.tan(math.acos(0.95)))
    y = operating_y(ControlMode.FIXED_COSPHI, fixed.q_mvar, plants, fixed.q_limit_mvar)
    assert y[0] == pytest.approx(0.95)


def test_curve_lines_for_plots() -> None:
    cfg = ControlConfig()
    for mode in ControlMode:
        x, y = curve_line(mode, cfg)
        assert x.shape == y.shape
        assert np.isfinite(y).all()
    x, y = curve_line(ControlMode.COSPHI_P, cfg, cos_phi_limit=0.95)
    assert y[0] == 1.0
    assert y[-1] == pytest.approx(0.95)


def test_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "control.toml"
    path.write_text(
        "damping = 0.5\nmax-iter = 40\n[qu]\npoints = [[0.94, 40.0], [0.98, 0.0], [1.02, 0.0], [1.06, -40.0]]\n"
        '[fuzzy]\nsecond-input = "power"\n[limits]\ncos-phi-limit-large = 0.85\n[per_unit]\n"pv-1_a" = "cosphi-p"\n',
        encoding="utf-8",
    )
    cfg = ControlConfig.from_toml(path)
    assert cfg.damping == 0.5
    assert cfg.max_iter == 40
    assert cfg.qu.points[0] == (0.94, 40.0)
    assert cfg.fuzzy.second_input == "power"
    assert cfg.fuzzy.rules[0].second == "L"
    assert cfg.limits.cos_phi_limit_large == 0.85
    assert cfg.per_unit == {"pv-1_a": ControlMode.COSPHI_P}  # mRIDs are not re-cased
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.cimflow.control]\ndamping = 0.3\n", encoding="utf-8")
    assert ControlConfig.from_toml(pyproject).damping == 0.3


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("dampin = 0.5\n", "dampin"),
        ("damping = 2\n", "damping"),
        ("[qu]\npoints = [[1.1, 0], [0.9, 10]]\n", "must increase"),
        ("[per_unit]\nx = 'bogus'\n", "per_unit"),
        ("damping = \n", "not valid TOML"),
    ],
)
def test_bad_control_config_is_a_config_error(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        ControlConfig.from_toml(path)


def test_missing_control_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        ControlConfig.from_toml(tmp_path / "nope.toml")


def test_control_config_is_frozen() -> None:
    cfg = ControlConfig()
    with pytest.raises(ValidationError):
        cfg.damping = 0.1  # type: ignore[misc]


def test_settings_accept_exactly_the_control_modes() -> None:
    from typing import get_args

    from cimflow.config import ControlLabel, make_settings

    assert set(get_args(ControlLabel)) == {m.value for m in ControlMode}
    assert make_settings({"control": "IEEE1547-B", "control-config": "vv.toml"}).control == "ieee1547-b"
    with pytest.raises(ConfigError, match="control"):
        make_settings({"control": "volt-watt"})
