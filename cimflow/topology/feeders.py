"""Feeder trees (sweep order, parents, depth, distance from the source), the TP comparison and the Topology."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from cimflow.findings import Outcome
from cimflow.gcpause import gc_paused
from cimflow.ids import MRID
from cimflow.model.base import CimObject
from cimflow.model.network import Network, OpaqueObject
from cimflow.model.registry import CONDUCTING_EQUIPMENT, MODEL_OF_CLASS
from cimflow.topology.buses import assemble_buses
from cimflow.topology.graph import BusGraph, build_graph
from cimflow.topology.islands import Forest, find_islands
from cimflow.topology.model import (
    BranchKind,
    DetachedEquipment,
    DetachReason,
    FeederTree,
    FloatArray,
    IntArray,
    Island,
    MappingDifference,
    MappingDifferenceKind,
    Topology,
)

# conducting-equipment classes that connect through another object, not through terminals of their own
_NO_OWN_TERMINALS = frozenset(
    {
        "PhotoVoltaicUnit", "BatteryUnit", "PowerElectronicsWindUnit", "PowerElectronicsUnit", "TransformerTank",
        "ACLineSegmentPhase", "EnergyConsumerPhase", "Conductor", "EnergyConnection",
    }
)  # fmt: skip


def _frozen(values: np.ndarray, dtype: type) -> np.ndarray:
    out: np.ndarray = np.ascontiguousarray(values, dtype=dtype)
    out.setflags(write=False)
    return out


def _branch_lengths(g: BusGraph) -> tuple[FloatArray, np.ndarray]:
    """Length in km of every line branch (0 elsewhere) and whether a line's length is unknown."""
    line = BranchKind.LINE
    unknown = np.array([k is None and b.kind is line for b, k in zip(g.branches, g.branch_length_km, strict=True)])
    return np.array([k or 0.0 for k in g.branch_length_km], dtype=np.float64), unknown.astype(bool)


def _distances(order: IntArray, parent: IntArray, parent_branch: IntArray, length_km: FloatArray) -> FloatArray:
    """Distance from the root along the tree, in breadth-first order (parents before children)."""
    dist = [0.0] * parent.size
    par, pbr, length = parent.tolist(), parent_branch.tolist(), length_km.tolist()
    for v in order.tolist():
        p = par[v]
        if p >= 0:
            dist[v] = dist[p] + length[pbr[v]]
    return np.asarray(dist, dtype=np.float64)


def build_feeders(g: BusGraph, forest: Forest) -> tuple[FeederTree, ...]:
    """One :class:`FeederTree` per radial energised island, from the spanning forest rooted at its source."""
    wanted = [i for i in forest.islands if i.radial and i.energised]
    if not wanted:
        return ()
    length_km, unknown = _branch_lengths(g)
    dist = _distances(forest.order, forest.parent, forest.parent_branch, length_km)
    # forest.order is grouped by island; the position of each bus within its island's block
    n_bus = forest.parent.size
    sizes = np.bincount(forest.island_of_bus, minlength=len(forest.islands))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    position = np.empty(n_bus, dtype=np.int64)
    position[forest.order] = np.arange(n_bus, dtype=np.int64) - starts[forest.island_of_bus[forest.order]]
    feeders = []
    for island in wanted:
        order = forest.order[starts[island.index] : starts[island.index] + sizes[island.index]]
        parent = forest.parent[order]
        pbranch = forest.parent_branch[order]
        ppos = np.where(parent >= 0, position[np.maximum(parent, 0)], -1)
        on_tree = pbranch[pbranch >= 0]
        feeders.append(
            FeederTree(
                island=island.index,
                root=island.root,
                order=_frozen(order, np.int64),
                parent=_frozen(parent, np.int64),
                parent_position=_frozen(ppos, np.int64),
                parent_branch=_frozen(pbranch, np.int64),
                depth=_frozen(forest.depth[order], np.int64),
                distance_km=_frozen(dist[order], np.float64),
                lengths_complete=not bool(unknown[on_tree].any()),
            )
        )
    return tuple(feeders)


def _terminalless(network: Network, g: BusGraph) -> list[DetachedEquipment]:
    """Conducting equipment no Terminal refers to."""
    with_terminals = g.equipment
    wanted = CONDUCTING_EQUIPMENT - _NO_OWN_TERMINALS
    models = {MODEL_OF_CLASS[c] for c in wanted if c in MODEL_OF_CLASS}
    missing = [network.by_mrid[m] for model in models for m in network.of(model).keys() - with_terminals]
    candidates: list[CimObject | OpaqueObject] = [
        *missing,
        *(network.opaque[m] for m in network.opaque.keys() - with_terminals),
    ]
    return [
        DetachedEquipment(o.mrid, o.cim_class, DetachReason.NO_TERMINALS, 0, 0)
        for o in sorted(candidates, key=lambda o: o.mrid)
        if o.cim_class in wanted
    ]


