"""cimflow's solve of real CIM files against the solutions shipped with them and against independent solvers.

References and the tolerance each one supports:

* SimBench LV urban6 written by PowSyBl (bundled sample): its SV is OpenLoadFlow's solution of the same
  CGMES semantics (tolerance 1e-10 pu in the tool), so cimflow must agree to 1e-8 pu and 1e-6 degrees.
* The same grid solved by pandapower (``reference.json``): pandapower's T-model transformer differs
  from the CGMES pi placement of the magnetising admittance by about 2e-5 pu, so 1e-4 pu.
* CIGRE MV exported by NEPLAN: NEPLAN writes no load values, only the SV flows at the load terminals,
  rounded to 3-4 digits, and no slack set point (cimflow takes 1.0 pu, as NEPLAN's SV shows). With the
  loads read back from those rounded flows the voltages agree to 1e-4 pu.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.powerflow.cim_helpers import solve_files, sv_reference

SAMPLE = ROOT / "samples" / "simbench-lv-urban6"
CGMES3 = ROOT / "tests" / "data" / "simbench-lv-urban6-cgmes3"
CIGRE = ROOT / "tests" / "data" / "cigre-mv"


def _inputs(folder: Path) -> list[Path]:
    """EQ, SSH, TP of a folder (never the SV: the SV is the reference, not an input)."""
    return sorted(p for p in folder.glob("*.xml") if not p.stem.endswith("_SV"))


@pytest.mark.parametrize("folder", [SAMPLE, CGMES3], ids=["cgmes-2.4.15", "cgmes-3.0"])
def test_simbench_matches_powsybl_sv(folder: Path) -> None:
    solved = solve_files(_inputs(folder))
    assert solved.result.converged
    reference = sv_reference(solve_files(sorted(folder.glob("*.xml"))).network)
    v, ang = solved.v_pu_of_tn(), solved.angle_deg_of_tn()
    bases = {b.topological_node: b.base_voltage_kv for b in solved.topology.buses}
    assert len(reference) == 59
    for tn, (v_kv, angle) in reference.items():
        assert v[tn] == pytest.approx(v_kv / bases[tn], abs=1e-8), tn
        assert ang[tn] == pytest.approx(angle, abs=1e-6), tn


def test_simbench_matches_pandapower_reference() -> None:
    ref = json.loads((SAMPLE / "reference.json").read_text())
    solved = solve_files(_inputs(SAMPLE))
    v, ang = solved.v_pu_of_tn(), solved.angle_deg_of_tn()
    bases = {b.topological_node: b.base_voltage_kv for b in solved.topology.buses}
    buses = ref["buses"]
    assert len(buses) == 59
    for bus in buses:
        tn = bus["tn_id"].lstrip("_")
        assert v[tn] * bases[tn] == pytest.approx(bus["vm_kv"], abs=1e-4 * bases[tn]), tn
        assert ang[tn] == pytest.approx(bus["va_degree"], abs=1e-2), tn
    slack = solved.result.s_slack_inject_pu[0] * solved.build.case.s_base_mva
    assert slack.real == pytest.approx(ref["slack"]["p_mw"], rel=1e-3)
    assert solved.result.p_loss_mw == pytest.approx(ref["totals"]["losses_p_mw"], rel=1e-2)


def test_cigre_mv_matches_neplan_sv() -> None:
    # the SV is an input here too: it is where NEPLAN put the load values (reported as CF051)
    solved = solve_files(sorted(CIGRE.glob("*.xml")))
    assert solved.result.converged
    reference = sv_reference(solve_files(sorted(CIGRE.glob("*.xml"))).network)
    v = solved.v_pu_of_tn()
    bases = {b.topological_node: b.base_voltage_kv for b in solved.topology.buses}
    assert len(reference) == 15
    worst = max(abs(v[tn] - v_kv / bases[tn]) for tn, (v_kv, _a) in reference.items())
    assert worst < 1e-4
    # NEPLAN, like PowSyBl and the ENTSO-E SVs, solves without the Dyn5 clock numbers (cimflow's default)
    ang = solved.angle_deg_of_tn()
    assert max(abs(ang[tn] - a) for tn, (_v, a) in reference.items()) < 1e-2


def test_cigre_mv_clock_numbers_turn_the_secondaries_when_asked() -> None:
    """With phase_angle_clock the two Dyn5 transformers turn their 20 kV sides by -150 degrees (as PowerFactory
    solves), and the magnitudes and flows stay those of the default solve."""
    import cimflow
    from cimflow.config import Settings

    paths = sorted(CIGRE.glob("*.xml"))
    # the setting reaches the case, and a solve without it says that the clock numbers were left out
    noted = [f for f in cimflow.solve(paths).findings if f.location.attribute == "phase_angle_clock"]
    assert len(noted) == 1
    assert "2 transformer(s)" in noted[0].message
    applied = cimflow.solve(paths, settings=Settings(phase_angle_clock=True))
    assert not any(f.location.attribute == "phase_angle_clock" for f in applied.findings)
    plain, clocked = solve_files(paths), solve_files(paths, phase_angle_clock=True)
    v0, v1 = plain.v_pu_of_tn(), clocked.v_pu_of_tn()
    a0, a1 = plain.angle_deg_of_tn(), clocked.angle_deg_of_tn()
    turned = {tn: (a1[tn] - a0[tn] + 180.0) % 360.0 - 180.0 for tn in a0}
    assert {round(d, 6) for d in turned.values()} == {0.0, -150.0}
    assert sum(1 for d in turned.values() if round(d) == -150) >= 10  # the 20 kV feeders
    assert max(abs(v0[tn] - v1[tn]) for tn in v0) < 1e-12
    assert abs(plain.result.p_loss_mw - clocked.result.p_loss_mw) < 1e-9


def test_fbs_and_nr_agree_on_real_feeder() -> None:
    fbs = solve_files(_inputs(SAMPLE), solver="fbs")
    nr = solve_files(_inputs(SAMPLE), solver="nr")
    assert fbs.result.solver == "fbs"
    assert nr.result.solver == "nr"
    assert abs(fbs.result.v_phasor_pu - nr.result.v_phasor_pu).max() < 1e-8
