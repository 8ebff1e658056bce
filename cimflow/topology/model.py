"""Frozen result types of the topology stage: buses, branches, injections, islands, loops and feeder trees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from cimflow.ids import MRID

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


class NodeModel(StrEnum):
    """How the input describes connectivity."""

    NODE_BREAKER = "node-breaker"  # terminals refer to ConnectivityNodes
    BUS_BRANCH = "bus-branch"  # terminals refer to TopologicalNodes only
    MIXED = "mixed"  # some terminals to ConnectivityNodes, others only to TopologicalNodes
    EMPTY = "empty"  # no terminal refers to any node


class VoltageSource(StrEnum):
    """Where a bus's base voltage was found, in the order the stage tries them."""

    TOPOLOGICAL_NODE = "topological-node"  # TopologicalNode.BaseVoltage
    VOLTAGE_LEVEL = "voltage-level"  # VoltageLevel.BaseVoltage of a node's container (or its Bay's)
    TRANSFORMER_END = "transformer-end"  # TransformerEnd.BaseVoltage (or ratedU) of a winding at the bus
    EQUIPMENT = "equipment"  # ConductingEquipment.BaseVoltage or the equipment's VoltageLevel
    NONE = "none"  # nothing tells: base_voltage_kv is None


class BranchKind(StrEnum):
    """What a branch stands for."""

    LINE = "line"  # ACLineSegment
    TRANSFORMER = "transformer"  # a two-winding PowerTransformer, end 1 -> end 2
    TRANSFORMER_WINDING = "transformer-winding"  # one winding of a 3+-winding transformer, winding -> star bus
    OTHER = "other"  # SeriesCompensator, EquivalentBranch or any other two-terminal equipment


class OpenReason(StrEnum):
    """Why a switch does not join its two nodes."""

    OPEN = "open"  # SSH Switch.open, else EQ Switch.normalOpen
    DISCONNECTED = "disconnected"  # a terminal has connected=false
    UNATTACHED = "unattached"  # a terminal refers to no node, or the switch has not two terminals
    OUT_OF_SERVICE = "out-of-service"  # Equipment.inService=false


class DetachReason(StrEnum):
    """Why a piece of equipment is neither a branch, an injection nor a closed switch."""

    NO_TERMINALS = "no-terminals"  # no Terminal refers to it
    NOT_ATTACHED = "not-attached"  # none of its terminals is on a bus (disconnected or without node)
    PARTIALLY_ATTACHED = "partially-attached"  # a two-terminal branch with only one end on a bus
    OUT_OF_SERVICE = "out-of-service"  # Equipment.inService=false: treated as absent from the model
    UNSUPPORTED = "unsupported"  # three or more terminals and not a transformer


class SourceRule(StrEnum):
    """Which rule made an injection the source of its island (see :mod:`cimflow.topology.islands`)."""

    EXTERNAL_GRID = "external-grid"  # ExternalNetworkInjection
    ENERGY_SOURCE = "energy-source"  # EnergySource, only when the island has no ExternalNetworkInjection
    REGULATING_MACHINE = "regulating-machine"  # SynchronousMachine, only when the island has neither


class MappingDifferenceKind(StrEnum):
    """How the file's ConnectivityNode -> TopologicalNode mapping disagrees with cimflow's buses."""

    FILE_SPLITS_BUS = "file-splits-bus"  # the CNs of one bus map to several TopologicalNodes
    FILE_JOINS_BUSES = "file-joins-buses"  # one TopologicalNode holds the CNs of several buses
    UNMAPPED = "unmapped"  # some CNs of a bus map to a TopologicalNode, others to none


