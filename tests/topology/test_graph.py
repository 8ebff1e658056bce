"""Topology rules on networks built directly (no XML): switches, transformers, service state, odd equipment."""

from __future__ import annotations

from cimflow.model import core
from cimflow.model.base import SourceRef
from cimflow.model.injections import EnergyConsumer
from cimflow.topology import BranchKind, DetachReason, NodeModel, OpenReason, SourceRule, Topology

from .builders import NetworkBuilder, construct
from .conftest import topology_of


def grid(b: NetworkBuilder) -> NetworkBuilder:
    """A source at node ``s`` (bus-branch unless ``s`` was registered as a CN)."""
    b.source("grid", "s")
    return b


def bus_names(topo: Topology) -> list[tuple[str, ...]]:
    return [b.connectivity_nodes or b.topological_nodes for b in topo.buses]


def test_builder_matches_model_construct() -> None:
    values = {"mrid": "t", "cim_class": "Terminal", "source": SourceRef("x", 1), "sequence_number": 2}
    assert construct(core.Terminal, **values) == core.Terminal.model_construct(**values)


def test_line_bypassed_by_a_closed_switch_is_a_loop_of_one() -> None:
    b = NetworkBuilder()
    for n in ("s", "a", "b"):
        b.cn(n)
    grid(b).line("l", "a", "b", length_km=1.0)
    b.switch("bypass", "a", "b")
    b.switch("feed", "s", "a", cim_class="Disconnector")
    topo = topology_of(b.build())
    (island,) = topo.islands
    assert len(topo.buses) == 1
    assert not island.radial
    (loop,) = island.loops
    assert (loop.equipment, loop.buses, loop.parallel) == (("l",), (0,), False)
    assert island.parallel == ()
    assert topo.radial is False


def test_windings_on_two_nodes_are_one_branch() -> None:
    """A centre-tapped transformer: end 1 on the primary, ends 2 and 3 on the same secondary node."""
    b = grid(NetworkBuilder())
    b.transformer("ct", ["s", "sec", "sec"], rated_kv=[7.2, 0.12, 0.12])
    b.load("house", "sec")
    topo = topology_of(b.build())
    (branch,) = topo.branches
    assert branch.kind is BranchKind.TRANSFORMER
    assert branch.ends == ("ct.end1", "ct.end2", "ct.end3")
    assert topo.radial is True
    assert len(topo.buses) == 2


def test_transformer_with_a_disconnected_winding() -> None:
    b = grid(NetworkBuilder())
    b.transformer("t2", ["s", "x"])
    b.transformer("t3", ["s", "m", "l"])
    b.add(core.Terminal, "t2.2", conducting_equipment="t2", sequence_number=2, topological_node="x", connected=False)
    b.add(core.Terminal, "t3.3", conducting_equipment="t3", sequence_number=3, topological_node="l", connected=False)
    topo = topology_of(b.build())
    assert [(d.mrid, d.reason) for d in topo.detached] == [("t2", DetachReason.PARTIALLY_ATTACHED)]
    legs = [(topo.buses[x.from_bus].mrid, x.ends) for x in topo.branches]
    assert legs == [("s", ("t3.end1",)), ("m", ("t3.end2",))]  # the star keeps its two attached windings
    assert topo.buses[-1].star_of == "t3"
    assert topo.disconnected_terminals == ("t2.2", "t3.3")


def test_out_of_service_equipment_is_left_out() -> None:
    b = NetworkBuilder()
    b.source("grid", "s", in_service=False)
    b.source("backup", "s", cim_class="EnergySource")
    b.line("l1", "s", "a", in_service=False)
    b.line("l2", "s", "a")
    b.switch("sw", "a", "b", in_service=False)
    topo = topology_of(b.build())
    assert [x.mrid for x in topo.branches] == ["l2"]
    assert [(d.mrid, d.reason) for d in topo.detached] == [
        ("grid", DetachReason.OUT_OF_SERVICE),
        ("l1", DetachReason.OUT_OF_SERVICE),
    ]
    assert [(s.mrid, s.reason) for s in topo.open_switches] == [("sw", OpenReason.OUT_OF_SERVICE)]
    assert [s.mrid for s in topo.islands[0].sources] == ["backup"]


def test_switch_and_terminal_without_node() -> None:
    b = grid(NetworkBuilder())
    b.switch("sw", "s", None)
    b.load("floating", None)
    topo = topology_of(b.build())
    assert [(s.mrid, s.reason, s.from_bus, s.to_bus) for s in topo.open_switches] == [
        ("sw", OpenReason.UNATTACHED, 0, -1)
    ]
    assert topo.unattached_terminals == ("floating.1", "sw.2")
    assert topo.unreachable_equipment == ("floating",)


