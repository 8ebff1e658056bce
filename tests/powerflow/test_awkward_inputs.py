"""Grids the power flow must take without a traceback: two sources on one node, a branch from a node to
itself, transformers described by tanks, the CIMHub transformer examples."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import cimflow

_DATA = Path(__file__).resolve().parents[1] / "data"
_TOPO = _DATA / "cim" / "topology"
_XFMR = _DATA / "cimhub" / "xfmr_examples.zip"


def _terminal(tid: str, equipment: str, seq: int) -> str:
    return (
        f'  <cim:Terminal rdf:ID="{tid}"><cim:Terminal.ConductingEquipment rdf:resource="#{equipment}"/>'
        f"<cim:ACDCTerminal.sequenceNumber>{seq}</cim:ACDCTerminal.sequenceNumber></cim:Terminal>\n"
    )


def _at_node(tid: str, node: str) -> str:
    return f'  <cim:Terminal rdf:about="#{tid}"><cim:Terminal.TopologicalNode rdf:resource="#{node}"/></cim:Terminal>\n'


def _load(mrid: str, p: float, q: float) -> str:
    return (
        f'  <cim:EnergyConsumer rdf:about="#{mrid}"><cim:EnergyConsumer.p>{p}</cim:EnergyConsumer.p>'
        f"<cim:EnergyConsumer.q>{q}</cim:EnergyConsumer.q></cim:EnergyConsumer>\n"
    )


_LOADS = _load("_load1", 0.05, 0.01) + _load("_load2", 0.03, 0.02)
_SECOND_SOURCE_EQ = '  <cim:ExternalNetworkInjection rdf:ID="_grid2"/>\n' + _terminal("_grid2_t1", "_grid2", 1)
_SECOND_SOURCE_TP = _at_node("_grid2_t1", "_hv")
_SELF_LOOP_EQ = (
    '  <cim:ACLineSegment rdf:ID="_l3"><cim:Conductor.length>0.1</cim:Conductor.length>'
    "<cim:ACLineSegment.r>0.1</cim:ACLineSegment.r><cim:ACLineSegment.x>0.05</cim:ACLineSegment.x>"
    "</cim:ACLineSegment>\n" + _terminal("_l3_t1", "_l3", 1) + _terminal("_l3_t2", "_l3", 2)
)
_SELF_LOOP_TP = _at_node("_l3_t1", "_n2") + _at_node("_l3_t2", "_n2")


def _grid(tmp: Path, *, eq_extra: str = "", tp_extra: str = "") -> list[Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    eq = (_TOPO / "bus_branch_EQ.xml").read_text(encoding="utf-8").replace("</rdf:RDF>", eq_extra + "</rdf:RDF>")
    tp = (_TOPO / "bus_branch_TP.xml").read_text(encoding="utf-8")
    tp = tp.replace("</rdf:RDF>", _LOADS + tp_extra + "</rdf:RDF>")
    (tmp / "g_EQ.xml").write_text(eq, encoding="utf-8")
    (tmp / "g_TP.xml").write_text(tp, encoding="utf-8")
    return [tmp / "g_EQ.xml", tmp / "g_TP.xml"]


def _voltages(result: cimflow.SolveResult) -> dict[str, float]:
    assert result.solution is not None
    assert result.solution.converged
    return {b.id: b.v_pu for b in result.solution.buses}


def test_two_sources_on_one_node_share_one_slack(tmp_path: Path) -> None:
    one = cimflow.solve(_grid(tmp_path / "one"))
    two = cimflow.solve(_grid(tmp_path / "two", eq_extra=_SECOND_SOURCE_EQ, tp_extra=_SECOND_SOURCE_TP))
    assert _voltages(two) == pytest.approx(_voltages(one), abs=1e-12)
    assert one.solution is not None
    assert two.solution is not None
    (single,) = one.solution.slacks
    assert abs(single.p_mw) > 0.07  # the 80 kW of load plus losses
    assert sorted(s.id for s in two.solution.slacks) == ["grid", "grid2"]
    for s in two.solution.slacks:
        assert s.bus == single.bus
        assert s.p_mw == pytest.approx(single.p_mw / 2, rel=1e-9)
        assert s.q_mvar == pytest.approx(single.q_mvar / 2, rel=1e-9)


def test_a_line_from_a_node_to_itself_is_left_out_and_reported(tmp_path: Path) -> None:
    plain = cimflow.solve(_grid(tmp_path / "plain"))
    looped = cimflow.solve(_grid(tmp_path / "loop", eq_extra=_SELF_LOOP_EQ, tp_extra=_SELF_LOOP_TP))
    assert _voltages(looped) == pytest.approx(_voltages(plain), abs=1e-12)
    notes = [f for f in looped.findings if f.code == "CF051" and f.location.attribute == "terminals"]
    assert [f.location.mrid for f in notes] == ["l3"]
    assert looped.solution is not None
    assert "l3" not in {b.id for b in looped.solution.branches}


def test_the_cimhub_transformer_examples_solve_together() -> None:
    result = cimflow.solve([_XFMR])
    assert result.solution is not None
    assert result.solution.converged


_MEMBERS = sorted(zipfile.ZipFile(_XFMR).namelist())


@pytest.mark.parametrize("member", _MEMBERS)
def test_each_cimhub_transformer_example_solves(member: str, tmp_path: Path) -> None:
    path = tmp_path / member
    path.write_bytes(zipfile.ZipFile(_XFMR).read(member))
    result = cimflow.solve([path])
    assert result.solution is not None, member
    assert result.solution.converged, member
    v = [b.v_pu for b in result.solution.buses if b.energised]
    assert v, member
    assert all(0.5 < x < 1.5 for x in v), member