@dataclass(frozen=True, slots=True)
class Bus:
    """An electrical node: ConnectivityNodes joined by closed switches, or a TopologicalNode.

    Attributes:
        index: Position in :attr:`Topology.buses`.
        mrid: Bus id: the first (sorted) ConnectivityNode mRID of a node-breaker bus, the (first sorted)
            TopologicalNode mRID of a bus-branch bus, ``<transformer mRID>#star`` for a star bus.
        name: Name of the bus's TopologicalNode, else of its first named ConnectivityNode.
        connectivity_nodes: The ConnectivityNodes of the bus, sorted.
        topological_nodes: For node-breaker buses the TopologicalNodes the file maps the bus's CNs to;
            for bus-branch buses the TopologicalNodes joined into this bus (more than one only when a
            closed switch, e.g. a retained breaker, connects two of them); sorted.
        base_voltage_kv: Nominal voltage, phase to phase, or ``None`` when nothing tells it.
        voltage_source: Where ``base_voltage_kv`` was found.
        star_of: The transformer whose internal star point this bus is, else ``None``.
        overruled_kv: The base voltage of the bus's TopologicalNode where it disagrees with the
            VoltageLevel of the bus's ConnectivityNodes (which ``base_voltage_kv`` then is), else ``None``.
    """

    index: int
    mrid: MRID
    name: str | None
    connectivity_nodes: tuple[MRID, ...]
    topological_nodes: tuple[MRID, ...]
    base_voltage_kv: float | None
    voltage_source: VoltageSource
    star_of: MRID | None = None
    overruled_kv: float | None = None

    @property
    def topological_node(self) -> MRID | None:
        """The TopologicalNode of the bus (the first when the file maps it to several), else ``None``."""
        return self.topological_nodes[0] if self.topological_nodes else None


@dataclass(frozen=True, slots=True)
class Branch:
    """A two-ended series element between two buses.

    Attributes:
        index: Position in :attr:`Topology.branches`.
        mrid: mRID of the equipment (the transformer for each winding of a star).
        cim_class: CIM class of the equipment.
        kind: What the branch stands for.
        from_bus: Bus of terminal sequence 1 (end 1 of a transformer; the winding's bus in a star).
        to_bus: Bus of terminal sequence 2 (end 2; the star bus for a winding of a star).
        from_terminal: Terminal at ``from_bus``.
        to_terminal: Terminal at ``to_bus`` (``None`` at a star bus).
        ends: Transformer ends the branch stands for: (end 1, end 2) for a two-winding transformer (the
            from side's ends first; a centre-tapped secondary puts two ends on the to side), the winding
            (one end, or one per phase for CIM100 tanks) of a star branch, empty for other equipment.
    """

    index: int
    mrid: MRID
    cim_class: str
    kind: BranchKind
    from_bus: int
    to_bus: int
    from_terminal: MRID
    to_terminal: MRID | None
    ends: tuple[MRID, ...] = ()


@dataclass(frozen=True, slots=True)
class Injection:
    """Single-terminal equipment (load, source, machine, inverter, shunt, busbar section, ...) at a bus."""

    mrid: MRID
    cim_class: str
    bus: int
    terminal: MRID


@dataclass(frozen=True, slots=True)
class OpenSwitch:
    """A member of the switch family that does not join its nodes; ``-1`` for an end on no bus."""

    mrid: MRID
    cim_class: str
    from_bus: int
    to_bus: int
    reason: OpenReason


@dataclass(frozen=True, slots=True)
class DetachedEquipment:
    """Equipment left out of the bus graph, with the reason and its terminal counts."""

    mrid: MRID
    cim_class: str
    reason: DetachReason
    n_terminals: int
    n_attached: int


@dataclass(frozen=True, slots=True)
class Source:
    """An injection that energises its island."""

    mrid: MRID
    cim_class: str
    bus: int
    rule: SourceRule
    reference_priority: int | None = None
    capacity_mw: float = 0.0  # a machine's GeneratingUnit maxOperatingP (else ratedS): the larger leads


@dataclass(frozen=True, slots=True)
class Loop:
    """One independent loop of a cycle basis: a non-tree branch closed by the spanning-tree path.

    Attributes:
        branches: Branch indices around the loop, starting with the closing (non-tree) branch.
        buses: Bus indices around the loop (one bus for a branch whose ends are on the same bus).
        equipment: mRIDs of the equipment in the loop, in loop order, without repeats.
        parallel: Whether the loop is two branches between the same two buses.
    """

    branches: tuple[int, ...]
    buses: tuple[int, ...]
    equipment: tuple[MRID, ...]
    parallel: bool


