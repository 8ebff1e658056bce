"""CF1xx structural rules that need the whole model: mandatory attributes, terminal counts, floating terminals."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import chain

from cimflow.catalog import data as codes
from cimflow.catalog import inputs as icodes
from cimflow.findings import Finding, Location, Severity
from cimflow.ids import MRID, is_uuid
from cimflow.model import equipment, injections, limits
from cimflow.model.base import CimObject
from cimflow.model.network import Network, OpaqueObject
from cimflow.model.registry import MODEL_OF_CLASS, SWITCH_CLASSES
from cimflow.rules._index import NetworkIndex
from cimflow.rules.base import BaseRule, CheckContext, implements

# conducting equipment that must state (or inherit from its container) a BaseVoltage
_NEEDS_VOLTAGE: tuple[type[equipment.Equipment], ...] = (
    equipment.ACLineSegment,
    equipment.Switch,
    injections.EnergyConsumer,
    injections.EnergySource,
    injections.ExternalNetworkInjection,
    injections.SynchronousMachine,
    injections.PowerElectronicsConnection,
    injections.LinearShuntCompensator,
)

# equipment that carries no power: a floating terminal of it changes no flow (warning, not error)
_PASSIVE = frozenset({"Junction", "BusbarSection", "Ground", "Clamp", "FaultIndicator"})
_UUID_LENGTH = 36
_NON_UUID_PER_OBJECT_MAX = 20  # above this many in one document, one finding for the document
_TWO = frozenset({"ACLineSegment", "SeriesCompensator", "EquivalentBranch", *SWITCH_CLASSES})
_ONE = frozenset(
    {
        "EnergyConsumer", "ConformLoad", "NonConformLoad", "StationSupply", "EnergySource",
        "ExternalNetworkInjection", "SynchronousMachine", "AsynchronousMachine", "PowerElectronicsConnection",
        "LinearShuntCompensator", "NonlinearShuntCompensator", "StaticVarCompensator", "EquivalentInjection",
        "EquivalentShunt", "BusbarSection", "PetersenCoil", "GroundingImpedance", "Ground",
    }
)  # fmt: skip


def _expected_terminals(index: NetworkIndex, mrid: MRID, cim_class: str) -> tuple[int, int] | None:
    """(min, max) number of terminals for a class; ``None`` when the class is not checked."""
    if cim_class in _TWO:
        return (2, 2)
    if cim_class in _ONE:
        return (1, 1)
    if cim_class == "PowerTransformer":
        n_ends = len(index.network.ends_of.get(mrid, ())) or index.tank_ends_of.get(mrid, 0)
        return (n_ends, n_ends) if n_ends else (2, 3)
    return None


_CHECKED = _TWO | _ONE | {"PowerTransformer"}
# the model classes that hold objects of a checked class, in a fixed order
_CHECKED_MODELS = tuple(dict.fromkeys(MODEL_OF_CLASS[c] for c in sorted(_CHECKED) if c in MODEL_OF_CLASS))


def _equipment(index: NetworkIndex) -> tuple[tuple[MRID, str, CimObject | OpaqueObject], ...]:
    """(mRID, class, object) of every object, modelled or opaque, whose terminal count is checked.

    Modelled (class by class, each in input order), then opaque; built once, shared by CF107 and CF109.
    Only the model classes that can hold a checked class are looked at, not every object of the input.
    """

    def build() -> tuple[tuple[MRID, str, CimObject | OpaqueObject], ...]:
        network, checked = index.network, _CHECKED
        found: list[tuple[MRID, str, CimObject | OpaqueObject]] = []
        for model in _CHECKED_MODELS:
            found.extend(
                (obj.mrid, obj.cim_class, obj) for obj in network.of(model).values() if obj.cim_class in checked
            )
        found.extend((raw.mrid, raw.cim_class, raw) for raw in network.opaque.values() if raw.cim_class in checked)
        return tuple(found)

    return index.shared("terminal-count-equipment", build)


def _location(obj: CimObject | OpaqueObject) -> Location:
    if isinstance(obj, CimObject):
        return obj.location()
    return Location(obj.mrid, obj.cim_class, None, obj.file, obj.line)


@implements(codes.MISSING_ATTRIBUTE)
class MissingMandatoryAttribute(BaseRule):
    """Report attributes a power-flow model needs that are absent (BaseVoltage, CurrentLimit value, r, x, ratedU)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per object and missing attribute."""
        net, index = ctx.network, ctx.index
        for obj in index.objects(*_NEEDS_VOLTAGE):
            assert isinstance(obj, equipment.Equipment)
            if not index.states_voltage(obj) and index.equipment_kv(obj) is None:
                yield self.finding(obj.location("ConductingEquipment.BaseVoltage"))
        for end in net.transformer_ends.values():
            if end.base_voltage is None:
                yield self.finding(end.location("TransformerEnd.BaseVoltage"))
            if end.rated_u_kv is None:
                yield self.finding(end.location("PowerTransformerEnd.ratedU"))
        for line in net.lines.values():
            if line.per_length_impedance is None and line.mrid not in index.asset_defined_lines:
                if line.r_ohm is None:
                    yield self.finding(line.location("ACLineSegment.r"))
                if line.x_ohm is None:
                    yield self.finding(line.location("ACLineSegment.x"))
        for bv in net.base_voltages.values():
            if bv.nominal_voltage_kv is None:
                yield self.finding(bv.location("BaseVoltage.nominalVoltage"))
        for lim in net.of(limits.CurrentLimit).values():
            if lim.limit_a is None:
                yield self.finding(lim.location("CurrentLimit.value"))


@implements(icodes.VALUE_ASSUMED)
class AssumedBaseVoltage(BaseRule):
    """Say which BaseVoltage cimflow takes for equipment that states none, and where it comes from."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one info finding per equipment whose voltage is taken from its node."""
        index = ctx.index
        for obj in index.objects(*_NEEDS_VOLTAGE):
            assert isinstance(obj, equipment.Equipment)
            if index.states_voltage(obj):
                continue
            v = index.equipment_kv(obj)
            if v is None:
                continue  # reported as CF106
            origin = {"transformer end": "the transformer end", "equipment": "the equipment"}.get(v.source)
            reason = f"from {origin} {v.via} at its node" if origin else "from the voltage level of its node"
            yield self.finding(
                obj.location("ConductingEquipment.BaseVoltage"),
                ctx={"value": f"{v.kv:g} kV", "reason": reason, "v_kv": v.kv},
            )


