"""Bus records (members, base voltage) and islands: components, sources, spanning tree, loops, parallel branches.

Base voltage of a bus, first found of: the BaseVoltage of its TopologicalNode; of the VoltageLevel
containing one of its nodes (directly or through a Bay); of a transformer end at the bus (its
BaseVoltage, else its ratedU); of the ConductingEquipment.BaseVoltage or VoltageLevel of equipment at
the bus. :attr:`Bus.voltage_source` records which, so a rule can say how the voltage was inferred. A
star bus takes the voltage of end 1 of its transformer. Where the VoltageLevel of a bus's
ConnectivityNodes disagrees with its TopologicalNode, the VoltageLevel wins (the TopologicalNode is
the exporter's processing, the containers are the equipment model: pandapower's export maps auxiliary
ConnectivityNodes of 0.4 and 10 kV buses to a 110 kV TopologicalNode) and :attr:`Bus.overruled_kv`
keeps the TopologicalNode's value for a finding.

Source rule. An island's sources are, in this order of precedence (the first tier present wins):

1. ``EXTERNAL_GRID``: every ExternalNetworkInjection in the island;
2. ``ENERGY_SOURCE``, only when the island has none: its EnergySources that give a
   ``voltageMagnitude`` (a CIM100 feeder head: a voltage behind ``r``, ``x``), or, when none gives
   one, its first EnergySource;
3. ``REGULATING_MACHINE``, only when the island has neither: every SynchronousMachine with
   ``referencePriority > 0``, or with a RegulatingControl whose ``controlEnabled`` is not false.

Within a tier, sources are ordered by ``referencePriority`` (1 is the highest; 0 or none last), then
mRID; the first is the island's root. Every EnergySource that is not a source is an injection at its
``activePower``/``reactivePower`` (CGMES SSH, load sign convention), as PowSyBl and pandapower import
it: ENTSO-E and pandapower exports use EnergySources for infeeds beside the ExternalNetworkInjection.
EquivalentInjections are not sources (they are PQ injections or PV buses, see
:mod:`cimflow.powerflow.equivalents`): in distribution exports
they are often aggregated loads (DIGIN10's "Low Voltage Equivalent", ``regulationCapability=false``),
and an IGM's boundary equivalents say nothing about which side feeds the other. Equipment with
``inService=false`` is out of the graph (see :mod:`cimflow.topology.graph`), so it energises nothing.

Loops. One breadth-first search from a virtual node joined to every island's root gives a spanning
forest; each branch not in it closes one independent loop with the tree paths from its two ends to
their common ancestor (a cycle basis, ``branches - buses + islands`` loops, O(N + total loop length),
no recursion). Two parallel branches between the same buses make a loop of two branches; a branch
whose two ends are on the same bus (e.g. a line bypassed by a closed switch) is a loop of one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from cimflow.ids import MRID
from cimflow.model import core
from cimflow.model.equipment import PowerTransformerEnd, TransformerEndBase, TransformerTankEnd
from cimflow.model.injections import EnergySource, ExternalNetworkInjection, SynchronousMachine
from cimflow.model.network import Network
from cimflow.topology.graph import BusGraph
from cimflow.topology.model import (
    Branch,
    Bus,
    Injection,
    IntArray,
    Island,
    Loop,
    ParallelGroup,
    Source,
    SourceRule,
    VoltageSource,
)

_TIER = {SourceRule.EXTERNAL_GRID: 0, SourceRule.ENERGY_SOURCE: 1, SourceRule.REGULATING_MACHINE: 2}
_NO_PRIORITY = 1 << 30


@dataclass(frozen=True, slots=True, eq=False)
class Forest:
    """Islands and the breadth-first spanning forest they were searched with (arrays over buses)."""

    islands: tuple[Island, ...]
    island_of_bus: IntArray
    order: IntArray  # every bus, island by island, breadth-first within each island from its root
    parent: IntArray  # parent bus in the spanning forest, -1 at roots
    parent_branch: IntArray  # branch to the parent, -1 at roots
    depth: IntArray


def _frozen(values: IntArray | list[int]) -> IntArray:
    out = np.asarray(values, dtype=np.int64)
    out.setflags(write=False)
    return out


def classify_source(network: Network, inj: Injection) -> Source | None:
    """The source tier an injection may belong to by the rule above, or ``None``."""
    if inj.cim_class not in ("ExternalNetworkInjection", "EnergySource", "SynchronousMachine"):
        return None
    obj = network.by_mrid.get(inj.mrid)
    priority = obj.reference_priority if isinstance(obj, (ExternalNetworkInjection, SynchronousMachine)) else None
    if inj.cim_class == "ExternalNetworkInjection":
        return Source(inj.mrid, inj.cim_class, inj.bus, SourceRule.EXTERNAL_GRID, priority)
    if inj.cim_class == "EnergySource":
        return Source(inj.mrid, inj.cim_class, inj.bus, SourceRule.ENERGY_SOURCE, priority)
    if isinstance(obj, SynchronousMachine):
        regulating = obj.regulating_control is not None and obj.control_enabled is not False
        if (priority or 0) > 0 or regulating:
            return Source(inj.mrid, inj.cim_class, inj.bus, SourceRule.REGULATING_MACHINE, priority)
    return None


def _source_key(s: Source) -> tuple[int, int, str]:
    priority = s.reference_priority if s.reference_priority is not None and s.reference_priority > 0 else _NO_PRIORITY
    return (_TIER[s.rule], priority, s.mrid)


def _holds_voltage(network: Network, s: Source) -> bool:
    obj = network.by_mrid.get(s.mrid)
    return isinstance(obj, EnergySource) and bool(obj.voltage_magnitude_kv)


def _island_sources(
    network: Network, injections: tuple[Injection, ...], labels: IntArray, n_isl: int
) -> list[tuple[Source, ...]]:
    """The sources of each island: the best tier present, best first."""
    found: list[list[Source]] = [[] for _ in range(n_isl)]
    for inj in injections:
        src = classify_source(network, inj)
        if src is not None:
            found[int(labels[src.bus])].append(src)
    best: list[tuple[Source, ...]] = []
    for candidates in found:
        candidates.sort(key=_source_key)
        tier = [s for s in candidates if s.rule is candidates[0].rule]
        if tier and tier[0].rule is SourceRule.ENERGY_SOURCE:
            tier = [s for s in tier if _holds_voltage(network, s)] or tier[:1]
        best.append(tuple(tier))
    return best


def _components(n_bus: int, bf: IntArray, bt: IntArray) -> tuple[int, IntArray]:
    """Island label of every bus, islands numbered by their first bus."""
    graph = sp.coo_array((np.ones(bf.size, dtype=np.int8), (bf, bt)), shape=(n_bus, n_bus)).tocsr()
    n_isl, labels = csgraph.connected_components(graph, directed=False)
    first = np.full(n_isl, n_bus, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n_bus, dtype=np.int64))
    relabel = np.empty(n_isl, dtype=np.int64)
    relabel[np.argsort(first, kind="stable")] = np.arange(n_isl, dtype=np.int64)
    return int(n_isl), relabel[labels]


def _spanning_forest(n_bus: int, bf: IntArray, bt: IntArray, roots: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Breadth-first order from a virtual node joined to every root; parents and parent branches."""
    virtual = n_bus
    rows = np.concatenate([bf, bt, np.full(roots.size, virtual, dtype=np.int64)])
    cols = np.concatenate([bt, bf, roots])
    graph = sp.coo_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n_bus + 1, n_bus + 1)).tocsr()
    order, pred = csgraph.breadth_first_order(graph, virtual, directed=True, return_predecessors=True)
    order = order[1:].astype(np.int64)
    parent = pred[:n_bus].astype(np.int64)
    parent[parent == virtual] = -1
    parent_branch = np.full(n_bus, -1, dtype=np.int64)
    child = np.flatnonzero(parent >= 0)
    if child.size:  # any branch between the parent and the child (the first by index)
        keys = np.minimum(bf, bt) * n_bus + np.maximum(bf, bt)
        by_key = np.argsort(keys, kind="stable")
        p = parent[child]
        tree_keys = np.minimum(p, child) * n_bus + np.maximum(p, child)
        parent_branch[child] = by_key[np.searchsorted(keys[by_key], tree_keys)]
    return order, parent, parent_branch


