"""Topology of the hand-written CGMES cases in tests/data/cim/topology."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from cimflow.topology import (
    BranchKind,
    DetachReason,
    MappingDifferenceKind,
    NodeModel,
    OpenReason,
    SourceRule,
    Topology,
    VoltageSource,
)

Case = Callable[..., Topology]
NODE_BREAKER = ("node_breaker_EQ.xml", "node_breaker_SSH.xml")


def test_node_breaker_joins_nodes_across_closed_switches(case: Case) -> None:
    topo = case(*NODE_BREAKER)
    assert topo.node_model is NodeModel.NODE_BREAKER
    assert [b.connectivity_nodes for b in topo.buses] == [("cn1", "cn2"), ("cn3", "cn4"), ("cn5",)]
    assert [b.mrid for b in topo.buses] == ["cn1", "cn3", "cn5"]  # the first CN of each bus
    assert topo.buses[0].name == "busbar"
    assert dict(topo.bus_of_closed_switch) == {"brk1": 0, "lbs1": 1}
    assert topo.bus_of_node["cn2"] == 0
    assert topo.bus("cn2") is topo.buses[0]
    assert topo.bus("nowhere") is None
    assert topo.bus_of_terminal["line1_t1"] == 0


def test_ssh_open_overrides_eq_normal_open(case: Case) -> None:
    topo = case(*NODE_BREAKER)
    # dis1: normalOpen=false in EQ, open=true in SSH -> open; lbs1: normalOpen=true, open=false -> closed
    assert [(s.mrid, s.reason, s.from_bus, s.to_bus) for s in topo.open_switches] == [("dis1", OpenReason.OPEN, 0, 1)]
    assert "lbs1" in topo.bus_of_closed_switch
    assert [len(i.buses) for i in topo.islands] == [2, 1]


def test_eq_alone_uses_normal_open(case: Case) -> None:
    topo = case("node_breaker_EQ.xml")
    # without SSH: dis1 closed (normalOpen=false), lbs1 open (normalOpen=true)
    assert [s.mrid for s in topo.open_switches] == ["lbs1"]
    assert [b.connectivity_nodes for b in topo.buses] == [("cn1", "cn2", "cn3"), ("cn4",), ("cn5",)]


def test_connected_false_detaches_the_terminal(case: Case) -> None:
    topo = case(*NODE_BREAKER)
    assert topo.disconnected_terminals == ("load3_t1",)
    assert "load3_t1" not in topo.bus_of_terminal
    assert "load3" not in topo.bus_of_equipment
    assert topo.unreachable_equipment == ("load3",)
    assert [(d.mrid, d.reason) for d in topo.detached] == [("load3", DetachReason.NOT_ATTACHED)]
    assert topo.bus_of_equipment["load1"] == 2  # load1 shares cn5 and stays attached


def test_node_breaker_islands_sources_and_base_voltage(case: Case) -> None:
    topo = case(*NODE_BREAKER)
    fed, cut = topo.islands
    assert fed.energised
    assert [s.mrid for s in fed.sources] == ["grid"]
    assert fed.sources[0].rule is SourceRule.EXTERNAL_GRID
    assert not cut.energised
    assert cut.radial
    assert topo.deenergised_equipment() == ("lbs1", "load2")
    assert topo.radial is True
    assert {(b.base_voltage_kv, b.voltage_source) for b in topo.buses} == {(10.0, VoltageSource.VOLTAGE_LEVEL)}


def test_file_mapping_disagreeing_with_buses_is_returned_as_data(case: Case) -> None:
    topo = case(*NODE_BREAKER, "node_breaker_TP.xml")
    kinds = {d.kind: d for d in topo.mapping_differences}
    split = kinds[MappingDifferenceKind.FILE_SPLITS_BUS]
    assert (split.buses, split.topological_nodes, split.switches) == ((0,), ("tn1", "tn2"), ("brk1",))
    joined = kinds[MappingDifferenceKind.FILE_JOINS_BUSES]
    assert (joined.buses, joined.topological_nodes) == ((1, 2), ("tn3",))
    assert topo.buses[0].topological_nodes == ("tn1", "tn2")
    assert topo.bus_of_node["tn1"] == 0
    assert "tn3" not in topo.bus_of_node  # on two buses: ambiguous
    assert topo.buses[0].name == "TN busbar"
    assert topo.buses[0].voltage_source is VoltageSource.TOPOLOGICAL_NODE


def test_bus_branch_buses_are_topological_nodes_and_feeder_tree(case: Case) -> None:
    topo = case("bus_branch_EQ.xml", "bus_branch_TP.xml")
    assert topo.node_model is NodeModel.BUS_BRANCH
    assert [(b.mrid, b.base_voltage_kv) for b in topo.buses] == [("hv", 20.0), ("lv", 0.4), ("n1", 0.4), ("n2", 0.4)]
    assert all(b.voltage_source is VoltageSource.TOPOLOGICAL_NODE for b in topo.buses)
    tr = next(b for b in topo.branches if b.kind is BranchKind.TRANSFORMER)
    assert (tr.from_bus, tr.to_bus, tr.ends) == (0, 1, ("tr_end1", "tr_end2"))
    assert topo.radial is True
    (feeder,) = topo.feeders
    assert topo.islands[0].feeder == 0
    assert feeder.root == 0
    assert feeder.order.tolist() == [0, 1, 2, 3]
    assert feeder.parent.tolist() == [-1, 0, 1, 2]
    assert feeder.parent_position.tolist() == [-1, 0, 1, 2]
    assert [topo.branches[k].mrid if k >= 0 else None for k in feeder.parent_branch] == [None, "tr", "l1", "l2"]
    assert feeder.depth.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(feeder.distance_km, [0.0, 0.0, 0.25, 0.35])
    assert feeder.lengths_complete


def test_three_winding_transformer_is_a_star(case: Case) -> None:
    topo = case("three_winding_EQ.xml", "three_winding_TP.xml")
    star = topo.buses[-1]
    assert (star.mrid, star.star_of, star.name) == ("t3w#star", "t3w", "T3W")
    assert (star.base_voltage_kv, star.voltage_source) == (110.0, VoltageSource.TRANSFORMER_END)
    windings = [(b.kind, topo.buses[b.from_bus].mrid, b.to_bus, b.ends) for b in topo.branches]
    assert windings == [
        (BranchKind.TRANSFORMER_WINDING, "hv", star.index, ("t3w_end1",)),
        (BranchKind.TRANSFORMER_WINDING, "mv", star.index, ("t3w_end2",)),
        (BranchKind.TRANSFORMER_WINDING, "lv", star.index, ("t3w_end3",)),
    ]
    assert topo.islands[0].radial
    assert topo.radial
    assert topo.feeders[0].order[1] == star.index  # the star is one step from the 110 kV source


def test_parallel_branches_are_a_loop_and_a_group(case: Case) -> None:
    topo = case("meshed_EQ.xml", "meshed_TP.xml")
    (island,) = topo.islands
    assert not island.radial
    assert topo.radial is False
    assert [(g.buses, g.equipment) for g in island.parallel] == [((1, 2), ("bc", "bc2"))]
    pair = [loop for loop in island.loops if loop.parallel]
    assert [set(loop.equipment) for loop in pair] == [{"bc", "bc2"}]
    assert topo.feeders == ()
    assert island.feeder == -1


def test_meshed_ring_lists_its_loop_members(case: Case) -> None:
    topo = case("meshed_EQ.xml", "meshed_TP.xml")
    (island,) = topo.islands
    assert len(island.loops) == len(island.branches) - len(island.buses) + 1 == 2
    (ring,) = [loop for loop in island.loops if not loop.parallel]
    assert len(ring.equipment) == 4
    assert set(ring.equipment) in ({"ab", "bc", "cd", "da"}, {"ab", "bc2", "cd", "da"})
    assert sorted(ring.buses) == [0, 1, 2, 3]
    assert_is_cycle(topo, ring.branches, ring.buses)


def assert_is_cycle(topo: Topology, branches: tuple[int, ...], buses: tuple[int, ...]) -> None:
    """Branch k of a loop joins bus k to bus k+1 (cyclically)."""
    assert len(branches) == len(buses)
    for k, index in enumerate(branches):
        b = topo.branches[index]
        assert {b.from_bus, b.to_bus} == {buses[k], buses[(k + 1) % len(buses)]}


def test_islands_with_and_without_sources(case: Case) -> None:
    topo = case("islands_EQ.xml", "islands_TP.xml")
    summary = [([topo.buses[b].mrid for b in i.buses], [(s.mrid, s.rule) for s in i.sources]) for i in topo.islands]
    assert summary == [
        (["a", "a2"], [("grid", SourceRule.EXTERNAL_GRID)]),
        (["b"], [("genb", SourceRule.REGULATING_MACHINE)]),
        (["c"], []),
        (["d"], []),  # a machine without regulating control or reference priority is no source
    ]
    assert [i.energised for i in topo.islands] == [True, True, False, False]
    assert [i.root for i in topo.islands] == [0, 2, 3, 4]
    assert [f.island for f in topo.feeders] == [0, 1]
    assert topo.deenergised_equipment() == ("gend", "loadc", "loadd")
    assert topo.island_of_bus.tolist() == [0, 0, 1, 2, 3]


@pytest.mark.parametrize(
    "files",
    [NODE_BREAKER, ("bus_branch_EQ.xml", "bus_branch_TP.xml"), ("meshed_EQ.xml", "meshed_TP.xml")],
)
def test_result_is_read_only(case: Case, files: tuple[str, ...]) -> None:
    topo = case(*files)
    for array in (topo.branch_from, topo.branch_to, topo.island_of_bus, topo.islands[0].buses):
        assert not array.flags.writeable
    with pytest.raises(TypeError):
        topo.bus_of_terminal["x"] = 0  # type: ignore[index]
    with pytest.raises(AttributeError):
        topo.buses = ()  # type: ignore[misc]


def test_public_names_are_sorted_and_importable() -> None:
    import cimflow.topology as package

    assert list(package.__all__) == sorted(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)
