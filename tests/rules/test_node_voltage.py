"""Node voltages for the rules: declared by the node's container, else stated by equipment at the node."""

from __future__ import annotations

from pathlib import Path

import cimflow
from cimflow.rules._index import NetworkIndex

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#">
<cim:BaseVoltage rdf:ID="_BV04"><cim:BaseVoltage.nominalVoltage>0.4</cim:BaseVoltage.nominalVoltage></cim:BaseVoltage>
<cim:VoltageLevel rdf:ID="_VL04"><cim:VoltageLevel.BaseVoltage rdf:resource="#_BV04"/></cim:VoltageLevel>
<cim:ACLineSegment rdf:ID="_L1"><cim:ConductingEquipment.BaseVoltage rdf:resource="#_BV04"/>
  <cim:Conductor.length>0.1</cim:Conductor.length><cim:ACLineSegment.r>0.02</cim:ACLineSegment.r>
  <cim:ACLineSegment.x>0.008</cim:ACLineSegment.x></cim:ACLineSegment>
<cim:Terminal rdf:ID="_T1"><cim:Terminal.ConductingEquipment rdf:resource="#_L1"/>
  <cim:Terminal.ConnectivityNode rdf:resource="#_CN1"/></cim:Terminal>
<cim:Terminal rdf:ID="_T2"><cim:Terminal.ConductingEquipment rdf:resource="#_L1"/>
  <cim:Terminal.ConnectivityNode rdf:resource="#_CN2"/></cim:Terminal>
<cim:EnergyConsumer rdf:ID="_LOAD"/>
<cim:Terminal rdf:ID="_T3"><cim:Terminal.ConductingEquipment rdf:resource="#_LOAD"/>
  <cim:Terminal.ConnectivityNode rdf:resource="#_CN2"/></cim:Terminal>
"""


def _node_kv(tmp_path: Path, nodes: str) -> dict[str, tuple[float, str]]:
    path = tmp_path / "grid.xml"
    path.write_text(_HEAD + nodes + "</rdf:RDF>\n", encoding="utf-8")
    network = cimflow.load([path]).network
    assert network is not None
    return {k: (v.kv, v.source) for k, v in NetworkIndex(network).node_kv.items()}


def test_a_node_without_a_container_takes_the_voltage_the_equipment_there_states(tmp_path: Path) -> None:
    nodes = (
        '<cim:ConnectivityNode rdf:ID="_CN1"><cim:ConnectivityNode.ConnectivityNodeContainer rdf:resource="#_VL04"/>'
        "</cim:ConnectivityNode>\n"
        '<cim:ConnectivityNode rdf:ID="_CN2"/>\n'
    )
    assert _node_kv(tmp_path, nodes) == {"CN1": (0.4, "node"), "CN2": (0.4, "equipment")}


def test_nodes_that_declare_their_voltage_keep_it(tmp_path: Path) -> None:
    nodes = "".join(
        f'<cim:ConnectivityNode rdf:ID="_CN{k}"><cim:ConnectivityNode.ConnectivityNodeContainer '
        'rdf:resource="#_VL04"/></cim:ConnectivityNode>\n'
        for k in (1, 2)
    )
    assert _node_kv(tmp_path, nodes) == {"CN1": (0.4, "node"), "CN2": (0.4, "node")}
