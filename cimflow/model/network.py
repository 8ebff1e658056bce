"""The :class:`Network`: frozen maps of modelled objects per class, typed lookups and the raw documents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TypeVar

from cimflow.ids import MRID
from cimflow.model import core, equipment, injections, limits, state
from cimflow.model.base import CimObject

T = TypeVar("T", bound=CimObject)
_EMPTY: Mapping[MRID, CimObject] = MappingProxyType({})


def _grouped(
    objects: Iterable[T], owner: Callable[[T], MRID | None], number: Callable[[T], int | None]
) -> Mapping[MRID, tuple[T, ...]]:
    """Objects grouped by the mRID they belong to, each group ordered by its number (then mRID)."""
    groups: dict[MRID, list[T]] = defaultdict(list)
    for obj in objects:
        key = owner(obj)
        if key is not None:
            groups[key].append(obj)
    return MappingProxyType(_ordered(groups, number))


def _ordered(groups: Mapping[MRID, list[T]], number: Callable[[T], int | None]) -> dict[MRID, tuple[T, ...]]:
    """Each group as a tuple ordered by its number (None as 0), then mRID; a group of one needs no sort."""
    out: dict[MRID, tuple[T, ...]] = {}
    for k, v in groups.items():
        if len(v) == 1:
            out[k] = (v[0],)
        elif len(v) == 2:  # most equipment has two terminals: one comparison, not a sort with a key function
            a, b = v
            na, nb = number(a) or 0, number(b) or 0
            out[k] = (a, b) if na < nb or (na == nb and a.mrid <= b.mrid) else (b, a)
        else:
            out[k] = tuple(sorted(v, key=lambda o: (number(o) or 0, o.mrid)))
    return out


@dataclass(frozen=True, slots=True)
class OpaqueObject:
    """An object of a class cimflow does not model, kept for counts, references and the writer."""

    mrid: MRID
    cim_class: str
    file: str
    line: int


@dataclass(frozen=True)
class Network:
    """Everything read from the inputs, immutable.

    ``objects`` maps a model class to its objects by mRID; ``by_mrid`` finds any modelled object;
    ``opaque`` holds the objects of classes cimflow keeps but does not interpret; ``class_counts``
    gives, for every class in the input, the number of distinct mRIDs written with that class.
    """

    objects: Mapping[type[CimObject], Mapping[MRID, CimObject]]
    by_mrid: Mapping[MRID, CimObject]
    opaque: Mapping[MRID, OpaqueObject]
    class_counts: Mapping[str, int]
    documents: tuple[object, ...] = field(default=())  # DocumentInfo of every input document
    dataset: object | None = field(default=None, repr=False)  # the raw Dataset, for the lossless writer

    def of(self, cls: type[T]) -> Mapping[MRID, T]:
        """All objects modelled by ``cls`` (exactly that model class), by mRID."""
        return self.objects.get(cls, _EMPTY)  # type: ignore[return-value]

    def get(self, mrid: MRID | str | None) -> CimObject | None:
        """Any modelled object by mRID."""
        if mrid is None:
            return None
        return self.by_mrid.get(MRID(mrid))

    def class_of(self, mrid: MRID | str) -> str | None:
        """CIM class of any object in the input, modelled or opaque."""
        obj = self.by_mrid.get(MRID(mrid))
        if obj is not None:
            return obj.cim_class
        raw = self.opaque.get(MRID(mrid))
        return raw.cim_class if raw else None

    # typed views -------------------------------------------------------------------------------
    @property
    def base_voltages(self) -> Mapping[MRID, core.BaseVoltage]:
        """BaseVoltages by mRID."""
        return self.of(core.BaseVoltage)

    @property
    def terminals(self) -> Mapping[MRID, core.Terminal]:
        """Terminals by mRID."""
        return self.of(core.Terminal)

    @property
    def connectivity_nodes(self) -> Mapping[MRID, core.ConnectivityNode]:
        """ConnectivityNodes by mRID."""
        return self.of(core.ConnectivityNode)

    @property
    def topological_nodes(self) -> Mapping[MRID, core.TopologicalNode]:
        """TopologicalNodes by mRID."""
        return self.of(core.TopologicalNode)

    @property
    def lines(self) -> Mapping[MRID, equipment.ACLineSegment]:
        """ACLineSegments by mRID."""
        return self.of(equipment.ACLineSegment)

    @property
    def transformers(self) -> Mapping[MRID, equipment.PowerTransformer]:
        """PowerTransformers by mRID."""
        return self.of(equipment.PowerTransformer)

    @property
    def transformer_ends(self) -> Mapping[MRID, equipment.PowerTransformerEnd]:
        """PowerTransformerEnds by mRID."""
        return self.of(equipment.PowerTransformerEnd)

    @property
    def switches(self) -> Mapping[MRID, equipment.Switch]:
        """Every member of the switch family by mRID."""
        return self.of(equipment.Switch)

    @property
    def loads(self) -> Mapping[MRID, injections.EnergyConsumer]:
        """EnergyConsumers (also ConformLoad, NonConformLoad) by mRID."""
        return self.of(injections.EnergyConsumer)

    @property
    def sv_voltages(self) -> Mapping[MRID, state.SvVoltage]:
        """SvVoltages read from an SV profile, by mRID."""
        return self.of(state.SvVoltage)

    # indexes, built once on first use -----------------------------------------------------------
    @cached_property
    def terminals_of(self) -> Mapping[MRID, tuple[core.Terminal, ...]]:
        """Terminals of each piece of equipment, ordered by sequence number (then mRID)."""
        groups: dict[MRID, list[core.Terminal]] = defaultdict(list)
        for t in self.terminals.values():
            if t.conducting_equipment is not None:
                groups[t.conducting_equipment].append(t)
        return MappingProxyType(_ordered(groups, lambda t: t.sequence_number))

    @cached_property
    def ends_of(self) -> Mapping[MRID, tuple[equipment.PowerTransformerEnd, ...]]:
        """PowerTransformerEnds of each transformer, ordered by end number."""
        return _grouped(self.transformer_ends.values(), lambda e: e.power_transformer, lambda e: e.end_number)

    @cached_property
    def phases_of(self) -> Mapping[MRID, tuple[equipment.ACLineSegmentPhase, ...]]:
        """CIM100 ACLineSegmentPhases of each line, by sequence number."""
        return _grouped(self.of(equipment.ACLineSegmentPhase).values(), lambda p: p.line, lambda p: p.sequence_number)

    @cached_property
    def wire_positions_of(self) -> Mapping[MRID, tuple[equipment.WirePosition, ...]]:
        """CIM100 WirePositions of each WireSpacingInfo, by sequence number."""
        return _grouped(self.of(equipment.WirePosition).values(), lambda p: p.spacing, lambda p: p.sequence_number)

    @cached_property
    def mesh_impedances(self) -> Mapping[frozenset[MRID], equipment.TransformerMeshImpedance]:
        """CIM100 TransformerMeshImpedance between two transformer ends, by the pair of end mRIDs."""
        return MappingProxyType(
            {
                frozenset((m.from_end, m.to_end)): m
                for m in self.of(equipment.TransformerMeshImpedance).values()
                if m.from_end is not None and m.to_end is not None and m.from_end != m.to_end
            }
        )

    @cached_property
    def core_admittance_of(self) -> Mapping[MRID, equipment.TransformerCoreAdmittance]:
        """CIM100 TransformerCoreAdmittance of each transformer end."""
        return MappingProxyType(
            {
                c.transformer_end: c
                for c in self.of(equipment.TransformerCoreAdmittance).values()
                if c.transformer_end is not None
            }
        )

    @cached_property
    def tap_changers_of(self) -> Mapping[MRID, equipment.RatioTapChanger]:
        """RatioTapChanger of each transformer end."""
        return MappingProxyType(
            {tc.transformer_end: tc for tc in self.of(equipment.RatioTapChanger).values() if tc.transformer_end}
        )

    @cached_property
    def phase_tap_changers_of(self) -> Mapping[MRID, equipment.PhaseTapChanger]:
        """PhaseTapChanger of each transformer end."""
        return MappingProxyType(
            {tc.transformer_end: tc for tc in self.of(equipment.PhaseTapChanger).values() if tc.transformer_end}
        )

    @cached_property
    def table_points_of(self) -> Mapping[MRID, Mapping[int, equipment.TapChangerTablePoint]]:
        """Points of each RatioTapChangerTable or PhaseTapChangerTable, by step."""
        groups: dict[MRID, dict[int, equipment.TapChangerTablePoint]] = defaultdict(dict)
        for point in self.of(equipment.TapChangerTablePoint).values():
            if point.table is not None and point.step is not None:
                groups[point.table][point.step] = point
        return MappingProxyType({k: MappingProxyType(v) for k, v in groups.items()})

    @cached_property
    def curve_points_of(self) -> Mapping[MRID, tuple[injections.CurveData, ...]]:
        """CurveData of each Curve (a ReactiveCapabilityCurve, say), in input order."""
        groups: dict[MRID, list[injections.CurveData]] = defaultdict(list)
        for point in self.of(injections.CurveData).values():
            if point.curve is not None:
                groups[point.curve].append(point)
        return MappingProxyType({k: tuple(v) for k, v in groups.items()})

    @cached_property
    def limits_of(self) -> Mapping[MRID, tuple[limits.CurrentLimit, ...]]:
        """CurrentLimits per terminal and per equipment mRID (whatever their limit set is attached to)."""
        sets = self.of(limits.OperationalLimitSet)
        groups: dict[MRID, list[limits.CurrentLimit]] = defaultdict(list)
        for lim in self.of(limits.CurrentLimit).values():
            ls = sets.get(lim.limit_set) if lim.limit_set else None
            if ls is None:
                continue
            owner = ls.owner
            if owner is not None:
                groups[owner].append(lim)
        return MappingProxyType({k: tuple(v) for k, v in groups.items()})

    @property
    def n_objects(self) -> int:
        """Distinct mRIDs in the input, modelled or not."""
        return len(self.by_mrid) + len(self.opaque)