@dataclass(frozen=True, slots=True)
class ParallelGroup:
    """Two or more branches between the same two buses."""

    buses: tuple[int, int]
    branches: tuple[int, ...]
    equipment: tuple[MRID, ...]


@dataclass(frozen=True, slots=True, eq=False)
class FeederTree:
    """Sweep order of a radial energised island, rooted at its source bus; arrays aligned with ``order``.

    Attributes:
        island: Index of the island in :attr:`Topology.islands`.
        root: Bus index of the source bus.
        order: Bus indices in breadth-first order from the root (``order[0] == root``); every bus
            comes after its parent, so reversed it is a leaves-first order.
        parent: Parent bus of ``order[k]``, ``-1`` for the root.
        parent_position: Position of that parent in ``order``, ``-1`` for the root.
        parent_branch: Branch index joining ``order[k]`` to its parent, ``-1`` for the root.
        depth: Number of branches between the root and ``order[k]``.
        distance_km: Sum of the ACLineSegment ``length_km`` along the tree path to ``order[k]``
            (transformers and branches of unknown length add 0).
        lengths_complete: Whether every line on the tree had a known length.
    """

    island: int
    root: int
    order: IntArray
    parent: IntArray
    parent_position: IntArray
    parent_branch: IntArray
    depth: IntArray
    distance_km: FloatArray
    lengths_complete: bool


@dataclass(frozen=True, slots=True, eq=False)
class Island:
    """A connected component of buses over branches (open switches and disconnected terminals cut).

    Attributes:
        index: Position in :attr:`Topology.islands`.
        buses: Bus indices, ascending.
        branches: Branch indices, ascending.
        sources: The sources by :mod:`cimflow.topology.islands`'s rule, best first (the first is the root).
        energised: Whether the island has a source.
        radial: ``len(branches) == len(buses) - 1`` (the island is connected): a tree. Two parallel
            branches between the same buses, or a branch from a bus to itself, are a loop, so an island
            with them is not radial.
        loops: Independent loops (a cycle basis; ``len(loops) == len(branches) - len(buses) + 1``).
        parallel: Groups of parallel branches.
        root: Bus the spanning tree starts from: the first source's bus, else the island's first bus.
        feeder: Index into :attr:`Topology.feeders` when the island is radial and energised, else ``-1``.
    """

    index: int
    buses: IntArray
    branches: IntArray
    sources: tuple[Source, ...]
    energised: bool
    radial: bool
    loops: tuple[Loop, ...]
    parallel: tuple[ParallelGroup, ...]
    root: int
    feeder: int = -1


