"""Voltage-regulating generators read from CGMES: which become PV buses, what is reported, what is written."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import cimflow
from cimflow.apps.hosting import hosting_capacity, prepare_hosting
from cimflow.apps.hosting_criteria import HostingConfig
from cimflow.model.state import SvPowerFlow
from cimflow.powerflow import solve_case
from cimflow.report.cim_annotated import render_annotated_cim
from cimflow.report.solve_json import solve_document
from cimflow.report.solve_markdown import render_solve_markdown
from cimflow.solve import SolveOptions
from tests.conftest import ROOT
from tests.powerflow.cim_helpers import SSH_HEADER as _SSH_HEADER
from tests.powerflow.cim_helpers import VOLTAGE_MODE as _MODE

_TOPO = Path(__file__).resolve().parents[1] / "data" / "cim" / "topology"
SCHEMA = json.loads((ROOT / "schemas" / "solve-report.schema.json").read_text())


def _machine(name: str, node: str, regulated_terminal: str | None = None) -> tuple[str, str, str]:
    """EQ, TP and SSH text of a SynchronousMachine at ``node`` with a voltage RegulatingControl."""
    terminal = f"_{name}_t1"
    eq = (
        f'  <cim:SynchronousMachine rdf:ID="_{name}"><cim:IdentifiedObject.name>{name}</cim:IdentifiedObject.name>'
        f'<cim:RegulatingCondEq.RegulatingControl rdf:resource="#_{name}_rc"/>'
        "<cim:SynchronousMachine.minQ>-0.03</cim:SynchronousMachine.minQ>"
        "<cim:SynchronousMachine.maxQ>0.06</cim:SynchronousMachine.maxQ></cim:SynchronousMachine>\n"
        f'  <cim:Terminal rdf:ID="{terminal}"><cim:Terminal.ConductingEquipment rdf:resource="#_{name}"/>'
        "<cim:ACDCTerminal.sequenceNumber>1</cim:ACDCTerminal.sequenceNumber></cim:Terminal>\n"
        f'  <cim:RegulatingControl rdf:ID="_{name}_rc"><cim:RegulatingControl.mode rdf:resource="{_MODE}"/>'
        f'<cim:RegulatingControl.Terminal rdf:resource="#{regulated_terminal or terminal}"/></cim:RegulatingControl>\n'
    )
    tp = (
        f'  <cim:Terminal rdf:about="#{terminal}">'
        f'<cim:Terminal.TopologicalNode rdf:resource="#{node}"/></cim:Terminal>\n'
    )
    ssh = (
        f'  <cim:SynchronousMachine rdf:about="#_{name}"><cim:RotatingMachine.p>-0.02</cim:RotatingMachine.p>'
        "<cim:RotatingMachine.q>-0.001</cim:RotatingMachine.q>"
        "<cim:RegulatingCondEq.controlEnabled>true</cim:RegulatingCondEq.controlEnabled></cim:SynchronousMachine>\n"
        f'  <cim:RegulatingControl rdf:about="#_{name}_rc"><cim:RegulatingControl.targetValue>0.41'
        "</cim:RegulatingControl.targetValue><cim:RegulatingControl.enabled>true</cim:RegulatingControl.enabled>"
        "</cim:RegulatingControl>\n"
    )
    return eq, tp, ssh


def _loads() -> str:
    return "".join(
        f'  <cim:EnergyConsumer rdf:about="#{m}"><cim:EnergyConsumer.p>{p}</cim:EnergyConsumer.p>'
        f"<cim:EnergyConsumer.q>{q}</cim:EnergyConsumer.q></cim:EnergyConsumer>\n"
        for m, p, q in (("_load1", 0.05, 0.01), ("_load2", 0.03, 0.02))
    )


def _grid(tmp: Path, *machines: tuple[str, str, str]) -> list[Path]:
    """The bus-branch feeder (grid, 20/0.4 kV transformer, nodes n1, n2 with loads) plus ``machines``."""
    tmp.mkdir(parents=True, exist_ok=True)
    eq = (_TOPO / "bus_branch_EQ.xml").read_text(encoding="utf-8")
    tp = (_TOPO / "bus_branch_TP.xml").read_text(encoding="utf-8")
    eq = eq.replace("</rdf:RDF>", "".join(m[0] for m in machines) + "</rdf:RDF>")
    tp = tp.replace("</rdf:RDF>", "".join(m[1] for m in machines) + "</rdf:RDF>")
    ssh = _SSH_HEADER + _loads() + "".join(m[2] for m in machines) + "</rdf:RDF>\n"
    paths = [tmp / "g_EQ.xml", tmp / "g_TP.xml", tmp / "g_SSH.xml"]
    for path, text in zip(paths, (eq, tp, ssh), strict=True):
        path.write_text(text, encoding="utf-8")
    return paths


def test_a_local_voltage_control_holds_its_bus(tmp_path: Path) -> None:
    paths = _grid(tmp_path, _machine("gen", "_n2"))
    result = cimflow.solve(paths)
    solution = result.solution
    assert solution is not None
    assert solution.converged
    assert solution.solver == "nr"
    n2 = next(b for b in solution.buses if b.name == "n2")
    assert n2.v_kv == pytest.approx(0.41, abs=1e-9)
    (gen,) = solution.generators
    assert (gen.id, gen.bus, gen.held) == ("gen", n2.id, True)
    assert gen.v_set_pu == pytest.approx(0.41 / 0.4)
    assert (gen.q_min_mvar, gen.q_max_mvar) == (-0.03, 0.06)
    assert gen.p_mw == pytest.approx(-0.02)
    assert -0.06 < gen.q_mvar < 0  # supplying reactive power, within its limit, and not the file's -0.001
    assert abs(gen.q_mvar + 0.001) > 1e-3
    assert solution.generation_mvar == pytest.approx(-gen.q_mvar)
    # without the control the same generator is a PQ injection at the file's q, and n2 sags
    plain = cimflow.solve(_grid(tmp_path / "pq"))
    assert plain.solution is not None
    assert next(b for b in plain.solution.buses if b.name == "n2").v_kv < 0.41


def test_the_sv_profile_carries_the_solved_reactive_power(tmp_path: Path) -> None:
    paths = _grid(tmp_path, _machine("gen", "_n2"))
    result = cimflow.solve(paths)
    assert result.solution is not None
    assert result.build is not None
    assert result.result is not None
    network, topology = result.validation.network, result.validation.topology
    assert network is not None
    assert topology is not None
    docs = render_annotated_cim(network, topology, result.build, result.result, result.solution, stem="out")
    sv_name, sv = next((name, data) for name, data in docs.documents if name.endswith("_SV.xml"))
    (tmp_path / sv_name).write_bytes(sv)
    reread = cimflow.load([*paths, tmp_path / sv_name]).network
    assert reread is not None
    flows = {f.terminal: f for f in reread.of(SvPowerFlow).values()}
    (gen,) = result.solution.generators
    assert flows["gen_t1"].q_mvar == pytest.approx(gen.q_mvar, rel=1e-9)
    assert flows["gen_t1"].p_mw == pytest.approx(-0.02, rel=1e-9)


def test_a_remote_control_holds_the_regulated_bus(tmp_path: Path) -> None:
    # the machine at n1 regulates the voltage at n2 (through the load's terminal there)
    machine = _machine("remote", "_n1", regulated_terminal="_load2_t1")
    machine = (machine[0].replace("maxQ>0.06", "maxQ>0.5"), machine[1], machine[2])
    result = cimflow.solve(_grid(tmp_path, machine))
    solution = result.solution
    assert solution is not None
    assert solution.converged
    n1 = next(b for b in solution.buses if b.name == "n1")
    n2 = next(b for b in solution.buses if b.name == "n2")
    assert n2.v_kv == pytest.approx(0.41, abs=1e-9)
    assert abs(n1.v_kv - 0.41) > 1e-4
    (gen,) = solution.generators
    assert (gen.bus, gen.regulated_bus, gen.held) == (n1.id, n2.id, True)
    assert not [f for f in result.findings if f.location.attribute == "regulating_control"]
    # the report lists it, and the report still follows its schema
    document = solve_document(result, inputs=["g_EQ.xml", "g_TP.xml", "g_SSH.xml"])
    jsonschema.validate(document, SCHEMA)
    (record,) = document["generators"]
    assert (record["id"], record["bus"], record["regulated_bus"], record["held"]) == ("remote", n1.id, n2.id, True)
    markdown = render_solve_markdown(document)
    assert "## Voltage-regulating generators" in markdown
    assert "| `remote` remote | `n1` | `n2` | 1.025 |" in markdown
    # short of reactive power it cannot hold n2
    capped = cimflow.solve(_grid(tmp_path / "capped", _machine("remote", "_n1", regulated_terminal="_load2_t1")))
    assert capped.solution is not None
    (gen,) = capped.solution.generators
    assert gen.held is False
    assert gen.q_mvar == pytest.approx(-0.06, abs=1e-9)
    assert next(b for b in capped.solution.buses if b.name == "n2").v_kv < 0.41


def test_a_control_of_a_bus_held_already_stays_pq_and_is_reported(tmp_path: Path) -> None:
    # a machine at n2 holds n2; a second one at n1 regulating n2 as well cannot
    local, remote = _machine("local", "_n2"), _machine("remote", "_n1", regulated_terminal="_load2_t1")
    result = cimflow.solve(_grid(tmp_path, local, remote))
    assert result.solution is not None
    assert result.solution.converged
    assert [g.id for g in result.solution.generators] == ["local"]
    notes = [f for f in result.findings if f.code == "CF051" and f.location.attribute == "regulating_control"]
    assert [f.location.mrid for f in notes] == ["remote"]
    assert "held by local already" in notes[0].message
    assert result.solution.generation_mvar == pytest.approx(0.001 - result.solution.generators[0].q_mvar)


def test_two_generators_on_one_bus_share_it_by_their_range(tmp_path: Path) -> None:
    first, second = _machine("g1", "_n2"), _machine("g2", "_n2")
    second = (second[0].replace("<cim:SynchronousMachine.maxQ>0.06", "<cim:SynchronousMachine.maxQ>0.15"),
              second[1], second[2].replace("0.41</cim", "0.405</cim"))  # fmt: skip
    result = cimflow.solve(_grid(tmp_path, first, second))
    assert result.solution is not None
    g1, g2 = result.solution.generators
    n2 = next(b for b in result.solution.buses if b.name == "n2")
    assert n2.v_kv == pytest.approx(0.41, abs=1e-9)  # the first generator's set point
    conflict = [f for f in result.findings if f.code == "CF051" and f.location.attribute == "regulating_control"]
    assert [f.location.mrid for f in conflict] == ["g2"]
    # the same position within each range: (q - min) / (max - min) equal, in generator sense
    assert (-g1.q_mvar + 0.03) / 0.09 == pytest.approx((-g2.q_mvar + 0.03) / 0.18, rel=1e-9)


def test_fbs_asked_for_a_grid_with_pv_buses_is_solved_by_newton(tmp_path: Path) -> None:
    result = cimflow.solve(_grid(tmp_path, _machine("gen", "_n2")), options=SolveOptions(solver="fbs"))
    assert result.solution is not None
    assert result.solution.solver == "nr"
    notes = [f for f in result.findings if f.code == "CF051" and f.ctx.get("value") == "Newton-Raphson"]
    assert len(notes) == 1
    radial = cimflow.solve(_grid(tmp_path / "pq"), options=SolveOptions(solver="fbs"))
    assert radial.solution is not None
    assert radial.solution.solver == "fbs"


def test_hosting_capacity_starts_from_the_held_voltages(tmp_path: Path) -> None:
    machine = _machine("gen", "_n2")
    machine = (machine[0].replace("minQ>-0.03", "minQ>-0.5"), machine[1], machine[2])
    result = cimflow.solve(_grid(tmp_path, machine))
    network, topology = result.validation.network, result.validation.topology
    assert network is not None
    assert topology is not None
    assert result.build is not None
    assert result.result is not None
    study = prepare_hosting(network, topology, result.build, HostingConfig(kind="pv"))
    (island,) = [i for i in study.islands if i.problem is not None]
    assert island.problem is not None
    assert island.problem.case.n_pv == 0  # the generator keeps its solved Q in the scenarios
    # the scenarios' grid at no added power is the study's base (its load level) with the generator
    # holding n2 at its set point
    held = solve_case(study.base_case, tolerance=1e-12)
    n2 = next(b.index for b in topology.buses if b.name == "n2")
    assert held.v_kv[n2] == pytest.approx(0.41, abs=1e-9)
    frozen = solve_case(island.problem.case, tolerance=1e-12)
    np.testing.assert_allclose(frozen.v_phasor_pu, held.v_phasor_pu[island.bus_index], atol=1e-9)
    capacity = hosting_capacity(study)
    assert all(c.result.capacity_kw is not None for c in capacity.buses if c.result.binding.value != "not-energised")


def _remote_slack(target_kv: float) -> tuple[str, str, str]:
    """A voltage RegulatingControl for the grid's ExternalNetworkInjection whose Terminal is load 2's (on n2)."""
    eq = (
        '  <cim:ExternalNetworkInjection rdf:about="#_grid">'
        '<cim:RegulatingCondEq.RegulatingControl rdf:resource="#_grid_rc"/></cim:ExternalNetworkInjection>\n'
        f'  <cim:RegulatingControl rdf:ID="_grid_rc"><cim:RegulatingControl.mode rdf:resource="{_MODE}"/>'
        '<cim:RegulatingControl.Terminal rdf:resource="#_load2_t1"/></cim:RegulatingControl>\n'
    )
    ssh = (
        '  <cim:ExternalNetworkInjection rdf:about="#_grid">'
        "<cim:RegulatingCondEq.controlEnabled>true</cim:RegulatingCondEq.controlEnabled>"
        "</cim:ExternalNetworkInjection>\n"
        f'  <cim:RegulatingControl rdf:about="#_grid_rc"><cim:RegulatingControl.targetValue>{target_kv}'
        "</cim:RegulatingControl.targetValue><cim:RegulatingControl.enabled>true</cim:RegulatingControl.enabled>"
        "</cim:RegulatingControl>\n"
    )
    return eq, "", ssh


@pytest.mark.parametrize("target_kv", [0.40, 0.41])
def test_a_slack_regulating_a_remote_bus_holds_that_bus(tmp_path: Path, target_kv: float) -> None:
    """The grid's control regulates n2 at the far end of the feeder: n2 is held at the set point, and the grid's
    own bus takes the voltage that holds it, equal to a grid held there directly (solved again from that value)."""
    result = cimflow.solve(_grid(tmp_path, _remote_slack(target_kv)))
    solution = result.solution
    assert solution is not None
    assert solution.converged
    n2 = next(b for b in solution.buses if b.name == "n2")
    assert n2.v_kv == pytest.approx(target_kv, abs=1e-7)
    assert result.build is not None
    case = result.build.case
    assert case.slack_bus.size == 1
    held = solve_case(case.with_slack_voltage(case.slack_v_pu), tolerance=1e-12)
    np.testing.assert_allclose(held.v_phasor_pu, result.result.v_phasor_pu, atol=1e-7)  # type: ignore[union-attr]
    # the voltage that holds n2 is not the set point itself at the grid's bus (the feeder drops between them)
    assert abs(abs(case.slack_v_pu[0]) - target_kv / 0.4) > 1e-3
    assert not [f for f in result.findings if f.location.attribute == "regulating_control"]