def _depths(order: IntArray, parent: IntArray) -> IntArray:
    depth = [0] * parent.size
    par = parent.tolist()
    for v in order.tolist():
        p = par[v]
        if p >= 0:
            depth[v] = depth[p] + 1
    return np.asarray(depth, dtype=np.int64)


def _loop(
    e: int, u: int, v: int, parent: list[int], pbranch: list[int], depth: list[int]
) -> tuple[list[int], list[int]]:
    """Branches and buses of the loop closed by branch ``e``: u -e-> v, up the tree to the common ancestor, to u."""
    if u == v:
        return [e], [u]
    buses_v, branches_v, buses_u, branches_u = [v], [], [u], []
    a, b = u, v
    while depth[b] > depth[a]:
        branches_v.append(pbranch[b])
        b = parent[b]
        buses_v.append(b)
    while depth[a] > depth[b]:
        branches_u.append(pbranch[a])
        a = parent[a]
        buses_u.append(a)
    while a != b:
        branches_v.append(pbranch[b])
        branches_u.append(pbranch[a])
        a, b = parent[a], parent[b]
        buses_v.append(b)
        buses_u.append(a)
    around = buses_v + buses_u[-2::-1]  # v .. common ancestor .. u
    return [e, *branches_v, *branches_u[::-1]], [u, *around[:-1]]


