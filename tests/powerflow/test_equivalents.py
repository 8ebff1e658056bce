"""Injections besides loads and machines (EnergySource as PQ, EquivalentInjection, AsynchronousMachine,
StaticVarCompensator, converters, EquivalentShunt, NonlinearShuntCompensator), against independent tools.

Hand cases (always run): the bus-branch feeder of ``tests/data/cim/topology`` with one more piece of
equipment at node n2 must give the same voltages as the same feeder with an EnergyConsumer (or a
LinearShuntCompensator, or a voltage-regulating SynchronousMachine) of the documented equivalent value,
and different voltages from the feeder without it. Shared models: pandapower's example_multivoltage
against its own ``from_cim`` + ``runpp`` and its SV; ENTSO-E MicroGrid BE (CGMES 2.4.15 and 3.0) and
MiniGrid against PowSyBl OpenLoadFlow.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import cimflow
from cimflow.ids import normalise_mrid
from cimflow.solve import SolveResult
from cimflow.topology import SourceRule, build_topology
from tests.powerflow.cim_helpers import Solved, solve_files, sv_reference

_TOPO = Path(__file__).resolve().parents[1] / "data" / "cim" / "topology"
_SSH_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#" xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#">
  <md:FullModel rdf:about="urn:uuid:5b0c0000-0000-4000-8000-000000000013">
    <md:Model.created>2024-01-01T00:00:00Z</md:Model.created>
    <md:Model.profile>http://entsoe.eu/CIM/SteadyStateHypothesis/1/1</md:Model.profile>
  </md:FullModel>
"""
_MODE = "http://iec.ch/TC57/2013/CIM-schema-cim16#RegulatingControlModeKind.voltage"
Piece = tuple[str, str, str]  # EQ, TP and SSH text


def _piece(cls: str, name: str, eq: str = "", ssh: str = "", node: str = "_n2") -> Piece:
    """One single-terminal object of class ``cls`` at ``node`` with EQ and SSH attribute text."""
    eq_text = (
        f'  <cim:{cls} rdf:ID="_{name}"><cim:IdentifiedObject.name>{name}</cim:IdentifiedObject.name>'
        f"{eq}</cim:{cls}>\n"
        f'  <cim:Terminal rdf:ID="_{name}_t1"><cim:Terminal.ConductingEquipment rdf:resource="#_{name}"/>'
        "<cim:ACDCTerminal.sequenceNumber>1</cim:ACDCTerminal.sequenceNumber></cim:Terminal>\n"
    )
    tp = (
        f'  <cim:Terminal rdf:about="#_{name}_t1"><cim:Terminal.TopologicalNode rdf:resource="#{node}"/>'
        "</cim:Terminal>\n"
    )
    ssh_text = f'  <cim:{cls} rdf:about="#_{name}">{ssh}</cim:{cls}>\n' if ssh else ""
    return eq_text, tp, ssh_text


def _load(p: float, q: float) -> Piece:
    return _piece("EnergyConsumer", "ref", ssh=f"<cim:EnergyConsumer.p>{p}</cim:EnergyConsumer.p>"
                  f"<cim:EnergyConsumer.q>{q}</cim:EnergyConsumer.q>")  # fmt: skip


def _linear_shunt(g: float, b: float) -> Piece:
    return _piece(
        "LinearShuntCompensator", "ref",
        eq=f"<cim:LinearShuntCompensator.gPerSection>{g}</cim:LinearShuntCompensator.gPerSection>"
        f"<cim:LinearShuntCompensator.bPerSection>{b}</cim:LinearShuntCompensator.bPerSection>",
        ssh="<cim:ShuntCompensator.sections>1</cim:ShuntCompensator.sections>",
    )  # fmt: skip


def _grid(tmp: Path, *pieces: Piece, extra_eq: str = "", no_grid: bool = False) -> list[Path]:
    """The bus-branch feeder (grid, 20/0.4 kV transformer, nodes n1, n2 with loads) plus ``pieces``."""
    tmp.mkdir(parents=True, exist_ok=True)
    eq = (_TOPO / "bus_branch_EQ.xml").read_text(encoding="utf-8")
    tp = (_TOPO / "bus_branch_TP.xml").read_text(encoding="utf-8")
    if no_grid:
        eq = re.sub(r'  <cim:ExternalNetworkInjection rdf:ID="_grid"/>\n', "", eq)
        eq = re.sub(r'  <cim:Terminal rdf:ID="_grid_t1">.*?</cim:Terminal>\n', "", eq)
        tp = re.sub(r'  <cim:Terminal rdf:about="#_grid_t1">.*?</cim:Terminal>\n', "", tp)
    eq = eq.replace("</rdf:RDF>", "".join(p[0] for p in pieces) + extra_eq + "</rdf:RDF>")
    tp = tp.replace("</rdf:RDF>", "".join(p[1] for p in pieces) + "</rdf:RDF>")
    loads = "".join(
        f'  <cim:EnergyConsumer rdf:about="#{m}"><cim:EnergyConsumer.p>{p}</cim:EnergyConsumer.p>'
        f"<cim:EnergyConsumer.q>{q}</cim:EnergyConsumer.q></cim:EnergyConsumer>\n"
        for m, p, q in (("_load1", 0.05, 0.01), ("_load2", 0.03, 0.02))
    )
    ssh = _SSH_HEADER + loads + "".join(p[2] for p in pieces) + "</rdf:RDF>\n"
    paths = [tmp / "g_EQ.xml", tmp / "g_TP.xml", tmp / "g_SSH.xml"]
    for path, text in zip(paths, (eq, tp, ssh), strict=True):
        path.write_text(text, encoding="utf-8")
    return paths


