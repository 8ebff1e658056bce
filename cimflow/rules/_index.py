"""Lookups several rules share, built once per check: nominal voltages of equipment and nodes, ratings by voltage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from cimflow.ids import MRID, normalise_mrid
from cimflow.model import core, equipment
from cimflow.model.base import CimObject
from cimflow.model.network import Network

# raw statements are (Clark tag, value, kind, line) tuples; kind 1 is an rdf:resource (cimflow.cim.rdf.Kind.REF).
# The rules layer reads them duck-typed through Network.dataset rather than importing the reader.
_KIND_REF = 1
T = TypeVar("T")


_TABLE_POINTS = {
    "RatioTapChangerTablePoint": "RatioTapChangerTablePoint.RatioTapChangerTable",
    "PhaseTapChangerTablePoint": "PhaseTapChangerTablePoint.PhaseTapChangerTable",
}
_TABLE_REFS = frozenset({"RatioTapChanger.RatioTapChangerTable", "PhaseTapChangerTabular.PhaseTapChangerTable"})


@dataclass(frozen=True, slots=True)
class TapTables:
    """The table each tabular tap changer names, and the steps each table has a point for."""

    table_of: Mapping[MRID, MRID]
    steps_of: Mapping[MRID, frozenset[int]]


def _local(tag: str) -> str:
    """``ACLineSegment.r`` from ``{namespace}ACLineSegment.r``."""
    return tag.rsplit("}", 1)[-1]


@dataclass(frozen=True, slots=True)
class Voltage:
    """A nominal voltage and where it was found (``BaseVoltage``, ``container``, ``node``, ...)."""

    kv: float
    source: str
    via: MRID | None = None


def same_kv(a: float, b: float, *, rel: float = 0.01) -> bool:
    """Tell whether two nominal voltages are the same level (within 1 %)."""
    return abs(a - b) <= rel * max(abs(a), abs(b))


def kv_key(kv: float) -> float:
    """A dictionary key for a voltage level (three significant digits)."""
    return float(f"{kv:.3g}")


class NetworkIndex:
    """Nominal voltages and ratings derived from a :class:`Network`; every map is built on first use."""

    def __init__(self, network: Network) -> None:
        """Index ``network`` (lazily)."""
        self.network = network

    @cached_property
    def _bv_kv(self) -> dict[MRID, float | None]:
        """Nominal voltage of every BaseVoltage (``None`` where not positive), read once."""
        out: dict[MRID, float | None] = {}
        for mrid, obj in self.network.base_voltages.items():
            kv = obj.nominal_voltage_kv
            out[mrid] = kv if kv is not None and kv > 0 else None
        return out

    @cached_property
    def _voltage_level(self) -> dict[MRID | None, core.VoltageLevel | None]:
        """The VoltageLevel a container stands for (itself, or a Bay's), memoised per container."""
        return {}

    def _level_of(self, container: MRID | None) -> core.VoltageLevel | None:
        levels = self._voltage_level
        if container in levels:
            return levels[container]
        obj = self.network.get(container)
        if isinstance(obj, core.Bay):
            obj = self.network.get(obj.voltage_level)
        level = obj if isinstance(obj, core.VoltageLevel) else None
        levels[container] = level
        return level

    def bv_kv(self, bv: MRID | None) -> float | None:
        """Nominal voltage of a BaseVoltage (``None`` if unknown or not positive)."""
        if bv is None:
            return None
        return self._bv_kv.get(bv)

    def container_kv(self, container: MRID | None) -> float | None:
        """Nominal voltage of a VoltageLevel, or of the VoltageLevel of a Bay."""
        level = self._level_of(container)
        return self.bv_kv(level.base_voltage) if level is not None else None

    @cached_property
    def _own_kv(self) -> dict[tuple[MRID | None, MRID | None], Voltage | None]:
        """:meth:`own_kv` memoised by (BaseVoltage, container): the only fields it reads."""
        return {}

    def own_kv(self, eq: equipment.Equipment) -> Voltage | None:
        """Voltage the equipment states: its BaseVoltage, else its container's."""
        key = (eq.base_voltage, eq.container)
        memo = self._own_kv
        if key in memo:
            return memo[key]
        found: Voltage | None = None
        kv = self.bv_kv(eq.base_voltage)
        if kv is not None:
            found = Voltage(kv, "BaseVoltage", eq.base_voltage)
        else:
            kv = self.container_kv(eq.container)
            if kv is not None:
                found = Voltage(kv, "container", eq.container)
        memo[key] = found
        return found

    @cached_property
    def declared_node_kv(self) -> Mapping[MRID, float]:
        """Voltage of ConnectivityNodes and TopologicalNodes from their container or TopologicalNode."""
        out: dict[MRID, float] = {}
        for tn in self.network.topological_nodes.values():
            kv = self.bv_kv(tn.base_voltage) or self.container_kv(tn.container)
            if kv is not None:
                out[tn.mrid] = kv
        for cn in self.network.connectivity_nodes.values():
            kv = self.container_kv(cn.container)
            if kv is None and cn.topological_node is not None:
                kv = out.get(cn.topological_node)
            if kv is not None:
                out[cn.mrid] = kv
        return out

    @staticmethod
    def node_of(t: core.Terminal) -> MRID | None:
        """The node a terminal is attached to: its ConnectivityNode, else its TopologicalNode."""
        return t.connectivity_node or t.topological_node

    @cached_property
    def node_kv(self) -> Mapping[MRID, Voltage]:
        """Voltage of every node: declared, else from equipment stating a voltage or a transformer end there."""
        shared: dict[float, Voltage] = {}  # one (frozen) Voltage per declared level, not one per node
        out: dict[MRID, Voltage] = {
            k: shared.get(v) or shared.setdefault(v, Voltage(v, "node")) for k, v in self.declared_node_kv.items()
        }
        net = self.network
        terminals = net.terminals
        for end in net.transformer_ends.values():
            t = terminals.get(end.terminal) if end.terminal else None
            node = self.node_of(t) if t is not None else None
            kv = self.bv_kv(end.base_voltage)
            if node is not None and kv is not None and node not in out:
                out[node] = Voltage(kv, "transformer end", end.mrid)
        # equipment speaks only for nodes nothing declared a voltage for; in a bus-branch file every node
        # has its own, and the pass over 200k pieces of equipment below would add nothing
        node_of = self.node_of
        if all(node_of(t) in out for t in terminals.values()):
            return out
        get, own_kv = net.by_mrid.get, self.own_kv
        eq_type, transformer = equipment.Equipment, equipment.PowerTransformer
        for eq_mrid, ts in net.terminals_of.items():
            obj = get(eq_mrid)
            if not isinstance(obj, eq_type) or isinstance(obj, transformer):
                continue
            stated = own_kv(obj)
            if stated is None:
                continue
            for t in ts:
                node = node_of(t)
                if node is not None and node not in out:
                    out[node] = Voltage(stated.kv, "equipment", obj.mrid)
        return out

    def terminal_kv(self, t: core.Terminal) -> Voltage | None:
        """Voltage of the node a terminal is attached to (through its ConnectivityNode or TopologicalNode)."""
        get = self.node_kv.get
        cn, tn = t.connectivity_node, t.topological_node
        v = get(cn) if cn is not None else None
        return v if v is not None or tn is None else get(tn)

    def equipment_kv(self, eq: equipment.Equipment) -> Voltage | None:
        """Voltage of equipment: stated (BaseVoltage or container), else that of the node of its first terminal."""
        stated = self.own_kv(eq)
        if stated is not None:
            return stated
        for t in self.network.terminals_of.get(eq.mrid, ()):
            v = self.terminal_kv(t)
            if v is not None:
                return v
        return None

    @cached_property
    def rated_s_by_kv(self) -> Mapping[float, float]:
        """Largest transformer end ratedS (MVA) per voltage level (key: :func:`kv_key`)."""
        out: dict[float, float] = defaultdict(float)
        for end in self.network.transformer_ends.values():
            kv = self.bv_kv(end.base_voltage) or end.rated_u_kv
            if kv is None or end.rated_s_mva is None or end.rated_s_mva <= 0:
                continue
            key = kv_key(kv)
            out[key] = max(out[key], end.rated_s_mva)
        return dict(out)

    def states_voltage(self, eq: equipment.Equipment) -> bool:
        """Whether the equipment or its voltage level names a BaseVoltage (resolvable or not: CF101 says which)."""
        if eq.base_voltage is not None:
            return True
        level = self._level_of(eq.container)
        return level is not None and level.base_voltage is not None

    def raw_objects(self) -> Iterator[tuple[MRID, str, list[tuple[str, str, int, int]]]]:
        """Every raw object description of the input as (mRID, class local name, statements); one linear pass."""
        for doc in getattr(self.network.dataset, "documents", ()):
            for obj in doc.objects:
                if obj.mrid:
                    yield obj.mrid, _local(obj.tag), obj.props

    @cached_property
    def asset_defined_lines(self) -> frozenset[MRID]:
        """Lines whose impedance comes from wire and spacing assets (CIM100 WireSpacingInfo, WireInfo, Asset).

        Such a line is not missing its impedance (the power flow computes overhead geometry by Carson's
        equations and reports what it cannot evaluate, such as cables). Found by one scan of the raw
        statements, done only when a line states no r, x or per-length impedance.
        """
        lines = self.network.lines.values()
        if all(x.r_ohm is not None or x.per_length_impedance is not None for x in lines):
            return frozenset()
        found: set[MRID] = set()
        for mrid, _cls, props in self.raw_objects():
            refs = [p for p in props if p[2] == _KIND_REF]
            names = {_local(p[0]) for p in refs}
            if "ACLineSegment.WireSpacingInfo" in names:
                found.add(mrid)
            for ptag, value, _kind, _line in refs:
                local = _local(ptag)
                if local == "Asset.PowerSystemResources" or (
                    local == "ACLineSegmentPhase.ACLineSegment" and "ACLineSegmentPhase.WireInfo" in names
                ):
                    found.add(normalise_mrid(value))
        return frozenset(found)

    @cached_property
    def tap_tables(self) -> TapTables:
        """Tap changer tables: which table each tap changer uses, and the steps each table has points for."""
        counts = self.network.class_counts
        if not any(c in counts for c in _TABLE_POINTS):
            return TapTables({}, {})
        table_of: dict[MRID, MRID] = {}
        steps: dict[MRID, set[int]] = defaultdict(set)
        for mrid, cls, props in self.raw_objects():
            if cls in _TABLE_POINTS:
                table = next((normalise_mrid(p[1]) for p in props if _local(p[0]) == _TABLE_POINTS[cls]), None)
                step = next((p[1] for p in props if _local(p[0]) == "TapChangerTablePoint.step"), None)
                if table is not None and step is not None:
                    try:
                        steps[table].add(int(float(step)))
                    except ValueError:
                        continue  # CF105 territory; the point names no usable step
                continue
            for ptag, value, kind, _line in props:
                if kind == _KIND_REF and _local(ptag) in _TABLE_REFS:
                    table_of[mrid] = normalise_mrid(value)
        return TapTables(table_of, {k: frozenset(v) for k, v in steps.items()})

    @cached_property
    def tank_ends_of(self) -> Mapping[MRID, int]:
        """Number of TransformerTankEnds per PowerTransformer (CIM100 tank transformers)."""
        tanks = self.network.of(equipment.TransformerTank)
        counts: dict[MRID, int] = defaultdict(int)
        for end in self.network.of(equipment.TransformerTankEnd).values():
            tank = tanks.get(end.transformer_tank) if end.transformer_tank else None
            if tank is not None and tank.power_transformer is not None:
                counts[tank.power_transformer] += 1
        return dict(counts)

    def shared(self, key: str, build: Callable[[], T]) -> T:
        """A value several rules derive from the network (``key`` names it), built by the first that asks."""
        memo = self._shared
        if key not in memo:
            memo[key] = build()
        return memo[key]  # type: ignore[return-value]

    @cached_property
    def _shared(self) -> dict[str, object]:
        return {}

    def objects(self, *models: type[CimObject]) -> list[CimObject]:
        """Modelled objects of the given model classes, in input order (reports sort the findings)."""
        found: list[CimObject] = []
        for model in models:
            found.extend(self.network.of(model).values())
        return found
