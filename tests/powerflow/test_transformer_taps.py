"""Tap changers (ratio, phase, tables) on either transformer end, and series branches, against a hand calculation
of the physical circuit (always) and against PowSyBl OpenLoadFlow on the same CGMES files (when installed).

The two-bus files come from :mod:`tests.powerflow.two_bus`; its ``solve_by_hand`` writes the circuit of IEC
61970-301 directly (ideal transformer of complex ratio ``n`` at each tapped terminal, the star model in per unit
of the rated voltages between them) and solves the bus-2 voltage with its own Newton iteration.
"""

from __future__ import annotations

import cmath
import math
import zipfile
from pathlib import Path

import pytest

import cimflow
from tests.powerflow.cim_helpers import run_openloadflow, solve_files
from tests.powerflow.two_bus import End, Phase, Ratio, TwoBus, solve_by_hand, solve_three_by_hand, write_two_bus

_TABLE = {s: (1 + 0.015 * s, 1.0 * s, 4.0 * s, 10.0 * s, 5.0 * s) for s in range(-10, 11)}
_PHASE_TABLE = {s: (1 + 0.01 * s, 3.0 * s, 2.0 * s, 5.0 * s, 0.0, 0.0) for s in range(-10, 11)}

CASES = {
    "ratio-end1-z-end1": TwoBus(end1=End(115, 2, 40, ratio=Ratio(3))),
    "ratio-end2-z-end1": TwoBus(end1=End(115, 2, 40), end2=End(21, ratio=Ratio(3))),
    "ratio-end2-z-end2": TwoBus(end1=End(115), end2=End(21, 0.07, 1.3, ratio=Ratio(-4))),
    "ratio-end1-z-end2": TwoBus(end1=End(115, ratio=Ratio(-4)), end2=End(21, 0.07, 1.3)),
    "ratio-end1-magnetising-end1": TwoBus(end1=End(115, 2, 40, g_s=2e-5, b_s=-8e-5, ratio=Ratio(5))),
    "ratio-table-end2": TwoBus(end1=End(115, 2, 40), end2=End(21, ratio=Ratio(2, table=_TABLE))),
    "ratio-table-end1-magnetising": TwoBus(end1=End(115, 2, 40, g_s=2e-5, b_s=-8e-5, ratio=Ratio(-3, table=_TABLE))),
    "linear-end1": TwoBus(end1=End(115, 2, 40, phase=Phase("Linear", 4))),
    "linear-end2": TwoBus(end1=End(115, 2, 40), end2=End(21, phase=Phase("Linear", 4))),
    "symmetrical-end1": TwoBus(end1=End(115, 2, 40, phase=Phase("Symmetrical", 6, normal=6))),
    "symmetrical-end2": TwoBus(end1=End(115, 2, 40), end2=End(21, phase=Phase("Symmetrical", -3, normal=-3))),
    "asymmetrical-end1": TwoBus(end1=End(115, 2, 40, phase=Phase("Asymmetrical", 6, winding_angle_deg=60))),
    "asymmetrical-end2": TwoBus(end1=End(115, 2, 40), end2=End(21, phase=Phase("Asymmetrical", -5))),
    "ratio-and-asymmetrical-end1": TwoBus(
        end1=End(115, 2, 40, g_s=2e-5, b_s=-8e-5, ratio=Ratio(2), phase=Phase("Asymmetrical", 7, winding_angle_deg=120))
    ),
    "symmetrical-x-curve-end1": TwoBus(
        end1=End(115, 2, 40, phase=Phase("Symmetrical", 6, normal=6, low=-8, high=12, x_range=(40, 52)))
    ),
    "linear-x-curve-end2": TwoBus(
        end1=End(115), end2=End(21, 0.07, 1.3, phase=Phase("Linear", -7, x_range=(1.3, 1.9)))
    ),
    "asymmetrical-x-curve-end1": TwoBus(
        end1=End(115, 2, 40, phase=Phase("Asymmetrical", 9, low=-15, high=12, winding_angle_deg=60, x_range=(40, 47)))
    ),
    "asymmetrical-x-curve-below-neutral": TwoBus(
        end1=End(
            115, 2, 40, phase=Phase("Asymmetrical", -10, low=-15, high=12, winding_angle_deg=120, x_range=(40, 47))
        )
    ),
    "tabular-end1": TwoBus(end1=End(115, 2, 40, phase=Phase("Tabular", 2, table=_PHASE_TABLE))),
    "tabular-end2": TwoBus(end1=End(115, 2, 40), end2=End(21, phase=Phase("Tabular", -4, table=_PHASE_TABLE))),
    "series-compensator": TwoBus(series=("SeriesCompensator", 0.5, -31.8), base_kv=(110.0, 110.0)),
    "equivalent-branch": TwoBus(series=("EquivalentBranch", 1.5, 12.0), base_kv=(110.0, 110.0)),
}
# where PowSyBl's CGMES import departs from IEC 61970-301 by design (see the README), checked separately
DIFFERENT_IN_POWSYBL = {
    "impedance-on-both-ends": TwoBus(end1=End(115, 1, 20), end2=End(21, 0.035, 0.65, ratio=Ratio(3))),
    "magnetising-end2": TwoBus(end1=End(115, 2, 40), end2=End(21, g_s=6e-4, b_s=-2.4e-3, ratio=Ratio(5))),
    "neutral-u-not-rated-u": TwoBus(end1=End(115, 2, 40), end2=End(21, ratio=Ratio(2, neutral_u_kv=20.5))),
    "x-min-not-end-x": TwoBus(end1=End(115, 2, 40, phase=Phase("Symmetrical", 9, normal=9, x_range=(34, 52)))),
}