@implements(codes.TERMINAL_COUNT)
class TerminalCount(BaseRule):
    """Report equipment whose number of terminals does not fit its class (a line with one terminal)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per equipment with a wrong (but non-zero) terminal count."""
        net = ctx.network
        terminals_of = net.terminals_of
        two, one = _TWO, _ONE
        for mrid, cls, obj in _equipment(ctx.index):
            ts = terminals_of.get(mrid)
            n = len(ts) if ts is not None else 0
            if n == 0 or (n == 2 and cls in two) or (n == 1 and cls in one):
                continue  # the common cases without a call
            expected = _expected_terminals(ctx.index, mrid, cls)
            if expected is None or expected[0] <= n <= expected[1]:
                continue
            text = str(expected[0]) if expected[0] == expected[1] else f"{expected[0]} to {expected[1]}"
            yield self.finding(
                _location(obj),
                ctx={"n_terminals": n, "expected": text},
                related=[t.mrid for t in net.terminals_of.get(mrid, ())],
            )


@implements(codes.TERMINAL_WITHOUT_NODE)
class TerminalWithoutNode(BaseRule):
    """Report terminals attached to no ConnectivityNode and no TopologicalNode."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per floating terminal."""
        net = ctx.network
        for t in net.terminals.values():
            if t.connectivity_node is None and t.topological_node is None:
                owner = t.conducting_equipment
                passive = owner is not None and net.class_of(owner) in _PASSIVE
                yield self.finding(
                    t.location("Terminal.ConnectivityNode"),
                    ctx={"equipment": owner or "no equipment"},
                    related=[owner] if owner else [],
                    severity=Severity.WARNING if passive else None,
                )


@implements(codes.EQUIPMENT_WITHOUT_TERMINALS)
class EquipmentWithoutTerminals(BaseRule):
    """Report conducting equipment that no terminal refers to."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per equipment without terminals."""
        net = ctx.network
        terminals_of = net.terminals_of
        for mrid, _cls, obj in _equipment(ctx.index):
            if mrid not in terminals_of:
                yield self.finding(_location(obj))


# each byte of a UUID line mapped to its class: a hex digit to "h", "-" and the newline to themselves,
# anything else to "x"; a run of UUIDs, one a line, then reads as the template below repeated
_UUID_CLASSES = bytes(0x68 if c in b"0123456789abcdefABCDEF" else c if c in b"-\n" else 0x78 for c in range(256))
_UUID_TEMPLATE = b"hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh\n"


def _all_uuids(network: Network) -> bool:
    """Whether every mRID is a UUID: one pass over all of them (the common case), not one call per object.

    The network maps each object by its own mRID, so the keys are the mRIDs. All of them joined one a
    line, mapped byte by byte to their class (hex digit, dash, newline, other), must equal the template
    repeated once per object: the length makes sure no mRID holds a newline or a non-ASCII character.
    """
    n = len(network.by_mrid) + len(network.opaque)
    text = "\n".join(chain(network.by_mrid, network.opaque, ("",))).encode("utf-8", "surrogatepass")
    return len(text) == len(_UUID_TEMPLATE) * n and text.translate(_UUID_CLASSES) == _UUID_TEMPLATE * n


@implements(codes.NON_UUID_MRID)
class NonUuidMrid(BaseRule):
    """Report objects whose identifier is not a UUID (CGMES requires UUIDs; vendor names are legal elsewhere)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one info finding per object, or one per document where a document has many."""
        net = ctx.network
        by_file: dict[str, list[Location]] = {}
        if _all_uuids(net):
            return
        for objects in (net.by_mrid.values(), net.opaque.values()):
            for obj in objects:
                mrid = obj.mrid
                if len(mrid) != _UUID_LENGTH or not is_uuid(mrid):
                    loc = _location(obj)
                    by_file.setdefault(loc.file or "", []).append(loc)
        for locations in by_file.values():
            if len(locations) <= _NON_UUID_PER_OBJECT_MAX:
                yield from (self.finding(loc) for loc in locations)
                continue
            # a whole export named by a vendor: one finding for the document, not hundreds of lines
            locations.sort(key=lambda loc: loc.line or 0)
            first = locations[0]
            finding = self.finding(first, related=[loc.mrid or "" for loc in locations[:20]])
            yield replace(
                finding,
                message=f"{len(locations)} identifiers in this document are not UUIDs "
                f"(first: {first.cim_class} {first.mrid})",
                ctx={"n_objects": len(locations)},
            )


RULES = (MissingMandatoryAttribute(), TerminalCount(), TerminalWithoutNode(), EquipmentWithoutTerminals(),
         AssumedBaseVoltage(), NonUuidMrid())  # fmt: skip
