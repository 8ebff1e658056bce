"""Which injections are an island's sources, and which base voltage a bus takes when its nodes disagree."""

from __future__ import annotations

import pytest

from cimflow.model import core
from cimflow.powerflow.case import build_case
from cimflow.topology import SourceRule, VoltageSource, build_topology
from cimflow.topology.model import Topology
from tests.topology.builders import NetworkBuilder


def _topology(b: NetworkBuilder) -> Topology:
    topology = build_topology(b.build()).value
    assert topology is not None
    return topology


def _sources(topology: Topology) -> list[list[tuple[str, SourceRule]]]:
    return [[(s.mrid, s.rule) for s in i.sources] for i in topology.islands]


def test_an_external_grid_outranks_energy_sources() -> None:
    b = NetworkBuilder()
    b.source("grid", "a")
    b.source("es_v", "a", cim_class="EnergySource", voltage_magnitude_kv=10.5)
    b.source("es", "b", cim_class="EnergySource")
    b.line("l", "a", "b")
    assert _sources(_topology(b)) == [[("grid", SourceRule.EXTERNAL_GRID)]]


def test_energy_sources_with_a_voltage_are_the_slacks_of_an_island_without_external_grid() -> None:
    b = NetworkBuilder()
    b.source("es_v1", "a", cim_class="EnergySource", voltage_magnitude_kv=10.5)
    b.source("es_v2", "b", cim_class="EnergySource", voltage_magnitude_kv=10.4)
    b.source("a_es", "b", cim_class="EnergySource")  # first by mRID, but no voltage: PQ
    b.machine("gen", "b", regulating=True)
    b.line("l", "a", "b")
    assert _sources(_topology(b)) == [[("es_v1", SourceRule.ENERGY_SOURCE), ("es_v2", SourceRule.ENERGY_SOURCE)]]


def test_without_a_voltage_the_first_energy_source_is_the_slack() -> None:
    b = NetworkBuilder()
    b.source("es2", "a", cim_class="EnergySource")
    b.source("es1", "b", cim_class="EnergySource")
    b.line("l", "a", "b")
    b.machine("gen", "c", regulating=True)  # another island: machines only where there is no EnergySource
    assert _sources(_topology(b)) == [[("es1", SourceRule.ENERGY_SOURCE)], [("gen", SourceRule.REGULATING_MACHINE)]]


def _disagreeing() -> NetworkBuilder:
    """Bus "aux" (CN in a 10 kV VoltageLevel) mapped to a 110 kV TopologicalNode, as pandapower exports it."""
    b = NetworkBuilder()
    b.base_voltage("bv110", 110.0)
    b.base_voltage("bv10", 10.0)
    b.add(core.VoltageLevel, "vl110", base_voltage="bv110")
    b.add(core.VoltageLevel, "vl10", base_voltage="bv10")
    b.tn("tn110", base_voltage="bv110")
    b.cn("hv", tn="tn110", container="vl110")
    b.cn("aux", tn="tn110", container="vl10")
    b.cn("mv", container="vl10")
    b.source("grid", "hv")
    b.transformer("t", ["hv", "mv"], rated_kv=[110.0, 10.0])
    b.line("l", "mv", "aux", r_ohm=0.1, x_ohm=0.1)
    b.load("load", "aux")
    return b


def test_the_voltage_level_of_a_bus_s_nodes_outranks_its_topological_node() -> None:
    b = _disagreeing()
    network = b.build()
    topology = _topology(b)
    by_cn = {bus.connectivity_nodes[0]: bus for bus in topology.buses if bus.connectivity_nodes}
    hv, aux = by_cn["hv"], by_cn["aux"]
    assert (hv.base_voltage_kv, hv.voltage_source, hv.overruled_kv) == (110.0, VoltageSource.TOPOLOGICAL_NODE, None)
    assert (aux.base_voltage_kv, aux.voltage_source, aux.overruled_kv) == (10.0, VoltageSource.VOLTAGE_LEVEL, 110.0)
    outcome = build_case(network, topology)
    assert outcome.value is not None
    assert outcome.value.case.v_base_kv[aux.index] == pytest.approx(10.0)
    (finding,) = [f for f in outcome.findings if f.code == "CF051" and f.location.mrid == "tn110"]
    assert "disagrees with the VoltageLevel" in str(finding.ctx["reason"])
    assert finding.ctx["value"] == "10 kV"
    assert finding.related == (aux.mrid,)