def _loops(branches: tuple[Branch, ...], parent: IntArray, parent_branch: IntArray, depth: IntArray) -> list[Loop]:
    """One loop per branch that is not in the spanning forest."""
    is_tree = np.zeros(len(branches), dtype=bool)
    is_tree[parent_branch[parent_branch >= 0]] = True
    par, pbr, dep = parent.tolist(), parent_branch.tolist(), depth.tolist()
    out: list[Loop] = []
    for e in np.flatnonzero(~is_tree).tolist():
        br = branches[e]
        members, buses = _loop(e, br.from_bus, br.to_bus, par, pbr, dep)
        equipment = tuple(dict.fromkeys(branches[k].mrid for k in members))
        out.append(Loop(tuple(members), tuple(buses), equipment, parallel=len(members) == 2))
    return out


def _parallel_groups(branches: tuple[Branch, ...], bf: IntArray, bt: IntArray, n_bus: int) -> list[ParallelGroup]:
    keys = np.where(bf == bt, -1, np.minimum(bf, bt) * n_bus + np.maximum(bf, bt))  # self-loops are not pairs
    by_key = np.argsort(keys, kind="stable")
    sorted_keys = keys[by_key]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if keys.size else keys
    sizes = np.diff(np.r_[starts, keys.size])
    groups: list[ParallelGroup] = []
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        key = int(sorted_keys[start])
        if key >= 0:
            idx = tuple(sorted(by_key[start : start + size].tolist()))
            a, b = divmod(key, n_bus)
            groups.append(ParallelGroup((a, b), idx, tuple(dict.fromkeys(branches[k].mrid for k in idx))))
    return groups


def _group(labels: IntArray, n_groups: int) -> tuple[IntArray, IntArray]:
    """Indices sorted by label and the start of each label's block (``n_groups + 1`` offsets)."""
    by_label = np.argsort(labels, kind="stable")
    return by_label, np.searchsorted(labels[by_label], np.arange(n_groups + 1))


def find_islands(
    network: Network, n_bus: int, branches: tuple[Branch, ...], injections: tuple[Injection, ...]
) -> Forest:
    """Components, sources, spanning forest, loops and parallel groups of the bus graph."""
    bf = np.fromiter((b.from_bus for b in branches), dtype=np.int64, count=len(branches))
    bt = np.fromiter((b.to_bus for b in branches), dtype=np.int64, count=len(branches))
    n_isl, labels = _components(n_bus, bf, bt)
    sources = _island_sources(network, injections, labels, n_isl)
    bus_order, starts = _group(labels, n_isl)
    roots = np.array([s[0].bus if s else int(bus_order[starts[i]]) for i, s in enumerate(sources)], dtype=np.int64)
    order, parent, parent_branch = _spanning_forest(n_bus, bf, bt, roots)
    depth = _depths(order, parent)
    loops_of: dict[int, list[Loop]] = defaultdict(list)
    for loop in _loops(branches, parent, parent_branch, depth):
        loops_of[int(labels[loop.buses[0]])].append(loop)
    parallel_of: dict[int, list[ParallelGroup]] = defaultdict(list)
    for group in _parallel_groups(branches, bf, bt, n_bus):
        parallel_of[int(labels[group.buses[0]])].append(group)
    branch_order, bstarts = _group(labels[bf], n_isl)
    islands = []
    for i in range(n_isl):
        isl_buses = bus_order[starts[i] : starts[i + 1]]  # ascending: a stable sort of ascending indices
        isl_branches = branch_order[bstarts[i] : bstarts[i + 1]]
        islands.append(
            Island(
                index=i,
                buses=_frozen(isl_buses),
                branches=_frozen(isl_branches),
                sources=sources[i],
                energised=bool(sources[i]),
                radial=isl_branches.size == isl_buses.size - 1,
                loops=tuple(loops_of.get(i, ())),
                parallel=tuple(parallel_of.get(i, ())),
                root=int(roots[i]),
            )
        )
    grouped = order[np.argsort(labels[order], kind="stable")]
    return Forest(
        tuple(islands), _frozen(labels), _frozen(grouped), _frozen(parent), _frozen(parent_branch), _frozen(depth)
    )