def _cimflow_v2(case: TwoBus, tmp: Path) -> tuple[list[Path], complex]:
    paths = write_two_bus(case, tmp)
    solved = solve_files(paths, tolerance=1e-12)
    assert solved.result.converged
    kv, angle = solved.result.v_kv, solved.result.v_angle_rad
    names = [b.topological_nodes[0] for b in solved.topology.buses]
    i1, i2 = names.index("tn1"), names.index("tn2")
    return paths, cmath.rect(kv[i2], angle[i2] - angle[i1])


@pytest.mark.parametrize("name", [*CASES, *DIFFERENT_IN_POWSYBL])
def test_agrees_with_the_hand_calculation(tmp_path: Path, name: str) -> None:
    case = {**CASES, **DIFFERENT_IN_POWSYBL}[name]
    _paths, v2 = _cimflow_v2(case, tmp_path)
    expected = solve_by_hand(case)
    assert abs(v2) == pytest.approx(abs(expected), abs=1e-8 * case.base_kv[1])
    assert math.degrees(cmath.phase(v2)) == pytest.approx(math.degrees(cmath.phase(expected)), abs=1e-7)


def test_the_tap_end_matters() -> None:
    """A tap on end 2 with the impedance on end 1 is not the same circuit as the impedance referred to end 2 with
    the reciprocal tap at end 1 (what cimflow did before): the cases above can tell the two apart."""
    on_end2 = solve_by_hand(CASES["ratio-end2-z-end1"])
    n2 = 1 + 3 * 1.25 / 100
    moved = TwoBus(end1=End(115, 2, 40, ratio=Ratio(0, neutral_u_kv=115 / n2)), end2=End(21))
    assert abs(abs(solve_by_hand(moved)) - abs(on_end2)) > 1e-3 * 20


def _powsybl_network(pp: object, paths: list[Path], tmp: Path) -> object:
    """PowSyBl's import of the CGMES files ``paths`` (zipped together, as it reads a set of profiles)."""
    archive = tmp / "grid.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in paths:
            zf.write(p, p.name)
    return pp.network.load(str(archive))  # type: ignore[attr-defined]


def _olf_v2(paths: list[Path], tmp: Path) -> complex:
    pp = pytest.importorskip("pypowsybl")
    net = _powsybl_network(pp, paths, tmp)
    slack_bus = net.get_generators().iloc[0].bus_id
    run_openloadflow(pp, net, slack_bus, reactive_limits=False)
    buses = net.get_buses()
    b1 = buses.loc[slack_bus]
    b2 = buses.loc[next(i for i in buses.index if i != slack_bus)]
    return cmath.rect(b2.v_mag, math.radians(b2.v_angle - b1.v_angle))


