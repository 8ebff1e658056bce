"""CF3xx topology rules: islands without source, several sources, meshes, parallel branches, open switches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from cimflow.catalog import topology as codes
from cimflow.config import Settings
from cimflow.findings import Finding, Location, Severity
from cimflow.ids import MRID
from cimflow.model.network import Network
from cimflow.rules.base import BaseRule, CheckContext, Rule, implements
from cimflow.topology import DetachReason, Island, OpenReason, Topology

_LOADS = frozenset({"EnergyConsumer", "ConformLoad", "NonConformLoad", "StationSupply"})
# equipment that carries no power; an island of nothing else is an unused node, not a de-energised grid part
_PASSIVE = frozenset({"BusbarSection", "Junction", "Ground", "Clamp", "FaultIndicator"})
_CUTTING = frozenset({OpenReason.OPEN, OpenReason.DISCONNECTED, OpenReason.OUT_OF_SERVICE})


def locate(network: Network, mrid: MRID) -> Location:
    """Location of any object of the input (modelled or opaque), or just its mRID."""
    obj = network.get(mrid)
    if obj is not None:
        return obj.location()
    raw = network.opaque.get(mrid)
    if raw is not None:
        return Location(raw.mrid, raw.cim_class, None, raw.file, raw.line)
    return Location(mrid=mrid)


@dataclass(frozen=True)
class TopologyView:
    """Per-island facts the CF3xx rules share, computed once in O(N)."""

    topology: Topology
    settings: Settings

    @cached_property
    def equipment_of(self) -> Sequence[tuple[MRID, ...]]:
        """Equipment (branches, injections, closed switches) per de-energised island, sorted, without repeats.

        Energised islands get ``()``: the rules list the equipment of dead islands only, and a grid whose
        islands are all energised (the usual case) needs no pass over its equipment.
        """
        topo = self.topology
        dead = [not i.energised for i in topo.islands]
        found: list[set[MRID]] = [set() for _ in topo.islands]
        if not any(dead):
            return tuple(() for _ in found)
        isl = topo.island_of_bus.tolist()
        for b in topo.branches:
            if dead[k := isl[b.from_bus]]:
                found[k].add(b.mrid)
        for inj in topo.injections:
            if dead[k := isl[inj.bus]]:
                found[k].add(inj.mrid)
        for mrid, bus in topo.bus_of_closed_switch.items():
            if dead[k := isl[bus]]:
                found[k].add(mrid)
        return tuple(tuple(sorted(s)) for s in found)

    @cached_property
    def active_of(self) -> Sequence[bool]:
        """Whether an island holds anything that carries power (a branch or a non-passive injection)."""
        topo = self.topology
        isl = topo.island_of_bus.tolist()
        active = [i.branches.size > 0 for i in topo.islands]
        for inj in topo.injections:
            if inj.cim_class not in _PASSIVE:
                active[isl[inj.bus]] = True
        return active

    @cached_property
    def loads_of(self) -> Mapping[int, int]:
        """Number of loads per island."""
        topo = self.topology
        isl = topo.island_of_bus.tolist()
        counts: dict[int, int] = defaultdict(int)
        for inj in topo.injections:
            if inj.cim_class in _LOADS:
                counts[isl[inj.bus]] += 1
        return dict(counts)

    @cached_property
    def radial_expected(self) -> Sequence[bool]:
        """Whether each island is expected radial: ``expect_radial``, else highest bus voltage <= radial_max_kv."""
        forced = self.settings.expect_radial
        if forced is not None:
            return [forced] * len(self.topology.islands)
        buses = self.topology.buses
        out = []
        for island in self.topology.islands:
            kvs = [kv for b in island.buses.tolist() if (kv := buses[b].base_voltage_kv) is not None]
            out.append(bool(kvs) and max(kvs) <= self.settings.radial_max_kv)
        return out


def _view(ctx: CheckContext) -> TopologyView | None:
    view = ctx.topology_view
    return view if isinstance(view, TopologyView) else None


def _members(mrids: Sequence[str], limit: int = 8) -> str:
    """The first few mRIDs of a group for a message (all of them are in ``related``)."""
    shown = ", ".join(mrids[:limit])
    return shown + (f" and {len(mrids) - limit} more" if len(mrids) > limit else "")


def _island_name(island: Island) -> str:
    return f"#{island.index + 1}"


@implements(codes.ISLAND_WITHOUT_SOURCE)
class IslandWithoutSource(BaseRule):
    """Report islands that hold equipment but no source (their equipment is de-energised)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per de-energised island, located at its first equipment, listing all of it."""
        view = _view(ctx)
        if view is None:
            return
        for island in view.topology.islands:
            if island.energised:
                continue
            equipment = view.equipment_of[island.index]
            if not equipment or not view.active_of[island.index]:
                continue
            yield self.finding(
                locate(ctx.network, equipment[0]),
                ctx={"island": _island_name(island), "n_buses": int(island.buses.size), "n_equipment": len(equipment)},
                related=equipment,
            )


@implements(codes.MULTIPLE_SOURCES)
class MultipleSources(BaseRule):
    """Report islands with more than one source (a warning where the island should be radial)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per island with several sources, located at its first source."""
        view = _view(ctx)
        if view is None:
            return
        for island in view.topology.islands:
            if len(island.sources) < 2:
                continue
            radial = view.radial_expected[island.index]
            yield self.finding(
                locate(ctx.network, island.sources[0].mrid),
                ctx={"island": _island_name(island), "n_sources": len(island.sources)},
                related=[s.mrid for s in island.sources],
                severity=Severity.WARNING if radial else Severity.INFO,
            )


@implements(codes.MESHED_NETWORK)
class MeshedNetwork(BaseRule):
    """Report each loop of an island with its member branches (warning where a radial grid is expected)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per loop that is not just a pair of parallel branches (see CF304)."""
        view = _view(ctx)
        if view is None:
            return
        topo = view.topology
        for island in topo.islands:
            severity = Severity.WARNING if view.radial_expected[island.index] else Severity.INFO
            for loop in island.loops:
                if loop.parallel or not loop.equipment:
                    continue
                yield self.finding(
                    locate(ctx.network, loop.equipment[0]),
                    ctx={
                        "island": _island_name(island),
                        "n_branches": len(loop.branches),
                        "n_buses": len(loop.buses),
                        "members": _members(loop.equipment),
                    },
                    related=loop.equipment,
                    severity=severity,
                )


@implements(codes.PARALLEL_BRANCHES)
class ParallelBranches(BaseRule):
    """Report groups of branches between the same two buses."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per parallel group, located at its first equipment."""
        view = _view(ctx)
        if view is None:
            return
        topo = view.topology
        for island in topo.islands:
            for group in island.parallel:
                if len(set(group.equipment)) < 2:
                    continue  # the windings of one transformer
                yield self.finding(
                    locate(ctx.network, group.equipment[0]),
                    ctx={
                        "island": _island_name(island),
                        "n_branches": len(group.branches),
                        "bus_a": topo.buses[group.buses[0]].mrid,
                        "bus_b": topo.buses[group.buses[1]].mrid,
                    },
                    related=group.equipment,
                )