def _members(g: BusGraph) -> tuple[list[tuple[MRID, ...]], list[tuple[MRID, ...]], list[MRID]]:
    """ConnectivityNodes, TopologicalNodes (direct or the file's mapping) and id of every node bus, sorted."""
    n_bus, mrids, is_cn = g.n_node_buses, g.node_mrids, g.node_is_cn
    node_tn: list[MRID | None] = [
        g.tn_of_cn.get(i) if c else m for i, (m, c) in enumerate(zip(mrids, is_cn, strict=True))
    ]
    if n_bus == len(mrids):  # one node per bus (bus-branch, or no closed switch): no grouping needed
        at = np.empty(n_bus, dtype=np.int64)
        at[g.bus_of_node] = np.arange(n_bus, dtype=np.int64)
        order = at.tolist()
        single_cns: list[tuple[MRID, ...]] = [(mrids[i],) if is_cn[i] else () for i in order]
        single_tns: list[tuple[MRID, ...]] = [(tn,) if (tn := node_tn[i]) is not None else () for i in order]
        return single_cns, single_tns, [mrids[i] for i in order]
    cn_lists: list[list[MRID]] = [[] for _ in range(n_bus)]
    tn_sets: list[set[MRID]] = [set() for _ in range(n_bus)]
    direct: list[list[MRID]] = [[] for _ in range(n_bus)]
    for mrid, c, tn, b in zip(mrids, is_cn, node_tn, g.bus_of_node.tolist(), strict=True):
        (cn_lists if c else direct)[b].append(mrid)
        if tn is not None:
            tn_sets[b].add(tn)
    cns = [tuple(sorted(x)) for x in cn_lists]
    ids = [x[0] if x else min(d) for x, d in zip(cns, direct, strict=True)]
    return cns, [tuple(sorted(x)) for x in tn_sets], ids


def _first(keys: tuple[MRID, ...], values: dict[MRID, float]) -> float | None:
    for key in keys:
        found = values.get(key)
        if found:
            return found
    return None


class _Voltages:
    """Base voltage lookups: BaseVoltage kV by mRID, through TopologicalNodes, containers and ends."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.kv = {m: b.nominal_voltage_kv for m, b in network.base_voltages.items() if b.nominal_voltage_kv}
        self.levels = network.of(core.VoltageLevel)
        self.bays = network.of(core.Bay)
        end_classes = (PowerTransformerEnd, TransformerTankEnd)
        self.ends_by_terminal = {e.terminal: e for c in end_classes for e in network.of(c).values() if e.terminal}

    def of_container(self, container: MRID | None) -> float | None:
        """Return the kV of a VoltageLevel, or of the VoltageLevel of a Bay."""
        bay = self.bays.get(container) if container else None
        level = self.levels.get(bay.voltage_level if bay and bay.voltage_level else container or MRID(""))
        return self.kv.get(level.base_voltage) if level and level.base_voltage else None

    def of_end(self, end: object) -> float | None:
        """Return the kV of a transformer end's BaseVoltage, else its ratedU."""
        if not isinstance(end, TransformerEndBase):
            return None
        return (self.kv.get(end.base_voltage) if end.base_voltage else None) or getattr(end, "rated_u_kv", None)

    def of_equipment(self, mrid: MRID) -> float | None:
        """Return the kV of ConductingEquipment.BaseVoltage, else of the equipment's VoltageLevel."""
        obj = self.network.by_mrid.get(mrid)
        bv = getattr(obj, "base_voltage", None)
        return (self.kv.get(bv) if bv else None) or self.of_container(getattr(obj, "container", None))