@pytest.mark.parametrize("name", list(CASES))
def test_agrees_with_openloadflow(tmp_path: Path, name: str) -> None:
    # PowSyBl (pypowsybl 1.16) takes a PhaseTapChangerSymmetrical's EQ normalStep rather than the SSH step:
    # those cases set both to the same step
    case = CASES[name]
    paths, v2 = _cimflow_v2(case, tmp_path)
    ref = _olf_v2(paths, tmp_path)
    assert abs(v2) == pytest.approx(abs(ref), abs=1e-9 * case.base_kv[1])
    assert math.degrees(cmath.phase(v2)) == pytest.approx(math.degrees(cmath.phase(ref)), abs=1e-8)


def test_powsybl_sums_the_ends_impedances_unreferred(tmp_path: Path) -> None:
    """PowSyBl adds r1 + r2, x1 + x2 as if both were at end 1's voltage (x1 != 0), and moves end 2's magnetising
    admittance to end 1; cimflow refers each end's values to its ratedU and keeps them where the file puts them."""
    both = DIFFERENT_IN_POWSYBL["impedance-on-both-ends"]
    paths, v2 = _cimflow_v2(both, tmp_path)
    ref = _olf_v2(paths, tmp_path)
    summed = TwoBus(end1=End(115, 1 + 0.035, 20 + 0.65), end2=End(21, ratio=Ratio(3)))
    assert abs(ref) == pytest.approx(abs(solve_by_hand(summed)), abs=1e-8 * 20)
    assert abs(abs(v2) - abs(ref)) > 1e-2 * 20
    mag = DIFFERENT_IN_POWSYBL["magnetising-end2"]
    (tmp_path / "b").mkdir()
    paths, v2 = _cimflow_v2(mag, tmp_path / "b")
    ref = _olf_v2(paths, tmp_path / "b")
    moved = TwoBus(end1=End(115, 2, 40), end2=End(21, ratio=Ratio(5)))  # end 1's inside: no effect on bus 2
    assert abs(ref) == pytest.approx(abs(solve_by_hand(moved)), abs=1e-8 * 20)
    assert abs(abs(v2) - abs(ref)) > 1e-3 * 20


def test_powsybl_ignores_neutral_u(tmp_path: Path) -> None:
    """cimflow moves the winding voltage from neutralU (IEC 61970-301 TapChanger.neutralU); PowSyBl from ratedU."""
    case = DIFFERENT_IN_POWSYBL["neutral-u-not-rated-u"]
    paths, v2 = _cimflow_v2(case, tmp_path)
    ref = _olf_v2(paths, tmp_path)
    from_rated = TwoBus(end1=End(115, 2, 40), end2=End(21, ratio=Ratio(2)))
    assert abs(ref) == pytest.approx(abs(solve_by_hand(from_rated)), abs=1e-8 * 20)
    assert abs(abs(v2) - abs(ref)) > 1e-2 * 20


def test_powsybl_starts_the_reactance_curve_at_x_min(tmp_path: Path) -> None:
    """Where a phase shifter's xMin disagrees with the ends' x, cimflow keeps the ends' x at the neutral step (the
    CGMES RDFS: "In case of inconsistency, PowerTransformerEnd.x shall be used") and adds the curve's rise; PowSyBl
    takes xMin + (xMax - xMin)·f² outright."""
    case = DIFFERENT_IN_POWSYBL["x-min-not-end-x"]
    paths, v2 = _cimflow_v2(case, tmp_path)
    ref = _olf_v2(paths, tmp_path)
    from_x_min = TwoBus(end1=End(115, 2, 34, phase=Phase("Symmetrical", 9, normal=9, x_range=(34, 52))))
    assert abs(ref) == pytest.approx(abs(solve_by_hand(from_x_min)), abs=1e-8 * 20)
    assert abs(abs(v2) - abs(ref)) > 1e-3 * 20
    findings = cimflow.solve(paths).findings
    assert any(f.code == "CF051" and f.location.attribute == "xMin" for f in findings)


def test_a_non_reciprocal_equivalent_branch_is_symmetric_and_reported(tmp_path: Path) -> None:
    case = CASES["equivalent-branch"]
    paths = write_two_bus(case, tmp_path)
    eq = paths[0].read_text()
    eq = eq.replace(
        "<cim:EquivalentBranch.x>12.0</cim:EquivalentBranch.x>",
        "<cim:EquivalentBranch.x>12.0</cim:EquivalentBranch.x>\n"
        "    <cim:EquivalentBranch.r21>1.7</cim:EquivalentBranch.r21>\n"
        "    <cim:EquivalentBranch.x21>12.5</cim:EquivalentBranch.x21>",
    )
    assert "r21" in eq
    paths[0].write_text(eq)
    solved = cimflow.solve(paths)
    assert solved.solution is not None
    v_kv = sorted(b.v_kv for b in solved.solution.buses)
    assert v_kv[0] == pytest.approx(abs(solve_by_hand(case)), abs=1e-6 * 110)
    assert any(f.code == "CF051" and f.location.attribute == "r21_ohm" for f in solved.findings)