def _volts(paths: list[Path]) -> tuple[np.ndarray, SolveResult]:
    result = cimflow.solve(paths)
    assert result.solution is not None
    assert result.solution.converged
    return np.array([b.v_kv * np.exp(1j * np.radians(b.angle_deg)) for b in result.solution.buses]), result


def _assumed(result: SolveResult, mrid: str) -> list[str]:
    return [str(f.ctx.get("reason", "")) for f in result.findings if f.code == "CF051" and f.location.mrid == mrid]


def _same_as(tmp: Path, piece: Piece, reference: Piece) -> SolveResult:
    """Solve the feeder with ``piece``, check it equals the feeder with ``reference`` and not the bare one."""
    mine, result = _volts(_grid(tmp / "mine", piece))
    ref, _ = _volts(_grid(tmp / "ref", reference))
    bare, _ = _volts(_grid(tmp / "bare"))
    assert mine == pytest.approx(ref, abs=1e-12)
    assert np.abs(mine - bare).max() > 1e-4  # the injection matters
    return result


def test_an_energy_source_beside_an_external_grid_is_a_pq_injection(tmp_path: Path) -> None:
    source = _piece(
        "EnergySource", "es",
        eq="<cim:EnergySource.nominalVoltage>0.4</cim:EnergySource.nominalVoltage>"
        "<cim:EnergySource.voltageMagnitude>0.41</cim:EnergySource.voltageMagnitude>",
        ssh="<cim:EnergySource.activePower>-0.06</cim:EnergySource.activePower>"
        "<cim:EnergySource.reactivePower>-0.01</cim:EnergySource.reactivePower>",
    )  # fmt: skip
    result = _same_as(tmp_path, source, _load(-0.06, -0.01))
    assert result.solution is not None
    assert [s.id for s in result.solution.slacks] == ["grid"]
    (reason,) = [r for r in _assumed(result, "es") if "ExternalNetworkInjection" in r]
    assert "fed by ExternalNetworkInjection grid" in reason
    assert "voltageMagnitude 0.41 kV is not held" in reason


def test_without_an_external_grid_the_energy_source_with_a_voltage_is_the_slack(tmp_path: Path) -> None:
    magnitude = "<cim:EnergySource.voltageMagnitude>0.41</cim:EnergySource.voltageMagnitude>"
    held = _piece("EnergySource", "es_v", eq=magnitude, node="_n1")
    infeed = _piece("EnergySource", "a_pq", ssh="<cim:EnergySource.activePower>-0.06</cim:EnergySource.activePower>"
                    "<cim:EnergySource.reactivePower>0</cim:EnergySource.reactivePower>")  # fmt: skip
    loaded = cimflow.load(_grid(tmp_path / "v", held, infeed, no_grid=True)).network
    assert loaded is not None
    topology = build_topology(loaded).value
    assert topology is not None
    (island,) = [i for i in topology.islands if i.sources]
    assert [(s.mrid, s.rule) for s in island.sources] == [("es_v", SourceRule.ENERGY_SOURCE)]
    mine, result = _volts(_grid(tmp_path / "v", held, infeed, no_grid=True))
    assert result.solution is not None
    n1 = next(b for b in result.solution.buses if b.name == "n1")
    assert n1.v_kv == pytest.approx(0.41, abs=1e-12)
    # the other one is a PQ injection: as a load of the same value
    ref, _ = _volts(_grid(tmp_path / "ref", held, _load(-0.06, 0.0), no_grid=True))
    assert mine == pytest.approx(ref, abs=1e-12)
    # none with a voltage: the first (by mRID) is the slack, the other PQ
    other = _piece("EnergySource", "b_pq", ssh="<cim:EnergySource.activePower>-0.01</cim:EnergySource.activePower>",
                   node="_n1")  # fmt: skip
    loaded = cimflow.load(_grid(tmp_path / "none", infeed, other, no_grid=True)).network
    assert loaded is not None
    topology = build_topology(loaded).value
    assert topology is not None
    assert [[s.mrid for s in i.sources] for i in topology.islands if i.sources] == [["a_pq"]]
