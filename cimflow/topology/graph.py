"""Network -> bus graph: ConnectivityNodes joined across closed switches into buses, branches and injections.

Every terminal of a piece of conducting equipment names its node: its ConnectivityNode when it has one
(node-breaker), else its TopologicalNode (bus-branch). A terminal with ``connected=false``, without a
node, or of equipment with ``inService=false`` is not attached, and a node only becomes part of a bus
through an attached terminal. Nodes are joined into buses, in one sparse connected-components pass
(scipy), across

* closed switches (SSH ``Switch.open`` overrides EQ ``normalOpen``), in both node models: a retained
  closed breaker between two TopologicalNodes joins them as well;
* the file's ``ConnectivityNode.TopologicalNode`` link, but only to a TopologicalNode that equipment
  refers to directly (a mixed model such as an IGM beside its boundary set). Otherwise the file's
  mapping is only compared with the buses (:func:`cimflow.topology.feeders.compare_mapping`).

Branches are the two-terminal equipment other than switches, and transformers: a transformer whose
windings are on two nodes is one branch from end 1 to end 2; on three or more nodes it is a star, an
internal star bus plus one branch from each winding's node to it. The per-terminal work is done on
whole columns (numpy), so only switches and transformers are visited one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from cimflow.ids import MRID
from cimflow.model.base import CimObject
from cimflow.model.core import Terminal
from cimflow.model.equipment import Equipment, PowerTransformerEnd, Switch, TransformerEndBase, TransformerTankEnd
from cimflow.model.network import Network, OpaqueObject
from cimflow.model.registry import SWITCH_CLASSES
from cimflow.records import constructor
from cimflow.topology.model import (
    Branch,
    BranchKind,
    DetachedEquipment,
    DetachReason,
    Injection,
    IntArray,
    NodeModel,
    OpenReason,
    OpenSwitch,
)

_GENERIC, _SWITCH, _TRANSFORMER = 0, 1, 2


class _RawBranch(NamedTuple):  # a tuple, cheap to build; sorts by (mrid, from_terminal), which are unique
    mrid: MRID
    from_terminal: MRID
    cim_class: str
    kind: BranchKind
    from_node: int
    to_node: int  # node index, or -2 - k for the star bus of the k-th star transformer
    to_terminal: MRID | None
    ends: tuple[MRID, ...]
    length_km: float | None = None  # of a line


@dataclass(frozen=True, slots=True, eq=False)
class BusGraph:
    """Buses (as node groups), branches and attachments before islands are known.

    ``bus_of_node`` maps node index -> bus; star buses follow the node buses, one per star transformer
    (``stars``, in mRID order). ``tn_of_cn`` is the file's TopologicalNode of each ConnectivityNode index.
    ``attached_*`` describe every attached terminal: its mRID, its equipment and its node index.
    """

    node_model: NodeModel
    node_mrids: tuple[MRID, ...]
    node_is_cn: tuple[bool, ...]
    bus_of_node: IntArray
    n_node_buses: int
    stars: tuple[MRID, ...]
    star_ends: tuple[tuple[MRID, ...], ...]
    branches: tuple[Branch, ...]
    branch_length_km: tuple[float | None, ...]  # ACLineSegment length per branch (None elsewhere or unknown)
    injections: tuple[Injection, ...]
    open_switches: tuple[OpenSwitch, ...]
    closed_switches: tuple[tuple[MRID, int, int], ...]  # (switch, node a, node b)
    open_switch_nodes: tuple[tuple[MRID, int, int], ...]  # (switch, node a, node b), -1 when unattached
    attached_terminals: tuple[MRID, ...]
    equipment: frozenset[MRID]  # every piece of equipment some terminal refers to
    attached_equipment: tuple[MRID, ...]
    attached_node: IntArray
    tn_of_cn: MappingProxyType[int, MRID]
    unattached_terminals: tuple[MRID, ...]
    disconnected_terminals: tuple[MRID, ...]
    detached: tuple[DetachedEquipment, ...]

    @property
    def n_buses(self) -> int:
        """Node buses plus star buses."""
        return self.n_node_buses + len(self.stars)


class _Table:
    """Column view of the terminals of known equipment.

    Terminals are grouped by equipment (in order of first appearance) and ordered by sequence number,
    then mRID, within one piece of equipment: :attr:`Network.terminals_of`, which the rules have usually
    built already. They are read once; everything else works on the columns, mostly with numpy.
    """

    def __init__(self, network: Network) -> None:
        get, opaque = network.by_mrid.get, network.opaque.get
        eq_mrids: list[MRID] = []
        eq_objs: list[CimObject | OpaqueObject] = []
        terms: list[Terminal] = []
        n_terms: list[int] = []
        for e, ts in network.terminals_of.items():
            obj = get(e) or opaque(e)
            if obj is None:  # a dangling reference (data rules)
                continue
            eq_mrids.append(e)
            eq_objs.append(obj)
            terms.extend(ts)
            n_terms.append(len(ts))
        self.eq_mrids = eq_mrids
        self.eq_objs = eq_objs
        self.n_terms = np.array(n_terms, dtype=np.int64)
        self.term_eq = np.repeat(np.arange(len(eq_mrids), dtype=np.int64), self.n_terms)
        self.term_seq = np.array([t.sequence_number or 0 for t in terms], dtype=np.int64)
        self.term_mrid: list[MRID] = [t.mrid for t in terms]
        self.term_cn: list[MRID | None] = [t.connectivity_node for t in terms]
        self.term_tn: list[MRID | None] = [t.topological_node for t in terms]
        self.eq_cls = [o.cim_class for o in self.eq_objs]
        cats = {c: _SWITCH for c in SWITCH_CLASSES} | {"PowerTransformer": _TRANSFORMER}
        self.eq_cat = np.array([cats.get(c, _GENERIC) for c in self.eq_cls], dtype=np.int8)
        self.eq_oos = np.array([isinstance(o, Equipment) and o.in_service is False for o in self.eq_objs], dtype=bool)
        self.start = np.concatenate([[0], np.cumsum(self.n_terms)[:-1]]).astype(np.int64)
        keys: list[MRID] = [cn or tn for cn, tn in zip(self.term_cn, self.term_tn, strict=True)]  # type: ignore[misc]
        self.has_node = np.array([k is not None for k in keys], dtype=bool)
        self.disconnected = np.array([t.connected is False for t in terms], dtype=bool) & self.has_node
        self.attached = self.has_node & ~self.disconnected & ~self.eq_oos[self.term_eq]
        self.n_attached = np.bincount(self.term_eq[self.attached], minlength=len(self.eq_mrids))
        # node index of every attached terminal (-1 otherwise), numbered in order of first use
        index: dict[MRID, int] = {}
        self.term_node = np.array(
            [index.setdefault(k, len(index)) if a else -1 for k, a in zip(keys, self.attached.tolist(), strict=True)],
            dtype=np.int64,
        )
        self.node_index = index
        self.node_mrids: list[MRID] = list(index)
        first = np.unique(self.term_node[self.attached], return_index=True)[1]
        attached_at = np.flatnonzero(self.attached)[first].tolist()
        self.node_is_cn = [self.term_cn[i] is not None for i in attached_at]


def _windings(
    table: _Table, ends_of: dict[MRID, TransformerEndBase], rows: range
) -> list[tuple[int, tuple[MRID, ...], MRID, int]]:
    """Return (end number, ends, terminal, node) per winding of a transformer, in end-number order.

    Terminals are grouped by the end number of their TransformerEnd, else their sequence number (CIM100
    tanks give one terminal per phase and winding); a winding is at its first attached terminal.
    """
    groups: dict[int, tuple[list[MRID], MRID, int]] = {}
    for row in rows:
        term, node = table.term_mrid[row], int(table.term_node[row])
        end = ends_of.get(term)
        key = end.end_number if end is not None and end.end_number is not None else table.term_seq[row] or -1 - row
        ends, _, at = groups.setdefault(key, ([], term, node))
        if end is not None and end.mrid not in ends:
            ends.append(end.mrid)
        if at < 0 <= node:
            groups[key] = (ends, term, node)
    return [(k, tuple(e), t, n) for k, (e, t, n) in sorted(groups.items())]


class _Collector:
    """Switches and transformers, visited one by one; star buses are numbered as they come."""

    def __init__(self, network: Network, table: _Table) -> None:
        self.table = table
        end_classes = (PowerTransformerEnd, TransformerTankEnd)
        self.ends_of: dict[MRID, TransformerEndBase] = {
            e.terminal: e for c in end_classes for e in network.of(c).values() if e.terminal
        }
        self.raw_branches: list[_RawBranch] = []
        self.open_switches: list[tuple[MRID, str, int, int, OpenReason]] = []
        self.closed: list[tuple[MRID, int, int]] = []
        self.stars: list[MRID] = []
        self.star_ends: list[tuple[MRID, ...]] = []
        self.detached: list[DetachedEquipment] = []

    def add_switch(self, e: int) -> None:
        """Join the two nodes of a closed switch; list any other switch with the reason it does not."""
        tb, s = self.table, int(self.table.start[e])
        mrid, obj, n = tb.eq_mrids[e], tb.eq_objs[e], int(tb.n_terms[e])
        nodes = tb.term_node[s : s + n].tolist()
        a, b = (nodes[0], nodes[1]) if n == 2 else (nodes[0], -1)
        if tb.eq_oos[e]:
            reason = OpenReason.OUT_OF_SERVICE
        elif n != 2 or not tb.has_node[s : s + n].all():
            reason = OpenReason.UNATTACHED
        elif a < 0 or b < 0:
            reason = OpenReason.DISCONNECTED
        elif isinstance(obj, Switch) and obj.is_open:
            reason = OpenReason.OPEN
        else:
            self.closed.append((mrid, a, b))
            return
        self.open_switches.append((mrid, tb.eq_cls[e], a, b, reason))

    def add_transformer(self, e: int) -> None:
        """Add a transformer: one branch when its windings are on two nodes, else a star.

        The branch runs from the side of the lowest end number; windings on the same node (a centre-tapped
        secondary) share a side. Three or more nodes: a star bus and one branch from each node to it.
        """
        tb, s = self.table, int(self.table.start[e])
        mrid, cls = tb.eq_mrids[e], tb.eq_cls[e]
        windings = _windings(tb, self.ends_of, range(s, s + int(tb.n_terms[e])))
        attached = [w for w in windings if w[3] >= 0]
        sides: dict[int, tuple[list[MRID], MRID]] = {}
        for _, ends, term, node in attached:
            sides.setdefault(node, ([], term))[0].extend(ends)
        if len(windings) >= 2 and len(attached) == len(windings) and len(sides) <= 2:
            if len(sides) == 2:
                (n1, (e1, t1)), (n2, (e2, t2)) = sides.items()
            else:  # every winding on one node: a branch from the node to itself
                n1 = n2 = attached[0][3]
                e1, t1 = list(attached[0][1]), attached[0][2]
                e2, t2 = [x for w in attached[1:] for x in w[1]], attached[1][2]
            self.raw_branches.append(_RawBranch(mrid, t1, cls, BranchKind.TRANSFORMER, n1, n2, t2, (*e1, *e2)))
        elif len(windings) >= 3 and attached:
            star = -2 - len(self.stars)
            self.stars.append(mrid)
            self.star_ends.append(tuple(x for w in windings for x in w[1]))
            for node, (side_ends, term) in sides.items():
                kind = BranchKind.TRANSFORMER_WINDING
                self.raw_branches.append(_RawBranch(mrid, term, cls, kind, node, star, None, tuple(side_ends)))
        else:
            reason = DetachReason.PARTIALLY_ATTACHED if attached else DetachReason.NOT_ATTACHED
            self.detached.append(DetachedEquipment(mrid, cls, reason, len(windings), len(attached)))


def _generic(tb: _Table, col: _Collector) -> list[tuple[MRID, str, int, MRID]]:
    """Sort the equipment that is neither switch nor transformer, a whole column at a time.

    Branches and detached records go to ``col``; the injections are returned.
    """
    generic = tb.eq_cat == _GENERIC
    live = generic & ~tb.eq_oos
    n, att = tb.n_terms, tb.n_attached
    mrids, classes, terms, nodes, objs = tb.eq_mrids, tb.eq_cls, tb.term_mrid, tb.term_node.tolist(), tb.eq_objs
    rows = tb.start.tolist()
    kinds, other = {"ACLineSegment": BranchKind.LINE}, BranchKind.OTHER
    for e in np.flatnonzero(live & (n == 2) & (att == 2)).tolist():
        r, cls = rows[e], classes[e]
        kind, length_km = kinds.get(cls, other), getattr(objs[e], "length_km", None)
        col.raw_branches.append(
            _RawBranch(mrids[e], terms[r], cls, kind, nodes[r], nodes[r + 1], terms[r + 1], (), length_km)
        )
    reasons = (
        ((tb.eq_cat != _SWITCH) & tb.eq_oos, DetachReason.OUT_OF_SERVICE),
        (live & (att == 0), DetachReason.NOT_ATTACHED),
        (live & (n == 2) & (att == 1), DetachReason.PARTIALLY_ATTACHED),
        (live & (n >= 3) & (att > 0), DetachReason.UNSUPPORTED),
    )
    for mask, reason in reasons:
        for e in np.flatnonzero(mask).tolist():
            col.detached.append(DetachedEquipment(mrids[e], classes[e], reason, int(n[e]), int(att[e])))
    single = np.flatnonzero(live & (n == 1) & (att == 1)).tolist()
    return [(mrids[e], classes[e], nodes[rows[e]], terms[rows[e]]) for e in single]


def _file_tn_of_cns(network: Network, tb: _Table) -> dict[int, MRID]:
    """The file's TopologicalNode of each ConnectivityNode index (CN.TopologicalNode, else a terminal's)."""
    cns = network.connectivity_nodes
    out: dict[int, MRID] = {}
    if not any(tb.node_is_cn):
        return out
    for idx, (mrid, is_cn) in enumerate(zip(tb.node_mrids, tb.node_is_cn, strict=True)):
        cn = cns.get(mrid) if is_cn else None
        if cn is not None and cn.topological_node is not None:
            out[idx] = cn.topological_node
    for cn_ref, tn, node in zip(tb.term_cn, tb.term_tn, tb.term_node.tolist(), strict=True):
        if node >= 0 and cn_ref is not None and tn is not None:
            out.setdefault(node, tn)
    return out


def _label_buses(tb: _Table, closed: list[tuple[MRID, int, int]], tn_of_cn: dict[int, MRID]) -> tuple[IntArray, int]:
    """Connected components of nodes across closed switches (and CN -> TN links); buses ordered by id."""
    n = len(tb.node_mrids)
    rows = [a for _, a, _ in closed]
    cols = [b for _, _, b in closed]
    for idx, tn in tn_of_cn.items():
        tn_idx = tb.node_index.get(tn)
        if tn_idx is not None:
            rows.append(idx)
            cols.append(tn_idx)
    edges = (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))
    graph = sp.coo_array((np.ones(len(rows), dtype=np.int8), edges), shape=(n, n)).tocsr()
    n_comp, labels = csgraph.connected_components(graph, directed=False)
    # bus id = the first node of the component, ConnectivityNodes before TopologicalNodes, by mRID
    key = tb.node_mrids.__getitem__
    cn_first = sorted((i for i in range(n) if tb.node_is_cn[i]), key=key)
    cn_first += sorted((i for i in range(n) if not tb.node_is_cn[i]), key=key)
    rank = np.empty(n, dtype=np.int64)
    rank[np.asarray(cn_first, dtype=np.int64)] = np.arange(n, dtype=np.int64)
    first = np.full(n_comp, n, dtype=np.int64)
    np.minimum.at(first, labels, rank)
    bus_of_comp = np.empty(n_comp, dtype=np.int64)
    bus_of_comp[np.argsort(first, kind="stable")] = np.arange(n_comp, dtype=np.int64)
    return bus_of_comp[labels].astype(np.int64), int(n_comp)


def _node_model(node_is_cn: list[bool]) -> NodeModel:
    has_cn, has_tn = any(node_is_cn), not all(node_is_cn)
    if has_cn and has_tn:
        return NodeModel.MIXED
    if has_cn:
        return NodeModel.NODE_BREAKER
    return NodeModel.BUS_BRANCH if has_tn else NodeModel.EMPTY


_new_branch = constructor(Branch)  # positional, every field: see cimflow.records
_new_injection = constructor(Injection)


def build_graph(network: Network) -> BusGraph:
    """Collect nodes, join them into buses and turn equipment into branches, injections and switches."""
    tb = _Table(network)
    col = _Collector(network, tb)
    for e in np.flatnonzero(tb.eq_cat == _SWITCH).tolist():
        col.add_switch(e)
    for e in sorted(np.flatnonzero((tb.eq_cat == _TRANSFORMER) & ~tb.eq_oos).tolist(), key=tb.eq_mrids.__getitem__):
        col.add_transformer(e)
    raw_injections = _generic(tb, col)
    tn_of_cn = _file_tn_of_cns(network, tb)
    bus_of_node, n_node_buses = _label_buses(tb, col.closed, tn_of_cn)
    bon = bus_of_node.tolist()
    raw = sorted(col.raw_branches)
    branches = tuple(
        _new_branch(k, m, c, kind, bon[a], bon[b] if b >= 0 else n_node_buses - 2 - b, ta, tb_, ends)
        for k, (m, ta, c, kind, a, b, tb_, ends, _) in enumerate(raw)
    )
    injections = tuple(_new_injection(m, c, bon[n], t) for m, c, n, t in raw_injections)
    open_switches = tuple(
        OpenSwitch(m, c, bon[a] if a >= 0 else -1, bon[b] if b >= 0 else -1, why)
        for m, c, a, b, why in col.open_switches
    )
    rows = np.flatnonzero(tb.attached).tolist()
    detached = sorted(col.detached, key=lambda d: d.mrid)
    return BusGraph(
        node_model=_node_model(tb.node_is_cn),
        node_mrids=tuple(tb.node_mrids),
        node_is_cn=tuple(tb.node_is_cn),
        bus_of_node=bus_of_node,
        n_node_buses=n_node_buses,
        branch_length_km=tuple(r.length_km for r in raw),
        stars=tuple(col.stars),
        star_ends=tuple(col.star_ends),
        branches=branches,
        injections=injections,
        open_switches=open_switches,
        closed_switches=tuple(col.closed),
        open_switch_nodes=tuple((m, a, b) for m, _, a, b, _ in col.open_switches),
        attached_terminals=tuple(tb.term_mrid[r] for r in rows),
        equipment=frozenset(tb.eq_mrids),
        attached_equipment=tuple(tb.eq_mrids[e] for e in tb.term_eq[rows].tolist()),
        attached_node=tb.term_node[rows],
        tn_of_cn=MappingProxyType(tn_of_cn),
        unattached_terminals=tuple(sorted(tb.term_mrid[r] for r in np.flatnonzero(~tb.has_node).tolist())),
        disconnected_terminals=tuple(sorted(tb.term_mrid[r] for r in np.flatnonzero(tb.disconnected).tolist())),
        detached=tuple(detached),
    )