def compare_mapping(g: BusGraph) -> tuple[tuple[MappingDifference, ...], dict[MRID, int]]:
    """Compare the file's CN -> TN mapping with the buses.

    Returns:
        The differences, and the bus of every mapped TopologicalNode whose CNs are all on one bus.
    """
    if not g.tn_of_cn:
        return (), {}
    bon = g.bus_of_node.tolist()
    bus_tns: dict[int, set[MRID]] = defaultdict(set)
    tn_buses: dict[MRID, set[int]] = defaultdict(set)
    unmapped: set[int] = set()
    for idx, is_cn in enumerate(g.node_is_cn):
        tn = g.tn_of_cn.get(idx) if is_cn else g.node_mrids[idx]
        if tn is None:
            unmapped.add(bon[idx])
        else:
            bus_tns[bon[idx]].add(tn)
            tn_buses[tn].add(bon[idx])
    splits: dict[int, list[MRID]] = defaultdict(list)  # closed switches between CNs the file puts apart
    for sw, a, b in g.closed_switches:
        ta, tb = g.tn_of_cn.get(a), g.tn_of_cn.get(b)
        if ta is not None and tb is not None and ta != tb:
            splits[bon[a]].append(sw)
    joins: dict[MRID, list[MRID]] = defaultdict(list)  # open switches between CNs the file puts together
    for sw, a, b in g.open_switch_nodes:
        ta = g.tn_of_cn.get(a) if a >= 0 else None
        if ta is not None and b >= 0 and ta == g.tn_of_cn.get(b):
            joins[ta].append(sw)
    kind = MappingDifferenceKind
    out = [
        MappingDifference(kind.FILE_SPLITS_BUS, (bus,), tuple(sorted(tns)), tuple(sorted(splits[bus])))
        for bus, tns in sorted(bus_tns.items())
        if len(tns) > 1
    ]
    out += [
        MappingDifference(kind.FILE_JOINS_BUSES, tuple(sorted(buses)), (tn,), tuple(sorted(joins[tn])))
        for tn, buses in sorted(tn_buses.items())
        if len(buses) > 1
    ]
    out += [MappingDifference(kind.UNMAPPED, (bus,), tuple(sorted(bus_tns.get(bus, ())))) for bus in sorted(unmapped)]
    unique = {tn: next(iter(buses)) for tn, buses in tn_buses.items() if len(buses) == 1}
    return tuple(out), unique


def frozen_mapping(values: dict[MRID, int]) -> Mapping[MRID, int]:
    """A read-only view of a dict built once."""
    return MappingProxyType(values)


def build_topology(network: Network) -> Outcome[Topology]:
    """Turn a :class:`~cimflow.model.network.Network` into its :class:`Topology`; pure, O(N), no recursion.

    Buses are ConnectivityNodes joined across closed switches (node-breaker) or TopologicalNodes
    (bus-branch); branches, injections and switches hang on them; islands, their sources, loops and
    parallel branches follow, and a feeder tree for every radial energised island. The network is
    only read. Problems in the data are returned as data in the Topology (unattached terminals,
    detached equipment, mapping differences, de-energised islands) for the rules to report, so the
    findings of this stage are empty.
    """
    with gc_paused():
        return Outcome(_build(network), ())


def _build(network: Network) -> Topology:
    g = build_graph(network)
    buses, node_bus = assemble_buses(network, g)
    differences, mapped = compare_mapping(g)
    for tn, bus in mapped.items():
        node_bus.setdefault(tn, bus)
    forest = find_islands(network, len(buses), g.branches, g.injections)
    feeders = build_feeders(g, forest)
    feeder_of = {f.island: k for k, f in enumerate(feeders)}
    islands: tuple[Island, ...] = tuple(
        dataclasses.replace(i, feeder=feeder_of[i.index]) if i.index in feeder_of else i for i in forest.islands
    )
    bon = g.bus_of_node.tolist()
    injections = tuple(sorted(g.injections, key=lambda x: x.mrid))
    return Topology(
        node_model=g.node_model,
        buses=buses,
        branches=g.branches,
        injections=injections,
        open_switches=tuple(sorted(g.open_switches, key=lambda x: x.mrid)),
        islands=islands,
        feeders=feeders,
        branch_from=_frozen(np.fromiter((b.from_bus for b in g.branches), np.int64, len(g.branches)), np.int64),
        branch_to=_frozen(np.fromiter((b.to_bus for b in g.branches), np.int64, len(g.branches)), np.int64),
        island_of_bus=forest.island_of_bus,
        bus_of_terminal=frozen_mapping(
            dict(zip(g.attached_terminals, g.bus_of_node[g.attached_node].tolist(), strict=True))
        ),
        bus_of_node=frozen_mapping(node_bus),
        bus_of_equipment=frozen_mapping({x.mrid: x.bus for x in injections}),
        bus_of_closed_switch=frozen_mapping({s: bon[a] for s, a, _ in sorted(g.closed_switches)}),
        unattached_terminals=g.unattached_terminals,
        disconnected_terminals=g.disconnected_terminals,
        detached=tuple(sorted((*g.detached, *_terminalless(network, g)), key=lambda d: d.mrid)),
        mapping_differences=differences,
    )