def test_the_sv_written_back_has_a_tap_step_per_tap_changer(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cimflow.cli.app import app

    paths = write_two_bus(CASES["ratio-and-asymmetrical-end1"], tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["solve", *map(str, paths), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (sv,) = out.glob("*_SV.xml")
    text = sv.read_text()
    for changer, step in (("rtc1", 2), ("ptc1", 7)):
        assert f'<cim:SvTapStep.TapChanger rdf:resource="#_{changer}"/>' in text
        assert f"<cim:SvTapStep.position>{step}</cim:SvTapStep.position>" in text  # xsd:float, 12 digits


THREE_WINDING = {
    "three-winding-ratio-end2": TwoBus(
        end1=End(115, 1.0, 25.0, g_s=1e-5, b_s=-4e-5),
        end2=End(21, 0.02, 0.5, g_s=3e-4, b_s=-1e-3, ratio=Ratio(4)),
        end3=End(10.5, 0.004, 0.09),
        base_kv=(110.0, 20.0, 10.0),
    ),
    "three-winding-phase-end1-ratio-end3": TwoBus(
        end1=End(115, 1.0, 25.0, phase=Phase("Asymmetrical", 5, winding_angle_deg=60)),
        end2=End(21, 0.02, 0.5),
        end3=End(10.5, 0.004, 0.09, ratio=Ratio(-6)),
        base_kv=(110.0, 20.0, 10.0),
    ),
}


def _cimflow_v23(case: TwoBus, tmp: Path) -> tuple[list[Path], complex, complex]:
    paths = write_two_bus(case, tmp)
    solved = solve_files(paths, tolerance=1e-12)
    kv, angle = solved.result.v_kv, solved.result.v_angle_rad
    names = [b.topological_nodes[0] if b.topological_nodes else "" for b in solved.topology.buses]
    i1, i2, i3 = (names.index(f"tn{k}") for k in (1, 2, 3))
    return paths, cmath.rect(kv[i2], angle[i2] - angle[i1]), cmath.rect(kv[i3], angle[i3] - angle[i1])


@pytest.mark.parametrize("name", list(THREE_WINDING))
def test_three_winding_agrees_with_the_hand_calculation(tmp_path: Path, name: str) -> None:
    case = THREE_WINDING[name]
    _paths, v2, v3 = _cimflow_v23(case, tmp_path)
    for got, expected, kv in zip((v2, v3), solve_three_by_hand(case), case.base_kv[1:], strict=True):
        assert abs(got) == pytest.approx(abs(expected), abs=1e-8 * kv)
        assert math.degrees(cmath.phase(got)) == pytest.approx(math.degrees(cmath.phase(expected)), abs=1e-7)


@pytest.mark.parametrize("name", list(THREE_WINDING))
def test_three_winding_agrees_with_openloadflow(tmp_path: Path, name: str) -> None:
    pp = pytest.importorskip("pypowsybl")
    case = THREE_WINDING[name]
    paths, v2, v3 = _cimflow_v23(case, tmp_path)
    net = _powsybl_network(pp, paths, tmp_path)
    slack_bus = net.get_generators().iloc[0].bus_id
    run_openloadflow(pp, net, slack_bus)
    buses = net.get_buses()
    by_kv = {round(net.get_voltage_levels().loc[row.voltage_level_id].nominal_v): row for _i, row in buses.iterrows()}
    a1 = by_kv[110].v_angle
    for got, kv in ((v2, 20), (v3, 10)):
        ref = cmath.rect(by_kv[kv].v_mag, math.radians(by_kv[kv].v_angle - a1))
        assert abs(got) == pytest.approx(abs(ref), abs=1e-9 * kv)
        assert math.degrees(cmath.phase(got)) == pytest.approx(math.degrees(cmath.phase(ref)), abs=1e-8)