@dataclass(frozen=True, slots=True)
class MappingDifference:
    """A place where the file's CN -> TN mapping (TP profile) disagrees with cimflow's buses.

    Attributes:
        kind: How they disagree.
        buses: Bus indices concerned.
        topological_nodes: TopologicalNodes concerned, sorted.
        switches: Closed switches inside the bus whose two nodes the file maps to different
            TopologicalNodes (``FILE_SPLITS_BUS``; a retained switch does this legitimately), or open
            switches between the buses the file joins (``FILE_JOINS_BUSES``).
    """

    kind: MappingDifferenceKind
    buses: tuple[int, ...]
    topological_nodes: tuple[MRID, ...]
    switches: tuple[MRID, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Topology:
    """The result of :func:`cimflow.topology.build_topology`; immutable, arrays read-only.

    Mappings are for lookups; their iteration order carries no meaning. Modelling choices: a transformer
    with windings on three or more nodes is a star (an internal bus, ``Bus.star_of``); parallel branches
    and a branch from a bus to itself are loops; equipment with ``inService=false`` is left out
    (``detached``); EquivalentInjections are injections, never sources (see ``cimflow.topology.islands``).

    Attributes:
        node_model: How the input describes connectivity.
        buses: All buses; ``buses[i].index == i``.
        branches: All branches; ``branches[k].index == k``.
        injections: Single-terminal equipment on a bus, sorted by mRID.
        open_switches: Switches that do not join their nodes, sorted by mRID.
        islands: Connected components, ordered by their first bus.
        feeders: Feeder trees of the radial energised islands.
        branch_from: ``(n_branches,)`` from bus per branch.
        branch_to: ``(n_branches,)`` to bus per branch.
        island_of_bus: ``(n_buses,)`` island index per bus.
        bus_of_terminal: Bus of every terminal that is attached (has a node, not ``connected=false``).
        bus_of_node: Bus of every ConnectivityNode and TopologicalNode that is on a bus; a TopologicalNode
            whose CNs cimflow puts on several buses is left out (see ``mapping_differences``).
        bus_of_equipment: Bus of every single-terminal piece of equipment (the keys of ``injections``).
        bus_of_closed_switch: Bus each closed (joining) switch lies in.
        unattached_terminals: Terminals of equipment that refer to no node, sorted.
        disconnected_terminals: Terminals with ``connected=false``, sorted.
        detached: Equipment left out of the graph, with the reason, sorted by mRID.
        mapping_differences: Where the file's CN -> TN mapping disagrees with the buses.
    """

    node_model: NodeModel
    buses: tuple[Bus, ...]
    branches: tuple[Branch, ...]
    injections: tuple[Injection, ...]
    open_switches: tuple[OpenSwitch, ...]
    islands: tuple[Island, ...]
    feeders: tuple[FeederTree, ...]
    branch_from: IntArray
    branch_to: IntArray
    island_of_bus: IntArray
    bus_of_terminal: Mapping[MRID, int]
    bus_of_node: Mapping[MRID, int]
    bus_of_equipment: Mapping[MRID, int]
    bus_of_closed_switch: Mapping[MRID, int]
    unattached_terminals: tuple[MRID, ...]
    disconnected_terminals: tuple[MRID, ...]
    detached: tuple[DetachedEquipment, ...]
    mapping_differences: tuple[MappingDifference, ...]

    @property
    def radial(self) -> bool | None:
        """Whether every energised island is radial; ``None`` when no island is energised."""
        energised = [i for i in self.islands if i.energised]
        if not energised:
            return None
        return all(i.radial for i in energised)

    @property
    def n_loops(self) -> int:
        """Independent loops over all islands (branches - buses + islands)."""
        return sum(len(i.loops) for i in self.islands)

    @property
    def loops(self) -> tuple[Loop, ...]:
        """The loops of every island, island by island."""
        return tuple(loop for island in self.islands for loop in island.loops)

    @property
    def unreachable_equipment(self) -> tuple[MRID, ...]:
        """Equipment none of whose terminals is on a bus (or that has no terminals), sorted."""
        unreachable = {DetachReason.NO_TERMINALS, DetachReason.NOT_ATTACHED}
        return tuple(d.mrid for d in self.detached if d.reason in unreachable)

    def deenergised_equipment(self) -> tuple[MRID, ...]:
        """Branches, injections and closed switches in islands without a source, sorted by mRID."""
        dead = np.array([not i.energised for i in self.islands], dtype=bool)
        if not dead.any():
            return ()
        on_dead = dead[self.island_of_bus]
        found = {b.mrid for b in self.branches if on_dead[b.from_bus]}
        found.update(m for m, bus in self.bus_of_equipment.items() if on_dead[bus])
        found.update(m for m, bus in self.bus_of_closed_switch.items() if on_dead[bus])
        return tuple(sorted(found))

    def bus(self, mrid: MRID | str) -> Bus | None:
        """The bus of a ConnectivityNode or TopologicalNode mRID (or a bus id), else ``None``."""
        index = self.bus_of_node.get(MRID(mrid))
        return None if index is None else self.buses[index]
