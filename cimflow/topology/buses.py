"""Bus records: members (ConnectivityNodes, TopologicalNodes), id, name and base voltage.

Base voltage of a bus, first found of: the BaseVoltage of its TopologicalNode; of the VoltageLevel
containing one of its nodes (directly or through a Bay); of a transformer end at the bus (its
BaseVoltage, else its ratedU); of the ConductingEquipment.BaseVoltage or VoltageLevel of equipment at
the bus. :attr:`Bus.voltage_source` records which, so a rule can say how the voltage was inferred. A
star bus takes the voltage of end 1 of its transformer. Where the VoltageLevel of a bus's
ConnectivityNodes disagrees with its TopologicalNode, the VoltageLevel wins (the TopologicalNode is
the exporter's processing, the containers are the equipment model: pandapower's export maps auxiliary
ConnectivityNodes of 0.4 and 10 kV buses to a 110 kV TopologicalNode) and :attr:`Bus.overruled_kv`
keeps the TopologicalNode's value for a finding.
"""

from __future__ import annotations

import numpy as np

from cimflow.ids import MRID
from cimflow.model import core
from cimflow.model.equipment import PowerTransformerEnd, TransformerEndBase, TransformerTankEnd
from cimflow.model.network import Network
from cimflow.records import constructor
from cimflow.topology.graph import BusGraph
from cimflow.topology.model import Bus, VoltageSource

_new_bus = constructor(Bus)  # positional, every field: see cimflow.records


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
    buses = [_new_bus(b, ids[b], bus_names[b], cns[b], tns[b], kv[b], how[b], None, overruled[b]) for b in range(n_bus)]
    for k, (star, ends) in enumerate(zip(g.stars, g.star_ends, strict=True)):
        star_kv = v.of_end(network.by_mrid.get(ends[0])) if ends else None
        source = VoltageSource.TRANSFORMER_END if star_kv else VoltageSource.NONE
        obj = network.by_mrid.get(star)
        buses.append(Bus(n_bus + k, MRID(f"{star}#star"), obj.name if obj else None, (), (), star_kv, source, star))
    return tuple(buses), dict(zip(g.node_mrids, g.bus_of_node.tolist(), strict=True))
