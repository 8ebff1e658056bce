"""The issue's claims on a PV-heavy radial feeder, and the inverters cimflow finds in CIM files (ratings, findings)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from cimflow.apps.fuzzy import static_characteristic
from cimflow.apps.volt_var import (
    ControlConfig,
    ControlledResult,
    ControlMode,
    Inverter,
    RatingSource,
    inverters_of,
    solve_controlled,
)
from cimflow.powerflow import PerUnitCase
from cimflow.samples import synthetic_feeder
from cimflow.solve import SolveResult, solve
from tests.conftest import TEST_DATA

CURVE_MODES = (ControlMode.QU, ControlMode.IEEE1547_A, ControlMode.IEEE1547_B)
CONTROLLED = tuple(m for m in ControlMode if m is not ControlMode.NONE)


def _write(folder: Path, docs: dict[str, bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for profile, data in docs.items():
        (folder / f"feeder_{profile}.xml").write_bytes(data)
        paths.append(folder / f"feeder_{profile}.xml")
    return paths


@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> SolveResult:
    """400 buses, PV at every LV load bus (CGMES 3.0: PowerElectronicsConnection + PhotoVoltaicUnit)."""
    return solve(_write(tmp_path_factory.mktemp("pv3"), synthetic_feeder(400, version="3.0", pv_share=1.0)))


@pytest.fixture(scope="module")
def inverters(feeder: SolveResult) -> tuple[Inverter, ...]:
    assert feeder.build is not None
    assert feeder.validation.network is not None
    out = inverters_of(feeder.validation.network, feeder.build)
    assert out.value is not None
    assert out.findings == ()
    return out.value


def noon(feeder: SolveResult, slack_v_pu: float) -> PerUnitCase:
    """The feeder without its loads (a sunny holiday noon), the source held at ``slack_v_pu``."""
    assert feeder.build is not None
    case = feeder.build.case
    load = np.zeros(case.n_bus, dtype=complex)
    for rec in feeder.build.index.injections.records:
        if rec.role == "load":
            load[rec.bus] += complex(rec.p_mw, rec.q_mvar) / case.s_base_mva
    return case.with_extra_power(-load).with_slack_voltage(np.array([slack_v_pu + 0j]))


@pytest.fixture(scope="module")
def runs(feeder: SolveResult, inverters: tuple[Inverter, ...]) -> dict[tuple[float, ControlMode], ControlledResult]:
    return {(v, m): solve_controlled(noon(feeder, v), inverters, m) for v in (1.05, 1.08) for m in ControlMode}


def _limits(inverters: tuple[Inverter, ...]) -> np.ndarray:
    p = np.array([abs(i.p_mw) for i in inverters])
    s = np.array([i.s_rated_mva for i in inverters])
    pf = np.array([i.cos_phi_limit for i in inverters])
    return np.minimum(np.sqrt(np.maximum(s**2 - p**2, 0.0)), p * np.tan(np.arccos(pf)))


def test_inverters_of_the_synthetic_feeder(inverters: tuple[Inverter, ...], feeder: SolveResult) -> None:
    assert feeder.build is not None
    gens = [r for r in feeder.build.index.injections.records if r.role == "generation"]
    assert len(inverters) == len(gens) > 300
    for inv in inverters:
        assert inv.p_mw < 0
        assert inv.rating_source is RatingSource.FILE
        assert inv.p_mw == pytest.approx(-0.7 * inv.s_rated_mva, rel=1e-3)  # the sample's 70 % output
        assert inv.cos_phi_limit == (0.95 if inv.s_rated_mva <= 0.0046 else 0.90)
        assert inv.location is not None
        assert inv.location.line


@pytest.mark.parametrize("slack", [1.05, 1.08])
@pytest.mark.parametrize("mode", CONTROLLED)
def test_every_operating_point_lies_on_its_curve(runs, inverters, mode: ControlMode, slack: float) -> None:  # type: ignore[no-untyped-def]
    res = runs[(slack, mode)]
    cfg = ControlConfig()
    assert res.converged
    assert res.iterations >= 1
    v = res.result.v_pu[[i.bus for i in inverters]]  # the solved voltages, read from the power flow itself
    p = np.array([abs(i.p_mw) for i in inverters])
    s = np.array([i.s_rated_mva for i in inverters])
    limit = _limits(inverters)
    if mode in CURVE_MODES:
        curve = cfg.curve(mode)
        assert curve is not None
        wanted = -np.clip(np.interp(v, *zip(*curve.points, strict=True)) / 100 * s, -limit, limit)
        tol = cfg.tolerance_ratio * s
    elif mode is ControlMode.COSPHI_P:
        pf = 1 - np.clip((p / s - 0.5) / 0.5, 0, 1) * (1 - np.array([i.cos_phi_limit for i in inverters]))
        wanted, tol = p * np.tan(np.arccos(pf)), 1e-12
    elif mode is ControlMode.FIXED_COSPHI:
        wanted, tol = p * math.tan(math.acos(0.95)), 1e-12
    else:  # fuzzy: at the equilibrium the trend is 0, so the static characteristic applies
        wanted = -static_characteristic(cfg.fuzzy, v) * limit
        tol = 1e-3 * s
    assert np.all(np.abs(res.q_mvar - wanted) <= tol)


@pytest.mark.parametrize("slack", [1.05, 1.08])
@pytest.mark.parametrize("mode", CONTROLLED)
def test_limits_hold(runs, inverters, mode: ControlMode, slack: float) -> None:  # type: ignore[no-untyped-def]
    res = runs[(slack, mode)]
    s = np.array([i.s_rated_mva for i in inverters])
    assert np.all(np.abs(res.q_mvar) <= _limits(inverters) + ControlConfig().tolerance_ratio * s)
    assert np.all(np.abs(res.curve_q_mvar) <= _limits(inverters) + 1e-15)


@pytest.mark.parametrize("slack", [1.05, 1.08])
def test_voltage_control_lowers_the_maximum_voltage(runs, slack: float) -> None:  # type: ignore[no-untyped-def]
    v_none = runs[(slack, ControlMode.NONE)].result.v_pu.max()
    for mode in CONTROLLED:
        assert runs[(slack, mode)].result.v_pu.max() < v_none - 0.003, mode
        assert (runs[(slack, mode)].q_mvar >= 0).all()  # only absorption against a voltage rise


def test_curves_keep_the_band_and_so_does_the_fuzzy_controller(runs, inverters) -> None:  # type: ignore[no-untyped-def]
    v_max = 1.1  # EN 50160 band of the default settings
    assert runs[(1.08, ControlMode.NONE)].result.v_pu.max() > v_max  # the uncontrolled feeder violates it
    for mode in (ControlMode.QU, ControlMode.IEEE1547_B):
        assert runs[(1.08, mode)].result.v_pu.max() <= v_max
    fuzzy = runs[(1.08, ControlMode.FUZZY)]
    assert fuzzy.result.v_pu.max() <= v_max
    assert np.all(np.abs(fuzzy.q_mvar) <= _limits(inverters) + 1e-4 * np.array([i.s_rated_mva for i in inverters]))


def test_cos_phi_p_shape_on_the_feeder(runs, inverters) -> None:  # type: ignore[no-untyped-def]
    res = runs[(1.05, ControlMode.COSPHI_P)]
    ratio = res.curve_x
    pf = res.point_y
    assert ratio == pytest.approx([abs(i.p_mw) / i.p_rated_mw for i in inverters])
    assert np.all(pf[ratio <= 0.5] == pytest.approx(1.0))
    limit = np.array([i.cos_phi_limit for i in inverters])
    assert pf == pytest.approx(1 - (ratio - 0.5) / 0.5 * (1 - limit), abs=1e-12)  # the sample runs at 70 %
    assert (res.q_mvar > 0).all()  # underexcited


def test_fuzzy_power_input_also_converges(feeder, inverters) -> None:  # type: ignore[no-untyped-def]
    cfg = ControlConfig.from_mapping({"fuzzy": {"second_input": "power"}})
    res = solve_controlled(noon(feeder, 1.08), inverters, ControlMode.FUZZY, cfg)
    assert res.converged
    assert res.result.v_pu.max() < 1.1


def test_2415_and_30_give_the_same_inverters(tmp_path: Path, inverters) -> None:  # type: ignore[no-untyped-def]
    old = solve(_write(tmp_path, synthetic_feeder(400, version="2.4.15", pv_share=1.0)))
    assert old.build is not None
    assert old.validation.network is not None
    got = inverters_of(old.validation.network, old.build)
    assert got.findings == ()
    assert got.value is not None
    assert [i.cim_class for i in got.value] == ["SynchronousMachine"] * len(inverters)
    key = sorted((i.bus, i.p_mw, i.s_rated_mva, i.p_rated_mw) for i in got.value)
    assert key == sorted((i.bus, i.p_mw, i.s_rated_mva, i.p_rated_mw) for i in inverters)


def test_placeholder_ratings_of_simbench_fall_back_with_findings() -> None:
    res = solve(TEST_DATA / "simbench-lv-urban6-cgmes3")
    assert res.build is not None
    assert res.validation.network is not None
    got = inverters_of(res.validation.network, res.build)
    assert got.value is not None
    assert len(got.value) == 5
    assert {f.code for f in got.findings} == {"CF411"}
    assert len(got.findings) == 5
    for inv, finding in zip(got.value, sorted(got.findings, key=lambda f: f.location.mrid or ""), strict=False):
        assert inv.rating_source is RatingSource.PLACEHOLDER
        assert inv.s_rated_mva == pytest.approx(1.1 * abs(inv.p_mw))  # the GeneratingUnit's maxP is 9999 too
        assert finding.location.file
        assert finding.location.line
        assert "9999" in finding.message
    controlled = solve_controlled(res.build.case, got.value, ControlMode.IEEE1547_B)
    assert controlled.converged


def test_missing_and_too_small_ratings(tmp_path: Path) -> None:
    docs = synthetic_feeder(60, version="3.0", pv_share=0.5)
    eq = docs["EQ"].decode()
    ratings = re.findall(r"<cim:PowerElectronicsConnection.ratedS>[^<]*</cim:PowerElectronicsConnection.ratedS>", eq)
    assert len(ratings) >= 2
    eq = eq.replace(ratings[0], "", 1).replace(
        ratings[1], "<cim:PowerElectronicsConnection.ratedS>0.001</cim:PowerElectronicsConnection.ratedS>", 1
    )
    res = solve(_write(tmp_path, {**docs, "EQ": eq.encode()}))
    assert res.build is not None
    assert res.validation.network is not None
    got = inverters_of(res.validation.network, res.build)
    assert got.value is not None
    by_source = {i.rating_source: i for i in got.value}
    assert {f.code for f in got.findings} == {"CF412"}
    assert len(got.findings) == 2
    missing, small = by_source[RatingSource.MISSING], by_source[RatingSource.BELOW_OUTPUT]
    # the PhotoVoltaicUnit's maxP (the sample writes the rating there too) is the rated active power
    assert missing.s_rated_mva == pytest.approx(1.1 * missing.p_rated_mw)
    assert missing.p_rated_mw == pytest.approx(abs(missing.p_mw) / 0.7, rel=1e-3)
    assert small.s_rated_mva == pytest.approx(1.1 * small.p_rated_mw)


def test_run_control_reuses_the_uncontrolled_solve(feeder: SolveResult, inverters) -> None:  # type: ignore[no-untyped-def]
    from cimflow.apps.control_report import run_control

    assert feeder.build is not None
    assert feeder.result is not None
    assert feeder.validation.network is not None
    case = feeder.build.case
    out = run_control(feeder.validation.network, feeder.build, feeder.result, ControlMode.IEEE1547_B, ControlConfig())
    assert out.value is not None
    assert out.findings == ()
    run = out.value
    assert run.uncontrolled is feeder.result
    assert run.controlled.converged
    assert len(run.inverters) == len(inverters)
    ids = [f"bus{k}" for k in range(case.n_bus)]
    sections = run.sections(ids)
    assert len(sections["inverters"]) == len(inverters)
    assert sections["control"]["without"]["v_max_pu"] == pytest.approx(float(feeder.result.v_pu.max()))


def test_solve_runs_the_control_inside_the_pipeline(tmp_path: Path) -> None:
    from cimflow.config import Settings
    from cimflow.errors import ConfigError
    from cimflow.solve import SolveOptions

    paths = _write(tmp_path / "in", synthetic_feeder(120, version="3.0", pv_share=1.0))
    plain = solve(paths)
    assert plain.control is None
    assert plain.uncontrolled is plain.result
    assert plain.control_sections() is None
    run = solve(paths, options=SolveOptions(control=ControlMode.IEEE1547_B))
    assert run.control is not None
    assert run.result is run.control.controlled.result
    assert run.control.controlled.iterations >= 1
    assert run.converged
    assert run.uncontrolled is run.control.uncontrolled
    assert run.uncontrolled is not None
    assert plain.result is not None
    assert np.array_equal(run.uncontrolled.v_pu, plain.result.v_pu)
    assert run.solution is not None
    assert max(b.v_pu for b in run.solution.buses) < max(b.v_pu for b in plain.solution.buses)  # type: ignore[union-attr]
    assert "control" in run.timings_s
    # one state everywhere: the build, the solution's totals and the SV write-back see the controlled Q
    assert run.build is not None
    assert run.build.case is run.result.case
    q_total = float(run.control.controlled.q_mvar.sum())
    assert q_total > 0
    assert run.solution.generation_mvar == pytest.approx(-q_total)
    assert plain.build is not None
    assert plain.build.index.injections.records[0].q_mvar == 0.0  # not changed
    sections = run.control_sections()
    assert sections is not None
    assert sections["control"]["mode"] == "ieee1547-b"
    # the [tool.cimflow] keys: control and a control configuration file
    cfg = tmp_path / "vv.toml"
    cfg.write_text("[ieee1547_b]\npoints = [[0.9, 10.0], [1.1, -10.0]]\n", encoding="utf-8")
    by_settings = solve(paths, settings=Settings(control="ieee1547-b", control_config=str(cfg)))
    assert by_settings.control is not None
    assert by_settings.control.config.ieee1547_b.points[0] == (0.9, 10.0)
    with pytest.raises(ConfigError, match="control"):
        SolveOptions(control="volt-watt")  # type: ignore[arg-type]