def test_equipment_without_terminals_and_unknown_classes() -> None:
    b = grid(NetworkBuilder())
    b.add(core.Terminal, "orphan-terminal")  # refers to no equipment: ignored
    b.add(core.Terminal, "dangling.1", conducting_equipment="nowhere", topological_node="z")  # equipment in no input
    b.other("sc", "SeriesCompensator", ["s", "a"])
    b.other("svc", "StaticVarCompensator", ["a"])
    b.other("mystery", "ThreeLeggedThing", ["s", "a", "b"])
    b.other("lonely", "EquivalentInjection", [])
    topo = topology_of(b.build())
    assert [(x.mrid, x.kind, x.cim_class) for x in topo.branches] == [("sc", BranchKind.OTHER, "SeriesCompensator")]
    assert topo.bus_of_equipment["svc"] == topo.bus_of_node["a"]
    assert [(d.mrid, d.reason) for d in topo.detached] == [
        ("lonely", DetachReason.NO_TERMINALS),
        ("mystery", DetachReason.UNSUPPORTED),
    ]
    assert "z" not in topo.bus_of_node
    assert "dangling.1" not in topo.bus_of_terminal


def test_equipment_no_terminal_refers_to() -> None:
    b = grid(NetworkBuilder())
    b.load("load", "s")
    b.add(EnergyConsumer, "ghost")
    topo = topology_of(b.build())
    assert [(d.mrid, d.reason, d.n_terminals) for d in topo.detached] == [("ghost", DetachReason.NO_TERMINALS, 0)]
    assert topo.unreachable_equipment == ("ghost",)


def test_mixed_model_joins_a_cn_to_the_tn_equipment_uses() -> None:
    """An IGM refers to a boundary TopologicalNode; the boundary set has its ConnectivityNode mapped to it."""
    b = NetworkBuilder()
    b.cn("bcn", tn="btn")
    b.source("grid", "bcn")
    b.line("tie", "btn", "inner")
    topo = topology_of(b.build())
    assert topo.node_model is NodeModel.MIXED
    assert bus_names(topo) == [("bcn",), ("inner",)]
    assert topo.buses[0].topological_nodes == ("btn",)
    assert topo.radial is True
    assert topo.mapping_differences == ()


def test_retained_closed_switch_joins_topological_nodes() -> None:
    b = grid(NetworkBuilder())
    b.switch("retained", "s", "t", retained=True)
    b.load("load", "t")
    topo = topology_of(b.build())
    (bus,) = topo.buses
    assert (bus.mrid, bus.topological_nodes) == ("s", ("s", "t"))


def test_source_precedence_and_reference_priority() -> None:
    b = NetworkBuilder()
    b.source("eni2", "a", reference_priority=2)
    b.source("eni1", "b", reference_priority=1)
    b.source("eni0", "c")
    b.machine("gen", "a", regulating=True, reference_priority=1)
    b.line("ab", "a", "b")
    b.line("bc", "b", "c")
    topo = topology_of(b.build())
    (island,) = topo.islands
    assert [s.mrid for s in island.sources] == ["eni1", "eni2", "eni0"]  # machines only when no external grid
    assert island.root == topo.bus_of_node["b"]
    assert topo.feeders[0].order[0] == island.root


def test_machine_energises_only_when_regulating_or_prioritised() -> None:
    b = NetworkBuilder()
    b.machine("plain", "a")
    b.machine("disabled", "b", regulating=True, control_enabled=False)
    b.machine("priority", "c", reference_priority=3)
    topo = topology_of(b.build())
    assert [[s.mrid for s in i.sources] for i in topo.islands] == [[], [], ["priority"]]
    assert topo.islands[2].sources[0].rule is SourceRule.REGULATING_MACHINE


def test_input_order_does_not_change_the_result() -> None:
    def build(reverse: bool) -> Topology:
        b = NetworkBuilder()
        for node in ("n3", "n1", "n2") if reverse else ("n1", "n2", "n3"):
            b.cn(node)
        steps = [
            lambda: b.source("grid", "n1"),
            lambda: b.switch("sw", "n1", "n2"),
            lambda: b.line("l1", "n2", "n3"),
            lambda: b.line("l2", "n2", "n3"),
            lambda: b.transformer("t", ["n3", "x", "y"]),
            lambda: b.load("load", "y"),
        ]
        for step in reversed(steps) if reverse else steps:
            step()
        return topology_of(b.build())

    one, other = build(reverse=False), build(reverse=True)
    assert one.buses == other.buses
    assert one.branches == other.branches
    assert one.injections == other.injections
    assert [i.loops for i in one.islands] == [i.loops for i in other.islands]


def test_network_is_not_mutated() -> None:
    b = grid(NetworkBuilder())
    b.line("l", "s", "a")
    network = b.build()
    before = {m: o.model_dump() for m, o in network.by_mrid.items()}
    topology_of(network)
    assert {m: o.model_dump() for m, o in network.by_mrid.items()} == before


def test_empty_network() -> None:
    topo = topology_of(NetworkBuilder().build())
    assert topo.node_model is NodeModel.EMPTY
    assert (topo.buses, topo.islands, topo.feeders, topo.radial) == ((), (), (), None)
    assert topo.branch_from.shape == (0,)
