"""Islands: components, sources, spanning tree, loops and parallel branches (buses: :mod:`cimflow.topology.buses`).

Source rule. An island's sources are, in this order of precedence (the first tier present wins):

1. ``EXTERNAL_GRID``: every ExternalNetworkInjection in the island;
2. ``ENERGY_SOURCE``, only when the island has none: its EnergySources that give a
   ``voltageMagnitude`` (a CIM100 feeder head: a voltage behind ``r``, ``x``), or, when none gives
   one, its first EnergySource;
3. ``REGULATING_MACHINE``, only when the island has neither: every SynchronousMachine with
   ``referencePriority > 0``, or with a RegulatingControl whose ``controlEnabled`` is not false.

Within a tier, sources are ordered by ``referencePriority`` (1 is the highest; 0 or none last), then, for
machines, by size (GeneratingUnit ``maxOperatingP``, else ``ratedS``; the largest first: a grid exported
without a reference marker, such as PowSyBl's export of an external grid as a machine, is fed where its
largest machine is), then mRID; the first is the island's root. Every EnergySource that is not a source
is an injection at its ``activePower``/``reactivePower`` (CGMES SSH, load sign convention), as PowSyBl
and pandapower import it: ENTSO-E and pandapower exports use EnergySources for infeeds beside the
ExternalNetworkInjection. EquivalentInjections are not sources (they are PQ injections or PV buses, see
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

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from cimflow.model.injections import EnergySource, ExternalNetworkInjection, GeneratingUnit, SynchronousMachine
from cimflow.model.network import Network
from cimflow.topology.model import (
    Branch,
    Injection,
    IntArray,
    Island,
    Loop,
    ParallelGroup,
    Source,
    SourceRule,
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
            return Source(
                inj.mrid, inj.cim_class, inj.bus, SourceRule.REGULATING_MACHINE, priority, _capacity_mw(network, obj)
            )
    return None


def _capacity_mw(network: Network, machine: SynchronousMachine) -> float:
    """How much a machine can produce: its GeneratingUnit's maxOperatingP, else its ratedS, else 0."""
    unit = network.by_mrid.get(machine.generating_unit) if machine.generating_unit else None
    if isinstance(unit, GeneratingUnit) and unit.max_p_mw is not None and math.isfinite(unit.max_p_mw):
        return unit.max_p_mw
    return machine.rated_s_mva or 0.0


def _source_key(s: Source) -> tuple[int, int, float, str]:
    """Tier, then referencePriority (lowest positive first), then the largest machine (the slack of a grid
    exported without a reference marker: PowSyBl writes an external grid as the largest machine), then mRID."""
    priority = s.reference_priority if s.reference_priority is not None and s.reference_priority > 0 else _NO_PRIORITY
    return (_TIER[s.rule], priority, -s.capacity_mw, s.mrid)


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