@implements(codes.OPEN_SWITCH_ISOLATING_LOADS)
class OpenSwitchIsolatingLoads(BaseRule):
    """Report open switches between an energised island and a de-energised island with loads."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per such switch."""
        view = _view(ctx)
        if view is None:
            return
        topo = view.topology
        isl = topo.island_of_bus
        for sw in topo.open_switches:
            if sw.reason not in _CUTTING or sw.from_bus < 0 or sw.to_bus < 0:
                continue
            a, b = topo.islands[int(isl[sw.from_bus])], topo.islands[int(isl[sw.to_bus])]
            if a.index == b.index or a.energised == b.energised:
                continue
            dead = b if a.energised else a
            n_loads = view.loads_of.get(dead.index, 0)
            if n_loads:
                yield self.finding(
                    locate(ctx.network, sw.mrid),
                    ctx={"n_loads": n_loads, "island": _island_name(dead), "reason": sw.reason.value},
                    related=view.equipment_of[dead.index],
                )


@implements(codes.UNREACHABLE_EQUIPMENT)
class UnreachableEquipment(BaseRule):
    """Report equipment none of whose terminals is on a bus (info when it is disconnected on purpose)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per detached piece of equipment (equipment without terminals is CF109)."""
        view = _view(ctx)
        if view is None:
            return
        net = ctx.network
        for d in view.topology.detached:
            if d.reason is not DetachReason.NOT_ATTACHED or d.cim_class in _PASSIVE:
                continue
            terminals = net.terminals_of.get(d.mrid, ())
            on_purpose = bool(terminals) and all(
                (t.connectivity_node or t.topological_node) and t.connected is False for t in terminals
            )
            yield self.finding(
                locate(net, d.mrid),
                ctx={"n_terminals": d.n_terminals, "reason": "disconnected" if on_purpose else "no node"},
                related=[t.mrid for t in terminals],
                severity=Severity.INFO if on_purpose else None,
            )


RULES: tuple[Rule, ...] = (
    IslandWithoutSource(),
    MultipleSources(),
    MeshedNetwork(),
    ParallelBranches(),
    OpenSwitchIsolatingLoads(),
    UnreachableEquipment(),
)
