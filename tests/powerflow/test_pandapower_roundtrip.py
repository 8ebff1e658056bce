"""Grids built in pandapower, written as CGMES by PowSyBl (pypowsybl's converter and exporter), solved by cimflow
and compared with pandapower's own solution of the same grid.

This is how many CIM files reach a planner: a grid modelled in one tool and exported by another. The
exporter marks no slack (every machine has ``referencePriority`` 0) and writes pandapower's external grid
as the largest SynchronousMachine; generators are voltage-regulating machines with reactive limits. The
transmission cases have no transformer shunts and must agree to round-off; the LV feeder differs by
pandapower's T-model transformer (about 2e-5 pu).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

pp = pytest.importorskip("pypowsybl")
ppw = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")

from tests.powerflow.cim_helpers import solve_files  # noqa: E402


def _export(net: object, folder: Path) -> list[Path]:
    network = pp.network.convert_from_pandapower(net)
    network.save(str(folder / "grid"), format="CGMES")
    return sorted(p for p in folder.glob("*.xml") if not p.stem.upper().endswith("SV"))


def _compare(net: object, folder: Path) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ppw.runpp(net, calculate_voltage_angles=True, enforce_q_lims=True, tolerance_mva=1e-10)
    solved = solve_files(_export(net, folder))
    assert solved.result.converged
    v, a = solved.v_pu_of_tn(), solved.angle_deg_of_tn()
    res = net.res_bus  # type: ignore[attr-defined]
    slack = int(net.ext_grid.bus.iloc[0])  # type: ignore[attr-defined]
    dv = max(abs(v[f"bus_{i}"] - row.vm_pu) for i, row in res.iterrows())
    # angles relative to the external grid (pandapower's may sit at another angle than 0)
    da = max(
        abs((a[f"bus_{i}"] - a[f"bus_{slack}"]) - (row.va_degree - res.va_degree[slack])) for i, row in res.iterrows()
    )
    return dv, da


@pytest.mark.parametrize("case", ["case9", "case14", "case30", "case57"])
def test_transmission_cases_with_voltage_regulating_generators(case: str, tmp_path: Path) -> None:
    net = getattr(pn, case)()
    dv, da = _compare(net, tmp_path)
    assert dv < 1e-8
    assert da < 1e-6


def test_the_external_grid_is_the_slack_wherever_it_is(tmp_path: Path) -> None:
    """case9 with the external grid moved to the generator at bus 1 (and a generator at bus 0 instead): the
    exported machines are not in the order of their role, so the slack must be found by size."""
    net = pn.case9()
    gen = net.gen.index[net.gen.bus == 1][0]
    ext = net.ext_grid.index[0]
    old_bus, v_old = int(net.ext_grid.bus[ext]), float(net.ext_grid.vm_pu[ext])
    v_new = float(net.gen.vm_pu[gen])
    p_new = float(net.gen.p_mw[gen])
    net.ext_grid.loc[ext, ["bus", "vm_pu"]] = [1, v_new]
    net.gen.loc[gen, ["bus", "vm_pu", "p_mw"]] = [old_bus, v_old, p_new]
    dv, da = _compare(net, tmp_path)
    assert dv < 1e-8
    assert da < 1e-6


def test_low_voltage_feeder(tmp_path: Path) -> None:
    net = pn.create_kerber_dorfnetz()
    net.trafo["shift_degree"] = 0.0  # PowSyBl's exporter writes no fixed phase shift
    dv, da = _compare(net, tmp_path)
    assert dv < 1e-4  # pandapower's T-model transformer against the CGMES pi placement
    assert da < 1e-2


def test_without_the_size_rule_the_slack_would_be_the_first_machine(tmp_path: Path) -> None:
    """The exported files carry no reference marker: what decides is the size rule (a check that the test above
    really exercises it)."""
    net = pn.case9()
    gen = net.gen.index[net.gen.bus == 1][0]
    net.ext_grid.loc[net.ext_grid.index[0], "bus"] = 1
    net.gen.loc[gen, "bus"] = 0
    files = _export(net, tmp_path)
    ssh = next(p for p in files if "SSH" in p.name.upper()).read_text()
    assert ssh.count("<cim:SynchronousMachine.referencePriority>0<") == ssh.count(
        "<cim:SynchronousMachine.referencePriority>"
    )
    solved = solve_files(files)
    by_tn = {b.topological_node: k for k, b in enumerate(solved.topology.buses)}
    assert solved.build.case.slack_bus.tolist() == [by_tn["bus_1"]]
    assert by_tn["bus_0"] in solved.build.case.pv_bus.tolist()  # the generator there holds its voltage