def _bus_voltages(
    v: _Voltages, g: BusGraph, cns: list[tuple[MRID, ...]], tns: list[tuple[MRID, ...]]
) -> tuple[list[float | None], list[VoltageSource], list[float | None]]:
    """Base voltage of every node bus, where it was found, and a TopologicalNode's value it overruled."""
    network = v.network
    tn_kv = {m: v.kv[t.base_voltage] for m, t in network.topological_nodes.items() if t.base_voltage in v.kv}
    kv = [(tn_kv.get(ts[0]) if ts else None) if len(ts) < 2 else _first(ts, tn_kv) for ts in tns]
    how = [VoltageSource.TOPOLOGICAL_NODE if k else VoltageSource.NONE for k in kv]
    overruled: list[float | None] = [None] * len(kv)
    if tn_kv and network.connectivity_nodes:
        _prefer_levels(v, cns, kv, how, overruled)
    missing = [b for b, k in enumerate(kv) if k is None]
    if not missing:
        return kv, how, overruled
    nodes: dict[MRID, core.ConnectivityNode | core.TopologicalNode] = {
        **network.topological_nodes,
        **network.connectivity_nodes,
    }
    for b in missing:
        for node in (*cns[b], *tns[b]):
            found = nodes.get(node)
            kv[b] = v.of_container(found.container) if found is not None else None
            if kv[b]:
                how[b] = VoltageSource.VOLTAGE_LEVEL
                break
    if any(k is None for k in kv):  # buses no node tells: a transformer end at them, else other equipment
        bon = g.bus_of_node.tolist()
        attached = list(zip(g.attached_terminals, g.attached_equipment, g.attached_node.tolist(), strict=True))
        ends = v.ends_by_terminal
        for term, _, node in attached if ends else ():
            b = bon[node]
            if kv[b] is None and term in ends:
                kv[b] = v.of_end(ends[term])
                how[b] = VoltageSource.TRANSFORMER_END if kv[b] else how[b]
        of_equipment: dict[MRID, float | None] = {}
        for _, equipment, node in attached:
            b = bon[node]
            if kv[b] is None:
                if equipment not in of_equipment:
                    of_equipment[equipment] = v.of_equipment(equipment)
                kv[b] = of_equipment[equipment]
                how[b] = VoltageSource.EQUIPMENT if kv[b] else how[b]
    return kv, how, overruled


def _prefer_levels(
    v: _Voltages,
    cns: list[tuple[MRID, ...]],
    kv: list[float | None],
    how: list[VoltageSource],
    overruled: list[float | None],
) -> None:
    """Give a bus the VoltageLevel of its ConnectivityNodes where its TopologicalNode disagrees."""
    cn_of = v.network.connectivity_nodes
    by_container: dict[MRID | None, float | None] = {}
    for b, members in enumerate(cns):
        tn = kv[b]
        if tn is None or not members:
            continue
        for cn in members:
            node = cn_of.get(cn)
            container = node.container if node is not None else None
            if container not in by_container:
                by_container[container] = v.of_container(container) if container else None
            level = by_container[container]
            if level:
                if abs(level - tn) > 1e-6 * tn:
                    kv[b], how[b], overruled[b] = level, VoltageSource.VOLTAGE_LEVEL, tn
                break


def assemble_buses(network: Network, g: BusGraph) -> tuple[tuple[Bus, ...], dict[MRID, int]]:
    """Bus records (members, id, name, base voltage and its source) and the node -> bus map."""
    n_bus = g.n_node_buses
    cns, tns, ids = _members(g)
    v = _Voltages(network)
    kv, how, overruled = _bus_voltages(v, g, cns, tns)
    names = {m: t.name for m, t in network.topological_nodes.items() if t.name}
    names.update((m, c.name) for m, c in network.connectivity_nodes.items() if c.name and m not in names)
    bus_names = [(names.get(ts[0]) if ts else None) or next((names[m] for m in (*ts, *cs) if m in names), None)
                 for ts, cs in zip(tns, cns, strict=True)]  # fmt: skip
    buses = [
        Bus(b, ids[b], bus_names[b], cns[b], tns[b], kv[b], how[b], overruled_kv=overruled[b]) for b in range(n_bus)
    ]
    for k, (star, ends) in enumerate(zip(g.stars, g.star_ends, strict=True)):
        star_kv = v.of_end(network.by_mrid.get(ends[0])) if ends else None
        source = VoltageSource.TRANSFORMER_END if star_kv else VoltageSource.NONE
        obj = network.by_mrid.get(star)
        buses.append(Bus(n_bus + k, MRID(f"{star}#star"), obj.name if obj else None, (), (), star_kv, source, star))
    return tuple(buses), dict(zip(g.node_mrids, g.bus_of_node.tolist(), strict=True))
